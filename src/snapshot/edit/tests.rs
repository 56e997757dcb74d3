//! Edits against full builds: a snapshot of the records of no task, with tasks' records added and
//! taken away by edits, must describe exactly what a build from the remaining tasks' records gives.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::snapshot::reverse::reverse_name;
use crate::snapshot::{RData, RecordList, Zone};
use crate::wire::text_to_wire;

/// A task's records: (name, data, points back).
type Task = Vec<(String, RData, bool)>;

fn task(i: usize, app: usize, agent: usize) -> Task {
    let own = Ipv4Addr::new(10, 1, (i / 250) as u8, (i % 250) as u8 + 1);
    let host = Ipv4Addr::new(10, 0, 0, agent as u8 + 1);
    let short = format!("app{app}.marathon.mesos.");
    let canon = format!("app{app}-{i}.marathon.mesos.");
    let slave = format!("app{app}-{i}.marathon.slave.mesos.");
    let mut t = vec![
        (short.clone(), RData::A(own), true),
        (canon.clone(), RData::A(own), true),
        (format!("app{app}.marathon.slave.mesos."), RData::A(host), false),
        (slave.clone(), RData::A(host), false),
    ];
    for srv in [
        format!("_app{app}._tcp.marathon.mesos."),
        format!("_app{app}._tcp.marathon.slave.mesos."),
    ] {
        t.push((
            srv,
            RData::Srv {
                target: slave.clone(),
                port: 31000 + (i % 7) as u16,
            },
            false,
        ));
    }
    if i % 5 == 0 {
        t.push((canon, RData::Aaaa(format!("fd00::{i:x}").parse().unwrap()), true));
    }
    t
}

fn fixed() -> Task {
    vec![
        ("slave.mesos.".into(), RData::A(Ipv4Addr::new(10, 0, 0, 1)), true),
        ("leader.mesos.".into(), RData::A(Ipv4Addr::new(10, 0, 0, 9)), false),
        (
            "_leader._tcp.mesos.".into(),
            RData::Srv {
                target: "leader.mesos.".into(),
                port: 5050,
            },
            false,
        ),
    ]
}

fn build<'t>(tasks: impl Iterator<Item = &'t Task>) -> Records {
    let mut list = RecordList::new();
    let fixed = fixed();
    let tasks: Vec<&Task> = tasks.collect();
    for t in std::iter::once(&fixed).chain(tasks) {
        for (name, data, back) in t {
            match (data, back) {
                (RData::A(ip), true) => list.push_ip_reverse(name, IpAddr::V4(*ip)),
                (RData::Aaaa(ip), true) => list.push_ip_reverse(name, IpAddr::V6(*ip)),
                _ => list.push(name, data.clone()),
            };
        }
    }
    Records::build(Zone::of_default_config(), &list, 1)
}

fn wire(text: &str) -> Vec<u8> {
    let mut w = Vec::new();
    text_to_wire(text, &mut w).unwrap();
    w
}

/// Adds (`add`) or takes away a task's records, PTR records included.
fn edit(records: &mut Records, t: &Task, add: bool) {
    for (name, data, back) in t {
        let owner = wire(name);
        let target;
        let (rr, ip): (Rr<'_>, Option<Vec<u8>>) = match data {
            RData::A(ip) => (Rr::A(ip.octets()), Some(ip.octets().to_vec())),
            RData::Aaaa(ip) => (Rr::Aaaa(ip.octets()), Some(ip.octets().to_vec())),
            RData::Srv { target: t, port } => {
                target = wire(t);
                (
                    Rr::Srv {
                        port: *port,
                        target: &target,
                    },
                    None,
                )
            }
            _ => unreachable!("tasks have no other records"),
        };
        let apply =
            |r: &mut Records, owner: &[u8], rr: Rr<'_>| if add { r.add(owner, rr) } else { r.remove(owner, rr) };
        assert!(apply(records, &owner, rr), "{name} {data:?} (add: {add})");
        if let (true, Some(ip)) = (*back, ip) {
            let mut rev = Vec::new();
            reverse_name(&ip, &mut rev);
            assert!(apply(records, &rev, Rr::Ptr(&owner)), "PTR of {name}");
        }
    }
}

fn first_difference(got: &Records, want: &Records) -> String {
    let (g, w) = (got.describe(), want.describe());
    for (name, rrs) in &w {
        match g.get(name) {
            None => return format!("{name} missing (want {rrs:?})"),
            Some(x) if x != rrs => return format!("{name}: edited {x:?}, built {rrs:?}"),
            _ => {}
        }
    }
    match g.keys().find(|n| !w.contains_key(*n)) {
        Some(n) => format!("{n} only in the edited snapshot: {:?}", g.get(n)),
        None => "none".into(),
    }
}

#[test]
fn an_edited_snapshot_describes_what_a_build_of_the_same_tasks_gives() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    // 600 tasks of 12 apps on 4 agents: names shared by many, chunks edited across, ids reused.
    let all: Vec<Task> = (0..600).map(|i| task(i, i % 12, i % 4)).collect();
    let mut live: Vec<bool> = (0..all.len()).map(|i| i % 3 != 0).collect();
    let mut records = build(std::iter::empty());
    records.start_counting();
    for (t, _) in all.iter().zip(&live).filter(|(_, &l)| l) {
        edit(&mut records, t, true);
    }
    let start = records.clone();
    for step in 0..400 {
        let i = next(all.len());
        edit(&mut records, &all[i], !live[i]);
        live[i] = !live[i];
        if step % 40 == 0 || step == 399 {
            let want = build(all.iter().zip(&live).filter(|(_, &l)| l).map(|(t, _)| t));
            assert!(
                records.describe() == want.describe(),
                "step {step}: {}",
                first_difference(&records, &want)
            );
            assert_eq!(records.name_count(), want.name_count(), "step {step}: names");
            assert_eq!(records.counts(), want.counts(), "step {step}: record counts");
        }
    }
    // Every task gone: what is left is the fixed records (pinned) and their names.
    for (i, t) in all.iter().enumerate().filter(|(i, _)| live[*i]) {
        let _ = i;
        edit(&mut records, t, false);
    }
    let want = build(std::iter::empty());
    assert!(
        records.describe() == want.describe(),
        "{}",
        first_difference(&records, &want)
    );
    assert!(
        start.describe() != records.describe(),
        "a clone taken before the edits is not changed by them"
    );
}

#[test]
fn a_record_two_tasks_share_stays_until_the_last_one_goes() {
    let (one, two) = (task(1, 0, 0), task(2, 0, 0));
    let mut records = build(std::iter::empty());
    records.start_counting();
    edit(&mut records, &one, true);
    edit(&mut records, &two, true);
    edit(&mut records, &one, false);
    assert!(records.describe() == build([&two].into_iter()).describe());
    // The agent's address at the shared name came from both; it is still there.
    let node = match records.lookup(&wire("app0.marathon.slave.mesos.")) {
        crate::snapshot::Lookup::Found(n) => n,
        _ => panic!("the shared name is gone"),
    };
    assert_eq!(node.a, &[[10, 0, 0, 1]]);
    edit(&mut records, &two, false);
    assert!(matches!(
        records.lookup(&wire("app0.marathon.slave.mesos.")),
        crate::snapshot::Lookup::NotFound
    ));
    assert!(
        matches!(
            records.lookup(&wire("marathon.mesos.")),
            crate::snapshot::Lookup::NotFound
        ),
        "an empty non-terminal goes with the last name below it"
    );
    assert!(
        !records.remove(&wire("leader.mesos."), Rr::A([10, 0, 0, 7])),
        "no such record"
    );
    assert!(
        records.remove(&wire("leader.mesos."), Rr::A([10, 0, 0, 9])),
        "pinned: found, kept"
    );
    assert!(matches!(records.lookup(&wire("leader.mesos.")), crate::snapshot::Lookup::Found(n) if n.a.len() == 1));
    assert!(
        !records.add(&wire("web.example.com."), Rr::A([1, 2, 3, 4])),
        "outside the domain"
    );
}

/// 300 instances of one app on one agent: their agent's address at the shared name is 300 tasks'
/// record, and the app's SRV name holds 300 records (counts past a byte's range, kept aside), then
/// the tasks go one by one until the last takes both away.
#[test]
fn counts_past_a_byte_go_up_and_back_down_with_the_tasks() {
    let all: Vec<Task> = (0..300).map(|i| task(i, 0, 0)).collect();
    let mut records = build(std::iter::empty());
    records.start_counting();
    for t in &all {
        edit(&mut records, t, true);
    }
    let counted = |r: &Records, name: &str| r.describe_counts().get(name).cloned().unwrap_or_default();
    let (_, shared) = counted(&records, "app0.marathon.slave.mesos.");
    assert_eq!(shared, ["A [10, 0, 0, 1] 300"]);
    let (uses, _) = counted(&records, "_app0._tcp.marathon.mesos.");
    assert_eq!(uses, "300", "300 SRV records use the name");
    for (n, t) in all.iter().enumerate().take(299) {
        edit(&mut records, t, false);
        if n % 50 == 0 || n >= 296 {
            let want = build(all.iter().skip(n + 1));
            assert!(
                records.describe() == want.describe(),
                "{n} gone: {}",
                first_difference(&records, &want)
            );
        }
    }
    assert_eq!(counted(&records, "app0.marathon.slave.mesos.").1, ["A [10, 0, 0, 1] 1"]);
    assert_eq!(counted(&records, "_app0._tcp.marathon.mesos.").0, "1");
    edit(&mut records, &all[299], false);
    let want = build(std::iter::empty());
    assert!(
        records.describe() == want.describe(),
        "{}",
        first_difference(&records, &want)
    );
}

/// Edits go on for weeks: forty polls, each replacing a tenth of 1,000 tasks by new ones (added
/// before the old ones go, as a poll's changes come) while the last published snapshot is held (every
/// edited chunk a copy), leave the snapshot the shape the first few gave it: no more chunks, node
/// ids free for the largest poll's names at most, index probes as short, names and record arrays
/// holding little more than what is live (a chunk's names are copied, which compacts them, only when
/// its nodes change: the rest of the time, they compact themselves).
#[test]
fn many_polls_of_replaced_tasks_leave_the_shape_the_first_ones_gave() {
    let mut records = build(std::iter::empty());
    records.start_counting();
    // (id, app, agent) of each live task.
    let mut live: Vec<(usize, usize, usize)> = (0..1000).map(|i| (i, i % 12, i % 4)).collect();
    for &(i, app, agent) in &live {
        edit(&mut records, &task(i, app, agent), true);
    }
    let mut next = live.len();
    let mut published = records.clone();
    let (mut shapes, mut most) = (Vec::new(), 0);
    for round in 0..40 {
        let (replaced, kept): (Vec<_>, Vec<_>) = live.iter().partition(|(i, ..)| i % 10 == round % 10);
        live = kept;
        most = most.max(replaced.len());
        for &(_, app, agent) in &replaced {
            let new = (next, app, (agent + 1) % 4);
            edit(&mut records, &task(new.0, new.1, new.2), true);
            live.push(new);
            next += 1;
        }
        for &(old, app, agent) in &replaced {
            edit(&mut records, &task(old, app, agent), false);
        }
        published = records.clone();
        shapes.push(records.edit_shape());
    }
    assert_eq!(published.edit_shape(), shapes[39]);
    let (early, last) = (shapes[4], shapes[39]);
    // (As many tasks live; their names differ by a few: every fifth has an AAAA record of its own.)
    assert!(last.names * 20 <= early.names * 21, "{early:?}\n{last:?}");
    assert!(last.chunks <= early.chunks + 1, "{early:?}\n{last:?}");
    // (A task has at most 4 names of its own: its two names, the reverse names of its addresses.)
    assert!(
        last.free_ids <= most * 4,
        "one poll's names at most ({most} tasks): {last:?}"
    );
    assert!(
        last.probes * 2 <= last.names.max(1) * 3 && last.longest_probe <= 64,
        "short probes: {last:?}"
    );
    assert!(
        last.name_bytes <= last.live_name_bytes + last.live_name_bytes / 4 + 512 * last.chunks,
        "names with a quarter of room or so: {last:?}"
    );
    assert!(
        last.room <= last.records + last.records / 4 + 16 * last.chunks,
        "record arrays with an eighth of room or so: {last:?}"
    );
    for (round, shape) in shapes.iter().enumerate().skip(4) {
        assert!(shape.chunks <= early.chunks + 1, "round {round}: {shape:?}");
    }
}

/// A chunk's names are shared on their own: an edit that changes only the records of names that stay
/// (an app's name, as one of its instances is replaced) copies the chunk holding them but not its
/// names, and one that names a node anew copies that chunk's names alone.
#[test]
fn an_edit_of_records_alone_shares_the_chunks_names() {
    let mut records = build(std::iter::empty());
    records.start_counting();
    let tasks: Vec<Task> = (0..600).map(|i| task(i, i % 12, i % 4)).collect();
    for t in &tasks {
        edit(&mut records, t, true);
    }
    edit(&mut records, &tasks[5], false);
    let published = records.clone();
    let chunk_of = |id: u32| (id >> CHUNK_BITS) as usize;

    let app = wire("app0.marathon.mesos.");
    assert!(records.add(&app, Rr::A([10, 9, 9, 9])));
    let c = chunk_of(records.find(&app).unwrap());
    assert!(
        !Arc::ptr_eq(&records.chunks[c], &published.chunks[c]),
        "its records are copied"
    );
    assert!(
        Arc::ptr_eq(&records.chunks[c].names, &published.chunks[c].names),
        "its names are not"
    );

    // The new name takes an id task 5's names left free.
    let new = wire("brand-new.marathon.mesos.");
    assert!(records.add(&new, Rr::A([10, 9, 9, 8])));
    let id = records.find(&new).unwrap();
    assert!(id < published.node_id_bound(), "a freed id");
    assert_eq!(published.name(id), None, "the published snapshot still has it free");
    assert!(!Arc::ptr_eq(
        &records.chunks[chunk_of(id)].names,
        &published.chunks[chunk_of(id)].names
    ));
    let untouched = (0..records.chunks.len()).filter(|&k| k != c && k != chunk_of(id));
    for k in untouched {
        assert!(Arc::ptr_eq(&records.chunks[k], &published.chunks[k]), "chunk {k}");
    }
    assert_eq!(
        first_difference(&published, &build(tasks.iter().filter(|t| t != &&tasks[5]))),
        "none"
    );
}
