//! What the examples share: the environment, choosing the real API or the mock, error
//! reporting and a few formatting helpers.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::process::ExitCode;

use chat_core::types::CompletionUsage;
use chat_core::{Client, Config};
use chat_mock::MockTransport;

/// The error type of the examples: anything that can go wrong, reported as one line.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The model the examples ask for unless `OPENAI_MODEL` (or a `--model` flag) says otherwise.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// The environment variables the examples read.
const VARS: &[&str] = &[
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_MODEL",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_DEPLOYMENT",
];

/// The environment variables an example sees.
///
/// `main` reads them from the process with [`Env::from_process`]; tests start from
/// [`Env::empty`], so they always run against the mock whatever the developer's shell holds.
/// Empty values count as unset. `Debug` shows only which variables are set, never values.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// No variables: every example runs against its mock.
    pub fn empty() -> Self {
        Env::default()
    }

    /// The variables the examples know (`OPENAI_*`, `AZURE_OPENAI_*`) from the process.
    pub fn from_process() -> Self {
        let mut env = Env::empty();
        for name in VARS {
            if let Ok(value) = std::env::var(name) {
                env = env.set(*name, value);
            }
        }
        env
    }

    /// Sets a variable.
    pub fn set(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// A variable's value, trimmed; `None` when unset or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// `OPENAI_MODEL`, or [`DEFAULT_MODEL`].
    pub fn model(&self) -> &str {
        self.get("OPENAI_MODEL").unwrap_or(DEFAULT_MODEL)
    }

    /// Whether `OPENAI_API_KEY` or `OPENAI_BASE_URL` point the examples at a real server.
    pub fn has_api(&self) -> bool {
        self.get("OPENAI_API_KEY").is_some() || self.get("OPENAI_BASE_URL").is_some()
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<&str> = self
            .vars
            .keys()
            .map(String::as_str)
            .filter(|k| self.get(k).is_some())
            .collect();
        f.debug_struct("Env").field("set", &set).finish()
    }
}

/// A client, and the mock behind it when there is no real API to talk to.
#[derive(Debug)]
pub struct Connection {
    /// The client to send requests with.
    pub client: Client,
    /// The mock answering the client's requests, when offline.
    pub mock: Option<MockTransport>,
}

impl Connection {
    /// Whether answers come from the mock.
    pub fn is_mock(&self) -> bool {
        self.mock.is_some()
    }
}

/// A client for the real API when `env` has `OPENAI_API_KEY` or `OPENAI_BASE_URL`, through
/// chat-hyper; otherwise a client over a [`MockTransport`] that `script` sets up, after a
/// note on `err` saying so.
///
/// With only `OPENAI_BASE_URL` set (a local server that needs no key), no credential is sent.
pub fn connect(
    env: &Env,
    err: &mut dyn Write,
    script: impl FnOnce(&MockTransport),
) -> Result<Connection, Error> {
    if env.has_api() {
        let config = match env.get("OPENAI_API_KEY") {
            Some(_) => Config::from_env_with(|name| env.get(name).map(str::to_owned))?,
            None => Config::new().base_url(env.get("OPENAI_BASE_URL").unwrap_or_default()),
        };
        let client = chat_hyper::client(config)?;
        return Ok(Connection { client, mock: None });
    }
    let mock = MockTransport::new();
    // An example may stop before using every rule (a bad flag, an error); that is no bug.
    mock.check_on_drop(false);
    script(&mock);
    writeln!(
        err,
        "note: OPENAI_API_KEY is not set, so the built-in mock (chat-mock) answers; \
         set it to use the real API"
    )?;
    Ok(Connection {
        client: mock.client(),
        mock: Some(mock),
    })
}

/// `error` and its causes on one line, each cause only if the text so far does not already
/// say it.
pub fn error_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line.replace('\n', " ")
}

/// The exit code of an example: success, or `error: ...` on stderr and failure.
pub fn exit_code(result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_line(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// `tokens: 12 prompt + 34 completion = 46 total`.
pub fn usage_line(usage: &CompletionUsage) -> String {
    format!(
        "tokens: {} prompt + {} completion = {} total",
        usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
    )
}

/// Standard base64 with padding, for `data:` URLs (a real app would use the `base64` crate).
pub fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64_encode(input.as_bytes()), expected, "{input:?}");
        }
        assert_eq!(base64_encode(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn env_treats_blank_values_as_unset_and_hides_values() {
        let env = Env::empty()
            .set("OPENAI_API_KEY", "  ")
            .set("OPENAI_MODEL", " llama3 ");
        assert_eq!(env.get("OPENAI_API_KEY"), None);
        assert!(!env.has_api());
        assert_eq!(env.model(), "llama3");
        let env = env.set("OPENAI_API_KEY", "sk-secret-value");
        assert!(env.has_api());
        let dbg = format!("{env:?}");
        assert!(dbg.contains("OPENAI_API_KEY"), "{dbg}");
        assert!(!dbg.contains("sk-secret-value"), "{dbg}");
        assert_eq!(Env::empty().model(), DEFAULT_MODEL);
    }

    #[test]
    fn error_line_joins_new_causes_only() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("cannot connect")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::other("refused"));
        assert_eq!(error_line(&e), "cannot connect: refused");
        let e = std::io::Error::other("line one\nline two");
        assert_eq!(error_line(&e), "line one line two");
    }
}
