//! [`ExtraFields`]: the unknown fields of an object, allocated only when there are some.

use std::fmt;
use std::ops::{Index, IndexMut};

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{map, Map, Value};

/// Fields of an object that this version of the crate does not model.
///
/// They are kept on deserialization and written back unchanged on serialization, so a field
/// that the API (or a compatible server) adds tomorrow survives a round trip.
///
/// It behaves like a [`serde_json::Map`] (same key order, a repeated key keeps its last
/// value) with the methods most code needs (`get`, `insert`, `remove`, `iter`, `len`,
/// indexing by key); [`ExtraFields::as_map_mut`] and the conversions to and from
/// [`serde_json::Map`] give the rest. Nearly every object of a response has none, so an
/// empty `ExtraFields` holds no map at all: it is one pointer wide, allocates nothing and
/// costs nothing to drop.
///
/// ```
/// use chat_types::ExtraFields;
/// use serde_json::json;
///
/// let mut extra = ExtraFields::new();
/// assert!(extra.is_empty());
/// extra.insert("top_k".to_owned(), json!(40));
/// assert_eq!(extra["top_k"], 40);
/// assert_eq!(extra.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["top_k"]);
/// let map: serde_json::Map<String, serde_json::Value> = extra.into();
/// assert_eq!(map.len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct ExtraFields {
    map: Option<Box<Map<String, Value>>>,
}

impl ExtraFields {
    /// An empty set of fields (allocates nothing).
    #[inline]
    pub const fn new() -> Self {
        ExtraFields { map: None }
    }

    /// The number of fields.
    #[inline]
    pub fn len(&self) -> usize {
        self.map.as_ref().map_or(0, |m| m.len())
    }

    /// Whether there are no fields.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.map.as_ref().is_none_or(|m| m.is_empty())
    }

    /// The value of field `key`.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.as_ref()?.get(key)
    }

    /// The value of field `key`, to change it in place.
    #[inline]
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.map.as_mut()?.get_mut(key)
    }

    /// Whether there is a field `key`.
    #[inline]
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets field `key` to `value`, returning its previous value.
    #[inline]
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        self.as_map_mut().insert(key, value)
    }

    /// Removes field `key`, returning its value.
    #[inline]
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let map = self.map.as_mut()?;
        let v = map.remove(key);
        if map.is_empty() {
            self.map = None;
        }
        v
    }

    /// Removes every field.
    #[inline]
    pub fn clear(&mut self) {
        self.map = None;
    }

    /// The fields, in the order of [`serde_json::Map`].
    #[inline]
    pub fn iter(&self) -> ExtraFieldsIter<'_> {
        ExtraFieldsIter(self.map.as_ref().map(|m| m.iter()))
    }

    /// The fields with mutable values.
    #[inline]
    pub fn iter_mut(&mut self) -> ExtraFieldsIterMut<'_> {
        ExtraFieldsIterMut(self.map.as_mut().map(|m| m.iter_mut()))
    }

    /// The field names.
    #[inline]
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// The field values.
    #[inline]
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// The fields as a [`serde_json::Map`], if there are any (`None` when empty).
    #[inline]
    pub fn as_map(&self) -> Option<&Map<String, Value>> {
        self.map.as_deref().filter(|m| !m.is_empty())
    }

    /// The fields as a mutable [`serde_json::Map`], for its whole API (`entry`, `retain`,
    /// ...); allocates the map if there is none yet.
    #[inline]
    pub fn as_map_mut(&mut self) -> &mut Map<String, Value> {
        self.map.get_or_insert_with(Default::default)
    }

    /// The fields as a [`serde_json::Map`].
    #[inline]
    pub fn into_map(self) -> Map<String, Value> {
        self.map.map(|m| *m).unwrap_or_default()
    }
}

impl fmt::Debug for ExtraFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As a `serde_json::Map` prints.
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for ExtraFields {
    fn eq(&self, other: &Self) -> bool {
        match (self.as_map(), other.as_map()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => true,
            _ => false,
        }
    }
}

impl Eq for ExtraFields {}

impl From<Map<String, Value>> for ExtraFields {
    #[inline]
    fn from(map: Map<String, Value>) -> Self {
        ExtraFields {
            map: (!map.is_empty()).then(|| Box::new(map)),
        }
    }
}

impl From<ExtraFields> for Map<String, Value> {
    #[inline]
    fn from(extra: ExtraFields) -> Self {
        extra.into_map()
    }
}

impl FromIterator<(String, Value)> for ExtraFields {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Map::from_iter(iter).into()
    }
}

impl Extend<(String, Value)> for ExtraFields {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        let mut iter = iter.into_iter().peekable();
        if iter.peek().is_some() {
            self.as_map_mut().extend(iter);
        }
    }
}

impl Index<&str> for ExtraFields {
    type Output = Value;

    /// The value of field `key`; panics if there is none, like [`serde_json::Map`] (use
    /// [`ExtraFields::get`] otherwise).
    fn index(&self, key: &str) -> &Value {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no extra field `{key}`"),
        }
    }
}

impl IndexMut<&str> for ExtraFields {
    /// The value of field `key`; panics if there is none, like [`serde_json::Map`].
    fn index_mut(&mut self, key: &str) -> &mut Value {
        match self.get_mut(key) {
            Some(v) => v,
            None => panic!("no extra field `{key}`"),
        }
    }
}

impl IntoIterator for ExtraFields {
    type Item = (String, Value);
    type IntoIter = map::IntoIter;

    #[inline]
    fn into_iter(self) -> map::IntoIter {
        self.into_map().into_iter()
    }
}

impl<'a> IntoIterator for &'a ExtraFields {
    type Item = (&'a String, &'a Value);
    type IntoIter = ExtraFieldsIter<'a>;

    #[inline]
    fn into_iter(self) -> ExtraFieldsIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut ExtraFields {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = ExtraFieldsIterMut<'a>;

    #[inline]
    fn into_iter(self) -> ExtraFieldsIterMut<'a> {
        self.iter_mut()
    }
}

/// An iterator over the fields of an [`ExtraFields`].
#[derive(Debug, Clone)]
pub struct ExtraFieldsIter<'a>(Option<map::Iter<'a>>);

impl<'a> Iterator for ExtraFieldsIter<'a> {
    type Item = (&'a String, &'a Value);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.as_mut()?.next()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.as_ref().map_or((0, Some(0)), |i| i.size_hint())
    }
}

impl DoubleEndedIterator for ExtraFieldsIter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.as_mut()?.next_back()
    }
}

impl ExactSizeIterator for ExtraFieldsIter<'_> {}

/// An iterator over the fields of an [`ExtraFields`], with mutable values.
#[derive(Debug)]
pub struct ExtraFieldsIterMut<'a>(Option<map::IterMut<'a>>);

impl<'a> Iterator for ExtraFieldsIterMut<'a> {
    type Item = (&'a String, &'a mut Value);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.as_mut()?.next()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.as_ref().map_or((0, Some(0)), |i| i.size_hint())
    }
}

impl DoubleEndedIterator for ExtraFieldsIterMut<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.as_mut()?.next_back()
    }
}

impl ExactSizeIterator for ExtraFieldsIterMut<'_> {}

impl Serialize for ExtraFields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for ExtraFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::deserialize(d).map(ExtraFields::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> ExtraFields {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn empty_holds_no_map_and_equals_an_emptied_one() {
        let e = ExtraFields::new();
        assert!(e.is_empty() && e.as_map().is_none());
        assert_eq!(e.len(), 0);
        assert_eq!(
            std::mem::size_of::<ExtraFields>(),
            std::mem::size_of::<usize>()
        );
        let mut f = fields(json!({"a": 1}));
        assert_ne!(e, f);
        assert_eq!(f.remove("a"), Some(json!(1)));
        assert_eq!(e, f);
        // An allocated but empty map is still equal to none at all.
        let mut g = ExtraFields::new();
        g.as_map_mut();
        assert!(g.is_empty());
        assert_eq!(e, g);
        assert_eq!(fields(json!({})), e);
        assert_eq!(format!("{e:?}"), "{}");
        assert_eq!(serde_json::to_string(&e).unwrap(), "{}");
    }

    #[test]
    fn it_behaves_like_a_json_map() {
        let mut e = fields(json!({"z": [1], "a": {"b": null}}));
        let map = json!({"z": [1], "a": {"b": null}})
            .as_object()
            .cloned()
            .unwrap();
        // Same order as serde_json's map (sorted keys without its `preserve_order`).
        let keys: Vec<&String> = e.keys().collect();
        assert_eq!(keys, map.keys().collect::<Vec<_>>());
        assert_eq!(format!("{e:?}"), format!("{map:?}"));
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        assert_eq!(
            (e.len(), e.get("z"), e.contains_key("q")),
            (2, Some(&json!([1])), false)
        );
        assert_eq!(e["a"]["b"], Value::Null);
        assert_eq!(e.insert("z".into(), json!(2)), Some(json!([1])));
        e["z"] = json!(3);
        for (_, v) in &mut e {
            *v = json!([v.clone()]);
        }
        assert_eq!(
            e.values().cloned().collect::<Vec<_>>(),
            [json!([{"b": null}]), json!([3])]
        );
        let back: Map<String, Value> = e.clone().into();
        assert_eq!(ExtraFields::from(back.clone()), e);
        assert_eq!(e.clone().into_iter().collect::<Map<_, _>>(), back);
        assert_eq!(e.iter().len(), 2);
        let mut c = e.clone();
        c.extend([("n".to_owned(), json!(1))]);
        assert_eq!(c.len(), 3);
        assert_ne!(c, e);
        c.clear();
        assert!(c.is_empty());
        let collected: ExtraFields = [("k".to_owned(), json!("v"))].into_iter().collect();
        assert_eq!(collected["k"], "v");
    }

    #[test]
    #[should_panic(expected = "no extra field `missing`")]
    fn indexing_a_missing_key_panics_like_a_map() {
        let _ = &ExtraFields::new()["missing"];
    }
}
