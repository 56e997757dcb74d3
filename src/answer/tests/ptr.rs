//! Unit tests of reverse lookups (`PTROn`): PTR answers at the reverse names of known addresses, and
//! every other reverse name left to the caller (relayed).

use std::net::IpAddr;

use super::*;
use crate::wire::wire_of;

const TASK_IP: &str = "10.3.0.7";
const TASK_REV: &str = "7.0.3.10.in-addr.arpa";
const V6_REV: &str = "2.0.0.0.0.0.0.8.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.0.0.0.1.0.d.f.ip6.arpa";

/// Records as generation marks them with `PTROn`: an agent, a task with its own address (two names)
/// and an IPv6 address, and a record that is not marked.
fn reverse_snapshot() -> Records {
    let mut l = RecordList::new();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    l.push_ip_reverse("slave.mesos.", ip("10.0.0.5"));
    l.push_ip_reverse("web.marathon.mesos.", ip(TASK_IP));
    l.push_ip_reverse("web-abcde-s1.marathon.mesos.", ip(TASK_IP));
    l.push_ip_reverse("web.marathon.mesos.", ip("fd01:b::1:8000:2"));
    l.push_ip("web.marathon.slave.mesos.", ip("10.0.0.5"));
    l.push_ip("leader.mesos.", ip("10.0.0.9"));
    Records::build(zone(), &l, 1234)
}

/// The PTR targets of the answer section, decoded through compression pointers.
fn ptr_targets(resp: &[u8]) -> Vec<String> {
    let m = Message::parse(resp).unwrap();
    m.records(Section::Answer)
        .map(|rr| {
            assert_eq!(rr.rtype, rtype::PTR);
            let (name, end) = NameRef::parse(resp, rr.rdata_offset).unwrap();
            assert_eq!(end, rr.rdata_offset + rr.rdata.len(), "RDATA is exactly the name");
            text(&name)
        })
        .collect()
}

#[test]
fn ptr_answer_bytes_name_the_task_then_its_unique_name_compressed() {
    let r = reverse_snapshot();
    let q = query(TASK_REV, rtype::PTR, None);
    let resp = run(&q, &r, Transport::Udp, 1);
    let mut want = vec![0x12, 0x34, 0x85, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    want.extend_from_slice(&q[HEADER_LEN..]);
    // First PTR: owner -> the question, type PTR, class IN, TTL 60, the whole target.
    let first = wire_of("web.marathon.mesos.");
    want.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, first.len() as u8]);
    let first_at = want.len();
    want.extend_from_slice(&first);
    // Second: its own labels up to the domain, then a pointer to `mesos.` inside the first.
    let mesos_at = first_at + first.len() - wire_of("mesos.").len();
    let prefix = b"\x0cweb-abcde-s1\x08marathon";
    want.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, (prefix.len() + 2) as u8]);
    want.extend_from_slice(prefix);
    want.extend_from_slice(&[0xc0, mesos_at as u8]);
    assert_eq!(resp, want);
    // The names read back through the pointers, in the same order for every query (not shuffled).
    for seed in 0..8 {
        assert_eq!(
            ptr_targets(&run(&q, &r, Transport::Udp, seed)),
            ["web.marathon.mesos.", "web-abcde-s1.marathon.mesos."]
        );
    }
}

#[test]
fn ptr_targets_decode_and_the_question_keeps_its_case() {
    let r = reverse_snapshot();
    let resp = run(
        &query("7.0.3.10.IN-ADDR.Arpa", rtype::PTR, Some(1232)),
        &r,
        Transport::Tcp,
        9,
    );
    let m = Message::parse(&resp).unwrap();
    assert_eq!(m.rcode(), rcode::NOERROR);
    assert_ne!(m.flags() & field::AA, 0, "authoritative");
    assert_eq!(text(&m.question().unwrap().name), "7.0.3.10.IN-ADDR.Arpa.");
    assert!(m
        .records(Section::Answer)
        .all(|rr| text(&rr.name) == "7.0.3.10.IN-ADDR.Arpa."));
    assert_eq!(
        ptr_targets(&resp),
        ["web.marathon.mesos.", "web-abcde-s1.marathon.mesos."]
    );
    assert!(m.edns().is_some(), "OPT echoed");
}

#[test]
fn ipv6_and_agent_addresses_get_their_names() {
    let r = reverse_snapshot();
    for (name, want) in [
        (V6_REV, "web.marathon.mesos."),
        ("5.0.0.10.in-addr.arpa", "slave.mesos."),
    ] {
        let resp = run(&query(name, rtype::PTR, None), &r, Transport::Udp, 1);
        let ans = section(&resp, Section::Answer);
        assert_eq!(ans.len(), 1, "{name}");
        assert_eq!(ans[0].2, wire_of(want), "{name}: the first target is written whole");
        assert_ne!(flags_of(&resp) & field::AA, 0);
    }
}

#[test]
fn any_at_a_known_reverse_name_gives_its_ptrs() {
    let r = reverse_snapshot();
    for t in [Transport::Udp, Transport::Tcp] {
        let ans = section(&run(&query(TASK_REV, rtype::ANY, None), &r, t, 1), Section::Answer);
        assert_eq!(ans.len(), 2, "{t:?}");
        assert!(ans.iter().all(|a| a.1 == rtype::PTR));
    }
}

#[test]
fn other_types_at_a_known_reverse_name_get_nodata_with_the_soa_owned_by_it() {
    let r = reverse_snapshot();
    for qtype in [rtype::A, rtype::AAAA, rtype::SRV, rtype::SOA, rtype::NS, 16] {
        let resp = run(&query(TASK_REV, qtype, None), &r, Transport::Udp, 1);
        assert_eq!(rcode_of(&resp), rcode::NOERROR, "{qtype}");
        assert_ne!(flags_of(&resp) & field::AA, 0, "{qtype}");
        assert!(section(&resp, Section::Answer).is_empty(), "{qtype}");
        let auth = section(&resp, Section::Authority);
        assert_eq!(auth.len(), 1, "{qtype}");
        assert_eq!((auth[0].0.as_str(), auth[0].1), ("7.0.3.10.in-addr.arpa.", rtype::SOA));
        assert_eq!(auth[0].2, r.soa_rdata());
    }
}

#[test]
fn unknown_and_partial_reverse_names_are_left_to_the_caller() {
    let r = reverse_snapshot();
    let mut out = vec![0u8; 512];
    for name in [
        "9.0.0.10.in-addr.arpa",   // an address with no PTR mark (leader)
        "8.0.3.10.in-addr.arpa",   // unknown
        "0.3.10.in-addr.arpa",     // the tree above a known address
        "x.7.0.3.10.in-addr.arpa", // below one
        "in-addr.arpa",
        "3.0.0.0.0.0.0.8.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.0.0.0.1.0.d.f.ip6.arpa",
    ] {
        let q = query(name, rtype::PTR, None);
        assert_eq!(answer(&q, &r, Transport::Udp, 1, &mut out), Outcome::Outside, "{name}");
    }
}

#[test]
fn without_reverse_marks_a_ptr_query_is_outside_as_before() {
    // `PTROn` false: generation marks nothing, so the snapshot has no reverse names at all.
    let r = snapshot();
    let mut out = vec![0u8; 512];
    for name in ["1.0.0.10.in-addr.arpa", "1.0.1.10.in-addr.arpa", TASK_REV] {
        let q = query(name, rtype::PTR, None);
        assert_eq!(answer(&q, &r, Transport::Udp, 1, &mut out), Outcome::Outside, "{name}");
    }
}

#[test]
fn oversized_ptr_rrset_keeps_the_first_names_that_fit_over_udp_and_is_whole_over_tcp() {
    let mut l = RecordList::new();
    let ip: IpAddr = TASK_IP.parse().unwrap();
    let long = format!("{0}.{0}.{0}", "x".repeat(63));
    for i in 0..4 {
        l.push_ip_reverse(&format!("{long}.t{i}.marathon.mesos."), ip);
    }
    let r = Records::build(zone(), &l, 1);
    let q = query(TASK_REV, rtype::PTR, None);
    let udp = run(&q, &r, Transport::Udp, 1);
    assert!(udp.len() <= 512);
    assert_ne!(flags_of(&udp) & field::TC, 0);
    let want: Vec<String> = (0..4).map(|i| format!("{long}.t{i}.marathon.mesos.")).collect();
    // Each target is over 200 octets even with its domain compressed: two fit in 512, the third not.
    // The names kept are the first ones, in order.
    assert_eq!(ptr_targets(&udp), want[..2]);
    let tcp = run(&q, &r, Transport::Tcp, 1);
    assert_eq!(flags_of(&tcp) & field::TC, 0);
    assert_eq!(ptr_targets(&tcp), want);
}
