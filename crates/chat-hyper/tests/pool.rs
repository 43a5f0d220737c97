//! More than one HTTP/2 connection per host: loopback h2c servers that count connections and
//! streams, and hold every request until enough of them are open at once (a barrier), so
//! concurrency beyond one connection's limit is proven without timing.

mod support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use chat_hyper::chat_core::Transport;
use http::{Response, Version};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::{builder, guard, post, text, TestBody};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What an [`h2_server`] saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    /// Requests being handled right now, over all connections.
    open: AtomicUsize,
    /// The most requests handled at once, over all connections.
    most_open: AtomicUsize,
    /// The most requests handled at once on one connection.
    most_per_connection: AtomicUsize,
    changed: Notify,
}

impl Seen {
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    fn most_per_connection(&self) -> usize {
        self.most_per_connection.load(Ordering::SeqCst)
    }
    fn most_open(&self) -> usize {
        self.most_open.load(Ordering::SeqCst)
    }

    /// Waits until `k` requests were open at once.
    async fn reached(&self, k: usize) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.most_open() >= k {
                return;
            }
            changed.await;
        }
    }
}

/// An HTTP/2 (prior knowledge) server allowing `max_streams` per connection that holds each
/// request until `barrier` requests were open at once, and closes each connection gracefully
/// (GOAWAY) after `close_after` requests when given.
async fn h2_server(
    max_streams: u32,
    barrier: usize,
    close_after: Option<usize>,
) -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/v1/chat/completions",
        listener.local_addr().unwrap()
    );
    let seen = Arc::new(Seen::default());
    let server_seen = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let seen = server_seen.clone();
            seen.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let on_conn = Arc::new(AtomicUsize::new(0));
                let served = Arc::new(AtomicUsize::new(0));
                let done = Arc::new(Notify::new());
                let (conn_seen, conn_served, conn_done) =
                    (seen.clone(), served.clone(), done.clone());
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let (seen, on_conn) = (conn_seen.clone(), on_conn.clone());
                    let (served, done) = (conn_served.clone(), conn_done.clone());
                    async move {
                        let here = on_conn.fetch_add(1, Ordering::SeqCst) + 1;
                        seen.most_per_connection.fetch_max(here, Ordering::SeqCst);
                        let open = seen.open.fetch_add(1, Ordering::SeqCst) + 1;
                        seen.most_open.fetch_max(open, Ordering::SeqCst);
                        seen.changed.notify_waiters();
                        seen.reached(barrier).await;
                        seen.open.fetch_sub(1, Ordering::SeqCst);
                        on_conn.fetch_sub(1, Ordering::SeqCst);
                        let n = served.fetch_add(1, Ordering::SeqCst) + 1;
                        if close_after == Some(n) {
                            done.notify_one();
                        }
                        let version = format!("{:?}", req.version());
                        Ok::<_, Infallible>(Response::new(TestBody::full(version)))
                    }
                });
                let mut h2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
                h2.max_concurrent_streams(max_streams);
                let conn = h2.serve_connection(TokioIo::new(tcp), service);
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => {}
                    _ = done.notified() => {
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
            });
        }
    });
    (url, seen)
}

/// Sends `n` requests at once and returns their bodies.
async fn send_all(transport: &chat_hyper::HyperTransport, url: &str, n: usize) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (transport, url) = (transport.clone(), url.to_owned());
        tasks.spawn(async move {
            let response = transport.send(post(&url, "{}")).await.unwrap();
            assert_eq!(response.version(), Version::HTTP_2);
            text(response.into_body()).await.unwrap()
        });
    }
    guard(tasks.join_all()).await
}

#[tokio::test]
async fn streams_beyond_one_connection_run_on_more_connections() {
    // The server would take 100 streams per connection; the client's limit is 2, and 6
    // requests must be open at once before any is answered.
    let (url, seen) = h2_server(100, 6, None).await;
    let transport = builder()
        .http2_only()
        .http2_max_streams_per_connection(2)
        .http2_max_connections_per_host(4)
        .build()
        .unwrap();

    let bodies = send_all(&transport, &url, 6).await;

    assert_eq!(bodies, vec!["HTTP/2.0"; 6]);
    assert_eq!(seen.most_open(), 6);
    assert_eq!(seen.connections(), 3, "6 streams at 2 per connection");
    assert_eq!(seen.most_per_connection(), 2);
}

#[tokio::test]
async fn server_limit_of_two_streams_with_many_more_requests() {
    // 8 streams may be open at once (4 connections of 2); 40 requests queue for them.
    let (url, seen) = h2_server(2, 8, None).await;
    let transport = builder()
        .http2_only()
        .http2_max_streams_per_connection(2)
        .http2_max_connections_per_host(4)
        .build()
        .unwrap();

    let bodies = send_all(&transport, &url, 40).await;

    assert_eq!(bodies.len(), 40);
    assert_eq!(seen.most_open(), 8);
    assert_eq!(seen.connections(), 4);
    assert!(
        seen.most_per_connection() <= 2,
        "{}",
        seen.most_per_connection()
    );
    // The connections stay pooled: more requests open none.
    let again = send_all(&transport, &url, 8).await;
    assert_eq!(again.len(), 8);
    assert_eq!(seen.connections(), 4);
}

#[tokio::test]
async fn a_thousand_streams_at_once_over_ten_connections() {
    // Every one of 1,000 requests is held until all 1,000 are open at once: one connection
    // of 100 streams could never get there.
    let (url, seen) = h2_server(100, 1000, None).await;
    let transport = builder()
        .http2_only()
        .http2_max_connections_per_host(10)
        .build()
        .unwrap();

    let bodies = send_all(&transport, &url, 1000).await;

    assert_eq!(bodies.len(), 1000);
    assert_eq!(seen.most_open(), 1000);
    assert_eq!(seen.connections(), 10);
    assert_eq!(seen.most_per_connection(), 100);
}

#[tokio::test]
async fn one_connection_until_its_streams_fill() {
    let (url, seen) = h2_server(100, 1, None).await;
    let transport = builder()
        .http2_only()
        .http2_max_streams_per_connection(4)
        .http2_max_connections_per_host(4)
        .build()
        .unwrap();

    for _ in 0..5 {
        send_all(&transport, &url, 3).await;
    }

    assert_eq!(seen.connections(), 1);
}

#[tokio::test]
async fn connections_closed_by_the_server_are_replaced() {
    // Every connection says GOAWAY after 3 requests.
    let (url, seen) = h2_server(100, 1, Some(3)).await;
    let transport = builder()
        .http2_only()
        .http2_max_streams_per_connection(2)
        .http2_max_connections_per_host(2)
        .build()
        .unwrap();

    // One request at a time: each goes to the first slot, so every connection after the
    // first replaces a closed one.
    let mut answered = 0;
    for _ in 0..12 {
        answered += send_all(&transport, &url, 1).await.len();
    }

    assert_eq!(answered, 12);
    assert!(seen.connections() >= 2, "{}", seen.connections());
}

#[tokio::test]
async fn dropped_bodies_and_cancelled_requests_give_their_streams_back() {
    // Two streams in all (2 connections of 1): a leaked stream would hang the later requests.
    let (url, seen) = h2_server(100, 1, None).await;
    let transport = builder()
        .http2_only()
        .http2_max_streams_per_connection(1)
        .http2_max_connections_per_host(2)
        .build()
        .unwrap();

    for _ in 0..3 {
        let a = guard(transport.send(post(&url, "{}"))).await.unwrap();
        let b = guard(transport.send(post(&url, "{}"))).await.unwrap();
        drop((a, b)); // bodies never read
    }
    // A request waiting for a stream, given up: its place is not kept.
    let held = guard(transport.send(post(&url, "{}"))).await.unwrap();
    let held2 = guard(transport.send(post(&url, "{}"))).await.unwrap();
    let waiting = tokio::spawn({
        let (transport, url) = (transport.clone(), url.clone());
        async move { transport.send(post(&url, "{}")).await.map(|_| ()) }
    });
    tokio::task::yield_now().await;
    waiting.abort();
    let _ = waiting.await;
    drop((held, held2));

    let bodies = send_all(&transport, &url, 2).await;
    assert_eq!(bodies, vec!["HTTP/2.0"; 2]);
    assert_eq!(seen.connections(), 2);
}

#[tokio::test]
async fn http1_hosts_are_not_limited_by_the_stream_slots() {
    // Plain HTTP/1.1: 10 requests open at once on 10 connections, with a stream limit of 1.
    let seen = Arc::new(Seen::default());
    let server_seen = seen.clone();
    let server = support::serve(None, move |_req| {
        let seen = server_seen.clone();
        async move {
            let open = seen.open.fetch_add(1, Ordering::SeqCst) + 1;
            seen.most_open.fetch_max(open, Ordering::SeqCst);
            seen.changed.notify_waiters();
            seen.reached(10).await;
            Response::new(TestBody::full(Bytes::from_static(b"ok")))
        }
    })
    .await;
    let transport = builder()
        .http2_max_streams_per_connection(1)
        .http2_max_connections_per_host(2)
        .build()
        .unwrap();
    let url = server.url("http", "/");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (transport, url) = (transport.clone(), url.clone());
        tasks.spawn(async move {
            let response = transport.send(post(&url, "{}")).await.unwrap();
            assert_eq!(response.version(), Version::HTTP_11);
            text(response.into_body()).await.unwrap()
        });
    }
    let bodies = guard(tasks.join_all()).await;
    assert_eq!(bodies, vec!["ok"; 10]);
    assert_eq!(server.accepted(), 10);
}

#[test]
fn limits_show_in_debug_and_are_at_least_one() {
    let transport = builder()
        .http2_max_streams_per_connection(0)
        .http2_max_connections_per_host(3)
        .build()
        .unwrap();
    let debug = format!("{transport:?}");
    assert!(
        debug.contains("http2_max_streams_per_connection: 1"),
        "{debug}"
    );
    assert!(
        debug.contains("http2_max_connections_per_host: 3"),
        "{debug}"
    );
}
