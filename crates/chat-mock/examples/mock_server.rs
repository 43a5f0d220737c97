//! A scripted Chat Completions server on 127.0.0.1 for apps written with any client.
//!
//! Run with `cargo run -p chat-mock --features server --example mock_server`, then point a
//! client at the base URL printed on the first line of stdout (for example
//! `OPENAI_BASE_URL=<url> OPENAI_API_KEY=x`). It answers every chat completion in demo mode
//! (`MockResponse::demo`): text that echoes the last user message, JSON that validates
//! against a `json_schema` response format, tool calls with valid arguments when tools are
//! offered and text once their results come back, `n` choices, logprobs, token limits,
//! streamed or not as asked; `store: true` completions can be listed, fetched, updated and
//! deleted. Stop it with Ctrl-C.
//!
//! With `-- --compat` it serves the script of `cargo xtask compat` instead, which runs the
//! official OpenAI libraries against it (`crates/chat-mock/compat/`): each answer is served
//! once, only to the request the script expects. It serves until its stdin closes, then
//! prints a summary and exits with 1 if a scripted answer went unused or a request matched
//! no rule.
//!
//! With `-- --cassette FILE [--match-requests]` it serves the answers of a cassette (a file
//! written by `RecordingTransport::save`, or by hand in the same JSON format), in order or to
//! the request with the same method, path and body: teams whose app is not in Rust script
//! the server by editing that file. It serves until its stdin closes, then exits with 1 if an
//! answer went unused or a request found none.

use std::io::Read;
use std::process::ExitCode;

use chat_mock::{
    Match, MockResponse, MockServer, MockStream, MockTransport, ReplayOrder, ReplayTransport,
};
use serde_json::json;

/// What to serve.
enum Script {
    Demo,
    Compat,
    Cassette(String, ReplayOrder),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let script = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => Script::Demo,
        ["--compat"] => Script::Compat,
        ["--cassette", path] => Script::Cassette(path.to_owned(), ReplayOrder::InOrder),
        ["--cassette", path, "--match-requests"] => {
            Script::Cassette(path.to_owned(), ReplayOrder::MatchRequests)
        }
        _ => {
            eprintln!(
                "mock_server: unknown arguments {args:?} (try --compat, or --cassette FILE \
                 [--match-requests])"
            );
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mock_server: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match script {
        Script::Demo => runtime.block_on(serve_demo()),
        Script::Compat => serve_compat(&runtime),
        Script::Cassette(path, order) => match ReplayTransport::from_file(&path, order) {
            Ok(replay) => serve_until_stdin_closes(&runtime, replay.mock().clone()),
            Err(e) => {
                eprintln!("mock_server: cannot load the cassette {path}: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Answers every chat completion in demo mode, and the stored-completion operations, forever.
async fn serve_demo() -> ExitCode {
    let mock = MockTransport::demo();
    mock.check_on_drop(false);
    let server = MockServer::start(mock.clone()).await;
    println!("{}", server.base_url());
    std::future::pending::<ExitCode>().await
}

/// The API key the compatibility scripts send.
const COMPAT_KEY: &str = "sk-compat-test";

/// A chat request from a compatibility script whose last user message contains `text`.
fn ask(text: &str) -> Match {
    Match::chat()
        .model("gpt-4o-mini")
        .header("authorization", &format!("Bearer {COMPAT_KEY}"))
        .user_message_contains(text)
}

/// Scripts one answer for each call of `crates/chat-mock/compat/` (both scripts make the
/// same calls). The conditions check what the client sent; a request that meets none gets a
/// `500` naming the rules, which the client script reports.
fn compat_script(mock: &MockTransport) {
    let plain = ask("Say hello")
        .message_count(2)
        .json_pointer("/messages/0/role", json!("system"))
        .json_pointer("/temperature", json!(0.2))
        .json_pointer("/max_completion_tokens", json!(64))
        .json_pointer("/seed", json!(7))
        .stream(false);
    mock.on(plain).respond(
        MockResponse::text("Hello from chat-mock!")
            .id("chatcmpl-compat-plain")
            .usage(9, 4)
            .request_id("req_compat_plain"),
    );

    let streamed = ask("Tell a story")
        .stream(true)
        .json_pointer("/stream_options/include_usage", json!(true));
    mock.on(streamed).respond_stream(
        MockStream::pieces(["Once", " upon", " a", " time."])
            .id("chatcmpl-compat-stream")
            .usage(5, 4),
    );

    let tool_call = ask("weather in Paris")
        .message_count(1)
        .json_pointer("/tools/0/type", json!("function"))
        .json_pointer("/tools/0/function/name", json!("get_weather"))
        .json_pointer("/tools/0/function/parameters/required", json!(["city"]))
        .json_pointer("/tool_choice", json!("auto"))
        .stream(false);
    let paris = json!({"city": "Paris"});
    mock.on(tool_call)
        .respond(MockResponse::tool_call("get_weather", paris).usage(20, 8));

    // The client sends the call back, then the tool's result.
    let tool_result = ask("weather in Paris")
        .message_count(3)
        .json_pointer("/messages/1/role", json!("assistant"))
        .json_pointer("/messages/1/tool_calls/0/id", json!("call_mock_0"))
        .json_pointer(
            "/messages/1/tool_calls/0/function/arguments",
            json!("{\"city\":\"Paris\"}"),
        )
        .json_pointer("/messages/2/role", json!("tool"))
        .json_pointer("/messages/2/tool_call_id", json!("call_mock_0"))
        .json_pointer("/messages/2/content", json!("18 °C, sunny"))
        .stream(false);
    mock.on(tool_result)
        .respond(MockResponse::text("It is 18 °C and sunny in Paris."));

    let streamed_tool_call = ask("weather in Tokyo")
        .stream(true)
        .json_pointer("/tools/0/function/name", json!("get_weather"));
    let tokyo = json!({"city": "Tokyo", "unit": "celsius"});
    mock.on(streamed_tool_call)
        .respond_stream(MockStream::tool_call("get_weather", tokyo));

    // A rate limit the client retries on its own, after the 10 ms the server asks for.
    mock.on(ask("Retry me"))
        .respond(MockResponse::error(429).retry_after_ms(10));
    mock.on(ask("Retry me"))
        .respond(MockResponse::text("Answered after a rate limit."));

    let bad = MockResponse::error(400)
        .message("Invalid 'temperature': must be at most 2.")
        .param("temperature")
        .code("invalid_value")
        .request_id("req_compat_400");
    mock.on(ask("Bad request").json_pointer("/temperature", json!(3)))
        .respond(bad);

    // Structured outputs and strict tools from the libraries' parse helpers, answered in
    // demo mode from the schema each request carries.
    let parse = ask("Plan a trip")
        .json_pointer("/response_format/type", json!("json_schema"))
        .json_pointer("/response_format/json_schema/strict", json!(true))
        .stream(false);
    mock.on(parse).respond(MockResponse::demo());
    let forecast = ask("Forecast for the parse")
        .json_pointer("/tools/0/function/name", json!("GetForecast"))
        .json_pointer("/tools/0/function/strict", json!(true));
    mock.on(forecast).respond(MockResponse::demo());
    // Three stored completions; listing, fetching, updating and deleting them is answered
    // by the server's store.
    let store = ask("Store me")
        .json_pointer("/store", json!(true))
        .json_pointer("/metadata/suite", json!("compat"));
    mock.on(store).respond(MockResponse::demo()).times(3);

    // Two pieces of text (after the role chunk), then an error event instead of the end.
    let broken = MockResponse::error(500).message("The stream broke (chat-mock).");
    mock.on(ask("Break the stream").stream(true))
        .respond_stream(MockStream::pieces(["Partial", " answer"]).error_after(3, broken));
}

/// Serves the compatibility script until stdin closes, then checks it was followed.
fn serve_compat(runtime: &tokio::runtime::Runtime) -> ExitCode {
    let mock = MockTransport::new();
    compat_script(&mock);
    serve_until_stdin_closes(runtime, mock)
}

/// Serves `mock`'s script until stdin closes, then checks it was followed.
fn serve_until_stdin_closes(runtime: &tokio::runtime::Runtime, mock: MockTransport) -> ExitCode {
    mock.check_on_drop(false);
    let server = match runtime.block_on(MockServer::try_start(mock.clone())) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mock_server: cannot listen on 127.0.0.1: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", server.base_url());
    // The runtime's worker threads serve while this thread waits for the end of stdin.
    let _ = std::io::stdin().lock().read_to_end(&mut Vec::new());
    runtime.block_on(server.shutdown());

    let requests = mock.requests();
    let agent = requests
        .first()
        .and_then(|r| r.header("user-agent"))
        .unwrap_or("no user agent")
        .to_owned();
    match mock.verify() {
        Ok(()) => {
            println!(
                "mock_server: {} requests from {agent}, every answer used",
                requests.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!(
                "mock_server: the script was not followed ({} requests from {agent}):\n{e}",
                requests.len()
            );
            ExitCode::FAILURE
        }
    }
}
