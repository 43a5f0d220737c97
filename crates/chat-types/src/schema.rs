//! Strict JSON Schemas from Rust types (feature `schema`): the `response_format` of a
//! structured-output request and the parameters of a function tool, generated with
//! [schemars](https://docs.rs/schemars) and rewritten to the subset the API accepts in strict
//! mode.
//!
//! # The rules
//!
//! [`make_strict`] (used by [`strict_schema_for`], [`ResponseFormat::from_type`] and
//! [`Tool::from_type`](crate::ChatCompletionTools::from_type)) rewrites a schema so that:
//!
//! - every object has `additionalProperties: false` and lists all its properties in
//!   `required`. A field that may be absent is still listed: an `Option` field stays
//!   nullable (`"type": ["string", "null"]` or `anyOf` with `{"type": "null"}`), so the model
//!   sends `null` for "none"; a `#[serde(default)]` field that is not an `Option` is simply
//!   required, as serde accepts it present;
//! - `oneOf` (what schemars writes for enums) becomes `anyOf`, and a single-item `allOf` is
//!   merged into its parent;
//! - `$ref` stays for recursion (`#` or `#/$defs/...`); a `$ref` with a sibling such as a
//!   `description` is replaced by the definition it points to (the API takes no siblings
//!   beside `$ref`), unless that would recurse, in which case the siblings are dropped;
//! - keywords that only annotate or that the API does not enforce are removed (`$schema`,
//!   `default`, `examples`, `readOnly`, `writeOnly`, `deprecated`, `minLength`,
//!   `maxLength`, `uniqueItems`, `minProperties`, `maxProperties`, and a `format` other than
//!   `date-time`, `time`, `date`, `duration`, `email`, `hostname`, `ipv4`, `ipv6` and
//!   `uuid`, such as schemars' `int32`); serde still checks the value when it is parsed;
//! - anything else that changes which values are valid and that strict mode cannot say is
//!   refused with a [`SchemaError`] naming the field: maps (`HashMap`, `BTreeMap`: an object
//!   with free-form keys), any-value schemas (`serde_json::Value`), tuples (`prefixItems`),
//!   `not`, `if`/`then`/`else`, `patternProperties`, a multi-item `allOf`, unknown keywords,
//!   and a root that is not an object (an enum at the top level: wrap it in a struct).
//!
//! Property order follows serde_json's map order (alphabetical unless serde_json's
//! `preserve_order` feature is on).

use std::fmt;

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{Map, Value};

use crate::{ChatCompletionTools, ResponseFormat};

/// Why a schema cannot be expressed in the API's strict mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    path: String,
    reason: String,
}

impl SchemaError {
    fn new(path: &str, reason: impl Into<String>) -> Self {
        SchemaError {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    /// Where in the schema: the type name, then field names (`Order.lines[].sku`), `[]` for
    /// array items and `anyOf[n]` for the variants of an enum.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is not expressible there.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` cannot be expressed in strict mode: {}",
            self.path, self.reason
        )
    }
}

impl std::error::Error for SchemaError {}

/// Keywords strict mode accepts, kept as they are (after their sub-schemas are rewritten).
const KEPT: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "enum",
    "const",
    "$ref",
    "$defs",
    "definitions",
    "description",
    "title",
    "pattern",
    "format",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "minItems",
    "maxItems",
];

/// Keywords removed: annotations, and checks the API does not enforce (serde still parses).
const DROPPED: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "default",
    "examples",
    "readOnly",
    "writeOnly",
    "deprecated",
    "contentEncoding",
    "contentMediaType",
    "minLength",
    "maxLength",
    "uniqueItems",
    "minProperties",
    "maxProperties",
];

/// The string formats strict mode knows.
const FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// The JSON Schema of `T` with the strict-mode rules applied (see the [module docs](self)).
///
/// ```
/// use chat_types::schema::strict_schema_for;
/// use serde_json::json;
///
/// #[derive(schemars::JsonSchema)]
/// struct Person {
///     name: String,
///     nickname: Option<String>,
/// }
///
/// assert_eq!(
///     strict_schema_for::<Person>().unwrap(),
///     json!({
///         "title": "Person",
///         "type": "object",
///         "properties": {
///             "name": {"type": "string"},
///             "nickname": {"type": ["string", "null"]}
///         },
///         "required": ["name", "nickname"],
///         "additionalProperties": false
///     })
/// );
/// ```
pub fn strict_schema_for<T: JsonSchema + ?Sized>() -> Result<Value, SchemaError> {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let root = schema_name_for::<T>();
    Strict::run(schema.to_value(), &root)
}

/// Applies the strict-mode rules (see the [module docs](self)) to a schema written by hand
/// or by another generator. Errors name fields from the root `title` (or `schema`).
pub fn make_strict(schema: Value) -> Result<Value, SchemaError> {
    let root = schema
        .get("title")
        .and_then(Value::as_str)
        .map(sanitize_name)
        .unwrap_or_else(|| "schema".to_owned());
    Strict::run(schema, &root)
}

/// The name of `T` as the API accepts it for a response format: schemars' schema name with
/// every character other than `a-z`, `A-Z`, `0-9`, `_` and `-` replaced by `_`, at most 64
/// characters.
pub fn schema_name_for<T: JsonSchema + ?Sized>() -> String {
    sanitize_name(&T::schema_name())
}

fn sanitize_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if out.is_empty() {
        out.push_str("response");
    }
    out
}

impl ResponseFormat {
    /// A strict `json_schema` response format for `T`, named after the type (see
    /// [`schema_name_for`]).
    ///
    /// ```
    /// use chat_types::ResponseFormat;
    ///
    /// #[derive(schemars::JsonSchema)]
    /// struct Answer {
    ///     text: String,
    /// }
    ///
    /// let format = ResponseFormat::from_type::<Answer>().unwrap();
    /// let json = serde_json::to_value(&format).unwrap();
    /// assert_eq!(json["json_schema"]["name"], "Answer");
    /// assert_eq!(json["json_schema"]["strict"], true);
    /// assert_eq!(json["json_schema"]["schema"]["additionalProperties"], false);
    /// ```
    pub fn from_type<T: JsonSchema + ?Sized>() -> Result<Self, SchemaError> {
        Ok(
            ResponseFormat::json_schema(schema_name_for::<T>(), strict_schema_for::<T>()?)
                .strict(true),
        )
    }
}

impl ChatCompletionTools {
    /// A strict function tool whose parameters are the schema of `T`, the type its
    /// arguments parse into.
    ///
    /// ```
    /// use chat_types::Tool;
    ///
    /// #[derive(schemars::JsonSchema, serde::Deserialize)]
    /// struct WeatherArgs {
    ///     /// The city name.
    ///     city: String,
    /// }
    ///
    /// let tool = Tool::from_type::<WeatherArgs>("get_weather", "The weather in a city").unwrap();
    /// let json = serde_json::to_value(&tool).unwrap();
    /// assert_eq!(json["function"]["strict"], true);
    /// assert_eq!(json["function"]["parameters"]["required"][0], "city");
    /// ```
    pub fn from_type<T: JsonSchema + ?Sized>(
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Result<Self, SchemaError> {
        Ok(
            ChatCompletionTools::function(name, description, strict_schema_for::<T>()?)
                .strict(true),
        )
    }
}

/// One rewrite of a root schema.
struct Strict {
    /// The root's definitions as generated, to inline a `$ref` that has siblings.
    defs: Map<String, Value>,
}

impl Strict {
    fn run(mut schema: Value, root: &str) -> Result<Value, SchemaError> {
        let mut defs = Map::new();
        if let Some(map) = schema.as_object_mut() {
            for key in ["$defs", "definitions"] {
                if let Some(Value::Object(d)) = map.get(key) {
                    defs.extend(d.clone());
                }
            }
        }
        let strict = Strict { defs };
        let mut stack = Vec::new();
        strict.rewrite(&mut schema, root, &mut stack)?;
        let map = schema
            .as_object_mut()
            .ok_or_else(|| SchemaError::new(root, "the schema is not an object"))?;
        if map.get("type").and_then(Value::as_str) != Some("object") {
            return Err(SchemaError::new(
                root,
                "the root must be an object (a struct); wrap an enum or a scalar in a struct field",
            ));
        }
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(d)) = map.get_mut(key) {
                for (name, def) in d.iter_mut() {
                    let mut stack = vec![name.clone()];
                    strict.rewrite(def, name, &mut stack)?;
                }
            }
        }
        Ok(schema)
    }

    /// Rewrites one (sub-)schema in place. `stack` holds the definitions being inlined.
    fn rewrite(
        &self,
        schema: &mut Value,
        path: &str,
        stack: &mut Vec<String>,
    ) -> Result<(), SchemaError> {
        let map = match schema {
            Value::Object(map) => map,
            Value::Bool(true) => return Err(SchemaError::new(
                path,
                "it accepts any JSON value (such as `serde_json::Value`); strict mode needs a type",
            )),
            _ => return Err(SchemaError::new(path, "it accepts no value")),
        };
        map.retain(|key, value| {
            !DROPPED.contains(&key.as_str())
                && (key != "format" || value.as_str().is_some_and(|f| FORMATS.contains(&f)))
        });
        if let Some(one_of) = map.remove("oneOf") {
            if map.contains_key("anyOf") {
                return Err(SchemaError::new(path, "it has both `oneOf` and `anyOf`"));
            }
            map.insert("anyOf".to_owned(), one_of);
        }
        if let Some(all_of) = map.remove("allOf") {
            match all_of {
                Value::Array(items) if items.len() == 1 => {
                    let only = items.into_iter().next().unwrap_or_default();
                    let Value::Object(only) = only else {
                        return Err(SchemaError::new(path, "its `allOf` item is not a schema"));
                    };
                    for (k, v) in only {
                        map.entry(k).or_insert(v);
                    }
                    return self.rewrite(schema, path, stack);
                }
                _ => {
                    return Err(SchemaError::new(
                        path,
                        "`allOf` with several schemas is not supported",
                    ))
                }
            }
        }
        if let Some(key) = map.keys().find(|k| !KEPT.contains(&k.as_str())) {
            let reason = match key.as_str() {
                "prefixItems" => {
                    "a tuple (`prefixItems`) is not supported; use a struct with named fields"
                        .to_owned()
                }
                "patternProperties" | "propertyNames" => {
                    "a map with free-form keys is not supported; use a struct or a Vec of key/value structs".to_owned()
                }
                other => format!("the keyword `{other}` is not supported"),
            };
            return Err(SchemaError::new(path, reason));
        }
        if map.contains_key("$ref") && map.len() > 1 {
            self.inline_ref(schema, path, stack)?;
            return Ok(());
        }

        let is_object = match map.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
            _ => false,
        } || map.contains_key("properties")
            || map.contains_key("additionalProperties");
        if is_object {
            match map.get("additionalProperties") {
                None | Some(Value::Bool(false)) => {}
                Some(_) => {
                    return Err(SchemaError::new(
                        path,
                        "a map with free-form keys (such as `HashMap` or `BTreeMap`) is not supported; use a struct or a Vec of key/value structs",
                    ))
                }
            }
            map.insert("additionalProperties".to_owned(), Value::Bool(false));
            let mut properties = match map.remove("properties") {
                Some(Value::Object(p)) => p,
                None => Map::new(),
                Some(_) => return Err(SchemaError::new(path, "`properties` is not an object")),
            };
            for (name, property) in properties.iter_mut() {
                self.rewrite(property, &format!("{path}.{name}"), stack)?;
            }
            // Declared order first (schemars keeps it in `required`), then the rest.
            let mut required: Vec<String> = map
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|name| properties.contains_key(*name))
                .map(str::to_owned)
                .collect();
            for name in properties.keys() {
                if !required.contains(name) {
                    required.push(name.clone());
                }
            }
            map.insert("properties".to_owned(), Value::Object(properties));
            map.insert(
                "required".to_owned(),
                Value::Array(required.into_iter().map(Value::String).collect()),
            );
        }
        if let Some(items) = map.get_mut("items") {
            self.rewrite(items, &format!("{path}[]"), stack)?;
        }
        if let Some(any_of) = map.get_mut("anyOf") {
            let Value::Array(variants) = any_of else {
                return Err(SchemaError::new(path, "`anyOf` is not an array"));
            };
            for (i, variant) in variants.iter_mut().enumerate() {
                self.rewrite(variant, &format!("{path}.anyOf[{i}]"), stack)?;
            }
        }
        Ok(())
    }

    /// Replaces `{"$ref": ..., siblings}` by the definition merged with the siblings, or by
    /// the bare `$ref` when inlining would recurse (or the target is the root).
    fn inline_ref(
        &self,
        schema: &mut Value,
        path: &str,
        stack: &mut Vec<String>,
    ) -> Result<(), SchemaError> {
        let Some(map) = schema.as_object_mut() else {
            return Ok(());
        };
        let reference = map.get("$ref").and_then(Value::as_str).unwrap_or_default();
        let name = reference
            .strip_prefix("#/$defs/")
            .or_else(|| reference.strip_prefix("#/definitions/"))
            .map(str::to_owned);
        let keep_bare = |map: &mut Map<String, Value>| {
            // Recursion: keep the reference; only annotations may be lost.
            if let Some(key) = map
                .keys()
                .find(|k| !matches!(k.as_str(), "$ref" | "description" | "title"))
            {
                return Err(SchemaError::new(
                    path,
                    format!("`{key}` beside a recursive `$ref` is not supported"),
                ));
            }
            map.retain(|k, _| k == "$ref");
            Ok(())
        };
        if reference == "#" {
            return keep_bare(map);
        }
        let Some(name) = name else {
            return Err(SchemaError::new(
                path,
                format!("`$ref` to `{reference}` is not supported (only `#` and `#/$defs/...`)"),
            ));
        };
        if stack.contains(&name) {
            return keep_bare(map);
        }
        let Some(Value::Object(def)) = self.defs.get(&name) else {
            return Err(SchemaError::new(
                path,
                format!("`$ref` to a missing definition `{reference}`"),
            ));
        };
        let mut merged = def.clone();
        map.remove("$ref");
        for (k, v) in std::mem::take(map) {
            merged.insert(k, v);
        }
        *schema = Value::Object(merged);
        stack.push(name);
        let result = self.rewrite(schema, path, stack);
        stack.pop();
        result
    }
}
