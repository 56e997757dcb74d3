//! Unit tests of wildcard answers (RFC 4592): records synthesized with the question name as owner at
//! any depth, NODATA for the types the wildcard lacks, explicit and existing names winning, the
//! wildcard's parent an empty non-terminal, CNAME and SRV wildcards, and `aRecordLimit`.

use super::*;
use crate::wire::wire_to_text;

/// A generated name under `lb`, and static records: a wildcard with A, SRV and TXT, an explicit name
/// beside it, a name two levels down (its parent an empty non-terminal), and a CNAME wildcard.
fn wild(limit: usize) -> Records {
    let mut l = RecordList::new();
    l.push("web.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1)));
    l.push("gen.lb.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 2)));
    l.begin_static();
    for i in 10..14 {
        l.push("*.lb.mesos.", RData::A(Ipv4Addr::new(10, 9, 9, i)));
    }
    l.push(
        "*.lb.mesos.",
        RData::Srv {
            target: "web.marathon.mesos.".into(),
            port: 8080,
        },
    );
    l.push("*.lb.mesos.", RData::Txt(vec!["wild".into()]));
    l.push("explicit.lb.mesos.", RData::A(Ipv4Addr::new(10, 9, 9, 1)));
    l.push("x.ent.lb.mesos.", RData::A(Ipv4Addr::new(10, 9, 9, 2)));
    l.push("*.alias.mesos.", RData::Cname("web.marathon.mesos.".into()));
    l.push("to-wild.mesos.", RData::Cname("far.away.lb.mesos.".into()));
    let zone = Zone {
        a_records_max: limit,
        ..zone()
    };
    Records::build(zone, &l, 1)
}

fn ask(name: &str, qtype: u16) -> Vec<u8> {
    run(&query(name, qtype, Some(1232)), &wild(usize::MAX), Transport::Udp, 7)
}

fn owners_and_types(resp: &[u8], s: Section) -> Vec<(String, u16)> {
    section(resp, s).into_iter().map(|(o, t, _)| (o, t)).collect()
}

#[test]
fn a_wildcard_answers_any_depth_with_the_question_name_as_owner() {
    for name in ["x.lb.mesos", "a.b.c.lb.mesos", "Mixed.Case.lb.mesos"] {
        let resp = ask(name, rtype::A);
        assert_eq!(rcode_of(&resp), rcode::NOERROR);
        assert_ne!(flags_of(&resp) & field::AA, 0);
        let got = section(&resp, Section::Answer);
        assert_eq!(got.len(), 4, "{name}: {got:?}");
        let mut ips: Vec<u8> = got.iter().map(|r| r.2[3]).collect();
        ips.sort();
        assert_eq!(ips, [10, 11, 12, 13]);
        assert!(
            got.iter().all(|r| r.0 == format!("{name}.") && r.1 == rtype::A),
            "{got:?}"
        );
        assert!(section(&resp, Section::Authority).is_empty());
    }
}

#[test]
fn other_types_at_a_wildcard_name_get_nodata() {
    for qtype in [rtype::AAAA, rtype::CNAME, rtype::PTR, 15] {
        let resp = ask("x.y.lb.mesos", qtype);
        assert_eq!(rcode_of(&resp), rcode::NOERROR, "type {qtype}");
        assert!(section(&resp, Section::Answer).is_empty());
        assert_eq!(
            owners_and_types(&resp, Section::Authority),
            [("mesos.".to_owned(), rtype::SOA)]
        );
    }
}

#[test]
fn srv_and_txt_wildcards_answer_with_their_additional_addresses() {
    let resp = ask("_http._tcp.lb.mesos", rtype::SRV);
    assert_eq!(
        owners_and_types(&resp, Section::Answer),
        [("_http._tcp.lb.mesos.".to_owned(), rtype::SRV)]
    );
    let extra = section(&resp, Section::Additional);
    assert!(
        extra
            .iter()
            .any(|r| r.0 == "web.marathon.mesos." && r.2 == [10, 0, 0, 1]),
        "{extra:?}"
    );
    let txt = section(&ask("t.lb.mesos", rtype::TXT), Section::Answer);
    assert_eq!(txt, [("t.lb.mesos.".to_owned(), rtype::TXT, b"\x04wild".to_vec())]);
}

#[test]
fn explicit_and_existing_names_win_and_block_the_wildcard() {
    let explicit = section(&ask("explicit.lb.mesos", rtype::A), Section::Answer);
    assert_eq!(
        explicit,
        [("explicit.lb.mesos.".to_owned(), rtype::A, vec![10, 9, 9, 1])]
    );
    let generated = section(&ask("gen.lb.mesos", rtype::A), Section::Answer);
    assert_eq!(generated, [("gen.lb.mesos.".to_owned(), rtype::A, vec![10, 0, 0, 2])]);
    let nodata = ask("explicit.lb.mesos", rtype::AAAA);
    assert_eq!(
        rcode_of(&nodata),
        rcode::NOERROR,
        "an explicit name's NODATA is not the wildcard's"
    );
    assert!(section(&nodata, Section::Answer).is_empty());
    let ent = ask("ent.lb.mesos", rtype::A);
    assert_eq!(rcode_of(&ent), rcode::NOERROR, "an empty non-terminal is a name");
    assert!(section(&ent, Section::Answer).is_empty());
    for blocked in [
        "y.explicit.lb.mesos",
        "y.ent.lb.mesos",
        "y.gen.lb.mesos",
        "y.x.ent.lb.mesos",
    ] {
        let resp = ask(blocked, rtype::A);
        assert_eq!(rcode_of(&resp), rcode::NXDOMAIN, "{blocked}");
        assert_eq!(
            owners_and_types(&resp, Section::Authority),
            [("mesos.".to_owned(), rtype::SOA)]
        );
    }
    assert_eq!(rcode_of(&ask("nope.marathon.mesos", rtype::A)), rcode::NXDOMAIN);
}

#[test]
fn the_wildcards_parent_is_an_empty_non_terminal_and_the_literal_star_is_a_name() {
    let lb = ask("lb.mesos", rtype::A);
    assert_eq!(rcode_of(&lb), rcode::NOERROR);
    assert!(section(&lb, Section::Answer).is_empty());
    assert_eq!(
        owners_and_types(&lb, Section::Authority),
        [("mesos.".to_owned(), rtype::SOA)]
    );
    let star = section(&ask("*.lb.mesos", rtype::A), Section::Answer);
    assert_eq!(star.len(), 4);
    assert!(star.iter().all(|r| r.0 == "*.lb.mesos."));
    assert_eq!(
        rcode_of(&ask("q.*.lb.mesos", rtype::A)),
        rcode::NXDOMAIN,
        "below the wildcard name, its own closest encloser has no *"
    );
}

#[test]
fn a_cname_wildcard_aliases_the_question_name_and_a_cname_target_may_be_synthesized() {
    let resp = ask("any.thing.alias.mesos", rtype::A);
    let got = section(&resp, Section::Answer);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0.as_str(), got[0].1), ("any.thing.alias.mesos.", rtype::CNAME));
    assert_eq!(wire_to_text(&got[0].2), "web.marathon.mesos.");
    assert_eq!(got[1], ("web.marathon.mesos.".to_owned(), rtype::A, vec![10, 0, 0, 1]));
    let chased = owners_and_types(&ask("to-wild.mesos", rtype::A), Section::Answer);
    assert_eq!(chased.len(), 5, "{chased:?}");
    assert_eq!(chased[0], ("to-wild.mesos.".to_owned(), rtype::CNAME));
    assert!(chased[1..]
        .iter()
        .all(|r| *r == ("far.away.lb.mesos.".to_owned(), rtype::A)));
}

#[test]
fn a_record_limit_cuts_synthesized_answers_too() {
    let r = wild(2);
    let resp = run(&query("x.lb.mesos", rtype::A, None), &r, Transport::Tcp, 3);
    assert_eq!(section(&resp, Section::Answer).len(), 2);
}
