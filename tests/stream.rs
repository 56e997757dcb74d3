//! End-to-end tests of `"stateSource": "stream"`: the real binary against a fake Mesos 1.x master that
//! serves `/master/state` and streams scripted operator-API events (`common::stream_master`).

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::stream_master::*;
use common::*;
use serde_json::json;

fn name(task: &str) -> String {
    format!("{task}.marathon.mesos")
}

/// Starts a stream-mode server and waits until it has records and a subscription.
fn stream_server(master: &StreamMaster, refresh_seconds: u64) -> Server {
    let server = Server::start_with(
        &[master.addr()],
        json!({"stateSource": "stream", "refreshSeconds": refresh_seconds}),
    );
    server.wait_loaded();
    wait_until("a subscription", CHANGE_DEADLINE, || master.subscriptions() >= 1);
    server
}

/// Queries `name` every millisecond until it has the agent's address; returns how long that took
/// after `since`, or `None` past `deadline`.
fn time_until_resolvable(server: &Server, name: &str, since: Instant, deadline: Duration) -> Option<Duration> {
    while since.elapsed() < deadline {
        if server.a_records(name) == vec![AGENT_IP] {
            return Some(since.elapsed());
        }
        thread::sleep(Duration::from_millis(1));
    }
    None
}

#[test]
fn task_resolves_within_a_second_of_task_running_with_a_60_s_refresh() {
    let master = StreamMaster::start(&[("web.1", "web")]);
    let server = stream_server(&master, 60);
    assert_eq!(server.a_records(&name("web")), vec![AGENT_IP]);
    let mut latencies = Vec::new();
    for i in 0..7 {
        let task = format!("app{i}");
        assert!(server.a_records(&name(&task)).is_empty());
        let at = master.start_task(&format!("{task}.1"), &task);
        let took = time_until_resolvable(&server, &name(&task), at, Duration::from_secs(1)).unwrap_or_else(|| {
            panic!(
                "{task} not resolvable within 1 s of TASK_RUNNING; log:\n{}",
                server.log_text()
            )
        });
        latencies.push(took);
    }
    latencies.sort();
    let ms: Vec<String> = latencies
        .iter()
        .map(|d| format!("{:.1}", d.as_secs_f64() * 1e3))
        .collect();
    println!(
        "TASK_RUNNING -> resolvable: median {:.1} ms, max {:.1} ms (all, ms: {})",
        latencies[latencies.len() / 2].as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
        ms.join(", ")
    );
    assert_eq!(master.subscriptions(), 1, "one subscription for the whole test");
}

#[test]
fn killed_task_disappears_and_a_staging_task_gets_no_records() {
    let master = StreamMaster::start(&[("web.1", "web"), ("db.1", "db")]);
    let server = stream_server(&master, 60);
    assert_eq!(server.a_records(&name("db")), vec![AGENT_IP]);
    master.emit(json!({"type": "TASK_ADDED", "task_added": {"task": v1_task(&FakeTask {
        id: "stage.1".into(), name: "stage".into(), state: "TASK_STAGING"
    })}}));
    let at = master.emit(task_updated("db.1", "TASK_KILLED"));
    wait_until("db to disappear", Duration::from_secs(1), || {
        server.a_records(&name("db")).is_empty()
    });
    println!("TASK_KILLED -> gone: {:.1} ms", at.elapsed().as_secs_f64() * 1e3);
    let r = server.ask(&name("db"), common::dns::A, Transport::Udp);
    assert_eq!(r.rcode, common::dns::NXDOMAIN, "{r:?}");
    assert!(
        server.a_records(&name("stage")).is_empty(),
        "staging tasks have no records"
    );
    assert_eq!(server.a_records(&name("web")), vec![AGENT_IP], "other tasks stay");
}

#[test]
fn broken_stream_falls_back_to_polling_and_resubscribes() {
    let master = StreamMaster::start(&[("web.1", "web")]);
    let server = stream_server(&master, 2);
    // The stream breaks and the master refuses new subscriptions: only polls see changes now.
    master.break_streams(true);
    wait_until("the server to notice", CHANGE_DEADLINE, || {
        server.log_text().contains("event stream ended")
    });
    master.add_task_silently("quiet.1", "quiet");
    wait_until("a polled change to show", CHANGE_DEADLINE, || {
        server.a_records(&name("quiet")) == vec![AGENT_IP]
    });
    // Resubscribing is tried (with backoff) while the master refuses.
    wait_until("a refused resubscription in the log", CHANGE_DEADLINE, || {
        server.log_text().contains("cannot subscribe to events")
    });
    // The master takes subscriptions again: the server comes back to the stream (within the backoff).
    let before = master.subscriptions();
    master.accept_streams();
    wait_until("a new subscription", Duration::from_secs(35), || {
        master.subscriptions() > before
    });
    let at = master.start_task("late.1", "late");
    let took = time_until_resolvable(&server, &name("late"), at, Duration::from_secs(1));
    assert!(
        took.is_some(),
        "resubscribed stream delivers events: {}",
        server.log_text()
    );
    assert_eq!(server.a_records(&name("quiet")), vec![AGENT_IP]);
}

#[test]
fn poll_mode_never_subscribes() {
    let master = StreamMaster::start(&[("web.1", "web")]);
    let server = Server::start_with(&[master.addr()], json!({"refreshSeconds": 60}));
    server.wait_loaded();
    assert_eq!(server.a_records(&name("web")), vec![AGENT_IP]);
    let at = master.start_task("app.1", "app");
    assert_eq!(
        time_until_resolvable(&server, &name("app"), at, Duration::from_millis(300)),
        None,
        "without stateSource stream, events are not read"
    );
    assert_eq!(master.subscriptions(), 0);
}
