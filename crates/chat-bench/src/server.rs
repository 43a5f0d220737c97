//! The loopback server of the load test: hyper 1.x on 127.0.0.1, on its own thread and
//! single-threaded tokio runtime, answering `POST .../chat/completions` with canned bodies.
//!
//! The scenario is the first path segment of the request (`/small/v1/chat/completions`), so
//! every client reaches it through an ordinary base URL. A second listener speaks HTTP/2
//! (prior knowledge) with a low limit of concurrent streams, for [`Scenario::SmallH2`].

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::oneshot;

use crate::payload::{self, StreamKind};
use crate::Scenario;

/// The canned bodies, built once.
#[derive(Debug)]
struct Routes {
    small: Bytes,
    large: Bytes,
    stream: Arc<[Bytes]>,
    stream_long: Arc<[Bytes]>,
    stream_huge: Arc<[Bytes]>,
    small_gzip: Bytes,
}

impl Routes {
    fn new() -> Self {
        let events = |n| -> Arc<[Bytes]> {
            let mut events: Vec<Bytes> = payload::stream_chunks(StreamKind::Content, n)
                .into_iter()
                .map(|c| Bytes::from(format!("data: {c}\n\n")))
                .collect();
            events.push(Bytes::from_static(b"data: [DONE]\n\n"));
            events.into()
        };
        Routes {
            small: Bytes::from(payload::typical_response()),
            large: Bytes::from(payload::long_text_response(64 * 1024)),
            stream: events(Scenario::Stream.chunks()),
            stream_long: events(Scenario::StreamLong.chunks()),
            stream_huge: events(Scenario::StreamHuge.chunks()),
            small_gzip: Bytes::from(gzip(payload::typical_response().as_bytes())),
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// A response body: one buffer (sent with `content-length`) or events, one frame each
/// (sent chunked, like the API's event streams).
#[derive(Debug)]
struct Reply {
    frames: Arc<[Bytes]>,
    next: usize,
    exact: bool,
}

impl http_body::Body for Reply {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let frame = this.frames.get(this.next).cloned();
        this.next += 1;
        Poll::Ready(frame.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.next >= self.frames.len()
    }

    fn size_hint(&self) -> SizeHint {
        if self.exact {
            SizeHint::with_exact(self.frames.iter().map(|b| b.len() as u64).sum())
        } else {
            SizeHint::default()
        }
    }
}

async fn handle(
    routes: Arc<Routes>,
    req: Request<Incoming>,
) -> Result<Response<Reply>, Infallible> {
    let path = req.uri().path().to_owned();
    // Read the whole request, as a real server does before answering.
    let _ = req.into_body().collect().await;
    let scenario = path
        .strip_suffix("/v1/chat/completions")
        .and_then(|p| p.strip_prefix('/'))
        .and_then(Scenario::from_key);
    if scenario == Some(Scenario::SmallH2) {
        // Like a model's time to answer: requests in flight, not CPU, bound the throughput.
        tokio::time::sleep(crate::H2_LATENCY).await;
    }
    let (frames, exact, content_type): (Arc<[Bytes]>, bool, &str) = match scenario {
        Some(
            Scenario::Small | Scenario::SmallH2 | Scenario::SmallRateLimited | Scenario::SmallPaced,
        ) => (Arc::new([routes.small.clone()]), true, "application/json"),
        Some(Scenario::SmallGzip) => (
            Arc::new([routes.small_gzip.clone()]),
            true,
            "application/json",
        ),
        Some(Scenario::Large) => (Arc::new([routes.large.clone()]), true, "application/json"),
        Some(Scenario::Stream) => (routes.stream.clone(), false, "text/event-stream"),
        Some(Scenario::StreamLong) => (routes.stream_long.clone(), false, "text/event-stream"),
        Some(Scenario::StreamHuge) => (routes.stream_huge.clone(), false, "text/event-stream"),
        None => {
            let body = Bytes::from_static(
                br#"{"error":{"message":"no such route","type":"invalid_request_error"}}"#,
            );
            let mut res = Response::new(Reply {
                frames: Arc::new([body]),
                next: 0,
                exact: true,
            });
            *res.status_mut() = StatusCode::NOT_FOUND;
            return Ok(res);
        }
    };
    let mut res = Response::new(Reply {
        frames,
        next: 0,
        exact,
    });
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    h.insert(
        "x-request-id",
        header::HeaderValue::from_static("req_bench"),
    );
    h.insert(
        "openai-processing-ms",
        header::HeaderValue::from_static("1"),
    );
    match scenario {
        Some(Scenario::SmallGzip) => {
            h.insert(
                header::CONTENT_ENCODING,
                header::HeaderValue::from_static("gzip"),
            );
        }
        Some(Scenario::SmallRateLimited | Scenario::SmallPaced) => {
            // As the API sends them, with far more left than the test can use.
            for (name, value) in [
                ("x-ratelimit-limit-requests", "10000000"),
                ("x-ratelimit-limit-tokens", "1000000000"),
                ("x-ratelimit-remaining-requests", "9999999"),
                ("x-ratelimit-remaining-tokens", "999999000"),
                ("x-ratelimit-reset-requests", "6ms"),
                ("x-ratelimit-reset-tokens", "0s"),
            ] {
                h.insert(name, header::HeaderValue::from_static(value));
            }
        }
        _ => {}
    }
    Ok(res)
}

/// A running loopback server; stops when dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    h2_addr: SocketAddr,
    accepted: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds 127.0.0.1 on a free port and serves on a new thread.
    pub fn start() -> io::Result<Server> {
        let routes = Arc::new(Routes::new());
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let std_h2 = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_h2.set_nonblocking(true)?;
        let h2_addr = std_h2.local_addr()?;
        let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
        let accepted = Arc::new(AtomicU64::new(0));
        let counter = accepted.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("bench-server".into())
            .spawn(move || {
                rt.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
                        return;
                    };
                    let Ok(h2_listener) = tokio::net::TcpListener::from_std(std_h2) else {
                        return;
                    };
                    loop {
                        let (accepted, h2) = tokio::select! {
                            _ = &mut stop_rx => break,
                            a = listener.accept() => (a, false),
                            a = h2_listener.accept() => (a, true),
                        };
                        let Ok((stream, _)) = accepted else { continue };
                        counter.fetch_add(1, Ordering::Relaxed);
                        let _ = stream.set_nodelay(true);
                        let routes = routes.clone();
                        tokio::spawn(async move {
                            let service = service_fn(move |req| handle(routes.clone(), req));
                            if h2 {
                                let _ = http2::Builder::new(TokioExecutor::new())
                                    .max_concurrent_streams(crate::H2_MAX_STREAMS)
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            } else {
                                let _ = http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            }
                        });
                    }
                });
            })?;
        Ok(Server {
            addr,
            h2_addr,
            accepted,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections the server has accepted so far.
    pub fn connections_accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// The base URL of a scenario, such as `http://127.0.0.1:4000/small/v1`.
    pub fn base_url(&self, scenario: Scenario) -> String {
        match scenario {
            Scenario::SmallH2 => scenario.base_url(self.h2_addr),
            _ => scenario.base_url(self.addr),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
