//! IDs, sockets and the table's size.

use super::*;

#[test]
fn relayed_queries_carry_fresh_random_ids_from_several_source_ports() {
    let mut t = table(&[resolver(1)]);
    let now = Instant::now();
    const N: u16 = 40;
    let mut seen = Vec::new();
    for i in 0..N {
        let q = query(0x1000 + i, &format!("host{i}.example.com"), rtype::A);
        t.relay(&q, UDP_CLIENT, now);
        let sent = one_udp(&mut t);
        assert_eq!(sent.to, resolver(1));
        assert!(sent.socket < 4, "an IPv4 socket for an IPv4 resolver");
        assert_eq!(sent.wire[2..], q[2..], "the query relayed as asked but for the ID");
        let up = answer(&sent.wire, &[MADE_UP]);
        t.on_udp_answer(sent.socket, sent.to, &up, now);
        assert_eq!(
            one_reply(&mut t, UDP_CLIENT),
            with_id(&up, 0x1000 + i),
            "the client's ID restored"
        );
        seen.push((id_of(&sent.wire), sent.socket));
    }
    let kept = seen.iter().zip(0x1000..).filter(|(s, id)| s.0 == *id).count();
    assert!(kept <= 2, "{kept} of {N} relayed queries kept the client's ID");
    let ids: HashSet<u16> = seen.iter().map(|s| s.0).collect();
    assert!(ids.len() >= usize::from(N) - 2, "IDs repeat: {ids:?}");
    let steps = seen.windows(2).filter(|w| w[1].0 == w[0].0.wrapping_add(1)).count();
    assert!(steps <= 2, "IDs look sequential: {seen:?}");
    let sockets: HashSet<usize> = seen.iter().map(|s| s.1).collect();
    assert!(sockets.len() >= 2, "every query left from one socket: {sockets:?}");
    assert_eq!(t.stats.relayed, u64::from(N));
    assert_eq!(t.stats.answered, u64::from(N));
}

/// A table with one socket holding `MAX_PENDING` queries, all with the same client ID; returns what
/// was sent for each.
fn full_table() -> (Table, Vec<Sent>, Instant) {
    let config = Config {
        resolvers: vec![resolver(1)],
        ..Config::default()
    };
    let mut t = table_for(&config, vec!["0.0.0.0:40001".parse().unwrap()]);
    let now = Instant::now();
    let sent = (0..MAX_PENDING)
        .map(|i| {
            t.relay(&query(0x1234, &format!("h{i}.example.com"), rtype::A), UDP_CLIENT, now);
            one_udp(&mut t)
        })
        .collect();
    (t, sent, now)
}

#[test]
fn ids_are_unique_among_the_queries_pending_on_a_socket() {
    // 4096 of 65536 IDs: random picks alone would collide about a hundred times.
    let (t, sent, _) = full_table();
    let ids: HashSet<u16> = sent.iter().map(|s| id_of(&s.wire)).collect();
    assert_eq!(ids.len(), MAX_PENDING);
    assert_eq!(t.pending_count(), MAX_PENDING);
}

#[test]
fn past_4096_pending_queries_new_ones_get_servfail_at_once() {
    let (mut t, sent, now) = full_table();
    let q = query(0x4321, "one-too-many.example.com", rtype::A);
    t.relay(&q, UDP_CLIENT, now);
    assert!(ios(&mut t).is_empty(), "nothing sent upstream");
    assert_servfail_for(&one_reply(&mut t, UDP_CLIENT), &q);
    assert_eq!((t.stats.servfail, t.pending_count()), (1, MAX_PENDING));
    // One answered makes room for one more.
    let first = &sent[0];
    t.on_udp_answer(first.socket, first.to, &answer(&first.wire, &[MADE_UP]), now);
    assert_eq!(delivered(&mut t).len(), 1);
    t.relay(&q, UDP_CLIENT, now);
    assert_eq!(one_udp(&mut t).to, resolver(1));
}

#[test]
fn no_resolver_gives_servfail_at_once() {
    let mut t = table(&[]);
    let q = query(0x0101, WWW, rtype::A);
    t.relay(&q, TCP_CLIENT, Instant::now());
    assert!(ios(&mut t).is_empty());
    assert_servfail_for(&one_reply(&mut t, TCP_CLIENT), &q);
    assert_eq!(t.next_deadline(), None);
}
