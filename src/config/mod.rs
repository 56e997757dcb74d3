//! `config.json`: the original Mesos-DNS configuration file, parsed case-insensitively, with the original's
//! defaults, validated up front so that every bad value is reported with the key that holds it.
//!
//! This module owns reading the document, the defaults, every check on a value and the effective
//! configuration as JSON (for `/v1/config`); what each key is, is the table in [`keys`]; the keys set by
//! `MESOS_DNS_<KEY>` variables go over the document's ([`env`]). It does not read `/etc/resolv.conf` (an
//! empty `resolvers` is left empty for the forwarder to fill), open files named by the config, or bind
//! anything.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use serde_json::Value;

use crate::addr::HostPort;

mod cidr;
mod env;
mod fields;
mod keys;
#[cfg(test)]
mod manual;
mod task_filter;
mod types;
mod values;
mod zk_url;

pub(crate) use cidr::Cidr;
pub(crate) use env::choose_file;
pub use env::Overrides;
use fields::{Entries, Fields};
pub(crate) use task_filter::{LabelMatch, TaskFilter, Visibility};
pub(crate) use types::REDACTED;
pub(crate) use types::{Auth, Credentials, IpSource, StateSourceMode, TsigKey};
pub(crate) use zk_url::ZkUrl;

/// The kernel buffer asked for each direction of each UDP socket by default (`udpReceiveBuffer`,
/// `udpSendBuffer`): 4 MiB, as NSD and Knot ask.
pub(crate) const DEFAULT_UDP_BUFFER: u32 = 4 << 20;
/// `ixfrJournalBytes` by default: 16 MiB. It holds tens of thousands of task changes (one is a few
/// hundred bytes of records deleted and added), hours of ordinary churn, yet stays small beside the
/// zone it serves (a quiet 100k-task cluster is ~75 MB resident), so a churning cluster's memory stays
/// flat. Knot's `journal-max-usage` (1 GiB) and BIND's `max-journal-size` bound files on disk; this
/// bounds memory on an agent shared with the tasks. A bigger change is sent as the whole zone, which
/// is then about as cheap.
pub(crate) const DEFAULT_IXFR_JOURNAL_BYTES: u64 = 16 << 20;

/// The effective configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `masters`: every master's address, in the order given (parsed once, at load; none twice).
    pub masters: Vec<HostPort>,
    /// `zk`; `None` when empty.
    pub zk: Option<ZkUrl>,
    /// `zkDetectionTimeout`: seconds to wait at start for ZooKeeper to name a leader (0: use `masters` at once).
    pub zk_detection_timeout: u64,
    /// `refreshSeconds`: seconds between state refreshes.
    pub refresh_seconds: u64,
    /// `stateTimeoutSeconds`: the timeout of one state fetch.
    pub state_timeout_seconds: u64,
    /// `failoverGraceSeconds`: after a leader change, how long an agent missing from a state without
    /// `recovered_slaves` keeps its tasks (0: not at all).
    pub failover_grace_seconds: u64,
    /// `ttl`: the TTL of the records served.
    pub ttl: u32,
    /// `domain`, lower-case, without trailing dot.
    pub domain: String,
    /// `port`: the DNS port.
    pub port: u16,
    /// `listener`: the DNS address.
    pub listener: IpAddr,
    /// `httpListener`: the HTTP API address.
    pub http_listener: IpAddr,
    /// `httpPort`: the HTTP API port.
    pub http_port: u16,
    /// `dnson`: serve DNS.
    pub dns_on: bool,
    /// `httpon`: serve the HTTP API.
    pub http_on: bool,
    /// `resolvers` with the port made explicit (53 by default). Empty: read `/etc/resolv.conf`.
    pub resolvers: Vec<SocketAddr>,
    /// `zoneResolvers`: zone (lower-case, no trailing dot) -> resolvers.
    pub zone_resolvers: BTreeMap<String, Vec<SocketAddr>>,
    /// `timeout`: seconds each resolver gets for a relayed query.
    pub timeout: u64,
    /// `udpReceiveBuffer` (ours): bytes of kernel receive buffer asked for each UDP socket (the DNS
    /// socket and the relay's); 0 leaves the OS default.
    pub udp_receive_buffer: u32,
    /// `udpSendBuffer` (ours): the same for the send buffer.
    pub udp_send_buffer: u32,
    /// `externalon`: relay names outside the domain (false: REFUSED).
    pub external_on: bool,
    /// `cacheOn` (ours): keep relayed answers for their TTL and answer repeats from memory.
    pub cache_on: bool,
    /// `cacheMaxEntries` (ours): relayed answers kept at most.
    pub cache_max_entries: u32,
    /// `serveStaleSeconds` (ours, RFC 8767): how long past its expiry a cached answer may still be
    /// served when every resolver fails (0: never).
    pub serve_stale_seconds: u32,
    /// `relayAllowFrom` (ours): the client networks whose outside names are relayed; by default
    /// loopback and private networks (`forward::acl::DEFAULT_ALLOW_FROM`); empty: nobody.
    pub relay_allow_from: Vec<Cidr>,
    /// `recurseon`: the RA flag of our answers.
    pub recurse_on: bool,
    /// `SOAMname`, fully qualified lower-case (`ns1.mesos.`).
    pub soa_mname: String,
    /// `SOARname` (or the old `email`, `@` made a dot), fully qualified lower-case.
    pub soa_rname: String,
    /// `SOARefresh`: the SOA record's refresh field.
    pub soa_refresh: u32,
    /// `SOARetry`: the SOA record's retry field.
    pub soa_retry: u32,
    /// `SOAExpire`: the SOA record's expire field.
    pub soa_expire: u32,
    /// `SOAMinttl`: the SOA record's minimum TTL.
    pub soa_minttl: u32,
    /// `SRVRecordDefaultWeight`: the weight of the SRV records.
    pub srv_record_default_weight: u16,
    /// `aRecordLimit` (ours, Consul's `a_record_limit`): the A or AAAA records an answer carries at
    /// most, a random few each time (0: all).
    pub a_record_limit: u16,
    /// `preferLocalZone` (ours, issue 25): a query from an agent's address gets the A, AAAA and SRV
    /// records of the tasks in that agent's fault domain zone first.
    pub prefer_local_zone: bool,
    /// `rateLimit` (ours, Knot's name): UDP responses a second per client network (/24, /56) at most;
    /// 0: no limit.
    pub rate_limit: u32,
    /// `rateLimitSlip` (ours, Knot's name): of the responses over the limit, every this many-th goes
    /// out as an empty truncated answer, the rest are dropped (0: none slips).
    pub rate_limit_slip: u32,
    /// `IPSources`: where a task's address is taken from, in order.
    pub ip_sources: Vec<IpSource>,
    /// `unroutableNetworks` (ours): task addresses in these networks are not published; the next IP
    /// source is tried instead.
    pub unroutable_networks: Vec<Cidr>,
    /// `hideUnhealthyTasks` (ours): a task whose latest `TASK_RUNNING` status says `healthy: false`
    /// gets no records.
    pub hide_unhealthy_tasks: bool,
    /// `minVisibility`, `excludeFrameworks`, `excludeTaskLabels` (ours, issue 25): tasks that get no
    /// records.
    pub task_filter: TaskFilter,
    /// `EnforceRFC952`: RFC 952 labels instead of RFC 1123.
    pub enforce_rfc952: bool,
    /// `SetTruncateBit`: set TC on our oversized UDP answers (false: cut them silently).
    pub set_truncate_bit: bool,
    /// `EnumerationOn`: serve `/v1/enumerate` and `/v1/axfr`.
    pub enumeration_on: bool,
    /// `PTROn` (ours): answer reverse lookups of task and agent addresses (PTR records).
    pub ptr_on: bool,
    /// `mesosHTTPSOn`: talk to the masters over HTTPS.
    pub mesos_https_on: bool,
    /// `caCertFile`: the PEM CAs the masters' certificates are checked against (empty: the system bundle).
    pub ca_cert_file: String,
    /// `certFile`: the PEM client certificate for the masters (mutual TLS; empty: none).
    pub cert_file: String,
    /// `keyFile`: the PEM key of `certFile`.
    pub key_file: String,
    /// `mesosAuthentication` with the credentials or service account file it takes: what requests to
    /// the masters use.
    pub mesos_authentication: Auth,
    /// `mesosCredentials` as given, used or not (`/v1/config` shows the principal).
    pub mesos_credentials: Option<Credentials>,
    /// `IAMConfigFile` as given, used or not.
    pub iam_config_file: String,
    /// A master file of static records served beside the generated ones (`staticRecordsFile`); empty
    /// for none.
    pub static_records_file: String,
    /// Where the last good records are kept for a warm start (`snapshotFile`, ours); empty: nowhere.
    pub snapshot_file: String,
    /// A snapshot file older than this is not served at start (`snapshotMaxAgeSeconds`, ours).
    pub snapshot_max_age_seconds: u64,
    /// `stateSource` (ours, not the original's): `poll` (default) or `stream`.
    pub state_source: StateSourceMode,
    /// The absolute path of the file this was loaded from (the original's `File`); empty when parsed
    /// from text.
    pub file: String,
    /// `transferAllowFrom` (ours): the networks whose clients may transfer the zone (AXFR, IXFR);
    /// empty: nobody (REFUSED).
    pub transfer_allow_from: Vec<Cidr>,
    /// `tsigKeys` (ours): when any is given, a transfer must be signed with one of them (RFC 8945).
    pub tsig_keys: Vec<TsigKey>,
    /// `cookieSecret` (ours): the DNS cookie secret shared by the servers of one anycast address (RFC
    /// 9018 5), which then does not rotate; `None`: a random one, rotated every hour.
    pub cookie_secret: Option<[u8; 16]>,
    /// `notify` (ours): the secondaries told of each new serial (RFC 1996), `ip:port`.
    pub notify: Vec<SocketAddr>,
    /// `ixfrJournalBytes` (ours): the memory the IXFR journal may hold, oldest changes dropped first;
    /// 0: none (every IXFR gets the whole zone).
    pub ixfr_journal_bytes: u64,
    /// `nameservers` (ours): the zone's apex NS names, fully qualified lower-case; empty: `SOAMname`.
    pub nameservers: Vec<String>,
}

/// A config file that cannot be used; the message names the offending key.
#[derive(Debug)]
pub enum ConfigError {
    Io(String, std::io::Error),
    Json(serde_json::Error),
    Field {
        key: &'static str,
        problem: String,
    },
    /// A bad value of a key set by an environment variable (`MESOS_DNS_<KEY>`).
    Env {
        var: String,
        key: &'static str,
        problem: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Io(path, e) => write!(f, "cannot read config file {path}: {e}"),
            ConfigError::Json(e) => write!(f, "config file is not valid JSON: {e}"),
            ConfigError::Field { key, problem } => write!(f, "config key `{key}`: {problem}"),
            ConfigError::Env { var, key, problem } => {
                write!(f, "environment variable {var} (config key `{key}`): {problem}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl Default for Config {
    /// The original's defaults, except `resolvers`: empty (read `/etc/resolv.conf`), never `8.8.8.8`.
    fn default() -> Config {
        Config {
            masters: Vec::new(),
            zk: None,
            zk_detection_timeout: 30,
            refresh_seconds: 60,
            state_timeout_seconds: 300,
            failover_grace_seconds: 300,
            ttl: 60,
            domain: "mesos".into(),
            port: 53,
            listener: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            http_listener: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            http_port: 8123,
            dns_on: true,
            http_on: true,
            resolvers: Vec::new(),
            zone_resolvers: BTreeMap::new(),
            timeout: 5,
            udp_receive_buffer: DEFAULT_UDP_BUFFER,
            udp_send_buffer: DEFAULT_UDP_BUFFER,
            external_on: true,
            cache_on: true,
            cache_max_entries: 10_000,
            serve_stale_seconds: 86_400,
            relay_allow_from: crate::forward::acl::default_allow_from(),
            recurse_on: true,
            soa_mname: "ns1.mesos.".into(),
            soa_rname: "root.ns1.mesos.".into(),
            soa_refresh: 60,
            soa_retry: 600,
            soa_expire: 86400,
            soa_minttl: 60,
            srv_record_default_weight: 1,
            a_record_limit: 0,
            prefer_local_zone: false,
            rate_limit: 0,
            rate_limit_slip: 2,
            ip_sources: vec![IpSource::Netinfo, IpSource::Mesos, IpSource::Host],
            unroutable_networks: Vec::new(),
            hide_unhealthy_tasks: false,
            task_filter: TaskFilter::NONE,
            enforce_rfc952: false,
            set_truncate_bit: true,
            enumeration_on: true,
            ptr_on: false,
            mesos_https_on: false,
            ca_cert_file: String::new(),
            cert_file: String::new(),
            key_file: String::new(),
            mesos_authentication: Auth::None,
            mesos_credentials: None,
            iam_config_file: String::new(),
            static_records_file: String::new(),
            snapshot_file: String::new(),
            snapshot_max_age_seconds: 86_400,
            state_source: StateSourceMode::Poll,
            file: String::new(),
            transfer_allow_from: Vec::new(),
            tsig_keys: Vec::new(),
            cookie_secret: None,
            notify: Vec::new(),
            ixfr_journal_bytes: DEFAULT_IXFR_JOURNAL_BYTES,
            nameservers: Vec::new(),
        }
    }
}

impl Config {
    /// Parses and validates a config document. Also returns warnings (unknown keys, values that are
    /// accepted but probably not meant) for the caller to log.
    #[cfg(any(test, feature = "internals"))]
    pub fn from_json(text: &str) -> Result<(Config, Vec<String>), ConfigError> {
        Self::from_json_with(text, &Overrides::default())
    }

    /// [`Config::from_json`] with the keys the environment sets over the document's; an error about
    /// one of those names its variable.
    pub fn from_json_with(text: &str, env: &Overrides) -> Result<(Config, Vec<String>), ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let Entries(mut entries) = serde_json::from_str(text).map_err(ConfigError::Json)?;
        entries.extend(env.members());
        let mut warnings = Vec::new();
        let fields = Fields::new(entries, keys::is_known, &mut warnings);
        let config = build(&fields, &mut warnings).map_err(|e| env.blame(e))?;
        Ok((config, warnings))
    }

    /// Reads and parses a config file, remembering its absolute path (`File`), with the environment's
    /// keys over it; without a file, the environment's keys over the defaults.
    pub fn load(path: Option<&Path>, env: &Overrides) -> Result<(Config, Vec<String>), ConfigError> {
        let Some(path) = path else {
            return Self::from_json_with("{}", env);
        };
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io(path.display().to_string(), e))?;
        let (mut config, warnings) = Self::from_json_with(&text, env)?;
        config.file = std::path::absolute(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string();
        Ok((config, warnings))
    }

    /// The effective configuration with the original's key spellings and JSON types (its `/v1/config`,
    /// less `SOASerial`, which belongs to the records: the HTTP API adds it), secrets redacted, plus
    /// our `PTROn` and `StateSource`. Keys match case-insensitively, so the result loads again through
    /// [`Config::from_json`].
    pub fn to_json(&self) -> Value {
        let members = keys::KEYS.iter().filter_map(|k| k.json);
        Value::Object(members.map(|(name, value)| (name.to_string(), value(self))).collect())
    }
}

/// Reads every key over the defaults, in the table's order, checking each value as it is read, then
/// the rules that tie several keys together.
fn build(f: &Fields, warnings: &mut Vec<String>) -> Result<Config, ConfigError> {
    let mut c = Config::default();
    for key in keys::KEYS {
        (key.read)(f.field(key.name), &mut c, warnings)?;
    }
    check_relations(&c)?;
    Ok(c)
}

/// The rules that involve more than one key (but for `mesosAuthentication`'s, which its reader checks).
fn check_relations(c: &Config) -> Result<(), ConfigError> {
    if c.masters.is_empty() && c.zk.is_none() {
        return Err(field(
            "masters",
            "no Mesos master to ask: give `masters` (host:port list) or `zk`",
        ));
    }
    if !c.dns_on && !c.http_on {
        return Err(field(
            "dnson",
            "`dnson` and `httpon` are both false: there would be nothing to serve",
        ));
    }
    if c.cert_file.is_empty() != c.key_file.is_empty() {
        let (key, other) = if c.cert_file.is_empty() {
            ("certFile", "keyFile")
        } else {
            ("keyFile", "certFile")
        };
        return Err(field(
            key,
            format!("`{other}` is set, so `{key}` must be too (a client certificate needs both)"),
        ));
    }
    Ok(())
}

pub(crate) fn field(key: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Field {
        key,
        problem: problem.into(),
    }
}

/// A JSON value as it appears in a message, cut short if long.
pub(crate) fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 60 {
        return s;
    }
    let cut: String = s.chars().take(57).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests;
