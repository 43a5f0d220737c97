//! Response bodies: hyper's `Incoming` read frame by frame as chat-core `Body` chunks.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use chat_core::TransportError;
use futures_core::Stream;
use hyper::body::{Body as _, Incoming};

use crate::pool::Lease;

/// Yields the data frames of a response as they arrive; trailers are skipped.
///
/// Dropping it drops the `Incoming`, which makes hyper close (HTTP/1.1) or reset (HTTP/2) the
/// unfinished response instead of returning a half-read connection to the pool.
///
/// It holds the [`Lease`] of its HTTP/2 stream, if any, until the body ends or is dropped.
pub(crate) struct IncomingStream {
    body: Option<Incoming>,
    lease: Option<Lease>,
}

impl IncomingStream {
    pub(crate) fn new(body: Incoming, lease: Option<Lease>) -> Self {
        IncomingStream {
            body: Some(body),
            lease,
        }
    }

    fn finish(&mut self) {
        self.body = None;
        self.lease = None;
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
                    this.finish();
                    return Poll::Ready(Some(Err(crate::error::from_body(e))));
                }
                None => {
                    this.finish();
                    return Poll::Ready(None);
                }
            }
        }
    }
}
