//! The tasks of a snapshot kept up to date by edits (stream mode), each with the records it generated,
//! for `/v1/enumerate` and for taking a task's records away again. Copy-on-write in chunks of slots like
//! the nodes ([`super::chunk`]): a published snapshot shares every chunk of tasks no event touched.

use std::sync::Arc;

use super::list::Data;

const CHUNK: usize = 256;

/// One record a task generated, as the snapshot stores it: its owner and targets by node id (each a
/// node while the record is there), in 12 bytes (a million of them at 100k tasks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskRecord {
    pub(crate) owner: u32,
    /// An A record's address, an SRV record's target, or an AAAA record's index in [`TaskEntry::v6`].
    value: u32,
    port: u16,
    kind: u8,
}

const KIND_A: u8 = 0;
const KIND_AAAA: u8 = 1;
const KIND_SRV: u8 = 2;
/// An A or AAAA record whose address points back to the owner (a PTR record too).
const REVERSE: u8 = 0x80;

impl TaskRecord {
    /// `data` at `owner` (`None` for CNAME and TXT, which no task has); an AAAA address goes to `v6`.
    pub(crate) fn new(owner: u32, data: Data, reverse: bool, v6: &mut Vec<[u8; 16]>) -> Option<TaskRecord> {
        let back = if reverse { REVERSE } else { 0 };
        let (value, port, kind) = match data {
            Data::A(ip) => (u32::from_be_bytes(ip), 0, KIND_A | back),
            Data::Aaaa(ip) => {
                v6.push(ip);
                (u32::try_from(v6.len() - 1).ok()?, 0, KIND_AAAA | back)
            }
            Data::Srv { target, port } => (target, port, KIND_SRV),
            Data::Other(_) => return None,
        };
        Some(TaskRecord {
            owner,
            value,
            port,
            kind,
        })
    }

    pub(crate) fn reverse(&self) -> bool {
        self.kind & REVERSE != 0
    }
}

/// A running task and its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskEntry {
    /// The framework's position in [`TaskTable::frameworks`].
    pub(crate) framework: u32,
    /// The agent's position in [`TaskTable::agents`] (a failover carries an agent's tasks over).
    pub(crate) agent: u32,
    /// Where the name ends in `text`.
    name_end: u32,
    /// The task's name, then its id: one allocation for both (100k of them at 100k tasks).
    text: Box<str>,
    pub(crate) records: Box<[TaskRecord]>,
    /// The addresses of its AAAA records.
    pub(crate) v6: Box<[[u8; 16]]>,
}

impl TaskEntry {
    /// A task named `name` with id `id` and these records (AAAA addresses in `v6`).
    pub(crate) fn new(
        (framework, agent): (u32, u32),
        name: &str,
        id: &str,
        records: Box<[TaskRecord]>,
        v6: Box<[[u8; 16]]>,
    ) -> TaskEntry {
        let mut text = String::with_capacity(name.len() + id.len());
        text.push_str(name);
        text.push_str(id);
        TaskEntry {
            framework,
            agent,
            name_end: u32::try_from(name.len()).unwrap_or(0),
            text: text.into_boxed_str(),
            records,
            v6,
        }
    }

    pub(crate) fn name(&self) -> &str {
        self.text.get(..self.name_end as usize).unwrap_or_default()
    }

    pub(crate) fn id(&self) -> &str {
        self.text.get(self.name_end as usize..).unwrap_or_default()
    }

    /// The data of one of its records.
    pub(crate) fn data(&self, r: &TaskRecord) -> Data {
        match r.kind & !REVERSE {
            KIND_A => Data::A(r.value.to_be_bytes()),
            KIND_AAAA => Data::Aaaa(self.v6.get(r.value as usize).copied().unwrap_or_default()),
            _ => Data::Srv {
                target: r.value,
                port: r.port,
            },
        }
    }
}

/// Tasks by slot; a slot freed by a task that stopped is taken by the next one.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskTable {
    frameworks: Arc<[String]>,
    agents: Arc<[String]>,
    chunks: Vec<Arc<Vec<Option<TaskEntry>>>>,
    free: Vec<u32>,
}

impl TaskTable {
    /// An empty table for the frameworks of the state, in state order, and the agents its tasks
    /// run on.
    pub(crate) fn new(frameworks: Vec<String>, agents: Vec<String>) -> TaskTable {
        TaskTable {
            frameworks: frameworks.into(),
            agents: agents.into(),
            ..TaskTable::default()
        }
    }

    pub(crate) fn frameworks(&self) -> &[String] {
        &self.frameworks
    }

    /// The id of the agent a task runs on (empty when not known).
    pub(crate) fn agent(&self, entry: &TaskEntry) -> &str {
        self.agents.get(entry.agent as usize).map_or("", String::as_str)
    }

    /// Every task, in slot order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &TaskEntry> + '_ {
        self.chunks.iter().flat_map(|c| c.iter()).flatten()
    }

    /// Number of tasks.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.chunks
            .iter()
            .flat_map(|c| c.iter())
            .filter(|t| t.is_some())
            .count()
    }

    /// Heap bytes: (the slots, the names and ids, the records and addresses, allocations made).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> (usize, usize, usize, usize) {
        let slots = self
            .chunks
            .iter()
            .map(|c| c.capacity() * std::mem::size_of::<Option<TaskEntry>>())
            .sum();
        let mut text = 0;
        let mut records = 0;
        let mut allocs = self.chunks.len();
        for e in self.entries() {
            text += e.text.len();
            records += e.records.len() * std::mem::size_of::<TaskRecord>() + e.v6.len() * 16;
            allocs += usize::from(!e.text.is_empty());
            allocs += usize::from(!e.records.is_empty()) + usize::from(!e.v6.is_empty());
        }
        (slots, text, records, allocs)
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
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> TaskEntry {
        TaskEntry::new((0, 0), "web", id, Box::new([]), Box::new([]))
    }

    #[test]
    fn records_keep_their_data_in_twelve_bytes() {
        assert_eq!(std::mem::size_of::<TaskRecord>(), 12);
        let mut v6 = Vec::new();
        let data = [
            (Data::A([10, 0, 0, 1]), true),
            (Data::Aaaa([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]), true),
            (
                Data::Srv {
                    target: 77,
                    port: 31000,
                },
                false,
            ),
            (Data::Aaaa([0xfd; 16]), false),
        ];
        let records: Vec<TaskRecord> = data
            .iter()
            .map(|&(d, back)| TaskRecord::new(5, d, back, &mut v6).unwrap())
            .collect();
        assert_eq!(TaskRecord::new(5, Data::Other(0), false, &mut v6), None);
        let e = TaskEntry::new((0, 0), "web", "t", records.into(), v6.into());
        assert_eq!((e.name(), e.id()), ("web", "t"));
        let back: Vec<(Data, bool)> = e.records.iter().map(|r| (e.data(r), r.reverse())).collect();
        assert_eq!(back, data);
        assert!(e.records.iter().all(|r| r.owner == 5));
    }

    #[test]
    fn slots_are_reused_and_clones_keep_what_they_saw() {
        let mut table = TaskTable::new(vec!["marathon".into()], vec!["a1".into()]);
        let slots: Vec<usize> = (0..600).map(|i| table.insert(entry(&format!("t{i}")))).collect();
        assert_eq!(slots, (0..600).collect::<Vec<_>>());
        let published = table.clone();
        assert_eq!(table.take(300).map(|e| e.id().to_owned()), Some("t300".into()));
        assert_eq!(table.take(300), None, "a slot is taken once");
        assert_eq!(table.insert(entry("new")), 300, "the freed slot is taken again");
        assert_eq!(table.get(300).map(TaskEntry::id), Some("new"));
        assert_eq!(published.get(300).map(TaskEntry::id), Some("t300"));
        assert_eq!((table.len(), table.slot_bound()), (600, 600));
    }
}
