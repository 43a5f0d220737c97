//! Recording and assertions of `MockTransport`: recorded requests (typed and raw, secrets
//! redacted), `verify`/`assert_all_used`, the drop check, unmatched requests and JSON
//! assertions, including the panic messages.

mod support;

use chat_mock::{Match, MockResponse, MockTransport, REDACTED};
use serde_json::json;
use support::*;

#[tokio::test]
async fn requests_are_recorded_raw_and_typed_with_secrets_redacted() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("ok"));
    let mut req = ask("gpt-4o", "hello");
    req.headers_mut()
        .insert("api-key", "azure-secret".parse().unwrap());
    req.headers_mut()
        .insert("x-session-token", "tok".parse().unwrap());
    req.headers_mut()
        .insert("openai-organization", "org-1".parse().unwrap());
    mock.send(req).await.unwrap();

    let r = mock.request(0);
    assert_eq!(r.method(), "POST");
    assert_eq!(r.uri(), "https://api.openai.com/v1/chat/completions");
    assert_eq!(r.path(), "/v1/chat/completions");
    assert_eq!(r.header("authorization"), Some(REDACTED));
    assert_eq!(r.header("api-key"), Some(REDACTED));
    assert_eq!(r.header("x-session-token"), Some(REDACTED));
    assert_eq!(r.header("openai-organization"), Some("org-1"));
    assert!(r.header_matches("authorization", "Bearer sk-test-secret"));
    assert!(!r.header_matches("authorization", "Bearer sk-wrong"));
    let debug = format!("{r:?} {mock:?}");
    assert!(
        !debug.contains("sk-test-secret") && !debug.contains("azure-secret"),
        "{debug}"
    );

    let typed = r.chat_request();
    assert_eq!(typed.model, "gpt-4o");
    assert_eq!(typed.messages.len(), 1);
    assert_eq!(r.last_user_message().as_deref(), Some("hello"));
    assert_eq!(r.pointer("/messages/0/role"), Some(&json!("user")));
    assert_eq!(mock.last_request().unwrap().index(), 0);
    assert_eq!(mock.requests().len(), 1);
    mock.assert_all_used();
}

#[tokio::test]
async fn a_body_that_is_not_a_chat_request_is_a_typed_parse_error() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("ok"));
    let req = chat_request(json!({"messages": []}));
    mock.send(req).await.unwrap();
    let err = mock.request(0).try_chat_request().unwrap_err().to_owned();
    assert!(err.contains("model"), "{err}");
}

#[tokio::test]
async fn json_assertions_pass_on_subset_and_exact_bodies() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("ok"));
    mock.send(chat_request(
        json!({"model": "m", "temperature": 1, "messages": []}),
    ))
    .await
    .unwrap();
    mock.assert_request_json(0, json!({"model": "m", "temperature": 1.0}));
    mock.assert_request_json_exact(0, json!({"messages": [], "temperature": 1, "model": "m"}));
}

#[tokio::test]
#[should_panic(
    expected = "the body of request #0 does not contain the expected JSON:\n  \
                           at /messages/0/content: expected \"bye\", got \"hello\""
)]
async fn subset_assertion_failure_names_the_path() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("ok"));
    mock.send(ask("m", "hello")).await.unwrap();
    mock.assert_request_json(0, json!({"messages": [{"content": "bye"}]}));
}

#[tokio::test]
#[should_panic(expected = "at /model: unexpected field with value \"m\"")]
async fn exact_assertion_failure_reports_extra_fields() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("ok"));
    mock.send(ask("m", "hello")).await.unwrap();
    mock.assert_request_json_exact(
        0,
        json!({"messages": [{"role": "user", "content": "hello"}]}),
    );
}

#[tokio::test]
#[should_panic(expected = "chat-mock: no request #3; 1 arrived\n  #0 POST /v1/chat/completions")]
async fn asking_for_a_missing_request_lists_those_that_arrived() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("ok"));
    mock.send(ask("m", "hello")).await.unwrap();
    let _ = mock.request(3);
}

#[tokio::test]
#[should_panic(expected = "chat-mock: expected 2 requests, 1 arrived")]
async fn request_count_assertion() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("ok"));
    mock.send(ask("m", "hello")).await.unwrap();
    mock.assert_request_count(2);
}

#[test]
#[should_panic(expected = "chat-mock: 2 problem(s):\n  \
                           unused rule #0 POST /chat/completions, model = \"gpt-4o\" -> \
                           completion: used 0 of 1 times\n  \
                           unused rule #1 retries (any request) -> error 429: used 1 of 2 times")]
fn assert_all_used_lists_unused_rules() {
    let mock = MockTransport::new();
    mock.on(Match::post("/chat/completions").model("gpt-4o"))
        .respond(MockResponse::text("never asked"));
    let rule = mock
        .push(MockResponse::error(429))
        .times(2)
        .named("retries");
    mock.on_any()
        .respond(MockResponse::text("fine to skip"))
        .optional();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        mock.send(ask("other", "x")).await.unwrap();
    });
    assert_eq!(rule.used(), 1);
    mock.check_on_drop(false);
    mock.assert_all_used();
}

#[test]
#[should_panic(
    expected = "unused rule #0 any request -> completion: used 0 times (any number allowed)"
)]
fn always_rules_must_be_used_at_least_once() {
    let mock = MockTransport::new();
    mock.on_any().respond(MockResponse::text("x")).always();
    mock.check_on_drop(false);
    mock.assert_all_used();
}

#[test]
#[should_panic(expected = "checked when the last MockTransport was dropped")]
fn dropping_the_last_handle_checks_the_script() {
    let mock = MockTransport::new();
    let clone = mock.clone();
    mock.push(MockResponse::text("unused"));
    drop(mock);
    // The clone still holds the script: no check yet.
    assert!(clone.verify().is_err());
    drop(clone);
}

#[test]
fn the_drop_check_runs_where_the_test_drops_its_mock_not_in_an_app_task() {
    // An app task (a server, a worker) owns a client of the mock and outlives the test body:
    // a panic when that task is dropped would be swallowed by the runtime, so the check runs
    // where the test's own mock goes out of scope.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            let mock = MockTransport::new();
            mock.push(MockResponse::text("hi"));
            mock.on(Match::chat().user_message_contains("refund"))
                .respond(MockResponse::text("never used"));
            let client = mock.client();
            let request = chat_core::types::CreateChatCompletionRequest::new(
                "gpt-4o-mini",
                [chat_core::types::ChatCompletionRequestMessage::user(
                    "hello",
                )],
            );
            let app = tokio::spawn(async move {
                let answer = client.create_chat_completion(&request).await;
                // The app keeps its client and waits for more work.
                let _keep = client;
                let _ = answer;
                std::future::pending::<()>().await
            });
            tokio::task::yield_now().await;
            assert_eq!(mock.request_count(), 1);
            drop(mock);
            app.abort();
        })
    }));
    let panic = outcome.expect_err("the unused rule is reported on the test thread");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("unused rule #1"), "{message}");
    assert!(message.contains("\"refund\""), "{message}");
}

#[test]
fn the_drop_check_can_be_turned_off() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("unused"));
    mock.check_on_drop(false);
    let err = mock.verify().unwrap_err();
    assert_eq!(err.problems().len(), 1);
    drop(mock);
}

#[test]
#[should_panic(expected = "the test's own failure")]
fn the_drop_check_does_not_panic_while_panicking() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("unused"));
    // A second panic in the drop check would abort the test process instead.
    panic!("the test's own failure");
}

#[tokio::test]
async fn an_unmatched_request_says_which_conditions_failed() {
    let mock = MockTransport::new();
    mock.check_on_drop(false);
    mock.on(Match::chat()
        .model("gpt-4o-mini")
        .stream(true)
        .body_json(json!({"temperature": 0.2})))
        .respond(MockResponse::text("x"));
    let (_, body) = send_full(&mock, ask("gpt-4o", "hello")).await;
    let v: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
    let message = v["error"]["message"].as_str().unwrap();
    for part in [
        "model = \"gpt-4o-mini\" (request: \"gpt-4o\")",
        "streaming (request: not streaming)",
        "body contains {\"temperature\":0.2} (request: at /temperature: expected 0.2, field is missing)",
    ] {
        assert!(message.contains(part), "{part}\n{message}");
    }
}

#[tokio::test]
async fn an_unmatched_request_gets_a_500_that_lists_rules_and_request() {
    let mock = MockTransport::new();
    mock.on(Match::post("/chat/completions").user_message_contains("weather"))
        .respond(MockResponse::text("sunny"));
    mock.on(Match::get("/models"))
        .respond(MockResponse::json(200, json!({"data": []})));
    let (parts, body) = send_full(&mock, ask("gpt-4o", "tell me a joke")).await;
    assert_eq!(parts.status, 500);
    assert_eq!(parts.headers["x-should-retry"], "false");
    let v: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
    let message = v["error"]["message"].as_str().unwrap();
    // The request as what tells chat requests apart, and per rule the conditions it fails
    // with what the request has instead.
    assert!(
        message.starts_with(
            "chat-mock: no rule matched request #0: POST /v1/chat/completions model \"gpt-4o\", \
             1 message(s), last user: \"tell me a joke\""
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "\n  #0 POST /chat/completions, last user message contains \"weather\" -> \
             completion: used 0 of 1 times (does not match: last user message contains \
             \"weather\" (request: \"tell me a joke\"))"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "\n  #1 GET /models -> raw 200: used 0 of 1 times (does not match: method GET \
             (request: POST); path /models (request: /v1/chat/completions))"
        ),
        "{message}"
    );
    assert_eq!(v["error"]["code"], "unmatched_request");
    assert_eq!(mock.unmatched_requests().len(), 1);

    let err = mock.verify().unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("request #0 matched no rule: POST /v1/chat/completions"),
        "{text}"
    );
    assert_eq!(err.problems().len(), 3);
    mock.check_on_drop(false);
}

#[tokio::test]
async fn a_used_up_rule_is_named_as_such_when_nothing_matches() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("once"));
    mock.send(ask("m", "a")).await.unwrap();
    let (parts, body) = send_full(&mock, ask("m", "b")).await;
    assert_eq!(parts.status, 500);
    let v: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("(matches, but has no answers left)"),
        "{message}"
    );
    mock.check_on_drop(false);
}

#[tokio::test]
#[should_panic(expected = "request #1 matched no rule: POST /v1/chat/completions")]
async fn assert_all_used_reports_unmatched_requests() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("once"));
    mock.send(ask("m", "a")).await.unwrap();
    mock.send(ask("m", "b")).await.unwrap();
    mock.check_on_drop(false);
    mock.assert_all_used();
}
