//! [`MockTransport`]: scripted answers, recorded requests and the checks on them.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use chat_core::{async_trait, Body, Client, Config, Transport, TransportError};
use http::header::{HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use serde_json::{json, Value};

use crate::response::{Outcome, JSON};
use crate::store::Store;
use crate::{Match, MockResponse, MockStream, RecordedRequest};

/// A [`Transport`] that answers from a script and records every request.
///
/// Rules are tried in the order they were added (or by [`Rule::priority`]); the first one
/// that matches the request and has answers left answers it. A rule answers once unless told
/// otherwise
/// ([`Rule::times`], [`Rule::always`]). A request that no rule answers gets a `500` whose
/// error message lists the rules and the request (with `x-should-retry: false`, so a client
/// does not retry it), and is reported by [`verify`](Self::verify).
///
/// Clones share the script and the records. When the last clone is dropped, the mock checks
/// that every rule was used and every request matched, and panics if not, unless the thread
/// is already panicking or [`check_on_drop(false)`](Self::check_on_drop) was called. Clients
/// made by [`client`](Self::client) and [`client_with`](Self::client_with) do not count: the
/// check runs when your test's mock goes out of scope, even while a spawned task (an app
/// server, a worker) still owns such a client, where a panic would be lost. (A client built
/// with `Client::new(config, mock.clone())` holds a clone and so does count.)
///
/// ```
/// use chat_mock::{Match, MockResponse, MockStream, MockTransport};
/// use serde_json::json;
///
/// let mock = MockTransport::new();
/// mock.on(Match::post("/chat/completions").user_message_contains("weather"))
///     .respond(MockResponse::tool_call("get_weather", json!({"city": "Paris"})));
/// mock.on_any()
///     .respond_stream(MockStream::text("Hello there, world").chunk_words());
/// mock.push(MockResponse::error(429).retry_after_ms(10)).times(2);
/// # mock.check_on_drop(false);
/// ```
#[derive(Clone)]
pub struct MockTransport {
    handle: Arc<Handle>,
}

/// The user's handles; the last one to go runs the drop check.
struct Handle {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    check_on_drop: AtomicBool,
}

struct State {
    rules: Vec<RuleState>,
    requests: Vec<RecordedRequest>,
    unmatched: Vec<RecordedRequest>,
    store: Store,
    /// Whether the stored-completion operations are answered from `store`.
    serve_stored: bool,
    limiter: Limiter,
}

/// The request limit of [`MockTransport::rate_limit`] and the count of its current window.
#[derive(Default)]
struct Limiter {
    /// `(requests, window)`, if set.
    limit: Option<(u64, Duration)>,
    window_start: Option<tokio::time::Instant>,
    count: u64,
    tokens: u64,
}

/// The rate-limit headers of one answer.
struct Limits {
    limit: u64,
    remaining: u64,
    reset: Duration,
    tokens_remaining: u64,
    exceeded: bool,
}

/// The token budget the `x-ratelimit-*-tokens` headers report.
const TOKEN_LIMIT: u64 = 1_000_000;
/// The request budget reported when no limit is scripted.
const UNLIMITED_REQUESTS: u64 = 10_000;

impl Limiter {
    /// Counts a request of `body_len` bytes and says what the limits are now.
    fn count(&mut self, body_len: usize) -> Limits {
        let tokens = (body_len as u64).div_ceil(4);
        let Some((max, window)) = self.limit else {
            return Limits {
                limit: UNLIMITED_REQUESTS,
                remaining: UNLIMITED_REQUESTS - 1,
                reset: Duration::from_millis(6),
                tokens_remaining: TOKEN_LIMIT.saturating_sub(tokens),
                exceeded: false,
            };
        };
        let now = tokio::time::Instant::now();
        let start = match self.window_start {
            Some(s) if now.duration_since(s) < window => s,
            _ => {
                self.count = 0;
                self.tokens = 0;
                self.window_start = Some(now);
                now
            }
        };
        self.count += 1;
        let exceeded = self.count > max;
        if !exceeded {
            self.tokens += tokens;
        }
        Limits {
            limit: max,
            remaining: max.saturating_sub(self.count),
            reset: window.saturating_sub(now.duration_since(start)),
            tokens_remaining: TOKEN_LIMIT.saturating_sub(self.tokens),
            exceeded,
        }
    }
}

/// A duration as the API writes it in `x-ratelimit-reset-*`: `120ms`, `1s`, `6m0s`.
fn reset_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        let secs = d.as_secs_f64().ceil() as u64;
        if secs < 60 {
            format!("{secs}s")
        } else {
            format!("{}m{}s", secs / 60, secs % 60)
        }
    }
}

/// Adds the headers a real server sends to `response` where it has none of that name.
fn add_server_headers(
    response: &mut http::Response<Body>,
    limits: &Limits,
    started: std::time::Instant,
) {
    let h = response.headers_mut();
    let mut put = |name: &'static str, value: String| {
        if !h.contains_key(name) {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
    };
    put(
        "openai-processing-ms",
        started.elapsed().as_millis().max(1).to_string(),
    );
    put("openai-version", "2020-10-01".into());
    put("x-ratelimit-limit-requests", limits.limit.to_string());
    put(
        "x-ratelimit-remaining-requests",
        limits.remaining.to_string(),
    );
    put("x-ratelimit-reset-requests", reset_text(limits.reset));
    put("x-ratelimit-limit-tokens", TOKEN_LIMIT.to_string());
    put(
        "x-ratelimit-remaining-tokens",
        limits.tokens_remaining.to_string(),
    );
    put(
        "x-ratelimit-reset-tokens",
        reset_text(Duration::from_millis(6)),
    );
}

/// What the mock does with a request.
enum Action {
    Rule(Responder),
    /// A built-in answer (rate limit, stored completions, unknown path).
    Answer(u16, Value, Vec<(&'static str, String)>),
    Unmatched(String),
}

type Respond = Arc<dyn Fn(&RecordedRequest) -> MockResponse + Send + Sync>;

#[derive(Clone)]
enum Responder {
    Fixed(Arc<MockResponse>),
    Dynamic(Respond),
}

struct RuleState {
    matcher: Match,
    responder: Responder,
    /// How many answers; `None` for any number.
    limit: Option<usize>,
    optional: bool,
    used: usize,
    name: Option<String>,
    /// Rules of higher priority are tried first; equal ones in the order they were added.
    priority: i32,
}

impl RuleState {
    fn has_answers_left(&self) -> bool {
        match self.limit {
            Some(n) => self.used < n,
            None => true,
        }
    }

    fn satisfied(&self) -> bool {
        self.optional
            || match self.limit {
                Some(n) => self.used >= n,
                None => self.used >= 1,
            }
    }

    fn describe(&self, index: usize) -> String {
        let what = match &self.name {
            Some(n) => format!("{n} ({})", self.matcher),
            None => self.matcher.to_string(),
        };
        let answer = match &self.responder {
            Responder::Fixed(r) => r.describe(),
            Responder::Dynamic(_) => "computed answer".into(),
        };
        let count = match self.limit {
            Some(n) => format!("used {} of {n} times", self.used),
            None => format!("used {} times (any number allowed)", self.used),
        };
        let optional = if self.optional { ", optional" } else { "" };
        format!("#{index} {what} -> {answer}: {count}{optional}")
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Body>, TransportError> {
        let started = std::time::Instant::now();
        let (recorded, action, limits) = {
            let mut st = self.lock();
            let recorded = RecordedRequest::new(st.requests.len(), &request);
            st.requests.push(recorded.clone());
            let limits = st.limiter.count(recorded.body().len());
            let action = if limits.exceeded {
                let wait = limits.reset.max(Duration::from_millis(1));
                let body = json!({"error": {
                    "message": format!(
                        "Rate limit reached: limit {} requests per window; try again in {} \
                         (chat-mock).",
                        limits.limit,
                        reset_text(wait)
                    ),
                    "type": "requests",
                    "param": null,
                    "code": "rate_limit_exceeded",
                }});
                let headers = vec![
                    (
                        "retry-after",
                        wait.as_secs_f64().ceil().max(1.0).to_string(),
                    ),
                    ("retry-after-ms", wait.as_millis().max(1).to_string()),
                ];
                Action::Answer(429, body, headers)
            } else {
                self.choose(&mut st, &recorded)
            };
            (recorded, action, limits)
        };
        let (outcome, exact) = match action {
            Action::Unmatched(message) => {
                let mut r = unmatched_response(&recorded, &message);
                add_server_headers(&mut r, &limits, started);
                return Ok(r);
            }
            Action::Answer(status, body, headers) => {
                let mut head = crate::response::Head::default();
                for (name, value) in headers {
                    head.set_header(name, &value);
                }
                let status = crate::response::status(status);
                let body = Body::full(body.to_string());
                let r = head.response(status, Some(JSON), &recorded, body);
                (Outcome::Ready(None, Ok(r)), false)
            }
            Action::Rule(responder) => {
                let response = match responder {
                    Responder::Fixed(r) => r,
                    Responder::Dynamic(f) => Arc::new(f(&recorded)),
                };
                // A demo answer is computed here, once, for the store and the reply.
                let response = response.for_request(&recorded);
                if stores(&recorded) {
                    if let Some(c) = response.completion_for(&recorded) {
                        self.lock().store.keep(&recorded, &c);
                    }
                }
                (response.render(&recorded), response.is_exact())
            }
        };
        match outcome {
            Outcome::Hang => std::future::pending().await,
            Outcome::Ready(delay, result) => {
                if let Some(d) = delay {
                    tokio::time::sleep(d).await;
                }
                let mut result = result;
                if let (Ok(r), false) = (&mut result, exact) {
                    add_server_headers(r, &limits, started);
                }
                result
            }
        }
    }

    /// The rule that answers `recorded`, else the built-in answer for it.
    fn choose(&self, st: &mut State, recorded: &RecordedRequest) -> Action {
        // Highest priority first, then in the order added (`max_by_key` keeps the last
        // of equal keys, hence the reversed index).
        let found = st
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.has_answers_left() && r.matcher.matches(recorded))
            .max_by_key(|(i, r)| (r.priority, std::cmp::Reverse(*i)))
            .map(|(i, _)| i);
        if let Some(i) = found {
            let rule = &mut st.rules[i];
            rule.used += 1;
            return Action::Rule(rule.responder.clone());
        }
        let stored = if st.serve_stored {
            st.store.handle(recorded)
        } else {
            None
        };
        if let Some((status, body)) = stored {
            return Action::Answer(status, body, Vec::new());
        }
        let message = unmatched_message(&st.rules, recorded);
        st.unmatched.push(recorded.clone());
        if crate::store::is_chat_path(recorded.path()) {
            Action::Unmatched(message)
        } else {
            let (status, body) = crate::store::unknown_url(recorded, &message);
            let headers = vec![
                ("x-chat-mock-unmatched", "true".into()),
                ("x-should-retry", "false".into()),
            ];
            Action::Answer(status, body, headers)
        }
    }

    fn verify(&self) -> Result<(), VerifyError> {
        let st = self.lock();
        let mut problems = Vec::new();
        for (i, r) in st.rules.iter().enumerate() {
            if !r.satisfied() {
                problems.push(format!("unused rule {}", r.describe(i)));
            }
        }
        for r in &st.unmatched {
            problems.push(format!(
                "request #{} matched no rule: {}",
                r.index(),
                r.summary()
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(VerifyError { problems })
        }
    }
}

/// Whether `request` is a chat completion that asks to be stored.
fn stores(request: &RecordedRequest) -> bool {
    request.method() == http::Method::POST
        && request.path().ends_with("/chat/completions")
        && request.pointer("/store").and_then(Value::as_bool) == Some(true)
}

fn unmatched_message(rules: &[RuleState], request: &RecordedRequest) -> String {
    let mut m = format!(
        "chat-mock: no rule matched request #{}: {}\n",
        request.index(),
        request.summary()
    );
    if rules.is_empty() {
        m.push_str("no rules are scripted");
    } else {
        m.push_str("rules, in order:");
        for (i, r) in rules.iter().enumerate() {
            let failures = r.matcher.failures(request);
            let why = if failures.is_empty() {
                "matches, but has no answers left".to_owned()
            } else {
                format!("does not match: {}", failures.join("; "))
            };
            m.push_str(&format!("\n  {} ({why})", r.describe(i)));
        }
    }
    m
}

fn unmatched_response(request: &RecordedRequest, message: &str) -> http::Response<Body> {
    let body = json!({
        "error": {
            "message": message,
            "type": "chat_mock_error",
            "param": null,
            "code": "unmatched_request",
        }
    });
    let mut resp = http::Response::new(Body::full(body.to_string()));
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    h.insert("x-should-retry", HeaderValue::from_static("false"));
    h.insert("x-chat-mock-unmatched", HeaderValue::from_static("true"));
    if let Ok(id) = HeaderValue::from_str(&format!("req_mock_{}", request.index())) {
        h.insert("x-request-id", id);
    }
    resp
}

impl Drop for Handle {
    fn drop(&mut self) {
        if std::thread::panicking() || !self.shared.check_on_drop.load(Ordering::Relaxed) {
            return;
        }
        if let Err(e) = self.shared.verify() {
            panic!(
                "{e}\n(checked when the last MockTransport was dropped; \
                 `mock.check_on_drop(false)` turns this off)"
            );
        }
    }
}

impl Default for MockTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl MockTransport {
    /// A mock with no rules.
    pub fn new() -> Self {
        MockTransport {
            handle: Arc::new(Handle {
                shared: Arc::new(Shared {
                    state: Mutex::new(State {
                        rules: Vec::new(),
                        requests: Vec::new(),
                        unmatched: Vec::new(),
                        store: Store::default(),
                        serve_stored: true,
                        limiter: Limiter::default(),
                    }),
                    check_on_drop: AtomicBool::new(true),
                }),
            }),
        }
    }

    /// A mock that answers every chat completion with [`MockResponse::demo`]: a valid
    /// answer computed from the request (schema-valid JSON for `json_schema`, tool calls with
    /// valid arguments when tools are offered, `n` choices, logprobs, token limits, ...). The
    /// rule need not be used; more rules can be added, and scripted ones take precedence when
    /// given a higher [`priority`](Rule::priority).
    pub fn demo() -> Self {
        let mock = Self::new();
        mock.on(Match::chat())
            .respond(MockResponse::demo())
            .always()
            .optional()
            .named("demo");
        mock
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    /// Starts a rule for requests that `matcher` accepts; finish it with
    /// [`respond`](RuleBuilder::respond) or its siblings.
    pub fn on(&self, matcher: Match) -> RuleBuilder<'_> {
        RuleBuilder {
            mock: self,
            matcher,
        }
    }

    /// Starts a rule for any request.
    pub fn on_any(&self) -> RuleBuilder<'_> {
        self.on(Match::any())
    }

    /// Queues an answer for the next request that earlier rules do not take: a rule for any
    /// request that answers once. Pushes answer in order, which scripts sequences such as
    /// `429, 429, 200`.
    pub fn push(&self, response: impl Into<MockResponse>) -> Rule {
        self.on_any().respond(response)
    }

    fn add_rule(&self, matcher: Match, responder: Responder) -> Rule {
        let mut st = self.shared().lock();
        st.rules.push(RuleState {
            matcher,
            responder,
            limit: Some(1),
            optional: false,
            used: 0,
            name: None,
            priority: 0,
        });
        Rule {
            shared: self.shared().clone(),
            index: st.rules.len() - 1,
        }
    }

    /// Limits requests to `requests` per `window` (on the tokio clock): past the limit, the
    /// mock answers `429` (type `requests`, code `rate_limit_exceeded`) with `retry-after`
    /// and `retry-after-ms` set to the rest of the window, before any rule is tried. Every
    /// answer carries `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests` and
    /// `x-ratelimit-reset-requests` for the window. The window starts with the first
    /// request and restarts with the first request after it ends.
    ///
    /// ```
    /// use std::time::Duration;
    /// use chat_mock::MockTransport;
    ///
    /// let mock = MockTransport::demo();
    /// mock.rate_limit(2, Duration::from_secs(1)); // the third request in a second gets a 429
    /// ```
    pub fn rate_limit(&self, requests: u64, window: Duration) {
        let mut st = self.shared().lock();
        st.limiter = Limiter {
            limit: Some((requests, window)),
            ..Limiter::default()
        };
    }

    /// Removes the limit of [`rate_limit`](Self::rate_limit).
    pub fn clear_rate_limit(&self) {
        self.shared().lock().limiter = Limiter::default();
    }

    /// Whether requests that no rule answers are answered from the stored completions when
    /// they are stored-completion operations (on by default; a
    /// [`ReplayTransport`](crate::ReplayTransport) turns it off, so only its cassette
    /// answers).
    pub fn serve_stored(&self, serve: bool) {
        self.shared().lock().serve_stored = serve;
    }

    /// How many completions are stored (answers to `store: true` requests, less deletions).
    pub fn stored_count(&self) -> usize {
        self.shared().lock().store.len()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared().lock().requests.clone()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        self.shared().lock().requests.len()
    }

    /// The request at `index` (from 0).
    ///
    /// # Panics
    ///
    /// If fewer requests arrived; the message lists those that did.
    #[track_caller]
    pub fn request(&self, index: usize) -> RecordedRequest {
        let requests = self.requests();
        match requests.get(index) {
            Some(r) => r.clone(),
            None => panic!(
                "chat-mock: no request #{index}; {} arrived{}",
                requests.len(),
                list_requests(&requests)
            ),
        }
    }

    /// The last request received, if any.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared().lock().requests.last().cloned()
    }

    /// The requests that no rule answered.
    pub fn unmatched_requests(&self) -> Vec<RecordedRequest> {
        self.shared().lock().unmatched.clone()
    }

    /// Checks that every rule was used as often as scripted and every request matched a rule.
    pub fn verify(&self) -> Result<(), VerifyError> {
        self.shared().verify()
    }

    /// Panics with the problems [`verify`](Self::verify) finds.
    #[track_caller]
    pub fn assert_all_used(&self) {
        if let Err(e) = self.verify() {
            panic!("{e}");
        }
    }

    /// Panics unless exactly `count` requests arrived.
    #[track_caller]
    pub fn assert_request_count(&self, count: usize) {
        let requests = self.requests();
        if requests.len() != count {
            panic!(
                "chat-mock: expected {count} requests, {} arrived{}",
                requests.len(),
                list_requests(&requests)
            );
        }
    }

    /// Panics unless the body of request `index` contains `expected`: every field of it,
    /// recursively, with an equal value (arrays must match item by item; numbers compare by
    /// value). The message lists each difference with its JSON pointer.
    #[track_caller]
    pub fn assert_request_json(&self, index: usize, expected: Value) {
        self.request(index).assert_json(&expected);
    }

    /// Panics unless the body of request `index` equals `expected` exactly (no extra fields).
    #[track_caller]
    pub fn assert_request_json_exact(&self, index: usize, expected: Value) {
        self.request(index).assert_json_exact(&expected);
    }

    /// The configuration [`client`](Self::client) uses: the defaults of production (timeouts,
    /// retries) with the placeholder API key `sk-mock`.
    pub fn client_config() -> Config {
        Config::new().api_key("sk-mock")
    }

    /// A ready [`Client`] whose requests go to this mock.
    pub fn client(&self) -> Client {
        self.client_with(Self::client_config())
    }

    /// A [`Client`] with `config` whose requests go to this mock.
    pub fn client_with(&self, config: Config) -> Client {
        Client::new(
            config,
            ClientSide {
                shared: self.shared().clone(),
            },
        )
    }

    /// Whether dropping the last handle checks [`verify`](Self::verify) (on by default).
    pub fn check_on_drop(&self, check: bool) {
        self.shared().check_on_drop.store(check, Ordering::Relaxed);
    }
}

fn list_requests(requests: &[RecordedRequest]) -> String {
    requests
        .iter()
        .map(|r| format!("\n  #{} {}", r.index(), r.summary()))
        .collect()
}

#[async_trait]
impl Transport for MockTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Body>, TransportError> {
        self.shared().send(request).await
    }
}

/// The transport inside the clients of [`MockTransport::client`]: it answers from the same
/// script but is no handle, so it never runs the drop check.
struct ClientSide {
    shared: Arc<Shared>,
}

#[async_trait]
impl Transport for ClientSide {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Body>, TransportError> {
        self.shared.send(request).await
    }
}

impl fmt::Debug for ClientSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt_summary(f)
    }
}

impl fmt::Debug for MockTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared().fmt_summary(f)
    }
}

impl Shared {
    fn fmt_summary(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        f.debug_struct("MockTransport")
            .field("rules", &st.rules.len())
            .field("requests", &st.requests.len())
            .field("unmatched", &st.unmatched.len())
            .finish()
    }
}

/// A rule being built by [`MockTransport::on`]: say what it answers.
#[derive(Debug)]
#[must_use = "a rule is only added once it is given an answer"]
pub struct RuleBuilder<'a> {
    mock: &'a MockTransport,
    matcher: Match,
}

impl RuleBuilder<'_> {
    /// Answers with `response`.
    pub fn respond(self, response: impl Into<MockResponse>) -> Rule {
        self.mock
            .add_rule(self.matcher, Responder::Fixed(Arc::new(response.into())))
    }

    /// Answers with an event stream.
    pub fn respond_stream(self, stream: MockStream) -> Rule {
        self.respond(stream)
    }

    /// Answers with what `respond` computes from the request (such as an echo of it). Build
    /// the answer as usual and convert it: `|r| MockResponse::text(..).into()` (completions
    /// and streams convert into a [`MockResponse`]).
    pub fn respond_with(
        self,
        respond: impl Fn(&RecordedRequest) -> MockResponse + Send + Sync + 'static,
    ) -> Rule {
        self.mock
            .add_rule(self.matcher, Responder::Dynamic(Arc::new(respond)))
    }
}

/// A rule of a [`MockTransport`], already in its script; adjust how often it answers.
pub struct Rule {
    shared: Arc<Shared>,
    index: usize,
}

impl Rule {
    fn update(self, f: impl FnOnce(&mut RuleState)) -> Self {
        if let Some(r) = self.shared.lock().rules.get_mut(self.index) {
            f(r);
        }
        self
    }

    /// Answers `count` times, then lets later rules answer.
    pub fn times(self, count: usize) -> Self {
        self.update(|r| r.limit = Some(count))
    }

    /// Answers once (the default).
    pub fn once(self) -> Self {
        self.times(1)
    }

    /// Answers every matching request; it must still be used at least once.
    pub fn always(self) -> Self {
        self.update(|r| r.limit = None)
    }

    /// Need not be used: [`MockTransport::verify`] does not report it.
    pub fn optional(self) -> Self {
        self.update(|r| r.optional = true)
    }

    /// Tries this rule before rules of lower priority (all rules start at 0; among equal
    /// priorities the first added wins). For a test that overrides the default answers of a
    /// shared fixture: `mock.push(MockResponse::error(429)).times(3).priority(1)`.
    pub fn priority(self, priority: i32) -> Self {
        self.update(|r| r.priority = priority)
    }

    /// A name for the rule in error messages.
    pub fn named(self, name: &str) -> Self {
        let name = name.to_owned();
        self.update(|r| r.name = Some(name))
    }

    /// How many requests this rule answered so far.
    pub fn used(&self) -> usize {
        self.shared
            .lock()
            .rules
            .get(self.index)
            .map_or(0, |r| r.used)
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.lock();
        match st.rules.get(self.index) {
            Some(r) => write!(f, "Rule({})", r.describe(self.index)),
            None => write!(f, "Rule(#{})", self.index),
        }
    }
}

/// What [`MockTransport::verify`] found wrong: unused rules and unmatched requests.
#[derive(Debug, Clone)]
pub struct VerifyError {
    problems: Vec<String>,
}

impl VerifyError {
    /// Each problem, one line each.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "chat-mock: {} problem(s):", self.problems.len())?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyError {}
