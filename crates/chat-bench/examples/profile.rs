//! Runs one CPU workload a fixed number of times, for instruction-level profiles:
//!
//! ```text
//! cargo build --profile bench -p chat-bench --example profile
//! valgrind --tool=callgrind --toggle-collect='profile::run*' \
//!     target/release/examples/profile <workload> [iterations]
//! ```
//!
//! Workloads: `chunks-ours`, `chunks-peer`, `sse-parse-ours`, `sse-parse-peer`,
//! `accumulate-ours`, `accumulate-peer`; and for each input `typical` (100 parses per
//! iteration), `long` (64 KiB of text), `logprobs` (64 KiB with logprobs), `numbers` (16 KiB
//! of floats in an unknown field, 10 parses per iteration) and `chunks` (10,000 stream chunks),
//! one workload per parser, `<input>-<parser>`:
//!
//! - `ours`: `chat_core::json::from_slice`, the client's decode path (`from_utf8`, then
//!   `serde_json::from_str`);
//! - `ours-slice`: `serde_json::from_slice` on our types;
//! - `ours-sonic`: `sonic_rs::from_slice` on our types (for comparison; the client does not
//!   use it);
//! - `peer`: `serde_json::from_slice` on async-openai's types; `peer-str`: `from_utf8` then
//!   `serde_json::from_str` on them;
//! - `floor`: `serde_json::Value`; `ignore`: `serde::de::IgnoredAny` (the tokenizer alone, a
//!   lower bound).
//!
//! Inputs are built (and cloned)
//! outside `run`, so a profile collected inside it shows only the workload.

use std::hint::black_box;

use serde::de::{DeserializeOwned, IgnoredAny};

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
    let chunk_bytes: Vec<&[u8]> = chunks.iter().map(|c| c.as_bytes()).collect();
    let inputs: [(&str, Vec<&[u8]>, usize); 5] = [
        ("typical", vec![typical.as_bytes()], 100),
        ("long", vec![long.as_bytes()], 1),
        ("logprobs", vec![logprobs.as_bytes()], 1),
        ("numbers", vec![numbers.as_bytes()], 10),
        ("chunks", chunk_bytes, 1),
    ];
    for _ in 0..n {
        match workload {
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
            other => {
                let Some((input, parser)) = other.split_once('-') else {
                    eprintln!("unknown workload {other}");
                    std::process::exit(2);
                };
                let Some((_, bodies, times)) = inputs.iter().find(|(name, ..)| *name == input)
                else {
                    eprintln!("unknown input {input}");
                    std::process::exit(2);
                };
                let Some(parse) = parser_for(input, parser) else {
                    eprintln!("unknown parser {parser}");
                    std::process::exit(2);
                };
                run(&mut || {
                    for _ in 0..*times {
                        for body in bodies {
                            black_box(parse(black_box(body)));
                        }
                    }
                })
            }
        }
    }
}

/// Parses one body, returning whether it parsed.
type Parse = fn(&[u8]) -> bool;

/// The parser `name` for the type of `input` (stream chunks or responses).
fn parser_for(input: &str, name: &str) -> Option<Parse> {
    if input == "chunks" {
        parsers::<OurChunk, PeerChunk>(name)
    } else {
        parsers::<OurResponse, PeerResponse>(name)
    }
}

fn parsers<O: DeserializeOwned, P: DeserializeOwned>(name: &str) -> Option<Parse> {
    Some(match name {
        "ours" => |b| chat_core::json::from_slice::<O>(b).is_ok(),
        "ours-slice" => |b| serde_json::from_slice::<O>(b).is_ok(),
        "ours-sonic" => |b| sonic_rs::from_slice::<O>(b).is_ok(),
        "peer" => |b| serde_json::from_slice::<P>(b).is_ok(),
        "peer-str" => {
            |b| std::str::from_utf8(b).is_ok_and(|t| serde_json::from_str::<P>(t).is_ok())
        }
        "floor" => |b| serde_json::from_slice::<serde_json::Value>(b).is_ok(),
        "ignore" => |b| serde_json::from_slice::<IgnoredAny>(b).is_ok(),
        _ => return None,
    })
}
