//! The record list: the records generated from one state document, in generation order, with the tasks
//! they came from ([`RecordList`]). It is the interface between the naming rules (`crate::records`, which
//! fill it) and the lookup snapshot built from it ([`Records::build`](super::Records::build)); its text
//! form ([`Record`], [`RData`]) serves logging and the HTTP API. It owns no naming rule itself.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::names::{ByteTable, FastHash};
use super::zones::AgentZone;
use chains::{Chain, Chains};
use entries::Entries;

/// The data of one generated record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RData {
    /// An A record.
    A(Ipv4Addr),
    /// An AAAA record.
    Aaaa(Ipv6Addr),
    /// SRV with priority 0 and the configured weight; `target` is a fully qualified lower-case name.
    Srv {
        /// The target host.
        target: String,
        /// The target port.
        port: u16,
    },
    /// An alias (static records only): the fully qualified, lower-case target, in the domain or not.
    Cname(String),
    /// Character strings (static records only), each at most 255 octets.
    Txt(Vec<String>),
}

/// One generated record: a fully qualified, lower-case name (with trailing dot) and its data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Record {
    pub name: String,
    pub data: RData,
}

/// A record's data with its SRV target interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Data {
    A([u8; 4]),
    Aaaa([u8; 16]),
    Srv {
        target: u32,
        port: u16,
    },
    /// A CNAME or TXT record: an index into the list's table of them ([`RecordList::other`]).
    Other(u32),
}

const NONE: u32 = u32::MAX;

/// [`Data`] as stored: an IPv6 address is an index into the list's `v6` table, which keeps an entry at
/// 20 bytes instead of 32 (a million records at 100k tasks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Packed {
    A([u8; 4]),
    Aaaa(u32),
    Srv { target: u32, port: u16 },
    Other(u32),
}

/// One stored record: its name's id and its data (the previous record of the same name is in
/// [`RecordList::prev`]). The task it was generated for is found from its index
/// ([`TaskTable::records`]): a task's records are added one after another.
#[derive(Debug, Clone, Copy)]
struct Entry {
    name: u32,
    data: Packed,
}

/// A name interned in one [`RecordList`] ([`RecordList::intern`]); meaningless in another list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameId(u32);

impl NameId {
    /// The name's id in its list's table of names.
    #[cfg(test)]
    pub(crate) fn index(self) -> u32 {
        self.0
    }
}

/// A task that records were generated for (`/v1/enumerate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskRef<'a> {
    /// The framework's position in [`RecordList::frameworks`].
    pub framework_index: usize,
    /// The framework's name as Mesos reports it.
    pub framework: &'a str,
    pub name: &'a str,
    pub id: &'a str,
}

/// The frameworks of the state and the tasks records were generated for, stored compactly (a
/// 100k-task cluster keeps this table in every snapshot while `/v1/enumerate` is served): one text
/// buffer for task names and ids.
#[derive(Debug, Clone, Default)]
struct TaskTable {
    /// The name of every framework of the state, in state order: two frameworks with the same name
    /// are two entries, and a framework without a running task has one all the same.
    frameworks: Vec<String>,
    /// Task names and ids, back to back.
    text: String,
    /// Per task: its framework (index into `frameworks`) and where its name and id end in `text`
    /// (each starts where the previous one ended).
    rows: Vec<(u32, u32, u32)>,
    /// Per task: the records generated for it, `start..end` in the list's entries (ascending and
    /// disjoint, in task order).
    records: Vec<(u32, u32)>,
    /// Per task: its agent (index into `agents`), so that a failover can carry an agent's tasks
    /// over (4 bytes a task).
    agent_of: Vec<u32>,
    /// The agent ids tasks run on, each once.
    agents: Vec<Box<str>>,
    /// Agent id -> index in `agents`, while tasks are added (dropped by [`RecordList::seal`]).
    agent_index: std::collections::HashMap<Box<str>, u32, FastHash>,
    /// The caller's key of an agent -> index in `agents` (or `NONE`), while tasks are added
    /// ([`RecordList::begin_task_keyed`]).
    agent_by_key: Vec<u32>,
}

impl TaskTable {
    /// Adds a task of framework `fw` (an index into `frameworks`); `None` when there is no such
    /// framework or a count no longer fits in 32 bits.
    fn push(&mut self, fw: u32, name: &str, id: &str, agent: (&str, Option<u32>), first_record: u32) -> Option<u32> {
        if fw as usize >= self.frameworks.len() {
            return None;
        }
        let index = u32::try_from(self.rows.len()).ok()?;
        let (agent, key) = agent;
        let keyed = key
            .and_then(|k| self.agent_by_key.get(k as usize))
            .filter(|&&a| a != NONE);
        let agent = match keyed {
            Some(&i) => i,
            None => {
                let i = self.agent_of_id(agent)?;
                if let Some(k) = key.map(|k| k as usize) {
                    if self.agent_by_key.len() <= k {
                        self.agent_by_key.resize(k + 1, NONE);
                    }
                    if let Some(slot) = self.agent_by_key.get_mut(k) {
                        *slot = i;
                    }
                }
                i
            }
        };
        self.agent_of.push(agent);
        self.text.push_str(name);
        let name_end = u32::try_from(self.text.len()).ok()?;
        self.text.push_str(id);
        let id_end = u32::try_from(self.text.len()).ok()?;
        self.rows.push((fw, name_end, id_end));
        self.records.push((first_record, first_record));
        Some(index)
    }

    /// The index of agent `agent` in `agents`, added if new.
    fn agent_of_id(&mut self, agent: &str) -> Option<u32> {
        if let Some(&i) = self.agent_index.get(agent) {
            return Some(i);
        }
        let i = u32::try_from(self.agents.len()).ok()?;
        self.agents.push(agent.into());
        self.agent_index.insert(agent.into(), i);
        Some(i)
    }

    /// The task record `entry` was generated for, if any.
    fn of_record(&self, entry: u32) -> Option<usize> {
        let task = self
            .records
            .partition_point(|&(start, _)| start <= entry)
            .checked_sub(1)?;
        let &(_, end) = self.records.get(task)?;
        (entry < end).then_some(task)
    }

    fn get(&self, i: usize) -> Option<TaskRef<'_>> {
        let &(fw, name_end, id_end) = self.rows.get(i)?;
        let start = match i {
            0 => 0,
            _ => self.rows.get(i - 1).map_or(0, |r| r.2 as usize),
        };
        Some(TaskRef {
            framework_index: fw as usize,
            framework: self.frameworks.get(fw as usize)?,
            name: self.text.get(start..name_end as usize)?,
            id: self.text.get(name_end as usize..id_end as usize)?,
        })
    }
}

/// The records generated from one state document, in generation order, never holding the same
/// (name, data) twice. Names are interned: each is stored once however many records it has.
#[derive(Debug, Clone)]
pub struct RecordList {
    names: ByteTable,
    /// The last record of each name (index into `entries`), or `NONE`, with what its records hold.
    last: Chains,
    entries: Entries<Entry>,
    /// Per entry: the previous record of the same name, or `NONE` (a chain per name, for duplicate
    /// checks without a global set). Apart from `entries`, so that [`RecordList::forget_names`] can
    /// free it.
    prev: Vec<u32>,
    /// Whether [`RecordList::forget_names`] freed the names: no record can be added since.
    forgotten: bool,
    /// The IPv6 addresses of AAAA entries.
    v6: Vec<[u8; 16]>,
    tasks: TaskTable,
    /// The task records are being generated for, or `NONE`.
    current_task: u32,
    /// The name count and record count when that task began (`NONE`, 0 outside a task): an SRV
    /// record whose target was interned since cannot repeat a record from before ([`Self::add`]).
    task_names_from: u32,
    task_entries_from: u32,
    /// The A/AAAA records (indexes into `entries`) whose address also points back to their name
    /// (PTR records, `PTROn`), in generation order.
    reverse: Vec<u32>,
    /// The data of CNAME and TXT records (rare: static records only).
    others: Vec<RData>,
    /// Entries from this index on are static records (`staticRecordsFile`), appended after generation.
    static_from: u32,
    /// The records of the names with many, for duplicate checks.
    long: LongChains,
    /// The agents with a fault domain zone (`preferLocalZone`), in state order.
    agent_zones: Vec<AgentZone>,
    /// With [`keep_repeats`](Self::keep_repeats): each record a task generated again after an
    /// earlier task (or no task) had, once per task, in generation order.
    /// (Boxed: a list that keeps none is 8 bytes larger, not 24.)
    repeats: Option<Box<Repeats>>,
    /// One bit per name: those an app's instances share ([`mark_shared`](Self::mark_shared)).
    shared: Vec<u64>,
}

/// The repeats a list keeps ([`RecordList::keep_repeats`]).
#[derive(Debug, Clone, Default)]
struct Repeats(Vec<Repeat>);

/// A record a task generated that the list holds already from before the task began (the list keeps
/// it once; an edited snapshot counts each task that generates it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Repeat {
    /// The task (index into [`RecordList::tasks`]).
    pub(crate) task: u32,
    /// The record (index into the entries).
    pub(crate) entry: u32,
    /// The number of records in the list when the task generated it again (where it falls among
    /// the task's own records).
    pub(crate) at: u32,
    /// Whether the task marked its address to point back to its name (PTR).
    pub(crate) reverse: bool,
}

/// The names whose chain of records grew long, and every record of theirs: a duplicate check there is
/// one hash look-up instead of a walk of the chain.
#[derive(Debug, Clone, Default)]
struct LongChains {
    /// One bit per name id.
    names: Vec<u64>,
    /// (name, data) -> the record's index.
    records: std::collections::HashMap<(u32, Data), u32, FastHash>,
}

impl LongChains {
    /// A chain walked this far without its end is long.
    const FROM: usize = 8;

    fn is_long(&self, name: u32) -> bool {
        self.names
            .get(name as usize / 64)
            .is_some_and(|w| w & (1 << (name % 64)) != 0)
    }

    fn mark(&mut self, name: u32) {
        let word = name as usize / 64;
        if self.names.len() <= word {
            self.names.resize(word + 1, 0);
        }
        if let Some(w) = self.names.get_mut(word) {
            *w |= 1 << (name % 64);
        }
    }
}

impl Default for RecordList {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl RecordList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list with room for about `records` records.
    pub fn with_capacity(records: usize) -> Self {
        RecordList {
            names: ByteTable::with_capacity(records / 3),
            last: Chains::with_capacity(records / 3),
            entries: Entries::default(),
            prev: Vec::with_capacity(records),
            forgotten: false,
            v6: Vec::new(),
            tasks: TaskTable::default(),
            current_task: NONE,
            task_names_from: NONE,
            task_entries_from: 0,
            reverse: Vec::new(),
            others: Vec::new(),
            static_from: NONE,
            long: LongChains::default(),
            agent_zones: Vec::new(),
            repeats: None,
            shared: Vec::new(),
        }
    }

    /// Room for about `records` more records (and a quarter as many names: generated states have 3.3
    /// names a task for 12 records of room; a third made the names' hash index twice the size it
    /// grows to, 64 MB written at a million tasks instead of 32).
    pub(crate) fn reserve(&mut self, records: usize) {
        self.prev.reserve(records);
        self.names.reserve(records / 4);
        self.last.reserve(records / 4);
    }

    /// Notes, from now on, every record a task generates that was in the list before the task
    /// began ([`take_repeats`](Self::take_repeats)).
    pub(crate) fn keep_repeats(&mut self) {
        self.repeats = Some(Box::default());
    }

    /// The repeats noted since [`keep_repeats`](Self::keep_repeats), in generation order.
    pub(crate) fn take_repeats(&mut self) -> Vec<Repeat> {
        self.repeats.take().map(|r| r.0).unwrap_or_default()
    }

    /// Whether the record at `index` also points back to its name (PTR).
    pub(crate) fn is_reverse(&self, index: u32) -> bool {
        self.reverse.binary_search(&index).is_ok()
    }

    /// Notes that agent `agent` (its id), at `addrs`, is in zone `zone` of region `region`
    /// (`preferLocalZone`).
    pub fn add_agent_zone(&mut self, agent: &str, (region, zone): (&str, &str), addrs: &[IpAddr]) {
        self.agent_zones.push(AgentZone {
            agent: agent.into(),
            region: region.into(),
            zone: zone.into(),
            addrs: addrs.to_vec(),
        });
    }

    /// The agents noted in a zone.
    pub(crate) fn agent_zones(&self) -> &[AgentZone] {
        &self.agent_zones
    }

    /// Every task's A and AAAA addresses, each with the id of the task's agent.
    pub(crate) fn task_addresses(&self) -> impl Iterator<Item = (&str, IpAddr)> + '_ {
        let records = self.tasks.records.iter().enumerate();
        records.flat_map(move |(task, &(start, end))| {
            let agent = self.task_agent(task);
            let entries = self.entries.range(start as usize..end as usize);
            entries.filter_map(move |e| match self.unpack(e.data) {
                Data::A(o) => Some((agent, IpAddr::V4(Ipv4Addr::from(o)))),
                Data::Aaaa(o) => Some((agent, IpAddr::V6(Ipv6Addr::from(o)))),
                Data::Srv { .. } | Data::Other(_) => None,
            })
        })
    }

    /// Lists a framework of the state (in state order, whether or not it has tasks); returns its
    /// index for [`begin_task`](Self::begin_task).
    pub fn add_framework(&mut self, name: &str) -> u32 {
        self.tasks.frameworks.push(name.to_owned());
        u32::try_from(self.tasks.frameworks.len() - 1).unwrap_or(NONE)
    }

    /// The name of every framework of the state, in state order (`/v1/enumerate`).
    pub fn frameworks(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.tasks.frameworks.iter().map(String::as_str)
    }

    /// Records pushed from now on were generated for this task of framework `framework` (an index
    /// from [`add_framework`](Self::add_framework)), until [`end_task`](Self::end_task).
    #[cfg(test)]
    pub fn begin_task(&mut self, framework: u32, name: &str, id: &str) {
        self.begin_task_on(framework, name, id, "");
    }

    /// [`begin_task`](Self::begin_task) for a task that runs on agent `agent` (its id).
    pub fn begin_task_on(&mut self, framework: u32, name: &str, id: &str, agent: &str) {
        self.begin_task_keyed(framework, name, id, (agent, None));
    }

    /// [`begin_task_on`](Self::begin_task_on) with the agent's id and, optionally, the caller's key
    /// for it: a small number (an index) that names this agent, and only it, in every call on this
    /// list, by which it is found after the first (a million tasks on thousands of agents: no look-up
    /// of an id each).
    pub(crate) fn begin_task_keyed(&mut self, framework: u32, name: &str, id: &str, agent: (&str, Option<u32>)) {
        let first_record = u32::try_from(self.entries.len()).unwrap_or(NONE);
        self.current_task = self
            .tasks
            .push(framework, name, id, agent, first_record)
            .unwrap_or(NONE);
        self.task_names_from = u32::try_from(self.names.len()).unwrap_or(NONE);
        self.task_entries_from = u32::try_from(self.entries.len()).unwrap_or(0);
    }

    /// Records pushed from now on belong to no task.
    pub fn end_task(&mut self) {
        self.current_task = NONE;
        self.task_names_from = NONE;
        self.task_entries_from = 0;
    }

    /// The tasks records were generated for, in generation order.
    pub fn tasks(&self) -> impl ExactSizeIterator<Item = TaskRef<'_>> + '_ {
        (0..self.tasks.rows.len()).map(|i| {
            self.tasks.get(i).unwrap_or(TaskRef {
                framework_index: 0,
                framework: "",
                name: "",
                id: "",
            })
        })
    }

    /// The records generated for each task: (index into [`tasks`](Self::tasks), record), in generation
    /// order. A record two tasks share is listed under the first. (Tests read lists so.)
    #[cfg(test)]
    pub fn task_records(&self) -> impl Iterator<Item = (usize, Record)> + '_ {
        let records = self.tasks.records.iter().enumerate();
        records.flat_map(move |(task, &(start, end))| {
            let entries = self.entries.range(start as usize..end as usize);
            entries.map(move |e| {
                (
                    task,
                    Record {
                        name: self.text(e.name).to_owned(),
                        data: self.rdata(self.unpack(e.data)),
                    },
                )
            })
        })
    }

    /// The agents tasks run on, each once, and per task (by index) its agent's place there (for a
    /// look-up per agent rather than per task).
    pub(crate) fn task_agents(&self) -> (&[Box<str>], &[u32]) {
        (&self.tasks.agents, &self.tasks.agent_of)
    }

    /// The id of the agent the task at `index` of [`tasks`](Self::tasks) runs on (empty when not
    /// known).
    pub fn task_agent(&self, index: usize) -> &str {
        let agent = self.tasks.agent_of.get(index).copied().unwrap_or(NONE);
        self.tasks.agents.get(agent as usize).map_or("", |a| a)
    }

    /// The records generated for the task at `index` of [`tasks`](Self::tasks), each with whether its
    /// address also points back to its name (PTR).
    pub fn records_of_task(&self, index: usize) -> impl Iterator<Item = (Record, bool)> + '_ {
        let (start, end) = self.tasks.records.get(index).copied().unwrap_or((0, 0));
        (start..end).filter_map(move |i| {
            let e = self.entries.get(i as usize)?;
            let record = Record {
                name: self.text(e.name).to_owned(),
                data: self.rdata(self.unpack(e.data)),
            };
            Some((record, self.reverse.binary_search(&i).is_ok()))
        })
    }

    fn name_id(&mut self, name: &str) -> Option<u32> {
        if self.forgotten {
            return None;
        }
        let id = self.names.intern(name.as_bytes())?;
        if id as usize == self.last.len() {
            self.last.push_empty();
        }
        Some(id)
    }

    /// Adds a record unless the same (name, data) is already there. `name` must be fully qualified
    /// (trailing dot) and lower-case. Returns whether it was added.
    pub fn push(&mut self, name: &str, data: RData) -> bool {
        match data {
            RData::A(ip) => self.push_ip(name, IpAddr::V4(ip)),
            RData::Aaaa(ip) => self.push_ip(name, IpAddr::V6(ip)),
            RData::Srv { target, port } => self.push_srv(name, &target, port),
            other @ (RData::Cname(_) | RData::Txt(_)) => self.push_other(name, other),
        }
    }

    /// Adds a CNAME or TXT record (see [`push`](Self::push)).
    fn push_other(&mut self, name: &str, data: RData) -> bool {
        let Some(id) = self.name_id(name) else {
            return false;
        };
        if self.contains(name, &data) {
            return false;
        }
        let Ok(index) = u32::try_from(self.others.len()) else {
            return false;
        };
        self.others.push(data);
        let added = self.add(id, Data::Other(index));
        if !added {
            self.others.pop();
        }
        added
    }

    /// Records pushed from now on are static records (`staticRecordsFile`): generation is done.
    pub fn begin_static(&mut self) {
        self.end_task();
        self.static_from = u32::try_from(self.entries.len()).unwrap_or(NONE);
    }

    /// Whether the record at `index` (generation order) is a static record.
    pub fn is_static(&self, index: usize) -> bool {
        self.static_from != NONE && index >= self.static_from as usize
    }

    /// The data of a [`Data::Other`] record.
    pub(crate) fn other(&self, index: u32) -> Option<&RData> {
        self.others.get(index as usize)
    }

    /// Adds an A or AAAA record (see [`push`](Self::push)).
    pub fn push_ip(&mut self, name: &str, ip: IpAddr) -> bool {
        self.name_id(name).is_some_and(|id| self.push_ip_at(NameId(id), ip))
    }

    /// Interns `name` (fully qualified, lower-case) for the `*_at` pushes, which then skip hashing and
    /// comparing its text again: a task's names get a dozen records each. `None` past 67 million names.
    pub fn intern(&mut self, name: &str) -> Option<NameId> {
        self.name_id(name).map(NameId)
    }

    /// Marks an interned name as one that several tasks share (an app's `T.F.D` and its SRV names):
    /// a build makes such names nodes before the tasks' own, so that they fill chunks of their own
    /// and an edit that replaces an app's instance copies fewer chunks ([`Self::is_shared`]).
    pub(crate) fn mark_shared(&mut self, id: NameId) {
        let i = id.0 as usize;
        if self.shared.len() <= i / 64 {
            self.shared.resize(i / 64 + 1, 0);
        }
        if let Some(word) = self.shared.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }

    /// Whether name `id` was [marked shared](Self::mark_shared).
    #[inline]
    pub(crate) fn is_shared(&self, id: u32) -> bool {
        let i = id as usize;
        self.shared.get(i / 64).is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    /// Starts loading what interning `name` reads first, so that it can overlap other work before
    /// [`intern`](Self::intern) (a hint: nothing changes).
    pub(crate) fn prefetch(&self, name: &str) {
        self.names.prefetch(name.as_bytes());
    }

    /// [`push_ip`](Self::push_ip) at an interned name.
    pub fn push_ip_at(&mut self, name: NameId, ip: IpAddr) -> bool {
        let data = match ip {
            IpAddr::V4(v4) => Data::A(v4.octets()),
            IpAddr::V6(v6) => Data::Aaaa(v6.octets()),
        };
        self.add(name.0, data)
    }

    /// Adds an A or AAAA record whose address also gets a PTR record back to `name` (reverse lookups,
    /// `PTROn`). Returns whether it was added; a record already there keeps whatever it had.
    pub fn push_ip_reverse(&mut self, name: &str, ip: IpAddr) -> bool {
        self.name_id(name)
            .is_some_and(|id| self.push_ip_reverse_at(NameId(id), ip))
    }

    /// [`push_ip_reverse`](Self::push_ip_reverse) at an interned name.
    pub fn push_ip_reverse_at(&mut self, name: NameId, ip: IpAddr) -> bool {
        let data = match ip {
            IpAddr::V4(v4) => Data::A(v4.octets()),
            IpAddr::V6(v6) => Data::Aaaa(v6.octets()),
        };
        let added = self.add_as(name.0, data, true);
        if added {
            if let Ok(index) = u32::try_from(self.entries.len().saturating_sub(1)) {
                self.reverse.push(index);
            }
        }
        added
    }

    /// The reverse mappings, (address, name), in generation order (allocates: for tests).
    #[cfg(test)]
    pub fn reverse(&self) -> impl Iterator<Item = (IpAddr, String)> + '_ {
        self.reverse_entries().filter_map(|(name, data)| {
            let ip = match data {
                Data::A(o) => IpAddr::V4(Ipv4Addr::from(o)),
                Data::Aaaa(o) => IpAddr::V6(Ipv6Addr::from(o)),
                Data::Srv { .. } | Data::Other(_) => return None,
            };
            Some((ip, self.text(name).to_owned()))
        })
    }

    /// (name id, data) of every record marked for reverse lookups, in generation order.
    #[cfg(test)]
    pub(super) fn reverse_entries(&self) -> impl Iterator<Item = (u32, Data)> + '_ {
        self.reverse_indexed().map(|(_, name, data)| (name, data))
    }

    /// [`reverse_entries`](Self::reverse_entries) with each record's index.
    pub(super) fn reverse_indexed(&self) -> impl Iterator<Item = (u32, u32, Data)> + '_ {
        self.reverse
            .iter()
            .filter_map(|&i| Some((i, self.entries.get(i as usize)?)))
            .map(|(i, e)| (i, e.name, self.unpack(e.data)))
    }

    /// The record at `index`: its name's id and its data.
    pub(crate) fn entry(&self, index: u32) -> Option<(u32, Data)> {
        let e = self.entries.get(index as usize)?;
        Some((e.name, self.unpack(e.data)))
    }

    /// The number of names interned.
    pub(crate) fn name_count(&self) -> usize {
        self.names.len()
    }

    /// Adds an SRV record (see [`push`](Self::push)).
    pub fn push_srv(&mut self, name: &str, target: &str, port: u16) -> bool {
        let Some(target) = self.name_id(target) else {
            return false;
        };
        self.name_id(name)
            .is_some_and(|id| self.add(id, Data::Srv { target, port }))
    }

    /// [`push_srv`](Self::push_srv) at interned names.
    pub fn push_srv_at(&mut self, name: NameId, target: NameId, port: u16) -> bool {
        self.add(name.0, Data::Srv { target: target.0, port })
    }

    fn add(&mut self, name: u32, data: Data) -> bool {
        self.add_as(name, data, false)
    }

    /// [`add`](Self::add), noting a repeat marked `reverse` or not.
    fn add_as(&mut self, name: u32, data: Data, reverse: bool) -> bool {
        let Some(Chain { head, seen }) = self.last.get(name) else {
            return false;
        };
        // (A long chain's records are in the filter too: what it rules out, `LongChains` has not.)
        let bits = Chain::bits(data);
        if seen & bits == bits {
            if let Some(at) = self.repeats(name, head, data) {
                self.repeated(at, reverse);
                return false;
            }
        }
        let (Ok(index), Ok(v6_index)) = (u32::try_from(self.entries.len()), u32::try_from(self.v6.len())) else {
            return false;
        };
        let packed = pack(data, v6_index);
        if let Data::Aaaa(ip) = data {
            self.v6.push(ip);
        }
        self.entries.push(Entry { name, data: packed });
        self.prev.push(head);
        if let Some(span) = self.tasks.records.get_mut(self.current_task as usize) {
            span.1 = index.saturating_add(1);
        }
        self.last.set(
            name,
            Chain {
                head: index,
                seen: seen | bits,
            },
        );
        if self.long.is_long(name) {
            self.long.records.insert((name, data), index);
        }
        true
    }

    /// Notes that the current task generated the record at `entry` again (with
    /// [`keep_repeats`](Self::keep_repeats), once per task, and only a record from before it began).
    fn repeated(&mut self, entry: u32, reverse: bool) {
        let task = self.current_task;
        let Some(Repeats(repeats)) = self.repeats.as_deref_mut() else {
            return;
        };
        if task == NONE || entry >= self.task_entries_from {
            return;
        }
        let mine = repeats.iter().rev().take_while(|r| r.task == task);
        if mine.clone().any(|r| r.entry == entry) {
            return;
        }
        let at = u32::try_from(self.entries.len()).unwrap_or(NONE);
        repeats.push(Repeat {
            task,
            entry,
            at,
            reverse,
        });
    }

    /// Whether name `name`, whose newest record is `head`, has a record of `data` already. Its chain
    /// runs from the newest record down; a name with many records (`slave.D`: one per agent) is looked
    /// up in [`LongChains`] instead, so that adding n records to one name is not n² steps.
    fn repeats(&mut self, name: u32, head: u32, data: Data) -> Option<u32> {
        if self.long.is_long(name) {
            return self.long.records.get(&(name, data)).copied();
        }
        // An SRV record to a target first named in this task can only repeat one of this task's
        // records: the walk stops at the older ones (`_app._tcp.marathon.slave.mesos.` holds every
        // instance's ports).
        let floor = match data {
            Data::Srv { target, .. } if target >= self.task_names_from => self.task_entries_from,
            _ => 0,
        };
        let mut at = head;
        let mut steps = 0;
        while let Some(e) = self.entries.get(at as usize).filter(|_| at >= floor) {
            if self.unpack(e.data) == data {
                return Some(at);
            }
            at = self.prev_of(at);
            steps += 1;
        }
        if steps >= LongChains::FROM {
            let mut at = head;
            while let Some(e) = self.entries.get(at as usize) {
                self.long.records.insert((name, self.unpack(e.data)), at);
                at = self.prev_of(at);
            }
            self.long.mark(name);
        }
        None
    }

    /// Frees what only adding records needs (the names' hash index, the chains' filters, the long chains' sets) once the
    /// list is built and kept for reading (`/v1/enumerate`). Records can still be added after, more
    /// slowly at first.
    pub fn seal(&mut self) {
        self.names.drop_index();
        self.last.seal();
        self.long = LongChains::default();
        self.tasks.agent_index = std::collections::HashMap::default();
        self.tasks.agent_by_key = Vec::new();
    }

    /// The record before `index` with the same name, or `NONE`.
    fn prev_of(&self, index: u32) -> u32 {
        self.prev.get(index as usize).copied().unwrap_or(NONE)
    }

    /// Frees what adding records needs (the names' hash index, the chains, the long chains' sets) but
    /// the names' text, before a build reads it ([`forget_names`](Self::forget_names) frees that
    /// after): at a million tasks the index and the chains are 100 MB that the build's own
    /// allocations would otherwise come on top of. No record can be added since.
    pub(crate) fn forget_chains(&mut self) {
        self.forgotten = true;
        self.names.drop_index();
        self.last = Chains::default();
        self.prev = Vec::new();
        self.long = LongChains::default();
        self.tasks.agent_index = std::collections::HashMap::default();
    }

    /// Frees the names' text and what adding records needs (the chains, the long chains' sets), once
    /// a build has made the names its own: the list is read by position from then on (its records'
    /// name ids still index the build's table of them), and adds no record. At a million tasks the
    /// text is 290 MB of a 460 MB list, and the chains 55 MB more.
    pub(crate) fn forget_names(&mut self) {
        self.forget_chains();
        self.names = ByteTable::default();
        self.names.drop_index();
        self.shared = Vec::new();
    }

    /// Frees every record, for a reader that is done with them: they read as absent from then on
    /// ([`entry`](Self::entry)); the tasks and their agents stay.
    pub(crate) fn free_entries(&mut self) {
        self.entries.free_below(usize::MAX);
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no records.
    #[cfg(any(test, feature = "internals"))]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every record in generation order, as text (allocates: for logs, the HTTP API and tests).
    pub fn iter(&self) -> impl Iterator<Item = Record> + '_ {
        self.entries.iter().map(|e| Record {
            name: self.text(e.name).to_owned(),
            data: self.rdata(self.unpack(e.data)),
        })
    }

    /// True if some record has exactly this name and data.
    pub fn contains(&self, name: &str, data: &RData) -> bool {
        let Some(id) = self.names.find(name.as_bytes()) else {
            return false;
        };
        let mut at = self.last.head(id);
        while let Some(e) = self.entries.get(at as usize) {
            if self.rdata(self.unpack(e.data)) == *data {
                return true;
            }
            at = self.prev_of(at);
        }
        false
    }

    /// The task at `index` of [`tasks`](Self::tasks) (for cursors that resume at an index).
    pub fn task(&self, index: usize) -> Option<TaskRef<'_>> {
        self.tasks.get(index)
    }

    /// The record at `index` (generation order, `0..len()`): the task it was generated for (`None` for
    /// agents, frameworks, masters), its name's id ([`text`](Self::text)) and its data. Borrowed, for
    /// cursors that resume at an index (the streamed `/v1/enumerate`).
    pub(crate) fn entry_at(&self, index: usize) -> Option<(Option<usize>, u32, Data)> {
        let e = self.entries.get(index)?;
        let task = self.tasks.of_record(u32::try_from(index).ok()?);
        Some((task, e.name, self.unpack(e.data)))
    }

    /// The text of an interned name (lower-case, fully qualified).
    pub(crate) fn text(&self, id: u32) -> &str {
        std::str::from_utf8(self.names.get(id)).unwrap_or("")
    }

    fn unpack(&self, data: Packed) -> Data {
        match data {
            Packed::A(o) => Data::A(o),
            Packed::Aaaa(i) => Data::Aaaa(self.v6.get(i as usize).copied().unwrap_or([0; 16])),
            Packed::Srv { target, port } => Data::Srv { target, port },
            Packed::Other(i) => Data::Other(i),
        }
    }

    fn rdata(&self, data: Data) -> RData {
        match data {
            Data::A(o) => RData::A(Ipv4Addr::from(o)),
            Data::Aaaa(o) => RData::Aaaa(Ipv6Addr::from(o)),
            Data::Srv { target, port } => RData::Srv {
                target: self.text(target).to_owned(),
                port,
            },
            Data::Other(i) => self.others.get(i as usize).cloned().unwrap_or(RData::Txt(Vec::new())),
        }
    }

    /// The interned names (text, lower-case, fully qualified).
    pub(super) fn names(&self) -> &ByteTable {
        &self.names
    }

    /// (name id, data) of every record, in generation order.
    pub(super) fn entries(&self) -> impl Iterator<Item = (u32, Data)> + '_ {
        self.entries.iter().map(|e| (e.name, self.unpack(e.data)))
    }

    /// (index, name id, data) of the static records alone ([`begin_static`](Self::begin_static)
    /// on), without reading the generated ones before them.
    pub(super) fn static_entries(&self) -> impl Iterator<Item = (usize, u32, Data)> + '_ {
        let from = match self.static_from {
            NONE => self.entries.len(),
            from => from as usize,
        };
        (self.entries.range(from..self.entries.len()).enumerate())
            .map(move |(i, e)| (from + i, e.name, self.unpack(e.data)))
    }
}

/// `data` as stored, with `v6_index` for an IPv6 address.
fn pack(data: Data, v6_index: u32) -> Packed {
    match data {
        Data::A(o) => Packed::A(o),
        Data::Aaaa(_) => Packed::Aaaa(v6_index),
        Data::Srv { target, port } => Packed::Srv { target, port },
        Data::Other(i) => Packed::Other(i),
    }
}

mod chains;
mod entries;
#[cfg(test)]
mod tests;
