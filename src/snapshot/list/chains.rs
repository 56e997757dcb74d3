//! The head of each name's chain of records in a [`RecordList`](super::RecordList), with a filter of
//! the data the chain holds while records are added ([`Chain`]), and without it once the list is
//! sealed ([`Chains::seal`]): a list kept only to be read (`/v1/enumerate`) needs no filter, 4 bytes
//! a name (13 MB at a million tasks).

use super::{Data, NONE};

/// A name's chain of records: its newest record, and a filter of the data of them all (two bits of
/// 32 a record, [`Chain::bits`]), read with it. A record whose bits are not all set is surely new:
/// adding it walks no chain. At a million tasks a task name's records are spread over its tasks,
/// and walking them was a cache miss a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Chain {
    pub(super) head: u32,
    pub(super) seen: u32,
}

impl Chain {
    pub(super) const EMPTY: Chain = Chain { head: NONE, seen: 0 };

    /// The filter bits of a record of `data`.
    pub(super) fn bits(data: Data) -> u32 {
        let x = match data {
            Data::A(o) => u64::from(u32::from_le_bytes(o)),
            Data::Aaaa(o) => {
                let v = u128::from_le_bytes(o);
                (v as u64) ^ ((v >> 64) as u64).rotate_left(23)
            }
            Data::Srv { target, port } => u64::from(target) << 16 | u64::from(port) | 1 << 62,
            Data::Other(i) => u64::from(i) | 1 << 63,
        };
        let h = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        1 << (h >> 59) | 1 << ((h >> 54) & 31)
    }
}

/// Every name's [`Chain`], by name id.
#[derive(Debug, Clone)]
pub(super) enum Chains {
    /// Heads and filters, while records are added.
    Filtered(Vec<Chain>),
    /// Heads alone ([`seal`](Chains::seal)): a record added since walks its name's chain (the
    /// filters come back, every bit set, and learn only the records added after).
    Sealed(Vec<u32>),
}

impl Default for Chains {
    fn default() -> Self {
        Chains::Filtered(Vec::new())
    }
}

impl Chains {
    pub(super) fn with_capacity(names: usize) -> Chains {
        Chains::Filtered(Vec::with_capacity(names))
    }

    pub(super) fn reserve(&mut self, names: usize) {
        match self {
            Chains::Filtered(chains) => chains.reserve(names),
            Chains::Sealed(heads) => heads.reserve(names),
        }
    }

    /// The number of names with a chain.
    pub(super) fn len(&self) -> usize {
        match self {
            Chains::Filtered(chains) => chains.len(),
            Chains::Sealed(heads) => heads.len(),
        }
    }

    /// A chain for a new name, empty.
    pub(super) fn push_empty(&mut self) {
        match self {
            Chains::Filtered(chains) => chains.push(Chain::EMPTY),
            Chains::Sealed(heads) => heads.push(NONE),
        }
    }

    /// The chain of name `name` (sealed: every filter bit set, nothing ruled out).
    #[inline]
    pub(super) fn get(&self, name: u32) -> Option<Chain> {
        match self {
            Chains::Filtered(chains) => chains.get(name as usize).copied(),
            Chains::Sealed(heads) => heads.get(name as usize).map(|&head| Chain { head, seen: u32::MAX }),
        }
    }

    /// The newest record of name `name`, or `NONE`.
    pub(super) fn head(&self, name: u32) -> u32 {
        self.get(name).map_or(NONE, |c| c.head)
    }

    /// Sets the chain of name `name` (a sealed list gets its filters back first).
    #[inline]
    pub(super) fn set(&mut self, name: u32, chain: Chain) {
        if let Chains::Sealed(heads) = self {
            let filtered = heads.iter().map(|&head| Chain { head, seen: u32::MAX }).collect();
            *self = Chains::Filtered(filtered);
        }
        if let Chains::Filtered(chains) = self {
            if let Some(c) = chains.get_mut(name as usize) {
                *c = chain;
            }
        }
    }

    /// Drops the filters (the list is read from now on), in the chains' own allocation: no second
    /// copy of them at once.
    pub(super) fn seal(&mut self) {
        if let Chains::Filtered(chains) = self {
            let mut heads: Vec<u32> = std::mem::take(chains).into_iter().map(|c| c.head).collect();
            heads.shrink_to_fit();
            *self = Chains::Sealed(heads);
        }
    }

    /// The heap bytes held (for tests).
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            Chains::Filtered(chains) => chains.capacity() * std::mem::size_of::<Chain>(),
            Chains::Sealed(heads) => heads.capacity() * std::mem::size_of::<u32>(),
        }
    }
}
