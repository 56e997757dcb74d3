//! A framework's tasks, packed ([`super::packed`]) back to back in one buffer ([`TaskList`]): a task
//! costs its bytes and an 8-byte span, where one allocation each cost a 16-byte box in a list and the
//! allocator's header and rounding on top (about 30 bytes a task: 30 MB at a million). A replaced or
//! removed task leaves its bytes behind until they are a third of the buffer (half as many as the live
//! ones: stream mode's churn keeps a framework's tasks within 1.5x their size). Pure.

use super::packed::{Packed, PackedRef};
use crate::mesos::state::Task;

/// Tasks by position; removing one moves the last into its place (as `Vec::swap_remove`).
#[derive(Debug, Default)]
pub(crate) struct TaskList {
    bytes: Vec<u8>,
    /// Where each task's bytes are in `bytes`.
    spans: Vec<(u32, u32)>,
    /// Bytes no span covers any more.
    dead: usize,
}

impl TaskList {
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub(crate) fn get(&self, i: usize) -> Option<PackedRef<'_>> {
        let &(start, end) = self.spans.get(i)?;
        self.bytes.get(start as usize..end as usize).map(PackedRef)
    }

    /// The tasks in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = PackedRef<'_>> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Adds a task at the end.
    pub(crate) fn push(&mut self, task: PackedRef<'_>) {
        let span = self.append(task);
        self.spans.push(span);
    }

    /// Adds `task` at the end, packed straight into the buffer ([`Packed::pack_into`]).
    pub(crate) fn push_packed(&mut self, task: &Task<'_>, agent: u32) {
        let start = self.bytes.len();
        Packed::pack_into(task, agent, &mut self.bytes);
        match (u32::try_from(start), u32::try_from(self.bytes.len())) {
            (Ok(start), Ok(end)) => self.spans.push((start, end)),
            // Past 4 GiB: as `push`, which compacts first.
            _ => {
                let task = self.bytes.split_off(start);
                self.push(PackedRef(&task));
            }
        }
    }

    /// Replaces the task at `i` (nothing when there is none).
    pub(crate) fn set(&mut self, i: usize, task: PackedRef<'_>) {
        if i >= self.spans.len() {
            return;
        }
        let span = self.append(task);
        if let Some(old) = self.spans.get_mut(i) {
            self.dead += (old.1 - old.0) as usize;
            *old = span;
        }
        self.compact_if_mostly_dead();
    }

    /// Removes the task at `i`, moving the last one into its place.
    pub(crate) fn swap_remove(&mut self, i: usize) {
        if i >= self.spans.len() {
            return;
        }
        let (start, end) = self.spans.swap_remove(i);
        self.dead += (end - start) as usize;
        self.compact_if_mostly_dead();
    }

    /// Gives back what growth left over.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.spans.shrink_to_fit();
    }

    /// Appends a task's bytes; their span. Past 4 GiB in one framework (a document is at most 1 GiB,
    /// and dead bytes are at most as many as live ones) the buffer is compacted first; a task that
    /// still does not fit reads as empty.
    fn append(&mut self, task: PackedRef<'_>) -> (u32, u32) {
        let fits = |list: &TaskList| u32::try_from(list.bytes.len() + task.0.len()).is_ok();
        if !fits(self) {
            self.compact();
        }
        if !fits(self) {
            return (0, 0);
        }
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(task.0);
        (start, self.bytes.len() as u32)
    }

    fn compact_if_mostly_dead(&mut self) {
        if self.dead > 4096 && self.dead * 3 > self.bytes.len() {
            self.compact();
        }
    }

    /// Rewrites the buffer with the live tasks only, in order.
    fn compact(&mut self) {
        let mut bytes = Vec::with_capacity(self.bytes.len() - self.dead);
        for span in &mut self.spans {
            let task = self.bytes.get(span.0 as usize..span.1 as usize).unwrap_or_default();
            let start = bytes.len() as u32;
            bytes.extend_from_slice(task);
            *span = (start, bytes.len() as u32);
        }
        self.bytes = bytes;
        self.dead = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &TaskList) -> Vec<&str> {
        list.iter().map(|t| t.id()).collect()
    }

    /// Pushes, replaces and removes as the model does, past the point where dead bytes are dropped:
    /// the list reads as a `Vec` of the same tasks would.
    #[test]
    fn the_list_reads_as_a_vec_of_its_tasks_through_replacements_removals_and_compactions() {
        let (mut list, mut want) = (TaskList::default(), Vec::new());
        for i in 0..2000 {
            let id = format!("task-{i}.{}", "x".repeat(i % 40));
            match i % 2 {
                0 => list.push(Packed::of_id(&id).as_ref()),
                _ => list.push_packed(
                    &Task {
                        id: id.clone().into(),
                        ..Task::default()
                    },
                    0,
                ),
            }
            want.push(id);
            if i % 3 == 0 {
                let at = i / 2;
                let id = format!("again-{i}");
                list.set(at, Packed::of_id(&id).as_ref());
                want[at] = id;
            }
            if i % 5 == 0 {
                let at = i / 3;
                list.swap_remove(at);
                want.swap_remove(at);
            }
            assert_eq!(list.len(), want.len());
        }
        assert_eq!(ids(&list), want);
        assert_eq!(
            list.bytes.len() - list.dead,
            list.iter().map(|t| t.0.len()).sum::<usize>()
        );
        assert!(
            list.dead * 3 <= list.bytes.len() || list.dead <= 4096,
            "dead bytes are dropped"
        );
        list.set(want.len(), Packed::of_id("nowhere").as_ref());
        list.swap_remove(want.len());
        assert_eq!(ids(&list), want, "positions past the end change nothing");
        assert_eq!(list.get(want.len()), None);
    }
}
