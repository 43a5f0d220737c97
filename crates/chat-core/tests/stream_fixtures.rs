//! Golden SSE fixtures (`tests/fixtures/stream/*.sse`): each stream gives the response (or
//! error) in its `*.expected.json`, whatever the chunk boundaries.
//!
//! An expected file holds either the final response, or
//! `{"expected_error": {"kind": ..., "code": ..., "message": ...}, "chunks_before_error": n}`.

mod stream_util;

use chat_core::{ChatCompletionStream, ErrorKind, StreamConfig, StreamError};
use serde_json::Value;
use stream_util::{
    bytewise, chat_stream, fixture, fixture_names, meta, run, split_at, without_nulls,
};

fn expected_error(expected: &Value) -> Option<&Value> {
    expected.get("expected_error")
}

#[test]
fn every_fixture_has_an_expected_file() {
    let names = fixture_names();
    assert!(names.len() >= 12, "{names:?}");
    for name in names {
        fixture(&name);
    }
}

#[tokio::test]
async fn final_response_matches_expected() {
    for name in fixture_names() {
        let (sse, expected) = fixture(&name);
        let stream = chat_stream(split_at(&sse, 0));
        let result = stream.final_response().await;
        match expected_error(&expected) {
            None => {
                let response = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(
                    without_nulls(serde_json::to_value(&response).unwrap()),
                    expected,
                    "{name}: final response"
                );
            }
            Some(want) => {
                let err = result.expect_err(&name);
                assert_eq!(err.request_id(), Some("req_test"), "{name}");
                match want["kind"].as_str().unwrap() {
                    "truncated" => assert!(
                        matches!(err.kind(), ErrorKind::Stream(StreamError::Truncated { .. })),
                        "{name}: {err:?}"
                    ),
                    "api" => {
                        let api = err.api_error().unwrap_or_else(|| panic!("{name}: {err:?}"));
                        assert!(api.in_stream, "{name}");
                        assert_eq!(api.status, http::StatusCode::OK, "{name}");
                        assert_eq!(Some(api.message()), want["message"].as_str(), "{name}");
                        assert_eq!(err.code().as_deref(), want["code"].as_str(), "{name}");
                        assert!(!err.is_retryable(), "{name}: stream errors are not retried");
                        assert_eq!(api.headers["x-request-id"], "req_test");
                    }
                    other => panic!("{name}: unknown kind {other}"),
                }
            }
        }
    }
}

#[tokio::test]
async fn chunk_count_before_an_error() {
    for name in fixture_names() {
        let (sse, expected) = fixture(&name);
        if let Some(n) = expected.get("chunks_before_error") {
            let outcome = run(chat_stream(split_at(&sse, 0))).await;
            assert_eq!(outcome.chunks.len() as u64, n.as_u64().unwrap(), "{name}");
            assert!(outcome.error.is_some(), "{name}");
        }
    }
}

#[tokio::test]
async fn any_split_gives_the_same_result() {
    for name in fixture_names() {
        let (sse, _) = fixture(&name);
        let whole = run(chat_stream(split_at(&sse, 0))).await;
        assert!(!whole.chunks.is_empty(), "{name}");
        for at in 0..=sse.len() {
            let split = run(chat_stream(split_at(&sse, at))).await;
            assert_eq!(split, whole, "{name}: split at byte {at}");
        }
        let bytes = run(chat_stream(bytewise(&sse))).await;
        assert_eq!(bytes, whole, "{name}: one byte per chunk");
    }
}

#[tokio::test]
async fn any_split_gives_the_same_final_response() {
    for name in ["text", "multi_choice", "parallel_tool_calls", "cr_bom"] {
        let (sse, expected) = fixture(name);
        for at in 0..=sse.len() {
            let response = chat_stream(split_at(&sse, at))
                .final_response()
                .await
                .unwrap();
            assert_eq!(
                without_nulls(serde_json::to_value(&response).unwrap()),
                expected,
                "{name} at {at}"
            );
        }
    }
}

#[tokio::test]
async fn event_size_limit_applies_the_same_at_any_split() {
    // A limit just under the longest line: every split must fail the same way.
    let (sse, _) = fixture("text");
    let longest = sse.split(|b| *b == b'\n').map(<[u8]>::len).max().unwrap();
    let config = StreamConfig::default().max_event_size(longest - 1);
    let whole = run(ChatCompletionStream::new(
        split_at(&sse, 0),
        config.clone(),
        meta(),
    ))
    .await;
    assert!(
        whole
            .error
            .as_deref()
            .unwrap()
            .contains("exceeds the limit"),
        "{whole:?}"
    );
    for at in 0..=sse.len() {
        let split = run(ChatCompletionStream::new(
            split_at(&sse, at),
            config.clone(),
            meta(),
        ))
        .await;
        assert_eq!(split, whole, "split at byte {at}");
    }
}
