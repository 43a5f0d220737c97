//! Response bodies: hyper's `Incoming` read frame by frame as chat-core `Body` chunks.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use chat_core::TransportError;
use futures_core::Stream;
use hyper::body::{Body as _, Incoming};

/// Yields the data frames of a response as they arrive; trailers are skipped.
///
/// Dropping it drops the `Incoming`, which makes hyper close (HTTP/1.1) or reset (HTTP/2) the
/// unfinished response instead of returning a half-read connection to the pool.
pub(crate) struct IncomingStream {
    body: Option<Incoming>,
}

impl IncomingStream {
    pub(crate) fn new(body: Incoming) -> Self {
        IncomingStream { body: Some(body) }
    }
}

impl Stream for IncomingStream {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let Some(body) = this.body.as_mut() else {
                return Poll::Ready(None);
            };
            match ready!(Pin::new(body).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if !data.is_empty() => return Poll::Ready(Some(Ok(data))),
                    // Empty data frames and trailers carry nothing for the client.
                    _ => continue,
                },
                Some(Err(e)) => {
                    this.body = None;
                    return Poll::Ready(Some(Err(crate::error::from_body(e))));
                }
                None => {
                    this.body = None;
                    return Poll::Ready(None);
                }
            }
        }
    }
}
