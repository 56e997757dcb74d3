//! End-to-end tests of edited snapshots: a stream-mode server (`"stateSource": "stream"`, a 60 s
//! refresh, so only events change records) against the fake streaming master (`common::stream_master`),
//! whose task events edit the published snapshot task by task. Checked with real clients against a
//! poll-mode server on the same final state: `/v1/enumerate` (served from the edited snapshot's task
//! table), `dig`/`kdig` IXFR (the journal of an edit, built from the touched names) and AXFR, records
//! two instances of a task share (counted: they go with the last instance), and Knot DNS (`knotd`) as
//! a secondary that follows the edits by NOTIFY and IXFR.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::knot::{Knot, KEY_NAME, SECRET};
use common::stream_master::*;
use common::*;
use serde_json::{json, Value};

fn name(task: &str) -> String {
    format!("{task}.marathon.mesos")
}

/// `extra` merged into `base`.
fn merged(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    base
}

/// A stream-mode server with a 60 s refresh and `extra` keys, loaded and subscribed.
fn stream_server(master: &StreamMaster, extra: Value) -> Server {
    let config = merged(json!({"stateSource": "stream", "refreshSeconds": 60}), extra);
    let server = Server::start_with(&[master.addr()], config);
    server.wait_loaded();
    wait_until("a subscription", CHANGE_DEADLINE, || master.subscriptions() >= 1);
    server
}

/// A poll-mode server with a 60 s refresh and `extra` keys, loaded from the master's state now.
fn poll_server(master: &StreamMaster, extra: Value) -> Server {
    let server = Server::start_with(&[master.addr()], merged(json!({"refreshSeconds": 60}), extra));
    server.wait_loaded();
    server
}

/// Starts `task` by events and waits until the server answers its address.
fn start_and_wait(master: &StreamMaster, server: &Server, task: &str) {
    master.start_task(&format!("{task}.1"), task);
    wait_until(&format!("{task} to resolve"), Duration::from_secs(2), || {
        server.a_records(&name(task)) == vec![AGENT_IP]
    });
}

/// Kills `task` by an event and waits until the server no longer answers it.
fn kill_and_wait(master: &StreamMaster, server: &Server, task: &str) {
    master.emit(task_updated(&format!("{task}.1"), "TASK_KILLED"));
    wait_until(&format!("{task} to disappear"), Duration::from_secs(2), || {
        server.a_records(&name(task)).is_empty()
    });
}

// ---------------------------------------------------------------------------------------------------
// /v1/enumerate

fn http_config(port: u16) -> Value {
    json!({"httpon": true, "httpListener": "127.0.0.1", "httpport": port, "EnumerationOn": true})
}

/// `GET /v1/enumerate` with ureq; the document.
fn enumerate(port: u16) -> Value {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build(),
    );
    let url = format!("http://127.0.0.1:{port}/v1/enumerate");
    let mut resp = agent.get(&url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(resp.status().as_u16(), 200, "{url}");
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

/// The tasks of an enumerate document by (framework name, task name): the task object.
fn tasks_by_name(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut tasks = BTreeMap::new();
    for f in doc["frameworks"].as_array().into_iter().flatten() {
        for t in f["tasks"].as_array().into_iter().flatten() {
            let fw = f["name"].as_str().unwrap_or("").to_owned();
            let task = t["name"].as_str().unwrap_or("").to_owned();
            assert!(
                tasks.insert((fw, task), t.clone()).is_none(),
                "one task of each name: {doc}"
            );
        }
    }
    tasks
}

/// A task's records as a set of (name, host, rtype).
fn record_set(task: &Value) -> BTreeSet<(String, String, String)> {
    task["records"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("").to_owned();
            (s("name"), s("host"), s("rtype"))
        })
        .collect()
}

/// The key sets of the framework, task and record objects of a document (each must be uniform).
fn shape(doc: &Value) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let frameworks = doc["frameworks"].as_array().cloned().unwrap_or_default();
    assert!(!frameworks.is_empty(), "frameworks: {doc}");
    let one = |set: Vec<BTreeSet<String>>| -> BTreeSet<String> {
        let first = set.first().cloned().unwrap_or_default();
        assert!(set.iter().all(|s| *s == first), "uniform objects: {doc}");
        first
    };
    let tasks: Vec<Value> = frameworks
        .iter()
        .flat_map(|f| f["tasks"].as_array().cloned().unwrap_or_default())
        .collect();
    let records: Vec<Value> = tasks
        .iter()
        .flat_map(|t| t["records"].as_array().cloned().unwrap_or_default())
        .collect();
    (
        keys(doc),
        one(frameworks.iter().map(keys).collect()),
        one(tasks.iter().map(keys).collect()),
        one(records.iter().map(keys).collect()),
    )
}

#[test]
fn enumerate_of_an_edited_snapshot_follows_task_events_in_the_poll_mode_shape() {
    let master = StreamMaster::start(&[("web.1", "web")]);
    let stream_http = free_port();
    let server = stream_server(&master, http_config(stream_http));
    for task in ["app", "db", "cache"] {
        start_and_wait(&master, &server, task);
    }
    kill_and_wait(&master, &server, "db");
    let edited = enumerate(stream_http);

    let poll_http = free_port();
    let _poll = poll_server(&master, http_config(poll_http));
    let polled = enumerate(poll_http);

    let got = tasks_by_name(&edited);
    let names: Vec<&str> = got.keys().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        names,
        ["app", "cache", "web"],
        "started tasks listed, the killed one not: {edited}"
    );
    for ((fw, task), t) in &got {
        assert_eq!(fw, "marathon", "{edited}");
        assert_eq!(t["id"], json!(format!("{task}.1")), "{edited}");
        let records = record_set(t);
        let a: BTreeSet<&str> = records.iter().filter(|r| r.2 == "A").map(|r| r.0.as_str()).collect();
        let canonical = a
            .iter()
            .find(|n| n.starts_with(&format!("{task}-")) && n.ends_with(".marathon.mesos."))
            .unwrap_or_else(|| panic!("{task}: a canonical name: {edited}"));
        let canonical = canonical.trim_end_matches(".marathon.mesos.");
        let want_a: BTreeSet<String> = [
            format!("{task}.marathon.mesos."),
            format!("{canonical}.marathon.mesos."),
            format!("{task}.marathon.slave.mesos."),
            format!("{canonical}.marathon.slave.mesos."),
        ]
        .into();
        assert_eq!(a, want_a.iter().map(String::as_str).collect(), "{task}: {edited}");
        assert!(
            records
                .iter()
                .filter(|r| r.2 == "A")
                .all(|r| r.1 == AGENT_IP.to_string()),
            "{task}: A records name the agent: {edited}"
        );
        let target = format!("{canonical}.marathon.slave.mesos.:31000");
        for srv in [
            format!("_{task}._tcp.marathon.mesos."),
            format!("_{task}._tcp.marathon.slave.mesos."),
        ] {
            assert!(
                records.contains(&(srv.clone(), target.clone(), "SRV".into())),
                "{task}: {srv} -> {target}: {edited}"
            );
        }
    }
    // The same document as a poll-mode server's (full build) on the same state: shape and content.
    assert_eq!(
        shape(&edited),
        shape(&polled),
        "key sets\nedited: {edited}\npolled: {polled}"
    );
    let want = tasks_by_name(&polled);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "polled: {polled}"
    );
    for (key, t) in &got {
        assert_eq!(t["id"], want[key]["id"], "{key:?}");
        assert_eq!(
            record_set(t),
            record_set(&want[key]),
            "{key:?}\nedited: {edited}\npolled: {polled}"
        );
    }

    // With every task killed the framework is still listed, with no tasks, as a full build lists it.
    for task in ["app", "cache", "web"] {
        kill_and_wait(&master, &server, task);
    }
    let want = json!({"frameworks": [{"name": "marathon", "tasks": []}]});
    assert_eq!(enumerate(stream_http), want);
    let poll_http = free_port();
    let _poll = poll_server(&master, http_config(poll_http));
    assert_eq!(enumerate(poll_http), want);
}

// ---------------------------------------------------------------------------------------------------
// Zone transfers

/// `IXFR=from` by `tool`; its deletions and additions, checked to be incremental up to `to`.
fn ixfr(port: u16, tool: &str, from: u32, to: u32) -> (BTreeSet<Rec>, BTreeSet<Rec>) {
    let text = run(tool, port, &["mesos", &format!("IXFR={from}")]);
    ixfr_changes(&text, to).unwrap_or_else(|e| panic!("{tool} IXFR={from}: {e}"))
}

/// Whether an owner name is one of `task`'s: `task.…`, `task-….…` (canonical) or `_task._proto.…`.
fn is_tasks_name(owner: &str, task: &str) -> bool {
    let first = owner.split('.').next().unwrap_or("");
    first == task || first.starts_with(&format!("{task}-")) || first == format!("_{task}")
}

/// The (owner, type) pairs `task` must have: A for the task and canonical names with and without
/// `slave`, SRV tcp and udp with and without `slave`.
fn task_owners(task: &str, canonical: &str) -> BTreeSet<(String, String)> {
    let mut want = BTreeSet::new();
    for n in [task, canonical] {
        for zone in ["marathon.mesos.", "marathon.slave.mesos."] {
            want.insert((format!("{n}.{zone}"), "A".to_owned()));
        }
    }
    for proto in ["_tcp", "_udp"] {
        for zone in ["marathon.mesos.", "marathon.slave.mesos."] {
            want.insert((format!("_{task}.{proto}.{zone}"), "SRV".to_owned()));
        }
    }
    want
}

/// Checks that `changed` is exactly `task`'s records: its names, the agent's address, SRV to the
/// canonical name under `slave` on port 31000.
fn assert_exactly_the_tasks_records(changed: &BTreeSet<Rec>, task: &str, what: &str) {
    let canonical = changed
        .iter()
        .find(|r| r.1 == "A" && r.0.starts_with(&format!("{task}-")))
        .and_then(|r| r.0.split('.').next())
        .unwrap_or_else(|| panic!("{what}: {task}'s canonical name in {changed:#?}"));
    let owners: BTreeSet<(String, String)> = changed.iter().map(|r| (r.0.clone(), r.1.clone())).collect();
    assert_eq!(owners, task_owners(task, canonical), "{what}: {changed:#?}");
    for r in changed {
        assert!(is_tasks_name(&r.0, task), "{what}: {r:?}");
        match r.1.as_str() {
            "A" => assert_eq!(r.2, AGENT_IP.to_string(), "{what}: {r:?}"),
            _ => assert!(
                r.2.ends_with(&format!(" 31000 {canonical}.marathon.slave.mesos.")),
                "{what}: {r:?}"
            ),
        }
    }
}

fn transfer_allowed() -> Value {
    json!({"transferAllowFrom": ["127.0.0.0/8"]})
}

#[test]
fn ixfr_after_a_task_event_carries_that_tasks_records_only_and_axfr_equals_a_full_build() {
    let master = StreamMaster::start(&[("web.1", "web"), ("db.1", "db")]);
    let server = stream_server(&master, transfer_allowed());
    let before_zone = axfr_set(server.port, "dig");
    let s0 = current_serial(server.port);

    start_and_wait(&master, &server, "app");
    let s1 = current_serial(server.port);
    assert_ne!(s1, s0, "the serial moves with a record change");
    let after_start = axfr_set(server.port, "dig");
    let mut added_at_start = BTreeSet::new();
    for tool in ["dig", "kdig"] {
        let (deleted, added) = ixfr(server.port, tool, s0, s1);
        assert!(deleted.is_empty(), "{tool}: a start deletes nothing: {deleted:#?}");
        assert_exactly_the_tasks_records(&added, "app", &format!("{tool} IXFR={s0} after the start"));
        // And that is the whole difference of the zone.
        let diff: BTreeSet<Rec> = after_start.difference(&before_zone).cloned().collect();
        assert_eq!(added, diff, "{tool}: the IXFR adds what the AXFRs differ by");
        assert!(before_zone.is_subset(&after_start));
        added_at_start = added;
    }

    kill_and_wait(&master, &server, "app");
    let s2 = current_serial(server.port);
    assert_ne!(s2, s1);
    for tool in ["dig", "kdig"] {
        let (deleted, added) = ixfr(server.port, tool, s1, s2);
        assert!(added.is_empty(), "{tool}: a kill adds nothing: {added:#?}");
        assert_eq!(deleted, added_at_start, "{tool}: the kill deletes what the start added");
    }
    // db (in the SUBSCRIBED state, not added by an edit) can be taken out by an edit too.
    kill_and_wait(&master, &server, "db");
    let s3 = current_serial(server.port);
    let (deleted, added) = ixfr(server.port, "kdig", s2, s3);
    assert!(added.is_empty(), "{added:#?}");
    assert_exactly_the_tasks_records(&deleted, "db", &format!("kdig IXFR={s2} after killing db"));
    // An update that changes no record (web RUNNING again) moves nothing: the next IXFR holds the
    // next start only.
    master.emit(task_updated("web.1", "TASK_RUNNING"));
    start_and_wait(&master, &server, "cache");
    let s4 = current_serial(server.port);
    let (deleted, added) = ixfr(server.port, "dig", s3, s4);
    assert!(deleted.is_empty(), "{deleted:#?}");
    assert_exactly_the_tasks_records(
        &added,
        "cache",
        &format!("dig IXFR={s3} after web RUNNING again and the start of cache"),
    );

    // The edited zone equals a full build of the master's final state, record for record.
    let poll = poll_server(&master, transfer_allowed());
    for tool in ["dig", "kdig"] {
        let edited = axfr_set(server.port, tool);
        let full = axfr_set(poll.port, tool);
        let only_edited: Vec<&Rec> = edited.difference(&full).collect();
        let only_full: Vec<&Rec> = full.difference(&edited).collect();
        assert!(
            only_edited.is_empty() && only_full.is_empty(),
            "{tool}: only in the edited zone: {only_edited:#?}\nonly in the full build: {only_full:#?}"
        );
        assert!(edited.iter().any(|r| r.0 == "cache.marathon.mesos."), "{edited:#?}");
        assert!(!edited
            .iter()
            .any(|r| is_tasks_name(&r.0, "app") || is_tasks_name(&r.0, "db")));
    }
}

/// How many SRV records the server answers for `_task._tcp.marathon.mesos`.
fn srv_count(server: &Server, task: &str) -> usize {
    server
        .ask(
            &format!("_{task}._tcp.marathon.mesos"),
            common::dns::SRV,
            Transport::Udp,
        )
        .answers
        .len()
}

/// The canonical names (first label) of the A records among `rrs`.
fn canonical_names(rrs: &BTreeSet<Rec>, task: &str) -> BTreeSet<String> {
    rrs.iter()
        .filter(|r| r.1 == "A" && r.0.starts_with(&format!("{task}-")))
        .filter_map(|r| r.0.split('.').next().map(str::to_owned))
        .collect()
}

#[test]
fn records_two_instances_share_stay_until_the_last_instance_goes() {
    // Two instances of `app` on the one agent share `app.marathon.mesos A` (and `app.marathon.slave`);
    // each has its canonical name and its SRV records.
    let master = StreamMaster::start(&[("web.1", "web")]);
    let stream_http = free_port();
    let server = stream_server(&master, merged(transfer_allowed(), http_config(stream_http)));
    start_and_wait(&master, &server, "app");
    let s1 = current_serial(server.port);

    master.start_task("app.2", "app");
    wait_until("a second SRV record", Duration::from_secs(2), || {
        srv_count(&server, "app") == 2
    });
    let s2 = current_serial(server.port);
    let (deleted, added) = ixfr(server.port, "dig", s1, s2);
    assert!(deleted.is_empty(), "{deleted:#?}");
    let second = canonical_names(&added, "app");
    assert_eq!(second.len(), 1, "one new canonical name: {added:#?}");
    let second = second.first().cloned().unwrap_or_default();
    // The second instance's own records only: the shared ones were there already.
    let want: BTreeSet<(String, String)> = task_owners("app", &second)
        .into_iter()
        .filter(|(owner, _)| !owner.starts_with("app."))
        .collect();
    let owners: BTreeSet<(String, String)> = added.iter().map(|r| (r.0.clone(), r.1.clone())).collect();
    assert_eq!(owners, want, "{added:#?}");

    master.emit(task_updated("app.1", "TASK_KILLED"));
    wait_until("one SRV record again", Duration::from_secs(2), || {
        srv_count(&server, "app") == 1
    });
    let s3 = current_serial(server.port);
    let (deleted, added) = ixfr(server.port, "kdig", s2, s3);
    assert!(added.is_empty(), "{added:#?}");
    let first = canonical_names(&deleted, "app");
    assert_eq!(first.len(), 1, "{deleted:#?}");
    assert!(!first.contains(&second), "the killed instance's names go: {deleted:#?}");
    assert!(
        deleted.iter().all(|r| !r.0.starts_with("app.")) && deleted.len() == 6,
        "the shared records stay: {deleted:#?}"
    );
    assert_eq!(server.a_records(&name("app")), vec![AGENT_IP]);

    // The survivor lists the shared records, as a full build of the same state does.
    let edited = enumerate(stream_http);
    let poll_http = free_port();
    let poll = poll_server(&master, merged(transfer_allowed(), http_config(poll_http)));
    let polled = enumerate(poll_http);
    let key = ("marathon".to_owned(), "app".to_owned());
    let (got, want) = (tasks_by_name(&edited), tasks_by_name(&polled));
    assert_eq!(got[&key]["id"], json!("app.2"), "{edited}");
    assert_eq!(
        record_set(&got[&key]),
        record_set(&want[&key]),
        "edited: {edited}\npolled: {polled}"
    );
    assert!(record_set(&got[&key]).iter().any(|r| r.0 == "app.marathon.mesos."));
    assert_eq!(axfr_set(server.port, "dig"), axfr_set(poll.port, "dig"));

    // The last instance goes: the shared records with it.
    master.emit(task_updated("app.2", "TASK_KILLED"));
    wait_until("app to disappear", Duration::from_secs(2), || {
        server.a_records(&name("app")).is_empty()
    });
    let s4 = current_serial(server.port);
    let (deleted, added) = ixfr(server.port, "dig", s3, s4);
    assert!(added.is_empty(), "{added:#?}");
    assert_exactly_the_tasks_records(&deleted, "app", "killing the last instance");
}

// ---------------------------------------------------------------------------------------------------
// Knot DNS as a secondary

/// Waits until Knot answers `want` for `name`, at most 3 s after `since`; returns how long it took.
fn knot_follows(knot: &Knot, server: &Server, name: &str, want: &[Ipv4Addr], since: Instant) -> Duration {
    let deadline = Duration::from_secs(3);
    while since.elapsed() < deadline {
        if knot.a_records(name) == want {
            return since.elapsed();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!(
        "Knot did not answer {want:?} for {name} within {deadline:?}; server log:\n{}",
        server.log_text()
    );
}

#[test]
fn knot_as_a_secondary_of_a_stream_mode_server_follows_task_events_by_ixfr() {
    let master = StreamMaster::start(&[("web.1", "web")]);
    let knot_port = free_port();
    let server = stream_server(
        &master,
        json!({
            "transferAllowFrom": ["127.0.0.0/8"],
            "tsigKeys": [{"name": KEY_NAME, "algorithm": "hmac-sha256", "secret": SECRET}],
            "notify": [format!("127.0.0.1:{knot_port}")],
        }),
    );
    let knot = Knot::start(server.port, knot_port);
    wait_until("Knot to load the zone and answer web", START_DEADLINE, || {
        knot.a_records(&name("web")) == [AGENT_IP]
    });
    assert!(knot.finished("AXFR") >= 1, "Knot bootstrapped by AXFR:\n{}", knot.log());
    let (axfrs, ixfrs) = (knot.finished("AXFR"), knot.finished("IXFR"));
    let key = format!("hmac-sha256:{KEY_NAME}:{SECRET}");
    let same_zones = |what: &str| {
        let theirs = axfr_set(knot.port(), "kdig");
        let ours = signed_axfr_set(server.port, "kdig", &["-y", &key]);
        assert_eq!(theirs, ours, "{what}: Knot's copy is the server's zone");
    };

    let at = master.start_task("app.1", "app");
    let took_start = knot_follows(&knot, &server, &name("app"), &[AGENT_IP], at);
    wait_until("Knot to log the IXFR", Duration::from_secs(1), || {
        knot.finished("IXFR") > ixfrs
    });
    let ixfrs = knot.finished("IXFR");
    same_zones("after the start");

    let at = master.emit(task_updated("app.1", "TASK_KILLED"));
    let took_kill = knot_follows(&knot, &server, &name("app"), &[], at);
    wait_until("Knot to log the IXFR", Duration::from_secs(1), || {
        knot.finished("IXFR") > ixfrs
    });
    let log = knot.log();
    assert!(log.contains("notify, incoming"), "NOTIFY reached Knot:\n{log}");
    assert_eq!(knot.finished("AXFR"), axfrs, "no full transfer for the edits:\n{log}");
    assert_eq!(knot.a_records(&name("web")), [AGENT_IP], "the rest of the zone stays");
    assert_eq!(current_serial(knot.port()), current_serial(server.port));
    same_zones("after the kill");
    println!(
        "event -> answered by Knot: start {:.0} ms, kill {:.0} ms",
        took_start.as_secs_f64() * 1e3,
        took_kill.as_secs_f64() * 1e3
    );
}
