//! Realistic bodies of OpenAI and compatible servers (Azure OpenAI, vLLM, Ollama, Groq,
//! OpenRouter, DeepSeek), error bodies and lenient shapes (tests/fixtures): each deserializes,
//! round-trips losslessly, and `unknown_fields()` lists exactly the vendor's additions.

mod support;

use chat_types::{
    ChatCompletionRequestMessage, ChatCompletionRequestUserMessageContent,
    ChatCompletionRequestUserMessageContentPart, ChatCompletionResponseMessageAnnotation,
    CreateChatCompletionRequest, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
    ErrorCode, ErrorResponse, FinishReason, Role, ServiceTier, UnknownFields,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use support::{round_trip_str, sse_payloads};

/// What a fixture is a body of.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Request,
    Response,
    Stream,
    Error,
}

/// Every fixture, its kind and exactly the paths `unknown_fields()` reports (over all events of
/// a stream, deduplicated).
const FIXTURES: &[(&str, Kind, &[&str])] = &[
    ("openai-plain.json", Kind::Response, &[]),
    ("openai-refusal.json", Kind::Response, &[]),
    ("openai-parallel-tool-calls.json", Kind::Response, &[]),
    ("openai-logprobs.json", Kind::Response, &[]),
    ("openai-audio.json", Kind::Response, &[]),
    ("openai-web-search.json", Kind::Response, &[]),
    ("openai-stream-tool-calls.sse", Kind::Stream, &[]),
    (
        "azure-content-filter.json",
        Kind::Response,
        &["choices[].content_filter_results", "prompt_filter_results"],
    ),
    (
        "azure-stream.sse",
        Kind::Stream,
        &["choices[].content_filter_results", "prompt_filter_results"],
    ),
    (
        "vllm-reasoning.json",
        Kind::Response,
        &[
            "choices[].message.reasoning_content",
            "choices[].stop_reason",
            "kv_transfer_params",
            "prompt_logprobs",
        ],
    ),
    (
        "vllm-stream-reasoning.sse",
        Kind::Stream,
        &["choices[].delta.reasoning_content", "choices[].stop_reason"],
    ),
    (
        "ollama.json",
        Kind::Response,
        &["choices[].message.tool_calls[]<type=function>.index"],
    ),
    ("ollama-stream.sse", Kind::Stream, &[]),
    (
        "groq.json",
        Kind::Response,
        &[
            "service_tier=\"on_demand\"",
            "usage.completion_time",
            "usage.prompt_time",
            "usage.queue_time",
            "usage.total_time",
            "usage_breakdown",
            "x_groq",
        ],
    ),
    ("groq-stream.sse", Kind::Stream, &["x_groq"]),
    (
        "openrouter.json",
        Kind::Response,
        &[
            "choices[].message.reasoning",
            "choices[].native_finish_reason",
            "provider",
            "usage.completion_tokens_details.image_tokens",
            "usage.cost",
            "usage.cost_details",
            "usage.is_byok",
        ],
    ),
    (
        "openrouter-stream.sse",
        Kind::Stream,
        &[
            "choices[].native_finish_reason",
            "provider",
            "usage.cost",
            "usage.cost_details",
            "usage.is_byok",
        ],
    ),
    (
        "deepseek-reasoner.json",
        Kind::Response,
        &[
            "choices[].message.reasoning_content",
            "usage.prompt_cache_hit_tokens",
            "usage.prompt_cache_miss_tokens",
        ],
    ),
    (
        "deepseek-stream.sse",
        Kind::Stream,
        &[
            "choices[].delta.reasoning_content",
            "usage.prompt_cache_hit_tokens",
            "usage.prompt_cache_miss_tokens",
        ],
    ),
    ("error-openai-rate-limit.json", Kind::Error, &[]),
    ("error-openai-insufficient-quota.json", Kind::Error, &[]),
    (
        "error-numeric-code.json",
        Kind::Error,
        &["error.metadata", "user_id"],
    ),
    (
        "error-azure-content-filter.json",
        Kind::Error,
        &["error.innererror", "error.status"],
    ),
    ("error-azure-rate-limit.json", Kind::Error, &[]),
    ("lenient-missing-metadata.json", Kind::Response, &[]),
    ("lenient-nulls.json", Kind::Response, &[]),
    (
        "lenient-empty-finish-reason.json",
        Kind::Response,
        &[
            "choices[].finish_reason=\"\"",
            "choices[].finish_reason=\"eos\"",
        ],
    ),
    (
        "lenient-stream.sse",
        Kind::Stream,
        &["choices[].finish_reason=\"\""],
    ),
    (
        "request-vllm-extras.json",
        Kind::Request,
        &[
            "chat_template_kwargs",
            "guided_json",
            "min_p",
            "repetition_penalty",
            "top_k",
        ],
    ),
    (
        "request-openrouter-extras.json",
        Kind::Request,
        &["provider", "reasoning", "transforms", "usage"],
    ),
];

fn fixture_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture(name: &str) -> String {
    let p = fixture_dir().join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Round-trips one body; returns it with its unknown paths.
fn load<T>(name: &str, text: &str) -> (T, Vec<String>)
where
    T: DeserializeOwned + Serialize + UnknownFields,
{
    round_trip_str::<T>(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn response(name: &str) -> CreateChatCompletionResponse {
    load(name, &fixture(name)).0
}

fn stream(name: &str) -> Vec<CreateChatCompletionStreamResponse> {
    let text = fixture(name);
    let payloads = sse_payloads(&text);
    assert!(!payloads.is_empty(), "{name}: no events");
    payloads
        .iter()
        .enumerate()
        .map(|(i, p)| load(&format!("{name} event {i}"), p).0)
        .collect()
}

fn error(name: &str) -> ErrorResponse {
    load(name, &fixture(name)).0
}

fn request(name: &str) -> CreateChatCompletionRequest {
    load(name, &fixture(name)).0
}

#[test]
fn every_fixture_round_trips_and_reports_exactly_the_vendor_fields() {
    for (name, kind, expected) in FIXTURES {
        let text = fixture(name);
        let mut unknown = match kind {
            Kind::Request => load::<CreateChatCompletionRequest>(name, &text).1,
            Kind::Response => load::<CreateChatCompletionResponse>(name, &text).1,
            Kind::Error => load::<ErrorResponse>(name, &text).1,
            Kind::Stream => {
                let payloads = sse_payloads(&text);
                assert!(!payloads.is_empty(), "{name}: no events");
                payloads
                    .iter()
                    .enumerate()
                    .flat_map(|(i, p)| {
                        load::<CreateChatCompletionStreamResponse>(&format!("{name} event {i}"), p)
                            .1
                    })
                    .collect()
            }
        };
        unknown.sort();
        unknown.dedup();
        assert_eq!(unknown, *expected, "{name}");
    }
}

#[test]
fn every_fixture_file_is_listed() {
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            FIXTURES.iter().any(|(f, _, _)| *f == name),
            "fixture {name} is not in FIXTURES"
        );
    }
}

#[test]
fn openai_plain_response_with_usage_details() {
    let r = response("openai-plain.json");
    assert_eq!(
        r.id.as_deref(),
        Some("chatcmpl-BRx4wzVj4cPpgwvTNkG3wMvoTiE8x")
    );
    assert_eq!(r.object.as_deref(), Some("chat.completion"));
    assert_eq!(r.created, Some(1745935110));
    assert_eq!(r.first_content(), Some("The capital of France is Paris."));
    assert_eq!(r.first_refusal(), None);
    assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(r.service_tier, Some(ServiceTier::Default));
    assert_eq!(r.system_fingerprint.as_deref(), Some("fp_f5bdcc3276"));
    let u = r.usage.as_ref().unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (1214, 8, 1222)
    );
    assert_eq!(
        u.prompt_tokens_details.as_ref().unwrap().cached_tokens,
        Some(1152)
    );
    let c = u.completion_tokens_details.as_ref().unwrap();
    assert_eq!(c.reasoning_tokens, Some(0));
    assert_eq!(c.rejected_prediction_tokens, Some(0));
    assert_eq!(
        r.first_message().unwrap().annotations.as_deref(),
        Some(&[][..])
    );
}

#[test]
fn openai_refusal() {
    let r = response("openai-refusal.json");
    assert_eq!(r.first_content(), None);
    assert_eq!(
        r.first_refusal(),
        Some("I'm sorry, I can't assist with that request.")
    );
    assert_eq!(r.first_message().unwrap().role, Role::Assistant);
}

#[test]
fn openai_parallel_tool_calls() {
    let r = response("openai-parallel-tool-calls.json");
    assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = r.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].id(), Some("call_Tn3JxgB7m2Ff0aP9sW1cKqXe"));
    let f = calls[1].as_function().unwrap();
    assert_eq!(f.function.name, "get_weather");
    let args: Value = f.function.parse_arguments().unwrap();
    assert_eq!(
        args,
        json!({"location": "Bogotá, Colombia", "unit": "celsius"})
    );
}

#[test]
fn openai_logprobs() {
    let r = response("openai-logprobs.json");
    let lp = r.choices[0].logprobs.as_ref().unwrap();
    assert_eq!(lp.refusal, None);
    let tokens = lp.content.as_ref().unwrap();
    assert_eq!(tokens.len(), 2);
    let bytes: Vec<u8> = tokens
        .iter()
        .flat_map(|t| t.bytes.clone().unwrap())
        .collect();
    assert_eq!(String::from_utf8(bytes).unwrap(), "Hi!");
    assert_eq!(tokens[1].logprob, -1.9361265e-7);
    assert_eq!(tokens[0].top_logprobs[1].token, "Hello");
    assert_eq!(
        tokens[0].top_logprobs[1].bytes.as_deref(),
        Some(&b"Hello"[..])
    );
}

#[test]
fn openai_audio_output() {
    let r = response("openai-audio.json");
    let m = r.first_message().unwrap();
    assert_eq!(m.content, None);
    let audio = m.audio.as_ref().unwrap();
    assert_eq!(audio.id, "audio_6810d2a0b4c48191a2f2d59c3e6d5b7a");
    assert_eq!(audio.expires_at, 1745952160);
    assert!(audio.data.starts_with("UklGR"));
    assert_eq!(
        audio.transcript,
        "Golden retrievers are friendly, loyal dogs."
    );
    let u = r.usage.as_ref().unwrap();
    let c = u.completion_tokens_details.as_ref().unwrap();
    assert_eq!((c.audio_tokens, c.text_tokens), (Some(92), Some(23)));
    let p = u.prompt_tokens_details.as_ref().unwrap();
    assert_eq!((p.text_tokens, p.image_tokens), (Some(17), Some(0)));
}

#[test]
fn openai_web_search_annotations() {
    let r = response("openai-web-search.json");
    let m = r.first_message().unwrap();
    let content = m.content.as_deref().unwrap();
    let Some([ChatCompletionResponseMessageAnnotation::UrlCitation(a)]) = m.annotations.as_deref()
    else {
        panic!("expected one url citation: {:?}", m.annotations);
    };
    let c = &a.url_citation;
    assert_eq!(c.title, "News - Rust Foundation");
    assert_eq!(
        &content[c.start_index as usize..c.end_index as usize],
        format!("[foundation.rust-lang.org]({})", c.url)
    );
    assert_eq!(r.system_fingerprint.as_deref(), Some(""));
}

#[test]
fn openai_stream_with_parallel_tool_calls_usage_and_obfuscation() {
    let chunks = stream("openai-stream-tool-calls.sse");
    assert_eq!(chunks.len(), 7);
    assert!(chunks.iter().all(|c| c.obfuscation.is_some()));
    assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
    // Reassemble the two calls from their pieces.
    let mut calls: Vec<(String, String, String)> = Vec::new();
    for c in &chunks {
        for choice in &c.choices {
            for piece in choice.delta.tool_calls.iter().flatten() {
                let i = piece.index as usize;
                if calls.len() <= i {
                    calls.resize(i + 1, Default::default());
                }
                if let Some(id) = &piece.id {
                    calls[i].0 = id.clone();
                }
                if let Some(f) = &piece.function {
                    calls[i].1 += f.name.as_deref().unwrap_or("");
                    calls[i].2 += f.arguments.as_deref().unwrap_or("");
                }
            }
        }
    }
    assert_eq!(calls[0].1, "get_weather");
    assert_eq!(calls[0].2, r#"{"location":"Paris"}"#);
    assert_eq!(calls[1].0, "call_Zc7nP2rT5kW9mQ4sYv8LbX1d");
    assert_eq!(calls[1].2, r#"{"tz":"Europe/Paris"}"#);
    assert_eq!(
        chunks[5].choices[0].finish_reason,
        Some(FinishReason::ToolCalls)
    );
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert_eq!(last.usage.as_ref().unwrap().total_tokens, 137);
    assert!(chunks[..6].iter().all(|c| c.usage.is_none()));
}

#[test]
fn azure_filter_results_land_in_extra() {
    let r = response("azure-content-filter.json");
    assert_eq!(r.first_content(), Some("Hello! How can I help you today?"));
    let pf = &r.extra["prompt_filter_results"][0];
    assert_eq!(pf["prompt_index"], 0);
    assert_eq!(pf["content_filter_results"]["jailbreak"]["detected"], false);
    let cf = &r.choices[0].extra["content_filter_results"];
    assert_eq!(cf["violence"]["severity"], "safe");
}

#[test]
fn azure_stream_starts_with_a_filter_only_chunk() {
    let chunks = stream("azure-stream.sse");
    let first = &chunks[0];
    assert!(first.choices.is_empty());
    assert_eq!(
        (first.id.as_deref(), first.created, first.model.as_str()),
        (Some(""), Some(0), "")
    );
    assert!(first.extra.contains_key("prompt_filter_results"));
    let text: String = chunks.iter().filter_map(|c| c.first_content()).collect();
    assert_eq!(text, "Hello there!");
    assert_eq!(
        chunks.last().unwrap().choices[0].finish_reason,
        Some(FinishReason::Stop)
    );
    assert_eq!(
        chunks[1].choices[0].extra["content_filter_results"],
        json!({})
    );
}

#[test]
fn vllm_reasoning_content_and_stop_reason() {
    let r = response("vllm-reasoning.json");
    let m = r.first_message().unwrap();
    assert_eq!(m.content.as_deref(), Some("17 × 23 = 391"));
    assert!(m.extra["reasoning_content"]
        .as_str()
        .unwrap()
        .contains("391"));
    assert_eq!(m.tool_calls.as_deref(), Some(&[][..]));
    assert_eq!(r.choices[0].extra["stop_reason"], Value::Null);
    assert!(r.usage.as_ref().unwrap().prompt_tokens_details.is_none());
    assert_eq!(r.system_fingerprint, None);

    let chunks = stream("vllm-stream-reasoning.sse");
    let reasoning: String = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|ch| ch.delta.extra.get("reasoning_content")?.as_str())
        .collect();
    assert_eq!(reasoning, "The user greets me.");
    let stop = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .find(|ch| ch.finish_reason.is_some());
    assert_eq!(stop.unwrap().extra["stop_reason"], 151645);
    assert_eq!(
        chunks
            .last()
            .unwrap()
            .usage
            .as_ref()
            .unwrap()
            .completion_tokens,
        21
    );
}

#[test]
fn ollama_omits_fields_and_numbers_tool_calls() {
    let r = response("ollama.json");
    assert_eq!(r.system_fingerprint, None);
    assert_eq!(r.service_tier, None);
    assert_eq!(r.choices[0].logprobs, None);
    assert_eq!(r.first_content(), Some(""));
    let call = r.tool_calls()[0].as_function().unwrap();
    assert_eq!(call.function.name, "get_current_weather");
    assert_eq!(call.extra["index"], 0);

    let chunks = stream("ollama-stream.sse");
    let text: String = chunks.iter().filter_map(|c| c.first_content()).collect();
    assert_eq!(text, "Hi there");
    assert_eq!(chunks[0].system_fingerprint.as_deref(), Some("fp_ollama"));
    assert_eq!(
        chunks.last().unwrap().usage.as_ref().unwrap().total_tokens,
        29
    );
}

#[test]
fn groq_timing_fields_and_x_groq() {
    let r = response("groq.json");
    assert_eq!(r.extra["x_groq"]["id"], "req_01jt2x8q1kf7a9w3d0m5c6b4ye");
    assert_eq!(
        r.service_tier,
        Some(ServiceTier::Unknown("on_demand".into()))
    );
    let u = r.usage.as_ref().unwrap();
    assert_eq!(u.total_tokens, 58);
    assert_eq!(u.extra["queue_time"], 0.053018812);
    assert_eq!(u.extra["total_time"], 0.055137507);

    let chunks = stream("groq-stream.sse");
    let last = chunks.last().unwrap();
    assert_eq!(last.usage, None);
    assert_eq!(last.extra["x_groq"]["usage"]["total_tokens"], 14);
}

#[test]
fn openrouter_provider_and_native_finish_reason() {
    let r = response("openrouter.json");
    assert_eq!(r.extra["provider"], "OpenAI");
    assert_eq!(r.model, "openai/gpt-4o-mini");
    assert_eq!(r.choices[0].extra["native_finish_reason"], "stop");
    assert_eq!(r.first_message().unwrap().extra["reasoning"], Value::Null);
    let u = r.usage.as_ref().unwrap();
    assert_eq!(u.extra["cost"], 0.00000735);
    assert_eq!(u.extra["is_byok"], false);
    let details = u.completion_tokens_details.as_ref().unwrap();
    assert_eq!(details.reasoning_tokens, Some(0));
    assert_eq!(details.extra["image_tokens"], 0);

    let chunks = stream("openrouter-stream.sse");
    assert_eq!(
        chunks.len(),
        4,
        "the `: OPENROUTER PROCESSING` comments are not events"
    );
    let text: String = chunks.iter().filter_map(|c| c.first_content()).collect();
    assert_eq!(text, "Hello there.");
    assert_eq!(
        chunks[2].choices[0].extra["native_finish_reason"],
        "end_turn"
    );
    assert_eq!(chunks[3].usage.as_ref().unwrap().extra["cost"], 0.000132);
}

#[test]
fn deepseek_reasoning_and_cache_tokens() {
    let r = response("deepseek-reasoner.json");
    let m = r.first_message().unwrap();
    assert!(m.extra["reasoning_content"]
        .as_str()
        .unwrap()
        .starts_with("Compare"));
    let u = r.usage.as_ref().unwrap();
    assert_eq!(u.extra["prompt_cache_miss_tokens"], 18);
    assert_eq!(
        u.completion_tokens_details
            .as_ref()
            .unwrap()
            .reasoning_tokens,
        Some(398)
    );

    let chunks = stream("deepseek-stream.sse");
    assert_eq!(chunks.len(), 4, "keep-alive comments are not events");
    let reasoning: String = chunks
        .iter()
        .filter_map(|c| c.choices[0].delta.extra.get("reasoning_content")?.as_str())
        .collect();
    assert_eq!(reasoning, "Greeting.");
    assert_eq!(chunks[0].choices[0].delta.content, None);
    let last = chunks.last().unwrap();
    assert_eq!(
        last.usage.as_ref().unwrap().extra["prompt_cache_hit_tokens"],
        0
    );
}

#[test]
fn openai_error_bodies() {
    let e = error("error-openai-rate-limit.json").error;
    assert_eq!(
        e.code,
        Some(ErrorCode::String("rate_limit_exceeded".into()))
    );
    assert_eq!(e.r#type.as_deref(), Some("tokens"));
    assert_eq!(e.param, None);
    assert!(e.message.starts_with("Rate limit reached for gpt-4o"));
    assert!(e.to_string().contains("code: rate_limit_exceeded"));

    let e = error("error-openai-insufficient-quota.json").error;
    assert_eq!(e.r#type.as_deref(), Some("insufficient_quota"));
    assert!(e.code.as_ref().unwrap().is("insufficient_quota"));
}

#[test]
fn numeric_error_code_and_vendor_metadata() {
    let body = error("error-numeric-code.json");
    let e = &body.error;
    assert!(matches!(&e.code, Some(ErrorCode::Number(n)) if n.as_u64() == Some(429)));
    assert!(e.code.as_ref().unwrap().is("429"));
    assert_eq!(e.r#type, None);
    assert_eq!(e.extra["metadata"]["provider_name"], "Chutes");
    assert_eq!(body.extra["user_id"], "user_2vB8kP4qLx7mN1sT9wZc3RfY6dH");
    let back = serde_json::to_value(&body).unwrap();
    assert_eq!(back["error"]["code"], 429, "a numeric code stays a number");
}

#[test]
fn azure_error_shapes() {
    let e = error("error-azure-content-filter.json").error;
    assert_eq!(e.r#type, None);
    assert_eq!(e.param.as_deref(), Some("prompt"));
    assert!(e.code.as_ref().unwrap().is("content_filter"));
    assert_eq!(e.extra["status"], 400);
    assert_eq!(
        e.extra["innererror"]["content_filter_result"]["jailbreak"]["filtered"],
        true
    );

    let e = error("error-azure-rate-limit.json").error;
    assert_eq!(e.code, Some(ErrorCode::String("429".into())));
    assert_eq!((e.r#type.as_deref(), e.param.as_deref()), (None, None));
    assert!(e.message.contains("exceeded token rate limit"));
}

#[test]
fn missing_id_created_object_and_fingerprint_are_accepted() {
    let r = response("lenient-missing-metadata.json");
    assert_eq!(
        (r.id.as_deref(), r.created, r.object.as_deref()),
        (None, None, None)
    );
    assert_eq!(r.system_fingerprint, None);
    assert_eq!(r.first_content(), Some("Sure."));
    let back = serde_json::to_value(&r).unwrap();
    for absent in ["id", "created", "object", "system_fingerprint"] {
        assert!(back.get(absent).is_none(), "{absent} was invented");
    }
}

#[test]
fn nulls_where_the_spec_has_arrays_and_strings() {
    let r = response("lenient-nulls.json");
    let m = r.first_message().unwrap();
    assert_eq!(m.tool_calls, None);
    assert_eq!(m.annotations, None);
    assert_eq!(m.function_call, None);
    assert_eq!(m.audio, None);
    assert!(r.tool_calls().is_empty());
    assert_eq!(r.service_tier, None);
    assert_eq!(r.system_fingerprint, None);
    assert_eq!(r.metadata, None);
    assert!(r.usage.as_ref().unwrap().prompt_tokens_details.is_none());
}

#[test]
fn empty_and_unknown_finish_reasons_are_kept() {
    let r = response("lenient-empty-finish-reason.json");
    let empty = r.choices[0].finish_reason.as_ref().unwrap();
    assert_eq!(empty, &FinishReason::Unknown(String::new()));
    assert!(!empty.is_finished());
    let eos = r.choices[1].finish_reason.as_ref().unwrap();
    assert_eq!(eos.as_str(), "eos");
    assert!(eos.is_finished());
    let back = serde_json::to_value(&r).unwrap();
    assert_eq!(back["choices"][0]["finish_reason"], "");
    assert_eq!(back["choices"][1]["finish_reason"], "eos");
}

#[test]
fn lenient_stream() {
    let chunks = stream("lenient-stream.sse");
    assert_eq!(chunks.len(), 3);
    assert!(chunks[..2].iter().all(|c| c.choices[0]
        .finish_reason
        .as_ref()
        .is_some_and(|f| !f.is_finished())));
    assert_eq!(chunks[2].choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(chunks[2].id, None);
    assert_eq!(chunks[1].choices[0].delta.tool_calls, None);
    let text: String = chunks.iter().filter_map(|c| c.first_content()).collect();
    assert_eq!(text, "Hello");
}

#[test]
fn requests_with_vendor_parameters() {
    let r = request("request-vllm-extras.json");
    assert_eq!(r.model.as_str(), "Qwen/Qwen3-8B");
    assert_eq!(r.messages.len(), 2);
    assert!(matches!(
        r.messages[0],
        ChatCompletionRequestMessage::System(_)
    ));
    assert_eq!(r.max_tokens, Some(256));
    assert_eq!(r.extra["top_k"], 20);
    assert_eq!(r.extra["chat_template_kwargs"]["enable_thinking"], false);

    let r = request("request-openrouter-extras.json");
    assert_eq!(r.extra["provider"]["order"][0], "Anthropic");
    assert_eq!(r.stream, Some(true));
    assert_eq!(r.stream_options.as_ref().unwrap().include_usage, Some(true));
    let ChatCompletionRequestMessage::User(u) = &r.messages[0] else {
        panic!("expected a user message");
    };
    let ChatCompletionRequestUserMessageContent::Array(parts) = &u.content else {
        panic!("expected content parts");
    };
    assert!(matches!(
        &parts[1],
        ChatCompletionRequestUserMessageContentPart::ImageUrl(i) if i.image_url.url == "https://example.com/page.png"
    ));
}
