//! Counters of the event loop and their Prometheus text rendering (`GET /metrics`). The counters are
//! plain integers owned by the loop: no atomics, no locks on the query path. The refresher's figures
//! come from [`RefreshStatus`], the only state shared across threads.

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
    /// Names outside the domain refused to clients `relayAllowFrom` (or its default) leaves out.
    relay_not_allowed: u64,
    /// UDP responses over `rateLimit`, and those of them sent as empty truncated answers.
    rate_limited: u64,
    rate_limit_slipped: u64,
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

    /// Counts a name outside the domain refused to a client that may not relay (`relayAllowFrom`).
    #[inline]
    pub(crate) fn relay_not_allowed(&mut self) {
        self.relay_not_allowed += 1;
    }

    /// Counts a UDP response over `rateLimit`: dropped, or slipped (sent as an empty truncated
    /// answer); one within it is not counted here.
    #[inline]
    pub(crate) fn rate_limit(&mut self, verdict: crate::serve::rrl::Verdict) {
        use crate::serve::rrl::Verdict;
        match verdict {
            Verdict::Send => {}
            Verdict::Slip => {
                self.rate_limited += 1;
                self.rate_limit_slipped += 1;
            }
            Verdict::Drop => self.rate_limited += 1,
        }
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
    /// `refreshSeconds` (the alert on stale records compares the last refresh's age with it).
    pub refresh_seconds: u64,
}

mod text;
pub(crate) use text::render;

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
            refresh_seconds: 60,
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
                refresh_seconds: 60,
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
            refresh_seconds: 60,
        });
        assert!(
            text.contains("# TYPE mesos_dns_tcp_connections_refused_total counter\n"),
            "{text}"
        );
        assert!(text.contains("\nmesos_dns_tcp_connections_refused_total 8\n"), "{text}");
    }
}
