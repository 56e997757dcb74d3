//! Unit tests of the static records parser: every directive and type, and errors with their lines.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;

fn ok(text: &str) -> Vec<(String, u32, RData)> {
    parse(text, "mesos", 60)
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.ttl, r.data))
        .collect()
}

fn error_line(text: &str) -> (usize, String) {
    let e = parse(text, "mesos", 60).unwrap_err();
    (e.line, e.message)
}

#[test]
fn every_type_directive_and_name_form_is_read() {
    let text = "\
; static records
$TTL 300
@            IN A     10.0.0.1
db           3600 IN AAAA  fd00::1   ; a comment
             TXT   \"v=1\" \"two words\" plain
$ORIGIN svc.mesos.
_pg._tcp     SRV  10 20 5432 db.mesos.
www          CNAME db.mesos.
Alias.Example.MESOS. IN 30 CNAME elsewhere.example.com.
";
    assert_eq!(
        ok(text),
        [
            ("mesos.".into(), 300, RData::A(Ipv4Addr::new(10, 0, 0, 1))),
            (
                "db.mesos.".into(),
                3600,
                RData::Aaaa("fd00::1".parse::<Ipv6Addr>().unwrap())
            ),
            (
                "db.mesos.".into(),
                300,
                RData::Txt(vec!["v=1".into(), "two words".into(), "plain".into()])
            ),
            (
                "_pg._tcp.svc.mesos.".into(),
                300,
                RData::Srv {
                    target: "db.mesos.".into(),
                    port: 5432
                }
            ),
            ("www.svc.mesos.".into(), 300, RData::Cname("db.mesos.".into())),
            (
                "alias.example.mesos.".into(),
                30,
                RData::Cname("elsewhere.example.com.".into())
            ),
        ]
    );
}

#[test]
fn parentheses_join_lines_and_the_record_keeps_its_first_line() {
    let text = "a ( IN\n  TXT \"x\" ; note\n  \"y\" )\nb A 10.0.0.2\n";
    let records = parse(text, "mesos", 60).unwrap();
    assert_eq!(records[0].line, 1);
    assert_eq!(records[0].data, RData::Txt(vec!["x".into(), "y".into()]));
    assert_eq!(records[1].line, 4);
}

#[test]
fn the_default_ttl_applies_before_any_ttl_directive() {
    assert_eq!(ok("a A 10.0.0.1\n")[0].1, 60);
}

#[test]
fn bad_lines_refuse_the_file_with_their_number() {
    let cases: &[(&str, usize, &str)] = &[
        ("a A 10.0.0.1\nb A 10.0.0.300\n", 2, "bad IPv4"),
        ("a AAAA 10.0.0.1\n", 1, "bad IPv6"),
        ("\n\nwww.example.com. A 10.0.0.1\n", 3, "outside the domain"),
        ("$ORIGIN example.com.\n", 1, "outside the domain"),
        ("a MX 10 mail\n", 1, "unsupported record type"),
        ("$INCLUDE other\n", 1, "unsupported directive"),
        ("$TTL x\n", 1, "bad TTL"),
        ("a SRV 0 0 http b\n", 1, "bad SRV port"),
        ("a SRV 0 0 80\n", 1, "SRV takes 4 values"),
        ("a TXT \"open\n", 1, "closing quote"),
        ("a ( TXT x\n", 1, "'(' without ')'"),
        ("a TXT x )\n", 1, "')' without '('"),
        ("  A 10.0.0.1\n", 1, "without an owner"),
        ("a\n", 1, "without a type"),
        ("@ CNAME b\n", 1, "the domain itself"),
        (
            "a A 10.0.0.1\nb A 10.0.0.2\na CNAME b\n",
            3,
            "a CNAME and other records",
        ),
        ("a..b A 10.0.0.1\n", 1, "not a valid DNS name"),
    ];
    for &(text, line, message) in cases {
        let (l, m) = error_line(text);
        assert_eq!(l, line, "{text:?}: {m}");
        assert!(m.contains(message), "{text:?}: {m}");
    }
    let long = format!("a TXT {}\n", "x".repeat(256));
    assert!(error_line(&long).1.contains("at most 255"));
}

#[test]
fn the_error_names_its_line() {
    let e = parse("a A nope\n", "mesos", 60).unwrap_err();
    assert_eq!(e.to_string(), "line 1: bad IPv4 address \"nope\"");
}

#[test]
fn wildcard_owners_are_read_like_any_name() {
    let text = "\
*.lb      IN A     10.9.9.10
*.LB.mesos. 30 IN SRV 0 0 80 web.mesos.
$ORIGIN alias.mesos.
*         CNAME web.mesos.
";
    assert_eq!(
        ok(text),
        [
            ("*.lb.mesos.".into(), 60, RData::A(Ipv4Addr::new(10, 9, 9, 10))),
            (
                "*.lb.mesos.".into(),
                30,
                RData::Srv {
                    target: "web.mesos.".into(),
                    port: 80
                }
            ),
            ("*.alias.mesos.".into(), 60, RData::Cname("web.mesos.".into())),
        ]
    );
    assert_eq!(
        error_line("*.lb A 10.0.0.1\n*.lb CNAME web.mesos.\n"),
        (2, "*.lb.mesos. has a CNAME and other records (lines 1 and 2)".into()),
        "a wildcard CNAME is alone at its name as any CNAME"
    );
}
