//! What changed between two snapshots, as wire bytes: the records deleted and added from one SOA serial
//! to the next, kept with the snapshot they led to (the last ones, within a size in bytes) so that an
//! incremental zone transfer (IXFR, RFC 1995) reads the changes of the very snapshot it answers from.
//! Computing a change is `crate::transfer::journal`'s; this is the data and its bound.

use std::mem::size_of;
use std::ops::Deref;
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

impl Change {
    /// The memory this change holds in a journal: its bytes, the struct, the `Arc`'s two counts and
    /// the journal's pointer to it.
    pub fn bytes(&self) -> usize {
        let data = self.from_soa.len() + self.to_soa.len() + self.deleted.len() + self.added.len();
        data + size_of::<Change>() + 2 * size_of::<usize>() + size_of::<Arc<Change>>()
    }
}

/// The changes that led to a snapshot, oldest first (the last one's `to_soa` is the snapshot's SOA),
/// with their total [`Change::bytes`], summed as changes come and go rather than counted again.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    changes: Arc<[Arc<Change>]>,
    bytes: usize,
}

impl Journal {
    /// The memory the changes hold (what `ixfrJournalBytes` bounds).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// This journal with `change` appended, the oldest changes dropped until all fit in `bound` bytes.
    /// A change that alone is bigger than `bound` is not kept, and then neither are the older ones
    /// (they do not lead to the new serial): a secondary behind it gets the whole zone.
    pub(crate) fn pushed(&self, change: Change, bound: usize) -> Journal {
        let size = change.bytes();
        if size > bound {
            return Journal::default();
        }
        let (skip, kept) = self.oldest_dropped(bound - size);
        let changes = self.changes[skip..].iter().cloned().chain([Arc::new(change)]).collect();
        Journal {
            changes,
            bytes: kept + size,
        }
    }

    /// This journal with the oldest changes dropped until the rest fit in `bound` bytes (`bound` may
    /// have been lowered by a reload); itself, shared, when they fit already.
    pub(crate) fn within(&self, bound: usize) -> Journal {
        if self.bytes <= bound {
            return self.clone();
        }
        let (skip, bytes) = self.oldest_dropped(bound);
        Journal {
            changes: self.changes[skip..].into(),
            bytes,
        }
    }

    /// How many of the oldest changes to drop so that the rest fit in `room` bytes, and what the rest
    /// hold.
    fn oldest_dropped(&self, room: usize) -> (usize, usize) {
        let mut bytes = self.bytes;
        let mut skip = 0;
        for change in self.changes.iter() {
            if bytes <= room {
                break;
            }
            bytes = bytes.saturating_sub(change.bytes());
            skip += 1;
        }
        (skip, bytes)
    }
}

/// The changes, oldest first.
impl Deref for Journal {
    type Target = [Arc<Change>];

    fn deref(&self) -> &[Arc<Change>] {
        &self.changes
    }
}
