//! Each resolver's health, without sockets or a clock of its own: its smoothed round-trip time (RFC 6298
//! estimator), how long to wait for it before asking the next one too (the hedging delay), whether it
//! is up or down (two failures in a row: down; any valid answer: up), when a down resolver is probed
//! next (backoff), and its counters for `/metrics`. The relay table ([`super::table`]) reports sends,
//! answers and failures, and asks it which resolvers to skip and when to probe; it decides nothing
//! about queries itself.
//!
//! A failure is a datagram refused at once (ICMP port unreachable, a failed send or TCP connect), or a
//! send that heard nothing at all from that resolver within its RTO (RFC 6298: `srtt + 4 * rttvar`,
//! 1 s at least, the configured `timeout` at most). Only the resolver's liveness is judged: an answer
//! to any query sent to it since counts, so a query answered first by another resolver still tells
//! whether this one is alive.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Hedging delay bounds: never sooner than 50 ms (a loopback or LAN resolver's jitter is below it;
/// sooner would double the upstream load for nothing), never later than 1 s (the target of a client
/// that waits 5 s in all: a dead preferred resolver costs at most a fifth of it).
pub(crate) const HEDGE_MIN: Duration = Duration::from_millis(50);
/// See [`HEDGE_MIN`].
pub(crate) const HEDGE_MAX: Duration = Duration::from_millis(1000);
/// The hedging delay for a resolver that has not answered yet: about what unbound assumes for a
/// server it has no RTT for (376 ms), so a fresh resolver answering uncached names slowly is rarely
/// doubled, and a dead one costs the first queries less than half a second.
pub(crate) const HEDGE_UNMEASURED: Duration = Duration::from_millis(400);
/// RFC 6298's lower bound on the RTO (and its initial RTO): a resolver silent for longer than its RTO
/// has failed once.
pub(crate) const RTO_MIN: Duration = Duration::from_secs(1);
/// Failures in a row that mark a resolver down.
pub(crate) const FAILURES_DOWN: u32 = 2;
/// The first probe of a resolver marked down, after this long; each failed probe doubles the wait up
/// to [`PROBE_MAX`].
pub(crate) const PROBE_FIRST: Duration = Duration::from_millis(500);
/// The longest wait between probes: with [`PROBE_TIMEOUT`], a resolver that comes back is asked again
/// within 3 s (the target is 5 s), for one `. NS` query every 3 s while it is dead.
pub(crate) const PROBE_MAX: Duration = Duration::from_secs(2);
/// How long a probe waits for its answer.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// One resolver's state and counters.
#[derive(Debug, Clone)]
pub struct ResolverHealth {
    /// The resolver.
    pub addr: SocketAddr,
    /// Queries sent to it (probes included).
    pub sent: u64,
    /// Valid answers from it (RFC 5452 checks passed).
    pub answered: u64,
    /// Sends it did not answer within its RTO (probes within [`PROBE_TIMEOUT`]).
    pub timeouts: u64,
    /// Sends refused at once: ICMP unreachable, a failed send or TCP connect.
    pub errors: u64,
    up: bool,
    srtt: Option<Duration>,
    rttvar: Duration,
    failures: u32,
    last_answer: Option<Instant>,
    last_error: Option<Instant>,
    /// When the next probe is due (down, no probe out).
    next_probe: Option<Instant>,
    probe_wait: Duration,
}

impl ResolverHealth {
    fn new(addr: SocketAddr) -> ResolverHealth {
        ResolverHealth {
            addr,
            sent: 0,
            answered: 0,
            timeouts: 0,
            errors: 0,
            up: true,
            srtt: None,
            rttvar: Duration::ZERO,
            failures: 0,
            last_answer: None,
            last_error: None,
            next_probe: None,
            probe_wait: PROBE_FIRST,
        }
    }

    /// Whether it is up (not skipped).
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// The smoothed round-trip time, once it answered.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// RFC 6298's `srtt + 4 * rttvar` (unbounded), if measured.
    fn rto(&self) -> Option<Duration> {
        self.srtt.map(|s| s + 4 * self.rttvar)
    }

    fn fail(&mut self, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        if self.up && self.failures >= FAILURES_DOWN {
            self.up = false;
            self.probe_wait = PROBE_FIRST;
            self.next_probe = Some(now + PROBE_FIRST);
            log::warn!(
                "resolver {} failed {} times in a row: skipped until it answers a probe",
                self.addr,
                self.failures
            );
        }
    }
}

/// The health of every resolver of every list, by address.
#[derive(Debug, Clone, Default)]
pub(crate) struct Health {
    resolvers: Vec<ResolverHealth>,
}

impl Health {
    /// Every resolver in `addrs` up, unmeasured (an address listed twice is one resolver).
    pub(crate) fn new<'a>(addrs: impl IntoIterator<Item = &'a SocketAddr>) -> Health {
        let mut h = Health::default();
        h.set(addrs);
        h
    }

    /// The resolvers are `addrs` from now on: those known keep their state and counters.
    pub(crate) fn set<'a>(&mut self, addrs: impl IntoIterator<Item = &'a SocketAddr>) {
        let mut old = std::mem::take(&mut self.resolvers);
        for &addr in addrs {
            if self.resolvers.iter().any(|r| r.addr == addr) {
                continue;
            }
            let kept = old.iter().position(|r| r.addr == addr).map(|i| old.swap_remove(i));
            self.resolvers.push(kept.unwrap_or_else(|| ResolverHealth::new(addr)));
        }
    }

    /// Every resolver's state, in the order first listed.
    pub(crate) fn all(&self) -> &[ResolverHealth] {
        &self.resolvers
    }

    fn get(&mut self, addr: SocketAddr) -> Option<&mut ResolverHealth> {
        self.resolvers.iter_mut().find(|r| r.addr == addr)
    }

    fn get_ref(&self, addr: SocketAddr) -> Option<&ResolverHealth> {
        self.resolvers.iter().find(|r| r.addr == addr)
    }

    /// Whether `addr` is up (an unknown resolver is).
    pub(crate) fn is_up(&self, addr: SocketAddr) -> bool {
        self.get_ref(addr).map_or(true, |r| r.up)
    }

    /// How long to wait for `addr` before asking the next resolver too: its RTO within
    /// [[`HEDGE_MIN`], [`HEDGE_MAX`]], or [`HEDGE_UNMEASURED`].
    pub(crate) fn hedge_delay(&self, addr: SocketAddr) -> Duration {
        self.get_ref(addr)
            .and_then(ResolverHealth::rto)
            .map_or(HEDGE_UNMEASURED, |rto| rto.clamp(HEDGE_MIN, HEDGE_MAX))
    }

    /// How long after a send to `addr` silence counts as its failure: its RTO within [[`RTO_MIN`],
    /// `timeout`] (`timeout` if that is shorter than `RTO_MIN`).
    pub(crate) fn check_after(&self, addr: SocketAddr, timeout: Duration) -> Duration {
        let rto = self.get_ref(addr).and_then(ResolverHealth::rto).unwrap_or(RTO_MIN);
        rto.max(RTO_MIN).min(timeout)
    }

    /// A query was sent to `addr`.
    pub(crate) fn on_sent(&mut self, addr: SocketAddr) {
        if let Some(r) = self.get(addr) {
            r.sent += 1;
        }
    }

    /// `addr` answered, `rtt` after the send (RFC 6298 section 2 for the estimator): it is up.
    pub(crate) fn on_answer(&mut self, addr: SocketAddr, rtt: Duration, now: Instant) {
        let Some(r) = self.get(addr) else { return };
        r.answered += 1;
        r.failures = 0;
        r.last_answer = Some(now);
        match r.srtt {
            None => {
                r.srtt = Some(rtt);
                r.rttvar = rtt / 2;
            }
            Some(srtt) => {
                r.rttvar = (r.rttvar * 3 + if srtt > rtt { srtt - rtt } else { rtt - srtt }) / 4;
                r.srtt = Some((srtt * 7 + rtt) / 8);
            }
        }
        if !r.up {
            r.up = true;
            r.next_probe = None;
            log::warn!("resolver {} answers again: asked in its turn again", r.addr);
        }
    }

    /// A send to `addr` was refused at once (ICMP unreachable, send or connect failure).
    pub(crate) fn on_error(&mut self, addr: SocketAddr, now: Instant) {
        let Some(r) = self.get(addr) else { return };
        r.errors += 1;
        r.last_error = Some(now);
        r.fail(now);
    }

    /// A send to `addr` at `sent` has had [`Health::check_after`] to be answered: a failure unless
    /// `addr` answered anything since, or a refusal since was already counted.
    pub(crate) fn on_check(&mut self, addr: SocketAddr, sent: Instant, now: Instant) {
        let Some(r) = self.get(addr) else { return };
        let heard = |at: Option<Instant>| at.is_some_and(|t| t >= sent);
        if heard(r.last_answer) || heard(r.last_error) {
            return;
        }
        r.timeouts += 1;
        r.fail(now);
    }

    /// A down resolver whose probe is due at `now`, if any; its probe counts as out until
    /// [`Health::on_probe_failed`] or an answer.
    pub(crate) fn probe_due(&mut self, now: Instant) -> Option<SocketAddr> {
        let r = self
            .resolvers
            .iter_mut()
            .find(|r| r.next_probe.is_some_and(|due| due <= now))?;
        r.next_probe = None;
        Some(r.addr)
    }

    /// The probe of `addr` failed at `now` (no answer in [`PROBE_TIMEOUT`], refused, or none could be
    /// sent): the next one waits twice as long as the last, up to [`PROBE_MAX`].
    pub(crate) fn on_probe_failed(&mut self, addr: SocketAddr, timed_out: bool, now: Instant) {
        let Some(r) = self.get(addr) else { return };
        if timed_out {
            r.timeouts += 1;
        }
        if r.up {
            return;
        }
        r.probe_wait = (r.probe_wait * 2).min(PROBE_MAX);
        r.next_probe = Some(now + r.probe_wait);
    }

    /// When the next probe is due.
    pub(crate) fn next_probe(&self) -> Option<Instant> {
        self.resolvers.iter().filter_map(|r| r.next_probe).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn addr(n: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 5300 + n))
    }

    #[test]
    fn two_failures_in_a_row_mark_down_and_an_answer_marks_up() {
        let t0 = Instant::now();
        let mut h = Health::new(&[addr(1), addr(2)]);
        h.on_check(addr(1), t0, t0 + RTO_MIN);
        assert!(h.is_up(addr(1)), "one failure is not down");
        h.on_answer(addr(1), 5 * MS, t0 + RTO_MIN);
        h.on_check(addr(1), t0 + MS, t0 + RTO_MIN + MS);
        assert!(h.is_up(addr(1)), "answered since that send: not a failure");
        h.on_check(addr(1), t0 + 2 * RTO_MIN, t0 + 3 * RTO_MIN);
        assert!(h.is_up(addr(1)), "an answer in between resets the count");
        h.on_error(addr(1), t0 + 3 * RTO_MIN);
        assert!(!h.is_up(addr(1)));
        assert!(h.is_up(addr(2)));
        let r = &h.all()[0];
        assert_eq!((r.timeouts, r.errors, r.answered), (2, 1, 1));
        // A refusal counted is not counted again when that send's check comes.
        h.on_check(addr(1), t0 + 3 * RTO_MIN, t0 + 4 * RTO_MIN);
        assert_eq!(h.all()[0].timeouts, 2);
        h.on_answer(addr(1), 5 * MS, t0 + 5 * RTO_MIN);
        assert!(h.is_up(addr(1)));
        assert_eq!(h.next_probe(), None);
    }

    #[test]
    fn the_hedging_delay_follows_the_smoothed_rtt_within_bounds() {
        let t0 = Instant::now();
        let mut h = Health::new(&[addr(1)]);
        assert_eq!(h.hedge_delay(addr(1)), HEDGE_UNMEASURED);
        assert_eq!(h.check_after(addr(1), Duration::from_secs(5)), RTO_MIN);
        // First sample: srtt 20 ms, rttvar 10 ms: 60 ms.
        h.on_answer(addr(1), 20 * MS, t0);
        assert_eq!(h.hedge_delay(addr(1)), 60 * MS);
        // Steady 20 ms answers shrink rttvar: down to the floor.
        for _ in 0..20 {
            h.on_answer(addr(1), 20 * MS, t0);
        }
        assert_eq!(h.hedge_delay(addr(1)), HEDGE_MIN);
        assert_eq!(h.all()[0].srtt(), Some(20 * MS));
        // A resolver taking seconds: capped at 1 s; its failure check waits its RTO, up to `timeout`.
        for _ in 0..40 {
            h.on_answer(addr(1), 6000 * MS, t0);
        }
        assert_eq!(h.hedge_delay(addr(1)), HEDGE_MAX);
        assert_eq!(h.check_after(addr(1), Duration::from_secs(5)), Duration::from_secs(5));
        assert_eq!(h.check_after(addr(1), 300 * MS), 300 * MS, "never past `timeout`");
    }

    #[test]
    fn a_down_resolver_is_probed_with_backoff_until_it_answers() {
        let t0 = Instant::now();
        let mut h = Health::new(&[addr(1), addr(2)]);
        h.on_error(addr(1), t0);
        h.on_error(addr(1), t0);
        assert_eq!(h.next_probe(), Some(t0 + PROBE_FIRST));
        assert_eq!(h.probe_due(t0 + PROBE_FIRST - MS), None);
        let mut now = t0 + PROBE_FIRST;
        let mut waits = Vec::new();
        for _ in 0..5 {
            assert_eq!(h.probe_due(now), Some(addr(1)));
            assert_eq!(
                (h.probe_due(now), h.next_probe()),
                (None, None),
                "one probe out at a time"
            );
            now += PROBE_TIMEOUT;
            h.on_probe_failed(addr(1), true, now);
            let due = h.next_probe().unwrap();
            waits.push(due - now);
            now = due;
        }
        assert_eq!(waits, [1000 * MS, 2000 * MS, 2000 * MS, 2000 * MS, 2000 * MS]);
        assert_eq!(h.probe_due(now), Some(addr(1)));
        h.on_answer(addr(1), MS, now + MS);
        assert!(h.is_up(addr(1)));
        assert_eq!(h.next_probe(), None);
        h.on_probe_failed(addr(1), false, now + 2 * MS);
        assert_eq!(
            h.next_probe(),
            None,
            "a late probe failure of a resolver back up is nothing"
        );
    }

    #[test]
    fn a_reload_keeps_the_state_of_resolvers_still_listed() {
        let t0 = Instant::now();
        let mut h = Health::new(&[addr(1), addr(2), addr(1)]);
        assert_eq!(h.all().len(), 2);
        h.on_error(addr(2), t0);
        h.on_error(addr(2), t0);
        h.set(&[addr(3), addr(2)]);
        let got: Vec<_> = h.all().iter().map(|r| (r.addr, r.is_up(), r.errors)).collect();
        assert_eq!(got, [(addr(3), true, 0), (addr(2), false, 2)]);
    }
}
