//! What the types refuse: bodies that are not completions, requests without messages and known
//! fields of the wrong JSON type are errors that name the JSON path (as chat-core reports it,
//! through `serde_path_to_error`); what they accept from lenient servers: omitted ids, usage
//! chunks without choices, tool-call arguments sent as objects, and any number in an unknown
//! field, written back as the same value.

use chat_types::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestMessage, CreateChatCompletionRequest,
    CreateChatCompletionResponse, CreateChatCompletionStreamResponse, UnknownFields,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// Parses `text` as chat-core does; on error, the JSON path and the message.
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, (String, String)> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        (path, e.into_inner().to_string())
    })
}

/// The path and message of the error parsing `body` as `T`; panics if it parses.
fn error<T: DeserializeOwned + std::fmt::Debug>(body: &Value) -> (String, String) {
    match parse::<T>(&body.to_string()) {
        Ok(v) => panic!("{body} parsed as {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn a_body_that_is_not_a_completion_is_an_error_naming_choices() {
    for body in [json!({"status": "queued", "job_id": "j1"}), json!({})] {
        let (path, message) = error::<CreateChatCompletionResponse>(&body);
        assert_eq!(path, ".", "{body}");
        assert!(
            message.starts_with("missing field `choices`"),
            "{body}: {message}"
        );
        let (path, message) = error::<CreateChatCompletionStreamResponse>(&body);
        assert_eq!(path, ".", "{body}");
        assert!(
            message.starts_with("missing field `choices`"),
            "{body}: {message}"
        );
    }
    // `null` is not a list of choices either.
    let (path, message) = error::<CreateChatCompletionResponse>(&json!({"choices": null}));
    assert_eq!(path, "choices");
    assert!(
        message.starts_with("invalid type: null, expected a sequence"),
        "{message}"
    );
}

#[test]
fn servers_that_omit_ids_and_usage_chunks_without_choices_still_parse() {
    let r: CreateChatCompletionResponse =
        parse(r#"{"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}]}"#)
            .unwrap();
    assert_eq!(r.first_content(), Some("hi"));
    assert_eq!(
        (r.id, r.created, r.object, r.model),
        (None, None, None, String::new())
    );

    let c: CreateChatCompletionStreamResponse = parse(
        r#"{"id": "c", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}"#,
    )
    .unwrap();
    assert!(c.choices.is_empty());
    assert_eq!(c.usage.map(|u| u.total_tokens), Some(3));
    let c: CreateChatCompletionStreamResponse =
        parse(r#"{"choices": [{"index": 0, "delta": {"content": "x"}}]}"#).unwrap();
    assert_eq!(c.choices[0].delta.content.as_deref(), Some("x"));
}

#[test]
fn a_request_without_messages_is_an_error() {
    let (path, message) = error::<CreateChatCompletionRequest>(&json!({"model": "m"}));
    assert_eq!(path, ".");
    assert!(message.starts_with("missing field `messages`"), "{message}");
    let (path, message) =
        error::<CreateChatCompletionRequest>(&json!({"model": "m", "messages": null}));
    assert_eq!(path, "messages");
    assert!(
        message.starts_with("invalid type: null, expected a sequence"),
        "{message}"
    );
    // An empty list is well-formed JSON; whether it is acceptable is the server's call.
    let r: CreateChatCompletionRequest = parse(r#"{"model": "m", "messages": []}"#).unwrap();
    assert!(r.messages.is_empty());
}

#[test]
fn wrong_types_in_known_request_fields_are_errors_with_the_path() {
    let user = json!({"role": "user", "content": "hi"});
    // `json!` sorts keys, so most bodies are written out, with the role first as clients do.
    for (body, want_path, want_message) in [
        (
            json!({"model": "m", "messages": [user, "hello"]}),
            "messages[1]",
            "invalid type: string \"hello\", expected a ChatCompletionRequestMessage object",
        ),
        (
            json!({"model": "m", "messages": [{"content": "no role"}]}),
            "messages[0]",
            "missing field `role`",
        ),
        (
            json!({"model": "m", "messages": [{"role": null, "content": "x"}]}),
            "messages[0].role",
            "invalid type: null, expected a string",
        ),
        (
            json!({"model": "m", "messages": [{"content": [{"text": "t"}], "role": "user"}]}),
            "messages[0]",
            "field `content`: missing field `type`",
        ),
        (
            json!({"model": "m", "messages": [user], "stop": 5}),
            "stop",
            "invalid type: integer `5`, expected a string or an array",
        ),
        (
            json!({"model": "m", "messages": [user], "stop": [5]}),
            "stop[0]",
            "invalid type: integer `5`, expected a string",
        ),
        (
            json!({"model": "m", "messages": [user], "temperature": "hot"}),
            "temperature",
            "invalid type: string \"hot\"",
        ),
        (
            json!({"model": "m", "messages": [user], "tools": [{"function": {"name": "f"}}]}),
            "tools[0]",
            "missing field `type`",
        ),
        (
            json!({"model": "m", "messages": [user], "tool_choice": 1}),
            "tool_choice",
            "invalid type: integer `1`",
        ),
        (
            json!({"model": "m", "messages": [user], "audio": {"voice": 3, "format": "mp3"}}),
            "audio.voice",
            "invalid type: integer `3`",
        ),
    ] {
        let (path, message) = error::<CreateChatCompletionRequest>(&body);
        assert_eq!(path, want_path, "{body}: {message}");
        assert!(message.starts_with(want_message), "{body}: {message}");
    }
    // With the role first, the path reaches the field itself.
    for (body, want_path, want_message) in [
        (
            r#"{"model": "m", "messages": [{"role": "user", "content": 42}]}"#,
            "messages[0].content",
            "invalid type: integer `42`, expected a string or an array",
        ),
        (
            r#"{"model": "m", "messages": [{"role": "user", "content": [{"text": "t"}]}]}"#,
            "messages[0].content[0]",
            "missing field `type`",
        ),
        (
            r#"{"messages": [{"role": "system", "content": [{"type": "text", "text": 1}]}]}"#,
            "messages[0].content[0].text",
            "invalid type: integer `1`, expected a string",
        ),
    ] {
        let (path, message) = parse::<CreateChatCompletionRequest>(body).unwrap_err();
        assert_eq!(path, want_path, "{body}: {message}");
        assert!(message.starts_with(want_message), "{body}: {message}");
    }
    // A field before the tag cannot be checked until the tag is read: its error names it.
    let (path, message) = parse::<CreateChatCompletionRequest>(
        r#"{"model": "m", "messages": [{"content": 42, "role": "user"}]}"#,
    )
    .unwrap_err();
    assert_eq!(path, "messages[0]");
    assert!(
        message.starts_with("field `content`: invalid type: integer `42`"),
        "{message}"
    );
}

#[test]
fn unknown_roles_types_values_and_fields_still_round_trip() {
    let body = json!({"model": "m", "messages": [
        {"role": "critic", "content": 42},
        {"role": "user", "content": [{"type": "video", "url": "u"}]}
    ], "reasoning_effort": "ultra", "top_k": 3});
    let r: CreateChatCompletionRequest = parse(&body.to_string()).unwrap();
    assert!(
        matches!(&r.messages[0], ChatCompletionRequestMessage::Unknown(v) if v["content"] == 42)
    );
    assert_eq!(r.unknown_fields().len(), 4, "{:?}", r.unknown_fields());
    assert_eq!(serde_json::to_value(&r).unwrap(), body);
}

#[test]
fn responses_are_lenient_about_values_not_about_shapes() {
    let ok = json!({"model": "m", "choices": [{"index": 0, "finish_reason": "paused",
        "logprobs": null, "message": {"refusal": null,
        "role": "narrator", "content": "c", "annotations": [{"type": "footnote", "n": 1}],
        "tool_calls": [{"type": "mcp", "id": "x"}], "vendor": {"a": [1]}}}]});
    let r: CreateChatCompletionResponse = parse(&ok.to_string()).unwrap();
    assert_eq!(serde_json::to_value(&r).unwrap(), ok);
    assert_eq!(r.unknown_fields().len(), 5, "{:?}", r.unknown_fields());

    let message = |m: Value| json!({"choices": [{"index": 0, "message": m}]});
    for (body, want_path, want_message) in [
        (json!({"choices": {}}), "choices", "invalid type: map, expected a sequence"),
        (json!({"choices": ["c"]}), "choices[0]", "invalid type: string"),
        (
            message(json!({"content": 1})),
            "choices[0].message.content",
            "invalid type: integer `1`",
        ),
        (
            message(json!({"tool_calls": ["call"]})),
            "choices[0].message.tool_calls[0]",
            "invalid type: string \"call\", expected a ChatCompletionMessageToolCalls object",
        ),
        (
            message(json!({"tool_calls": [{"type": 1}]})),
            "choices[0].message.tool_calls[0].type",
            "invalid type: integer `1`, expected a string",
        ),
        (
            message(json!({"annotations": [{"url": "u"}]})),
            "choices[0].message.annotations[0]",
            "missing field `type`",
        ),
        (
            message(json!({"tool_calls": [{"id": "c", "function": {"name": "f", "arguments": 7}}]})),
            // A tool call without `type` is buffered whole, so the message names the field.
            "choices[0].message.tool_calls[0]",
            "field `function`: invalid type: integer `7`, expected a string of JSON text or a JSON object",
        ),
    ] {
        let (path, message) = error::<CreateChatCompletionResponse>(&body);
        assert_eq!(path, want_path, "{body}: {message}");
        assert!(message.starts_with(want_message), "{body}: {message}");
    }
}

#[test]
fn tool_call_arguments_sent_as_an_object_are_kept_as_json_text_and_written_as_a_string() {
    let body = json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": null,
        "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2.5}}},
            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{\"a\":1}"}}
        ],
        "function_call": {"name": "old", "arguments": {"b": [true]}}
    }}]});
    let r: CreateChatCompletionResponse = parse(&body.to_string()).unwrap();
    let calls: Vec<_> = r.function_calls().collect();
    assert_eq!(
        calls[0].function.arguments,
        r#"{"city":"Paris","days":2.5}"#
    );
    assert_eq!(calls[1].function.arguments, r#"{"a":1}"#);
    let args: Value = calls[0].parse_arguments().unwrap();
    assert_eq!(args, json!({"city": "Paris", "days": 2.5}));
    let message = r.first_message().unwrap();
    assert_eq!(
        message.function_call.as_ref().unwrap().arguments,
        r#"{"b":[true]}"#
    );

    // Written back as the string the spec requires, so strict clients read the result.
    let back = serde_json::to_value(&r).unwrap();
    let written = &back["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"];
    assert_eq!(written, r#"{"city":"Paris","days":2.5}"#);
    assert_eq!(
        back["choices"][0]["message"]["function_call"]["arguments"],
        r#"{"b":[true]}"#
    );
    // The JSON value is unchanged, and a second round trip is the identity.
    let reparsed: CreateChatCompletionResponse = serde_json::from_value(back.clone()).unwrap();
    assert_eq!(reparsed, r);
    assert_eq!(serde_json::to_value(&reparsed).unwrap(), back);

    // The same in a request (an assistant turn replayed) and in a stream chunk.
    let request: CreateChatCompletionRequest = parse(
        r#"{"model": "m", "messages": [{"role": "assistant", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]}]}"#,
    )
    .unwrap();
    let ChatCompletionRequestMessage::Assistant(a) = &request.messages[0] else {
        panic!("{request:?}")
    };
    let Some([ChatCompletionMessageToolCalls::Function(call)]) = a.tool_calls.as_deref() else {
        panic!("{a:?}")
    };
    assert_eq!(call.function.arguments, r#"{"x":1}"#);
    let chunk: CreateChatCompletionStreamResponse = parse(
        r#"{"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "c1", "function": {"name": "f", "arguments": {"x": 1}}}],
            "function_call": {"arguments": {"y": 2}}}}]}"#,
    )
    .unwrap();
    let delta = &chunk.choices[0].delta;
    let piece = delta.tool_calls.as_ref().unwrap()[0]
        .function
        .as_ref()
        .unwrap();
    assert_eq!(piece.arguments.as_deref(), Some(r#"{"x":1}"#));
    let old = delta.function_call.as_ref().unwrap();
    assert_eq!(old.arguments.as_deref(), Some(r#"{"y":2}"#));
    // `null` arguments read as absent, as before.
    let chunk: CreateChatCompletionStreamResponse = parse(
        r#"{"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": null}}]}}]}"#,
    )
    .unwrap();
    let piece = chunk.choices[0].delta.tool_calls.as_ref().unwrap()[0]
        .function
        .as_ref();
    assert_eq!(piece.unwrap().arguments, None);
}

#[test]
fn numbers_in_unknown_fields_are_written_back_as_the_same_value() {
    // Floats whose nearest f64 a fast approximate parser misses, the extremes of the integer
    // types, and ordinary values.
    let numbers = [
        "0.1",
        "2.5",
        "-0.0",
        "1e-7",
        "5e-324",
        "2.2250738585072011e-308",
        "1.7976931348623157e308",
        "9007199254740993",
        "0.30000000000000004",
        "1.0000000000000002",
        "123456789012345.678",
        "3.141592653589793238462643383279",
        "2.4703282292062328e-324",
        "7.038531e-26",
        "18446744073709551615",
        "-9223372036854775808",
        "0.000000000000000000000000000000000000000000001",
    ];
    for n in numbers {
        let body = format!(r#"{{"choices": [], "x_score": {n}, "x_list": [{n}, {{"v": {n}}}]}}"#);
        let r: CreateChatCompletionResponse = parse(&body).unwrap();
        let written = serde_json::to_string(&r).unwrap();
        let again: CreateChatCompletionResponse = parse(&written).unwrap();
        assert_eq!(again, r, "{n}");
        assert_eq!(serde_json::to_string(&again).unwrap(), written, "{n}");
        // The value is the correctly rounded one, as Rust's own parser computes it.
        let x = &r.extra["x_score"];
        if let Some(f) = x.as_f64().filter(|_| x.is_f64()) {
            let expected: f64 = n.parse().unwrap();
            assert_eq!(f.to_bits(), expected.to_bits(), "{n}");
            assert_eq!(
                r.extra["x_list"][1]["v"].as_f64().unwrap().to_bits(),
                expected.to_bits()
            );
        } else {
            assert_eq!(x.to_string(), n, "{n}");
        }
    }
}
