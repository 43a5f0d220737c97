//! Realistic payloads, generated in code: a typical request, typical and 64 KiB responses, and
//! chunk streams shaped like the ones the OpenAI API sends.
//!
//! Everything is deterministic (a fixed-seed generator), so every run measures the same bytes.

use bytes::Bytes;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

use chat_types::{
    ChatCompletionRequestMessage as Message, ChatCompletionToolChoiceOption,
    CreateChatCompletionRequest, Tool,
};

/// The model name every payload uses.
pub const MODEL: &str = "gpt-4o-2024-08-06";
const COMPLETION_ID: &str = "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG";
const CREATED: i64 = 1_741_570_283;
const FINGERPRINT: &str = "fp_eb9dce56a8";

const SYSTEM_PROMPT: &str = "You are a helpful assistant for a travel company. Answer briefly \
and precisely, use the tools when the user asks about the weather, and never invent prices.";
const USER_PROMPT: &str = "I'm flying to Lisbon next Tuesday for three days. What should I \
pack, and will it rain?";

/// A small deterministic generator (xorshift64*), so payloads are the same in every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
}

/// Tokens as a model emits them: mostly words with a leading space, some punctuation, line
/// breaks, quotes and non-ASCII text, so JSON escaping and UTF-8 are exercised.
const TOKENS: &[&str] = &[
    " the",
    " a",
    " to",
    " and",
    " of",
    " in",
    " Lisbon",
    " weather",
    " is",
    " usually",
    " mild",
    " in",
    " spring",
    ",",
    ".",
    " with",
    " temperatures",
    " around",
    " 18",
    "°C",
    " during",
    " the",
    " day",
    " Pack",
    " a",
    " light",
    " jacket",
    " comfortable",
    " shoes",
    " for",
    " the",
    " hills",
    " an",
    " umbrella",
    " just",
    " in",
    " case",
    "\n\n",
    "\n-",
    " **",
    "Tip",
    ":**",
    " \"",
    "Bica",
    "\"",
    " is",
    " the",
    " local",
    " espresso",
    " —",
    " café",
    " pastéis",
    " de",
    " nata",
    " are",
    " a",
    " must",
    " 🙂",
    " rain",
    " is",
    " possible",
    " on",
    " Tuesday",
    " afternoon",
    " (",
    "40",
    "%",
    ")",
    " so",
    " plan",
    " indoor",
    " visits",
    " like",
    " the",
    " Gulbenkian",
    " Museum",
    "!",
];

/// A generated token.
fn token(rng: &mut Rng) -> &'static str {
    TOKENS[rng.range(0, TOKENS.len() - 1)]
}

/// Generated text of at least `len` bytes.
pub fn text(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        s.push_str(token(rng));
    }
    s
}

/// An ordered JSON value, so generated objects keep the field order of the real API
/// (`serde_json::Value` sorts keys unless its `preserve_order` feature is on).
#[derive(Debug, Clone)]
enum J {
    Null,
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

impl Serialize for J {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            J::Null => s.serialize_unit(),
            J::Int(i) => s.serialize_i64(*i),
            J::Float(f) => s.serialize_f64(*f),
            J::Str(v) => s.serialize_str(v),
            J::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            J::Obj(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

fn s(v: impl Into<String>) -> J {
    J::Str(v.into())
}

fn compact(j: &J) -> String {
    serde_json::to_string(j).unwrap_or_default()
}

/// The API answers non-streaming requests with pretty-printed JSON.
fn pretty(j: &J) -> String {
    serde_json::to_string_pretty(j).unwrap_or_default()
}

fn usage(prompt: i64, completion: i64) -> J {
    J::Obj(vec![
        ("prompt_tokens", J::Int(prompt)),
        ("completion_tokens", J::Int(completion)),
        ("total_tokens", J::Int(prompt + completion)),
        (
            "prompt_tokens_details",
            J::Obj(vec![
                ("cached_tokens", J::Int(0)),
                ("audio_tokens", J::Int(0)),
            ]),
        ),
        (
            "completion_tokens_details",
            J::Obj(vec![
                ("reasoning_tokens", J::Int(0)),
                ("audio_tokens", J::Int(0)),
                ("accepted_prediction_tokens", J::Int(0)),
                ("rejected_prediction_tokens", J::Int(0)),
            ]),
        ),
    ])
}

fn response(message_content: String, logprobs: J, completion_tokens: i64) -> J {
    J::Obj(vec![
        ("id", s(COMPLETION_ID)),
        ("object", s("chat.completion")),
        ("created", J::Int(CREATED)),
        ("model", s(MODEL)),
        (
            "choices",
            J::Arr(vec![J::Obj(vec![
                ("index", J::Int(0)),
                (
                    "message",
                    J::Obj(vec![
                        ("role", s("assistant")),
                        ("content", J::Str(message_content)),
                        ("refusal", J::Null),
                        ("annotations", J::Arr(vec![])),
                    ]),
                ),
                ("logprobs", logprobs),
                ("finish_reason", s("stop")),
            ])]),
        ),
        ("usage", usage(61, completion_tokens)),
        ("service_tier", s("default")),
        ("system_fingerprint", s(FINGERPRINT)),
    ])
}

/// A typical response: one choice with a few hundred characters of text, usage with its
/// details (about 1.2 KB, pretty-printed as the API sends it).
pub fn typical_response() -> String {
    let content = text(&mut Rng::new(7), 600);
    pretty(&response(content, J::Null, 150))
}

/// A response of about `size` bytes that is mostly text: a long generated document.
pub fn long_text_response(size: usize) -> String {
    let overhead = typical_response().len() - 600;
    let content = text(&mut Rng::new(11), size.saturating_sub(overhead + 64));
    let tokens = content.len() as i64 / 4;
    pretty(&response(content, J::Null, tokens))
}

fn logprob_entry(rng: &mut Rng, tok: &str, alternatives: usize) -> J {
    let bytes = |t: &str| J::Arr(t.bytes().map(|b| J::Int(b as i64)).collect());
    let lp = |rng: &mut Rng| -((rng.next_u64() % 10_000_000) as f64) / 1_000_000.0;
    let mut top = Vec::with_capacity(alternatives);
    for _ in 0..alternatives {
        let alt = token(rng);
        top.push(J::Obj(vec![
            ("token", s(alt)),
            ("logprob", J::Float(lp(rng))),
            ("bytes", bytes(alt)),
        ]));
    }
    J::Obj(vec![
        ("token", s(tok)),
        ("logprob", J::Float(lp(rng))),
        ("bytes", bytes(tok)),
        ("top_logprobs", J::Arr(top)),
    ])
}

/// A response of about `size` bytes that is mostly structure: a short answer with
/// `logprobs` (two alternatives per token), as sent with `logprobs: true, top_logprobs: 2`.
pub fn logprobs_response(size: usize) -> String {
    let build = |n: usize| {
        let mut rng = Rng::new(13);
        let toks: Vec<&str> = (0..n).map(|_| token(&mut rng)).collect();
        let entries = toks.iter().map(|t| logprob_entry(&mut rng, t, 2)).collect();
        let logprobs = J::Obj(vec![("content", J::Arr(entries)), ("refusal", J::Null)]);
        pretty(&response(toks.concat(), logprobs, n as i64))
    };
    // Grow the token count until the body reaches the size.
    let per_token = build(20).len() / 20 + 1;
    let mut n = size / per_token;
    loop {
        let body = build(n);
        if body.len() >= size || n > size {
            return body;
        }
        n += 1 + (size - body.len()) / per_token;
    }
}

/// A typical response whose message also carries a field the types do not model, a vendor's
/// list of about `size` bytes of scores (full-precision floats, as `f64` prints them): the
/// cost of keeping unknown numbers exactly (`serde_json`'s `float_roundtrip`). async-openai
/// skips the unknown field; ours keeps it in `extra`.
pub fn unknown_numbers_response(size: usize) -> String {
    let mut rng = Rng::new(19);
    let mut scores = Vec::new();
    let mut len = 0;
    while len < size {
        // 53 random bits: every digit of the shortest representation counts.
        let x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 20.0 - 10.0;
        len += 2 + serde_json::to_string(&x).map_or(0, |s| s.len());
        scores.push(J::Float(x));
    }
    let content = text(&mut Rng::new(7), 600);
    let mut body = response(content, J::Null, 150);
    if let J::Obj(fields) = &mut body {
        if let Some((_, J::Arr(choices))) = fields.iter_mut().find(|(k, _)| *k == "choices") {
            if let Some(J::Obj(choice)) = choices.first_mut() {
                if let Some((_, J::Obj(message))) = choice.iter_mut().find(|(k, _)| *k == "message")
                {
                    message.push(("x_token_scores", J::Arr(scores)));
                }
            }
        }
    }
    pretty(&body)
}

/// What the chunks of a generated stream carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// Text: a role chunk, content chunks of one token each, a finish chunk, a usage chunk.
    Content,
    /// Two parallel tool calls whose arguments arrive a few characters per chunk.
    ToolCalls,
}

fn chunk(rng: &mut Rng, delta: J, finish: Option<&str>, usage_value: J, choices: bool) -> String {
    // The API pads chunks with random characters (stream obfuscation) unless told not to.
    const OBF: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let n = rng.range(2, 12);
    let obfuscation: String = (0..n)
        .map(|_| OBF[rng.range(0, OBF.len() - 1)] as char)
        .collect();
    let choice_list = if choices {
        J::Arr(vec![J::Obj(vec![
            ("index", J::Int(0)),
            ("delta", delta),
            ("logprobs", J::Null),
            ("finish_reason", finish.map_or(J::Null, s)),
        ])])
    } else {
        J::Arr(vec![])
    };
    compact(&J::Obj(vec![
        ("id", s(COMPLETION_ID)),
        ("object", s("chat.completion.chunk")),
        ("created", J::Int(CREATED)),
        ("model", s(MODEL)),
        ("service_tier", s("default")),
        ("system_fingerprint", s(FINGERPRINT)),
        ("choices", choice_list),
        ("usage", usage_value),
        ("obfuscation", s(obfuscation)),
    ]))
}

/// The `data:` payloads of a stream of exactly `n` chunks (at least 4), as the API sends
/// them with `stream_options.include_usage`; the `[DONE]` marker is not included.
pub fn stream_chunks(kind: StreamKind, n: usize) -> Vec<String> {
    let n = n.max(4);
    let mut rng = Rng::new(17);
    let mut out = Vec::with_capacity(n);
    let body = n - 3;
    match kind {
        StreamKind::Content => {
            let first = J::Obj(vec![
                ("role", s("assistant")),
                ("content", s("")),
                ("refusal", J::Null),
            ]);
            out.push(chunk(&mut rng, first, None, J::Null, true));
            for _ in 0..body {
                let t = token(&mut rng);
                let delta = J::Obj(vec![("content", s(t))]);
                out.push(chunk(&mut rng, delta, None, J::Null, true));
            }
            out.push(chunk(&mut rng, J::Obj(vec![]), Some("stop"), J::Null, true));
        }
        StreamKind::ToolCalls => {
            let call_start = |index: i64, id: &str, name: &str| {
                J::Obj(vec![(
                    "tool_calls",
                    J::Arr(vec![J::Obj(vec![
                        ("index", J::Int(index)),
                        ("id", s(id)),
                        ("type", s("function")),
                        (
                            "function",
                            J::Obj(vec![("name", s(name)), ("arguments", s(""))]),
                        ),
                    ])]),
                )])
            };
            let args_piece = |index: i64, piece: &str| {
                J::Obj(vec![(
                    "tool_calls",
                    J::Arr(vec![J::Obj(vec![
                        ("index", J::Int(index)),
                        ("function", J::Obj(vec![("arguments", s(piece))])),
                    ])]),
                )])
            };
            let mut first = call_start(0, "call_8XSnKJAtZzaHvTC5ua1VBfnb", "get_weather");
            if let J::Obj(fields) = &mut first {
                fields.insert(0, ("role", s("assistant")));
                fields.insert(1, ("content", J::Null));
            }
            out.push(chunk(&mut rng, first, None, J::Null, true));
            // Arguments of both calls, split into pieces of 1 to 6 characters.
            let args = |city: &str, rng: &mut Rng| {
                format!(
                    r#"{{"city": "{city}", "country": "Portugal", "unit": "celsius", "days": 3, "note": "{}"}}"#,
                    text(rng, 120).replace(['"', '\n', '\\'], "'")
                )
            };
            let pieces_per_call = (body - 1) / 2;
            let second_calls = body - 1 - pieces_per_call;
            for (index, (city, count)) in [("Lisbon", pieces_per_call), ("Porto", second_calls)]
                .into_iter()
                .enumerate()
            {
                let index = index as i64;
                if index == 1 {
                    let start = call_start(1, "call_Qm3VxT7b2hLkZr9PpD4sWcE1", "get_weather");
                    out.push(chunk(&mut rng, start, None, J::Null, true));
                }
                let full = args(city, &mut rng);
                let chars: Vec<char> = full.chars().collect();
                // Split into `count` roughly even pieces.
                let mut pos = 0;
                for i in 0..count {
                    let end = ((i + 1) * chars.len()) / count.max(1);
                    let piece: String = chars[pos..end.max(pos)].iter().collect();
                    pos = end.max(pos);
                    out.push(chunk(
                        &mut rng,
                        args_piece(index, &piece),
                        None,
                        J::Null,
                        true,
                    ));
                }
            }
            out.push(chunk(
                &mut rng,
                J::Obj(vec![]),
                Some("tool_calls"),
                J::Null,
                true,
            ));
        }
    }
    out.push(chunk(
        &mut rng,
        J::Null,
        None,
        usage(61, body as i64),
        false,
    ));
    out
}

/// The wire form of a stream: `data: {...}\n\n` per chunk and the final `data: [DONE]\n\n`.
pub fn sse_body(chunks: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunks.iter().map(|c| c.len() + 8).sum::<usize>() + 16);
    for c in chunks {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(c.as_bytes());
        out.extend_from_slice(b"\n\n");
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

/// Splits `bytes` into pieces of 1 to 4 KiB, as reads from a socket return them; cuts fall
/// anywhere, including inside events and UTF-8 sequences.
pub fn network_pieces(bytes: &[u8]) -> Vec<Bytes> {
    let all = Bytes::copy_from_slice(bytes);
    let mut rng = Rng::new(23);
    let mut pieces = Vec::new();
    let mut pos = 0;
    while pos < all.len() {
        let end = (pos + rng.range(1024, 4096)).min(all.len());
        pieces.push(all.slice(pos..end));
        pos = end;
    }
    pieces
}

fn weather_parameters() -> Value {
    json!({
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name, such as Lisbon"},
            "country": {"type": "string", "description": "Country of the city"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 14}
        },
        "required": ["city", "unit"],
        "additionalProperties": false
    })
}

/// The typical request as our typed request, built with the crate's constructors.
pub fn request_ours() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new(
        MODEL,
        [Message::system(SYSTEM_PROMPT), Message::user(USER_PROMPT)],
    )
    .temperature(0.7)
    .max_completion_tokens(512)
    .tools(vec![Tool::function(
        "get_weather",
        "Weather forecast of a city for the next days",
        weather_parameters(),
    )])
    .tool_choice(ChatCompletionToolChoiceOption::auto())
    .user("user-1234")
}

/// The typical request as a `serde_json::Value`: a system and a user message, a function
/// tool and a few sampling parameters.
pub fn request_value() -> Value {
    json!({
        "model": MODEL,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": USER_PROMPT}
        ],
        "temperature": 0.7,
        "max_completion_tokens": 512,
        "tools": [{
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather forecast of a city for the next days",
                "parameters": weather_parameters()
            }
        }],
        "tool_choice": "auto",
        "user": "user-1234"
    })
}

/// The typical request as async-openai's typed request (read from [`request_value`]).
pub fn request_peer() -> async_openai::types::chat::CreateChatCompletionRequest {
    serde_json::from_value(request_value()).unwrap_or_default()
}

/// Sets `stream: true` and `stream_options.include_usage` on a request value.
pub fn streaming(mut request: Value) -> Value {
    if let Some(obj) = request.as_object_mut() {
        obj.insert("stream".into(), Value::Bool(true));
        obj.insert("stream_options".into(), json!({"include_usage": true}));
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_requests_serialize_to_the_same_json() {
        // Through bytes: async-openai keeps `temperature` as f32, which `to_value` widens
        // to 0.699999988079071 while the JSON text says 0.7.
        let reparse = |bytes: Vec<u8>| serde_json::from_slice::<Value>(&bytes).unwrap();
        let ours = reparse(serde_json::to_vec(&request_ours()).unwrap());
        let peer = reparse(serde_json::to_vec(&request_peer()).unwrap());
        assert_eq!(ours, request_value());
        assert_eq!(peer, request_value());
    }

    #[test]
    fn responses_have_the_sizes_they_claim() {
        let typical = typical_response();
        assert!((900..2000).contains(&typical.len()), "{}", typical.len());
        for body in [long_text_response(65536), logprobs_response(65536)] {
            assert!((60_000..72_000).contains(&body.len()), "{}", body.len());
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["choices"][0]["finish_reason"], "stop");
        }
    }

    #[test]
    fn streams_have_exactly_n_valid_chunks() {
        for kind in [StreamKind::Content, StreamKind::ToolCalls] {
            let chunks = stream_chunks(kind, 200);
            assert_eq!(chunks.len(), 200);
            for c in &chunks {
                let v: Value = serde_json::from_str(c).unwrap();
                assert_eq!(v["object"], "chat.completion.chunk");
            }
            let last: Value = serde_json::from_str(&chunks[199]).unwrap();
            assert_eq!(last["choices"], json!([]));
            assert_eq!(last["usage"]["completion_tokens"], 197);
        }
    }

    #[test]
    fn network_pieces_cover_the_body_in_1_to_4_kib() {
        let body = sse_body(&stream_chunks(StreamKind::Content, 2000));
        let pieces = network_pieces(&body);
        let joined: Vec<u8> = pieces.iter().flat_map(|p| p.iter().copied()).collect();
        assert_eq!(joined, body);
        assert!(pieces[..pieces.len() - 1]
            .iter()
            .all(|p| (1024..=4096).contains(&p.len())));
    }
}
