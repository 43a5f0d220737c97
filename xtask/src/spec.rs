//! Spec chores: `spec-extract` (spec/openapi.yaml -> spec/chat-completions.schema.json), its
//! freshness check for CI, and `spec-coverage` (runs the chat-types coverage test).
//!
//! The JSON file holds the roots of the Chat Completions operations (request body, responses,
//! stream chunk, error body and the stored-completions operations) and exactly the component
//! schemas reachable from those operations, copied verbatim. The chat-types tests read it with
//! serde_json alone, so they need no YAML parser and no copy of the 3 MB spec.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Map, Value};

/// The spec, relative to the workspace root.
const OPENAPI: &str = "spec/openapi.yaml";
/// The generated file, relative to the workspace root.
const SCHEMA_JSON: &str = "spec/chat-completions.schema.json";

/// The operations whose schemas are extracted: (path, method).
const OPERATIONS: &[(&str, &str)] = &[
    ("/chat/completions", "get"),
    ("/chat/completions", "post"),
    ("/chat/completions/{completion_id}", "get"),
    ("/chat/completions/{completion_id}", "post"),
    ("/chat/completions/{completion_id}", "delete"),
    ("/chat/completions/{completion_id}/messages", "get"),
];

/// The named roots: (name, path, method, where in the operation: `"body"` or `"<status> <media type>"`).
const ROOTS: &[(&str, &str, &str, &str)] = &[
    ("request", "/chat/completions", "post", "body"),
    (
        "response",
        "/chat/completions",
        "post",
        "200 application/json",
    ),
    (
        "chunk",
        "/chat/completions",
        "post",
        "200 text/event-stream",
    ),
    ("error", "/chat/completions", "post", "429 application/json"),
    ("list", "/chat/completions", "get", "200 application/json"),
    (
        "get",
        "/chat/completions/{completion_id}",
        "get",
        "200 application/json",
    ),
    (
        "update_request",
        "/chat/completions/{completion_id}",
        "post",
        "body",
    ),
    (
        "update_response",
        "/chat/completions/{completion_id}",
        "post",
        "200 application/json",
    ),
    (
        "delete",
        "/chat/completions/{completion_id}",
        "delete",
        "200 application/json",
    ),
    (
        "message_list",
        "/chat/completions/{completion_id}/messages",
        "get",
        "200 application/json",
    ),
];

/// Writes `spec/chat-completions.schema.json` from `spec/openapi.yaml`.
pub(crate) fn extract(root: &Path) -> Result<(), String> {
    let text = render(root)?;
    let out = root.join(SCHEMA_JSON);
    std::fs::write(&out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!("wrote {SCHEMA_JSON}");
    Ok(())
}

/// Fails if the committed `spec/chat-completions.schema.json` differs from what
/// [`extract`] would write.
pub(crate) fn extract_check(root: &Path) -> Result<(), String> {
    let fresh = render(root)?;
    let path = root.join(SCHEMA_JSON);
    let committed = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if committed != fresh {
        return Err(format!(
            "{SCHEMA_JSON} is stale: run `cargo xtask spec-extract` and commit the result"
        ));
    }
    println!("{SCHEMA_JSON} is up to date");
    Ok(())
}

/// Runs the chat-types spec-coverage test and relays its summary line.
///
/// The test itself fails below 100%; this returns its verdict.
pub(crate) fn coverage(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "test",
            "--quiet",
            "-p",
            "chat-types",
            "--test",
            "spec_coverage",
            "--",
            "--nocapture",
        ])
        .output()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    // libtest's progress dots may precede the line.
    let summary: Vec<&str> = stdout
        .lines()
        .filter_map(|l| {
            l.find("spec coverage:")
                .or_else(|| l.find("  uncovered:"))
                .map(|i| &l[i..])
        })
        .collect();
    for line in &summary {
        println!("{line}");
    }
    if !output.status.success() {
        eprint!("{stdout}");
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        return Err("spec coverage test failed".to_owned());
    }
    if summary.is_empty() {
        return Err("the spec coverage test printed no summary".to_owned());
    }
    Ok(())
}

/// Builds the text of the JSON file.
fn render(root: &Path) -> Result<String, String> {
    let path: PathBuf = root.join(OPENAPI);
    let yaml = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let Json(spec) =
        serde_yaml::from_str(&yaml).map_err(|e| format!("cannot parse {OPENAPI}: {e}"))?;
    let doc = build(&spec)?;
    let mut text = String::new();
    write_sorted(&doc, 0, &mut text);
    text.push('\n');
    Ok(text)
}

/// A JSON value read from YAML. Integers outside the 64-bit range (the spec's `seed` bounds)
/// become floats, as a JSON reader of the spec's `openapi.json` twin reads them; map keys that
/// are numbers or booleans become strings.
struct Json(Value);

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json(Value::Null))
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json(Value::from(v)))
    }
    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Json, E> {
        self.visit_f64(v as f64)
    }
    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Json, E> {
        self.visit_f64(v as f64)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(v)
            .map(|n| Json(Value::Number(n)))
            .ok_or_else(|| E::custom(format!("non-finite number {v}")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json(Value::String(v)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut out = Vec::new();
        while let Some(Json(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Json(Value::Array(out)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out = Map::new();
        while let Some(Json(k)) = map.next_key()? {
            let k = match k {
                Value::String(s) => s,
                Value::Number(_) | Value::Bool(_) => k.to_string(),
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "unsupported YAML map key {other}"
                    )))
                }
            };
            let Json(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(Json(Value::Object(out)))
    }
}

/// Escapes a path segment of a JSON pointer.
fn esc(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Follows a local JSON pointer (`#/a/b`).
fn resolve<'a>(spec: &'a Value, reference: &str) -> Result<&'a Value, String> {
    let ptr = reference
        .strip_prefix('#')
        .ok_or_else(|| format!("non-local $ref {reference}"))?;
    spec.pointer(ptr)
        .ok_or_else(|| format!("dangling $ref {reference}"))
}

/// Follows `$ref`s until a value without one is reached.
fn deref<'a>(spec: &'a Value, mut v: &'a Value) -> Result<&'a Value, String> {
    for _ in 0..16 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => v = resolve(spec, r)?,
            None => return Ok(v),
        }
    }
    Err("$ref chain too long".to_owned())
}

/// Finds the schema of a root and the JSON pointer it was found at.
fn root_schema<'a>(
    spec: &'a Value,
    path: &str,
    method: &str,
    at: &str,
) -> Result<(String, &'a Value), String> {
    let op_ptr = format!("/paths/{}/{method}", esc(path));
    let op = spec
        .pointer(&op_ptr)
        .ok_or_else(|| format!("missing operation {method} {path}"))?;
    let (ptr, holder) = if at == "body" {
        let body = deref(spec, op.get("requestBody").ok_or("no request body")?)?;
        (
            format!("{op_ptr}/requestBody/content/application~1json/schema"),
            body,
        )
    } else {
        let (status, media) = at.split_once(' ').ok_or("bad root location")?;
        let resp = op
            .get("responses")
            .and_then(|r| r.get(status))
            .ok_or_else(|| format!("no {status} response for {method} {path}"))?;
        let ptr = match resp.get("$ref").and_then(Value::as_str) {
            Some(r) => format!("{}/content/{}/schema", &r[1..], esc(media)),
            None => format!("{op_ptr}/responses/{status}/content/{}/schema", esc(media)),
        };
        (ptr, deref(spec, resp)?)
    };
    let media = if at == "body" {
        "application/json"
    } else {
        at.split_once(' ').map(|x| x.1).unwrap_or_default()
    };
    let schema = holder
        .get("content")
        .and_then(|c| c.get(media))
        .and_then(|m| m.get("schema"))
        .ok_or_else(|| format!("no {media} schema at {ptr}"))?;
    Ok((ptr, schema))
}

/// Adds the names of every component schema `$ref`d from `v` (recursively) to `seen`.
fn collect_refs(spec: &Value, v: &Value, seen: &mut BTreeSet<String>) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "x-oaiMeta" {
                    continue;
                }
                if k == "$ref" {
                    let r = x.as_str().ok_or("non-string $ref")?;
                    if let Some(name) = r.strip_prefix("#/components/schemas/") {
                        if seen.insert(name.to_owned()) {
                            collect_refs(spec, resolve(spec, r)?, seen)?;
                        }
                    } else {
                        // A reference to a response or request body: follow it for schemas.
                        collect_refs(spec, resolve(spec, r)?, seen)?;
                    }
                } else {
                    collect_refs(spec, x, seen)?;
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                collect_refs(spec, x, seen)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Builds the extracted document.
fn build(spec: &Value) -> Result<Value, String> {
    let mut roots = Map::new();
    for &(name, path, method, at) in ROOTS {
        let (ptr, schema) = root_schema(spec, path, method, at)?;
        let operation_id = spec
            .pointer(&format!("/paths/{}/{method}/operationId", esc(path)))
            .cloned()
            .unwrap_or(Value::Null);
        roots.insert(
            name.to_owned(),
            json!({
                "operation": format!("{} {path}", method.to_uppercase()),
                "operationId": operation_id,
                "at": at,
                "pointer": ptr,
                "schema": schema,
            }),
        );
    }

    let mut names = BTreeSet::new();
    for &(path, method) in OPERATIONS {
        let op = spec
            .pointer(&format!("/paths/{}/{method}", esc(path)))
            .ok_or_else(|| format!("missing operation {method} {path}"))?;
        collect_refs(spec, op, &mut names)?;
    }
    let all = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or("the spec has no components.schemas")?;
    let mut schemas = BTreeMap::new();
    for n in &names {
        let s = all.get(n).ok_or_else(|| format!("missing schema {n}"))?;
        schemas.insert(n.clone(), s.clone());
    }

    let info = spec.get("info").cloned().unwrap_or(Value::Null);
    Ok(json!({
        "$comment": "Generated by `cargo xtask spec-extract` from spec/openapi.yaml: the roots of \
            the Chat Completions operations and every component schema reachable from them, \
            verbatim. Do not edit; CI checks that it is fresh.",
        "openapi": spec.get("openapi").cloned().unwrap_or(Value::Null),
        "info": {
            "title": info.get("title").cloned().unwrap_or(Value::Null),
            "version": info.get("version").cloned().unwrap_or(Value::Null),
        },
        "roots": roots,
        "components": { "schemas": schemas },
    }))
}

/// Pretty-prints `v` with object keys in sorted order (whatever serde_json's map type is), so
/// the output does not depend on cargo feature unification.
fn write_sorted(v: &Value, indent: usize, out: &mut String) {
    let pad = |n: usize, out: &mut String| out.push_str(&" ".repeat(n));
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                pad(indent + 2, out);
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                write_sorted(&m[k.as_str()], indent + 2, out);
                if i + 1 < keys.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(indent, out);
            out.push('}');
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                pad(indent + 2, out);
                write_sorted(x, indent + 2, out);
                if i + 1 < a.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(indent, out);
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_writer_sorts_keys_and_indents() {
        let v = json!({"b": [1, {"d": null, "c": "x"}], "a": {}, "e": []});
        let mut s = String::new();
        write_sorted(&v, 0, &mut s);
        assert_eq!(
            s,
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"c\": \"x\",\n      \"d\": null\n    }\n  ],\n  \"e\": []\n}"
        );
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn reachable_schemas_follow_refs_and_skip_examples() {
        let spec = json!({
            "components": {"schemas": {
                "A": {"properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {"items": {"$ref": "#/components/schemas/A"}},
                "C": {"type": "string"},
                "D": {"type": "string"}
            }},
            "op": {"schema": {"$ref": "#/components/schemas/A"},
                   "x-oaiMeta": {"$ref": "#/components/schemas/D"}}
        });
        let mut seen = BTreeSet::new();
        collect_refs(&spec, &spec["op"], &mut seen).unwrap();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["A", "B"]);
        let mut seen = BTreeSet::new();
        let bad = json!({"$ref": "#/components/schemas/Nope"});
        assert!(collect_refs(&spec, &bad, &mut seen).is_err());
    }
}
