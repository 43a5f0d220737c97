//! Server-sent events: the incremental [`SseDecoder`] and [`SseStream`], the stream of
//! events of a response body. The parsing rules are documented on [`SseDecoder`].

use std::fmt;
use std::future::Future;
use std::iter::FusedIterator;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_core::Stream;

use crate::error::{text_prefix, SNIPPET_BYTES};
use crate::stream::StreamConfig;
use crate::{Body, Error, ResponseMeta, StreamError, Timeout, TimeoutKind};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched server-sent event.
///
/// The data is valid UTF-8 (the decoder checked it); multi-line data is joined with `\n`.
#[derive(Clone, PartialEq, Eq)]
pub struct SseEvent {
    event: Option<String>,
    data: Bytes,
    id: Option<String>,
}

impl SseEvent {
    /// An event of type `message` with `data`.
    pub fn new(data: impl Into<String>) -> Self {
        SseEvent {
            event: None,
            data: Bytes::from(data.into()),
            id: None,
        }
    }

    /// Sets the event type (the `event:` field); an empty name means `message`.
    pub fn with_event(mut self, event: impl Into<String>) -> Self {
        let event = event.into();
        self.event = (!event.is_empty()).then_some(event);
        self
    }

    /// Sets the event id (the `id:` field).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        self.id = (!id.is_empty()).then_some(id);
        self
    }

    /// The event type: the last `event:` field of the event, or `message` if it had none.
    pub fn event(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }

    /// The data, with the lines of multi-line data joined by `\n`.
    ///
    /// The data is stored as bytes; this checks them again (at memory speed). Use
    /// [`data_bytes`](Self::data_bytes) to avoid that, for example to parse JSON.
    pub fn data(&self) -> &str {
        std::str::from_utf8(&self.data).unwrap_or_default()
    }

    /// The data as bytes (always valid UTF-8).
    pub fn data_bytes(&self) -> &Bytes {
        &self.data
    }

    /// The data as bytes, by value.
    pub fn into_data(self) -> Bytes {
        self.data
    }

    /// The last event id of the stream when this event was dispatched, if one was set.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The event in the wire format, ending with the blank line that dispatches it.
    ///
    /// Decoding the result gives back an equal event. Line ends inside the data (LF, CR or
    /// CRLF) become separate `data:` lines, so they come back as `\n`.
    pub fn to_wire(&self) -> String {
        let data = self.data();
        let mut out = String::with_capacity(data.len() + 16);
        if let Some(event) = &self.event {
            push_field(&mut out, "event", event);
        }
        if let Some(id) = &self.id {
            push_field(&mut out, "id", id);
        }
        let mut rest = data;
        loop {
            match rest.find(['\r', '\n']) {
                Some(end) => {
                    push_field(&mut out, "data", &rest[..end]);
                    let skip = if rest[end..].starts_with("\r\n") {
                        2
                    } else {
                        1
                    };
                    rest = &rest[end + skip..];
                }
                None => {
                    push_field(&mut out, "data", rest);
                    break;
                }
            }
        }
        out.push('\n');
        out
    }
}

fn push_field(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push('\n');
}

impl fmt::Debug for SseEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseEvent")
            .field("event", &self.event())
            .field("data", &self.data())
            .field("id", &self.id)
            .finish()
    }
}

/// The data buffer of the event being decoded.
#[derive(Default)]
enum Data {
    /// No `data` line yet.
    #[default]
    Empty,
    /// One `data` line: a slice of the line it came from, without copying.
    One(Bytes),
    /// Several `data` lines, joined with `\n`.
    Many(BytesMut),
}

impl Data {
    fn len(&self) -> usize {
        match self {
            Data::Empty => 0,
            Data::One(b) => b.len(),
            Data::Many(b) => b.len(),
        }
    }

    fn push(&mut self, value: Bytes) {
        match self {
            Data::Empty => *self = Data::One(value),
            Data::One(first) => {
                let mut joined = BytesMut::with_capacity(first.len() + 1 + value.len());
                joined.extend_from_slice(first);
                joined.put_u8(b'\n');
                joined.extend_from_slice(&value);
                *self = Data::Many(joined);
            }
            Data::Many(joined) => {
                joined.reserve(1 + value.len());
                joined.put_u8(b'\n');
                joined.extend_from_slice(&value);
            }
        }
    }

    fn take(&mut self) -> Option<Bytes> {
        match std::mem::take(self) {
            Data::Empty => None,
            Data::One(b) => Some(b),
            Data::Many(b) => Some(b.freeze()),
        }
    }
}

/// An incremental decoder of a server-sent event stream.
///
/// Push chunks with [`push`](Self::push) and pull events with
/// [`next_event`](Self::next_event), or do both with [`decode`](Self::decode); call
/// [`finish`](Self::finish) at the end of the stream.
///
/// It implements the event-stream parsing rules of the WHATWG HTML standard
/// ("Server-sent events", section 9.2.6):
///
/// - lines end with LF, CR or CRLF, and a CR at the end of one chunk followed by a LF at the
///   start of the next is one line end;
/// - one leading byte order mark is ignored;
/// - lines starting with `:` are comments (keep-alives) and are skipped;
/// - `field: value` lines set a field; one space after the colon is removed, and a line
///   without a colon is a field with an empty value;
/// - `data` lines are joined with `\n`, `event` names the event (`message` when absent),
///   `id` sets the last event id (kept across events, ignored if it contains NUL), `retry`
///   sets the reconnection time when it is all ASCII digits, other fields are ignored;
/// - a blank line dispatches the event, unless no `data` line was seen;
/// - at the end of the stream an event that was not closed by a blank line is discarded.
///
/// Beyond the standard, the decoder is strict where the standard substitutes: a stream that
/// is not valid UTF-8 fails with [`StreamError::Malformed`] instead of decoding to U+FFFD,
/// and an event larger than `max_event_size` (the bytes of its data plus the line being
/// read) fails with [`StreamError::EventTooLarge`] before it is buffered, which bounds memory
/// on hostile or broken servers. Errors are final: after one, the decoder ignores its input
/// until [`finish`](Self::finish) resets it.
///
/// The decoder is push based and incremental: feed it chunks as they arrive, at any byte
/// boundary (also inside a multi-byte character), and pull events out. Lines are found with
/// a vectorised byte search, and an event whose data is one line inside one chunk is handed
/// out as a zero-copy slice of that chunk.
///
/// ```
/// use chat_core::SseDecoder;
///
/// let mut decoder = SseDecoder::new(1024);
/// let mut data = Vec::new();
/// for chunk in [&b": keep-alive\ndata: hel"[..], b"lo\r", b"\n\r\ndata: [DONE]\n\n"] {
///     for event in decoder.decode(chunk.to_vec()) {
///         data.push(event?.data().to_owned());
///     }
/// }
/// assert_eq!(data, ["hello", "[DONE]"]);
/// # Ok::<(), chat_core::StreamError>(())
/// ```
pub struct SseDecoder {
    max_event_size: usize,
    /// The part of the pushed chunk not parsed yet.
    input: Bytes,
    /// The start of a line whose end has not arrived yet.
    line: BytesMut,
    /// The previous line ended with CR at the end of a chunk: a LF next belongs to it.
    skip_lf: bool,
    /// Whether the first line (and with it a byte order mark) was seen.
    started: bool,
    data: Data,
    event_type: Option<String>,
    last_event_id: String,
    retry: Option<Duration>,
    failed: bool,
}

impl SseDecoder {
    /// A decoder that rejects events larger than `max_event_size` bytes.
    pub fn new(max_event_size: usize) -> Self {
        SseDecoder {
            max_event_size,
            input: Bytes::new(),
            line: BytesMut::new(),
            skip_lf: false,
            started: false,
            data: Data::Empty,
            event_type: None,
            last_event_id: String::new(),
            retry: None,
            failed: false,
        }
    }

    /// The maximum size of an event, in bytes.
    pub fn max_event_size(&self) -> usize {
        self.max_event_size
    }

    /// The last event id the stream set, if any (the `Last-Event-ID` for a reconnect).
    pub fn last_event_id(&self) -> Option<&str> {
        (!self.last_event_id.is_empty()).then_some(self.last_event_id.as_str())
    }

    /// The reconnection time the stream asked for with a `retry:` field, if any.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Adds the next chunk of the stream.
    ///
    /// Drain the events of the previous chunk first (until [`next_event`](Self::next_event)
    /// returns `Ok(None)`); otherwise the unparsed rest is copied to join the new chunk.
    pub fn push(&mut self, chunk: impl Into<Bytes>) {
        let chunk = chunk.into();
        if self.failed || chunk.is_empty() {
            return;
        }
        if self.input.is_empty() {
            self.input = chunk;
        } else {
            let mut joined = BytesMut::with_capacity(self.input.len() + chunk.len());
            joined.extend_from_slice(&self.input);
            joined.extend_from_slice(&chunk);
            self.input = joined.freeze();
        }
    }

    /// Pushes `chunk` and returns an iterator over the events it completes.
    ///
    /// Events not taken from the iterator stay in the decoder for the next call.
    pub fn decode(&mut self, chunk: impl Into<Bytes>) -> SseEvents<'_> {
        self.push(chunk);
        SseEvents { decoder: self }
    }

    /// The next complete event, or `Ok(None)` when the pushed input is used up.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, StreamError> {
        while !self.failed && !self.input.is_empty() {
            if self.skip_lf {
                self.skip_lf = false;
                if self.input[0] == b'\n' {
                    self.input.advance(1);
                    continue;
                }
            }
            let Some(end) = memchr::memchr2(b'\n', b'\r', &self.input) else {
                // The line goes on in the next chunk: keep its start.
                if self.data.len() + self.line.len() + self.input.len() > self.max_event_size {
                    return Err(self.too_large());
                }
                self.line.extend_from_slice(&self.input);
                self.input = Bytes::new();
                return Ok(None);
            };
            let ends_with_cr = self.input[end] == b'\r';
            let line = if self.line.is_empty() {
                let line = self.input.split_to(end);
                self.input.advance(1);
                line
            } else {
                self.line.extend_from_slice(&self.input[..end]);
                self.input.advance(end + 1);
                self.line.split().freeze()
            };
            if ends_with_cr {
                match self.input.first() {
                    Some(b'\n') => self.input.advance(1),
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            if let Some(event) = self.process_line(line)? {
                return Ok(Some(event));
            }
        }
        Ok(None)
    }

    /// Ends the stream and resets the decoder for a new one.
    ///
    /// As the standard requires, an event not closed by a blank line (and a last line
    /// without a line end) is discarded, not dispatched; the return value says whether
    /// anything was. Input not yet taken with [`next_event`](Self::next_event) is discarded
    /// too. The last event id and the reconnection time are kept.
    pub fn finish(&mut self) -> bool {
        let discarded =
            !self.input.is_empty() || !self.line.is_empty() || !matches!(self.data, Data::Empty);
        self.input = Bytes::new();
        self.line = BytesMut::new();
        self.data = Data::Empty;
        self.event_type = None;
        self.skip_lf = false;
        self.started = false;
        self.failed = false;
        discarded
    }

    /// Ends the stream like [`finish`](Self::finish), and tells what the end cut off: the
    /// event a blank line would have dispatched (reading a last line that had no line end),
    /// or a last line that was not a comment and left no data.
    pub(crate) fn finish_cut(&mut self) -> Cut {
        let mut cut_line = false;
        if !self.failed && !self.line.is_empty() {
            let line = self.line.split().freeze();
            // Comments and stray white space at the very end cut nothing off.
            cut_line = !line.starts_with(b":") && !line.trim_ascii().is_empty();
            // A line that is not a blank line never dispatches; an error leaves no data.
            let _ = self.process_line(line);
        }
        let cut = match self.data.take() {
            Some(data) => Cut::Event(SseEvent {
                event: self.event_type.take(),
                data,
                id: self.last_event_id().map(str::to_owned),
            }),
            None if cut_line => Cut::Line,
            None => Cut::Nothing,
        };
        self.finish();
        cut
    }

    fn process_line(&mut self, mut line: Bytes) -> Result<Option<SseEvent>, StreamError> {
        if self.data.len() + line.len() > self.max_event_size {
            return Err(self.too_large());
        }
        if !self.started {
            self.started = true;
            if line.starts_with(BOM) {
                line.advance(BOM.len());
            }
        }
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            return Err(self.invalid_utf8(&line));
        };
        if text.starts_with(':') {
            return Ok(None);
        }
        let (name, value_start) = match text.find(':') {
            Some(colon) if text[colon + 1..].starts_with(' ') => (&text[..colon], colon + 2),
            Some(colon) => (&text[..colon], colon + 1),
            None => (text, text.len()),
        };
        let value = &text[value_start..];
        match name {
            "data" => self.data.push(line.slice(value_start..)),
            "event" => self.event_type = (!value.is_empty()).then(|| value.to_owned()),
            "id" if !value.contains('\0') => {
                self.last_event_id.clear();
                self.last_event_id.push_str(value);
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // More digits than fit in a u64 are not a useful delay; ignore them.
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event_type.take();
        let data = self.data.take()?;
        Some(SseEvent {
            event,
            data,
            id: self.last_event_id().map(str::to_owned),
        })
    }

    fn fail(&mut self) {
        self.failed = true;
        self.input = Bytes::new();
        self.line = BytesMut::new();
        self.data = Data::Empty;
        self.event_type = None;
    }

    fn too_large(&mut self) -> StreamError {
        self.fail();
        StreamError::EventTooLarge {
            limit: self.max_event_size,
            request_id: None,
        }
    }

    fn invalid_utf8(&mut self, line: &[u8]) -> StreamError {
        self.fail();
        StreamError::Malformed {
            message: "invalid UTF-8 in event stream".to_owned(),
            snippet: text_prefix(line, SNIPPET_BYTES),
            request_id: None,
        }
    }
}

impl Default for SseDecoder {
    /// A decoder with the default maximum event size of [`StreamConfig`].
    fn default() -> Self {
        SseDecoder::new(StreamConfig::DEFAULT_MAX_EVENT_SIZE)
    }
}

impl fmt::Debug for SseDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseDecoder")
            .field("max_event_size", &self.max_event_size)
            .field(
                "buffered",
                &(self.input.len() + self.line.len() + self.data.len()),
            )
            .field("last_event_id", &self.last_event_id())
            .field("retry", &self.retry)
            .field("failed", &self.failed)
            .finish()
    }
}

/// What the end of a body cut off (see [`SseDecoder::finish_cut`]).
#[derive(Debug, Default)]
pub(crate) enum Cut {
    /// Nothing: the body ended between events.
    #[default]
    Nothing,
    /// A last line that left no data (such as the start of `data: ...`).
    Line,
    /// An event that was not closed by a blank line.
    Event(SseEvent),
}

/// The events completed by a chunk: the iterator of [`SseDecoder::decode`].
///
/// It ends when the input is used up or after the first error.
#[derive(Debug)]
pub struct SseEvents<'a> {
    decoder: &'a mut SseDecoder,
}

impl Iterator for SseEvents<'_> {
    type Item = Result<SseEvent, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.decoder.next_event().transpose()
    }
}

impl FusedIterator for SseEvents<'_> {}

/// A stream of server-sent events read from a response [`Body`].
///
/// The raw layer under [`ChatCompletionStream`](crate::ChatCompletionStream): it reads the
/// body only when polled, applies the idle timeout and the maximum event size of its
/// [`StreamConfig`], and ends at the end of the body. It knows nothing about `[DONE]` or
/// chunks. After an error it yields `None`; dropping it drops the body.
pub struct SseStream {
    body: Option<Body>,
    decoder: SseDecoder,
    meta: ResponseMeta,
    idle_timeout: Option<Duration>,
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
    idle_armed: bool,
    /// When the current wait for the body times out. The timer may be set earlier (to an
    /// earlier wait's end): it is moved here only when it fires, not on every wait.
    idle_until: Option<tokio::time::Instant>,
    /// The whole-stream deadline: its duration and timer (made at the first poll).
    deadline: Option<(Duration, tokio::time::Instant)>,
    deadline_timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// What the end of the body cut off, for [`ChatCompletionStream`](crate::ChatCompletionStream).
    cut: Cut,
    /// After `[DONE]`: bytes read and dropped so far, and the timer that ends the wait.
    drained: usize,
    drain_timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// After `[DONE]`, at most this much of the rest of the body is read (and dropped) ...
const DRAIN_LIMIT: usize = 64 * 1024;
/// ... for at most this long, waiting for the body's end so that an HTTP/1.1 connection can
/// be reused: a body dropped before its end makes the transport close the connection.
const DRAIN_WAIT: Duration = Duration::from_millis(500);

impl SseStream {
    /// A stream of the events in `body`.
    pub fn new(body: Body, config: StreamConfig, meta: ResponseMeta) -> Self {
        SseStream {
            body: Some(body),
            decoder: SseDecoder::new(config.max_event_size),
            meta,
            idle_timeout: config.idle_timeout,
            idle: None,
            idle_armed: false,
            idle_until: None,
            // A deadline too far away to represent never fires.
            deadline: config.deadline.and_then(|after| {
                let start = config.started.unwrap_or_else(tokio::time::Instant::now);
                Some((after, start.checked_add(after)?))
            }),
            deadline_timer: None,
            cut: Cut::Nothing,
            drained: 0,
            drain_timer: None,
        }
    }

    /// The status, headers, request id, rate limits and attempts of the response.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// The next event; `None` at the end of the body or after an error.
    pub async fn next(&mut self) -> Option<Result<SseEvent, Error>> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Polls for the next event.
    pub fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<SseEvent, Error>>> {
        loop {
            match self.decoder.next_event() {
                Ok(Some(event)) => return Poll::Ready(Some(Ok(event))),
                Ok(None) => {}
                Err(e) => {
                    self.close();
                    return Poll::Ready(Some(Err(self.stream_error(e))));
                }
            }
            if self.body.is_none() {
                return Poll::Ready(None);
            }
            // Checked before each read of the body rather than for each event: the events
            // decoded already arrived in time, and the timer stays off their path.
            if let Some((after, at)) = self.deadline {
                let timer = self
                    .deadline_timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
                if timer.as_mut().poll(cx).is_ready() {
                    self.close();
                    let timeout = Timeout {
                        kind: TimeoutKind::StreamDeadline,
                        after,
                    };
                    return Poll::Ready(Some(Err(self.error(timeout))));
                }
            }
            let Some(body) = self.body.as_mut() else {
                return Poll::Ready(None);
            };
            match body.poll_chunk(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    self.idle_armed = false;
                    self.decoder.push(chunk);
                }
                Poll::Ready(Some(Err(e))) => {
                    self.close();
                    return Poll::Ready(Some(Err(self.error(e))));
                }
                Poll::Ready(None) => {
                    self.cut = self.decoder.finish_cut();
                    self.close();
                    return Poll::Ready(None);
                }
                Poll::Pending => return self.poll_idle(cx),
            }
        }
    }

    /// Called while the body is pending: arms the idle timer, and fails once it fires.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<SseEvent, Error>>> {
        let Some(after) = self.idle_timeout else {
            return Poll::Pending;
        };
        if !self.idle_armed {
            // A timeout too long to represent never fires.
            let Some(deadline) = tokio::time::Instant::now().checked_add(after) else {
                return Poll::Pending;
            };
            // Re-registering the timer for every wait between chunks costs more than reading
            // a chunk's bytes: a timer set earlier stays, and is moved when it fires.
            match &mut self.idle {
                Some(sleep) if sleep.deadline() > deadline => sleep.as_mut().reset(deadline),
                Some(_) => {}
                None => self.idle = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
            self.idle_until = Some(deadline);
            self.idle_armed = true;
        }
        let Some(sleep) = self.idle.as_mut() else {
            return Poll::Pending;
        };
        loop {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            match self.idle_until {
                // Fired at an earlier wait's end: wait on until this one's.
                Some(until) if sleep.deadline() < until => sleep.as_mut().reset(until),
                _ => break,
            }
        }
        self.close();
        let timeout = Timeout {
            kind: TimeoutKind::Idle,
            after,
        };
        Poll::Ready(Some(Err(self.error(timeout))))
    }

    /// Feeds the start of the body, read before the stream was made, to the decoder.
    pub(crate) fn push_first_chunk(&mut self, chunk: Bytes) {
        self.decoder.push(chunk);
    }

    /// What the end of the body cut off, once; [`Cut::Nothing`] before the end.
    pub(crate) fn take_cut(&mut self) -> Cut {
        std::mem::take(&mut self.cut)
    }

    /// Ends the stream: drops the body and whatever the decoder holds.
    /// After `[DONE]`: reads what is left of the body and drops it, then closes. Ready once
    /// the body ended or failed, more than [`DRAIN_LIMIT`] bytes came, or [`DRAIN_WAIT`]
    /// passed. Normally the end of the body is already there: then no timer is made.
    pub(crate) fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let Some(body) = self.body.as_mut() else {
                return Poll::Ready(());
            };
            match body.poll_chunk(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    self.drained = self.drained.saturating_add(chunk.len());
                    if self.drained > DRAIN_LIMIT {
                        break;
                    }
                }
                Poll::Ready(Some(Err(_)) | None) => break,
                Poll::Pending => {
                    let timer = self
                        .drain_timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(DRAIN_WAIT)));
                    if timer.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    break;
                }
            }
        }
        self.close();
        self.drain_timer = None;
        Poll::Ready(())
    }

    pub(crate) fn close(&mut self) {
        self.body = None;
        self.idle = None;
        self.deadline_timer = None;
        self.decoder.finish();
    }

    /// An error of this stream, with the attempts and request id of the response.
    fn error(&self, e: impl Into<Error>) -> Error {
        e.into()
            .with_attempts(self.meta.attempts)
            .with_request_id(self.meta.request_id.as_deref())
    }

    /// A decoder error with the request id and attempts of the response.
    pub(crate) fn stream_error(&self, mut e: StreamError) -> Error {
        match &mut e {
            StreamError::Truncated { request_id }
            | StreamError::Empty { request_id }
            | StreamError::Malformed { request_id, .. }
            | StreamError::EventTooLarge { request_id, .. } => {
                request_id.clone_from(&self.meta.request_id);
            }
        }
        self.error(e)
    }
}

impl Stream for SseStream {
    type Item = Result<SseEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_event(cx)
    }
}

impl fmt::Debug for SseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseStream")
            .field("open", &self.body.is_some())
            .field("decoder", &self.decoder)
            .field("meta", &self.meta)
            .field("idle_timeout", &self.idle_timeout)
            .field("deadline", &self.deadline.map(|(after, _)| after))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(decoder: &mut SseDecoder, chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for chunk in chunks {
            for event in decoder.decode(chunk.to_vec()) {
                out.push(event.unwrap());
            }
        }
        out
    }

    #[test]
    fn single_line_data_is_a_slice_of_the_chunk() {
        let chunk = Bytes::from_static(b"data: {\"a\":1}\n\n");
        let mut decoder = SseDecoder::new(64);
        let event = decoder.decode(chunk.clone()).next().unwrap().unwrap();
        assert_eq!(event.data(), "{\"a\":1}");
        // Zero copy: the data points into the pushed chunk.
        let range = chunk.as_ptr_range();
        assert!(range.contains(&event.data_bytes().as_ptr()));
    }

    #[test]
    fn partial_line_is_bounded_by_the_limit() {
        let mut decoder = SseDecoder::new(10);
        assert!(decoder.decode(&b"data: 1234"[..]).next().is_none());
        assert_eq!(decoder.line.len(), 10);
        let err = decoder.decode(&b"5"[..]).next().unwrap().unwrap_err();
        assert!(matches!(err, StreamError::EventTooLarge { limit: 10, .. }));
        assert!(decoder.line.is_empty() && decoder.failed);
    }

    #[test]
    fn finish_cut_reports_what_the_end_cut_off() {
        let cut = |input: &[u8]| {
            let mut decoder = SseDecoder::new(64);
            decoder.decode(input.to_vec()).for_each(drop);
            let cut = decoder.finish_cut();
            // It resets the decoder like `finish`.
            assert!(!decoder.finish(), "{input:?}");
            cut
        };
        assert!(matches!(cut(b"data: a\n\n"), Cut::Nothing));
        assert!(matches!(cut(b"data: a\n\n: comment"), Cut::Nothing));
        assert!(matches!(cut(b"data: a\n\n \t"), Cut::Nothing));
        assert!(matches!(cut(b"data: a\n\nda"), Cut::Line));
        assert!(
            matches!(cut(b"data: \xE2\x82"), Cut::Line),
            "a cut character"
        );
        match cut(b"id: 7\nevent: e\ndata: x\ndata: y") {
            Cut::Event(event) => {
                assert_eq!(event, SseEvent::new("x\ny").with_event("e").with_id("7"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(cut(b"data: [DONE]\n"), Cut::Event(e) if e.data() == "[DONE]"));
    }

    #[test]
    fn to_wire_round_trips() {
        let events = [
            SseEvent::new("a\nb\r\nc\rd").with_event("x").with_id("7"),
            SseEvent::new(""),
            SseEvent::new(" leading space"),
        ];
        let mut decoder = SseDecoder::new(1024);
        let wire: String = events.iter().map(SseEvent::to_wire).collect();
        let decoded = decode_all(&mut decoder, &[wire.as_bytes()]);
        assert_eq!(decoded[0].data(), "a\nb\nc\nd");
        assert_eq!(decoded[0].event(), "x");
        assert_eq!(decoded[0].id(), Some("7"));
        // The id persists across events, as the standard says.
        assert_eq!(decoded[1], SseEvent::new("").with_id("7"));
        assert_eq!(decoded[2].data(), " leading space");
    }
}
