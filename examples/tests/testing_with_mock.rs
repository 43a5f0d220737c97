//! The tests of the two apps in `testing_with_mock.rs`: how to test code that calls the API
//! with chat-mock. Script the answers, run the app, check its result and what it sent.
//!
//! Tests that involve retries run on a paused clock (`start_paused = true`), so the waits
//! between attempts take no time.

use chat_core::ErrorKind;
use chat_examples::testing_with_mock::{order_bot, stream_reply, Reply, MAX_TOOL_ROUNDS};
use chat_mock::{Match, MockResponse, MockStream, MockTransport};
use serde_json::json;

#[tokio::test]
async fn order_bot_runs_the_tool_and_sends_the_result_back() {
    let mock = MockTransport::new();
    mock.push(MockResponse::tool_call(
        "get_order_status",
        json!({"order_id": "A-1001"}),
    ));
    // Answers only once the tool result, with the order's carrier, is in the conversation.
    mock.on(Match::chat().message_contains("DHL"))
        .respond(MockResponse::text("It shipped with DHL."));

    let answer = order_bot(&mock.client(), "gpt-4o-mini", "Where is A-1001?")
        .await
        .unwrap();

    assert_eq!(answer, "It shipped with DHL.");
    mock.assert_request_count(2);
    // The first request offers the tool.
    mock.assert_request_json(
        0,
        json!({
            "model": "gpt-4o-mini",
            "tools": [{"type": "function", "function": {"name": "get_order_status"}}]
        }),
    );
    // The second one carries the model's call and the result, tied by the call id.
    mock.assert_request_json(
        1,
        json!({
            "messages": [
                {"role": "system"},
                {"role": "user", "content": "Where is A-1001?"},
                {"role": "assistant", "tool_calls": [{"id": "call_mock_0"}]},
                {"role": "tool", "tool_call_id": "call_mock_0"}
            ]
        }),
    );
    let result = mock.request(1).message_texts()[3].1.clone();
    let result: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert_eq!(
        result,
        json!({"order_id": "A-1001", "status": "shipped", "carrier": "DHL", "eta": "2025-06-03"})
    );
    mock.assert_all_used();
}

#[tokio::test]
async fn order_bot_tells_the_model_about_unknown_orders() {
    let mock = MockTransport::new();
    mock.push(MockResponse::tool_call(
        "get_order_status",
        json!({"order_id": "Z-9"}),
    ));
    mock.on(Match::chat().message_contains("order not found"))
        .respond(MockResponse::text("I cannot find order Z-9."));

    let answer = order_bot(&mock.client(), "m", "Where is Z-9?")
        .await
        .unwrap();

    assert_eq!(answer, "I cannot find order Z-9.");
    mock.assert_all_used();
}

#[tokio::test]
async fn order_bot_gives_up_when_the_model_keeps_calling_tools() {
    let mock = MockTransport::new();
    mock.on_any()
        .respond(MockResponse::tool_call(
            "get_order_status",
            json!({"order_id": "A-1002"}),
        ))
        .always();

    let e = order_bot(&mock.client(), "m", "Status?").await.unwrap_err();

    assert_eq!(e.to_string(), "no answer after 4 rounds of tool calls");
    mock.assert_request_count(MAX_TOOL_ROUNDS);
    // Every round adds the call and its result: 2 + 2 * 3 messages in the last request.
    assert_eq!(mock.request(3).message_texts().len(), 8);
}

#[tokio::test(start_paused = true)]
async fn order_bot_survives_a_rate_limit() {
    let mock = MockTransport::new();
    mock.push(MockResponse::error(429).retry_after(2));
    mock.push(MockResponse::text("All good."));

    let answer = order_bot(&mock.client(), "m", "Hi").await.unwrap();

    assert_eq!(answer, "All good.");
    mock.assert_request_count(2);
    assert_eq!(mock.request(1).header("x-retry-count"), Some("1"));
}

#[tokio::test]
async fn order_bot_surfaces_a_bad_request_without_retrying() {
    let mock = MockTransport::new();
    mock.push(MockResponse::error(400).message("Invalid model 'm'."));

    let e = order_bot(&mock.client(), "m", "Hi").await.unwrap_err();

    let e = e
        .downcast_ref::<chat_core::Error>()
        .expect("a client error");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(400));
    assert!(e.to_string().contains("Invalid model 'm'."), "{e}");
    mock.assert_request_count(1);
}

#[tokio::test]
async fn stream_reply_writes_each_piece_as_it_arrives() {
    let mock = MockTransport::new();
    mock.on(Match::chat().stream(true))
        .respond_stream(MockStream::pieces(["Hel", "lo", " there"]).usage(5, 3));

    let mut out = Vec::new();
    let reply = stream_reply(&mock.client(), "m", "Greet me", &mut out)
        .await
        .unwrap();

    assert_eq!(String::from_utf8(out).unwrap(), "Hello there");
    assert_eq!(reply.text, "Hello there");
    let usage = reply.usage.expect("usage");
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (5, 3));
    // The app asked for the usage chunk.
    mock.assert_request_json(
        0,
        json!({"stream": true, "stream_options": {"include_usage": true}}),
    );
}

#[tokio::test]
async fn stream_reply_fails_on_a_broken_stream_after_writing_what_arrived() {
    let mock = MockTransport::new();
    // The role chunk and two words arrive, then the connection breaks.
    mock.push(MockStream::text("one two three four").disconnect_after(3));

    let mut out = Vec::new();
    let e = stream_reply(&mock.client(), "m", "Count", &mut out)
        .await
        .unwrap_err();

    assert_eq!(String::from_utf8(out).unwrap(), "one two");
    let e = e
        .downcast_ref::<chat_core::Error>()
        .expect("a client error");
    assert!(matches!(e.kind(), ErrorKind::Transport(_)), "{e:?}");
}

#[tokio::test]
async fn stream_reply_reports_an_error_event_in_the_stream() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("partial answer").error_after(
        2,
        MockResponse::error(500).message("The server had an error."),
    ));

    let mut out = Vec::new();
    let e = stream_reply(&mock.client(), "m", "Hi", &mut out)
        .await
        .unwrap_err();

    assert_eq!(String::from_utf8(out).unwrap(), "partial");
    assert!(e.to_string().contains("The server had an error."), "{e}");
}

#[tokio::test]
async fn stream_reply_without_usage_leaves_it_empty() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("Just text."));

    let reply = stream_reply(&mock.client(), "m", "Hi", &mut std::io::sink())
        .await
        .unwrap();

    assert_eq!(
        reply,
        Reply {
            text: "Just text.".into(),
            usage: None
        }
    );
}
