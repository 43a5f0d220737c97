//! When to retry and how long to wait, following the official SDKs.
//!
//! - Retried: connection failures, transport and per-attempt timeouts, 408, 409, 429 (except
//!   `insufficient_quota`) and 5xx; an `x-should-retry: true|false` header overrides the status
//!   rules ([`Error::is_retryable`]).
//! - The wait is the server's `retry-after-ms` (milliseconds), else `retry-after` (seconds, or
//!   an HTTP date), when it is more than 0 and at most 60 seconds; otherwise exponential
//!   backoff `min(0.5 s * 2^n, 8 s)` for the n-th retry (from 0), scaled by a random factor in
//!   (0.75, 1].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::{Error, ErrorKind};

/// The longest server-requested wait that is honoured; longer ones fall back to backoff.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const INITIAL_BACKOFF_SECS: f64 = 0.5;
const MAX_BACKOFF_SECS: f64 = 8.0;

/// The wait the server asked for in `retry-after-ms` or `retry-after`, if any and readable.
///
/// Not clamped: the caller decides whether it is acceptable.
pub(crate) fn server_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    // A date in the past is a zero wait, which falls back to backoff.
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The wait before retry number `retry` (0 for the first retry) after `error`.
///
/// `paced`: the rate-limit pacer will hold the next attempt until a known reset, so a 429
/// without `Retry-After` needs no backoff of its own.
pub(crate) fn retry_delay(
    error: &Error,
    retry: u32,
    jitter: Option<&Jitter>,
    paced: bool,
    now: SystemTime,
) -> Duration {
    if let ErrorKind::Api(api) = error.kind() {
        if let Some(d) = server_retry_after(&api.headers, now) {
            if !d.is_zero() && d <= MAX_RETRY_AFTER {
                return d;
            }
        } else if paced && api.status == http::StatusCode::TOO_MANY_REQUESTS {
            return Duration::ZERO;
        }
    }
    backoff(retry, jitter.map_or(0.0, Jitter::next_f64))
}

/// Exponential backoff for retry number `retry` with `random` in [0, 1).
pub(crate) fn backoff(retry: u32, random: f64) -> Duration {
    let base = (INITIAL_BACKOFF_SECS * 2f64.powi(retry.min(30) as i32)).min(MAX_BACKOFF_SECS);
    let factor = 1.0 - 0.25 * random.clamp(0.0, 1.0);
    Duration::from_secs_f64(base * factor)
}

/// A tiny thread-safe pseudo-random generator (SplitMix64) for backoff jitter.
///
/// Jitter only spreads retries of many clients apart; it needs no cryptographic quality, so
/// the crate does without a `rand` dependency.
#[derive(Debug)]
pub(crate) struct Jitter(AtomicU64);

impl Jitter {
    /// A generator seeded from the clock and the generator's address.
    pub(crate) fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let j = Jitter(AtomicU64::new(0));
        let addr = &j as *const Jitter as usize as u64;
        j.0.store(nanos ^ addr.rotate_left(32), Ordering::Relaxed);
        j
    }

    /// The next number in [0, 1).
    pub(crate) fn next_f64(&self) -> f64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.insert(*n, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_headers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ms = Duration::from_millis;
        assert_eq!(
            server_retry_after(&headers(&[("retry-after-ms", "1500")]), now),
            Some(ms(1500))
        );
        // retry-after-ms wins over retry-after.
        assert_eq!(
            server_retry_after(
                &headers(&[("retry-after-ms", "10"), ("retry-after", "5")]),
                now
            ),
            Some(ms(10))
        );
        assert_eq!(
            server_retry_after(&headers(&[("retry-after", "2.5")]), now),
            Some(ms(2500))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            server_retry_after(&headers(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(
            server_retry_after(&headers(&[("retry-after", &past)]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            server_retry_after(&headers(&[("retry-after", "soon")]), now),
            None
        );
        assert_eq!(
            server_retry_after(&headers(&[("retry-after", "-3")]), now),
            None
        );
    }

    #[test]
    fn backoff_doubles_up_to_eight_seconds_with_jitter() {
        let s = Duration::from_secs_f64;
        assert_eq!(backoff(0, 0.0), s(0.5));
        assert_eq!(backoff(1, 0.0), s(1.0));
        assert_eq!(backoff(3, 0.0), s(4.0));
        assert_eq!(backoff(4, 0.0), s(8.0));
        assert_eq!(backoff(100, 0.0), s(8.0));
        assert_eq!(backoff(0, 0.999_999), s(0.5 * (1.0 - 0.25 * 0.999_999)));
        let j = Jitter::new();
        for _ in 0..1000 {
            let x = j.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
