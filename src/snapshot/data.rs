//! The stored forms of the record data a node holds besides addresses: an SRV record's port and target
//! node ([`Srv`]), and where a static CNAME or TXT record's ready-to-copy RDATA sits ([`Extra`]). A leaf:
//! the chunks store them ([`super::chunk`]) and lookups hand them out ([`super::lookup`]).

/// An SRV record: priority 0, the zone's weight, this port, and the target node. Packed to 6 bytes
/// (aligned 2): a column of them at 1M tasks is 6.8M entries, and the 2 bytes of padding an aligned
/// `u32` would add took 13 MB resident (`benches/refresh.sh 1M`: 514 -> 501 MB in the glibc build,
/// 537 -> 523 MB in the static one). Its fields are read by value, never borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(2))]
pub struct Srv {
    pub port: u16,
    pub target: u32,
}

const _: () = assert!(std::mem::size_of::<Srv>() == 6);

/// A CNAME or TXT record (static records only): its type and where its RDATA, ready to copy, sits in
/// the snapshot's blob.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extra {
    pub rtype: u16,
    pub start: u32,
    pub end: u32,
}
