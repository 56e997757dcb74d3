//! The config keys, one entry each: the key's spelling in config.json, how its value is read into
//! [`Config`], its member of `/v1/config` (the original's Go field name) and, for a key that only takes
//! effect at the next start, how a change is seen. Adding a key is one entry here plus its field (and
//! default) in `Config`; recognising it, reading it, showing it and warning when a reload changes it all
//! follow from the table.
//!
//! Keys are read in the table's order: a reader may use a key read before it (`zoneResolvers` the
//! `domain`, `mesosAuthentication` the credentials), and of several bad values the first is reported.

use std::net::SocketAddr;

use serde_json::{Map, Value};

use super::fields::Field;
use super::values::*;
use super::{field, show, Auth, Config, ConfigError, StateSourceMode, ZkUrl, REDACTED};

/// Seconds are kept below 2^32 so that no later `Instant + Duration` can overflow.
const MAX_SECONDS: u64 = u32::MAX as u64;
/// DNS TTLs are 31-bit (RFC 2181 section 8); the original's field is an `int32`.
const MAX_TTL: u32 = i32::MAX as u32;
/// Socket buffer sizes are a C `int`.
const MAX_SOCKET_BUFFER: u32 = i32::MAX as u32;
/// Relayed answers cached at most: a million entries of up to 4 KiB is already 4 GiB.
const MAX_CACHE_ENTRIES: u32 = 1_000_000;
/// `ixfrJournalBytes` at most: 1 TiB, more than any zone's changes.
const MAX_JOURNAL_BYTES: u64 = 1 << 40;
/// What a resolver `timeout` of 0 means: the original then uses its default, 5 s.
const ZERO_TIMEOUT_MEANS: u64 = 5;
/// `rateLimit`: responses a second per client network (Knot allows up to 2^32; a million is past any
/// one node's reach).
const MAX_RATE_LIMIT: u32 = 1_000_000;
/// `rateLimitSlip`: as Knot.
const MAX_RATE_LIMIT_SLIP: u32 = 100;

/// Reads a key's member (absent or not) over what the config holds so far, adding any warning.
type Reader = fn(Field<'_>, &mut Config, &mut Vec<String>) -> Result<(), ConfigError>;
/// A key's value as `/v1/config` shows it.
type Shown = fn(&Config) -> Value;

/// One config key.
pub(super) struct Key {
    /// The spelling of the original's documentation, which errors use; documents match it ignoring case.
    pub(super) name: &'static str,
    pub(super) read: Reader,
    /// The `/v1/config` member: its name (the same letters as `name`, so the document loads back) and
    /// value. `None` for a key the original does not show there.
    pub(super) json: Option<(&'static str, Shown)>,
    /// For a key that takes effect only at the next start (the sockets and the relay are set up once):
    /// whether its value differs between two configs.
    pub(super) restart_only: Option<fn(&Config, &Config) -> bool>,
    /// The JSON type of the value, which a `MESOS_DNS_<KEY>` variable's text is turned into.
    pub(super) kind: Kind,
}

/// What a key's value is, as far as turning an environment variable's text into JSON goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A string, number or boolean (the default).
    Scalar,
    /// A list of strings.
    List,
    /// An object, or a list of objects: JSON only.
    Json,
}

const fn key(name: &'static str, read: Reader) -> Key {
    Key {
        name,
        read,
        json: None,
        restart_only: None,
        kind: Kind::Scalar,
    }
}

impl Key {
    const fn json(self, name: &'static str, value: Shown) -> Key {
        Key {
            json: Some((name, value)),
            ..self
        }
    }

    const fn restart_only(self, changed: fn(&Config, &Config) -> bool) -> Key {
        Key {
            restart_only: Some(changed),
            ..self
        }
    }

    const fn kind(self, kind: Kind) -> Key {
        Key { kind, ..self }
    }
}

/// A value given replaces the default.
fn set<T>(slot: &mut T, given: Option<T>) -> Result<(), ConfigError> {
    if let Some(value) = given {
        *slot = value;
    }
    Ok(())
}

fn addresses(list: &[SocketAddr]) -> Value {
    list.iter().map(|a| a.to_string()).collect::<Vec<_>>().into()
}

/// Every key the original accepts, and ours (`PTROn`, `stateSource`, `unroutableNetworks`,
/// `hideUnhealthyTasks`), in the order they are read.
pub(super) static KEYS: &[Key] = &[
    key("masters", |f, c, _| set(&mut c.masters, f.strings_as(parse_masters)?))
        .json("Masters", |c| {
            c.masters.iter().map(ToString::to_string).collect::<Vec<_>>().into()
        })
        .kind(Kind::List),
    key("zk", |f, c, _| {
        // An empty `zk` is none, as in the original.
        set(
            &mut c.zk,
            f.string_as(|s| (!s.is_empty()).then(|| ZkUrl::parse(s)).transpose())?,
        )
    })
    .json("Zk", |c| c.zk.as_ref().map_or("", ZkUrl::as_written).into())
    .restart_only(|a, b| a.zk != b.zk),
    key("zkDetectionTimeout", |f, c, _| {
        set(&mut c.zk_detection_timeout, f.int(false, MAX_SECONDS)?)
    })
    .json("ZkDetectionTimeout", |c| c.zk_detection_timeout.into()),
    key("stateSource", |f, c, _| {
        let parse =
            |s: &str| StateSourceMode::parse(s).ok_or_else(|| format!("expected \"poll\" or \"stream\", got {s:?}"));
        set(&mut c.state_source, f.string_as(parse)?)
    })
    .json("StateSource", |c| c.state_source.as_str().into()),
    key("refreshSeconds", |f, c, _| {
        set(&mut c.refresh_seconds, f.int(true, MAX_SECONDS)?)
    })
    .json("RefreshSeconds", |c| c.refresh_seconds.into()),
    key("stateTimeoutSeconds", |f, c, _| {
        set(&mut c.state_timeout_seconds, f.int(true, MAX_SECONDS)?)
    })
    .json("StateTimeoutSeconds", |c| c.state_timeout_seconds.into()),
    // 0 turns the fallback off; `recovered_slaves` is followed whatever this says.
    key("failoverGraceSeconds", |f, c, _| {
        set(&mut c.failover_grace_seconds, f.int(false, MAX_SECONDS)?)
    })
    .json("FailoverGraceSeconds", |c| c.failover_grace_seconds.into()),
    // 0 is a valid TTL (RFC 2181 section 8: answers not to be cached), as in the original.
    key("ttl", |f, c, _| set(&mut c.ttl, f.int(false, MAX_TTL)?)).json("TTL", |c| c.ttl.into()),
    key("domain", |f, c, _| set(&mut c.domain, f.string_as(normalize_domain)?))
        .json("Domain", |c| c.domain.clone().into()),
    key("port", |f, c, _| set(&mut c.port, f.int(false, u16::MAX)?))
        .json("Port", |c| c.port.into())
        .restart_only(|a, b| a.port != b.port),
    key("listener", |f, c, _| {
        set(&mut c.listener, f.string_as(parse_listen_ip)?)
    })
    .json("Listener", |c| c.listener.to_string().into())
    .restart_only(|a, b| a.listener != b.listener),
    key("httpListener", |f, c, _| {
        set(&mut c.http_listener, f.string_as(parse_listen_ip)?)
    })
    .json("HTTPListener", |c| c.http_listener.to_string().into())
    .restart_only(|a, b| a.http_listener != b.http_listener),
    key("httpport", |f, c, _| set(&mut c.http_port, f.int(false, u16::MAX)?))
        .json("HttpPort", |c| c.http_port.into())
        .restart_only(|a, b| a.http_port != b.http_port),
    key("dnson", |f, c, _| set(&mut c.dns_on, f.bool()?))
        .json("DnsOn", |c| c.dns_on.into())
        .restart_only(|a, b| a.dns_on != b.dns_on),
    key("httpon", |f, c, _| set(&mut c.http_on, f.bool()?))
        .json("HttpOn", |c| c.http_on.into())
        .restart_only(|a, b| a.http_on != b.http_on),
    key("resolvers", |f, c, _| {
        set(&mut c.resolvers, f.strings_as(parse_resolvers)?)
    })
    .json("Resolvers", |c| addresses(&c.resolvers))
    .kind(Kind::List),
    key("zoneResolvers", |f, c, _| {
        let zones = f
            .value()
            .map(|v| parse_zone_resolvers(v, &c.domain).map_err(|p| f.error(p)));
        set(&mut c.zone_resolvers, zones.transpose()?)
    })
    .json("ZoneResolvers", |c| {
        let zones = c.zone_resolvers.iter().map(|(zone, rs)| (zone.clone(), addresses(rs)));
        Value::Object(zones.collect())
    })
    .kind(Kind::Json),
    key("timeout", |f, c, warnings| {
        let timeout = f.int(false, MAX_SECONDS)?.map(|v| match v {
            0 => {
                warnings.push(format!(
                    "config key `timeout` is 0: using the default, {ZERO_TIMEOUT_MEANS} s, as the original does"
                ));
                ZERO_TIMEOUT_MEANS
            }
            v => v,
        });
        set(&mut c.timeout, timeout)
    })
    .json("Timeout", |c| c.timeout.into()),
    // Ours: the kernel buffers of the UDP sockets, in bytes (0: the OS default); setsockopt takes an int.
    key("udpReceiveBuffer", |f, c, _| {
        set(&mut c.udp_receive_buffer, f.int(false, MAX_SOCKET_BUFFER)?)
    })
    .json("UDPReceiveBuffer", |c| c.udp_receive_buffer.into())
    .restart_only(|a, b| a.udp_receive_buffer != b.udp_receive_buffer),
    key("udpSendBuffer", |f, c, _| {
        set(&mut c.udp_send_buffer, f.int(false, MAX_SOCKET_BUFFER)?)
    })
    .json("UDPSendBuffer", |c| c.udp_send_buffer.into())
    .restart_only(|a, b| a.udp_send_buffer != b.udp_send_buffer),
    key("externalon", |f, c, _| set(&mut c.external_on, f.bool()?))
        .json("ExternalOn", |c| c.external_on.into())
        .restart_only(|a, b| a.external_on != b.external_on),
    // Ours (issue 16): the relay's answer cache, serve-stale and who may relay; applied on SIGHUP.
    key("cacheOn", |f, c, _| set(&mut c.cache_on, f.bool()?)).json("CacheOn", |c| c.cache_on.into()),
    key("cacheMaxEntries", |f, c, _| {
        set(&mut c.cache_max_entries, f.int(true, MAX_CACHE_ENTRIES)?)
    })
    .json("CacheMaxEntries", |c| c.cache_max_entries.into()),
    key("serveStaleSeconds", |f, c, _| {
        set(&mut c.serve_stale_seconds, f.int(false, MAX_TTL)?)
    })
    .json("ServeStaleSeconds", |c| c.serve_stale_seconds.into()),
    // Ours (issue 26): absent, loopback and private networks; given, the list replaces them.
    key("relayAllowFrom", |f, c, warnings| {
        let list = f.strings_as(parse_networks)?;
        if list.as_ref().is_some_and(Vec::is_empty) {
            warnings.push(
                "config key `relayAllowFrom` is []: no client may have names outside the domain relayed \
                 (leave the key out for loopback and private networks, or give [\"0.0.0.0/0\", \"::/0\"] for everyone)"
                    .to_owned(),
            );
        }
        set(&mut c.relay_allow_from, list)
    })
    .json("RelayAllowFrom", |c| {
        c.relay_allow_from
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .into()
    })
    .kind(Kind::List),
    // Ours (issue 26): response rate limiting, with Knot's names.
    key("rateLimit", |f, c, _| {
        set(&mut c.rate_limit, f.int(false, MAX_RATE_LIMIT)?)
    })
    .json("RateLimit", |c| c.rate_limit.into())
    .restart_only(|a, b| a.rate_limit != b.rate_limit),
    key("rateLimitSlip", |f, c, _| {
        set(&mut c.rate_limit_slip, f.int(false, MAX_RATE_LIMIT_SLIP)?)
    })
    .json("RateLimitSlip", |c| c.rate_limit_slip.into())
    .restart_only(|a, b| a.rate_limit_slip != b.rate_limit_slip),
    key("recurseon", |f, c, _| set(&mut c.recurse_on, f.bool()?)).json("RecurseOn", |c| c.recurse_on.into()),
    key("SOAMname", |f, c, _| {
        set(&mut c.soa_mname, f.string_as(normalize_soa_name)?)
    })
    .json("SOAMname", |c| c.soa_mname.clone().into()),
    // The oldest spelling of SOARname, read before it so that SOARname wins when both are given.
    key("email", |f, c, _| {
        set(&mut c.soa_rname, f.string_as(normalize_soa_name)?)
    }),
    key("SOARname", |f, c, _| {
        set(&mut c.soa_rname, f.string_as(normalize_soa_name)?)
    })
    .json("SOARname", |c| c.soa_rname.clone().into()),
    // The serial is the time of each refresh (the HTTP API adds it to `/v1/config`); a configured one is
    // checked but has no effect, as in the original.
    key("SOASerial", |f, _, _| f.int(false, u32::MAX).map(drop)),
    key("SOARefresh", |f, c, _| set(&mut c.soa_refresh, f.int(false, u32::MAX)?))
        .json("SOARefresh", |c| c.soa_refresh.into()),
    key("SOARetry", |f, c, _| set(&mut c.soa_retry, f.int(false, u32::MAX)?)).json("SOARetry", |c| c.soa_retry.into()),
    key("SOAExpire", |f, c, _| set(&mut c.soa_expire, f.int(false, u32::MAX)?))
        .json("SOAExpire", |c| c.soa_expire.into()),
    key("SOAMinttl", |f, c, _| set(&mut c.soa_minttl, f.int(false, u32::MAX)?))
        .json("SOAMinttl", |c| c.soa_minttl.into()),
    key("srvRecordDefaultWeight", |f, c, _| {
        set(&mut c.srv_record_default_weight, f.int(false, u16::MAX)?)
    })
    .json("SRVRecordDefaultWeight", |c| c.srv_record_default_weight.into()),
    // Ours (issue 25, Consul's `a_record_limit`): an answer cannot carry more than 65535 records.
    key("aRecordLimit", |f, c, _| {
        set(&mut c.a_record_limit, f.int(false, u16::MAX)?)
    })
    .json("ARecordLimit", |c| c.a_record_limit.into()),
    // Ours (issue 25): zone-local answers for queries from agents.
    key("preferLocalZone", |f, c, _| set(&mut c.prefer_local_zone, f.bool()?))
        .json("PreferLocalZone", |c| c.prefer_local_zone.into()),
    key("IPSources", |f, c, _| {
        set(&mut c.ip_sources, f.strings_as(parse_ip_sources)?)
    })
    .json("IPSources", |c| {
        c.ip_sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().into()
    })
    .kind(Kind::List),
    key("unroutableNetworks", |f, c, _| {
        set(&mut c.unroutable_networks, f.strings_as(parse_networks)?)
    })
    .json("UnroutableNetworks", |c| {
        c.unroutable_networks
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .into()
    })
    .kind(Kind::List),
    key("hideUnhealthyTasks", |f, c, _| {
        set(&mut c.hide_unhealthy_tasks, f.bool()?)
    })
    .json("HideUnhealthyTasks", |c| c.hide_unhealthy_tasks.into()),
    // Ours (issue 25): the task filters.
    key("minVisibility", |f, c, _| {
        set(&mut c.task_filter.min_visibility, f.string_as(parse_visibility)?)
    })
    .json("MinVisibility", |c| c.task_filter.min_visibility.as_str().into()),
    key("excludeFrameworks", |f, c, _| {
        set(&mut c.task_filter.exclude_frameworks, f.strings()?)
    })
    .json("ExcludeFrameworks", |c| c.task_filter.exclude_frameworks.clone().into())
    .kind(Kind::List),
    key("excludeTaskLabels", |f, c, _| {
        set(
            &mut c.task_filter.exclude_task_labels,
            f.strings_as(parse_label_matches)?,
        )
    })
    .json("ExcludeTaskLabels", |c| {
        let labels = c.task_filter.exclude_task_labels.iter().map(ToString::to_string);
        labels.collect::<Vec<_>>().into()
    })
    .kind(Kind::List),
    key("EnforceRFC952", |f, c, _| set(&mut c.enforce_rfc952, f.bool()?))
        .json("EnforceRFC952", |c| c.enforce_rfc952.into()),
    key("SetTruncateBit", |f, c, _| set(&mut c.set_truncate_bit, f.bool()?))
        .json("SetTruncateBit", |c| c.set_truncate_bit.into()),
    key("EnumerationOn", |f, c, _| set(&mut c.enumeration_on, f.bool()?))
        .json("EnumerationOn", |c| c.enumeration_on.into()),
    key("PTROn", |f, c, _| set(&mut c.ptr_on, f.bool()?)).json("PTROn", |c| c.ptr_on.into()),
    key("mesosHTTPSOn", |f, c, _| set(&mut c.mesos_https_on, f.bool()?))
        .json("MesosHTTPSOn", |c| c.mesos_https_on.into()),
    key("caCertFile", |f, c, _| set(&mut c.ca_cert_file, f.string()?))
        .json("CACertFile", |c| c.ca_cert_file.clone().into()),
    key("certFile", |f, c, _| set(&mut c.cert_file, f.string()?)).json("CertFile", |c| c.cert_file.clone().into()),
    key("keyFile", |f, c, _| set(&mut c.key_file, f.string()?)).json("KeyFile", |c| c.key_file.clone().into()),
    key("IAMConfigFile", |f, c, _| set(&mut c.iam_config_file, f.string()?))
        .json("IAMConfigFile", |c| c.iam_config_file.clone().into()),
    // Ours (issue 18), shown in `/v1/config` as our other keys are.
    key("staticRecordsFile", |f, c, _| {
        set(&mut c.static_records_file, f.string()?)
    })
    .json("StaticRecordsFile", |c| c.static_records_file.clone().into()),
    // Ours (issue 23): the warm start's file. Read at start; the writer follows a reload.
    key("snapshotFile", |f, c, _| set(&mut c.snapshot_file, f.string()?))
        .json("SnapshotFile", |c| c.snapshot_file.clone().into()),
    key("snapshotMaxAgeSeconds", |f, c, _| {
        set(&mut c.snapshot_max_age_seconds, f.int(false, MAX_SECONDS)?)
    })
    .json("SnapshotMaxAgeSeconds", |c| c.snapshot_max_age_seconds.into()),
    key("mesosCredentials", |f, c, warnings| {
        let credentials = f
            .value()
            .map(|v| parse_credentials(v, warnings).map_err(|p| f.error(p)));
        set(&mut c.mesos_credentials, credentials.transpose()?)
    })
    .json("MesosCredentials", |c| {
        let (principal, secret) = match &c.mesos_credentials {
            Some(cr) => (cr.principal.as_str(), REDACTED),
            None => ("", ""),
        };
        let members = [("Principal", principal), ("Secret", secret)];
        Value::Object(Map::from_iter(members.map(|(k, v)| (k.to_string(), Value::from(v)))))
    })
    .kind(Kind::Json),
    // After the credentials and the service account file, which it takes.
    key("mesosAuthentication", read_authentication)
        .json("MesosAuthentication", |c| c.mesos_authentication.as_str().into()),
    // Ours (issue 17): zone transfers to secondaries. The keys are read once, at start.
    key("transferAllowFrom", |f, c, _| {
        set(&mut c.transfer_allow_from, f.strings_as(parse_networks)?)
    })
    .json("TransferAllowFrom", |c| {
        c.transfer_allow_from
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .into()
    })
    .restart_only(|a, b| a.transfer_allow_from != b.transfer_allow_from)
    .kind(Kind::List),
    // Not in `/v1/config`: the secrets.
    key("tsigKeys", |f, c, _| {
        let keys = f.value().map(|v| parse_tsig_keys(v).map_err(|p| f.error(p)));
        set(&mut c.tsig_keys, keys.transpose()?)
    })
    .restart_only(|a, b| a.tsig_keys != b.tsig_keys)
    .kind(Kind::Json),
    // Ours (issue 26): the DNS cookie secret of anycast servers; not in `/v1/config` either.
    key("cookieSecret", |f, c, _| {
        set(&mut c.cookie_secret, f.string_as(parse_cookie_secret)?.map(Some))
    })
    .restart_only(|a, b| a.cookie_secret != b.cookie_secret),
    key("notify", |f, c, _| set(&mut c.notify, f.strings_as(parse_notify)?))
        .json("Notify", |c| addresses(&c.notify))
        .restart_only(|a, b| a.notify != b.notify)
        .kind(Kind::List),
    key("ixfrJournalBytes", |f, c, _| {
        set(&mut c.ixfr_journal_bytes, f.int(false, MAX_JOURNAL_BYTES)?)
    })
    .json("IXFRJournalBytes", |c| c.ixfr_journal_bytes.into()),
    key("nameservers", |f, c, _| {
        set(&mut c.nameservers, f.strings_as(parse_nameservers)?)
    })
    .json("Nameservers", |c| c.nameservers.clone().into())
    .kind(Kind::List),
    // The original reports the config file's path under this key; in a file it has no effect.
    key("File", |_, _, _| Ok(())).json("File", |c| c.file.clone().into()),
];

/// Whether `lower` (a lower-cased member name) is a key of the table.
pub(super) fn is_known(lower: &str) -> bool {
    KEYS.iter().any(|k| k.name.to_ascii_lowercase() == lower)
}

/// `mesosAuthentication` (absent: none) with the credentials or service account file it needs; the
/// other kind, if given, is not used and said so.
fn read_authentication(f: Field<'_>, c: &mut Config, warnings: &mut Vec<String>) -> Result<(), ConfigError> {
    let mode = f.string()?.unwrap_or_default().to_ascii_lowercase();
    let credentials = c.mesos_credentials.clone().filter(|cr| !cr.principal.is_empty());
    let unused =
        |key: &str, mode: &str| format!("config key `{key}` is set but `mesosAuthentication` {mode}: not used");
    c.mesos_authentication = match mode.as_str() {
        "" => {
            if credentials.is_some() {
                warnings.push(unused("mesosCredentials", "is not `basic`"));
            }
            if !c.iam_config_file.is_empty() {
                warnings.push(unused("IAMConfigFile", "is not `iam`"));
            }
            Auth::None
        }
        "basic" => {
            let Some(credentials) = credentials else {
                return Err(field(
                    "mesosCredentials",
                    "`mesosAuthentication` is `basic`, which needs `mesosCredentials` with a `principal`",
                ));
            };
            if !c.iam_config_file.is_empty() {
                warnings.push(unused("IAMConfigFile", "is `basic`"));
            }
            Auth::Basic(credentials)
        }
        "iam" => {
            if c.iam_config_file.is_empty() {
                return Err(field(
                    "IAMConfigFile",
                    "`mesosAuthentication` is `iam`, which needs `IAMConfigFile`",
                ));
            }
            if credentials.is_some() {
                warnings.push(unused("mesosCredentials", "is `iam`"));
            }
            Auth::Iam {
                config_file: c.iam_config_file.clone(),
            }
        }
        other => {
            return Err(f.error(format!(
                "expected \"\", \"basic\" or \"iam\", got {}",
                show(&Value::from(other))
            )))
        }
    };
    Ok(())
}

impl Config {
    /// The keys whose value differs from `self` to `new` but takes effect only at the next start, in the
    /// table's order.
    pub fn changes_needing_restart<'a>(&'a self, new: &'a Config) -> impl Iterator<Item = &'static str> + 'a {
        KEYS.iter()
            .filter(move |k| k.restart_only.is_some_and(|changed| changed(self, new)))
            .map(|k| k.name)
    }
}

#[cfg(test)]
mod tests;
