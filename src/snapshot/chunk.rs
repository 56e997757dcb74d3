//! The storage of a [`Records`](super::Records) snapshot in copy-on-write pieces, so that a snapshot
//! that differs from the one before in a few names shares everything else with it (stream mode at
//! 100k tasks publishes a change in the time it takes to copy a few pieces, not the whole zone):
//!
//! - [`Chunk`]: the nodes of [`CHUNK`] consecutive ids, each with its A, AAAA, SRV, PTR and CNAME/TXT
//!   data, one array per kind as the whole snapshot once had them, and its name and kind
//!   ([`NodeNames`], shared on their own: most edits change a node's records, not its name);
//! - [`NameIndex`]: name -> node id, an open-addressing table cut into shards by hash.
//!
//! All are behind `Arc`s; editing one ([`Arc::make_mut`]) copies it only while a published snapshot
//! still shares it. Reading a node costs two pointer hops more than a flat array, its name three.

use std::sync::Arc;

use super::data::{Extra, Srv};
use super::names::hash;
pub(super) use counts::{CountColumn, CountFill};
pub(super) use starts::Starts;

mod counts;
mod starts;

/// Nodes per chunk (a power of two).
pub(super) const CHUNK_BITS: u32 = 8;
pub(super) const CHUNK: usize = 1 << CHUNK_BITS;

/// What a node id holds.
pub(super) const FREE: u8 = 0;
pub(super) const DOMAIN: u8 = 1;
pub(super) const REVERSE: u8 = 2;

/// Columns of [`Chunk::starts`].
pub(super) const A: usize = 0;
pub(super) const AAAA: usize = 1;
pub(super) const SRV: usize = 2;
pub(super) const PTR: usize = 3;
pub(super) const OTHER: usize = 4;

/// A record's count that edits never take away: the records that are not any task's (frameworks,
/// agents, masters, the server's own name).
pub(super) const PINNED: u32 = u32::MAX;

/// The nodes of ids `base..base + len()`.
#[derive(Debug, Default, Clone)]
pub(super) struct Chunk {
    /// The nodes' names and kinds, shared on their own: an edit that changes only the records of a
    /// chunk's nodes (the names an app's instances share, as one of them is replaced) copies the
    /// columns below and keeps the names (about half of a chunk's bytes) where they are.
    pub(super) names: Arc<NodeNames>,
    /// Per node and one past the last: where its data starts in each column.
    pub(super) starts: Starts,
    pub(super) a: Vec<[u8; 4]>,
    pub(super) aaaa: Vec<[u8; 16]>,
    pub(super) srv: Vec<Srv>,
    pub(super) ptr: Vec<u32>,
    pub(super) extra: Vec<Extra>,
    pub(super) blob: Vec<u8>,
    /// Edits only ([`super::Records::start_counting`]), else empty. Per node: its records, the SRV
    /// and PTR records naming it and its names below (a node with none is gone).
    pub(super) uses: CountColumn,
    /// Per record of the A, AAAA, SRV and PTR columns: how many tasks generate it, or [`PINNED`].
    pub(super) refs: [CountColumn; 4],
    /// Whether `uses` and `refs` are kept.
    pub(super) counting: bool,
}

/// A chunk's node names (lower-case wire form, each at its span; a freed node's bytes stay until
/// [`NodeNames::compact`]) and kinds ([`FREE`], [`DOMAIN`] or [`REVERSE`]).
#[derive(Debug, Default)]
pub(super) struct NodeNames {
    pub(super) arena: Vec<u8>,
    pub(super) spans: Vec<(u32, u32)>,
    pub(super) kinds: Vec<u8>,
}

/// A copy (copy-on-write makes one when an edit names or frees a node of names a published snapshot
/// shares) keeps only the live nodes' names: the copy is the compaction, so the names of freed and
/// renamed nodes last at most until the next such edit of the chunk.
impl Clone for NodeNames {
    fn clone(&self) -> NodeNames {
        let mut spans = self.spans.clone();
        let arena = live_names(&mut spans, &self.arena, self.live_bytes());
        NodeNames {
            arena,
            spans,
            kinds: self.kinds.clone(),
        }
    }
}

impl NodeNames {
    /// Room for the names of a chunk like one whose names took `like` bytes.
    fn like(like: usize) -> NodeNames {
        NodeNames {
            arena: Vec::with_capacity(like + like / 8),
            spans: Vec::with_capacity(CHUNK),
            kinds: Vec::with_capacity(CHUNK),
        }
    }

    #[inline]
    fn name(&self, i: usize) -> &[u8] {
        match self.spans.get(i) {
            Some(&(start, end)) => self.arena.get(start as usize..end as usize).unwrap_or_default(),
            None => &[],
        }
    }

    fn push(&mut self, name: &[u8], kind: u8) {
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(name);
        self.spans.push((start, self.arena.len() as u32));
        self.kinds.push(kind);
    }

    /// Gives node `i` a new name and kind. The name goes at the end of the arena; one that has no room
    /// there while freed and renamed nodes left at least as many bytes behind compacts it first, so
    /// that names a chunk keeps through edits take at most an eighth more than its live ones.
    fn rename(&mut self, i: usize, name: &[u8], kind: u8) {
        if self.arena.len() + name.len() > self.arena.capacity() && self.dead_bytes() >= name.len() {
            self.compact();
        }
        room(&mut self.arena, name.len());
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(name);
        if let (Some(span), Some(k)) = (self.spans.get_mut(i), self.kinds.get_mut(i)) {
            *span = (start, start + name.len() as u32);
            *k = kind;
        }
    }

    /// Marks node `i` free; compacts the arena once a quarter of it is dead (and at least 512 bytes).
    fn free(&mut self, i: usize) {
        if let (Some(span), Some(k)) = (self.spans.get_mut(i), self.kinds.get_mut(i)) {
            *span = (0, 0);
            *k = FREE;
        }
        let dead = self.dead_bytes();
        if dead >= 512 && dead * 4 > self.arena.len() {
            self.compact();
        }
    }

    /// The arena's bytes no node's name takes.
    fn dead_bytes(&self) -> usize {
        self.arena.len().saturating_sub(self.live_bytes())
    }

    /// Drops the bytes of freed and renamed nodes, keeping room for an eighth more.
    fn compact(&mut self) {
        let live = self.live_bytes();
        self.arena = live_names(&mut self.spans, &self.arena, live + live / 8);
    }

    /// The bytes of the live names.
    pub(super) fn live_bytes(&self) -> usize {
        self.spans.iter().map(|&(s, e)| e.saturating_sub(s) as usize).sum()
    }
}

impl Chunk {
    pub(super) fn len(&self) -> usize {
        self.names.kinds.len()
    }

    #[inline]
    pub(super) fn name(&self, i: usize) -> &[u8] {
        self.names.name(i)
    }

    /// Node `i`'s kind ([`FREE`], [`DOMAIN`] or [`REVERSE`]), if there is such a node.
    #[inline]
    pub(super) fn kind(&self, i: usize) -> Option<u8> {
        self.names.kinds.get(i).copied()
    }

    /// The names, to change (copied first if a published snapshot shares them).
    pub(super) fn names_mut(&mut self) -> &mut NodeNames {
        Arc::make_mut(&mut self.names)
    }

    /// The range of node `i`'s data in column `k`.
    #[inline]
    pub(super) fn range(&self, i: usize, k: usize) -> std::ops::Range<usize> {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(s), Some(e)) => s[k] as usize..e[k] as usize,
            _ => 0..0,
        }
    }

    #[cfg(test)]
    pub(super) fn shrink_to_fit(&mut self) {
        let names = self.names_mut();
        names.arena.shrink_to_fit();
        names.spans.shrink_to_fit();
        names.kinds.shrink_to_fit();
        self.starts.shrink_to_fit();
        self.a.shrink_to_fit();
        self.aaaa.shrink_to_fit();
        self.srv.shrink_to_fit();
        self.ptr.shrink_to_fit();
        self.extra.shrink_to_fit();
        self.blob.shrink_to_fit();
        self.uses.shrink_to_fit();
        for r in &mut self.refs {
            r.shrink_to_fit();
        }
    }

    /// Appends a node with no data; its index in the chunk.
    pub(super) fn push_node(&mut self, name: &[u8], kind: u8) -> usize {
        let names = self.names_mut();
        room(&mut names.arena, name.len());
        room(&mut names.spans, 1);
        room(&mut names.kinds, 1);
        names.push(name, kind);
        self.uses.room(1);
        let last = self.starts.last().unwrap_or_default();
        if self.starts.is_empty() {
            self.starts.push(last);
        }
        self.starts.push(last);
        if self.counting {
            self.uses.push(0);
        }
        self.len() - 1
    }

    /// Gives node `i` (free, without data) a new name and kind.
    pub(super) fn reuse_node(&mut self, i: usize, name: &[u8], kind: u8) {
        self.names_mut().rename(i, name, kind);
    }

    /// Marks node `i` free (it holds no data by now).
    pub(super) fn free_node(&mut self, i: usize) {
        self.names_mut().free(i);
    }

    /// Inserts `value` at the end of node `i`'s column `k` (with one reference); its position.
    pub(super) fn insert<T>(&mut self, i: usize, k: usize, value: T, column: fn(&mut Chunk) -> &mut Vec<T>) -> usize {
        let at = self.range(i, k).end;
        let col = column(self);
        if at > col.len() {
            return at;
        }
        room(col, 1);
        col.insert(at, value);
        if let Some(refs) = self.refs.get_mut(k).filter(|_| self.counting) {
            refs.insert(at, 1);
        }
        self.starts.add_one(i + 1, k);
        at
    }

    /// Removes the record at `at` of column `k`, which is node `i`'s.
    pub(super) fn remove<T>(&mut self, i: usize, k: usize, at: usize, column: fn(&mut Chunk) -> &mut Vec<T>) {
        let col = column(self);
        if at >= col.len() {
            return;
        }
        col.remove(at);
        if let Some(refs) = self.refs.get_mut(k).filter(|_| self.counting) {
            refs.remove(at);
        }
        self.starts.take_one(i + 1, k);
    }
}

/// Names interned straight into chunks and a name index, for a build: a name is stored once, where
/// the snapshot keeps it (node ids in insertion order; kinds and data are set by the build after).
#[derive(Debug)]
pub(super) struct ChunkNames {
    pub(super) chunks: Vec<Chunk>,
    pub(super) index: NameIndex,
    len: usize,
}

impl ChunkNames {
    pub(super) fn with_capacity(names: usize) -> ChunkNames {
        ChunkNames {
            chunks: Vec::with_capacity(names.div_ceil(CHUNK)),
            index: NameIndex::with_capacity(names),
            len: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(super) fn get(&self, id: u32) -> &[u8] {
        name_in(&self.chunks, id)
    }

    pub(super) fn find(&self, wire: &[u8]) -> Option<u32> {
        self.index.find(wire, |id| name_in(&self.chunks, id))
    }

    /// The id of `wire`, adding it if new; `None` past 4 billion names.
    pub(super) fn intern(&mut self, wire: &[u8]) -> Option<u32> {
        if let Some(id) = self.find(wire) {
            return Some(id);
        }
        let id = self.push_new(wire)?;
        let chunks = &self.chunks;
        self.index.insert(wire, id, |i| name_in(chunks, i));
        Some(id)
    }

    /// Adds `wire`, which the caller knows is not there, without indexing it: names added so are
    /// found only after [`index_all`](Self::index_all). `None` past 4 billion names.
    pub(super) fn push_new(&mut self, wire: &[u8]) -> Option<u32> {
        let id = u32::try_from(self.len).ok().filter(|&id| id != u32::MAX)?;
        if self.chunks.last().map_or(true, |c| c.len() >= CHUNK) {
            // Room for as many bytes of names as the last chunk took (a build's chunks are much
            // alike), so that a chunk's names are not copied a few dozen times as they come.
            let like = self.chunks.last().map_or(0, |c| c.names.arena.len());
            self.chunks.push(Chunk {
                names: Arc::new(NodeNames::like(like)),
                ..Chunk::default()
            });
        }
        let names = self.chunks.last_mut()?.names_mut();
        room(&mut names.arena, wire.len());
        names.push(wire, DOMAIN);
        self.len += 1;
        Some(id)
    }

    /// Indexes every name at once ([`NameIndex::of_all`]), replacing the index.
    pub(super) fn index_all(&mut self) {
        let chunks = &self.chunks;
        self.index = NameIndex::of_all(self.len, |i| name_in(chunks, i));
    }
}

/// The names `spans` point to in `arena`, back to back in a new arena of `capacity` bytes (at least
/// the live ones), each span moved to its place there.
fn live_names(spans: &mut [(u32, u32)], arena: &[u8], capacity: usize) -> Vec<u8> {
    let mut names = Vec::with_capacity(capacity);
    for span in spans {
        let bytes = arena.get(span.0 as usize..span.1 as usize).unwrap_or_default();
        let start = names.len() as u32;
        names.extend_from_slice(bytes);
        *span = (start, names.len() as u32);
    }
    names
}

/// The name of node `id` in a run of chunks (empty if there is no such node).
#[inline]
pub(super) fn name_in<C: std::borrow::Borrow<Chunk>>(chunks: &[C], id: u32) -> &[u8] {
    match chunks.get((id >> CHUNK_BITS) as usize) {
        Some(chunk) => chunk.borrow().name(id as usize & (CHUNK - 1)),
        None => &[],
    }
}

/// Makes room for `more` elements, growing by an eighth rather than doubling: a cluster's worth of
/// edits leaves a few per cent unused instead of up to half.
pub(super) fn room<T>(v: &mut Vec<T>, more: usize) {
    if v.len() + more > v.capacity() {
        v.reserve_exact((v.len() / 8).max(more).max(4));
    }
}

const EMPTY: u32 = u32::MAX;

/// One shard of the name index: open addressing, linear probing, at most half full.
#[derive(Debug, Clone)]
pub(super) struct Shard {
    slots: Vec<u32>,
    len: usize,
}

/// Name -> node id, in shards chosen by the high bits of the name's hash.
#[derive(Debug, Clone)]
pub(super) struct NameIndex {
    shards: Vec<Arc<Shard>>,
    /// Names in all shards.
    len: usize,
}

/// Names per shard on average: past twice this, the shards are doubled (an edit copies one shard,
/// so shards stay small however many names are added after the build).
const PER_SHARD: usize = 512;

impl NameIndex {
    /// An index for about `names` names: shards of about 512 each.
    pub(super) fn with_capacity(names: usize) -> NameIndex {
        let count = (names / PER_SHARD).next_power_of_two().clamp(1, 1 << 16);
        let per = (names / count + 1).max(4) * 2;
        let shard = Arc::new(Shard {
            slots: vec![EMPTY; per.next_power_of_two()],
            len: 0,
        });
        NameIndex {
            shards: vec![shard; count],
            len: 0,
        }
    }

    /// The index of names `0..count`, built at once rather than name by name: the names are hashed
    /// in id order, sorted by shard (with the low half of each hash, which picks the slot), and each
    /// shard filled while it is in the cache (one insert at a time costs a cache miss or two per
    /// name: under load, half the index build of a 1M-task refresh). Each name is hashed once (its
    /// hash kept in id order until the sort is done).
    pub(super) fn of_all<'n>(count: usize, name: impl Fn(u32) -> &'n [u8]) -> NameIndex {
        let shards = (count / PER_SHARD).next_power_of_two().clamp(1, 1 << 16);
        let shard_of = |h: u64| ((h >> 32) as usize) & (shards - 1);
        let ids = 0..u32::try_from(count).unwrap_or(u32::MAX);
        let mut starts = vec![0usize; shards + 1];
        let hashes: Vec<u64> = ids.map(|id| hash(name(id))).collect();
        for &h in &hashes {
            if let Some(n) = starts.get_mut(shard_of(h) + 1) {
                *n += 1;
            }
        }
        for s in 1..starts.len() {
            starts[s] += starts[s - 1];
        }
        let mut next = starts.clone();
        // (low half of the hash, id), by shard.
        let mut sorted = vec![(0u32, EMPTY); count];
        for (id, &h) in (0u32..).zip(&hashes) {
            if let Some(at) = next.get_mut(shard_of(h)) {
                if let Some(slot) = sorted.get_mut(*at) {
                    *slot = (h as u32, id);
                }
                *at += 1;
            }
        }
        drop((next, hashes));
        let per = ((count / shards + 1).max(4) * 2).next_power_of_two();
        let shards = starts
            .windows(2)
            .map(|w| {
                let mine = sorted.get(w[0]..w[1]).unwrap_or_default();
                let mut slots = vec![EMPTY; per.max((mine.len() * 2 + 2).next_power_of_two())];
                let mask = slots.len() - 1;
                for &(h, id) in mine {
                    let mut i = h as usize & mask;
                    while slots[i] != EMPTY {
                        i = (i + 1) & mask;
                    }
                    slots[i] = id;
                }
                Arc::new(Shard { slots, len: mine.len() })
            })
            .collect();
        NameIndex { shards, len: count }
    }

    /// How many of its shards are shared with `other`'s, of how many.
    #[cfg(test)]
    pub(super) fn shared_with(&self, other: &NameIndex) -> (usize, usize) {
        super::shared_arcs(&self.shards, &other.shards)
    }

    /// (names, slots, the names' total distance from their home slot, the longest): how long
    /// look-ups probe (tests and probes: edits must not make it grow).
    #[cfg(test)]
    pub(super) fn probe_lengths<'n>(&self, name: impl Fn(u32) -> &'n [u8]) -> (usize, usize, usize, usize) {
        let (mut names, mut slots, mut total, mut longest) = (0, 0, 0, 0);
        for shard in &self.shards {
            let mask = shard.slots.len() - 1;
            slots += shard.slots.len();
            for (at, &id) in shard.slots.iter().enumerate().filter(|&(_, &id)| id != EMPTY) {
                let home = hash(name(id)) as usize & mask;
                let distance = at.wrapping_sub(home) & mask;
                names += 1;
                total += distance;
                longest = longest.max(distance);
            }
        }
        (names, slots, total, longest)
    }

    #[inline]
    fn shard_of(&self, h: u64) -> usize {
        ((h >> 32) as usize) & (self.shards.len() - 1)
    }

    /// The id of `wire`, reading node names through `name`.
    #[inline]
    pub(super) fn find<'n>(&self, wire: &[u8], name: impl Fn(u32) -> &'n [u8]) -> Option<u32> {
        let h = hash(wire);
        let shard = self.shards.get(self.shard_of(h))?;
        let mask = shard.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let id = *shard.slots.get(i)?;
            if id == EMPTY {
                return None;
            }
            if name(id) == wire {
                return Some(id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `id` as the node of `wire` (not present yet).
    pub(super) fn insert<'n>(&mut self, wire: &[u8], id: u32, name: impl Fn(u32) -> &'n [u8]) {
        if self.len >= self.shards.len() * PER_SHARD * 2 && self.shards.len() < 1 << 16 {
            self.reshard(&name);
        }
        self.place(wire, id, &name);
    }

    fn place<'n>(&mut self, wire: &[u8], id: u32, name: &dyn Fn(u32) -> &'n [u8]) {
        self.len += 1;
        let h = hash(wire);
        let s = self.shard_of(h);
        let Some(shard) = self.shards.get_mut(s) else { return };
        let shard = Arc::make_mut(shard);
        if (shard.len + 1) * 2 > shard.slots.len() {
            let mut slots = vec![EMPTY; shard.slots.len() * 2];
            let mask = slots.len() - 1;
            for &old in shard.slots.iter().filter(|&&x| x != EMPTY) {
                let mut i = hash(name(old)) as usize & mask;
                while slots[i] != EMPTY {
                    i = (i + 1) & mask;
                }
                slots[i] = old;
            }
            shard.slots = slots;
        }
        let mask = shard.slots.len() - 1;
        let mut i = h as usize & mask;
        while shard.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        shard.slots[i] = id;
        shard.len += 1;
    }

    /// Takes `wire` (the node `id`) out, shifting later entries of its probe run back.
    pub(super) fn remove<'n>(&mut self, wire: &[u8], id: u32, name: impl Fn(u32) -> &'n [u8]) {
        let h = hash(wire);
        let s = self.shard_of(h);
        let Some(shard) = self.shards.get_mut(s) else { return };
        let mask = shard.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            match shard.slots.get(i) {
                Some(&x) if x == id => break,
                Some(&EMPTY) | None => return,
                Some(_) => i = (i + 1) & mask,
            }
        }
        let shard = Arc::make_mut(shard);
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let other = shard.slots[j];
            if other == EMPTY {
                break;
            }
            let home = hash(name(other)) as usize & mask;
            // `other` may move to the hole at `i` unless its home lies cyclically in (i, j].
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                shard.slots[i] = other;
                i = j;
            }
        }
        shard.slots[i] = EMPTY;
        shard.len -= 1;
        self.len -= 1;
    }

    /// The same names in twice as many shards.
    fn reshard<'n>(&mut self, name: &dyn Fn(u32) -> &'n [u8]) {
        let ids: Vec<u32> = self
            .shards
            .iter()
            .flat_map(|s| s.slots.iter().copied().filter(|&x| x != EMPTY))
            .collect();
        let mut bigger = NameIndex::with_capacity(self.shards.len() * 2 * PER_SHARD);
        for id in ids {
            bigger.place(name(id), id, name);
        }
        *self = bigger;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A copy of a chunk (what copy-on-write makes when an edit touches a published one) keeps the
    /// live nodes' names only, each still its node's.
    #[test]
    fn a_copy_of_a_chunk_keeps_the_live_names_only() {
        let mut chunk = Chunk::default();
        let names: Vec<Vec<u8>> = (0..40)
            .map(|i| format!("\x09node-{i:04}\x05mesos\x00").into_bytes())
            .collect();
        for n in &names {
            chunk.push_node(n, DOMAIN);
        }
        for i in (0..40).step_by(4) {
            chunk.free_node(i);
        }
        chunk.reuse_node(0, b"\x07renamed\x05mesos\x00", DOMAIN);
        let copy = NodeNames::clone(&chunk.names);
        let live: usize = names
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 4 != 0)
            .map(|(_, n)| n.len())
            .sum();
        assert_eq!(copy.arena.len(), live + b"\x07renamed\x05mesos\x00".len());
        assert!(
            chunk.names.arena.len() > copy.arena.len(),
            "the original keeps what it had"
        );
        for (i, name) in names.iter().enumerate() {
            let want: &[u8] = match i {
                0 => b"\x07renamed\x05mesos\x00",
                _ if i % 4 == 0 => b"",
                _ => name,
            };
            assert_eq!((copy.name(i), chunk.name(i)), (want, want), "node {i}");
            assert_eq!(copy.kinds[i], chunk.names.kinds[i]);
        }
    }

    #[test]
    fn names_are_found_after_inserts_growth_and_removals() {
        let names: Vec<Vec<u8>> = (0..5000)
            .map(|i| format!("\x07task{i:03}\x05mesos\x00").into_bytes())
            .collect();
        let get = |id: u32| names.get(id as usize).map_or(&[][..], |n| n.as_slice());
        let mut index = NameIndex::with_capacity(100);
        for (id, n) in names.iter().enumerate() {
            index.insert(n, id as u32, get);
        }
        assert!(
            index.shards.len() >= 4,
            "5000 names added to a one-shard index spread over more"
        );
        let before = index.clone();
        for (id, n) in names.iter().enumerate().filter(|(id, _)| id % 3 == 0) {
            index.remove(n, id as u32, get);
        }
        for (id, n) in names.iter().enumerate() {
            let want = (id % 3 != 0).then_some(id as u32);
            assert_eq!(index.find(n, get), want, "{id}");
            assert_eq!(before.find(n, get), Some(id as u32), "a clone is not changed by edits");
        }
        assert_eq!(index.find(b"\x04none\x00", get), None);
    }
}
