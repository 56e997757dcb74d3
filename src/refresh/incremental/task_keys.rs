//! The tasks an edit changes, packed ([`TaskKeys`]): what [`super::Incremental::apply_keys`] reads.
//! The model says which tasks changed as owned (framework id, task id) pairs, two allocations a task:
//! a churning poll at 100k tasks (a tenth replaced) names 20k of them, about 3 MB in 40k small blocks
//! that lived through the edit, beside (and among) the chunk copies it makes. Packed, they are
//! 1.2 MB in three blocks, and the pairs are freed before the edit starts. Pure.

/// (Framework id, task id) pairs, in order: the framework ids once each (a cluster has a few), the
/// task ids back to back.
#[derive(Debug, Default)]
pub(crate) struct TaskKeys {
    frameworks: Vec<String>,
    ids: String,
    /// Per task: its framework's place in `frameworks`, and where its id ends in `ids` (it starts
    /// where the one before ends).
    keys: Vec<(usize, usize)>,
}

impl TaskKeys {
    /// The pairs, packed; the owned pairs are freed here.
    pub(crate) fn pack(pairs: Vec<(String, String)>) -> TaskKeys {
        let bytes = pairs.iter().map(|(_, t)| t.len()).sum();
        let mut packed = TaskKeys {
            frameworks: Vec::new(),
            ids: String::with_capacity(bytes),
            keys: Vec::with_capacity(pairs.len()),
        };
        for (framework, task) in &pairs {
            let f = match packed.frameworks.iter().rposition(|f| f == framework) {
                Some(f) => f,
                None => {
                    packed.frameworks.push(framework.clone());
                    packed.frameworks.len() - 1
                }
            };
            packed.ids.push_str(task);
            packed.keys.push((f, packed.ids.len()));
        }
        packed
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The pairs, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let starts = std::iter::once(0).chain(self.keys.iter().map(|&(_, end)| end));
        self.keys.iter().zip(starts).map(|(&(f, end), start)| {
            let framework = self.frameworks.get(f).map_or("", String::as_str);
            (framework, self.ids.get(start..end).unwrap_or_default())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(f: &str, t: &str) -> (String, String) {
        (f.to_owned(), t.to_owned())
    }

    /// The pairs come back as given, in order, repeats and empty ids too; each framework id is kept once.
    #[test]
    fn gives_the_pairs_back_in_order() {
        let pairs = vec![
            pair("fw-1", "web.1"),
            pair("fw-2", "db.é"),
            pair("fw-1", ""),
            pair("fw-1", "web.1"),
            pair("fw-3", "x"),
        ];
        let keys = TaskKeys::pack(pairs.clone());
        assert_eq!(keys.len(), 5);
        let back: Vec<(String, String)> = keys.iter().map(|(f, t)| pair(f, t)).collect();
        assert_eq!(back, pairs);
        assert_eq!(keys.frameworks, ["fw-1", "fw-2", "fw-3"]);
        assert_eq!(keys.ids, "web.1db.éweb.1x");
    }

    #[test]
    fn none_gives_none() {
        let keys = TaskKeys::pack(Vec::new());
        assert_eq!((keys.len(), keys.iter().count()), (0, 0));
    }
}
