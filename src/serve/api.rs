//! The glue between the event loop and the HTTP API routes: what the routes read that lives outside
//! them ([`Api`]: the running config, the refresher's figures) or inside the loop (the snapshot, the
//! counters), gathered for one turn into an [`ApiView`]. The routes themselves are `http`'s; the
//! connections are `http::conn`'s.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::Config;
use crate::forward::RelayStats;
use crate::http::{route, ApiContext, Response};
use crate::metrics::{self, Metrics, RefreshStatus};
use crate::snapshot::Records;

/// What the HTTP API needs from outside the loop.
pub struct Api {
    /// The running config (reloaded on SIGHUP).
    pub config: Arc<ArcSwap<Config>>,
    /// The refresher's figures.
    pub refresh: Arc<RefreshStatus>,
}

/// One turn's view of everything the HTTP routes read.
pub(super) struct ApiView<'a> {
    pub api: &'a Api,
    pub records: &'a Records,
    pub metrics: &'a Metrics,
    pub relay: RelayStats,
    /// Open DNS TCP connections.
    pub tcp_open: usize,
}

impl ApiView<'_> {
    /// The response to one request.
    pub(super) fn respond(&self, method: &str, path: &str) -> Response {
        let config = self.api.config.load();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let render = || {
            metrics::render(&metrics::Snapshot {
                metrics: self.metrics,
                relay: self.relay,
                refresh: &self.api.refresh,
                records: self.records,
                tcp_open: self.tcp_open,
                now_ms,
            })
        };
        let ctx = ApiContext {
            config: &config,
            records: self.records,
            readiness: self.api.refresh.readiness(now_ms, config.refresh_seconds),
            metrics: &render,
        };
        route(method, path, &ctx)
    }
}
