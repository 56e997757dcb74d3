//! The order of zone-local answers (`preferLocalZone`): for a query from a source in a zone
//! ([`Near::of`]), an A, AAAA or SRV RRset lists the records in that zone first, then the others, each
//! group in its own shuffled order ([`NearOrder`]). Without storage: each group is a pass of a
//! [`Shuffle`] that skips the other group's records, so the answer path still allocates nothing. An
//! A or AAAA record is in the zone of its address; an SRV record in the zone of its target's first
//! address. Which zone an address is in is the snapshot's ([`ZoneMap`]).

use std::net::IpAddr;

use super::Shuffle;
use crate::snapshot::{Node, Records, ZoneMap};

/// The zone a query came from, and the map that says which records are in it.
#[derive(Clone, Copy)]
pub(super) struct Near<'a> {
    zones: &'a ZoneMap,
    zone: u16,
}

impl<'a> Near<'a> {
    /// The zone of a query from `source`, when the snapshot has zones and the source is in one.
    #[inline]
    pub(super) fn of(records: &'a Records, source: Option<IpAddr>) -> Option<Near<'a>> {
        let source = source?;
        let zones = records.zones()?;
        let zone = zones.zone_of_source(source)?;
        Some(Near { zones, zone })
    }

    /// Whether a record address (4 or 16 octets) is in the query's zone.
    #[inline]
    fn is_local(&self, address: &[u8]) -> bool {
        self.zones.zone_of_address(address) == self.zone
    }

    /// The order of an A or AAAA RRset.
    pub(super) fn addresses<'r, const L: usize>(
        self,
        rdata: &'r [[u8; L]],
        random: u64,
    ) -> NearOrder<impl Fn(usize) -> bool + 'r>
    where
        'a: 'r,
    {
        NearOrder::new(rdata.len(), random, move |i| {
            rdata.get(i).is_some_and(|a| self.is_local(a))
        })
    }

    /// The order of the SRV RRset of `node`: a record is local when its target's first address is.
    pub(super) fn srv<'r>(
        self,
        records: &'r Records,
        node: Node<'r>,
        random: u64,
    ) -> NearOrder<impl Fn(usize) -> bool + 'r>
    where
        'a: 'r,
    {
        NearOrder::new(node.srv.len(), random, move |i| {
            let Some(target) = node.srv.get(i).and_then(|s| records.node(s.target)) else {
                return false;
            };
            match (target.a.first(), target.aaaa.first()) {
                (Some(a), _) => self.is_local(a),
                (None, Some(a)) => self.is_local(a),
                (None, None) => false,
            }
        })
    }
}

/// `0..n` with the indexes `local` says are local first, then the others, each group in a random
/// order of its own (two passes of two shuffles).
pub(super) struct NearOrder<F> {
    local: F,
    first: Shuffle,
    rest: Shuffle,
}

impl<F: Fn(usize) -> bool> NearOrder<F> {
    pub(super) fn new(n: usize, random: u64, local: F) -> NearOrder<F> {
        NearOrder {
            local,
            first: Shuffle::new(n, random),
            rest: Shuffle::new(n, random ^ 0x6a09_e667_f3bc_c908),
        }
    }
}

impl<F: Fn(usize) -> bool> Iterator for NearOrder<F> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        for i in self.first.by_ref() {
            if (self.local)(i) {
                return Some(i);
            }
        }
        self.rest.by_ref().find(|&i| !(self.local)(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(n: usize, random: u64, local: &[usize]) -> Vec<usize> {
        NearOrder::new(n, random, |i| local.contains(&i)).collect()
    }

    #[test]
    fn local_records_come_first_then_the_rest_each_once() {
        for random in 0..200u64 {
            let got = order(7, random, &[1, 4, 5]);
            let mut sorted = got.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..7).collect::<Vec<_>>(), "every record once: {got:?}");
            let mut head = got[..3].to_vec();
            head.sort_unstable();
            assert_eq!(head, vec![1, 4, 5], "local first: {got:?}");
        }
    }

    #[test]
    fn each_group_is_shuffled() {
        let mut firsts = [0usize; 7];
        let mut rest_firsts = [0usize; 7];
        for random in 0..2000u64 {
            let got = order(7, random.wrapping_mul(0x9e37_79b9_7f4a_7c15), &[1, 4, 5]);
            firsts[got[0]] += 1;
            rest_firsts[got[3]] += 1;
        }
        for i in [1, 4, 5] {
            assert!(firsts[i] > 400, "each local record leads often: {firsts:?}");
        }
        for i in [0, 2, 3, 6] {
            assert!(
                rest_firsts[i] > 300,
                "each other record leads the rest often: {rest_firsts:?}"
            );
        }
    }

    #[test]
    fn a_cut_takes_local_records_first() {
        for random in 0..100u64 {
            let two: Vec<usize> = NearOrder::new(6, random, |i| i == 3 || i == 0).take(2).collect();
            assert!(two.contains(&3) && two.contains(&0), "{two:?}");
            let three: Vec<usize> = NearOrder::new(6, random, |i| i == 3).take(3).collect();
            assert_eq!(three[0], 3);
            assert_eq!(three.len(), 3);
            assert!(!three[1..].contains(&3));
        }
    }

    #[test]
    fn no_local_record_is_a_plain_shuffle_of_all() {
        let got = order(5, 42, &[]);
        let mut sorted = got.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
        assert_eq!(order(0, 42, &[]), Vec::<usize>::new());
        assert_eq!(order(1, 42, &[0]), vec![0]);
    }
}
