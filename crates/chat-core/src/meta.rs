//! What a response says besides its body: status, headers, request id, rate limits.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use http::{HeaderMap, HeaderName, StatusCode};

/// The name of the header carrying the id of a request, for support tickets.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A decoded response body with the [`ResponseMeta`] of the response.
///
/// It dereferences to the body, so `response.choices` works directly.
#[derive(Debug, Clone)]
pub struct Response<T> {
    data: T,
    meta: ResponseMeta,
}

impl<T> Response<T> {
    /// A response of `data` with `meta`.
    pub fn new(data: T, meta: ResponseMeta) -> Self {
        Response { data, meta }
    }

    /// The status, headers, request id and rate limits.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// The `x-request-id` header.
    pub fn request_id(&self) -> Option<&str> {
        self.meta.request_id.as_deref()
    }

    /// The decoded body.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The decoded body, by value.
    pub fn into_inner(self) -> T {
        self.data
    }

    /// The body and the metadata.
    pub fn into_parts(self) -> (T, ResponseMeta) {
        (self.data, self.meta)
    }

    /// Transforms the body, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            data: f(self.data),
            meta: self.meta,
        }
    }
}

impl<T> Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> DerefMut for Response<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

/// The metadata of a response: of a decoded [`Response`], and of a streamed one
/// ([`ChatCompletionStream::meta`](crate::ChatCompletionStream::meta)).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The `x-request-id` header.
    pub request_id: Option<String>,
    /// The `x-ratelimit-*` headers.
    pub rate_limit: RateLimitInfo,
    /// The `openai-processing-ms` header: how long the server worked on the request.
    pub processing_time: Option<Duration>,
    /// How many attempts the client made (1 without retries).
    pub attempts: u32,
}

impl ResponseMeta {
    /// The metadata of a response with `status` and `headers`, after one attempt.
    pub fn new(status: StatusCode, headers: HeaderMap) -> Self {
        Self::from_head(status, headers, 1)
    }

    /// Reads the metadata from a response head, after `attempts` attempts.
    pub fn from_head(status: StatusCode, headers: HeaderMap, attempts: u32) -> Self {
        let known = KnownHeaders::scan(&headers);
        ResponseMeta {
            status,
            request_id: known.request_id.map(str::to_owned),
            rate_limit: known.rate_limit,
            processing_time: known
                .processing_ms
                .and_then(number)
                .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok()),
            headers,
            attempts,
        }
    }
}

/// The headers [`ResponseMeta`] reads, found in one pass over a response's headers: cheaper
/// than a hashed lookup per name, as a response has few headers and most are not these.
#[derive(Default)]
struct KnownHeaders<'a> {
    request_id: Option<&'a str>,
    processing_ms: Option<&'a str>,
    rate_limit: RateLimitInfo,
}

impl<'a> KnownHeaders<'a> {
    fn scan(headers: &'a HeaderMap) -> Self {
        let mut known = KnownHeaders::default();
        let rl = &mut known.rate_limit;
        for (name, value) in headers {
            let name = name.as_str();
            // Header names are lowercase; every name read here starts with `x` or `o`.
            if !matches!(name.as_bytes().first(), Some(b'x' | b'o')) {
                continue;
            }
            // The first readable value of a repeated header counts (for numbers and
            // durations: the first that parses). Values are read only for known names.
            match name {
                REQUEST_ID_HEADER => {
                    if known.request_id.is_none() {
                        known.request_id = value_str(value);
                    }
                }
                "openai-processing-ms" => {
                    if known.processing_ms.is_none() {
                        known.processing_ms = value_str(value);
                    }
                }
                _ => match name.strip_prefix("x-ratelimit-") {
                    Some("limit-requests") if rl.limit_requests.is_none() => {
                        rl.limit_requests = header_u64(value);
                    }
                    Some("remaining-requests") if rl.remaining_requests.is_none() => {
                        rl.remaining_requests = header_u64(value);
                    }
                    Some("reset-requests") if rl.reset_requests.is_none() => {
                        rl.reset_requests = value_str(value).and_then(parse_duration);
                    }
                    Some("limit-tokens") if rl.limit_tokens.is_none() => {
                        rl.limit_tokens = header_u64(value);
                    }
                    Some("remaining-tokens") if rl.remaining_tokens.is_none() => {
                        rl.remaining_tokens = header_u64(value);
                    }
                    Some("reset-tokens") if rl.reset_tokens.is_none() => {
                        rl.reset_tokens = value_str(value).and_then(parse_duration);
                    }
                    _ => {}
                },
            }
        }
        known
    }
}

/// A header value as a number: what `str::parse::<u64>` makes of its trimmed text, without
/// the intermediate string checks.
fn header_u64(value: &http::HeaderValue) -> Option<u64> {
    // A header value holds no control bytes but tab, so ASCII trimming is `str::trim`.
    let text = value.as_bytes().trim_ascii();
    let digits = text.strip_prefix(b"+").unwrap_or(text);
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// `s` as an `f64`: whole numbers of up to 15 digits are converted directly (exactly, so the
/// same value `str::parse` gives), anything else is parsed.
fn number(s: &str) -> Option<f64> {
    if !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_digit()) {
        let n = s.bytes().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        // Below 2^53: exact.
        return Some(n as f64);
    }
    s.parse().ok()
}

impl Default for ResponseMeta {
    /// Status 200, no headers, one attempt.
    fn default() -> Self {
        Self::new(StatusCode::OK, HeaderMap::new())
    }
}

/// [`REQUEST_ID_HEADER`] as a header name: looking it up skips parsing the name.
pub(crate) static REQUEST_ID: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);

/// The `x-request-id` header of `headers`.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    header_str(headers, &REQUEST_ID).map(str::to_owned)
}

fn header_str(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> Option<&str> {
    value_str(headers.get(name)?)
}

/// A header value as trimmed, non-empty text.
fn value_str(value: &http::HeaderValue) -> Option<&str> {
    value.to_str().ok().map(str::trim).filter(|s| !s.is_empty())
}

/// The rate limits the server reported in its `x-ratelimit-*` headers.
///
/// Every field is `None` when its header is missing or unreadable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitInfo {
    /// `x-ratelimit-limit-requests`: requests allowed per window.
    pub limit_requests: Option<u64>,
    /// `x-ratelimit-remaining-requests`: requests left in the window.
    pub remaining_requests: Option<u64>,
    /// `x-ratelimit-reset-requests`: time until the request limit resets.
    pub reset_requests: Option<Duration>,
    /// `x-ratelimit-limit-tokens`: tokens allowed per window.
    pub limit_tokens: Option<u64>,
    /// `x-ratelimit-remaining-tokens`: tokens left in the window.
    pub remaining_tokens: Option<u64>,
    /// `x-ratelimit-reset-tokens`: time until the token limit resets.
    pub reset_tokens: Option<Duration>,
}

impl RateLimitInfo {
    /// Reads the `x-ratelimit-*` headers.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        KnownHeaders::scan(headers).rate_limit
    }

    /// Whether no rate-limit header was present.
    pub fn is_empty(&self) -> bool {
        *self == RateLimitInfo::default()
    }
}

/// Parses a duration as the API writes them: `6m0s`, `1s`, `20ms`, `1h2m3.5s`, `250us`; a bare
/// number counts as seconds. `None` for anything else.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // No number `f64` reads ends in a unit's letter: skip trying those as one.
    if !s.ends_with(['s', 'm', 'h']) {
        if let Ok(secs) = s.parse::<f64>() {
            return Duration::try_from_secs_f64(secs).ok();
        }
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let value = number(&rest[..num_len])?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" | "μs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_read_in_one_pass() {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("content-type", "application/json"),
            ("x-request-id", " req_1 "),
            ("x-request-id", "req_2"),
            ("openai-processing-ms", "250.5"),
            ("x-ratelimit-limit-requests", "500"),
            ("x-ratelimit-remaining-requests", "499"),
            ("x-ratelimit-reset-requests", "120ms"),
            ("x-ratelimit-limit-tokens", "not a number"),
            ("x-ratelimit-remaining-tokens", ""),
            ("x-ratelimit-reset-tokens", "6m0s"),
            ("x-ratelimit-unknown", "1"),
            ("openai-version", "2020-10-01"),
        ] {
            h.append(HeaderName::from_static(name), value.parse().unwrap());
        }
        let meta = ResponseMeta::from_head(StatusCode::OK, h.clone(), 2);
        assert_eq!(meta.request_id.as_deref(), Some("req_1"));
        assert_eq!(meta.processing_time, Some(Duration::from_micros(250_500)));
        assert_eq!(meta.attempts, 2);
        assert_eq!(meta.headers, h);
        let want = RateLimitInfo {
            limit_requests: Some(500),
            remaining_requests: Some(499),
            reset_requests: Some(Duration::from_millis(120)),
            limit_tokens: None,
            remaining_tokens: None,
            reset_tokens: Some(Duration::from_secs(360)),
        };
        assert_eq!(meta.rate_limit, want);
        assert_eq!(RateLimitInfo::from_headers(&h), want);

        let empty = ResponseMeta::new(StatusCode::OK, HeaderMap::new());
        assert_eq!(empty.request_id, None);
        assert_eq!(empty.processing_time, None);
        assert!(empty.rate_limit.is_empty());
    }

    /// The parsing before the fast paths, kept to check they change no result.
    fn reference_duration(s: &str) -> Option<Duration> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if let Ok(secs) = s.parse::<f64>() {
            return Duration::try_from_secs_f64(secs).ok();
        }
        let mut total = 0f64;
        let mut rest = s;
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if num_len == 0 {
                return None;
            }
            let value: f64 = rest[..num_len].parse().ok()?;
            rest = &rest[num_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let seconds_per_unit = match &rest[..unit_len] {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 1e-3,
                "us" | "µs" | "μs" => 1e-6,
                "ns" => 1e-9,
                _ => return None,
            };
            rest = &rest[unit_len..];
            total += value * seconds_per_unit;
        }
        Duration::try_from_secs_f64(total).ok()
    }

    /// Numbers, durations and processing times read as before the fast paths, for every
    /// whole number below 20,000 in every unit and for random strings of number-ish text.
    #[test]
    fn fast_paths_read_what_the_parsers_read() {
        let processing = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("openai-processing-ms", v.parse().unwrap());
            ResponseMeta::new(StatusCode::OK, h).processing_time
        };
        let reference_processing = |v: &str| {
            v.trim()
                .parse::<f64>()
                .ok()
                .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok())
        };
        let number = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("x-ratelimit-limit-tokens", v.parse().unwrap());
            RateLimitInfo::from_headers(&h).limit_tokens
        };
        let mut inputs: Vec<String> = Vec::new();
        for n in (0..20_000u64).chain([u64::MAX, 9_007_199_254_740_993]) {
            for unit in [
                "", "s", "m", "h", "ms", "us", "µs", "ns", "m0s", "h1m", ".5s", "x",
            ] {
                inputs.push(format!("{n}{unit}"));
            }
        }
        inputs.extend(
            [
                "18446744073709551616",
                "+7",
                "+",
                "-1",
                " 12 ",
                "1e3",
                "inf",
                "NaN",
            ]
            .map(String::from),
        );
        let alphabet: Vec<char> = "0123456789.smhunµ+-e ".chars().collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..30_000 {
            let mut s = String::new();
            for _ in 0..(seed % 9) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            inputs.push(s);
        }
        for s in &inputs {
            assert_eq!(parse_duration(s), reference_duration(s), "{s:?}");
            let readable = !s.trim().is_empty();
            let want = if readable {
                reference_processing(s)
            } else {
                None
            };
            assert_eq!(processing(s), want, "{s:?}");
            let want = if readable {
                s.trim().parse::<u64>().ok()
            } else {
                None
            };
            assert_eq!(number(s), want, "{s:?}");
        }
    }

    #[test]
    fn unreadable_or_unparsable_values_give_way_to_later_ones() {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("x-request-id", &b"\xffreq"[..]),
            ("x-request-id", b"req_2"),
            ("x-ratelimit-limit-requests", b"lots"),
            ("x-ratelimit-limit-requests", b"+42"),
            ("x-ratelimit-reset-tokens", b"soon"),
            ("x-ratelimit-reset-tokens", b"1m"),
            ("openai-processing-ms", b"slow"),
            ("openai-processing-ms", b"5"),
        ] {
            h.append(name, http::HeaderValue::from_bytes(value).unwrap());
        }
        let meta = ResponseMeta::new(StatusCode::OK, h);
        assert_eq!(meta.request_id.as_deref(), Some("req_2"));
        assert_eq!(meta.rate_limit.limit_requests, Some(42));
        assert_eq!(meta.rate_limit.reset_tokens, Some(Duration::from_secs(60)));
        // The first readable processing time counts, even when it is no number.
        assert_eq!(meta.processing_time, None);
    }

    #[test]
    fn durations() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("6m0s"), Some(ms(360_000)));
        assert_eq!(parse_duration("1s"), Some(ms(1000)));
        assert_eq!(parse_duration("20ms"), Some(ms(20)));
        assert_eq!(parse_duration("1h2m3.5s"), Some(ms(3_723_500)));
        assert_eq!(parse_duration("0.5"), Some(ms(500)));
        assert_eq!(parse_duration("250us"), Some(Duration::from_micros(250)));
        for bad in ["", "s", "5x", "1.2.3s", "-1s", "m5"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
