//! End to end, through the real binary on loopback against a fake master, our additions to the names
//! (issue 18): `hideUnhealthyTasks` (polled and from the event stream), `unroutableNetworks`, and
//! the host names `HOSTNAME.slave.D` / `HOSTNAME.master.D` with their PTR, asked with our client and
//! `dig`.

mod common;

use std::time::Duration;

use common::dns;
use common::stream_master::*;
use common::*;
use serde_json::{json, Value};

const NGINX_SRV: &str = "_nginx._tcp.marathon-0.7.6.mesos";
const MESOS_DNS: &str = "mesos-dns.marathon-0.7.6.mesos";

/// The tutorial with nginx's running status carrying `extra` members.
fn tutorial_nginx_status(extra: Value) -> Value {
    let mut state = tutorial();
    for t in tasks_mut(&mut state).iter_mut().filter(|t| t["name"] == "nginx") {
        let mut status = json!({"state": "TASK_RUNNING", "timestamp": 1422061000.5});
        if let (Some(s), Some(e)) = (status.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        t["statuses"] = json!([status]);
    }
    state
}

fn loaded(state: Value, extra: Value) -> (FakeMaster, Server) {
    let master = FakeMaster::serving(state);
    let server = Server::start_with(&[master.addr()], extra);
    server.wait_loaded();
    (master, server)
}

#[test]
fn an_unhealthy_task_has_no_records_only_with_hide_unhealthy_tasks() {
    let state = tutorial_nginx_status(json!({"healthy": false}));
    let (_m, shown) = loaded(state.clone(), json!({}));
    assert_eq!(
        shown.a_records(NGINX),
        vec![NGINX_IP],
        "off by default: the original's behaviour"
    );

    let (_m, server) = loaded(state, json!({"hideUnhealthyTasks": true}));
    for (name, qtype) in [(NGINX, dns::A), (NGINX_SRV, dns::SRV)] {
        let r = server.ask(name, qtype, Transport::Udp);
        assert_eq!(r.rcode, dns::NXDOMAIN, "{name}: {r:?}");
    }
    let d = dig(server.port, NGINX, "A", Transport::Udp);
    assert_eq!(d.status, "NXDOMAIN", "{}", d.raw);
    // mesos-dns has no health check (no `healthy`): it keeps its records.
    assert_eq!(server.a_records(MESOS_DNS).len(), 1);
}

#[test]
fn a_healthy_task_keeps_its_records_with_hide_unhealthy_tasks() {
    let (_m, server) = loaded(
        tutorial_nginx_status(json!({"healthy": true})),
        json!({"hideUnhealthyTasks": true}),
    );
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    assert!(!server.ask(NGINX_SRV, dns::SRV, Transport::Tcp).answers.is_empty());
}

fn health_update(id: &str, timestamp: f64, healthy: bool) -> Value {
    json!({"type": "TASK_UPDATED", "task_updated": {
        "framework_id": {"value": FW}, "state": "TASK_RUNNING",
        "status": {"task_id": {"value": id}, "agent_id": {"value": AGENT}, "state": "TASK_RUNNING",
            "timestamp": timestamp, "healthy": healthy}
    }})
}

#[test]
fn in_stream_mode_a_health_change_takes_effect_as_fast_as_any_event() {
    let master = StreamMaster::start(&[("web.1", "web"), ("db.1", "db")]);
    let server = Server::start_with(
        &[master.addr()],
        json!({"stateSource": "stream", "refreshSeconds": 60, "hideUnhealthyTasks": true}),
    );
    server.wait_loaded();
    wait_until("a subscription", CHANGE_DEADLINE, || master.subscriptions() >= 1);
    let web = "web.marathon.mesos";
    assert_eq!(server.a_records(web), vec![AGENT_IP]);
    // The tasks' statuses are at 1.7e9: later ones are the latest.
    let at = master.emit(health_update("web.1", 1.7e9 + 1.0, false));
    wait_until("web to go when unhealthy", Duration::from_secs(1), || {
        server.a_records(web).is_empty()
    });
    println!("healthy: false -> gone: {:.1} ms", at.elapsed().as_secs_f64() * 1e3);
    assert_eq!(server.ask(web, dns::A, Transport::Udp).rcode, dns::NXDOMAIN);
    assert_eq!(
        server.a_records("db.marathon.mesos"),
        vec![AGENT_IP],
        "other tasks stay"
    );
    let at = master.emit(health_update("web.1", 1.7e9 + 2.0, true));
    wait_until("web to come back when healthy", Duration::from_secs(1), || {
        server.a_records(web) == vec![AGENT_IP]
    });
    println!("healthy: true -> back: {:.1} ms", at.elapsed().as_secs_f64() * 1e3);
    assert_eq!(master.subscriptions(), 1, "through the stream, not a resubscription");
}

#[test]
fn a_docker_bridge_address_is_not_published_and_the_next_ip_source_is_used() {
    let bridge = json!({"container_status": {"network_infos": [{"ip_addresses": [{"ip_address": "172.17.0.2"}]}]}});
    let (_m, published) = loaded(tutorial_nginx_status(bridge.clone()), json!({}));
    assert_eq!(
        published.a_records(NGINX),
        vec!["172.17.0.2".parse::<std::net::Ipv4Addr>().unwrap()]
    );

    // netinfo gives only the bridge address: `mesos` gives none, `host` the agent's address.
    let (_m, server) = loaded(
        tutorial_nginx_status(bridge),
        json!({"unroutableNetworks": ["172.17.0.0/16", "fd00::/8"]}),
    );
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    let d = dig(server.port, NGINX, "A", Transport::Tcp);
    assert_eq!(d.answer_data("A"), [NGINX_IP.to_string()], "{}", d.raw);
}

#[test]
fn a_bad_unroutable_network_exits_with_status_2_naming_the_key() {
    let cfg = TestConfig::write(
        &["127.0.0.1:5050".to_owned()],
        json!({"unroutableNetworks": ["172.17.0.0/16", "172.17.0.0"]}),
    );
    let config_arg = format!("-config={}", cfg.path.display());
    let (status, stdout, stderr) = run_to_exit(&[&config_arg]);
    let _ = std::fs::remove_dir_all(&cfg.dir);
    assert_eq!(status.code(), Some(2), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains("unroutableNetworks") && stderr.contains("`172.17.0.0` is not a network"),
        "the message names the key and the value:\n{stderr}"
    );
}

/// The tutorial with host names: the agents `agent-N.example.com` (N their `S<n>`), the leader
/// `Master-1.Example.com` (the fake master serves the document as the leader).
fn tutorial_with_host_names() -> Value {
    let mut state = tutorial();
    state["hostname"] = json!("Master-1.Example.com");
    for (i, s) in state["slaves"].as_array_mut().expect("agents").iter_mut().enumerate() {
        s["hostname"] = json!(format!("agent-{i}.example.com"));
    }
    state
}

#[test]
fn agents_and_the_leader_answer_by_host_name_and_an_agents_ptr_names_it_first() {
    let (_m, server) = loaded(tutorial_with_host_names(), json!({"PTROn": true}));
    assert_eq!(server.a_records("agent-1-example-com.slave.mesos"), vec![NGINX_IP]);
    assert_eq!(server.a_records("agent-2-example-com.slave.mesos"), vec![S2_IP]);
    assert_eq!(
        server.a_records("master-1-example-com.master.mesos"),
        vec![std::net::Ipv4Addr::LOCALHOST]
    );
    let d = dig(server.port, "agent-0-example-com.slave.mesos", "A", Transport::Udp);
    assert_eq!(d.answer_data("A"), ["10.14.245.208"], "{}", d.raw);
    assert!(d.has_flag("aa"), "{}", d.raw);
    // PTR of an agent's address: its host name, then `slave.D`, in that order.
    let [a, b, c, d4] = NGINX_IP.octets();
    let reverse = format!("{d4}.{c}.{b}.{a}.in-addr.arpa");
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(&reverse, dns::PTR, transport);
        assert!(r.aa(), "{r:?}");
        let got: Vec<&str> = r.answers.iter().map(|rr| rr.data.as_str()).collect();
        assert_eq!(
            got,
            ["agent-1-example-com.slave.mesos.", "slave.mesos."],
            "{transport:?}"
        );
    }
}
