//! Unit tests of the snapshot: record lists in, lookups by wire name checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::reverse::{reverse_name, MAX_PTRS_PER_ADDRESS};
use super::*;
use crate::wire::{wire_of, wire_to_text};

fn zone() -> Zone {
    Zone::of_default_config()
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
    assert_eq!(r.ns_names().collect::<Vec<_>>(), [&wire_of("ns1.mesos.")[..]]);
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
