//! The one JSON decode entry point of the client: every response body, stream chunk and error
//! body the client parses goes through [`from_slice`].
//!
//! The bytes are checked to be UTF-8 once, with `std::str::from_utf8`, and then parsed as
//! text, so that serde_json does not check every string it reads again (1-17% fewer
//! instructions than `serde_json::from_slice` on the bodies of the benchmarks). Input that is
//! not UTF-8 is handed to serde_json's byte parser, so the error is exactly the one
//! `serde_json::from_slice` gives (its message names the line and column of the offending
//! byte).
//!
//! A SIMD parser (sonic-rs 0.5) was measured on the same types and bodies and is not used:
//! it was slower on typical replies, logprobs and stream chunks and at most 5% faster on
//! 64 KiB of text, built for any x86-64 or for the machine's own CPU (README, "Performance").

use serde::de::DeserializeOwned;

/// Parses one JSON document of type `T` from `bytes`, as the client does for response bodies,
/// stream chunks and error bodies.
///
/// Accepts and rejects exactly the inputs `serde_json::from_slice` does, with the same error
/// (message, line and column).
///
/// ```
/// let v: Vec<u32> = chat_core::json::from_slice(b"[1, 2]").unwrap();
/// assert_eq!(v, [1, 2]);
/// let e = chat_core::json::from_slice::<Vec<u32>>(b"[1, 2").unwrap_err();
/// assert!(e.is_eof());
/// let e = chat_core::json::from_slice::<String>(b"\"\xff\"").unwrap_err();
/// assert_eq!((e.line(), e.column()), (1, 2));
/// ```
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn invalid_utf8_is_serde_jsons_error_with_its_position() {
        let cases: [&[u8]; 4] = [
            b"{\"a\":\"ok\xff\"}",
            b"{\"a\":\n \"\xc3\x28\"}",
            b"[\"\xed\xa0\x80\"]",
            b"{\"\xf0\x9f\x98\":1}",
        ];
        for bytes in cases {
            let ours = from_slice::<Value>(bytes).unwrap_err();
            let reference = serde_json::from_slice::<Value>(bytes).unwrap_err();
            assert_eq!(ours.to_string(), reference.to_string());
            assert!(ours.is_syntax(), "{ours}");
            assert!(ours.line() >= 1 && ours.column() >= 1, "{ours}");
        }
        // The position is the offending byte's.
        let e = from_slice::<Value>(b"{\"a\":\n \"\xc3\x28\"}").unwrap_err();
        assert_eq!((e.line(), e.column()), (2, 3), "{e}");
    }

    #[test]
    fn same_results_as_serde_json_from_slice() {
        let cases: [&[u8]; 9] = [
            b"{\"a\":[1,2.5,-0,1e400],\"b\":\"\\u00e9\"}",
            b"",
            b"  ",
            b"{\"a\":1} x",
            b"{\"a\":1,}",
            b"[1,2",
            b"\"\\ud800\"",
            b"{\"a\":\"tab\there\"}",
            b"123456789012345678901234567890",
        ];
        for bytes in cases {
            let ours = from_slice::<Value>(bytes).map_err(|e| e.to_string());
            let reference = serde_json::from_slice::<Value>(bytes).map_err(|e| e.to_string());
            assert_eq!(ours, reference, "{}", String::from_utf8_lossy(bytes));
        }
    }
}
