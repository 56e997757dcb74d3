//! Unit tests of `aRecordLimit`: A and AAAA answers cut to a random few after the shuffle, the same
//! over UDP and TCP, before any truncation; SRV answers and their additional addresses whole.

use std::collections::HashSet;

use super::*;

/// Five A and five AAAA records at one name, a CNAME to it, and an SRV RRset of five targets with one
/// address each.
fn limited(limit: u16) -> Records {
    let mut l = RecordList::new();
    for i in 1..=5u8 {
        l.push("web.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, i)));
        l.push(
            "web.marathon.mesos.",
            RData::Aaaa(Ipv6Addr::new(0xfd01, 0, 0, 0, 0, 0, 0, u16::from(i))),
        );
        let target = format!("web-{i}.marathon.slave.mesos.");
        l.push(&target, RData::A(Ipv4Addr::new(10, 1, 0, i)));
        l.push(
            "_web._tcp.marathon.mesos.",
            RData::Srv {
                target,
                port: 31000 + u16::from(i),
            },
        );
    }
    for i in 0..100u8 {
        l.push("big.marathon.mesos.", RData::A(Ipv4Addr::new(10, 2, 0, i)));
    }
    l.begin_static();
    l.push("www.mesos.", RData::Cname("web.marathon.mesos.".into()));
    let zone = Zone {
        a_records_max: if limit == 0 { usize::MAX } else { usize::from(limit) },
        ..zone()
    };
    Records::build(zone, &l, 1)
}

/// The rdata of the answer section's records of `rrtype`, checked to be distinct.
fn distinct(resp: &[u8], rrtype: u16) -> Vec<Vec<u8>> {
    let got: Vec<_> = section(resp, Section::Answer)
        .into_iter()
        .filter(|r| r.1 == rrtype)
        .map(|r| r.2)
        .collect();
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len(), "{got:?}");
    got
}

#[test]
fn a_and_aaaa_answers_carry_the_limit_over_udp_and_tcp() {
    let r = limited(2);
    for (qtype, len) in [(rtype::A, 4), (rtype::AAAA, 16)] {
        let q = query("web.marathon.mesos", qtype, None);
        for t in [Transport::Udp, Transport::Tcp] {
            for seed in 0..50 {
                let resp = run(&q, &r, t, seed);
                let got = distinct(&resp, qtype);
                assert_eq!(got.len(), 2, "{t:?} seed {seed}");
                assert!(got.iter().all(|d| d.len() == len));
                assert_eq!(flags_of(&resp) & field::TC, 0, "cut, not truncated");
            }
        }
    }
}

#[test]
fn the_records_kept_are_a_random_few_and_each_comes_first() {
    let r = limited(2);
    let q = query("web.marathon.mesos", rtype::A, None);
    let (mut kept, mut firsts, mut pairs) = (HashSet::new(), HashSet::new(), HashSet::new());
    for seed in 0..200 {
        let got = distinct(&run(&q, &r, Transport::Udp, seed), rtype::A);
        firsts.insert(got[0].clone());
        kept.extend(got.iter().cloned());
        let mut pair = got.clone();
        pair.sort();
        pairs.insert(pair);
    }
    assert_eq!(kept.len(), 5, "every address is kept for some query");
    assert_eq!(firsts.len(), 5, "every address comes first for some query");
    // Of five records, every pair: a stride coprime with 5 reaches each from each.
    assert_eq!(pairs.len(), 10);
}

#[test]
fn limit_one_gives_each_address_alone_in_turn() {
    let r = limited(1);
    let q = query("web.marathon.mesos", rtype::A, None);
    let seen: HashSet<_> = (0..100)
        .map(|seed| {
            let got = distinct(&run(&q, &r, Transport::Tcp, seed), rtype::A);
            assert_eq!(got.len(), 1);
            got[0].clone()
        })
        .collect();
    assert_eq!(seen.len(), 5);
}

#[test]
fn zero_or_a_limit_at_or_above_the_count_keeps_every_record_in_the_same_order() {
    let unlimited = limited(0);
    for limit in [5, 6, u16::MAX] {
        let r = limited(limit);
        for (name, qtype) in [("web.marathon.mesos", rtype::A), ("web.marathon.mesos", rtype::AAAA)] {
            let q = query(name, qtype, Some(1232));
            for seed in 0..20 {
                let want = run(&q, &unlimited, Transport::Udp, seed);
                assert_eq!(distinct(&want, qtype).len(), 5);
                assert_eq!(run(&q, &r, Transport::Udp, seed), want, "limit {limit} seed {seed}");
            }
        }
    }
}

#[test]
fn the_limit_is_the_first_records_of_the_unlimited_order() {
    // Shuffle, then cut: the records kept are the first of the order the same query gets without it.
    let (unlimited, r) = (limited(0), limited(3));
    let q = query("web.marathon.mesos", rtype::AAAA, None);
    for seed in 0..20 {
        let all = distinct(&run(&q, &unlimited, Transport::Udp, seed), rtype::AAAA);
        assert_eq!(distinct(&run(&q, &r, Transport::Udp, seed), rtype::AAAA), all[..3]);
    }
}

#[test]
fn the_cut_comes_before_truncation() {
    // 100 records do not fit 512 octets (29 do); 20 fit whole, without TC.
    let r = limited(20);
    let resp = run(&query("big.marathon.mesos", rtype::A, None), &r, Transport::Udp, 3);
    assert_eq!(flags_of(&resp) & field::TC, 0);
    assert_eq!(distinct(&resp, rtype::A).len(), 20);
    // A limit above what fits: cut to 40, then truncated to the 29 that fit, with TC.
    let r = limited(40);
    let resp = run(&query("big.marathon.mesos", rtype::A, None), &r, Transport::Udp, 3);
    assert_ne!(flags_of(&resp) & field::TC, 0);
    assert_eq!(distinct(&resp, rtype::A).len(), 29);
    let tcp = run(&query("big.marathon.mesos", rtype::A, None), &r, Transport::Tcp, 3);
    assert_eq!(distinct(&tcp, rtype::A).len(), 40);
}

#[test]
fn srv_answers_and_their_target_addresses_are_not_limited() {
    let r = limited(1);
    for t in [Transport::Udp, Transport::Tcp] {
        let resp = run(&query("_web._tcp.marathon.mesos", rtype::SRV, Some(1232)), &r, t, 9);
        assert_eq!(distinct(&resp, rtype::SRV).len(), 5, "{t:?}");
        let glue: HashSet<_> = section(&resp, Section::Additional)
            .into_iter()
            .filter(|x| x.1 == rtype::A)
            .map(|x| x.0)
            .collect();
        assert_eq!(glue.len(), 5, "every target's address: {glue:?}");
    }
}

#[test]
fn any_and_an_alias_target_are_limited_too() {
    let r = limited(2);
    let any = run(&query("web.marathon.mesos", rtype::ANY, None), &r, Transport::Tcp, 4);
    assert_eq!(distinct(&any, rtype::A).len(), 2);
    assert_eq!(distinct(&any, rtype::AAAA).len(), 2);
    let alias = run(&query("www.mesos", rtype::A, None), &r, Transport::Udp, 4);
    assert_eq!(distinct(&alias, rtype::CNAME).len(), 1);
    assert_eq!(distinct(&alias, rtype::A).len(), 2);
}

#[test]
fn cut_keeps_at_most_the_limit_of_a_permutation() {
    for n in 0..20 {
        for limit in [0, 1, 3, n, n + 1] {
            let all: Vec<_> = Shuffle::new(n, 11).collect();
            let cut: Vec<_> = Shuffle::new(n, 11).cut(limit).collect();
            assert_eq!(cut, all[..limit.min(n)]);
        }
    }
}
