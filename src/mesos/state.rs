//! serde types of the master's `/master/state` JSON, tolerant of old (0.19-0.28) and new (1.x) masters.

use serde::Deserialize;

/// A master state document, borrowing its strings from the JSON text where it can.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct State<'a> {
    #[serde(borrow)]
    pub leader: std::borrow::Cow<'a, str>,
}

/// Parses a state document.
pub fn parse(body: &[u8]) -> Result<State<'_>, serde_json::Error> {
    serde_json::from_slice(body)
}
