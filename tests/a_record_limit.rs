//! `aRecordLimit` end to end: the real binary on a state with one app of five instances on five agents
//! answers A queries with two of the five addresses, a random two each time, over UDP and TCP, to our
//! decoder and to `dig`; SRV answers stay whole; `/v1/config` shows the key.

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{json, Value};

/// The five agents' addresses (the tutorial's three and two more), where the five `nginx` run.
const AGENTS: [&str; 5] = [
    "10.14.245.208",
    "10.114.227.92",
    "10.29.107.105",
    "10.0.25.3",
    "10.0.25.4",
];

/// The tutorial with two more agents and `nginx` scaled to five instances, one on each agent.
fn five_nginx() -> Value {
    let mut state = tutorial();
    let slaves = state["slaves"].as_array_mut().expect("tutorial has agents");
    let template = slaves[0].clone();
    for (n, ip) in [(3, AGENTS[3]), (4, AGENTS[4])] {
        let mut agent = template.clone();
        agent["id"] = json!(format!("20150124-005312-2536286730-5050-1180-S{n}"));
        agent["pid"] = json!(format!("slave(1)@{ip}:5051"));
        agent["hostname"] = json!(ip);
        slaves.push(agent);
    }
    nginx_on_each_agent(&mut state);
    state
}

/// The A addresses of one answer, checked distinct and among the agents'.
fn two_of_five(addresses: Vec<String>, what: &str) -> Vec<String> {
    let set: BTreeSet<&String> = addresses.iter().collect();
    assert_eq!(set.len(), addresses.len(), "{what}: distinct addresses: {addresses:?}");
    assert_eq!(addresses.len(), 2, "{what}: {addresses:?}");
    assert!(
        addresses.iter().all(|a| AGENTS.contains(&a.as_str())),
        "{what}: {addresses:?}"
    );
    addresses
}

#[test]
fn a_answers_carry_two_random_addresses_of_five_over_udp_and_tcp() {
    let master = FakeMaster::serving(five_nginx());
    // Without the key, every address.
    let all = Server::start(&[master.addr()]);
    all.wait_loaded();
    let mut every: Vec<String> = AGENTS.iter().map(|a| a.to_string()).collect();
    every.sort();
    assert_eq!(all.ask(NGINX, dns::A, Transport::Udp).answer_data(dns::A), every);
    drop(all);

    let http_port = free_port();
    let server = Server::start_with(
        &[master.addr()],
        json!({"aRecordLimit": 2, "httpon": true, "httpListener": "127.0.0.1", "httpport": http_port}),
    );
    server.wait_loaded();
    for transport in [Transport::Udp, Transport::Tcp] {
        let mut seen = BTreeSet::new();
        let mut pairs = BTreeSet::new();
        for i in 0..50 {
            let r = server.ask(NGINX, dns::A, transport);
            assert_eq!(r.rcode, dns::NOERROR, "{transport:?}: {r:?}");
            assert!(!r.tc(), "{transport:?}: cut, not truncated: {r:?}");
            let got = two_of_five(r.answer_data(dns::A), &format!("{transport:?} query {i}"));
            pairs.insert(got.clone());
            seen.extend(got);
        }
        // Each address is in an answer with probability 2/5: missing from all 50 is about 1e-11.
        assert!(seen.len() > 2, "{transport:?}: {seen:?}");
        assert_eq!(seen.len(), 5, "{transport:?}: every instance gets its share: {seen:?}");
        assert!(pairs.len() > 1, "{transport:?}: a random two each time: {pairs:?}");
    }
    for transport in [Transport::Udp, Transport::Tcp] {
        let mut seen = BTreeSet::new();
        for i in 0..10 {
            let d = dig(server.port, NGINX, "A", transport);
            assert_eq!(d.status, "NOERROR", "{transport:?}:\n{}", d.raw);
            seen.extend(two_of_five(
                d.answer_data("A"),
                &format!("dig {transport:?} {i}:\n{}", d.raw),
            ));
        }
        assert!(seen.len() > 2, "dig {transport:?}: {seen:?}");
    }
    // SRV is not limited, nor the addresses of its targets in the additional section.
    let srv = server.ask("_nginx._tcp.marathon-0.7.6.mesos", dns::SRV, Transport::Tcp);
    assert_eq!(srv.answer_data(dns::SRV).len(), 5, "{srv:?}");
    let glue: BTreeSet<&str> = srv
        .additional
        .iter()
        .filter(|rr| rr.rtype == dns::A)
        .map(|rr| rr.data.as_str())
        .collect();
    assert_eq!(glue, AGENTS.iter().copied().collect(), "{srv:?}");

    let config: Value = serde_json::from_str(&http_get_ok(http_port, "/v1/config")).expect("/v1/config is JSON");
    assert_eq!(config["ARecordLimit"], json!(2), "{config}");
}
