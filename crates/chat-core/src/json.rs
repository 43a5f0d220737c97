//! The one JSON decode entry point of the client: every response body, stream chunk and error
//! body the client parses goes through [`from_slice`].
//!
//! The default backend is serde_json. The bytes are checked to be UTF-8 once, with
//! `std::str::from_utf8`, and then parsed as text, so that serde_json does not check every
//! string it reads again. Input that is not UTF-8 is handed to serde_json's byte parser, so
//! the error is exactly the one `serde_json::from_slice` gives (its message names the line and
//! column of the offending byte).
//!
//! With the `simd` feature, [`from_slice`] parses with sonic-rs (SIMD string scanning and
//! number parsing) first. sonic-rs is an accelerator only: when it rejects an input, the input
//! is parsed again with serde_json, which either accepts it (the value is returned) or produces
//! the error, so error messages, positions and the set of accepted inputs stay serde_json's.
//! Floats are correctly rounded by both (serde_json with `float_roundtrip`), so a number in an
//! unknown field is kept as the same `f64`. Two differences of sonic-rs are covered: it reads
//! a negative zero (`-0.0`) as `0.0`, so input that may hold one goes to serde_json; and it
//! allows nesting to 255 levels where serde_json stops at 128.
//!
//! Whether `simd` pays off depends on the bodies: measured by instruction counts (README,
//! "Performance"), sonic-rs is faster on long text (13% on a 64 KiB reply) and slower on
//! typical replies, logprobs and stream chunks, whose many short strings and numbers leave its
//! SIMD scanning little to do. sonic-rs declares no minimum Rust version; the feature is
//! built and tested with the current stable toolchain only.

use serde::de::DeserializeOwned;

/// The name of the parser [`from_slice`] tries first: `"serde_json"`, or `"sonic-rs"` with the
/// `simd` feature.
pub const BACKEND: &str = if cfg!(feature = "simd") {
    "sonic-rs"
} else {
    "serde_json"
};

/// Parses one JSON document of type `T` from `bytes`, as the client does for response bodies,
/// stream chunks and error bodies.
///
/// Accepts and rejects exactly the inputs `serde_json::from_slice` does, with the same error
/// (message, line and column); only the speed depends on the backend ([`BACKEND`]).
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
    #[cfg(feature = "simd")]
    if let Some(v) = from_slice_sonic(bytes) {
        return Ok(v);
    }
    from_slice_serde(bytes)
}

/// Whether `bytes` may hold a number spelled as a negative zero (`-0`, `-0.0`, `-0e5`):
/// sonic-rs 0.5 reads those as `0.0`, dropping the sign serde_json keeps, so such input is
/// left to serde_json. A `-0` inside a string counts too (harmless: serde_json parses it).
/// Negative numbers that underflow to zero (`-1e-400`) keep their sign in both parsers.
#[cfg(feature = "simd")]
fn may_hold_negative_zero(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'-', bytes).any(|i| {
        let rest = &bytes[i + 1..];
        if rest.first() != Some(&b'0') {
            return false;
        }
        // Past the zeros and the point: a nonzero digit makes it a nonzero number.
        let first_other = rest.iter().find(|&&b| b != b'0' && b != b'.');
        !matches!(first_other, Some(b'1'..=b'9'))
    })
}

/// The serde_json backend alone, whatever the features: text after one UTF-8 check, bytes
/// (for serde_json's error) otherwise. Public for benchmarks and equivalence tests.
#[doc(hidden)]
pub fn from_slice_serde<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

/// The `simd` fast path alone, without the serde_json fallback: `None` when sonic-rs rejects
/// the input or it is left to serde_json. Public for benchmarks and equivalence tests.
#[cfg(feature = "simd")]
#[doc(hidden)]
pub fn from_slice_sonic<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    if may_hold_negative_zero(bytes) {
        return None;
    }
    sonic_rs::from_slice::<T>(bytes).ok()
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
            assert!(from_slice_serde::<Value>(bytes).is_err());
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

    #[cfg(feature = "simd")]
    #[test]
    fn negative_zeros_are_left_to_serde_json() {
        for zero in ["-0", "[-0]", "-0.0", "{\"a\":-0.000e5}", "-0E1", "\"a-0\""] {
            assert!(may_hold_negative_zero(zero.as_bytes()), "{zero}");
            let v: Value = from_slice(zero.as_bytes()).unwrap();
            assert_eq!(v, serde_json::from_str::<Value>(zero).unwrap());
            assert_eq!(
                v.to_string(),
                serde_json::from_str::<Value>(zero).unwrap().to_string()
            );
        }
        for other in [
            "0",
            "-1",
            "-0.5",
            "[-0.001, 10-01]",
            "{\"logprob\":-0.0001}",
            "-",
        ] {
            assert!(!may_hold_negative_zero(other.as_bytes()), "{other}");
        }
        assert_eq!(from_slice::<Value>(b"-0.0").unwrap().to_string(), "-0.0");
    }
}
