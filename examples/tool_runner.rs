//! Run with `cargo run --example tool_runner`.
//!
//! Typed function tools and the tool loop: each tool is an async Rust function whose
//! argument struct (`#[derive(JsonSchema, Deserialize)]`) gives its strict schema.
//! `ToolRunner` asks the model, runs the tools it calls (the calls of one round
//! concurrently), sends the results back, and repeats until the answer. Offline (without
//! `OPENAI_API_KEY`) a mock plays the model: it asks for the weather of two cities at once,
//! then for a unit conversion, then answers from the results.

use std::io::Write;
use std::process::ExitCode;

use chat_core::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use chat_core::ToolRunner;
use chat_examples::{connect, Env, Error};
use chat_mock::{Match, MockResponse, MockTransport, RecordedRequest};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

/// The question.
pub const QUESTION: &str = "How warm is it in Paris and in Tokyo? Give Tokyo in Fahrenheit too.";

/// The arguments of `get_weather`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WeatherArgs {
    /// The city name, such as "Paris".
    pub city: String,
}

/// The arguments of `to_fahrenheit`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConvertArgs {
    /// A temperature in degrees Celsius.
    pub celsius: f64,
}

/// The weather service stand-in: an error for a city it does not know, which the runner
/// sends to the model as the tool's result.
pub async fn get_weather(args: WeatherArgs) -> Result<Value, String> {
    let (celsius, conditions) = match args.city.to_lowercase().as_str() {
        "paris" => (18, "sunny"),
        "tokyo" => (24, "light rain"),
        _ => return Err(format!("no weather data for {}", args.city)),
    };
    Ok(json!({"city": args.city, "celsius": celsius, "conditions": conditions}))
}

/// The tools and their handlers.
pub fn runner() -> Result<ToolRunner, Error> {
    Ok(ToolRunner::new()
        .tool("get_weather", "The current weather in a city", get_weather)?
        .tool(
            "to_fahrenheit",
            "Converts Celsius to Fahrenheit",
            |args: ConvertArgs| async move {
                Ok::<_, String>(json!({"fahrenheit": args.celsius * 9.0 / 5.0 + 32.0}))
            },
        )?
        .max_rounds(5))
}

/// Asks [`QUESTION`] with the tools and prints each call, its result and the answer.
pub async fn run(env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let connection = connect(env, err, script_mock)?;
    let request = CreateChatCompletionRequest::new(env.model(), [Message::user(QUESTION)]);
    writeln!(out, "user         {QUESTION}")?;
    let run = runner()?.run(&connection.client, request).await?;
    for call in &run.calls {
        writeln!(
            out,
            "round {}      {}({}) -> {}",
            call.round, call.call.function.name, call.call.function.arguments, call.result
        )?;
    }
    let answer = run.response.first_content().unwrap_or_default();
    writeln!(out, "answer       {answer}")?;
    writeln!(
        out,
        "{} rounds, {} messages in the conversation",
        run.rounds,
        run.messages.len()
    )?;
    Ok(())
}

/// Scripts the mock model by how many tool results the conversation holds.
fn script_mock(mock: &MockTransport) {
    let results = |n: usize| {
        Match::chat().when("tool results", move |r: &RecordedRequest| {
            tool_results(r).len() == n
        })
    };
    mock.on(results(0))
        .respond(
            MockResponse::tool_call("get_weather", json!({"city": "Paris"}))
                .and_tool_call("get_weather", json!({"city": "Tokyo"})),
        )
        .always();
    mock.on(results(2))
        .respond_with(|r| {
            let tokyo = tool_results(r)
                .into_iter()
                .find(|v| v["city"] == "Tokyo")
                .and_then(|v| v["celsius"].as_f64())
                .unwrap_or_default();
            MockResponse::tool_call("to_fahrenheit", json!({"celsius": tokyo}))
                .tool_call_id("call_mock_2")
                .into()
        })
        .always();
    mock.on(results(3))
        .respond_with(|r| MockResponse::text(summary(&tool_results(r))).into())
        .always();
}

/// The tool results of a request, as JSON.
fn tool_results(request: &RecordedRequest) -> Vec<Value> {
    request
        .message_texts()
        .iter()
        .filter(|(role, _)| role == "tool")
        .filter_map(|(_, text)| serde_json::from_str(text).ok())
        .collect()
}

/// What the mock model answers once it has every result.
fn summary(results: &[Value]) -> String {
    let city = |name: &str| {
        results
            .iter()
            .find(|v| v["city"] == name)
            .cloned()
            .unwrap_or_default()
    };
    let (paris, tokyo) = (city("Paris"), city("Tokyo"));
    let fahrenheit = results
        .iter()
        .find_map(|v| v["fahrenheit"].as_f64())
        .unwrap_or_default();
    format!(
        "Paris: {} °C, {}. Tokyo: {} °C ({fahrenheit} °F), {}.",
        paris["celsius"],
        paris["conditions"].as_str().unwrap_or("?"),
        tokyo["celsius"],
        tokyo["conditions"].as_str().unwrap_or("?"),
    )
}

/// Runs the example with the process environment.
#[tokio::main]
pub async fn main() -> ExitCode {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    chat_examples::exit_code(run(&Env::from_process(), &mut out, &mut err).await)
}
