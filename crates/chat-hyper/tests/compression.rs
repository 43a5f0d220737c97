//! Compressed responses (features `gzip`, `br`, `zstd`): `Accept-Encoding`, decoding whole and
//! streamed bodies, limits on the decoded size, corrupt data.
#![cfg(all(feature = "gzip", feature = "br", feature = "zstd"))]

mod support;

use std::io::Write;

use async_compression::tokio::bufread::{BrotliEncoder, GzipEncoder, ZstdEncoder};
use bytes::Bytes;
use chat_hyper::chat_core::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
};
use chat_hyper::chat_core::{
    Client, Config, ErrorKind, StreamError, Transport, TransportErrorKind,
};
use chat_hyper::HyperTransport;
use http::Response;
use support::{builder, chunk_event, guard, post, serve, text, Server, TestBody};
use tokio::io::AsyncReadExt;

async fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzipEncoder::new(data).read_to_end(&mut out).await.unwrap();
    out
}

async fn encode(encoding: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => GzipEncoder::new(data).read_to_end(&mut out).await,
        "br" => BrotliEncoder::new(data).read_to_end(&mut out).await,
        "zstd" => ZstdEncoder::new(data).read_to_end(&mut out).await,
        other => panic!("{other}"),
    }
    .unwrap();
    out
}

/// A server answering every request with `body`, sent as `encoding`, and echoing the request's
/// `Accept-Encoding` in `x-accept-encoding`.
async fn compressed_server(encoding: &'static str, body: Vec<u8>) -> Server {
    let body = Bytes::from(body);
    serve(None, move |req: http::Request<hyper::body::Incoming>| {
        let body = body.clone();
        async move {
            let accept = req
                .headers()
                .get("accept-encoding")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_else(|| "<none>".into());
            Response::builder()
                .header("content-type", "application/json")
                .header("content-encoding", encoding)
                .header("content-length", body.len())
                .header("x-accept-encoding", accept)
                .body(TestBody::full(body))
                .unwrap()
        }
    })
    .await
}

fn client(server: &Server, transport: HyperTransport, config: Config) -> Client {
    let config = config
        .base_url(server.url("http", "/v1"))
        .api_key("sk-test");
    Client::try_new(config, transport).unwrap()
}

fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", [Message::user("Hi")])
}

const REPLY: &str = r#"{"id":"c1","object":"chat.completion","created":1,"model":"m",
"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Unpacked."}}]}"#;

#[tokio::test]
async fn every_enabled_encoding_is_asked_for_and_decoded() {
    for encoding in ["gzip", "br", "zstd"] {
        let server = compressed_server(encoding, encode(encoding, REPLY.as_bytes()).await).await;
        let transport = builder().build().unwrap();

        let response = guard(transport.send(post(&server.url("http", "/"), "{}")))
            .await
            .unwrap();

        assert_eq!(response.headers()["x-accept-encoding"], "gzip, br, zstd");
        assert!(
            response.headers().get("content-encoding").is_none(),
            "{encoding}"
        );
        assert!(
            response.headers().get("content-length").is_none(),
            "{encoding}"
        );
        assert_eq!(
            text(response.into_body()).await.unwrap(),
            REPLY,
            "{encoding}"
        );
    }
}

#[tokio::test]
async fn a_typed_reply_through_the_client() {
    let server = compressed_server("gzip", gzip(REPLY.as_bytes()).await).await;
    let client = client(&server, builder().build().unwrap(), Config::new());

    let response = guard(client.create_chat_completion(&request()))
        .await
        .unwrap();

    assert_eq!(response.first_content(), Some("Unpacked."));
}

#[tokio::test]
async fn a_caller_set_accept_encoding_is_kept() {
    let server = compressed_server("gzip", gzip(REPLY.as_bytes()).await).await;
    let transport = builder().build().unwrap();
    let mut request = post(&server.url("http", "/"), "{}");
    request
        .headers_mut()
        .insert("accept-encoding", "gzip;q=1.0".parse().unwrap());

    let response = guard(transport.send(request)).await.unwrap();

    assert_eq!(response.headers()["x-accept-encoding"], "gzip;q=1.0");
    assert_eq!(text(response.into_body()).await.unwrap(), REPLY);
}

#[tokio::test]
async fn an_encoding_not_decoded_passes_through_with_its_header() {
    let server = compressed_server("compress", b"opaque".to_vec()).await;
    let transport = builder().build().unwrap();

    let response = guard(transport.send(post(&server.url("http", "/"), "{}")))
        .await
        .unwrap();

    assert_eq!(response.headers()["content-encoding"], "compress");
    assert_eq!(text(response.into_body()).await.unwrap(), "opaque");
}

#[tokio::test]
async fn a_decompression_bomb_is_a_limit_error() {
    // 8 MiB of zeros, compressed to a few KiB; the client allows 1 MiB.
    let bomb = gzip(&vec![0u8; 8 << 20]).await;
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let server = compressed_server("gzip", bomb).await;
    let config = Config::new().max_response_bytes(1 << 20).max_retries(0);
    let client = client(&server, builder().build().unwrap(), config);

    let err = guard(client.create_chat_completion(&request()))
        .await
        .unwrap_err();

    match err.kind() {
        ErrorKind::Decode(e) => assert!(e.message.contains("exceeds the limit"), "{err}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_decoded_body_comes_in_bounded_chunks() {
    let server = compressed_server("zstd", encode("zstd", &vec![b'a'; 1 << 20]).await).await;
    let transport = builder().build().unwrap();
    let response = guard(transport.send(post(&server.url("http", "/"), "{}")))
        .await
        .unwrap();
    let mut body = response.into_body();
    let mut total = 0;
    while let Some(chunk) = guard(body.chunk()).await {
        let chunk = chunk.unwrap();
        assert!(chunk.len() <= 16 * 1024, "{}", chunk.len());
        total += chunk.len();
    }
    assert_eq!(total, 1 << 20);
}

#[tokio::test]
async fn corrupt_compressed_data_is_a_typed_error() {
    let mut corrupt = gzip(REPLY.as_bytes()).await;
    let middle = corrupt.len() / 2;
    corrupt[middle..].iter_mut().for_each(|b| *b ^= 0x5a);
    let server = compressed_server("gzip", corrupt).await;
    let transport = builder().build().unwrap();

    let response = guard(transport.send(post(&server.url("http", "/"), "{}")))
        .await
        .unwrap();
    let err = text(response.into_body()).await.unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::Other, "{err}");
    assert!(err.message().contains("gzip"), "{err}");
}

/// An SSE stream gzip-compressed part by part: each part is flushed, so it decodes alone.
struct GzipParts(flate2::write::GzEncoder<Vec<u8>>);

impl GzipParts {
    fn new() -> Self {
        GzipParts(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ))
    }
    fn part(&mut self, data: &str) -> Bytes {
        self.0.write_all(data.as_bytes()).unwrap();
        self.0.flush().unwrap();
        Bytes::from(std::mem::take(self.0.get_mut()))
    }
    fn finish(self) -> Bytes {
        Bytes::from(self.0.finish().unwrap())
    }
}

/// A server answering with a gzip-compressed event stream whose parts the test writes: each
/// request's body sender arrives on the returned channel.
async fn streaming_server() -> (
    Server,
    tokio::sync::mpsc::Receiver<tokio::sync::mpsc::Sender<Bytes>>,
) {
    let (senders_tx, senders_rx) = tokio::sync::mpsc::channel(4);
    let server = serve(None, move |_req| {
        let senders_tx = senders_tx.clone();
        async move {
            let (tx, body) = TestBody::channel();
            senders_tx.send(tx).await.unwrap();
            Response::builder()
                .header("content-type", "text/event-stream")
                .header("content-encoding", "gzip")
                .body(body)
                .unwrap()
        }
    })
    .await;
    (server, senders_rx)
}

#[tokio::test]
async fn a_compressed_stream_arrives_chunk_by_chunk() {
    let (server, mut senders) = streaming_server().await;
    let client = client(&server, builder().build().unwrap(), Config::new());

    let mut gz = GzipParts::new();
    let first = gz.part(&chunk_event("Hel"));
    // The client waits for the first bytes before it hands out the stream.
    let feeder = tokio::spawn(async move {
        let tx = senders.recv().await.unwrap();
        tx.send(first).await.unwrap();
        tx
    });
    let mut stream = guard(client.create_chat_completion_stream(&request()))
        .await
        .unwrap();
    let tx = guard(feeder).await.unwrap();
    // The server holds the rest: this chunk was decoded from the first part alone.
    let first = guard(stream.next()).await.unwrap().unwrap();
    assert_eq!(first.choices[0].delta.content.as_deref(), Some("Hel"));

    let rest = format!("{}data: [DONE]\n\n", chunk_event("lo"));
    tx.send(gz.part(&rest)).await.unwrap();
    tx.send(gz.finish()).await.unwrap();
    drop(tx);
    let second = guard(stream.next()).await.unwrap().unwrap();
    assert_eq!(second.choices[0].delta.content.as_deref(), Some("lo"));
    assert!(guard(stream.next()).await.is_none());
}

#[tokio::test]
async fn a_compressed_event_bomb_is_an_event_size_error() {
    let (server, mut senders) = streaming_server().await;
    let config = Config::new().max_event_bytes(64 * 1024).max_retries(0);
    let client = client(&server, builder().build().unwrap(), config);

    // One event of 8 MiB, a few KiB on the wire.
    let mut gz = GzipParts::new();
    let mut event = String::from("data: ");
    event.push_str(&"a".repeat(8 << 20));
    let part = gz.part(&event);
    assert!(part.len() < 64 * 1024, "{}", part.len());
    let feeder = tokio::spawn(async move {
        let tx = senders.recv().await.unwrap();
        tx.send(part).await.unwrap();
        tx
    });

    // The oversized event fails the stream: when it is opened, or at its first chunk.
    let err = match guard(client.create_chat_completion_stream(&request())).await {
        Err(err) => err,
        Ok(mut stream) => guard(stream.next()).await.unwrap().unwrap_err(),
    };
    drop(feeder);
    match err.kind() {
        ErrorKind::Stream(StreamError::EventTooLarge { limit, .. }) => {
            assert_eq!(*limit, 64 * 1024)
        }
        other => panic!("{other:?}"),
    }
}
