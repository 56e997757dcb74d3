//! The table with its cache: answers go into it, a failed relay is answered from an expired entry
//! (serve-stale), a prefetch refreshes an entry without answering anyone, and a reload of the
//! resolver lists leaves pending queries going.

use super::*;
use crate::forward::cache::CacheConfig;

const S: Duration = Duration::from_secs(1);

fn cached_table(resolvers: &[SocketAddr], serve_stale: Duration) -> Table {
    let config = Config {
        resolvers: resolvers.to_vec(),
        ..Config::default()
    };
    let (upstreams, _) = Upstreams::new(&config, None, "127.0.0.1:53".parse().unwrap());
    let cache = CacheConfig {
        max_entries: 100,
        serve_stale,
    };
    Table::new(upstreams, TIMEOUT, sockets(), SecureRandom::new().unwrap(), Some(cache))
}

/// Relays `q` for `client` at `now` and has resolver 1 answer it with `MADE_UP` (TTL 60).
fn relay_answered(t: &mut Table, q: &[u8], client: Client, now: Instant) -> Vec<u8> {
    t.relay(q, client, now);
    let sent = one_udp(t);
    let up = answer(&sent.wire, &[MADE_UP]);
    t.on_udp_answer(sent.socket, sent.to, &up, now + MS);
    up
}

fn lookup(t: &mut Table, q: &[u8], now: Instant) -> Option<Vec<u8>> {
    let mut out = vec![0u8; 512];
    t.lookup(&crate::wire::Message::parse(q).unwrap(), Transport::Udp, now, &mut out)
        .map(|n| out[..n].to_vec())
}

#[test]
fn an_answer_relayed_once_answers_the_next_client_from_the_cache() {
    let mut t = cached_table(&[resolver(1)], Duration::ZERO);
    let t0 = Instant::now();
    let up = relay_answered(&mut t, &query(0x1111, WWW, rtype::A), UDP_CLIENT, t0);
    assert_eq!(one_reply(&mut t, UDP_CLIENT), with_id(&up, 0x1111));
    let reply = lookup(&mut t, &query(0x2222, WWW, rtype::A), t0 + S).expect("a hit");
    assert_eq!(reply[2..], up[2..], "the same answer, at 60 s less under a second");
    assert_eq!(id_of(&reply), 0x2222);
    assert!(ios(&mut t).is_empty(), "nothing asked upstream");
    let stats = t.stats();
    assert_eq!((stats.cache.hits, stats.cache.entries, stats.relayed), (1, 1, 1));
}

#[test]
fn when_every_resolver_fails_an_expired_answer_is_served_stale_instead_of_servfail() {
    for (serve_stale, want_stale) in [(S * 3600, true), (Duration::ZERO, false)] {
        let mut t = cached_table(&[resolver(1)], serve_stale);
        let t0 = Instant::now();
        relay_answered(&mut t, &query(0x1111, WWW, rtype::A), UDP_CLIENT, t0);
        delivered(&mut t);
        let later = t0 + S * 120;
        let q = query(0x3333, WWW, rtype::A);
        assert_eq!(lookup(&mut t, &q, later), None, "expired after its 60 s");
        t.relay(&q, UDP_CLIENT, later);
        one_udp(&mut t);
        t.expire(later + TIMEOUT);
        let reply = one_reply(&mut t, UDP_CLIENT);
        let m = Message::parse(&reply).unwrap();
        assert_eq!(m.id(), 0x3333);
        if want_stale {
            assert_eq!(m.rcode(), rcode::NOERROR);
            let ttls: Vec<u32> = m.records(crate::wire::Section::Answer).map(|r| r.ttl).collect();
            assert_eq!(ttls, [30], "RFC 8767's 30 s");
            assert_eq!((t.stats().cache.stale, t.stats.servfail), (1, 0));
        } else {
            assert_servfail_for(&reply, &q);
            assert_eq!(t.stats().cache.stale, 0);
        }
    }
}

#[test]
fn a_prefetch_refreshes_the_entry_and_answers_nobody() {
    let mut t = cached_table(&[resolver(1)], Duration::ZERO);
    let t0 = Instant::now();
    relay_answered(&mut t, &query(0x1111, WWW, rtype::A), UDP_CLIENT, t0);
    delivered(&mut t);
    let q = query(0x4444, WWW, rtype::A);
    assert!(lookup(&mut t, &q, t0 + S).is_some());
    assert!(ios(&mut t).is_empty(), "early in its life: no prefetch");
    assert!(
        lookup(&mut t, &q, t0 + S * 55).is_some(),
        "the client is answered at once"
    );
    let sent = one_udp(&mut t);
    assert_eq!(sent.wire[2..], q[2..], "the hit's question asked upstream");
    t.on_udp_answer(sent.socket, sent.to, &answer(&sent.wire, &[MADE_UP_2]), t0 + S * 56);
    assert!(
        delivered(&mut t).is_empty(),
        "a prefetch's answer goes to the cache only"
    );
    // Stored at 56 s, it lives to 116 s: past the first answer's 60 s.
    let reply = lookup(&mut t, &q, t0 + S * 100).expect("refreshed");
    assert_eq!(reply[reply.len() - 4..], MADE_UP_2.octets());
    assert_eq!(t.stats().cache.prefetches, 1);
}

#[test]
fn a_failed_prefetch_answers_nobody_either() {
    let mut t = cached_table(&[resolver(1)], Duration::ZERO);
    let t0 = Instant::now();
    relay_answered(&mut t, &query(0x1111, WWW, rtype::A), UDP_CLIENT, t0);
    delivered(&mut t);
    let q = query(0x4444, WWW, rtype::A);
    lookup(&mut t, &q, t0 + S);
    lookup(&mut t, &q, t0 + S * 55);
    one_udp(&mut t);
    t.expire(t0 + S * 55 + TIMEOUT);
    assert!(delivered(&mut t).is_empty());
    assert_eq!((t.stats.servfail, t.pending_count()), (0, 0));
}

#[test]
fn new_resolver_lists_apply_to_pending_queries_after_their_current_attempt() {
    let mut t = table(&[resolver(1), resolver(2)]);
    let t0 = Instant::now();
    // Asked of resolver 1, which the reload keeps (second now): its answer is still taken.
    let q = query(0x5555, WWW, rtype::A);
    t.relay(&q, UDP_CLIENT, t0);
    let sent = one_udp(&mut t);
    let lists = |rs: &[SocketAddr]| {
        let config = Config {
            resolvers: rs.to_vec(),
            ..Config::default()
        };
        Upstreams::new(&config, None, "127.0.0.1:53".parse().unwrap()).0
    };
    t.set_upstreams(lists(&[resolver(3), resolver(1)]), TIMEOUT);
    t.on_udp_answer(sent.socket, sent.to, &answer(&sent.wire, &[MADE_UP]), t0 + MS);
    assert_eq!(id_of(&one_reply(&mut t, UDP_CLIENT)), 0x5555);
    // Asked of resolver 1, which the reload drops: after its timeout, the new list's first.
    t.relay(&q, UDP_CLIENT, t0);
    assert_eq!(one_udp(&mut t).to, resolver(3));
    t.set_upstreams(lists(&[resolver(4), resolver(5)]), TIMEOUT);
    t.expire(t0 + TIMEOUT);
    assert_eq!(one_udp(&mut t).to, resolver(4), "the first of the new list");
    t.expire(t0 + TIMEOUT * 2);
    assert_eq!(one_udp(&mut t).to, resolver(5));
    t.expire(t0 + TIMEOUT * 3);
    assert_servfail_for(&one_reply(&mut t, UDP_CLIENT), &q);
    // New queries go to the new list.
    t.relay(&query(0x6666, WWW, rtype::A), UDP_CLIENT, t0);
    assert_eq!(one_udp(&mut t).to, resolver(4));
}

#[test]
fn a_client_kept_waiting_gets_the_expired_answer_at_the_stale_timer_and_the_late_answer_refreshes_the_cache() {
    let mut t = cached_table(&[resolver(1), resolver(2)], S * 3600);
    let t0 = Instant::now();
    relay_answered(&mut t, &query(0x1111, WWW, rtype::A), UDP_CLIENT, t0);
    delivered(&mut t);
    let later = t0 + S * 120;
    let q = query(0x5555, WWW, rtype::A);
    t.relay(&q, UDP_CLIENT, later);
    one_udp(&mut t);
    // The first resolver times out; the second is asked and is slow too.
    t.expire(later + TIMEOUT);
    let second = one_udp(&mut t);
    t.expire(later + STALE_AFTER - MS);
    assert!(delivered(&mut t).is_empty(), "no answer before the stale timer");
    assert!(ios(&mut t).is_empty(), "nobody else to ask");
    t.expire(later + STALE_AFTER);
    let reply = one_reply(&mut t, UDP_CLIENT);
    let m = Message::parse(&reply).unwrap();
    assert_eq!((m.id(), m.rcode()), (0x5555, crate::wire::Rcode::NOERROR));
    let ttls: Vec<u32> = m.records(crate::wire::Section::Answer).map(|r| r.ttl).collect();
    assert_eq!(ttls, [30]);
    assert_eq!(t.pending_count(), 1, "the resolvers are still asked");
    // The late answer goes to the cache, not to the client a second time.
    t.on_udp_answer(
        second.socket,
        second.to,
        &answer(&second.wire, &[MADE_UP_2]),
        later + S * 2,
    );
    assert!(delivered(&mut t).is_empty());
    let fresh = lookup(&mut t, &query(0x6666, WWW, rtype::A), later + S * 3).expect("refreshed");
    assert_eq!(fresh[fresh.len() - 4..], MADE_UP_2.octets());
    assert_eq!((t.stats().cache.stale, t.stats.servfail), (1, 0));
}

#[test]
fn without_an_expired_answer_the_stale_timer_changes_nothing() {
    let mut t = cached_table(&[resolver(1), resolver(2)], S * 3600);
    let t0 = Instant::now();
    let q = query(0x7777, WWW, rtype::A);
    t.relay(&q, UDP_CLIENT, t0);
    one_udp(&mut t);
    t.expire(t0 + TIMEOUT);
    let second = one_udp(&mut t);
    t.expire(t0 + STALE_AFTER);
    assert!(delivered(&mut t).is_empty(), "nothing cached: the client waits");
    t.on_udp_answer(second.socket, second.to, &answer(&second.wire, &[MADE_UP]), t0 + S * 2);
    assert_eq!(id_of(&one_reply(&mut t, UDP_CLIENT)), 0x7777);
}

#[test]
fn with_the_table_full_an_expired_answer_is_served_instead_of_servfail() {
    let mut t = cached_table(&[resolver(1)], S * 3600);
    let t0 = Instant::now();
    relay_answered(&mut t, &query(0x1111, WWW, rtype::A), UDP_CLIENT, t0);
    delivered(&mut t);
    let later = t0 + S * 120;
    for i in 0..MAX_PENDING {
        t.relay(
            &query(0x2222, &format!("h{i}.example.com"), rtype::A),
            UDP_CLIENT,
            later,
        );
    }
    ios(&mut t);
    assert_eq!(t.pending_count(), MAX_PENDING);
    t.relay(&query(0x3333, WWW, rtype::A), UDP_CLIENT, later);
    let reply = one_reply(&mut t, UDP_CLIENT);
    let m = Message::parse(&reply).unwrap();
    assert_eq!((m.id(), m.rcode()), (0x3333, crate::wire::Rcode::NOERROR));
    assert_eq!((t.stats().cache.stale, t.stats.servfail), (1, 0));
    t.relay(&query(0x4444, "not-cached.example.com", rtype::A), UDP_CLIENT, later);
    assert_servfail_for(
        &one_reply(&mut t, UDP_CLIENT),
        &query(0x4444, "not-cached.example.com", rtype::A),
    );
}
