//! The tasks of a snapshot kept up to date by edits (stream mode), each with the records it generated,
//! for `/v1/enumerate` and for taking a task's records away again. Copy-on-write in chunks of slots like
//! the nodes ([`super::chunk`]): a published snapshot shares every chunk of tasks no event touched.
//! A chunk keeps its tasks' names, ids, records and IPv6 addresses back to back in one array each (no
//! allocation per task), read as borrowed [`TaskEntry`]s; what taken tasks leave behind is dropped when
//! it outgrows what is live.

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

/// A running task and its records, as the table holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskEntry<'a> {
    /// The framework's position in [`TaskTable::frameworks`].
    pub(crate) framework: u32,
    /// The agent's position in [`TaskTable::agents`] (a failover carries an agent's tasks over).
    pub(crate) agent: u32,
    name: &'a str,
    id: &'a str,
    pub(crate) records: &'a [TaskRecord],
    /// The addresses of its AAAA records.
    pub(crate) v6: &'a [[u8; 16]],
}

impl<'a> TaskEntry<'a> {
    /// A task named `name` with id `id` and these records (AAAA addresses in `v6`), to be inserted.
    pub(crate) fn new(
        (framework, agent): (u32, u32),
        name: &'a str,
        id: &'a str,
        records: &'a [TaskRecord],
        v6: &'a [[u8; 16]],
    ) -> TaskEntry<'a> {
        TaskEntry {
            framework,
            agent,
            name,
            id,
            records,
            v6,
        }
    }

    pub(crate) fn name(&self) -> &'a str {
        self.name
    }

    pub(crate) fn id(&self) -> &'a str {
        self.id
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

/// Where one slot's task is in its chunk's arrays (`None` in `Chunk::rows`: a free slot).
#[derive(Debug, Clone, Copy)]
struct Row {
    framework: u32,
    agent: u32,
    /// Its name is `text[start..name_end]`, its id `text[name_end..end]`.
    text: (u32, u32, u32),
    records: (u32, u32),
    v6: (u32, u32),
}

/// The tasks of [`CHUNK`] consecutive slots.
#[derive(Debug, Clone, Default)]
struct Chunk {
    rows: Vec<Option<Row>>,
    text: String,
    records: Vec<TaskRecord>,
    v6: Vec<[u8; 16]>,
    /// Text bytes and records of tasks taken out (still in the arrays).
    dead: (usize, usize),
}

impl Chunk {
    fn entry(&self, i: usize) -> Option<TaskEntry<'_>> {
        let row = (*self.rows.get(i)?)?;
        let (start, name_end, end) = row.text;
        Some(TaskEntry {
            framework: row.framework,
            agent: row.agent,
            name: self.text.get(start as usize..name_end as usize)?,
            id: self.text.get(name_end as usize..end as usize)?,
            records: self.records.get(row.records.0 as usize..row.records.1 as usize)?,
            v6: self.v6.get(row.v6.0 as usize..row.v6.1 as usize)?,
        })
    }

    /// Appends a task's text and records; its row (`None` past 4 GB in a chunk).
    fn append(&mut self, e: &TaskEntry<'_>) -> Option<Row> {
        let at = |n: usize| u32::try_from(n).ok();
        let start = at(self.text.len())?;
        self.text.push_str(e.name);
        let name_end = at(self.text.len())?;
        self.text.push_str(e.id);
        let records = at(self.records.len())?;
        self.records.extend_from_slice(e.records);
        let v6 = at(self.v6.len())?;
        self.v6.extend_from_slice(e.v6);
        Some(Row {
            framework: e.framework,
            agent: e.agent,
            text: (start, name_end, at(self.text.len())?),
            records: (records, at(self.records.len())?),
            v6: (v6, at(self.v6.len())?),
        })
    }

    /// Rewrites the arrays with the live tasks only.
    fn compact(&mut self) {
        let old = std::mem::take(self);
        self.rows = Vec::with_capacity(old.rows.len());
        for i in 0..old.rows.len() {
            let row = old.entry(i).and_then(|e| self.append(&e));
            self.rows.push(row);
        }
    }
}

/// Tasks by slot; a slot freed by a task that stopped is taken by the next one.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskTable {
    frameworks: Arc<[String]>,
    agents: Arc<[String]>,
    chunks: Vec<Arc<Chunk>>,
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
    pub(crate) fn agent(&self, entry: &TaskEntry<'_>) -> &str {
        self.agents.get(entry.agent as usize).map_or("", String::as_str)
    }

    /// Every task, in slot order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = TaskEntry<'_>> + '_ {
        self.chunks
            .iter()
            .flat_map(|c| (0..c.rows.len()).filter_map(move |i| c.entry(i)))
    }

    /// Number of tasks.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.chunks
            .iter()
            .flat_map(|c| c.rows.iter())
            .filter(|t| t.is_some())
            .count()
    }

    /// Slots are below this.
    pub(crate) fn slot_bound(&self) -> usize {
        self.chunks.iter().map(|c| c.rows.len()).sum()
    }

    pub(crate) fn get(&self, slot: usize) -> Option<TaskEntry<'_>> {
        self.chunks.get(slot / CHUNK)?.entry(slot % CHUNK)
    }

    /// Stores a task (copied in); its slot.
    pub(crate) fn insert(&mut self, entry: &TaskEntry<'_>) -> usize {
        if let Some(slot) = self.free.pop() {
            let slot = slot as usize;
            if let Some(chunk) = self.chunks.get_mut(slot / CHUNK) {
                let chunk = Arc::make_mut(chunk);
                let row = chunk.append(entry);
                if let Some(place) = chunk.rows.get_mut(slot % CHUNK) {
                    *place = row;
                    return slot;
                }
            }
        }
        if self.chunks.last().map_or(true, |c| c.rows.len() >= CHUNK) {
            // Room for as much as the last full chunk holds: no growth by doubling, and no copy
            // when the start is done (a cluster's chunks are much alike).
            let like = self.chunks.last().map(|c| (c.text.len(), c.records.len(), c.v6.len()));
            let (text, records, v6) = like.unwrap_or_default();
            self.chunks.push(Arc::new(Chunk {
                rows: Vec::with_capacity(CHUNK),
                text: String::with_capacity(text + text / 8),
                records: Vec::with_capacity(records + records / 8),
                v6: Vec::with_capacity(v6),
                dead: (0, 0),
            }));
        }
        let c = self.chunks.len() - 1;
        match self.chunks.last_mut() {
            Some(chunk) => {
                let chunk = Arc::make_mut(chunk);
                let row = chunk.append(entry);
                chunk.rows.push(row);
                c * CHUNK + chunk.rows.len() - 1
            }
            None => 0,
        }
    }

    /// Takes the task out of `slot`; whether there was one.
    pub(crate) fn take(&mut self, slot: usize) -> bool {
        let Some(chunk) = self.chunks.get_mut(slot / CHUNK) else {
            return false;
        };
        let Some(e) = chunk.entry(slot % CHUNK) else {
            return false;
        };
        let (text, records) = (e.name.len() + e.id.len(), e.records.len());
        let chunk = Arc::make_mut(chunk);
        if let Some(row) = chunk.rows.get_mut(slot % CHUNK) {
            *row = None;
        }
        chunk.dead.0 += text;
        chunk.dead.1 += records;
        // What taken tasks left is dropped once it is most of the chunk.
        if chunk.dead.1 * 2 > chunk.records.len() + 64 || chunk.dead.0 * 2 > chunk.text.len() + 1024 {
            chunk.compact();
        }
        self.free.push(slot as u32);
        true
    }

    /// Gives back the room growth left (after a whole cluster's tasks are added).
    pub(crate) fn shrink_to_fit(&mut self) {
        for chunk in &mut self.chunks {
            let chunk = Arc::make_mut(chunk);
            chunk.text.shrink_to_fit();
            chunk.records.shrink_to_fit();
            chunk.v6.shrink_to_fit();
        }
    }

    /// Heap bytes: (the rows, the names and ids, the records and addresses, allocations made).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> (usize, usize, usize, usize) {
        let (mut rows, mut text, mut records) = (0, 0, 0);
        for c in &self.chunks {
            rows += c.rows.capacity() * std::mem::size_of::<Option<Row>>();
            text += c.text.capacity();
            records += c.records.capacity() * std::mem::size_of::<TaskRecord>() + c.v6.capacity() * 16;
        }
        (rows, text, records, self.chunks.len() * 5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> TaskEntry<'_> {
        TaskEntry::new((0, 0), "web", id, &[], &[])
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
        let mut table = TaskTable::new(vec!["marathon".into()], vec!["a1".into()]);
        let slot = table.insert(&TaskEntry::new((0, 0), "web", "t", &records, &v6));
        let e = table.get(slot).unwrap();
        assert_eq!((e.name(), e.id(), table.agent(&e)), ("web", "t", "a1"));
        let back: Vec<(Data, bool)> = e.records.iter().map(|r| (e.data(r), r.reverse())).collect();
        assert_eq!(back, data);
        assert!(e.records.iter().all(|r| r.owner == 5));
    }

    #[test]
    fn slots_are_reused_and_clones_keep_what_they_saw() {
        let mut table = TaskTable::new(vec!["marathon".into()], vec!["a1".into()]);
        let ids: Vec<String> = (0..600).map(|i| format!("t{i}")).collect();
        let slots: Vec<usize> = ids.iter().map(|id| table.insert(&entry(id))).collect();
        assert_eq!(slots, (0..600).collect::<Vec<_>>());
        let published = table.clone();
        assert_eq!(table.get(300).map(|e| e.id()), Some("t300"));
        assert!(table.take(300));
        assert!(!table.take(300), "a slot is taken once");
        assert_eq!(table.insert(&entry("new")), 300, "the freed slot is taken again");
        assert_eq!(table.get(300).map(|e| e.id()), Some("new"));
        assert_eq!(published.get(300).map(|e| e.id()), Some("t300"));
        assert_eq!((table.len(), table.slot_bound()), (600, 600));
    }

    /// A chunk whose tasks come and go keeps its live tasks whole and drops what the others left.
    #[test]
    fn churn_in_a_chunk_keeps_the_live_tasks_and_bounds_what_the_gone_ones_left() {
        let mut table = TaskTable::new(vec!["marathon".into()], vec![]);
        let record = |n: u32| TaskRecord::new(n, Data::A(n.to_be_bytes()), false, &mut Vec::new()).unwrap();
        let mut live: Vec<(usize, String, u32)> = Vec::new();
        for round in 0..2000u32 {
            let id = format!("task-{round}-{}", "x".repeat(round as usize % 40));
            let records = [record(round), record(round + 1)];
            let slot = table.insert(&TaskEntry::new((0, 0), "web", &id, &records, &[]));
            live.push((slot, id, round));
            if live.len() > 100 {
                let (slot, ..) = live.remove((round as usize * 7) % live.len());
                assert!(table.take(slot));
            }
        }
        for (slot, id, round) in &live {
            let e = table.get(*slot).unwrap();
            assert_eq!(
                (e.id(), e.records),
                (id.as_str(), &[record(*round), record(round + 1)][..])
            );
        }
        assert_eq!(table.len(), live.len());
        let kept: usize = table.chunks.iter().map(|c| c.records.len()).sum();
        assert!(
            kept <= 2 * 2 * live.len() + 64 * table.chunks.len(),
            "{kept} records kept"
        );
    }
}
