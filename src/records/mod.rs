//! Records: the named records generated from Mesos state ([`RecordList`], text form, used by logging and
//! the HTTP API) and the immutable, wire-ready lookup snapshot built from them ([`Records`]).

pub mod generate;
mod index;
pub mod label;
pub mod taskid;

pub use index::{text_to_wire, Lookup, Node, Records, Srv, Zone};

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

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

/// The records generated from one state document, in generation order, never holding the same
/// (name, data) twice.
#[derive(Debug, Default, Clone)]
pub struct RecordList {
    records: Vec<Record>,
    seen: HashSet<Record>,
}

impl RecordList {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a record unless the same (name, data) is already there. `name` must be fully qualified
    /// (trailing dot) and lower-case. Returns whether it was added.
    pub fn push(&mut self, name: &str, data: RData) -> bool {
        let record = Record {
            name: name.to_owned(),
            data,
        };
        if self.seen.contains(&record) {
            return false;
        }
        self.seen.insert(record.clone());
        self.records.push(record);
        true
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Record> {
        self.records.iter()
    }

    /// True if some record has exactly this name and data.
    pub fn contains(&self, name: &str, data: &RData) -> bool {
        self.seen.contains(&Record {
            name: name.to_owned(),
            data: data.clone(),
        })
    }
}
