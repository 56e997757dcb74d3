use super::*;
use std::time::Duration;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn limiter(rate: u32, slip: u32) -> (Limiter, Instant) {
    let t0 = Instant::now();
    (Limiter::new(RateLimit { rate, slip }, t0), t0)
}

/// How many of `n` responses to `from` at `at` are sent, slipped and dropped.
fn tally(l: &mut Limiter, from: &str, at: Instant, n: usize) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for _ in 0..n {
        match l.check(ip(from), false, at) {
            Verdict::Send => counts.0 += 1,
            Verdict::Slip => counts.1 += 1,
            Verdict::Drop => counts.2 += 1,
        }
    }
    counts
}

#[test]
fn a_network_gets_one_seconds_burst_then_the_rate() {
    let (mut l, t0) = limiter(10, 0);
    assert_eq!(
        tally(&mut l, "198.51.100.7", t0, 25),
        (10, 0, 15),
        "the burst is one second's worth"
    );
    // A token comes back every 100 ms, not before.
    assert_eq!(
        tally(&mut l, "198.51.100.7", t0 + Duration::from_millis(99), 1),
        (0, 0, 1)
    );
    assert_eq!(
        tally(&mut l, "198.51.100.7", t0 + Duration::from_millis(100), 2),
        (1, 0, 1)
    );
    // A flood of a thousand a second over 10 s: the rate gets through, no more.
    let mut sent = 0;
    for ms in 1..=10_000u64 {
        sent += tally(&mut l, "198.51.100.7", t0 + Duration::from_millis(100 + ms), 1).0;
    }
    assert_eq!(sent, 100);
    // After a quiet second the bucket is full again, and no fuller.
    let later = t0 + Duration::from_secs(60);
    assert_eq!(tally(&mut l, "198.51.100.7", later, 20).0, 10);
}

#[test]
fn time_in_steps_under_a_millisecond_still_refills() {
    let (mut l, t0) = limiter(1000, 0);
    assert_eq!(tally(&mut l, "198.51.100.7", t0, 1000).0, 1000);
    // Queries every 100 µs for a second: a thousand more get through, however small the steps.
    let mut sent = 0;
    for step in 1..=10_000u64 {
        sent += tally(&mut l, "198.51.100.7", t0 + Duration::from_micros(100 * step), 1).0;
    }
    assert_eq!(sent, 1000);
}

#[test]
fn networks_are_a_24_or_a_56_and_limited_apart() {
    let (mut l, t0) = limiter(5, 0);
    assert_eq!(tally(&mut l, "198.51.100.7", t0, 10).0, 5);
    // The same /24, another address, and the same client through a dual-stack socket: limited.
    assert_eq!(tally(&mut l, "198.51.100.200", t0, 1).0, 0);
    assert_eq!(tally(&mut l, "::ffff:198.51.100.9", t0, 1).0, 0);
    // Another /24, and IPv6: answered in full.
    assert_eq!(tally(&mut l, "198.51.101.7", t0, 5).0, 5);
    assert_eq!(tally(&mut l, "203.0.113.9", t0, 5).0, 5);
    assert_eq!(tally(&mut l, "2001:db8:0:ff01::1", t0, 10).0, 5);
    assert_eq!(tally(&mut l, "2001:db8:0:ffee::2", t0, 1).0, 0, "the same /56");
    assert_eq!(tally(&mut l, "2001:db8:0:100::1", t0, 5).0, 5, "another /56");
    // IPv4 networks and IPv6 ones never share a bucket (0.0.0.0/24 and ::/56 alike).
    assert_eq!(tally(&mut l, "0.0.0.1", t0, 10).0, 5);
    assert_eq!(tally(&mut l, "::1", t0, 5).0, 5);
}

#[test]
fn every_slip_th_response_over_the_limit_slips() {
    for (slip, want) in [(0, (2, 0, 10)), (1, (2, 10, 0)), (2, (2, 5, 5)), (3, (2, 3, 7))] {
        let (mut l, t0) = limiter(2, slip);
        assert_eq!(tally(&mut l, "203.0.113.9", t0, 12), want, "slip {slip}");
    }
    // Every second one: dropped, slipped, dropped, slipped.
    let (mut l, t0) = limiter(1, 2);
    let got: Vec<_> = (0..5).map(|_| l.check(ip("203.0.113.9"), false, t0)).collect();
    use Verdict::*;
    assert_eq!(got, [Send, Drop, Slip, Drop, Slip]);
}

#[test]
fn a_verified_client_is_never_limited_and_spends_nothing() {
    let (mut l, t0) = limiter(1, 0);
    for _ in 0..100 {
        assert_eq!(l.check(ip("198.51.100.7"), true, t0), Verdict::Send);
    }
    assert_eq!(
        l.check(ip("198.51.100.7"), false, t0),
        Verdict::Send,
        "its bucket is untouched"
    );
    assert_eq!(l.check(ip("198.51.100.7"), false, t0), Verdict::Drop);
}

#[test]
fn a_flood_from_many_networks_neither_grows_the_table_nor_frees_a_limited_one() {
    let (mut l, t0) = limiter(10, 0);
    assert_eq!(tally(&mut l, "198.51.100.7", t0, 1000).0, 10);
    // A forged flood from 200,000 networks (more than ten times the slots), within one millisecond.
    for i in 0..200_000u32 {
        let from = IpAddr::V4((0x0a00_0000 + (i << 8)).into());
        let at = t0 + Duration::from_micros(u64::from(i) / 200);
        assert_eq!(l.check(from, false, at), Verdict::Send, "a new network has its burst");
    }
    assert_eq!(l.slots.len(), SLOTS, "the table is the size it was made");
    let at = t0 + Duration::from_millis(1);
    assert_eq!(
        tally(&mut l, "198.51.100.7", at, 100).0,
        0,
        "the limited network kept its (empty) bucket"
    );
    // Its tokens come back at the rate.
    assert_eq!(tally(&mut l, "198.51.100.7", t0 + Duration::from_millis(100), 5).0, 1);
}

/// An answer to `www.example.` A with one record and an OPT record.
fn answer() -> Vec<u8> {
    let mut a = vec![0xab, 0xcd, 0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 1];
    a.extend_from_slice(b"\x03www\x07example\x00\x00\x01\x00\x01");
    a.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
    a.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
    a
}

#[test]
fn a_slipped_answer_is_the_header_with_tc_and_the_question() {
    let a = answer();
    let mut out = [0u8; 512];
    let n = slipped(&a, &mut out).expect("readable");
    let mut want = vec![0xab, 0xcd, 0x87, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
    want.extend_from_slice(b"\x03www\x07example\x00\x00\x01\x00\x01");
    assert_eq!(&out[..n], &want[..]);
    let m = crate::wire::Message::parse(&out[..n]).expect("a message our parser reads");
    assert!(m.header().is_truncated());
    // A header alone (FORMERR without a question) slips as a header.
    let mut h = a[..12].to_vec();
    h[5] = 0;
    assert_eq!(slipped(&h, &mut out), Some(12));
    // Unreadable: dropped rather than slipped.
    assert_eq!(slipped(&a[..20], &mut out), None, "the question runs past the end");
    assert_eq!(slipped(&a[..5], &mut out), None);
    assert_eq!(slipped(&a, &mut out[..20]), None, "no room");
}
