//! Benchmarks of the chat SDK, side by side with the floor (raw hyper and `serde_json::Value`)
//! and the peer (async-openai).
//!
//! * `benches/cpu.rs`: criterion micro-benchmarks of (de)serialization, SSE decoding and
//!   stream accumulation.
//! * `src/bin/loadtest.rs`: an end-to-end load test against the loopback [`server`].
//! * `examples/profile.rs`: one CPU workload in a loop, for callgrind.
//!
//! `cargo xtask bench` runs both and writes `crates/chat-bench/RESULTS.md`; this library
//! holds what they share.
#![warn(missing_docs)]

use std::net::SocketAddr;

pub mod floor;
pub mod load;
pub mod payload;
pub mod peer;
pub mod server;
pub mod work;

/// What the load test asks the server for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// A typical completion (about 1.2 KB).
    Small,
    /// A 64 KiB completion.
    Large,
    /// A stream of 200 chunks.
    Stream,
    /// A stream of 2,000 chunks, to check that memory does not grow with stream length.
    StreamLong,
    /// A stream of 20,000 chunks, likewise.
    StreamHuge,
    /// [`Small`](Self::Small) over HTTP/2 (prior knowledge) to a server allowing
    /// [`H2_MAX_STREAMS`] streams per connection, answering after [`H2_LATENCY`].
    SmallH2,
    /// [`Small`](Self::Small) gzip-compressed.
    SmallGzip,
    /// [`Small`](Self::Small) with rate-limit headers that never run out; the pacer off.
    SmallRateLimited,
    /// Like [`SmallRateLimited`](Self::SmallRateLimited), with this SDK's pacer on.
    SmallPaced,
    /// [`Small`](Self::Small) from a server that enforces [`RATE_LIMIT`] requests per
    /// [`RATE_WINDOW`] and answers 429 above it; this SDK's pacer off.
    SmallLimited,
    /// Like [`SmallLimited`](Self::SmallLimited), with this SDK's pacer on.
    SmallLimitedPaced,
}

/// The requests the load-test server allows per [`RATE_WINDOW`] on the
/// [`SmallLimited`](Scenario::SmallLimited) routes.
pub const RATE_LIMIT: u64 = 1000;
/// The length of the load-test server's fixed rate-limit window.
pub const RATE_WINDOW: std::time::Duration = std::time::Duration::from_millis(100);

/// The load-test server's limit of concurrent streams per HTTP/2 connection.
pub const H2_MAX_STREAMS: u32 = 32;
/// How long the load-test server takes to answer an HTTP/2 request.
pub const H2_LATENCY: std::time::Duration = std::time::Duration::from_millis(5);

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 11] = [
        Scenario::Small,
        Scenario::Large,
        Scenario::Stream,
        Scenario::StreamLong,
        Scenario::StreamHuge,
        Scenario::SmallH2,
        Scenario::SmallGzip,
        Scenario::SmallRateLimited,
        Scenario::SmallPaced,
        Scenario::SmallLimited,
        Scenario::SmallLimitedPaced,
    ];

    /// The scenarios of the transport-feature rows (HTTP/2 pool, gzip, rate limits).
    pub const EXTRAS: [Scenario; 6] = [
        Scenario::SmallH2,
        Scenario::SmallGzip,
        Scenario::SmallRateLimited,
        Scenario::SmallPaced,
        Scenario::SmallLimited,
        Scenario::SmallLimitedPaced,
    ];

    /// The name used on the command line and in URLs.
    pub fn key(self) -> &'static str {
        match self {
            Scenario::Small => "small",
            Scenario::Large => "large",
            Scenario::Stream => "stream",
            Scenario::StreamLong => "stream-2k",
            Scenario::StreamHuge => "stream-20k",
            Scenario::SmallH2 => "small-h2",
            Scenario::SmallGzip => "small-gzip",
            Scenario::SmallRateLimited => "small-rl",
            Scenario::SmallPaced => "small-paced",
            Scenario::SmallLimited => "small-429",
            Scenario::SmallLimitedPaced => "small-429-paced",
        }
    }

    /// The scenario named `key`.
    pub fn from_key(key: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.key() == key)
    }

    /// A description for result tables.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::Small => "completion, typical (1.2 KB)",
            Scenario::Large => "completion, 64 KiB",
            Scenario::Stream => "stream, 200 chunks",
            Scenario::StreamLong => "stream, 2,000 chunks",
            Scenario::StreamHuge => "stream, 20,000 chunks",
            Scenario::SmallH2 => "completion after 5 ms, HTTP/2, 32 streams per connection",
            Scenario::SmallGzip => "completion, gzip",
            Scenario::SmallRateLimited => "completion, rate-limit headers, pacer off",
            Scenario::SmallPaced => "completion, rate-limit headers, pacer on",
            Scenario::SmallLimited => "completion, 1,000 requests per 100 ms then 429, pacer off",
            Scenario::SmallLimitedPaced => {
                "completion, 1,000 requests per 100 ms then 429, pacer on"
            }
        }
    }

    /// Whether the response is an event stream.
    pub fn is_stream(self) -> bool {
        matches!(
            self,
            Scenario::Stream | Scenario::StreamLong | Scenario::StreamHuge
        )
    }

    /// How many chunks a stream has (0 for completions).
    pub fn chunks(self) -> usize {
        match self {
            Scenario::Small
            | Scenario::Large
            | Scenario::SmallH2
            | Scenario::SmallGzip
            | Scenario::SmallRateLimited
            | Scenario::SmallPaced
            | Scenario::SmallLimited
            | Scenario::SmallLimitedPaced => 0,
            Scenario::Stream => 200,
            Scenario::StreamLong => 2_000,
            Scenario::StreamHuge => 20_000,
        }
    }

    /// Whether the server answers 429 above [`RATE_LIMIT`]: requests may fail, and the load
    /// test counts failures instead of stopping.
    pub fn is_limited(self) -> bool {
        matches!(self, Scenario::SmallLimited | Scenario::SmallLimitedPaced)
    }

    /// Whether this SDK runs it with the rate-limit pacer on.
    pub fn is_paced(self) -> bool {
        matches!(self, Scenario::SmallPaced | Scenario::SmallLimitedPaced)
    }

    /// The same scenario with the pacer off (itself for every other scenario).
    pub fn unpaced(self) -> Scenario {
        match self {
            Scenario::SmallPaced => Scenario::SmallRateLimited,
            Scenario::SmallLimitedPaced => Scenario::SmallLimited,
            other => other,
        }
    }

    /// The base URL of this scenario on a server at `addr`.
    pub fn base_url(self, addr: SocketAddr) -> String {
        format!("http://{addr}/{}/v1", self.key())
    }
}

/// A client implementation under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Implementation {
    /// This SDK: `chat_core::Client` over `chat_hyper::HyperTransport`.
    Ours,
    /// The floor: hyper-util's client, `serde_json::Value` and a minimal SSE splitter.
    Floor,
    /// The peer: async-openai (reqwest, eventsource-stream).
    Peer,
}

impl Implementation {
    /// Every implementation, in table order.
    pub const ALL: [Implementation; 3] = [
        Implementation::Ours,
        Implementation::Floor,
        Implementation::Peer,
    ];

    /// The name used on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Implementation::Ours => "ours",
            Implementation::Floor => "floor",
            Implementation::Peer => "peer",
        }
    }

    /// The implementation named `key`.
    pub fn from_key(key: &str) -> Option<Implementation> {
        Implementation::ALL.into_iter().find(|i| i.key() == key)
    }

    /// A description for result tables.
    pub fn label(self) -> &'static str {
        match self {
            Implementation::Ours => "chat-core + chat-hyper",
            Implementation::Floor => "raw hyper + serde_json (floor)",
            Implementation::Peer => "async-openai 0.43",
        }
    }
}
