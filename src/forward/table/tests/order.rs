//! Resolver order, timeouts and failure; which resolvers a name goes to.

use super::*;

#[test]
fn first_resolver_silent_so_the_second_is_asked_too_after_the_hedging_delay() {
    for client in [UDP_CLIENT, TCP_CLIENT] {
        let mut t = table(&[resolver(1), resolver(2)]);
        let t0 = Instant::now();
        let q = query(0x2222, WWW, rtype::A);
        t.relay(&q, client, t0);
        // Where it went, over which socket or connection, and the bytes.
        let ask = |t: &mut Table| match client {
            Client::Udp { .. } => {
                let s = one_udp(t);
                (s.socket, s.to, s.wire)
            }
            Client::Tcp { .. } => one_tcp(t),
            Client::Prefetch => unreachable!(),
        };
        let (first_via, to, first_wire) = ask(&mut t);
        assert_eq!(to, resolver(1), "{client:?}: the first resolver is asked first");
        assert_eq!(t.next_deadline(), Some(t0 + HEDGE_UNMEASURED), "{client:?}");
        t.expire(t0 + HEDGE_UNMEASURED - MS);
        assert!(
            ios(&mut t).is_empty() && delivered(&mut t).is_empty(),
            "{client:?}: not yet"
        );
        t.expire(t0 + HEDGE_UNMEASURED);
        let (via, to, wire) = ask(&mut t);
        assert_eq!(
            to,
            resolver(2),
            "{client:?}: then the second too, the first still waited for"
        );
        assert_ne!(
            id_of(&wire),
            id_of(&first_wire),
            "{client:?}: each resolver has its own ID"
        );
        let up = answer(&wire, &[MADE_UP]);
        let late = answer(&first_wire, &[SPOOF_ADDR]);
        let at = t0 + HEDGE_UNMEASURED + MS;
        match client {
            Client::Udp { .. } => {
                t.on_udp_answer(via, to, &up, at);
                // The first resolver's answer, late: its ID is no longer pending.
                t.on_udp_answer(first_via, resolver(1), &late, at);
                assert_eq!(t.stats.rejected, 1);
            }
            Client::Tcp { .. } => {
                t.on_tcp_answer(via, &up, at);
                let mut closed = ios(&mut t);
                closed.sort_by_key(|io| format!("{io:?}"));
                assert_eq!(closed, [Io::CloseTcp { conn: first_via }, Io::CloseTcp { conn: via }]);
            }
            Client::Prefetch => unreachable!(),
        }
        assert_eq!(one_reply(&mut t, client), with_id(&up, 0x2222), "{client:?}");
        assert_eq!((t.pending_count(), t.stats.timeouts), (0, 0));
    }
}

#[test]
fn tcp_client_moves_past_a_refusing_resolver_at_once() {
    let mut t = table(&[resolver(1), resolver(2)]);
    let t0 = Instant::now();
    let q = query(0x3333, WWW, rtype::A);
    t.relay(&q, TCP_CLIENT, t0);
    let (conn, to, _) = one_tcp(&mut t);
    assert_eq!(to, resolver(1));
    // The connect is refused: no timeout is waited out.
    t.on_tcp_failed(conn, t0 + MS);
    let (conn, to, wire) = one_tcp(&mut t);
    assert_eq!(to, resolver(2));
    let up = answer(&wire, &[MADE_UP]);
    t.on_tcp_answer(conn, &up, t0 + 2 * MS);
    assert_eq!(one_reply(&mut t, TCP_CLIENT), with_id(&up, 0x3333));
    assert_eq!((t.stats.errors, t.stats.timeouts), (1, 0));
}

#[test]
fn every_resolver_dead_gives_servfail_once_each_was_waited_out() {
    let resolvers = [resolver(1), resolver(2), resolver(3)];
    let hedge = HEDGE_UNMEASURED;
    // Over UDP: the second is asked at the first's hedging delay; two at a time at most, so the third
    // waits for the first's timeout.
    let mut t = table(&resolvers);
    let t0 = Instant::now();
    let q = query(0x4444, "over-udp.example.com", rtype::A);
    t.relay(&q, UDP_CLIENT, t0);
    assert_eq!(one_udp(&mut t).to, resolvers[0]);
    t.expire(t0 + hedge);
    assert_eq!(one_udp(&mut t).to, resolvers[1]);
    t.expire(t0 + TIMEOUT - MS);
    assert!(ios(&mut t).is_empty(), "two in flight at most");
    t.expire(t0 + TIMEOUT);
    assert_eq!(one_udp(&mut t).to, resolvers[2], "in the configured order");
    t.expire(t0 + TIMEOUT + hedge);
    assert!(ios(&mut t).is_empty() && delivered(&mut t).is_empty());
    t.expire(t0 + 2 * TIMEOUT - MS);
    assert!(delivered(&mut t).is_empty(), "not before the last one's timeout");
    t.expire(t0 + 2 * TIMEOUT);
    assert_servfail_for(&one_reply(&mut t, UDP_CLIENT), &q);
    assert!(ios(&mut t).is_empty());
    assert_eq!((t.stats.timeouts, t.stats.servfail), (3, 1));

    // Over TCP the third refuses at once: the second's timeout ends it.
    let mut t = table(&resolvers);
    let q = query(0x4445, "over-tcp.example.com", rtype::A);
    t.relay(&q, TCP_CLIENT, t0);
    assert_eq!(one_tcp(&mut t).1, resolvers[0]);
    t.expire(t0 + hedge);
    assert_eq!(one_tcp(&mut t).1, resolvers[1]);
    t.expire(t0 + TIMEOUT);
    let (conn, to, _) = one_tcp(&mut t);
    assert_eq!(to, resolvers[2]);
    t.on_tcp_failed(conn, t0 + TIMEOUT + MS);
    assert_eq!(ios(&mut t), [Io::CloseTcp { conn }]);
    assert!(delivered(&mut t).is_empty(), "the second is still waited for");
    t.expire(t0 + TIMEOUT + hedge);
    assert_servfail_for(&one_reply(&mut t, TCP_CLIENT), &q);
    assert_eq!((t.stats.timeouts, t.stats.errors, t.stats.servfail), (2, 1, 1));
    assert_eq!(t.pending_count(), 0);
    t.expire(t0 + 10 * TIMEOUT);
    assert_eq!(t.stats.timeouts, 2, "stale deadlines are ignored");
}

#[test]
fn a_datagram_that_cannot_be_sent_moves_to_the_next_resolver_at_once() {
    let mut t = table(&[resolver(1), resolver(2)]);
    let t0 = Instant::now();
    t.relay(&query(0x5555, WWW, rtype::A), UDP_CLIENT, t0);
    let first = one_udp(&mut t);
    t.on_send_failed(first.attempt, t0);
    let second = one_udp(&mut t);
    assert_eq!(second.to, resolver(2));
    assert_eq!(t.wire(first.attempt), None, "the first attempt is over");
    t.on_send_failed(first.attempt, t0);
    assert!(ios(&mut t).is_empty(), "a stale report changes nothing");
    assert_eq!(t.stats.errors, 1);
}

#[test]
fn a_resolver_of_a_family_without_a_socket_is_skipped() {
    let config = Config {
        resolvers: vec!["[::1]:5300".parse().unwrap(), resolver(1)],
        ..Config::default()
    };
    let mut t = table_for(&config, vec!["0.0.0.0:40001".parse().unwrap()]);
    t.relay(&query(0x5656, WWW, rtype::A), UDP_CLIENT, Instant::now());
    assert_eq!(one_udp(&mut t).to, resolver(1));
    assert_eq!(t.stats.errors, 1);
}

#[test]
fn zone_resolvers_take_each_name_to_the_longest_matching_zone() {
    let (config, _) = Config::from_json(
        r#"{"masters": ["127.0.0.1:5050"], "resolvers": ["127.0.0.1:5301"],
            "zoneResolvers": {"corp": ["127.0.0.2:5302"], "EU.corp.": ["127.0.0.3:5303"]}}"#,
    )
    .expect("valid config");
    let mut t = table_for(&config, sockets());
    let cases = [
        ("host.eu.corp", 3),
        ("EU.Corp", 3),
        ("a.b.eu.corp", 3),
        ("x.corp", 2),
        ("xeu.corp", 2),
        ("corp", 2),
        ("www.google.com", 1),
        ("notcorp", 1),
        ("corp.example.com", 1),
    ];
    for (name, n) in cases {
        let q = query(0x6000, name, rtype::A);
        t.relay(&q, UDP_CLIENT, Instant::now());
        let sent = one_udp(&mut t);
        assert_eq!(sent.to, resolver(n), "{name}");
        assert_eq!(sent.wire[2..], q[2..], "{name}: the name as the client wrote it");
    }
}
