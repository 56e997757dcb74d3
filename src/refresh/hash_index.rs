//! Where a keyed thing is held, without a copy of its key ([`HashIndex`]): keyed by a hash of the key
//! and checked against the holder the entry points at; keys that share a hash go to a small map of
//! their own, which owns them. The hash kept is 32 bits (an entry is 8 bytes with a `u32` position,
//! where a 64-bit hash made it 16): of a million keys about a hundred share one, which the overflow
//! map takes. The model's tasks by id ([`super::model`]) and the edited snapshot's task slots
//! ([`super::incremental`]) both find their tasks through one. Pure.
//!
//! Keys are hashed with [`Keyed`], a keyed multiply-fold hash (foldhash's construction: a few
//! multiplications per 16 bytes, where SipHash took a tenth of a poll's model at a million tasks).
//! Task ids are chosen by whoever launches tasks, so their hashes must not be predictable: the two
//! 64-bit keys are random per index, and a key whose 32-bit hash another holds goes to the overflow
//! map, which keeps std's SipHash (many keys made to share a hash cost the overflow map's O(1) each,
//! never a long probe). The positions map is keyed by those hashes already: [`Spread`] only spreads
//! them over the table's bits.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};

/// Random keys for a [`KeyedHasher`] (each index its own).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keyed {
    k0: u64,
    k1: u64,
}

impl Default for Keyed {
    /// New random keys (drawn from std's random hasher keys: no system call).
    fn default() -> Keyed {
        let random = RandomState::new();
        Keyed {
            k0: random.hash_one(0x6b65_7930_u64),
            k1: random.hash_one(0x6b65_7931_u64) | 1,
        }
    }
}

impl BuildHasher for Keyed {
    type Hasher = KeyedHasher;
    fn build_hasher(&self) -> KeyedHasher {
        KeyedHasher {
            h: self.k0,
            k1: self.k1,
        }
    }
}

/// The 128-bit product of `a` and `b`, its halves xored.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The odd constant of the fractional part of the golden ratio.
const PHI: u64 = 0x9e37_79b9_7f4a_7c15;

/// [`Keyed`]'s hasher: every 16 bytes (or one integer) folded into the state with the keys.
#[derive(Debug, Clone)]
pub(crate) struct KeyedHasher {
    h: u64,
    k1: u64,
}

impl KeyedHasher {
    #[inline]
    fn mix(&mut self, a: u64, b: u64) {
        self.h = fold(a ^ self.h, b ^ self.k1 ^ PHI).rotate_left(23);
    }
}

impl Hasher for KeyedHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let word = |b: &[u8]| {
            let mut w = [0u8; 8];
            let n = b.len().min(8);
            w[..n].copy_from_slice(&b[..n]);
            u64::from_le_bytes(w)
        };
        let mut rest = bytes;
        while rest.len() > 16 {
            let (block, tail) = rest.split_at(16);
            self.mix(word(block), word(&block[8..]));
            rest = tail;
        }
        // The last (or only) 16 bytes or fewer, with the length (so that a key and its prefix differ).
        let (a, b) = match rest.len() {
            n if n > 8 => (word(rest), word(&rest[n - 8..])),
            _ => (word(rest), 0),
        };
        self.mix(a, b ^ (bytes.len() as u64).wrapping_mul(PHI));
    }

    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.mix(u64::from(v), 1);
    }

    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.mix(u64::from(v), 4);
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.mix(v, 8);
    }

    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64, 8);
    }

    #[inline]
    fn finish(&self) -> u64 {
        fold(self.h, self.k1 ^ PHI.rotate_left(32))
    }
}

/// The hasher of a map keyed by hashes made with random keys already: spreads a `u32` over the
/// 64 bits a table reads (its low bits place an entry, its top bits tag it).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Spread;

impl BuildHasher for Spread {
    type Hasher = SpreadHasher;
    fn build_hasher(&self) -> SpreadHasher {
        SpreadHasher(0)
    }
}

/// [`Spread`]'s hasher.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpreadHasher(u64);

impl Hasher for SpreadHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(PHI);
        }
    }

    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.0 = (self.0 ^ u64::from(v)).wrapping_mul(PHI);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Key -> position (`V`) of its holder. Operations take the key borrowed (`Q`, hashed) and make the
/// owned form (`K`) only for the overflow map, and a `holds` test saying whether the holder at a
/// position has this key.
#[derive(Debug, Default)]
pub(super) struct HashIndex<K, V> {
    /// Random keys: keys that share a hash cannot be chosen from outside.
    hasher: Keyed,
    by_hash: HashMap<u32, V, Spread>,
    /// Keys whose hash another key holds in `by_hash` (almost always empty).
    overflow: HashMap<K, V>,
    /// Every key hashes alike (tests of the overflow map).
    #[cfg(test)]
    pub(super) colliding: bool,
}

impl<K: Hash + Eq, V: Copy + PartialEq> HashIndex<K, V> {
    /// Room for `n` keys.
    pub(super) fn with_capacity(n: usize) -> HashIndex<K, V> {
        HashIndex {
            hasher: Keyed::default(),
            by_hash: HashMap::with_capacity_and_hasher(n, Spread),
            overflow: HashMap::new(),
            #[cfg(test)]
            colliding: false,
        }
    }

    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u32 {
        #[cfg(test)]
        if self.colliding {
            return 0;
        }
        self.hasher.hash_one(key) as u32
    }

    /// Where `key`'s holder is.
    pub(super) fn get<Q: Hash + ?Sized>(
        &self,
        key: &Q,
        holds: impl Fn(V) -> bool,
        owned: impl FnOnce() -> K,
    ) -> Option<V> {
        match self.by_hash.get(&self.hash(key)) {
            Some(&v) if holds(v) => Some(v),
            _ if self.overflow.is_empty() => None,
            _ => self.overflow.get(&owned()).copied(),
        }
    }

    /// Where `key`'s holder is, as [`get`](Self::get); when it has none, records it as held at `v`
    /// (as [`insert`](Self::insert)) and gives `None`. The key is hashed once for both.
    pub(super) fn get_or_insert<Q: Hash + ?Sized>(
        &mut self,
        key: &Q,
        holds: impl Fn(V) -> bool,
        owned: impl Fn() -> K,
        v: V,
    ) -> Option<V> {
        let h = self.hash(key);
        let overflow = &mut self.overflow;
        let in_overflow = |overflow: &HashMap<K, V>| match overflow.is_empty() {
            true => None,
            false => overflow.get(&owned()).copied(),
        };
        match self.by_hash.entry(h) {
            Entry::Occupied(e) if holds(*e.get()) => Some(*e.get()),
            Entry::Occupied(_) => match in_overflow(overflow) {
                Some(found) => Some(found),
                None => {
                    overflow.insert(owned(), v);
                    None
                }
            },
            Entry::Vacant(e) => match in_overflow(overflow) {
                Some(found) => Some(found),
                None => {
                    e.insert(v);
                    None
                }
            },
        }
    }

    /// Records a key not in the index yet, held at `v`.
    pub(super) fn insert<Q: Hash + ?Sized>(&mut self, key: &Q, owned: impl FnOnce() -> K, v: V) {
        match self.by_hash.entry(self.hash(key)) {
            Entry::Vacant(e) => {
                e.insert(v);
            }
            Entry::Occupied(_) => {
                self.overflow.insert(owned(), v);
            }
        }
    }

    /// Forgets `key`; where its holder was (still there, for `holds`).
    pub(super) fn remove<Q: Hash + ?Sized>(
        &mut self,
        key: &Q,
        holds: impl Fn(V) -> bool,
        owned: impl FnOnce() -> K,
    ) -> Option<V> {
        let h = self.hash(key);
        match self.by_hash.get(&h) {
            Some(&v) if holds(v) => self.by_hash.remove(&h),
            _ if self.overflow.is_empty() => None,
            _ => self.overflow.remove(&owned()),
        }
    }

    /// `key`'s holder moved from `from` to `to`.
    pub(super) fn moved<Q: Hash + ?Sized>(&mut self, key: &Q, owned: impl FnOnce() -> K, from: V, to: V) {
        let h = self.hash(key);
        match self.by_hash.get_mut(&h) {
            Some(v) if *v == from => *v = to,
            _ if self.overflow.is_empty() => {}
            _ => {
                if let Some(v) = self.overflow.get_mut(&owned()) {
                    *v = to;
                }
            }
        }
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.by_hash.shrink_to_fit();
        self.overflow.shrink_to_fit();
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.by_hash.len() + self.overflow.len()
    }

    /// Heap bytes (the start probe's breakdown).
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        self.by_hash.capacity() * (std::mem::size_of::<(u32, V)>() + 1)
            + self.overflow.capacity() * (std::mem::size_of::<(K, V)>() + 1)
    }
}
