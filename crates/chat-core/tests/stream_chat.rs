//! `ChatCompletionStream`: `[DONE]`, error events, malformed and truncated streams, transport
//! errors, the idle timeout, and pulling (nothing is read before it is asked for).

mod stream_util;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use chat_core::{
    Body, ChatCompletionStream, ErrorKind, StreamConfig, StreamError, TimeoutKind, TransportError,
    TransportErrorKind,
};
use futures_core::Stream;
use stream_util::{body_of, chat_stream, meta, run, Chunks};

const CHUNK: &str =
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n";
const FINISH: &str =
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
const DONE: &str = "data: [DONE]\n\n";

fn ok(s: &str) -> Result<Bytes, TransportError> {
    Ok(Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn streams_are_send_and_unpin() {
    fn check<T: Send + Unpin + 'static>() {}
    check::<ChatCompletionStream>();
    check::<chat_core::ChatCompletionEventStream>();
    check::<chat_core::SseStream>();
}

#[tokio::test]
async fn nothing_is_read_before_polling_and_done_drops_the_body() {
    let (chunks, probe) = Chunks::new(vec![
        ok(CHUNK),
        ok(FINISH),
        ok(DONE),
        ok("data: {bad json\n\n"),
    ]);
    let mut stream = chat_stream(chunks.into_body());
    assert_eq!(probe.taken(), 0, "constructing reads nothing");
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.first_content(), Some("x"));
    assert_eq!(probe.taken(), 1, "one chunk read for one event");
    assert!(stream.next().await.unwrap().is_ok());
    assert!(stream.next().await.is_none());
    // After [DONE] the rest of the body is read to its end (so an HTTP/1.1 connection can be
    // reused) and dropped unparsed: the bad JSON is no error.
    assert_eq!(probe.taken(), 4, "the rest of the body is drained");
    assert!(probe.dropped(), "then the body is dropped");
    assert!(stream.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn after_done_the_drain_is_bounded_in_time_and_size() {
    // The body never ends after [DONE]: the stream still ends, after a short wait.
    let (chunks, probe) = Chunks::new(vec![ok(CHUNK), ok(FINISH), ok(DONE)]);
    let mut stream = chat_stream(chunks.then_hang().into_body());
    let start = tokio::time::Instant::now();
    let mut n = 0;
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
        n += 1;
    }
    assert_eq!(n, 2);
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    assert!(probe.dropped());

    // A body that goes on and on after [DONE]: no more than 64 KiB of it is read.
    let tail: Vec<_> = (0..100).map(|_| ok(&"x".repeat(1024))).collect();
    let mut items = vec![ok(CHUNK), ok(FINISH), ok(DONE)];
    items.extend(tail);
    let (chunks, probe) = Chunks::new(items);
    let done = chat_stream(chunks.into_body())
        .final_response()
        .await
        .unwrap();
    assert_eq!(done.first_content(), Some("x"));
    assert!(probe.taken() < 3 + 70, "{}", probe.taken());
    assert!(probe.dropped());
}

#[tokio::test]
async fn dropping_the_stream_drops_the_body() {
    let (chunks, probe) = Chunks::new(vec![ok(CHUNK), ok(CHUNK)]);
    let mut stream = chat_stream(chunks.into_body());
    stream.next().await.unwrap().unwrap();
    assert!(!probe.dropped());
    drop(stream);
    assert!(probe.dropped());
}

#[tokio::test]
async fn bytes_after_done_in_the_same_chunk_are_ignored() {
    let body = Body::from(format!("{CHUNK}{FINISH}{DONE}data: not json\n\n"));
    let outcome = run(chat_stream(body)).await;
    assert_eq!(outcome.chunks.len(), 2);
    assert_eq!(outcome.error, None);
}

#[tokio::test]
async fn error_event_is_an_api_error_then_the_end() {
    let (chunks, probe) = Chunks::new(vec![
        ok(CHUNK),
        ok("event: error\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"code\":\"overloaded\"}}\n\n"),
        ok(CHUNK),
    ]);
    let mut stream = chat_stream(chunks.into_body());
    stream.next().await.unwrap().unwrap();
    let err = stream.next().await.unwrap().unwrap_err();
    let api = err.api_error().expect("api error");
    assert!(api.in_stream);
    assert_eq!(api.status, http::StatusCode::OK);
    // The error is not a 200: `status()` has none for an error event.
    assert_eq!(err.status(), None);
    assert!(!err.is_retryable());
    assert_eq!(api.message(), "overloaded");
    assert_eq!(
        api.error.as_ref().unwrap().r#type.as_deref(),
        Some("server_error")
    );
    assert!(api.body.contains("\"overloaded\""));
    assert_eq!(err.request_id(), Some("req_test"));
    assert_eq!(err.code().as_deref(), Some("overloaded"));
    assert!(!err.is_retryable());
    assert!(probe.dropped());
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn error_event_with_plain_text_keeps_the_text() {
    let body = Body::from("event: error\ndata: upstream went away\n\n");
    let err = chat_stream(body).final_response().await.unwrap_err();
    let api = err.api_error().unwrap();
    assert!(api.error.is_none());
    assert_eq!(api.message(), "upstream went away");
    assert!(err.to_string().contains("upstream went away"), "{err}");
}

#[tokio::test]
async fn error_payload_in_data_is_an_api_error() {
    for payload in [
        r#"{"error":{"message":"bad things","type":"invalid_request_error","param":null,"code":null}}"#,
        r#"{"error":{"message":"bad things","code":1},"choices":"not a list"}"#,
        r#"{"error":"bad things"}"#,
    ] {
        let body = Body::from(format!("{CHUNK}data: {payload}\n\n{DONE}"));
        let outcome = run(chat_stream(body)).await;
        assert_eq!(outcome.chunks.len(), 1, "{payload}");
        let err = chat_stream(Body::from(format!("data: {payload}\n\n")))
            .final_response()
            .await
            .unwrap_err();
        assert_eq!(
            err.api_error().unwrap().message(),
            "bad things",
            "{payload}"
        );
    }
    // `"error": null` is not an error.
    let body = Body::from(format!("data: {{\"error\":null,\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\n{DONE}"));
    assert_eq!(run(chat_stream(body)).await.error, None);
}

#[tokio::test]
async fn malformed_json_is_a_stream_error_with_a_snippet() {
    let body = Body::from(format!("{CHUNK}data: {{\"choices\": [oops]}}\n\n{DONE}"));
    let mut stream = chat_stream(body);
    stream.next().await.unwrap().unwrap();
    let err = stream.next().await.unwrap().unwrap_err();
    match err.kind() {
        ErrorKind::Stream(StreamError::Malformed {
            message,
            snippet,
            request_id,
        }) => {
            assert!(message.contains("line 1"), "{message}");
            assert_eq!(snippet, "{\"choices\": [oops]}");
            assert_eq!(request_id.as_deref(), Some("req_test"));
        }
        other => panic!("{other:?}"),
    }
    // A chunk whose typed fields have the wrong type is malformed too.
    let body = Body::from("data: {\"choices\":[{\"index\":\"zero\"}]}\n\n");
    let err = chat_stream(body).final_response().await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Stream(StreamError::Malformed { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn invalid_utf8_is_a_stream_error() {
    let body = body_of([CHUNK.as_bytes(), b"data: {\"x\":\"\xC3\x28\"}\n\n"]);
    let outcome = run(chat_stream(body)).await;
    assert_eq!(outcome.chunks.len(), 1);
    assert!(outcome.error.unwrap().contains("invalid UTF-8"));
}

#[tokio::test]
async fn an_oversized_event_is_a_stream_error() {
    let big = format!("data: {{\"id\":\"{}\"}}\n\n", "x".repeat(5000));
    let config = StreamConfig::default().max_event_size(4096);
    let (chunks, probe) = Chunks::new(vec![ok(CHUNK), ok(&big[..3000]), ok(&big[3000..])]);
    let mut stream = ChatCompletionStream::new(chunks.into_body(), config, meta());
    stream.next().await.unwrap().unwrap();
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Stream(StreamError::EventTooLarge { limit: 4096, .. })
        ),
        "{err:?}"
    );
    assert!(probe.dropped());
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn end_without_done_is_clean_only_when_every_choice_finished() {
    let two_choices = |finish_second: &str| {
        Body::from(format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"a\"}},\"finish_reason\":\"stop\"}}]}}\n\n\
             data: {{\"choices\":[{{\"index\":1,\"delta\":{{\"content\":\"b\"}},\"finish_reason\":{finish_second}}}]}}\n\n"
        ))
    };
    let outcome = run(chat_stream(two_choices("\"length\""))).await;
    assert_eq!((outcome.chunks.len(), outcome.error), (2, None));
    // One choice unfinished, or finished with "" (an unfinished marker of some servers).
    for unfinished in ["null", "\"\""] {
        let err = chat_stream(two_choices(unfinished))
            .final_response()
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Stream(StreamError::Truncated { .. })),
            "{unfinished}: {err:?}"
        );
        assert_eq!(err.request_id(), Some("req_test"));
    }
    // No chunk at all and no [DONE]: nothing arrived, and the error says so.
    for body in [
        Body::empty(),
        Body::from(": only a comment\n\n"),
        Body::from("<html><body>Please sign in</body></html>"),
    ] {
        let err = chat_stream(body).final_response().await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Stream(StreamError::Empty { .. })),
            "{err:?}"
        );
        assert_eq!(err.request_id(), Some("req_test"));
        assert!(err.to_string().contains("without a single chunk"), "{err}");
    }
    // With [DONE], an unfinished choice is fine.
    let body = Body::from(format!("{CHUNK}{DONE}"));
    assert_eq!(run(chat_stream(body)).await.error, None);
}

#[tokio::test]
async fn a_transport_error_mid_stream_ends_it() {
    let (chunks, probe) = Chunks::new(vec![
        ok(CHUNK),
        Err(TransportError::io("connection reset")),
        ok(FINISH),
    ]);
    let mut stream = chat_stream(chunks.into_body());
    stream.next().await.unwrap().unwrap();
    let err = stream.next().await.unwrap().unwrap_err();
    match err.kind() {
        ErrorKind::Transport(t) => {
            assert_eq!(t.kind(), TransportErrorKind::Io);
            assert_eq!(t.message(), "connection reset");
        }
        other => panic!("{other:?}"),
    }
    assert!(probe.dropped());
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn named_events_are_skipped_unless_they_carry_chunks() {
    let body = Body::from(format!(
        "event: ping\ndata: {{}}\n\n\
         event: progress\ndata: 42%\n\n\
         event: delta\ndata: {{\"object\":\"chat.completion.chunk\",\"choices\":[]}}\n\n\
         event: delta\n{FINISH}\
         event: message\n{CHUNK}{DONE}"
    ));
    let outcome = run(chat_stream(body)).await;
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.chunks.len(), 3, "{:?}", outcome.chunks);
}

#[tokio::test]
async fn the_stream_trait_works_without_helpers() {
    let mut stream = chat_stream(Body::from(format!("{CHUNK}{FINISH}{DONE}")));
    let mut n = 0;
    while let Some(item) = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        item.unwrap();
        n += 1;
    }
    assert_eq!(n, 2);
    assert_eq!(stream.request_id(), Some("req_test"));
    assert_eq!(stream.meta().status, http::StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn a_silent_body_hits_the_idle_timeout() {
    let idle = Duration::from_secs(30);
    let (chunks, probe) = Chunks::new(vec![ok(CHUNK)]);
    let config = StreamConfig::default().idle_timeout(Some(idle));
    let mut stream = ChatCompletionStream::new(chunks.then_hang().into_body(), config, meta());
    stream.next().await.unwrap().unwrap();
    let start = tokio::time::Instant::now();
    let err = stream.next().await.unwrap().unwrap_err();
    match err.kind() {
        ErrorKind::Timeout(t) => {
            assert_eq!(t.kind, TimeoutKind::Idle);
            assert_eq!(t.after, idle);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_timeout());
    // Paused time: the clock moved exactly to the deadline.
    assert_eq!(start.elapsed(), idle);
    assert!(probe.dropped());
    assert!(stream.next().await.is_none());
}

/// Chunks that each arrive after a delay.
struct Slow {
    items: VecDeque<(Duration, &'static str)>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// After the last item: never end (else the body ends).
    hang: bool,
}

impl Stream for Slow {
    type Item = Result<Bytes, TransportError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(&(delay, chunk)) = self.items.front() else {
            return if self.hang {
                Poll::Pending
            } else {
                Poll::Ready(None)
            };
        };
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
        std::task::ready!(sleep.as_mut().poll(cx));
        self.sleep = None;
        self.items.pop_front();
        Poll::Ready(Some(ok(chunk)))
    }
}

#[tokio::test(start_paused = true)]
async fn the_idle_timer_restarts_with_every_chunk() {
    let idle = Duration::from_secs(10);
    let step = Duration::from_secs(9);
    let slow = Slow {
        items: [
            (step, CHUNK),
            (step, ": ping\n\n"),
            (step, CHUNK),
            (step, FINISH),
            (step, DONE),
        ]
        .into_iter()
        .collect(),
        sleep: None,
        hang: false,
    };
    let config = StreamConfig::default().idle_timeout(Some(idle));
    let start = tokio::time::Instant::now();
    let stream = ChatCompletionStream::new(Body::from_stream(slow), config, meta());
    let outcome = run(stream).await;
    assert_eq!((outcome.chunks.len(), outcome.error), (3, None));
    assert!(
        start.elapsed() >= step * 5,
        "the whole stream took longer than one idle period"
    );
}

/// The idle timer is moved lazily (when it fires at an earlier wait's end): a body that
/// stalls after a few slow chunks still fails one idle period after its last chunk.
#[tokio::test(start_paused = true)]
async fn a_stall_after_slow_chunks_fails_one_idle_period_after_the_last() {
    let idle = Duration::from_secs(10);
    let step = Duration::from_secs(6);
    let slow = Slow {
        items: [(step, CHUNK), (step, CHUNK), (step, CHUNK)]
            .into_iter()
            .collect(),
        sleep: None,
        hang: true,
    };
    let config = StreamConfig::default().idle_timeout(Some(idle));
    let mut stream = ChatCompletionStream::new(Body::from_stream(slow), config, meta());
    for _ in 0..3 {
        stream.next().await.unwrap().unwrap();
    }
    let last = tokio::time::Instant::now();
    let err = stream.next().await.unwrap().unwrap_err();
    match err.kind() {
        ErrorKind::Timeout(t) => assert_eq!((t.kind, t.after), (TimeoutKind::Idle, idle)),
        other => panic!("{other:?}"),
    }
    // Paused time: the clock moved exactly to the last wait's deadline.
    assert_eq!(last.elapsed(), idle);
}

#[tokio::test(start_paused = true)]
async fn a_slow_consumer_does_not_trip_the_idle_timeout() {
    let idle = Duration::from_secs(1);
    let config = StreamConfig::default().idle_timeout(Some(idle));
    let body = body_of([CHUNK, CHUNK, FINISH, DONE]);
    let mut stream = ChatCompletionStream::new(body, config, meta());
    let mut n = 0;
    while let Some(item) = stream.next().await {
        item.unwrap();
        n += 1;
        tokio::time::sleep(idle * 5).await;
    }
    assert_eq!(n, 3);
}

#[tokio::test]
async fn an_event_cut_by_the_end_of_the_body_is_never_lost_silently() {
    let usage = "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";
    // Every choice finished, then the body stops inside the usage event: truncated, although
    // the choices alone would look complete.
    let cut = &usage[..usage.len() - 5];
    let outcome = run(chat_stream(Body::from(format!("{CHUNK}{FINISH}{cut}")))).await;
    assert_eq!(outcome.chunks.len(), 2);
    assert!(
        outcome
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("stream ended before completion")),
        "{outcome:?}"
    );
    // A last line cut before its colon is a cut too.
    let outcome = run(chat_stream(Body::from(format!("{CHUNK}{FINISH}da")))).await;
    assert!(outcome.error.is_some(), "{outcome:?}");

    // A whole last event without the blank line after it is read, not dropped.
    for end in ["", "\n"] {
        let outcome = run(chat_stream(Body::from(format!(
            "{CHUNK}{FINISH}{usage}{end}"
        ))))
        .await;
        assert_eq!(outcome.error, None, "{end:?}");
        assert_eq!(outcome.chunks.len(), 3, "{end:?}");
        assert_eq!(outcome.chunks[2]["usage"]["total_tokens"], 2);
        let outcome = run(chat_stream(Body::from(format!(
            "{CHUNK}{FINISH}data: [DONE]{end}"
        ))))
        .await;
        assert_eq!((outcome.chunks.len(), outcome.error), (2, None), "{end:?}");
    }
    // Even when its choice had not finished, a cut-off [DONE] ends the stream cleanly.
    let outcome = run(chat_stream(body_of([CHUNK, "data: [DO", "NE]"]))).await;
    assert_eq!((outcome.chunks.len(), outcome.error), (1, None));
    // A comment without a line end at the very end is harmless.
    let outcome = run(chat_stream(Body::from(format!("{CHUNK}{FINISH}: bye")))).await;
    assert_eq!((outcome.chunks.len(), outcome.error), (2, None));
    // A cut error event is still an API error.
    let err = chat_stream(Body::from(
        "event: error\ndata: {\"error\":{\"message\":\"gone\"}}",
    ))
    .final_response()
    .await
    .unwrap_err();
    assert_eq!(err.api_error().map(|a| a.message()), Some("gone"));
}

#[tokio::test(start_paused = true)]
async fn an_idle_timeout_too_long_to_represent_never_fires() {
    let slow = Slow {
        items: [
            (Duration::from_secs(3600), CHUNK),
            (Duration::from_secs(1), FINISH),
        ]
        .into_iter()
        .collect(),
        sleep: None,
        hang: false,
    };
    let config = StreamConfig::default().idle_timeout(Duration::MAX);
    let stream = ChatCompletionStream::new(Body::from_stream(slow), config, meta());
    let outcome = run(stream).await;
    assert_eq!((outcome.chunks.len(), outcome.error), (2, None));
}

#[tokio::test]
async fn the_meta_carries_rate_limits_and_attempts() {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "x-ratelimit-remaining-requests",
        http::HeaderValue::from_static("9"),
    );
    let meta = chat_core::ResponseMeta::from_head(http::StatusCode::OK, headers, 3);
    let body = Body::from(format!("{CHUNK}data: {{bad json\n\n"));
    let mut stream = ChatCompletionStream::new(body, StreamConfig::default(), meta);
    assert_eq!(stream.meta().rate_limit.remaining_requests, Some(9));
    stream.next().await.unwrap().unwrap();
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Stream(StreamError::Malformed { .. })),
        "{err:?}"
    );
    assert_eq!(err.attempts(), 3);
}

#[tokio::test]
async fn a_whole_response_is_refused_once_chunks_were_read() {
    let body = || Body::from(format!("{CHUNK}{CHUNK}{FINISH}{DONE}"));
    // Untouched, both views build the whole response.
    let full = chat_stream(body()).final_response().await.unwrap();
    assert_eq!(full.first_content(), Some("xx"));

    // After `next`, the rest alone would be a wrong answer: an error says what to do instead.
    let mut stream = chat_stream(body());
    stream.next().await.unwrap().unwrap();
    let e = stream.final_response().await.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)), "{e:?}");
    assert!(e.to_string().contains("events()"), "{e}");
    assert_eq!(e.request_id(), Some("req_test"));

    let mut stream = chat_stream(body());
    stream.next().await.unwrap().unwrap();
    let mut events = stream.events();
    let e = events.next().await.unwrap().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)), "{e:?}");
    assert!(events.next().await.is_none());
}
