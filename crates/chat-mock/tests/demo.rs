//! Demo answers (`MockResponse::demo`, `MockTransport::demo`): computed from the request and
//! honouring `n`, logprobs, token limits, stop sequences, response formats, tools and stream
//! options. Generated JSON is checked with the tests' own validator (`support/schema_check`).

mod support;

use chat_core::types::CreateChatCompletionResponse;
use chat_mock::{Match, MockResponse, MockTransport};
use serde_json::{json, Value};
use support::schema_check::{assert_valid, problems};
use support::{chat_request, completion, send_full, sse_data};

fn demo() -> MockTransport {
    MockTransport::demo()
}

fn body(extra: Value) -> Value {
    let mut b = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Name three rivers of Europe"}]});
    if let (Value::Object(b), Value::Object(e)) = (&mut b, extra) {
        b.extend(e);
    }
    b
}

async fn answer(mock: &MockTransport, extra: Value) -> CreateChatCompletionResponse {
    completion(mock, chat_request(body(extra))).await
}

async fn answer_json(mock: &MockTransport, extra: Value) -> Value {
    let (parts, b) = send_full(mock, chat_request(body(extra))).await;
    assert_eq!(parts.status, 200);
    serde_json::from_slice(&b.unwrap()).unwrap()
}

#[tokio::test]
async fn a_text_answer_echoes_the_user_and_counts_usage() {
    let mock = demo();
    let r = answer(&mock, json!({})).await;
    assert_eq!(
        r.first_content(),
        Some("chat-mock demo answer to: Name three rivers of Europe")
    );
    assert_eq!(
        r.choices[0].finish_reason.as_ref().unwrap().as_str(),
        "stop"
    );
    let usage = r.usage.unwrap();
    assert_eq!(usage.completion_tokens, 9);
    assert_eq!(usage.total_tokens, usage.prompt_tokens + 9);
    assert_eq!(r.model, "gpt-4o-mini");
}

#[tokio::test]
async fn n_gives_that_many_distinct_choices() {
    let mock = demo();
    let r = answer(&mock, json!({"n": 3})).await;
    assert_eq!(r.choices.len(), 3);
    let texts: Vec<_> = r
        .choices
        .iter()
        .map(|c| c.message.content.clone().unwrap())
        .collect();
    for (i, c) in r.choices.iter().enumerate() {
        assert_eq!(c.index as usize, i);
    }
    assert_ne!(texts[0], texts[1]);
    assert_ne!(texts[1], texts[2]);
}

#[tokio::test]
async fn logprobs_spell_out_the_content_token_by_token() {
    let mock = demo();
    let r = answer_json(&mock, json!({"logprobs": true, "top_logprobs": 3, "n": 2})).await;
    for choice in r["choices"].as_array().unwrap() {
        let content = choice["message"]["content"].as_str().unwrap();
        let entries = choice["logprobs"]["content"].as_array().unwrap();
        let joined: String = entries
            .iter()
            .map(|e| e["token"].as_str().unwrap())
            .collect();
        assert_eq!(joined, content);
        for e in entries {
            let token = e["token"].as_str().unwrap();
            let bytes: Vec<u8> = serde_json::from_value(e["bytes"].clone()).unwrap();
            assert_eq!(bytes, token.as_bytes());
            let lp = e["logprob"].as_f64().unwrap();
            assert!(lp <= 0.0);
            let top = e["top_logprobs"].as_array().unwrap();
            assert_eq!(top.len(), 3);
            assert_eq!(top[0]["token"], e["token"]);
            assert_eq!(top[0]["logprob"], e["logprob"]);
            let lps: Vec<f64> = top.iter().map(|t| t["logprob"].as_f64().unwrap()).collect();
            assert!(lps.windows(2).all(|w| w[0] >= w[1]), "sorted: {lps:?}");
            for t in top {
                let b: Vec<u8> = serde_json::from_value(t["bytes"].clone()).unwrap();
                assert_eq!(b, t["token"].as_str().unwrap().as_bytes());
            }
        }
    }
    // Without `logprobs`, none.
    let plain = answer_json(&mock, json!({})).await;
    assert_eq!(plain["choices"][0]["logprobs"], Value::Null);
}

#[tokio::test]
async fn a_token_limit_cuts_the_text_and_finishes_with_length() {
    let mock = demo();
    for field in ["max_completion_tokens", "max_tokens"] {
        let r = answer(&mock, json!({ field: 3 })).await;
        assert_eq!(r.first_content(), Some("chat-mock demo answer"), "{field}");
        assert_eq!(
            r.choices[0].finish_reason.as_ref().unwrap().as_str(),
            "length"
        );
        assert_eq!(r.usage.unwrap().completion_tokens, 3);
    }
    let roomy = answer(&mock, json!({"max_completion_tokens": 100})).await;
    assert_eq!(
        roomy.choices[0].finish_reason.as_ref().unwrap().as_str(),
        "stop"
    );
}

#[tokio::test]
async fn a_stop_sequence_ends_the_text_before_it() {
    let mock = demo();
    let r = answer(&mock, json!({"stop": ["zzz", " rivers"]})).await;
    assert_eq!(
        r.first_content(),
        Some("chat-mock demo answer to: Name three")
    );
    assert_eq!(
        r.choices[0].finish_reason.as_ref().unwrap().as_str(),
        "stop"
    );
    let single = answer(&mock, json!({"stop": "three"})).await;
    assert_eq!(
        single.first_content(),
        Some("chat-mock demo answer to: Name ")
    );
}

#[tokio::test]
async fn json_object_mode_answers_a_json_object() {
    let mock = demo();
    let r = answer(&mock, json!({"response_format": {"type": "json_object"}})).await;
    let v: Value = serde_json::from_str(r.first_content().unwrap()).unwrap();
    assert!(v.is_object());
    assert_eq!(v["answer"], "Name three rivers of Europe");
}

/// Schemas of the shapes structured outputs and tools use, strict and not.
fn schemas() -> Vec<Value> {
    vec![
        json!({"type": "object", "properties": {
            "name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 130},
            "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "admin": {"type": "boolean"}},
            "required": ["name", "age", "score", "admin"], "additionalProperties": false}),
        json!({"type": "object", "properties": {
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "kind": {"const": "forecast"},
            "note": {"type": ["string", "null"]},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 3, "maxLength": 5}, "minItems": 1, "maxItems": 3},
            "steps": {"type": "integer", "multipleOf": 5, "minimum": 12, "maximum": 40}},
            "required": ["unit", "kind", "note", "tags", "steps"], "additionalProperties": false}),
        json!({"$defs": {
            "node": {"type": "object", "properties": {
                "label": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                "required": ["label", "children"], "additionalProperties": false}},
            "$ref": "#/$defs/node"}),
        json!({"type": "object", "properties": {
            "next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}, "value": {"type": "integer"}},
            "required": ["next", "value"], "additionalProperties": false}),
        json!({"type": "object", "properties": {
            "shape": {"oneOf": [
                {"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "number", "minimum": 0}}, "required": ["kind", "r"], "additionalProperties": false},
                {"type": "object", "properties": {"kind": {"const": "square"}, "side": {"type": "number"}}, "required": ["kind", "side"], "additionalProperties": false}]}},
            "required": ["shape"], "additionalProperties": false}),
        json!({"type": "object", "properties": {
            "when": {"type": "string", "format": "date-time"},
            "day": {"type": "string", "format": "date"},
            "mail": {"type": "string", "format": "email"},
            "id": {"type": "string", "format": "uuid"},
            "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{2,4}$"},
            "slug": {"type": "string", "pattern": "^(ab|cd)+[a-z_]*x?$"},
            "ip": {"type": "string", "format": "ipv4"}},
            "required": ["when", "day", "mail", "id", "code", "slug", "ip"]}),
        json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false, "minItems": 2}),
        json!({"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}, "minProperties": 2}),
        json!({"type": "object", "properties": {
            "items": {"type": "array", "uniqueItems": true, "minItems": 2, "items": {"enum": ["a", "b", "c"]}},
            "both": {"allOf": [
                {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
                {"properties": {"y": {"type": "string"}}, "required": ["y"]}]}},
            "required": ["items", "both"]}),
        // A recursive definition whose only way out is an empty array.
        json!({"definitions": {"tree": {"type": "object", "properties": {
            "kids": {"type": "array", "items": {"$ref": "#/definitions/tree"}, "maxItems": 2}},
            "required": ["kids"]}}, "$ref": "#/definitions/tree"}),
    ]
}

fn json_schema_format(schema: &Value) -> Value {
    json!({"type": "json_schema", "json_schema": {"name": "answer", "strict": true, "schema": schema}})
}

#[tokio::test]
async fn json_schema_mode_answers_json_that_validates() {
    let mock = demo();
    for schema in schemas() {
        // Different prompts seed different values; each must validate.
        for k in 0..25 {
            let b = json!({
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": format!("case {k}")}],
                "response_format": json_schema_format(&schema),
            });
            let r = completion(&mock, chat_request(b)).await;
            let content = r.first_content().unwrap();
            let v: Value = serde_json::from_str(content)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {content}"));
            assert_valid(&schema, &v);
        }
    }
}

#[tokio::test]
async fn the_validator_rejects_what_the_schemas_forbid() {
    // The check above means something only if the validator says no to wrong values.
    let s = schemas();
    assert!(!problems(
        &s[0],
        &json!({"name": "a", "age": -1, "score": 0.5, "admin": true})
    )
    .is_empty());
    assert!(!problems(&s[0], &json!({"name": "a", "age": 1, "score": 0.5})).is_empty());
    assert!(!problems(
        &s[1],
        &json!({"unit": "kelvin", "kind": "forecast", "note": null, "tags": ["abc"], "steps": 15})
    )
    .is_empty());
    assert!(!problems(
        &s[2],
        &json!({"label": "x", "children": [{"label": 1, "children": []}]})
    )
    .is_empty());
    assert!(!problems(&s[5], &json!({"when": "noon", "day": "2024-01-01", "mail": "a@b", "id": "x", "code": "AB-1", "slug": "ab", "ip": "1.2.3.4"})).is_empty());
    assert!(problems(
        &s[2],
        &json!({"label": "x", "children": [{"label": "y", "children": []}]})
    )
    .is_empty());
}

#[tokio::test]
async fn the_same_request_gets_the_same_answer() {
    let mock = demo();
    let schema = &schemas()[1];
    let extra = json!({"response_format": json_schema_format(schema)});
    let a = answer(&mock, extra.clone()).await;
    let b = answer(&mock, extra).await;
    assert_eq!(a.first_content(), b.first_content());
}

fn weather_tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "get_weather", "strict": true, "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": ["string", "null"], "enum": ["c", "f", null]}},
            "required": ["city", "unit"], "additionalProperties": false}}},
        {"type": "function", "function": {"name": "get_time", "parameters": {
            "type": "object", "properties": {"tz": {"type": "string", "pattern": "^[A-Z]{3}$"}}, "required": ["tz"]}}},
    ])
}

fn calls(r: &Value) -> Vec<(String, Value)> {
    r["choices"][0]["message"]["tool_calls"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    let args: Value =
                        serde_json::from_str(c["function"]["arguments"].as_str().unwrap()).unwrap();
                    (c["function"]["name"].as_str().unwrap().to_owned(), args)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn tools_are_called_with_arguments_that_validate() {
    let mock = demo();
    let tools = weather_tools();
    let params = |name: &str| {
        tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["function"]["name"] == name)
            .unwrap()["function"]["parameters"]
            .clone()
    };
    for choice in [json!("auto"), json!("required"), Value::Null] {
        let mut extra = json!({"tools": tools});
        if !choice.is_null() {
            extra["tool_choice"] = choice.clone();
        }
        let r = answer_json(&mock, extra).await;
        assert_eq!(r["choices"][0]["finish_reason"], "tool_calls", "{choice}");
        let c = calls(&r);
        assert_eq!(
            c.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
            ["get_weather", "get_time"]
        );
        for (name, args) in &c {
            assert_valid(&params(name), args);
        }
        let ids: Vec<_> = r["choices"][0]["message"]["tool_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .collect();
        assert_ne!(ids[0], ids[1]);
    }
    let named = answer_json(&mock, json!({"tools": tools, "tool_choice": {"type": "function", "function": {"name": "get_time"}}})).await;
    assert_eq!(
        calls(&named)
            .iter()
            .map(|c| c.0.as_str())
            .collect::<Vec<_>>(),
        ["get_time"]
    );
    let single = answer_json(&mock, json!({"tools": tools, "parallel_tool_calls": false})).await;
    assert_eq!(calls(&single).len(), 1);
    let none = answer_json(&mock, json!({"tools": tools, "tool_choice": "none"})).await;
    assert!(calls(&none).is_empty());
    assert_eq!(none["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn a_tool_result_gets_a_text_answer_so_loops_end() {
    let mock = demo();
    let b = json!({
        "model": "gpt-4o-mini",
        "tools": weather_tools(),
        "tool_choice": "required",
        "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "18 C"}
        ]
    });
    let r = completion(&mock, chat_request(b)).await;
    assert_eq!(
        r.choices[0].finish_reason.as_ref().unwrap().as_str(),
        "stop"
    );
    assert!(r.first_content().unwrap().contains("18 C"));
}

#[tokio::test]
async fn a_stream_sends_words_and_usage_only_when_asked() {
    let mock = demo();
    for include in [true, false] {
        let mut extra = json!({"stream": true});
        if include {
            extra["stream_options"] = json!({"include_usage": true});
        }
        let (parts, b) = send_full(&mock, chat_request(body(extra))).await;
        assert!(parts.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        let text = String::from_utf8(b.unwrap().to_vec()).unwrap();
        let data = sse_data(&text);
        assert_eq!(data.last().unwrap(), "[DONE]");
        let chunks: Vec<Value> = data[..data.len() - 1]
            .iter()
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        let content: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(
            content,
            "chat-mock demo answer to: Name three rivers of Europe"
        );
        assert!(chunks.len() > 5, "one chunk per word");
        let usage_chunks = chunks.iter().filter(|c| c["usage"].is_object()).count();
        assert_eq!(usage_chunks, usize::from(include));
    }
}

#[tokio::test]
async fn a_streamed_tool_call_has_valid_arguments_when_joined() {
    let mock = demo();
    let client = mock.client();
    let request: chat_core::types::CreateChatCompletionRequest =
        serde_json::from_value(body(json!({"tools": weather_tools(), "stream": true}))).unwrap();
    let stream = client
        .create_chat_completion_stream(&request)
        .await
        .unwrap();
    let response = stream.final_response().await.unwrap();
    let v = serde_json::to_value(&response).unwrap();
    let c = calls(&v);
    assert_eq!(c.len(), 2);
    assert_valid(&weather_tools()[0]["function"]["parameters"], &c[0].1);
}

#[tokio::test]
async fn a_demo_rule_serves_the_project_client() {
    let mock = MockTransport::new();
    mock.on(Match::chat())
        .respond(MockResponse::demo())
        .always();
    let request: chat_core::types::CreateChatCompletionRequest =
        serde_json::from_value(body(json!({"n": 2}))).unwrap();
    let r = mock
        .client()
        .create_chat_completion(&request)
        .await
        .unwrap();
    assert_eq!(r.choices.len(), 2);
    assert!(r.request_id().is_some());
    mock.assert_all_used();
}

#[tokio::test]
async fn a_stream_with_logprobs_sends_one_token_per_chunk_with_its_entry() {
    let mock = demo();
    let extra = json!({"stream": true, "logprobs": true, "top_logprobs": 2});
    let (_, b) = send_full(&mock, chat_request(body(extra.clone()))).await;
    let text = String::from_utf8(b.unwrap().to_vec()).unwrap();
    let data = sse_data(&text);
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let mut content = String::new();
    let mut tokens = 0;
    for c in &chunks {
        let choice = &c["choices"][0];
        if let Some(piece) = choice["delta"]["content"]
            .as_str()
            .filter(|p| !p.is_empty())
        {
            let entries = choice["logprobs"]["content"].as_array().unwrap();
            assert_eq!(entries.len(), 1);
            assert_eq!(entries[0]["token"], piece);
            assert_eq!(entries[0]["top_logprobs"].as_array().unwrap().len(), 2);
            content.push_str(piece);
            tokens += 1;
        }
    }
    assert_eq!(
        content,
        "chat-mock demo answer to: Name three rivers of Europe"
    );
    // The same tokens as the whole answer's log probabilities.
    let mut whole = body(extra);
    whole["stream"] = json!(false);
    let r = answer_json(&mock, whole).await;
    assert_eq!(
        r["choices"][0]["logprobs"]["content"]
            .as_array()
            .unwrap()
            .len(),
        tokens
    );
}
