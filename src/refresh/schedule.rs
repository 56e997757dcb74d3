//! When the next refresh is due, as a pure function of the clock: polls every period from the start, a
//! refresh that overran its period is followed by the next one at once (missed periods are not made
//! up), and a reload, a broken event stream or a new ZooKeeper leader ask for one now. The refresher
//! thread asks it how long to sleep; nothing here reads a clock.

use std::time::{Duration, Instant};

/// The refresh schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schedule {
    next: Instant,
}

impl Schedule {
    /// The first refresh is due at `start`; later ones a `period` apart (see [`Schedule::refreshed`]).
    pub(crate) fn new(start: Instant) -> Schedule {
        Schedule { next: start }
    }

    /// Whether a refresh is due at `now`.
    pub(crate) fn due(&self, now: Instant) -> bool {
        now >= self.next
    }

    /// A refresh ended at `now`: the next is due a `period` after the one that just ran was, or at once
    /// if that time has already passed.
    pub(crate) fn refreshed(&mut self, period: Duration, now: Instant) {
        self.next = (self.next + period).max(now);
    }

    /// Something asks for a refresh at `now`.
    pub(crate) fn now(&mut self, now: Instant) {
        self.next = self.next.min(now);
    }

    /// How long to sleep at `now`: until the next refresh, or until `wake` (the event stream's next
    /// deadline) if that is sooner.
    pub(crate) fn sleep(&self, now: Instant, wake: Option<Instant>) -> Duration {
        let until = wake.map_or(self.next, |w| w.min(self.next));
        until.saturating_duration_since(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_secs(60);

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn the_first_refresh_is_due_at_once_then_every_period_from_the_start() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0);
        assert!(s.due(t0));
        // The refresh took 300 ms: the next starts 60 s after the first started, not after it ended.
        s.refreshed(PERIOD, at(t0, 300));
        assert!(!s.due(at(t0, 59_999)));
        assert_eq!(s.sleep(at(t0, 300), None), Duration::from_millis(59_700));
        assert!(s.due(at(t0, 60_000)));
    }

    #[test]
    fn an_overrunning_refresh_is_followed_at_once_and_missed_periods_are_not_made_up() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0);
        // A refresh that took 150 s (two and a half periods).
        s.refreshed(PERIOD, at(t0, 150_000));
        assert!(s.due(at(t0, 150_000)));
        s.refreshed(PERIOD, at(t0, 150_100));
        // One refresh now (it started at 150 s), the next a period after it: not three in a row.
        assert!(!s.due(at(t0, 150_200)));
        assert_eq!(s.sleep(at(t0, 150_100), None), Duration::from_millis(59_900));
    }

    #[test]
    fn a_request_makes_a_refresh_due_now_and_never_later() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0);
        s.refreshed(PERIOD, at(t0, 10));
        s.now(at(t0, 5_000));
        assert!(s.due(at(t0, 5_000)));
        assert_eq!(s.sleep(at(t0, 5_000), None), Duration::ZERO);
        // Asking for "now" after a sooner time was already due leaves the sooner one.
        s.now(at(t0, 9_000));
        assert!(s.due(at(t0, 5_000)));
    }

    #[test]
    fn the_stream_deadline_shortens_the_sleep_but_does_not_make_a_refresh_due() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0);
        s.refreshed(PERIOD, at(t0, 0));
        assert_eq!(s.sleep(at(t0, 1_000), Some(at(t0, 1_250))), Duration::from_millis(250));
        assert_eq!(
            s.sleep(at(t0, 1_000), Some(at(t0, 90_000))),
            Duration::from_millis(59_000)
        );
        assert!(!s.due(at(t0, 1_250)));
    }
}
