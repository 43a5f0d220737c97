//! Run with `cargo run --example custom_transport`.
//!
//! Plugging your own HTTP backend into the client: `TinyHttp` is a minimal HTTP/1.1 client
//! for `http://` URLs over tokio's `TcpStream`, and `Logged` wraps any transport to log each
//! exchange. Retries, timeouts, SSE and decoding stay the client's job. The example talks to
//! chat-mock's `MockServer` on 127.0.0.1 (or to `OPENAI_BASE_URL` if it is an `http://` URL,
//! such as a local Ollama), once for a whole answer and once for a stream.

use std::io::Write;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use chat_core::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use chat_core::{async_trait, Body, Client, Config, Transport, TransportError};
use chat_examples::{Env, Error};
use chat_mock::{Match, MockResponse, MockServer, MockStream, MockTransport};
use http::header::{HeaderName, HeaderValue};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// The longest line of a response head accepted.
const MAX_LINE: u64 = 16 * 1024;
/// The most header lines accepted.
const MAX_HEADERS: usize = 128;
/// The largest chunk of a chunked body accepted.
const MAX_CHUNK: usize = 16 * 1024 * 1024;

/// A minimal HTTP/1.1 transport for `http://` URLs: one connection per request
/// (`connection: close`); the body streams chunk by chunk (content-length, chunked, or until
/// the server closes).
#[derive(Debug, Default)]
pub struct TinyHttp;

#[async_trait]
impl Transport for TinyHttp {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Body>, TransportError> {
        let uri = request.uri();
        let Some(authority) = uri.authority().filter(|_| uri.scheme_str() == Some("http")) else {
            // Not retried, unlike other transport errors: no attempt can succeed.
            return Err(TransportError::tls(
                "TinyHttp has no TLS; it speaks only http:// URLs",
            ));
        };
        let addr = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(80)
        );
        let stream = TcpStream::connect(&addr).await.map_err(|e| {
            TransportError::connect(format!("cannot connect to {addr}")).with_source(e)
        })?;
        let mut conn = BufReader::new(stream);

        let target = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut head = format!(
            "{} {target} HTTP/1.1\r\nhost: {authority}\r\n",
            request.method()
        )
        .into_bytes();
        for (name, value) in request.headers() {
            head.extend_from_slice(
                &[name.as_str().as_bytes(), b": ", value.as_bytes(), b"\r\n"].concat(),
            );
        }
        let body = request.body();
        head.extend_from_slice(
            format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        let io = |e: std::io::Error| TransportError::io("the connection failed").with_source(e);
        conn.write_all(&head).await.map_err(io)?;
        conn.write_all(body).await.map_err(io)?;

        // The status line and headers.
        let status_line = read_line(&mut conn).await.map_err(io)?;
        let code = status_line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok());
        let status = code
            .and_then(|c| http::StatusCode::from_u16(c).ok())
            .ok_or_else(|| {
                TransportError::io(format!(
                    "not an HTTP response: {:?}",
                    status_line.trim_end()
                ))
            })?;
        let mut response = http::Response::new(Body::empty());
        *response.status_mut() = status;
        loop {
            let line = read_line(&mut conn).await.map_err(io)?;
            let line = line.trim_end();
            if line.is_empty() {
                break; // the end of the head
            }
            let header = line.split_once(':').and_then(|(name, value)| {
                Some((
                    HeaderName::try_from(name).ok()?,
                    HeaderValue::try_from(value.trim()).ok()?,
                ))
            });
            match header {
                Some((n, v)) if response.headers().len() < MAX_HEADERS => {
                    response.headers_mut().append(n, v);
                }
                _ => return Err(TransportError::io(format!("bad response header {line:?}"))),
            }
        }
        let headers = response.headers();
        let framing = if headers
            .get("transfer-encoding")
            .is_some_and(|v| v.as_bytes().ends_with(b"chunked"))
        {
            Framing::Chunked
        } else if let Some(n) = headers
            .get("content-length")
            .and_then(|v| v.to_str().ok()?.parse().ok())
        {
            Framing::Length(n)
        } else {
            Framing::UntilClose
        };

        // A task reads the body into a channel of one chunk, so reading waits for the client;
        // dropping the body ends the task and closes the connection.
        let (tx, rx) = mpsc::channel(1);
        tokio::spawn(async move {
            if let Err(e) = read_body(&mut conn, framing, &tx).await {
                let _ = tx.send(Err(io(e))).await;
            }
        });
        *response.body_mut() = Body::from_stream(Chunks(rx));
        Ok(response)
    }
}

/// Reads one line of at most [`MAX_LINE`] bytes; the end of input is an error.
async fn read_line(conn: &mut (impl AsyncBufRead + Unpin)) -> std::io::Result<String> {
    let mut line = String::new();
    if conn.take(MAX_LINE).read_line(&mut line).await? == 0 || !line.ends_with('\n') {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line)
}

/// How the end of a response body is marked.
#[derive(Debug, Clone, Copy)]
enum Framing {
    /// `content-length` bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// The server closes the connection.
    UntilClose,
}

/// Reads the body and sends it to `tx` chunk by chunk; stops early when the receiver is gone.
async fn read_body(
    conn: &mut BufReader<TcpStream>,
    framing: Framing,
    tx: &mpsc::Sender<Result<Bytes, TransportError>>,
) -> std::io::Result<()> {
    let mut left = match framing {
        Framing::Length(n) => n,
        _ => u64::MAX,
    };
    while left > 0 {
        let chunk = match framing {
            Framing::Length(_) | Framing::UntilClose => {
                let buf = conn.fill_buf().await?;
                if buf.is_empty() {
                    return match framing {
                        Framing::UntilClose => Ok(()),
                        _ => Err(std::io::ErrorKind::UnexpectedEof.into()),
                    };
                }
                let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let chunk = Bytes::copy_from_slice(&buf[..n]);
                conn.consume(n);
                if let Framing::Length(_) = framing {
                    left -= n as u64;
                }
                chunk
            }
            Framing::Chunked => {
                let line = read_line(conn).await?;
                let size = line.trim_end().split(';').next().unwrap_or("");
                let size = usize::from_str_radix(size.trim(), 16)
                    .ok()
                    .filter(|&s| s <= MAX_CHUNK)
                    .ok_or_else(|| std::io::Error::other(format!("bad chunk size {size:?}")))?;
                if size == 0 {
                    return Ok(()); // the last chunk
                }
                let mut chunk = vec![0; size];
                conn.read_exact(&mut chunk).await?;
                read_line(conn).await?; // the CRLF after the chunk
                chunk.into()
            }
        };
        if tx.send(Ok(chunk)).await.is_err() {
            return Ok(()); // the body was dropped
        }
    }
    Ok(())
}

/// The receiving end of the body channel, as the chunk stream [`Body::from_stream`] takes.
struct Chunks(mpsc::Receiver<Result<Bytes, TransportError>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, TransportError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// Wraps a transport and logs every exchange (method, URL, status, content type) into a
/// shared list; a real app would use `tracing` or `log`. Headers are not logged: they carry
/// the API key.
#[derive(Debug)]
pub struct Logged<T> {
    inner: T,
    log: Arc<Mutex<Vec<String>>>,
}

impl<T> Logged<T> {
    /// Wraps `inner`, logging into `log`.
    pub fn new(inner: T, log: Arc<Mutex<Vec<String>>>) -> Self {
        Logged { inner, log }
    }

    fn push(&self, line: String) {
        if let Ok(mut log) = self.log.lock() {
            log.push(line);
        }
    }
}

#[async_trait]
impl<T: Transport> Transport for Logged<T> {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Body>, TransportError> {
        let what = format!(
            "{} {} ({} bytes)",
            request.method(),
            request.uri(),
            request.body().len()
        );
        match self.inner.send(request).await {
            Ok(response) => {
                let content_type = response.headers().get("content-type");
                let content_type = content_type.and_then(|v| v.to_str().ok()).unwrap_or("-");
                self.push(format!("{what} -> {} {content_type}", response.status()));
                Ok(response)
            }
            Err(e) => {
                self.push(format!("{what} -> failed: {e}"));
                Err(e)
            }
        }
    }
}

/// The whole answer of the mock server.
pub const PLAIN_ANSWER: &str = "Hello over plain HTTP/1.1, through TinyHttp!";
/// The streamed answer of the mock server.
pub const STREAMED_ANSWER: &str = "This answer was streamed chunk by chunk through TinyHttp.";

/// Sends one plain and one streamed request through `Logged<TinyHttp>` and prints the
/// answers and the log to `out`.
pub async fn run(env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let local = env
        .get("OPENAI_BASE_URL")
        .filter(|u| u.starts_with("http://"));
    let mut server = None;
    let base_url = match local {
        Some(url) => url.to_owned(),
        None => {
            let mock = MockTransport::new();
            mock.check_on_drop(false);
            mock.on(Match::chat().stream(false))
                .respond(MockResponse::text(PLAIN_ANSWER))
                .always();
            mock.on(Match::chat().stream(true))
                .respond_stream(MockStream::text(STREAMED_ANSWER).chunk_words())
                .always();
            let started = MockServer::try_start(mock).await?;
            writeln!(
                err,
                "note: talking to chat-mock's loopback server at {}",
                started.base_url()
            )?;
            server.insert(started).base_url()
        }
    };

    let log = Arc::new(Mutex::new(Vec::new()));
    let key = env.get("OPENAI_API_KEY").unwrap_or("sk-loopback-demo");
    let config = Config::new().base_url(base_url).api_key(key);
    let client = Client::try_new(config, Logged::new(TinyHttp, log.clone()))?;
    let request = CreateChatCompletionRequest::new(env.model(), [Message::user("Say hello.")]);

    let response = client.create_chat_completion(&request).await?;
    writeln!(
        out,
        "answer:   {}",
        response.first_content().unwrap_or("(no text)")
    )?;

    write!(out, "streamed: ")?;
    let mut stream = client.create_chat_completion_stream(&request).await?;
    while let Some(chunk) = stream.next().await {
        out.write_all(chunk?.first_content().unwrap_or_default().as_bytes())?;
        out.flush()?;
    }
    writeln!(out)?;

    for line in log.lock().map(|l| l.clone()).unwrap_or_default() {
        writeln!(out, "log:      {line}")?;
    }
    if let Some(server) = &server {
        writeln!(
            out,
            "the mock server received {} requests",
            server.mock().request_count()
        )?;
    }
    Ok(())
}

/// Runs the example with the process environment.
#[tokio::main]
pub async fn main() -> ExitCode {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    chat_examples::exit_code(run(&Env::from_process(), &mut out, &mut err).await)
}
