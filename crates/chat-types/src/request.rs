//! The body of `POST /chat/completions` (`CreateChatCompletionRequest`).

use std::collections::BTreeMap;

use crate::{
    ChatCompletionFunctionCallOption, ChatCompletionFunctions, ChatCompletionRequestMessage,
    ChatCompletionToolChoiceOption, ChatCompletionTools, CreateChatCompletionRequestAudio,
    Metadata, ModelIdsShared, ModerationParam, PredictionContent, PromptCacheOptionsParam,
    ResponseFormat, ServiceTier, StopConfiguration, WebSearchOptions,
};

wire_object! {
    /// The body of `POST /chat/completions`.
    ///
    /// Build it with [`CreateChatCompletionRequest::new`] and the chained setters; any field a
    /// compatible server accepts beyond the spec (vLLM's `top_k`, OpenRouter's `provider`) goes
    /// in [`extra`](Self::extra) or through [`extra_field`](Self::extra_field).
    pub struct CreateChatCompletionRequest {
        /// The conversation so far.
        def messages: Vec<ChatCompletionRequestMessage>,
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
        opt function_call: Option<ChatCompletionFunctionCallOption>,
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
}
