//! Reverse lookups end to end (`PTROn`): the real `mesos-dns` binary on loopback against the fake master
//! serving the tutorial, asked with `dig -x`, `kdig -x` and our own client. Known task and agent
//! addresses are answered authoritatively; every other reverse name is relayed to a test upstream on
//! loopback, as it is with `PTROn` off.

mod common;

use std::net::IpAddr;
use std::process::{Command, Stdio};

use common::dns;
use common::upstream::{Behaviour, Upstream};
use common::*;
use serde_json::{json, Value};

/// The TTL the servers here are configured with, to see that PTR records carry it.
const TTL: u32 = 45;
/// Container addresses given to the tutorial's nginx task (netinfo), IPv4 and IPv6.
const NGINX_CONTAINER_V4: &str = "10.200.0.5";
const NGINX_CONTAINER_V6: &str = "fd01:b::1:8000:2";
/// nginx's names: `T.F.D` and the unique `T-H-S.F.D`.
const NGINX_NAME: &str = "nginx.marathon-0.7.6.mesos.";
const NGINX_UNIQUE: &str = "nginx-gwi91-s1.marathon-0.7.6.mesos.";

/// The tutorial with nginx in its own network namespace: a TASK_RUNNING status whose container has an
/// IPv4 and an IPv6 address (the default `IPSources` read `netinfo` first).
fn tutorial_with_container_addresses() -> Value {
    let mut state = tutorial();
    for t in tasks_mut(&mut state).iter_mut().filter(|t| t["name"] == "nginx") {
        t["statuses"] = json!([{
            "state": "TASK_RUNNING",
            "timestamp": 1422061000.5,
            "container_status": {"network_infos": [{"ip_addresses": [
                {"protocol": "IPv4", "ip_address": NGINX_CONTAINER_V4},
                {"protocol": "IPv6", "ip_address": NGINX_CONTAINER_V6},
            ]}]},
        }]);
    }
    state
}

/// A server that has loaded `state`, relaying to `upstream`, with `extra` config keys.
fn server(state: Value, upstream: &Upstream, extra: Value) -> (FakeMaster, Server) {
    let master = FakeMaster::serving(state);
    let mut config = json!({ "resolvers": [upstream.resolver()], "ttl": TTL });
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let server = Server::start_with(&[master.addr()], config);
    server.wait_loaded();
    (master, server)
}

/// `dig -x ADDR` (or `kdig -x ADDR`) against the server, parsed.
fn reverse_dig(tool: &str, port: u16, addr: &str, transport: Transport) -> Dig {
    let proto = if transport == Transport::Tcp { "+tcp" } else { "+notcp" };
    let retry = if tool == "dig" { "+tries=1" } else { "+retry=0" };
    let mut cmd = Command::new(tool);
    if tool == "dig" {
        cmd.arg("-r");
    }
    let out = cmd
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "-x",
            addr,
            proto,
            "+norecurse",
            "+time=2",
            retry,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} (apt-get install -y dnsutils knot-dnsutils): {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{tool} -x {addr} failed:\n{text}");
    parse_dig(&text)
}

/// The reverse name of an address, as text with the trailing dot.
fn reverse_name(addr: &str) -> String {
    match addr.parse::<IpAddr>().expect("an address") {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa.")
        }
        IpAddr::V6(v6) => {
            let mut name = String::new();
            for o in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", o & 0xf, o >> 4));
            }
            name + "ip6.arpa."
        }
    }
}

/// Asks for the PTR records of `addr` with our client, dig and kdig over UDP and TCP, and checks each
/// gets exactly `want`, in that order, authoritatively.
fn assert_ptr(server: &Server, addr: &str, want: &[&str]) {
    let name = reverse_name(addr);
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(&name, dns::PTR, transport);
        assert_eq!(r.rcode, dns::NOERROR, "{addr} {transport:?}: {r:?}");
        assert!(r.aa(), "{addr} {transport:?}: authoritative: {r:?}");
        let got: Vec<&str> = r.answers.iter().map(|rr| rr.data.as_str()).collect();
        assert_eq!(got, want, "{addr} {transport:?}: the names, in order");
        for rr in &r.answers {
            assert_eq!((rr.name.as_str(), rr.rtype, rr.ttl), (name.as_str(), dns::PTR, TTL));
        }
        for tool in ["dig", "kdig"] {
            let d = reverse_dig(tool, server.port, addr, transport);
            assert_eq!(d.status, "NOERROR", "{tool} {transport:?}:\n{}", d.raw);
            assert!(d.has_flag("aa"), "{tool} {transport:?}:\n{}", d.raw);
            let got: Vec<(&str, &str, &str)> = d
                .answer
                .iter()
                .map(|(o, t, v)| (o.as_str(), t.as_str(), v.as_str()))
                .collect();
            let expected: Vec<(&str, &str, &str)> = want.iter().map(|w| (name.as_str(), "PTR", *w)).collect();
            assert_eq!(got, expected, "{tool} {transport:?}:\n{}", d.raw);
        }
    }
}

#[test]
fn dig_x_on_a_container_address_names_the_task_v4_and_v6() {
    let up = Upstream::start(Behaviour::Rcode(dns::NXDOMAIN));
    let (_master, server) = server(tutorial_with_container_addresses(), &up, json!({"PTROn": true}));
    // The forward names still give the container addresses.
    assert_eq!(
        server.a_records(NGINX),
        vec![NGINX_CONTAINER_V4.parse::<std::net::Ipv4Addr>().unwrap()]
    );
    assert_ptr(&server, NGINX_CONTAINER_V4, &[NGINX_NAME, NGINX_UNIQUE]);
    assert_ptr(&server, NGINX_CONTAINER_V6, &[NGINX_NAME, NGINX_UNIQUE]);
    // The agent keeps its own name.
    assert_ptr(&server, &NGINX_IP.to_string(), &["slave.mesos."]);
    assert!(up.seen().is_empty(), "nothing was relayed: {:?}", up.names());
}

#[test]
fn dig_x_on_a_host_networked_task_address_names_the_agent() {
    // In the tutorial, nginx runs on its agent's address (10.114.227.92): the PTR names the agent,
    // however many tasks share the address.
    let up = Upstream::start(Behaviour::Rcode(dns::NXDOMAIN));
    let (_master, server) = server(tutorial_scaled(), &up, json!({"ptron": true}));
    assert_eq!(server.a_records(NGINX).len(), 2);
    for agent in [NGINX_IP, S2_IP] {
        assert_ptr(&server, &agent.to_string(), &["slave.mesos."]);
    }
    assert!(up.seen().is_empty(), "nothing was relayed: {:?}", up.names());
}

#[test]
fn reverse_names_of_unknown_addresses_are_relayed() {
    let up = Upstream::start(Behaviour::Rcode(dns::NXDOMAIN));
    let (_master, server) = server(tutorial(), &up, json!({"PTROn": true}));
    for (addr, transport) in [("10.114.227.93", Transport::Udp), ("fd01:b::99", Transport::Tcp)] {
        let d = reverse_dig("dig", server.port, addr, transport);
        assert_eq!(d.status, "NXDOMAIN", "the upstream's answer, passed on:\n{}", d.raw);
        assert!(!d.has_flag("aa"), "not ours:\n{}", d.raw);
        let name = reverse_name(addr);
        assert!(
            up.names().contains(&name.trim_end_matches('.').to_owned()),
            "{name} reached the upstream: {:?}",
            up.names()
        );
    }
    // So is the reverse tree above a known address: we answer only for whole addresses.
    let r = server.ask("227.114.10.in-addr.arpa", dns::PTR, Transport::Udp);
    assert_eq!(r.rcode, dns::NXDOMAIN);
    assert!(!r.aa());
    assert!(up.names().contains(&"227.114.10.in-addr.arpa".to_owned()));
}

#[test]
fn without_ptron_reverse_lookups_are_relayed_as_before() {
    let up = Upstream::start(Behaviour::Rcode(dns::NXDOMAIN));
    let (_master, server) = server(tutorial_with_container_addresses(), &up, json!({}));
    for addr in [NGINX_CONTAINER_V4, &NGINX_IP.to_string()] {
        let d = reverse_dig("dig", server.port, addr, Transport::Udp);
        assert_eq!(d.status, "NXDOMAIN", "{addr}: the upstream's answer:\n{}", d.raw);
        assert!(!d.has_flag("aa"), "{addr}:\n{}", d.raw);
        assert!(d.answer.is_empty(), "{addr}:\n{}", d.raw);
        let name = reverse_name(addr);
        assert!(
            up.names().contains(&name.trim_end_matches('.').to_owned()),
            "{:?}",
            up.names()
        );
    }
    assert_eq!(
        server.a_records(NGINX),
        vec![NGINX_CONTAINER_V4.parse::<std::net::Ipv4Addr>().unwrap()]
    );
}
