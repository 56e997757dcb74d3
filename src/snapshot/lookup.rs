//! The lookup snapshot the server answers from, and how a name is found in it: every name under the domain,
//! keyed by its lower-case wire form, with its A, AAAA and SRV data ready to copy into a response (the
//! NSD/Knot way: work is done when the snapshot is built, not when a query arrives). With reverse lookups
//! on, the `in-addr.arpa` / `ip6.arpa` names of known addresses are nodes too (after every name of the
//! domain), each holding its PTR targets. Building it from a record list is [`build`]'s.

mod build;

pub(crate) use build::Counting;

use std::sync::Arc;

use super::chunk::{name_in, Chunk, NameIndex, CHUNK, CHUNK_BITS, DOMAIN, REVERSE};
use super::data::{Extra, Srv};
use super::reverse::MAX_PTRS_PER_ADDRESS;
use super::tasks::TaskTable;
use super::{Journal, RecordList, Zone, ZoneMap};
use crate::wire::is_at_or_below;

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
    #[cfg(test)]
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

/// One snapshot of every record: every name (node) with its data, in copy-on-write chunks of
/// consecutive node ids ([`Chunk`]) found through a sharded name index ([`NameIndex`]). A node id is
/// stable while its name exists, so SRV and PTR data name their targets by id. The domain's names
/// and the reverse names share the id space; each node says which it is.
#[derive(Clone)]
pub struct Records {
    loaded: bool,
    zone: Zone,
    pub(super) apex: Box<[u8]>,
    soa_rdata: Box<[u8]>,
    ns_rdata: Box<[u8]>,
    serial: u32,
    pub(super) index: NameIndex,
    pub(super) chunks: Vec<Arc<Chunk>>,
    /// Ids of freed nodes, for new names to take.
    pub(super) free: Vec<u32>,
    pub(super) totals: Totals,
    skipped: usize,
    /// What static records did to generated ones at the same names, a line each (for the log).
    collisions: Vec<String>,
    /// The generated records with their tasks, kept for `/v1/enumerate` when it is served.
    list: Option<Arc<RecordList>>,
    /// The tasks and their records when the snapshot is kept up to date by edits (stream mode).
    tasks: Option<Arc<TaskTable>>,
    /// The changes from earlier serials to this one (for IXFR).
    journal: Journal,
    /// Whether edits count references ([`Records::start_counting`]).
    pub(super) counting: bool,
    /// The zones of sources and addresses, with `preferLocalZone` and agents in zones.
    pub(super) zones: Option<Arc<ZoneMap>>,
    /// Number of wildcard names (static records only): with none, a miss is not searched further.
    pub(super) wildcards: usize,
}

/// Record and name counts (for logs and metrics).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Totals {
    pub(super) names: usize,
    pub(super) columns: [usize; 5],
}

impl Records {
    /// Keeps the record list this snapshot was built from (for `/v1/enumerate`).
    pub fn with_list(mut self, list: RecordList) -> Records {
        self.list = Some(Arc::new(list));
        self
    }

    /// Keeps the task table of an edited snapshot (for `/v1/enumerate`).
    pub(crate) fn with_tasks(mut self, tasks: Arc<TaskTable>) -> Records {
        self.tasks = Some(tasks);
        self
    }

    /// Answers queries from agents in a zone with that zone's records first (`preferLocalZone`).
    pub fn with_zones(mut self, zones: Option<ZoneMap>) -> Records {
        self.zones = zones.map(Arc::new);
        self
    }

    /// The zones, with `preferLocalZone` and agents in zones.
    #[inline]
    pub fn zones(&self) -> Option<&ZoneMap> {
        self.zones.as_deref()
    }

    /// The task table, if kept.
    pub(crate) fn tasks(&self) -> Option<&TaskTable> {
        self.tasks.as_deref()
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
        self.list.as_deref()
    }

    /// Finds a lower-case wire name.
    #[inline]
    pub fn lookup(&self, wire: &[u8]) -> Lookup<'_> {
        if let Some(id) = self.find(wire) {
            if let Some((chunk, i)) = self.chunk_of(id) {
                let node = node_at(chunk, i);
                return match chunk.kind(i) {
                    Some(REVERSE) => Lookup::Reverse(node),
                    _ => Lookup::Found(node),
                };
            }
        }
        if is_at_or_below(wire, &self.apex) {
            Lookup::NotFound
        } else {
            Lookup::Outside
        }
    }

    /// The id of a lower-case wire name, if it is a node.
    #[inline]
    pub(crate) fn find(&self, wire: &[u8]) -> Option<u32> {
        self.index.find(wire, |id| self.name_bytes(id))
    }

    /// The chunk holding node `id` and its place there, if `id` is a node.
    #[inline]
    fn chunk_of(&self, id: u32) -> Option<(&Chunk, usize)> {
        let chunk = self.chunks.get((id >> CHUNK_BITS) as usize)?;
        let i = id as usize & (CHUNK - 1);
        chunk.kind(i).filter(|&k| k != super::chunk::FREE)?;
        Some((chunk, i))
    }

    #[inline]
    fn name_bytes(&self, id: u32) -> &[u8] {
        name_in(&self.chunks, id)
    }

    /// The node with this id (SRV and PTR targets), of the domain or a reverse name.
    #[inline]
    pub fn node(&self, id: u32) -> Option<Node<'_>> {
        let (chunk, i) = self.chunk_of(id)?;
        Some(node_at(chunk, i))
    }

    /// The node with this id if it is a name of the domain (not a reverse name, not a free id).
    #[inline]
    pub fn domain_node(&self, id: u32) -> Option<Node<'_>> {
        let (chunk, i) = self.chunk_of(id)?;
        (chunk.kind(i) == Some(DOMAIN)).then(|| node_at(chunk, i))
    }

    /// The lower-case wire name of node `id` alone: what an SRV or PTR target needs, without reading
    /// the node's record ranges as [`node`](Self::node) does.
    #[inline]
    pub fn name(&self, id: u32) -> Option<&[u8]> {
        Some(self.name_bytes(id)).filter(|name| !name.is_empty())
    }

    /// Every node of the domain, in id order (the apex first); reverse names are not among them.
    pub fn nodes(&self) -> impl Iterator<Item = Node<'_>> {
        (0..self.node_id_bound()).filter_map(|id| self.domain_node(id))
    }

    /// Node ids are below this (for cursors that resume at a node id, the streamed HTTP documents
    /// and zone transfers: [`domain_node`](Self::domain_node) of each id in turn walks the domain).
    pub fn node_id_bound(&self) -> u32 {
        let full = self.chunks.len().saturating_sub(1) * CHUNK;
        let last = self.chunks.last().map_or(0, |c| c.len());
        (full + last) as u32
    }

    /// Whether this snapshot came from a successful refresh.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// The zone: domain, SOA and NS fields.
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
            let len = crate::wire::uncompressed_len(rest)?;
            let (name, tail) = rest.split_at(len);
            rest = tail;
            Some(name)
        })
    }

    /// The SOA serial of this snapshot.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// Number of names (including empty non-terminals and the apex).
    pub fn name_count(&self) -> usize {
        self.totals.names
    }

    /// Records of the list that could not be stored (invalid or outside the domain).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Counts of (A, AAAA, SRV) records.
    pub fn counts(&self) -> (usize, usize, usize) {
        let c = &self.totals.columns;
        (c[0], c[1], c[2])
    }

    /// What static records did to generated records at the same names, a line each.
    pub fn static_collisions(&self) -> &[String] {
        &self.collisions
    }

    /// Number of CNAME and TXT records (static records).
    pub fn extra_count(&self) -> usize {
        self.totals.columns[4]
    }

    /// Number of PTR records (reverse lookups).
    pub fn ptr_count(&self) -> usize {
        self.totals.columns[3]
    }
}

/// Node `i` of `chunk`. A reverse name shows its first [`MAX_PTRS_PER_ADDRESS`] PTR targets (edits
/// may hold more, in the order they came).
#[inline]
fn node_at(chunk: &Chunk, i: usize) -> Node<'_> {
    let (s, e) = match (chunk.starts.get(i), chunk.starts.get(i + 1)) {
        (Some(s), Some(e)) => (s, e),
        _ => ([0; 5], [0; 5]),
    };
    let r = |k: usize| s[k] as usize..e[k] as usize;
    let ptr = chunk.ptr.get(r(3)).unwrap_or_default();
    Node {
        name: chunk.name(i),
        a: chunk.a.get(r(0)).unwrap_or_default(),
        aaaa: chunk.aaaa.get(r(1)).unwrap_or_default(),
        srv: chunk.srv.get(r(2)).unwrap_or_default(),
        ptr: ptr.get(..ptr.len().min(MAX_PTRS_PER_ADDRESS)).unwrap_or_default(),
        extra: chunk.extra.get(r(4)).unwrap_or_default(),
        blob: &chunk.blob,
    }
}

#[cfg(test)]
impl Records {
    /// Every name (reverse names too) with its records as sorted text, for comparing two snapshots as
    /// DNS sees them (RRset order has no meaning there).
    pub(crate) fn describe(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        use crate::wire::wire_to_text;
        let target = |id: u32| self.name(id).map(wire_to_text).unwrap_or_default();
        (0..self.node_id_bound())
            .filter_map(|id| self.node(id))
            .map(|n| {
                let mut rrs: Vec<String> =
                    n.a.iter()
                        .map(|ip| format!("A {}", std::net::Ipv4Addr::from(*ip)))
                        .collect();
                rrs.extend(
                    n.aaaa
                        .iter()
                        .map(|ip| format!("AAAA {}", std::net::Ipv6Addr::from(*ip))),
                );
                rrs.extend(n.srv.iter().map(|s| format!("SRV {} {}", s.port, target(s.target))));
                rrs.extend(n.ptr.iter().map(|&p| format!("PTR {}", target(p))));
                rrs.extend(
                    n.extra
                        .iter()
                        .map(|e| format!("{} {:?}", e.rtype, n.blob.get(e.start as usize..e.end as usize))),
                );
                rrs.sort();
                (wire_to_text(n.name), rrs)
            })
            .collect()
    }
}
