//! Sends requests end to end, for instruction counts per request of the client alone:
//!
//! ```text
//! cargo build --profile bench -p chat-bench --example e2e_profile
//! valgrind --tool=callgrind --toggle-collect='e2e_profile::measured*' \
//!     target/release/examples/e2e_profile <ours|ours-notimeout|floor|peer> <small|stream|...> \
//!     [requests] [concurrency]
//! ```
//!
//! The loopback server runs in a child process (this binary with `serve`), which valgrind
//! does not trace, so a profile holds the client's work only. The client runs on a
//! single-threaded runtime: a warm-up of `concurrency` requests per task opens the
//! connections, then `measured` sends `requests` more (default 2,000) from `concurrency`
//! tasks (default 1). Divide the instructions collected in `measured` by the requests; the
//! program prints the count it sent.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::Instant;

use chat_bench::load::LoadClient;
use chat_bench::server::Server;
use chat_bench::{Implementation, Scenario};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        serve();
        return;
    }
    // `ours-notimeout`: this SDK without the per-attempt timeout, to see the timer's share.
    let no_timeout = args.first().map(String::as_str) == Some("ours-notimeout");
    let implementation = args
        .first()
        .and_then(|k| Implementation::from_key(k))
        .unwrap_or(Implementation::Ours);
    let scenario = args
        .get(1)
        .and_then(|k| Scenario::from_key(k))
        .unwrap_or(Scenario::Small);
    let requests: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let concurrency: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1).max(1);

    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("server stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("server address");
    let addr = line.trim().parse().expect("a socket address");
    let base = scenario.base_url(addr);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut client = LoadClient::for_scenario(implementation, scenario, &base).expect("client");
    if let (true, LoadClient::Ours { client, .. }) = (no_timeout, &mut client) {
        let config = client.config().clone().timeout(None);
        *client = chat_core::Client::with_arc_transport(config, client.transport().clone());
    }
    let client = Rc::new(client);
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, batch(&client, scenario, concurrency, concurrency * 4));
    let started = Instant::now();
    measured(&rt, &local, &client, scenario, concurrency, requests);
    eprintln!(
        "{} {} c={concurrency}: {requests} requests in {:?}",
        args.first().map_or("ours", String::as_str),
        scenario.key(),
        started.elapsed()
    );
    drop(child.stdin.take());
    let _ = child.wait();
}

/// The profiled part: `requests` exchanges from `concurrency` tasks.
#[inline(never)]
fn measured(
    rt: &tokio::runtime::Runtime,
    local: &tokio::task::LocalSet,
    client: &Rc<LoadClient>,
    scenario: Scenario,
    concurrency: usize,
    requests: usize,
) {
    local.block_on(rt, batch(client, scenario, concurrency, requests));
}

/// Sends `requests` exchanges, `concurrency` at a time, checking each answer.
async fn batch(client: &Rc<LoadClient>, scenario: Scenario, concurrency: usize, requests: usize) {
    let per_task = requests.div_ceil(concurrency);
    let mut tasks = Vec::with_capacity(concurrency);
    for t in 0..concurrency {
        let client = client.clone();
        let n = per_task.min(requests.saturating_sub(t * per_task));
        tasks.push(tokio::task::spawn_local(async move {
            for _ in 0..n {
                if let Err(e) = client.exchange(scenario, Instant::now()).await {
                    panic!("request failed: {e}");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
}

/// Runs the loopback server until stdin closes; prints its address first.
fn serve() {
    let server = Server::start().expect("server");
    println!("{}", server.addr());
    let _ = std::io::stdout().flush();
    let mut sink = String::new();
    let _ = std::io::stdin().read_line(&mut sink);
    drop(server);
}
