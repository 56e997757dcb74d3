//! The router on hand-made messages: every route, and what changes it (transport, keys, relay policy).

use super::*;

const UDP: Sender = Sender {
    transport: Transport::Udp,
    may_relay: true,
};
const TCP: Sender = Sender {
    transport: Transport::Tcp,
    may_relay: true,
};
const PLAIN: Policy = Policy {
    tsig: false,
    external_on: true,
};
const KEYS: Policy = Policy {
    tsig: true,
    external_on: true,
};

/// A query for `a.mesos.` of `qtype`, with `flags`, and `additional` records appended (ARCOUNT counts
/// `arcount` of them).
fn message(flags: u16, qtype: u16, arcount: u16, additional: &[u8]) -> Vec<u8> {
    let mut m = vec![0x12, 0x34];
    m.extend_from_slice(&flags.to_be_bytes());
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0]);
    m.extend_from_slice(&arcount.to_be_bytes());
    m.extend_from_slice(b"\x01a\x05mesos\x00");
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m.extend_from_slice(additional);
    m
}

fn query(qtype: u16) -> Vec<u8> {
    message(0x0100, qtype, 0, &[])
}

/// An OPT record (EDNS0, no options).
const OPT: &[u8] = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00";
/// A TSIG record whose RDATA cannot be read: still a TSIG record (FORMERR is the signed path's).
const BAD_TSIG: &[u8] = b"\x01k\x00\x00\xfa\x00\xff\x00\x00\x00\x00\x00\x00";

fn route_of(bytes: &[u8], from: Sender, policy: Policy) -> String {
    let r = route(Received::read(bytes), from, policy);
    // Only the variant's name: the message inside is the one given.
    format!("{r:?}").split('(').next().unwrap_or_default().to_string()
}

#[test]
fn what_cannot_be_read_is_dropped_or_gets_formerr() {
    assert_eq!(route_of(&[0x12, 0x34, 0x01], UDP, PLAIN), "Drop");
    let q = query(1);
    assert_eq!(route_of(&q[..q.len() - 1], UDP, PLAIN), "FormErr");
    assert_eq!(route_of(&q[..q.len() - 1], TCP, KEYS), "FormErr");
}

#[test]
fn responses_are_dropped_but_notify_answers_over_udp() {
    let response = message(0x8180, 1, 0, &[]);
    assert_eq!(route_of(&response, UDP, PLAIN), "Drop");
    let notify_answer = message(0xa400, 6, 0, &[]);
    assert_eq!(route_of(&notify_answer, UDP, PLAIN), "Ack");
    assert_eq!(route_of(&notify_answer, TCP, PLAIN), "Drop", "we notify over UDP only");
    // A NOTIFY answer we cannot parse past its header is still looked up by its ID.
    assert_eq!(route_of(&notify_answer[..14], UDP, PLAIN), "Ack");
    assert_eq!(route_of(&response[..14], UDP, PLAIN), "Drop");
}

#[test]
fn ixfr_is_a_transfer_either_way_and_axfr_over_tcp_only() {
    assert_eq!(route_of(&query(251), UDP, PLAIN), "Transfer");
    assert_eq!(route_of(&query(251), TCP, PLAIN), "Transfer");
    assert_eq!(route_of(&query(252), TCP, PLAIN), "Transfer");
    // AXFR over UDP is the answer path's (REFUSED, RFC 5936 4.2).
    assert_eq!(route_of(&query(252), UDP, PLAIN), "Answer");
    // A transfer with two questions is no transfer.
    let mut two = query(252);
    two[5] = 2;
    two.extend_from_slice(b"\x01b\x00\x00\x01\x00\x01");
    assert_eq!(route_of(&two, TCP, PLAIN), "Answer");
}

#[test]
fn signed_queries_take_the_tsig_path_only_when_keys_are_configured() {
    let signed = message(0x0100, 1, 1, BAD_TSIG);
    assert_eq!(route_of(&signed, UDP, KEYS), "Signed");
    assert_eq!(route_of(&signed, TCP, KEYS), "Signed");
    assert_eq!(route_of(&signed, UDP, PLAIN), "Answer", "no keys: answered unsigned");
    let edns = message(0x0100, 1, 1, OPT);
    assert_eq!(route_of(&edns, UDP, KEYS), "Answer", "an OPT record is no signature");
    // A signed transfer request is a transfer (the transfer path checks its signature).
    assert_eq!(route_of(&message(0x0000, 252, 1, BAD_TSIG), TCP, KEYS), "Transfer");
}

#[test]
fn names_outside_the_domain_are_relayed_only_when_on_and_allowed() {
    let q = query(1);
    let outside = |from, policy| match route(Received::read(&q), from, policy) {
        Route::Answer(m, outside) => {
            assert_eq!(m.id(), 0x1234);
            outside
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(outside(UDP, PLAIN), Outside::Relay);
    let denied = Sender {
        may_relay: false,
        ..UDP
    };
    assert_eq!(outside(denied, PLAIN), Outside::NotAllowed, "relayAllowFrom");
    let off = Policy {
        external_on: false,
        ..PLAIN
    };
    assert_eq!(outside(TCP, off), Outside::Refuse, "externalon false");
    let denied_tcp = Sender {
        may_relay: false,
        ..TCP
    };
    assert_eq!(
        outside(denied_tcp, off),
        Outside::Refuse,
        "with relaying off a client's list does not matter"
    );
}
