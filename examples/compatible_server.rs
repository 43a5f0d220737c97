//! Run with `cargo run --example compatible_server`.
//!
//! OpenAI-compatible servers: point `Config::base_url` at vLLM, Ollama, OpenRouter, ... and
//! pass parameters the OpenAI spec lacks (vLLM's `top_k`, OpenRouter's `provider`) with
//! `extra_field`; fields the server adds to its answers (such as `reasoning_content`) land in
//! the `extra` map of the object that holds them.
//!
//! With `OPENAI_BASE_URL` set (and `OPENAI_API_KEY` if the server needs one, `OPENAI_MODEL`
//! for its model name) it sends a vLLM-style request there. Otherwise it sends a vLLM and an
//! OpenRouter request to the mock and prints the URL, headers and body each would send.

use std::io::Write;
use std::process::ExitCode;

use chat_core::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
    CreateChatCompletionResponse,
};
use chat_core::{Client, Config};
use chat_examples::{connect, Env, Error};
use chat_mock::{MockResponse, MockTransport};
use serde_json::json;

/// A vLLM server's usual base URL.
pub const VLLM_BASE_URL: &str = "http://localhost:8000/v1";
/// OpenRouter's base URL.
pub const OPENROUTER_BASE_URL: &str = "https://openrouter.ai/api/v1";

/// A request with vLLM's extra sampling parameters.
pub fn vllm_request(model: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new(model, [Message::user("Name three prime numbers.")])
        .temperature(0.7)
        .extra_field("top_k", 40)
        .extra_field("repetition_penalty", 1.05)
}

/// A request with OpenRouter's provider routing preferences.
pub fn openrouter_request(model: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new(model, [Message::user("Name three prime numbers.")])
        .extra_field(
            "provider",
            json!({"order": ["groq", "together"], "allow_fallbacks": false}),
        )
}

/// Prints the answer and the server-specific fields of the message, if any.
fn print_answer(response: &CreateChatCompletionResponse, out: &mut dyn Write) -> Result<(), Error> {
    writeln!(
        out,
        "answer: {}",
        response.first_content().unwrap_or("(no text)")
    )?;
    if let Some(message) = response.first_message() {
        for (name, value) in &message.extra {
            writeln!(out, "extra field `{name}` of the message: {value}")?;
        }
    }
    Ok(())
}

/// Sends the requests and prints what was sent and answered to `out`.
pub async fn run(env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    if env.get("OPENAI_BASE_URL").is_some() {
        let connection = connect(env, err, |_| {})?;
        let response = connection
            .client
            .create_chat_completion(&vllm_request(env.model()))
            .await?;
        return print_answer(&response, out);
    }

    writeln!(
        err,
        "note: OPENAI_BASE_URL is not set, so the mock answers and the requests are shown"
    )?;
    writeln!(out, "== vLLM at {VLLM_BASE_URL}")?;
    // A local server that needs no key.
    let config = Config::new().base_url(VLLM_BASE_URL);
    let request = vllm_request("meta-llama/Llama-3.1-8B-Instruct");
    show(config, &request, out).await?;

    writeln!(out, "== OpenRouter at {OPENROUTER_BASE_URL}")?;
    let config = Config::new()
        .base_url(OPENROUTER_BASE_URL)
        .api_key("sk-or-demo-key")
        // Optional headers that show the app on OpenRouter's rankings.
        .header("HTTP-Referer", "https://example.com/my-app")
        .header("X-Title", "chat-sdk examples");
    let request = openrouter_request("meta-llama/llama-3.1-70b-instruct");
    show(config, &request, out).await?;
    Ok(())
}

/// Sends `request` with `config` to a mock that answers like a server with a reasoning
/// parser, and prints the request as sent and the answer.
async fn show(
    config: Config,
    request: &CreateChatCompletionRequest,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let answer: CreateChatCompletionResponse = serde_json::from_value(json!({
        "choices": [{
            "index": 0,
            "finish_reason": "stop",
            "message": {
                "role": "assistant",
                "content": "2, 3 and 5.",
                "reasoning_content": "The smallest primes are 2, 3 and 5."
            }
        }],
        "usage": {"prompt_tokens": 14, "completion_tokens": 7, "total_tokens": 21}
    }))?;
    let mock = MockTransport::new();
    mock.push(MockResponse::completion(answer));
    let client: Client = mock.client_with(config);
    let response = client.create_chat_completion(request).await?;

    let sent = mock.request(0);
    writeln!(out, "{} {}", sent.method(), sent.uri())?;
    for name in ["authorization", "http-referer", "x-title"] {
        if let Some(value) = sent.header(name) {
            writeln!(out, "{name}: {value}")?;
        }
    }
    let body = sent.json().cloned().unwrap_or_default();
    writeln!(out, "body: {}", serde_json::to_string_pretty(&body)?)?;
    print_answer(&response, out)
}

/// Runs the example with the process environment.
#[tokio::main]
pub async fn main() -> ExitCode {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    chat_examples::exit_code(run(&Env::from_process(), &mut out, &mut err).await)
}
