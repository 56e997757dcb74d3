//! Which slot of the task table holds a task ([`SlotIndex`]), without a copy of its id: a
//! [`HashIndex`] of (framework index, task id) checked against the entry the slot holds. 16 bytes a
//! task where an owned key cost about 60. Pure.

use crate::refresh::hash_index::HashIndex;
use crate::snapshot::TaskTable;

/// (framework index, task id) -> slot in a [`TaskTable`] (the caller keeps the two in step: a key
/// is removed before its entry is taken out of the table).
#[derive(Debug, Default)]
pub(super) struct SlotIndex(HashIndex<(u32, Box<str>), u32>);

impl SlotIndex {
    /// Every key hashes alike (tests of the overflow map).
    #[cfg(test)]
    fn colliding() -> SlotIndex {
        let mut index = SlotIndex::default();
        index.0.colliding = true;
        index
    }

    /// Room for `n` tasks.
    pub(super) fn with_capacity(n: usize) -> SlotIndex {
        SlotIndex(HashIndex::with_capacity(n))
    }

    /// Records the task just stored at `slot` (not in the index yet).
    pub(super) fn insert(&mut self, framework: u32, id: &str, slot: u32) {
        self.0.insert(&(framework, id), || (framework, id.into()), slot);
    }

    /// Forgets the task; the slot it is in (still in `table`).
    pub(super) fn remove(&mut self, framework: u32, id: &str, table: &TaskTable) -> Option<u32> {
        let holds = |slot: u32| {
            table
                .get(slot as usize)
                .is_some_and(|e| e.framework == framework && e.id_is(id))
        };
        self.0.remove(&(framework, id), holds, || (framework, id.into()))
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }

    /// Heap bytes (the start probe's breakdown).
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        self.0.heap_bytes()
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
            let mut index = if colliding {
                SlotIndex::colliding()
            } else {
                SlotIndex::default()
            };
            let mut table = TaskTable::new(vec!["a".into(), "b".into()], vec![], None);
            let mut keys = Vec::new();
            for i in 0..40u32 {
                let (f, id) = (i % 2, format!("t.{}", i / 2));
                let slot = table.insert(&TaskEntry::new((f, 0), "web", &id, &[]));
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
