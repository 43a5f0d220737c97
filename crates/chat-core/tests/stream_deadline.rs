//! The whole-stream deadline: a server that keeps a stream busy with `: ping` comments (which
//! reset the idle timeout) cannot hold it open past `stream_deadline`.

mod client_support;

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use chat_core::{
    async_trait, Body, ChatCompletionStream, Client, ErrorKind, RequestOptions, ResponseMeta,
    StreamConfig, TimeoutKind, Transport, TransportError,
};
use client_support::{config, request};
use futures_core::Stream;
use tokio::time::{Instant, Sleep};

const CHUNK: &str =
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n";

/// A body of one chunk, then `: ping` comments every second, forever.
struct Pings {
    first: Option<Bytes>,
    sleep: Pin<Box<Sleep>>,
}

impl Pings {
    fn new() -> Self {
        Pings {
            first: Some(Bytes::from_static(CHUNK.as_bytes())),
            sleep: Box::pin(tokio::time::sleep(Duration::from_secs(1))),
        }
    }
}

impl Stream for Pings {
    type Item = Result<Bytes, TransportError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                let next = Instant::now() + Duration::from_secs(1);
                self.sleep.as_mut().reset(next);
                Poll::Ready(Some(Ok(Bytes::from_static(b": ping\n\n"))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Answers every request with a `Pings` event stream (after `delay`).
#[derive(Debug)]
struct PingServer {
    delay: Duration,
}

#[async_trait]
impl Transport for PingServer {
    async fn send(
        &self,
        _request: http::Request<Bytes>,
    ) -> Result<http::Response<Body>, TransportError> {
        tokio::time::sleep(self.delay).await;
        let mut response = http::Response::new(Body::from_stream(Pings::new()));
        response
            .headers_mut()
            .insert("content-type", "text/event-stream".parse().unwrap());
        response
            .headers_mut()
            .insert("x-request-id", "req_ping".parse().unwrap());
        Ok(response)
    }
}

#[tokio::test(start_paused = true)]
async fn pings_reset_the_idle_timeout_but_not_the_stream_deadline() {
    let client = Client::new(
        config()
            .stream_idle_timeout(Duration::from_secs(5))
            .stream_deadline(Duration::from_secs(60)),
        PingServer {
            delay: Duration::from_secs(2),
        },
    );
    let start = Instant::now();
    let mut stream = client
        .create_chat_completion_stream(&request())
        .await
        .unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    let e = stream.next().await.unwrap().unwrap_err();
    let ErrorKind::Timeout(t) = e.kind() else {
        panic!("{e:?}")
    };
    assert_eq!(t.kind, TimeoutKind::StreamDeadline);
    assert_eq!(t.after, Duration::from_secs(60));
    assert_eq!(e.request_id(), Some("req_ping"));
    let text = e.to_string();
    assert!(
        text.contains("stream deadline") && text.contains("req_ping"),
        "{text}"
    );
    assert!(!e.is_retryable());
    // Counted from the call: the 2 s before the stream arrived are part of it.
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    assert!(stream.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn request_options_set_and_clear_the_stream_deadline() {
    let client = Client::new(
        config()
            .stream_idle_timeout(None)
            .stream_deadline(Duration::from_secs(600)),
        PingServer {
            delay: Duration::ZERO,
        },
    );
    let quick = client.with_options(RequestOptions::new().stream_deadline(Duration::from_secs(3)));
    let start = Instant::now();
    let e = quick
        .create_chat_completion_stream(&request())
        .await
        .unwrap()
        .final_response()
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Timeout(t) if t.kind == TimeoutKind::StreamDeadline),
        "{e:?}"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(3));

    // Cleared per request: the pings keep it open past the configured deadline (bounded here
    // by an outer timeout so the test cannot hang).
    let open = client.with_options(RequestOptions::new().stream_deadline(None));
    let read = open
        .create_chat_completion_stream(&request())
        .await
        .unwrap()
        .final_response();
    assert!(tokio::time::timeout(Duration::from_secs(3600), read)
        .await
        .is_err());
}

/// The wait for the stream counts: a slow server's attempts time out and are retried, until
/// the stream deadline ends the call (with the attempts made).
#[tokio::test(start_paused = true)]
async fn the_wait_for_the_stream_counts_against_the_deadline() {
    let client = Client::new(
        config()
            .timeout(Duration::from_secs(3))
            .retry_jitter(false)
            .stream_deadline(Duration::from_secs(5)),
        PingServer {
            delay: Duration::from_secs(30),
        },
    );
    let start = Instant::now();
    let e = client
        .create_chat_completion_stream(&request())
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Timeout(t) if t.kind == TimeoutKind::StreamDeadline),
        "{e:?}"
    );
    assert!(!e.is_retryable());
    // 3 s (request timeout), 0.5 s backoff, then cut at 5 s by the stream deadline.
    assert_eq!(e.attempts(), 2);
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn stream_config_deadline_counts_from_the_stream() {
    let config = StreamConfig::default().deadline(Duration::from_secs(10));
    let mut stream = ChatCompletionStream::new(
        Body::from_stream(Pings::new()),
        config,
        ResponseMeta::default(),
    );
    let start = Instant::now();
    assert!(stream.next().await.unwrap().is_ok());
    let e = stream.next().await.unwrap().unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Timeout(t) if t.kind == TimeoutKind::StreamDeadline),
        "{e:?}"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(10));
}
