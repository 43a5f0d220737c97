//! Smoke test of the wire machinery: tool calls, unknown fields and enum values.
use chat_types::*;
use serde_json::{json, Value};

#[test]
fn response_with_tool_calls_and_unknowns_round_trips() {
    let v = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "brand_new", "logprobs": null,
            "message": {"role": "assistant", "content": null, "reasoning_content": "hmm",
              "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "call_2", "type": "web_thing", "web": {"q": 1}},
                {"id": "call_3", "function": {"name": "g", "arguments": "{}"}}
              ]}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "zz": [1]},
        "prompt_filter_results": []
    });
    let r: CreateChatCompletionResponse = serde_json::from_value(v.clone()).unwrap();
    let s = serde_json::to_string(&r).unwrap();
    let r2: CreateChatCompletionResponse = serde_json::from_str(&s).unwrap();
    assert_eq!(r, r2);
    assert_eq!(r.tool_calls().len(), 3);
    assert!(matches!(
        r.tool_calls()[1],
        ChatCompletionMessageToolCalls::Unknown(_)
    ));
    assert_eq!(r.tool_calls()[2].as_function().unwrap().function.name, "g");
    assert_eq!(
        r.choices[0].finish_reason,
        Some(FinishReason::Unknown("brand_new".into()))
    );
    let back: Value = serde_json::from_str(&s).unwrap();
    assert_eq!(back["choices"][0]["message"]["reasoning_content"], "hmm");
    assert_eq!(
        back["choices"][0]["message"]["tool_calls"][1],
        v["choices"][0]["message"]["tool_calls"][1]
    );
    assert_eq!(back["choices"][0]["finish_reason"], "brand_new");
    assert_eq!(back["prompt_filter_results"], json!([]));
    let mut unk = r.unknown_fields();
    unk.sort();
    println!("{unk:?}");
    assert!(unk.contains(&"prompt_filter_results".to_string()));
}
