#![warn(missing_docs)]
//! Transport-agnostic client for the OpenAI Chat Completions API.

mod error;
mod transport;

pub use async_trait::async_trait;
pub use chat_types as types;
pub use error::{
    ApiError, DecodeError, Error, ErrorKind, Result, StreamError, Timeout, TimeoutKind,
};
pub use transport::{Body, Transport, TransportError, TransportErrorKind};
