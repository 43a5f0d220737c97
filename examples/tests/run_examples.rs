//! Runs every example's `run` function, as its `main` does, and checks the output.
//!
//! Each test passes an empty [`Env`] (or one pointing at a loopback `MockServer`), so an
//! `OPENAI_API_KEY` in the developer's shell can never send a test to the network. Tests
//! without sockets run on a paused clock, which skips the mock's streaming delays.

use std::io::Write;

use chat_core::types::CreateChatCompletionResponse;
use chat_core::{Client, Config, ErrorKind, TransportErrorKind};
use chat_examples::{
    azure, chat, completion, custom_transport, error_line, image_input, structured_output,
    tool_calling, tool_runner, Env, Error,
};
use chat_mock::{Match, MockResponse, MockServer, MockStream, MockTransport};
use serde_json::{json, Value};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The output of one run: stdout, stderr, and the result.
struct Run {
    out: String,
    err: String,
    result: Result<(), Error>,
}

impl Run {
    /// Panics with the run's stderr unless it succeeded.
    #[track_caller]
    fn ok(self) -> Run {
        if let Err(e) = &self.result {
            panic!(
                "the example failed: {}\nstderr:\n{}",
                error_line(e.as_ref()),
                self.err
            );
        }
        self
    }

    /// The error line of a failed run.
    #[track_caller]
    fn error(&self) -> String {
        match &self.result {
            Ok(()) => panic!("the example succeeded; stdout:\n{}", self.out),
            Err(e) => error_line(e.as_ref()),
        }
    }
}

/// Runs an example's `run(..., out, err)` call with captured output.
macro_rules! run {
    ($module:ident :: run ( $($arg:expr),* )) => {{
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let result = chat_examples::$module::run($($arg,)* &mut out, &mut err).await;
        Run {
            out: String::from_utf8(out).unwrap(),
            err: String::from_utf8(err).unwrap(),
            result,
        }
    }};
}

const MOCK_NOTE: &str = "note: OPENAI_API_KEY is not set, so the built-in mock (chat-mock) \
                         answers; set it to use the real API\n";

/// A writer that keeps every write separately, to see that text arrives in pieces.
#[derive(Default)]
struct Pieces {
    writes: Vec<String>,
    flushes: usize,
}

impl Write for Pieces {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writes.push(String::from_utf8_lossy(buf).into_owned());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.flushes += 1;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn chat_streams_the_mock_answer_word_by_word() {
    let question = "What is Rust?";
    let mut out = Pieces::default();
    let mut err = Vec::new();
    chat::run(&args(&[question]), &Env::empty(), &mut out, &mut err)
        .await
        .unwrap();

    let answer = chat::mock_answer(question);
    let words = answer.split_whitespace().count();
    assert_eq!(out.writes.concat(), format!("{answer}\n"));
    // One write and one flush per word, then the final newline.
    assert_eq!(out.writes.len(), words + 1, "{:?}", out.writes);
    assert_eq!(out.writes[0], "This");
    assert_eq!(out.writes[1], " is");
    assert!(out.flushes >= words);
    assert_eq!(
        String::from_utf8(err).unwrap(),
        format!(
            "{MOCK_NOTE}tokens: 3 prompt + {words} completion = {} total (gpt-4o-mini)\n",
            words + 3
        )
    );
}

#[tokio::test(start_paused = true)]
async fn chat_without_streaming_prints_the_whole_answer() {
    let run = run!(chat::run(
        &args(&["--no-stream", "Hello", "there"]),
        &Env::empty()
    ))
    .ok();
    let answer = chat::mock_answer("Hello there");
    assert_eq!(run.out, format!("{answer}\n"));
    assert!(run.err.starts_with(MOCK_NOTE), "{}", run.err);
    assert!(run.err.ends_with(" total (gpt-4o-mini)\n"), "{}", run.err);
}

#[tokio::test(start_paused = true)]
async fn chat_json_prints_only_the_final_response() {
    for stream in [true, false] {
        let mut list = vec!["--json", "--model=gpt-test", "--system", "Be brief.", "Hi!"];
        if !stream {
            list.push("--no-stream");
        }
        let env = Env::empty().set("OPENAI_MODEL", "ignored-when-model-is-given");
        let run = run!(chat::run(&args(&list), &env)).ok();
        let response: CreateChatCompletionResponse =
            serde_json::from_str(&run.out).expect("stdout is exactly one JSON document");
        assert_eq!(response.model, "gpt-test");
        assert_eq!(
            response.first_content(),
            Some(chat::mock_answer("Hi!").as_str())
        );
        // "Be brief." and "Hi!" are three words of prompt.
        let usage = response.usage.unwrap();
        assert_eq!(usage.prompt_tokens, 3, "stream: {stream}");
        assert!(run.err.ends_with(" total (gpt-test)\n"), "{}", run.err);
    }
}

#[tokio::test]
async fn chat_help_and_bad_arguments() {
    let run = run!(chat::run(&args(&["--help"]), &Env::empty())).ok();
    assert_eq!(run.out, chat::HELP);
    assert_eq!(run.err, "");

    let cases: [(&[&str], &str); 4] = [
        (&["--bogus", "hi"], "unknown option `--bogus`; see --help"),
        (
            &[],
            "no question given; try: cargo run --example chat -- \"your question\"",
        ),
        (&["hi", "--model"], "--model needs a value; see --help"),
        (&["--system=", "hi"], "--system needs a value; see --help"),
    ];
    for (list, message) in cases {
        let run = run!(chat::run(&args(list), &Env::empty()));
        assert_eq!(run.error(), message);
        assert_eq!(run.out, "");
    }
}

#[test]
fn chat_options_parse_into_a_request() {
    let list = args(&[
        "--model=gpt-x",
        "--system",
        "sys",
        "--no-stream",
        "a",
        "b",
        "--",
        "--json",
    ]);
    let chat::Command::Ask(options) = chat::Options::parse(&list).unwrap() else {
        panic!("not a question")
    };
    assert_eq!(
        options,
        chat::Options {
            question: "a b --json".into(),
            model: Some("gpt-x".into()),
            system: Some("sys".into()),
            stream: false,
            json: false,
        }
    );
    assert_eq!(
        serde_json::to_value(options.request("default")).unwrap(),
        json!({
            "model": "gpt-x",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": "a b --json"}
            ]
        })
    );
    let chat::Command::Ask(options) = chat::Options::parse(&args(&["q"])).unwrap() else {
        panic!("not a question")
    };
    assert_eq!(
        serde_json::to_value(options.request("default")).unwrap(),
        json!({
            "model": "default",
            "messages": [{"role": "user", "content": "q"}],
            "stream_options": {"include_usage": true}
        })
    );
}

/// A loopback server answering chat requests from `mock`.
async fn server(mock: &MockTransport) -> MockServer {
    mock.check_on_drop(false);
    MockServer::start(mock.clone()).await
}

#[tokio::test]
async fn chat_talks_to_openai_base_url_through_chat_hyper() {
    let mock = MockTransport::new();
    mock.on(Match::chat().stream(true))
        .respond_stream(MockStream::text("Served over real HTTP on loopback.").usage(3, 8));
    let server = server(&mock).await;
    let env = Env::empty()
        .set("OPENAI_BASE_URL", server.base_url())
        .set("OPENAI_API_KEY", "sk-test-key");

    let run = run!(chat::run(&args(&["Hello", "server"]), &env)).ok();

    assert_eq!(run.out, "Served over real HTTP on loopback.\n");
    assert_eq!(
        run.err,
        "tokens: 3 prompt + 8 completion = 11 total (gpt-4o-mini)\n"
    );
    let sent = mock.request(0);
    assert!(sent.header_matches("authorization", "Bearer sk-test-key"));
    sent.assert_json(&json!({
        "model": "gpt-4o-mini",
        "stream": true,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "Hello server"}]
    }));
}

#[tokio::test]
async fn chat_reports_an_api_error_on_one_line_without_the_key() {
    let mock = MockTransport::new();
    mock.push(
        MockResponse::error(401)
            .message("Incorrect API key provided")
            .code("invalid_api_key"),
    );
    let server = server(&mock).await;
    let env = Env::empty()
        .set("OPENAI_BASE_URL", server.base_url())
        .set("OPENAI_API_KEY", "sk-wrong-key");

    let run = run!(chat::run(&args(&["Hello"]), &env));

    let line = run.error();
    assert!(line.contains("401"), "{line}");
    assert!(line.contains("Incorrect API key provided"), "{line}");
    assert!(!line.contains("sk-wrong-key"), "{line}");
    assert!(!line.contains('\n'));
    assert_eq!(run.out, "");
}

#[tokio::test(start_paused = true)]
async fn completion_prints_the_answer_and_its_metadata() {
    let run = run!(completion::run(
        &[],
        &Env::empty().set("OPENAI_MODEL", "my-model")
    ))
    .ok();
    assert_eq!(
        run.out,
        format!(
            "{}\n\nmodel:      my-model\nfinish:     stop\n\
             usage:      tokens: 27 prompt + 52 completion = 79 total\n\
             request id: req_mock_0\nattempts:   1\n",
            completion::MOCK_ANSWER
        )
    );
    assert_eq!(run.err, MOCK_NOTE);
}

#[tokio::test(start_paused = true)]
async fn streaming_events_prints_every_event_in_order() {
    let run = run!(streaming_events::run(&Env::empty())).ok();
    let expected = r#"request id: req_mock_0
content delta    "Let"
content delta    " me"
content delta    " check"
content delta    " the"
content delta    " weather"
content delta    " in"
content delta    " Paris."
tool call delta  #0 get_weather (call_mock_0) += ""
tool call delta  #0 get_weather (call_mock_0) += "{\"city\":"
tool call delta  #0 get_weather (call_mock_0) += " \"Paris\"}"
content done     "Let me check the weather in Paris."
tool call done   #0 get_weather({"city": "Paris"}) id call_mock_0
finish           choice 0: tool_calls
usage            tokens: 71 prompt + 24 completion = 95 total
completed        chatcmpl-mock-0 with 1 choice(s), 1 tool call(s)
"#;
    assert_eq!(run.out, expected);
    assert_eq!(run.err, MOCK_NOTE);
}

#[tokio::test(start_paused = true)]
async fn tool_calling_sends_the_tool_results_back_and_prints_the_answer() {
    let run = run!(tool_calling::run(&Env::empty())).ok();
    let expected = r#"user         What is the weather like in Paris and in Tokyo right now?
model calls  get_weather({"city":"Paris"})
  result     {"city":"Paris","conditions":"sunny","temperature_c":18}
model calls  get_weather({"city":"Tokyo"})
  result     {"city":"Tokyo","conditions":"humid, light rain","temperature_c":24}
answer       Here is the weather right now. Paris: 18 °C, sunny; Tokyo: 24 °C, humid, light rain.
"#;
    // The mock writes its answer from the tool messages it receives, so the answer carries
    // the local function's values only if the results made the round trip.
    assert_eq!(run.out, expected);
}

#[tokio::test(start_paused = true)]
async fn tool_calling_loop_sends_the_conversation_and_stops_after_max_rounds() {
    let mock = MockTransport::new();
    mock.on_any()
        .respond(MockResponse::tool_call(
            "get_weather",
            json!({"town": "Paris"}),
        ))
        .always();
    let mut out = Vec::new();
    let e = tool_calling::ask_with_tools(&mock.client(), "m", "Weather?", &mut out)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "the model still called tools after 5 rounds");
    mock.assert_request_count(tool_calling::MAX_ROUNDS);
    // The second request carries the assistant turn and the tool result (an error the model
    // can read, since the arguments lacked `city`).
    let sent = mock.request(1);
    sent.assert_json(&json!({
        "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "tool_calls": [{"id": "call_mock_0", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"town\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_mock_0"}
        ]
    }));
    let result = sent
        .pointer("/messages/2/content")
        .and_then(Value::as_str)
        .unwrap();
    assert!(
        result.contains("invalid arguments: missing field `city`"),
        "{result}"
    );
    let tools = sent.pointer("/tools/0/function/name").unwrap();
    assert_eq!(tools, "get_weather");
}

#[tokio::test(start_paused = true)]
async fn structured_output_parses_the_json_answer_into_a_struct() {
    // The mock answers only requests carrying the `recipe` JSON schema.
    let run = run!(structured_output::run(&[], &Env::empty())).ok();
    let expected = "Simple pancakes (serves 4)
ingredients:
  - flour: 200 g
  - milk: 300 ml
  - eggs: 2
  - butter: 1 tbsp, melted
steps:
  1. Whisk the flour, milk and eggs into a smooth batter.
  2. Stir in the melted butter and rest the batter for 10 minutes.
  3. Cook ladlefuls in a hot pan, about a minute per side.
";
    assert_eq!(run.out, expected);
    // The schema accepts the mock's recipe: every property is required.
    let schema = structured_output::recipe_schema();
    let recipe = serde_json::to_value(structured_output::mock_recipe()).unwrap();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut keys: Vec<&str> = recipe
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut sorted = required.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
}

#[tokio::test(start_paused = true)]
async fn typed_output_streams_the_guide_and_parses_it() {
    let run = run!(typed_output::run(&args(&["Lisbon"]), &Env::empty())).ok();
    assert_eq!(
        run.out,
        "streaming   sight 1: Belém Tower
streaming   sight 2: Alfama
Lisbon, Portugal
  1. Belém Tower (Monument)
  2. Alfama (Neighbourhood)
  3. Gulbenkian Museum (Museum)
best month: May
"
    );
    assert_eq!(run.err, MOCK_NOTE);
}

#[tokio::test]
async fn typed_output_sends_the_strict_schema_and_prints_a_refusal() {
    let mock = MockTransport::new();
    mock.push(MockResponse::stream(MockStream::refusal(
        "I cannot help with that.",
    )));
    let server = server(&mock).await;
    let env = Env::empty().set("OPENAI_BASE_URL", server.base_url());
    let run = run!(typed_output::run(&[], &env)).ok();
    assert_eq!(run.out, "the model refused: I cannot help with that.\n");
    let sent = mock.request(0).json().cloned().unwrap();
    let format = &sent["response_format"]["json_schema"];
    assert_eq!(format["name"], "CityGuide");
    assert_eq!(format["strict"], true);
    assert_eq!(
        format["schema"]["required"],
        json!(["city", "country", "sights", "best_month"])
    );
    assert_eq!(
        format["schema"]["$defs"]["SightKind"]["anyOf"][0],
        json!({"type": "string", "const": "museum", "description": "A museum or gallery."})
    );
}

#[tokio::test(start_paused = true)]
async fn tool_runner_runs_two_rounds_of_tools_and_prints_the_answer() {
    let run = run!(tool_runner::run(&Env::empty())).ok();
    assert_eq!(
        run.out,
        r#"user         How warm is it in Paris and in Tokyo? Give Tokyo in Fahrenheit too.
round 1      get_weather({"city":"Paris"}) -> {"celsius":18,"city":"Paris","conditions":"sunny"}
round 1      get_weather({"city":"Tokyo"}) -> {"celsius":24,"city":"Tokyo","conditions":"light rain"}
round 2      to_fahrenheit({"celsius":24.0}) -> {"fahrenheit":75.2}
answer       Paris: 18 °C, sunny. Tokyo: 24 °C (75.2 °F), light rain.
3 rounds, 6 messages in the conversation
"#
    );
}

#[tokio::test]
async fn tool_runner_reports_an_unknown_city_to_the_model() {
    let result = tool_runner::get_weather(tool_runner::WeatherArgs {
        city: "Atlantis".into(),
    })
    .await;
    assert_eq!(result.unwrap_err(), "no weather data for Atlantis");
    let tool = chat_core::FunctionTool::<tool_runner::ConvertArgs>::new("to_fahrenheit", "C to F")
        .unwrap();
    let json = serde_json::to_value(tool.definition()).unwrap();
    assert_eq!(
        json["function"]["parameters"]["required"],
        json!(["celsius"])
    );
}

#[tokio::test(start_paused = true)]
async fn image_input_sends_a_url_part_and_an_inline_part() {
    let run = run!(image_input::run(&[], &Env::empty())).ok();
    let expected = format!(
        "sending: text\nsending: image by URL {url}\n\
         sending: image inline, image/png, 74 bytes as 100 base64 characters\n\
         answer: I received 2 image(s): an image at {url} and an inline image/png of 74 \
         bytes. (chat-mock cannot see pictures; a vision model would describe them.)\n",
        url = image_input::IMAGE_URL
    );
    assert_eq!(run.out, expected);
    assert_eq!(
        image_input::data_url("image/png", image_input::RED_SQUARE_PNG),
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR42mN4YGOIF\
         TEMLQkAs2hTQXomdIwAAAAASUVORK5CYII="
    );
}

#[tokio::test(start_paused = true)]
async fn image_input_reads_a_file_and_rejects_unknown_types() {
    let dir = std::env::temp_dir().join(format!("chat-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jpeg = dir.join("photo.JPG");
    let bytes = b"\xff\xd8\xff\xe0 not really a jpeg";
    std::fs::write(&jpeg, bytes).unwrap();
    let text = dir.join("notes.txt");

    let run = run!(image_input::run(
        &[jpeg.display().to_string()],
        &Env::empty()
    ))
    .ok();
    let expected = format!("an inline image/jpeg of {} bytes", bytes.len());
    assert!(run.out.contains(&expected), "{}", run.out);
    let run = run!(image_input::run(
        &[text.display().to_string()],
        &Env::empty()
    ));
    assert!(run
        .error()
        .ends_with("notes.txt: use a .png, .jpg, .gif or .webp file"));
    let missing = dir.join("missing.png");
    let run = run!(image_input::run(
        &[missing.display().to_string()],
        &Env::empty()
    ));
    assert!(run.error().starts_with("cannot read "), "{}", run.error());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn custom_transport_talks_http_to_the_loopback_server() {
    let run = run!(custom_transport::run(&Env::empty())).ok();
    let lines: Vec<&str> = run.out.lines().collect();
    assert_eq!(
        lines[0],
        format!("answer:   {}", custom_transport::PLAIN_ANSWER)
    );
    assert_eq!(
        lines[1],
        format!("streamed: {}", custom_transport::STREAMED_ANSWER)
    );
    assert!(
        lines[2].starts_with("log:      POST http://127.0.0.1:"),
        "{}",
        lines[2]
    );
    assert!(
        lines[2].ends_with("/v1/chat/completions (75 bytes) -> 200 OK application/json"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].ends_with("-> 200 OK text/event-stream; charset=utf-8"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], "the mock server received 2 requests");
    assert_eq!(lines.len(), 5);
    assert!(run
        .err
        .starts_with("note: talking to chat-mock's loopback server at http://127.0.0.1:"));
}

#[tokio::test]
async fn custom_transport_reports_connection_and_stream_failures() {
    // Nothing listens on a port that was just released.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let config = Config::new()
        .base_url(format!("http://{addr}/v1"))
        .max_retries(0);
    let client = Client::new(config, custom_transport::TinyHttp);
    let request = chat_core::types::CreateChatCompletionRequest::new("m", []);
    let e = client.create_chat_completion(&request).await.unwrap_err();
    match e.kind() {
        ErrorKind::Transport(t) => assert_eq!(t.kind(), TransportErrorKind::Connect),
        other => panic!("not a transport error: {other:?}"),
    }

    // An https:// URL fails at once, without retries: TinyHttp has no TLS.
    let client = Client::new(Config::new(), custom_transport::TinyHttp);
    let e = client.create_chat_completion(&request).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "tls error: TinyHttp has no TLS; it speaks only http:// URLs"
    );
    assert!(!e.is_retryable());
    assert_eq!(e.attempts(), 1);

    // A stream the server breaks off after two events fails instead of ending quietly.
    let mock = MockTransport::new();
    mock.push(MockStream::text("one two three four").disconnect_after(2));
    let server = server(&mock).await;
    let client = Client::new(
        Config::new().base_url(server.base_url()).api_key("k"),
        custom_transport::TinyHttp,
    );
    let mut stream = client
        .create_chat_completion_stream(&request)
        .await
        .unwrap();
    let mut text = String::new();
    let failure = loop {
        match stream.next().await {
            Some(Ok(chunk)) => text.push_str(chunk.first_content().unwrap_or_default()),
            Some(Err(e)) => break e,
            None => panic!("the broken stream ended cleanly after {text:?}"),
        }
    };
    assert_eq!(text, "one");
    assert!(
        matches!(failure.kind(), ErrorKind::Transport(_)),
        "{failure:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn testing_with_mock_runs_both_apps() {
    let run = run!(testing_with_mock::run(&Env::empty())).ok();
    assert_eq!(
        run.out,
        "order bot: Your order A-1001 has shipped with DHL and should arrive on 2025-06-03.\n\
         streamed:  Thanks for your patience! Anything else I can do?\n           \
         tokens: 12 prompt + 10 completion = 22 total\n"
    );
}

#[tokio::test(start_paused = true)]
async fn azure_shows_both_kinds_of_authentication_with_secrets_redacted() {
    let run = run!(azure::run(&Env::empty())).ok();
    let url = "POST https://my-resource.openai.azure.com/openai/deployments/gpt-4o-mini/\
               chat/completions?api-version=2024-10-21";
    assert_eq!(run.out.matches(url).count(), 2, "{}", run.out);
    for line in [
        "== api-key authentication\n",
        "api-key: [redacted]\n",
        "the api-key header carries the configured key: true\n",
        "== Entra ID token authentication\n",
        "authorization: [redacted]\n",
        "the authorization header carries the token: true\n",
        "the token provider was asked 1 time(s)\n",
        "answer: Hello from the Azure OpenAI mock!\n",
    ] {
        assert!(run.out.contains(line), "missing {line:?} in\n{}", run.out);
    }
    assert!(!run.out.contains(azure::DEMO_KEY), "{}", run.out);
    assert!(!run.out.contains(azure::DEMO_TOKEN), "{}", run.out);
    assert!(run
        .err
        .starts_with("note: AZURE_OPENAI_ENDPOINT is not set"));
}

#[tokio::test]
async fn azure_sends_a_real_request_when_an_endpoint_is_set() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("Hello from the deployment."));
    let server = server(&mock).await;
    let env = Env::empty()
        .set("AZURE_OPENAI_ENDPOINT", format!("http://{}", server.addr()))
        .set("AZURE_OPENAI_API_KEY", "azure-secret")
        .set("AZURE_OPENAI_DEPLOYMENT", "my-deployment")
        .set("OPENAI_API_VERSION", "2025-01-01-preview");

    let run = run!(azure::run(&env)).ok();

    assert_eq!(run.out, "answer: Hello from the deployment.\n");
    let sent = mock.request(0);
    assert_eq!(
        sent.uri().path_and_query().unwrap().as_str(),
        "/openai/deployments/my-deployment/chat/completions?api-version=2025-01-01-preview"
    );
    assert!(sent.header_matches("api-key", "azure-secret"));
    assert_eq!(sent.header("authorization"), None);

    let env = Env::empty().set("AZURE_OPENAI_ENDPOINT", "https://x.openai.azure.com");
    let run = run!(azure::run(&env));
    assert_eq!(
        run.error(),
        "set AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN as well"
    );
}

#[tokio::test(start_paused = true)]
async fn compatible_server_shows_the_extra_body_fields_it_sends() {
    let run = run!(compatible_server::run(&Env::empty())).ok();
    for part in [
        "== vLLM at http://localhost:8000/v1\nPOST http://localhost:8000/v1/chat/completions\nbody: {",
        "  \"top_k\": 40\n",
        "  \"repetition_penalty\": 1.05,\n",
        "== OpenRouter at https://openrouter.ai/api/v1\nPOST https://openrouter.ai/api/v1/chat/completions\n\
         authorization: [redacted]\nhttp-referer: https://example.com/my-app\nx-title: chat-sdk examples\n",
        "  \"provider\": {\n    \"allow_fallbacks\": false,\n    \"order\": [\n      \"groq\",\n      \"together\"\n    ]\n  }\n",
        "extra field `reasoning_content` of the message: \"The smallest primes are 2, 3 and 5.\"\n",
    ] {
        assert!(run.out.contains(part), "missing {part:?} in\n{}", run.out);
    }
    assert_eq!(run.out.matches("answer: 2, 3 and 5.\n").count(), 2);
    assert!(!run.out.contains("sk-or-demo-key"));
}

#[tokio::test]
async fn compatible_server_sends_extra_fields_to_openai_base_url() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("Two, three, five."));
    let server = server(&mock).await;
    let env = Env::empty()
        .set("OPENAI_BASE_URL", server.base_url())
        .set("OPENAI_MODEL", "llama3");

    let run = run!(compatible_server::run(&env)).ok();

    assert_eq!(run.out, "answer: Two, three, five.\n");
    let sent = mock.request(0);
    sent.assert_json(&json!({"model": "llama3", "top_k": 40, "repetition_penalty": 1.05}));
    // Only a base URL, no key: no credential is sent.
    assert_eq!(sent.header("authorization"), None);
}
