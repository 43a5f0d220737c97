//! Runs every example as a user would (`cargo run --example ...`) against the built-in mock
//! and checks what it prints, so the commands in `examples/README.md` keep working.
//!
//! The variables that would send an example to a real server are removed from its
//! environment.

use std::path::Path;
use std::process::Command;

/// Variables that point examples at a real server.
const API_VARS: &[&str] = &[
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_DEPLOYMENT",
];

/// One run of an example and what its output must (and must not) contain.
struct Case {
    example: &'static str,
    args: &'static [&'static str],
    success: bool,
    stdout: &'static [&'static str],
    stderr: &'static [&'static str],
    absent: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        example: "chat",
        args: &["What is Rust?"],
        success: true,
        stdout: &["This is chat-mock answering \"What is Rust?\" offline"],
        stderr: &["note: OPENAI_API_KEY is not set", "tokens: 3 prompt + "],
        absent: &[],
    },
    Case {
        example: "chat",
        args: &["--no-stream", "--json", "Hi"],
        success: true,
        stdout: &["\"object\": \"chat.completion\"", "\"total_tokens\""],
        stderr: &["tokens: 1 prompt + "],
        absent: &[],
    },
    Case {
        example: "chat",
        args: &["--bogus"],
        success: false,
        stdout: &[],
        stderr: &["error: unknown option `--bogus`; see --help"],
        absent: &[],
    },
    Case {
        example: "completion",
        args: &[],
        success: true,
        stdout: &[
            "Every value in Rust has exactly one owner",
            "request id: req_mock_0",
        ],
        stderr: &[],
        absent: &[],
    },
    Case {
        example: "streaming_events",
        args: &[],
        success: true,
        stdout: &[
            "content delta    \" Paris.\"",
            "tool call done   #0 get_weather({\"city\": \"Paris\"})",
            "usage            tokens: 71 prompt + 24 completion = 95 total",
            "completed        chatcmpl-mock-0",
        ],
        stderr: &[],
        absent: &[],
    },
    Case {
        example: "tool_calling",
        args: &[],
        success: true,
        stdout: &["answer       Here is the weather right now. Paris: 18 °C, sunny; Tokyo: 24 °C"],
        stderr: &[],
        absent: &[],
    },
    Case {
        example: "structured_output",
        args: &[],
        success: true,
        stdout: &["Simple pancakes (serves 4)", "  - flour: 200 g"],
        stderr: &[],
        absent: &[],
    },
    Case {
        example: "typed_output",
        args: &[],
        success: true,
        stdout: &[
            "streaming   sight 1: Belém Tower",
            "  3. Gulbenkian Museum (Museum)",
            "best month: May",
        ],
        stderr: &[],
        absent: &[],
    },
    Case {
        example: "tool_runner",
        args: &[],
        success: true,
        stdout: &[
            "round 2      to_fahrenheit({\"celsius\":24.0}) -> {\"fahrenheit\":75.2}",
            "answer       Paris: 18 °C, sunny. Tokyo: 24 °C (75.2 °F), light rain.",
            "3 rounds, 6 messages in the conversation",
        ],
        stderr: &[],
        absent: &[],
    },
    Case {
        example: "image_input",
        args: &[],
        success: true,
        stdout: &["I received 2 image(s)", "an inline image/png of 74 bytes"],
        stderr: &[],
        absent: &[],
    },
    Case {
        example: "custom_transport",
        args: &[],
        success: true,
        stdout: &[
            "streamed: This answer was streamed chunk by chunk through TinyHttp.",
            "-> 200 OK text/event-stream",
            "the mock server received 2 requests",
        ],
        stderr: &["loopback server at http://127.0.0.1:"],
        absent: &[],
    },
    Case {
        example: "testing_with_mock",
        args: &[],
        success: true,
        stdout: &["order bot: Your order A-1001 has shipped with DHL"],
        stderr: &[],
        absent: &[],
    },
    Case {
        example: "azure",
        args: &[],
        success: true,
        stdout: &[
            "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21",
            "api-key: [redacted]",
            "authorization: [redacted]",
            "the token provider was asked 1 time(s)",
        ],
        stderr: &[],
        absent: &["demo-azure-key", "demo-entra-token"],
    },
    Case {
        example: "compatible_server",
        args: &[],
        success: true,
        stdout: &[
            "\"top_k\": 40",
            "\"allow_fallbacks\": false",
            "`reasoning_content`",
        ],
        stderr: &[],
        absent: &["sk-or-demo-key"],
    },
];

/// Builds the examples, runs each case and checks its exit status and output.
pub(crate) fn run(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(&cargo)
        .args(["build", "--quiet", "-p", "chat-examples", "--examples"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !build.success() {
        return Err("building the examples failed".into());
    }
    let mut failures = Vec::new();
    for case in CASES {
        let mut cmd = Command::new(&cargo);
        cmd.args([
            "run",
            "--quiet",
            "-p",
            "chat-examples",
            "--example",
            case.example,
            "--",
        ])
        .args(case.args)
        .current_dir(root);
        for var in API_VARS {
            cmd.env_remove(var);
        }
        let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        let name = format!("{} {}", case.example, case.args.join(" "));
        let mut problems = Vec::new();
        if out.status.success() != case.success {
            problems.push(format!("exited with {}", out.status));
        }
        for want in case.stdout {
            if !stdout.contains(want) {
                problems.push(format!("stdout lacks {want:?}"));
            }
        }
        for want in case.stderr {
            if !stderr.contains(want) {
                problems.push(format!("stderr lacks {want:?}"));
            }
        }
        for secret in case.absent {
            if stdout.contains(secret) || stderr.contains(secret) {
                problems.push(format!("the output shows {secret:?}"));
            }
        }
        if problems.is_empty() {
            println!("examples: {} ok", name.trim_end());
        } else {
            failures.push(format!(
                "{}: {}\n--- stdout\n{stdout}--- stderr\n{stderr}",
                name.trim_end(),
                problems.join("; ")
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("examples failed:\n{}", failures.join("\n")))
    }
}
