//! Run with `cargo run --example chat -- "your question"` (`-- --help` lists the flags).
//!
//! A small terminal chat: sends the question, streams the answer token by token to stdout and
//! prints the token usage to stderr. With `OPENAI_API_KEY` set it talks to the OpenAI API (or
//! to `OPENAI_BASE_URL`, such as a local vLLM or Ollama server) through chat-hyper; without
//! it, the built-in chat-mock answers, so the first run works offline.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use chat_core::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
    CreateChatCompletionResponse,
};
use chat_core::{ChatCompletionEvent, Client};
use chat_examples::{connect, usage_line, Env, Error};
use chat_mock::{Match, MockResponse, MockStream, MockTransport, RecordedRequest};

/// The text `--help` prints.
pub const HELP: &str = "\
usage: cargo run --example chat -- [OPTIONS] QUESTION...

Sends QUESTION to the model and streams the answer to stdout; token usage goes to stderr.
Put `--` before a question that starts with `-`.

options:
  --model MODEL   the model (default: $OPENAI_MODEL, or gpt-4o-mini)
  --system TEXT   a system message sent before the question
  --no-stream     wait for the whole answer instead of streaming it
  --json          print the final response as JSON instead of its text
  -h, --help      print this help

environment:
  OPENAI_API_KEY    use the OpenAI API (without it, an offline mock answers)
  OPENAI_BASE_URL   use another OpenAI-compatible server (vLLM, Ollama, ...)
  OPENAI_MODEL      the default model
";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print [`HELP`].
    Help,
    /// Ask a question.
    Ask(Options),
}

/// The options of a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The question (the free arguments, joined by spaces).
    pub question: String,
    /// `--model`.
    pub model: Option<String>,
    /// `--system`.
    pub system: Option<String>,
    /// Streamed unless `--no-stream`.
    pub stream: bool,
    /// `--json`.
    pub json: bool,
}

impl Options {
    /// Parses the arguments after the program name (`--flag value` or `--flag=value`; `--`
    /// ends the options).
    pub fn parse(args: &[String]) -> Result<Command, Error> {
        let mut options = Options {
            question: String::new(),
            model: None,
            system: None,
            stream: true,
            json: false,
        };
        let mut words: Vec<&str> = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = |name: &str| match inline.clone().or_else(|| args.next().cloned()) {
                Some(v) if !v.trim().is_empty() => Ok(v),
                _ => Err(format!("{name} needs a value; see --help")),
            };
            match flag {
                "-h" | "--help" => return Ok(Command::Help),
                "--model" => options.model = Some(value("--model")?),
                "--system" => options.system = Some(value("--system")?),
                "--no-stream" => options.stream = false,
                "--json" => options.json = true,
                "--" => {
                    words.extend(args.by_ref().map(String::as_str));
                }
                f if f.starts_with('-') && f.len() > 1 => {
                    return Err(format!("unknown option `{f}`; see --help").into());
                }
                _ => words.push(arg),
            }
        }
        options.question = words.join(" ");
        if options.question.trim().is_empty() {
            return Err(
                "no question given; try: cargo run --example chat -- \"your question\"".into(),
            );
        }
        Ok(Command::Ask(options))
    }

    /// The request these options describe; `default_model` applies without `--model`.
    pub fn request(&self, default_model: &str) -> CreateChatCompletionRequest {
        let model = self.model.as_deref().unwrap_or(default_model);
        let mut request = CreateChatCompletionRequest::new(model, []);
        if let Some(system) = &self.system {
            request = request.message(Message::system(system.as_str()));
        }
        request = request.message(Message::user(self.question.as_str()));
        if self.stream {
            // Ask for a last chunk with the token usage.
            request = request.include_usage(true);
        }
        request
    }
}

/// Runs the chat with `args` (without the program name): the answer to `out`, notes and
/// token usage to `err`.
pub async fn run(
    args: &[String],
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let options = match Options::parse(args)? {
        Command::Help => {
            out.write_all(HELP.as_bytes())?;
            return Ok(());
        }
        Command::Ask(options) => options,
    };
    let request = options.request(env.model());
    let connection = connect(env, err, script_mock)?;
    let response = if options.stream {
        stream_answer(&connection.client, &request, !options.json, out).await?
    } else {
        let response = connection.client.create_chat_completion(&request).await?;
        if !options.json {
            match (response.first_content(), response.first_refusal()) {
                (Some(text), _) => writeln!(out, "{text}")?,
                (None, Some(refusal)) => writeln!(out, "[refusal] {refusal}")?,
                (None, None) => writeln!(out, "(no text in the answer)")?,
            }
        }
        response.into_inner()
    };
    if options.json {
        serde_json::to_writer_pretty(&mut *out, &response)?;
        writeln!(out)?;
    }
    if let Some(usage) = &response.usage {
        writeln!(err, "{} ({})", usage_line(usage), response.model)?;
    }
    Ok(())
}

/// Streams the answer to `request`, writing each piece of text to `out` as it arrives when
/// `echo` is set, and returns the response assembled from the stream.
pub async fn stream_answer(
    client: &Client,
    request: &CreateChatCompletionRequest,
    echo: bool,
    out: &mut dyn Write,
) -> Result<CreateChatCompletionResponse, Error> {
    let mut events = client
        .create_chat_completion_stream(request)
        .await?
        .events();
    let mut response = None;
    let mut refused = false;
    while let Some(event) = events.next().await {
        match event? {
            ChatCompletionEvent::ContentDelta {
                choice_index: 0,
                delta,
            } if echo => {
                out.write_all(delta.as_bytes())?;
                out.flush()?;
            }
            ChatCompletionEvent::RefusalDelta {
                choice_index: 0,
                delta,
            } if echo => {
                if !refused {
                    out.write_all(b"[refusal] ")?;
                    refused = true;
                }
                out.write_all(delta.as_bytes())?;
                out.flush()?;
            }
            ChatCompletionEvent::Completed(done) => response = Some(*done),
            _ => {}
        }
    }
    if echo {
        writeln!(out)?;
    }
    Ok(response.ok_or("the stream ended without a response")?)
}

/// The answer of the offline mock to `question`.
pub fn mock_answer(question: &str) -> String {
    format!(
        "This is chat-mock answering \"{question}\" offline: a scripted stand-in, not a \
         model, streamed word by word the way a real answer would be. Set OPENAI_API_KEY (or \
         OPENAI_BASE_URL for a local server) to ask a real model."
    )
}

/// Scripts the mock: every chat request gets [`mock_answer`], streamed word by word when
/// the request asks for a stream.
fn script_mock(mock: &MockTransport) {
    mock.on(Match::chat())
        .respond_with(|request: &RecordedRequest| {
            let answer = mock_answer(&request.last_user_message().unwrap_or_default());
            // Words stand in for tokens.
            let prompt: usize = request
                .message_texts()
                .iter()
                .map(|(_, text)| text.split_whitespace().count())
                .sum();
            let completion = answer.split_whitespace().count();
            let (prompt, completion) = (prompt as u64, completion as u64);
            if request.is_stream() {
                MockStream::text(answer)
                    .chunk_words()
                    .chunk_delay(Duration::from_millis(30))
                    .usage(prompt, completion)
                    .into()
            } else {
                MockResponse::text(answer).usage(prompt, completion).into()
            }
        })
        .always();
}

/// Runs the chat with the process arguments and environment.
#[tokio::main]
pub async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    chat_examples::exit_code(run(&args, &Env::from_process(), &mut out, &mut err).await)
}
