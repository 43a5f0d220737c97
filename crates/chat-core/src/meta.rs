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
                .and_then(|v| v.parse::<f64>().ok())
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
            let Some(value) = value_str(value) else {
                continue;
            };
            let num = || value.parse::<u64>().ok();
            // The first readable value of a repeated header counts.
            match name {
                REQUEST_ID_HEADER => {
                    known.request_id.get_or_insert(value);
                }
                "openai-processing-ms" => {
                    known.processing_ms.get_or_insert(value);
                }
                _ => match name.strip_prefix("x-ratelimit-") {
                    Some("limit-requests") if rl.limit_requests.is_none() => {
                        rl.limit_requests = num();
                    }
                    Some("remaining-requests") if rl.remaining_requests.is_none() => {
                        rl.remaining_requests = num();
                    }
                    Some("reset-requests") if rl.reset_requests.is_none() => {
                        rl.reset_requests = parse_duration(value);
                    }
                    Some("limit-tokens") if rl.limit_tokens.is_none() => {
                        rl.limit_tokens = num();
                    }
                    Some("remaining-tokens") if rl.remaining_tokens.is_none() => {
                        rl.remaining_tokens = num();
                    }
                    Some("reset-tokens") if rl.reset_tokens.is_none() => {
                        rl.reset_tokens = parse_duration(value);
                    }
                    _ => {}
                },
            }
        }
        known
    }
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
