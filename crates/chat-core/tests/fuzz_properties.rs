//! The fuzz targets' properties on stable: proptest drives the checks of `fuzz/src/lib.rs`
//! (shared with the cargo-fuzz targets) for a few seconds each, and every input the fuzzers
//! ever failed on (`fuzz/regressions/TARGET/*`) and every seed is replayed.
//!
//! The generators build inputs close to real streams and bodies (SSE fields, line ends cut
//! anywhere, chunk-shaped JSON with odd values) so that a short run reaches the interesting
//! paths; the fuzzers explore the raw byte space.

#[path = "../../../fuzz/src/lib.rs"]
mod props;

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{json, Value};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Generators

/// Pieces of an event stream: fields, comments, line ends of every kind, a BOM, bytes that are
/// not UTF-8, long runs.
fn sse_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"data: ".to_vec()),
        Just(b"data:".to_vec()),
        Just(b"data".to_vec()),
        Just(b"event: error".to_vec()),
        Just(b"event:".to_vec()),
        Just(b"id: 42".to_vec()),
        Just(b"id: a\0b".to_vec()),
        Just(b"id".to_vec()),
        Just(b"retry: 1500".to_vec()),
        Just(b"retry: x".to_vec()),
        Just(b": keep-alive".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xFF\xC3".to_vec()),
        Just(b"[DONE]".to_vec()),
        Just(br#"{"choices":[{"index":0,"delta":{"content":"hi"}}]}"#.to_vec()),
        "[a-z :]{0,12}".prop_map(String::into_bytes),
        (1usize..300).prop_map(|n| vec![b'x'; n]),
        proptest::collection::vec(any::<u8>(), 0..8),
    ]
}

fn sse_body() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(sse_piece(), 0..40).prop_map(|p| p.concat())
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0usize..2000, 0..24)
}

fn max_event_size() -> impl Strategy<Value = usize> {
    prop_oneof![Just(16 * 1024 * 1024), Just(256), Just(32), Just(1)]
}

/// Odd JSON values: numbers that are hard to round-trip, strings with escapes, nesting.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        Just(json!(0.1)),
        Just(json!(1e-7)),
        Just(json!(-0.0)),
        "[a-z]{0,6}".prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
        Just(json!("assistant")),
        Just(json!("stop")),
        Just(json!("tool_calls")),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("id"),
        Just("object"),
        Just("model"),
        Just("created"),
        Just("choices"),
        Just("index"),
        Just("delta"),
        Just("message"),
        Just("role"),
        Just("content"),
        Just("refusal"),
        Just("tool_calls"),
        Just("function"),
        Just("name"),
        Just("arguments"),
        Just("type"),
        Just("finish_reason"),
        Just("logprobs"),
        Just("usage"),
        Just("metadata"),
        Just("messages"),
        Just("stop"),
        Just("tools"),
        Just("x_vendor"),
    ]
    .prop_map(str::to_owned)
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A stream chunk: mostly well-formed, with optional odd members anywhere.
fn chunk() -> impl Strategy<Value = Value> {
    let tool_call = (0u32..3, proptest::option::of("[a-z]{1,4}"), "[{}a-z\":]{0,8}").prop_map(
        |(index, name, args)| json!({"index": index, "id": name.clone().map(|n| format!("call_{n}")), "type": "function", "function": {"name": name, "arguments": args}}),
    );
    let delta = (
        proptest::option::of(Just(json!("assistant"))),
        proptest::option::of("\\PC{0,6}"),
        proptest::option::of(proptest::collection::vec(tool_call, 0..3)),
        proptest::option::of((key(), value())),
    )
        .prop_map(|(role, content, calls, extra)| {
            let mut d = json!({});
            if let Some(r) = role {
                d["role"] = r;
            }
            if let Some(c) = content {
                d["content"] = json!(c);
            }
            if let Some(c) = calls {
                d["tool_calls"] = json!(c);
            }
            if let Some((k, v)) = extra {
                d[k] = v;
            }
            d
        });
    let choice = (
        0u32..3,
        delta,
        proptest::option::of(prop_oneof![
            Just(json!("stop")),
            Just(json!("length")),
            Just(json!("tool_calls")),
            Just(json!("something_new")),
        ]),
    )
        .prop_map(|(index, delta, finish)| json!({"index": index, "delta": delta, "finish_reason": finish}));
    (
        proptest::collection::vec(choice, 0..3),
        proptest::option::of((key(), value())),
        any::<bool>(),
    )
        .prop_map(|(choices, extra, usage)| {
            let mut c = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices});
            if usage {
                c["usage"] = json!({"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3});
            }
            if let Some((k, v)) = extra {
                c[k] = v;
            }
            c
        })
}

/// An event stream of chunks with random line ends, comments, error events and `[DONE]`.
fn chunk_stream() -> impl Strategy<Value = Vec<u8>> {
    let event = prop_oneof![
        6 => chunk().prop_map(|c| format!("data: {c}")),
        1 => Just(": ping".to_owned()),
        1 => Just("event: error\ndata: {\"error\":{\"message\":\"boom\"}}".to_owned()),
        1 => Just("data: {\"error\":{\"message\":\"late\",\"code\":\"x\"}}".to_owned()),
        1 => Just("data: {not json".to_owned()),
        1 => Just("data: [DONE]".to_owned()),
    ];
    let end = prop_oneof![Just("\n\n"), Just("\r\n\r\n"), Just("\r\r"), Just("\n")];
    proptest::collection::vec((event, end), 0..8).prop_map(|events| {
        events
            .into_iter()
            .map(|(e, end)| e + end)
            .collect::<String>()
            .into_bytes()
    })
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn sse_decoder_agrees_whole_split_and_byte_by_byte(
        body in sse_body(), cuts in cuts(), max in max_event_size()
    ) {
        props::check_sse(&body, max, &cuts);
    }

    #[test]
    fn stream_pipeline_agrees_whole_and_split(
        body in prop_oneof![chunk_stream(), sse_body()], cuts in cuts(), max in max_event_size()
    ) {
        props::check_pipeline(&body, max, &cuts);
    }

    #[test]
    fn accumulator_final_response_reparses(
        chunks in proptest::collection::vec(chunk(), 0..8)
    ) {
        let text: String = chunks.iter().map(|c| c.to_string()).collect();
        props::check_accumulator(text.as_bytes());
    }

    #[test]
    fn json_round_trip_is_stable(v in value(), c in chunk()) {
        props::fuzz_json(v.to_string().as_bytes());
        props::fuzz_json(c.to_string().as_bytes());
        // The chunk as a response and a request, with messages made of its choices.
        let mut response = c.clone();
        response["object"] = json!("chat.completion");
        props::fuzz_json(response.to_string().as_bytes());
        let request = json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "metadata": c});
        props::fuzz_json(request.to_string().as_bytes());
    }
}

// ---------------------------------------------------------------------------------------------
// Replays

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .is_some_and(|n| n != "README.md" && n != ".gitkeep")
        })
        .collect();
    out.sort();
    out
}

/// Runs `target`'s fuzz entry over every file under `fuzz/<kind>/<target>/`; returns how many.
fn replay(kind: &str, target: &str, check: Check) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(kind)
        .join(target);
    let files = files(&dir);
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "{target}: {} fails again", file.display());
    }
    files.len()
}

/// A fuzz target's entry point.
type Check = fn(&[u8]);

const TARGETS: &[(&str, Check)] = &[
    ("sse_decoder", props::fuzz_sse),
    ("json_round_trip", props::fuzz_json),
    ("accumulator", props::fuzz_accumulator),
    ("stream_pipeline", props::fuzz_pipeline),
];

#[test]
fn fuzz_seeds_pass_every_property() {
    for (target, check) in TARGETS {
        assert!(replay("seeds", target, *check) > 0, "{target} has no seeds");
    }
}

#[test]
fn fuzz_regressions_stay_fixed() {
    let mut replayed = 0;
    for (target, check) in TARGETS {
        replayed += replay("regressions", target, *check);
    }
    assert!(replayed >= 3, "the regression inputs are missing");
}

#[test]
fn the_properties_can_fail() {
    // The checks are not vacuous: a disagreement or a non-reparsing output panics.
    let split = props::pieces(b"abcdef", &[2, 4, 4, 0, 9]);
    assert_eq!(split, [&b"ab"[..], b"cd", b"ef"]);
    assert!(!props::split_points(7, 100).is_empty());
    let outcome = props::sse_decode(&[b"data: a\n\ndata: b"], 1024);
    assert_eq!(outcome.events.len(), 1);
    assert!(outcome.discarded);
    let pipeline = props::run_pipeline(
        &[b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"],
        1024,
    );
    assert_eq!(pipeline.items.len(), 1);
    assert!(pipeline.response.unwrap().contains("\"hi\""));
}
