//! Structured output read from one choice (the per-choice form of
//! [`CreateChatCompletionResponse::parse_content`](crate::CreateChatCompletionResponse::parse_content)).

use crate::{ContentError, CreateChatCompletionResponseChoice, FinishReason};

impl CreateChatCompletionResponseChoice {
    /// This choice's content parsed as JSON into `T`.
    ///
    /// Fails with [`ContentError::Refusal`] when the model refused, with
    /// [`ContentError::Incomplete`] when it stopped early (`length` or `content_filter`),
    /// with [`ContentError::NoContent`] when there is no text, and with [`ContentError::Json`]
    /// when the text does not parse into `T`.
    ///
    /// ```
    /// # use chat_types::CreateChatCompletionResponse;
    /// let response: CreateChatCompletionResponse = serde_json::from_str(r#"{"choices": [
    ///     {"index": 0, "finish_reason": "stop", "message": {"content": "[1, 2]"}},
    ///     {"index": 1, "finish_reason": "stop", "message": {"content": "[3]"}}]}"#).unwrap();
    /// let all: Vec<Vec<u32>> = response
    ///     .choices
    ///     .iter()
    ///     .map(|c| c.parse_content())
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(all, [vec![1, 2], vec![3]]);
    /// # Ok::<(), chat_types::ContentError>(())
    /// ```
    pub fn parse_content<T: serde::de::DeserializeOwned>(&self) -> Result<T, ContentError> {
        if let Some(refusal) = self.message.refusal.as_deref().filter(|r| !r.is_empty()) {
            return Err(ContentError::Refusal(refusal.to_owned()));
        }
        if let Some(reason @ (FinishReason::Length | FinishReason::ContentFilter)) =
            &self.finish_reason
        {
            return Err(ContentError::Incomplete(reason.clone()));
        }
        let content = self
            .message
            .content
            .as_deref()
            .ok_or(ContentError::NoContent)?;
        serde_json::from_str(content).map_err(ContentError::Json)
    }
}
