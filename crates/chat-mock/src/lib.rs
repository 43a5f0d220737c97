#![warn(missing_docs)]
//! Mock transport for testing apps (being written).
