//! The seam between the client and an HTTP implementation.
//!
//! A transport sends one HTTP request and hands back the response head with a body that is
//! either a whole buffer or a stream of chunks. Everything else (URLs, headers, retries,
//! deadlines, SSE, decoding) is the client's job, so a transport is small: see
//! [`Transport`] for a complete example.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_core::Stream;

/// Sends HTTP requests for the [`Client`](crate::Client).
///
/// Implement it to run the whole client (retries, streaming, errors) over your own HTTP stack.
/// The transport owns connections, TLS and the connect timeout; the client owns request
/// deadlines (it drops the future returned by [`send`](Transport::send) when they pass) and
/// retries. A transport that decompresses a body removes its `Content-Encoding` header: the
/// client reports a body that still has one (other than `identity`) as a
/// [`DecodeError`](crate::DecodeError) naming the encoding.
///
/// ```
/// use chat_core::{async_trait, Body, Transport, TransportError};
/// use bytes::Bytes;
///
/// /// Answers every request with the same JSON.
/// #[derive(Debug)]
/// struct Canned(&'static str);
///
/// #[async_trait]
/// impl Transport for Canned {
///     async fn send(
///         &self,
///         _request: http::Request<Bytes>,
///     ) -> Result<http::Response<Body>, TransportError> {
///         Ok(http::Response::new(Body::from(self.0)))
///     }
/// }
/// ```
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and returns the response head once it arrives.
    ///
    /// The body may still be streaming; the client reads it chunk by chunk.
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Body>, TransportError>;
}

/// The kind of a [`TransportError`]. The client retries every kind but [`Tls`](Self::Tls) and
/// [`Protocol`](Self::Protocol), whose causes do not go away on a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be established (DNS, refused, unreachable, connect timeout).
    Connect,
    /// The transport gave up waiting.
    Timeout,
    /// The TLS handshake or certificate validation failed.
    Tls,
    /// Reading or writing failed after the connection was established (reset, closed early).
    Io,
    /// The server's answer broke HTTP: a garbage status line, too many or malformed
    /// headers, invalid chunked encoding. Deterministic, so it is not retried.
    Protocol,
    /// Anything else.
    Other,
}

impl TransportErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            TransportErrorKind::Connect => "connection failed",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Tls => "tls error",
            TransportErrorKind::Io => "i/o error",
            TransportErrorKind::Protocol => "protocol error",
            TransportErrorKind::Other => "transport error",
        }
    }
}

/// An error of a [`Transport`]: what went wrong, in words, with the underlying cause.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// An error of `kind` with a message.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// A connection failure.
    pub fn connect(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Connect, message)
    }

    /// A timeout.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Timeout, message)
    }

    /// An I/O failure on an established connection.
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Io, message)
    }

    /// A violation of HTTP by the server (not retried).
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Protocol, message)
    }

    /// A TLS failure.
    pub fn tls(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Tls, message)
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(self.kind.as_str())
        } else {
            write!(f, "{}: {}", self.kind.as_str(), self.message)
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

/// A response body: a whole buffer, or a stream of chunks read as they arrive.
///
/// Streams are pulled: no chunk is read until the client asks for it, and dropping the body
/// cancels the transfer.
pub struct Body {
    inner: Inner,
}

enum Inner {
    Full(Option<Bytes>),
    Stream(ChunkStream),
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body {
            inner: Inner::Full(None),
        }
    }

    /// A body of one buffer.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let b = bytes.into();
        Body {
            inner: Inner::Full(if b.is_empty() { None } else { Some(b) }),
        }
    }

    /// A body read chunk by chunk from `stream`.
    pub fn from_stream<S>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
    {
        Body {
            inner: Inner::Stream(Box::pin(stream)),
        }
    }

    /// Whether the whole body is already in memory.
    pub fn is_full(&self) -> bool {
        matches!(self.inner, Inner::Full(_))
    }

    /// Polls for the next chunk; `None` at the end of the body.
    pub fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, TransportError>>> {
        match &mut self.inner {
            Inner::Full(b) => Poll::Ready(b.take().map(Ok)),
            Inner::Stream(s) => s.as_mut().poll_next(cx),
        }
    }

    /// The next chunk; `None` at the end of the body.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, TransportError>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// Reads the whole body, failing with a [`TransportErrorKind::Other`] error once it
    /// exceeds `limit` bytes.
    pub async fn collect(self, limit: usize) -> Result<Bytes, TransportError> {
        self.collect_limited(limit).await.map_err(|e| match e {
            CollectError::TooLarge => TransportError::new(
                TransportErrorKind::Other,
                format!("response body exceeds the limit of {limit} bytes"),
            ),
            CollectError::Transport(e) => e,
        })
    }

    /// Reads the whole body, up to `limit` bytes. A body of one chunk is returned without
    /// copying; more chunks are joined into one buffer.
    pub(crate) async fn collect_limited(mut self, limit: usize) -> Result<Bytes, CollectError> {
        let mut first: Option<Bytes> = None;
        let mut buf = BytesMut::new();
        let mut len = 0usize;
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk.map_err(CollectError::Transport)?;
            len = len.saturating_add(chunk.len());
            if len > limit {
                return Err(CollectError::TooLarge);
            }
            if chunk.is_empty() {
                continue;
            }
            match first.take() {
                None if buf.is_empty() => first = Some(chunk),
                held => {
                    if let Some(held) = held {
                        buf.reserve(held.len() + chunk.len());
                        buf.extend_from_slice(&held);
                    }
                    buf.extend_from_slice(&chunk);
                }
            }
        }
        Ok(first.unwrap_or_else(|| buf.freeze()))
    }
}

/// Why [`Body::collect_limited`] failed.
#[derive(Debug)]
pub(crate) enum CollectError {
    /// The body is larger than the limit.
    TooLarge,
    /// Reading failed.
    Transport(TransportError),
}

impl Stream for Body {
    type Item = Result<Bytes, TransportError>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx)
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Full(b) => f
                .debug_tuple("Body::Full")
                .field(&b.as_ref().map_or(0, |b| b.len()))
                .finish(),
            Inner::Stream(_) => f.write_str("Body::Stream"),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::full(b)
    }
}

impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Body::full(b)
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::full(s)
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::full(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Body::full(Bytes::from_static(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Chunks(Vec<Bytes>);
    impl Stream for Chunks {
        type Item = Result<Bytes, TransportError>;
        fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(if self.0.is_empty() {
                None
            } else {
                Some(Ok(self.0.remove(0)))
            })
        }
    }

    #[tokio::test]
    async fn collect_joins_chunks_and_enforces_limit() {
        let body = Body::from_stream(Chunks(vec![Bytes::from("ab"), Bytes::from("cd")]));
        assert_eq!(body.collect(10).await.unwrap(), Bytes::from("abcd"));
        let body = Body::from_stream(Chunks(vec![Bytes::from("ab"), Bytes::from("cd")]));
        let err = body.collect(3).await.unwrap_err();
        assert!(err.to_string().contains("limit of 3 bytes"), "{err}");
        assert_eq!(
            Body::full("xyz").collect(2).await.unwrap_err().kind(),
            TransportErrorKind::Other
        );
        assert_eq!(Body::empty().collect(0).await.unwrap(), Bytes::new());
    }
}
