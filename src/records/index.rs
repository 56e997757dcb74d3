//! The immutable, wire-ready snapshot the server answers from: every name under the domain, keyed by its
//! lower-case wire form, with its A, AAAA and SRV data ready to copy into a response (the NSD/Knot way:
//! work is done when the snapshot is built, not when a query arrives).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::config::Config;
use crate::records::{RData, RecordList};

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

/// Everything stored at one name. A node with no data is an empty non-terminal (or the apex).
#[derive(Debug, Default)]
pub struct Node {
    /// The name in lower-case wire form.
    pub name: Box<[u8]>,
    pub a: Vec<[u8; 4]>,
    pub aaaa: Vec<[u8; 16]>,
    pub srv: Vec<Srv>,
}

impl Node {
    pub fn is_empty(&self) -> bool {
        self.a.is_empty() && self.aaaa.is_empty() && self.srv.is_empty()
    }
}

/// Where a lower-case wire name falls relative to a snapshot.
pub enum Lookup<'a> {
    /// Not the domain nor below it.
    Outside,
    /// Below the domain, but no such name.
    NotFound,
    /// The name exists (possibly with no data: an empty non-terminal or the apex).
    Found(&'a Node),
}

/// One snapshot of every record.
pub struct Records {
    loaded: bool,
    zone: Zone,
    apex: Box<[u8]>,
    soa_rdata: Box<[u8]>,
    ns_rdata: Box<[u8]>,
    serial: u32,
    index: HashMap<Box<[u8]>, u32, BuildHasherDefault<FxHasher>>,
    nodes: Vec<Node>,
    skipped: usize,
}

impl Records {
    /// The snapshot before the first successful refresh: the domain answers SERVFAIL.
    pub fn unloaded(zone: Zone) -> Records {
        let mut r = Records::empty(zone, 0);
        r.loaded = false;
        r
    }

    /// Builds a snapshot from generated records; `serial` is the SOA serial (Unix time of the refresh).
    /// Records whose names are not valid DNS names under the domain are skipped and counted.
    pub fn build(zone: Zone, list: &RecordList, serial: u32) -> Records {
        let mut r = Records::empty(zone, serial);
        r.index.reserve(list.len());
        r.nodes.reserve(list.len());
        let mut wire = Vec::with_capacity(256);
        let mut target = Vec::with_capacity(256);
        for rec in list.iter() {
            if text_to_wire(&rec.name, &mut wire).is_none() {
                r.skipped += 1;
                continue;
            }
            let Some(id) = r.intern(&wire) else {
                r.skipped += 1;
                continue;
            };
            match &rec.data {
                RData::A(ip) => r.nodes[id as usize].a.push(ip.octets()),
                RData::Aaaa(ip) => r.nodes[id as usize].aaaa.push(ip.octets()),
                RData::Srv { target: t, port } => {
                    let target_id = text_to_wire(t, &mut target).and_then(|()| r.intern(&target));
                    match target_id {
                        Some(target) => r.nodes[id as usize].srv.push(Srv { port: *port, target }),
                        None => r.skipped += 1,
                    }
                }
            }
        }
        r
    }

    fn empty(zone: Zone, serial: u32) -> Records {
        let mut apex = Vec::new();
        if text_to_wire(&zone.domain, &mut apex).is_none() {
            // The config validated the domain; an unusable one serves nothing rather than panicking.
            apex = vec![0];
        }
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
        let mut r = Records {
            loaded: true,
            zone,
            apex: apex.clone().into_boxed_slice(),
            soa_rdata: soa.into_boxed_slice(),
            ns_rdata: mname.into_boxed_slice(),
            serial,
            index: HashMap::default(),
            nodes: Vec::new(),
            skipped: 0,
        };
        r.index.insert(apex.clone().into_boxed_slice(), 0);
        r.nodes.push(Node {
            name: apex.into_boxed_slice(),
            ..Node::default()
        });
        r
    }

    /// The node of `wire` (lower-case, under the apex), creating it and its missing ancestors.
    fn intern(&mut self, wire: &[u8]) -> Option<u32> {
        if let Some(&id) = self.index.get(wire) {
            return Some(id);
        }
        if !is_below(wire, &self.apex) {
            return None;
        }
        // Create ancestors first (empty non-terminals answer NODATA, RFC 8020).
        let parent = &wire[usize::from(wire[0]) + 1..];
        if parent != &*self.apex && !self.index.contains_key(parent) {
            self.intern(parent)?;
        }
        let id = u32::try_from(self.nodes.len()).ok()?;
        self.nodes.push(Node {
            name: wire.into(),
            ..Node::default()
        });
        self.index.insert(wire.into(), id);
        Some(id)
    }

    /// Finds a lower-case wire name.
    pub fn lookup(&self, wire: &[u8]) -> Lookup<'_> {
        if let Some(&id) = self.index.get(wire) {
            return Lookup::Found(&self.nodes[id as usize]);
        }
        if is_below(wire, &self.apex) {
            Lookup::NotFound
        } else {
            Lookup::Outside
        }
    }

    /// The node with this id (SRV targets).
    pub fn node(&self, id: u32) -> Option<&Node> {
        self.nodes.get(id as usize)
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
        self.nodes.len()
    }

    /// Records of the list that could not be stored (invalid or outside the domain).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Counts of (A, AAAA, SRV) records.
    pub fn counts(&self) -> (usize, usize, usize) {
        self.nodes.iter().fold((0, 0, 0), |(a, q, s), n| {
            (a + n.a.len(), q + n.aaaa.len(), s + n.srv.len())
        })
    }
}

/// Whether wire name `name` is `apex` or below it (both lower-case, uncompressed).
fn is_below(name: &[u8], apex: &[u8]) -> bool {
    let mut pos = 0;
    while let Some(&len) = name.get(pos) {
        if &name[pos..] == apex {
            return true;
        }
        if len == 0 {
            return false;
        }
        pos += usize::from(len) + 1;
    }
    false
}

/// Converts a dotted name (trailing dot optional) to lower-case wire form. `None` if a label is empty
/// or over 63 octets, or the name is over 255 octets.
pub fn text_to_wire(name: &str, out: &mut Vec<u8>) -> Option<()> {
    out.clear();
    let name = name.strip_suffix('.').unwrap_or(name);
    if !name.is_empty() {
        for label in name.split('.') {
            if label.is_empty() || label.len() > 63 {
                return None;
            }
            out.push(label.len() as u8);
            out.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
        }
    }
    out.push(0);
    (out.len() <= crate::wire::MAX_NAME_LEN).then_some(())
}

/// A fast non-cryptographic hasher (the rustc "Fx" hash): keys are names from the master's state, and
/// lookups are on the per-query path, where SipHash's cost shows.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    pub(crate) fn zone() -> Zone {
        Zone {
            domain: "mesos".into(),
            ttl: 60,
            soa_mname: "ns1.mesos.".into(),
            soa_rname: "root.ns1.mesos.".into(),
            soa_refresh: 60,
            soa_retry: 600,
            soa_expire: 86400,
            soa_minttl: 60,
            srv_weight: 1,
            recurse_on: true,
            set_truncate_bit: true,
        }
    }

    fn wire(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        text_to_wire(s, &mut v).unwrap();
        v
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
        let Lookup::Found(n) = r.lookup(&wire("nginx.marathon.mesos")) else {
            panic!("nginx missing")
        };
        assert_eq!(n.a, vec![[10, 0, 0, 1]]);
        assert_eq!(n.aaaa.len(), 1);
        let Lookup::Found(ent) = r.lookup(&wire("_tcp.marathon.mesos")) else {
            panic!("ENT missing")
        };
        assert!(ent.is_empty());
        let Lookup::Found(srv) = r.lookup(&wire("_nginx._tcp.marathon.mesos")) else {
            panic!("srv missing")
        };
        let target = r.node(srv.srv[0].target).unwrap();
        assert_eq!(&*target.name, &wire("nginx-x.marathon.slave.mesos")[..]);
        assert!(matches!(r.lookup(&wire("slave.mesos")), Lookup::Found(_)));
        assert!(matches!(r.lookup(&wire("mesos")), Lookup::Found(_)));
        assert!(matches!(r.lookup(&wire("nope.mesos")), Lookup::NotFound));
        assert!(matches!(r.lookup(&wire("www.google.com")), Lookup::Outside));
        assert!(matches!(r.lookup(&wire("notmesos")), Lookup::Outside));
        assert!(matches!(r.lookup(&wire("")), Lookup::Outside));
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
        let mut expect = wire("ns1.mesos.");
        expect.extend_from_slice(&wire("root.ns1.mesos."));
        for v in [7u32, 60, 600, 86400, 60] {
            expect.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(r.soa_rdata(), &expect[..]);
        assert_eq!(r.ns_rdata(), &wire("ns1.mesos.")[..]);
        assert!(r.is_loaded());
        assert!(!Records::unloaded(zone()).is_loaded());
    }

    #[test]
    fn text_to_wire_rejects_bad_names() {
        let mut v = Vec::new();
        assert!(text_to_wire("", &mut v).is_some());
        assert_eq!(v, b"\x00");
        assert!(text_to_wire("A.b.", &mut v).is_some());
        assert_eq!(v, b"\x01a\x01b\x00");
        assert!(text_to_wire(&"a.".repeat(128), &mut v).is_none());
        assert!(text_to_wire(".a", &mut v).is_none());
    }
}
