//! What a rule answers with: [`MockResponse`] and its typed builders.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use chat_core::types::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls, ChatCompletionResponseMessage,
    CompletionUsage, CreateChatCompletionResponse, CreateChatCompletionResponseChoice,
    FinishReason, Role,
};
use chat_core::{Body, TransportError, TransportErrorKind};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use serde_json::{json, Value};

use crate::body::{body_from_steps, steps_for, Step};
use crate::{MockStream, RecordedRequest};

/// The `created` timestamp of mock completions (fixed, so answers are reproducible).
pub(crate) const CREATED: i64 = 1_700_000_000;

/// The media type of JSON answers.
pub(crate) const JSON: &str = "application/json";

/// Parses a status code given by a test script.
#[track_caller]
pub(crate) fn status(code: u16) -> StatusCode {
    match StatusCode::from_u16(code) {
        Ok(s) => s,
        Err(_) => panic!("chat-mock: {code} is not a valid HTTP status code"),
    }
}

/// Status, extra headers and delay shared by every response builder.
#[derive(Debug, Clone, Default)]
pub(crate) struct Head {
    pub(crate) status: Option<StatusCode>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) delay: Option<Duration>,
}

impl Head {
    #[track_caller]
    pub(crate) fn set_header(&mut self, name: &str, value: &str) {
        let Ok(n) = HeaderName::from_bytes(name.as_bytes()) else {
            panic!("chat-mock: {name:?} is not a valid header name");
        };
        let Ok(v) = HeaderValue::from_str(value) else {
            panic!("chat-mock: {value:?} is not a valid value for header {name}");
        };
        self.headers.push((n, v));
    }

    /// The response with this head: `status` unless overridden, the content type, an
    /// `x-request-id` naming the request, then the extra headers (which replace defaults).
    pub(crate) fn response(
        &self,
        status: StatusCode,
        content_type: Option<&'static str>,
        request: &RecordedRequest,
        body: Body,
    ) -> http::Response<Body> {
        let mut resp = http::Response::new(body);
        *resp.status_mut() = self.status.unwrap_or(status);
        let h = resp.headers_mut();
        if let Some(ct) = content_type {
            h.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        if let Ok(id) = HeaderValue::from_str(&format!("req_mock_{}", request.index())) {
            h.insert("x-request-id", id);
        }
        for (name, _) in &self.headers {
            h.remove(name);
        }
        for (name, value) in &self.headers {
            h.append(name.clone(), value.clone());
        }
        resp
    }
}

macro_rules! head_methods {
    () => {
        /// Adds a response header; it replaces a default header of the same name.
        ///
        /// # Panics
        ///
        /// If the name or value is not valid in HTTP.
        #[track_caller]
        pub fn header(mut self, name: &str, value: &str) -> Self {
            self.head.set_header(name, value);
            self
        }

        /// Sets the `x-request-id` header (by default `req_mock_<n>`, where `n` counts the
        /// mock's requests from 0).
        #[track_caller]
        pub fn request_id(self, id: &str) -> Self {
            self.header("x-request-id", id)
        }

        /// Waits this long before the response head, on the tokio clock (a paused clock skips
        /// it at once).
        pub fn delay(mut self, delay: std::time::Duration) -> Self {
            self.head.delay = Some(delay);
            self
        }
    };
}

/// A scripted answer: a completion, a stream, an API error, raw bytes, or a transport fault.
///
/// Build one with the constructors here, which return typed builders ([`MockCompletion`],
/// [`MockStream`], [`MockApiError`], [`MockRaw`]) that convert into a `MockResponse`.
///
/// A completion given to a request with `"stream": true` is served as an event stream with
/// the same text, refusal, function tool calls, finish reasons, usage and content log
/// probabilities (one token per chunk), so one script serves both kinds of calls (custom tool
/// calls, annotations and audio are not streamed; script a [`MockStream`] or
/// [`MockResponse::sse`] for those).
#[derive(Debug, Clone)]
pub struct MockResponse {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Completion(Box<MockCompletion>),
    Stream(Box<MockStream>),
    Error(MockApiError),
    Raw(MockRaw),
    Fail {
        kind: TransportErrorKind,
        message: String,
        delay: Option<Duration>,
    },
    Hang,
    Demo(Head),
}

/// What rendering a [`MockResponse`] for a request gives.
pub(crate) enum Outcome {
    /// A response or a transport error, after an optional delay.
    Ready(
        Option<Duration>,
        Result<http::Response<Body>, TransportError>,
    ),
    /// No answer, ever.
    Hang,
}

impl MockResponse {
    /// A completion whose first choice says `text`.
    pub fn text(text: impl Into<String>) -> MockCompletion {
        MockCompletion::text(text)
    }

    /// A completion whose first choice calls function `name` with `arguments`.
    ///
    /// A JSON string is sent as the arguments text as is (so it can be invalid JSON on
    /// purpose); any other value is serialized.
    pub fn tool_call(name: &str, arguments: Value) -> MockCompletion {
        MockCompletion::tool_call(name, arguments)
    }

    /// A completion whose first choice is a refusal.
    pub fn refusal(text: impl Into<String>) -> MockCompletion {
        MockCompletion::refusal(text)
    }

    /// A completion given as a typed response; empty `id`, `model`, `object` and `created`
    /// are filled in.
    pub fn completion(response: CreateChatCompletionResponse) -> MockCompletion {
        MockCompletion::from_response(response)
    }

    /// An event stream.
    pub fn stream(stream: MockStream) -> MockResponse {
        stream.into()
    }

    /// An API error with `status` and a typical error body for it.
    #[track_caller]
    pub fn error(status: u16) -> MockApiError {
        MockApiError::new(status)
    }

    /// Any status, headers and body bytes.
    #[track_caller]
    pub fn raw(status: u16) -> MockRaw {
        MockRaw::new(status)
    }

    /// A JSON body with `status`.
    #[track_caller]
    pub fn json(status: u16, body: Value) -> MockRaw {
        MockRaw::new(status).json(&body)
    }

    /// A `200` event stream of exactly these body chunks (each delivered as one chunk).
    pub fn sse<I, B>(chunks: I) -> MockRaw
    where
        I: IntoIterator<Item = B>,
        B: Into<Bytes>,
    {
        MockRaw::new(200)
            .content_type(crate::stream::EVENT_STREAM)
            .chunks(chunks)
    }

    /// A `200` JSON answer whose body is cut off in the middle (invalid JSON).
    pub fn malformed_json() -> MockRaw {
        MockRaw::new(200)
            .content_type(JSON)
            .body(r#"{"id":"chatcmpl-mock","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"cut of"#)
    }

    /// An HTML error page with `status`, as a proxy or load balancer sends.
    #[track_caller]
    pub fn html_error(status: u16) -> MockRaw {
        let s = crate::response::status(status);
        let title = format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or("Error"));
        MockRaw::new(status).content_type("text/html").body(format!(
            "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\
             <body><h1>{title}</h1><p>The upstream server did not answer (chat-mock).</p>\
             </body></html>\n"
        ))
    }

    /// The connection is refused: a [`TransportErrorKind::Connect`] error.
    pub fn connect_refused() -> MockResponse {
        MockResponse::transport_error(
            TransportErrorKind::Connect,
            "connection refused (chat-mock)",
        )
    }

    /// The connection drops before the response head: a [`TransportErrorKind::Io`] error.
    pub fn disconnect() -> MockResponse {
        MockResponse::transport_error(
            TransportErrorKind::Io,
            "connection closed before the response (chat-mock)",
        )
    }

    /// A transport error of `kind` with `message`.
    pub fn transport_error(kind: TransportErrorKind, message: &str) -> MockResponse {
        MockResponse {
            kind: Kind::Fail {
                kind,
                message: message.to_owned(),
                delay: None,
            },
        }
    }

    /// No answer ever comes, so the client's timeout decides; with a paused tokio clock the
    /// timeout fires at once.
    pub fn hang() -> MockResponse {
        MockResponse { kind: Kind::Hang }
    }

    /// A demo answer computed from each request, so any app gets a plausible, valid answer
    /// without a script.
    ///
    /// It honours what the request asks for: `n` choices; `logprobs` and `top_logprobs`
    /// (one entry per token, the token itself the most likely, `bytes` its UTF-8);
    /// `max_completion_tokens` (or the older `max_tokens`), which cuts the text and finishes
    /// with `length`; `stop` sequences; `response_format` `json_object` (a JSON object) and
    /// `json_schema` (JSON that validates against the schema, generated deterministically
    /// from the request); function `tools` with `tool_choice` `auto` / `required` (every
    /// tool called in parallel, or the first one when `parallel_tool_calls` is false), a
    /// named function, or `none`, with arguments that validate against each tool's
    /// parameters; and streaming (text one word per chunk, or one token per chunk with its
    /// log probabilities when `logprobs` is set; usage when `stream_options.include_usage` is
    /// set). When the last message is a tool result it answers with text, so tool loops end.
    /// A text answer reads `chat-mock demo answer to: <last user message>`. Usage counts
    /// whitespace-separated words as tokens.
    ///
    /// ```
    /// use chat_mock::{Match, MockResponse, MockTransport};
    ///
    /// let mock = MockTransport::new();
    /// mock.on(Match::chat()).respond(MockResponse::demo()).always();
    /// # mock.check_on_drop(false);
    /// ```
    pub fn demo() -> MockResponse {
        MockResponse {
            kind: Kind::Demo(Head::default()),
        }
    }

    /// Waits this long before answering, on the tokio clock.
    pub fn delay(mut self, delay: Duration) -> MockResponse {
        match &mut self.kind {
            Kind::Completion(c) => c.head.delay = Some(delay),
            Kind::Stream(s) => s.head.delay = Some(delay),
            Kind::Error(e) => e.head.delay = Some(delay),
            Kind::Raw(r) => r.head.delay = Some(delay),
            Kind::Fail { delay: d, .. } => *d = Some(delay),
            Kind::Demo(h) => h.delay = Some(delay),
            Kind::Hang => {}
        }
        self
    }

    /// A short description for error messages.
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            Kind::Completion(_) => "completion".into(),
            Kind::Stream(_) => "stream".into(),
            Kind::Error(e) => format!("error {}", e.status.as_u16()),
            Kind::Raw(r) => format!("raw {}", r.status.as_u16()),
            Kind::Fail { kind, .. } => format!("transport error ({kind:?})"),
            Kind::Hang => "no answer".into(),
            Kind::Demo(_) => "demo answer".into(),
        }
    }

    /// This answer as given to `request`: a demo answer becomes the completion it computes
    /// for it, so storing and rendering it compute it once.
    pub(crate) fn for_request(&self, request: &RecordedRequest) -> Cow<'_, MockResponse> {
        match &self.kind {
            Kind::Demo(head) => Cow::Owned(MockResponse {
                kind: Kind::Completion(Box::new(MockCompletion {
                    head: head.clone(),
                    template: crate::demo::completion(request),
                    stream_words: true,
                })),
            }),
            _ => Cow::Borrowed(self),
        }
    }

    /// The completion this answer serves to `request`, for completions and demo answers
    /// (what `store: true` keeps).
    pub(crate) fn completion_for(
        &self,
        request: &RecordedRequest,
    ) -> Option<CreateChatCompletionResponse> {
        match &self.for_request(request).kind {
            Kind::Completion(c) => Some(c.resolve(request)),
            _ => None,
        }
    }

    /// Whether the answer is given byte for byte (raw answers and faults), so the mock adds
    /// none of the headers a real server sends.
    pub(crate) fn is_exact(&self) -> bool {
        matches!(self.kind, Kind::Raw(_) | Kind::Fail { .. } | Kind::Hang)
    }

    pub(crate) fn render(&self, request: &RecordedRequest) -> Outcome {
        match &self.kind {
            Kind::Completion(c) => Outcome::Ready(c.head.delay, Ok(c.render(request))),
            Kind::Stream(s) => Outcome::Ready(s.head.delay, Ok(s.render(request))),
            Kind::Error(e) => Outcome::Ready(e.head.delay, Ok(e.render(request))),
            Kind::Raw(r) => Outcome::Ready(r.head.delay, Ok(r.render(request))),
            Kind::Fail {
                kind,
                message,
                delay,
            } => Outcome::Ready(*delay, Err(TransportError::new(*kind, message.clone()))),
            Kind::Hang => Outcome::Hang,
            Kind::Demo(_) => self.for_request(request).render(request),
        }
    }
}

impl From<MockCompletion> for MockResponse {
    fn from(c: MockCompletion) -> Self {
        MockResponse {
            kind: Kind::Completion(Box::new(c)),
        }
    }
}

impl From<MockStream> for MockResponse {
    fn from(s: MockStream) -> Self {
        MockResponse {
            kind: Kind::Stream(Box::new(s)),
        }
    }
}

impl From<MockApiError> for MockResponse {
    fn from(e: MockApiError) -> Self {
        MockResponse {
            kind: Kind::Error(e),
        }
    }
}

impl From<MockRaw> for MockResponse {
    fn from(r: MockRaw) -> Self {
        MockResponse { kind: Kind::Raw(r) }
    }
}

impl From<CreateChatCompletionResponse> for MockResponse {
    fn from(r: CreateChatCompletionResponse) -> Self {
        MockCompletion::from_response(r).into()
    }
}

/// A chat completion answer (`200`, `application/json`), built from typed parts.
///
/// ```
/// use chat_mock::MockCompletion;
/// use serde_json::json;
///
/// let answer = MockCompletion::tool_call("get_weather", json!({"city": "Paris"}))
///     .and_tool_call("get_time", json!({"tz": "CET"}))
///     .usage(12, 8)
///     .model("gpt-4o-mini");
/// # let _ = answer;
/// ```
#[derive(Debug, Clone)]
pub struct MockCompletion {
    pub(crate) head: Head,
    template: CreateChatCompletionResponse,
    /// Streams text one word per chunk instead of whole.
    stream_words: bool,
}

impl MockCompletion {
    fn with_message(message: ChatCompletionResponseMessage, finish: FinishReason) -> Self {
        let choice = CreateChatCompletionResponseChoice {
            finish_reason: Some(finish),
            index: 0,
            message,
            ..Default::default()
        };
        MockCompletion {
            head: Head::default(),
            template: CreateChatCompletionResponse {
                choices: vec![choice],
                ..Default::default()
            },
            stream_words: false,
        }
    }

    /// One choice that says `text`, finished with `stop`.
    pub fn text(text: impl Into<String>) -> Self {
        Self::with_message(
            ChatCompletionResponseMessage {
                content: Some(text.into()),
                role: Role::Assistant,
                ..Default::default()
            },
            FinishReason::Stop,
        )
    }

    /// One text choice per item (as with `n` greater than 1).
    pub fn texts<I, S>(texts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut out: Option<MockCompletion> = None;
        for t in texts {
            out = Some(match out {
                None => Self::text(t),
                Some(o) => o.with_choice(Self::text(t)),
            });
        }
        out.unwrap_or_else(|| MockCompletion {
            head: Head::default(),
            template: CreateChatCompletionResponse::default(),
            stream_words: false,
        })
    }

    /// One choice that calls function `name` with `arguments`, finished with `tool_calls`.
    ///
    /// A JSON string is sent as the arguments text as is; any other value is serialized.
    pub fn tool_call(name: &str, arguments: Value) -> Self {
        Self::with_message(
            ChatCompletionResponseMessage {
                role: Role::Assistant,
                tool_calls: Some(Vec::new()),
                ..Default::default()
            },
            FinishReason::ToolCalls,
        )
        .and_tool_call(name, arguments)
    }

    /// Adds a function call to the last choice (ids are `call_mock_0`, `call_mock_1`, ...).
    pub fn and_tool_call(mut self, name: &str, arguments: Value) -> Self {
        let args = match arguments {
            Value::String(s) => s,
            other => other.to_string(),
        };
        if let Some(choice) = self.template.choices.last_mut() {
            let calls = choice.message.tool_calls.get_or_insert_with(Vec::new);
            let id = format!("call_mock_{}", calls.len());
            calls.push(ChatCompletionMessageToolCalls::Function(
                ChatCompletionMessageToolCall::new(id, name, args),
            ));
            choice.finish_reason = Some(FinishReason::ToolCalls);
        }
        self
    }

    /// Sets the id of the last tool call added (by default `call_mock_<n>`, numbered within
    /// the choice), for conversations where ids must differ from turn to turn.
    pub fn tool_call_id(mut self, id: &str) -> Self {
        let last = self
            .template
            .choices
            .last_mut()
            .and_then(|c| c.message.tool_calls.as_mut()?.last_mut());
        if let Some(ChatCompletionMessageToolCalls::Function(call)) = last {
            call.id = id.to_owned();
        }
        self
    }

    /// One choice with a refusal instead of content.
    pub fn refusal(text: impl Into<String>) -> Self {
        Self::with_message(
            ChatCompletionResponseMessage {
                refusal: Some(text.into()),
                role: Role::Assistant,
                ..Default::default()
            },
            FinishReason::Stop,
        )
    }

    /// A typed response; empty `id`, `model`, `object` and `created` are filled in.
    pub fn from_response(response: CreateChatCompletionResponse) -> Self {
        MockCompletion {
            head: Head::default(),
            template: response,
            stream_words: false,
        }
    }

    /// Appends the choices of `other` (their indexes are renumbered).
    pub fn with_choice(mut self, other: MockCompletion) -> Self {
        for mut c in other.template.choices {
            c.index = self.template.choices.len() as u32;
            self.template.choices.push(c);
        }
        self
    }

    /// Token usage (the total is the sum).
    pub fn usage(mut self, prompt_tokens: u64, completion_tokens: u64) -> Self {
        self.template.usage = Some(CompletionUsage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
            ..Default::default()
        });
        self
    }

    /// Token usage given in full.
    pub fn with_usage(mut self, usage: CompletionUsage) -> Self {
        self.template.usage = Some(usage);
        self
    }

    /// The finish reason of the last choice.
    pub fn finish_reason(mut self, reason: FinishReason) -> Self {
        if let Some(c) = self.template.choices.last_mut() {
            c.finish_reason = Some(reason);
        }
        self
    }

    /// The model named in the answer (by default the request's model).
    pub fn model(mut self, model: &str) -> Self {
        self.template.model = model.to_owned();
        self
    }

    /// The completion id (by default `chatcmpl-mock-<n>`).
    pub fn id(mut self, id: &str) -> Self {
        self.template.id = Some(id.to_owned());
        self
    }

    /// The HTTP status (by default `200`).
    #[track_caller]
    pub fn status(mut self, code: u16) -> Self {
        self.head.status = Some(status(code));
        self
    }

    head_methods!();

    /// The response as it is served for `request`, with defaults filled in.
    pub(crate) fn resolve(&self, request: &RecordedRequest) -> CreateChatCompletionResponse {
        let mut r = self.template.clone();
        r.id.get_or_insert_with(|| format!("chatcmpl-mock-{}", request.index()));
        r.object.get_or_insert_with(|| "chat.completion".to_owned());
        r.created.get_or_insert(CREATED);
        if r.model.is_empty() {
            r.model = request.model().unwrap_or("mock-model").to_owned();
        }
        r
    }

    fn render(&self, request: &RecordedRequest) -> http::Response<Body> {
        let resolved = self.resolve(request);
        if request.is_stream() {
            let mut stream = MockStream::from_completion(&resolved);
            if self.stream_words {
                stream = stream.chunk_words();
            }
            stream.head = self.head.clone();
            return stream.render(request);
        }
        let body = serde_json::to_vec(&resolved).unwrap_or_default();
        self.head
            .response(StatusCode::OK, Some(JSON), request, Body::full(body))
    }
}

/// An API error answer: a status with an `{"error": {...}}` body and headers such as
/// `retry-after`.
///
/// The body defaults to what the API sends for the status (for `429`: type `requests`, code
/// `rate_limit_exceeded`).
///
/// ```
/// use chat_mock::MockResponse;
///
/// let limited = MockResponse::error(429).retry_after_ms(10).message("slow down");
/// # let _ = limited;
/// ```
#[derive(Debug, Clone)]
pub struct MockApiError {
    pub(crate) head: Head,
    status: StatusCode,
    message: String,
    error_type: Option<String>,
    code: Option<Value>,
    param: Option<String>,
    raw_body: Option<Bytes>,
}

impl MockApiError {
    /// An error with `status` and the typical body for it.
    #[track_caller]
    pub fn new(code: u16) -> Self {
        let s = status(code);
        let (message, error_type, code): (&str, &str, Option<&str>) = match s.as_u16() {
            400 => (
                "Invalid request (chat-mock).",
                "invalid_request_error",
                None,
            ),
            401 => (
                "Incorrect API key provided (chat-mock).",
                "invalid_request_error",
                Some("invalid_api_key"),
            ),
            403 => (
                "You are not allowed to sample from this model (chat-mock).",
                "invalid_request_error",
                None,
            ),
            404 => (
                "The model does not exist or you do not have access to it (chat-mock).",
                "invalid_request_error",
                Some("model_not_found"),
            ),
            429 => (
                "Rate limit reached; try again later (chat-mock).",
                "requests",
                Some("rate_limit_exceeded"),
            ),
            500..=599 => (
                "The server had an error while processing your request (chat-mock).",
                "server_error",
                None,
            ),
            _ => ("Request failed (chat-mock).", "invalid_request_error", None),
        };
        MockApiError {
            head: Head::default(),
            status: s,
            message: message.to_owned(),
            error_type: Some(error_type.to_owned()),
            code: code.map(|c| Value::String(c.to_owned())),
            param: None,
            raw_body: None,
        }
    }

    /// The error message.
    pub fn message(mut self, message: &str) -> Self {
        self.message = message.to_owned();
        self
    }

    /// The error `type`, such as `invalid_request_error`.
    pub fn error_type(mut self, error_type: &str) -> Self {
        self.error_type = Some(error_type.to_owned());
        self
    }

    /// The error `code`, such as `context_length_exceeded`.
    pub fn code(mut self, code: &str) -> Self {
        self.code = Some(Value::String(code.to_owned()));
        self
    }

    /// The request parameter the error is about.
    pub fn param(mut self, param: &str) -> Self {
        self.param = Some(param.to_owned());
        self
    }

    /// A `429` for an exhausted quota (type and code `insufficient_quota`), which clients do
    /// not retry.
    pub fn insufficient_quota(mut self) -> Self {
        self.status = StatusCode::TOO_MANY_REQUESTS;
        self.message = "You exceeded your current quota (chat-mock).".into();
        self.error_type = Some("insufficient_quota".into());
        self.code = Some(Value::String("insufficient_quota".into()));
        self
    }

    /// The `retry-after` header, in seconds.
    pub fn retry_after(self, seconds: u64) -> Self {
        self.header("retry-after", &seconds.to_string())
    }

    /// The `retry-after-ms` header, in milliseconds.
    pub fn retry_after_ms(self, millis: u64) -> Self {
        self.header("retry-after-ms", &millis.to_string())
    }

    /// The `x-should-retry` header, which overrides a client's retry rules.
    pub fn should_retry(self, retry: bool) -> Self {
        self.header("x-should-retry", if retry { "true" } else { "false" })
    }

    /// Replaces the whole body with these bytes.
    pub fn raw_body(mut self, body: impl Into<Bytes>) -> Self {
        self.raw_body = Some(body.into());
        self
    }

    head_methods!();

    /// The `{"error": {...}}` object.
    pub(crate) fn error_json(&self) -> Value {
        json!({
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        })
    }

    fn render(&self, request: &RecordedRequest) -> http::Response<Body> {
        let body = match &self.raw_body {
            Some(b) => b.clone(),
            None => Bytes::from(self.error_json().to_string()),
        };
        self.head
            .response(self.status, Some(JSON), request, Body::full(body))
    }
}

/// Any answer: a status, headers and body bytes, in chunks if wanted, optionally ending in a
/// fault.
#[derive(Debug, Clone)]
pub struct MockRaw {
    pub(crate) head: Head,
    status: StatusCode,
    chunks: Vec<Bytes>,
    chunk_delay: Option<Duration>,
    end: Option<(usize, RawEnd)>,
}

#[derive(Debug, Clone)]
enum RawEnd {
    Disconnect,
    Hang,
    Fail(TransportErrorKind, String),
}

impl MockRaw {
    /// An empty answer with `status`.
    #[track_caller]
    pub fn new(code: u16) -> Self {
        MockRaw {
            head: Head::default(),
            status: status(code),
            chunks: Vec::new(),
            chunk_delay: None,
            end: None,
        }
    }

    /// The body, as one chunk.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.chunks = vec![body.into()];
        self
    }

    /// The body, delivered as exactly these chunks.
    pub fn chunks<I, B>(mut self, chunks: I) -> Self
    where
        I: IntoIterator<Item = B>,
        B: Into<Bytes>,
    {
        self.chunks = chunks.into_iter().map(Into::into).collect();
        self
    }

    /// A JSON body, with `content-type: application/json`.
    pub fn json(self, body: &Value) -> Self {
        self.content_type(JSON).body(body.to_string())
    }

    /// The `content-type` header.
    #[track_caller]
    pub fn content_type(self, content_type: &str) -> Self {
        self.header("content-type", content_type)
    }

    /// Waits this long between chunks, on the tokio clock.
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = Some(delay);
        self
    }

    /// Drops the connection after `chunks` chunks (an [`TransportErrorKind::Io`] error while
    /// reading the body).
    pub fn disconnect_after(mut self, chunks: usize) -> Self {
        self.end = Some((chunks, RawEnd::Disconnect));
        self
    }

    /// Stops sending after `chunks` chunks without closing (so an idle timeout fires).
    pub fn hang_after(mut self, chunks: usize) -> Self {
        self.end = Some((chunks, RawEnd::Hang));
        self
    }

    /// Fails with a transport error of `kind` after `chunks` chunks.
    pub(crate) fn fail_after(
        mut self,
        chunks: usize,
        kind: TransportErrorKind,
        message: &str,
    ) -> Self {
        self.end = Some((chunks, RawEnd::Fail(kind, message.to_owned())));
        self
    }

    head_methods!();

    fn render(&self, request: &RecordedRequest) -> http::Response<Body> {
        let (chunks, end) = match &self.end {
            Some((n, end)) => {
                let n = *n;
                let step = match end {
                    RawEnd::Disconnect => Step::Fail(
                        TransportErrorKind::Io,
                        format!("connection closed after {n} body chunks (chat-mock)"),
                    ),
                    RawEnd::Hang => Step::Hang,
                    RawEnd::Fail(kind, message) => Step::Fail(*kind, message.clone()),
                };
                (self.chunks.iter().take(n).cloned().collect(), Some(step))
            }
            None => (self.chunks.clone(), None),
        };
        let body = body_from_steps(steps_for(chunks, self.chunk_delay, end));
        self.head.response(self.status, None, request, body)
    }
}

impl fmt::Display for MockResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}
