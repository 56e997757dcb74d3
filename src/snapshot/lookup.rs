//! The lookup snapshot the server answers from, and how a name is found in it: every name under the domain,
//! keyed by its lower-case wire form, with its A, AAAA and SRV data ready to copy into a response (the
//! NSD/Knot way: work is done when the snapshot is built, not when a query arrives). With reverse lookups
//! on, the `in-addr.arpa` / `ip6.arpa` names of known addresses are nodes too (after every name of the
//! domain), each holding its PTR targets. Building it from a record list is [`build`]'s.

mod build;

use super::names::ByteTable;
use super::{Journal, RecordList, Zone};
use crate::wire::is_at_or_below;

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

/// Everything stored at one name, borrowed from the snapshot. A node with no data is an empty
/// non-terminal (or the apex).
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    /// The name in lower-case wire form.
    pub name: &'a [u8],
    pub a: &'a [[u8; 4]],
    pub aaaa: &'a [[u8; 16]],
    pub srv: &'a [Srv],
    /// PTR targets (node ids, names under the domain); only reverse names have any.
    pub ptr: &'a [u32],
    /// CNAME and TXT records (static records only; a CNAME is alone at its name).
    pub extra: &'a [Extra],
    /// The RDATA the `extra` records point into.
    pub blob: &'a [u8],
}

impl<'a> Node<'a> {
    pub fn is_empty(&self) -> bool {
        self.a.is_empty() && self.aaaa.is_empty() && self.srv.is_empty() && self.ptr.is_empty() && self.extra.is_empty()
    }

    /// The RDATA of this node's `extra` records of type `rtype`.
    #[inline]
    pub fn extra_rdata(&self, rtype: u16) -> impl Iterator<Item = &'a [u8]> + 'a {
        let blob = self.blob;
        self.extra
            .iter()
            .filter(move |e| e.rtype == rtype)
            .map(move |e| blob.get(e.start as usize..e.end as usize).unwrap_or_default())
    }

    /// The CNAME target (wire form), if this name is an alias.
    #[inline]
    pub fn cname(&self) -> Option<&'a [u8]> {
        if self.extra.is_empty() {
            return None;
        }
        self.extra_rdata(crate::wire::rtype::CNAME).next()
    }
}

/// The length of the uncompressed wire name at the start of `buf`.
fn name_len(buf: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let len = usize::from(*buf.get(at)?);
        at += 1 + len;
        if len == 0 {
            return Some(at);
        }
    }
}

/// Where a lower-case wire name falls relative to a snapshot.
pub enum Lookup<'a> {
    /// Not the domain nor below it.
    Outside,
    /// Below the domain, but no such name.
    NotFound,
    /// The name exists (possibly with no data: an empty non-terminal or the apex).
    Found(Node<'a>),
    /// The reverse name of an address we know (outside the domain, but ours to answer).
    Reverse(Node<'a>),
}

/// One snapshot of every record: names interned in wire form (node id = name id), and the data of all
/// nodes in one array per kind (A, AAAA, SRV, PTR, CNAME/TXT), node `i` owning `a[starts[i][0]..starts[i + 1][0]]`
/// of the first and likewise of the others, one `starts` row holding all five starts. Node ids from
/// `first_reverse` on are reverse names.
pub struct Records {
    loaded: bool,
    zone: Zone,
    apex: Box<[u8]>,
    soa_rdata: Box<[u8]>,
    ns_rdata: Box<[u8]>,
    serial: u32,
    names: ByteTable,
    a: Vec<[u8; 4]>,
    aaaa: Vec<[u8; 16]>,
    srv: Vec<Srv>,
    ptr: Vec<u32>,
    extra: Vec<Extra>,
    blob: Vec<u8>,
    /// Per node (and one past the last): where its A, AAAA, SRV and PTR data start in the arrays above,
    /// side by side so that one lookup reads one or two cache lines.
    starts: Vec<[u32; 5]>,
    first_reverse: u32,
    skipped: usize,
    /// What static records did to generated ones at the same names, a line each (for the log).
    collisions: Vec<String>,
    /// The generated records with their tasks, kept for `/v1/enumerate` when it is served.
    list: Option<RecordList>,
    /// The changes from earlier serials to this one (for IXFR).
    journal: Journal,
}

impl Records {
    /// Keeps the record list this snapshot was built from (for `/v1/enumerate`).
    pub fn with_list(mut self, list: RecordList) -> Records {
        self.list = Some(list);
        self
    }

    /// This snapshot with another SOA serial (a refresh that changed no record keeps the serial).
    pub fn with_serial(mut self, serial: u32) -> Records {
        self.serial = serial;
        let len = self.soa_rdata.len();
        // The serial is the first of the five numbers that end the RDATA.
        if let Some(slot) = len.checked_sub(20).and_then(|at| self.soa_rdata.get_mut(at..at + 4)) {
            slot.copy_from_slice(&serial.to_be_bytes());
        }
        self
    }

    /// Keeps the changes that led to this snapshot.
    pub fn with_journal(mut self, journal: Journal) -> Records {
        self.journal = journal;
        self
    }

    /// The changes that led to this snapshot, oldest first.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The record list, if kept.
    pub fn list(&self) -> Option<&RecordList> {
        self.list.as_ref()
    }

    /// Finds a lower-case wire name.
    #[inline]
    pub fn lookup(&self, wire: &[u8]) -> Lookup<'_> {
        if let Some(id) = self.names.find(wire) {
            if let Some(node) = self.node(id) {
                return if id < self.first_reverse {
                    Lookup::Found(node)
                } else {
                    Lookup::Reverse(node)
                };
            }
        }
        if is_at_or_below(wire, &self.apex) {
            Lookup::NotFound
        } else {
            Lookup::Outside
        }
    }

    /// The node with this id (SRV targets).
    #[inline]
    pub fn node(&self, id: u32) -> Option<Node<'_>> {
        let i = id as usize;
        let (start, end) = (self.starts.get(i)?, self.starts.get(i + 1)?);
        let range = |k: usize| start[k] as usize..end[k] as usize;
        // Columns as `build` fills them: A, AAAA, SRV, PTR, other.
        Some(Node {
            name: self.names.get(id),
            a: self.a.get(range(0))?,
            aaaa: self.aaaa.get(range(1))?,
            srv: self.srv.get(range(2))?,
            ptr: self.ptr.get(range(3))?,
            extra: self.extra.get(range(4))?,
            blob: &self.blob,
        })
    }

    /// The lower-case wire name of node `id` alone: what an SRV or PTR target needs, without reading
    /// the node's record ranges as [`node`](Self::node) does.
    #[inline]
    pub fn name(&self, id: u32) -> Option<&[u8]> {
        Some(self.names.get(id)).filter(|name| !name.is_empty())
    }

    /// Every node of the domain, in id order (the apex first); reverse names are not among them.
    pub fn nodes(&self) -> impl Iterator<Item = Node<'_>> {
        (0..self.first_reverse).filter_map(|id| self.node(id))
    }

    /// How many nodes [`nodes`](Self::nodes) walks: the domain's are ids `0..domain_node_count()` (for
    /// cursors that resume at a node id, the streamed HTTP documents).
    pub fn domain_node_count(&self) -> u32 {
        self.first_reverse
    }

    /// Whether this snapshot came from a successful refresh.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// The domain in lower-case wire form.
    pub fn apex(&self) -> &[u8] {
        &self.apex
    }

    /// Whether `wire` (lower-case) is the domain itself.
    pub fn is_apex(&self, wire: &[u8]) -> bool {
        wire == &*self.apex
    }

    /// The SOA RDATA (names uncompressed).
    pub fn soa_rdata(&self) -> &[u8] {
        &self.soa_rdata
    }

    /// The names of the apex NS records (wire form, uncompressed): `nameservers`, or `SOAMname`.
    pub fn ns_names(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest: &[u8] = &self.ns_rdata;
        std::iter::from_fn(move || {
            let len = name_len(rest)?;
            let (name, tail) = rest.split_at(len);
            rest = tail;
            Some(name)
        })
    }

    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// Number of names (including empty non-terminals and the apex).
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    /// Records of the list that could not be stored (invalid or outside the domain).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Counts of (A, AAAA, SRV) records.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.a.len(), self.aaaa.len(), self.srv.len())
    }

    /// What static records did to generated records at the same names, a line each.
    pub fn static_collisions(&self) -> &[String] {
        &self.collisions
    }

    /// Number of CNAME and TXT records (static records).
    pub fn extra_count(&self) -> usize {
        self.extra.len()
    }

    /// Number of PTR records (reverse lookups).
    pub fn ptr_count(&self) -> usize {
        self.ptr.len()
    }
}
