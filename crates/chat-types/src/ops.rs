//! Types of the stored-completions operations: list, get, update, delete and list messages.

use crate::{
    ChatCompletionMessageToolCalls, ChatCompletionResponseMessageAnnotation,
    ChatCompletionResponseMessageAudio, ChatCompletionResponseMessageFunctionCall,
    CreateChatCompletionResponse, Metadata, Role,
};

wire_object! {
    /// A page of stored chat completions (`GET /chat/completions`).
    #[derive(Default)]
    pub struct ChatCompletionList {
        /// The object type, `list` (`None` if the server omits it).
        opt object: Option<String>,
        /// The completions of this page.
        def data: Vec<CreateChatCompletionResponse>,
        /// The id of the first completion of the page.
        opt first_id: Option<String>,
        /// The id of the last completion of the page; pass it as `after` for the next page.
        opt last_id: Option<String>,
        /// Whether more completions follow.
        def has_more: bool,
    }
}

wire_object! {
    /// The answer to deleting a stored chat completion.
    #[derive(Default)]
    pub struct ChatCompletionDeleted {
        /// The object type, `chat.completion.deleted` (`None` if the server omits it).
        opt object: Option<String>,
        /// The id of the deleted completion.
        def id: String,
        /// Whether it was deleted.
        def deleted: bool,
    }
}

wire_object! {
    /// A page of the messages of a stored chat completion
    /// (`GET /chat/completions/{completion_id}/messages`).
    #[derive(Default)]
    pub struct ChatCompletionMessageList {
        /// The object type, `list` (`None` if the server omits it).
        opt object: Option<String>,
        /// The messages of this page.
        def data: Vec<ChatCompletionMessageListItem>,
        /// The id of the first message of the page.
        opt first_id: Option<String>,
        /// The id of the last message of the page; pass it as `after` for the next page.
        opt last_id: Option<String>,
        /// Whether more messages follow.
        def has_more: bool,
    }
}

wire_object! {
    /// A stored message, as listed by `GET /chat/completions/{completion_id}/messages`.
    #[derive(Default)]
    pub struct ChatCompletionMessageListItem {
        /// The id of the message.
        def id: String,
        /// The text of the message.
        def content: Option<String>,
        /// The refusal message.
        def refusal: Option<String>,
        /// Tool calls of the message.
        opt tool_calls: Option<Vec<ChatCompletionMessageToolCalls>>,
        /// Annotations of the message.
        opt annotations: Option<Vec<ChatCompletionResponseMessageAnnotation>>,
        /// The role of the author.
        def role: Role,
        /// The participant name the message was sent with, if any (the stored-message
        /// examples of the spec carry it, its schema does not declare it).
        opt name: Option<String>,
        /// The function call (deprecated).
        opt function_call: Option<ChatCompletionResponseMessageFunctionCall>,
        /// Audio of the message.
        opt audio: Option<ChatCompletionResponseMessageAudio>,
        /// The content parts, when the message was sent as parts.
        opt content_parts: Option<Vec<crate::ChatCompletionRequestUserMessageContentPart>>,
    }
}

wire_object! {
    /// The body of `POST /chat/completions/{completion_id}`: replaces the metadata.
    #[derive(Default)]
    pub struct UpdateChatCompletionRequest {
        /// The new metadata; `None` clears it (sent as `null`).
        def metadata: Option<Metadata>,
    }
}

string_enum! {
    /// Sort order of a list.
    pub enum ListOrder {
        /// Oldest first.
        Asc = "asc",
        /// Newest first.
        Desc = "desc",
    }
}

/// Query parameters of `GET /chat/completions`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListChatCompletionsParams {
    /// Only completions of this model.
    pub model: Option<String>,
    /// Only completions with these metadata pairs.
    pub metadata: Option<Metadata>,
    /// The id of the completion after which the page starts.
    pub after: Option<String>,
    /// How many completions per page (default 20).
    pub limit: Option<u32>,
    /// Sort order by timestamp (default `asc`).
    pub order: Option<ListOrder>,
}

/// Query parameters of `GET /chat/completions/{completion_id}/messages`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListChatCompletionMessagesParams {
    /// The id of the message after which the page starts.
    pub after: Option<String>,
    /// How many messages per page (default 20).
    pub limit: Option<u32>,
    /// Sort order by timestamp (default `asc`).
    pub order: Option<ListOrder>,
}

impl ListChatCompletionsParams {
    /// The parameters as `(name, value)` query pairs; metadata becomes `metadata[key]=value`.
    pub fn to_query_pairs(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(m) = &self.model {
            q.push(("model".to_owned(), m.clone()));
        }
        if let Some(md) = &self.metadata {
            for (k, v) in md {
                q.push((format!("metadata[{k}]"), v.clone()));
            }
        }
        push_page(&mut q, &self.after, self.limit, &self.order);
        q
    }
}

impl ListChatCompletionMessagesParams {
    /// The parameters as `(name, value)` query pairs.
    pub fn to_query_pairs(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        push_page(&mut q, &self.after, self.limit, &self.order);
        q
    }
}

fn push_page(
    q: &mut Vec<(String, String)>,
    after: &Option<String>,
    limit: Option<u32>,
    order: &Option<ListOrder>,
) {
    if let Some(a) = after {
        q.push(("after".to_owned(), a.clone()));
    }
    if let Some(l) = limit {
        q.push(("limit".to_owned(), l.to_string()));
    }
    if let Some(o) = order {
        q.push(("order".to_owned(), o.as_str().to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::UnknownFields;

    #[test]
    fn a_stored_message_keeps_its_participant_name() {
        let v =
            json!({"id": "m1", "role": "user", "content": "hi", "refusal": null, "name": "ann"});
        let item: ChatCompletionMessageListItem = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(item.name.as_deref(), Some("ann"));
        assert!(item.unknown_fields().is_empty());
        assert_eq!(serde_json::to_value(&item).unwrap(), v);
    }

    #[test]
    fn list_parameters_become_query_pairs() {
        let p = ListChatCompletionsParams {
            model: Some("gpt-4o".into()),
            metadata: Some([("team".to_owned(), "a b".to_owned())].into()),
            after: Some("chatcmpl-1".into()),
            limit: Some(5),
            order: Some(ListOrder::Desc),
        };
        let pairs = p.to_query_pairs();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, &**v)).collect();
        assert_eq!(
            pairs,
            [
                ("model", "gpt-4o"),
                ("metadata[team]", "a b"),
                ("after", "chatcmpl-1"),
                ("limit", "5"),
                ("order", "desc"),
            ]
        );
        assert!(ListChatCompletionMessagesParams::default()
            .to_query_pairs()
            .is_empty());
    }
}
