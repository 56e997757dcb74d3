//! The typed values [`Config`](super::Config) holds besides std types: the IP sources, the state
//! source, the credentials and the authentication they serve. Each is parsed once when the config is
//! read, so nothing downstream parses a config string again.

use std::fmt;

/// What is shown instead of a secret.
pub(crate) const REDACTED: &str = "<redacted>";

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
    /// ([`crate::refresh::stream`]); polling stays as the safety net and the fallback.
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

    /// Parses a `stateSource` value, ignoring case.
    pub fn parse(s: &str) -> Option<StateSourceMode> {
        [StateSourceMode::Poll, StateSourceMode::Stream]
            .into_iter()
            .find(|mode| mode.as_str().eq_ignore_ascii_case(s))
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

/// `mesosAuthentication` with what it needs, checked when the config is read: how requests to the
/// masters prove who sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// `""`: no credentials are sent.
    #[default]
    None,
    /// `"basic"`: HTTP basic authentication with `mesosCredentials`, which have a principal.
    Basic(Credentials),
    /// `"iam"`: an IAM token for the service account in `IAMConfigFile` (a path given; the file is
    /// read with the other files the config names, by `mesos::access`).
    Iam { config_file: String },
}

impl Auth {
    /// The name used in `mesosAuthentication`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Auth::None => "",
            Auth::Basic(_) => "basic",
            Auth::Iam { .. } => "iam",
        }
    }
}

/// One of `tsigKeys` (RFC 8945): the key's name (lower-case, fully qualified), its algorithm (only
/// `hmac-sha256`) and the decoded secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    pub name: String,
    pub algorithm: String,
    pub secret: Vec<u8>,
}

impl fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("secret", &REDACTED)
            .finish()
    }
}
