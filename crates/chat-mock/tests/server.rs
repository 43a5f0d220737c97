//! The loopback `MockServer` (feature `server`) driven over real HTTP/1.1 with a hyper client:
//! plain and streamed answers, errors, faults, recording and shutdown.
#![cfg(feature = "server")]

mod support;

use std::net::SocketAddr;

use bytes::Bytes;
use chat_core::types::CreateChatCompletionResponse;
use chat_mock::{Match, MockResponse, MockServer, MockStream, MockTransport, REDACTED};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpStream;

/// Sends one request over a new connection.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> hyper::Response<Incoming> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .header("authorization", "Bearer sk-server-secret")
        .body(body.to_string())
        .unwrap();
    sender.send_request(req).await.unwrap()
}

/// Reads the frames of a body as they arrive, until the end or an error.
async fn frames(mut body: Incoming) -> (Vec<Bytes>, bool) {
    let mut out = Vec::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| hyper::body::Body::poll_frame(std::pin::Pin::new(&mut body), cx))
            .await
    {
        match frame {
            Ok(f) => {
                if let Ok(d) = f.into_data() {
                    out.push(d);
                }
            }
            Err(_) => return (out, true),
        }
    }
    (out, false)
}

fn chat(stream: bool, text: &str) -> serde_json::Value {
    let mut body = json!({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": text}]});
    if stream {
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

#[tokio::test]
async fn plain_completion_over_http() {
    let mock = MockTransport::new();
    mock.on(Match::post("/chat/completions").user_message_contains("hi"))
        .respond(MockResponse::text("Hello over HTTP").usage(5, 3));
    let server = MockServer::start(mock.clone()).await;
    assert!(server.base_url().starts_with("http://127.0.0.1:"));
    assert!(server.base_url().ends_with("/v1"));

    let resp = send(
        server.addr(),
        "POST",
        "/v1/chat/completions",
        chat(false, "hi"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.headers()["x-request-id"], "req_mock_0");
    let len: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (chunks, broken) = frames(resp.into_body()).await;
    assert!(!broken);
    let body = chunks.concat();
    assert_eq!(body.len(), len);
    let c: CreateChatCompletionResponse = serde_json::from_slice(&body).unwrap();
    assert_eq!(c.first_content(), Some("Hello over HTTP"));
    assert_eq!(c.usage.unwrap().total_tokens, 8);

    let r = mock.request(0);
    assert_eq!(r.path(), "/v1/chat/completions");
    assert_eq!(r.header("authorization"), Some(REDACTED));
    assert!(r.header_matches("authorization", "Bearer sk-server-secret"));
    mock.assert_request_json(0, json!({"model": "gpt-4o"}));
    mock.assert_all_used();
}

#[tokio::test]
async fn streamed_completion_over_http_uses_sse_and_chunked_transfer() {
    let mock = MockTransport::new();
    mock.on(Match::chat().stream(true))
        .respond_stream(MockStream::text("Hello there, world").usage(4, 3));
    let server = MockServer::start(mock.clone()).await;
    let resp = send(
        server.addr(),
        "POST",
        "/v1/chat/completions",
        chat(true, "hi"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(resp.headers()["transfer-encoding"], "chunked");
    assert!(resp.headers().get("content-length").is_none());
    let (chunks, broken) = frames(resp.into_body()).await;
    assert!(!broken);
    let text = String::from_utf8(chunks.concat().to_vec()).unwrap();
    let data: Vec<&str> = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .collect();
    assert_eq!(data.last(), Some(&"[DONE]"));
    let content: String = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(content, "Hello there, world");
    assert!(text.contains("\"total_tokens\":7"), "{text}");
    mock.assert_all_used();
}

#[tokio::test]
async fn errors_and_unmatched_requests_over_http() {
    let mock = MockTransport::new();
    mock.push(MockResponse::error(429).retry_after(3));
    let server = MockServer::start(mock.clone()).await;
    let resp = send(
        server.addr(),
        "POST",
        "/v1/chat/completions",
        chat(false, "x"),
    )
    .await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");
    // A path the API does not have: a 404 with an OpenAI-shaped body that still says why
    // no rule answered.
    let resp = send(server.addr(), "GET", "/v1/models", json!(null)).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["x-should-retry"], "false");
    let (chunks, _) = frames(resp.into_body()).await;
    let v: serde_json::Value = serde_json::from_slice(&chunks.concat()).unwrap();
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("no rule matched request #1: GET /v1/models"),
        "{message}"
    );
    assert!(
        message.starts_with("Invalid URL (GET /v1/models)"),
        "{message}"
    );
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert_eq!(v["error"]["code"], "unknown_url");
    // A chat path no rule answers stays a 500 naming the rules.
    let resp = send(
        server.addr(),
        "POST",
        "/v1/chat/completions",
        chat(false, "y"),
    )
    .await;
    assert_eq!(resp.status(), 500);
    assert_eq!(mock.unmatched_requests().len(), 2);
    mock.check_on_drop(false);
}

#[tokio::test]
async fn a_disconnect_mid_stream_breaks_the_http_body() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("one two three").disconnect_after(2));
    let server = MockServer::start(mock.clone()).await;
    let resp = send(
        server.addr(),
        "POST",
        "/v1/chat/completions",
        chat(true, "x"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let (chunks, broken) = frames(resp.into_body()).await;
    assert!(broken, "the body must end with an error, not cleanly");
    let text = String::from_utf8(chunks.concat().to_vec()).unwrap();
    assert!(text.contains("\"content\":\"one\""), "{text}");
    assert!(!text.contains("[DONE]"));
}

#[tokio::test]
async fn the_server_stops_when_dropped() {
    let mock = MockTransport::new();
    mock.check_on_drop(false);
    let server = MockServer::start(mock).await;
    let addr = server.addr();
    drop(server);
    // The listener closes once the aborted accept loop is dropped.
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "the port still accepts connections");
}

#[tokio::test]
async fn shutdown_closes_the_port_and_open_connections() {
    let mock = MockTransport::new();
    mock.push(MockResponse::hang());
    let server = MockServer::start(mock.clone()).await;
    let addr = server.addr();
    // A connection whose request never gets an answer.
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let req = hyper::Request::builder()
        .method("POST")
        .uri("/v1/chat/completions")
        .header("host", addr.to_string())
        .body(chat(false, "x").to_string())
        .unwrap();
    let pending = tokio::spawn(sender.send_request(req));
    while mock.request_count() == 0 {
        tokio::task::yield_now().await;
    }

    server.shutdown().await;

    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the port still accepts connections"
    );
    // The waiting request fails instead of hanging forever.
    assert!(pending.await.unwrap().is_err());
    let _ = conn.await;
    mock.assert_all_used();
}

#[tokio::test]
async fn a_hand_written_cassette_is_served_over_http() {
    // What `mock_server --cassette FILE --match-requests` serves: a cassette written by hand
    // (a team whose app is not in Rust scripts the server this way).
    let cassette = chat_mock::Cassette::from_json(&json!({
        "chat_mock_cassette": 1,
        "interactions": [{
            "request": {
                "method": "POST",
                "uri": "/v1/chat/completions",
                "body": {"json": {"model": "gpt-4o", "stream": false,
                                  "messages": [{"role": "user", "content": "hi"}]}}
            },
            "response": {
                "status": 429,
                "headers": {"content-type": "application/json", "retry-after": "1"},
                "chunks": ["{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit\"}}"]
            }
        }]
    }))
    .unwrap();
    let replay = chat_mock::ReplayTransport::new(&cassette, chat_mock::ReplayOrder::MatchRequests);
    let server = MockServer::start(replay.mock().clone()).await;
    let resp = send(
        server.addr(),
        "POST",
        "/v1/chat/completions",
        chat(false, "hi"),
    )
    .await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "1");
    let (chunks, _) = frames(resp.into_body()).await;
    assert!(String::from_utf8_lossy(&chunks.concat()).contains("slow down"));
    replay.mock().assert_all_used();
}

async fn json_of(resp: hyper::Response<Incoming>) -> serde_json::Value {
    let (chunks, broken) = frames(resp.into_body()).await;
    assert!(!broken);
    serde_json::from_slice(&chunks.concat()).unwrap()
}

#[tokio::test]
async fn demo_answers_and_stored_completions_over_http() {
    let mock = MockTransport::demo();
    mock.rate_limit(100, std::time::Duration::from_secs(60));
    let server = MockServer::start(mock.clone()).await;
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7}}, "required": ["city", "days"], "additionalProperties": false});
    let mut ids = Vec::new();
    for i in 0..3 {
        let mut body = chat(false, &format!("plan {i}"));
        body["store"] = json!(true);
        body["metadata"] = json!({"trip": if i == 1 { "b" } else { "a" }});
        body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "plan", "strict": true, "schema": schema}});
        let resp = send(server.addr(), "POST", "/v1/chat/completions", body).await;
        assert_eq!(resp.status(), 200);
        assert!(resp.headers().contains_key("x-request-id"));
        assert!(resp.headers().contains_key("openai-processing-ms"));
        assert_eq!(resp.headers()["x-ratelimit-limit-requests"], "100");
        let v = json_of(resp).await;
        let plan: serde_json::Value =
            serde_json::from_str(v["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
        support::schema_check::assert_valid(&schema, &plan);
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    // Pages are told apart by their query string.
    let page1 = json_of(
        send(
            server.addr(),
            "GET",
            "/v1/chat/completions?limit=2",
            json!(null),
        )
        .await,
    )
    .await;
    assert_eq!(page1["object"], "list");
    assert_eq!(page1["has_more"], true);
    assert_eq!(page1["data"].as_array().unwrap().len(), 2);
    let after = page1["last_id"].as_str().unwrap();
    let page2 = json_of(
        send(
            server.addr(),
            "GET",
            &format!("/v1/chat/completions?limit=2&after={after}"),
            json!(null),
        )
        .await,
    )
    .await;
    assert_eq!(page2["data"][0]["id"], ids[2].as_str());
    assert_eq!(page2["has_more"], false);
    let filtered = json_of(
        send(
            server.addr(),
            "GET",
            "/v1/chat/completions?metadata%5Btrip%5D=b",
            json!(null),
        )
        .await,
    )
    .await;
    assert_eq!(filtered["data"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["data"][0]["id"], ids[1].as_str());

    let one = json_of(
        send(
            server.addr(),
            "GET",
            &format!("/v1/chat/completions/{}", ids[0]),
            json!(null),
        )
        .await,
    )
    .await;
    assert_eq!(one["metadata"]["trip"], "a");
    let updated = json_of(
        send(
            server.addr(),
            "POST",
            &format!("/v1/chat/completions/{}", ids[0]),
            json!({"metadata": {"trip": "c"}}),
        )
        .await,
    )
    .await;
    assert_eq!(updated["metadata"]["trip"], "c");
    let messages = json_of(
        send(
            server.addr(),
            "GET",
            &format!("/v1/chat/completions/{}/messages", ids[0]),
            json!(null),
        )
        .await,
    )
    .await;
    assert_eq!(messages["data"][0]["content"], "plan 0");
    assert_eq!(messages["data"][0]["role"], "user");
    let deleted = json_of(
        send(
            server.addr(),
            "DELETE",
            &format!("/v1/chat/completions/{}", ids[0]),
            json!(null),
        )
        .await,
    )
    .await;
    assert_eq!(
        deleted,
        json!({"object": "chat.completion.deleted", "id": ids[0], "deleted": true})
    );
    let gone = send(
        server.addr(),
        "GET",
        &format!("/v1/chat/completions/{}", ids[0]),
        json!(null),
    )
    .await;
    assert_eq!(gone.status(), 404);
    assert_eq!(
        json_of(gone).await["error"]["type"],
        "invalid_request_error"
    );
    mock.assert_all_used();
}
