//! Run with `cargo run --example testing_with_mock`; its tests run with
//! `cargo test -p chat-examples --test testing_with_mock`.
//!
//! How to test an app that uses the API: write the app against `chat_core::Client`, then
//! give it a client from `chat_mock::MockTransport` in tests, script the answers and check
//! what the app sent. Two small apps live here: an order-status bot that calls a local
//! function, and a streaming reply writer. `examples/tests/testing_with_mock.rs` holds their
//! tests; `main` runs them once (against the mock unless `OPENAI_API_KEY` is set).

use std::io::Write;
use std::process::ExitCode;

use chat_core::types::{
    ChatCompletionRequestMessage as Message, CompletionUsage, CreateChatCompletionRequest, Tool,
};
use chat_core::{ChatCompletionEvent, Client};
use chat_examples::{connect, usage_line, Env, Error};
use chat_mock::{Match, MockResponse, MockStream};
use serde::Deserialize;
use serde_json::{json, Value};

/// The system message of the order bot.
pub const ORDER_BOT_INSTRUCTIONS: &str =
    "You answer questions about orders. Look orders up with get_order_status; never guess.";

/// How many rounds of tool calls the order bot allows before giving up.
pub const MAX_TOOL_ROUNDS: usize = 4;

/// The arguments of the `get_order_status` tool.
#[derive(Debug, Deserialize)]
struct OrderArgs {
    order_id: String,
}

/// The app's own data: the status of an order, or `None` if there is no such order.
pub fn order_status(order_id: &str) -> Option<Value> {
    match order_id {
        "A-1001" => Some(json!({"status": "shipped", "carrier": "DHL", "eta": "2025-06-03"})),
        "A-1002" => Some(json!({"status": "processing"})),
        _ => None,
    }
}

/// The result of a `get_order_status` call with these JSON arguments, as tool message text.
pub fn get_order_status(arguments: &str) -> String {
    let result = match serde_json::from_str::<OrderArgs>(arguments) {
        Ok(args) => match order_status(&args.order_id) {
            Some(mut status) => {
                status["order_id"] = Value::from(args.order_id);
                status
            }
            None => json!({"order_id": args.order_id, "error": "order not found"}),
        },
        Err(e) => json!({"error": format!("invalid arguments: {e}")}),
    };
    result.to_string()
}

/// App 1: answers a customer's question, letting the model look orders up.
pub async fn order_bot(client: &Client, model: &str, question: &str) -> Result<String, Error> {
    let tool = Tool::function(
        "get_order_status",
        "The status of an order by its id, such as A-1001",
        json!({
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
            "additionalProperties": false
        }),
    );
    let mut request = CreateChatCompletionRequest::new(
        model,
        [
            Message::system(ORDER_BOT_INSTRUCTIONS),
            Message::user(question),
        ],
    )
    .tool(tool);
    for _ in 0..MAX_TOOL_ROUNDS {
        let response = client.create_chat_completion(&request).await?;
        let message = response
            .first_message()
            .ok_or("the response has no choices")?;
        if response.tool_calls().is_empty() {
            return Ok(message.content.clone().unwrap_or_default());
        }
        request = request.message(message);
        for call in response.tool_calls() {
            let result = match call.as_function() {
                Some(f) if f.function.name == "get_order_status" => {
                    get_order_status(&f.function.arguments)
                }
                _ => json!({"error": "unknown tool"}).to_string(),
            };
            request = request.message(Message::tool(call.id().unwrap_or_default(), result));
        }
    }
    Err(format!("no answer after {MAX_TOOL_ROUNDS} rounds of tool calls").into())
}

/// What [`stream_reply`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The whole text.
    pub text: String,
    /// The token usage, if the server sent it.
    pub usage: Option<CompletionUsage>,
}

/// App 2: streams the reply to `question` into `out` piece by piece, and returns it whole.
pub async fn stream_reply(
    client: &Client,
    model: &str,
    question: &str,
    out: &mut dyn Write,
) -> Result<Reply, Error> {
    let request =
        CreateChatCompletionRequest::new(model, [Message::user(question)]).include_usage(true);
    let mut events = client
        .create_chat_completion_stream(&request)
        .await?
        .events();
    let mut reply = Reply {
        text: String::new(),
        usage: None,
    };
    while let Some(event) = events.next().await {
        match event? {
            ChatCompletionEvent::ContentDelta { delta, .. } => {
                out.write_all(delta.as_bytes())?;
                out.flush()?;
                reply.text.push_str(&delta);
            }
            ChatCompletionEvent::Usage(usage) => reply.usage = Some(usage),
            _ => {}
        }
    }
    Ok(reply)
}

/// Runs both apps once and prints what they return to `out`.
pub async fn run(env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let connection = connect(env, err, |mock| {
        mock.push(MockResponse::tool_call(
            "get_order_status",
            json!({"order_id": "A-1001"}),
        ));
        mock.on(Match::chat().message_contains("\"shipped\""))
            .respond(MockResponse::text(
                "Your order A-1001 has shipped with DHL and should arrive on 2025-06-03.",
            ))
            .always();
        mock.on(Match::chat().stream(true))
            .respond_stream(
                MockStream::text("Thanks for your patience! Anything else I can do?").usage(12, 10),
            )
            .always();
    })?;
    let client = &connection.client;

    let answer = order_bot(client, env.model(), "Where is my order A-1001?").await?;
    writeln!(out, "order bot: {answer}")?;

    write!(out, "streamed:  ")?;
    let reply = stream_reply(client, env.model(), "Say thanks to the customer.", out).await?;
    writeln!(out)?;
    if let Some(usage) = &reply.usage {
        writeln!(out, "           {}", usage_line(usage))?;
    }
    Ok(())
}

/// Runs the example with the process environment.
#[tokio::main]
pub async fn main() -> ExitCode {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    chat_examples::exit_code(run(&Env::from_process(), &mut out, &mut err).await)
}
