//! Leader failover through the binary, with two fake masters on loopback: the tasks of agents the new
//! leader lists under `recovered_slaves` (`recovered_agents` in the event stream's SUBSCRIBED) stay
//! resolvable until the agent re-registers (its own tasks replace them) or leaves the list without
//! re-registering; a master that sends no such field gets `failoverGraceSeconds` instead. Poll and
//! stream mode.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const FW: &str = "fw-1";
const WEB: &str = "web.marathon.mesos.";
const API: &str = "api.marathon.mesos.";

fn agent_ip(n: u8) -> String {
    format!("10.0.0.{n}")
}

/// An agent of a state document.
fn agent(n: u8) -> Value {
    json!({"id": format!("S{n}"), "pid": format!("slave(1)@{}:5051", agent_ip(n)), "hostname": agent_ip(n)})
}

/// A running task `name.n` on agent `n`, as a state document lists it.
fn task(name: &str, n: u8) -> Value {
    json!({"id": format!("{name}.{n}"), "name": name, "framework_id": FW, "slave_id": format!("S{n}"),
        "state": "TASK_RUNNING", "resources": {"ports": "[31000-31000]"},
        "statuses": [{"state": "TASK_RUNNING", "timestamp": 1.7e9}]})
}

/// A state document: these agents and tasks, `recovered_slaves` (`None`: no such field) and
/// `elected_time`.
fn state(agents: &[u8], tasks: &[(&str, u8)], recovered: Option<&[u8]>, elected: f64) -> Value {
    let tasks: Vec<Value> = tasks.iter().map(|(name, n)| task(name, *n)).collect();
    let mut doc = json!({
        "elected_time": elected,
        "frameworks": [{"id": FW, "name": "marathon", "pid": "scheduler(1)@10.1.0.1:8080", "tasks": tasks}],
        "slaves": agents.iter().map(|&n| agent(n)).collect::<Vec<_>>(),
    });
    if let Some(recovered) = recovered {
        // SlaveInfo objects, as Mesos writes them.
        let infos: Vec<Value> = recovered
            .iter()
            .map(|&n| json!({"id": format!("S{n}"), "hostname": agent_ip(n), "port": 5051, "resources": {}}))
            .collect();
        doc["recovered_slaves"] = json!(infos);
    }
    doc
}

fn ips(agents: &[u8]) -> Vec<Ipv4Addr> {
    agents.iter().map(|&n| Ipv4Addr::new(10, 0, 0, n)).collect()
}

/// `mesos_dns_carried_tasks` from `/metrics`.
fn carried_tasks(http_port: u16) -> Option<u64> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .build(),
    );
    let mut resp = agent
        .get(&format!("http://127.0.0.1:{http_port}/metrics"))
        .call()
        .ok()?;
    let body = resp.body_mut().read_to_string().ok()?;
    body.lines()
        .find_map(|l| l.strip_prefix("mesos_dns_carried_tasks "))
        .and_then(|v| v.trim().parse().ok())
}

fn wait_for(server: &Server, what: &str, cond: impl Fn() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(
            started.elapsed() < CHANGE_DEADLINE,
            "timed out waiting for {what}; server log:\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn logged(server: &Server, text: &str) -> bool {
    server.log_text().contains(text)
}

/// Two fake masters on one port, on 127.0.0.1 and 127.0.0.2 (a leader is followed with the port
/// the search was given, as the original does).
fn two_hosts() -> (FakeMaster, FakeMaster) {
    for _ in 0..20 {
        let b = FakeMaster::start_on("127.0.0.2", 0).expect("bind a fake master on 127.0.0.2");
        let port = b.addr().rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok());
        if let Some(Ok(a)) = port.map(|p| FakeMaster::start_on("127.0.0.1", p)) {
            return (a, b);
        }
    }
    panic!("cannot bind fake masters on 127.0.0.1 and 127.0.0.2 with one port");
}

/// Two masters; `first` leads and the other says so.
fn two_masters(first: Value) -> (FakeMaster, FakeMaster) {
    let (m1, m2) = two_hosts();
    m1.set_state(first.clone());
    m2.set_state_with_leader(first, &m1.addr());
    (m1, m2)
}

/// The leadership moves to `to`, which serves `doc`; `from` names it as the leader.
fn move_leader(from: &FakeMaster, to: &FakeMaster, doc: Value) {
    to.set_state(doc.clone());
    from.set_state_with_leader(doc, &to.addr());
}

#[test]
fn poll_mode_carries_recovered_agents_tasks_until_they_re_register_or_are_given_up() {
    let before = state(&[1, 2, 3], &[("web", 1), ("web", 2), ("web", 3)], Some(&[]), 100.0);
    let (m1, m2) = two_masters(before);
    let http_port = free_port();
    let server = Server::start_with(
        &[m1.addr(), m2.addr()],
        json!({"httpon": true, "httpListener": "127.0.0.1", "httpport": http_port}),
    );
    server.wait_loaded();
    wait_for(&server, "the three web tasks", || {
        server.a_records(WEB) == ips(&[1, 2, 3])
    });
    assert_eq!(carried_tasks(http_port), Some(0));

    // m2 is elected; only agent 1 has re-registered, 2 and 3 are known from its registry.
    move_leader(&m1, &m2, state(&[1], &[("web", 1)], Some(&[2, 3]), 200.0));
    m2.wait_requests_since_change(2);
    assert_eq!(
        server.a_records(WEB),
        ips(&[1, 2, 3]),
        "the recovered agents' tasks are carried"
    );
    let dug = dig(server.port, WEB, "A", Transport::Udp);
    assert_eq!(
        dug.answer_data("A"),
        ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
        "{}",
        dug.raw
    );
    assert_eq!(carried_tasks(http_port), Some(2));
    assert!(logged(&server, "agent S2 is in the leader's recovered_slaves"));
    assert!(logged(&server, "agent S3 is in the leader's recovered_slaves"));

    // Agent 2 re-registers reporting another task; agent 3 leaves recovered_slaves without.
    move_leader(&m1, &m2, state(&[1, 2], &[("web", 1), ("api", 2)], Some(&[]), 200.0));
    wait_for(&server, "agent 2's own task, and agent 3's gone", || {
        server.a_records(WEB) == ips(&[1]) && server.a_records(API) == ips(&[2])
    });
    let dug = dig(server.port, API, "A", Transport::Tcp);
    assert_eq!(dug.answer_data("A"), ["10.0.0.2"], "{}", dug.raw);
    assert_eq!(carried_tasks(http_port), Some(0));
    assert!(logged(&server, "agent S2 re-registered"));
    assert!(logged(&server, "agent S3 left recovered_slaves without re-registering"));
}

#[test]
fn without_recovered_slaves_a_missing_agent_keeps_its_tasks_for_the_grace_period() {
    let before = state(&[1, 2, 3], &[("web", 1), ("web", 2), ("web", 3)], None, 100.0);
    let (m1, m2) = two_masters(before);
    let server = Server::start_with(&[m1.addr(), m2.addr()], json!({"failoverGraceSeconds": 3}));
    server.wait_loaded();
    wait_for(&server, "the three web tasks", || {
        server.a_records(WEB) == ips(&[1, 2, 3])
    });

    // Same leader, agent 3 gone: no failover, its task goes at once.
    m1.set_state(state(&[1, 2], &[("web", 1), ("web", 2)], None, 100.0));
    wait_for(&server, "agent 3's task gone", || server.a_records(WEB) == ips(&[1, 2]));
    m1.set_state(state(&[1, 2, 3], &[("web", 1), ("web", 2), ("web", 3)], None, 100.0));
    wait_for(&server, "agent 3 back", || server.a_records(WEB) == ips(&[1, 2, 3]));

    // Another leader, agents 2 and 3 missing; agent 2 comes back within the grace period.
    let moved = Instant::now();
    move_leader(&m1, &m2, state(&[1], &[("web", 1)], None, 200.0));
    m2.wait_requests_since_change(2);
    assert_eq!(
        server.a_records(WEB),
        ips(&[1, 2, 3]),
        "carried for failoverGraceSeconds"
    );
    move_leader(&m1, &m2, state(&[1, 2], &[("web", 1), ("web", 2)], None, 200.0));
    m2.wait_requests_since_change(2);
    wait_for(&server, "agent 3's task gone after the grace period", || {
        server.a_records(WEB) == ips(&[1, 2])
    });
    assert!(
        moved.elapsed() >= Duration::from_secs(2),
        "gone before the grace period ended"
    );
    assert!(logged(&server, "agent S2 re-registered"));
    assert!(logged(&server, "agent S3 did not come back within 3 s"));
}

/// A v1 task as the operator API sends it.
fn v1_task(name: &str, n: u8) -> Value {
    json!({"name": name, "task_id": {"value": format!("{name}.{n}")}, "framework_id": {"value": FW},
        "agent_id": {"value": format!("S{n}")}, "state": "TASK_RUNNING",
        "resources": [{"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31000}]}}],
        "statuses": [{"state": "TASK_RUNNING", "timestamp": 1.7e9}]})
}

fn v1_agent(n: u8) -> Value {
    json!({"agent_info": {"id": {"value": format!("S{n}")}, "hostname": agent_ip(n), "port": 5051},
        "pid": format!("slave(1)@{}:5051", agent_ip(n)), "active": true})
}

/// The cluster a master shows: its state document and the SUBSCRIBED event of its streams.
fn cluster(agents: &[u8], tasks: &[(&str, u8)], recovered: &[u8], elected: f64) -> Cluster {
    let infos: Vec<Value> = recovered
        .iter()
        .map(|&n| json!({"id": {"value": format!("S{n}")}, "hostname": agent_ip(n), "port": 5051}))
        .collect();
    let mut get_agents = json!({"agents": agents.iter().map(|&n| v1_agent(n)).collect::<Vec<_>>()});
    if !infos.is_empty() {
        // Protobuf JSON leaves an empty list out.
        get_agents["recovered_agents"] = json!(infos);
    }
    let subscribed = json!({"type": "SUBSCRIBED", "subscribed": {"get_state": {
        "get_tasks": {"tasks": tasks.iter().map(|(name, n)| v1_task(name, *n)).collect::<Vec<_>>()},
        "get_frameworks": {"frameworks": [{"framework_info": {"id": {"value": FW}, "name": "marathon"}}]},
        "get_agents": get_agents
    }, "heartbeat_interval_seconds": 15}});
    Cluster {
        state: state(agents, tasks, Some(recovered), elected),
        subscribed,
    }
}

#[test]
fn stream_mode_carries_recovered_agents_tasks_through_subscribed_and_agent_events() {
    let (m1, m2) = two_hosts();
    let all = [("web", 1), ("web", 2), ("web", 3)];
    m1.set_cluster(cluster(&[1, 2, 3], &all, &[], 100.0));
    m1.open_streams();
    m2.set_state_with_leader(state(&[1, 2, 3], &all, Some(&[]), 100.0), &m1.addr());
    let server = Server::start_with(
        &[m1.addr(), m2.addr()],
        json!({"stateSource": "stream", "refreshSeconds": 60}),
    );
    server.wait_loaded();
    wait_for(&server, "the three web tasks and a subscription", || {
        server.a_records(WEB) == ips(&[1, 2, 3]) && m1.subscriptions() >= 1
    });

    // m2 is elected: m1's stream breaks, a poll finds m2, whose state and SUBSCRIBED name agents 2
    // and 3 as recovered.
    m2.set_cluster(cluster(&[1], &[("web", 1)], &[2, 3], 200.0));
    m2.open_streams();
    m1.set_state_with_leader(state(&[1], &[("web", 1)], Some(&[2, 3]), 200.0), &m2.addr());
    m1.refuse_streams(503);
    let mark = server.log_len();
    m1.break_streams();
    wait_for(&server, "a subscription to the new leader, published", || {
        let lines = server.log_since(mark);
        let subscribed = lines.iter().position(|l| l.contains("subscribed to the event stream"));
        subscribed.is_some_and(|at| {
            lines[at..]
                .iter()
                .any(|l| l.contains("refreshed records from the event stream"))
        })
    });
    assert_eq!(m2.subscriptions(), 1);
    assert_eq!(
        server.a_records(WEB),
        ips(&[1, 2, 3]),
        "carried through the new leader's SUBSCRIBED"
    );

    // Agent 2 re-registers and reports another task; agent 3 is still recovering.
    let mid = || cluster(&[1, 2], &[("web", 1), ("api", 2)], &[3], 200.0);
    let added = json!({"type": "AGENT_ADDED", "agent_added": {"agent": v1_agent(2)}});
    m2.emit(&added, mid());
    m2.emit(
        &json!({"type": "TASK_ADDED", "task_added": {"task": v1_task("api", 2)}}),
        mid(),
    );
    wait_for(&server, "agent 2's own task, agent 3's still carried", || {
        server.a_records(WEB) == ips(&[1, 3]) && server.a_records(API) == ips(&[2])
    });

    // Mesos gives up on agent 3.
    let removed = json!({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": "S3"}}});
    m2.emit(&removed, cluster(&[1, 2], &[("web", 1), ("api", 2)], &[], 200.0));
    wait_for(&server, "agent 3's task gone", || server.a_records(WEB) == ips(&[1]));
    assert!(logged(&server, "agent S3 left recovered_slaves without re-registering"));
}
