//! End-to-end: leader detection through a real ZooKeeper (`zk`). The real binary, a real standalone
//! ZooKeeper and fake masters registered in it as Mesos registers, all on loopback.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

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
fn zk_leader_is_found_and_changes_are_followed_from_the_watch() {
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
    assert_eq!(server.a_records("master0.mesos"), vec![Ipv4Addr::LOCALHOST]);
    assert_eq!(b.requests(), 0, "only the leader is asked");

    // The leader stops: its node goes, the next in sequence leads, and the records follow at once
    // (long before the 600 s refresh: the watch fired).
    member_a.leave();
    wait_until("the records to name master B", CHANGE_DEADLINE, || {
        leader_port(&server) == Some(port_of(&b))
    });
    assert_eq!(server.a_records(NGINX), vec![S2_IP], "the state now comes from B");

    // Only a master older than 0.24 is left: its protobuf `info_` node names it.
    let _member_legacy = zk.register_legacy("/mesos", &legacy);
    assert_eq!(leader_port(&server), Some(port_of(&b)), "json.info_ members come first");
    member_b.leave();
    wait_until("the records to name the legacy master", CHANGE_DEADLINE, || {
        leader_port(&server) == Some(port_of(&legacy))
    });
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    let log = server.log_text();
    assert!(log.contains("ZooKeeper names the leading master"), "{log}");
    assert!(
        log.contains("zk://dns:<redacted>@") && !log.contains("zk-secret"),
        "{log}"
    );
}

/// A fake master serving `state` on this loopback address (each master its own address, so that the
/// `master*` records, which list every address once, tell them apart).
fn master_on(ip: &str, state: serde_json::Value) -> FakeMaster {
    let m = FakeMaster::start_on(ip, 0).expect("bind fake master");
    m.set_state(state);
    m
}

fn is_nxdomain(server: &Server, name: &str) -> bool {
    server.ask(name, dns::A, Transport::Udp).rcode == dns::NXDOMAIN
}

#[test]
fn every_registered_master_is_named_leader_first() {
    let zk = ZooKeeper::start();
    let (ip1, ip2, ip3) = (
        Ipv4Addr::new(127, 0, 0, 1),
        Ipv4Addr::new(127, 0, 0, 2),
        Ipv4Addr::new(127, 0, 0, 3),
    );
    let a = master_on("127.0.0.1", tutorial());
    let b = master_on("127.0.0.2", tutorial_moved());
    let c = master_on("127.0.0.3", tutorial());
    let member_a = zk.register_json("/mesos", &a);
    let _member_b = zk.register_json("/mesos", &b);
    let _member_c = zk.register_legacy("/mesos", &c);
    let server = start_server(&zk, 600);
    server.wait_loaded();

    assert_eq!(server.a_records("leader.mesos"), vec![ip1]);
    assert_eq!(
        server.a_records("master.mesos"),
        vec![ip1, ip2, ip3],
        "every member, JSON or protobuf"
    );
    assert_eq!(server.a_records("master0.mesos"), vec![ip1], "the leader first");
    assert_eq!(server.a_records("master1.mesos"), vec![ip2]);
    assert_eq!(server.a_records("master2.mesos"), vec![ip3]);
    assert!(is_nxdomain(&server, "master3.mesos"));
    assert_eq!((b.requests(), c.requests()), (0, 0), "only the leader is asked");

    // The leader's node goes: the next in sequence leads and becomes master0.
    member_a.leave();
    wait_until("B to lead", CHANGE_DEADLINE, || {
        server.a_records("leader.mesos") == vec![ip2]
    });
    assert_eq!(server.a_records("master0.mesos"), vec![ip2]);
    assert_eq!(server.a_records("master1.mesos"), vec![ip3]);
    assert!(is_nxdomain(&server, "master2.mesos"));
    assert_eq!(server.a_records("master.mesos"), vec![ip2, ip3]);
    assert_eq!(leader_port(&server), Some(port_of(&b)));
    assert_eq!(server.a_records(NGINX), vec![S2_IP], "the state now comes from B");
}

#[test]
fn with_zk_detection_timeout_zero_the_configured_masters_serve_until_zookeeper_names_a_leader() {
    let zk = ZooKeeper::start();
    zk.create_group("/mesos");
    let configured = FakeMaster::serving(tutorial());
    let server = Server::start_with(
        &[configured.addr()],
        json!({
            "zk": format!("zk://{}/mesos", zk.host()),
            "zkDetectionTimeout": 0,
            "refreshSeconds": 1,
        }),
    );
    server.wait_loaded();
    assert_eq!(server.a_records("master0.mesos"), vec![Ipv4Addr::LOCALHOST]);
    assert_eq!(leader_port(&server), Some(port_of(&configured)));
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);

    // A master registers: ZooKeeper's list wins, for fetching and for the names.
    let registered = master_on("127.0.0.2", tutorial_moved());
    let _member = zk.register_json("/mesos", &registered);
    let ip2 = Ipv4Addr::new(127, 0, 0, 2);
    wait_until("the registered master to lead", CHANGE_DEADLINE, || {
        server.a_records("leader.mesos") == vec![ip2]
    });
    assert_eq!(server.a_records("master.mesos"), vec![ip2]);
    assert_eq!(server.a_records("master0.mesos"), vec![ip2]);
    assert!(is_nxdomain(&server, "master1.mesos"));
    assert_eq!(server.a_records(NGINX), vec![S2_IP]);
}

#[test]
fn with_zk_detection_timeout_zero_an_unreachable_zookeeper_leaves_the_configured_masters() {
    let configured = FakeMaster::serving(tutorial());
    let server = Server::start_with(
        &[configured.addr()],
        json!({
            "zk": format!("zk://127.0.0.1:{}/mesos", free_port()),
            "zkDetectionTimeout": 0,
            "refreshSeconds": 1,
        }),
    );
    server.wait_loaded();
    assert_eq!(server.a_records("master0.mesos"), vec![Ipv4Addr::LOCALHOST]);
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    assert!(configured.requests() >= 1);
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
    common::zk::delete(&mut admin, &node_a).expect("A's node exists");
    wait_until(
        "the records to name master B after the restart",
        CHANGE_DEADLINE,
        || leader_port(&server) == Some(port_of(&b)),
    );
    assert_eq!(server.a_records(NGINX), vec![S2_IP]);
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
    // refreshSeconds is 60: a task that resolves well before then came through the stream (the time it
    // takes is measured in tests/stream.rs, not asserted here, where the machine may be loaded).
    master.start_task("late.1", "late");
    wait_until("the streamed task resolves", Duration::from_secs(20), || {
        server.a_records("late.marathon.mesos") == vec![AGENT_IP]
    });
    assert_eq!(
        server.a_records("leader.mesos"),
        vec![Ipv4Addr::LOCALHOST],
        "the records name the ZooKeeper leader"
    );
}
