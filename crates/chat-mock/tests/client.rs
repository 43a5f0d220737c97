//! The mock under a real `chat_core::Client` (`mock.client()`): completions, streams, retries
//! on a paused clock, timeouts, and how each scripted fault surfaces as a client error.

use std::time::Duration;

use chat_core::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use chat_core::{Client, ErrorKind, TransportErrorKind};
use chat_mock::{Match, MockResponse, MockStream, MockTransport, REDACTED};
use serde_json::json;

fn ask(text: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o", [Message::user(text)])
}

/// Streams an answer to `ask("hi")` to its end: the text received and the error that ended
/// the stream, if any (nothing may follow an error).
async fn read_stream(client: &Client) -> (String, Option<chat_core::Error>) {
    let mut stream = client
        .create_chat_completion_stream(&ask("hi"))
        .await
        .unwrap();
    let mut text = String::new();
    let mut err = None;
    while let Some(chunk) = stream.next().await {
        assert!(err.is_none(), "an item after the error {err:?}");
        match chunk {
            Ok(c) => text.push_str(c.first_content().unwrap_or_default()),
            Err(e) => err = Some(e),
        }
    }
    (text, err)
}

#[tokio::test]
async fn the_client_gets_scripted_completions_and_the_mock_records_its_requests() {
    let mock = MockTransport::new();
    mock.on(Match::post("/chat/completions").user_message_contains("weather"))
        .respond(MockResponse::tool_call(
            "get_weather",
            json!({"city": "Paris"}),
        ));
    mock.on_any()
        .respond(MockResponse::text("Hello!").usage(3, 2));
    let client = mock.client();

    let reply = client
        .create_chat_completion(&ask("say hello"))
        .await
        .unwrap();
    assert_eq!(reply.first_content(), Some("Hello!"));
    assert_eq!(reply.request_id(), Some("req_mock_0"));
    let reply = client
        .create_chat_completion(&ask("weather in Paris?"))
        .await
        .unwrap();
    let call = reply.tool_calls()[0].as_function().unwrap();
    assert_eq!(call.function.name, "get_weather");

    let first = mock.request(0);
    assert_eq!(first.path(), "/v1/chat/completions");
    assert_eq!(first.header("authorization"), Some(REDACTED));
    assert!(first.header_matches("authorization", "Bearer sk-mock"));
    assert_eq!(first.chat_request().model, "gpt-4o");
    mock.assert_request_json(
        1,
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "weather in Paris?"}]}),
    );
    mock.assert_all_used();
}

#[tokio::test]
async fn the_client_reads_a_scripted_stream() {
    let mock = MockTransport::new();
    mock.on(Match::chat().stream(true))
        .respond_stream(MockStream::text("Hello there, world").usage(5, 3));
    mock.push(MockStream::tool_call("lookup", json!({"q": "rust"})).chunk_chars(4));
    let client = mock.client();

    // Usage comes last, as from the API, when the request asks for it.
    let mut stream = client
        .create_chat_completion_stream(&ask("hi").include_usage(true))
        .await
        .unwrap();
    let mut text = String::new();
    let mut usage = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        text.push_str(chunk.first_content().unwrap_or_default());
        usage = usage.or(chunk.usage);
    }
    assert_eq!(text, "Hello there, world");
    assert_eq!(usage.unwrap().total_tokens, 8);
    mock.assert_request_json(
        0,
        json!({"stream": true, "stream_options": {"include_usage": true}}),
    );

    let stream = client
        .create_chat_completion_stream(&ask("look it up"))
        .await
        .unwrap();
    let done = stream.final_response().await.unwrap();
    let call = done.tool_calls()[0].as_function().unwrap();
    assert_eq!(call.function.name, "lookup");
    assert_eq!(call.function.arguments, r#"{"q":"rust"}"#);
    mock.assert_all_used();
}

#[tokio::test]
async fn a_completion_script_also_serves_a_streaming_call() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("same script"));
    let stream = mock
        .client()
        .create_chat_completion_stream(&ask("hi"))
        .await
        .unwrap();
    let done = stream.final_response().await.unwrap();
    assert_eq!(done.first_content(), Some("same script"));
}

#[tokio::test(start_paused = true)]
async fn retries_after_429s_run_instantly_on_a_paused_clock() {
    let mock = MockTransport::new();
    mock.push(MockResponse::error(429).retry_after(20)).times(2);
    mock.push(MockResponse::text("third time lucky"));
    let start = tokio::time::Instant::now();
    let reply = mock
        .client()
        .create_chat_completion(&ask("hi"))
        .await
        .unwrap();
    assert_eq!(reply.first_content(), Some("third time lucky"));
    assert_eq!(reply.meta().attempts, 3);
    // Two waits of retry-after on the paused clock: no real time passed.
    assert!(
        start.elapsed() >= Duration::from_secs(40),
        "{:?}",
        start.elapsed()
    );
    mock.assert_request_count(3);
    mock.assert_all_used();
}

#[tokio::test(start_paused = true)]
async fn a_hang_makes_the_client_time_out_instantly_on_a_paused_clock() {
    let mock = MockTransport::new();
    mock.push(MockResponse::hang());
    let client = mock.client_with(
        MockTransport::client_config()
            .timeout(Duration::from_secs(30))
            .max_retries(0),
    );
    let start = tokio::time::Instant::now();
    let err = client.create_chat_completion(&ask("hi")).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn a_stalled_stream_hits_the_idle_timeout() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("a b c").hang_after(2));
    let client = mock
        .client_with(MockTransport::client_config().stream_idle_timeout(Duration::from_secs(5)));
    let (text, err) = read_stream(&client).await;
    assert_eq!(text, "a");
    let err = err.expect("idle timeout");
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn connect_refused_is_a_transport_error_after_retries() {
    let mock = MockTransport::new();
    mock.push(MockResponse::connect_refused()).times(2);
    let client = mock.client_with(MockTransport::client_config().max_retries(1));
    tokio::time::pause();
    let err = client.create_chat_completion(&ask("hi")).await.unwrap_err();
    match err.kind() {
        ErrorKind::Transport(t) => assert_eq!(t.kind(), TransportErrorKind::Connect),
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(err.attempts(), 2);
    mock.assert_all_used();
}

#[tokio::test]
async fn a_disconnect_mid_stream_surfaces_as_an_io_error() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("one two three").disconnect_after(3));
    let (text, err) = read_stream(&mock.client()).await;
    assert_eq!(text, "one two");
    match err.expect("an error").kind() {
        ErrorKind::Transport(t) => assert_eq!(t.kind(), TransportErrorKind::Io),
        other => panic!("unexpected error {other:?}"),
    }
}

#[tokio::test]
async fn an_error_event_in_a_stream_is_an_api_error() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("partial").error_after(1, MockResponse::error(500).message("boom")));
    let (text, err) = read_stream(&mock.client()).await;
    assert_eq!(text, "", "the error event comes right after the role chunk");
    let err = err.expect("an error");
    let api = err.api_error().expect("an api error");
    assert!(api.in_stream);
    assert_eq!(api.message(), "boom");
}

#[tokio::test]
async fn malformed_json_and_html_pages_are_typed_errors() {
    let mock = MockTransport::new();
    mock.push(MockResponse::malformed_json());
    mock.push(MockResponse::html_error(502)).times(3);
    let client = mock.client();
    tokio::time::pause();
    let err = client.create_chat_completion(&ask("hi")).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode(_)), "{err:?}");
    let err = client.create_chat_completion(&ask("hi")).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert!(err.to_string().contains("502 Bad Gateway"), "{err}");
    assert_eq!(err.attempts(), 3, "502 is retried");
    mock.assert_all_used();
}

#[tokio::test]
async fn an_unmatched_request_fails_the_call_without_retries_and_names_the_rules() {
    let mock = MockTransport::new();
    mock.on(Match::chat().model("gpt-4o-mini"))
        .respond(MockResponse::text("x"))
        .named("mini model");
    let err = mock
        .client()
        .create_chat_completion(&ask("hi"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(err.attempts(), 1);
    let text = err.to_string();
    assert!(
        text.contains("no rule matched request #0: POST /v1/chat/completions"),
        "{text}"
    );
    assert!(
        text.contains("#0 mini model (POST /chat/completions, model = \"gpt-4o-mini\")"),
        "{text}"
    );
    assert_eq!(mock.verify().unwrap_err().problems().len(), 2);
    mock.check_on_drop(false);
}
