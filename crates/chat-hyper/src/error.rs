//! Mapping hyper, hyper-util, rustls and I/O errors onto [`TransportErrorKind`].
//!
//! The public API shows only [`TransportError`]; the original error stays reachable as its
//! `source()` for diagnosis.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use chat_core::{TransportError, TransportErrorKind};

/// What the walk over an error's cause chain found.
#[derive(Default)]
struct Findings {
    /// The chain contains a rustls error.
    tls: Option<String>,
    /// The chain contains an I/O error of this kind.
    io_kind: Option<io::ErrorKind>,
    /// The chain contains a hyper error with these traits.
    hyper_timeout: bool,
    hyper_parse: bool,
    hyper_user: bool,
    /// The deepest message, the most specific description of the cause.
    root: String,
    /// The proxy the connection went through, when it failed there.
    proxy: Option<String>,
}

/// Walks `err` and its causes, looking inside `io::Error`s too: `io::Error::source` skips the
/// wrapped error itself, so the walk uses `get_ref` to descend.
fn walk(err: &(dyn StdError + 'static)) -> Findings {
    let mut found = Findings::default();
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    let mut depth = 0;
    while let Some(e) = next {
        depth += 1;
        if depth > 32 {
            break;
        }
        found.root = e.to_string();
        if let Some(via) = e.downcast_ref::<crate::connect::ViaProxy>() {
            found.proxy.get_or_insert_with(|| via.proxy.clone());
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            found.tls.get_or_insert_with(|| tls.to_string());
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            found.hyper_timeout |= h.is_timeout();
            found.hyper_parse |= h.is_parse() || h.is_parse_status();
            found.hyper_user |= h.is_user();
        }
        next = match e.downcast_ref::<io::Error>() {
            Some(io_err) => {
                // The innermost kind wins: an outer `Other` often wraps the real one.
                if io_err.kind() != io::ErrorKind::Other || found.io_kind.is_none() {
                    found.io_kind = Some(io_err.kind());
                }
                io_err
                    .get_ref()
                    .map(|inner| inner as &(dyn StdError + 'static))
            }
            None => e.source(),
        };
    }
    found
}

/// Classifies an error of the pooled client (`hyper_util::client::legacy::Error`) for a request
/// to `authority` (host and port, never credentials).
pub(crate) fn from_client(
    err: hyper_util::client::legacy::Error,
    authority: &str,
    connect_timeout: Option<Duration>,
    no_roots: bool,
) -> TransportError {
    let found = walk(&err);
    let kind = if found.tls.is_some() {
        TransportErrorKind::Tls
    } else if err.is_connect() {
        TransportErrorKind::Connect
    } else {
        kind_after_connect(&found, false)
    };
    let message = match (&found.tls, kind) {
        (Some(tls), _) if err.is_connect() && no_roots => format!(
            "handshake with {authority} failed: {tls} (no root certificate is trusted: enable \
             the `webpki-roots` or `native-roots` feature of chat-hyper, or add one with \
             add_root_certificate)"
        ),
        (Some(tls), _) if err.is_connect() => format!("handshake with {authority} failed: {tls}"),
        (Some(tls), _) => format!("connection to {authority}: {tls}"),
        (None, TransportErrorKind::Connect) if found.io_kind == Some(io::ErrorKind::TimedOut) => {
            match connect_timeout {
                Some(t) => format!("connecting to {authority} timed out after {t:?}"),
                None => format!("connecting to {authority} timed out"),
            }
        }
        (None, TransportErrorKind::Connect) => match &found.proxy {
            Some(proxy) => format!(
                "connecting to {authority} through the proxy {proxy}: {}",
                found.root
            ),
            None => format!("connecting to {authority}: {}", found.root),
        },
        (None, TransportErrorKind::Protocol) => {
            format!("invalid HTTP response from {authority}: {}", found.root)
        }
        (None, TransportErrorKind::Timeout) => {
            format!("waiting for the response from {authority}: {}", found.root)
        }
        // Before the response head (reset, closed, EOF): name the host, as connect errors do.
        _ => format!("sending the request to {authority}: {}", found.root),
    };
    TransportError::new(kind, message).with_source(err)
}

/// Classifies an error met while reading a response body.
pub(crate) fn from_body(err: hyper::Error) -> TransportError {
    let found = walk(&err);
    let kind = if found.tls.is_some() {
        TransportErrorKind::Tls
    } else {
        kind_after_connect(&found, true)
    };
    let message = format!("reading the response body failed: {}", found.root);
    TransportError::new(kind, message).with_source(err)
}

/// The kind of a failure on an established connection; `in_body` when reading the body.
fn kind_after_connect(found: &Findings, in_body: bool) -> TransportErrorKind {
    if found.hyper_timeout || found.io_kind == Some(io::ErrorKind::TimedOut) {
        TransportErrorKind::Timeout
    } else if found.hyper_parse || (in_body && is_invalid_data(found)) {
        // The server's bytes are not HTTP (status line, headers, chunked framing): the same
        // bytes will come again, so this is not retried.
        TransportErrorKind::Protocol
    } else if found.hyper_user {
        TransportErrorKind::Other
    } else {
        // I/O errors and hyper's own errors after the connection was made (closed, canceled,
        // incomplete message, HTTP/2 resets) are all failures of an established connection.
        TransportErrorKind::Io
    }
}

/// Whether the I/O error in the chain says the bytes were invalid (hyper's chunked decoder
/// reports bad chunk sizes and framing this way).
fn is_invalid_data(found: &Findings) -> bool {
    matches!(
        found.io_kind,
        Some(io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("outer")
        }
    }
    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn walk_descends_into_io_errors_to_find_rustls() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let inner = io::Error::new(io::ErrorKind::InvalidData, tls);
        let err = Outer(io::Error::other(inner));
        let found = walk(&err);
        assert_eq!(
            found.tls.as_deref(),
            Some("invalid peer certificate: UnknownIssuer")
        );
        assert_eq!(found.io_kind, Some(io::ErrorKind::InvalidData));
    }

    #[test]
    fn walk_reports_timed_out_io_kind() {
        let err = Outer(io::Error::new(io::ErrorKind::TimedOut, "connect timeout"));
        let found = walk(&err);
        assert_eq!(found.io_kind, Some(io::ErrorKind::TimedOut));
        assert!(found.tls.is_none());
        assert_eq!(found.root, "connect timeout");
        assert_eq!(
            kind_after_connect(&found, false),
            TransportErrorKind::Timeout
        );
    }
}
