use super::*;

const FAKE: &[u8] = include_bytes!("../../../tests/fixtures/fake.json");
const TUTORIAL: &[u8] = include_bytes!("../../../tests/fixtures/tutorial-0.21.json");

fn ports(s: &str) -> Vec<u16> {
    parse_ports(s).collect()
}

#[test]
fn fake_json_parses_agents_frameworks_and_tasks() {
    let s = parse(FAKE).unwrap();
    assert_eq!(s.leader, "master@127.0.0.1:5050");
    assert_eq!(s.pid, "master@127.0.0.1:5050");
    assert_eq!(s.hostname, "localhost");
    assert_eq!(s.slaves.len(), 4);
    assert_eq!(s.slaves[3].id, "20140803-194712-3041283216-5050-2116-3");
    assert_eq!(s.slaves[3].pid, "slave(1)@[2001:db8::1]:5051");
    assert_eq!(s.slaves[3].host_port(), ("2001:db8::1", Some(5051)));
    let names: Vec<&str> = s.frameworks.iter().map(|f| &*f.name).collect();
    assert_eq!(
        names,
        [
            "ipv6-framework",
            "chronos with a space AND MIXED CASE-2.0.1",
            "no pid",
            "marathon"
        ]
    );
    assert_eq!(s.frameworks[2].pid, "");
    assert_eq!(s.frameworks[2].host_port(), ("localhost", None));
    assert_eq!(s.frameworks[3].host_port(), ("1.2.3.11", Some(25501)));
    let marathon = &s.frameworks[3];
    assert_eq!(marathon.tasks.len(), 8);
    let liquor = &marathon.tasks[1];
    assert_eq!(liquor.name, "liquor.store");
    assert_eq!(liquor.state, "TASK_RUNNING");
    assert_eq!(liquor.resources.ports, "[31354-31354, 31355-31355]");
    assert_eq!(
        liquor.statuses.len(),
        1,
        "of four, only the latest TASK_RUNNING status is kept"
    );
    assert!(liquor.has_discovery());
    assert_eq!(liquor.discovery.name, "liquor.store");
    assert_eq!(liquor.discovery.visibility, "CLUSTER");
    let dports: Vec<(Option<u16>, &str, &str)> = liquor
        .discovery
        .ports
        .ports
        .iter()
        .map(|p| (p.number, &*p.name, &*p.protocol))
        .collect();
    assert_eq!(dports, [(Some(80), "http", "tcp"), (Some(443), "https", "tcp")]);
    // The latest running status is the second one listed, not the last.
    let latest = liquor.latest_running_status().unwrap();
    assert_eq!(latest.timestamp, 1413572390.09275);
    assert_eq!(latest.labels[1].key, "Docker.NetworkSettings.IPAddress");
    assert_eq!(latest.labels[1].value, "10.3.0.1");
    // Container network infos with IPv4 and IPv6 addresses.
    let toy = &s.frameworks[0].tasks[0];
    let nis = &toy.latest_running_status().unwrap().container_status.network_infos;
    let addrs: Vec<(&str, &str)> = nis
        .iter()
        .flat_map(|n| &n.ip_addresses)
        .map(|a| (&*a.ip_address, &*a.protocol))
        .collect();
    assert_eq!(
        addrs,
        [("12.0.1.3", "IPv4"), ("12.0.1.2", "IPv4"), ("fd01:b::1:8000:2", "IPv6")]
    );
}

#[test]
fn strings_are_borrowed_from_the_body() {
    let s = parse(TUTORIAL).unwrap();
    assert!(matches!(s.leader, Cow::Borrowed(_)));
    assert!(matches!(s.frameworks[0].tasks[1].name, Cow::Borrowed("nginx")));
    assert_eq!(s.frameworks[0].tasks[1].resources.ports, "[31080-31080]");
}

#[test]
fn escaped_strings_are_owned_and_decoded() {
    let s = parse(br#"{"leader":"master@10.0.0.1:5050","frameworks":[{"name":"caf\u00e9 \"x\""}]}"#).unwrap();
    assert!(matches!(s.frameworks[0].name, Cow::Owned(_)));
    assert_eq!(s.frameworks[0].name, "caf\u{e9} \"x\"");
}

#[test]
fn only_the_latest_running_status_is_kept_the_first_of_equals() {
    let doc = br#"{"frameworks": [{"tasks": [{"statuses": [
        {"state": "TASK_RUNNING", "timestamp": 1.0, "labels": [{"key": "n", "value": "1"}]},
        {"state": "TASK_KILLED", "timestamp": 5.0, "labels": [{"key": "n", "value": "2"}]},
        {"state": "TASK_RUNNING", "timestamp": 3.0, "labels": [{"key": "n", "value": "3"}]},
        7,
        {"state": "TASK_RUNNING", "timestamp": 3.0, "labels": [{"key": "n", "value": "4"}]}
    ]}, {"statuses": [{"state": "TASK_STAGING", "timestamp": 1.0}]}, {"statuses": {}}]}]}"#;
    let s = parse(doc).unwrap();
    let tasks = &s.frameworks[0].tasks;
    assert_eq!(tasks[0].statuses.len(), 1);
    assert_eq!(tasks[0].statuses[0].labels[0].value, "3");
    assert!(tasks[1].statuses.is_empty() && tasks[2].statuses.is_empty());
}

#[test]
fn nulls_and_wrong_types_read_as_defaults() {
    let doc = br#"{
        "leader": null, "pid": 5, "hostname": ["x"], "slaves": null,
        "frameworks": [null, 7, "x", {"name": null, "pid": {}, "tasks": {"a": [1, {"b": null}]}},
          {"name": "ok", "tasks": [null, {"id": "t", "resources": null, "statuses": [
            {"state": "TASK_RUNNING", "timestamp": null, "container_status": []},
            {"state": "TASK_RUNNING", "timestamp": "12.5", "labels": null, "container_status": {"network_infos": [
                {"ip_addresses": null, "ip_address": "10.0.0.9"}, null]}}],
            "discovery": {"name": "d", "ports": {"ports": [{"number": "80"}, {"number": 70000},
                {"number": 443.0, "name": null}, {"number": -1}, {"number": true}]}},
            "labels": {"labels": []}, "cpus": 0.5, "mem": 128}]}]
    }"#;
    let s = parse(doc).unwrap();
    assert_eq!(s.leader, "");
    assert_eq!(s.pid, "");
    assert_eq!(s.hostname, "");
    assert!(s.slaves.is_empty());
    // Array elements that are not objects are skipped.
    assert_eq!(s.frameworks.len(), 2);
    assert_eq!(s.frameworks[0].name, "");
    assert_eq!(s.frameworks[0].pid, "");
    assert!(s.frameworks[0].tasks.is_empty());
    let tasks = &s.frameworks[1].tasks;
    assert_eq!(tasks.len(), 1);
    let t = &tasks[0];
    assert_eq!(t.resources.ports, "");
    assert_eq!(t.statuses.len(), 1);
    assert_eq!(t.statuses[0].timestamp, 12.5);
    assert_eq!(t.statuses[0].container_status.network_infos.len(), 1);
    assert_eq!(t.statuses[0].container_status.network_infos[0].ip_address, "10.0.0.9");
    let numbers: Vec<Option<u16>> = t.discovery.ports.ports.iter().map(|p| p.number).collect();
    assert_eq!(numbers, [Some(80), None, Some(443), None, None]);
    assert!(t.labels.is_empty());
    assert_eq!(t.latest_running_status().unwrap().timestamp, 12.5);
}

#[test]
fn deeply_nested_values_are_skipped_or_refused_without_a_crash() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    // Values of the wrong shape are skipped (serde_json skips iteratively, at any depth)...
    for n in [100, 100_000] {
        let doc = format!(
            r#"{{"leader": {0}, "x": {0}, "slaves": {0}, "frameworks": [{{"name": {0}}}]}}"#,
            deep(n)
        );
        let s = parse(doc.as_bytes()).unwrap();
        assert_eq!(s.leader, "");
        assert!(s.slaves.is_empty());
        assert_eq!(s.frameworks.len(), 1);
        assert_eq!(s.frameworks[0].name, "");
    }
    // ...and objects nested past serde_json's depth limit are refused.
    let objects = format!(r#"{{"x": {}{}}}"#, r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    assert!(parse(objects.as_bytes()).is_err());
}

#[test]
fn a_body_that_is_not_json_is_an_error() {
    assert!(parse(b"").is_err());
    assert!(parse(b"<html>").is_err());
    assert!(parse(br#"{"leader": "x""#).is_err());
    assert!(parse(b"[]").is_err());
    assert!(parse(br#"["master@10.0.0.1:5050"]"#).is_err());
    assert!(parse(b"null").is_err());
    assert!(parse(br#"{"leader": "x"} {}"#).is_err());
    assert_eq!(parse(b" {} ").unwrap().leader, "");
}

#[test]
fn ports_expand_ranges_in_order() {
    assert_eq!(ports("[31000-31002, 31005-31005]"), [31000, 31001, 31002, 31005]);
    assert_eq!(ports("[31354-31354, 31355-31355]"), [31354, 31355]);
    assert_eq!(ports("[31737-31738]"), [31737, 31738]);
    assert_eq!(ports("31000-31001"), [31000, 31001]);
    assert_eq!(ports("[80]"), [80]);
    assert_eq!(ports("[65535-65535]"), [65535]);
}

#[test]
fn ports_skip_malformed_parts() {
    assert!(ports("").is_empty());
    assert!(ports("[]").is_empty());
    assert!(ports("[").is_empty());
    assert!(ports("]").is_empty());
    assert!(ports("[,,]").is_empty());
    assert_eq!(
        ports("[a-b, 10-11, 5-3, 70000-70001, -, 1-2-3, 20-x, 30]"),
        [10, 11, 30]
    );
    assert_eq!(ports("[ 7 - 8 ,9]"), [7, 8, 9]);
    assert_eq!(ports("[65534-65535]"), [65534, 65535]);
    assert_eq!(ports("[\u{1F600}-5, 6-6]"), [6]);
}

/// Parts of a `ports` text read a byte at a time read as `str::trim` and `str::parse` read them.
#[test]
fn ascii_port_ranges_read_as_the_text_reads() {
    let mut rng = crate::random::TestRng(5);
    let pieces = [
        "0", "1", "7", "65535", "65536", "007", "+", "-", " ", "\t", "\x0b", "\x1c", "x", "99999", "+8",
    ];
    for _ in 0..20_000 {
        let part: String = (0..rng.below(6)).map(|_| rng.pick(&pieces)).collect();
        assert_eq!(Ports::range(&part), Ports::range_of_text(&part), "{part:?}");
    }
    assert_eq!(Ports::range(" +80 - 0081 "), Some((80, 81)));
    assert_eq!(Ports::range("\x0b5\x0c"), Some((5, 5)));
    assert_eq!(
        Ports::range("\u{a0}5"),
        Some((5, 5)),
        "non-ASCII white space is trimmed too"
    );
}

#[test]
fn ports_are_capped_per_task() {
    assert_eq!(parse_ports("[1-65535]").count(), MAX_PORTS_PER_TASK);
    let v = ports("[1-1000, 2000-3000]");
    assert_eq!(v.len(), MAX_PORTS_PER_TASK);
    assert_eq!(v[999], 1000);
    assert_eq!(v[1000], 2000);
    assert_eq!(*v.last().unwrap(), 2023);
}

#[test]
fn all_ports_are_the_text_ranges_then_the_numeric_ones_capped_together() {
    let r = Resources {
        ports: Cow::Borrowed("[80-81]"),
        port_ranges: vec![(31000, 31001), (9, 5), (443, 443)],
    };
    assert_eq!(r.all_ports().collect::<Vec<_>>(), [80, 81, 31000, 31001, 443]);
    let numeric_only = Resources {
        port_ranges: vec![(1, 65535)],
        ..Resources::default()
    };
    assert_eq!(numeric_only.all_ports().count(), MAX_PORTS_PER_TASK);
    assert_eq!(numeric_only.all_ports().last(), Some(1024));
    let both = Resources {
        ports: Cow::Borrowed("[1-1000]"),
        port_ranges: vec![(2000, 3000)],
    };
    assert_eq!(both.all_ports().count(), MAX_PORTS_PER_TASK);
    assert_eq!(both.all_ports().last(), Some(2023));
    assert_eq!(Resources::default().all_ports().count(), 0);
}

#[test]
fn all_port_ranges_hold_the_ports_read_one_by_one() {
    let texts = [
        "",
        "[31000-31002, 31005-31005]",
        "[a-b, 10-11, 5-3, 70000-70001, -, 1-2-3, 20-x, 30]",
        "[ 7 - 8 ,9]",
        "[1-1000, 2000-3000]",
        "[1-65535]",
        "[1-1023, 5-6]",
        "[1-1024, 5-6]",
        "[65535-65535]",
    ];
    let numbers = [
        vec![],
        vec![(9, 5), (443, 443)],
        vec![(1, 65535)],
        vec![(2000, 3000), (7, 7)],
    ];
    for ports in texts {
        for port_ranges in &numbers {
            let r = Resources {
                ports: Cow::Borrowed(ports),
                port_ranges: port_ranges.clone(),
            };
            let ranges: Vec<(u16, u16)> = r.all_port_ranges().collect();
            assert!(ranges.iter().all(|(lo, hi)| lo <= hi), "{ranges:?}");
            // Port by port, as the rule says: the text's ports (read one at a time), then every
            // numeric range whose low end is not above its high end, the first 1024 of them.
            let numeric = port_ranges
                .iter()
                .filter(|(lo, hi)| lo <= hi)
                .flat_map(|&(lo, hi)| lo..=hi);
            let expected: Vec<u16> = parse_ports(ports).chain(numeric).take(MAX_PORTS_PER_TASK).collect();
            assert_eq!(r.all_ports().collect::<Vec<_>>(), expected, "{ports} {port_ranges:?}");
        }
    }
}

#[test]
fn an_agent_without_a_pid_is_at_its_hostname_and_port() {
    let agent = |pid: &'static str, port| Slave {
        pid: Cow::Borrowed(pid),
        hostname: Cow::Borrowed("agent1"),
        port,
        ..Slave::default()
    };
    assert_eq!(agent("", Some(5051)).host_port(), ("agent1", Some(5051)));
    assert_eq!(agent("", None).host_port(), ("agent1", None));
    assert_eq!(
        agent("slave(1)@10.0.0.5:5052", Some(5051)).host_port(),
        ("10.0.0.5", Some(5052)),
        "the pid comes first"
    );
    let s = parse(br#"{"slaves": [{"id": "a", "hostname": "h", "port": 5051}]}"#).unwrap();
    assert_eq!(
        s.slaves[0].host_port(),
        ("h", None),
        "a state document's `port` is not read"
    );
}

#[test]
fn recovered_slaves_absent_is_none_and_present_is_a_list() {
    let absent = parse(br#"{"leader":"master@10.0.0.1:5050","elected_time":1700000000.5}"#).unwrap();
    assert_eq!(absent.recovered_slaves, None);
    assert_eq!(absent.elected_time, 1_700_000_000.5);
    let empty = parse(br#"{"recovered_slaves":[]}"#).unwrap();
    assert_eq!(empty.recovered_slaves, Some(Vec::new()), "an empty list is an answer");
    let body = br#"{"recovered_slaves":[{"id":"a-S2","hostname":"10.0.0.6","port":5051,"resources":{}}],
        "slaves":[{"id":"a-S1","pid":"slave(1)@10.0.0.5:5051"}]}"#;
    let listed = parse_header(body).unwrap();
    let recovered = listed.recovered_slaves.unwrap();
    assert_eq!((&*recovered[0].id, &*recovered[0].hostname), ("a-S2", "10.0.0.6"));
    assert_eq!(listed.slaves.len(), 1);
}

#[test]
fn task_labels_and_discovery_visibility_are_read() {
    // As the master writes them: labels an array of `{key, value}`, the visibility the enum's name.
    let doc = br#"{"frameworks": [{"name": "f", "tasks": [
        {"id": "a", "labels": [{"key": "dns", "value": "off"}, {"key": "private"}],
         "discovery": {"visibility": "EXTERNAL", "name": "web"}},
        {"id": "b", "discovery": {"visibility": 2}, "labels": [null, {"key": 5, "value": "x"}]}]}]}"#;
    let s = parse(doc).unwrap();
    let (a, b) = (&s.frameworks[0].tasks[0], &s.frameworks[0].tasks[1]);
    let labels: Vec<(&str, &str)> = a.labels.iter().map(|l| (&*l.key, &*l.value)).collect();
    assert_eq!(labels, [("dns", "off"), ("private", "")]);
    assert_eq!(a.discovery.visibility, "EXTERNAL");
    assert_eq!(b.discovery.visibility, "", "not a string: none");
    assert_eq!(b.labels.len(), 1);
    assert_eq!(b.labels[0].key, "");
}

#[test]
fn an_agents_fault_domain_is_its_zone_and_odd_domains_are_none() {
    let doc = br#"{"slaves": [
        {"id": "a", "domain": {"fault_domain": {"region": {"name": "eu"}, "zone": {"name": "eu-1a"}}}},
        {"id": "b"},
        {"id": "c", "domain": null},
        {"id": "d", "domain": {"fault_domain": {"region": {"name": "eu"}}}},
        {"id": "e", "domain": {"fault_domain": {"region": 7, "zone": {"name": "z"}}}}
    ]}"#;
    let s = parse(doc).unwrap();
    let zones: Vec<_> = s.slaves.iter().map(|a| a.domain.zone()).collect();
    assert_eq!(zones, [Some(("eu", "eu-1a")), None, None, None, Some(("", "z"))]);
    assert_eq!(s.slaves[0].domain.to_owned_domain(), s.slaves[0].domain);
}
