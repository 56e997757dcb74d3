//! The task table's storage: names, ids and sources kept per slot through reuse, clones and churn,
//! and records made again through its [`Regenerate`].

use std::net::Ipv4Addr;

use super::*;

/// Reads a source as "name address" pairs and lists each as an A record (a PTR mark on the first) of
/// the task: a stand-in for the refresher's generator.
struct Pairs;

impl Regenerate for Pairs {
    fn records(&self, entry: &TaskEntry<'_>, agent: &str, frameworks: &[String]) -> RecordList {
        let mut list = RecordList::new();
        for f in frameworks {
            list.add_framework(f);
        }
        list.begin_task_on(entry.framework, entry.name(), &entry.id(), agent);
        let text = std::str::from_utf8(entry.source).unwrap();
        for (i, pair) in text.split(';').filter(|p| !p.is_empty()).enumerate() {
            let (name, ip) = pair.split_once(' ').unwrap();
            let ip = std::net::IpAddr::V4(ip.parse().unwrap());
            match i {
                0 => list.push_ip_reverse(name, ip),
                _ => list.push_ip(name, ip),
            };
        }
        list.push_srv("_web._tcp.Marathon.mesos.", "web.marathon.mesos.", 31000);
        list.end_task();
        list
    }
}

fn entry(id: &str) -> TaskEntry<'_> {
    TaskEntry::new((0, 0), "web", id, b"")
}

#[test]
fn an_entry_keeps_its_name_id_and_source_and_its_records_are_made_again_from_them() {
    let regenerate: Arc<dyn Regenerate> = Arc::new(Pairs);
    let mut table = TaskTable::new(vec!["marathon".into()], vec!["a1".into()], Some(regenerate));
    let source = b"web.marathon.mesos. 10.0.0.1;WEB-1.marathon.mesos. 10.0.0.1";
    let slot = table.insert(&TaskEntry::new((0, 0), "web", "web.1", source));
    let e = table.get(slot).unwrap();
    assert_eq!(
        (e.name(), e.id().as_ref(), table.agent(&e), e.source),
        ("web", "web.1", "a1", &source[..])
    );
    let records = table.stored_records(&e);
    let want = [
        ("web.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1)), true),
        // (Spelled as the snapshot spells it: lower case.)
        ("web-1.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1)), false),
        (
            "_web._tcp.marathon.mesos.",
            RData::Srv {
                target: "web.marathon.mesos.".into(),
                port: 31000,
            },
            false,
        ),
    ];
    let want: Vec<TaskRecord> = want
        .into_iter()
        .map(|(owner, data, reverse)| TaskRecord {
            owner: owner.into(),
            data,
            reverse,
        })
        .collect();
    assert_eq!(records, want);
    let without = TaskTable::new(vec!["marathon".into()], vec![], None);
    assert!(without.stored_records(&e).is_empty(), "no generator: no records");
}

#[test]
fn slots_are_reused_and_clones_keep_what_they_saw() {
    let mut table = TaskTable::new(vec!["marathon".into()], vec!["a1".into()], None);
    let ids: Vec<String> = (0..600).map(|i| format!("t{i}")).collect();
    let slots: Vec<usize> = ids.iter().map(|id| table.insert(&entry(id))).collect();
    assert_eq!(slots, (0..600).collect::<Vec<_>>());
    let published = table.clone();
    let id = |table: &TaskTable, slot: usize| table.get(slot).map(|e| e.id().into_owned());
    assert_eq!(id(&table, 300).as_deref(), Some("t300"));
    assert!(table.take(300));
    assert!(!table.take(300), "a slot is taken once");
    assert_eq!(table.get(300), None);
    assert_eq!(table.insert(&entry("new")), 300, "the freed slot is taken again");
    assert_eq!(id(&table, 300).as_deref(), Some("new"));
    assert_eq!(id(&published, 300).as_deref(), Some("t300"));
    assert_eq!((table.len(), table.slot_bound()), (600, 600));
    assert!(!table.take(600) && !table.take(1 << 40), "no such slot");
}

/// Tasks appended after a partly filled last chunk, shared with a published table, take the slots
/// inserting them would (past a chunk's end too), read back the same, and leave the published
/// table as it was; a dropped appender leaves its partial chunk in the table, to be inserted after.
#[test]
fn appended_tasks_take_the_slots_inserts_would_and_published_tables_keep_theirs() {
    let ids: Vec<String> = (0..700)
        .map(|i| format!("web.{i:08x}-1111-2222-3333-444455556666"))
        .collect();
    let source = |i: usize| format!("source {i}").into_bytes();
    let mut inserted = TaskTable::new(vec!["marathon".into()], vec![], None);
    let mut appended = TaskTable::new(vec!["marathon".into()], vec![], None);
    for (i, id) in ids.iter().enumerate().take(100) {
        let s = source(i);
        let e = TaskEntry::new((0, i as u32 % 3), "web", id, &s);
        assert_eq!((inserted.insert(&e), appended.insert(&e)), (i, i));
    }
    let published = appended.clone();
    let mut table = appended.appender();
    for (i, id) in ids.iter().enumerate().take(650).skip(100) {
        let s = source(i);
        let e = TaskEntry::new((0, i as u32 % 3), "web", id, &s);
        assert_eq!((table.push(&e), inserted.insert(&e)), (i, i), "task {i}");
    }
    drop(table);
    let s = source(650);
    let e = TaskEntry::new((0, 1), "web", &ids[650], &s);
    assert_eq!((appended.insert(&e), inserted.insert(&e)), (650, 650));
    let all = |t: &TaskTable| {
        t.entries()
            .map(|e| (e.framework, e.agent, e.id().into_owned(), e.source.to_vec()))
            .collect::<Vec<_>>()
    };
    assert_eq!(all(&appended), all(&inserted));
    assert_eq!(appended.slot_bound(), 651);
    assert_eq!(published.len(), 100, "the published table keeps its tasks");
    assert_eq!(published.get(99).map(|e| e.id().into_owned()), Some(ids[99].clone()));
    assert_eq!(published.get(100), None);
}

/// Names, ids and sources of any length (past a one-byte length, empty ones) read back whole.
#[test]
fn long_and_empty_texts_read_back_whole() {
    let mut table = TaskTable::new(vec!["marathon".into()], vec![], None);
    let long = "x".repeat(70_000);
    let source = vec![7u8; 300];
    let cases = [
        ("", "", &[][..]),
        (long.as_str(), "id", &source[..]),
        ("web", long.as_str(), b"\x00"),
    ];
    for (name, id, source) in cases {
        let slot = table.insert(&TaskEntry::new((0, 3), name, id, source));
        let e = table.get(slot).unwrap();
        assert_eq!((e.name(), e.id().as_ref(), e.source, e.agent), (name, id, source, 3));
    }
}

/// A chunk whose tasks come and go keeps its live tasks whole and drops what the others left.
#[test]
fn churn_in_a_chunk_keeps_the_live_tasks_and_bounds_what_the_gone_ones_left() {
    let mut table = TaskTable::new(vec!["marathon".into()], vec![], None);
    let mut live: Vec<(usize, String, Vec<u8>)> = Vec::new();
    for round in 0..2000u32 {
        let id = format!("task-{round}-{}", "x".repeat(round as usize % 40));
        let source = round.to_be_bytes().repeat(1 + round as usize % 5);
        let slot = table.insert(&TaskEntry::new((0, 0), "web", &id, &source));
        live.push((slot, id, source));
        if live.len() > 100 {
            let (slot, ..) = live.remove((round as usize * 7) % live.len());
            assert!(table.take(slot));
        }
    }
    for (slot, id, source) in &live {
        let e = table.get(*slot).unwrap();
        assert_eq!((e.id().as_ref(), e.source), (id.as_str(), &source[..]));
    }
    assert_eq!(table.len(), live.len());
    let kept: usize = table.chunks.iter().map(|c| c.bytes.len()).sum();
    let needed: usize = live.iter().map(|(_, id, s)| 5 + id.len() + s.len()).sum();
    assert!(
        kept <= 2 * needed + 1024 * table.chunks.len(),
        "{kept} bytes kept for {needed}"
    );
}

/// A copy of a chunk (what copy-on-write makes when an edit touches a published one) keeps the live
/// tasks whole and none of the bytes taken ones left, while the original is unchanged.
#[test]
fn a_copy_of_a_chunk_keeps_its_live_tasks_only() {
    let mut table = TaskTable::new(vec!["marathon".into()], vec![], None);
    let ids: Vec<String> = (0..200).map(|i| format!("task-{i}-{}", "y".repeat(30))).collect();
    for id in &ids {
        table.insert(&TaskEntry::new((0, 0), "web", id, b"source"));
    }
    // Fewer than half taken: not compacted as they go.
    for slot in (0..200).step_by(3) {
        assert!(table.take(slot));
    }
    let published = table.clone();
    let size = |slot: usize| {
        let row = published.chunks[0].rows[slot];
        published.chunks[0].entry_len(row.start)
    };
    let before = published.chunks[0].bytes.len();
    assert!(table.take(1), "an edit of the shared chunk copies it");
    let copy = &table.chunks[0];
    // (The task taken after the copy left its bytes, as a take does.)
    assert_eq!(copy.dead, size(1));
    let live: usize = (0..200).filter(|s| s % 3 != 0).map(size).sum();
    assert_eq!(copy.bytes.len(), live, "only the live tasks' bytes");
    assert!(live < before, "{live} of {before} bytes");
    for (slot, id) in ids.iter().enumerate() {
        let want = (slot % 3 != 0 && slot != 1).then_some(id.as_str());
        let got = table.get(slot).map(|e| e.id().into_owned());
        assert_eq!(got.as_deref(), want, "slot {slot}");
        let seen = published.get(slot).map(|e| e.id().into_owned());
        assert_eq!(
            seen.as_deref(),
            (slot % 3 != 0).then_some(id.as_str()),
            "published slot {slot}"
        );
        if let Some(e) = table.get(slot) {
            assert_eq!((e.name(), e.source), ("web", &b"source"[..]));
        }
    }
}

/// An id is kept as what it shares with the name and a UUID where the rest is one (in canonical
/// text, alone or after one ASCII character), else as text: each reads back as it was, compares
/// equal to itself only, and a Marathon id takes 19 bytes.
#[test]
fn ids_read_back_as_they_were_however_they_are_kept() {
    let uuid = "00000035-58b3-11e9-8c21-0242ac110002";
    let cases: Vec<(&str, String)> = vec![
        ("app-208400", format!("app-208400.{uuid}")),
        ("web", format!("web_{uuid}")),
        ("other", uuid.to_owned()),
        ("other", format!("x{uuid}")),
        ("app", format!("app.{}", uuid.to_uppercase())),
        ("app", format!("app.{}", uuid.replace('-', "_"))),
        ("app", format!("app.{uuid}.1")),
        ("app", format!("app.é{}", &uuid[1..])),
        ("app", "app".to_owned()),
        ("app", "ap".to_owned()),
        ("", String::new()),
        ("é1", "é2".to_owned()),
        ("\u{e9}", "\u{ea}x".to_owned()),
        ("web", format!("web.{}", &uuid[..35])),
        ("web", format!("web.{uuid}0")),
    ];
    let mut table = TaskTable::new(vec!["marathon".into()], vec![], None);
    for (name, id) in &cases {
        let slot = table.insert(&TaskEntry::new((0, 0), name, id, b"src"));
        let e = table.get(slot).unwrap();
        assert_eq!((e.name(), e.id().as_ref(), e.source), (*name, id.as_str(), &b"src"[..]));
        assert!(e.id_is(id), "{id}");
        for (_, other) in cases.iter().filter(|(_, other)| other != id) {
            assert!(!e.id_is(other), "{id} is not {other}");
        }
    }
    let mut one = TaskTable::new(vec![], vec![], None);
    one.insert(&TaskEntry::new((0, 0), "app-208400", &cases[0].1, b""));
    assert_eq!(
        one.chunks[0].bytes.len(),
        11 + 1 + 1 + 1 + 16 + 1,
        "name, shared length, kind, '.', UUID, source length"
    );
}
