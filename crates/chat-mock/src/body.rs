//! The scripted response body: chunks, pauses on the tokio clock, and faults.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use chat_core::{Body, TransportError, TransportErrorKind};
use futures_core::Stream;

/// One step of a scripted body.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Deliver a chunk.
    Chunk(Bytes),
    /// Wait on the tokio clock (skipped instantly when time is paused).
    Sleep(Duration),
    /// Fail the body with a transport error; nothing follows.
    Fail(TransportErrorKind, String),
    /// Never deliver anything again.
    Hang,
}

/// Turns `steps` into a [`Body`]: a whole buffer when it is one chunk, a stream otherwise.
pub(crate) fn body_from_steps(mut steps: Vec<Step>) -> Body {
    match steps.as_slice() {
        [] => Body::empty(),
        [Step::Chunk(_)] => match steps.pop() {
            Some(Step::Chunk(b)) => Body::full(b),
            _ => Body::empty(),
        },
        _ => Body::from_stream(ScriptedBody {
            steps: steps.into(),
            sleep: None,
        }),
    }
}

/// Chunks with pauses between them, then an optional fault.
pub(crate) struct ScriptedBody {
    steps: VecDeque<Step>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Stream for ScriptedBody {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(sleep) = &mut this.sleep {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.sleep = None;
            }
            match this.steps.pop_front() {
                None => return Poll::Ready(None),
                Some(Step::Chunk(b)) => return Poll::Ready(Some(Ok(b))),
                Some(Step::Sleep(d)) => this.sleep = Some(Box::pin(tokio::time::sleep(d))),
                Some(Step::Fail(kind, message)) => {
                    this.steps.clear();
                    return Poll::Ready(Some(Err(TransportError::new(kind, message))));
                }
                Some(Step::Hang) => {
                    // Nothing will ever wake this body: the reader's timeout decides.
                    this.steps.push_front(Step::Hang);
                    return Poll::Pending;
                }
            }
        }
    }
}

/// Steps delivering `chunks` with `delay` between consecutive chunks, then `end`.
pub(crate) fn steps_for(
    chunks: Vec<Bytes>,
    delay: Option<Duration>,
    end: Option<Step>,
) -> Vec<Step> {
    let mut steps = Vec::with_capacity(chunks.len() * 2 + 1);
    for (i, chunk) in chunks.into_iter().enumerate() {
        if i > 0 {
            if let Some(d) = delay {
                steps.push(Step::Sleep(d));
            }
        }
        steps.push(Step::Chunk(chunk));
    }
    if let Some(end) = end {
        if let (Some(d), false) = (delay, steps.is_empty()) {
            steps.push(Step::Sleep(d));
        }
        steps.push(end);
    }
    steps
}

/// Joins `chunks` and cuts the bytes again into pieces of `size` bytes.
pub(crate) fn resplit(chunks: Vec<Bytes>, size: usize) -> Vec<Bytes> {
    let size = size.max(1);
    let all: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
    let all = Bytes::from(all);
    (0..all.len())
        .step_by(size)
        .map(|start| all.slice(start..(start + size).min(all.len())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn delays_run_on_the_paused_clock_and_faults_end_the_body() {
        let start = tokio::time::Instant::now();
        let steps = steps_for(
            vec![Bytes::from("a"), Bytes::from("b")],
            Some(Duration::from_secs(30)),
            Some(Step::Fail(TransportErrorKind::Io, "reset".into())),
        );
        let mut body = body_from_steps(steps);
        assert_eq!(body.chunk().await.unwrap().unwrap(), "a");
        assert_eq!(body.chunk().await.unwrap().unwrap(), "b");
        let err = body.chunk().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Io);
        assert!(body.chunk().await.is_none());
        assert_eq!(start.elapsed(), Duration::from_secs(60));
    }

    #[test]
    fn resplit_cuts_across_chunk_boundaries() {
        let out = resplit(vec![Bytes::from("abc"), Bytes::from("de")], 2);
        assert_eq!(
            out,
            vec![Bytes::from("ab"), Bytes::from("cd"), Bytes::from("e")]
        );
    }
}
