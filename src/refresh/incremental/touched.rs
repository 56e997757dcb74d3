//! The names an edit touched, each once ([`Touched`]): what the IXFR journal compares at a publish
//! (and, with no journal kept, whether the serial moves). Kept back to back in one array with a
//! table of their places, not a set of owned names: a churning poll at 100k tasks touches a hundred
//! thousand names, an allocation each (and one more per insert, freed again when the name was
//! there already) held beside the edit's chunk copies, at its peak. With no journal kept, only
//! whether a record changed matters, which the first names touched nearly always tell: the set then
//! keeps at most a few thousand ([`Touched::up_to`]) and says when it left names out. Pure.

use std::hash::BuildHasher;

use crate::refresh::hash_index::Keyed;

/// An empty place in [`Touched::table`].
const EMPTY: u32 = u32::MAX;

/// Distinct names (wire form), in the order first touched (the first [`Touched::up_to`] of them).
#[derive(Debug)]
pub(crate) struct Touched {
    bytes: Vec<u8>,
    /// Where each name ends in `bytes` (it starts where the one before ends).
    ends: Vec<u32>,
    /// Open addressing, linear probing, at most half full: a name's position in `ends`.
    table: Vec<u32>,
    /// Random keys: names come from the state, their hashes must not be predictable.
    keys: Keyed,
    /// The most names kept; a name past them is left out (and counted in `left_out`, each time).
    limit: usize,
    left_out: usize,
}

impl Default for Touched {
    fn default() -> Touched {
        Touched::up_to(usize::MAX)
    }
}

impl Touched {
    /// The names kept when no journal is: a churning poll's first differing name is among its
    /// first few (a removed task's own name, mostly the first).
    pub(crate) const WITHOUT_JOURNAL: usize = 4096;

    /// A set that keeps the first `limit` distinct names and only notes that there were more.
    pub(crate) fn up_to(limit: usize) -> Touched {
        Touched {
            bytes: Vec::new(),
            ends: Vec::new(),
            table: Vec::new(),
            keys: Keyed::default(),
            limit,
            left_out: 0,
        }
    }

    /// An empty set with the same limit.
    pub(crate) fn emptied(&self) -> Touched {
        Touched::up_to(self.limit)
    }

    /// Whether every name touched is in the set (none was left out past its limit).
    pub(crate) fn is_complete(&self) -> bool {
        self.left_out == 0
    }

    /// How many names were touched: those kept, and each touch of a name left out (so a name left
    /// out may count more than once).
    pub(crate) fn touches(&self) -> usize {
        self.ends.len().saturating_add(self.left_out)
    }

    /// Adds `name` unless it is there already (or the set is full: then it notes a name left out).
    pub(crate) fn insert(&mut self, name: &[u8]) {
        if self.ends.len() >= self.limit {
            if !self.holds(name) {
                self.left_out = self.left_out.saturating_add(1);
            }
            return;
        }
        if (self.ends.len() + 1) * 2 > self.table.len() {
            self.grow();
        }
        if let Err(at) = self.probe(name) {
            self.table[at] = self.ends.len() as u32;
            self.bytes.extend_from_slice(name);
            self.ends.push(self.bytes.len() as u32);
        }
    }

    /// Whether `name` is in the set.
    fn holds(&self, name: &[u8]) -> bool {
        !self.table.is_empty() && self.probe(name).is_ok()
    }

    /// `name`'s place in the table (`Ok`), or the empty place it would take (`Err`). The table
    /// must not be empty (it is never full: it grows at half).
    fn probe(&self, name: &[u8]) -> Result<usize, usize> {
        let mask = self.table.len() - 1;
        let mut at = self.keys.hash_one(name) as usize & mask;
        loop {
            match self.table[at] {
                EMPTY => return Err(at),
                i if self.name(i as usize) == name => return Ok(at),
                _ => at = (at + 1) & mask,
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The names, in the order first touched.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.ends.len()).map(|i| self.name(i))
    }

    fn name(&self, i: usize) -> &[u8] {
        let start = match i {
            0 => 0,
            _ => self.ends.get(i - 1).map_or(0, |&e| e as usize),
        };
        let end = self.ends.get(i).map_or(start, |&e| e as usize);
        self.bytes.get(start..end).unwrap_or_default()
    }

    /// Twice the places (16 at first), every name placed again.
    fn grow(&mut self) {
        let size = (self.table.len() * 2).max(16);
        self.table = vec![EMPTY; size];
        let mask = size - 1;
        for i in 0..self.ends.len() {
            let mut at = self.keys.hash_one(self.name(i)) as usize & mask;
            while self.table[at] != EMPTY {
                at = (at + 1) & mask;
            }
            self.table[at] = i as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each name once, in the order first touched, through several growths; the empty name too.
    #[test]
    fn holds_each_name_once_in_order() {
        let mut touched = Touched::default();
        assert_eq!(touched.len(), 0);
        let names: Vec<Vec<u8>> = (0..1000u32)
            .map(|i| format!("\x04t{i:03}\x05mesos\x00").into_bytes())
            .collect();
        for round in 0..3 {
            for name in names.iter().skip(round * 100) {
                touched.insert(name);
            }
            touched.insert(b"");
        }
        assert_eq!(touched.len(), 1001);
        let mut want: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        want.insert(1000, b"");
        assert_eq!(touched.iter().collect::<Vec<_>>(), want);
        assert!(touched.is_complete());
    }

    /// Past its limit a set keeps the names it has, and notes a new name as left out (not one it holds).
    #[test]
    fn a_limited_set_keeps_the_first_names_and_notes_one_left_out() {
        let names: Vec<Vec<u8>> = (0..40u32).map(|i| format!("\x03t{i:02}\x00").into_bytes()).collect();
        let mut touched = Touched::up_to(30);
        for name in &names[..30] {
            touched.insert(name);
        }
        touched.insert(&names[3]);
        assert!(touched.is_complete(), "a name it holds is not left out");
        assert_eq!(touched.touches(), 30);
        touched.insert(&names[35]);
        touched.insert(&names[36]);
        assert!(!touched.is_complete());
        assert_eq!((touched.len(), touched.touches()), (30, 32));
        let want: Vec<&[u8]> = names[..30].iter().map(Vec::as_slice).collect();
        assert_eq!(touched.iter().collect::<Vec<_>>(), want);
        let empty = touched.emptied();
        assert!(empty.is_complete() && empty.len() == 0 && empty.limit == 30);
    }
}
