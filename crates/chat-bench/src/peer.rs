//! What a user of async-openai writes by hand: it has no accumulator, so merging stream
//! chunks into a response is the user's code.

use async_openai::types::chat::{
    ChatChoice, ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls,
    ChatCompletionResponseMessage, CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse, FunctionCall, Role,
};

/// Merges async-openai stream chunks into an async-openai response: text and tool-call
/// arguments concatenated per choice, the last finish reason, the usage.
#[allow(deprecated)] // `system_fingerprint` and `function_call` are deprecated fields.
pub fn accumulate(chunks: Vec<CreateChatCompletionStreamResponse>) -> CreateChatCompletionResponse {
    let mut out = CreateChatCompletionResponse {
        object: "chat.completion".to_owned(),
        ..Default::default()
    };
    let mut first = true;
    for chunk in chunks {
        if first {
            first = false;
            out.id = chunk.id;
            out.created = chunk.created;
            out.model = chunk.model;
            out.service_tier = chunk.service_tier;
            out.system_fingerprint = chunk.system_fingerprint;
        }
        if chunk.usage.is_some() {
            out.usage = chunk.usage;
        }
        for c in chunk.choices {
            let index = c.index as usize;
            while out.choices.len() <= index {
                out.choices.push(ChatChoice {
                    index: out.choices.len() as u32,
                    message: ChatCompletionResponseMessage {
                        role: Role::Assistant,
                        ..Default::default()
                    },
                    finish_reason: None,
                    logprobs: None,
                });
            }
            let choice = &mut out.choices[index];
            if c.finish_reason.is_some() {
                choice.finish_reason = c.finish_reason;
            }
            if let Some(text) = c.delta.content {
                choice
                    .message
                    .content
                    .get_or_insert_with(String::new)
                    .push_str(&text);
            }
            for call in c.delta.tool_calls.into_iter().flatten() {
                let calls = choice.message.tool_calls.get_or_insert_with(Vec::new);
                let i = call.index as usize;
                while calls.len() <= i {
                    calls.push(ChatCompletionMessageToolCalls::Function(
                        ChatCompletionMessageToolCall {
                            id: String::new(),
                            function: FunctionCall {
                                name: String::new(),
                                arguments: String::new(),
                            },
                        },
                    ));
                }
                if let ChatCompletionMessageToolCalls::Function(slot) = &mut calls[i] {
                    if let Some(id) = call.id {
                        slot.id = id;
                    }
                    if let Some(f) = call.function {
                        if let Some(name) = f.name {
                            slot.function.name.push_str(&name);
                        }
                        if let Some(args) = f.arguments {
                            slot.function.arguments.push_str(&args);
                        }
                    }
                }
            }
        }
    }
    out
}
