//! The CPU workloads of `benches/cpu.rs`, one function per implementation, so that tests can
//! check that the three do the same work.
//!
//! Streams are polled with a no-op waker: the inputs are in memory, so every poll is ready.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_core::Stream;
use serde_json::Value;

use chat_core::{
    Body, ChatCompletionAccumulator, ChatCompletionStream, SseDecoder, StreamConfig, StreamMeta,
    TransportError,
};

use crate::floor::NaiveSse;

/// Peer chunk type.
pub type PeerChunk = async_openai::types::chat::CreateChatCompletionStreamResponse;
/// Our chunk type.
pub type OurChunk = chat_types::CreateChatCompletionStreamResponse;

/// A body made of in-memory pieces, as a stream of `Result<Bytes, E>`.
#[derive(Debug)]
pub struct Pieces<E> {
    pieces: std::vec::IntoIter<Bytes>,
    error: PhantomData<fn() -> E>,
}

impl<E> Pieces<E> {
    /// The pieces, in order.
    pub fn new(pieces: Vec<Bytes>) -> Self {
        Pieces {
            pieces: pieces.into_iter(),
            error: PhantomData,
        }
    }
}

impl<E> Stream for Pieces<E> {
    type Item = Result<Bytes, E>;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.get_mut().pieces.next().map(Ok))
    }
}

/// Polls `stream` to its end with a no-op waker, calling `f` on each item.
///
/// Stops at the first `Pending` (which in-memory inputs never return).
pub fn drain<S: Stream + Unpin>(mut stream: S, mut f: impl FnMut(S::Item)) {
    let mut cx = Context::from_waker(Waker::noop());
    while let Poll::Ready(Some(item)) = Pin::new(&mut stream).poll_next(&mut cx) {
        f(item);
    }
}

/// Our SSE decoder: the number of events and the total size of their data.
pub fn sse_ours(pieces: &[Bytes]) -> (usize, usize) {
    let mut decoder = SseDecoder::new(StreamConfig::DEFAULT_MAX_EVENT_SIZE);
    let (mut events, mut bytes) = (0, 0);
    for piece in pieces {
        decoder.push(piece.clone());
        while let Ok(Some(event)) = decoder.next_event() {
            events += 1;
            bytes += event.data_bytes().len();
        }
    }
    (events, bytes)
}

/// eventsource-stream, the SSE parser async-openai uses: events and data size.
pub fn sse_peer(pieces: &[Bytes]) -> (usize, usize) {
    let (mut events, mut bytes) = (0, 0);
    let stream =
        eventsource_stream::EventStream::new(Pieces::<std::io::Error>::new(pieces.to_vec()));
    drain(stream, |event| {
        if let Ok(event) = event {
            events += 1;
            bytes += event.data.len();
        }
    });
    (events, bytes)
}

/// The floor's splitter: events and data size.
pub fn sse_floor(pieces: &[Bytes]) -> (usize, usize) {
    let mut sse = NaiveSse::new();
    let (mut events, mut bytes) = (0, 0);
    for piece in pieces {
        sse.feed(piece, |data| {
            events += 1;
            bytes += data.len();
        });
    }
    (events, bytes)
}

/// Bytes to typed chunks with our [`ChatCompletionStream`], handing each chunk to `f`.
pub fn stream_ours(pieces: Vec<Bytes>, mut f: impl FnMut(OurChunk)) {
    let body = Body::from_stream(Pieces::<TransportError>::new(pieces));
    let mut stream = ChatCompletionStream::new(body, StreamConfig::new(), StreamMeta::default());
    let mut cx = Context::from_waker(Waker::noop());
    while let Poll::Ready(Some(Ok(chunk))) = stream.poll_chunk(&mut cx) {
        f(chunk);
    }
}

/// Bytes to typed chunks the way async-openai does it: eventsource-stream, then
/// `serde_json::from_str` of each event's data up to `[DONE]` (without the task and channel
/// async-openai adds), handing each chunk to `f`.
pub fn stream_peer(pieces: Vec<Bytes>, mut f: impl FnMut(PeerChunk)) {
    let stream = eventsource_stream::EventStream::new(Pieces::<std::io::Error>::new(pieces));
    let mut done = false;
    drain(stream, |event| {
        let Ok(event) = event else { return };
        if done || event.data == "[DONE]" {
            done = true;
            return;
        }
        if let Ok(chunk) = serde_json::from_str::<PeerChunk>(&event.data) {
            f(chunk);
        }
    });
}

/// Bytes to `Value` chunks with the floor's splitter, handing each chunk to `f`.
pub fn stream_floor(pieces: &[Bytes], mut f: impl FnMut(Value)) {
    let mut sse = NaiveSse::new();
    let mut done = false;
    for piece in pieces {
        sse.feed(piece, |data| {
            if done || data == b"[DONE]" {
                done = true;
            } else if let Ok(v) = serde_json::from_slice::<Value>(data) {
                f(v);
            }
        });
    }
}

/// Merges our chunks with [`ChatCompletionAccumulator`].
pub fn accumulate_ours(chunks: Vec<OurChunk>) -> chat_types::CreateChatCompletionResponse {
    let mut acc = ChatCompletionAccumulator::new();
    for chunk in chunks {
        acc.push(chunk);
    }
    acc.finish()
}

/// Parses each chunk's JSON into `T`; returns how many parsed.
pub fn parse_chunks<T: serde::de::DeserializeOwned>(chunks: &[String]) -> usize {
    chunks
        .iter()
        .filter(|c| std::hint::black_box(serde_json::from_str::<T>(c)).is_ok())
        .count()
}
