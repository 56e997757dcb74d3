//! The errors of reaching the masters, apart from the code that makes them: a TLS or credentials
//! setting that cannot be used ([`AccessError`]), a certificate that did not verify ([`Untrusted`]) and a
//! failed IAM login ([`IamError`]). A leaf, so that the pure leader search ([`super::leader`]) names
//! them without importing the TLS and login modules.

use std::fmt;

/// The config key of the DC/OS service-account file.
pub(crate) const IAM_FILE_KEY: &str = "IAMConfigFile";

/// A TLS or credentials setting that cannot be used; the message names the config key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessError {
    pub key: &'static str,
    pub problem: String,
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config key `{}`: {}", self.key, self.problem)
    }
}

impl std::error::Error for AccessError {}

/// A peer whose certificate did not verify, and what it was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Untrusted {
    /// What rustls says (`invalid peer certificate: UnknownIssuer`).
    pub detail: String,
    /// Checked against the system bundle (`caCertFile` empty), not a file the config names.
    pub system_bundle: bool,
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.system_bundle {
            write!(
                f,
                "TLS certificate check failed ({}) against the system CA bundle: set `caCertFile` to the masters' CA",
                self.detail
            )
        } else {
            write!(f, "TLS certificate check failed ({}) against `caCertFile`", self.detail)
        }
    }
}

/// Why a login gave no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LoginProblem {
    /// The login JWT could not be signed.
    Sign(String),
    /// The endpoint's certificate did not verify.
    Untrusted(Untrusted),
    /// Connecting, sending or reading failed.
    Network(String),
    /// An answer other than 200.
    Status(u16),
    /// A 200 without `{"token": "..."}`.
    BadAnswer(String),
}

impl fmt::Display for LoginProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginProblem::Sign(e) => write!(f, "cannot sign the login token with `private_key`: {e}"),
            LoginProblem::Untrusted(u) => write!(f, "{u}"),
            LoginProblem::Network(e) => write!(f, "{e}"),
            LoginProblem::Status(s @ (401 | 403)) => write!(
                f,
                "HTTP status {s}: the service account was refused (check `uid` and `private_key`)"
            ),
            LoginProblem::Status(s) => write!(f, "HTTP status {s}"),
            LoginProblem::BadAnswer(e) => write!(f, "the answer is not {{\"token\": ...}}: {e}"),
        }
    }
}

/// A failed login, naming the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IamError {
    pub endpoint: String,
    pub problem: LoginProblem,
}

impl fmt::Display for IamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IAM login (see `{IAM_FILE_KEY}`) at {} failed: {}",
            self.endpoint, self.problem
        )
    }
}

impl std::error::Error for IamError {}
