//! Counters of the event loop and their Prometheus text rendering (`GET /metrics`). The counters are
//! plain integers owned by the loop: no atomics, no locks on the query path. The refresher's figures
//! come from [`RefreshStatus`], the only state shared across threads.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::answer::Transport;
use crate::forward::health::ResolverHealth;
use crate::forward::RelayStats;
use crate::snapshot::Records;
use crate::wire::{field, rcode, read_u16, rtype, Message, OPT_LEN};

/// What happened to a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Answered from the records.
    Authoritative,
    /// Taken for relaying to an upstream resolver.
    Relayed,
    /// Outside the domain, answered from the relay's cache.
    Cached,
    /// Outside the domain and not relayed (`externalon: false`, or a loop): REFUSED or SERVFAIL.
    Refused,
    /// Not answered: unreadable, or a response.
    Dropped,
}

const KINDS: [(Kind, &str); 5] = [
    (Kind::Authoritative, "authoritative"),
    (Kind::Relayed, "relayed"),
    (Kind::Cached, "cached"),
    (Kind::Refused, "refused"),
    (Kind::Dropped, "dropped"),
];
const RCODES: [&str; 8] = [
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", "other",
];
const TRANSPORTS: [&str; 2] = ["udp", "tcp"];

/// Counters owned by the event loop.
#[derive(Debug, Default, Clone)]
pub(crate) struct Metrics {
    queries: [[u64; KINDS.len()]; 2],
    responses: [[u64; 8]; 2],
    http: [u64; 6],
    tcp_refused: u64,
    /// Zone transfer requests by [`TransferKind`].
    transfers: [u64; 4],
    /// TSIG-signed queries other than transfers (checked, answered signed or with a TSIG error).
    signed_queries: u64,
    /// The notifier's figures, copied after each of its turns.
    pub(crate) notify: crate::transfer::notify::NotifyStats,
}

/// What became of a zone transfer request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransferKind {
    /// The whole zone was sent (AXFR, or IXFR from a serial older than the journal).
    Axfr,
    /// The changes since the client's serial were sent.
    Ixfr,
    /// IXFR from the current serial: the SOA alone (or TC over UDP).
    UpToDate,
    /// Refused (network, key) or a TSIG error.
    Refused,
}

const TRANSFER_KINDS: [(TransferKind, &str); 4] = [
    (TransferKind::Axfr, "axfr"),
    (TransferKind::Ixfr, "ixfr"),
    (TransferKind::UpToDate, "up_to_date"),
    (TransferKind::Refused, "refused"),
];

fn t(transport: Transport) -> usize {
    match transport {
        Transport::Udp => 0,
        Transport::Tcp => 1,
    }
}

impl Metrics {
    /// Counts a query by transport and what became of it.
    #[inline]
    pub(crate) fn query(&mut self, transport: Transport, kind: Kind) {
        let k = KINDS.iter().position(|(x, _)| *x == kind).unwrap_or(KINDS.len() - 1);
        self.queries[t(transport)][k] += 1;
    }

    /// Counts a response sent, by its rcode (the header's four bits and the OPT record's upper eight).
    #[inline]
    pub(crate) fn response(&mut self, transport: Transport, response: &[u8]) {
        let i = match full_rcode(response) {
            Some(code @ 0..=5) => usize::from(code),
            Some(rcode::BADVERS) => 6,
            _ => 7,
        };
        self.responses[t(transport)][i] += 1;
    }

    /// Counts DNS TCP connections closed at once because the connection limit was reached.
    pub(crate) fn tcp_refused(&mut self, n: u64) {
        self.tcp_refused += n;
    }

    /// Counts a zone transfer request.
    pub(crate) fn transfer(&mut self, kind: TransferKind) {
        let i = TRANSFER_KINDS.iter().position(|(k, _)| *k == kind).unwrap_or(0);
        self.transfers[i] += 1;
    }

    /// Counts a TSIG-signed query (not a transfer).
    pub(crate) fn signed_query(&mut self) {
        self.signed_queries += 1;
    }

    /// Counts an HTTP response by status (200, 400, 404, 405, 503, other).
    pub(crate) fn http(&mut self, status: u16) {
        let i = [200, 400, 404, 405, 503].iter().position(|&s| s == status).unwrap_or(5);
        self.http[i] += 1;
    }
}

/// The 12-bit rcode of a response (RFC 6891 6.1.3). The OPT record is looked for where we and most
/// servers write it, last and without options (11 bytes); only when that says "extended", or the
/// message has additional records but ends otherwise, is the whole message parsed to find it.
#[inline]
fn full_rcode(response: &[u8]) -> Option<u16> {
    let low = u16::from(*response.get(3)? & 0x0f);
    if read_u16(response, field::ARCOUNT.start)? == 0 {
        return Some(low);
    }
    let tail = response.len().checked_sub(OPT_LEN).and_then(|at| response.get(at..));
    let ext = match tail {
        Some(&[0, t1, t2, _, _, 0, .., 0, 0]) if u16::from_be_bytes([t1, t2]) == rtype::OPT => return Some(low),
        _ => Message::parse(response)
            .ok()
            .and_then(|m| m.edns())
            .map_or(0, |e| e.ext_rcode),
    };
    Some(u16::from(ext) << 4 | low)
}

/// The refresher's figures, written by its thread and read by the loop (`/ready`, `/metrics`).
#[derive(Debug, Default)]
pub(crate) struct RefreshStatus {
    loaded: AtomicBool,
    successes: AtomicU64,
    failures: AtomicU64,
    last_success_ms: AtomicU64,
    last_duration_ms: AtomicU64,
    /// Tasks a failover carries over (`crate::refresh::carry`).
    carried_tasks: AtomicU64,
    /// The snapshot file's figures (`snapshotFile`).
    pub(crate) file: Arc<SnapshotFileStatus>,
}

/// The snapshot file's figures (`snapshotFile`): the records loaded from it at start (served until the
/// first good refresh), and its writes since.
#[derive(Debug, Default)]
pub(crate) struct SnapshotFileStatus {
    /// Records loaded from the file at start (0: none were).
    loaded_records: AtomicU64,
    /// Unix seconds the newest file was written at: the one loaded, then each written (0: none).
    written_at: AtomicU64,
    writes_ok: AtomicU64,
    writes_failed: AtomicU64,
    last_write_ms: AtomicU64,
}

impl SnapshotFileStatus {
    /// `records` records written at `written_at` were loaded from the file at start.
    pub(crate) fn loaded(&self, records: usize, written_at: u64) {
        self.loaded_records.store(records as u64, Ordering::Relaxed);
        self.written_at.store(written_at, Ordering::Relaxed);
    }

    /// The file was written at `at` (Unix seconds) in `took_ms`.
    pub(crate) fn written(&self, at: u64, took_ms: u64) {
        self.writes_ok.fetch_add(1, Ordering::Relaxed);
        self.written_at.store(at, Ordering::Relaxed);
        self.last_write_ms.store(took_ms, Ordering::Relaxed);
    }

    /// Successful writes so far.
    #[cfg(test)]
    pub(crate) fn writes_ok(&self) -> u64 {
        self.writes_ok.load(Ordering::Relaxed)
    }

    pub(crate) fn write_failed(&self) {
        self.writes_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// The age of the newest file at `now_ms` (0: none).
    fn age_seconds(&self, now_ms: u64) -> u64 {
        match self.written_at.load(Ordering::Relaxed) {
            0 => 0,
            at => (now_ms / 1000).saturating_sub(at),
        }
    }
}

impl RefreshStatus {
    /// Records a successful refresh at `now_ms` (Unix milliseconds) that took `took_ms`.
    pub(crate) fn success(&self, now_ms: u64, took_ms: u64) {
        self.successes.fetch_add(1, Ordering::Relaxed);
        self.last_success_ms.store(now_ms, Ordering::Relaxed);
        self.last_duration_ms.store(took_ms, Ordering::Relaxed);
        self.loaded.store(true, Ordering::Release);
    }

    /// How many tasks the records being served carry over from before a failover.
    pub(crate) fn set_carried_tasks(&self, n: u64) {
        self.carried_tasks.store(n, Ordering::Relaxed);
    }

    pub(crate) fn failure(&self, took_ms: u64) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        self.last_duration_ms.store(took_ms, Ordering::Relaxed);
    }

    pub(crate) fn loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// The number of records served from the snapshot file, while they are (until the first good
    /// refresh).
    fn serving_file_records(&self) -> Option<u64> {
        let records = self.file.loaded_records.load(Ordering::Relaxed);
        (records > 0 && !self.loaded()).then_some(records)
    }

    /// Unix milliseconds of the last successful refresh (0: none yet).
    pub(crate) fn last_success_ms(&self) -> u64 {
        self.last_success_ms.load(Ordering::Relaxed)
    }

    /// Why the server is not ready, if it is not: no snapshot yet, or the last successful refresh is
    /// older than three refresh periods.
    pub(crate) fn readiness(&self, now_ms: u64, refresh_seconds: u64) -> Result<(), String> {
        if !self.loaded() {
            return Err(match self.serving_file_records() {
                Some(records) => {
                    let mut at = String::new();
                    crate::logline::write_utc(&mut at, self.file.written_at.load(Ordering::Relaxed) * 1000);
                    format!(
                        "no successful refresh yet: serving {records} records from the snapshot file written at {at} ({} s ago)",
                        self.file.age_seconds(now_ms)
                    )
                }
                None => "no successful refresh yet".into(),
            });
        }
        let age_ms = now_ms.saturating_sub(self.last_success_ms());
        let limit_ms = refresh_seconds.saturating_mul(3000);
        if age_ms > limit_ms {
            return Err(format!(
                "the last successful refresh was {} s ago (limit {} s)",
                age_ms / 1000,
                limit_ms / 1000
            ));
        }
        Ok(())
    }
}

/// Everything `/metrics` reports.
pub(crate) struct Snapshot<'a> {
    pub metrics: &'a Metrics,
    pub relay: RelayStats,
    /// Each resolver's health and counters.
    pub resolvers: &'a [ResolverHealth],
    pub refresh: &'a RefreshStatus,
    pub records: &'a Records,
    pub tcp_open: usize,
    pub now_ms: u64,
}

/// The HELP and TYPE lines of a metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP mesos_dns_{name} {help}\n# TYPE mesos_dns_{name} {kind}");
}

/// Each resolver's counters, state and smoothed RTT, labelled `resolver="127.0.0.1:53"`.
fn render_resolvers(out: &mut String, resolvers: &[ResolverHealth]) {
    type Value = fn(&ResolverHealth) -> String;
    let families: [(&str, &str, &str, Value); 6] = [
        (
            "relay_resolver_sent_total",
            "counter",
            "Queries sent to each resolver (probes of a resolver that is down included).",
            |r| r.sent.to_string(),
        ),
        (
            "relay_resolver_answered_total",
            "counter",
            "Valid answers from each resolver.",
            |r| r.answered.to_string(),
        ),
        (
            "relay_resolver_timeouts_total",
            "counter",
            "Queries each resolver left unanswered past its RTO (srtt + 4 * rttvar, 1 s at least).",
            |r| r.timeouts.to_string(),
        ),
        (
            "relay_resolver_errors_total",
            "counter",
            "Queries each resolver refused at once (ICMP unreachable, send or TCP connect failure).",
            |r| r.errors.to_string(),
        ),
        (
            "relay_resolver_up",
            "gauge",
            "1 if the resolver is asked in its turn, 0 if it is down (two failures in a row) and only probed.",
            |r| u8::from(r.is_up()).to_string(),
        ),
        (
            "relay_resolver_srtt_seconds",
            "gauge",
            "Each resolver's smoothed round-trip time (RFC 6298); absent until it answers.",
            |r| r.srtt().map_or_else(String::new, |d| d.as_secs_f64().to_string()),
        ),
    ];
    for (name, kind, help, value) in families {
        family(out, name, kind, help);
        for r in resolvers {
            let v = value(r);
            if !v.is_empty() {
                let _ = writeln!(out, "mesos_dns_{name}{{resolver=\"{}\"}} {v}", r.addr);
            }
        }
    }
}

/// The Prometheus text exposition format (version 0.0.4).
pub(crate) fn render(s: &Snapshot<'_>) -> String {
    let mut out = String::with_capacity(4096);
    family(
        &mut out,
        "dns_queries_total",
        "counter",
        "DNS queries by transport and what became of them.",
    );
    for (ti, tname) in TRANSPORTS.iter().enumerate() {
        for (ki, (_, kname)) in KINDS.iter().enumerate() {
            let n = s.metrics.queries[ti][ki];
            let _ = writeln!(
                out,
                "mesos_dns_dns_queries_total{{transport=\"{tname}\",kind=\"{kname}\"}} {n}"
            );
        }
    }
    family(
        &mut out,
        "dns_responses_total",
        "counter",
        "DNS responses sent, by transport and rcode.",
    );
    for (ti, tname) in TRANSPORTS.iter().enumerate() {
        for (ri, rname) in RCODES.iter().enumerate() {
            let _ = writeln!(
                out,
                "mesos_dns_dns_responses_total{{transport=\"{tname}\",rcode=\"{rname}\"}} {}",
                s.metrics.responses[ti][ri]
            );
        }
    }
    let relay = [
        (
            "relay_answered_total",
            "Upstream answers passed back.",
            s.relay.answered,
        ),
        (
            "relay_timeouts_total",
            "Relay attempts that timed out.",
            s.relay.timeouts,
        ),
        (
            "relay_errors_total",
            "Relay attempts that failed (send, connect, TCP).",
            s.relay.errors,
        ),
        (
            "relay_servfail_total",
            "Relayed queries answered SERVFAIL: every resolver failed.",
            s.relay.servfail,
        ),
        (
            "relay_rejected_total",
            "Upstream datagrams dropped: unknown ID, wrong source or question.",
            s.relay.rejected,
        ),
        (
            "relay_truncated_total",
            "Upstream answers too big for their UDP client (or truncated upstream): sent with TC and no records.",
            s.relay.truncated,
        ),
    ];
    for (name, help, value) in relay {
        family(&mut out, name, "counter", help);
        let _ = writeln!(out, "mesos_dns_{name} {value}");
    }
    let c = s.relay.cache;
    let cache = [
        (
            "relay_cache_hits_total",
            "Relayed queries answered from the cache.",
            c.hits,
        ),
        (
            "relay_cache_misses_total",
            "Relayed queries not found fresh in the cache (asked upstream).",
            c.misses,
        ),
        (
            "relay_cache_evictions_total",
            "Cached answers dropped to make room for another.",
            c.evictions,
        ),
        (
            "relay_cache_stale_total",
            "Expired cached answers served because every resolver failed (RFC 8767).",
            c.stale,
        ),
        (
            "relay_cache_prefetches_total",
            "Popular cached answers refreshed upstream before they expired.",
            c.prefetches,
        ),
    ];
    for (name, help, value) in cache {
        family(&mut out, name, "counter", help);
        let _ = writeln!(out, "mesos_dns_{name} {value}");
    }
    family(
        &mut out,
        "relay_cache_entries",
        "gauge",
        "Answers in the relay's cache.",
    );
    let _ = writeln!(out, "mesos_dns_relay_cache_entries {}", c.entries);
    render_resolvers(&mut out, s.resolvers);
    family(&mut out, "refreshes_total", "counter", "State refreshes by result.");
    let _ = writeln!(
        out,
        "mesos_dns_refreshes_total{{result=\"success\"}} {}",
        s.refresh.successes.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "mesos_dns_refreshes_total{{result=\"failure\"}} {}",
        s.refresh.failures.load(Ordering::Relaxed)
    );
    let last = s.refresh.last_success_ms();
    family(
        &mut out,
        "last_refresh_timestamp_seconds",
        "gauge",
        "Unix time of the last successful refresh (0: none).",
    );
    let _ = writeln!(
        out,
        "mesos_dns_last_refresh_timestamp_seconds {:.3}",
        last as f64 / 1000.0
    );
    family(
        &mut out,
        "last_refresh_duration_seconds",
        "gauge",
        "How long the last refresh took.",
    );
    let _ = writeln!(
        out,
        "mesos_dns_last_refresh_duration_seconds {:.3}",
        s.refresh.last_duration_ms.load(Ordering::Relaxed) as f64 / 1000.0
    );
    family(
        &mut out,
        "carried_tasks",
        "gauge",
        "Tasks served although the leader does not list them: their agent has not re-registered since a failover.",
    );
    let _ = writeln!(
        out,
        "mesos_dns_carried_tasks {}",
        s.refresh.carried_tasks.load(Ordering::Relaxed)
    );
    family(
        &mut out,
        "snapshot_age_seconds",
        "gauge",
        "Age of the records being served (0 before the first refresh).",
    );
    let age = if last == 0 {
        0.0
    } else {
        s.now_ms.saturating_sub(last) as f64 / 1000.0
    };
    let _ = writeln!(out, "mesos_dns_snapshot_age_seconds {age:.3}");
    snapshot_file(&mut out, s);
    family(&mut out, "records", "gauge", "Records being served, by type.");
    let (a, aaaa, srv) = s.records.counts();
    for (rtype, n) in [("A", a), ("AAAA", aaaa), ("SRV", srv)] {
        let _ = writeln!(out, "mesos_dns_records{{type=\"{rtype}\"}} {n}");
    }
    family(&mut out, "tcp_connections_open", "gauge", "DNS TCP connections open.");
    let _ = writeln!(out, "mesos_dns_tcp_connections_open {}", s.tcp_open);
    family(
        &mut out,
        "tcp_connections_refused_total",
        "counter",
        "DNS TCP connections closed at once: the connection limit was reached.",
    );
    let _ = writeln!(out, "mesos_dns_tcp_connections_refused_total {}", s.metrics.tcp_refused);
    family(
        &mut out,
        "http_responses_total",
        "counter",
        "HTTP API responses by status.",
    );
    for (i, status) in ["200", "400", "404", "405", "503", "other"].iter().enumerate() {
        let _ = writeln!(
            out,
            "mesos_dns_http_responses_total{{status=\"{status}\"}} {}",
            s.metrics.http[i]
        );
    }
    family(
        &mut out,
        "zone_transfers_total",
        "counter",
        "Zone transfer requests (AXFR, IXFR) by what they got.",
    );
    for (i, (_, kind)) in TRANSFER_KINDS.iter().enumerate() {
        let _ = writeln!(
            out,
            "mesos_dns_zone_transfers_total{{kind=\"{kind}\"}} {}",
            s.metrics.transfers[i]
        );
    }
    family(
        &mut out,
        "tsig_signed_queries_total",
        "counter",
        "TSIG-signed queries other than zone transfers.",
    );
    let _ = writeln!(out, "mesos_dns_tsig_signed_queries_total {}", s.metrics.signed_queries);
    family(
        &mut out,
        "notify_messages_total",
        "counter",
        "NOTIFY messages to secondaries: sent (retries included), acknowledged, given up after the last retry.",
    );
    let n = s.metrics.notify;
    for (result, value) in [
        ("sent", n.sent),
        ("acknowledged", n.acknowledged),
        ("given_up", n.given_up),
    ] {
        let _ = writeln!(out, "mesos_dns_notify_messages_total{{result=\"{result}\"}} {value}");
    }
    out
}

/// The snapshot file's families (`snapshotFile`).
fn snapshot_file(out: &mut String, s: &Snapshot<'_>) {
    let file = &s.refresh.file;
    family(
        out,
        "records_from_snapshot_file",
        "gauge",
        "1 while the records served are the snapshot file's (loaded at start, until the first good refresh).",
    );
    let _ = writeln!(
        out,
        "mesos_dns_records_from_snapshot_file {}",
        u8::from(s.refresh.serving_file_records().is_some())
    );
    family(
        out,
        "snapshot_file_age_seconds",
        "gauge",
        "Age of the newest snapshot file, loaded at start or written since (0: none).",
    );
    let _ = writeln!(
        out,
        "mesos_dns_snapshot_file_age_seconds {}",
        file.age_seconds(s.now_ms)
    );
    family(
        out,
        "snapshot_file_writes_total",
        "counter",
        "Snapshot file writes by result.",
    );
    for (result, n) in [("success", &file.writes_ok), ("failure", &file.writes_failed)] {
        let _ = writeln!(
            out,
            "mesos_dns_snapshot_file_writes_total{{result=\"{result}\"}} {}",
            n.load(Ordering::Relaxed)
        );
    }
    family(
        out,
        "snapshot_file_last_write_duration_seconds",
        "gauge",
        "How long the last snapshot file write took (encoding, writing, syncing).",
    );
    let _ = writeln!(
        out,
        "mesos_dns_snapshot_file_last_write_duration_seconds {:.3}",
        file.last_write_ms.load(Ordering::Relaxed) as f64 / 1000.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response to `www.` with header rcode `low` and, if given, an OPT record carrying `ext` and
    /// `options` bytes of options.
    fn response(low: u8, opt: Option<(u8, usize)>) -> Vec<u8> {
        let mut r = vec![
            0x12,
            0x34,
            0x81,
            0x80 | low,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            u8::from(opt.is_some()),
        ];
        r.extend_from_slice(b"\x03www\x00\x00\x01\x00\x01");
        if let Some((ext, options)) = opt {
            r.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, ext, 0, 0, 0, 0, options as u8]);
            // One option of `options - 4` bytes (code 10, a cookie).
            if options >= 4 {
                r.extend_from_slice(&[0, 10, 0, (options - 4) as u8]);
                r.resize(r.len() + options - 4, 0xab);
            }
        }
        r
    }

    fn counted(response: &[u8]) -> &'static str {
        let mut m = Metrics::default();
        m.response(Transport::Udp, response);
        let i = m.responses[0].iter().position(|&n| n == 1).unwrap();
        RCODES[i]
    }

    #[test]
    fn badvers_is_counted_as_badvers_not_noerror() {
        assert_eq!(counted(&response(0, None)), "NOERROR");
        assert_eq!(counted(&response(3, Some((0, 0)))), "NXDOMAIN");
        assert_eq!(counted(&response(0, Some((1, 0)))), "BADVERS");
        // With options the OPT record is found by parsing.
        assert_eq!(counted(&response(0, Some((1, 12)))), "BADVERS");
        assert_eq!(counted(&response(2, Some((0, 12)))), "SERVFAIL");
        // Another extended rcode (BADCOOKIE, 23) is "other".
        assert_eq!(counted(&response(7, Some((1, 0)))), "other");
        assert_eq!(counted(&[0x12]), "other");
    }

    #[test]
    fn cache_counters_and_cached_queries_are_rendered() {
        let mut metrics = Metrics::default();
        metrics.query(Transport::Udp, Kind::Cached);
        metrics.query(Transport::Udp, Kind::Cached);
        let records = Records::unloaded(crate::records::zone(&crate::config::Config::default()));
        let refresh = RefreshStatus::default();
        let relay = RelayStats {
            cache: crate::forward::cache::CacheStats {
                hits: 11,
                misses: 12,
                evictions: 13,
                stale: 14,
                prefetches: 15,
                entries: 16,
            },
            ..RelayStats::default()
        };
        let text = render(&Snapshot {
            metrics: &metrics,
            relay,
            resolvers: &[],
            refresh: &refresh,
            records: &records,
            tcp_open: 0,
            now_ms: 0,
        });
        for line in [
            "mesos_dns_dns_queries_total{transport=\"udp\",kind=\"cached\"} 2",
            "mesos_dns_relay_cache_hits_total 11",
            "mesos_dns_relay_cache_misses_total 12",
            "mesos_dns_relay_cache_evictions_total 13",
            "mesos_dns_relay_cache_stale_total 14",
            "mesos_dns_relay_cache_prefetches_total 15",
            "mesos_dns_relay_cache_entries 16",
        ] {
            assert!(text.contains(&format!("\n{line}\n")), "{line} in:\n{text}");
        }
        assert!(text.contains("# TYPE mesos_dns_relay_cache_entries gauge\n"));
    }

    #[test]
    fn records_from_the_snapshot_file_are_said_until_the_first_good_refresh() {
        let records = Records::unloaded(crate::records::zone(&crate::config::Config::default()));
        let refresh = RefreshStatus::default();
        let render_at = |now_ms| {
            render(&Snapshot {
                metrics: &Metrics::default(),
                relay: RelayStats::default(),
                refresh: &refresh,
                records: &records,
                tcp_open: 0,
                resolvers: &[],
                now_ms,
            })
        };
        assert!(render_at(0).contains("\nmesos_dns_records_from_snapshot_file 0\n"));
        assert_eq!(refresh.readiness(0, 60), Err("no successful refresh yet".to_owned()));
        refresh.file.loaded(1234, 1_700_000_000);
        let now_ms = 1_700_000_090_000;
        assert_eq!(
            refresh.readiness(now_ms, 60),
            Err("no successful refresh yet: serving 1234 records from the snapshot file written at 2023-11-14T22:13:20.000Z (90 s ago)".to_owned())
        );
        let text = render_at(now_ms);
        assert!(text.contains("\nmesos_dns_records_from_snapshot_file 1\n"), "{text}");
        assert!(text.contains("\nmesos_dns_snapshot_file_age_seconds 90\n"), "{text}");
        refresh.success(now_ms, 5);
        refresh.file.written(1_700_000_100, 250);
        refresh.file.write_failed();
        assert_eq!(refresh.readiness(now_ms + 1000, 60), Ok(()));
        let text = render_at(now_ms + 20_000);
        for line in [
            "mesos_dns_records_from_snapshot_file 0",
            "mesos_dns_snapshot_file_age_seconds 10",
            "mesos_dns_snapshot_file_writes_total{result=\"success\"} 1",
            "mesos_dns_snapshot_file_writes_total{result=\"failure\"} 1",
            "mesos_dns_snapshot_file_last_write_duration_seconds 0.250",
        ] {
            assert!(text.contains(&format!("\n{line}\n")), "{line} in:\n{text}");
        }
    }

    #[test]
    fn refused_tcp_connections_are_rendered_as_a_counter() {
        let mut metrics = Metrics::default();
        metrics.tcp_refused(3);
        metrics.tcp_refused(5);
        let records = Records::unloaded(crate::records::zone(&crate::config::Config::default()));
        let refresh = RefreshStatus::default();
        let text = render(&Snapshot {
            metrics: &metrics,
            relay: RelayStats::default(),
            resolvers: &[],
            refresh: &refresh,
            records: &records,
            tcp_open: 512,
            now_ms: 0,
        });
        assert!(
            text.contains("# TYPE mesos_dns_tcp_connections_refused_total counter\n"),
            "{text}"
        );
        assert!(text.contains("\nmesos_dns_tcp_connections_refused_total 8\n"), "{text}");
    }
}
