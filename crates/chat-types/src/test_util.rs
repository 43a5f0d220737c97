//! Helpers shared by the unit tests of this crate.

use serde_json::Value;

/// `v` as a JSON value.
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// Parses `v` as `T`, checks it is written back unchanged and returns it.
pub(crate) fn round_trip<T>(v: Value) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let parsed: T = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(to_json(&parsed), v);
    // From text as well, which takes the borrowed-string paths.
    let from_text: T = serde_json::from_str(&v.to_string()).unwrap();
    assert_eq!(to_json(&from_text), v);
    parsed
}
