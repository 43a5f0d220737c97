#![warn(missing_docs)]
//! The production HTTPS transport for `chat-core` (being written).
