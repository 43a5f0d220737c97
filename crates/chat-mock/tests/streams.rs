//! Streamed answers of `MockStream`: chunking, tool-call deltas, usage, `[DONE]`, delays on a
//! paused clock and byte-level splitting.

mod support;

use std::time::Duration;

use chat_core::types::FinishReason;
use chat_mock::{MockStream, MockTransport};
use serde_json::json;
use support::*;

#[tokio::test]
async fn text_is_split_into_one_event_per_word_and_chunk() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("Hello there, world").chunk_words());
    let resp = mock.send(ask_stream("gpt-4o", "hi")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert!(resp.headers().contains_key("x-request-id"));
    let (chunks, err) = chunks(resp.into_body()).await;
    assert!(err.is_none());
    let texts: Vec<String> = chunks
        .iter()
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    // role, 3 words, finish, [DONE]: each event its own body chunk.
    assert_eq!(texts.len(), 6, "{texts:?}");
    assert!(texts
        .iter()
        .all(|t| t.starts_with("data: ") && t.ends_with("\n\n")));
    assert_eq!(texts[5], "data: [DONE]\n\n");
    let parsed = stream_chunks(&texts.concat());
    assert_eq!(
        parsed[0].choices[0].delta.role.as_ref().map(|r| r.as_str()),
        Some("assistant")
    );
    let pieces: Vec<_> = parsed.iter().filter_map(|c| c.first_content()).collect();
    assert_eq!(pieces, vec!["", "Hello", " there,", " world"]);
    assert_eq!(parsed[4].choices[0].finish_reason, Some(FinishReason::Stop));
    assert!(parsed
        .iter()
        .all(|c| c.id.as_deref() == Some("chatcmpl-mock-0") && c.model == "gpt-4o"));
    assert!(parsed
        .iter()
        .all(|c| c.object.as_deref() == Some("chat.completion.chunk")));
}

#[tokio::test]
async fn chunking_modes_and_explicit_pieces() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("abcde").chunk_chars(2));
    mock.push(MockStream::pieces(["He", "llo"]));
    mock.push(MockStream::text("whole text").chunk_whole());
    for expected in [
        vec!["", "ab", "cd", "e"],
        vec!["", "He", "llo"],
        vec!["", "whole text"],
    ] {
        let body = mock.send(ask_stream("m", "x")).await.unwrap().into_body();
        let text = body.collect(1 << 20).await.unwrap();
        let parsed = stream_chunks(std::str::from_utf8(&text).unwrap());
        let pieces: Vec<_> = parsed.iter().filter_map(|c| c.first_content()).collect();
        assert_eq!(pieces, expected);
    }
}

#[tokio::test]
async fn tool_call_deltas_usage_chunk_and_refusal() {
    let mock = MockTransport::new();
    mock.push(
        MockStream::tool_call("get_weather", json!({"city": "Paris"}))
            .and_tool_call("get_time", json!({}))
            .chunk_chars(5)
            .usage(10, 5)
            .usage_always(),
    );
    mock.push(MockStream::refusal("No way").finish_reason(FinishReason::ContentFilter));
    let body = mock.send(ask_stream("m", "x")).await.unwrap().into_body();
    let text = body.collect(1 << 20).await.unwrap();
    let parsed = stream_chunks(std::str::from_utf8(&text).unwrap());
    let mut args = ["".to_owned(), "".to_owned()];
    let mut names = Vec::new();
    let mut ids = Vec::new();
    for c in &parsed {
        for tc in c
            .choices
            .iter()
            .flat_map(|ch| ch.delta.tool_calls.iter().flatten())
        {
            let f = tc.function.as_ref().unwrap();
            if let Some(n) = &f.name {
                names.push(n.clone());
                ids.push(tc.id.clone().unwrap());
                assert_eq!(tc.r#type.as_deref(), Some("function"));
            }
            args[tc.index as usize].push_str(f.arguments.as_deref().unwrap_or(""));
        }
    }
    assert_eq!(names, vec!["get_weather", "get_time"]);
    assert_eq!(ids, vec!["call_mock_0", "call_mock_1"]);
    assert_eq!(args[0], r#"{"city":"Paris"}"#);
    assert_eq!(args[1], "{}");
    // More than one delta carried the first call's arguments.
    let pieces = parsed
        .iter()
        .filter(|c| {
            c.choices
                .first()
                .and_then(|ch| ch.delta.tool_calls.as_ref())
                .is_some_and(|t| {
                    t[0].index == 0
                        && t[0].function.as_ref().and_then(|f| f.arguments.as_deref()) != Some("")
                })
        })
        .count();
    assert!(pieces > 1, "{pieces}");
    let finish = parsed
        .iter()
        .find_map(|c| c.choices.first()?.finish_reason.clone());
    assert_eq!(finish, Some(FinishReason::ToolCalls));
    let last = parsed.last().unwrap();
    assert!(last.choices.is_empty());
    assert_eq!(last.usage.as_ref().unwrap().total_tokens, 15);

    let body = mock.send(ask_stream("m", "x")).await.unwrap().into_body();
    let text = body.collect(1 << 20).await.unwrap();
    let parsed = stream_chunks(std::str::from_utf8(&text).unwrap());
    let refusal: String = parsed
        .iter()
        .filter_map(|c| c.choices.first()?.delta.refusal.clone())
        .collect();
    assert_eq!(refusal, "No way");
    let finish = parsed
        .iter()
        .find_map(|c| c.choices.first()?.finish_reason.clone());
    assert_eq!(finish, Some(FinishReason::ContentFilter));
}

#[tokio::test]
async fn several_choices_stream_one_after_the_other() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("a").with_choice(MockStream::text("b")));
    let body = mock.send(ask_stream("m", "x")).await.unwrap().into_body();
    let text = body.collect(1 << 20).await.unwrap();
    let parsed = stream_chunks(std::str::from_utf8(&text).unwrap());
    let by_index = |i: u32| -> String {
        parsed
            .iter()
            .flat_map(|c| c.choices.iter())
            .filter(|ch| ch.index == i)
            .filter_map(|ch| ch.delta.content.clone())
            .collect()
    };
    assert_eq!((by_index(0).as_str(), by_index(1).as_str()), ("a", "b"));
}

#[tokio::test]
async fn without_done_the_body_just_ends() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("x").without_done());
    let body = mock.send(ask_stream("m", "x")).await.unwrap().into_body();
    let text = body.collect(1 << 20).await.unwrap();
    let text = std::str::from_utf8(&text).unwrap();
    assert!(!text.contains("[DONE]"), "{text}");
    assert!(text.contains("\"finish_reason\":\"stop\""), "{text}");
}

#[tokio::test(start_paused = true)]
async fn chunk_delays_run_on_the_paused_tokio_clock() {
    let mock = MockTransport::new();
    mock.push(
        MockStream::text("a b c")
            .chunk_delay(Duration::from_secs(10))
            .delay(Duration::from_secs(5)),
    );
    let start = tokio::time::Instant::now();
    let resp = mock.send(ask_stream("m", "x")).await.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(5),
        "delay before the head"
    );
    let (chunks, _) = chunks(resp.into_body()).await;
    // 6 events (role, 3 words, finish, [DONE]) with 5 gaps of 10 s.
    assert_eq!(chunks.len(), 6);
    assert_eq!(start.elapsed(), Duration::from_secs(55));
}

#[tokio::test]
async fn split_bytes_cuts_across_event_boundaries() {
    let mock = MockTransport::new();
    mock.push(MockStream::text("héllo wörld").id("same").split_bytes(3));
    mock.push(MockStream::text("héllo wörld").id("same"));
    let (split, _) = chunks(mock.send(ask_stream("m", "x")).await.unwrap().into_body()).await;
    let (whole, _) = chunks(mock.send(ask_stream("m", "x")).await.unwrap().into_body()).await;
    assert!(split.iter().all(|c| c.len() <= 3));
    assert!(split.len() > whole.len());
    assert_eq!(
        split.concat(),
        whole.concat(),
        "same bytes, other boundaries"
    );
}
