//! Retry rules and timeouts, on a paused clock: which failures are retried, how long the client
//! waits, the overall deadline and the attempt count in the final error.

mod client_support;

use std::time::{Duration, SystemTime};

use chat_core::{Client, ErrorKind, RequestOptions, TimeoutKind, TransportErrorKind};
use client_support::{completion, config, request, Reply, Scripted};

const MS: Duration = Duration::from_millis(1);
const SSE_CHUNK: &str =
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n";

fn ok() -> Reply {
    Reply::json(200, &completion("c1"))
}

fn status(code: u16) -> Reply {
    Reply::json(
        code,
        r#"{"error":{"message":"nope","type":"server_error"}}"#,
    )
}

async fn run(replies: Vec<Reply>) -> (Scripted, Result<u32, chat_core::Error>) {
    let t = Scripted::new(replies);
    let client = Client::new(config(), t.clone());
    let result = client
        .create_chat_completion(&request())
        .await
        .map(|r| r.meta().attempts);
    (t, result)
}

/// Asserts that `e` is the overall deadline of `secs` seconds.
fn assert_deadline(e: &chat_core::Error, secs: u64) {
    assert!(
        matches!(e.kind(), ErrorKind::Timeout(to) if to.kind == TimeoutKind::Deadline && to.after == Duration::from_secs(secs)),
        "{e:?}"
    );
}

/// Whether `d` is the backoff of retry `n` (0.5 s * 2^n capped at 8 s, times 0.75..=1).
fn is_backoff(d: Duration, n: u32) -> bool {
    let base = (0.5 * 2f64.powi(n as i32)).min(8.0);
    d >= Duration::from_secs_f64(base * 0.75) && d <= Duration::from_secs_f64(base) + MS
}

#[tokio::test(start_paused = true)]
async fn retryable_statuses_are_retried_with_backoff() {
    for code in [408, 409, 429, 500, 502, 503, 504, 529] {
        let (t, r) = run(vec![status(code), status(code), ok()]).await;
        assert_eq!(r.unwrap(), 3, "{code}");
        t.assert_done();
        let gaps = t.gaps();
        assert!(is_backoff(gaps[0], 0), "{code}: {gaps:?}");
        assert!(is_backoff(gaps[1], 1), "{code}: {gaps:?}");
        assert_eq!(t.request(0).header("x-retry-count"), None);
        assert_eq!(t.request(1).header("x-retry-count"), Some("1"));
        assert_eq!(t.request(2).header("x-retry-count"), Some("2"));
        assert_eq!(t.request(0).body, t.request(2).body);
    }
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_not_retried() {
    for code in [400, 401, 403, 404, 422] {
        let (t, r) = run(vec![status(code)]).await;
        let e = r.unwrap_err();
        assert_eq!(e.status().unwrap().as_u16(), code);
        assert_eq!(e.attempts(), 1);
        assert!(!e.to_string().contains("attempts"), "{e}");
        t.assert_done();
    }
}

#[tokio::test(start_paused = true)]
async fn the_final_error_counts_attempts() {
    let (t, r) = run(vec![status(500), status(502), status(503)]).await;
    let e = r.unwrap_err();
    assert_eq!(e.attempts(), 3);
    assert_eq!(e.status().unwrap().as_u16(), 503);
    assert!(e.to_string().contains("after 3 attempts"), "{e}");
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn max_retries_comes_from_config_and_options() {
    let t = Scripted::new([status(500), status(500)]);
    let client = Client::new(config().max_retries(1), t.clone());
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert_eq!(e.attempts(), 2);
    t.assert_done();

    let t = Scripted::new([status(500)]);
    let client = Client::new(config().max_retries(5), t.clone());
    let e = client
        .with_options(RequestOptions::new().max_retries(0))
        .create_chat_completion(&request())
        .await
        .unwrap_err();
    assert_eq!(e.attempts(), 1);
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn insufficient_quota_is_not_retried_but_rate_limits_are() {
    let quota = Reply::json(
        429,
        r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
    );
    let (t, r) = run(vec![quota]).await;
    let e = r.unwrap_err();
    assert!(e.is_rate_limited());
    assert_eq!(e.code().as_deref(), Some("insufficient_quota"));
    assert_eq!(e.attempts(), 1);
    t.assert_done();

    let limited = Reply::json(
        429,
        r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#,
    );
    let (t, r) = run(vec![limited, ok()]).await;
    assert_eq!(r.unwrap(), 2);
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn x_should_retry_overrides_the_status() {
    let (t, r) = run(vec![status(500).header("x-should-retry", "false")]).await;
    assert_eq!(r.unwrap_err().attempts(), 1);
    t.assert_done();

    let (t, r) = run(vec![status(400).header("x-should-retry", "true"), ok()]).await;
    assert_eq!(r.unwrap(), 2);
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn retry_after_ms_is_honoured() {
    let (t, r) = run(vec![status(429).header("retry-after-ms", "1500"), ok()]).await;
    assert_eq!(r.unwrap(), 2);
    assert_eq!(t.gaps(), [Duration::from_millis(1500)]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_honoured() {
    let (t, r) = run(vec![status(503).header("retry-after", "7"), ok()]).await;
    assert_eq!(r.unwrap(), 2);
    assert_eq!(t.gaps(), [Duration::from_secs(7)]);

    let (t, r) = run(vec![status(503).header("retry-after", "0.25"), ok()]).await;
    assert_eq!(r.unwrap(), 2);
    assert_eq!(t.gaps(), [Duration::from_millis(250)]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_is_honoured() {
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
    let (t, r) = run(vec![status(503).header("retry-after", &date), ok()]).await;
    assert_eq!(r.unwrap(), 2);
    let gap = t.gaps()[0];
    // The date has whole seconds, so up to one second is lost to rounding.
    assert!(
        gap > Duration::from_secs(28) && gap <= Duration::from_secs(30) + MS,
        "{gap:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_over_a_minute_or_zero_falls_back_to_backoff() {
    for value in ["120", "0", "-1", "later"] {
        let (t, r) = run(vec![status(429).header("retry-after", value), ok()]).await;
        assert_eq!(r.unwrap(), 2);
        assert!(is_backoff(t.gaps()[0], 0), "{value}: {:?}", t.gaps());
    }
    let (t, r) = run(vec![status(429).header("retry-after-ms", "61000"), ok()]).await;
    assert_eq!(r.unwrap(), 2);
    assert!(is_backoff(t.gaps()[0], 0), "{:?}", t.gaps());
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_and_caps_at_eight_seconds() {
    let t = Scripted::new((0..7).map(|_| status(500)).chain([ok()]));
    let client = Client::new(config().max_retries(7), t.clone());
    client.create_chat_completion(&request()).await.unwrap();
    let gaps = t.gaps();
    assert_eq!(gaps.len(), 7);
    for (n, gap) in gaps.iter().enumerate() {
        assert!(is_backoff(*gap, n as u32), "retry {n}: {gap:?}");
    }
    assert!(
        gaps[6] >= Duration::from_secs(6),
        "capped at 8 s * 0.75..1: {gaps:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn connect_errors_and_transport_timeouts_are_retried() {
    let (t, r) = run(vec![
        Reply::Fail(TransportErrorKind::Connect),
        Reply::Fail(TransportErrorKind::Timeout),
        ok(),
    ])
    .await;
    assert_eq!(r.unwrap(), 3);
    t.assert_done();

    let (t, r) = run(vec![Reply::Fail(TransportErrorKind::Io), ok()]).await;
    assert_eq!(r.unwrap(), 2);
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn tls_errors_are_not_retried() {
    let (t, r) = run(vec![Reply::Fail(TransportErrorKind::Tls)]).await;
    let e = r.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Transport(_)));
    assert_eq!(e.attempts(), 1);
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn connection_errors_exhaust_retries() {
    let (t, r) = run(vec![
        Reply::Fail(TransportErrorKind::Connect),
        Reply::Fail(TransportErrorKind::Connect),
        Reply::Fail(TransportErrorKind::Connect),
    ])
    .await;
    let e = r.unwrap_err();
    assert_eq!(e.attempts(), 3);
    assert!(e.to_string().starts_with("connection failed"), "{e}");
    assert!(e.to_string().ends_with("(after 3 attempts)"), "{e}");
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn per_attempt_timeout_is_retried() {
    let t = Scripted::new([Reply::Hang, Reply::Hang, ok()]);
    let client = Client::new(config().timeout(Duration::from_secs(10)), t.clone());
    let resp = client.create_chat_completion(&request()).await.unwrap();
    assert_eq!(resp.meta().attempts, 3);
    let gaps = t.gaps();
    // Each gap is the 10 s timeout plus the backoff.
    assert!(is_backoff(gaps[0] - Duration::from_secs(10), 0), "{gaps:?}");
    assert!(is_backoff(gaps[1] - Duration::from_secs(10), 1), "{gaps:?}");

    let t = Scripted::new([Reply::Hang, Reply::Hang, Reply::Hang]);
    let client = Client::new(config().timeout(Duration::from_secs(10)), t.clone());
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert!(e.is_timeout());
    assert!(
        matches!(e.kind(), ErrorKind::Timeout(to) if to.kind == TimeoutKind::Request && to.after == Duration::from_secs(10))
    );
    assert_eq!(e.attempts(), 3);
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn non_streaming_timeout_covers_the_whole_body() {
    let slow_body = Reply::json(200, r#"{"id":"c1","#)
        .header("x-request-id", "req_slow")
        .then_hang();
    let t = Scripted::new([slow_body]);
    let client = Client::new(
        config().timeout(Duration::from_secs(5)).max_retries(0),
        t.clone(),
    );
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Timeout(to) if to.kind == TimeoutKind::Request));
    // The head had arrived: the timeout names the response it cut short.
    assert_eq!(e.request_id(), Some("req_slow"));
    assert!(e.to_string().contains("[request id req_slow]"), "{e}");

    // A body that breaks off names its response too; a timeout before any head has no id.
    let t = Scripted::new([
        Reply::json(200, r#"{"id":"c1","#)
            .header("x-request-id", "req_cut")
            .then_fail(TransportErrorKind::Io),
        Reply::Hang,
    ]);
    let client = Client::new(
        config().timeout(Duration::from_secs(5)).max_retries(0),
        t.clone(),
    );
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Transport(_)), "{e:?}");
    assert_eq!(e.request_id(), Some("req_cut"));
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert!(e.is_timeout());
    assert_eq!(e.request_id(), None);
    assert!(!e.to_string().contains("request id"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn without_jitter_backoff_waits_are_exact() {
    // Three hanging attempts of 5 s with backoff waits of 0.5 s and 1 s between them.
    let t = Scripted::new([Reply::Hang, Reply::Hang, Reply::Hang]);
    let client = Client::new(
        config().timeout(Duration::from_secs(5)).retry_jitter(false),
        t.clone(),
    );
    let start = tokio::time::Instant::now();
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert_eq!(e.attempts(), 3);
    assert_eq!(start.elapsed(), Duration::from_millis(16_500));
    assert!(!config().retry_jitter(false).get_retry_jitter());
    assert!(config().get_retry_jitter(), "on by default");
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn an_error_whose_body_stalls_is_still_the_api_error() {
    // The 503 head and part of its body arrive, then nothing: at the attempt's limit the
    // error is the 503 with what was read, retried as a 503, not an anonymous timeout.
    let stalled = || {
        Reply::json(503, r#"{"error":{"message":"overloaded","ty"#)
            .header("x-request-id", "req_503")
            .then_hang()
    };
    let t = Scripted::new([stalled(), stalled()]);
    let client = Client::new(
        config().timeout(Duration::from_secs(5)).max_retries(1),
        t.clone(),
    );
    let start = tokio::time::Instant::now();
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    let api = e.api_error().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(api.status.as_u16(), 503);
    assert!(
        api.body.starts_with(r#"{"error":{"message":"overloaded""#),
        "{e}"
    );
    assert_eq!(e.request_id(), Some("req_503"));
    assert_eq!(e.attempts(), 2);
    // Two attempts of 5 s each and one backoff wait between them (at most 1 s).
    assert!(
        start.elapsed() >= Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(
        start.elapsed() <= Duration::from_secs(11),
        "{:?}",
        start.elapsed()
    );
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn the_overall_deadline_stops_attempts_and_waits() {
    // Attempts hang: the deadline cuts the second attempt short.
    let t = Scripted::new([Reply::Hang, Reply::Hang]);
    let client = Client::new(
        config()
            .timeout(Duration::from_secs(10))
            .deadline(Duration::from_secs(15))
            .max_retries(5),
        t.clone(),
    );
    let start = tokio::time::Instant::now();
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert_deadline(&e, 15);
    assert!(!e.is_retryable());
    assert_eq!(e.attempts(), 2);
    assert_eq!(start.elapsed(), Duration::from_secs(15));
    t.assert_done();

    // A server-requested wait past the deadline ends the retries with the server's error.
    let t = Scripted::new([status(503).header("retry-after", "30")]);
    let client = Client::new(config().deadline(Duration::from_secs(20)), t.clone());
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert_eq!(e.status().unwrap().as_u16(), 503);
    assert_eq!(e.attempts(), 1);
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn streams_are_not_retried_after_their_first_byte() {
    let t = Scripted::new([
        status(503),
        Reply::Fail(TransportErrorKind::Connect),
        Reply::sse(&[SSE_CHUNK])
            .header("x-ratelimit-remaining-tokens", "42")
            .header("x-request-id", "req_stream")
            .then_fail(TransportErrorKind::Io),
    ]);
    let client = Client::new(config(), t.clone());
    let mut stream = client
        .create_chat_completion_stream(&request())
        .await
        .unwrap();
    assert_eq!(stream.meta().attempts, 3);
    assert_eq!(stream.meta().rate_limit.remaining_tokens, Some(42));
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.choices[0].delta.content.as_deref(), Some("hi"));
    let e = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Transport(_)), "{e:?}");
    // The error of the stream counts the attempts it took to get it, and names the response.
    assert_eq!(e.attempts(), 3);
    assert_eq!(e.request_id(), Some("req_stream"));
    assert!(
        e.to_string()
            .ends_with("[request id req_stream] (after 3 attempts)"),
        "{e}"
    );
    assert!(stream.next().await.is_none());
    assert_eq!(t.requests().len(), 3, "no retry after the first byte");
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn stream_timeout_covers_the_first_byte_then_the_idle_timeout_applies() {
    let t = Scripted::new([
        Reply::Hang,
        Reply::sse(&[
            "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n",
        ])
        .header("x-request-id", "req_idle")
        .then_hang(),
    ]);
    let client = Client::new(
        config()
            .timeout(Duration::from_secs(10))
            .stream_idle_timeout(Duration::from_secs(30)),
        t.clone(),
    );
    let mut stream = client
        .create_chat_completion_stream(&request())
        .await
        .unwrap();
    assert_eq!(
        t.requests().len(),
        2,
        "the hanging head was timed out and retried"
    );
    assert!(stream.next().await.unwrap().is_ok());
    let before = tokio::time::Instant::now();
    let e = stream.next().await.unwrap().unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Timeout(to) if to.kind == TimeoutKind::Idle),
        "{e:?}"
    );
    assert_eq!(
        before.elapsed(),
        Duration::from_secs(30),
        "not the 10 s attempt timeout"
    );
    assert_eq!(e.request_id(), Some("req_idle"));
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn streams_are_retried_until_their_first_byte() {
    // The head arrived, then the body failed or stalled before its first byte: nothing was
    // handed out yet, so these attempts are retried.
    let t = Scripted::new([
        Reply::sse(&[]).then_fail(TransportErrorKind::Io),
        Reply::sse(&[""]).then_hang(),
        Reply::sse(&["", SSE_CHUNK, "data: [DONE]\n\n"]),
    ]);
    let client = Client::new(config().timeout(Duration::from_secs(10)), t.clone());
    let stream = client
        .create_chat_completion_stream(&request())
        .await
        .unwrap();
    assert_eq!(stream.meta().attempts, 3);
    assert_eq!(t.request(2).header("x-retry-count"), Some("2"));
    // The first chunk, read while deciding about retries, is not lost.
    let full = stream.final_response().await.unwrap();
    assert_eq!(full.first_content(), Some("hi"));
    t.assert_done();
    // The second attempt waited the 10 s timeout for its first byte.
    assert!(t.gaps()[1] >= Duration::from_secs(10), "{:?}", t.gaps());
}

#[tokio::test(start_paused = true)]
async fn an_empty_stream_body_is_not_retried_but_an_error() {
    let t = Scripted::new([Reply::sse(&[])]);
    let client = Client::new(config(), t.clone());
    let stream = client
        .create_chat_completion_stream(&request())
        .await
        .unwrap();
    let e = stream.final_response().await.unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Stream(chat_core::StreamError::Empty { .. })
        ),
        "{e:?}"
    );
    t.assert_done();
}

/// A token endpoint that never answers the call numbered `hangs_on` (from 0).
#[derive(Debug)]
struct StuckCredential {
    calls: std::sync::atomic::AtomicU32,
    hangs_on: u32,
}

impl StuckCredential {
    fn hanging_on(call: u32) -> Self {
        StuckCredential {
            calls: Default::default(),
            hangs_on: call,
        }
    }
}

#[chat_core::async_trait]
impl chat_core::CredentialProvider for StuckCredential {
    async fn credential(&self) -> Result<chat_core::Credential, chat_core::Error> {
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if call == self.hangs_on {
            std::future::pending().await
        } else {
            Ok(chat_core::Credential::bearer("token"))
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_attempt_timeout_covers_the_credential() {
    let t = Scripted::new([ok()]);
    let client = Client::new(
        config()
            .credential_provider(StuckCredential::hanging_on(0))
            .timeout(Duration::from_secs(5)),
        t.clone(),
    );
    let start = tokio::time::Instant::now();
    let response = client.create_chat_completion(&request()).await.unwrap();
    assert_eq!(response.meta().attempts, 2);
    assert!(
        is_backoff(start.elapsed() - Duration::from_secs(5), 0),
        "{:?}",
        start.elapsed()
    );
    t.assert_done();
}

#[tokio::test(start_paused = true)]
async fn the_deadline_also_bounds_credential_providers() {
    let t = Scripted::new([status(500)]);
    let client = Client::new(
        config()
            .credential_provider(StuckCredential::hanging_on(1))
            .deadline(Duration::from_secs(20)),
        t.clone(),
    );
    let start = tokio::time::Instant::now();
    let e = client.create_chat_completion(&request()).await.unwrap_err();
    assert_deadline(&e, 20);
    assert_eq!(start.elapsed(), Duration::from_secs(20));
    assert_eq!(
        e.attempts(),
        2,
        "the second attempt was waiting for its credential"
    );
    assert_eq!(t.requests().len(), 1);
    t.assert_done();
}
