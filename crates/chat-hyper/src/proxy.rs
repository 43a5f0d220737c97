//! Proxy settings, turned into hyper-util's `Matcher` (which also implements `NO_PROXY`).

use std::fmt;

use chat_core::Error;
use hyper_util::client::proxy::matcher::Matcher;

/// Which HTTP proxy the transport uses, set with
/// [`HyperTransportBuilder::proxy`](crate::HyperTransportBuilder::proxy).
///
/// The default, [`Proxy::from_env`], reads `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and
/// `NO_PROXY` (or their lowercase forms) once, when the transport is built. Proxy URLs use the
/// `http://` scheme (a scheme-less `host:port` means `http://`); credentials go in the URL as
/// `http://user:password@proxy:3128` and are sent as `Proxy-Authorization: Basic`.
///
/// `https://` destinations are reached through a CONNECT tunnel, so TLS stays end to end;
/// `http://` destinations are forwarded by the proxy.
#[derive(Clone)]
pub struct Proxy {
    mode: Mode,
}

#[derive(Clone)]
enum Mode {
    Env,
    None,
    Explicit {
        http: Option<String>,
        https: Option<String>,
        except: String,
    },
}

impl Proxy {
    /// Proxies from the environment variables (the default).
    pub fn from_env() -> Self {
        Proxy { mode: Mode::Env }
    }

    /// No proxy at all, whatever the environment says.
    pub fn none() -> Self {
        Proxy { mode: Mode::None }
    }

    /// One proxy for `http://` and `https://` destinations.
    pub fn all(url: impl Into<String>) -> Self {
        let url = url.into();
        Proxy {
            mode: Mode::Explicit {
                http: Some(url.clone()),
                https: Some(url),
                except: String::new(),
            },
        }
    }

    /// A proxy for `http://` destinations only.
    pub fn http(url: impl Into<String>) -> Self {
        Proxy {
            mode: Mode::Explicit {
                http: Some(url.into()),
                https: None,
                except: String::new(),
            },
        }
    }

    /// A proxy for `https://` destinations only.
    pub fn https(url: impl Into<String>) -> Self {
        Proxy {
            mode: Mode::Explicit {
                http: None,
                https: Some(url.into()),
                except: String::new(),
            },
        }
    }

    /// Hosts to reach directly, in `NO_PROXY` syntax: a comma-separated list of domains (each
    /// also matching its subdomains), IP addresses, CIDR ranges, or `*` for all.
    ///
    /// Applies to explicitly configured proxies; environment proxies use `NO_PROXY`.
    pub fn except(mut self, no_proxy: impl Into<String>) -> Self {
        if let Mode::Explicit { except, .. } = &mut self.mode {
            *except = no_proxy.into();
        }
        self
    }

    /// Builds the matcher, validating explicit proxy URLs.
    pub(crate) fn matcher(&self) -> Result<Option<Matcher>, Error> {
        match &self.mode {
            Mode::None => Ok(None),
            Mode::Env => {
                // Checked now, like explicit proxies: an unusable proxy in the environment
                // (`ALL_PROXY=socks5://...`) would otherwise fail every request, retried.
                let matcher = Matcher::from_env();
                for probe in ["http://example.com/", "https://example.com/"] {
                    if let Some(scheme) = unsupported_scheme(&matcher, probe) {
                        return Err(Error::invalid_config(format!(
                            "the proxy set in the environment (HTTPS_PROXY, HTTP_PROXY or \
                             ALL_PROXY) uses the unsupported scheme `{scheme}`: only http:// \
                             proxies are supported; set an http:// proxy, or build the \
                             transport with Proxy::none()"
                        )));
                    }
                }
                Ok(Some(matcher))
            }
            Mode::Explicit {
                http,
                https,
                except,
            } => {
                let mut builder = Matcher::builder().no(except.as_str());
                if let Some(url) = http {
                    check_url(url, "http://example.com/")?;
                    builder = builder.http(url.as_str());
                }
                if let Some(url) = https {
                    check_url(url, "https://example.com/")?;
                    builder = builder.https(url.as_str());
                }
                Ok(Some(builder.build()))
            }
        }
    }
}

/// Checks that `url` parses as an `http://` proxy, the way the matcher will read it.
fn check_url(url: &str, probe: &'static str) -> Result<(), Error> {
    let matcher = Matcher::builder().all(url).build();
    if matcher.intercept(&http::Uri::from_static(probe)).is_none() {
        return Err(Error::invalid_config(
            "invalid proxy URL (expected http://[user:password@]host:port)",
        ));
    }
    match unsupported_scheme(&matcher, probe) {
        Some(scheme) => Err(Error::invalid_config(format!(
            "unsupported proxy scheme `{scheme}`: only http:// proxies are supported"
        ))),
        None => Ok(()),
    }
}

/// The scheme of the proxy `matcher` picks for `probe`, when it is not `http` (the only one
/// the connector speaks).
fn unsupported_scheme(matcher: &Matcher, probe: &'static str) -> Option<String> {
    let intercept = matcher.intercept(&http::Uri::from_static(probe))?;
    let scheme = intercept.uri().scheme_str().unwrap_or_default();
    (scheme != "http").then(|| scheme.to_owned())
}

impl Default for Proxy {
    fn default() -> Self {
        Proxy::from_env()
    }
}

impl fmt::Debug for Proxy {
    // Proxy URLs may carry credentials: show only which mode is in use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.mode {
            Mode::Env => f.write_str("Proxy::FromEnv"),
            Mode::None => f.write_str("Proxy::None"),
            Mode::Explicit { http, https, .. } => f
                .debug_struct("Proxy::Explicit")
                .field("http", &http.is_some())
                .field("https", &https.is_some())
                .finish_non_exhaustive(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intercepts(proxy: &Proxy, dst: &str) -> Option<String> {
        let m = proxy.matcher().unwrap()?;
        m.intercept(&dst.parse().unwrap())
            .map(|i| i.uri().to_string())
    }

    #[test]
    fn explicit_proxies_route_by_scheme_and_honour_exceptions() {
        let p = Proxy::all("http://proxy.test:3128").except("internal.test, 10.0.0.0/8");
        assert_eq!(
            intercepts(&p, "https://api.openai.com/v1").as_deref(),
            Some("http://proxy.test:3128/")
        );
        assert_eq!(intercepts(&p, "http://a.internal.test/"), None);
        assert_eq!(intercepts(&p, "http://10.1.2.3:8000/"), None);

        let p = Proxy::https("proxy.test:8080");
        assert!(intercepts(&p, "https://x.test/").is_some());
        assert_eq!(intercepts(&p, "http://x.test/"), None);
        assert!(Proxy::none().matcher().unwrap().is_none());
    }

    #[test]
    fn bad_proxy_urls_are_config_errors() {
        let err = Proxy::all("socks5://127.0.0.1:1080").matcher().unwrap_err();
        assert!(
            err.to_string().contains("unsupported proxy scheme"),
            "{err}"
        );
        let err = Proxy::all("https://proxy.test").matcher().unwrap_err();
        assert!(err.to_string().contains("only http://"), "{err}");
        let err = Proxy::http("http://exa mple").matcher().unwrap_err();
        assert!(err.to_string().contains("invalid proxy URL"), "{err}");
    }

    #[test]
    fn debug_hides_credentials() {
        let p = Proxy::all("http://user:hunter2@proxy.test:3128");
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("user"),
            "{shown}"
        );
    }
}
