//! How the masters are reached: the URL scheme, the TLS trust and client certificate (`mesosHTTPSOn`,
//! `caCertFile`, `certFile`, `keyFile`) and authentication: HTTP basic (`mesosAuthentication: "basic"`
//! with `mesosCredentials`) or an IAM token (`"iam"` with `IAMConfigFile`, see [`super::iam`]).
//!
//! Files are read and checked once, when the config is loaded or reloaded, so that a missing or
//! unreadable certificate or key is reported naming its key instead of failing every refresh. Without
//! `caCertFile` the system's CA bundle is trusted, found as Go's `crypto/x509` finds it (`SSL_CERT_FILE`,
//! then the distributions' usual paths). The original skips certificate checks then; we keep checking,
//! and a failed check says to set `caCertFile` ([`Untrusted`]). Secrets only live in the prepared
//! `Authorization` value and the IAM key, which no `Debug` or log line shows.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ureq::http::Response;
use ureq::tls::{parse_pem, Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig, TlsProvider};
use ureq::Body;

use super::error::IamError;
pub(crate) use super::error::{AccessError, Untrusted};
use super::iam::{IamLogin, ServiceAccount};
use crate::base64;
use crate::config::{Auth as AuthSetting, Config};

/// Scheme, TLS settings and credentials for requests to the masters. Clones share the IAM token.
#[derive(Clone, Default)]
pub(crate) struct Access {
    /// `Some` with HTTPS; `None` for plain HTTP.
    tls: Option<TlsConfig>,
    /// Whether certificates are checked against the system bundle (no `caCertFile`).
    system_bundle: bool,
    auth: Auth,
}

/// How requests prove who sends them.
#[derive(Clone, Default)]
enum Auth {
    #[default]
    None,
    /// The `Authorization` header value (`Basic ...`).
    Basic(String),
    /// `Authorization: token=...` from the service account's logins.
    Iam(Arc<IamLogin>),
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            Auth::None => "none",
            Auth::Basic(_) => "basic",
            Auth::Iam(_) => "iam",
        };
        f.debug_struct("Access")
            .field("https", &self.tls.is_some())
            .field("authentication", &auth)
            .finish()
    }
}

/// How long connecting to one master may take (bounded by `stateTimeoutSeconds` when that is shorter):
/// a master that does not answer SYNs should not use up the whole state timeout before the next is tried.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request to a master was not sent or got no answer.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The IAM login that had to come first failed.
    Login(IamError),
    /// The request itself failed.
    Http(ureq::Error),
}

impl Access {
    /// Plain HTTP without credentials.
    #[cfg(test)]
    pub(crate) fn plain() -> Access {
        Access::default()
    }

    /// Reads the certificate and service account files the config names and prepares the credentials.
    pub(crate) fn from_config(config: &Config) -> Result<Access, AccessError> {
        let account = match &config.mesos_authentication {
            AuthSetting::Iam { config_file } => Some(ServiceAccount::load(config_file)?),
            _ => None,
        };
        // An https:// login endpoint is reached with the masters' TLS settings even over plain HTTP.
        let login_tls = account.as_ref().is_some_and(ServiceAccount::logs_in_over_https);
        let tls = if config.mesos_https_on || login_tls {
            Some(tls_config(config)?)
        } else {
            for (key, value) in [
                ("caCertFile", &config.ca_cert_file),
                ("certFile", &config.cert_file),
                ("keyFile", &config.key_file),
            ] {
                if !value.is_empty() {
                    log::warn!("config key `{key}` is set but `mesosHTTPSOn` is false: not used");
                }
            }
            None
        };
        let system_bundle = config.ca_cert_file.is_empty();
        let auth = match (&config.mesos_authentication, account) {
            (AuthSetting::Basic(creds), _) => Auth::Basic(basic_authorization(&creds.principal, &creds.secret)),
            (_, Some(account)) => {
                let timeout =
                    (config.state_timeout_seconds > 0).then(|| Duration::from_secs(config.state_timeout_seconds));
                let agent = agent_config(tls.as_ref())
                    .timeout_global(timeout)
                    .timeout_connect(Some(timeout.map_or(CONNECT_TIMEOUT, |t| t.min(CONNECT_TIMEOUT))))
                    .build()
                    .new_agent();
                Auth::Iam(Arc::new(IamLogin::new(account, agent, system_bundle)))
            }
            _ => Auth::None,
        };
        Ok(Access {
            tls: tls.filter(|_| config.mesos_https_on),
            system_bundle,
            auth,
        })
    }

    /// `https` or `http`.
    pub(crate) fn scheme(&self) -> &'static str {
        match self.tls {
            Some(_) => "https",
            None => "http",
        }
    }

    /// The HTTP client settings every request to a master shares: these TLS settings, statuses and
    /// redirects left to the caller (a redirect names an address learnt from the network, which goes
    /// through the follow filter), no pooled connections (one request per refresh: a fresh connection is
    /// cheap and never a stale one), our user agent. Callers add their timeouts.
    pub(crate) fn agent_config(&self) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
        agent_config(self.tls.as_ref())
    }

    /// The certificate failure in `e`, if that is what it is, with what was trusted.
    pub(crate) fn untrusted(&self, e: &ureq::Error) -> Option<Untrusted> {
        super::crypto::untrusted(e, self.system_bundle)
    }

    /// The config key that holds the credentials (for messages about a refused request).
    pub(crate) fn credentials_key(&self) -> &'static str {
        match self.auth {
            Auth::None => "mesosAuthentication",
            Auth::Basic(_) => "mesosCredentials",
            Auth::Iam(_) => super::iam::FILE_KEY,
        }
    }

    /// The `Authorization` header value to send now, if any (with IAM: the cached token, or a fresh
    /// login's).
    pub(crate) fn authorization(&self) -> Result<Option<String>, IamError> {
        match &self.auth {
            Auth::None => Ok(None),
            Auth::Basic(value) => Ok(Some(value.clone())),
            Auth::Iam(login) => login.authorization().map(Some),
        }
    }

    /// Sends a request that `send` makes with the `Authorization` value it is given ([`with_authorization`]).
    /// With IAM, a 401 means the master refused the token (revoked, expired early, a new key): the
    /// request is sent once more after a new login.
    pub(crate) fn send(
        &self,
        mut send: impl FnMut(Option<&str>) -> Result<Response<Body>, ureq::Error>,
    ) -> Result<Response<Body>, SendError> {
        let header = self.authorization().map_err(SendError::Login)?;
        let resp = send(header.as_deref()).map_err(SendError::Http)?;
        let (Auth::Iam(login), Some(refused)) = (&self.auth, &header) else {
            return Ok(resp);
        };
        if resp.status().as_u16() != 401 {
            return Ok(resp);
        }
        log::info!("the master refused the IAM token (HTTP 401): logging in again");
        login.refused(refused);
        let header = login.authorization().map_err(SendError::Login)?;
        send(Some(&header)).map_err(SendError::Http)
    }
}

/// `request` with an `Authorization` header when there is a value for it.
pub(crate) fn with_authorization<B>(request: ureq::RequestBuilder<B>, value: Option<&str>) -> ureq::RequestBuilder<B> {
    match value {
        Some(value) => request.header("Authorization", value),
        None => request,
    }
}

fn agent_config(tls: Option<&TlsConfig>) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    let mut config = ureq::Agent::config_builder();
    if let Some(tls) = tls {
        config = config.tls_config(tls.clone());
    }
    config
        .http_status_as_error(false)
        .max_redirects(0)
        .max_idle_connections(0)
        .user_agent(concat!("mesos-dns/", env!("CARGO_PKG_VERSION")))
}

/// The trusted CAs (`caCertFile`, else the system bundle) and the client certificate, read now.
fn tls_config(config: &Config) -> Result<TlsConfig, AccessError> {
    let roots = match config.ca_cert_file.as_str() {
        "" => {
            let from_env = std::env::var("SSL_CERT_FILE").ok();
            let path = system_bundle(from_env.as_deref(), SYSTEM_BUNDLES).ok_or_else(|| AccessError {
                key: "caCertFile",
                problem: "no CA file given and no system CA bundle found (SSL_CERT_FILE, /etc/ssl/certs/...)".into(),
            })?;
            read_certificates("caCertFile", &path)?
        }
        path => read_certificates("caCertFile", path)?,
    };
    let client_cert = match (config.cert_file.as_str(), config.key_file.as_str()) {
        ("", "") => None,
        (cert, key) => Some(ClientCert::new_with_certs(
            &read_certificates("certFile", cert)?,
            read_private_key("keyFile", key)?,
        )),
    };
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(super::crypto::provider()))
        .root_certs(RootCerts::new_with_certs(&roots))
        .client_cert(client_cert)
        .build())
}

/// Where Linux distributions keep the system CA bundle (the list Go's `crypto/x509` tries).
pub(crate) const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",                            // openSUSE
    "/etc/pki/tls/cacert.pem",                           // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
    "/etc/ssl/cert.pem",                                 // Alpine
];

/// The system CA bundle: `SSL_CERT_FILE` when set, else the first of `candidates` that exists.
pub(crate) fn system_bundle(ssl_cert_file: Option<&str>, candidates: &[&str]) -> Option<String> {
    if let Some(path) = ssl_cert_file.filter(|p| !p.is_empty()) {
        return Some(path.to_owned());
    }
    candidates
        .iter()
        .find(|p| Path::new(p).is_file())
        .map(|p| (*p).to_owned())
}

/// `Basic base64(principal:secret)` (RFC 7617).
pub(crate) fn basic_authorization(principal: &str, secret: &str) -> String {
    let mut out = String::from("Basic ");
    base64::encode_standard_into(format!("{principal}:{secret}").as_bytes(), &mut out);
    out
}

fn read_pem(key: &'static str, path: &str) -> Result<Vec<PemItem<'static>>, AccessError> {
    let bytes = std::fs::read(Path::new(path)).map_err(|e| AccessError {
        key,
        problem: format!("cannot read {path}: {e}"),
    })?;
    parse_pem(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AccessError {
            key,
            problem: format!("{path} is not valid PEM: {e}"),
        })
}

fn read_certificates(key: &'static str, path: &str) -> Result<Vec<Certificate<'static>>, AccessError> {
    let certs: Vec<_> = read_pem(key, path)?
        .into_iter()
        .filter_map(|item| match item {
            PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(AccessError {
            key,
            problem: format!("{path} holds no PEM certificate"),
        });
    }
    Ok(certs)
}

fn read_private_key(key: &'static str, path: &str) -> Result<PrivateKey<'static>, AccessError> {
    read_pem(key, path)?
        .into_iter()
        .find_map(|item| match item {
            PemItem::PrivateKey(k) => Some(k),
            _ => None,
        })
        .ok_or_else(|| AccessError {
            key,
            problem: format!("{path} holds no PEM private key"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Credentials;

    #[test]
    fn basic_authorization_is_rfc_7617() {
        // RFC 7617 section 2's example.
        assert_eq!(
            basic_authorization("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn plain_config_gives_http_without_credentials() {
        let access = Access::from_config(&Config::default()).unwrap();
        assert_eq!(access.scheme(), "http");
        assert_eq!(access.authorization(), Ok(None));
    }

    #[test]
    fn basic_credentials_become_a_header_that_debug_hides() {
        let config = Config {
            mesos_authentication: AuthSetting::Basic(Credentials {
                principal: "dns".into(),
                secret: "s3cret".into(),
            }),
            ..Config::default()
        };
        let access = Access::from_config(&config).unwrap();
        assert_eq!(access.authorization(), Ok(Some(basic_authorization("dns", "s3cret"))));
        assert_eq!(access.credentials_key(), "mesosCredentials");
        let shown = format!("{access:?}");
        assert!(!shown.contains("ZG5zOnMzY3JldA"), "{shown}");
    }

    #[test]
    fn unreadable_or_empty_pem_files_name_their_key() {
        let https = |ca: &str, cert: &str, key: &str| Config {
            mesos_https_on: true,
            ca_cert_file: ca.into(),
            cert_file: cert.into(),
            key_file: key.into(),
            ..Config::default()
        };
        let e = Access::from_config(&https("/nonexistent/ca.pem", "", "")).unwrap_err();
        assert_eq!(e.key, "caCertFile");
        assert!(e.problem.contains("/nonexistent/ca.pem"), "{e}");
        // A readable file with no certificate in it.
        let e = Access::from_config(&https("/dev/null", "", "")).unwrap_err();
        assert_eq!(e.key, "caCertFile");
        let e = Access::from_config(&https("", "/dev/null", "/dev/null")).unwrap_err();
        assert_eq!(e.key, "certFile");
        // A client certificate without a key.
        let e = Access::from_config(&https("", "", "/nonexistent/key.pem"));
        assert!(e.is_err());
    }

    #[test]
    fn system_bundle_prefers_ssl_cert_file_then_the_first_existing_path() {
        assert_eq!(
            system_bundle(Some("/x/ca.pem"), &["/dev/null"]).as_deref(),
            Some("/x/ca.pem")
        );
        assert_eq!(
            system_bundle(Some(""), &["/nonexistent/a", "/dev/null"]).as_deref(),
            None,
            "/dev/null is not a file"
        );
        let dir = std::env::temp_dir().join(format!("mesos-dns-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bundle = dir.join("ca.pem");
        std::fs::write(&bundle, "").unwrap();
        let path = bundle.to_str().unwrap();
        assert_eq!(system_bundle(None, &["/nonexistent/a", path]).as_deref(), Some(path));
        assert_eq!(system_bundle(None, &["/nonexistent/a"]), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn iam_config(file: &str) -> Config {
        Config {
            mesos_authentication: AuthSetting::Iam {
                config_file: file.into(),
            },
            ..Config::default()
        }
    }

    #[test]
    fn iam_reads_the_service_account_at_load_naming_the_key() {
        let e = Access::from_config(&iam_config("/nonexistent/iam.json")).unwrap_err();
        assert_eq!(e.key, "IAMConfigFile");
        assert!(e.problem.contains("/nonexistent/iam.json"), "{e}");

        let dir = std::env::temp_dir().join(format!("mesos-dns-iam-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("iam.json");
        let account = serde_json::json!({
            "uid": "svc",
            "private_key": include_str!("iam/test-rsa-pkcs8.pem"),
            "login_endpoint": "http://127.0.0.1:1/acs/api/v1/auth/login",
        });
        std::fs::write(&file, account.to_string()).unwrap();
        let access = Access::from_config(&iam_config(file.to_str().unwrap())).unwrap();
        assert_eq!(access.scheme(), "http");
        assert_eq!(access.credentials_key(), "IAMConfigFile");
        let shown = format!("{access:?}");
        assert!(shown.contains("iam") && !shown.contains("MII"), "{shown}");
        // Nothing listens on port 1: the login fails, naming the key and the endpoint.
        let e = access.authorization().unwrap_err().to_string();
        assert!(e.contains("IAMConfigFile") && e.contains("127.0.0.1:1"), "{e}");

        std::fs::write(&file, r#"{"uid": "svc", "login_endpoint": "http://x/"}"#).unwrap();
        let e = Access::from_config(&iam_config(file.to_str().unwrap())).unwrap_err();
        assert_eq!(e.key, "IAMConfigFile");
        assert!(e.problem.contains("`private_key`"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn certificate_failures_say_what_was_trusted() {
        let e = |error: rustls::Error| ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, error));
        let unknown = e(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        ));
        let from_system = crate::mesos::crypto::untrusted(&unknown, true).unwrap().to_string();
        assert!(
            from_system.contains("UnknownIssuer") && from_system.contains("set `caCertFile` to the masters' CA"),
            "{from_system}"
        );
        let from_file = crate::mesos::crypto::untrusted(&unknown, false).unwrap().to_string();
        assert!(from_file.contains("against `caCertFile`"), "{from_file}");
        assert!(!from_file.contains("set `caCertFile`"), "{from_file}");
        let direct = ureq::Error::Rustls(rustls::Error::InvalidCertificate(rustls::CertificateError::Expired));
        assert!(crate::mesos::crypto::untrusted(&direct, true).is_some());
        // Other TLS and network failures are not certificate problems.
        assert!(crate::mesos::crypto::untrusted(&e(rustls::Error::HandshakeNotComplete), true).is_none());
        assert!(crate::mesos::crypto::untrusted(&ureq::Error::HostNotFound, true).is_none());
    }
}
