//! End to end, through the real binary on loopback against fake masters: the task filters of issue 25
//! (`minVisibility`, `excludeFrameworks`, `excludeTaskLabels`), asked with `dig` (A, SRV, PTR, AXFR),
//! over `/v1/enumerate` and `/v1/config`, polled and from the event stream.

mod common;

use std::time::Duration;

use common::stream_master::*;
use common::*;
use serde_json::{json, Value};

/// The filters every test here configures.
fn filters() -> Value {
    json!({
        "minVisibility": "CLUSTER",
        "excludeFrameworks": ["chronos"],
        "excludeTaskLabels": ["dns=off", "private"],
    })
}

/// Framework `Marathon` (scheduler 10.1.0.1) with tasks `fw`, `cl`, `ex` (discovery visibility
/// FRAMEWORK, CLUSTER, EXTERNAL), `plain` (no discovery info), `off` (label `dns=off`), `on` (label
/// `dns=on`), `priv` (label `private=yes`); framework `Chronos` (scheduler 10.1.0.2) with `job`
/// (EXTERNAL). Task N has the container address 10.200.0.N and port 31000; the agent is 10.1.0.7.
fn state() -> Value {
    let task = |n: usize, name: &str, extra: Value| {
        let mut t = json!({
            "id": format!("{name}.1"), "name": name, "slave_id": AGENT, "state": "TASK_RUNNING",
            "resources": {"ports": "[31000-31000]"},
            "statuses": [{"state": "TASK_RUNNING", "timestamp": 1.7e9,
                "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": format!("10.200.0.{n}")}]}]}}],
        });
        if let (Some(t), Some(e)) = (t.as_object_mut(), extra.as_object()) {
            t.extend(e.clone());
        }
        t
    };
    let vis = |v: &str| json!({"discovery": {"visibility": v, "name": "", "ports": {"ports": []}}});
    let labels = |k: &str, v: &str| json!({"labels": [{"key": "team", "value": "a"}, {"key": k, "value": v}]});
    json!({
        "frameworks": [
            {"id": "fw-1", "name": "Marathon", "pid": "scheduler(1)@10.1.0.1:8080", "tasks": [
                task(1, "fw", vis("FRAMEWORK")), task(2, "cl", vis("CLUSTER")), task(3, "ex", vis("EXTERNAL")),
                task(4, "plain", json!({})), task(5, "off", labels("dns", "off")), task(6, "on", labels("dns", "on")),
                task(7, "priv", labels("private", "yes"))]},
            {"id": "fw-2", "name": "Chronos", "pid": "scheduler(1)@10.1.0.2:4400", "tasks": [
                task(8, "job", vis("EXTERNAL"))]}],
        "slaves": [{"id": AGENT, "pid": format!("slave(1)@{AGENT_IP}:5051"), "hostname": AGENT_IP.to_string()}]
    })
}

/// (task name, its framework's label, its container address's last byte).
const TASKS: [(&str, &str, u8); 8] = [
    ("fw", "marathon", 1),
    ("cl", "marathon", 2),
    ("ex", "marathon", 3),
    ("plain", "marathon", 4),
    ("off", "marathon", 5),
    ("on", "marathon", 6),
    ("priv", "marathon", 7),
    ("job", "chronos", 8),
];
const HIDDEN: [&str; 4] = ["fw", "off", "priv", "job"];

fn server_with(extra: Value) -> (FakeMaster, Server, u16) {
    let master = FakeMaster::serving(state());
    let http_port = free_port();
    let mut keys = json!({"httpon": true, "httpListener": "127.0.0.1", "httpport": http_port,
        "PTROn": true, "transferAllowFrom": ["127.0.0.0/8"]});
    if let (Some(k), Some(e)) = (keys.as_object_mut(), extra.as_object()) {
        k.extend(e.clone());
    }
    let server = Server::start_with(&[master.addr()], keys);
    server.wait_loaded();
    (master, server, http_port)
}

/// The status dig gets for a task's A and SRV names, and whether its address has a PTR record (an
/// address we do not know is relayed, here to a dead resolver: SERVFAIL).
fn statuses(port: u16, name: &str, fw: &str, n: u8) -> [String; 3] {
    let a = dig(port, &format!("{name}.{fw}.mesos"), "A", Transport::Udp);
    let srv = dig(port, &format!("_{name}._tcp.{fw}.mesos"), "SRV", Transport::Tcp);
    let ptr = dig(port, &format!("{n}.0.200.10.in-addr.arpa"), "PTR", Transport::Udp);
    let ptr = if ptr.answer_data("PTR").is_empty() {
        "no PTR"
    } else {
        "PTR"
    };
    [a.status, srv.status, ptr.to_string()]
}

fn hidden() -> [String; 3] {
    ["NXDOMAIN", "NXDOMAIN", "no PTR"].map(String::from)
}

fn shown() -> [String; 3] {
    ["NOERROR", "NOERROR", "PTR"].map(String::from)
}

#[test]
fn filtered_tasks_have_no_names_anywhere_and_their_frameworks_keep_theirs() {
    let (_m, server, http) = server_with(filters());
    for (name, fw, n) in TASKS {
        let want = if HIDDEN.contains(&name) { hidden() } else { shown() };
        assert_eq!(statuses(server.port, name, fw, n), want, "{name}");
    }
    let d = dig(server.port, "cl.marathon.mesos", "A", Transport::Udp);
    assert_eq!(d.answer_data("A"), ["10.200.0.2"], "{}", d.raw);
    // The excluded framework, asked in another case than the config's, keeps its own names.
    let d = dig(server.port, "chronos.mesos", "A", Transport::Udp);
    assert_eq!(d.answer_data("A"), ["10.1.0.2"], "{}", d.raw);
    let d = dig(server.port, "_framework._tcp.chronos.mesos", "SRV", Transport::Udp);
    assert_eq!(d.status, "NOERROR", "{}", d.raw);
    assert_eq!(d.answer_data("SRV").len(), 1, "{}", d.raw);

    // The zone transfer and /v1/enumerate agree.
    let axfr = run("dig", server.port, &["mesos", "AXFR"]);
    let owners: Vec<String> = transfer_records(&axfr).into_iter().map(|r| r.0).collect();
    assert!(owners.iter().any(|o| o == "cl.marathon.mesos."), "{axfr}");
    assert!(owners.iter().any(|o| o == "chronos.mesos."), "{axfr}");
    for name in HIDDEN {
        assert!(
            !owners.iter().any(|o| o.starts_with(&format!("{name}."))),
            "{name}:\n{axfr}"
        );
        assert!(
            !owners.iter().any(|o| o.starts_with(&format!("_{name}."))),
            "{name}:\n{axfr}"
        );
    }
    let enumerate = get_json_ok(http, "/v1/enumerate").to_string();
    for (name, fw, _) in TASKS {
        let listed = enumerate.contains(&format!("\"{name}.{fw}.mesos.\""));
        assert_eq!(listed, !HIDDEN.contains(&name), "{name}: {enumerate}");
    }

    let config = get_json_ok(http, "/v1/config");
    assert_eq!(config["MinVisibility"], json!("CLUSTER"), "{config}");
    assert_eq!(config["ExcludeFrameworks"], json!(["chronos"]), "{config}");
    assert_eq!(config["ExcludeTaskLabels"], json!(["dns=off", "private"]), "{config}");
}

#[test]
fn without_filters_every_task_has_its_names() {
    let (_m, server, http) = server_with(json!({}));
    for (name, fw, n) in TASKS {
        assert_eq!(statuses(server.port, name, fw, n), shown(), "{name}");
    }
    let config = get_json_ok(http, "/v1/config");
    assert_eq!(config["MinVisibility"], json!("FRAMEWORK"), "{config}");
    assert_eq!(config["ExcludeFrameworks"], json!([]), "{config}");
}

#[test]
fn in_stream_mode_a_task_added_with_an_excluded_label_or_low_visibility_gets_no_records() {
    let master = StreamMaster::start(&[("web.1", "web")]);
    let server = Server::start_with(
        &[master.addr()],
        json!({"stateSource": "stream", "refreshSeconds": 60, "minVisibility": "cluster", "excludeTaskLabels": ["dns=off"]}),
    );
    server.wait_loaded();
    wait_until("a subscription", CHANGE_DEADLINE, || master.subscriptions() >= 1);
    assert_eq!(server.a_records("web.marathon.mesos"), vec![AGENT_IP]);
    let add = |id: &str, name: &str, extra: Value| {
        let mut task = v1_task(&FakeTask {
            id: id.into(),
            name: name.into(),
            state: "TASK_STAGING",
        });
        if let (Some(t), Some(e)) = (task.as_object_mut(), extra.as_object()) {
            t.extend(e.clone());
        }
        master.emit(json!({"type": "TASK_ADDED", "task_added": {"task": task}}));
        master.emit(task_updated(id, "TASK_RUNNING"));
    };
    // The operator API's forms: labels a `Labels` message, the visibility the enum's name.
    add(
        "quiet.1",
        "quiet",
        json!({"labels": {"labels": [{"key": "dns", "value": "off"}]}}),
    );
    add(
        "inner.1",
        "inner",
        json!({"discovery": {"visibility": "FRAMEWORK", "name": "inner"}}),
    );
    add(
        "outer.1",
        "outer",
        json!({"discovery": {"visibility": "CLUSTER", "name": "outer"}}),
    );
    // Events apply in order: once the last task is there, the two before it were applied.
    add(
        "loud.1",
        "loud",
        json!({"labels": {"labels": [{"key": "dns", "value": "on"}]}}),
    );
    wait_until("loud to appear", Duration::from_secs(5), || {
        server.a_records("loud.marathon.mesos") == vec![AGENT_IP]
    });
    assert_eq!(server.a_records("outer.marathon.mesos"), vec![AGENT_IP]);
    for hidden in ["quiet", "inner"] {
        let d = dig(server.port, &format!("{hidden}.marathon.mesos"), "A", Transport::Udp);
        assert_eq!(d.status, "NXDOMAIN", "{hidden}: {}", d.raw);
    }
    assert_eq!(master.subscriptions(), 1, "through the stream, not a resubscription");
}

#[test]
fn a_bad_filter_value_exits_with_status_2_naming_the_key() {
    for (extra, key, says) in [
        (json!({"minVisibility": "PUBLIC"}), "minVisibility", "PUBLIC"),
        (
            json!({"excludeTaskLabels": ["ok", "=x"]}),
            "excludeTaskLabels",
            "empty label key",
        ),
    ] {
        let cfg = TestConfig::write(&["127.0.0.1:5050".to_owned()], extra);
        let config_arg = format!("-config={}", cfg.path.display());
        let (status, stdout, stderr) = run_to_exit(&[&config_arg]);
        let _ = std::fs::remove_dir_all(&cfg.dir);
        assert_eq!(status.code(), Some(2), "stdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(stderr.contains(key) && stderr.contains(says), "{key}:\n{stderr}");
    }
}
