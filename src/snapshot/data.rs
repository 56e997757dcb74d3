//! The stored forms of the record data a node holds besides addresses: an SRV record's port and target
//! node ([`Srv`]), and where a static CNAME or TXT record's ready-to-copy RDATA sits ([`Extra`]). A leaf:
//! the chunks store them ([`super::chunk`]) and lookups hand them out ([`super::lookup`]).

/// An SRV record: priority 0, the zone's weight, this port, and the target node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Srv {
    pub port: u16,
    pub target: u32,
}

/// A CNAME or TXT record (static records only): its type and where its RDATA, ready to copy, sits in
/// the snapshot's blob.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extra {
    pub rtype: u16,
    pub start: u32,
    pub end: u32,
}
