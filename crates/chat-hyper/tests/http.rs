//! Plain-HTTP transport against loopback servers: requests, streaming, connection reuse,
//! cancellation and how each kind of failure is reported.

mod support;

use std::time::Duration;

use bytes::Bytes;
use chat_hyper::chat_core::{Transport, TransportErrorKind};
use http::{Response, StatusCode, Version};
use http_body_util::BodyExt;
use support::{builder, guard, post, raw_server, read_head, serve, text, wait_closed, TestBody};
use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;

#[tokio::test]
async fn completion_round_trip_over_http1() {
    let server = serve(
        None,
        |req: http::Request<hyper::body::Incoming>| async move {
            let method = req.method().to_string();
            let path = req.uri().path().to_owned();
            let auth = req.headers()["authorization"].to_str().unwrap().to_owned();
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let answer = serde_json::json!({
                "method": method,
                "path": path,
                "auth": auth,
                "body": String::from_utf8_lossy(&body),
            });
            Response::builder()
                .header("content-type", "application/json")
                .header("x-request-id", "req_123")
                .body(TestBody::full(answer.to_string()))
                .unwrap()
        },
    )
    .await;
    let transport = builder().build().unwrap();

    let request = post(
        &server.url("http", "/v1/chat/completions"),
        r#"{"model":"m","messages":[]}"#,
    );
    let response = guard(transport.send(request)).await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), Version::HTTP_11);
    assert_eq!(response.headers()["x-request-id"], "req_123");
    let body = text(response.into_body()).await.unwrap();
    let echoed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/v1/chat/completions");
    assert_eq!(echoed["auth"], "Bearer sk-test");
    assert_eq!(echoed["body"], r#"{"model":"m","messages":[]}"#);
}

#[tokio::test]
async fn error_status_and_empty_body_pass_through() {
    let server = serve(
        None,
        |req: http::Request<hyper::body::Incoming>| async move {
            let status = if req.uri().path() == "/empty" {
                204
            } else {
                429
            };
            Response::builder()
                .status(status)
                .header("retry-after", "1")
                .body(TestBody::full(if status == 204 {
                    ""
                } else {
                    "{\"error\":{}}"
                }))
                .unwrap()
        },
    )
    .await;
    let transport = builder().build().unwrap();

    let limited = guard(transport.send(post(&server.url("http", "/x"), "{}")))
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "1");
    assert_eq!(text(limited.into_body()).await.unwrap(), "{\"error\":{}}");

    let empty = guard(transport.send(post(&server.url("http", "/empty"), "{}")))
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::NO_CONTENT);
    assert!(empty.into_body().is_full(), "an empty body needs no stream");
}

#[tokio::test]
async fn sse_first_chunk_arrives_while_server_holds_the_rest() {
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let release_rx = std::sync::Arc::new(std::sync::Mutex::new(Some(release_rx)));
    let server = serve(None, move |_req| {
        let release = release_rx.lock().unwrap().take();
        async move {
            let (tx, body) = TestBody::channel();
            tokio::spawn(async move {
                tx.send(Bytes::from("data: {\"n\":1}\n\n")).await.unwrap();
                // Hold the rest back until the test has seen the first event.
                release.unwrap().await.unwrap();
                tx.send(Bytes::from("data: {\"n\":2}\n\n")).await.unwrap();
                tx.send(Bytes::from("data: [DONE]\n\n")).await.unwrap();
            });
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(body)
                .unwrap()
        }
    })
    .await;
    let transport = builder().build().unwrap();

    let response = guard(transport.send(post(&server.url("http", "/v1/chat/completions"), "{}")))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    assert!(!body.is_full());
    let first = guard(body.chunk()).await.unwrap().unwrap();
    assert_eq!(first, Bytes::from("data: {\"n\":1}\n\n"));

    release_tx.send(()).unwrap();
    let rest = text(body).await.unwrap();
    assert_eq!(rest, "data: {\"n\":2}\n\ndata: [DONE]\n\n");
}

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let server = serve(None, |_req| async {
        Response::new(TestBody::full("{\"ok\":true}"))
    })
    .await;
    let transport = builder().build().unwrap();

    for _ in 0..5 {
        let response =
            guard(transport.send(post(&server.url("http", "/v1/chat/completions"), "{}")))
                .await
                .unwrap();
        assert_eq!(text(response.into_body()).await.unwrap(), "{\"ok\":true}");
    }
    assert_eq!(server.accepted(), 1);

    // Clones share the pool.
    let clone = transport.clone();
    let response = guard(clone.send(post(&server.url("http", "/"), "{}")))
        .await
        .unwrap();
    text(response.into_body()).await.unwrap();
    assert_eq!(server.accepted(), 1);
}

#[tokio::test]
async fn disabled_pool_opens_a_connection_per_request() {
    let server = serve(None, |_req| async { Response::new(TestBody::full("ok")) }).await;
    let transport = builder().pool_max_idle_per_host(0).build().unwrap();
    for _ in 0..3 {
        let response = guard(transport.send(post(&server.url("http", "/"), "{}")))
            .await
            .unwrap();
        text(response.into_body()).await.unwrap();
    }
    assert_eq!(server.accepted(), 3);
}

#[tokio::test]
async fn closed_port_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let transport = builder().build().unwrap();

    let err = guard(transport.send(post(&format!("http://{addr}/"), "{}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is kept"
    );
}

/// A listener whose accept queue is full drops new SYNs, so a connect never completes.
#[tokio::test]
async fn full_backlog_hits_the_connect_timeout() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let listener = socket.listen(1).unwrap();
    // Fill the accept queue; stop at the first connect that does not complete.
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => fillers.push(s),
            _ => break,
        }
    }
    let transport = builder()
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();

    let err = guard(transport.send(post(&format!("http://{addr}/"), "{}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(err.message().contains("timed out"), "{err}");
    drop(listener);
}

#[tokio::test]
async fn dropping_the_request_future_closes_the_connection() {
    let (closed_tx, closed_rx) = oneshot::channel::<String>();
    let closed_tx = std::sync::Mutex::new(Some(closed_tx));
    let addr = raw_server(move |mut tcp| {
        let tx = closed_tx.lock().unwrap().take();
        async move {
            let head = read_head(&mut tcp).await;
            // Never answer; report once the client hangs up.
            wait_closed(&mut tcp).await;
            if let Some(tx) = tx {
                let _ = tx.send(head);
            }
        }
    })
    .await;
    let transport = builder().build().unwrap();

    // What chat-core does when its request timeout passes: drop the future.
    let attempt = tokio::time::timeout(
        Duration::from_millis(200),
        transport.send(post(&format!("http://{addr}/v1/chat/completions"), "{}")),
    )
    .await;
    assert!(attempt.is_err(), "a silent server gives no response");

    let head = guard(closed_rx).await.unwrap();
    assert!(
        head.starts_with("POST /v1/chat/completions HTTP/1.1\r\n"),
        "{head}"
    );
}

#[tokio::test]
async fn dropping_a_stalled_body_closes_the_connection() {
    let (closed_tx, closed_rx) = oneshot::channel::<()>();
    let closed_tx = std::sync::Mutex::new(Some(closed_tx));
    let addr = raw_server(move |mut tcp| {
        let tx = closed_tx.lock().unwrap().take();
        async move {
            read_head(&mut tcp).await;
            tcp.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                  transfer-encoding: chunked\r\n\r\nf\r\ndata: {\"n\":1}\n\n\r\n",
            )
            .await
            .unwrap();
            // Stall mid-stream until the client hangs up.
            wait_closed(&mut tcp).await;
            if let Some(tx) = tx {
                let _ = tx.send(());
            }
        }
    })
    .await;
    let transport = builder().build().unwrap();

    let response = guard(transport.send(post(&format!("http://{addr}/"), "{}")))
        .await
        .unwrap();
    let mut body = response.into_body();
    let first = guard(body.chunk()).await.unwrap().unwrap();
    assert_eq!(first, Bytes::from("data: {\"n\":1}\n\n"));
    // What chat-core does when its idle timeout passes: stop waiting, drop the body.
    let next = tokio::time::timeout(Duration::from_millis(200), body.chunk()).await;
    assert!(next.is_err(), "the stalled server sends nothing more");
    drop(body);

    guard(closed_rx).await.unwrap();
}

#[tokio::test]
async fn connection_closed_mid_stream_is_an_io_error() {
    let addr = raw_server(|mut tcp| async move {
        read_head(&mut tcp).await;
        let _ = tcp
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                  transfer-encoding: chunked\r\n\r\nf\r\ndata: {\"n\":1}\n\n\r\n",
            )
            .await;
        // Close without the final chunk.
    })
    .await;
    let transport = builder().build().unwrap();

    let response = guard(transport.send(post(&format!("http://{addr}/"), "{}")))
        .await
        .unwrap();
    let mut body = response.into_body();
    assert_eq!(
        guard(body.chunk()).await.unwrap().unwrap(),
        Bytes::from("data: {\"n\":1}\n\n")
    );
    let err = guard(body.chunk()).await.unwrap().unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Io, "{err}");
    assert!(
        guard(body.chunk()).await.is_none(),
        "the body ends after an error"
    );
}

#[tokio::test]
async fn short_content_length_body_is_an_io_error() {
    let addr = raw_server(|mut tcp| async move {
        read_head(&mut tcp).await;
        let _ = tcp
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"partial\":")
            .await;
    })
    .await;
    let transport = builder().build().unwrap();

    let response = guard(transport.send(post(&format!("http://{addr}/"), "{}")))
        .await
        .unwrap();
    let err = guard(response.into_body().collect(1 << 20))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Io, "{err}");
}

#[tokio::test]
async fn server_closing_before_answering_is_an_io_error() {
    let addr = raw_server(|mut tcp| async move {
        read_head(&mut tcp).await;
    })
    .await;
    let transport = builder().build().unwrap();

    let err = guard(transport.send(post(&format!("http://{addr}/"), "{}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Io, "{err}");
}

/// Answers that break HTTP are `Protocol` errors naming the host; each kind of broken head.
#[tokio::test]
async fn malformed_response_heads_are_protocol_errors_naming_the_host() {
    let many_headers: String = (0..200).map(|i| format!("x-h{i}: v\r\n")).collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage status line", b"SPLAT\r\n\r\n".to_vec()),
        ("binary noise", b"\x00\xff\x13\x37garbage\r\n\r\n".to_vec()),
        ("bad status code", b"HTTP/1.1 2000 OK\r\n\r\n".to_vec()),
        (
            "too many headers",
            format!("HTTP/1.1 200 OK\r\n{many_headers}\r\n").into_bytes(),
        ),
        (
            "invalid header",
            b"HTTP/1.1 200 OK\r\nbad header line\r\n\r\n".to_vec(),
        ),
    ];
    for (what, answer) in cases {
        let addr = raw_server(move |mut tcp| {
            let answer = answer.clone();
            async move {
                read_head(&mut tcp).await;
                let _ = tcp.write_all(&answer).await;
                wait_closed(&mut tcp).await;
            }
        })
        .await;
        let transport = builder().build().unwrap();
        let err = guard(transport.send(post(&format!("http://{addr}/"), "{}")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Protocol, "{what}: {err}");
        assert!(err.to_string().contains(&addr.to_string()), "{what}: {err}");
    }
}

/// Invalid chunked encoding in the body is a `Protocol` error too.
#[tokio::test]
async fn invalid_chunked_encoding_is_a_protocol_error() {
    let addr = raw_server(|mut tcp| async move {
        read_head(&mut tcp).await;
        let _ = tcp
            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nZZZ\r\nhello\r\n")
            .await;
        wait_closed(&mut tcp).await;
    })
    .await;
    let transport = builder().build().unwrap();
    let response = guard(transport.send(post(&format!("http://{addr}/"), "{}")))
        .await
        .unwrap();
    let err = guard(response.into_body().collect(1 << 20))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Protocol, "{err}");
}

/// Failures after connecting but before the response head name the host.
#[tokio::test]
async fn errors_before_the_head_name_the_host() {
    // Closed right after reading the request; and reset (linger 0) after reading it.
    let closed = raw_server(|mut tcp| async move {
        read_head(&mut tcp).await;
    })
    .await;
    let reset = raw_server(|mut tcp| async move {
        read_head(&mut tcp).await;
        // A zero linger makes the close a reset and never blocks (the deprecation is about
        // non-zero lingers blocking on drop).
        #[allow(deprecated)]
        let _ = tcp.set_linger(Some(Duration::ZERO));
        drop(tcp);
    })
    .await;
    let half_head = raw_server(|mut tcp| async move {
        read_head(&mut tcp).await;
        let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\ncontent-ty").await;
    })
    .await;
    for addr in [closed, reset, half_head] {
        let transport = builder().build().unwrap();
        let err = guard(transport.send(post(&format!("http://{addr}/"), "{}")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Io, "{err}");
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }
}

#[tokio::test]
async fn relative_or_foreign_urls_are_rejected() {
    let transport = builder().build().unwrap();
    for url in ["/v1/chat/completions", "ftp://127.0.0.1/"] {
        let err = transport.send(post(url, "{}")).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Other, "{err}");
        assert!(err.message().contains("absolute http"), "{err}");
    }
}

#[tokio::test]
async fn http2_prior_knowledge_over_plain_http() {
    let server = serve(
        None,
        |req: http::Request<hyper::body::Incoming>| async move {
            Response::new(TestBody::full(format!("{:?}", req.version())))
        },
    )
    .await;
    let transport = builder().http2_only().build().unwrap();

    for _ in 0..3 {
        let response = guard(transport.send(post(&server.url("http", "/"), "{}")))
            .await
            .unwrap();
        assert_eq!(response.version(), Version::HTTP_2);
        assert_eq!(text(response.into_body()).await.unwrap(), "HTTP/2.0");
    }
    assert_eq!(server.accepted(), 1);
}

/// Over HTTP/1.1 every request names its host once, as hyper-util would (the first host's
/// value is kept by the transport, other hosts get their own); a `Host` the caller set wins.
/// HTTP/2 requests carry the authority in `:authority` only.
#[tokio::test]
async fn host_header_names_each_host_once() {
    let echo = |req: http::Request<hyper::body::Incoming>| async move {
        let hosts: Vec<String> = req
            .headers()
            .get_all("host")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        Response::new(TestBody::full(hosts.join(",")))
    };
    let a = serve(None, echo).await;
    let b = serve(None, echo).await;
    let hosts = |transport: chat_hyper::HyperTransport, url: String, host: Option<&'static str>| async move {
        let mut request = post(&url, "{}");
        if let Some(host) = host {
            request
                .headers_mut()
                .insert("host", http::HeaderValue::from_static(host));
        }
        let response = guard(transport.send(request)).await.unwrap();
        text(response.into_body()).await.unwrap()
    };
    for transport in [
        builder().build().unwrap(),
        builder().http1_only().build().unwrap(),
    ] {
        for (url, host, want) in [
            (a.url("http", "/v1"), None, a.addr.to_string()),
            (b.url("http", "/v1"), None, b.addr.to_string()),
            (a.url("http", "/v1"), None, a.addr.to_string()),
            (
                format!("http://localhost:{}/v1", a.addr.port()),
                None,
                format!("localhost:{}", a.addr.port()),
            ),
            (
                a.url("http", "/v1"),
                Some("gateway.example"),
                "gateway.example".into(),
            ),
            (a.url("http", "/v1"), None, a.addr.to_string()),
        ] {
            assert_eq!(
                hosts(transport.clone(), url.clone(), host).await,
                want,
                "{url}"
            );
        }
    }
    let h2 = builder().http2_only().build().unwrap();
    for _ in 0..2 {
        assert_eq!(hosts(h2.clone(), a.url("http", "/"), None).await, "");
    }
}

#[test]
fn debug_shows_settings_but_no_proxy_credentials() {
    let transport = chat_hyper::HyperTransport::builder()
        .proxy(chat_hyper::Proxy::all("http://user:hunter2@127.0.0.1:9"))
        .connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let shown = format!("{transport:?}");
    assert!(shown.contains("connect_timeout: Some(3s)"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}
