//! The floor: the least a hand-written client does with `serde_json::Value`. It splits the
//! event stream on blank lines and takes `data: ` lines (no `\r`, comments or multi-line
//! data), and merges chunks with a few lines of code.

use serde_json::{json, Map, Value};

/// A minimal SSE splitter: the lower bound for any SSE decoder.
#[derive(Debug, Default)]
pub struct NaiveSse {
    buf: Vec<u8>,
    /// Where the search for the next blank line resumes.
    scanned: usize,
}

impl NaiveSse {
    /// A splitter with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a piece of the stream and calls `on_data` with the data of each event it
    /// completes.
    pub fn feed(&mut self, piece: &[u8], mut on_data: impl FnMut(&[u8])) {
        self.buf.extend_from_slice(piece);
        let mut start = 0;
        let mut search = self.scanned;
        while let Some(i) = memchr::memmem::find(&self.buf[search..], b"\n\n") {
            let end = search + i;
            for line in self.buf[start..end].split(|&b| b == b'\n') {
                if let Some(data) = line.strip_prefix(b"data: ") {
                    on_data(data);
                }
            }
            start = end + 2;
            search = start;
        }
        self.buf.drain(..start);
        self.scanned = self.buf.len().saturating_sub(1);
    }
}

/// Merges parsed chunks into one response object, the way a hand-written client would:
/// concatenates text and tool-call arguments per choice, keeps the last finish reason and
/// the usage.
pub fn accumulate(chunks: Vec<Value>) -> Value {
    struct Choice {
        content: String,
        tool_calls: Vec<(String, String, String)>,
        finish_reason: Value,
    }
    let mut head = Map::new();
    let mut choices: Vec<Choice> = Vec::new();
    let mut usage = Value::Null;
    for mut chunk in chunks {
        if head.is_empty() {
            for key in [
                "id",
                "created",
                "model",
                "service_tier",
                "system_fingerprint",
            ] {
                if let Some(v) = chunk.get_mut(key) {
                    head.insert(key.to_owned(), v.take());
                }
            }
        }
        if let Some(u) = chunk.get_mut("usage").filter(|u| !u.is_null()) {
            usage = u.take();
        }
        let Some(list) = chunk.get_mut("choices").and_then(Value::as_array_mut) else {
            continue;
        };
        for c in list {
            let index = c.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
            while choices.len() <= index {
                choices.push(Choice {
                    content: String::new(),
                    tool_calls: Vec::new(),
                    finish_reason: Value::Null,
                });
            }
            let choice = &mut choices[index];
            if let Some(f) = c.get_mut("finish_reason").filter(|f| !f.is_null()) {
                choice.finish_reason = f.take();
            }
            let delta = &c["delta"];
            if let Some(text) = delta.get("content").and_then(Value::as_str) {
                choice.content.push_str(text);
            }
            for call in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let i = call.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
                while choice.tool_calls.len() <= i {
                    choice.tool_calls.push(Default::default());
                }
                let slot = &mut choice.tool_calls[i];
                if let Some(id) = call.get("id").and_then(Value::as_str) {
                    slot.0 = id.to_owned();
                }
                let f = &call["function"];
                if let Some(name) = f.get("name").and_then(Value::as_str) {
                    slot.1.push_str(name);
                }
                if let Some(args) = f.get("arguments").and_then(Value::as_str) {
                    slot.2.push_str(args);
                }
            }
        }
    }
    let choices: Vec<Value> = choices
        .into_iter()
        .enumerate()
        .map(|(index, c)| {
            let mut message = json!({"role": "assistant", "content": c.content});
            if !c.tool_calls.is_empty() {
                message["tool_calls"] = c
                    .tool_calls
                    .into_iter()
                    .map(|(id, name, arguments)| {
                        json!({"id": id, "type": "function",
                               "function": {"name": name, "arguments": arguments}})
                    })
                    .collect();
            }
            json!({"index": index, "message": message, "finish_reason": c.finish_reason})
        })
        .collect();
    head.insert("object".into(), "chat.completion".into());
    head.insert("choices".into(), Value::Array(choices));
    head.insert("usage".into(), usage);
    Value::Object(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_sse_splits_events_across_any_cut() {
        let body = b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\n: comment\n\ndata: [DONE]\n\n";
        for cut in 0..body.len() {
            let mut sse = NaiveSse::new();
            let mut got = Vec::new();
            sse.feed(&body[..cut], |d| got.push(d.to_vec()));
            sse.feed(&body[cut..], |d| got.push(d.to_vec()));
            assert_eq!(
                got,
                vec![
                    b"{\"a\":1}".to_vec(),
                    b"{\"b\":2}".to_vec(),
                    b"[DONE]".to_vec()
                ],
                "cut at {cut}"
            );
        }
    }
}
