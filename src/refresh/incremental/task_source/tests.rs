//! A task's records made again from its source are the records generated from the task: on the
//! fixtures, on generated states, and on tasks made to reach every part of the source (many ports,
//! IPv6 and IPv4-mapped addresses, every IP source, unroutable addresses, discovery names and ports,
//! agents without an address: SRV records only), under several settings.

use std::net::Ipv4Addr;

use serde_json::json;

use super::*;
use crate::addr::HostPort;
use crate::config::{Cidr, Config, IpSource};
use crate::records::from_state::generate_for_edits;
use crate::refresh::incremental::tests::generated;
use crate::refresh::model::Model;

const FAKE: &[u8] = include_bytes!("../../../../tests/fixtures/fake.json");
const TUTORIAL: &[u8] = include_bytes!("../../../../tests/fixtures/tutorial-0.21.json");

/// A state of tasks each reaching a part of the source the fixtures leave out.
fn edges() -> Vec<u8> {
    let status = |ts: f64, extra: serde_json::Value| {
        let mut s = json!({"state": "TASK_RUNNING", "timestamp": ts});
        if let (Some(s), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
            s.extend(extra.clone());
        }
        s
    };
    let networks = json!({"container_status": {"network_infos": [
        {"ip_address": "10.7.0.1"},
        {"ip_addresses": [{"ip_address": "fd07::1"}, {"ip_address": "::ffff:10.7.0.2"}, {"ip_address": "not an address"},
            {"ip_address": "10.7.0.1"}, {"ip_address": "10.99.0.1"}]},
        {"ip_address": "fd07::2", "ip_addresses": []}
    ]}});
    let labels = json!({"labels": [
        {"key": "Docker.NetworkSettings.IPAddress", "value": "10.8.0.1"},
        {"key": "MesosContainerizer.NetworkSettings.IPAddress", "value": "fd08::1"},
        {"key": "other", "value": "10.8.0.9"},
        {"key": "Docker.NetworkSettings.IPAddress", "value": "::ffff:10.8.0.2"},
        {"key": "MesosContainerizer.NetworkSettings.IPAddress", "value": "10.8.0.3"}
    ]});
    let task = |id: &str, name: &str, agent: &str, ports: &str, statuses: serde_json::Value| {
        json!({"id": id, "name": name, "framework_id": "fw-0", "slave_id": agent, "state": "TASK_RUNNING",
            "resources": {"ports": ports}, "statuses": statuses, "labels": [{"key": "team", "value": "t1"}]})
    };
    let mut tasks = vec![
        // Past 255 ports, in ranges out of order; then every port there is (cut at 1024).
        task(
            "many.1",
            "many",
            "S0",
            "[31000-31299, 30000-30000, 31300-31310, 40000-40001]",
            json!([]),
        ),
        task("all.1", "all", "S0", "[1-65535]", json!([])),
        task("none.1", "none", "S0", "", json!([status(1.0, json!({}))])),
        // Every status address form; the latest TASK_RUNNING status counts.
        task(
            "net.1",
            "Net.Work",
            "S1",
            "[31000-31001]",
            json!([status(5.0, networks.clone()), status(2.0, labels.clone()), {"state": "TASK_STAGING", "timestamp": 9.0}]),
        ),
        task(
            "lab.1",
            "lab",
            "S1",
            "[31000-31000]",
            json!([status(1.0, json!({})), status(3.0, labels)]),
        ),
        // On an agent without an address: SRV records only.
        task("srv.1", "srv", "S2", "[31005-31006]", json!([status(1.0, networks)])),
        task("srv.2", "srv", "S2", "[31007-31007]", json!([])),
    ];
    let discovery = |name: &str, ports: serde_json::Value| json!({"visibility": "FRAMEWORK", "name": name, "ports": {"ports": ports}});
    let mut d1 = task("disc.1", "disc", "S0", "[31020-31021]", json!([]));
    d1["discovery"] = discovery(
        "disc",
        json!([{"number": 31020, "name": "http", "protocol": "tcp"}, {"name": "nonumber", "protocol": "udp"},
            {"number": 31021, "name": "", "protocol": ""}, {"number": 80, "name": "Web UI", "protocol": "TCP"}]),
    );
    let mut d2 = task("disc.2", "disc", "S1", "[]", json!([]));
    d2["discovery"] = discovery(
        "Other_Name.x",
        json!([{"number": 53, "name": "dns", "protocol": "udp"}]),
    );
    let mut d3 = task("disc.3", "disc3", "S2", "[31030-31030]", json!([]));
    d3["discovery"] = discovery("", json!([{"number": 31030, "name": "http", "protocol": "tcp"}]));
    tasks.extend([d1, d2, d3]);
    let agent = |id: &str, host: &str| json!({"id": id, "hostname": host, "pid": format!("slave(1)@{host}:5051")});
    let doc = json!({"hostname": "localhost", "leader": "master@127.0.0.1:5050", "pid": "master@127.0.0.1:5050",
        "slaves": [agent("S0", "10.0.0.1"), agent("S1", "10.0.0.2"), agent("S2", "no-such-host.invalid")],
        "frameworks": [{"id": "fw-0", "name": "marathon", "hostname": "10.1.0.1", "pid": "scheduler(1)@10.1.0.1:8080",
            "tasks": tasks}]});
    serde_json::to_vec(&doc).unwrap()
}

fn configs() -> Vec<Config> {
    let sources = [
        vec![IpSource::Netinfo, IpSource::Mesos, IpSource::Host],
        vec![IpSource::Docker, IpSource::Mesos, IpSource::Netinfo],
        vec![IpSource::Mesos],
        vec![IpSource::Host],
    ];
    let mut out = Vec::new();
    for (i, ip_sources) in sources.into_iter().enumerate() {
        out.push(Config {
            masters: vec![HostPort::parse("127.0.0.1:5050").unwrap()],
            ptr_on: i % 2 == 0,
            ip_sources,
            unroutable_networks: match i {
                0 | 1 => vec![
                    Cidr::parse("10.99.0.0/16").unwrap(),
                    Cidr::parse("10.8.0.1/32").unwrap(),
                ],
                _ => Vec::new(),
            },
            ..Config::default()
        });
    }
    out
}

/// A one-task list as text: its task (framework, name, id, agent) and each record with its PTR mark.
fn listing(list: &RecordList) -> Vec<String> {
    let mut out: Vec<String> = list
        .tasks()
        .enumerate()
        .map(|(i, t)| format!("{} {} {} {}", t.framework_index, t.name, t.id, list.task_agent(i)))
        .collect();
    out.extend(
        list.records_of_task(0)
            .map(|(r, back)| format!("{} {:?} {back}", r.name, r.data)),
    );
    out
}

#[test]
fn a_tasks_records_made_again_from_its_source_are_the_generated_ones() {
    let bodies = [
        FAKE.to_vec(),
        TUTORIAL.to_vec(),
        generated(1, 150),
        generated(2, 150),
        edges(),
    ];
    let (mut tasks, mut records, mut srv_only) = (0, 0, 0);
    let mut source = Vec::new();
    for config in configs() {
        for body in &bodies {
            let model = Model::from_body(body).unwrap();
            let resolve = |host: &str| host.parse().into_iter().collect();
            let (fixed, gen) = generate_for_edits(&config, model.header(), &config.masters, &[], &resolve).unwrap();
            let frameworks: Vec<String> = fixed.frameworks().map(str::to_owned).collect();
            let generator = Generator::new(gen);
            model.for_each_task(|f, task| {
                let list = generator.task(f, task);
                let Some(t) = list.tasks().next() else { return };
                write_task(task, &mut source);
                let entry = TaskEntry::new((t.framework_index as u32, 0), t.name, t.id, &source);
                let again = generator.records(&entry, &task.slave_id, &frameworks);
                assert_eq!(listing(&again), listing(&list), "task {} from {source:?}", task.id);
                tasks += 1;
                records += list.len();
                srv_only +=
                    usize::from(!list.is_empty() && list.records_of_task(0).all(|(r, _)| r.name.starts_with('_')));
            });
        }
    }
    assert!(tasks > 1000 && records > 10 * 1000, "{tasks} tasks, {records} records");
    assert!(srv_only > 0, "no task with SRV records only");
}

/// A task's source is a few bytes besides its name and id: what the table saves.
#[test]
fn a_generated_states_task_source_is_a_few_bytes() {
    let model = Model::from_body(&edges()).unwrap();
    let mut sizes = Vec::new();
    let mut source = Vec::new();
    model.for_each_task(|_, task| {
        write_task(task, &mut source);
        sizes.push((task.id.to_string(), source.len()));
    });
    let size = |id: &str| sizes.iter().find(|(i, _)| i == id).map(|s| s.1).unwrap();
    // Tag, one range (3 + 1 bytes), no address, no discovery.
    assert_eq!(size("srv.2"), 1 + 1 + 4 + 1 + 1 + 1);
    // Every port there is (the first 1024): one range (1 + 2 bytes).
    assert_eq!(size("all.1"), size("srv.2") - 1);
}

#[test]
fn a_carried_tasks_records_come_back_from_its_source() {
    let record = |name: &str, data: RData| Record {
        name: name.into(),
        data,
    };
    let task = CarriedTask {
        framework: "marathon".into(),
        name: "web".into(),
        id: "web.1".into(),
        agent: "S9".into(),
        records: vec![
            (
                record("web.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1))),
                true,
            ),
            (
                record("web.marathon.mesos.", RData::Aaaa("fd00::1".parse().unwrap())),
                true,
            ),
            (
                record("web-x.marathon.mesos.", RData::Aaaa("fd00::2".parse().unwrap())),
                false,
            ),
            (
                record(
                    "_web._tcp.marathon.mesos.",
                    RData::Srv {
                        target: "web-x.marathon.slave.mesos.".into(),
                        port: 31000,
                    },
                ),
                false,
            ),
            // (No task has one: not kept.)
            (record("web.marathon.mesos.", RData::Txt(vec!["x".into()])), false),
        ],
    };
    let frameworks = vec!["chronos".to_owned(), "marathon".to_owned()];
    let mut source = Vec::new();
    write_carried(&task, &mut source);
    let entry = TaskEntry::new((1, 0), "web", "web.1", &source);
    let (_, gen) = generate_for_edits(
        &configs()[0],
        Model::from_body(FAKE).unwrap().header(),
        &configs()[0].masters,
        &[],
        &|_| Vec::new(),
    )
    .unwrap();
    let again = Generator::new(gen).records(&entry, "S9", &frameworks);
    let mut kept = task.clone();
    kept.records.pop();
    assert_eq!(listing(&again), listing(&carried_list(&frameworks, &kept)));
    assert_eq!(again.records_of_task(0).count(), 4);
}

/// A source cut anywhere or garbled reads as some task (never a panic).
#[test]
fn cut_or_garbled_sources_read_without_panicking() {
    let model = Model::from_body(&edges()).unwrap();
    let (fixed, gen) = generate_for_edits(&configs()[0], model.header(), &configs()[0].masters, &[], &|_| {
        Vec::new()
    })
    .unwrap();
    let frameworks: Vec<String> = fixed.frameworks().map(str::to_owned).collect();
    let generator = Generator::new(gen);
    let mut sources = Vec::new();
    model.for_each_task(|_, task| {
        let mut source = Vec::new();
        write_task(task, &mut source);
        sources.push(source);
    });
    for source in &sources {
        for cut in 0..source.len() {
            let entry = TaskEntry::new((0, 0), "t", "t.1", &source[..cut]);
            generator.records(&entry, "S0", &frameworks);
            let mut garbled = source.clone();
            garbled[cut] ^= 0xff;
            let entry = TaskEntry::new((0, 0), "t", "t.1", &garbled);
            generator.records(&entry, "S0", &frameworks);
        }
    }
}
