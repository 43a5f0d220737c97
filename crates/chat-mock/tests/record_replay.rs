//! Record/replay: `RecordingTransport` saves exchanges (chunk boundaries, errors, redacted
//! secrets) to a cassette file and `ReplayTransport` serves them back in order or by request.

mod support;

use std::path::PathBuf;

use bytes::Bytes;
use chat_core::{TransportError, TransportErrorKind};
use chat_mock::{
    Cassette, MockResponse, MockStream, MockTransport, RecordingTransport, ReplayOrder,
    ReplayTransport,
};
use support::*;

fn cassette_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("chat-mock-{name}.json"))
}

/// What a client sees of one exchange: status, content type, chunks, error kind.
#[derive(Debug, PartialEq)]
struct Seen {
    status: Option<u16>,
    content_type: Option<String>,
    request_id: Option<String>,
    chunks: Vec<Bytes>,
    error: Option<TransportErrorKind>,
}

async fn see(t: &dyn chat_core::Transport, req: http::Request<Bytes>) -> Seen {
    match t.send(req).await {
        Err(e) => Seen {
            status: None,
            content_type: None,
            request_id: None,
            chunks: Vec::new(),
            error: Some(e.kind()),
        },
        Ok(resp) => {
            let header = |n: &str| {
                resp.headers()
                    .get(n)
                    .map(|v| v.to_str().unwrap().to_owned())
            };
            let status = Some(resp.status().as_u16());
            let content_type = header("content-type");
            let request_id = header("x-request-id");
            let (chunks, err) = chunks(resp.into_body()).await;
            Seen {
                status,
                content_type,
                request_id,
                chunks,
                error: err.as_ref().map(TransportError::kind),
            }
        }
    }
}

fn script() -> MockTransport {
    let upstream = MockTransport::new();
    upstream.push(MockResponse::text("recorded answer").request_id("req_upstream_1"));
    upstream.push(MockStream::text("streamed and recorded").split_bytes(7));
    upstream.push(MockResponse::error(429).retry_after(1));
    upstream.push(MockResponse::connect_refused());
    upstream.push(MockStream::text("one two three").disconnect_after(2));
    upstream
}

fn requests() -> Vec<http::Request<Bytes>> {
    vec![
        ask("gpt-4o", "first"),
        ask_stream("gpt-4o", "second"),
        ask("gpt-4o", "third"),
        ask("gpt-4o", "fourth"),
        ask_stream("gpt-4o", "fifth"),
    ]
}

#[tokio::test]
async fn recorded_exchanges_replay_identically_from_a_file() {
    let upstream = script();
    let recording = RecordingTransport::new(upstream.clone());
    let mut live = Vec::new();
    for req in requests() {
        live.push(see(&recording, req).await);
    }
    upstream.assert_all_used();
    let path = cassette_path("roundtrip");
    recording.save(&path).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("sk-test-secret"),
        "the key must not be saved"
    );
    assert!(text.contains("\"authorization\": \"[redacted]\""), "{text}");
    let cassette = recording.cassette();
    assert_eq!(cassette.interactions.len(), 5);
    assert!(cassette.interactions.iter().all(|i| i.complete));
    assert_eq!(Cassette::load(&path).unwrap(), cassette);

    let replay = ReplayTransport::from_file(&path, ReplayOrder::InOrder).unwrap();
    let mut replayed = Vec::new();
    for req in requests() {
        replayed.push(see(&replay, req).await);
    }
    assert_eq!(replayed, live);
    // Chunk boundaries survive: the stream was cut into 7-byte pieces.
    assert!(live[1].chunks.len() > 3 && live[1].chunks.iter().all(|c| c.len() <= 7));
    assert_eq!(
        live[1].content_type.as_deref(),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(live[0].request_id.as_deref(), Some("req_upstream_1"));
    assert_eq!(live[3].error, Some(TransportErrorKind::Connect));
    assert_eq!(
        (live[4].chunks.len(), live[4].error),
        (2, Some(TransportErrorKind::Io))
    );
    replay.mock().assert_all_used();
    assert_eq!(
        replay.mock().request(2).last_user_message().as_deref(),
        Some("third")
    );
}

#[tokio::test]
async fn matching_replay_serves_by_method_path_and_body() {
    let upstream = MockTransport::new();
    upstream.push(MockResponse::text("for a"));
    upstream.push(MockResponse::text("for b"));
    let recording = RecordingTransport::new(upstream);
    see(&recording, ask("m", "a")).await;
    see(&recording, ask("m", "b")).await;
    let replay = ReplayTransport::new(&recording.cassette(), ReplayOrder::MatchRequests);

    let c = completion(&replay, ask("m", "b")).await;
    assert_eq!(c.first_content(), Some("for b"));
    let c = completion(&replay, ask("m", "a")).await;
    assert_eq!(c.first_content(), Some("for a"));
    // A request that was never recorded gets the mock's unmatched answer.
    let (parts, _) = send_full(&replay, ask("m", "c")).await;
    assert_eq!(parts.status, 500);
    let err = replay.mock().verify().unwrap_err();
    assert!(
        err.to_string().contains("request #2 matched no rule"),
        "{err}"
    );
    replay.mock().check_on_drop(false);
}

#[test]
fn a_missing_or_broken_cassette_is_an_error_not_a_panic() {
    let err = ReplayTransport::from_file(cassette_path("does-not-exist"), ReplayOrder::InOrder)
        .unwrap_err();
    assert!(err.to_string().starts_with("cannot read cassette"), "{err}");
    let path = cassette_path("broken");
    std::fs::write(&path, "{\"chat_mock_cassette\": 1, \"interactions\": [{}]}").unwrap();
    let err = Cassette::load(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("interactions[0].request is missing"),
        "{err}"
    );
}

#[tokio::test]
async fn chosen_headers_are_redacted_too() {
    let upstream = MockTransport::new();
    upstream.push(MockResponse::text("hi").header("openai-organization", "org-upstream"));
    let recording = RecordingTransport::new(upstream).redact_header("OpenAI-Organization");
    let req = http::Request::post("https://api.openai.com/v1/chat/completions")
        .header("openai-organization", "org-private")
        .header("x-team", "blue")
        .body(Bytes::from_static(br#"{"model":"m","messages":[]}"#))
        .unwrap();
    see(&recording, req).await;
    let interaction = &recording.cassette().interactions[0];
    let header = |pairs: &[(String, String)], name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header(&interaction.request_headers, "openai-organization").as_deref(),
        Some(chat_mock::REDACTED)
    );
    assert_eq!(
        header(&interaction.response_headers, "openai-organization").as_deref(),
        Some(chat_mock::REDACTED)
    );
    assert_eq!(
        header(&interaction.request_headers, "x-team").as_deref(),
        Some("blue")
    );
}

#[tokio::test(start_paused = true)]
async fn a_recorded_timeout_replays_as_a_hang_until_the_clients_timeout() {
    use chat_core::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    use std::time::Duration;

    let upstream = MockTransport::new();
    upstream.push(MockResponse::hang());
    upstream.push(MockStream::text("one two three four").hang_after(3));
    let recording = RecordingTransport::new(upstream.clone());
    let config = || {
        MockTransport::client_config()
            .max_retries(0)
            .timeout(Duration::from_secs(5))
            .stream_idle_timeout(Duration::from_secs(5))
    };
    let request = CreateChatCompletionRequest::new("m", [Message::user("slow")]);
    let live = chat_core::Client::new(config(), recording.clone());
    let e = live.create_chat_completion(&request).await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    let stream = live.create_chat_completion_stream(&request).await.unwrap();
    let e = stream.final_response().await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    let path = cassette_path("timeouts");
    recording.save(&path).unwrap();

    let replay = ReplayTransport::from_file(&path, ReplayOrder::InOrder).unwrap();
    let client = chat_core::Client::new(config(), replay.clone());
    let started = tokio::time::Instant::now();
    let e = client.create_chat_completion(&request).await.unwrap_err();
    assert!(
        e.is_timeout(),
        "replayed as a hang, not a closed connection: {e}"
    );
    // The client waited for its own timeout (on the paused clock), as it did live.
    assert!(started.elapsed() >= Duration::from_secs(5));
    let stream = client
        .create_chat_completion_stream(&request)
        .await
        .unwrap();
    let e = stream.final_response().await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    replay.mock().assert_all_used();
}

#[tokio::test]
async fn matching_replay_tells_pages_apart_by_query_string() {
    let upstream = MockTransport::new();
    upstream.push(MockResponse::json(200, serde_json::json!({"page": 1})));
    upstream.push(MockResponse::json(200, serde_json::json!({"page": 2})));
    let recording = RecordingTransport::new(upstream);
    let get = |uri: &str| {
        http::Request::get(uri)
            .header("authorization", "Bearer sk-test-secret")
            .body(Bytes::new())
            .unwrap()
    };
    let base = "https://api.openai.com/v1/chat/completions";
    see(&recording, get(&format!("{base}?limit=2"))).await;
    see(&recording, get(&format!("{base}?limit=2&after=chatcmpl-2"))).await;
    let replay = ReplayTransport::new(&recording.cassette(), ReplayOrder::MatchRequests);

    // Asked in the other order, and with the parameters reordered, each gets its own page.
    let page = |s: Seen| String::from_utf8(s.chunks.concat()).unwrap();
    let second = see(&replay, get(&format!("{base}?after=chatcmpl-2&limit=2"))).await;
    assert_eq!(page(second), r#"{"page":2}"#);
    let first = see(&replay, get(&format!("{base}?limit=2"))).await;
    assert_eq!(page(first), r#"{"page":1}"#);
    // A query never recorded matches nothing.
    let other = see(&replay, get(&format!("{base}?limit=3"))).await;
    assert_eq!(other.status, Some(500));
    replay.mock().check_on_drop(false);
}
