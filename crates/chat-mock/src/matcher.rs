//! Which requests a rule answers: [`Match`].

use std::fmt;
use std::sync::Arc;

use http::Method;
use serde_json::Value;

use crate::json;
use crate::RecordedRequest;

type Predicate = Arc<dyn Fn(&RecordedRequest) -> bool + Send + Sync>;

/// A condition on requests; a rule answers the requests its `Match` accepts.
///
/// Conditions chain and must all hold. Paths match by suffix on a segment boundary, so
/// `Match::post("/chat/completions")` accepts `POST https://api.openai.com/v1/chat/completions`.
/// Body conditions look at the request body as JSON, so they work for any request shape.
///
/// ```
/// use chat_mock::Match;
/// use serde_json::json;
///
/// let m = Match::post("/chat/completions")
///     .model("gpt-4o")
///     .user_message_contains("weather")
///     .json_pointer("/temperature", json!(0.2));
/// assert_eq!(
///     m.to_string(),
///     "POST /chat/completions, model = \"gpt-4o\", last user message contains \"weather\", \
///      /temperature = 0.2"
/// );
/// ```
#[derive(Clone, Default)]
pub struct Match {
    conds: Vec<Cond>,
}

#[derive(Clone)]
enum Cond {
    Method(Method),
    Path(String),
    Model(String),
    UserMessageContains(String),
    MessageContains(String),
    MessageCount(usize),
    LastMessageRole(String),
    ToolResult(String),
    OffersTool(String),
    Pointer(String, Value),
    BodyJson(Value),
    BodyExact(Value),
    Stream(bool),
    Header(String, String),
    Custom(String, Predicate),
}

impl Match {
    /// Accepts every request.
    pub fn any() -> Self {
        Match::default()
    }

    /// Requests with this method and path.
    pub fn method(method: Method, path: &str) -> Self {
        Match::any().and_method(method).and_path(path)
    }

    /// `POST` requests to `path`.
    pub fn post(path: &str) -> Self {
        Match::method(Method::POST, path)
    }

    /// `GET` requests to `path`.
    pub fn get(path: &str) -> Self {
        Match::method(Method::GET, path)
    }

    /// `DELETE` requests to `path`.
    pub fn delete(path: &str) -> Self {
        Match::method(Method::DELETE, path)
    }

    /// Requests to `path`, whatever the method.
    pub fn path(path: &str) -> Self {
        Match::any().and_path(path)
    }

    /// `POST /chat/completions`: a chat completion, streamed or not.
    pub fn chat() -> Self {
        Match::post("/chat/completions")
    }

    fn and_method(mut self, method: Method) -> Self {
        self.conds.push(Cond::Method(method));
        self
    }

    fn and_path(mut self, path: &str) -> Self {
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        self.conds.push(Cond::Path(path));
        self
    }

    /// The body's `model` is `model`.
    pub fn model(mut self, model: &str) -> Self {
        self.conds.push(Cond::Model(model.to_owned()));
        self
    }

    /// The last message with role `user` contains `text` (text parts of array content count).
    pub fn user_message_contains(mut self, text: &str) -> Self {
        self.conds.push(Cond::UserMessageContains(text.to_owned()));
        self
    }

    /// Any message, whatever its role, contains `text`.
    pub fn message_contains(mut self, text: &str) -> Self {
        self.conds.push(Cond::MessageContains(text.to_owned()));
        self
    }

    /// The body has exactly `count` messages.
    pub fn message_count(mut self, count: usize) -> Self {
        self.conds.push(Cond::MessageCount(count));
        self
    }

    /// The last message has role `role`: `"tool"` matches the request that sends a tool's
    /// result back, the turn after a tool call.
    pub fn last_message_role(mut self, role: &str) -> Self {
        self.conds.push(Cond::LastMessageRole(role.to_owned()));
        self
    }

    /// The body sends back the result of the tool call with id `tool_call_id` (a message
    /// with role `tool` and that `tool_call_id`).
    pub fn tool_result(mut self, tool_call_id: &str) -> Self {
        self.conds.push(Cond::ToolResult(tool_call_id.to_owned()));
        self
    }

    /// The request offers the tool `name` (a function or custom tool), wherever it is in
    /// `tools`.
    pub fn offers_tool(mut self, name: &str) -> Self {
        self.conds.push(Cond::OffersTool(name.to_owned()));
        self
    }

    /// The value at a JSON pointer of the body (such as `/stream_options/include_usage`) equals
    /// `value` (numbers compare by value).
    pub fn json_pointer(mut self, pointer: &str, value: Value) -> Self {
        self.conds.push(Cond::Pointer(pointer.to_owned(), value));
        self
    }

    /// The body contains `subset`: every field of it, recursively, with the same value.
    pub fn body_json(mut self, subset: Value) -> Self {
        self.conds.push(Cond::BodyJson(subset));
        self
    }

    /// The body is JSON equal to `body` (numbers compare by value; key order does not matter).
    pub fn body_json_exact(mut self, body: Value) -> Self {
        self.conds.push(Cond::BodyExact(body));
        self
    }

    /// The body asks for a streamed answer (`"stream": true`), or does not.
    pub fn stream(mut self, stream: bool) -> Self {
        self.conds.push(Cond::Stream(stream));
        self
    }

    /// The request has header `name` with `value` (compared with the real, unredacted value).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.conds
            .push(Cond::Header(name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Any condition in code; `description` names it in error messages.
    ///
    /// The predicate runs while the mock's script is locked, so it must not call the mock.
    pub fn when(
        mut self,
        description: &str,
        predicate: impl Fn(&RecordedRequest) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.conds
            .push(Cond::Custom(description.to_owned(), Arc::new(predicate)));
        self
    }

    /// Whether `request` meets every condition.
    pub fn matches(&self, request: &RecordedRequest) -> bool {
        self.conds.iter().all(|c| c.matches(request))
    }

    /// The conditions `request` fails, each with what the request has instead, for the
    /// messages about unmatched requests.
    pub(crate) fn failures(&self, request: &RecordedRequest) -> Vec<String> {
        self.conds
            .iter()
            .filter(|c| !c.matches(request))
            .map(|c| match c.actual(request) {
                Some(actual) => format!("{c} (request: {actual})"),
                None => c.to_string(),
            })
            .collect()
    }
}

impl Cond {
    /// What the request has where this condition looks, when that helps to see a mismatch.
    fn actual(&self, r: &RecordedRequest) -> Option<String> {
        let short = |s: &str| crate::request::snippet(s, 80);
        Some(match self {
            Cond::Method(_) => r.method().to_string(),
            Cond::Path(_) => r.path().to_owned(),
            Cond::Model(_) => r.model().map_or("no model".into(), |m| format!("{m:?}")),
            Cond::UserMessageContains(_) => r
                .last_user_message()
                .map_or("no user message".into(), |m| format!("{:?}", short(&m))),
            Cond::MessageCount(_) => {
                let n = r
                    .pointer("/messages")
                    .and_then(Value::as_array)
                    .map(Vec::len);
                format!("{} messages", n.unwrap_or(0))
            }
            Cond::LastMessageRole(_) => r
                .last_message_role()
                .map_or("no message".into(), |role| format!("{role:?}")),
            Cond::ToolResult(_) => {
                let ids: Vec<String> = r.tool_results().into_iter().map(|(id, _)| id).collect();
                format!("tool results for {ids:?}")
            }
            Cond::OffersTool(_) => format!("tools {:?}", r.tool_names()),
            Cond::Pointer(p, _) => r
                .pointer(p)
                .map_or("absent".into(), |v| short(&v.to_string())),
            Cond::BodyJson(v) | Cond::BodyExact(v) => {
                let strictness = match self {
                    Cond::BodyExact(_) => json::Strictness::Exact,
                    _ => json::Strictness::Subset,
                };
                match r.json() {
                    Some(actual) => json::differences(v, actual, strictness, 3).join("; "),
                    None => "a body that is not JSON".into(),
                }
            }
            Cond::Stream(_) if r.is_stream() => "streaming".into(),
            Cond::Stream(_) => "not streaming".into(),
            Cond::MessageContains(_) | Cond::Header(..) | Cond::Custom(..) => return None,
        })
    }

    fn matches(&self, r: &RecordedRequest) -> bool {
        match self {
            Cond::Method(m) => r.method() == m,
            Cond::Path(p) => r.path() == p || r.path().ends_with(p.as_str()),
            Cond::Model(m) => r.model() == Some(m.as_str()),
            Cond::UserMessageContains(t) => r
                .last_user_message()
                .is_some_and(|m| m.contains(t.as_str())),
            Cond::MessageContains(t) => r
                .message_texts()
                .iter()
                .any(|(_, m)| m.contains(t.as_str())),
            Cond::MessageCount(n) => r
                .pointer("/messages")
                .and_then(Value::as_array)
                .is_some_and(|a| a.len() == *n),
            Cond::LastMessageRole(role) => r.last_message_role() == Some(role.as_str()),
            Cond::ToolResult(id) => r.tool_results().iter().any(|(i, _)| i == id),
            Cond::OffersTool(name) => r.tool_names().contains(&name.as_str()),
            Cond::Pointer(p, v) => r
                .pointer(p)
                .is_some_and(|a| json::differences(v, a, json::Strictness::Exact, 1).is_empty()),
            Cond::BodyJson(v) => r.json().is_some_and(|a| json::contains(v, a)),
            Cond::BodyExact(v) => r
                .json()
                .is_some_and(|a| json::differences(v, a, json::Strictness::Exact, 1).is_empty()),
            Cond::Stream(s) => r.is_stream() == *s,
            Cond::Header(n, v) => r.header_matches(n, v),
            Cond::Custom(_, f) => f(r),
        }
    }
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.conds.is_empty() {
            return f.write_str("any request");
        }
        let mut first = true;
        let mut i = 0;
        while i < self.conds.len() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            match (&self.conds[i], self.conds.get(i + 1)) {
                (Cond::Method(m), Some(Cond::Path(p))) => {
                    write!(f, "{m} {p}")?;
                    i += 1;
                }
                (c, _) => write!(f, "{c}")?,
            }
            i += 1;
        }
        Ok(())
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cond::Method(m) => write!(f, "method {m}"),
            Cond::Path(p) => write!(f, "path {p}"),
            Cond::Model(m) => write!(f, "model = {m:?}"),
            Cond::UserMessageContains(t) => write!(f, "last user message contains {t:?}"),
            Cond::MessageContains(t) => write!(f, "a message contains {t:?}"),
            Cond::MessageCount(n) => write!(f, "{n} messages"),
            Cond::LastMessageRole(role) => write!(f, "last message from {role:?}"),
            Cond::ToolResult(id) => write!(f, "result of tool call {id:?}"),
            Cond::OffersTool(name) => write!(f, "offers tool {name:?}"),
            Cond::Pointer(p, v) => write!(f, "{p} = {v}"),
            Cond::BodyJson(v) => write!(f, "body contains {v}"),
            Cond::BodyExact(v) => {
                write!(f, "body = {}", crate::request::snippet(&v.to_string(), 200))
            }
            Cond::Stream(true) => f.write_str("streaming"),
            Cond::Stream(false) => f.write_str("not streaming"),
            Cond::Header(n, _) if crate::request::is_secret_header(n) => {
                write!(f, "header {n} = [redacted]")
            }
            Cond::Header(n, v) => write!(f, "header {n} = {v:?}"),
            Cond::Custom(d, _) => f.write_str(d),
        }
    }
}

impl fmt::Debug for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Match({self})")
    }
}
