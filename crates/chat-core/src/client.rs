//! The client: request building, the attempt loop with timeouts and retries, and decoding.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE, USER_AGENT};
use http::{Method, StatusCode, Uri};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::config::{Config, RequestOptions};
use crate::error::{text_prefix, MAX_ERROR_BODY, SNIPPET_BYTES};
use crate::middleware::{RequestContext, ResponseHead};
use crate::pacer::Pacer;
use crate::retry::{retry_delay, Jitter};
use crate::trace::{AttemptSpan, OpSpan};
use crate::transport::CollectError;
use crate::{ApiError, Body, DecodeError, Error, Timeout, TimeoutKind, Transport};

/// The header that tells the server how many times this request was retried before.
///
/// Sent only on retries (`1`, `2`, ...), never on the first attempt: a server or proxy can tell
/// retries apart without the first attempt carrying an extra header. The official SDKs send
/// `x-stainless-retry-count` on every attempt; that name belongs to their code generator, so
/// this crate uses a neutral one.
pub const RETRY_COUNT_HEADER: &str = "x-retry-count";

/// A client of the Chat Completions API over any [`Transport`].
///
/// Cheap to clone (the state is behind an [`Arc`]); share one per configuration. Every
/// operation retries according to the configuration (see [`Config`]) and returns the decoded
/// body with its metadata ([`Response`](crate::Response)), or an [`Error`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    options: Option<Arc<RequestOptions>>,
}

struct Inner {
    config: Config,
    transport: Arc<dyn Transport>,
    prepared: Result<Prepared, String>,
    jitter: Jitter,
}

/// The parts of every request that depend only on the configuration, checked once.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The headers of every request, the credential's among them when it is fixed.
    headers: HeaderMap,
    /// Whether `headers` holds the credential (else the provider is asked per attempt).
    fixed_credential: bool,
    /// The URL of creating a completion (with the default query), built once: it is the same
    /// for every such request without extra query parameters.
    completions: Option<Uri>,
}

impl Prepared {
    pub(crate) fn new(config: &Config) -> Result<Prepared, Error> {
        if let Some(e) = &config.error {
            return Err(Error::invalid_config(e.clone()));
        }
        let uri = Uri::try_from(config.base_url.as_str())
            .map_err(|_| Error::invalid_config("the base URL is not a valid URL"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
            return Err(Error::invalid_config(
                "the base URL must be an absolute http:// or https:// URL",
            ));
        }
        if uri.query().is_some() {
            return Err(Error::invalid_config(
                "the base URL must not have a query; use Config::query",
            ));
        }
        check_no_userinfo(&uri, "the base URL")?;
        let value = |what: &str, v: &str| {
            HeaderValue::try_from(v).map_err(|_| {
                Error::invalid_config(format!("the {what} is not a valid header value"))
            })
        };
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, value("user agent", &config.user_agent)?);
        if let Some(org) = &config.organization {
            headers.insert(
                HeaderName::from_static("openai-organization"),
                value("organization", org)?,
            );
        }
        if let Some(project) = &config.project {
            headers.insert(
                HeaderName::from_static("openai-project"),
                value("project", project)?,
            );
        }
        // A fixed credential's header is built (and checked) once; `Config::credential`
        // already recorded an invalid one as the configuration error returned above.
        let fixed = config.credential.as_ref().and_then(|p| p.fixed());
        if let Some(credential) = fixed {
            headers.insert(credential.header_name().clone(), credential.header_value()?);
        }
        let mut completions = String::with_capacity(config.base_url.len() + COMPLETIONS.len());
        completions.push_str(&config.base_url);
        completions.push_str(COMPLETIONS);
        crate::url::append_query(
            &mut completions,
            config
                .default_query
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let completions = Uri::try_from(completions).ok();
        Ok(Prepared {
            headers,
            fixed_credential: fixed.is_some(),
            completions,
        })
    }
}

/// Rejects a URL with user information (`user:password@host`): it is never used to
/// authenticate, and would reach the transport (and its logs). The error does not quote it.
fn check_no_userinfo(uri: &Uri, what: &str) -> Result<(), Error> {
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(Error::invalid_config(format!(
            "{what} contains user information (`user:password@`), which is never used to \
             authenticate; remove it and set the key with Config::api_key (or a header)"
        )));
    }
    Ok(())
}

/// Request headers besides the configured ones: `content-type`, `accept`, a credential from
/// a provider, the retry count, and what the transport adds (`accept-encoding`, `host`,
/// `content-length`, a proxy's credential).
const EXTRA_HEADERS: usize = 8;

/// The path of creating a chat completion, relative to the base URL.
pub(crate) const COMPLETIONS: &str = "/chat/completions";

/// How much of a successful response an attempt reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// The whole body, within the attempt timeout.
    Full,
    /// Only the head; the body is handed over unread.
    Head,
    /// The head of an event stream and its first chunk, so that a failure before the first
    /// byte is retried; a JSON body instead is read and reported as an error.
    EventStream,
}

/// One logical request, before retries.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) operation: &'static str,
    pub(crate) method: Method,
    /// Percent-encoded path after the base URL, or an absolute URL.
    pub(crate) path: Cow<'static, str>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Bytes>,
    pub(crate) accept: &'static str,
    pub(crate) model: Option<&'a str>,
    pub(crate) read: Read,
    /// Whether the path is relative to an Azure deployment (creating completions) rather than
    /// to the resource (stored completions).
    pub(crate) deployment_scoped: bool,
}

/// The body of a successful attempt.
#[derive(Debug)]
pub(crate) enum ReplyBody {
    /// [`Read::Full`]: the whole body.
    Full(Bytes),
    /// [`Read::Head`]: the body, unread.
    Head(Body),
    /// [`Read::EventStream`]: the first chunk (`None` for an empty body) and the rest.
    EventStream(Option<Bytes>, Body),
}

impl ReplyBody {
    /// The body as one [`Body`], whatever was read of it.
    pub(crate) fn into_body(self) -> Body {
        match self {
            ReplyBody::Full(bytes) => Body::full(bytes),
            ReplyBody::Head(body) | ReplyBody::EventStream(None, body) => body,
            ReplyBody::EventStream(Some(first), rest) => Body::from_stream(Prepended {
                first: Some(first),
                rest,
            }),
        }
    }
}

/// A body whose first chunk was read already.
struct Prepended {
    first: Option<Bytes>,
    rest: Body,
}

impl futures_core::Stream for Prepended {
    type Item = Result<Bytes, crate::TransportError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        match self.first.take() {
            Some(first) => std::task::Poll::Ready(Some(Ok(first))),
            None => self.rest.poll_chunk(cx),
        }
    }
}

/// A successful response after retries.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) head: ResponseHead,
    pub(crate) body: ReplyBody,
    pub(crate) attempts: u32,
    pub(crate) span: OpSpan,
    /// The context of the successful attempt, for reporting a later decode error.
    pub(crate) ctx: RequestContext,
}

impl Client {
    /// A client sending requests through `transport`.
    ///
    /// Configuration errors (such as an invalid header value) are reported by every operation;
    /// use [`try_new`](Client::try_new) to find them at once.
    pub fn new(config: Config, transport: impl Transport + 'static) -> Self {
        Self::with_arc_transport(config, Arc::new(transport))
    }

    /// A client sending requests through a shared transport.
    pub fn with_arc_transport(config: Config, transport: Arc<dyn Transport>) -> Self {
        let prepared = Prepared::new(&config).map_err(|e| match e.into_kind() {
            crate::ErrorKind::InvalidConfig(m) => m,
            other => other.to_string(),
        });
        Client {
            inner: Arc::new(Inner {
                config,
                transport,
                prepared,
                jitter: Jitter::new(),
            }),
            options: None,
        }
    }

    /// Like [`new`](Client::new), failing on an invalid configuration.
    pub fn try_new(config: Config, transport: impl Transport + 'static) -> Result<Self, Error> {
        let client = Self::new(config, transport);
        client.prepared()?;
        Ok(client)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.inner.transport
    }

    /// A client that applies `options` to every request, on top of any options this client
    /// already has. The clone shares the transport and configuration.
    ///
    /// ```
    /// # use chat_core::{Client, Config, RequestOptions};
    /// # fn demo(client: &Client) {
    /// use std::time::Duration;
    /// let quick = client.with_options(RequestOptions::new().timeout(Duration::from_secs(5)));
    /// # }
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> Client {
        let options = match &self.options {
            Some(current) => current.merged(&options),
            None => options,
        };
        Client {
            inner: Arc::clone(&self.inner),
            options: Some(Arc::new(options)),
        }
    }

    /// The options this client applies to every request, if any.
    pub fn options(&self) -> Option<&RequestOptions> {
        self.options.as_deref()
    }

    fn prepared(&self) -> Result<&Prepared, Error> {
        self.inner
            .prepared
            .as_ref()
            .map_err(|m| Error::invalid_config(m.clone()))
    }

    fn url(&self, call: &Call<'_>, prepared: &Prepared) -> Result<Uri, Error> {
        let config = &self.inner.config;
        let extra = self.options.as_deref().map(|o| &o.query[..]).unwrap_or(&[]);
        if call.deployment_scoped
            && call.path == COMPLETIONS
            && call.query.is_empty()
            && extra.is_empty()
        {
            if let Some(uri) = &prepared.completions {
                return Ok(uri.clone());
            }
        }
        let mut url = if call.path.starts_with("http://") || call.path.starts_with("https://") {
            call.path.clone().into_owned()
        } else {
            let base = match &config.resource_url {
                Some(resource) if !call.deployment_scoped => resource,
                _ => &config.base_url,
            };
            let mut u = String::with_capacity(base.len() + call.path.len() + 1);
            u.push_str(base);
            if !call.path.starts_with('/') {
                u.push('/');
            }
            u.push_str(&call.path);
            u
        };
        crate::url::append_query(
            &mut url,
            config
                .default_query
                .iter()
                .chain(extra)
                .chain(&call.query)
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let uri = Uri::try_from(url).map_err(|_| {
            Error::invalid_config(format!(
                "the request path {:?} does not form a valid URL",
                crate::url::redact_url(&call.path)
            ))
        })?;
        check_no_userinfo(&uri, "the request URL")?;
        Ok(uri)
    }

    /// Builds the request of one attempt, with every header.
    async fn build_request(
        &self,
        call: &Call<'_>,
        uri: &Uri,
        prepared: &Prepared,
        attempt: u32,
    ) -> Result<http::Request<Bytes>, Error> {
        let mut request = http::Request::new(call.body.clone().unwrap_or_default());
        *request.method_mut() = call.method.clone();
        *request.uri_mut() = uri.clone();
        let headers = request.headers_mut();
        // Room for every header the transport and HTTP layer add (`accept-encoding`, `host`,
        // `content-length`), so that the map is allocated once and never rehashed.
        let configured = prepared.headers.len()
            + self.inner.config.headers.len()
            + self.options.as_ref().map_or(0, |o| o.headers.len());
        *headers = HeaderMap::with_capacity(configured + EXTRA_HEADERS);
        if call.body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        headers.insert(ACCEPT, HeaderValue::from_static(call.accept));
        for (name, value) in &prepared.headers {
            headers.insert(name.clone(), value.clone());
        }
        if let Some(provider) = self
            .inner
            .config
            .credential
            .as_ref()
            .filter(|_| !prepared.fixed_credential)
        {
            let credential = provider.credential().await?;
            headers.insert(credential.header_name().clone(), credential.header_value()?);
        }
        override_headers(headers, &self.inner.config.headers);
        if let Some(options) = &self.options {
            override_headers(headers, &options.headers);
        }
        if attempt > 1 {
            headers.insert(
                HeaderName::from_static(RETRY_COUNT_HEADER),
                HeaderValue::from(attempt - 1),
            );
        }
        Ok(request)
    }

    /// Sends `call`, retrying as configured.
    pub(crate) async fn execute(&self, call: Call<'_>) -> Result<Reply, Error> {
        let config = &self.inner.config;
        let options = self.options.as_deref();
        let prepared = self.prepared()?;
        if let Some(e) = options.and_then(|o| o.error.as_ref()) {
            return Err(Error::invalid_config(e.clone()));
        }
        let uri = self.url(&call, prepared)?;
        let span = OpSpan::new(call.operation, &call.method, uri.path(), call.model);
        let max_retries = options
            .and_then(|o| o.max_retries)
            .unwrap_or(config.max_retries);
        let timeout = options.and_then(|o| o.timeout).unwrap_or(config.timeout);
        let start = Instant::now();
        let limit_of = |after: Option<Duration>, kind: TimeoutKind| {
            after.and_then(|after| Some((start.checked_add(after)?, Timeout { kind, after })))
        };
        let overall = limit_of(
            options.and_then(|o| o.deadline).unwrap_or(config.deadline),
            TimeoutKind::Deadline,
        );
        // A stream's whole-stream deadline counts from the call, so it bounds getting it too.
        let stream_deadline = match call.read {
            Read::EventStream => limit_of(
                options
                    .and_then(|o| o.stream_deadline)
                    .unwrap_or(config.stream_deadline),
                TimeoutKind::StreamDeadline,
            ),
            _ => None,
        };
        let deadline = earliest(overall, stream_deadline);
        let max_attempts = max_retries.saturating_add(1);

        // Shared by the contexts of every attempt (cloning them allocates nothing). Only
        // middleware read a context, so without any the model is not copied.
        let model: Option<Arc<str>> = call
            .model
            .filter(|_| !config.middleware.is_empty())
            .map(Arc::from);
        let run = async {
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                let mut ctx = RequestContext {
                    operation: call.operation,
                    method: call.method.clone(),
                    path: call.path.clone(),
                    model: model.clone(),
                    attempt,
                    max_attempts,
                    streaming: call.read == Read::EventStream,
                    will_retry: false,
                };
                // Counts this attempt in flight for the pacer until its answer is handled.
                let permit = match &config.pacer {
                    Some(pacer) => match pacer.ready(deadline.clone()).await {
                        Ok(permit) => Some(permit),
                        Err(timeout) => return Err(Error::from(timeout).with_attempts(attempt)),
                    },
                    None => None,
                };
                // One limit for the whole attempt, from asking for the credential to reading.
                let limit = attempt_limit(timeout, deadline.clone());
                let until = limit.as_ref().map(|(at, _)| *at);
                let mut head_request_id = None;
                let work = async {
                    let mut request = self.build_request(&call, &uri, prepared, attempt).await?;
                    for m in &config.middleware {
                        m.on_request(&mut request, &ctx).await?;
                    }
                    let attempt_span = span.attempt(attempt);
                    let sent = self.attempt(
                        request,
                        &call,
                        &ctx,
                        &attempt_span,
                        until,
                        &mut head_request_id,
                    );
                    Ok::<_, Error>(attempt_span.instrument(sent).await)
                };
                // Pinned where it is built: the timeout holds a pointer to it, not a copy.
                let result = match within(limit, std::pin::pin!(work)).await {
                    // A credential provider or middleware failed: returned as is, never retried.
                    Ok(Err(e)) => return Err(e.with_attempts(attempt)),
                    Ok(Ok(result)) => result,
                    // The time ran out: retried like any failed attempt.
                    Err(timeout) => Err(timeout.into()),
                };
                drop(permit);
                // An error after the response head (a body that broke off or stalled) names
                // that response; errors that carry their own id keep it.
                let result = result.map_err(|e| {
                    e.with_request_id(head_request_id.as_ref().and_then(|v| v.to_str().ok()))
                });
                let err = match result {
                    Ok((head, body)) => {
                        span.record_response(
                            head.status.as_u16(),
                            head_request_id.as_ref().and_then(|v| v.to_str().ok()),
                            attempt,
                        );
                        return Ok((head, body, attempt, ctx));
                    }
                    Err(err) => err,
                };
                let mut delay = None;
                if attempt < max_attempts && err.is_retryable() {
                    let jitter = config.retry_jitter.then_some(&self.inner.jitter);
                    let paced = config.pacer.as_ref().is_some_and(Pacer::waits_for_reset);
                    let d = retry_delay(&err, attempt - 1, jitter, paced, SystemTime::now());
                    let fits = match deadline {
                        Some((at, _)) => Instant::now().checked_add(d).is_some_and(|t| t < at),
                        None => true,
                    };
                    if fits {
                        delay = Some(d);
                    }
                }
                ctx.will_retry = delay.is_some();
                self.notify_error(&err, &ctx);
                match delay {
                    Some(d) => {
                        span.retrying(attempt, d, &err);
                        tokio::time::sleep(d).await;
                    }
                    None => {
                        if let Some(status) = err.status() {
                            span.record_response(status.as_u16(), err.request_id(), attempt);
                        }
                        return Err(err.with_attempts(attempt));
                    }
                }
            }
        };
        let (head, body, attempts, ctx) = span.instrument(run).await?;
        Ok(Reply {
            head,
            body,
            attempts,
            span,
            ctx,
        })
    }

    /// Tells every middleware, innermost first, that an attempt failed.
    pub(crate) fn notify_error(&self, error: &Error, ctx: &RequestContext) {
        for m in self.inner.config.middleware.iter().rev() {
            m.on_error(error, ctx);
        }
    }

    /// One attempt: send, check the status, and read as much as `call.read` asks.
    async fn attempt(
        &self,
        request: http::Request<Bytes>,
        call: &Call<'_>,
        ctx: &RequestContext,
        span: &AttemptSpan,
        until: Option<Instant>,
        head_request_id: &mut Option<HeaderValue>,
    ) -> Result<(ResponseHead, ReplyBody), Error> {
        let config = &self.inner.config;
        let response = self.inner.transport.send(request).await?;
        let (head, body) = response.into_parts();
        if let Some(pacer) = &config.pacer {
            pacer.observe(&head.headers);
        }
        let request_id = head.headers.get(&crate::meta::REQUEST_ID);
        // For an error that cuts the body short, even a timeout that drops this future
        // (cloning shares the bytes).
        *head_request_id = request_id.cloned();
        span.record_status(
            head.status.as_u16(),
            request_id.and_then(|v| v.to_str().ok()),
        );
        for m in config.middleware.iter().rev() {
            m.on_response(&head, ctx);
        }
        let encoding = undecoded_encoding(&head.headers);
        if !head.status.is_success() {
            // Until the attempt's limit at most: an error head whose body stalls is still
            // returned as the API error it is, with the body read so far.
            let bytes = read_prefix(body, MAX_ERROR_BODY, until).await;
            let Some(encoding) = encoding else {
                return Err(ApiError::from_response(head.status, head.headers, &bytes).into());
            };
            // Compressed bytes are noise as text: keep the status, say why the body is missing.
            let mut api = ApiError::from_response(head.status, head.headers, b"");
            api.body = format!(
                "[{} bytes of {encoding}-encoded body, not decoded]",
                bytes.len()
            );
            return Err(api.into());
        }
        if let (Some(encoding), Read::Full | Read::EventStream) = (encoding, call.read) {
            return Err(encoded_body_error(&head, encoding));
        }
        match call.read {
            Read::Full => {
                let bytes = read_body(body, config.max_response_bytes, &head).await?;
                Ok((head, ReplyBody::Full(bytes)))
            }
            Read::EventStream if is_json(&head.headers) => {
                let bytes = read_body(body, config.max_response_bytes, &head).await?;
                Err(not_an_event_stream(&head, &bytes))
            }
            // A web page (a captive portal, a proxy's login form) is no event stream: say so
            // with the start of the page instead of failing later as an empty stream.
            Read::EventStream if is_markup(&head.headers) => {
                let bytes = read_prefix(body, MAX_ERROR_BODY, until).await;
                Err(DecodeError {
                    message: format!(
                        "expected an event stream (text/event-stream) but the server sent {}",
                        head.headers
                            .get(CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                    ),
                    path: None,
                    snippet: text_prefix(&bytes, SNIPPET_BYTES),
                    status: Some(head.status),
                    request_id: crate::meta::request_id(&head.headers),
                    content_encoding: None,
                }
                .into())
            }
            Read::EventStream => {
                let mut body = body;
                let first = first_chunk(&mut body).await?;
                Ok((head, ReplyBody::EventStream(first, body)))
            }
            Read::Head => Ok((head, ReplyBody::Head(body))),
        }
    }
}

/// When the attempt starting now must end, and the error it then ends with: the per-attempt
/// `timeout` or the `deadline` across attempts, whichever comes first (the deadline on a tie).
fn attempt_limit(
    timeout: Option<Duration>,
    deadline: Option<(Instant, Timeout)>,
) -> Option<(Instant, Timeout)> {
    let per_attempt = timeout.and_then(|after| {
        let at = Instant::now().checked_add(after)?;
        Some((
            at,
            Timeout {
                kind: TimeoutKind::Request,
                after,
            },
        ))
    });
    earliest(per_attempt, deadline)
}

/// The limit that comes first (`b` on a tie).
fn earliest(
    a: Option<(Instant, Timeout)>,
    b: Option<(Instant, Timeout)>,
) -> Option<(Instant, Timeout)> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Runs `f` until `limit`, failing with its timeout after that.
async fn within<F: Future>(limit: Option<(Instant, Timeout)>, f: F) -> Result<F::Output, Timeout> {
    match limit {
        None => Ok(f.await),
        Some((at, timeout)) => tokio::time::timeout_at(at, f).await.map_err(|_| timeout),
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("transport", &self.inner.transport)
            .field("options", &self.options)
            .finish()
    }
}

/// Replaces the headers of `to` named in `from` with the values of `from`.
fn override_headers(to: &mut HeaderMap, from: &HeaderMap) {
    for name in from.keys() {
        to.remove(name);
    }
    for (name, value) in from {
        to.append(name.clone(), value.clone());
    }
}

/// Whether the response's content type is JSON.
fn is_json(headers: &HeaderMap) -> bool {
    content_type_is(headers, &["application/json", "application/problem+json"])
}

/// Whether the response is a web page (HTML or XML) by its content type.
fn is_markup(headers: &HeaderMap) -> bool {
    content_type_is(
        headers,
        &[
            "text/html",
            "application/xhtml+xml",
            "text/xml",
            "application/xml",
        ],
    )
}

/// Whether the content type starts with one of `types` (lowercase; compared
/// case-insensitively).
fn content_type_is(headers: &HeaderMap, types: &[&str]) -> bool {
    headers.get(CONTENT_TYPE).is_some_and(|v| {
        let Ok(v) = v.to_str() else {
            return false;
        };
        let v = v.trim_start().as_bytes();
        types.iter().any(|t| {
            v.get(..t.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(t.as_bytes()))
        })
    })
}

/// A 2xx JSON answer to a streaming request: an error object, or a decode error.
fn not_an_event_stream(head: &ResponseHead, bytes: &[u8]) -> Error {
    let api = ApiError::from_response(head.status, head.headers.clone(), bytes);
    if api.error.is_some() {
        return api.into();
    }
    DecodeError {
        message: "expected an event stream (text/event-stream) but the server sent JSON".into(),
        path: None,
        snippet: text_prefix(bytes, SNIPPET_BYTES),
        status: Some(head.status),
        request_id: crate::meta::request_id(&head.headers),
        content_encoding: None,
    }
    .into()
}

/// The `Content-Encoding` of a response that nothing decoded (a transport that decodes a
/// body removes the header), lowercased; `None` for none or `identity`.
fn undecoded_encoding(headers: &HeaderMap) -> Option<String> {
    let mut out = String::new();
    for value in headers.get_all(http::header::CONTENT_ENCODING) {
        let text = String::from_utf8_lossy(value.as_bytes());
        for coding in text.split(',').map(str::trim) {
            if coding.is_empty() || coding.eq_ignore_ascii_case("identity") {
                continue;
            }
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(&coding.to_ascii_lowercase());
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The decode error of a 2xx body in an encoding nothing decoded, naming it (and the
/// chat-hyper feature that decodes it, if one does).
fn encoded_body_error(head: &ResponseHead, encoding: String) -> Error {
    let feature = match encoding.as_str() {
        "gzip" | "x-gzip" => Some("gzip"),
        "br" => Some("br"),
        "zstd" => Some("zstd"),
        _ => None,
    };
    let mut message = format!(
        "the response body is encoded with `{encoding}` (Content-Encoding), which the \
         transport did not decode"
    );
    if let Some(feature) = feature {
        message.push_str(&format!(
            " (chat-hyper decodes it with its `{feature}` feature)"
        ));
    }
    DecodeError {
        message,
        path: None,
        snippet: String::new(),
        status: Some(head.status),
        request_id: crate::meta::request_id(&head.headers),
        content_encoding: Some(encoding),
    }
    .into()
}

/// Reads up to `limit` bytes of `body` (for error bodies): what arrived before a read error,
/// the end of the body or the instant `until`.
async fn read_prefix(mut body: Body, limit: usize, until: Option<Instant>) -> Bytes {
    let mut buf = BytesMut::new();
    while buf.len() < limit {
        let next = match until {
            Some(at) => match tokio::time::timeout_at(at, body.chunk()).await {
                Ok(next) => next,
                Err(_) => break,
            },
            None => body.chunk().await,
        };
        match next {
            Some(Ok(chunk)) => {
                let take = chunk.len().min(limit - buf.len());
                buf.extend_from_slice(&chunk[..take]);
            }
            Some(Err(_)) | None => break,
        }
    }
    buf.freeze()
}

/// The first non-empty chunk of `body`; `None` when the body is empty.
async fn first_chunk(body: &mut Body) -> Result<Option<Bytes>, Error> {
    while let Some(chunk) = body.chunk().await {
        let chunk = chunk?;
        if !chunk.is_empty() {
            return Ok(Some(chunk));
        }
    }
    Ok(None)
}

/// Reads the whole body, failing with a (non-retryable) decode error past `limit` bytes.
async fn read_body(body: Body, limit: usize, head: &ResponseHead) -> Result<Bytes, Error> {
    body.collect_limited(limit).await.map_err(|e| match e {
        CollectError::Transport(e) => e.into(),
        CollectError::TooLarge => DecodeError {
            message: format!("the response body exceeds the limit of {limit} bytes"),
            path: None,
            snippet: String::new(),
            status: Some(head.status),
            request_id: crate::meta::request_id(&head.headers),
            content_encoding: None,
        }
        .into(),
    })
}

/// Decodes a 2xx JSON body; on failure, reports where (re-parsing once to find the path).
pub(crate) fn decode_json<T: DeserializeOwned>(
    bytes: &[u8],
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<T, Error> {
    let fail = |message: String, path: Option<String>| -> Error {
        DecodeError {
            message,
            path,
            snippet: text_prefix(bytes, SNIPPET_BYTES),
            status: Some(status),
            request_id: crate::meta::request_id(headers),
            content_encoding: None,
        }
        .into()
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(fail("the response body is empty".into(), None));
    }
    match crate::json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(first) => {
            if let Err(e) = std::str::from_utf8(bytes) {
                return Err(fail(
                    format!(
                        "the response body is not valid UTF-8 (at byte {})",
                        e.valid_up_to()
                    ),
                    None,
                ));
            }
            let mut de = serde_json::Deserializer::from_slice(bytes);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(e) => {
                    let path = e.path().to_string();
                    // `.` is the root; `?` is where serde_path_to_error lost track (the
                    // input ended inside a value): neither names a field.
                    let path = (path != "." && path != "?").then_some(path);
                    Err(fail(e.into_inner().to_string(), path))
                }
                // Cannot happen (same input, same type); report the first error.
                Ok(_) => Err(fail(first.to_string(), None)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_compare_without_case_or_leading_space() {
        let with = |v: &'static [u8]| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, HeaderValue::from_bytes(v).unwrap());
            h
        };
        for v in [
            &b"application/json"[..],
            b"Application/JSON; charset=utf-8",
            b" \tapplication/problem+json",
        ] {
            assert!(is_json(&with(v)), "{v:?}");
            assert!(!is_markup(&with(v)), "{v:?}");
        }
        for v in [&b"TEXT/HTML"[..], b"application/xhtml+xml", b" text/xml"] {
            assert!(is_markup(&with(v)), "{v:?}");
            assert!(!is_json(&with(v)), "{v:?}");
        }
        // Not text (as `to_str` reads it), too short, or another type: neither.
        for v in [
            &b"application/json; x=\xff"[..],
            b"application/js",
            b"text/event-stream",
        ] {
            assert!(!is_json(&with(v)) && !is_markup(&with(v)), "{v:?}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn reply_bodies_keep_every_byte() {
        let rest = || Body::from_stream(Body::from("cd"));
        let cases = [
            (ReplyBody::Full(Bytes::from("abcd")), "abcd"),
            (ReplyBody::Head(rest()), "cd"),
            (ReplyBody::EventStream(None, rest()), "cd"),
            (
                ReplyBody::EventStream(Some(Bytes::from("ab")), rest()),
                "abcd",
            ),
        ];
        for (reply, want) in cases {
            assert_eq!(reply.into_body().collect(16).await.unwrap(), want);
        }
    }
}
