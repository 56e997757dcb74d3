//! Unit tests of record generation: both fixtures, the original's expectation tables, odd documents.
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;
use crate::mesos::state::parse;
use crate::records::taskid::task_hash;
use crate::snapshot::RData;

const FAKE: &[u8] = include_bytes!("../../../../tests/fixtures/fake.json");
const TUTORIAL: &[u8] = include_bytes!("../../../../tests/fixtures/tutorial-0.21.json");

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
    masters: &'a [HostPort],
    self_addrs: &'a [IpAddr],
    ptr_on: bool,
    unroutable: &'a [Cidr],
    hide_unhealthy: bool,
    filter: &'a TaskFilter,
}

/// No task filter (a static, so that [`Opts`] can borrow it).
static NO_FILTER: TaskFilter = TaskFilter::NONE;

impl Default for Opts<'_> {
    fn default() -> Self {
        Opts {
            domain: "mesos",
            sources: DEFAULT_SOURCES,
            rfc952: false,
            masters: &[],
            self_addrs: &[],
            ptr_on: false,
            unroutable: &[],
            hide_unhealthy: false,
            filter: &NO_FILTER,
        }
    }
}

fn gen_with(doc: &[u8], o: Opts<'_>) -> RecordList {
    let state = parse(doc).unwrap();
    let names = lookup::names_to_resolve(&state, o.masters, Spec::new(o.rfc952));
    let hosts = HostAddrs::resolve(&names, &fake_resolve);
    let input = GenInput {
        domain: o.domain,
        ip_sources: o.sources,
        enforce_rfc952: o.rfc952,
        masters: o.masters,
        soa_mname: "ns1.mesos.",
        self_addrs: o.self_addrs,
        hosts: &hosts,
        ptr_on: o.ptr_on,
        unroutable: o.unroutable,
        hide_unhealthy: o.hide_unhealthy,
        filter: o.filter,
    };
    let whole = generate(&state, &input);
    // Every test also checks that reading the tasks one at a time gives the very same list.
    let header = crate::mesos::state::parse_header(doc).unwrap();
    let streamed = generate_streamed(&header, doc, &input).unwrap();
    assert_same(&whole, &streamed);
    // And that the fixed records plus each task's own list give them too.
    one_task::assert_split_matches(&state, &input, &whole);
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

/// The names an app's instances share are marked so in the list, and a build makes them nodes before
/// the tasks' own names (so that they fill chunks of their own, which edits replacing instances of
/// many apps copy instead of every chunk).
#[test]
fn an_apps_shared_names_are_marked_and_made_nodes_first() {
    let doc = br#"{"leader": "master@10.0.0.1:5050",
        "slaves": [{"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051"}, {"id": "a-S2", "pid": "slave(1)@10.1.0.2:5051"}],
        "frameworks": [{"id": "f-1", "name": "marathon", "tasks": [
            {"id": "t1", "name": "web", "slave_id": "a-S1", "state": "TASK_RUNNING", "resources": {"ports": "[31000-31000]"}},
            {"id": "t2", "name": "web", "slave_id": "a-S2", "state": "TASK_RUNNING", "resources": {"ports": "[31001-31001]"}}]}]}"#;
    let mut list = gen(doc);
    let shared = [
        "web.marathon.mesos.",
        "_web._tcp.marathon.mesos.",
        "web.marathon.slave.mesos.",
    ];
    let own: BTreeSet<String> = list
        .iter()
        .map(|r| r.name.to_string())
        .filter(|n| n.starts_with("web-"))
        .collect();
    assert_eq!(
        own.len(),
        4,
        "two tasks, each with a name under the framework and one under slave: {own:?}"
    );
    let mut is_shared = |name: &str| {
        let id = list.intern(name).unwrap();
        list.is_shared(id.index())
    };
    for name in shared {
        assert!(is_shared(name), "{name}");
    }
    for name in own
        .iter()
        .map(String::as_str)
        .chain(["leader.mesos.", "marathon.mesos."])
    {
        assert!(!is_shared(name), "{name}");
    }
    let records = crate::snapshot::Records::build(crate::snapshot::Zone::of_default_config(), &list, 1);
    let node = |name: &str| {
        let mut wire = Vec::new();
        crate::wire::text_to_wire(name, &mut wire).unwrap();
        records.find(&wire).unwrap()
    };
    let last_shared = shared.iter().map(|n| node(n)).max().unwrap();
    let first_own = own.iter().map(|n| node(n)).min().unwrap();
    assert!(last_shared < first_own, "{last_shared} {first_own}");
}

fn gen(doc: &[u8]) -> RecordList {
    gen_with(doc, Opts::default())
}

fn render_data(data: &RData) -> String {
    match data {
        RData::A(a) => format!("A {a}"),
        RData::Aaaa(a) => format!("AAAA {a}"),
        RData::Srv { target, port } => format!("SRV {port} {target}"),
        other => format!("{other:?}"),
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

mod filters;
mod fixtures;
mod health_hosts_networks;
mod masters;
mod odd;
mod one_task;
mod reverse;
mod zones;
