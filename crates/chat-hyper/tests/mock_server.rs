//! End to end over loopback HTTP: the chat-core `Client` on `HyperTransport` against
//! chat-mock's `MockServer`, for a plain reply, a streamed reply, a retried rate limit and a
//! stream the server breaks off.

use chat_hyper::chat_core::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
};
use chat_hyper::chat_core::{Client, Config, ErrorKind};
use chat_hyper::{HyperTransport, Proxy};
use chat_mock::{Match, MockResponse, MockServer, MockStream, MockTransport};
use serde_json::json;

/// A client on a fresh `HyperTransport` (no proxy, whatever the environment says) for the
/// server's base URL.
fn client(server: &MockServer) -> Client {
    let transport = HyperTransport::builder()
        .proxy(Proxy::none())
        .build()
        .unwrap();
    let config = Config::new()
        .base_url(server.base_url())
        .api_key("sk-end-to-end");
    Client::try_new(config, transport).unwrap()
}

fn request(text: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", [Message::user(text)])
}

#[tokio::test]
async fn plain_reply_over_http() {
    let mock = MockTransport::new();
    mock.on(Match::chat().stream(false))
        .respond(MockResponse::text("Hello over HTTP.").usage(3, 4));
    let server = MockServer::start(mock.clone()).await;

    let response = client(&server)
        .create_chat_completion(&request("Hi"))
        .await
        .unwrap();

    assert_eq!(response.first_content(), Some("Hello over HTTP."));
    assert_eq!(response.model, "gpt-4o-mini");
    assert_eq!(response.usage.as_ref().unwrap().total_tokens, 7);
    assert_eq!(response.request_id(), Some("req_mock_0"));
    assert_eq!(response.meta().attempts, 1);

    let sent = mock.request(0);
    assert_eq!(sent.path(), "/v1/chat/completions");
    assert!(sent.header_matches("authorization", "Bearer sk-end-to-end"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    sent.assert_json_exact(&json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Hi"}]
    }));
    mock.assert_all_used();
}

#[tokio::test]
async fn streamed_reply_over_http_arrives_chunk_by_chunk() {
    let mock = MockTransport::new();
    mock.on(Match::chat().stream(true))
        .respond_stream(MockStream::text("one two three").usage(2, 3));
    // The same stream with its bytes cut every 7 bytes, across event boundaries.
    mock.on(Match::chat().stream(true))
        .respond_stream(MockStream::text("four five six").split_bytes(7));
    let server = MockServer::start(mock.clone()).await;
    let client = client(&server);

    let mut stream = client
        .create_chat_completion_stream(&request("Count").include_usage(true))
        .await
        .unwrap();
    assert_eq!(stream.request_id(), Some("req_mock_0"));
    let mut pieces = Vec::new();
    let mut usage = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        if let Some(text) = chunk.first_content().filter(|t| !t.is_empty()) {
            pieces.push(text.to_owned());
        }
        usage = usage.or(chunk.usage);
    }
    assert_eq!(pieces, ["one", " two", " three"]);
    assert_eq!(usage.unwrap().completion_tokens, 3);
    mock.assert_request_json(
        0,
        json!({"stream": true, "stream_options": {"include_usage": true}}),
    );

    let response = client
        .create_chat_completion_stream(&request("Count on"))
        .await
        .unwrap()
        .final_response()
        .await
        .unwrap();
    assert_eq!(response.first_content(), Some("four five six"));
    mock.assert_all_used();
}

#[tokio::test]
async fn rate_limit_over_http_is_retried() {
    let mock = MockTransport::new();
    mock.push(MockResponse::error(429).retry_after_ms(5));
    mock.push(MockResponse::text("Second time lucky."));
    let server = MockServer::start(mock.clone()).await;

    let response = client(&server)
        .create_chat_completion(&request("Hi"))
        .await
        .unwrap();

    assert_eq!(response.first_content(), Some("Second time lucky."));
    assert_eq!(response.meta().attempts, 2);
    assert_eq!(mock.request(0).header("x-retry-count"), None);
    assert_eq!(mock.request(1).header("x-retry-count"), Some("1"));
}

#[tokio::test]
async fn stream_broken_off_by_the_server_is_a_transport_error() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("one two three four").disconnect_after(2));
    let server = MockServer::start(mock.clone()).await;

    let mut stream = client(&server)
        .create_chat_completion_stream(&request("Count"))
        .await
        .unwrap();
    let mut text = String::new();
    let error = loop {
        match stream.next().await {
            Some(Ok(chunk)) => text.push_str(chunk.first_content().unwrap_or_default()),
            Some(Err(e)) => break e,
            None => panic!("the stream ended cleanly after {text:?}"),
        }
    };
    assert_eq!(text, "one");
    assert!(matches!(error.kind(), ErrorKind::Transport(_)), "{error:?}");
    assert!(stream.next().await.is_none());
}
