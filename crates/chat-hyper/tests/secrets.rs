//! The API key never shows: a full fault run over real loopback servers (chat-mock's
//! `MockServer` and raw TCP) through `HyperTransport`, wrapped in a `RecordingTransport`, with
//! every span and event at TRACE captured (chat-core's and hyper-util's). The key is sent as
//! the bearer token, as a secret-looking header and as query parameters (as gateways take
//! it); then `Display`, `Debug` and the `source()` chain of every error, the `Debug` of the
//! client, its configuration and the responses, the captured traces and the recorded cassette
//! are searched for it.

mod support;

use std::error::Error as _;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_hyper::chat_core::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
};
use chat_hyper::chat_core::{Client, Config, Error, RequestOptions};
use chat_hyper::{HyperTransport, Proxy};
use chat_mock::{MockResponse, MockServer, MockStream, MockTransport, RecordingTransport};
use support::{raw_server, read_head, wait_closed};
use tokio::io::AsyncWriteExt;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Random-looking, so no message, header name or fixture contains it by chance.
const KEY: &str = "sk-proj-Vq7XzR2mK9tLw4Np8Hc3Jd6Fb1Ye5Gu0";

/// A subscriber that writes every span (with its fields and later records) and every event
/// at every level, from every crate, into one text.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    next: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl Capture {
    fn line(&self, head: String, record: impl FnOnce(&mut Fields<'_>)) {
        let mut line = head;
        record(&mut Fields(&mut line));
        let mut text = self.text.lock().unwrap();
        text.push_str(&line);
        text.push('\n');
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let m = attrs.metadata();
        self.line(format!("span {id} {} {}", m.target(), m.name()), |f| {
            attrs.record(f)
        });
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        self.line(format!("record {}", span.into_u64()), |f| values.record(f));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let m = event.metadata();
        self.line(format!("event {} {}", m.level(), m.target()), |f| {
            event.record(f)
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Everything an error shows: `Display`, `Debug`, and both for each `source()` below it.
fn describe(e: &Error) -> String {
    let mut out = format!("{e}\n{e:?}\n");
    let mut next = e.source();
    while let Some(cause) = next {
        let _ = writeln!(out, "  caused by: {cause}\n  {cause:?}");
        next = cause.source();
    }
    out
}

fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", [Message::user("Hello")])
}

/// The configuration of every client: the key as bearer token, as a header and as two query
/// parameters.
fn config(base_url: &str) -> Config {
    Config::new()
        .base_url(base_url)
        .api_key(KEY)
        .header("x-api-key", KEY)
        .query("key", KEY)
        .query("api-version", "2024-10-21")
        .max_retries(1)
        .retry_jitter(false)
        .timeout(Duration::from_secs(5))
}

fn transport() -> HyperTransport {
    HyperTransport::builder()
        .proxy(Proxy::none())
        .build()
        .unwrap()
}

/// Reads a stream to its end; the error that ended it, if any.
async fn read_stream(client: &Client) -> Result<(), Error> {
    let mut stream = client.create_chat_completion_stream(&request()).await?;
    while let Some(chunk) = stream.next().await {
        chunk?;
    }
    Ok(())
}

/// Within seconds: a fault run never hangs the test.
async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("the fault run finished in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_appears_in_no_output_of_a_full_fault_run() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone()).unwrap();
    bounded(fault_run(capture)).await;
}

async fn fault_run(capture: Capture) {
    let mut out = String::new();
    let mut errors = Vec::new();

    let mock = MockTransport::new();
    mock.check_on_drop(false);
    let server = MockServer::start(mock.clone()).await;
    let recording = RecordingTransport::new(transport());
    let client = Client::new(config(&server.base_url()), recording.clone());
    let _ = writeln!(out, "{client:?}\n{:?}\n{recording:?}", client.config());

    // API errors with bodies: 401 (not retried), 429 and 500 (retried once each).
    mock.push(
        MockResponse::error(401)
            .message("Incorrect API key provided.")
            .code("invalid_api_key"),
    );
    mock.push(
        MockResponse::error(429)
            .message("Rate limit reached")
            .retry_after_ms(1),
    );
    mock.push(
        MockResponse::error(429)
            .message("Rate limit reached")
            .retry_after_ms(1),
    );
    mock.push(MockResponse::error(500).message("The server had an error"));
    mock.push(MockResponse::error(500).message("The server had an error"));
    for _ in 0..3 {
        errors.push(client.create_chat_completion(&request()).await.unwrap_err());
    }
    // A decode error, an HTML page, and a success (its Debug too).
    mock.push(MockResponse::malformed_json());
    errors.push(client.create_chat_completion(&request()).await.unwrap_err());
    mock.push(MockResponse::html_error(502));
    mock.push(MockResponse::html_error(502));
    errors.push(client.create_chat_completion(&request()).await.unwrap_err());
    mock.push(MockResponse::text("fine"));
    let response = client.create_chat_completion(&request()).await.unwrap();
    let _ = writeln!(out, "{response:?}");

    // Streams: truncated, an error event, broken off, and a success.
    mock.push(MockResponse::sse([
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"cut\"}}]}\n\n",
    ]));
    errors.push(read_stream(&client).await.unwrap_err());
    mock.push(MockResponse::stream(
        MockStream::text("one two three").error_after(1, MockResponse::error(500).message("boom")),
    ));
    errors.push(read_stream(&client).await.unwrap_err());
    mock.push(MockResponse::stream(
        MockStream::text("one two three")
            .chunk_words()
            .disconnect_after(1),
    ));
    errors.push(read_stream(&client).await.unwrap_err());
    mock.push(MockResponse::stream(MockStream::text("all of it")));
    read_stream(&client).await.unwrap();

    // Timeouts: a silent server (request timeout) and a stalled stream (idle timeout).
    let quick = client.with_options(
        RequestOptions::new()
            .timeout(Duration::from_millis(200))
            .max_retries(0)
            .stream_idle_timeout(Duration::from_millis(200))
            .query("access_token", KEY),
    );
    let _ = writeln!(out, "{quick:?}");
    mock.push(MockResponse::hang());
    errors.push(quick.create_chat_completion(&request()).await.unwrap_err());
    mock.push(MockResponse::stream(
        MockStream::text("one two three")
            .chunk_words()
            .hang_after(1),
    ));
    errors.push(read_stream(&quick).await.unwrap_err());

    // A body in an encoding nothing decodes.
    mock.push(
        MockResponse::raw(200)
            .content_type("application/json")
            .header("content-encoding", "deflate")
            .body(&b"\x78\x9c\xabV\xca\xcc\x04\x00"[..]),
    );
    errors.push(client.create_chat_completion(&request()).await.unwrap_err());

    // Connection refused, and a server that answers garbage (a protocol error).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused_at = closed.local_addr().unwrap();
    drop(closed);
    let refused = Client::new(config(&format!("http://{refused_at}/v1")), transport());
    errors.push(
        refused
            .create_chat_completion(&request())
            .await
            .unwrap_err(),
    );
    let garbage_at = raw_server(|mut tcp| async move {
        read_head(&mut tcp).await;
        let _ = tcp.write_all(b"SPLAT\r\n\r\n").await;
        wait_closed(&mut tcp).await;
    })
    .await;
    let garbage = Client::new(config(&format!("http://{garbage_at}/v1")), transport());
    errors.push(
        garbage
            .create_chat_completion(&request())
            .await
            .unwrap_err(),
    );
    // A base URL with the key as user information is refused before anything is sent.
    let userinfo = Client::new(
        config(&format!("http://user:{KEY}@{garbage_at}/v1")),
        transport(),
    );
    let _ = writeln!(out, "{userinfo:?}");
    errors.push(
        userinfo
            .create_chat_completion(&request())
            .await
            .unwrap_err(),
    );

    for e in &errors {
        out.push_str(&describe(e));
    }
    let cassette = recording.cassette().to_json().to_string();
    // Drop the clients first, so connection tasks log their end too.
    drop((client, quick, refused, garbage, userinfo, recording));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let traces = capture.text.lock().unwrap().clone();

    // Every fault showed up, so the search below looked at real output.
    for expected in [
        "api error 401",
        "api error 429",
        "api error 500",
        "api error 502",
        "failed to decode response",
        "stream ended before completion",
        "error event in stream",
        "i/o error",
        "request timed out",
        "stream idle timeout",
        "`deflate`",
        "connection failed",
        "protocol error",
        "user information",
        "caused by",
    ] {
        assert!(out.contains(expected), "no {expected:?} in:\n{out}");
    }
    assert_eq!(errors.len(), 14);
    for expected in [
        "chat_core.operation",
        "chat_core.attempt",
        "hyper_util",
        "event TRACE",
    ] {
        assert!(
            traces.contains(expected),
            "no {expected:?} in the traces:\n{traces}"
        );
    }
    assert!(cassette.contains("[redacted]"), "{cassette}");
    assert!(cassette.contains("api-version=2024-10-21"), "{cassette}");

    // The key, or any long piece of it, appears nowhere.
    let pieces = [KEY, &KEY[8..], &KEY[KEY.len() - 16..]];
    for (what, text) in [
        ("output", &out),
        ("traces", &traces),
        ("cassette", &cassette),
    ] {
        assert!(!text.trim().is_empty(), "no {what}");
        for piece in pieces {
            assert!(
                !text.contains(piece),
                "the key leaked into the {what}:\n{text}"
            );
        }
    }
}
