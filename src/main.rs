//! The `mesos-dns` binary: command line, logging and wiring. Everything else lives in the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use mesos_dns::cli::{self, CliError};
use mesos_dns::config::Config;
use mesos_dns::forward::Upstreams;
use mesos_dns::logline;
use mesos_dns::mesos::fetch::{self, Fetcher};
use mesos_dns::mesos::zk;
use mesos_dns::metrics::RefreshStatus;
use mesos_dns::records::zone;
use mesos_dns::refresh::{self, StateSource, ZkLeader};
use mesos_dns::serve::{Api, Server, Settings, TcpLimits};
use mesos_dns::snapshot::Records;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    keep_large_blocks_returnable();
    let argv: Vec<String> = std::env::args().collect();
    let args = match cli::parse_args(&argv) {
        Ok(args) => args,
        Err(CliError::Help(text)) => {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(CliError::Usage(text)) => {
            eprintln!("{text}");
            return ExitCode::from(2);
        }
    };
    if args.version {
        println!("mesos-dns {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    init_logging(&args);
    let mut args = args;
    args.config = cli::expand_home(&args.config, std::env::var_os("HOME").as_deref());

    let config = match Config::load(&args.config) {
        Ok((config, warnings)) => {
            for w in warnings {
                log::warn!("{w}");
            }
            Arc::new(config)
        }
        Err(e) => {
            eprintln!("mesos-dns: {e}");
            return ExitCode::from(2);
        }
    };
    // The certificate files, credentials and ZooKeeper URL are checked before any socket is bound, like
    // the rest of the config.
    let source = match (args.state_file.clone(), config.zk.clone()) {
        (Some(path), _) => Ok(StateSource::File(path)),
        (None, Some(url)) => start_zk(&config, url).map(StateSource::ZooKeeper),
        (None, None) => Fetcher::from_config(&config)
            .map(|fetcher| StateSource::Masters(with_test_hooks(fetcher)))
            .map_err(|e| e.to_string()),
    };
    let source = match source {
        Ok(source) => source,
        Err(e) => {
            eprintln!("mesos-dns: {e}");
            return ExitCode::from(2);
        }
    };
    match run(config, source, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            eprintln!("mesos-dns: {e}");
            ExitCode::FAILURE
        }
    }
}

/// With glibc's allocator, blocks from 256 KiB up are always mapped on their own, so that the large
/// buffers of each refresh (the state body, record tables) go back to the system when freed. By default
/// glibc raises that threshold after the first large free and serves later ones from the heap, where
/// fragmentation left a 100k-task server at 5x the document's size instead of under 4x
/// (`benches/refresh.sh`). The static musl build uses mimalloc instead.
fn keep_large_blocks_returnable() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// Binds the sockets, starts the refresher and serves.
fn run(config: Arc<Config>, source: StateSource, args: &cli::Args) -> Result<(), String> {
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
    let refresher = refresh::spawn_reloadable(
        shared.clone(),
        source,
        records.clone(),
        refresh_status.clone(),
        args.verbosity,
    )
    .map_err(|e| format!("cannot start the refresher: {e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let control = Control {
        stop: stop.clone(),
        waker: server.as_ref().map(Server::waker),
        config_path: args.config.clone(),
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

/// The relay's settings: the upstream resolvers (from `resolvers`, else the resolv.conf file), never our
/// own DNS address. Without DNS (`dnson: false`) there is nothing to relay.
fn relay_settings(config: &Config, dns: Option<SocketAddr>, args: &cli::Args) -> Settings {
    let upstreams = match dns {
        Some(addr) => {
            let resolv_conf = match config.resolvers.is_empty() {
                true => {
                    let path = args
                        .resolv_conf
                        .as_deref()
                        .unwrap_or(std::path::Path::new("/etc/resolv.conf"));
                    std::fs::read_to_string(path).ok()
                }
                false => None,
            };
            let local_ips = match config.listener.is_unspecified() {
                true => refresh::interface_addrs().unwrap_or_default(),
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
    Settings {
        external_on: config.external_on,
        upstreams,
        relay_timeout: Duration::from_secs(config.timeout),
        tcp: TcpLimits::default(),
    }
}

/// Starts the ZooKeeper detector; with a `zkDetectionTimeout`, the process exits with an error if no
/// leader is found within it (as the original does).
fn start_zk(config: &Config, url: zk::ZkUrl) -> Result<ZkLeader, String> {
    // The settings state will be fetched with; the masters come from ZooKeeper (or, with
    // zkDetectionTimeout 0 and no leader named yet, from `masters`: see `refresh`).
    let fetcher = with_test_hooks(Fetcher::with_config(config, Vec::new()).map_err(|e| e.to_string())?);
    let watch = Arc::new(zk::LeaderWatch::default());
    zk::spawn_detector(url.clone(), watch.clone()).map_err(|e| format!("cannot start the ZooKeeper detector: {e}"))?;
    if config.zk_detection_timeout > 0 {
        let timeout = Duration::from_secs(config.zk_detection_timeout);
        let w = watch.clone();
        std::thread::Builder::new()
            .name("mesos-dns-zk-timeout".into())
            .spawn(move || {
                if w.wait_first(Some(timeout)).is_none() {
                    let msg = format!(
                        "no leading master found through {url} within zkDetectionTimeout ({}s)",
                        timeout.as_secs()
                    );
                    log::error!("{msg}");
                    eprintln!("mesos-dns: {msg}");
                    std::process::exit(1);
                }
            })
            .map_err(|e| format!("cannot start the ZooKeeper timeout: {e}"))?;
    }
    Ok(ZkLeader::new(watch, fetcher))
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

/// What the signal thread acts on.
struct Control {
    stop: Arc<AtomicBool>,
    waker: Option<Arc<mio::Waker>>,
    config_path: PathBuf,
    config: Arc<ArcSwap<Config>>,
    refresher: std::thread::Thread,
}

/// SIGTERM and SIGINT stop the server cleanly (sockets closed, exit status 0). SIGHUP reloads the config
/// file: a valid one is used from the next refresh on (which starts at once); an invalid one is logged
/// and the running config kept.
fn watch_signals(control: Control) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new()
        .name("mesos-dns-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if signal == SIGHUP {
                    reload(&control);
                    continue;
                }
                log::info!("signal {signal}: stopping");
                control.stop.store(true, Ordering::Relaxed);
                if let Some(w) = &control.waker {
                    let _ = w.wake();
                }
                return;
            }
        })?;
    Ok(())
}

fn reload(control: &Control) {
    let path = control.config_path.display();
    let new = match Config::load(&control.config_path) {
        Ok((new, warnings)) => {
            for w in warnings {
                log::warn!("{w}");
            }
            new
        }
        Err(e) => {
            log::error!("SIGHUP: keeping the running config, {path} is not usable: {e}");
            return;
        }
    };
    let old = control.config.load();
    // The sockets and the relay are set up once: these keys take effect at the next start.
    for key in old.changes_needing_restart(&new) {
        log::warn!("SIGHUP: `{key}` changed in {path}; it takes effect when mesos-dns restarts");
    }
    control.config.store(Arc::new(new));
    control.refresher.unpark();
    log::info!("SIGHUP: reloaded {path}");
}

/// `-v` logs warnings and each refresh, `-vv` every record too, `-stderrthreshold` sets the floor;
/// `RUST_LOG` overrides them all. The log goes to stderr, and with `-log_dir` to `DIR/mesos-dns.log` too.
fn init_logging(args: &cli::Args) {
    let level = args.log_level().as_str().to_ascii_lowercase();
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level));
    builder.format(|out, record| {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut line = String::with_capacity(128);
        line.push('[');
        logline::write_utc(&mut line, millis);
        use std::fmt::Write as _;
        let _ = write!(line, " {:<5} {}] {}", record.level(), record.target(), record.args());
        line.push('\n');
        std::io::Write::write_all(out, line.as_bytes())
    });
    let mut file_problem = None;
    if let Some(path) = args.log_file() {
        let file = std::fs::create_dir_all(path.parent().unwrap_or(std::path::Path::new(".")))
            .and_then(|()| std::fs::OpenOptions::new().create(true).append(true).open(&path));
        match file {
            Ok(file) => {
                builder.target(env_logger::Target::Pipe(Box::new(logline::Tee { file })));
            }
            Err(e) => {
                file_problem = Some(format!(
                    "-log_dir: cannot write {}: {e}; logging to stderr only",
                    path.display()
                ))
            }
        }
    }
    builder.init();
    if let Some(problem) = file_problem {
        log::warn!("{problem}");
    }
    if args.log_dir.is_some() && args.logtostderr {
        log::info!("-logtostderr is set, so -log_dir is not used: logging to stderr only");
    }
    for flag in &args.ignored {
        log::info!("{flag}: glog flag accepted for compatibility, it has no effect here");
    }
}
