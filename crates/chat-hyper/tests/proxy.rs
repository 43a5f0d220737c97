//! Proxies written in the test: CONNECT tunnels for https, forwarding for http, exceptions and
//! refusals.

mod support;

use bytes::Bytes;
use chat_hyper::chat_core::{Transport, TransportErrorKind};
use chat_hyper::Proxy;
use http::{Response, Version};
use support::{builder, connect_proxy, guard, post, serve, text, TestBody, TestCa};

const H2_AND_H1: &[&[u8]] = &[b"h2", b"http/1.1"];

#[tokio::test]
async fn https_goes_through_a_connect_tunnel_with_credentials() {
    let ca = TestCa::new("test ca");
    let target = serve(Some(ca.acceptor(&["127.0.0.1"], H2_AND_H1)), |_req| async {
        Response::new(TestBody::full("through the tunnel"))
    })
    .await;
    let (proxy, log) = connect_proxy(None).await;
    let transport = builder()
        .add_root_certificate(ca.root())
        .proxy(Proxy::all(format!("http://alice:s%40cret@{proxy}")))
        .build()
        .unwrap();

    for _ in 0..3 {
        let response =
            guard(transport.send(post(&target.url("https", "/v1/chat/completions"), "{}")))
                .await
                .unwrap();
        // TLS and ALPN run end to end with the target, inside the tunnel.
        assert_eq!(response.version(), Version::HTTP_2);
        assert_eq!(
            text(response.into_body()).await.unwrap(),
            "through the tunnel"
        );
    }
    assert_eq!(log.connects(), 1, "the tunnelled connection is reused");
    assert_eq!(target.accepted(), 1);
    let head = &log.heads()[0];
    assert!(
        head.starts_with(&format!("CONNECT {} HTTP/1.1\r\n", target.addr)),
        "{head}"
    );
    // base64("alice:s@cret")
    assert!(
        head.to_ascii_lowercase()
            .contains("proxy-authorization: basic ywxpy2u6c0bjcmv0\r\n"),
        "{head}"
    );
}

#[tokio::test]
async fn http_goes_through_a_forwarding_proxy_in_absolute_form() {
    // The "proxy" answers itself and reports what it received.
    let proxy = serve(
        None,
        |req: http::Request<hyper::body::Incoming>| async move {
            let auth = req
                .headers()
                .get("proxy-authorization")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            Response::new(TestBody::full(format!("{} {auth}", req.uri())))
        },
    )
    .await;
    let transport = builder()
        .proxy(Proxy::http(format!("http://bob:pw@{}", proxy.addr)))
        .build()
        .unwrap();

    // The destination name is never resolved: only the proxy is dialled.
    for _ in 0..2 {
        let response = guard(transport.send(post(
            "http://llm.internal.test:8000/v1/chat/completions",
            "{}",
        )))
        .await
        .unwrap();
        assert_eq!(
            text(response.into_body()).await.unwrap(),
            // base64("bob:pw")
            "http://llm.internal.test:8000/v1/chat/completions Basic Ym9iOnB3"
        );
    }
    assert_eq!(proxy.accepted(), 1, "the proxy connection is kept alive");
}

#[tokio::test]
async fn excepted_hosts_and_other_schemes_go_direct() {
    let target = serve(None, |_req| async {
        Response::new(TestBody::full("direct"))
    })
    .await;
    let (proxy, log) = connect_proxy(None).await;

    let excepted = builder()
        .proxy(Proxy::all(format!("http://{proxy}")).except("localhost, 127.0.0.1"))
        .build()
        .unwrap();
    let https_only = builder()
        .proxy(Proxy::https(format!("http://{proxy}")))
        .build()
        .unwrap();
    for transport in [excepted, https_only] {
        let response = guard(transport.send(post(&target.url("http", "/"), "{}")))
            .await
            .unwrap();
        assert_eq!(text(response.into_body()).await.unwrap(), "direct");
    }
    assert_eq!(log.heads().len(), 0, "the proxy saw nothing");
    assert_eq!(target.accepted(), 2);
}

#[tokio::test]
async fn refused_tunnel_is_a_connect_error() {
    // A refusal keeps the proxy's status line, and the message names the proxy, so it does
    // not read as if the API host refused.
    for (answer, shown) in [
        (
            "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
            "proxy authorization required",
        ),
        (
            "HTTP/1.1 403 Forbidden\r\n\r\n",
            "the proxy refused the tunnel (HTTP/1.1 403 Forbidden)",
        ),
        (
            "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
            "(HTTP/1.1 502 Bad Gateway)",
        ),
    ] {
        let (proxy, log) = connect_proxy(Some(answer)).await;
        let transport = builder()
            .proxy(Proxy::all(format!("http://{proxy}")))
            .build()
            .unwrap();
        let err = guard(transport.send(post("https://api.example.test/v1/chat/completions", "{}")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
        assert!(err.message().contains(shown), "{err}");
        assert!(
            err.message()
                .contains(&format!("api.example.test:443 through the proxy {proxy}")),
            "{err}"
        );
        assert_eq!(log.connects(), 1);
    }
}

#[tokio::test]
async fn unreachable_proxy_is_a_connect_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let transport = builder()
        .proxy(Proxy::all(format!("{addr}")))
        .build()
        .unwrap();

    for url in ["https://api.example.test/", "http://api.example.test/"] {
        let err = guard(transport.send(http::Request::get(url).body(Bytes::new()).unwrap()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Connect, "{url}: {err}");
        assert!(
            err.message().contains(&format!("through the proxy {addr}")),
            "{url}: {err}"
        );
    }
}
