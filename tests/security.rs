//! Secure defaults end to end (issue 26): who may relay (`relayAllowFrom` and its default) and response
//! rate limiting (`rateLimit`, `rateLimitSlip`; a valid DNS server cookie exempts a client), through the real binary, with clients at
//! public-looking addresses. Each test runs in a network namespace of its own ([`in_private_network`]):
//! its loopback interface carries 198.51.100.7, 198.51.100.8, 203.0.113.9 (documentation networks) and
//! 10.1.2.3 besides 127.0.0.1, and the fake master, the upstream resolver, the server and the clients
//! (our own sockets and dig) all live there; nothing touches the host's interfaces. Needs root (CI and
//! the dev machine run as root) and iproute2's `ip`.

mod common;

use std::io;
use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicU16, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::dig::printed_cookie;
use common::dns::{self, Response};
use common::upstream::{Behaviour, Upstream};
use common::*;
use serde_json::{json, Value};

const PUBLIC: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
/// In the same /24 as [`PUBLIC`].
const PUBLIC_NEIGHBOUR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 8);
const OTHER_PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 9);
const PRIVATE: Ipv4Addr = Ipv4Addr::new(10, 1, 2, 3);
/// What the upstream resolver answers for every outside name.
const MADE_UP: Ipv4Addr = Ipv4Addr::new(127, 1, 2, 3);

/// Runs `test` on a thread of its own in a new network namespace (namespaces are per thread; the
/// threads and processes it starts inherit it), with `lo` up and the test's client addresses on it.
fn in_private_network(test: impl FnOnce() + Send + 'static) {
    let run = thread::spawn(move || {
        // SAFETY: unshare changes the calling thread's namespaces only.
        let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(
            rc,
            0,
            "unshare(CLONE_NEWNET): {} (these tests need root)",
            io::Error::last_os_error()
        );
        ip(&["link", "set", "lo", "up"]);
        for addr in [PUBLIC, PUBLIC_NEIGHBOUR, OTHER_PUBLIC, PRIVATE] {
            ip(&["addr", "add", &format!("{addr}/32"), "dev", "lo"]);
        }
        test();
    });
    if let Err(panic) = run.join() {
        std::panic::resume_unwind(panic);
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ip (apt-get install -y iproute2): {e}"));
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fresh_id() -> u16 {
    static ID: AtomicU16 = AtomicU16::new(0x4000);
    ID.fetch_add(1, Ordering::SeqCst)
}

/// A server for the tutorial's state relaying to `upstream`, with the HTTP API (for `/metrics`) and
/// `extra` keys.
fn start(upstream: &Upstream, extra: Value) -> (FakeMaster, Server, u16) {
    let master = FakeMaster::serving(tutorial());
    let http_port = free_port();
    let mut config = json!({
        "resolvers": [upstream.resolver()],
        "timeout": 1,
        "httpon": true,
        "httpListener": "127.0.0.1",
        "httpport": http_port,
    });
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let server = Server::start_with(&[master.addr()], config);
    server.wait_loaded();
    (master, server, http_port)
}

/// Asks `name` A over UDP from `from` and waits up to a second for the answer.
fn ask_from(from: Ipv4Addr, port: u16, name: &str) -> Option<Response> {
    dns::ask_a(from.into(), ([127, 0, 0, 1], port).into(), fresh_id(), name)
}

fn must_ask_from(from: Ipv4Addr, server: &Server, name: &str) -> Response {
    ask_from(from, server.port, name)
        .unwrap_or_else(|| panic!("no answer for {name} from {from}; log:\n{}", server.log_text()))
}

/// The value of one sample line of `/metrics` (`name` with its labels, as written).
fn metric(http_port: u16, sample: &str) -> u64 {
    let body = http_get_ok(http_port, "/metrics");
    body.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {sample} in:\n{body}"))
}

/// dig from `from` (`-b`), with `args`.
fn dig_from(from: Ipv4Addr, port: u16, args: &[&str]) -> String {
    let from = from.to_string();
    let mut all = vec!["-b", &from, "+time=2", "+tries=1"];
    all.extend_from_slice(args);
    run("dig", port, &all)
}

// ---------------------------------------------------------------------------------------------------
// Who may relay

#[test]
fn by_default_outside_names_are_refused_to_public_clients_and_relayed_for_private_ones() {
    in_private_network(|| {
        let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
        let (_master, server, http) = start(&up, json!({}));
        for from in [PUBLIC, OTHER_PUBLIC] {
            let r = must_ask_from(from, &server, "refused.example.com");
            assert_eq!((r.rcode, r.answers.len()), (dns::REFUSED, 0), "{from}: {r:?}");
            let r = must_ask_from(from, &server, NGINX);
            assert_eq!(
                (r.rcode, r.answer_data(dns::A)),
                (dns::NOERROR, vec![NGINX_IP.to_string()]),
                "{from}: the domain is answered to anyone"
            );
        }
        for (from, name) in [
            (PRIVATE, "private.example.com"),
            (Ipv4Addr::LOCALHOST, "local.example.com"),
        ] {
            let r = must_ask_from(from, &server, name);
            assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()], "{from}: {r:?}");
            assert_eq!(
                must_ask_from(from, &server, NGINX).answer_data(dns::A),
                vec![NGINX_IP.to_string()]
            );
        }
        // A real client over TCP too.
        let out = dig_from(PUBLIC, server.port, &["refused-tcp.example.com", "A", "+tcp"]);
        assert_eq!(parse_dig(&out).status, "REFUSED", "{out}");
        let out = dig_from(PRIVATE, server.port, &["private-tcp.example.com", "A", "+tcp"]);
        assert_eq!(parse_dig(&out).answer_data("A"), [MADE_UP.to_string()], "{out}");
        assert_eq!(
            up.names(),
            ["private.example.com", "local.example.com", "private-tcp.example.com"],
            "only the private clients' names went upstream"
        );
        assert_eq!(metric(http, "mesos_dns_relay_not_allowed_total"), 3);
        // One line for the three refusals (a minute has not passed), naming the network and the key.
        let log = server.log_text();
        let lines: Vec<&str> = log.lines().filter(|l| l.contains("not relayed for clients")).collect();
        assert_eq!(lines.len(), 1, "{log}");
        assert!(
            lines[0].contains("198.51.100.0/24") && lines[0].contains("`relayAllowFrom`"),
            "{}",
            lines[0]
        );
    });
}

#[test]
fn relay_allow_from_every_address_restores_the_originals_open_relay() {
    in_private_network(|| {
        let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
        let (_master, server, http) = start(&up, json!({ "relayAllowFrom": ["0.0.0.0/0", "::/0"] }));
        for (from, name) in [(PUBLIC, "one.example.com"), (OTHER_PUBLIC, "two.example.com")] {
            let r = must_ask_from(from, &server, name);
            assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()], "{from}: {r:?}");
        }
        assert_eq!(metric(http, "mesos_dns_relay_not_allowed_total"), 0);
        assert_eq!(
            get_json_ok(http, "/v1/config")["RelayAllowFrom"],
            json!(["0.0.0.0/0", "::/0"])
        );
    });
}

#[test]
fn relay_allow_from_replaces_the_default() {
    in_private_network(|| {
        let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
        let (_master, server, _) = start(&up, json!({ "relayAllowFrom": ["203.0.113.0/24"] }));
        let r = must_ask_from(OTHER_PUBLIC, &server, "listed.example.com");
        assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()], "{r:?}");
        for from in [PRIVATE, Ipv4Addr::LOCALHOST, PUBLIC] {
            let r = must_ask_from(from, &server, "unlisted.example.com");
            assert_eq!(r.rcode, dns::REFUSED, "{from}: the default no longer applies");
        }
    });
}

// ---------------------------------------------------------------------------------------------------
// Response rate limiting

/// Floods the server with queries for `name` from each of `from` in turn for `length` (four every
/// millisecond or so, at most four times `length` in milliseconds of them), counting the answers that come back
/// until 300 ms after the last query. Returns (queries sent, answers, truncated answers, how long it
/// took).
fn flood(from: &[Ipv4Addr], port: u16, name: &str, length: Duration) -> (usize, usize, usize, Duration) {
    let socks: Vec<UdpSocket> = from
        .iter()
        .map(|&ip| {
            let sock = UdpSocket::bind((ip, 0)).expect("bind a flooding client");
            sock.connect(("127.0.0.1", port)).expect("connect");
            sock.set_nonblocking(true).expect("non-blocking");
            sock
        })
        .collect();
    let query = dns::query(fresh_id(), name, dns::A);
    let (mut sent, mut answers, mut truncated) = (0, 0, 0);
    let mut buf = [0u8; 4096];
    let mut drain = |answers: &mut usize, truncated: &mut usize| {
        for sock in &socks {
            while let Ok(n) = sock.recv(&mut buf) {
                let r = dns::parse(&buf[..n]).expect("decodable");
                if r.tc() {
                    *truncated += 1;
                } else {
                    assert_eq!(r.answer_data(dns::A), vec![NGINX_IP.to_string()]);
                    *answers += 1;
                }
            }
        }
    };
    let start = Instant::now();
    let most = 4 * length.as_millis() as usize;
    while sent < most && start.elapsed() < length {
        for _ in 0..4 {
            if socks[sent % socks.len()].send(&query).is_ok() {
                sent += 1;
            }
        }
        drain(&mut answers, &mut truncated);
        // Pacing, not waiting for anything: four queries a millisecond at most.
        thread::sleep(Duration::from_millis(1));
    }
    let took = start.elapsed();
    let last = Instant::now();
    while last.elapsed() < Duration::from_millis(300) {
        drain(&mut answers, &mut truncated);
        thread::yield_now();
    }
    (sent, answers, truncated, took)
}

#[test]
fn rate_limit_holds_a_flood_from_one_network_while_another_is_answered_in_full() {
    in_private_network(|| {
        let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
        let rate = 20;
        let (_master, server, http) = start(&up, json!({ "rateLimit": rate, "rateLimitSlip": 0 }));
        // Two addresses of one /24: held as one network.
        let (sent, answers, truncated, took) =
            flood(&[PUBLIC, PUBLIC_NEIGHBOUR], server.port, NGINX, Duration::from_secs(2));
        // The burst (one second's worth) and the rate over the flood and the 300 ms after it.
        let most = rate + ((took.as_secs_f64() + 0.3) * rate as f64).ceil() as usize;
        eprintln!("flood: {sent} queries in {took:?}, {answers} answered (at most {most} allowed)");
        assert!(sent > 10 * most, "the flood was {sent} queries");
        assert!(
            (rate..=most).contains(&answers),
            "{answers} answers to {sent} queries in {took:?}, want {rate} to {most}"
        );
        assert_eq!(truncated, 0, "rateLimitSlip 0: nothing slips");
        // Another network gets all its answers, burst included.
        for i in 0..rate {
            let r =
                ask_from(OTHER_PUBLIC, server.port, NGINX).unwrap_or_else(|| panic!("answer {i} to the other network"));
            assert_eq!(r.answer_data(dns::A), vec![NGINX_IP.to_string()]);
        }
        let dropped = metric(http, "mesos_dns_rate_limited_responses_total{action=\"dropped\"}");
        // Every query over the limit is counted (a datagram lost on loopback aside).
        let over = sent - answers;
        assert!(
            dropped as usize <= over && dropped as usize + over / 100 >= over,
            "{dropped} dropped, {sent} sent, {answers} answered"
        );
        assert_eq!(
            metric(http, "mesos_dns_rate_limited_responses_total{action=\"slipped\"}"),
            0
        );
    });
}

#[test]
fn slipped_answers_are_empty_and_truncated_and_dig_retries_them_over_tcp() {
    in_private_network(|| {
        let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
        let (_master, server, http) = start(&up, json!({ "rateLimit": 1, "rateLimitSlip": 1 }));
        // The burst is one answer; every response over it slips (empty, TC set, the question kept).
        let first = must_ask_from(PUBLIC, &server, NGINX);
        assert_eq!(first.answer_data(dns::A), vec![NGINX_IP.to_string()]);
        let slipped = must_ask_from(PUBLIC, &server, NGINX);
        assert!(slipped.tc() && slipped.qr(), "{slipped:?}");
        assert!(
            slipped.answers.is_empty() && slipped.authority.is_empty() && slipped.additional.is_empty(),
            "{slipped:?}"
        );
        assert_eq!(slipped.rcode, dns::NOERROR);
        // A real client: dig takes the truncated answer over UDP and asks again over TCP.
        let out = dig_from(PUBLIC, server.port, &[NGINX, "A"]);
        assert!(out.contains("Truncated, retrying in TCP mode"), "{out}");
        assert_eq!(parse_dig(&out).answer_data("A"), [NGINX_IP.to_string()], "{out}");
        assert!(metric(http, "mesos_dns_rate_limited_responses_total{action=\"slipped\"}") >= 2);
    });
}

#[test]
fn tcp_is_never_rate_limited() {
    in_private_network(|| {
        let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
        let (_master, server, _) = start(&up, json!({ "rateLimit": 1, "rateLimitSlip": 0 }));
        // Spend the UDP bucket of the network.
        assert!(ask_from(PUBLIC, server.port, NGINX).is_some());
        assert!(
            ask_from(PUBLIC, server.port, NGINX).is_none(),
            "over the limit over UDP"
        );
        // Ten queries over one TCP connection from the same address: all answered.
        let names = [NGINX, "A"].repeat(10);
        let mut args = vec!["+tcp", "+keepopen"];
        args.extend(names.iter().copied());
        let out = dig_from(PUBLIC, server.port, &args);
        assert_eq!(out.matches("status: NOERROR").count(), 10, "{out}");
        assert_eq!(out.matches(&NGINX_IP.to_string()).count(), 10, "{out}");
    });
}

#[test]
fn a_client_showing_a_valid_server_cookie_is_never_rate_limited() {
    in_private_network(|| {
        let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
        let (_master, server, http) = start(
            &up,
            json!({ "rateLimit": 1, "rateLimitSlip": 0, "relayAllowFrom": ["0.0.0.0/0", "::/0"] }),
        );
        // The burst (one answer) brings dig its server cookie.
        let first = dig_from(PUBLIC, server.port, &[NGINX, "A", "+cookie"]);
        let (cookie, _) = printed_cookie(&first);
        assert_eq!(cookie.len(), 48, "client and server cookie: {first}");
        // The network is over its limit now, but a query echoing the server cookie is answered every
        // time: the domain's names and relayed ones, asked by dig and by kdig.
        let echo = format!("+cookie={cookie}");
        let from = PUBLIC.to_string();
        for round in 0..5 {
            let out = dig_from(PUBLIC, server.port, &[NGINX, "A", &echo]);
            assert_eq!(printed_cookie(&out).1, "(good)", "round {round}: {out}");
            assert_eq!(
                parse_dig(&out).answer_data("A"),
                [NGINX_IP.to_string()],
                "round {round}: {out}"
            );
            let relayed = dig_from(PUBLIC, server.port, &["example.org", "A", &echo]);
            assert_eq!(
                parse_dig(&relayed).answer_data("A"),
                [MADE_UP.to_string()],
                "round {round}: {relayed}"
            );
            let k = run(
                "kdig",
                server.port,
                &["-b", &from, NGINX, "A", &echo, "+time=2", "+retry=0"],
            );
            assert!(k.contains(&NGINX_IP.to_string()), "round {round}: {k}");
        }
        // The same network without the cookie is held to the rate: a flood of about a second gets the
        // refill of that second and the 300 ms after it, at most.
        let (sent, answers, _, took) = flood(&[PUBLIC_NEIGHBOUR], server.port, NGINX, Duration::from_secs(1));
        let most = 1 + (took.as_secs_f64() + 0.3).ceil() as usize;
        assert!(
            sent > 100 && answers <= most,
            "{answers} of {sent} answered without a cookie in {took:?}"
        );
        assert!(metric(http, "mesos_dns_rate_limited_responses_total{action=\"dropped\"}") as usize >= sent - answers);
    });
}

/// The namespace's addresses are really the clients' sources (a check on the harness itself).
#[test]
fn clients_in_the_namespace_send_from_their_public_addresses() {
    in_private_network(|| {
        let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = server.local_addr().expect("address").port();
        let client = UdpSocket::bind((PUBLIC, 0)).expect("bind the public address");
        client.send_to(b"hello", ("127.0.0.1", port)).expect("send");
        server.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
        let mut buf = [0u8; 8];
        let (_, from) = server.recv_from(&mut buf).expect("the datagram");
        assert_eq!(from.ip(), IpAddr::V4(PUBLIC));
    });
}
