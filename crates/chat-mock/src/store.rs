//! Stored completions: what `store: true` keeps, and the operations on it (list, get,
//! update, delete, list messages), with the API's shapes and pagination.

use chat_core::types::CreateChatCompletionResponse;
use http::Method;
use serde_json::{json, Map, Value};

use crate::query::{percent_decode, query_pairs};
use crate::RecordedRequest;

/// One stored completion.
#[derive(Debug, Clone)]
struct Stored {
    id: String,
    model: String,
    metadata: Option<Map<String, Value>>,
    /// The completion as served, without `metadata`.
    completion: Value,
    /// The request's messages, as listed by the messages operation.
    messages: Vec<Value>,
}

/// The completions stored so far, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Store {
    items: Vec<Stored>,
}

/// What a store operation answers: a status and a JSON body.
pub(crate) type Answer = (u16, Value);

impl Store {
    /// Keeps `completion`, the answer to `request` (which asked for `store: true`).
    pub(crate) fn keep(
        &mut self,
        request: &RecordedRequest,
        completion: &CreateChatCompletionResponse,
    ) {
        let Ok(value) = serde_json::to_value(completion) else {
            return;
        };
        let id = completion.id.clone().unwrap_or_default();
        let metadata = request
            .pointer("/metadata")
            .and_then(Value::as_object)
            .cloned();
        let messages = request
            .pointer("/messages")
            .and_then(Value::as_array)
            .map(|ms| {
                ms.iter()
                    .enumerate()
                    .map(|(i, m)| stored_message(&id, i, m))
                    .collect()
            })
            .unwrap_or_default();
        // A completion id used again (a scripted fixed id) replaces the older one.
        self.items.retain(|s| s.id != id);
        self.items.push(Stored {
            id,
            model: completion.model.clone(),
            metadata,
            completion: value,
            messages,
        });
    }

    /// How many completions are stored.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The answer to `request` if it is a stored-completions operation, else `None`.
    pub(crate) fn handle(&mut self, request: &RecordedRequest) -> Option<Answer> {
        let path = request.path();
        let at = path.find("/chat/completions")?;
        let rest = &path[at + "/chat/completions".len()..];
        if !rest.is_empty() && !rest.starts_with('/') {
            return None;
        }
        let query = query_pairs(request.uri().query().unwrap_or(""));
        let method = request.method();
        let segments: Vec<String> = rest.split('/').skip(1).map(percent_decode).collect();
        match (method, segments.as_slice()) {
            (&Method::GET, []) => Some(self.list(&query)),
            (&Method::GET, [id]) => Some(
                self.find(id)
                    .map_or_else(|| not_found(id), |s| (200, s.with_metadata())),
            ),
            (&Method::POST, [id]) => Some(self.update(id, request)),
            (&Method::DELETE, [id]) => Some(self.delete(id)),
            (&Method::GET, [id, m]) if m == "messages" => Some(self.messages(id, &query)),
            _ => None,
        }
    }

    fn find(&self, id: &str) -> Option<&Stored> {
        self.items.iter().find(|s| s.id == id)
    }

    fn list(&self, query: &[(String, String)]) -> Answer {
        let model = param(query, "model");
        let filters: Vec<(&str, &str)> = query
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
                Some((key, v.as_str()))
            })
            .collect();
        let items: Vec<&Stored> = self
            .items
            .iter()
            .filter(|s| model.is_none_or(|m| s.model == m))
            .filter(|s| {
                filters.iter().all(|(k, v)| {
                    s.metadata
                        .as_ref()
                        .and_then(|m| m.get(*k))
                        .and_then(Value::as_str)
                        == Some(*v)
                })
            })
            .collect();
        match page(items, query, |s| s.id.as_str()) {
            Ok((data, has_more)) => (
                200,
                list_body(data.iter().map(|s| s.with_metadata()).collect(), has_more),
            ),
            Err(e) => e,
        }
    }

    fn messages(&self, id: &str, query: &[(String, String)]) -> Answer {
        let Some(stored) = self.find(id) else {
            return not_found(id);
        };
        let items: Vec<&Value> = stored.messages.iter().collect();
        match page(items, query, |m| m["id"].as_str().unwrap_or("")) {
            Ok((data, has_more)) => (
                200,
                list_body(data.into_iter().cloned().collect(), has_more),
            ),
            Err(e) => e,
        }
    }

    fn update(&mut self, id: &str, request: &RecordedRequest) -> Answer {
        let Some(body) = request.json().and_then(Value::as_object) else {
            return invalid("The body must be a JSON object with \"metadata\".", None);
        };
        let metadata = match body.get("metadata") {
            Some(Value::Object(m)) => {
                if m.values().any(|v| !v.is_string()) {
                    return invalid("Metadata values must be strings.", Some("metadata"));
                }
                Some(m.clone())
            }
            Some(Value::Null) => None,
            _ => return invalid("Missing required parameter: 'metadata'.", Some("metadata")),
        };
        match self.items.iter_mut().find(|s| s.id == id) {
            Some(s) => {
                s.metadata = metadata;
                (200, s.with_metadata())
            }
            None => not_found(id),
        }
    }

    fn delete(&mut self, id: &str) -> Answer {
        let before = self.items.len();
        self.items.retain(|s| s.id != id);
        if self.items.len() == before {
            return not_found(id);
        }
        (
            200,
            json!({"object": "chat.completion.deleted", "id": id, "deleted": true}),
        )
    }
}

impl Stored {
    fn with_metadata(&self) -> Value {
        let mut v = self.completion.clone();
        if let Value::Object(o) = &mut v {
            o.insert(
                "metadata".into(),
                self.metadata.clone().map_or(Value::Null, Value::Object),
            );
        }
        v
    }
}

/// A request message as the messages operation lists it: an id, the text (parts joined,
/// and kept as `content_parts`), and the role, name and tool calls it was sent with.
fn stored_message(completion_id: &str, index: usize, m: &Value) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), format!("{completion_id}-{index}").into());
    out.insert(
        "role".into(),
        m.get("role").cloned().unwrap_or_else(|| "user".into()),
    );
    match m.get("content") {
        Some(Value::String(s)) => {
            out.insert("content".into(), s.clone().into());
        }
        Some(Value::Array(parts)) => {
            let text: Vec<&str> = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            out.insert("content".into(), text.join("\n").into());
            out.insert("content_parts".into(), Value::Array(parts.clone()));
        }
        _ => {
            out.insert("content".into(), Value::Null);
        }
    }
    out.insert(
        "refusal".into(),
        m.get("refusal").cloned().unwrap_or(Value::Null),
    );
    for key in ["name", "tool_calls", "tool_call_id"] {
        if let Some(v) = m.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// One page of `items` (oldest first) for the `after`, `limit` and `order` of `query`:
/// the items and whether more follow.
fn page<T>(
    mut items: Vec<T>,
    query: &[(String, String)],
    id: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, bool), Answer> {
    let limit = match param(query, "limit") {
        None => 20,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(invalid(
                    &format!("Invalid 'limit': {l:?}; expected an integer from 1 to 100."),
                    Some("limit"),
                ))
            }
        },
    };
    match param(query, "order") {
        None | Some("asc") => {}
        Some("desc") => items.reverse(),
        Some(o) => {
            return Err(invalid(
                &format!("Invalid 'order': {o:?}; expected 'asc' or 'desc'."),
                Some("order"),
            ))
        }
    }
    if let Some(after) = param(query, "after") {
        match items.iter().position(|i| id(i) == after) {
            Some(p) => {
                items.drain(..=p);
            }
            None => items.clear(),
        }
    }
    let has_more = items.len() > limit;
    items.truncate(limit);
    Ok((items, has_more))
}

fn list_body(data: Vec<Value>, has_more: bool) -> Value {
    let first = data.first().and_then(|d| d.get("id")).cloned();
    let last = data.last().and_then(|d| d.get("id")).cloned();
    json!({
        "object": "list",
        "data": data,
        "first_id": first,
        "last_id": last,
        "has_more": has_more,
    })
}

fn not_found(id: &str) -> Answer {
    (
        404,
        json!({"error": {
            "message": format!("No chat completion found with id '{id}' (chat-mock)."),
            "type": "invalid_request_error",
            "param": null,
            "code": null,
        }}),
    )
}

fn invalid(message: &str, param: Option<&str>) -> Answer {
    (
        400,
        json!({"error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": null,
        }}),
    )
}

/// The `404` for a path the API does not have, as the API words it.
/// `detail` (why no rule answered) follows the API's sentence.
pub(crate) fn unknown_url(request: &RecordedRequest, detail: &str) -> Answer {
    (
        404,
        json!({"error": {
            "message": format!("Invalid URL ({} {}).\n{detail}", request.method(), request.path()),
            "type": "invalid_request_error",
            "param": null,
            "code": "unknown_url",
        }}),
    )
}

/// Whether `path` is one of the Chat Completions API's paths (served, or answered by the
/// script).
pub(crate) fn is_chat_path(path: &str) -> bool {
    path.contains("/chat/completions")
}
