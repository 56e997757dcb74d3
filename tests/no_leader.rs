//! End-to-end: the server never exits for want of a leader. With ZooKeeper down (at start or later),
//! no leader registered, or every master failing, the real binary stays up, relays outside names to a
//! loopback resolver from the start, keeps its last records, answers `/ready` with 503 until the first
//! good refresh, and logs a lasting failure once (then once a minute), not at every refresh. A real
//! ZooKeeper, fake masters and our scriptable resolver, all on loopback.

mod common;

use std::net::Ipv4Addr;

use common::upstream::{Behaviour, Upstream};
use common::zk::ZooKeeper;
use common::{
    dns, free_port, http_get, tutorial, tutorial_moved, wait_until, FakeMaster, Server, Transport, CHANGE_DEADLINE,
    NGINX, NGINX_IP, S2_IP,
};
use serde_json::{json, Value};

/// An outside name, and the address our resolver makes up for it (documentation range: data only).
const OUTSIDE: &str = "www.example.org";
const MADE_UP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 7);

/// A server relaying to `up`, with the HTTP API on its own port, and `extra` config keys; also the
/// HTTP port.
fn start(masters: &[String], up: &Upstream, extra: Value) -> (Server, u16) {
    let http_port = free_port();
    let mut keys = json!({
        "resolvers": [up.resolver()],
        "cacheOn": false,
        "httpon": true,
        "httpListener": "127.0.0.1",
        "httpport": http_port,
    });
    if let (Some(k), Some(e)) = (keys.as_object_mut(), extra.as_object()) {
        k.extend(e.clone());
    }
    (Server::start_with(masters, keys), http_port)
}

/// `/ready`: its status and JSON body.
fn ready(port: u16) -> (u16, Value) {
    let (status, body) = http_get(port, "/ready");
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("/ready: {e}: {body}"));
    (status, json)
}

/// The outside name is relayed to `up` and its answer passed back.
fn assert_relays(server: &Server) {
    let r = server.ask(OUTSIDE, dns::A, Transport::Udp);
    assert_eq!(r.rcode, dns::NOERROR, "{r:?}");
    assert_eq!(r.answer_data(dns::A), vec![MADE_UP.to_string()], "{r:?}");
}

/// Waits for a log line containing `text`.
fn wait_for_line(server: &Server, text: &str) {
    wait_until(&format!("a log line with {text:?}"), CHANGE_DEADLINE, || {
        server.log_text().contains(text)
    });
}

fn lines_with(server: &Server, text: &str) -> usize {
    server.log_text().lines().filter(|l| l.contains(text)).count()
}

#[test]
fn zookeeper_down_at_start_keeps_the_server_up_and_relaying_until_a_leader_registers() {
    let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    let mut zk = ZooKeeper::not_started();
    let (mut server, http) = start(
        &[],
        &up,
        json!({ "masters": null, "zk": format!("zk://{}/mesos", zk.host()), "zkDetectionTimeout": 2 }),
    );
    // The relay works from the very start, with no records at all.
    assert_relays(&server);
    wait_for_line(
        &server,
        "within zkDetectionTimeout (2s), and no `masters` to fall back on",
    );
    // Past the timeout (the original exits 1 here): still up, still relaying, not ready.
    assert!(server.is_running(), "the server exited:\n{}", server.log_text());
    assert_relays(&server);
    assert_eq!(
        ready(http),
        (
            503,
            json!({"status": "not ready", "reason": "no successful refresh yet"})
        )
    );
    assert_eq!(server.ask(NGINX, dns::A, Transport::Udp).rcode, dns::SERVFAIL);
    // Over two seconds of refreshes (every second) and of reconnecting: each failure logged once.
    assert_eq!(lines_with(&server, "cannot use ZooKeeper"), 1, "{}", server.log_text());
    assert_eq!(lines_with(&server, "state refresh failed"), 1, "{}", server.log_text());

    // ZooKeeper starts and a master registers: it is found, and its records served.
    zk.restart();
    let master = FakeMaster::serving(tutorial());
    let _member = zk.register_json("/mesos", &master);
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    assert_eq!(ready(http), (200, json!({"status": "ready"})));
    wait_for_line(
        &server,
        &format!("connected to ZooKeeper {} (session timeout", zk.host()),
    );
    let log = server.log_text();
    assert!(
        log.contains("failed attempts") || log.contains("failed attempt"),
        "{log}"
    );
    assert!(log.contains("state refresh succeeded again after"), "{log}");
}

#[test]
fn zookeeper_and_the_masters_stopped_later_leave_the_records_and_the_relay() {
    let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    let mut zk = ZooKeeper::start();
    let mut master = FakeMaster::serving(tutorial());
    let _member = zk.register_json("/mesos", &master);
    let (mut server, http) = start(
        &[],
        &up,
        json!({ "masters": null, "zk": format!("zk://{}/mesos", zk.host()), "zkDetectionTimeout": 2 }),
    );
    server.wait_loaded();
    assert_eq!(ready(http).0, 200);

    // ZooKeeper goes, then the leader too: every refresh fails from now on.
    zk.kill();
    wait_for_line(&server, "lost the ZooKeeper session");
    master.go_down();
    wait_for_line(&server, "keeping the records of");
    // Three refresh periods without a good refresh: not ready (the records are stale), but served.
    wait_until("/ready to say the records are stale", CHANGE_DEADLINE, || {
        ready(http).0 == 503
    });
    let (_, body) = ready(http);
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("the last successful refresh was")),
        "{body}"
    );
    assert!(server.is_running(), "the server exited:\n{}", server.log_text());
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP], "the last records stay");
    assert_relays(&server);
    // Over three seconds of failed refreshes (one a second) and of reconnections: each kind of failure
    // logged once (a refresh caught by the master's going may fail otherwise first: one more line).
    let kept = lines_with(&server, "keeping the records of");
    assert!(kept <= 2, "{kept} lines:\n{}", server.log_text());
    assert_eq!(
        lines_with(&server, "lost the ZooKeeper session"),
        1,
        "{}",
        server.log_text()
    );
    assert!(
        lines_with(&server, "cannot use ZooKeeper") <= 1,
        "{}",
        server.log_text()
    );
}

#[test]
fn no_leader_within_zk_detection_timeout_falls_back_on_the_configured_masters() {
    let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    let zk = ZooKeeper::start();
    zk.create_group("/mesos"); // reachable, but no master registered
    let configured = FakeMaster::serving(tutorial());
    let (mut server, http) = start(
        &[configured.addr()],
        &up,
        json!({ "zk": format!("zk://{}/mesos", zk.host()), "zkDetectionTimeout": 2 }),
    );
    assert_relays(&server);
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP], "from the configured master");
    assert_eq!(ready(http).0, 200);
    // The configured master was asked only once the timeout had passed, which the log says first.
    let log = server.log_text();
    let timed_out = log
        .find(&format!(
            "within zkDetectionTimeout (2s): trying the configured masters ({})",
            configured.addr()
        ))
        .unwrap_or_else(|| panic!("no timeout line:\n{log}"));
    let refreshed = log.find("refreshed records from").expect("a refresh line");
    assert!(timed_out < refreshed, "{log}");
    assert!(server.is_running());

    // ZooKeeper names a leader later: it is followed.
    let registered = FakeMaster::start_on("127.0.0.2", 0).expect("bind fake master");
    registered.set_state(tutorial_moved());
    let _member = zk.register_json("/mesos", &registered);
    wait_until("the registered master to lead", CHANGE_DEADLINE, || {
        server.a_records("leader.mesos") == vec![Ipv4Addr::new(127, 0, 0, 2)]
    });
    assert_eq!(
        server.a_records(NGINX),
        vec![S2_IP],
        "the state now comes from ZooKeeper's leader"
    );
}

#[test]
fn every_master_failing_at_start_keeps_the_server_up_relaying_and_not_ready() {
    let up = Upstream::start(Behaviour::Answer(vec![MADE_UP]));
    let failing = FakeMaster::start();
    failing.set_status(500);
    let down = format!("127.0.0.1:{}", free_port());
    let (mut server, http) = start(&[failing.addr(), down], &up, json!({}));
    assert_relays(&server);
    // Three refreshes (one a second), every one failing.
    wait_until("three failed refreshes", CHANGE_DEADLINE, || failing.requests() >= 3);
    assert!(server.is_running(), "the server exited:\n{}", server.log_text());
    assert_relays(&server);
    assert_eq!(ready(http).0, 503);
    assert_eq!(server.ask(NGINX, dns::A, Transport::Udp).rcode, dns::SERVFAIL);
    let log = server.log_text();
    assert_eq!(
        lines_with(&server, "state refresh failed"),
        1,
        "the same failure is logged once a minute:\n{log}"
    );
    assert!(log.contains("no records yet (the domain answers SERVFAIL)"), "{log}");

    // The master recovers: records, ready, and the end of the outage logged.
    failing.set_state(tutorial());
    server.wait_loaded();
    assert_eq!(ready(http).0, 200);
    wait_for_line(&server, "state refresh succeeded again after");
}

#[test]
fn a_malformed_zk_url_still_stops_the_start() {
    let cfg = common::TestConfig::write(&[], json!({ "masters": null, "zk": "zk://127.0.0.1:2181" }));
    let (status, _out, err) = common::run_to_exit(&[&format!("-config={}", cfg.path.display())]);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("`zk`"), "the message names the key: {err}");
    let _ = std::fs::remove_dir_all(&cfg.dir);
}
