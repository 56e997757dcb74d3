use super::*;
use crate::wire::message::ParseError;
use crate::wire::Received;

/// `dig +cookie` for `a.mesos`: an OPT record whose option is `option`.
fn query_with(option: &[u8]) -> Vec<u8> {
    let mut m = b"\x2a\x2b\x01\x20\x00\x01\x00\x00\x00\x00\x00\x01\x01a\x05mesos\x00\x00\x01\x00\x01".to_vec();
    m.extend_from_slice(b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00");
    m.extend_from_slice(&(option.len() as u16).to_be_bytes());
    m.extend_from_slice(option);
    m
}

fn cookie_option(len: usize) -> Vec<u8> {
    let mut o = vec![0, 10];
    o.extend_from_slice(&(len as u16).to_be_bytes());
    o.extend((1..=len).map(|i| i as u8));
    o
}

#[test]
fn client_and_server_cookies_are_read() {
    let q = query_with(&cookie_option(8));
    let c = Message::parse(&q).unwrap().cookie().unwrap();
    assert_eq!((c.client, c.server), ([1, 2, 3, 4, 5, 6, 7, 8], &[][..]));
    for len in [16, 24, 40] {
        let q = query_with(&cookie_option(len));
        let c = Message::parse(&q).unwrap().cookie().unwrap();
        assert_eq!(c.server.len(), len - 8);
        assert_eq!(c.server[0], 9);
    }
    // Among other options (padding before, an unknown one after).
    let mut options = b"\x00\x0c\x00\x02\x00\x00".to_vec();
    options.extend_from_slice(&cookie_option(24));
    options.extend_from_slice(b"\xfd\xe9\x00\x01\x07");
    let q = query_with(&options);
    assert_eq!(Message::parse(&q).unwrap().cookie().unwrap().server.len(), 16);
    assert!(Message::parse(&query_with(b"\x00\x0c\x00\x00"))
        .unwrap()
        .cookie()
        .is_none());
}

#[test]
fn a_cookie_of_a_wrong_length_or_a_second_one_is_malformed() {
    for len in (0..8).chain(9..16).chain([41, 48]) {
        let q = query_with(&cookie_option(len));
        assert_eq!(Message::parse(&q).unwrap_err(), ParseError::Malformed, "{len}");
        assert!(matches!(Received::read(&q), Received::Malformed(_)));
    }
    let two = [cookie_option(8), cookie_option(8)].concat();
    assert_eq!(Message::parse(&query_with(&two)).unwrap_err(), ParseError::Malformed);
    // A COOKIE header whose data runs past the OPT record.
    let mut cut = cookie_option(8);
    cut.truncate(6);
    assert_eq!(Message::parse(&query_with(&cut)).unwrap_err(), ParseError::Malformed);
}

#[test]
fn without_cookie_removes_the_option_and_shortens_the_opt_record() {
    let mut options = cookie_option(24);
    options.extend_from_slice(b"\x00\x0c\x00\x01\x00");
    let q = query_with(&options);
    let stripped = without_cookie(&Message::parse(&q).unwrap());
    assert_eq!(&stripped[..], &query_with(b"\x00\x0c\x00\x01\x00")[..]);
    let plain = query_with(b"");
    assert_eq!(&without_cookie(&Message::parse(&plain).unwrap())[..], &plain[..]);
}

/// An answer to `query_with(b"")`: the question, one A record, and an OPT record with `opt_rdata`.
fn answer_with_opt(opt_rdata: &[u8]) -> Vec<u8> {
    let mut a = query_with(opt_rdata);
    a[2] |= 0x80;
    a[7] = 1;
    let opt_at = 12 + 13;
    a.splice(
        opt_at..opt_at,
        *b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01",
    );
    a
}

const OPTION: [u8; OPTION_LEN] = *b"\x00\x0a\x00\x18clientckSERVERCOOKIE1234";

#[test]
fn our_cookie_joins_the_last_empty_opt_record_of_our_answer() {
    let mut buf = answer_with_opt(b"");
    let len = buf.len();
    buf.resize(600, 0);
    let n = add(&mut buf, len, &OPTION, 512, true).unwrap();
    assert_eq!(&buf[..n], &answer_with_opt(&OPTION)[..]);
    let c = Message::parse(&buf[..n]).unwrap().cookie().unwrap();
    assert_eq!((&c.client, c.server), (b"clientck", &b"SERVERCOOKIE1234"[..]));
    assert_eq!(add(&mut buf, n, &OPTION, 600, true), None, "it has one");
    assert_eq!(
        add(&mut buf, len, &OPTION, len + OPTION_LEN - 1, true),
        None,
        "past the limit"
    );
}

#[test]
fn our_cookie_joins_the_opt_record_of_a_relayed_answer_wherever_it_is() {
    // The upstream's OPT record carries an option and is followed by another record.
    let mut a = answer_with_opt(b"\x00\x0c\x00\x01\x00");
    a[11] = 2;
    a.extend_from_slice(b"\x01b\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x02");
    let len = a.len();
    a.resize(600, 0);
    let n = add(&mut a, len, &OPTION, 600, false).unwrap();
    let m = Message::parse(&a[..n]).unwrap();
    assert_eq!(m.cookie().unwrap().server, b"SERVERCOOKIE1234");
    let extra: Vec<_> = m.records(crate::wire::Section::Additional).collect();
    assert_eq!(extra.len(), 2);
    assert_eq!(extra[0].rdata.len(), 5 + OPTION_LEN);
    assert_eq!(extra[1].rdata, &[10, 0, 0, 2]);
}

#[test]
fn an_answer_without_opt_gets_one_with_our_cookie() {
    let mut a = answer_with_opt(b"");
    a.truncate(a.len() - 11);
    a[11] = 0;
    let len = a.len();
    a.resize(600, 0);
    let n = add(&mut a, len, &OPTION, 600, false).unwrap();
    let m = Message::parse(&a[..n]).unwrap();
    assert_eq!(m.header().arcount(), 1);
    assert_eq!(m.edns().unwrap().udp_size, 1232);
    assert_eq!(m.cookie().unwrap().client, *b"clientck");
}
