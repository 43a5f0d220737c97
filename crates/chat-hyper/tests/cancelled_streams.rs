//! Cancelling many HTTP/2 streams on one connection must not kill it: a stream kept open from
//! the start still reads its events after 3,000 others were dropped half-way while the server
//! was still sending on them, and the server saw a single connection throughout.

mod support;

use std::time::Duration;

use chat_hyper::chat_core::{Client, Config};
use support::{builder, chunk_event, request, serve_with, sse_response, ServeOptions, Server};

const DROPPED: usize = 3000;
const AT_ONCE: usize = 50;

/// An h2c server whose every answer is an endless stream: a chunk every millisecond until the
/// client resets the stream.
async fn server() -> Server {
    let options = ServeOptions {
        http2_only_streams: Some(1000),
        ..ServeOptions::default()
    };
    serve_with(options, |_req| async {
        let (tx, response) = sse_response();
        tokio::spawn(async move {
            let mut n = 0;
            while tx.send(chunk_event(&format!("{n} ")).into()).await.is_ok() {
                n += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        response
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_many_streams_keeps_the_connection_and_its_other_streams() {
    let server = server().await;
    let addr = server.addr;
    let transport = builder()
        .http2_only()
        .http2_max_connections_per_host(1)
        .http2_max_streams_per_connection(AT_ONCE + 1)
        .build()
        .unwrap();
    let config = Config::new()
        .base_url(format!("http://{addr}/v1"))
        .api_key("sk-cancel")
        .max_retries(0)
        .timeout(Duration::from_secs(60));
    let client = Client::new(config, transport);

    let run = async {
        let mut kept = client
            .create_chat_completion_stream(&request())
            .await
            .unwrap();
        kept.next().await.expect("a first chunk").unwrap();

        for batch in 0..DROPPED / AT_ONCE {
            let tasks: Vec<_> = (0..AT_ONCE)
                .map(|_| {
                    let client = client.clone();
                    tokio::spawn(async move {
                        let mut stream = client.create_chat_completion_stream(&request()).await?;
                        stream.next().await.expect("a chunk")?;
                        // Dropped while the server goes on sending.
                        drop(stream);
                        Ok::<_, chat_hyper::chat_core::Error>(())
                    })
                })
                .collect();
            for task in tasks {
                if let Err(e) = task.await.unwrap() {
                    panic!("batch {batch}: a new stream failed: {e}");
                }
            }
            // The kept stream is still alive and in order.
            match kept.next().await {
                Some(Ok(_)) => {}
                other => panic!(
                    "after {} dropped streams the kept one ended: {other:?}",
                    (batch + 1) * AT_ONCE
                ),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the streams hung");
    assert_eq!(server.accepted(), 1, "the connection was replaced");
}
