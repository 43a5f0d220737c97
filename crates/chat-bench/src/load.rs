//! The load-test client side: one implementation, one scenario, one concurrency level, on a
//! single-threaded tokio runtime; reports throughput, latency, CPU time and peak memory.

use std::future::poll_fn;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_core::Stream;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::Uri;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::floor::NaiveSse;
use crate::payload;
use crate::{Implementation, Scenario};

const API_KEY: &str = "sk-bench-not-a-real-key";

/// One measurement to make.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// The client under test.
    pub implementation: Implementation,
    /// What to request.
    pub scenario: Scenario,
    /// How many requests are in flight at once (one task each).
    pub concurrency: usize,
    /// The most requests to send in the timed phase.
    pub max_requests: u64,
    /// The longest the timed phase may run (requests in flight then are finished).
    pub duration: Duration,
    /// The server's base URL for the scenario.
    pub base_url: String,
    /// After the warm-up, print `ready` and wait for a line on stdin before the timed phase,
    /// so the coordinator can tell the warm-up's connections from the timed phase's.
    pub handshake: bool,
}

/// The outcome of a measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadResult {
    /// [`Implementation::key`].
    pub implementation: String,
    /// [`Scenario::key`].
    pub scenario: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests completed in the timed phase.
    pub requests: u64,
    /// Stream chunks received in the timed phase.
    pub chunks: u64,
    /// Length of the timed phase, in seconds.
    pub elapsed_s: f64,
    /// Median request latency (whole stream for streams), in microseconds.
    pub p50_us: u64,
    /// 99th percentile request latency, in microseconds.
    pub p99_us: u64,
    /// Median time to the first chunk of a stream, in microseconds.
    pub ttfc_p50_us: u64,
    /// 99th percentile time to first chunk, in microseconds.
    pub ttfc_p99_us: u64,
    /// CPU time (user + system) the client process used in the timed phase, in seconds.
    pub cpu_s: f64,
    /// Peak resident memory of the client process (`VmHWM`), in KiB.
    pub peak_rss_kib: u64,
    /// Requests of the timed phase that failed (only [`Scenario::is_limited`] scenarios
    /// go on after a failure; they are not in `requests` or the latencies).
    #[serde(default)]
    pub errors: u64,
}

impl LoadResult {
    /// Requests per second.
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed_s.max(1e-9)
    }

    /// Stream chunks per second.
    pub fn chunks_per_s(&self) -> f64 {
        self.chunks as f64 / self.elapsed_s.max(1e-9)
    }

    /// Client CPU time per request, in microseconds.
    pub fn cpu_us_per_request(&self) -> f64 {
        self.cpu_s * 1e6 / (self.requests.max(1) as f64)
    }
}

/// A client of one implementation, with its requests built once.
// One per process, never moved in a hot path: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum LoadClient {
    /// This SDK.
    Ours {
        /// The client.
        client: chat_core::Client,
        /// The completion request.
        request: chat_types::CreateChatCompletionRequest,
        /// The streaming request (with `include_usage`).
        stream_request: chat_types::CreateChatCompletionRequest,
    },
    /// The floor.
    Floor {
        /// hyper-util's pooled client.
        client: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
        /// The endpoint.
        url: Uri,
        /// The completion request.
        request: Value,
        /// The streaming request.
        stream_request: Value,
        /// Whether answers are gzip-compressed (asked for and decoded with flate2).
        gzip: bool,
    },
    /// The peer.
    Peer {
        /// The client.
        client: async_openai::Client<async_openai::config::OpenAIConfig>,
        /// The completion request.
        request: async_openai::types::chat::CreateChatCompletionRequest,
        /// The streaming request.
        stream_request: async_openai::types::chat::CreateChatCompletionRequest,
    },
}

impl LoadClient {
    /// Builds the client of `implementation` for the server at `base_url`.
    pub fn new(implementation: Implementation, base_url: &str) -> Result<LoadClient, String> {
        Self::for_scenario(implementation, Scenario::Small, base_url)
    }

    /// Builds the client of `implementation` for `scenario` at `base_url`: HTTP/2 (prior
    /// knowledge) for [`Scenario::SmallH2`] (this SDK with up to 8 connections of
    /// [`H2_MAX_STREAMS`](crate::H2_MAX_STREAMS) streams, the floor and the peer with
    /// hyper-util's one connection), gzip asked for by the floor and the peer for
    /// [`Scenario::SmallGzip`] (this SDK always asks, with its `gzip` feature), this SDK's
    /// pacer on for [`Scenario::is_paced`] ones. The peer has no pacer and the floor no
    /// retries: they refuse the paced scenarios and the [limited](Scenario::is_limited)
    /// ones respectively, rather than measure something else under that name.
    pub fn for_scenario(
        implementation: Implementation,
        scenario: Scenario,
        base_url: &str,
    ) -> Result<LoadClient, String> {
        let h2 = scenario == Scenario::SmallH2;
        Ok(match implementation {
            Implementation::Ours => {
                let mut transport =
                    chat_hyper::HyperTransport::builder().proxy(chat_hyper::Proxy::none());
                if h2 {
                    transport = transport
                        .http2_only()
                        .http2_max_streams_per_connection(crate::H2_MAX_STREAMS as usize);
                }
                let transport = transport.build().map_err(|e| e.to_string())?;
                let config = chat_core::Config::new()
                    .base_url(base_url)
                    .api_key(API_KEY)
                    .pace_rate_limits(scenario.is_paced());
                LoadClient::Ours {
                    client: chat_core::Client::new(config, transport),
                    request: payload::request_ours(),
                    stream_request: payload::request_ours().include_usage(true),
                }
            }
            Implementation::Floor if scenario.is_limited() => {
                return Err(format!(
                    "the floor does not retry, so it does not run {}",
                    scenario.key()
                ));
            }
            Implementation::Floor => {
                let mut connector = HttpConnector::new();
                connector.set_nodelay(true);
                let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                    .http2_only(h2)
                    .build(connector);
                let url = format!("{base_url}/chat/completions")
                    .parse()
                    .map_err(|e| format!("bad URL: {e}"))?;
                LoadClient::Floor {
                    client,
                    url,
                    request: payload::request_value(),
                    stream_request: payload::streaming(payload::request_value()),
                    gzip: scenario == Scenario::SmallGzip,
                }
            }
            Implementation::Peer if scenario.is_paced() => {
                return Err(format!(
                    "the peer has no pacer, so it does not run {}",
                    scenario.key()
                ));
            }
            Implementation::Peer => {
                let config = async_openai::config::OpenAIConfig::new()
                    .with_api_base(base_url)
                    .with_api_key(API_KEY);
                // What `async_openai::Client::with_config` builds (`reqwest::Client::new()`),
                // with gzip off unless the scenario is the gzip one (this crate turns on
                // reqwest's gzip feature, which a default build of async-openai lacks).
                let mut http = reqwest::Client::builder().gzip(scenario == Scenario::SmallGzip);
                if h2 {
                    http = http.http2_prior_knowledge();
                }
                let http = http.build().map_err(|e| e.to_string())?;
                LoadClient::Peer {
                    client: async_openai::Client::with_config(config).with_http_client(http),
                    request: payload::request_peer(),
                    stream_request: serde_json::from_value(payload::streaming(
                        payload::request_value(),
                    ))
                    .map_err(|e| e.to_string())?,
                }
            }
        })
    }

    /// Sends a completion request; returns the length of the answer's text.
    pub async fn complete(&self) -> Result<usize, String> {
        match self {
            LoadClient::Ours {
                client, request, ..
            } => {
                let response = client
                    .create_chat_completion(request)
                    .await
                    .map_err(|e| e.to_string())?
                    .into_inner();
                Ok(black_box(&response).first_content().map_or(0, str::len))
            }
            LoadClient::Floor {
                client,
                url,
                request,
                gzip,
                ..
            } => {
                let mut floor = floor_request(url, request)?;
                if *gzip {
                    floor
                        .headers_mut()
                        .insert(http::header::ACCEPT_ENCODING, "gzip".parse().unwrap());
                }
                let response = client.request(floor).await.map_err(|e| e.to_string())?;
                if !response.status().is_success() {
                    return Err(format!("status {}", response.status()));
                }
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                let value: Value = if *gzip {
                    use std::io::Read as _;
                    let mut plain = Vec::with_capacity(body.len() * 4);
                    flate2::read::GzDecoder::new(&body[..])
                        .read_to_end(&mut plain)
                        .map_err(|e| e.to_string())?;
                    serde_json::from_slice(&plain)
                } else {
                    serde_json::from_slice(&body)
                }
                .map_err(|e| e.to_string())?;
                Ok(black_box(&value)["choices"][0]["message"]["content"]
                    .as_str()
                    .map_or(0, str::len))
            }
            LoadClient::Peer {
                client, request, ..
            } => {
                let response = client
                    .chat()
                    .create(request.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(black_box(&response)
                    .choices
                    .first()
                    .and_then(|c| c.message.content.as_deref())
                    .map_or(0, str::len))
            }
        }
    }

    /// Sends a streaming request and reads the stream to its end; returns the number of
    /// chunks and the time from `started` to the first one.
    pub async fn stream(&self, started: Instant) -> Result<(u64, Duration), String> {
        let mut chunks = 0u64;
        let mut first = None;
        let mut seen = |first: &mut Option<Duration>| {
            chunks += 1;
            if first.is_none() {
                *first = Some(started.elapsed());
            }
        };
        match self {
            LoadClient::Ours {
                client,
                stream_request,
                ..
            } => {
                let mut stream = client
                    .create_chat_completion_stream(stream_request)
                    .await
                    .map_err(|e| e.to_string())?;
                while let Some(chunk) = stream.next().await {
                    black_box(chunk.map_err(|e| e.to_string())?);
                    seen(&mut first);
                }
            }
            LoadClient::Floor {
                client,
                url,
                stream_request,
                ..
            } => {
                let response = client
                    .request(floor_request(url, stream_request)?)
                    .await
                    .map_err(|e| e.to_string())?;
                if !response.status().is_success() {
                    return Err(format!("status {}", response.status()));
                }
                let mut body = response.into_body();
                let mut sse = NaiveSse::new();
                let mut error = None;
                let mut done = false;
                while let Some(frame) = body.frame().await {
                    let frame = frame.map_err(|e| e.to_string())?;
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    sse.feed(&data, |d| {
                        if d == b"[DONE]" {
                            done = true;
                        } else if !done {
                            match serde_json::from_slice::<Value>(d) {
                                Ok(v) => {
                                    black_box(v);
                                    seen(&mut first);
                                }
                                Err(e) => error = Some(e.to_string()),
                            }
                        }
                    });
                    if let Some(e) = error.take() {
                        return Err(e);
                    }
                    if done {
                        break;
                    }
                }
            }
            LoadClient::Peer {
                client,
                stream_request,
                ..
            } => {
                let mut stream = client
                    .chat()
                    .create_stream(stream_request.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                while let Some(chunk) = next(&mut stream).await {
                    black_box(chunk.map_err(|e| e.to_string())?);
                    seen(&mut first);
                }
            }
        }
        Ok((chunks, first.unwrap_or_default()))
    }

    /// Sends one request of `scenario` and checks the answer is complete.
    pub async fn exchange(&self, scenario: Scenario, started: Instant) -> Result<Exchange, String> {
        if scenario.is_stream() {
            let (chunks, ttfc) = self.stream(started).await?;
            if chunks != scenario.chunks() as u64 {
                return Err(format!("{chunks} chunks, expected {}", scenario.chunks()));
            }
            Ok(Exchange {
                chunks,
                ttfc: Some(ttfc),
            })
        } else {
            let len = self.complete().await?;
            if len == 0 {
                return Err("empty answer".into());
            }
            Ok(Exchange {
                chunks: 0,
                ttfc: None,
            })
        }
    }
}

/// What one request returned.
#[derive(Debug, Clone, Copy)]
pub struct Exchange {
    /// Stream chunks received.
    pub chunks: u64,
    /// Time to the first chunk, for streams.
    pub ttfc: Option<Duration>,
}

async fn next<S: Stream + Unpin + ?Sized>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

fn floor_request(url: &Uri, body: &Value) -> Result<http::Request<Full<Bytes>>, String> {
    let body = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    http::Request::post(url.clone())
        .header(CONTENT_TYPE, "application/json")
        .header(AUTHORIZATION, format!("Bearer {API_KEY}"))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())
}

#[derive(Default)]
struct TaskStats {
    latencies: Vec<u32>,
    ttfc: Vec<u32>,
    chunks: u64,
    errors: u64,
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u32::MAX as u128) as u32
}

/// The `p`-th percentile (0 to 100) of sorted samples, in microseconds.
pub fn percentile(sorted: &[u32], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as u64
}

/// Runs a measurement on a new single-threaded runtime: builds the client, warms its pool to
/// `concurrency` connections, then runs the timed phase.
pub fn run(spec: &LoadSpec) -> Result<LoadResult, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(run_async(spec))
}

async fn run_async(spec: &LoadSpec) -> Result<LoadResult, String> {
    let client = Arc::new(LoadClient::for_scenario(
        spec.implementation,
        spec.scenario,
        &spec.base_url,
    )?);
    let scenario = spec.scenario;
    let concurrency = spec.concurrency.max(1);

    // Over HTTP/2 one request first, so the client knows the server's stream limit before the
    // burst (streams opened before its SETTINGS arrive may be refused).
    // Where the server answers 429, a failed request is counted, not fatal.
    let tolerant = scenario.is_limited();
    if scenario == Scenario::SmallH2 {
        client.exchange(scenario, Instant::now()).await?;
    }
    // Warm-up, the same for every client: two waves of one request per task, all at once,
    // each followed by a pause. The first wave opens a connection per task (hyper-util's pool
    // also starts a connection for a request that found none idle and lets it finish in the
    // background when another connection freed up first); the pauses let those finish and
    // every connection go back to the pool; the second wave checks the pool serves
    // `concurrency` requests at once from idle connections.
    let settle = Duration::from_millis(20 + concurrency as u64 / 8);
    for _ in 0..2 {
        let mut warm = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            let client = client.clone();
            warm.push(tokio::spawn(async move {
                client.exchange(scenario, Instant::now()).await
            }));
        }
        for w in warm {
            match w.await.map_err(|e| e.to_string())? {
                Err(_) if tolerant => {}
                r => {
                    r?;
                }
            }
        }
        tokio::time::sleep(settle).await;
    }
    if spec.handshake {
        // On a blocking thread, so the runtime goes on running the connections meanwhile.
        tokio::task::spawn_blocking(|| {
            use std::io::{BufRead as _, Write as _};
            let mut out = std::io::stdout().lock();
            writeln!(out, "ready")?;
            out.flush()?;
            drop(out);
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map(drop)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    }

    let issued = Arc::new(AtomicU64::new(0));
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let deadline = started + spec.duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let client = client.clone();
        let issued = issued.clone();
        let max = spec.max_requests;
        tasks.push(tokio::spawn(async move {
            let mut stats = TaskStats::default();
            while issued.fetch_add(1, Ordering::Relaxed) < max && Instant::now() < deadline {
                let t0 = Instant::now();
                let ex = match client.exchange(scenario, t0).await {
                    Ok(ex) => ex,
                    Err(_) if tolerant => {
                        stats.errors += 1;
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                stats.latencies.push(micros(t0.elapsed()));
                stats.chunks += ex.chunks;
                if let Some(t) = ex.ttfc {
                    stats.ttfc.push(micros(t));
                }
            }
            Ok::<_, String>(stats)
        }));
    }
    let mut latencies = Vec::new();
    let mut ttfc = Vec::new();
    let mut chunks = 0;
    let mut errors = 0;
    for t in tasks {
        let stats = t.await.map_err(|e| e.to_string())??;
        latencies.extend(stats.latencies);
        ttfc.extend(stats.ttfc);
        chunks += stats.chunks;
        errors += stats.errors;
    }
    let elapsed = started.elapsed();
    let cpu_s = cpu_seconds() - cpu_before;
    latencies.sort_unstable();
    ttfc.sort_unstable();
    Ok(LoadResult {
        implementation: spec.implementation.key().to_owned(),
        scenario: scenario.key().to_owned(),
        concurrency,
        requests: latencies.len() as u64,
        chunks,
        elapsed_s: elapsed.as_secs_f64(),
        p50_us: percentile(&latencies, 50.0),
        p99_us: percentile(&latencies, 99.0),
        ttfc_p50_us: percentile(&ttfc, 50.0),
        ttfc_p99_us: percentile(&ttfc, 99.0),
        cpu_s,
        peak_rss_kib: peak_rss_kib(),
        errors,
    })
}

/// CPU time (user + system) of this process so far, in seconds (from `/proc/self/stat`;
/// 0 where that is not available).
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may contain spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // The kernel reports clock ticks of USER_HZ, which is 100 on Linux.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// The peak resident memory of this process (`VmHWM`), in KiB (0 where not available).
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let s: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&s, 50.0), 51);
        assert_eq!(percentile(&s, 99.0), 99);
        assert_eq!(percentile(&s, 100.0), 100);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn proc_readings_are_plausible() {
        assert!(peak_rss_kib() > 100);
        assert!(cpu_seconds() >= 0.0);
    }
}
