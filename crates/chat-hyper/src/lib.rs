#![warn(missing_docs)]
//! The production HTTPS transport for [`chat_core`]: hyper 1.x, hyper-util's pooled client and
//! rustls.
//!
//! [`HyperTransport`] implements [`chat_core::Transport`].
//!
//! * HTTPS by default with rustls; HTTP/2 when the server offers it through ALPN, HTTP/1.1
//!   otherwise; plain HTTP for `http://` base URLs (local vLLM, Ollama, ...).
//! * Keep-alive connection pool; response bodies stream chunk by chunk. Over HTTP/2, more
//!   connections to a host open as the streams of the first fill up
//!   ([`HyperTransportBuilder::http2_max_streams_per_connection`],
//!   [`HyperTransportBuilder::http2_max_connections_per_host`]).
//! * With the cargo features `gzip`, `br` and `zstd`: `Accept-Encoding` for those encodings,
//!   and compressed bodies decoded as they arrive (the client's size limits count decoded
//!   bytes).
//! * Connect timeout over DNS, TCP, proxy tunnel and TLS handshake (default 10 s). Request,
//!   idle and overall deadlines belong to `chat_core`, which drops the request future or the
//!   body when they pass; dropping either closes or resets the unfinished exchange.
//! * HTTP proxies from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` or set
//!   explicitly with [`Proxy`].
//! * Custom root certificates with [`Certificate`].
//!
//! # Crypto provider and trust roots
//!
//! TLS uses rustls with the `ring` crypto provider: it builds with only a C compiler, while
//! `aws-lc-rs` (rustls' default) also needs cmake and, on some targets, nasm. No OpenSSL is
//! involved. Which roots are trusted is chosen by cargo features:
//!
//! * `webpki-roots` (default): Mozilla's root certificates, compiled in; works the same
//!   everywhere, including minimal containers without a CA bundle.
//! * `native-roots`: the operating system's certificate store, loaded when the transport is
//!   built; follows corporate roots installed on the machine.
//!
//! With both features, both sets are trusted. Add private roots with
//! [`HyperTransportBuilder::add_root_certificate`], and trust only those with
//! [`HyperTransportBuilder::built_in_roots`]`(false)`.
//!
//! # Errors
//!
//! Failures map onto [`TransportErrorKind`](chat_core::TransportErrorKind): `Connect` (DNS,
//! refused, connect timeout, proxy refused the tunnel), `Tls` (handshake or certificate
//! rejected), `Io` (connection reset or closed, before or during the response), `Timeout`,
//! `Protocol` (an answer that breaks HTTP: a garbage status line, too many or invalid headers,
//! bad chunked encoding; not retried) and `Other`. Messages name the host (`host:port`) of
//! failures before the response head. The original error is the `source()`.
//!
//! # Example
//!
//! One line gives a client configured from `OPENAI_API_KEY` / `OPENAI_BASE_URL` over the
//! default transport:
//!
//! ```no_run
//! use chat_hyper::chat_core::types::{ChatCompletionRequestMessage, CreateChatCompletionRequest};
//!
//! # async fn run() -> Result<(), chat_hyper::chat_core::Error> {
//! let client = chat_hyper::client_from_env()?;
//! let request = CreateChatCompletionRequest::new(
//!     "gpt-4o-mini",
//!     [ChatCompletionRequestMessage::user("Say hello")],
//! );
//! let response = client.create_chat_completion(&request).await?;
//! println!("{}", response.first_content().unwrap_or_default());
//! # Ok(())
//! # }
//! ```
//!
//! A private gateway behind a corporate proxy, with its own certificate authority:
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use chat_hyper::chat_core::{Client, Config};
//! use chat_hyper::{Certificate, HyperTransport, Proxy};
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let gateway_ca = Certificate::from_pem(std::fs::read("gateway-ca.pem")?)?;
//! let transport = HyperTransport::builder()
//!     .connect_timeout(Duration::from_secs(5))
//!     .add_root_certificate(gateway_ca)
//!     .proxy(Proxy::all("http://proxy.internal:3128").except("localhost,127.0.0.1"))
//!     .build()?;
//! let config = Config::new()
//!     .base_url("https://llm-gateway.internal/v1")
//!     .api_key(std::env::var("GATEWAY_KEY")?);
//! let client = Client::try_new(config, transport)?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```

mod body;
mod connect;
#[cfg(any(feature = "gzip", feature = "br", feature = "zstd"))]
mod decode;
mod error;
mod pool;
mod proxy;
mod tls;
mod transport;

pub use chat_core;
pub use proxy::Proxy;
pub use tls::{Certificate, Identity};
pub use transport::{
    HyperTransport, HyperTransportBuilder, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_HTTP2_MAX_CONNECTIONS_PER_HOST, DEFAULT_HTTP2_MAX_STREAMS_PER_CONNECTION,
    DEFAULT_POOL_IDLE_TIMEOUT,
};

/// A [`chat_core::Client`] over a default [`HyperTransport`], configured from the environment
/// ([`chat_core::Config::from_env`]: `OPENAI_API_KEY`, `OPENAI_BASE_URL`, ...).
///
/// ```no_run
/// # async fn run() -> Result<(), chat_core::Error> {
/// let client = chat_hyper::client_from_env()?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
pub fn client_from_env() -> Result<chat_core::Client, chat_core::Error> {
    client(chat_core::Config::from_env()?)
}

/// A [`chat_core::Client`] for `config` over a default [`HyperTransport`].
///
/// Fails on an invalid configuration, or when the transport cannot load its trust roots. Build
/// the transport with [`HyperTransport::builder`] and pass it to [`chat_core::Client::new`] to
/// change its settings.
pub fn client(config: chat_core::Config) -> Result<chat_core::Client, chat_core::Error> {
    chat_core::Client::try_new(config, HyperTransport::new()?)
}
