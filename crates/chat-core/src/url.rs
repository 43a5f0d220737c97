//! URL building: percent-encoded path segments and query strings.

use std::borrow::Cow;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything except the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Encodes one path segment, such as a completion id a user passed in.
///
/// `.` and `..` are encoded too, so an id can never walk up the path.
pub(crate) fn encode_segment(segment: &str) -> String {
    match segment {
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        s => utf8_percent_encode(s, COMPONENT).to_string(),
    }
}

/// Appends `name=value` pairs to `url` (which may already have a query).
pub(crate) fn append_query<'a>(
    url: &mut String,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (name, value) in pairs {
        url.push(sep);
        sep = '&';
        url.extend(utf8_percent_encode(name, COMPONENT));
        url.push('=');
        url.extend(utf8_percent_encode(value, COMPONENT));
    }
}

/// What replaces a secret in `Debug` output and error messages.
pub(crate) const REDACTED: &str = "[redacted]";

/// Parts of header and query parameter names that mark a secret (compared in lowercase).
const SECRET_NAME_PARTS: [&str; 8] = [
    "auth", // authorization, proxy-authorization, oauth_token, x-auth, ...
    "key",  // api_key, api-key, apikey, key, x-portkey-api-key, ...
    "token",
    "secret",
    "password",
    "credential",
    "signature",
    "cookie",
];

/// Whether a header or query parameter named `name` may carry a secret: its name contains
/// `auth`, `key`, `token`, `secret`, `password`, `credential`, `signature` or `cookie`, or
/// is `sig` (the signature of Azure shared-access URLs), compared case-insensitively.
/// Hiding a value that was no secret costs nothing.
///
/// ```
/// use chat_core::is_secret_name;
///
/// assert!(is_secret_name("X-Portkey-Api-Key") && is_secret_name("sig"));
/// assert!(!is_secret_name("api-version") && !is_secret_name("signal"));
/// ```
pub fn is_secret_name(name: &str) -> bool {
    // Without allocating: header names are checked as requests are built.
    let name = name.as_bytes();
    name.eq_ignore_ascii_case(b"sig")
        || SECRET_NAME_PARTS.iter().any(|part| {
            name.windows(part.len())
                .any(|w| w.eq_ignore_ascii_case(part.as_bytes()))
        })
}

/// `url` with its user information (`user:password@`) and the values of query parameters
/// whose names mark a secret replaced by `[redacted]`, for `Debug` output and error messages.
///
/// Query parameter names count as secret when they contain `auth`, `key`, `token`, `secret`,
/// `password`, `credential`, `signature` or `cookie`, or are `sig`, in any case and after
/// percent-decoding (so `api_key`, `API-KEY`, `access_token`, `X-Amz-Signature` and `sig` are
/// all hidden).
///
/// ```
/// use chat_core::redact_url;
///
/// assert_eq!(
///     redact_url("https://user:pw@gw.test/v1?api-version=1&api_key=sk-1&SIG=x"),
///     "https://[redacted]@gw.test/v1?api-version=1&api_key=[redacted]&SIG=[redacted]"
/// );
/// ```
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let (before_fragment, fragment) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let (head, query) = match before_fragment.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (before_fragment, None),
    };
    // The authority runs from after `scheme://` to the next `/` (the query was split off).
    let userinfo_end = head.find("://").and_then(|start| {
        let authority_start = start + 3;
        let authority_end = head[authority_start..]
            .find('/')
            .map_or(head.len(), |i| authority_start + i);
        head[authority_start..authority_end]
            .rfind('@')
            .map(|at| (authority_start, authority_start + at))
    });
    let secret_query = query.is_some_and(|q| q.split('&').any(is_secret_pair));
    if userinfo_end.is_none() && !secret_query {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len());
    match userinfo_end {
        Some((start, at)) => {
            out.push_str(&head[..start]);
            out.push_str(REDACTED);
            out.push_str(&head[at..]);
        }
        None => out.push_str(head),
    }
    if let Some(query) = query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, _)) if is_secret_pair(pair) => {
                    out.push_str(name);
                    out.push('=');
                    out.push_str(REDACTED);
                }
                _ => out.push_str(pair),
            }
        }
    }
    out.push_str(fragment);
    Cow::Owned(out)
}

/// Whether the `name=value` pair of a query has a secret name.
fn is_secret_pair(pair: &str) -> bool {
    match pair.split_once('=') {
        Some((name, _)) => {
            is_secret_name(&percent_encoding::percent_decode_str(name).decode_utf8_lossy())
        }
        None => false,
    }
}

/// Query pairs for `Debug`, with the values of secret names redacted.
pub(crate) struct RedactedQuery<'a>(pub(crate) &'a [(String, String)]);

impl std::fmt::Debug for RedactedQuery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, value)| {
                let value = if is_secret_name(name) {
                    REDACTED
                } else {
                    value.as_str()
                };
                (name.as_str(), value)
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        for (url, want) in [
            ("https://api.test/v1", "https://api.test/v1"),
            ("https://u:p@api.test/v1", "https://[redacted]@api.test/v1"),
            ("https://u@api.test", "https://[redacted]@api.test"),
            (
                "http://h/v1?key=k1&x=1&Access_Token=t&api%5Fkey=a&sig=s#frag",
                "http://h/v1?key=[redacted]&x=1&Access_Token=[redacted]&api%5Fkey=[redacted]&sig=[redacted]#frag",
            ),
            ("http://h/p?api-version=2024&limit=2", "http://h/p?api-version=2024&limit=2"),
            ("http://h/a@b?token", "http://h/a@b?token"),
            ("/v1/chat?token=t", "/v1/chat?token=[redacted]"),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }

    #[test]
    fn segments_and_queries_are_encoded() {
        assert_eq!(encode_segment("chatcmpl-1_a.b~"), "chatcmpl-1_a.b~");
        assert_eq!(encode_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(encode_segment(".."), "%2E%2E");
        assert_eq!(encode_segment("é"), "%C3%A9");
        let mut url = "https://x/v1/chat/completions".to_owned();
        append_query(&mut url, [("metadata[k]", "a&b=c"), ("limit", "2")]);
        assert_eq!(
            url,
            "https://x/v1/chat/completions?metadata%5Bk%5D=a%26b%3Dc&limit=2"
        );
        let mut url = "https://x/?api-version=1".to_owned();
        append_query(&mut url, [("a", "b")]);
        assert_eq!(url, "https://x/?api-version=1&a=b");
    }
}
