//! Spans for operations and attempts (feature `tracing`); no-ops without the feature.
//!
//! Field names follow the OpenTelemetry HTTP and GenAI semantic conventions. Spans never carry
//! the credential, headers or message content.

use std::future::Future;

use http::Method;

#[cfg(feature = "tracing")]
mod imp {
    use super::*;
    use tracing::field::Empty;
    use tracing::Instrument;

    /// The span of one operation.
    #[derive(Debug, Clone)]
    pub(crate) struct OpSpan(tracing::Span);

    /// The span of one attempt.
    #[derive(Debug, Clone)]
    pub(crate) struct AttemptSpan(tracing::Span);

    impl OpSpan {
        pub(crate) fn new(
            operation: &'static str,
            method: &Method,
            path: &str,
            model: Option<&str>,
        ) -> Self {
            let span = tracing::info_span!(
                "chat_core.operation",
                otel.name = operation,
                gen_ai.system = "openai",
                gen_ai.operation.name = Empty,
                gen_ai.request.model = Empty,
                gen_ai.response.id = Empty,
                gen_ai.usage.input_tokens = Empty,
                gen_ai.usage.output_tokens = Empty,
                http.request.method = method.as_str(),
                url.path = path,
                http.response.status_code = Empty,
                request_id = Empty,
                attempts = Empty,
            );
            if operation.starts_with("chat.completions.create") {
                span.record("gen_ai.operation.name", "chat");
            }
            if let Some(m) = model {
                span.record("gen_ai.request.model", m);
            }
            OpSpan(span)
        }

        /// A span that records nothing (for streams made outside the client).
        pub(crate) fn none() -> Self {
            OpSpan(tracing::Span::none())
        }

        pub(crate) fn attempt(&self, attempt: u32) -> AttemptSpan {
            AttemptSpan(tracing::info_span!(
                parent: &self.0,
                "chat_core.attempt",
                attempt = attempt,
                http.response.status_code = Empty,
                request_id = Empty,
            ))
        }

        pub(crate) fn instrument<F: Future>(&self, f: F) -> impl Future<Output = F::Output> {
            f.instrument(self.0.clone())
        }

        pub(crate) fn record_response(&self, status: u16, request_id: Option<&str>, attempts: u32) {
            self.0.record("http.response.status_code", status);
            if let Some(id) = request_id {
                self.0.record("request_id", id);
            }
            self.0.record("attempts", attempts);
        }

        pub(crate) fn record_usage(&self, id: &str, usage: Option<(u64, u64)>) {
            if !id.is_empty() {
                self.0.record("gen_ai.response.id", id);
            }
            if let Some((input, output)) = usage {
                self.0.record("gen_ai.usage.input_tokens", input);
                self.0.record("gen_ai.usage.output_tokens", output);
            }
        }

        pub(crate) fn retrying(
            &self,
            attempt: u32,
            delay: std::time::Duration,
            error: &crate::Error,
        ) {
            self.0.in_scope(|| {
                tracing::debug!(
                    attempt,
                    delay_ms = delay.as_millis() as u64,
                    error = %error,
                    "retrying request"
                );
            });
        }
    }

    impl AttemptSpan {
        pub(crate) fn instrument<F: Future>(&self, f: F) -> impl Future<Output = F::Output> {
            f.instrument(self.0.clone())
        }

        pub(crate) fn record_status(&self, status: u16, request_id: Option<&str>) {
            self.0.record("http.response.status_code", status);
            if let Some(id) = request_id {
                self.0.record("request_id", id);
            }
        }
    }
}

#[cfg(not(feature = "tracing"))]
mod imp {
    use super::*;

    /// The span of one operation (a no-op without the `tracing` feature).
    #[derive(Debug, Clone)]
    pub(crate) struct OpSpan;

    /// The span of one attempt (a no-op without the `tracing` feature).
    #[derive(Debug, Clone)]
    pub(crate) struct AttemptSpan;

    impl OpSpan {
        pub(crate) fn new(_: &'static str, _: &Method, _: &str, _: Option<&str>) -> Self {
            OpSpan
        }

        pub(crate) fn none() -> Self {
            OpSpan
        }

        pub(crate) fn attempt(&self, _: u32) -> AttemptSpan {
            AttemptSpan
        }

        pub(crate) fn instrument<F: Future>(&self, f: F) -> F {
            f
        }

        pub(crate) fn record_response(&self, _: u16, _: Option<&str>, _: u32) {}

        pub(crate) fn record_usage(&self, _: &str, _: Option<(u64, u64)>) {}

        pub(crate) fn retrying(&self, _: u32, _: std::time::Duration, _: &crate::Error) {}
    }

    impl AttemptSpan {
        pub(crate) fn instrument<F: Future>(&self, f: F) -> F {
            f
        }

        pub(crate) fn record_status(&self, _: u16, _: Option<&str>) {}
    }
}

pub(crate) use imp::{AttemptSpan, OpSpan};
