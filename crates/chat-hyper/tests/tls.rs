//! HTTPS against loopback servers with certificates made in the test: custom roots, ALPN
//! (HTTP/2 or HTTP/1.1), rejected certificates and a stalled handshake.

mod support;

use std::time::Duration;

use bytes::Bytes;
use chat_hyper::chat_core::{ErrorKind, Transport, TransportErrorKind};
use chat_hyper::Certificate;
use http::{Response, Version};
use support::{builder, guard, post, raw_server, serve, text, wait_closed, TestBody, TestCa};
use tokio::sync::oneshot;

const H2_AND_H1: &[&[u8]] = &[b"h2", b"http/1.1"];
const H1: &[&[u8]] = &[b"http/1.1"];

async fn version_server(ca: &TestCa, names: &[&str], alpn: &[&[u8]]) -> support::Server {
    serve(
        Some(ca.acceptor(names, alpn)),
        |req: http::Request<hyper::body::Incoming>| async move {
            Response::new(TestBody::full(format!("{:?}", req.version())))
        },
    )
    .await
}

#[tokio::test]
async fn custom_root_and_http2_when_offered() {
    let ca = TestCa::new("test ca");
    let server = version_server(&ca, &["127.0.0.1"], H2_AND_H1).await;
    let transport = builder()
        .built_in_roots(false)
        .add_root_certificate(ca.root())
        .build()
        .unwrap();

    for _ in 0..3 {
        let response =
            guard(transport.send(post(&server.url("https", "/v1/chat/completions"), "{}")))
                .await
                .unwrap();
        assert_eq!(response.version(), Version::HTTP_2);
        assert_eq!(text(response.into_body()).await.unwrap(), "HTTP/2.0");
    }
    assert_eq!(server.accepted(), 1, "HTTP/2 requests share one connection");
}

#[tokio::test]
async fn http1_over_tls_when_server_offers_only_http1() {
    let ca = TestCa::new("test ca");
    let server = version_server(&ca, &["127.0.0.1"], H1).await;
    let transport = builder().add_root_certificate(ca.root()).build().unwrap();

    for _ in 0..3 {
        let response = guard(transport.send(post(&server.url("https", "/"), "{}")))
            .await
            .unwrap();
        assert_eq!(response.version(), Version::HTTP_11);
        assert_eq!(text(response.into_body()).await.unwrap(), "HTTP/1.1");
    }
    assert_eq!(server.accepted(), 1, "keep-alive reuses the TLS connection");
}

#[tokio::test]
async fn http1_only_does_not_offer_http2() {
    let ca = TestCa::new("test ca");
    let server = version_server(&ca, &["127.0.0.1"], H2_AND_H1).await;
    let transport = builder()
        .http1_only()
        .add_root_certificate(ca.root())
        .build()
        .unwrap();

    let response = guard(transport.send(post(&server.url("https", "/"), "{}")))
        .await
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_11);
}

#[tokio::test]
async fn http2_stream_delivers_first_chunk_before_the_rest() {
    let ca = TestCa::new("test ca");
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let release_rx = std::sync::Arc::new(std::sync::Mutex::new(Some(release_rx)));
    let server = serve(Some(ca.acceptor(&["127.0.0.1"], H2_AND_H1)), move |_req| {
        let release = release_rx.lock().unwrap().take();
        async move {
            let (tx, body) = TestBody::channel();
            tokio::spawn(async move {
                tx.send(Bytes::from("data: first\n\n")).await.unwrap();
                release.unwrap().await.unwrap();
                tx.send(Bytes::from("data: [DONE]\n\n")).await.unwrap();
            });
            Response::new(body)
        }
    })
    .await;
    let transport = builder().add_root_certificate(ca.root()).build().unwrap();

    let response = guard(transport.send(post(&server.url("https", "/"), "{}")))
        .await
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    let mut body = response.into_body();
    assert_eq!(
        guard(body.chunk()).await.unwrap().unwrap(),
        Bytes::from("data: first\n\n")
    );
    release_tx.send(()).unwrap();
    assert_eq!(text(body).await.unwrap(), "data: [DONE]\n\n");
}

#[tokio::test]
async fn dropping_an_http2_body_resets_only_that_stream() {
    let ca = TestCa::new("test ca");
    let (cancelled_tx, cancelled_rx) = oneshot::channel::<usize>();
    let cancelled_tx = std::sync::Arc::new(std::sync::Mutex::new(Some(cancelled_tx)));
    let server = serve(
        Some(ca.acceptor(&["127.0.0.1"], H2_AND_H1)),
        move |req: http::Request<hyper::body::Incoming>| {
            let report = cancelled_tx.clone();
            async move {
                if req.uri().path() == "/quick" {
                    return Response::new(TestBody::full("quick"));
                }
                let (tx, body) = TestBody::channel();
                tokio::spawn(async move {
                    // Keep sending until the client's reset makes hyper drop the body.
                    let mut sent = 0;
                    while tx.send(Bytes::from("data: tick\n\n")).await.is_ok() {
                        sent += 1;
                    }
                    if let Some(report) = report.lock().unwrap().take() {
                        let _ = report.send(sent);
                    }
                });
                Response::new(body)
            }
        },
    )
    .await;
    let transport = builder().add_root_certificate(ca.root()).build().unwrap();

    let response = guard(transport.send(post(&server.url("https", "/stream"), "{}")))
        .await
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    let mut body = response.into_body();
    assert!(guard(body.chunk())
        .await
        .unwrap()
        .unwrap()
        .starts_with(b"data: tick"));
    drop(body);

    let sent = guard(cancelled_rx).await.unwrap();
    assert!(sent >= 1);
    // The connection survives the reset and carries the next request.
    let response = guard(transport.send(post(&server.url("https", "/quick"), "{}")))
        .await
        .unwrap();
    assert_eq!(text(response.into_body()).await.unwrap(), "quick");
    assert_eq!(server.accepted(), 1);
}

#[tokio::test]
async fn untrusted_certificate_is_a_tls_error() {
    let ca = TestCa::new("test ca");
    let server = version_server(&ca, &["127.0.0.1"], H2_AND_H1).await;
    // Trusts the bundled public roots (default features) but not the test CA.
    let transport = builder().build().unwrap();

    let err = guard(transport.send(post(&server.url("https", "/"), "{}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Tls, "{err}");
    assert!(err.message().contains("UnknownIssuer"), "{err}");

    // chat-core does not retry TLS failures.
    let client_err = chat_hyper::chat_core::Error::from(err);
    assert!(!client_err.is_retryable());
    assert!(
        !client_err.to_string().contains("no root certificate"),
        "{client_err}"
    );

    // Trusting no root at all (no root feature, or built-in roots off and none added): the
    // error says why every handshake fails.
    let transport = builder().built_in_roots(false).build().unwrap();
    let err = guard(transport.send(post(&server.url("https", "/"), "{}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Tls, "{err}");
    assert!(
        err.message().contains(
            "no root certificate is trusted: enable the `webpki-roots` or `native-roots`"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn certificate_for_another_host_is_a_tls_error() {
    let ca = TestCa::new("test ca");
    let server = version_server(&ca, &["api.example.test"], H2_AND_H1).await;
    let transport = builder().add_root_certificate(ca.root()).build().unwrap();

    let err = guard(transport.send(post(&server.url("https", "/"), "{}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Tls, "{err}");
    assert!(err.message().contains("not valid for name"), "{err}");
    assert!(err.message().contains(&server.addr.to_string()), "{err}");
}

#[tokio::test]
async fn stalled_tls_handshake_hits_the_connect_timeout() {
    let addr = raw_server(|mut tcp| async move {
        // Accept TCP but never speak TLS.
        wait_closed(&mut tcp).await;
    })
    .await;
    let transport = builder()
        .connect_timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    let err = guard(transport.send(post(&format!("https://{addr}/"), "{}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(err.message().contains("timed out after 200ms"), "{err}");
}

#[tokio::test]
async fn plain_http_server_behind_https_url_is_a_tls_error() {
    let server = serve(None, |_req| async { Response::new(TestBody::full("hi")) }).await;
    let transport = builder().build().unwrap();

    let err = guard(transport.send(post(&server.url("https", "/"), "{}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Tls, "{err}");
}

#[test]
fn pem_bundles_and_der_roots_load() {
    let a = TestCa::new("a");
    let b = TestCa::new("b");
    let bundle = format!("{}\n{}", a.pem(), b.pem());
    let certs = Certificate::from_pem_bundle(bundle).unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[0], a.root());
    assert_eq!(certs[1], b.root());

    let der = Certificate::from_der(a.root().as_der().to_vec());
    assert!(builder().add_root_certificate(der).build().is_ok());

    let err = builder()
        .add_root_certificate(Certificate::from_der(b"not a certificate".to_vec()))
        .build()
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidConfig(_)), "{err}");
}

#[tokio::test]
async fn a_client_identity_passes_mutual_tls() {
    let server_ca = TestCa::new("server ca");
    let client_ca = TestCa::new("client ca");
    let server = serve(
        Some(server_ca.acceptor_requiring_clients(&["127.0.0.1"], &client_ca)),
        |_req: http::Request<hyper::body::Incoming>| async move {
            Response::new(TestBody::full("hello, known client"))
        },
    )
    .await;
    let url = server.url("https", "/v1/chat/completions");

    // With the identity the gateway expects: answered.
    let (cert, key) = client_ca.leaf_pem(&["my-app"]);
    let identity = chat_hyper::Identity::from_pem(&cert, &key).unwrap();
    assert!(!format!("{identity:?}").contains("PRIVATE"), "{identity:?}");
    let transport = builder()
        .add_root_certificate(server_ca.root())
        .identity(identity)
        .build()
        .unwrap();
    let response = guard(transport.send(post(&url, "{}"))).await.unwrap();
    assert_eq!(
        text(response.into_body()).await.unwrap(),
        "hello, known client"
    );

    // Without one, or with one the gateway does not trust: refused.
    let stranger = TestCa::new("another ca").leaf_pem(&["my-app"]);
    for transport in [
        builder()
            .add_root_certificate(server_ca.root())
            .build()
            .unwrap(),
        builder()
            .add_root_certificate(server_ca.root())
            .identity(chat_hyper::Identity::from_pem(&stranger.0, &stranger.1).unwrap())
            .build()
            .unwrap(),
    ] {
        let err = guard(transport.send(post(&url, "{}"))).await.unwrap_err();
        assert!(
            matches!(err.kind(), TransportErrorKind::Tls | TransportErrorKind::Io),
            "{err}"
        );
    }

    // A key that is not a key is a configuration error, without quoting the text.
    let e = chat_hyper::Identity::from_pem(&cert, "not a key").unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)), "{e}");
}
