//! A framework's tasks by id ([`TaskIndex`]) without a copy of the ids: keyed by a hash of the id,
//! checked against the task the entry points at (ids that share a hash go to a small map of their
//! own). Pure.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use super::packed::Packed;

/// Task id -> position in its framework's task list.
#[derive(Debug, Default)]
pub(super) struct TaskIndex {
    /// Random keys: ids that share a hash cannot be chosen from outside.
    hasher: RandomState,
    by_hash: HashMap<u64, usize>,
    /// Ids whose hash another id holds in `by_hash` (almost always empty).
    overflow: HashMap<Box<str>, usize>,
    /// Every id hashes alike (tests of the overflow map).
    #[cfg(test)]
    pub(super) colliding: bool,
}

impl TaskIndex {
    fn hash(&self, id: &str) -> u64 {
        #[cfg(test)]
        if self.colliding {
            return 0;
        }
        self.hasher.hash_one(id)
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.by_hash.len() + self.overflow.len()
    }

    /// Where the task `id` is in `tasks`.
    pub(super) fn get(&self, id: &str, tasks: &[Packed]) -> Option<usize> {
        let h = self.hash(id);
        match self.by_hash.get(&h) {
            Some(&i) if tasks.get(i).is_some_and(|t| t.id() == id) => Some(i),
            _ => self.overflow.get(id).copied(),
        }
    }

    /// Records a task not in the index yet at position `i`.
    pub(super) fn insert(&mut self, id: &str, i: usize) {
        let h = self.hash(id);
        match self.by_hash.entry(h) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(i);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.overflow.insert(id.into(), i);
            }
        }
    }

    /// Forgets the task `id`; where it was.
    pub(super) fn remove(&mut self, id: &str, tasks: &[Packed]) -> Option<usize> {
        let h = self.hash(id);
        match self.by_hash.get(&h) {
            Some(&i) if tasks.get(i).is_some_and(|t| t.id() == id) => self.by_hash.remove(&h),
            _ => self.overflow.remove(id),
        }
    }

    /// The task `id` moved from position `from` to `to`.
    pub(super) fn moved(&mut self, id: &str, from: usize, to: usize) {
        let h = self.hash(id);
        match self.by_hash.get_mut(&h) {
            Some(i) if *i == from => *i = to,
            _ => {
                if let Some(i) = self.overflow.get_mut(id) {
                    *i = to;
                }
            }
        }
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.by_hash.shrink_to_fit();
        self.overflow.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::state::Task;

    fn packed(id: &str) -> Packed {
        let task = Task {
            id: id.to_owned().into(),
            ..Task::default()
        };
        Packed::pack(&task, 0)
    }

    /// Adds, finds, moves and removes as the model does (swap_remove), with distinct hashes and with
    /// every id sharing one.
    #[test]
    fn ids_are_found_moved_and_removed_whether_or_not_their_hashes_collide() {
        for colliding in [false, true] {
            let mut index = TaskIndex {
                colliding,
                ..TaskIndex::default()
            };
            let mut tasks: Vec<Packed> = Vec::new();
            for i in 0..50 {
                let id = format!("t.{i}");
                assert_eq!(index.get(&id, &tasks), None);
                index.insert(&id, tasks.len());
                tasks.push(packed(&id));
            }
            for i in (0..50).step_by(3) {
                let id = format!("t.{i}");
                let at = index.remove(&id, &tasks).unwrap();
                assert_eq!(tasks[at].id(), id);
                tasks.swap_remove(at);
                if let Some(moved) = tasks.get(at) {
                    index.moved(moved.id(), tasks.len(), at);
                }
                assert_eq!(index.get(&id, &tasks), None, "{id} is gone");
            }
            assert_eq!(index.len(), tasks.len());
            for (at, t) in tasks.iter().enumerate() {
                assert_eq!(index.get(t.id(), &tasks), Some(at), "colliding: {colliding}");
            }
        }
    }
}
