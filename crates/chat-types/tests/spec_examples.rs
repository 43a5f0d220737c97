//! The spec's own examples (spec/examples) deserialize into the matching types, round-trip
//! losslessly and contain nothing the crate does not model.

mod support;

use chat_types::{
    ChatCompletionDeleted, ChatCompletionList, ChatCompletionMessageList,
    CreateChatCompletionRequest, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
    FinishReason, ModelIdsShared, Role, StopConfiguration, UnknownFields,
    UpdateChatCompletionRequest, VoiceIdsShared,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use support::{read_spec_file, round_trip_str, spec_dir, sse_payloads};

/// Every example file and the type it is a body of.
const EXAMPLES: &[(&str, &str)] = &[
    ("default-request.json", "request"),
    ("functions-request.json", "request"),
    ("image-input-request.json", "request"),
    ("logprobs-request.json", "request"),
    ("streaming-request.json", "request"),
    (
        "updatechatcompletion-default-request.json",
        "update_request",
    ),
    ("default-response.json", "response"),
    ("functions-response.json", "response"),
    ("image-input-response.json", "response"),
    ("logprobs-response.json", "response"),
    ("getchatcompletion-default-response.json", "stored"),
    ("updatechatcompletion-default-response.json", "stored"),
    ("object-createchatcompletionresponse.json", "response"),
    ("listchatcompletions-default-response.json", "stored_list"),
    ("object-chatcompletionlist.json", "stored_list"),
    (
        "getchatcompletionmessages-default-response.json",
        "stored_messages",
    ),
    ("object-chatcompletionmessagelist.json", "stored_messages"),
    ("deletechatcompletion-default-response.json", "deleted"),
    ("streaming-response.sse", "chunks"),
    ("object-createchatcompletionstreamresponse.sse", "chunks"),
];

/// Files in spec/examples that are not bodies: the index, the verbatim stream examples (not
/// valid JSON; their `.sse` twins are tested) and the schema-level examples (tested below).
const NOT_BODIES: &[&str] = &[
    "README.md",
    "streaming-response.raw.txt",
    "object-createchatcompletionstreamresponse.raw.txt",
    "schema-examples.json",
];

/// Fields that the stored-completion examples (get, update, list) show on a completion but the
/// spec's `CreateChatCompletionResponse` schema does not declare: the request parameters echoed
/// back. They are kept in `extra` and round-trip like any unknown field.
const STORED_COMPLETION_EXTRAS: &[&str] = &[
    "frequency_penalty",
    "input_user",
    "presence_penalty",
    "request_id",
    "response_format",
    "seed",
    "temperature",
    "tool_choice",
    "tools",
    "top_p",
];

fn check<T>(file: &str, text: &str) -> T
where
    T: DeserializeOwned + Serialize + UnknownFields,
{
    let (value, unknown) = round_trip_str::<T>(text).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert!(unknown.is_empty(), "{file}: unknown fields {unknown:?}");
    value
}

/// Like [`check`], for bodies that also carry exactly the undeclared stored-completion fields at
/// `prefix` (`""` for a completion, `"data[]."` for a list of them).
fn check_stored<T>(file: &str, text: &str, prefix: &str) -> T
where
    T: DeserializeOwned + Serialize + UnknownFields,
{
    let (value, mut unknown) = round_trip_str::<T>(text).unwrap_or_else(|e| panic!("{file}: {e}"));
    unknown.sort();
    unknown.dedup();
    let expected: Vec<String> = STORED_COMPLETION_EXTRAS
        .iter()
        .map(|f| format!("{prefix}{f}"))
        .collect();
    assert_eq!(unknown, expected, "{file}");
    value
}

fn check_file(file: &str, kind: &str) {
    let text = read_spec_file(&format!("examples/{file}"));
    match kind {
        "request" => drop(check::<CreateChatCompletionRequest>(file, &text)),
        "update_request" => drop(check::<UpdateChatCompletionRequest>(file, &text)),
        "response" => drop(check::<CreateChatCompletionResponse>(file, &text)),
        "stored" => drop(check_stored::<CreateChatCompletionResponse>(
            file, &text, "",
        )),
        "stored_list" => drop(check_stored::<ChatCompletionList>(file, &text, "data[].")),
        "stored_messages" => {
            // `name` is not declared on the items of `ChatCompletionMessageList`, but the
            // examples carry it, so the crate models it.
            let list = check::<ChatCompletionMessageList>(file, &text);
            assert_eq!(list.data[0].role, Role::User);
            assert_eq!(list.data[0].name, None);
            assert!(list.data[0].extra.is_empty(), "{file}");
        }
        "deleted" => drop(check::<ChatCompletionDeleted>(file, &text)),
        "chunks" => {
            let payloads = sse_payloads(&text);
            assert!(!payloads.is_empty(), "{file}: no data events");
            for (i, p) in payloads.iter().enumerate() {
                check::<CreateChatCompletionStreamResponse>(&format!("{file} event {i}"), p);
            }
        }
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn every_example_body_round_trips_without_unknown_fields() {
    for (file, kind) in EXAMPLES {
        check_file(file, kind);
    }
}

#[test]
fn every_example_file_is_tested() {
    let dir = spec_dir().join("examples");
    let mut untested = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("spec/examples exists") {
        let name = entry.expect("readable entry").file_name();
        let name = name.to_string_lossy().into_owned();
        if !EXAMPLES.iter().any(|(f, _)| *f == name) && !NOT_BODIES.contains(&name.as_str()) {
            untested.push(name);
        }
    }
    assert!(
        untested.is_empty(),
        "example files without a test: {untested:?}"
    );
}

#[test]
fn examples_carry_the_documented_content() {
    let text = read_spec_file("examples/default-response.json");
    let r: CreateChatCompletionResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(r.object.as_deref(), Some("chat.completion"));
    assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
    assert!(r.first_content().is_some_and(|c| !c.is_empty()));
    assert!(r.usage.as_ref().is_some_and(|u| u.total_tokens > 0));

    let text = read_spec_file("examples/functions-response.json");
    let r: CreateChatCompletionResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
    let call = r.tool_calls()[0].as_function().expect("a function call");
    let args: Value = call.function.parse_arguments().expect("JSON arguments");
    assert!(args.is_object());

    let text = read_spec_file("examples/logprobs-response.json");
    let r: CreateChatCompletionResponse = serde_json::from_str(&text).unwrap();
    let lp = r.choices[0].logprobs.as_ref().expect("logprobs");
    let first = &lp.content.as_ref().expect("content logprobs")[0];
    assert!(first.logprob <= 0.0);
    assert!(!first.top_logprobs.is_empty());

    let text = read_spec_file("examples/streaming-response.sse");
    let chunks: Vec<CreateChatCompletionStreamResponse> = sse_payloads(&text)
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
    assert_eq!(
        chunks.last().unwrap().choices[0].finish_reason,
        Some(FinishReason::Stop)
    );
    let text: String = chunks.iter().filter_map(|c| c.first_content()).collect();
    assert!(!text.is_empty());
}

#[test]
fn schema_level_examples_fit_their_types() {
    let text = read_spec_file("examples/schema-examples.json");
    let examples: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    // A request that carries every field-level example where its schema location puts it.
    let mut request = serde_json::json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Hello"}],
        "audio": {"format": "mp3"},
    });
    for (location, example) in &examples {
        let json = example.to_string();
        let pointer = match location.as_str() {
            "ModelIdsShared" => {
                let m = check::<ModelIdsShared>(location, &json);
                assert_eq!(m.as_str(), example.as_str().unwrap());
                assert!(!m.is_unknown(), "{m:?} is a documented model id");
                "/model"
            }
            "VoiceIdsShared" => {
                let v = check::<VoiceIdsShared>(location, &json);
                assert_eq!(v.as_str(), example.as_str().unwrap());
                continue;
            }
            "StopConfiguration/oneOf[0]" => {
                let s = check::<StopConfiguration>(location, &json);
                assert!(matches!(s, StopConfiguration::Single(_)));
                continue;
            }
            "StopConfiguration/oneOf[1]/items" => "/stop/0",
            "CreateChatCompletionRequest/allOf[1].n" => "/n",
            "ModelResponseProperties.temperature/anyOf[0]" => "/temperature",
            "ModelResponseProperties.top_p/anyOf[0]" => "/top_p",
            "ModelResponseProperties.user" => "/user",
            "ModelResponseProperties.safety_identifier/anyOf[0]" => "/safety_identifier",
            "ModelResponseProperties.prompt_cache_key/anyOf[0]" => "/prompt_cache_key",
            "VoiceIdsOrCustomVoice/anyOf[1].id" => "/audio/voice/id",
            other => panic!("schema example {other} is not checked"),
        };
        set(&mut request, pointer, example.clone());
    }
    let r =
        check::<CreateChatCompletionRequest>("request with schema examples", &request.to_string());
    assert_eq!(r.n, Some(1));
    assert_eq!(r.temperature, Some(1.0));
    assert_eq!(r.user.as_deref(), Some("user-1234"));
    assert!(matches!(r.stop, Some(StopConfiguration::Multiple(ref v)) if v.len() == 1));
    let back = serde_json::to_value(&r).unwrap();
    assert_eq!(back["audio"]["voice"]["id"], "voice_1234");
}

/// Sets the value at a JSON pointer, creating objects and one-element arrays on the way.
fn set(root: &mut Value, pointer: &str, v: Value) {
    let mut cur = root;
    for part in pointer.trim_start_matches('/').split('/') {
        cur = if let Ok(i) = part.parse::<usize>() {
            if !cur.is_array() {
                *cur = Value::Array(Vec::new());
            }
            let a = cur.as_array_mut().unwrap();
            while a.len() <= i {
                a.push(Value::Null);
            }
            &mut a[i]
        } else {
            if !cur.is_object() {
                *cur = Value::Object(Default::default());
            }
            cur.as_object_mut()
                .unwrap()
                .entry(part)
                .or_insert(Value::Null)
        };
    }
    *cur = v;
}
