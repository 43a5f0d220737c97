//! The client-side rate-limit pacer ([`Config::pace_rate_limits`](crate::Config::pace_rate_limits)).
//!
//! Every response's `x-ratelimit-remaining-*` and `x-ratelimit-reset-*` headers say how many
//! requests and tokens are left and when the window resets. Once the server said none are left,
//! new requests wait here until the reset instead of going out to be answered 429. Between
//! answers, each request sent takes one off the remaining requests, so a burst of concurrent
//! requests stops at the limit too.

use std::sync::{Arc, Mutex};

use http::HeaderMap;
use tokio::time::Instant;

use crate::meta::RateLimitInfo;

/// Shared by every clone of a client (and by clients built from clones of one `Config`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Pacer {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    requests: Window,
    tokens: Window,
}

/// What the server last said about one limit.
#[derive(Debug, Default)]
struct Window {
    remaining: Option<u64>,
    reset_at: Option<Instant>,
}

impl Window {
    fn set(&mut self, remaining: Option<u64>, reset: Option<std::time::Duration>, now: Instant) {
        if let Some(remaining) = remaining {
            self.remaining = Some(remaining);
            self.reset_at = reset.and_then(|d| now.checked_add(d));
        }
    }

    /// Forgets a window whose reset has passed: the limit is whole again.
    fn expire(&mut self, now: Instant) {
        if self.reset_at.is_some_and(|at| at <= now) {
            *self = Window::default();
        }
    }

    /// When a request may go, if it must wait: none left, with a known reset.
    fn exhausted_until(&self) -> Option<Instant> {
        (self.remaining == Some(0))
            .then_some(self.reset_at)
            .flatten()
    }
}

impl Pacer {
    /// Waits until the last rate-limit headers allow another request. Fails with the
    /// deadline's [`Timeout`] when the call's earliest `deadline` comes first.
    pub(crate) async fn ready(
        &self,
        deadline: Option<(Instant, crate::error::Timeout)>,
    ) -> Result<(), crate::error::Timeout> {
        loop {
            let wait = {
                let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                s.requests.expire(now);
                s.tokens.expire(now);
                match s.requests.exhausted_until().or(s.tokens.exhausted_until()) {
                    Some(at) => at,
                    None => {
                        if let Some(left) = s.requests.remaining.as_mut() {
                            *left = left.saturating_sub(1);
                        }
                        return Ok(());
                    }
                }
            };
            match &deadline {
                Some((at, timeout)) if *at <= wait => {
                    tokio::time::sleep_until(*at).await;
                    return Err(timeout.clone());
                }
                _ => tokio::time::sleep_until(wait).await,
            }
        }
    }

    /// Takes in the rate-limit headers of a response.
    pub(crate) fn observe(&self, headers: &HeaderMap) {
        let rl = RateLimitInfo::from_headers(headers);
        if rl.remaining_requests.is_none() && rl.remaining_tokens.is_none() {
            return;
        }
        let now = Instant::now();
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.requests
            .set(rl.remaining_requests, rl.reset_requests, now);
        s.tokens.set(rl.remaining_tokens, rl.reset_tokens, now);
    }
}
