//! The refresher thread: fetch the leader's state (or read a state file, or apply stream events), build
//! a new records snapshot and swap it in with one `arc-swap` store; on any failure keep the last good
//! snapshot and say why.
//!
//! It owns the thread, its loop and the state that lives between steps ([`Refresher`]). Each step is
//! one pipeline whatever the mode ([`pipeline`]): a source yields what changed, a failover's carry
//! step ([`carry`], [`carried`]) adds the tasks of agents that have not re-registered, a pure [`plan`]
//! decides between edits and a rebuild, and one [`publish`] swaps, journals and notifies. [`schedule`] decides
//! when the next step is due, [`source`] where documents come from, [`host`] the server's own
//! addresses and the system resolver, [`cluster`] the model of the cluster kept between steps (the
//! last poll's, or in stream mode the one the event subscription of [`stream`] edits), [`model`] that
//! cluster picture, and [`incremental`] the snapshot that polls and events edit in turn. Leader detection is [`crate::mesos::leader`]'s (driven over HTTP by
//! [`crate::mesos::fetch`]), the pipeline from document to records [`crate::records::from_state`]'s.
//! Queries never wait on a refresh: they read whichever snapshot is current.

mod carried;
mod carry;
mod cluster;
mod hash_index;
pub(crate) mod host;
mod incremental;
pub(crate) mod model;
mod pipeline;
mod plan;
mod publish;
pub(crate) mod schedule;
pub(crate) mod source;
pub(crate) mod statics;
pub(crate) mod stream;
mod varint;

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::addr::HostPort;
use crate::config::{Config, StateSourceMode};
use crate::logline::throttle::Throttle;
use crate::mesos::fetch::{FetchError, MAX_BODY_BYTES};
use crate::metrics::RefreshStatus;
use crate::records::from_state::BuildError;
use crate::snapshot::Records;

use cluster::Cluster;
pub(crate) use host::{interface_addrs, self_addrs, system_resolve};
use incremental::Incremental;
use model::Model;
use pipeline::Trigger;
use schedule::Schedule;
use source::zk_masters;
pub(crate) use source::{StateSource, ZkLeader};
pub(crate) use statics::StaticRecords;
use stream::{Pumped, Streamer};

/// Why one refresh produced no snapshot.
#[derive(Debug)]
pub(crate) enum RefreshError {
    /// No master gave a usable document.
    Fetch(FetchError),
    /// The state file could not be read.
    ReadFile { path: PathBuf, error: io::Error },
    /// The state file is larger than [`MAX_BODY_BYTES`].
    FileTooBig { path: PathBuf },
    /// The document gave no records.
    Document(BuildError),
    /// A bug in record generation; the refresher survives it (in builds that unwind).
    Panicked(String),
    /// ZooKeeper has not named a leader yet.
    NoZkLeader,
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshError::Fetch(e) => write!(f, "{e}"),
            RefreshError::ReadFile { path, error } => write!(f, "cannot read state file {}: {error}", path.display()),
            RefreshError::FileTooBig { path } => {
                write!(f, "state file {} is larger than {MAX_BODY_BYTES} bytes", path.display())
            }
            RefreshError::Document(e) => write!(f, "{e}"),
            RefreshError::Panicked(msg) => write!(f, "internal error while building records: {msg}"),
            RefreshError::NoZkLeader => write!(f, "ZooKeeper has not named a leading master yet"),
        }
    }
}

impl std::error::Error for RefreshError {}

impl From<BuildError> for RefreshError {
    fn from(e: BuildError) -> RefreshError {
        RefreshError::Document(e)
    }
}

/// Starts the refresher thread (`mesos-dns-refresh`): it refreshes at once, then every `refreshSeconds`,
/// storing each new snapshot into `records`. It runs for the life of the process. `verbosity` is the
/// number of `-v`: 1 logs the success/failure counts with each refresh, 2 also logs every record. The
/// config can be replaced while it runs (SIGHUP): store a new one into `config` and unpark the thread,
/// and it refreshes at once with it (rebuilding its fetcher if the masters or the timeout changed).
/// `swapped` is called after each new snapshot is stored (the server wakes its loop with it, so that
/// the secondaries are told of a new serial at once, and the snapshot file's writer looks at it).
/// Records stored into `records` before (a warm start's) are served until the first good refresh,
/// whose serial is above theirs.
pub(crate) fn spawn_reloadable(
    config: Arc<ArcSwap<Config>>,
    source: StateSource,
    records: Arc<ArcSwap<Records>>,
    status: Arc<RefreshStatus>,
    verbosity: u8,
    swapped: Option<Box<dyn Fn() + Send>>,
) -> io::Result<JoinHandle<()>> {
    let mut refresher = Refresher::new(config.load_full(), source, records, verbosity);
    refresher.shared = Some(config);
    refresher.status = status;
    refresher.swapped = swapped;
    thread::Builder::new()
        .name("mesos-dns-refresh".into())
        .spawn(move || refresher.run())
}

/// The step's one reading of the clock.
#[derive(Debug, Clone, Copy)]
struct Now {
    at: Instant,
    /// Unix milliseconds.
    unix_ms: u64,
}

impl Now {
    fn read() -> Now {
        Now {
            at: Instant::now(),
            unix_ms: crate::clock::unix_now_ms(),
        }
    }

    /// Unix seconds.
    fn unix(&self) -> u64 {
        self.unix_ms / 1000
    }
}

/// The refresher's state between steps.
struct Refresher {
    config: Arc<Config>,
    /// Where a reloaded config appears.
    shared: Option<Arc<ArcSwap<Config>>>,
    /// Figures for `/ready` and `/metrics`.
    status: Arc<RefreshStatus>,
    source: StateSource,
    records: Arc<ArcSwap<Records>>,
    verbosity: u8,
    successes: u64,
    failures: u64,
    last_serial: u32,
    last_success: Option<Instant>,
    /// When freed memory was last handed back to the system ([`publish::return_free_memory`]).
    last_trim: Option<Instant>,
    /// The model records are built from, when they come from one ([`cluster`]): from masters, in
    /// stream mode, and in poll mode unless static records or `preferLocalZone` ask for the list
    /// a document generates. `None`: every poll generates its records from the document.
    cluster: Option<Cluster>,
    /// The snapshot polls and task events edit (from the last full build of the model; none
    /// with static records, whose rules against generated names only a full build applies).
    incremental: Option<Incremental>,
    /// The records of `staticRecordsFile`, added to every snapshot ([`statics`]).
    statics: StaticRecords,
    /// The collision lines last logged (each set is logged once, not at every refresh).
    logged_collisions: Vec<String>,
    /// Which agents' tasks a failover carries over ([`carry`]).
    carrier: carry::Carrier,
    /// How many tasks the snapshot being served carries over.
    carried_tasks: usize,
    /// Called after each snapshot is stored ([`spawn_reloadable`]).
    swapped: Option<Box<dyn Fn() + Send>>,
    /// A run of failed refreshes: its first is logged, then one a minute, and its end.
    outage: Throttle,
}

impl Refresher {
    fn new(config: Arc<Config>, source: StateSource, records: Arc<ArcSwap<Records>>, verbosity: u8) -> Refresher {
        // Above the serial of records stored before the first refresh (a warm start's), so that
        // secondaries never see it go back.
        let last_serial = records.load().serial();
        let mut refresher = Refresher {
            config,
            shared: None,
            status: Arc::default(),
            source,
            records,
            verbosity,
            successes: 0,
            failures: 0,
            last_serial,
            last_success: None,
            last_trim: None,
            cluster: None,
            incremental: None,
            statics: StaticRecords::default(),
            logged_collisions: Vec::new(),
            carrier: carry::Carrier::default(),
            carried_tasks: 0,
            swapped: None,
            outage: Throttle::default(),
        };
        // The static records of the starting config (`app` has checked the file already).
        refresher.reload_statics();
        refresher
    }

    /// Where records come from when state comes from masters (found from `masters` or through
    /// ZooKeeper): in stream mode a streamer (it reaches them as polling does: HTTPS, credentials);
    /// in poll mode the last poll's model, so that polls are edits, except with static records (whose
    /// rules only a full build applies: the list path builds faster), `preferLocalZone` (its zones
    /// come from a full build's list) or `-v=2` (every record logged at each refresh, from the list).
    /// `None` for a state file: each read is a full build.
    fn cluster_for_config(&self) -> Option<Cluster> {
        let access = match &self.source {
            StateSource::Masters(fetcher) => fetcher.access().clone(),
            StateSource::ZooKeeper(zk) => zk.fetcher.access().clone(),
            StateSource::File(_) => return None,
        };
        if self.config.state_source == StateSourceMode::Stream {
            return Some(Cluster::Streamed(Streamer::new(thread::current(), access)));
        }
        let edits = self.statics.is_empty() && !self.config.prefer_local_zone && self.verbosity < 2;
        edits.then(|| Cluster::Polled(Model::default()))
    }

    /// The masters the `master*` records name: with `zk`, those of [`zk_masters`], else `masters`.
    fn masters_for_records(&self) -> Vec<HostPort> {
        match &self.source {
            StateSource::ZooKeeper(zk) => {
                let published = zk.watch.current().0;
                zk_masters(published.as_ref(), &self.config.masters, zk.falls_back(&self.config))
                    .map(|m| m.named)
                    .unwrap_or_default()
            }
            _ => self.config.masters.clone(),
        }
    }

    fn run(&mut self) {
        log::info!(
            "refreshing records from {} every {}s",
            self.source.describe(),
            self.config.refresh_seconds.max(1)
        );
        if let StateSource::ZooKeeper(zk) = &self.source {
            zk.watch.wake_on_change(thread::current());
            // The first refresh waits (a period at most) for the detector rather than failing at once.
            zk.watch.wait_first(Some(self.period()));
        }
        self.cluster = self.cluster_for_config();
        let mut now = Instant::now();
        let mut schedule = Schedule::new(now);
        loop {
            if schedule.due(now) {
                now = self.step(Trigger::Poll);
                schedule.refreshed(self.period(), now);
            }
            // Sleep until the next refresh, or until a new config arrives (then refresh at once), or
            // until stream events arrive (then publish them; if the stream broke, poll at once).
            let wake = self.streamer().and_then(|s| s.maintain(now));
            thread::park_timeout(schedule.sleep(now, wake));
            now = Instant::now();
            if self.adopt_new_config() || self.pump_stream(now) {
                schedule.now(now);
            }
            if self.source.leader_changed() {
                log::info!("the masters registered in ZooKeeper changed: refreshing now");
                schedule.now(now);
            }
        }
    }

    /// Applies the events that arrived and publishes a snapshot when their changes are due (see
    /// [`Streamer::maintain`]); true when a live stream broke and a poll should run now.
    fn pump_stream(&mut self, now: Instant) -> bool {
        match self.streamer().map(|s| s.pump(now)) {
            Some(Pumped::Changed) => {
                let ended = self.step(Trigger::Events);
                if let Some(stream) = self.streamer() {
                    stream.published(now, ended);
                }
                false
            }
            Some(Pumped::Lost) => true,
            Some(Pumped::Idle) | None => false,
        }
    }

    /// The event subscription, in stream mode.
    fn streamer(&mut self) -> Option<&mut Streamer> {
        self.cluster.as_mut().and_then(Cluster::streamer)
    }

    /// One poll step now (tests drive the refresher with it).
    #[cfg(test)]
    fn tick(&mut self) {
        self.step(Trigger::Poll);
    }

    /// The polling period: `refreshSeconds`, at least a second.
    fn period(&self) -> Duration {
        Duration::from_secs(self.config.refresh_seconds.max(1))
    }

    /// Takes a config stored by a reload, if there is one; true if it did.
    fn adopt_new_config(&mut self) -> bool {
        let Some(latest) = self.shared.as_ref().map(|s| s.load_full()) else {
            return false;
        };
        if Arc::ptr_eq(&latest, &self.config) {
            return false;
        }
        match &mut self.source {
            StateSource::Masters(fetcher) => match fetcher.reconfigured(&latest) {
                Ok(new) => *fetcher = new,
                Err(e) => log::error!("reloaded config: keeping the previous masters: {e}"),
            },
            StateSource::ZooKeeper(zk) => match zk.fetcher.reconfigured_for_zk(&latest) {
                Ok(new) => zk.fetcher = new,
                Err(e) => log::error!("reloaded config: keeping the previous TLS settings and credentials: {e}"),
            },
            StateSource::File(_) => {}
        }
        self.config = latest;
        self.reload_statics();
        self.cluster = self.cluster_for_config();
        self.incremental = None;
        self.outage.log_next();
        log::info!("config reloaded: refreshing now");
        true
    }

    /// Re-reads `staticRecordsFile` for a newly adopted config; a bad file keeps the records held.
    fn reload_statics(&mut self) {
        match StaticRecords::load(&self.config) {
            Ok(statics) => {
                if !self.config.static_records_file.is_empty() {
                    log::info!(
                        "loaded {} static records from {}",
                        statics.len(),
                        self.config.static_records_file
                    );
                }
                self.statics = statics;
                self.logged_collisions.clear();
            }
            Err(e) => log::error!("keeping the {} static records loaded before: {e}", self.statics.len()),
        }
    }
}

#[cfg(test)]
mod tests;
