//! Unit tests of [`super::decode`]: each event type, the v1 forms in the state types, odd input.

use super::*;
use serde_json::json;

fn decode_json(v: serde_json::Value) -> Event {
    decode(v.to_string().as_bytes()).unwrap()
}

/// A v1 task as a Mesos 1.x master sends it.
pub(crate) fn v1_task() -> serde_json::Value {
    json!({
        "name": "nginx",
        "task_id": {"value": "nginx.1"},
        "framework_id": {"value": "fw-1"},
        "agent_id": {"value": "a-S1"},
        "state": "TASK_RUNNING",
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
            {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31001}, {"begin": 31005, "end": 31005}]}}
        ],
        "statuses": [{
            "task_id": {"value": "nginx.1"}, "state": "TASK_RUNNING", "timestamp": 1.5e9,
            "labels": {"labels": [{"key": "Docker.NetworkSettings.IPAddress", "value": "172.17.0.2"}]},
            "container_status": {"network_infos": [{"ip_addresses": [{"protocol": "IPv4", "ip_address": "10.0.0.9"}]}]}
        }],
        "discovery": {"visibility": "FRAMEWORK", "name": "web", "ports": {"ports": [{"number": 80, "name": "http", "protocol": "tcp"}]}},
        "labels": {"labels": [{"key": "k", "value": "v"}]}
    })
}

#[test]
fn subscribed_carries_frameworks_agents_tasks_and_heartbeat() {
    let e = decode_json(json!({"type": "SUBSCRIBED", "subscribed": {
        "get_state": {
            "get_tasks": {"tasks": [v1_task()], "completed_tasks": [v1_task()]},
            "get_frameworks": {"frameworks": [{"framework_info": {"id": {"value": "fw-1"}, "name": "marathon", "hostname": "10.0.0.1", "user": "root"}, "active": true}]},
            "get_agents": {"agents": [
                {"agent_info": {"id": {"value": "a-S1"}, "hostname": "10.0.0.5", "port": 5051}, "pid": "slave(1)@10.0.0.5:5051", "active": true},
                {"agent_info": {"id": {"value": "a-S2"}, "hostname": "10.0.0.6", "port": 5051}},
                {"agent_info": {"id": {"value": "a-S3"}, "hostname": "2001:db8::6", "port": 5051}}
            ]}
        },
        "heartbeat_interval_seconds": 15
    }}));
    let Event::Subscribed {
        frameworks,
        agents,
        tasks,
        heartbeat,
        recovered,
    } = e
    else {
        panic!("{e:?}")
    };
    assert_eq!(heartbeat, Some(Duration::from_secs(15)));
    assert_eq!(recovered, None, "no recovered_agents field");
    assert_eq!(
        (frameworks.len(), &*frameworks[0].id, &*frameworks[0].name),
        (1, "fw-1", "marathon")
    );
    assert_eq!(&*frameworks[0].hostname, "10.0.0.1");
    assert_eq!(agents.len(), 3);
    assert_eq!(&*agents[0].pid, "slave(1)@10.0.0.5:5051");
    assert_eq!(agents[0].host_port(), ("10.0.0.5", Some(5051)));
    assert_eq!(&*agents[1].pid, "", "no pid is made up");
    assert_eq!(
        agents[1].host_port(),
        ("10.0.0.6", Some(5051)),
        "from hostname and port"
    );
    assert_eq!(agents[2].host_port(), ("2001:db8::6", Some(5051)));
    assert_eq!(tasks.len(), 1, "completed tasks are not kept");
    let tasks = tasks.unpacked();
    let t = &tasks[0];
    assert_eq!(
        (&*t.id, &*t.name, &*t.framework_id, &*t.slave_id),
        ("nginx.1", "nginx", "fw-1", "a-S1")
    );
    assert_eq!(&*t.state, "TASK_RUNNING");
    assert_eq!(t.resources.port_ranges, [(31000, 31001), (31005, 31005)]);
    assert_eq!(t.resources.all_ports().collect::<Vec<_>>(), [31000, 31001, 31005]);
    assert_eq!(&*t.resources.ports, "", "no ports text is made up");
    assert_eq!(t.statuses[0].timestamp, 1.5e9);
    assert_eq!(&*t.statuses[0].labels[0].value, "172.17.0.2");
    assert_eq!(
        &*t.statuses[0].container_status.network_infos[0].ip_addresses[0].ip_address,
        "10.0.0.9"
    );
    assert_eq!(&*t.discovery.name, "web");
    assert_eq!(&*t.discovery.visibility, "FRAMEWORK");
    assert_eq!(t.discovery.ports.ports[0].number, Some(80));
    assert_eq!(&*t.labels[0].key, "k");
    assert_eq!(&*t.labels[0].value, "v");
}

#[test]
fn task_updated_takes_ids_from_the_status() {
    let e = decode_json(json!({"type": "TASK_UPDATED", "task_updated": {
        "framework_id": {"value": "fw-1"},
        "state": "TASK_KILLED",
        "status": {"task_id": {"value": "nginx.1"}, "agent_id": {"value": "a-S1"}, "state": "TASK_KILLED", "timestamp": 2.0}
    }}));
    let Event::TaskUpdated(u) = e else { panic!("{e:?}") };
    assert_eq!(
        (&*u.framework_id, &*u.task_id, &*u.state),
        ("fw-1", "nginx.1", "TASK_KILLED")
    );
    assert_eq!((&*u.status.state, u.status.timestamp), ("TASK_KILLED", 2.0));
    // The brief's shape: task_id beside the status, state only at the top.
    let e = decode_json(json!({"type": "TASK_UPDATED", "task_updated": {
        "task_id": {"value": "t"}, "framework_id": {"value": "f"}, "state": "TASK_RUNNING", "status": {}
    }}));
    let Event::TaskUpdated(u) = e else { panic!("{e:?}") };
    assert_eq!(
        (&*u.task_id, &*u.state, &*u.status.state),
        ("t", "TASK_RUNNING", "TASK_RUNNING")
    );
}

#[test]
fn small_events_decode() {
    let e = decode_json(json!({"type": "TASK_ADDED", "task_added": {"task": v1_task()}}));
    assert!(matches!(&e, Event::TaskAdded(t) if t.id == "nginx.1"), "{e:?}");
    let e = decode_json(
        json!({"type": "AGENT_ADDED", "agent_added": {"agent": {"agent_info": {"id": {"value": "a"}, "hostname": "h"}, "pid": "slave(1)@1.2.3.4:5051"}}}),
    );
    assert!(
        matches!(&e, Event::AgentAdded(s) if s.id == "a" && s.pid == "slave(1)@1.2.3.4:5051"),
        "{e:?}"
    );
    let e = decode_json(json!({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": "a"}}}));
    assert!(
        matches!(&e, Event::AgentRemoved { agent_id } if agent_id == "a"),
        "{e:?}"
    );
    for kind in ["FRAMEWORK_ADDED", "FRAMEWORK_UPDATED"] {
        let key = kind.to_ascii_lowercase();
        let e = decode_json(
            json!({"type": kind, key: {"framework": {"framework_info": {"id": {"value": "f"}, "name": "n"}}}}),
        );
        assert!(
            matches!(&e, Event::FrameworkAdded(f) if f.id == "f" && f.name == "n"),
            "{e:?}"
        );
    }
    let e = decode_json(
        json!({"type": "FRAMEWORK_REMOVED", "framework_removed": {"framework_info": {"id": {"value": "f"}}}}),
    );
    assert!(
        matches!(&e, Event::FrameworkRemoved { framework_id } if framework_id == "f"),
        "{e:?}"
    );
    assert!(matches!(decode_json(json!({"type": "HEARTBEAT"})), Event::Heartbeat));
    assert!(matches!(decode_json(json!({"type": "AGENT_UPDATED"})), Event::Other(k) if k == "AGENT_UPDATED"));
}

#[test]
fn odd_fields_read_as_empty_and_non_events_are_errors() {
    let e = decode_json(json!({"type": "TASK_ADDED", "task_added": {"task": {
        "task_id": {"value": "t"}, "name": 5, "resources": "x", "statuses": [1, null, {"state": []}],
        "labels": [], "discovery": null
    }}}));
    let Event::TaskAdded(t) = e else { panic!("{e:?}") };
    assert_eq!((&*t.id, &*t.name, &*t.resources.ports), ("t", "", ""));
    assert!(t.resources.port_ranges.is_empty());
    assert_eq!(t.statuses.len(), 1);
    let e = decode_json(json!({"type": "TASK_ADDED", "task_added": {"task": {"resources": [
        {"name": "ports", "ranges": {"range": [{"begin": 5, "end": 3}, {"begin": 7}, {"begin": 70000, "end": 70001}, 1]}},
        {"name": "ports", "ranges": {"range": [{"begin": "8", "end": 9.0}]}},
        {"name": "disk", "ranges": {"range": [{"begin": 1, "end": 2}]}},
        {"name": "ports", "ranges": []}
    ]}}}));
    let Event::TaskAdded(t) = e else { panic!("{e:?}") };
    assert_eq!(
        t.resources.port_ranges,
        [(5, 3), (8, 9)],
        "only whole ranges of `ports`"
    );
    assert_eq!(t.resources.all_ports().collect::<Vec<_>>(), [8, 9]);
    assert!(matches!(decode(br#"{"type": "HEART\u0042EAT"}"#), Ok(Event::Heartbeat)));
    for bad in [
        &b"[]"[..],
        b"{}",
        b"not json",
        b"{\"type\":\"HEARTBEAT\"} x",
        b"",
        b"{\"type\":\"HEART\xffBEAT\"}",
    ] {
        assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn a_status_carries_its_health_check_result_and_none_without_one() {
    let healthy = |status: serde_json::Value| {
        let e = decode_json(json!({"type": "TASK_UPDATED", "task_updated": {
            "framework_id": {"value": "f"}, "state": "TASK_RUNNING", "status": status
        }}));
        let Event::TaskUpdated(u) = e else { panic!("{e:?}") };
        u.status.healthy
    };
    assert_eq!(
        healthy(json!({"task_id": {"value": "t"}, "healthy": false})),
        Some(false)
    );
    assert_eq!(healthy(json!({"task_id": {"value": "t"}, "healthy": true})), Some(true));
    assert_eq!(healthy(json!({"task_id": {"value": "t"}})), None);
    assert_eq!(healthy(json!({"task_id": {"value": "t"}, "healthy": "no"})), None);
    // And in a task's statuses (SUBSCRIBED, TASK_ADDED).
    let mut task = v1_task();
    task["statuses"][0]["healthy"] = json!(false);
    let e = decode_json(json!({"type": "TASK_ADDED", "task_added": {"task": task}}));
    let Event::TaskAdded(t) = e else { panic!("{e:?}") };
    assert_eq!(t.statuses[0].healthy, Some(false));
}

#[test]
fn a_subscribed_bigger_than_the_read_buffer_is_decoded_from_the_stream_and_the_next_event_follows() {
    use crate::mesos::operator::recordio::{encode, skip, Frames};
    use std::io::BufReader;
    let tasks: Vec<serde_json::Value> = (0..2000)
        .map(|i| {
            let mut t = v1_task();
            t["task_id"]["value"] = json!(format!("nginx.{i}"));
            t
        })
        .collect();
    let subscribed = json!({"type": "SUBSCRIBED", "subscribed": {"get_state": {"get_tasks": {"tasks": tasks}}}});
    let record = subscribed.to_string().into_bytes();
    assert!(record.len() > 1 << 20, "{} bytes", record.len());
    let stream = [encode(&record), encode(br#"{"type":"HEARTBEAT"}"#)].concat();
    let mut frames = Frames::new(BufReader::with_capacity(4096, &stream[..]), u64::MAX);
    let length = frames.next_length().unwrap().unwrap();
    let mut body = frames.body(length);
    match decode_from(&mut body).unwrap() {
        Event::Subscribed { tasks, .. } => {
            assert_eq!(tasks.len(), 2000);
            let tasks = tasks.unpacked();
            assert_eq!(tasks[1999].id, "nginx.1999");
            assert_eq!(tasks[1999].resources.port_ranges, [(31000, 31001), (31005, 31005)]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(body.left(), 0, "the record is read to its end");
    skip(&mut body).unwrap();
    let length = frames.next_length().unwrap().unwrap();
    assert!(matches!(decode_from(frames.body(length)), Ok(Event::Heartbeat)));

    // Cut off inside the record: a reading error, not a malformed event.
    let cut = &stream[..stream.len() / 2];
    let mut frames = Frames::new(BufReader::with_capacity(4096, cut), u64::MAX);
    let length = frames.next_length().unwrap().unwrap();
    let err = decode_from(frames.body(length)).unwrap_err();
    assert!(err.is_io(), "{err}");
    let bad = decode(br#"{"type":"#).unwrap_err();
    assert!(!bad.is_io(), "{bad}");
}

#[test]
fn subscribed_reads_recovered_agents_as_agent_infos() {
    let e = decode_json(
        json!({"type": "SUBSCRIBED", "subscribed": {"get_state": {"get_agents": {
            "agents": [{"agent_info": {"id": {"value": "a-S1"}, "hostname": "10.0.0.5", "port": 5051}}],
            "recovered_agents": [{"id": {"value": "a-S2"}, "hostname": "10.0.0.6", "port": 5052}, 7]
        }}}}),
    );
    let Event::Subscribed { agents, recovered, .. } = e else {
        panic!("{e:?}")
    };
    assert_eq!(agents.len(), 1);
    let recovered = recovered.expect("the field is there");
    assert_eq!(recovered.len(), 1, "a non-object entry is skipped");
    assert_eq!((&*recovered[0].id, &*recovered[0].hostname), ("a-S2", "10.0.0.6"));
    assert_eq!(recovered[0].host_port(), ("10.0.0.6", Some(5052)));
}

#[test]
fn agent_infos_carry_their_fault_domain_zone() {
    let domain = json!({"fault_domain": {"region": {"name": "eu"}, "zone": {"name": "eu-1a"}}});
    let e = decode_json(json!({"type": "AGENT_ADDED", "agent_added": {"agent": {
        "agent_info": {"id": {"value": "a"}, "hostname": "h", "domain": domain}, "pid": "slave(1)@1.2.3.4:5051"}}}));
    assert!(
        matches!(&e, Event::AgentAdded(s) if s.domain.zone() == Some(("eu", "eu-1a"))),
        "{e:?}"
    );
    let e = decode_json(
        json!({"type": "SUBSCRIBED", "subscribed": {"get_state": {"get_agents": {
        "agents": [{"agent_info": {"id": {"value": "a"}, "domain": domain}}, {"agent_info": {"id": {"value": "b"}, "domain": null}}],
        "recovered_agents": [{"id": {"value": "c"}, "domain": domain}]}}}}),
    );
    let Event::Subscribed { agents, recovered, .. } = e else {
        panic!("{e:?}")
    };
    let zones: Vec<_> = agents.iter().map(|a| a.domain.zone()).collect();
    assert_eq!(
        zones,
        [Some(("eu", "eu-1a")), None],
        "an agent without a domain has no zone"
    );
    assert_eq!(recovered.unwrap()[0].domain.zone(), Some(("eu", "eu-1a")));
}
