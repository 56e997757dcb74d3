//! End-to-end: the real `mesos-dns` binary on loopback against a fake Mesos master, queried over UDP and
//! TCP by our own independent decoder and by `dig`.

mod common;

use common::dns::{self, Response};
use common::*;
use serde_json::json;

/// A fake master serving the tutorial and a server that has loaded it.
fn tutorial_server() -> (FakeMaster, Server) {
    let master = FakeMaster::serving(tutorial());
    let server = Server::start(&[master.addr()]);
    server.wait_loaded();
    (master, server)
}

/// Asserts a negative answer carries the domain's SOA in the authority section (RFC 2308).
fn assert_soa_in_authority(r: &Response) {
    assert!(r.answers.is_empty(), "no answers expected: {r:?}");
    let soa: Vec<_> = r.authority.iter().filter(|rr| rr.rtype == dns::SOA).collect();
    assert_eq!(soa.len(), 1, "exactly one SOA in authority: {r:?}");
    assert_eq!(soa[0].name, "mesos.");
    let fields: Vec<&str> = soa[0].data.split(' ').collect();
    assert_eq!(fields[0], "ns1.mesos.", "SOA MNAME is SOAMname");
    assert_eq!(fields[1], "root.ns1.mesos.", "SOA RNAME is SOARname");
    assert!(fields[2].parse::<u32>().unwrap() > 0, "serial set by the refresh");
    assert_eq!(
        &fields[3..],
        ["60", "600", "86400", "60"],
        "SOA timers are the config defaults"
    );
}

#[test]
fn tutorial_name_resolves_over_udp_and_tcp() {
    let (_master, server) = tutorial_server();
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(NGINX, dns::A, transport);
        assert_eq!(r.rcode, dns::NOERROR, "{transport:?}: {r:?}");
        assert!(r.aa(), "{transport:?}: authoritative answer expected");
        assert!(!r.tc(), "{transport:?}: a single A record is never truncated");
        assert_eq!(r.questions, vec![(format!("{NGINX}."), dns::A, 1)], "question echoed");
        assert_eq!(r.answer_data(dns::A), vec![NGINX_IP.to_string()], "{transport:?}");
        assert_eq!(r.answers[0].name, format!("{NGINX}."));
        assert_eq!(r.answers[0].class, 1);
        assert_eq!(r.answers[0].ttl, 60, "the configured ttl");
    }
}

#[test]
fn tutorial_name_resolves_with_dig_over_udp_and_tcp() {
    let (_master, server) = tutorial_server();
    for transport in [Transport::Udp, Transport::Tcp] {
        let d = dig(server.port, NGINX, "A", transport);
        assert_eq!(d.status, "NOERROR", "{transport:?}:\n{}", d.raw);
        assert!(d.has_flag("aa"), "{transport:?}:\n{}", d.raw);
        assert_eq!(
            d.answer_data("A"),
            vec![NGINX_IP.to_string()],
            "{transport:?}:\n{}",
            d.raw
        );
    }
}

#[test]
fn tutorial_answers_parse_with_kdig_over_udp_and_tcp() {
    let (_master, server) = tutorial_server();
    for transport in [Transport::Udp, Transport::Tcp] {
        let d = kdig(server.port, NGINX, "A", transport);
        assert_eq!(d.status, "NOERROR", "{transport:?}:\n{}", d.raw);
        assert!(d.has_flag("aa"), "{}", d.raw);
        assert_eq!(d.answer_data("A"), vec![NGINX_IP.to_string()], "{}", d.raw);

        let d = kdig(server.port, "_nginx._tcp.marathon-0.7.6.mesos", "SRV", transport);
        assert_eq!(d.answer.len(), 1, "{}", d.raw);
        let target = d.answer[0].2.rsplit(' ').next().unwrap_or("").to_owned();
        assert!(
            d.additional
                .iter()
                .any(|(n, t, v)| *n == target && t == "A" && *v == NGINX_IP.to_string()),
            "{}",
            d.raw
        );

        let d = kdig(server.port, "nope.marathon-0.7.6.mesos", "A", transport);
        assert_eq!(d.status, "NXDOMAIN", "{}", d.raw);
        assert!(
            d.authority.iter().any(|(n, t, _)| n == "mesos." && t == "SOA"),
            "{}",
            d.raw
        );
    }
}

#[test]
fn scaled_task_answers_with_every_instance() {
    let master = FakeMaster::serving(tutorial_scaled());
    let server = Server::start(&[master.addr()]);
    server.wait_loaded();
    let mut both = vec![NGINX_IP.to_string(), S2_IP.to_string()];
    both.sort();
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(NGINX, dns::A, transport);
        assert_eq!(r.rcode, dns::NOERROR);
        assert!(r.aa(), "{transport:?}: AA set");
        assert_eq!(r.answer_data(dns::A), both, "{transport:?}");
        let d = dig(server.port, NGINX, "A", transport);
        assert_eq!(d.status, "NOERROR", "{}", d.raw);
        assert!(d.has_flag("aa"), "{}", d.raw);
        assert_eq!(d.answer_data("A"), both, "{}", d.raw);
    }
}

#[test]
fn srv_answer_names_the_agent_target_with_its_address_in_additional() {
    let (_master, server) = tutorial_server();
    let name = "_nginx._tcp.marathon-0.7.6.mesos";
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(name, dns::SRV, transport);
        assert_eq!(r.rcode, dns::NOERROR, "{r:?}");
        assert!(r.aa());
        let srv = r.answer_data(dns::SRV);
        assert_eq!(srv.len(), 1, "{r:?}");
        let fields: Vec<&str> = srv[0].split(' ').collect();
        assert_eq!(
            &fields[..3],
            ["0", "1", "31080"],
            "priority 0, default weight 1, the task's port"
        );
        let target = fields[3];
        assert!(
            target.starts_with("nginx-") && target.ends_with("-s1.marathon-0.7.6.slave.mesos."),
            "target is T-H-S.F.slave.D: {target}"
        );
        let glue: Vec<_> = r
            .additional
            .iter()
            .filter(|rr| rr.rtype == dns::A && rr.name == target)
            .collect();
        assert_eq!(
            glue.len(),
            1,
            "the target's A record is in the additional section: {r:?}"
        );
        assert_eq!(glue[0].data, NGINX_IP.to_string());

        let d = dig(server.port, name, "SRV", transport);
        assert_eq!(d.status, "NOERROR", "{}", d.raw);
        assert_eq!(d.answer_data("SRV"), vec![format!("0 1 31080 {target}")], "{}", d.raw);
        assert!(
            d.additional
                .iter()
                .any(|(n, t, v)| n == target && t == "A" && *v == NGINX_IP.to_string()),
            "{}",
            d.raw
        );
    }
}

#[test]
fn unknown_name_gets_nxdomain_with_soa() {
    let (_master, server) = tutorial_server();
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask("nope.marathon-0.7.6.mesos", dns::A, transport);
        assert_eq!(r.rcode, dns::NXDOMAIN, "{transport:?}: {r:?}");
        assert!(r.aa(), "NXDOMAIN for the domain is authoritative");
        assert_soa_in_authority(&r);
        let d = dig(server.port, "nope.marathon-0.7.6.mesos", "A", transport);
        assert_eq!(d.status, "NXDOMAIN", "{}", d.raw);
        assert!(
            d.authority
                .iter()
                .any(|(n, t, v)| n == "mesos." && t == "SOA" && v.starts_with("ns1.mesos. ")),
            "{}",
            d.raw
        );
    }
}

#[test]
fn existing_name_with_another_type_gets_nodata_with_soa() {
    let (_master, server) = tutorial_server();
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(NGINX, dns::AAAA, transport);
        assert_eq!(r.rcode, dns::NOERROR, "NODATA is NOERROR: {r:?}");
        assert!(r.aa());
        assert_soa_in_authority(&r);
    }
    let d = dig(server.port, NGINX, "AAAA", Transport::Udp);
    assert_eq!(d.status, "NOERROR", "{}", d.raw);
    assert!(d.answer.is_empty(), "{}", d.raw);
    assert!(d.authority.iter().any(|(_, t, _)| t == "SOA"), "{}", d.raw);
}

#[test]
fn question_case_is_echoed_and_names_match_case_insensitively() {
    let (_master, server) = tutorial_server();
    let asked = "NGINX.Marathon-0.7.6.MESOS";
    let r = server.ask(asked, dns::A, Transport::Udp);
    assert_eq!(r.rcode, dns::NOERROR);
    assert_eq!(r.questions[0].0, format!("{asked}."));
    assert_eq!(r.answer_data(dns::A), vec![NGINX_IP.to_string()]);
}

#[test]
fn leader_name_has_the_leading_master_address() {
    let (_master, server) = tutorial_server();
    assert_eq!(server.a_records("leader.mesos"), vec![std::net::Ipv4Addr::LOCALHOST]);
    let d = dig(server.port, "leader.mesos", "A", Transport::Udp);
    assert_eq!(d.answer_data("A"), vec!["127.0.0.1".to_owned()], "{}", d.raw);
}

#[test]
fn server_own_name_has_the_listener_address() {
    let (_master, server) = tutorial_server();
    assert_eq!(
        server.a_records("ns1.mesos"),
        vec![std::net::Ipv4Addr::LOCALHOST],
        "SOAMname A = listener"
    );
}

#[test]
fn apex_answers_soa_and_ns() {
    let (_master, server) = tutorial_server();
    let soa = server.ask("mesos", dns::SOA, Transport::Udp);
    assert_eq!(soa.rcode, dns::NOERROR);
    assert_eq!(soa.answers.len(), 1, "{soa:?}");
    assert!(
        soa.answers[0].data.starts_with("ns1.mesos. root.ns1.mesos. "),
        "{soa:?}"
    );
    let ns = server.ask("mesos", dns::NS, Transport::Tcp);
    assert_eq!(ns.answer_data(dns::NS), vec!["ns1.mesos.".to_owned()], "{ns:?}");
}

#[test]
fn master_going_down_keeps_the_old_records() {
    let mut master = FakeMaster::serving(tutorial());
    // A second master that always fails: once the first is down every refresh ends here, so its
    // requests prove that refreshes went on while the first was down.
    let probe = FakeMaster::start();
    let server = Server::start(&[master.addr(), probe.addr()]);
    server.wait_loaded();
    assert_eq!(
        probe.requests(),
        0,
        "the second master is only asked when the first fails"
    );
    master.go_down();
    probe.set_status(500);
    probe.wait_requests_since_change(2);
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(NGINX, dns::A, transport);
        assert_eq!(r.rcode, dns::NOERROR, "{r:?}");
        assert_eq!(r.answer_data(dns::A), vec![NGINX_IP.to_string()]);
    }
}

#[test]
fn master_answering_500_keeps_the_old_records_until_it_recovers() {
    let (master, server) = tutorial_server();
    master.set_status(500);
    master.wait_requests_since_change(2);
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP], "old records kept");
    // And a good document afterwards is used again.
    master.set_state(tutorial_moved());
    wait_until("the moved nginx after recovery", CHANGE_DEADLINE, || {
        server.a_records(NGINX) == vec![S2_IP]
    });
}

#[test]
fn master_serving_garbage_keeps_the_old_records() {
    let (master, server) = tutorial_server();
    master.set_garbage();
    master.wait_requests_since_change(2);
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(NGINX, dns::A, transport);
        assert_eq!(r.rcode, dns::NOERROR);
        assert_eq!(r.answer_data(dns::A), vec![NGINX_IP.to_string()]);
    }
}

#[test]
fn state_without_a_leader_is_not_used() {
    let (master, server) = tutorial_server();
    // Would move nginx if it were accepted.
    master.set_leaderless_state(tutorial_moved());
    master.wait_requests_since_change(2);
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
}

#[test]
fn new_state_is_picked_up_at_the_next_refresh() {
    let (master, server) = tutorial_server();
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    master.set_state(tutorial_moved());
    wait_until("nginx to move to 10.29.107.105", CHANGE_DEADLINE, || {
        server.a_records(NGINX) == vec![S2_IP]
    });
    let r = server.ask(NGINX, dns::A, Transport::Tcp);
    assert_eq!(r.answer_data(dns::A), vec![S2_IP.to_string()]);
}

#[test]
fn domain_gets_servfail_before_the_first_successful_refresh() {
    let master = FakeMaster::start();
    master.set_status(500);
    let server = Server::start(&[master.addr()]);
    master.wait_requests_since_change(2);
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(NGINX, dns::A, transport);
        assert_eq!(r.rcode, dns::SERVFAIL, "{transport:?}: {r:?}");
        assert!(r.answers.is_empty());
    }
    master.set_state(tutorial());
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
}

#[test]
fn master_older_than_0_25_is_read_from_state_json() {
    let master = FakeMaster::start();
    master.set_legacy_state(tutorial());
    let server = Server::start(&[master.addr()]);
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    let paths = master.paths();
    assert!(
        paths.iter().any(|p| p == "/master/state"),
        "the new path is tried first: {paths:?}"
    );
    assert!(
        paths.iter().any(|p| p == "/master/state.json"),
        "then the old one: {paths:?}"
    );
}

#[test]
fn names_outside_the_domain_are_refused_when_externalon_is_false() {
    let master = FakeMaster::serving(tutorial());
    let server = Server::start_with(&[master.addr()], json!({ "externalon": false }));
    server.wait_loaded();
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask("www.example.com", dns::A, transport);
        assert_eq!(r.rcode, dns::REFUSED, "{transport:?}: {r:?}");
        assert!(!r.aa());
    }
}

#[test]
fn names_outside_the_domain_get_servfail_when_no_resolver_answers() {
    // The only resolver is a dead loopback port (see `test_config`), so relaying must fail.
    let (_master, server) = tutorial_server();
    let r = server.ask("www.example.com", dns::A, Transport::Udp);
    assert_eq!(r.rcode, dns::SERVFAIL, "{r:?}");
    assert!(r.answers.is_empty());
}

#[test]
fn seed_command_line_form_works() {
    let master = FakeMaster::serving(tutorial());
    let cfg = TestConfig::write(&[master.addr()], json!({}));
    // Exactly the tutorial's `mesos-dns -v -config=/usr/local/mesos-dns/config.json`.
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir);
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
}

#[test]
fn double_dash_config_flag_works() {
    let master = FakeMaster::serving(tutorial());
    let cfg = TestConfig::write(&[master.addr()], json!({}));
    let args = ["--config".to_owned(), cfg.path.display().to_string()];
    let server = Server::spawn(&args, cfg.port, cfg.dir);
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
}

#[test]
fn bad_config_exits_with_status_2_naming_the_field() {
    let cfg = TestConfig::write(&["127.0.0.1:5050".to_owned()], json!({ "refreshSeconds": 0 }));
    let config_arg = format!("-config={}", cfg.path.display());
    let (status, stdout, stderr) = run_to_exit(&[&config_arg]);
    let _ = std::fs::remove_dir_all(&cfg.dir);
    assert_eq!(status.code(), Some(2), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.to_ascii_lowercase().contains("refreshseconds"),
        "the message names the key:\n{stderr}"
    );
}

#[test]
fn version_flag_prints_the_version_and_exits_0() {
    let (status, stdout, stderr) = run_to_exit(&["-version"]);
    assert!(status.success(), "{status}: {stdout} {stderr}");
    let text = format!("{stdout}{stderr}");
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "prints the version: {text:?}");
}
