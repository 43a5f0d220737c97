//! A scripted transport for the client tests: canned replies in order, recorded requests.

#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use chat_core::{async_trait, Body, Transport, TransportError, TransportErrorKind};
use futures_core::Stream;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

/// A fake API key that must never show up anywhere but the credential header.
pub const KEY: &str = "sk-test-DISTINCTIVE-7f3a9c";

/// One scripted reply.
#[derive(Debug)]
pub enum Reply {
    /// A response with a status, headers and body chunks.
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        chunks: Vec<Result<Bytes, TransportErrorKind>>,
        /// Whether the body hangs after its chunks instead of ending.
        hang_after: bool,
    },
    /// A transport error instead of a response.
    Fail(TransportErrorKind),
    /// No answer ever.
    Hang,
    /// A reply that comes after a while.
    After(std::time::Duration, Box<Reply>),
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            chunks: vec![Ok(Bytes::copy_from_slice(body.as_bytes()))],
            hang_after: false,
        }
    }

    pub fn bytes(status: u16, content_type: &str, body: &[u8]) -> Reply {
        Reply::Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            chunks: if body.is_empty() {
                vec![]
            } else {
                vec![Ok(Bytes::copy_from_slice(body))]
            },
            hang_after: false,
        }
    }

    pub fn sse(chunks: &[&str]) -> Reply {
        Reply::Response {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            chunks: chunks
                .iter()
                .map(|c| Ok(Bytes::copy_from_slice(c.as_bytes())))
                .collect(),
            hang_after: false,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Response { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// Appends a chunk that fails with `kind` after the other chunks.
    pub fn then_fail(mut self, kind: TransportErrorKind) -> Reply {
        if let Reply::Response { chunks, .. } = &mut self {
            chunks.push(Err(kind));
        }
        self
    }

    /// Makes the body hang after its chunks.
    pub fn after(self, delay: std::time::Duration) -> Reply {
        Reply::After(delay, Box::new(self))
    }

    pub fn then_hang(mut self) -> Reply {
        if let Reply::Response { hang_after, .. } = &mut self {
            *hang_after = true;
        }
        self
    }
}

/// A request the transport received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: tokio::time::Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

#[derive(Debug, Default)]
struct State {
    replies: VecDeque<Reply>,
    requests: Vec<Recorded>,
    unscripted: usize,
}

/// Answers with scripted replies in order and records every request.
#[derive(Debug, Clone, Default)]
pub struct Scripted(Arc<Mutex<State>>);

impl Scripted {
    pub fn new(replies: impl IntoIterator<Item = Reply>) -> Self {
        let s = Scripted::default();
        s.0.lock().unwrap().replies.extend(replies);
        s
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.0.lock().unwrap().requests.clone()
    }

    pub fn request(&self, i: usize) -> Recorded {
        self.requests()[i].clone()
    }

    /// Panics unless every scripted reply was used and no request went unanswered.
    pub fn assert_done(&self) {
        let s = self.0.lock().unwrap();
        assert!(s.replies.is_empty(), "unused replies: {:?}", s.replies);
        assert_eq!(s.unscripted, 0, "requests without a scripted reply");
    }

    /// The gaps between consecutive requests.
    pub fn gaps(&self) -> Vec<std::time::Duration> {
        let r = self.requests();
        r.windows(2).map(|w| w[1].at - w[0].at).collect()
    }
}

#[async_trait]
impl Transport for Scripted {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Body>, TransportError> {
        let reply = {
            let mut s = self.0.lock().unwrap();
            s.requests.push(Recorded {
                method: request.method().clone(),
                uri: request.uri().to_string(),
                headers: request.headers().clone(),
                body: request.body().clone(),
                at: tokio::time::Instant::now(),
            });
            let reply = s.replies.pop_front();
            if reply.is_none() {
                s.unscripted += 1;
            }
            reply
        };
        let mut reply = reply;
        while let Some(Reply::After(delay, inner)) = reply {
            tokio::time::sleep(delay).await;
            reply = Some(*inner);
        }
        match reply {
            None => Err(TransportError::new(
                TransportErrorKind::Other,
                "no scripted reply",
            )),
            Some(Reply::Fail(kind)) => Err(TransportError::new(kind, "scripted failure")),
            Some(Reply::Hang) => std::future::pending().await,
            Some(Reply::After(..)) => unreachable!("unwrapped above"),
            Some(Reply::Response {
                status,
                headers,
                chunks,
                hang_after,
            }) => {
                let mut response = http::Response::new(Body::from_stream(Chunks {
                    chunks: chunks.into(),
                    hang_after,
                }));
                *response.status_mut() = StatusCode::from_u16(status).unwrap();
                for (n, v) in headers {
                    response.headers_mut().append(
                        http::HeaderName::try_from(n).unwrap(),
                        HeaderValue::try_from(v).unwrap(),
                    );
                }
                Ok(response)
            }
        }
    }
}

struct Chunks {
    chunks: VecDeque<Result<Bytes, TransportErrorKind>>,
    hang_after: bool,
}

impl Stream for Chunks {
    type Item = Result<Bytes, TransportError>;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.chunks.pop_front() {
            Some(Ok(b)) => Poll::Ready(Some(Ok(b))),
            Some(Err(kind)) => Poll::Ready(Some(Err(TransportError::new(
                kind,
                "scripted body failure",
            )))),
            None if self.hang_after => Poll::Pending,
            None => Poll::Ready(None),
        }
    }
}

/// A minimal valid chat completion.
pub fn completion(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{{"index":0,"message":{{"role":"assistant","content":"hi"}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}}}"#
    )
}

/// A request for the tests.
pub fn request() -> chat_core::types::CreateChatCompletionRequest {
    chat_core::types::CreateChatCompletionRequest::new("gpt-4o", [])
}

/// A config with the fake key, a loopback base URL and no jitter-sensitive settings changed.
pub fn config() -> chat_core::Config {
    chat_core::Config::new()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9/v1")
}
