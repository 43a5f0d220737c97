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
    let mut partial = PartialJson::new();
    partial.push(text);
    partial.snapshot()
}

/// JSON text that arrives in pieces, read as it comes: [`push`](PartialJson::push) each
/// piece, [`snapshot`](PartialJson::snapshot) for the value so far (as
/// [`complete_partial_json`] of the whole text, without scanning the text again).
///
/// ```
/// use chat_core::PartialJson;
/// use serde_json::json;
///
/// let mut partial = PartialJson::new();
/// partial.push(r#"{"steps": ["Whi"#);
/// assert_eq!(partial.snapshot(), Some(json!({"steps": ["Whi"]})));
/// partial.push(r#"sk", "Fry"]}"#);
/// assert_eq!(partial.snapshot(), Some(json!({"steps": ["Whisk", "Fry"]})));
/// assert_eq!(partial.text(), r#"{"steps": ["Whisk", "Fry"]}"#);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PartialJson {
    text: String,
    /// How far the text has been scanned.
    pos: usize,
    /// The containers open at `pos`: `{` or `[`.
    stack: Vec<u8>,
    /// The end of the last prefix that is whole once the open containers are closed. The
    /// containers cannot change between two such points (opening or closing one makes a
    /// new one), so `stack` holds for it too.
    safe: Option<usize>,
    /// Inside a string: whether it is an object key, and where its unfinished escape began.
    string: Option<(bool, Option<usize>)>,
    /// Whether the next string in the innermost object is a key.
    expect_key: bool,
    /// Where the scalar (number or literal) being read started.
    scalar: Option<usize>,
    /// The text is not JSON: no snapshot from now on.
    invalid: bool,
}

impl PartialJson {
    /// No text yet.
    pub fn new() -> Self {
        PartialJson::default()
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Appends a piece of the text and scans it.
    pub fn push(&mut self, piece: &str) {
        self.text.push_str(piece);
        if !self.invalid && !self.scan() {
            self.invalid = true;
        }
    }

    /// Scans from `pos` to the end; `false` when the text is not JSON.
    fn scan(&mut self) -> bool {
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() {
            let (i, b) = (self.pos, bytes[self.pos]);
            self.pos += 1;
            if let Some((is_key, escape)) = self.string.as_mut() {
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
                            self.safe = Some(i + 1);
                        }
                        self.string = None;
                    }
                    _ => {}
                }
                continue;
            }
            let is_scalar_byte = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.');
            if let Some(start) = self.scalar {
                if is_scalar_byte {
                    continue;
                }
                if serde_json::from_str::<Value>(&self.text[start..i]).is_err() {
                    return false;
                }
                self.safe = Some(i);
                self.scalar = None;
            }
            match b {
                b'"' => {
                    let is_key = self.expect_key && self.stack.last() == Some(&b'{');
                    self.string = Some((is_key, None));
                }
                b'{' | b'[' => {
                    self.stack.push(b);
                    self.expect_key = b == b'{';
                    self.safe = Some(i + 1);
                }
                b'}' | b']' => {
                    let open = if b == b'}' { b'{' } else { b'[' };
                    if self.stack.pop() != Some(open) {
                        return false;
                    }
                    self.expect_key = false;
                    self.safe = Some(i + 1);
                }
                b',' => self.expect_key = self.stack.last() == Some(&b'{'),
                b':' => self.expect_key = false,
                b' ' | b'\t' | b'\n' | b'\r' => {}
                _ if is_scalar_byte => self.scalar = Some(i),
                _ => return false,
            }
        }
        true
    }

    /// The value so far, with open strings, arrays and objects closed; `None` when nothing
    /// complete enough has arrived or the text is not JSON (see [`complete_partial_json`]).
    pub fn snapshot(&self) -> Option<Value> {
        if self.invalid {
            return None;
        }
        let text = &self.text;
        let mut out = if let Some((false, escape)) = self.string {
            // A string value being written: keep it as far as it goes.
            let mut s = text[..escape.unwrap_or(text.len())].to_owned();
            s.push('"');
            s
        } else if self
            .scalar
            .is_some_and(|start| serde_json::from_str::<Value>(&text[start..]).is_ok())
        {
            text.clone()
        } else {
            text[..self.safe?].to_owned()
        };
        for open in self.stack.iter().rev() {
            out.push(if *open == b'{' { '}' } else { ']' });
        }
        // Defensive: whatever slipped through the scan must still be JSON.
        serde_json::from_str(&out).ok()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{complete_partial_json as complete, PartialJson};

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
    fn pieces_of_any_size_give_the_same_snapshots_as_the_whole_prefix() {
        let doc = r#"{"a": [1, 23, {"b": "x\"y\u00e9z"}], "c": true, "d": -0.5}"#;
        for size in 1..8 {
            let mut partial = PartialJson::new();
            let mut end = 0;
            while end < doc.len() {
                let next = (end + size).min(doc.len());
                partial.push(&doc[end..next]);
                end = next;
                assert_eq!(
                    partial.snapshot(),
                    complete(&doc[..end]),
                    "size {size}, end {end}"
                );
            }
            assert_eq!(partial.text(), doc);
        }
        let mut broken = PartialJson::new();
        broken.push("{]");
        broken.push("}");
        assert_eq!(broken.snapshot(), None);
    }

    #[test]
    fn text_that_is_not_json_gives_nothing() {
        for text in ["{]", "Sure! {\"a\": 1}", "{\"a\": 1}}", "[1 2 x!]"] {
            assert_eq!(complete(text), None, "{text}");
        }
    }
}
