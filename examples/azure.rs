//! Run with `cargo run --example azure`.
//!
//! Azure OpenAI: `Config::azure(endpoint, deployment, api_version)` sends requests to
//! `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...`, with an
//! `api-key` header or with Entra ID tokens from a `CredentialProvider`.
//!
//! With `AZURE_OPENAI_ENDPOINT` and `AZURE_OPENAI_API_KEY` (or `AZURE_OPENAI_AD_TOKEN`) set it
//! sends a real request (`AZURE_OPENAI_DEPLOYMENT`, `OPENAI_API_VERSION` optional). Otherwise
//! it sends one request per kind of authentication to the mock and prints what would go over
//! the wire, secrets redacted.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use chat_core::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use chat_core::{async_trait, Client, Config, Credential, CredentialProvider, SecretString};
use chat_examples::{Env, Error, DEFAULT_MODEL};
use chat_mock::{MockResponse, MockTransport};

/// The API version used unless `OPENAI_API_VERSION` says otherwise.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// The endpoint shown offline.
pub const DEMO_ENDPOINT: &str = "https://my-resource.openai.azure.com";
/// The API key used offline; it never appears in the output.
pub const DEMO_KEY: &str = "demo-azure-key-0123456789";
/// The Entra ID token used offline; it never appears in the output.
pub const DEMO_TOKEN: &str = "demo-entra-token-abcdef";

/// Hands out Entra ID access tokens for the `https://cognitiveservices.azure.com` scope.
///
/// The client asks for a credential before every attempt. Here the token is fixed; a real
/// provider gets one from a managed identity or `az account get-access-token` and refreshes
/// it a few minutes before it expires.
#[derive(Debug)]
pub struct EntraIdTokens {
    token: SecretString,
    fetches: AtomicU32,
}

impl EntraIdTokens {
    /// A provider that always hands out `token`.
    pub fn new(token: impl Into<SecretString>) -> Self {
        EntraIdTokens {
            token: token.into(),
            fetches: AtomicU32::new(0),
        }
    }

    /// How many times the client asked for a token.
    pub fn fetches(&self) -> u32 {
        self.fetches.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl CredentialProvider for EntraIdTokens {
    async fn credential(&self) -> Result<Credential, chat_core::Error> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        Ok(Credential::bearer(self.token.clone()))
    }
}

/// The request sent in every case.
pub fn request(deployment: &str) -> CreateChatCompletionRequest {
    // Azure routes by deployment; the model field is sent anyway and ignored.
    CreateChatCompletionRequest::new(deployment, [Message::user("Say hello from Azure.")])
}

/// Sends a request with Azure configurations and prints what was sent and answered to `out`.
pub async fn run(env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let deployment = env.get("AZURE_OPENAI_DEPLOYMENT").unwrap_or(DEFAULT_MODEL);
    let version = env.get("OPENAI_API_VERSION").unwrap_or(DEFAULT_API_VERSION);

    if let Some(endpoint) = env.get("AZURE_OPENAI_ENDPOINT") {
        let config = Config::azure(endpoint, deployment, version);
        let config = match (
            env.get("AZURE_OPENAI_API_KEY"),
            env.get("AZURE_OPENAI_AD_TOKEN"),
        ) {
            (Some(key), _) => config.api_key(key),
            (None, Some(token)) => config.credential_provider(EntraIdTokens::new(token)),
            (None, None) => {
                return Err("set AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN as well".into())
            }
        };
        let client = chat_hyper::client(config)?;
        let response = client.create_chat_completion(&request(deployment)).await?;
        writeln!(
            out,
            "answer: {}",
            response.first_content().unwrap_or("(no text)")
        )?;
        return Ok(());
    }

    writeln!(
        err,
        "note: AZURE_OPENAI_ENDPOINT is not set, so the mock answers and the requests are shown"
    )?;
    writeln!(out, "== api-key authentication")?;
    let config = Config::azure(DEMO_ENDPOINT, deployment, version).api_key(DEMO_KEY);
    let mock = show_request(config, deployment, out).await?;
    let sent_key = mock.request(0).header_matches("api-key", DEMO_KEY);
    writeln!(
        out,
        "the api-key header carries the configured key: {sent_key}"
    )?;

    writeln!(out, "== Entra ID token authentication")?;
    let tokens = Arc::new(EntraIdTokens::new(DEMO_TOKEN));
    let config =
        Config::azure(DEMO_ENDPOINT, deployment, version).credential_provider_arc(tokens.clone());
    let mock = show_request(config, deployment, out).await?;
    let bearer = format!("Bearer {DEMO_TOKEN}");
    let sent_token = mock.request(0).header_matches("authorization", &bearer);
    writeln!(
        out,
        "the authorization header carries the token: {sent_token}"
    )?;
    writeln!(
        out,
        "the token provider was asked {} time(s)",
        tokens.fetches()
    )?;
    Ok(())
}

/// Sends the request with `config` to a fresh mock, prints the request as the mock saw it
/// (secret headers read `[redacted]`) and the answer, and returns the mock.
async fn show_request(
    config: Config,
    deployment: &str,
    out: &mut dyn Write,
) -> Result<MockTransport, Error> {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("Hello from the Azure OpenAI mock!"));
    let client: Client = mock.client_with(config);
    let response = client.create_chat_completion(&request(deployment)).await?;

    let sent = mock.request(0);
    writeln!(out, "{} {}", sent.method(), sent.uri())?;
    let mut headers: Vec<(String, String)> = sent
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("(binary)").to_owned()))
        .collect();
    headers.sort();
    for (name, value) in headers {
        writeln!(out, "{name}: {value}")?;
    }
    writeln!(out, "body: {}", sent.body_text())?;
    writeln!(
        out,
        "answer: {}",
        response.first_content().unwrap_or("(no text)")
    )?;
    Ok(mock)
}

/// Runs the example with the process environment.
#[tokio::main]
pub async fn main() -> ExitCode {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    chat_examples::exit_code(run(&Env::from_process(), &mut out, &mut err).await)
}
