//! The event view (`ChatCompletionStream::events`): which events come, in which order, and
//! the final response at the end.

mod stream_util;

use chat_core::types::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls, FinishReason,
};
use chat_core::{Body, ChatCompletionEvent as E, ErrorKind, StreamError};
use stream_util::{chat_stream, fixture, split_at, without_nulls};

/// All events of a stream; the error, if any, as its text.
async fn events_of(body: Body) -> (Vec<E>, Option<String>) {
    let mut events = chat_stream(body).events();
    let mut out = Vec::new();
    let mut error = None;
    while let Some(item) = events.next().await {
        match item {
            Ok(event) => out.push(event),
            Err(e) => error = Some(e.to_string()),
        }
    }
    assert!(events.next().await.is_none());
    (out, error)
}

/// The events of a fixture, without the final `Completed` (checked separately).
async fn fixture_events(name: &str) -> (Vec<E>, serde_json::Value) {
    let (sse, expected) = fixture(name);
    let (mut events, error) = events_of(split_at(&sse, sse.len() / 2)).await;
    assert_eq!(error, None, "{name}");
    match events.pop() {
        Some(E::Completed(response)) => {
            assert_eq!(
                without_nulls(serde_json::to_value(&*response).unwrap()),
                expected,
                "{name}"
            );
        }
        other => panic!("{name}: last event {other:?}"),
    }
    (events, expected)
}

fn content(choice_index: u32, delta: &str) -> E {
    E::ContentDelta {
        choice_index,
        delta: delta.to_owned(),
    }
}

fn finish(choice_index: u32, reason: FinishReason) -> E {
    E::Finish {
        choice_index,
        reason,
    }
}

#[tokio::test]
async fn text_events() {
    let (events, _) = fixture_events("text").await;
    assert_eq!(
        events,
        [
            content(0, "Hello"),
            content(0, ", wörld"),
            content(0, " 👋"),
            content(0, "!"),
            E::ContentDone {
                choice_index: 0,
                content: "Hello, wörld 👋!".to_owned()
            },
            finish(0, FinishReason::Stop),
        ]
    );
}

#[tokio::test]
async fn multi_choice_events_follow_the_chunks() {
    let (events, _) = fixture_events("multi_choice").await;
    let done = |choice_index, content: &str| E::ContentDone {
        choice_index,
        content: content.to_owned(),
    };
    assert_eq!(
        events,
        [
            content(0, "Red"),
            content(1, "Blue"),
            content(1, " sky"),
            content(0, " apple"),
            done(1, "Blue sky"),
            finish(1, FinishReason::Length),
            content(0, "."),
            done(0, "Red apple."),
            finish(0, FinishReason::Stop),
        ]
    );
}

#[tokio::test]
async fn tool_call_events() {
    let (events, _) = fixture_events("parallel_tool_calls").await;
    let delta = |tool_index, id: &str, name: &str, delta: &str| E::ToolCallArgumentsDelta {
        choice_index: 0,
        tool_index,
        id: id.to_owned(),
        name: name.to_owned(),
        delta: delta.to_owned(),
    };
    let done = |tool_index, id, name, args| E::ToolCallDone {
        choice_index: 0,
        tool_index,
        call: ChatCompletionMessageToolCalls::Function(ChatCompletionMessageToolCall::new(
            id, name, args,
        )),
    };
    assert_eq!(
        events,
        [
            delta(0, "call_a", "get_weather", ""),
            delta(0, "call_a", "get_weather", "{\"lo"),
            delta(0, "call_a", "get_weather", "cation\": \"Pa"),
            delta(0, "call_a", "get_weather", "ris\"}"),
            // The next call starting completes the first.
            done(0, "call_a", "get_weather", "{\"location\": \"Paris\"}"),
            delta(1, "call_b", "get_time", ""),
            delta(1, "call_b", "get_time", "{\"tz\":"),
            delta(1, "call_b", "get_time", " \"Europe/Paris\"}"),
            // Finishing the choice completes the last.
            done(1, "call_b", "get_time", "{\"tz\": \"Europe/Paris\"}"),
            finish(0, FinishReason::ToolCalls),
        ]
    );
}

#[tokio::test]
async fn refusal_and_usage_events() {
    let (events, _) = fixture_events("refusal").await;
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(
        events[..3],
        [
            E::RefusalDelta {
                choice_index: 0,
                delta: "I'm sorry".to_owned()
            },
            E::RefusalDelta {
                choice_index: 0,
                delta: ", I can't".to_owned()
            },
            E::RefusalDelta {
                choice_index: 0,
                delta: " help with that.".to_owned()
            },
        ]
    );
    assert_eq!(
        events[3],
        E::RefusalDone {
            choice_index: 0,
            refusal: "I'm sorry, I can't help with that.".to_owned()
        }
    );
    assert_eq!(events[4], finish(0, FinishReason::Stop));

    let (events, expected) = fixture_events("usage").await;
    match events.last() {
        Some(E::Usage(usage)) => {
            assert_eq!(serde_json::to_value(usage).unwrap(), expected["usage"]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn open_parts_are_done_at_the_end_without_a_finish() {
    // [DONE] while the choice has no finish reason: done events, no Finish, then Completed.
    let body = Body::from(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\",\"tool_calls\":[{\"index\":0,\"id\":\"t\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\n\
         data: [DONE]\n\n",
    );
    let (events, error) = events_of(body).await;
    assert_eq!(error, None);
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(events[0], content(0, "Hi"));
    assert!(matches!(&events[1], E::ToolCallArgumentsDelta { delta, .. } if delta == "{}"));
    assert!(matches!(&events[2], E::ContentDone { content, .. } if content == "Hi"));
    assert!(matches!(&events[3], E::ToolCallDone { tool_index: 0, .. }));
    assert!(matches!(&events[4], E::Completed(r) if r.finish_reason().is_none()));
}

#[tokio::test]
async fn an_error_ends_the_events_without_completed() {
    let (sse, _) = fixture("truncated");
    let mut events = chat_stream(Body::from(sse)).events();
    let mut seen = Vec::new();
    let err = loop {
        match events.next().await.unwrap() {
            Ok(event) => seen.push(event),
            Err(e) => break e,
        }
    };
    assert!(matches!(
        err.kind(),
        ErrorKind::Stream(StreamError::Truncated { .. })
    ));
    assert_eq!(seen, [content(0, "Once upon")]);
    // The merged chunks are still there for a partial answer.
    assert_eq!(
        events.accumulator().snapshot().first_content(),
        Some("Once upon")
    );
    assert_eq!(events.meta().request_id.as_deref(), Some("req_test"));
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn accumulator_follows_the_events() {
    let (sse, _) = fixture("text");
    let mut events = chat_stream(Body::from(sse)).events();
    let mut text = String::new();
    while let Some(event) = events.next().await {
        if let E::ContentDelta { delta, .. } = event.unwrap() {
            text.push_str(&delta);
            let so_far = events.accumulator().snapshot();
            assert_eq!(so_far.first_content(), Some(text.as_str()));
        }
    }
    assert_eq!(text, "Hello, wörld 👋!");
}
