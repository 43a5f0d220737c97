//! Tracing spans (feature `tracing`): operation and attempt spans with semantic-convention
//! fields, and neither the key nor message content in them.
#![cfg(feature = "tracing")]

mod client_support;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chat_core::types::{ChatCompletionRequestMessage, CreateChatCompletionRequest};
use chat_core::Client;
use client_support::{completion, config, Reply, Scripted, KEY};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

type Fields = BTreeMap<String, String>;

#[derive(Default)]
struct Captured {
    spans: Mutex<Vec<(String, Fields)>>,
    events: Mutex<Vec<Fields>>,
    next: AtomicU64,
}

/// A subscriber that keeps every span's name and fields and every event's fields.
#[derive(Clone, Default)]
struct Capture(Arc<Captured>);

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut fields = Fields::new();
        attrs.record(&mut Visitor(&mut fields));
        let mut spans = self.0.spans.lock().unwrap();
        spans.push((attrs.metadata().name().to_owned(), fields));
        self.0.next.store(spans.len() as u64, Ordering::SeqCst);
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = self.0.spans.lock().unwrap();
        let (_, fields) = &mut spans[span.into_u64() as usize - 1];
        values.record(&mut Visitor(fields));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        self.0.events.lock().unwrap().push(fields);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Asserts that `fields` has each of the `expected` values.
fn assert_fields(fields: &Fields, expected: &[(&str, &str)]) {
    for (k, v) in expected {
        assert_eq!(
            fields.get(*k).map(String::as_str),
            Some(*v),
            "{k} in {fields:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn spans_carry_semantic_fields_and_no_secrets() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let t = Scripted::new([
        Reply::json(500, "{}"),
        Reply::json(200, &completion("chatcmpl-1")).header("x-request-id", "req_1"),
    ]);
    let client = Client::new(config(), t.clone());
    let req = CreateChatCompletionRequest::new(
        "gpt-4o",
        [ChatCompletionRequestMessage::user("SECRET-CONTENT")],
    );
    client.create_chat_completion(&req).await.unwrap();

    let spans = capture.0.spans.lock().unwrap().clone();
    let ops: Vec<&Fields> = spans
        .iter()
        .filter(|(n, _)| n == "chat_core.operation")
        .map(|(_, f)| f)
        .collect();
    assert_eq!(ops.len(), 1, "{spans:?}");
    let op = ops[0];
    let expect = [
        ("otel.name", "chat.completions.create"),
        ("gen_ai.system", "openai"),
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.request.model", "gpt-4o"),
        ("gen_ai.response.id", "chatcmpl-1"),
        ("gen_ai.usage.input_tokens", "3"),
        ("gen_ai.usage.output_tokens", "1"),
        ("http.request.method", "POST"),
        ("url.path", "/v1/chat/completions"),
        ("http.response.status_code", "200"),
        ("request_id", "req_1"),
        ("attempts", "2"),
    ];
    assert_fields(op, &expect);
    let attempts: Vec<(String, String)> = spans
        .iter()
        .filter(|(n, _)| n == "chat_core.attempt")
        .map(|(_, f)| (f["attempt"].clone(), f["http.response.status_code"].clone()))
        .collect();
    assert_eq!(
        attempts,
        [("1".into(), "500".into()), ("2".into(), "200".into())]
    );
    let events = capture.0.events.lock().unwrap().clone();
    assert!(
        events
            .iter()
            .any(|e| e.get("message").is_some_and(|m| m == "retrying request")),
        "{events:?}"
    );
    let everything = format!("{spans:?} {events:?}");
    assert!(!everything.contains(KEY));
    assert!(!everything.contains("SECRET-CONTENT"));
}

#[tokio::test]
async fn streamed_completions_record_id_and_usage() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let t = Scripted::new([Reply::sse(&[
        "data: {\"id\":\"chatcmpl-s\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"chatcmpl-s\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}\n\n",
        "data: [DONE]\n\n",
    ])]);
    let client = Client::new(config(), t.clone());
    let req = CreateChatCompletionRequest::new("gpt-4o", []);
    let stream = client.create_chat_completion_stream(&req).await.unwrap();
    stream.final_response().await.unwrap();

    let spans = capture.0.spans.lock().unwrap().clone();
    let (_, op) = spans
        .iter()
        .find(|(n, _)| n == "chat_core.operation")
        .expect("an operation span");
    let expect = [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.response.id", "chatcmpl-s"),
        ("gen_ai.usage.input_tokens", "7"),
        ("gen_ai.usage.output_tokens", "2"),
        ("http.response.status_code", "200"),
        ("attempts", "1"),
    ];
    assert_fields(op, &expect);
}
