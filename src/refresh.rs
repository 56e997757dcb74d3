//! The refresher thread: fetch the leader's state (or read a state file), build a new records snapshot
//! and swap it in with one `arc-swap` store; on any failure keep the last good snapshot and say why.
//!
//! It owns the refresh schedule, the SOA serial, the server's own addresses (for the `SOAMname` records)
//! and the system resolver used for host names in the state. It does not own leader detection
//! ([`crate::mesos::fetch`]), record naming ([`crate::records::generate`]) or answering: queries never
//! wait on a refresh, they read whichever snapshot is current.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;

use crate::config::{Config, StateSourceMode};
use crate::mesos::fetch::{FetchError, Fetcher, MAX_BODY_BYTES};
use crate::mesos::state::{self, Header, State};
use crate::mesos::zk::{GroupMasters, LeaderWatch};
use crate::metrics::RefreshStatus;
use crate::records::generate::{generate, generate_streamed, GenInput};
use crate::records::{RData, Record, RecordList, Records, Zone};
use crate::stream::{model::Model, Pumped, Streamer};

/// Where state documents come from.
pub enum StateSource {
    /// The leading master among the configured ones, over HTTP.
    Masters(Fetcher),
    /// A state JSON file, read again at each refresh (`--state-file`: demos and offline tests).
    File(PathBuf),
    /// The masters that ZooKeeper names (`zk`), over HTTP: the leader first, then the other members,
    /// then the configured `masters` (which are used alone while ZooKeeper names no leader, with
    /// `zkDetectionTimeout` 0). A change in the group wakes the refresher at once.
    ZooKeeper(ZkLeader),
}

/// The refresher's side of ZooKeeper leader detection.
pub struct ZkLeader {
    watch: Arc<LeaderWatch>,
    /// The version of the masters the last refresh used.
    seen: AtomicU64,
    /// The settings the leader is fetched with (TLS, credentials, timeout, test hooks); its masters are
    /// replaced by [`ZkMasters::fetch`] at each refresh.
    fetcher: Fetcher,
}

/// Which masters one refresh with `zk` fetches from and names in the `master*` records.
#[derive(Debug, PartialEq, Eq)]
struct ZkMasters {
    /// Tried in this order.
    fetch: Vec<String>,
    /// The masters list of record generation (`master0.D` is its first).
    named: Vec<String>,
}

/// With masters published by ZooKeeper: they are named (the leader first, as Go's detector reports
/// them) and fetched from in that order, followed by the configured masters not among them. Without
/// (no leader named yet): the configured masters, fetched from and named, when `zkDetectionTimeout`
/// is 0 (spec section 3); otherwise, or with none configured, there is nothing to refresh from.
///
/// We: the configured masters stay in use until ZooKeeper names a leader. Go replaces them with the
/// group's members as soon as it lists the group, so an empty group leaves it nothing to fetch from.
fn zk_masters(
    published: Option<&GroupMasters>,
    configured: &[String],
    detection_timeout_secs: u64,
) -> Result<ZkMasters, RefreshError> {
    match published {
        Some(group) => {
            let named = group.addresses();
            let mut fetch = named.clone();
            fetch.extend(configured.iter().filter(|m| !named.contains(m)).cloned());
            Ok(ZkMasters { fetch, named })
        }
        None if detection_timeout_secs == 0 && !configured.is_empty() => Ok(ZkMasters {
            fetch: configured.to_vec(),
            named: configured.to_vec(),
        }),
        None => Err(RefreshError::NoZkLeader),
    }
}

impl ZkLeader {
    /// The masters for a refresh now, noting the version used (see [`StateSource::leader_changed`]).
    fn masters_for_refresh(&self, config: &Config) -> Result<ZkMasters, RefreshError> {
        let (published, version) = self.watch.current();
        self.seen.store(version, Ordering::Relaxed);
        zk_masters(published.as_ref(), &config.masters, config.zk_detection_timeout)
    }
}

impl ZkLeader {
    /// Follows the masters published in `watch` (by [`crate::mesos::zk::spawn_detector`]).
    pub fn new(watch: Arc<LeaderWatch>, fetcher: Fetcher) -> ZkLeader {
        ZkLeader {
            watch,
            seen: AtomicU64::new(0),
            fetcher,
        }
    }
}

impl StateSource {
    fn describe(&self) -> String {
        match self {
            StateSource::Masters(f) => format!("masters {}", f.masters().join(", ")),
            StateSource::File(p) => format!("state file {}", p.display()),
            StateSource::ZooKeeper(_) => "the masters named by ZooKeeper".to_owned(),
        }
    }

    /// Whether the masters published by ZooKeeper (the leader or any other member) changed since the
    /// last refresh.
    fn leader_changed(&self) -> bool {
        match self {
            StateSource::ZooKeeper(zk) => zk.watch.current().1 != zk.seen.load(Ordering::Relaxed),
            _ => false,
        }
    }
}

/// Why one refresh produced no snapshot.
#[derive(Debug)]
pub enum RefreshError {
    /// No master gave a usable document.
    Fetch(FetchError),
    /// The state file could not be read.
    ReadFile { path: PathBuf, error: io::Error },
    /// The state file is larger than [`MAX_BODY_BYTES`].
    FileTooBig { path: PathBuf },
    /// The document is not a Mesos state document.
    NotState(String),
    /// The document names no leader: the master it came from is not part of a working quorum.
    NoLeader,
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
            RefreshError::NotState(e) => write!(f, "not a Mesos state document: {e}"),
            RefreshError::NoLeader => write!(f, "the state document names no leader"),
            RefreshError::Panicked(msg) => write!(f, "internal error while building records: {msg}"),
            RefreshError::NoZkLeader => write!(f, "ZooKeeper has not named a leading master yet"),
        }
    }
}

impl std::error::Error for RefreshError {}

/// Parses one state document and builds its snapshot: rejects a document without a leader, generates
/// the records (spec section 4) and indexes them. `masters_for_records` are the masters the `master*`
/// records name; `self_addrs` get the `SOAMname` records; `resolve` looks up host names; `serial` is the
/// SOA serial. Returns the snapshot and the record list it was built from (for logging and the HTTP API).
pub fn build_snapshot(
    config: &Config,
    body: &[u8],
    masters_for_records: &[String],
    self_addrs: &[IpAddr],
    resolve: &dyn Fn(&str) -> Vec<IpAddr>,
    serial: u32,
) -> Result<(Records, RecordList), RefreshError> {
    let header = state::parse_header(body).map_err(|e| RefreshError::NotState(e.to_string()))?;
    let list = generate_from_body(config, &header, body, masters_for_records, self_addrs, resolve)?;
    let records = Records::build(Zone::from_config(config), &list, serial);
    Ok((records, list))
}

/// [`build_snapshot`] for a document that is already parsed whole (the event stream's model).
pub fn build_from_state(
    config: &Config,
    state: &State<'_>,
    masters_for_records: &[String],
    self_addrs: &[IpAddr],
    resolve: &dyn Fn(&str) -> Vec<IpAddr>,
    serial: u32,
) -> Result<(Records, RecordList), RefreshError> {
    let list = generate_from_state(config, state, masters_for_records, self_addrs, resolve)?;
    let records = Records::build(Zone::from_config(config), &list, serial);
    Ok((records, list))
}

/// The first half of [`build_from_state`]: rejects a document without a leader and generates the
/// records. The refresher indexes them only once the document and its parsed form are freed, which
/// keeps them out of the refresh's peak memory.
pub fn generate_from_state(
    config: &Config,
    state: &State<'_>,
    masters_for_records: &[String],
    self_addrs: &[IpAddr],
    resolve: &dyn Fn(&str) -> Vec<IpAddr>,
) -> Result<RecordList, RefreshError> {
    if state.leader.is_empty() {
        return Err(RefreshError::NoLeader);
    }
    Ok(generate(
        state,
        &gen_input(config, masters_for_records, self_addrs, resolve),
    ))
}

/// [`generate_from_state`] from a document's header and body: the tasks are read one at a time while
/// the records are generated, so the parsed form of the whole document never exists (at 100k tasks it
/// would be about as large as the document).
pub fn generate_from_body(
    config: &Config,
    header: &Header<'_>,
    body: &[u8],
    masters_for_records: &[String],
    self_addrs: &[IpAddr],
    resolve: &dyn Fn(&str) -> Vec<IpAddr>,
) -> Result<RecordList, RefreshError> {
    if header.leader.is_empty() {
        return Err(RefreshError::NoLeader);
    }
    let input = gen_input(config, masters_for_records, self_addrs, resolve);
    generate_streamed(header, body, &input).map_err(|e| RefreshError::NotState(e.to_string()))
}

fn gen_input<'a>(
    config: &'a Config,
    masters: &'a [String],
    self_addrs: &'a [IpAddr],
    resolve: &'a dyn Fn(&str) -> Vec<IpAddr>,
) -> GenInput<'a> {
    GenInput {
        domain: &config.domain,
        ip_sources: &config.ip_sources,
        enforce_rfc952: config.enforce_rfc952,
        masters,
        soa_mname: &config.soa_mname,
        self_addrs,
        resolve,
        ptr_on: config.ptr_on,
    }
}

/// Starts the refresher thread (`mesos-dns-refresh`): it refreshes at once, then every `refreshSeconds`,
/// storing each new snapshot into `records`. It runs for the life of the process. `verbosity` is the
/// number of `-v`: 1 logs the success/failure counts with each refresh, 2 also logs every record.
pub fn spawn(
    config: Arc<Config>,
    source: StateSource,
    records: Arc<ArcSwap<Records>>,
    verbosity: u8,
) -> io::Result<JoinHandle<()>> {
    spawn_reloadable(
        Arc::new(ArcSwap::new(config)),
        source,
        records,
        Arc::default(),
        verbosity,
    )
}

/// [`spawn`] with a config that can be replaced while it runs (SIGHUP): store a new one into `config`
/// and unpark the thread, and it refreshes at once with it (rebuilding its fetcher if the masters or
/// the timeout changed).
pub fn spawn_reloadable(
    config: Arc<ArcSwap<Config>>,
    source: StateSource,
    records: Arc<ArcSwap<Records>>,
    status: Arc<RefreshStatus>,
    verbosity: u8,
) -> io::Result<JoinHandle<()>> {
    let mut refresher = Refresher::new(config.load_full(), source, records, verbosity);
    refresher.shared = Some(config);
    refresher.status = status;
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
    /// The event subscription, with `"stateSource": "stream"` and masters ([`crate::stream`]).
    stream: Option<Streamer>,
}

/// What a successful refresh reports.
struct Built {
    records: Records,
    list: RecordList,
    from: String,
    /// In stream mode: the polled document as the stream's model.
    polled: Option<Model>,
}

impl Refresher {
    fn new(config: Arc<Config>, source: StateSource, records: Arc<ArcSwap<Records>>, verbosity: u8) -> Refresher {
        Refresher {
            config,
            shared: None,
            status: Arc::default(),
            source,
            records,
            verbosity,
            successes: 0,
            failures: 0,
            last_serial: 0,
            last_success: None,
            stream: None,
        }
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
    fn masters_for_records(&self) -> Vec<String> {
        match &self.source {
            StateSource::ZooKeeper(zk) => {
                let published = zk.watch.current().0;
                zk_masters(
                    published.as_ref(),
                    &self.config.masters,
                    self.config.zk_detection_timeout,
                )
                .map(|m| m.named)
                .unwrap_or_default()
            }
            _ => self.config.masters.clone(),
        }
    }

    /// Applies the events that arrived and publishes a snapshot if they changed anything; true when
    /// a live stream broke and a poll should run now.
    fn pump_stream(&mut self) -> bool {
        match self.stream.as_mut().map(Streamer::pump) {
            Some(Pumped::Changed) => {
                self.tick_with(Self::build_from_stream);
                false
            }
            Some(Pumped::Lost) => true,
            Some(Pumped::Idle) | None => false,
        }
    }

    /// Builds a snapshot from the stream's model.
    fn build_from_stream(&self, serial: u32) -> Result<Built, RefreshError> {
        let Some(stream) = &self.stream else {
            return Err(RefreshError::NotState("no event stream".into()));
        };
        let config = &*self.config;
        let cache = RefCell::new(HashMap::new());
        let resolve = |host: &str| cached_resolve(&cache, host);
        let self_addrs = self_addrs(config.listener);
        let (records, list) = build_from_state(
            config,
            stream.model().state(),
            &self.masters_for_records(),
            &self_addrs,
            &resolve,
            serial,
        )?;
        Ok(Built {
            records,
            list,
            from: "the event stream".into(),
            polled: None,
        })
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
        let mut next = Instant::now();
        loop {
            self.tick();
            // A refresh that overran its period starts the next at once; missed periods are not made up.
            next += Duration::from_secs(self.config.refresh_seconds.max(1));
            next = next.max(Instant::now());
            // Sleep until the next refresh, or until a new config arrives (then refresh at once), or
            // until stream events arrive (then publish them; if the stream broke, poll at once).
            while Instant::now() < next {
                let wake = self.stream.as_mut().and_then(|s| s.maintain(Instant::now()));
                let until = wake.map_or(next, |w| w.min(next));
                thread::park_timeout(until.saturating_duration_since(Instant::now()));
                if self.adopt_new_config() || self.pump_stream() {
                    next = Instant::now();
                }
                if self.source.leader_changed() {
                    log::info!("the masters registered in ZooKeeper changed: refreshing now");
                    next = Instant::now();
                }
            }
        }
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
        self.stream = self.stream_for_config();
        log::info!("config reloaded: refreshing now");
        true
    }

    /// One refresh: build, store or keep, log. Never panics on input, and survives a panicking
    /// generator where panics unwind (debug and test builds; release builds abort, which is loud too).
    fn tick(&mut self) {
        self.tick_with(Self::refresh_once);
    }

    /// [`Refresher::tick`] with another way to build the snapshot.
    fn tick_with(&mut self, build: fn(&Self, u32) -> Result<Built, RefreshError>) {
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
                }
                self.store(built, serial, took)
            }
            Err(e) => self.keep(&e, took),
        }
    }

    fn refresh_once(&self, serial: u32) -> Result<Built, RefreshError> {
        let config = &*self.config;
        let self_addrs = self_addrs(config.listener);
        // One lookup per distinct host name per refresh: agents share hosts and lookups block.
        let cache: RefCell<HashMap<String, Vec<IpAddr>>> = RefCell::new(HashMap::new());
        let resolve = |host: &str| cached_resolve(&cache, host);
        let (zk_fetcher, named);
        let (fetcher, named): (&Fetcher, &[String]) = match &self.source {
            StateSource::Masters(fetcher) => (fetcher, &config.masters),
            StateSource::ZooKeeper(zk) => {
                let masters = zk.masters_for_refresh(config)?;
                zk_fetcher = zk.fetcher.with_masters(masters.fetch);
                named = masters.named;
                (&zk_fetcher, &named)
            }
            StateSource::File(path) => {
                let body = read_capped(path)?;
                let (records, list) = build_snapshot(config, &body, &config.masters, &self_addrs, &resolve, serial)?;
                return Ok(Built {
                    records,
                    list,
                    from: path.display().to_string(),
                    polled: None,
                });
            }
        };
        if self.stream.is_some() {
            // Stream mode: the document becomes the stream's model, and records come from that.
            let (model, origin) = fetcher
                .fetch_with(|_, _, body| state::parse(body).map(|state| Model::from_state(&state)))
                .map_err(RefreshError::Fetch)?;
            let model = model.map_err(|e| RefreshError::NotState(e.to_string()))?;
            let (records, list) = build_from_state(config, model.state(), named, &self_addrs, &resolve, serial)?;
            return Ok(Built {
                records,
                list,
                from: origin.url,
                polled: Some(model),
            });
        }
        let (generated, origin) = fetcher
            .fetch_with(|_, header, body| generate_from_body(config, header, body, named, &self_addrs, &resolve))
            .map_err(RefreshError::Fetch)?;
        // The body and its parsed form are freed by now: index the records.
        let list = generated?;
        let records = Records::build(Zone::from_config(config), &list, serial);
        Ok(Built {
            records,
            list,
            from: origin.url,
            polled: None,
        })
    }

    fn store(&mut self, built: Built, serial: u32, took: Duration) {
        let Built {
            records, list, from, ..
        } = built;
        self.successes += 1;
        self.last_serial = serial;
        self.last_success = Some(Instant::now());
        let (a, aaaa, srv) = records.counts();
        let (names, skipped, count) = (records.name_count(), records.skipped(), list.len());
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
        // `/v1/enumerate` needs which task each record came from: keep the list only when it is served.
        let records = if self.config.enumeration_on {
            records.with_list(list)
        } else {
            records
        };
        self.records.store(Arc::new(records));
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
        match self.last_success {
            Some(at) => log::warn!(
                "state refresh failed after {} ms, keeping the records of {}s ago: {error}{}",
                took.as_millis(),
                at.elapsed().as_secs(),
                self.counts_suffix()
            ),
            None => log::error!(
                "state refresh failed after {} ms, no records yet (the domain answers SERVFAIL): {error}{}",
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
        }
    }
}

/// [`system_resolve`] with one lookup per distinct host name per refresh: agents share hosts and
/// lookups block.
fn cached_resolve(cache: &RefCell<HashMap<String, Vec<IpAddr>>>, host: &str) -> Vec<IpAddr> {
    let key = host.to_ascii_lowercase();
    if let Some(hit) = cache.try_borrow().ok().and_then(|c| c.get(&key).cloned()) {
        return hit;
    }
    let found = system_resolve(host);
    if let Ok(mut c) = cache.try_borrow_mut() {
        c.insert(key, found.clone());
    }
    found
}

/// Reads a state file, refusing one over [`MAX_BODY_BYTES`] without reading it all.
fn read_capped(path: &PathBuf) -> Result<Vec<u8>, RefreshError> {
    let read_err = |error| RefreshError::ReadFile {
        path: path.clone(),
        error,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut body = Vec::new();
    file.take(MAX_BODY_BYTES + 1).read_to_end(&mut body).map_err(read_err)?;
    if body.len() as u64 > MAX_BODY_BYTES {
        return Err(RefreshError::FileTooBig { path: path.clone() });
    }
    Ok(body)
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

/// The addresses the server answers on, for the `SOAMname` records: the listener address itself, or,
/// when listening on the unspecified address, every address of every interface that is up, except
/// loopback and IPv6 link-local ones (useless to other hosts). `0.0.0.0` serves IPv4 only, so it gives
/// IPv4 addresses only; `::` gives both families.
pub fn self_addrs(listener: IpAddr) -> Vec<IpAddr> {
    if !listener.is_unspecified() {
        return vec![listener];
    }
    let all = match interface_addrs() {
        Ok(all) => all,
        Err(e) => {
            log::warn!("cannot list the interface addresses for the {listener} listener's own records: {e}");
            return Vec::new();
        }
    };
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in all {
        let wanted = match ip {
            IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_unspecified(),
            IpAddr::V6(v6) => listener.is_ipv6() && !v6.is_loopback() && !v6.is_unspecified() && !is_link_local(v6),
        };
        if wanted && !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

/// `fe80::/10` (`Ipv6Addr::is_unicast_link_local` needs a newer Rust than our minimum).
fn is_link_local(ip: Ipv6Addr) -> bool {
    ip.segments()[0] & 0xffc0 == 0xfe80
}

/// The addresses of every interface that is up (loopback included), from `getifaddrs(3)`.
pub fn interface_addrs() -> io::Result<Vec<IpAddr>> {
    let mut out = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `getifaddrs` either fails (returns -1, `head` untouched and not freed) or gives us a list
    // that we own until `freeifaddrs`. We only read it: every node pointer and every `ifa_addr` is
    // checked for null before it is dereferenced, and an `ifa_addr` is reinterpreted as `sockaddr_in`
    // or `sockaddr_in6` only when its `sa_family` says it is one (the C API guarantees the storage is
    // that large then). Nothing read is kept past `freeifaddrs`, which runs exactly once, after the walk,
    // and nothing in the walk can unwind.
    unsafe {
        if libc::getifaddrs(&mut head) != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut node = head;
        while !node.is_null() {
            let ifa = &*node;
            let up = ifa.ifa_flags & (libc::IFF_UP as libc::c_uint) != 0;
            if up && !ifa.ifa_addr.is_null() {
                match i32::from((*ifa.ifa_addr).sa_family) {
                    libc::AF_INET => {
                        let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                        out.push(IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr))));
                    }
                    libc::AF_INET6 => {
                        let sin6 = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                        out.push(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)));
                    }
                    _ => {}
                }
            }
            node = ifa.ifa_next;
        }
        libc::freeifaddrs(head);
    }
    Ok(out)
}

/// The system resolver (`/etc/hosts`, then DNS as `nsswitch.conf` says) for host names in the state
/// (agent pids, framework hosts); IP literals are returned as they are, without a lookup. A name that
/// does not resolve gives no addresses (logged at debug level).
pub fn system_resolve(host: &str) -> Vec<IpAddr> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return vec![ip];
    }
    match (bare, 0u16).to_socket_addrs() {
        Ok(addrs) => {
            let mut out: Vec<IpAddr> = Vec::new();
            for a in addrs {
                if !out.contains(&a.ip()) {
                    out.push(a.ip());
                }
            }
            out
        }
        Err(e) => {
            log::debug!("cannot resolve {host}: {e}");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Lookup;

    const TUTORIAL: &[u8] = include_bytes!("../tests/fixtures/tutorial-0.21.json");
    const FAKE: &[u8] = include_bytes!("../tests/fixtures/fake.json");

    fn config() -> Config {
        Config {
            masters: vec!["127.0.0.1:5050".into()],
            listener: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
            ..Config::default()
        }
    }

    /// A resolver that fails the test if anything needs the network: the fixtures use IP literals.
    fn no_lookups(host: &str) -> Vec<IpAddr> {
        host.parse::<IpAddr>().map(|ip| vec![ip]).unwrap_or_default()
    }

    fn wire(name: &str) -> Vec<u8> {
        let mut v = Vec::new();
        crate::records::text_to_wire(name, &mut v).unwrap();
        v
    }

    fn a_of(records: &Records, name: &str) -> Vec<Ipv4Addr> {
        match records.lookup(&wire(name)) {
            Lookup::Found(node) => node.a.iter().map(|o| Ipv4Addr::from(*o)).collect(),
            _ => Vec::new(),
        }
    }

    fn self_ip() -> Vec<IpAddr> {
        vec![IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1))]
    }

    #[test]
    fn tutorial_state_gives_the_tutorial_names() {
        let c = config();
        let (records, list) = build_snapshot(&c, TUTORIAL, &c.masters, &self_ip(), &no_lookups, 1234).unwrap();
        assert!(records.is_loaded());
        assert_eq!(records.serial(), 1234);
        let nginx = Ipv4Addr::new(10, 114, 227, 92);
        assert_eq!(a_of(&records, "nginx.marathon-0.7.6.mesos."), vec![nginx]);
        assert!(list.contains("nginx.marathon-0.7.6.mesos.", &RData::A(nginx)));
        assert_eq!(
            a_of(&records, "mesos-dns.marathon-0.7.6.mesos."),
            vec![Ipv4Addr::new(10, 14, 245, 208)]
        );
        assert_eq!(a_of(&records, "leader.mesos."), vec![Ipv4Addr::LOCALHOST]);
        assert_eq!(
            a_of(&records, "ns1.mesos."),
            vec![Ipv4Addr::LOCALHOST],
            "SOAMname gets the server's address"
        );
    }

    #[test]
    fn fake_state_builds_and_keeps_every_record_valid() {
        let c = config();
        let (records, list) = build_snapshot(&c, FAKE, &c.masters, &self_ip(), &no_lookups, 1).unwrap();
        assert!(list.len() > 20, "only {} records", list.len());
        assert_eq!(
            records.skipped(),
            0,
            "every generated name is a valid name under the domain"
        );
        assert_eq!(a_of(&records, "leader.mesos."), vec![Ipv4Addr::LOCALHOST]);
        assert!(!a_of(&records, "slave.mesos.").is_empty());
    }

    #[test]
    fn state_without_leader_is_rejected() {
        let c = config();
        let body = br#"{"leader":"","frameworks":[],"slaves":[]}"#;
        let err = build_snapshot(&c, body, &c.masters, &[], &no_lookups, 1).err().unwrap();
        assert!(matches!(err, RefreshError::NoLeader), "{err}");
        let err = build_snapshot(&c, b"{}", &c.masters, &[], &no_lookups, 1)
            .err()
            .unwrap();
        assert!(matches!(err, RefreshError::NoLeader), "{err}");
    }

    #[test]
    fn garbage_is_not_a_state() {
        let c = config();
        for body in [&b"<html>502 Bad Gateway</html>"[..], b"", b"[1,2", b"\xff\xfe"] {
            let err = build_snapshot(&c, body, &c.masters, &[], &no_lookups, 1).err().unwrap();
            assert!(matches!(err, RefreshError::NotState(_)), "{err}");
            assert!(err.to_string().starts_with("not a Mesos state document"), "{err}");
        }
    }

    /// A unique temp file path, removed when dropped (also when the test fails).
    struct TempPath(PathBuf);

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn temp_path(tag: &str) -> TempPath {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
        TempPath(std::env::temp_dir().join(format!("mesos-dns-refresh-{tag}-{}-{nanos}.json", std::process::id())))
    }

    #[test]
    fn failed_refresh_keeps_the_last_good_snapshot() {
        let temp = temp_path("keep");
        let path = &temp.0;
        std::fs::write(path, TUTORIAL).unwrap();
        let c = Arc::new(config());
        let records = Arc::new(ArcSwap::from_pointee(Records::unloaded(Zone::from_config(&c))));
        let mut r = Refresher::new(c, StateSource::File(path.clone()), records.clone(), 2);
        r.tick();
        assert_eq!((r.successes, r.failures), (1, 0));
        let first = records.load_full();
        assert!(first.is_loaded());
        let nginx = vec![Ipv4Addr::new(10, 114, 227, 92)];
        assert_eq!(a_of(&first, "nginx.marathon-0.7.6.mesos."), nginx);

        for bad in [&b"not json"[..], br#"{"leader":""}"#] {
            std::fs::write(path, bad).unwrap();
            r.tick();
            assert!(
                Arc::ptr_eq(&first, &records.load_full()),
                "a failed refresh must not replace the snapshot"
            );
        }
        std::fs::remove_file(path).unwrap();
        r.tick();
        assert_eq!((r.successes, r.failures), (1, 3));
        assert!(Arc::ptr_eq(&first, &records.load_full()));

        std::fs::write(path, TUTORIAL).unwrap();
        r.tick();
        assert_eq!(r.successes, 2);
        let second = records.load_full();
        assert!(!Arc::ptr_eq(&first, &second));
        assert!(second.serial() > first.serial(), "serials increase");
        assert_eq!(a_of(&second, "nginx.marathon-0.7.6.mesos."), nginx);
    }

    #[test]
    fn unreachable_masters_leave_the_unloaded_snapshot() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Arc::new(Config {
            masters: vec![format!("127.0.0.1:{port}")],
            ..config()
        });
        let records = Arc::new(ArcSwap::from_pointee(Records::unloaded(Zone::from_config(&c))));
        let fetcher = Fetcher::from_config(&c)
            .unwrap()
            .with_follow_filter(crate::mesos::fetch::is_loopback_addr);
        let mut r = Refresher::new(c, StateSource::Masters(fetcher), records.clone(), 1);
        r.tick();
        assert_eq!((r.successes, r.failures), (0, 1));
        assert!(!records.load().is_loaded());
    }

    #[test]
    fn serials_follow_the_clock_and_never_go_back() {
        assert_eq!(next_serial(0, 1_700_000_000), 1_700_000_000);
        assert_eq!(next_serial(1_700_000_000, 1_700_000_000), 1_700_000_001);
        assert_eq!(next_serial(1_700_000_005, 1_700_000_000), 1_700_000_006);
        assert_eq!(next_serial(5, u64::MAX), u32::MAX);
    }

    #[test]
    fn records_print_as_zone_lines() {
        let a = Record {
            name: "nginx.marathon.mesos.".into(),
            data: RData::A(Ipv4Addr::new(10, 0, 0, 1)),
        };
        let srv = Record {
            name: "_nginx._tcp.marathon.mesos.".into(),
            data: RData::Srv {
                target: "nginx-x.marathon.slave.mesos.".into(),
                port: 31000,
            },
        };
        assert_eq!(
            RecordLine {
                record: &a,
                ttl: 60,
                weight: 1
            }
            .to_string(),
            "nginx.marathon.mesos. 60 IN A 10.0.0.1"
        );
        assert_eq!(
            RecordLine {
                record: &srv,
                ttl: 60,
                weight: 3
            }
            .to_string(),
            "_nginx._tcp.marathon.mesos. 60 IN SRV 0 3 31000 nginx-x.marathon.slave.mesos."
        );
    }

    #[test]
    fn a_specific_listener_is_its_own_address() {
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(self_addrs(ip), vec![ip]);
        let v6: IpAddr = "2001:db8::5".parse().unwrap();
        assert_eq!(self_addrs(v6), vec![v6]);
    }

    #[test]
    fn wildcard_listener_gives_non_loopback_interface_addresses() {
        let all = interface_addrs().unwrap();
        assert!(all.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)), "lo is up: {all:?}");
        let v4 = self_addrs(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert!(v4.iter().all(|ip| ip.is_ipv4() && !ip.is_loopback()), "{v4:?}");
        let both = self_addrs(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        assert!(both.iter().all(|ip| !ip.is_loopback()), "{both:?}");
        assert!(v4.iter().all(|ip| both.contains(ip)));
        assert!(both.iter().all(|ip| match ip {
            IpAddr::V6(v6) => !is_link_local(*v6),
            IpAddr::V4(_) => true,
        }));
    }

    #[test]
    fn ip_literals_resolve_without_a_lookup() {
        assert_eq!(system_resolve("10.0.0.1"), vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]);
        assert_eq!(system_resolve("[::1]"), vec![IpAddr::V6(Ipv6Addr::LOCALHOST)]);
    }

    fn group(leader: &str, others: &[&str]) -> GroupMasters {
        let addr = |a: &str| {
            let (host, port) = a.rsplit_once(':').unwrap();
            crate::mesos::zk::MasterAddr {
                host: host.into(),
                port: port.parse().unwrap(),
            }
        };
        GroupMasters::new(addr(leader), others.iter().map(|o| addr(o)))
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn zookeeper_masters_are_named_leader_first_and_fetched_before_the_configured() {
        let published = group("10.0.0.2:5050", &["10.0.0.1:5050", "10.0.0.3:5050"]);
        let configured = strings(&["10.0.0.1:5050", "10.0.0.9:5050"]);
        for timeout in [0, 30] {
            let m = zk_masters(Some(&published), &configured, timeout).unwrap();
            assert_eq!(m.named, ["10.0.0.2:5050", "10.0.0.1:5050", "10.0.0.3:5050"]);
            assert_eq!(
                m.fetch,
                ["10.0.0.2:5050", "10.0.0.1:5050", "10.0.0.3:5050", "10.0.0.9:5050"]
            );
        }
        let alone = zk_masters(Some(&group("10.0.0.2:5050", &[])), &[], 30).unwrap();
        assert_eq!(alone.named, ["10.0.0.2:5050"]);
        assert_eq!(alone.fetch, ["10.0.0.2:5050"]);
    }

    #[test]
    fn without_a_zookeeper_leader_the_configured_masters_serve_only_with_timeout_zero() {
        let configured = strings(&["10.0.0.1:5050", "10.0.0.9:5050"]);
        let m = zk_masters(None, &configured, 0).unwrap();
        assert_eq!(m.named, configured);
        assert_eq!(m.fetch, configured);
        assert!(matches!(
            zk_masters(None, &configured, 30),
            Err(RefreshError::NoZkLeader)
        ));
        assert!(matches!(zk_masters(None, &[], 0), Err(RefreshError::NoZkLeader)));
    }

    #[test]
    fn refresh_errors_say_what_to_fix() {
        let e = RefreshError::ReadFile {
            path: "/x/state.json".into(),
            error: io::Error::from(io::ErrorKind::NotFound),
        };
        assert!(e.to_string().starts_with("cannot read state file /x/state.json"), "{e}");
        assert_eq!(RefreshError::NoLeader.to_string(), "the state document names no leader");
    }
}
