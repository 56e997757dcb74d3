//! Configuration from the environment: `MESOS_DNS_<KEY>` sets any config key (the key matched without
//! regard to case, as in config.json), over the file's value. Turning the variables into JSON members is
//! pure ([`Overrides::from_vars`] takes the pairs); reading the process environment is the caller's.
//!
//! A scalar is its JSON when the text is one (`30`, `true`, `"a string"`), else the text itself; a list
//! is a JSON array or comma-separated text; an object (and `tsigKeys`, a list of objects) is JSON only.
//! Which of these a key takes is its [`Kind`] in the key table. Other `MESOS_DNS_*` names are not config:
//! the ones the binary reads for itself (and DC/OS's `MESOS_DNS_CONFIG`) are passed over in silence, any
//! other gets a warning.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::keys::{Key, Kind, KEYS};
use super::ConfigError;

/// What every config variable's name starts with.
pub(crate) const PREFIX: &str = "MESOS_DNS_";

/// `MESOS_DNS_*` names that are not config keys but are read elsewhere: DC/OS's config path (its unit
/// passes `--config=${MESOS_DNS_CONFIG}`), the fetcher's test hooks (see `app`) and a unit test's switch.
const NOT_KEYS: &[&str] = &[
    "MESOS_DNS_CONFIG",
    "MESOS_DNS_FOLLOW_LOOPBACK_ONLY",
    "MESOS_DNS_MAX_STATE_BYTES",
    "MESOS_DNS_WRITE_SEEDS",
];

/// One key set by a variable.
#[derive(Debug, Clone, PartialEq)]
struct Override {
    /// The variable, as spelled in the environment.
    var: String,
    /// The key, as the table spells it.
    key: &'static str,
    value: Value,
}

/// The config keys the environment sets, in the key table's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides(Vec<Override>);

impl Overrides {
    /// The overrides among these variables, and a warning for each `MESOS_DNS_*` name that is no key. A
    /// value that cannot be turned into the key's JSON is an error naming the variable.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Result<(Overrides, Vec<String>), ConfigError> {
        read(vars, KEYS)
    }

    /// Whether no variable sets a key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The variables that set keys, for the log.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|o| o.var.as_str())
    }

    /// The members to put over the file's (the last of several spellings of a key wins).
    pub(super) fn members(&self) -> impl Iterator<Item = (String, Value)> + '_ {
        self.0.iter().map(|o| (o.key.to_string(), o.value.clone()))
    }

    /// An error about a key that a variable set is said to be about the variable.
    pub(super) fn blame(&self, e: ConfigError) -> ConfigError {
        match e {
            ConfigError::Field { key, problem } => match self.0.iter().find(|o| o.key == key) {
                Some(o) => ConfigError::Env {
                    var: o.var.clone(),
                    key,
                    problem,
                },
                None => ConfigError::Field { key, problem },
            },
            other => other,
        }
    }
}

/// The config file to read: the one named by `-config`; else `config.json` in the working directory
/// when it exists, or when the environment sets no key either (so that its absence is the error); else
/// none, and the environment alone is the config.
pub(crate) fn choose_file(given: Option<&Path>, default_exists: bool, env: &Overrides) -> Option<PathBuf> {
    match given {
        Some(path) => Some(path.to_path_buf()),
        None if default_exists || env.is_empty() => Some(PathBuf::from("config.json")),
        None => None,
    }
}

fn read(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    keys: &'static [Key],
) -> Result<(Overrides, Vec<String>), ConfigError> {
    let mut found: Vec<(usize, Override)> = Vec::new();
    let mut warnings = Vec::new();
    for (name, value) in vars {
        // A name that is not UTF-8 cannot spell a key.
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let Some(index) = keys.iter().position(|k| k.name.eq_ignore_ascii_case(rest)) else {
            if !NOT_KEYS.contains(&name) {
                warnings.push(not_a_key(name, rest, keys));
            }
            continue;
        };
        let key = &keys[index];
        let problem = |problem: String| ConfigError::Env {
            var: name.to_string(),
            key: key.name,
            problem,
        };
        if let Some((_, other)) = found.iter().find(|(i, _)| *i == index) {
            return Err(problem(format!("{} sets the same key: give only one", other.var)));
        }
        let text = value
            .to_str()
            .ok_or_else(|| problem(format!("the value is not UTF-8: {value:?}")))?;
        let value = to_json(text, key.kind).map_err(problem)?;
        found.push((
            index,
            Override {
                var: name.to_string(),
                key: key.name,
                value,
            },
        ));
    }
    found.sort_by_key(|(i, _)| *i);
    Ok((Overrides(found.into_iter().map(|(_, o)| o).collect()), warnings))
}

/// A variable's text as the JSON value of a key of this kind.
fn to_json(text: &str, kind: Kind) -> Result<Value, String> {
    let json = serde_json::from_str::<Value>(text);
    match kind {
        Kind::Scalar => Ok(match json {
            Ok(v) if !v.is_array() && !v.is_object() => v,
            _ => Value::String(text.to_string()),
        }),
        Kind::List if text.trim_start().starts_with('[') => {
            json.map_err(|e| format!("not a JSON array ({e}): give one, or the items separated by commas"))
        }
        Kind::List => Ok(text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(Value::from)
            .collect()),
        Kind::Json => json.map_err(|e| format!("not JSON ({e}): this key takes a JSON value, as in config.json")),
    }
}

/// The warning for a `MESOS_DNS_*` name that is no key, with the key it may have meant.
fn not_a_key(name: &str, rest: &str, keys: &[Key]) -> String {
    let squeezed: String = rest.chars().filter(|&c| c != '_' && c != '-').collect();
    match keys.iter().find(|k| k.name.eq_ignore_ascii_case(&squeezed)) {
        Some(k) => format!(
            "environment variable {name} is not a config key: ignored (did you mean {PREFIX}{}?)",
            k.name.to_ascii_uppercase()
        ),
        None => format!("environment variable {name} is not a config key: ignored"),
    }
}

#[cfg(test)]
mod tests;
