//! Streamed chat completions: [`ChatCompletionStream`] and its limits and response meta.

use std::collections::BTreeMap;
use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use chat_types::{
    ApiErrorObject, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
};
use futures_core::Stream;
use serde_json::Value;

use crate::error::{error_member, parse_error_body, text_prefix, MAX_ERROR_BODY, SNIPPET_BYTES};
use crate::sse::{Cut, SseEvent, SseStream};
use crate::trace::OpSpan;
use crate::{ApiError, Body, ChatCompletionAccumulator, ChatCompletionEventStream, Error};
use crate::{ErrorKind, ResponseMeta, StreamError};

/// Limits of a streamed response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamConfig {
    /// The largest event accepted, in bytes; a larger one fails with
    /// [`StreamError::EventTooLarge`]. Defaults to
    /// [`DEFAULT_MAX_EVENT_SIZE`](Self::DEFAULT_MAX_EVENT_SIZE).
    pub max_event_size: usize,
    /// The longest wait for the next chunk of the body; `None` (the default) waits forever.
    ///
    /// The timer runs only while the stream waits on the body, so a slow consumer does not
    /// trip it. It needs a Tokio runtime with the time driver enabled.
    pub idle_timeout: Option<Duration>,
    /// The longest the whole stream may take, however busy it is (comments and keep-alives
    /// included), counted from when the stream was made; `None` (the default) sets no limit.
    /// Past it the stream fails with a [`TimeoutKind::StreamDeadline`](crate::TimeoutKind)
    /// [`Timeout`](crate::Timeout). It needs a Tokio runtime with the time driver enabled.
    pub deadline: Option<Duration>,
    /// When the deadline is counted from, if not from when the stream was made (the client
    /// counts from the call, so the wait for the stream counts too).
    pub(crate) started: Option<tokio::time::Instant>,
}

impl StreamConfig {
    /// The default maximum event size: 16 MiB.
    ///
    /// Chunks are usually well under a kilobyte, but some are large (a chunk with the log
    /// probabilities of many tokens, base64 audio, or a server that sends the whole answer in
    /// one event). 16 MiB never limits a real response and still bounds the memory a broken
    /// or hostile server can make the client hold.
    pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the largest event accepted, in bytes.
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// Sets the longest wait for the next chunk (`None` waits forever).
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = timeout.into();
        self
    }

    /// Sets the longest the whole stream may take, from when it is made (`None`: no limit).
    pub fn deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.deadline = deadline.into();
        self
    }

    /// Counts the deadline from `started` instead of from when the stream is made.
    pub(crate) fn started(mut self, started: tokio::time::Instant) -> Self {
        self.started = Some(started);
        self
    }
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            max_event_size: Self::DEFAULT_MAX_EVENT_SIZE,
            idle_timeout: None,
            deadline: None,
            started: None,
        }
    }
}

/// The metadata of a streamed response: status, headers, request id, rate limits and the
/// attempts it took. The same type as [`ResponseMeta`].
pub type StreamMeta = ResponseMeta;

/// A streamed chat completion: a [`Stream`] of [`CreateChatCompletionStreamResponse`] chunks
/// read from the server-sent events of a `stream: true` response.
///
/// Use [`next`](Self::next) to read chunk by chunk, [`final_response`](Self::final_response)
/// to wait for the whole completion, or [`events`](Self::events) for content deltas,
/// finished tool calls and the like.
///
/// The stream is pulled: nothing is read from the body until it is polled, and dropping it
/// drops the body (which cancels the transfer). How events are read:
///
/// | event | result |
/// |---|---|
/// | `data: [DONE]` | the stream ends once the rest of the body is read and dropped (at most 64 KiB and 500 ms: an HTTP/1.1 connection is reused only after its body's end) |
/// | `event: error`, or data with an `"error"` member | `Err` of [`ErrorKind::Api`](crate::ErrorKind::Api) with `in_stream: true`, then the end |
/// | data that is not a chunk (no `event:` field) | `Err` of [`StreamError::Malformed`] |
/// | empty data | skipped (a keep-alive) |
/// | another `event:` name | yielded if its data is a chunk (`"object": "chat.completion.chunk"`, choices or usage), skipped otherwise |
/// | comments (`: ...`) | skipped by the decoder |
///
/// When the body ends without `[DONE]`, the stream ends cleanly if every choice it saw has a
/// finish reason (some compatible servers never send `[DONE]`), and fails with
/// [`StreamError::Truncated`] otherwise, or [`StreamError::Empty`] when it saw no chunk at
/// all. When the body
/// ends inside an event (no blank line after it), that event is read if its data is a whole
/// chunk or `[DONE]`; otherwise the stream fails with [`StreamError::Truncated`], so a cut
/// never loses data silently. A transport error yields
/// [`ErrorKind::Transport`](crate::ErrorKind::Transport), and a gap between chunks longer
/// than [`StreamConfig::idle_timeout`] yields an idle [`Timeout`](crate::Timeout), a stream
/// still open after [`StreamConfig::deadline`] a stream-deadline one. Errors
/// carry the [`attempts`](ResponseMeta::attempts) of the meta. After an error the stream
/// yields `None`.
///
/// ```
/// use chat_core::{Body, ChatCompletionStream, ResponseMeta, StreamConfig};
///
/// # async fn run() -> Result<(), chat_core::Error> {
/// let body = Body::from(
///     "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n\
///      data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
///      data: [DONE]\n\n",
/// );
/// let mut stream = ChatCompletionStream::new(body, StreamConfig::default(), ResponseMeta::default());
/// let mut text = String::new();
/// while let Some(chunk) = stream.next().await {
///     text.push_str(chunk?.first_content().unwrap_or_default());
/// }
/// assert_eq!(text, "Hi");
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
/// ```
pub struct ChatCompletionStream {
    sse: SseStream,
    /// Whether each choice seen so far has finished, by choice index.
    choices: BTreeMap<u32, bool>,
    unfinished: usize,
    done: bool,
    /// The operation span: the response id and token usage are recorded on it.
    span: OpSpan,
    id_recorded: bool,
    /// Whether a chunk has been handed out (then the whole response can no longer be built).
    yielded: bool,
}

/// What one event means for the chunk stream.
// Short-lived: the chunk is moved out right away, so boxing it would only cost.
#[allow(clippy::large_enum_variant)]
enum Step {
    Chunk(CreateChatCompletionStreamResponse),
    Skip,
    Done,
    Fail(Error),
}

impl ChatCompletionStream {
    /// A stream of the chunks in `body`; `meta` describes the response for errors.
    pub fn new(body: Body, config: StreamConfig, meta: ResponseMeta) -> Self {
        ChatCompletionStream {
            sse: SseStream::new(body, config, meta),
            choices: BTreeMap::new(),
            unfinished: 0,
            done: false,
            span: OpSpan::none(),
            id_recorded: false,
            yielded: false,
        }
    }

    /// Starts the stream with `chunk`, the start of the body read before it was handed over.
    pub(crate) fn with_first_chunk(mut self, chunk: Bytes) -> Self {
        self.sse.push_first_chunk(chunk);
        self
    }

    /// Records the response id and the token usage on `span`.
    pub(crate) fn with_span(mut self, span: OpSpan) -> Self {
        self.span = span;
        self
    }

    /// The status, headers, request id, rate limits and attempts of the response.
    pub fn meta(&self) -> &ResponseMeta {
        self.sse.meta()
    }

    /// The `x-request-id` of the response.
    pub fn request_id(&self) -> Option<&str> {
        self.meta().request_id.as_deref()
    }

    /// The next chunk; `None` at the end of the stream or after an error.
    pub async fn next(&mut self) -> Option<Result<CreateChatCompletionStreamResponse, Error>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// Reads the stream and assembles the completion from its chunks.
    ///
    /// It needs every chunk: after chunks were read with [`next`](Self::next) it fails with
    /// an [`InvalidConfig`](ErrorKind::InvalidConfig) error rather than return part of the
    /// response. To show chunks as they arrive *and* get the whole response, read
    /// [`events`](Self::events) (its last event carries the response) or push each chunk
    /// into a [`ChatCompletionAccumulator`].
    pub async fn final_response(mut self) -> Result<CreateChatCompletionResponse, Error> {
        if let Some(e) = self.already_read("final_response") {
            return Err(e);
        }
        let mut acc = ChatCompletionAccumulator::new();
        while let Some(chunk) = self.next().await {
            acc.push(chunk?);
        }
        Ok(acc.finish())
    }

    /// The error of building a whole response from a stream whose chunks were already read.
    pub(crate) fn already_read(&self, what: &str) -> Option<Error> {
        self.yielded.then(|| {
            Error::invalid_config(format!(
                "{what} needs the whole stream, but chunks were already read from it with \
                 next(); read the stream with events() (its Completed event carries the \
                 response) or push each chunk into a ChatCompletionAccumulator"
            ))
            .with_request_id(self.request_id())
        })
    }

    /// The stream as [events](crate::ChatCompletionEvent) for user interfaces.
    ///
    /// Call it before reading any chunk: after [`next`](Self::next) has handed out chunks,
    /// the event stream yields an [`InvalidConfig`](ErrorKind::InvalidConfig) error, as its
    /// deltas and response would miss them.
    pub fn events(self) -> ChatCompletionEventStream {
        ChatCompletionEventStream::new(self)
    }

    /// Polls for the next chunk.
    pub fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<CreateChatCompletionStreamResponse, Error>>> {
        loop {
            if self.done {
                // After `[DONE]` the rest of the body is still open: read it to its end (an
                // HTTP/1.1 connection is reused only then). Otherwise it is closed already.
                ready!(self.sse.poll_drain(cx));
                return Poll::Ready(None);
            }
            let step = match ready!(self.sse.poll_event(cx)) {
                Some(Ok(event)) => self.read_event(event),
                Some(Err(e)) => Step::Fail(e),
                None => match self.sse.take_cut() {
                    Cut::Nothing => {
                        self.done = true;
                        if self.choices.is_empty() || self.unfinished > 0 {
                            return Poll::Ready(Some(Err(self.truncated())));
                        }
                        return Poll::Ready(None);
                    }
                    Cut::Line => Step::Fail(self.truncated()),
                    // The body ended inside this event: read it, unless it was cut short.
                    Cut::Event(event) => match self.read_event(event) {
                        Step::Fail(e) if matches!(e.kind(), ErrorKind::Stream(_)) => {
                            Step::Fail(self.truncated())
                        }
                        step => step,
                    },
                },
            };
            match step {
                Step::Chunk(chunk) => return Poll::Ready(Some(Ok(chunk))),
                Step::Skip => {}
                // The end is reported once the rest of the body is read (above).
                Step::Done => self.done = true,
                Step::Fail(e) => {
                    self.done = true;
                    self.sse.close();
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }

    fn read_event(&mut self, event: SseEvent) -> Step {
        let name = event.event();
        let data = event.data_bytes();
        if name == "error" {
            return Step::Fail(self.api_error(data, parse_error_body(data)));
        }
        let trimmed = data.trim_ascii();
        if trimmed.is_empty() {
            return Step::Skip;
        }
        if trimmed == b"[DONE]" {
            return Step::Done;
        }
        let is_default = name == "message";
        match crate::json::from_slice::<CreateChatCompletionStreamResponse>(data) {
            Ok(mut chunk) => {
                if chunk.extra.get("error").is_some_and(|e| !e.is_null()) {
                    let error = chunk.extra.remove("error").and_then(error_member);
                    return Step::Fail(self.api_error(data, error));
                }
                if !is_default && !looks_like_chunk(&chunk) {
                    return Step::Skip;
                }
                self.track(&chunk);
                Step::Chunk(chunk)
            }
            Err(_) if !is_default => Step::Skip,
            Err(e) => {
                // Not a chunk; maybe an error object in a shape the chunk type rejects.
                if let Ok(Value::Object(mut object)) = crate::json::from_slice::<Value>(data) {
                    if object.get("error").is_some_and(|e| !e.is_null()) {
                        let error = object.remove("error").and_then(error_member);
                        return Step::Fail(self.api_error(data, error));
                    }
                }
                let malformed = StreamError::Malformed {
                    message: e.to_string(),
                    snippet: text_prefix(data, SNIPPET_BYTES),
                    request_id: None,
                };
                Step::Fail(self.sse.stream_error(malformed))
            }
        }
    }

    /// Records which choices the chunk shows and whether they finished, and the response id
    /// and usage on the span.
    fn track(&mut self, chunk: &CreateChatCompletionStreamResponse) {
        self.yielded = true;
        for choice in &chunk.choices {
            let finished = choice
                .finish_reason
                .as_ref()
                .is_some_and(|r| r.is_finished());
            match self.choices.get_mut(&choice.index) {
                Some(seen) => {
                    if finished && !*seen {
                        *seen = true;
                        self.unfinished -= 1;
                    }
                }
                None => {
                    self.choices.insert(choice.index, finished);
                    if !finished {
                        self.unfinished += 1;
                    }
                }
            }
        }
        if !self.id_recorded {
            if let Some(id) = chunk.id.as_deref().filter(|id| !id.is_empty()) {
                self.span.record_usage(id, None);
                self.id_recorded = true;
            }
        }
        if let Some(usage) = &chunk.usage {
            self.span
                .record_usage("", Some((usage.prompt_tokens, usage.completion_tokens)));
        }
    }

    /// The body ended too early: after some chunks (truncated), or before any (empty).
    fn truncated(&self) -> Error {
        let e = if self.yielded {
            StreamError::Truncated { request_id: None }
        } else {
            StreamError::Empty { request_id: None }
        };
        self.sse.stream_error(e)
    }

    fn api_error(&self, data: &Bytes, error: Option<ApiErrorObject>) -> Error {
        let meta = self.sse.meta();
        Error::new(ErrorKind::Api(ApiError {
            status: meta.status,
            error,
            body: text_prefix(data, MAX_ERROR_BODY),
            request_id: meta.request_id.clone(),
            headers: meta.headers.clone(),
            in_stream: true,
        }))
        .with_attempts(meta.attempts)
    }
}

/// Whether a chunk from a named event looks like a real chunk rather than some other JSON.
fn looks_like_chunk(chunk: &CreateChatCompletionStreamResponse) -> bool {
    chunk.object.as_deref() == Some("chat.completion.chunk")
        || !chunk.choices.is_empty()
        || chunk.usage.is_some()
}

impl Stream for ChatCompletionStream {
    type Item = Result<CreateChatCompletionStreamResponse, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx)
    }
}

impl fmt::Debug for ChatCompletionStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatCompletionStream")
            .field("sse", &self.sse)
            .field("choices_seen", &self.choices.len())
            .field("unfinished", &self.unfinished)
            .field("done", &self.done)
            .finish()
    }
}
