//! Fuzz target `json_round_trip`: see `chat_fuzz::fuzz_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chat_fuzz::fuzz_json(data));
