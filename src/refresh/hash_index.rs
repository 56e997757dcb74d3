//! Where a keyed thing is held, without a copy of its key ([`HashIndex`]): keyed by a hash of the key
//! and checked against the holder the entry points at; keys that share a hash go to a small map of
//! their own, which owns them. The hash kept is 32 bits (an entry is 8 bytes with a `u32` position,
//! where a 64-bit hash made it 16): of a million keys about a hundred share one, which the overflow
//! map takes. The model's tasks by id ([`super::model`]) and the edited snapshot's task slots
//! ([`super::incremental`]) both find their tasks through one. Pure.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};

/// Key -> position (`V`) of its holder. Operations take the key borrowed (`Q`, hashed) and make the
/// owned form (`K`) only for the overflow map, and a `holds` test saying whether the holder at a
/// position has this key.
#[derive(Debug, Default)]
pub(super) struct HashIndex<K, V> {
    /// Random keys: keys that share a hash cannot be chosen from outside.
    hasher: RandomState,
    by_hash: HashMap<u32, V>,
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
            hasher: RandomState::new(),
            by_hash: HashMap::with_capacity(n),
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
