//! `preferLocalZone` end to end: the real binary on a state whose agents are loopback addresses
//! (127.0.0.2, .3, ... stand in for hosts) with Mesos fault domains; `dig -b` from an agent's address
//! gets the A and SRV records of its zone's tasks first, a limited answer fills with them first, a
//! source that is no agent gets the plain shuffle, a query from loopback counts as from the server's
//! host when an agent is at one of the host's addresses (127.0.0.1 here); `/v1/config` shows the key.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::process::{Command, Stdio};

use common::*;
use serde_json::{json, Value};

/// The tutorial with its agents replaced by `agents` (address, zone name or none, all in region
/// `r1`) and one `nginx` instance on each.
fn zoned_nginx(agents: &[(&str, Option<&str>)]) -> Value {
    let mut state = tutorial();
    let template = state["slaves"][0].clone();
    let mut slaves = Vec::new();
    for (n, (ip, zone)) in agents.iter().enumerate() {
        let mut agent = template.clone();
        agent["id"] = json!(format!("20150124-005312-2536286730-5050-1180-S{n}"));
        agent["pid"] = json!(format!("slave(1)@{ip}:5051"));
        agent["hostname"] = json!(ip);
        if let Some(zone) = zone {
            agent["domain"] = json!({"fault_domain": {"region": {"name": "r1"}, "zone": {"name": zone}}});
        }
        slaves.push(agent);
    }
    state["slaves"] = json!(slaves);
    nginx_on_each_agent(&mut state);
    state
}

const SRV_NAME: &str = "_nginx._tcp.marathon-0.7.6.mesos";

/// `dig -b SOURCE` over UDP: the answer section in order.
fn dig_from(port: u16, source: &str, name: &str, rtype: &str) -> Dig {
    let out = Command::new("dig")
        .args([
            "-r",
            "-b",
            source,
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            name,
            rtype,
            "+notcp",
            "+norecurse",
            "+time=2",
            "+tries=1",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("dig runs (apt-get install -y dnsutils)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "dig -b {source} failed:\n{text}");
    let d = parse_dig(&text);
    assert_eq!(d.status, "NOERROR", "{text}");
    d
}

/// The A addresses of an answer, in order.
fn a_in_order(d: &Dig) -> Vec<String> {
    d.answer.iter().filter(|r| r.1 == "A").map(|r| r.2.clone()).collect()
}

/// The addresses of an SRV answer's targets (from its additional section), in SRV order.
fn srv_targets_in_order(d: &Dig) -> Vec<String> {
    let addr: HashMap<&str, &str> = d
        .additional
        .iter()
        .filter(|r| r.1 == "A")
        .map(|r| (r.0.as_str(), r.2.as_str()))
        .collect();
    d.answer
        .iter()
        .filter(|r| r.1 == "SRV")
        .map(|r| {
            let target = r.2.split_whitespace().last().unwrap_or_default();
            addr.get(target)
                .map(|a| a.to_string())
                .unwrap_or_else(|| panic!("no address of {target}:\n{}", d.raw))
        })
        .collect()
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn queries_from_an_agent_get_their_zones_records_first_and_loopback_is_the_hosts_zone() {
    // 127.0.0.1 is an address of this host (lo): the host is the agent in zone z2.
    let agents = [
        ("127.0.0.1", Some("z2")),
        ("127.0.0.2", Some("z1")),
        ("127.0.0.3", Some("z1")),
        ("127.0.0.4", Some("z2")),
        ("127.0.0.5", None),
    ];
    let master = FakeMaster::serving(zoned_nginx(&agents));
    let http_port = free_port();
    let server = Server::start_with(
        &[master.addr()],
        json!({"preferLocalZone": true, "httpon": true, "httpListener": "127.0.0.1", "httpport": http_port}),
    );
    server.wait_loaded();
    let all = strings(&["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]);

    let mut firsts = BTreeSet::new();
    let mut thirds = BTreeSet::new();
    for i in 0..20 {
        let d = dig_from(server.port, "127.0.0.2", NGINX, "A");
        let got = a_in_order(&d);
        assert_eq!(sorted(&got), all, "every address, query {i}:\n{}", d.raw);
        assert_eq!(
            sorted(&got[..2]),
            strings(&["127.0.0.2", "127.0.0.3"]),
            "z1 first:\n{}",
            d.raw
        );
        firsts.insert(got[0].clone());
        thirds.insert(got[2].clone());
    }
    assert_eq!(firsts.len(), 2, "the local group is shuffled: {firsts:?}");
    assert!(thirds.len() > 1, "so is the rest: {thirds:?}");

    for i in 0..10 {
        let d = dig_from(server.port, "127.0.0.4", NGINX, "A");
        let got = a_in_order(&d);
        assert_eq!(
            sorted(&got[..2]),
            strings(&["127.0.0.1", "127.0.0.4"]),
            "z2 first, query {i}:\n{}",
            d.raw
        );
        let d = dig_from(server.port, "127.0.0.4", SRV_NAME, "SRV");
        let targets = srv_targets_in_order(&d);
        assert_eq!(sorted(&targets), all, "every SRV target:\n{}", d.raw);
        assert_eq!(
            sorted(&targets[..2]),
            strings(&["127.0.0.1", "127.0.0.4"]),
            "SRV z2 first:\n{}",
            d.raw
        );
    }
    // Loopback sources that are no agent are the server's host, the agent at 127.0.0.1 (zone z2).
    for source in ["127.0.0.9", "127.0.0.1"] {
        for _ in 0..5 {
            let d = dig_from(server.port, source, NGINX, "A");
            let got = a_in_order(&d);
            assert_eq!(
                sorted(&got[..2]),
                strings(&["127.0.0.1", "127.0.0.4"]),
                "from {source}:\n{}",
                d.raw
            );
        }
    }
    let config = get_json_ok(http_port, "/v1/config");
    assert_eq!(config["PreferLocalZone"], json!(true), "{config}");
}

#[test]
fn a_limited_answer_fills_with_local_records_and_unknown_sources_get_any() {
    // No agent at an address of this host: loopback sources are in no zone.
    let agents = [
        ("127.0.0.2", Some("z1")),
        ("127.0.0.3", Some("z1")),
        ("127.0.0.4", Some("z2")),
        ("127.0.0.5", None),
    ];
    let master = FakeMaster::serving(zoned_nginx(&agents));
    let server = Server::start_with(&[master.addr()], json!({"preferLocalZone": true, "aRecordLimit": 1}));
    server.wait_loaded();
    let mut z1 = BTreeSet::new();
    for _ in 0..20 {
        let got = a_in_order(&dig_from(server.port, "127.0.0.2", NGINX, "A"));
        assert_eq!(got.len(), 1);
        assert!(got[0] == "127.0.0.2" || got[0] == "127.0.0.3", "{got:?}");
        z1.insert(got[0].clone());
        assert_eq!(
            a_in_order(&dig_from(server.port, "127.0.0.4", NGINX, "A")),
            ["127.0.0.4"]
        );
        // An agent without a zone is no source of one.
        assert_eq!(a_in_order(&dig_from(server.port, "127.0.0.5", NGINX, "A")).len(), 1);
    }
    assert_eq!(z1.len(), 2, "a random one of the local two: {z1:?}");
    // Unknown sources: the plain random one of four, as without the key.
    for source in ["127.0.0.9", "127.0.0.1"] {
        let mut seen = BTreeSet::new();
        for _ in 0..40 {
            let got = a_in_order(&dig_from(server.port, source, NGINX, "A"));
            assert_eq!(got.len(), 1);
            seen.insert(got[0].clone());
        }
        assert!(seen.len() >= 3, "from {source}: any of the four: {seen:?}");
    }
    // SRV answers are not limited; from an agent, its zone's targets first.
    let d = dig_from(server.port, "127.0.0.3", SRV_NAME, "SRV");
    let targets = srv_targets_in_order(&d);
    assert_eq!(targets.len(), 4, "{}", d.raw);
    assert_eq!(sorted(&targets[..2]), strings(&["127.0.0.2", "127.0.0.3"]), "{}", d.raw);
}

#[test]
fn without_the_key_fault_domains_change_nothing() {
    let agents = [
        ("127.0.0.2", Some("z1")),
        ("127.0.0.3", Some("z2")),
        ("127.0.0.4", Some("z2")),
    ];
    let master = FakeMaster::serving(zoned_nginx(&agents));
    let server = Server::start_with(&[master.addr()], json!({}));
    server.wait_loaded();
    let mut firsts = BTreeSet::new();
    for _ in 0..30 {
        let got = a_in_order(&dig_from(server.port, "127.0.0.2", NGINX, "A"));
        assert_eq!(got.len(), 3);
        firsts.insert(got[0].clone());
    }
    assert_eq!(firsts.len(), 3, "any record first: {firsts:?}");
}

const FW: &str = "20240101-000000-0100007f-5050-0000";

fn agent_id(n: u8) -> String {
    format!("20240101-000000-0100007f-5050-0000-S{n}")
}

/// Agent `n` at 127.0.0.`n` in zone `zone` of region r1, as `get_agents` and `AGENT_ADDED` carry it.
fn v1_agent(n: u8, zone: &str) -> Value {
    json!({"agent_info": {"id": {"value": agent_id(n)}, "hostname": format!("127.0.0.{n}"), "port": 5051,
        "domain": {"fault_domain": {"region": {"name": "r1"}, "zone": {"name": zone}}}},
        "pid": format!("slave(1)@127.0.0.{n}:5051"), "active": true})
}

/// Task `web.N` on agent `n`, in `state`.
fn v1_web(n: u8, state: &str) -> Value {
    json!({"name": "web", "task_id": {"value": format!("web.{n}")}, "framework_id": {"value": FW},
        "agent_id": {"value": agent_id(n)}, "state": state,
        "statuses": [{"task_id": {"value": format!("web.{n}")}, "state": state, "timestamp": 1.7e9}]})
}

/// The cluster with `agents` (number, zone) and a running `web` on each: the SUBSCRIBED event and
/// the state document.
fn stream_cluster(agents: &[(u8, &str)]) -> Cluster {
    let subscribed = json!({"type": "SUBSCRIBED", "subscribed": {
        "get_state": {
            "get_tasks": {"tasks": agents.iter().map(|&(n, _)| v1_web(n, "TASK_RUNNING")).collect::<Vec<_>>()},
            "get_frameworks": {"frameworks": [{"framework_info": {"id": {"value": FW}, "name": "marathon", "hostname": "127.0.0.1"}, "active": true}]},
            "get_agents": {"agents": agents.iter().map(|&(n, z)| v1_agent(n, z)).collect::<Vec<_>>()}
        },
        "heartbeat_interval_seconds": 15
    }});
    let state = json!({
        "frameworks": [{"id": FW, "name": "marathon", "pid": "scheduler(1)@127.0.0.1:8080",
            "tasks": agents.iter().map(|&(n, _)| json!({"id": format!("web.{n}"), "name": "web", "framework_id": FW,
                "slave_id": agent_id(n), "state": "TASK_RUNNING", "statuses": [{"state": "TASK_RUNNING", "timestamp": 1.7e9}]})).collect::<Vec<_>>()}],
        "slaves": agents.iter().map(|&(n, z)| json!({"id": agent_id(n), "pid": format!("slave(1)@127.0.0.{n}:5051"),
            "hostname": format!("127.0.0.{n}"), "domain": {"fault_domain": {"region": {"name": "r1"}, "zone": {"name": z}}}})).collect::<Vec<_>>()
    });
    Cluster { state, subscribed }
}

#[test]
fn stream_mode_takes_zones_from_get_agents_and_agent_added() {
    let master = FakeMaster::start();
    let mut agents = vec![(2, "z1"), (3, "z1"), (4, "z2")];
    master.set_cluster(stream_cluster(&agents));
    master.open_streams();
    let server = Server::start_with(
        &[master.addr()],
        json!({"stateSource": "stream", "refreshSeconds": 60, "preferLocalZone": true}),
    );
    server.wait_loaded();
    const WEB: &str = "web.marathon.mesos";
    for _ in 0..10 {
        let got = a_in_order(&dig_from(server.port, "127.0.0.2", WEB, "A"));
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(sorted(&got[..2]), strings(&["127.0.0.2", "127.0.0.3"]), "{got:?}");
        assert_eq!(
            a_in_order(&dig_from(server.port, "127.0.0.4", WEB, "A"))[0],
            "127.0.0.4"
        );
    }
    // An agent joins zone z2 and a task starts on it: the events alone tell the server.
    agents.push((5, "z2"));
    let cluster = || stream_cluster(&agents);
    master.emit(
        &json!({"type": "AGENT_ADDED", "agent_added": {"agent": v1_agent(5, "z2")}}),
        cluster(),
    );
    master.emit(
        &json!({"type": "TASK_ADDED", "task_added": {"task": v1_web(5, "TASK_RUNNING")}}),
        cluster(),
    );
    wait_until("web.5 is published", CHANGE_DEADLINE, || {
        server.a_records(WEB).len() == 4
    });
    for _ in 0..10 {
        let got = a_in_order(&dig_from(server.port, "127.0.0.5", WEB, "A"));
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(sorted(&got[..2]), strings(&["127.0.0.4", "127.0.0.5"]), "{got:?}");
    }
}
