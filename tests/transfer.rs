//! End-to-end zone transfers: the real binary against the fake master, transferred by `dig` and `kdig`
//! (AXFR and IXFR, with and without the TSIG key), and Knot DNS (`knotd`, Debian's `knot` package) as a
//! secondary on loopback that loads the zone and follows a scale-up by NOTIFY and IXFR.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

use common::knot::{Knot, KEY_NAME, SECRET};

/// `-y` for dig and kdig.
fn key_arg(name: &str, secret: &str) -> String {
    format!("hmac-sha256:{name}:{secret}")
}

/// The config keys of a server that transfers to loopback clients with the test key.
fn transfer_config(extra: Value) -> Value {
    let mut config = json!({
        "transferAllowFrom": ["127.0.0.0/8"],
        "tsigKeys": [{"name": KEY_NAME, "algorithm": "hmac-sha256", "secret": SECRET}],
    });
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    config
}

/// The serial of an SOA's rdata text.
fn serial(rdata: &str) -> u32 {
    rdata
        .split(' ')
        .nth(2)
        .and_then(|s| s.parse().ok())
        .expect("an SOA serial")
}

/// The zone's serial as the server answers it.
fn current_serial(port: u16) -> u32 {
    let text = run("dig", port, &["+short", "mesos", "SOA"]);
    serial(text.trim())
}

fn assert_whole_zone(text: &str, tool: &str) {
    let rrs = transfer_records(text);
    assert!(rrs.len() > 10, "{tool}: a zone expected:\n{text}");
    let (first, last) = (&rrs[0], &rrs[rrs.len() - 1]);
    assert_eq!(
        (first.1.as_str(), last.1.as_str()),
        ("SOA", "SOA"),
        "{tool}: SOA first and last:\n{text}"
    );
    assert_eq!(first, last, "{tool}");
    assert_eq!(rrs.iter().filter(|r| r.1 == "SOA").count(), 2, "{tool}:\n{text}");
    assert!(
        rrs.contains(&("mesos.".into(), "NS".into(), "ns1.mesos.".into())),
        "{tool}:\n{text}"
    );
    assert!(
        rrs.contains(&(format!("{NGINX}."), "A".into(), NGINX_IP.to_string())),
        "{tool}: the task's address:\n{text}"
    );
    assert!(
        rrs.iter()
            .any(|r| r.0 == "_nginx._tcp.marathon-0.7.6.mesos." && r.1 == "SRV"),
        "{tool}: the task's SRV record:\n{text}"
    );
}

#[test]
fn dig_and_kdig_transfer_the_signed_zone_with_the_key_and_are_refused_without_it() {
    let master = FakeMaster::serving(tutorial());
    let server = Server::start_with(&[master.addr()], transfer_config(json!({})));
    server.wait_loaded();
    let key = key_arg(KEY_NAME, SECRET);

    let dig = run("dig", server.port, &["-y", &key, "mesos", "AXFR"]);
    assert_whole_zone(&dig, "dig");
    // dig checks every signature: a bad one says "tsig verify failure" and fails the transfer.
    assert!(!dig.contains("failure") && !dig.contains("failed"), "{dig}");
    assert!(
        dig.contains("ANY\tTSIG\thmac-sha256.") && dig.contains("NOERROR"),
        "signed:\n{dig}"
    );
    let kdig = run("kdig", server.port, &["-y", &key, "mesos", "AXFR"]);
    assert_whole_zone(&kdig, "kdig");
    assert!(!kdig.contains(";; ERROR") && !kdig.contains(";; WARNING"), "{kdig}");

    let unsigned = run("dig", server.port, &["mesos", "AXFR"]);
    assert!(
        unsigned.contains("Transfer failed") && transfer_records(&unsigned).is_empty(),
        "{unsigned}"
    );
    let wrong_secret = key_arg(KEY_NAME, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWX=");
    let bad_sig = run("kdig", server.port, &["-y", &wrong_secret, "mesos", "AXFR"]);
    assert!(
        bad_sig.contains("BADSIG") && transfer_records(&bad_sig).is_empty(),
        "{bad_sig}"
    );
    let bad_key = run(
        "dig",
        server.port,
        &["-y", &key_arg("other-key", SECRET), "mesos", "AXFR"],
    );
    assert!(
        bad_key.contains("BADKEY") && transfer_records(&bad_key).is_empty(),
        "{bad_key}"
    );

    // IXFR from the current serial: the SOA alone; from an unknown one, the whole zone (AXFR form).
    let now = current_serial(server.port);
    let ixfr = run("kdig", server.port, &["-y", &key, "mesos", &format!("IXFR={now}")]);
    let rrs = transfer_records(&ixfr);
    assert_eq!(rrs.len(), 1, "{ixfr}");
    assert_eq!(serial(&rrs[0].2), now);
    let ixfr = run(
        "dig",
        server.port,
        &["-y", &key, "mesos", &format!("IXFR={}", now - 1000)],
    );
    assert_whole_zone(&ixfr, "dig IXFR from an old serial");
    let refused = run("dig", server.port, &["mesos", &format!("IXFR={}", now - 1000)]);
    assert!(refused.contains("Transfer failed"), "{refused}");
    // A signed SOA query over UDP is answered signed; a wrongly signed one gets NOTAUTH/BADSIG.
    let soa = run("kdig", server.port, &["-y", &key, "+notcp", "mesos", "SOA"]);
    assert!(
        soa.contains("status: NOERROR") && soa.contains("TSIG PSEUDOSECTION"),
        "{soa}"
    );
    let soa = run("kdig", server.port, &["-y", &wrong_secret, "+notcp", "mesos", "SOA"]);
    assert!(soa.contains("BADSIG"), "{soa}");
}

#[test]
fn transfers_are_refused_by_default_and_outside_transfer_allow_from() {
    let master = FakeMaster::serving(tutorial());
    let closed = Server::start(&[master.addr()]);
    closed.wait_loaded();
    let elsewhere = Server::start_with(&[master.addr()], json!({"transferAllowFrom": ["10.0.0.0/8"]}));
    elsewhere.wait_loaded();
    for port in [closed.port, elsewhere.port] {
        let kdig = run("kdig", port, &["mesos", "AXFR"]);
        assert!(kdig.contains("REFUSED") && transfer_records(&kdig).is_empty(), "{kdig}");
    }
    let open = Server::start_with(&[master.addr()], json!({"transferAllowFrom": ["127.0.0.1/32"]}));
    open.wait_loaded();
    assert_whole_zone(
        &run("dig", open.port, &["mesos", "AXFR"]),
        "dig without keys configured",
    );
}

/// The serial of the last refresh the server logged.
fn logged_serial(server: &Server) -> Option<u32> {
    let log = server.log_text();
    let line = log.lines().rev().find(|l| l.contains("refreshed records from"))?;
    let at = line.find(", serial ")? + ", serial ".len();
    line[at..].split(',').next()?.parse().ok()
}

#[test]
fn knot_as_a_secondary_loads_the_zone_and_follows_a_scale_up_by_notify_and_ixfr() {
    let master = FakeMaster::serving(tutorial());
    let knot_port = free_port();
    let server = Server::start_with(
        &[master.addr()],
        transfer_config(json!({"notify": [format!("127.0.0.1:{knot_port}")]})),
    );
    server.wait_loaded();
    let knot = Knot::start(server.port, knot_port);
    wait_until("Knot to load the zone and answer the task", START_DEADLINE, || {
        knot.a_records(NGINX) == [NGINX_IP]
    });
    let before = logged_serial(&server).expect("a refresh was logged");

    master.set_state(tutorial_scaled());
    let mut refreshed = None;
    wait_until("the server to refresh to the scaled state", CHANGE_DEADLINE, || {
        let changed = logged_serial(&server).is_some_and(|s| s != before);
        if changed {
            refreshed = Some(Instant::now());
        }
        changed
    });
    let refreshed = refreshed.unwrap_or_else(Instant::now);
    let mut both = vec![S2_IP, NGINX_IP];
    both.sort();
    wait_until("Knot to answer both instances", Duration::from_secs(3), || {
        knot.a_records(NGINX) == both
    });
    let took = refreshed.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
    let log = knot.log();
    assert!(log.contains("notify, incoming"), "NOTIFY reached Knot:\n{log}");
    assert!(
        log.contains("IXFR, incoming") && log.contains("finished"),
        "the change came by IXFR:\n{log}"
    );
    assert!(log.contains("AXFR, incoming"), "Knot bootstrapped by AXFR:\n{log}");
    let after_ixfr = &log[log.find("IXFR, incoming").unwrap_or(0)..];
    assert!(
        !after_ixfr.contains("AXFR, incoming"),
        "no full transfer for the change:\n{log}"
    );
}

#[test]
fn nameservers_are_the_apex_ns_records_and_the_soa_keeps_soamname() {
    let master = FakeMaster::serving(tutorial());
    let server = Server::start_with(
        &[master.addr()],
        json!({"nameservers": ["ns1.mesos", "Secondary.Example.com."]}),
    );
    server.wait_loaded();
    for d in [
        dig(server.port, "mesos", "NS", Transport::Udp),
        kdig(server.port, "mesos", "NS", Transport::Tcp),
    ] {
        assert_eq!(
            d.answer_data("NS"),
            ["ns1.mesos.", "secondary.example.com."],
            "{}",
            d.raw
        );
        // The in-zone one's address comes along.
        assert!(
            d.additional.iter().any(|r| r.0 == "ns1.mesos." && r.1 == "A"),
            "{}",
            d.raw
        );
    }
    let soa = dig(server.port, "mesos", "SOA", Transport::Udp);
    assert!(soa.answer_data("SOA")[0].starts_with("ns1.mesos. "), "{}", soa.raw);
}

/// A value of `/metrics` (a sample without labels, or with these exact labels).
fn metric(http_port: u16, sample: &str) -> f64 {
    let text = http_get_ok(http_port, "/metrics");
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{sample} in /metrics:\n{text}"))
}

/// The scaled tutorial with `count` more tasks of an app `bulk-N` (an A and an SRV record each, and
/// more: far more bytes than a small journal holds).
fn tutorial_with_bulk(count: usize) -> Value {
    let mut state = tutorial_scaled();
    let tasks = tasks_mut(&mut state);
    let nginx = tasks.iter().find(|t| t["name"] == "nginx").expect("nginx task").clone();
    for i in 0..count {
        let mut task = nginx.clone();
        task["id"] = json!(format!("bulk-{i}.7a1e{i:04x}-a36d-11e4-8c21-56847afe9799"));
        task["name"] = json!(format!("bulk-{i}"));
        task["slave_id"] = json!(TUTORIAL_S2);
        tasks.push(task);
    }
    state
}

#[test]
fn knot_falls_back_to_axfr_for_a_change_bigger_than_the_ixfr_journal_and_converges() {
    // Room for the small changes of this test (a task's records), not for 150 tasks at once.
    const JOURNAL_BYTES: u64 = 4096;
    let master = FakeMaster::serving(tutorial());
    let (knot_port, http_port) = (free_port(), free_port());
    let server = Server::start_with(
        &[master.addr()],
        transfer_config(json!({
            "notify": [format!("127.0.0.1:{knot_port}")],
            "ixfrJournalBytes": JOURNAL_BYTES,
            "httpon": true, "httpListener": "127.0.0.1", "httpport": http_port,
        })),
    );
    server.wait_loaded();
    let knot = Knot::start(server.port, knot_port);
    wait_until("Knot to load the zone and answer the task", START_DEADLINE, || {
        knot.a_records(NGINX) == [NGINX_IP]
    });
    let axfr = r#"mesos_dns_zone_transfers_total{kind="axfr"}"#;
    let ixfr = r#"mesos_dns_zone_transfers_total{kind="ixfr"}"#;

    // A small change is kept and goes by IXFR.
    master.set_state(tutorial_scaled());
    let mut both = vec![S2_IP, NGINX_IP];
    both.sort();
    wait_until("Knot to answer both instances", CHANGE_DEADLINE, || {
        knot.a_records(NGINX) == both
    });
    wait_until("Knot's IXFR to finish", CHANGE_DEADLINE, || knot.finished("IXFR") == 1);
    let kept = metric(http_port, "mesos_dns_ixfr_journal_bytes");
    assert!(kept > 0.0 && kept <= JOURNAL_BYTES as f64, "{kept}");
    assert_eq!(metric(http_port, ixfr), 1.0);
    let full_before = metric(http_port, axfr);

    // 150 tasks at once: bigger than the whole journal, not kept. Knot asks IXFR from its serial, gets
    // the whole zone and answers the new tasks.
    master.set_state(tutorial_with_bulk(150));
    wait_until("Knot to answer the last new task", CHANGE_DEADLINE, || {
        knot.a_records("bulk-149.marathon-0.7.6.mesos") == [S2_IP]
    });
    assert_eq!(metric(http_port, "mesos_dns_ixfr_journal_bytes"), 0.0);
    assert_eq!(
        metric(http_port, axfr),
        full_before + 1.0,
        "the IXFR request got the zone"
    );
    assert_eq!(
        metric(http_port, ixfr),
        1.0,
        "no incremental transfer for the big change"
    );
    assert_eq!(knot.a_records(NGINX), both, "the rest of the zone came along");

    // The next small change is kept again and goes by IXFR from the big change's serial.
    master.set_state(tutorial_with_bulk(149));
    wait_until("Knot to lose the removed task", CHANGE_DEADLINE, || {
        knot.a_records("bulk-149.marathon-0.7.6.mesos").is_empty()
    });
    assert_eq!(metric(http_port, ixfr), 2.0);
    assert_eq!(knot.a_records("bulk-148.marathon-0.7.6.mesos"), [S2_IP]);
    let log = knot.log();
    assert_eq!(log.matches("receiving AXFR-style IXFR").count(), 1, "{log}");
    assert_eq!((knot.finished("AXFR"), knot.finished("IXFR")), (2, 2), "{log}");
}
