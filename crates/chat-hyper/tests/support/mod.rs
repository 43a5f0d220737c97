//! Loopback test servers, certificates and request helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use chat_hyper::chat_core::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
};
use chat_hyper::chat_core::TransportError;
use chat_hyper::{Certificate, HyperTransport, HyperTransportBuilder, Proxy};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

/// A guard against hangs in tests; never an assertion about speed.
pub const HANG_GUARD: Duration = Duration::from_secs(20);

/// Awaits `f`, failing the test if it hangs.
pub async fn guard<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG_GUARD, f)
        .await
        .expect("operation hung")
}

/// A builder that ignores proxy variables of the machine running the tests.
pub fn builder() -> HyperTransportBuilder {
    HyperTransport::builder().proxy(Proxy::none())
}

/// A POST with a JSON body.
pub fn post(url: &str, json: &str) -> http::Request<Bytes> {
    http::Request::post(url)
        .header("content-type", "application/json")
        .header("authorization", "Bearer sk-test")
        .body(Bytes::copy_from_slice(json.as_bytes()))
        .unwrap()
}

/// A certificate authority made for one test.
pub struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let pem = params.self_signed(&key).unwrap().pem();
        TestCa { params, key, pem }
    }

    /// The CA certificate in PEM form.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The CA certificate as a root for the client.
    pub fn root(&self) -> Certificate {
        Certificate::from_pem(&self.pem).unwrap()
    }

    /// A certificate for `names` (DNS names or IP addresses) signed by this CA, with its key.
    fn signed(&self, names: &[&str]) -> (rcgen::Certificate, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let issuer = Issuer::from_params(&self.params, &self.key);
        (params.signed_by(&key, &issuer).unwrap(), key)
    }

    /// A server certificate for `names` (DNS names or IP addresses) signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let (cert, key) = self.signed(names);
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (vec![cert.der().clone()], key)
    }

    /// A certificate for `names` signed by this CA and its key, both as PEM text (for a
    /// client identity).
    #[allow(dead_code)]
    pub fn leaf_pem(&self, names: &[&str]) -> (String, String) {
        let (cert, key) = self.signed(names);
        (cert.pem(), key.serialize_pem())
    }

    /// A TLS acceptor presenting a certificate for `names`, offering `alpn` protocols.
    pub fn acceptor(&self, names: &[&str], alpn: &[&[u8]]) -> TlsAcceptor {
        let (chain, key) = self.leaf(names);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        TlsAcceptor::from(Arc::new(config))
    }

    /// Like [`acceptor`](Self::acceptor), requiring a client certificate signed by `clients`.
    #[allow(dead_code)]
    pub fn acceptor_requiring_clients(&self, names: &[&str], clients: &TestCa) -> TlsAcceptor {
        let (chain, key) = self.leaf(names);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(clients.pem.as_bytes()).unwrap())
            .unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        TlsAcceptor::from(Arc::new(config))
    }
}

/// A response body the handler can fill in over time.
pub enum TestBody {
    Full(Option<Bytes>),
    Channel(mpsc::Receiver<Bytes>),
}

impl TestBody {
    pub fn full(b: impl Into<Bytes>) -> Self {
        TestBody::Full(Some(b.into()))
    }

    /// A body whose chunks are sent through the returned sender; it ends when the sender drops.
    pub fn channel() -> (mpsc::Sender<Bytes>, Self) {
        let (tx, rx) = mpsc::channel(16);
        (tx, TestBody::Channel(rx))
    }
}

impl hyper::body::Body for TestBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            TestBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            TestBody::Channel(rx) => rx.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b)))),
        }
    }
}

/// A running loopback server.
pub struct Server {
    pub addr: SocketAddr,
    /// How many TCP connections the accept loop took.
    pub accepts: Arc<AtomicUsize>,
    /// How many connections are being served right now.
    pub live: Arc<AtomicUsize>,
}

impl Server {
    pub fn accepted(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    /// The connections being served right now.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    pub fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://{}{path}", self.addr)
    }
}

/// How [`serve_with`] serves its connections.
#[derive(Clone, Default)]
pub struct ServeOptions {
    /// TLS in front of every connection.
    pub tls: Option<TlsAcceptor>,
    /// HTTP/2 only (prior knowledge, no HTTP/1.1), with this many concurrent streams allowed.
    pub http2_only_streams: Option<u32>,
}

/// Decrements a gauge when a connection's task ends.
struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Starts a hyper server (HTTP/1.1 and HTTP/2) on 127.0.0.1, with TLS when `tls` is given.
pub async fn serve<H, F>(tls: Option<TlsAcceptor>, handler: H) -> Server
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<TestBody>> + Send + 'static,
{
    serve_with(
        ServeOptions {
            tls,
            ..ServeOptions::default()
        },
        handler,
    )
    .await
}

/// Starts a hyper server on 127.0.0.1 as `options` say.
pub async fn serve_with<H, F>(options: ServeOptions, handler: H) -> Server
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<TestBody>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(AtomicUsize::new(0));
    let live = Arc::new(AtomicUsize::new(0));
    let (count, gauge) = (accepts.clone(), live.clone());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            gauge.fetch_add(1, Ordering::SeqCst);
            let guard = Live(gauge.clone());
            let handler = handler.clone();
            let options = options.clone();
            tokio::spawn(async move {
                let _guard = guard;
                let service = service_fn(move |req| {
                    let h = handler.clone();
                    async move { Ok::<_, Infallible>(h(req).await) }
                });
                let mut builder =
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                if let Some(streams) = options.http2_only_streams {
                    builder = builder.http2_only();
                    builder.http2().max_concurrent_streams(streams);
                }
                match options.tls {
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                    }
                }
            });
        }
    });
    Server {
        addr,
        accepts,
        live,
    }
}

/// An event stream answer whose body the returned sender fills.
pub fn sse_response() -> (mpsc::Sender<Bytes>, Response<TestBody>) {
    let (tx, body) = TestBody::channel();
    let response = Response::builder()
        .header("content-type", "text/event-stream")
        .body(body)
        .unwrap();
    (tx, response)
}

/// A `data:` event: one stream chunk whose delta carries `content`.
pub fn chunk_event(content: &str) -> String {
    format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\
         \"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}}}}]}}\n\n"
    )
}

/// The smallest chat request: model `m`, one user message "Hi".
pub fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("m", [Message::user("Hi")])
}

/// Starts a raw TCP server: `on_conn` gets every accepted connection.
pub async fn raw_server<H, F>(on_conn: H) -> SocketAddr
where
    H: Fn(TcpStream) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(on_conn(tcp));
        }
    });
    addr
}

/// Reads from `tcp` until the end of a request head; returns the head.
pub async fn read_head(tcp: &mut TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Waits until the peer closes `tcp` (read returns 0 or fails), discarding what it sends.
pub async fn wait_closed(tcp: &mut TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut chunk = [0u8; 1024];
    loop {
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Reads a whole chat-core body into a string.
pub async fn text(body: chat_hyper::chat_core::Body) -> Result<String, TransportError> {
    let bytes = body.collect(1 << 20).await?;
    Ok(String::from_utf8(bytes.to_vec()).unwrap())
}

/// What a test CONNECT proxy saw.
#[derive(Default)]
pub struct ProxyLog {
    /// How many CONNECT requests arrived.
    pub connects: AtomicUsize,
    /// The request heads, in order.
    pub heads: std::sync::Mutex<Vec<String>>,
}

impl ProxyLog {
    pub fn connects(&self) -> usize {
        self.connects.load(Ordering::SeqCst)
    }

    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// Starts a CONNECT proxy that tunnels bytes to the requested target, or answers every
/// CONNECT with `refuse` (a whole response head) when given.
pub async fn connect_proxy(refuse: Option<&'static str>) -> (SocketAddr, Arc<ProxyLog>) {
    use tokio::io::AsyncWriteExt;
    let log = Arc::new(ProxyLog::default());
    let seen = log.clone();
    let addr = raw_server(move |mut tcp| {
        let log = seen.clone();
        async move {
            let head = read_head(&mut tcp).await;
            log.heads.lock().unwrap().push(head.clone());
            let Some(target) = head
                .strip_prefix("CONNECT ")
                .and_then(|rest| rest.split(' ').next())
            else {
                let _ = tcp
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
                return;
            };
            log.connects.fetch_add(1, Ordering::SeqCst);
            if let Some(answer) = refuse {
                let _ = tcp.write_all(answer.as_bytes()).await;
                return;
            }
            let Ok(mut upstream) = TcpStream::connect(target).await else {
                let _ = tcp
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                    .await;
                return;
            };
            if tcp
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await
                .is_err()
            {
                return;
            }
            let _ = tokio::io::copy_bidirectional(&mut tcp, &mut upstream).await;
        }
    })
    .await;
    (addr, log)
}
