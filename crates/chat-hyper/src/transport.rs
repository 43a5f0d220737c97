//! [`HyperTransport`] and its builder.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use chat_core::{async_trait, Body, Error, Transport, TransportError};
use http::header::{HeaderValue, HOST, PROXY_AUTHORIZATION};
use http::uri::Authority;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::body::IncomingStream;
use crate::connect::{ConnectTimeout, ProxyConnector};
use crate::pool::Slots;
use crate::tls::{self, Certificate, Identity};
use crate::Proxy;

pub(crate) type Connector = ConnectTimeout<hyper_rustls::HttpsConnector<ProxyConnector>>;

/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time an unused pooled connection is kept.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Reset HTTP/2 streams remembered per connection at the least (h2's default is 10).
const MIN_REMEMBERED_RESETS: usize = 64;
/// The default most concurrent requests on one HTTP/2 connection before another is opened.
pub const DEFAULT_HTTP2_MAX_STREAMS_PER_CONNECTION: usize = 100;
/// The default most HTTP/2 connections to one host.
pub const DEFAULT_HTTP2_MAX_CONNECTIONS_PER_HOST: usize = 8;

/// The production HTTP transport: hyper 1.x with a keep-alive connection pool and rustls.
///
/// Speaks HTTPS (HTTP/2 when the server offers it through ALPN, HTTP/1.1 otherwise) and plain
/// HTTP for `http://` base URLs such as local vLLM or Ollama servers. Cloning is cheap and
/// shares the connection pool.
///
/// It must be used inside a Tokio runtime: connections are driven by spawned tasks.
#[derive(Clone)]
pub struct HyperTransport {
    slots: Arc<Slots>,
    proxies: Option<Arc<Matcher>>,
    host_header: Arc<HostHeader>,
    summary: Arc<Summary>,
}

/// What `Debug` shows: the settings, never credentials.
#[derive(Debug)]
struct Summary {
    connect_timeout: Option<Duration>,
    http: HttpVersions,
    proxy: Proxy,
    extra_roots: usize,
    http2_max_streams_per_connection: usize,
    http2_max_connections_per_host: usize,
    /// How many root certificates are trusted (0: every TLS handshake fails).
    trusted_roots: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HttpVersions {
    Negotiate,
    Http1Only,
    Http2Only,
}

impl HyperTransport {
    /// A transport with the default settings: bundled or system roots (per cargo features),
    /// proxies from the environment, a 10 second connect timeout.
    ///
    /// Fails when no trust roots can be loaded (the `native-roots` feature on a system
    /// without certificates), or when the environment names a proxy it cannot use (such as
    /// `ALL_PROXY=socks5://...`).
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// Starts a builder with the default settings.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("connect_timeout", &self.summary.connect_timeout)
            .field("http", &self.summary.http)
            .field("proxy", &self.summary.proxy)
            .field("extra_roots", &self.summary.extra_roots)
            .field(
                "http2_max_streams_per_connection",
                &self.summary.http2_max_streams_per_connection,
            )
            .field(
                "http2_max_connections_per_host",
                &self.summary.http2_max_connections_per_host,
            )
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Transport for HyperTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Body>, TransportError> {
        let (mut parts, body) = request.into_parts();
        // A URI with an authority has a host (maybe empty, which fails to connect).
        match parts.uri.scheme_str() {
            Some("http" | "https") if parts.uri.authority().is_some() => {}
            _ => {
                return Err(TransportError::new(
                    chat_core::TransportErrorKind::Other,
                    format!(
                        "request URL must be absolute http:// or https://, got `{}`",
                        chat_core::redact_url(&parts.uri.to_string())
                    ),
                ))
            }
        }
        // A forwarding proxy (plain http:// destinations) sees the request itself, so its
        // credentials go on the request; CONNECT tunnels carry them in the handshake.
        if parts.uri.scheme_str() == Some("http") {
            if let Some(proxy) = self.proxies.as_ref().and_then(|m| m.intercept(&parts.uri)) {
                if let Some(auth) = proxy.basic_auth() {
                    parts.headers.insert(PROXY_AUTHORIZATION, auth.clone());
                }
            }
        }
        // Kept for an error message only; cloning shares the bytes, while formatting
        // `host:port` on every request costs an allocation and two parses.
        let https = parts.uri.scheme_str() == Some("https");
        let target = parts.uri.authority().cloned();
        #[cfg(any(feature = "gzip", feature = "br", feature = "zstd"))]
        crate::decode::accept(&mut parts.headers);
        let route = self.slots.acquire(&parts.uri).await;
        if route.http1 {
            if let Some(host) = self.host_header.get(&parts.uri) {
                parts.headers.entry(HOST).or_insert(host);
            }
        }
        let lease = route.lease;
        let request = http::Request::from_parts(parts, Full::new(body));
        let response = route.client.request(request).await.map_err(|e| {
            crate::error::from_client(
                e,
                &authority(https, target.as_ref()),
                self.summary.connect_timeout,
                self.summary.trusted_roots == 0,
            )
        })?;
        let (mut parts, incoming) = response.into_parts();
        if let Some(lease) = &lease {
            if parts.version != http::Version::HTTP_2 {
                lease.saw_http1();
            }
        }
        detach_header_values(&mut parts.headers);
        let body = response_body(&mut parts.headers, incoming, lease);
        Ok(http::Response::from_parts(parts, body))
    }
}

/// The body of a response; decoded when it is compressed in an encoding this build decodes.
fn response_body(
    headers: &mut http::HeaderMap,
    incoming: hyper::body::Incoming,
    lease: Option<crate::pool::Lease>,
) -> Body {
    // An ended body drops its lease here.
    let end = hyper::body::Body::is_end_stream(&incoming);
    let stream = IncomingStream::new(incoming, lease.filter(|_| !end));
    #[cfg(any(feature = "gzip", feature = "br", feature = "zstd"))]
    let stream = match crate::decode::decode(headers, stream) {
        Ok(decoded) if !end => return Body::from_stream(decoded),
        Ok(_) => return Body::empty(),
        Err(raw) => raw,
    };
    #[cfg(not(any(feature = "gzip", feature = "br", feature = "zstd")))]
    let _ = headers;
    if end {
        Body::empty()
    } else {
        Body::from_stream(stream)
    }
}

/// `host:port` of a request URL, for error messages (without any userinfo).
fn authority(https: bool, authority: Option<&Authority>) -> String {
    let host = authority.map(Authority::host).unwrap_or_default();
    let port = authority
        .and_then(Authority::port_u16)
        .unwrap_or(if https { 443 } else { 80 });
    format!("{host}:{port}")
}

/// The `Host` header of the first host the transport sends to, built once.
///
/// Over HTTP/1.1 hyper-util adds `Host` to every request that lacks one, formatting it anew
/// each time; a transport talks to one host almost always, so its value is kept. Requests to
/// other hosts get theirs from hyper-util as before.
#[derive(Default)]
struct HostHeader(OnceLock<(bool, Authority, HeaderValue)>);

impl HostHeader {
    /// The `Host` value of a request to `uri`, when it is the first host's.
    fn get(&self, uri: &http::Uri) -> Option<HeaderValue> {
        let authority = uri.authority()?;
        let secure = is_secure(uri);
        let (s, a, value) = self
            .0
            .get_or_init(|| (secure, authority.clone(), host_value(uri).unwrap_or(EMPTY)));
        // Byte for byte: `Authority`'s own `==` ignores case, hyper-util keeps it.
        (*s == secure && a.as_str() == authority.as_str() && !value.is_empty())
            .then(|| value.clone())
    }
}

const EMPTY: HeaderValue = HeaderValue::from_static("");

/// Whether hyper-util counts the scheme of `uri` as secure (for its default port).
fn is_secure(uri: &http::Uri) -> bool {
    matches!(uri.scheme_str(), Some("https" | "wss"))
}

/// The `Host` header hyper-util would send to `uri`: the host, and the port unless it is the
/// scheme's default.
fn host_value(uri: &http::Uri) -> Option<HeaderValue> {
    let host = uri.host()?;
    let port = uri
        .port()
        .filter(|p| !matches!((p.as_u16(), is_secure(uri)), (443, true) | (80, false)));
    match port {
        Some(port) => HeaderValue::try_from(format!("{host}:{port}")).ok(),
        None => HeaderValue::from_str(host).ok(),
    }
}

/// Configures a [`HyperTransport`].
///
/// ```
/// use std::time::Duration;
/// use chat_hyper::{HyperTransport, Proxy};
///
/// # fn main() -> Result<(), chat_core::Error> {
/// let transport = HyperTransport::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .pool_max_idle_per_host(8)
///     .proxy(Proxy::none())
///     .build()?;
/// # let _ = transport;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HyperTransportBuilder {
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    http: HttpVersions,
    http2_adaptive_window: bool,
    http2_keep_alive_interval: Option<Duration>,
    http2_max_streams_per_connection: usize,
    http2_max_connections_per_host: usize,
    tcp_nodelay: bool,
    tcp_keepalive: Option<Duration>,
    built_in_roots: bool,
    extra_roots: Vec<Certificate>,
    identity: Option<Identity>,
    proxy: Proxy,
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        HyperTransportBuilder {
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            pool_max_idle_per_host: usize::MAX,
            http: HttpVersions::Negotiate,
            http2_adaptive_window: false,
            http2_keep_alive_interval: None,
            http2_max_streams_per_connection: DEFAULT_HTTP2_MAX_STREAMS_PER_CONNECTION,
            http2_max_connections_per_host: DEFAULT_HTTP2_MAX_CONNECTIONS_PER_HOST,
            tcp_nodelay: true,
            tcp_keepalive: Some(Duration::from_secs(60)),
            built_in_roots: true,
            extra_roots: Vec::new(),
            identity: None,
            proxy: Proxy::from_env(),
        }
    }
}

impl HyperTransportBuilder {
    /// Limits the whole connection setup: DNS, TCP connect, proxy tunnel and TLS handshake
    /// (default 10 s). Exceeding it fails with
    /// [`TransportErrorKind::Connect`](chat_core::TransportErrorKind::Connect), which the
    /// client may retry since nothing was sent.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Removes the connect timeout; the client's request timeout still applies.
    pub fn no_connect_timeout(mut self) -> Self {
        self.connect_timeout = None;
        self
    }

    /// How long an unused connection stays in the pool (default 90 s; `None` keeps it until
    /// the server closes it).
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// The most idle connections kept per host (default unlimited; 0 disables reuse).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Speaks only HTTP/1.1, even when a server offers HTTP/2.
    ///
    /// HTTP/1.1 opens a connection per request in flight, like the official SDKs; HTTP/2
    /// multiplexes requests over a few connections (see
    /// [`http2_max_streams_per_connection`](Self::http2_max_streams_per_connection)).
    pub fn http1_only(mut self) -> Self {
        self.http = HttpVersions::Http1Only;
        self
    }

    /// Speaks only HTTP/2: over TLS it is the only protocol offered, and plain `http://` uses
    /// HTTP/2 with prior knowledge.
    pub fn http2_only(mut self) -> Self {
        self.http = HttpVersions::Http2Only;
        self
    }

    /// Lets HTTP/2 flow-control windows grow with the measured bandwidth (default off).
    pub fn http2_adaptive_window(mut self, enabled: bool) -> Self {
        self.http2_adaptive_window = enabled;
        self
    }

    /// Sends HTTP/2 pings at this interval to keep connections through idle-closing middle
    /// boxes alive, and to detect dead ones (default off).
    pub fn http2_keep_alive_interval(mut self, interval: Option<Duration>) -> Self {
        self.http2_keep_alive_interval = interval;
        self
    }

    /// The most requests in flight on one HTTP/2 connection before the next request opens
    /// another connection to the host (default 100; at least 1).
    ///
    /// Set it to the server's `SETTINGS_MAX_CONCURRENT_STREAMS` or lower: requests beyond
    /// the server's own limit wait on their connection until one of its streams ends.
    pub fn http2_max_streams_per_connection(mut self, max: usize) -> Self {
        self.http2_max_streams_per_connection = max.max(1);
        self
    }

    /// The most HTTP/2 connections to one host (default 8; at least 1). With every stream of
    /// every connection in use, a request waits for one to end, so at most
    /// `connections × streams per connection` requests are in flight to a host over HTTP/2.
    ///
    /// Connections are opened only as the streams of the earlier ones fill up, and each is
    /// replaced when the server closes it (GOAWAY) and expires after
    /// [`pool_idle_timeout`](Self::pool_idle_timeout) unused. Hosts that answer over HTTP/1.1
    /// are not limited by this.
    pub fn http2_max_connections_per_host(mut self, max: usize) -> Self {
        self.http2_max_connections_per_host = max.max(1);
        self
    }

    /// Sets `TCP_NODELAY` (default on: requests and stream chunks go out without delay).
    pub fn tcp_nodelay(mut self, enabled: bool) -> Self {
        self.tcp_nodelay = enabled;
        self
    }

    /// TCP keep-alive probes after this idle time (default 60 s; `None` turns them off).
    pub fn tcp_keepalive(mut self, idle: Option<Duration>) -> Self {
        self.tcp_keepalive = idle;
        self
    }

    /// Whether to trust the roots chosen by cargo features (default on): Mozilla's bundled
    /// roots with `webpki-roots`, the system's with `native-roots`, both when both are on.
    ///
    /// Turn it off to trust only certificates added with
    /// [`add_root_certificate`](Self::add_root_certificate).
    pub fn built_in_roots(mut self, enabled: bool) -> Self {
        self.built_in_roots = enabled;
        self
    }

    /// Presents `identity` (a client certificate and its key) to servers that ask for one:
    /// mutual TLS, as some private gateways require.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Trusts an additional root certificate, such as a private gateway's CA.
    pub fn add_root_certificate(mut self, cert: Certificate) -> Self {
        self.extra_roots.push(cert);
        self
    }

    /// Trusts additional root certificates.
    pub fn add_root_certificates(mut self, certs: impl IntoIterator<Item = Certificate>) -> Self {
        self.extra_roots.extend(certs);
        self
    }

    /// Chooses the proxy (default [`Proxy::from_env`]).
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// Builds the transport.
    ///
    /// Fails with [`ErrorKind::InvalidConfig`](chat_core::ErrorKind::InvalidConfig) for an
    /// invalid root certificate or proxy URL, or when no system roots can be loaded.
    pub fn build(self) -> Result<HyperTransport, Error> {
        let (tls, trusted_roots) = tls::client_config(
            self.built_in_roots,
            &self.extra_roots,
            self.identity.as_ref(),
        )?;
        let proxies = self.proxy.matcher()?.map(Arc::new);

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(self.tcp_nodelay);
        http.set_keepalive(self.tcp_keepalive);
        http.set_connect_timeout(self.connect_timeout);

        let proxy_connector = ProxyConnector {
            http,
            proxies: proxies.clone(),
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let https = match self.http {
            HttpVersions::Negotiate => https
                .enable_http1()
                .enable_http2()
                .wrap_connector(proxy_connector),
            HttpVersions::Http1Only => https.enable_http1().wrap_connector(proxy_connector),
            HttpVersions::Http2Only => https.enable_http2().wrap_connector(proxy_connector),
        };
        let connector = ConnectTimeout {
            inner: https,
            timeout: self.connect_timeout,
        };

        let mut client = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
        client
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .http2_only(self.http == HttpVersions::Http2Only)
            .http2_adaptive_window(self.http2_adaptive_window)
            .http2_keep_alive_interval(self.http2_keep_alive_interval)
            // A dropped stream is reset (RST_STREAM) while the server may still be sending on
            // it. h2 remembers only 10 reset streams by default: remember as many as can be in
            // flight, twice over, so the frames still coming on them are dropped quietly.
            .http2_max_concurrent_reset_streams(
                self.http2_max_streams_per_connection
                    .saturating_mul(2)
                    .max(MIN_REMEMBERED_RESETS),
            )
            // Frames the server still had in flight on a stream h2 no longer remembers make h2
            // reset that stream again. h2 counts those resets over the connection's whole life
            // (the count never goes down) and at the default 1,024 closes the connection with
            // every stream on it: that happened after 1,200 to 1,450 dropped streams on a busy
            // machine. The cap protects servers from abusive clients; a client that talks only
            // to the endpoint it was configured for has no use for it.
            .http2_max_local_error_reset_streams(None);
        // One pooled client per HTTP/2 connection slot (none beyond the first without HTTP/2).
        let slots = match self.http {
            HttpVersions::Http1Only => 1,
            _ => self.http2_max_connections_per_host,
        };
        let clients = (0..slots)
            .map(|_| client.build(connector.clone()))
            .collect();
        let slots = Slots::new(
            clients,
            self.http2_max_streams_per_connection,
            self.http == HttpVersions::Http2Only,
            self.http == HttpVersions::Http1Only,
        );

        Ok(HyperTransport {
            slots: Arc::new(slots),
            proxies,
            host_header: Arc::default(),
            summary: Arc::new(Summary {
                connect_timeout: self.connect_timeout,
                http: self.http,
                proxy: self.proxy,
                extra_roots: self.extra_roots.len(),
                http2_max_streams_per_connection: self.http2_max_streams_per_connection,
                http2_max_connections_per_host: self.http2_max_connections_per_host,
                trusted_roots,
            }),
        })
    }
}

/// Copies the header values into one buffer of their own.
///
/// hyper's header values are slices of the connection's read buffer. The client keeps a
/// response's headers for as long as the caller keeps the response or stream, so without the
/// copy a long stream pins that buffer and hyper allocates another one for the body: memory per
/// stream would grow with its length. One allocation here keeps it constant.
fn detach_header_values(headers: &mut http::HeaderMap) {
    let total: usize = headers.values().map(|v| v.len()).sum();
    let mut buf = bytes::BytesMut::with_capacity(total);
    for v in headers.values() {
        buf.extend_from_slice(v.as_bytes());
    }
    let buf = buf.freeze();
    let mut at = 0;
    for v in headers.values_mut() {
        let end = at + v.len();
        if let Ok(mut owned) = http::HeaderValue::from_maybe_shared(buf.slice(at..end)) {
            owned.set_sensitive(v.is_sensitive());
            *v = owned;
        }
        at = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_values_match_hyper_util() {
        for (url, want) in [
            ("http://example.com/v1", Some("example.com")),
            ("http://example.com:80/v1", Some("example.com")),
            ("https://example.com:443/v1", Some("example.com")),
            ("http://example.com:8080/v1", Some("example.com:8080")),
            ("https://example.com:80/v1", Some("example.com:80")),
            ("http://example.com:443/v1", Some("example.com:443")),
            ("http://user@example.com:81/", Some("example.com:81")),
            ("http://[::1]:9000/", Some("[::1]:9000")),
            ("/relative", None),
        ] {
            let uri: http::Uri = url.parse().unwrap();
            let got = host_value(&uri);
            assert_eq!(got.as_ref().map(|v| v.to_str().unwrap()), want, "{url}");
        }
    }

    #[test]
    fn host_header_is_kept_for_the_first_host_only() {
        let cache = HostHeader::default();
        let uri = |u: &str| u.parse::<http::Uri>().unwrap();
        let first = uri("http://127.0.0.1:8080/v1/chat/completions");
        assert_eq!(cache.get(&first).unwrap(), "127.0.0.1:8080");
        assert_eq!(
            cache.get(&uri("http://127.0.0.1:8080/other")).unwrap(),
            "127.0.0.1:8080"
        );
        // Another host, another scheme (default port), another spelling: not this value.
        for other in [
            "http://127.0.0.1:8081/",
            "https://127.0.0.1:8080/",
            "http://LOCALHOST:8080/",
            "/relative",
        ] {
            assert_eq!(cache.get(&uri(other)), None, "{other}");
        }
        assert_eq!(cache.get(&first).unwrap(), "127.0.0.1:8080");
    }

    #[test]
    fn detached_header_values_keep_every_value_and_flag() {
        let mut h = http::HeaderMap::new();
        h.insert("x-request-id", http::HeaderValue::from_static("req_1"));
        h.append("set-cookie", http::HeaderValue::from_static("a=1"));
        h.append("set-cookie", http::HeaderValue::from_static("b=2"));
        let mut secret = http::HeaderValue::from_static("token");
        secret.set_sensitive(true);
        h.insert("x-secret", secret);
        h.insert("empty", http::HeaderValue::from_static(""));
        let before = h.clone();
        detach_header_values(&mut h);
        assert_eq!(h, before);
        let cookies: Vec<_> = h.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert!(h["x-secret"].is_sensitive());
        assert!(!h["x-request-id"].is_sensitive());
    }
}
