//! The one way a refresh step ends: [`Refresher::publish`] swaps a new snapshot in (after following the
//! journal IXFR answers from, so that the serial moves only when a record changed), tells the server
//! and the publish hook, counts and logs; [`Refresher::keep`] keeps the last good snapshot and says
//! why. Both take the step's clock reading; neither reads the clock.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::incremental::Touched;
use super::{Now, RefreshError, Refresher};
use crate::snapshot::{RData, Record, RecordList, Records};
use crate::transfer::journal;

/// How often edited snapshots hand the memory they freed back to the system (a trim of a 1M-task
/// heap takes a few milliseconds of the refresher's time).
const TRIM_EVERY: Duration = Duration::from_secs(10);

/// What a successful build gives the publish step.
pub(super) struct Built {
    pub(super) records: Records,
    /// The records of a full build, with their tasks (kept for `/v1/enumerate`); empty for edits.
    pub(super) list: RecordList,
    /// Where the state came from (for the log).
    pub(super) from: String,
    /// An edited snapshot: the names whose records may have changed (the rest are the same).
    pub(super) touched: Option<Touched>,
}

impl Refresher {
    /// Stores a built snapshot: follows the journal from the current one, swaps it in, and tells
    /// whoever listens (the server's wake-up and the snapshot file's writer). Returns the
    /// snapshot now served.
    pub(super) fn publish(&mut self, built: Built, serial: u32, now: Now, took: Duration) -> Arc<Records> {
        let Built {
            records,
            list,
            from,
            touched,
        } = built;
        self.successes += 1;
        if let Some(failed) = self.outage.recovered() {
            log::info!("state refresh succeeded again after {failed} failed refreshes");
        }
        self.last_success = Some(now.at);
        self.log_collisions(&records);
        if self.verbosity >= 2 {
            let (ttl, weight) = (self.config.ttl, self.config.srv_record_default_weight);
            for record in list.iter() {
                log::info!(
                    "{}",
                    RecordLine {
                        record: &record,
                        ttl,
                        weight
                    }
                );
            }
        }
        // `/v1/enumerate` (and carrying a failover's tasks over) need which task each record came
        // from: a full build keeps its list (an edited snapshot has its task table instead).
        let records = if self.keeps_list() && records.tasks().is_none() {
            records.with_list(list)
        } else {
            records
        };
        // The serial moves only if a record changed; the change joins the journal IXFR answers from.
        let previous = self.records.load_full();
        let bound = journal::bound(&self.config);
        let records = match &touched {
            Some(names) => {
                journal::follow_touched(&previous, records, serial, bound, names.iter(), names.is_complete())
            }
            None => journal::follow(&previous, records, serial, bound),
        };
        drop(previous);
        self.last_serial = records.serial();
        let published = Arc::new(records);
        self.records.store(Arc::clone(&published));
        // A full build frees a whole snapshot; edits free the chunks they copied: an edit of many
        // names (a 64th: most chunks) nearly a snapshot, small ones add up to one under churn (glibc
        // keeps them), so they hand memory back at most every few seconds.
        let large = touched.as_ref().map_or(true, |names| {
            names.touches().saturating_mul(64) >= published.name_count()
        });
        if large || self.last_trim.map_or(true, |t| now.at.duration_since(t) >= TRIM_EVERY) {
            return_free_memory();
            self.last_trim = Some(now.at);
        }
        if let Some(swapped) = &self.swapped {
            swapped();
        }
        self.status.set_carried_tasks(self.carried_tasks as u64);
        self.status.success(now.unix_ms, millis(took));
        let (a, aaaa, srv) = published.counts();
        let count = a + aaaa + srv + published.extra_count();
        log::info!(
            "refreshed records from {from}: {count} records ({a} A, {aaaa} AAAA, {srv} SRV) under {} names, serial {}, in {} ms{}",
            published.name_count(),
            published.serial(),
            took.as_millis(),
            self.counts_suffix()
        );
        if published.skipped() > 0 {
            log::warn!(
                "{} generated records were not valid names under the domain and were left out",
                published.skipped()
            );
        }
        published
    }

    /// A step that gave no snapshot: the last good one stays.
    pub(super) fn keep(&mut self, error: &RefreshError, now: Now, took: Duration) {
        self.failures += 1;
        self.status.failure(millis(took));
        let Some(left_out) = self.outage.failure(now.at, &error.to_string()) else {
            return;
        };
        match self.last_success {
            Some(at) => log::warn!(
                "state refresh failed after {} ms, keeping the records of {}s ago: {error}{}{left_out}",
                took.as_millis(),
                now.at.saturating_duration_since(at).as_secs(),
                self.counts_suffix()
            ),
            None => log::error!(
                "state refresh failed after {} ms, no records yet (the domain answers SERVFAIL): {error}{}{left_out}",
                took.as_millis(),
                self.counts_suffix()
            ),
        }
    }

    /// Whether a full build's record list stays in the snapshot: always, as a failover carries
    /// tasks over from it (`/v1/enumerate` is served only with `enumerationOn`).
    fn keeps_list(&self) -> bool {
        true
    }

    /// Logs what static records did at generated names, once per distinct set.
    fn log_collisions(&mut self, records: &Records) {
        let collisions = records.static_collisions();
        if collisions != self.logged_collisions.as_slice() {
            for line in collisions {
                log::warn!("staticRecordsFile: {line}");
            }
            self.logged_collisions = collisions.to_vec();
        }
    }

    pub(super) fn counts_suffix(&self) -> String {
        if self.verbosity >= 1 {
            format!(" [refreshes: {} ok, {} failed]", self.successes, self.failures)
        } else {
            String::new()
        }
    }
}

/// When each stage of one step ended, for the `-v` log line that says where a refresh's time goes
/// (`benches/refresh.sh` prints it).
pub(super) struct Stages {
    last: Instant,
    took: Vec<(&'static str, Duration)>,
}

impl Stages {
    pub(super) fn start(at: Instant) -> Stages {
        Stages {
            last: at,
            took: Vec::with_capacity(8),
        }
    }

    /// The stage `name` ends now (it began where the last one ended).
    pub(super) fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        self.took.push((name, now.saturating_duration_since(self.last)));
        self.last = now;
    }
}

impl fmt::Display for Stages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, took)) in self.took.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{name} {} ms", took.as_millis())?;
        }
        Ok(())
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The SOA serial of a refresh: the Unix time (as the original), but always above the previous serial so
/// that two refreshes within one second still give secondaries a newer zone.
pub(super) fn next_serial(last: u32, now: u64) -> u32 {
    let now = u32::try_from(now).unwrap_or(u32::MAX);
    if now > last {
        now
    } else {
        last.wrapping_add(1)
    }
}

/// One record in zone-file form, for `-vv`.
pub(super) struct RecordLine<'a> {
    pub(super) record: &'a Record,
    pub(super) ttl: u32,
    pub(super) weight: u16,
}

impl fmt::Display for RecordLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, ttl) = (&self.record.name, self.ttl);
        match &self.record.data {
            RData::A(ip) => write!(f, "{name} {ttl} IN A {ip}"),
            RData::Aaaa(ip) => write!(f, "{name} {ttl} IN AAAA {ip}"),
            RData::Srv { target, port } => write!(f, "{name} {ttl} IN SRV 0 {} {port} {target}", self.weight),
            RData::Cname(target) => write!(f, "{name} {ttl} IN CNAME {target}"),
            RData::Txt(strings) => {
                write!(f, "{name} {ttl} IN TXT")?;
                strings.iter().try_for_each(|s| write!(f, " {s:?}"))
            }
        }
    }
}

/// Hands the pages of what a full build freed (the previous snapshot's chunks, the record list) back
/// to the system. glibc keeps freed small blocks in its heap, and a snapshot is thousands of them:
/// without this a 100k-task server settles at nearly twice the resident memory, and the next
/// refresh's peak rises on top. The static musl build's mimalloc hands back freed pages itself, but
/// only a second after the free and only while this thread keeps allocating: after a refresh it
/// sleeps, and a 100k-task server held the previous snapshot's pages (95 MB more) until the next one.
pub(super) fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own heaps; it takes no pointer.
    unsafe {
        libc::malloc_trim(0);
    }
    #[cfg(target_env = "musl")]
    // SAFETY: mi_collect only frees and purges the allocator's own free pages; it takes no pointer.
    unsafe {
        mi_collect(true);
    }
}

// The static build's allocator (`src/main.rs`): linked here too, for `mi_collect`.
#[cfg(target_env = "musl")]
use mimalloc as _;

#[cfg(target_env = "musl")]
extern "C" {
    /// mimalloc's: frees what other threads freed of this thread's blocks, and with `force` hands
    /// every free page back to the system now.
    fn mi_collect(force: bool);
}
