//! Faults a `MockTransport` can inject: connection refused, no answer (timeouts on a paused
//! clock), disconnects mid-stream, malformed JSON, HTML error pages and error events.

mod support;

use std::time::Duration;

use chat_core::TransportErrorKind;
use chat_mock::{MockResponse, MockStream, MockTransport};
use support::*;

#[tokio::test]
async fn connect_refused_and_disconnect_are_transport_errors() {
    let mock = MockTransport::new();
    mock.push(MockResponse::connect_refused());
    mock.push(MockResponse::disconnect());
    mock.push(MockResponse::transport_error(
        TransportErrorKind::Tls,
        "bad certificate",
    ));
    let e = mock.send(ask("m", "x")).await.unwrap_err();
    assert_eq!(e.kind(), TransportErrorKind::Connect);
    assert!(e.to_string().contains("connection refused"), "{e}");
    let e = mock.send(ask("m", "x")).await.unwrap_err();
    assert_eq!(e.kind(), TransportErrorKind::Io);
    let e = mock.send(ask("m", "x")).await.unwrap_err();
    assert_eq!(e.kind(), TransportErrorKind::Tls);
    assert_eq!(e.message(), "bad certificate");
    mock.assert_all_used();
}

#[tokio::test(start_paused = true)]
async fn hang_never_answers_so_a_timeout_fires_instantly_on_a_paused_clock() {
    let mock = MockTransport::new();
    mock.push(MockResponse::hang());
    let start = tokio::time::Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(600), mock.send(ask("m", "x"))).await;
    assert!(r.is_err(), "no answer expected");
    assert_eq!(start.elapsed(), Duration::from_secs(600));
    mock.assert_all_used();
}

#[tokio::test(start_paused = true)]
async fn delayed_fault_waits_on_the_tokio_clock() {
    let mock = MockTransport::new();
    mock.push(MockResponse::connect_refused().delay(Duration::from_secs(3)));
    let start = tokio::time::Instant::now();
    assert!(mock.send(ask("m", "x")).await.is_err());
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[tokio::test]
async fn disconnect_after_n_events_fails_the_body_with_io() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("one two three four").disconnect_after(3));
    let resp = mock.send(ask_stream("m", "x")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let (chunks, err) = chunks(resp.into_body()).await;
    assert_eq!(chunks.len(), 3);
    let err = err.expect("the stream breaks");
    assert_eq!(err.kind(), TransportErrorKind::Io);
    let text = String::from_utf8(chunks.concat()).unwrap();
    assert_eq!(joined_content(&stream_chunks(&text)), "one two");
}

#[tokio::test]
async fn raw_body_can_disconnect_too() {
    let mock = MockTransport::new();
    mock.push(
        MockResponse::raw(200)
            .chunks(["{\"id\":", "\"x\"}"])
            .disconnect_after(1),
    );
    let resp = mock.send(ask("m", "x")).await.unwrap();
    let (chunks, err) = chunks(resp.into_body()).await;
    assert_eq!(chunks, vec!["{\"id\":"]);
    assert_eq!(err.unwrap().kind(), TransportErrorKind::Io);
}

#[tokio::test(start_paused = true)]
async fn hang_after_stalls_the_stream_until_the_reader_gives_up() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("a b").hang_after(2));
    let mut body = mock.send(ask_stream("m", "x")).await.unwrap().into_body();
    assert!(body.chunk().await.unwrap().is_ok());
    assert!(body.chunk().await.unwrap().is_ok());
    let start = tokio::time::Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(30), body.chunk()).await;
    assert!(r.is_err(), "the third chunk never comes");
    assert_eq!(start.elapsed(), Duration::from_secs(30));
}

#[tokio::test]
async fn malformed_json_and_html_error_pages() {
    let mock = MockTransport::new();
    mock.push(MockResponse::malformed_json());
    mock.push(MockResponse::html_error(502));
    let (parts, body) = send_full(&mock, ask("m", "x")).await;
    assert_eq!(parts.status, 200);
    assert_eq!(parts.headers["content-type"], "application/json");
    let body = body.unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
    let (parts, body) = send_full(&mock, ask("m", "x")).await;
    assert_eq!(parts.status, 502);
    assert_eq!(parts.headers["content-type"], "text/html");
    let body = String::from_utf8(body.unwrap().to_vec()).unwrap();
    assert!(body.contains("<title>502 Bad Gateway</title>"), "{body}");
}

#[tokio::test]
async fn error_event_inside_a_stream() {
    let mock = MockTransport::new();
    mock.push(
        MockStream::text("partial answer")
            .error_after(2, MockResponse::error(500).message("overloaded mid-stream")),
    );
    mock.push(MockStream::error_event(
        MockResponse::error(400).code("context_length_exceeded"),
    ));
    let body = mock.send(ask_stream("m", "x")).await.unwrap().into_body();
    let text = String::from_utf8(body.collect(1 << 20).await.unwrap().to_vec()).unwrap();
    let data = sse_data(&text);
    assert_eq!(data.len(), 3, "{text}");
    let err: serde_json::Value = serde_json::from_str(&data[2]).unwrap();
    assert_eq!(err["error"]["message"], "overloaded mid-stream");
    assert_eq!(err["error"]["type"], "server_error");
    assert!(!text.contains("[DONE]"));

    let body = mock.send(ask_stream("m", "x")).await.unwrap().into_body();
    let text = String::from_utf8(body.collect(1 << 20).await.unwrap().to_vec()).unwrap();
    let data = sse_data(&text);
    assert_eq!(data.len(), 1, "{text}");
    let err: serde_json::Value = serde_json::from_str(&data[0]).unwrap();
    assert_eq!(err["error"]["code"], "context_length_exceeded");
}

#[tokio::test]
async fn malformed_event_inside_a_stream() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("x y").malformed_after(1));
    let body = mock.send(ask_stream("m", "x")).await.unwrap().into_body();
    let text = String::from_utf8(body.collect(1 << 20).await.unwrap().to_vec()).unwrap();
    let data = sse_data(&text);
    assert_eq!(data.len(), 2, "{text}");
    assert!(serde_json::from_str::<serde_json::Value>(&data[0]).is_ok());
    assert!(serde_json::from_str::<serde_json::Value>(&data[1]).is_err());
}

#[tokio::test]
async fn api_error_defaults_and_options() {
    let mock = MockTransport::new();
    mock.push(MockResponse::error(401));
    mock.push(
        MockResponse::error(429)
            .insufficient_quota()
            .should_retry(false),
    );
    mock.push(
        MockResponse::error(503)
            .retry_after(2)
            .raw_body("upstream down"),
    );
    let (parts, body) = send_full(&mock, ask("m", "x")).await;
    assert_eq!(parts.status, 401);
    let v: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
    assert_eq!(v["error"]["code"], "invalid_api_key");
    assert!(v["error"].as_object().unwrap().contains_key("param"));
    let (parts, body) = send_full(&mock, ask("m", "x")).await;
    assert_eq!(parts.status, 429);
    assert_eq!(parts.headers["x-should-retry"], "false");
    let v: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
    assert_eq!(v["error"]["type"], "insufficient_quota");
    let (parts, body) = send_full(&mock, ask("m", "x")).await;
    assert_eq!(parts.status, 503);
    assert_eq!(parts.headers["retry-after"], "2");
    assert_eq!(body.unwrap(), "upstream down");
}
