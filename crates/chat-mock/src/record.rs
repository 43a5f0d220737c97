//! Record once against a real server, replay offline: [`RecordingTransport`],
//! [`ReplayTransport`] and the [`Cassette`] file they share.

use std::fmt;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use chat_core::{async_trait, Body, Transport, TransportError, TransportErrorKind};
use futures_core::Stream;
use http::{HeaderMap, Method};
use serde_json::{json, Map, Value};

use crate::query::sorted_query_pairs;
use crate::request::{is_secret_header, redact_uri, REDACTED};
use crate::{Match, MockResponse, MockTransport};

/// The version written in cassette files.
const FORMAT: u64 = 1;

/// Recorded interactions: what was sent and what came back, chunk by chunk.
///
/// Saved as JSON (see [`to_json`](Self::to_json)) with secrets redacted: headers named like
/// a key or token, and such query parameters. Response bodies keep their chunk boundaries;
/// chunks that are not UTF-8 text are stored as `{"hex": "..."}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cassette {
    /// The interactions, in the order the requests were sent.
    pub interactions: Vec<Interaction>,
}

/// One request and its response as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// The request method.
    pub method: String,
    /// The request URI, secret query parameters redacted.
    pub uri: String,
    /// The request headers, secret values redacted.
    pub request_headers: Vec<(String, String)>,
    /// The request body.
    pub request_body: Bytes,
    /// The response status; `None` when the transport failed before a response.
    pub status: Option<u16>,
    /// The response headers, secret values redacted.
    pub response_headers: Vec<(String, String)>,
    /// The response body chunks, in order, with their boundaries.
    pub chunks: Vec<Bytes>,
    /// The transport error that ended the exchange (before the response if `status` is
    /// `None`, otherwise after the chunks).
    pub error: Option<RecordedError>,
    /// Whether the body was read to its end (or to its error).
    pub complete: bool,
}

/// A transport error as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedError {
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// Its message.
    pub message: String,
}

/// A cassette file that could not be read, parsed or written.
#[derive(Debug)]
pub struct CassetteError {
    message: String,
    source: Option<std::io::Error>,
}

impl CassetteError {
    fn invalid(message: impl Into<String>) -> Self {
        CassetteError {
            message: message.into(),
            source: None,
        }
    }
}

impl fmt::Display for CassetteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CassetteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

fn kind_name(kind: TransportErrorKind) -> &'static str {
    match kind {
        TransportErrorKind::Connect => "connect",
        TransportErrorKind::Timeout => "timeout",
        TransportErrorKind::Tls => "tls",
        TransportErrorKind::Io => "io",
        _ => "other",
    }
}

fn kind_from_name(name: &str) -> TransportErrorKind {
    match name {
        "connect" => TransportErrorKind::Connect,
        "timeout" => TransportErrorKind::Timeout,
        "tls" => TransportErrorKind::Tls,
        "io" => TransportErrorKind::Io,
        _ => TransportErrorKind::Other,
    }
}

/// The headers as sorted name-value pairs (the order a cassette file keeps), secrets and the
/// `also_redacted` names (lowercase) redacted.
fn headers_to_pairs(headers: &HeaderMap, also_redacted: &[String]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            let value =
                if is_secret_header(n.as_str()) || also_redacted.iter().any(|r| r == n.as_str()) {
                    REDACTED.to_owned()
                } else {
                    String::from_utf8_lossy(v.as_bytes()).into_owned()
                };
            (n.as_str().to_owned(), value)
        })
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
}

fn pairs_to_json(pairs: &[(String, String)]) -> Value {
    let mut m = Map::new();
    for (n, v) in pairs {
        match m.get_mut(n) {
            Some(Value::Array(a)) => a.push(Value::String(v.clone())),
            Some(old) => *old = json!([old.clone(), v]),
            None => {
                m.insert(n.clone(), Value::String(v.clone()));
            }
        }
    }
    Value::Object(m)
}

fn pairs_from_json(v: Option<&Value>, what: &str) -> Result<Vec<(String, String)>, CassetteError> {
    let mut out = Vec::new();
    let Some(v) = v else { return Ok(out) };
    let Some(m) = v.as_object() else {
        return Err(CassetteError::invalid(format!("{what} must be an object")));
    };
    for (n, v) in m {
        match v {
            Value::String(s) => out.push((n.clone(), s.clone())),
            Value::Array(a) => {
                for item in a {
                    let Some(s) = item.as_str() else {
                        return Err(CassetteError::invalid(format!(
                            "{what}.{n} must be a string or an array of strings"
                        )));
                    };
                    out.push((n.clone(), s.to_owned()));
                }
            }
            _ => {
                return Err(CassetteError::invalid(format!(
                    "{what}.{n} must be a string or an array of strings"
                )))
            }
        }
    }
    Ok(out)
}

fn bytes_to_json(b: &Bytes) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            json!({ "hex": hex })
        }
    }
}

fn bytes_from_json(v: &Value, what: &str) -> Result<Bytes, CassetteError> {
    if let Some(s) = v.as_str() {
        return Ok(Bytes::from(s.to_owned()));
    }
    let bad = || CassetteError::invalid(format!("{what} must be a string or {{\"hex\": \"...\"}}"));
    let hex = v.get("hex").and_then(Value::as_str).ok_or_else(bad)?;
    if hex.len() % 2 != 0 {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(hex.len() / 2);
    for i in (0..hex.len()).step_by(2) {
        let byte = hex
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(bad)?;
        out.push(byte);
    }
    Ok(Bytes::from(out))
}

impl Interaction {
    fn to_json(&self) -> Value {
        let body = if self.request_body.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice::<Value>(&self.request_body) {
                Ok(v) => json!({ "json": v }),
                Err(_) => json!({ "text": bytes_to_json(&self.request_body) }),
            }
        };
        let mut response = Map::new();
        if let Some(s) = self.status {
            response.insert("status".into(), s.into());
            response.insert("headers".into(), pairs_to_json(&self.response_headers));
            response.insert(
                "chunks".into(),
                Value::Array(self.chunks.iter().map(bytes_to_json).collect()),
            );
        }
        if let Some(e) = &self.error {
            response.insert(
                "error".into(),
                json!({"kind": kind_name(e.kind), "message": e.message}),
            );
        }
        response.insert("complete".into(), self.complete.into());
        json!({
            "request": {
                "method": self.method,
                "uri": self.uri,
                "headers": pairs_to_json(&self.request_headers),
                "body": body,
            },
            "response": Value::Object(response),
        })
    }

    fn from_json(v: &Value, i: usize) -> Result<Self, CassetteError> {
        let at = |what: &str| format!("interactions[{i}].{what}");
        let req = v
            .get("request")
            .ok_or_else(|| CassetteError::invalid(format!("{} is missing", at("request"))))?;
        let resp = v
            .get("response")
            .ok_or_else(|| CassetteError::invalid(format!("{} is missing", at("response"))))?;
        let text = |o: &Value, k: &str| -> Result<String, CassetteError> {
            o.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| CassetteError::invalid(format!("{} must be a string", at(k))))
        };
        let request_body = match req.get("body") {
            None | Some(Value::Null) => Bytes::new(),
            Some(b) => match (b.get("json"), b.get("text")) {
                (Some(j), _) => Bytes::from(j.to_string()),
                (None, Some(t)) => bytes_from_json(t, &at("request.body.text"))?,
                (None, None) => {
                    return Err(CassetteError::invalid(format!(
                        "{} must have \"json\" or \"text\"",
                        at("request.body")
                    )))
                }
            },
        };
        let status = match resp.get("status") {
            None | Some(Value::Null) => None,
            Some(s) => Some(
                s.as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .filter(|s| (100..=999).contains(s))
                    .ok_or_else(|| {
                        CassetteError::invalid(format!("{} is not a status", at("response.status")))
                    })?,
            ),
        };
        let chunks = match resp.get("chunks") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(k, c)| bytes_from_json(c, &at(&format!("response.chunks[{k}]"))))
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(CassetteError::invalid(format!(
                    "{} must be an array",
                    at("response.chunks")
                )))
            }
        };
        let error = match resp.get("error") {
            None | Some(Value::Null) => None,
            Some(e) => Some(RecordedError {
                kind: kind_from_name(e.get("kind").and_then(Value::as_str).unwrap_or("other")),
                message: e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            }),
        };
        let complete = resp
            .get("complete")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        // An exchange the client gave up on (`"complete": false`) may have neither: it is
        // replayed as silence.
        if status.is_none() && error.is_none() && complete {
            return Err(CassetteError::invalid(format!(
                "{} needs a status, an error or \"complete\": false",
                at("response")
            )));
        }
        Ok(Interaction {
            method: text(req, "method")?,
            uri: text(req, "uri")?,
            request_headers: pairs_from_json(req.get("headers"), &at("request.headers"))?,
            request_body,
            status,
            response_headers: pairs_from_json(resp.get("headers"), &at("response.headers"))?,
            chunks,
            error,
            complete,
        })
    }

    /// The answer this interaction replays.
    fn response(&self) -> MockResponse {
        // A timeout: recorded as one by the transport, or an exchange the client gave up
        // on (its own timeout dropped the request or the body before the end).
        let timed_out = match &self.error {
            Some(e) => e.kind == TransportErrorKind::Timeout,
            None => !self.complete,
        };
        let Some(status) = self.status else {
            // A recorded timeout is replayed as the silence that caused it, so the
            // client's own timeout fires again (at once under a paused tokio clock).
            if timed_out {
                return MockResponse::hang();
            }
            let (kind, message) = match &self.error {
                Some(e) => (e.kind, e.message.as_str()),
                None => (TransportErrorKind::Other, "recorded without a response"),
            };
            return MockResponse::transport_error(kind, message);
        };
        // `status` was validated when loaded or recorded.
        let mut raw = MockResponse::raw(status).chunks(self.chunks.clone());
        for (n, v) in &self.response_headers {
            let hop = matches!(
                n.to_ascii_lowercase().as_str(),
                "content-length" | "transfer-encoding" | "connection" | "keep-alive"
            );
            if !hop
                && http::HeaderName::from_bytes(n.as_bytes()).is_ok()
                && http::HeaderValue::from_str(v).is_ok()
            {
                raw = raw.header(n, v);
            }
        }
        match &self.error {
            _ if timed_out => raw = raw.hang_after(self.chunks.len()),
            Some(e) => raw = raw.fail_after(self.chunks.len(), e.kind, &e.message),
            None => {}
        }
        raw.into()
    }

    /// The condition a request must meet to be answered by this interaction when matching.
    fn matcher(&self) -> Match {
        let path = self
            .uri
            .parse::<http::Uri>()
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|_| self.uri.clone());
        let method = Method::from_bytes(self.method.as_bytes()).unwrap_or(Method::GET);
        let recorded_query = sorted_query_pairs(self.uri.split_once('?').map_or("", |(_, q)| q));
        let describe = if recorded_query.is_empty() {
            "no query string".to_owned()
        } else {
            format!("query {}", self.uri.split_once('?').map_or("", |(_, q)| q))
        };
        // Pages of a list differ only in their query (`after=...`), so it must match too;
        // a redacted value matches any value.
        let m = Match::method(method, &path).when(&describe, move |r| {
            let sent = sorted_query_pairs(r.uri().query().unwrap_or(""));
            sent.len() == recorded_query.len()
                && sent
                    .iter()
                    .zip(&recorded_query)
                    .all(|((k, v), (rk, rv))| k == rk && (v == rv || rv == REDACTED))
        });
        match serde_json::from_slice::<Value>(&self.request_body) {
            Ok(v) => m.body_json_exact(v),
            Err(_) => {
                let body = self.request_body.clone();
                m.when("body equals the recorded one", move |r| r.body() == &body)
            }
        }
    }
}

impl Cassette {
    /// The cassette as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "chat_mock_cassette": FORMAT,
            "interactions": self.interactions.iter().map(Interaction::to_json).collect::<Vec<_>>(),
        })
    }

    /// A cassette from its JSON.
    pub fn from_json(v: &Value) -> Result<Self, CassetteError> {
        match v.get("chat_mock_cassette").and_then(Value::as_u64) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(CassetteError::invalid(format!(
                    "unsupported cassette version {other}"
                )))
            }
            None => return Err(CassetteError::invalid("not a chat-mock cassette")),
        }
        let list = v
            .get("interactions")
            .and_then(Value::as_array)
            .ok_or_else(|| CassetteError::invalid("interactions must be an array"))?;
        let interactions = list
            .iter()
            .enumerate()
            .map(|(i, v)| Interaction::from_json(v, i))
            .collect::<Result<_, _>>()?;
        Ok(Cassette { interactions })
    }

    /// Writes the cassette to a file, as pretty-printed JSON.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CassetteError> {
        let path = path.as_ref();
        let text = serde_json::to_string_pretty(&self.to_json())
            .map_err(|e| CassetteError::invalid(format!("cannot serialize cassette: {e}")))?;
        std::fs::write(path, text + "\n").map_err(|e| CassetteError {
            message: format!("cannot write cassette {}", path.display()),
            source: Some(e),
        })
    }

    /// Reads a cassette file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CassetteError> {
        let path = path.as_ref();
        let text = std::fs::read(path).map_err(|e| CassetteError {
            message: format!("cannot read cassette {}", path.display()),
            source: Some(e),
        })?;
        let v: Value = serde_json::from_slice(&text).map_err(|e| {
            CassetteError::invalid(format!("cassette {} is not JSON: {e}", path.display()))
        })?;
        Self::from_json(&v).map_err(|e| {
            CassetteError::invalid(format!("cassette {}: {}", path.display(), e.message))
        })
    }
}

/// A transport that passes requests to another one and records each exchange.
///
/// Wrap the real transport once, run the test, then [`save`](Self::save) the cassette and
/// replay it offline with [`ReplayTransport`]. Streamed bodies are recorded as the client
/// reads them, so save after the test has read its responses.
///
/// ```
/// use chat_mock::{MockResponse, MockTransport, RecordingTransport};
///
/// let upstream = MockTransport::new(); // in real use: a production transport
/// # upstream.check_on_drop(false);
/// let recording = RecordingTransport::new(upstream);
/// // ... run the app with `recording` as its transport, then:
/// // recording.save("tests/fixtures/weather.json")?;
/// assert!(recording.cassette().interactions.is_empty());
/// ```
#[derive(Clone)]
pub struct RecordingTransport<T> {
    inner: T,
    log: Arc<Mutex<Vec<Interaction>>>,
    /// Header names (lowercase) redacted besides the secret ones.
    also_redacted: Arc<[String]>,
}

impl<T: Transport> RecordingTransport<T> {
    /// Records what goes through `inner`.
    pub fn new(inner: T) -> Self {
        RecordingTransport {
            inner,
            log: Arc::new(Mutex::new(Vec::new())),
            also_redacted: Arc::from([]),
        }
    }

    /// Also redacts header `name` (in requests and responses) in what is recorded, beside
    /// the headers whose names mark secrets (`authorization`, `*key*`, `*token*`, ...); for
    /// headers such as `openai-organization` that should not reach a committed file. Bodies
    /// are kept as sent: edit [`Cassette::interactions`] before saving to scrub them.
    pub fn redact_header(mut self, name: &str) -> Self {
        let mut names = self.also_redacted.to_vec();
        names.push(name.to_ascii_lowercase());
        self.also_redacted = names.into();
        self
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The interactions recorded so far.
    pub fn cassette(&self) -> Cassette {
        Cassette {
            interactions: lock(&self.log).clone(),
        }
    }

    /// Writes the interactions recorded so far to a file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CassetteError> {
        self.cassette().save(path)
    }
}

fn lock(log: &Mutex<Vec<Interaction>>) -> MutexGuard<'_, Vec<Interaction>> {
    log.lock().unwrap_or_else(|e| e.into_inner())
}

#[async_trait]
impl<T: Transport> Transport for RecordingTransport<T> {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Body>, TransportError> {
        let mut interaction = Interaction {
            method: request.method().to_string(),
            uri: redact_uri(request.uri()),
            request_headers: headers_to_pairs(request.headers(), &self.also_redacted),
            request_body: request.body().clone(),
            status: None,
            response_headers: Vec::new(),
            chunks: Vec::new(),
            error: None,
            complete: false,
        };
        let index = {
            let mut log = lock(&self.log);
            log.push(interaction.clone());
            log.len() - 1
        };
        let response = match self.inner.send(request).await {
            Ok(r) => r,
            Err(e) => {
                interaction.error = Some(RecordedError {
                    kind: e.kind(),
                    message: e.message().to_owned(),
                });
                interaction.complete = true;
                if let Some(slot) = lock(&self.log).get_mut(index) {
                    *slot = interaction;
                }
                return Err(e);
            }
        };
        let (parts, body) = response.into_parts();
        if let Some(slot) = lock(&self.log).get_mut(index) {
            slot.status = Some(parts.status.as_u16());
            slot.response_headers = headers_to_pairs(&parts.headers, &self.also_redacted);
        }
        let body = if body.is_full() {
            let bytes = body.collect(usize::MAX).await;
            let mut log = lock(&self.log);
            if let Some(slot) = log.get_mut(index) {
                slot.complete = true;
                match &bytes {
                    Ok(b) if b.is_empty() => {}
                    Ok(b) => slot.chunks.push(b.clone()),
                    Err(e) => {
                        slot.error = Some(RecordedError {
                            kind: e.kind(),
                            message: e.message().to_owned(),
                        })
                    }
                }
            }
            drop(log);
            Body::full(bytes?)
        } else {
            Body::from_stream(RecordingBody {
                body,
                log: self.log.clone(),
                index,
            })
        };
        Ok(http::Response::from_parts(parts, body))
    }
}

impl<T: fmt::Debug> fmt::Debug for RecordingTransport<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingTransport")
            .field("inner", &self.inner)
            .field("interactions", &lock(&self.log).len())
            .finish()
    }
}

/// A body that copies each chunk into the log as it passes.
struct RecordingBody {
    body: Body,
    log: Arc<Mutex<Vec<Interaction>>>,
    index: usize,
}

impl Stream for RecordingBody {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let item = match this.body.poll_chunk(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(item) => item,
        };
        let mut log = lock(&this.log);
        if let Some(slot) = log.get_mut(this.index) {
            match &item {
                Some(Ok(chunk)) => slot.chunks.push(chunk.clone()),
                Some(Err(e)) => {
                    slot.error = Some(RecordedError {
                        kind: e.kind(),
                        message: e.message().to_owned(),
                    });
                    slot.complete = true;
                }
                None => slot.complete = true,
            }
        }
        Poll::Ready(item)
    }
}

/// How a [`ReplayTransport`] picks the interaction that answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReplayOrder {
    /// Each request gets the next interaction, whatever it asks.
    #[default]
    InOrder,
    /// Each request gets the first unused interaction with the same method, path, query
    /// parameters (in any order; a redacted value matches any) and body (compared as JSON),
    /// so the pages of a list are told apart by their `after`.
    MatchRequests,
}

/// A transport that serves a recorded [`Cassette`] back, chunk boundaries and faults
/// included.
///
/// It is a [`MockTransport`] scripted with one rule per interaction, so every assertion of
/// the mock works on it (see [`mock`](Self::mock)), and it checks on drop that every
/// interaction was replayed. A recorded timeout, or an exchange the client gave up on before
/// its end, is replayed as silence from the same point, so the client's own timeout fires
/// again (at once under a paused tokio clock).
///
/// ```no_run
/// use chat_mock::{ReplayOrder, ReplayTransport};
///
/// # fn main() -> Result<(), chat_mock::CassetteError> {
/// let replay = ReplayTransport::from_file("tests/fixtures/weather.json", ReplayOrder::InOrder)?;
/// let client = replay.client();
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ReplayTransport {
    mock: MockTransport,
}

impl ReplayTransport {
    /// Serves `cassette`.
    pub fn new(cassette: &Cassette, order: ReplayOrder) -> Self {
        let mock = MockTransport::new();
        // Only the cassette answers: no built-in stored completions.
        mock.serve_stored(false);
        for (i, interaction) in cassette.interactions.iter().enumerate() {
            let matcher = match order {
                ReplayOrder::InOrder => Match::any(),
                _ => interaction.matcher(),
            };
            mock.on(matcher)
                .respond(interaction.response())
                .named(&format!("interaction {i}"));
        }
        ReplayTransport { mock }
    }

    /// Reads a cassette file and serves it.
    pub fn from_file(path: impl AsRef<Path>, order: ReplayOrder) -> Result<Self, CassetteError> {
        Ok(Self::new(&Cassette::load(path)?, order))
    }

    /// A ready client whose requests are answered from the cassette (see
    /// [`MockTransport::client`]).
    pub fn client(&self) -> chat_core::Client {
        self.mock.client()
    }

    /// The mock underneath, for recorded requests and assertions.
    pub fn mock(&self) -> &MockTransport {
        &self.mock
    }
}

#[async_trait]
impl Transport for ReplayTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Body>, TransportError> {
        self.mock.send(request).await
    }
}

impl fmt::Debug for ReplayTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReplayTransport").field(&self.mock).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cassette_json_round_trips_with_hex_chunks_and_errors() {
        let c = Cassette {
            interactions: vec![Interaction {
                method: "POST".into(),
                uri: "https://x.test/v1/chat/completions".into(),
                request_headers: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
                request_body: Bytes::from_static(b"{\"model\":\"m\"}"),
                status: Some(200),
                response_headers: vec![("content-type".into(), "text/event-stream".into())],
                chunks: vec![
                    Bytes::from_static(b"data: x\n\n"),
                    Bytes::from_static(&[0xff, 0x00]),
                ],
                error: Some(RecordedError {
                    kind: TransportErrorKind::Io,
                    message: "reset".into(),
                }),
                complete: true,
            }],
        };
        let v = c.to_json();
        assert_eq!(
            v["interactions"][0]["response"]["chunks"][1],
            json!({"hex": "ff00"})
        );
        assert_eq!(
            v["interactions"][0]["request"]["headers"]["a"],
            json!(["1", "2"])
        );
        assert_eq!(Cassette::from_json(&v).unwrap(), c);
    }

    #[test]
    fn bad_cassettes_are_typed_errors() {
        assert!(Cassette::from_json(&json!({})).is_err());
        assert!(
            Cassette::from_json(&json!({"chat_mock_cassette": 9, "interactions": []})).is_err()
        );
        let bad = json!({"chat_mock_cassette": 1, "interactions": [
            {"request": {"method": "POST", "uri": "/"}, "response": {"status": 99999}}
        ]});
        let e = Cassette::from_json(&bad).unwrap_err();
        assert!(
            e.to_string().contains("interactions[0].response.status"),
            "{e}"
        );
        let bad = json!({"chat_mock_cassette": 1, "interactions": [
            {"request": {"method": "POST", "uri": "/"},
             "response": {"status": 200, "chunks": [{"hex": "zz"}]}}
        ]});
        assert!(Cassette::from_json(&bad).is_err());
    }
}
