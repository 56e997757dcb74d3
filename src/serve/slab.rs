//! The event loop's connection table: a slab of at most `cap` entries whose slot numbers become mio
//! tokens, and a generation per entry so that a reused slot is not mistaken for the connection that held
//! it before (a relayed answer for a client that has gone must not reach the next one). Used for the DNS
//! TCP connections and the HTTP connections alike.

/// Names one entry: its slot and the generation it was inserted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Key {
    pub slot: usize,
    pub generation: u64,
}

/// Entries by slot, freed slots reused first; never more than `cap` entries, so slots stay below `cap`.
#[derive(Debug)]
pub(super) struct Slab<T> {
    slots: Vec<Option<(u64, T)>>,
    free: Vec<usize>,
    len: usize,
    cap: usize,
    generations: u64,
}

impl<T> Slab<T> {
    /// An empty slab that holds at most `cap` entries.
    pub(super) fn new(cap: usize) -> Slab<T> {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            cap,
            generations: 0,
        }
    }

    /// How many entries there are.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Every entry, in slot order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten().map(|(_, value)| value)
    }

    /// The slot the next [`insert`](Self::insert) will use, or `None` when the slab is full.
    pub(super) fn vacant(&self) -> Option<usize> {
        match self.free.last() {
            _ if self.len >= self.cap => None,
            Some(&slot) => Some(slot),
            None => Some(self.slots.len()),
        }
    }

    /// Inserts `value` at [`vacant`](Self::vacant)'s slot; gives it back when the slab is full.
    pub(super) fn insert(&mut self, value: T) -> Result<Key, T> {
        let Some(slot) = self.vacant() else {
            return Err(value);
        };
        if self.free.last() == Some(&slot) {
            self.free.pop();
        } else {
            self.slots.push(None);
        }
        self.generations += 1;
        self.slots[slot] = Some((self.generations, value));
        self.len += 1;
        Ok(Key {
            slot,
            generation: self.generations,
        })
    }

    /// The entry in `slot`, whichever generation it is.
    pub(super) fn get_mut(&mut self, slot: usize) -> Option<(Key, &mut T)> {
        let (generation, value) = self.slots.get_mut(slot)?.as_mut()?;
        let key = Key {
            slot,
            generation: *generation,
        };
        Some((key, value))
    }

    /// The entry `key` names, if it is still there (not removed, its slot not reused).
    pub(super) fn get_by_key(&mut self, key: Key) -> Option<&mut T> {
        self.get_mut(key.slot)
            .filter(|(k, _)| *k == key)
            .map(|(_, value)| value)
    }

    /// Takes the entry out of `slot`, freeing the slot.
    pub(super) fn remove(&mut self, slot: usize) -> Option<T> {
        let (_, value) = self.slots.get_mut(slot)?.take()?;
        self.free.push(slot);
        self.len -= 1;
        Some(value)
    }

    /// Removes every entry for which `remove` says so, handing each to `removed`.
    pub(super) fn remove_where(&mut self, mut remove: impl FnMut(&T) -> bool, mut removed: impl FnMut(T)) {
        for slot in 0..self.slots.len() {
            if self.slots[slot].as_ref().is_some_and(|(_, value)| remove(value)) {
                if let Some(value) = self.remove(slot) {
                    removed(value);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_slab_gives_the_value_back() {
        let mut slab = Slab::new(2);
        assert!(slab.insert('a').is_ok());
        assert!(slab.insert('b').is_ok());
        assert_eq!(slab.vacant(), None);
        assert_eq!(slab.insert('c'), Err('c'));
        assert_eq!(slab.len(), 2);
    }

    #[test]
    fn freed_slots_are_reused_under_a_new_generation() {
        let mut slab = Slab::new(4);
        let a = slab.insert('a').unwrap();
        let b = slab.insert('b').unwrap();
        assert_eq!((a.slot, b.slot), (0, 1));
        assert_eq!(slab.remove(a.slot), Some('a'));
        assert_eq!(slab.remove(a.slot), None, "removed once");
        assert_eq!(slab.vacant(), Some(0));
        let c = slab.insert('c').unwrap();
        assert_eq!(c.slot, 0);
        assert_ne!(c.generation, a.generation);
        assert_eq!(slab.get_by_key(a), None, "the old key does not reach the new entry");
        assert_eq!(slab.get_by_key(c), Some(&mut 'c'));
        assert_eq!(slab.get_mut(0).map(|(k, v)| (k, *v)), Some((c, 'c')));
        assert_eq!(slab.len(), 2);
    }

    #[test]
    fn slots_stay_below_the_cap() {
        let mut slab = Slab::new(3);
        for round in 0..10 {
            let keys: Vec<Key> = (0..3).map(|i| slab.insert(round * 3 + i).unwrap()).collect();
            assert!(keys.iter().all(|k| k.slot < 3), "{keys:?}");
            for k in keys {
                slab.remove(k.slot);
            }
        }
        assert_eq!(slab.len(), 0);
    }

    #[test]
    fn remove_where_takes_exactly_the_matching_entries() {
        let mut slab = Slab::new(8);
        for v in 0..6 {
            slab.insert(v).unwrap();
        }
        let mut gone = Vec::new();
        slab.remove_where(|v| v % 2 == 1, |v| gone.push(v));
        assert_eq!(gone, [1, 3, 5]);
        assert_eq!(slab.len(), 3);
        assert!(slab.get_mut(0).is_some() && slab.get_mut(1).is_none());
    }
}
