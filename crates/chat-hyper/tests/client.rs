//! chat-core's `Client` over `HyperTransport` end to end: typed completions and streams over
//! HTTPS, and how timeouts, broken connections and retries surface.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chat_hyper::chat_core::{Client, Config, ErrorKind, TimeoutKind, TransportErrorKind};
use http::Response;
use http_body_util::BodyExt;
use support::{
    builder, chunk_event, guard, raw_server, read_head, request, serve, wait_closed, TestBody,
    TestCa,
};
use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;

const COMPLETION: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#;

fn config(base_url: String) -> Config {
    Config::new().base_url(base_url).api_key("sk-test")
}

const FINISH: &str = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

#[tokio::test]
async fn completion_over_https_is_typed() {
    let ca = TestCa::new("test ca");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = serve(
        Some(ca.acceptor(&["127.0.0.1"], &[b"h2", b"http/1.1"])),
        move |req: http::Request<hyper::body::Incoming>| {
            let log = log.clone();
            async move {
                let line = format!(
                    "{} {} {:?} {}",
                    req.method(),
                    req.uri().path(),
                    req.version(),
                    req.headers()["authorization"].to_str().unwrap()
                );
                let body = req.into_body().collect().await.unwrap().to_bytes();
                log.lock().unwrap().push((line, body));
                Response::builder()
                    .header("content-type", "application/json")
                    .header("x-request-id", "req_abc")
                    .body(TestBody::full(COMPLETION))
                    .unwrap()
            }
        },
    )
    .await;
    let transport = builder().add_root_certificate(ca.root()).build().unwrap();
    let client = Client::new(config(server.url("https", "/v1")), transport);

    let response = guard(client.create_chat_completion(&request()))
        .await
        .unwrap();
    assert_eq!(response.first_content(), Some("Hello there"));
    assert_eq!(response.request_id(), Some("req_abc"));
    assert_eq!(response.meta().attempts, 1);

    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0].0,
        "POST /v1/chat/completions HTTP/2.0 Bearer sk-test"
    );
    let sent: serde_json::Value = serde_json::from_slice(&seen[0].1).unwrap();
    assert_eq!(sent["messages"][0]["content"], "Hi");
}

#[tokio::test]
async fn stream_yields_first_chunk_while_server_holds_the_rest() {
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let release_rx = Arc::new(Mutex::new(Some(release_rx)));
    let server = serve(None, move |_req| {
        let release = release_rx.lock().unwrap().take();
        async move {
            let (tx, body) = TestBody::channel();
            tokio::spawn(async move {
                tx.send(Bytes::from(chunk_event("Hel"))).await.unwrap();
                release.unwrap().await.unwrap();
                tx.send(Bytes::from(chunk_event("lo"))).await.unwrap();
                tx.send(Bytes::from(FINISH)).await.unwrap();
            });
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(body)
                .unwrap()
        }
    })
    .await;
    let client = Client::new(
        config(server.url("http", "/v1")),
        builder().build().unwrap(),
    );

    let mut stream = guard(client.create_chat_completion_stream(&request()))
        .await
        .unwrap();
    let first = guard(stream.next()).await.unwrap().unwrap();
    assert_eq!(first.first_content(), Some("Hel"));

    release_tx.send(()).unwrap();
    let mut rest = String::new();
    while let Some(chunk) = guard(stream.next()).await {
        rest.push_str(chunk.unwrap().first_content().unwrap_or_default());
    }
    assert_eq!(rest, "lo");
}

#[tokio::test]
async fn streams_read_to_the_end_of_the_body_keep_the_connection() {
    // The server ends the body a little after `[DONE]`, as a proxy or a busy server may: the
    // stream reads the end before reporting it, so HTTP/1.1 reuses one connection.
    let server = serve(None, move |_req| async move {
        let (tx, body) = TestBody::channel();
        tokio::spawn(async move {
            tx.send(Bytes::from(chunk_event("hi"))).await.unwrap();
            tx.send(Bytes::from(FINISH)).await.unwrap(); // ends with [DONE]
            tokio::time::sleep(Duration::from_millis(30)).await;
            drop(tx);
        });
        Response::builder()
            .header("content-type", "text/event-stream")
            .body(body)
            .unwrap()
    })
    .await;
    let client = Client::new(
        config(server.url("http", "/v1")),
        builder().http1_only().build().unwrap(),
    );
    for _ in 0..3 {
        let stream = guard(client.create_chat_completion_stream(&request()))
            .await
            .unwrap();
        let done = guard(stream.final_response()).await.unwrap();
        assert_eq!(done.first_content(), Some("hi"));
    }
    for _ in 0..2 {
        let mut events = guard(client.create_chat_completion_stream(&request()))
            .await
            .unwrap()
            .events();
        while guard(events.next()).await.is_some() {}
    }
    assert_eq!(server.accepted(), 1);
}

#[tokio::test]
async fn silent_server_gives_request_timeouts_and_is_retried() {
    let accepts = Arc::new(AtomicUsize::new(0));
    let count = accepts.clone();
    let addr = raw_server(move |mut tcp| {
        count.fetch_add(1, Ordering::SeqCst);
        async move {
            read_head(&mut tcp).await;
            wait_closed(&mut tcp).await;
        }
    })
    .await;
    let client = Client::new(
        config(format!("http://{addr}/v1"))
            .timeout(Duration::from_millis(200))
            .max_retries(1),
        builder().build().unwrap(),
    );

    let err = guard(client.create_chat_completion(&request()))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Timeout(t) if t.kind == TimeoutKind::Request),
        "{err}"
    );
    assert_eq!(err.attempts(), 2, "{err}");
    // The abandoned first connection is not reused for the retry.
    assert_eq!(accepts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn stalled_stream_gives_an_idle_timeout() {
    let addr = raw_server(|mut tcp| async move {
        read_head(&mut tcp).await;
        let first = chunk_event("Hi");
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
             transfer-encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n",
            first.len()
        );
        let _ = tcp.write_all(head.as_bytes()).await;
        wait_closed(&mut tcp).await;
    })
    .await;
    let client = Client::new(
        config(format!("http://{addr}/v1")).stream_idle_timeout(Duration::from_millis(200)),
        builder().build().unwrap(),
    );

    let mut stream = guard(client.create_chat_completion_stream(&request()))
        .await
        .unwrap();
    let first = guard(stream.next()).await.unwrap().unwrap();
    assert_eq!(first.first_content(), Some("Hi"));
    let err = guard(stream.next()).await.unwrap().unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Timeout(t) if t.kind == TimeoutKind::Idle),
        "{err}"
    );
    assert!(guard(stream.next()).await.is_none());
}

#[tokio::test]
async fn connection_closed_mid_stream_is_a_transport_error() {
    let addr = raw_server(|mut tcp| async move {
        read_head(&mut tcp).await;
        let first = chunk_event("Hi");
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
             transfer-encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n",
            first.len()
        );
        let _ = tcp.write_all(head.as_bytes()).await;
    })
    .await;
    let client = Client::new(
        config(format!("http://{addr}/v1")),
        builder().build().unwrap(),
    );

    let mut stream = guard(client.create_chat_completion_stream(&request()))
        .await
        .unwrap();
    assert_eq!(
        guard(stream.next()).await.unwrap().unwrap().first_content(),
        Some("Hi")
    );
    let err = guard(stream.next()).await.unwrap().unwrap_err();
    match err.kind() {
        ErrorKind::Transport(t) => assert_eq!(t.kind(), TransportErrorKind::Io, "{err}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn connection_dropped_before_the_answer_is_retried() {
    let accepts = Arc::new(AtomicUsize::new(0));
    let count = accepts.clone();
    let addr = raw_server(move |mut tcp| {
        let n = count.fetch_add(1, Ordering::SeqCst);
        async move {
            read_head(&mut tcp).await;
            if n == 0 {
                return; // hang up without answering
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{COMPLETION}",
                COMPLETION.len()
            );
            let _ = tcp.write_all(answer.as_bytes()).await;
            wait_closed(&mut tcp).await;
        }
    })
    .await;
    let client = Client::new(
        config(format!("http://{addr}/v1")).max_retries(2),
        builder().build().unwrap(),
    );

    let response = guard(client.create_chat_completion(&request()))
        .await
        .unwrap();
    assert_eq!(response.first_content(), Some("Hello there"));
    assert_eq!(response.meta().attempts, 2);
}

#[tokio::test]
async fn refused_connection_is_retried_then_reported() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let client = Client::new(
        config(format!("http://{addr}/v1")).max_retries(1),
        builder().build().unwrap(),
    );

    let err = guard(client.create_chat_completion(&request()))
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::Transport(t) => assert_eq!(t.kind(), TransportErrorKind::Connect, "{err}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert_eq!(err.attempts(), 2);
    assert!(!err.to_string().contains("sk-test"));
}

#[tokio::test]
async fn tls_failure_is_not_retried() {
    let ca = TestCa::new("test ca");
    let server = serve(
        Some(ca.acceptor(&["127.0.0.1"], &[b"http/1.1"])),
        |_req| async { Response::new(TestBody::full(COMPLETION)) },
    )
    .await;
    // The test CA is not trusted.
    let client = Client::new(
        config(server.url("https", "/v1")).max_retries(2),
        builder().build().unwrap(),
    );

    let err = guard(client.create_chat_completion(&request()))
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::Transport(t) => assert_eq!(t.kind(), TransportErrorKind::Tls, "{err}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert_eq!(err.attempts(), 1);
}

/// A garbage status line, or invalid chunked encoding in the first bytes of a stream, is a
/// protocol error: made once, not three times.
#[tokio::test]
async fn protocol_errors_are_not_retried() {
    let answers: [&'static [u8]; 2] = [
        b"SPLAT\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nZZZ\r\nhello\r\n",
    ];
    for answer in answers {
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = connections.clone();
        let addr = raw_server(move |mut tcp| {
            seen.fetch_add(1, Ordering::SeqCst);
            async move {
                read_head(&mut tcp).await;
                let _ = tcp.write_all(answer).await;
                wait_closed(&mut tcp).await;
            }
        })
        .await;
        let client = Client::new(
            config(format!("http://{addr}/v1")).max_retries(2),
            builder().build().unwrap(),
        );
        let err = guard(client.create_chat_completion_stream(&request()))
            .await
            .unwrap_err();
        match err.kind() {
            ErrorKind::Transport(t) => assert_eq!(t.kind(), TransportErrorKind::Protocol, "{err}"),
            other => panic!("expected a transport error, got {other:?}"),
        }
        assert!(!err.is_retryable());
        assert_eq!(err.attempts(), 1, "{err}");
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }
}

/// A compressed body this build does not decode reaches the client with its
/// `Content-Encoding`, and the error names it.
#[tokio::test]
async fn an_undecoded_content_encoding_is_a_decode_error_naming_it() {
    let addr = raw_server(|mut tcp| async move {
        read_head(&mut tcp).await;
        let body: &[u8] = b"\x78\x9c\xabV\xca\xcc\x04\x00\xff\xfe\x00\x13";
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: deflate\r\n\
             x-request-id: req_deflate\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let _ = tcp.write_all(head.as_bytes()).await;
        let _ = tcp.write_all(body).await;
        wait_closed(&mut tcp).await;
    })
    .await;
    let client = Client::new(
        config(format!("http://{addr}/v1")),
        builder().build().unwrap(),
    );
    let err = guard(client.create_chat_completion(&request()))
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::Decode(d) => assert_eq!(d.content_encoding.as_deref(), Some("deflate")),
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(err.to_string().contains("`deflate`"), "{err}");
    assert_eq!(err.request_id(), Some("req_deflate"));
    assert_eq!(err.attempts(), 1);
}
