//! The operations of the Chat Completions API, raw requests and pagination.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use chat_types::{
    ChatCompletionDeleted, ChatCompletionList, ChatCompletionMessageList,
    ChatCompletionMessageListItem, CreateChatCompletionRequest, CreateChatCompletionResponse,
    ListChatCompletionMessagesParams, ListChatCompletionsParams, Metadata,
    UpdateChatCompletionRequest,
};
use futures_core::Stream;
use http::{HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::client::{decode_json, Call, Read, Reply, ReplyBody, COMPLETIONS};
use crate::url::encode_segment;
use crate::{
    Body, ChatCompletionStream, Client, Error, RequestOptions, Response, ResponseMeta, StreamConfig,
};

const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

/// A response whose body was not read: the escape hatch of [`Client::send_raw`].
#[derive(Debug)]
#[non_exhaustive]
pub struct RawResponse {
    /// The HTTP status (always 2xx: other statuses are errors).
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body, unread.
    pub body: Body,
    /// How many attempts were made.
    pub attempts: u32,
}

impl Client {
    /// Creates a chat completion (`POST /chat/completions`).
    ///
    /// `request.stream` must not be `true`: use
    /// [`create_chat_completion_stream`](Client::create_chat_completion_stream) for that.
    pub async fn create_chat_completion(
        &self,
        request: &CreateChatCompletionRequest,
    ) -> Result<Response<CreateChatCompletionResponse>, Error> {
        if request.stream == Some(true) {
            return Err(Error::invalid_config(
                "`stream: true` needs create_chat_completion_stream",
            ));
        }
        let body = to_json(request)?;
        let reply = self.execute(create_call(request, body, Read::Full)).await?;
        let span = reply.span.clone();
        let response = self.decode_reply::<CreateChatCompletionResponse>(reply)?;
        span.record_usage(
            response.id.as_deref().unwrap_or_default(),
            response
                .usage
                .as_ref()
                .map(|u| (u.prompt_tokens, u.completion_tokens)),
        );
        Ok(response)
    }

    /// Creates a chat completion as a stream of chunks (`POST /chat/completions` with
    /// `stream: true`).
    ///
    /// The request is sent as given with `stream` set to `true`; `stream_options` (such as
    /// `include_usage`) are kept. This returns once the first bytes of the event stream
    /// arrived; until then failures are retried like any other request (nothing has been
    /// handed out yet), and the per-attempt timeout and the overall deadline apply. Once the
    /// stream is returned its errors are final, and
    /// [`Config::stream_idle_timeout`](crate::Config::stream_idle_timeout) bounds the gaps
    /// between chunks. [`Config::stream_deadline`](crate::Config::stream_deadline), when set,
    /// bounds the whole of it, from this call on.
    pub async fn create_chat_completion_stream(
        &self,
        request: &CreateChatCompletionRequest,
    ) -> Result<ChatCompletionStream, Error> {
        let body = stream_body(request)?;
        let config = self.config();
        let started = tokio::time::Instant::now();
        let stream_deadline = self
            .options()
            .and_then(|o| o.stream_deadline)
            .unwrap_or(config.stream_deadline);
        // `execute` bounds getting the stream by the same deadline, from the same start.
        let reply = self
            .execute(create_call(request, body, Read::EventStream))
            .await?;
        let idle = self
            .options()
            .and_then(|o| o.stream_idle_timeout)
            .unwrap_or(config.stream_idle_timeout);
        let stream_config = StreamConfig::new()
            .max_event_size(config.max_event_bytes)
            .idle_timeout(idle)
            .deadline(stream_deadline)
            .started(started);
        let meta = ResponseMeta::from_head(reply.head.status, reply.head.headers, reply.attempts);
        let stream = match reply.body {
            // The first chunk goes straight to the decoder: no wrapper on the hot path.
            ReplyBody::EventStream(Some(first), body) => {
                ChatCompletionStream::new(body, stream_config, meta).with_first_chunk(first)
            }
            other => ChatCompletionStream::new(other.into_body(), stream_config, meta),
        };
        Ok(stream.with_span(reply.span))
    }

    /// Lists stored chat completions, one page (`GET /chat/completions`).
    pub async fn list_chat_completions(
        &self,
        params: &ListChatCompletionsParams,
    ) -> Result<Response<ChatCompletionList>, Error> {
        self.fetch_json(
            "chat.completions.list",
            COMPLETIONS,
            params.to_query_pairs(),
            params.model.as_deref(),
        )
        .await
    }

    /// All stored chat completions from `params` on, fetching pages as the stream is read
    /// (following `after` = the last id while `has_more`).
    pub fn list_chat_completions_stream(
        &self,
        params: &ListChatCompletionsParams,
    ) -> Paginated<CreateChatCompletionResponse> {
        let client = self.clone();
        let params = params.clone();
        Paginated::new(
            params.after.clone(),
            Box::new(move |after| {
                let client = client.clone();
                let mut params = params.clone();
                params.after = after;
                Box::pin(async move {
                    let page = client.list_chat_completions(&params).await?.into_inner();
                    let fallback = page.data.last().and_then(|c| c.id.clone());
                    Ok(PageItems {
                        items: page.data,
                        has_more: page.has_more,
                        last_id: page.last_id.or(fallback),
                    })
                })
            }),
        )
    }

    /// Gets a stored chat completion (`GET /chat/completions/{completion_id}`).
    pub async fn get_chat_completion(
        &self,
        completion_id: &str,
    ) -> Result<Response<CreateChatCompletionResponse>, Error> {
        let path = completion_path(completion_id, "")?;
        self.fetch_json("chat.completions.retrieve", path, Vec::new(), None)
            .await
    }

    /// Replaces the metadata of a stored chat completion
    /// (`POST /chat/completions/{completion_id}`); `None` clears it.
    pub async fn update_chat_completion(
        &self,
        completion_id: &str,
        metadata: impl Into<Option<Metadata>>,
    ) -> Result<Response<CreateChatCompletionResponse>, Error> {
        let path = completion_path(completion_id, "")?;
        let body = UpdateChatCompletionRequest {
            metadata: metadata.into(),
            extra: Default::default(),
        };
        self.json_call(
            Scope::Resource,
            "chat.completions.update",
            Method::POST,
            path,
            Vec::new(),
            Some(to_json(&body)?),
            None,
        )
        .await
    }

    /// Deletes a stored chat completion (`DELETE /chat/completions/{completion_id}`).
    pub async fn delete_chat_completion(
        &self,
        completion_id: &str,
    ) -> Result<Response<ChatCompletionDeleted>, Error> {
        let path = completion_path(completion_id, "")?;
        self.json_call(
            Scope::Resource,
            "chat.completions.delete",
            Method::DELETE,
            path,
            Vec::new(),
            None,
            None,
        )
        .await
    }

    /// Lists the messages of a stored chat completion, one page
    /// (`GET /chat/completions/{completion_id}/messages`).
    pub async fn list_chat_completion_messages(
        &self,
        completion_id: &str,
        params: &ListChatCompletionMessagesParams,
    ) -> Result<Response<ChatCompletionMessageList>, Error> {
        let path = completion_path(completion_id, "/messages")?;
        self.fetch_json(
            "chat.completions.messages.list",
            path,
            params.to_query_pairs(),
            None,
        )
        .await
    }

    /// All messages of a stored chat completion from `params` on, fetching pages as the
    /// stream is read.
    pub fn list_chat_completion_messages_stream(
        &self,
        completion_id: &str,
        params: &ListChatCompletionMessagesParams,
    ) -> Paginated<ChatCompletionMessageListItem> {
        let client = self.clone();
        let params = params.clone();
        let id = completion_id.to_owned();
        Paginated::new(
            params.after.clone(),
            Box::new(move |after| {
                let client = client.clone();
                let id = id.clone();
                let mut params = params.clone();
                params.after = after;
                Box::pin(async move {
                    let page = client
                        .list_chat_completion_messages(&id, &params)
                        .await?
                        .into_inner();
                    let fallback = page.data.last().map(|m| m.id.clone());
                    Ok(PageItems {
                        items: page.data,
                        has_more: page.has_more,
                        last_id: page.last_id.or(fallback),
                    })
                })
            }),
        )
    }

    /// Sends any request through the client's configuration, credentials, middleware and
    /// retries, and returns the response with its body unread.
    ///
    /// `path` is appended to the base URL as given (percent-encode it yourself), or is used
    /// as is when it is an absolute `http(s)://` URL (the credential goes there too: never
    /// pass a URL from untrusted input). `options` apply on top of the client's.
    /// Non-2xx statuses are returned as [`ErrorKind::Api`](crate::ErrorKind::Api) errors. The
    /// per-attempt timeout covers the wait for the response head.
    ///
    /// ```
    /// # async fn demo(client: chat_core::Client) -> Result<(), chat_core::Error> {
    /// use chat_core::RequestOptions;
    ///
    /// let models = client
    ///     .send_raw(http::Method::GET, "/models", None::<&()>, &RequestOptions::new())
    ///     .await?;
    /// let bytes = models.body.collect(1 << 20).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_raw<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        options: &RequestOptions,
    ) -> Result<RawResponse, Error> {
        let client = self.with_options(options.clone());
        let body = body.map(to_json).transpose()?;
        let reply = client
            .execute(Call {
                operation: "raw",
                method,
                path: Cow::Owned(path.to_owned()),
                query: Vec::new(),
                body,
                accept: JSON,
                model: None,
                read: Read::Head,
                deployment_scoped: true,
            })
            .await?;
        Ok(RawResponse {
            status: reply.head.status,
            headers: reply.head.headers,
            body: reply.body.into_body(),
            attempts: reply.attempts,
        })
    }

    /// Posts `body` as JSON to `path` (relative to the base URL, percent-encoded by the
    /// caller) and decodes the JSON answer, for endpoints this crate does not model.
    pub async fn post_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Response<T>, Error> {
        self.json_call(
            Scope::Deployment,
            "raw",
            Method::POST,
            path.to_owned(),
            Vec::new(),
            Some(to_json(body)?),
            None,
        )
        .await
    }

    /// Gets `path` (relative to the base URL, percent-encoded by the caller) and decodes the
    /// JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<Response<T>, Error> {
        self.json_call(
            Scope::Deployment,
            "raw",
            Method::GET,
            path.to_owned(),
            Vec::new(),
            None,
            None,
        )
        .await
    }

    async fn fetch_json<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: impl Into<Cow<'static, str>>,
        query: Vec<(String, String)>,
        model: Option<&str>,
    ) -> Result<Response<T>, Error> {
        self.json_call(
            Scope::Resource,
            operation,
            Method::GET,
            path,
            query,
            None,
            model,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn json_call<T: DeserializeOwned>(
        &self,
        scope: Scope,
        operation: &'static str,
        method: Method,
        path: impl Into<Cow<'static, str>>,
        query: Vec<(String, String)>,
        body: Option<Bytes>,
        model: Option<&str>,
    ) -> Result<Response<T>, Error> {
        let reply = self
            .execute(Call {
                operation,
                method,
                path: path.into(),
                query,
                body,
                accept: JSON,
                model,
                read: Read::Full,
                deployment_scoped: scope == Scope::Deployment,
            })
            .await?;
        self.decode_reply(reply)
    }

    /// Decodes the JSON body of `reply`; a decode error also goes to the middleware.
    fn decode_reply<T: DeserializeOwned>(&self, reply: Reply) -> Result<Response<T>, Error> {
        let Reply {
            head,
            body,
            attempts,
            ctx,
            ..
        } = reply;
        let bytes = match &body {
            ReplyBody::Full(bytes) => &bytes[..],
            // Not asked for by the JSON operations.
            ReplyBody::Head(_) | ReplyBody::EventStream(..) => &[],
        };
        match decode_json::<T>(bytes, head.status, &head.headers) {
            Ok(data) => Ok(Response::new(
                data,
                ResponseMeta::from_head(head.status, head.headers, attempts),
            )),
            Err(e) => {
                let e = e.with_attempts(attempts);
                self.notify_error(&e, &ctx);
                Err(e)
            }
        }
    }
}

/// The call that creates a chat completion, streamed or not.
fn create_call(request: &CreateChatCompletionRequest, body: Bytes, read: Read) -> Call<'_> {
    Call {
        operation: "chat.completions.create",
        method: Method::POST,
        path: Cow::Borrowed(COMPLETIONS),
        query: Vec::new(),
        body: Some(body),
        accept: if read == Read::EventStream {
            EVENT_STREAM
        } else {
            JSON
        },
        model: Some(request.model.as_str()),
        read,
        deployment_scoped: true,
    }
}

/// The first buffer of a request body: a typical request fits, where `serde_json::to_vec`'s
/// 128 bytes grow three times on the way to a kilobyte.
const BODY_CAPACITY: usize = 1024;

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, Error> {
    let mut buf = Vec::with_capacity(BODY_CAPACITY);
    serde_json::to_writer(&mut buf, value)
        .map_err(|e| Error::invalid_config(format!("the request cannot be serialized: {e}")))?;
    Ok(Bytes::from(buf))
}

/// The request serialized with `"stream": true`, without cloning it.
fn stream_body(request: &CreateChatCompletionRequest) -> Result<Bytes, Error> {
    const PREFIX: &[u8] = br#"{"stream":true"#;
    match request.stream {
        Some(true) => to_json(request),
        None => {
            // Serialize after the prefix, then turn the request's own `{` into `,` (or drop it
            // for an empty object). `stream` is absent from the request, so no key repeats.
            let mut buf = Vec::with_capacity(BODY_CAPACITY);
            buf.extend_from_slice(PREFIX);
            serde_json::to_writer(&mut buf, request).map_err(|e| {
                Error::invalid_config(format!("the request cannot be serialized: {e}"))
            })?;
            let at = PREFIX.len();
            if buf.get(at) != Some(&b'{') {
                return Err(Error::invalid_config("the request is not a JSON object"));
            }
            if buf.get(at + 1) == Some(&b'}') {
                buf.remove(at);
            } else {
                buf[at] = b',';
            }
            Ok(Bytes::from(buf))
        }
        Some(false) => {
            let mut copy = request.clone();
            copy.stream = Some(true);
            to_json(&copy)
        }
    }
}

fn completion_path(completion_id: &str, suffix: &str) -> Result<String, Error> {
    if completion_id.is_empty() {
        return Err(Error::invalid_config("the completion id is empty"));
    }
    Ok(format!(
        "{COMPLETIONS}/{}{suffix}",
        encode_segment(completion_id)
    ))
}

/// Which base URL a path is relative to (they differ on Azure only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The deployment: creating completions, raw requests.
    Deployment,
    /// The resource: stored completions.
    Resource,
}

/// One page as the paginator needs it.
struct PageItems<T> {
    items: Vec<T>,
    has_more: bool,
    last_id: Option<String>,
}

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<PageItems<T>, Error>> + Send>>;
type FetchPage<T> = Box<dyn Fn(Option<String>) -> PageFuture<T> + Send + Sync>;

/// The items of a paginated list, fetched page by page as the stream is read.
///
/// Yields each item, then `None` after the last page. An error ends the stream. It stops
/// rather than loops when a server reports more pages without a new cursor.
pub struct Paginated<T> {
    items: std::vec::IntoIter<T>,
    pending: Option<PageFuture<T>>,
    next_cursor: Option<String>,
    last_cursor: Option<String>,
    fetch: FetchPage<T>,
}

// No field is pinned structurally: the page future is boxed.
impl<T> Unpin for Paginated<T> {}

impl<T> Paginated<T> {
    fn new(after: Option<String>, fetch: FetchPage<T>) -> Self {
        let first = fetch(after.clone());
        Paginated {
            items: Vec::new().into_iter(),
            pending: Some(first),
            next_cursor: None,
            last_cursor: after,
            fetch,
        }
    }

    /// The next item; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Reads every remaining item.
    pub async fn try_collect(mut self) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        while let Some(item) = self.next().await {
            out.push(item?);
        }
        Ok(out)
    }
}

impl<T> Stream for Paginated<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.items.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            if let Some(fut) = this.pending.as_mut() {
                let page = match fut.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(page) => page,
                };
                this.pending = None;
                match page {
                    Err(e) => {
                        this.next_cursor = None;
                        return Poll::Ready(Some(Err(e)));
                    }
                    Ok(page) => {
                        this.items = page.items.into_iter();
                        this.next_cursor = match page.last_id {
                            Some(id) if page.has_more && Some(&id) != this.last_cursor.as_ref() => {
                                Some(id)
                            }
                            _ => None,
                        };
                    }
                }
                continue;
            }
            match this.next_cursor.take() {
                Some(cursor) => {
                    this.pending = Some((this.fetch)(Some(cursor.clone())));
                    this.last_cursor = Some(cursor);
                }
                None => return Poll::Ready(None),
            }
        }
    }
}

impl<T> fmt::Debug for Paginated<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paginated")
            .field("buffered", &self.items.len())
            .field("fetching", &self.pending.is_some())
            .field("next_cursor", &self.next_cursor)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_types::ChatCompletionStreamOptions;

    fn req() -> CreateChatCompletionRequest {
        CreateChatCompletionRequest::new("gpt-4o", [])
    }

    #[test]
    fn stream_body_sets_stream_and_keeps_options() {
        let mut r = req();
        r.stream_options = Some(ChatCompletionStreamOptions {
            include_usage: Some(true),
            ..Default::default()
        });
        for stream in [None, Some(false), Some(true)] {
            r.stream = stream;
            let body = stream_body(&r).unwrap();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["stream"], true, "{stream:?}");
            assert_eq!(v["model"], "gpt-4o");
            assert_eq!(v["stream_options"]["include_usage"], true);
            let text = std::str::from_utf8(&body).unwrap();
            assert_eq!(text.matches("\"stream\"").count(), 1, "{text}");
        }
    }

    #[test]
    fn completion_paths_are_encoded() {
        assert_eq!(
            completion_path("a/b c", "/messages").unwrap(),
            "/chat/completions/a%2Fb%20c/messages"
        );
        assert!(completion_path("", "").is_err());
    }
}
