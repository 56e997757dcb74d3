//! When the next refresh is due, as a pure function of the clock: polls every period from the start, a
//! refresh that overran its period is followed by the next one at once (missed periods are not made
//! up), and a reload, a broken event stream or a new ZooKeeper leader ask for one now ([`Schedule`]);
//! and when to publish what stream events changed ([`Pacer`]). The refresher thread asks them how long
//! to sleep; nothing here reads a clock.

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

/// The window after a publish in which further changes are batched is this share of the time that
/// publish took...
const BURST_WINDOW_DIVISOR: u32 = 4;
/// ...but at least this...
pub(crate) const BURST_WINDOW_MIN: Duration = Duration::from_millis(1);
/// ...and at most this: however slow a publish was, a change waits no longer than this beyond the
/// publishes in front of it.
pub(crate) const BURST_WINDOW_MAX: Duration = Duration::from_millis(50);

/// When to publish the changes stream events made. The first change after a quiet spell is published
/// at once, so that its latency is the cost of the update and not of a timer. Changes that arrive
/// within a short window after a publish are batched and published together when it closes: a burst
/// gives one publish per window, not one per event. The window is a quarter of the time the last
/// publish took, 1 ms to 50 ms ([`BURST_WINDOW_MIN`], [`BURST_WINDOW_MAX`]): short, so that a change
/// waits at most 50 ms for the timer (a slow publish is better followed at once than waited for:
/// waiting as long as it took would double the latency to halve the CPU); proportional, so that a
/// flood of cheap publishes leaves the refresher a fifth of its time at least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pacer {
    /// When the first change not yet published arrived.
    pending_since: Option<Instant>,
    /// Until when changes are batched (the end of the last publish plus its window).
    window_end: Option<Instant>,
}

impl Default for Pacer {
    fn default() -> Pacer {
        Pacer::new()
    }
}

impl Pacer {
    /// Nothing pending, nothing published.
    pub(crate) const fn new() -> Pacer {
        Pacer {
            pending_since: None,
            window_end: None,
        }
    }

    /// A change arrived at `now`.
    pub(crate) fn changed(&mut self, now: Instant) {
        self.pending_since.get_or_insert(now);
    }

    /// When the pending changes are to be published (`None`: nothing is pending).
    pub(crate) fn due_at(&self) -> Option<Instant> {
        let since = self.pending_since?;
        Some(self.window_end.map_or(since, |end| end.max(since)))
    }

    /// Whether a publish is due at `now`.
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.due_at().is_some_and(|at| now >= at)
    }

    /// A publish of every pending change ran from `started` to `ended`.
    pub(crate) fn published(&mut self, started: Instant, ended: Instant) {
        let took = ended.saturating_duration_since(started);
        self.pending_since = None;
        let window = (took / BURST_WINDOW_DIVISOR).clamp(BURST_WINDOW_MIN, BURST_WINDOW_MAX);
        self.window_end = Some(ended + window);
    }

    /// The pending changes were superseded (a poll replaced the model and published it).
    pub(crate) fn clear(&mut self) {
        self.pending_since = None;
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

    #[test]
    fn the_first_change_after_a_quiet_spell_is_published_at_once() {
        let t0 = Instant::now();
        let mut p = Pacer::new();
        assert_eq!(p.due_at(), None, "nothing pending");
        assert!(!p.due(at(t0, 1)));
        p.changed(at(t0, 5));
        assert_eq!(p.due_at(), Some(at(t0, 5)));
        assert!(p.due(at(t0, 5)));
        p.published(at(t0, 5), at(t0, 7));
        assert_eq!(p.due_at(), None);
        // Long after the window closed: at once again.
        p.changed(at(t0, 500));
        assert_eq!(p.due_at(), Some(at(t0, 500)));
    }

    #[test]
    fn changes_within_the_window_after_a_publish_are_batched_until_it_closes() {
        let t0 = Instant::now();
        let mut p = Pacer::new();
        p.changed(at(t0, 0));
        // A 20 ms publish: the window is 5 ms from its end.
        p.published(at(t0, 0), at(t0, 20));
        for ms in [21, 23, 24] {
            p.changed(at(t0, ms));
            assert_eq!(p.due_at(), Some(at(t0, 25)), "change at {ms} ms");
            assert!(!p.due(at(t0, 24)));
        }
        assert!(p.due(at(t0, 25)));
        // One publish for the three; the burst goes on and the next window opens after it, the
        // minimum 1 ms after a publish that took less than 4.
        p.published(at(t0, 25), at(t0, 25));
        p.changed(at(t0, 25));
        assert_eq!(p.due_at(), Some(at(t0, 26)));
    }

    #[test]
    fn the_window_is_a_quarter_of_the_last_publish_within_bounds() {
        let t0 = Instant::now();
        let mut p = Pacer::new();
        p.changed(at(t0, 0));
        // A 40 ms publish: changes during the next 10 ms wait for the window to close.
        p.published(at(t0, 0), at(t0, 40));
        p.changed(at(t0, 41));
        assert_eq!(p.due_at(), Some(at(t0, 50)));
        // A 400 ms publish (a full rebuild at 100k tasks): the window is capped at 50 ms.
        p.published(at(t0, 50), at(t0, 450));
        p.changed(at(t0, 451));
        assert_eq!(p.due_at(), Some(at(t0, 500)));
        // A change that arrived during the publish is due when the window closes too.
        p.published(at(t0, 500), at(t0, 5_500));
        p.changed(at(t0, 5_000));
        assert_eq!(p.due_at(), Some(at(t0, 5_550)));
        // A clock that went backwards counts as a publish of no time.
        p.published(at(t0, 7_000), at(t0, 6_900));
        p.changed(at(t0, 6_900));
        assert_eq!(p.due_at(), Some(at(t0, 6_901)));
    }

    #[test]
    fn a_poll_clears_what_was_pending_but_keeps_the_window() {
        let t0 = Instant::now();
        let mut p = Pacer::new();
        p.changed(at(t0, 0));
        p.published(at(t0, 0), at(t0, 40));
        p.changed(at(t0, 41));
        p.clear();
        assert_eq!(p.due_at(), None);
        p.changed(at(t0, 42));
        assert_eq!(p.due_at(), Some(at(t0, 50)));
    }
}
