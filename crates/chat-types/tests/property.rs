//! Property test: random instances generated from the spec's schemas (request, response, stream
//! chunk and the other operations' bodies) deserialize, round-trip losslessly and leave nothing
//! in `unknown_fields()`; over the run every enum value and every optional property shows up.

mod support;

use std::collections::BTreeSet;

use chat_types::{
    ChatCompletionDeleted, ChatCompletionList, ChatCompletionMessageList,
    CreateChatCompletionRequest, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
    ErrorResponse, UnknownFields, UpdateChatCompletionRequest,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use support::{normalize, round_trip, sse_payloads, Gen, Spec};

/// Fixed seeds: the run is deterministic.
const SEEDS: &[u64] = &[0x0001, 0xC0FFEE, 0x5EED_5EED, 0xDEAD_BEEF];

/// Generates `per_seed` instances of root `name` for every seed and checks each; then checks
/// that every spec path and every enum value of the root was produced.
fn check_root<T>(name: &str, per_seed: usize)
where
    T: DeserializeOwned + Serialize + UnknownFields,
{
    let spec = Spec::load();
    let schema = spec.root(name);
    let mut paths = BTreeSet::new();
    let mut failures = Vec::new();
    let mut gen = Gen::new(&spec, 0);
    for &seed in SEEDS {
        gen.reseed(seed);
        for i in 0..per_seed {
            let inst = gen.instance(schema);
            match round_trip::<T>(&inst.value) {
                Ok((_, unknown)) if unknown.is_empty() => {}
                Ok((_, unknown)) => failures.push(format!(
                    "seed {seed:#x} #{i}: unknown fields {unknown:?} in {}",
                    inst.value
                )),
                Err(e) => failures.push(format!("seed {seed:#x} #{i}: {e} in {}", inst.value)),
            }
            paths.extend(inst.paths);
        }
    }
    let choices: BTreeSet<String> = gen.stats.counts.into_keys().collect();
    assert!(
        failures.is_empty(),
        "{name}: {} of {} instances failed; first: {}",
        failures.len(),
        per_seed * SEEDS.len(),
        failures[0]
    );

    let never: Vec<_> = spec.paths(schema).difference(&paths).cloned().collect();
    assert!(never.is_empty(), "{name}: paths never generated: {never:?}");
    let unseen: Vec<_> = spec
        .enum_values(schema)
        .into_iter()
        .filter(|e| !choices.contains(e))
        .collect();
    assert!(
        unseen.is_empty(),
        "{name}: enum values never generated: {unseen:?}"
    );
}

#[test]
fn generated_requests_round_trip() {
    check_root::<CreateChatCompletionRequest>("request", 100);
}

#[test]
fn generated_responses_round_trip() {
    check_root::<CreateChatCompletionResponse>("response", 100);
}

#[test]
fn generated_chunks_round_trip() {
    check_root::<CreateChatCompletionStreamResponse>("chunk", 100);
}

#[test]
fn generated_error_bodies_round_trip() {
    check_root::<ErrorResponse>("error", 25);
}

#[test]
fn generated_bodies_of_the_stored_completion_operations_round_trip() {
    check_root::<ChatCompletionList>("list", 25);
    check_root::<CreateChatCompletionResponse>("get", 25);
    check_root::<UpdateChatCompletionRequest>("update_request", 25);
    check_root::<CreateChatCompletionResponse>("update_response", 25);
    check_root::<ChatCompletionDeleted>("delete", 25);
    check_root::<ChatCompletionMessageList>("message_list", 25);
}

#[test]
fn generation_is_deterministic() {
    let spec = Spec::load();
    let mut a = Gen::new(&spec, 42);
    let mut b = Gen::new(&spec, 42);
    let mut c = Gen::new(&spec, 43);
    let root = spec.root("request");
    let (x, y, z) = (a.instance(root), b.instance(root), c.instance(root));
    assert_eq!(x.value, y.value);
    assert_ne!(x.value, z.value);
}

/// Reads any object and writes back only its `a` field: a deliberately lossy type.
#[derive(Debug)]
struct KeepsOnlyA(Value);

impl Serialize for KeepsOnlyA {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json!({"a": self.0.get("a")}).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for KeepsOnlyA {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(KeepsOnlyA)
    }
}

impl UnknownFields for KeepsOnlyA {
    fn collect_unknown_fields(&self, _path: &str, _out: &mut Vec<String>) {}
}

#[test]
fn the_round_trip_check_catches_losses_but_not_null_or_number_spelling() {
    assert!(round_trip::<KeepsOnlyA>(&json!({"a": 1, "b": null})).is_ok());
    let err = round_trip::<KeepsOnlyA>(&json!({"a": 1, "b": [2]})).unwrap_err();
    assert!(err.contains("$.b: missing after the round trip"), "{err}");
    let err = round_trip::<KeepsOnlyA>(&json!({"b": 1})).unwrap_err();
    assert!(err.contains("not lossless"), "{err}");
    assert_eq!(
        normalize(&json!({"x": 1.0, "y": [null, {"z": null}], "w": 0.5})),
        json!({"x": 1, "y": [null, {}], "w": 0.5})
    );
}

#[test]
fn sse_payloads_skip_comments_and_the_done_marker() {
    let body = ": keep-alive\r\n\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata:{\"b\":\ndata: 2}\n\ndata: [DONE]\n\n";
    assert_eq!(sse_payloads(body), ["{\"a\":1}", "{\"b\":\n2}"]);
}
