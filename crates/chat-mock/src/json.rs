//! Semantic JSON comparison for request assertions and matchers.

use serde_json::Value;

/// How strictly [`differences`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// Every field of the expected value must be in the actual one; extra fields are fine.
    /// Arrays must have the same length and match element by element.
    Subset,
    /// The values must be equal (numbers compare by value, so `1` equals `1.0`).
    Exact,
}

/// The differences between `expected` and `actual`, as lines `at /path: ...`; empty when they
/// match. At most `limit` lines are returned.
pub(crate) fn differences(
    expected: &Value,
    actual: &Value,
    strictness: Strictness,
    limit: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    walk(
        expected,
        actual,
        strictness,
        &mut String::new(),
        &mut out,
        limit,
    );
    out
}

/// Whether `actual` contains `expected` (subset semantics).
pub(crate) fn contains(expected: &Value, actual: &Value) -> bool {
    differences(expected, actual, Strictness::Subset, 1).is_empty()
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    crate::request::snippet(&s, 120)
}

fn at(path: &str) -> &str {
    if path.is_empty() {
        "(root)"
    } else {
        path
    }
}

fn walk(
    expected: &Value,
    actual: &Value,
    strictness: Strictness,
    path: &mut String,
    out: &mut Vec<String>,
    limit: usize,
) {
    if out.len() >= limit {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let len = path.len();
                path.push('/');
                path.push_str(&escape(k));
                match a.get(k) {
                    Some(av) => walk(ev, av, strictness, path, out, limit),
                    None if out.len() < limit => out.push(format!(
                        "at {path}: expected {}, field is missing",
                        show(ev)
                    )),
                    None => {}
                }
                path.truncate(len);
            }
            if strictness == Strictness::Exact {
                for (k, av) in a {
                    if !e.contains_key(k) && out.len() < limit {
                        out.push(format!(
                            "at {}/{}: unexpected field with value {}",
                            path,
                            escape(k),
                            show(av)
                        ));
                    }
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!(
                    "at {}: expected an array of {} items, got {} items: {}",
                    at(path),
                    e.len(),
                    a.len(),
                    show(actual)
                ));
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                walk(ev, av, strictness, path, out, limit);
                path.truncate(len);
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            let same = e == a || matches!((e.as_f64(), a.as_f64()), (Some(x), Some(y)) if x == y);
            if !same {
                out.push(format!("at {}: expected {e}, got {a}", at(path)));
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(format!(
            "at {}: expected {}, got {}",
            at(path),
            show(e),
            show(a)
        )),
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_ignores_extra_fields_and_exact_reports_them() {
        let actual =
            json!({"model": "m", "n": 1.0, "messages": [{"role": "user", "content": "hi"}]});
        assert!(contains(&json!({"model": "m", "n": 1}), &actual));
        assert!(contains(&json!({"messages": [{"content": "hi"}]}), &actual));
        let d = differences(&json!({"model": "m"}), &actual, Strictness::Exact, 10);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("unexpected field"), "{d:?}");
        let d = differences(
            &json!({"messages": [{"content": "ho"}]}),
            &actual,
            Strictness::Subset,
            10,
        );
        assert_eq!(
            d,
            vec![r#"at /messages/0/content: expected "ho", got "hi""#.to_owned()]
        );
        let d = differences(&json!({"x/y": 1}), &actual, Strictness::Subset, 10);
        assert_eq!(d, vec!["at /x~1y: expected 1, field is missing".to_owned()]);
    }
}
