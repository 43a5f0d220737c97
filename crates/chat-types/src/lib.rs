#![warn(missing_docs)]
//! Every request, response and stream-chunk type of the OpenAI Chat Completions API, as plain
//! data that (de)serializes with serde.
//!
//! The crate does no I/O: `chat-core` sends these types, and they work as well with any HTTP
//! client. Type names are the schema names of the OpenAPI spec
//! ([`CreateChatCompletionRequest`], [`CreateChatCompletionResponse`],
//! [`CreateChatCompletionStreamResponse`], ...) and field names are the wire names.
//!
//! # Building a request
//!
//! Constructors take the required fields, chained setters the optional ones, and role and
//! content-part constructors keep messages short:
//!
//! ```
//! use chat_types::{
//!     ChatCompletionRequestMessage as Message, ChatCompletionRequestUserMessageContentPart as Part,
//!     CreateChatCompletionRequest, ResponseFormat, Tool,
//! };
//! use serde_json::json;
//!
//! let request = CreateChatCompletionRequest::new(
//!     "gpt-4o",
//!     [
//!         Message::developer("Answer with the forecast."),
//!         Message::user(vec![
//!             Part::text("What will the weather be where this photo was taken?"),
//!             Part::image_url("https://example.com/paris.jpg"),
//!         ]),
//!     ],
//! )
//! .tool(
//!     Tool::function(
//!         "get_weather",
//!         "The forecast of a city",
//!         json!({
//!             "type": "object",
//!             "properties": {"city": {"type": "string"}},
//!             "required": ["city"],
//!             "additionalProperties": false
//!         }),
//!     )
//!     .strict(true),
//! )
//! .response_format(
//!     ResponseFormat::json_schema(
//!         "forecast",
//!         json!({"type": "object", "properties": {"summary": {"type": "string"}}}),
//!     )
//!     .strict(true),
//! )
//! .temperature(0.2)
//! .extra_field("top_k", 40); // a parameter of a compatible server, not of the spec
//!
//! let body = serde_json::to_value(&request).unwrap();
//! assert_eq!(body["messages"][1]["content"][1]["type"], "image_url");
//! assert_eq!(body["tools"][0]["function"]["strict"], true);
//! assert_eq!(body["response_format"]["type"], "json_schema");
//! assert_eq!(body["top_k"], 40);
//! ```
//!
//! # Reading a response
//!
//! Accessors cover the common case of one choice; every field stays public for the rest.
//!
//! ```
//! use chat_types::{ChatCompletionRequestMessage as Message, CreateChatCompletionResponse, FinishReason};
//!
//! let body = r#"{
//!     "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o",
//!     "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": null, "message": {
//!         "role": "assistant", "content": null, "refusal": null,
//!         "tool_calls": [{"id": "call_1", "type": "function",
//!             "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]
//!     }}],
//!     "usage": {"prompt_tokens": 80, "completion_tokens": 17, "total_tokens": 97}
//! }"#;
//! let response: CreateChatCompletionResponse = serde_json::from_str(body).unwrap();
//!
//! assert_eq!(response.first_content(), None);
//! assert_eq!(response.finish_reason(), Some(&FinishReason::ToolCalls));
//! assert_eq!(response.usage.as_ref().map(|u| u.total_tokens), Some(97));
//!
//! #[derive(serde::Deserialize)]
//! struct WeatherArgs {
//!     city: String,
//! }
//! let mut next_turn = vec![Message::from(response.first_message().unwrap())];
//! for call in response.function_calls() {
//!     assert_eq!(call.name(), "get_weather");
//!     // The model wrote the arguments: a parse error is an answer to send back, not a panic.
//!     let result = match call.parse_arguments::<WeatherArgs>() {
//!         Ok(args) => format!("Sunny in {}", args.city),
//!         Err(e) => format!("invalid arguments: {e}"),
//!     };
//!     next_turn.push(Message::tool(&call.id, result));
//! }
//! assert_eq!(next_turn.len(), 2);
//! ```
//!
//! # Forward compatibility
//!
//! The API grows every few weeks, and compatible servers (Azure, vLLM, Ollama, Groq,
//! OpenRouter, ...) add their own fields. A value this version of the crate does not know
//! still parses, is kept, and is written back unchanged, so a proxy or a recorded fixture loses
//! nothing:
//!
//! - an unknown field of an object lands in its `extra` map ([`ExtraFields`]);
//! - an unknown value of a string enum is kept as `Unknown(String)` (every string enum has
//!   `as_str()`, `is_unknown()` and `From<&str>`);
//! - an object of a union with an unknown tag value (a new content-part `type`, a new tool
//!   kind, a new message `role`) is kept as `Unknown(serde_json::Value)`.
//!
//! String enums and unions are `#[non_exhaustive]`, so a `match` needs a `_` arm for the
//! variants to come. The [`UnknownFields`] trait, implemented by every type, lists the JSON
//! paths of whatever was not recognised (`.` for a property, `[]` for array items, `{}` for
//! map values, `<type=x>` for a union variant), to log what a new server sends or to catch a
//! typo in a test:
//!
//! ```
//! use chat_types::{CreateChatCompletionResponse, FinishReason, UnknownFields};
//!
//! let body = r#"{"model": "m", "choices": [{"index": 0, "finish_reason": "guardrail",
//!     "message": {"role": "assistant", "content": "...", "reasoning_content": "hm"}}]}"#;
//! let response: CreateChatCompletionResponse = serde_json::from_str(body).unwrap();
//!
//! match response.finish_reason() {
//!     Some(FinishReason::Stop) => println!("done"),
//!     Some(other) if other.is_unknown() => println!("stopped because of {other}"),
//!     _ => {}
//! }
//! let message = response.first_message().unwrap();
//! assert_eq!(message.extra["reasoning_content"], "hm");
//! assert_eq!(
//!     response.unknown_fields(),
//!     [
//!         r#"choices[].finish_reason="guardrail""#,
//!         "choices[].message.reasoning_content",
//!     ]
//! );
//! // Written back as it came.
//! let back = serde_json::to_value(&response).unwrap();
//! assert_eq!(back["choices"][0]["finish_reason"], "guardrail");
//! assert_eq!(back["choices"][0]["message"]["reasoning_content"], "hm");
//! ```
//!
//! # What is accepted and what is an error
//!
//! The types are lenient about *values* and strict about *shapes*, in requests and responses
//! alike, so a body that is not what it claims to be fails with the JSON path of the problem
//! instead of parsing into an empty value:
//!
//! - **Accepted and kept:** unknown fields, unknown string-enum values, objects of a union with
//!   an unknown tag value (all above); a field given twice keeps its last value, as in
//!   `serde_json::Value`; an absent or `null` optional field reads as `None`, which is not
//!   written back (so `"refusal": null` can round-trip to no `refusal` key, which means the
//!   same).
//! - **Accepted from compatible servers:** a response or chunk without `id`, `object`,
//!   `created` or `model` (they are `Option`s, or `model` is empty); a usage-only chunk with
//!   `choices: []`; a tool call without `type` (read as a function call); tool-call
//!   `arguments` sent as a JSON object instead of a string: kept as its compact JSON text
//!   (`serde_json::to_string` of the object) and written back as that string, the spec's type.
//! - **Errors:** a missing required field (a response or chunk without `choices` is not a
//!   completion, whatever else it holds, such as `{"status": "queued"}`; a request without
//!   `messages`); `null` for a required field that is not nullable (`"messages": null`); a
//!   known field of the wrong JSON type (`"temperature": "hot"`, `"stop": 5`,
//!   `"content": 42`); a non-object where an object is needed (a bare string as a message);
//!   a union object without its tag (a message without `role`, a content part without
//!   `type`) or with a tag that is not a string; and a union tag given twice.
//!
//! Errors carry the JSON path when read through [`serde_path_to_error`][sp] (chat-core does):
//! `messages[1]`, `messages[0].content`, `stop`. A union reads the fields before its tag
//! without knowing their type yet, so for those the path ends at the object and the message
//! names the field (``field `content`: invalid type ...``); clients write `role` and `type`
//! first, where the path is exact.
//!
//! Numbers are read with serde_json's `float_roundtrip` feature: a float, including one in an
//! unknown field, parses to the nearest `f64` and is written back as the same value (in its
//! shortest form: `1e2` is written `100.0`). Integers are exact within `i64` and `u64`; a
//! larger one is read as an `f64`.
//!
//! [sp]: https://docs.rs/serde_path_to_error

#[macro_use]
mod wire;

mod common;
mod error;
mod extra;
mod message;
mod ops;
mod request;
mod request_options;
mod response;
#[cfg(feature = "schema")]
pub mod schema;
mod stream;
mod structured;
#[cfg(test)]
mod test_util;
mod tools;

pub use common::*;
pub use error::*;
pub use extra::{ExtraFieldsIter, ExtraFieldsIterMut};
pub use message::*;
pub use ops::*;
pub use request::*;
pub use request_options::*;
pub use response::*;
#[cfg(feature = "schema")]
pub use schema::SchemaError;
#[cfg(feature = "schema")]
pub use schemars;
pub use stream::*;
pub use tools::*;
pub use wire::{ExtraFields, UnknownFields};

#[doc(hidden)]
pub mod __private {
    pub use crate::wire::{
        any, join_path, json_text, read_fields, read_variant_fields, replay_fields, rest_as_object,
        set_path, unknown_object, DefaultField, FieldKey, FieldSeed, Key, KeySeed, ObjectVisitor,
        OptionalField, ReadDefault, ReadDefaultOption, ReadDefaultScalar, ReadOptional,
        ReadOptionalScalar, WireObject,
    };
    pub use serde;
    pub use serde_json::{Map, Value};
}
