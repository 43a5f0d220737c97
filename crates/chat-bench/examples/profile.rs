//! Runs one CPU workload a fixed number of times, for instruction-level profiles:
//!
//! ```text
//! cargo build --profile bench -p chat-bench --example profile
//! valgrind --tool=callgrind --toggle-collect='profile::run*' \
//!     target/release/examples/profile <workload> [iterations]
//! ```
//!
//! Workloads: `chunks-ours`, `chunks-peer`, `sse-parse-ours`, `sse-parse-peer`,
//! `accumulate-ours`, `accumulate-peer`, `logprobs-ours`, `logprobs-peer`. Inputs are built
//! (and cloned) outside `run`, so a profile collected inside it shows only the workload.

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
            other => {
                eprintln!("unknown workload {other}");
                std::process::exit(2);
            }
        }
    }
}
