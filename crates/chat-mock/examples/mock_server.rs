//! A scripted Chat Completions server on 127.0.0.1 for apps written with any client.
//!
//! Run with `cargo run -p chat-mock --features server --example mock_server`, then point a
//! client at the printed base URL (for example `OPENAI_BASE_URL=<url> OPENAI_API_KEY=x`).
//! Stop it with Ctrl-C.

use chat_mock::{Match, MockResponse, MockServer, MockStream, MockTransport};
use serde_json::json;

#[tokio::main]
async fn main() {
    let mock = MockTransport::new();
    mock.check_on_drop(false);
    mock.on(Match::chat().user_message_contains("weather"))
        .respond(MockResponse::tool_call(
            "get_weather",
            json!({"city": "Paris"}),
        ))
        .always()
        .optional();
    mock.on(Match::chat().stream(true))
        .respond_stream(MockStream::text("Hello from the chat-mock server!").usage(9, 7))
        .always()
        .optional();
    mock.on(Match::chat())
        .respond(MockResponse::text("Hello from the chat-mock server!").usage(9, 7))
        .always()
        .optional();

    let server = MockServer::start(mock.clone()).await;
    println!("{}", server.base_url());
    std::future::pending::<()>().await;
}
