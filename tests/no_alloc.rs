//! Answering allocates nothing once warmed up: A, AAAA, SRV with additional records, NXDOMAIN, CNAME, TXT, a
//! truncated answer, A and AAAA cut by `aRecordLimit`, A, AAAA and SRV in zone order (`preferLocalZone`,
//! with and without the limit), wildcard answers, FORMERR, PTR (compressed targets), an error reply
//! and a relayed answer from the cache (fresh, truncated for UDP, stale, or a miss), counted by a global
//! allocator that counts; a query with a cookie gets our server cookie added without one either. Only
//! the test's own thread is counted: the test harness's threads allocate as they please (under load,
//! the main thread does while the test runs), and that is not the answer path.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mesos_dns::internals::answer::{answer, answer_from, answer_message, error_reply, formerr, Outcome, Transport};
use mesos_dns::internals::config::Config;
use mesos_dns::internals::cookie::{self, ServerCookies};
use mesos_dns::internals::forward::cache::{Cache, CacheConfig, Lookup};
use mesos_dns::internals::records::zone;
use mesos_dns::internals::route::{self, Route};
use mesos_dns::internals::rrl::{slipped, Limiter, RateLimit, Verdict};
use mesos_dns::internals::snapshot::{RData, RecordList, Records, ZoneMap};
use mesos_dns::internals::wire::{Message, Received, MAX_MESSAGE};

/// The router's settings: keys configured (the TSIG check runs on queries with additional records).
const POLICY: route::Policy = route::Policy {
    tsig: true,
    external_on: true,
};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set on the thread whose allocations are counted.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTED.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn query(name: &str, qtype: u16, edns: bool) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, u8::from(edns)];
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, (qtype >> 8) as u8, qtype as u8, 0, 1]);
    if edns {
        q.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    }
    q
}

#[test]
fn answering_allocates_nothing() {
    let mut list = RecordList::new();
    // Agents 0 and 2 in one zone, 1 in another: at the SRV targets' addresses and the A records'.
    for i in 0..3u8 {
        let addrs = [
            IpAddr::V4(Ipv4Addr::new(10, 1, 0, i)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)),
        ];
        list.add_agent_zone(&format!("a{i}"), ("r", if i == 1 { "z1" } else { "z0" }), &addrs);
    }
    for i in 0..3u8 {
        list.push("nginx.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, i)));
        list.push(
            &format!("nginx-{i}.marathon.slave.mesos."),
            RData::A(Ipv4Addr::new(10, 1, 0, i)),
        );
        list.push(
            "_nginx._tcp.marathon.mesos.",
            RData::Srv {
                target: format!("nginx-{i}.marathon.slave.mesos."),
                port: 31000 + u16::from(i),
            },
        );
    }
    list.push("nginx.marathon.mesos.", RData::Aaaa(Ipv6Addr::LOCALHOST));
    for i in 0..200u8 {
        list.push("big.marathon.mesos.", RData::A(Ipv4Addr::new(10, 2, 0, i)));
    }
    let task = IpAddr::V4(Ipv4Addr::new(10, 3, 0, 7));
    list.push_ip_reverse("web.marathon.mesos.", task);
    list.push_ip_reverse("web-abcde-s1.marathon.mesos.", task);
    list.push_ip_reverse(
        "web.marathon.mesos.",
        IpAddr::V6(Ipv6Addr::new(0xfd01, 0xb, 0, 0, 0, 1, 0x8000, 2)),
    );
    // Static records: an alias to a name of ours, and character strings.
    list.begin_static();
    list.push("www.marathon.mesos.", RData::Cname("nginx.marathon.mesos.".into()));
    list.push(
        "nginx.marathon.mesos.",
        RData::Txt(vec!["v=1".into(), "owner=web".into()]),
    );
    // Wildcards (RFC 4592): addresses, an SRV, and an alias synthesized for names below `lb`.
    for i in 0..3u8 {
        list.push("*.lb.mesos.", RData::A(Ipv4Addr::new(10, 9, 9, i)));
    }
    list.push(
        "*.lb.mesos.",
        RData::Srv {
            target: "nginx-0.marathon.slave.mesos.".into(),
            port: 80,
        },
    );
    list.push("*.alias.mesos.", RData::Cname("x.lb.mesos.".into()));
    let records = Records::build(zone(&Config::default()), &list, 1);
    // The same records answered with `aRecordLimit`: A and AAAA cut to two after the shuffle.
    let limit = Config {
        a_record_limit: 2,
        ..Config::default()
    };
    let limited = Records::build(zone(&limit), &list, 1);
    // With `preferLocalZone` (the host is agent 1, for loopback queries), with and without the limit.
    let host = [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1))];
    let zones = || ZoneMap::of_list(&list, &host);
    assert!(zones().is_some());
    let zoned = [
        Records::build(zone(&Config::default()), &list, 1).with_zones(zones()),
        Records::build(zone(&limit), &list, 1).with_zones(zones()),
    ];
    let zoned_queries = [
        (query("nginx.marathon.mesos", 1, true), "A, zone order"),
        (query("nginx.marathon.mesos", 28, false), "AAAA, zone order"),
        (query("_nginx._tcp.marathon.mesos", 33, true), "SRV, zone order"),
        (query("big.marathon.mesos", 1, false), "A of 200, zone order"),
        (
            query("www.marathon.mesos", 1, true),
            "CNAME with the target's A, zone order",
        ),
    ];
    let sources = [
        IpAddr::V4(Ipv4Addr::new(10, 1, 0, 0)),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9)),
    ];
    let limited_queries = [
        (query("nginx.marathon.mesos", 1, true), "A, limited"),
        (query("big.marathon.mesos", 1, false), "A of 200, limited"),
        (query("x.lb.mesos", 1, false), "A from a wildcard, limited"),
        (query("nginx.marathon.mesos", 28, false), "AAAA, limited"),
        (
            query("www.marathon.mesos", 1, true),
            "CNAME with the target's A, limited",
        ),
    ];
    let queries = [
        (query("nginx.marathon.mesos", 1, true), "A"),
        (query("nginx.marathon.mesos", 28, false), "AAAA"),
        (query("_nginx._tcp.marathon.mesos", 33, true), "SRV"),
        (query("nothing.marathon.mesos", 1, false), "NXDOMAIN"),
        (query("a.b.c.lb.mesos", 1, true), "A from a wildcard"),
        (query("x.lb.mesos", 33, true), "SRV from a wildcard"),
        (query("x.lb.mesos", 28, false), "NODATA at a wildcard"),
        (query("x.alias.mesos", 1, false), "CNAME from a wildcard to a wildcard"),
        (
            query("y.nginx.marathon.mesos", 1, false),
            "NXDOMAIN in a zone with wildcards",
        ),
        (query("www.marathon.mesos", 1, true), "CNAME with the target's A"),
        (query("www.marathon.mesos", 16, false), "CNAME with the target's TXT"),
        (query("nginx.marathon.mesos", 16, true), "TXT"),
        (query("big.marathon.mesos", 1, false), "truncated"),
        (query("nginx.marathon.mesos", 1, true)[..20].to_vec(), "FORMERR"),
        (query("7.0.3.10.in-addr.arpa", 12, true), "PTR"),
        (query("7.0.3.10.in-addr.arpa", 1, false), "NODATA at a reverse name"),
        (
            query(
                "2.0.0.0.0.0.0.8.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.0.0.0.1.0.d.f.ip6.arpa",
                12,
                false,
            ),
            "PTR v6",
        ),
    ];
    let outside = query("www.example.com", 1, true);
    // With a client cookie and a server cookie: the answer gets ours (as `serve::respond` adds it).
    let mut with_cookie = query("nginx.marathon.mesos", 1, true);
    let len = with_cookie.len();
    with_cookie[len - 2..].copy_from_slice(&28u16.to_be_bytes());
    with_cookie.extend_from_slice(&[0, 10, 0, 24]);
    with_cookie.extend_from_slice(b"clientck\x01\x00\x00\x00\x6b\x49\xd2\x00cookie!!");
    let cookies = ServerCookies::new([7; 16], 1_800_000_000);
    let peer = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    let unknown_reverse = query("8.0.3.10.in-addr.arpa", 12, true);
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut run = |seed: u64| {
        for (q, what) in &queries {
            for t in [Transport::Udp, Transport::Tcp] {
                // The server's way: read once, route, answer the parsed message.
                let from = route::Sender {
                    transport: t,
                    may_relay: true,
                };
                let outcome = match route::route(Received::read(q), from, POLICY) {
                    Route::Answer(msg, _) => answer_message(&msg, &records, t, seed, &mut out),
                    Route::FormErr(header) => formerr(&header, &mut out),
                    other => panic!("{what}: routed to {other:?}"),
                };
                assert!(matches!(outcome, Outcome::Reply(_)), "{what}");
            }
        }
        for (q, what) in &limited_queries {
            for t in [Transport::Udp, Transport::Tcp] {
                assert!(
                    matches!(answer(q, &limited, t, seed, &mut out), Outcome::Reply(_)),
                    "{what}"
                );
            }
        }
        for (q, what) in &zoned_queries {
            for t in [Transport::Udp, Transport::Tcp] {
                for (records, &source) in zoned.iter().flat_map(|r| sources.iter().map(move |s| (r, s))) {
                    let from = route::Sender {
                        transport: t,
                        may_relay: true,
                    };
                    let outcome = match route::route(Received::read(q), from, POLICY) {
                        Route::Answer(msg, _) => answer_from(&msg, records, t, seed, Some(source), &mut out),
                        other => panic!("{what}: routed to {other:?}"),
                    };
                    assert!(matches!(outcome, Outcome::Reply(_)), "{what} from {source}");
                }
            }
        }
        assert_eq!(
            answer(&outside, &records, Transport::Udp, seed, &mut out),
            Outcome::Outside
        );
        assert_eq!(
            answer(&unknown_reverse, &records, Transport::Udp, seed, &mut out),
            Outcome::Outside
        );
        assert!(matches!(
            error_reply(&outside, 5, Transport::Udp, &mut out),
            Outcome::Reply(_)
        ));
        for t in [Transport::Udp, Transport::Tcp] {
            let Received::Message(msg) = Received::read(&with_cookie) else {
                panic!("the query with a cookie is well-formed")
            };
            let Outcome::Reply(n) = answer_message(&msg, &records, t, seed, &mut out) else {
                panic!("the query with a cookie is answered")
            };
            let c = msg.cookie().expect("it has a cookie");
            let verdict = cookies.answer(&c.client, c.server, peer, 1_800_000_000 + seed);
            let with = cookie::add(&mut out, n, &cookie::option(&c.client, &verdict.server), 1232, true);
            assert_eq!(with, Some(n + 28), "our COOKIE option joins the answer");
        }
    };
    run(0);
    COUNTED.with(|c| c.set(true));
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for seed in 1..1000 {
        run(seed);
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTED.with(|c| c.set(false));
    assert_eq!(after - before, 0, "allocations while answering");
}

/// An upstream's answer to `query` (a query built by [`query`] without EDNS): `n` A records, TTL 60.
fn upstream_answer(query: &[u8], n: u8) -> Vec<u8> {
    let mut a = query.to_vec();
    a[2..4].copy_from_slice(&[0x81, 0x80]);
    a[7] = n;
    for i in 0..n {
        a.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x01\x02");
        a.push(i);
    }
    a
}

fn parsed(m: &[u8]) -> Message<'_> {
    Message::parse(m).expect("a well-formed message")
}

#[test]
fn a_cache_hit_allocates_nothing() {
    let mut cache = Cache::new(CacheConfig {
        max_entries: 100,
        serve_stale: Duration::from_secs(3600),
    });
    let t0 = Instant::now();
    let small = query("www.example.com", 1, false);
    let big = query("big.example.com", 1, false);
    let (small_answer, big_answer) = (upstream_answer(&small, 2), upstream_answer(&big, 40));
    assert!(cache.store(&parsed(&small), &parsed(&small_answer), t0));
    assert!(cache.store(&parsed(&big), &parsed(&big_answer), t0));
    let mixed = query("WwW.ExAmPlE.cOm", 1, false);
    let unknown = query("nothing.example.com", 1, false);
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut run = |cache: &mut Cache, at: Instant| {
        for (q, t, what) in [
            (&small, Transport::Udp, "hit"),
            (&mixed, Transport::Udp, "hit in another case"),
            (&small, Transport::Tcp, "hit over TCP"),
            (&big, Transport::Udp, "hit truncated for UDP"),
            (&big, Transport::Tcp, "big hit over TCP"),
        ] {
            // The query is read as the server reads it, inside the counted loop: reading allocates nothing.
            assert!(
                matches!(cache.lookup(&parsed(q), t, at, &mut out), Lookup::Hit { .. }),
                "{what}"
            );
        }
        assert_eq!(
            cache.lookup(&parsed(&unknown), Transport::Udp, at, &mut out),
            Lookup::Miss
        );
        assert!(cache
            .stale(&small, Transport::Udp, at + Duration::from_secs(120), &mut out)
            .is_some());
    };
    run(&mut cache, t0);
    COUNTED.with(|c| c.set(true));
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for i in 0..1000u64 {
        // Early in the entries' lives: no prefetch is asked (that one relays, and may allocate).
        run(&mut cache, t0 + Duration::from_millis(i));
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTED.with(|c| c.set(false));
    assert_eq!(after - before, 0, "allocations while answering from the cache");
}

#[test]
fn rate_limiting_allocates_nothing() {
    let t0 = Instant::now();
    let mut limiter = Limiter::new(RateLimit { rate: 5, slip: 2 }, t0);
    let answer = upstream_answer(&query("www.example.com", 1, false), 3);
    let mut short = [0u8; 512];
    let (mut sent, mut slips) = (0, 0);
    COUNTED.with(|c| c.set(true));
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    // One flooding network, and many networks once each (new buckets, slots given up).
    for i in 0..20_000u32 {
        let at = t0 + Duration::from_micros(u64::from(i) * 10);
        match limiter.check(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)), false, at) {
            Verdict::Send => sent += 1,
            Verdict::Slip => slips += usize::from(slipped(&answer, &mut short).is_some()),
            Verdict::Drop => {}
        }
        let other = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + (i << 8)));
        let _ = limiter.check(other, false, at);
        let _ = limiter.check(IpAddr::V6(Ipv6Addr::from(u128::from(i) << 72)), i % 2 == 0, at);
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTED.with(|c| c.set(false));
    assert_eq!(after - before, 0, "allocations while rate limiting");
    // Under 0.2 s of flood at 5 a second: the burst (the next token is due at 200 ms).
    assert_eq!(sent, 5);
    assert_eq!(slips, (20_000 - 5) / 2);
}
