//! A framework's tasks by id ([`TaskIndex`]) without a copy of the ids: a [`HashIndex`] checked
//! against the task an entry points at. Pure.

use super::list::TaskList;
use crate::refresh::hash_index::HashIndex;

/// Task id -> position in its framework's task list (kept as a `u32`: 8 bytes an entry).
#[derive(Debug, Default)]
pub(super) struct TaskIndex(HashIndex<Box<str>, u32>);

impl TaskIndex {
    /// Every id hashes alike (tests of the overflow map).
    #[cfg(test)]
    fn colliding() -> TaskIndex {
        let mut index = TaskIndex::default();
        index.0.colliding = true;
        index
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Where the task `id` is in `tasks`.
    pub(super) fn get(&self, id: &str, tasks: &TaskList) -> Option<usize> {
        let at = self.0.get(id, |i| holds(tasks, i, id), || id.into())?;
        Some(at as usize)
    }

    /// Where the task `id` is in `tasks`; when it is not there, records it at position `i` (where
    /// the caller puts it next) and gives `None`. The id is hashed once for both.
    pub(super) fn get_or_insert(&mut self, id: &str, tasks: &TaskList, i: usize) -> Option<usize> {
        let at = self
            .0
            .get_or_insert(id, |at| holds(tasks, at, id), || id.into(), position(i))?;
        Some(at as usize)
    }

    /// Records a task not in the index yet at position `i`.
    pub(super) fn insert(&mut self, id: &str, i: usize) {
        self.0.insert(id, || id.into(), position(i));
    }

    /// Forgets the task `id`; where it was.
    pub(super) fn remove(&mut self, id: &str, tasks: &TaskList) -> Option<usize> {
        let at = self.0.remove(id, |i| holds(tasks, i, id), || id.into())?;
        Some(at as usize)
    }

    /// The task `id` moved from position `from` to `to`.
    pub(super) fn moved(&mut self, id: &str, from: usize, to: usize) {
        self.0.moved(id, || id.into(), position(from), position(to));
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

/// Whether position `i` of `tasks` holds the task `id`.
fn holds(tasks: &TaskList, i: u32, id: &str) -> bool {
    tasks.get(i as usize).is_some_and(|t| t.id() == id)
}

/// A position as the index keeps it (a framework's tasks are far fewer than 2^32: the document that
/// lists them is at most `MAX_BODY_BYTES`; past that a position reads as no task's).
fn position(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refresh::model::packed::Packed;

    /// Adds, finds, moves and removes as the model does (swap_remove), with distinct hashes and with
    /// every id sharing one.
    #[test]
    fn ids_are_found_moved_and_removed_whether_or_not_their_hashes_collide() {
        for colliding in [false, true] {
            let mut index = if colliding {
                TaskIndex::colliding()
            } else {
                TaskIndex::default()
            };
            let mut tasks = TaskList::default();
            for i in 0..50 {
                let id = format!("t.{i}");
                assert_eq!(index.get(&id, &tasks), None);
                // Half are added by `insert`, half by `get_or_insert`, which finds them after.
                match i % 2 {
                    0 => index.insert(&id, tasks.len()),
                    _ => assert_eq!(index.get_or_insert(&id, &tasks, tasks.len()), None),
                }
                tasks.push(Packed::of_id(&id).as_ref());
                assert_eq!(
                    index.get_or_insert(&id, &tasks, 99),
                    Some(i),
                    "{id} is found, not added"
                );
            }
            for i in (0..50).step_by(3) {
                let id = format!("t.{i}");
                let at = index.remove(&id, &tasks).unwrap();
                assert_eq!(tasks.get(at).map(|t| t.id()), Some(&*id));
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
