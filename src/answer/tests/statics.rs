//! Unit tests of static records in answers: CNAME (RFC 1034 3.6.2), TXT, and what wins where a static
//! name is also a generated one.

use super::*;
use crate::wire::wire_to_text;

/// Generated records, then static ones as the refresher appends them.
fn static_snapshot() -> Records {
    let mut l = RecordList::new();
    l.push("web.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1)));
    l.push("web.marathon.mesos.", RData::Aaaa(Ipv6Addr::LOCALHOST));
    l.push("api.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 2)));
    l.begin_static();
    l.push("www.mesos.", RData::Cname("web.marathon.mesos.".into()));
    l.push("ext.mesos.", RData::Cname("example.com.".into()));
    l.push("info.mesos.", RData::Txt(vec!["v=1".into(), "hello world".into()]));
    // Static A replaces the generated A of a generated name; its AAAA stays.
    l.push("web.marathon.mesos.", RData::A(Ipv4Addr::new(192, 0, 2, 1)));
    // A static CNAME at a generated name is refused.
    l.push("api.marathon.mesos.", RData::Cname("web.marathon.mesos.".into()));
    Records::build(zone(), &l, 1)
}

fn answers(name: &str, qtype: u16) -> Vec<(String, u16, Vec<u8>)> {
    let r = static_snapshot();
    section(&run(&query(name, qtype, None), &r, Transport::Udp, 7), Section::Answer)
}

#[test]
fn a_cname_answers_with_the_targets_records_when_the_target_is_ours() {
    let got = answers("www.mesos", rtype::A);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0.as_str(), got[0].1), ("www.mesos.", rtype::CNAME));
    assert_eq!(wire_to_text(&got[0].2), "web.marathon.mesos.");
    assert_eq!(got[1], ("web.marathon.mesos.".into(), rtype::A, vec![192, 0, 2, 1]));
}

#[test]
fn a_cname_alone_answers_other_types_and_targets_outside() {
    let cname = answers("www.mesos", rtype::CNAME);
    assert_eq!(cname.len(), 1);
    assert_eq!(cname[0].1, rtype::CNAME);
    let srv = answers("www.mesos", rtype::SRV);
    assert_eq!(srv.iter().map(|r| r.1).collect::<Vec<_>>(), [rtype::CNAME]);
    let ext = answers("ext.mesos", rtype::A);
    assert_eq!(ext.len(), 1);
    assert_eq!(wire_to_text(&ext[0].2), "example.com.");
}

#[test]
fn txt_records_carry_their_character_strings() {
    let got = answers("info.mesos", rtype::TXT);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2, b"\x03v=1\x0bhello world");
    assert!(answers("info.mesos", rtype::A).is_empty(), "NODATA for other types");
}

#[test]
fn a_static_type_replaces_the_generated_one_and_the_others_stay() {
    assert_eq!(
        answers("web.marathon.mesos", rtype::A),
        [("web.marathon.mesos.".into(), rtype::A, vec![192, 0, 2, 1])]
    );
    assert_eq!(answers("web.marathon.mesos", rtype::AAAA).len(), 1);
    let r = static_snapshot();
    assert!(r
        .static_collisions()
        .iter()
        .any(|l| l.contains("web.marathon.mesos. replace its generated A")));
}

#[test]
fn a_static_cname_at_a_generated_name_is_refused() {
    assert_eq!(
        answers("api.marathon.mesos", rtype::A),
        [("api.marathon.mesos.".into(), rtype::A, vec![10, 0, 0, 2])]
    );
    let r = static_snapshot();
    assert!(r
        .static_collisions()
        .iter()
        .any(|l| l.contains("static CNAME at api.marathon.mesos. is refused")));
}
