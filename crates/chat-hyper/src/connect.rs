//! The connector stack: TCP (hyper-util's `HttpConnector`), an optional HTTP proxy (hyper-util's
//! `Matcher` decides, its `Tunnel` does CONNECT), TLS (hyper-rustls) and one deadline over all
//! of it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
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
            let mut tunnel = Tunnel::new(proxy.uri().clone(), http);
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            Box::pin(async move {
                let io = tunnel.call(dst).await.map_err(|e| via.wrap(e.into()))?;
                Ok(Conn::new(io, false))
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

    fn wrap(self, source: BoxError) -> BoxError {
        Box::new(ViaProxy {
            source: Some(source),
            ..self
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
