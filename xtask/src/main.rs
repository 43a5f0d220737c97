//! CI chores for the workspace (the cargo-xtask convention): `cargo xtask <command>`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod bench;
mod compat;
mod examples;
mod fuzz;
mod spec;
mod tidy;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci             everything CI runs: fmt, clippy, tests (incl. doctests), docs, tidy, spec checks
  bench [--quick]  CPU benchmarks and the loopback load test side by side with raw
                 hyper/serde_json and async-openai; writes crates/chat-bench/RESULTS.md
  compat         run the official OpenAI Python and Node libraries against chat-mock's server
  examples       run every example against the mock and check its output
  fuzz [--time N] [TARGET...]
                 run the cargo-fuzz targets of fuzz/ for N seconds each (default 60; all
                 targets unless named); installs cargo-fuzz if needed, works on stable
  tidy           check the crate dependency rules with cargo metadata
  spec-extract   regenerate spec/chat-completions.schema.json from spec/openapi.yaml
  spec-check     fail if spec/chat-completions.schema.json is stale
  spec-coverage  print how many spec property paths chat-types models; fail below 100%
  fmt            format the workspace
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(&root),
        Some("tidy") => tidy::check(&root),
        Some("examples") => examples::run(&root),
        Some("compat") => compat::run(&root),
        Some("fuzz") => fuzz::run(&root, &args[1..]),
        Some("bench") => bench::run(&root, args.iter().any(|a| a == "--quick")),
        Some("spec-extract") => spec::extract(&root),
        Some("spec-check") => spec::extract_check(&root),
        Some("spec-coverage") => spec::coverage(&root),
        Some("fmt") => run(&root, "cargo", &["fmt", "--all"], &[]),
        Some("help" | "-h" | "--help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn ci(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    step("fmt", || {
        run(root, "cargo", &["fmt", "--all", "--", "--check"], &[])
    })?;
    step("tidy", || tidy::check(root))?;
    step("spec-check", || spec::extract_check(root))?;
    step("clippy", || {
        run(
            root,
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        )
    })?;
    step("features", || check_feature_sets(root))?;
    step("test", || {
        run(
            root,
            "cargo",
            &["test", "--workspace", "--all-features"],
            &[],
        )
    })?;
    step("examples", || examples::run(root))?;
    step("compat", || compat::run(root))?;
    step("spec-coverage", || spec::coverage(root))?;
    step("doc", || {
        run(
            root,
            "cargo",
            &["doc", "--workspace", "--no-deps", "--all-features"],
            &[("RUSTDOCFLAGS", "-D warnings")],
        )
    })?;
    println!("xtask ci: all steps passed in {:.0?}", started.elapsed());
    Ok(())
}

/// Each library crate builds alone with its own feature sets (no help from workspace feature
/// unification): chat-types with plain serde and with `schema`, chat-core without tracing,
/// chat-hyper with either root store and with each compression feature alone, chat-mock
/// without its server.
fn check_feature_sets(root: &Path) -> Result<(), String> {
    let sets: &[&[&str]] = &[
        &["-p", "chat-types"],
        &["-p", "chat-types", "--features", "schema"],
        &["-p", "chat-core"],
        &["-p", "chat-core", "--features", "tracing"],
        &["-p", "chat-hyper", "--no-default-features"],
        &[
            "-p",
            "chat-hyper",
            "--no-default-features",
            "--features",
            "native-roots",
        ],
        &["-p", "chat-hyper", "--features", "gzip"],
        &["-p", "chat-hyper", "--features", "br"],
        &["-p", "chat-hyper", "--features", "zstd"],
        &["-p", "chat-mock"],
        &["-p", "chat-mock", "--features", "server"],
    ];
    for set in sets {
        let mut args = vec!["check", "--quiet"];
        args.extend_from_slice(set);
        run(root, "cargo", &args, &[])?;
    }
    Ok(())
}

fn step(name: &str, f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    println!("==> {name}");
    let t = Instant::now();
    let r = f().map_err(|e| format!("step `{name}` failed: {e}"));
    println!("<== {name} ({:.1?})", t.elapsed());
    r
}

/// Runs a command in `dir`, inheriting stdio; fails on a non-zero exit.
fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{program} {}` exited with {status}",
            args.join(" ")
        ))
    }
}
