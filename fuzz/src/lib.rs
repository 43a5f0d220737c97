//! The properties the fuzz targets check, in one place.
//!
//! The fuzz targets (`fuzz/fuzz_targets/*.rs`) hand libFuzzer's bytes to the `fuzz_*`
//! functions; the stable test `crates/chat-core/tests/fuzz_properties.rs` includes this file
//! as a module and drives the same checks with proptest, so `cargo test` exercises every
//! property for a few seconds without nightly. Each check panics (with what disagreed) when a
//! property fails; that panic is what the fuzzer reports as a crash.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use chat_core::types::{
    CreateChatCompletionRequest, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
};
use chat_core::{
    Body, ChatCompletionAccumulator, ChatCompletionStream, ResponseMeta, SseDecoder, StreamConfig,
    TransportError,
};
use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Splits fuzz input into a small header byte and the rest.
fn header(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((&h, rest)) => (h, rest),
        None => (0, &[]),
    }
}

/// Cut points for `len` bytes derived from `seed`: increasing, inside `1..len`.
pub fn split_points(seed: u8, len: usize) -> Vec<usize> {
    let mut state = u64::from(seed) | 0x9E37_79B9_7F4A_7C15;
    let mut cuts = Vec::new();
    let mut at = 0usize;
    loop {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Steps of 1..=17 bytes: most cuts land inside lines, many inside CRLF pairs.
        at += 1 + (state % 17) as usize;
        if at >= len {
            return cuts;
        }
        cuts.push(at);
    }
}

/// `body` cut at `cuts` (positions outside `1..len` and repeats are ignored).
pub fn pieces<'a>(body: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < body.len())
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for c in cuts {
        out.push(&body[start..c]);
        start = c;
    }
    out.push(&body[start..]);
    out
}

// ---------------------------------------------------------------------------------------------
// SSE decoder

/// One dispatched event: its type, data and id.
pub type Event = (String, Vec<u8>, Option<String>);

/// What a decoder made of a whole body: each event (type, data, id) or the error that ended
/// it, whether `finish` discarded anything, and the last event id and retry time.
#[derive(Debug, PartialEq, Eq)]
pub struct SseOutcome {
    pub events: Vec<Result<Event, String>>,
    pub discarded: bool,
    pub last_event_id: Option<String>,
    pub retry: Option<std::time::Duration>,
}

/// Decodes `chunks` one after another with a fresh decoder.
pub fn sse_decode(chunks: &[&[u8]], max_event_size: usize) -> SseOutcome {
    let mut decoder = SseDecoder::new(max_event_size);
    let mut events = Vec::new();
    'outer: for chunk in chunks {
        decoder.push(Bytes::copy_from_slice(chunk));
        loop {
            match decoder.next_event() {
                Ok(Some(e)) => {
                    // The decoder promises valid UTF-8 data.
                    assert!(std::str::from_utf8(e.data_bytes()).is_ok());
                    events.push(Ok((
                        e.event().to_owned(),
                        e.data_bytes().to_vec(),
                        e.id().map(str::to_owned),
                    )));
                }
                Ok(None) => break,
                Err(e) => {
                    events.push(Err(e.to_string()));
                    break 'outer;
                }
            }
        }
    }
    let discarded = decoder.finish() && !matches!(events.last(), Some(Err(_)));
    SseOutcome {
        events,
        discarded,
        last_event_id: decoder.last_event_id().map(str::to_owned),
        retry: decoder.retry(),
    }
}

/// The SSE decoder gives the same events, errors and state for `body` whole, cut at `cuts`,
/// and fed byte by byte.
pub fn check_sse(body: &[u8], max_event_size: usize, cuts: &[usize]) {
    let whole = sse_decode(&[body], max_event_size);
    let split = sse_decode(&pieces(body, cuts), max_event_size);
    assert_eq!(whole, split, "whole vs split at {cuts:?}");
    let bytes: Vec<&[u8]> = body.chunks(1).collect();
    let by_byte = sse_decode(&bytes, max_event_size);
    assert_eq!(whole, by_byte, "whole vs byte by byte");
}

/// Fuzz entry: header byte = split seed; its low bits also pick a small event size limit.
pub fn fuzz_sse(data: &[u8]) {
    let (h, body) = header(data);
    let max = match h & 3 {
        0 => StreamConfig::DEFAULT_MAX_EVENT_SIZE,
        1 => 64,
        2 => 16,
        _ => 1,
    };
    check_sse(body, max, &split_points(h, body.len()));
}

// ---------------------------------------------------------------------------------------------
// JSON round trip

/// If `json` parses as `T`: serialize, parse, serialize again; both texts are equal.
pub fn check_round_trip<T: DeserializeOwned + Serialize>(json: &[u8]) {
    let Ok(first) = serde_json::from_slice::<T>(json) else {
        return;
    };
    let s1 = serde_json::to_string(&first).expect("a parsed value serializes");
    let second: T = serde_json::from_str(&s1).unwrap_or_else(|e| {
        panic!(
            "{}: own output does not re-parse: {e}\n{s1}",
            std::any::type_name::<T>()
        )
    });
    let s2 = serde_json::to_string(&second).expect("a parsed value serializes");
    assert_eq!(
        s1,
        s2,
        "{}: second round trip differs",
        std::any::type_name::<T>()
    );
}

/// Fuzz entry: the request, response and chunk types each round-trip the input.
pub fn fuzz_json(data: &[u8]) {
    check_round_trip::<CreateChatCompletionResponse>(data);
    check_round_trip::<CreateChatCompletionStreamResponse>(data);
    check_round_trip::<CreateChatCompletionRequest>(data);
}

// ---------------------------------------------------------------------------------------------
// Accumulator

/// Checks that a final response serializes and re-parses, and that the text round-trips.
fn check_final(response: &CreateChatCompletionResponse) {
    let s1 = serde_json::to_string(response).expect("an accumulated response serializes");
    let again: CreateChatCompletionResponse = serde_json::from_str(&s1)
        .unwrap_or_else(|e| panic!("accumulated response does not re-parse: {e}\n{s1}"));
    let s2 = serde_json::to_string(&again).expect("a parsed response serializes");
    assert_eq!(s1, s2, "accumulated response: second round trip differs");
}

/// Pushes the chunks found in `data` (a sequence of JSON values; those that are not chunks
/// are skipped) into an accumulator, taking snapshots along the way; the snapshots and the
/// final response serialize and re-parse.
pub fn check_accumulator(data: &[u8]) {
    let mut acc = ChatCompletionAccumulator::new();
    let values = serde_json::Deserializer::from_slice(data).into_iter::<serde_json::Value>();
    for (i, value) in values.enumerate() {
        let Ok(value) = value else { break };
        let Ok(chunk) = serde_json::from_value::<CreateChatCompletionStreamResponse>(value) else {
            continue;
        };
        acc.push(chunk);
        if i % 3 == 1 {
            check_final(&acc.snapshot());
        }
    }
    check_final(&acc.finish());
}

/// Fuzz entry for the accumulator.
pub fn fuzz_accumulator(data: &[u8]) {
    check_accumulator(data);
}

// ---------------------------------------------------------------------------------------------
// Stream pipeline

/// A body that hands out prepared chunks, always ready.
struct Chunks(VecDeque<Bytes>);

impl Stream for Chunks {
    type Item = Result<Bytes, TransportError>;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

/// What the chunk stream made of a body: each chunk (as JSON) or the error that ended it,
/// and the accumulated response of the chunks when the stream ended cleanly.
#[derive(Debug, PartialEq, Eq)]
pub struct PipelineOutcome {
    pub items: Vec<Result<String, String>>,
    pub response: Option<String>,
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
}

/// Reads `chunks` as a streamed chat completion to its end.
pub fn run_pipeline(chunks: &[&[u8]], max_event_size: usize) -> PipelineOutcome {
    let body = Body::from_stream(Chunks(
        chunks.iter().map(|c| Bytes::copy_from_slice(c)).collect(),
    ));
    let config = StreamConfig::new()
        .max_event_size(max_event_size)
        .idle_timeout(None);
    let meta = ResponseMeta::new(http::StatusCode::OK, http::HeaderMap::new());
    let mut stream = ChatCompletionStream::new(body, config, meta);
    let mut acc = ChatCompletionAccumulator::new();
    let mut items = Vec::new();
    let mut failed = false;
    RUNTIME.with(|rt| {
        let _guard = rt.enter();
        let mut cx = Context::from_waker(Waker::noop());
        // Every chunk is ready, so the stream never waits; a bound proves it ends.
        for _ in 0..1_000_000 {
            match stream.poll_chunk(&mut cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    items.push(Ok(
                        serde_json::to_string(&chunk).expect("a chunk serializes")
                    ));
                    acc.push(chunk);
                }
                Poll::Ready(Some(Err(e))) => {
                    items.push(Err(format!("{:?}: {e}", e.kind())));
                    failed = true;
                }
                Poll::Ready(None) => return,
                Poll::Pending => panic!("a stream over a ready body is pending"),
            }
        }
        panic!("the chunk stream did not end");
    });
    let response = (!failed).then(|| {
        let response = acc.finish();
        check_final(&response);
        serde_json::to_string(&response).expect("a response serializes")
    });
    PipelineOutcome { items, response }
}

/// The chunk stream gives the same chunks, errors and final response for `body` whole and
/// cut at `cuts`; nothing panics or hangs.
pub fn check_pipeline(body: &[u8], max_event_size: usize, cuts: &[usize]) {
    let whole = run_pipeline(&[body], max_event_size);
    let split = run_pipeline(&pieces(body, cuts), max_event_size);
    assert_eq!(whole, split, "whole vs split at {cuts:?}");
}

/// Fuzz entry: header byte = split seed and event size limit, as for [`fuzz_sse`].
pub fn fuzz_pipeline(data: &[u8]) {
    let (h, body) = header(data);
    let max = match h & 3 {
        0 | 1 => StreamConfig::DEFAULT_MAX_EVENT_SIZE,
        2 => 256,
        _ => 32,
    };
    check_pipeline(body, max, &split_points(h, body.len()));
}
