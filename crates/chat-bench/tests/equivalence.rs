//! The three implementations of every benchmark do the same work on the same input.

use serde_json::{json, Value};

use chat_bench::load::LoadClient;
use chat_bench::payload::{self, StreamKind};
use chat_bench::server::Server;
use chat_bench::work::{self, OurChunk, PeerChunk};
use chat_bench::{floor, peer, Implementation, Scenario};

type OurResponse = chat_types::CreateChatCompletionResponse;
type PeerResponse = async_openai::types::chat::CreateChatCompletionResponse;

fn content(v: &Value) -> &str {
    v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
}

#[test]
fn responses_parse_to_the_same_content() {
    for body in [
        payload::typical_response(),
        payload::long_text_response(65536),
        payload::logprobs_response(65536),
        payload::unknown_numbers_response(16384),
    ] {
        let value: Value = serde_json::from_str(&body).unwrap();
        let ours: OurResponse = serde_json::from_str(&body).unwrap();
        let peer: PeerResponse = serde_json::from_str(&body).unwrap();
        assert!(!content(&value).is_empty());
        assert_eq!(ours.first_content(), Some(content(&value)));
        assert_eq!(
            peer.choices[0].message.content.as_deref(),
            Some(content(&value))
        );
        assert_eq!(
            ours.usage.unwrap().total_tokens,
            value["usage"]["total_tokens"]
        );
    }
}

#[test]
fn every_chunk_parses_in_every_implementation() {
    let chunks = payload::stream_chunks(StreamKind::Content, 10_000);
    assert_eq!(work::parse_chunks::<OurChunk>(&chunks), 10_000);
    assert_eq!(work::parse_chunks::<PeerChunk>(&chunks), 10_000);
    assert_eq!(work::parse_chunks::<Value>(&chunks), 10_000);
}

#[test]
fn sse_decoders_see_the_same_events() {
    let body = payload::sse_body(&payload::stream_chunks(StreamKind::Content, 10_000));
    let pieces = payload::network_pieces(&body);
    let ours = work::sse_ours(&pieces);
    assert_eq!(ours.0, 10_001, "10,000 chunks and [DONE]");
    assert_eq!(work::sse_peer(&pieces), ours);
    assert_eq!(work::sse_floor(&pieces), ours);
}

#[test]
fn stream_pipelines_yield_the_same_chunks() {
    let chunks = payload::stream_chunks(StreamKind::Content, 10_000);
    let pieces = payload::network_pieces(&payload::sse_body(&chunks));
    let (mut ours, mut peer, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    work::stream_ours(pieces.clone(), |c| ours.push(c));
    work::stream_peer(pieces.clone(), |c| peer.push(c));
    work::stream_floor(&pieces, |c| floor.push(c));
    assert_eq!(
        (ours.len(), peer.len(), floor.len()),
        (10_000, 10_000, 10_000)
    );
    let text_ours: String = ours.iter().filter_map(|c| c.first_content()).collect();
    let text_peer: String = peer
        .iter()
        .filter_map(|c| c.choices.first()?.delta.content.as_deref())
        .collect();
    let text_floor: String = floor
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(text_ours.len() > 20_000);
    assert_eq!(text_ours, text_peer);
    assert_eq!(text_ours, text_floor);
}

/// The parts of a response every accumulator fills.
fn essentials(v: Value) -> Value {
    let m = &v["choices"][0]["message"];
    let calls: Vec<Value> = m["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| json!([c["id"], c["function"]["name"], c["function"]["arguments"]]))
        .collect();
    json!({
        "id": v["id"],
        "content": m["content"],
        "calls": calls,
        "finish": v["choices"][0]["finish_reason"],
        "usage": v["usage"]["completion_tokens"],
    })
}

#[test]
fn accumulators_build_the_same_response() {
    for kind in [StreamKind::Content, StreamKind::ToolCalls] {
        let chunks = payload::stream_chunks(kind, 200);
        let ours = work::accumulate_ours(
            chunks
                .iter()
                .map(|c| serde_json::from_str(c).unwrap())
                .collect(),
        );
        let peer = peer::accumulate(
            chunks
                .iter()
                .map(|c| serde_json::from_str(c).unwrap())
                .collect(),
        );
        let floor = floor::accumulate(
            chunks
                .iter()
                .map(|c| serde_json::from_str(c).unwrap())
                .collect(),
        );
        let ours = essentials(serde_json::to_value(ours).unwrap());
        let mut peer = essentials(serde_json::to_value(peer).unwrap());
        let mut floor = essentials(floor);
        // A tool-call-only message has no content; hand-written merges leave it empty.
        if ours["content"].is_null() {
            for v in [&mut peer, &mut floor] {
                if v["content"] == "" {
                    v["content"] = Value::Null;
                }
            }
        }
        assert_eq!(ours["usage"], 197);
        match kind {
            StreamKind::Content => assert!(ours["content"].as_str().unwrap().len() > 500),
            StreamKind::ToolCalls => {
                assert_eq!(ours["calls"].as_array().unwrap().len(), 2);
                let args = ours["calls"][1][2].as_str().unwrap();
                let parsed: Value = serde_json::from_str(args).unwrap();
                assert_eq!(parsed["city"], "Porto");
            }
        }
        assert_eq!(peer, ours, "{kind:?}");
        assert_eq!(floor, ours, "{kind:?}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_client_completes_every_scenario_on_loopback() {
    let server = Server::start().unwrap();
    for scenario in [Scenario::Small, Scenario::Large, Scenario::Stream] {
        let mut lengths = Vec::new();
        for implementation in Implementation::ALL {
            let client = LoadClient::new(implementation, &server.base_url(scenario)).unwrap();
            let started = std::time::Instant::now();
            let exchange = client
                .exchange(scenario, started)
                .await
                .unwrap_or_else(|e| panic!("{implementation:?} {scenario:?}: {e}"));
            if scenario.is_stream() {
                assert_eq!(exchange.chunks, 200);
                assert!(exchange.ttfc.is_some());
            } else {
                lengths.push(client.complete().await.unwrap());
            }
        }
        assert!(lengths.windows(2).all(|w| w[0] == w[1]), "{lengths:?}");
    }
    // An unknown route is an error for every client, not a hang or a panic.
    let base = format!("http://{}/nowhere/v1", server.addr());
    for implementation in Implementation::ALL {
        let client = LoadClient::new(implementation, &base).unwrap();
        assert!(client.complete().await.is_err(), "{implementation:?}");
    }
}

#[test]
fn unknown_numbers_are_kept_exactly() {
    let body = payload::unknown_numbers_response(16384);
    let value: Value = serde_json::from_str(&body).unwrap();
    let ours: OurResponse = serde_json::from_str(&body).unwrap();
    let kept = &ours.choices[0].message.extra["x_token_scores"];
    let want = &value["choices"][0]["message"]["x_token_scores"];
    assert!(want.as_array().is_some_and(|a| a.len() > 500));
    assert_eq!(kept, want);
    // Each number is the one Rust's own (correctly rounding) parser reads from the text.
    let text = body.split("\"x_token_scores\": [").nth(1).unwrap();
    let text = &text[..text.find(']').unwrap()];
    for (n, v) in text.split(',').zip(kept.as_array().unwrap()) {
        let expected: f64 = n.trim().parse().unwrap();
        assert_eq!(
            v.as_f64().map(f64::to_bits),
            Some(expected.to_bits()),
            "{n}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_client_completes_the_transport_feature_scenarios_it_takes_part_in() {
    let server = Server::start().unwrap();
    for scenario in Scenario::EXTRAS {
        let mut lengths = Vec::new();
        for implementation in Implementation::ALL {
            let built =
                LoadClient::for_scenario(implementation, scenario, &server.base_url(scenario));
            // The peer has no pacer and the floor no retries: they refuse those scenarios
            // instead of measuring something else under their name.
            let refused = match implementation {
                Implementation::Ours => false,
                Implementation::Floor => scenario.is_limited(),
                Implementation::Peer => scenario.is_paced(),
            };
            let Ok(client) = built else {
                assert!(refused, "{implementation:?} {scenario:?} refused");
                continue;
            };
            assert!(!refused, "{implementation:?} {scenario:?} accepted");
            lengths.push(
                client
                    .complete()
                    .await
                    .unwrap_or_else(|e| panic!("{implementation:?} {scenario:?}: {e}")),
            );
        }
        assert!(
            !lengths.is_empty() && lengths[0] > 0 && lengths.windows(2).all(|w| w[0] == w[1]),
            "{scenario:?}: {lengths:?}"
        );
    }
    // Within the limit nothing was answered 429.
    assert_eq!(server.rejected(), 0);
}
