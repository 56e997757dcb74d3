//! Building a [`Records`] snapshot from a [`RecordList`]: text names to interned wire names (with their
//! empty ancestors), reverse names for the addresses marked for PTR records, and every node's data placed
//! side by side by a counting sort. The work of answering is done here, once per refresh.

use super::{Records, Srv};
use crate::snapshot::list::Data;
use crate::snapshot::names::ByteTable;
use crate::snapshot::reverse::{reverse_name, MAX_PTRS_PER_ADDRESS};
use crate::snapshot::{RecordList, Zone};
use crate::wire::{is_at_or_below, parents, text_to_wire};

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
        let mut wire = Vec::with_capacity(256);
        let apex = match text_to_wire(&zone.domain, &mut wire) {
            Some(()) => wire.clone(),
            // The config validated the domain; an unusable one serves nothing rather than panicking.
            None => vec![0],
        };
        let text = list.names();
        let mut names = ByteTable::with_capacity(text.len() + text.len() / 4 + 1);
        let _ = names.intern(&apex);
        // Text name id -> node id, with the ancestors of every name interned as well (empty
        // non-terminals answer NODATA, RFC 8020).
        let mut node_of = vec![NONE; text.len()];
        for (id, node) in node_of.iter_mut().enumerate() {
            let Ok(name) = std::str::from_utf8(text.get(id as u32)) else {
                continue;
            };
            if text_to_wire(name, &mut wire).is_some() && is_at_or_below(&wire, &apex) {
                *node = intern_with_ancestors(&mut names, &wire, &apex).unwrap_or(NONE);
            }
        }
        let node = |id: u32| node_of.get(id as usize).copied().unwrap_or(NONE);
        // Reverse names after every name of the domain, alone (no ancestors: we answer for known
        // addresses, not for the reverse tree); (reverse node, target node) in generation order.
        let first_reverse = names.len() as u32;
        let mut ptr_pairs = Vec::new();
        for (name, data) in list.reverse_entries() {
            let target = node(name);
            match data {
                _ if target == NONE => continue,
                Data::A(ip) => reverse_name(&ip, &mut wire),
                Data::Aaaa(ip) => reverse_name(&ip, &mut wire),
                Data::Srv { .. } => continue,
            }
            // A domain under `arpa` would hold the reverse name already: it is not answered twice.
            if is_at_or_below(&wire, &apex) {
                continue;
            }
            if let Some(id) = names.intern(&wire) {
                ptr_pairs.push((id, target));
            }
        }
        let nodes = names.len();
        // Two passes: count each node's records, then place them (a counting sort by node). Columns of
        // `starts`: A, AAAA, SRV, PTR.
        const A: usize = 0;
        const AAAA: usize = 1;
        const SRV: usize = 2;
        const PTR: usize = 3;
        let mut starts = vec![[0u32; 4]; nodes + 1];
        for &(n, _) in &ptr_pairs {
            if let Some(c) = starts.get_mut(n as usize + 1).map(|s| &mut s[PTR]) {
                if (*c as usize) < MAX_PTRS_PER_ADDRESS {
                    *c += 1;
                }
            }
        }
        let mut skipped = 0;
        for (name, data) in list.entries() {
            let n = node(name) as usize;
            let column = match data {
                _ if n >= nodes => None,
                Data::A(_) => Some(A),
                Data::Aaaa(_) => Some(AAAA),
                Data::Srv { target, .. } if node(target) != NONE => Some(SRV),
                Data::Srv { .. } => None,
            };
            match column.zip(starts.get_mut(n + 1)) {
                Some((k, s)) => s[k] += 1,
                None => skipped += 1,
            }
        }
        let mut sum = [0u32; 4];
        for counts in &mut starts {
            for (count, total) in counts.iter_mut().zip(&mut sum) {
                *total += *count;
                *count = *total;
            }
        }
        let total = |k: usize| starts[nodes][k] as usize;
        let mut a = vec![[0u8; 4]; total(A)];
        let mut aaaa = vec![[0u8; 16]; total(AAAA)];
        let mut srv = vec![Srv { port: 0, target: 0 }; total(SRV)];
        let mut ptr = vec![0u32; total(PTR)];
        // Where each node's next record of each kind goes.
        let mut next = starts.clone();
        for (n, target) in ptr_pairs {
            let n = n as usize;
            // Past the cap, the slots of the next node begin.
            if let (Some(at), Some(end)) = (next.get_mut(n), starts.get(n + 1)) {
                if at[PTR] < end[PTR] {
                    place(&mut ptr, &mut at[PTR], target);
                }
            }
        }
        for (name, data) in list.entries() {
            let n = node(name) as usize;
            let Some(at) = next.get_mut(n).filter(|_| n < nodes) else {
                continue;
            };
            match data {
                Data::A(ip) => place(&mut a, &mut at[A], ip),
                Data::Aaaa(ip) => place(&mut aaaa, &mut at[AAAA], ip),
                Data::Srv { target, port } => {
                    let target = node(target);
                    if target != NONE {
                        place(&mut srv, &mut at[SRV], Srv { port, target });
                    }
                }
            }
        }
        drop(next);
        names.shrink_to_fit();
        let mut mname = Vec::new();
        let mut rname = Vec::new();
        if text_to_wire(&zone.soa_mname, &mut mname).is_none() {
            mname = vec![0];
        }
        if text_to_wire(&zone.soa_rname, &mut rname).is_none() {
            rname = vec![0];
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
        Records {
            loaded: true,
            zone,
            apex: apex.into_boxed_slice(),
            soa_rdata: soa.into_boxed_slice(),
            ns_rdata: mname.into_boxed_slice(),
            serial,
            names,
            a,
            aaaa,
            srv,
            ptr,
            starts,
            first_reverse,
            skipped,
            list: None,
        }
    }
}

/// Puts `value` at `*at` and advances it (the slot was counted, so it exists).
fn place<T>(array: &mut [T], at: &mut u32, value: T) {
    if let Some(slot) = array.get_mut(*at as usize) {
        *slot = value;
        *at += 1;
    }
}

/// Interns `wire` and every ancestor of it below `apex`; the id of `wire`.
fn intern_with_ancestors(names: &mut ByteTable, wire: &[u8], apex: &[u8]) -> Option<u32> {
    if let Some(id) = names.find(wire) {
        return Some(id);
    }
    let id = names.intern(wire)?;
    for parent in parents(wire) {
        if parent.len() <= apex.len() || names.find(parent).is_some() {
            break;
        }
        names.intern(parent)?;
    }
    Some(id)
}
