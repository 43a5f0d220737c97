//! The stream chunk of `POST /chat/completions` with `stream: true`
//! (`CreateChatCompletionStreamResponse`) and its parts.

use crate::{
    ChatCompletionChoiceLogprobs, ChatCompletionModeration, CompletionUsage, FinishReason, Role,
    ServiceTier,
};

wire_object! {
    /// One chunk of a streamed chat completion (one SSE `data:` event).
    #[derive(Default)]
    pub struct CreateChatCompletionStreamResponse {
        /// The id of the completion; every chunk of a stream has the same one (`None` if omitted).
        opt id: Option<String>,
        /// The choices of this chunk; empty in the final usage chunk. Required: a body without
        /// `choices` is not a chunk and fails to parse.
        req choices: Vec<ChatCompletionStreamResponseChoice>,
        /// Unix timestamp (seconds) of when the completion was created, if sent.
        opt created: Option<i64>,
        /// The model that generated the completion.
        def model: String,
        /// Random characters that normalise payload sizes (stream obfuscation).
        opt obfuscation: Option<String>,
        /// The processing tier used to serve the request.
        opt service_tier: Option<ServiceTier>,
        /// The backend configuration the model ran with (deprecated).
        opt system_fingerprint: Option<String>,
        /// The object type, `chat.completion.chunk` (`None` if the server omits it).
        opt object: Option<String>,
        /// Token usage; only in the last chunk when `stream_options.include_usage` is set.
        opt usage: Option<CompletionUsage>,
        /// Moderation results, when requested.
        opt moderation: Option<Box<ChatCompletionModeration>>,
    }
}

wire_object! {
    /// One choice of a stream chunk.
    #[derive(Default)]
    pub struct ChatCompletionStreamResponseChoice {
        /// What the choice adds in this chunk.
        def delta: ChatCompletionStreamResponseDelta,
        /// Log probability information for the tokens of this chunk.
        opt logprobs: Option<Box<ChatCompletionChoiceLogprobs>>,
        /// Why the model stopped; set on the choice's last chunk.
        def finish_reason: Option<FinishReason>,
        /// The index of the choice.
        def index: u32,
    }
}

impl ChatCompletionStreamResponseChoice {
    /// The choice at `index` adding `piece` to the message text.
    pub fn content(index: u32, piece: impl Into<String>) -> Self {
        ChatCompletionStreamResponseChoice {
            delta: ChatCompletionStreamResponseDelta {
                content: Some(piece.into()),
                ..Default::default()
            },
            index,
            ..Default::default()
        }
    }

    /// The last piece of the choice at `index`: no text, the reason the model stopped.
    pub fn finished(index: u32, reason: FinishReason) -> Self {
        ChatCompletionStreamResponseChoice {
            finish_reason: Some(reason),
            index,
            ..Default::default()
        }
    }
}

wire_object! {
    /// The part of a message carried by one stream chunk.
    #[derive(Default)]
    pub struct ChatCompletionStreamResponseDelta {
        /// A piece of the message text.
        opt content: Option<String>,
        /// A piece of a function call (deprecated).
        opt function_call: Option<Box<ChatCompletionStreamResponseDeltaFunctionCall>>,
        /// Pieces of tool calls.
        opt tool_calls: Option<Vec<ChatCompletionMessageToolCallChunk>>,
        /// The role of the author; usually only in the first chunk.
        opt role: Option<Role>,
        /// A piece of the refusal message.
        opt refusal: Option<String>,
    }
}

wire_object! {
    /// A piece of a deprecated function call in a stream chunk.
    #[derive(Default)]
    pub struct ChatCompletionStreamResponseDeltaFunctionCall {
        /// A piece of the arguments.
        opt_text arguments: Option<String>,
        /// The name of the function.
        opt name: Option<String>,
    }
}

wire_object! {
    /// A piece of a tool call in a stream chunk; pieces with the same `index` form one call.
    #[derive(Default)]
    pub struct ChatCompletionMessageToolCallChunk {
        /// Which tool call of the choice this piece belongs to.
        def index: u32,
        /// The id of the tool call (in its first piece).
        opt id: Option<String>,
        /// The type of the tool, `function`.
        opt r#type = "type": Option<String>,
        /// The function name and a piece of its arguments.
        opt function: Option<ChatCompletionMessageToolCallChunkFunction>,
    }
}

wire_object! {
    /// The function part of a tool call piece.
    #[derive(Default)]
    pub struct ChatCompletionMessageToolCallChunkFunction {
        /// The name of the function (in the first piece).
        opt name: Option<String>,
        /// A piece of the arguments JSON text.
        opt_text arguments: Option<String>,
    }
}

impl CreateChatCompletionStreamResponse {
    /// A chunk with every field the spec requires: `id`, `created`, `model`, the choices and
    /// `object: "chat.completion.chunk"` (`Default` leaves out `id`, `created` and `object`,
    /// which strict clients reject). For servers, proxies and tests that stream to clients.
    pub fn new(
        id: impl Into<String>,
        created: i64,
        model: impl Into<String>,
        choices: impl IntoIterator<Item = ChatCompletionStreamResponseChoice>,
    ) -> Self {
        CreateChatCompletionStreamResponse {
            id: Some(id.into()),
            choices: choices.into_iter().collect(),
            created: Some(created),
            model: model.into(),
            object: Some("chat.completion.chunk".to_owned()),
            ..Default::default()
        }
    }

    /// The content piece of the first choice in this chunk, if any.
    pub fn first_content(&self) -> Option<&str> {
        self.choices.first()?.delta.content.as_deref()
    }
}
