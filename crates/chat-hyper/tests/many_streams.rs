//! A thousand concurrent streams over one shared client, each dropped half-way, for several
//! rounds: afterwards the process's file descriptors and the server's open connections are
//! back to where they started. Its own test binary, so no other test's sockets are counted.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use chat_hyper::chat_core::{Client, Config};
use support::{builder, chunk_event, request, serve_with, sse_response, ServeOptions, Server};

const WANTED: usize = 1000;

/// A server whose every answer is a stream of two chunks followed by keep-alive comments
/// until the client goes away (the second half never comes).
async fn server(http2: bool) -> Server {
    let options = ServeOptions {
        http2_only_streams: http2.then_some(2000),
        ..ServeOptions::default()
    };
    serve_with(options, |_req| async {
        let (tx, response) = sse_response();
        tokio::spawn(async move {
            for part in ["Hel", "lo"] {
                if tx.send(chunk_event(part).into()).await.is_err() {
                    return;
                }
            }
            // Half-way: only comments from now on, until the body is dropped.
            while tx.send(Bytes::from_static(b": ping\n\n")).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        response
    })
    .await
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The soft limit of open files of this process.
fn fd_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// Polls `f` until it holds, for at most `bound`.
async fn eventually(bound: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > bound {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `count` rounds of concurrent streams over one client, over HTTP/1.1 (a connection
/// per stream) or HTTP/2 (streams multiplexed on one connection).
async fn rounds(count: usize, http2: bool) {
    let server = server(http2).await;
    let addr = server.addr;
    let mut transport = builder().pool_idle_timeout(Some(Duration::from_millis(200)));
    if http2 {
        transport = transport.http2_only();
    }
    let config = Config::new()
        .base_url(format!("http://{addr}/v1"))
        .api_key("sk-many")
        .max_retries(0)
        .timeout(Duration::from_secs(30));
    let client = Client::new(config, transport.build().unwrap());

    let baseline = open_fds();
    // Each HTTP/1.1 stream holds two sockets in this process (client and server end); keep
    // well under the limit of open files whatever it is.
    let streams = WANTED.min((fd_limit().saturating_sub(baseline + 64)) / 2);
    assert!(streams >= 100, "too few file descriptors for the test");

    for round in 0..count {
        let tasks: Vec<_> = (0..streams)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move {
                    let mut stream = client.create_chat_completion_stream(&request()).await?;
                    let mut text = String::new();
                    for _ in 0..2 {
                        let chunk = stream.next().await.expect("a chunk")?;
                        text.push_str(chunk.first_content().unwrap_or_default());
                    }
                    // Dropped half-way: the server would go on with comments forever.
                    drop(stream);
                    Ok::<_, chat_hyper::chat_core::Error>(text)
                })
            })
            .collect();
        let mut peak_live = 0;
        for task in tasks {
            let text = task.await.unwrap().unwrap();
            assert_eq!(text, "Hello");
            peak_live = peak_live.max(server.live());
        }
        assert!(
            peak_live >= 1,
            "round {round}: the server saw no connection"
        );
        let settled = eventually(Duration::from_secs(20), || {
            server.live() == 0 && open_fds() <= baseline
        })
        .await;
        assert!(
            settled,
            "round {round} ({streams} streams, http2 {http2}): {} server connections and {} fds \
             open after the streams were dropped, baseline {baseline}",
            server.live(),
            open_fds()
        );
    }
    drop(client);
    assert!(eventually(Duration::from_secs(10), || open_fds() <= baseline).await);
}

#[test]
fn thousand_dropped_streams_release_every_socket() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let run = async {
            rounds(3, false).await;
            rounds(2, true).await;
        };
        tokio::time::timeout(Duration::from_secs(120), run)
            .await
            .expect("the rounds hung");
    });
}
