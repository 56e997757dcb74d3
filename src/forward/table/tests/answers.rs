//! What comes back: TCP after truncation, RFC 5452 checks (answers that are not the answer to what we asked are dropped, and we keep waiting), and loops.

use super::*;

#[test]
fn truncated_udp_answer_is_retried_over_tcp_to_the_same_resolver() {
    let mut t = table(&[resolver(1), resolver(2)]);
    let t0 = Instant::now();
    let q = query(0x7777, WWW, rtype::A);
    t.relay(&q, UDP_CLIENT, t0);
    let sent = one_udp(&mut t);
    t.on_udp_answer(sent.socket, sent.to, &reply(&sent.wire, field::TC, &[]), t0);
    assert!(delivered(&mut t).is_empty());
    let (conn, to, wire) = one_tcp(&mut t);
    assert_eq!(to, resolver(1), "the same resolver is asked over TCP, not the next one");
    assert_eq!(wire[2..], q[2..]);
    let whole = answer(&wire, &[MADE_UP, MADE_UP_2]);
    t.on_tcp_answer(conn, &whole, t0 + MS);
    let got = one_reply(&mut t, UDP_CLIENT);
    assert_eq!(
        got,
        with_id(&whole, 0x7777),
        "the client gets the whole answer, fetched over TCP"
    );
    assert_eq!(Message::parse(&got).unwrap().flags() & field::TC, 0);
    assert_eq!(ios(&mut t), [Io::CloseTcp { conn }]);
}

#[test]
fn answer_too_big_for_the_client_is_passed_on_truncated_without_records() {
    // 40 A records: 672 bytes, more than a client without EDNS takes over UDP.
    let many: Vec<Ipv4Addr> = (1..=40).map(|i| Ipv4Addr::new(127, 1, 3, i)).collect();
    let t0 = Instant::now();
    for (q, client_takes_all) in [
        (query(0x7001, WWW, rtype::A), false),
        (query_edns(0x7002, WWW, rtype::A, 4096), true),
    ] {
        let mut t = table(&[resolver(1)]);
        t.relay(&q, UDP_CLIENT, t0);
        let sent = one_udp(&mut t);
        let truncated = reply(&sent.wire, field::TC, &[]);
        t.on_udp_answer(sent.socket, sent.to, &truncated, t0);
        let (conn, _, wire) = one_tcp(&mut t);
        let whole = answer(&wire, &many);
        assert_eq!(whole.len(), 672);
        t.on_tcp_answer(conn, &whole, t0);
        let got = one_reply(&mut t, UDP_CLIENT);
        if client_takes_all {
            assert_eq!(
                got,
                with_id(&whole, 0x7002),
                "a client offering 4096 bytes gets all of it"
            );
        } else {
            assert_eq!(
                got,
                with_id(&truncated, 0x7001),
                "512 bytes is all it takes: header and question, TC set"
            );
            assert_ne!(Message::parse(&got).unwrap().flags() & field::TC, 0);
        }
    }
    // Over TCP it is relayed over TCP only, and whole.
    let mut t = table(&[resolver(1)]);
    t.relay(&query(0x7003, WWW, rtype::A), TCP_CLIENT, t0);
    let (conn, _, wire) = one_tcp(&mut t);
    let whole = answer(&wire, &many);
    t.on_tcp_answer(conn, &whole, t0);
    assert_eq!(one_reply(&mut t, TCP_CLIENT), with_id(&whole, 0x7003));
}

#[test]
fn failed_tcp_retry_passes_the_truncation_on_without_the_partial_records() {
    let t0 = Instant::now();
    for fail_by_timeout in [false, true] {
        let mut t = table(&[resolver(1), resolver(2)]);
        t.relay(&query(0x7100, WWW, rtype::A), UDP_CLIENT, t0);
        let sent = one_udp(&mut t);
        let truncated = reply(&sent.wire, field::TC, &[MADE_UP]);
        t.on_udp_answer(sent.socket, sent.to, &truncated, t0);
        let (conn, _, _) = one_tcp(&mut t);
        if fail_by_timeout {
            t.expire(t0 + TIMEOUT);
        } else {
            t.on_tcp_failed(conn, t0 + MS);
        }
        assert_eq!(
            one_reply(&mut t, UDP_CLIENT),
            with_id(&reply(&sent.wire, field::TC, &[]), 0x7100),
            "TC set, the upstream's partial answer section left out"
        );
        assert_eq!(
            ios(&mut t),
            [Io::CloseTcp { conn }],
            "and the next resolver is not asked"
        );
    }
}

#[test]
fn udp_answer_bigger_than_the_client_takes_is_truncated_to_header_and_question() {
    // An upstream that ignores the client's limit: 46 A records, 768 bytes, to a client without EDNS
    // (512) and to one offering 4096 (capped at our 1232), over UDP without TC.
    let many: Vec<Ipv4Addr> = (1..=46).map(|i| Ipv4Addr::new(127, 1, 3, i)).collect();
    let t0 = Instant::now();
    for (q, fits) in [
        (query(0x7201, WWW, rtype::A), false),
        (query_edns(0x7202, WWW, rtype::A, 4096), true),
    ] {
        let mut t = table(&[resolver(1)]);
        t.relay(&q, UDP_CLIENT, t0);
        let sent = one_udp(&mut t);
        let big = answer(&sent.wire, &many);
        assert_eq!(big.len(), 768);
        t.on_udp_answer(sent.socket, sent.to, &big, t0);
        assert!(ios(&mut t).is_empty(), "no TCP retry of our own: the client retries");
        let got = one_reply(&mut t, UDP_CLIENT);
        if fits {
            assert_eq!(got, with_id(&big, 0x7202));
            assert_eq!(t.stats.truncated, 0);
        } else {
            let msg = Message::parse(&got).expect("parses");
            assert_ne!(msg.flags() & field::TC, 0);
            assert_eq!(got, with_id(&reply(&sent.wire, field::TC, &[]), 0x7201));
            assert_eq!((t.stats.truncated, t.stats.answered), (1, 1));
        }
    }
}

#[test]
fn a_wrong_tcp_answer_moves_to_the_next_resolver() {
    let t0 = Instant::now();
    for wrong in ["id", "question"] {
        let mut t = table(&[resolver(1), resolver(2)]);
        t.relay(&query(0x7200, WWW, rtype::A), TCP_CLIENT, t0);
        let (conn, _, wire) = one_tcp(&mut t);
        let bad = match wrong {
            "id" => with_id(&answer(&wire, &[SPOOF_ADDR]), !id_of(&wire)),
            _ => answer(
                &with_id(&query(0, "spoof.example.net", rtype::A), id_of(&wire)),
                &[SPOOF_ADDR],
            ),
        };
        t.on_tcp_answer(conn, &bad, t0);
        assert!(delivered(&mut t).is_empty(), "{wrong}");
        assert_eq!(one_tcp(&mut t).1, resolver(2), "{wrong}");
        assert_eq!(t.stats.rejected, 1);
    }
}

// ---------------------------------------------------------------------------------------------------
// RFC 5452

#[derive(Debug, Clone, Copy)]
enum Spoof {
    OtherPort,
    OtherAddress,
    OtherSocket,
    WrongId,
    WrongQuestion,
    NotResponse,
}

const SPOOFS: [Spoof; 6] = [
    Spoof::OtherPort,
    Spoof::OtherAddress,
    Spoof::OtherSocket,
    Spoof::WrongId,
    Spoof::WrongQuestion,
    Spoof::NotResponse,
];

/// Feeds the table a spoofed answer of kind `spoof` for `sent`.
fn spoof_answer(t: &mut Table, sent: &Sent, spoof: Spoof, now: Instant) {
    let good = answer(&sent.wire, &[SPOOF_ADDR]);
    let (mut socket, mut from, mut bytes) = (sent.socket, sent.to, good.clone());
    match spoof {
        Spoof::OtherPort => from.set_port(from.port() + 1),
        Spoof::OtherAddress => from.set_ip(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 99))),
        Spoof::OtherSocket => socket = (socket + 1) % 4,
        Spoof::WrongId => bytes = with_id(&good, !id_of(&good)),
        Spoof::WrongQuestion => {
            bytes = answer(
                &with_id(&query(0, "spoof.example.net", rtype::A), id_of(&good)),
                &[SPOOF_ADDR],
            )
        }
        Spoof::NotResponse => bytes[2] &= 0x7f,
    }
    t.on_udp_answer(socket, from, &bytes, now);
}

fn spoof_is_ignored(spoof: Spoof) {
    let mut t = table(&[resolver(1)]);
    let t0 = Instant::now();
    t.relay(&query(0x8000, WWW, rtype::A), UDP_CLIENT, t0);
    let sent = one_udp(&mut t);
    spoof_answer(&mut t, &sent, spoof, t0 + MS);
    assert!(delivered(&mut t).is_empty(), "{spoof:?}: the spoof is not passed on");
    assert_eq!(t.stats.rejected, 1, "{spoof:?}: and counted");
    assert_eq!(t.pending_count(), 1, "{spoof:?}: still waiting");
    let genuine = answer(&sent.wire, &[MADE_UP]);
    t.on_udp_answer(sent.socket, sent.to, &genuine, t0 + 2 * MS);
    assert_eq!(
        one_reply(&mut t, UDP_CLIENT),
        with_id(&genuine, 0x8000),
        "{spoof:?}: the genuine answer, when it comes"
    );
}

#[test]
fn answer_from_another_source_port_is_ignored() {
    spoof_is_ignored(Spoof::OtherPort);
}

#[test]
fn answer_from_another_address_or_to_another_of_our_sockets_is_ignored() {
    spoof_is_ignored(Spoof::OtherAddress);
    spoof_is_ignored(Spoof::OtherSocket);
}

#[test]
fn answer_with_a_wrong_id_is_ignored() {
    spoof_is_ignored(Spoof::WrongId);
}

#[test]
fn answer_with_a_wrong_question_is_ignored() {
    spoof_is_ignored(Spoof::WrongQuestion);
}

#[test]
fn answer_without_qr_is_ignored() {
    spoof_is_ignored(Spoof::NotResponse);
}

#[test]
fn spoofs_alone_are_never_passed_on_and_end_in_servfail() {
    let t0 = Instant::now();
    for spoof in SPOOFS {
        let mut t = table(&[resolver(1)]);
        let q = query(0x8100, WWW, rtype::A);
        t.relay(&q, UDP_CLIENT, t0);
        let sent = one_udp(&mut t);
        spoof_answer(&mut t, &sent, spoof, t0 + MS);
        t.expire(t0 + TIMEOUT - MS);
        assert!(delivered(&mut t).is_empty(), "{spoof:?}");
        t.expire(t0 + TIMEOUT);
        assert_servfail_for(&one_reply(&mut t, UDP_CLIENT), &q);
    }
}

// ---------------------------------------------------------------------------------------------------
// Loops

#[test]
fn our_own_relayed_udp_query_is_recognised_whatever_the_sender_ip() {
    let mut t = table(&[resolver(1)]);
    t.relay(&query(0x1111, WWW, rtype::A), UDP_CLIENT, Instant::now());
    let sent = one_udp(&mut t);
    let port = sockets()[sent.socket].port();
    for ip in ["127.0.0.1", "192.0.2.1"] {
        let from = SocketAddr::new(ip.parse().unwrap(), port);
        assert!(t.is_own_query(from, &sent.wire), "our port and pending ID, from {ip}");
    }
    let from = SocketAddr::new("127.0.0.1".parse().unwrap(), port);
    assert!(
        !t.is_own_query(from, &with_id(&sent.wire, !id_of(&sent.wire))),
        "another ID"
    );
    assert!(
        !t.is_own_query("127.0.0.1:39999".parse().unwrap(), &sent.wire),
        "another port"
    );
    t.on_udp_answer(sent.socket, sent.to, &answer(&sent.wire, &[MADE_UP]), Instant::now());
    assert!(!t.is_own_query(from, &sent.wire), "no longer pending");
}

#[test]
fn our_own_upstream_tcp_connection_is_recognised() {
    let mut t = table(&[resolver(1)]);
    t.relay(&query(0x1212, WWW, rtype::A), TCP_CLIENT, Instant::now());
    let (conn, _, wire) = one_tcp(&mut t);
    t.on_tcp_opened(conn, "[::ffff:127.0.0.1]:45678".parse().unwrap());
    assert!(t.is_own_connection("127.0.0.1:45678".parse().unwrap()));
    assert!(t.is_own_connection("[::ffff:127.0.0.1]:45678".parse().unwrap()));
    assert!(!t.is_own_connection("127.0.0.1:45679".parse().unwrap()));
    t.on_tcp_answer(conn, &answer(&wire, &[MADE_UP]), Instant::now());
    assert!(!t.is_own_connection("127.0.0.1:45678".parse().unwrap()), "closed");
}
