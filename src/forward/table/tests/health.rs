//! Resolver health through the table: hedging, the first valid answer winning, resolvers marked down
//! and skipped, probes with backoff, ICMP refusals, and the black-holed-resolver target on virtual time.

use super::*;

/// The `. NS` probe: a query for the root's NS records.
fn is_probe(wire: &[u8]) -> bool {
    wire.len() == 17 && wire[2..] == PROBE_QUERY[2..]
}

/// Relays `name` as a UDP client at `now`; the one datagram sent.
fn ask(t: &mut Table, name: &str, now: Instant) -> Sent {
    t.relay(&query(0x1000, name, rtype::A), UDP_CLIENT, now);
    one_udp(t)
}

/// Answers `sent` from its resolver at `now` with one A record.
fn answer_sent(t: &mut Table, sent: &Sent, now: Instant) {
    t.on_udp_answer(sent.socket, sent.to, &answer(&sent.wire, &[MADE_UP]), now);
}

/// Every datagram the commands queued send.
fn sent_udp(t: &mut Table) -> Vec<Sent> {
    let mut sent = Vec::new();
    for io in ios(t) {
        if let Io::SendUdp { socket, to, attempt } = io {
            let wire = t.wire(attempt).expect("current").to_vec();
            sent.push(Sent {
                socket,
                to,
                attempt,
                wire,
            });
        }
    }
    sent
}

fn up(t: &Table, r: SocketAddr) -> bool {
    t.resolvers().iter().find(|h| h.addr == r).unwrap().is_up()
}

#[test]
fn the_first_valid_answer_wins_whichever_resolver_gives_it() {
    let mut t = table(&[resolver(1), resolver(2)]);
    let t0 = Instant::now();
    let first = ask(&mut t, WWW, t0);
    t.expire(t0 + HEDGE_UNMEASURED);
    let second = one_udp(&mut t);
    assert_eq!(second.to, resolver(2));
    // The second resolver's ID from the first resolver's address: rejected (RFC 5452, per resolver).
    t.on_udp_answer(
        second.socket,
        resolver(1),
        &answer(&second.wire, &[SPOOF_ADDR]),
        t0 + HEDGE_UNMEASURED,
    );
    // The first resolver's answer with another question: rejected.
    let other = query(id_of(&first.wire), "other.example.com", rtype::A);
    t.on_udp_answer(
        first.socket,
        resolver(1),
        &answer(&other, &[SPOOF_ADDR]),
        t0 + HEDGE_UNMEASURED,
    );
    assert_eq!((t.stats.rejected, t.pending_count()), (2, 1));
    // The first resolver, late but before the second: its answer goes to the client.
    let up_answer = answer(&first.wire, &[MADE_UP]);
    t.on_udp_answer(first.socket, resolver(1), &up_answer, t0 + HEDGE_UNMEASURED + MS);
    assert_eq!(one_reply(&mut t, UDP_CLIENT), with_id(&up_answer, 0x1000));
    answer_sent(&mut t, &second, t0 + HEDGE_UNMEASURED + 2 * MS);
    assert!(delivered(&mut t).is_empty(), "one answer per client");
    assert_eq!(t.stats.rejected, 3);
    let h = &t.resolvers()[0];
    assert_eq!((h.sent, h.answered, h.srtt()), (1, 1, Some(HEDGE_UNMEASURED + MS)));
}

#[test]
fn a_measured_resolver_is_hedged_after_its_rto_within_bounds() {
    let mut t = table(&[resolver(1), resolver(2)]);
    let t0 = Instant::now();
    // A few 2 ms answers: srtt + 4 * rttvar falls under 50 ms, so the delay is 50 ms.
    for i in 0..4u32 {
        let at = t0 + i * 10 * MS;
        let sent = ask(&mut t, &format!("n{i}.example.com"), at);
        answer_sent(&mut t, &sent, at + 2 * MS);
        delivered(&mut t);
    }
    let at = t0 + 100 * MS;
    assert_eq!(ask(&mut t, "slow.example.com", at).to, resolver(1));
    t.expire(at + HEDGE_MIN - MS);
    assert!(ios(&mut t).is_empty());
    t.expire(at + HEDGE_MIN);
    assert_eq!(one_udp(&mut t).to, resolver(2));
}

#[test]
fn two_silences_mark_the_first_resolver_down_and_a_probe_brings_it_back() {
    let mut t = table(&[resolver(1), resolver(2)]);
    let t0 = Instant::now();
    // Two queries the first resolver never answers, each answered by the second after the hedge.
    for i in 0..2u32 {
        let at = t0 + i * 500 * MS;
        let first = ask(&mut t, &format!("q{i}.example.com"), at);
        assert_eq!(first.to, resolver(1), "still up");
        t.expire(at + HEDGE_UNMEASURED);
        let second = one_udp(&mut t);
        answer_sent(&mut t, &second, at + HEDGE_UNMEASURED + MS);
        assert_eq!(delivered(&mut t).len(), 1);
    }
    // Its RTO (1 s, unmeasured) after each send it has failed once: down after the second.
    t.expire(t0 + 1000 * MS);
    assert!(up(&t, resolver(1)), "one failure");
    t.expire(t0 + 1500 * MS);
    assert!(!up(&t, resolver(1)), "two in a row");
    assert_eq!(t.resolvers()[0].timeouts, 2);
    let down_at = t0 + 1500 * MS;
    // Skipped: the second resolver is asked first, without a hedge to the first.
    let sent = ask(&mut t, "skip.example.com", down_at + MS);
    assert_eq!(sent.to, resolver(2));
    answer_sent(&mut t, &sent, down_at + 2 * MS);
    delivered(&mut t);
    // Probed with `. NS` at PROBE_FIRST; unanswered, again after 1 s more; then answered.
    t.expire(down_at + PROBE_FIRST - MS);
    assert!(ios(&mut t).is_empty(), "not probed yet");
    t.expire(down_at + PROBE_FIRST);
    let probe = one_udp(&mut t);
    assert_eq!(probe.to, resolver(1));
    assert!(is_probe(&probe.wire), "{:?}", probe.wire);
    t.expire(down_at + PROBE_FIRST + PROBE_TIMEOUT);
    assert!(
        ios(&mut t).is_empty() && delivered(&mut t).is_empty(),
        "a failed probe answers nobody"
    );
    let next = down_at + PROBE_FIRST + PROBE_TIMEOUT + 2 * PROBE_FIRST;
    t.expire(next - MS);
    assert!(ios(&mut t).is_empty(), "backoff");
    t.expire(next);
    let probe = one_udp(&mut t);
    assert!(is_probe(&probe.wire) && probe.to == resolver(1));
    // Any valid answer brings it back (REFUSED too): preferred at once, and nothing is cached or sent.
    let refused = reply(&probe.wire, rcode::REFUSED, &[]);
    t.on_udp_answer(probe.socket, probe.to, &refused, next + MS);
    assert!(up(&t, resolver(1)));
    assert!(delivered(&mut t).is_empty());
    assert_eq!(t.pending_count(), 0);
    assert_eq!(ask(&mut t, "back.example.com", next + 2 * MS).to, resolver(1));
}

#[test]
fn an_icmp_refusal_moves_on_at_once_and_two_mark_the_resolver_down() {
    let mut t = table(&[resolver(1), resolver(2)]);
    let t0 = Instant::now();
    for i in 0..2u32 {
        let at = t0 + i * MS;
        let first = ask(&mut t, &format!("r{i}.example.com"), at);
        assert_eq!(first.to, resolver(1));
        // An error for another destination or another ID changes nothing.
        t.on_udp_unreachable(first.socket, resolver(3), &first.wire, at);
        t.on_udp_unreachable(
            first.socket,
            resolver(1),
            &with_id(&first.wire, id_of(&first.wire) ^ 1),
            at,
        );
        assert!(ios(&mut t).is_empty());
        t.on_udp_unreachable(first.socket, resolver(1), &first.wire, at);
        let second = one_udp(&mut t);
        assert_eq!(second.to, resolver(2), "at once");
        answer_sent(&mut t, &second, at);
        assert_eq!(delivered(&mut t).len(), 1);
    }
    assert!(!up(&t, resolver(1)));
    let h = &t.resolvers()[0];
    assert_eq!((h.errors, h.timeouts), (2, 0));
    // Their checks come later and count nothing more.
    t.expire(t0 + Duration::from_secs(1) + MS);
    assert_eq!(t.resolvers()[0].timeouts, 0);
    // A refused probe waits its backoff for the next one.
    t.expire(t0 + MS + PROBE_FIRST);
    let probe = one_udp(&mut t);
    assert!(is_probe(&probe.wire));
    t.on_udp_unreachable(probe.socket, resolver(1), &probe.wire, t0 + MS + PROBE_FIRST);
    assert_eq!(t.pending_count(), 0);
    assert_eq!(t.next_deadline(), Some(t0 + MS + PROBE_FIRST + 2 * PROBE_FIRST));
}

#[test]
fn with_every_resolver_down_all_are_tried_in_order() {
    let mut t = table(&[resolver(1), resolver(2)]);
    let t0 = Instant::now();
    for i in 0..2u32 {
        let sent = ask(&mut t, &format!("d{i}.example.com"), t0);
        t.on_udp_unreachable(sent.socket, sent.to, &sent.wire, t0);
        let sent = one_udp(&mut t);
        t.on_udp_unreachable(sent.socket, sent.to, &sent.wire, t0);
        assert_servfail_for(
            &one_reply(&mut t, UDP_CLIENT),
            &query(0x1000, &format!("d{i}.example.com"), rtype::A),
        );
    }
    assert!(!up(&t, resolver(1)) && !up(&t, resolver(2)));
    let sent = ask(&mut t, "all-down.example.com", t0 + MS);
    assert_eq!(sent.to, resolver(1), "the first, as configured");
    t.on_udp_unreachable(sent.socket, sent.to, &sent.wire, t0 + MS);
    let sent = one_udp(&mut t);
    assert_eq!(sent.to, resolver(2));
    answer_sent(&mut t, &sent, t0 + 2 * MS);
    assert_eq!(delivered(&mut t).len(), 1);
    assert!(
        up(&t, resolver(2)) && !up(&t, resolver(1)),
        "an answer to a real query brings it back too"
    );
}

#[test]
fn a_black_holed_first_resolver_costs_a_few_queries_and_is_preferred_again_when_back() {
    // The target on virtual time: `timeout: 5`, the first resolver silent, 30 names asked one
    // after another, the second answering in 1 ms.
    let config = Config {
        resolvers: vec![resolver(1), resolver(2)],
        ..Config::default()
    };
    let (upstreams, _) = Upstreams::new(&config, None, "127.0.0.1:53".parse().unwrap());
    let mut t = Table::new(
        upstreams,
        Duration::from_secs(5),
        sockets(),
        SecureRandom::new().unwrap(),
        None,
    );
    let mut now = Instant::now();
    let mut took = Vec::new();
    for i in 0..30 {
        let start = now;
        t.relay(&query(0x1000, &format!("n{i}.example.com"), rtype::A), UDP_CLIENT, now);
        loop {
            let sent = sent_udp(&mut t);
            for s in sent.iter().filter(|s| s.to == resolver(2)) {
                answer_sent(&mut t, s, now + MS);
            }
            if !delivered(&mut t).is_empty() {
                now += MS;
                break;
            }
            now = t.next_deadline().expect("something to wait for");
            t.expire(now);
        }
        took.push(now - start);
    }
    took.sort();
    let over_1s = took.iter().filter(|d| **d > Duration::from_secs(1)).count();
    assert!(over_1s <= 3, "{took:?}");
    assert!(took[15] < HEDGE_MIN, "median {:?}", took[15]);
    assert!(!up(&t, resolver(1)));
    // It comes back: the next probe (at most PROBE_MAX + PROBE_TIMEOUT away) finds it.
    let back = now;
    loop {
        now = t.next_deadline().expect("a probe is scheduled");
        assert!(now - back <= PROBE_MAX + PROBE_TIMEOUT);
        t.expire(now);
        let probes = sent_udp(&mut t);
        if let Some(p) = probes.iter().find(|p| p.to == resolver(1)) {
            answer_sent(&mut t, p, now + MS);
            break;
        }
    }
    assert!(up(&t, resolver(1)));
    assert_eq!(ask(&mut t, "again.example.com", now + 2 * MS).to, resolver(1));
}

#[test]
fn a_slow_resolver_is_not_hedged_to_one_that_is_down_but_its_timeout_falls_back_to_it() {
    let mut t = table(&[resolver(1), resolver(2)]);
    let t0 = Instant::now();
    // The first resolver refuses twice: down, and the second is the one asked first.
    for i in 0..2u32 {
        let first = ask(&mut t, &format!("x{i}.example.com"), t0);
        t.on_udp_unreachable(first.socket, first.to, &first.wire, t0);
        let second = one_udp(&mut t);
        answer_sent(&mut t, &second, t0 + MS);
        delivered(&mut t);
    }
    assert!(!up(&t, resolver(1)) && up(&t, resolver(2)));
    let at = t0 + 2 * MS;
    let sent = ask(&mut t, "slow.example.com", at);
    assert_eq!(sent.to, resolver(2));
    // Past its hedging delay (its RTT was 1 ms: 50 ms) only the probe of the first goes out.
    t.expire(at + Duration::from_millis(60));
    let probes = sent_udp(&mut t);
    assert!(
        probes.iter().all(|s| is_probe(&s.wire)),
        "no hedge to a resolver that is down"
    );
    // Its timeout gives the down resolver its turn: better than SERVFAIL.
    t.expire(at + TIMEOUT);
    let last = sent_udp(&mut t);
    assert!(
        last.iter().any(|s| s.to == resolver(1) && !is_probe(&s.wire)),
        "{:?}",
        last.iter().map(|s| s.to).collect::<Vec<_>>()
    );
}

#[test]
fn a_truncated_answer_from_the_hedge_is_retried_over_tcp_from_that_resolver_alone() {
    let mut t = table(&[resolver(1), resolver(2)]);
    let t0 = Instant::now();
    let first = ask(&mut t, WWW, t0);
    t.expire(t0 + HEDGE_UNMEASURED);
    let second = one_udp(&mut t);
    let tc = reply(&second.wire, field::TC, &[]);
    t.on_udp_answer(second.socket, second.to, &tc, t0 + HEDGE_UNMEASURED + MS);
    let (conn, to, wire) = one_tcp(&mut t);
    assert_eq!(to, resolver(2), "the resolver that answered");
    // The first resolver's leg is over: its answer now is a stray.
    answer_sent(&mut t, &first, t0 + HEDGE_UNMEASURED + 2 * MS);
    assert_eq!(t.stats.rejected, 1);
    // No hedge for the TCP retry: only its timeout ends it, with the truncated answer.
    t.expire(t0 + HEDGE_UNMEASURED + Duration::from_millis(500));
    assert!(ios(&mut t).is_empty() && delivered(&mut t).is_empty());
    let whole = answer(&wire, &[MADE_UP]);
    t.on_tcp_answer(conn, &whole, t0 + HEDGE_UNMEASURED + Duration::from_millis(600));
    assert_eq!(one_reply(&mut t, UDP_CLIENT), with_id(&whole, 0x1000));
}
