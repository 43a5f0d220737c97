//! Structured outputs (feature `schema`): a request whose `response_format` is the strict
//! JSON Schema of a Rust type, and its answer parsed into that type, whole or streamed.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::types::schemars::JsonSchema;
use crate::types::{
    ContentError, CreateChatCompletionRequest, CreateChatCompletionResponse, FinishReason,
    ResponseFormat, SchemaError,
};
use crate::{
    ChatCompletionEvent, ChatCompletionEventStream, Client, Error, PartialJson, Response,
    ResponseMeta,
};

/// A chat completion whose choices were parsed into `T`: the response as received (with its
/// metadata) and, per choice, the parsed value or the model's refusal.
#[derive(Debug)]
#[non_exhaustive]
pub struct ParsedChatCompletion<T> {
    /// The response as received.
    pub response: Response<CreateChatCompletionResponse>,
    /// One entry per choice, in the order of `response.choices`.
    pub choices: Vec<ParsedChoice<T>>,
}

/// One choice of a [`ParsedChatCompletion`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ParsedChoice<T> {
    /// The index of the choice.
    pub index: u32,
    /// The content parsed into `T`; `None` when the model refused.
    pub parsed: Option<T>,
    /// The refusal, when the model refused instead of answering.
    pub refusal: Option<String>,
}

impl<T> ParsedChatCompletion<T> {
    /// The first choice's value (`None` when it refused or there is no choice).
    pub fn parsed(&self) -> Option<&T> {
        self.choices.first()?.parsed.as_ref()
    }

    /// The first choice's value, taken out.
    pub fn into_parsed(self) -> Option<T> {
        self.choices.into_iter().next()?.parsed
    }

    /// The first choice's refusal, if the model refused.
    pub fn refusal(&self) -> Option<&str> {
        self.choices.first()?.refusal.as_deref()
    }
}

/// Why a structured-output call gave no `T`.
#[derive(Debug)]
#[non_exhaustive]
pub enum StructuredError {
    /// The request failed (API error, transport, timeout, stream error).
    Request(Error),
    /// `T` cannot be expressed as a strict JSON Schema.
    Schema(SchemaError),
    /// A choice stopped at the token limit (`finish_reason: length`): its JSON is cut off.
    Length {
        /// The index of the choice.
        choice_index: u32,
        /// The whole response, with the partial text.
        response: Box<CreateChatCompletionResponse>,
    },
    /// A choice was stopped by the content filter (`finish_reason: content_filter`).
    ContentFilter {
        /// The index of the choice.
        choice_index: u32,
        /// The whole response.
        response: Box<CreateChatCompletionResponse>,
    },
    /// A choice has no content, or content that does not parse into `T`
    /// ([`ContentError::NoContent`] or [`ContentError::Json`]).
    Content {
        /// The index of the choice.
        choice_index: u32,
        /// What is wrong with the content.
        error: ContentError,
        /// The content as received.
        content: Option<String>,
    },
}

impl fmt::Display for StructuredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StructuredError::Request(e) => e.fmt(f),
            StructuredError::Schema(e) => e.fmt(f),
            StructuredError::Length { choice_index, .. } => write!(
                f,
                "choice {choice_index} hit the token limit (finish reason `length`); its JSON is incomplete"
            ),
            StructuredError::ContentFilter { choice_index, .. } => write!(
                f,
                "choice {choice_index} was stopped by the content filter (finish reason `content_filter`)"
            ),
            StructuredError::Content {
                choice_index,
                error,
                ..
            } => write!(f, "choice {choice_index}: {error}"),
        }
    }
}

impl std::error::Error for StructuredError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StructuredError::Request(e) => Some(e),
            StructuredError::Schema(e) => Some(e),
            StructuredError::Content { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<Error> for StructuredError {
    fn from(e: Error) -> Self {
        StructuredError::Request(e)
    }
}

impl From<SchemaError> for StructuredError {
    fn from(e: SchemaError) -> Self {
        StructuredError::Schema(e)
    }
}

/// `request` with the strict response format of `T`, unless it has a response format.
fn with_format<T: JsonSchema>(
    request: &CreateChatCompletionRequest,
) -> Result<CreateChatCompletionRequest, SchemaError> {
    let mut request = request.clone();
    if request.response_format.is_none() {
        request.response_format = Some(ResponseFormat::from_type::<T>()?);
    }
    Ok(request)
}

/// Parses every choice of `response`: a refusal is kept, `length`, `content_filter` and
/// content that is not a `T` are errors.
fn parse_choices<T: DeserializeOwned>(
    response: Response<CreateChatCompletionResponse>,
) -> Result<ParsedChatCompletion<T>, StructuredError> {
    let mut choices = Vec::with_capacity(response.choices.len());
    for choice in &response.choices {
        let index = choice.index;
        match choice.parse_content::<T>() {
            Ok(value) => choices.push(ParsedChoice {
                index,
                parsed: Some(value),
                refusal: None,
            }),
            Err(ContentError::Refusal(refusal)) => choices.push(ParsedChoice {
                index,
                parsed: None,
                refusal: Some(refusal),
            }),
            Err(ContentError::Incomplete(reason)) => {
                let response = Box::new(response.into_inner());
                return Err(if reason == FinishReason::ContentFilter {
                    StructuredError::ContentFilter {
                        choice_index: index,
                        response,
                    }
                } else {
                    StructuredError::Length {
                        choice_index: index,
                        response,
                    }
                });
            }
            Err(error) => {
                return Err(StructuredError::Content {
                    choice_index: index,
                    error,
                    content: choice.message.content.clone(),
                })
            }
        }
    }
    Ok(ParsedChatCompletion { response, choices })
}

impl Client {
    /// Creates a chat completion whose answer is a `T` (Structured Outputs).
    ///
    /// When `request` has no `response_format`, the strict JSON Schema of `T` is sent as one
    /// (named after the type: [`ResponseFormat::from_type`]); a format already set is kept.
    /// Every choice is parsed into `T`. A refusal is kept in
    /// [`ParsedChoice::refusal`]; a choice cut off at the token limit, stopped by the
    /// content filter, or whose content is not a `T` fails the call with the matching
    /// [`StructuredError`].
    ///
    /// ```
    /// # async fn run(client: chat_core::Client) -> Result<(), chat_core::StructuredError> {
    /// use chat_core::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    ///
    /// #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    /// struct Capital {
    ///     city: String,
    ///     population: u64,
    /// }
    ///
    /// let request = CreateChatCompletionRequest::new(
    ///     "gpt-4o-mini",
    ///     [Message::user("The capital of France, with its population.")],
    /// );
    /// let answer = client.create_chat_completion_parsed::<Capital>(&request).await?;
    /// match (answer.parsed(), answer.refusal()) {
    ///     (Some(capital), _) => println!("{} ({})", capital.city, capital.population),
    ///     (None, refusal) => println!("refused: {refusal:?}"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_chat_completion_parsed<T: JsonSchema + DeserializeOwned>(
        &self,
        request: &CreateChatCompletionRequest,
    ) -> Result<ParsedChatCompletion<T>, StructuredError> {
        let request = with_format::<T>(request)?;
        let response = self.create_chat_completion(&request).await?;
        parse_choices(response)
    }

    /// Streams a chat completion whose answer is a `T`: the text as it arrives, a snapshot
    /// of the JSON so far after each piece, and the parsed `T` at the end (see
    /// [`ParsedChatCompletionStream`]). The response format is set as in
    /// [`create_chat_completion_parsed`](Client::create_chat_completion_parsed).
    pub async fn create_chat_completion_parsed_stream<T: JsonSchema + DeserializeOwned>(
        &self,
        request: &CreateChatCompletionRequest,
    ) -> Result<ParsedChatCompletionStream<T>, StructuredError> {
        let request = with_format::<T>(request)?;
        let stream = self.create_chat_completion_stream(&request).await?;
        Ok(ParsedChatCompletionStream {
            events: stream.events(),
            texts: Vec::new(),
            _parsed: PhantomData,
        })
    }
}

/// What happened in a streamed structured output: from
/// [`ParsedChatCompletionStream::next`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ParsedEvent<T> {
    /// A piece of a choice's JSON text, with the value it describes so far.
    ContentDelta {
        /// The index of the choice.
        choice_index: u32,
        /// The new text.
        delta: String,
        /// The JSON so far with open strings, arrays and objects closed
        /// ([`PartialJson`]); `None` until enough has arrived. Best effort: a
        /// snapshot need not match `T` yet. Each snapshot parses the text so far, so its
        /// cost grows with the length of the answer.
        snapshot: Option<Value>,
    },
    /// Any other event of the stream (refusal pieces, finish reasons, usage, ...), except
    /// `Completed`, which becomes [`ParsedEvent::Completed`].
    Event(ChatCompletionEvent),
    /// The stream ended: the whole response with each choice parsed. Always the last event.
    Completed(Box<ParsedChatCompletion<T>>),
}

/// A streamed structured output (from
/// [`Client::create_chat_completion_parsed_stream`]): read it with
/// [`next`](ParsedChatCompletionStream::next) until [`ParsedEvent::Completed`].
///
/// ```
/// # async fn run(client: chat_core::Client) -> Result<(), chat_core::StructuredError> {
/// use chat_core::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
/// use chat_core::ParsedEvent;
///
/// #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
/// struct Story {
///     title: String,
///     paragraphs: Vec<String>,
/// }
///
/// let request = CreateChatCompletionRequest::new("gpt-4o-mini", [Message::user("A short story")]);
/// let mut stream = client.create_chat_completion_parsed_stream::<Story>(&request).await?;
/// while let Some(event) = stream.next().await {
///     match event? {
///         ParsedEvent::ContentDelta { snapshot: Some(so_far), .. } => {
///             println!("title so far: {}", so_far["title"]);
///         }
///         ParsedEvent::Completed(done) => println!("{:?}", done.parsed()),
///         _ => {}
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct ParsedChatCompletionStream<T> {
    events: ChatCompletionEventStream,
    /// The text so far of each choice, by index.
    texts: Vec<PartialJson>,
    _parsed: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> ParsedChatCompletionStream<T> {
    /// The next event; `None` after [`ParsedEvent::Completed`] or an error.
    pub async fn next(&mut self) -> Option<Result<ParsedEvent<T>, StructuredError>> {
        let event = match self.events.next().await? {
            Ok(event) => event,
            Err(e) => return Some(Err(e.into())),
        };
        Some(Ok(match event {
            ChatCompletionEvent::ContentDelta {
                choice_index,
                delta,
            } => {
                let slot = choice_index as usize;
                if self.texts.len() <= slot {
                    self.texts.resize_with(slot + 1, PartialJson::new);
                }
                self.texts[slot].push(&delta);
                ParsedEvent::ContentDelta {
                    choice_index,
                    delta,
                    snapshot: self.texts[slot].snapshot(),
                }
            }
            ChatCompletionEvent::Completed(response) => {
                let response = Response::new(*response, self.events.meta().clone());
                return Some(
                    parse_choices(response).map(|done| ParsedEvent::Completed(Box::new(done))),
                );
            }
            other => ParsedEvent::Event(other),
        }))
    }

    /// Reads the stream to its end and returns the parsed completion.
    pub async fn final_completion(mut self) -> Result<ParsedChatCompletion<T>, StructuredError> {
        while let Some(event) = self.next().await {
            if let ParsedEvent::Completed(done) = event? {
                return Ok(*done);
            }
        }
        // Unreachable in practice: a stream that ends without error ends with `Completed`.
        let request_id = self.meta().request_id.clone();
        Err(
            Error::new(crate::ErrorKind::Stream(crate::StreamError::Truncated {
                request_id,
            }))
            .into(),
        )
    }

    /// The status, headers and request id of the response.
    pub fn meta(&self) -> &ResponseMeta {
        self.events.meta()
    }
}

impl<T> fmt::Debug for ParsedChatCompletionStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedChatCompletionStream")
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}
