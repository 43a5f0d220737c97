//! Fuzz target `accumulator`: see `chat_fuzz::fuzz_accumulator`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chat_fuzz::fuzz_accumulator(data));
