//! The glue between the event loop and the HTTP API routes: what the routes read that lives outside
//! them ([`Api`]: the running config, the refresher's figures) or inside the loop (the snapshot, the
//! counters), gathered for one turn into an [`ApiView`]. The routes themselves are `http`'s; the
//! connections are `http::conn`'s.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::Config;
use crate::forward::health::ResolverHealth;
use crate::forward::RelayStats;
use crate::http::{route, ApiContext, Body, Response};
use crate::metrics::{self, Metrics, RefreshStatus};
use crate::snapshot::Records;

/// Streamed responses being written at most (`/v1/axfr`, `/v1/enumerate`); more are answered 503.
pub(super) const MAX_STREAMS: usize = 8;

/// What the HTTP API needs from outside the loop.
pub(crate) struct Api {
    /// The running config (reloaded on SIGHUP).
    pub config: Arc<ArcSwap<Config>>,
    /// The refresher's figures.
    pub refresh: Arc<RefreshStatus>,
}

/// One turn's view of everything the HTTP routes read.
pub(super) struct ApiView<'a> {
    pub api: &'a Api,
    pub records: &'a Arc<Records>,
    pub metrics: &'a Metrics,
    pub relay: RelayStats,
    pub resolvers: &'a [ResolverHealth],
    /// Open DNS TCP connections.
    pub tcp_open: usize,
    /// HTTP connections writing a streamed response.
    pub streams_open: usize,
}

impl ApiView<'_> {
    /// The response to one request.
    pub(super) fn respond(&self, method: &str, path: &str) -> Response {
        let config = self.api.config.load();
        let now_ms = crate::clock::unix_now_ms();
        let render = || {
            metrics::render(&metrics::Snapshot {
                metrics: self.metrics,
                relay: self.relay,
                resolvers: self.resolvers,
                refresh: &self.api.refresh,
                records: self.records,
                tcp_open: self.tcp_open,
                now_ms,
                refresh_seconds: config.refresh_seconds,
            })
        };
        let ctx = ApiContext {
            config: &config,
            records: self.records,
            readiness: self.api.refresh.readiness(now_ms, config.refresh_seconds),
            metrics: &render,
        };
        let response = route(method, path, &ctx);
        if matches!(response.body, Body::Streamed(_)) && self.streams_open >= MAX_STREAMS {
            return Response::json(
                503,
                &serde_json::json!({"error": "too many large responses being written; retry later"}),
            );
        }
        response
    }
}
