//! Request messages (placeholder: being written).
/// Placeholder.
pub type ChatCompletionRequestMessage = serde_json::Value;
/// Placeholder.
pub type ChatCompletionRequestUserMessageContentPart = serde_json::Value;
/// Placeholder.
pub type ChatCompletionFunctionCallOption = serde_json::Value;
/// Placeholder.
pub type ChatCompletionFunctions = serde_json::Value;
/// Placeholder.
pub type ChatCompletionToolChoiceOption = serde_json::Value;
/// Placeholder.
pub type ChatCompletionTools = serde_json::Value;
/// Placeholder.
pub type CreateChatCompletionRequestAudio = serde_json::Value;
/// Placeholder.
pub type ModelIdsShared = String;
/// Placeholder.
pub type ModerationParam = serde_json::Value;
/// Placeholder.
pub type PredictionContent = serde_json::Value;
/// Placeholder.
pub type PromptCacheOptionsParam = serde_json::Value;
/// Placeholder.
pub type ResponseFormat = serde_json::Value;
/// Placeholder.
pub type StopConfiguration = serde_json::Value;
/// Placeholder.
pub type WebSearchOptions = serde_json::Value;
