//! `ChatCompletionAccumulator`: merging chunks into the final response, fed directly (not
//! through `ChatCompletionStream`).

mod stream_util;

use chat_core::types::{
    ChatCompletionMessageToolCalls, CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse as Chunk, FinishReason, Role,
};
use chat_core::{ChatCompletionAccumulator, SseDecoder};
use serde_json::{json, Value};
use stream_util::fixture;

/// The chunks of a fixture, decoded with the bare SSE decoder.
fn fixture_chunks(name: &str) -> Vec<Chunk> {
    let (sse, _) = fixture(name);
    let mut decoder = SseDecoder::new(1 << 20);
    decoder
        .decode(sse)
        .map(Result::unwrap)
        .filter(|e| e.data() != "[DONE]")
        .map(|e| serde_json::from_slice(e.data_bytes()).unwrap())
        .collect()
}

fn chunk(v: Value) -> Chunk {
    serde_json::from_value(v).unwrap()
}

fn accumulate(chunks: impl IntoIterator<Item = Value>) -> Value {
    let acc: ChatCompletionAccumulator = chunks.into_iter().map(chunk).collect();
    serde_json::to_value(acc.finish()).unwrap()
}

#[test]
fn fixtures_accumulate_to_the_expected_response() {
    for name in [
        "text",
        "multi_choice",
        "parallel_tool_calls",
        "refusal",
        "logprobs",
        "usage",
        "extras",
    ] {
        let mut acc = ChatCompletionAccumulator::new();
        for c in fixture_chunks(name) {
            acc.push(c);
        }
        let (_, expected) = fixture(name);
        // Compared as typed values: the expected files leave out the `null`s
        // (`"refusal": null`, `"logprobs": null`) that serialization writes.
        let expected: CreateChatCompletionResponse = serde_json::from_value(expected).unwrap();
        assert_eq!(acc.finish(), expected, "{name}");
    }
}

#[test]
fn parallel_tool_calls_are_typed() {
    let acc: ChatCompletionAccumulator =
        fixture_chunks("parallel_tool_calls").into_iter().collect();
    let response = acc.finish();
    let calls = response.tool_calls();
    assert_eq!(calls.len(), 2);
    let first = calls[0].as_function().unwrap();
    assert_eq!(
        (first.id.as_str(), first.function.name.as_str()),
        ("call_a", "get_weather")
    );
    let args: Value = first.function.parse_arguments().unwrap();
    assert_eq!(args, json!({"location": "Paris"}));
    assert_eq!(response.finish_reason(), Some(&FinishReason::ToolCalls));
}

#[test]
fn snapshot_shows_progress_and_the_accumulator_goes_on() {
    let chunks = fixture_chunks("text");
    let mut acc = ChatCompletionAccumulator::new();
    acc.extend(chunks[..3].iter().cloned());
    let partial = acc.snapshot();
    assert_eq!(partial.first_content(), Some("Hello, wörld"));
    assert_eq!(partial.finish_reason(), None);
    acc.extend(chunks[3..].iter().cloned());
    assert_eq!(acc.finish().first_content(), Some("Hello, wörld 👋!"));
}

#[test]
fn empty_accumulator_gives_an_empty_completion() {
    let response = ChatCompletionAccumulator::new().finish();
    assert_eq!(
        serde_json::to_value(response).unwrap(),
        json!({"object": "chat.completion", "model": "", "choices": []})
    );
}

#[test]
fn tool_calls_at_one_index_with_different_ids_stay_apart() {
    // Some servers send every complete call at index 0 (or without an index).
    let out = accumulate([
        json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": "{\"n\":1}"}}]}}]}),
        json!({"choices": [{"delta": {"tool_calls": [{"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}}]}),
        // The id repeated on a later piece of the same call is not a new call.
        json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "b", "function": {"arguments": ""}}]}, "finish_reason": "tool_calls"}]}),
    ]);
    assert_eq!(
        out["choices"][0]["message"]["tool_calls"],
        json!([
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{\"n\":1}"}},
            {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
        ])
    );
}

#[test]
fn tool_calls_are_sorted_by_index_and_keep_unknown_fields() {
    let out = accumulate([
        json!({"choices": [{"delta": {"tool_calls": [{"index": 1, "id": "b", "function": {"name": "g", "arguments": "[1", "strict": true}, "x": 1}]}}]}),
        json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}}]}}]}),
        json!({"choices": [{"delta": {"tool_calls": [{"index": 1, "function": {"name": "ignored", "arguments": "]"}, "x": 2}]}}]}),
    ]);
    assert_eq!(
        out["choices"][0]["message"]["tool_calls"],
        json!([
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": ""}},
            {"id": "b", "type": "function", "function": {"name": "g", "arguments": "[1]", "strict": true}, "x": 2},
        ])
    );
}

#[test]
fn custom_and_unknown_tool_calls() {
    let acc: ChatCompletionAccumulator = [
        json!({"choices": [{"delta": {"tool_calls": [
            {"index": 0, "id": "c1", "type": "custom", "custom": {"name": "sql", "input": "SELECT"}},
            {"index": 1, "id": "w1", "type": "web_search", "function": {"name": "s", "arguments": "{"}},
        ]}}]}),
        json!({"choices": [{"delta": {"tool_calls": [
            {"index": 0, "custom": {"input": " 1"}},
            {"index": 1, "function": {"arguments": "}"}},
        ]}}]}),
    ]
    .into_iter()
    .map(chunk)
    .collect();
    let response = acc.finish();
    match &response.tool_calls()[0] {
        ChatCompletionMessageToolCalls::Custom(c) => {
            assert_eq!((c.id.as_str(), c.custom.name.as_str()), ("c1", "sql"));
            assert_eq!(c.custom.input, "SELECT 1");
        }
        other => panic!("{other:?}"),
    }
    match &response.tool_calls()[1] {
        ChatCompletionMessageToolCalls::Unknown(v) => assert_eq!(
            v,
            &json!({"id": "w1", "type": "web_search", "function": {"name": "s", "arguments": "{}"}})
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deprecated_function_call_is_merged() {
    let out = accumulate([
        json!({"choices": [{"delta": {"role": "assistant", "function_call": {"name": "f", "arguments": ""}}}]}),
        json!({"choices": [{"delta": {"function_call": {"arguments": "{\"a\":"}}}]}),
        json!({"choices": [{"delta": {"function_call": {"arguments": "2}"}}, "finish_reason": "function_call"}]}),
    ]);
    assert_eq!(
        out["choices"][0],
        json!({"index": 0, "finish_reason": "function_call", "logprobs": null,
               "message": {"role": "assistant", "content": null, "refusal": null,
                           "function_call": {"name": "f", "arguments": "{\"a\":2}"}}})
    );
}

#[test]
fn audio_and_annotations_become_typed_fields() {
    let citation = json!({"type": "url_citation", "url_citation": {"start_index": 0, "end_index": 2, "url": "https://example.com", "title": "Ex"}});
    let out = accumulate([
        json!({"choices": [{"delta": {"role": "assistant", "audio": {"id": "audio_1", "transcript": "Hel"}}}]}),
        json!({"choices": [{"delta": {"audio": {"data": "AAA", "transcript": "lo"}}}]}),
        json!({"choices": [{"delta": {"audio": {"data": "BBB", "expires_at": 1700000100}, "annotations": [citation]}}]}),
        json!({"choices": [{"delta": {"annotations": [citation]}, "finish_reason": "stop"}]}),
    ]);
    let message = &out["choices"][0]["message"];
    assert_eq!(
        message["audio"],
        json!({"id": "audio_1", "expires_at": 1700000100, "data": "AAABBB", "transcript": "Hello"})
    );
    assert_eq!(message["annotations"], json!([citation, citation]));
}

#[test]
fn finish_reason_role_and_usage_rules() {
    let out = accumulate([
        json!({"choices": [{"delta": {"role": "assistant", "content": "a"}, "finish_reason": ""}]}),
        json!({"choices": [{"delta": {"role": "tool", "content": "b"}, "finish_reason": "length"}]}),
        json!({"choices": [{"delta": {}, "finish_reason": ""}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}),
        json!({"choices": [], "usage": null}),
    ]);
    assert_eq!(
        out["choices"][0]["finish_reason"], "length",
        "an empty reason does not undo a finish"
    );
    assert_eq!(
        out["choices"][0]["message"]["role"], "assistant",
        "the first role wins"
    );
    assert_eq!(out["usage"]["total_tokens"], 3);

    let acc: ChatCompletionAccumulator = [chunk(
        json!({"choices": [{"delta": {"content": "a"}, "finish_reason": ""}]}),
    )]
    .into_iter()
    .collect();
    let response = acc.finish();
    let reason = response.finish_reason().unwrap();
    assert!(!reason.is_finished());
    assert_eq!(reason.as_str(), "");
    assert_eq!(
        response.choices[0].message.role,
        Role::Assistant,
        "role defaults to assistant"
    );
}

#[test]
fn response_fields_take_the_latest_non_empty_value() {
    let out = accumulate([
        json!({"id": "", "model": "", "created": 0, "choices": []}),
        json!({"id": "c1", "model": "m1", "created": 5, "service_tier": "default", "system_fingerprint": "fp1", "obfuscation": "xx", "choices": []}),
        json!({"id": "", "model": "m2", "choices": [], "service_tier": null}),
    ]);
    assert_eq!(
        out,
        json!({"id": "c1", "model": "m2", "created": 5, "object": "chat.completion",
               "service_tier": "default", "system_fingerprint": "fp1", "choices": []})
    );
}

#[test]
fn many_small_pieces_accumulate() {
    let mut acc = ChatCompletionAccumulator::new();
    let piece = chunk(
        json!({"choices": [{"delta": {"content": "ab", "tool_calls": [{"index": 0, "function": {"arguments": "x"}}]},
        "logprobs": {"content": [{"token": "ab", "logprob": -1.0, "top_logprobs": []}]}}]}),
    );
    for _ in 0..20_000 {
        acc.push(piece.clone());
    }
    let response = acc.finish();
    assert_eq!(response.first_content().unwrap().len(), 40_000);
    assert_eq!(
        response.tool_calls()[0]
            .as_function()
            .unwrap()
            .function
            .arguments
            .len(),
        20_000
    );
    let logprobs = response.choices[0].logprobs.as_ref().unwrap();
    assert_eq!(logprobs.content.as_ref().unwrap().len(), 20_000);
}

/// Whether `text` has an object with the same key twice (`Value` keeps one of them, so its
/// serialization is shorter).
fn has_duplicate_keys(text: &str) -> bool {
    let value: Value = serde_json::from_str(text).unwrap();
    serde_json::to_string(&value).unwrap().len() != text.len()
}

/// Chunks with unknown keys named like typed fields of the response, its choice, message,
/// audio and tool calls, with values of the wrong type: `finish()` must serialize to a
/// response that parses again, with no key written twice.
#[test]
fn unknown_chunk_keys_never_shadow_typed_response_fields() {
    let garbage = [
        json!([1]),
        json!("text"),
        json!(7),
        json!({"k": [1]}),
        json!(true),
    ];
    for bad in garbage {
        let chunks = [
            json!({"id": "c1", "model": "m", "metadata": bad, "choices": [{
            "index": 0, "message": bad,
            "delta": {"role": "assistant", "content": "Hi", "audio": bad,
                      "annotations": bad, "tool_calls": [
                {"index": 0, "id": "call_1", "type": "function", "custom": bad,
                 "function": {"name": "f", "arguments": "{}"}},
                {"index": 1, "id": "call_2", "type": "custom", "custom": bad}
            ]}}]}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {
                "audio": {"id": bad, "data": bad, "transcript": bad, "expires_at": bad},
                "annotations": [bad],
                "tool_calls": [{"index": 2, "id": "call_3", "type": "custom",
                                "custom": {"name": bad, "input": bad}}]},
                "finish_reason": "stop"}]}),
        ];
        let response = ChatCompletionAccumulator::from_iter(chunks.into_iter().map(chunk)).finish();
        let text = serde_json::to_string(&response).unwrap();
        let reparsed: CreateChatCompletionResponse =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{bad}: {e} in {text}"));
        assert!(!has_duplicate_keys(&text), "{bad}: {text}");
        assert_eq!(reparsed, response, "{bad}");
        assert_eq!(reparsed.first_content(), Some("Hi"));
        // A function call keeps a `custom` that is no object (no field of a function call;
        // an object makes it a custom call).
        let calls = response.choices[0].message.tool_calls.as_ref().unwrap();
        if !bad.is_object() {
            let ChatCompletionMessageToolCalls::Function(f) = &calls[0] else {
                panic!("{calls:?}")
            };
            assert_eq!(f.extra["custom"], bad);
        }
        assert!(matches!(
            calls[1],
            ChatCompletionMessageToolCalls::Custom(_)
        ));
    }
}

/// What fits a typed field is kept there: metadata of strings, annotation objects, audio
/// pieces of the right types; other unknown keys stay where they were.
#[test]
fn unknown_chunk_keys_that_fit_typed_fields_are_kept() {
    let chunks = [
        json!({"id": "c1", "metadata": {"a": "1", "b": "2"}, "x-top": 1, "choices": [{
            "index": 0, "x-choice": [1],
            "delta": {"content": "Hi", "reasoning_content": "th",
                      "annotations": [{"type": "url_citation", "url_citation":
                          {"url": "https://e.com", "title": "t", "start_index": 0, "end_index": 2}}],
                      "audio": {"id": "au_1", "data": "AA"}}}]}),
        json!({"metadata": {"b": "3"}, "choices": [{"index": 0, "delta": {
            "reasoning_content": "ink", "audio": {"data": "BB", "expires_at": 9}},
            "finish_reason": "stop"}]}),
    ];
    let response = ChatCompletionAccumulator::from_iter(chunks.into_iter().map(chunk)).finish();
    let text = serde_json::to_string(&response).unwrap();
    let reparsed: CreateChatCompletionResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(reparsed, response);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["metadata"], json!({"a": "1", "b": "3"}));
    assert_eq!(value["x-top"], 1);
    assert_eq!(value["choices"][0]["x-choice"], json!([1]));
    let message = &value["choices"][0]["message"];
    assert_eq!(message["reasoning_content"], "think");
    assert_eq!(
        message["annotations"][0]["url_citation"]["url"],
        "https://e.com"
    );
    assert_eq!(
        message["audio"],
        json!({"id": "au_1", "expires_at": 9, "data": "AABB", "transcript": ""})
    );
}
