//! Which slot of the task table holds a task ([`SlotIndex`]), without a copy of its id: keyed by a
//! hash of (framework index, task id), checked against the entry the slot holds (keys that share a
//! hash go to a small map of their own). 16 bytes a task where an owned key cost about 60. Pure.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use crate::snapshot::TaskTable;

/// (framework index, task id) -> slot in a [`TaskTable`] (the caller keeps the two in step: a key
/// is removed before its entry is taken out of the table).
#[derive(Debug, Default)]
pub(super) struct SlotIndex {
    /// Random keys: ids that share a hash cannot be chosen from outside.
    hasher: RandomState,
    by_hash: HashMap<u64, u32>,
    /// Keys whose hash another key holds in `by_hash` (almost always empty).
    overflow: HashMap<(u32, Box<str>), u32>,
    /// Every key hashes alike (tests of the overflow map).
    #[cfg(test)]
    pub(super) colliding: bool,
}

impl SlotIndex {
    fn hash(&self, framework: u32, id: &str) -> u64 {
        #[cfg(test)]
        if self.colliding {
            return 0;
        }
        self.hasher.hash_one((framework, id))
    }

    /// Whether `slot` of `table` holds this task.
    fn holds(table: &TaskTable, slot: u32, framework: u32, id: &str) -> bool {
        table
            .get(slot as usize)
            .is_some_and(|e| e.framework == framework && e.id() == id)
    }

    /// Room for `n` tasks.
    pub(super) fn with_capacity(n: usize) -> SlotIndex {
        SlotIndex {
            by_hash: HashMap::with_capacity(n),
            ..SlotIndex::default()
        }
    }

    /// Records the task just stored at `slot` (not in the index yet).
    pub(super) fn insert(&mut self, framework: u32, id: &str, slot: u32) {
        match self.by_hash.entry(self.hash(framework, id)) {
            Entry::Vacant(e) => {
                e.insert(slot);
            }
            Entry::Occupied(_) => {
                self.overflow.insert((framework, id.into()), slot);
            }
        }
    }

    /// Forgets the task; the slot it is in (still in `table`).
    pub(super) fn remove(&mut self, framework: u32, id: &str, table: &TaskTable) -> Option<u32> {
        let h = self.hash(framework, id);
        match self.by_hash.get(&h) {
            Some(&slot) if Self::holds(table, slot, framework, id) => self.by_hash.remove(&h),
            _ if self.overflow.is_empty() => None,
            _ => self.overflow.remove(&(framework, Box::<str>::from(id))),
        }
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.by_hash.shrink_to_fit();
        self.overflow.shrink_to_fit();
    }

    /// Heap bytes (the start probe's breakdown).
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        self.by_hash.capacity() * (std::mem::size_of::<(u64, u32)>() + 1)
            + self.overflow.capacity() * (std::mem::size_of::<((u32, Box<str>), u32)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::TaskEntry;

    /// Stores, finds and removes as the incremental snapshot does, with distinct hashes and with every
    /// key sharing one; the same id in two frameworks is two tasks.
    #[test]
    fn tasks_are_found_and_removed_whether_or_not_their_hashes_collide() {
        for colliding in [false, true] {
            let mut index = SlotIndex {
                colliding,
                ..SlotIndex::default()
            };
            let mut table = TaskTable::new(vec!["a".into(), "b".into()], vec![]);
            let mut keys = Vec::new();
            for i in 0..40u32 {
                let (f, id) = (i % 2, format!("t.{}", i / 2));
                let slot = table.insert(&TaskEntry::new((f, 0), "web", &id, &[], &[]));
                index.insert(f, &id, slot as u32);
                keys.push((f, id, slot as u32));
            }
            for (f, id, slot) in keys.iter().step_by(3) {
                assert_eq!(index.remove(*f, id, &table), Some(*slot), "colliding: {colliding}");
                table.take(*slot as usize);
                assert_eq!(index.remove(*f, id, &table), None, "{f}/{id} is gone");
            }
            for (n, (f, id, slot)) in keys.iter().enumerate() {
                let want = (n % 3 != 0).then_some(*slot);
                assert_eq!(index.remove(*f, id, &table), want, "{f}/{id}, colliding: {colliding}");
            }
        }
    }
}
