//! Hooks around every attempt: logging, metrics, custom authentication, request rewriting.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::Method;

use crate::Error;

/// A hook the client calls around every attempt of every request.
///
/// Middlewares run in registration order ([`Config::middleware`](crate::Config::middleware))
/// on the way out ([`on_request`](Middleware::on_request)) and in reverse order on the way
/// back ([`on_response`](Middleware::on_response), [`on_error`](Middleware::on_error)), so the
/// first one registered is the outermost layer. They see each retry as a separate attempt
/// ([`RequestContext::attempt`]).
///
/// The request handed to `on_request` is complete: URL, body and every header including the
/// credential (marked sensitive, so its `Debug` output hides it). A middleware may change
/// anything, or fail the call; such an error is returned as is and not retried.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use chat_core::{async_trait, Error, Middleware, RequestContext, ResponseHead};
///
/// /// Counts responses per status class and signs requests with a custom header.
/// #[derive(Debug, Default)]
/// struct Metrics {
///     ok: AtomicU64,
///     failed: AtomicU64,
/// }
///
/// #[async_trait]
/// impl Middleware for Metrics {
///     async fn on_request(
///         &self,
///         request: &mut http::Request<bytes::Bytes>,
///         _ctx: &RequestContext,
///     ) -> Result<(), Error> {
///         request
///             .headers_mut()
///             .insert("x-signed-by", http::HeaderValue::from_static("metrics"));
///         Ok(())
///     }
///
///     fn on_response(&self, response: &ResponseHead, _ctx: &RequestContext) {
///         let counter = if response.status.is_success() { &self.ok } else { &self.failed };
///         counter.fetch_add(1, Ordering::Relaxed);
///     }
/// }
/// ```
#[async_trait]
pub trait Middleware: Send + Sync + fmt::Debug {
    /// Called before each attempt is sent, with the complete request.
    async fn on_request(
        &self,
        request: &mut http::Request<Bytes>,
        ctx: &RequestContext,
    ) -> Result<(), Error> {
        let _ = (request, ctx);
        Ok(())
    }

    /// Called when the head of a response arrives, whatever its status, before the body is
    /// read.
    fn on_response(&self, response: &ResponseHead, ctx: &RequestContext) {
        let _ = (response, ctx);
    }

    /// Called when an attempt fails: a transport error, a timeout, an error status, or a
    /// successful response whose body cannot be decoded. [`RequestContext::will_retry`] tells
    /// whether another attempt follows. Errors inside a stream after it was returned are not
    /// reported here: the stream returns them.
    fn on_error(&self, error: &Error, ctx: &RequestContext) {
        let _ = (error, ctx);
    }
}

/// The head of a response: status, version and headers.
pub type ResponseHead = http::response::Parts;

/// What a [`Middleware`] knows about the attempt at hand.
///
/// `Debug` redacts secret-looking query parameters of the path (see
/// [`redact_url`](crate::redact_url)); [`path`](Self::path) returns it as given.
#[derive(Clone)]
pub struct RequestContext {
    pub(crate) operation: &'static str,
    pub(crate) method: Method,
    pub(crate) path: Cow<'static, str>,
    pub(crate) model: Option<Arc<str>>,
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
    pub(crate) streaming: bool,
    pub(crate) will_retry: bool,
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("path", &crate::url::redact_url(&self.path))
            .field("model", &self.model)
            .field("attempt", &self.attempt)
            .field("max_attempts", &self.max_attempts)
            .field("streaming", &self.streaming)
            .field("will_retry", &self.will_retry)
            .finish()
    }
}

impl RequestContext {
    /// The operation, such as `chat.completions.create` (or `raw` for
    /// [`send_raw`](crate::Client::send_raw)).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path after the base URL, such as `/chat/completions`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The requested model, when the operation has one.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The number of this attempt, from 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The most attempts this request may make (1 + the retries).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether the response is an event stream.
    pub fn is_streaming(&self) -> bool {
        self.streaming
    }

    /// In [`Middleware::on_error`]: whether the client will retry after this error.
    pub fn will_retry(&self) -> bool {
        self.will_retry
    }
}
