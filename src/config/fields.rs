//! Reading the top-level object of `config.json`: keys matched case-insensitively (as Go's encoding/json
//! does), the last of several spellings winning, and typed extraction that names the key in errors.

use std::collections::HashMap;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use std::fmt;

use super::{field, show, ConfigError, KEYS};

/// The top-level object's members in document order (a `serde_json::Map` would sort them, and for keys
/// that differ only by case Go's decoder lets the last one in the document win).
pub(super) struct Entries(pub(super) Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entries, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(ObjectVisitor)
    }
}

/// The known members, keyed by lower-cased name.
pub(super) struct Fields(pub(super) HashMap<String, Value>);

impl Fields {
    pub(super) fn new(entries: Vec<(String, Value)>, warnings: &mut Vec<String>) -> Fields {
        let mut map = HashMap::new();
        for (key, value) in entries {
            let lower = key.to_lowercase();
            if KEYS.iter().any(|k| k.to_ascii_lowercase() == lower) {
                map.insert(lower, value);
            } else {
                let warning = format!("unknown config key `{key}` ignored");
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
        }
        Fields(map)
    }

    /// The raw value, null included (Go gives null a meaning for lists: an empty one).
    pub(super) fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(&key.to_ascii_lowercase())
    }

    /// A scalar; null leaves the default, as Go's decoder does.
    pub(super) fn scalar(&self, key: &str) -> Option<&Value> {
        self.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn int<T: TryFrom<u64> + Into<u64> + Copy>(
        &self,
        key: &'static str,
        positive: bool,
        max: T,
    ) -> Result<Option<T>, ConfigError> {
        let Some(v) = self.scalar(key) else {
            return Ok(None);
        };
        let kind = if positive {
            "a positive integer"
        } else {
            "a non-negative integer"
        };
        let max = max.into();
        match v.as_u64() {
            Some(n) if n > max => Err(field(key, format!("expected {kind} no greater than {max}, got {n}"))),
            Some(0) if positive => Err(field(key, format!("expected {kind}, got 0"))),
            Some(n) => T::try_from(n)
                .map(Some)
                .map_err(|_| field(key, format!("expected {kind} no greater than {max}"))),
            None => Err(field(key, format!("expected {kind}, got {}", show(v)))),
        }
    }

    pub(super) fn bool(&self, key: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.scalar(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(field(key, format!("expected true or false, got {}", show(v)))),
        }
    }

    pub(super) fn string(&self, key: &'static str) -> Result<Option<String>, ConfigError> {
        match self.scalar(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(field(key, format!("expected a string, got {}", show(v)))),
        }
    }

    pub(super) fn strings(&self, key: &'static str) -> Result<Option<Vec<String>>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => string_list(v).map(Some).map_err(|p| field(key, p)),
        }
    }
}

/// A JSON array of strings; null is an empty list.
pub(super) fn string_list(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("expected an array of strings, but item {i} is {}", show(other))),
            })
            .collect(),
        other => Err(format!("expected an array of strings, got {}", show(other))),
    }
}
