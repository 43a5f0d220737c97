//! The strict schemas generated from Rust types (feature `schema`): exact expected JSON for
//! each shape the API accepts, and a named error for each it does not.
#![cfg(feature = "schema")]
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

use chat_types::schema::{make_strict, schema_name_for, strict_schema_for};
use chat_types::{ResponseFormat, SchemaError, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

fn strict<T: JsonSchema>() -> Value {
    strict_schema_for::<T>().unwrap()
}

fn refused<T: JsonSchema>() -> SchemaError {
    strict_schema_for::<T>().unwrap_err()
}

/// An address.
#[derive(JsonSchema, Deserialize)]
struct Address {
    street: String,
    city: String,
}

#[derive(JsonSchema, Deserialize)]
struct Person {
    name: String,
    age: u32,
    /// Where the person lives.
    home: Address,
    work: Option<Address>,
    nickname: Option<String>,
    #[serde(default)]
    score: f64,
    tags: Vec<String>,
    past: Vec<Address>,
}

#[test]
fn nested_structs_options_and_vectors() {
    let address = json!({
        "description": "An address.",
        "type": "object",
        "properties": {"city": {"type": "string"}, "street": {"type": "string"}},
        "required": ["street", "city"],
        "additionalProperties": false
    });
    assert_eq!(
        strict::<Person>(),
        json!({
            "title": "Person",
            "type": "object",
            "properties": {
                "age": {"type": "integer", "minimum": 0},
                "home": {
                    "description": "Where the person lives.",
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "street": {"type": "string"}},
                    "required": ["street", "city"],
                    "additionalProperties": false
                },
                "name": {"type": "string"},
                "nickname": {"type": ["string", "null"]},
                "past": {"type": "array", "items": {"$ref": "#/$defs/Address"}},
                "score": {"type": "number"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "work": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}]}
            },
            "required": ["name", "age", "home", "tags", "past", "nickname", "score", "work"],
            "additionalProperties": false,
            "$defs": {"Address": address}
        })
    );
}

#[derive(JsonSchema, Deserialize)]
enum Color {
    Red,
    Green,
}

#[derive(JsonSchema, Deserialize)]
enum Shape {
    Point,
    Circle { radius: f64 },
    Square(Side),
}

#[derive(JsonSchema, Deserialize)]
struct Side {
    length: f64,
}

#[derive(JsonSchema, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Event {
    Click { x: i32, y: i32 },
    Close,
}

#[derive(JsonSchema, Deserialize)]
struct Drawing {
    color: Color,
    accent: Option<Color>,
    shape: Shape,
    events: Vec<Event>,
}

#[test]
fn unit_and_data_carrying_enums() {
    assert_eq!(
        strict::<Drawing>(),
        json!({
            "title": "Drawing",
            "type": "object",
            "properties": {
                "accent": {"anyOf": [{"$ref": "#/$defs/Color"}, {"type": "null"}]},
                "color": {"$ref": "#/$defs/Color"},
                "events": {"type": "array", "items": {"$ref": "#/$defs/Event"}},
                "shape": {"$ref": "#/$defs/Shape"}
            },
            "required": ["color", "shape", "events", "accent"],
            "additionalProperties": false,
            "$defs": {
                "Color": {"type": "string", "enum": ["Red", "Green"]},
                "Event": {"anyOf": [
                    {
                        "type": "object",
                        "properties": {
                            "kind": {"type": "string", "const": "click"},
                            "x": {"type": "integer"},
                            "y": {"type": "integer"}
                        },
                        "required": ["kind", "x", "y"],
                        "additionalProperties": false
                    },
                    {
                        "type": "object",
                        "properties": {"kind": {"type": "string", "const": "close"}},
                        "required": ["kind"],
                        "additionalProperties": false
                    }
                ]},
                "Shape": {"anyOf": [
                    {"type": "string", "enum": ["Point"]},
                    {
                        "type": "object",
                        "properties": {"Circle": {
                            "type": "object",
                            "properties": {"radius": {"type": "number"}},
                            "required": ["radius"],
                            "additionalProperties": false
                        }},
                        "required": ["Circle"],
                        "additionalProperties": false
                    },
                    {
                        "type": "object",
                        "properties": {"Square": {"$ref": "#/$defs/Side"}},
                        "required": ["Square"],
                        "additionalProperties": false
                    }
                ]},
                "Side": {
                    "type": "object",
                    "properties": {"length": {"type": "number"}},
                    "required": ["length"],
                    "additionalProperties": false
                }
            }
        })
    );
}

/// A tree.
#[derive(JsonSchema, Deserialize)]
struct Tree {
    label: String,
    /// The subtrees.
    children: Vec<Tree>,
    parent: Option<Box<Tree>>,
}

#[derive(JsonSchema, Deserialize)]
struct Forest {
    trees: Vec<Tree>,
}

#[test]
fn recursive_types_keep_their_refs() {
    assert_eq!(
        strict::<Tree>(),
        json!({
            "title": "Tree",
            "description": "A tree.",
            "type": "object",
            "properties": {
                "children": {"description": "The subtrees.", "type": "array", "items": {"$ref": "#"}},
                "label": {"type": "string"},
                "parent": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}
            },
            "required": ["label", "children", "parent"],
            "additionalProperties": false
        })
    );
    let forest = strict::<Forest>();
    assert_eq!(
        forest["properties"]["trees"]["items"],
        json!({"$ref": "#/$defs/Tree"})
    );
    assert_eq!(
        forest["$defs"]["Tree"]["properties"]["children"]["items"],
        json!({"$ref": "#/$defs/Tree"})
    );
    assert_eq!(forest["$defs"]["Tree"]["additionalProperties"], false);
}

#[derive(JsonSchema)]
struct WithHashMap {
    name: String,
    scores: HashMap<String, u32>,
}

#[derive(JsonSchema)]
struct WithOptionalMap {
    labels: Option<BTreeMap<String, String>>,
}

#[derive(JsonSchema)]
struct WithValue {
    payload: serde_json::Value,
}

#[derive(JsonSchema)]
struct WithTuple {
    pair: (u8, String),
}

#[derive(JsonSchema)]
struct DeepMap {
    inner: Vec<Inner>,
}

#[derive(JsonSchema)]
struct Inner {
    counts: HashMap<String, u32>,
}

#[test]
fn maps_values_tuples_and_root_enums_are_refused_naming_the_field() {
    let e = refused::<WithHashMap>();
    assert_eq!(e.path(), "WithHashMap.scores");
    assert!(e.reason().contains("map"), "{e}");
    assert!(
        e.to_string()
            .starts_with("`WithHashMap.scores` cannot be expressed in strict mode"),
        "{e}"
    );
    assert_eq!(
        refused::<WithOptionalMap>().path(),
        "WithOptionalMap.labels"
    );
    let e = refused::<WithValue>();
    assert_eq!(e.path(), "WithValue.payload");
    assert!(e.reason().contains("any JSON value"), "{e}");
    let e = refused::<WithTuple>();
    assert_eq!(e.path(), "WithTuple.pair");
    assert!(e.reason().contains("tuple"), "{e}");
    assert_eq!(refused::<DeepMap>().path(), "Inner.counts");
    let e = refused::<Color>();
    assert_eq!(e.path(), "Color");
    assert!(e.reason().contains("root must be an object"), "{e}");
    assert!(refused::<HashMap<String, String>>()
        .reason()
        .contains("map"));
}

#[test]
fn hand_written_schemas_are_made_strict_or_refused() {
    let schema = json!({
        "title": "Query",
        "type": "object",
        "properties": {
            "q": {"type": "string", "minLength": 1, "default": ""},
            "when": {"type": "string", "format": "date-time"},
            "n": {"type": "integer", "format": "int64"},
            "where": {"allOf": [{"$ref": "#/$defs/Place"}], "description": "The place."}
        },
        "required": ["q"],
        "$defs": {"Place": {"type": "object", "properties": {"name": {"type": "string"}}}}
    });
    assert_eq!(
        make_strict(schema).unwrap(),
        json!({
            "title": "Query",
            "type": "object",
            "properties": {
                "q": {"type": "string"},
                "when": {"type": "string", "format": "date-time"},
                "n": {"type": "integer"},
                "where": {
                    "type": "object",
                    "description": "The place.",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                    "additionalProperties": false
                }
            },
            "required": ["q", "n", "when", "where"],
            "additionalProperties": false,
            "$defs": {"Place": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
                "additionalProperties": false
            }}
        })
    );
    let refusals = [
        (
            json!({"type": "object", "properties": {"a": {"not": {"type": "string"}}}}),
            "schema.a",
            "`not`",
        ),
        (
            json!({"type": "object", "properties": {"a": {"x-custom": 1}}}),
            "schema.a",
            "`x-custom`",
        ),
        (
            json!({"type": "object", "properties": {"a": {"allOf": [{}, {}]}}}),
            "schema.a",
            "allOf",
        ),
        (
            json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/Nope", "description": "x"}}}),
            "schema.a",
            "missing",
        ),
        (
            json!({"type": "object", "patternProperties": {"^x": {}}}),
            "schema",
            "map",
        ),
        (
            json!({"anyOf": [{"type": "object"}]}),
            "schema",
            "root must be an object",
        ),
    ];
    for (schema, path, needle) in refusals {
        let e = make_strict(schema.clone()).unwrap_err();
        assert_eq!(e.path(), path, "{schema}");
        assert!(e.reason().contains(needle), "{schema}: {e}");
    }
}

#[derive(JsonSchema, Deserialize)]
struct Wrapper<T> {
    value: T,
}

#[derive(JsonSchema, Deserialize)]
#[schemars(rename = "my answer (v2)!")]
struct Renamed {
    text: String,
}

#[test]
fn formats_and_tools_are_named_after_the_type_and_strict() {
    let format = serde_json::to_value(ResponseFormat::from_type::<Person>().unwrap()).unwrap();
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "Person");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(format["json_schema"]["schema"], strict::<Person>());

    assert_eq!(schema_name_for::<Renamed>(), "my_answer__v2__");
    let long = "x".repeat(80);
    assert_eq!(
        make_strict(json!({"title": long, "type": "object"})).unwrap()["title"],
        long
    );
    assert!(schema_name_for::<Wrapper<Address>>()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));

    let tool = serde_json::to_value(
        Tool::from_type::<Address>("find_address", "Looks up an address").unwrap(),
    )
    .unwrap();
    assert_eq!(
        tool,
        json!({"type": "function", "function": {
            "name": "find_address",
            "description": "Looks up an address",
            "parameters": strict::<Address>(),
            "strict": true
        }})
    );
    let e = Tool::from_type::<WithHashMap>("t", "d").unwrap_err();
    assert_eq!(e.path(), "WithHashMap.scores");
}

#[test]
fn a_strict_schema_still_parses_what_serde_parses() {
    // The model fills every required field, with null for options: serde reads it.
    let answer = json!({
        "name": "Ada", "age": 36, "home": {"street": "1 Main St", "city": "London"},
        "work": null, "nickname": null, "score": 1.5, "tags": [], "past": []
    });
    let person: Person = serde_json::from_value(answer).unwrap();
    assert_eq!((person.name.as_str(), person.work.is_none()), ("Ada", true));
}
