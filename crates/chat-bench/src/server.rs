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
    limiter: std::sync::Mutex<Limiter>,
    /// 429 answers sent so far.
    rejected: Arc<AtomicU64>,
}

/// A fixed-window limit of [`RATE_LIMIT`](crate::RATE_LIMIT) requests per `window`, windows
/// counted from `origin`.
#[derive(Debug)]
pub struct Limiter {
    origin: std::time::Instant,
    window: std::time::Duration,
    limit: u64,
    current: u64,
    used: u64,
}

/// What the [`Limiter`] says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the request is within the limit.
    pub allowed: bool,
    /// Requests left in the window after this one.
    pub remaining: u64,
    /// Whole milliseconds until the window resets (at least 1).
    pub reset_ms: u64,
}

impl Limiter {
    /// `limit` requests per `window`, the first window starting at `origin`.
    pub fn new(origin: std::time::Instant, window: std::time::Duration, limit: u64) -> Self {
        Limiter {
            origin,
            window,
            limit,
            current: 0,
            used: 0,
        }
    }

    /// Counts a request arriving at `now`.
    pub fn admit(&mut self, now: std::time::Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.origin);
        let window_ns = self.window.as_nanos().max(1);
        let index = (elapsed.as_nanos() / window_ns) as u64;
        if index != self.current {
            self.current = index;
            self.used = 0;
        }
        let allowed = self.used < self.limit;
        if allowed {
            self.used += 1;
        }
        let left_ns = (u128::from(index) + 1) * window_ns - elapsed.as_nanos();
        Verdict {
            allowed,
            remaining: self.limit - self.used,
            reset_ms: (left_ns.div_ceil(1_000_000) as u64).max(1),
        }
    }
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
            limiter: std::sync::Mutex::new(Limiter::new(
                std::time::Instant::now(),
                crate::RATE_WINDOW,
                crate::RATE_LIMIT,
            )),
            rejected: Arc::new(AtomicU64::new(0)),
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
    let verdict = scenario.filter(|s| s.is_limited()).map(|_| {
        routes
            .limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .admit(std::time::Instant::now())
    });
    let limit_headers = |h: &mut http::HeaderMap, v: Verdict| {
        let num = |n: u64| header::HeaderValue::from(n);
        h.insert("x-ratelimit-limit-requests", num(crate::RATE_LIMIT));
        h.insert("x-ratelimit-remaining-requests", num(v.remaining));
        if let Ok(reset) = header::HeaderValue::try_from(format!("{}ms", v.reset_ms)) {
            h.insert("x-ratelimit-reset-requests", reset);
        }
        h.insert(
            "x-request-id",
            header::HeaderValue::from_static("req_bench"),
        );
    };
    if let Some(v) = verdict.filter(|v| !v.allowed) {
        // As the API answers: a 429 with the limit headers and no `retry-after`, so each
        // client waits as its own backoff says (or as its pacer reads the reset).
        routes.rejected.fetch_add(1, Ordering::Relaxed);
        let body = Bytes::from_static(
            br#"{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
        );
        let mut res = Response::new(Reply {
            frames: Arc::new([body]),
            next: 0,
            exact: true,
        });
        *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        limit_headers(res.headers_mut(), v);
        return Ok(res);
    }
    let (frames, exact, content_type): (Arc<[Bytes]>, bool, &str) = match scenario {
        Some(
            Scenario::Small
            | Scenario::SmallH2
            | Scenario::SmallRateLimited
            | Scenario::SmallPaced
            | Scenario::SmallLimited
            | Scenario::SmallLimitedPaced,
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
    if let Some(v) = verdict {
        limit_headers(h, v);
    }
    Ok(res)
}

/// A running loopback server; stops when dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    h2_addr: SocketAddr,
    accepted: Arc<AtomicU64>,
    rejected: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds 127.0.0.1 on a free port and serves on a new thread.
    pub fn start() -> io::Result<Server> {
        let routes = Arc::new(Routes::new());
        let rejected = routes.rejected.clone();
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
            rejected,
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

    /// How many requests the server has answered 429 so far.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn the_limiter_allows_its_limit_per_window_and_says_when_it_resets() {
        let origin = Instant::now();
        let mut limiter = Limiter::new(origin, Duration::from_millis(100), 3);
        let at = |ms| origin + Duration::from_millis(ms);
        let v: Vec<Verdict> = (0..4).map(|_| limiter.admit(at(40))).collect();
        assert_eq!(
            v.iter()
                .map(|v| (v.allowed, v.remaining))
                .collect::<Vec<_>>(),
            [(true, 2), (true, 1), (true, 0), (false, 0)]
        );
        assert_eq!(v[3].reset_ms, 60);
        // The next window starts whole.
        let next = limiter.admit(at(100));
        assert_eq!(
            (next.allowed, next.remaining, next.reset_ms),
            (true, 2, 100)
        );
        // A reset never reads 0 ms, which a client could take for "now".
        let mut limiter = Limiter::new(origin, Duration::from_millis(100), 1);
        let late = limiter.admit(origin + Duration::from_micros(99_999));
        assert_eq!(late.reset_ms, 1);
    }
}
