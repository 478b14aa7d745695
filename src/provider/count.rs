//! Counts from the wire (replicas ready, total, requested): a whole number that fits, or a value that is not
//! one, kept as the text it came as so that it can be named. Read leniently as `Option<u32>`, `2^70` or `-3`
//! would become "absent", and then 0 on screen: a number that could not be read must say so instead.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The longest part of a bad value a reason quotes.
const QUOTED: usize = 40;

/// A count as a provider sent it (absent or `null` is `None` around it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Count {
    /// A whole number from 0 to `u32::MAX`, as a number, a whole float (`3.0`) or a numeric string.
    Fits(u32),
    /// Anything else (negative, fractional, too large, not a number), as its JSON text, cut.
    Bad(String),
}

impl Count {
    /// None for `null`.
    pub fn from_value(v: &Value) -> Option<Count> {
        let fits = |f: f64| f >= 0.0 && f <= u32::MAX as f64 && f.fract() == 0.0;
        let n = match v {
            Value::Null => return None,
            Value::Number(n) => match n.as_u64() {
                Some(u) => u32::try_from(u).ok(),
                None => n.as_f64().filter(|f| fits(*f)).map(|f| f as u32),
            },
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| fits(*f)).map(|f| f as u32),
            _ => None,
        };
        Some(match n {
            Some(n) => Count::Fits(n),
            None => Count::Bad(crate::model::text::truncate(&v.to_string(), QUOTED).into_owned()),
        })
    }
}

/// Written back as it came: a count as a number, a bad value as its JSON (or its text where it was cut).
impl serde::Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Fits(n) => s.serialize_u32(*n),
            Count::Bad(text) => match serde_json::from_str::<Value>(text) {
                Ok(v) => v.serialize(s),
                Err(_) => s.serialize_str(text),
            },
        }
    }
}

/// `deserialize_with` for an `Option<Count>` field.
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Count>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.as_ref().and_then(Count::from_value))
}

/// The value of a count, None when absent; a bad one is None too, and its field and value are added to
/// `bad` ("containers[0].deployStatus.total: -3 is not a count").
pub fn read(c: &Option<Count>, field: &str, bad: &mut Vec<String>) -> Option<u32> {
    match c {
        None => None,
        Some(Count::Fits(n)) => Some(*n),
        Some(Count::Bad(v)) => {
            bad.push(format!("{field}: {v} is not a count (a whole number from 0 to {})", u32::MAX));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_that_fit_are_read_and_others_are_kept_to_be_named() {
        assert_eq!(Count::from_value(&json!(3)), Some(Count::Fits(3)));
        assert_eq!(Count::from_value(&json!(3.0)), Some(Count::Fits(3)));
        assert_eq!(Count::from_value(&json!("4")), Some(Count::Fits(4)));
        assert_eq!(Count::from_value(&json!(null)), None);
        assert_eq!(Count::from_value(&json!(-3)), Some(Count::Bad("-3".into())));
        assert_eq!(Count::from_value(&json!(2.5)), Some(Count::Bad("2.5".into())));
        let big: Value = serde_json::from_str("1180591620717411303424").unwrap();
        let shown = Count::from_value(&big);
        assert!(matches!(&shown, Some(Count::Bad(s)) if s.starts_with("1.18059162071741")), "{shown:?}");
        assert_eq!(Count::from_value(&json!(4294967296u64)), Some(Count::Bad("4294967296".into())));
        let mut bad = Vec::new();
        assert_eq!(read(&Count::from_value(&json!(-3)), "total", &mut bad), None);
        assert_eq!(bad, ["total: -3 is not a count (a whole number from 0 to 4294967295)"]);
    }
}
