//! The tasks of a snapshot kept up to date by edits (stream mode), each with the records it generated,
//! for `/v1/enumerate` and for taking a task's records away again. Copy-on-write in chunks of slots like
//! the nodes ([`super::chunk`]): a published snapshot shares every chunk of tasks no event touched.

use std::sync::Arc;

use super::list::Data;

const CHUNK: usize = 256;

/// One record a task generated, as the snapshot stores it: its owner and targets by node id (each a
/// node while the record is there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskRecord {
    pub(crate) owner: u32,
    pub(crate) data: Data,
    /// An A or AAAA record whose address points back to the owner (a PTR record too).
    pub(crate) reverse: bool,
}

/// A running task and its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskEntry {
    /// The framework's position in [`TaskTable::frameworks`].
    pub(crate) framework: u32,
    pub(crate) name: Box<str>,
    pub(crate) id: Box<str>,
    pub(crate) records: Box<[TaskRecord]>,
}

/// Tasks by slot; a slot freed by a task that stopped is taken by the next one.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskTable {
    frameworks: Arc<[String]>,
    chunks: Vec<Arc<Vec<Option<TaskEntry>>>>,
    free: Vec<u32>,
    len: usize,
}

impl TaskTable {
    /// An empty table for the frameworks of the state, in state order.
    pub(crate) fn new(frameworks: Vec<String>) -> TaskTable {
        TaskTable {
            frameworks: frameworks.into(),
            ..TaskTable::default()
        }
    }

    pub(crate) fn frameworks(&self) -> &[String] {
        &self.frameworks
    }

    /// Number of tasks.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Slots are below this.
    pub(crate) fn slot_bound(&self) -> usize {
        self.chunks.iter().map(|c| c.len()).sum()
    }

    pub(crate) fn get(&self, slot: usize) -> Option<&TaskEntry> {
        self.chunks.get(slot / CHUNK)?.get(slot % CHUNK)?.as_ref()
    }

    /// Stores a task; its slot.
    pub(crate) fn insert(&mut self, entry: TaskEntry) -> usize {
        self.len += 1;
        if let Some(slot) = self.free.pop() {
            let slot = slot as usize;
            if let Some(place) = self
                .chunks
                .get_mut(slot / CHUNK)
                .and_then(|c| Arc::make_mut(c).get_mut(slot % CHUNK))
            {
                *place = Some(entry);
                return slot;
            }
        }
        if self.chunks.last().map_or(true, |c| c.len() >= CHUNK) {
            self.chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
        }
        let c = self.chunks.len() - 1;
        match self.chunks.last_mut() {
            Some(chunk) => {
                let chunk = Arc::make_mut(chunk);
                chunk.push(Some(entry));
                c * CHUNK + chunk.len() - 1
            }
            None => 0,
        }
    }

    /// Takes the task out of `slot`.
    pub(crate) fn take(&mut self, slot: usize) -> Option<TaskEntry> {
        let chunk = self.chunks.get_mut(slot / CHUNK)?;
        chunk.get(slot % CHUNK)?.as_ref()?;
        let entry = Arc::make_mut(chunk).get_mut(slot % CHUNK)?.take()?;
        self.free.push(slot as u32);
        self.len -= 1;
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> TaskEntry {
        TaskEntry {
            framework: 0,
            name: "web".into(),
            id: id.into(),
            records: Box::new([]),
        }
    }

    #[test]
    fn slots_are_reused_and_clones_keep_what_they_saw() {
        let mut table = TaskTable::new(vec!["marathon".into()]);
        let slots: Vec<usize> = (0..600).map(|i| table.insert(entry(&format!("t{i}")))).collect();
        assert_eq!(slots, (0..600).collect::<Vec<_>>());
        let published = table.clone();
        assert_eq!(table.take(300).map(|e| e.id), Some("t300".into()));
        assert_eq!(table.take(300), None, "a slot is taken once");
        assert_eq!(table.insert(entry("new")), 300, "the freed slot is taken again");
        assert_eq!(table.get(300).map(|e| &*e.id), Some("new"));
        assert_eq!(published.get(300).map(|e| &*e.id), Some("t300"));
        assert_eq!((table.len(), table.slot_bound()), (600, 600));
    }
}
