//! The client-side rate-limit pacer ([`Config::pace_rate_limits`](crate::Config::pace_rate_limits)).
//!
//! Every response's `x-ratelimit-limit-*`, `x-ratelimit-remaining-*` and `x-ratelimit-reset-*`
//! headers say how many requests and tokens the window allows, how many are left and when it
//! resets. The pacer keeps that picture up to date between answers:
//! - each request sent takes one off the requests left, and the requests still in flight when an
//!   answer arrives are taken off what it says is left (the server had not counted them yet);
//! - once none are left, new requests wait for the reset instead of going out to be answered 429;
//! - when the reset passes, the window is whole again only up to its limit, less the requests in
//!   flight, so the requests that waited do not all go at once; the next reset is expected one
//!   window later (the longest reset the server named) until an answer says otherwise.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

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
    /// Requests let through whose attempt has not ended yet.
    in_flight: u64,
}

/// What the server last said about one limit.
#[derive(Debug, Default)]
struct Window {
    limit: Option<u64>,
    remaining: Option<u64>,
    reset_at: Option<Instant>,
    /// The longest time to a reset the server named: the window's length, as far as known.
    period: Option<Duration>,
}

impl Window {
    fn set(
        &mut self,
        limit: Option<u64>,
        remaining: Option<u64>,
        reset: Option<Duration>,
        now: Instant,
    ) {
        if limit.is_some() {
            self.limit = limit;
        }
        if let Some(remaining) = remaining {
            self.remaining = Some(remaining);
            self.reset_at = reset.and_then(|d| now.checked_add(d));
        }
        if let Some(d) = reset.filter(|d| !d.is_zero()) {
            self.period = Some(self.period.map_or(d, |p| p.max(d)));
        }
    }

    /// A window whose reset has passed is whole again: its limit, less `in_flight` requests
    /// that may land in it (unknown without a limit), until the reset one period later.
    fn expire(&mut self, now: Instant, in_flight: u64) {
        let Some(at) = self.reset_at.filter(|at| *at <= now) else {
            return;
        };
        self.remaining = self.limit.map(|l| l.saturating_sub(in_flight));
        self.reset_at = match (self.remaining, self.period) {
            (Some(_), Some(period)) => {
                // Whole periods after the reset that passed, so a late look does not drift.
                let periods = (now - at).as_nanos() / period.as_nanos() + 1;
                u32::try_from(periods)
                    .ok()
                    .and_then(|n| period.checked_mul(n))
                    .and_then(|d| at.checked_add(d))
            }
            _ => None,
        };
    }

    /// When a request may go, if it must wait: none left, with a known reset.
    fn exhausted_until(&self) -> Option<Instant> {
        (self.remaining == Some(0))
            .then_some(self.reset_at)
            .flatten()
    }
}

/// A request let through by the pacer; it counts as in flight until dropped.
#[derive(Debug)]
pub(crate) struct Permit {
    state: Arc<Mutex<State>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = lock(&self.state);
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    fn expire(&mut self, now: Instant) {
        let in_flight = self.in_flight;
        self.requests.expire(now, in_flight);
        self.tokens.expire(now, 0);
    }

    /// When a request must wait: the earliest known reset of a limit with none left.
    fn exhausted_until(&self) -> Option<Instant> {
        self.requests
            .exhausted_until()
            .or(self.tokens.exhausted_until())
    }
}

impl Pacer {
    /// Waits until the last rate-limit headers allow another request, and counts it in
    /// flight until the permit is dropped. Fails with the deadline's [`Timeout`] when the
    /// call's earliest `deadline` comes first.
    ///
    /// [`Timeout`]: crate::error::Timeout
    pub(crate) async fn ready(
        &self,
        deadline: Option<(Instant, crate::error::Timeout)>,
    ) -> Result<Permit, crate::error::Timeout> {
        loop {
            let wait = {
                let mut s = lock(&self.state);
                s.expire(Instant::now());
                match s.exhausted_until() {
                    Some(at) => at,
                    None => {
                        if let Some(left) = s.requests.remaining.as_mut() {
                            *left = left.saturating_sub(1);
                        }
                        s.in_flight += 1;
                        return Ok(Permit {
                            state: self.state.clone(),
                        });
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

    /// Whether a request now would wait for a known reset: an answer 429 need not back off
    /// on its own then, the pacer holds its retry until the reset.
    pub(crate) fn waits_for_reset(&self) -> bool {
        let mut s = lock(&self.state);
        s.expire(Instant::now());
        s.exhausted_until().is_some()
    }

    /// Takes in the rate-limit headers of an answer to a request that is still counted in
    /// flight (its permit is alive).
    pub(crate) fn observe(&self, headers: &HeaderMap) {
        let rl = RateLimitInfo::from_headers(headers);
        if rl.remaining_requests.is_none() && rl.remaining_tokens.is_none() {
            return;
        }
        let now = Instant::now();
        let mut s = lock(&self.state);
        // The other requests in flight were sent after the server counted this one, or it
        // counted them already: either way at most what it says is left remains for them.
        let others = s.in_flight.saturating_sub(1);
        s.requests.set(
            rl.limit_requests,
            rl.remaining_requests.map(|r| r.saturating_sub(others)),
            rl.reset_requests,
            now,
        );
        s.tokens
            .set(rl.limit_tokens, rl.remaining_tokens, rl.reset_tokens, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(limit: u64, remaining: u64, reset: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit-requests", limit.into());
        h.insert("x-ratelimit-remaining-requests", remaining.into());
        h.insert("x-ratelimit-reset-requests", reset.parse().unwrap());
        h
    }

    #[tokio::test(start_paused = true)]
    async fn requests_in_flight_are_taken_off_what_is_left() {
        let pacer = Pacer::default();
        let permits: Vec<Permit> = {
            let mut v = Vec::new();
            for _ in 0..5 {
                v.push(pacer.ready(None).await.unwrap());
            }
            v
        };
        // The first answer says 5 are left; 4 others are still in flight.
        pacer.observe(&headers(10, 5, "1s"));
        let s = lock(&pacer.state);
        assert_eq!(s.in_flight, 5);
        assert_eq!(s.requests.remaining, Some(1));
        drop(s);
        drop(permits);
        assert_eq!(lock(&pacer.state).in_flight, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_reset_only_the_limit_goes_until_the_next_one() {
        let pacer = Pacer::default();
        let first = pacer.ready(None).await.unwrap();
        pacer.observe(&headers(3, 0, "1s"));
        drop(first);
        let start = Instant::now();
        // Three go at the reset (none in flight), the fourth one period later.
        let mut permits = Vec::new();
        for _ in 0..3 {
            permits.push(pacer.ready(None).await.unwrap());
        }
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        // One of them still in flight at the next reset: two go then.
        drop(permits.drain(..2));
        let mut next = Vec::new();
        for _ in 0..2 {
            next.push(pacer.ready(None).await.unwrap());
        }
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        let third = pacer.ready(Some((
            start + Duration::from_millis(2500),
            crate::error::Timeout {
                kind: crate::error::TimeoutKind::Request,
                after: Duration::from_millis(500),
            },
        )));
        assert!(third.await.is_err(), "a third went in the same window");
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_look_keeps_the_resets_on_their_period() {
        let mut w = Window::default();
        let now = Instant::now();
        w.set(Some(5), Some(0), Some(Duration::from_secs(1)), now);
        w.expire(now + Duration::from_millis(3500), 0);
        assert_eq!(w.remaining, Some(5));
        assert_eq!(w.reset_at, Some(now + Duration::from_secs(4)));
    }
}
