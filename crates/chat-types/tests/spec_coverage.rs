//! Spec coverage: every property path of the spec's request, response and stream chunk is
//! modelled by a chat-types type (`cargo xtask spec-coverage` relays the summary line).
//!
//! A path counts as covered when (1) generated instances contain it, (2) none of those
//! instances has an `unknown_fields()` entry at, below or above it, and (3) the object that
//! holds it is a modelled type: an `x_probe` field added to that object is reported by
//! `unknown_fields()` (a type that swallows the object as `serde_json::Value` or a map would
//! report nothing and so hide missing fields). Likewise an unknown value in place of a
//! multi-value enum must be reported, so enums are not plain strings.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use chat_types::{
    CreateChatCompletionRequest, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
    UnknownFields,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use support::{is_under, parse_path, read_spec_file, round_trip, Gen, Spec};

/// Instances generated per root.
const ITERATIONS: usize = 400;

/// The paths listed in one section of `spec/chat-completions-schema.txt`.
fn listed_paths(section: &str) -> BTreeSet<String> {
    let text = read_spec_file("chat-completions-schema.txt");
    let mut out = BTreeSet::new();
    let mut inside = false;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("== ") {
            if !h.starts_with("root schema") {
                inside = h.starts_with(section);
            }
            continue;
        }
        if inside && !line.starts_with(' ') && !line.starts_with('#') {
            if let Some((p, _)) = line.split_once("  ::  ") {
                out.insert(p.to_owned());
            }
        }
    }
    out
}

/// The coverage of one root.
struct Coverage {
    name: &'static str,
    all: BTreeSet<String>,
    present: BTreeSet<String>,
    /// Path -> why it is not covered.
    bad: BTreeMap<String, String>,
    /// Instances that failed to deserialize or to round-trip.
    errors: Vec<String>,
}

impl Coverage {
    fn covered(&self) -> usize {
        self.all
            .iter()
            .filter(|p| self.present.contains(*p) && !self.bad.contains_key(*p))
            .count()
    }

    fn uncovered(&self) -> Vec<String> {
        self.all
            .iter()
            .filter_map(|p| {
                if let Some(why) = self.bad.get(p) {
                    Some(format!("{} {p}: {why}", self.name))
                } else if !self.present.contains(p) {
                    Some(format!("{} {p}: never generated", self.name))
                } else {
                    None
                }
            })
            .collect()
    }
}

fn same_path(a: &str, b: &str) -> bool {
    let (a, b) = (parse_path(a), parse_path(b));
    is_under(&a, &b) && is_under(&b, &a)
}

fn measure<T>(spec: &Spec, name: &'static str, seed: u64) -> Coverage
where
    T: DeserializeOwned + Serialize + UnknownFields,
{
    let schema = spec.root(name);
    let mut cov = Coverage {
        name,
        all: spec.paths(schema),
        present: BTreeSet::new(),
        bad: BTreeMap::new(),
        errors: Vec::new(),
    };
    let mut gen = Gen::new(spec, seed);
    for _ in 0..ITERATIONS {
        let inst = gen.instance(schema);
        let unknown = match round_trip::<T>(&inst.value) {
            Ok((_, u)) => u,
            Err(e) => {
                cov.errors
                    .push(format!("{name}: {e}\n  instance: {}", inst.value));
                continue;
            }
        };
        let probe_unknown = match round_trip::<T>(&inst.probed) {
            Ok((_, u)) => u,
            Err(e) => {
                cov.errors
                    .push(format!("{name} (probed): {e}\n  instance: {}", inst.probed));
                continue;
            }
        };
        cov.present.extend(inst.paths.iter().cloned());
        let parsed: Vec<_> = unknown.iter().map(|u| (u, parse_path(u))).collect();
        for p in &inst.paths {
            let pp = parse_path(p);
            if let Some((u, _)) = parsed
                .iter()
                .find(|(_, up)| is_under(&pp, up) || is_under(up, &pp))
            {
                cov.bad
                    .entry(p.clone())
                    .or_insert_with(|| format!("unknown_fields() reports {u}"));
            }
        }
        for e in &inst.enums {
            let probe = format!("{e}=\"x_probe_value\"");
            if !probe_unknown.iter().any(|u| same_path(&probe, u)) {
                cov.bad.entry(e.clone()).or_insert_with(|| {
                    "an unknown enum value here is not reported (modelled as a plain string?)"
                        .to_owned()
                });
            }
        }
        for o in &inst.objects {
            let probe = if o.is_empty() {
                "x_probe".to_owned()
            } else {
                format!("{o}.x_probe")
            };
            if probe_unknown.iter().any(|u| same_path(&probe, u)) {
                continue;
            }
            let op = parse_path(o);
            for p in &inst.paths {
                if is_under(&op, &parse_path(p)) {
                    cov.bad.entry(p.clone()).or_insert_with(|| {
                        format!("the object at `{o}` is not a modelled type (an extra field in it is not reported)")
                    });
                }
            }
        }
    }
    cov
}

#[test]
fn path_enumeration_matches_the_flat_schema_reference() {
    let spec = Spec::load();
    for (root, section) in [
        ("request", "REQUEST"),
        ("response", "RESPONSE"),
        ("chunk", "CHUNK"),
        ("error", "ERROR"),
    ] {
        let ours = spec.paths(spec.root(root));
        let listed = listed_paths(section);
        let missing: Vec<_> = listed.difference(&ours).collect();
        let extra: Vec<_> = ours.difference(&listed).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{root}: paths listed in chat-completions-schema.txt but not enumerated: {missing:?}; \
             enumerated but not listed: {extra:?}"
        );
    }
    let total: usize = ["request", "response", "chunk"]
        .iter()
        .map(|r| spec.paths(spec.root(r)).len())
        .sum();
    assert_eq!(total, 429);
}

#[test]
fn every_spec_path_is_modelled() {
    let spec = Spec::load();
    let results = [
        measure::<CreateChatCompletionRequest>(&spec, "request", 0x5EED_0001),
        measure::<CreateChatCompletionResponse>(&spec, "response", 0x5EED_0002),
        measure::<CreateChatCompletionStreamResponse>(&spec, "chunk", 0x5EED_0003),
    ];
    let (mut covered, mut total) = (0, 0);
    let mut parts = Vec::new();
    for c in &results {
        covered += c.covered();
        total += c.all.len();
        parts.push(format!("{} {}/{}", c.name, c.covered(), c.all.len()));
    }
    println!(
        "spec coverage: {}, total {covered}/{total} ({:.1}%)",
        parts.join(", "),
        100.0 * covered as f64 / total as f64
    );
    let uncovered: Vec<String> = results.iter().flat_map(Coverage::uncovered).collect();
    for u in &uncovered {
        println!("  uncovered: {u}");
    }
    let errors: Vec<&String> = results.iter().flat_map(|c| &c.errors).collect();
    // One example per kind of failure.
    let mut kinds = BTreeMap::new();
    for e in &errors {
        let kind = e.split("\n  instance").next().unwrap_or(e);
        kinds.entry(kind.to_owned()).or_insert(*e);
    }
    for e in kinds.values().take(20) {
        println!("  error: {e}");
    }
    assert!(errors.is_empty(), "{} instances failed", errors.len());
    assert_eq!(covered, total, "spec coverage below 100%");
}

/// A type that accepts any JSON and models nothing: the check must find no path covered.
#[derive(Debug)]
struct Opaque(serde_json::Value);

impl Serialize for Opaque {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Opaque {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(Opaque)
    }
}

impl UnknownFields for Opaque {
    fn collect_unknown_fields(&self, _path: &str, _out: &mut Vec<String>) {}
}

#[test]
fn a_type_that_swallows_everything_covers_nothing() {
    let spec = Spec::load();
    let c = measure::<Opaque>(&spec, "chunk", 7);
    assert!(c.errors.is_empty(), "{:?}", c.errors.first());
    assert_eq!(c.present.len(), c.all.len());
    assert_eq!(
        c.covered(),
        0,
        "covered: {:?}",
        c.all.len() - c.uncovered().len()
    );
}

#[test]
fn paths_match_modulo_union_markers() {
    let under = |a: &str, b: &str| is_under(&parse_path(a), &parse_path(b));
    assert!(under(
        "choices[].message",
        "choices[].message.reasoning_content"
    ));
    assert!(under(
        "choices[].finish_reason",
        "choices[].finish_reason=\"x\""
    ));
    assert!(under(
        "choices[].message.annotations[].url_citation",
        "choices[].message.annotations[]<type=url_citation>.url_citation.x"
    ));
    assert!(under(
        "tools[]<type=function>.function",
        "tools[]<type=function>.function.y"
    ));
    assert!(!under(
        "tools[]<type=function>.function",
        "tools[]<type=custom>.function.y"
    ));
    assert!(!under(
        "choices[].message.content",
        "choices[].message.contents"
    ));
    assert!(!under("choices[].message.tool_calls", "choices[].message"));
    assert!(same_path(
        "audio.voice<object{id}>.x_probe",
        "audio.voice.x_probe"
    ));
}
