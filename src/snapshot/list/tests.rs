use super::*;

#[test]
fn entries_stay_small() {
    // (With the chain's 4 bytes apart, freed by `forget_names`.)
    assert_eq!(std::mem::size_of::<Entry>(), 12);
}

/// A list whose names are forgotten is still read by position (name ids, data, tasks, PTR marks)
/// and adds no record, however it is asked to.
#[test]
fn a_list_without_its_names_reads_by_position_and_adds_nothing() {
    let mut list = RecordList::new();
    let fw = list.add_framework("marathon");
    list.begin_task_on(fw, "web", "web.1", "agent-1");
    assert!(list.push_ip_reverse("web.marathon.mesos.", "10.0.0.1".parse().unwrap()));
    assert!(list.push(
        "_web._tcp.marathon.mesos.",
        RData::Srv {
            target: "web.marathon.mesos.".into(),
            port: 80
        }
    ));
    list.end_task();
    let before: Vec<_> = (0..list.len() as u32).map(|i| list.entry(i)).collect();
    let web = list.intern("web.marathon.mesos.");
    list.forget_names();
    let after: Vec<_> = (0..list.len() as u32).map(|i| list.entry(i)).collect();
    assert_eq!(after, before);
    assert_eq!(list.reverse_indexed().map(|(i, ..)| i).collect::<Vec<_>>(), [0]);
    assert_eq!(list.tasks.records.first(), Some(&(0, 2)));
    assert_eq!(list.tasks().next().map(|t| (t.name, t.id)), Some(("web", "web.1")));
    assert_eq!(list.task_agent(0), "agent-1");
    assert!(!list.push("new.mesos.", RData::A("10.0.0.2".parse().unwrap())));
    assert!(!list.push_ip("web.marathon.mesos.", "10.0.0.1".parse().unwrap()));
    assert_eq!(list.intern("web.marathon.mesos."), None);
    if let Some(web) = web {
        assert!(
            !list.push_ip_at(web, "10.0.0.3".parse().unwrap()),
            "an id from before adds nothing"
        );
    }
    assert_eq!(list.len(), 2);
}

#[test]
fn aaaa_records_are_kept_and_deduplicated_through_the_v6_table() {
    let mut list = RecordList::new();
    let (a, b) = ("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap());
    assert!(list.push("t.mesos.", RData::Aaaa(a)));
    assert!(list.push("t.mesos.", RData::Aaaa(b)));
    assert!(!list.push("t.mesos.", RData::Aaaa(a)), "a duplicate");
    assert!(list.push("u.mesos.", RData::Aaaa(a)), "another name");
    assert!(list.contains("t.mesos.", &RData::Aaaa(b)));
    let data: Vec<RData> = list.iter().map(|r| r.data).collect();
    assert_eq!(data, [RData::Aaaa(a), RData::Aaaa(b), RData::Aaaa(a)]);
}

#[test]
fn a_name_with_many_records_still_refuses_each_duplicate() {
    let mut list = RecordList::new();
    let v4 = |i: u32| RData::A(Ipv4Addr::from(0x0a00_0000 + i));
    let v6 = |i: u32| RData::Aaaa(Ipv6Addr::from(0xfd00_u128 << 112 | u128::from(i)));
    for i in 0..100 {
        assert!(list.push("slave.mesos.", v4(i)));
        assert!(list.push("slave.mesos.", v6(i)));
        // A repeat of the first, of the newest, and of one in the middle.
        assert!(!list.push("slave.mesos.", v4(0)));
        assert!(!list.push("slave.mesos.", v4(i)));
        assert!(!list.push("slave.mesos.", v6(i / 2)));
    }
    assert!(
        list.push("slave.mesos.", v4(100)),
        "a new address after the chain grew long"
    );
    assert!(list.push("other.mesos.", v4(0)), "the same address at another name");
    assert_eq!(list.len(), 202);
    assert!(list.contains("slave.mesos.", &v6(99)));
}

#[test]
fn srv_records_are_deduplicated_within_a_task_and_across_tasks() {
    let mut list = RecordList::new();
    let fw = list.add_framework("marathon");
    let srv = "_web._tcp.marathon.slave.mesos.";
    list.begin_task(fw, "web", "web.1");
    let (name, target) = (
        list.intern(srv).unwrap(),
        list.intern("web-1.marathon.slave.mesos.").unwrap(),
    );
    assert!(list.push_srv_at(name, target, 31000));
    assert!(list.push_srv_at(name, target, 31001));
    assert!(
        !list.push_srv_at(name, target, 31000),
        "a port listed twice in one task"
    );
    list.end_task();
    list.begin_task(fw, "web", "web.2");
    let other = list.intern("web-2.marathon.slave.mesos.").unwrap();
    assert!(list.push_srv_at(name, other, 31000), "a new target under a shared name");
    assert!(
        !list.push_srv_at(name, target, 31001),
        "a target named by an earlier task"
    );
    assert!(!list.push_srv(srv, "web-2.marathon.slave.mesos.", 31000));
    list.end_task();
    let ports: Vec<u16> = list
        .iter()
        .filter_map(|r| match r.data {
            RData::Srv { port, .. } => Some(port),
            _ => None,
        })
        .collect();
    assert_eq!(ports, [31000, 31001, 31000]);
}

#[test]
fn task_provenance_lists_each_task_with_its_own_records() {
    let mut list = RecordList::new();
    list.push("leader.mesos.", RData::A(Ipv4Addr::new(127, 0, 0, 1)));
    let (marathon, chronos) = (list.add_framework("marathon"), list.add_framework("chronos"));
    let (idle, marathon_again) = (list.add_framework("idle"), list.add_framework("marathon"));
    list.begin_task(marathon, "web", "web.1");
    list.push("web.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1)));
    list.end_task();
    list.begin_task(chronos, "job", "job.7");
    list.push("job.chronos.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 2)));
    // A record the first task already has is not listed again.
    list.push("web.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1)));
    list.end_task();
    list.begin_task(marathon_again, "web", "web.2");
    list.end_task();
    // A framework index that was never given is no task.
    list.begin_task(99, "ghost", "ghost.1");
    list.push("ghost.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 3)));
    list.end_task();
    assert_eq!(idle, 2);
    assert_eq!(
        list.frameworks().collect::<Vec<_>>(),
        ["marathon", "chronos", "idle", "marathon"]
    );
    let tasks: Vec<TaskRef<'_>> = list.tasks().collect();
    let t = |framework_index, framework, name, id| TaskRef {
        framework_index,
        framework,
        name,
        id,
    };
    assert_eq!(
        tasks,
        [
            t(0, "marathon", "web", "web.1"),
            t(1, "chronos", "job", "job.7"),
            t(3, "marathon", "web", "web.2")
        ]
    );
    let owned: Vec<(usize, String)> = list.task_records().map(|(i, r)| (i, r.name)).collect();
    assert_eq!(
        owned,
        [
            (0, "web.marathon.mesos.".to_owned()),
            (1, "job.chronos.mesos.".to_owned())
        ]
    );
}

#[test]
fn tasks_keyed_by_agent_name_the_agents_their_ids_do() {
    let mut keyed = RecordList::new();
    let mut by_id = RecordList::new();
    for list in [&mut keyed, &mut by_id] {
        list.add_framework("f");
    }
    let tasks = [
        ("a", "S1", 7),
        ("b", "S2", 0),
        ("c", "S1", 7),
        ("d", "S3", 1),
        ("e", "S2", 0),
    ];
    for (id, agent, key) in tasks {
        keyed.begin_task_keyed(0, "t", id, (agent, Some(key)));
        keyed.end_task();
        by_id.begin_task_on(0, "t", id, agent);
        by_id.end_task();
    }
    // A task without a key finds its agent by id among the keyed ones.
    keyed.begin_task_on(0, "t", "f", "S3");
    keyed.end_task();
    by_id.begin_task_on(0, "t", "f", "S3");
    by_id.end_task();
    assert_eq!(keyed.task_agents(), by_id.task_agents());
    let agents: Vec<&str> = (0..6).map(|i| keyed.task_agent(i)).collect();
    assert_eq!(agents, ["S1", "S2", "S1", "S3", "S2", "S3"]);
}

/// The filter beside each name's chain rules a walk out only for data its records do not hold:
/// across many names of a few records each (filters with bits in common, some full), every repeat
/// is still refused and every new record added.
#[test]
fn the_chain_filter_misses_no_repeat() {
    let mut list = RecordList::new();
    let v4 = |i: u32| RData::A(Ipv4Addr::from(0x0a00_0000 + i * 7));
    let v6 = |i: u32| RData::Aaaa(Ipv6Addr::from(0xfd00_u128 << 112 | u128::from(i) << 64));
    let srv = |i: u32| RData::Srv {
        target: format!("t{}.mesos.", i % 13),
        port: 31000 + (i % 5) as u16,
    };
    let names: Vec<String> = (0..500).map(|n| format!("n{n}.mesos.")).collect();
    let records = |n: u32| (0..n % 40).flat_map(move |i| [v4(n + i), v6(n * 3 + i), srv(n + i)]);
    let mut added = 0;
    for (n, name) in (0u32..).zip(&names) {
        for r in records(n) {
            added += usize::from(list.push(name, r));
        }
    }
    assert_eq!(list.len(), added);
    for (n, name) in (0u32..).zip(&names) {
        for r in records(n) {
            assert!(!list.push(name, r.clone()), "{name} {r:?} again");
            assert!(list.contains(name, &r));
        }
        assert!(list.push(name, v4(100_000 + n)), "a new address at {name}");
    }
    let ids = names.iter().filter_map(|n| list.names.find(n.as_bytes()));
    for id in ids {
        let chain = list.last.get(id).unwrap();
        let mut at = chain.head;
        while let Some((_, data)) = list.entry(at) {
            let bits = Chain::bits(data);
            assert_eq!(chain.seen & bits, bits, "every record's bits are in its name's filter");
            assert!(bits.count_ones() >= 1 && bits.count_ones() <= 2);
            at = list.prev_of(at);
        }
    }
}

/// A sealed list keeps its chains' heads alone (4 bytes a name, not 8), and still refuses every
/// duplicate, of a record from before the seal or after, and adds what is new.
#[test]
fn a_sealed_list_drops_the_chain_filters_and_still_refuses_duplicates() {
    let mut list = RecordList::new();
    let v4 = |i: u32| RData::A(Ipv4Addr::from(0x0a00_0000 + i));
    let names: Vec<String> = (0..1000).map(|i| format!("t{i}.marathon.mesos.")).collect();
    for (i, name) in (0u32..).zip(&names) {
        assert!(list.push(name, v4(i)));
        assert!(list.push(name, v4(i + 1)));
    }
    let before = list.last.heap_bytes();
    list.seal();
    assert!(
        list.last.heap_bytes() * 2 <= before,
        "{} of {before} bytes",
        list.last.heap_bytes()
    );
    assert!(list.contains(&names[7], &v4(8)));
    assert!(!list.push(&names[7], v4(7)), "a record from before the seal");
    assert!(list.push(&names[7], v4(1000)), "a new record");
    assert!(!list.push(&names[7], v4(1000)), "the new record again");
    assert!(!list.push(&names[8], v4(9)), "another name's, from before the seal");
    assert!(list.push("new.mesos.", v4(1)), "a new name");
    assert!(!list.push("new.mesos.", v4(1)));
    assert_eq!(list.len(), 2002);
}
