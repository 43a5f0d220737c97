//! Run with `cargo run --example completion` (or `-- "your question"`).
//!
//! One question, one answer, no streaming: builds a request, sends it with
//! `create_chat_completion` and prints the answer with the metadata that comes with it.
//! Offline (without `OPENAI_API_KEY`) a scripted mock answers.

use std::io::Write;
use std::process::ExitCode;

use chat_core::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use chat_examples::{connect, usage_line, Env, Error};
use chat_mock::{Match, MockResponse};

/// The question asked when none is given.
pub const QUESTION: &str = "Explain Rust's ownership rules in two sentences.";

/// What the mock answers.
pub const MOCK_ANSWER: &str = "Every value in Rust has exactly one owner, and the value is \
    dropped when its owner goes out of scope. You can lend it out through references, either \
    many shared ones or one mutable one at a time, and the compiler checks that no reference \
    outlives the value.";

/// Asks `args[0]` (or [`QUESTION`]) and prints the answer and its metadata to `out`.
pub async fn run(
    args: &[String],
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let question = args.first().map_or(QUESTION, String::as_str);
    let request = CreateChatCompletionRequest::new(
        env.model(),
        [
            Message::system("You are a concise assistant for Rust programmers."),
            Message::user(question),
        ],
    );

    let connection = connect(env, err, |mock| {
        mock.on(Match::chat().message_count(2))
            .respond(MockResponse::text(MOCK_ANSWER).usage(27, 52))
            .always();
    })?;
    let response = connection.client.create_chat_completion(&request).await?;

    writeln!(out, "{}", response.first_content().unwrap_or("(no text)"))?;
    writeln!(out)?;
    writeln!(out, "model:      {}", response.model)?;
    if let Some(reason) = response.finish_reason() {
        writeln!(out, "finish:     {reason}")?;
    }
    if let Some(usage) = &response.usage {
        writeln!(out, "usage:      {}", usage_line(usage))?;
    }
    // The response derefs to the body; the HTTP metadata stays reachable.
    writeln!(out, "request id: {}", response.request_id().unwrap_or("-"))?;
    writeln!(out, "attempts:   {}", response.meta().attempts)?;
    Ok(())
}

/// Runs the example with the process arguments and environment.
#[tokio::main]
pub async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    chat_examples::exit_code(run(&args, &Env::from_process(), &mut out, &mut err).await)
}
