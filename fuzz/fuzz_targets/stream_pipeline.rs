//! Fuzz target `stream_pipeline`: see `chat_fuzz::fuzz_pipeline`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chat_fuzz::fuzz_pipeline(data));
