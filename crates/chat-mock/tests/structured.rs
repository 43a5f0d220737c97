//! Structured outputs and the tool runner (chat-core feature `schema`) against the mock:
//! what is sent (the strict schema, the tool definitions, the conversation) and how each
//! kind of answer is read (parsed, refused, cut off, filtered, of the wrong shape).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chat_core::types::{
    ChatCompletionRequestMessage as Message, ContentError, CreateChatCompletionRequest,
    FinishReason, ResponseFormat,
};
use chat_core::{ParsedEvent, StructuredError, ToolErrors, ToolRunError, ToolRunner};
use chat_mock::{MockResponse, MockStream, MockTransport};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Recipe {
    title: String,
    servings: u32,
    steps: Vec<String>,
    note: Option<String>,
}

/// The JSON body of the `index`-th request.
fn body(mock: &MockTransport, index: usize) -> Value {
    mock.request(index).json().cloned().unwrap()
}

fn ask(text: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o", [Message::user(text)])
}

const RECIPE: &str =
    r#"{"title": "Pancakes", "servings": 4, "steps": ["Whisk", "Fry"], "note": null}"#;

fn pancakes() -> Recipe {
    Recipe {
        title: "Pancakes".into(),
        servings: 4,
        steps: vec!["Whisk".into(), "Fry".into()],
        note: None,
    }
}

#[tokio::test]
async fn a_parsed_completion_sends_the_strict_schema_and_returns_the_value_per_choice() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text(RECIPE).with_choice(MockResponse::text(
        r#"{"title": "Crêpes", "servings": 2, "steps": [], "note": "thin"}"#,
    )));
    let parsed = mock
        .client()
        .create_chat_completion_parsed::<Recipe>(&ask("pancakes"))
        .await
        .unwrap();

    assert_eq!(parsed.parsed(), Some(&pancakes()));
    assert_eq!(parsed.choices.len(), 2);
    assert_eq!(parsed.choices[1].index, 1);
    assert_eq!(
        parsed.choices[1].parsed.as_ref().unwrap().note.as_deref(),
        Some("thin")
    );
    assert_eq!(parsed.refusal(), None);
    assert_eq!(parsed.response.request_id(), Some("req_mock_0"));

    let body = body(&mock, 0);
    assert_eq!(
        body["response_format"],
        json!({"type": "json_schema", "json_schema": {
            "name": "Recipe",
            "strict": true,
            "schema": {
                "title": "Recipe",
                "type": "object",
                "properties": {
                    "note": {"type": ["string", "null"]},
                    "servings": {"type": "integer", "minimum": 0},
                    "steps": {"type": "array", "items": {"type": "string"}},
                    "title": {"type": "string"}
                },
                "required": ["title", "servings", "steps", "note"],
                "additionalProperties": false
            }
        }})
    );
}

#[tokio::test]
async fn a_response_format_already_set_is_kept() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text(RECIPE));
    let request = ask("pancakes").response_format(ResponseFormat::json_object());
    let parsed = mock
        .client()
        .create_chat_completion_parsed::<Recipe>(&request)
        .await
        .unwrap();
    assert_eq!(parsed.into_parsed(), Some(pancakes()));
    assert_eq!(
        body(&mock, 0)["response_format"],
        json!({"type": "json_object"})
    );
}

#[tokio::test]
async fn a_refusal_is_kept_not_an_error() {
    let mock = MockTransport::new();
    mock.push(MockResponse::refusal("I can't help with that."));
    let parsed = mock
        .client()
        .create_chat_completion_parsed::<Recipe>(&ask("something bad"))
        .await
        .unwrap();
    assert_eq!(parsed.parsed(), None);
    assert_eq!(parsed.refusal(), Some("I can't help with that."));
}

#[tokio::test]
async fn length_content_filter_and_mismatch_are_typed_errors() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text(r#"{"title": "Panc"#).finish_reason(FinishReason::Length));
    mock.push(MockResponse::text("").finish_reason(FinishReason::ContentFilter));
    mock.push(MockResponse::text(
        r#"{"title": "Pancakes", "servings": "four"}"#,
    ));
    mock.push(MockResponse::text("Sure! Here is a recipe."));
    let client = mock.client();
    let request = ask("pancakes");
    let call = || client.create_chat_completion_parsed::<Recipe>(&request);

    match call().await.unwrap_err() {
        StructuredError::Length {
            choice_index,
            response,
        } => {
            assert_eq!(choice_index, 0);
            assert_eq!(response.first_content(), Some(r#"{"title": "Panc"#));
        }
        other => panic!("expected Length, got {other:?}"),
    }
    let e = call().await.unwrap_err();
    assert!(
        matches!(
            e,
            StructuredError::ContentFilter {
                choice_index: 0,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("content_filter"), "{e}");

    let e = call().await.unwrap_err();
    match &e {
        StructuredError::Content {
            choice_index: 0,
            error: ContentError::Json(json),
            content: Some(content),
        } => {
            assert!(json.to_string().contains("invalid type"), "{json}");
            assert!(content.contains("four"));
        }
        other => panic!("expected a JSON mismatch, got {other:?}"),
    }
    assert!(
        e.to_string()
            .starts_with("choice 0: the content is not the expected JSON"),
        "{e}"
    );
    let e = call().await.unwrap_err();
    assert!(
        matches!(
            e,
            StructuredError::Content {
                error: ContentError::Json(_),
                ..
            }
        ),
        "{e:?}"
    );
    mock.assert_all_used();
}

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)] // never parsed: the schema is refused first
struct Scores {
    by_name: HashMap<String, u32>,
}

#[tokio::test]
async fn a_type_strict_mode_cannot_express_fails_before_sending() {
    let mock = MockTransport::new();
    let e = mock
        .client()
        .create_chat_completion_parsed::<Scores>(&ask("scores"))
        .await
        .unwrap_err();
    match e {
        StructuredError::Schema(e) => assert_eq!(e.path(), "Scores.by_name"),
        other => panic!("expected a schema error, got {other:?}"),
    }
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn a_streamed_parse_gives_deltas_growing_snapshots_and_the_value() {
    let mock = MockTransport::new();
    mock.push(MockResponse::stream(
        MockStream::text(RECIPE).chunk_chars(7),
    ));
    let mut stream = mock
        .client()
        .create_chat_completion_parsed_stream::<Recipe>(&ask("pancakes"))
        .await
        .unwrap();
    let (mut text, mut snapshots, mut done) = (String::new(), Vec::<Value>::new(), None);
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            ParsedEvent::ContentDelta {
                delta, snapshot, ..
            } => {
                text.push_str(&delta);
                snapshots.extend(snapshot);
            }
            ParsedEvent::Completed(parsed) => done = Some(parsed),
            ParsedEvent::Event(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(text, RECIPE);
    assert!(snapshots.len() >= 8, "{snapshots:?}");
    // The title shows while it is being written, before the rest arrives.
    assert!(
        snapshots
            .iter()
            .any(|s| s["title"] == "Pan" && s.get("servings").is_none()),
        "{snapshots:?}"
    );
    assert!(
        snapshots.iter().any(|s| s["steps"] == json!(["Whisk"])),
        "{snapshots:?}"
    );
    assert_eq!(
        snapshots.last().unwrap(),
        &serde_json::from_str::<Value>(RECIPE).unwrap()
    );
    let done = done.expect("a Completed event");
    assert_eq!(done.parsed(), Some(&pancakes()));
    assert_eq!(
        body(&mock, 0)["response_format"]["json_schema"]["name"],
        "Recipe"
    );
    assert_eq!(body(&mock, 0)["stream"], true);
}

#[tokio::test]
async fn a_streamed_parse_that_is_cut_off_is_a_length_error() {
    let mock = MockTransport::new();
    mock.push(MockResponse::stream(
        MockStream::text(r#"{"title": "Pan"#).finish_reason(FinishReason::Length),
    ));
    let stream = mock
        .client()
        .create_chat_completion_parsed_stream::<Recipe>(&ask("pancakes"))
        .await
        .unwrap();
    let e = stream.final_completion().await.unwrap_err();
    assert!(
        matches!(
            e,
            StructuredError::Length {
                choice_index: 0,
                ..
            }
        ),
        "{e:?}"
    );
}

#[derive(Debug, Deserialize, JsonSchema)]
struct WeatherArgs {
    /// The city name.
    city: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct ConvertArgs {
    celsius: f64,
}

/// A runner with `get_weather` (which counts how many of its calls run at once) and
/// `to_fahrenheit`.
fn runner(in_flight: Arc<AtomicUsize>, most: Arc<AtomicUsize>) -> ToolRunner {
    ToolRunner::new()
        .tool(
            "get_weather",
            "The weather in a city",
            move |args: WeatherArgs| {
                let (in_flight, most) = (in_flight.clone(), most.clone());
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Let the other calls of the round start before this one ends.
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                    }
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    match args.city.as_str() {
                        "Paris" => Ok(json!({"city": "Paris", "celsius": 18})),
                        "Tokyo" => Ok(json!({"city": "Tokyo", "celsius": 24})),
                        other => Err(format!("no data for {other}")),
                    }
                }
            },
        )
        .unwrap()
        .tool(
            "to_fahrenheit",
            "Celsius to Fahrenheit",
            |args: ConvertArgs| async move {
                Ok::<_, String>(format!("{}", args.celsius * 9.0 / 5.0 + 32.0))
            },
        )
        .unwrap()
}

/// The script of a three-round conversation: two parallel weather calls, one conversion
/// call, then the answer.
fn script(mock: &MockTransport) {
    mock.push(
        MockResponse::tool_call("get_weather", json!({"city": "Paris"}))
            .tool_call_id("call_paris")
            .and_tool_call("get_weather", json!({"city": "Tokyo"}))
            .tool_call_id("call_tokyo"),
    );
    mock.push(
        MockResponse::tool_call("to_fahrenheit", json!({"celsius": 24})).tool_call_id("call_f"),
    );
    mock.push(MockResponse::text(
        "Paris is 18 °C; Tokyo is 24 °C (75.2 °F).",
    ));
}

fn roles(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .map(|m| {
            serde_json::to_value(m).unwrap()["role"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_tool_loop_runs_parallel_calls_over_several_rounds() {
    let mock = MockTransport::new();
    script(&mock);
    let (in_flight, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let run = runner(in_flight, most.clone())
        .run(
            &mock.client(),
            ask("Weather in Paris and Tokyo, Tokyo in °F?"),
        )
        .await
        .unwrap();

    assert_eq!(run.rounds, 3);
    assert_eq!(
        run.response.first_content(),
        Some("Paris is 18 °C; Tokyo is 24 °C (75.2 °F).")
    );
    assert_eq!(
        most.load(Ordering::SeqCst),
        2,
        "the two calls of round 1 overlapped"
    );
    assert_eq!(
        roles(&run.messages),
        ["user", "assistant", "tool", "tool", "assistant", "tool"]
    );
    let results: Vec<(usize, &str, &str)> = run
        .calls
        .iter()
        .map(|c| (c.round, c.call.id.as_str(), c.result.as_str()))
        .collect();
    assert_eq!(
        results,
        [
            (1, "call_paris", r#"{"celsius":18,"city":"Paris"}"#),
            (1, "call_tokyo", r#"{"celsius":24,"city":"Tokyo"}"#),
            (2, "call_f", "75.2"),
        ]
    );

    // What the model saw: the tools on every request, the results in the order of the calls.
    assert_eq!(mock.request_count(), 3);
    let first = body(&mock, 0);
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["get_weather", "to_fahrenheit"]);
    assert_eq!(first["tools"][0]["function"]["strict"], true);
    assert_eq!(
        first["tools"][0]["function"]["parameters"]["properties"]["city"]["description"],
        "The city name."
    );
    let second = body(&mock, 1);
    assert_eq!(second["messages"][1]["tool_calls"][1]["id"], "call_tokyo");
    assert_eq!(
        second["messages"][2],
        json!({"role": "tool", "tool_call_id": "call_paris", "content": r#"{"celsius":18,"city":"Paris"}"#})
    );
    assert_eq!(second["messages"][3]["tool_call_id"], "call_tokyo");
    let third = body(&mock, 2);
    assert_eq!(
        third["messages"][5],
        json!({"role": "tool", "tool_call_id": "call_f", "content": "75.2"})
    );
    mock.assert_all_used();
}

#[tokio::test]
async fn the_tool_loop_streams_every_round() {
    let mock = MockTransport::new();
    mock.push(MockResponse::stream(
        MockStream::tool_call("get_weather", json!({"city": "Paris"}))
            .and_tool_call("get_weather", json!({"city": "Tokyo"})),
    ));
    mock.push(MockResponse::stream(MockStream::tool_call(
        "to_fahrenheit",
        json!({"celsius": 24}),
    )));
    mock.push(MockResponse::stream(MockStream::text(
        "Done: 18 °C and 75.2 °F.",
    )));
    let mut deltas = String::new();
    let mut completed = 0;
    let run = runner(Arc::default(), Arc::default())
        .run_streaming(&mock.client(), ask("weather"), |event| match event {
            chat_core::ChatCompletionEvent::ContentDelta { delta, .. } => deltas.push_str(delta),
            chat_core::ChatCompletionEvent::Completed(_) => completed += 1,
            _ => {}
        })
        .await
        .unwrap();
    assert_eq!(run.rounds, 3);
    assert_eq!(completed, 3);
    assert_eq!(deltas, "Done: 18 °C and 75.2 °F.");
    assert_eq!(run.calls.len(), 3);
    assert_eq!(run.calls[2].result, "75.2");
    assert_eq!(
        roles(&run.messages),
        ["user", "assistant", "tool", "tool", "assistant", "tool"]
    );
    assert!(mock
        .requests()
        .iter()
        .all(|r| r.json().unwrap()["stream"] == true));
}

#[tokio::test]
async fn tool_failures_are_reported_to_the_model_by_default_or_abort() {
    let script_failures = |mock: &MockTransport| {
        mock.push(
            MockResponse::tool_call("get_weather", json!({"city": "Atlantis"}))
                .and_tool_call("get_weather", json!({"town": "Paris"}))
                .and_tool_call("launch_rocket", json!({})),
        );
    };
    let mock = MockTransport::new();
    script_failures(&mock);
    mock.push(MockResponse::text("Sorry, I could not find that."));
    let run = runner(Arc::default(), Arc::default())
        .run(&mock.client(), ask("weather"))
        .await
        .unwrap();
    let results: Vec<(&str, bool)> = run
        .calls
        .iter()
        .map(|c| (c.result.as_str(), c.is_error))
        .collect();
    assert_eq!(results[0], (r#"{"error":"no data for Atlantis"}"#, true));
    assert!(
        results[1].0.contains("missing field `city`") && results[1].1,
        "{results:?}"
    );
    assert_eq!(
        results[2],
        (r#"{"error":"unknown tool `launch_rocket`"}"#, true)
    );
    let sent = body(&mock, 1);
    assert_eq!(
        sent["messages"][2]["content"],
        r#"{"error":"no data for Atlantis"}"#
    );
    assert_eq!(
        sent["messages"][4]["content"],
        r#"{"error":"unknown tool `launch_rocket`"}"#
    );

    let mock = MockTransport::new();
    script_failures(&mock);
    let e = runner(Arc::default(), Arc::default())
        .on_tool_error(ToolErrors::Abort)
        .run(&mock.client(), ask("weather"))
        .await
        .unwrap_err();
    match &e {
        ToolRunError::Tool {
            tool,
            call_id,
            message,
            messages,
        } => {
            assert_eq!(
                (tool.as_str(), call_id.as_str()),
                ("get_weather", "call_mock_0")
            );
            assert_eq!(message, "no data for Atlantis");
            assert_eq!(roles(messages), ["user", "assistant"]);
        }
        other => panic!("expected a tool error, got {other:?}"),
    }
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test]
async fn the_tool_loop_stops_at_the_round_limit_with_the_conversation() {
    let mock = MockTransport::new();
    mock.on_any()
        .respond(MockResponse::tool_call(
            "to_fahrenheit",
            json!({"celsius": 0}),
        ))
        .always();
    let e = runner(Arc::default(), Arc::default())
        .max_rounds(2)
        .run(&mock.client(), ask("loop forever"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ToolRunError::MaxRounds { rounds: 2, .. }),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "the model still called tools after 2 rounds");
    assert_eq!(
        roles(e.messages()),
        ["user", "assistant", "tool", "assistant", "tool"]
    );
    assert_eq!(mock.request_count(), 2);

    let mock = MockTransport::new();
    mock.push(MockResponse::error(500).should_retry(false));
    let e = runner(Arc::default(), Arc::default())
        .run(&mock.client(), ask("hi"))
        .await
        .unwrap_err();
    match e {
        ToolRunError::Request { error, messages } => {
            assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
            assert_eq!(roles(&messages), ["user"]);
        }
        other => panic!("expected a request error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_runner_without_tools_sends_no_empty_tool_list_and_keeps_the_request_tools() {
    let mock = MockTransport::new();
    mock.push(MockResponse::text("Hello."));
    let run = ToolRunner::new()
        .run(&mock.client(), ask("hi"))
        .await
        .unwrap();
    assert_eq!(run.rounds, 1);
    assert!(body(&mock, 0).get("tools").is_none(), "{}", body(&mock, 0));

    // A tool of the request's own (here one the runner has too) is not sent twice.
    let mock = MockTransport::new();
    mock.push(MockResponse::text("Hello."));
    let own = chat_core::types::Tool::function("get_weather", "mine", json!({"type": "object"}));
    runner(Arc::default(), Arc::default())
        .run(&mock.client(), ask("hi").tools(vec![own]))
        .await
        .unwrap();
    let tools = body(&mock, 0)["tools"].clone();
    assert_eq!(tools.as_array().unwrap().len(), 2);
    assert_eq!(tools[0]["function"]["description"], "mine");
    assert_eq!(tools[1]["function"]["name"], "to_fahrenheit");
}

// Offline answers for typed requests: the demo mode reads the strict schema that
// `create_chat_completion_parsed` and the tool runner send, and answers with JSON that
// deserializes into the Rust types.

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)] // read through Debug and the parse itself
enum Unit {
    Grams,
    Cups,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Ingredient {
    name: String,
    amount: f64,
    unit: Unit,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct ShoppingList {
    store: Option<String>,
    items: Vec<Ingredient>,
    urgent: bool,
}

#[tokio::test]
async fn demo_mode_answers_a_parsed_request_with_a_value_of_the_type() {
    let mock = MockTransport::demo();
    let request = ask("What do I need for pancakes?").n(3);
    let parsed = mock
        .client()
        .create_chat_completion_parsed::<ShoppingList>(&request)
        .await
        .unwrap();

    assert_eq!(parsed.choices.len(), 3);
    for choice in &parsed.choices {
        assert!(
            choice.parsed.is_some(),
            "choice {} did not parse",
            choice.index
        );
    }
    // The answer was computed from the schema that was sent, not a fixed text.
    assert_eq!(
        body(&mock, 0)["response_format"]["json_schema"]["name"],
        "ShoppingList"
    );
}

#[tokio::test]
async fn demo_mode_runs_a_typed_tool_loop_to_its_answer() {
    let mock = MockTransport::demo();
    let (in_flight, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let run = runner(in_flight, most)
        .run(&mock.client(), ask("Weather in Paris, in °F?"))
        .await
        .unwrap();

    // Round 1: the demo calls both tools with schema-valid arguments, which the typed
    // handlers accepted; round 2: it answers the tool results with text.
    assert_eq!(run.rounds, 2);
    let names: Vec<&str> = run
        .calls
        .iter()
        .map(|c| c.call.function.name.as_str())
        .collect();
    assert_eq!(names, ["get_weather", "to_fahrenheit"]);
    let convert = &run.calls[1];
    assert!(
        !convert.is_error,
        "to_fahrenheit failed: {}",
        convert.result
    );
    assert!(convert.result.parse::<f64>().is_ok(), "{}", convert.result);
    assert!(run.response.first_content().is_some_and(|t| !t.is_empty()));
    assert_eq!(mock.request_count(), 2);
}
