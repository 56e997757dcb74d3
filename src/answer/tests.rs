//! Unit tests of the answer function: real query packets in, responses decoded and checked.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;
use crate::snapshot::{RData, RecordList, Zone};
use crate::wire::{class, rcode, rtype};
use crate::wire::{NameRef, Section};

fn zone() -> Zone {
    Zone {
        soa_minttl: 30,
        ..Zone::of_default_config()
    }
}

fn snapshot() -> Records {
    let mut l = RecordList::new();
    l.push("nginx.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1)));
    l.push("nginx.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 2)));
    l.push("nginx.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 3)));
    l.push("v6.marathon.mesos.", RData::Aaaa("fd01:b::1".parse().unwrap()));
    l.push("nginx-a.marathon.slave.mesos.", RData::A(Ipv4Addr::new(10, 1, 0, 1)));
    l.push("nginx-b.marathon.slave.mesos.", RData::A(Ipv4Addr::new(10, 1, 0, 2)));
    l.push("nginx-b.marathon.slave.mesos.", RData::Aaaa(Ipv6Addr::LOCALHOST));
    for (t, p) in [("nginx-a", 31000), ("nginx-b", 31001), ("nginx-a", 31002)] {
        l.push(
            "_nginx._tcp.marathon.mesos.",
            RData::Srv {
                target: format!("{t}.marathon.slave.mesos."),
                port: p,
            },
        );
    }
    l.push("ns1.mesos.", RData::A(Ipv4Addr::new(127, 0, 0, 1)));
    for i in 0..100u8 {
        l.push("big.marathon.mesos.", RData::A(Ipv4Addr::new(10, 2, 0, i)));
    }
    Records::build(zone(), &l, 1234)
}

/// A query as dig sends it, with optional EDNS0 payload size.
fn query(name: &str, qtype: u16, edns: Option<u16>) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, u8::from(edns.is_some())];
    for label in name.split('.').filter(|l| !l.is_empty()) {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&class::IN.to_be_bytes());
    if let Some(size) = edns {
        q.extend_from_slice(&[0, 0, 41]);
        q.extend_from_slice(&size.to_be_bytes());
        q.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    q
}

fn run(q: &[u8], r: &Records, t: Transport, random: u64) -> Vec<u8> {
    let mut out = vec![0u8; MAX_MESSAGE];
    match answer(q, r, t, random, &mut out) {
        Outcome::Reply(n) => out[..n].to_vec(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// Name of a record as dotted text (following pointers).
fn text(name: &NameRef<'_>) -> String {
    name.labels()
        .map(|l| String::from_utf8_lossy(l).into_owned() + ".")
        .collect()
}

/// (owner, type, rdata) of every record in a section; an SOA's names written out uncompressed.
fn section(resp: &[u8], s: Section) -> Vec<(String, u16, Vec<u8>)> {
    let m = Message::parse(resp).unwrap();
    m.records(s)
        .map(|r| {
            let rdata = if r.rtype.to_int() == rtype::SOA {
                soa_uncompressed(resp, r.rdata_offset, r.rdata.len())
            } else {
                r.rdata.to_vec()
            };
            (text(&r.name), r.rtype.to_int(), rdata)
        })
        .collect()
}

/// The SOA RDATA at `at` in `resp` (`len` octets) with its two names uncompressed.
fn soa_uncompressed(resp: &[u8], at: usize, len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut next = at;
    for _ in 0..2 {
        let (name, end) = NameRef::parse(resp, next).unwrap();
        for label in name.labels() {
            out.push(label.len() as u8);
            out.extend_from_slice(label);
        }
        out.push(0);
        next = end;
    }
    assert_eq!(at + len - next, 20, "five numbers follow the names");
    out.extend_from_slice(&resp[next..at + len]);
    out
}

#[test]
fn the_soa_names_point_into_the_question_and_at_each_other() {
    let r = snapshot();
    let resp = run(&query("nope.marathon.mesos", rtype::A, None), &r, Transport::Udp, 1);
    let m = Message::parse(&resp).unwrap();
    let soa = m.records(Section::Authority).next().unwrap();
    // ns1 -> mesos. in the question (offset 26); root -> ns1.mesos. just before it.
    let mname_at = soa.rdata_offset;
    let mut expect = b"\x03ns1\xc0\x1a\x04root".to_vec();
    expect.extend_from_slice(&(0xc000 | mname_at as u16).to_be_bytes());
    assert_eq!(&soa.rdata[..expect.len()], &expect[..]);
    assert_eq!(soa.rdata.len(), expect.len() + 20);
    assert_eq!(
        soa_uncompressed(&resp, soa.rdata_offset, soa.rdata.len()),
        r.soa_rdata()
    );
    // A question in another case is not pointed into: the names read back as configured.
    let resp = run(&query("NOPE.Marathon.MESOS", rtype::A, None), &r, Transport::Udp, 1);
    let auth = section(&resp, Section::Authority);
    assert_eq!(auth[0].2, r.soa_rdata());
    let m = Message::parse(&resp).unwrap();
    let soa = m.records(Section::Authority).next().unwrap();
    assert_eq!(&soa.rdata[..11], b"\x03ns1\x05mesos\x00");
}

fn rcode_of(resp: &[u8]) -> u16 {
    let m = Message::parse(resp).unwrap();
    m.full_rcode().to_int()
}

fn flags_of(resp: &[u8]) -> u16 {
    Message::parse(resp).unwrap().flags()
}

#[test]
fn a_query_is_answered_authoritatively_with_every_address() {
    let r = snapshot();
    let resp = run(&query("NGINX.Marathon.mesos", rtype::A, None), &r, Transport::Udp, 1);
    let m = Message::parse(&resp).unwrap();
    assert_eq!(m.id(), 0x1234);
    assert!(m.is_response());
    assert_eq!(
        m.flags() & (field::AA | field::RD | field::RA | field::TC),
        field::AA | field::RD | field::RA
    );
    assert_eq!(m.rcode(), rcode::NOERROR);
    // The question is echoed with the client's case; owners point at it.
    assert_eq!(text(&m.question().unwrap().name), "NGINX.Marathon.mesos.");
    let mut addrs: Vec<_> = section(&resp, Section::Answer)
        .into_iter()
        .map(|(n, t, d)| {
            assert_eq!((n.as_str(), t), ("NGINX.Marathon.mesos.", rtype::A));
            Ipv4Addr::new(d[0], d[1], d[2], d[3])
        })
        .collect();
    addrs.sort();
    assert_eq!(
        addrs,
        [
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::new(10, 0, 0, 3)
        ]
    );
    assert!(section(&resp, Section::Authority).is_empty());
}

#[test]
fn answers_are_shuffled_per_query() {
    let r = snapshot();
    let q = query("nginx.marathon.mesos", rtype::A, None);
    let mut firsts = std::collections::HashSet::new();
    for seed in 0..64 {
        firsts.insert(
            section(&run(&q, &r, Transport::Udp, seed), Section::Answer)[0]
                .2
                .clone(),
        );
    }
    assert_eq!(firsts.len(), 3, "each address comes first for some query");
}

#[test]
fn shuffle_is_a_permutation() {
    for n in 0..50 {
        for seed in 0..20 {
            let mut v: Vec<_> = Shuffle::new(n, seed).collect();
            v.sort();
            assert_eq!(v, (0..n).collect::<Vec<_>>());
        }
    }
}

#[test]
fn aaaa_query_gets_ipv6() {
    let r = snapshot();
    let resp = run(&query("v6.marathon.mesos", rtype::AAAA, None), &r, Transport::Udp, 1);
    let ans = section(&resp, Section::Answer);
    assert_eq!(ans.len(), 1);
    assert_eq!(ans[0].2, "fd01:b::1".parse::<Ipv6Addr>().unwrap().octets());
}

#[test]
fn srv_answer_carries_target_addresses_in_additional() {
    let r = snapshot();
    for seed in 0..8 {
        let resp = run(
            &query("_nginx._tcp.marathon.mesos", rtype::SRV, Some(1232)),
            &r,
            Transport::Udp,
            seed,
        );
        let ans = section(&resp, Section::Answer);
        let mut ports: Vec<_> = ans.iter().map(|(_, _, d)| u16::from_be_bytes([d[4], d[5]])).collect();
        ports.sort();
        assert_eq!(ports, [31000, 31001, 31002]);
        for (_, t, d) in &ans {
            assert_eq!(*t, rtype::SRV);
            assert_eq!(&d[..4], &[0, 0, 0, 1], "priority 0, weight 1");
        }
        let add = section(&resp, Section::Additional);
        let mut glue: Vec<_> = add
            .iter()
            .filter(|(_, t, _)| *t != rtype::OPT)
            .map(|(n, t, _)| (n.clone(), *t))
            .collect();
        glue.sort();
        assert_eq!(
            glue,
            [
                ("nginx-a.marathon.slave.mesos.".to_string(), rtype::A),
                ("nginx-b.marathon.slave.mesos.".to_string(), rtype::A),
                ("nginx-b.marathon.slave.mesos.".to_string(), rtype::AAAA),
            ],
            "seed {seed}"
        );
        assert_eq!(add.last().unwrap().1, rtype::OPT);
    }
}

#[test]
fn unknown_name_gets_nxdomain_with_soa() {
    let r = snapshot();
    let resp = run(&query("nope.Mesos", rtype::A, None), &r, Transport::Udp, 1);
    assert_eq!(rcode_of(&resp), rcode::NXDOMAIN);
    assert_ne!(flags_of(&resp) & field::AA, 0);
    assert!(section(&resp, Section::Answer).is_empty());
    let auth = Message::parse(&resp)
        .unwrap()
        .records(Section::Authority)
        .collect::<Vec<_>>();
    assert_eq!(auth.len(), 1);
    assert_eq!(
        (text(&auth[0].name).as_str(), auth[0].rtype.to_int(), auth[0].ttl),
        ("Mesos.", rtype::SOA, 30)
    );
    assert_eq!(
        soa_uncompressed(&resp, auth[0].rdata_offset, auth[0].rdata.len()),
        r.soa_rdata()
    );
}

#[test]
fn known_name_without_the_type_gets_nodata_with_soa() {
    let r = snapshot();
    for (name, qtype) in [
        ("nginx.marathon.mesos", rtype::AAAA),
        ("nginx.marathon.mesos", rtype::PTR),
        ("_tcp.marathon.mesos", rtype::SRV),
        ("slave.mesos", rtype::A),
        ("marathon.mesos", rtype::A),
        ("nginx.marathon.mesos", rtype::SOA),
        ("nginx.marathon.mesos", rtype::NS),
        ("mesos", rtype::A),
    ] {
        let resp = run(&query(name, qtype, None), &r, Transport::Udp, 1);
        assert_eq!(rcode_of(&resp), rcode::NOERROR, "{name} {qtype}");
        assert!(section(&resp, Section::Answer).is_empty(), "{name} {qtype}");
        let auth = section(&resp, Section::Authority);
        assert_eq!(auth.len(), 1, "{name} {qtype}");
        assert_eq!((auth[0].0.as_str(), auth[0].1), ("mesos.", rtype::SOA));
    }
}

#[test]
fn apex_answers_soa_and_ns_in_the_answer_section() {
    let r = snapshot();
    let soa = run(&query("mesos", rtype::SOA, None), &r, Transport::Udp, 1);
    assert_eq!(
        section(&soa, Section::Answer),
        [("mesos.".to_string(), rtype::SOA, r.soa_rdata().to_vec())]
    );
    assert!(section(&soa, Section::Authority).is_empty());
    let ns = run(&query("mesos", rtype::NS, None), &r, Transport::Udp, 1);
    assert_eq!(
        section(&ns, Section::Answer),
        [("mesos.".to_string(), rtype::NS, b"\x03ns1\x05mesos\x00".to_vec())]
    );
    assert_eq!(
        section(&ns, Section::Additional),
        [("ns1.mesos.".to_string(), rtype::A, vec![127, 0, 0, 1])]
    );
}

#[test]
fn any_is_minimal_over_udp_and_complete_over_tcp() {
    let r = snapshot();
    let q = query("nginx-b.marathon.slave.mesos", rtype::ANY, None);
    let udp = section(&run(&q, &r, Transport::Udp, 1), Section::Answer);
    assert_eq!(udp.len(), 1);
    assert_eq!(udp[0].1, rtype::A);
    let tcp = section(&run(&q, &r, Transport::Tcp, 1), Section::Answer);
    assert_eq!(tcp.iter().map(|x| x.1).collect::<Vec<_>>(), [rtype::A, rtype::AAAA]);
    let apex = section(
        &run(&query("mesos", rtype::ANY, None), &r, Transport::Tcp, 1),
        Section::Answer,
    );
    assert_eq!(apex.iter().map(|x| x.1).collect::<Vec<_>>(), [rtype::SOA, rtype::NS]);
}

#[test]
fn oversized_udp_answer_keeps_the_whole_records_that_fit_with_tc() {
    let r = snapshot();
    let resp = run(&query("big.marathon.mesos", rtype::A, None), &r, Transport::Udp, 1);
    assert!(resp.len() <= 512);
    assert_ne!(flags_of(&resp) & field::TC, 0);
    // 12 header + 24 question, then 16 per A record: (512 - 36) / 16 = 29 records, no partial one.
    let answers = section(&resp, Section::Answer);
    assert_eq!(answers.len(), 29);
    assert!(answers.iter().all(|(_, t, data)| *t == rtype::A && data.len() == 4));
    assert!(
        section(&resp, Section::Authority).is_empty(),
        "no SOA in a truncated answer"
    );
    // A random part of the RRset: another seed starts elsewhere, and no record is given twice.
    let other = section(
        &run(&query("big.marathon.mesos", rtype::A, None), &r, Transport::Udp, 2),
        Section::Answer,
    );
    assert_ne!(answers, other);
    let mut unique: Vec<_> = other.iter().map(|x| x.2.clone()).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), other.len());
    // With EDNS0 the limit is the client's size, capped at ours: 100 x 16 octets still do not fit.
    let resp = run(
        &query("big.marathon.mesos", rtype::A, Some(4096)),
        &r,
        Transport::Udp,
        1,
    );
    assert!(resp.len() <= MAX_UDP_PAYLOAD);
    assert_ne!(flags_of(&resp) & field::TC, 0);
    // (1232 - 36 - 11 OPT) / 16 = 74 records.
    assert_eq!(section(&resp, Section::Answer).len(), 74);
    assert_eq!(section(&resp, Section::Additional).len(), 1, "OPT is kept");
    // Over TCP everything fits.
    let resp = run(&query("big.marathon.mesos", rtype::A, None), &r, Transport::Tcp, 1);
    assert_eq!(flags_of(&resp) & field::TC, 0);
    assert_eq!(section(&resp, Section::Answer).len(), 100);
}

#[test]
fn udp_answer_never_exceeds_the_advertised_size() {
    let r = snapshot();
    for size in [0u16, 100, 512, 513, 700, 1000, 1232, 1500, 4096, 65535] {
        for name in ["big.marathon.mesos", "_nginx._tcp.marathon.mesos", "nope.mesos"] {
            for qtype in [rtype::A, rtype::SRV, rtype::ANY] {
                let resp = run(&query(name, qtype, Some(size)), &r, Transport::Udp, 3);
                assert!(
                    resp.len() <= usize::from(size).clamp(512, MAX_UDP_PAYLOAD),
                    "{name} {size}"
                );
            }
        }
    }
}

#[test]
fn without_truncate_bit_whole_records_that_fit_are_sent_silently() {
    let mut z = zone();
    z.set_truncate_bit = false;
    let mut l = RecordList::new();
    for i in 0..100u8 {
        l.push("big.mesos.", RData::A(Ipv4Addr::new(10, 2, 0, i)));
    }
    let r = Records::build(z, &l, 1);
    let resp = run(&query("big.mesos", rtype::A, None), &r, Transport::Udp, 1);
    assert_eq!(flags_of(&resp) & field::TC, 0);
    // (512 - 12 - 15) / 16 = 30 records.
    assert_eq!(section(&resp, Section::Answer).len(), 30);
}

#[test]
fn edns_query_gets_opt_and_version_1_gets_badvers() {
    let r = snapshot();
    let resp = run(
        &query("nginx.marathon.mesos", rtype::A, Some(1232)),
        &r,
        Transport::Udp,
        1,
    );
    let m = Message::parse(&resp).unwrap();
    assert_eq!(m.edns().unwrap().udp_size, MAX_UDP_PAYLOAD as u16);
    let mut q = query("nginx.marathon.mesos", rtype::A, Some(1232));
    let ver = q.len() - 5;
    q[ver] = 1;
    let resp = run(&q, &r, Transport::Udp, 1);
    assert_eq!(rcode_of(&resp), rcode::BADVERS);
    assert!(section(&resp, Section::Answer).is_empty());
}

#[test]
fn outside_names_are_left_to_the_caller() {
    let r = snapshot();
    let mut out = vec![0u8; 512];
    let q = query("www.google.com", rtype::A, None);
    assert_eq!(answer(&q, &r, Transport::Udp, 1, &mut out), Outcome::Outside);
    assert_eq!(
        answer(&query("mesos.com", rtype::A, None), &r, Transport::Udp, 1, &mut out),
        Outcome::Outside
    );
    let Outcome::Reply(n) = error_reply(&q, rcode::REFUSED, Transport::Udp, &mut out) else {
        panic!()
    };
    let m = Message::parse(&out[..n]).unwrap();
    assert_eq!(m.rcode(), rcode::REFUSED);
    assert_eq!(text(&m.question().unwrap().name), "www.google.com.");
    assert_eq!(m.flags() & field::AA, 0);
}

#[test]
fn domain_gets_servfail_until_the_first_snapshot() {
    let r = Records::unloaded(zone());
    let resp = run(&query("nginx.marathon.mesos", rtype::A, None), &r, Transport::Udp, 1);
    assert_eq!(rcode_of(&resp), rcode::SERVFAIL);
    let resp = run(&query("mesos", rtype::SOA, None), &r, Transport::Udp, 1);
    assert_eq!(rcode_of(&resp), rcode::SERVFAIL);
}

/// Hostile and odd packets, each with the reaction a production server gives.
#[test]
fn hostile_packets_get_the_expected_reaction() {
    #[derive(Debug, PartialEq)]
    enum R {
        Drop,
        Rcode(u16),
    }
    let r = snapshot();
    let good = query("nginx.marathon.mesos", rtype::A, None);
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut q = good.clone();
        f(&mut q);
        q
    };
    let mut label64 = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64];
    label64.extend_from_slice(&[b'a'; 64]);
    label64.extend_from_slice(&[0, 0, 1, 0, 1]);
    let mut long = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for _ in 0..4 {
        long.push(63);
        long.extend_from_slice(&[b'a'; 63]);
    }
    long.extend_from_slice(&[0, 0, 1, 0, 1]);
    let cases: Vec<(&str, Vec<u8>, R)> = vec![
        ("empty", vec![], R::Drop),
        ("shorter than a header", good[..11].to_vec(), R::Drop),
        ("qdcount 0", with(&|q| q[5] = 0), R::Rcode(rcode::FORMERR)),
        ("qdcount 2, one question", with(&|q| q[5] = 2), R::Rcode(rcode::FORMERR)),
        (
            "qdcount 2",
            with(&|q| {
                q[5] = 2;
                let qq = q[12..].to_vec();
                q.extend_from_slice(&qq);
            }),
            R::Rcode(rcode::FORMERR),
        ),
        (
            "compression loop",
            vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 0xc0, 12, 0, 1, 0, 1],
            R::Rcode(rcode::FORMERR),
        ),
        (
            "forward pointer",
            vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0, 0, 1, 0, 1],
            R::Rcode(rcode::FORMERR),
        ),
        (
            "pointer past the end",
            vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 1, 0, 1],
            R::Rcode(rcode::FORMERR),
        ),
        ("label of 64 octets", label64, R::Rcode(rcode::FORMERR)),
        ("name of 256 octets", long, R::Rcode(rcode::FORMERR)),
        ("trailing garbage", with(&|q| q.push(0)), R::Rcode(rcode::FORMERR)),
        ("QR set", with(&|q| q[2] |= 0x80), R::Drop),
        (
            "QR set and malformed",
            with(&|q| {
                q[2] |= 0x80;
                q.push(0)
            }),
            R::Drop,
        ),
        ("opcode NOTIFY", with(&|q| q[2] = 4 << 3), R::Rcode(rcode::NOTIMP)),
        ("opcode UPDATE", with(&|q| q[2] = 5 << 3), R::Rcode(rcode::NOTIMP)),
        (
            "CHAOS version.bind",
            {
                let mut q = query("version.bind", 16, None);
                let n = q.len();
                q[n - 1] = 3;
                q
            },
            R::Rcode(rcode::REFUSED),
        ),
        ("AXFR", query("mesos", rtype::AXFR, None), R::Rcode(rcode::REFUSED)),
        (
            "OPT as qtype",
            query("mesos", rtype::OPT, None),
            R::Rcode(rcode::FORMERR),
        ),
        (
            "EDNS version 1",
            {
                let mut q = query("nginx.marathon.mesos", rtype::A, Some(1232));
                let n = q.len();
                q[n - 5] = 1;
                q
            },
            R::Rcode(rcode::BADVERS),
        ),
        (
            "EDNS payload under 512",
            query("nginx.marathon.mesos", rtype::A, Some(100)),
            R::Rcode(rcode::NOERROR),
        ),
        (
            "two OPT records",
            {
                let mut q = query("nginx.marathon.mesos", rtype::A, Some(1232));
                q[11] = 2;
                q.extend_from_slice(&[0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0]);
                q
            },
            R::Rcode(rcode::FORMERR),
        ),
    ];
    for (what, q, want) in cases {
        let mut out = vec![0u8; MAX_MESSAGE];
        let got = match answer(&q, &r, Transport::Udp, 7, &mut out) {
            Outcome::Drop => R::Drop,
            Outcome::Reply(n) => {
                let resp = &out[..n];
                assert!(n <= 512, "{what}: {n} octets");
                assert_eq!(&resp[..2], &q[..2], "{what}: ID echoed");
                R::Rcode(rcode_of(resp))
            }
            Outcome::Outside => panic!("{what}: outside"),
        };
        assert_eq!(got, want, "{what}");
    }
}

mod limit;
mod near;
mod ptr;
mod statics;
mod wildcard;
