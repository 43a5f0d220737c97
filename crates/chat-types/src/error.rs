//! The error body the API returns with a non-2xx status (`ErrorResponse`).

use std::fmt;

wire_object! {
    /// The body of an API error response: `{"error": {...}}`.
    #[derive(Default)]
    pub struct ErrorResponse {
        /// The error.
        def error: ApiErrorObject,
    }
}

wire_object! {
    /// An API error (the spec's `Error` schema).
    #[derive(Default)]
    pub struct ApiErrorObject {
        /// A machine-readable code such as `rate_limit_exceeded`; some servers send a number.
        def code: Option<ErrorCode>,
        /// A human-readable message.
        def message: String,
        /// The request parameter the error is about, if any.
        def param: Option<String>,
        /// The error type, such as `invalid_request_error` or `insufficient_quota`.
        opt r#type = "type": Option<String>,
    }
}

/// An error code: a string for OpenAI, a number for some compatible servers.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorCode {
    /// A string code, such as `rate_limit_exceeded`.
    String(String),
    /// A numeric code, such as `429`.
    Number(serde_json::Number),
}

impl ErrorCode {
    /// The string form of the code.
    pub fn as_string(&self) -> String {
        match self {
            ErrorCode::String(s) => s.clone(),
            ErrorCode::Number(n) => n.to_string(),
        }
    }

    /// Whether the code equals `s` (numbers compare by their decimal text).
    pub fn is(&self, s: &str) -> bool {
        match self {
            ErrorCode::String(c) => c == s,
            ErrorCode::Number(n) => n.to_string() == s,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::String(s) => f.write_str(s),
            ErrorCode::Number(n) => write!(f, "{n}"),
        }
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ErrorCode::String(v) => s.serialize_str(v),
            ErrorCode::Number(n) => n.serialize(s),
        }
    }
}

impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ErrorCode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ErrorCode, E> {
                Ok(ErrorCode::String(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<ErrorCode, E> {
                Ok(ErrorCode::String(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ErrorCode, E> {
                Ok(ErrorCode::Number(v.into()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ErrorCode, E> {
                Ok(ErrorCode::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ErrorCode, E> {
                serde_json::Number::from_f64(v)
                    .map(ErrorCode::Number)
                    .ok_or_else(|| E::custom("non-finite error code"))
            }
        }
        d.deserialize_any(V)
    }
}

impl crate::UnknownFields for ErrorCode {
    fn collect_unknown_fields(&self, _path: &str, _out: &mut Vec<String>) {}
    fn never_unknown() -> bool {
        true
    }
}

impl fmt::Display for ApiErrorObject {
    /// `message (type: t, code: c)`; without an empty message, type or code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.message.trim();
        f.write_str(message)?;
        let sep = if message.is_empty() { "" } else { " " };
        if let Some(t) = &self.r#type {
            write!(f, "{sep}(type: {t}")?;
            if let Some(c) = &self.code {
                write!(f, ", code: {c}")?;
            }
            f.write_str(")")?;
        } else if let Some(c) = &self.code {
            write!(f, "{sep}(code: {c})")?;
        }
        Ok(())
    }
}
