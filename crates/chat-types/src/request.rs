//! The body of `POST /chat/completions` (`CreateChatCompletionRequest`).

use std::collections::BTreeMap;

use crate::{
    ChatCompletionFunctions, ChatCompletionRequestMessage, ChatCompletionToolChoiceOption,
    ChatCompletionTools, CreateChatCompletionRequestAudio, CreateChatCompletionRequestFunctionCall,
    Metadata, ModelIdsShared, ModerationParam, PredictionContent, PromptCacheOptionsParam,
    ResponseFormat, ServiceTier, StopConfiguration, WebSearchOptions,
};

wire_object! {
    /// The body of `POST /chat/completions`.
    ///
    /// Build it with [`CreateChatCompletionRequest::new`] and the chained setters; any field a
    /// compatible server accepts beyond the spec (vLLM's `top_k`, OpenRouter's `provider`) goes
    /// in [`extra`](Self::extra) or through [`extra_field`](Self::extra_field).
    ///
    /// ```
    /// use chat_types::{
    ///     ChatCompletionRequestMessage as Message, ChatCompletionToolChoiceOption as ToolChoice,
    ///     CreateChatCompletionRequest, ResponseFormat, Tool,
    /// };
    /// use serde_json::json;
    ///
    /// let request = CreateChatCompletionRequest::new(
    ///     "gpt-4o",
    ///     [Message::system("You are terse."), Message::user("Weather in Paris?")],
    /// )
    /// .temperature(0.2)
    /// .max_completion_tokens(100)
    /// .tools(vec![Tool::function(
    ///     "get_weather",
    ///     "Current weather of a city",
    ///     json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    /// )])
    /// .tool_choice(ToolChoice::auto())
    /// .response_format(ResponseFormat::text())
    /// .stream(true)
    /// .extra_field("top_k", 40);
    ///
    /// let body = serde_json::to_value(&request).unwrap();
    /// assert_eq!(body["model"], "gpt-4o");
    /// assert_eq!(body["max_completion_tokens"], 100);
    /// assert_eq!(body["tool_choice"], "auto");
    /// assert_eq!(body["top_k"], 40);
    /// ```
    pub struct CreateChatCompletionRequest {
        /// The conversation so far.
        req messages: Vec<ChatCompletionRequestMessage>,
        /// The model id, such as `gpt-4o`.
        req model: ModelIdsShared,
        /// Key-value pairs to attach to a stored completion.
        opt metadata: Option<Metadata>,
        /// How many most likely tokens (0 to 20) to return with log probabilities per position.
        opt top_logprobs: Option<u32>,
        /// Sampling temperature between 0 and 2.
        opt temperature: Option<f64>,
        /// Nucleus sampling probability mass between 0 and 1.
        opt top_p: Option<f64>,
        /// A stable end-user identifier (deprecated: use `safety_identifier` and
        /// `prompt_cache_key`).
        opt user: Option<String>,
        /// A stable identifier of your end user, for abuse detection.
        opt safety_identifier: Option<String>,
        /// A key to improve prompt cache hit rates across similar requests.
        opt prompt_cache_key: Option<String>,
        /// Prompt cache retention (deprecated).
        opt prompt_cache_retention: Option<PromptCacheRetention>,
        /// Options for prompt caching.
        opt prompt_cache_options: Option<PromptCacheOptionsParam>,
        /// The processing tier to use.
        opt service_tier: Option<ServiceTier>,
        /// Output types to generate, such as `["text", "audio"]`.
        opt modalities: Option<ResponseModalities>,
        /// How verbose the answer should be.
        opt verbosity: Option<Verbosity>,
        /// How much effort a reasoning model spends on reasoning.
        opt reasoning_effort: Option<ReasoningEffort>,
        /// An upper bound of generated tokens, including reasoning tokens.
        opt max_completion_tokens: Option<u64>,
        /// Penalty between -2 and 2 for tokens by how often they already appeared.
        opt frequency_penalty: Option<f64>,
        /// Penalty between -2 and 2 for tokens that already appeared.
        opt presence_penalty: Option<f64>,
        /// Web search options, for search models.
        opt web_search_options: Option<WebSearchOptions>,
        /// The format the model must output (text, JSON object or JSON schema).
        opt response_format: Option<ResponseFormat>,
        /// Parameters for audio output.
        opt audio: Option<CreateChatCompletionRequestAudio>,
        /// Whether to store the completion for later retrieval.
        opt store: Option<bool>,
        /// Moderation of the input and output.
        opt moderation: Option<ModerationParam>,
        /// Whether to stream the answer as server-sent events.
        opt stream: Option<bool>,
        /// Up to 4 sequences where the model stops generating.
        opt stop: Option<StopConfiguration>,
        /// Bias (-100 to 100) added to the logits of token ids.
        opt logit_bias: Option<BTreeMap<String, i64>>,
        /// Whether to return log probabilities of the output tokens.
        opt logprobs: Option<bool>,
        /// Maximum number of tokens to generate (deprecated: use `max_completion_tokens`).
        opt max_tokens: Option<u64>,
        /// How many choices to generate.
        opt n: Option<u32>,
        /// Predicted output, to speed up regeneration of mostly known content.
        opt prediction: Option<PredictionContent>,
        /// A seed for best-effort deterministic sampling (deprecated).
        opt seed: Option<i64>,
        /// Options of a streamed response.
        opt stream_options: Option<ChatCompletionStreamOptions>,
        /// The tools the model may call.
        opt tools: Option<Vec<ChatCompletionTools>>,
        /// Which tool the model must call, if any.
        opt tool_choice: Option<ChatCompletionToolChoiceOption>,
        /// Whether the model may call several tools at once.
        opt parallel_tool_calls: Option<bool>,
        /// Which function the model must call (deprecated: use `tool_choice`).
        opt function_call: Option<CreateChatCompletionRequestFunctionCall>,
        /// The functions the model may call (deprecated: use `tools`).
        opt functions: Option<Vec<ChatCompletionFunctions>>,
    }
}

string_enum! {
    /// Prompt cache retention (deprecated).
    pub enum PromptCacheRetention {
        /// Kept in memory.
        InMemory = "in_memory",
        /// Kept for 24 hours.
        Hours24 = "24h",
    }
}

string_enum! {
    /// Output types a model can generate.
    pub enum ResponseModality {
        /// Text.
        Text = "text",
        /// Audio.
        Audio = "audio",
    }
}

/// The output types to generate.
pub type ResponseModalities = Vec<ResponseModality>;

string_enum! {
    /// How verbose the model's answer should be.
    pub enum Verbosity {
        /// Concise.
        Low = "low",
        /// Balanced (the default).
        Medium = "medium",
        /// Detailed.
        High = "high",
    }
}

string_enum! {
    /// How much effort a reasoning model spends on reasoning.
    pub enum ReasoningEffort {
        /// No reasoning.
        None = "none",
        /// Minimal reasoning.
        Minimal = "minimal",
        /// Low effort.
        Low = "low",
        /// Medium effort (the default).
        Medium = "medium",
        /// High effort.
        High = "high",
        /// Extra high effort.
        Xhigh = "xhigh",
        /// Maximum effort.
        Max = "max",
    }
}

wire_object! {
    /// Options of a streamed response.
    #[derive(Default)]
    pub struct ChatCompletionStreamOptions {
        /// Send a last chunk with the token usage of the whole request.
        opt include_usage: Option<bool>,
        /// Add random `obfuscation` characters to chunks to normalise payload sizes.
        opt include_obfuscation: Option<bool>,
    }
}

impl CreateChatCompletionRequest {
    /// The text of the last user message (see [`ChatCompletionRequestMessage::text`]): what
    /// a proxy, a router or a test usually wants to look at.
    pub fn last_user_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.messages
            .iter()
            .rev()
            .find(|m| matches!(m, ChatCompletionRequestMessage::User(_)))?
            .text()
    }

    /// A request for `model` with the given messages; every other field is unset.
    pub fn new(
        model: impl Into<ModelIdsShared>,
        messages: impl IntoIterator<Item = ChatCompletionRequestMessage>,
    ) -> Self {
        CreateChatCompletionRequest {
            messages: messages.into_iter().collect(),
            model: model.into(),
            metadata: None,
            top_logprobs: None,
            temperature: None,
            top_p: None,
            user: None,
            safety_identifier: None,
            prompt_cache_key: None,
            prompt_cache_retention: None,
            prompt_cache_options: None,
            service_tier: None,
            modalities: None,
            verbosity: None,
            reasoning_effort: None,
            max_completion_tokens: None,
            frequency_penalty: None,
            presence_penalty: None,
            web_search_options: None,
            response_format: None,
            audio: None,
            store: None,
            moderation: None,
            stream: None,
            stop: None,
            logit_bias: None,
            logprobs: None,
            max_tokens: None,
            n: None,
            prediction: None,
            seed: None,
            stream_options: None,
            tools: None,
            tool_choice: None,
            parallel_tool_calls: None,
            function_call: None,
            functions: None,
            extra: Default::default(),
        }
    }

    /// Adds a field the spec does not have, for a compatible server (such as vLLM's `top_k`).
    pub fn extra_field(
        mut self,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// Replaces the model.
    pub fn model(mut self, model: impl Into<ModelIdsShared>) -> Self {
        self.model = model.into();
        self
    }

    /// Replaces the messages.
    pub fn messages(
        mut self,
        messages: impl IntoIterator<Item = ChatCompletionRequestMessage>,
    ) -> Self {
        self.messages = messages.into_iter().collect();
        self
    }

    /// Appends one message.
    pub fn message(mut self, message: impl Into<ChatCompletionRequestMessage>) -> Self {
        self.messages.push(message.into());
        self
    }

    /// Replaces the tools.
    pub fn tools(mut self, tools: impl IntoIterator<Item = ChatCompletionTools>) -> Self {
        self.tools = Some(tools.into_iter().collect());
        self
    }

    /// Appends one tool.
    pub fn tool(mut self, tool: impl Into<ChatCompletionTools>) -> Self {
        self.tools.get_or_insert_with(Vec::new).push(tool.into());
        self
    }

    /// Sets the deprecated `functions`.
    pub fn functions(
        mut self,
        functions: impl IntoIterator<Item = ChatCompletionFunctions>,
    ) -> Self {
        self.functions = Some(functions.into_iter().collect());
        self
    }

    /// Sets the output types, such as `["text", "audio"]`.
    pub fn modalities<M: Into<ResponseModality>>(
        mut self,
        modalities: impl IntoIterator<Item = M>,
    ) -> Self {
        self.modalities = Some(modalities.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the metadata of a stored completion.
    pub fn metadata<K: Into<String>, V: Into<String>>(
        mut self,
        metadata: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.metadata = Some(
            metadata
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Sets the logit bias: token id (as a string) to bias between -100 and 100.
    pub fn logit_bias<K: Into<String>>(mut self, bias: impl IntoIterator<Item = (K, i64)>) -> Self {
        self.logit_bias = Some(bias.into_iter().map(|(k, v)| (k.into(), v)).collect());
        self
    }

    /// Sets `stream_options.include_usage`, keeping other stream options.
    pub fn include_usage(mut self, include_usage: bool) -> Self {
        self.stream_options
            .get_or_insert_with(Default::default)
            .include_usage = Some(include_usage);
        self
    }
}

/// Defines by-value setters of optional request fields: `field: Type` takes the type,
/// `field: into Type` takes anything convertible into it.
macro_rules! setters {
    ($( $field:ident : $kind:ident $ty:ty ),* $(,)?) => {
        impl CreateChatCompletionRequest {
            $( setters!(@one $field $kind $ty); )*
        }
    };
    (@one $field:ident into $ty:ty) => {
        #[doc = concat!("Sets `", stringify!($field), "`.")]
        pub fn $field(mut self, value: impl Into<$ty>) -> Self {
            self.$field = Some(value.into());
            self
        }
    };
    (@one $field:ident val $ty:ty) => {
        #[doc = concat!("Sets `", stringify!($field), "`.")]
        pub fn $field(mut self, value: $ty) -> Self {
            self.$field = Some(value);
            self
        }
    };
}

setters! {
    top_logprobs: val u32,
    temperature: into f64,
    top_p: into f64,
    user: into String,
    safety_identifier: into String,
    prompt_cache_key: into String,
    prompt_cache_retention: into PromptCacheRetention,
    prompt_cache_options: val PromptCacheOptionsParam,
    service_tier: into ServiceTier,
    verbosity: into Verbosity,
    reasoning_effort: into ReasoningEffort,
    max_completion_tokens: val u64,
    frequency_penalty: into f64,
    presence_penalty: into f64,
    web_search_options: val WebSearchOptions,
    response_format: into ResponseFormat,
    audio: val CreateChatCompletionRequestAudio,
    store: val bool,
    moderation: into ModerationParam,
    stream: val bool,
    stop: into StopConfiguration,
    logprobs: val bool,
    max_tokens: val u64,
    n: val u32,
    prediction: into PredictionContent,
    seed: val i64,
    stream_options: val ChatCompletionStreamOptions,
    tool_choice: into ChatCompletionToolChoiceOption,
    parallel_tool_calls: val bool,
    function_call: into CreateChatCompletionRequestFunctionCall,
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::{
        ChatCompletionRequestMessage as Message,
        ChatCompletionRequestUserMessageContentPart as Part, PromptCacheModeEnum, Tool,
        UnknownFields, WebSearchContextSize,
    };

    use crate::test_util::to_json;

    /// Adds the fields of `more` to the object `v` (one `json!` of a whole request is too deep).
    fn merge(v: &mut Value, more: Value) {
        let Value::Object(more) = more else {
            panic!("not an object: {more}")
        };
        v.as_object_mut().unwrap().extend(more);
    }

    #[test]
    fn new_writes_only_model_and_messages() {
        let r = CreateChatCompletionRequest::new("gpt-4o", [Message::user("hi")]);
        assert_eq!(
            to_json(&r),
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
        );
    }

    #[test]
    fn setters_write_the_expected_json() {
        let r = CreateChatCompletionRequest::new("o3", [])
            .model("gpt-4o-mini")
            .messages([Message::system("s")])
            .message(Message::user(vec![Part::text("t")]))
            .temperature(0.5)
            .top_p(1)
            .top_logprobs(2)
            .logprobs(true)
            .max_completion_tokens(100)
            .max_tokens(50)
            .n(2)
            .seed(-7)
            .frequency_penalty(0.25)
            .presence_penalty(-0.5)
            .user("u")
            .safety_identifier("sid")
            .prompt_cache_key("pck")
            .prompt_cache_retention("24h")
            .prompt_cache_options(PromptCacheOptionsParam {
                mode: Some(PromptCacheModeEnum::Implicit),
                ..Default::default()
            })
            .service_tier("flex")
            .verbosity(Verbosity::Low)
            .reasoning_effort("high")
            .modalities(["text", "audio"])
            .audio(CreateChatCompletionRequestAudio::new("alloy", "wav"))
            .web_search_options(WebSearchOptions {
                search_context_size: Some(WebSearchContextSize::Low),
                ..Default::default()
            })
            .response_format(ResponseFormat::json_object())
            .store(true)
            .moderation(ModerationParam::new("omni-moderation-latest"))
            .stream(true)
            .include_usage(true)
            .stop(["END"])
            .logit_bias([("50256", -100)])
            .metadata([("k", "v")])
            .prediction(PredictionContent::new("p"))
            .tool(Tool::function("f", "d", json!({"type": "object"})))
            .tool_choice(ChatCompletionToolChoiceOption::required())
            .parallel_tool_calls(false)
            .functions([ChatCompletionFunctions::new("g", "d", json!({}))])
            .function_call(CreateChatCompletionRequestFunctionCall::function("g"));
        let mut expected = json!({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "s"},
                    {"role": "user", "content": [{"type": "text", "text": "t"}]}
                ],
                "temperature": 0.5,
                "top_p": 1.0,
                "top_logprobs": 2,
                "logprobs": true,
                "max_completion_tokens": 100,
                "max_tokens": 50,
                "n": 2,
                "seed": -7,
                "frequency_penalty": 0.25,
                "presence_penalty": -0.5,
                "user": "u",
                "safety_identifier": "sid",
                "prompt_cache_key": "pck",
                "prompt_cache_retention": "24h",
                "prompt_cache_options": {"mode": "implicit"},
                "service_tier": "flex",
                "verbosity": "low",
                "reasoning_effort": "high",
                "modalities": ["text", "audio"],
                "audio": {"voice": "alloy", "format": "wav"},
                "web_search_options": {"search_context_size": "low"},
        });
        merge(
            &mut expected,
            json!({
                    "response_format": {"type": "json_object"},
                    "store": true,
                    "moderation": {"model": "omni-moderation-latest"},
                    "stream": true,
                    "stream_options": {"include_usage": true},
                    "stop": ["END"],
                    "logit_bias": {"50256": -100},
                    "metadata": {"k": "v"},
                    "prediction": {"type": "content", "content": "p"},
                    "tools": [{
                        "type": "function",
                        "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}
                    }],
                    "tool_choice": "required",
                    "parallel_tool_calls": false,
                    "functions": [{"name": "g", "description": "d", "parameters": {}}],
                    "function_call": {"name": "g"}
            }),
        );
        assert_eq!(to_json(&r), expected);
        assert!(r.unknown_fields().is_empty(), "{:?}", r.unknown_fields());
    }

    #[test]
    fn extra_field_adds_server_specific_parameters() {
        let r = CreateChatCompletionRequest::new("meta-llama/llama-3-70b", [Message::user("hi")])
            .extra_field("top_k", 40)
            .extra_field(
                "provider",
                json!({"order": ["groq"], "allow_fallbacks": false}),
            );
        let v = to_json(&r);
        assert_eq!(v["top_k"], 40);
        assert_eq!(
            v["provider"],
            json!({"order": ["groq"], "allow_fallbacks": false})
        );
        // They read back into `extra` and are reported as unknown.
        let back: CreateChatCompletionRequest = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.unknown_fields(), vec!["provider", "top_k"]);
    }

    #[test]
    fn every_spec_field_parses_without_unknowns_and_round_trips() {
        let messages = json!([
                {"role": "developer", "name": "d", "content": [
                    {"type": "text", "text": "x", "prompt_cache_breakpoint": {"mode": "explicit"}}
                ]},
                {"role": "system", "name": "s", "content": [{"type": "text", "text": "x"}]},
                {"role": "user", "name": "u", "content": [
                    {"type": "text", "text": "x"},
                    {"type": "image_url", "image_url": {"url": "https://i", "detail": "low"},
                     "prompt_cache_breakpoint": {"mode": "explicit"}},
                    {"type": "input_audio", "input_audio": {"data": "AA==", "format": "mp3"}},
                    {"type": "file", "file": {"filename": "f.pdf", "file_data": "AA==", "file_id": "file-1"}}
                ]},
                {"role": "assistant", "name": "a", "content": [{"type": "refusal", "refusal": "no"}],
                 "refusal": "no", "audio": {"id": "audio_1"},
                 "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "c2", "type": "custom", "custom": {"name": "g", "input": "i"}}
                 ],
                 "function_call": {"name": "f", "arguments": "{}"}},
                {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "r"}]},
                {"role": "function", "name": "f", "content": "r"}
        ]);
        let mut v = json!({
            "model": "gpt-5.4",
            "messages": messages,
            "metadata": {"a": "b"},
            "top_logprobs": 3,
            "temperature": 1.0,
            "top_p": 0.5,
            "user": "u",
            "safety_identifier": "s",
            "prompt_cache_key": "k",
            "prompt_cache_retention": "in_memory",
            "prompt_cache_options": {"ttl": "30m", "mode": "explicit"},
            "service_tier": "priority",
            "modalities": ["text"],
            "verbosity": "medium",
            "reasoning_effort": "xhigh",
            "max_completion_tokens": 10,
        });
        let rest = json!({
            "frequency_penalty": 0.0,
            "presence_penalty": 0.0,
            "web_search_options": {
                "user_location": {"type": "approximate", "approximate": {"country": "FR"}},
                "search_context_size": "medium"
            },
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "n", "description": "d", "schema": {"type": "object"}, "strict": true
            }},
            "audio": {"voice": {"id": "voice_1"}, "format": "opus"},
            "store": false,
            "moderation": {"model": "m", "policy": {"input": {"mode": "score"}, "output": {"mode": "block"}}},
            "stream": false,
            "stop": "\n",
            "logit_bias": {"1": 5},
            "logprobs": true,
            "max_tokens": 10,
            "n": 1,
            "prediction": {"type": "content", "content": [{"type": "text", "text": "p"}]},
            "seed": 1,
            "stream_options": {"include_usage": true, "include_obfuscation": false},
            "tools": [
                {"type": "function", "function": {"name": "f", "description": "d", "parameters": {}, "strict": false}},
                {"type": "custom", "custom": {"name": "g", "description": "d", "format": {"type": "text"}}}
            ],
            "tool_choice": {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "f"}}]}},
            "parallel_tool_calls": true,
            "function_call": "none",
            "functions": [{"name": "f", "description": "d", "parameters": {}}]
        });
        merge(&mut v, rest);
        let r: CreateChatCompletionRequest = serde_json::from_str(&v.to_string()).unwrap();
        assert!(r.unknown_fields().is_empty(), "{:?}", r.unknown_fields());
        assert_eq!(to_json(&r), v);
    }

    #[test]
    fn missing_model_is_an_error() {
        let e = serde_json::from_value::<CreateChatCompletionRequest>(json!({"messages": []}))
            .unwrap_err();
        assert!(e.to_string().contains("model"), "{e}");
    }
}
