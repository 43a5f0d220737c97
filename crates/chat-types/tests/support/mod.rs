//! Shared test code: the extracted spec, a schema-driven JSON generator, the path notation of
//! `spec/chat-completions-schema.txt`, and a lossless-round-trip check.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chat_types::UnknownFields;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// The repository's `spec/` directory.
pub fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec")
}

/// Reads a file of the repository's `spec/` directory.
pub fn read_spec_file(rel: &str) -> String {
    let p = spec_dir().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

// ---------------------------------------------------------------------------------------------
// Normalisation and the round-trip check
// ---------------------------------------------------------------------------------------------

/// Drops `null`-valued object keys recursively and writes integral floats as integers, so that
/// two bodies compare equal when they differ only in null-vs-absent or in `1` vs `1.0`.
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), normalize(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Value::from(f as i64)
            } else {
                v.clone()
            }
        }
        other => other.clone(),
    }
}

/// The first place where two normalised values differ, as a readable path.
pub fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    None => return Some(format!("{path}.{k}: missing after the round trip")),
                    Some(vb) => {
                        if let Some(d) = first_difference(va, vb, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}.{k}: added by the round trip ({})", y[k]))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} became {b}")),
    }
}

/// Deserializes `input` as `T` (from text, the way a client reads a body), serializes it again
/// and checks that nothing was lost; returns the value and its `unknown_fields()`.
pub fn round_trip<T>(input: &Value) -> Result<(T, Vec<String>), String>
where
    T: DeserializeOwned + Serialize + UnknownFields,
{
    let text = serde_json::to_string(input).map_err(|e| e.to_string())?;
    round_trip_str::<T>(&text)
}

/// Like [`round_trip`], from JSON text.
pub fn round_trip_str<T>(text: &str) -> Result<(T, Vec<String>), String>
where
    T: DeserializeOwned + Serialize + UnknownFields,
{
    let input: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let typed: T = serde_json::from_str(text).map_err(|e| format!("deserialize: {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| format!("serialize: {e}"))?;
    let (a, b) = (normalize(&input), normalize(&back));
    if let Some(d) = first_difference(&a, &b, "$") {
        return Err(format!("not lossless: {d}"));
    }
    // The value deserializer (used by frameworks that buffer) must agree with the text one.
    let again: T = serde_json::from_value(input).map_err(|e| format!("from_value: {e}"))?;
    if serde_json::to_value(&again).map_err(|e| e.to_string())? != back {
        return Err("from_value and from_str disagree".to_owned());
    }
    let unknown = typed.unknown_fields();
    Ok((typed, unknown))
}

/// Splits an SSE body into the payloads of its `data:` lines, without the `[DONE]` terminator.
pub fn sse_payloads(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for event in body.replace("\r\n", "\n").split("\n\n") {
        let data: Vec<&str> = event
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect();
        if data.is_empty() {
            continue;
        }
        let payload = data.join("\n");
        if payload.trim() != "[DONE]" {
            out.push(payload);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Path notation
// ---------------------------------------------------------------------------------------------

/// One step of a path: `.name`, `[]`, `{}`, `<marker>` or a trailing `=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A property.
    Prop(String),
    /// An array element.
    Item,
    /// A map value.
    Value,
    /// A union variant marker (`type=text`, `SchemaName`, `?`).
    Marker(String),
    /// An enum value (only at the end of `unknown_fields()` entries).
    Is(String),
}

/// Parses a path such as `a.b[]<type=x>.c{}` or `a.b="v"`.
pub fn parse_path(p: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let b = p.as_bytes();
    let mut i = 0;
    let name_end = |mut j: usize| {
        while j < b.len() && !matches!(b[j], b'.' | b'[' | b'{' | b'<' | b'=') {
            j += 1;
        }
        j
    };
    while i < b.len() {
        match b[i] {
            b'.' => {
                let j = name_end(i + 1);
                out.push(Step::Prop(p[i + 1..j].to_owned()));
                i = j;
            }
            b'[' => {
                out.push(Step::Item);
                i += 2;
            }
            b'{' => {
                out.push(Step::Value);
                i += 2;
            }
            b'<' => {
                let j = p[i..].find('>').map(|k| i + k).unwrap_or(b.len());
                out.push(Step::Marker(p[i + 1..j].to_owned()));
                i = j + 1;
            }
            b'=' => {
                out.push(Step::Is(p[i + 1..].to_owned()));
                i = b.len();
            }
            _ => {
                let j = name_end(i);
                out.push(Step::Prop(p[i..j].to_owned()));
                i = j;
            }
        }
    }
    out
}

fn markers_conflict(a: &str, b: &str) -> bool {
    match (a.split_once('='), b.split_once('=')) {
        (Some((ka, va)), Some((kb, vb))) => ka == kb && va != vb,
        _ => false,
    }
}

/// Whether path `inner` lies at or below path `outer`. Union markers present in only one of
/// the two are skipped (the crate marks every tagged union; the spec only marks unions with
/// several object variants), but two `k=v` markers with the same key must agree.
pub fn is_under(outer: &[Step], inner: &[Step]) -> bool {
    match (outer.first(), inner.first()) {
        (None, _) => true,
        (Some(Step::Marker(a)), Some(Step::Marker(b))) => {
            if a == b {
                is_under(&outer[1..], &inner[1..])
            } else if markers_conflict(a, b) {
                false
            } else {
                is_under(&outer[1..], inner) || is_under(outer, &inner[1..])
            }
        }
        (Some(Step::Marker(_)), _) => is_under(&outer[1..], inner),
        (_, Some(Step::Marker(_))) => is_under(outer, &inner[1..]),
        (Some(a), Some(b)) if a == b => is_under(&outer[1..], &inner[1..]),
        _ => false,
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

// ---------------------------------------------------------------------------------------------
// The schema model
// ---------------------------------------------------------------------------------------------

/// `spec/chat-completions.schema.json`.
#[derive(Debug)]
pub struct Spec {
    doc: Value,
}

/// What a schema describes, after `$ref`, `allOf` and null-only unions are resolved.
#[derive(Debug, Clone)]
pub enum Kind<'a> {
    /// An object with declared properties.
    Object {
        /// Properties in order (later `allOf` parts override earlier ones).
        props: Vec<(&'a str, &'a Value)>,
        /// Required property names.
        required: BTreeSet<&'a str>,
    },
    /// A map: an object with only `additionalProperties`.
    Map(&'a Value),
    /// An object with any content.
    FreeForm,
    /// An array.
    Array {
        /// Element schema.
        items: &'a Value,
        /// `minItems`.
        min: usize,
        /// `maxItems`.
        max: usize,
    },
    /// A `oneOf`/`anyOf` of several non-null schemas.
    Union {
        /// The variant schemas.
        variants: Vec<&'a Value>,
        /// `discriminator.propertyName`.
        discriminator: Option<&'a str>,
    },
    /// A string enum.
    Enum(Vec<&'a str>),
    /// A string.
    Str {
        /// `format`.
        format: Option<&'a str>,
    },
    /// An integer within bounds.
    Int {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// A number within bounds.
    Num {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// A boolean.
    Bool,
    /// Only `null`.
    Null,
}

/// A resolved schema.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// The component name, if the schema came through a `$ref`.
    pub name: Option<&'a str>,
    /// Whether `null` is allowed.
    pub nullable: bool,
    /// The shape.
    pub kind: Kind<'a>,
}

impl<'a> Node<'a> {
    /// Objects with properties, maps, arrays and unions of such: what gets `[]`/`{}` paths.
    fn is_structured(&self, spec: &'a Spec) -> bool {
        match &self.kind {
            Kind::Object { .. } | Kind::Map(_) | Kind::Array { .. } => true,
            Kind::Union { variants, .. } => variants.iter().any(|v| {
                let n = spec.node(v);
                matches!(n.kind, Kind::Object { .. } | Kind::Union { .. })
                    || matches!(n.kind, Kind::Array { items, .. } if spec.node(items).is_structured(spec))
            }),
            _ => false,
        }
    }
}

impl Spec {
    /// Loads the extracted spec.
    pub fn load() -> Spec {
        let doc = serde_json::from_str(&read_spec_file("chat-completions.schema.json"))
            .expect("spec/chat-completions.schema.json is JSON");
        Spec { doc }
    }

    /// The schema of a root (`request`, `response`, `chunk`, `error`, `list`, ...).
    pub fn root(&self, name: &str) -> &Value {
        self.doc
            .get("roots")
            .and_then(|r| r.get(name))
            .and_then(|r| r.get("schema"))
            .unwrap_or_else(|| panic!("no root {name}"))
    }

    fn deref<'a>(&'a self, mut v: &'a Value) -> (Option<&'a str>, &'a Value) {
        let mut name = None;
        while let Some(r) = v.get("$ref").and_then(Value::as_str) {
            let n = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected $ref {r}"));
            name = Some(n);
            v = self
                .doc
                .pointer(&format!("/components/schemas/{n}"))
                .unwrap_or_else(|| panic!("dangling $ref {r}"));
        }
        (name, v)
    }

    /// Resolves a schema into a [`Node`].
    pub fn node<'a>(&'a self, v: &'a Value) -> Node<'a> {
        let (name, s) = self.deref(v);
        let mut nullable = s.get("nullable").and_then(Value::as_bool).unwrap_or(false);

        if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
            let mut props: Vec<(&str, &Value)> = Vec::new();
            let mut required = BTreeSet::new();
            let mut add = |p: Vec<(&'a str, &'a Value)>, r: BTreeSet<&'a str>| {
                for (k, x) in p {
                    match props.iter_mut().find(|(n, _)| *n == k) {
                        Some(slot) => slot.1 = x,
                        None => props.push((k, x)),
                    }
                }
                required.extend(r);
            };
            for part in parts {
                let n = self.node(part);
                nullable |= n.nullable;
                match n.kind {
                    Kind::Object { props, required } => add(props, required),
                    other => panic!("allOf part that is not an object: {other:?}"),
                }
            }
            let (p, r) = own_props(s);
            add(p, r);
            return Node {
                name,
                nullable,
                kind: Kind::Object { props, required },
            };
        }

        for key in ["oneOf", "anyOf"] {
            if let Some(vs) = s.get(key).and_then(Value::as_array) {
                let mut variants = Vec::new();
                for x in vs {
                    if matches!(self.node(x).kind, Kind::Null) {
                        nullable = true;
                    } else {
                        variants.push(x);
                    }
                }
                if variants.len() == 1 {
                    let mut n = self.node(variants[0]);
                    n.nullable |= nullable;
                    if n.name.is_none() {
                        n.name = name;
                    }
                    return n;
                }
                let discriminator = s
                    .pointer("/discriminator/propertyName")
                    .and_then(Value::as_str);
                return Node {
                    name,
                    nullable,
                    kind: Kind::Union {
                        variants,
                        discriminator,
                    },
                };
            }
        }

        let mut ty = s.get("type").and_then(Value::as_str);
        if let Some(ts) = s.get("type").and_then(Value::as_array) {
            let ts: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            nullable |= ts.contains(&"null");
            ty = ts.into_iter().find(|t| *t != "null");
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            let vals: Vec<&str> = e.iter().filter_map(Value::as_str).collect();
            nullable |= e.iter().any(Value::is_null);
            return Node {
                name,
                nullable,
                kind: Kind::Enum(vals),
            };
        }
        let bound = |k: &str, d: f64| s.get(k).and_then(Value::as_f64).unwrap_or(d);
        let kind = match ty {
            Some("string") => Kind::Str {
                format: s.get("format").and_then(Value::as_str),
            },
            Some("integer") => Kind::Int {
                min: bound("minimum", 0.0),
                max: bound("maximum", 100_000.0),
            },
            Some("number") => Kind::Num {
                min: bound("minimum", -100.0),
                max: bound("maximum", 100.0),
            },
            Some("boolean") => Kind::Bool,
            Some("null") => Kind::Null,
            Some("array") => Kind::Array {
                items: s.get("items").expect("array without items"),
                min: s.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize,
                max: s.get("maxItems").and_then(Value::as_u64).unwrap_or(4) as usize,
            },
            Some("object") | None => {
                let (props, required) = own_props(s);
                if !props.is_empty() {
                    Kind::Object { props, required }
                } else {
                    match s.get("additionalProperties") {
                        Some(ap @ Value::Object(m)) if !m.is_empty() => Kind::Map(ap),
                        _ => Kind::FreeForm,
                    }
                }
            }
            Some(other) => panic!("unknown type {other}"),
        };
        Node {
            name,
            nullable,
            kind,
        }
    }

    /// The union marker of a variant, in the notation of `chat-completions-schema.txt`:
    /// `k=v` for a tag property, else the schema name, else `object{props}`; `None` for variants
    /// that are not objects.
    pub fn marker<'a>(&'a self, variant: &'a Value, discriminator: Option<&str>) -> Option<String> {
        let n = self.node(variant);
        let Kind::Object { props, required } = &n.kind else {
            return None;
        };
        let tag_of = |k: &str| {
            props
                .iter()
                .find(|(p, _)| *p == k)
                .and_then(|(_, s)| match self.node(s).kind {
                    Kind::Enum(v) if v.len() == 1 => Some(format!("{k}={}", v[0])),
                    _ => None,
                })
        };
        if let Some(d) = discriminator {
            if let Some(m) = tag_of(d) {
                return Some(m);
            }
        }
        for k in ["type", "role"] {
            if required.contains(k) {
                if let Some(m) = tag_of(k) {
                    return Some(m);
                }
            }
        }
        if let Some(name) = n.name {
            return Some(name.to_owned());
        }
        let names: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
        Some(format!("object{{{}}}", names.join(",")))
    }

    /// Every property path under `schema`, in the notation of `chat-completions-schema.txt`.
    pub fn paths(&self, schema: &Value) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.walk_paths(schema, "", &mut out);
        out
    }

    fn walk_paths(&self, schema: &Value, path: &str, out: &mut BTreeSet<String>) {
        let n = self.node(schema);
        match &n.kind {
            Kind::Object { props, .. } => {
                for (k, s) in props {
                    let p = join(path, k);
                    out.insert(p.clone());
                    self.walk_paths(s, &p, out);
                }
            }
            Kind::Map(v) if self.node(v).is_structured(self) => {
                let p = format!("{path}{{}}");
                out.insert(p.clone());
                self.walk_paths(v, &p, out);
            }
            Kind::Array { items, .. } if self.node(items).is_structured(self) => {
                let p = format!("{path}[]");
                out.insert(p.clone());
                self.walk_paths(items, &p, out);
            }
            Kind::Union {
                variants,
                discriminator,
            } => {
                for v in variants {
                    match self.marker(v, *discriminator) {
                        Some(m) => {
                            let p = format!("{path}<{m}>");
                            out.insert(p.clone());
                            self.walk_paths(v, &p, out);
                        }
                        None => self.walk_paths(v, path, out),
                    }
                }
            }
            _ => {}
        }
    }

    /// Every `(path, value)` of the enums under `schema` (single-value tags included).
    pub fn enum_values(&self, schema: &Value) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.walk_enums(schema, "", &mut out);
        out
    }

    fn walk_enums(&self, schema: &Value, path: &str, out: &mut BTreeSet<String>) {
        let n = self.node(schema);
        match &n.kind {
            Kind::Object { props, .. } => {
                for (k, s) in props {
                    self.walk_enums(s, &join(path, k), out);
                }
            }
            Kind::Map(v) => self.walk_enums(v, &format!("{path}{{}}"), out),
            Kind::Array { items, .. } => self.walk_enums(items, &format!("{path}[]"), out),
            Kind::Union {
                variants,
                discriminator,
            } => {
                for v in variants {
                    match self.marker(v, *discriminator) {
                        Some(m) => self.walk_enums(v, &format!("{path}<{m}>"), out),
                        None => self.walk_enums(v, path, out),
                    }
                }
            }
            Kind::Enum(vals) => {
                for v in vals {
                    out.insert(format!("{path}={v}"));
                }
            }
            _ => {}
        }
    }
}

fn own_props(s: &Value) -> (Vec<(&str, &Value)>, BTreeSet<&str>) {
    let props = s
        .get("properties")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .unwrap_or_default();
    let required = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    (props, required)
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

/// splitmix64: a small, seedable, good-enough PRNG.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator with the given seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const STRINGS: &[&str] = &[
    "",
    "a",
    "hello world",
    "Zürich",
    "日本語",
    "🦀 crab",
    "quote \" and backslash \\",
    "line\nbreak\ttab",
    "{\"json\": [1, 2]}",
    "nul \u{0} char",
    "x_probe",
];

/// Counters shared across the instances of a run: what has been produced so far. Choices are
/// biased towards what was produced least, so rare paths show up within a few hundred
/// instances.
#[derive(Debug, Default)]
pub struct Stats {
    /// How often each choice (`path=value`, `path<marker>`, or an optional property path) was
    /// taken.
    pub counts: BTreeMap<String, u64>,
}

/// One generated instance.
#[derive(Debug)]
pub struct Instance {
    /// The JSON body.
    pub value: Value,
    /// The same body with an extra `x_probe` field in every object that has declared
    /// properties, and `"x_probe_value"` in place of every value of a multi-value enum.
    pub probed: Value,
    /// Spec paths present in the body with a non-null value.
    pub paths: BTreeSet<String>,
    /// Paths of the objects that received an `x_probe` field.
    pub objects: Vec<String>,
    /// Paths of the enum values replaced by `"x_probe_value"`.
    pub enums: Vec<String>,
}

/// Generates JSON instances of a schema.
#[derive(Debug)]
pub struct Gen<'s> {
    spec: &'s Spec,
    /// Choice counters across instances.
    pub stats: Stats,
    rng: Rng,
    /// Set while generating an enum variant of a union that also allows any string.
    open_string: bool,
}

struct Out {
    paths: BTreeSet<String>,
    objects: Vec<String>,
    enums: Vec<String>,
}

impl<'s> Gen<'s> {
    /// A generator with a fixed seed.
    pub fn new(spec: &'s Spec, seed: u64) -> Gen<'s> {
        Gen {
            spec,
            stats: Stats::default(),
            rng: Rng::new(seed),
            open_string: false,
        }
    }

    /// Restarts the random sequence from `seed`, keeping the counters (so a run over several
    /// seeds still steers towards what it has not produced yet).
    pub fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }

    /// A random instance of `schema`.
    pub fn instance(&mut self, schema: &Value) -> Instance {
        let mut out = Out {
            paths: BTreeSet::new(),
            objects: Vec::new(),
            enums: Vec::new(),
        };
        let mut probed = Value::Null;
        let value = self.gen(schema, "", &mut out, &mut probed);
        Instance {
            value,
            probed,
            paths: out.paths,
            objects: out.objects,
            enums: out.enums,
        }
    }

    fn seen(&self, key: &str) -> u64 {
        self.stats.counts.get(key).copied().unwrap_or(0)
    }

    fn bump(&mut self, key: String) {
        *self.stats.counts.entry(key).or_default() += 1;
    }

    /// Picks an index of `keys`: usually the least produced one, sometimes a random one.
    fn pick(&mut self, keys: &[String]) -> usize {
        if self.rng.chance(0.3) {
            return self.rng.below(keys.len() as u64) as usize;
        }
        let least = keys.iter().map(|k| self.seen(k)).min().unwrap_or(0);
        let cands: Vec<usize> = (0..keys.len())
            .filter(|&i| self.seen(&keys[i]) == least)
            .collect();
        cands[self.rng.below(cands.len() as u64) as usize]
    }

    fn string(&mut self, format: Option<&str>) -> String {
        match format {
            Some("uri") => format!("https://example.com/{}", self.rng.below(1000)),
            _ => {
                let s = STRINGS[self.rng.below(STRINGS.len() as u64) as usize];
                s.to_owned()
            }
        }
    }

    /// Generates a value; `probed` receives the same value with probe fields.
    fn gen(&mut self, schema: &Value, path: &str, out: &mut Out, probed: &mut Value) -> Value {
        let n = self.spec.node(schema);
        if n.nullable && self.rng.chance(0.12) {
            *probed = Value::Null;
            return Value::Null;
        }
        let v = match n.kind {
            Kind::Object { props, required } => {
                let mut m = Map::new();
                let mut pm = Map::new();
                for (k, s) in props {
                    let p = join(path, k);
                    let include = required.contains(k) || {
                        let never = self.seen(&p) == 0;
                        self.rng.chance(if never { 0.9 } else { 0.5 })
                    };
                    if !include {
                        continue;
                    }
                    let mut pv = Value::Null;
                    let v = self.gen(s, &p, out, &mut pv);
                    if !v.is_null() {
                        out.paths.insert(p.clone());
                        self.bump(p);
                    }
                    m.insert(k.to_owned(), v);
                    pm.insert(k.to_owned(), pv);
                }
                pm.insert("x_probe".to_owned(), Value::from(1));
                out.objects.push(path.to_owned());
                *probed = Value::Object(pm);
                return Value::Object(m);
            }
            Kind::Map(vs) => {
                let structured = self.spec.node(vs).is_structured(self.spec);
                let p = format!("{path}{{}}");
                let len = self.rng.below(4);
                let mut m = Map::new();
                let mut pm = Map::new();
                for i in 0..len {
                    let key = format!("{}{i}", self.string(None));
                    let mut pv = Value::Null;
                    let v = self.gen(vs, &p, out, &mut pv);
                    if structured && !v.is_null() {
                        out.paths.insert(p.clone());
                    }
                    m.insert(key.clone(), v);
                    pm.insert(key, pv);
                }
                *probed = Value::Object(pm);
                return Value::Object(m);
            }
            Kind::FreeForm => self.free_form(2),
            Kind::Array { items, min, max } => {
                let structured = self.spec.node(items).is_structured(self.spec);
                let p = format!("{path}[]");
                let max = max.max(min).min(min + 3);
                let len = min + self.rng.below((max - min + 1) as u64) as usize;
                let mut a = Vec::new();
                let mut pa = Vec::new();
                for _ in 0..len {
                    let mut pv = Value::Null;
                    let v = self.gen(items, &p, out, &mut pv);
                    if structured && !v.is_null() {
                        out.paths.insert(p.clone());
                    }
                    a.push(v);
                    pa.push(pv);
                }
                *probed = Value::Array(pa);
                return Value::Array(a);
            }
            Kind::Union {
                variants,
                discriminator,
            } => {
                let keys: Vec<(Option<String>, String)> = variants
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match self.spec.marker(v, discriminator) {
                        Some(m) => (Some(m.clone()), format!("{path}<{m}>")),
                        None => (None, format!("{path}<#{i}>")),
                    })
                    .collect();
                let names: Vec<String> = keys.iter().map(|k| k.1.clone()).collect();
                let i = self.pick(&names);
                self.bump(names[i].clone());
                // `anyOf: [string, enum]` (model and voice ids): any string is valid, so an
                // unknown value is not a finding.
                self.open_string = variants
                    .iter()
                    .any(|v| matches!(self.spec.node(v).kind, Kind::Str { .. }))
                    && matches!(self.spec.node(variants[i]).kind, Kind::Enum(_));
                return match &keys[i].0 {
                    Some(_) => {
                        let p = keys[i].1.clone();
                        let v = self.gen(variants[i], &p, out, probed);
                        if !v.is_null() {
                            out.paths.insert(p);
                        }
                        v
                    }
                    None => self.gen(variants[i], path, out, probed),
                };
            }
            Kind::Enum(vals) => {
                let keys: Vec<String> = vals.iter().map(|v| format!("{path}={v}")).collect();
                let i = self.pick(&keys);
                self.bump(keys[i].clone());
                let open = std::mem::take(&mut self.open_string);
                if vals.len() > 1 && !open {
                    out.enums.push(path.to_owned());
                    *probed = Value::from("x_probe_value");
                    return Value::from(vals[i]);
                }
                Value::from(vals[i])
            }
            Kind::Str { format } => Value::from(self.string(format)),
            Kind::Int { min, max } => {
                // Token `bytes` are UTF-8 bytes; the spec only says "integer".
                let (min, max) = if path.ends_with("bytes[]") {
                    (0.0, 255.0)
                } else {
                    (min, max)
                };
                let lo = min.max(-1.0e15) as i64;
                let hi = max.min(1.0e15) as i64;
                let v = match self.rng.below(8) {
                    0 => lo,
                    1 => hi,
                    _ => lo + (self.rng.below((hi - lo) as u64 + 1) as i64),
                };
                // The full 64-bit range where the spec allows it (the request's `seed`).
                if min < -9.0e18 && self.rng.chance(0.2) {
                    Value::from(if self.rng.chance(0.5) {
                        i64::MIN
                    } else {
                        i64::MAX
                    })
                } else {
                    Value::from(v)
                }
            }
            Kind::Num { min, max } => {
                let steps = 1000u64;
                let f = min + (max - min) * (self.rng.below(steps + 1) as f64 / steps as f64);
                if self.rng.chance(0.3) {
                    Value::from(f.round().clamp(min, max) as i64)
                } else {
                    serde_json::Number::from_f64(f)
                        .map(Value::Number)
                        .unwrap_or(Value::Null)
                }
            }
            Kind::Bool => Value::Bool(self.rng.chance(0.5)),
            Kind::Null => Value::Null,
        };
        *probed = v.clone();
        v
    }

    fn free_form(&mut self, depth: u32) -> Value {
        let len = self.rng.below(4);
        let mut m = Map::new();
        for i in 0..len {
            let v = match self.rng.below(if depth == 0 { 4 } else { 6 }) {
                0 => Value::Null,
                1 => Value::Bool(true),
                2 => Value::from(self.rng.below(100)),
                3 => Value::from(self.string(None)),
                4 => Value::Array(vec![Value::from(1.5), self.free_form(depth - 1)]),
                _ => self.free_form(depth - 1),
            };
            m.insert(format!("k{i}"), v);
        }
        Value::Object(m)
    }
}
