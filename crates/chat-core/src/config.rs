//! Client configuration and per-request options.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::auth::{Credential, CredentialProvider, SecretString};
use crate::middleware::Middleware;
use crate::url::{redact_url, RedactedQuery};
use crate::Error;

/// The base URL of the OpenAI API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The default per-attempt timeout and stream idle timeout: 10 minutes, as the official SDKs
/// use, because long reasoning completions can take minutes before the first byte arrives.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// The default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The default limit of a non-streaming response body: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The `User-Agent` sent unless configured otherwise.
pub fn default_user_agent() -> String {
    format!("chat-sdk-rust/{}", env!("CARGO_PKG_VERSION"))
}

/// Where and how the client talks to the API.
///
/// Build one with [`Config::new`], [`Config::from_env`] or [`Config::azure`] and the chained
/// setters. Setters never panic: an invalid header name or value is remembered and reported
/// as an [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) error by
/// [`validate`](Config::validate), [`Client::try_new`](crate::Client::try_new) and every
/// request. `Debug` never shows the API key.
///
/// ```
/// use std::time::Duration;
/// use chat_core::Config;
///
/// let config = Config::new()
///     .api_key("sk-example")
///     .organization("org-123")
///     .timeout(Duration::from_secs(60))
///     .max_retries(4);
/// assert!(config.validate().is_ok());
/// assert!(!format!("{config:?}").contains("sk-example"));
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) base_url: String,
    /// For Azure: `{endpoint}/openai`, the base of the operations that are not scoped to a
    /// deployment (stored completions).
    pub(crate) resource_url: Option<String>,
    pub(crate) default_query: Vec<(String, String)>,
    pub(crate) credential: Option<Arc<dyn CredentialProvider>>,
    pub(crate) azure: bool,
    pub(crate) organization: Option<String>,
    pub(crate) project: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) user_agent: String,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_retries: u32,
    pub(crate) retry_jitter: bool,
    pub(crate) deadline: Option<Duration>,
    pub(crate) stream_idle_timeout: Option<Duration>,
    pub(crate) stream_deadline: Option<Duration>,
    pub(crate) max_response_bytes: usize,
    pub(crate) max_event_bytes: usize,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    pub(crate) error: Option<String>,
    pub(crate) pacer: Option<crate::pacer::Pacer>,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// The OpenAI API at [`DEFAULT_BASE_URL`], without credentials and with the default limits.
    pub fn new() -> Self {
        Config {
            base_url: DEFAULT_BASE_URL.to_owned(),
            resource_url: None,
            default_query: Vec::new(),
            credential: None,
            azure: false,
            organization: None,
            project: None,
            headers: HeaderMap::new(),
            user_agent: default_user_agent(),
            timeout: Some(DEFAULT_TIMEOUT),
            max_retries: DEFAULT_MAX_RETRIES,
            retry_jitter: true,
            deadline: None,
            stream_idle_timeout: Some(DEFAULT_TIMEOUT),
            stream_deadline: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_event_bytes: crate::StreamConfig::DEFAULT_MAX_EVENT_SIZE,
            middleware: Vec::new(),
            error: None,
            pacer: None,
        }
    }

    /// A configuration from the process environment: `OPENAI_API_KEY` (required),
    /// `OPENAI_BASE_URL`, `OPENAI_ORG_ID` and `OPENAI_PROJECT_ID`.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Config::from_env), reading variables through `get` (for tests, or
    /// for a prefix of your own). Empty values count as unset.
    ///
    /// ```
    /// use chat_core::Config;
    ///
    /// let config = Config::from_env_with(|name| match name {
    ///     "OPENAI_API_KEY" => Some("sk-test".to_owned()),
    ///     "OPENAI_BASE_URL" => Some("http://127.0.0.1:8000/v1".to_owned()),
    ///     _ => None,
    /// })
    /// .unwrap();
    /// assert_eq!(config.get_base_url(), "http://127.0.0.1:8000/v1");
    /// ```
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let key = var("OPENAI_API_KEY")
            .ok_or_else(|| Error::invalid_config("the OPENAI_API_KEY variable is not set"))?;
        let mut config = Config::new().api_key(key.trim());
        if let Some(url) = var("OPENAI_BASE_URL") {
            config = config.base_url(url.trim());
        }
        if let Some(org) = var("OPENAI_ORG_ID") {
            config = config.organization(org.trim());
        }
        if let Some(project) = var("OPENAI_PROJECT_ID") {
            config = config.project(project.trim());
        }
        Ok(config)
    }

    /// Azure OpenAI: requests go to
    /// `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version={api_version}`.
    ///
    /// Authenticate with [`api_key`](Config::api_key) (sent as the `api-key` header) or with
    /// [`credential_provider`](Config::credential_provider) returning
    /// [`Credential::bearer`] Entra ID tokens. The stored-completion operations (list, get,
    /// update, delete) are not scoped to a deployment and go to
    /// `{endpoint}/openai/chat/completions...`.
    pub fn azure(
        endpoint: impl AsRef<str>,
        deployment: impl AsRef<str>,
        api_version: impl Into<String>,
    ) -> Self {
        let mut config = Config::new();
        let resource = format!("{}/openai", endpoint.as_ref().trim_end_matches('/'));
        config.base_url = format!(
            "{resource}/deployments/{}",
            crate::url::encode_segment(deployment.as_ref())
        );
        config.resource_url = Some(resource);
        config.default_query = vec![("api-version".to_owned(), api_version.into())];
        config.azure = true;
        config
    }

    /// The base URL that operation paths (such as `/chat/completions`) are appended to.
    ///
    /// On an [`azure`](Config::azure) configuration this replaces the deployment URL and is
    /// then used for every operation.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.base_url = url.trim_end_matches('/').to_owned();
        self.resource_url = None;
        self
    }

    /// The API key: `Authorization: Bearer <key>`, or `api-key: <key>` for
    /// [`azure`](Config::azure) configurations.
    pub fn api_key(self, key: impl Into<SecretString>) -> Self {
        let credential = if self.azure {
            Credential::azure_api_key(key)
        } else {
            Credential::bearer(key)
        };
        self.credential(credential)
    }

    /// A fixed credential.
    pub fn credential(mut self, credential: Credential) -> Self {
        if let Err(e) = credential.header_value() {
            if let crate::ErrorKind::InvalidConfig(m) = e.into_kind() {
                self.error.get_or_insert(m);
            }
        }
        self.credential_provider(credential)
    }

    /// A provider asked for the credential of every attempt, for rotating keys and tokens.
    pub fn credential_provider(mut self, provider: impl CredentialProvider + 'static) -> Self {
        self.credential = Some(Arc::new(provider));
        self
    }

    /// Like [`credential_provider`](Config::credential_provider), with a shared provider.
    pub fn credential_provider_arc(mut self, provider: Arc<dyn CredentialProvider>) -> Self {
        self.credential = Some(provider);
        self
    }

    /// Sends no credential (for local servers that need none).
    pub fn no_credential(mut self) -> Self {
        self.credential = None;
        self
    }

    /// The `OpenAI-Organization` header.
    pub fn organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// The `OpenAI-Project` header.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// A header sent with every request (replacing an earlier one of the same name).
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        match parse_header(name.as_ref(), value.as_ref()) {
            Ok((n, v)) => {
                self.headers.insert(n, v);
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Headers sent with every request, added to those set before.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        extend_headers(&mut self.headers, headers);
        self
    }

    /// A query parameter added to every request URL.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.default_query.push((name.into(), value.into()));
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The timeout of one attempt (default [`DEFAULT_TIMEOUT`]): from asking the credential
    /// provider and running the middleware, until the whole body is read for decoded
    /// responses, until the first bytes of the event stream for streams, until the response
    /// head for [`send_raw`](crate::Client::send_raw). An attempt that times out is retried.
    /// `None` waits forever (the overall deadline still applies).
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// How many times a failed attempt is retried (0 disables retries).
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Whether backoff waits are shortened by a random part of up to 25% (default on), which
    /// keeps many clients from retrying in step. Turn it off for tests that assert the exact
    /// time retries took on a paused clock: the waits are then 0.5 s, 1 s, 2 s, ... (8 s at
    /// most), or what the server asked for.
    pub fn retry_jitter(mut self, jitter: bool) -> Self {
        self.retry_jitter = jitter;
        self
    }

    /// A deadline across all attempts and the waits between them, counted from the call
    /// (default: none). It ends the call with a [`TimeoutKind::Deadline`](crate::TimeoutKind)
    /// error, which is not retried. For a stream it covers getting the stream (up to its first
    /// bytes), not reading it: [`stream_idle_timeout`](Config::stream_idle_timeout) bounds
    /// that, or wrap the reading in [`tokio::time::timeout`].
    pub fn deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.deadline = deadline.into();
        self
    }

    /// How long a stream may go without receiving a chunk before it fails with an idle
    /// [`Timeout`](crate::Timeout) (default [`DEFAULT_TIMEOUT`]; `None` waits forever). The
    /// timer runs only while the stream waits for the server, not while your code is busy.
    /// It starts once the stream is handed out: the wait for its first bytes (the time to
    /// first token) is bounded by [`timeout`](Config::timeout) and retried like any attempt,
    /// so set that one to bound a slow start.
    pub fn stream_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.stream_idle_timeout = timeout.into();
        self
    }

    /// The longest a stream may take as a whole, counted from the call (the wait for its
    /// first bytes included) to its end (default: none). Unlike the idle timeout it is not
    /// reset by chunks or by `: ping` comments, so a server that keeps a stream busy without
    /// ending it cannot hold it open forever. Past it the stream (or the call, if the stream
    /// was not handed out yet) fails with a
    /// [`TimeoutKind::StreamDeadline`](crate::TimeoutKind) error, which is not retried.
    pub fn stream_deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.stream_deadline = deadline.into();
        self
    }

    /// The size limit of a non-streaming response body.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The size limit of one server-sent event of a stream (default
    /// [`StreamConfig::DEFAULT_MAX_EVENT_SIZE`](crate::StreamConfig::DEFAULT_MAX_EVENT_SIZE)).
    pub fn max_event_bytes(mut self, limit: usize) -> Self {
        self.max_event_bytes = limit;
        self
    }

    /// Paces requests by the server's rate-limit headers (default off).
    ///
    /// The client reads `x-ratelimit-remaining-requests`, `x-ratelimit-remaining-tokens` and
    /// their `x-ratelimit-reset-*` headers from every response. Once the server says no
    /// requests (or no tokens) are left, new requests wait until that limit resets instead of
    /// being answered 429. Between answers each request sent counts against the requests left,
    /// and the requests still in flight when an answer arrives are taken off what it says is
    /// left; after a reset only the window's `x-ratelimit-limit-requests`, less the requests in
    /// flight, go at once. A 429 whose headers name the reset (and no `Retry-After`) is retried
    /// at the reset, without a backoff of its own.
    /// The state is shared by every clone of the client, and by clients built from clones of
    /// this configuration. The wait is bounded by the [`deadline`](Config::deadline), not by the
    /// per-attempt [`timeout`](Config::timeout). Without rate-limit headers nothing waits.
    pub fn pace_rate_limits(mut self, enabled: bool) -> Self {
        self.pacer = enabled.then(crate::pacer::Pacer::default);
        self
    }

    /// Adds a middleware; see [`Middleware`] for the order they run in.
    pub fn middleware(mut self, middleware: impl Middleware + 'static) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Adds a shared middleware.
    pub fn middleware_arc(mut self, middleware: Arc<dyn Middleware>) -> Self {
        self.middleware.push(middleware);
        self
    }

    /// Checks everything that can be checked without sending: header names and values, the
    /// user agent and the base URL.
    pub fn validate(&self) -> Result<(), Error> {
        crate::client::Prepared::new(self).map(|_| ())
    }

    /// The base URL (without a trailing slash).
    pub fn get_base_url(&self) -> &str {
        &self.base_url
    }

    /// The organization, if set.
    pub fn get_organization(&self) -> Option<&str> {
        self.organization.as_deref()
    }

    /// The project, if set.
    pub fn get_project(&self) -> Option<&str> {
        self.project.as_deref()
    }

    /// The per-attempt timeout.
    pub fn get_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The number of retries.
    pub fn get_max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Whether backoff waits are jittered.
    pub fn get_retry_jitter(&self) -> bool {
        self.retry_jitter
    }

    /// The deadline across attempts.
    pub fn get_deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The stream idle timeout.
    pub fn get_stream_idle_timeout(&self) -> Option<Duration> {
        self.stream_idle_timeout
    }

    /// The whole-stream deadline.
    pub fn get_stream_deadline(&self) -> Option<Duration> {
        self.stream_deadline
    }

    /// The size limit of a non-streaming response body.
    pub fn get_max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// The size limit of one server-sent event.
    pub fn get_max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// The user agent.
    pub fn get_user_agent(&self) -> &str {
        &self.user_agent
    }

    /// Whether this is an Azure OpenAI configuration.
    pub fn is_azure(&self) -> bool {
        self.azure
    }

    /// The credential provider, if any.
    pub fn get_credential_provider(&self) -> Option<&Arc<dyn CredentialProvider>> {
        self.credential.as_ref()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &redact_url(&self.base_url))
            .field(
                "resource_url",
                &self.resource_url.as_deref().map(redact_url),
            )
            .field("default_query", &RedactedQuery(&self.default_query))
            .field("credential", &self.credential)
            .field("azure", &self.azure)
            .field("organization", &self.organization)
            .field("project", &self.project)
            .field("headers", &self.headers)
            .field("user_agent", &self.user_agent)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_jitter", &self.retry_jitter)
            .field("deadline", &self.deadline)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("stream_deadline", &self.stream_deadline)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_event_bytes", &self.max_event_bytes)
            .field("middleware", &self.middleware)
            .field("error", &self.error)
            .finish()
    }
}

/// Options of one request, layered over the [`Config`].
///
/// Apply them with [`Client::with_options`](crate::Client::with_options), which returns a
/// client that uses them for every operation, or pass them to
/// [`Client::send_raw`](crate::Client::send_raw).
///
/// ```
/// use std::time::Duration;
/// use chat_core::RequestOptions;
///
/// let options = RequestOptions::new()
///     .header("x-trace", "abc")
///     .timeout(Duration::from_secs(5))
///     .max_retries(0);
/// ```
#[derive(Clone, Default)]
pub struct RequestOptions {
    pub(crate) headers: HeaderMap,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) timeout: Option<Option<Duration>>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) deadline: Option<Option<Duration>>,
    pub(crate) stream_idle_timeout: Option<Option<Duration>>,
    pub(crate) stream_deadline: Option<Option<Duration>>,
    pub(crate) error: Option<String>,
}

impl RequestOptions {
    /// No options: everything comes from the [`Config`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A header for this request, replacing a configured one of the same name.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        match parse_header(name.as_ref(), value.as_ref()) {
            Ok((n, v)) => {
                self.headers.insert(n, v);
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Headers for this request.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        extend_headers(&mut self.headers, headers);
        self
    }

    /// An `Idempotency-Key` header, for servers that deduplicate retried requests.
    pub fn idempotency_key(self, key: impl AsRef<str>) -> Self {
        self.header("idempotency-key", key)
    }

    /// A query parameter added to the URL.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// The per-attempt timeout (`None`: wait forever).
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = Some(timeout.into());
        self
    }

    /// The number of retries.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = Some(max_retries);
        self
    }

    /// The deadline across attempts (`None`: no deadline).
    pub fn deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.deadline = Some(deadline.into());
        self
    }

    /// The stream idle timeout (`None`: none).
    pub fn stream_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.stream_idle_timeout = Some(timeout.into());
        self
    }

    /// The whole-stream deadline (`None`: none); see
    /// [`Config::stream_deadline`].
    pub fn stream_deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.stream_deadline = Some(deadline.into());
        self
    }

    /// These options with `over` applied on top (its headers, query and set values win).
    pub fn merged(&self, over: &RequestOptions) -> RequestOptions {
        let mut out = self.clone();
        for name in over.headers.keys() {
            out.headers.remove(name);
        }
        for (name, value) in &over.headers {
            out.headers.append(name.clone(), value.clone());
        }
        out.query.extend(over.query.iter().cloned());
        out.timeout = over.timeout.or(self.timeout);
        out.max_retries = over.max_retries.or(self.max_retries);
        out.deadline = over.deadline.or(self.deadline);
        out.stream_idle_timeout = over.stream_idle_timeout.or(self.stream_idle_timeout);
        out.stream_deadline = over.stream_deadline.or(self.stream_deadline);
        if out.error.is_none() {
            out.error.clone_from(&over.error);
        }
        out
    }
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("headers", &self.headers)
            .field("query", &RedactedQuery(&self.query))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("deadline", &self.deadline)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("stream_deadline", &self.stream_deadline)
            .field("error", &self.error)
            .finish()
    }
}

/// Header names whose values may be secrets: they are marked sensitive so `Debug` hides them.
///
/// Besides the usual names this matches any name with `auth`, `key`, `token`, `secret`,
/// `cookie`, `password`, `credential` or `signature` in it (gateways invent their own, such as
/// `x-portkey-api-key`); hiding a value that was not secret costs nothing. Query parameters
/// follow the same rule (see [`redact_url`](crate::redact_url)).
fn is_secret_header(name: &HeaderName) -> bool {
    crate::url::is_secret_name(name.as_str())
}

/// Adds `from` to `to`, replacing headers of the same names and keeping repeated values.
fn extend_headers(to: &mut HeaderMap, from: HeaderMap) {
    let mut last: Option<HeaderName> = None;
    for (name, value) in from {
        if let Some(n) = name {
            to.remove(&n);
            last = Some(n);
        }
        if let Some(n) = &last {
            to.append(n.clone(), mark_sensitive(value, n));
        }
    }
}

fn mark_sensitive(mut value: HeaderValue, name: &HeaderName) -> HeaderValue {
    if is_secret_header(name) {
        value.set_sensitive(true);
    }
    value
}

/// Parses a header, never quoting the value in the error (it may be a secret).
pub(crate) fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let n = HeaderName::try_from(name).map_err(|_| format!("invalid header name {name:?}"))?;
    let mut v = HeaderValue::try_from(value)
        .map_err(|_| format!("invalid value for header `{n}` (control characters or non-ASCII)"))?;
    if is_secret_header(&n) {
        v.set_sensitive(true);
    }
    Ok((n, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_headers_are_remembered_not_panicked() {
        let c = Config::new().header("bad name", "x").header("ok", "fine");
        let e = c.validate().unwrap_err();
        assert!(e.to_string().contains("invalid header name"), "{e}");
        let c = Config::new().header("x-other", "line\nbreak-secret");
        let e = c.validate().unwrap_err();
        assert!(!e.to_string().contains("break-secret"), "{e}");
        let o = RequestOptions::new().header("x", "a\rb");
        assert!(o.error.is_some());
    }

    #[test]
    fn secret_looking_headers_are_hidden_from_debug() {
        let c = Config::new()
            .header("x-portkey-api-key", "pk-hidden-1")
            .header("x-session-token", "tok-hidden-2")
            .header("proxy-authorization", "Basic hidden-3")
            .header("x-team", "blue-visible");
        let o = RequestOptions::new().header("x-gateway-secret", "hidden-4");
        let text = format!("{c:?} {o:?}");
        for hidden in ["hidden-1", "hidden-2", "hidden-3", "hidden-4"] {
            assert!(!text.contains(hidden), "{hidden} in {text}");
        }
        assert!(text.contains("blue-visible"), "{text}");
    }

    #[test]
    fn merged_options_prefer_the_override() {
        let a = RequestOptions::new()
            .timeout(Duration::from_secs(1))
            .max_retries(3)
            .header("x-a", "1")
            .header("x-b", "1");
        let b = RequestOptions::new().timeout(None).header("x-b", "2");
        let m = a.merged(&b);
        assert_eq!(m.timeout, Some(None));
        assert_eq!(m.max_retries, Some(3));
        assert_eq!(m.headers["x-a"], "1");
        assert_eq!(m.headers["x-b"], "2");
    }

    #[test]
    fn azure_base_url_encodes_the_deployment() {
        let c = Config::azure("https://res.openai.azure.com/", "my dep", "2024-10-21");
        assert_eq!(
            c.get_base_url(),
            "https://res.openai.azure.com/openai/deployments/my%20dep"
        );
        assert!(c.is_azure());
        assert_eq!(
            c.resource_url.as_deref(),
            Some("https://res.openai.azure.com/openai")
        );
    }
}
