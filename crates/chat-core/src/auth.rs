//! Credentials: the secret string type, the header a credential becomes, and the async provider
//! trait that lets keys and tokens rotate.

use std::fmt;

use async_trait::async_trait;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION};

use crate::Error;

/// A string that must never be printed, such as an API key or a bearer token.
///
/// `Debug` and `Display` print `[redacted]`; read the value with
/// [`expose_secret`](SecretString::expose_secret).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Box<str>);

impl SecretString {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        SecretString(secret.into().into_boxed_str())
    }

    /// The secret itself. Do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString::new(s)
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        SecretString::new(s)
    }
}

/// The name of the header Azure OpenAI reads its API key from.
pub const AZURE_API_KEY_HEADER: &str = "api-key";

/// A credential, as the header that carries it.
///
/// Build one with [`bearer`](Credential::bearer) (OpenAI keys, Entra ID tokens),
/// [`azure_api_key`](Credential::azure_api_key) or [`header`](Credential::header). A
/// `Credential` is itself a [`CredentialProvider`] that always returns itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    name: HeaderName,
    prefix: &'static str,
    secret: SecretString,
}

impl Credential {
    /// `Authorization: Bearer <token>`: an OpenAI API key or an OAuth/Entra ID access token.
    pub fn bearer(token: impl Into<SecretString>) -> Self {
        Credential {
            name: AUTHORIZATION,
            prefix: "Bearer ",
            secret: token.into(),
        }
    }

    /// `api-key: <key>`: an Azure OpenAI resource key.
    pub fn azure_api_key(key: impl Into<SecretString>) -> Self {
        Credential {
            name: HeaderName::from_static(AZURE_API_KEY_HEADER),
            prefix: "",
            secret: key.into(),
        }
    }

    /// `<name>: <value>`: any other header-borne secret, such as a gateway's `x-api-key`.
    pub fn header(name: HeaderName, value: impl Into<SecretString>) -> Self {
        Credential {
            name,
            prefix: "",
            secret: value.into(),
        }
    }

    /// The header the credential is sent in.
    pub fn header_name(&self) -> &HeaderName {
        &self.name
    }

    /// The secret (without a `Bearer ` prefix).
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// The header value, marked sensitive so that `http`'s `Debug` hides it.
    ///
    /// Fails with an invalid-configuration error (that does not quote the secret) when the
    /// secret contains characters a header cannot carry, such as a newline.
    pub fn header_value(&self) -> Result<HeaderValue, Error> {
        let mut s = String::with_capacity(self.prefix.len() + self.secret.0.len());
        s.push_str(self.prefix);
        s.push_str(&self.secret.0);
        let mut v = HeaderValue::try_from(s).map_err(|_| {
            Error::invalid_config(format!(
                "the credential for the `{}` header contains characters not allowed in a header",
                self.name
            ))
        })?;
        v.set_sensitive(true);
        Ok(v)
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("header", &self.name.as_str())
            .field("secret", &self.secret)
            .finish()
    }
}

/// Supplies the credential of each request attempt, so that keys and tokens can rotate.
///
/// The client asks once per attempt; an implementation caches and refreshes as it sees fit
/// (an Entra ID token provider refreshes a few minutes before expiry). An error is returned
/// to the caller as is and never retried; a provider slower than the attempt timeout is cut
/// off like a slow server, and the attempt retried.
///
/// ```
/// use chat_core::{async_trait, Credential, CredentialProvider, Error};
///
/// /// Reads the key from a vault on every attempt.
/// #[derive(Debug)]
/// struct Vault;
///
/// #[async_trait]
/// impl CredentialProvider for Vault {
///     async fn credential(&self) -> Result<Credential, Error> {
///         Ok(Credential::bearer("sk-from-the-vault"))
///     }
/// }
/// ```
#[async_trait]
pub trait CredentialProvider: Send + Sync + fmt::Debug {
    /// The credential for the next attempt.
    async fn credential(&self) -> Result<Credential, Error>;

    /// The credential, when it never changes: the client then builds its header once
    /// instead of asking for it on every attempt. `None` (the default) asks every time.
    fn fixed(&self) -> Option<&Credential> {
        None
    }
}

#[async_trait]
impl CredentialProvider for Credential {
    async fn credential(&self) -> Result<Credential, Error> {
        Ok(self.clone())
    }

    fn fixed(&self) -> Option<&Credential> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let c = Credential::bearer("sk-very-secret");
        assert_eq!(format!("{}", c.secret()), "[redacted]");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("very-secret"), "{dbg}");
        let v = c.header_value().unwrap();
        assert_eq!(v.to_str().unwrap(), "Bearer sk-very-secret");
        assert!(!format!("{v:?}").contains("very-secret"));
    }

    #[test]
    fn bad_secret_is_an_error_without_the_secret() {
        let e = Credential::azure_api_key("abc\ndef-secret")
            .header_value()
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("api-key"), "{msg}");
        assert!(!msg.contains("def-secret"), "{msg}");
    }
}
