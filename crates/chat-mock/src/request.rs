//! What the app sent: [`RecordedRequest`], with secrets redacted.

use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use chat_core::types::CreateChatCompletionRequest;
use http::{HeaderMap, HeaderValue, Method, Uri};
use serde_json::Value;

/// The value that replaces secret header values in recordings and `Debug` output.
pub const REDACTED: &str = "[redacted]";

/// One request the app sent through a mock, kept for assertions.
///
/// Cheap to clone. Headers that carry secrets (any header whose name contains `auth`, `key`,
/// `token`, `secret`, `password`, `credential`, `signature` or `cookie`, such as
/// `authorization` and `api-key`) read as `"[redacted]"`, in `Debug` output too; use
/// [`header_matches`](Self::header_matches) to check their real value without exposing it.
#[derive(Clone)]
pub struct RecordedRequest {
    inner: Arc<Inner>,
}

struct Inner {
    index: usize,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw_headers: HeaderMap,
    body: Bytes,
    json: Option<Value>,
    typed: OnceLock<Result<CreateChatCompletionRequest, String>>,
}

impl RecordedRequest {
    pub(crate) fn new(index: usize, request: &http::Request<Bytes>) -> Self {
        let body = request.body().clone();
        let json = serde_json::from_slice(&body).ok();
        RecordedRequest {
            inner: Arc::new(Inner {
                index,
                method: request.method().clone(),
                uri: request.uri().clone(),
                headers: redact_headers(request.headers()),
                raw_headers: request.headers().clone(),
                body,
                json,
                typed: OnceLock::new(),
            }),
        }
    }

    /// The position of this request among all requests the mock received, from 0.
    pub fn index(&self) -> usize {
        self.inner.index
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.inner.method
    }

    /// The request URI as the mock received it.
    ///
    /// From a client on [`MockTransport`](crate::MockTransport), the full URI, such as
    /// `https://api.openai.com/v1/chat/completions`. Through `MockServer` (feature `server`),
    /// only what an HTTP/1.1 request line carries: the path and query, such as
    /// `/v1/chat/completions`. [`path`](Self::path) is the same either way.
    ///
    /// Unlike `Debug` output, this is not redacted: a secret query parameter or user
    /// password in the URI is returned as sent.
    pub fn uri(&self) -> &Uri {
        &self.inner.uri
    }

    /// The path of the URI, such as `/v1/chat/completions`.
    pub fn path(&self) -> &str {
        self.inner.uri.path()
    }

    /// The headers, with secret values replaced by `"[redacted]"`.
    pub fn headers(&self) -> &HeaderMap {
        &self.inner.headers
    }

    /// One header as text (secret values read as `"[redacted]"`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner.headers.get(name)?.to_str().ok()
    }

    /// Whether the real (unredacted) value of header `name` equals `value`.
    pub fn header_matches(&self, name: &str, value: &str) -> bool {
        self.inner
            .raw_headers
            .get_all(name)
            .iter()
            .any(|v| v.as_bytes() == value.as_bytes())
    }

    /// The body bytes exactly as sent.
    pub fn body(&self) -> &Bytes {
        &self.inner.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.inner.body).into_owned()
    }

    /// The body parsed as JSON, or `None` if it is not JSON.
    pub fn json(&self) -> Option<&Value> {
        self.inner.json.as_ref()
    }

    /// The value at a JSON pointer (such as `/messages/0/content`) in the body.
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        self.json()?.pointer(pointer)
    }

    /// The body parsed as a typed chat completion request (parsed on first use, then kept).
    pub fn try_chat_request(&self) -> Result<&CreateChatCompletionRequest, &str> {
        self.inner
            .typed
            .get_or_init(|| serde_json::from_slice(&self.inner.body).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| e.as_str())
    }

    /// The body as a typed chat completion request.
    ///
    /// # Panics
    ///
    /// If the body is not a valid chat completion request (this is a test assertion).
    #[track_caller]
    pub fn chat_request(&self) -> &CreateChatCompletionRequest {
        match self.try_chat_request() {
            Ok(r) => r,
            Err(e) => panic!(
                "request #{} is not a chat completion request: {e}\n  body: {}",
                self.index(),
                snippet(&self.body_text(), 300)
            ),
        }
    }

    /// The `model` field of the body.
    pub fn model(&self) -> Option<&str> {
        self.pointer("/model")?.as_str()
    }

    /// Whether the body asks for a streamed answer (`"stream": true`).
    pub fn is_stream(&self) -> bool {
        self.pointer("/stream").and_then(Value::as_bool) == Some(true)
    }

    /// The text of every message of the body, in order, as `(role, text)`.
    ///
    /// The text of a message whose content is an array of parts is the text of its text parts,
    /// joined with newlines.
    pub fn message_texts(&self) -> Vec<(String, String)> {
        let Some(messages) = self.pointer("/messages").and_then(Value::as_array) else {
            return Vec::new();
        };
        messages
            .iter()
            .map(|m| {
                let role = m.get("role").and_then(Value::as_str).unwrap_or("");
                (role.to_owned(), content_text(m.get("content")))
            })
            .collect()
    }

    /// The last message of the body, as JSON.
    pub fn last_message(&self) -> Option<&Value> {
        self.pointer("/messages")?.as_array()?.last()
    }

    /// The role of the last message (`tool` when the app sends a tool's result back).
    pub fn last_message_role(&self) -> Option<&str> {
        self.last_message()?.get("role")?.as_str()
    }

    /// The names of the tools the request offers (`tools[].function.name`, or `.custom.name`).
    pub fn tool_names(&self) -> Vec<&str> {
        let Some(tools) = self.pointer("/tools").and_then(Value::as_array) else {
            return Vec::new();
        };
        tools
            .iter()
            .filter_map(|t| {
                t.pointer("/function/name")
                    .or_else(|| t.pointer("/custom/name"))
                    .and_then(Value::as_str)
            })
            .collect()
    }

    /// The tool results the request sends back, in order, as `(tool_call_id, text)`.
    pub fn tool_results(&self) -> Vec<(String, String)> {
        let Some(messages) = self.pointer("/messages").and_then(Value::as_array) else {
            return Vec::new();
        };
        messages
            .iter()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("tool"))
            .map(|m| {
                let id = m.get("tool_call_id").and_then(Value::as_str).unwrap_or("");
                (id.to_owned(), content_text(m.get("content")))
            })
            .collect()
    }

    /// The text of the last message with role `user`.
    pub fn last_user_message(&self) -> Option<String> {
        self.message_texts()
            .into_iter()
            .rev()
            .find(|(role, _)| role == "user")
            .map(|(_, text)| text)
    }

    /// Panics unless the body contains `expected`: every field of it, recursively, with an
    /// equal value (arrays must match item by item; numbers compare by value).
    #[track_caller]
    pub fn assert_json(&self, expected: &Value) {
        self.assert_json_with(expected, crate::json::Strictness::Subset);
    }

    /// Panics unless the body equals `expected` (no extra fields; numbers compare by value).
    #[track_caller]
    pub fn assert_json_exact(&self, expected: &Value) {
        self.assert_json_with(expected, crate::json::Strictness::Exact);
    }

    #[track_caller]
    fn assert_json_with(&self, expected: &Value, strictness: crate::json::Strictness) {
        let Some(actual) = self.json() else {
            panic!(
                "chat-mock: the body of request #{} is not JSON: {}",
                self.index(),
                snippet(&self.body_text(), 300)
            );
        };
        let diffs = crate::json::differences(expected, actual, strictness, 20);
        if !diffs.is_empty() {
            let how = match strictness {
                crate::json::Strictness::Subset => "does not contain",
                crate::json::Strictness::Exact => "does not equal",
            };
            panic!(
                "chat-mock: the body of request #{} {how} the expected JSON:\n  {}\n  body: {}",
                self.index(),
                diffs.join("\n  "),
                snippet(&self.body_text(), 500)
            );
        }
    }

    /// A one-line description: method and path, then for a chat request its model, whether
    /// it streams, the number of messages and the last one; else the start of the body.
    pub fn summary(&self) -> String {
        // A chat request: what tells requests apart (a body prefix would show only the
        // system prompt).
        if let Some(messages) = self.pointer("/messages").and_then(Value::as_array) {
            let mut s = format!("{} {}", self.method(), self.path());
            if let Some(model) = self.model() {
                s.push_str(&format!(" model {model:?},"));
            }
            if self.is_stream() {
                s.push_str(" streaming,");
            }
            s.push_str(&format!(" {} message(s)", messages.len()));
            if let Some(last) = messages.last() {
                let role = last.get("role").and_then(Value::as_str).unwrap_or("?");
                let text = content_text(last.get("content"));
                s.push_str(&format!(", last {role}: {:?}", snippet(&text, 120)));
            }
            return s;
        }
        let body = self.body_text();
        if body.is_empty() {
            format!("{} {}", self.method(), self.path())
        } else {
            format!("{} {} {}", self.method(), self.path(), snippet(&body, 200))
        }
    }
}

fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| match p {
                Value::String(s) => Some(s.as_str()),
                _ => p.get("text").and_then(Value::as_str),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("index", &self.inner.index)
            .field("method", &self.inner.method)
            .field("uri", &redact_uri(&self.inner.uri))
            .field("headers", &self.inner.headers)
            .field("body", &snippet(&self.body_text(), 200))
            .finish()
    }
}

/// Whether a header (or query parameter) of this name carries a secret and must not be shown
/// (the client's own rule, [`chat_core::is_secret_name`]).
pub(crate) fn is_secret_header(name: &str) -> bool {
    chat_core::is_secret_name(name)
}

/// A copy of `headers` with secret values replaced.
pub(crate) fn redact_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if is_secret_header(name.as_str()) {
            out.append(name.clone(), HeaderValue::from_static(REDACTED));
        } else {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// The URI as text with the user information (`user:password@`) and secret query parameters
/// (named like a key or token) replaced, as the client's [`chat_core::redact_url`] does.
pub(crate) fn redact_uri(uri: &Uri) -> String {
    chat_core::redact_url(&uri.to_string()).into_owned()
}

/// The start of `s`, at most `max` bytes (cut at a character boundary), marked when cut.
pub(crate) fn snippet(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_but_can_be_checked() {
        let req = http::Request::builder()
            .method("POST")
            .uri("https://x.test/v1/chat/completions?api_key=sk-1&a=b")
            .header("authorization", "Bearer sk-secret")
            .header("api-key", "sk-azure")
            .header("x-goog-api-key", "k")
            .header("x-auth-token", "t")
            .header("content-type", "application/json")
            .body(Bytes::from_static(
                br#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}"#,
            ))
            .unwrap();
        let r = RecordedRequest::new(0, &req);
        assert_eq!(
            redact_uri(r.uri()),
            "https://x.test/v1/chat/completions?api_key=[redacted]&a=b"
        );
        assert_eq!(r.header("authorization"), Some(REDACTED));
        assert_eq!(r.header("api-key"), Some(REDACTED));
        assert_eq!(r.header("x-goog-api-key"), Some(REDACTED));
        assert_eq!(r.header("x-auth-token"), Some(REDACTED));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(r.header_matches("authorization", "Bearer sk-secret"));
        let debug = format!("{r:?}");
        assert!(!debug.contains("sk-"), "{debug}");
        assert_eq!(r.last_user_message().as_deref(), Some("hi"));
        assert_eq!(r.model(), Some("m"));
    }

    #[test]
    fn secret_names_cover_common_credentials_but_not_ordinary_headers() {
        for name in [
            "Authorization",
            "proxy-authorization",
            "x-api-key",
            "ocp-apim-subscription-key",
            "x-amz-security-token",
            "x-client-secret",
            "x-password",
            "x-goog-credentials",
            "x-signature",
            "set-cookie",
            "sig",
        ] {
            assert!(is_secret_header(name), "{name}");
        }
        for name in [
            "content-type",
            "openai-organization",
            "openai-project",
            "x-request-id",
            "user-agent",
            "api-version",
            "signal",
        ] {
            assert!(!is_secret_header(name), "{name}");
        }
    }

    #[test]
    fn uris_lose_user_passwords_and_secret_query_values() {
        let uri: Uri =
            "https://bob:hunter2@proxy.test:8443/v1/chat/completions?sig=abc&api-version=1&Token=t"
                .parse()
                .unwrap();
        assert_eq!(
            redact_uri(&uri),
            "https://[redacted]@proxy.test:8443/v1/chat/completions\
             ?sig=[redacted]&api-version=1&Token=[redacted]"
        );
        let uri: Uri = "/v1/chat/completions".parse().unwrap();
        assert_eq!(redact_uri(&uri), "/v1/chat/completions");
    }
}
