//! URL building: percent-encoded path segments and query strings.

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

#[cfg(test)]
mod tests {
    use super::*;

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
