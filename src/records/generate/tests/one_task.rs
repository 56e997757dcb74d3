//! [`TaskGen`]: the fixed records plus every task's own list are [`generate`]'s records, with every
//! naming option; a task without records gives an empty list.

use std::collections::BTreeSet;

use super::*;
use crate::snapshot::Record;

/// The split form of generation gives what `whole` (from [`generate`]) holds: the same records and
/// reverse marks as sets, each task's list holding only that task (and at least the records `whole`
/// lists under it; a record two tasks share is listed under the first there).
pub(super) fn assert_split_matches(state: &State<'_>, input: &GenInput<'_>, whole: &RecordList) {
    let (fixed, mut tasks) = generate_fixed(state, input);
    assert!(fixed.tasks().len() == 0, "the fixed records are no task's");
    assert_eq!(
        fixed.frameworks().collect::<Vec<_>>(),
        whole.frameworks().collect::<Vec<_>>()
    );
    let mut records: BTreeSet<Record> = fixed.iter().collect();
    let mut reverse: BTreeSet<(IpAddr, String)> = fixed.reverse().collect();
    let whole_tasks: Vec<_> = whole.tasks().collect();
    let mut seen = 0;
    for (i, f) in state.frameworks.iter().enumerate() {
        for task in &f.tasks {
            let one = tasks.task(i, task);
            assert_eq!(
                one.frameworks().collect::<Vec<_>>(),
                whole.frameworks().collect::<Vec<_>>()
            );
            let refs: Vec<_> = one.tasks().map(|t| (t.framework_index, t.id.to_owned())).collect();
            assert!(refs.len() <= 1, "one task per list: {refs:?}");
            let own: BTreeSet<Record> = one.iter().collect();
            assert_eq!(
                own,
                one.task_records().map(|(_, r)| r).collect(),
                "every record is the task's"
            );
            // The lists with a task row are the whole list's tasks in turn (ids need not be unique).
            if let Some(t) = one.tasks().next() {
                let Some(w) = whole_tasks.get(seen) else {
                    panic!("task {} is not in the whole list", task.id);
                };
                assert_eq!((w.framework_index, w.name, w.id), (t.framework_index, t.name, t.id));
                let listed: BTreeSet<Record> = whole
                    .task_records()
                    .filter(|(at, _)| *at == seen)
                    .map(|(_, r)| r)
                    .collect();
                let missing: Vec<_> = listed.difference(&own).collect();
                assert!(missing.is_empty(), "task {}: missing {missing:?}", task.id);
                seen += 1;
            }
            records.extend(own);
            reverse.extend(one.reverse());
        }
    }
    assert_eq!(seen, whole_tasks.len());
    assert_eq!(records, whole.iter().collect::<BTreeSet<_>>());
    assert_eq!(reverse, whole.reverse().collect::<BTreeSet<_>>());
}

/// Both fixtures with every combination of the options that change task records.
#[test]
fn fixed_records_and_each_tasks_list_make_the_whole_list() {
    let unroutable = [Cidr::parse("10.0.2.0/24").unwrap()];
    for doc in [FAKE, TUTORIAL] {
        for ptr_on in [false, true] {
            for hide_unhealthy in [false, true] {
                for unroutable in [&[][..], &unroutable[..]] {
                    for sources in [DEFAULT_SOURCES, ALL_SOURCES] {
                        // gen_with checks the split form against the whole.
                        let list = gen_with(
                            doc,
                            Opts {
                                sources,
                                ptr_on,
                                hide_unhealthy,
                                unroutable,
                                ..Opts::default()
                            },
                        );
                        assert!(list.tasks().len() > 0);
                    }
                }
            }
        }
    }
}

#[test]
fn a_generated_state_splits_into_the_same_records_with_reverse_lookups() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gen-state.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args(["--agents", "20", "--tasks", "300"])
        .output()
        .expect("python3 runs gen-state.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for ptr_on in [false, true] {
        let list = gen_with(
            &out.stdout,
            Opts {
                sources: ALL_SOURCES,
                ptr_on,
                ..Opts::default()
            },
        );
        assert_eq!(list.reverse().next().is_some(), ptr_on);
    }
}

fn one_task_state() -> Vec<u8> {
    br#"{"leader": "master@10.0.0.1:5050",
        "slaves": [{"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051"}],
        "frameworks": [
            {"id": "f-0", "name": "idle", "tasks": []},
            {"id": "f-1", "name": "web", "tasks": [
                {"id": "t1", "name": "app", "slave_id": "a-S1", "state": "TASK_RUNNING",
                 "resources": {"ports": "[31000-31000]"}}]}]}"#
        .to_vec()
}

#[test]
fn a_running_tasks_list_holds_its_records_and_a_stopped_or_homeless_task_gives_none() {
    let doc = one_task_state();
    let mut state = parse(&doc).unwrap();
    let hosts = HostAddrs::resolve(&[], &fake_resolve);
    let input = GenInput {
        domain: "Mesos.",
        ip_sources: DEFAULT_SOURCES,
        enforce_rfc952: false,
        masters: &[],
        soa_mname: "ns1.mesos.",
        self_addrs: &[],
        hosts: &hosts,
        ptr_on: true,
        unroutable: &[],
        hide_unhealthy: false,
        filter: &TaskFilter::NONE,
    };
    let mut tasks = TaskGen::new(&state, &input);
    let list = tasks.task(1, &state.frameworks[1].tasks[0]);
    assert_eq!(at(&list, "app.web.mesos."), set(&["A 10.1.0.1"]));
    let srv = format!("SRV 31000 app-{}-s1.web.slave.mesos.", hash("t1"));
    assert_eq!(at(&list, "_app._tcp.web.mesos."), set(&[&srv]));
    let refs: Vec<_> = list.tasks().map(|t| (t.framework_index, t.framework, t.id)).collect();
    assert_eq!(refs, [(1, "web", "t1")]);
    let names = names(&list);
    assert!(
        names.iter().all(|n| n.starts_with("app") || n.starts_with("_app")),
        "{names:?}"
    );
    // The agent's address is not the task's own: no reverse mark.
    assert_eq!(list.reverse().count(), 0);
    // The same task again: a fresh list with the same records.
    assert_eq!(render(&tasks.task(1, &state.frameworks[1].tasks[0])), render(&list));
    assert_eq!(
        tasks.task(7, &state.frameworks[1].tasks[0]).len(),
        0,
        "unknown framework index"
    );

    for state_name in ["TASK_STAGING", "TASK_KILLED", "TASK_FINISHED"] {
        state.frameworks[1].tasks[0].state = state_name.into();
        assert_eq!(tasks.task(1, &state.frameworks[1].tasks[0]).len(), 0, "{state_name}");
    }
    state.frameworks[1].tasks[0].state = "TASK_RUNNING".into();
    state.frameworks[1].tasks[0].slave_id = "a-S9".into();
    assert_eq!(tasks.task(1, &state.frameworks[1].tasks[0]).len(), 0, "unknown agent");
}
