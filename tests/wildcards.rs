//! End-to-end: wildcard names in the static records file (RFC 4592) through the real binary against a
//! fake master, asked with dig and kdig: synthesized answers at depth 1 and 3 owned by the question
//! name, NODATA for the types the wildcard lacks, explicit and generated names winning and blocking,
//! the wildcard's parent an empty non-terminal, no PTR from a wildcard, AXFR carrying `*` itself, and
//! `aRecordLimit` on synthesized answers.

mod common;

use common::*;
use serde_json::{json, Value};

const ZONE: &str = r#"$TTL 300
*.lb         IN A     10.9.9.10
*.lb         IN A     10.9.9.11
*.lb         IN A     10.9.9.12
*.lb         IN SRV   0 0 8080 db.mesos.
explicit.lb  IN A     10.9.9.1
x.ent.lb     IN A     10.9.9.2
db           IN A     10.9.0.1
*.alias      CNAME    db.mesos.
; beside generated names: the tasks' own names win
*.marathon-0.7.6  A   10.9.9.99
"#;

/// A server on the tutorial state with [`ZONE`] as its static records file and `extra` config keys.
fn server_with(extra: Value) -> (FakeMaster, Server, TestConfig) {
    let master = FakeMaster::serving(tutorial());
    let mut keys = json!({"refreshSeconds": 3600, "externalOn": false, "PTROn": true,
        "transferAllowFrom": ["127.0.0.0/8"]});
    if let (Some(k), Some(e)) = (keys.as_object_mut(), extra.as_object()) {
        k.extend(e.clone());
    }
    let cfg = TestConfig::write(&[master.addr()], keys);
    let server = cfg.spawn_with_static_records(ZONE);
    (master, server, cfg)
}

/// The owners of the answer section.
fn owners(d: &Dig) -> Vec<&str> {
    d.answer.iter().map(|r| r.0.as_str()).collect()
}

fn assert_nodata(d: &Dig) {
    assert_eq!(d.status, "NOERROR", "{}", d.raw);
    assert!(d.answer.is_empty(), "{}", d.raw);
    assert_eq!(d.authority.len(), 1, "{}", d.raw);
    assert_eq!(
        (d.authority[0].0.as_str(), d.authority[0].1.as_str()),
        ("mesos.", "SOA")
    );
}

#[test]
fn a_wildcard_answers_names_below_it_at_any_depth_and_nodata_for_other_types() {
    let (_master, server, _cfg) = server_with(json!({}));
    let all = ["10.9.9.10", "10.9.9.11", "10.9.9.12"];
    for transport in [Transport::Udp, Transport::Tcp] {
        for name in ["web.lb.mesos", "a.b.c.lb.mesos"] {
            let d = dig(server.port, name, "A", transport);
            assert_eq!(d.status, "NOERROR", "{}", d.raw);
            assert!(d.has_flag("aa"), "{}", d.raw);
            assert_eq!(d.answer_data("A"), all, "{}", d.raw);
            assert!(owners(&d).iter().all(|o| *o == format!("{name}.")), "{}", d.raw);
        }
    }
    let srv = kdig(server.port, "_http._tcp.lb.mesos", "SRV", Transport::Udp);
    assert_eq!(srv.answer_data("SRV"), ["0 1 8080 db.mesos."], "{}", srv.raw);
    assert_eq!(owners(&srv), ["_http._tcp.lb.mesos."]);
    for rtype in ["AAAA", "TXT", "MX"] {
        assert_nodata(&dig(server.port, "web.lb.mesos", rtype, Transport::Udp));
    }
    let alias = dig(server.port, "any.thing.alias.mesos", "A", Transport::Udp);
    assert_eq!(alias.answer_data("CNAME"), ["db.mesos."], "{}", alias.raw);
    assert_eq!(alias.answer_data("A"), ["10.9.0.1"], "{}", alias.raw);
    // A wildcard's address gets no PTR record.
    let ptr = dig(server.port, "10.9.9.9.10.in-addr.arpa", "PTR", Transport::Udp);
    assert!(ptr.answer_data("PTR").is_empty(), "{}", ptr.raw);
}

#[test]
fn explicit_names_win_existing_names_block_and_the_parent_is_an_empty_non_terminal() {
    let (_master, server, _cfg) = server_with(json!({}));
    let at = |name: &str| dig(server.port, name, "A", Transport::Udp);
    assert_eq!(at("explicit.lb.mesos").answer_data("A"), ["10.9.9.1"]);
    assert_nodata(&dig(server.port, "explicit.lb.mesos", "AAAA", Transport::Udp));
    assert_eq!(at(NGINX).answer_data("A"), [NGINX_IP.to_string()], "a task's name wins");
    assert_eq!(at("other.marathon-0.7.6.mesos").answer_data("A"), ["10.9.9.99"]);
    // `ent.lb` exists as the parent of `x.ent.lb`: NODATA there, and nothing below it from `*.lb`.
    assert_nodata(&at("ent.lb.mesos"));
    for blocked in ["y.ent.lb.mesos", "y.explicit.lb.mesos", "y.nginx.marathon-0.7.6.mesos"] {
        let d = at(blocked);
        assert_eq!(d.status, "NXDOMAIN", "{blocked}: {}", d.raw);
        assert_eq!(d.authority.first().map(|r| r.1.as_str()), Some("SOA"));
    }
    assert_nodata(&at("lb.mesos"));
    let star = at("*.lb.mesos");
    assert_eq!(star.answer_data("A").len(), 3, "{}", star.raw);
    assert_eq!(owners(&star)[0], "*.lb.mesos.");
    assert_eq!(at("nope.mesos").status, "NXDOMAIN", "no wildcard at the apex");
}

#[test]
fn a_zone_transfer_carries_the_wildcard_itself() {
    let (_master, server, _cfg) = server_with(json!({}));
    let axfr = run("dig", server.port, &["mesos", "AXFR"]);
    let records = transfer_records(&axfr);
    let at = |owner: &str, rtype: &str| records.iter().filter(|r| r.0 == owner && r.1 == rtype).count();
    assert_eq!(at("*.lb.mesos.", "A"), 3, "{axfr}");
    assert_eq!(at("*.lb.mesos.", "SRV"), 1, "{axfr}");
    assert_eq!(at("*.alias.mesos.", "CNAME"), 1, "{axfr}");
    assert_eq!(at("explicit.lb.mesos.", "A"), 1, "{axfr}");
    assert!(
        !records.iter().any(|r| r.0 == "web.lb.mesos."),
        "nothing synthesized: {axfr}"
    );
}

#[test]
fn a_record_limit_cuts_synthesized_answers() {
    let (_master, server, _cfg) = server_with(json!({"aRecordLimit": 1}));
    for transport in [Transport::Udp, Transport::Tcp] {
        let d = dig(server.port, "web.lb.mesos", "A", transport);
        assert_eq!(d.answer_data("A").len(), 1, "{}", d.raw);
    }
}
