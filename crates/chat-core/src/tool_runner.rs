//! Typed function tools and the tool-call loop (feature `schema`).
//!
//! [`FunctionTool`] ties a tool definition (a strict schema from a Rust type) to the parsing
//! of its calls' arguments. [`ToolRunner`] holds one async handler per tool and runs the
//! conversation: ask the model, run the tools it calls (the calls of one round
//! concurrently), send their results back, and repeat until it answers without calling
//! tools or the round limit is reached.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::types::schemars::JsonSchema;
use crate::types::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls,
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
    CreateChatCompletionResponse, SchemaError, Tool,
};
use crate::{ChatCompletionEvent, Client, Error, Response};

/// A function tool whose arguments are a `T`: its definition (a strict schema of `T`) and
/// the parsing of its calls.
///
/// ```
/// use chat_core::FunctionTool;
///
/// #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
/// struct WeatherArgs {
///     /// The city name.
///     city: String,
/// }
///
/// let tool = FunctionTool::<WeatherArgs>::new("get_weather", "The current weather in a city").unwrap();
/// let call = chat_core::types::ChatCompletionMessageToolCall::new("call_1", "get_weather", r#"{"city": "Paris"}"#);
/// assert_eq!(tool.parse(&call).unwrap().city, "Paris");
/// let bad = chat_core::types::ChatCompletionMessageToolCall::new("call_2", "get_weather", r#"{"town": 1}"#);
/// assert!(tool.parse(&bad).unwrap_err().to_string().contains("missing field `city`"));
/// ```
pub struct FunctionTool<T> {
    definition: Tool,
    name: String,
    _args: PhantomData<fn() -> T>,
}

impl<T: JsonSchema + DeserializeOwned> FunctionTool<T> {
    /// A strict function tool `name` whose parameters are the schema of `T`.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Result<Self, SchemaError> {
        let name = name.into();
        Ok(FunctionTool {
            definition: Tool::from_type::<T>(name.clone(), description)?,
            name,
            _args: PhantomData,
        })
    }

    /// The arguments of `call` as a `T`; fails when the call is of another tool or its
    /// arguments do not parse into `T`.
    pub fn parse(&self, call: &ChatCompletionMessageToolCall) -> Result<T, ToolArgumentsError> {
        if call.function.name != self.name {
            return Err(ToolArgumentsError {
                tool: call.function.name.clone(),
                call_id: call.id.clone(),
                reason: format!(
                    "the call is of `{}`, not of `{}`",
                    call.function.name, self.name
                ),
                source: None,
            });
        }
        call.parse_arguments().map_err(|e| ToolArgumentsError {
            tool: self.name.clone(),
            call_id: call.id.clone(),
            reason: e.to_string(),
            source: Some(e),
        })
    }
}

impl<T> FunctionTool<T> {
    /// The tool definition to send with a request.
    pub fn definition(&self) -> &Tool {
        &self.definition
    }

    /// The name of the tool.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<T> fmt::Debug for FunctionTool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionTool")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A tool call whose arguments are not the tool's argument type.
#[derive(Debug)]
pub struct ToolArgumentsError {
    tool: String,
    call_id: String,
    reason: String,
    source: Option<serde_json::Error>,
}

impl ToolArgumentsError {
    /// The tool the call names.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The id of the call.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }
}

impl fmt::Display for ToolArgumentsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid arguments for `{}` (call {}): {}",
            self.tool, self.call_id, self.reason
        )
    }
}

impl std::error::Error for ToolArgumentsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A handler: the call's arguments text in, the result text (or the error text) out.
type Handler =
    Arc<dyn Fn(&ChatCompletionMessageToolCall) -> BoxFuture<Result<String, String>> + Send + Sync>;

/// What the runner does when a tool fails: a handler returns an error, the model calls a
/// tool that does not exist, or its arguments do not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ToolErrors {
    /// Send the error back as the call's result, `{"error": "..."}`, so the model can
    /// correct itself or tell the user (the default, as the official SDKs do).
    #[default]
    Report,
    /// Stop the loop with [`ToolRunError::Tool`].
    Abort,
}

/// Runs the call → tool results → call loop with one async handler per tool.
///
/// Each round sends the conversation with the runner's tool definitions added to the
/// request's own; when the answer calls tools, every call of the round runs concurrently
/// (on the calling task, no spawning), the assistant message and one tool message per call
/// (in the order of the calls) are appended, and the next round starts. The loop ends when
/// an answer calls no tools, and fails with [`ToolRunError::MaxRounds`] when the model
/// still calls tools after [`max_rounds`](ToolRunner::max_rounds) requests (10 by default).
///
/// A handler is an async closure from the argument type to `Result<R, E>`: `R` is
/// serialized to JSON for the tool message (a string is sent as it is), `E` is displayed.
/// Failures follow [`ToolErrors`].
///
/// ```
/// # async fn run(client: chat_core::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use chat_core::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
/// use chat_core::ToolRunner;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct WeatherArgs {
///     city: String,
/// }
///
/// let runner = ToolRunner::new()
///     .tool("get_weather", "The current weather in a city", |args: WeatherArgs| async move {
///         Ok::<_, std::io::Error>(serde_json::json!({"city": args.city, "temperature_c": 18}))
///     })?
///     .max_rounds(5);
/// let request = CreateChatCompletionRequest::new("gpt-4o-mini", [Message::user("Weather in Paris?")]);
/// let run = runner.run(&client, request).await?;
/// println!("{}", run.response.first_content().unwrap_or_default());
/// println!("{} messages in {} rounds", run.messages.len(), run.rounds);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ToolRunner {
    tools: Vec<(String, Tool, Handler)>,
    max_rounds: usize,
    errors: ToolErrors,
}

impl Default for ToolRunner {
    fn default() -> Self {
        ToolRunner::new()
    }
}

impl fmt::Debug for ToolRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.tools.iter().map(|(n, _, _)| n.as_str()).collect();
        f.debug_struct("ToolRunner")
            .field("tools", &names)
            .field("max_rounds", &self.max_rounds)
            .field("errors", &self.errors)
            .finish()
    }
}

/// The outcome of a [`ToolRunner`] loop.
#[derive(Debug)]
#[non_exhaustive]
pub struct ToolRun {
    /// The whole conversation: the request's messages, then for each round the assistant
    /// message with its tool calls and the tool results. The final answer is not in it
    /// (it is `response`); append it with `Message::from(...)` to continue the conversation.
    pub messages: Vec<Message>,
    /// The final response, the one without tool calls.
    pub response: Response<CreateChatCompletionResponse>,
    /// How many requests were made.
    pub rounds: usize,
    /// Every tool call made, in order, with its result text.
    pub calls: Vec<ToolCallResult>,
}

/// One tool call of a [`ToolRun`] and the result sent back for it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolCallResult {
    /// The round (1-based) the call was made in.
    pub round: usize,
    /// The call.
    pub call: ChatCompletionMessageToolCall,
    /// The text sent back as the tool message.
    pub result: String,
    /// Whether the result reports an error.
    pub is_error: bool,
}

/// Why a [`ToolRunner`] loop stopped without an answer. Each variant keeps the
/// conversation so far.
#[derive(Debug)]
#[non_exhaustive]
pub enum ToolRunError {
    /// A request failed.
    Request {
        /// The error.
        error: Error,
        /// The conversation up to the failed request.
        messages: Vec<Message>,
    },
    /// The model still called tools after the maximum number of rounds.
    MaxRounds {
        /// The limit.
        rounds: usize,
        /// The conversation, up to and with the tool results of the last round.
        messages: Vec<Message>,
    },
    /// A tool failed under [`ToolErrors::Abort`].
    Tool {
        /// The tool the model called.
        tool: String,
        /// The id of the call.
        call_id: String,
        /// What went wrong.
        message: String,
        /// The conversation, up to the assistant message with the failing call.
        messages: Vec<Message>,
    },
}

impl ToolRunError {
    /// The conversation when the loop stopped.
    pub fn messages(&self) -> &[Message] {
        match self {
            ToolRunError::Request { messages, .. }
            | ToolRunError::MaxRounds { messages, .. }
            | ToolRunError::Tool { messages, .. } => messages,
        }
    }
}

impl fmt::Display for ToolRunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolRunError::Request { error, .. } => error.fmt(f),
            ToolRunError::MaxRounds { rounds, .. } => {
                write!(f, "the model still called tools after {rounds} rounds")
            }
            ToolRunError::Tool {
                tool,
                call_id,
                message,
                ..
            } => {
                write!(f, "tool `{tool}` failed (call {call_id}): {message}")
            }
        }
    }
}

impl std::error::Error for ToolRunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ToolRunError::Request { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The text of a handler's result: a JSON string as it is, anything else as JSON.
fn result_text<R: Serialize>(value: &R) -> Result<String, String> {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => Ok(s),
        Ok(other) => Ok(other.to_string()),
        Err(e) => Err(format!("the tool result does not serialize: {e}")),
    }
}

fn error_text(message: &str) -> String {
    serde_json::json!({ "error": message }).to_string()
}

impl ToolRunner {
    /// A runner without tools, at most 10 rounds, reporting tool errors to the model.
    pub fn new() -> Self {
        ToolRunner {
            tools: Vec::new(),
            max_rounds: 10,
            errors: ToolErrors::Report,
        }
    }

    /// Adds the tool `name` whose arguments are a `T`, run by `handler`. Fails when `T`
    /// cannot be expressed as a strict schema. A tool of the same name is replaced.
    pub fn tool<T, F, Fut, R, E>(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        handler: F,
    ) -> Result<Self, SchemaError>
    where
        T: JsonSchema + DeserializeOwned + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: Serialize,
        E: fmt::Display,
    {
        let tool = Arc::new(FunctionTool::<T>::new(name, description)?);
        let name = tool.name().to_owned();
        let definition = tool.definition().clone();
        let handler = Arc::new(handler);
        let run: Handler = Arc::new(move |call: &ChatCompletionMessageToolCall| {
            let parsed = tool.parse(call);
            let handler = Arc::clone(&handler);
            Box::pin(async move {
                let args = parsed.map_err(|e| e.to_string())?;
                match handler(args).await {
                    Ok(value) => result_text(&value),
                    Err(e) => Err(e.to_string()),
                }
            })
        });
        self.tools.retain(|(n, _, _)| *n != name);
        self.tools.push((name, definition, run));
        Ok(self)
    }

    /// Sets the maximum number of requests of one loop (at least 1).
    pub fn max_rounds(mut self, rounds: usize) -> Self {
        self.max_rounds = rounds.max(1);
        self
    }

    /// Sets what a failing tool does (see [`ToolErrors`]).
    pub fn on_tool_error(mut self, errors: ToolErrors) -> Self {
        self.errors = errors;
        self
    }

    /// The tool definitions the runner adds to each request.
    pub fn definitions(&self) -> Vec<Tool> {
        self.tools.iter().map(|(_, d, _)| d.clone()).collect()
    }

    /// Runs the loop with whole (not streamed) responses.
    pub async fn run(
        &self,
        client: &Client,
        request: CreateChatCompletionRequest,
    ) -> Result<ToolRun, ToolRunError> {
        self.run_loop(client, request, None).await
    }

    /// Runs the loop with streamed responses, handing every event of every round to
    /// `on_event` as it arrives (text deltas, tool calls as they complete, ...), the
    /// `Completed` event of each round included.
    pub async fn run_streaming(
        &self,
        client: &Client,
        request: CreateChatCompletionRequest,
        mut on_event: impl FnMut(&ChatCompletionEvent) + Send,
    ) -> Result<ToolRun, ToolRunError> {
        self.run_loop(client, request, Some(&mut on_event)).await
    }

    /// One request of the loop, whole or streamed.
    async fn send(
        client: &Client,
        request: &CreateChatCompletionRequest,
        on_event: &mut Option<&mut (dyn FnMut(&ChatCompletionEvent) + Send)>,
    ) -> Result<Response<CreateChatCompletionResponse>, Error> {
        let Some(on_event) = on_event else {
            return client.create_chat_completion(request).await;
        };
        let mut events = client
            .create_chat_completion_stream(request)
            .await?
            .events();
        while let Some(event) = events.next().await {
            let event = event?;
            on_event(&event);
            if let ChatCompletionEvent::Completed(response) = event {
                return Ok(Response::new(*response, events.meta().clone()));
            }
        }
        // Unreachable in practice: a stream that ends without error ends with `Completed`.
        let request_id = events.meta().request_id.clone();
        Err(Error::new(crate::ErrorKind::Stream(
            crate::StreamError::Truncated { request_id },
        )))
    }

    async fn run_loop(
        &self,
        client: &Client,
        mut request: CreateChatCompletionRequest,
        mut on_event: Option<&mut (dyn FnMut(&ChatCompletionEvent) + Send)>,
    ) -> Result<ToolRun, ToolRunError> {
        let mut tools = request.tools.take().unwrap_or_default();
        for (name, definition, _) in &self.tools {
            if !tools.iter().any(|t| t.name() == Some(name)) {
                tools.push(definition.clone());
            }
        }
        // No `tools: []`: the API refuses an empty list.
        request.tools = if tools.is_empty() { None } else { Some(tools) };
        let mut calls_made = Vec::new();
        for round in 1..=self.max_rounds {
            let response = match Self::send(client, &request, &mut on_event).await {
                Ok(response) => response,
                Err(error) => {
                    return Err(ToolRunError::Request {
                        error,
                        messages: request.messages,
                    })
                }
            };
            let calls = response.tool_calls().to_vec();
            let message = match response.first_message() {
                Some(message) if !calls.is_empty() => Message::from(message),
                _ => {
                    return Ok(ToolRun {
                        messages: request.messages,
                        response,
                        rounds: round,
                        calls: calls_made,
                    })
                }
            };
            request.messages.push(message);
            let results = join_all(calls.iter().map(|call| self.call(call))).await;
            for (call, result) in calls.iter().zip(results) {
                let id = call.id().unwrap_or_default().to_owned();
                let (text, is_error) = match result {
                    Ok(text) => (text, false),
                    Err(message) if self.errors == ToolErrors::Abort => {
                        return Err(ToolRunError::Tool {
                            tool: call
                                .as_function()
                                .map(|f| f.function.name.clone())
                                .unwrap_or_default(),
                            call_id: id,
                            message,
                            messages: request.messages,
                        })
                    }
                    Err(message) => (error_text(&message), true),
                };
                if let Some(function) = call.as_function() {
                    calls_made.push(ToolCallResult {
                        round,
                        call: function.clone(),
                        result: text.clone(),
                        is_error,
                    });
                }
                request.messages.push(Message::tool(id, text));
            }
        }
        Err(ToolRunError::MaxRounds {
            rounds: self.max_rounds,
            messages: request.messages,
        })
    }

    /// Runs one call: its handler, or an error for an unknown or non-function tool.
    fn call(&self, call: &ChatCompletionMessageToolCalls) -> BoxFuture<Result<String, String>> {
        let Some(function) = call.as_function() else {
            return Box::pin(async { Err("only function tools are supported".to_owned()) });
        };
        match self
            .tools
            .iter()
            .find(|(n, _, _)| *n == function.function.name)
        {
            Some((_, _, handler)) => handler(function),
            None => {
                let message = format!("unknown tool `{}`", function.function.name);
                Box::pin(async move { Err(message) })
            }
        }
    }
}

/// Polls every future until all are done; the results in order.
async fn join_all<T>(futures: impl Iterator<Item = BoxFuture<T>>) -> Vec<T> {
    let mut slots: Vec<(Option<BoxFuture<T>>, Option<T>)> =
        futures.map(|f| (Some(f), None)).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, result) in &mut slots {
            if let Some(f) = future {
                match f.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *result = Some(value);
                        *future = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    slots.into_iter().filter_map(|(_, r)| r).collect()
}
