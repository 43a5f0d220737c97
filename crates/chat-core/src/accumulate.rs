//! Assembling a complete response from stream chunks: [`ChatCompletionAccumulator`].

use chat_types::{
    ChatCompletionChoiceLogprobs, ChatCompletionMessageCustomToolCall,
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCallChunk,
    ChatCompletionMessageToolCalls, ChatCompletionModeration, ChatCompletionResponseMessage,
    ChatCompletionResponseMessageAnnotation, ChatCompletionResponseMessageAudio,
    ChatCompletionResponseMessageFunctionCall, ChatCompletionStreamResponseChoice, CompletionUsage,
    CreateChatCompletionResponse, CreateChatCompletionResponseChoice,
    CreateChatCompletionStreamResponse, CustomToolCall, ExtraFields, FinishReason, FunctionCall,
    Metadata, Role, ServiceTier,
};
use serde_json::{Map, Value};

/// Builds the complete response of a streamed chat completion from its chunks.
///
/// [`push`](Self::push) each chunk in order, then [`finish`](Self::finish). It works with
/// chunks from any source: a [`ChatCompletionStream`](crate::ChatCompletionStream), a
/// recording, or a test.
///
/// How chunks are merged, per choice (by `index`; the result lists choices sorted by index):
///
/// - `content` and `refusal` pieces are appended; a field stays `None` if no chunk had it;
/// - tool call pieces are merged by their `index`, appending `function.arguments`; `id`,
///   `type` and `function.name` come from the first piece that has them. A piece whose `id`
///   differs from the one already recorded at its index starts a new call (some compatible
///   servers send every call at index 0). Pieces of `type: "custom"` with a `custom` object
///   become custom tool calls, appending `custom.input`;
/// - the deprecated `function_call` is merged the same way;
/// - `logprobs.content` and `logprobs.refusal` entries are appended;
/// - the role is the first one a delta names (`assistant` if none does);
/// - the finish reason is the last one that marks the choice finished (an empty reason only
///   counts when there is no other).
///
/// For the whole response, `id`, `model`, `created`, `service_tier` and
/// `system_fingerprint` take the latest non-empty value, `usage` and `moderation` come from
/// the last chunk that has them, and `object` is `chat.completion`. The per-chunk
/// `obfuscation` padding is dropped.
///
/// Unknown fields are kept. On the chunk and on the choices they are merged key by key: a
/// later value replaces an earlier one, two objects merge recursively, and `null` never
/// replaces a value. Unknown fields of a delta (such as `reasoning_content` of some
/// servers) are pieces too: strings are appended, arrays extended, anything else merged as
/// above; they land in the message's `extra`. A delta's `audio` (`id`, `data`,
/// `transcript`, `expires_at`) becomes the message's typed `audio` with `data` and
/// `transcript` appended, and `annotations` are appended to the message's annotations.
///
/// The result always serializes to a response that parses again: an unknown chunk field
/// whose name is a typed field of the response never shadows it. A chunk's `metadata` (a
/// field of stored completions, not of chunks) becomes the response's `metadata` when it is
/// an object of strings (later keys win). Values that cannot be kept under their name are
/// dropped: such a `metadata` of another shape, a choice's `message` (the message is built
/// from the deltas), an `audio` or `annotations` of the wrong type (and annotation items that
/// are not annotations), and fields of `audio` or of a custom tool call of the wrong type.
///
/// All appends go into growing buffers, so accumulating a stream is linear in its size.
///
/// ```
/// use chat_core::ChatCompletionAccumulator;
/// use chat_core::types::CreateChatCompletionStreamResponse as Chunk;
///
/// let chunks = [
///     r#"{"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
///     r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
/// ];
/// let mut acc = ChatCompletionAccumulator::new();
/// for chunk in chunks {
///     acc.push(serde_json::from_str::<Chunk>(chunk)?);
/// }
/// let response = acc.finish();
/// assert_eq!(response.first_content(), Some("Hello"));
/// assert_eq!(response.object.as_deref(), Some("chat.completion"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ChatCompletionAccumulator {
    id: Option<String>,
    model: String,
    created: Option<i64>,
    service_tier: Option<ServiceTier>,
    system_fingerprint: Option<String>,
    usage: Option<CompletionUsage>,
    moderation: Option<Box<ChatCompletionModeration>>,
    metadata: Option<Metadata>,
    extra: ExtraFields,
    /// Sorted by index.
    choices: Vec<ChoiceState>,
}

/// The merged state of one choice.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChoiceState {
    pub(crate) index: u32,
    role: Option<Role>,
    pub(crate) content: Option<String>,
    pub(crate) refusal: Option<String>,
    /// In the order the calls started.
    pub(crate) tool_calls: Vec<ToolCallState>,
    function_call: Option<ChatCompletionResponseMessageFunctionCall>,
    logprobs: Option<ChatCompletionChoiceLogprobs>,
    pub(crate) finish_reason: Option<FinishReason>,
    audio: Option<ChatCompletionResponseMessageAudio>,
    annotations: Option<Vec<ChatCompletionResponseMessageAnnotation>>,
    message_extra: ExtraFields,
    choice_extra: ExtraFields,
}

/// The merged state of one tool call.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToolCallState {
    /// The `index` of its pieces.
    pub(crate) index: u32,
    pub(crate) id: String,
    r#type: Option<String>,
    pub(crate) name: String,
    /// The function arguments, or the input of a custom tool call.
    pub(crate) arguments: String,
    custom: bool,
    /// Unknown fields of the `function` (or `custom`) object.
    function_extra: ExtraFields,
    extra: ExtraFields,
}

/// What a push changed, for the event view. Ranges are byte ranges of the merged text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Content {
        choice: u32,
        start: usize,
        end: usize,
    },
    Refusal {
        choice: u32,
        start: usize,
        end: usize,
    },
    ToolCall {
        choice: u32,
        slot: usize,
        start: usize,
        end: usize,
        new: bool,
    },
    Finished {
        choice: u32,
    },
    Usage,
}

impl ChatCompletionAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Merges the next chunk of the stream.
    pub fn push(&mut self, chunk: CreateChatCompletionStreamResponse) {
        self.push_logged(chunk, None);
    }

    /// The response assembled from the chunks so far (a copy; the accumulator goes on).
    pub fn snapshot(&self) -> CreateChatCompletionResponse {
        self.clone().finish()
    }

    /// The response assembled from all chunks.
    pub fn finish(self) -> CreateChatCompletionResponse {
        CreateChatCompletionResponse {
            id: self.id,
            choices: self.choices.into_iter().map(ChoiceState::finish).collect(),
            created: self.created,
            model: self.model,
            metadata: self.metadata,
            service_tier: self.service_tier,
            system_fingerprint: self.system_fingerprint,
            object: Some("chat.completion".to_owned()),
            usage: self.usage,
            moderation: self.moderation,
            extra: self.extra,
        }
    }

    /// The merged state of the choice with `index`.
    pub(crate) fn choice(&self, index: u32) -> Option<&ChoiceState> {
        self.choices
            .binary_search_by_key(&index, |c| c.index)
            .ok()
            .map(|i| &self.choices[i])
    }

    /// The choices seen so far, sorted by index.
    pub(crate) fn choices(&self) -> &[ChoiceState] {
        &self.choices
    }

    /// The usage of the last chunk that had one.
    pub(crate) fn usage(&self) -> Option<&CompletionUsage> {
        self.usage.as_ref()
    }

    /// Merges `chunk`, recording what changed in `log` when given.
    pub(crate) fn push_logged(
        &mut self,
        chunk: CreateChatCompletionStreamResponse,
        mut log: Option<&mut Vec<Change>>,
    ) {
        let CreateChatCompletionStreamResponse {
            id,
            choices,
            created,
            model,
            obfuscation: _,
            service_tier,
            system_fingerprint,
            object: _,
            usage,
            moderation,
            extra,
        } = chunk;
        // Keep the first real value; an empty placeholder (Azure's first chunk) never wins.
        if let Some(id) = id {
            if !id.is_empty() || self.id.is_none() {
                self.id = Some(id);
            }
        }
        if !model.is_empty() {
            self.model = model;
        }
        if let Some(created) = created {
            if created != 0 || self.created.is_none() {
                self.created = Some(created);
            }
        }
        if service_tier.is_some() {
            self.service_tier = service_tier;
        }
        if system_fingerprint.is_some() {
            self.system_fingerprint = system_fingerprint;
        }
        if moderation.is_some() {
            self.moderation = moderation;
        }
        let mut extra = extra;
        // `metadata` is a typed field of the response (not of a chunk): a value of its type
        // goes there, key by key; any other value cannot be kept under that name.
        if let Some(metadata) = extra.remove("metadata") {
            if let Ok(metadata) = serde_json::from_value::<Metadata>(metadata) {
                self.metadata
                    .get_or_insert_with(Metadata::new)
                    .extend(metadata);
            }
        }
        drop_known(&mut extra, CreateChatCompletionResponse::KNOWN_FIELDS);
        merge_fields(&mut self.extra, extra);
        for choice in choices {
            let slot = match self
                .choices
                .binary_search_by_key(&choice.index, |c| c.index)
            {
                Ok(slot) => slot,
                Err(slot) => {
                    let state = ChoiceState {
                        index: choice.index,
                        ..ChoiceState::default()
                    };
                    self.choices.insert(slot, state);
                    slot
                }
            };
            self.choices[slot].push(choice, log.as_deref_mut());
        }
        if usage.is_some() {
            self.usage = usage;
            if let Some(log) = log {
                log.push(Change::Usage);
            }
        }
    }
}

impl Extend<CreateChatCompletionStreamResponse> for ChatCompletionAccumulator {
    fn extend<I: IntoIterator<Item = CreateChatCompletionStreamResponse>>(&mut self, chunks: I) {
        for chunk in chunks {
            self.push(chunk);
        }
    }
}

impl FromIterator<CreateChatCompletionStreamResponse> for ChatCompletionAccumulator {
    fn from_iter<I: IntoIterator<Item = CreateChatCompletionStreamResponse>>(chunks: I) -> Self {
        let mut acc = Self::new();
        acc.extend(chunks);
        acc
    }
}

/// Appends `piece` to `text`, returning the byte range it took.
fn append(text: &mut Option<String>, piece: String) -> (usize, usize) {
    match text {
        Some(text) => {
            let start = text.len();
            text.push_str(&piece);
            (start, text.len())
        }
        None => {
            let end = piece.len();
            *text = Some(piece);
            (0, end)
        }
    }
}

impl ChoiceState {
    fn push(
        &mut self,
        choice: ChatCompletionStreamResponseChoice,
        mut log: Option<&mut Vec<Change>>,
    ) {
        let ChatCompletionStreamResponseChoice {
            delta,
            logprobs,
            finish_reason,
            index,
            extra,
        } = choice;
        if self.role.is_none() {
            self.role = delta.role;
        }
        if let Some(piece) = delta.content {
            let (start, end) = append(&mut self.content, piece);
            if let (Some(log), true) = (log.as_deref_mut(), end > start) {
                log.push(Change::Content {
                    choice: index,
                    start,
                    end,
                });
            }
        }
        if let Some(piece) = delta.refusal {
            let (start, end) = append(&mut self.refusal, piece);
            if let (Some(log), true) = (log.as_deref_mut(), end > start) {
                log.push(Change::Refusal {
                    choice: index,
                    start,
                    end,
                });
            }
        }
        for piece in delta.tool_calls.into_iter().flatten() {
            let (slot, new, start) = self.push_tool_call(piece);
            if let Some(log) = log.as_deref_mut() {
                log.push(Change::ToolCall {
                    choice: index,
                    slot,
                    start,
                    end: self.tool_calls[slot].arguments.len(),
                    new,
                });
            }
        }
        if let Some(piece) = delta.function_call {
            let call = self.function_call.get_or_insert_with(Default::default);
            if call.name.is_empty() {
                if let Some(name) = piece.name {
                    call.name = name;
                }
            }
            if let Some(arguments) = piece.arguments {
                call.arguments.push_str(&arguments);
            }
            merge_fields(&mut call.extra, piece.extra);
        }
        // `remove` on an empty map costs nothing, and the merges return early for one.
        let mut message_extra = delta.extra;
        if let Some(audio) = message_extra.remove("audio") {
            self.push_audio(audio);
        }
        // `annotations` is typed on the message: its items that are annotations are kept; a
        // value that is no list cannot be kept under that name.
        if let Some(Value::Array(items)) = message_extra.remove("annotations") {
            let list = self.annotations.get_or_insert_with(Vec::new);
            list.extend(items.into_iter().filter_map(|item| {
                serde_json::from_value::<ChatCompletionResponseMessageAnnotation>(item).ok()
            }));
        }
        drop_known(
            &mut message_extra,
            ChatCompletionResponseMessage::KNOWN_FIELDS,
        );
        merge_delta_fields(&mut self.message_extra, message_extra);
        if let Some(lp) = logprobs {
            let acc = self.logprobs.get_or_insert_with(Default::default);
            if let Some(content) = lp.content {
                acc.content.get_or_insert_with(Vec::new).extend(content);
            }
            if let Some(refusal) = lp.refusal {
                acc.refusal.get_or_insert_with(Vec::new).extend(refusal);
            }
            merge_fields(&mut acc.extra, lp.extra);
        }
        if let Some(reason) = finish_reason {
            let was_finished = self.is_finished();
            if reason.is_finished() || self.finish_reason.is_none() {
                self.finish_reason = Some(reason);
            }
            if !was_finished && self.is_finished() {
                if let Some(log) = log {
                    log.push(Change::Finished { choice: index });
                }
            }
        }
        // `message` is a typed field of the response choice (not of a chunk's choice); the
        // message is built from the deltas, so a chunk's own `message` cannot be kept.
        let mut extra = extra;
        drop_known(&mut extra, CreateChatCompletionResponseChoice::KNOWN_FIELDS);
        merge_fields(&mut self.choice_extra, extra);
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finish_reason
            .as_ref()
            .is_some_and(FinishReason::is_finished)
    }

    /// Merges one tool call piece; returns its slot, whether it started a call, and where
    /// its arguments start.
    fn push_tool_call(
        &mut self,
        piece: ChatCompletionMessageToolCallChunk,
    ) -> (usize, bool, usize) {
        let ChatCompletionMessageToolCallChunk {
            index,
            id,
            r#type,
            function,
            mut extra,
        } = piece;
        let existing = self.tool_calls.iter().rposition(|t| t.index == index);
        let (slot, new) = match existing {
            Some(slot) if !starts_another_call(&self.tool_calls[slot], id.as_deref()) => {
                (slot, false)
            }
            _ => {
                self.tool_calls.push(ToolCallState {
                    index,
                    ..ToolCallState::default()
                });
                (self.tool_calls.len() - 1, true)
            }
        };
        let call = &mut self.tool_calls[slot];
        let start = call.arguments.len();
        if let Some(id) = id {
            if call.id.is_empty() {
                call.id = id;
            }
        }
        if call.r#type.is_none() {
            call.r#type = r#type;
        }
        if call.r#type.as_deref() == Some("custom") {
            call.custom = true;
        }
        if let Some(function) = function {
            if call.name.is_empty() {
                if let Some(name) = function.name {
                    call.name = name;
                }
            }
            if let Some(arguments) = function.arguments {
                call.arguments.push_str(&arguments);
            }
            merge_fields(&mut call.function_extra, function.extra);
        }
        match extra.remove("custom") {
            Some(Value::Object(mut custom)) => {
                call.custom = true;
                // Typed fields of a custom tool call: values of another type are dropped.
                if let Some(Value::String(name)) = custom.remove("name") {
                    if call.name.is_empty() {
                        call.name = name;
                    }
                }
                if let Some(Value::String(input)) = custom.remove("input") {
                    call.arguments.push_str(&input);
                }
                merge_fields(&mut call.function_extra, custom.into());
            }
            // Kept for a function call, where `custom` is no field; dropped when the call
            // turns out to be a custom one (see `finish`).
            Some(other) => {
                extra.insert("custom".to_owned(), other);
            }
            None => {}
        }
        merge_fields(&mut call.extra, extra);
        (slot, new, start)
    }

    /// Merges a delta's `audio`. `audio` and its `id`, `expires_at`, `data` and
    /// `transcript` are typed fields of the message: values of another type cannot be kept
    /// under those names and are dropped.
    fn push_audio(&mut self, audio: Value) {
        let Value::Object(mut piece) = audio else {
            return;
        };
        let acc = self.audio.get_or_insert_with(Default::default);
        if let Some(Value::String(id)) = piece.remove("id") {
            acc.id = id;
        }
        if let Some(expires_at) = piece.remove("expires_at").and_then(|v| v.as_i64()) {
            acc.expires_at = expires_at;
        }
        if let Some(Value::String(data)) = piece.remove("data") {
            acc.data.push_str(&data);
        }
        if let Some(Value::String(transcript)) = piece.remove("transcript") {
            acc.transcript.push_str(&transcript);
        }
        merge_fields(&mut acc.extra, piece.into());
    }

    pub(crate) fn tool_call(&self, slot: usize) -> Option<ChatCompletionMessageToolCalls> {
        self.tool_calls.get(slot).map(|t| t.clone().finish())
    }

    fn finish(self) -> CreateChatCompletionResponseChoice {
        let mut tool_calls = self.tool_calls;
        tool_calls.sort_by_key(|t| t.index);
        let tool_calls = (!tool_calls.is_empty())
            .then(|| tool_calls.into_iter().map(ToolCallState::finish).collect());
        CreateChatCompletionResponseChoice {
            finish_reason: self.finish_reason,
            index: self.index,
            message: ChatCompletionResponseMessage {
                content: self.content,
                refusal: self.refusal,
                tool_calls,
                annotations: self.annotations,
                role: self.role.unwrap_or_default(),
                function_call: self.function_call.map(Box::new),
                audio: self.audio.map(Box::new),
                extra: self.message_extra,
            },
            logprobs: self.logprobs,
            extra: self.choice_extra,
        }
    }
}

/// Whether a piece with `id` at the index of `call` belongs to a new call: both have ids
/// and they differ.
fn starts_another_call(call: &ToolCallState, id: Option<&str>) -> bool {
    match id {
        Some(id) => !id.is_empty() && !call.id.is_empty() && call.id != id,
        None => false,
    }
}

impl ToolCallState {
    fn finish(self) -> ChatCompletionMessageToolCalls {
        match self.r#type.as_deref() {
            _ if self.custom => {
                let mut extra = self.extra;
                // A typed field of a custom tool call (`custom`); only an object fits it.
                drop_known(
                    &mut extra,
                    ChatCompletionMessageCustomToolCall::KNOWN_FIELDS,
                );
                ChatCompletionMessageToolCalls::Custom(ChatCompletionMessageCustomToolCall {
                    id: self.id,
                    custom: CustomToolCall {
                        name: self.name,
                        input: self.arguments,
                        extra: self.function_extra,
                    },
                    extra,
                })
            }
            None | Some("function") => {
                ChatCompletionMessageToolCalls::Function(ChatCompletionMessageToolCall {
                    id: self.id,
                    function: FunctionCall {
                        name: self.name,
                        arguments: self.arguments,
                        extra: self.function_extra,
                    },
                    extra: self.extra,
                })
            }
            Some(other) => {
                // A tool type this version does not know: keep it as raw JSON.
                let mut function = self.function_extra.into_map();
                function.insert("name".to_owned(), Value::String(self.name));
                function.insert("arguments".to_owned(), Value::String(self.arguments));
                let mut object = self.extra.into_map();
                object.insert("id".to_owned(), Value::String(self.id));
                object.insert("type".to_owned(), Value::String(other.to_owned()));
                object.insert("function".to_owned(), Value::Object(function));
                ChatCompletionMessageToolCalls::Unknown(Value::Object(object))
            }
        }
    }
}

/// Drops the unknown fields of a chunk's object that are typed fields of the response object
/// it is merged into (`known`): what fits the typed field was taken from them before; a
/// value kept in `extra` under such a name would be written twice.
fn drop_known(extra: &mut ExtraFields, known: &[&str]) {
    if extra.is_empty() {
        return;
    }
    for name in known {
        extra.remove(name);
    }
}

/// Merges unknown fields: later values replace earlier ones, objects merge recursively, and
/// `null` never replaces a value.
fn merge_fields(into: &mut ExtraFields, from: ExtraFields) {
    // Almost always empty: skip building and dropping an iterator per field of every chunk.
    if from.is_empty() {
        return;
    }
    merge_map(into.as_map_mut(), from.into_map());
}

fn merge_map(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match into.get_mut(&key) {
            None => {
                into.insert(key, value);
            }
            Some(old) => merge_value(old, value),
        }
    }
}

fn merge_value(old: &mut Value, new: Value) {
    match (old, new) {
        (_, Value::Null) => {}
        (Value::Object(old), Value::Object(new)) => merge_map(old, new),
        (old, new) => *old = new,
    }
}

/// Merges unknown fields of a delta: strings are appended, arrays extended, anything else
/// merged like [`merge_fields`].
fn merge_delta_fields(into: &mut ExtraFields, from: ExtraFields) {
    if from.is_empty() {
        return;
    }
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (None, value) => {
                into.insert(key, value);
            }
            (Some(Value::String(old)), Value::String(new)) => old.push_str(&new),
            (Some(Value::Array(old)), Value::Array(new)) => old.extend(new),
            (Some(old), new) => merge_value(old, new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> ExtraFields {
        match v {
            Value::Object(m) => m.into(),
            _ => unreachable!(),
        }
    }

    /// The fields a response object types that its chunk counterpart does not: each is
    /// handled (taken into the typed field or dropped) by the accumulator. A field added to
    /// a response type only fails here until the accumulator knows what to do with it.
    #[test]
    fn fields_typed_only_in_responses_are_the_handled_ones() {
        use chat_types::ChatCompletionStreamResponseDelta;
        fn only_in(a: &[&'static str], b: &[&str]) -> Vec<&'static str> {
            let mut v: Vec<_> = a.iter().copied().filter(|f| !b.contains(f)).collect();
            v.sort_unstable();
            v
        }
        assert_eq!(
            only_in(
                CreateChatCompletionResponse::KNOWN_FIELDS,
                CreateChatCompletionStreamResponse::KNOWN_FIELDS
            ),
            ["metadata"]
        );
        assert_eq!(
            only_in(
                CreateChatCompletionResponseChoice::KNOWN_FIELDS,
                ChatCompletionStreamResponseChoice::KNOWN_FIELDS
            ),
            ["message"]
        );
        assert_eq!(
            only_in(
                ChatCompletionResponseMessage::KNOWN_FIELDS,
                ChatCompletionStreamResponseDelta::KNOWN_FIELDS
            ),
            ["annotations", "audio"]
        );
        assert_eq!(
            only_in(
                ChatCompletionMessageCustomToolCall::KNOWN_FIELDS,
                ChatCompletionMessageToolCallChunk::KNOWN_FIELDS
            ),
            ["custom"]
        );
    }

    #[test]
    fn drop_known_removes_only_typed_names() {
        let mut extra = fields(json!({"message": 1, "x": 2}));
        drop_known(&mut extra, CreateChatCompletionResponseChoice::KNOWN_FIELDS);
        assert_eq!(Value::Object(extra.into_map()), json!({"x": 2}));
    }

    #[test]
    fn merge_rules() {
        let mut into = fields(json!({"a": 1, "o": {"x": 1, "y": 2}, "s": "keep"}));
        merge_fields(
            &mut into,
            fields(json!({"a": 2, "o": {"y": 3, "z": 4}, "s": null, "n": null})),
        );
        assert_eq!(
            Value::Object(into.into_map()),
            json!({"a": 2, "o": {"x": 1, "y": 3, "z": 4}, "s": "keep", "n": null})
        );

        let mut into = fields(json!({"r": "Hel", "l": [1], "k": null}));
        merge_delta_fields(&mut into, fields(json!({"r": "lo", "l": [2], "k": "v"})));
        assert_eq!(
            Value::Object(into.into_map()),
            json!({"r": "Hello", "l": [1, 2], "k": "v"})
        );
    }
}
