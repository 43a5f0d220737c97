//! Scripting a `MockTransport`: matching rules, order, repeat counts and the typed completion
//! builders, at the transport level.

mod support;

use chat_core::types::{CreateChatCompletionResponse, FinishReason};
use chat_mock::{Match, MockCompletion, MockResponse, MockStream, MockTransport};
use serde_json::json;
use support::*;

#[tokio::test]
async fn rules_match_on_path_model_message_and_pointer() {
    let mock = MockTransport::new();
    mock.on(Match::post("/chat/completions").user_message_contains("weather"))
        .respond(MockResponse::text("weather rule"))
        .always();
    mock.on(Match::chat().model("gpt-4o-mini"))
        .respond(MockResponse::text("model rule"))
        .always();
    mock.on(Match::chat().json_pointer("/temperature", json!(0.5)))
        .respond(MockResponse::text("pointer rule"))
        .always();
    mock.on(Match::chat().body_json(json!({"metadata": {"team": "a"}})))
        .respond(MockResponse::text("subset rule"))
        .always();
    mock.on(Match::get("/models"))
        .respond(MockResponse::json(200, json!({"data": []})))
        .optional();

    let c = completion(&mock, ask("gpt-4o", "what is the weather?")).await;
    assert_eq!(c.first_content(), Some("weather rule"));
    let c = completion(&mock, ask("gpt-4o-mini", "hi")).await;
    assert_eq!(c.first_content(), Some("model rule"));
    let body = json!({"model": "m", "temperature": 0.5, "messages": []});
    let c = completion(&mock, chat_request(body)).await;
    assert_eq!(c.first_content(), Some("pointer rule"));
    let body = json!({"model": "m", "metadata": {"team": "a", "x": "y"}, "messages": []});
    let c = completion(&mock, chat_request(body)).await;
    assert_eq!(c.first_content(), Some("subset rule"));
    // Text parts of array content count for message matching.
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "weather in Paris"}]}
    ]});
    let c = completion(&mock, chat_request(body)).await;
    assert_eq!(c.first_content(), Some("weather rule"));
    mock.assert_all_used();
}

#[tokio::test]
async fn header_stream_count_and_custom_conditions() {
    let mock = MockTransport::new();
    mock.on(Match::chat().header("authorization", "Bearer sk-other"))
        .respond(MockResponse::text("other key"))
        .optional();
    mock.on(Match::chat()
        .stream(false)
        .message_count(1)
        .when("model starts with o", |r| {
            r.model().is_some_and(|m| m.starts_with('o'))
        }))
    .respond(MockResponse::text("custom"));
    mock.push(MockResponse::text("fallback"));
    assert_eq!(
        completion(&mock, ask("o3", "x")).await.first_content(),
        Some("custom")
    );
    assert_eq!(
        completion(&mock, ask("o3", "x")).await.first_content(),
        Some("fallback")
    );
    mock.assert_all_used();
}

#[tokio::test]
async fn pushes_answer_in_order_and_times_repeats() {
    let mock = MockTransport::new();
    mock.push(MockResponse::error(429).retry_after_ms(10))
        .times(2);
    mock.push(MockResponse::text("finally"));
    for _ in 0..2 {
        let (parts, body) = send_full(&mock, ask("m", "hi")).await;
        assert_eq!(parts.status, 429);
        assert_eq!(parts.headers["retry-after-ms"], "10");
        let v: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
        assert_eq!(v["error"]["code"], "rate_limit_exceeded");
        assert_eq!(v["error"]["type"], "requests");
    }
    let c = completion(&mock, ask("m", "hi")).await;
    assert_eq!(c.first_content(), Some("finally"));
    mock.assert_request_count(3);
    mock.assert_all_used();
}

#[tokio::test]
async fn rules_take_turns_by_match_then_order() {
    let mock = MockTransport::new();
    let first = mock
        .on(Match::chat().user_message_contains("a"))
        .respond(MockResponse::text("a1"));
    mock.on(Match::chat().user_message_contains("a"))
        .respond(MockResponse::text("a2"));
    mock.on_any()
        .respond(MockResponse::text("anything"))
        .named("catch-all")
        .always();
    assert_eq!(
        completion(&mock, ask("m", "b")).await.first_content(),
        Some("anything")
    );
    assert_eq!(
        completion(&mock, ask("m", "a")).await.first_content(),
        Some("a1")
    );
    assert_eq!(first.used(), 1);
    assert_eq!(
        completion(&mock, ask("m", "a")).await.first_content(),
        Some("a2")
    );
    assert_eq!(
        completion(&mock, ask("m", "a")).await.first_content(),
        Some("anything")
    );
    mock.assert_all_used();
}

#[tokio::test]
async fn respond_with_computes_the_answer_from_the_request() {
    let mock = MockTransport::new();
    mock.on_any()
        .respond_with(|r| {
            MockResponse::text(format!(
                "echo: {}",
                r.last_user_message().unwrap_or_default()
            ))
            .into()
        })
        .always();
    let c = completion(&mock, ask("m", "ping")).await;
    assert_eq!(c.first_content(), Some("echo: ping"));
}

#[tokio::test]
async fn completion_builders_produce_valid_typed_responses() {
    let mock = MockTransport::new();
    mock.push(
        MockResponse::tool_call("get_weather", json!({"city": "Paris"}))
            .and_tool_call("get_time", json!({"tz": "CET"}))
            .usage(12, 8),
    );
    mock.push(MockResponse::refusal("I can't help with that."));
    mock.push(
        MockCompletion::texts(["one", "two"])
            .model("served-model")
            .id("chatcmpl-x"),
    );
    mock.push(MockResponse::text("cut").finish_reason(FinishReason::Length));
    mock.push(MockResponse::completion(
        CreateChatCompletionResponse::default(),
    ));

    let c = completion(&mock, ask("gpt-4o", "weather?")).await;
    assert_eq!(c.model, "gpt-4o", "the request's model is echoed");
    assert_eq!(c.object.as_deref(), Some("chat.completion"));
    assert_eq!(c.id.as_deref(), Some("chatcmpl-mock-0"));
    assert_eq!(c.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = c.tool_calls();
    assert_eq!(calls.len(), 2);
    let f = calls[0].as_function().unwrap();
    assert_eq!(f.id, "call_mock_0");
    assert_eq!(f.function.name, "get_weather");
    assert_eq!(
        f.function.parse_arguments::<serde_json::Value>().unwrap(),
        json!({"city": "Paris"})
    );
    assert_eq!(calls[1].id(), Some("call_mock_1"));
    let usage = c.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (12, 8, 20)
    );

    let c = completion(&mock, ask("m", "bad")).await;
    assert_eq!(c.first_refusal(), Some("I can't help with that."));
    assert_eq!(c.first_content(), None);

    let c = completion(&mock, ask("m", "two please")).await;
    assert_eq!(c.choices.len(), 2);
    assert_eq!(c.choices[1].index, 1);
    assert_eq!(c.choices[1].message.content.as_deref(), Some("two"));
    assert_eq!(
        (c.model.as_str(), c.id.as_deref().unwrap_or_default()),
        ("served-model", "chatcmpl-x")
    );

    let c = completion(&mock, ask("m", "long")).await;
    assert_eq!(c.finish_reason(), Some(&FinishReason::Length));

    let c = completion(&mock, ask("m", "typed")).await;
    assert_eq!(c.id.as_deref(), Some("chatcmpl-mock-4"));
    assert!(c.choices.is_empty());
    mock.assert_all_used();
}

#[tokio::test]
async fn responses_carry_request_id_content_type_and_custom_headers() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("a"));
    mock.push(
        MockResponse::text("b")
            .request_id("req_custom")
            .header("openai-processing-ms", "7")
            .status(201),
    );
    let (parts, _) = send_full(&mock, ask("m", "x")).await;
    assert_eq!(parts.headers["x-request-id"], "req_mock_0");
    assert_eq!(parts.headers["content-type"], "application/json");
    let (parts, _) = send_full(&mock, ask("m", "x")).await;
    assert_eq!(parts.status, 201);
    assert_eq!(parts.headers["x-request-id"], "req_custom");
    assert_eq!(parts.headers["openai-processing-ms"], "7");
}

#[tokio::test]
async fn a_completion_answers_a_streaming_request_as_a_stream() {
    let mock = MockTransport::new();
    mock.push(MockResponse::tool_call("lookup", json!({"q": 1})).usage(3, 4));
    let resp = mock.send(ask_stream("gpt-4o", "hi")).await.unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let text = resp.into_body().collect(1 << 20).await.unwrap();
    let text = std::str::from_utf8(&text).unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let chunks = stream_chunks(text);
    let call = chunks
        .iter()
        .find_map(|c| c.choices.first()?.delta.tool_calls.clone())
        .unwrap();
    assert_eq!(
        call[0].function.as_ref().unwrap().name.as_deref(),
        Some("lookup")
    );
    // The request did not ask for usage: as from the API, no usage chunk.
    assert!(chunks.iter().all(|c| c.usage.is_none()), "{text}");
    assert_eq!(chunks[0].model, "gpt-4o");
}

#[tokio::test]
async fn usage_is_streamed_when_asked_for_or_forced() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("hi").usage(3, 4)).times(2);
    mock.push(MockStream::text("hi").usage(1, 1).usage_always());
    let asking = chat_request(json!({
        "model": "m", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "x"}]
    }));
    let body = |resp: http::Response<chat_core::Body>| async move {
        let bytes = resp.into_body().collect(1 << 20).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    let text = body(mock.send(asking).await.unwrap()).await;
    let raw: Vec<serde_json::Value> = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    // The usage chunk comes last with no choices; every other chunk says `"usage": null`.
    let (last, rest) = raw.split_last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["total_tokens"], 7);
    assert!(
        rest.iter()
            .all(|c| c["usage"].is_null() && c.get("usage").is_some()),
        "{text}"
    );

    let text = body(mock.send(ask_stream("m", "x")).await.unwrap()).await;
    assert!(!text.contains("\"usage\""), "{text}");
    // A non-conforming server sends usage regardless.
    let text = body(mock.send(ask_stream("m", "x")).await.unwrap()).await;
    let chunks = stream_chunks(&text);
    assert_eq!(
        chunks.last().unwrap().usage.as_ref().unwrap().total_tokens,
        2
    );
}

#[tokio::test]
async fn raw_responses_send_any_status_headers_and_chunks() {
    let mock = MockTransport::new();
    mock.push(
        MockResponse::raw(418)
            .header("x-teapot", "yes")
            .chunks(["ab", "cd"]),
    );
    let resp = mock.send(ask("m", "x")).await.unwrap();
    assert_eq!(resp.status(), 418);
    assert_eq!(resp.headers()["x-teapot"], "yes");
    assert!(resp.headers().get("content-type").is_none());
    let (chunks, err) = chunks(resp.into_body()).await;
    assert!(err.is_none());
    assert_eq!(chunks, vec!["ab", "cd"]);
}

#[tokio::test]
async fn streams_convert_into_responses_for_push() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("hi"));
    mock.push(MockResponse::stream(MockStream::text("again")));
    for expected in ["hi", "again"] {
        let resp = mock.send(ask_stream("m", "x")).await.unwrap();
        let body = resp.into_body().collect(1 << 20).await.unwrap();
        let chunks = stream_chunks(std::str::from_utf8(&body).unwrap());
        assert_eq!(joined_content(&chunks), expected);
    }
}

#[tokio::test]
async fn a_test_overrides_a_fixtures_default_rule_by_priority() {
    // A shared fixture answers anything; one test wants two 429s first.
    let mock = MockTransport::new();
    mock.on(Match::chat())
        .respond(MockResponse::text("default answer"))
        .always()
        .optional();
    mock.push(MockResponse::error(429)).times(2).priority(1);
    let statuses = [
        mock.send(ask("m", "a")).await.unwrap().status().as_u16(),
        mock.send(ask("m", "b")).await.unwrap().status().as_u16(),
        mock.send(ask("m", "c")).await.unwrap().status().as_u16(),
    ];
    assert_eq!(statuses, [429, 429, 200]);
    // Equal priorities keep the order of adding.
    mock.push(MockResponse::text("later")).priority(1);
    mock.push(MockResponse::text("last")).priority(1);
    let answer = mock.send(ask("m", "d")).await.unwrap();
    let bytes = answer.into_body().collect(1 << 20).await.unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("\"later\""));
    mock.send(ask("m", "e")).await.unwrap();
    mock.assert_all_used();
}

#[tokio::test]
async fn tool_loops_are_scripted_without_json_pointers() {
    let mock = MockTransport::new();
    // Turn 1: the tool is offered (wherever it is in the list); the model calls it.
    mock.on(Match::chat()
        .offers_tool("lookup_order")
        .last_message_role("user"))
        .respond(
            MockResponse::tool_call("lookup_order", json!({"id": "A1"})).tool_call_id("call_7"),
        );
    // Turn 2: the app sends the result of exactly that call back.
    mock.on(Match::chat()
        .last_message_role("tool")
        .tool_result("call_7"))
        .respond(MockResponse::text("Your order shipped."));
    let tools = json!([
        {"type": "function", "function": {"name": "get_time", "parameters": {}}},
        {"type": "function", "function": {"name": "lookup_order", "parameters": {}}}
    ]);
    let turn1 = chat_request(json!({
        "model": "m", "tools": tools,
        "messages": [{"role": "user", "content": "where is A1?"}]
    }));
    let body = send_full(&mock, turn1).await.1.unwrap();
    let answer: CreateChatCompletionResponse = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer.tool_calls()[0].id(), Some("call_7"));

    let turn2 = chat_request(json!({
        "model": "m", "tools": tools,
        "messages": [
            {"role": "user", "content": "where is A1?"},
            {"role": "assistant", "tool_calls": [{"id": "call_7", "type": "function",
                "function": {"name": "lookup_order", "arguments": "{\"id\":\"A1\"}"}}]},
            {"role": "tool", "tool_call_id": "call_7", "content": "shipped"}
        ]
    }));
    let body = send_full(&mock, turn2).await.1.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("Your order shipped."));

    let second = &mock.requests()[1];
    assert_eq!(second.last_message_role(), Some("tool"));
    assert_eq!(second.tool_names(), ["get_time", "lookup_order"]);
    assert_eq!(
        second.tool_results(),
        [("call_7".to_owned(), "shipped".to_owned())]
    );
    mock.assert_all_used();

    // A mismatch names what the request had.
    let mock = MockTransport::new();
    mock.check_on_drop(false);
    mock.on(Match::chat()
        .offers_tool("lookup_order")
        .tool_result("call_9"))
        .respond(MockResponse::text("x"));
    let (_, body) = send_full(&mock, ask("m", "hi")).await;
    let text = String::from_utf8_lossy(&body.unwrap()).into_owned();
    assert!(
        text.contains(r#"offers tool \"lookup_order\" (request: tools [])"#),
        "{text}"
    );
    assert!(
        text.contains(r#"result of tool call \"call_9\" (request: tool results for [])"#),
        "{text}"
    );
}

#[tokio::test]
async fn streamed_tool_calls_take_an_id_too() {
    let mock = MockTransport::new();
    mock.push(MockStream::tool_call("f", json!({})).tool_call_id("call_abc"));
    let body = mock.send(ask_stream("m", "x")).await.unwrap().into_body();
    let text = body.collect(1 << 20).await.unwrap();
    let chunks = stream_chunks(std::str::from_utf8(&text).unwrap());
    let id = chunks
        .iter()
        .find_map(|c| c.choices.first()?.delta.tool_calls.as_ref()?[0].id.clone());
    assert_eq!(id.as_deref(), Some("call_abc"));
}
