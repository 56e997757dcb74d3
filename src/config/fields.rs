//! Reading the top-level object of `config.json`: keys matched case-insensitively (as Go's encoding/json
//! does), the last of several spellings winning, and typed extraction that names the key in errors.

use std::collections::HashMap;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use std::fmt;

use super::values::string_list;
use super::{field, show, ConfigError};

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
pub(super) struct Fields(HashMap<String, Value>);

impl Fields {
    /// The members whose lower-cased name `is_known`; each other one gets a warning (once).
    pub(super) fn new(
        entries: Vec<(String, Value)>,
        is_known: impl Fn(&str) -> bool,
        warnings: &mut Vec<String>,
    ) -> Fields {
        let mut map = HashMap::new();
        for (key, value) in entries {
            let lower = key.to_lowercase();
            if is_known(&lower) {
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

    /// The member for `key` (spelled as the table spells it), present or not.
    pub(super) fn field(&self, key: &'static str) -> Field<'_> {
        Field {
            key,
            value: self.0.get(&key.to_ascii_lowercase()),
        }
    }
}

/// One key's member of the document, if present, with typed extraction whose errors name the key.
#[derive(Clone, Copy)]
pub(super) struct Field<'a> {
    pub(super) key: &'static str,
    value: Option<&'a Value>,
}

impl<'a> Field<'a> {
    /// The raw value, null included (Go gives null a meaning for lists: an empty one).
    pub(super) fn value(self) -> Option<&'a Value> {
        self.value
    }

    /// A scalar; null leaves the default, as Go's decoder does.
    fn scalar(self) -> Option<&'a Value> {
        self.value.filter(|v| !v.is_null())
    }

    /// An error about this key's value.
    pub(super) fn error(self, problem: impl Into<String>) -> ConfigError {
        field(self.key, problem)
    }

    pub(super) fn int<T: TryFrom<u64> + Into<u64> + Copy>(
        self,
        positive: bool,
        max: T,
    ) -> Result<Option<T>, ConfigError> {
        let Some(v) = self.scalar() else {
            return Ok(None);
        };
        let kind = if positive {
            "a positive integer"
        } else {
            "a non-negative integer"
        };
        let max = max.into();
        match v.as_u64() {
            Some(n) if n > max => Err(self.error(format!("expected {kind} no greater than {max}, got {n}"))),
            Some(0) if positive => Err(self.error(format!("expected {kind}, got 0"))),
            Some(n) => T::try_from(n)
                .map(Some)
                .map_err(|_| self.error(format!("expected {kind} no greater than {max}"))),
            None => Err(self.error(format!("expected {kind}, got {}", show(v)))),
        }
    }

    pub(super) fn bool(self) -> Result<Option<bool>, ConfigError> {
        match self.scalar() {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(self.error(format!("expected true or false, got {}", show(v)))),
        }
    }

    pub(super) fn string(self) -> Result<Option<String>, ConfigError> {
        match self.scalar() {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.error(format!("expected a string, got {}", show(v)))),
        }
    }

    /// A string given to `parse`, whose message is pinned on the key.
    pub(super) fn string_as<T>(self, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<Option<T>, ConfigError> {
        self.string()?.map(|s| parse(&s).map_err(|p| self.error(p))).transpose()
    }

    pub(super) fn strings(self) -> Result<Option<Vec<String>>, ConfigError> {
        self.value
            .map(|v| string_list(v).map_err(|p| self.error(p)))
            .transpose()
    }

    /// A list of strings given to `parse`, whose message is pinned on the key.
    pub(super) fn strings_as<T>(
        self,
        parse: impl FnOnce(&[String]) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        self.strings()?
            .map(|v| parse(&v).map_err(|p| self.error(p)))
            .transpose()
    }
}
