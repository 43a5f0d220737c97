//! Helpers shared by the integration tests: requests and body reading at the transport level.
#![allow(dead_code, unreachable_pub)]

pub mod schema_check;

use bytes::Bytes;
use chat_core::types::{CreateChatCompletionResponse, CreateChatCompletionStreamResponse};
use chat_core::{Body, Transport, TransportError};
use serde_json::{json, Value};

pub use chat_core::Transport as _;

/// `POST https://api.openai.com/v1/chat/completions` with `body` and a secret key.
pub fn chat_request(body: Value) -> http::Request<Bytes> {
    http::Request::builder()
        .method("POST")
        .uri("https://api.openai.com/v1/chat/completions")
        .header("authorization", "Bearer sk-test-secret")
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_string()))
        .unwrap()
}

/// A chat request for `model` with one user message.
pub fn ask(model: &str, text: &str) -> http::Request<Bytes> {
    chat_request(json!({"model": model, "messages": [{"role": "user", "content": text}]}))
}

/// The same, asking for a stream.
pub fn ask_stream(model: &str, text: &str) -> http::Request<Bytes> {
    chat_request(json!({
        "model": model,
        "stream": true,
        "messages": [{"role": "user", "content": text}]
    }))
}

/// Sends and reads the whole body.
pub async fn send_full(
    t: &dyn Transport,
    req: http::Request<Bytes>,
) -> (http::response::Parts, Result<Bytes, TransportError>) {
    let resp = t.send(req).await.expect("transport error");
    let (parts, body) = resp.into_parts();
    (parts, body.collect(1 << 20).await)
}

/// Sends and parses the answer as a completion.
pub async fn completion(
    t: &dyn Transport,
    req: http::Request<Bytes>,
) -> CreateChatCompletionResponse {
    let (parts, body) = send_full(t, req).await;
    assert_eq!(parts.status, 200);
    serde_json::from_slice(&body.unwrap()).expect("valid completion")
}

/// Reads every chunk of a body, keeping the chunk boundaries, until the end or an error.
pub async fn chunks(mut body: Body) -> (Vec<Bytes>, Option<TransportError>) {
    let mut out = Vec::new();
    while let Some(c) = body.chunk().await {
        match c {
            Ok(c) => out.push(c),
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

/// The `data:` payloads of an SSE text.
pub fn sse_data(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

/// The chunk objects of an SSE text (all data except `[DONE]`).
pub fn stream_chunks(text: &str) -> Vec<CreateChatCompletionStreamResponse> {
    sse_data(text)
        .iter()
        .filter(|d| d.as_str() != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("valid chunk"))
        .collect()
}

/// The content of all chunks joined.
pub fn joined_content(chunks: &[CreateChatCompletionStreamResponse]) -> String {
    chunks.iter().filter_map(|c| c.first_content()).collect()
}
