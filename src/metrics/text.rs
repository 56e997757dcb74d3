//! The Prometheus text exposition format (version 0.0.4) of `GET /metrics`: one table of metric
//! families, each with its name, type, help and how its samples are read from a [`Snapshot`], and the
//! loop that writes them. Adding a metric is adding a row.

use std::fmt::{Display, Write as _};
use std::sync::atomic::Ordering;

use crate::forward::health::ResolverHealth;

use super::{Snapshot, KINDS, RCODES, TRANSFER_KINDS, TRANSPORTS};

/// One metric family: its name after `mesos_dns_`, its Prometheus type, its help text, and the writer
/// of its samples.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: fn(&mut Samples<'_>, &Snapshot<'_>),
}

const COUNTER: &str = "counter";
const GAUGE: &str = "gauge";

/// Writes the sample lines of one family.
struct Samples<'o> {
    out: &'o mut String,
    name: &'static str,
}

impl Samples<'_> {
    /// `mesos_dns_NAME VALUE`.
    fn value(&mut self, value: impl Display) {
        let _ = writeln!(self.out, "mesos_dns_{} {value}", self.name);
    }

    /// `mesos_dns_NAME{k1="v1",k2="v2"} VALUE`.
    /// One sample per resolver, labelled with its address, of `value` (none where it is `None`).
    fn per_resolver<V: Display>(&mut self, s: &Snapshot<'_>, value: impl Fn(&ResolverHealth) -> Option<V>) {
        for r in s.resolvers {
            if let Some(v) = value(r) {
                self.labelled(&[("resolver", &r.addr)], v);
            }
        }
    }

    fn labelled(&mut self, labels: &[(&str, &dyn Display)], value: impl Display) {
        let _ = write!(self.out, "mesos_dns_{}{{", self.name);
        for (i, (key, label)) in labels.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            let _ = write!(self.out, "{comma}{key}=\"{label}\"");
        }
        let _ = writeln!(self.out, "}} {value}");
    }
}

/// Milliseconds written as seconds with three decimals.
struct Seconds(u64);

impl Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3}", self.0 as f64 / 1000.0)
    }
}

/// Every family, in the order written.
const FAMILIES: &[Family] = &[
    Family {
        name: "dns_queries_total",
        kind: COUNTER,
        help: "DNS queries by transport and what became of them.",
        samples: |o, s| {
            for (ti, transport) in TRANSPORTS.iter().enumerate() {
                for (ki, (_, kind)) in KINDS.iter().enumerate() {
                    o.labelled(&[("transport", transport), ("kind", kind)], s.metrics.queries[ti][ki]);
                }
            }
        },
    },
    Family {
        name: "dns_responses_total",
        kind: COUNTER,
        help: "DNS responses sent, by transport and rcode.",
        samples: |o, s| {
            for (ti, transport) in TRANSPORTS.iter().enumerate() {
                for (ri, rcode) in RCODES.iter().enumerate() {
                    o.labelled(
                        &[("transport", transport), ("rcode", rcode)],
                        s.metrics.responses[ti][ri],
                    );
                }
            }
        },
    },
    Family {
        name: "relay_answered_total",
        kind: COUNTER,
        help: "Upstream answers passed back.",
        samples: |o, s| o.value(s.relay.answered),
    },
    Family {
        name: "relay_timeouts_total",
        kind: COUNTER,
        help: "Relay attempts that timed out.",
        samples: |o, s| o.value(s.relay.timeouts),
    },
    Family {
        name: "relay_errors_total",
        kind: COUNTER,
        help: "Relay attempts that failed (send, connect, TCP).",
        samples: |o, s| o.value(s.relay.errors),
    },
    Family {
        name: "relay_servfail_total",
        kind: COUNTER,
        help: "Relayed queries answered SERVFAIL: every resolver failed.",
        samples: |o, s| o.value(s.relay.servfail),
    },
    Family {
        name: "relay_rejected_total",
        kind: COUNTER,
        help: "Upstream datagrams dropped: unknown ID, wrong source or question.",
        samples: |o, s| o.value(s.relay.rejected),
    },
    Family {
        name: "relay_truncated_total",
        kind: COUNTER,
        help: "Upstream answers too big for their UDP client (or truncated upstream): sent with TC and no records.",
        samples: |o, s| o.value(s.relay.truncated),
    },
    Family {
        name: "relay_cache_hits_total",
        kind: COUNTER,
        help: "Relayed queries answered from the cache.",
        samples: |o, s| o.value(s.relay.cache.hits),
    },
    Family {
        name: "relay_cache_misses_total",
        kind: COUNTER,
        help: "Relayed queries not found fresh in the cache (asked upstream).",
        samples: |o, s| o.value(s.relay.cache.misses),
    },
    Family {
        name: "relay_cache_evictions_total",
        kind: COUNTER,
        help: "Cached answers dropped to make room for another.",
        samples: |o, s| o.value(s.relay.cache.evictions),
    },
    Family {
        name: "relay_cache_stale_total",
        kind: COUNTER,
        help: "Expired cached answers served because every resolver failed (RFC 8767).",
        samples: |o, s| o.value(s.relay.cache.stale),
    },
    Family {
        name: "relay_cache_prefetches_total",
        kind: COUNTER,
        help: "Popular cached answers refreshed upstream before they expired.",
        samples: |o, s| o.value(s.relay.cache.prefetches),
    },
    Family {
        name: "relay_cache_entries",
        kind: GAUGE,
        help: "Answers in the relay's cache.",
        samples: |o, s| o.value(s.relay.cache.entries),
    },
    Family {
        name: "relay_resolver_sent_total",
        kind: COUNTER,
        help: "Queries sent to each resolver (probes of a resolver that is down included).",
        samples: |o, s| o.per_resolver(s, |r| Some(r.sent)),
    },
    Family {
        name: "relay_resolver_answered_total",
        kind: COUNTER,
        help: "Valid answers from each resolver.",
        samples: |o, s| o.per_resolver(s, |r| Some(r.answered)),
    },
    Family {
        name: "relay_resolver_timeouts_total",
        kind: COUNTER,
        help: "Queries each resolver left unanswered past its RTO (srtt + 4 * rttvar, 1 s at least).",
        samples: |o, s| o.per_resolver(s, |r| Some(r.timeouts)),
    },
    Family {
        name: "relay_resolver_errors_total",
        kind: COUNTER,
        help: "Queries each resolver refused at once (ICMP unreachable, send or TCP connect failure).",
        samples: |o, s| o.per_resolver(s, |r| Some(r.errors)),
    },
    Family {
        name: "relay_resolver_up",
        kind: GAUGE,
        help: "1 if the resolver is asked in its turn, 0 if it is down (two failures in a row) and only probed.",
        samples: |o, s| o.per_resolver(s, |r| Some(u8::from(r.is_up()))),
    },
    Family {
        name: "relay_resolver_srtt_seconds",
        kind: GAUGE,
        help: "Each resolver's smoothed round-trip time (RFC 6298); absent until it answers.",
        samples: |o, s| o.per_resolver(s, |r| r.srtt().map(|t| t.as_secs_f64())),
    },
    Family {
        name: "refreshes_total",
        kind: COUNTER,
        help: "State refreshes by result.",
        samples: |o, s| {
            o.labelled(&[("result", &"success")], s.refresh.successes.load(Ordering::Relaxed));
            o.labelled(&[("result", &"failure")], s.refresh.failures.load(Ordering::Relaxed));
        },
    },
    Family {
        name: "last_refresh_timestamp_seconds",
        kind: GAUGE,
        help: "Unix time of the last successful refresh (0: none).",
        samples: |o, s| o.value(Seconds(s.refresh.last_success_ms())),
    },
    Family {
        name: "refresh_interval_seconds",
        kind: GAUGE,
        help: "refreshSeconds: how often the state is polled (alert on a last refresh older than 3 of them).",
        samples: |o, s| o.value(s.refresh_seconds),
    },
    Family {
        name: "last_refresh_duration_seconds",
        kind: GAUGE,
        help: "How long the last refresh took.",
        samples: |o, s| o.value(Seconds(s.refresh.last_duration_ms.load(Ordering::Relaxed))),
    },
    Family {
        name: "carried_tasks",
        kind: GAUGE,
        help:
            "Tasks served although the leader does not list them: their agent has not re-registered since a failover.",
        samples: |o, s| o.value(s.refresh.carried_tasks.load(Ordering::Relaxed)),
    },
    Family {
        name: "snapshot_age_seconds",
        kind: GAUGE,
        help: "Age of the records being served (0 before the first refresh).",
        samples: |o, s| {
            let last = s.refresh.last_success_ms();
            o.value(Seconds(if last == 0 { 0 } else { s.now_ms.saturating_sub(last) }));
        },
    },
    Family {
        name: "records_from_snapshot_file",
        kind: GAUGE,
        help: "1 while the records served are the snapshot file's (loaded at start, until the first good refresh).",
        samples: |o, s| o.value(u8::from(s.refresh.serving_file_records().is_some())),
    },
    Family {
        name: "snapshot_file_age_seconds",
        kind: GAUGE,
        help: "Age of the newest snapshot file, loaded at start or written since (0: none).",
        samples: |o, s| o.value(s.refresh.file.age_seconds(s.now_ms)),
    },
    Family {
        name: "snapshot_file_writes_total",
        kind: COUNTER,
        help: "Snapshot file writes by result.",
        samples: |o, s| {
            let file = &s.refresh.file;
            o.labelled(&[("result", &"success")], file.writes_ok.load(Ordering::Relaxed));
            o.labelled(&[("result", &"failure")], file.writes_failed.load(Ordering::Relaxed));
        },
    },
    Family {
        name: "snapshot_file_last_write_duration_seconds",
        kind: GAUGE,
        help: "How long the last snapshot file write took (encoding, writing, syncing).",
        samples: |o, s| o.value(Seconds(s.refresh.file.last_write_ms.load(Ordering::Relaxed))),
    },
    Family {
        name: "records",
        kind: GAUGE,
        help: "Records being served, by type.",
        samples: |o, s| {
            let (a, aaaa, srv) = s.records.counts();
            for (rtype, n) in [("A", a), ("AAAA", aaaa), ("SRV", srv)] {
                o.labelled(&[("type", &rtype)], n);
            }
        },
    },
    Family {
        name: "ixfr_journal_bytes",
        kind: GAUGE,
        help: "Memory held by the IXFR journal, the changes kept for incremental transfers (`ixfrJournalBytes` bounds it).",
        samples: |o, s| o.value(s.records.journal().bytes()),
    },
    Family {
        name: "tcp_connections_open",
        kind: GAUGE,
        help: "DNS TCP connections open.",
        samples: |o, s| o.value(s.tcp_open),
    },
    Family {
        name: "tcp_connections_refused_total",
        kind: COUNTER,
        help: "DNS TCP connections closed at once: the connection limit was reached.",
        samples: |o, s| o.value(s.metrics.tcp_refused),
    },
    Family {
        name: "relay_not_allowed_total",
        kind: COUNTER,
        help: "Queries for names outside the domain refused: the client is not in relayAllowFrom (absent: loopback and private networks).",
        samples: |o, s| o.value(s.metrics.relay_not_allowed),
    },
    Family {
        name: "rate_limited_responses_total",
        kind: COUNTER,
        help: "UDP responses over rateLimit, by what became of them: dropped, or slipped (sent empty with TC so that the client retries over TCP).",
        samples: |o, s| {
            let m = s.metrics;
            let dropped = m.rate_limited - m.rate_limit_slipped;
            o.labelled(&[("action", &"dropped")], dropped);
            o.labelled(&[("action", &"slipped")], m.rate_limit_slipped);
        },
    },
    Family {
        name: "http_responses_total",
        kind: COUNTER,
        help: "HTTP API responses by status.",
        samples: |o, s| {
            for (i, status) in ["200", "400", "404", "405", "503", "other"].iter().enumerate() {
                o.labelled(&[("status", status)], s.metrics.http[i]);
            }
        },
    },
    Family {
        name: "zone_transfers_total",
        kind: COUNTER,
        help: "Zone transfer requests (AXFR, IXFR) by what they got.",
        samples: |o, s| {
            for (i, (_, kind)) in TRANSFER_KINDS.iter().enumerate() {
                o.labelled(&[("kind", kind)], s.metrics.transfers[i]);
            }
        },
    },
    Family {
        name: "tsig_signed_queries_total",
        kind: COUNTER,
        help: "TSIG-signed queries other than zone transfers.",
        samples: |o, s| o.value(s.metrics.signed_queries),
    },
    Family {
        name: "notify_messages_total",
        kind: COUNTER,
        help: "NOTIFY messages to secondaries: sent (retries included), acknowledged, given up after the last retry.",
        samples: |o, s| {
            let n = s.metrics.notify;
            for (result, value) in [
                ("sent", n.sent),
                ("acknowledged", n.acknowledged),
                ("given_up", n.given_up),
            ] {
                o.labelled(&[("result", &result)], value);
            }
        },
    },
];

/// The whole `/metrics` document.
pub(crate) fn render(s: &Snapshot<'_>) -> String {
    let mut out = String::with_capacity(4096);
    for family in FAMILIES {
        let (name, kind, help) = (family.name, family.kind, family.help);
        let _ = writeln!(out, "# HELP mesos_dns_{name} {help}\n# TYPE mesos_dns_{name} {kind}");
        (family.samples)(&mut Samples { out: &mut out, name }, s);
    }
    out
}
