//! Ours (issue 25): the task filters `minVisibility`, `excludeFrameworks`, `excludeTaskLabels`. Every
//! check goes through `gen_with`, which also compares the streamed and one-task-at-a-time forms.

use super::*;
use crate::config::{LabelMatch, Visibility};

/// Agent 10.1.0.1; framework `Marathon` (its scheduler on `localhost`) with one task per visibility
/// (and one without discovery info), one per label set; framework `chronos` with task `job`. Each task
/// has its own container address 10.200.0.N and port 31000.
fn doc() -> Vec<u8> {
    let task = |n: usize, name: &str, extra: &str| {
        format!(
            r#"{{"id": "{name}.1", "name": "{name}", "slave_id": "a-S1", "state": "TASK_RUNNING", {extra}
                "resources": {{"ports": "[31000-31000]"}},
                "statuses": [{{"state": "TASK_RUNNING", "timestamp": 1,
                  "container_status": {{"network_infos": [{{"ip_addresses": [{{"ip_address": "10.200.0.{n}"}}]}}]}}}}]}}"#
        )
    };
    let vis = |v: &str| format!(r#""discovery": {{"visibility": "{v}"}},"#);
    let marathon = [
        task(1, "fw", &vis("FRAMEWORK")),
        task(2, "cl", &vis("CLUSTER")),
        task(3, "ex", &vis("EXTERNAL")),
        task(4, "none", ""),
        task(5, "odd", &vis("SOMETIMES")),
        task(
            6,
            "off",
            r#""labels": [{"key": "x", "value": "1"}, {"key": "dns", "value": "off"}],"#,
        ),
        task(7, "on", r#""labels": [{"key": "dns", "value": "on"}],"#),
        task(8, "priv", r#""labels": [{"key": "private", "value": ""}],"#),
    ];
    format!(
        r#"{{"leader": "master@10.0.0.1:5050",
            "slaves": [{{"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051", "hostname": "10.1.0.1"}}],
            "frameworks": [
              {{"name": "Marathon", "hostname": "localhost", "pid": "scheduler@127.0.0.1:8080", "tasks": [{}]}},
              {{"name": "chronos", "hostname": "localhost", "pid": "scheduler@127.0.0.1:4400", "tasks": [{}]}}]}}"#,
        marathon.join(","),
        task(9, "job", &vis("EXTERNAL")),
    )
    .into_bytes()
}

const ALL: [&str; 9] = ["fw", "cl", "ex", "none", "odd", "off", "on", "priv", "job"];

/// The tasks that have records (any of `T.F.D`, its SRV, its agent name) and those whose address has a PTR.
fn shown(filter: &TaskFilter) -> (BTreeSet<&'static str>, BTreeSet<&'static str>) {
    let list = gen_with(
        &doc(),
        Opts {
            ptr_on: true,
            filter,
            ..Opts::default()
        },
    );
    let fw = |t: &str| if t == "job" { "chronos" } else { "marathon" };
    let named = ALL
        .into_iter()
        .filter(|t| {
            let f = fw(t);
            [
                format!("{t}.{f}.mesos."),
                format!("_{t}._tcp.{f}.mesos."),
                format!("{t}.{f}.slave.mesos."),
            ]
            .iter()
            .any(|n| !at(&list, n).is_empty())
        })
        .collect();
    let reverse: Vec<String> = list.reverse().map(|(_, name)| name.to_string()).collect();
    let pointed = ALL
        .into_iter()
        .filter(|t| reverse.iter().any(|n| n.starts_with(&format!("{t}."))))
        .collect();
    // Whatever is hidden, both frameworks' own names stay.
    for f in ["marathon", "chronos"] {
        assert_eq!(at(&list, &format!("{f}.mesos.")), set(&["A 127.0.0.1"]), "{filter:?}");
        assert!(!at(&list, &format!("_framework._tcp.{f}.mesos.")).is_empty());
    }
    assert_eq!(list.frameworks().collect::<Vec<_>>(), ["Marathon", "chronos"]);
    (named, pointed)
}

fn filter(min: Visibility, frameworks: &[&str], labels: &[&str]) -> TaskFilter {
    TaskFilter {
        min_visibility: min,
        exclude_frameworks: frameworks.iter().map(|s| s.to_string()).collect(),
        exclude_task_labels: labels.iter().map(|l| LabelMatch::parse(l).unwrap()).collect(),
    }
}

fn without(hidden: &[&str]) -> BTreeSet<&'static str> {
    ALL.into_iter().filter(|t| !hidden.contains(t)).collect()
}

#[test]
fn no_filter_publishes_every_running_task() {
    let (named, pointed) = shown(&TaskFilter::NONE);
    assert_eq!(named, without(&[]));
    assert_eq!(pointed, without(&[]));
}

#[test]
fn min_visibility_hides_tasks_below_it_and_keeps_tasks_without_one() {
    for (min, hidden) in [
        (Visibility::Framework, &[][..]),
        (Visibility::Cluster, &["fw"][..]),
        (Visibility::External, &["fw", "cl"][..]),
    ] {
        let (named, pointed) = shown(&filter(min, &[], &[]));
        assert_eq!(named, without(hidden), "{min:?}");
        assert_eq!(pointed, without(hidden), "{min:?}");
    }
}

#[test]
fn excluded_frameworks_lose_their_tasks_whatever_the_case() {
    let (named, pointed) = shown(&filter(Visibility::Framework, &["CHRONOS"], &[]));
    assert_eq!(named, without(&["job"]));
    assert_eq!(pointed, without(&["job"]));
    let (named, _) = shown(&filter(Visibility::Framework, &["marathon"], &[]));
    assert_eq!(named, set_of(&["job"]));
}

#[test]
fn tasks_with_an_excluded_label_lose_their_records() {
    let (named, pointed) = shown(&filter(Visibility::Framework, &[], &["dns=off", "private"]));
    assert_eq!(named, without(&["off", "priv"]));
    assert_eq!(pointed, without(&["off", "priv"]));
}

#[test]
fn the_filters_add_up() {
    let (named, _) = shown(&filter(Visibility::External, &["Chronos"], &["dns"]));
    assert_eq!(named, set_of(&["ex", "none", "odd", "priv"]));
}

fn set_of(items: &[&'static str]) -> BTreeSet<&'static str> {
    items.iter().copied().collect()
}
