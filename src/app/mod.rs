//! The process: load the config, choose where state comes from, bind the sockets, start the refresher
//! and the signal thread, and serve. Wiring only: every decision lives in the modules it calls.

mod check;
mod signals;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::cli;
use crate::config::{choose_file, Config, Overrides};
use crate::forward::{RelayConfig, UdpBuffers, Upstreams};
use crate::mesos::fetch::{self, Fetcher};
use crate::mesos::zk;
use crate::metrics::RefreshStatus;
use crate::records::zone;
use crate::refresh::{self, StateSource, ZkLeader};
use crate::serve::{Api, Server, Settings, TcpLimits};
use crate::snapshot::Records;
use crate::warm;
pub use check::check_config;
use signals::{watch_signals, Control};

/// Loads the config, checks everything a deployment can get wrong before any socket is bound (exit
/// status 2), then serves until a signal stops it (0) or serving fails (1).
pub fn start(args: &cli::Args) -> ExitCode {
    let mut warnings = Vec::new();
    let prepared = prepare(args, &Environment::of_process(), &mut warnings);
    for w in warnings {
        log::warn!("{w}");
    }
    let prepared = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            eprintln!("mesos-dns: {e}");
            return ExitCode::from(2);
        }
    };
    if !prepared.reload.env.is_empty() {
        let vars: Vec<&str> = prepared.reload.env.variables().collect();
        let over = prepared
            .reload
            .config_path
            .as_ref()
            .map_or("the defaults".to_string(), |p| p.display().to_string());
        log::info!("config keys from the environment, over {over}: {}", vars.join(", "));
    }
    let Prepared { config, source, reload } = prepared;
    let source = match source {
        Source::File(path) => StateSource::File(path),
        Source::Masters(fetcher) => StateSource::Masters(fetcher),
        Source::ZooKeeper(url, fetcher) => match start_zk(&config, url, fetcher) {
            Ok(zk) => StateSource::ZooKeeper(zk),
            Err(e) => {
                eprintln!("mesos-dns: {e}");
                return ExitCode::from(2);
            }
        },
    };
    match run(config, source, args, reload) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            eprintln!("mesos-dns: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a start has loaded and checked before it binds anything or contacts anyone: the same steps for
/// a start and for `-check-config` ([`check::check_config`]).
struct Prepared {
    config: Arc<Config>,
    source: Source,
    reload: Reload,
}

/// Where state will come from, with the fetcher built (so its certificate and credential files read).
enum Source {
    /// `-state-file`.
    File(std::path::PathBuf),
    /// `masters`.
    Masters(Fetcher),
    /// `zk`, with the fetcher for the masters it names.
    ZooKeeper(zk::ZkUrl, Fetcher),
}

/// What a start takes from its surroundings besides the command line.
struct Environment {
    /// The process's variables (the `MESOS_DNS_*` ones are config keys).
    vars: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    /// Whether `config.json` is in the working directory (the file read without `-config`).
    default_config_exists: bool,
}

impl Environment {
    fn of_process() -> Environment {
        Environment {
            vars: std::env::vars_os().collect(),
            default_config_exists: std::path::Path::new("config.json").exists(),
        }
    }
}

/// Reads the environment's keys and the config file, the static records file, and the certificate,
/// key and IAM files the fetcher needs: every error a deployment can make in its config, named by key.
/// Binds nothing, starts no thread, contacts nothing. What is accepted but probably not meant goes to
/// `warnings`, also when a later step fails.
fn prepare(args: &cli::Args, environment: &Environment, warnings: &mut Vec<String>) -> Result<Prepared, String> {
    // The environment is read once: a reload keeps these keys over the file's.
    let (env, env_warnings) = Overrides::from_vars(environment.vars.iter().cloned()).map_err(|e| e.to_string())?;
    warnings.extend(env_warnings);
    let config_path = choose_file(args.config.as_deref(), environment.default_config_exists, &env);
    let (config, config_warnings) = Config::load(config_path.as_deref(), &env).map_err(|e| e.to_string())?;
    warnings.extend(config_warnings);
    // A bad static records file stops the start as a bad config does (the refresher reads it again).
    refresh::StaticRecords::load(&config).map_err(|e| e.to_string())?;
    // The certificate files, credentials and ZooKeeper URL are checked before any socket is bound, like
    // the rest of the config.
    let source = match (args.state_file.clone(), config.zk.clone()) {
        (Some(path), _) => Source::File(path),
        // The settings state will be fetched with; the masters come from ZooKeeper (or, while ZooKeeper
        // names no leader, with zkDetectionTimeout 0 or once it passed, from `masters`: see `refresh`).
        (None, Some(url)) => Source::ZooKeeper(
            url,
            with_test_hooks(Fetcher::with_config(&config, Vec::new()).map_err(|e| e.to_string())?),
        ),
        (None, None) => Source::Masters(with_test_hooks(
            Fetcher::from_config(&config).map_err(|e| e.to_string())?,
        )),
    };
    Ok(Prepared {
        config: Arc::new(config),
        source,
        reload: Reload { config_path, env },
    })
}

/// Where the config comes from, for SIGHUP to read it again.
struct Reload {
    /// The file, if any (see [`choose_file`]).
    config_path: Option<std::path::PathBuf>,
    /// The keys the environment sets, as read at start.
    env: Overrides,
}

/// Binds the sockets, starts the refresher and serves.
fn run(config: Arc<Config>, source: StateSource, args: &cli::Args, reload: Reload) -> Result<(), String> {
    let records = Arc::new(ArcSwap::from_pointee(Records::unloaded(zone(&config))));
    let dns = config.dns_on.then(|| SocketAddr::new(config.listener, config.port));
    let http = config
        .http_on
        .then(|| SocketAddr::new(config.http_listener, config.http_port));
    let server = match (dns, http) {
        (None, None) => None,
        _ => {
            let settings = relay_settings(&config, dns, args);
            let server = Server::bind(dns, http, settings).map_err(|e| match (dns, http) {
                (Some(dns), Some(http)) => format!("cannot listen for DNS on {dns} or HTTP on {http}: {e}"),
                (Some(dns), None) => format!("cannot listen for DNS on {dns}: {e}"),
                (None, _) => format!(
                    "cannot listen for HTTP on {}: {e}",
                    http.map_or_else(String::new, |h| h.to_string())
                ),
            })?;
            if let Some(http) = server.http_addr() {
                log::info!("serving the HTTP API on {http}");
            }
            if let Some(dns) = server.dns_addr() {
                log::info!("serving DNS for {}. on {dns} (UDP and TCP)", config.domain);
            }
            Some(server)
        }
    };
    let shared = Arc::new(ArcSwap::new(config.clone()));
    let refresh_status = Arc::new(RefreshStatus::default());
    // The snapshot file's records, before the refresher's first; then each published snapshot is
    // handed to the file's writer.
    let in_file = warm::start(&config, &records, &refresh_status.file);
    let file_writer = warm::writer::spawn(shared.clone(), records.clone(), refresh_status.file.clone(), in_file)
        .map_err(|e| format!("cannot start the snapshot file writer: {e}"))?;
    let waker = server.as_ref().map(Server::waker);
    let refresher = refresh::spawn_reloadable(
        shared.clone(),
        source,
        records.clone(),
        refresh_status.clone(),
        args.verbosity,
        Some(Box::new(move || {
            if let Some(waker) = &waker {
                let _ = waker.wake();
            }
            file_writer.published();
        })),
    )
    .map_err(|e| format!("cannot start the refresher: {e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let control = Control {
        stop: stop.clone(),
        waker: server.as_ref().map(Server::waker),
        relay: server.as_ref().map(Server::relay_reloader),
        dns,
        resolv_conf: args.resolv_conf.clone(),
        config_path: reload.config_path,
        env: reload.env,
        config: shared.clone(),
        refresher: refresher.thread().clone(),
    };
    let api = Api {
        config: shared,
        refresh: refresh_status,
    };
    watch_signals(control).map_err(|e| format!("cannot install signal handlers: {e}"))?;
    match server {
        Some(server) => server
            .run(records, stop, api)
            .map_err(|e| format!("DNS server failed: {e}"))?,
        None => {
            while !stop.load(Ordering::Relaxed) && !refresher.is_finished() {
                std::thread::park_timeout(Duration::from_millis(200));
            }
        }
    }
    log::info!("stopped");
    Ok(())
}

/// The loop's settings: the relay's (see [`relay_config`]), TCP limits, socket buffers.
fn relay_settings(config: &Config, dns: Option<SocketAddr>, args: &cli::Args) -> Settings {
    Settings {
        external_on: config.external_on,
        relay: relay_config(config, dns, args.resolv_conf.as_deref()),
        tcp: TcpLimits::default(),
        udp_buffers: UdpBuffers {
            receive: config.udp_receive_buffer,
            send: config.udp_send_buffer,
        },
        transfer: crate::transfer::Policy::from_config(config),
        notify: config.notify.clone(),
        rate_limit: crate::serve::RateLimit::from_config(config),
        cookie_secret: config.cookie_secret,
    }
}

/// The relay's config: the upstream resolvers (from `resolvers`, else the resolv.conf file at
/// `resolv_conf`, `/etc/resolv.conf` by default), never our own DNS address, and the cache and
/// `relayAllowFrom` keys. Without DNS (`dnson: false`) there is nothing to relay. Used at start and on
/// SIGHUP.
pub(crate) fn relay_config(
    config: &Config,
    dns: Option<SocketAddr>,
    resolv_conf: Option<&std::path::Path>,
) -> RelayConfig {
    let upstreams = match dns {
        Some(addr) => {
            let resolv_conf = match config.resolvers.is_empty() {
                true => {
                    let path = resolv_conf.unwrap_or(std::path::Path::new("/etc/resolv.conf"));
                    std::fs::read_to_string(path).ok()
                }
                false => None,
            };
            // With every interface, the addresses we answer on for sure are the interfaces' own
            // (loopback's at least, if they cannot be listed).
            let local_ips = match config.listener.is_unspecified() {
                true => refresh::interface_addrs().unwrap_or_else(|e| {
                    log::warn!("cannot list the interface addresses ({e}): only loopback's are known to be ours");
                    vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]
                }),
                false => Vec::new(),
            };
            let (upstreams, warnings) = Upstreams::new_with_local(config, resolv_conf.as_deref(), addr, &local_ips);
            for w in warnings {
                log::warn!("{w}");
            }
            if config.external_on && upstreams.all().next().is_none() {
                log::warn!("no upstream resolvers (`resolvers` is empty and /etc/resolv.conf names none): names outside the domain get SERVFAIL");
            }
            upstreams
        }
        None => Upstreams::default(),
    };
    RelayConfig::from_config(config, upstreams)
}

/// Starts the ZooKeeper detector, and with a `zkDetectionTimeout` the clock of the fall-back on the
/// configured masters ([`watch_detection_timeout`]). An unreachable ensemble is never fatal: the
/// detector keeps trying (see [`zk`]).
fn start_zk(config: &Config, url: zk::ZkUrl, fetcher: Fetcher) -> Result<ZkLeader, String> {
    let watch = Arc::new(zk::LeaderWatch::default());
    zk::spawn_detector(url.clone(), watch.clone()).map_err(|e| format!("cannot start the ZooKeeper detector: {e}"))?;
    if config.zk_detection_timeout > 0 {
        watch_detection_timeout(&url, &watch, config)
            .map_err(|e| format!("cannot start the ZooKeeper timeout: {e}"))?;
    }
    Ok(ZkLeader::new(watch, fetcher))
}

/// When ZooKeeper names no leader within `zkDetectionTimeout`, logs the error and marks the watch
/// timed out: from its next refresh on (at once if it waits for the first leader) the refresher fetches
/// from the configured `masters`, until ZooKeeper names a leader. We: the original exits 1 here,
/// leaving the node without its nameserver.
fn watch_detection_timeout(url: &zk::ZkUrl, watch: &Arc<zk::LeaderWatch>, config: &Config) -> std::io::Result<()> {
    let timeout = Duration::from_secs(config.zk_detection_timeout);
    let missing = format!(
        "no leading master found through {url} within zkDetectionTimeout ({}s)",
        timeout.as_secs()
    );
    let masters = config.masters.clone();
    let watch = watch.clone();
    std::thread::Builder::new()
        .name("mesos-dns-zk-timeout".into())
        .spawn(move || {
            if watch.wait_first(Some(timeout)).is_some() {
                return;
            }
            watch.time_out_detection();
            match masters.is_empty() {
                true => log::error!(
                    "{missing}, and no `masters` to fall back on: no records until ZooKeeper names a leader"
                ),
                false => {
                    let listed: Vec<String> = masters.iter().map(ToString::to_string).collect();
                    log::error!(
                        "{missing}: trying the configured masters ({}) until ZooKeeper names one",
                        listed.join(", ")
                    );
                }
            }
        })
        .map(drop)
}

/// Environment variables for tests, not for deployments (they are not in `--help`):
/// `MESOS_DNS_FOLLOW_LOOPBACK_ONLY=1` lets the fetcher follow a `leader` field (or a redirect) only to a
/// loopback address, so that a test can serve a state naming a real-looking leader and see that it is not
/// contacted; `MESOS_DNS_MAX_STATE_BYTES=N` lowers the state body limit ([`fetch::MAX_BODY_BYTES`]).
/// Both survive a SIGHUP reload.
fn with_test_hooks(mut fetcher: Fetcher) -> Fetcher {
    if std::env::var_os("MESOS_DNS_FOLLOW_LOOPBACK_ONLY").is_some_and(|v| v == "1") {
        log::warn!("MESOS_DNS_FOLLOW_LOOPBACK_ONLY: a leader or redirect is followed only to a loopback address");
        fetcher = fetcher.with_follow_filter(fetch::is_loopback_addr);
    }
    if let Some(value) = std::env::var_os("MESOS_DNS_MAX_STATE_BYTES") {
        match value.to_str().and_then(|v| v.parse::<u64>().ok()) {
            Some(limit) => {
                log::warn!("MESOS_DNS_MAX_STATE_BYTES: state documents over {limit} bytes are refused");
                fetcher = fetcher.with_body_limit(limit);
            }
            None => log::warn!("MESOS_DNS_MAX_STATE_BYTES={value:?} is not a number of bytes: ignored"),
        }
    }
    fetcher
}
