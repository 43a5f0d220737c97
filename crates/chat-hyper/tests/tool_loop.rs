//! The tool runner and a structured output over loopback HTTP: chat-core's `Client` on
//! `HyperTransport` against chat-mock's `MockServer`, two rounds with parallel calls.

use chat_hyper::chat_core::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
};
use chat_hyper::chat_core::{Client, Config, ToolRunner};
use chat_hyper::{HyperTransport, Proxy};
use chat_mock::{Match, MockResponse, MockServer, MockStream, MockTransport};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

fn client(server: &MockServer) -> Client {
    let transport = HyperTransport::builder()
        .proxy(Proxy::none())
        .build()
        .unwrap();
    let config = Config::new()
        .base_url(server.base_url())
        .api_key("sk-end-to-end");
    Client::try_new(config, transport).unwrap()
}

#[derive(Debug, Deserialize, JsonSchema)]
struct StockArgs {
    sku: String,
}

fn runner() -> ToolRunner {
    ToolRunner::new()
        .tool(
            "stock",
            "Units in stock of a product",
            |args: StockArgs| async move {
                let units = match args.sku.as_str() {
                    "A-1" => 3,
                    "B-2" => 0,
                    _ => return Err(format!("unknown sku {}", args.sku)),
                };
                Ok(json!({"sku": args.sku, "units": units}))
            },
        )
        .unwrap()
}

/// Round 1 asks for two products at once, round 2 for one more, round 3 answers.
fn script(mock: &MockTransport, stream: bool) {
    let results = |n: usize| {
        Match::chat().when("tool results", move |r| {
            r.message_texts()
                .iter()
                .filter(|(role, _)| role == "tool")
                .count()
                == n
        })
    };
    if stream {
        mock.on(results(0)).respond(MockResponse::stream(
            MockStream::tool_call("stock", json!({"sku": "A-1"}))
                .and_tool_call("stock", json!({"sku": "B-2"})),
        ));
        mock.on(results(2))
            .respond(MockResponse::stream(MockStream::tool_call(
                "stock",
                json!({"sku": "Z-9"}),
            )));
        mock.on(results(3))
            .respond(MockResponse::stream(MockStream::text(
                "A-1: 3 left; B-2: sold out.",
            )));
    } else {
        mock.on(results(0)).respond(
            MockResponse::tool_call("stock", json!({"sku": "A-1"}))
                .and_tool_call("stock", json!({"sku": "B-2"})),
        );
        mock.on(results(2))
            .respond(MockResponse::tool_call("stock", json!({"sku": "Z-9"})));
        mock.on(results(3))
            .respond(MockResponse::text("A-1: 3 left; B-2: sold out."));
    }
}

fn ask() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", [Message::user("Stock of A-1, B-2, Z-9?")])
}

#[tokio::test]
async fn a_tool_loop_of_three_rounds_over_http() {
    for stream in [false, true] {
        let mock = MockTransport::new();
        script(&mock, stream);
        let server = MockServer::start(mock.clone()).await;
        let client = client(&server);
        let run = if stream {
            let mut events = 0;
            let run = runner()
                .run_streaming(&client, ask(), |_| events += 1)
                .await
                .unwrap();
            assert!(events > 6, "{events}");
            run
        } else {
            runner().run(&client, ask()).await.unwrap()
        };

        assert_eq!(run.rounds, 3, "stream: {stream}");
        assert_eq!(
            run.response.first_content(),
            Some("A-1: 3 left; B-2: sold out.")
        );
        let results: Vec<&str> = run.calls.iter().map(|c| c.result.as_str()).collect();
        assert_eq!(
            results,
            [
                r#"{"sku":"A-1","units":3}"#,
                r#"{"sku":"B-2","units":0}"#,
                r#"{"error":"unknown sku Z-9"}"#
            ]
        );
        assert_eq!(run.messages.len(), 6);
        assert_eq!(mock.request_count(), 3);
        let last = mock.request(2).json().cloned().unwrap();
        assert_eq!(last["messages"][3]["role"], "tool");
        assert_eq!(last["messages"][3]["tool_call_id"], "call_mock_1");
        assert_eq!(
            last["tools"][0]["function"]["parameters"]["required"],
            json!(["sku"])
        );
        assert!(mock
            .request(0)
            .header_matches("authorization", "Bearer sk-end-to-end"));
        mock.assert_all_used();
    }
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Verdict {
    approved: bool,
    reasons: Vec<String>,
}

#[tokio::test]
async fn a_structured_output_over_http_whole_and_streamed() {
    let mock = MockTransport::new();
    let answer = r#"{"approved": false, "reasons": ["missing receipt"]}"#;
    mock.on(Match::chat().stream(false))
        .respond(MockResponse::text(answer));
    mock.on(Match::chat().stream(true))
        .respond(MockResponse::stream(
            MockStream::text(answer).chunk_chars(4),
        ));
    let server = MockServer::start(mock.clone()).await;
    let client = client(&server);
    let request = CreateChatCompletionRequest::new("gpt-4o-mini", [Message::user("Approve?")]);
    let want = Verdict {
        approved: false,
        reasons: vec!["missing receipt".into()],
    };

    let whole = client
        .create_chat_completion_parsed::<Verdict>(&request)
        .await
        .unwrap();
    assert_eq!(whole.parsed(), Some(&want));
    let streamed = client
        .create_chat_completion_parsed_stream::<Verdict>(&request)
        .await
        .unwrap()
        .final_completion()
        .await
        .unwrap();
    assert_eq!(streamed.into_parsed(), Some(want));
    for i in 0..2 {
        let sent = mock.request(i).json().cloned().unwrap();
        assert_eq!(sent["response_format"]["json_schema"]["name"], "Verdict");
        assert_eq!(
            sent["response_format"]["json_schema"]["schema"]["additionalProperties"],
            false
        );
    }
}
