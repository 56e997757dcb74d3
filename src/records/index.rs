//! The immutable, wire-ready snapshot the server answers from: every name under the domain, keyed by its
//! lower-case wire form, with its A, AAAA and SRV data ready to copy into a response (the NSD/Knot way:
//! work is done when the snapshot is built, not when a query arrives). With reverse lookups on, the
//! `in-addr.arpa` / `ip6.arpa` names of known addresses are nodes too (after every name of the domain),
//! each holding its PTR targets.

use crate::config::Config;
use crate::records::names::ByteTable;
use crate::records::reverse::{reverse_name, MAX_PTRS_PER_ADDRESS};
use crate::records::{Data, RecordList};
use crate::wire::{is_at_or_below, parents, text_to_wire};

/// The zone settings a snapshot answers with (taken from the config when it is built).
#[derive(Debug, Clone)]
pub struct Zone {
    /// Lower-case, no trailing dot.
    pub domain: String,
    pub ttl: u32,
    pub soa_mname: String,
    pub soa_rname: String,
    pub soa_refresh: u32,
    pub soa_retry: u32,
    pub soa_expire: u32,
    pub soa_minttl: u32,
    pub srv_weight: u16,
    pub recurse_on: bool,
    pub set_truncate_bit: bool,
}

impl Zone {
    pub fn from_config(c: &Config) -> Zone {
        Zone {
            domain: c.domain.clone(),
            ttl: c.ttl,
            soa_mname: c.soa_mname.clone(),
            soa_rname: c.soa_rname.clone(),
            soa_refresh: c.soa_refresh,
            soa_retry: c.soa_retry,
            soa_expire: c.soa_expire,
            soa_minttl: c.soa_minttl,
            srv_weight: c.srv_record_default_weight,
            recurse_on: c.recurse_on,
            set_truncate_bit: c.set_truncate_bit,
        }
    }
}

/// An SRV record: priority 0, the zone's weight, this port, and the target node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Srv {
    pub port: u16,
    pub target: u32,
}

/// Everything stored at one name, borrowed from the snapshot. A node with no data is an empty
/// non-terminal (or the apex).
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    /// The name in lower-case wire form.
    pub name: &'a [u8],
    pub a: &'a [[u8; 4]],
    pub aaaa: &'a [[u8; 16]],
    pub srv: &'a [Srv],
    /// PTR targets (node ids, names under the domain); only reverse names have any.
    pub ptr: &'a [u32],
}

impl Node<'_> {
    pub fn is_empty(&self) -> bool {
        self.a.is_empty() && self.aaaa.is_empty() && self.srv.is_empty() && self.ptr.is_empty()
    }
}

/// Where a lower-case wire name falls relative to a snapshot.
pub enum Lookup<'a> {
    /// Not the domain nor below it.
    Outside,
    /// Below the domain, but no such name.
    NotFound,
    /// The name exists (possibly with no data: an empty non-terminal or the apex).
    Found(Node<'a>),
    /// The reverse name of an address we know (outside the domain, but ours to answer).
    Reverse(Node<'a>),
}

const NONE: u32 = u32::MAX;

/// One snapshot of every record: names interned in wire form (node id = name id), and the data of all
/// nodes in four flat arrays, node `i` owning `x[x_start[i]..x_start[i + 1]]` of each. Node ids from
/// `first_reverse` on are reverse names.
pub struct Records {
    loaded: bool,
    zone: Zone,
    apex: Box<[u8]>,
    soa_rdata: Box<[u8]>,
    ns_rdata: Box<[u8]>,
    serial: u32,
    names: ByteTable,
    a: Vec<[u8; 4]>,
    aaaa: Vec<[u8; 16]>,
    srv: Vec<Srv>,
    ptr: Vec<u32>,
    /// Per node (and one past the last): where its A, AAAA, SRV and PTR data start in the arrays above,
    /// side by side so that one lookup reads one or two cache lines.
    starts: Vec<[u32; 4]>,
    first_reverse: u32,
    skipped: usize,
    /// The generated records with their tasks, kept for `/v1/enumerate` when it is served.
    list: Option<RecordList>,
}

impl Records {
    /// Keeps the record list this snapshot was built from (for `/v1/enumerate`).
    pub fn with_list(mut self, list: RecordList) -> Records {
        self.list = Some(list);
        self
    }

    /// The record list, if kept.
    pub fn list(&self) -> Option<&RecordList> {
        self.list.as_ref()
    }

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

    /// Finds a lower-case wire name.
    #[inline]
    pub fn lookup(&self, wire: &[u8]) -> Lookup<'_> {
        if let Some(id) = self.names.find(wire) {
            if let Some(node) = self.node(id) {
                return if id < self.first_reverse {
                    Lookup::Found(node)
                } else {
                    Lookup::Reverse(node)
                };
            }
        }
        if is_at_or_below(wire, &self.apex) {
            Lookup::NotFound
        } else {
            Lookup::Outside
        }
    }

    /// The node with this id (SRV targets).
    #[inline]
    pub fn node(&self, id: u32) -> Option<Node<'_>> {
        let i = id as usize;
        let (start, end) = (self.starts.get(i)?, self.starts.get(i + 1)?);
        let range = |k: usize| start[k] as usize..end[k] as usize;
        // Columns as `build` fills them: A, AAAA, SRV, PTR.
        Some(Node {
            name: self.names.get(id),
            a: self.a.get(range(0))?,
            aaaa: self.aaaa.get(range(1))?,
            srv: self.srv.get(range(2))?,
            ptr: self.ptr.get(range(3))?,
        })
    }

    /// Every node of the domain, in id order (the apex first); reverse names are not among them.
    pub fn nodes(&self) -> impl Iterator<Item = Node<'_>> {
        (0..self.first_reverse).filter_map(|id| self.node(id))
    }

    /// How many nodes [`nodes`](Self::nodes) walks: the domain's are ids `0..domain_node_count()` (for
    /// cursors that resume at a node id, the streamed HTTP documents).
    pub fn domain_node_count(&self) -> u32 {
        self.first_reverse
    }

    /// Whether this snapshot came from a successful refresh.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// The domain in lower-case wire form.
    pub fn apex(&self) -> &[u8] {
        &self.apex
    }

    /// Whether `wire` (lower-case) is the domain itself.
    pub fn is_apex(&self, wire: &[u8]) -> bool {
        wire == &*self.apex
    }

    /// The SOA RDATA (names uncompressed).
    pub fn soa_rdata(&self) -> &[u8] {
        &self.soa_rdata
    }

    /// The NS RDATA: `SOAMname`.
    pub fn ns_rdata(&self) -> &[u8] {
        &self.ns_rdata
    }

    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// Number of names (including empty non-terminals and the apex).
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    /// Records of the list that could not be stored (invalid or outside the domain).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Counts of (A, AAAA, SRV) records.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.a.len(), self.aaaa.len(), self.srv.len())
    }

    /// Number of PTR records (reverse lookups).
    pub fn ptr_count(&self) -> usize {
        self.ptr.len()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::RData;
    use crate::wire::{wire_of, wire_to_text};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    pub(crate) fn zone() -> Zone {
        Zone::from_config(&Config::default())
    }

    #[test]
    fn names_become_nodes_with_empty_ancestors() {
        let mut list = RecordList::new();
        list.push("nginx.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1)));
        list.push("nginx.marathon.mesos.", RData::Aaaa(Ipv6Addr::LOCALHOST));
        list.push(
            "_nginx._tcp.marathon.mesos.",
            RData::Srv {
                target: "nginx-x.marathon.slave.mesos.".into(),
                port: 31000,
            },
        );
        let r = Records::build(zone(), &list, 42);
        let Lookup::Found(n) = r.lookup(&wire_of("nginx.marathon.mesos")) else {
            panic!("nginx missing")
        };
        assert_eq!(n.a, vec![[10, 0, 0, 1]]);
        assert_eq!(n.aaaa.len(), 1);
        let Lookup::Found(ent) = r.lookup(&wire_of("_tcp.marathon.mesos")) else {
            panic!("ENT missing")
        };
        assert!(ent.is_empty());
        let Lookup::Found(srv) = r.lookup(&wire_of("_nginx._tcp.marathon.mesos")) else {
            panic!("srv missing")
        };
        let target = r.node(srv.srv[0].target).unwrap();
        assert_eq!(target.name, &wire_of("nginx-x.marathon.slave.mesos")[..]);
        assert!(matches!(r.lookup(&wire_of("slave.mesos")), Lookup::Found(_)));
        assert!(matches!(r.lookup(&wire_of("mesos")), Lookup::Found(_)));
        assert!(matches!(r.lookup(&wire_of("nope.mesos")), Lookup::NotFound));
        assert!(matches!(r.lookup(&wire_of("www.google.com")), Lookup::Outside));
        assert!(matches!(r.lookup(&wire_of("notmesos")), Lookup::Outside));
        assert!(matches!(r.lookup(&wire_of("")), Lookup::Outside));
        assert_eq!(r.counts(), (1, 1, 1));
        assert_eq!(r.serial(), 42);
    }

    #[test]
    fn names_outside_the_domain_or_invalid_are_skipped() {
        let mut list = RecordList::new();
        list.push("www.example.com.", RData::A(Ipv4Addr::LOCALHOST));
        list.push(&format!("{}.mesos.", "a".repeat(64)), RData::A(Ipv4Addr::LOCALHOST));
        list.push("a..mesos.", RData::A(Ipv4Addr::LOCALHOST));
        let r = Records::build(zone(), &list, 1);
        assert_eq!(r.skipped(), 3);
        assert_eq!(r.name_count(), 1);
    }

    #[test]
    fn soa_rdata_is_preencoded() {
        let r = Records::build(zone(), &RecordList::new(), 7);
        let mut expect = wire_of("ns1.mesos.");
        expect.extend_from_slice(&wire_of("root.ns1.mesos."));
        for v in [7u32, 60, 600, 86400, 60] {
            expect.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(r.soa_rdata(), &expect[..]);
        assert_eq!(r.ns_rdata(), &wire_of("ns1.mesos.")[..]);
        assert!(r.is_loaded());
        assert!(!Records::unloaded(zone()).is_loaded());
    }

    /// The PTR targets at the reverse name of `ip`, as text; `None` unless it is a reverse node.
    fn ptrs(r: &Records, ip: IpAddr) -> Option<Vec<String>> {
        let mut name = Vec::new();
        match ip {
            IpAddr::V4(v4) => reverse_name(&v4.octets(), &mut name),
            IpAddr::V6(v6) => reverse_name(&v6.octets(), &mut name),
        }
        let Lookup::Reverse(node) = r.lookup(&name) else {
            return None;
        };
        assert!(node.a.is_empty() && node.aaaa.is_empty() && node.srv.is_empty());
        Some(
            node.ptr
                .iter()
                .map(|&t| wire_to_text(r.node(t).unwrap().name))
                .collect(),
        )
    }

    #[test]
    fn marked_addresses_get_reverse_nodes_and_nothing_else_does() {
        let mut list = RecordList::new();
        let task: IpAddr = "10.3.0.7".parse().unwrap();
        let v6: IpAddr = "fd01:b::1:8000:2".parse().unwrap();
        list.push_ip_reverse("slave.mesos.", "10.0.0.5".parse().unwrap());
        list.push_ip_reverse("web.marathon.mesos.", task);
        list.push_ip_reverse("web-abcde-s1.marathon.mesos.", task);
        list.push_ip_reverse("web.marathon.mesos.", v6);
        list.push_ip("web.marathon.slave.mesos.", "10.0.0.5".parse().unwrap());
        list.push_ip("leader.mesos.", "10.0.0.9".parse().unwrap());
        let r = Records::build(zone(), &list, 1);
        assert_eq!(ptrs(&r, "10.0.0.5".parse().unwrap()).unwrap(), ["slave.mesos."]);
        assert_eq!(
            ptrs(&r, task).unwrap(),
            ["web.marathon.mesos.", "web-abcde-s1.marathon.mesos."],
            "in generation order"
        );
        assert_eq!(ptrs(&r, v6).unwrap(), ["web.marathon.mesos."]);
        assert_eq!(ptrs(&r, "10.0.0.9".parse().unwrap()), None, "not marked");
        assert_eq!(r.ptr_count(), 4);
        assert_eq!(r.counts(), (5, 1, 0), "the forward records are all there");
        // Only whole addresses: the reverse tree above them is not ours.
        for outside in ["3.10.in-addr.arpa", "in-addr.arpa", "arpa", "8.0.0.7.3.10.in-addr.arpa"] {
            assert!(matches!(r.lookup(&wire_of(outside)), Lookup::Outside), "{outside}");
        }
        assert!(
            r.nodes().all(|n| n.ptr.is_empty()),
            "reverse names are not the domain's nodes"
        );
        assert!(r.nodes().any(|n| n.name == &wire_of("slave.mesos")[..]));
    }

    #[test]
    fn an_address_shared_by_many_names_keeps_the_first_four() {
        let mut list = RecordList::new();
        let shared: IpAddr = "172.17.0.2".parse().unwrap();
        for i in 0..10 {
            list.push_ip_reverse(&format!("t{i}.marathon.mesos."), shared);
        }
        list.push_ip_reverse("other.marathon.mesos.", "172.17.0.3".parse().unwrap());
        let r = Records::build(zone(), &list, 1);
        assert_eq!(
            ptrs(&r, shared).unwrap(),
            [
                "t0.marathon.mesos.",
                "t1.marathon.mesos.",
                "t2.marathon.mesos.",
                "t3.marathon.mesos."
            ]
        );
        assert_eq!(
            ptrs(&r, "172.17.0.3".parse().unwrap()).unwrap(),
            ["other.marathon.mesos."],
            "the next node's slots are its own"
        );
        assert_eq!(r.ptr_count(), MAX_PTRS_PER_ADDRESS + 1);
    }

    #[test]
    fn names_outside_the_domain_give_no_reverse_node() {
        let mut list = RecordList::new();
        list.push_ip_reverse("www.example.com.", "10.0.0.1".parse().unwrap());
        let r = Records::build(zone(), &list, 1);
        assert_eq!(ptrs(&r, "10.0.0.1".parse().unwrap()), None);
        assert_eq!(r.ptr_count(), 0);
        assert_eq!(r.name_count(), 1);
    }
}
