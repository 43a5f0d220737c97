//! Runs one CPU workload a fixed number of times, for instruction-level profiles:
//!
//! ```text
//! cargo build --profile bench -p chat-bench --example profile
//! valgrind --tool=callgrind --toggle-collect='profile::run*' \
//!     target/release/examples/profile <workload> [iterations]
//! ```
//!
//! Workloads: `chunks-ours`, `chunks-peer`, `sse-parse-ours`, `sse-parse-peer`,
//! `accumulate-ours`, `accumulate-peer`, `logprobs-ours`, `logprobs-peer`, `typical-ours`,
//! `typical-peer` (100 parses per iteration), `long-ours`, `long-peer` (64 KiB of text),
//! `numbers-ours`, `numbers-peer` (16 KiB of floats in an unknown field, 10 parses per
//! iteration); `-floor` variants (`serde_json::Value`) of `chunks`, `logprobs`, `typical`,
//! `long` and `numbers`; `-ignore` variants (`serde::de::IgnoredAny`: the tokenizer alone, a
//! lower bound) of `chunks`, `logprobs`, `typical` and `long`. Inputs are built (and cloned)
//! outside `run`, so a profile collected inside it shows only the workload.

use std::hint::black_box;

use chat_bench::payload::{self, StreamKind};
use chat_bench::peer;
use chat_bench::work::{self, OurChunk, PeerChunk};

type OurResponse = chat_types::CreateChatCompletionResponse;
type PeerResponse = async_openai::types::chat::CreateChatCompletionResponse;

#[inline(never)]
fn run(f: &mut dyn FnMut()) {
    f();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workload = args.first().map(String::as_str).unwrap_or("chunks-ours");
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let chunks = payload::stream_chunks(StreamKind::Content, 10_000);
    let pieces = payload::network_pieces(&payload::sse_body(&chunks));
    let logprobs = payload::logprobs_response(64 * 1024);
    let acc_chunks = payload::stream_chunks(StreamKind::ToolCalls, 200);
    let typical = payload::typical_response();
    let long = payload::long_text_response(64 * 1024);
    let numbers = payload::unknown_numbers_response(16 * 1024);
    fn parse_n<T: serde::de::DeserializeOwned>(body: &str, n: usize) {
        for _ in 0..n {
            black_box(serde_json::from_str::<T>(black_box(body)).is_ok());
        }
    }
    for _ in 0..n {
        match workload {
            "chunks-ours" => run(&mut || {
                black_box(work::parse_chunks::<OurChunk>(&chunks));
            }),
            "chunks-peer" => run(&mut || {
                black_box(work::parse_chunks::<PeerChunk>(&chunks));
            }),
            "sse-parse-ours" => {
                let p = pieces.clone();
                let mut p = Some(p);
                run(&mut || work::stream_ours(p.take().unwrap_or_default(), |c| drop(black_box(c))))
            }
            "sse-parse-peer" => {
                let mut p = Some(pieces.clone());
                run(&mut || work::stream_peer(p.take().unwrap_or_default(), |c| drop(black_box(c))))
            }
            "accumulate-ours" => {
                let input: Vec<OurChunk> = acc_chunks
                    .iter()
                    .filter_map(|c| serde_json::from_str(c).ok())
                    .collect();
                let mut input = Some(input);
                run(&mut || {
                    black_box(work::accumulate_ours(input.take().unwrap_or_default()));
                })
            }
            "accumulate-peer" => {
                let input: Vec<PeerChunk> = acc_chunks
                    .iter()
                    .filter_map(|c| serde_json::from_str(c).ok())
                    .collect();
                let mut input = Some(input);
                run(&mut || {
                    black_box(peer::accumulate(input.take().unwrap_or_default()));
                })
            }
            "logprobs-ours" => run(&mut || {
                black_box(serde_json::from_str::<OurResponse>(&logprobs).is_ok());
            }),
            "logprobs-peer" => run(&mut || {
                black_box(serde_json::from_str::<PeerResponse>(&logprobs).is_ok());
            }),
            "logprobs-floor" => run(&mut || parse_n::<serde_json::Value>(&logprobs, 1)),
            "chunks-floor" => run(&mut || {
                black_box(work::parse_chunks::<serde_json::Value>(&chunks));
            }),
            "typical-ours" => run(&mut || parse_n::<OurResponse>(&typical, 100)),
            "typical-peer" => run(&mut || parse_n::<PeerResponse>(&typical, 100)),
            "typical-floor" => run(&mut || parse_n::<serde_json::Value>(&typical, 100)),
            "long-ours" => run(&mut || parse_n::<OurResponse>(&long, 1)),
            "long-peer" => run(&mut || parse_n::<PeerResponse>(&long, 1)),
            "long-floor" => run(&mut || parse_n::<serde_json::Value>(&long, 1)),
            "numbers-ours" => run(&mut || parse_n::<OurResponse>(&numbers, 10)),
            "numbers-peer" => run(&mut || parse_n::<PeerResponse>(&numbers, 10)),
            "numbers-floor" => run(&mut || parse_n::<serde_json::Value>(&numbers, 10)),
            // The tokenizer alone: every byte scanned, nothing built (a lower bound).
            "typical-ignore" => run(&mut || parse_n::<serde::de::IgnoredAny>(&typical, 100)),
            "long-ignore" => run(&mut || parse_n::<serde::de::IgnoredAny>(&long, 1)),
            "logprobs-ignore" => run(&mut || parse_n::<serde::de::IgnoredAny>(&logprobs, 1)),
            "chunks-ignore" => run(&mut || {
                for c in &chunks {
                    black_box(serde_json::from_str::<serde::de::IgnoredAny>(c).is_ok());
                }
            }),
            other => {
                eprintln!("unknown workload {other}");
                std::process::exit(2);
            }
        }
    }
}
