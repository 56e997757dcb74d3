//! Relaying names outside the domain: the real `mesos-dns` binary on loopback, relaying to upstream
//! resolvers that are also on loopback (our scriptable responder from `common::upstream`, and Debian's
//! `unbound` with local data). Every resolver address in here is 127.0.0.0/8 or ::1.
//!
//! Only what needs a real process or a real peer is here: byte-for-byte pass-through, dig and kdig,
//! unbound, the transports on real sockets, loop prevention through the server itself, the event
//! loop never waiting on upstreams, the answer cache (a repeat not asked upstream, TTLs aging,
//! serve-stale), `relayAllowFrom` and a SIGHUP with new resolvers. Tests of what goes upstream for
//! each query turn the cache off (`cacheOn: false`). The relay's decisions (resolver order, timeouts, SERVFAIL, TCP after
//! truncation, RFC 5452 checks, IDs, zones) are unit tests on virtual time in `src/forward/table/tests/`,
//! the cache's (what is kept, for how long, eviction, prefetch) in `src/forward/cache/tests.rs`.

mod common;

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU16, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::dns::{self, Response};
use common::upstream::{Behaviour, Unbound, Upstream};
use common::*;
use serde_json::{json, Value};

const WWW: &str = "www.google.com";
/// The made-up address our upstream gives `www.google.com` (loopback, so nothing could ever reach out).
const MADE_UP: Ipv4Addr = Ipv4Addr::new(127, 1, 2, 3);

/// A fake master serving the tutorial and a server that has loaded it and relays to `resolvers` with a
/// 1 s timeout; `extra` keys are merged into the config.
fn relaying(resolvers: &[String], extra: Value) -> (FakeMaster, Server) {
    let master = FakeMaster::serving(tutorial());
    let mut config = json!({ "resolvers": resolvers, "timeout": 1 });
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let server = Server::start_with(&[master.addr()], config);
    server.wait_loaded();
    (master, server)
}

fn fresh_id() -> u16 {
    static ID: AtomicU16 = AtomicU16::new(0x8000);
    ID.fetch_add(1, Ordering::SeqCst)
}

/// One exchange with the server at 127.0.0.1:`port`, waiting up to `timeout` for the answer.
fn exchange(port: u16, query: &[u8], transport: Transport, timeout: Duration) -> io::Result<Vec<u8>> {
    match transport {
        Transport::Udp => dns::udp(port, query, timeout),
        Transport::Tcp => dns::tcp(port, query, timeout),
    }
}

/// Asks `name` and returns the decoded answer and how long it took; panics (with the log) if none came
/// within `timeout`.
fn ask_timed(server: &Server, name: &str, qtype: u16, transport: Transport, timeout: Duration) -> (Response, Duration) {
    let id = fresh_id();
    let query = dns::query(id, name, qtype);
    let start = Instant::now();
    let bytes = exchange(server.port, &query, transport, timeout).unwrap_or_else(|e| {
        panic!(
            "no {transport:?} answer for {name} within {timeout:?}: {e}; server log:\n{}",
            server.log_text()
        )
    });
    let took = start.elapsed();
    let r = dns::parse(&bytes).unwrap_or_else(|e| panic!("undecodable answer for {name}: {e}: {bytes:02x?}"));
    assert_eq!(r.id, id, "the client's ID is restored");
    assert!(r.qr(), "QR set");
    (r, took)
}

// ---------------------------------------------------------------------------------------------------
// The relayed answer

#[test]
fn outside_name_is_relayed_and_the_upstream_answer_comes_back() {
    let up = Upstream::start(Behaviour::Rcode(dns::NXDOMAIN));
    up.set(WWW, Behaviour::Answer(vec![MADE_UP]));
    let (_master, server) = relaying(&[up.resolver()], json!({}));

    let r = server.ask(WWW, dns::A, Transport::Udp);
    assert_eq!(r.rcode, dns::NOERROR, "{r:?}");
    assert!(!r.aa(), "the upstream's flags, not ours: AA clear");
    assert!(r.ra());
    assert_eq!(r.questions, vec![(format!("{WWW}."), dns::A, 1)]);
    assert_eq!(r.answers.len(), 1, "{r:?}");
    assert_eq!(r.answers[0].name, format!("{WWW}."));
    assert_eq!(r.answers[0].ttl, common::upstream::TTL, "the upstream's TTL");
    assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()]);

    let seen = up.seen();
    assert_eq!(seen.len(), 1, "exactly one query upstream: {seen:?}");
    assert_eq!(seen[0].transport, Transport::Udp);
    assert_eq!((seen[0].name.as_str(), seen[0].qtype), (WWW, dns::A));
    assert!(seen[0].from.ip().is_loopback(), "{:?}", seen[0].from);
    assert_ne!(
        seen[0].from.port(),
        server.port,
        "relayed from a relay socket, not the DNS port"
    );

    // The upstream's NXDOMAIN is passed on as it is.
    let r = server.ask("nope.example.org", dns::A, Transport::Udp);
    assert_eq!(r.rcode, dns::NXDOMAIN, "{r:?}");
    assert!(!r.aa() && r.answers.is_empty(), "{r:?}");
    assert_eq!(up.names(), [WWW, "nope.example.org"]);
}

#[test]
fn relayed_answer_reads_the_same_in_dig_over_udp_and_tcp() {
    let up = Upstream::start(Behaviour::Rcode(dns::NXDOMAIN));
    up.set(WWW, Behaviour::Answer(vec![MADE_UP]));
    // Without the cache, so that the second question goes upstream too.
    let (_master, server) = relaying(&[up.resolver()], json!({ "cacheOn": false }));
    for transport in [Transport::Udp, Transport::Tcp] {
        let d = dig(server.port, WWW, "A", transport);
        assert_eq!(d.status, "NOERROR", "{transport:?}:\n{}", d.raw);
        assert!(!d.has_flag("aa"), "{}", d.raw);
        assert_eq!(d.answer_data("A"), vec![MADE_UP.to_string()], "{}", d.raw);
        assert_eq!(d.answer[0].0, format!("{WWW}."), "{}", d.raw);
    }
    assert_eq!(
        up.transports_for(WWW),
        [Transport::Udp, Transport::Tcp],
        "dig over UDP is relayed over UDP, dig over TCP over TCP"
    );
}

#[test]
fn upstream_answer_is_passed_back_byte_for_byte_except_the_id() {
    let template = unusual_answer();
    // Our own decoder accepts it whole, so it is a well-formed message.
    let decoded = dns::parse(&template).expect("the template is a valid DNS message");
    assert_eq!(
        (decoded.answers.len(), decoded.authority.len(), decoded.additional.len()),
        (2, 1, 2)
    );
    let up = Upstream::start(Behaviour::Rcode(dns::NXDOMAIN));
    up.set(WWW, Behaviour::Raw(template.clone()));
    // Without the cache: a cached answer keeps only the question's own records.
    let (_master, server) = relaying(&[up.resolver()], json!({ "cacheOn": false }));

    for (i, transport) in [Transport::Udp, Transport::Tcp].into_iter().enumerate() {
        let id = fresh_id();
        let query = dns::query(id, WWW, dns::A);
        let got = exchange(server.port, &query, transport, Duration::from_secs(3))
            .unwrap_or_else(|e| panic!("{transport:?}: {e}; log:\n{}", server.log_text()));
        let mut want = template.clone();
        want[..2].copy_from_slice(&id.to_be_bytes());
        assert_eq!(got, want, "{transport:?}: the upstream's bytes with our client's ID");

        // The query went up byte for byte too, but for its fresh ID.
        let seen = &up.seen()[i];
        assert_eq!(seen.transport, transport);
        assert_eq!(seen.bytes[2..], query[2..], "{transport:?}: the query relayed as asked");
        // And what the upstream sent is the template under the ID it was asked with.
        let (sent_over, sent) = &up.sent()[i];
        assert_eq!(*sent_over, transport);
        assert_eq!(sent[..2], seen.id.to_be_bytes());
        assert_eq!(sent[2..], template[2..]);
    }
    // dig reads it as the upstream wrote it: mixed-case question, CNAME chain, AD flag.
    let d = dig(server.port, WWW, "A", Transport::Udp);
    assert_eq!(d.status, "NOERROR", "{}", d.raw);
    assert!(d.has_flag("ad") && !d.has_flag("aa"), "{}", d.raw);
    assert_eq!(
        d.answer_data("CNAME"),
        vec!["edge.example.net.".to_owned()],
        "{}",
        d.raw
    );
    assert_eq!(d.answer_data("A"), vec![MADE_UP.to_string()], "{}", d.raw);
    assert!(
        d.raw.contains("WwW.GooGle.CoM."),
        "question case as the upstream wrote it:\n{}",
        d.raw
    );
}

/// An answer a re-encoding relay would change: a question in mixed case, owner names not compressed
/// where they could be, the AD flag, odd TTLs, authority and additional records, and an OPT record with
/// the DO bit and an NSID option.
fn unusual_answer() -> Vec<u8> {
    fn name(m: &mut Vec<u8>, text: &str) {
        for label in text.split('.') {
            m.push(label.len() as u8);
            m.extend_from_slice(label.as_bytes());
        }
        m.push(0);
    }
    fn rr(m: &mut Vec<u8>, owner: &[u8], rtype: u16, class: u16, ttl: u32, rdata: &[u8]) {
        m.extend_from_slice(owner);
        m.extend_from_slice(&rtype.to_be_bytes());
        m.extend_from_slice(&class.to_be_bytes());
        m.extend_from_slice(&ttl.to_be_bytes());
        m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(rdata);
    }
    let wire = |text: &str| {
        let mut v = Vec::new();
        name(&mut v, text);
        v
    };
    // ID 0, QR RD RA AD, 1 question, 2 answers, 1 authority, 2 additional.
    let mut m = vec![0, 0, 0x81, 0xa0, 0, 1, 0, 2, 0, 1, 0, 2];
    name(&mut m, "WwW.GooGle.CoM");
    m.extend_from_slice(&[0, 1, 0, 1]);
    rr(&mut m, &wire("www.google.com"), 5, 1, 12345, &wire("edge.example.net"));
    rr(&mut m, &wire("edge.example.net"), 1, 1, 59, &MADE_UP.octets());
    rr(&mut m, &[0xc0, 0x0c], 2, 1, 86400, &wire("ns1.example.net"));
    rr(&mut m, &wire("ns1.example.net"), 1, 1, 7, &[127, 1, 2, 53]);
    rr(
        &mut m,
        &[0],
        dns::OPT,
        1232,
        0x0000_8000,
        &[0, 3, 0, 4, b't', b'e', b's', b't'],
    );
    m
}

/// A 740-byte answer to `www.google.com` A, without TC: 43 A records and a TXT record in the
/// additional section. More than a client without EDNS takes over UDP (512).
fn answer_of_740_bytes() -> Vec<u8> {
    let mut m = vec![0, 0, 0x81, 0x80, 0, 1, 0, 43, 0, 0, 0, 1];
    m.extend_from_slice(b"\x03www\x06google\x03com\x00\x00\x01\x00\x01");
    for i in 0..43u8 {
        m.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x01\x03");
        m.push(i + 1);
    }
    m.extend_from_slice(b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c\x00\x08\x07padding");
    m
}

#[test]
fn relayed_answer_too_big_for_a_udp_client_is_truncated_and_whole_over_tcp() {
    let big = answer_of_740_bytes();
    assert_eq!(big.len(), 740);
    assert_eq!(dns::parse(&big).expect("valid").answers.len(), 43);
    let up = Upstream::start(Behaviour::Raw(big.clone()));
    // Without the cache: the TCP answer is compared with the upstream's bytes, additional TXT included.
    let (_master, server) = relaying(&[up.resolver()], json!({ "cacheOn": false }));

    // Without EDNS: TC, the question, no records.
    let id = fresh_id();
    let query = dns::query(id, WWW, dns::A);
    let got = dns::udp(server.port, &query, Duration::from_secs(3)).unwrap_or_else(|e| {
        panic!(
            "no UDP answer: {e}; log:
{}",
            server.log_text()
        )
    });
    assert!(
        got.len() <= 512,
        "{} bytes over UDP to a client without EDNS",
        got.len()
    );
    let r = dns::parse(&got).expect("decodable");
    assert_eq!((r.id, r.rcode), (id, dns::NOERROR));
    assert!(r.tc(), "TC set: {r:?}");
    assert!(
        r.answers.is_empty() && r.additional.is_empty(),
        "whole RRsets only: none: {r:?}"
    );
    assert_eq!(r.questions.len(), 1);
    // Over TCP, the whole answer.
    let id = fresh_id();
    let got = dns::tcp(server.port, &dns::query(id, WWW, dns::A), Duration::from_secs(3)).expect("TCP answer");
    let mut want = big.clone();
    want[..2].copy_from_slice(&id.to_be_bytes());
    assert_eq!(got, want);
    // A client offering 1232 bytes over EDNS takes it whole over UDP.
    let id = fresh_id();
    let mut query = dns::query(id, WWW, dns::A);
    query[11] = 1;
    query.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    let got = dns::udp(server.port, &query, Duration::from_secs(3)).expect("UDP answer");
    assert_eq!(got.len(), 740);
    assert!(!dns::parse(&got).expect("decodable").tc());
}

/// Asks `name` over UDP from a socket `connect()`ed to `ip`:`port`, which takes a reply from that
/// address only (as glibc, musl and dig do); `None` if nothing came from there within a second.
fn ask_connected(ip: Ipv4Addr, port: u16, name: &str) -> Option<Response> {
    dns::ask_a([127, 0, 0, 1].into(), (ip, port).into(), fresh_id(), name)
}

#[test]
fn on_every_address_udp_replies_leave_from_the_address_asked() {
    // All of 127/8 is local on Linux: 127.0.0.5 is a second address of this host, not its primary one.
    let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    let (_master, server) = relaying(&[up.resolver()], json!({ "listener": "0.0.0.0" }));
    for ip in [Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 5)] {
        let r = ask_connected(ip, server.port, NGINX)
            .unwrap_or_else(|| panic!("no authoritative reply from {ip}; log:\n{}", server.log_text()));
        assert_eq!(r.answer_data(dns::A), vec![NGINX_IP.to_string()], "{ip}");
        let r = ask_connected(ip, server.port, WWW)
            .unwrap_or_else(|| panic!("no relayed reply from {ip}; log:\n{}", server.log_text()));
        assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()], "{ip}");
    }
}

// ---------------------------------------------------------------------------------------------------
// Transports

#[test]
fn tcp_client_is_relayed_over_tcp() {
    let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    let (_master, server) = relaying(&[up.resolver()], json!({}));
    let r = server.ask(WWW, dns::A, Transport::Tcp);
    assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()], "{r:?}");
    assert_eq!(
        (up.count(Transport::Udp), up.count(Transport::Tcp)),
        (0, 1),
        "{:?}",
        up.seen()
    );

    // One connection with a relayed and an authoritative query pipelined: both answered, matched by ID.
    let mut conn = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(3))).expect("timeout");
    let (relayed, local) = (fresh_id(), fresh_id());
    let mut frames = Vec::new();
    for q in [
        dns::query(relayed, "pipelined.example.com", dns::A),
        dns::query(local, NGINX, dns::A),
    ] {
        frames.extend_from_slice(&(q.len() as u16).to_be_bytes());
        frames.extend_from_slice(&q);
    }
    conn.write_all(&frames).expect("send");
    let mut answers = Vec::new();
    for _ in 0..2 {
        let bytes = dns::read_framed(&mut conn).unwrap_or_else(|e| panic!("{e}; log:\n{}", server.log_text()));
        answers.push(dns::parse(&bytes).expect("decodable"));
    }
    answers.sort_by_key(|r| r.id != relayed);
    assert_eq!(answers[0].id, relayed);
    assert_eq!(answers[0].answer_data(dns::A), vec![MADE_UP.to_string()]);
    assert_eq!(answers[1].id, local);
    assert!(answers[1].aa());
    assert_eq!(answers[1].answer_data(dns::A), vec![NGINX_IP.to_string()]);
    assert_eq!(up.transports_for("pipelined.example.com"), [Transport::Tcp]);
}

#[test]
fn ipv6_loopback_resolver_is_used_over_udp_and_tcp() {
    let up = Upstream::start_v6(Behaviour::Answer(vec![MADE_UP]));
    assert!(up.resolver().starts_with("[::1]:"), "{}", up.resolver());
    let (_master, server) = relaying(&[up.resolver()], json!({ "cacheOn": false }));
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(WWW, dns::A, transport);
        assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()], "{transport:?}: {r:?}");
    }
    assert_eq!(up.transports_for(WWW), [Transport::Udp, Transport::Tcp]);
    assert!(up.seen().iter().all(|s| s.from.ip().is_loopback() && s.from.is_ipv6()));
}

// ---------------------------------------------------------------------------------------------------
// Configuration and loops

#[test]
fn externalon_false_refuses_outside_names_and_never_asks_the_upstream() {
    let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    let (_master, server) = relaying(&[up.resolver()], json!({ "externalon": false }));
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(WWW, dns::A, transport);
        assert_eq!(r.rcode, dns::REFUSED, "{transport:?}: {r:?}");
        assert!(r.answers.is_empty() && !r.aa(), "{r:?}");
        let d = dig(server.port, WWW, "A", transport);
        assert_eq!(d.status, "REFUSED", "{}", d.raw);
    }
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP], "the domain is still answered");
    assert!(up.seen().is_empty(), "the upstream saw nothing: {:?}", up.seen());
}

/// Starts a server whose `resolvers` are given by `list(own port)`.
fn start_with_resolvers(master: &FakeMaster, list: impl FnOnce(u16) -> Vec<String>) -> Server {
    let cfg = TestConfig::write(&[master.addr()], json!({ "timeout": 5 }));
    let text = std::fs::read(&cfg.path).expect("read config");
    let mut config: Value = serde_json::from_slice(&text).expect("config JSON");
    config["resolvers"] = json!(list(cfg.port));
    std::fs::write(&cfg.path, serde_json::to_vec_pretty(&config).expect("JSON")).expect("write config");
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir);
    server.wait_loaded();
    server
}

#[test]
fn own_listen_address_as_resolver_is_skipped_with_a_warning() {
    let master = FakeMaster::serving(tutorial());
    let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    let server = start_with_resolvers(&master, |own| vec![format!("127.0.0.1:{own}"), up.resolver()]);
    wait_until("the warning about our own address", Duration::from_secs(5), || {
        server.log_text().contains("own address")
    });
    let (r, took) = ask_timed(&server, WWW, dns::A, Transport::Udp, Duration::from_secs(10));
    assert_eq!(r.rcode, dns::NOERROR, "{r:?}");
    assert_eq!(
        r.answer_data(dns::A),
        vec![MADE_UP.to_string()],
        "the other resolver answers"
    );
    assert!(
        took < Duration::from_secs(2),
        "took {took:?}: our own address was not tried"
    );
    assert_eq!(up.transports_for(WWW), [Transport::Udp]);
}

#[test]
fn query_relayed_back_to_us_gets_servfail_instead_of_looping() {
    // `::ffff:127.0.0.1` is our own 127.0.0.1 in IPv6 form: it gets past the own-address check, so the
    // relayed query really arrives back at our DNS port, from one of our relay sockets.
    let master = FakeMaster::serving(tutorial());
    let server = start_with_resolvers(&master, |own| vec![format!("[::ffff:127.0.0.1]:{own}")]);
    for transport in [Transport::Udp, Transport::Tcp] {
        let (r, took) = ask_timed(&server, WWW, dns::A, transport, Duration::from_secs(10));
        assert_eq!(r.rcode, dns::SERVFAIL, "{transport:?}: {r:?}");
        assert!(r.answers.is_empty(), "{r:?}");
        assert!(
            took < Duration::from_secs(2),
            "{transport:?}: took {took:?}, not a 5 s timeout"
        );
    }
    // Still serving, and still relaying.
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    let r = server.ask(WWW, dns::AAAA, Transport::Udp);
    assert_eq!(r.rcode, dns::SERVFAIL, "{r:?}");
}

#[test]
fn tcp_query_relayed_back_to_us_is_not_relayed_again() {
    // Over UDP our relay socket's source port gives the loop away; over TCP the looping query arrives on
    // a fresh connection from an ephemeral port. If it is relayed again, every hop holds two more open
    // sockets in the server until the connection cap ends the chain: count the server's descriptors.
    let master = FakeMaster::serving(tutorial());
    let server = start_with_resolvers(&master, |own| vec![format!("[::ffff:127.0.0.1]:{own}")]);
    let fd_dir = format!("/proc/{}/fd", server.pid());
    let fds = || std::fs::read_dir(&fd_dir).map_or(0, |d| d.count());
    let baseline = fds();
    assert!(baseline > 0, "cannot read {fd_dir}");
    let done = std::sync::atomic::AtomicBool::new(false);
    let peak = thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut peak = 0;
            for _ in 0..200_000 {
                if done.load(Ordering::SeqCst) {
                    break;
                }
                peak = peak.max(fds());
            }
            peak
        });
        for _ in 0..5 {
            let (r, took) = ask_timed(&server, WWW, dns::A, Transport::Tcp, Duration::from_secs(10));
            assert_eq!(r.rcode, dns::SERVFAIL, "{r:?}");
            assert!(took < Duration::from_secs(2), "took {took:?}");
        }
        done.store(true, Ordering::SeqCst);
        sampler.join().expect("sampler")
    });
    assert!(
        peak < baseline + 20,
        "the looping TCP query opened a chain of connections to ourselves: {peak} descriptors at the peak, \
         {baseline} before"
    );
}

// ---------------------------------------------------------------------------------------------------
// The loop never waits on upstreams

#[test]
fn authoritative_answers_keep_flowing_while_relayed_queries_hang() {
    const RELAYED_UDP: u16 = 40;
    const RELAYED_TCP: u16 = 10;
    const AUTHORITATIVE_UDP: u16 = 200;
    const AUTHORITATIVE_TCP: u16 = 20;
    let relay_timeout = Duration::from_secs(5);
    let up = Upstream::start(Behaviour::Hang);
    let (_master, server) = relaying(&[up.resolver()], json!({ "timeout": relay_timeout.as_secs() }));

    let started = Instant::now();
    let relay_client = UdpSocket::bind("127.0.0.1:0").expect("bind");
    relay_client.connect(("127.0.0.1", server.port)).expect("connect");
    for i in 0..RELAYED_UDP {
        relay_client
            .send(&dns::query(0x2000 + i, &format!("hang{i}.example.com"), dns::A))
            .expect("send");
    }
    let mut tcp_clients = Vec::new();
    for i in 0..RELAYED_TCP {
        let mut conn = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        let q = dns::query(0x2100 + i, &format!("hang-tcp{i}.example.com"), dns::A);
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        conn.write_all(&framed).expect("send");
        tcp_clients.push(conn);
    }
    up.wait_queries(usize::from(RELAYED_UDP + RELAYED_TCP), Duration::from_secs(4));

    let client = UdpSocket::bind("127.0.0.1:0").expect("bind");
    client.connect(("127.0.0.1", server.port)).expect("connect");
    client.set_read_timeout(Some(Duration::from_secs(1))).expect("timeout");
    let mut worst = Duration::ZERO;
    let mut buf = [0u8; 512];
    for i in 0..AUTHORITATIVE_UDP {
        let id = 0x3000 + i;
        let t0 = Instant::now();
        client.send(&dns::query(id, NGINX, dns::A)).expect("send");
        let n = client
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("authoritative query {i} got no answer: {e}"));
        worst = worst.max(t0.elapsed());
        let r = dns::parse(&buf[..n]).expect("decodable");
        assert_eq!(r.id, id);
        assert!(r.aa(), "{r:?}");
        assert_eq!(r.answer_data(dns::A), vec![NGINX_IP.to_string()]);
    }
    for i in 0..AUTHORITATIVE_TCP {
        let id = 0x3400 + i;
        let t0 = Instant::now();
        let bytes = dns::tcp(server.port, &dns::query(id, NGINX, dns::A), Duration::from_secs(1))
            .unwrap_or_else(|e| panic!("authoritative TCP query {i} got no answer: {e}"));
        worst = worst.max(t0.elapsed());
        let r = dns::parse(&bytes).expect("decodable");
        assert_eq!((r.id, r.answer_data(dns::A)), (id, vec![NGINX_IP.to_string()]));
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < relay_timeout,
        "all {AUTHORITATIVE_UDP}+{AUTHORITATIVE_TCP} authoritative answers while the relays were pending ({elapsed:?})"
    );
    assert!(
        worst < Duration::from_millis(500),
        "slowest authoritative answer: {worst:?}"
    );

    // The relayed queries were indeed still pending all along: none of their clients has an answer.
    relay_client.set_nonblocking(true).expect("nonblocking");
    let pending = relay_client.recv(&mut buf).map(|n| buf[..n].to_vec());
    assert!(
        matches!(&pending, Err(e) if e.kind() == io::ErrorKind::WouldBlock),
        "a relayed query was answered early: {pending:02x?}"
    );
    for conn in &mut tcp_clients {
        conn.set_nonblocking(true).expect("nonblocking");
        let got = conn.read(&mut buf);
        assert!(
            matches!(&got, Err(e) if e.kind() == io::ErrorKind::WouldBlock),
            "a relayed TCP query was answered early or closed: {got:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// A real resolver

#[test]
fn relays_through_unbound_with_local_data() {
    let unbound = Unbound::start(&[
        "www.google.com. 300 IN A 127.1.2.3",
        "www.google.com. 300 IN AAAA ::1",
        "mirror.example.org. 60 IN A 127.1.2.5",
    ]);
    let (_master, server) = relaying(&[unbound.resolver()], json!({}));
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(WWW, dns::A, transport);
        assert_eq!(r.rcode, dns::NOERROR, "{transport:?}: {r:?}");
        assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()], "{transport:?}");
        assert!(
            r.aa(),
            "unbound's local data is authoritative, and its flags come through"
        );
        let d = dig(server.port, WWW, "AAAA", transport);
        assert_eq!(d.answer_data("AAAA"), vec!["::1".to_owned()], "{}", d.raw);
        let d = kdig(server.port, "mirror.example.org", "A", transport);
        assert_eq!(d.answer_data("A"), vec!["127.1.2.5".to_owned()], "{}", d.raw);
    }
    // Names unbound does not serve: it refuses (it never recurses), and that is passed on.
    let r = server.ask("elsewhere.example.net", dns::A, Transport::Udp);
    assert_eq!(r.rcode, dns::REFUSED, "{r:?}");
}

#[test]
fn empty_resolvers_fall_back_to_the_nameservers_of_resolv_conf() {
    // resolv.conf names port 53 only: this upstream has 127.53.x.y:53 to itself.
    let up = Upstream::start_on_port_53(Behaviour::Answer(vec![MADE_UP]));
    let master = FakeMaster::serving(tutorial());
    let cfg = TestConfig::write(&[master.addr()], json!({ "timeout": 1 }));
    let mut config: Value = serde_json::from_slice(&std::fs::read(&cfg.path).unwrap()).unwrap();
    config["resolvers"] = json!([]);
    std::fs::write(&cfg.path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    let resolv = cfg.dir.join("resolv.conf");
    // Comments, search and options lines around the one nameserver.
    let text = format!(
        "# generated by the test\nsearch example.internal\nnameserver {}\noptions ndots:1\n",
        up.addr().ip()
    );
    std::fs::write(&resolv, text).unwrap();
    let args = [
        "-v".to_owned(),
        format!("-config={}", cfg.path.display()),
        format!("-resolv-conf={}", resolv.display()),
    ];
    let server = Server::spawn(&args, cfg.port, cfg.dir.clone());
    server.wait_loaded();
    let (r, _) = ask_timed(&server, WWW, dns::A, Transport::Udp, Duration::from_secs(10));
    assert_eq!(r.rcode, dns::NOERROR, "{r:?}");
    assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()]);
    assert_eq!(up.count(Transport::Udp), 1, "the resolv.conf nameserver was asked");
}

// ---------------------------------------------------------------------------------------------------
// The answer cache

/// An answer to `www.google.com` A: one record with this TTL (our `Upstream` makes up TTL 300).
fn www_answer_with_ttl(ttl: u32, ip: Ipv4Addr) -> Vec<u8> {
    let mut m = vec![0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    m.extend_from_slice(b"\x03www\x06google\x03com\x00\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01");
    m.extend_from_slice(&ttl.to_be_bytes());
    m.extend_from_slice(&[0, 4]);
    m.extend_from_slice(&ip.octets());
    m
}

fn a_ttls(r: &Response) -> Vec<u32> {
    r.answers.iter().map(|a| a.ttl).collect()
}

#[test]
fn a_repeated_name_is_asked_upstream_once_whatever_its_case_and_transport() {
    let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    let (_master, server) = relaying(&[up.resolver()], json!({}));
    let first = server.ask(WWW, dns::A, Transport::Udp);
    assert_eq!(first.answer_data(dns::A), vec![MADE_UP.to_string()]);
    for (name, transport) in [
        (WWW, Transport::Udp),
        ("WwW.gOOgle.COM", Transport::Udp),
        ("www.GOOGLE.com", Transport::Tcp),
    ] {
        let r = server.ask(name, dns::A, transport);
        assert_eq!(r.rcode, dns::NOERROR, "{name} {transport:?}: {r:?}");
        assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()], "{name}");
        assert_eq!(
            r.questions,
            vec![(format!("{name}."), dns::A, 1)],
            "the client's own case (0x20)"
        );
        let d = dig(server.port, name, "A", transport);
        assert_eq!(d.answer_data("A"), vec![MADE_UP.to_string()], "{}", d.raw);
    }
    // dig sends EDNS, which is another entry: two questions upstream in all, for seven answers.
    assert_eq!(up.names(), [WWW, WWW], "{:?}", up.seen());
}

#[test]
fn a_cached_answer_outlives_unbound_and_its_ttl_counts_down() {
    let unbound = Unbound::start(&["www.google.com. 2 IN A 127.1.2.3"]);
    let (_master, server) = relaying(&[unbound.resolver()], json!({}));
    let r = server.ask(WWW, dns::A, Transport::Udp);
    assert_eq!(
        (r.answer_data(dns::A), a_ttls(&r)),
        (vec![MADE_UP.to_string()], vec![2])
    );
    drop(unbound);
    // Unbound's local data always says 2: a 1 can only come from our cache, counting down.
    wait_until("the cached TTL down to 1", Duration::from_secs(3), || {
        let r = server.ask(WWW, dns::A, Transport::Udp);
        assert_eq!(
            r.answer_data(dns::A),
            vec![MADE_UP.to_string()],
            "answered with unbound gone"
        );
        let ttls = a_ttls(&r);
        assert!(ttls == [2] || ttls == [1], "never above the original: {ttls:?}");
        ttls == [1]
    });
}

#[test]
fn once_expired_the_name_is_asked_again_with_its_full_ttl() {
    let up = Upstream::start(Behaviour::Rcode(dns::NXDOMAIN));
    up.set(WWW, Behaviour::Raw(www_answer_with_ttl(1, MADE_UP)));
    let (_master, server) = relaying(&[up.resolver()], json!({}));
    assert_eq!(a_ttls(&server.ask(WWW, dns::A, Transport::Udp)), [1]);
    wait_until("a second question upstream", Duration::from_secs(4), || {
        let r = server.ask(WWW, dns::A, Transport::Udp);
        assert_eq!(a_ttls(&r), [1], "fresh or just refreshed: {r:?}");
        up.names().len() == 2
    });
}

#[test]
fn with_every_resolver_down_an_expired_answer_is_served_stale_with_ttl_30() {
    for (serve_stale, want) in [(86400, dns::NOERROR), (0, dns::SERVFAIL)] {
        let up = Upstream::start(Behaviour::Raw(www_answer_with_ttl(1, MADE_UP)));
        let (_master, server) = relaying(&[up.resolver()], json!({ "serveStaleSeconds": serve_stale }));
        assert_eq!(a_ttls(&server.ask(WWW, dns::A, Transport::Udp)), [1]);
        drop(up);
        // Within the second it is fresh (TTL 1); then relayed, refused at once (its port is closed:
        // ICMP port unreachable) or timed out, and served stale.
        let mut last = None;
        wait_until("the answer once the upstream failed", Duration::from_secs(6), || {
            let (r, took) = ask_timed(&server, WWW, dns::A, Transport::Udp, Duration::from_secs(3));
            let relayed = took >= Duration::from_millis(900) || r.rcode == dns::SERVFAIL || a_ttls(&r) == [30];
            last = Some(r);
            relayed
        });
        let r = last.expect("an answer");
        assert_eq!(r.rcode, want, "serveStaleSeconds {serve_stale}: {r:?}");
        if want == dns::NOERROR {
            assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()]);
            assert_eq!(a_ttls(&r), [30], "RFC 8767's TTL");
            let tcp = server.ask(WWW, dns::A, Transport::Tcp);
            assert_eq!((tcp.rcode, a_ttls(&tcp)), (dns::NOERROR, vec![30]), "over TCP too");
        } else {
            assert!(r.answers.is_empty());
        }
    }
}

#[test]
fn a_resolver_that_keeps_the_client_waiting_is_overtaken_by_the_expired_answer_at_1_8_s() {
    let up = Upstream::start(Behaviour::Raw(www_answer_with_ttl(1, MADE_UP)));
    // A resolver timeout far beyond the stale timer: the answer must come from the timer.
    let (_master, server) = relaying(&[up.resolver()], json!({ "timeout": 8 }));
    assert_eq!(a_ttls(&server.ask(WWW, dns::A, Transport::Udp)), [1]);
    up.set(WWW, Behaviour::Hang);
    std::thread::sleep(Duration::from_millis(1100)); // the entry's one second of life
    let asked = up.seen().len();
    let (r, took) = ask_timed(&server, WWW, dns::A, Transport::Udp, Duration::from_secs(6));
    assert_eq!((r.rcode, a_ttls(&r)), (dns::NOERROR, vec![30]), "{r:?}");
    assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()]);
    assert!(
        took >= Duration::from_millis(1700) && took < Duration::from_secs(5),
        "answered at the client response timer, not at once nor at the resolver's timeout: {took:?}"
    );
    assert!(up.seen().len() > asked, "the resolver was still asked");
}

// ---------------------------------------------------------------------------------------------------
// Who may relay

/// Asks `name` over UDP from `from` (a loopback address of this host) to the server.
fn ask_from(from: Ipv4Addr, port: u16, name: &str) -> Response {
    let sock = UdpSocket::bind((from, 0)).expect("bind the client address");
    sock.set_read_timeout(Some(Duration::from_secs(3))).expect("timeout");
    let id = fresh_id();
    sock.send_to(&dns::query(id, name, dns::A), ("127.0.0.1", port))
        .expect("send");
    let mut buf = [0u8; 4096];
    let n = sock
        .recv(&mut buf)
        .unwrap_or_else(|e| panic!("no answer for {name} from {from}: {e}"));
    let r = dns::parse(&buf[..n]).expect("decodable");
    assert_eq!(r.id, id);
    r
}

#[test]
fn relay_allow_from_refuses_outside_names_to_others_and_still_answers_the_domain() {
    let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    let (_master, server) = relaying(&[up.resolver()], json!({ "relayAllowFrom": ["127.0.0.1/32"] }));
    let other = Ipv4Addr::new(127, 0, 0, 5);
    let r = ask_from(other, server.port, "refused.example.com");
    assert_eq!(r.rcode, dns::REFUSED, "{r:?}");
    assert!(r.answers.is_empty());
    let r = ask_from(other, server.port, NGINX);
    assert_eq!(
        (r.rcode, r.answer_data(dns::A)),
        (dns::NOERROR, vec![NGINX_IP.to_string()]),
        "the domain is answered to anyone"
    );
    let r = ask_from(Ipv4Addr::LOCALHOST, server.port, "allowed.example.com");
    assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()], "{r:?}");
    // Over TCP, from the other address (dig -b binds the client's end).
    let out = std::process::Command::new("dig")
        .args(["-b", "127.0.0.5", "@127.0.0.1", "-p", &server.port.to_string()])
        .args([
            "refused-tcp.example.com",
            "A",
            "+tcp",
            "+norecurse",
            "+time=2",
            "+tries=1",
        ])
        .output()
        .expect("run dig");
    let d = parse_dig(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(d.status, "REFUSED", "{}", d.raw);
    // A cached name is refused too: the cache is no way around the list.
    let r = ask_from(Ipv4Addr::LOCALHOST, server.port, WWW);
    assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()]);
    assert_eq!(ask_from(other, server.port, WWW).rcode, dns::REFUSED);
    assert_eq!(up.names(), ["allowed.example.com", WWW]);
}

// ---------------------------------------------------------------------------------------------------
// SIGHUP

#[test]
fn sighup_relays_to_the_new_resolvers_and_flushes_the_cache() {
    let old = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    // Another address family: the relay needs an IPv6 socket it did not have.
    let new = Upstream::start_v6(Behaviour::Answer(vec![Ipv4Addr::new(127, 1, 2, 9)]));
    let master = FakeMaster::serving(tutorial());
    let cfg = TestConfig::write(&[master.addr()], json!({ "resolvers": [old.resolver()], "timeout": 1 }));
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir.clone());
    server.wait_loaded();
    assert_eq!(
        server.ask(WWW, dns::A, Transport::Udp).answer_data(dns::A),
        vec![MADE_UP.to_string()]
    );

    let mut config: Value = serde_json::from_slice(&std::fs::read(&cfg.path).expect("read")).expect("JSON");
    config["resolvers"] = json!([new.resolver()]);
    std::fs::write(&cfg.path, serde_json::to_vec_pretty(&config).expect("JSON")).expect("write");
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(server.pid() as i32, libc::SIGHUP) }, 0);
    wait_until("the new resolver's answer", CHANGE_DEADLINE, || {
        server.ask(WWW, dns::A, Transport::Udp).answer_data(dns::A) == vec!["127.1.2.9".to_owned()]
    });
    assert_eq!(old.names(), [WWW], "the old resolver is asked no more");
    assert!(new.seen().iter().all(|s| s.from.is_ipv6()));
    let r = server.ask("other.example.com", dns::A, Transport::Tcp);
    assert_eq!(r.answer_data(dns::A), vec!["127.1.2.9".to_owned()]);
    assert!(
        !server.log_text().contains("`resolvers` changed"),
        "not a restart-only key any more:\n{}",
        server.log_text()
    );
}
