//! Forward compatibility: unknown enum values, unknown fields and unknown union variants in a
//! request, a response and a stream chunk survive a round trip and are listed by
//! `unknown_fields()`.

mod support;

use chat_types::{
    ChatCompletionMessageToolCalls, ChatCompletionModerationOutcome, ChatCompletionRequestMessage,
    ChatCompletionRequestUserMessageContent, ChatCompletionRequestUserMessageContentPart,
    ChatCompletionResponseMessageAnnotation, ChatCompletionToolChoiceOption, ChatCompletionTools,
    CreateChatCompletionRequest, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
    FinishReason, ReasoningEffort, Role, ServiceTier, UnknownFields,
};
use serde_json::{json, Value};
use support::round_trip;

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn request_keeps_unknown_values_fields_and_variants() {
    let body = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "critic", "content": "hmm", "score": 3},
            {"role": "user", "cache_hint": true, "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "video_url", "video_url": {"url": "https://example.com/v.mp4"}}
            ]}
        ],
        "reasoning_effort": "ultra",
        "top_k": 40,
        "tools": [{"type": "web_search", "web_search": {"max_results": 3}}],
        "tool_choice": "sometimes"
    });
    let (r, unknown) = round_trip::<CreateChatCompletionRequest>(&body).unwrap();
    assert_eq!(
        sorted(unknown),
        [
            "messages[]<role=critic>",
            "messages[]<role=user>.cache_hint",
            "messages[]<role=user>.content[]<type=video_url>",
            "reasoning_effort=\"ultra\"",
            "tool_choice=\"sometimes\"",
            "tools[]<type=web_search>",
            "top_k",
        ]
    );

    assert_eq!(r.reasoning_effort, Some(ReasoningEffort::from("ultra")));
    assert!(r.reasoning_effort.as_ref().unwrap().is_unknown());
    assert_eq!(r.extra["top_k"], 40);
    match &r.messages[1] {
        ChatCompletionRequestMessage::Unknown(v) => assert_eq!(v["score"], 3),
        other => panic!("expected an unknown message, got {other:?}"),
    }
    let ChatCompletionRequestMessage::User(user) = &r.messages[2] else {
        panic!("expected a user message");
    };
    assert_eq!(user.extra["cache_hint"], true);
    let ChatCompletionRequestUserMessageContent::Array(parts) = &user.content else {
        panic!("expected content parts");
    };
    assert!(matches!(
        parts[0],
        ChatCompletionRequestUserMessageContentPart::Text(_)
    ));
    assert!(matches!(
        &parts[1],
        ChatCompletionRequestUserMessageContentPart::Unknown(v) if v["type"] == "video_url"
    ));
    assert!(matches!(
        r.tools.as_deref(),
        Some([ChatCompletionTools::Unknown(v)]) if v["web_search"]["max_results"] == 3
    ));
    assert!(matches!(
        &r.tool_choice,
        Some(ChatCompletionToolChoiceOption::Mode(m)) if m.as_str() == "sometimes"
    ));
}

#[test]
fn response_keeps_unknown_values_fields_and_variants() {
    let body = json!({
        "id": "chatcmpl-fc", "object": "chat.completion", "created": 1, "model": "gpt-5",
        "choices": [{
            "index": 0, "finish_reason": "guardrail", "logprobs": null,
            "message": {
                "role": "assistant", "content": "Hi", "refusal": null,
                "reasoning_content": "thinking...",
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "call_2", "type": "mcp", "mcp": {"server": "s", "tool": "t"}}
                ],
                "annotations": [{"type": "file_citation", "file_citation": {"file_id": "f"}}]
            }
        }],
        "service_tier": "turbo",
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "cost": {"usd": 0.01}}
    });
    let (r, unknown) = round_trip::<CreateChatCompletionResponse>(&body).unwrap();
    assert_eq!(
        sorted(unknown),
        [
            "choices[].finish_reason=\"guardrail\"",
            "choices[].message.annotations[]<type=file_citation>",
            "choices[].message.reasoning_content",
            "choices[].message.tool_calls[]<type=mcp>",
            "service_tier=\"turbo\"",
            "usage.cost",
        ]
    );
    assert_eq!(
        r.finish_reason(),
        Some(&FinishReason::Unknown("guardrail".into()))
    );
    assert!(r.finish_reason().unwrap().is_finished());
    assert_eq!(r.service_tier, Some(ServiceTier::Unknown("turbo".into())));
    let msg = r.first_message().unwrap();
    assert_eq!(msg.extra["reasoning_content"], "thinking...");
    assert_eq!(r.tool_calls()[0].id(), Some("call_1"));
    assert!(matches!(
        &r.tool_calls()[1],
        ChatCompletionMessageToolCalls::Unknown(_)
    ));
    assert_eq!(r.tool_calls()[1].id(), Some("call_2"));
    assert!(matches!(
        msg.annotations.as_deref(),
        Some([ChatCompletionResponseMessageAnnotation::Unknown(_)])
    ));
    assert_eq!(
        r.usage.as_ref().unwrap().extra["cost"],
        json!({"usd": 0.01})
    );
}

#[test]
fn chunk_keeps_unknown_values_fields_and_variants() {
    let body = json!({
        "id": "chatcmpl-fc", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{
            "index": 0, "finish_reason": null,
            "delta": {"role": "reviewer", "content": "x", "reasoning": "r"}
        }],
        "moderation": {
            "input": {"type": "skipped", "reason": "disabled"},
            "output": {"type": "error", "code": "c", "message": "m"}
        },
        "usage": null,
        "x_trace": {"id": 1}
    });
    let (c, unknown) = round_trip::<CreateChatCompletionStreamResponse>(&body).unwrap();
    assert_eq!(
        sorted(unknown),
        [
            "choices[].delta.reasoning",
            "choices[].delta.role=\"reviewer\"",
            "moderation.input<type=skipped>",
            "x_trace",
        ]
    );
    assert_eq!(
        c.choices[0].delta.role,
        Some(Role::Unknown("reviewer".into()))
    );
    assert_eq!(c.choices[0].delta.extra["reasoning"], "r");
    let m = c.moderation.as_ref().unwrap();
    assert!(
        matches!(&m.input, ChatCompletionModerationOutcome::Unknown(v) if v["reason"] == "disabled")
    );
    assert!(matches!(&m.output, ChatCompletionModerationOutcome::Error(e) if e.code == "c"));
    assert_eq!(c.extra["x_trace"], json!({"id": 1}));
}

#[test]
fn unknown_values_built_in_code_serialize_verbatim() {
    let mut r = CreateChatCompletionResponse::default();
    r.choices.push(Default::default());
    r.choices[0].finish_reason = Some(FinishReason::from("guardrail"));
    r.service_tier = Some("turbo".into());
    r.extra.insert("vendor".into(), json!([1, 2]));
    let v: Value = serde_json::to_value(&r).unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "guardrail");
    assert_eq!(v["service_tier"], "turbo");
    assert_eq!(v["vendor"], json!([1, 2]));
    let back: CreateChatCompletionResponse = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
}

#[test]
fn a_tool_call_without_type_is_read_as_a_function_call() {
    // Some compatible servers omit `type` on tool calls; the crate reads them as function
    // calls and writes the tag back, so the re-serialized body is what the spec requires.
    let body = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "call_3", "function": {"name": "g", "arguments": "{}"}}]
        }}]
    });
    let r: CreateChatCompletionResponse = serde_json::from_value(body).unwrap();
    assert!(r.unknown_fields().is_empty());
    assert_eq!(r.tool_calls()[0].as_function().unwrap().function.name, "g");
    let back = serde_json::to_value(&r).unwrap();
    assert_eq!(
        back["choices"][0]["message"]["tool_calls"][0],
        json!({"type": "function", "id": "call_3", "function": {"name": "g", "arguments": "{}"}})
    );
}
