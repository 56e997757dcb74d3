//! Resolver health through the real binary: a first resolver that black-holes queries (a loopback
//! UDP socket nobody reads) or whose port is closed (ICMP port unreachable), the second answering.
//! With the seed's `timeout: 5`, a dead first resolver must cost a few queries at most, never every
//! one; when it comes back it is preferred again. Which resolver a query went to is checked by which
//! of our test resolvers saw it, and by the address each answers with. The decisions themselves (RTT
//! estimate, hedging delay, down after two failures, probe backoff) are unit tests on virtual time in
//! `src/forward/health.rs` and `src/forward/table/tests/health.rs`.

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use common::dns;
use common::upstream::{Behaviour, Upstream};
use common::*;
use serde_json::json;

/// How long a client waits for one answer: more than `timeout` (5 s), so a slow answer is measured,
/// not lost.
const CLIENT_WAIT: Duration = Duration::from_secs(7);

/// A server loaded with the tutorial, relaying to `resolvers` with the seed's `timeout: 5`, no cache
/// (each name goes upstream), and the HTTP API on for `/metrics`; and its HTTP port.
fn relaying(resolvers: &[String]) -> (FakeMaster, Server, u16) {
    let master = FakeMaster::serving(tutorial());
    let http_port = free_port();
    let server = Server::start_with(
        &[master.addr()],
        json!({
            "resolvers": resolvers,
            "timeout": 5,
            "cacheOn": false,
            "httpon": true,
            "httpListener": "127.0.0.1",
            "httpport": http_port,
        }),
    );
    server.wait_loaded();
    (master, server, http_port)
}

/// The address the test resolvers give name `i` of a round (loopback, made up).
fn made_up(round: u8, i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 100 + round, 0, i as u8)
}

/// Asks `name` (A) over UDP; its addresses and how long the answer took.
fn ask(server: &Server, name: &str) -> (Vec<String>, Duration) {
    let id = (name.len() as u16).wrapping_mul(977) ^ 0x5a5a;
    let start = Instant::now();
    let bytes = dns::udp(server.port, &dns::query(id, name, dns::A), CLIENT_WAIT)
        .unwrap_or_else(|e| panic!("no answer for {name}: {e}; log:\n{}", server.log_text()));
    let took = start.elapsed();
    let r = dns::parse(&bytes).unwrap_or_else(|e| panic!("{name}: undecodable: {e}"));
    assert_eq!((r.id, r.rcode), (id, dns::NOERROR), "{name}");
    (r.answer_data(dns::A), took)
}

/// The `/metrics` lines about `resolver`.
fn resolver_metrics(http_port: u16, resolver: &str) -> Vec<String> {
    let url = format!("http://127.0.0.1:{http_port}/metrics");
    let body = ureq::get(&url)
        .call()
        .and_then(|mut r| r.body_mut().read_to_string())
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let label = format!("{{resolver=\"{resolver}\"}}");
    body.lines()
        .filter(|l| l.contains(&label))
        .map(str::to_string)
        .collect()
}

/// The value of metric `name` for `resolver`.
fn metric(http_port: u16, resolver: &str, name: &str) -> f64 {
    let prefix = format!("mesos_dns_relay_resolver_{name}{{");
    resolver_metrics(http_port, resolver)
        .iter()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} for {resolver}: {:?}", resolver_metrics(http_port, resolver)))
}

fn median(mut took: Vec<Duration>) -> Duration {
    took.sort();
    took[took.len() / 2]
}

#[test]
fn a_black_holed_first_resolver_costs_a_few_queries_and_is_preferred_again_when_back() {
    // The first resolver: a UDP socket (and the TCP port beside it) that nobody ever reads.
    let hole = UdpSocket::bind("127.0.0.1:0").expect("bind the black hole");
    let hole_addr: SocketAddr = hole.local_addr().unwrap();
    let hole_tcp = TcpListener::bind(hole_addr).expect("hold the TCP port too, for the comeback");
    let second = Upstream::start(Behaviour::Rcode(dns::SERVFAIL));
    let names: Vec<String> = (0..30).map(|i| format!("name-{i}.example.com")).collect();
    for (i, name) in names.iter().enumerate() {
        second.set(name, Behaviour::Answer(vec![made_up(0, i)]));
    }
    let (_master, server, http_port) = relaying(&[hole_addr.to_string(), second.resolver()]);

    let mut took = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (ips, t) = ask(&server, name);
        assert_eq!(ips, [made_up(0, i).to_string()], "{name}: the second resolver's answer");
        took.push(t);
    }
    let over_1s = took.iter().filter(|t| **t > Duration::from_secs(1)).count();
    let over_50ms = took.iter().filter(|t| **t > Duration::from_millis(50)).count();
    eprintln!(
        "black-holed first resolver: median {:?}, {over_1s} of 30 over 1 s, {over_50ms} over 50 ms, slowest {:?}",
        median(took.clone()),
        took.iter().max()
    );
    assert!(over_1s <= 3, "{over_1s} names took over 1 s: {took:?}");
    let hole_label = hole_addr.to_string();
    assert_eq!(metric(http_port, &hole_label, "up"), 0.0, "marked down");
    assert!(metric(http_port, &hole_label, "timeouts_total") >= 2.0);
    assert_eq!(metric(http_port, &second.resolver(), "answered_total"), 30.0);
    assert!(metric(http_port, &second.resolver(), "srtt_seconds") > 0.0);

    // Down, it is only probed. It comes back just after the third probe went out: that one is lost,
    // and the wait to the next has grown to its cap (the slow end of the comeback).
    let sent = metric(http_port, &hole_label, "sent_total");
    wait_until("three probes", Duration::from_secs(15), || {
        metric(http_port, &hole_label, "sent_total") >= sent + 3.0
    });
    // It comes back on the same port: within a few seconds, queries go to it first again.
    drop((hole, hole_tcp));
    let back = Upstream::start_at(hole_addr, Behaviour::Rcode(dns::SERVFAIL));
    let came_back = Instant::now();
    let mut preferred_after = None;
    for n in 0..100 {
        let name = format!("back-{n}.example.com");
        back.set(&name, Behaviour::Answer(vec![made_up(1, n)]));
        second.set(&name, Behaviour::Answer(vec![made_up(2, n)]));
        let (ips, _) = ask(&server, &name);
        let key = name.to_ascii_lowercase();
        if ips == [made_up(1, n).to_string()] && !second.names().contains(&key) {
            preferred_after = Some(came_back.elapsed());
            break;
        }
        assert_eq!(
            ips,
            [made_up(2, n).to_string()],
            "{name}: one resolver's answer or the other's"
        );
        assert!(
            came_back.elapsed() < Duration::from_secs(10),
            "not preferred again after 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let preferred_after = preferred_after.expect("preferred again");
    eprintln!("black-holed first resolver back: preferred again after {preferred_after:?}");
    assert!(preferred_after < Duration::from_secs(5), "{preferred_after:?}");
    assert_eq!(metric(http_port, &hole_label, "up"), 1.0);
    assert!(
        back.seen().iter().any(|s| s.name.is_empty() && s.qtype == 2),
        "a `. NS` probe found it: {:?}",
        back.names()
    );
}

#[test]
fn a_closed_first_resolver_port_is_refused_at_once_and_the_second_answers() {
    let closed = dead_resolver();
    let second = Upstream::start(Behaviour::Rcode(dns::SERVFAIL));
    let names: Vec<String> = (0..10).map(|i| format!("closed-{i}.example.com")).collect();
    for (i, name) in names.iter().enumerate() {
        second.set(name, Behaviour::Answer(vec![made_up(3, i)]));
    }
    let (_master, server, http_port) = relaying(&[closed.clone(), second.resolver()]);
    let mut took = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (ips, t) = ask(&server, name);
        assert_eq!(ips, [made_up(3, i).to_string()], "{name}");
        took.push(t);
    }
    eprintln!(
        "closed first resolver: median {:?}, slowest {:?}",
        median(took.clone()),
        took.iter().max()
    );
    // Refused, not waited for: counted as errors, never as timeouts, and marked down after two.
    assert!(
        took.iter().all(|t| *t < Duration::from_secs(1)),
        "every answer at once: {took:?}"
    );
    assert!(metric(http_port, &closed, "errors_total") >= 2.0);
    assert_eq!(metric(http_port, &closed, "timeouts_total"), 0.0);
    assert_eq!(metric(http_port, &closed, "up"), 0.0);
}
