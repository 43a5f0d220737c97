//! CPU micro-benchmarks: this SDK ("ours") side by side with async-openai's types and parsers
//! ("async-openai") and `serde_json::Value` with a minimal SSE splitter ("floor").
//!
//! Run: `cargo bench -p chat-bench --bench cpu` (or `cargo xtask bench`). Every group
//! measures the three implementations on the same input, with bytes of input (or output,
//! for serialization) as throughput.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput};
use serde_json::Value;

use chat_bench::payload::{self, StreamKind};
use chat_bench::work::{self, OurChunk, PeerChunk};
use chat_bench::{floor, peer};

type OurResponse = chat_types::CreateChatCompletionResponse;
type PeerResponse = async_openai::types::chat::CreateChatCompletionResponse;

fn serialize(c: &mut Criterion) {
    let ours = payload::request_ours();
    let peer = payload::request_peer();
    let value = payload::request_value();
    let len = serde_json::to_vec(&value).map_or(0, |v| v.len());
    let mut g = c.benchmark_group(format!("serialize request (typical, {len} B)"));
    g.throughput(Throughput::Bytes(len as u64));
    g.bench_function("ours", |b| b.iter(|| serde_json::to_vec(black_box(&ours))));
    g.bench_function("async-openai", |b| {
        b.iter(|| serde_json::to_vec(black_box(&peer)))
    });
    g.bench_function("floor", |b| {
        b.iter(|| serde_json::to_vec(black_box(&value)))
    });
    g.finish();
}

fn deserialize_response(c: &mut Criterion, name: &str, body: &str) {
    let mut g = c.benchmark_group(format!("deserialize response ({name}, {} B)", body.len()));
    g.throughput(Throughput::Bytes(body.len() as u64));
    let bytes = body.as_bytes();
    g.bench_function("ours", |b| {
        b.iter(|| serde_json::from_slice::<OurResponse>(black_box(bytes)))
    });
    g.bench_function("async-openai", |b| {
        b.iter(|| serde_json::from_slice::<PeerResponse>(black_box(bytes)))
    });
    g.bench_function("floor", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(bytes)))
    });
    g.finish();
}

fn responses(c: &mut Criterion) {
    deserialize_response(c, "typical", &payload::typical_response());
    deserialize_response(c, "64 KiB of text", &payload::long_text_response(64 * 1024));
    deserialize_response(
        c,
        "64 KiB with logprobs",
        &payload::logprobs_response(64 * 1024),
    );
    // Ours keeps the unknown field's numbers exactly; async-openai skips the field.
    deserialize_response(
        c,
        "16 KiB of floats in an unknown field",
        &payload::unknown_numbers_response(16 * 1024),
    );
}

fn chunks(c: &mut Criterion) {
    let chunks = payload::stream_chunks(StreamKind::Content, 10_000);
    let total: usize = chunks.iter().map(String::len).sum();
    let mut g = c.benchmark_group("deserialize 10,000 stream chunks");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("ours", |b| {
        b.iter(|| work::parse_chunks::<OurChunk>(&chunks))
    });
    g.bench_function("async-openai", |b| {
        b.iter(|| work::parse_chunks::<PeerChunk>(&chunks))
    });
    g.bench_function("floor", |b| b.iter(|| work::parse_chunks::<Value>(&chunks)));
    g.finish();
}

fn sse(c: &mut Criterion) {
    let body = payload::sse_body(&payload::stream_chunks(StreamKind::Content, 10_000));
    let pieces = payload::network_pieces(&body);
    let mut g = c.benchmark_group(format!(
        "SSE decode, 10,000 events in 1-4 KiB pieces ({:.1} MB)",
        body.len() as f64 / 1e6
    ));
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("ours", |b| b.iter(|| work::sse_ours(black_box(&pieces))));
    g.bench_function("async-openai", |b| {
        b.iter(|| work::sse_peer(black_box(&pieces)))
    });
    g.bench_function("floor", |b| b.iter(|| work::sse_floor(black_box(&pieces))));
    g.finish();

    let mut g = c.benchmark_group("SSE + parse, 10,000 chunks in 1-4 KiB pieces");
    g.throughput(Throughput::Bytes(body.len() as u64));
    let input = || -> Vec<Bytes> { pieces.clone() };
    // Each chunk is handed to the caller and dropped, as a consumer of a stream does.
    g.bench_function("ours", |b| {
        b.iter_batched(
            input,
            |p| work::stream_ours(p, |c| drop(black_box(c))),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("async-openai", |b| {
        b.iter_batched(
            input,
            |p| work::stream_peer(p, |c| drop(black_box(c))),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("floor", |b| {
        b.iter(|| work::stream_floor(black_box(&pieces), |c| drop(black_box(c))))
    });
    g.finish();
}

fn accumulate(c: &mut Criterion) {
    for (kind, name) in [
        (StreamKind::Content, "text"),
        (StreamKind::ToolCalls, "2 tool calls"),
    ] {
        let chunks = payload::stream_chunks(kind, 200);
        let ours: Vec<OurChunk> = chunks
            .iter()
            .filter_map(|c| serde_json::from_str(c).ok())
            .collect();
        let peer_chunks: Vec<PeerChunk> = chunks
            .iter()
            .filter_map(|c| serde_json::from_str(c).ok())
            .collect();
        let values: Vec<Value> = chunks
            .iter()
            .filter_map(|c| serde_json::from_str(c).ok())
            .collect();
        let mut g = c.benchmark_group(format!("accumulate 200 parsed chunks ({name})"));
        g.throughput(Throughput::Elements(200));
        g.bench_function("ours", |b| {
            b.iter_batched(
                || ours.clone(),
                work::accumulate_ours,
                BatchSize::SmallInput,
            )
        });
        g.bench_function("async-openai", |b| {
            b.iter_batched(
                || peer_chunks.clone(),
                peer::accumulate,
                BatchSize::SmallInput,
            )
        });
        g.bench_function("floor", |b| {
            b.iter_batched(|| values.clone(), floor::accumulate, BatchSize::SmallInput)
        });
        g.finish();
    }
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(800))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
        .configure_from_args();
    serialize(&mut c);
    responses(&mut c);
    chunks(&mut c);
    sse(&mut c);
    accumulate(&mut c);
    c.final_summary();
}
