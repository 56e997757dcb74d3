//! Unit tests of `preferLocalZone`: a query from an agent's address gets its zone's A, AAAA and SRV
//! records first (each group shuffled), a limit filled with local records first, and every other
//! source the answers it had before.

use std::collections::HashSet;
use std::net::IpAddr;

use super::*;
use crate::snapshot::ZoneMap;

/// Four agents (10.1.0.1-4): 1 and 3 in zone eu/eu-1, 2 in eu/eu-2, 4 in none; a task `web` on each
/// with its own address 10.0.0.N (and fd00::N), its agent's at `web-N.marathon.slave.mesos` and an
/// SRV record pointing there. `host` are the server's interface addresses.
fn zoned(limit: usize, host: &[&str]) -> Records {
    let mut l = RecordList::new();
    let fw = l.add_framework("marathon");
    let zones = [Some("eu-1"), Some("eu-2"), Some("eu-1"), None];
    for (i, zone) in (1..=4u8).zip(zones) {
        let agent = format!("a{i}");
        let agent_ip = Ipv4Addr::new(10, 1, 0, i);
        if let Some(zone) = zone {
            l.add_agent_zone(&agent, ("eu", zone), &[IpAddr::V4(agent_ip)]);
        }
        l.begin_task_on(fw, "web", &format!("web.{i}"), &agent);
        l.push("web.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, i)));
        l.push(
            "web.marathon.mesos.",
            RData::Aaaa(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(i))),
        );
        let target = format!("web-{i}.marathon.slave.mesos.");
        l.push(&target, RData::A(agent_ip));
        l.push(
            "_web._tcp.marathon.mesos.",
            RData::Srv {
                target,
                port: 31000 + u16::from(i),
            },
        );
        l.end_task();
    }
    let zone = Zone {
        a_records_max: limit,
        ..zone()
    };
    let host: Vec<IpAddr> = host.iter().map(|h| h.parse().unwrap()).collect();
    let zones = ZoneMap::of_list(&l, &host);
    assert!(zones.is_some());
    Records::build(zone, &l, 1).with_zones(zones)
}

fn from(q: &[u8], r: &Records, source: Option<&str>, random: u64) -> Vec<u8> {
    let mut out = vec![0u8; MAX_MESSAGE];
    let Received::Message(msg) = Received::read(q) else {
        panic!("unreadable query")
    };
    let source = source.map(|s| s.parse().unwrap());
    match answer_from(&msg, r, Transport::Udp, random, source, &mut out) {
        Outcome::Reply(n) => out[..n].to_vec(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn last_octets(resp: &[u8], rrtype: u16) -> Vec<u8> {
    section(resp, Section::Answer)
        .into_iter()
        .filter(|r| r.1 == rrtype)
        .map(|r| *r.2.last().unwrap())
        .collect()
}

#[test]
fn a_and_aaaa_from_an_agent_list_its_zones_tasks_first_in_either_order() {
    let r = zoned(usize::MAX, &[]);
    for qtype in [rtype::A, rtype::AAAA] {
        let q = query("web.marathon.mesos", qtype, None);
        let mut heads = HashSet::new();
        let mut tails = HashSet::new();
        for seed in 0..64 {
            let got = last_octets(&from(&q, &r, Some("10.1.0.3"), seed), qtype);
            assert_eq!(got.len(), 4, "every record: {got:?}");
            let mut head = got[..2].to_vec();
            head.sort_unstable();
            assert_eq!(head, [1, 3], "zone eu-1's tasks first: {got:?}");
            heads.insert(got[0]);
            tails.insert(got[2]);
        }
        assert_eq!(heads.len(), 2, "the local group is shuffled");
        assert_eq!(tails.len(), 2, "so is the rest");
    }
    let got = last_octets(
        &from(&query("web.marathon.mesos", rtype::A, None), &r, Some("10.1.0.2"), 7),
        rtype::A,
    );
    assert_eq!(got[0], 2, "eu-2 has one task: {got:?}");
}

#[test]
fn srv_from_an_agent_lists_its_zones_targets_first_with_their_addresses() {
    let r = zoned(usize::MAX, &[]);
    let q = query("_web._tcp.marathon.mesos", rtype::SRV, Some(1232));
    for seed in 0..32 {
        let resp = from(&q, &r, Some("10.1.0.1"), seed);
        let ports: Vec<u16> = section(&resp, Section::Answer)
            .iter()
            .map(|(_, _, d)| u16::from_be_bytes([d[4], d[5]]))
            .collect();
        assert_eq!(ports.len(), 4);
        let mut head = ports[..2].to_vec();
        head.sort_unstable();
        assert_eq!(head, [31001, 31003], "seed {seed}: {ports:?}");
        // The additional section names each target (through pointers into the SRV records) with its
        // own address.
        for (name, t, d) in section(&resp, Section::Additional)
            .into_iter()
            .filter(|r| r.1 == rtype::A)
        {
            assert_eq!(t, rtype::A);
            assert_eq!(name, format!("web-{}.marathon.slave.mesos.", d[3]), "seed {seed}");
        }
    }
}

#[test]
fn with_a_limit_local_records_fill_the_answer_first() {
    let one = zoned(1, &[]);
    let three = zoned(3, &[]);
    let q = query("web.marathon.mesos", rtype::A, None);
    let mut ones = HashSet::new();
    for seed in 0..64 {
        let got = last_octets(&from(&q, &one, Some("10.1.0.1"), seed), rtype::A);
        assert_eq!(got.len(), 1);
        assert!(got[0] == 1 || got[0] == 3, "{got:?}");
        ones.insert(got[0]);
        let got = last_octets(&from(&q, &three, Some("10.1.0.1"), seed), rtype::A);
        let mut head = got[..2].to_vec();
        head.sort_unstable();
        assert_eq!((got.len(), head), (3, vec![1, 3]), "{got:?}");
        let got = last_octets(&from(&q, &one, Some("10.1.0.2"), seed), rtype::A);
        assert_eq!(got, [2]);
    }
    assert_eq!(ones.len(), 2, "a random one of the local records");
}

#[test]
fn unknown_sources_and_unzoned_snapshots_get_the_answers_of_before() {
    let zoned = zoned(usize::MAX, &[]);
    let plain = {
        let mut r = zoned.clone();
        r = r.with_zones(None);
        r
    };
    for (name, qtype) in [
        ("web.marathon.mesos", rtype::A),
        ("web.marathon.mesos", rtype::AAAA),
        ("_web._tcp.marathon.mesos", rtype::SRV),
    ] {
        let q = query(name, qtype, Some(1232));
        for seed in 0..16 {
            let before = run(&q, &plain, Transport::Udp, seed);
            for source in [
                None,
                Some("10.9.9.9"),
                Some("10.1.0.4"),
                Some("127.0.0.1"),
                Some("10.0.0.1"),
            ] {
                assert_eq!(from(&q, &zoned, source, seed), before, "{name} from {source:?}");
            }
            assert_eq!(from(&q, &plain, Some("10.1.0.1"), seed), before, "no zones: {name}");
        }
    }
}

#[test]
fn loopback_is_the_servers_host_when_the_host_is_an_agent() {
    let r = zoned(usize::MAX, &["127.0.0.1", "10.1.0.2", "::1"]);
    let q = query("web.marathon.mesos", rtype::A, None);
    for seed in 0..16 {
        for source in ["127.0.0.1", "127.0.0.9", "::1"] {
            let got = last_octets(&from(&q, &r, Some(source), seed), rtype::A);
            assert_eq!(got[0], 2, "from {source}: {got:?}");
        }
    }
}
