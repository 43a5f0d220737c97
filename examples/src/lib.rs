#![warn(missing_docs)]
//! The runnable examples of the chat SDK, and the little they share.
//!
//! Each example is one file beside this crate's `Cargo.toml` (`chat.rs`, `tool_calling.rs`,
//! ...) with a `run` function that holds its logic and a `main` that calls it; run one with
//! `cargo run --example <name>` (see `README.md` for the list). The same files are compiled
//! into this library as modules, so the tests in `tests/` call the very `run` functions the
//! examples use and check their output without spawning processes.
//!
//! Every example works offline: [`connect`] talks to the real API when `OPENAI_API_KEY` (or
//! `OPENAI_BASE_URL`) is set, and otherwise to a [`chat_mock::MockTransport`] scripted by the
//! example, saying so on stderr. Examples read the environment through [`Env`], which tests
//! build empty, so a developer's API key can never send a test to the network.

// Lets the example files say `chat_examples::...` both as examples and as modules of this crate.
extern crate self as chat_examples;

mod support;

pub use support::{
    base64_encode, connect, error_line, exit_code, usage_line, Connection, Env, Error,
    DEFAULT_MODEL,
};

#[path = "../azure.rs"]
pub mod azure;
#[path = "../chat.rs"]
pub mod chat;
#[path = "../compatible_server.rs"]
pub mod compatible_server;
#[path = "../completion.rs"]
pub mod completion;
#[path = "../custom_transport.rs"]
pub mod custom_transport;
#[path = "../image_input.rs"]
pub mod image_input;
#[path = "../streaming_events.rs"]
pub mod streaming_events;
#[path = "../structured_output.rs"]
pub mod structured_output;
#[path = "../testing_with_mock.rs"]
pub mod testing_with_mock;
#[path = "../tool_calling.rs"]
pub mod tool_calling;
#[path = "../tool_runner.rs"]
pub mod tool_runner;
#[path = "../typed_output.rs"]
pub mod typed_output;

/// The code blocks of the repository's README, compiled (and run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
