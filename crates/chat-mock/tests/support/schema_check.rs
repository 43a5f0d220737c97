//! A small JSON Schema validator for the tests, written separately from the generator in
//! `src/schema.rs` so one checks the other. It covers the keywords structured outputs and
//! tool parameters use; `pattern` is checked with the `regex` crate.

use serde_json::Value;

/// The problems of `value` against `schema` (empty when it validates), as `path: problem`.
pub fn problems(schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(schema, schema, value, "$", &mut out, 0);
    out
}

/// Panics unless `value` validates against `schema`.
#[track_caller]
pub fn assert_valid(schema: &Value, value: &Value) {
    let p = problems(schema, value);
    assert!(
        p.is_empty(),
        "{value} does not validate against {schema}:\n{}",
        p.join("\n")
    );
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    root.pointer(pointer)
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => {
            v.as_i64().is_some()
                || v.as_u64().is_some()
                || v.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => true,
    }
}

fn check(root: &Value, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        out.push(format!("{at}: too deep"));
        return;
    }
    let o = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            out.push(format!("{at}: schema false"));
            return;
        }
        Value::Object(o) => o,
        _ => return,
    };
    if let Some(r) = o.get("$ref").and_then(Value::as_str) {
        match resolve(root, r) {
            Some(t) => check(root, t, v, at, out, depth + 1),
            None => out.push(format!("{at}: unresolved $ref {r}")),
        }
    }
    match o.get("type") {
        Some(Value::String(t)) if !type_ok(t, v) => out.push(format!("{at}: not a {t}: {v}")),
        Some(Value::Array(ts)) if !ts.iter().filter_map(Value::as_str).any(|t| type_ok(t, v)) => {
            out.push(format!("{at}: none of the types {ts:?}: {v}"))
        }
        _ => {}
    }
    if let Some(c) = o.get("const") {
        if c != v {
            out.push(format!("{at}: not the const {c}"));
        }
    }
    if let Some(Value::Array(e)) = o.get("enum") {
        if !e.contains(v) {
            out.push(format!("{at}: {v} not in the enum"));
        }
    }
    let sub_ok = |s: &Value| {
        let mut p = Vec::new();
        check(root, s, v, at, &mut p, depth + 1);
        p.is_empty()
    };
    if let Some(Value::Array(b)) = o.get("anyOf") {
        if !b.iter().any(sub_ok) {
            out.push(format!("{at}: matches no anyOf branch: {v}"));
        }
    }
    if let Some(Value::Array(b)) = o.get("oneOf") {
        let n = b.iter().filter(|s| sub_ok(s)).count();
        if n != 1 {
            out.push(format!("{at}: matches {n} oneOf branches: {v}"));
        }
    }
    if let Some(Value::Array(b)) = o.get("allOf") {
        for s in b {
            check(root, s, v, at, out, depth + 1);
        }
    }
    match v {
        Value::Object(m) => {
            let props = o.get("properties").and_then(Value::as_object);
            if let Some(Value::Array(req)) = o.get("required") {
                for r in req.iter().filter_map(Value::as_str) {
                    if !m.contains_key(r) {
                        out.push(format!("{at}: missing required {r}"));
                    }
                }
            }
            for (k, val) in m {
                let here = format!("{at}.{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(s) => check(root, s, val, &here, out, depth + 1),
                    None => match o.get("additionalProperties") {
                        Some(Value::Bool(false)) => out.push(format!("{here}: not allowed")),
                        Some(s @ Value::Object(_)) => check(root, s, val, &here, out, depth + 1),
                        _ => {}
                    },
                }
            }
            if let Some(min) = o.get("minProperties").and_then(Value::as_u64) {
                if (m.len() as u64) < min {
                    out.push(format!("{at}: fewer than {min} properties"));
                }
            }
        }
        Value::Array(a) => {
            let prefix = o.get("prefixItems").and_then(Value::as_array);
            for (i, item) in a.iter().enumerate() {
                let here = format!("{at}[{i}]");
                match prefix.and_then(|p| p.get(i)) {
                    Some(s) => check(root, s, item, &here, out, depth + 1),
                    None => {
                        if let Some(s) = o.get("items") {
                            check(root, s, item, &here, out, depth + 1);
                        }
                    }
                }
            }
            if let Some(min) = o.get("minItems").and_then(Value::as_u64) {
                if (a.len() as u64) < min {
                    out.push(format!("{at}: fewer than {min} items"));
                }
            }
            if let Some(max) = o.get("maxItems").and_then(Value::as_u64) {
                if (a.len() as u64) > max {
                    out.push(format!("{at}: more than {max} items"));
                }
            }
            if o.get("uniqueItems") == Some(&Value::Bool(true)) {
                for (i, x) in a.iter().enumerate() {
                    if a[..i].contains(x) {
                        out.push(format!("{at}[{i}]: duplicate"));
                    }
                }
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            let num = |k: &str| o.get(k).and_then(Value::as_f64);
            if num("minimum").is_some_and(|m| x < m)
                || num("maximum").is_some_and(|m| x > m)
                || num("exclusiveMinimum").is_some_and(|m| x <= m)
                || num("exclusiveMaximum").is_some_and(|m| x >= m)
            {
                out.push(format!("{at}: {x} out of bounds"));
            }
            if let Some(m) = num("multipleOf") {
                let q = x / m;
                if (q - q.round()).abs() > 1e-9 {
                    out.push(format!("{at}: {x} not a multiple of {m}"));
                }
            }
        }
        Value::String(s) => {
            let len = s.chars().count() as u64;
            if o.get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len < m)
                || o.get("maxLength")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| len > m)
            {
                out.push(format!("{at}: length {len} out of bounds"));
            }
            if let Some(p) = o.get("pattern").and_then(Value::as_str) {
                match regex::Regex::new(p) {
                    Ok(re) if !re.is_match(s) => {
                        out.push(format!("{at}: {s:?} does not match {p}"))
                    }
                    Ok(_) => {}
                    Err(e) => out.push(format!("{at}: bad pattern {p}: {e}")),
                }
            }
            let format_ok = match o.get("format").and_then(Value::as_str) {
                Some("date-time") => regex::Regex::new(
                    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
                )
                .unwrap()
                .is_match(s),
                Some("date") => regex::Regex::new(r"^\d{4}-\d{2}-\d{2}$")
                    .unwrap()
                    .is_match(s),
                Some("email") => s.contains('@') && !s.starts_with('@') && !s.ends_with('@'),
                Some("uuid") => regex::Regex::new(
                    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                )
                .unwrap()
                .is_match(s),
                Some("uri") => s.contains("://"),
                Some("ipv4") => s.parse::<std::net::Ipv4Addr>().is_ok(),
                Some("ipv6") => s.parse::<std::net::Ipv6Addr>().is_ok(),
                _ => true,
            };
            if !format_ok {
                out.push(format!("{at}: {s:?} is not a valid {}", o["format"]));
            }
        }
        _ => {}
    }
}
