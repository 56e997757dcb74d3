//! The task filters (issue 25): `minVisibility`, `excludeFrameworks` and `excludeTaskLabels`, parsed
//! once into a [`TaskFilter`], and the pure rules that say whether a task or a framework's tasks are
//! hidden. Record generation applies them to every task it names (`records::generate`).

use std::fmt;

/// A `DiscoveryInfo.visibility`, in order: `FRAMEWORK` < `CLUSTER` < `EXTERNAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Visibility {
    #[default]
    Framework,
    Cluster,
    External,
}

impl Visibility {
    /// The name Mesos uses (and `minVisibility` takes).
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Framework => "FRAMEWORK",
            Visibility::Cluster => "CLUSTER",
            Visibility::External => "EXTERNAL",
        }
    }

    /// Parses a visibility, ignoring case.
    pub fn parse(s: &str) -> Option<Visibility> {
        [Visibility::Framework, Visibility::Cluster, Visibility::External]
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

/// One `excludeTaskLabels` entry: `KEY=VALUE` (that label with that value) or `KEY` (that label with
/// any value). Keys and values match exactly, as Mesos compares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMatch {
    pub key: String,
    pub value: Option<String>,
}

impl LabelMatch {
    /// Parses `KEY=VALUE` or `KEY` (split at the first `=`; the value may be empty, the key not).
    pub fn parse(s: &str) -> Result<LabelMatch, String> {
        let (key, value) = match s.split_once('=') {
            Some((k, v)) => (k, Some(v.to_owned())),
            None => (s, None),
        };
        if key.is_empty() {
            return Err(format!(
                "{s:?} has an empty label key: expected \"KEY=VALUE\" or \"KEY\""
            ));
        }
        Ok(LabelMatch {
            key: key.to_owned(),
            value,
        })
    }

    /// Whether the label `key`/`value` matches.
    pub fn matches(&self, key: &str, value: &str) -> bool {
        self.key == key && self.value.as_deref().map_or(true, |v| v == value)
    }
}

impl fmt::Display for LabelMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{}={v}", self.key),
            None => f.write_str(&self.key),
        }
    }
}

/// Which tasks get no records, besides the ones that are not running (the default hides none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskFilter {
    /// `minVisibility`: a task whose `discovery.visibility` is below it is hidden; a task without
    /// one (no `DiscoveryInfo`, or a value Mesos does not define) is not.
    pub min_visibility: Visibility,
    /// `excludeFrameworks`: frameworks (by name, as written in the config) whose tasks are hidden.
    pub exclude_frameworks: Vec<String>,
    /// `excludeTaskLabels`: a task carrying a label one of these matches is hidden.
    pub exclude_task_labels: Vec<LabelMatch>,
}

impl TaskFilter {
    /// No filter: every task is published.
    pub const NONE: TaskFilter = TaskFilter {
        min_visibility: Visibility::Framework,
        exclude_frameworks: Vec::new(),
        exclude_task_labels: Vec::new(),
    };

    /// Whether the tasks of the framework named `name` are hidden (its name matched without regard to case).
    pub fn excludes_framework(&self, name: &str) -> bool {
        if self.exclude_frameworks.is_empty() {
            return false;
        }
        let name = name.to_lowercase();
        self.exclude_frameworks.iter().any(|f| f.to_lowercase() == name)
    }

    /// Whether a task with the discovery visibility `visibility` (empty: none) and these labels is hidden.
    pub fn hides_task<'l>(&self, visibility: &str, mut labels: impl Iterator<Item = (&'l str, &'l str)>) -> bool {
        let low = Visibility::parse(visibility).is_some_and(|v| v < self.min_visibility);
        low || (!self.exclude_task_labels.is_empty()
            && labels.any(|(k, v)| self.exclude_task_labels.iter().any(|m| m.matches(k, v))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(min: Visibility, labels: &[&str]) -> TaskFilter {
        TaskFilter {
            min_visibility: min,
            exclude_frameworks: vec!["Marathon".into()],
            exclude_task_labels: labels.iter().map(|l| LabelMatch::parse(l).unwrap()).collect(),
        }
    }

    #[test]
    fn visibility_below_the_minimum_is_hidden_and_none_is_kept() {
        let none = std::iter::empty();
        for (min, hidden) in [
            (Visibility::Framework, &[][..]),
            (Visibility::Cluster, &["FRAMEWORK"][..]),
            (Visibility::External, &["FRAMEWORK", "cluster"][..]),
        ] {
            let f = filter(min, &[]);
            for v in ["FRAMEWORK", "cluster", "EXTERNAL", "", "SOMETHING"] {
                assert_eq!(f.hides_task(v, none.clone()), hidden.contains(&v), "{min:?} {v}");
            }
        }
    }

    #[test]
    fn labels_match_by_key_or_key_and_value() {
        let f = filter(Visibility::Framework, &["dns=off", "private", "empty="]);
        let hides = |labels: &[(&str, &str)]| f.hides_task("", labels.iter().copied());
        assert!(hides(&[("a", "b"), ("dns", "off")]));
        assert!(!hides(&[("dns", "on")]));
        assert!(!hides(&[("DNS", "off")]));
        assert!(hides(&[("private", "")]));
        assert!(hides(&[("private", "yes")]));
        assert!(hides(&[("empty", "")]));
        assert!(!hides(&[("empty", "x")]));
        assert!(!hides(&[]));
    }

    #[test]
    fn frameworks_match_without_regard_to_case() {
        let f = filter(Visibility::Framework, &[]);
        assert!(f.excludes_framework("marathon"));
        assert!(f.excludes_framework("MARATHON"));
        assert!(!f.excludes_framework("marathon-lb"));
        assert!(!TaskFilter::NONE.excludes_framework("marathon"));
    }

    #[test]
    fn label_entries_parse_and_show_as_written() {
        for s in ["a=b", "a", "a=", "a=b=c"] {
            assert_eq!(LabelMatch::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(LabelMatch::parse("a=b=c").unwrap().value.as_deref(), Some("b=c"));
        for bad in ["", "=x", "="] {
            assert!(LabelMatch::parse(bad).unwrap_err().contains("empty label key"), "{bad}");
        }
    }
}
