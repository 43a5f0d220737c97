//! A tolerant reader of JSON text that is still arriving: the value so far, with open
//! strings, arrays and objects closed.

use serde_json::Value;

/// The value that a prefix of JSON text describes so far, or `None` when nothing complete
/// enough has arrived (or the text is not JSON at all).
///
/// Open strings, arrays and objects are closed; an object key without its value, a trailing
/// comma, an unfinished `true`/`false`/`null`, an unfinished number such as `12.` and an
/// unfinished escape are left out. A partial string value is kept as far as it goes, so a
/// snapshot can show text while the model writes it. Best effort: each snapshot is valid
/// JSON, and once the text is complete the snapshot is the whole value.
///
/// ```
/// use chat_core::complete_partial_json;
/// use serde_json::json;
///
/// let text = r#"{"title": "Pancakes", "steps": ["Whisk", "Fr"#;
/// assert_eq!(
///     complete_partial_json(text),
///     Some(json!({"title": "Pancakes", "steps": ["Whisk", "Fr"]}))
/// );
/// assert_eq!(complete_partial_json(r#"{"title": "Pan", "ser"#), Some(json!({"title": "Pan"})));
/// assert_eq!(complete_partial_json(""), None);
/// ```
pub fn complete_partial_json(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    // The containers open at each point: `{` or `[`.
    let mut stack: Vec<u8> = Vec::new();
    // The last prefix that is whole once its containers are closed.
    let mut safe: Option<(usize, Vec<u8>)> = None;
    // Inside a string: whether it is an object key, and where its last escape started.
    let mut string: Option<(bool, Option<usize>)> = None;
    // Whether the next string in the innermost object is a key.
    let mut expect_key = false;
    // Where the scalar (number or literal) being read started.
    let mut scalar: Option<usize> = None;

    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some((is_key, escape)) = string.as_mut() {
            match (*escape, b) {
                (Some(start), _) => {
                    // `\uXXXX` needs four hex digits; other escapes one character.
                    let needed = if bytes.get(start + 1) == Some(&b'u') {
                        6
                    } else {
                        2
                    };
                    if i + 1 - start >= needed {
                        *escape = None;
                    }
                }
                (None, b'\\') => *escape = Some(i),
                (None, b'"') => {
                    if !*is_key {
                        safe = Some((i + 1, stack.clone()));
                    }
                    string = None;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        let is_scalar_byte = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.');
        if let Some(start) = scalar {
            if is_scalar_byte {
                i += 1;
                continue;
            }
            if serde_json::from_str::<Value>(&text[start..i]).is_err() {
                return None;
            }
            safe = Some((i, stack.clone()));
            scalar = None;
        }
        match b {
            b'"' => {
                let is_key = expect_key && stack.last() == Some(&b'{');
                string = Some((is_key, None));
            }
            b'{' | b'[' => {
                stack.push(b);
                expect_key = b == b'{';
                safe = Some((i + 1, stack.clone()));
            }
            b'}' | b']' => {
                let open = if b == b'}' { b'{' } else { b'[' };
                if stack.pop() != Some(open) {
                    return None;
                }
                expect_key = false;
                safe = Some((i + 1, stack.clone()));
            }
            b',' => expect_key = stack.last() == Some(&b'{'),
            b':' => expect_key = false,
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ if is_scalar_byte => scalar = Some(i),
            _ => return None,
        }
        i += 1;
    }

    let out = if let Some((false, escape)) = string {
        // A string value being written: keep it as far as it goes.
        let end = escape.unwrap_or(bytes.len());
        let mut s = text[..end].to_owned();
        s.push('"');
        close(&mut s, &stack);
        s
    } else if scalar.is_some_and(|start| serde_json::from_str::<Value>(&text[start..]).is_ok()) {
        let mut s = text.to_owned();
        close(&mut s, &stack);
        s
    } else {
        let (end, stack) = safe?;
        let mut s = text[..end].to_owned();
        close(&mut s, &stack);
        s
    };
    // Defensive: whatever slipped through the scan must still be JSON.
    serde_json::from_str(&out).ok()
}

fn close(out: &mut String, stack: &[u8]) {
    for open in stack.iter().rev() {
        out.push(if *open == b'{' { '}' } else { ']' });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::complete_partial_json as complete;

    #[test]
    fn every_prefix_of_a_document_is_valid_and_grows_to_the_whole() {
        let doc = r#"{"title": "Crêpes \"fines\" \u00e9", "servings": 4, "ok": true,
            "ratio": -1.5e2, "none": null, "ingredients": [{"name": "flour", "qty": [200, "g"]},
            {"name": "milk"}], "empty": {}, "list": []}"#;
        let whole: serde_json::Value = serde_json::from_str(doc).unwrap();
        let mut last_len = 0;
        for end in (0..=doc.len()).filter(|&e| doc.is_char_boundary(e)) {
            let snapshot = complete(&doc[..end]);
            if let Some(v) = &snapshot {
                assert!(v.is_object(), "{end}: {v}");
                let len = v.to_string().len();
                // Snapshots only shrink when an unfinished token is dropped, never below
                // the last complete value before it.
                assert!(len + 40 >= last_len, "{end}: {v}");
                last_len = len;
            }
            assert!(end == 0 || snapshot.is_some(), "prefix {end} gave nothing");
        }
        assert_eq!(complete(doc), Some(whole));
    }

    #[test]
    fn unfinished_tokens_are_left_out() {
        let cases = [
            (r#"{"a": 1, "b"#, json!({"a": 1})),
            (r#"{"a": 1, "b":"#, json!({"a": 1})),
            (r#"{"a": 1,"#, json!({"a": 1})),
            (r#"{"a": tr"#, json!({})),
            (r#"{"a": 12"#, json!({"a": 12})),
            (r#"{"a": 12."#, json!({})),
            (r#"{"a": "x\"#, json!({"a": "x"})),
            (r#"{"a": "x\u00"#, json!({"a": "x"})),
            (r#"{"a": "x\u00e9"#, json!({"a": "xé"})),
            (r#"[1, [2, {"c": ["d"#, json!([1, [2, {"c": ["d"]}]])),
            ("  ", json!(null)),
        ];
        for (text, want) in cases {
            let got = complete(text).unwrap_or(serde_json::Value::Null);
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn text_that_is_not_json_gives_nothing() {
        for text in ["{]", "Sure! {\"a\": 1}", "{\"a\": 1}}", "[1 2 x!]"] {
            assert_eq!(complete(text), None, "{text}");
        }
    }
}
