//! The dependency rule of the architecture, checked with `cargo metadata`.
//!
//! Each crate may depend only on what ARCHITECTURE.md allows, so the layering cannot rot.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// A crate's allowed normal (non-dev) dependencies. `optional` ones must be optional.
struct Rule {
    krate: &'static str,
    allowed: &'static [&'static str],
    /// Dependencies allowed only as optional (feature-gated) ones.
    optional_only: &'static [&'static str],
    /// Dependencies limited to some features (and no default features).
    features: &'static [(&'static str, &'static [&'static str])],
}

const RULES: &[Rule] = &[
    Rule {
        krate: "chat-types",
        // schemars: only behind the `schema` feature (strict schemas from Rust types).
        allowed: &["serde", "serde_json", "schemars"],
        optional_only: &["schemars"],
        features: &[],
    },
    Rule {
        krate: "chat-core",
        allowed: &[
            "chat-types",
            "http",
            "bytes",
            "async-trait",
            "tokio",
            "futures-core",
            "memchr",
            "serde",
            "serde_json",
            "serde_path_to_error",
            "httpdate",
            "percent-encoding",
            "tracing",
        ],
        optional_only: &["tracing"],
        features: &[("tokio", &["time"])],
    },
    Rule {
        krate: "chat-hyper",
        allowed: &[
            "chat-core",
            "hyper",
            "hyper-util",
            "hyper-rustls",
            "rustls",
            "rustls-pki-types",
            "rustls-pemfile",
            "rustls-native-certs",
            "webpki-roots",
            "http-body-util",
            "http",
            "bytes",
            "tokio",
            "futures-core",
            "tower-service",
            "async-compression",
        ],
        optional_only: &["async-compression"],
        features: &[("async-compression", &["tokio", "gzip", "brotli", "zstd"])],
    },
    Rule {
        krate: "chat-mock",
        allowed: &[
            "chat-core",
            "tokio",
            "http",
            "bytes",
            "serde",
            "serde_json",
            "futures-core",
            "async-trait",
            "hyper",
            "hyper-util",
            "http-body-util",
        ],
        optional_only: &["hyper", "hyper-util", "http-body-util"],
        features: &[],
    },
];

/// Checks every rule; returns all violations at once.
pub(crate) fn check(root: &Path) -> Result<(), String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cargo metadata printed invalid JSON: {e}"))?;
    let violations = violations(&meta)?;
    if violations.is_empty() {
        println!("tidy: dependency rules hold for {} crates", RULES.len());
        Ok(())
    } else {
        Err(format!(
            "dependency rule violated:\n  {}",
            violations.join("\n  ")
        ))
    }
}

fn violations(meta: &Value) -> Result<Vec<String>, String> {
    let packages = meta["packages"]
        .as_array()
        .ok_or("no packages in metadata")?;
    let mut out = Vec::new();
    for rule in RULES {
        let Some(pkg) = packages.iter().find(|p| p["name"] == rule.krate) else {
            continue; // a crate that does not exist yet has nothing to check
        };
        for dep in pkg["dependencies"].as_array().into_iter().flatten() {
            if !dep["kind"].is_null() {
                continue; // dev- and build-dependencies are not part of the rule
            }
            let name = dep["name"].as_str().unwrap_or("?");
            if !rule.allowed.contains(&name) {
                out.push(format!(
                    "{} depends on `{name}`, which it may not",
                    rule.krate
                ));
            } else if rule.optional_only.contains(&name) && dep["optional"] != true {
                out.push(format!(
                    "{} depends on `{name}` unconditionally; it must be optional (feature-gated)",
                    rule.krate
                ));
            }
            if let Some((_, allowed)) = rule.features.iter().find(|(d, _)| *d == name) {
                if dep["uses_default_features"] != false {
                    out.push(format!(
                        "{} must use `{name}` with default-features = false",
                        rule.krate
                    ));
                }
                for f in dep["features"].as_array().into_iter().flatten() {
                    let f = f.as_str().unwrap_or("?");
                    if !allowed.contains(&f) {
                        out.push(format!(
                            "{} enables feature `{f}` of `{name}`; only {allowed:?} are allowed",
                            rule.krate
                        ));
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workspace_follows_the_dependency_rules() {
        let root = crate::workspace_root();
        check(&root).unwrap();
    }

    #[test]
    fn a_forbidden_dependency_is_reported() {
        let meta = json!({"packages": [{
            "name": "chat-types",
            "dependencies": [
                {"name": "serde", "kind": null, "optional": false},
                {"name": "tokio", "kind": null, "optional": false},
                {"name": "proptest", "kind": "dev", "optional": false}
            ]
        }, {
            "name": "chat-mock",
            "dependencies": [{"name": "hyper", "kind": null, "optional": false}]
        }, {
            "name": "chat-core",
            "dependencies": [{"name": "tokio", "kind": null, "optional": false,
                "uses_default_features": false, "features": ["time", "net"]}]
        }]});
        let v = violations(&meta).unwrap();
        assert_eq!(v.len(), 3, "{v:?}");
        assert!(v[0].contains("chat-types depends on `tokio`"), "{v:?}");
        assert!(v[1].contains("enables feature `net` of `tokio`"), "{v:?}");
        assert!(v[2].contains("must be optional"), "{v:?}");
    }
}
