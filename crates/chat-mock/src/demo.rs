//! Demo answers: a completion computed from the request, honouring what it asks for.

use chat_core::types::CreateChatCompletionResponse;
use serde_json::{json, Map, Value};

use crate::schema::{self, Rng};
use crate::RecordedRequest;

/// The text a demo answer starts with; the rest echoes the last user message.
pub(crate) const DEMO_PREFIX: &str = "chat-mock demo answer to:";

/// The demo completion for `request` (without `id`, which the caller fills in).
pub(crate) fn completion(request: &RecordedRequest) -> CreateChatCompletionResponse {
    let value = completion_json(request);
    // Every field is built above from typed parts; a failure here is a bug in this module.
    serde_json::from_value(value).unwrap_or_default()
}

fn completion_json(request: &RecordedRequest) -> Value {
    let body = request.json().unwrap_or(&Value::Null);
    let mut rng = Rng::from_bytes(request.body());
    if let Some(seed) = body.get("seed").and_then(Value::as_i64) {
        rng = rng.fork(seed as u64);
    }
    let n = body
        .get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 128) as usize;
    let limit = body
        .get("max_completion_tokens")
        .or_else(|| body.get("max_tokens"))
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    let stops = stop_sequences(body);
    let logprobs = body.get("logprobs").and_then(Value::as_bool) == Some(true);
    let top = body
        .get("top_logprobs")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(20) as usize;

    let mut choices = Vec::new();
    let mut completion_tokens = 0;
    for index in 0..n {
        let mut rng = rng.fork(index as u64);
        let mut message = Map::new();
        message.insert("role".into(), "assistant".into());
        let finish;
        let mut token_list = Vec::new();
        let calls = tool_calls(body, request, index, &mut rng);
        if !calls.is_empty() {
            completion_tokens += calls
                .iter()
                .map(|c| tokens(c["function"]["arguments"].as_str().unwrap_or("")).len())
                .sum::<usize>();
            message.insert("content".into(), Value::Null);
            message.insert("refusal".into(), Value::Null);
            message.insert("tool_calls".into(), Value::Array(calls));
            finish = "tool_calls";
        } else {
            let text = content(body, request, index, &mut rng);
            let (text, reason, toks) = cut(&text, limit, &stops);
            completion_tokens += toks.len();
            token_list = toks;
            message.insert("content".into(), Value::String(text));
            message.insert("refusal".into(), Value::Null);
            finish = reason;
        }
        let mut choice = Map::new();
        choice.insert("index".into(), index.into());
        choice.insert("message".into(), Value::Object(message));
        choice.insert(
            "logprobs".into(),
            if logprobs {
                json!({"content": logprob_entries(&token_list, top), "refusal": null})
            } else {
                Value::Null
            },
        );
        choice.insert("finish_reason".into(), finish.into());
        choices.push(Value::Object(choice));
    }
    let prompt_tokens = prompt_tokens(request);
    let mut out = json!({
        "object": "chat.completion",
        "created": crate::response::CREATED,
        "model": request.model().unwrap_or("mock-model"),
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0
            }
        },
        "system_fingerprint": "fp_chat_mock",
    });
    if let Some(tier) = body.get("service_tier").and_then(Value::as_str) {
        out["service_tier"] = Value::String(if tier == "auto" { "default" } else { tier }.into());
    } else {
        out["service_tier"] = "default".into();
    }
    out
}

fn stop_sequences(body: &Value) -> Vec<String> {
    match body.get("stop") {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The text of choice `index`: JSON for a `response_format` that asks for it, else a
/// sentence echoing the last user message.
fn content(body: &Value, request: &RecordedRequest, index: usize, rng: &mut Rng) -> String {
    let format = body
        .pointer("/response_format/type")
        .and_then(Value::as_str);
    match format {
        Some("json_schema") => {
            let schema = body
                .pointer("/response_format/json_schema/schema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            schema::generate(&schema, rng).to_string()
        }
        Some("json_object") => json!({
            "answer": echo(request),
            "choice": index,
        })
        .to_string(),
        _ => {
            if request.last_message_role() == Some("tool") {
                let results: Vec<String> =
                    request.tool_results().into_iter().map(|(_, t)| t).collect();
                return format!(
                    "chat-mock demo answer from the tool results: {}",
                    results.join("; ")
                );
            }
            let mut text = format!("{DEMO_PREFIX} {}", echo(request));
            if index > 0 {
                text.push_str(&format!(" (choice {index})"));
            }
            text
        }
    }
}

/// The last user message, shortened.
fn echo(request: &RecordedRequest) -> String {
    let last = request
        .message_texts()
        .into_iter()
        .rev()
        .find(|(role, _)| role == "user")
        .map(|(_, t)| t)
        .unwrap_or_default();
    let short: String = last.chars().take(200).collect();
    if short.is_empty() {
        "(no user message)".into()
    } else {
        short
    }
}

/// The tool calls of choice `index`, or none when the request offers no function tools,
/// forbids calls (`tool_choice: "none"`) or sends tool results back (so a loop ends).
fn tool_calls(body: &Value, request: &RecordedRequest, index: usize, rng: &mut Rng) -> Vec<Value> {
    let functions: Vec<&Value> = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter(|t| {
                    t.get("type").and_then(Value::as_str).unwrap_or("function") == "function"
                })
                .filter_map(|t| t.get("function"))
                .filter(|f| f.get("name").and_then(Value::as_str).is_some())
                .collect()
        })
        .unwrap_or_default();
    if functions.is_empty() || request.last_message_role() == Some("tool") {
        return Vec::new();
    }
    let choice = body.get("tool_choice");
    let chosen: Vec<&Value> = match choice {
        Some(Value::String(s)) if s == "none" => return Vec::new(),
        Some(Value::Object(o)) => {
            let named = o
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str);
            match named {
                Some(name) => functions
                    .iter()
                    .copied()
                    .filter(|f| f["name"] == name)
                    .take(1)
                    .collect(),
                // `allowed_tools`: call the first allowed function.
                None => {
                    let allowed: Vec<&str> = o
                        .get("allowed_tools")
                        .and_then(|a| a.get("tools"))
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|t| t.pointer("/function/name").and_then(Value::as_str))
                                .collect()
                        })
                        .unwrap_or_default();
                    functions
                        .iter()
                        .copied()
                        .filter(|f| allowed.iter().any(|a| f["name"] == *a))
                        .take(1)
                        .collect()
                }
            }
        }
        // `auto`, `required` or nothing: call every function in parallel unless parallel
        // calls are off.
        _ => {
            if body.get("parallel_tool_calls").and_then(Value::as_bool) == Some(false) {
                functions.iter().copied().take(1).collect()
            } else {
                functions.clone()
            }
        }
    };
    chosen
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let params = f
                .get("parameters")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
            let mut rng = rng.fork(k as u64 + 1);
            let args = schema::generate(&params, &mut rng);
            json!({
                "id": format!("call_demo_{}_{index}_{k}", request.index()),
                "type": "function",
                "function": {"name": f["name"], "arguments": args.to_string()},
            })
        })
        .collect()
}

/// Splits text into tokens: each word with the whitespace before it (so they join back).
pub(crate) fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut word_chars = 0;
    for ch in text.chars() {
        let space = ch.is_whitespace();
        // A token ends before whitespace that follows a word, and long runs (such as JSON
        // without spaces) are split every 16 characters.
        if (space && word_chars > 0) || (!space && word_chars >= 16) {
            out.push(std::mem::take(&mut current));
            word_chars = 0;
        }
        if !space {
            word_chars += 1;
        }
        current.push(ch);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The text up to the first stop sequence and within `limit` tokens, with the finish reason
/// and the tokens kept.
fn cut(text: &str, limit: Option<usize>, stops: &[String]) -> (String, &'static str, Vec<String>) {
    let mut text = text.to_owned();
    if let Some(at) = stops.iter().filter_map(|s| text.find(s.as_str())).min() {
        text.truncate(at);
    }
    let toks = tokens(&text);
    match limit {
        Some(l) if toks.len() > l => {
            let kept: Vec<String> = toks.into_iter().take(l).collect();
            (kept.concat(), "length", kept)
        }
        _ => (text, "stop", toks),
    }
}

/// Log probabilities for `tokens`: the token itself is the most likely at each position,
/// followed by `top - 1` less likely alternatives.
fn logprob_entries(tokens: &[String], top: usize) -> Vec<Value> {
    tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let lp = -0.01 * ((i % 7) as f64 + 1.0);
            let mut alts = Vec::new();
            for k in 0..top {
                let (token, logprob) = if k == 0 {
                    (t.clone(), lp)
                } else {
                    (format!("{t}~{k}"), lp - 1.5 * k as f64)
                };
                let bytes: Vec<u8> = token.as_bytes().to_vec();
                alts.push(json!({"token": token, "logprob": logprob, "bytes": bytes}));
            }
            json!({
                "token": t,
                "logprob": lp,
                "bytes": t.as_bytes().to_vec(),
                "top_logprobs": alts,
            })
        })
        .collect()
}

/// A rough prompt size: the tokens of every message text plus a few per message.
fn prompt_tokens(request: &RecordedRequest) -> usize {
    request
        .message_texts()
        .iter()
        .map(|(_, t)| tokens(t).len() + 4)
        .sum::<usize>()
        + 3
}
