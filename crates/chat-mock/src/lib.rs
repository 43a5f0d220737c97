#![warn(missing_docs)]
//! Test apps that use the Chat Completions API offline: a mock transport with scripted
//! answers, streams and faults, recorded requests with assertions, record/replay, and a
//! loopback HTTP server.
//!
//! # Testing your app
//!
//! Give the code under test a [`chat_core::Client`] from [`MockTransport::client`], script
//! the answers, run it, then check what it sent:
//!
//! ```
//! use chat_core::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
//! use chat_core::Client;
//! use chat_mock::{Match, MockResponse, MockTransport};
//! use serde_json::json;
//!
//! // The code under test takes a client, whatever transport it runs on.
//! async fn forecast(client: &Client, city: &str) -> chat_core::Result<String> {
//!     let request = CreateChatCompletionRequest::new(
//!         "gpt-4o-mini",
//!         [Message::user(format!("What is the weather in {city}?"))],
//!     );
//!     let reply = client.create_chat_completion(&request).await?;
//!     Ok(reply.first_content().unwrap_or_default().to_owned())
//! }
//!
//! # /*
//! #[tokio::test(start_paused = true)] // paused clock: retries and timeouts take no time
//! # */
//! async fn forecast_survives_a_rate_limit() {
//!     let mock = MockTransport::new();
//!     mock.push(MockResponse::error(429).retry_after(1));
//!     mock.on(Match::post("/chat/completions").user_message_contains("Paris"))
//!         .respond(MockResponse::text("Sunny, 24 °C").usage(14, 6));
//!
//!     let answer = forecast(&mock.client(), "Paris").await.unwrap();
//!
//!     assert_eq!(answer, "Sunny, 24 °C");
//!     mock.assert_request_count(2); // the 429 was retried
//!     mock.assert_request_json(1, json!({"model": "gpt-4o-mini"}));
//!     mock.assert_all_used(); // also checked when `mock` is dropped
//! }
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() { forecast_survives_a_rate_limit().await }
//! ```
//!
//! # What is in the box
//!
//! - [`MockTransport`]: a [`Transport`](chat_core::Transport) answering from a script of
//!   rules ([`Match`] conditions on method, path, model, message text or any JSON pointer of
//!   the body) with repeat counts, and recording every request ([`RecordedRequest`], typed
//!   and raw, secrets redacted).
//! - Answers ([`MockResponse`]): completions ([`MockCompletion`]: text, tool calls, refusals,
//!   usage, several choices), streams ([`MockStream`]: chunking, tool-call deltas, usage
//!   chunk, delays, with or without `[DONE]`), API errors ([`MockApiError`]: status, body,
//!   `retry-after`), raw responses ([`MockRaw`]) and faults (connection refused, no answer,
//!   disconnect mid-stream, malformed JSON, HTML error pages, error events in a stream).
//! - Checks: [`MockTransport::assert_all_used`] / [`verify`](MockTransport::verify) (also run
//!   on drop), [`assert_request_json`](MockTransport::assert_request_json) (subset) and
//!   [`assert_request_json_exact`](MockTransport::assert_request_json_exact).
//! - Demo mode: [`MockTransport::demo`] and [`MockResponse::demo`] answer from the request
//!   itself (`n`, logprobs, token limits, `stop`, JSON mode, JSON that validates against a
//!   `json_schema`, tool calls with schema-valid arguments).
//! - Stored completions: answers to `store: true` requests can be listed, fetched, updated
//!   and deleted through the API's operations; [`MockTransport::rate_limit`] scripts `429`s
//!   past a request budget, and every answer carries the API's `x-ratelimit-*` headers.
//! - Record/replay: [`RecordingTransport`] saves real exchanges to a [`Cassette`] file;
//!   [`ReplayTransport`] serves it back offline, chunk boundaries and timeouts included.
//! - With the `server` feature, `MockServer` serves the same scripts over HTTP on
//!   127.0.0.1, for apps that use another client (such as the official OpenAI libraries).
//!
//! Every delay runs on the tokio clock, so tests under `tokio::time::pause` (or
//! `#[tokio::test(start_paused = true)]`) run retries, delays and timeouts instantly.

#[macro_use]
mod response;

mod body;
mod demo;
mod json;
mod matcher;
mod mock;
mod query;
mod record;
mod request;
mod schema;
#[cfg(feature = "server")]
mod server;
mod store;
mod stream;

pub use matcher::Match;
pub use mock::{MockTransport, Rule, RuleBuilder, VerifyError};
pub use record::{
    Cassette, CassetteError, Interaction, RecordedError, RecordingTransport, ReplayOrder,
    ReplayTransport,
};
pub use request::{RecordedRequest, REDACTED};
pub use response::{MockApiError, MockCompletion, MockRaw, MockResponse};
#[cfg(feature = "server")]
pub use server::MockServer;
pub use stream::MockStream;
