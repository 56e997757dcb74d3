//! The refresher thread: fetch the leader's state (or read a state file), build a new records snapshot
//! and swap it in with one `arc-swap` store; on any failure keep the last good snapshot and say why.
//!
//! It owns the thread, the SOA serial and the logging of each refresh. [`schedule`] decides when the
//! next refresh is due, [`source`] where documents come from, [`host`] the server's own addresses and
//! the system resolver, [`stream`] the event subscription of `"stateSource": "stream"` and [`model`]
//! the cluster picture its events edit, [`incremental`] the snapshot those events edit in turn; leader detection is [`crate::mesos::leader`]'s (driven over
//! HTTP by [`crate::mesos::fetch`]), the pipeline from document to snapshot
//! [`crate::records::from_state`]'s. Queries never wait on a refresh: they read whichever snapshot is
//! current.

pub(crate) mod host;
mod incremental;
pub(crate) mod model;
pub(crate) mod schedule;
pub(crate) mod source;
pub(crate) mod statics;
pub(crate) mod stream;

use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;

use crate::addr::HostPort;
use crate::config::{Config, StateSourceMode};
use crate::logline::throttle::Throttle;
use crate::mesos::fetch::{FetchError, Fetcher, MAX_BODY_BYTES};
use crate::mesos::state;
use crate::metrics::RefreshStatus;
use crate::records::from_state::{generate_for_edits, generate_from_body, generate_from_state, BuildError};
use crate::records::zone;
use crate::snapshot::{RData, Record, RecordList, Records};

pub(crate) use host::{interface_addrs, self_addrs, system_resolve};
use incremental::Incremental;
use model::{Changed, Model};
use schedule::Schedule;
use source::{read_capped, zk_masters};
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
/// the secondaries are told of a new serial at once).
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

/// The refresher's state between refreshes.
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
    /// The event subscription, with `"stateSource": "stream"` and masters ([`stream`]).
    stream: Option<Streamer>,
    /// In stream mode, the snapshot task events edit (from the last full build of the model; none
    /// with static records, whose rules against generated names only a full build applies).
    incremental: Option<Incremental>,
    /// The records of `staticRecordsFile`, added to every snapshot ([`statics`]).
    statics: StaticRecords,
    /// The collision lines last logged (each set is logged once, not at every refresh).
    logged_collisions: Vec<String>,
    /// Called after each snapshot is stored.
    swapped: Option<Box<dyn Fn() + Send>>,
    /// A run of failed refreshes: its first is logged, then one a minute, and its end.
    outage: Throttle,
}

/// What a successful refresh reports.
struct Built {
    records: Records,
    list: RecordList,
    from: String,
    /// In stream mode: the polled document as the stream's model.
    polled: Option<Model>,
    /// An edited snapshot: the names whose records may have changed (the rest are the same).
    touched: Option<Vec<Vec<u8>>>,
}

impl Built {
    /// What an edited snapshot publishes: no record list, and the names the edits touched.
    fn edited(inc: &mut Incremental, from: String) -> Built {
        let (records, touched) = inc.publish();
        Built {
            records,
            list: RecordList::new(),
            from,
            polled: None,
            touched: Some(touched),
        }
    }
}

impl Refresher {
    fn new(config: Arc<Config>, source: StateSource, records: Arc<ArcSwap<Records>>, verbosity: u8) -> Refresher {
        // Above the serial of records stored before the first refresh (a warm start's), so that
        // secondaries never see it go back.
        let last_serial = records.load().serial();
        Refresher {
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
            stream: None,
            incremental: None,
            statics: StaticRecords::default(),
            logged_collisions: Vec::new(),
            swapped: None,
            outage: Throttle::default(),
        }
        .with_statics()
    }

    /// Loads the static records of the starting config (`app` has checked the file already).
    fn with_statics(mut self) -> Refresher {
        self.reload_statics();
        self
    }

    /// A streamer when the config asks for one and state comes from masters (found from `masters` or
    /// through ZooKeeper); it reaches them as polling does (HTTPS, credentials).
    fn stream_for_config(&self) -> Option<Streamer> {
        if self.config.state_source != StateSourceMode::Stream {
            return None;
        }
        let access = match &self.source {
            StateSource::Masters(fetcher) => fetcher.access().clone(),
            StateSource::ZooKeeper(zk) => zk.fetcher.access().clone(),
            StateSource::File(_) => return None,
        };
        Some(Streamer::new(thread::current(), access))
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

    /// Applies the events that arrived and publishes a snapshot when their changes are due (see
    /// [`Streamer::maintain`]); true when a live stream broke and a poll should run now.
    fn pump_stream(&mut self) -> bool {
        let started = Instant::now();
        match self.stream.as_mut().map(|s| s.pump(started)) {
            Some(Pumped::Changed) => {
                self.tick_with(|refresher, serial| refresher.build_from_stream(serial));
                if let Some(stream) = self.stream.as_mut() {
                    stream.published(started, Instant::now());
                }
                false
            }
            Some(Pumped::Lost) => true,
            Some(Pumped::Idle) | None => false,
        }
    }

    /// A snapshot of the stream's model: the last one edited by the tasks that changed, or (after
    /// anything else changed) a full build.
    fn build_from_stream(&mut self, serial: u32) -> Result<Built, RefreshError> {
        let no_stream = || RefreshError::Document(BuildError::NotState("no event stream".into()));
        let stream = self.stream.as_mut().ok_or_else(no_stream)?;
        let changes = stream.take_changes();
        if let (Changed::Tasks(tasks), Some(inc)) = (&changes, self.incremental.as_mut()) {
            inc.apply(stream.model(), tasks);
            return Ok(Built::edited(inc, "the event stream".into()));
        }
        // A full build: what only the old edits needed goes first.
        self.incremental = None;
        let masters = self.masters_for_records();
        let stream = self.stream.as_ref().ok_or_else(no_stream)?;
        let (built, inc) = self.build_from_model(stream.model(), &masters, serial, "the event stream".into())?;
        self.incremental = inc;
        Ok(built)
    }

    /// A full build from a model, and (without static records) the snapshot task events edit from
    /// now on.
    fn build_from_model(
        &self,
        model: &Model,
        named: &[HostPort],
        serial: u32,
        from: String,
    ) -> Result<(Built, Option<Incremental>), RefreshError> {
        let config = &*self.config;
        let self_addrs = self_addrs(config.listener);
        let (records, list, inc) = if self.statics.is_empty() {
            // The records of no task, then every task's added to them as events add one.
            let (list, gen) = generate_for_edits(config, model.state(), named, &self_addrs, &system_resolve)?;
            let frameworks: Vec<String> = list.frameworks().map(str::to_owned).collect();
            let (records, list) = self.index(list, serial);
            let mut inc = Incremental::start(records, model, gen, frameworks, named);
            let (records, _) = inc.publish();
            (records, list, Some(inc))
        } else {
            let list = generate_from_state(config, model.state(), named, &self_addrs, &system_resolve)?;
            let (records, list) = self.index(list, serial);
            (records, list, None)
        };
        let built = Built {
            records,
            list,
            from,
            polled: None,
            touched: None,
        };
        Ok((built, inc))
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
            zk.watch
                .wait_first(Some(Duration::from_secs(self.config.refresh_seconds.max(1))));
        }
        self.stream = self.stream_for_config();
        let mut schedule = Schedule::new(Instant::now());
        loop {
            if schedule.due(Instant::now()) {
                self.tick();
                schedule.refreshed(self.period(), Instant::now());
            }
            // Sleep until the next refresh, or until a new config arrives (then refresh at once), or
            // until stream events arrive (then publish them; if the stream broke, poll at once).
            let wake = self.stream.as_mut().and_then(|s| s.maintain(Instant::now()));
            thread::park_timeout(schedule.sleep(Instant::now(), wake));
            if self.adopt_new_config() || self.pump_stream() {
                schedule.now(Instant::now());
            }
            if self.source.leader_changed() {
                log::info!("the masters registered in ZooKeeper changed: refreshing now");
                schedule.now(Instant::now());
            }
        }
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
        self.stream = self.stream_for_config();
        self.incremental = None;
        self.outage.log_next();
        log::info!("config reloaded: refreshing now");
        true
    }

    /// One refresh: build, store or keep, log. Never panics on input, and survives a panicking
    /// generator where panics unwind (debug and test builds; release builds abort, which is loud too).
    fn tick(&mut self) {
        self.tick_with(Self::refresh_once);
    }

    /// [`Refresher::tick`] with another way to build the snapshot.
    fn tick_with(&mut self, build: fn(&mut Self, u32) -> Result<Built, RefreshError>) {
        let started = Instant::now();
        let serial = next_serial(self.last_serial, unix_now());
        let outcome = match panic::catch_unwind(AssertUnwindSafe(|| build(self, serial))) {
            Ok(r) => r,
            Err(payload) => Err(RefreshError::Panicked(panic_message(payload.as_ref()))),
        };
        let took = started.elapsed();
        match outcome {
            Ok(mut built) => {
                if let (Some(model), Some(stream)) = (built.polled.take(), self.stream.as_mut()) {
                    stream.polled(model, &built.from);
                    if self.incremental.is_some() {
                        // The snapshot being stored was built from this very model.
                        let _ = stream.take_changes();
                    }
                }
                self.store(built, serial, took)
            }
            Err(e) => self.keep(&e, took),
        }
    }

    fn refresh_once(&mut self, serial: u32) -> Result<Built, RefreshError> {
        let zk_named = self.follow_zk_masters()?;
        let config = &*self.config;
        let self_addrs = self_addrs(config.listener);
        // Each distinct host name is looked up once per refresh, before the records are generated.
        let resolve = system_resolve;
        let (fetcher, named): (&Fetcher, &[HostPort]) = match &self.source {
            StateSource::Masters(fetcher) => (fetcher, &config.masters),
            StateSource::ZooKeeper(zk) => (&zk.fetcher, zk_named.as_deref().unwrap_or_default()),
            StateSource::File(path) => {
                let body = read_capped(path)?;
                let header = state::parse_header(&body).map_err(|e| BuildError::NotState(e.to_string()))?;
                let list = generate_from_body(config, &header, &body, &config.masters, &self_addrs, &resolve)?;
                let (records, list) = self.index(list, serial);
                return Ok(Built {
                    records,
                    list,
                    from: path.display().to_string(),
                    polled: None,
                    touched: None,
                });
            }
        };
        if self.stream.is_some() {
            // Stream mode: the document becomes the stream's model, and records come from that.
            let (model, origin) = fetcher
                .fetch_with(|_, _, body| state::parse(body).map(|state| Model::from_state(&state)))
                .map_err(RefreshError::Fetch)?;
            let model = model.map_err(|e| BuildError::NotState(e.to_string()))?;
            let named = named.to_vec();
            // Only tasks differ from the model the edits follow: the poll edits them too (with those
            // events changed that are not published yet).
            if let (Some(inc), Some(stream)) = (self.incremental.as_mut(), self.stream.as_mut()) {
                let mut changes = stream.take_changes();
                match inc.masters() == named.as_slice() {
                    true => changes.merge(stream.model().changes_to(&model)),
                    false => changes = Changed::Everything,
                }
                let tasks = match changes {
                    Changed::Nothing => Some(Vec::new()),
                    Changed::Tasks(tasks) => Some(tasks),
                    Changed::Everything => None,
                };
                if let Some(tasks) = tasks {
                    log::info!(
                        "the poll differs from the event stream's model in {} tasks only: edited, not rebuilt",
                        tasks.len()
                    );
                    inc.apply(&model, &tasks);
                    let mut built = Built::edited(inc, origin.url);
                    built.polled = Some(model);
                    return Ok(built);
                }
            }
            // What only the old edits needed goes first (a failed build leaves the next event one).
            self.incremental = None;
            let (mut built, inc) = self.build_from_model(&model, &named, serial, origin.url)?;
            self.incremental = inc;
            built.polled = Some(model);
            return Ok(built);
        }
        let (generated, origin) = fetcher
            .fetch_with(|_, header, body| generate_from_body(config, header, body, named, &self_addrs, &resolve))
            .map_err(RefreshError::Fetch)?;
        // The body and its parsed form are freed by now: index the records.
        let (records, list) = self.index(generated?, serial);
        Ok(Built {
            records,
            list,
            from: origin.url,
            polled: None,
            touched: None,
        })
    }

    /// With `zk`: points the fetcher at the masters ZooKeeper names now and returns the masters the
    /// records name ([`zk_masters`]); `None` for the other sources.
    fn follow_zk_masters(&mut self) -> Result<Option<Vec<HostPort>>, RefreshError> {
        let StateSource::ZooKeeper(zk) = &mut self.source else {
            return Ok(None);
        };
        let masters = zk.masters_for_refresh(&self.config)?;
        zk.fetcher.set_masters(masters.fetch);
        Ok(Some(masters.named))
    }

    /// Adds the static records to a generated list and indexes it.
    fn index(&self, mut list: RecordList, serial: u32) -> (Records, RecordList) {
        self.statics.append_to(&mut list);
        let records = Records::build(zone(&self.config), &list, serial);
        // Only read from now on (`/v1/enumerate`): it need not keep what adding records needs.
        list.seal();
        (records, list)
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

    fn store(&mut self, built: Built, serial: u32, took: Duration) {
        let Built {
            records,
            list,
            from,
            touched,
            ..
        } = built;
        self.successes += 1;
        if let Some(failed) = self.outage.recovered() {
            log::info!("state refresh succeeded again after {failed} failed refreshes");
        }
        self.last_success = Some(Instant::now());
        self.log_collisions(&records);
        let (a, aaaa, srv) = records.counts();
        let (names, skipped) = (records.name_count(), records.skipped());
        let count = a + aaaa + srv + records.extra_count();
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
        // `/v1/enumerate` needs which task each record came from: keep the list only when it is served
        // (an edited snapshot has its task table instead).
        let records = if self.config.enumeration_on && records.tasks().is_none() {
            records.with_list(list)
        } else {
            records
        };
        // The serial moves only if a record changed; the change joins the journal IXFR answers from.
        let diffing = Instant::now();
        let previous = self.records.load();
        let records = match &touched {
            Some(names) => crate::transfer::journal::follow_touched(&previous, records, serial, names),
            None => crate::transfer::journal::follow(&previous, records, serial),
        };
        drop(previous);
        log::debug!(
            "changes since the last snapshot computed in {} ms",
            diffing.elapsed().as_millis()
        );
        let serial = records.serial();
        self.last_serial = serial;
        let full_build = touched.is_none();
        self.records.store(Arc::new(records));
        if full_build {
            return_free_memory();
        }
        if let Some(swapped) = &self.swapped {
            swapped();
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.status.success(now_ms, took.as_millis() as u64);
        log::info!(
            "refreshed records from {from}: {count} records ({a} A, {aaaa} AAAA, {srv} SRV) under {names} names, serial {serial}, in {} ms{}",
            took.as_millis(),
            self.counts_suffix()
        );
        if skipped > 0 {
            log::warn!("{skipped} generated records were not valid names under the domain and were left out");
        }
    }

    fn keep(&mut self, error: &RefreshError, took: Duration) {
        self.failures += 1;
        self.status.failure(took.as_millis() as u64);
        let Some(left_out) = self.outage.failure(Instant::now(), &error.to_string()) else {
            return;
        };
        match self.last_success {
            Some(at) => log::warn!(
                "state refresh failed after {} ms, keeping the records of {}s ago: {error}{}{left_out}",
                took.as_millis(),
                at.elapsed().as_secs(),
                self.counts_suffix()
            ),
            None => log::error!(
                "state refresh failed after {} ms, no records yet (the domain answers SERVFAIL): {error}{}{left_out}",
                took.as_millis(),
                self.counts_suffix()
            ),
        }
    }

    fn counts_suffix(&self) -> String {
        if self.verbosity >= 1 {
            format!(" [refreshes: {} ok, {} failed]", self.successes, self.failures)
        } else {
            String::new()
        }
    }
}

/// One record in zone-file form, for `-vv`.
struct RecordLine<'a> {
    record: &'a Record,
    ttl: u32,
    weight: u16,
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
/// refresh's peak rises on top. (The static musl build's mimalloc returns memory itself.)
fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own heaps; it takes no pointer.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The SOA serial of a refresh: the Unix time (as the original), but always above the previous serial so
/// that two refreshes within one second still give secondaries a newer zone.
fn next_serial(last: u32, now: u64) -> u32 {
    let now = u32::try_from(now).unwrap_or(u32::MAX);
    if now > last {
        now
    } else {
        last.wrapping_add(1)
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

#[cfg(test)]
mod tests;
