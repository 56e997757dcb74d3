//! Unit tests of [`super::Model`]: events applied in turn, with the indexes checked after each step.

use super::*;
use crate::mesos::operator::event::decode;
use crate::mesos::state::{self, Status};
use crate::snapshot::RData;
use serde_json::json;

fn task(id: &str, fw: &str, agent: &str, st: &str) -> Task<'static> {
    Task {
        id: Cow::Owned(id.into()),
        name: Cow::Owned(id.split('.').next().unwrap_or(id).into()),
        framework_id: Cow::Owned(fw.into()),
        slave_id: Cow::Owned(agent.into()),
        state: Cow::Owned(st.into()),
        ..Task::default()
    }
}

fn update(fw: &str, id: &str, st: &str) -> Event {
    Event::TaskUpdated(TaskUpdate {
        framework_id: fw.into(),
        task_id: id.into(),
        state: st.into(),
        status: Status {
            state: Cow::Owned(st.into()),
            ..Status::default()
        },
    })
}

fn ids(m: &Model) -> Vec<String> {
    let mut v: Vec<String> = m
        .full_state()
        .frameworks
        .iter()
        .flat_map(|f| f.tasks.iter().map(|t| format!("{}/{}:{}", f.id, t.id, t.state)))
        .collect();
    v.sort();
    v
}

/// The indexes agree with the vectors (checked after every step of the tests).
fn check(m: &Model) {
    assert_eq!(m.frameworks.len(), m.state.frameworks.len());
    assert_eq!(m.tasks.len(), m.state.frameworks.len());
    assert_eq!(m.packed.len(), m.state.frameworks.len());
    for (id, &i) in &m.frameworks {
        assert_eq!(&*m.state.frameworks[i].id, id);
        assert!(m.state.frameworks[i].tasks.is_empty(), "tasks are kept packed");
        assert_eq!(m.tasks[i].len(), m.packed[i].len());
        for (j, t) in m.packed[i].iter().enumerate() {
            assert_eq!(m.tasks[i].get(t.id(), &m.packed[i]), Some(j));
        }
    }
    assert_eq!(m.agents.len(), m.state.slaves.len());
    for (id, &i) in &m.agents {
        assert_eq!(&*m.state.slaves[i].id, id);
    }
}

/// The change of the tasks `keys` (framework id/task id).
fn tasks(keys: &[&str]) -> Changed {
    let keys = keys.iter().map(|k| k.split_once('/').unwrap());
    Changed::Tasks(keys.map(|(f, t)| (f.to_owned(), t.to_owned())).collect())
}

fn packed(tasks: &[Task<'_>]) -> PackedTasks {
    let mut out = PackedTasks::default();
    for t in tasks {
        out.push(t);
    }
    out
}

fn subscribed() -> Event {
    Event::Subscribed {
        frameworks: vec![Framework {
            id: "f1".into(),
            name: "marathon".into(),
            ..Framework::default()
        }],
        agents: vec![Slave {
            id: "a1".into(),
            pid: "slave(1)@10.0.0.5:5051".into(),
            ..Slave::default()
        }],
        tasks: packed(&[
            task("web.1", "f1", "a1", "TASK_RUNNING"),
            task("db.1", "f1", "a1", "TASK_STAGING"),
        ]),
        heartbeat: None,
        recovered: None,
    }
}

#[test]
fn task_lifecycle_adds_updates_and_drops() {
    let mut m = Model::default();
    assert_eq!(m.apply(subscribed()), Changed::Everything);
    check(&m);
    assert_eq!(ids(&m), ["f1/db.1:TASK_STAGING", "f1/web.1:TASK_RUNNING"]);
    assert_eq!(
        m.apply(Event::TaskAdded(task("api.1", "f1", "a1", "TASK_STAGING"))),
        Changed::Nothing,
        "a staging task has no records"
    );
    assert_eq!(m.apply(update("f1", "api.1", "TASK_RUNNING")), tasks(&["f1/api.1"]));
    check(&m);
    assert_eq!(
        ids(&m),
        ["f1/api.1:TASK_RUNNING", "f1/db.1:TASK_STAGING", "f1/web.1:TASK_RUNNING"]
    );
    let (f, api) = m.task("f1", "api.1").unwrap();
    assert_eq!((f, &*api.id, &*api.state), (0, "api.1", "TASK_RUNNING"));
    assert_eq!(
        m.apply(Event::TaskAdded(task("new.1", "f1", "a1", "TASK_RUNNING"))),
        tasks(&["f1/new.1"])
    );
    assert_eq!(
        m.task("f1", "new.1").map(|(f, t)| (f, t.id.into_owned())),
        Some((0, "new.1".to_owned()))
    );
    assert_eq!(
        m.apply(update("f1", "web.1", "TASK_KILLED")),
        tasks(&["f1/web.1"]),
        "killed tasks leave"
    );
    assert!(m.task("f1", "web.1").is_none(), "a removed task is gone");
    assert_eq!(
        m.apply(Event::TaskAdded(task("new.1", "f1", "a1", "TASK_FINISHED"))),
        tasks(&["f1/new.1"]),
        "a task re-added as finished leaves"
    );
    assert!(m.task("f1", "new.1").is_none());
    check(&m);
    assert_eq!(ids(&m), ["f1/api.1:TASK_RUNNING", "f1/db.1:TASK_STAGING"]);
    assert_eq!(
        m.apply(update("f1", "web.1", "TASK_RUNNING")),
        Changed::Nothing,
        "unknown task: ignored"
    );
    assert_eq!(m.apply(update("nope", "api.1", "TASK_FINISHED")), Changed::Nothing);
    assert!(m.task("nope", "api.1").is_none());
    assert_eq!(
        m.apply(update("f1", "db.1", "TASK_FINISHED")),
        Changed::Nothing,
        "a staging task that ends had no records"
    );
    check(&m);
    assert_eq!(ids(&m), ["f1/api.1:TASK_RUNNING"]);
    assert_eq!(m.apply(Event::Heartbeat), Changed::Nothing);
    assert_eq!(m.apply(Event::Other("X".into())), Changed::Nothing);
}

#[test]
fn changes_merge_task_keys_and_everything_wins() {
    let mut c = Changed::Nothing;
    c.merge(Changed::Nothing);
    assert_eq!(c, Changed::Nothing);
    c.merge(tasks(&["f1/a"]));
    c.merge(Changed::Nothing);
    c.merge(tasks(&["f1/b", "f2/a"]));
    assert_eq!(c, tasks(&["f1/a", "f1/b", "f2/a"]));
    c.merge(Changed::Everything);
    assert_eq!(c, Changed::Everything);
    c.merge(tasks(&["f1/c"]));
    assert_eq!(c, Changed::Everything, "nothing undoes everything");

    // Too many tasks to edit one by one: everything.
    let mut c = Changed::Tasks(vec![(String::new(), String::new()); Changed::MAX_TASKS]);
    c.merge(tasks(&["f1/a"]));
    assert_eq!(c, Changed::Everything);
}

#[test]
fn only_the_latest_running_status_is_kept_as_a_poll_keeps_it() {
    let status = |st: &str, ts: f64| {
        let mut e = update("f1", "web.1", st);
        if let Event::TaskUpdated(u) = &mut e {
            u.status.timestamp = ts;
        }
        e
    };
    let mut m = Model::default();
    m.apply(subscribed());
    let web = |m: &Model| -> Vec<(String, f64)> {
        let (_, t) = m.task("f1", "web.1").unwrap();
        t.statuses.iter().map(|s| (s.state.to_string(), s.timestamp)).collect()
    };
    for i in 0..20 {
        let st = if i % 2 == 0 { "TASK_RUNNING" } else { "TASK_UNREACHABLE" };
        m.apply(status(st, 100.0 + f64::from(i)));
        assert!(web(&m).len() <= 1, "flapping does not grow the task: {:?}", web(&m));
    }
    assert_eq!(web(&m), [("TASK_RUNNING".to_owned(), 118.0)]);
    // A running status that arrives late, older than the one kept, does not replace it.
    m.apply(status("TASK_RUNNING", 50.0));
    assert_eq!(web(&m), [("TASK_RUNNING".to_owned(), 118.0)]);
    m.apply(status("TASK_RUNNING", 200.0));
    assert_eq!(web(&m), [("TASK_RUNNING".to_owned(), 200.0)]);
    // A task that never ran keeps no status.
    let mut staging = task("new.1", "f1", "a1", "TASK_STAGING");
    staging.statuses = vec![Status {
        state: Cow::Borrowed("TASK_STAGING"),
        ..Status::default()
    }];
    m.apply(Event::TaskAdded(staging));
    let (_, t) = m.task("f1", "new.1").unwrap();
    assert!(t.statuses.is_empty());
}

#[test]
fn agents_and_frameworks_come_and_go() {
    let mut m = Model::default();
    m.apply(subscribed());
    let added = m.apply(Event::AgentAdded(Slave {
        id: "a2".into(),
        ..Slave::default()
    }));
    assert_eq!(added, Changed::Everything);
    m.apply(Event::AgentAdded(Slave {
        id: "a1".into(),
        pid: "slave(1)@10.0.0.7:5051".into(),
        ..Slave::default()
    }));
    check(&m);
    assert_eq!(m.full_state().slaves.len(), 2);
    assert_eq!(
        m.apply(Event::AgentRemoved { agent_id: "a1".into() }),
        Changed::Everything
    );
    assert_eq!(m.apply(Event::AgentRemoved { agent_id: "a1".into() }), Changed::Nothing);
    check(&m);
    assert_eq!(m.full_state().slaves.iter().map(|s| &*s.id).collect::<Vec<_>>(), ["a2"]);

    assert_eq!(
        m.apply(Event::TaskAdded(task("x.1", "f2", "a2", "TASK_RUNNING"))),
        Changed::Everything,
        "a task of an unknown framework adds the framework"
    );
    check(&m);
    assert_eq!(
        m.full_state().frameworks[1].name,
        "",
        "a task of an unknown framework waits for its name"
    );
    let added = m.apply(Event::FrameworkAdded(Framework {
        id: "f2".into(),
        name: "chronos".into(),
        ..Framework::default()
    }));
    assert_eq!(added, Changed::Everything);
    assert_eq!(m.full_state().frameworks[1].name, "chronos");
    assert_eq!(m.full_state().frameworks[1].tasks.len(), 1, "renaming keeps the tasks");
    assert_eq!(
        m.apply(Event::FrameworkRemoved {
            framework_id: "f1".into()
        }),
        Changed::Everything
    );
    assert_eq!(
        m.apply(Event::FrameworkRemoved {
            framework_id: "f1".into()
        }),
        Changed::Nothing
    );
    check(&m);
    assert_eq!(ids(&m), ["f2/x.1:TASK_RUNNING"]);
    assert_eq!(m.task("f2", "x.1").map(|(f, _)| f), Some(0), "f2 moved down a place");
    assert_eq!(
        m.apply(Event::TaskAdded(task("y.1", "f2", "a2", "TASK_RUNNING"))),
        tasks(&["f2/y.1"])
    );
    check(&m);
    assert_eq!(m.task_count(), 2);
}

#[test]
fn resubscribing_replaces_everything_but_keeps_polled_pids_and_leader() {
    let body = include_bytes!("../../../../tests/fixtures/tutorial-0.21.json");
    let polled = state::parse(body).unwrap();
    let mut m = Model::from_body(body).unwrap();
    check(&m);
    assert_eq!(m.full_state().leader, polled.leader);
    let running = polled.frameworks[0]
        .tasks
        .iter()
        .filter(|t| !is_terminal(&t.state))
        .count();
    assert_eq!(m.task_count(), running);
    let fw = polled.frameworks[0].id.to_string();
    let pid = polled.frameworks[0].pid.to_string();
    assert!(!pid.is_empty());
    let e = decode(
        json!({"type": "SUBSCRIBED", "subscribed": {"get_state": {
            "get_frameworks": {"frameworks": [{"framework_info": {"id": {"value": fw}, "name": "marathon"}}]}
        }}})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    m.apply(e);
    check(&m);
    assert_eq!(m.task_count(), 0);
    assert_eq!(m.full_state().slaves.len(), 0);
    assert_eq!(m.full_state().frameworks[0].pid, pid);
    assert_eq!(m.full_state().leader, polled.leader);
}

/// The ports the decoder gives in number form (an agent's port without a pid, the ranges of a
/// task's `ports` resource) reach the records as the state document's text forms do.
#[test]
fn v1_agent_ports_and_port_ranges_become_srv_records() {
    let e = decode(
        json!({"type": "SUBSCRIBED", "subscribed": {"get_state": {
            "get_frameworks": {"frameworks": [{"framework_info": {"id": {"value": "f1"}, "name": "marathon"}}]},
            "get_agents": {"agents": [{"agent_info": {"id": {"value": "a1"}, "hostname": "10.0.0.5", "port": 5051}}]},
            "get_tasks": {"tasks": [{
                "name": "web", "task_id": {"value": "web.1"}, "framework_id": {"value": "f1"},
                "agent_id": {"value": "a1"}, "state": "TASK_RUNNING",
                "resources": [{"name": "ports", "type": "RANGES", "ranges": {"range": [
                    {"begin": 31000, "end": 31001}, {"begin": 31009, "end": 31005}, {"begin": 31007, "end": 31007}
                ]}}]
            }]}
        }}})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let mut m = Model::default();
    m.set_leader("master@127.0.0.1:5050");
    assert_eq!(m.apply(e), Changed::Everything);
    let config = crate::config::Config {
        masters: vec![crate::addr::HostPort::parse("127.0.0.1:5050").unwrap()],
        ..crate::config::Config::default()
    };
    let list = generated(&config, &m);
    let srv_ports = |name: &str| -> Vec<u16> {
        let mut ports: Vec<u16> = list
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| match r.data {
                RData::Srv { port, .. } => Some(port),
                _ => None,
            })
            .collect();
        ports.sort_unstable();
        ports
    };
    assert_eq!(
        srv_ports("_slave._tcp.mesos."),
        [5051],
        "the agent's port without a pid"
    );
    assert_eq!(
        srv_ports("_web._tcp.marathon.mesos."),
        [31000, 31001, 31007],
        "the numeric ranges, a backwards one skipped"
    );
}

#[test]
fn a_task_updated_that_flips_health_changes_its_records_with_hide_unhealthy_tasks() {
    let status = |ts: u32, healthy: bool| {
        json!({"type": "TASK_UPDATED", "task_updated": {
            "framework_id": {"value": "f1"}, "state": "TASK_RUNNING",
            "status": {"task_id": {"value": "web.1"}, "state": "TASK_RUNNING", "timestamp": ts, "healthy": healthy}
        }})
    };
    let mut m = Model::default();
    m.set_leader("master@127.0.0.1:5050");
    assert_eq!(m.apply(subscribed()), Changed::Everything);
    let config = crate::config::Config {
        masters: vec![crate::addr::HostPort::parse("127.0.0.1:5050").unwrap()],
        hide_unhealthy_tasks: true,
        ..crate::config::Config::default()
    };
    let web_a = |m: &Model| {
        let list = generated(&config, m);
        list.iter().filter(|r| r.name == "web.marathon.mesos.").count()
    };
    assert_eq!(web_a(&m), 1, "no health check: published");
    for (ts, healthy, records) in [(1, false, 0), (2, true, 1), (3, false, 0)] {
        let e = decode(status(ts, healthy).to_string().as_bytes()).unwrap();
        assert_eq!(
            m.apply(e),
            tasks(&["f1/web.1"]),
            "a health change may change the records"
        );
        check(&m);
        assert_eq!(web_a(&m), records, "healthy: {healthy} at {ts}");
    }
}

#[test]
fn a_poll_that_differs_in_tasks_only_names_them_and_any_other_difference_is_everything() {
    let doc = |tasks: serde_json::Value, agent_host: &str| {
        let state = json!({
            "leader": "master@127.0.0.1:5050",
            "frameworks": [{"id": "f1", "name": "marathon", "tasks": tasks}],
            "slaves": [{"id": "a1", "hostname": agent_host}],
        });
        Model::from_body(state.to_string().as_bytes()).unwrap()
    };
    let t = |id: &str, st: &str| json!({"id": id, "name": "web", "framework_id": "f1", "slave_id": "a1", "state": st});
    let before = doc(json!([t("w.1", "TASK_RUNNING"), t("w.2", "TASK_RUNNING")]), "10.0.0.1");
    assert_eq!(
        before.changes_to(&before),
        Changed::Nothing,
        "the same document changes nothing"
    );
    let after = doc(
        json!([
            t("w.1", "TASK_KILLED"),
            t("w.3", "TASK_RUNNING"),
            t("w.2", "TASK_RUNNING")
        ]),
        "10.0.0.1",
    );
    assert_eq!(
        before.changes_to(&after),
        tasks(&["f1/w.3", "f1/w.1"]),
        "a task gone (killed: dropped) and a new one, whatever the order"
    );
    let moved = doc(json!([t("w.1", "TASK_RUNNING"), t("w.2", "TASK_RUNNING")]), "10.0.0.2");
    assert_eq!(before.changes_to(&moved), Changed::Everything, "an agent changed");
}

#[test]
fn a_poll_compares_tasks_by_their_agents_names_not_their_interned_indexes() {
    let doc = |tasks: serde_json::Value| {
        let state = json!({
            "leader": "master@127.0.0.1:5050",
            "frameworks": [{"id": "f1", "tasks": tasks}],
            "slaves": [{"id": "a1", "hostname": "h1"}, {"id": "a2", "hostname": "h2"}],
        });
        Model::from_body(state.to_string().as_bytes()).unwrap()
    };
    let t = |id: &str, agent: &str| json!({"id": id, "framework_id": "f1", "slave_id": agent, "state": "TASK_RUNNING"});
    let before = doc(json!([t("w.1", "a1"), t("w.2", "a2")]));
    // The same tasks listed the other way round: each agent gets the other's index, nothing changed.
    let reordered = doc(json!([t("w.2", "a2"), t("w.1", "a1")]));
    assert_eq!(before.changes_to(&reordered), Changed::Nothing);
    assert_eq!(reordered.changes_to(&before), Changed::Nothing);
    // In the same places with the same packed bytes (agent index 0, then 1), on other agents.
    let swapped = doc(json!([t("w.1", "a2"), t("w.2", "a1")]));
    assert_eq!(before.changes_to(&swapped), tasks(&["f1/w.1", "f1/w.2"]));
    // A task gone from its place while another takes it.
    let replaced = doc(json!([t("w.3", "a1"), t("w.2", "a2")]));
    assert_eq!(before.changes_to(&replaced), tasks(&["f1/w.3", "f1/w.1"]));
}

#[test]
fn a_polled_framework_whose_tasks_come_before_its_id_and_name_holds_them() {
    let body = br#"{"leader": "master@127.0.0.1:5050", "frameworks": [
        {"tasks": [{"id": "w.1", "state": "TASK_RUNNING"}, {"id": "x.1", "framework_id": "f2", "state": "TASK_RUNNING"}],
         "name": "late", "id": "f1", "pid": "scheduler(1)@10.0.0.7:1"},
        {"id": "f2", "name": "second", "tasks": [{"id": "y.1", "state": "TASK_RUNNING"}]}]}"#;
    let m = Model::from_body(body).unwrap();
    let described: Vec<(&str, &str, &str)> = m
        .header()
        .frameworks
        .iter()
        .map(|f| (&*f.id, &*f.name, &*f.pid))
        .collect();
    assert_eq!(
        described,
        [("f1", "late", "scheduler(1)@10.0.0.7:1"), ("f2", "second", "")],
        "in document order, described whole"
    );
    assert_eq!(
        ids(&m),
        ["f1/w.1:TASK_RUNNING", "f2/x.1:TASK_RUNNING", "f2/y.1:TASK_RUNNING"]
    );
    assert_eq!(
        m.task("f1", "w.1").map(|(f, t)| (f, t.framework_id.into_owned())),
        Some((0, "f1".to_owned()))
    );
    assert!(!m.holds_every_task(), "x.1 is listed under f1 but names f2");
}

#[test]
fn recovered_agents_come_from_subscribed_and_polls_and_leave_with_agent_events() {
    let recovered = |ids: &[&str]| -> Option<Vec<Slave<'static>>> {
        Some(
            ids.iter()
                .map(|id| Slave {
                    id: (*id).to_owned().into(),
                    ..Slave::default()
                })
                .collect(),
        )
    };
    let ids_of = |m: &Model| -> Option<Vec<String>> {
        m.full_state()
            .recovered_slaves
            .as_ref()
            .map(|r| r.iter().map(|s| s.id.to_string()).collect())
    };
    let mut m = Model::default();
    let Event::Subscribed {
        frameworks,
        agents,
        tasks,
        heartbeat,
        ..
    } = subscribed()
    else {
        unreachable!()
    };
    let with_recovered = Event::Subscribed {
        frameworks,
        agents,
        tasks,
        heartbeat,
        recovered: recovered(&["a2", "a3"]),
    };
    assert_eq!(m.apply(with_recovered), Changed::Everything);
    assert_eq!(ids_of(&m), Some(vec!["a2".to_owned(), "a3".to_owned()]));
    let a2 = Slave {
        id: "a2".into(),
        pid: "slave(1)@10.0.0.6:5051".into(),
        ..Slave::default()
    };
    assert_eq!(m.apply(Event::AgentAdded(a2)), Changed::Everything);
    assert_eq!(ids_of(&m), Some(vec!["a3".to_owned()]), "re-registered");
    assert_eq!(
        m.apply(Event::AgentRemoved { agent_id: "a3".into() }),
        Changed::Everything,
        "a recovered agent given up is a change although it had no tasks"
    );
    assert_eq!(ids_of(&m), Some(Vec::new()));
    // A poll whose recovered list differs is more than a task change.
    let body = br#"{"leader":"master@10.0.0.1:5050","elected_time":5.0,"recovered_slaves":[{"id":"a9"}]}"#;
    let polled = Model::from_body(body).unwrap();
    assert_eq!(ids_of(&polled), Some(vec!["a9".to_owned()]));
    assert_eq!(polled.header().elected_time, 5.0);
    assert_eq!(m.changes_to(&polled), Changed::Everything);
}

// Property tests: the model and the incremental snapshot against a full rebuild.
mod equivalence;
mod probe;

/// The records a full build makes of the model's state, naming the configured masters.
fn generated(config: &crate::config::Config, m: &Model) -> crate::snapshot::RecordList {
    let resolve = |_: &str| Vec::new();
    crate::records::from_state::generate_from_state(config, &m.full_state(), &config.masters, &[], &resolve).unwrap()
}
