//! Request messages (`ChatCompletionRequestMessage`), their content and content parts.

use crate::{
    ChatCompletionMessageToolCalls, ChatCompletionResponseMessage, ExtraFields, FunctionCall,
    PromptCacheBreakpointParam,
};
use std::borrow::Cow;

tagged_union! {
    /// One message of the conversation sent to the model, told apart by `role`.
    ///
    /// ```
    /// use chat_types::{ChatCompletionRequestMessage as Message, ChatCompletionRequestUserMessageContentPart as Part};
    ///
    /// let messages = vec![
    ///     Message::developer("Answer in one word."),
    ///     Message::user(vec![
    ///         Part::text("What is in this image?"),
    ///         Part::image_url("https://example.com/cat.png"),
    ///     ]),
    ///     Message::assistant("A cat."),
    ///     Message::tool("call_1", r#"{"temperature": 21}"#),
    /// ];
    /// assert_eq!(messages[1].role(), Some("user"));
    /// ```
    pub enum ChatCompletionRequestMessage {
        tag: "role" [],
        /// Instructions from the developer (replaces `system` for newer models).
        Developer = "developer" (ChatCompletionRequestDeveloperMessage),
        /// Instructions from the system.
        System = "system" (ChatCompletionRequestSystemMessage),
        /// A message from the end user.
        User = "user" (ChatCompletionRequestUserMessage),
        /// An earlier message from the model.
        Assistant = "assistant" (ChatCompletionRequestAssistantMessage),
        /// The result of a tool call.
        Tool = "tool" (ChatCompletionRequestToolMessage),
        /// The result of a function call (deprecated: use tool messages).
        Function = "function" (ChatCompletionRequestFunctionMessage),
    }
}

impl ChatCompletionRequestMessage {
    /// A developer message.
    pub fn developer(content: impl Into<ChatCompletionRequestTextContent>) -> Self {
        ChatCompletionRequestMessage::Developer(ChatCompletionRequestDeveloperMessage {
            content: content.into(),
            name: None,
            extra: ExtraFields::new(),
        })
    }

    /// A system message.
    pub fn system(content: impl Into<ChatCompletionRequestTextContent>) -> Self {
        ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage {
            content: content.into(),
            name: None,
            extra: ExtraFields::new(),
        })
    }

    /// A user message: a string or a `Vec` of [`ChatCompletionRequestUserMessageContentPart`]s.
    pub fn user(content: impl Into<ChatCompletionRequestUserMessageContent>) -> Self {
        ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage {
            content: content.into(),
            name: None,
            extra: ExtraFields::new(),
        })
    }

    /// An assistant message with content.
    pub fn assistant(content: impl Into<ChatCompletionRequestAssistantMessageContent>) -> Self {
        ChatCompletionRequestMessage::Assistant(ChatCompletionRequestAssistantMessage {
            content: Some(content.into()),
            ..Default::default()
        })
    }

    /// A tool message answering the tool call `tool_call_id`.
    pub fn tool(
        tool_call_id: impl Into<String>,
        content: impl Into<ChatCompletionRequestTextContent>,
    ) -> Self {
        ChatCompletionRequestMessage::Tool(ChatCompletionRequestToolMessage {
            content: content.into(),
            tool_call_id: tool_call_id.into(),
            extra: ExtraFields::new(),
        })
    }

    /// A function message with the result of the function `name` (deprecated).
    pub fn function(name: impl Into<String>, content: impl Into<String>) -> Self {
        ChatCompletionRequestMessage::Function(ChatCompletionRequestFunctionMessage {
            content: Some(content.into()),
            name: name.into(),
            extra: ExtraFields::new(),
        })
    }

    /// Sets the participant name of a developer, system, user or assistant message (no effect
    /// on other roles).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        let slot = match &mut self {
            ChatCompletionRequestMessage::Developer(m) => &mut m.name,
            ChatCompletionRequestMessage::System(m) => &mut m.name,
            ChatCompletionRequestMessage::User(m) => &mut m.name,
            ChatCompletionRequestMessage::Assistant(m) => &mut m.name,
            _ => return self,
        };
        *slot = Some(name.into());
        self
    }

    /// The role of the message (`None` only for an `Unknown` value built by hand without a
    /// string `role`).
    pub fn role(&self) -> Option<&str> {
        self.tag()
    }

    /// The text of the message: its string content, or its text parts joined with `\n`.
    /// `None` when it has none (an assistant turn with only tool calls, a user message of
    /// images, an unknown message shape).
    ///
    /// ```
    /// use chat_types::{ChatCompletionRequestMessage as Message, ChatCompletionRequestUserMessageContentPart as Part};
    ///
    /// let m = Message::user(vec![Part::text("What is"), Part::image_url("https://example.com/a.png"), Part::text("this?")]);
    /// assert_eq!(m.text().as_deref(), Some("What is\nthis?"));
    /// assert_eq!(Message::system("Be brief.").text().as_deref(), Some("Be brief."));
    /// ```
    pub fn text(&self) -> Option<Cow<'_, str>> {
        use ChatCompletionRequestAssistantMessageContent as Assistant;
        use ChatCompletionRequestAssistantMessageContentPart as AssistantPart;
        use ChatCompletionRequestUserMessageContent as User;
        use ChatCompletionRequestUserMessageContentPart as UserPart;
        fn text(c: &ChatCompletionRequestTextContent) -> Option<Cow<'_, str>> {
            match c {
                ChatCompletionRequestTextContent::Text(t) => Some(Cow::Borrowed(t.as_str())),
                ChatCompletionRequestTextContent::Array(parts) => {
                    join(parts.iter().map(|p| match p {
                        ChatCompletionRequestTextContentPart::Text(t) => Some(t.text.as_str()),
                        _ => None,
                    }))
                }
                _ => None,
            }
        }
        match self {
            ChatCompletionRequestMessage::Developer(m) => text(&m.content),
            ChatCompletionRequestMessage::System(m) => text(&m.content),
            ChatCompletionRequestMessage::Tool(m) => text(&m.content),
            ChatCompletionRequestMessage::User(m) => match &m.content {
                User::Text(t) => Some(Cow::Borrowed(t.as_str())),
                User::Array(parts) => join(parts.iter().map(|p| match p {
                    UserPart::Text(t) => Some(t.text.as_str()),
                    _ => None,
                })),
                _ => None,
            },
            ChatCompletionRequestMessage::Assistant(m) => match m.content.as_ref()? {
                Assistant::Text(t) => Some(Cow::Borrowed(t.as_str())),
                Assistant::Array(parts) => join(parts.iter().map(|p| match p {
                    AssistantPart::Text(t) => Some(t.text.as_str()),
                    _ => None,
                })),
                _ => None,
            },
            ChatCompletionRequestMessage::Function(m) => m.content.as_deref().map(Cow::Borrowed),
            _ => None,
        }
    }
}

/// The texts among `parts` joined with `\n` (borrowed when there is one); `None` if none.
fn join<'a>(parts: impl Iterator<Item = Option<&'a str>>) -> Option<Cow<'a, str>> {
    let mut out: Option<Cow<'a, str>> = None;
    for t in parts.flatten() {
        match &mut out {
            None => out = Some(Cow::Borrowed(t)),
            Some(joined) => {
                let joined = joined.to_mut();
                joined.push('\n');
                joined.push_str(t);
            }
        }
    }
    out
}

impl From<ChatCompletionResponseMessage> for ChatCompletionRequestMessage {
    fn from(m: ChatCompletionResponseMessage) -> Self {
        ChatCompletionRequestMessage::Assistant(m.into())
    }
}

impl From<&ChatCompletionResponseMessage> for ChatCompletionRequestMessage {
    fn from(m: &ChatCompletionResponseMessage) -> Self {
        ChatCompletionRequestMessage::Assistant(m.into())
    }
}

string_or_array! {
    /// Text content of a developer, system or tool message, or of a prediction: a string or
    /// an array of text parts.
    pub enum ChatCompletionRequestTextContent {
        /// Plain text.
        Text(String),
        /// Text parts.
        Array(Vec<ChatCompletionRequestTextContentPart>),
    }
}

impl From<Vec<ChatCompletionRequestMessageContentPartText>> for ChatCompletionRequestTextContent {
    fn from(v: Vec<ChatCompletionRequestMessageContentPartText>) -> Self {
        ChatCompletionRequestTextContent::Array(v.into_iter().map(Into::into).collect())
    }
}

tagged_union! {
    /// A content part of a developer, system or tool message, or of a prediction: only text.
    pub enum ChatCompletionRequestTextContentPart {
        tag: "type" [],
        /// Text.
        Text = "text" (ChatCompletionRequestMessageContentPartText),
    }
}

impl ChatCompletionRequestTextContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ChatCompletionRequestTextContentPart::Text(
            ChatCompletionRequestMessageContentPartText::new(text),
        )
    }
}

/// A content part of a system message (text only).
pub type ChatCompletionRequestSystemMessageContentPart = ChatCompletionRequestTextContentPart;

/// A content part of a tool message (text only).
pub type ChatCompletionRequestToolMessageContentPart = ChatCompletionRequestTextContentPart;

wire_object! {
    /// Instructions from the developer (`role: "developer"`).
    pub struct ChatCompletionRequestDeveloperMessage {
        /// The instructions.
        req content: ChatCompletionRequestTextContent,
        /// A name that tells apart participants of the same role.
        opt name: Option<String>,
    }
}

wire_object! {
    /// Instructions from the system (`role: "system"`).
    pub struct ChatCompletionRequestSystemMessage {
        /// The instructions.
        req content: ChatCompletionRequestTextContent,
        /// A name that tells apart participants of the same role.
        opt name: Option<String>,
    }
}

wire_object! {
    /// A message from the end user (`role: "user"`).
    pub struct ChatCompletionRequestUserMessage {
        /// The message: text, or parts with text, images, audio or files.
        req content: ChatCompletionRequestUserMessageContent,
        /// A name that tells apart participants of the same role.
        opt name: Option<String>,
    }
}

string_or_array! {
    /// The content of a user message: a string or an array of parts.
    pub enum ChatCompletionRequestUserMessageContent {
        /// Plain text.
        Text(String),
        /// Text, image, audio and file parts.
        Array(Vec<ChatCompletionRequestUserMessageContentPart>),
    }
}

tagged_union! {
    /// A content part of a user message.
    pub enum ChatCompletionRequestUserMessageContentPart {
        tag: "type" [],
        /// Text.
        Text = "text" (ChatCompletionRequestMessageContentPartText),
        /// An image by URL or data URL.
        ImageUrl = "image_url" (ChatCompletionRequestMessageContentPartImage),
        /// Base64-encoded audio.
        InputAudio = "input_audio" (ChatCompletionRequestMessageContentPartAudio),
        /// A file by id or as base64 data.
        File = "file" (ChatCompletionRequestMessageContentPartFile),
    }
}

impl ChatCompletionRequestUserMessageContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ChatCompletionRequestMessageContentPartText::new(text).into()
    }

    /// An image part from a URL or a `data:image/...;base64,...` URL.
    pub fn image_url(url: impl Into<String>) -> Self {
        ChatCompletionRequestMessageContentPartImage::new(url).into()
    }

    /// An image part with a detail level.
    pub fn image_url_with_detail(url: impl Into<String>, detail: impl Into<ImageDetail>) -> Self {
        ChatCompletionRequestMessageContentPartImage::new(url)
            .detail(detail)
            .into()
    }

    /// An audio part from base64-encoded data.
    pub fn input_audio(
        data_base64: impl Into<String>,
        format: impl Into<InputAudioFormat>,
    ) -> Self {
        ChatCompletionRequestUserMessageContentPart::InputAudio(
            ChatCompletionRequestMessageContentPartAudio {
                input_audio: InputAudio {
                    data: data_base64.into(),
                    format: format.into(),
                    extra: ExtraFields::new(),
                },
                prompt_cache_breakpoint: None,
                extra: ExtraFields::new(),
            },
        )
    }

    /// A file part referring to an uploaded file.
    pub fn file_id(file_id: impl Into<String>) -> Self {
        ChatCompletionRequestUserMessageContentPart::File(
            ChatCompletionRequestMessageContentPartFile {
                file: InputFile {
                    file_id: Some(file_id.into()),
                    ..Default::default()
                },
                prompt_cache_breakpoint: None,
                extra: ExtraFields::new(),
            },
        )
    }

    /// A file part with the file inline, as a base64 data URL such as
    /// `data:application/pdf;base64,JVBERi0x...`: the form the API expects in `file_data`
    /// (plain base64 without the `data:` prefix is rejected).
    pub fn file_data(filename: impl Into<String>, data_url: impl Into<String>) -> Self {
        ChatCompletionRequestUserMessageContentPart::File(
            ChatCompletionRequestMessageContentPartFile {
                file: InputFile {
                    filename: Some(filename.into()),
                    file_data: Some(data_url.into()),
                    ..Default::default()
                },
                prompt_cache_breakpoint: None,
                extra: ExtraFields::new(),
            },
        )
    }

    /// Marks this part as the end of a reusable prompt prefix (no effect on unknown parts).
    pub fn with_prompt_cache_breakpoint(mut self) -> Self {
        let slot = match &mut self {
            Self::Text(p) => &mut p.prompt_cache_breakpoint,
            Self::ImageUrl(p) => &mut p.prompt_cache_breakpoint,
            Self::InputAudio(p) => &mut p.prompt_cache_breakpoint,
            Self::File(p) => &mut p.prompt_cache_breakpoint,
            Self::Unknown(_) => return self,
        };
        *slot = Some(PromptCacheBreakpointParam::default());
        self
    }
}

wire_object! {
    /// A text content part (`type: "text"`).
    pub struct ChatCompletionRequestMessageContentPartText {
        /// The text.
        req text: String,
        /// Marks the end of a reusable prompt prefix.
        opt prompt_cache_breakpoint: Option<PromptCacheBreakpointParam>,
    }
}

impl ChatCompletionRequestMessageContentPartText {
    /// A text part.
    pub fn new(text: impl Into<String>) -> Self {
        ChatCompletionRequestMessageContentPartText {
            text: text.into(),
            prompt_cache_breakpoint: None,
            extra: ExtraFields::new(),
        }
    }

    /// Marks this part as the end of a reusable prompt prefix.
    pub fn with_prompt_cache_breakpoint(mut self) -> Self {
        self.prompt_cache_breakpoint = Some(PromptCacheBreakpointParam::default());
        self
    }
}

wire_object! {
    /// An image content part (`type: "image_url"`).
    pub struct ChatCompletionRequestMessageContentPartImage {
        /// The image.
        req image_url: ImageUrl,
        /// Marks the end of a reusable prompt prefix.
        opt prompt_cache_breakpoint: Option<PromptCacheBreakpointParam>,
    }
}

impl ChatCompletionRequestMessageContentPartImage {
    /// An image part from a URL or data URL.
    pub fn new(url: impl Into<String>) -> Self {
        ChatCompletionRequestMessageContentPartImage {
            image_url: ImageUrl {
                url: url.into(),
                detail: None,
                extra: ExtraFields::new(),
            },
            prompt_cache_breakpoint: None,
            extra: ExtraFields::new(),
        }
    }

    /// Sets the detail level.
    pub fn detail(mut self, detail: impl Into<ImageDetail>) -> Self {
        self.image_url.detail = Some(detail.into());
        self
    }
}

wire_object! {
    /// The image of an image content part.
    pub struct ImageUrl {
        /// A URL of the image or a `data:` URL with base64-encoded image data.
        req url: String,
        /// The detail level of the image (`auto` by default).
        opt detail: Option<ImageDetail>,
    }
}

string_enum! {
    /// The detail level at which the model looks at an image.
    pub enum ImageDetail {
        /// Chosen by the model (the default).
        Auto = "auto",
        /// Low resolution, fewer tokens.
        Low = "low",
        /// High resolution.
        High = "high",
    }
}

wire_object! {
    /// An audio content part (`type: "input_audio"`).
    pub struct ChatCompletionRequestMessageContentPartAudio {
        /// The audio.
        req input_audio: InputAudio,
        /// Marks the end of a reusable prompt prefix.
        opt prompt_cache_breakpoint: Option<PromptCacheBreakpointParam>,
    }
}

wire_object! {
    /// The audio of an audio content part.
    pub struct InputAudio {
        /// Base64-encoded audio data.
        req data: String,
        /// The encoding of the data.
        req format: InputAudioFormat,
    }
}

string_enum! {
    /// The encoding of input audio.
    pub enum InputAudioFormat {
        /// WAV.
        Wav = "wav",
        /// MP3.
        Mp3 = "mp3",
    }
}

wire_object! {
    /// A file content part (`type: "file"`).
    pub struct ChatCompletionRequestMessageContentPartFile {
        /// The file.
        req file: InputFile,
        /// Marks the end of a reusable prompt prefix.
        opt prompt_cache_breakpoint: Option<PromptCacheBreakpointParam>,
    }
}

wire_object! {
    /// The file of a file content part: an uploaded file id, or inline data with a name.
    #[derive(Default)]
    pub struct InputFile {
        /// The name of the file, with inline data.
        opt filename: Option<String>,
        /// Base64-encoded file data.
        opt file_data: Option<String>,
        /// The id of an uploaded file.
        opt file_id: Option<String>,
    }
}

wire_object! {
    /// A refusal content part of an assistant message (`type: "refusal"`).
    pub struct ChatCompletionRequestMessageContentPartRefusal {
        /// The refusal message generated by the model.
        req refusal: String,
    }
}

wire_object! {
    /// An earlier message from the model (`role: "assistant"`).
    ///
    /// Convert a [`ChatCompletionResponseMessage`] with `From` to send the model's turn back,
    /// for example in a tool loop. The conversion keeps content, refusal, tool calls, function
    /// call and the audio id, and drops annotations and unknown fields.
    ///
    /// ```
    /// use chat_types::{
    ///     ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
    ///     CreateChatCompletionResponse,
    /// };
    ///
    /// let response: CreateChatCompletionResponse = serde_json::from_str(r#"{
    ///     "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
    ///         "role": "assistant", "content": null,
    ///         "tool_calls": [{"id": "call_1", "type": "function",
    ///                         "function": {"name": "add", "arguments": "{\"a\":1,\"b\":2}"}}]
    ///     }}]
    /// }"#).unwrap();
    ///
    /// let mut request = CreateChatCompletionRequest::new("gpt-4o", [Message::user("1+2?")]);
    /// if let Some(turn) = response.first_message() {
    ///     request = request.message(turn);
    ///     for call in response.tool_calls() {
    ///         let id = call.id().unwrap_or_default();
    ///         request = request.message(Message::tool(id, "3"));
    ///     }
    /// }
    /// assert_eq!(request.messages.len(), 3);
    /// ```
    #[derive(Default)]
    pub struct ChatCompletionRequestAssistantMessage {
        /// The message; required unless `tool_calls` or `function_call` is set.
        opt content: Option<ChatCompletionRequestAssistantMessageContent>,
        /// The refusal message of the model.
        opt refusal: Option<String>,
        /// A name that tells apart participants of the same role.
        opt name: Option<String>,
        /// A previous audio response of the model, by id.
        opt audio: Option<ChatCompletionRequestAssistantMessageAudio>,
        /// The tool calls the model made.
        opt tool_calls: Option<Vec<ChatCompletionMessageToolCalls>>,
        /// The function the model called (deprecated: use `tool_calls`).
        opt function_call: Option<FunctionCall>,
    }
}

/// The assistant turn to send back with the next request: content, refusal, tool calls,
/// function call and audio id. Unknown fields of the response message (`extra`) are left out,
/// as servers reject request fields they do not know; copy any a compatible server wants back
/// (such as a `reasoning_content`) into the new message's `extra` yourself.
impl From<ChatCompletionResponseMessage> for ChatCompletionRequestAssistantMessage {
    fn from(m: ChatCompletionResponseMessage) -> Self {
        ChatCompletionRequestAssistantMessage {
            content: m
                .content
                .map(ChatCompletionRequestAssistantMessageContent::Text),
            refusal: m.refusal,
            name: None,
            audio: m.audio.map(|a| ChatCompletionRequestAssistantMessageAudio {
                id: a.id,
                extra: ExtraFields::new(),
            }),
            tool_calls: m.tool_calls,
            function_call: m.function_call.map(|f| FunctionCall {
                name: f.name,
                arguments: f.arguments,
                extra: ExtraFields::new(),
            }),
            extra: ExtraFields::new(),
        }
    }
}

/// Like the conversion from an owned message (unknown fields are left out).
impl From<&ChatCompletionResponseMessage> for ChatCompletionRequestAssistantMessage {
    fn from(m: &ChatCompletionResponseMessage) -> Self {
        ChatCompletionRequestAssistantMessage {
            content: m
                .content
                .clone()
                .map(ChatCompletionRequestAssistantMessageContent::Text),
            refusal: m.refusal.clone(),
            name: None,
            audio: m
                .audio
                .as_ref()
                .map(|a| ChatCompletionRequestAssistantMessageAudio {
                    id: a.id.clone(),
                    extra: ExtraFields::new(),
                }),
            tool_calls: m.tool_calls.clone(),
            function_call: m.function_call.as_ref().map(|f| FunctionCall {
                name: f.name.clone(),
                arguments: f.arguments.clone(),
                extra: ExtraFields::new(),
            }),
            extra: ExtraFields::new(),
        }
    }
}

wire_object! {
    /// A previous audio response of the model, referred to by id.
    pub struct ChatCompletionRequestAssistantMessageAudio {
        /// The id of the audio response.
        req id: String,
    }
}

string_or_array! {
    /// The content of an assistant message: a string or an array of parts.
    pub enum ChatCompletionRequestAssistantMessageContent {
        /// Plain text.
        Text(String),
        /// Text parts, or exactly one refusal part.
        Array(Vec<ChatCompletionRequestAssistantMessageContentPart>),
    }
}

tagged_union! {
    /// A content part of an assistant message.
    pub enum ChatCompletionRequestAssistantMessageContentPart {
        tag: "type" [],
        /// Text.
        Text = "text" (ChatCompletionRequestMessageContentPartText),
        /// A refusal.
        Refusal = "refusal" (ChatCompletionRequestMessageContentPartRefusal),
    }
}

impl ChatCompletionRequestAssistantMessageContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ChatCompletionRequestMessageContentPartText::new(text).into()
    }

    /// A refusal part.
    pub fn refusal(refusal: impl Into<String>) -> Self {
        ChatCompletionRequestAssistantMessageContentPart::Refusal(
            ChatCompletionRequestMessageContentPartRefusal {
                refusal: refusal.into(),
                extra: ExtraFields::new(),
            },
        )
    }
}

wire_object! {
    /// The result of a tool call (`role: "tool"`).
    pub struct ChatCompletionRequestToolMessage {
        /// The result.
        req content: ChatCompletionRequestTextContent,
        /// The id of the tool call this message answers.
        req tool_call_id: String,
    }
}

wire_object! {
    /// The result of a function call (`role: "function"`, deprecated).
    pub struct ChatCompletionRequestFunctionMessage {
        /// The result; always written, `null` when `None`.
        def content: Option<String>,
        /// The name of the function.
        req name: String,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn message_text_reads_every_role_and_shape() {
        use super::ChatCompletionRequestAssistantMessageContentPart as A;
        use super::ChatCompletionRequestMessage as M;
        use super::ChatCompletionRequestTextContentPart as T;
        use super::ChatCompletionRequestUserMessageContentPart as U;
        let text = |m: &M| m.text().map(|t| t.into_owned());
        assert_eq!(text(&M::developer("d")), Some("d".into()));
        assert_eq!(
            text(&M::system(vec![T::text("a"), T::text("b")])),
            Some("a\nb".into())
        );
        assert_eq!(text(&M::tool("call_1", "42")), Some("42".into()));
        assert_eq!(
            text(&M::user(vec![U::image_url("https://x/y.png")])),
            None,
            "images only"
        );
        let one_part = M::user(vec![U::image_url("https://x/y.png"), U::text("only")]);
        assert!(matches!(
            one_part.text(),
            Some(std::borrow::Cow::Borrowed("only"))
        ));
        let assistant = M::Assistant(super::ChatCompletionRequestAssistantMessage {
            content: Some(super::ChatCompletionRequestAssistantMessageContent::Array(
                vec![A::text("x"), A::refusal("no")],
            )),
            ..Default::default()
        });
        assert_eq!(text(&assistant), Some("x".into()));
        let tool_calls_only = M::Assistant(Default::default());
        assert_eq!(text(&tool_calls_only), None);
        let unknown: M =
            serde_json::from_value(json!({"role": "critic", "content": "hm"})).unwrap();
        assert_eq!(text(&unknown), None);

        let request = crate::CreateChatCompletionRequest::new(
            "m",
            [
                M::user("first"),
                M::assistant("reply"),
                M::user("second"),
                M::tool("c", "r"),
            ],
        );
        assert_eq!(request.last_user_text().as_deref(), Some("second"));
        assert_eq!(
            crate::CreateChatCompletionRequest::new("m", [M::system("s")]).last_user_text(),
            None
        );
    }

    use super::*;
    use crate::{ChatCompletionMessageToolCall, UnknownFields};

    use crate::test_util::{round_trip, to_json};

    #[test]
    fn role_constructors_write_the_expected_json() {
        type M = ChatCompletionRequestMessage;
        assert_eq!(
            to_json(&M::developer("be brief")),
            json!({"role": "developer", "content": "be brief"})
        );
        assert_eq!(
            to_json(&M::system(String::from("sys"))),
            json!({"role": "system", "content": "sys"})
        );
        assert_eq!(
            to_json(&M::user("hi").with_name("ann")),
            json!({"role": "user", "content": "hi", "name": "ann"})
        );
        assert_eq!(
            to_json(&M::assistant("hello")),
            json!({"role": "assistant", "content": "hello"})
        );
        assert_eq!(
            to_json(&M::tool("call_1", "42")),
            json!({"role": "tool", "content": "42", "tool_call_id": "call_1"})
        );
        assert_eq!(
            to_json(&M::function("f", "out")),
            json!({"role": "function", "content": "out", "name": "f"})
        );
        assert_eq!(
            to_json(&M::system(vec![
                ChatCompletionRequestTextContentPart::text("a")
            ])),
            json!({"role": "system", "content": [{"type": "text", "text": "a"}]})
        );
        assert_eq!(
            to_json(&M::developer(vec![
                ChatCompletionRequestMessageContentPartText::new("a")
                    .with_prompt_cache_breakpoint()
            ])),
            json!({
                "role": "developer",
                "content": [{"type": "text", "text": "a", "prompt_cache_breakpoint": {"mode": "explicit"}}]
            })
        );
        // with_name is a no-op for roles without a name.
        assert_eq!(M::tool("c", "x").with_name("n"), M::tool("c", "x"));
    }

    #[test]
    fn user_part_constructors_write_the_expected_json() {
        type P = ChatCompletionRequestUserMessageContentPart;
        let m = ChatCompletionRequestMessage::user(vec![
            P::text("look"),
            P::image_url("https://x/y.png"),
            P::image_url_with_detail("data:image/png;base64,AAAA", ImageDetail::High),
            P::input_audio("UklGRg==", InputAudioFormat::Wav),
            P::file_id("file-1"),
            P::file_data("a.pdf", "JVBERi0=").with_prompt_cache_breakpoint(),
        ]);
        assert_eq!(
            to_json(&m),
            json!({
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "high"}},
                    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                    {"type": "file", "file": {"file_id": "file-1"}},
                    {
                        "type": "file",
                        "file": {"filename": "a.pdf", "file_data": "JVBERi0="},
                        "prompt_cache_breakpoint": {"mode": "explicit"}
                    }
                ]
            })
        );
        let back: ChatCompletionRequestMessage = round_trip(to_json(&m));
        assert_eq!(back, m);
        assert!(back.unknown_fields().is_empty());
    }

    #[test]
    fn assistant_parts_and_fields_round_trip() {
        let v = json!({
            "role": "assistant",
            "content": [
                {"type": "text", "text": "a"},
                {"type": "refusal", "refusal": "no"}
            ],
            "refusal": "no",
            "name": "bot",
            "audio": {"id": "audio_1"},
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "c2", "type": "custom", "custom": {"name": "g", "input": "x"}}
            ],
            "function_call": {"name": "f", "arguments": "{}"}
        });
        let m: ChatCompletionRequestMessage = round_trip(v);
        assert!(m.unknown_fields().is_empty(), "{:?}", m.unknown_fields());
        let ChatCompletionRequestMessage::Assistant(a) = &m else {
            panic!("not an assistant message: {m:?}")
        };
        assert_eq!(
            a.content,
            Some(ChatCompletionRequestAssistantMessageContent::Array(vec![
                ChatCompletionRequestAssistantMessageContentPart::text("a"),
                ChatCompletionRequestAssistantMessageContentPart::refusal("no"),
            ]))
        );
        // Null content (an assistant turn with only tool calls) reads as None.
        let m: ChatCompletionRequestMessage =
            serde_json::from_value(json!({"role": "assistant", "content": null})).unwrap();
        assert_eq!(
            m,
            ChatCompletionRequestMessage::Assistant(Default::default())
        );
    }

    #[test]
    fn function_message_writes_null_content() {
        let m: ChatCompletionRequestMessage = round_trip(json!({
            "role": "function", "content": null, "name": "f"
        }));
        assert!(matches!(m, ChatCompletionRequestMessage::Function(ref f) if f.content.is_none()));
    }

    #[test]
    fn unknown_role_is_kept_verbatim() {
        let v = json!({"content": "x", "role": "critic", "score": 3});
        let m: ChatCompletionRequestMessage = round_trip(v.clone());
        assert_eq!(m, ChatCompletionRequestMessage::Unknown(v));
        assert_eq!(m.role(), Some("critic"));
        assert_eq!(m.unknown_fields(), vec!["<role=critic>"]);
    }

    #[test]
    fn unknown_field_on_a_message_round_trips_and_is_reported() {
        // `role` after other fields exercises the buffered path of the union.
        let v = json!({"content": "hi", "cache_control": {"type": "ephemeral"}, "role": "user"});
        let m: ChatCompletionRequestMessage = serde_json::from_value(v.clone()).unwrap();
        let ChatCompletionRequestMessage::User(u) = &m else {
            panic!("not a user message: {m:?}")
        };
        assert_eq!(u.extra["cache_control"], json!({"type": "ephemeral"}));
        assert_eq!(m.unknown_fields(), vec!["<role=user>.cache_control"]);
        assert_eq!(to_json(&m), v);
    }

    #[test]
    fn unknown_content_parts_are_kept_verbatim() {
        let video = json!({"type": "video_url", "video_url": {"url": "https://v"}});
        let v = json!({"role": "user", "content": [{"type": "text", "text": "t"}, video]});
        let m: ChatCompletionRequestMessage = round_trip(v);
        let ChatCompletionRequestMessage::User(u) = &m else {
            panic!("not a user message: {m:?}")
        };
        let ChatCompletionRequestUserMessageContent::Array(parts) = &u.content else {
            panic!("not an array: {:?}", u.content)
        };
        assert_eq!(
            parts[1],
            ChatCompletionRequestUserMessageContentPart::Unknown(video)
        );
        assert_eq!(
            m.unknown_fields(),
            vec!["<role=user>.content[]<type=video_url>"]
        );

        let p: ChatCompletionRequestAssistantMessageContentPart =
            round_trip(json!({"type": "thinking", "thinking": "hm"}));
        assert!(matches!(
            p,
            ChatCompletionRequestAssistantMessageContentPart::Unknown(_)
        ));
        let p: ChatCompletionRequestTextContentPart =
            round_trip(json!({"type": "image_url", "image_url": {"url": "u"}}));
        assert!(matches!(
            p,
            ChatCompletionRequestTextContentPart::Unknown(_)
        ));
    }

    #[test]
    fn content_of_another_shape_is_an_error() {
        for v in [json!({"text": "x"}), json!(7), json!(true)] {
            let e = serde_json::from_value::<ChatCompletionRequestUserMessageContent>(v.clone())
                .unwrap_err();
            assert!(
                e.to_string().contains("expected a string or an array"),
                "{v}: {e}"
            );
            assert!(serde_json::from_value::<ChatCompletionRequestTextContent>(v).is_err());
        }
        // A shape the crate does not model can still be sent.
        let c = ChatCompletionRequestTextContent::Unknown(json!({"text": "x"}));
        assert_eq!(to_json(&c), json!({"text": "x"}));
    }

    #[test]
    fn unknown_enum_value_round_trips_and_is_reported() {
        let v = json!({"type": "image_url", "image_url": {"url": "u", "detail": "ultra"}});
        let p: ChatCompletionRequestUserMessageContentPart = round_trip(v);
        let ChatCompletionRequestUserMessageContentPart::ImageUrl(img) = &p else {
            panic!("not an image: {p:?}")
        };
        assert_eq!(
            img.image_url.detail,
            Some(ImageDetail::Unknown("ultra".into()))
        );
        assert_eq!(
            p.unknown_fields(),
            vec![r#"<type=image_url>.image_url.detail="ultra""#]
        );
    }

    #[test]
    fn missing_required_field_is_an_error() {
        let e = serde_json::from_value::<ChatCompletionRequestMessage>(json!({"role": "user"}))
            .unwrap_err();
        assert!(e.to_string().contains("content"), "{e}");
        let e = serde_json::from_value::<ChatCompletionRequestMessage>(
            json!({"role": "tool", "content": "x"}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("tool_call_id"), "{e}");
    }

    #[test]
    fn assistant_message_from_a_response_message() {
        let response: ChatCompletionResponseMessage = serde_json::from_value(json!({
            "role": "assistant",
            "content": null,
            "refusal": null,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}
            ],
            "annotations": [],
            "audio": {"id": "audio_1", "expires_at": 1, "data": "AAAA", "transcript": "t"},
            "reasoning_content": "dropped"
        }))
        .unwrap();
        let expected = json!({
            "role": "assistant",
            "audio": {"id": "audio_1"},
            "tool_calls": [
                {"type": "function", "id": "call_1", "function": {"name": "f", "arguments": "{\"a\":1}"}}
            ]
        });
        let borrowed = ChatCompletionRequestMessage::from(&response);
        assert_eq!(to_json(&borrowed), expected);
        let owned = ChatCompletionRequestMessage::from(response);
        assert_eq!(owned, borrowed);
        let ChatCompletionRequestMessage::Assistant(a) = owned else {
            panic!("not an assistant message")
        };
        assert_eq!(
            a.tool_calls.unwrap()[0],
            ChatCompletionMessageToolCalls::Function(ChatCompletionMessageToolCall::new(
                "call_1",
                "f",
                "{\"a\":1}"
            ))
        );

        let text: ChatCompletionResponseMessage =
            serde_json::from_value(json!({"role": "assistant", "content": "hi"})).unwrap();
        assert_eq!(
            to_json(&ChatCompletionRequestMessage::from(&text)),
            json!({"role": "assistant", "content": "hi"})
        );
    }
}
