#![warn(missing_docs)]
//! Transport-agnostic client for the OpenAI Chat Completions API.
//!
//! [`Client`] does everything between your code and the bytes on the wire: URLs, headers and
//! credentials, retries with backoff, timeouts, error parsing, JSON decoding, server-sent
//! events and pagination. The HTTP exchange itself goes through a [`Transport`]: `chat-hyper`
//! in production, `chat-mock` in tests, or your own.
//!
//! ```
//! use bytes::Bytes;
//! use chat_core::types::{ChatCompletionRequestMessage, CreateChatCompletionRequest};
//! use chat_core::{async_trait, Body, Client, Config, Transport, TransportError};
//!
//! /// A stand-in for the API that answers every request with the same completion.
//! #[derive(Debug)]
//! struct Canned;
//!
//! #[async_trait]
//! impl Transport for Canned {
//!     async fn send(
//!         &self,
//!         request: http::Request<Bytes>,
//!     ) -> Result<http::Response<Body>, TransportError> {
//!         assert_eq!(request.uri(), "https://api.openai.com/v1/chat/completions");
//!         Ok(http::Response::new(Body::from(
//!             r#"{"id":"chatcmpl-1","model":"gpt-4o","choices":[{"index":0,
//!                "message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}]}"#,
//!         )))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), chat_core::Error> {
//! let client = Client::new(Config::new().api_key("sk-..."), Canned);
//! let request = CreateChatCompletionRequest::new(
//!     "gpt-4o",
//!     [ChatCompletionRequestMessage::user("Say hello")],
//! );
//! let response = client.create_chat_completion(&request).await?;
//! assert_eq!(response.first_content(), Some("Hello!"));
//! println!("request id: {:?}", response.request_id());
//! # Ok(()) }
//! ```
//!
//! # Configuration
//!
//! [`Config::from_env`] reads `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID` and
//! `OPENAI_PROJECT_ID`; [`Config::azure`] targets an Azure OpenAI deployment (with an `api-key`
//! or Entra ID tokens from a [`CredentialProvider`]); any OpenAI-compatible server works with
//! [`Config::base_url`]. [`RequestOptions`] layer headers, query parameters, timeouts and
//! retry counts over the configuration for some requests
//! ([`Client::with_options`]). [`Middleware`]s see and may change every attempt.
//!
//! # Streaming
//!
//! [`Client::create_chat_completion_stream`] returns a [`ChatCompletionStream`] of chunks
//! once the first bytes of the event stream arrived (failures before that are retried);
//! [`ChatCompletionStream::final_response`] accumulates them into a whole completion and
//! [`ChatCompletionStream::events`] turns them into content deltas and finished tool calls.
//! A stream that stalls fails after [`Config::stream_idle_timeout`], one kept open without
//! end (by keep-alive comments, say) after [`Config::stream_deadline`] if set; one that ends early
//! fails with [`StreamError::Truncated`] rather than looking complete.
//!
//! # Errors and retries
//!
//! Every operation returns [`Error`]. Connection failures, timeouts, 408, 409, 429 (but not
//! `insufficient_quota`) and 5xx answers are retried twice by default, waiting as the server
//! asks (`retry-after-ms`, `retry-after`, up to 60 s) or with exponential backoff and jitter.
//! TLS and protocol errors are not retried. [`Error::attempts`] tells how many attempts were
//! made. Neither errors, `Debug` output nor spans contain the API key, nor the values of
//! secret-looking headers and query parameters (see [`redact_url`]); a URL with user
//! information is refused.
//!
//! # JSON decoding
//!
//! Response bodies, stream chunks and error bodies are parsed by [`json::from_slice`]: one
//! UTF-8 check, then serde_json on the text, with serde_json's errors and positions.
//!
//! # Implementing a transport
//!
//! A [`Transport`] sends one request and returns the response head as soon as it arrives, with
//! a [`Body`] that is either in memory ([`Body::full`]) or read chunk by chunk
//! ([`Body::from_stream`]) so that events stream without buffering. It should:
//!
//! - not retry, follow redirects or apply request timeouts: the client does that, and drops
//!   the future of [`Transport::send`] when a deadline passes;
//! - own connections, TLS and the connect timeout;
//! - report failures with the right [`TransportErrorKind`]: every kind but `Tls` and
//!   `Protocol` (an answer that breaks HTTP) is retried (`Connect` for DNS, refused or
//!   connect timeout, `Io` for a reset, `Timeout`, `Other`),
//!   and put the root cause in the message, which `Display` shows (the cause chain is only
//!   reachable through `source()`);
//! - return every status as a response; the client turns non-2xx answers into errors.
//!
//! ```
//! use std::collections::VecDeque;
//! use std::pin::Pin;
//! use std::task::{Context, Poll};
//!
//! use bytes::Bytes;
//! use chat_core::{async_trait, Body, Transport, TransportError};
//!
//! /// Streams a canned event-stream body in two chunks.
//! #[derive(Debug)]
//! struct TwoChunks;
//!
//! struct Chunks(VecDeque<Bytes>);
//!
//! impl futures_core::Stream for Chunks {
//!     type Item = Result<Bytes, TransportError>;
//!     fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
//!         Poll::Ready(self.0.pop_front().map(Ok))
//!     }
//! }
//!
//! #[async_trait]
//! impl Transport for TwoChunks {
//!     async fn send(
//!         &self,
//!         _request: http::Request<Bytes>,
//!     ) -> Result<http::Response<Body>, TransportError> {
//!         let chunks = Chunks(VecDeque::from([
//!             Bytes::from_static(b"data: {\"choices\":[]}\n\n"),
//!             Bytes::from_static(b"data: [DONE]\n\n"),
//!         ]));
//!         let mut response = http::Response::new(Body::from_stream(chunks));
//!         response.headers_mut().insert(
//!             http::header::CONTENT_TYPE,
//!             http::HeaderValue::from_static("text/event-stream"),
//!         );
//!         Ok(response)
//!     }
//! }
//! ```

mod auth;
mod client;
mod config;
mod error;
pub mod json;
mod meta;
mod middleware;
mod ops;
mod pacer;
mod retry;
mod trace;
mod transport;
mod url;

mod accumulate;
mod events;
mod partial_json;
mod sse;
mod stream;
#[cfg(feature = "schema")]
mod structured;
#[cfg(feature = "schema")]
mod tool_runner;

pub use async_trait::async_trait;
pub use chat_types as types;

pub use auth::{Credential, CredentialProvider, SecretString, AZURE_API_KEY_HEADER};
pub use client::{Client, RETRY_COUNT_HEADER};
pub use config::{
    default_user_agent, Config, RequestOptions, DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT,
};
pub use error::{
    ApiError, DecodeError, Error, ErrorKind, Result, StreamError, Timeout, TimeoutKind,
};
pub use meta::{parse_duration, RateLimitInfo, Response, ResponseMeta, REQUEST_ID_HEADER};
pub use middleware::{Middleware, RequestContext, ResponseHead};
pub use ops::{Paginated, RawResponse};
pub use transport::{Body, Transport, TransportError, TransportErrorKind};
pub use url::{is_secret_name, redact_url};

pub use accumulate::ChatCompletionAccumulator;
pub use events::{ChatCompletionEvent, ChatCompletionEventStream};
pub use partial_json::{complete_partial_json, PartialJson};
pub use sse::{SseDecoder, SseEvent, SseEvents, SseStream};
pub use stream::{ChatCompletionStream, StreamConfig, StreamMeta};
#[cfg(feature = "schema")]
pub use structured::{
    ParsedChatCompletion, ParsedChatCompletionStream, ParsedChoice, ParsedEvent, StructuredError,
};
#[cfg(feature = "schema")]
pub use tool_runner::{
    FunctionTool, ToolArgumentsError, ToolCallResult, ToolErrors, ToolRun, ToolRunError, ToolRunner,
};
