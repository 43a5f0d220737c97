//! CPU micro-benchmarks: this SDK ("ours") side by side with async-openai's types and parsers
//! ("async-openai") and `serde_json::Value` with a minimal SSE splitter ("floor").
//!
//! Run: `cargo bench -p chat-bench --bench cpu` (or `cargo xtask bench`). Every group measures the three
//! implementations on the same input, with bytes of input (or output, for serialization) as
//! throughput; the typed-parse groups also name the parse method (see `typed_rows`).

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, Throughput};
use serde::de::DeserializeOwned;
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

/// The typed-parse rows of a group, each parsing one body of bytes as it arrives from the
/// network: the client's default decode path (`ours`), our types through `serde_json::from_slice`,
/// sonic-rs on our types (a SIMD parser the client does not use, for comparison), and
/// async-openai's types through `serde_json::from_slice` and through `from_str` after one UTF-8
/// check (the default decode path's method, for a like-for-like comparison).
fn typed_rows<O: DeserializeOwned, P: DeserializeOwned>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    bodies: &[&[u8]],
) {
    fn each<T>(bodies: &[&[u8]], parse: impl Fn(&[u8]) -> Option<T>) -> usize {
        bodies
            .iter()
            .filter(|b| black_box(parse(black_box(b))).is_some())
            .count()
    }
    g.bench_function(OURS_DECODE, |b| {
        b.iter(|| each(bodies, |x| chat_core::json::from_slice::<O>(x).ok()))
    });
    g.bench_function(OURS_SLICE, |b| {
        b.iter(|| each(bodies, |x| serde_json::from_slice::<O>(x).ok()))
    });
    g.bench_function(OURS_SONIC, |b| {
        b.iter(|| each(bodies, |x| sonic_rs::from_slice::<O>(x).ok()))
    });
    g.bench_function("async-openai", |b| {
        b.iter(|| each(bodies, |x| serde_json::from_slice::<P>(x).ok()))
    });
    g.bench_function(PEER_STR, |b| {
        b.iter(|| {
            each(bodies, |x| {
                serde_json::from_str::<P>(std::str::from_utf8(x).ok()?).ok()
            })
        })
    });
    g.bench_function("floor", |b| {
        b.iter(|| each(bodies, |x| serde_json::from_slice::<Value>(x).ok()))
    });
}

/// Row names beyond ours / async-openai / floor (xtask bench reads them by these ids).
const OURS_DECODE: &str = "ours";
const OURS_SLICE: &str = "ours, serde_json::from_slice";
const OURS_SONIC: &str = "ours, sonic-rs";
const PEER_STR: &str = "async-openai, from_str after UTF-8 check";

fn deserialize_response(c: &mut Criterion, name: &str, body: &str) {
    let mut g = c.benchmark_group(format!("deserialize response ({name}, {} B)", body.len()));
    g.throughput(Throughput::Bytes(body.len() as u64));
    typed_rows::<OurResponse, PeerResponse>(&mut g, &[body.as_bytes()]);
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
    let bodies: Vec<&[u8]> = chunks.iter().map(|c| c.as_bytes()).collect();
    typed_rows::<OurChunk, PeerChunk>(&mut g, &bodies);
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
