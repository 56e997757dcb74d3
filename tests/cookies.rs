//! DNS cookies (RFC 7873, server cookies as RFC 9018) through the real binary on loopback: `dig
//! +cookie` and `kdig +cookie` get a server cookie back and dig calls it good when it is echoed, over
//! UDP and TCP and in error answers; a malformed COOKIE option gets FORMERR; a relayed query reaches
//! the resolver (our scriptable responder on 127.0.0.1) without the client's COOKIE option and the
//! client's answer, relayed or from the cache, carries our server cookie, which is accepted when it
//! comes back; servers sharing a `cookieSecret` accept each other's cookies. How cookies are made and checked (SipHash, RFC 9018 Appendix A, rotation, clock skew)
//! is unit-tested in `src/serve/cookie/tests.rs`, the option's parsing in `src/wire/cookie/tests.rs`.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::dig::{printed_cookie, run};
use common::dns;
use common::upstream::{Behaviour, Upstream};
use common::*;
use serde_json::json;

const CLIENT_COOKIE: [u8; 8] = *b"\x24\x64\xc4\xab\xcf\x10\xc9\x57";
const TIMEOUT: Duration = Duration::from_secs(3);

fn serving(extra: serde_json::Value) -> (FakeMaster, Server) {
    let master = FakeMaster::serving(tutorial());
    let server = Server::start_with(&[master.addr()], extra);
    server.wait_loaded();
    (master, server)
}

/// A query for `name` with an OPT record carrying `cookie` (the whole option data) as a COOKIE option.
fn query_with_cookie(id: u16, name: &str, qtype: u16, cookie: &[u8]) -> Vec<u8> {
    let mut q = dns::query(id, name, qtype);
    q[11] = 1; // ARCOUNT
    q.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0]);
    q.extend_from_slice(&(4 + cookie.len() as u16).to_be_bytes());
    q.extend_from_slice(&[0, 10]);
    q.extend_from_slice(&(cookie.len() as u16).to_be_bytes());
    q.extend_from_slice(cookie);
    q
}

/// Skips the name at `pos`; the offset after it.
fn skip_name(m: &[u8], mut pos: usize) -> usize {
    loop {
        let len = m[pos];
        if len == 0 {
            return pos + 1;
        }
        if len & 0xc0 == 0xc0 {
            return pos + 2;
        }
        pos += 1 + usize::from(len);
    }
}

/// The COOKIE option data of the OPT record of `m`, if any (`Some(None)`: an OPT without COOKIE).
fn cookie_of(m: &[u8]) -> Option<Option<Vec<u8>>> {
    let count = |at: usize| usize::from(u16::from_be_bytes([m[at], m[at + 1]]));
    let mut pos = 12;
    for _ in 0..count(4) {
        pos = skip_name(m, pos) + 4;
    }
    let mut opt = None;
    for _ in 0..count(6) + count(8) + count(10) {
        let at = skip_name(m, pos);
        let rdlen = count(at + 8);
        if count(at) == 41 {
            opt = Some(&m[at + 10..at + 10 + rdlen]);
        }
        pos = at + 10 + rdlen;
    }
    assert_eq!(pos, m.len(), "a whole message");
    let rdata = opt?;
    let mut i = 0;
    while i + 4 <= rdata.len() {
        let (code, len) = (count_in(rdata, i), count_in(rdata, i + 2));
        if code == 10 {
            return Some(Some(rdata[i + 4..i + 4 + len].to_vec()));
        }
        i += 4 + len;
    }
    Some(None)
}

fn count_in(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

/// The COOKIE option data of an answer, which must have one with our client cookie and a version 1
/// server cookie of 16 bytes.
fn our_cookie(answer: &[u8]) -> Vec<u8> {
    let cookie = cookie_of(answer)
        .flatten()
        .unwrap_or_else(|| panic!("no COOKIE in {answer:02x?}"));
    assert_eq!(cookie.len(), 24, "{cookie:02x?}");
    assert_eq!(cookie[..8], CLIENT_COOKIE, "our client cookie comes back");
    assert_eq!(cookie[8..12], [1, 0, 0, 0], "RFC 9018 version 1, reserved");
    cookie
}

#[test]
fn dig_gets_a_server_cookie_and_calls_it_good_when_echoed_over_udp_and_tcp() {
    let (_master, server) = serving(json!({}));
    let first = run(
        "dig",
        server.port,
        &["leader.mesos", "A", "+cookie", "+norec", "+time=2", "+tries=1"],
    );
    assert!(first.contains("status: NOERROR"), "{first}");
    let (cookie, _) = printed_cookie(&first);
    assert_eq!(cookie.len(), 48, "client and server cookie: {first}");
    assert_eq!(&cookie[16..24], "01000000", "{first}");
    for proto in ["+notcp", "+tcp"] {
        let echo = format!("+cookie={cookie}");
        let again = run(
            "dig",
            server.port,
            &["leader.mesos", "A", &echo, proto, "+norec", "+time=2", "+tries=1"],
        );
        let (back, verdict) = printed_cookie(&again);
        assert_eq!(verdict, "(good)", "{again}");
        assert_eq!(back, cookie, "a fresh server cookie is kept: {again}");
    }
    // An error answer (NXDOMAIN) carries one too.
    let nx = run(
        "dig",
        server.port,
        &["nope.mesos", "A", "+cookie", "+norec", "+time=2", "+tries=1"],
    );
    assert!(nx.contains("status: NXDOMAIN"), "{nx}");
    assert_eq!(printed_cookie(&nx).0.len(), 48, "{nx}");
}

#[test]
fn kdig_gets_a_server_cookie_back_over_udp_and_tcp() {
    let (_master, server) = serving(json!({}));
    let first = run(
        "kdig",
        server.port,
        &["leader.mesos", "A", "+cookie", "+norec", "+time=2", "+retry=0"],
    );
    let (cookie, _) = printed_cookie(&first);
    assert_eq!(cookie.len(), 48, "{first}");
    let echo = format!("+cookie={cookie}");
    for proto in ["+notcp", "+tcp"] {
        let again = run(
            "kdig",
            server.port,
            &["leader.mesos", "A", &echo, proto, "+norec", "+time=2", "+retry=0"],
        );
        assert!(again.contains("NOERROR"), "{again}");
        assert_eq!(printed_cookie(&again).0, cookie, "{again}");
    }
}

#[test]
fn a_malformed_cookie_gets_formerr_and_a_good_one_none() {
    let (_master, server) = serving(json!({}));
    for len in [1, 7, 9, 15, 41] {
        let q = query_with_cookie(0x4000 + len as u16, "leader.mesos", 1, &vec![7; len]);
        let a = dns::udp(server.port, &q, TIMEOUT).unwrap();
        assert_eq!(a[3] & 0x0f, dns::FORMERR, "a cookie of {len} bytes: {a:02x?}");
    }
    // A client cookie with a server cookie we never made (of each valid length): answered, with ours.
    for len in [8, 16, 24, 40] {
        let mut c = CLIENT_COOKIE.to_vec();
        c.resize(len, 1);
        let a = dns::udp(
            server.port,
            &query_with_cookie(0x5000 + len as u16, "leader.mesos", 1, &c),
            TIMEOUT,
        )
        .unwrap();
        assert_eq!(a[3] & 0x0f, 0, "{len}");
        assert_ne!(our_cookie(&a)[8..], c[8..]);
    }
    // No cookie, no cookie back.
    let mut plain = dns::query(0x6000, "leader.mesos", 1);
    plain[11] = 1;
    plain.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(cookie_of(&dns::udp(server.port, &plain, TIMEOUT).unwrap()), Some(None));
}

#[test]
fn a_relayed_query_goes_without_the_cookie_and_its_answer_comes_back_with_ours() {
    const MADE_UP: Ipv4Addr = Ipv4Addr::new(127, 1, 2, 3);
    let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    let (_master, server) = serving(json!({ "resolvers": [up.resolver()], "cacheOn": true }));
    let ask = |id: u16, cookie: &[u8], tcp: bool| {
        let q = query_with_cookie(id, "www.example.com", 1, cookie);
        let a = if tcp {
            dns::tcp(server.port, &q, TIMEOUT)
        } else {
            dns::udp(server.port, &q, TIMEOUT)
        };
        let a = a.unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.log_text()));
        assert_eq!(dns::parse(&a).unwrap().answer_data(1), vec![MADE_UP.to_string()]);
        a
    };
    let first = ask(0x7001, &CLIENT_COOKIE, false);
    let cookie = our_cookie(&first);
    up.wait_queries(1, TIMEOUT);
    let seen = up.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        cookie_of(&seen[0].bytes),
        Some(None),
        "the OPT record goes on, the COOKIE does not"
    );

    // The cookie echoed back is accepted: kept (it is fresh), from the cache over UDP and TCP.
    for (id, tcp) in [(0x7002, false), (0x7003, true)] {
        let again = ask(id, &cookie, tcp);
        assert_eq!(our_cookie(&again), cookie);
    }
    // A name not cached yet, relayed over TCP, with the cookie.
    let q = query_with_cookie(0x7004, "other.example.com", 1, &cookie);
    let a = dns::tcp(server.port, &q, TIMEOUT).unwrap();
    assert_eq!(our_cookie(&a), cookie);
    up.wait_queries(2, TIMEOUT);
    assert!(up.seen().iter().all(|s| cookie_of(&s.bytes) == Some(None)));
}

#[test]
fn a_refused_relay_carries_our_cookie() {
    let (_master, server) = serving(json!({ "externalon": false }));
    let q = query_with_cookie(0x7100, "www.example.com", 1, &CLIENT_COOKIE);
    let a = dns::udp(server.port, &q, TIMEOUT).unwrap();
    assert_eq!(a[3] & 0x0f, dns::REFUSED);
    our_cookie(&a);
}

#[test]
fn servers_sharing_a_cookie_secret_accept_each_others_cookies() {
    let secret = json!({ "cookieSecret": "e5e973e5a6b2a43f48e7dc849e37bfcf" });
    let (_m1, one) = serving(secret.clone());
    let (_m2, other) = serving(secret);
    let (_m3, own) = serving(json!({}));
    let q = query_with_cookie(0x7200, "leader.mesos", 1, &CLIENT_COOKIE);
    let cookie = our_cookie(&dns::udp(one.port, &q, TIMEOUT).unwrap());
    let q = query_with_cookie(0x7201, "leader.mesos", 1, &cookie);
    assert_eq!(
        our_cookie(&dns::udp(other.port, &q, TIMEOUT).unwrap()),
        cookie,
        "kept: valid there"
    );
    assert_ne!(
        our_cookie(&dns::udp(own.port, &q, TIMEOUT).unwrap()),
        cookie,
        "a new one: not valid"
    );
}
