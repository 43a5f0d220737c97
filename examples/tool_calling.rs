//! Run with `cargo run --example tool_calling`.
//!
//! Function calling: the model asks for a local function, the app runs it and sends the
//! result back, until the model answers without calling tools. Offline (without
//! `OPENAI_API_KEY`) a mock plays the model: it asks for the weather of two cities, then
//! writes its answer from the tool results it receives.

use std::io::Write;
use std::process::ExitCode;

use chat_core::types::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestMessage as Message,
    CreateChatCompletionRequest, Tool,
};
use chat_core::Client;
use chat_examples::{connect, Env, Error};
use chat_mock::{Match, MockResponse, MockTransport, RecordedRequest};
use serde::Deserialize;
use serde_json::{json, Value};

/// The question.
pub const QUESTION: &str = "What is the weather like in Paris and in Tokyo right now?";

/// How many times the model may call tools before the app gives up.
pub const MAX_ROUNDS: usize = 5;

/// The arguments of `get_weather`, as the model sends them.
#[derive(Debug, Deserialize)]
pub struct WeatherArgs {
    /// The city.
    pub city: String,
}

/// The local function the model can call: a fixed table standing in for a weather service.
pub fn get_weather(args: &WeatherArgs) -> Value {
    let (temperature_c, conditions) = match args.city.to_lowercase().as_str() {
        "paris" => (18, "sunny"),
        "tokyo" => (24, "humid, light rain"),
        "london" => (12, "overcast"),
        _ => return json!({"city": args.city, "error": "no data for this city"}),
    };
    json!({"city": args.city, "temperature_c": temperature_c, "conditions": conditions})
}

/// The tool definitions sent with every request.
pub fn tools() -> Vec<Tool> {
    vec![Tool::function(
        "get_weather",
        "The current weather in a city",
        json!({
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city name"}},
            "required": ["city"],
            "additionalProperties": false
        }),
    )
    .strict(true)]
}

/// Runs one tool call and returns its result as the JSON text for the tool message. Bad
/// arguments and unknown tools become an error result the model can read and react to.
pub fn run_tool(call: &ChatCompletionMessageToolCalls) -> String {
    let Some(call) = call.as_function() else {
        return json!({"error": "only function tools are supported"}).to_string();
    };
    let result = match call.function.name.as_str() {
        "get_weather" => match call.function.parse_arguments::<WeatherArgs>() {
            Ok(args) => get_weather(&args),
            Err(e) => json!({"error": format!("invalid arguments: {e}")}),
        },
        other => json!({"error": format!("unknown tool `{other}`")}),
    };
    result.to_string()
}

/// Asks `question`, running the tools the model calls, and returns the final answer; each
/// call and its result is written to `out`.
pub async fn ask_with_tools(
    client: &Client,
    model: &str,
    question: &str,
    out: &mut dyn Write,
) -> Result<String, Error> {
    let mut request =
        CreateChatCompletionRequest::new(model, [Message::user(question)]).tools(tools());
    for _ in 0..MAX_ROUNDS {
        let response = client.create_chat_completion(&request).await?;
        let Some(message) = response.first_message() else {
            return Err("the response has no choices".into());
        };
        let calls = response.tool_calls();
        if calls.is_empty() {
            return Ok(message.content.clone().unwrap_or_default());
        }
        // The assistant turn with its tool calls goes back into the conversation, followed
        // by one tool message per call.
        request = request.message(message);
        for call in calls {
            let result = run_tool(call);
            if let Some(f) = call.as_function() {
                writeln!(
                    out,
                    "model calls  {}({})",
                    f.function.name, f.function.arguments
                )?;
            }
            writeln!(out, "  result     {result}")?;
            request = request.message(Message::tool(call.id().unwrap_or_default(), result));
        }
    }
    Err(format!("the model still called tools after {MAX_ROUNDS} rounds").into())
}

/// Asks [`QUESTION`] with tools and prints the calls and the answer to `out`.
pub async fn run(env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let connection = connect(env, err, script_mock)?;
    writeln!(out, "user         {QUESTION}")?;
    let answer = ask_with_tools(&connection.client, env.model(), QUESTION, out).await?;
    writeln!(out, "answer       {answer}")?;
    Ok(())
}

/// Scripts the mock model: the first request gets two `get_weather` calls; a request that
/// carries tool results gets an answer written from them.
fn script_mock(mock: &MockTransport) {
    mock.on(Match::chat().when("has tool results", has_tool_results))
        .respond_with(|request| MockResponse::text(summarize_tool_results(request)).into())
        .always();
    mock.on(Match::chat().user_message_contains("weather"))
        .respond(
            MockResponse::tool_call("get_weather", json!({"city": "Paris"}))
                .and_tool_call("get_weather", json!({"city": "Tokyo"})),
        )
        .always();
}

fn has_tool_results(request: &RecordedRequest) -> bool {
    request
        .message_texts()
        .iter()
        .any(|(role, _)| role == "tool")
}

/// What the mock model says once it has the tool results: one sentence per city.
fn summarize_tool_results(request: &RecordedRequest) -> String {
    let parts: Vec<String> = request
        .message_texts()
        .iter()
        .filter(|(role, _)| role == "tool")
        .filter_map(|(_, text)| serde_json::from_str::<Value>(text).ok())
        .map(
            |r| match (r["temperature_c"].as_i64(), r["conditions"].as_str()) {
                (Some(t), Some(c)) => format!("{}: {t} °C, {c}", r["city"].as_str().unwrap_or("?")),
                _ => format!("{}: no data", r["city"].as_str().unwrap_or("?")),
            },
        )
        .collect();
    format!("Here is the weather right now. {}.", parts.join("; "))
}

/// Runs the example with the process environment.
#[tokio::main]
pub async fn main() -> ExitCode {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    chat_examples::exit_code(run(&Env::from_process(), &mut out, &mut err).await)
}
