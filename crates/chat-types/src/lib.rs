#![warn(missing_docs)]
//! Every request, response and stream-chunk type of the OpenAI Chat Completions API, as plain
//! data that (de)serializes with serde.
//!
//! Forward compatible by design: unknown fields are kept in each object's `extra` map, unknown
//! enum values in an `Unknown(String)` variant and unknown union shapes in an
//! `Unknown(serde_json::Value)` variant, and all of them are written back unchanged.

#[macro_use]
mod wire;

mod common;
mod error;
mod message;
mod ops;
mod request;
mod request_options;
mod response;
mod stream;
mod tools;

pub use common::*;
pub use error::*;
pub use message::*;
pub use ops::*;
pub use request::*;
pub use request_options::*;
pub use response::*;
pub use stream::*;
pub use tools::*;
pub use wire::{ExtraFields, UnknownFields};

#[doc(hidden)]
pub mod __private {
    pub use crate::wire::{
        any, join_path, read_fields, replay_fields, rest_as_object, FieldSeed, Key, ObjectVisitor,
        WireObject,
    };
    pub use serde;
    pub use serde_json::{Map, Value};
}
