//! `cargo xtask compat`: runs the official OpenAI libraries, unchanged, against chat-mock's
//! loopback server, so the claim that any client can use `MockServer` stays true.
//!
//! For each library (Python `openai` from PyPI, Node `openai` from npm, pinned in
//! `crates/chat-mock/compat/`) it installs the pinned versions under the target directory
//! (once; later runs reuse them), starts `mock_server --compat`, runs the library's script
//! with `OPENAI_BASE_URL` pointing at the server, then closes the server's stdin so it checks
//! that its script was followed. A script or server failure fails the command; a failed
//! install (no network, registry down) or a missing interpreter prints a `SKIPPED` line
//! instead. Every child process is killed if it outlives its time limit, and the server is
//! killed on every way out.
//!
//! Then the contract test: the project's client (`contract_client`, chat-core on chat-hyper)
//! sends every operation to Steady (`@stdy/cli`, pinned with the Node library), a mock server
//! driven by `spec/openapi.yaml` that reports whether each request matches the spec. It is
//! skipped, with the reason, when Steady could not be installed.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Time limits for the child processes.
const BUILD_TIMEOUT: Duration = Duration::from_secs(900);
const SETUP_TIMEOUT: Duration = Duration::from_secs(120);
const INSTALL_TIMEOUT: Duration = Duration::from_secs(300);
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(30);
const SERVER_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Steady parses the whole OpenAPI spec before it listens.
const STEADY_START_TIMEOUT: Duration = Duration::from_secs(90);

/// The API key the scripts send and the server's script expects.
const API_KEY: &str = "sk-compat-test";

/// Where the scripts and pinned versions live, relative to the workspace root.
const COMPAT_DIR: &str = "crates/chat-mock/compat";

/// How one library's run ended.
enum Outcome {
    Passed(String),
    Skipped(String),
    Failed(String),
}

/// Builds the server, then runs the Python and the Node library against it.
pub(crate) fn run(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    let [server, contract_client] = build_examples(root, ["mock_server", "contract_client"])?;
    let target = target_dir(root)?;
    let dir = root.join(COMPAT_DIR);

    let mut failures = Vec::new();
    for (name, outcome) in [
        ("python", python(&dir, &target, &server)),
        ("node", node(&dir, &target, &server)),
        ("contract", contract(root, &target, &contract_client)),
    ] {
        match outcome {
            Outcome::Passed(summary) => println!("compat: {summary}"),
            Outcome::Skipped(reason) => println!("compat: SKIPPED {name} ({reason})"),
            Outcome::Failed(report) => {
                println!("compat: FAILED {name}");
                failures.push(format!("{name}: {report}"));
            }
        }
    }
    println!("compat: done in {:.1?}", started.elapsed());
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the OpenAI libraries failed against the mock server:\n{}",
            failures.join("\n")
        ))
    }
}

/// The Python library, in a virtualenv under the target directory.
fn python(dir: &Path, target: &Path, server: &Path) -> Outcome {
    let venv = target.join("compat-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        let mut cmd = Command::new("python3");
        cmd.arg("-m").arg("venv").arg(&venv);
        match run_bounded(&mut cmd, SETUP_TIMEOUT) {
            Ok(out) if out.success => {}
            Ok(out) => {
                return Outcome::Skipped(format!(
                    "cannot create a virtualenv with python3: {}",
                    out.reason()
                ))
            }
            Err(e) => return Outcome::Skipped(format!("cannot run python3: {e}")),
        }
    }
    let requirements = dir.join("requirements.txt");
    let stamp = venv.join("compat-requirements.txt");
    if let Err(e) = install_once(std::slice::from_ref(&requirements), &stamp, || {
        let mut cmd = Command::new(&python);
        cmd.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg("-r")
        .arg(&requirements);
        cmd
    }) {
        return Outcome::Skipped(format!("could not install openai from PyPI: {e}"));
    }
    let mut cmd = Command::new(&python);
    cmd.arg(dir.join("openai_compat.py")).current_dir(dir);
    run_script(cmd, server)
}

/// The Node library, installed with `npm ci` into a copy of the compat directory under the
/// target directory (so no `node_modules` appears in the source tree).
fn node(dir: &Path, target: &Path, server: &Path) -> Outcome {
    if let Err(e) = run_bounded(Command::new("node").arg("--version"), SETUP_TIMEOUT) {
        return Outcome::Skipped(format!("cannot run node: {e}"));
    }
    let work = target.join("compat-node");
    if let Err(e) = std::fs::create_dir_all(&work) {
        return Outcome::Failed(format!("cannot create {}: {e}", work.display()));
    }
    for file in ["package.json", "package-lock.json", "openai_compat.mjs"] {
        if let Err(e) = std::fs::copy(dir.join(file), work.join(file)) {
            return Outcome::Failed(format!("cannot copy {file} to {}: {e}", work.display()));
        }
    }
    let manifests = [work.join("package.json"), work.join("package-lock.json")];
    let stamp = work.join("node_modules").join("compat-lock.json");
    if let Err(e) = install_once(&manifests, &stamp, || {
        let mut cmd = Command::new("npm");
        cmd.args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&work);
        cmd
    }) {
        return Outcome::Skipped(format!("could not install openai from npm: {e}"));
    }
    let mut cmd = Command::new("node");
    cmd.arg("openai_compat.mjs").current_dir(&work);
    run_script(cmd, server)
}

/// The project's client against Steady serving the OpenAPI spec (installed by [`node`]).
fn contract(root: &Path, target: &Path, client: &Path) -> Outcome {
    let packages = target.join("compat-node/node_modules/@stdy");
    let Some(steady) = steady_binary(&packages) else {
        return Outcome::Skipped(format!(
            "Steady (@stdy/cli) is not installed under {} for this platform; it comes with \
             the Node install",
            packages.display()
        ));
    };
    let spec = root.join("spec/openapi.yaml");
    let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => return Outcome::Failed(format!("no free port on 127.0.0.1: {e}")),
    };
    let mut cmd = Command::new(&steady);
    cmd.args(["--host", "127.0.0.1", "-p", &port.to_string()])
        .arg("--no-color")
        .arg("--log-format=text")
        // The official SDKs send object query parameters as `metadata[key]=value`.
        .arg("--validator-query-object-format=brackets")
        .arg(&spec)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => KillOnDrop(c),
        Err(e) => return Outcome::Skipped(format!("cannot run Steady: {e}")),
    };
    let (tx, lines) = mpsc::channel();
    for pipe in [
        child
            .0
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .0
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let deadline = Instant::now() + STEADY_START_TIMEOUT;
    let mut log = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let ready = line.contains("Ready to accept requests");
                log.push(line);
                if ready {
                    break;
                }
            }
            Err(_) => {
                return Outcome::Failed(format!(
                    "Steady did not start within {STEADY_START_TIMEOUT:?}:\n{}",
                    log.join("\n")
                ))
            }
        }
    }
    let mut cmd = Command::new(client);
    cmd.env("OPENAI_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("OPENAI_API_KEY", API_KEY)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    for (key, _) in std::env::vars_os() {
        let upper = key.to_string_lossy().to_ascii_uppercase();
        if (upper.starts_with("OPENAI_") && upper != "OPENAI_BASE_URL" && upper != "OPENAI_API_KEY")
            || matches!(upper.as_str(), "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY")
        {
            cmd.env_remove(&key);
        }
    }
    let out = run_bounded(&mut cmd, SCRIPT_TIMEOUT);
    drop(child);
    log.extend(lines.try_iter());
    match out {
        Ok(out) if out.success => {
            let line = out.stdout.lines().last().unwrap_or_default();
            Outcome::Passed(line.trim_start_matches("contract: ").to_owned())
        }
        Ok(out) => Outcome::Failed(format!(
            "the contract client exited with {}\n--- client\n{}{}--- Steady\n{}",
            out.status,
            out.stdout,
            out.stderr,
            log.join("\n")
        )),
        Err(e) => Outcome::Failed(e),
    }
}

/// Steady's native executable, from its platform package (such as `@stdy/cli-linux-x64`).
/// It is run directly, not through the `steady` Node wrapper, whose child would outlive a
/// kill of the wrapper.
fn steady_binary(packages: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(packages).ok()?;
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("cli-"))
        .flat_map(|e| {
            let bin = e.path().join("bin");
            [bin.join("steady"), bin.join("steady.exe")]
        })
        .find(|p| p.is_file())
}

/// A child process killed when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Runs `install` unless `stamp` holds the contents of `manifests` from the last successful
/// install, then writes the stamp. Errs with the installer's last words.
fn install_once(
    manifests: &[PathBuf],
    stamp: &Path,
    install: impl FnOnce() -> Command,
) -> Result<(), String> {
    let mut wanted = String::new();
    for m in manifests {
        let text =
            std::fs::read_to_string(m).map_err(|e| format!("cannot read {}: {e}", m.display()))?;
        wanted.push_str(&text);
    }
    if std::fs::read_to_string(stamp).is_ok_and(|s| s == wanted) {
        return Ok(());
    }
    let out = run_bounded(&mut install(), INSTALL_TIMEOUT)?;
    if !out.success {
        return Err(out.reason());
    }
    std::fs::write(stamp, wanted).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

/// Starts a fresh server, runs the script against it, then has the server check its script.
fn run_script(mut cmd: Command, server: &Path) -> Outcome {
    let mut server = match Server::start(server) {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(e),
    };
    cmd.env("OPENAI_BASE_URL", &server.base_url)
        .env("OPENAI_API_KEY", API_KEY);
    // Nothing else may redirect the client: other OpenAI settings, or a proxy for loopback.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let upper = key.to_ascii_uppercase();
        if (upper.starts_with("OPENAI_") && upper != "OPENAI_BASE_URL" && upper != "OPENAI_API_KEY")
            || matches!(upper.as_str(), "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY")
        {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    let script = run_bounded(&mut cmd, SCRIPT_TIMEOUT);
    let verdict = server.finish();
    match (script, verdict) {
        (Ok(out), Ok(summary)) if out.success => {
            let line = out.stdout.lines().last().unwrap_or_default().to_owned();
            Outcome::Passed(format!("{line} ({summary})"))
        }
        (Ok(out), verdict) => {
            let what = if out.success {
                "the script passed but the server's script was not followed".to_owned()
            } else {
                format!("the script exited with {}", out.status)
            };
            Outcome::Failed(format!(
                "{what}\n--- script stdout\n{}--- script stderr\n{}--- server\n{}",
                out.stdout,
                out.stderr,
                verdict.unwrap_or_else(|e| e)
            ))
        }
        (Err(e), verdict) => Outcome::Failed(format!(
            "{e}\n--- server\n{}",
            verdict.unwrap_or_else(|e| e)
        )),
    }
}

/// `mock_server --compat`, killed when dropped.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    base_url: String,
}

impl Server {
    fn start(program: &Path) -> Result<Server, String> {
        let mut child = Command::new(program)
            .arg("--compat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let (tx, lines) = mpsc::channel();
        if let Some(stdout) = stdout {
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut server = Server {
            child,
            stdin,
            lines,
            base_url: String::new(),
        };
        match server.lines.recv_timeout(SERVER_START_TIMEOUT) {
            Ok(line) if line.starts_with("http://127.0.0.1:") => {
                server.base_url = line;
                Ok(server)
            }
            Ok(line) => Err(format!("the mock server printed {line:?}, not its URL")),
            Err(_) => Err("the mock server printed no URL".into()),
        }
    }

    /// Closes the server's stdin, which makes it check its script and exit; returns its
    /// summary, or everything it printed if the script was not followed.
    fn finish(&mut self) -> Result<String, String> {
        drop(self.stdin.take());
        let status = wait_bounded(&mut self.child, SERVER_STOP_TIMEOUT);
        let deadline = Instant::now() + SERVER_STOP_TIMEOUT;
        let mut printed = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => printed.push(line),
                Err(RecvTimeoutError::Disconnected | RecvTimeoutError::Timeout) => break,
            }
        }
        match status {
            Ok(s) if s.success() => Ok(printed
                .last()
                .map(|l| l.trim_start_matches("mock_server: ").to_owned())
                .unwrap_or_default()),
            Ok(s) => Err(format!("exited with {s}:\n{}", printed.join("\n"))),
            Err(e) => Err(format!("{e}\n{}", printed.join("\n"))),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits for `child` at most `timeout`; kills it after that.
fn wait_bounded(child: &mut Child, timeout: Duration) -> Result<std::process::ExitStatus, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("killed after {timeout:?}"));
            }
            Err(e) => return Err(format!("cannot wait for a child process: {e}")),
        }
    }
}

/// What a finished command printed.
struct Output {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

impl Output {
    /// A one-line reason for a failure: the first lines that mention an error, else the last
    /// lines it printed.
    fn reason(&self) -> String {
        let all = format!("{}{}", self.stdout, self.stderr);
        let lines: Vec<&str> = all
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let errors: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.to_ascii_lowercase().contains("error"))
            .take(4)
            .collect();
        let picked = if errors.is_empty() {
            &lines[lines.len().saturating_sub(3)..]
        } else {
            &errors[..]
        };
        if picked.is_empty() {
            format!("exited with {}", self.status)
        } else {
            picked.join(" | ")
        }
    }
}

/// Runs `cmd` with its output captured, killing it after `timeout`.
fn run_bounded(cmd: &mut Command, timeout: Duration) -> Result<Output, String> {
    let name = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let status = wait_bounded(&mut child, timeout);
    // A grandchild may keep a pipe open; do not wait for it forever.
    let collect = |rx: Receiver<Vec<u8>>| {
        let bytes = rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let (stdout, stderr) = (collect(stdout), collect(stderr));
    match status {
        Ok(status) => Ok(Output {
            success: status.success(),
            status: status.to_string(),
            stdout,
            stderr,
        }),
        Err(e) => Err(format!(
            "{name} {e}\n--- stdout\n{stdout}--- stderr\n{stderr}"
        )),
    }
}

fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
    }
    rx
}

/// Builds chat-mock's examples `names` (with the `server` feature) and returns the paths of
/// their executables, in the same order.
fn build_examples<const N: usize>(root: &Path, names: [&str; N]) -> Result<[PathBuf; N], String> {
    println!("compat: building {}", names.join(" and "));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--quiet",
        "-p",
        "chat-mock",
        "--features",
        "server",
    ]);
    for n in names {
        cmd.args(["--example", n]);
    }
    cmd.arg("--message-format=json-render-diagnostics")
        .current_dir(root);
    let out = run_bounded(&mut cmd, BUILD_TIMEOUT)?;
    let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    if !out.success {
        return Err(format!("building the examples exited with {}", out.status));
    }
    let artifacts: Vec<Value> = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .collect();
    let mut paths = Vec::with_capacity(N);
    for n in names {
        let path = artifacts
            .iter()
            .filter(|m| m["target"]["name"] == n)
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .ok_or_else(|| format!("cargo built no {n} executable"))?;
        paths.push(path);
    }
    paths
        .try_into()
        .map_err(|_| "wrong number of executables".to_owned())
}

/// The workspace's target directory, as cargo sees it (honours `CARGO_TARGET_DIR`).
fn target_dir(root: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root);
    let out = run_bounded(&mut cmd, SETUP_TIMEOUT)?;
    if !out.success {
        return Err(format!("cargo metadata failed: {}", out.reason()));
    }
    let meta: Value =
        serde_json::from_str(&out.stdout).map_err(|e| format!("bad cargo metadata: {e}"))?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata has no target_directory".into())
}
