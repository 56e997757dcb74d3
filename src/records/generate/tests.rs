//! Unit tests of record generation: both fixtures, the original's expectation tables, odd documents.
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;
use crate::mesos::state::parse;
use crate::records::taskid::task_hash;
use crate::records::RData;

const FAKE: &[u8] = include_bytes!("../../../tests/fixtures/fake.json");
const TUTORIAL: &[u8] = include_bytes!("../../../tests/fixtures/tutorial-0.21.json");

const DEFAULT_SOURCES: &[IpSource] = &[IpSource::Netinfo, IpSource::Mesos, IpSource::Host];
const ALL_SOURCES: &[IpSource] = &[IpSource::Netinfo, IpSource::Docker, IpSource::Mesos, IpSource::Host];

/// The system resolver stand-in: a few fixed names, nothing else resolves.
fn fake_resolve(host: &str) -> Vec<IpAddr> {
    match host {
        "localhost" => vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)],
        "master1.example.com" => vec!["10.0.0.1".parse().unwrap()],
        "leader.example.com" => vec!["10.0.0.9".parse().unwrap(), "10.0.0.9".parse().unwrap()],
        "agent2.example.com" => vec!["10.1.0.2".parse().unwrap(), "fd00::2".parse().unwrap()],
        _ => Vec::new(),
    }
}

struct Opts<'a> {
    domain: &'a str,
    sources: &'a [IpSource],
    rfc952: bool,
    masters: &'a [String],
    self_addrs: &'a [IpAddr],
    ptr_on: bool,
}

impl Default for Opts<'_> {
    fn default() -> Self {
        Opts {
            domain: "mesos",
            sources: DEFAULT_SOURCES,
            rfc952: false,
            masters: &[],
            self_addrs: &[],
            ptr_on: false,
        }
    }
}

fn gen_with(doc: &[u8], o: Opts<'_>) -> RecordList {
    let state = parse(doc).unwrap();
    let input = GenInput {
        domain: o.domain,
        ip_sources: o.sources,
        enforce_rfc952: o.rfc952,
        masters: o.masters,
        soa_mname: "ns1.mesos.",
        self_addrs: o.self_addrs,
        resolve: &fake_resolve,
        ptr_on: o.ptr_on,
    };
    let whole = generate(&state, &input);
    // Every test also checks that reading the tasks one at a time gives the very same list.
    let header = crate::mesos::state::parse_header(doc).unwrap();
    let streamed = generate_streamed(&header, doc, &input).unwrap();
    assert_same(&whole, &streamed);
    whole
}

fn assert_same(a: &RecordList, b: &RecordList) {
    assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
    assert_eq!(a.frameworks().collect::<Vec<_>>(), b.frameworks().collect::<Vec<_>>());
    assert_eq!(a.tasks().collect::<Vec<_>>(), b.tasks().collect::<Vec<_>>());
    assert_eq!(
        a.task_records().collect::<Vec<_>>(),
        b.task_records().collect::<Vec<_>>()
    );
    assert_eq!(a.reverse().collect::<Vec<_>>(), b.reverse().collect::<Vec<_>>());
}

#[test]
fn streamed_tasks_keep_their_framework_through_odd_entries() {
    // Non-object framework entries are skipped by both readers, so task i of the walk belongs to the
    // header's framework i; odd `tasks` values read as none.
    let doc = br#"{"leader": "master@10.0.0.1:5050",
        "slaves": [{"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051"}],
        "frameworks": [7, null, {"name": "one", "tasks": {"x": 1}},
            "s", [1, 2],
            {"name": "two", "tasks": [null, 5, {"id": "t2", "name": "web", "slave_id": "a-S1", "state": "TASK_RUNNING"}]},
            {"name": "three", "tasks": [{"id": "t3", "name": "db", "slave_id": "a-S1", "state": "TASK_RUNNING"}]}],
        "extra": {"frameworks": [{"name": "nested", "tasks": [{"id": "t9"}]}]}}"#;
    let list = gen(doc);
    assert_eq!(at(&list, "web.two.mesos."), set(&["A 10.1.0.1"]));
    assert_eq!(at(&list, "db.three.mesos."), set(&["A 10.1.0.1"]));
    let tasks: Vec<_> = list.tasks().map(|t| (t.framework_index, t.framework, t.name)).collect();
    assert_eq!(tasks, [(1, "two", "web"), (2, "three", "db")]);
    assert_eq!(list.frameworks().collect::<Vec<_>>(), ["one", "two", "three"]);
}

#[test]
fn every_framework_is_listed_once_per_state_entry_tasks_or_not() {
    // Two frameworks may share a name (Mesos tells them apart by id); one has no running task.
    let doc = br#"{"leader": "master@10.0.0.1:5050",
        "slaves": [{"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051"}],
        "frameworks": [
            {"id": "f-1", "name": "web", "tasks": [{"id": "t1", "name": "a", "slave_id": "a-S1", "state": "TASK_RUNNING"}]},
            {"id": "f-2", "name": "idle", "tasks": [{"id": "t2", "name": "b", "slave_id": "a-S1", "state": "TASK_KILLED"}]},
            {"id": "f-3", "name": "web", "tasks": [{"id": "t3", "name": "c", "slave_id": "a-S1", "state": "TASK_RUNNING"}]},
            {"id": "f-4", "name": "", "tasks": []}]}"#;
    let list = gen(doc);
    assert_eq!(list.frameworks().collect::<Vec<_>>(), ["web", "idle", "web", ""]);
    let tasks: Vec<_> = list.tasks().map(|t| (t.framework_index, t.name)).collect();
    assert_eq!(tasks, [(0, "a"), (2, "c")]);
}

fn gen(doc: &[u8]) -> RecordList {
    gen_with(doc, Opts::default())
}

fn render_data(data: &RData) -> String {
    match data {
        RData::A(a) => format!("A {a}"),
        RData::Aaaa(a) => format!("AAAA {a}"),
        RData::Srv { target, port } => format!("SRV {port} {target}"),
    }
}

/// Every record as `name TYPE data`.
fn render(list: &RecordList) -> BTreeSet<String> {
    list.iter()
        .map(|r| format!("{} {}", r.name, render_data(&r.data)))
        .collect()
}

/// The data of every record at `name`, as `TYPE data`.
fn at(list: &RecordList, name: &str) -> BTreeSet<String> {
    list.iter()
        .filter(|r| r.name == name)
        .map(|r| render_data(&r.data))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn names(list: &RecordList) -> BTreeSet<String> {
    list.iter().map(|r| r.name.clone()).collect()
}

fn hash(id: &str) -> String {
    String::from_utf8(task_hash(id).to_vec()).unwrap()
}

#[test]
fn tutorial_gives_exactly_the_expected_records() {
    let self_addrs = ["10.0.0.53".parse().unwrap()];
    let list = gen_with(
        TUTORIAL,
        Opts {
            self_addrs: &self_addrs,
            ..Opts::default()
        },
    );
    let m = "marathon-0.7.6.mesos.";
    let ms = "marathon-0.7.6.slave.mesos.";
    let mut want = vec![
        format!("{m} A 10.41.40.151"),
        format!("_framework._tcp.{m} SRV 35214 {m}"),
        "slave.mesos. A 10.14.245.208".into(),
        "slave.mesos. A 10.114.227.92".into(),
        "slave.mesos. A 10.29.107.105".into(),
        "_slave._tcp.mesos. SRV 5051 slave.mesos.".into(),
        "ns1.mesos. A 10.0.0.53".into(),
        "leader.mesos. A 127.0.0.1".into(),
        "_leader._tcp.mesos. SRV 5050 leader.mesos.".into(),
        "_leader._udp.mesos. SRV 5050 leader.mesos.".into(),
        "master.mesos. A 127.0.0.1".into(),
        "master0.mesos. A 127.0.0.1".into(),
    ];
    for (t, h, s, ip, port) in [
        ("mesos-dns", "uhgs6", "s0", "10.14.245.208", 31053),
        ("nginx", "gwi91", "s1", "10.114.227.92", 31080),
    ] {
        let canon = format!("{t}-{h}-{s}");
        want.extend([
            format!("{t}.{m} A {ip}"),
            format!("{canon}.{m} A {ip}"),
            format!("{t}.{ms} A {ip}"),
            format!("{canon}.{ms} A {ip}"),
            format!("_{t}._tcp.{ms} SRV {port} {canon}.{ms}"),
            format!("_{t}._udp.{ms} SRV {port} {canon}.{ms}"),
            format!("_{t}._tcp.{m} SRV {port} {canon}.{ms}"),
            format!("_{t}._udp.{m} SRV {port} {canon}.{ms}"),
        ]);
    }
    let want: BTreeSet<String> = want.into_iter().collect();
    assert_eq!(render(&list), want);
    assert_eq!(list.len(), want.len(), "no record is stored twice");
    assert_eq!(hash("nginx.7a1e0000-a36d-11e4-8c21-56847afe9799"), "gwi91");
    assert_eq!(hash("mesos-dns.5d3c1d2e-a36b-11e4-8c21-56847afe9799"), "uhgs6");
}

#[test]
fn tutorial_nginx_answers_as_in_the_seed_tutorial() {
    let list = gen(TUTORIAL);
    assert_eq!(at(&list, "nginx.marathon-0.7.6.mesos."), set(&["A 10.114.227.92"]));
    assert_eq!(
        at(&list, "_nginx._tcp.marathon-0.7.6.mesos."),
        set(&["SRV 31080 nginx-gwi91-s1.marathon-0.7.6.slave.mesos."])
    );
    assert_eq!(at(&list, "leader.mesos."), set(&["A 127.0.0.1"]));
    assert_eq!(at(&list, "slave.mesos.").len(), 3);
}

#[test]
fn fake_json_frameworks_agents_and_masters() {
    let list = gen(FAKE);
    assert_eq!(at(&list, "ipv6-framework.mesos."), set(&["AAAA 2001:db8::1"]));
    assert_eq!(
        at(&list, "_framework._tcp.ipv6-framework.mesos."),
        set(&["SRV 25501 ipv6-framework.mesos."])
    );
    // A framework name with spaces, capitals and dots keeps its dots as label separators.
    let chronos = "chronoswithaspaceandmixedcase-2.0.1.mesos.";
    assert_eq!(at(&list, chronos), set(&["A 1.2.3.12"]));
    assert_eq!(
        at(&list, &format!("_framework._tcp.{chronos}")),
        set(&[&format!("SRV 25501 {chronos}")])
    );
    // No pid: the scheduler's hostname, resolved, and no SRV (no port).
    assert_eq!(at(&list, "nopid.mesos."), set(&["A 127.0.0.1", "AAAA ::1"]));
    assert!(at(&list, "_framework._tcp.nopid.mesos.").is_empty());
    assert_eq!(at(&list, "marathon.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(
        at(&list, "_framework._tcp.marathon.mesos."),
        set(&["SRV 25501 marathon.mesos."])
    );
    assert_eq!(
        at(&list, "slave.mesos."),
        set(&["A 1.2.3.10", "A 1.2.3.11", "A 1.2.3.12", "AAAA 2001:db8::1"])
    );
    assert_eq!(at(&list, "_slave._tcp.mesos."), set(&["SRV 5051 slave.mesos."]));
    assert_eq!(at(&list, "leader.mesos."), set(&["A 127.0.0.1"]));
    assert_eq!(at(&list, "master.mesos."), set(&["A 127.0.0.1"]));
    assert_eq!(at(&list, "master0.mesos."), set(&["A 127.0.0.1"]));
    assert_eq!(at(&list, "_leader._udp.mesos."), set(&["SRV 5050 leader.mesos."]));
}

#[test]
fn fake_json_netinfo_gives_every_container_address_of_the_task() {
    let list = gen(FAKE);
    let addrs = set(&["A 12.0.1.3", "A 12.0.1.2", "AAAA fd01:b::1:8000:2"]);
    assert_eq!(at(&list, "toy-store.ipv6-framework.mesos."), addrs);
    assert_eq!(at(&list, "toy-store-go588-3.ipv6-framework.mesos."), addrs);
    assert_eq!(
        at(&list, "toy-store.ipv6-framework.slave.mesos."),
        set(&["AAAA 2001:db8::1"])
    );
    assert_eq!(
        at(&list, "toy-store-go588-3.ipv6-framework.slave.mesos."),
        set(&["AAAA 2001:db8::1"])
    );
    let target = "toy-store-go588-3.ipv6-framework.slave.mesos.";
    let srv = set(&[&format!("SRV 31354 {target}"), &format!("SRV 31355 {target}")]);
    for name in [
        "_toy-store._tcp.ipv6-framework.mesos.",
        "_toy-store._udp.ipv6-framework.mesos.",
        "_toy-store._tcp.ipv6-framework.slave.mesos.",
        "_toy-store._udp.ipv6-framework.slave.mesos.",
    ] {
        assert_eq!(at(&list, name), srv, "{name}");
    }
}

#[test]
fn fake_json_docker_labels_come_from_the_latest_running_status() {
    let list = gen_with(
        FAKE,
        Opts {
            sources: ALL_SOURCES,
            ..Opts::default()
        },
    );
    // liquor.store's statuses are out of order: the latest TASK_RUNNING one says 10.3.0.1.
    assert_eq!(
        at(&list, "liquor-store.marathon.mesos."),
        set(&["A 10.3.0.1", "A 10.3.0.2"])
    );
    assert_eq!(at(&list, "liquor-store-4dfjd-0.marathon.mesos."), set(&["A 10.3.0.1"]));
    assert_eq!(at(&list, "liquor-store-zasmd-1.marathon.mesos."), set(&["A 10.3.0.2"]));
    assert_eq!(
        at(&list, "liquor-store.marathon.slave.mesos."),
        set(&["A 1.2.3.11", "A 1.2.3.12"])
    );
    assert_eq!(at(&list, "big-dog.marathon.mesos."), set(&["A 10.3.0.1"]));
    assert_eq!(at(&list, "nginx.marathon.mesos."), set(&["A 10.3.0.3"]));
    assert_eq!(at(&list, "car-store.marathon.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(at(&list, "car-store.marathon.slave.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(
        at(&list, "some-box.chronoswithaspaceandmixedcase-2.0.1.mesos."),
        set(&["A 1.2.3.11"])
    );
    assert_eq!(at(&list, "reviewbot-8sq89-1.marathon.mesos."), set(&["A 1.2.3.12"]));
    assert_eq!(at(&list, "toy-store.ipv6-framework.mesos.").len(), 3);
}

#[test]
fn fake_json_ip_sources_are_tried_in_order() {
    let docker_host = gen_with(
        FAKE,
        Opts {
            sources: &[IpSource::Docker, IpSource::Host],
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&docker_host, "liquor-store.marathon.mesos."),
        set(&["A 10.3.0.1", "A 10.3.0.2"])
    );
    assert_eq!(at(&docker_host, "nginx.marathon.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(
        at(&docker_host, "toy-store.ipv6-framework.mesos."),
        set(&["AAAA 2001:db8::1"])
    );

    let mesos_host = gen_with(
        FAKE,
        Opts {
            sources: &[IpSource::Mesos, IpSource::Host],
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&mesos_host, "liquor-store.marathon.mesos."),
        set(&["A 1.2.3.11", "A 1.2.3.12"])
    );
    assert_eq!(at(&mesos_host, "nginx.marathon.mesos."), set(&["A 10.3.0.3"]));
    assert_eq!(
        at(&mesos_host, "toy-store.ipv6-framework.mesos."),
        set(&["AAAA 2001:db8::1"])
    );

    let host = gen_with(
        FAKE,
        Opts {
            sources: &[IpSource::Host],
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&host, "liquor-store.marathon.mesos."),
        set(&["A 1.2.3.11", "A 1.2.3.12"])
    );
    assert_eq!(at(&host, "nginx.marathon.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(at(&host, "toy-store.ipv6-framework.mesos."), set(&["AAAA 2001:db8::1"]));

    // netinfo alone: tasks without container addresses get no task address records at all,
    // but still their agent records and SRV records.
    let netinfo = gen_with(
        FAKE,
        Opts {
            sources: &[IpSource::Netinfo],
            ..Opts::default()
        },
    );
    assert_eq!(at(&netinfo, "toy-store.ipv6-framework.mesos.").len(), 3);
    assert!(at(&netinfo, "liquor-store.marathon.mesos.").is_empty());
    assert!(at(&netinfo, "nginx.marathon.mesos.").is_empty());
    assert_eq!(at(&netinfo, "nginx.marathon.slave.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(at(&netinfo, "_car-store._tcp.marathon.mesos.").len(), 2);

    let none = gen_with(
        FAKE,
        Opts {
            sources: &[],
            ..Opts::default()
        },
    );
    assert!(at(&none, "toy-store.ipv6-framework.mesos.").is_empty());
    assert_eq!(
        at(&none, "toy-store.ipv6-framework.slave.mesos."),
        set(&["AAAA 2001:db8::1"])
    );
}

#[test]
fn fake_json_discovery_info_gives_named_port_srv_records() {
    let list = gen(FAKE);
    let t0 = "liquor-store-4dfjd-0.marathon.mesos.";
    let t1 = "liquor-store-zasmd-1.marathon.mesos.";
    assert_eq!(
        at(&list, "_liquor-store._tcp.marathon.mesos."),
        set(&[
            &format!("SRV 80 {t0}"),
            &format!("SRV 443 {t0}"),
            &format!("SRV 80 {t1}"),
            &format!("SRV 443 {t1}")
        ])
    );
    assert_eq!(
        at(&list, "_http._liquor-store._tcp.marathon.mesos."),
        set(&[&format!("SRV 80 {t0}"), &format!("SRV 80 {t1}")])
    );
    assert_eq!(
        at(&list, "_https._liquor-store._tcp.marathon.mesos."),
        set(&[&format!("SRV 443 {t0}"), &format!("SRV 443 {t1}")])
    );
    // Discovery ports are tcp only; there is no protocol-less name.
    assert!(at(&list, "_liquor-store._udp.marathon.mesos.").is_empty());
    assert!(at(&list, "_liquor-store.marathon.mesos.").is_empty());
    // The port resources still give SRV records under `slave`, to the canonical slave name.
    let s0 = "liquor-store-4dfjd-0.marathon.slave.mesos.";
    let s1 = "liquor-store-zasmd-1.marathon.slave.mesos.";
    assert_eq!(
        at(&list, "_liquor-store._tcp.marathon.slave.mesos."),
        set(&[
            &format!("SRV 31354 {s0}"),
            &format!("SRV 31355 {s0}"),
            &format!("SRV 31737 {s1}"),
            &format!("SRV 31738 {s1}"),
        ])
    );
    assert_eq!(at(&list, "_liquor-store._udp.marathon.slave.mesos.").len(), 4);
    let b = "big-dog-4dfjd-0.marathon.mesos.";
    assert_eq!(
        at(&list, "_big-dog._tcp.marathon.mesos."),
        set(&[&format!("SRV 80 {b}"), &format!("SRV 443 {b}")])
    );
    // Without discovery info, the port resources also give names directly under the framework.
    let c = "car-store-zinaz-0.marathon.slave.mesos.";
    for name in ["_car-store._tcp.marathon.mesos.", "_car-store._udp.marathon.mesos."] {
        assert_eq!(
            at(&list, name),
            set(&[&format!("SRV 31364 {c}"), &format!("SRV 31365 {c}")])
        );
    }
}

#[test]
fn fake_json_discovery_name_is_also_served_as_written() {
    let list = gen_with(
        FAKE,
        Opts {
            sources: ALL_SOURCES,
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&list, "liquor.store.marathon.mesos."),
        set(&["A 10.3.0.1", "A 10.3.0.2"])
    );
    assert_eq!(at(&list, "liquor.store-4dfjd-0.marathon.mesos."), set(&["A 10.3.0.1"]));
    assert_eq!(
        at(&list, "liquor.store.marathon.slave.mesos."),
        set(&["A 1.2.3.11", "A 1.2.3.12"])
    );
    assert_eq!(at(&list, "big.dog.marathon.mesos."), set(&["A 10.3.0.1"]));
    assert_eq!(
        at(&list, "_http._liquor.store._tcp.marathon.mesos."),
        set(&[
            "SRV 80 liquor.store-4dfjd-0.marathon.mesos.",
            "SRV 80 liquor.store-zasmd-1.marathon.mesos."
        ])
    );
    // The task names of discovery tasks are not used.
    assert!(at(&list, "big-dog2.marathon.mesos.").is_empty());
    assert!(at(&list, "non-human-readable-liquor-store.marathon.mesos.").is_empty());
}

#[test]
fn fake_json_only_running_tasks_on_known_agents_get_records() {
    let list = gen(FAKE);
    let all = names(&list);
    assert!(!all.iter().any(|n| n.contains("poseidon")), "killed task");
    assert!(!all.iter().any(|n| n.contains("box01")), "completed task");
    assert!(!all.iter().any(|n| n.contains("chronostask")), "completed task");
    for name in [
        "chronos.marathon.mesos.",
        "reviewbot.marathon.mesos.",
        "car-store.marathon.mesos.",
    ] {
        assert!(all.contains(name), "{name}");
    }
    assert!(all
        .iter()
        .all(|n| n.ends_with(".mesos.") && *n == n.to_ascii_lowercase()));
    assert!(all.iter().all(|n| label::is_valid_name(n)));
    // nginx has "[]" ports: no SRV records at all.
    assert!(!all.iter().any(|n| n.starts_with("_nginx.")));
}

#[test]
fn fake_json_rfc952_shortens_framework_labels() {
    let list = gen_with(
        FAKE,
        Opts {
            sources: ALL_SOURCES,
            rfc952: true,
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&list, "some-box.chronoswithaspaceandmixe.mesos."),
        set(&["A 1.2.3.11"])
    );
    assert_eq!(at(&list, "chronoswithaspaceandmixe.mesos."), set(&["A 1.2.3.12"]));
    assert_eq!(
        at(&list, "liquor-store.marathon.mesos."),
        set(&["A 10.3.0.1", "A 10.3.0.2"])
    );
    assert!(at(&list, "some-box.chronoswithaspaceandmixedcase-2.0.1.mesos.").is_empty());
    let tutorial = gen_with(
        TUTORIAL,
        Opts {
            rfc952: true,
            ..Opts::default()
        },
    );
    assert_eq!(at(&tutorial, "nginx.marathon-0.mesos."), set(&["A 10.114.227.92"]));
}

#[test]
fn the_domain_is_normalised() {
    let list = gen_with(
        TUTORIAL,
        Opts {
            domain: "Example.COM.",
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&list, "nginx.marathon-0.7.6.example.com."),
        set(&["A 10.114.227.92"])
    );
    assert_eq!(at(&list, "leader.example.com."), set(&["A 127.0.0.1"]));
}

#[test]
fn the_server_name_gets_every_listener_address() {
    let addrs: Vec<IpAddr> = vec!["10.0.0.53".parse().unwrap(), "fd00::53".parse().unwrap()];
    let list = gen_with(
        TUTORIAL,
        Opts {
            self_addrs: &addrs,
            ..Opts::default()
        },
    );
    assert_eq!(at(&list, "ns1.mesos."), set(&["A 10.0.0.53", "AAAA fd00::53"]));
}

/// The master records alone for a leader string and masters list (domain `foo.com`).
fn master_records(leader: &str, masters: &[&str]) -> BTreeSet<String> {
    let doc = serde_json::json!({ "leader": leader }).to_string();
    let masters: Vec<String> = masters.iter().map(|m| m.to_string()).collect();
    let list = gen_with(
        doc.as_bytes(),
        Opts {
            domain: "foo.com",
            masters: &masters,
            ..Opts::default()
        },
    );
    render(&list)
}

#[test]
fn masters_are_numbered_as_in_the_original() {
    let srv = [
        "_leader._tcp.foo.com. SRV 7 leader.foo.com.",
        "_leader._udp.foo.com. SRV 7 leader.foo.com.",
    ];
    let with = |extra: &[&str]| -> BTreeSet<String> {
        srv.iter()
            .copied()
            .chain(extra.iter().copied())
            .map(String::from)
            .collect()
    };
    for bad in ["", "@", "1@", "@2", "3@4", "5@0.0.0.6"] {
        assert!(master_records(bad, &[]).is_empty(), "{bad:?}");
    }
    let six = ["leader.foo.com. A 0.0.0.6", "master.foo.com. A 0.0.0.6"];
    let cases: &[(&str, &[&str], Vec<&str>)] = &[
        ("5@0.0.0.6:7", &[], vec!["master0.foo.com. A 0.0.0.6"]),
        ("5@0.0.0.6:7", &["0.0.0.6:7"], vec!["master0.foo.com. A 0.0.0.6"]),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9", "0.0.0.8:9"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9", "0.0.0.6:7"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9", "0.0.0.6:7", "0.0.0.6:7"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
        (
            "5@0.0.0.6:7",
            // The original's table has port 0 in these two; to the crate's one `host:port` parser
            // port 0 is no port (config and ZooKeeper never hand one over): see below.
            &["0.0.0.8:9", "0.0.0.6:7", "0.0.0.7:1"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master.foo.com. A 0.0.0.7",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
                "master2.foo.com. A 0.0.0.7",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9", "0.0.0.6:7", "[2001:db8::1]:1"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master.foo.com. AAAA 2001:db8::1",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
                "master2.foo.com. AAAA 2001:db8::1",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9", "0.0.0.6:7", "0.0.0.7:0", "0.0.0.7:+5"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["master1.example.com:5050", "not an address", "0.0.0.6:7"],
            vec![
                "master.foo.com. A 10.0.0.1",
                "master0.foo.com. A 10.0.0.1",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
    ];
    for (leader, masters, extra) in cases {
        let mut want: Vec<&str> = six.to_vec();
        want.extend(extra);
        assert_eq!(master_records(leader, masters), with(&want), "{leader} {masters:?}");
    }
    assert_eq!(
        master_records("5@[2001:db8::1]:7", &[]),
        with(&[
            "leader.foo.com. AAAA 2001:db8::1",
            "master.foo.com. AAAA 2001:db8::1",
            "master0.foo.com. AAAA 2001:db8::1"
        ])
    );
    // A leader named by host name is resolved.
    assert_eq!(
        master_records("master@leader.example.com:7", &[]),
        with(&[
            "leader.foo.com. A 10.0.0.9",
            "master.foo.com. A 10.0.0.9",
            "master0.foo.com. A 10.0.0.9"
        ])
    );
}

#[test]
fn zookeeper_masters_are_numbered_leader_first() {
    // The masters list as the ZooKeeper detector gives it: the leader, then the other members.
    let zk = ["10.0.0.2:5050", "10.0.0.1:5050", "10.0.0.3:5050"];
    let got = master_records("master@10.0.0.2:5050", &zk);
    let want: BTreeSet<String> = [
        "leader.foo.com. A 10.0.0.2",
        "_leader._tcp.foo.com. SRV 5050 leader.foo.com.",
        "_leader._udp.foo.com. SRV 5050 leader.foo.com.",
        "master.foo.com. A 10.0.0.2",
        "master.foo.com. A 10.0.0.1",
        "master.foo.com. A 10.0.0.3",
        "master0.foo.com. A 10.0.0.2",
        "master1.foo.com. A 10.0.0.1",
        "master2.foo.com. A 10.0.0.3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want);
}

const ODD: &str = r#"{
    "leader": "master@10.0.0.1:5050",
    "slaves": [
        {"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051"},
        {"id": "b-S2", "pid": null, "hostname": "agent2.example.com"},
        {"id": "c-S3", "pid": "garbage", "hostname": "unresolvable.invalid"},
        {"id": "d-S4", "pid": "slave(1)@[::ffff:10.1.0.4]:5051"},
        null, {"id": null, "pid": "slave(1)@10.1.0.5:5051"}, 7
    ],
    "frameworks": [
        {"name": "web", "pid": "scheduler@10.2.0.1:1", "tasks": [
            {"id": "t1", "name": "ok", "slave_id": "a-S1", "state": "TASK_RUNNING",
             "resources": {"ports": "[garbage, 80-81, 99999-1, 5-4]"}},
            {"id": "t2", "name": "lost", "slave_id": "zzz-S9", "state": "TASK_RUNNING"},
            {"id": "t3", "name": "", "slave_id": "a-S1", "state": "TASK_RUNNING"},
            {"id": "t4", "name": "$$$", "slave_id": "a-S1", "state": "TASK_RUNNING"},
            {"id": "t5", "name": "h2", "slave_id": "b-S2", "state": "TASK_RUNNING", "statuses": null, "resources": null},
            {"id": "t6", "name": "noaddr", "slave_id": "c-S3", "state": "TASK_RUNNING", "resources": {"ports": "[5-5]"}},
            null,
            {"id": "t7", "name": "staging", "slave_id": "a-S1", "state": "TASK_STAGING"},
            {"id": "t8", "name": "LONGNAME", "slave_id": "a-S1", "state": "TASK_RUNNING", "resources": {"ports": "[9-9]"}},
            {"id": "t9", "name": "odd-ips", "slave_id": "a-S1", "state": "TASK_RUNNING", "statuses": [
                {"state": "TASK_RUNNING", "timestamp": 1, "container_status": {"network_infos": [
                    {"ip_addresses": [{"ip_address": "not-an-ip"}, {"ip_address": "::ffff:10.9.9.9"},
                                      {"ip_address": "10.9.9.9"}, {"ip_address": ""}]},
                    {"ip_address": "fd00::9"}]}},
                {"state": "TASK_FAILED", "timestamp": 5, "container_status": {"network_infos": [
                    {"ip_address": "10.0.0.66"}]}}]},
            {"id": "t10", "name": "ignored", "slave_id": "a-S1", "state": "TASK_RUNNING",
             "discovery": {"name": "Disc Name!", "ports": {"ports": [
                {"number": "x", "name": "bad"}, {"number": 53, "protocol": "", "name": "DNS"}, null]}}},
            {"id": "t11", "name": "mapped", "slave_id": "d-S4", "state": "TASK_RUNNING"},
            {"id": "t12", "name": "weird-agent", "slave_id": "", "state": "TASK_RUNNING"}
        ]},
        {"name": "", "pid": "scheduler@10.2.0.2:1", "tasks": [
            {"id": "e1", "name": "x", "slave_id": "a-S1", "state": "TASK_RUNNING"}]},
        {"name": null, "pid": null, "tasks": null},
        {"name": "\u00dcn\u00efc\u00f6d\u00e9.fw", "pid": "scheduler@10.2.0.3:2", "tasks": [
            {"id": "u1", "name": "\u65e5\u672c-app", "slave_id": "a-S1", "state": "TASK_RUNNING"}]},
        {"name": "HUGE", "pid": "scheduler@10.2.0.4:3", "tasks": [
            {"id": "h1", "name": "x", "slave_id": "a-S1", "state": "TASK_RUNNING"}]}
    ]
}"#;

fn odd_doc() -> String {
    let huge = vec!["f".repeat(63); 4].join(".");
    ODD.replace("LONGNAME", &"Long_".repeat(30)).replace("HUGE", &huge)
}

#[test]
fn odd_documents_give_only_sound_records() {
    let doc = odd_doc();
    let list = gen(doc.as_bytes());
    let all = names(&list);
    assert!(all.iter().all(|n| label::is_valid_name(n)), "{all:?}");

    // A task with garbage in its port ranges keeps the good ranges.
    let h1 = hash("t1");
    let target = format!("ok-{h1}-s1.web.slave.mesos.");
    assert_eq!(at(&list, "ok.web.mesos."), set(&["A 10.1.0.1"]));
    assert_eq!(
        at(&list, "_ok._tcp.web.mesos."),
        set(&[&format!("SRV 80 {target}"), &format!("SRV 81 {target}")])
    );
    // Unknown agent, empty or unusable names, non-running: nothing.
    assert!(!all
        .iter()
        .any(|n| n.contains("lost") || n.contains("staging") || n.contains("weird")));
    assert!(!all
        .iter()
        .any(|n| n.contains(&hash("t3")) || n.contains(&hash("t4")) || n.contains(&hash("t12"))));
    // An agent without a pid is found by its host name; no SRV without a port.
    assert_eq!(at(&list, "h2.web.mesos."), set(&["A 10.1.0.2", "AAAA fd00::2"]));
    assert_eq!(at(&list, "h2.web.slave.mesos."), set(&["A 10.1.0.2", "AAAA fd00::2"]));
    assert_eq!(
        at(&list, "slave.mesos."),
        set(&["A 10.1.0.1", "A 10.1.0.2", "AAAA fd00::2", "A 10.1.0.4", "A 10.1.0.5"])
    );
    assert_eq!(at(&list, "_slave._tcp.mesos."), set(&["SRV 5051 slave.mesos."]));
    // A known agent without any address: its tasks keep their SRV records, but get no addresses.
    let h6 = hash("t6");
    assert!(at(&list, "noaddr.web.mesos.").is_empty());
    assert!(at(&list, "noaddr.web.slave.mesos.").is_empty());
    assert_eq!(
        at(&list, "_noaddr._tcp.web.mesos."),
        set(&[&format!("SRV 5 noaddr-{h6}-s3.web.slave.mesos.")])
    );
    // Over-long task names are cut to 63; the canonical name keeps its hash and agent.
    let long = Spec::Rfc1123.label(&"Long_".repeat(30));
    assert_eq!(long.len(), 63);
    assert_eq!(at(&list, &format!("{long}.web.mesos.")), set(&["A 10.1.0.1"]));
    let h8 = hash("t8");
    let canon = format!("{}-{h8}-s1", long[..54].trim_end_matches('-'));
    assert!(canon.len() <= 63);
    assert_eq!(at(&list, &format!("{canon}.web.mesos.")), set(&["A 10.1.0.1"]));
    // `_` + a 63-octet label is cut to 63.
    let srv = format!("_{}._tcp.web.mesos.", &long[..62]);
    assert_eq!(at(&list, &srv), set(&[&format!("SRV 9 {canon}.web.slave.mesos.")]));
    // Bad addresses are skipped, IPv4-mapped IPv6 is A, the single-address form is read, and
    // only the latest TASK_RUNNING status counts.
    assert_eq!(at(&list, "odd-ips.web.mesos."), set(&["A 10.9.9.9", "AAAA fd00::9"]));
    assert_eq!(at(&list, "mapped.web.mesos."), set(&["A 10.1.0.4"]));
    // A discovery name that is not usable as written is served only as a label; an empty protocol
    // means tcp and udp; a port that is not a number is skipped.
    let d = format!("discname-{}-s1.web.mesos.", hash("t10"));
    assert_eq!(at(&list, "discname.web.mesos."), set(&["A 10.1.0.1"]));
    for name in [
        "_discname._tcp.web.mesos.",
        "_discname._udp.web.mesos.",
        "_dns._discname._tcp.web.mesos.",
        "_dns._discname._udp.web.mesos.",
    ] {
        assert_eq!(at(&list, name), set(&[&format!("SRV 53 {d}")]), "{name}");
    }
    assert!(!all.iter().any(|n| n.contains("_bad") || n.contains("ignored")));
    // A framework whose name leaves no label gets nothing; unicode is dropped.
    assert!(!all.iter().any(|n| n.starts_with("x.")));
    assert_eq!(at(&list, "ncd.fw.mesos."), set(&["A 10.2.0.3"]));
    assert_eq!(at(&list, "app.ncd.fw.mesos."), set(&["A 10.1.0.1"]));
    // A framework whose names would pass 253 characters gets none.
    assert!(!all.iter().any(|n| n.contains("fffff")));
    assert!(!render(&list).iter().any(|r| r.contains("10.2.0.4")));
    // Masters still come out.
    assert_eq!(at(&list, "leader.mesos."), set(&["A 10.0.0.1"]));
}

#[test]
fn empty_and_minimal_documents_give_only_what_they_hold() {
    assert!(gen(b"{}").is_empty());
    let list = gen(br#"{"leader": "master@10.0.0.1:5050", "frameworks": null, "slaves": {}}"#);
    assert_eq!(
        names(&list),
        set(&[
            "leader.mesos.",
            "_leader._tcp.mesos.",
            "_leader._udp.mesos.",
            "master.mesos.",
            "master0.mesos."
        ])
    );
}

#[test]
fn generated_state_gives_the_expected_record_for_every_task() {
    // A copy of ../shared/tools/gen-state.py, so this test runs wherever the repository is.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gen-state.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args(["--agents", "50", "--tasks", "500"])
        .output()
        .expect("python3 runs gen-state.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let body = out.stdout;
    let list = gen_with(
        &body,
        Opts {
            sources: ALL_SOURCES,
            ..Opts::default()
        },
    );
    assert!(names(&list).iter().all(|n| label::is_valid_name(n)));
    assert_eq!(at(&list, "slave.mesos.").len(), 50);

    // Check every task against an independent reading of the document.
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let agent_ip = |id: &str| -> String {
        let a = doc["slaves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap();
        a["hostname"].as_str().unwrap().to_owned()
    };
    let (mut running, mut other) = (0, 0);
    for f in doc["frameworks"].as_array().unwrap() {
        let fw = f["name"].as_str().unwrap();
        for t in f["tasks"].as_array().unwrap() {
            let (id, name, agent) = (
                t["id"].as_str().unwrap(),
                t["name"].as_str().unwrap(),
                t["slave_id"].as_str().unwrap(),
            );
            let s = agent.rsplit('-').next().unwrap().to_ascii_lowercase();
            let canon = format!("{name}-{}-{s}", hash(id));
            if t["state"] != "TASK_RUNNING" {
                other += 1;
                assert!(at(&list, &format!("{canon}.{fw}.mesos.")).is_empty(), "{id}");
                continue;
            }
            running += 1;
            let status = &t["statuses"][0];
            let ip: IpAddr =
                match status["container_status"]["network_infos"][0]["ip_addresses"][0]["ip_address"].as_str() {
                    Some(ip) => ip.parse().unwrap(),
                    None => agent_ip(agent).parse().unwrap(),
                };
            let rtype = if ip.is_ipv6() { "AAAA" } else { "A" };
            let want = set(&[&format!("{rtype} {ip}")]);
            assert_eq!(at(&list, &format!("{canon}.{fw}.mesos.")), want, "{id}");
            assert!(
                at(&list, &format!("{name}.{fw}.mesos.")).contains(&format!("{rtype} {ip}")),
                "{id}"
            );
            assert_eq!(
                at(&list, &format!("{canon}.{fw}.slave.mesos.")),
                set(&[&format!("A {}", agent_ip(agent))])
            );
            let ports = t["resources"]["ports"].as_str().unwrap();
            let srvs = at(&list, &format!("_{name}._tcp.{fw}.slave.mesos."));
            for port in state::parse_ports(ports) {
                assert!(
                    srvs.contains(&format!("SRV {port} {canon}.{fw}.slave.mesos.")),
                    "{id} {port}"
                );
            }
            if let Some(ports) = t["discovery"]["ports"]["ports"].as_array() {
                let http = at(&list, &format!("_http._{name}._tcp.{fw}.mesos."));
                assert!(
                    http.contains(&format!("SRV {} {canon}.{fw}.mesos.", ports[0]["number"])),
                    "{id}"
                );
                assert!(at(&list, &format!("_{name}._tcp.{fw}.mesos.")).len() >= 2, "{id}");
            }
        }
    }
    assert_eq!(running + other, 500);
    assert!(running > 350 && other > 25, "{running} {other}");
}

/// The reverse mappings as `address name`, in generation order.
fn reverse(list: &RecordList) -> Vec<String> {
    list.reverse().map(|(ip, name)| format!("{ip} {name}")).collect()
}

#[test]
fn reverse_lookups_off_mark_nothing_and_on_change_no_forward_record() {
    for (doc, sources) in [(TUTORIAL, DEFAULT_SOURCES), (FAKE, ALL_SOURCES)] {
        let off = gen_with(
            doc,
            Opts {
                sources,
                ..Opts::default()
            },
        );
        let on = gen_with(
            doc,
            Opts {
                sources,
                ptr_on: true,
                ..Opts::default()
            },
        );
        assert_eq!(reverse(&off), Vec::<String>::new());
        assert!(!reverse(&on).is_empty());
        assert_eq!(on.iter().collect::<Vec<_>>(), off.iter().collect::<Vec<_>>());
    }
}

#[test]
fn tutorial_host_network_addresses_point_back_to_the_agent_only() {
    // Both tasks run on their agent's address: a PTR naming one task would flip as tasks come and go.
    let list = gen_with(
        TUTORIAL,
        Opts {
            ptr_on: true,
            ..Opts::default()
        },
    );
    assert_eq!(
        reverse(&list),
        [
            "10.14.245.208 slave.mesos.",
            "10.114.227.92 slave.mesos.",
            "10.29.107.105 slave.mesos.",
        ]
    );
}

#[test]
fn container_addresses_point_back_to_the_task_and_its_unique_name() {
    let list = gen_with(
        FAKE,
        Opts {
            ptr_on: true,
            ..Opts::default()
        },
    );
    let toy = "ipv6-framework.mesos.";
    let toy_canon = format!(
        "toy-store-{}-3.{toy}",
        hash("toy-store.b8db9f73-562f-11e4-a088-c20493233aa5")
    );
    let want: Vec<String> = [
        "1.2.3.10 slave.mesos.".to_owned(),
        "1.2.3.11 slave.mesos.".into(),
        "1.2.3.12 slave.mesos.".into(),
        "2001:db8::1 slave.mesos.".into(),
        // Address by address, the short name then the canonical one (the original's order).
        format!("12.0.1.3 toy-store.{toy}"),
        format!("12.0.1.3 {toy_canon}"),
        format!("12.0.1.2 toy-store.{toy}"),
        format!("12.0.1.2 {toy_canon}"),
        format!("fd01:b::1:8000:2 toy-store.{toy}"),
        format!("fd01:b::1:8000:2 {toy_canon}"),
        "10.3.0.3 nginx.marathon.mesos.".into(),
        format!(
            "10.3.0.3 nginx-{}-0.marathon.mesos.",
            hash("nginx.1bc32344-3dda-11e4-a088-c20493233aa5")
        ),
    ]
    .into();
    assert_eq!(reverse(&list), want);
}
