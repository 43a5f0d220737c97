//! Options of `POST /chat/completions` besides messages and tools: the model id, response
//! format, predicted output, audio output, web search, moderation, prompt caching and stop
//! sequences.

use serde_json::Value;

use crate::{ChatCompletionRequestTextContent, ExtraFields};

string_enum! {
    open
    /// A model id (`ModelIdsShared`), such as `gpt-4o`.
    ///
    /// The spec accepts any string and lists well-known ids; any other id (a fine-tune, or
    /// `"llama3"` on a compatible server) is kept in [`ModelIdsShared::Unknown`] and is not
    /// reported by [`UnknownFields`](crate::UnknownFields).
    ///
    /// ```
    /// use chat_types::ModelIdsShared;
    ///
    /// assert_eq!(ModelIdsShared::from("gpt-4o"), ModelIdsShared::Gpt4o);
    /// assert_eq!(ModelIdsShared::from("my-local-model").as_str(), "my-local-model");
    /// ```
    pub enum ModelIdsShared {
        /// `gpt-5.6-sol`.
        Gpt5_6Sol = "gpt-5.6-sol",
        /// `gpt-5.6-terra`.
        Gpt5_6Terra = "gpt-5.6-terra",
        /// `gpt-5.6-luna`.
        Gpt5_6Luna = "gpt-5.6-luna",
        /// `gpt-5.5`.
        Gpt5_5 = "gpt-5.5",
        /// `gpt-5.5-2026-04-23`.
        Gpt5_5_2026_04_23 = "gpt-5.5-2026-04-23",
        /// `gpt-5.4`.
        Gpt5_4 = "gpt-5.4",
        /// `gpt-5.4-mini`.
        Gpt5_4Mini = "gpt-5.4-mini",
        /// `gpt-5.4-nano`.
        Gpt5_4Nano = "gpt-5.4-nano",
        /// `gpt-5.4-mini-2026-03-17`.
        Gpt5_4Mini2026_03_17 = "gpt-5.4-mini-2026-03-17",
        /// `gpt-5.4-nano-2026-03-17`.
        Gpt5_4Nano2026_03_17 = "gpt-5.4-nano-2026-03-17",
        /// `gpt-5.3-chat-latest`.
        Gpt5_3ChatLatest = "gpt-5.3-chat-latest",
        /// `gpt-5.2`.
        Gpt5_2 = "gpt-5.2",
        /// `gpt-5.2-2025-12-11`.
        Gpt5_2_2025_12_11 = "gpt-5.2-2025-12-11",
        /// `gpt-5.2-chat-latest`.
        Gpt5_2ChatLatest = "gpt-5.2-chat-latest",
        /// `gpt-5.2-pro`.
        Gpt5_2Pro = "gpt-5.2-pro",
        /// `gpt-5.2-pro-2025-12-11`.
        Gpt5_2Pro2025_12_11 = "gpt-5.2-pro-2025-12-11",
        /// `gpt-5.1`.
        Gpt5_1 = "gpt-5.1",
        /// `gpt-5.1-2025-11-13`.
        Gpt5_1_2025_11_13 = "gpt-5.1-2025-11-13",
        /// `gpt-5.1-codex`.
        Gpt5_1Codex = "gpt-5.1-codex",
        /// `gpt-5.1-mini`.
        Gpt5_1Mini = "gpt-5.1-mini",
        /// `gpt-5.1-chat-latest`.
        Gpt5_1ChatLatest = "gpt-5.1-chat-latest",
        /// `gpt-5`.
        Gpt5 = "gpt-5",
        /// `gpt-5-mini`.
        Gpt5Mini = "gpt-5-mini",
        /// `gpt-5-nano`.
        Gpt5Nano = "gpt-5-nano",
        /// `gpt-5-2025-08-07`.
        Gpt5_2025_08_07 = "gpt-5-2025-08-07",
        /// `gpt-5-mini-2025-08-07`.
        Gpt5Mini2025_08_07 = "gpt-5-mini-2025-08-07",
        /// `gpt-5-nano-2025-08-07`.
        Gpt5Nano2025_08_07 = "gpt-5-nano-2025-08-07",
        /// `gpt-5-chat-latest`.
        Gpt5ChatLatest = "gpt-5-chat-latest",
        /// `gpt-4.1`.
        Gpt4_1 = "gpt-4.1",
        /// `gpt-4.1-mini`.
        Gpt4_1Mini = "gpt-4.1-mini",
        /// `gpt-4.1-nano`.
        Gpt4_1Nano = "gpt-4.1-nano",
        /// `gpt-4.1-2025-04-14`.
        Gpt4_1_2025_04_14 = "gpt-4.1-2025-04-14",
        /// `gpt-4.1-mini-2025-04-14`.
        Gpt4_1Mini2025_04_14 = "gpt-4.1-mini-2025-04-14",
        /// `gpt-4.1-nano-2025-04-14`.
        Gpt4_1Nano2025_04_14 = "gpt-4.1-nano-2025-04-14",
        /// `o4-mini`.
        O4Mini = "o4-mini",
        /// `o4-mini-2025-04-16`.
        O4Mini2025_04_16 = "o4-mini-2025-04-16",
        /// `o3`.
        O3 = "o3",
        /// `o3-2025-04-16`.
        O3_2025_04_16 = "o3-2025-04-16",
        /// `o3-mini`.
        O3Mini = "o3-mini",
        /// `o3-mini-2025-01-31`.
        O3Mini2025_01_31 = "o3-mini-2025-01-31",
        /// `o1`.
        O1 = "o1",
        /// `o1-2024-12-17`.
        O1_2024_12_17 = "o1-2024-12-17",
        /// `o1-preview`.
        O1Preview = "o1-preview",
        /// `o1-preview-2024-09-12`.
        O1Preview2024_09_12 = "o1-preview-2024-09-12",
        /// `o1-mini`.
        O1Mini = "o1-mini",
        /// `o1-mini-2024-09-12`.
        O1Mini2024_09_12 = "o1-mini-2024-09-12",
        /// `gpt-4o`.
        Gpt4o = "gpt-4o",
        /// `gpt-4o-2024-11-20`.
        Gpt4o2024_11_20 = "gpt-4o-2024-11-20",
        /// `gpt-4o-2024-08-06`.
        Gpt4o2024_08_06 = "gpt-4o-2024-08-06",
        /// `gpt-4o-2024-05-13`.
        Gpt4o2024_05_13 = "gpt-4o-2024-05-13",
        /// `gpt-4o-audio-preview`.
        Gpt4oAudioPreview = "gpt-4o-audio-preview",
        /// `gpt-4o-audio-preview-2024-10-01`.
        Gpt4oAudioPreview2024_10_01 = "gpt-4o-audio-preview-2024-10-01",
        /// `gpt-4o-audio-preview-2024-12-17`.
        Gpt4oAudioPreview2024_12_17 = "gpt-4o-audio-preview-2024-12-17",
        /// `gpt-4o-audio-preview-2025-06-03`.
        Gpt4oAudioPreview2025_06_03 = "gpt-4o-audio-preview-2025-06-03",
        /// `gpt-4o-mini-audio-preview`.
        Gpt4oMiniAudioPreview = "gpt-4o-mini-audio-preview",
        /// `gpt-4o-mini-audio-preview-2024-12-17`.
        Gpt4oMiniAudioPreview2024_12_17 = "gpt-4o-mini-audio-preview-2024-12-17",
        /// `gpt-4o-search-preview`.
        Gpt4oSearchPreview = "gpt-4o-search-preview",
        /// `gpt-4o-mini-search-preview`.
        Gpt4oMiniSearchPreview = "gpt-4o-mini-search-preview",
        /// `gpt-4o-search-preview-2025-03-11`.
        Gpt4oSearchPreview2025_03_11 = "gpt-4o-search-preview-2025-03-11",
        /// `gpt-4o-mini-search-preview-2025-03-11`.
        Gpt4oMiniSearchPreview2025_03_11 = "gpt-4o-mini-search-preview-2025-03-11",
        /// `chatgpt-4o-latest`.
        Chatgpt4oLatest = "chatgpt-4o-latest",
        /// `codex-mini-latest`.
        CodexMiniLatest = "codex-mini-latest",
        /// `gpt-4o-mini`.
        Gpt4oMini = "gpt-4o-mini",
        /// `gpt-4o-mini-2024-07-18`.
        Gpt4oMini2024_07_18 = "gpt-4o-mini-2024-07-18",
        /// `gpt-4-turbo`.
        Gpt4Turbo = "gpt-4-turbo",
        /// `gpt-4-turbo-2024-04-09`.
        Gpt4Turbo2024_04_09 = "gpt-4-turbo-2024-04-09",
        /// `gpt-4-0125-preview`.
        Gpt4_0125Preview = "gpt-4-0125-preview",
        /// `gpt-4-turbo-preview`.
        Gpt4TurboPreview = "gpt-4-turbo-preview",
        /// `gpt-4-1106-preview`.
        Gpt4_1106Preview = "gpt-4-1106-preview",
        /// `gpt-4-vision-preview`.
        Gpt4VisionPreview = "gpt-4-vision-preview",
        /// `gpt-4`.
        Gpt4 = "gpt-4",
        /// `gpt-4-0314`.
        Gpt4_0314 = "gpt-4-0314",
        /// `gpt-4-0613`.
        Gpt4_0613 = "gpt-4-0613",
        /// `gpt-4-32k`.
        Gpt4_32k = "gpt-4-32k",
        /// `gpt-4-32k-0314`.
        Gpt4_32k0314 = "gpt-4-32k-0314",
        /// `gpt-4-32k-0613`.
        Gpt4_32k0613 = "gpt-4-32k-0613",
        /// `gpt-3.5-turbo`.
        Gpt3_5Turbo = "gpt-3.5-turbo",
        /// `gpt-3.5-turbo-16k`.
        Gpt3_5Turbo16k = "gpt-3.5-turbo-16k",
        /// `gpt-3.5-turbo-0301`.
        Gpt3_5Turbo0301 = "gpt-3.5-turbo-0301",
        /// `gpt-3.5-turbo-0613`.
        Gpt3_5Turbo0613 = "gpt-3.5-turbo-0613",
        /// `gpt-3.5-turbo-1106`.
        Gpt3_5Turbo1106 = "gpt-3.5-turbo-1106",
        /// `gpt-3.5-turbo-0125`.
        Gpt3_5Turbo0125 = "gpt-3.5-turbo-0125",
        /// `gpt-3.5-turbo-16k-0613`.
        Gpt3_5Turbo16k0613 = "gpt-3.5-turbo-16k-0613",
    }
}

string_enum! {
    open
    /// A built-in voice name (`VoiceIdsShared`); the spec accepts any string.
    pub enum VoiceIdsShared {
        /// `alloy`.
        Alloy = "alloy",
        /// `ash`.
        Ash = "ash",
        /// `ballad`.
        Ballad = "ballad",
        /// `coral`.
        Coral = "coral",
        /// `echo`.
        Echo = "echo",
        /// `sage`.
        Sage = "sage",
        /// `shimmer`.
        Shimmer = "shimmer",
        /// `verse`.
        Verse = "verse",
        /// `marin`.
        Marin = "marin",
        /// `cedar`.
        Cedar = "cedar",
    }
}

wire_object! {
    /// A reference to a custom voice (the object form of [`VoiceIdsOrCustomVoice`]).
    pub struct CustomVoice {
        /// The custom voice id, such as `voice_1234`.
        req id: String,
    }
}

/// The voice of audio output (`VoiceIdsOrCustomVoice`): a voice name or a custom voice.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum VoiceIdsOrCustomVoice {
    /// A voice name, such as `alloy`.
    Voice(VoiceIdsShared),
    /// A custom voice, `{"id": "voice_1234"}`.
    Custom(CustomVoice),
    /// Any other JSON value, written as it is. Deserialization never produces it (other shapes
    /// are errors); it is there to send a shape this crate does not model.
    Unknown(Value),
}

impl VoiceIdsOrCustomVoice {
    /// A custom voice by id.
    pub fn custom(id: impl Into<String>) -> Self {
        VoiceIdsOrCustomVoice::Custom(CustomVoice {
            id: id.into(),
            extra: ExtraFields::new(),
        })
    }
}

impl From<VoiceIdsShared> for VoiceIdsOrCustomVoice {
    fn from(v: VoiceIdsShared) -> Self {
        VoiceIdsOrCustomVoice::Voice(v)
    }
}

impl From<&str> for VoiceIdsOrCustomVoice {
    fn from(v: &str) -> Self {
        VoiceIdsOrCustomVoice::Voice(v.into())
    }
}

impl From<String> for VoiceIdsOrCustomVoice {
    fn from(v: String) -> Self {
        VoiceIdsOrCustomVoice::Voice(v.into())
    }
}

impl From<CustomVoice> for VoiceIdsOrCustomVoice {
    fn from(v: CustomVoice) -> Self {
        VoiceIdsOrCustomVoice::Custom(v)
    }
}

string_or_named! {
    VoiceIdsOrCustomVoice {
        string: Voice,
        named: Custom(CustomVoice { id }),
        expecting: "a voice name or a custom voice object",
        // The variant notation of the flat spec reference.
        notation: "<object{id}>",
    }
}

string_enum! {
    /// The encoding of audio output.
    pub enum CreateChatCompletionRequestAudioFormat {
        /// WAV.
        Wav = "wav",
        /// AAC.
        Aac = "aac",
        /// MP3.
        Mp3 = "mp3",
        /// FLAC.
        Flac = "flac",
        /// Opus.
        Opus = "opus",
        /// Raw 16-bit PCM.
        Pcm16 = "pcm16",
    }
}

wire_object! {
    /// Parameters of audio output, needed with `modalities: ["audio"]`.
    pub struct CreateChatCompletionRequestAudio {
        /// The voice the model speaks with.
        req voice: VoiceIdsOrCustomVoice,
        /// The encoding of the audio.
        req format: CreateChatCompletionRequestAudioFormat,
    }
}

impl CreateChatCompletionRequestAudio {
    /// Audio output with the given voice and format.
    pub fn new(
        voice: impl Into<VoiceIdsOrCustomVoice>,
        format: impl Into<CreateChatCompletionRequestAudioFormat>,
    ) -> Self {
        CreateChatCompletionRequestAudio {
            voice: voice.into(),
            format: format.into(),
            extra: ExtraFields::new(),
        }
    }
}

tagged_union! {
    /// The format the model must output: text, a JSON object, or JSON matching a schema.
    ///
    /// ```
    /// use chat_types::ResponseFormat;
    /// use serde_json::json;
    ///
    /// let format = ResponseFormat::json_schema("answer", json!({"type": "object"})).strict(true);
    /// assert_eq!(
    ///     serde_json::to_value(&format).unwrap(),
    ///     json!({
    ///         "type": "json_schema",
    ///         "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}
    ///     })
    /// );
    /// ```
    pub enum ResponseFormat {
        tag: "type" [],
        /// Plain text (the default).
        Text = "text" (ResponseFormatText),
        /// JSON that matches a schema (Structured Outputs).
        JsonSchema = "json_schema" (ResponseFormatJsonSchema),
        /// Any valid JSON object (the older JSON mode).
        JsonObject = "json_object" (ResponseFormatJsonObject),
    }
}

impl ResponseFormat {
    /// Plain text output.
    pub fn text() -> Self {
        ResponseFormat::Text(ResponseFormatText::default())
    }

    /// Any valid JSON object (the older JSON mode; prefer [`ResponseFormat::json_schema`]).
    pub fn json_object() -> Self {
        ResponseFormat::JsonObject(ResponseFormatJsonObject::default())
    }

    /// JSON matching `schema`, under the format name `name`.
    pub fn json_schema(name: impl Into<String>, schema: Value) -> Self {
        ResponseFormat::JsonSchema(ResponseFormatJsonSchema {
            json_schema: JsonSchemaFormat {
                description: None,
                name: name.into(),
                schema: Some(schema),
                strict: None,
                extra: ExtraFields::new(),
            },
            extra: ExtraFields::new(),
        })
    }

    /// Sets `strict` of a JSON schema format (no effect on other variants).
    pub fn strict(mut self, strict: bool) -> Self {
        if let ResponseFormat::JsonSchema(f) = &mut self {
            f.json_schema.strict = Some(strict);
        }
        self
    }

    /// Sets the description of a JSON schema format (no effect on other variants).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        if let ResponseFormat::JsonSchema(f) = &mut self {
            f.json_schema.description = Some(description.into());
        }
        self
    }
}

wire_object! {
    /// The `text` response format.
    #[derive(Default)]
    pub struct ResponseFormatText {}
}

wire_object! {
    /// The `json_object` response format.
    #[derive(Default)]
    pub struct ResponseFormatJsonObject {}
}

wire_object! {
    /// The `json_schema` response format.
    pub struct ResponseFormatJsonSchema {
        /// The schema and its options.
        req json_schema: JsonSchemaFormat,
    }
}

/// A JSON Schema object, kept as JSON.
pub type ResponseFormatJsonSchemaSchema = Value;

wire_object! {
    /// The schema of a `json_schema` response format, with its name and options.
    pub struct JsonSchemaFormat {
        /// What the format is for; helps the model answer in it.
        opt description: Option<String>,
        /// The name of the format (a-z, A-Z, 0-9, `_` and `-`, at most 64 characters).
        req name: String,
        /// The JSON Schema the output must match.
        opt schema: Option<ResponseFormatJsonSchemaSchema>,
        /// Whether the output must follow the schema exactly (a subset of JSON Schema).
        opt strict: Option<bool>,
    }
}

string_enum! {
    /// The type of predicted output; always `content`.
    #[derive(Default)]
    pub enum PredictionContentType {
        /// Static content.
        #[default]
        Content = "content",
    }
}

wire_object! {
    /// Predicted output (`type: "content"`): text the answer will largely repeat, which
    /// speeds up regeneration.
    pub struct PredictionContent {
        /// The type of prediction, `content`.
        def r#type = "type": PredictionContentType,
        /// The predicted text.
        req content: ChatCompletionRequestTextContent,
    }
}

impl PredictionContent {
    /// A prediction of the given content.
    pub fn new(content: impl Into<ChatCompletionRequestTextContent>) -> Self {
        PredictionContent {
            r#type: PredictionContentType::Content,
            content: content.into(),
            extra: ExtraFields::new(),
        }
    }
}

string_enum! {
    /// How much of the context window web search results may use.
    pub enum WebSearchContextSize {
        /// Little context.
        Low = "low",
        /// Balanced (the default).
        Medium = "medium",
        /// Much context.
        High = "high",
    }
}

wire_object! {
    /// Options of web search, for search models.
    #[derive(Default)]
    pub struct WebSearchOptions {
        /// The approximate location of the user.
        opt user_location: Option<WebSearchOptionsUserLocation>,
        /// How much of the context window search results may use.
        opt search_context_size: Option<WebSearchContextSize>,
    }
}

string_enum! {
    /// The kind of user location; always `approximate`.
    #[derive(Default)]
    pub enum WebSearchUserLocationType {
        /// An approximate location.
        #[default]
        Approximate = "approximate",
    }
}

wire_object! {
    /// The approximate location of the user, for web search.
    pub struct WebSearchOptionsUserLocation {
        /// The kind of location, `approximate`.
        def r#type = "type": WebSearchUserLocationType,
        /// The location.
        req approximate: WebSearchLocation,
    }
}

impl From<WebSearchLocation> for WebSearchOptionsUserLocation {
    fn from(approximate: WebSearchLocation) -> Self {
        WebSearchOptionsUserLocation {
            r#type: WebSearchUserLocationType::Approximate,
            approximate,
            extra: ExtraFields::new(),
        }
    }
}

wire_object! {
    /// An approximate location.
    #[derive(Default)]
    pub struct WebSearchLocation {
        /// Two-letter ISO country code, such as `US`.
        opt country: Option<String>,
        /// Free-text region, such as `California`.
        opt region: Option<String>,
        /// Free-text city, such as `San Francisco`.
        opt city: Option<String>,
        /// IANA time zone, such as `America/Los_Angeles`.
        opt timezone: Option<String>,
    }
}

string_enum! {
    /// What moderation does with a flagged input or output.
    pub enum ModerationMode {
        /// Only score the content.
        Score = "score",
        /// Block flagged content.
        Block = "block",
    }
}

wire_object! {
    /// Moderation of the input and output of a completion.
    pub struct ModerationParam {
        /// The moderation model, such as `omni-moderation-latest`.
        req model: String,
        /// The policy for input and output.
        opt policy: Option<ModerationPolicyParam>,
    }
}

impl ModerationParam {
    /// Moderation with the given model and no policy.
    pub fn new(model: impl Into<String>) -> Self {
        ModerationParam {
            model: model.into(),
            policy: None,
            extra: ExtraFields::new(),
        }
    }
}

wire_object! {
    /// The moderation policy for input and output.
    #[derive(Default)]
    pub struct ModerationPolicyParam {
        /// The policy for the input.
        opt input: Option<ModerationConfigParam>,
        /// The policy for the output.
        opt output: Option<ModerationConfigParam>,
    }
}

wire_object! {
    /// The moderation policy for one side of a completion.
    pub struct ModerationConfigParam {
        /// Whether to only score or also block.
        req mode: ModerationMode,
    }
}

impl From<ModerationMode> for ModerationConfigParam {
    fn from(mode: ModerationMode) -> Self {
        ModerationConfigParam {
            mode,
            extra: ExtraFields::new(),
        }
    }
}

string_enum! {
    /// The minimum lifetime of prompt cache entries.
    pub enum PromptCacheTTLEnum {
        /// 30 minutes (the default and only value).
        Minutes30 = "30m",
    }
}

string_enum! {
    /// Whether OpenAI adds an implicit prompt cache breakpoint.
    pub enum PromptCacheModeEnum {
        /// One implicit breakpoint plus up to three explicit ones (the default).
        Implicit = "implicit",
        /// Only explicit breakpoints, up to four.
        Explicit = "explicit",
    }
}

wire_object! {
    /// Options of prompt caching.
    #[derive(Default)]
    pub struct PromptCacheOptionsParam {
        /// The minimum lifetime of every cache breakpoint of the request.
        opt ttl: Option<PromptCacheTTLEnum>,
        /// Whether an implicit breakpoint is added.
        opt mode: Option<PromptCacheModeEnum>,
    }
}

string_enum! {
    /// The mode of a prompt cache breakpoint; always `explicit`.
    #[derive(Default)]
    pub enum PromptCacheBreakpointMode {
        /// An explicit breakpoint.
        #[default]
        Explicit = "explicit",
    }
}

wire_object! {
    /// Marks the end of a reusable prompt prefix on a content part.
    #[derive(Default)]
    pub struct PromptCacheBreakpointParam {
        /// The breakpoint mode, `explicit`.
        def mode: PromptCacheBreakpointMode,
    }
}

string_or_array! {
    /// Up to 4 sequences where the model stops generating: one string or an array.
    pub enum StopConfiguration {
        /// One stop sequence.
        Single(String),
        /// Several stop sequences.
        Multiple(Vec<String>),
    }
}

impl From<Vec<&str>> for StopConfiguration {
    fn from(v: Vec<&str>) -> Self {
        StopConfiguration::Multiple(v.into_iter().map(str::to_owned).collect())
    }
}

impl<const N: usize> From<[&str; N]> for StopConfiguration {
    fn from(v: [&str; N]) -> Self {
        StopConfiguration::Multiple(v.iter().map(|s| (*s).to_owned()).collect())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::UnknownFields;

    use crate::test_util::{round_trip, to_json};

    #[test]
    fn model_ids_cover_the_spec_and_round_trip() {
        assert_eq!(ModelIdsShared::KNOWN.len(), 83);
        for m in ModelIdsShared::KNOWN {
            let parsed: ModelIdsShared = round_trip(json!(m.as_str()));
            assert_eq!(&parsed, m);
            assert!(!parsed.is_unknown());
        }
        assert_eq!(
            ModelIdsShared::from("gpt-4.1-mini"),
            ModelIdsShared::Gpt4_1Mini
        );
        assert_eq!(ModelIdsShared::Gpt3_5Turbo16k0613, "gpt-3.5-turbo-16k-0613");
    }

    #[test]
    fn unknown_model_id_round_trips_and_is_not_reported() {
        let m: ModelIdsShared = round_trip(json!("my-local-model"));
        assert_eq!(m, ModelIdsShared::Unknown("my-local-model".into()));
        assert!(m.is_unknown());
        assert!(m.unknown_fields().is_empty());
        assert_eq!(m.to_string(), "my-local-model");
    }

    #[test]
    fn voice_round_trips_every_shape() {
        type V = VoiceIdsOrCustomVoice;
        let v: V = round_trip(json!("alloy"));
        assert_eq!(v, V::Voice(VoiceIdsShared::Alloy));
        let v: V = round_trip(json!("nova"));
        assert_eq!(v, V::Voice(VoiceIdsShared::Unknown("nova".into())));
        assert!(v.unknown_fields().is_empty());
        let v: V = round_trip(json!({"id": "voice_1234"}));
        assert_eq!(v, V::custom("voice_1234"));
        let v: V = round_trip(json!({"id": "voice_1", "speed": 2}));
        assert_eq!(v.unknown_fields(), vec!["<object{id}>.speed"]);
        for (raw, error) in [
            (json!({"name": "x"}), "missing field `id`"),
            (
                json!({"id": 1}),
                "invalid type: integer `1`, expected a string",
            ),
            (json!(true), "invalid type: boolean `true`"),
            (json!(null), "invalid type: null"),
        ] {
            let e = serde_json::from_value::<V>(raw.clone()).unwrap_err();
            assert!(e.to_string().contains(error), "{raw}: {e}");
        }
        // A shape the crate does not model can still be sent.
        let v = V::Unknown(json!({"name": "x"}));
        assert_eq!(to_json(&v), json!({"name": "x"}));
        assert_eq!(v.unknown_fields(), vec!["<?>"]);
    }

    #[test]
    fn a_repeated_identifying_field_keeps_its_last_value_and_is_written_once() {
        type V = VoiceIdsOrCustomVoice;
        let v: V = serde_json::from_str(r#"{"id": "a", "speed": 1, "id": "b"}"#).unwrap();
        assert_eq!(to_json(&v), json!({"id": "b", "speed": 1}));
        assert_eq!(
            serde_json::to_string(&v).unwrap().matches("\"id\"").count(),
            1
        );
        // A last value that is not a string is an error, as a single one would be.
        let e = serde_json::from_str::<V>(r#"{"id": "a", "id": 7}"#).unwrap_err();
        assert!(e.to_string().contains("invalid type: integer `7`"), "{e}");
        let f: crate::CreateChatCompletionRequestFunctionCall =
            serde_json::from_str(r#"{"name": "f", "name": "g"}"#).unwrap();
        assert_eq!(to_json(&f), json!({"name": "g"}));
    }

    #[test]
    fn audio_constructor_writes_the_expected_json() {
        let a = CreateChatCompletionRequestAudio::new(
            "ash",
            CreateChatCompletionRequestAudioFormat::Pcm16,
        );
        assert_eq!(to_json(&a), json!({"voice": "ash", "format": "pcm16"}));
        let a = CreateChatCompletionRequestAudio::new(VoiceIdsOrCustomVoice::custom("v"), "mp3");
        assert_eq!(to_json(&a), json!({"voice": {"id": "v"}, "format": "mp3"}));
    }

    #[test]
    fn response_format_constructors_write_the_expected_json() {
        assert_eq!(to_json(&ResponseFormat::text()), json!({"type": "text"}));
        assert_eq!(
            to_json(&ResponseFormat::json_object()),
            json!({"type": "json_object"})
        );
        assert_eq!(
            to_json(&ResponseFormat::json_schema("r", json!({"type": "object"})).description("d")),
            json!({
                "type": "json_schema",
                "json_schema": {"name": "r", "description": "d", "schema": {"type": "object"}}
            })
        );
        // strict only applies to json_schema.
        assert_eq!(ResponseFormat::text().strict(true), ResponseFormat::text());
    }

    #[test]
    fn unknown_response_format_is_kept_verbatim() {
        let v = json!({"type": "grammar", "grammar": "start: x"});
        let f: ResponseFormat = round_trip(v.clone());
        assert_eq!(f, ResponseFormat::Unknown(v));
        assert_eq!(f.unknown_fields(), vec!["<type=grammar>"]);
        let f: ResponseFormat = round_trip(json!({"type": "json_object", "strict": false}));
        assert_eq!(f.unknown_fields(), vec!["<type=json_object>.strict"]);
    }

    #[test]
    fn prediction_writes_its_type() {
        assert_eq!(
            to_json(&PredictionContent::new("fn main() {}")),
            json!({"type": "content", "content": "fn main() {}"})
        );
        let p: PredictionContent =
            round_trip(json!({"type": "content", "content": [{"type": "text", "text": "a"}]}));
        assert!(p.unknown_fields().is_empty());
        let p: PredictionContent = round_trip(json!({"type": "diff", "content": "a"}));
        assert_eq!(p.unknown_fields(), vec![r#"type="diff""#]);
    }

    #[test]
    fn stop_configuration_shapes() {
        assert_eq!(to_json(&StopConfiguration::from("\n")), json!("\n"));
        assert_eq!(
            to_json(&StopConfiguration::from(["a", "b"])),
            json!(["a", "b"])
        );
        assert_eq!(to_json(&StopConfiguration::from(vec!["a"])), json!(["a"]));
        let s: StopConfiguration = round_trip(json!(["x", "y"]));
        assert_eq!(s, StopConfiguration::Multiple(vec!["x".into(), "y".into()]));
        for v in [json!({"sequences": ["x"]}), json!(5), json!([5])] {
            assert!(
                serde_json::from_value::<StopConfiguration>(v.clone()).is_err(),
                "{v}"
            );
        }
    }

    #[test]
    fn web_search_moderation_and_prompt_cache_round_trip() {
        let w: WebSearchOptions = round_trip(json!({
            "user_location": {
                "type": "approximate",
                "approximate": {"country": "US", "region": "CA", "city": "SF", "timezone": "America/Los_Angeles"}
            },
            "search_context_size": "high"
        }));
        assert!(w.unknown_fields().is_empty());
        let w: WebSearchOptions = round_trip(json!({"search_context_size": "huge"}));
        assert_eq!(w.unknown_fields(), vec![r#"search_context_size="huge""#]);
        let loc = WebSearchOptionsUserLocation::from(WebSearchLocation {
            city: Some("Paris".into()),
            ..Default::default()
        });
        assert_eq!(
            to_json(&loc),
            json!({"type": "approximate", "approximate": {"city": "Paris"}})
        );

        let m: ModerationParam = round_trip(json!({
            "model": "omni-moderation-latest",
            "policy": {"input": {"mode": "block"}, "output": {"mode": "score"}}
        }));
        assert!(m.unknown_fields().is_empty());
        assert_eq!(to_json(&ModerationParam::new("m")), json!({"model": "m"}));

        let p: PromptCacheOptionsParam = round_trip(json!({"ttl": "30m", "mode": "explicit"}));
        assert_eq!(p.ttl, Some(PromptCacheTTLEnum::Minutes30));
        assert_eq!(p.mode, Some(PromptCacheModeEnum::Explicit));
        let p: PromptCacheOptionsParam = round_trip(json!({"ttl": "1h"}));
        assert_eq!(p.unknown_fields(), vec![r#"ttl="1h""#]);
        assert_eq!(
            to_json(&PromptCacheBreakpointParam::default()),
            json!({"mode": "explicit"})
        );
    }
}
