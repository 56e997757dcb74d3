//! End-to-end: the warm start (`snapshotFile`). A server that ran against a fake master keeps its
//! records in the file (mode 0600); killed with SIGKILL and restarted while the master is down, it
//! answers the master's names at once (dig), with the same SOA serial, while `/ready` says 503 and that
//! the records are the file's; the master back, its first refresh replaces them. A corrupt, truncated,
//! foreign, stale or other-domain file is logged saying which and ignored: the domain answers SERVFAIL
//! as without a file, and the server keeps running.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use mesos_dns::internals::warm::format::SnapshotFile;
use serde_json::{json, Value};

const NGINX: &str = "nginx.marathon-0.7.6.mesos";

/// A directory for the snapshot file that outlives each server (their own directories go with them).
struct StateDir(PathBuf);

impl StateDir {
    fn new() -> StateDir {
        StateDir(scratch_dir("warm-state"))
    }

    fn file(&self) -> PathBuf {
        self.0.join("snapshot")
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server with the HTTP API on, keeping its records in `file`, with `extra` keys.
fn start(masters: &[String], file: &Path, extra: Value) -> (Server, u16) {
    let http_port = free_port();
    let mut keys = json!({
        "httpon": true, "httpListener": "127.0.0.1", "httpport": http_port,
        "snapshotFile": file.display().to_string(),
    });
    if let (Some(keys), Some(extra)) = (keys.as_object_mut(), extra.as_object()) {
        keys.extend(extra.clone());
    }
    (Server::start_with(masters, keys), http_port)
}

/// A loopback address where no master listens (connections are refused).
fn no_master() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// The value of an unlabelled metric.
fn metric(http_port: u16, name: &str) -> f64 {
    let (_, text) = http_get(http_port, "/metrics");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in:\n{text}"))
}

/// The zone's SOA serial.
fn serial(server: &Server) -> u32 {
    let soa = server.ask("mesos", dns::SOA, Transport::Udp);
    let data = soa.answers.first().map(|rr| rr.data.clone()).unwrap_or_default();
    data.split(' ').nth(2).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Waits until the server has written a snapshot file that holds serial `serial`; its bytes.
fn wait_for_file(file: &Path, serial: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    wait_until("the snapshot file", CHANGE_DEADLINE, || {
        bytes = std::fs::read(file).unwrap_or_default();
        SnapshotFile::new_checked(&bytes).is_ok_and(|f| f.serial() == serial)
    });
    bytes
}

/// The tutorial with its `nginx` task renamed `web`.
fn tutorial_with_web() -> Value {
    let mut state = tutorial();
    for framework in state["frameworks"].as_array_mut().unwrap() {
        for task in framework["tasks"].as_array_mut().unwrap() {
            if task["name"] == "nginx" {
                task["name"] = json!("web");
            }
        }
    }
    state
}

#[test]
fn a_restart_while_the_master_is_down_answers_from_the_file_at_once_until_the_first_good_refresh() {
    let dir = StateDir::new();
    let mut master = FakeMaster::serving(tutorial());
    let addr = master.addr();
    let (server, _) = start(std::slice::from_ref(&addr), &dir.file(), json!({}));
    server.wait_loaded();
    let before = serial(&server);
    assert_eq!(
        server.a_records(NGINX),
        ["10.114.227.92".parse::<std::net::Ipv4Addr>().unwrap()]
    );
    wait_for_file(&dir.file(), before);
    let mode = std::fs::metadata(dir.file()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the snapshot file's mode");
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["snapshot"], "no temporary file is left");

    // SIGKILL, the master goes away, and the server starts again.
    drop(server);
    master.go_down();
    let (server, http_port) = start(std::slice::from_ref(&addr), &dir.file(), json!({}));
    // The very first answers: no waiting for a refresh (none can succeed).
    for transport in [Transport::Udp, Transport::Tcp] {
        let d = dig(server.port, NGINX, "A", transport);
        assert_eq!(d.status, "NOERROR", "{}", d.raw);
        assert!(d.has_flag("aa"), "{}", d.raw);
        assert_eq!(d.answer_data("A"), ["10.114.227.92"], "{}", d.raw);
    }
    let srv = dig(server.port, "_nginx._tcp.marathon-0.7.6.mesos", "SRV", Transport::Udp);
    assert_eq!(srv.answer.len(), 1, "{}", srv.raw);
    assert_eq!(serial(&server), before, "the file's serial is served");
    let (status, body) = http_get(http_port, "/ready");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("serving") && body.contains("records from the snapshot file written at"),
        "{body}"
    );
    assert_eq!(metric(http_port, "mesos_dns_records_from_snapshot_file"), 1.0);
    let log = server.log_text();
    assert!(log.contains("records from the snapshot file"), "{log}");
    // Refreshes fail meanwhile, and the file's records stay.
    wait_until("a failed refresh", CHANGE_DEADLINE, || {
        server.log_text().contains("state refresh failed")
    });
    assert_eq!(server.a_records(NGINX).len(), 1);

    // The master is back with `nginx` renamed: the first good refresh replaces the file's records.
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    let master = FakeMaster::start_on("127.0.0.1", port).expect("the master back on its port");
    master.set_state(tutorial_with_web());
    wait_until("the refreshed records", CHANGE_DEADLINE, || {
        server.a_records("web.marathon-0.7.6.mesos").len() == 1
    });
    assert_eq!(server.ask(NGINX, dns::A, Transport::Udp).rcode, dns::NXDOMAIN);
    let after = serial(&server);
    assert!(
        after > before,
        "the serial moves on from the file's: {before} -> {after}"
    );
    wait_until("/ready 200", CHANGE_DEADLINE, || http_get(http_port, "/ready").0 == 200);
    assert_eq!(metric(http_port, "mesos_dns_records_from_snapshot_file"), 0.0);
    // And the file follows.
    wait_for_file(&dir.file(), after);
}

/// A file made for another server: the good file `bytes` spoiled.
enum Spoiled {
    Corrupt,
    Truncated,
    Foreign,
    Stale,
}

/// `bytes` with its written-at time set `seconds_ago` and its checksum made to match again (the
/// layout is `warm::format`'s: written-at at octets 20..28, a SHA-256 of the rest at the end).
fn written_ago(bytes: &[u8], seconds_ago: u64) -> Vec<u8> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let mut body = bytes[..bytes.len() - 32].to_vec();
    body[20..28].copy_from_slice(&(now - seconds_ago).to_be_bytes());
    let sum = ring::digest::digest(&ring::digest::SHA256, &body);
    body.extend_from_slice(sum.as_ref());
    body
}

/// A good snapshot file of the tutorial, written by a server that is then killed.
fn good_file(dir: &StateDir) -> Vec<u8> {
    let master = FakeMaster::serving(tutorial());
    let (server, _) = start(&[master.addr()], &dir.file(), json!({}));
    server.wait_loaded();
    wait_for_file(&dir.file(), serial(&server))
}

/// Starts a server on `file` with no master to ask, and checks that it ignored the file saying
/// `reason`, serves no records (SERVFAIL), is not ready and runs on.
fn ignored(file: &Path, extra: Value, reason: &str) {
    let (mut server, http_port) = start(&[no_master()], file, extra);
    wait_until("the snapshot file's verdict", CHANGE_DEADLINE, || {
        server.log_text().contains("ignoring the snapshot file")
    });
    let log = server.log_text();
    let line = log.lines().find(|l| l.contains("ignoring the snapshot file")).unwrap();
    assert!(line.contains(reason), "{reason:?} not in {line}");
    assert!(line.contains(" WARN "), "{line}");
    assert_eq!(server.ask(NGINX, dns::A, Transport::Udp).rcode, dns::SERVFAIL);
    assert_eq!(server.ask("leader.mesos", dns::A, Transport::Tcp).rcode, dns::SERVFAIL);
    let (status, body) = http_get(http_port, "/ready");
    assert_eq!(status, 503);
    assert!(!body.contains("snapshot file"), "{body}");
    assert_eq!(metric(http_port, "mesos_dns_records_from_snapshot_file"), 0.0);
    assert!(server.is_running(), "the server runs on");
}

/// A good, young snapshot file of domain `dc1.mesos` (the server's is `mesos`).
fn other_domain_file() -> Vec<u8> {
    use mesos_dns::internals::snapshot::{RData, RecordList, Records};
    let config = mesos_dns::internals::config::Config {
        domain: "dc1.mesos".into(),
        ..Default::default()
    };
    let mut list = RecordList::new();
    list.push("nginx.marathon-0.7.6.dc1.mesos.", RData::A("10.1.2.3".parse().unwrap()));
    let records = Records::build(mesos_dns::internals::records::zone(&config), &list, 1);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    mesos_dns::internals::warm::format::encode(&records, now)
}

#[test]
fn a_corrupt_truncated_foreign_stale_or_other_domain_file_is_logged_and_ignored() {
    let dir = StateDir::new();
    let good = good_file(&dir);
    for (spoiled, reason) in [
        (Spoiled::Corrupt, "corrupt: the checksum does not match"),
        (Spoiled::Truncated, "truncated:"),
        (Spoiled::Foreign, "not a mesos-dns snapshot file (foreign)"),
        (Spoiled::Stale, "stale: written 1728"),
    ] {
        let bytes = match spoiled {
            Spoiled::Corrupt => {
                let mut b = good.clone();
                let middle = b.len() / 2;
                b[middle] ^= 0x55;
                b
            }
            Spoiled::Truncated => good[..good.len() - 100].to_vec(),
            Spoiled::Foreign => br#"{"masters": ["127.0.0.1:5050"]}"#.to_vec(),
            Spoiled::Stale => written_ago(&good, 2 * 86400),
        };
        std::fs::write(dir.file(), bytes).unwrap();
        ignored(&dir.file(), json!({}), reason);
    }
    // Stale by a small snapshotMaxAgeSeconds too, and a good file of another domain.
    std::fs::write(dir.file(), written_ago(&good, 30)).unwrap();
    ignored(
        &dir.file(),
        json!({"snapshotMaxAgeSeconds": 10}),
        "over snapshotMaxAgeSeconds (10 s)",
    );
    std::fs::write(dir.file(), other_domain_file()).unwrap();
    ignored(
        &dir.file(),
        json!({}),
        "it holds the records of another domain (\"dc1.mesos\")",
    );
    std::fs::write(dir.file(), &good).unwrap();
    // The good file is still served after all that: nothing above overwrote it.
    let (server, _) = start(&[no_master()], &dir.file(), json!({}));
    assert_eq!(server.a_records(NGINX).len(), 1);
}

#[test]
fn a_corrupt_file_is_replaced_by_the_first_good_refresh() {
    let dir = StateDir::new();
    std::fs::write(dir.file(), b"MESOSDNS\x00\x01 not really").unwrap();
    let master = FakeMaster::serving(tutorial());
    let (server, _) = start(&[master.addr()], &dir.file(), json!({}));
    server.wait_loaded();
    assert!(server.log_text().contains("ignoring the snapshot file"));
    let bytes = wait_for_file(&dir.file(), serial(&server));
    assert!(SnapshotFile::new_checked(&bytes).unwrap().record_count() > 0);
}

#[test]
fn stream_mode_edits_reach_the_file_and_a_restart_answers_them() {
    use common::stream_master::{StreamMaster, AGENT_IP};
    let dir = StateDir::new();
    let master = StreamMaster::start(&[("web.1", "web")]);
    let (server, _) = start(&[master.addr()], &dir.file(), json!({"stateSource": "stream"}));
    server.wait_loaded();
    wait_until("a subscription", CHANGE_DEADLINE, || master.subscriptions() >= 1);
    // A task started by an event: an edited snapshot, whose serial the file then holds.
    master.start_task("late.1", "late");
    wait_until("late to resolve", CHANGE_DEADLINE, || {
        server.a_records("late.marathon.mesos") == vec![AGENT_IP]
    });
    wait_for_file(&dir.file(), serial(&server));
    drop(server);
    drop(master);
    let (server, _) = start(&[no_master()], &dir.file(), json!({"stateSource": "stream"}));
    assert_eq!(server.a_records("late.marathon.mesos"), vec![AGENT_IP]);
    assert_eq!(server.a_records("web.marathon.mesos"), vec![AGENT_IP]);
}
