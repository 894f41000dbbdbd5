//! Lenient (de)serializers for PlusVibe's loosely typed JSON.

use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// A health score, rate or counter where `-1` (any negative value) means "no data" (§4.1):
/// number or numeric string; `null`, missing, negative or unparseable → `None`.
pub(crate) fn metric<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.as_ref().and_then(number).filter(|f| *f >= 0.0))
}

/// Writes `None` back as the vendor's `-1` sentinel.
pub(crate) fn ser_metric<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(f) => s.serialize_f64(*f),
        None => s.serialize_i64(-1),
    }
}

/// A counter where `-1` means "no data": integer or numeric string.
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.as_ref()
        .and_then(number)
        .filter(|f| *f >= 0.0)
        .map(|f| f.round() as u64))
}

/// Writes a `None` counter as `-1`.
pub(crate) fn ser_count<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(n) => s.serialize_u64(*n),
        None => s.serialize_i64(-1),
    }
}

/// Any integer-ish value (number or numeric string), keeping negatives; garbage → `None`.
pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.as_ref().and_then(number).map(|f| f.round() as i64))
}

/// Any float-ish value (number or numeric string); garbage → `None`.
pub(crate) fn float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.as_ref().and_then(number))
}

/// A string, or a number/bool shown as a string; `null` → `None`.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    })
}

/// A list that may come as `null` (→ empty).
pub(crate) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct M {
        #[serde(default, deserialize_with = "super::metric")]
        m: Option<f64>,
        #[serde(default, deserialize_with = "super::count")]
        c: Option<u64>,
    }

    #[test]
    fn minus_one_is_no_data_and_zero_is_zero() {
        let p = |s: &str| serde_json::from_str::<M>(s).unwrap();
        assert_eq!(p(r#"{"m":-1,"c":-1}"#).m, None);
        assert_eq!(p(r#"{"m":-1,"c":-1}"#).c, None);
        assert_eq!(p(r#"{"m":0,"c":0}"#).m, Some(0.0));
        assert_eq!(p(r#"{"m":0,"c":0}"#).c, Some(0));
        assert_eq!(p(r#"{"m":"97.5","c":"6"}"#).m, Some(97.5));
        assert_eq!(p(r#"{"m":"97.5","c":"6"}"#).c, Some(6));
        assert_eq!(p(r#"{"m":null}"#).m, None);
        assert_eq!(p(r#"{}"#).m, None);
        assert_eq!(p(r#"{"m":"n/a"}"#).m, None);
    }
}
