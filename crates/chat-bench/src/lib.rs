//! Benchmarks of the chat SDK (being written).
