//! Signals: SIGTERM and SIGINT stop the server, SIGHUP reloads the config file (keys that need new
//! sockets are reported as taking effect at the next start) and hands the relay its new config (the
//! resolvers, the cache settings, `relayAllowFrom`), flushing the answer cache.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::config::{Config, Overrides};
use crate::serve::{RelayReload, RelayReloader};

/// What the signal thread acts on.
pub(super) struct Control {
    pub(super) stop: Arc<AtomicBool>,
    pub(super) waker: Option<Arc<mio::Waker>>,
    /// The event loop's relay, if it serves DNS at all.
    pub(super) relay: Option<RelayReloader>,
    /// Our DNS address and the resolv.conf to read, as at start (to make the relay's config again).
    pub(super) dns: Option<SocketAddr>,
    pub(super) resolv_conf: Option<PathBuf>,
    /// The config file (none: the environment alone is the config) and the environment's keys, which
    /// stay over the file's.
    pub(super) config_path: Option<PathBuf>,
    pub(super) env: Overrides,
    pub(super) config: Arc<ArcSwap<Config>>,
    pub(super) refresher: std::thread::Thread,
}

/// SIGTERM and SIGINT stop the server cleanly (sockets closed, exit status 0). SIGHUP reloads the config
/// file, with the environment's keys over it as at start: a valid one is used from the next refresh on
/// (which starts at once); an invalid one is logged and the running config kept.
pub(super) fn watch_signals(control: Control) -> std::io::Result<()> {
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
    let path = match &control.config_path {
        Some(path) => path.display().to_string(),
        None => "the environment".to_string(),
    };
    let new = match Config::load(control.config_path.as_deref(), &control.env) {
        Ok((new, warnings)) => {
            for w in warnings {
                log::warn!("{w}");
            }
            new
        }
        Err(e) => {
            log::error!("SIGHUP: keeping the running config, {path} is not usable: {e}");
            if let Some(relay) = &control.relay {
                relay.send(RelayReload::Flush);
            }
            return;
        }
    };
    let old = control.config.load();
    // The sockets and the relay are set up once: these keys take effect at the next start.
    for key in old.changes_needing_restart(&new) {
        log::warn!("SIGHUP: `{key}` changed in {path}; it takes effect when mesos-dns restarts");
    }
    if let Some(relay) = &control.relay {
        if old.resolvers != new.resolvers || old.zone_resolvers != new.zone_resolvers {
            log::info!("SIGHUP: relaying to the new resolvers from now on");
        }
        relay.send(RelayReload::Apply(super::relay_config(
            &new,
            control.dns,
            control.resolv_conf.as_deref(),
        )));
    }
    control.config.store(Arc::new(new));
    control.refresher.unpark();
    log::info!("SIGHUP: reloaded {path}");
}
