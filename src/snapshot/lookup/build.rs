//! Building a [`Records`] snapshot from a [`RecordList`]: text names to interned wire names (with their
//! empty ancestors), reverse names for the addresses marked for PTR records, and every node's data placed
//! side by side by a counting sort. The work of answering is done here, once per refresh.

use std::collections::HashMap;
use std::sync::Arc;

pub(crate) use counted::Counting;
use counted::{Counted, Counts, Tree};

use super::{Extra, Records, Srv, Totals};
use crate::snapshot::chunk::{
    Chunk, ChunkNames, CountColumn, NameIndex, Starts, A, AAAA, CHUNK, CHUNK_BITS, OTHER, PTR, REVERSE, SRV,
};
use crate::snapshot::list::Data;
use crate::snapshot::names::{prefetch, FastHash};
use crate::snapshot::reverse::{reverse_name, MAX_PTRS_PER_ADDRESS};
use crate::snapshot::{Journal, RData, RecordList, Zone};
use crate::wire::{bytes_to_wire, is_at_or_below, parents, rtype, text_to_wire, wire_to_text};

const NONE: u32 = u32::MAX;

impl Records {
    /// The snapshot before the first successful refresh: the domain answers SERVFAIL.
    pub fn unloaded(zone: Zone) -> Records {
        let mut r = Records::build(zone, &RecordList::new(), 0);
        r.loaded = false;
        r
    }

    /// Builds a snapshot from generated records; `serial` is the SOA serial (Unix time of the refresh).
    /// Records whose names are not valid DNS names under the domain are skipped and counted. Records
    /// marked for reverse lookups give PTR records at their address's reverse name, at most
    /// [`MAX_PTRS_PER_ADDRESS`] per address.
    pub fn build(zone: Zone, list: &RecordList, serial: u32) -> Records {
        Records::build_with(zone, list, serial, None).0
    }

    /// [`build`](Self::build) of a snapshot to be edited ([`Records::add`], [`Records::remove`]),
    /// counting as adding every task's records one by one to a build of the records of no task would
    /// ([`Counting`]); with each of the list's names' node id (`NONE`: not a name of the domain).
    /// Once the names are the snapshot's, the list forgets their text ([`RecordList::forget_names`]):
    /// the caller reads it by position only, through those node ids.
    pub(crate) fn build_counted(
        zone: Zone,
        list: &mut RecordList,
        serial: u32,
        counting: &Counting<'_>,
    ) -> (Records, Vec<u32>) {
        list.forget_chains();
        let named = Named::of(&zone, list, Some(counting.base_names));
        list.forget_names();
        let (mut records, node_of) = Records::build_named(zone, list, named, serial, Some(counting));
        records.release_unused();
        (records, node_of)
    }

    fn build_with(zone: Zone, list: &RecordList, serial: u32, counting: Option<&Counting<'_>>) -> (Records, Vec<u32>) {
        let named = Named::of(&zone, list, counting.map(|c| c.base_names));
        Records::build_named(zone, list, named, serial, counting)
    }

    /// The build of `list`'s records, whose names `named` made nodes.
    fn build_named(
        zone: Zone,
        list: &RecordList,
        named: Named,
        serial: u32,
        counting: Option<&Counting<'_>>,
    ) -> (Records, Vec<u32>) {
        let Named {
            apex,
            mut names,
            mut tree,
            node_of,
        } = named;
        names.index_all();
        let mut wire = Vec::with_capacity(256);
        let node = |id: u32| node_of.get(id as usize).copied().unwrap_or(NONE);
        // Reverse names after every name of the domain, alone (no ancestors: we answer for known
        // addresses, not for the reverse tree); (reverse node, target node) in generation order.
        let first_reverse = names.len() as u32;
        let mut ptr_pairs = Vec::new();
        for (index, name, data) in list.reverse_indexed() {
            let target = node(name);
            match data {
                _ if target == NONE => continue,
                Data::A(ip) => reverse_name(&ip, &mut wire),
                Data::Aaaa(ip) => reverse_name(&ip, &mut wire),
                Data::Srv { .. } | Data::Other(_) => continue,
            }
            // A domain under `arpa` would hold the reverse name already: it is not answered twice.
            if is_at_or_below(&wire, &apex) {
                continue;
            }
            if let Some(id) = names.intern(&wire) {
                ptr_pairs.push((id, target, index));
            }
        }
        // Only a build's own PTR records are capped: edits keep every task's.
        let capped = |index: u32| counting.map_or(true, |c| index < c.tasks_from);
        let nodes = names.len();
        // Two passes: count each node's records, then place them (a counting sort by node). Columns of
        // `starts`: A, AAAA, SRV, PTR, other (CNAME and TXT).
        let statics = StaticMask::of(list, &names, &node, nodes);
        let mut starts = vec![[0u32; 5]; nodes + 1];
        for &(n, _, index) in &ptr_pairs {
            if let Some(c) = starts.get_mut(n as usize + 1).map(|s| &mut s[PTR]) {
                if (*c as usize) < MAX_PTRS_PER_ADDRESS || !capped(index) {
                    *c += 1;
                }
            }
        }
        let mut skipped = 0;
        // The names an app's instances share come in no order: their rows are cache misses, each
        // loaded [`AHEAD`] records before it is read, so that they overlap.
        // (Their nodes too, the distance before.)
        let (mut far, mut near) = (list.entries().skip(2 * AHEAD), list.entries().skip(AHEAD));
        for (i, (name, data)) in list.entries().enumerate() {
            if let Some((name, _)) = far.next() {
                prefetch(node_of.get(name as usize));
            }
            if let Some((name, _)) = near.next() {
                prefetch(starts.get(node(name) as usize + 1));
            }
            let n = node(name) as usize;
            if !statics.keeps(list, i, n, data) {
                continue;
            }
            let column = match data {
                _ if n >= nodes => None,
                Data::A(_) => Some(A),
                Data::Aaaa(_) => Some(AAAA),
                Data::Srv { target, .. } if node(target) != NONE => Some(SRV),
                Data::Srv { .. } => None,
                Data::Other(_) => Some(OTHER),
            };
            match column.zip(starts.get_mut(n + 1)) {
                Some((k, s)) => s[k] += 1,
                None => skipped += 1,
            }
        }
        // Each reverse node's PTR records (the first so many of its pairs are placed).
        let reverse_rows = starts.get(first_reverse as usize + 1..).unwrap_or_default();
        let mut ptr_room: Vec<u32> = reverse_rows.iter().map(|row| row[PTR]).collect();
        // Row `n + 1` becomes where node `n` begins: the cursor of its next record as they are placed,
        // which leaves it where `n` ends, where `n + 1` begins, as `starts` has it (no second array
        // of cursors beside it).
        let mut sum = [0u32; 5];
        for row in &mut starts {
            for (count, total) in row.iter_mut().zip(&mut sum) {
                let c = *count;
                *count = *total;
                *total += c;
            }
        }
        let totals = sum;
        // Each chunk's part of every column, where its records are placed: no column of the whole
        // snapshot to cut into chunks after.
        let firsts = chunk_firsts(&starts, &totals);
        let mut a = Parts::new(&firsts, A, [0u8; 4]);
        let mut aaaa = Parts::new(&firsts, AAAA, [0u8; 16]);
        let mut srv = Parts::new(&firsts, SRV, Srv { port: 0, target: 0 });
        let mut ptr = Parts::new(&firsts, PTR, 0u32);
        let mut extra = Parts::new(&firsts, OTHER, Extra::default());
        // Each chunk's CNAME and TXT RDATA.
        let mut blobs = vec![Vec::new(); extra.parts.len()];
        let mut counts = counting.map(|c| Counts::new(c, &totals, tree.take().unwrap_or_default()));
        for (n, target, index) in ptr_pairs {
            let n = n as usize;
            // Past the cap, nothing more at this node.
            let room = ptr_room.get_mut(n.wrapping_sub(first_reverse as usize));
            if let (Some(at), Some(room)) = (starts.get_mut(n + 1), room.filter(|r| **r > 0)) {
                *room -= 1;
                if let Some(c) = counts.as_mut() {
                    c.ptr_placed(at[PTR], index, target);
                }
                place(ptr.slot(n, at[PTR]), &mut at[PTR], target);
            }
        }
        drop(ptr_room);
        // As above, and the slots where the records go, once their rows are loaded.
        let mut farthest = list.entries().skip(3 * AHEAD);
        let (mut far, mut near) = (list.entries().skip(2 * AHEAD), list.entries().skip(AHEAD));
        for (i, (name, data)) in list.entries().enumerate() {
            if let Some((name, _)) = farthest.next() {
                prefetch(node_of.get(name as usize));
            }
            if let Some((name, _)) = far.next() {
                prefetch(starts.get(node(name) as usize + 1));
            }
            if let Some((name, data)) = near.next() {
                let n = node(name) as usize;
                if let Some(row) = starts.get(n.wrapping_add(1)) {
                    let k = match data {
                        Data::A(_) => prefetch(a.get(n, row[A])).then_some(A),
                        Data::Aaaa(_) => prefetch(aaaa.get(n, row[AAAA])).then_some(AAAA),
                        Data::Srv { .. } => prefetch(srv.get(n, row[SRV])).then_some(SRV),
                        Data::Other(_) => None,
                    };
                    if let (Some(k), Some(c)) = (k, counts.as_ref()) {
                        c.prefetch(k, row[k]);
                    }
                }
            }
            let n = node(name) as usize;
            let Some(at) = starts
                .get_mut(n.wrapping_add(1))
                .filter(|_| n < nodes && statics.keeps(list, i, n, data))
            else {
                continue;
            };
            let k = match data {
                Data::A(_) => A,
                Data::Aaaa(_) => AAAA,
                Data::Srv { target, .. } if node(target) != NONE => SRV,
                Data::Srv { .. } | Data::Other(_) => OTHER,
            };
            if let Some(c) = counts.as_mut().filter(|_| k != OTHER) {
                let target = match data {
                    Data::Srv { target, .. } => node(target),
                    _ => NONE,
                };
                c.placed(k, at[k], i as u32, n as u32, target);
            }
            match data {
                Data::A(ip) => place(a.slot(n, at[A]), &mut at[A], ip),
                Data::Aaaa(ip) => place(aaaa.slot(n, at[AAAA]), &mut at[AAAA], ip),
                Data::Srv { target, port } => {
                    let target = node(target);
                    if target != NONE {
                        place(srv.slot(n, at[SRV]), &mut at[SRV], Srv { port, target });
                    }
                }
                Data::Other(i) => {
                    // One that cannot be encoded keeps its counted slot, empty (the cursor moves on
                    // to where the next node begins all the same).
                    let blob = blobs.get_mut(n >> CHUNK_BITS);
                    let e = (list.other(i).zip(blob)).and_then(|(d, blob)| encode_other(d, blob, &mut wire));
                    place(extra.slot(n, at[OTHER]), &mut at[OTHER], e.unwrap_or_default());
                }
            }
        }
        let counts = counts.map(|c| c.finish(&starts, &srv.parts, &ptr.parts, first_reverse));
        let mut mname = Vec::new();
        let mut rname = Vec::new();
        if text_to_wire(&zone.soa_mname, &mut mname).is_none() {
            mname = vec![0];
        }
        if text_to_wire(&zone.soa_rname, &mut rname).is_none() {
            rname = vec![0];
        }
        // The apex NS names one after the other: `nameservers`, or the SOA's MNAME.
        let mut ns = Vec::new();
        for name in &zone.nameservers {
            if text_to_wire(name, &mut wire).is_some() && ns.len() + wire.len() <= 4096 {
                ns.extend_from_slice(&wire);
            }
        }
        if ns.is_empty() {
            ns = mname.clone();
        }
        let mut soa = Vec::with_capacity(mname.len() + rname.len() + 20);
        soa.extend_from_slice(&mname);
        soa.extend_from_slice(&rname);
        for v in [
            serial,
            zone.soa_refresh,
            zone.soa_retry,
            zone.soa_expire,
            zone.soa_minttl,
        ] {
            soa.extend_from_slice(&v.to_be_bytes());
        }
        let flat = Flat {
            names,
            a: a.parts,
            aaaa: aaaa.parts,
            srv: srv.parts,
            ptr: ptr.parts,
            extra: extra.parts,
            blobs,
            totals,
            starts,
            first_reverse,
            counts,
        };
        let counting = flat.counts.is_some();
        let (index, chunks, totals) = flat.into_chunks();
        let records = Records {
            loaded: true,
            zone,
            apex: apex.into_boxed_slice(),
            soa_rdata: soa.into_boxed_slice(),
            ns_rdata: ns.into_boxed_slice(),
            serial,
            index,
            chunks,
            free: Vec::new(),
            totals,
            skipped,
            collisions: statics.collisions,
            list: None,
            tasks: None,
            journal: Journal::default(),
            counting,
            zones: None,
            wildcards: 0,
        }
        .with_wildcards();
        (records, node_of)
    }
}

/// The nodes of a build's names, the first step of a build: each name of the list under the apex,
/// with its ancestors, as a node (wire form), not indexed yet (the build indexes them, after a
/// counted build's list forgot its text).
struct Named {
    apex: Vec<u8>,
    names: ChunkNames,
    /// A counted build's tree of nodes.
    tree: Option<Tree>,
    /// The list's name id -> node id (`NONE`: not a name of the domain).
    node_of: Vec<u32>,
}

impl Named {
    /// The nodes of `list`'s names; with `base_names`, a counted build's tree.
    fn of(zone: &Zone, list: &RecordList, base_names: Option<u32>) -> Named {
        let mut wire = Vec::with_capacity(256);
        let apex = match text_to_wire(&zone.domain, &mut wire) {
            Some(()) => wire.clone(),
            // The config validated the domain; an unusable one serves nothing rather than panicking.
            None => vec![0],
        };
        let mut names = ChunkNames::with_capacity(0);
        let _ = names.push_new(&apex);
        let mut tree = base_names.map(Tree::new);
        let node_of = domain_nodes(&mut names, list, &apex, &mut wire, tree.as_mut());
        Named {
            apex,
            names,
            tree,
            node_of,
        }
    }
}

/// A snapshot as the build lays it out: each chunk's part of each column, where each node starts in
/// every column over every node.
struct Flat {
    names: ChunkNames,
    a: Vec<Vec<[u8; 4]>>,
    aaaa: Vec<Vec<[u8; 16]>>,
    srv: Vec<Vec<Srv>>,
    ptr: Vec<Vec<u32>>,
    extra: Vec<Vec<Extra>>,
    blobs: Vec<Vec<u8>>,
    /// Records per column.
    totals: [u32; 5],
    starts: Vec<[u32; 5]>,
    first_reverse: u32,
    /// A build to be edited: each record's references and each node's uses.
    counts: Option<Counted>,
}

impl Flat {
    /// The chunks: their parts of the columns moved in, their starts made local, the counts cut
    /// into chunks one column at a time, each freed as it goes (so that the peak is the snapshot and
    /// one column of counts, not two snapshots).
    fn into_chunks(self) -> (NameIndex, Vec<Arc<Chunk>>, Totals) {
        let Flat {
            names,
            a,
            aaaa,
            srv,
            ptr,
            extra,
            blobs,
            totals: columns,
            starts,
            first_reverse,
            counts,
        } = self;
        let nodes = names.len();
        let totals = Totals {
            names: nodes,
            columns: columns.map(|c| c as usize),
        };
        let ChunkNames { mut chunks, index, .. } = names;
        for (c, chunk) in chunks.iter_mut().enumerate() {
            let ids = c * CHUNK..((c + 1) * CHUNK).min(nodes);
            let chunk_names = chunk.names_mut();
            for (i, kind) in chunk_names.kinds.iter_mut().enumerate() {
                if (ids.start + i) as u32 >= first_reverse {
                    *kind = REVERSE;
                }
            }
            chunk_names.arena.shrink_to_fit();
            // Local starts: the global ones less the chunk's first.
            if let (Some(first), Some(rows)) = (starts.get(ids.start), starts.get(ids.start..=ids.end)) {
                let local = rows.iter().map(|row| std::array::from_fn(|k| row[k] - first[k]));
                chunk.starts = Starts::of(local);
            }
        }
        let bounds = |c: usize, k: usize| {
            let lo = starts.get(c * CHUNK).map_or(0, |r| r[k] as usize);
            let hi = starts
                .get(((c + 1) * CHUNK).min(starts.len() - 1))
                .map_or(lo, |r| r[k] as usize);
            lo..hi
        };
        // The counts first (a byte a record already).
        if let Some(Counted { refs, uses }) = counts {
            for (c, chunk) in chunks.iter_mut().enumerate() {
                let ids = c * CHUNK..((c + 1) * CHUNK).min(nodes);
                chunk.counting = true;
                chunk.uses = CountColumn::of(uses.get(ids).unwrap_or_default());
            }
            drop(uses);
            for (k, mut column) in refs.into_iter().enumerate() {
                for (c, chunk) in chunks.iter_mut().enumerate().rev() {
                    if let Some(counts) = chunk.refs.get_mut(k) {
                        *counts = column.take_from(bounds(c, k).start);
                    }
                }
            }
        }
        let parts = a.into_iter().zip(aaaa).zip(srv).zip(ptr).zip(extra).zip(blobs);
        for (chunk, (((((a, aaaa), srv), ptr), extra), mut blob)) in chunks.iter_mut().zip(parts) {
            blob.shrink_to_fit();
            (chunk.a, chunk.aaaa, chunk.srv, chunk.ptr, chunk.extra, chunk.blob) = (a, aaaa, srv, ptr, extra, blob);
        }
        (index, chunks.into_iter().map(Arc::new).collect(), totals)
    }
}

/// Per chunk, and one past the last: the column positions of its first node's records (`starts`:
/// a counted build's rows, row `n + 1` where node `n` begins, before any record is placed;
/// `totals`: the records of each column).
fn chunk_firsts(starts: &[[u32; 5]], totals: &[u32; 5]) -> Vec<[u32; 5]> {
    let nodes = starts.len().saturating_sub(1);
    let firsts = (0..nodes).step_by(CHUNK).filter_map(|n| starts.get(n + 1).copied());
    firsts.chain(std::iter::once(*totals)).collect()
}

/// One column of a build in its chunks' parts, each as long as its chunk's records of the column:
/// the record at column position `at` of node `n` is at `at` less the part's first position in
/// part `n >> CHUNK_BITS`.
struct Parts<T> {
    parts: Vec<Vec<T>>,
    /// Per part: its first position in the column.
    firsts: Vec<u32>,
}

impl<T: Clone> Parts<T> {
    /// The parts of column `k` of chunks whose first positions are `firsts` (one more: the end),
    /// filled with `zero`.
    fn new(firsts: &[[u32; 5]], k: usize, zero: T) -> Parts<T> {
        let parts = firsts
            .windows(2)
            .map(|w| vec![zero.clone(); w[1][k].saturating_sub(w[0][k]) as usize])
            .collect();
        let firsts = firsts.iter().map(|f| f[k]).collect();
        Parts { parts, firsts }
    }

    /// The part and the place in it of the record at column position `at` of node `n`.
    #[inline]
    fn place_of(&self, n: usize, at: u32) -> Option<(usize, usize)> {
        let c = n >> CHUNK_BITS;
        let i = at.checked_sub(*self.firsts.get(c)?)?;
        Some((c, i as usize))
    }

    /// The place of the record at column position `at` of node `n`.
    #[inline]
    fn slot(&mut self, n: usize, at: u32) -> Option<&mut T> {
        let (c, i) = self.place_of(n, at)?;
        self.parts.get_mut(c)?.get_mut(i)
    }

    /// [`slot`](Self::slot), to read (and prefetch).
    #[inline]
    fn get(&self, n: usize, at: u32) -> Option<&T> {
        let (c, i) = self.place_of(n, at)?;
        self.parts.get(c)?.get(i)
    }
}

/// How many records ahead of the one being counted or placed the build loads the memory it will touch.
const AHEAD: usize = 8;

/// Puts `value` in `slot` (that of position `*at`) and advances `at` (the slot was counted, so it
/// exists).
fn place<T>(slot: Option<&mut T>, at: &mut u32, value: T) {
    if let Some(slot) = slot {
        *slot = value;
        *at += 1;
    }
}

/// Text name id -> node id for every name of the list under `apex`, each with its ancestors made
/// nodes as well (empty non-terminals answer NODATA, RFC 8020), in the order interning each name and
/// then its new ancestors one by one would give them, except that the names the list marks shared
/// (an app's, [`RecordList::mark_shared`]) come before the others past the base names: an edit that
/// replaces instances of many apps then copies the chunks of their names, not every chunk. The list's
/// names are distinct, so only a name that is also some name's ancestor (a few per app) is looked
/// up, in a map of those alone; the caller indexes every node at once after
/// ([`ChunkNames::index_all`]).
fn domain_nodes(
    names: &mut ChunkNames,
    list: &RecordList,
    apex: &[u8],
    wire: &mut Vec<u8>,
    mut tree: Option<&mut Tree>,
) -> Vec<u32> {
    let text = list.names();
    // An ancestor's text is longer than the apex's (`mesos.` is one octet shorter than its wire form).
    let below_apex = |t: &[u8]| t.len() + 1 > apex.len();
    let ids = 0..u32::try_from(text.len()).unwrap_or(u32::MAX);
    let in_domain =
        |t: &[u8], wire: &mut Vec<u8>| (bytes_to_wire(t, wire).is_some() && is_at_or_below(wire, apex)).then_some(());
    // Every ancestor below the apex of every name (text form), not made into a node yet. Read from
    // the text alone: a name that is no valid name but whose text ends in the domain adds ancestors
    // no valid name has, which are never made (only a valid name's are, below), so this need not
    // convert every name to wire form twice.
    let apex_text = wire_to_text(apex);
    let apex_text = apex_text.trim_end_matches('.').as_bytes();
    let mut ancestors: HashMap<&[u8], u32, FastHash> = HashMap::default();
    // Every ancestor's mark: a name without one is no ancestor, and is not looked up in the map.
    let mut marks = Marks::default();
    // Names come a task at a time, and a framework's tasks' names have a handful of parents between
    // them: those met last are compared first, before a look-up in the map of every ancestor.
    let mut recent = Recent::default();
    for id in ids.clone() {
        let t = text.get(id);
        if !text_at_or_below(t, apex_text) {
            continue;
        }
        let mut parents = text_parents(t).take_while(|p| below_apex(p));
        let Some(first) = parents.next() else {
            continue;
        };
        if recent.get(first).is_some() {
            continue;
        }
        recent.put(first, NONE);
        for parent in std::iter::once(first).chain(parents) {
            if ancestors.insert(parent, NONE).is_some() {
                break;
            }
            marks.set(parent);
        }
    }
    let mut recent = Recent::default();
    let mut node_of = vec![NONE; text.len()];
    let mut parent_wire = Vec::with_capacity(256);
    let base = tree.as_deref().map_or(0, Tree::base_names).min(ids.end);
    let (base_ids, rest) = (0..base, base..ids.end);
    let shared = rest.clone().filter(|&id| list.is_shared(id));
    let order = base_ids.chain(shared).chain(rest.filter(|&id| !list.is_shared(id)));
    let mut base_done = false;
    for id in order {
        if !base_done && id >= base {
            base_done = true;
            if let Some(tree) = tree.as_deref_mut() {
                tree.base_names_done(base, names.len());
            }
        }
        let t = text.get(id);
        if in_domain(t, wire).is_none() {
            continue;
        }
        let node = if wire.as_slice() == apex {
            0
        } else {
            let ancestor = marks.has(t).then(|| ancestors.get_mut(t)).flatten();
            let made = match ancestor {
                // Made as another name's ancestor, and its own ancestors with it.
                Some(made) if *made != NONE => Ok(*made),
                Some(slot) => {
                    *slot = names.push_new(wire).unwrap_or(NONE);
                    Err(*slot)
                }
                None => Err(names.push_new(wire).unwrap_or(NONE)),
            };
            match made {
                Ok(node) => node,
                Err(made) => {
                    let parent = make_ancestors(
                        names,
                        (&mut ancestors, &mut recent),
                        t,
                        &below_apex,
                        &mut parent_wire,
                        tree.as_deref_mut(),
                    );
                    if let Some(tree) = tree.as_deref_mut() {
                        tree.set(made, parent);
                    }
                    made
                }
            }
        };
        if let Some(slot) = node_of.get_mut(id as usize) {
            *slot = node;
        }
    }
    if let Some(tree) = tree {
        tree.base_names_done(u32::try_from(text.len()).unwrap_or(u32::MAX), names.len());
    }
    node_of
}

/// A filter of the ancestors' texts by their length and first octets: a name that is no ancestor
/// is told so without hashing its text (a few hundred ancestors against millions of names).
struct Marks(Vec<u64>);

impl Default for Marks {
    fn default() -> Self {
        Marks(vec![0; Marks::BITS / 64])
    }
}

impl Marks {
    const BITS: usize = 1 << 16;

    fn bit(t: &[u8]) -> usize {
        let mut w = [0u8; 8];
        let n = t.len().min(8);
        if let (Some(to), Some(from)) = (w.get_mut(..n), t.get(..n)) {
            to.copy_from_slice(from);
        }
        let key = (u64::from_le_bytes(w) ^ t.len() as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        (key >> 48) as usize
    }

    fn set(&mut self, t: &[u8]) {
        let bit = Self::bit(t);
        if let Some(word) = self.0.get_mut(bit / 64) {
            *word |= 1 << (bit % 64);
        }
    }

    /// False only for a text that was never [`set`](Self::set).
    fn has(&self, t: &[u8]) -> bool {
        let bit = Self::bit(t);
        self.0.get(bit / 64).map_or(true, |word| word & (1 << (bit % 64)) != 0)
    }
}

/// Whether the text name `t` is `apex` (text without its trailing dot; empty for the root) or below
/// it, ignoring case: true for every valid name whose wire form [`is_at_or_below`] the apex.
fn text_at_or_below(t: &[u8], apex: &[u8]) -> bool {
    let t = t.strip_suffix(b".").unwrap_or(t);
    if apex.is_empty() {
        return true;
    }
    let Some(at) = t.len().checked_sub(apex.len()) else {
        return false;
    };
    t.get(at..).is_some_and(|tail| tail.eq_ignore_ascii_case(apex)) && (at == 0 || t.get(at - 1) == Some(&b'.'))
}

/// Makes nodes of the ancestors of `t` that are not nodes yet, nearest first, up to the first that is;
/// the node of `t`'s parent (the apex's, 0, when that is the apex). With a `tree`, each made node's
/// parent goes there.
fn make_ancestors<'t>(
    names: &mut ChunkNames,
    (ancestors, recent): (&mut HashMap<&'t [u8], u32, FastHash>, &mut Recent<'t>),
    t: &'t [u8],
    below_apex: &dyn Fn(&[u8]) -> bool,
    wire: &mut Vec<u8>,
    mut tree: Option<&mut Tree>,
) -> u32 {
    let mut parents = text_parents(t).take_while(|p| below_apex(p)).peekable();
    // A parent met lately is a node already (only those are kept): nothing to make.
    let first = parents.peek().copied();
    if let Some(node) = first.and_then(|p| recent.get(p)) {
        return node;
    }
    let (mut nearest, mut last_made) = (None, NONE);
    let mut end = 0;
    for parent in parents {
        let Some(slot) = ancestors.get_mut(parent) else {
            end = NONE;
            break;
        };
        if *slot != NONE {
            end = *slot;
            break;
        }
        let made = bytes_to_wire(parent, wire).and_then(|()| names.push_new(wire));
        *slot = made.unwrap_or(NONE);
        if let Some(tree) = tree.as_deref_mut() {
            tree.set(last_made, *slot);
        }
        nearest.get_or_insert(*slot);
        last_made = *slot;
    }
    if let Some(tree) = tree {
        tree.set(last_made, end);
    }
    let parent = nearest.unwrap_or(end);
    if let Some(first) = first.filter(|_| parent != NONE) {
        recent.put(first, parent);
    }
    parent
}

/// The last few ancestors met (text) and their nodes: a node once made stays that name's node, so a
/// parent found here need not be looked up in the map of every ancestor.
#[derive(Default)]
struct Recent<'t> {
    keys: [&'t [u8]; RECENT],
    nodes: [u32; RECENT],
    /// Where the next one goes (the oldest is replaced).
    next: usize,
}

/// Enough for a framework's names' parents (`F.D`, `F.slave.D`, `_tcp.F.D`, `_udp.F.slave.D`, ...).
const RECENT: usize = 8;

impl<'t> Recent<'t> {
    fn get(&self, key: &[u8]) -> Option<u32> {
        let at = self.keys.iter().position(|k| !k.is_empty() && *k == key)?;
        self.nodes.get(at).copied()
    }

    fn put(&mut self, key: &'t [u8], node: u32) {
        if let (Some(k), Some(n)) = (self.keys.get_mut(self.next), self.nodes.get_mut(self.next)) {
            (*k, *n) = (key, node);
        }
        self.next = (self.next + 1) % RECENT;
    }
}

/// The ancestors of a fully qualified text name, nearest first (`b.c.` and `c.` for `a.b.c.`).
fn text_parents(t: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    t.iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'.' && i + 1 < t.len())
        .filter_map(|(i, _)| t.get(i + 1..))
}

/// A CNAME or TXT record's RDATA appended to `blob`, ready to copy.
fn encode_other(data: &RData, blob: &mut Vec<u8>, wire: &mut Vec<u8>) -> Option<Extra> {
    let start = u32::try_from(blob.len()).ok()?;
    let rtype = match data {
        RData::Cname(target) => {
            text_to_wire(target, wire)?;
            blob.extend_from_slice(wire);
            rtype::CNAME
        }
        RData::Txt(strings) => {
            for s in strings {
                let len = u8::try_from(s.len()).ok()?;
                blob.push(len);
                blob.extend_from_slice(s.as_bytes());
            }
            rtype::TXT
        }
        RData::A(_) | RData::Aaaa(_) | RData::Srv { .. } => return None,
    };
    let end = u32::try_from(blob.len()).ok()?;
    Some(Extra { rtype, start, end })
}

/// Which record types the static records define at each node, and what that does to the generated
/// records there: a static record replaces the generated records of its type at its name (the others
/// stay), and a static CNAME at a name that has generated records, or names below it, is refused.
struct StaticMask {
    /// Per node: the bits of the types static records define there (empty without static records).
    bits: Vec<u8>,
    /// Nodes whose static CNAME is refused.
    refused: Vec<u32>,
    /// What happened, one line per name, for the refresher to log.
    collisions: Vec<String>,
}

const BIT_A: u8 = 1;
const BIT_AAAA: u8 = 2;
const BIT_SRV: u8 = 4;
const BIT_CNAME: u8 = 8;
const BIT_TXT: u8 = 16;

impl StaticMask {
    fn of(list: &RecordList, names: &ChunkNames, node: &dyn Fn(u32) -> u32, nodes: usize) -> StaticMask {
        let mut mask = StaticMask {
            bits: Vec::new(),
            refused: Vec::new(),
            collisions: Vec::new(),
        };
        let mut statics = list.static_entries().peekable();
        if statics.peek().is_none() {
            return mask;
        }
        mask.bits = vec![0; nodes];
        for (_, name, data) in statics {
            if let Some(b) = mask.bits.get_mut(node(name) as usize) {
                *b |= bit(list, data);
            }
        }
        // Generated types a static record replaces, and static CNAMEs at generated names.
        let mut generated = vec![0u8; nodes];
        for (i, (name, data)) in list.entries().enumerate() {
            if list.is_static(i) {
                continue;
            }
            if let Some(g) = generated.get_mut(node(name) as usize) {
                *g |= bit(list, data);
            }
        }
        let is_cname = |n: u32| mask.bits.get(n as usize).is_some_and(|b| b & BIT_CNAME != 0);
        // A CNAME's name has no names below it (they would make it an empty non-terminal too).
        let mut has_below = vec![false; nodes];
        if (0..nodes as u32).any(is_cname) {
            for id in 0..nodes as u32 {
                for p in parents(names.get(id)) {
                    if let Some(pid) = names.find(p).filter(|&pid| is_cname(pid)) {
                        if let Some(h) = has_below.get_mut(pid as usize) {
                            *h = true;
                        }
                    }
                }
            }
        }
        for n in (0..nodes as u32).filter(|&n| is_cname(n)) {
            let below = has_below.get(n as usize).copied().unwrap_or(false);
            if generated.get(n as usize).is_some_and(|&g| g != 0) || below {
                mask.refused.push(n);
                mask.collisions.push(format!(
                    "the static CNAME at {} is refused: the name has generated records or names below it",
                    crate::wire::wire_to_text(names.get(n))
                ));
            }
        }
        for (n, (&s, &g)) in mask.bits.iter().zip(&generated).enumerate() {
            let replaced = s & g & !BIT_CNAME;
            if replaced != 0 {
                let types: Vec<&str> = [(BIT_A, "A"), (BIT_AAAA, "AAAA"), (BIT_SRV, "SRV")]
                    .iter()
                    .filter(|(b, _)| replaced & b != 0)
                    .map(|&(_, t)| t)
                    .collect();
                mask.collisions.push(format!(
                    "static records at {} replace its generated {} records",
                    crate::wire::wire_to_text(names.get(n as u32)),
                    types.join(", ")
                ));
            }
        }
        mask
    }

    /// Whether the record at `index` of `list`, at node `n`, goes into the snapshot.
    fn keeps(&self, list: &RecordList, index: usize, n: usize, data: Data) -> bool {
        let Some(&bits) = self.bits.get(n) else {
            return true;
        };
        if list.is_static(index) {
            return !(matches!(data, Data::Other(_))
                && bit(list, data) == BIT_CNAME
                && self.refused.contains(&(n as u32)));
        }
        let b = bit(list, data);
        // A static CNAME that stands replaces nothing: it was refused if anything generated is here.
        bits & b & !BIT_CNAME == 0
    }
}

fn bit(list: &RecordList, data: Data) -> u8 {
    match data {
        Data::A(_) => BIT_A,
        Data::Aaaa(_) => BIT_AAAA,
        Data::Srv { .. } => BIT_SRV,
        Data::Other(i) => match list.other(i) {
            Some(RData::Cname(_)) => BIT_CNAME,
            _ => BIT_TXT,
        },
    }
}

mod counted;

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::snapshot::Lookup;
    use crate::wire::wire_of;

    /// Names and ancestors made in any order (a name first seen as another's ancestor, an ancestor
    /// that is a name later, names outside the domain) are each one node, found by name, ids in
    /// first-seen order (a name, then its new ancestors nearest first).
    #[test]
    fn every_name_and_ancestor_is_one_node_in_first_seen_order() {
        let mut list = RecordList::new();
        let ip = RData::A(Ipv4Addr::new(10, 0, 0, 1));
        for name in [
            "a.b.c.mesos.",
            "b.c.mesos.",
            "x.b.c.mesos.",
            "c.mesos.",
            "mesos.",
            "outside.org.",
            "d.e.mesos.",
            "e.mesos.",
        ] {
            list.push(name, ip.clone());
        }
        let r = Records::build(Zone::of_default_config(), &list, 1);
        let order = [
            "mesos",
            "a.b.c.mesos",
            "b.c.mesos",
            "c.mesos",
            "x.b.c.mesos",
            "d.e.mesos",
            "e.mesos",
        ];
        assert_eq!(r.name_count(), order.len());
        for (id, name) in order.iter().enumerate() {
            let Lookup::Found(node) = r.lookup(&wire_of(name)) else {
                panic!("{name} missing")
            };
            assert_eq!(node.a, vec![[10, 0, 0, 1]], "{name}");
            assert_eq!(
                r.node(id as u32).map(|n| n.name.to_vec()),
                Some(wire_of(name)),
                "{name}"
            );
        }
        assert_eq!(r.skipped(), 1, "outside.org. is not a name of the domain");
    }

    #[test]
    fn a_text_name_is_below_the_apex_when_its_wire_form_is() {
        let apex = wire_of("mesos.");
        for t in [
            "mesos.",
            "MESOS",
            "a.mesos.",
            "A.Mesos",
            "x.y.mesos.",
            "xmesos.",
            "mesos.org.",
            "",
            ".",
            "a.b",
            "a..mesos.",
            ".mesos.",
        ] {
            let mut wire = Vec::new();
            let valid_below = text_to_wire(t, &mut wire).is_some() && is_at_or_below(&wire, &apex);
            let by_text = text_at_or_below(t.as_bytes(), b"mesos");
            // The text check may say yes to an invalid name, never no to a valid one below the apex.
            assert!(by_text || !valid_below, "{t}");
            if text_to_wire(t, &mut wire).is_some() {
                assert_eq!(by_text, valid_below, "{t}");
            }
        }
        assert!(text_at_or_below(b"anything.org.", b""), "everything is below the root");
    }
}
