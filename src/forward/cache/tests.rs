//! The cache on virtual time: what is kept and for how long, what a hit looks like, eviction,
//! serve-stale and the prefetch decision. Messages are built by hand (uncompressed names).

use super::*;
use crate::wire::{rcode, rtype};
use crate::wire::{Message, Section};

/// The cache fed bytes, as the tests build them (the relay feeds it parsed messages).
trait Bytes {
    fn store_bytes(&mut self, query: &[u8], answer: &[u8], now: Instant) -> bool;
}

impl Bytes for Cache {
    fn store_bytes(&mut self, query: &[u8], answer: &[u8], now: Instant) -> bool {
        match (Message::parse(query), Message::parse(answer)) {
            (Ok(q), Ok(a)) => self.store(&q, &a, now),
            _ => false,
        }
    }
}

const S: Duration = Duration::from_secs(1);
const WWW: &str = "www.google.com";

fn wire_name(name: &str) -> Vec<u8> {
    let mut w = Vec::new();
    for label in name.split('.').filter(|l| !l.is_empty()) {
        w.push(label.len() as u8);
        w.extend_from_slice(label.as_bytes());
    }
    w.push(0);
    w
}

/// A query for `name`, with an OPT record (DO as given) if `edns`.
fn query_with(id: u16, name: &str, qtype: u16, edns: Option<bool>) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0x01, 0, 0, 1, 0, 0, 0, 0, 0, u8::from(edns.is_some())]);
    q.extend_from_slice(&wire_name(name));
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    if let Some(dnssec_ok) = edns {
        q.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, if dnssec_ok { 0x80 } else { 0 }, 0, 0, 0]);
    }
    q
}

fn query(id: u16, name: &str) -> Vec<u8> {
    query_with(id, name, rtype::A, None)
}

/// One record, its owner uncompressed.
struct Rr {
    owner: String,
    rtype: u16,
    ttl: u32,
    rdata: Vec<u8>,
}

fn a(owner: &str, ttl: u32, ip: [u8; 4]) -> Rr {
    Rr {
        owner: owner.into(),
        rtype: rtype::A,
        ttl,
        rdata: ip.to_vec(),
    }
}

fn cname(owner: &str, ttl: u32, target: &str) -> Rr {
    Rr {
        owner: owner.into(),
        rtype: rtype::CNAME,
        ttl,
        rdata: wire_name(target),
    }
}

fn soa(zone: &str, ttl: u32, minimum: u32) -> Rr {
    let mut rdata = wire_name(&format!("ns1.{zone}"));
    rdata.extend_from_slice(&wire_name(&format!("hostmaster.{zone}")));
    for v in [2024, 7200, 900, 1_209_600, minimum] {
        rdata.extend_from_slice(&u32::to_be_bytes(v));
    }
    Rr {
        owner: zone.into(),
        rtype: rtype::SOA,
        ttl,
        rdata,
    }
}

fn ns(owner: &str, ttl: u32, target: &str) -> Rr {
    Rr {
        owner: owner.into(),
        rtype: rtype::NS,
        ttl,
        rdata: wire_name(target),
    }
}

/// An upstream's answer to `query` (its question, as written), with `flags` over QR RD RA.
fn response(query: &[u8], flags: u16, code: u16, sections: [&[Rr]; 3]) -> Vec<u8> {
    let q = Message::parse(query).unwrap().question().unwrap();
    let mut m = query[..2].to_vec();
    m.extend_from_slice(&(field::QR | field::RD | field::RA | flags | code).to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    for s in sections {
        m.extend_from_slice(&(s.len() as u16).to_be_bytes());
    }
    m.extend_from_slice(q.raw);
    for s in sections {
        for r in s {
            m.extend_from_slice(&wire_name(&r.owner));
            m.extend_from_slice(&r.rtype.to_be_bytes());
            m.extend_from_slice(&[0, 1]);
            m.extend_from_slice(&r.ttl.to_be_bytes());
            m.extend_from_slice(&(r.rdata.len() as u16).to_be_bytes());
            m.extend_from_slice(&r.rdata);
        }
    }
    m
}

fn noerror(query: &[u8], answers: &[Rr]) -> Vec<u8> {
    response(query, 0, rcode::NOERROR, [answers, &[], &[]])
}

fn cache(max_entries: usize, serve_stale: Duration) -> Cache {
    Cache::new(CacheConfig {
        max_entries,
        serve_stale,
    })
}

/// Looks `query` up over TCP (no size limit); the reply if it hit.
fn hit(c: &mut Cache, query: &[u8], now: Instant) -> Option<Vec<u8>> {
    let mut out = vec![0u8; 65535];
    match c.lookup(&Message::parse(query).unwrap(), Transport::Tcp, now, &mut out) {
        Lookup::Hit { len, .. } => Some(out[..len].to_vec()),
        Lookup::Miss => None,
    }
}

fn ttls(reply: &[u8], section: Section) -> Vec<u32> {
    Message::parse(reply).unwrap().records(section).map(|r| r.ttl).collect()
}

#[test]
fn a_repeated_question_is_answered_under_the_clients_id_with_ttls_aged() {
    let mut c = cache(10, Duration::ZERO);
    let t0 = Instant::now();
    let q = query(0x1111, WWW);
    let up = noerror(&q, &[a(WWW, 300, [127, 1, 2, 3]), a(WWW, 600, [127, 1, 2, 4])]);
    assert!(c.store_bytes(&q, &up, t0));
    let reply = hit(&mut c, &query(0x2222, WWW), t0 + S * 3 / 2).expect("a hit");
    assert_eq!(&reply[..2], &[0x22, 0x22], "the client's ID");
    assert_eq!(reply[2..12], up[2..12], "the upstream's flags and counts");
    assert_eq!(
        ttls(&reply, Section::Answer),
        [299, 599],
        "one whole second in the cache"
    );
    assert_eq!(reply.len(), up.len());
    let reply = hit(&mut c, &query(0x3333, WWW), t0 + S * 299).expect("still fresh");
    assert_eq!(ttls(&reply, Section::Answer), [1, 301]);
    assert_eq!(
        hit(&mut c, &query(0x4444, WWW), t0 + S * 300),
        None,
        "expired with its shortest TTL"
    );
    assert_eq!((c.stats.hits, c.stats.misses, c.stats.entries), (2, 1, 1));
}

#[test]
fn an_unknown_question_is_a_miss() {
    let mut c = cache(10, Duration::ZERO);
    let t0 = Instant::now();
    let q = query(1, WWW);
    c.store_bytes(&q, &noerror(&q, &[a(WWW, 60, [127, 1, 2, 3])]), t0);
    assert_eq!(hit(&mut c, &query(2, "mail.google.com"), t0), None);
    assert_eq!(
        hit(&mut c, &query_with(2, WWW, rtype::AAAA, None), t0),
        None,
        "another type"
    );
    assert_eq!(c.stats.misses, 2);
}

#[test]
fn the_clients_question_case_is_echoed_0x20() {
    let mut c = cache(10, Duration::ZERO);
    let t0 = Instant::now();
    let q = query(1, WWW);
    c.store_bytes(&q, &noerror(&q, &[a(WWW, 60, [127, 1, 2, 3])]), t0);
    let mixed = query(2, "wWw.GoOGle.cOm");
    let reply = hit(&mut c, &mixed, t0).expect("case does not matter");
    assert_eq!(reply[12..mixed.len()], mixed[12..], "the client's question bytes");
    // And stored from a mixed-case query, a lower-case one hits too.
    let mut c = cache(10, Duration::ZERO);
    c.store_bytes(&mixed, &noerror(&mixed, &[a("WWW.google.com", 60, [127, 1, 2, 3])]), t0);
    let reply = hit(&mut c, &q, t0).expect("hit");
    assert_eq!(reply[12..q.len()], q[12..]);
}

#[test]
fn nxdomain_and_nodata_live_for_the_soa_minimum_or_its_ttl_whichever_is_less() {
    let t0 = Instant::now();
    let mut c = cache(10, Duration::ZERO);
    let q = query(1, "nope.example.org");
    let up = response(&q, 0, rcode::NXDOMAIN, [&[], &[soa("example.org", 3600, 60)], &[]]);
    assert!(c.store_bytes(&q, &up, t0));
    let reply = hit(&mut c, &query(2, "nope.example.org"), t0 + S * 59).expect("negative hit");
    let m = Message::parse(&reply).unwrap();
    assert_eq!(m.rcode(), rcode::NXDOMAIN);
    assert_eq!(ttls(&reply, Section::Authority), [3541], "the SOA's TTL aged");
    assert_eq!(
        hit(&mut c, &query(3, "nope.example.org"), t0 + S * 60),
        None,
        "SOA minimum 60"
    );
    // NODATA: the SOA's own TTL is the shorter.
    let q = query_with(1, WWW, rtype::AAAA, None);
    let up = response(&q, 0, rcode::NOERROR, [&[], &[soa("google.com", 30, 300)], &[]]);
    assert!(c.store_bytes(&q, &up, t0));
    assert!(hit(&mut c, &query_with(2, WWW, rtype::AAAA, None), t0 + S * 29).is_some());
    assert!(hit(&mut c, &query_with(2, WWW, rtype::AAAA, None), t0 + S * 30).is_none());
}

#[test]
fn negative_answers_without_a_soa_of_the_names_zone_are_not_cached() {
    let t0 = Instant::now();
    let mut c = cache(10, Duration::ZERO);
    let q = query(1, "nope.example.org");
    let no_soa = response(&q, 0, rcode::NXDOMAIN, [&[], &[], &[]]);
    assert!(
        !c.store_bytes(&q, &no_soa, t0),
        "RFC 2308 5: no SOA, no negative caching"
    );
    let other_zone = response(&q, 0, rcode::NXDOMAIN, [&[], &[soa("example.com", 60, 60)], &[]]);
    assert!(!c.store_bytes(&q, &other_zone, t0), "a SOA of another zone");
    let suffix_not_label = response(&q, 0, rcode::NXDOMAIN, [&[], &[soa("ple.org", 60, 60)], &[]]);
    assert!(
        !c.store_bytes(&q, &suffix_not_label, t0),
        "ple.org does not hold example.org"
    );
    let with_ns = response(
        &q,
        0,
        rcode::NXDOMAIN,
        [
            &[],
            &[soa("example.org", 60, 60), ns("example.org", 60, "ns.evil.net")],
            &[],
        ],
    );
    assert!(
        !c.store_bytes(&q, &with_ns, t0),
        "only denial records in a cached authority section"
    );
    assert_eq!(c.stats.entries, 0);
}

#[test]
fn servfail_refused_truncated_and_timeless_answers_are_never_cached() {
    let t0 = Instant::now();
    let mut c = cache(10, Duration::from_secs(3600));
    let q = query(1, WWW);
    let rr = [a(WWW, 60, [127, 1, 2, 3])];
    for (what, up) in [
        ("SERVFAIL", response(&q, 0, rcode::SERVFAIL, [&[], &[], &[]])),
        ("REFUSED", response(&q, 0, rcode::REFUSED, [&[], &[], &[]])),
        ("TC", response(&q, field::TC, rcode::NOERROR, [&rr, &[], &[]])),
        ("TTL 0", noerror(&q, &[a(WWW, 0, [127, 1, 2, 3])])),
    ] {
        assert!(!c.store_bytes(&q, &up, t0), "{what}");
        assert_eq!(hit(&mut c, &query(2, WWW), t0), None, "{what}");
    }
    let mut stale = vec![0u8; 512];
    assert_eq!(
        c.stale(&q, Transport::Udp, t0, &mut stale),
        None,
        "nothing to serve stale either"
    );
}

#[test]
fn answers_bigger_than_the_cap_are_not_cached() {
    let t0 = Instant::now();
    let mut c = cache(10, Duration::ZERO);
    let q = query(1, WWW);
    let many: Vec<Rr> = (0..300u16)
        .map(|i| a(WWW, 60, [127, 1, (i >> 8) as u8, i as u8]))
        .collect();
    let up = noerror(&q, &many);
    assert!(up.len() > MAX_CACHED_MESSAGE);
    assert!(!c.store_bytes(&q, &up, t0));
}

#[test]
fn only_the_questions_own_records_are_kept() {
    let t0 = Instant::now();
    let mut c = cache(10, Duration::ZERO);
    let q = query(1, WWW);
    // A CNAME chain is the question's: kept whole, living as long as its shortest TTL.
    let chain = [
        cname(WWW, 300, "edge.example.net"),
        a("edge.example.net", 20, [127, 1, 2, 3]),
    ];
    let up = response(
        &q,
        0,
        rcode::NOERROR,
        [
            &chain,
            &[ns("google.com", 86400, "ns1.evil.net")],
            &[a("ns1.evil.net", 86400, [127, 6, 6, 6])],
        ],
    );
    assert!(c.store_bytes(&q, &up, t0));
    let reply = hit(&mut c, &query(2, WWW), t0).expect("hit");
    let m = Message::parse(&reply).unwrap();
    assert_eq!(m.records(Section::Answer).count(), 2, "the chain");
    assert_eq!(
        (
            m.records(Section::Authority).count(),
            m.records(Section::Additional).count()
        ),
        (0, 0),
        "no NS, no glue: out-of-bailiwick data is never served from the cache"
    );
    assert!(hit(&mut c, &query(3, WWW), t0 + S * 20).is_none(), "the A's 20 s");
    // A record for another name in the answer section: nothing is kept.
    let stray = noerror(
        &q,
        &[a(WWW, 60, [127, 1, 2, 3]), a("www.bank.example", 86400, [127, 6, 6, 6])],
    );
    assert!(!c.store_bytes(&q, &stray, t0));
}

#[test]
fn the_dnssec_and_edns_bits_of_the_query_are_part_of_the_key() {
    let t0 = Instant::now();
    let mut c = cache(10, Duration::ZERO);
    let plain = query(1, WWW);
    c.store_bytes(&plain, &noerror(&plain, &[a(WWW, 60, [127, 1, 2, 3])]), t0);
    assert!(
        hit(&mut c, &query_with(2, WWW, rtype::A, Some(false)), t0).is_none(),
        "EDNS"
    );
    assert!(
        hit(&mut c, &query_with(2, WWW, rtype::A, Some(true)), t0).is_none(),
        "DO"
    );
    let mut cd = query(2, WWW);
    cd[3] |= field::CD as u8;
    assert!(hit(&mut c, &cd, t0).is_none(), "CD");
    // An EDNS query's entry carries our OPT record with its DO bit, whatever the upstream's.
    let q = query_with(3, WWW, rtype::A, Some(true));
    let up = response(&q, 0, rcode::NOERROR, [&[a(WWW, 60, [127, 1, 2, 3])], &[], &[]]);
    assert!(c.store_bytes(&q, &up, t0));
    let reply = hit(&mut c, &query_with(4, WWW, rtype::A, Some(true)), t0).expect("hit");
    let edns = Message::parse(&reply).unwrap().edns().expect("an OPT record");
    assert_eq!((edns.udp_size, edns.dnssec_ok, edns.ext_rcode), (1232, true, 0));
}

#[test]
fn an_answer_too_big_for_a_udp_client_comes_back_truncated() {
    let t0 = Instant::now();
    let mut c = cache(10, Duration::ZERO);
    let q = query(1, WWW);
    let many: Vec<Rr> = (0..40u8).map(|i| a(WWW, 60, [127, 1, 2, i])).collect();
    let up = noerror(&q, &many);
    assert!(up.len() > 512);
    assert!(c.store_bytes(&q, &up, t0));
    let mut out = vec![0u8; 65535];
    let Lookup::Hit { len, .. } = c.lookup(&Message::parse(&query(9, WWW)).unwrap(), Transport::Udp, t0, &mut out)
    else {
        panic!("a hit")
    };
    let m = Message::parse(&out[..len]).unwrap();
    assert_eq!(m.id(), 9);
    assert!(m.flags() & field::TC != 0);
    assert_eq!(m.records(Section::Answer).count(), 0, "no RRset cut in two");
    assert_eq!(
        hit(&mut c, &query(9, WWW), t0).map(|r| r.len()),
        Some(up.len()),
        "whole over TCP"
    );
}

#[test]
fn when_full_the_entry_not_hit_since_the_last_sweep_goes_first() {
    let t0 = Instant::now();
    let mut c = cache(2, Duration::ZERO);
    let names = ["one.example", "two.example", "three.example"];
    let store = |c: &mut Cache, name: &str| {
        let q = query(1, name);
        assert!(c.store_bytes(&q, &noerror(&q, &[a(name, 60, [127, 1, 2, 3])]), t0));
    };
    store(&mut c, names[0]);
    store(&mut c, names[1]);
    assert!(hit(&mut c, &query(2, names[0]), t0).is_some());
    store(&mut c, names[2]);
    assert_eq!((c.stats.evictions, c.stats.entries), (1, 2));
    assert!(hit(&mut c, &query(2, names[0]), t0).is_some(), "hit: a second chance");
    assert!(hit(&mut c, &query(2, names[1]), t0).is_none(), "never hit: evicted");
    assert!(hit(&mut c, &query(2, names[2]), t0).is_some());
    // Storing the same question again replaces its entry instead of taking another.
    store(&mut c, names[2]);
    assert_eq!((c.stats.evictions, c.stats.entries), (1, 2));
}

#[test]
fn an_expired_answer_is_served_stale_with_ttl_30_within_the_window_only() {
    let t0 = Instant::now();
    let q = query(1, WWW);
    let up = noerror(&q, &[a(WWW, 10, [127, 1, 2, 3])]);
    let mut out = vec![0u8; 512];
    let mut c = cache(10, S * 100);
    c.store_bytes(&q, &up, t0);
    assert_eq!(hit(&mut c, &query(2, WWW), t0 + S * 50), None, "expired: relayed first");
    let n = c
        .stale(&query(2, WWW), Transport::Udp, t0 + S * 50, &mut out)
        .expect("stale");
    assert_eq!(ttls(&out[..n], Section::Answer), [STALE_TTL]);
    assert_eq!(&out[..2], &[0, 2]);
    assert_eq!(
        c.stale(&query(2, WWW), Transport::Udp, t0 + S * 110, &mut out),
        None,
        "past the window"
    );
    assert_eq!(c.stats.stale, 1);
    // serveStaleSeconds 0: never.
    let mut c = cache(10, Duration::ZERO);
    c.store_bytes(&q, &up, t0);
    assert_eq!(c.stale(&query(2, WWW), Transport::Udp, t0 + S * 11, &mut out), None);
}

#[test]
fn a_popular_entry_in_the_last_tenth_of_its_life_asks_for_one_prefetch() {
    assert!(!wants_prefetch(1, S * 95, S * 100), "hit once only");
    assert!(!wants_prefetch(5, S * 89, S * 100), "11 s of 100 left");
    assert!(wants_prefetch(2, S * 90, S * 100));
    let t0 = Instant::now();
    let mut c = cache(10, Duration::ZERO);
    let q = query(1, WWW);
    c.store_bytes(&q, &noerror(&q, &[a(WWW, 100, [127, 1, 2, 3])]), t0);
    let mut out = vec![0u8; 512];
    let mut look =
        |c: &mut Cache, at: Duration| match c.lookup(&Message::parse(&q).unwrap(), Transport::Udp, t0 + at, &mut out) {
            Lookup::Hit { prefetch, .. } => prefetch,
            Lookup::Miss => panic!("a hit at {at:?}"),
        };
    assert!(!look(&mut c, S * 95), "the first hit, late: not popular yet");
    assert!(look(&mut c, S * 96), "the second: refresh it");
    assert!(!look(&mut c, S * 97), "once: it is already being refreshed");
    assert_eq!(c.stats.prefetches, 1);
    // The refreshed answer starts over.
    c.store_bytes(&q, &noerror(&q, &[a(WWW, 100, [127, 1, 2, 3])]), t0 + S * 97);
    assert!(!look(&mut c, S * 150));
}

#[test]
fn a_flush_forgets_everything_but_the_counters() {
    let t0 = Instant::now();
    let mut c = cache(10, S * 100);
    let q = query(1, WWW);
    c.store_bytes(&q, &noerror(&q, &[a(WWW, 60, [127, 1, 2, 3])]), t0);
    assert!(hit(&mut c, &q, t0).is_some());
    c.flush();
    assert!(hit(&mut c, &q, t0).is_none());
    let mut out = vec![0u8; 512];
    assert_eq!(c.stale(&q, Transport::Udp, t0 + S * 61, &mut out), None);
    assert_eq!((c.stats.hits, c.stats.entries), (1, 0));
}
