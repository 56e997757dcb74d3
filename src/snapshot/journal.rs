//! What changed between two snapshots, as wire bytes: the records deleted and added from one SOA serial
//! to the next, kept with the snapshot they led to (the last few of them) so that an incremental zone
//! transfer (IXFR, RFC 1995) reads the changes of the very snapshot it answers from. Computing a change
//! is `crate::transfer::journal`'s; this is only the data.

use std::sync::Arc;

/// The changes from one serial to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The serial and SOA RDATA before.
    pub from_serial: u32,
    pub from_soa: Box<[u8]>,
    /// The SOA RDATA after.
    pub to_soa: Box<[u8]>,
    /// The records deleted and added, each whole and uncompressed (owner, type, class, TTL, RDLENGTH,
    /// RDATA), one after the other.
    pub deleted: Box<[u8]>,
    pub added: Box<[u8]>,
}

/// The changes that led to a snapshot, oldest first: the last one's `to_soa` is the snapshot's SOA.
pub(crate) type Journal = Arc<[Arc<Change>]>;
