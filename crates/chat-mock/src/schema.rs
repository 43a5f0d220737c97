//! A deterministic generator of JSON values from a JSON Schema, for the demo answers of
//! `response_format: json_schema` and of tool calls.
//!
//! It covers what structured outputs and tool parameters use: `type` (one or a list, such as
//! `["string", "null"]`), `properties` / `required` / `additionalProperties`, `enum`,
//! `const`, `items` / `prefixItems` with `minItems` / `maxItems` / `uniqueItems`, `anyOf`,
//! `oneOf`, `allOf`, `$ref` into `$defs` / `definitions` (recursion is cut off after a few
//! levels by taking the least nested option), numeric bounds and `multipleOf`, string
//! lengths, common `format`s and simple `pattern`s. What it cannot satisfy it approximates.

use serde_json::{Map, Number, Value};

/// How deep `$ref`s and nesting go before the generator takes the smallest option.
const SOFT_DEPTH: usize = 4;
/// A hard stop for schemas that cannot end (a required property that refers to itself).
const HARD_DEPTH: usize = 24;
/// How many values (of any nesting) one answer may hold: a schema whose every level asks for
/// many required parts would otherwise grow exponentially with the depth. Past it the
/// generator answers `null`.
const MAX_VALUES: usize = 4096;
/// The most items, properties or characters a schema's `minItems`, `minProperties`,
/// `minLength` (or a pattern's repetition) gets; a request may ask for billions.
const MAX_COUNT: usize = 1000;

/// A small deterministic random source (splitmix64).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A source seeded from `bytes` (FNV-1a), so the same request gives the same answer.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// A fork for a sub-task, so adding output in one place does not shift another.
    pub(crate) fn fork(&mut self, salt: u64) -> Rng {
        Rng(self.next() ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }
}

const WORDS: &[&str] = &[
    "alpha", "bravo", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "juniper",
    "kestrel", "lumen", "meadow", "nova", "orchid", "prairie",
];

/// Generates a value that validates against `schema` (the root, for `$ref`s).
pub(crate) fn generate(schema: &Value, rng: &mut Rng) -> Value {
    let mut g = Generator {
        root: schema,
        rng,
        budget: MAX_VALUES,
    };
    g.value(schema, 0, None)
}

struct Generator<'a, 'r> {
    root: &'a Value,
    rng: &'r mut Rng,
    /// How many more values may be made (see [`MAX_VALUES`]).
    budget: usize,
}

/// A count a schema asks for, within [`MAX_COUNT`].
fn count_of(o: &Map<String, Value>, key: &str) -> Option<usize> {
    o.get(key)
        .and_then(Value::as_u64)
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX).min(MAX_COUNT))
}

impl<'a> Generator<'a, '_> {
    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(self.root);
        }
        // JSON pointer escapes, and the percent-encoding a URI fragment may carry.
        let decoded = pointer.replace("%25", "%").replace("%22", "\"");
        let mut at = self.root;
        for part in decoded.split('/').skip(1) {
            let part = part.replace("~1", "/").replace("~0", "~");
            at = match at {
                Value::Object(o) => o.get(&part)?,
                Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(at)
    }

    /// Whether a schema can be satisfied without going deeper (no `$ref`, no required
    /// object or non-empty array), for picking the branch that ends a recursion.
    fn is_shallow(&self, schema: &Value) -> bool {
        let Some(o) = schema.as_object() else {
            return true;
        };
        if o.contains_key("$ref") {
            return false;
        }
        if o.contains_key("const") || o.contains_key("enum") {
            return true;
        }
        match o.get("type") {
            Some(Value::String(t)) => {
                !matches!(t.as_str(), "object" | "array")
                    || (t == "array" && o.get("minItems").and_then(Value::as_u64).unwrap_or(0) == 0)
                    || (t == "object"
                        && o.get("required")
                            .and_then(Value::as_array)
                            .is_none_or(Vec::is_empty))
            }
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "null"),
            _ => !o.contains_key("properties") && !o.contains_key("items"),
        }
    }

    fn value(&mut self, schema: &Value, depth: usize, name: Option<&str>) -> Value {
        let o = match schema {
            Value::Object(o) => o,
            // `true` (anything) or `false` (nothing can match; null is the best try).
            _ => return Value::Null,
        };
        if depth > HARD_DEPTH || self.budget == 0 {
            return Value::Null;
        }
        self.budget -= 1;
        if let Some(c) = o.get("const") {
            return c.clone();
        }
        if let Some(Value::Array(options)) = o.get("enum") {
            if !options.is_empty() {
                return options[self.rng.below(options.len())].clone();
            }
        }
        if let Some(Value::String(r)) = o.get("$ref") {
            return match self.resolve(r) {
                Some(target) => self.merged_with_siblings(target, o, depth + 1, name),
                None => Value::Null,
            };
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = o.get(key) {
                if !branches.is_empty() {
                    let pick = self.pick_branch(branches, depth);
                    return self.merged_with_siblings(&branches[pick], o, depth + 1, name);
                }
            }
        }
        if let Some(Value::Array(parts)) = o.get("allOf") {
            let mut merged = o.clone();
            merged.remove("allOf");
            for p in parts {
                let p = match p.get("$ref").and_then(Value::as_str) {
                    Some(r) => self.resolve(r).unwrap_or(p),
                    None => p,
                };
                merge_into(&mut merged, p);
            }
            return self.value(&Value::Object(merged), depth, name);
        }
        let kind = self.pick_type(o, depth);
        match kind.as_str() {
            "null" => Value::Null,
            "boolean" => Value::Bool(self.rng.below(2) == 1),
            "integer" => self.integer(o),
            "number" => self.number(o),
            "string" => Value::String(self.string(o, name)),
            "array" => self.array(o, depth),
            _ => self.object(o, depth),
        }
    }

    /// The value of `target` (a `$ref` target or a branch) with the keywords next to the
    /// reference applied too (such as a `description`, or `properties` beside an `anyOf`).
    fn merged_with_siblings(
        &mut self,
        target: &Value,
        siblings: &Map<String, Value>,
        depth: usize,
        name: Option<&str>,
    ) -> Value {
        let relevant = siblings.keys().any(|k| {
            !matches!(
                k.as_str(),
                "$ref"
                    | "anyOf"
                    | "oneOf"
                    | "description"
                    | "title"
                    | "default"
                    | "$defs"
                    | "definitions"
                    | "examples"
                    | "$schema"
                    | "$id"
            )
        });
        if !relevant {
            return self.value(target, depth, name);
        }
        let mut merged = siblings.clone();
        for k in ["$ref", "anyOf", "oneOf"] {
            merged.remove(k);
        }
        let target = match target.get("$ref").and_then(Value::as_str) {
            Some(r) => self.resolve(r).unwrap_or(target),
            None => target,
        };
        merge_into(&mut merged, target);
        self.value(&Value::Object(merged), depth, name)
    }

    fn pick_branch(&mut self, branches: &[Value], depth: usize) -> usize {
        if depth >= SOFT_DEPTH {
            if let Some(i) = branches.iter().position(|b| self.is_shallow(b)) {
                return i;
            }
        }
        self.rng.below(branches.len())
    }

    fn pick_type(&mut self, o: &Map<String, Value>, depth: usize) -> String {
        match o.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) => {
                let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
                let non_null: Vec<&str> = names.iter().copied().filter(|t| *t != "null").collect();
                if names.is_empty()
                    || non_null.is_empty()
                    || (depth >= SOFT_DEPTH && names.contains(&"null"))
                {
                    "null".into()
                } else {
                    non_null[self.rng.below(non_null.len())].to_owned()
                }
            }
            _ => {
                if o.contains_key("properties") || o.contains_key("additionalProperties") {
                    "object".into()
                } else if o.contains_key("items") || o.contains_key("prefixItems") {
                    "array".into()
                } else if o.contains_key("minLength")
                    || o.contains_key("pattern")
                    || o.contains_key("format")
                {
                    "string".into()
                } else if o.contains_key("minimum") || o.contains_key("maximum") {
                    "number".into()
                } else {
                    // Anything goes: a short string is the friendliest.
                    "string".into()
                }
            }
        }
    }

    fn object(&mut self, o: &Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        let required: Vec<&str> = o
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(Value::Object(props)) = o.get("properties") {
            for (key, sub) in props {
                let needed = required.contains(&key.as_str());
                if needed || depth < SOFT_DEPTH {
                    let v = self.value(sub, depth + 1, Some(key));
                    out.insert(key.clone(), v);
                }
            }
        }
        // Required names without a property schema: any value will do.
        for key in &required {
            if !out.contains_key(*key) {
                let extra = o.get("additionalProperties").filter(|a| a.is_object());
                let v = match extra {
                    Some(s) => self.value(s, depth + 1, Some(key)),
                    None => Value::String(self.word()),
                };
                out.insert((*key).to_owned(), v);
            }
        }
        let min = count_of(o, "minProperties").unwrap_or(0);
        let extra = o.get("additionalProperties");
        let open_schema = extra.filter(|a| a.is_object());
        let wants_entries = out.is_empty() && !o.contains_key("properties") && depth < SOFT_DEPTH;
        let mut k = 0;
        while let Some(s) = open_schema {
            if out.len() >= min.max(usize::from(wants_entries)) || self.budget == 0 {
                break;
            }
            let key = format!("{}_{k}", self.word());
            k += 1;
            let v = self.value(s, depth + 1, Some(&key));
            out.insert(key, v);
        }
        while out.len() < min && extra != Some(&Value::Bool(false)) {
            let key = format!("extra_{k}");
            k += 1;
            out.insert(key, Value::String(self.word()));
        }
        Value::Object(out)
    }

    fn array(&mut self, o: &Map<String, Value>, depth: usize) -> Value {
        let min = count_of(o, "minItems").unwrap_or(0);
        let max = count_of(o, "maxItems");
        let prefix: &[Value] = o
            .get("prefixItems")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let items = o.get("items").filter(|i| !matches!(i, Value::Bool(false)));
        let wanted = if depth >= SOFT_DEPTH { min } else { min.max(2) };
        let cap = max.unwrap_or(usize::MAX);
        // Every tuple position when allowed, else the wanted count, within the bounds.
        let count = wanted.max(prefix.len()).min(cap).max(min);
        let count = if items.is_none() && o.contains_key("items") {
            count.min(prefix.len())
        } else {
            count
        };
        let unique = o.get("uniqueItems").and_then(Value::as_bool) == Some(true);
        let mut out: Vec<Value> = Vec::new();
        let mut tries = 0;
        while out.len() < count && tries < count * 8 + 8 && self.budget > 0 {
            tries += 1;
            let i = out.len();
            let v = match prefix.get(i) {
                Some(s) => self.value(s, depth + 1, None),
                None => match items {
                    Some(s) => self.value(s, depth + 1, None),
                    None => Value::Null,
                },
            };
            if unique && out.contains(&v) {
                continue;
            }
            out.push(v);
        }
        Value::Array(out)
    }

    fn integer(&mut self, o: &Map<String, Value>) -> Value {
        let num = |k: &str| o.get(k).and_then(Value::as_f64);
        let mut lo = num("minimum").map(f64::ceil);
        if let Some(e) = num("exclusiveMinimum") {
            lo = Some(lo.map_or(e.floor() + 1.0, |l| l.max(e.floor() + 1.0)));
        }
        let mut hi = num("maximum").map(f64::floor);
        if let Some(e) = num("exclusiveMaximum") {
            hi = Some(hi.map_or(e.ceil() - 1.0, |h| h.min(e.ceil() - 1.0)));
        }
        let (lo, hi) = match (lo, hi) {
            (Some(l), Some(h)) => (l, h.max(l)),
            (Some(l), None) => (l, l + 100.0),
            (None, Some(h)) => ((h - 100.0).max(h.min(0.0)), h),
            (None, None) => (1.0, 100.0),
        };
        let span = (hi - lo).clamp(0.0, 1e12) as u64;
        let mut v = lo + (self.rng.next() % (span + 1)) as f64;
        if let Some(m) = num("multipleOf").filter(|m| *m > 0.0) {
            let first = (lo / m).ceil() * m;
            let steps = ((hi - first) / m).floor().max(0.0) as u64;
            v = first + (self.rng.next() % (steps + 1)) as f64 * m;
        }
        Value::Number(Number::from(v as i64))
    }

    fn number(&mut self, o: &Map<String, Value>) -> Value {
        let num = |k: &str| o.get(k).and_then(Value::as_f64);
        if let Some(m) = num("multipleOf").filter(|m| *m > 0.0) {
            let lo = num("minimum").or(num("exclusiveMinimum")).unwrap_or(0.0);
            let hi = num("maximum")
                .or(num("exclusiveMaximum"))
                .unwrap_or(lo + 100.0 * m);
            let mut first = (lo / m).ceil() * m;
            if num("exclusiveMinimum").is_some_and(|e| first <= e) {
                first += m;
            }
            let steps = ((hi - first) / m).floor().max(0.0) as u64;
            let mut k = self.rng.next() % (steps + 1);
            if num("exclusiveMaximum").is_some_and(|e| first + k as f64 * m >= e) && k > 0 {
                k -= 1;
            }
            return float(first + k as f64 * m);
        }
        let lo = num("minimum").or(num("exclusiveMinimum"));
        let hi = num("maximum").or(num("exclusiveMaximum"));
        let (lo, hi) = match (lo, hi) {
            (Some(l), Some(h)) => (l, h.max(l)),
            (Some(l), None) => (l, l + 100.0),
            (None, Some(h)) => (h - 100.0, h),
            (None, None) => (0.0, 100.0),
        };
        // A point strictly inside (lo, hi) on a grid of hundredths, or the midpoint.
        let frac = (self.rng.next() % 99 + 1) as f64 / 100.0;
        let mut v = ((lo + (hi - lo) * frac) * 100.0).round() / 100.0;
        if v <= lo || v >= hi {
            v = lo + (hi - lo) / 2.0;
        }
        if hi == lo {
            v = lo;
        }
        float(v)
    }

    fn word(&mut self) -> String {
        WORDS[self.rng.below(WORDS.len())].to_owned()
    }

    fn string(&mut self, o: &Map<String, Value>, name: Option<&str>) -> String {
        let min = count_of(o, "minLength").unwrap_or(0);
        let max = o
            .get("maxLength")
            .and_then(Value::as_u64)
            .map(|m| usize::try_from(m).unwrap_or(usize::MAX));
        let format = o.get("format").and_then(Value::as_str).unwrap_or("");
        let n = self.rng.next();
        let formatted = match format {
            "date-time" => Some(format!("2024-0{}-1{}T12:30:00Z", n % 9 + 1, n % 10)),
            "date" => Some(format!("2024-0{}-1{}", n % 9 + 1, n % 10)),
            "time" => Some(format!("12:{:02}:00Z", n % 60)),
            "duration" => Some(format!("P{}D", n % 9 + 1)),
            "email" | "idn-email" => Some(format!("{}@example.com", self.word())),
            "hostname" | "idn-hostname" => Some(format!("{}.example.com", self.word())),
            "uri" | "iri" | "url" => Some(format!("https://example.com/{}", self.word())),
            "uri-reference" | "iri-reference" => Some(format!("/{}", self.word())),
            "uuid" => Some(format!(
                "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                n >> 32,
                n & 0xffff,
                (n >> 16) & 0xfff,
                (n >> 28) & 0xfff,
                self.rng.next() & 0xffff_ffff_ffff
            )),
            "ipv4" => Some(format!("192.0.2.{}", n % 254 + 1)),
            "ipv6" => Some(format!("2001:db8::{:x}", n % 0xffff + 1)),
            _ => None,
        };
        let mut s = match formatted {
            Some(s) => s,
            None => match o.get("pattern").and_then(Value::as_str) {
                Some(p) => match pattern::sample(p, self.rng) {
                    Some(s) => s,
                    None => self.word(),
                },
                None => match name {
                    Some(n) if !n.is_empty() => format!("{n} {}", self.word()),
                    _ => self.word(),
                },
            },
        };
        // Lengths count characters (code points), as JSON Schema does.
        let mut len = s.chars().count();
        if let Some(m) = max.filter(|m| len > *m) {
            s = s.chars().take(m).collect();
            len = m;
        }
        s.extend(std::iter::repeat_n('x', min.saturating_sub(len)));
        s
    }
}

fn float(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Adds the keywords of `part` to `into`: properties and required lists are united, other
/// keywords are taken when `into` has none.
fn merge_into(into: &mut Map<String, Value>, part: &Value) {
    let Some(part) = part.as_object() else {
        return;
    };
    for (k, v) in part {
        match (k.as_str(), into.get_mut(k), v) {
            ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                for (pk, pv) in theirs {
                    mine.entry(pk.clone()).or_insert_with(|| pv.clone());
                }
            }
            ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                for r in theirs {
                    if !mine.contains(r) {
                        mine.push(r.clone());
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, _) => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Samples strings from simple regular expressions: literals, escapes (`\d`, `\w`, `\s`,
/// escaped punctuation), classes (`[a-z0-9_]`, negated ones give a letter), `.`, groups with
/// alternatives, and the quantifiers `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`. Anchors are
/// dropped. Anything else gives `None`, and so do repetitions above [`MAX_COUNT`] and samples
/// longer than that many bytes (nested repetitions multiply).
mod pattern {
    use super::{Rng, MAX_COUNT};

    enum Node {
        Chars(Vec<char>),
        Group(Vec<Vec<(Node, usize, usize)>>),
    }

    pub(super) fn sample(pattern: &str, rng: &mut Rng) -> Option<String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let alts = parse_alts(&chars, &mut pos)?;
        if pos != chars.len() {
            return None;
        }
        let mut out = String::new();
        emit_alts(&alts, rng, &mut out)?;
        Some(out)
    }

    type Seq = Vec<(Node, usize, usize)>;

    fn parse_alts(c: &[char], pos: &mut usize) -> Option<Vec<Seq>> {
        let mut alts = vec![Vec::new()];
        while *pos < c.len() {
            match c[*pos] {
                ')' => break,
                '|' => {
                    *pos += 1;
                    alts.push(Vec::new());
                }
                '^' | '$' => *pos += 1,
                _ => {
                    let node = parse_atom(c, pos)?;
                    let (lo, hi) = parse_quantifier(c, pos)?;
                    alts.last_mut()?.push((node, lo, hi));
                }
            }
        }
        Some(alts)
    }

    fn class_escape(ch: char) -> Option<Vec<char>> {
        Some(match ch {
            'd' => ('0'..='9').collect(),
            'w' => ('a'..='z')
                .chain('A'..='Z')
                .chain('0'..='9')
                .chain(['_'])
                .collect(),
            's' => vec![' '],
            'D' | 'W' | 'S' => vec!['-'],
            c if c.is_ascii_alphanumeric() => return None,
            c => vec![c],
        })
    }

    fn parse_atom(c: &[char], pos: &mut usize) -> Option<Node> {
        let ch = c[*pos];
        *pos += 1;
        match ch {
            '\\' => {
                let e = *c.get(*pos)?;
                *pos += 1;
                Some(Node::Chars(match e {
                    'n' => vec!['\n'],
                    't' => vec!['\t'],
                    _ => class_escape(e)?,
                }))
            }
            '.' => Some(Node::Chars(('a'..='z').collect())),
            '(' => {
                if c.get(*pos) == Some(&'?') && c.get(*pos + 1) == Some(&':') {
                    *pos += 2;
                }
                let alts = parse_alts(c, pos)?;
                if c.get(*pos) != Some(&')') {
                    return None;
                }
                *pos += 1;
                Some(Node::Group(alts))
            }
            '[' => {
                let negated = c.get(*pos) == Some(&'^');
                if negated {
                    *pos += 1;
                }
                let mut set = Vec::new();
                let mut first = true;
                loop {
                    let ch = *c.get(*pos)?;
                    *pos += 1;
                    if ch == ']' && !first {
                        break;
                    }
                    first = false;
                    let lo = if ch == '\\' {
                        let e = *c.get(*pos)?;
                        *pos += 1;
                        match class_escape(e) {
                            Some(v) if v.len() > 1 => {
                                set.extend(v);
                                continue;
                            }
                            Some(v) => v[0],
                            None => return None,
                        }
                    } else {
                        ch
                    };
                    if c.get(*pos) == Some(&'-') && c.get(*pos + 1).is_some_and(|n| *n != ']') {
                        let hi = c[*pos + 1];
                        *pos += 2;
                        // A huge range (up to all of Unicode) would be a huge set.
                        if hi < lo || u32::from(hi) - u32::from(lo) > 0xffff {
                            return None;
                        }
                        set.extend(lo..=hi);
                    } else {
                        set.push(lo);
                    }
                }
                if negated {
                    let allowed: Vec<char> = ('a'..='z')
                        .chain('A'..='Z')
                        .chain('0'..='9')
                        .filter(|x| !set.contains(x))
                        .collect();
                    if allowed.is_empty() {
                        return None;
                    }
                    Some(Node::Chars(allowed))
                } else if set.is_empty() {
                    None
                } else {
                    Some(Node::Chars(set))
                }
            }
            '*' | '+' | '?' | '{' | '}' | ']' => None,
            other => Some(Node::Chars(vec![other])),
        }
    }

    fn parse_quantifier(c: &[char], pos: &mut usize) -> Option<(usize, usize)> {
        let q = match c.get(*pos) {
            Some('?') => (0, 1),
            Some('*') => (0, 3),
            Some('+') => (1, 3),
            Some('{') => {
                let end = c[*pos..].iter().position(|x| *x == '}')? + *pos;
                let inner: String = c[*pos + 1..end].iter().collect();
                let (lo, hi) = match inner.split_once(',') {
                    None => {
                        let n = inner.trim().parse().ok()?;
                        (n, n)
                    }
                    Some((l, h)) => {
                        let lo: usize = l.trim().parse().ok()?;
                        let hi = if h.trim().is_empty() {
                            lo.saturating_add(2)
                        } else {
                            h.trim().parse().ok()?
                        };
                        (lo, hi.max(lo))
                    }
                };
                if hi > MAX_COUNT {
                    return None;
                }
                *pos = end;
                (lo, hi)
            }
            _ => return Some((1, 1)),
        };
        *pos += 1;
        // A lazy or possessive marker changes nothing here.
        if matches!(c.get(*pos), Some('?') | Some('+')) {
            *pos += 1;
        }
        Some(q)
    }

    /// Appends a sample of `alts`; `None` once `out` grows past [`MAX_COUNT`] bytes.
    fn emit_alts(alts: &[Seq], rng: &mut Rng, out: &mut String) -> Option<()> {
        let seq = &alts[rng.below(alts.len())];
        for (node, lo, hi) in seq {
            let n = lo + rng.below(hi - lo + 1);
            for _ in 0..n {
                if out.len() > MAX_COUNT {
                    return None;
                }
                match node {
                    Node::Chars(set) => out.push(set[rng.below(set.len())]),
                    Node::Group(inner) => emit_alts(inner, rng, out)?,
                }
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sampled_strings_match_their_patterns() {
        let patterns = [
            r"^[A-Z]{3}-\d{2,4}$",
            r"^(ab|cd)+[a-z_]*x?$",
            r"^\w+@\w+\.com$",
            r"^[^0-9]{2}[0-9a-f]{8}$",
            r"^(?:v\d+\.){2}\d+$",
            r"^\+?[0-9 ]{6,12}$",
            r"^[a-z]+(-[a-z]+)*$",
        ];
        for p in patterns {
            let re = regex::Regex::new(p).unwrap();
            for seed in 0..50u8 {
                let mut rng = Rng::from_bytes(&[seed]);
                let s = pattern::sample(p, &mut rng).unwrap_or_else(|| panic!("{p} unsupported"));
                assert!(re.is_match(&s), "{s:?} does not match {p}");
            }
        }
    }

    #[test]
    fn unsupported_patterns_are_refused_not_guessed() {
        let mut rng = Rng::from_bytes(b"x");
        for p in [r"^(?=a)b$", r"\bword\b", r"(a)\1", r"[z-a]"] {
            assert_eq!(pattern::sample(p, &mut rng), None, "{p}");
        }
    }

    #[test]
    fn a_recursion_that_cannot_end_stops_at_the_hard_depth() {
        let schema = json!({"$defs": {"a": {"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}, "required": ["a"]}}, "$ref": "#/$defs/a"});
        let v = generate(&schema, &mut Rng::from_bytes(b"r"));
        let mut depth = 0;
        let mut at = &v;
        while let Some(next) = at.get("a") {
            depth += 1;
            at = next;
        }
        assert!(depth > SOFT_DEPTH && depth <= HARD_DEPTH + 1, "{depth}");
    }

    #[test]
    fn huge_counts_and_exponential_schemas_are_bounded() {
        let huge = u64::MAX;
        let gen = |schema: Value| generate(&schema, &mut Rng::from_bytes(b"big"));
        let s = gen(json!({"type": "string", "minLength": huge}));
        assert_eq!(s.as_str().map(str::len), Some(MAX_COUNT));
        let a = gen(json!({"type": "array", "items": {"type": "integer"}, "minItems": huge}));
        assert_eq!(a.as_array().map(Vec::len), Some(MAX_COUNT));
        let a = gen(
            json!({"type": "array", "items": {"type": "integer"}, "minItems": huge, "uniqueItems": true}),
        );
        assert!(a.as_array().unwrap().len() <= MAX_COUNT);
        let o = gen(
            json!({"type": "object", "additionalProperties": {"type": "string"}, "minProperties": huge}),
        );
        assert_eq!(o.as_object().map(Map::len), Some(MAX_COUNT));
        // Patterns it cannot sample within the bound give a word instead.
        for p in [
            "^((a{1000}){1000}){1000}$",
            "^a{18446744073709551615,}$",
            "^a{99999999999}$",
        ] {
            let v = gen(json!({"type": "string", "pattern": p}));
            assert!(v.as_str().unwrap().len() < 100, "{p}: {v}");
        }

        // Ten required self-references per level: 10^12 values without the budget.
        let props: Map<String, Value> = (0..10)
            .map(|i| (format!("p{i}"), json!({"$ref": "#/$defs/n"})))
            .collect();
        let required: Vec<String> = props.keys().cloned().collect();
        let schema = json!({"$defs": {"n": {"type": "object", "properties": props, "required": required}}, "$ref": "#/$defs/n"});
        let v = generate(&schema, &mut Rng::from_bytes(b"wide"));
        fn count(v: &Value) -> usize {
            1 + v.as_object().map_or(0, |o| o.values().map(count).sum())
        }
        let n = count(&v);
        // Each value the budget paid for may hold ten `null`s it did not.
        assert!(n > 10 && n <= 11 * MAX_VALUES, "{n}");
    }

    #[test]
    fn the_same_seed_gives_the_same_value() {
        let schema = json!({"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "array", "items": {"type": "string"}}}});
        let a = generate(&schema, &mut Rng::from_bytes(b"seed"));
        let b = generate(&schema, &mut Rng::from_bytes(b"seed"));
        let c = generate(&schema, &mut Rng::from_bytes(b"other"));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
