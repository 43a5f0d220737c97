//! The `simd` feature's parser (sonic-rs) against serde_json: every fixture of the repository
//! (spec examples, vendor fixtures, stream fixtures) parses to the same values, typed and as
//! `serde_json::Value`, and writes back the same bytes; floats come out as the same `f64`s; and
//! hostile input (truncated, malformed, not UTF-8, deeply nested) gives exactly serde_json's
//! result through `chat_core::json::from_slice`, never a panic.
#![cfg(feature = "simd")]

use std::path::{Path, PathBuf};

use chat_core::json;
use chat_core::types::{
    ChatCompletionDeleted, ChatCompletionList, ChatCompletionMessageList,
    CreateChatCompletionRequest, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
    ErrorResponse, UpdateChatCompletionRequest,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The JSON documents of every fixture: whole `.json` files and the `data:` of `.sse` events.
fn fixture_documents() -> Vec<(String, Vec<u8>)> {
    let dirs = [
        "spec/examples",
        "crates/chat-types/tests/fixtures",
        "crates/chat-core/tests/fixtures/stream",
    ];
    let mut docs = Vec::new();
    for dir in dirs {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap();
            if name.ends_with(".json") {
                docs.push((name, bytes));
            } else if name.ends_with(".sse") {
                let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
                let text = text.replace('\r', "\n");
                for (i, event) in text.split("\n\n").enumerate() {
                    let data: Vec<&str> = event
                        .lines()
                        .filter_map(|l| l.strip_prefix("data:"))
                        .map(|d| d.strip_prefix(' ').unwrap_or(d))
                        .collect();
                    let payload = data.join("\n");
                    if !payload.trim().is_empty() && payload.trim() != "[DONE]" {
                        docs.push((format!("{name} event {i}"), payload.into_bytes()));
                    }
                }
            }
        }
    }
    docs
}

/// Parses `bytes` as `T` with sonic-rs alone and with serde_json, and checks that both agree:
/// both fail, or both succeed with the same re-serialization. Returns whether it parsed.
fn same_typed<T: DeserializeOwned + Serialize>(what: &str, bytes: &[u8]) -> bool {
    let reference = serde_json::from_slice::<T>(bytes);
    let sonic = json::from_slice_sonic::<T>(bytes);
    // The one documented difference: sonic-rs nests up to 255 levels, serde_json 128.
    if let Err(e) = &reference {
        if e.to_string().starts_with("recursion limit exceeded") {
            let _ = json::from_slice::<T>(bytes);
            return false;
        }
    }
    match (&reference, &sonic) {
        (Ok(r), Some(s)) => {
            let (r, s) = (
                serde_json::to_vec(r).unwrap(),
                serde_json::to_vec(s).unwrap(),
            );
            assert!(r == s, "{what}: re-serialization differs");
        }
        (Err(_), None) => {}
        // Left to serde_json (a negative zero), or refused by sonic-rs: the fallback decides.
        (Ok(_), None) => {}
        (Err(e), Some(_)) => panic!("{what}: sonic-rs parses it, serde_json does not ({e})"),
    }
    // Whatever sonic-rs does, the decode path gives serde_json's result.
    let ours = json::from_slice::<T>(bytes)
        .map(|v| serde_json::to_vec(&v).unwrap())
        .map_err(|e| e.to_string());
    let reference = reference
        .map(|v| serde_json::to_vec(&v).unwrap())
        .map_err(|e| e.to_string());
    assert_eq!(ours, reference, "{what}");
    reference.is_ok()
}

/// Checks `bytes` as a `Value` and as every body type of the API.
fn same_everywhere(what: &str, bytes: &[u8]) -> usize {
    let value = same_typed::<Value>(what, bytes);
    if value {
        let r: Value = serde_json::from_slice(bytes).unwrap();
        if let Some(s) = json::from_slice_sonic::<Value>(bytes) {
            assert_eq!(r, s, "{what}");
        }
    }
    [
        value,
        same_typed::<CreateChatCompletionResponse>(what, bytes),
        same_typed::<CreateChatCompletionStreamResponse>(what, bytes),
        same_typed::<CreateChatCompletionRequest>(what, bytes),
        same_typed::<ErrorResponse>(what, bytes),
        same_typed::<ChatCompletionList>(what, bytes),
        same_typed::<ChatCompletionMessageList>(what, bytes),
        same_typed::<ChatCompletionDeleted>(what, bytes),
        same_typed::<UpdateChatCompletionRequest>(what, bytes),
    ]
    .into_iter()
    .filter(|ok| *ok)
    .count()
}

#[test]
fn every_fixture_parses_the_same_with_both_backends() {
    let docs = fixture_documents();
    assert!(docs.len() > 80, "only {} fixture documents", docs.len());
    let (mut typed, mut fast) = (0, 0);
    for (name, bytes) in &docs {
        // Some stream fixtures carry events that are not JSON on purpose.
        let parsed = same_everywhere(name, bytes);
        typed += parsed.saturating_sub(1);
        fast += usize::from(json::from_slice_sonic::<Value>(bytes).is_some());
    }
    assert!(typed > docs.len() / 2, "only {typed} typed parses");
    // The fast path, not the fallback, parsed nearly all of them.
    assert!(
        fast + 10 > docs.len(),
        "sonic-rs parsed only {fast} of {}",
        docs.len()
    );
}

/// A tiny deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Number spellings that are hard to round, at the edges of the range, or not JSON.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "0.0",
    "-0.0",
    "1",
    "-1",
    "0.1",
    "0.3",
    "1e23",
    "8.98846567431158e307",
    "1.7976931348623157e308",
    "1.7976931348623158e308",
    "1.7976931348623159e308",
    "1e308",
    "1e309",
    "-1e309",
    "4.9e-324",
    "5e-324",
    "2e-324",
    "2.4703282292062327e-324",
    "2.4703282292062328e-324",
    "1e-400",
    "2.2250738585072011e-308",
    "2.2250738585072012e-308",
    "9007199254740993",
    "9007199254740993.0",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "0.1000000000000000055511151231257827021181583404541015625",
    "0.10000000000000000555111512312578270211815834045410156250000000000000000001",
    "7.2057594037927933e16",
    "3.0517578125e-05",
    "1E5",
    "1e+5",
    "1.5E-5",
    "100e-2",
    "0.000000000000000000000000000000000000000000001",
    "01",
    "1.",
    ".5",
    "+1",
    "1e",
    "1e+",
    "-",
    "--1",
    "0x10",
    "NaN",
    "Infinity",
    "-Infinity",
    "1_000",
];

#[test]
fn floats_come_out_as_the_same_f64s() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut spellings: Vec<String> = NUMBERS.iter().map(|s| s.to_string()).collect();
    for _ in 0..1500 {
        let f = f64::from_bits(rng.next());
        if !f.is_finite() {
            continue;
        }
        spellings.push(format!("{f}"));
        spellings.push(format!("{f:e}"));
        spellings.push(format!("{f:.17e}"));
        // 25 significant digits: more than an f64 holds, so rounding decides.
        spellings.push(format!("{f:.24e}"));
        let digits = rng.next() % 10_u64.pow(19);
        spellings.push(format!("{digits}e{}", (rng.next() % 700) as i64 - 350));
        spellings.push(format!("0.{digits:019}{}", rng.next()));
    }
    let mut parsed = 0;
    for n in &spellings {
        // In an unknown field (kept as a `Value`), in a known float field, and alone.
        let body = format!(
            r#"{{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[],"x_number":{n},"x_list":[{n},{{"n":{n}}}]}}"#
        );
        if same_typed::<CreateChatCompletionResponse>(n, body.as_bytes()) {
            parsed += 1;
            let r: CreateChatCompletionResponse = serde_json::from_slice(body.as_bytes()).unwrap();
            // What the client gets: sonic-rs's value, or serde_json's where it defers.
            let s: CreateChatCompletionResponse = json::from_slice(body.as_bytes()).unwrap();
            let (r, s) = (&r.extra["x_number"], &s.extra["x_number"]);
            if let (Some(a), Some(b)) = (r.as_f64(), s.as_f64()) {
                assert_eq!(a.to_bits(), b.to_bits(), "{n}");
            }
            assert_eq!(r, s, "{n}");
        }
        let chunk = format!(
            r#"{{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{{}},"logprobs":{{"content":[{{"token":"a","logprob":{n},"bytes":null,"top_logprobs":[]}}]}}}}]}}"#
        );
        same_typed::<CreateChatCompletionStreamResponse>(n, chunk.as_bytes());
        same_typed::<Value>(n, n.as_bytes());
        same_typed::<f64>(n, n.as_bytes());
        same_typed::<u64>(n, n.as_bytes());
        same_typed::<i64>(n, n.as_bytes());
    }
    assert!(parsed > spellings.len() / 2, "only {parsed} parsed");
}

#[test]
fn hostile_input_gives_serde_jsons_result_and_no_panic() {
    let chunk = br#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"h\u00e9llo \ud83d\ude00"},"finish_reason":null}]}"#;
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    // Every prefix (truncation), and every single-byte corruption of a chunk.
    for end in 0..chunk.len() {
        inputs.push(chunk[..end].to_vec());
    }
    for (i, bad) in [(10, 0xff), (60, b'"'), (100, 0), (120, b'\\'), (130, 0xc3)] {
        let mut c = chunk.to_vec();
        c[i] = bad;
        inputs.push(c);
    }
    let texts: &[&[u8]] = &[
        b"",
        b" ",
        b"null",
        b"{}",
        b"[]",
        b"{\"a\":1}x",
        b"{\"a\":1} {\"a\":2}",
        b"{\"a\":1,}",
        b"[1,]",
        b"{\"a\" 1}",
        b"{a:1}",
        b"{'a':1}",
        b"\xef\xbb\xbf{}",
        b"\x0c{}",
        b"{\"a\":\"\\ud800\"}",
        b"{\"a\":\"\\udc00\"}",
        b"{\"a\":\"\\ud800\\u0041\"}",
        b"{\"a\":\"\\x41\"}",
        b"{\"a\":\"\\u12\"}",
        b"{\"a\":\"line\nbreak\"}",
        b"{\"a\":\"nul\x00\"}",
        b"{\"a\":\"\x7f\"}",
        b"{\"a\":\"\xff\"}",
        b"{\"a\":\"\xc0\x80\"}",
        b"{\"a\":\"\xed\xa0\x80\"}",
        b"{\"a\":\"\xf4\x90\x80\x80\"}",
        b"{\"\xff\":1}",
        b"{\"a\":1,\"a\":2}",
        b"{\"id\":\"x\",\"id\":\"y\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[]}",
        b"{\"id\":1,\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[]}",
        b"{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":-1,\"model\":\"m\",\"choices\":[]}",
        b"{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1.5,\"model\":\"m\",\"choices\":[]}",
        b"{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":{}}",
        b"tru",
        b"nul",
        b"true false",
        b"\"unterminated",
    ];
    inputs.extend(texts.iter().map(|t| t.to_vec()));
    // Deep nesting: serde_json stops at 128 levels; sonic-rs must not overflow the stack.
    for depth in [127, 128, 129, 1_000, 100_000] {
        inputs.push([b"[".repeat(depth), b"]".repeat(depth)].concat());
        inputs.push(b"{\"a\":".repeat(depth));
        let mut deep = b"{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[],\"x\":".to_vec();
        deep.extend(b"[".repeat(depth));
        deep.extend(b"]".repeat(depth));
        deep.push(b'}');
        inputs.push(deep);
    }
    for (i, input) in inputs.iter().enumerate() {
        let what = format!(
            "input {i}: {:?}",
            String::from_utf8_lossy(&input[..input.len().min(80)])
        );
        same_everywhere(&what, input);
    }
}
