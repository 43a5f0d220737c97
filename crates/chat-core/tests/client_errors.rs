//! Error answers and bodies: JSON errors in several shapes, HTML pages, empty and invalid
//! bodies, decode errors with their JSON path, size limits, and response metadata.

mod client_support;

use std::time::Duration;

use chat_core::{Client, ErrorKind, RateLimitInfo};
use client_support::{completion, config, request, Reply, Scripted};

async fn fail_with(reply: Reply) -> chat_core::Error {
    let t = Scripted::new([reply]);
    let client = Client::new(config().max_retries(0), t.clone());
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    t.assert_done();
    e
}

#[tokio::test]
async fn json_error_body_is_parsed() {
    let e = fail_with(
        Reply::json(
            400,
            r#"{"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}"#,
        )
        .header("x-request-id", "req_123"),
    )
    .await;
    let api = e.api_error().unwrap();
    assert_eq!(api.status.as_u16(), 400);
    let obj = api.error.as_ref().unwrap();
    assert_eq!(obj.param.as_deref(), Some("temperature"));
    assert_eq!(obj.r#type.as_deref(), Some("invalid_request_error"));
    assert_eq!(e.code().as_deref(), Some("invalid_value"));
    assert_eq!(e.request_id(), Some("req_123"));
    assert_eq!(api.message(), "Invalid value for 'temperature'");
    assert_eq!(api.headers["x-request-id"], "req_123");
    let text = e.to_string();
    assert!(
        text.starts_with("api error 400 Bad Request: Invalid value"),
        "{text}"
    );
    assert!(text.contains("[request id req_123]"), "{text}");
}

#[tokio::test]
async fn numeric_codes_and_other_error_shapes() {
    let e = fail_with(Reply::json(
        400,
        r#"{"error":{"message":"bad","code":400}}"#,
    ))
    .await;
    assert_eq!(e.code().as_deref(), Some("400"));

    let e = fail_with(Reply::json(400, r#"{"error":"model not found"}"#)).await;
    assert_eq!(e.api_error().unwrap().message(), "model not found");

    let e = fail_with(Reply::json(422, r#"{"detail":"field required"}"#)).await;
    assert_eq!(e.api_error().unwrap().message(), "field required");

    let e = fail_with(Reply::json(
        400,
        r#"[{"error":{"code":400,"message":"gemini says no","status":"INVALID_ARGUMENT"}}]"#,
    ))
    .await;
    let obj = e.api_error().unwrap().error.as_ref().unwrap();
    assert_eq!(obj.message, "gemini says no");
    assert_eq!(obj.extra["status"], "INVALID_ARGUMENT");

    let e = fail_with(Reply::json(
        400,
        r#"{"message":"bare object","type":"invalid"}"#,
    ))
    .await;
    assert_eq!(e.api_error().unwrap().message(), "bare object");

    // Fields of unexpected types do not lose the message.
    let e = fail_with(Reply::json(
        400,
        r#"{"error":{"message":"typed oddly","param":7,"code":null}}"#,
    ))
    .await;
    let obj = e.api_error().unwrap().error.as_ref().unwrap();
    assert_eq!(obj.message, "typed oddly");
    assert_eq!(obj.extra["param"], 7);
}

#[tokio::test]
async fn html_error_pages_keep_their_text() {
    let html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let e = fail_with(Reply::bytes(502, "text/html", html.as_bytes())).await;
    let api = e.api_error().unwrap();
    assert!(api.error.is_none());
    assert_eq!(api.body, html);
    assert!(e.to_string().contains("502 Bad Gateway"), "{e}");
    assert!(e.is_server_error());
}

#[tokio::test]
async fn empty_error_bodies_are_fine() {
    let e = fail_with(Reply::bytes(404, "text/plain", b"")).await;
    assert!(e.is_not_found());
    assert_eq!(e.to_string(), "api error 404 Not Found");
}

#[tokio::test]
async fn decode_errors_name_the_path() {
    let body = r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":42},"finish_reason":"stop"}]}"#;
    let e = fail_with(Reply::json(200, body).header("x-request-id", "req_9")).await;
    let ErrorKind::Decode(d) = e.kind() else {
        panic!("{e:?}")
    };
    assert_eq!(d.path.as_deref(), Some("choices[0].message.content"));
    assert!(d.snippet.starts_with(r#"{"id":"c""#), "{}", d.snippet);
    assert_eq!(d.status.unwrap().as_u16(), 200);
    assert_eq!(e.request_id(), Some("req_9"));
    assert!(
        e.to_string().contains("at `choices[0].message.content`"),
        "{e}"
    );
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn empty_and_invalid_success_bodies() {
    let e = fail_with(Reply::bytes(200, "application/json", b"")).await;
    assert!(
        matches!(e.kind(), ErrorKind::Decode(d) if d.message.contains("empty")),
        "{e}"
    );

    let e = fail_with(Reply::bytes(
        200,
        "application/json",
        b"{\"id\":\"\xff\xfe\"}",
    ))
    .await;
    assert!(
        matches!(e.kind(), ErrorKind::Decode(d) if d.message.contains("not valid UTF-8 (at byte 7)")),
        "{e}"
    );

    let e = fail_with(Reply::bytes(
        200,
        "text/html",
        b"<html>captive portal</html>",
    ))
    .await;
    assert!(
        matches!(e.kind(), ErrorKind::Decode(d) if d.snippet.contains("captive")),
        "{e}"
    );

    let e = fail_with(Reply::json(200, r#"{"id":"c","choices":[]"#)).await;
    assert!(matches!(e.kind(), ErrorKind::Decode(_)), "{e}");

    // A body cut inside a value names its field; cut inside a key, there is no path to name.
    let e = fail_with(Reply::json(200, r#"{"id":"c","model":"gpt-4o-mi"#)).await;
    assert!(matches!(e.kind(), ErrorKind::Decode(d) if d.path.as_deref() == Some("model")));
    let e = fail_with(Reply::json(200, r#"{"id":"c","mod"#)).await;
    let ErrorKind::Decode(d) = e.kind() else {
        panic!("{e:?}")
    };
    assert_eq!(d.path, None, "{e}");
    assert!(
        e.to_string().starts_with("failed to decode response: EOF"),
        "{e}"
    );
}

#[tokio::test]
async fn an_empty_error_message_is_left_out() {
    let e = fail_with(Reply::json(
        500,
        r#"{"error":{"message":"","type":"server_error"}}"#,
    ))
    .await;
    assert_eq!(
        e.to_string(),
        "api error 500 Internal Server Error: (type: server_error)"
    );
    assert_eq!(e.api_error().unwrap().message(), "");
    // Nothing at all in the error object: the body is quoted instead.
    let e = fail_with(Reply::json(400, r#"{"error":{"message":""}}"#)).await;
    assert_eq!(
        e.to_string(),
        r#"api error 400 Bad Request: {"error":{"message":""}}"#
    );
}

#[tokio::test]
async fn oversized_bodies_fail_without_retry() {
    let t = Scripted::new([Reply::json(200, &completion("c1"))]);
    let client = Client::new(config().max_response_bytes(64), t.clone());
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Decode(d) if d.message.contains("limit of 64 bytes")),
        "{e}"
    );
    assert_eq!(e.attempts(), 1);
    t.assert_done();
}

#[tokio::test]
async fn response_metadata_and_rate_limits() {
    let reply = Reply::json(200, &completion("c1"))
        .header("x-request-id", "req_abc")
        .header("openai-processing-ms", "329")
        .header("x-ratelimit-limit-requests", "10000")
        .header("x-ratelimit-remaining-requests", "9999")
        .header("x-ratelimit-reset-requests", "6m0s")
        .header("x-ratelimit-limit-tokens", "2000000")
        .header("x-ratelimit-remaining-tokens", "1999000")
        .header("x-ratelimit-reset-tokens", "1h2m3.5s");
    let t = Scripted::new([reply]);
    let client = Client::new(config(), t.clone());
    let resp = client.create_chat_completion(&request()).await.unwrap();
    assert_eq!(resp.id.as_deref(), Some("c1"));
    let meta = resp.meta();
    assert_eq!(meta.status.as_u16(), 200);
    assert_eq!(meta.request_id.as_deref(), Some("req_abc"));
    assert_eq!(resp.request_id(), Some("req_abc"));
    assert_eq!(meta.processing_time, Some(Duration::from_millis(329)));
    assert_eq!(meta.attempts, 1);
    let rl = meta.rate_limit;
    assert_eq!(rl.limit_requests, Some(10000));
    assert_eq!(rl.remaining_requests, Some(9999));
    assert_eq!(rl.reset_requests, Some(Duration::from_secs(360)));
    assert_eq!(rl.limit_tokens, Some(2_000_000));
    assert_eq!(rl.remaining_tokens, Some(1_999_000));
    assert_eq!(rl.reset_tokens, Some(Duration::from_millis(3_723_500)));
    assert_eq!(meta.headers["openai-processing-ms"], "329");
}

#[tokio::test]
async fn rate_limits_of_an_error_and_unreadable_headers() {
    let e = fail_with(
        Reply::json(
            429,
            r#"{"error":{"message":"slow down","code":"rate_limit_exceeded"}}"#,
        )
        .header("x-should-retry", "false")
        .header("x-ratelimit-remaining-tokens", "0")
        .header("x-ratelimit-reset-tokens", "20ms")
        .header("x-ratelimit-limit-tokens", "lots"),
    )
    .await;
    let rl = e.api_error().unwrap().rate_limit();
    assert_eq!(rl.remaining_tokens, Some(0));
    assert_eq!(rl.reset_tokens, Some(Duration::from_millis(20)));
    assert_eq!(rl.limit_tokens, None);
    assert!(RateLimitInfo::from_headers(&http::HeaderMap::new()).is_empty());
}

/// Bytes of a gzip stream (the header and some deflate data): binary noise as text.
const GZIP_BYTES: &[u8] = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xabV\xca\xcc\x04\x00\xff\xfe";

/// A body in an encoding nothing decoded is a typed decode error naming the encoding (and
/// the chat-hyper feature that decodes it), not "invalid UTF-8" and noise; not retried.
#[tokio::test]
async fn an_undecoded_content_encoding_is_named() {
    for (encoding, feature) in [
        ("gzip", Some("gzip")),
        ("BR", Some("br")),
        ("deflate", None),
    ] {
        let t = Scripted::new([Reply::bytes(200, "application/json", GZIP_BYTES)
            .header("content-encoding", encoding)
            .header("x-request-id", "req_gz")]);
        let client = Client::new(config().max_retries(2), t.clone());
        let e = client.create_chat_completion(&request()).await.unwrap_err();
        let ErrorKind::Decode(d) = e.kind() else {
            panic!("{e:?}")
        };
        let lower = encoding.to_ascii_lowercase();
        assert_eq!(d.content_encoding.as_deref(), Some(lower.as_str()));
        let text = e.to_string();
        assert!(text.contains(&format!("`{lower}`")), "{text}");
        assert!(!text.contains("UTF-8"), "{text}");
        assert!(!text.contains('\u{fffd}'), "{text}");
        match feature {
            Some(f) => assert!(text.contains(&format!("`{f}` feature")), "{text}"),
            None => assert!(!text.contains("feature"), "{text}"),
        }
        assert_eq!(e.request_id(), Some("req_gz"));
        assert_eq!(e.attempts(), 1);
        assert_eq!(t.requests().len(), 1);
    }

    // Streams too, before any chunk is read.
    let t = Scripted::new([
        Reply::bytes(200, "text/event-stream", GZIP_BYTES).header("content-encoding", "gzip")
    ]);
    let client = Client::new(config(), t.clone());
    let e = client
        .create_chat_completion_stream(&request())
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Decode(d) if d.content_encoding.as_deref() == Some("gzip")),
        "{e:?}"
    );

    // An error status keeps its status; the body says what it was instead of noise.
    let e = fail_with(
        Reply::bytes(401, "application/json", GZIP_BYTES).header("content-encoding", "gzip"),
    )
    .await;
    assert!(e.is_auth(), "{e:?}");
    let body = &e.api_error().unwrap().body;
    assert!(body.contains("gzip-encoded body"), "{body}");
    assert!(!body.contains('\u{fffd}'), "{body}");
}

/// `identity` (and an empty value) means no encoding.
#[tokio::test]
async fn identity_content_encoding_is_no_encoding() {
    for encoding in ["identity", "Identity", ""] {
        let t = Scripted::new([
            Reply::json(200, &completion("c1")).header("content-encoding", encoding)
        ]);
        let client = Client::new(config(), t.clone());
        let response = client.create_chat_completion(&request()).await.unwrap();
        assert_eq!(response.first_content(), Some("hi"), "{encoding:?}");
    }
}
