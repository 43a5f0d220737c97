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

/// What openai-python 1.x's `to_strict_json_schema` gives for pydantic models with the same
/// fields as `Person` and `Drawing` (recorded output of that function; pydantic's
/// `Optional[Address]`, `Field(description=...)`, `score: float = 0.0`, `class Color(str, Enum)`).
const PYTHON_PERSON: &str = r##"{"$defs": {"Address": {"additionalProperties": false, "description": "An address.", "properties": {"city": {"title": "City", "type": "string"}, "street": {"title": "Street", "type": "string"}}, "required": ["street", "city"], "title": "Address", "type": "object"}}, "additionalProperties": false, "properties": {"age": {"title": "Age", "type": "integer"}, "home": {"additionalProperties": false, "description": "Where the person lives.", "properties": {"city": {"title": "City", "type": "string"}, "street": {"title": "Street", "type": "string"}}, "required": ["street", "city"], "title": "Address", "type": "object"}, "name": {"title": "Name", "type": "string"}, "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Nickname"}, "past": {"items": {"$ref": "#/$defs/Address"}, "title": "Past", "type": "array"}, "score": {"default": 0.0, "title": "Score", "type": "number"}, "tags": {"items": {"type": "string"}, "title": "Tags", "type": "array"}, "work": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}]}}, "required": ["name", "age", "home", "work", "nickname", "score", "tags", "past"], "title": "Person", "type": "object"}"##;
const PYTHON_DRAWING: &str = r##"{"$defs": {"Color": {"enum": ["Red", "Green"], "title": "Color", "type": "string"}}, "additionalProperties": false, "properties": {"accent": {"anyOf": [{"$ref": "#/$defs/Color"}, {"type": "null"}]}, "color": {"$ref": "#/$defs/Color"}}, "required": ["color", "accent"], "title": "Drawing", "type": "object"}"##;

#[derive(JsonSchema, Deserialize)]
#[schemars(rename = "Drawing")]
struct ColorsOnly {
    color: Color,
    accent: Option<Color>,
}

/// Removes what differs only in form between the two generators: pydantic's `title` on
/// every property and its `default`, the order of `required`, and `anyOf [X, null]` for
/// a simple type, which schemars writes `"type": [X, "null"]`.
fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("title");
            map.remove("default");
            if let Some(Value::Array(required)) = map.get_mut("required") {
                required.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            if let Some(Value::Array(variants)) = map.get("anyOf") {
                if let [Value::Object(a), b] = variants.as_slice() {
                    if *b == json!({"type": "null"})
                        && a.len() == 1
                        && a.get("type").is_some_and(Value::is_string)
                    {
                        let t = a["type"].clone();
                        map.remove("anyOf");
                        map.insert("type".into(), json!([t, "null"]));
                    }
                }
            }
            map.values_mut().for_each(normalize);
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

#[test]
fn the_schemas_match_what_openai_python_sends_for_the_same_models() {
    for (mut ours, python) in [
        (strict::<Person>(), PYTHON_PERSON),
        (strict::<ColorsOnly>(), PYTHON_DRAWING),
    ] {
        let mut python: Value = serde_json::from_str(python).unwrap();
        // The one difference of substance: `age` is a `u32` here, a Python `int` there.
        if let Some(age) = ours.pointer_mut("/properties/age") {
            assert_eq!(
                age.as_object_mut().unwrap().remove("minimum"),
                Some(json!(0))
            );
        }
        normalize(&mut ours);
        normalize(&mut python);
        assert_eq!(ours, python);
    }
}

#[derive(JsonSchema)]
#[schemars(rename = "a_very_long_type_name_that_goes_on_and_on_well_past_the_limit_of_the_api")]
struct LongName {
    x: bool,
}

#[test]
fn names_are_cut_to_64_characters() {
    let name = schema_name_for::<LongName>();
    assert_eq!(name.len(), 64);
    assert!(
        "a_very_long_type_name_that_goes_on_and_on_well_past_the_limit_of_the_api"
            .starts_with(&name)
    );
}

#[derive(JsonSchema)]
struct Base {
    id: u32,
}

#[derive(JsonSchema)]
struct Flat {
    #[serde(flatten)]
    base: Base,
    name: String,
    #[serde(skip)]
    secret: u8,
}

#[derive(JsonSchema)]
#[serde(untagged)]
enum Loose {
    Number(u32),
    Text(String),
    Pair { a: bool },
}

#[derive(JsonSchema)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    A(u32),
    B,
}

#[derive(JsonSchema)]
struct Empty {}

#[derive(JsonSchema)]
struct SerdeShapes {
    flat: Flat,
    loose: Loose,
    adjacent: Adjacent,
    many: Option<Vec<Base>>,
    empty: Empty,
}

#[test]
fn flatten_untagged_adjacent_and_empty_structs() {
    let s = strict::<SerdeShapes>();
    let defs = &s["$defs"];
    // Flattened fields are the struct's own; skipped ones are not there.
    assert_eq!(defs["Flat"]["required"], json!(["id", "name"]));
    assert_eq!(defs["Flat"]["additionalProperties"], false);
    assert_eq!(
        defs["Loose"],
        json!({"anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string"},
            {"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"], "additionalProperties": false}
        ]})
    );
    assert_eq!(defs["Adjacent"]["anyOf"][0]["required"], json!(["t", "c"]));
    assert_eq!(
        defs["Adjacent"]["anyOf"][1]["properties"]["t"],
        json!({"type": "string", "const": "B"})
    );
    assert_eq!(
        defs["Empty"],
        json!({"type": "object", "properties": {}, "required": [], "additionalProperties": false})
    );
    assert_eq!(
        s["properties"]["many"],
        json!({"type": ["array", "null"], "items": {"$ref": "#/$defs/Base"}})
    );
    assert_eq!(
        s["required"],
        json!(["flat", "loose", "adjacent", "empty", "many"])
    );
}
