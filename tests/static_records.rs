//! End-to-end: static records (`staticRecordsFile`) served beside the generated ones by the real binary
//! against a fake master, asked with dig and kdig: every type, a collision with a generated name, a bad
//! file refused at start and on SIGHUP (the records held before stay).

mod common;

use std::path::Path;

use common::*;
use serde_json::json;

const ZONE: &str = r#"$TTL 300
; the database, by hand
db          IN A     10.9.0.1
db          IN AAAA  fd00::9
            TXT      "v=1" "owner=db team"
www         CNAME    db.mesos.
$ORIGIN svc.mesos.
_pg._tcp    SRV      10 20 5432 db.mesos.
; a static address for a task name: replaces the task's A records, its SRV records stay
$ORIGIN marathon-0.7.6.mesos.
nginx       A        10.9.9.9
"#;

/// A server on the tutorial state with `zone` as its static records file.
fn server_with(zone: &str) -> (FakeMaster, Server, TestConfig) {
    let master = FakeMaster::serving(tutorial());
    let cfg = TestConfig::write(&[master.addr()], json!({"refreshSeconds": 3600}));
    let server = cfg.spawn_with_static_records(zone);
    (master, server, cfg)
}

fn zone_path(cfg: &TestConfig) -> String {
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg.path).unwrap()).unwrap();
    config["staticRecordsFile"].as_str().unwrap().to_owned()
}

fn sighup(server: &Server) {
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(server.pid() as i32, libc::SIGHUP) }, 0);
}

#[test]
fn static_names_answer_every_type_beside_the_generated_ones() {
    let (_master, server, _cfg) = server_with(ZONE);
    for transport in [Transport::Udp, Transport::Tcp] {
        let d = dig(server.port, "db.mesos", "A", transport);
        assert_eq!(d.status, "NOERROR");
        assert!(d.has_flag("aa"), "{}", d.raw);
        assert_eq!(d.answer_data("A"), ["10.9.0.1"], "{}", d.raw);
    }
    assert_eq!(
        dig(server.port, "db.mesos", "AAAA", Transport::Udp).answer_data("AAAA"),
        ["fd00::9"]
    );
    let txt = kdig(server.port, "db.mesos", "TXT", Transport::Udp);
    assert_eq!(txt.answer_data("TXT"), [r#""v=1" "owner=db team""#], "{}", txt.raw);
    // An alias answers with its CNAME, and the target's address follows (it is ours).
    let www = dig(server.port, "www.mesos", "A", Transport::Udp);
    assert_eq!(www.answer_data("CNAME"), ["db.mesos."], "{}", www.raw);
    assert_eq!(www.answer_data("A"), ["10.9.0.1"], "{}", www.raw);
    // SRV: priority 0 and srvRecordDefaultWeight, as every SRV answer of ours.
    let srv = dig(server.port, "_pg._tcp.svc.mesos", "SRV", Transport::Udp);
    assert_eq!(srv.answer_data("SRV"), ["0 1 5432 db.mesos."], "{}", srv.raw);
    // Names in between exist (NODATA), others do not.
    assert_eq!(dig(server.port, "svc.mesos", "A", Transport::Udp).status, "NOERROR");
    assert_eq!(
        dig(server.port, "nope.svc.mesos", "A", Transport::Udp).status,
        "NXDOMAIN"
    );
}

#[test]
fn a_static_record_replaces_the_generated_records_of_its_type_and_says_so() {
    let (_master, server, _cfg) = server_with(ZONE);
    assert_eq!(
        dig(server.port, NGINX, "A", Transport::Udp).answer_data("A"),
        ["10.9.9.9"],
        "the static A wins"
    );
    let srv = dig(server.port, "_nginx._tcp.marathon-0.7.6.mesos", "SRV", Transport::Udp);
    assert_eq!(srv.answer_data("SRV").len(), 1, "the generated SRV stays: {}", srv.raw);
    wait_until("the collision in the log", CHANGE_DEADLINE, || {
        server
            .log_text()
            .lines()
            .any(|l| l.contains("staticRecordsFile:") && l.contains("nginx.marathon-0.7.6.mesos"))
    });
}

#[test]
fn sighup_with_a_bad_file_keeps_the_records_loaded_before_and_a_good_one_replaces_them() {
    let (_master, server, cfg) = server_with(ZONE);
    let path = zone_path(&cfg);
    std::fs::write(&path, "$TTL 300\ndb A 10.9.0.2\nbad A not-an-address\n").unwrap();
    sighup(&server);
    wait_until("the refused file in the log", CHANGE_DEADLINE, || {
        server.log_text().contains("keeping the") && server.log_text().contains("line 3")
    });
    assert_eq!(
        dig(server.port, "db.mesos", "A", Transport::Udp).answer_data("A"),
        ["10.9.0.1"]
    );
    std::fs::write(&path, "db A 10.9.0.3\n").unwrap();
    sighup(&server);
    wait_until("the new static address", CHANGE_DEADLINE, || {
        dig(server.port, "db.mesos", "A", Transport::Udp).answer_data("A") == ["10.9.0.3"]
    });
    assert_eq!(
        dig(server.port, "www.mesos", "A", Transport::Udp).status,
        "NXDOMAIN",
        "gone with the old file"
    );
}

#[test]
fn a_bad_file_at_start_exits_2_naming_the_key_and_the_line() {
    let dir = scratch_dir("static-bad");
    let path = dir.join("static.zone");
    std::fs::write(&path, "ok A 10.0.0.1\noutside.example.com. A 10.0.0.2\n").unwrap();
    let cfg = TestConfig::write(
        &["127.0.0.1:1".to_string()],
        json!({"staticRecordsFile": path.display().to_string()}),
    );
    let (status, _, stderr) = run_to_exit(&[&format!("-config={}", cfg.path.display())]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("staticRecordsFile") && stderr.contains("line 2"),
        "{stderr}"
    );
    for d in [dir.as_path(), Path::new(&cfg.dir)] {
        let _ = std::fs::remove_dir_all(d);
    }
}
