//! Query strings and path segments as the mock compares and reads them.

/// The `name=value` pairs of a query string in the order sent, percent-decoded (`+` is a space).
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// The same pairs sorted, for comparing two queries whose order does not matter.
pub(crate) fn sorted_query_pairs(query: &str) -> Vec<(String, String)> {
    let mut pairs = query_pairs(query);
    pairs.sort();
    pairs
}

/// `%XX` escapes decoded; a malformed escape is kept as written, invalid UTF-8 replaced.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(h) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(h);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_decoded_and_sorted_on_request() {
        assert_eq!(
            query_pairs("b=x%20y&a=1+2&&flag"),
            [
                ("b".into(), "x y".into()),
                ("a".into(), "1 2".into()),
                ("flag".into(), String::new())
            ]
        );
        assert_eq!(sorted_query_pairs("b=2&a=1")[0].0, "a");
        // Escapes that are not two hex digits stay as written.
        assert_eq!(percent_decode("100%zz%4"), "100%zz%4");
        assert_eq!(percent_decode("%E2%82%AC"), "€");
    }
}
