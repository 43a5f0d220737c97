//! Middleware: order, request mutation, custom authentication, logging and metrics hooks.

mod client_support;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chat_core::{
    async_trait, Client, Config, Error, ErrorKind, Middleware, RequestContext, ResponseHead,
};
use client_support::{completion, config, request, Reply, Scripted, KEY};
use http::HeaderValue;

type Log = Arc<Mutex<Vec<String>>>;

/// Records every hook call as `name:hook:details`.
#[derive(Debug)]
struct Recorder {
    name: &'static str,
    log: Log,
}

#[async_trait]
impl Middleware for Recorder {
    async fn on_request(
        &self,
        request: &mut http::Request<Bytes>,
        ctx: &RequestContext,
    ) -> Result<(), Error> {
        // Each middleware sees the changes of the ones before it.
        let seen = request
            .headers()
            .get("x-chain")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let chain = format!("{seen}{}", self.name);
        request
            .headers_mut()
            .insert("x-chain", HeaderValue::from_str(&chain).unwrap());
        self.log.lock().unwrap().push(format!(
            "{}:request:{}:{}:{}:{:?}",
            self.name,
            ctx.operation(),
            ctx.attempt(),
            ctx.max_attempts(),
            ctx.model()
        ));
        // A logging middleware printing the whole request must not leak the key.
        let dump = format!("{request:?}");
        assert!(!dump.contains(KEY), "{dump}");
        Ok(())
    }

    fn on_response(&self, response: &ResponseHead, ctx: &RequestContext) {
        self.log.lock().unwrap().push(format!(
            "{}:response:{}:{}",
            self.name,
            response.status.as_u16(),
            ctx.attempt()
        ));
    }

    fn on_error(&self, error: &Error, ctx: &RequestContext) {
        self.log.lock().unwrap().push(format!(
            "{}:error:{}:{}:{}",
            self.name,
            error.status().map_or(0, |s| s.as_u16()),
            ctx.attempt(),
            ctx.will_retry()
        ));
    }
}

#[tokio::test(start_paused = true)]
async fn order_mutation_and_hooks_per_attempt() {
    let log = Log::default();
    let t = Scripted::new([Reply::json(503, "{}"), Reply::json(200, &completion("c1"))]);
    let client = Client::new(
        config()
            .middleware(Recorder {
                name: "a",
                log: log.clone(),
            })
            .middleware(Recorder {
                name: "b",
                log: log.clone(),
            }),
        t.clone(),
    );
    client.create_chat_completion(&request()).await.unwrap();
    assert_eq!(t.request(0).header("x-chain"), Some("ab"));
    assert_eq!(t.request(1).header("x-chain"), Some("ab"));
    assert_eq!(
        *log.lock().unwrap(),
        [
            "a:request:chat.completions.create:1:3:Some(\"gpt-4o\")",
            "b:request:chat.completions.create:1:3:Some(\"gpt-4o\")",
            "b:response:503:1",
            "a:response:503:1",
            "b:error:503:1:true",
            "a:error:503:1:true",
            "a:request:chat.completions.create:2:3:Some(\"gpt-4o\")",
            "b:request:chat.completions.create:2:3:Some(\"gpt-4o\")",
            "b:response:200:2",
            "a:response:200:2",
        ]
    );
}

#[tokio::test]
async fn on_error_reports_the_final_failure() {
    let log = Log::default();
    let t = Scripted::new([Reply::json(400, r#"{"error":{"message":"bad"}}"#)]);
    let client = Client::new(
        config().middleware(Recorder {
            name: "m",
            log: log.clone(),
        }),
        t.clone(),
    );
    client.get_chat_completion("x").await.unwrap_err();
    let log = log.lock().unwrap();
    assert_eq!(log[0], "m:request:chat.completions.retrieve:1:3:None");
    assert_eq!(log[2], "m:error:400:1:false");
}

/// Replaces the configured credential with a gateway's own scheme.
#[derive(Debug)]
struct GatewayAuth;

#[async_trait]
impl Middleware for GatewayAuth {
    async fn on_request(
        &self,
        request: &mut http::Request<Bytes>,
        _ctx: &RequestContext,
    ) -> Result<(), Error> {
        let h = request.headers_mut();
        h.remove(http::header::AUTHORIZATION);
        h.insert("x-gateway-token", HeaderValue::from_static("gw-123"));
        *request.uri_mut() = format!("{}&signed=1", request.uri()).parse().unwrap();
        Ok(())
    }
}

#[tokio::test]
async fn custom_auth_middleware_rewrites_the_request() {
    let t = Scripted::new([Reply::json(200, &completion("c1"))]);
    let client = Client::new(
        Config::new()
            .base_url("http://127.0.0.1:9/v1")
            .api_key(KEY)
            .query("v", "1")
            .middleware(GatewayAuth),
        t.clone(),
    );
    client.create_chat_completion(&request()).await.unwrap();
    let r = t.request(0);
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.header("x-gateway-token"), Some("gw-123"));
    assert_eq!(r.uri, "http://127.0.0.1:9/v1/chat/completions?v=1&signed=1");
}

/// Refuses every request.
#[derive(Debug)]
struct Deny;

#[async_trait]
impl Middleware for Deny {
    async fn on_request(
        &self,
        _request: &mut http::Request<Bytes>,
        _ctx: &RequestContext,
    ) -> Result<(), Error> {
        Err(Error::invalid_config("denied by policy"))
    }
}

#[tokio::test]
async fn a_failing_middleware_stops_the_request_without_retry() {
    let t = Scripted::new([]);
    let client = Client::new(config().middleware(Deny), t.clone());
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidConfig(m) if m == "denied by policy"));
    assert_eq!(e.attempts(), 1);
    assert!(t.requests().is_empty());
}

/// Counts successes and failures, like a metrics exporter.
#[derive(Debug, Default)]
struct Metrics {
    ok: std::sync::atomic::AtomicU32,
    failed_attempts: std::sync::atomic::AtomicU32,
}

#[async_trait]
impl Middleware for Metrics {
    fn on_response(&self, response: &ResponseHead, _ctx: &RequestContext) {
        if response.status.is_success() {
            self.ok.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    fn on_error(&self, _error: &Error, _ctx: &RequestContext) {
        self.failed_attempts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn metrics_middleware_sees_transport_failures() {
    let metrics = Arc::new(Metrics::default());
    let t = Scripted::new([
        Reply::Fail(chat_core::TransportErrorKind::Connect),
        Reply::json(200, &completion("c1")),
    ]);
    let client = Client::new(config().middleware_arc(metrics.clone()), t.clone());
    client.create_chat_completion(&request()).await.unwrap();
    use std::sync::atomic::Ordering::SeqCst;
    assert_eq!(metrics.ok.load(SeqCst), 1);
    assert_eq!(metrics.failed_attempts.load(SeqCst), 1);
}

#[tokio::test]
async fn on_error_sees_decode_errors() {
    let log = Log::default();
    let t = Scripted::new([Reply::json(200, r#"{"id":"c1","choices":"not a list"}"#)]);
    let client = Client::new(
        config().middleware(Recorder {
            name: "m",
            log: log.clone(),
        }),
        t.clone(),
    );
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Decode(_)), "{e:?}");
    assert_eq!(
        log.lock().unwrap()[1..],
        ["m:response:200:1", "m:error:200:1:false"]
    );
    t.assert_done();
}
