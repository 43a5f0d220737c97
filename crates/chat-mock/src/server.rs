//! [`MockServer`]: the same scripts served over real HTTP on 127.0.0.1 (feature `server`).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use chat_core::{Body, TransportError};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::mock::Shared;
use crate::MockTransport;

/// A loopback HTTP/1.1 server that answers from a [`MockTransport`]'s script.
///
/// It speaks the Chat Completions wire protocol: JSON answers with `content-type` and
/// `content-length`, streams as `text/event-stream` with chunked transfer, and an
/// `x-request-id` on every answer, so any HTTP client (including the official OpenAI
/// libraries, given [`base_url`](Self::base_url)) can use it. Requests are recorded by the
/// mock as usual; stored completions, rate limits and the `404` for unknown paths work as
/// with the mock alone. Transport faults become connection faults: a connect or I/O error closes
/// the connection without an answer, a broken stream aborts the chunked body, and a hang
/// keeps the connection open and silent.
///
/// [`shutdown`](Self::shutdown) stops the server and waits until its port is closed; dropping
/// it stops it too, in the background (the port may still accept a connection for a moment).
/// It must be started inside a tokio runtime.
///
/// ```no_run
/// use chat_mock::{MockResponse, MockServer, MockTransport};
///
/// # async fn demo() {
/// let mock = MockTransport::new();
/// mock.push(MockResponse::text("Hello from the loopback server"));
/// let server = MockServer::start(mock.clone()).await;
/// // Point any OpenAI client at it, for example OPENAI_BASE_URL=server.base_url().
/// println!("{}", server.base_url()); // http://127.0.0.1:PORT/v1
/// # }
/// ```
pub struct MockServer {
    addr: SocketAddr,
    mock: MockTransport,
    /// The accept loop.
    task: JoinHandle<()>,
    /// One task per connection; dropping the set aborts them.
    connections: Arc<Mutex<JoinSet<()>>>,
}

impl MockServer {
    /// Starts serving `mock` on a free port of 127.0.0.1.
    ///
    /// # Panics
    ///
    /// If no port can be bound (use [`try_start`](Self::try_start) to handle that).
    pub async fn start(mock: MockTransport) -> MockServer {
        match Self::try_start(mock).await {
            Ok(s) => s,
            Err(e) => panic!("chat-mock: cannot start the mock server on 127.0.0.1: {e}"),
        }
    }

    /// Starts serving `mock` on a free port of 127.0.0.1, or says why it cannot.
    pub async fn try_start(mock: MockTransport) -> io::Result<MockServer> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = mock.shared().clone();
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let task = tokio::spawn(accept_loop(listener, shared, connections.clone()));
        Ok(MockServer {
            addr,
            mock,
            task,
            connections,
        })
    }

    /// The base URL of the API, `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The URL of `path` on the server (such as `/v1/chat/completions`).
    pub fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("http://{}{slash}{path}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The mock whose script the server serves.
    pub fn mock(&self) -> &MockTransport {
        &self.mock
    }

    /// Stops the server: when this returns, the port is closed and every connection (including
    /// one waiting on a [`hang`](crate::MockResponse::hang)) is dropped.
    pub async fn shutdown(mut self) {
        self.task.abort();
        // The accept loop ends as cancelled, its listener dropped; it spawns nothing more.
        let _ = (&mut self.task).await;
        let mut connections = std::mem::take(&mut *lock(&self.connections));
        connections.shutdown().await;
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        // The connection set goes with the last of the server and the accept loop, which
        // aborts every connection.
        self.task.abort();
    }
}

fn lock(connections: &Mutex<JoinSet<()>>) -> MutexGuard<'_, JoinSet<()>> {
    connections.lock().unwrap_or_else(|e| e.into_inner())
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .field("mock", &self.mock)
            .finish()
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    connections: Arc<Mutex<JoinSet<()>>>,
) {
    loop {
        {
            let mut set = lock(&connections);
            while set.try_join_next().is_some() {}
        }
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors or similar: wait a little instead of spinning.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        lock(&connections).spawn(async move {
            let service = service_fn(move |req| handle(shared.clone(), req));
            // A connection ends with an error when a fault is scripted; nothing to report.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<ServerBody>, TransportError> {
    let (parts, mut incoming) = request.into_parts();
    let mut buf = BytesMut::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| hyper::body::Body::poll_frame(Pin::new(&mut incoming), cx)).await
    {
        let frame =
            frame.map_err(|e| TransportError::io("reading the request body").with_source(e))?;
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
        }
    }
    let request = http::Request::from_parts(parts, buf.freeze());
    let response = shared.send(request).await?;
    let (parts, body) = response.into_parts();
    let body = if body.is_full() {
        ServerBody::Full(Some(body.collect(usize::MAX).await?))
    } else {
        ServerBody::Stream(body, None)
    };
    Ok(hyper::Response::from_parts(parts, body))
}

/// A response body for hyper: a whole buffer (sent with `content-length`) or a stream (sent
/// chunked).
enum ServerBody {
    Full(Option<Bytes>),
    Stream(Body, Option<TransportError>),
}

impl hyper::body::Body for ServerBody {
    type Data = Bytes;
    type Error = TransportError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, TransportError>>> {
        match self.get_mut() {
            ServerBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ServerBody::Stream(body, pending_error) => {
                if let Some(e) = pending_error.take() {
                    return Poll::Ready(Some(Err(e)));
                }
                match body.poll_chunk(cx) {
                    Poll::Ready(Some(Err(e))) => {
                        // Let hyper flush what came before, so the peer sees the chunks and
                        // then the broken connection, as with a real disconnect.
                        *pending_error = Some(e);
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    other => other.map(|item| item.map(|r| r.map(Frame::data))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ServerBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ServerBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            ServerBody::Stream(..) => SizeHint::default(),
        }
    }
}
