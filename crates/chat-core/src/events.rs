//! An event view of a streamed chat completion for user interfaces:
//! [`ChatCompletionEvent`] and [`ChatCompletionEventStream`].

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use chat_types::{
    ChatCompletionMessageToolCalls, CompletionUsage, CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse, FinishReason,
};
use futures_core::Stream;

use crate::accumulate::Change;
use crate::{ChatCompletionAccumulator, ChatCompletionStream, Error, ResponseMeta};

/// Something that happened in a streamed chat completion.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChatCompletionEvent {
    /// A piece of a choice's text (never empty).
    ContentDelta {
        /// The index of the choice.
        choice_index: u32,
        /// The new text.
        delta: String,
    },
    /// A choice's text is complete.
    ContentDone {
        /// The index of the choice.
        choice_index: u32,
        /// The whole text.
        content: String,
    },
    /// A piece of a choice's refusal (never empty).
    RefusalDelta {
        /// The index of the choice.
        choice_index: u32,
        /// The new text.
        delta: String,
    },
    /// A choice's refusal is complete.
    RefusalDone {
        /// The index of the choice.
        choice_index: u32,
        /// The whole refusal.
        refusal: String,
    },
    /// A tool call started or its arguments grew.
    ///
    /// Sent for the first piece of a call (possibly with an empty `delta`, so the name is
    /// known early) and for every later piece that adds to the arguments.
    ToolCallArgumentsDelta {
        /// The index of the choice.
        choice_index: u32,
        /// The `index` of the tool call within the choice.
        tool_index: u32,
        /// The id of the call, as far as known (empty until it arrives).
        id: String,
        /// The function name, as far as known (empty until it arrives).
        name: String,
        /// The new piece of the arguments JSON text (the input of a custom tool call).
        delta: String,
    },
    /// A tool call is complete.
    ToolCallDone {
        /// The index of the choice.
        choice_index: u32,
        /// The `index` of the tool call within the choice.
        tool_index: u32,
        /// The whole call.
        call: ChatCompletionMessageToolCalls,
    },
    /// A choice finished.
    Finish {
        /// The index of the choice.
        choice_index: u32,
        /// Why the model stopped.
        reason: FinishReason,
    },
    /// The token usage, from the chunk that carries it.
    Usage(CompletionUsage),
    /// The stream ended; the response assembled from all chunks. Always the last event.
    Completed(Box<CreateChatCompletionResponse>),
}

/// What the event view already told about one choice.
#[derive(Debug, Default)]
struct Progress {
    /// The slot of the tool call receiving pieces.
    open_tool: Option<usize>,
    /// Which tool call slots had their `ToolCallDone`.
    tools_done: Vec<bool>,
    content_done: bool,
    refusal_done: bool,
}

/// A [`Stream`] of [`ChatCompletionEvent`]s over a [`ChatCompletionStream`] (from
/// [`ChatCompletionStream::events`]): text deltas as they arrive, a tool call once it is
/// complete, the finish reason of each choice, the usage, and at the end the whole response.
///
/// Order of events: deltas in the order of the chunks. When a choice finishes, its
/// `ContentDone` (if it produced text), `RefusalDone` (if it refused) and the
/// `ToolCallDone`s still open come before its `Finish`. A tool call is also done when the
/// next tool call of the same choice starts. When the body ends, the done events of choices
/// that never finished follow, and the last event of a successful stream is always
/// [`Completed`](ChatCompletionEvent::Completed) with the assembled response. An error
/// ends the stream without `Completed`.
///
/// ```
/// use chat_core::{Body, ChatCompletionEvent, ChatCompletionStream, ResponseMeta, StreamConfig};
///
/// # async fn run() -> Result<(), chat_core::Error> {
/// let body = Body::from(
///     "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n\
///      data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
///      data: [DONE]\n\n",
/// );
/// let stream = ChatCompletionStream::new(body, StreamConfig::default(), ResponseMeta::default());
/// let mut events = stream.events();
/// while let Some(event) = events.next().await {
///     match event? {
///         ChatCompletionEvent::ContentDelta { delta, .. } => print!("{delta}"),
///         ChatCompletionEvent::Completed(response) => {
///             assert_eq!(response.first_content(), Some("Hi"));
///         }
///         _ => {}
///     }
/// }
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
/// ```
pub struct ChatCompletionEventStream {
    stream: ChatCompletionStream,
    acc: ChatCompletionAccumulator,
    queue: VecDeque<ChatCompletionEvent>,
    progress: BTreeMap<u32, Progress>,
    /// Reused buffer for what each chunk changed.
    changes: Vec<Change>,
    ended: bool,
    /// Chunks were read before the events: reported as the first (and only) event.
    misuse: Option<Error>,
}

impl ChatCompletionEventStream {
    /// The events of `stream`.
    pub fn new(stream: ChatCompletionStream) -> Self {
        ChatCompletionEventStream {
            misuse: stream.already_read("the event stream"),
            stream,
            acc: ChatCompletionAccumulator::new(),
            queue: VecDeque::new(),
            progress: BTreeMap::new(),
            changes: Vec::new(),
            ended: false,
        }
    }

    /// The next event; `None` after [`Completed`](ChatCompletionEvent::Completed) or an
    /// error.
    pub async fn next(&mut self) -> Option<Result<ChatCompletionEvent, Error>> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The chunks merged so far; call [`snapshot`](ChatCompletionAccumulator::snapshot) for
    /// the response up to now. Empty once the `Completed` event has taken the response.
    pub fn accumulator(&self) -> &ChatCompletionAccumulator {
        &self.acc
    }

    /// The status, headers and request id of the response.
    pub fn meta(&self) -> &ResponseMeta {
        self.stream.meta()
    }

    /// Polls for the next event.
    pub fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<ChatCompletionEvent, Error>>> {
        if let Some(e) = self.misuse.take() {
            self.ended = true;
            return Poll::Ready(Some(Err(e)));
        }
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            if self.ended {
                return Poll::Ready(None);
            }
            match ready!(self.stream.poll_chunk(cx)) {
                Some(Ok(chunk)) => self.on_chunk(chunk),
                Some(Err(e)) => {
                    self.ended = true;
                    return Poll::Ready(Some(Err(e)));
                }
                None => {
                    self.ended = true;
                    self.on_end();
                }
            }
        }
    }

    fn on_chunk(&mut self, chunk: CreateChatCompletionStreamResponse) {
        let mut changes = std::mem::take(&mut self.changes);
        changes.clear();
        self.acc.push_logged(chunk, Some(&mut changes));
        for change in changes.drain(..) {
            self.on_change(change);
        }
        self.changes = changes;
    }

    fn on_change(&mut self, change: Change) {
        match change {
            Change::Content { choice, start, end } => {
                let Some(text) = self.acc.choice(choice).and_then(|c| c.content.as_deref()) else {
                    return;
                };
                self.queue.push_back(ChatCompletionEvent::ContentDelta {
                    choice_index: choice,
                    delta: text.get(start..end).unwrap_or_default().to_owned(),
                });
            }
            Change::Refusal { choice, start, end } => {
                let Some(text) = self.acc.choice(choice).and_then(|c| c.refusal.as_deref()) else {
                    return;
                };
                self.queue.push_back(ChatCompletionEvent::RefusalDelta {
                    choice_index: choice,
                    delta: text.get(start..end).unwrap_or_default().to_owned(),
                });
            }
            Change::ToolCall {
                choice,
                slot,
                start,
                end,
                new,
            } => {
                let open = self.progress.entry(choice).or_default().open_tool;
                if let Some(open) = open.filter(|&open| open != slot) {
                    self.close_tool(choice, open);
                }
                self.progress.entry(choice).or_default().open_tool = Some(slot);
                let Some(call) = self.acc.choice(choice).and_then(|c| c.tool_calls.get(slot))
                else {
                    return;
                };
                if new || end > start {
                    self.queue
                        .push_back(ChatCompletionEvent::ToolCallArgumentsDelta {
                            choice_index: choice,
                            tool_index: call.index,
                            id: call.id.clone(),
                            name: call.name.clone(),
                            delta: call
                                .arguments
                                .get(start..end)
                                .unwrap_or_default()
                                .to_owned(),
                        });
                }
            }
            Change::Finished { choice } => {
                self.close_choice(choice);
                if let Some(reason) = self
                    .acc
                    .choice(choice)
                    .and_then(|c| c.finish_reason.clone())
                {
                    self.queue.push_back(ChatCompletionEvent::Finish {
                        choice_index: choice,
                        reason,
                    });
                }
            }
            Change::Usage => {
                if let Some(usage) = self.acc.usage() {
                    self.queue
                        .push_back(ChatCompletionEvent::Usage(usage.clone()));
                }
            }
        }
    }

    /// Sends the done events of a choice not sent yet.
    fn close_choice(&mut self, choice: u32) {
        let Some(state) = self.acc.choice(choice) else {
            return;
        };
        let progress = self.progress.entry(choice).or_default();
        if !progress.content_done {
            if let Some(content) = state.content.as_ref().filter(|c| !c.is_empty()) {
                progress.content_done = true;
                self.queue.push_back(ChatCompletionEvent::ContentDone {
                    choice_index: choice,
                    content: content.clone(),
                });
            }
        }
        if !progress.refusal_done {
            if let Some(refusal) = state.refusal.as_ref().filter(|r| !r.is_empty()) {
                progress.refusal_done = true;
                self.queue.push_back(ChatCompletionEvent::RefusalDone {
                    choice_index: choice,
                    refusal: refusal.clone(),
                });
            }
        }
        for slot in 0..state.tool_calls.len() {
            self.close_tool(choice, slot);
        }
    }

    /// Sends the `ToolCallDone` of a tool call, once.
    fn close_tool(&mut self, choice: u32, slot: usize) {
        let progress = self.progress.entry(choice).or_default();
        if progress.tools_done.len() <= slot {
            progress.tools_done.resize(slot + 1, false);
        }
        if progress.tools_done[slot] {
            return;
        }
        progress.tools_done[slot] = true;
        if progress.open_tool == Some(slot) {
            progress.open_tool = None;
        }
        let Some(state) = self.acc.choice(choice) else {
            return;
        };
        if let (Some(piece), Some(call)) = (state.tool_calls.get(slot), state.tool_call(slot)) {
            self.queue.push_back(ChatCompletionEvent::ToolCallDone {
                choice_index: choice,
                tool_index: piece.index,
                call,
            });
        }
    }

    /// The body ended cleanly: close what is open and hand out the response.
    fn on_end(&mut self) {
        let indexes: Vec<u32> = self.acc.choices().iter().map(|c| c.index).collect();
        for choice in indexes {
            self.close_choice(choice);
        }
        let response = std::mem::take(&mut self.acc).finish();
        self.queue
            .push_back(ChatCompletionEvent::Completed(Box::new(response)));
    }
}

impl Stream for ChatCompletionEventStream {
    type Item = Result<ChatCompletionEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_event(cx)
    }
}

impl fmt::Debug for ChatCompletionEventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatCompletionEventStream")
            .field("stream", &self.stream)
            .field("queued", &self.queue.len())
            .field("ended", &self.ended)
            .finish()
    }
}
