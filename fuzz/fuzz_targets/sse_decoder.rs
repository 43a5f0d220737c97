//! Fuzz target `sse_decoder`: see `chat_fuzz::fuzz_sse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chat_fuzz::fuzz_sse(data));
