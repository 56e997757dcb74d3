//! Records: the named records generated from Mesos state ([`RecordList`], text form, used by logging and
//! the HTTP API) and the immutable, wire-ready lookup snapshot built from them ([`Records`]).

pub mod generate;
mod index;
pub mod label;
mod names;
pub mod reverse;
pub mod taskid;

pub use index::{text_to_wire, Lookup, Node, Records, Srv, Zone};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use names::ByteTable;

/// The data of one generated record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// SRV with priority 0 and the configured weight; `target` is a fully qualified lower-case name.
    Srv {
        target: String,
        port: u16,
    },
}

/// One generated record: a fully qualified, lower-case name (with trailing dot) and its data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Record {
    pub name: String,
    pub data: RData,
}

/// A record's data with its SRV target interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Data {
    A([u8; 4]),
    Aaaa([u8; 16]),
    Srv { target: u32, port: u16 },
}

const NONE: u32 = u32::MAX;

/// One stored record: its name's id, the previous record of the same name (a chain per name, for
/// duplicate checks without a global set), the task it was generated for (`NONE` for agents,
/// frameworks, masters), and its data.
#[derive(Debug, Clone, Copy)]
struct Entry {
    name: u32,
    prev: u32,
    task: u32,
    data: Data,
}

/// A task that records were generated for (`/v1/enumerate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRef {
    /// The framework's name as Mesos reports it.
    pub framework: String,
    pub name: String,
    pub id: String,
}

/// The records generated from one state document, in generation order, never holding the same
/// (name, data) twice. Names are interned: each is stored once however many records it has.
#[derive(Debug, Clone)]
pub struct RecordList {
    names: ByteTable,
    /// The last record of each name (index into `entries`), or `NONE`.
    last: Vec<u32>,
    entries: Vec<Entry>,
    tasks: Vec<TaskRef>,
    /// The task records are being generated for, or `NONE`.
    current_task: u32,
    /// The A/AAAA records (indexes into `entries`) whose address also points back to their name
    /// (PTR records, `PTROn`), in generation order.
    reverse: Vec<u32>,
}

impl Default for RecordList {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl RecordList {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list with room for about `records` records.
    pub fn with_capacity(records: usize) -> Self {
        RecordList {
            names: ByteTable::with_capacity(records / 3),
            last: Vec::with_capacity(records / 3),
            entries: Vec::with_capacity(records),
            tasks: Vec::new(),
            current_task: NONE,
            reverse: Vec::new(),
        }
    }

    /// Records pushed from now on were generated for this task (until [`end_task`](Self::end_task)).
    pub fn begin_task(&mut self, framework: &str, name: &str, id: &str) {
        self.current_task = u32::try_from(self.tasks.len()).unwrap_or(NONE);
        self.tasks.push(TaskRef {
            framework: framework.to_owned(),
            name: name.to_owned(),
            id: id.to_owned(),
        });
    }

    pub fn end_task(&mut self) {
        self.current_task = NONE;
    }

    /// The tasks records were generated for, in generation order.
    pub fn tasks(&self) -> &[TaskRef] {
        &self.tasks
    }

    /// The records generated for each task: (index into [`tasks`](Self::tasks), record), in generation
    /// order. A record two tasks share is listed under the first.
    pub fn task_records(&self) -> impl Iterator<Item = (usize, Record)> + '_ {
        self.entries.iter().filter(|e| e.task != NONE).map(|e| {
            (
                e.task as usize,
                Record {
                    name: self.text(e.name).to_owned(),
                    data: self.rdata(e.data),
                },
            )
        })
    }

    fn name_id(&mut self, name: &str) -> Option<u32> {
        let id = self.names.intern(name.as_bytes())?;
        if id as usize == self.last.len() {
            self.last.push(NONE);
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
        }
    }

    /// Adds an A or AAAA record (see [`push`](Self::push)).
    pub fn push_ip(&mut self, name: &str, ip: IpAddr) -> bool {
        let data = match ip {
            IpAddr::V4(v4) => Data::A(v4.octets()),
            IpAddr::V6(v6) => Data::Aaaa(v6.octets()),
        };
        self.name_id(name).is_some_and(|id| self.add(id, data))
    }

    /// Adds an A or AAAA record whose address also gets a PTR record back to `name` (reverse lookups,
    /// `PTROn`). Returns whether it was added; a record already there keeps whatever it had.
    pub fn push_ip_reverse(&mut self, name: &str, ip: IpAddr) -> bool {
        let added = self.push_ip(name, ip);
        if added {
            if let Ok(index) = u32::try_from(self.entries.len().saturating_sub(1)) {
                self.reverse.push(index);
            }
        }
        added
    }

    /// The reverse mappings, (address, name), in generation order (allocates: for logs and tests).
    pub fn reverse(&self) -> impl Iterator<Item = (IpAddr, String)> + '_ {
        self.reverse_entries().filter_map(|(name, data)| {
            let ip = match data {
                Data::A(o) => IpAddr::V4(Ipv4Addr::from(o)),
                Data::Aaaa(o) => IpAddr::V6(Ipv6Addr::from(o)),
                Data::Srv { .. } => return None,
            };
            Some((ip, self.text(name).to_owned()))
        })
    }

    /// (name id, data) of every record marked for reverse lookups, in generation order.
    pub(crate) fn reverse_entries(&self) -> impl Iterator<Item = (u32, Data)> + '_ {
        self.reverse
            .iter()
            .filter_map(|&i| self.entries.get(i as usize))
            .map(|e| (e.name, e.data))
    }

    /// Adds an SRV record (see [`push`](Self::push)).
    pub fn push_srv(&mut self, name: &str, target: &str, port: u16) -> bool {
        let Some(target) = self.name_id(target) else {
            return false;
        };
        self.name_id(name)
            .is_some_and(|id| self.add(id, Data::Srv { target, port }))
    }

    fn add(&mut self, name: u32, data: Data) -> bool {
        let Some(last) = self.last.get_mut(name as usize) else {
            return false;
        };
        let mut at = *last;
        while let Some(e) = self.entries.get(at as usize) {
            if e.data == data {
                return false;
            }
            at = e.prev;
        }
        let Ok(index) = u32::try_from(self.entries.len()) else {
            return false;
        };
        self.entries.push(Entry {
            name,
            prev: *last,
            task: self.current_task,
            data,
        });
        *last = index;
        true
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every record in generation order, as text (allocates: for logs, the HTTP API and tests).
    pub fn iter(&self) -> impl Iterator<Item = Record> + '_ {
        self.entries.iter().map(|e| Record {
            name: self.text(e.name).to_owned(),
            data: self.rdata(e.data),
        })
    }

    /// True if some record has exactly this name and data.
    pub fn contains(&self, name: &str, data: &RData) -> bool {
        let Some(id) = self.names.find(name.as_bytes()) else {
            return false;
        };
        let mut at = self.last.get(id as usize).copied().unwrap_or(NONE);
        while let Some(e) = self.entries.get(at as usize) {
            if self.rdata(e.data) == *data {
                return true;
            }
            at = e.prev;
        }
        false
    }

    fn text(&self, id: u32) -> &str {
        std::str::from_utf8(self.names.get(id)).unwrap_or("")
    }

    fn rdata(&self, data: Data) -> RData {
        match data {
            Data::A(o) => RData::A(Ipv4Addr::from(o)),
            Data::Aaaa(o) => RData::Aaaa(Ipv6Addr::from(o)),
            Data::Srv { target, port } => RData::Srv {
                target: self.text(target).to_owned(),
                port,
            },
        }
    }

    /// The interned names (text, lower-case, fully qualified).
    pub(crate) fn names(&self) -> &ByteTable {
        &self.names
    }

    /// (name id, data) of every record, in generation order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (u32, Data)> + '_ {
        self.entries.iter().map(|e| (e.name, e.data))
    }
}
