//! The connector stack: TCP (hyper-util's `HttpConnector`), an optional HTTP proxy (hyper-util's
//! `Matcher` decides; the CONNECT handshake is done here, so a refusal keeps the proxy's status
//! line), TLS (hyper-rustls) and one deadline over all of it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower_service::Service;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// Opens TCP connections, directly or through the HTTP proxy the matcher picks.
///
/// `https` destinations behind a proxy get a CONNECT tunnel; `http` destinations connect to the
/// proxy itself and mark the connection so the client writes absolute-form request targets.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    pub(crate) http: HttpConnector,
    pub(crate) proxies: Option<Arc<Matcher>>,
}

impl Service<Uri> for ProxyConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = BoxFuture<Conn>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let Some(proxy) = self.proxies.as_ref().and_then(|m| m.intercept(&dst)) else {
            return Box::pin(async move {
                let io = http.call(dst).await?;
                Ok(Conn::new(io, false))
            });
        };
        // The matcher strips credentials from the proxy URI, so it is safe to show.
        if proxy.uri().scheme_str() != Some("http") {
            let message = format!(
                "unsupported proxy `{}`: only http:// proxies are supported",
                proxy.uri()
            );
            return Box::pin(async move { Err(io::Error::other(message).into()) });
        }
        let via = ViaProxy::name(proxy.uri());
        if dst.scheme_str() == Some("https") {
            let proxy_uri = proxy.uri().clone();
            let auth = proxy.basic_auth().cloned();
            Box::pin(async move {
                let tcp = http
                    .call(proxy_uri)
                    .await
                    .map_err(|e| via.wrap(e.into()))?
                    .into_inner();
                let io = connect_tunnel(tcp, &dst, auth.as_ref())
                    .await
                    .map_err(|e| via.wrap(e.into()))?;
                Ok(Conn::new(TokioIo::new(io), false))
            })
        } else {
            let proxy_uri = proxy.uri().clone();
            Box::pin(async move {
                let io = http.call(proxy_uri).await.map_err(|e| via.wrap(e.into()))?;
                Ok(Conn::new(io, true))
            })
        }
    }
}

/// The most of a proxy's answer to CONNECT that is read.
const MAX_CONNECT_HEAD: usize = 8 * 1024;

/// Asks the proxy on `tcp` for a tunnel to `dst` (`CONNECT host:port`), with `auth` as
/// `Proxy-Authorization`; fails with the proxy's status line when it refuses.
async fn connect_tunnel(
    mut tcp: TcpStream,
    dst: &Uri,
    auth: Option<&http::HeaderValue>,
) -> io::Result<TcpStream> {
    let host = dst
        .host()
        .ok_or_else(|| io::Error::other("the destination URL has no host"))?;
    let authority = format!("{host}:{}", dst.port_u16().unwrap_or(443));
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = auth.and_then(|a| a.to_str().ok()) {
        head.push_str("Proxy-Authorization: ");
        head.push_str(auth);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    tcp.write_all(head.as_bytes()).await?;

    // The answer's head; nothing follows it until the TLS handshake starts.
    let mut answer = Vec::with_capacity(256);
    let mut buf = [0u8; 512];
    let end = loop {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection before answering CONNECT",
            ));
        }
        answer.extend_from_slice(&buf[..n]);
        if let Some(i) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if answer.len() > MAX_CONNECT_HEAD {
            return Err(io::Error::other(
                "the proxy's answer to CONNECT is too long",
            ));
        }
    };
    if end + 4 != answer.len() {
        return Err(io::Error::other(
            "the proxy sent data after its answer to CONNECT",
        ));
    }
    let status_line = String::from_utf8_lossy(&answer[..end]);
    let status_line = status_line.lines().next().unwrap_or_default().trim();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok());
    match status {
        Some(200..=299) => Ok(tcp),
        Some(407) => Err(io::Error::other(format!(
            "proxy authorization required ({status_line})"
        ))),
        Some(_) => Err(io::Error::other(format!(
            "the proxy refused the tunnel ({status_line})"
        ))),
        None => Err(io::Error::other(format!(
            "the proxy's answer to CONNECT is not HTTP: {:?}",
            status_line.chars().take(80).collect::<String>()
        ))),
    }
}

/// A failure to reach a destination through a proxy: names the proxy (`host:port`, never
/// credentials), so the error does not read as if the API host itself refused.
#[derive(Debug)]
pub(crate) struct ViaProxy {
    pub(crate) proxy: String,
    source: Option<BoxError>,
}

impl ViaProxy {
    fn name(proxy: &Uri) -> ViaProxy {
        let host = proxy.host().unwrap_or_default();
        let proxy = match proxy.port_u16() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        ViaProxy {
            proxy,
            source: None,
        }
    }

    fn wrap(&self, source: BoxError) -> BoxError {
        Box::new(ViaProxy {
            proxy: self.proxy.clone(),
            source: Some(source),
        })
    }
}

impl std::fmt::Display for ViaProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "through the proxy {}", self.proxy)
    }
}

impl std::error::Error for ViaProxy {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A TCP connection, remembering whether it goes to a forwarding proxy.
pub(crate) struct Conn {
    io: TokioIo<TcpStream>,
    forward_proxy: bool,
}

impl Conn {
    fn new(io: TokioIo<TcpStream>, forward_proxy: bool) -> Self {
        Conn { io, forward_proxy }
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forward_proxy)
    }
}

impl Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}

/// Bounds the whole connection setup (DNS, TCP, proxy tunnel, TLS handshake) by one deadline.
#[derive(Clone)]
pub(crate) struct ConnectTimeout<C> {
    pub(crate) inner: C,
    pub(crate) timeout: Option<Duration>,
}

impl<C> Service<Uri> for ConnectTimeout<C>
where
    C: Service<Uri>,
    C::Error: Into<BoxError>,
    C::Future: Send + 'static,
    C::Response: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = BoxFuture<C::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting = self.inner.call(dst);
        let timeout = self.timeout;
        Box::pin(async move {
            let Some(limit) = timeout else {
                return connecting.await.map_err(Into::into);
            };
            match tokio::time::timeout(limit, connecting).await {
                Ok(result) => result.map_err(Into::into),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connect timed out after {limit:?}"),
                )
                .into()),
            }
        })
    }
}
