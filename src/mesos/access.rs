//! How the masters are reached: the URL scheme, the TLS trust and client certificate (`mesosHTTPSOn`,
//! `caCertFile`, `certFile`, `keyFile`) and HTTP basic authentication (`mesosAuthentication: "basic"`
//! with `mesosCredentials`).
//!
//! Files are read and checked once, when the config is loaded or reloaded, so that a missing or
//! unreadable certificate is reported naming its key instead of failing every refresh. Without
//! `caCertFile` the system's CA bundle is trusted, found as Go's `crypto/x509` finds it (`SSL_CERT_FILE`,
//! then the distributions' usual paths), which is what the original does. The secret only lives in the
//! prepared `Authorization` value, which no `Debug` or log line shows.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use ureq::tls::{parse_pem, Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig, TlsProvider};

use crate::config::Config;

/// Scheme, TLS settings and credentials for requests to the masters.
#[derive(Clone, Default)]
pub struct Access {
    /// `Some` with HTTPS; `None` for plain HTTP.
    tls: Option<TlsConfig>,
    /// The `Authorization` header value (`Basic ...`), if any.
    authorization: Option<String>,
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Access")
            .field("https", &self.tls.is_some())
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| crate::config::REDACTED),
            )
            .finish()
    }
}

/// A TLS or credentials setting that cannot be used; the message names the config key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessError {
    pub key: &'static str,
    pub problem: String,
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config key `{}`: {}", self.key, self.problem)
    }
}

impl std::error::Error for AccessError {}

impl Access {
    /// Plain HTTP without credentials.
    pub fn plain() -> Access {
        Access::default()
    }

    /// Reads the certificate files the config names and prepares the credentials.
    pub fn from_config(config: &Config) -> Result<Access, AccessError> {
        let authorization = match config.mesos_authentication.as_str() {
            "" => None,
            "basic" => {
                let creds = config.mesos_credentials.clone().unwrap_or_default();
                Some(basic_authorization(&creds.principal, &creds.secret))
            }
            other => {
                return Err(AccessError {
                    key: "mesosAuthentication",
                    problem: format!("{other:?} is not supported (only \"basic\")"),
                })
            }
        };
        if !config.mesos_https_on {
            for (key, value) in [
                ("caCertFile", &config.ca_cert_file),
                ("certFile", &config.cert_file),
                ("keyFile", &config.key_file),
            ] {
                if !value.is_empty() {
                    log::warn!("config key `{key}` is set but `mesosHTTPSOn` is false: not used");
                }
            }
            return Ok(Access {
                tls: None,
                authorization,
            });
        }
        let roots = match config.ca_cert_file.as_str() {
            "" => {
                let from_env = std::env::var("SSL_CERT_FILE").ok();
                let path = system_bundle(from_env.as_deref(), SYSTEM_BUNDLES).ok_or_else(|| AccessError {
                    key: "caCertFile",
                    problem: "no CA file given and no system CA bundle found (SSL_CERT_FILE, /etc/ssl/certs/...)"
                        .into(),
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
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .root_certs(RootCerts::new_with_certs(&roots))
            .client_cert(client_cert)
            .build();
        Ok(Access {
            tls: Some(tls),
            authorization,
        })
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        match self.tls {
            Some(_) => "https",
            None => "http",
        }
    }

    /// The TLS settings for the HTTP agent (`None`: ureq's defaults, unused over plain HTTP).
    pub fn tls_config(&self) -> Option<TlsConfig> {
        self.tls.clone()
    }

    /// The HTTP client settings every request to a master shares: these TLS settings, statuses and
    /// redirects left to the caller (a redirect names an address learnt from the network, which goes
    /// through the follow filter), no pooled connections (one request per refresh: a fresh connection is
    /// cheap and never a stale one), our user agent. Callers add their timeouts.
    pub fn agent_config(&self) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
        let mut config = ureq::Agent::config_builder();
        if let Some(tls) = self.tls_config() {
            config = config.tls_config(tls);
        }
        config
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections(0)
            .user_agent(concat!("mesos-dns/", env!("CARGO_PKG_VERSION")))
    }

    /// Adds the `Authorization` header, if there are credentials.
    pub fn authorize<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match self.authorization() {
            Some(value) => request.header("Authorization", value),
            None => request,
        }
    }

    /// The `Authorization` header value to send, if any.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }
}

/// Where Linux distributions keep the system CA bundle (the list Go's `crypto/x509` tries).
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",                            // openSUSE
    "/etc/pki/tls/cacert.pem",                           // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
    "/etc/ssl/cert.pem",                                 // Alpine
];

/// The system CA bundle: `SSL_CERT_FILE` when set, else the first of `candidates` that exists.
pub fn system_bundle(ssl_cert_file: Option<&str>, candidates: &[&str]) -> Option<String> {
    if let Some(path) = ssl_cert_file.filter(|p| !p.is_empty()) {
        return Some(path.to_owned());
    }
    candidates
        .iter()
        .find(|p| Path::new(p).is_file())
        .map(|p| (*p).to_owned())
}

/// `Basic base64(principal:secret)` (RFC 7617).
pub fn basic_authorization(principal: &str, secret: &str) -> String {
    let mut out = String::from("Basic ");
    base64_into(format!("{principal}:{secret}").as_bytes(), &mut out);
    out
}

/// Standard base64 with padding (RFC 4648 section 4).
fn base64_into(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
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
    fn base64_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = String::new();
            base64_into(input.as_bytes(), &mut out);
            assert_eq!(out, want, "{input:?}");
        }
    }

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
        assert_eq!(access.authorization(), None);
    }

    #[test]
    fn basic_credentials_become_a_header_that_debug_hides() {
        let config = Config {
            mesos_authentication: "basic".into(),
            mesos_credentials: Some(Credentials {
                principal: "dns".into(),
                secret: "s3cret".into(),
            }),
            ..Config::default()
        };
        let access = Access::from_config(&config).unwrap();
        assert_eq!(
            access.authorization(),
            Some(basic_authorization("dns", "s3cret").as_str())
        );
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

    #[test]
    fn iam_is_refused_naming_the_key() {
        let config = Config {
            mesos_authentication: "iam".into(),
            iam_config_file: "/etc/iam.json".into(),
            ..Config::default()
        };
        assert_eq!(Access::from_config(&config).unwrap_err().key, "mesosAuthentication");
    }
}
