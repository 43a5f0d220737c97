//! The rate-limit pacer (`Config::pace_rate_limits`), on a paused clock: requests wait for the
//! reset once the server said nothing is left, clones share what it said, and with the pacer
//! off (or limits left) nothing waits.

mod client_support;

use std::time::Duration;

use chat_core::{Client, ErrorKind, TimeoutKind};
use client_support::{completion, config, request, Reply, Scripted};

/// A reply with `remaining` requests left, resetting in `reset`.
fn limited(remaining: u32, reset: &str) -> Reply {
    Reply::json(200, &completion("c"))
        .header("x-ratelimit-remaining-requests", &remaining.to_string())
        .header("x-ratelimit-reset-requests", reset)
}

fn ok() -> Reply {
    Reply::json(200, &completion("c"))
}

async fn send(client: &Client) {
    client.create_chat_completion(&request()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn no_requests_left_waits_for_the_reset() {
    let t = Scripted::new([limited(0, "2s"), ok(), ok()]);
    let client = Client::new(config().pace_rate_limits(true), t.clone());

    send(&client).await;
    send(&client).await;
    send(&client).await;

    t.assert_done();
    assert_eq!(t.gaps(), [Duration::from_secs(2), Duration::ZERO]);
}

#[tokio::test(start_paused = true)]
async fn no_tokens_left_waits_for_the_token_reset() {
    let t = Scripted::new([
        Reply::json(200, &completion("c"))
            .header("x-ratelimit-remaining-requests", "50")
            .header("x-ratelimit-remaining-tokens", "0")
            .header("x-ratelimit-reset-tokens", "1.5s"),
        ok(),
    ]);
    let client = Client::new(config().pace_rate_limits(true), t.clone());

    send(&client).await;
    send(&client).await;

    assert_eq!(t.gaps(), [Duration::from_millis(1500)]);
}

#[tokio::test(start_paused = true)]
async fn clones_share_the_limits() {
    let t = Scripted::new([limited(0, "3s"), ok()]);
    let client = Client::new(config().pace_rate_limits(true), t.clone());
    let clone = client.clone();

    send(&client).await;
    send(&clone).await;

    assert_eq!(t.gaps(), [Duration::from_secs(3)]);
}

#[tokio::test(start_paused = true)]
async fn requests_sent_count_against_the_requests_left() {
    // One request left: the next goes at once, the one after it waits for the reset.
    let t = Scripted::new([limited(1, "5s"), ok(), ok()]);
    let client = Client::new(config().pace_rate_limits(true), t.clone());

    send(&client).await;
    send(&client).await;
    send(&client).await;

    assert_eq!(t.gaps(), [Duration::ZERO, Duration::from_secs(5)]);
}

#[tokio::test(start_paused = true)]
async fn concurrent_requests_stop_at_the_limit() {
    let t = Scripted::new([limited(2, "4s"), ok(), ok(), ok()]);
    let client = Client::new(config().pace_rate_limits(true), t.clone());
    send(&client).await;
    let start = tokio::time::Instant::now();

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let client = client.clone();
        tasks.spawn(async move { send(&client).await });
    }
    tasks.join_all().await;

    let waited: Vec<Duration> = t.requests()[1..].iter().map(|r| r.at - start).collect();
    assert_eq!(
        waited.iter().filter(|d| d.is_zero()).count(),
        2,
        "{waited:?}"
    );
    assert_eq!(
        waited
            .iter()
            .filter(|d| **d == Duration::from_secs(4))
            .count(),
        1,
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn without_the_pacer_nothing_waits() {
    let t = Scripted::new([limited(0, "60s"), ok()]);
    let client = Client::new(config(), t.clone());

    send(&client).await;
    send(&client).await;

    assert_eq!(t.gaps(), [Duration::ZERO]);
}

#[tokio::test(start_paused = true)]
async fn limits_left_or_no_headers_never_wait() {
    let t = Scripted::new([limited(100, "60s"), ok(), ok(), ok()]);
    let client = Client::new(config().pace_rate_limits(true), t.clone());

    for _ in 0..4 {
        send(&client).await;
    }

    assert_eq!(t.gaps(), [Duration::ZERO; 3]);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_bounds_the_wait() {
    let t = Scripted::new([limited(0, "60s")]);
    let config = config()
        .pace_rate_limits(true)
        .deadline(Duration::from_secs(2));
    let client = Client::new(config, t.clone());
    send(&client).await;

    let err = client.create_chat_completion(&request()).await.unwrap_err();

    assert!(
        matches!(err.kind(), ErrorKind::Timeout(to) if to.kind == TimeoutKind::Deadline),
        "{err:?}"
    );
    assert_eq!(t.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_answer_paces_the_retry_too() {
    // A 429 saying the window resets in 10 s, with a retry-after of 1 s: the retry waits for
    // the reset the headers name.
    let t = Scripted::new([
        Reply::json(
            429,
            r#"{"error":{"message":"slow down","type":"requests"}}"#,
        )
        .header("retry-after", "1")
        .header("x-ratelimit-remaining-requests", "0")
        .header("x-ratelimit-reset-requests", "10s"),
        ok(),
    ]);
    let client = Client::new(config().pace_rate_limits(true), t.clone());

    send(&client).await;

    assert_eq!(t.gaps(), [Duration::from_secs(10)]);
}

#[tokio::test(start_paused = true)]
async fn a_429_without_retry_after_waits_for_the_reset_not_a_backoff() {
    // The window resets in 20 ms: the retry goes then, not after the 0.5 s first backoff.
    let t = Scripted::new([
        Reply::json(
            429,
            r#"{"error":{"message":"slow down","type":"requests"}}"#,
        )
        .header("x-ratelimit-limit-requests", "10")
        .header("x-ratelimit-remaining-requests", "0")
        .header("x-ratelimit-reset-requests", "20ms"),
        ok(),
    ]);
    let client = Client::new(config().pace_rate_limits(true), t.clone());

    send(&client).await;

    assert_eq!(t.gaps(), [Duration::from_millis(20)]);

    // Without the pacer the same answer backs off as usual.
    let t = Scripted::new([
        Reply::json(
            429,
            r#"{"error":{"message":"slow down","type":"requests"}}"#,
        )
        .header("x-ratelimit-remaining-requests", "0")
        .header("x-ratelimit-reset-requests", "20ms"),
        ok(),
    ]);
    let client = Client::new(config(), t.clone());
    send(&client).await;
    assert!(t.gaps()[0] >= Duration::from_millis(300), "{:?}", t.gaps());
}

#[tokio::test(start_paused = true)]
async fn answers_count_the_requests_still_in_flight() {
    // Five requests go at once; the first answer (at 1 ms) says 4 are left, but the 4 others
    // still in flight were not counted in it, so a sixth request waits for the reset.
    let slow = || ok().after(Duration::from_millis(10));
    let t = Scripted::new([
        limited(4, "3s").after(Duration::from_millis(1)),
        slow(),
        slow(),
        slow(),
        slow(),
        ok(),
    ]);
    let client = Client::new(config().pace_rate_limits(true), t.clone());
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let client = client.clone();
        tasks.spawn(async move { send(&client).await });
    }
    tokio::time::sleep(Duration::from_millis(2)).await;
    send(&client).await;
    tasks.join_all().await;

    let sixth = t.requests().iter().map(|r| r.at - start).max().unwrap();
    assert_eq!(sixth, Duration::from_millis(3001));
}
