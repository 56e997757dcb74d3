//! The snapshot: the immutable, wire-ready lookup structure queries are answered from ([`Records`]),
//! built from a list of generated records ([`RecordList`]) and the zone settings ([`Zone`]).
//!
//! The record list is the interface to the naming rules: `crate::records` fills it from the master's
//! state, this module indexes it. It sees only [`crate::wire`]: no Mesos state, no config, no naming
//! rule, no I/O.
//!
//! - `list.rs`: [`RecordList`], the generated records and their tasks, names interned;
//! - `lookup.rs`: [`Records`], finding a wire name in it ([`Lookup`], [`Node`]); `lookup/build.rs`:
//!   building it from a list;
//! - `chunk.rs`: its copy-on-write storage, nodes in chunks and a sharded name index; `data.rs`: the
//!   SRV and CNAME/TXT data they store;
//! - `edit.rs`: editing it record by record ([`Rr`]), with counts, for stream mode;
//! - `tasks.rs`: the tasks of an edited snapshot ([`TaskTable`]), their records made again when needed;
//! - `names.rs`: the interned byte strings both use;
//! - [`reverse`]: the reverse names of addresses (PTR records);
//! - `zone.rs`: [`Zone`];
//! - `journal.rs`: [`Change`], what changed from one serial to the next (for IXFR);
//! - `zones.rs`: [`ZoneMap`], the fault-domain zones of sources and addresses (`preferLocalZone`).

mod chunk;
mod data;
mod edit;
mod journal;
mod list;
mod lookup;
mod names;
pub(crate) mod reverse;
mod tasks;
mod wildcard;
mod zone;
mod zones;

pub(crate) use data::Srv;
pub(crate) use edit::Rr;
pub(crate) use journal::{Change, Journal};
pub(crate) use list::Data;
pub(crate) use list::{NameId, Record, Repeat};
pub use list::{RData, RecordList};
pub(crate) use lookup::{Counting, Node};
pub use lookup::{Lookup, Records};
pub(crate) use names::FastHash;
pub(crate) use tasks::{Regenerate, TaskEntry, TaskRecord, TaskTable};
pub(crate) use zone::Zone;
pub use zones::ZoneMap;

#[cfg(test)]
mod tests;

/// How many of `ours` are the same allocation as `theirs`' at the same position, of how many: what an
/// edit's copy-on-write left shared (the chunks, the name index's shards, the task table's chunks).
#[cfg(test)]
fn shared_arcs<T>(ours: &[std::sync::Arc<T>], theirs: &[std::sync::Arc<T>]) -> (usize, usize) {
    let shared = ours
        .iter()
        .zip(theirs)
        .filter(|(a, b)| std::sync::Arc::ptr_eq(a, b))
        .count();
    (shared, ours.len())
}
