//! The fault matrix: the whole client (chat-core over `HyperTransport`) against a hostile
//! loopback server speaking raw TCP, one test per fault. Each row checks the typed outcome,
//! how many attempts the client made (and the server saw), and a generous bound that proves
//! no hang; every error is also checked for the API key in its Display, Debug and sources.
//!
//! Timeouts are configured small (hundreds of milliseconds) and retry jitter is off, so the
//! suite is fast; no row asserts how fast anything is.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chat_hyper::chat_core::types::CreateChatCompletionResponse;
use chat_hyper::chat_core::{
    Client, Config, Error, ErrorKind, StreamError, TimeoutKind, TransportErrorKind,
};
use support::{builder, request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str = "sk-fault-matrix-secret";

/// The bound every row must finish within: proves "no hang", never "fast".
const BOUND: Duration = Duration::from_secs(20);

const COMPLETION: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}]}"#;

// ---------------------------------------------------------------------------------------------
// The hostile server

/// One thing the server does while answering a request.
#[derive(Clone, Debug)]
enum Step {
    /// Writes bytes (one TCP write).
    Send(Vec<u8>),
    /// Waits.
    Pause(Duration),
    /// Writes the bytes one at a time with a pause between them.
    Trickle(Vec<u8>, Duration),
    /// Writes `n` bytes of `b` in writes of 16 KiB until done or the client goes away.
    Flood(u8, usize),
    /// Resets the connection (RST, via a zero linger).
    Reset,
    /// Closes the connection (FIN).
    Close,
    /// Keeps the connection open without writing until the client closes it.
    Hold,
}

/// A loopback server answering the n-th request with `scripts[n]` (the last script repeats).
struct FaultServer {
    addr: std::net::SocketAddr,
    requests: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
    /// Bytes the `Flood` steps got written into the socket before the client went away.
    flooded: Arc<AtomicUsize>,
}

impl FaultServer {
    async fn start(scripts: Vec<Vec<Step>>) -> Self {
        Self::start_on("127.0.0.1", scripts).await
    }

    async fn start_on(ip: &str, scripts: Vec<Vec<Step>>) -> Self {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let flooded = Arc::new(AtomicUsize::new(0));
        let scripts = Arc::new(scripts);
        let (count, log, wrote) = (requests.clone(), heads.clone(), flooded.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (scripts, count, log) = (scripts.clone(), count.clone(), log.clone());
                tokio::spawn(serve_connection(tcp, scripts, count, log, wrote.clone()));
            }
        });
        FaultServer {
            addr,
            requests,
            heads,
            flooded,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn flooded(&self) -> usize {
        self.flooded.load(Ordering::SeqCst)
    }
}

async fn serve_connection(
    mut tcp: TcpStream,
    scripts: Arc<Vec<Vec<Step>>>,
    count: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<String>>>,
    flooded: Arc<AtomicUsize>,
) {
    loop {
        let Some(head) = read_request(&mut tcp).await else {
            return;
        };
        let n = count.fetch_add(1, Ordering::SeqCst);
        log.lock().unwrap().push(head);
        let script = &scripts[n.min(scripts.len() - 1)];
        for step in script {
            let ok = match step {
                Step::Send(bytes) => tcp.write_all(bytes).await.is_ok(),
                Step::Pause(d) => {
                    tokio::time::sleep(*d).await;
                    true
                }
                Step::Trickle(bytes, d) => {
                    let mut ok = true;
                    for b in bytes {
                        if tcp.write_all(&[*b]).await.is_err() {
                            ok = false;
                            break;
                        }
                        tokio::time::sleep(*d).await;
                    }
                    ok
                }
                Step::Flood(b, n) => {
                    let block = vec![*b; 16 * 1024];
                    let mut left = *n;
                    let mut ok = true;
                    while left > 0 {
                        let take = left.min(block.len());
                        if tcp.write_all(&block[..take]).await.is_err() {
                            ok = false;
                            break;
                        }
                        left -= take;
                        flooded.fetch_add(take, Ordering::SeqCst);
                    }
                    ok
                }
                Step::Reset => {
                    // A zero linger makes the close a reset and never blocks (the deprecation
                    // is about non-zero lingers blocking on drop).
                    #[allow(deprecated)]
                    let _ = tcp.set_linger(Some(Duration::ZERO));
                    return;
                }
                Step::Close => {
                    let _ = tcp.shutdown().await;
                    drain(&mut tcp).await;
                    return;
                }
                Step::Hold => {
                    drain(&mut tcp).await;
                    return;
                }
            };
            if !ok {
                return;
            }
        }
    }
}

/// Reads until the peer closes the connection (or it fails).
async fn drain(tcp: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
}

/// Reads one request (head and `content-length` body); returns its head, `None` at the end.
async fn read_request(tcp: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tcp.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut have = buf.len() - end;
    while have < length {
        let n = tcp.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        have += n;
    }
    Some(head)
}

/// A response with `content-length`.
fn answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn json(status: &str, body: &str) -> Step {
    Step::Send(answer(
        status,
        &[
            ("content-type", "application/json"),
            ("x-request-id", "req_f"),
        ],
        body.as_bytes(),
    ))
}

fn ok_json() -> Step {
    json("200 OK", COMPLETION)
}

/// The head of a streamed (chunked, `text/event-stream`) answer.
fn sse_head() -> Step {
    Step::Send(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nx-request-id: req_s\r\n\r\n"
            .to_vec(),
    )
}

/// One HTTP chunk carrying `data`.
fn chunk(data: &[u8]) -> Step {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    Step::Send(out)
}

/// The last HTTP chunk.
fn end_chunks() -> Step {
    Step::Send(b"0\r\n\r\n".to_vec())
}

/// A `data:` event of a chunk with `content` and optionally a finish reason.
fn event(content: &str, finish: Option<&str>) -> String {
    let finish = finish.map_or("null".to_owned(), |f| format!("\"{f}\""));
    format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\
         \"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}},\"finish_reason\":{finish}}}]}}\n\n"
    )
}

/// A whole well-formed event stream answer: "Hello" then `[DONE]`.
fn sse_ok() -> Vec<Step> {
    vec![
        sse_head(),
        chunk(event("Hel", None).as_bytes()),
        chunk(event("lo", Some("stop")).as_bytes()),
        chunk(b"data: [DONE]\n\n"),
        end_chunks(),
    ]
}

// ---------------------------------------------------------------------------------------------
// The client side

fn config(server: &FaultServer) -> Config {
    Config::new()
        .base_url(server.base_url())
        .api_key(KEY)
        .retry_jitter(false)
        .max_retries(2)
        .timeout(Duration::from_millis(800))
        .stream_idle_timeout(Duration::from_millis(400))
}

fn client(config: Config) -> Client {
    let transport = builder()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    Client::new(config, transport)
}

/// What a row ended with.
struct Outcome<T> {
    result: Result<T, Error>,
    /// Attempts the client reports (from the error or the response).
    attempts: u32,
}

impl<T> Outcome<T> {
    #[track_caller]
    fn ok(self) -> T {
        match self.result {
            Ok(v) => v,
            Err(e) => panic!("expected success, got {:?}: {e}", e.kind()),
        }
    }

    #[track_caller]
    fn err(self) -> Error {
        match self.result {
            Ok(_) => panic!("expected an error, got success"),
            Err(e) => e,
        }
    }
}

/// Fails if the key shows in the error's Display, Debug or any source.
#[track_caller]
fn assert_no_key(err: &Error) {
    let mut text = format!("{err} {err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!text.contains(KEY), "the key leaked: {text}");
}

/// Runs `f` under the bound.
async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    let start = Instant::now();
    let out = tokio::time::timeout(BOUND, f).await.expect("the row hung");
    assert!(start.elapsed() < BOUND);
    out
}

/// A non-streamed completion.
async fn create(client: &Client) -> Outcome<CreateChatCompletionResponse> {
    let result = bounded(client.create_chat_completion(&request())).await;
    match result {
        Ok(r) => Outcome {
            attempts: r.meta().attempts,
            result: Ok(r.into_inner()),
        },
        Err(e) => {
            assert_no_key(&e);
            Outcome {
                attempts: e.attempts(),
                result: Err(e),
            }
        }
    }
}

/// A streamed completion read to its end: the joined content.
async fn stream(client: &Client) -> Outcome<String> {
    let run = async {
        let mut stream = client.create_chat_completion_stream(&request()).await?;
        let attempts = stream.meta().attempts;
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(c) => text.push_str(c.first_content().unwrap_or_default()),
                Err(e) => return Err(e.with_attempts(attempts)),
            }
        }
        Ok((text, attempts))
    };
    match bounded(run).await {
        Ok((text, attempts)) => Outcome {
            result: Ok(text),
            attempts,
        },
        Err(e) => {
            assert_no_key(&e);
            Outcome {
                attempts: e.attempts(),
                result: Err(e),
            }
        }
    }
}

fn status(err: &Error) -> u16 {
    err.status().map_or(0, |s| s.as_u16())
}

fn transport_kind(err: &Error) -> Option<TransportErrorKind> {
    match err.kind() {
        ErrorKind::Transport(t) => Some(t.kind()),
        _ => None,
    }
}

fn timeout_kind(err: &Error) -> Option<TimeoutKind> {
    match err.kind() {
        ErrorKind::Timeout(t) => Some(t.kind),
        _ => None,
    }
}

#[track_caller]
fn assert_decode(err: &Error, needle: &str) {
    match err.kind() {
        ErrorKind::Decode(d) => assert!(
            format!("{err} {:?}", d.path).contains(needle),
            "{needle:?} not in {err} (path {:?})",
            d.path
        ),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Rows: retries and Retry-After

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let server = FaultServer::start(vec![
        vec![json("429 Too Many Requests", "{}").with_header("retry-after", "1")],
        vec![ok_json()],
    ])
    .await;
    let start = Instant::now();
    let out = create(&client(config(&server))).await;
    assert_eq!(out.attempts, 2);
    out.ok();
    // Sleeping never ends early: the wait is at least the second the server asked for.
    assert!(start.elapsed() >= Duration::from_millis(950));
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn retry_after_ms_is_honoured() {
    let server = FaultServer::start(vec![
        vec![json("503 Service Unavailable", "{}").with_header("retry-after-ms", "30")],
        vec![ok_json()],
    ])
    .await;
    let out = create(&client(config(&server))).await;
    assert_eq!(out.attempts, 2);
    assert_eq!(
        out.ok().choices[0].message.content.as_deref(),
        Some("Hello")
    );
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let at = std::time::SystemTime::now() + Duration::from_secs(2);
    let date = httpdate::fmt_http_date(at);
    let server = FaultServer::start(vec![
        vec![json("429 Too Many Requests", "{}").with_header("retry-after", &date)],
        vec![ok_json()],
    ])
    .await;
    let start = Instant::now();
    let out = create(&client(config(&server))).await;
    assert_eq!(out.attempts, 2);
    out.ok();
    // The date has whole seconds: the wait is between one and two seconds.
    assert!(start.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn retry_after_over_the_cap_falls_back_to_backoff() {
    let server = FaultServer::start(vec![
        vec![json("429 Too Many Requests", "{}").with_header("retry-after", "3600")],
        vec![ok_json()],
    ])
    .await;
    let out = create(&client(config(&server))).await;
    // Retried after the backoff, not after an hour (the bound would fail first).
    assert_eq!(out.attempts, 2);
    out.ok();
}

#[tokio::test]
async fn rate_limited_every_time_gives_up_after_the_retries() {
    let server = FaultServer::start(vec![vec![json(
        "429 Too Many Requests",
        r#"{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}"#,
    )
    .with_header("retry-after-ms", "10")]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_eq!(status(&err), 429);
    assert!(err.is_rate_limited());
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.request_id(), Some("req_f"));
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn insufficient_quota_is_not_retried() {
    let server = FaultServer::start(vec![vec![json(
        "429 Too Many Requests",
        r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
    )]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_eq!(status(&err), 429);
    assert_eq!(err.code().as_deref(), Some("insufficient_quota"));
    assert!(!err.is_retryable());
    assert_eq!(err.attempts(), 1);
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn x_should_retry_false_stops_retries_of_a_503() {
    let server = FaultServer::start(vec![vec![
        json("503 Service Unavailable", "{}").with_header("x-should-retry", "false")
    ]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_eq!(status(&err), 503);
    assert_eq!(err.attempts(), 1);
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn x_should_retry_true_retries_a_400() {
    let server = FaultServer::start(vec![
        vec![json("400 Bad Request", "{}")
            .with_header("x-should-retry", "true")
            .with_header("retry-after-ms", "10")],
        vec![ok_json()],
    ])
    .await;
    let out = create(&client(config(&server))).await;
    assert_eq!(out.attempts, 2);
    out.ok();
}

#[tokio::test]
async fn server_error_then_success() {
    let server = FaultServer::start(vec![
        vec![json(
            "500 Internal Server Error",
            r#"{"error":{"message":"oops"}}"#,
        )
        .with_header("retry-after-ms", "10")],
        vec![ok_json()],
    ])
    .await;
    let out = create(&client(config(&server))).await;
    assert_eq!(out.attempts, 2);
    out.ok();
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = FaultServer::start(vec![vec![json(
        "401 Unauthorized",
        r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#,
    )]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert!(err.is_auth());
    assert_eq!(err.attempts(), 1);
    assert!(err.to_string().contains("Incorrect API key"), "{err}");
}

#[tokio::test]
async fn html_error_page_of_a_proxy_keeps_its_text() {
    let page = "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>";
    let server = FaultServer::start(vec![vec![Step::Send(answer(
        "502 Bad Gateway",
        &[("content-type", "text/html"), ("retry-after-ms", "10")],
        page.as_bytes(),
    ))]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_eq!(status(&err), 502);
    assert_eq!(err.attempts(), 3);
    let api = err.api_error().unwrap();
    assert!(api.body.contains("nginx"), "{:?}", api.body);
}

// ---------------------------------------------------------------------------------------------
// Rows: bodies of a 200

#[tokio::test]
async fn html_page_with_status_200_is_a_decode_error() {
    let server = FaultServer::start(vec![vec![Step::Send(answer(
        "200 OK",
        &[("content-type", "text/html")],
        b"<html>captive portal: please log in</html>",
    ))]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_decode(&err, "captive portal");
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn empty_body_is_a_decode_error() {
    let server = FaultServer::start(vec![vec![json("200 OK", "")]]).await;
    let err = create(&client(config(&server))).await.err();
    assert_decode(&err, "empty");
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.request_id(), Some("req_f"));
}

#[tokio::test]
async fn invalid_json_is_a_decode_error() {
    let server = FaultServer::start(vec![vec![json("200 OK", "{not json at all")]]).await;
    let err = create(&client(config(&server))).await.err();
    assert_decode(&err, "not json");
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn truncated_json_is_a_decode_error() {
    let cut = &COMPLETION[..COMPLETION.len() / 2];
    let server = FaultServer::start(vec![vec![json("200 OK", cut)]]).await;
    let err = create(&client(config(&server))).await.err();
    assert_decode(&err, "EOF");
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn invalid_utf8_body_is_a_decode_error() {
    let body = COMPLETION.replace("Hello", "\u{FFFD}").into_bytes();
    let mut body = body;
    let at = body
        .windows(3)
        .position(|w| w == "\u{FFFD}".as_bytes())
        .unwrap();
    body[at..at + 3].copy_from_slice(b"\xff\xfe\xfd");
    let server = FaultServer::start(vec![vec![Step::Send(answer(
        "200 OK",
        &[("content-type", "application/json")],
        &body,
    ))]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_decode(&err, "UTF-8");
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn wrong_shape_names_the_path() {
    let body = COMPLETION.replace(r#""content":"Hello""#, r#""content":42"#);
    let server = FaultServer::start(vec![vec![json("200 OK", &body)]]).await;
    let err = create(&client(config(&server))).await.err();
    assert_decode(&err, "choices[0].message.content");
}

#[tokio::test]
async fn short_content_length_is_a_transport_error() {
    // Announces 500 bytes, sends 100, closes.
    let mut head =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n"
            .to_vec();
    head.extend_from_slice(&COMPLETION.as_bytes()[..100]);
    let server = FaultServer::start(vec![vec![Step::Send(head), Step::Close]]).await;
    let err = create(&client(config(&server).max_retries(0))).await.err();
    assert_eq!(transport_kind(&err), Some(TransportErrorKind::Io), "{err}");
    assert_eq!(err.attempts(), 1);
}

/// Whether the flood stops below `limit` bytes (it stops once the client closed).
async fn eventually_below(server: &FaultServer, limit: usize) -> bool {
    let mut last = usize::MAX;
    for _ in 0..50 {
        tokio::time::sleep(ms(40)).await;
        let now = server.flooded();
        if now == last {
            break;
        }
        last = now;
    }
    server.flooded() < limit
}

#[tokio::test]
async fn huge_body_hits_the_response_limit() {
    // 64 MiB announced against a limit of 64 KiB: refused without reading it all.
    let mut head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        64 << 20
    )
    .into_bytes();
    head.extend_from_slice(b"{\"pad\":\"");
    let server = FaultServer::start(vec![vec![
        Step::Send(head),
        Step::Flood(b'a', 64 << 20),
        Step::Hold,
    ]])
    .await;
    let err = create(&client(config(&server).max_response_bytes(64 * 1024)))
        .await
        .err();
    assert_decode(&err, "exceeds the limit of 65536 bytes");
    assert_eq!(err.attempts(), 1);
    // The client stopped reading and closed: the server could not push the rest (socket
    // buffers hold a few MiB at most).
    assert!(
        eventually_below(&server, 32 << 20).await,
        "{} bytes went through",
        server.flooded()
    );
}

#[tokio::test]
async fn a_200_that_is_not_a_completion_is_a_decode_error() {
    let server = FaultServer::start(vec![vec![json(
        "200 OK",
        r#"{"status":"queued","job_id":"j1"}"#,
    )]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_decode(&err, "choices");
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn an_empty_object_is_a_decode_error() {
    let server = FaultServer::start(vec![vec![json("200 OK", "{}")]]).await;
    let err = create(&client(config(&server))).await.err();
    assert_decode(&err, "choices");
}

#[tokio::test]
async fn undecodable_content_encoding_says_so() {
    let server = FaultServer::start(vec![vec![Step::Send(answer(
        "200 OK",
        &[
            ("content-type", "application/json"),
            ("content-encoding", "x-unheard-of"),
        ],
        b"\x1f\x8b\x08\x00binary noise\xff\x00",
    ))]])
    .await;
    let err = create(&client(config(&server))).await.err();
    match err.kind() {
        ErrorKind::Decode(d) => {
            assert_eq!(d.content_encoding.as_deref(), Some("x-unheard-of"), "{err}")
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(err.to_string().contains("x-unheard-of"), "{err}");
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn informational_responses_before_the_answer_are_skipped() {
    let mut bytes =
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n".to_vec();
    bytes.extend_from_slice(&answer(
        "200 OK",
        &[("content-type", "application/json")],
        COMPLETION.as_bytes(),
    ));
    let server = FaultServer::start(vec![vec![Step::Send(bytes)]]).await;
    let out = create(&client(config(&server))).await;
    assert_eq!(out.attempts, 1);
    assert_eq!(out.ok().choices.len(), 1);
}

#[tokio::test]
async fn chunked_garbage_is_a_protocol_error() {
    let server = FaultServer::start(vec![vec![
        Step::Send(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nZZZ\r\nhello\r\n"
                .to_vec(),
        ),
        Step::Hold,
    ]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_eq!(
        transport_kind(&err),
        Some(TransportErrorKind::Protocol),
        "{err}"
    );
    assert_eq!(err.attempts(), 1);
}

// ---------------------------------------------------------------------------------------------
// Rows: broken connections and heads

#[tokio::test]
async fn reset_before_headers_is_retried_and_names_the_host() {
    let server = FaultServer::start(vec![vec![Step::Reset]]).await;
    let err = create(&client(config(&server))).await.err();
    assert_eq!(transport_kind(&err), Some(TransportErrorKind::Io), "{err}");
    assert!(err.to_string().contains(&server.addr.to_string()), "{err}");
    assert_eq!(err.attempts(), 3);
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn close_before_headers_is_retried_then_succeeds() {
    let server = FaultServer::start(vec![vec![Step::Close], vec![ok_json()]]).await;
    let out = create(&client(config(&server))).await;
    assert_eq!(out.attempts, 2);
    out.ok();
}

#[tokio::test]
async fn half_a_head_then_close_names_the_host() {
    let server = FaultServer::start(vec![vec![
        Step::Send(b"HTTP/1.1 200 OK\r\ncontent-ty".to_vec()),
        Step::Close,
    ]])
    .await;
    let err = create(&client(config(&server).max_retries(0))).await.err();
    assert_eq!(transport_kind(&err), Some(TransportErrorKind::Io), "{err}");
    assert!(err.to_string().contains(&server.addr.to_string()), "{err}");
}

#[tokio::test]
async fn garbage_status_line_is_not_retried() {
    let server = FaultServer::start(vec![vec![
        Step::Send(b"SPLAT 200 whatever\r\n\r\n".to_vec()),
        Step::Hold,
    ]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_eq!(
        transport_kind(&err),
        Some(TransportErrorKind::Protocol),
        "{err}"
    );
    assert!(err.to_string().contains(&server.addr.to_string()), "{err}");
    assert_eq!(err.attempts(), 1);
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn too_many_headers_is_not_retried() {
    let many: String = (0..300).map(|i| format!("x-h{i}: v\r\n")).collect();
    let server = FaultServer::start(vec![vec![
        Step::Send(format!("HTTP/1.1 200 OK\r\n{many}\r\n").into_bytes()),
        Step::Hold,
    ]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_eq!(
        transport_kind(&err),
        Some(TransportErrorKind::Protocol),
        "{err}"
    );
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn reset_mid_body() {
    let mut head =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n"
            .to_vec();
    head.extend_from_slice(&COMPLETION.as_bytes()[..60]);
    let server = FaultServer::start(vec![vec![
        Step::Send(head),
        Step::Pause(ms(50)),
        Step::Reset,
    ]])
    .await;
    let err = create(&client(config(&server).max_retries(1))).await.err();
    assert_eq!(transport_kind(&err), Some(TransportErrorKind::Io), "{err}");
    // A body that broke off is retried like any transport error.
    assert_eq!(err.attempts(), 2);
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn silent_server_times_out_each_attempt() {
    let server = FaultServer::start(vec![vec![Step::Hold]]).await;
    let config = config(&server)
        .timeout(Duration::from_millis(200))
        .max_retries(1);
    let err = create(&client(config)).await.err();
    assert_eq!(timeout_kind(&err), Some(TimeoutKind::Request), "{err}");
    assert_eq!(err.attempts(), 2);
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn slow_loris_headers_hit_the_request_timeout() {
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".to_vec();
    let server = FaultServer::start(vec![vec![Step::Trickle(head, ms(40))]]).await;
    let config = config(&server)
        .timeout(Duration::from_millis(300))
        .max_retries(0);
    let err = create(&client(config)).await.err();
    assert_eq!(timeout_kind(&err), Some(TimeoutKind::Request), "{err}");
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn slow_loris_body_hits_the_request_timeout() {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: req_slow\r\n\r\n",
        COMPLETION.len()
    );
    let server = FaultServer::start(vec![vec![
        Step::Send(head.into_bytes()),
        Step::Trickle(COMPLETION.as_bytes().to_vec(), ms(40)),
    ]])
    .await;
    let config = config(&server)
        .timeout(Duration::from_millis(300))
        .max_retries(0);
    let err = create(&client(config)).await.err();
    assert_eq!(timeout_kind(&err), Some(TimeoutKind::Request), "{err}");
    // The error names the response that stalled.
    assert_eq!(err.request_id(), Some("req_slow"));
}

#[tokio::test]
async fn stall_after_the_head_times_out_and_retries() {
    let head =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 300\r\n\r\n{\"id\":"
            .to_vec();
    let server =
        FaultServer::start(vec![vec![Step::Send(head), Step::Hold], vec![ok_json()]]).await;
    let config = config(&server).timeout(Duration::from_millis(300));
    let out = create(&client(config)).await;
    assert_eq!(out.attempts, 2);
    out.ok();
}

#[tokio::test]
async fn overall_deadline_stops_retries() {
    let server = FaultServer::start(vec![vec![Step::Hold]]).await;
    let config = config(&server)
        .timeout(Duration::from_millis(300))
        .deadline(Duration::from_millis(500))
        .max_retries(5);
    let err = create(&client(config)).await.err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.attempts() < 6, "{}", err.attempts());
}

#[tokio::test]
async fn redirect_to_another_host_is_not_followed() {
    let elsewhere = FaultServer::start_on("127.0.0.2", vec![vec![ok_json()]]).await;
    let location = format!("http://{}/v1/chat/completions", elsewhere.addr);
    let server = FaultServer::start(vec![vec![Step::Send(answer(
        "307 Temporary Redirect",
        &[("location", &location)],
        b"",
    ))]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_eq!(status(&err), 307);
    assert_eq!(err.attempts(), 1);
    // The other host never saw a request, so never the Authorization header either.
    assert_eq!(elsewhere.requests(), 0);
    let heads = server.heads.lock().unwrap().clone();
    // The configured host did get the key: only the redirect target was spared.
    assert!(heads[0].contains(&format!("Bearer {KEY}")), "{}", heads[0]);
}

#[tokio::test]
async fn permanent_redirect_is_not_followed_either() {
    let server = FaultServer::start(vec![vec![Step::Send(answer(
        "301 Moved Permanently",
        &[("location", "/v2/chat/completions")],
        b"moved",
    ))]])
    .await;
    let err = create(&client(config(&server))).await.err();
    assert_eq!(status(&err), 301);
    assert_eq!(server.requests(), 1);
}

// ---------------------------------------------------------------------------------------------
// Rows: event streams

#[tokio::test]
async fn stream_reads_to_done() {
    let server = FaultServer::start(vec![sse_ok()]).await;
    let out = stream(&client(config(&server))).await;
    assert_eq!(out.attempts, 1);
    assert_eq!(out.ok(), "Hello");
}

#[tokio::test]
async fn stream_without_done_but_finished_succeeds() {
    let server = FaultServer::start(vec![vec![
        sse_head(),
        chunk(event("Hel", None).as_bytes()),
        chunk(event("lo", Some("stop")).as_bytes()),
        end_chunks(),
    ]])
    .await;
    assert_eq!(stream(&client(config(&server))).await.ok(), "Hello");
}

#[tokio::test]
async fn stream_without_done_or_finish_reason_is_truncated() {
    let server = FaultServer::start(vec![vec![
        sse_head(),
        chunk(event("Hel", None).as_bytes()),
        end_chunks(),
    ]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    assert!(
        matches!(err.kind(), ErrorKind::Stream(StreamError::Truncated { .. })),
        "{err}"
    );
    assert_eq!(err.request_id(), Some("req_s"));
}

#[tokio::test]
async fn stream_error_event_mid_stream_is_an_api_error() {
    let server = FaultServer::start(vec![vec![
        sse_head(),
        chunk(event("Hel", None).as_bytes()),
        chunk(b"event: error\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n"),
        end_chunks(),
    ]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    let api = err.api_error().expect("an API error");
    assert!(api.in_stream);
    assert!(err.to_string().contains("overloaded"), "{err}");
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn stream_error_payload_mid_stream_is_an_api_error() {
    let server = FaultServer::start(vec![vec![
        sse_head(),
        chunk(event("Hel", None).as_bytes()),
        chunk(b"data: {\"error\":{\"message\":\"context too long\",\"code\":\"context_length_exceeded\"}}\n\n"),
        end_chunks(),
    ]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    assert_eq!(err.code().as_deref(), Some("context_length_exceeded"));
}

#[tokio::test]
async fn stream_answered_with_json_completion_is_a_decode_error() {
    let server = FaultServer::start(vec![vec![ok_json()]]).await;
    let err = stream(&client(config(&server))).await.err();
    assert_decode(&err, "expected an event stream");
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn stream_answered_with_json_error_is_an_api_error() {
    let server = FaultServer::start(vec![vec![json(
        "200 OK",
        r#"{"error":{"message":"model not available","code":"model_not_found"}}"#,
    )]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    assert_eq!(err.code().as_deref(), Some("model_not_found"));
}

#[tokio::test]
async fn stream_answered_with_html_is_a_decode_error() {
    let server = FaultServer::start(vec![vec![Step::Send(answer(
        "200 OK",
        &[("content-type", "text/html; charset=utf-8")],
        b"<html>sign in to the wifi</html>",
    ))]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    assert_decode(&err, "text/html");
    assert_decode(&err, "sign in");
}

#[tokio::test]
async fn stream_answered_with_plain_text_is_an_empty_stream() {
    let server = FaultServer::start(vec![vec![Step::Send(answer(
        "200 OK",
        &[("content-type", "text/plain")],
        b"hello, this is not an event stream",
    ))]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Stream(StreamError::Truncated { .. } | StreamError::Empty { .. })
        ),
        "{err}"
    );
}

#[tokio::test]
async fn stream_with_empty_body_is_empty() {
    let server = FaultServer::start(vec![vec![sse_head(), end_chunks()]]).await;
    let err = stream(&client(config(&server))).await.err();
    assert!(
        matches!(err.kind(), ErrorKind::Stream(StreamError::Empty { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn stream_malformed_chunk_is_a_stream_error() {
    let server = FaultServer::start(vec![vec![
        sse_head(),
        chunk(b"data: {\"choices\": [oops]}\n\n"),
        end_chunks(),
    ]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    assert!(
        matches!(err.kind(), ErrorKind::Stream(StreamError::Malformed { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn stream_server_error_then_success_is_retried_before_the_head() {
    let mut ok = sse_ok();
    ok.insert(0, Step::Pause(ms(1)));
    let server = FaultServer::start(vec![
        vec![json("503 Service Unavailable", "{}").with_header("retry-after-ms", "10")],
        ok,
    ])
    .await;
    let out = stream(&client(config(&server))).await;
    assert_eq!(out.attempts, 2);
    assert_eq!(out.ok(), "Hello");
}

#[tokio::test]
async fn stream_reset_before_headers_is_retried() {
    let server = FaultServer::start(vec![vec![Step::Reset], sse_ok()]).await;
    let out = stream(&client(config(&server))).await;
    assert_eq!(out.attempts, 2);
    assert_eq!(out.ok(), "Hello");
}

#[tokio::test]
async fn stream_reset_mid_stream_is_a_transport_error() {
    let server = FaultServer::start(vec![vec![
        sse_head(),
        chunk(event("Hel", None).as_bytes()),
        Step::Pause(ms(50)),
        Step::Reset,
    ]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    assert_eq!(transport_kind(&err), Some(TransportErrorKind::Io), "{err}");
    // Chunks were handed out: a stream is never retried after its head.
    assert_eq!(err.attempts(), 1);
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn stream_stall_hits_the_idle_timeout() {
    let server = FaultServer::start(vec![vec![
        sse_head(),
        chunk(event("Hel", None).as_bytes()),
        Step::Hold,
    ]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    assert_eq!(timeout_kind(&err), Some(TimeoutKind::Idle), "{err}");
    assert_eq!(err.request_id(), Some("req_s"));
}

#[tokio::test]
async fn stream_of_keep_alive_comments_hits_the_stream_deadline() {
    let pings: Vec<Step> = std::iter::once(sse_head())
        .chain(
            std::iter::repeat_with(|| [chunk(b": ping\n\n"), Step::Pause(ms(50))])
                .take(200)
                .flatten(),
        )
        .collect();
    let server = FaultServer::start(vec![pings]).await;
    let config = config(&server).stream_deadline(Duration::from_millis(600));
    let err = stream(&client(config)).await.err();
    assert_eq!(
        timeout_kind(&err),
        Some(TimeoutKind::StreamDeadline),
        "{err}"
    );
}

#[tokio::test]
async fn stream_slow_loris_body_hits_the_idle_timeout_between_bytes() {
    // One byte every 600 ms, longer than the idle timeout of 400 ms.
    let server = FaultServer::start(vec![vec![
        Step::Send(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
                .to_vec(),
        ),
        Step::Trickle(event("Hello", Some("stop")).into_bytes(), ms(600)),
    ]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    assert_eq!(timeout_kind(&err), Some(TimeoutKind::Idle), "{err}");
}

#[tokio::test]
async fn stream_huge_event_hits_the_event_limit() {
    let mut big = b"data: {\"x\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'a', 100 * 1024));
    big.extend_from_slice(b"\"}\n\n");
    let server = FaultServer::start(vec![vec![sse_head(), chunk(&big), end_chunks()]]).await;
    let err = stream(&client(config(&server).max_event_bytes(16 * 1024)))
        .await
        .err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Stream(StreamError::EventTooLarge { limit: 16384, .. })
        ),
        "{err}"
    );
}

#[tokio::test]
async fn stream_endless_line_fails_early_with_memory_bounded() {
    // 64 MiB in one line without a line end, against a 64 KiB event limit: the client fails
    // after about the limit, long before the server could send it all; it holds no more
    // than the limit (the decoder checks before buffering more).
    let server = FaultServer::start(vec![vec![
        Step::Send(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: "
                .to_vec(),
        ),
        Step::Flood(b'z', 64 << 20),
        Step::Close,
    ]])
    .await;
    let err = stream(&client(config(&server).max_event_bytes(64 * 1024)))
        .await
        .err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Stream(StreamError::EventTooLarge { .. })
        ),
        "{err}"
    );
    assert!(
        eventually_below(&server, 32 << 20).await,
        "{} bytes went through",
        server.flooded()
    );
}

#[tokio::test]
async fn stream_invalid_utf8_is_malformed() {
    let server = FaultServer::start(vec![vec![
        sse_head(),
        chunk(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\xff\xfe\"}}]}\n\n"),
        end_chunks(),
    ]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    match err.kind() {
        ErrorKind::Stream(StreamError::Malformed { message, .. }) => {
            assert!(message.contains("UTF-8"), "{message}")
        }
        other => panic!("expected a malformed stream, got {other:?}"),
    }
}

#[tokio::test]
async fn stream_with_cr_line_ends() {
    let body =
        (event("Hel", None) + &event("lo", Some("stop")) + "data: [DONE]\n\n").replace('\n', "\r");
    let server =
        FaultServer::start(vec![vec![sse_head(), chunk(body.as_bytes()), end_chunks()]]).await;
    assert_eq!(stream(&client(config(&server))).await.ok(), "Hello");
}

#[tokio::test]
async fn stream_with_crlf_line_ends() {
    let body = (event("Hel", None) + &event("lo", Some("stop")) + "data: [DONE]\n\n")
        .replace('\n', "\r\n");
    let server =
        FaultServer::start(vec![vec![sse_head(), chunk(body.as_bytes()), end_chunks()]]).await;
    assert_eq!(stream(&client(config(&server))).await.ok(), "Hello");
}

#[tokio::test]
async fn stream_with_crlf_split_across_packets() {
    // Every CRLF is cut between CR and LF across two TCP writes with a pause between them.
    let body = (event("Hel", None) + &event("lo", Some("stop")) + "data: [DONE]\n\n")
        .replace('\n', "\r\n");
    let mut steps = vec![Step::Send(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n".to_vec(),
    )];
    for part in body.split_inclusive('\r') {
        steps.push(Step::Send(part.as_bytes().to_vec()));
        steps.push(Step::Pause(ms(5)));
    }
    steps.push(Step::Close);
    let server = FaultServer::start(vec![steps]).await;
    assert_eq!(stream(&client(config(&server))).await.ok(), "Hello");
}

#[tokio::test]
async fn stream_with_byte_order_mark() {
    let body = format!(
        "\u{FEFF}{}{}data: [DONE]\n\n",
        event("Hel", None),
        event("lo", Some("stop"))
    );
    let server =
        FaultServer::start(vec![vec![sse_head(), chunk(body.as_bytes()), end_chunks()]]).await;
    assert_eq!(stream(&client(config(&server))).await.ok(), "Hello");
}

#[tokio::test]
async fn stream_after_informational_responses() {
    let mut head = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
    head.extend_from_slice(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    let mut steps = sse_ok();
    steps[0] = Step::Send(head);
    let server = FaultServer::start(vec![steps]).await;
    assert_eq!(stream(&client(config(&server))).await.ok(), "Hello");
}

#[tokio::test]
async fn stream_chunked_garbage_mid_stream_is_a_protocol_error() {
    let server = FaultServer::start(vec![vec![
        sse_head(),
        chunk(event("Hel", None).as_bytes()),
        Step::Send(b"not-hex\r\nwhatever\r\n".to_vec()),
        Step::Hold,
    ]])
    .await;
    let err = stream(&client(config(&server))).await.err();
    assert_eq!(
        transport_kind(&err),
        Some(TransportErrorKind::Protocol),
        "{err}"
    );
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn stream_silent_server_times_out_before_the_head() {
    let server = FaultServer::start(vec![vec![Step::Hold]]).await;
    let config = config(&server)
        .timeout(Duration::from_millis(200))
        .max_retries(0);
    let err = stream(&client(config)).await.err();
    assert_eq!(timeout_kind(&err), Some(TimeoutKind::Request), "{err}");
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn stream_rate_limited_with_retry_after_ms() {
    let server = FaultServer::start(vec![
        vec![json("429 Too Many Requests", "{}").with_header("retry-after-ms", "20")],
        sse_ok(),
    ])
    .await;
    let out = stream(&client(config(&server))).await;
    assert_eq!(out.attempts, 2);
    assert_eq!(out.ok(), "Hello");
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Adds a header to a `Send` step holding a response head.
trait WithHeader {
    fn with_header(self, name: &str, value: &str) -> Self;
}

impl WithHeader for Step {
    fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Step::Send(bytes) => {
                let at = bytes.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
                let mut out = bytes[..at].to_vec();
                out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
                out.extend_from_slice(&bytes[at..]);
                Step::Send(out)
            }
            other => other,
        }
    }
}
