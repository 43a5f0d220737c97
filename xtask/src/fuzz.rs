//! `cargo xtask fuzz [--time SECONDS] [TARGET...]`: runs the cargo-fuzz targets of `fuzz/`.
//!
//! cargo-fuzz needs nightly-only compiler flags (`-Zsanitizer`); on a stable toolchain
//! `RUSTC_BOOTSTRAP=1` unlocks them, which is all this command adds to a plain `cargo fuzz
//! run`. Each target starts from its committed seeds (`fuzz/seeds/TARGET`, plus the test
//! fixtures) and grows a local corpus in `fuzz/corpus/TARGET` (git-ignored). A crash leaves its
//! input in `fuzz/artifacts/TARGET/`; turn it into a regression test (see SECURITY.md).

use std::path::Path;
use std::process::Command;

/// The targets, each with the extra seed directories (relative to `fuzz/`) it reads.
const TARGETS: &[(&str, &[&str])] = &[
    (
        "sse_decoder",
        &["../crates/chat-core/tests/fixtures/stream"],
    ),
    ("json_round_trip", &["../crates/chat-types/tests/fixtures"]),
    ("accumulator", &[]),
    (
        "stream_pipeline",
        &["../crates/chat-core/tests/fixtures/stream"],
    ),
];

/// Runs `args` (`--time N` and target names; all targets when none is named).
pub(crate) fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let mut seconds: u64 = 60;
    let mut chosen = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--time" => {
                let value = it.next().ok_or("`--time` needs a number of seconds")?;
                seconds = value
                    .parse()
                    .map_err(|_| format!("`--time {value}`: not a number of seconds"))?;
            }
            name => match TARGETS.iter().find(|(t, _)| *t == name) {
                Some(target) => chosen.push(*target),
                None => {
                    let names: Vec<&str> = TARGETS.iter().map(|(t, _)| *t).collect();
                    return Err(format!(
                        "unknown fuzz target `{name}`; targets: {}",
                        names.join(", ")
                    ));
                }
            },
        }
    }
    if chosen.is_empty() {
        chosen = TARGETS.to_vec();
    }
    ensure_cargo_fuzz()?;
    let dir = root.join("fuzz");
    for (target, extra) in chosen {
        let corpus = format!("corpus/{target}");
        std::fs::create_dir_all(dir.join(&corpus))
            .map_err(|e| format!("cannot create fuzz/{corpus}: {e}"))?;
        let seeds = format!("seeds/{target}");
        let time = format!("-max_total_time={seconds}");
        let mut cmd_args = vec!["fuzz", "run", target, &corpus, &seeds];
        cmd_args.extend_from_slice(extra);
        cmd_args.extend_from_slice(&["--", &time, "-print_final_stats=1"]);
        println!("==> fuzz {target} for {seconds}s");
        crate::run(&dir, "cargo", &cmd_args, &[("RUSTC_BOOTSTRAP", "1")]).map_err(|e| {
            format!("{e}\nthe failing input is in fuzz/artifacts/{target}/: add it as a regression test")
        })?;
    }
    Ok(())
}

/// Installs cargo-fuzz when `cargo fuzz` is not available.
fn ensure_cargo_fuzz() -> Result<(), String> {
    let found = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Ok(());
    }
    println!("==> cargo install cargo-fuzz");
    crate::run(Path::new("."), "cargo", &["install", "cargo-fuzz"], &[])
}
