//! Unit tests of wildcard synthesis: the pure closest-encloser search over a set of names, and the
//! snapshot's answer to a miss.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::*;
use crate::snapshot::{Lookup, RData, RecordList, Zone};
use crate::wire::{wire_of, wire_to_text};

/// Names (as text) with ids in the order given.
fn names(list: &[&str]) -> HashMap<Vec<u8>, u32> {
    list.iter().enumerate().map(|(i, n)| (wire_of(n), i as u32)).collect()
}

fn source(zone: &HashMap<Vec<u8>, u32>, qname: &str) -> Option<u32> {
    source_of_synthesis(&wire_of(qname), |n| zone.get(n).copied())
}

#[test]
fn the_source_of_synthesis_is_star_below_the_closest_encloser() {
    let zone = names(&[
        "mesos",
        "lb.mesos",
        "*.lb.mesos",
        "web.lb.mesos",
        "a.b.lb.mesos",
        "b.lb.mesos",
    ]);
    assert_eq!(source(&zone, "x.lb.mesos"), Some(2), "depth 1");
    assert_eq!(source(&zone, "x.y.z.lb.mesos"), Some(2), "depth 3");
    assert_eq!(
        source(&zone, "x.*.lb.mesos"),
        None,
        "below the wildcard: its own encloser, no *"
    );
    assert_eq!(source(&zone, "x.web.lb.mesos"), None, "an explicit name blocks");
    assert_eq!(source(&zone, "x.b.lb.mesos"), None, "an empty non-terminal blocks");
    assert_eq!(source(&zone, "x.mesos"), None, "no wildcard at the apex");
}

#[test]
fn a_wildcard_at_the_apex_or_under_an_empty_non_terminal_answers_its_subtree() {
    let zone = names(&["mesos", "*.mesos", "b.lb.mesos", "lb.mesos", "*.b.lb.mesos"]);
    assert_eq!(source(&zone, "anything.mesos"), Some(1));
    assert_eq!(source(&zone, "x.y.mesos"), Some(1));
    assert_eq!(source(&zone, "x.b.lb.mesos"), Some(4));
    assert_eq!(
        source(&zone, "x.lb.mesos"),
        None,
        "lb is the closest encloser, without a *"
    );
}

#[test]
fn names_up_to_255_octets_search_without_overflow() {
    let long = format!(
        "{}.lb.mesos",
        ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(52)].join(".")
    );
    assert_eq!(wire_of(&long).len(), 255);
    let deep = long
        .split_once('.')
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_default();
    let zone = names(&["mesos", "lb.mesos", &deep, &format!("*.{deep}")]);
    assert_eq!(source(&zone, &long), Some(3));
    assert_eq!(source_of_synthesis(b"", |_| Some(0)), None);
}

fn snapshot(statics: &[(&str, RData)]) -> Records {
    let mut list = RecordList::new();
    list.push("web.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1)));
    list.begin_static();
    for (name, data) in statics {
        list.push(name, data.clone());
    }
    Records::build(Zone::of_default_config(), &list, 1)
}

fn a_of(r: &Records, qname: &str) -> Option<Vec<[u8; 4]>> {
    let wire = wire_of(qname);
    assert!(matches!(r.lookup(&wire), Lookup::NotFound), "{qname} is a node");
    r.wildcard(&wire).map(|n| n.a.to_vec())
}

#[test]
fn a_snapshot_answers_a_miss_from_its_wildcard() {
    let r = snapshot(&[
        ("*.lb.mesos.", RData::A(Ipv4Addr::new(10, 9, 9, 10))),
        ("*.lb.mesos.", RData::A(Ipv4Addr::new(10, 9, 9, 11))),
        ("explicit.lb.mesos.", RData::A(Ipv4Addr::new(10, 9, 9, 1))),
        ("x.ent.lb.mesos.", RData::A(Ipv4Addr::new(10, 9, 9, 2))),
    ]);
    assert_eq!(r.wildcard_count(), 1);
    let both = Some(vec![[10, 9, 9, 10], [10, 9, 9, 11]]);
    assert_eq!(a_of(&r, "x.lb.mesos"), both);
    assert_eq!(a_of(&r, "a.b.c.lb.mesos"), both);
    assert_eq!(a_of(&r, "y.explicit.lb.mesos"), None);
    assert_eq!(a_of(&r, "y.ent.lb.mesos"), None);
    assert_eq!(a_of(&r, "nope.marathon.mesos"), None);
    let Lookup::Found(star) = r.lookup(&wire_of("*.lb.mesos")) else {
        panic!("the wildcard is a node")
    };
    assert_eq!(wire_to_text(star.name), "*.lb.mesos.");
    let Lookup::Found(lb) = r.lookup(&wire_of("lb.mesos")) else {
        panic!("lb is an empty non-terminal")
    };
    assert!(lb.is_empty());
}

#[test]
fn only_a_leading_star_label_is_a_wildcard() {
    let r = snapshot(&[
        ("a.*.lb.mesos.", RData::A(Ipv4Addr::new(10, 9, 9, 1))),
        ("*x.lb.mesos.", RData::A(Ipv4Addr::new(10, 9, 9, 2))),
    ]);
    // `*.lb` exists as the empty non-terminal of `a.*.lb`: a wildcard with no data (NODATA below it).
    assert_eq!(r.wildcard_count(), 1);
    assert_eq!(a_of(&r, "q.lb.mesos"), Some(vec![]));
    let r = snapshot(&[("*x.lb.mesos.", RData::A(Ipv4Addr::new(10, 9, 9, 2)))]);
    assert_eq!(r.wildcard_count(), 0);
    assert_eq!(a_of(&r, "q.lb.mesos"), None);
}

#[test]
fn a_zone_without_wildcards_never_searches() {
    let r = snapshot(&[]);
    assert_eq!(r.wildcard_count(), 0);
    assert_eq!(a_of(&r, "x.web.marathon.mesos"), None);
}

#[test]
fn task_labels_never_keep_a_star() {
    use crate::records::label::Spec;
    for spec in [Spec::Rfc1123, Spec::Rfc952] {
        assert_eq!(spec.label("*"), "", "a task named `*` has no label of its own");
        assert_eq!(spec.label("*web"), "web");
        assert_eq!(spec.label("web.*"), "web");
    }
}
