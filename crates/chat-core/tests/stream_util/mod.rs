//! Helpers shared by the `stream_*` tests: bodies made of chosen chunks, and fixtures.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use chat_core::{Body, ChatCompletionStream, ResponseMeta, StreamConfig, TransportError};
use futures_core::Stream;

/// A body stream that hands out prepared chunks, counts how many were taken, notes when it
/// is dropped, and (optionally) stays pending forever once the chunks run out.
pub struct Chunks {
    items: VecDeque<Result<Bytes, TransportError>>,
    pending_at_end: bool,
    taken: Arc<AtomicUsize>,
    dropped: Arc<AtomicBool>,
}

/// Observes a [`Chunks`] after it was moved into a body.
#[derive(Clone, Default)]
pub struct Probe {
    pub taken: Arc<AtomicUsize>,
    pub dropped: Arc<AtomicBool>,
}

impl Probe {
    pub fn taken(&self) -> usize {
        self.taken.load(Ordering::SeqCst)
    }
    pub fn dropped(&self) -> bool {
        self.dropped.load(Ordering::SeqCst)
    }
}

impl Chunks {
    pub fn new(items: Vec<Result<Bytes, TransportError>>) -> (Self, Probe) {
        let probe = Probe::default();
        let chunks = Chunks {
            items: items.into(),
            pending_at_end: false,
            taken: probe.taken.clone(),
            dropped: probe.dropped.clone(),
        };
        (chunks, probe)
    }

    /// Never ends: pending forever after the last chunk.
    pub fn then_hang(mut self) -> Self {
        self.pending_at_end = true;
        self
    }

    pub fn into_body(self) -> Body {
        Body::from_stream(self)
    }
}

impl Stream for Chunks {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.items.pop_front() {
            Some(item) => {
                self.taken.fetch_add(1, Ordering::SeqCst);
                Poll::Ready(Some(item))
            }
            None if self.pending_at_end => Poll::Pending,
            None => Poll::Ready(None),
        }
    }
}

impl Drop for Chunks {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

/// A streaming body of `pieces`.
pub fn body_of<I, B>(pieces: I) -> Body
where
    I: IntoIterator<Item = B>,
    B: Into<Bytes>,
{
    let items = pieces.into_iter().map(|b| Ok(b.into())).collect();
    Chunks::new(items).0.into_body()
}

/// `data` split into two chunks at `at`.
pub fn split_at(data: &[u8], at: usize) -> Body {
    body_of([data[..at].to_vec(), data[at..].to_vec()])
}

/// `data` in chunks of one byte.
pub fn bytewise(data: &[u8]) -> Body {
    body_of(data.iter().map(|b| vec![*b]))
}

/// A chunk stream over `body` with default limits and a request id.
pub fn chat_stream(body: Body) -> ChatCompletionStream {
    ChatCompletionStream::new(body, StreamConfig::default(), meta())
}

/// The meta the tests use: status 200 and request id `req_test`.
pub fn meta() -> ResponseMeta {
    let mut headers = http::HeaderMap::new();
    headers.insert("x-request-id", http::HeaderValue::from_static("req_test"));
    ResponseMeta::new(http::StatusCode::OK, headers)
}

/// What a whole stream produced: each chunk as JSON, then the error's text if it failed.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    pub chunks: Vec<serde_json::Value>,
    pub error: Option<String>,
}

/// Reads `stream` to its end.
pub async fn run(mut stream: ChatCompletionStream) -> Outcome {
    let mut chunks = Vec::new();
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => chunks.push(serde_json::to_value(&chunk).unwrap()),
            Err(e) => {
                assert!(error.is_none(), "a second item after an error");
                error = Some(e.to_string());
            }
        }
    }
    assert!(stream.next().await.is_none(), "the stream must stay ended");
    Outcome { chunks, error }
}

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stream")
}

/// The names of all fixtures (`<name>.sse` with `<name>.expected.json` beside it).
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".sse").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

pub fn fixture(name: &str) -> (Vec<u8>, serde_json::Value) {
    let dir = fixture_dir();
    let sse = std::fs::read(dir.join(format!("{name}.sse"))).unwrap();
    let expected = std::fs::read_to_string(dir.join(format!("{name}.expected.json"))).unwrap();
    (sse, without_nulls(serde_json::from_str(&expected).unwrap()))
}

/// `v` without `null`-valued object members, recursively: the expected files leave out the
/// `null`s (`"refusal": null`, `"logprobs": null`) that serialization writes.
pub fn without_nulls(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => m
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k, without_nulls(v)))
            .collect(),
        serde_json::Value::Array(a) => a.into_iter().map(without_nulls).collect(),
        other => other,
    }
}
