//! The one error type of the client.

use std::fmt;
use std::time::Duration;

use chat_types::ApiErrorObject;
use http::{HeaderMap, StatusCode};

use crate::TransportError;

/// The most of an error body (or of an error event's data) that is read and kept.
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;
/// How many bytes of a body or an event an error quotes.
pub(crate) const SNIPPET_BYTES: usize = 256;

/// Result with the client's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error of a client operation.
///
/// Inspect it with [`kind`](Error::kind), or with the shortcuts [`status`](Error::status),
/// [`request_id`](Error::request_id), [`is_retryable`](Error::is_retryable) and the class
/// predicates. Nothing in it ever contains the API key.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    attempts: u32,
    /// The `x-request-id` of the response a transport error or timeout cut short (the other
    /// kinds carry their own).
    request_id: Option<String>,
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server answered with an error: a non-2xx status, or an error event in a stream.
    Api(ApiError),
    /// The request could not be sent or the response not read.
    Transport(TransportError),
    /// A deadline passed.
    Timeout(Timeout),
    /// The response body is not what the API documents.
    Decode(DecodeError),
    /// The event stream broke: truncated, malformed or oversized.
    Stream(StreamError),
    /// The configuration or the request is invalid (for example a header value), or the
    /// client was used in a way that cannot work (such as asking a stream for its whole
    /// response after reading chunks from it).
    InvalidConfig(String),
}

/// An error answer of the API.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status (200 for an error event inside a stream).
    pub status: StatusCode,
    /// The parsed `{"error": {...}}` object, when the body had one.
    pub error: Option<ApiErrorObject>,
    /// The body text as received (for example the HTML of a proxy's 502 page), capped in size.
    pub body: String,
    /// The `x-request-id` header.
    pub request_id: Option<String>,
    /// The response headers.
    pub headers: HeaderMap,
    /// Whether the error arrived as an event inside an event stream.
    pub in_stream: bool,
}

/// Which deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// The per-attempt request timeout (until the response head, or the whole body when not
    /// streaming).
    Request,
    /// No stream chunk arrived within the idle timeout.
    Idle,
    /// The overall deadline across all attempts.
    Deadline,
    /// The whole-stream deadline ([`Config::stream_deadline`](crate::Config::stream_deadline)):
    /// the stream was still open (even if busy with chunks or keep-alive comments).
    StreamDeadline,
}

/// A timeout.
#[derive(Debug, Clone)]
pub struct Timeout {
    /// Which deadline passed.
    pub kind: TimeoutKind,
    /// The configured duration.
    pub after: Duration,
}

/// A response body that could not be decoded.
#[derive(Debug, Clone)]
pub struct DecodeError {
    /// What the decoder said.
    pub message: String,
    /// The JSON path where decoding failed (such as `choices[0].message`), when known.
    pub path: Option<String>,
    /// The start of the body, for diagnosis.
    pub snippet: String,
    /// The HTTP status of the response.
    pub status: Option<StatusCode>,
    /// The `x-request-id` header.
    pub request_id: Option<String>,
    /// The `Content-Encoding` (such as `gzip`) of a body that nothing decoded, when that is
    /// why it could not be read. A transport that decodes a body removes the header, so the
    /// client sees it only for bodies still encoded; `identity` counts as none.
    pub content_encoding: Option<String>,
}

/// A broken event stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StreamError {
    /// The body ended before `[DONE]` while a choice had no `finish_reason`.
    Truncated {
        /// The `x-request-id` header.
        request_id: Option<String>,
    },
    /// An event's data is not a valid chunk.
    Malformed {
        /// What the decoder said.
        message: String,
        /// The start of the event data.
        snippet: String,
        /// The `x-request-id` header.
        request_id: Option<String>,
    },
    /// The body ended before a single chunk or `[DONE]`: it was empty or held no `data:`
    /// events (comments and keep-alives only, or not an event stream at all).
    Empty {
        /// The `x-request-id` header.
        request_id: Option<String>,
    },
    /// An event exceeded the configured maximum size.
    EventTooLarge {
        /// The limit in bytes.
        limit: usize,
        /// The `x-request-id` header.
        request_id: Option<String>,
    },
}

impl Error {
    /// An error of `kind`, after one attempt.
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                attempts: 1,
                request_id: None,
            }),
        }
    }

    /// Records how many attempts were made.
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts;
        self
    }

    /// Records the `x-request-id` of the response this error cut short, unless the error
    /// already has one.
    pub(crate) fn with_request_id(mut self, request_id: Option<&str>) -> Self {
        if self.request_id().is_none() {
            self.inner.request_id = request_id.map(str::to_owned);
        }
        self
    }

    /// An invalid-configuration error.
    pub fn invalid_config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidConfig(message.into()))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// What went wrong, by value.
    pub fn into_kind(self) -> ErrorKind {
        self.inner.kind
    }

    /// How many attempts were made (1 when the request was not retried).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// The API error, if this is one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match &self.inner.kind {
            ErrorKind::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status of an API or decode error; `None` for an error event inside a stream
    /// (its response was a 200, kept in [`ApiError::status`]).
    pub fn status(&self) -> Option<StatusCode> {
        match &self.inner.kind {
            ErrorKind::Api(e) if e.in_stream => None,
            ErrorKind::Api(e) => Some(e.status),
            ErrorKind::Decode(e) => e.status,
            _ => None,
        }
    }

    /// The `x-request-id` of the response, when one arrived: also for a stream or body that
    /// broke off (transport error, timeout) after the response head.
    pub fn request_id(&self) -> Option<&str> {
        match &self.inner.kind {
            ErrorKind::Api(e) => e.request_id.as_deref(),
            ErrorKind::Decode(e) => e.request_id.as_deref(),
            ErrorKind::Stream(
                StreamError::Truncated { request_id }
                | StreamError::Empty { request_id }
                | StreamError::Malformed { request_id, .. }
                | StreamError::EventTooLarge { request_id, .. },
            ) => request_id.as_deref(),
            _ => self.inner.request_id.as_deref(),
        }
    }

    /// The error `code` of an API error (`rate_limit_exceeded`, `insufficient_quota`, ...).
    pub fn code(&self) -> Option<String> {
        self.api_error()?
            .error
            .as_ref()?
            .code
            .as_ref()
            .map(|c| c.as_string())
    }

    /// Whether a retry may succeed: transport errors (but not TLS or protocol errors),
    /// request timeouts, 408, 409, 429 (except `insufficient_quota`) and 5xx. The
    /// `x-should-retry` header overrides the status rules.
    pub fn is_retryable(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::Api(e) => e.is_retryable(),
            ErrorKind::Transport(t) => !matches!(
                t.kind(),
                crate::TransportErrorKind::Tls | crate::TransportErrorKind::Protocol
            ),
            ErrorKind::Timeout(t) => t.kind == TimeoutKind::Request,
            _ => false,
        }
    }

    /// Whether the server rate limited the request (429).
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// Whether the credentials were rejected (401 or 403).
    pub fn is_auth(&self) -> bool {
        matches!(
            self.status(),
            Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        )
    }

    /// Whether the resource or model was not found (404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether the server failed (5xx).
    pub fn is_server_error(&self) -> bool {
        self.status().is_some_and(|s| s.is_server_error())
    }

    /// Whether a deadline passed (the client's or the transport's).
    pub fn is_timeout(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::Timeout(_) => true,
            ErrorKind::Transport(t) => t.kind() == crate::TransportErrorKind::Timeout,
            _ => false,
        }
    }
}

impl ApiError {
    /// An API error from a non-2xx response: parses the body leniently (the `{"error": {...}}`
    /// of the spec, `{"error": "text"}`, a bare error object, FastAPI's `{"detail": ...}`, or
    /// an array of those) and keeps the text (at most 64 KiB) for bodies that are not JSON,
    /// such as a proxy's HTML 502 page.
    pub fn from_response(status: StatusCode, headers: HeaderMap, body: &[u8]) -> Self {
        ApiError {
            status,
            error: parse_error_body(body),
            body: text_prefix(body, MAX_ERROR_BODY),
            request_id: crate::meta::request_id(&headers),
            headers,
            in_stream: false,
        }
    }

    /// The `x-ratelimit-*` headers of the response.
    pub fn rate_limit(&self) -> crate::RateLimitInfo {
        crate::RateLimitInfo::from_headers(&self.headers)
    }

    /// The wait the server asked for in `retry-after-ms` or `retry-after`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        crate::retry::server_retry_after(&self.headers, std::time::SystemTime::now())
    }

    /// The message of the parsed error (empty if the server sent an empty one), or the body
    /// text when it held no error object.
    pub fn message(&self) -> &str {
        match &self.error {
            Some(e) => e.message.trim(),
            None => self.body.trim(),
        }
    }

    /// The retry rule of the official SDKs applied to this answer.
    pub fn is_retryable(&self) -> bool {
        if self.in_stream {
            return false;
        }
        match self.headers.get("x-should-retry").map(|v| v.as_bytes()) {
            Some(b"true") => return true,
            Some(b"false") => return false,
            _ => {}
        }
        let insufficient_quota = self.error.as_ref().is_some_and(|e| {
            e.code.as_ref().is_some_and(|c| c.is("insufficient_quota"))
                || e.r#type.as_deref() == Some("insufficient_quota")
        });
        match self.status.as_u16() {
            429 => !insufficient_quota,
            408 | 409 => true,
            s => s >= 500,
        }
    }
}

/// Finds an error object in a JSON error body, tolerating the shapes compatible servers use:
/// `{"error": {...}}`, `{"error": "text"}`, a bare error object with a `message`, FastAPI's
/// `{"detail": ...}`, an array of those, or a JSON string. Used for HTTP error bodies and for
/// the data of error events in a stream.
pub(crate) fn parse_error_body(body: &[u8]) -> Option<ApiErrorObject> {
    match crate::json::from_slice(body).ok()? {
        serde_json::Value::String(message) => Some(message_only(message)),
        value => error_from_value(value, 0),
    }
}

/// Reads the value of an `"error"` member: an error object, or a message of another type.
pub(crate) fn error_member(value: serde_json::Value) -> Option<ApiErrorObject> {
    use serde_json::Value;
    match value {
        Value::String(message) => Some(message_only(message)),
        inner @ Value::Object(_) => error_object(inner),
        Value::Null => None,
        other => Some(message_only(other.to_string())),
    }
}

fn message_only(message: String) -> ApiErrorObject {
    ApiErrorObject {
        message,
        ..ApiErrorObject::default()
    }
}

fn error_from_value(value: serde_json::Value, depth: u8) -> Option<ApiErrorObject> {
    use serde_json::Value;
    match value {
        Value::Array(items) if depth == 0 => items
            .into_iter()
            .next()
            .and_then(|v| error_from_value(v, depth + 1)),
        Value::Object(mut obj) => {
            if let Some(inner) = obj.remove("error") {
                return error_member(inner);
            }
            if obj.get("message").is_some_and(Value::is_string) {
                return error_object(Value::Object(obj));
            }
            match obj.remove("detail") {
                Some(Value::String(message)) => Some(message_only(message)),
                Some(other @ (Value::Array(_) | Value::Object(_))) => {
                    Some(message_only(other.to_string()))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Reads an error object; fields of unexpected types are kept in `extra` rather than failing.
fn error_object(value: serde_json::Value) -> Option<ApiErrorObject> {
    use serde::Deserialize;
    use serde_json::Value;
    if let Ok(e) = ApiErrorObject::deserialize(&value) {
        return Some(e);
    }
    let Value::Object(obj) = value else {
        return None;
    };
    let mut e = ApiErrorObject::default();
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("message", Value::String(m)) => e.message = m,
            ("type", Value::String(t)) => e.r#type = Some(t),
            ("param", Value::String(p)) => e.param = Some(p),
            ("code", Value::String(c)) => e.code = Some(chat_types::ErrorCode::String(c)),
            ("code", Value::Number(n)) => e.code = Some(chat_types::ErrorCode::Number(n)),
            (_, Value::Null) => {}
            (k, v) => {
                e.extra.insert(k.to_owned(), v);
            }
        }
    }
    Some(e)
}

/// Up to `max` bytes of `data` as text, cut at a character boundary.
pub(crate) fn text_prefix(data: &[u8], max: usize) -> String {
    let mut end = data.len().min(max);
    // Back up to the start of a character: continuation bytes are 0b10xx_xxxx.
    while end < data.len() && end > 0 && data[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    String::from_utf8_lossy(&data[..end]).into_owned()
}

/// `s` trimmed and cut to at most `max` bytes, at a character boundary.
fn snippet(s: &str, max: usize) -> &str {
    let s = s.trim();
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.in_stream {
            f.write_str("error event in stream")?;
        } else {
            write!(f, "api error {}", self.status)?;
        }
        let detail = self.error.as_ref().map(ToString::to_string);
        match detail {
            Some(d) if !d.is_empty() => write!(f, ": {d}")?,
            _ if !self.body.trim().is_empty() => write!(f, ": {}", snippet(&self.body, 200))?,
            _ => {}
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TimeoutKind::Request => "request timed out",
            TimeoutKind::Idle => "stream idle timeout",
            TimeoutKind::Deadline => "overall deadline passed",
            TimeoutKind::StreamDeadline => "stream deadline passed",
        };
        write!(f, "{what} after {:?}", self.after)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("failed to decode response")?;
        if let Some(p) = &self.path {
            write!(f, " at `{p}`")?;
        }
        write!(f, ": {}", self.message)?;
        if !self.snippet.is_empty() {
            write!(f, " (body starts: {:?})", snippet(&self.snippet, 120))?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = match self {
            StreamError::Truncated { request_id } => {
                f.write_str(
                    "stream ended before completion (no [DONE] and a choice without finish_reason)",
                )?;
                request_id
            }
            StreamError::Malformed {
                message,
                snippet: s,
                request_id,
            } => {
                write!(
                    f,
                    "malformed stream event: {message} (data starts: {:?})",
                    snippet(s, 120)
                )?;
                request_id
            }
            StreamError::Empty { request_id } => {
                f.write_str(
                    "stream ended without a single chunk (empty body or no `data:` events)",
                )?;
                request_id
            }
            StreamError::EventTooLarge { limit, request_id } => {
                write!(f, "stream event exceeds the limit of {limit} bytes")?;
                request_id
            }
        };
        if let Some(id) = id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Api(e) => e.fmt(f),
            ErrorKind::Transport(e) => e.fmt(f),
            ErrorKind::Timeout(e) => e.fmt(f),
            ErrorKind::Decode(e) => e.fmt(f),
            ErrorKind::Stream(e) => e.fmt(f),
            ErrorKind::InvalidConfig(m) => write!(f, "invalid configuration: {m}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.kind.fmt(f)?;
        if let Some(id) = &self.inner.request_id {
            write!(f, " [request id {id}]")?;
        }
        if self.inner.attempts > 1 {
            write!(f, " (after {} attempts)", self.inner.attempts)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("attempts", &self.inner.attempts)
            .field("request_id", &self.inner.request_id)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.kind {
            ErrorKind::Transport(e) => Some(e),
            _ => None,
        }
    }
}

impl std::error::Error for ApiError {}
impl std::error::Error for StreamError {}
impl std::error::Error for DecodeError {}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::new(ErrorKind::Transport(e))
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::new(ErrorKind::Api(e))
    }
}

impl From<StreamError> for Error {
    fn from(e: StreamError) -> Self {
        Error::new(ErrorKind::Stream(e))
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::new(ErrorKind::Decode(e))
    }
}

impl From<Timeout> for Error {
    fn from(e: Timeout) -> Self {
        Error::new(ErrorKind::Timeout(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_shapes() {
        let parsed = parse_error_body(br#"{"error":{"message":"m","code":"c"}}"#).unwrap();
        assert_eq!(parsed.message, "m");
        assert!(parsed.code.unwrap().is("c"));
        assert_eq!(
            parse_error_body(br#"{"error":"boom"}"#).unwrap().message,
            "boom"
        );
        assert_eq!(
            parse_error_body(br#"{"message":"bare","type":"server_error"}"#)
                .unwrap()
                .r#type
                .as_deref(),
            Some("server_error")
        );
        assert_eq!(parse_error_body(br#""text""#).unwrap().message, "text");
        assert_eq!(
            parse_error_body(br#"{"detail":"no"}"#).unwrap().message,
            "no"
        );
        assert_eq!(
            parse_error_body(br#"[{"error":"first"}]"#).unwrap().message,
            "first"
        );
        assert_eq!(parse_error_body(br#"{"error":42}"#).unwrap().message, "42");
        // A field of an unexpected type keeps the message.
        let odd = parse_error_body(br#"{"error":{"message":"m","param":7}}"#).unwrap();
        assert_eq!(
            (odd.message.as_str(), &odd.extra["param"]),
            ("m", &serde_json::json!(7))
        );
        for none in [
            &b"not json"[..],
            br#"{"other":1}"#,
            br#"{"error":null}"#,
            b"[[1]]",
        ] {
            assert!(parse_error_body(none).is_none(), "{none:?}");
        }
    }

    #[test]
    fn text_prefix_cuts_at_a_character_boundary() {
        assert_eq!(text_prefix("aé".as_bytes(), 2), "a");
        assert_eq!(text_prefix("aé".as_bytes(), 3), "aé");
        assert_eq!(text_prefix(b"abc", 10), "abc");
        assert_eq!(text_prefix("é".as_bytes(), 1), "");
    }
}
