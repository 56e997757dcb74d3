//! `config.json`: the original Mesos-DNS configuration file, parsed case-insensitively, with the original's
//! defaults, validated up front so that every bad value is reported with the key that holds it.
//!
//! This module owns reading the document, the defaults, every check on a value and the effective
//! configuration as JSON (for `/v1/config`). It does not read `/etc/resolv.conf` (an empty `resolvers` is
//! left empty for the forwarder to fill), open files named by the config, or bind anything.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use serde_json::{Map, Value};

mod fields;
mod values;

use fields::{Entries, Fields};
pub use values::parse_resolver;
use values::*;

/// Where a task's addresses come from, in the order of `IPSources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpSource {
    Netinfo,
    Docker,
    Mesos,
    Host,
}

impl IpSource {
    /// The name used in `IPSources`.
    pub fn as_str(self) -> &'static str {
        match self {
            IpSource::Netinfo => "netinfo",
            IpSource::Docker => "docker",
            IpSource::Mesos => "mesos",
            IpSource::Host => "host",
        }
    }

    /// Parses an `IPSources` entry, ignoring case.
    pub fn parse(s: &str) -> Option<IpSource> {
        [IpSource::Netinfo, IpSource::Docker, IpSource::Mesos, IpSource::Host]
            .into_iter()
            .find(|src| src.as_str().eq_ignore_ascii_case(s))
    }
}

/// `stateSource`: how the refresher learns about changes in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateSourceMode {
    /// Fetch the whole state every `refreshSeconds` (the original's only way).
    Poll,
    /// Also keep an operator-API event subscription open and apply its events as they come
    /// ([`crate::stream`]); polling stays as the safety net and the fallback.
    Stream,
}

impl StateSourceMode {
    /// The name used in `stateSource`.
    pub fn as_str(self) -> &'static str {
        match self {
            StateSourceMode::Poll => "poll",
            StateSourceMode::Stream => "stream",
        }
    }
}

/// `mesosCredentials`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub principal: String,
    pub secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("principal", &self.principal)
            .field("secret", &REDACTED)
            .finish()
    }
}

/// What is shown instead of a secret.
pub(crate) const REDACTED: &str = "<redacted>";

/// The effective configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `masters`: `host:port` of every master, as written.
    pub masters: Vec<String>,
    pub zk: String,
    pub zk_detection_timeout: u64,
    pub refresh_seconds: u64,
    pub state_timeout_seconds: u64,
    pub ttl: u32,
    /// `domain`, lower-case, without trailing dot.
    pub domain: String,
    pub port: u16,
    pub listener: IpAddr,
    pub http_listener: IpAddr,
    pub http_port: u16,
    pub dns_on: bool,
    pub http_on: bool,
    /// `resolvers` with the port made explicit (53 by default). Empty: read `/etc/resolv.conf`.
    pub resolvers: Vec<SocketAddr>,
    /// `zoneResolvers`: zone (lower-case, no trailing dot) -> resolvers.
    pub zone_resolvers: BTreeMap<String, Vec<SocketAddr>>,
    pub timeout: u64,
    pub external_on: bool,
    pub recurse_on: bool,
    /// `SOAMname`, fully qualified lower-case (`ns1.mesos.`).
    pub soa_mname: String,
    /// `SOARname` (or the old `email`, `@` made a dot), fully qualified lower-case.
    pub soa_rname: String,
    pub soa_refresh: u32,
    pub soa_retry: u32,
    pub soa_expire: u32,
    pub soa_minttl: u32,
    pub srv_record_default_weight: u16,
    pub ip_sources: Vec<IpSource>,
    pub enforce_rfc952: bool,
    pub set_truncate_bit: bool,
    pub enumeration_on: bool,
    /// `PTROn` (ours): answer reverse lookups of task and agent addresses (PTR records).
    pub ptr_on: bool,
    pub mesos_https_on: bool,
    pub ca_cert_file: String,
    pub cert_file: String,
    pub key_file: String,
    pub mesos_authentication: String,
    pub mesos_credentials: Option<Credentials>,
    pub iam_config_file: String,
    /// `stateSource` (ours, not the original's): `poll` (default) or `stream`.
    pub state_source: StateSourceMode,
    /// The absolute path of the file this was loaded from (the original's `File`); empty when parsed
    /// from text.
    pub file: String,
}

/// A config file that cannot be used; the message names the offending key.
#[derive(Debug)]
pub enum ConfigError {
    Io(String, std::io::Error),
    Json(serde_json::Error),
    Field { key: &'static str, problem: String },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Io(path, e) => write!(f, "cannot read config file {path}: {e}"),
            ConfigError::Json(e) => write!(f, "config file is not valid JSON: {e}"),
            ConfigError::Field { key, problem } => write!(f, "config key `{key}`: {problem}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Default for Config {
    /// The original's defaults, except `resolvers`: empty (read `/etc/resolv.conf`), never `8.8.8.8`.
    fn default() -> Config {
        Config {
            masters: Vec::new(),
            zk: String::new(),
            zk_detection_timeout: 30,
            refresh_seconds: 60,
            state_timeout_seconds: 300,
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
            external_on: true,
            recurse_on: true,
            soa_mname: "ns1.mesos.".into(),
            soa_rname: "root.ns1.mesos.".into(),
            soa_refresh: 60,
            soa_retry: 600,
            soa_expire: 86400,
            soa_minttl: 60,
            srv_record_default_weight: 1,
            ip_sources: vec![IpSource::Netinfo, IpSource::Mesos, IpSource::Host],
            enforce_rfc952: false,
            set_truncate_bit: true,
            enumeration_on: true,
            ptr_on: false,
            mesos_https_on: false,
            ca_cert_file: String::new(),
            cert_file: String::new(),
            key_file: String::new(),
            mesos_authentication: String::new(),
            mesos_credentials: None,
            iam_config_file: String::new(),
            state_source: StateSourceMode::Poll,
            file: String::new(),
        }
    }
}

/// Every key the original accepts, spelled as its documentation spells it (the spelling errors use), and
/// ours (`PTROn`).
pub(crate) const KEYS: &[&str] = &[
    "masters",
    "zk",
    "zkDetectionTimeout",
    "refreshSeconds",
    "stateTimeoutSeconds",
    "ttl",
    "domain",
    "port",
    "listener",
    "httpListener",
    "httpport",
    "dnson",
    "httpon",
    "resolvers",
    "zoneResolvers",
    "timeout",
    "externalon",
    "recurseon",
    "SOAMname",
    "SOARname",
    "email",
    "SOASerial",
    "SOARefresh",
    "SOARetry",
    "SOAExpire",
    "SOAMinttl",
    "srvRecordDefaultWeight",
    "IPSources",
    "EnforceRFC952",
    "SetTruncateBit",
    "EnumerationOn",
    "PTROn",
    "mesosHTTPSOn",
    "caCertFile",
    "certFile",
    "keyFile",
    "mesosAuthentication",
    "mesosCredentials",
    "IAMConfigFile",
    "stateSource",
    // The original reports the config file's path under this key; in a file it has no effect.
    "File",
];

/// Seconds are kept below 2^32 so that no later `Instant + Duration` can overflow.
const MAX_SECONDS: u64 = u32::MAX as u64;
/// DNS TTLs are 31-bit (RFC 2181 section 8); the original's field is an `int32`.
const MAX_TTL: u32 = i32::MAX as u32;
/// What a resolver `timeout` of 0 means: the original then uses its default, 5 s.
const ZERO_TIMEOUT_MEANS: u64 = 5;

impl Config {
    /// Parses and validates a config document. Also returns warnings (unknown keys, values that are
    /// accepted but probably not meant) for the caller to log.
    pub fn from_json(text: &str) -> Result<(Config, Vec<String>), ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let Entries(entries) = serde_json::from_str(text).map_err(ConfigError::Json)?;
        let mut warnings = Vec::new();
        let fields = Fields::new(entries, &mut warnings);
        let config = build(&fields, &mut warnings)?;
        Ok((config, warnings))
    }

    /// Reads and parses a config file, remembering its absolute path (`File`).
    pub fn load(path: &Path) -> Result<(Config, Vec<String>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io(path.display().to_string(), e))?;
        let (mut config, warnings) = Self::from_json(&text)?;
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
        let strings = |v: &[SocketAddr]| Value::from(v.iter().map(|a| a.to_string()).collect::<Vec<_>>());
        let zones: Map<String, Value> = self
            .zone_resolvers
            .iter()
            .map(|(z, rs)| (z.clone(), strings(rs)))
            .collect();
        let (principal, secret) = match &self.mesos_credentials {
            Some(c) => (c.principal.as_str(), REDACTED),
            None => ("", ""),
        };
        let credentials = Map::from_iter([
            ("Principal".to_string(), Value::from(principal)),
            ("Secret".to_string(), Value::from(secret)),
        ]);
        let ip_sources: Vec<&str> = self.ip_sources.iter().map(|s| s.as_str()).collect();

        let entries: Vec<(&str, Value)> = vec![
            ("Masters", self.masters.clone().into()),
            ("Zk", redact_zk(&self.zk).into()),
            ("ZkDetectionTimeout", self.zk_detection_timeout.into()),
            ("RefreshSeconds", self.refresh_seconds.into()),
            ("StateTimeoutSeconds", self.state_timeout_seconds.into()),
            ("TTL", self.ttl.into()),
            ("Domain", self.domain.clone().into()),
            ("File", self.file.clone().into()),
            ("Port", self.port.into()),
            ("Listener", self.listener.to_string().into()),
            ("HTTPListener", self.http_listener.to_string().into()),
            ("HttpPort", self.http_port.into()),
            ("DnsOn", self.dns_on.into()),
            ("HttpOn", self.http_on.into()),
            ("Resolvers", strings(&self.resolvers)),
            ("ZoneResolvers", Value::Object(zones)),
            ("Timeout", self.timeout.into()),
            ("ExternalOn", self.external_on.into()),
            ("RecurseOn", self.recurse_on.into()),
            ("SOAMname", self.soa_mname.clone().into()),
            ("SOARname", self.soa_rname.clone().into()),
            ("SOARefresh", self.soa_refresh.into()),
            ("SOARetry", self.soa_retry.into()),
            ("SOAExpire", self.soa_expire.into()),
            ("SOAMinttl", self.soa_minttl.into()),
            ("SRVRecordDefaultWeight", self.srv_record_default_weight.into()),
            ("IPSources", ip_sources.into()),
            ("EnforceRFC952", self.enforce_rfc952.into()),
            ("SetTruncateBit", self.set_truncate_bit.into()),
            ("EnumerationOn", self.enumeration_on.into()),
            ("PTROn", self.ptr_on.into()),
            ("MesosHTTPSOn", self.mesos_https_on.into()),
            ("CACertFile", self.ca_cert_file.clone().into()),
            ("CertFile", self.cert_file.clone().into()),
            ("KeyFile", self.key_file.clone().into()),
            ("MesosAuthentication", self.mesos_authentication.clone().into()),
            ("MesosCredentials", Value::Object(credentials)),
            ("IAMConfigFile", self.iam_config_file.clone().into()),
            ("StateSource", self.state_source.as_str().into()),
        ];
        Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
}

/// Reads every field over the defaults, checking each value as it is read, then the rules that tie
/// several fields together.
fn build(f: &Fields, warnings: &mut Vec<String>) -> Result<Config, ConfigError> {
    let mut c = Config::default();

    if let Some(v) = f.strings("masters")? {
        c.masters = v;
    }
    if let Some(v) = f.string("zk")? {
        c.zk = v;
    }
    if let Some(v) = f.int("zkDetectionTimeout", false, MAX_SECONDS)? {
        c.zk_detection_timeout = v;
    }
    if let Some(v) = f.string("stateSource")? {
        c.state_source = match v.to_ascii_lowercase().as_str() {
            "poll" => StateSourceMode::Poll,
            "stream" => StateSourceMode::Stream,
            _ => {
                return Err(field(
                    "stateSource",
                    format!("expected \"poll\" or \"stream\", got {v:?}"),
                ))
            }
        };
    }
    if let Some(v) = f.int("refreshSeconds", true, MAX_SECONDS)? {
        c.refresh_seconds = v;
    }
    if let Some(v) = f.int("stateTimeoutSeconds", true, MAX_SECONDS)? {
        c.state_timeout_seconds = v;
    }
    // 0 is a valid TTL (RFC 2181 section 8: answers not to be cached), as in the original.
    if let Some(v) = f.int("ttl", false, MAX_TTL)? {
        c.ttl = v;
    }
    if let Some(v) = f.string("domain")? {
        c.domain = normalize_domain(&v).map_err(|p| field("domain", p))?;
    }
    if let Some(v) = f.int("port", false, u16::MAX)? {
        c.port = v;
    }
    if let Some(v) = f.string("listener")? {
        c.listener = parse_listen_ip(&v).map_err(|p| field("listener", p))?;
    }
    if let Some(v) = f.string("httpListener")? {
        c.http_listener = parse_listen_ip(&v).map_err(|p| field("httpListener", p))?;
    }
    if let Some(v) = f.int("httpport", false, u16::MAX)? {
        c.http_port = v;
    }
    if let Some(v) = f.bool("dnson")? {
        c.dns_on = v;
    }
    if let Some(v) = f.bool("httpon")? {
        c.http_on = v;
    }
    if let Some(v) = f.strings("resolvers")? {
        c.resolvers = parse_resolvers(&v).map_err(|p| field("resolvers", p))?;
    }
    if let Some(v) = f.get("zoneResolvers") {
        c.zone_resolvers = parse_zone_resolvers(v, &c.domain).map_err(|p| field("zoneResolvers", p))?;
    }
    if let Some(v) = f.int("timeout", false, MAX_SECONDS)? {
        c.timeout = v;
        if v == 0 {
            c.timeout = ZERO_TIMEOUT_MEANS;
            warnings.push(format!(
                "config key `timeout` is 0: using the default, {ZERO_TIMEOUT_MEANS} s, as the original does"
            ));
        }
    }
    if let Some(v) = f.bool("externalon")? {
        c.external_on = v;
    }
    if let Some(v) = f.bool("recurseon")? {
        c.recurse_on = v;
    }
    if let Some(v) = f.string("SOAMname")? {
        c.soa_mname = normalize_soa_name(&v).map_err(|p| field("SOAMname", p))?;
    }
    // `email` is the oldest spelling of SOARname; when both are given, SOARname wins.
    if let Some(v) = f.string("email")? {
        c.soa_rname = normalize_soa_name(&v).map_err(|p| field("email", p))?;
    }
    if let Some(v) = f.string("SOARname")? {
        c.soa_rname = normalize_soa_name(&v).map_err(|p| field("SOARname", p))?;
    }
    // The serial is the time of each refresh; a configured one is checked but has no effect (as in the original).
    f.int("SOASerial", false, u32::MAX)?;
    if let Some(v) = f.int("SOARefresh", false, u32::MAX)? {
        c.soa_refresh = v;
    }
    if let Some(v) = f.int("SOARetry", false, u32::MAX)? {
        c.soa_retry = v;
    }
    if let Some(v) = f.int("SOAExpire", false, u32::MAX)? {
        c.soa_expire = v;
    }
    if let Some(v) = f.int("SOAMinttl", false, u32::MAX)? {
        c.soa_minttl = v;
    }
    if let Some(v) = f.int("srvRecordDefaultWeight", false, u16::MAX)? {
        c.srv_record_default_weight = v;
    }
    if let Some(v) = f.strings("IPSources")? {
        c.ip_sources = parse_ip_sources(&v).map_err(|p| field("IPSources", p))?;
    }
    if let Some(v) = f.bool("EnforceRFC952")? {
        c.enforce_rfc952 = v;
    }
    if let Some(v) = f.bool("SetTruncateBit")? {
        c.set_truncate_bit = v;
    }
    if let Some(v) = f.bool("EnumerationOn")? {
        c.enumeration_on = v;
    }
    if let Some(v) = f.bool("PTROn")? {
        c.ptr_on = v;
    }
    if let Some(v) = f.bool("mesosHTTPSOn")? {
        c.mesos_https_on = v;
    }
    if let Some(v) = f.string("caCertFile")? {
        c.ca_cert_file = v;
    }
    if let Some(v) = f.string("certFile")? {
        c.cert_file = v;
    }
    if let Some(v) = f.string("keyFile")? {
        c.key_file = v;
    }
    if let Some(v) = f.string("IAMConfigFile")? {
        c.iam_config_file = v;
    }
    if let Some(v) = f.string("mesosAuthentication")? {
        c.mesos_authentication = v.to_ascii_lowercase();
    }
    if let Some(v) = f.get("mesosCredentials") {
        c.mesos_credentials = parse_credentials(v, warnings).map_err(|p| field("mesosCredentials", p))?;
    }

    check_relations(&c, warnings)?;
    Ok(c)
}

/// The rules that involve more than one key.
fn check_relations(c: &Config, warnings: &mut Vec<String>) -> Result<(), ConfigError> {
    if c.masters.is_empty() && c.zk.is_empty() {
        return Err(field(
            "masters",
            "no Mesos master to ask: give `masters` (host:port list) or `zk`",
        ));
    }
    let mut seen = Vec::with_capacity(c.masters.len());
    for m in &c.masters {
        let normal = normalize_master(m).map_err(|p| field("masters", format!("`{m}` is not host:port: {p}")))?;
        if seen.contains(&normal) {
            return Err(field("masters", format!("`{m}` is listed twice")));
        }
        seen.push(normal);
    }
    if !c.zk.is_empty() {
        check_zk(&c.zk).map_err(|p| field("zk", p))?;
    }
    if !c.dns_on && !c.http_on {
        return Err(field(
            "dnson",
            "`dnson` and `httpon` are both false: there would be nothing to serve",
        ));
    }
    match c.mesos_authentication.as_str() {
        "" => {
            if c.mesos_credentials.as_ref().is_some_and(|cr| !cr.principal.is_empty()) {
                warnings.push(
                    "config key `mesosCredentials` is set but `mesosAuthentication` is not `basic`: not used".into(),
                );
            }
            if !c.iam_config_file.is_empty() {
                warnings
                    .push("config key `IAMConfigFile` is set but `mesosAuthentication` is not `iam`: not used".into());
            }
        }
        "basic" => {
            if !c.mesos_credentials.as_ref().is_some_and(|cr| !cr.principal.is_empty()) {
                return Err(field(
                    "mesosCredentials",
                    "`mesosAuthentication` is `basic`, which needs `mesosCredentials` with a `principal`",
                ));
            }
            if !c.iam_config_file.is_empty() {
                warnings
                    .push("config key `IAMConfigFile` is set but `mesosAuthentication` is `basic`: not used".into());
            }
        }
        "iam" => {
            // The file itself is read with the other files the config names (`mesos::access`).
            if c.iam_config_file.is_empty() {
                return Err(field(
                    "IAMConfigFile",
                    "`mesosAuthentication` is `iam`, which needs `IAMConfigFile`",
                ));
            }
            if c.mesos_credentials.as_ref().is_some_and(|cr| !cr.principal.is_empty()) {
                warnings
                    .push("config key `mesosCredentials` is set but `mesosAuthentication` is `iam`: not used".into());
            }
        }
        other => {
            return Err(field(
                "mesosAuthentication",
                format!("expected \"\", \"basic\" or \"iam\", got {}", show(&Value::from(other))),
            ));
        }
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
