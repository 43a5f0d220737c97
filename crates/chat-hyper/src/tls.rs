//! TLS settings: trust roots and the rustls client configuration (ring crypto provider).

use std::fmt;
use std::sync::Arc;

use chat_core::Error;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A trusted root certificate, added with
/// [`HyperTransportBuilder::add_root_certificate`](crate::HyperTransportBuilder::add_root_certificate).
///
/// Use it for private gateways and test servers whose certificates are signed by your own
/// certificate authority.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: CertificateDer<'static>,
}

impl Certificate {
    /// A certificate in DER form (binary X.509).
    ///
    /// The bytes are checked when the transport is built.
    pub fn from_der(der: impl Into<Vec<u8>>) -> Self {
        Certificate {
            der: CertificateDer::from(der.into()),
        }
    }

    /// The first certificate of a PEM text (`-----BEGIN CERTIFICATE-----` ...).
    ///
    /// Fails with [`ErrorKind::InvalidConfig`](chat_core::ErrorKind::InvalidConfig) when the
    /// text holds no certificate or is malformed.
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        let mut all = Self::from_pem_bundle(pem)?;
        Ok(all.swap_remove(0))
    }

    /// Every certificate of a PEM text, such as a CA bundle file; other sections (keys) are
    /// skipped.
    ///
    /// Fails with [`ErrorKind::InvalidConfig`](chat_core::ErrorKind::InvalidConfig) when the
    /// text holds no certificate or is malformed.
    pub fn from_pem_bundle(pem: impl AsRef<[u8]>) -> Result<Vec<Self>, Error> {
        let certs = CertificateDer::pem_slice_iter(pem.as_ref())
            .map(|c| c.map(|der| Certificate { der }))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::invalid_config(format!("invalid PEM certificate: {e}")))?;
        if certs.is_empty() {
            return Err(Error::invalid_config(
                "no certificate found in PEM text (expected -----BEGIN CERTIFICATE-----)",
            ));
        }
        Ok(certs)
    }

    /// The DER bytes.
    pub fn as_der(&self) -> &[u8] {
        self.der.as_ref()
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("der_len", &self.der.len())
            .finish()
    }
}

/// A client certificate and its private key, for gateways that require mutual TLS; set with
/// [`HyperTransportBuilder::identity`](crate::HyperTransportBuilder::identity).
///
/// `Debug` shows the number of certificates only, never the key.
#[derive(Clone)]
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

impl Identity {
    /// An identity from PEM texts: the certificate chain (the client certificate first) and
    /// its private key (PKCS#8, PKCS#1 or SEC1).
    ///
    /// Fails with [`ErrorKind::InvalidConfig`](chat_core::ErrorKind::InvalidConfig) when either
    /// text holds no certificate or key, or is malformed; the key is checked against the
    /// certificate when the transport is built.
    pub fn from_pem(cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Result<Self, Error> {
        let chain = Certificate::from_pem_bundle(cert_chain)?
            .into_iter()
            .map(|c| c.der)
            .collect();
        let key = PrivateKeyDer::from_pem_slice(key.as_ref()).map_err(|e| {
            Error::invalid_config(format!("no usable private key in the PEM text: {e}"))
        })?;
        Ok(Identity {
            chain,
            key: Arc::new(key),
        })
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("certificates", &self.chain.len())
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Builds the rustls client configuration (without ALPN; hyper-rustls sets it), and says
/// how many roots it trusts.
pub(crate) fn client_config(
    built_in_roots: bool,
    extra: &[Certificate],
    identity: Option<&Identity>,
) -> Result<(rustls::ClientConfig, usize), Error> {
    let mut roots = RootCertStore::empty();
    if built_in_roots {
        add_built_in_roots(&mut roots)?;
    }
    for cert in extra {
        roots
            .add(cert.der.clone())
            .map_err(|e| Error::invalid_config(format!("invalid root certificate: {e}")))?;
    }
    let trusted = roots.len();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::invalid_config(format!("tls setup failed: {e}")))?
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some(id) => builder
            .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            .map_err(|e| Error::invalid_config(format!("unusable client identity: {e}")))?,
    };
    Ok((config, trusted))
}

fn add_built_in_roots(roots: &mut RootCertStore) -> Result<(), Error> {
    #[cfg(feature = "webpki-roots")]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[cfg(feature = "native-roots")]
    {
        let found = rustls_native_certs::load_native_certs();
        let (added, _ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 && roots.is_empty() {
            let why = found
                .errors
                .first()
                .map_or_else(|| "none installed".to_owned(), |e| e.to_string());
            return Err(Error::invalid_config(format!(
                "no usable system root certificates ({why}); add roots with \
                 add_root_certificate or enable the `webpki-roots` feature"
            )));
        }
    }
    let _ = roots;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::ErrorKind;

    #[test]
    fn pem_without_certificates_is_a_config_error() {
        let err = Certificate::from_pem("hello").unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InvalidConfig(_)), "{err}");
        assert!(err.to_string().contains("no certificate"), "{err}");

        let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let err = Certificate::from_pem_bundle(broken).unwrap_err();
        assert!(err.to_string().contains("invalid PEM"), "{err}");
    }

    #[test]
    fn garbage_der_fails_when_building_the_config() {
        let bad = Certificate::from_der(vec![1, 2, 3]);
        let err = client_config(false, &[bad], None).unwrap_err();
        assert!(
            err.to_string().contains("invalid root certificate"),
            "{err}"
        );
    }
}
