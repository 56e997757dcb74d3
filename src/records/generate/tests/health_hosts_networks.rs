//! Ours: `hideUnhealthyTasks`, `unroutableNetworks` and the host names `HOSTNAME.slave.D` and
//! `HOSTNAME.master.D`.

use super::*;
use crate::records::generate::addrs::MESOS_IP_LABEL;

fn reverse(list: &RecordList) -> Vec<String> {
    list.reverse().map(|(ip, name)| format!("{ip} {name}")).collect()
}

/// One agent (10.1.0.1) and framework `web` with one task per `(name, statuses)`; each task has port
/// 31000 and its own container address 10.200.0.N (N its position, from 1) in every status.
fn health_doc(tasks: &[(&str, &str)]) -> Vec<u8> {
    let tasks: Vec<String> = tasks
        .iter()
        .enumerate()
        .map(|(i, (name, statuses))| {
            format!(
                r#"{{"id": "{name}.1", "name": "{name}", "slave_id": "a-S1", "state": "TASK_RUNNING",
                    "resources": {{"ports": "[31000-31000]"}}, "statuses": [{statuses}]}}"#,
                statuses = statuses.replace("IP", &format!("10.200.0.{}", i + 1))
            )
        })
        .collect();
    format!(
        r#"{{"leader": "master@10.0.0.1:5050",
            "slaves": [{{"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051", "hostname": "10.1.0.1"}}],
            "frameworks": [{{"name": "web", "tasks": [{}]}}]}}"#,
        tasks.join(",")
    )
    .into_bytes()
}

fn running(ts: u32, healthy: &str) -> String {
    format!(
        r#"{{"state": "TASK_RUNNING", "timestamp": {ts}, {healthy}
            "container_status": {{"network_infos": [{{"ip_addresses": [{{"ip_address": "IP"}}]}}]}}}}"#
    )
}

#[test]
fn unhealthy_tasks_lose_every_record_only_when_asked_and_by_their_latest_running_status() {
    let unhealthy = running(1, r#""healthy": false,"#);
    let healthy = running(1, r#""healthy": true,"#);
    let unchecked = running(1, "");
    // Health that flips: the status with the newest timestamp decides, in whatever order listed.
    let recovered = format!(
        "{},{}",
        running(2, r#""healthy": true,"#),
        running(1, r#""healthy": false,"#)
    );
    let failed = format!(
        "{},{}",
        running(1, r#""healthy": true,"#),
        running(2, r#""healthy": false,"#)
    );
    // Not a boolean: no health check result, as if absent.
    let odd = running(1, r#""healthy": "false","#);
    let doc = health_doc(&[
        ("sick", &unhealthy),
        ("fine", &healthy),
        ("plain", &unchecked),
        ("recovered", &recovered),
        ("failed", &failed),
        ("odd", &odd),
    ]);
    let shown = |hide: bool| {
        let list = gen_with(
            &doc,
            Opts {
                hide_unhealthy: hide,
                ptr_on: true,
                ..Opts::default()
            },
        );
        let with_records: BTreeSet<String> = ["sick", "fine", "plain", "recovered", "failed", "odd"]
            .into_iter()
            .filter(|t| {
                let a = !at(&list, &format!("{t}.web.mesos.")).is_empty();
                let srv = !at(&list, &format!("_{t}._tcp.web.mesos.")).is_empty();
                let agent = !at(&list, &format!("{t}.web.slave.mesos.")).is_empty();
                assert_eq!((a, srv), (a, agent), "{t}: all records or none");
                a
            })
            .map(String::from)
            .collect();
        let listed: BTreeSet<String> = list.tasks().map(|t| t.name.to_owned()).collect();
        assert_eq!(listed, with_records, "the tasks listed are the tasks with records");
        (with_records, reverse(&list))
    };
    let (all, all_ptr) = shown(false);
    assert_eq!(all, set(&["sick", "fine", "plain", "recovered", "failed", "odd"]));
    assert!(
        all_ptr.contains(&"10.200.0.1 sick.web.mesos.".to_owned()),
        "{all_ptr:?}"
    );
    let (healthy_only, ptr) = shown(true);
    assert_eq!(healthy_only, set(&["fine", "plain", "recovered", "odd"]));
    assert!(
        !ptr.iter()
            .any(|p| p.starts_with("10.200.0.1 ") || p.starts_with("10.200.0.5 ")),
        "no PTR for hidden tasks: {ptr:?}"
    );
    assert!(ptr.contains(&"10.200.0.2 fine.web.mesos.".to_owned()), "{ptr:?}");
}

/// A task `t` of framework `f` on agent 10.1.0.1 whose running status has `netinfo` addresses and a
/// `MesosContainerizer` label address.
fn network_doc(netinfo: &[&str], mesos_label: Option<&str>) -> Vec<u8> {
    let addrs: Vec<String> = netinfo.iter().map(|a| format!(r#"{{"ip_address": "{a}"}}"#)).collect();
    let labels = mesos_label
        .map(|a| format!(r#"{{"key": "{MESOS_IP_LABEL}", "value": "{a}"}}"#))
        .unwrap_or_default();
    format!(
        r#"{{"leader": "master@10.0.0.1:5050",
            "slaves": [{{"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051"}}],
            "frameworks": [{{"name": "f", "tasks": [{{"id": "t.1", "name": "t", "slave_id": "a-S1",
                "state": "TASK_RUNNING", "statuses": [{{"state": "TASK_RUNNING", "timestamp": 1,
                "labels": [{labels}],
                "container_status": {{"network_infos": [{{"ip_addresses": [{}]}}]}}}}]}}]}}]}}"#,
        addrs.join(",")
    )
    .into_bytes()
}

fn task_addresses(doc: &[u8], unroutable: &[&str]) -> BTreeSet<String> {
    let nets: Vec<Cidr> = unroutable.iter().map(|n| Cidr::parse(n).unwrap()).collect();
    let list = gen_with(
        doc,
        Opts {
            unroutable: &nets,
            ..Opts::default()
        },
    );
    let canon = format!("t-{}-s1.f.mesos.", hash("t.1"));
    let short = at(&list, "t.f.mesos.");
    assert_eq!(short, at(&list, &canon), "both task names have the same addresses");
    short
}

#[test]
fn unroutable_addresses_are_dropped_and_the_next_ip_source_is_used() {
    let bridge = ["172.17.0.2", "fd00:dead::2"];
    let docker = ["172.17.0.0/16", "fd00::/8"];
    // Nothing configured: the bridge addresses are published, as by the original.
    let doc = network_doc(&bridge, Some("10.5.0.2"));
    assert_eq!(task_addresses(&doc, &[]), set(&["A 172.17.0.2", "AAAA fd00:dead::2"]));
    // Both netinfo addresses are unroutable: the next source (mesos) gives the task's address.
    assert_eq!(task_addresses(&doc, &docker), set(&["A 10.5.0.2"]));
    // Only one family is listed: the other netinfo address still counts, and no later source is asked.
    assert_eq!(task_addresses(&doc, &["172.17.0.0/16"]), set(&["AAAA fd00:dead::2"]));
    // Every container address unroutable: `host`, the agent's.
    let doc = network_doc(&bridge, Some("172.17.0.9"));
    assert_eq!(task_addresses(&doc, &docker), set(&["A 10.1.0.1"]));
    // A routable netinfo address beside a bridge one: only it.
    let doc = network_doc(&["172.17.0.2", "10.200.0.5"], None);
    assert_eq!(task_addresses(&doc, &docker), set(&["A 10.200.0.5"]));
    // An IPv4-mapped address is checked as the IPv4 address it is stored as.
    let doc = network_doc(&["::ffff:172.17.0.2"], None);
    assert_eq!(task_addresses(&doc, &docker), set(&["A 10.1.0.1"]));
    // The agent's own network is unroutable too: the task is left without addresses, but keeps its
    // agent names (those are the agent's, not the task's).
    let nets = [
        Cidr::parse("172.17.0.0/16").unwrap(),
        Cidr::parse("10.1.0.0/16").unwrap(),
    ];
    let list = gen_with(
        &network_doc(&["172.17.0.2"], None),
        Opts {
            unroutable: &nets,
            ..Opts::default()
        },
    );
    assert_eq!(at(&list, "t.f.mesos."), set(&[]));
    assert_eq!(at(&list, "t.f.slave.mesos."), set(&["A 10.1.0.1"]));
}

const HOSTS_DOC: &[u8] = br#"{"leader": "master@10.0.0.1:5050", "pid": "master@10.0.0.1:5050",
    "hostname": "M1.Example.com",
    "slaves": [
        {"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051", "hostname": "Agent1.Example.com"},
        {"id": "a-S2", "pid": "slave(1)@agent2.example.com:5051", "hostname": "agent2.example.com."},
        {"id": "a-S3", "pid": "slave(1)@10.1.0.3:5051", "hostname": "10.1.0.3"},
        {"id": "a-S4", "pid": "slave(1)@10.1.0.4:5051", "hostname": "!!!"},
        {"id": "a-S5", "pid": "slave(1)@[fd00::5]:5051", "hostname": "[fd00::5]"}],
    "frameworks": []}"#;

#[test]
fn agents_and_the_leader_get_their_host_names_as_one_label() {
    let list = gen(HOSTS_DOC);
    assert_eq!(at(&list, "agent1-example-com.slave.mesos."), set(&["A 10.1.0.1"]));
    // The agent's addresses, resolved from its pid host, IPv6 included.
    assert_eq!(
        at(&list, "agent2-example-com.slave.mesos."),
        set(&["A 10.1.0.2", "AAAA fd00::2"])
    );
    // The document comes from the leader (its pid): its hostname is the leader's.
    assert_eq!(at(&list, "m1-example-com.master.mesos."), set(&["A 10.0.0.1"]));
    // IP literals and names with nothing usable give no host name.
    let hosts: BTreeSet<String> = names(&list)
        .into_iter()
        .filter(|n| n.ends_with(".slave.mesos.") || n.ends_with(".master.mesos."))
        .collect();
    assert_eq!(
        hosts,
        set(&[
            "agent1-example-com.slave.mesos.",
            "agent2-example-com.slave.mesos.",
            "m1-example-com.master.mesos."
        ])
    );
    // Every agent is still in `slave.D`.
    assert_eq!(at(&list, "slave.mesos.").len(), 6);
}

#[test]
fn host_names_follow_the_label_rules_of_task_names() {
    let list = gen_with(
        HOSTS_DOC,
        Opts {
            rfc952: true,
            ..Opts::default()
        },
    );
    // RFC 952: 24 characters at most.
    assert_eq!(at(&list, "agent1-example-com.slave.mesos."), set(&["A 10.1.0.1"]));
    let doc = br#"{"leader": "master@10.0.0.1:5050",
        "slaves": [{"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051",
            "hostname": "a-very-long-host-name-of-an-agent.rack-7.dc-1.example.com"}]}"#;
    let list = gen_with(
        doc,
        Opts {
            rfc952: true,
            ..Opts::default()
        },
    );
    let label = label::Spec::new(true).label("a-very-long-host-name-of-an-agent.rack-7.dc-1.example.com");
    assert_eq!(label.len(), 24);
    assert_eq!(at(&list, &format!("{label}.slave.mesos.")), set(&["A 10.1.0.1"]));
}

#[test]
fn the_leaders_host_name_comes_from_master_info_else_from_a_document_of_the_leader() {
    let leader_hosts = |doc: &str| -> BTreeSet<String> {
        let list = gen(doc.as_bytes());
        names(&list)
            .into_iter()
            .filter(|n| n.ends_with(".master.mesos."))
            .collect()
    };
    // `leader_info` wins over the serving master's own hostname.
    assert_eq!(
        leader_hosts(
            r#"{"leader": "master@10.0.0.1:5050", "pid": "master@10.0.0.2:5050", "hostname": "m2",
                "leader_info": {"hostname": "m1.dc", "ip": 16777226, "port": 5050}}"#
        ),
        set(&["m1-dc.master.mesos."])
    );
    // A document from another master, without `leader_info`: its hostname is not the leader's.
    assert_eq!(
        leader_hosts(r#"{"leader": "master@10.0.0.1:5050", "pid": "master@10.0.0.2:5050", "hostname": "m2"}"#),
        set(&[])
    );
    assert_eq!(
        leader_hosts(r#"{"leader": "master@10.0.0.1:5050", "hostname": "m2"}"#),
        set(&[])
    );
    // An unresolvable leader has no addresses to give its name.
    assert_eq!(
        leader_hosts(r#"{"leader": "master@nowhere:5050", "pid": "master@nowhere:5050", "hostname": "m1"}"#),
        set(&[])
    );
}

#[test]
fn an_agents_address_points_back_to_its_host_name_then_to_slave() {
    let list = gen_with(
        HOSTS_DOC,
        Opts {
            ptr_on: true,
            ..Opts::default()
        },
    );
    assert_eq!(
        reverse(&list),
        [
            "10.1.0.1 agent1-example-com.slave.mesos.",
            "10.1.0.1 slave.mesos.",
            "10.1.0.2 agent2-example-com.slave.mesos.",
            "fd00::2 agent2-example-com.slave.mesos.",
            "10.1.0.2 slave.mesos.",
            "fd00::2 slave.mesos.",
            "10.1.0.3 slave.mesos.",
            "10.1.0.4 slave.mesos.",
            "fd00::5 slave.mesos.",
        ],
        "masters get no PTR"
    );
}
