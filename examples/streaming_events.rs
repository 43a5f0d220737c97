//! Run with `cargo run --example streaming_events`.
//!
//! The event view of a stream: instead of raw chunks, `ChatCompletionStream::events` yields
//! content deltas, tool-call deltas, "done" events with the finished text or call, the finish
//! reason, the usage and at the end the whole assembled response. This prints each event on
//! one line. Offline (without `OPENAI_API_KEY`) a scripted mock stream plays the model.

use std::io::Write;
use std::process::ExitCode;

use chat_core::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest, Tool,
};
use chat_core::ChatCompletionEvent;
use chat_examples::{connect, usage_line, Env, Error};
use chat_mock::{Match, MockStream};
use serde_json::{json, Value};

/// The question, which makes a model say something and then call the tool.
pub const QUESTION: &str =
    "What is the weather in Paris? Say in a few words what you are doing, then call the tool.";

/// Streams an answer that calls a tool and prints every event to `out`.
pub async fn run(env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let request = CreateChatCompletionRequest::new(env.model(), [Message::user(QUESTION)])
        .tool(Tool::function(
            "get_weather",
            "The current weather in a city",
            json!({
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": false
            }),
        ))
        .include_usage(true);

    let connection = connect(env, err, |mock| {
        // Text first, then the call with its arguments in pieces, then a usage chunk.
        let arguments = Value::String(r#"{"city": "Paris"}"#.to_owned());
        mock.on(Match::chat().stream(true))
            .respond_stream(
                MockStream::text("Let me check the weather in Paris.")
                    .and_tool_call("get_weather", arguments)
                    .usage(71, 24),
            )
            .always();
    })?;

    let stream = connection
        .client
        .create_chat_completion_stream(&request)
        .await?;
    writeln!(out, "request id: {}", stream.request_id().unwrap_or("-"))?;
    let mut events = stream.events();
    while let Some(event) = events.next().await {
        match event? {
            ChatCompletionEvent::ContentDelta { delta, .. } => {
                writeln!(out, "content delta    {delta:?}")?;
            }
            ChatCompletionEvent::ContentDone { content, .. } => {
                writeln!(out, "content done     {content:?}")?;
            }
            ChatCompletionEvent::RefusalDelta { delta, .. } => {
                writeln!(out, "refusal delta    {delta:?}")?;
            }
            ChatCompletionEvent::RefusalDone { refusal, .. } => {
                writeln!(out, "refusal done     {refusal:?}")?;
            }
            ChatCompletionEvent::ToolCallArgumentsDelta {
                tool_index,
                id,
                name,
                delta,
                ..
            } => {
                writeln!(
                    out,
                    "tool call delta  #{tool_index} {name} ({id}) += {delta:?}"
                )?;
            }
            ChatCompletionEvent::ToolCallDone {
                tool_index, call, ..
            } => match call.as_function() {
                Some(f) => writeln!(
                    out,
                    "tool call done   #{tool_index} {}({}) id {}",
                    f.function.name, f.function.arguments, f.id
                )?,
                None => writeln!(out, "tool call done   #{tool_index} (not a function call)")?,
            },
            ChatCompletionEvent::Finish {
                choice_index,
                reason,
            } => {
                writeln!(out, "finish           choice {choice_index}: {reason}")?;
            }
            ChatCompletionEvent::Usage(usage) => {
                writeln!(out, "usage            {}", usage_line(&usage))?;
            }
            ChatCompletionEvent::Completed(response) => {
                writeln!(
                    out,
                    "completed        {} with {} choice(s), {} tool call(s)",
                    response.id.as_deref().unwrap_or("(no id)"),
                    response.choices.len(),
                    response.tool_calls().len()
                )?;
            }
            // Events added by later versions of chat-core.
            other => writeln!(out, "other            {other:?}")?,
        }
    }
    Ok(())
}

/// Runs the example with the process environment.
#[tokio::main]
pub async fn main() -> ExitCode {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    chat_examples::exit_code(run(&Env::from_process(), &mut out, &mut err).await)
}
