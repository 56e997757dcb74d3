//! `config.json`: the original Mesos-DNS configuration file, parsed case-insensitively, with the original's
//! defaults, validated up front so that every bad value is reported with the key that holds it.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// Where a task's addresses come from, in the order of `IPSources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpSource {
    Netinfo,
    Docker,
    Mesos,
    Host,
}

/// `mesosCredentials`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub principal: String,
    pub secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("principal", &self.principal).field("secret", &"<redacted>").finish()
    }
}

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
    pub mesos_https_on: bool,
    pub ca_cert_file: String,
    pub cert_file: String,
    pub key_file: String,
    pub mesos_authentication: String,
    pub mesos_credentials: Option<Credentials>,
    pub iam_config_file: String,
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

impl Config {
    /// Parses and validates a config document. Also returns warnings (unknown keys) for the caller to log.
    pub fn from_json(_text: &str) -> Result<(Config, Vec<String>), ConfigError> {
        Err(ConfigError::Field { key: "masters", problem: "not implemented".into() })
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<(Config, Vec<String>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io(path.display().to_string(), e))?;
        Self::from_json(&text)
    }
}
