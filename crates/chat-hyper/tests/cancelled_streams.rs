//! Cancelling many HTTP/2 streams on one connection must not kill it: a stream kept open from
//! the start still reads its events after 1,500 others were dropped half-way while the server
//! was still sending on them, and the server saw a single connection throughout.

mod support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chat_hyper::chat_core::types::CreateChatCompletionRequest;
use chat_hyper::chat_core::{Client, Config};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::{builder, TestBody};
use tokio::net::TcpListener;

const DROPPED: usize = 1500;
const AT_ONCE: usize = 50;

fn event(n: usize) -> Bytes {
    Bytes::from(format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\
         \"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{n} \"}},\"finish_reason\":null}}]}}\n\n"
    ))
}

/// An h2c server whose every answer is an endless stream: a chunk every millisecond until the
/// client resets the stream. Returns its address and the count of connections accepted.
async fn server() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let service = service_fn(|_req| async {
                    let (tx, body) = TestBody::channel();
                    tokio::spawn(async move {
                        let mut n = 0;
                        while tx.send(event(n)).await.is_ok() {
                            n += 1;
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    });
                    let response = http::Response::builder()
                        .header("content-type", "text/event-stream")
                        .body(body)
                        .unwrap();
                    Ok::<_, Infallible>(response)
                });
                let mut builder =
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                builder = builder.http2_only();
                builder.http2().max_concurrent_streams(1000);
                let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
            });
        }
    });
    (addr, accepted)
}

fn request() -> CreateChatCompletionRequest {
    serde_json::from_value(serde_json::json!({
        "model": "m",
        "messages": [{"role": "user", "content": "Hi"}]
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_many_streams_keeps_the_connection_and_its_other_streams() {
    let (addr, accepted) = server().await;
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
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the connection was replaced"
    );
}
