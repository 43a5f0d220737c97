//! Client configuration: headers on the wire, environment, Azure, credentials, redaction.

mod client_support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chat_core::{
    async_trait, Client, Config, Credential, CredentialProvider, Error, ErrorKind, RequestOptions,
    SecretString,
};
use client_support::{completion, config, request, Reply, Scripted, KEY};

fn assert_no_key(text: &str) {
    assert!(!text.contains(KEY), "the key leaked: {text}");
    assert!(!text.contains("DISTINCTIVE"), "the key leaked: {text}");
}

#[tokio::test]
async fn headers_on_the_wire_and_the_key_only_in_authorization() {
    let t = Scripted::new([Reply::json(200, &completion("c1"))]);
    let client = Client::new(
        config()
            .organization("org-1")
            .project("proj-1")
            .header("x-team", "blue")
            .user_agent("my-app/1.0"),
        t.clone(),
    );
    let resp = client
        .with_options(
            RequestOptions::new()
                .header("x-trace", "t-1")
                .query("q", "a b"),
        )
        .create_chat_completion(&request())
        .await
        .unwrap();
    assert_eq!(resp.first_content(), Some("hi"));
    t.assert_done();
    let r = t.request(0);
    assert_eq!(r.method, http::Method::POST);
    assert_eq!(r.uri, "http://127.0.0.1:9/v1/chat/completions?q=a%20b");
    assert_eq!(r.header("authorization"), Some(&*format!("Bearer {KEY}")));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.header("user-agent"), Some("my-app/1.0"));
    assert_eq!(r.header("openai-organization"), Some("org-1"));
    assert_eq!(r.header("openai-project"), Some("proj-1"));
    assert_eq!(r.header("x-team"), Some("blue"));
    assert_eq!(r.header("x-trace"), Some("t-1"));
    assert_eq!(r.header("x-retry-count"), None);
    assert!(r.headers["authorization"].is_sensitive());
    for (name, value) in &r.headers {
        if name != "authorization" {
            assert_no_key(value.to_str().unwrap());
        }
    }
    assert_no_key(&String::from_utf8_lossy(&r.body));
    assert_no_key(&r.uri);
    assert_eq!(r.json()["model"], "gpt-4o");
    assert!(r.json().get("stream").is_none());
}

#[tokio::test]
async fn default_user_agent_and_streaming_accept_header() {
    let t = Scripted::new([Reply::sse(&["data: [DONE]\n\n"])]);
    let client = Client::new(config(), t.clone());
    let _stream = client
        .create_chat_completion_stream(&request())
        .await
        .unwrap();
    let r = t.request(0);
    assert_eq!(r.header("accept"), Some("text/event-stream"));
    let ua = r.header("user-agent").unwrap();
    assert!(ua.starts_with("chat-sdk-rust/"), "{ua}");
    assert_eq!(r.json()["stream"], true);
}

#[test]
fn env_config_through_the_injected_getter() {
    let env = |name: &str| {
        match name {
            "OPENAI_API_KEY" => Some(KEY),
            "OPENAI_BASE_URL" => Some("http://127.0.0.1:1234/v1/"),
            "OPENAI_ORG_ID" => Some("org-env"),
            "OPENAI_PROJECT_ID" => Some(""),
            _ => None,
        }
        .map(str::to_owned)
    };
    let c = Config::from_env_with(env).unwrap();
    assert_eq!(c.get_base_url(), "http://127.0.0.1:1234/v1");
    assert_eq!(c.get_organization(), Some("org-env"));
    assert_eq!(c.get_project(), None, "empty values count as unset");
    assert!(c.get_credential_provider().is_some());
    assert_no_key(&format!("{c:?}"));

    let e = Config::from_env_with(|_| None).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)));
    assert!(e.to_string().contains("OPENAI_API_KEY"), "{e}");
    let defaults = Config::from_env_with(|n| (n == "OPENAI_API_KEY").then(|| "k".into())).unwrap();
    assert_eq!(defaults.get_base_url(), "https://api.openai.com/v1");
    assert_eq!(defaults.get_max_retries(), 2);
    assert_eq!(defaults.get_timeout(), Some(Duration::from_secs(600)));
    // A stalled stream fails after the same 10 minutes instead of hanging forever.
    assert_eq!(
        defaults.get_stream_idle_timeout(),
        Some(Duration::from_secs(600))
    );
    assert_eq!(defaults.get_deadline(), None);
}

#[tokio::test]
async fn azure_url_and_api_key_header() {
    let t = Scripted::new([Reply::json(200, &completion("c1"))]);
    let c = Config::azure(
        "https://res.openai.azure.com/",
        "gpt4o-deploy",
        "2024-10-21",
    )
    .api_key(KEY);
    let client = Client::new(c, t.clone());
    client.create_chat_completion(&request()).await.unwrap();
    let r = t.request(0);
    assert_eq!(
        r.uri,
        "https://res.openai.azure.com/openai/deployments/gpt4o-deploy/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(r.header("api-key"), Some(KEY));
    assert_eq!(r.header("authorization"), None);
}

#[tokio::test]
async fn azure_stored_completions_are_not_deployment_scoped() {
    let t = Scripted::new([Reply::json(200, &completion("c1"))]);
    let c = Config::azure("https://res.openai.azure.com", "dep", "2025-04-01-preview").api_key(KEY);
    let client = Client::new(c, t.clone());
    client.get_chat_completion("c1").await.unwrap();
    assert_eq!(
        t.request(0).uri,
        "https://res.openai.azure.com/openai/chat/completions/c1?api-version=2025-04-01-preview"
    );
}

/// An Entra ID-style provider handing out a new token per call.
#[derive(Debug, Default)]
struct Tokens(AtomicU32);

#[async_trait]
impl CredentialProvider for Tokens {
    async fn credential(&self) -> Result<Credential, Error> {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Credential::bearer(format!("entra-token-{n}")))
    }
}

#[tokio::test(start_paused = true)]
async fn azure_token_provider_is_asked_per_attempt() {
    let t = Scripted::new([Reply::json(500, "{}"), Reply::json(200, &completion("c1"))]);
    let tokens = Arc::new(Tokens::default());
    let c = Config::azure("https://res.openai.azure.com", "d", "2024-10-21")
        .credential_provider_arc(tokens.clone());
    let client = Client::new(c, t.clone());
    let resp = client.create_chat_completion(&request()).await.unwrap();
    assert_eq!(resp.meta().attempts, 2);
    assert_eq!(
        t.request(0).header("authorization"),
        Some("Bearer entra-token-0")
    );
    assert_eq!(
        t.request(1).header("authorization"),
        Some("Bearer entra-token-1")
    );
    assert_eq!(t.request(1).header("api-key"), None);
    assert_eq!(tokens.0.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn the_last_credential_setting_wins() {
    let t = Scripted::new([
        Reply::json(500, "{}"),
        Reply::json(200, &completion("c1")),
        Reply::json(200, &completion("c2")),
        Reply::json(200, &completion("c3")),
    ]);
    // A fixed key (its header is built once) is sent on every attempt.
    let fixed = Client::new(
        config()
            .credential_provider(Tokens::default())
            .api_key("sk-fixed"),
        t.clone(),
    );
    assert_eq!(
        fixed
            .create_chat_completion(&request())
            .await
            .unwrap()
            .meta()
            .attempts,
        2
    );
    for i in 0..2 {
        assert_eq!(
            t.request(i).header("authorization"),
            Some("Bearer sk-fixed")
        );
    }
    // A provider set after the key replaces it ...
    let rotating = Client::new(config().credential_provider(Tokens::default()), t.clone());
    rotating.create_chat_completion(&request()).await.unwrap();
    assert_eq!(
        t.request(2).header("authorization"),
        Some("Bearer entra-token-0")
    );
    // ... and `no_credential` drops both.
    let none = Client::new(config().no_credential(), t.clone());
    none.create_chat_completion(&request()).await.unwrap();
    assert_eq!(t.request(3).header("authorization"), None);
}

/// A provider that says its credential never changes.
#[derive(Debug)]
struct Pinned(Credential, AtomicU32);

#[async_trait]
impl CredentialProvider for Pinned {
    async fn credential(&self) -> Result<Credential, Error> {
        self.1.fetch_add(1, Ordering::SeqCst);
        Ok(self.0.clone())
    }

    fn fixed(&self) -> Option<&Credential> {
        Some(&self.0)
    }
}

#[tokio::test(start_paused = true)]
async fn a_fixed_credential_is_not_asked_for_per_attempt() {
    let t = Scripted::new([Reply::json(500, "{}"), Reply::json(200, &completion("c1"))]);
    let pinned = Arc::new(Pinned(Credential::bearer("sk-pinned"), AtomicU32::new(0)));
    let client = Client::new(config().credential_provider_arc(pinned.clone()), t.clone());
    client.create_chat_completion(&request()).await.unwrap();
    for i in 0..2 {
        assert_eq!(
            t.request(i).header("authorization"),
            Some("Bearer sk-pinned")
        );
    }
    // Its header was built once with the client; the provider was never asked.
    assert_eq!(pinned.1.load(Ordering::SeqCst), 0);
}

#[derive(Debug)]
struct BrokenVault;

#[async_trait]
impl CredentialProvider for BrokenVault {
    async fn credential(&self) -> Result<Credential, Error> {
        Err(Error::invalid_config("vault unreachable"))
    }
}

#[tokio::test]
async fn credential_errors_are_returned_without_sending() {
    let t = Scripted::new([]);
    let client = Client::new(config().credential_provider(BrokenVault), t.clone());
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert!(e.to_string().contains("vault unreachable"), "{e}");
    assert!(t.requests().is_empty());
}

#[tokio::test]
async fn invalid_headers_are_config_errors_not_panics() {
    for c in [
        config().header("bad header", "x"),
        config().header("x-ok", "line\nbreak"),
        config().organization("org\n1"),
        config().user_agent("ua\r"),
        config().base_url("not a url"),
        config().base_url("ftp://example.com"),
        Config::new().api_key("sk-with\nnewline"),
    ] {
        assert!(c.validate().is_err(), "{c:?}");
        let t = Scripted::new([]);
        let client = Client::new(c.clone(), t.clone());
        let e = client.create_chat_completion(&request()).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)), "{e:?}");
        assert!(t.requests().is_empty());
        assert!(Client::try_new(c, Scripted::new([])).is_err());
    }
    let t = Scripted::new([]);
    let client = Client::new(config(), t.clone());
    let e = client
        .with_options(RequestOptions::new().header("x", "a\u{0}b"))
        .create_chat_completion(&request())
        .await
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)), "{e:?}");
    assert!(t.requests().is_empty());
}

#[tokio::test]
async fn debug_and_display_never_show_the_key() {
    let secret = SecretString::new(KEY);
    assert_eq!(format!("{secret}"), "[redacted]");
    assert_eq!(format!("{secret:?}"), "[redacted]");
    assert_eq!(secret.expose_secret(), KEY);

    let c = config().header("authorization", format!("Bearer {KEY}"));
    assert_no_key(&format!("{c:?}"));
    assert_no_key(&format!("{:?}", Credential::bearer(KEY)));
    assert_no_key(&format!("{:?}", Credential::azure_api_key(KEY)));
    let options = RequestOptions::new().header("api-key", KEY);
    assert_no_key(&format!("{options:?}"));

    let t = Scripted::new([Reply::json(
        401,
        r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#,
    )]);
    let client = Client::new(config(), t.clone());
    assert_no_key(&format!("{client:?}"));
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert!(e.is_auth());
    assert_no_key(&format!("{e}"));
    assert_no_key(&format!("{e:?}"));
    // A key that cannot be a header value is an error that does not quote it.
    let e =
        Client::try_new(Config::new().api_key(format!("{KEY}\n")), Scripted::new([])).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)));
    assert_no_key(&format!("{e} {e:?}"));
}

#[tokio::test]
async fn non_streaming_call_rejects_stream_true() {
    let t = Scripted::new([]);
    let client = Client::new(config(), t.clone());
    let mut r = request();
    r.stream = Some(true);
    let e = client.create_chat_completion(&r).await.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)));
    assert!(t.requests().is_empty());
}

/// A credential in a query parameter (of the configuration, of request options or of a raw
/// path) never shows in `Debug` of the configuration, options, client or middleware context,
/// nor in errors; it is still sent.
#[tokio::test]
async fn query_credentials_are_redacted_but_sent() {
    #[derive(Debug)]
    struct Peek(std::sync::Mutex<Vec<String>>);
    #[async_trait]
    impl chat_core::Middleware for Peek {
        async fn on_request(
            &self,
            _request: &mut http::Request<bytes::Bytes>,
            ctx: &chat_core::RequestContext,
        ) -> Result<(), Error> {
            self.0.lock().unwrap().push(format!("{ctx:?}"));
            Ok(())
        }
    }
    let peek = Arc::new(Peek(Default::default()));
    let names = [
        "api_key",
        "KEY",
        "api-key",
        "access_token",
        "token",
        "sig",
        "X-Amz-Signature",
    ];
    let mut c = Config::new()
        .no_credential()
        .base_url("http://127.0.0.1:9/v1")
        .query("api-version", "2024-10-21")
        .middleware_arc(peek.clone());
    for name in names {
        c = c.query(name, KEY);
    }
    let options = RequestOptions::new()
        .query("Access_Token", KEY)
        .query("limit", "2");
    let t = Scripted::new([
        Reply::json(500, r#"{"error":{"message":"boom"}}"#),
        Reply::json(200, &completion("c1")),
    ]);
    let client = Client::new(c.clone().max_retries(0), t.clone()).with_options(options.clone());
    for text in [
        format!("{c:?}"),
        format!("{options:?}"),
        format!("{client:?}"),
    ] {
        assert_no_key(&text);
        assert!(text.contains("[redacted]"), "{text}");
    }
    assert!(format!("{c:?}").contains("2024-10-21"), "{c:?}");
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert_no_key(&format!("{e} {e:?}"));
    let raw = client
        .send_raw(
            http::Method::GET,
            &format!("/models?token={KEY}"),
            None::<&()>,
            &RequestOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(raw.status, 200);
    let seen = peek.0.lock().unwrap().join("\n");
    assert!(seen.contains("/models?token=[redacted]"), "{seen}");
    assert_no_key(&seen);
    // Still sent, once per name.
    let uri = t.request(0).uri;
    assert_eq!(uri.matches(KEY).count(), names.len() + 1, "{uri}");
}

/// User information in the base URL is never used to authenticate: it is a configuration
/// error that does not quote it, and nothing is sent.
#[tokio::test]
async fn userinfo_in_the_base_url_is_rejected_without_quoting_it() {
    for url in [
        format!("https://user:{KEY}@api.test/v1"),
        format!("http://{KEY}@127.0.0.1:9/v1"),
    ] {
        let c = Config::new().api_key("sk-other").base_url(&url);
        assert_no_key(&format!("{c:?}"));
        let e = c.validate().unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)), "{e:?}");
        assert!(e.to_string().contains("user information"), "{e}");
        assert_no_key(&format!("{e} {e:?}"));
        let t = Scripted::new([]);
        let client = Client::new(c, t.clone());
        assert_no_key(&format!("{client:?}"));
        let e = client.create_chat_completion(&request()).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)), "{e:?}");
        assert!(t.requests().is_empty());
    }
    let azure = Config::azure(format!("https://u:{KEY}@res.test"), "dep", "2024-10-21");
    assert_no_key(&format!("{azure:?}"));
    assert!(azure.validate().is_err());
    // A raw absolute URL with user information is refused the same way.
    let t = Scripted::new([]);
    let client = Client::new(config(), t.clone());
    let e = client
        .send_raw(
            http::Method::GET,
            &format!("http://u:{KEY}@127.0.0.1:9/x"),
            None::<&()>,
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("user information"), "{e}");
    assert_no_key(&format!("{e} {e:?}"));
    assert!(t.requests().is_empty());
}
