//! What the default transport and `client_from_env` take from the environment: proxies
//! (`HTTP_PROXY`, `https_proxy`, `NO_PROXY`) and the client settings (`OPENAI_API_KEY`,
//! `OPENAI_BASE_URL`).
//!
//! The tests change process-wide variables, so they take turns through `ENV`.

mod support;

use chat_hyper::chat_core::Transport;
use chat_hyper::HyperTransport;
use http::Response;
use support::{connect_proxy, guard, post, serve, text, TestBody, TestCa};

/// Serialises the tests of this binary: each one changes the environment.
static ENV: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const VARS: &[&str] = &[
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
];

fn clear_env() {
    for var in VARS {
        std::env::remove_var(var);
    }
}

#[tokio::test]
async fn environment_proxy_variables_are_honoured() {
    let _env = ENV.lock().await;
    let forward = serve(
        None,
        |req: http::Request<hyper::body::Incoming>| async move {
            Response::new(TestBody::full(format!("proxied {}", req.uri())))
        },
    )
    .await;
    let ca = TestCa::new("test ca");
    let target = serve(
        Some(ca.acceptor(&["127.0.0.1"], &[b"http/1.1"])),
        |_req| async { Response::new(TestBody::full("tls target")) },
    )
    .await;
    let (tunnel, log) = connect_proxy(None).await;

    // Upper-case HTTP_PROXY for http:// destinations.
    clear_env();
    std::env::set_var("HTTP_PROXY", format!("http://{}", forward.addr));
    let transport = HyperTransport::new().unwrap();
    let response = guard(transport.send(post("http://env.example.test/v1/models", "{}")))
        .await
        .unwrap();
    assert_eq!(
        text(response.into_body()).await.unwrap(),
        "proxied http://env.example.test/v1/models"
    );

    // Lower-case https_proxy for https:// destinations, through a CONNECT tunnel.
    clear_env();
    std::env::set_var("https_proxy", format!("http://{tunnel}"));
    let transport = HyperTransport::builder()
        .add_root_certificate(ca.root())
        .build()
        .unwrap();
    let response = guard(transport.send(post(&target.url("https", "/"), "{}")))
        .await
        .unwrap();
    assert_eq!(text(response.into_body()).await.unwrap(), "tls target");
    assert_eq!(log.connects(), 1);

    // NO_PROXY sends matching hosts direct.
    std::env::set_var("NO_PROXY", "localhost,127.0.0.1");
    let transport = HyperTransport::builder()
        .add_root_certificate(ca.root())
        .build()
        .unwrap();
    let response = guard(transport.send(post(&target.url("https", "/"), "{}")))
        .await
        .unwrap();
    assert_eq!(text(response.into_body()).await.unwrap(), "tls target");
    assert_eq!(log.connects(), 1, "no new tunnel");

    // Variables are read when the transport is built, not per request.
    clear_env();
    std::env::set_var("HTTP_PROXY", format!("http://{}", forward.addr));
    let before = HyperTransport::new().unwrap();
    clear_env();
    let response = guard(before.send(post("http://late.example.test/", "{}")))
        .await
        .unwrap();
    assert_eq!(
        text(response.into_body()).await.unwrap(),
        "proxied http://late.example.test/"
    );
}

#[tokio::test]
async fn an_unusable_environment_proxy_fails_the_build_not_every_request() {
    let _env = ENV.lock().await;
    clear_env();
    for (var, url, scheme) in [
        ("ALL_PROXY", "socks5://127.0.0.1:1080", "socks5"),
        ("HTTPS_PROXY", "https://127.0.0.1:3129", "https"),
    ] {
        std::env::set_var(var, url);
        let e = HyperTransport::new().unwrap_err();
        let message = e.to_string();
        assert!(
            matches!(e.kind(), chat_hyper::chat_core::ErrorKind::InvalidConfig(_)),
            "{e:?}"
        );
        assert!(
            message.contains(&format!("unsupported scheme `{scheme}`")),
            "{message}"
        );
        assert!(message.contains("Proxy::none()"), "{message}");
        // An explicit choice still works whatever the environment says.
        assert!(HyperTransport::builder()
            .proxy(chat_hyper::Proxy::none())
            .build()
            .is_ok());
        clear_env();
    }
    // `NO_PROXY=*` turns the environment proxy off, so there is nothing to object to.
    std::env::set_var("ALL_PROXY", "socks5://127.0.0.1:1080");
    std::env::set_var("NO_PROXY", "*");
    assert!(HyperTransport::new().is_ok());
    clear_env();
}

#[tokio::test]
async fn client_from_env_reads_key_and_base_url() {
    let _env = ENV.lock().await;
    let server = serve(None, |req: http::Request<hyper::body::Incoming>| async move {
        let line = format!(
            "{} {}",
            req.uri().path(),
            req.headers()["authorization"].to_str().unwrap()
        );
        Response::builder()
            .header("content-type", "application/json")
            .body(TestBody::full(format!(
                r#"{{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{{"index":0,"message":{{"role":"assistant","content":"{line}"}},"finish_reason":"stop"}}]}}"#
            )))
            .unwrap()
    })
    .await;

    clear_env();
    let err = chat_hyper::client_from_env().unwrap_err();
    assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");

    std::env::set_var("OPENAI_API_KEY", "sk-from-env");
    std::env::set_var("OPENAI_BASE_URL", server.url("http", "/v1"));
    let client = chat_hyper::client_from_env().unwrap();
    clear_env();
    let request = serde_json::from_value(serde_json::json!({
        "model": "m",
        "messages": [{"role": "user", "content": "Hi"}]
    }))
    .unwrap();
    let response = guard(client.create_chat_completion(&request))
        .await
        .unwrap();
    assert_eq!(
        response.first_content(),
        Some("/v1/chat/completions Bearer sk-from-env")
    );
}
