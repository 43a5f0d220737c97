//! The project's client (chat-core on chat-hyper) against a spec-driven mock server: every
//! operation is sent with many of its parameters, and the server says whether the request
//! matches the OpenAPI spec. `cargo xtask compat` runs it against Steady
//! (`@stdy/cli`, serving `spec/openapi.yaml`), which answers `x-steady-request-valid` and
//! rejects a request that breaks the spec with a `400` naming the problem.
//!
//! Run by hand: `steady --host 127.0.0.1 -p 4010 --validator-query-object-format=brackets
//! spec/openapi.yaml`, then `OPENAI_BASE_URL=http://127.0.0.1:4010 OPENAI_API_KEY=x cargo run
//! -p chat-mock --example contract_client`. Prints one line per operation and exits with 1
//! if the server found a request invalid.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use chat_core::types::{
    CreateChatCompletionRequest, ListChatCompletionMessagesParams, ListChatCompletionsParams,
    ListOrder,
};
use chat_core::{Config, Middleware, RequestContext, ResponseHead};
use serde_json::json;

/// What the server said of each request: `(operation, valid, problems)`.
#[derive(Debug, Default, Clone)]
struct Verdicts(Arc<Mutex<Vec<(String, bool, String)>>>);

impl Middleware for Verdicts {
    fn on_response(&self, response: &ResponseHead, ctx: &RequestContext) {
        let header = |n: &str| {
            response
                .headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let valid = header("x-steady-request-valid") == "true";
        let count: usize = header("x-steady-error-count").parse().unwrap_or(0);
        let problems: Vec<String> = (1..=count)
            .map(|i| {
                format!(
                    "{}: {}",
                    header(&format!("x-steady-error-{i}-path")),
                    header(&format!("x-steady-error-{i}-message"))
                )
            })
            .collect();
        let name = format!("{} {}", ctx.method(), ctx.operation());
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        v.push((name, valid, problems.join("; ")));
    }
}

fn full_request() -> CreateChatCompletionRequest {
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}},
                        "required": ["city"], "additionalProperties": false});
    let body = json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "developer", "content": "Be terse."},
            {"role": "system", "content": [{"type": "text", "text": "Answer in English."}]},
            {"role": "user", "name": "ada", "content": [
                {"type": "text", "text": "What is in this image, and the weather?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
            "strict": true, "parameters": schema}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": false,
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "strict": true, "schema": schema}},
        "temperature": 0.2, "top_p": 0.9, "n": 2, "seed": 7,
        "max_completion_tokens": 128, "stop": ["END"],
        "logprobs": true, "top_logprobs": 2,
        "presence_penalty": 0.1, "frequency_penalty": 0.1, "logit_bias": {"50256": -100},
        "store": true, "metadata": {"suite": "contract"},
        "user": "user-1", "service_tier": "auto", "reasoning_effort": "low",
        "prompt_cache_key": "contract", "safety_identifier": "sid-1",
        "verbosity": "low", "modalities": ["text"]
    });
    serde_json::from_value(body).expect("a valid request")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let verdicts = Verdicts::default();
    let config = match Config::from_env() {
        Ok(c) => c.max_retries(0).middleware(verdicts.clone()),
        Err(e) => {
            eprintln!("contract_client: {e}");
            return ExitCode::FAILURE;
        }
    };
    let client = match chat_hyper::client(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("contract_client: {e}");
            return ExitCode::FAILURE;
        }
    };
    let request = full_request();
    let mut notes = Vec::new();
    let mut note = |what: &str, r: Result<(), chat_core::Error>| {
        if let Err(e) = r {
            notes.push(format!("{what}: {e}"));
        }
    };
    note(
        "create",
        client.create_chat_completion(&request).await.map(drop),
    );
    let mut streamed = request.clone().stream(true);
    streamed.stream_options = serde_json::from_value(json!({"include_usage": true})).ok();
    // The spec-driven server answers JSON, not an event stream; only its verdict on the
    // request counts here.
    let _ = client.create_chat_completion_stream(&streamed).await;
    let params = ListChatCompletionsParams {
        model: Some("gpt-4o-mini".into()),
        metadata: Some([("suite".to_owned(), "contract".to_owned())].into()),
        after: Some("chatcmpl-0".into()),
        limit: Some(10),
        order: Some(ListOrder::Desc),
    };
    note(
        "list",
        client.list_chat_completions(&params).await.map(drop),
    );
    note(
        "get",
        client.get_chat_completion("chatcmpl-1").await.map(drop),
    );
    let metadata = Some([("suite".to_owned(), "contract-2".to_owned())].into());
    note(
        "update",
        client
            .update_chat_completion("chatcmpl-1", metadata)
            .await
            .map(drop),
    );
    let message_params = ListChatCompletionMessagesParams {
        after: Some("msg-0".into()),
        limit: Some(5),
        order: Some(ListOrder::Asc),
    };
    note(
        "messages",
        client
            .list_chat_completion_messages("chatcmpl-1", &message_params)
            .await
            .map(drop),
    );
    note(
        "delete",
        client.delete_chat_completion("chatcmpl-1").await.map(drop),
    );

    let verdicts = verdicts.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut invalid = 0;
    for (name, valid, problems) in &verdicts {
        if *valid {
            println!("contract: {name}: valid");
        } else {
            invalid += 1;
            println!("contract: {name}: INVALID {problems}");
        }
    }
    for n in &notes {
        // Decoding the server's generated answers is reported, not judged: they are random.
        println!("contract: note: {n}");
    }
    if verdicts.len() < 7 {
        println!(
            "contract: only {} of 7 requests got an answer",
            verdicts.len()
        );
        return ExitCode::FAILURE;
    }
    if invalid > 0 {
        return ExitCode::FAILURE;
    }
    println!(
        "contract: {} requests valid against the spec",
        verdicts.len()
    );
    ExitCode::SUCCESS
}
