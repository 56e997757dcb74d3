//! Signals: SIGHUP reloads config.json (a bad one is refused and the running config kept), SIGTERM and
//! SIGINT stop the server cleanly.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

fn signal(server: &Server, sig: i32) {
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    let rc = unsafe { libc::kill(server.pid() as i32, sig) };
    assert_eq!(rc, 0, "kill({}, {sig})", server.pid());
}

fn nginx_ttl(server: &Server) -> Option<u32> {
    let r = server.try_ask(NGINX, dns::A, Transport::Udp)?;
    r.answers.first().map(|rr| rr.ttl)
}

/// A server on the tutorial state whose config file the test can rewrite.
fn reloadable_server() -> (FakeMaster, Server, TestConfig) {
    let master = FakeMaster::serving(tutorial());
    // A long period: a change seen quickly can only come from the reload's immediate refresh.
    let cfg = TestConfig::write(&[master.addr()], serde_json::json!({ "refreshSeconds": 3600 }));
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir.clone());
    server.wait_loaded();
    (master, server, cfg)
}

fn edit_config(cfg: &TestConfig, edit: impl FnOnce(&mut Value)) {
    let mut config: Value = serde_json::from_slice(&std::fs::read(&cfg.path).unwrap()).unwrap();
    edit(&mut config);
    std::fs::write(&cfg.path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
}

#[test]
fn sighup_reloads_the_config_and_refreshes_at_once() {
    let (master, server, cfg) = reloadable_server();
    assert_eq!(nginx_ttl(&server), Some(60));
    let before = master.requests();
    edit_config(&cfg, |c| {
        c["ttl"] = 7.into();
        c["port"] = 1.into(); // needs a restart: logged, not applied
    });
    signal(&server, libc::SIGHUP);
    wait_until("answers with the reloaded TTL", CHANGE_DEADLINE, || {
        nginx_ttl(&server) == Some(7)
    });
    assert!(
        master.requests() > before,
        "the reload refreshed from the master at once"
    );
    let log = server.log_text();
    assert!(log.contains("SIGHUP: reloaded"), "{log}");
    assert!(log.contains("`port` changed"), "a restart-only key is named: {log}");
}

#[test]
fn sighup_with_a_bad_config_keeps_the_running_one() {
    let (_master, server, cfg) = reloadable_server();
    edit_config(&cfg, |c| c["refreshSeconds"] = 0.into());
    signal(&server, libc::SIGHUP);
    wait_until("the refusal logged", CHANGE_DEADLINE, || {
        server.log_text().contains("keeping the running config")
    });
    assert!(server.log_text().contains("refreshSeconds"), "the bad key is named");
    std::fs::write(&cfg.path, b"{ not json").unwrap();
    signal(&server, libc::SIGHUP);
    wait_until("the second refusal logged", CHANGE_DEADLINE, || {
        server.log_text().matches("keeping the running config").count() == 2
    });
    assert_eq!(nginx_ttl(&server), Some(60), "still answering with the old config");
}

#[test]
fn sigterm_and_sigint_stop_cleanly() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let (_master, mut server, _cfg) = reloadable_server();
        signal(&server, sig);
        wait_until("the process to exit", Duration::from_secs(5), || !server.is_running());
        // "stopped" is logged on the clean path only, which exits with status 0.
        assert!(server.log_text().contains("stopped"), "{}", server.log_text());
    }
}
