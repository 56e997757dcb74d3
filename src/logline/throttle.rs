//! How often the lines of one lasting failure are logged: the first failure of an outage always, then
//! the same failure again at most once a period ([`EVERY`]: a minute), each line saying how many were
//! left out since the last one, and the recovery always. A failure that reads otherwise than the last
//! one logged is news, and is logged at once. The refresher (a failing refresh) and the ZooKeeper
//! detector (an unreachable host) use it, so that an outage of hours writes a line a minute, not one a
//! refresh.
//!
//! Pure: the time is the caller's (`now`), so tests run on virtual time; what to log, and at which
//! level, is the caller's too.

use std::fmt;
use std::time::{Duration, Instant};

/// At most one line of an outage a minute.
pub(crate) const EVERY: Duration = Duration::from_secs(60);

/// One kind of failure's outage, if there is one.
#[derive(Debug)]
pub(crate) struct Throttle {
    every: Duration,
    outage: Option<Outage>,
}

#[derive(Debug)]
struct Outage {
    /// Every failure since the outage began.
    failures: u64,
    /// When a line was last logged.
    logged_at: Instant,
    /// The failures since then that were not logged.
    quiet: u64,
    /// The text of the failure last logged; `None` makes the next one news.
    logged: Option<String>,
}

/// What a logged failure line appends: nothing when no failure was left out since the last line, else
/// how many (`; 11 more failures in the last 60 s were not logged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Suppressed {
    /// Failures not logged since the last line.
    pub count: u64,
    /// Since the last line.
    pub over: Duration,
}

impl fmt::Display for Suppressed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.count {
            0 => Ok(()),
            1 => write!(
                f,
                "; 1 more failure in the last {} s was not logged",
                self.over.as_secs()
            ),
            n => write!(
                f,
                "; {n} more failures in the last {} s were not logged",
                self.over.as_secs()
            ),
        }
    }
}

impl Default for Throttle {
    fn default() -> Throttle {
        Throttle::new(EVERY)
    }
}

impl Throttle {
    /// At most one line a period `every`.
    pub(crate) const fn new(every: Duration) -> Throttle {
        Throttle { every, outage: None }
    }

    /// Counts a failure at `now` that reads `what`: `Some` when its line is to be logged (the first of
    /// an outage, one that reads otherwise than the last logged, or the first a period after the last
    /// logged), with what was left out since; `None` to stay quiet.
    pub(crate) fn failure(&mut self, now: Instant, what: &str) -> Option<Suppressed> {
        let Some(outage) = self.outage.as_mut() else {
            self.outage = Some(Outage {
                failures: 1,
                logged_at: now,
                quiet: 0,
                logged: Some(what.to_owned()),
            });
            return Some(Suppressed {
                count: 0,
                over: Duration::ZERO,
            });
        };
        outage.failures += 1;
        let since = now.saturating_duration_since(outage.logged_at);
        if since < self.every && outage.logged.as_deref() == Some(what) {
            outage.quiet += 1;
            return None;
        }
        let suppressed = Suppressed {
            count: outage.quiet,
            over: since,
        };
        outage.logged_at = now;
        outage.quiet = 0;
        outage.logged = Some(what.to_owned());
        Some(suppressed)
    }

    /// Makes the next failure news (logged whatever it reads): after the settings changed, say.
    pub(crate) fn log_next(&mut self) {
        if let Some(outage) = self.outage.as_mut() {
            outage.logged = None;
        }
    }

    /// Ends the outage, if there is one: `Some(failures)`, how many it had (its recovery is to be
    /// logged); `None` when nothing was failing. The next failure is the first of a new outage.
    pub(crate) fn recovered(&mut self) -> Option<u64> {
        self.outage.take().map(|o| o.failures)
    }

    /// Whether failures are being counted (no recovery since the last).
    pub(crate) fn failing(&self) -> bool {
        self.outage.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    const REFUSED: &str = "connection refused";

    #[test]
    fn an_outage_logs_its_first_failure_then_one_a_minute_with_the_count_left_out() {
        let t0 = Instant::now();
        let mut t = Throttle::default();
        assert!(!t.failing());
        let first = t.failure(t0, REFUSED).expect("the first failure is logged");
        assert_eq!(first.count, 0);
        assert_eq!(first.to_string(), "", "the first line has nothing to add");
        // A refresh every 5 s: eleven quiet failures, then the one at 60 s is logged with their count.
        for i in 1..12 {
            assert_eq!(t.failure(t0 + secs(5 * i), REFUSED), None, "failure at {} s", 5 * i);
        }
        let at_minute = t.failure(t0 + secs(60), REFUSED).expect("one line a minute");
        assert_eq!(
            at_minute,
            Suppressed {
                count: 11,
                over: secs(60)
            }
        );
        assert_eq!(
            at_minute.to_string(),
            "; 11 more failures in the last 60 s were not logged"
        );
        // The period counts from the last line logged, not from the start.
        assert_eq!(t.failure(t0 + secs(119), REFUSED), None);
        let next = t.failure(t0 + secs(120), REFUSED).expect("the next minute");
        assert_eq!(next.to_string(), "; 1 more failure in the last 60 s was not logged");
        assert!(t.failing());
        assert_eq!(t.recovered(), Some(15), "every failure of the outage is counted");
    }

    #[test]
    fn a_failure_that_reads_otherwise_is_news() {
        let t0 = Instant::now();
        let mut t = Throttle::new(secs(60));
        assert!(t.failure(t0, REFUSED).is_some());
        assert_eq!(t.failure(t0 + secs(1), REFUSED), None);
        let other = t
            .failure(t0 + secs(2), "timed out")
            .expect("another reason is logged at once");
        assert_eq!(
            other,
            Suppressed {
                count: 1,
                over: secs(2)
            }
        );
        assert_eq!(t.failure(t0 + secs(3), "timed out"), None, "and then throttled in turn");
        assert!(
            t.failure(t0 + secs(4), REFUSED).is_some(),
            "the old reason is news again"
        );
        // After a change of settings the next failure is logged, even the same one.
        t.log_next();
        assert_eq!(t.failure(t0 + secs(5), REFUSED).map(|s| s.count), Some(0));
        assert_eq!(t.failure(t0 + secs(6), REFUSED), None);
        assert_eq!(t.recovered(), Some(7));
    }

    #[test]
    fn a_failure_after_a_recovery_is_the_first_of_a_new_outage() {
        let t0 = Instant::now();
        let mut t = Throttle::new(secs(60));
        assert_eq!(t.recovered(), None, "nothing to recover from");
        t.log_next(); // no outage: nothing to do
        assert!(t.failure(t0, REFUSED).is_some());
        assert_eq!(t.failure(t0 + secs(1), REFUSED), None);
        assert_eq!(t.recovered(), Some(2));
        assert!(!t.failing());
        // Two seconds after the last line, but a new outage: logged, with nothing left out.
        assert_eq!(t.failure(t0 + secs(2), REFUSED).map(|s| s.count), Some(0));
        assert_eq!(t.recovered(), Some(1));
    }

    #[test]
    fn a_long_silence_logs_the_next_failure_with_nothing_left_out() {
        let t0 = Instant::now();
        let mut t = Throttle::new(secs(60));
        assert!(t.failure(t0, REFUSED).is_some());
        let later = t
            .failure(t0 + secs(3600), REFUSED)
            .expect("over a period since the last line");
        assert_eq!(later.count, 0);
        assert_eq!(later.to_string(), "");
        // A time before the last line (the caller's clock is trusted, not checked): quiet.
        assert_eq!(t.failure(t0, REFUSED), None);
    }
}
