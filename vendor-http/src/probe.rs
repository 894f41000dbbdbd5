//! Reading a few top-level fields of a JSON body without building a tree.
//!
//! [`Vendor::error_in_success`](crate::Vendor::error_in_success) runs on **every** successful
//! answer of vendors that may carry an error status inside an HTTP 2xx body (Zapmail,
//! PlusVibe). Parsing those bodies into a [`serde_json::Value`] before the caller decodes
//! them into its own type parsed every answer twice and allocated a tree (client overhead
//! benchmark: CPU 1.21× bare reqwest). [`top_level`] walks the body once with serde_json's
//! skipping parser instead: it allocates nothing unless a wanted field is a string with
//! escapes, and hands back each wanted field as a [`Field`] whose numbers are
//! [`serde_json::Number`]s built exactly as `Value` builds them, so a probe written against
//! it answers like one written against `Value` (`get("status")?.as_i64()` and so on).
//!
//! ```
//! use vendor_http::probe::{Field, top_level};
//!
//! let [status] = top_level(br#"{"data": [1, 2], "status": 404}"#, ["status"]).unwrap();
//! assert_eq!(status.and_then(|f| f.as_i64()), Some(404));
//! // Not an object (or not JSON): nothing to read.
//! assert!(top_level(b"[404]", ["status"]).is_none());
//! assert!(top_level(b"{\"status\": 404", ["status"]).is_none());
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// One top-level field of a JSON object, as [`top_level`] reads it: scalars are kept,
/// arrays and objects are only recognised (their content is skipped).
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as `serde_json::Value::Number` would hold it.
    Number(Number),
    /// A string (borrowed from the body unless it has escapes).
    String(Cow<'a, str>),
    /// An array (content skipped).
    Array,
    /// An object (content skipped).
    Object,
}

impl Field<'_> {
    /// Like [`serde_json::Value::as_i64`].
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Field::Number(n) => n.as_i64(),
            _ => None,
        }
    }
    /// Like [`serde_json::Value::as_u64`].
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Field::Number(n) => n.as_u64(),
            _ => None,
        }
    }
    /// Like [`serde_json::Value::as_f64`].
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Field::Number(n) => n.as_f64(),
            _ => None,
        }
    }
    /// Like [`serde_json::Value::as_str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::String(s) => Some(s),
            _ => None,
        }
    }
}

/// The fields `names` of the JSON object `body` (`None` for a field that is absent; the
/// last one wins when a key repeats, as in `serde_json::Value`).
///
/// `None` when `body` is not one well-formed JSON object — empty, an array, a string,
/// truncated, trailing garbage — i.e. wherever `serde_json::from_slice::<Value>(body)`
/// would not give an object. (The skipping parser is a little more lenient than the tree
/// builder inside fields it skips: it has no nesting limit and does not check that their
/// strings are valid UTF-8.)
pub fn top_level<'a, const N: usize>(
    body: &'a [u8],
    names: [&str; N],
) -> Option<[Option<Field<'a>>; N]> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let fields = Fields { names: &names }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(fields)
}

struct Fields<'n, const N: usize> {
    names: &'n [&'n str; N],
}

impl<'de, const N: usize> DeserializeSeed<'de> for Fields<'_, N> {
    type Value = [Option<Field<'de>>; N];
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        // `deserialize_map`, not `deserialize_struct`: serde_json would also let a struct
        // be read from an array, by position.
        d.deserialize_map(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for Fields<'_, N> {
    type Value = [Option<Field<'de>>; N];
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: [Option<Field<'de>>; N] = std::array::from_fn(|_| None);
        while let Some(wanted) = map.next_key_seed(Key { names: self.names })? {
            match wanted {
                Some(i) => out[i] = Some(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// A key, as the index of the wanted name it equals (compared without allocating, escaped
/// keys included).
struct Key<'n, const N: usize> {
    names: &'n [&'n str; N],
}

impl<'de, const N: usize> DeserializeSeed<'de> for Key<'_, N> {
    type Value = Option<usize>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for Key<'_, N> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.names.iter().position(|n| *n == key))
    }
}

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Field::Bool(v))
    }
    // The three number visits mirror `serde_json::Value`'s own visitor.
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Field::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Field::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Number::from_f64(v).map_or(Field::Null, Field::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Field::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Field::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Field::String(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// What `Value` says for the same fields (or `None` when the body is not an object).
    fn via_value<const N: usize>(body: &[u8], names: [&str; N]) -> Option<[Option<Value>; N]> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let obj = v.as_object()?;
        Some(names.map(|n| obj.get(n).cloned()))
    }

    fn as_value(f: &Field<'_>) -> Value {
        match f {
            Field::Null => Value::Null,
            Field::Bool(b) => Value::Bool(*b),
            Field::Number(n) => Value::Number(n.clone()),
            Field::String(s) => Value::String(s.to_string()),
            Field::Array => Value::Array(vec![]),
            Field::Object => Value::Object(Default::default()),
        }
    }

    fn shape(v: &Value) -> Value {
        match v {
            Value::Array(_) => Value::Array(vec![]),
            Value::Object(_) => Value::Object(Default::default()),
            other => other.clone(),
        }
    }

    #[test]
    fn agrees_with_value_on_scalars_and_shapes() {
        let bodies: &[&[u8]] = &[
            br#"{"status": 404, "message": "x"}"#,
            br#"{"status": 404.0}"#,
            br#"{"status": 404.5}"#,
            br#"{"status": 4e2}"#,
            br#"{"status": -3}"#,
            br#"{"status": -0}"#,
            br#"{"status": 18446744073709551615}"#,
            br#"{"status": 99999999999999999999999}"#,
            br#"{"status": "COMPLETED", "code": 0}"#,
            br#"{"st\u0061tus": "\u0065rror"}"#,
            br#"{"status": 200, "status": 500}"#,
            br#"{"status": null, "code": true}"#,
            br#"{"status": [404], "code": {"code": 0}}"#,
            br#"{"data": {"status": 404}}"#,
            br#"  {"status": 1}  "#,
            br#"{}"#,
        ];
        for body in bodies {
            let got = top_level(body, ["status", "code"])
                .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(body)));
            let want = via_value(body, ["status", "code"]).unwrap();
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(
                    g.as_ref().map(as_value),
                    w.as_ref().map(shape),
                    "{}",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }

    #[test]
    fn not_an_object_is_none_like_value() {
        let bodies: &[&[u8]] = &[
            b"",
            b"   ",
            b"null",
            b"[404]",
            br#"[{"status": 404}]"#,
            br#""error""#,
            b"404",
            br#"{"status": 404"#,
            br#"{"status": 404} x"#,
            br#"{"status": 404}{}"#,
            br#"{"status": 1e400}"#,
            br#"{"status": 404,}"#,
            b"<html>502 Bad Gateway</html>",
        ];
        for body in bodies {
            assert!(via_value(body, ["status"]).is_none());
            assert!(
                top_level(body, ["status"]).is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn plain_strings_are_borrowed() {
        let [s] = top_level(br#"{"status": "error"}"#, ["status"]).unwrap();
        assert!(matches!(s, Some(Field::String(Cow::Borrowed("error")))));
    }
}
