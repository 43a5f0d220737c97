//! Streamed answers: [`MockStream`], served as server-sent events.

use std::time::Duration;

use bytes::Bytes;
use chat_core::types::{
    ChatCompletionMessageToolCalls, CompletionUsage, CreateChatCompletionResponse, FinishReason,
};
use chat_core::{Body, TransportErrorKind};
use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::body::{body_from_steps, resplit, steps_for, Step};
use crate::response::{Head, CREATED};
use crate::{MockApiError, RecordedRequest};

/// The media type of event streams.
pub(crate) const EVENT_STREAM: &str = "text/event-stream; charset=utf-8";

/// A streamed chat completion: `200 text/event-stream` with one `data:` event per chunk and
/// `data: [DONE]` at the end.
///
/// The events are: a first chunk with the role, one chunk per piece of text, refusal or tool
/// call arguments, a chunk with the finish reason, then, as the API does, a usage chunk if
/// the request asked for one (`stream_options.include_usage`) and usage was set; every other
/// chunk then carries `"usage": null`. [`usage_always`](Self::usage_always) sends the usage
/// chunk regardless, like some compatible servers.
/// Each event is one body chunk unless [`split_bytes`](Self::split_bytes) cuts the bytes
/// differently. Faults count events: `disconnect_after(2)` delivers two events and then
/// breaks the connection. A stream is served as an event stream even to a request without
/// `"stream": true`.
///
/// ```
/// use std::time::Duration;
/// use chat_mock::MockStream;
///
/// let stream = MockStream::text("Hello there, world")
///     .chunk_words()
///     .usage(9, 3)
///     .chunk_delay(Duration::from_millis(50));
/// # let _ = stream;
/// ```
#[derive(Debug, Clone)]
pub struct MockStream {
    pub(crate) head: Head,
    choices: Vec<StreamChoice>,
    usage: Option<CompletionUsage>,
    usage_always: bool,
    model: Option<String>,
    id: Option<String>,
    done: bool,
    chunk_delay: Option<Duration>,
    fault: Option<(usize, Fault)>,
    split_bytes: Option<usize>,
}

#[derive(Debug, Clone, Default)]
struct StreamChoice {
    text: Option<String>,
    refusal: Option<String>,
    pieces: Option<Vec<String>>,
    /// Log probabilities of the content, one entry per piece.
    logprobs: Option<Vec<Value>>,
    tool_calls: Vec<ToolCallSpec>,
    chunking: Chunking,
    finish_reason: Option<FinishReason>,
}

#[derive(Debug, Clone)]
struct ToolCallSpec {
    id: String,
    name: String,
    arguments: String,
}

#[derive(Debug, Clone, Copy, Default)]
enum Chunking {
    #[default]
    Words,
    Chars(usize),
    Whole,
}

#[derive(Debug, Clone)]
enum Fault {
    Disconnect,
    ErrorEvent(Box<MockApiError>),
    Malformed,
    Hang,
}

impl MockStream {
    fn with_choice_spec(choice: StreamChoice) -> Self {
        MockStream {
            head: Head::default(),
            choices: vec![choice],
            usage: None,
            usage_always: false,
            model: None,
            id: None,
            done: true,
            chunk_delay: None,
            fault: None,
            split_bytes: None,
        }
    }

    /// A stream of `text`, one chunk per word (spaces stay with the word after them).
    pub fn text(text: impl Into<String>) -> Self {
        Self::with_choice_spec(StreamChoice {
            text: Some(text.into()),
            ..Default::default()
        })
    }

    /// A stream of text in exactly these pieces, one chunk each.
    pub fn pieces<I, S>(pieces: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::with_choice_spec(StreamChoice {
            pieces: Some(pieces.into_iter().map(Into::into).collect()),
            ..Default::default()
        })
    }

    /// A stream of a refusal.
    pub fn refusal(text: impl Into<String>) -> Self {
        Self::with_choice_spec(StreamChoice {
            refusal: Some(text.into()),
            ..Default::default()
        })
    }

    /// A stream of one call of function `name`: a first delta with the id and name, then the
    /// arguments text in pieces (a JSON string is sent as is; other values are serialized).
    pub fn tool_call(name: &str, arguments: Value) -> Self {
        Self::with_choice_spec(StreamChoice::default()).and_tool_call(name, arguments)
    }

    /// A stream with no choices, only the error event: `data: {"error": {...}}`.
    pub fn error_event(error: MockApiError) -> Self {
        let mut s = Self::with_choice_spec(StreamChoice::default());
        s.choices.clear();
        s.error_after(0, error)
    }

    /// The same content as a completion, each part in one piece.
    pub(crate) fn from_completion(resp: &CreateChatCompletionResponse) -> Self {
        let mut s = Self::with_choice_spec(StreamChoice::default());
        s.choices = resp
            .choices
            .iter()
            .map(|c| {
                // Content with log probabilities is streamed token by token, each chunk with
                // its token's entry, as the API does.
                let tokens = c
                    .logprobs
                    .as_ref()
                    .and_then(|l| l.content.as_ref())
                    .filter(|t| {
                        !t.is_empty()
                            && c.message.content.as_deref()
                                == Some(
                                    t.iter()
                                        .map(|t| t.token.as_str())
                                        .collect::<String>()
                                        .as_str(),
                                )
                    });
                (c, tokens)
            })
            .map(|(c, tokens)| StreamChoice {
                text: c.message.content.clone(),
                pieces: tokens.map(|t| t.iter().map(|t| t.token.clone()).collect()),
                logprobs: tokens.map(|t| {
                    t.iter()
                        .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
                        .collect()
                }),
                refusal: c.message.refusal.clone(),
                tool_calls: c
                    .message
                    .tool_calls
                    .iter()
                    .flatten()
                    .filter_map(|t| match t {
                        ChatCompletionMessageToolCalls::Function(f) => Some(ToolCallSpec {
                            id: f.id.clone(),
                            name: f.function.name.clone(),
                            arguments: f.function.arguments.clone(),
                        }),
                        _ => None,
                    })
                    .collect(),
                chunking: Chunking::Whole,
                finish_reason: c.finish_reason.clone(),
            })
            .collect();
        s.usage = resp.usage.clone();
        s.model = Some(resp.model.clone());
        s.id = resp.id.clone();
        s
    }

    /// Adds a function call to the last choice (ids are `call_mock_0`, `call_mock_1`, ...).
    pub fn and_tool_call(mut self, name: &str, arguments: Value) -> Self {
        let arguments = match arguments {
            Value::String(s) => s,
            other => other.to_string(),
        };
        if self.choices.is_empty() {
            self.choices.push(StreamChoice::default());
        }
        if let Some(c) = self.choices.last_mut() {
            c.tool_calls.push(ToolCallSpec {
                id: format!("call_mock_{}", c.tool_calls.len()),
                name: name.to_owned(),
                arguments,
            });
        }
        self
    }

    /// Sets the id of the last tool call added (by default `call_mock_<n>`, numbered within
    /// the choice), for conversations where ids must differ from turn to turn.
    pub fn tool_call_id(mut self, id: &str) -> Self {
        if let Some(call) = self
            .choices
            .last_mut()
            .and_then(|c| c.tool_calls.last_mut())
        {
            call.id = id.to_owned();
        }
        self
    }

    /// Appends the choices of `other` as further choices (streamed after this one's).
    pub fn with_choice(mut self, other: MockStream) -> Self {
        self.choices.extend(other.choices);
        self
    }

    fn set_chunking(mut self, chunking: Chunking) -> Self {
        for c in &mut self.choices {
            c.chunking = chunking;
        }
        self
    }

    /// One chunk per word of text, refusal and arguments (the default).
    pub fn chunk_words(self) -> Self {
        self.set_chunking(Chunking::Words)
    }

    /// Chunks of `n` characters.
    pub fn chunk_chars(self, n: usize) -> Self {
        self.set_chunking(Chunking::Chars(n.max(1)))
    }

    /// Each text, refusal and arguments in one chunk.
    pub fn chunk_whole(self) -> Self {
        self.set_chunking(Chunking::Whole)
    }

    /// The finish reason of the last choice (by default `tool_calls` if it calls tools, else
    /// `stop`).
    pub fn finish_reason(mut self, reason: FinishReason) -> Self {
        if let Some(c) = self.choices.last_mut() {
            c.finish_reason = Some(reason);
        }
        self
    }

    /// Ends with a usage chunk (`"choices": []`) with these token counts.
    pub fn usage(mut self, prompt_tokens: u64, completion_tokens: u64) -> Self {
        self.usage = Some(CompletionUsage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
            ..Default::default()
        });
        self
    }

    /// Ends with a usage chunk given in full.
    pub fn with_usage(mut self, usage: CompletionUsage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Sends the usage chunk even when the request did not ask for it with
    /// `stream_options.include_usage` (as some compatible servers do).
    pub fn usage_always(mut self) -> Self {
        self.usage_always = true;
        self
    }

    /// The model named in the chunks (by default the request's model).
    pub fn model(mut self, model: &str) -> Self {
        self.model = Some(model.to_owned());
        self
    }

    /// The completion id of the chunks (by default `chatcmpl-mock-<n>`).
    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// Waits this long between chunks, on the tokio clock (a paused clock skips it at once).
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = Some(delay);
        self
    }

    /// Ends without `data: [DONE]` (the body just closes).
    pub fn without_done(mut self) -> Self {
        self.done = false;
        self
    }

    /// Breaks the connection after `events` events: reading the body then fails with a
    /// [`TransportErrorKind::Io`] error.
    pub fn disconnect_after(mut self, events: usize) -> Self {
        self.fault = Some((events, Fault::Disconnect));
        self
    }

    /// After `events` events, sends `data: {"error": {...}}` and ends the stream.
    pub fn error_after(mut self, events: usize, error: MockApiError) -> Self {
        self.fault = Some((events, Fault::ErrorEvent(Box::new(error))));
        self
    }

    /// After `events` events, sends an event whose data is cut-off JSON and ends the stream.
    pub fn malformed_after(mut self, events: usize) -> Self {
        self.fault = Some((events, Fault::Malformed));
        self
    }

    /// After `events` events, stops sending without closing, so an idle timeout fires.
    pub fn hang_after(mut self, events: usize) -> Self {
        self.fault = Some((events, Fault::Hang));
        self
    }

    /// Cuts the body bytes into pieces of `size` bytes regardless of event boundaries, to
    /// exercise an SSE parser.
    pub fn split_bytes(mut self, size: usize) -> Self {
        self.split_bytes = Some(size.max(1));
        self
    }

    head_methods!();

    /// The chunk objects of this stream, in order, for `request`.
    pub(crate) fn chunk_objects(&self, request: &RecordedRequest) -> Vec<Value> {
        let id = self
            .id
            .clone()
            .unwrap_or_else(|| format!("chatcmpl-mock-{}", request.index()));
        let model = self
            .model
            .clone()
            .unwrap_or_else(|| request.model().unwrap_or("mock-model").to_owned());
        let asked = request
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let chunk = |choices: Value, usage: Option<Value>| {
            let mut o = Map::new();
            o.insert("id".into(), Value::String(id.clone()));
            o.insert("object".into(), "chat.completion.chunk".into());
            o.insert("created".into(), CREATED.into());
            o.insert("model".into(), Value::String(model.clone()));
            o.insert("choices".into(), choices);
            match usage {
                Some(u) => {
                    o.insert("usage".into(), u);
                }
                // With `include_usage`, the API writes `"usage": null` on the other chunks.
                None if asked => {
                    o.insert("usage".into(), Value::Null);
                }
                None => {}
            }
            Value::Object(o)
        };
        let delta = |index: usize, delta: Value, finish: Option<&str>| json!([{"index": index, "delta": delta, "finish_reason": finish}]);
        let mut out = Vec::new();
        for (i, c) in self.choices.iter().enumerate() {
            out.push(chunk(
                delta(i, json!({"role": "assistant", "content": ""}), None),
                None,
            ));
            let text_pieces = match (&c.pieces, &c.text) {
                (Some(p), _) => p.clone(),
                (None, Some(t)) => split(t, c.chunking),
                (None, None) => Vec::new(),
            };
            for (k, p) in text_pieces.into_iter().enumerate() {
                let mut d = delta(i, json!({ "content": p }), None);
                if let Some(entry) = c.logprobs.as_ref().and_then(|l| l.get(k)) {
                    d[0]["logprobs"] = json!({"content": [entry], "refusal": null});
                }
                out.push(chunk(d, None));
            }
            if let Some(r) = &c.refusal {
                for p in split(r, c.chunking) {
                    out.push(chunk(delta(i, json!({ "refusal": p }), None), None));
                }
            }
            for (k, t) in c.tool_calls.iter().enumerate() {
                out.push(chunk(
                    delta(
                        i,
                        json!({"tool_calls": [{
                            "index": k,
                            "id": t.id,
                            "type": "function",
                            "function": {"name": t.name, "arguments": ""}
                        }]}),
                        None,
                    ),
                    None,
                ));
                for p in split(&t.arguments, c.chunking) {
                    out.push(chunk(
                        delta(
                            i,
                            json!({"tool_calls": [{"index": k, "function": {"arguments": p}}]}),
                            None,
                        ),
                        None,
                    ));
                }
            }
            let finish = match &c.finish_reason {
                Some(r) => r.as_str().to_owned(),
                None if !c.tool_calls.is_empty() => "tool_calls".into(),
                None => "stop".into(),
            };
            out.push(chunk(delta(i, json!({}), Some(&finish)), None));
        }
        match &self.usage {
            Some(u) if asked || self.usage_always => {
                let usage = serde_json::to_value(u).unwrap_or(Value::Null);
                out.push(chunk(json!([]), Some(usage)));
            }
            _ => {}
        }
        out
    }

    pub(crate) fn render(&self, request: &RecordedRequest) -> http::Response<Body> {
        let mut chunks: Vec<Bytes> = self
            .chunk_objects(request)
            .iter()
            .map(|o| Bytes::from(format!("data: {o}\n\n")))
            .collect();
        let mut end = None;
        match &self.fault {
            None => {
                if self.done {
                    chunks.push(Bytes::from_static(b"data: [DONE]\n\n"));
                }
            }
            Some((n, fault)) => {
                chunks.truncate(*n);
                match fault {
                    Fault::Disconnect => {
                        end = Some(Step::Fail(
                            TransportErrorKind::Io,
                            format!("connection reset after {n} stream events (chat-mock)"),
                        ))
                    }
                    Fault::ErrorEvent(e) => {
                        chunks.push(Bytes::from(format!("data: {}\n\n", e.error_json())))
                    }
                    Fault::Malformed => chunks.push(Bytes::from_static(
                        b"data: {\"id\":\"chatcmpl-mock\",\"choices\":[{\"delta\":{\"content\n\n",
                    )),
                    Fault::Hang => end = Some(Step::Hang),
                }
            }
        }
        if let Some(size) = self.split_bytes {
            chunks = resplit(chunks, size);
        }
        let body = body_from_steps(steps_for(chunks, self.chunk_delay, end));
        self.head
            .response(StatusCode::OK, Some(EVENT_STREAM), request, body)
    }
}

/// Splits `text` into chunks.
fn split(text: &str, chunking: Chunking) -> Vec<String> {
    match chunking {
        Chunking::Whole => vec![text.to_owned()],
        Chunking::Chars(n) => {
            let chars: Vec<char> = text.chars().collect();
            chars.chunks(n).map(|c| c.iter().collect()).collect()
        }
        Chunking::Words => {
            let mut out: Vec<String> = Vec::new();
            let mut cur = String::new();
            let mut in_space = false;
            for ch in text.chars() {
                let space = ch.is_whitespace();
                if space && !in_space && !cur.trim().is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                in_space = space;
                cur.push(ch);
            }
            if !cur.is_empty() {
                out.push(cur);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_the_space_before_them() {
        assert_eq!(
            split("Hello there,  world", Chunking::Words),
            vec!["Hello", " there,", "  world"]
        );
        assert_eq!(split("ab", Chunking::Chars(1)), vec!["a", "b"]);
        assert!(split("", Chunking::Words).is_empty());
    }
}
