//! Interned byte strings (names): every distinct name stored once in one arena, found again through an
//! open-addressing table of ids. Used for the text names of a [`RecordList`](super::RecordList) and the
//! wire names of the [`Records`](super::Records) snapshot: at 100k tasks there are hundreds of thousands of
//! names, and one allocation per name (or a second copy as a hash-map key) shows in time and memory.

const EMPTY: u32 = u32::MAX;

/// A slot holds a name's id in its low bits and a few bits of its hash above them, so that a probe
/// past another name compares the names only when those bits agree (one in 64): comparing means
/// reading the other name's span and bytes, two cache misses in a table of a million names.
const ID_BITS: u32 = 26;
const ID_MASK: u32 = (1 << ID_BITS) - 1;
/// Ids stay below this, so that no slot is `EMPTY`: 67 million names (a 1M-task list has 3.4M).
const MAX_NAMES: usize = ID_MASK as usize;

/// A slot for `id` of a name with hash `h`.
#[inline]
fn slot(id: u32, h: u64) -> u32 {
    ((h >> 58) as u32) << ID_BITS | id
}

/// A set of byte strings, each with a dense id in insertion order.
#[derive(Debug, Clone)]
pub(super) struct ByteTable {
    arena: Vec<u8>,
    /// (start, end) of each id's bytes in `arena`.
    spans: Vec<(u32, u32)>,
    /// Open addressing, linear probing; a power of two, at most half full.
    slots: Vec<u32>,
}

impl Default for ByteTable {
    fn default() -> Self {
        ByteTable::with_capacity(0)
    }
}

impl ByteTable {
    pub(super) fn with_capacity(names: usize) -> ByteTable {
        let slots = (names.max(8) * 2).next_power_of_two();
        ByteTable {
            arena: Vec::with_capacity(names * 32),
            spans: Vec::with_capacity(names),
            slots: vec![EMPTY; slots],
        }
    }

    /// Room for about `names` more names (the hash index grows as it fills).
    pub(super) fn reserve(&mut self, names: usize) {
        self.arena.reserve(names * 32);
        self.spans.reserve(names);
        let want = ((self.spans.len() + names).max(8) * 2).next_power_of_two();
        if want > self.slots.len() && !self.slots.is_empty() {
            self.slots = vec![EMPTY; want / 2];
            self.grow();
        }
    }

    /// Number of names.
    #[allow(clippy::len_without_is_empty)]
    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    /// The bytes of name `id` (empty if there is no such id).
    #[inline]
    pub(super) fn get(&self, id: u32) -> &[u8] {
        match self.spans.get(id as usize) {
            Some(&(start, end)) => &self.arena[start as usize..end as usize],
            None => &[],
        }
    }

    /// The id of `name`, if present.
    #[inline]
    pub(super) fn find(&self, name: &[u8]) -> Option<u32> {
        if self.slots.is_empty() {
            // Without its index (see `drop_index`): a scan.
            return (0..self.spans.len() as u32).find(|&id| self.get(id) == name);
        }
        let mask = self.slots.len() - 1;
        let h = hash(name);
        let tag = slot(0, h);
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return None;
            }
            if s & !ID_MASK == tag && self.get(s & ID_MASK) == name {
                return Some(s & ID_MASK);
            }
            i = (i + 1) & mask;
        }
    }

    /// Starts loading the slot where a search for `name` begins, ahead of [`intern`](Self::intern)
    /// (in a table of millions of names that slot is a cache miss, which this lets overlap other work).
    #[inline]
    pub(super) fn prefetch(&self, name: &[u8]) {
        if let Some(mask) = self.slots.len().checked_sub(1) {
            prefetch(self.slots.get(hash(name) as usize & mask));
        }
    }

    /// The id of `name`, adding it if new; `None` only past 67 million names or 4 GiB of names.
    pub(super) fn intern(&mut self, name: &[u8]) -> Option<u32> {
        if self.slots.is_empty() {
            self.slots = vec![EMPTY; 8];
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let h = hash(name);
        let tag = slot(0, h);
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                break;
            }
            if s & !ID_MASK == tag && self.get(s & ID_MASK) == name {
                return Some(s & ID_MASK);
            }
            i = (i + 1) & mask;
        }
        let id = u32::try_from(self.spans.len())
            .ok()
            .filter(|&id| (id as usize) < MAX_NAMES)?;
        let start = u32::try_from(self.arena.len()).ok()?;
        let end = u32::try_from(self.arena.len() + name.len()).ok()?;
        self.arena.extend_from_slice(name);
        self.spans.push((start, end));
        self.slots[i] = slot(id, h);
        if self.spans.len() * 2 > self.slots.len() {
            self.grow();
        }
        Some(id)
    }

    /// Frees the hash index (a quarter of the table's memory at 100k tasks) of a table that is only
    /// read by id from now on: `find` scans instead, and `intern` rebuilds the index.
    pub(super) fn drop_index(&mut self) {
        self.slots = Vec::new();
    }

    fn grow(&mut self) {
        let mut slots = vec![EMPTY; (self.slots.len() * 2).max((self.spans.len() * 2).next_power_of_two())];
        let mask = slots.len() - 1;
        for id in 0..self.spans.len() as u32 {
            let h = hash(self.get(id));
            let mut i = h as usize & mask;
            while slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            slots[i] = slot(id, h);
        }
        self.slots = slots;
    }
}

/// Starts loading the cache line of `value`, which is read or written soon after (in arrays of
/// millions, a random one is a cache miss, which this lets overlap other work); whether there was
/// one.
#[inline]
pub(super) fn prefetch<T>(value: Option<&T>) -> bool {
    #[cfg(target_arch = "x86_64")]
    if let Some(value) = value {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch only hints the cache (of an address inside a live value here).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast::<i8>()) };
    }
    value.is_some()
}

/// The rustc "Fx" hash over bytes, 8 at a time: names come from the master's state and lookups are on
/// the per-query path, where SipHash's cost shows.
#[inline]
pub(super) fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    // Fold the high bits down: the table indexes with the low ones.
    h ^ (h >> 29)
}

/// A `BuildHasher` of [`hash`]'s kind for the refresh's own maps keyed by text from the state (agent
/// ids, task names): a 1M-task refresh looks them up millions of times, where SipHash showed in
/// profiles.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FastHash;

/// The hasher of [`FastHash`].
#[derive(Debug, Default)]
pub(crate) struct FastHasher(u64);

impl std::hash::BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = (self.0.rotate_left(5) ^ hash(bytes)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_names_are_found_again_across_growth() {
        let mut t = ByteTable::default();
        let names: Vec<String> = (0..10_000).map(|i| format!("task-{i}.marathon.mesos.")).collect();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(t.intern(n.as_bytes()), Some(i as u32));
        }
        for (i, n) in names.iter().enumerate() {
            assert_eq!(t.intern(n.as_bytes()), Some(i as u32), "re-interning gives the same id");
            assert_eq!(t.find(n.as_bytes()), Some(i as u32));
            assert_eq!(t.get(i as u32), n.as_bytes());
        }
        assert_eq!(t.len(), 10_000);
        assert_eq!(t.find(b"nope.mesos."), None);
        assert_eq!(t.find(b""), None);
        assert_eq!(t.get(99_999), b"");
        assert_eq!(t.intern(b""), Some(10_000), "the empty name is a name too");
        t.drop_index();
        assert_eq!(
            t.find(names[77].as_bytes()),
            Some(77),
            "found by a scan without the index"
        );
        assert_eq!(t.find(b"nope.mesos."), None);
        assert_eq!(t.intern(names[5].as_bytes()), Some(5), "interning rebuilds the index");
        assert_eq!(t.intern(b"new.mesos."), Some(10_001));
        assert_eq!(t.find(b"new.mesos."), Some(10_001));
    }
}
