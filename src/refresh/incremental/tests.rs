//! The bulk start against adding tasks one at a time and against a full build, and a probe of the
//! start at scale.

use std::collections::BTreeSet;
use std::time::Instant;

use super::*;
use crate::config::Config;
use crate::records::from_state::{build_from_state, generate_for_edits};
use crate::refresh::carried;
use crate::refresh::carry::Why;
use crate::refresh::model::Changed;
use crate::snapshot::reverse::MAX_PTRS_PER_ADDRESS;

const FAKE: &[u8] = include_bytes!("../../../tests/fixtures/fake.json");
const TUTORIAL: &[u8] = include_bytes!("../../../tests/fixtures/tutorial-0.21.json");

fn config(ptr_on: bool) -> Config {
    Config {
        masters: vec![HostPort::parse("127.0.0.1:5050").unwrap()],
        ptr_on,
        ..Config::default()
    }
}

fn started(config: &Config, model: &Model) -> Incremental {
    started_carrying(config, model, &[])
}

/// The start in bulk, as the refresher makes it.
fn started_carrying(config: &Config, model: &Model, carried: &[CarriedTask]) -> Incremental {
    let (fixed, gen) = generate_for_edits(config, model.header(), &config.masters, &[], &|_| Vec::new()).unwrap();
    let zone = crate::records::zone(config);
    Incremental::start(fixed, zone, 1, model, gen, &config.masters, carried)
}

/// The records of no task, built and counted, then every task added one by one.
fn one_by_one(config: &Config, model: &Model, carried: &[CarriedTask]) -> Incremental {
    let (fixed, gen) = generate_for_edits(config, model.header(), &config.masters, &[], &|_| Vec::new()).unwrap();
    let frameworks = fixed.frameworks().map(str::to_owned).collect();
    let records = Records::build(crate::records::zone(config), &fixed, 1);
    Incremental::start_one_by_one(records, model, gen, frameworks, &config.masters, carried)
}

/// A record as text: "name data", names without their trailing dots.
fn line(name: &str, data: &str) -> String {
    format!("{name} {data}").replace(".\"", "\"").replace(". ", " ")
}

/// The start's snapshot answers as a full build of the model's document, and its task table holds, per
/// task in the model's order, exactly the records that task's own list (the named one the edits
/// of a task event use) holds, a record two tasks share under each.
#[test]
fn the_start_gives_the_full_build_and_each_task_its_own_records() {
    for (body, ptr_on) in [(FAKE, false), (FAKE, true), (TUTORIAL, true)] {
        let config = config(ptr_on);
        let model = Model::from_body(body).unwrap();
        let mut inc = started(&config, &model);
        let (got, _) = inc.publish();
        // (The model keeps one task per id and framework, as events name them: against its document.)
        let (want, _) =
            build_from_state(&config, &model.full_state(), &config.masters, &[], &|_| Vec::new(), 1).unwrap();
        assert_eq!(got.describe(), want.describe());
        let (_, mut gen) = generate_for_edits(&config, model.header(), &config.masters, &[], &|_| Vec::new()).unwrap();
        let mut expected = Vec::new();
        model.for_each_task(|f, task| {
            let list = gen.task(f, task);
            if let Some(t) = list.tasks().next() {
                let records: BTreeSet<String> = list
                    .records_of_task(0)
                    .map(|(r, _)| line(&r.name, &format!("{:?}", r.data)))
                    .collect();
                expected.push((t.framework_index as u32, t.name.to_owned(), t.id.to_owned(), records));
            };
        });
        assert!(expected.len() >= 2, "the fixture has running tasks");
        let table = got.tasks().unwrap();
        let actual: Vec<_> = table
            .entries()
            .map(|e| {
                let records = table
                    .stored_records(&e)
                    .iter()
                    .map(|r| line(&r.owner, &format!("{:?}", r.data)))
                    .collect::<BTreeSet<_>>();
                (e.framework, e.name().to_owned(), e.id().into_owned(), records)
            })
            .collect();
        assert_eq!(actual, expected);
    }
}

/// The heap glibc has handed out (not what it keeps free), in MB.
fn in_use_mb() -> f64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallinfo2 only reads the allocator's statistics.
    let used = unsafe { libc::mallinfo2() }.uordblks as f64;
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let used = 0.0;
    used / 1_048_576.0
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Times and sizes the start on a generated state (`START_PROBE=path`), as the refresher runs it
/// (peak RSS: run it under `/usr/bin/time -v`):
///   START_PROBE=target/bench-states/state-100000-5000-5.json \
///     cargo test --release --lib start_probe -- --ignored --nocapture
#[test]
#[ignore]
fn start_probe() {
    let Ok(path) = std::env::var("START_PROBE") else { return };
    // (The start's own debug line gives its stages.)
    let _ = env_logger::builder()
        .is_test(true)
        .filter_level(log::LevelFilter::Debug)
        .try_init();
    let config = Config {
        masters: vec![HostPort::parse("127.0.0.1:5050").unwrap()],
        ..Config::default()
    };
    let body = std::fs::read(&path).unwrap();
    let r0 = rss_kb();
    let t = Instant::now();
    let model = Model::from_body(&body).unwrap();
    drop(body);
    let r1 = rss_kb();
    eprintln!("model: {:?}, rss +{} MB", t.elapsed(), (r1.saturating_sub(r0)) / 1024);
    let t = Instant::now();
    // (START_PROBE_ONE_BY_ONE=1: the start adding the tasks one by one, as it was.)
    let mut inc = match std::env::var_os("START_PROBE_ONE_BY_ONE") {
        Some(_) => one_by_one(&config, &model, &[]),
        None => started(&config, &model),
    };
    let r2 = rss_kb();
    eprintln!("start: {:?}, rss +{} MB", t.elapsed(), (r2.saturating_sub(r1)) / 1024);
    let (records, _) = inc.publish();
    eprintln!(
        "{} records under {} names",
        records.counts().0 + records.counts().1 + records.counts().2,
        records.name_count()
    );
    for (what, bytes) in inc.sizes() {
        eprintln!("  {what}: {:.1} MB", bytes as f64 / 1_048_576.0);
    }
}

/// A state document of `tasks` running tasks of a few apps on six agents, so that several instances
/// of one app share an agent (their `T.F.slave.D` records are one record), some on the host's
/// network (their `T.F.D` records are their agent's address, shared too), some with IPv4 or IPv6
/// container addresses or both (a few addresses given to two tasks), some with discovery ports.
pub(super) fn generated(seed: u64, tasks: usize) -> Vec<u8> {
    use serde_json::json;
    let mut state = seed;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n
    };
    let agent_id = |a: usize| format!("20140916-194712-631065744-5050-4798-S{a}");
    let slaves: Vec<_> = (0..6)
        .map(|a| {
            json!({"id": agent_id(a), "hostname": format!("10.0.0.{}", a + 1),
                "pid": format!("slave(1)@10.0.0.{}:5051", a + 1), "resources": {"ports": "[31000-32000]"}})
        })
        .collect();
    let framework_names = ["marathon", "chronos", "ipv6-framework"];
    let mut frameworks: Vec<_> = framework_names
        .iter()
        .enumerate()
        .map(|(f, name)| {
            json!({"id": format!("fw-{f}"), "name": name, "hostname": "10.1.0.1",
                "pid": format!("scheduler(1)@10.1.0.1:{}", 8080 + f), "tasks": []})
        })
        .collect();
    for i in 0..tasks {
        let app = ["web", "api", "db", "cache", "a.b"][next(5)];
        let f = next(framework_names.len());
        let mut addrs = Vec::new();
        match next(5) {
            0 => {} // the host's network
            1 => addrs.push(json!({"protocol": "IPv4", "ip_address": format!("10.2.0.{}", next(40))})),
            2 => addrs.push(json!({"protocol": "IPv6", "ip_address": format!("fd00::{:x}", next(40))})),
            _ => {
                addrs.push(json!({"protocol": "IPv4", "ip_address": format!("10.3.{}.{}", i / 200, i % 200)}));
                addrs.push(json!({"protocol": "IPv6", "ip_address": format!("fd01::{i:x}")}));
            }
        }
        let mut status = json!({"state": "TASK_RUNNING", "timestamp": 1.7e9});
        if !addrs.is_empty() {
            status["container_status"] = json!({"network_infos": [{"ip_addresses": addrs}]});
        }
        let port = 31000 + next(8);
        let mut task = json!({"id": format!("{app}.{i}"), "name": app, "framework_id": format!("fw-{f}"),
            "slave_id": agent_id(next(6)), "state": "TASK_RUNNING",
            "resources": {"ports": format!("[{port}-{}]", port + next(2))}, "statuses": [status]});
        if next(4) == 0 {
            task["discovery"] = json!({"visibility": "FRAMEWORK", "name": format!("{app}-d"),
                "ports": {"ports": [{"number": port, "name": "http", "protocol": "tcp"}]}});
        }
        if let Some(list) = frameworks[f]["tasks"].as_array_mut() {
            list.push(task);
        }
    }
    let doc = json!({"hostname": "localhost", "leader": "master@127.0.0.1:5050", "pid": "master@127.0.0.1:5050",
        "id": "master-1", "slaves": slaves, "frameworks": frameworks});
    serde_json::to_vec(&doc).unwrap()
}

/// The tasks of the agents `agents` as a failover would carry them from `from`'s snapshot, and one
/// more of a framework and an agent the state no longer has.
fn carried_from(from: &mut Incremental, agents: &[usize]) -> Vec<CarriedTask> {
    let carrying = agents
        .iter()
        .map(|a| (format!("20140916-194712-631065744-5050-4798-S{a}"), Why::Recovering))
        .collect();
    let (previous, _) = from.publish();
    let mut carried = carried::take(&previous, &carrying);
    if let Some(first) = carried.first().cloned() {
        carried.push(CarriedTask {
            framework: "gone-framework".into(),
            agent: "gone-agent".into(),
            id: "gone.1".into(),
            ..first
        });
    }
    carried
}

/// The task table as text, in slot order: framework, agent, name, id, each record (with its PTR
/// mark) in order, and whether (framework, id) finds the slot (carried tasks: none).
fn table_text(inc: &mut Incremental) -> Vec<String> {
    let (records, _) = inc.publish();
    let table = records.tasks().unwrap();
    let mut out = Vec::new();
    for slot in 0..table.slot_bound() {
        let Some(e) = table.get(slot) else { continue };
        let rrs: Vec<String> = table
            .stored_records(&e)
            .iter()
            .map(|r| format!("{} {:?} {}", r.owner, r.data, r.reverse))
            .collect();
        let found = inc.slots.remove(e.framework, &e.id(), table);
        out.push(format!(
            "{slot}: {} {} {} {} {rrs:?} {found:?}",
            e.framework,
            table.agent(&e),
            e.name(),
            e.id()
        ));
    }
    out
}

/// The start in bulk leaves what adding every task one by one leaves: the same names and records,
/// the same counts (each record's tasks, each node's uses), the same task table in the same order,
/// on the fixtures and on generated states with shared records, IPv6 tasks and carried tasks.
#[test]
fn the_bulk_start_counts_as_adding_the_tasks_one_by_one() {
    let mut cases: Vec<(&str, Vec<u8>, bool, usize)> = vec![
        ("fake", FAKE.to_vec(), false, 0),
        ("fake", FAKE.to_vec(), true, 0),
        ("tutorial", TUTORIAL.to_vec(), true, 0),
    ];
    for seed in 1..=6 {
        cases.push((
            "generated",
            generated(seed, 40 + seed as usize * 30),
            seed % 2 == 0,
            seed as usize % 3,
        ));
    }
    // Enough tasks that some counts pass a byte's range (the edit counts' side list).
    cases.push(("many", generated(7, 1500), true, 0));
    for (what, body, ptr_on, carry) in cases {
        let config = config(ptr_on);
        let model = Model::from_body(&body).unwrap();
        let carried = match carry {
            0 => Vec::new(),
            n => carried_from(&mut started(&config, &model), &(0..n).collect::<Vec<_>>()),
        };
        assert!(carry == 0 || carried.len() > 2, "{what}: {} carried", carried.len());
        let mut bulk = started_carrying(&config, &model, &carried);
        let mut each = one_by_one(&config, &model, &carried);
        let (b, _) = bulk.publish();
        let (e, _) = each.publish();
        let case = format!("{what}, PTR {ptr_on}, {} carried", carried.len());
        assert_eq!(b.describe(), e.describe(), "{case}");
        assert_eq!(b.describe_counts(), e.describe_counts(), "{case}");
        assert_eq!(
            (b.name_count(), b.counts(), b.ptr_count()),
            (e.name_count(), e.counts(), e.ptr_count())
        );
        assert_eq!(table_text(&mut bulk), table_text(&mut each), "{case}");
        let shared = b
            .describe_counts()
            .values()
            .flat_map(|(_, rrs)| rrs.clone())
            .filter(|r| !r.ends_with(" 1") && !r.ends_with("pinned"))
            .count();
        if what == "generated" {
            assert!(shared > 0, "{case}: no record that several tasks generate");
        }
        if what == "many" {
            let large = |n: &str| n.parse::<u32>().is_ok_and(|n| n > 253);
            let counts = b.describe_counts();
            let mut all = counts.values().flat_map(|(uses, rrs)| {
                let refs = rrs.iter().filter_map(|r| r.rsplit(' ').next());
                std::iter::once(uses.as_str()).chain(refs)
            });
            assert!(all.any(large), "{case}: no count past 253");
        }
    }
}

/// Taking every task's records out of a bulk start (carried tasks too) leaves exactly the records
/// of no task, counted as at a start without tasks.
#[test]
fn removing_every_task_after_a_bulk_start_leaves_the_pinned_base() {
    for seed in 1..=4 {
        let config = config(seed % 2 == 1);
        let model = Model::from_body(&generated(seed, 150)).unwrap();
        let carried = carried_from(&mut started(&config, &model), &[2]);
        let mut inc = started_carrying(&config, &model, &carried);
        for slot in 0..inc.tasks.slot_bound() {
            inc.remove_task(slot);
        }
        assert_eq!(inc.tasks.entries().count(), 0);
        let (left, _) = inc.publish();
        let (fixed, _) = generate_for_edits(&config, model.header(), &config.masters, &[], &|_| Vec::new()).unwrap();
        let mut base = Records::build(crate::records::zone(&config), &fixed, 1);
        base.start_counting();
        assert_eq!(left.describe(), base.describe(), "seed {seed}");
        assert_eq!(left.describe_counts(), base.describe_counts(), "seed {seed}");
        assert_eq!((left.name_count(), left.counts()), (base.name_count(), base.counts()));
    }
}

/// The table rows as text without their slots, sorted (an edited table reuses slots a start would
/// fill in order): framework, agent, name, id, each record with its PTR mark, whether it is found.
fn table_rows(inc: &mut Incremental) -> Vec<String> {
    let mut rows: Vec<String> = table_text(inc)
        .into_iter()
        .map(|row| {
            let row = row.split_once(": ").map_or(row.as_str(), |(_, rest)| rest);
            // (Whether (framework, id) finds the task, not which slot it is in.)
            match row.rsplit_once(" Some(") {
                Some((head, _)) => format!("{head} found"),
                None => row.to_owned(),
            }
        })
        .collect();
    rows.sort();
    rows
}

/// Tasks that move to another agent (their records were made with the old agent's addresses and
/// tail), change their ports, stop, or start, some sharing records with others: after the edit the
/// snapshot, its counts and its task table are a start's on the new state, and taking every task out
/// again leaves the records of no task.
#[test]
fn edits_of_moved_and_changed_tasks_leave_what_a_start_on_the_new_state_does() {
    for seed in 1..=4u64 {
        let config = config(seed % 2 == 0);
        let body = generated(seed, 120);
        let mut doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let before = Model::from_body(&body).unwrap();
        let mut inc = started(&config, &before);
        let (mut moved, mut n) = (0, 0);
        for f in doc["frameworks"].as_array_mut().unwrap() {
            for t in f["tasks"].as_array_mut().unwrap() {
                n += 1;
                match n % 7 {
                    0 => {
                        let agent = t["slave_id"].as_str().unwrap().to_owned();
                        let (head, a) = agent.rsplit_once('S').unwrap();
                        let next = (a.parse::<usize>().unwrap() + 1) % 6;
                        t["slave_id"] = format!("{head}S{next}").into();
                        moved += 1;
                    }
                    1 => t["resources"]["ports"] = "[40000-40001]".into(),
                    2 => t["state"] = "TASK_KILLED".into(),
                    3 => t["id"] = format!("{}-again", t["id"].as_str().unwrap()).into(),
                    _ => {}
                }
            }
        }
        let after = Model::from_body(&serde_json::to_vec(&doc).unwrap()).unwrap();
        let Changed::Tasks(mut keys) = before.changes_to(&after) else {
            panic!("seed {seed}: not an edit of tasks");
        };
        if seed % 2 == 1 {
            // (Changes merged from events and a poll may name a task twice: it is held once.)
            let again: Vec<_> = keys.iter().step_by(3).cloned().collect();
            keys.extend(again);
        }
        inc.apply(&after, &keys);
        let mut fresh = started(&config, &after);
        let (e, _) = inc.publish();
        let (f, _) = fresh.publish();
        assert!(moved > 5, "seed {seed}: {moved} moved");
        // (An address more tasks name than it answers PTR records for answers with the first names
        // added, not the first generated: such an RRset compares by its size, and reverse names by
        // their answers.)
        let capped = |records: &Records| {
            let mut names = records.describe();
            for rrs in names.values_mut() {
                if rrs.len() == MAX_PTRS_PER_ADDRESS && rrs.iter().all(|r| r.starts_with("PTR ")) {
                    *rrs = vec!["capped".into()];
                }
            }
            names
        };
        let forward = |records: &Records| {
            let mut names = records.describe_counts();
            names.retain(|name, _| !name.ends_with(".arpa."));
            names
        };
        assert_eq!(capped(&e), capped(&f), "seed {seed}");
        assert_eq!(forward(&e), forward(&f), "seed {seed}");
        assert_eq!(
            (e.name_count(), e.counts()),
            (f.name_count(), f.counts()),
            "seed {seed}"
        );
        assert_eq!(table_rows(&mut inc), table_rows(&mut fresh), "seed {seed}");
        for slot in 0..inc.tasks.slot_bound() {
            inc.remove_task(slot);
        }
        let (left, _) = inc.publish();
        let (fixed, _) = generate_for_edits(&config, after.header(), &config.masters, &[], &|_| Vec::new()).unwrap();
        let mut base = Records::build(crate::records::zone(&config), &fixed, 1);
        base.start_counting();
        assert_eq!(left.describe_counts(), base.describe_counts(), "seed {seed}");
    }
}

/// A poll that replaces tasks by new instances of the same apps leaves the snapshot's node ids and the
/// table's slots where they were: the tasks it removes go first, and the new ones take what they freed.
#[test]
fn replaced_tasks_take_the_ids_and_slots_the_old_ones_freed() {
    let config = config(true);
    let body = generated(7, 600);
    let mut doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let mut model = Model::from_body(&body).unwrap();
    let mut inc = started(&config, &model);
    let (first, _) = inc.publish();
    let bounds = (first.node_id_bound(), inc.tasks.slot_bound());
    for round in 0..3 {
        let mut n = 0;
        for f in doc["frameworks"].as_array_mut().unwrap() {
            for t in f["tasks"].as_array_mut().unwrap() {
                n += 1;
                if n % 10 == round {
                    t["id"] = format!("{}-r{round}", t["id"].as_str().unwrap()).into();
                }
            }
        }
        let next = Model::from_body(&serde_json::to_vec(&doc).unwrap()).unwrap();
        let Changed::Tasks(keys) = model.changes_to(&next) else {
            panic!("round {round}: not an edit of tasks");
        };
        assert!(keys.len() > 100, "round {round}: {} changes", keys.len());
        model = next;
        inc.apply(&model, &keys);
        let (records, _) = inc.publish();
        assert_eq!(
            (records.node_id_bound(), inc.tasks.slot_bound()),
            bounds,
            "round {round}"
        );
    }
}

/// Times and sizes edits as a churning poll makes them (`EDIT_PROBE=path`, `EDIT_ROUNDS`, 10 by
/// default): each round replaces a tenth of the tasks (in turn) with a new instance on another agent
/// and port, as `benches/soak-master.py` does, and applies the poll's changes to the snapshot while
/// the last published one is kept (served), as the refresher does (`EDIT_CHURN=runs`: a tenth of each
/// framework's tasks in a row, as the soak master replaces its slots; otherwise every tenth task):
///   EDIT_PROBE=target/bench-states/state-100000-5000-5.json \
///     cargo test --release --lib edit_probe -- --ignored --nocapture
#[test]
#[ignore]
fn edit_probe() {
    let Ok(path) = std::env::var("EDIT_PROBE") else { return };
    let rounds: usize = std::env::var("EDIT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let runs = std::env::var("EDIT_CHURN").is_ok_and(|c| c == "runs");
    let config = Config {
        masters: vec![HostPort::parse("127.0.0.1:5050").unwrap()],
        ..Config::default()
    };
    let body = std::fs::read(&path).unwrap();
    let mut doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let agents: Vec<String> = doc["slaves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let mut model = Model::from_body(&body).unwrap();
    drop(body);
    let mut inc = started(&config, &model);
    let (first, _) = inc.publish();
    let mut served = Arc::new(first);
    crate::refresh::publish::return_free_memory();
    eprintln!("started: rss {} MB", rss_kb() / 1024);
    let mut serial = 0usize;
    for round in 0..rounds {
        let mut n = 0usize;
        for f in doc["frameworks"].as_array_mut().unwrap() {
            let tasks = f["tasks"].as_array_mut().unwrap();
            let len = tasks.len().max(1);
            for (p, t) in tasks.iter_mut().enumerate() {
                n += 1;
                let picked = if runs {
                    p * 10 / len == round % 10
                } else {
                    n % 10 == round % 10
                };
                if !picked {
                    continue;
                }
                serial += 1;
                let id = t["id"].as_str().unwrap();
                let app = id.split('.').next().unwrap().to_owned();
                t["id"] = format!("{app}.{serial:08x}-0000-22e9-8c21-0242ac110002").into();
                t["slave_id"] = agents[(serial * 7919) % agents.len()].clone().into();
                let port = 31000 + serial % 1000;
                t["resources"]["ports"] = format!("[{port}-{}]", port + 1).into();
            }
        }
        let text = serde_json::to_vec(&doc).unwrap();
        let t0 = Instant::now();
        let next = Model::from_body(&text).unwrap();
        drop(text);
        let t1 = Instant::now();
        let changes = model.changes_to(&next);
        let t2 = Instant::now();
        let Changed::Tasks(keys) = changes else {
            panic!("round {round}: not an edit of tasks");
        };
        model = next;
        let before = in_use_mb();
        inc.apply(&model, &keys);
        let t3 = Instant::now();
        let (records, touched) = inc.publish();
        drop(touched);
        let both = in_use_mb();
        let (chunks, shards) = records.shared_with(&served);
        let tasks = match (records.tasks(), served.tasks()) {
            (Some(a), Some(b)) => a.shared_with(b),
            _ => (0, 0),
        };
        served = Arc::new(records);
        let t4 = Instant::now();
        let after = in_use_mb();
        crate::refresh::publish::return_free_memory();
        let t5 = Instant::now();
        eprintln!(
            "round {round}: {} tasks changed; model {:?}, changes {:?}, apply {:?} ({:.1} us a task), publish {:?}, trim {:?}; \
             heap in use {before:.1} -> {both:.1} with both -> {after:.1} MB; shared chunks {chunks:?}, shards {shards:?}, task chunks {tasks:?}; rss {} MB",
            keys.len(),
            t1 - t0,
            t2 - t1,
            t3 - t2,
            (t3 - t2).as_secs_f64() * 1e6 / keys.len().max(1) as f64,
            t4 - t3,
            t5 - t4,
            rss_kb() / 1024
        );
        eprintln!("  shape: {}", inc.edit_shape());
    }
    drop(served);
}
