//! End-to-end: leader detection through a real ZooKeeper (`zk`). The real binary, a real standalone
//! ZooKeeper and fake masters registered in it as Mesos registers, all on loopback.

mod common;

use std::time::{Duration, Instant};

use common::stream_master::{StreamMaster, AGENT_IP};
use common::zk::ZooKeeper;
use common::{
    dns, free_port, tutorial, tutorial_moved, wait_until, FakeMaster, Server, Transport, CHANGE_DEADLINE, NGINX,
    NGINX_IP, S2_IP,
};
use serde_json::json;

/// The port of the `_leader._tcp` SRV record: which fake master the records name as leader.
fn leader_port(server: &Server) -> Option<u16> {
    let r = server.try_ask("_leader._tcp.mesos", dns::SRV, Transport::Udp)?;
    let data = r.answer_data(dns::SRV);
    // "0 1 PORT leader.mesos."
    data.first()?.split(' ').nth(2)?.parse().ok()
}

fn port_of(master: &FakeMaster) -> u16 {
    master
        .addr()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("fake master port")
}

/// A server that finds its leader only through ZooKeeper: no `masters`, the first `zk` host dead.
fn start_server(zk: &ZooKeeper, refresh_seconds: u64) -> Server {
    let dead = format!("127.0.0.1:{}", free_port());
    Server::start_with(
        &[],
        json!({
            "masters": null,
            // Credentials go to ZooKeeper as a `digest` authentication (and never into the log).
            "zk": format!("zk://dns:zk-secret@{dead},{}/mesos", zk.host()),
            "refreshSeconds": refresh_seconds,
        }),
    )
}

#[test]
fn zk_leader_is_found_and_changes_are_followed_within_a_second() {
    let zk = ZooKeeper::start();
    let a = FakeMaster::serving(tutorial());
    let b = FakeMaster::serving(tutorial_moved());
    let legacy = FakeMaster::serving(tutorial());
    let member_a = zk.register_json("/mesos", &a);
    let member_b = zk.register_json("/mesos", &b);
    // A refresh period far beyond the test: every change below comes from the ZooKeeper watch.
    let server = start_server(&zk, 600);
    server.wait_loaded();

    assert_eq!(leader_port(&server), Some(port_of(&a)), "the lowest sequence leads");
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    assert_eq!(server.a_records("master0.mesos"), vec![std::net::Ipv4Addr::LOCALHOST]);
    assert_eq!(
        server.ask("master1.mesos", dns::A, Transport::Udp).rcode,
        dns::NXDOMAIN,
        "with zk, the master records name the leader only"
    );
    assert_eq!(b.requests(), 0, "only the leader is asked");

    // The leader stops: its node goes, the next in sequence leads, and the records follow at once.
    let started = Instant::now();
    member_a.leave();
    wait_until("the records to name master B", CHANGE_DEADLINE, || {
        leader_port(&server) == Some(port_of(&b))
    });
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "leader change took {took:?}");
    assert_eq!(server.a_records(NGINX), vec![S2_IP], "the state now comes from B");

    // Only a master older than 0.24 is left: its protobuf `info_` node names it.
    let _member_legacy = zk.register_legacy("/mesos", &legacy);
    assert_eq!(leader_port(&server), Some(port_of(&b)), "json.info_ members come first");
    let started = Instant::now();
    member_b.leave();
    wait_until("the records to name the legacy master", CHANGE_DEADLINE, || {
        leader_port(&server) == Some(port_of(&legacy))
    });
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    let log = server.log_text();
    assert!(log.contains("ZooKeeper names the leading master"), "{log}");
    assert!(
        log.contains("zk://dns:<redacted>@") && !log.contains("zk-secret"),
        "{log}"
    );
}

#[test]
fn zk_outage_keeps_the_records_and_a_restart_is_followed() {
    let mut zk = ZooKeeper::start();
    let a = FakeMaster::serving(tutorial());
    let b = FakeMaster::serving(tutorial_moved());
    let member_a = zk.register_json("/mesos", &a);
    let _member_b = zk.register_json("/mesos", &b);
    let server = start_server(&zk, 1);
    server.wait_loaded();
    assert_eq!(leader_port(&server), Some(port_of(&a)));

    // Every ZooKeeper host is down: the last leader is kept and refreshed from, the records stay.
    zk.kill();
    wait_until("the detector to notice the outage", CHANGE_DEADLINE, || {
        server.log_text().contains("lost the ZooKeeper session")
    });
    let before = a.requests();
    wait_until("two more refreshes from the last leader", CHANGE_DEADLINE, || {
        a.requests() >= before + 2
    });
    assert_eq!(leader_port(&server), Some(port_of(&a)));
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);

    // ZooKeeper comes back with its data (both members' sessions are still valid there). The detector
    // reconnects and watches again: when A's node goes, B leads.
    zk.restart();
    wait_until("the detector to reconnect", CHANGE_DEADLINE, || {
        server
            .log_text()
            .matches(&format!("connected to ZooKeeper {}", zk.host()))
            .count()
            >= 2
    });
    let node_a = member_a.node.clone();
    drop(member_a); // its connection died with the old server process; its session lives on
    let mut admin = zk.session();
    admin.delete(&node_a).expect("delete").expect("A's node exists");
    wait_until(
        "the records to name master B after the restart",
        CHANGE_DEADLINE,
        || leader_port(&server) == Some(port_of(&b)),
    );
    assert_eq!(server.a_records(NGINX), vec![S2_IP]);
}

#[test]
fn no_leader_within_zk_detection_timeout_stops_the_server() {
    let cfg = common::TestConfig::write(
        &[],
        json!({
            "masters": null,
            "zk": format!("zk://127.0.0.1:{}/mesos", free_port()),
            "zkDetectionTimeout": 1,
        }),
    );
    let started = Instant::now();
    let (status, _out, err) = common::run_to_exit(&["-v", &format!("-config={}", cfg.path.display())]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("within zkDetectionTimeout (1s)"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    let _ = std::fs::remove_dir_all(&cfg.dir);
}

#[test]
fn stream_mode_subscribes_to_the_zookeeper_leader() {
    let zk = ZooKeeper::start();
    let master = StreamMaster::start(&[("web.1", "web")]);
    let _member = zk.register_json_at("/mesos", master.addr().parse().expect("address"));
    let server = Server::start_with(
        &[],
        json!({
            "masters": null,
            "zk": format!("zk://{}/mesos", zk.host()),
            "refreshSeconds": 60,
            "stateSource": "stream",
        }),
    );
    server.wait_loaded();
    wait_until("a subscription to the ZooKeeper leader", CHANGE_DEADLINE, || {
        master.subscriptions() >= 1
    });
    let at = master.start_task("late.1", "late");
    wait_until("the streamed task resolves", Duration::from_secs(1), || {
        server.a_records("late.marathon.mesos") == vec![AGENT_IP]
    });
    assert!(at.elapsed() < Duration::from_secs(1));
    assert_eq!(
        server.a_records("leader.mesos"),
        vec![std::net::Ipv4Addr::LOCALHOST],
        "the records name the ZooKeeper leader"
    );
}
