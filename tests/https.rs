//! HTTPS and basic authentication towards the masters: a fake master over TLS (the shared fake master
//! on rustls's server side) with a certificate from a CA made in the test (`openssl`), requiring basic
//! auth and a client certificate. A wrong CA, a wrong password or a missing client certificate
//! (each applied with SIGHUP) fail the refresh with a clear log line and keep the records. Without
//! `caCertFile` the system bundle is trusted, and a failed check says to set `caCertFile`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use common::*;
use serde_json::{json, Value};

const PRINCIPAL: &str = "mesos-dns";
const SECRET: &str = "s3cret-4-test";

/// A CA (`NAME-ca.pem`) and a certificate it signed for `cn` (`NAME.pem`, `NAME.key`) with `san`.
fn issue(dir: &Path, ca: &str, name: &str, cn: &str, san: &str) {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let ext = format!("{name}.ext");
    std::fs::write(dir.join(&ext), format!("subjectAltName={san}\n")).unwrap();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        dir,
        &[
            &["req"],
            &ec[..],
            &["-keyout", &key, "-out", &csr, "-subj", &format!("/CN={cn}")],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{ca}-ca.pem"),
            "-CAkey",
            &format!("{ca}-ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

fn make_ca(dir: &Path, ca: &str) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        dir,
        &[
            &["req", "-x509"],
            &ec[..],
            &[
                "-keyout",
                &format!("{ca}-ca.key"),
                "-out",
                &format!("{ca}-ca.pem"),
                "-days",
                "2",
                "-subj",
                &format!("/CN={ca} test CA"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    );
}

/// The TLS side of the fake master in `dir`: the certificate `master.pem` (key `master.key`), and
/// client certificates required, signed by `good-ca.pem` (mutual TLS).
fn master_tls(dir: &Path) -> Arc<ServerConfig> {
    let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(dir.join("master.pem"))
        .and_then(|certs| certs.collect())
        .expect("master certificate");
    let key = PrivateKeyDer::from_pem_file(dir.join("master.key")).expect("master key");
    let mut client_ca = RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(dir.join("good-ca.pem")).expect("client CA") {
        client_ca
            .add(ca.expect("client CA certificate"))
            .expect("client CA accepted");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let clients = WebPkiClientVerifier::builder_with_provider(Arc::new(client_ca), provider.clone())
        .build()
        .expect("client verifier");
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_client_cert_verifier(clients)
        .with_single_cert(certs, key)
        .expect("server certificate");
    Arc::new(config)
}

/// `Basic base64(user:password)`, the `Authorization` header of basic authentication (RFC 7617).
fn basic_authorization(user: &str, password: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("Basic ");
    for group in format!("{user}:{password}").as_bytes().chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= group.len() {
                char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

/// A fake master over mutual TLS serving `state`, and its event streams (silent), only with the right
/// basic authentication.
fn https_master(dir: &Path, state: &Value) -> FakeMaster {
    let master = FakeMaster::start_tls(master_tls(dir));
    master.set_state(state.clone());
    master.open_streams();
    let expected = basic_authorization(PRINCIPAL, SECRET);
    master.authorize_with(move |req| req.header("authorization") == Some(expected.as_str()));
    master
}

struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = scratch_dir("https");
        make_ca(&dir, "good");
        make_ca(&dir, "other");
        issue(&dir, "good", "master", "127.0.0.1", "IP:127.0.0.1");
        issue(&dir, "good", "client", "mesos-dns", "DNS:mesos-dns");
        Pki { dir }
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }

    /// A config for `master` over mutual TLS with basic auth (the good CA, the client certificate, the
    /// right credentials), with `extra` keys merged in (a `null` value removes a key).
    fn config(&self, master: &FakeMaster, extra: Value) -> TestConfig {
        let mut config = json!({
            "mesosHTTPSOn": true,
            "caCertFile": self.path("good-ca.pem"),
            "certFile": self.path("client.pem"),
            "keyFile": self.path("client.key"),
            "mesosAuthentication": "basic",
            "mesosCredentials": {"principal": PRINCIPAL, "secret": SECRET},
        });
        if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                c.insert(k.clone(), v.clone());
            }
        }
        TestConfig::write(&[master.addr()], config)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rewrite_config(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut config: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut config);
    std::fs::write(path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
}

fn sighup(server: &Server) {
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(server.pid() as i32, libc::SIGHUP) }, 0);
}

fn failures(server: &Server) -> usize {
    server.log_text().matches("refresh failed").count()
}

/// Applies `edit` with SIGHUP, waits for the refresh it causes to fail, and returns the log lines that
/// failure added; the records must still be served.
fn reload_and_fail(server: &Server, config: &Path, edit: impl FnOnce(&mut Value)) -> String {
    let before = failures(server);
    let seen = server.log_text().len();
    rewrite_config(config, edit);
    sighup(server);
    wait_until("a failed refresh", CHANGE_DEADLINE, || failures(server) > before);
    assert_eq!(
        server.a_records(NGINX),
        vec![NGINX_IP],
        "the last good records are kept"
    );
    server.log_text()[seen..].to_string()
}

#[test]
fn https_master_with_basic_auth_and_client_certificate() {
    let pki = Pki::new();
    let master = https_master(&pki.dir, &tutorial());
    let cfg = pki.config(&master, json!({"refreshSeconds": 3600}));
    // -vv: the most verbose level a user can ask for on the command line must not show the secret.
    let args = ["-vv".to_owned(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir.clone());
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    assert!(server
        .log_text()
        .contains(&format!("https://{}/master/state", master.addr())));

    let wrong_ca = reload_and_fail(&server, &cfg.path, |c| {
        c["caCertFile"] = pki.path("other-ca.pem").into()
    });
    assert!(
        wrong_ca.contains("UnknownIssuer"),
        "names the certificate problem: {wrong_ca}"
    );
    assert!(
        wrong_ca.contains("against `caCertFile`") && !wrong_ca.contains("set `caCertFile`"),
        "says what was trusted: {wrong_ca}"
    );

    let wrong_password = reload_and_fail(&server, &cfg.path, |c| {
        c["caCertFile"] = pki.path("good-ca.pem").into();
        c["mesosCredentials"]["secret"] = "not-the-secret".into();
    });
    assert!(wrong_password.contains("HTTP status 401"), "{wrong_password}");
    assert!(
        wrong_password.contains("mesosCredentials"),
        "says what to check: {wrong_password}"
    );

    let no_client_cert = reload_and_fail(&server, &cfg.path, |c| {
        c["mesosCredentials"]["secret"] = SECRET.into();
        c["certFile"] = "".into();
        c["keyFile"] = "".into();
    });
    assert!(no_client_cert.contains("CertificateRequired"), "{no_client_cert}");

    // Back to the right settings: refreshing works again.
    let before = server.log_text().matches("refreshed records from").count();
    rewrite_config(&cfg.path, |c| {
        c["certFile"] = pki.path("client.pem").into();
        c["keyFile"] = pki.path("client.key").into();
    });
    sighup(&server);
    wait_until("a good refresh after the fix", CHANGE_DEADLINE, || {
        server.log_text().matches("refreshed records from").count() > before
    });

    let log = server.log_text();
    let encoded = "czNjcmV0LTQtdGVzdA"; // base64 of the secret, as it would appear in a header
    assert!(
        !log.contains(SECRET) && !log.contains(encoded),
        "the secret never reaches the log"
    );
}

#[test]
fn unreadable_ca_file_is_a_config_error_naming_the_key() {
    let cfg = TestConfig::write(
        &["127.0.0.1:1".to_owned()],
        json!({"mesosHTTPSOn": true, "caCertFile": "/nonexistent/ca.pem"}),
    );
    let (status, _out, err) = run_to_exit(&[&format!("-config={}", cfg.path.display())]);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("caCertFile") && err.contains("/nonexistent/ca.pem"),
        "{err}"
    );
}

#[test]
fn basic_auth_without_credentials_is_refused_at_start() {
    let cfg = TestConfig::write(&["127.0.0.1:1".to_owned()], json!({"mesosAuthentication": "basic"}));
    let (status, _out, err) = run_to_exit(&[&format!("-config={}", cfg.path.display())]);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("mesosCredentials"), "{err}");
}

#[test]
fn without_ca_cert_file_the_system_bundle_is_trusted() {
    let pki = Pki::new();
    let master = https_master(&pki.dir, &tutorial());
    let cfg = pki.config(&master, json!({"caCertFile": null}));
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    // SSL_CERT_FILE names the system bundle, as for Go programs and OpenSSL.
    let ca = pki.path("good-ca.pem");
    let server = Server::spawn_with_env(&args, cfg.port, cfg.dir.clone(), &[("SSL_CERT_FILE", &ca)]);
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
}

#[test]
fn without_ca_cert_file_a_failed_check_says_to_set_it() {
    // The original skips certificate checks without `caCertFile`; we check against the system bundle,
    // which here (SSL_CERT_FILE) does not hold the masters' CA.
    let pki = Pki::new();
    let master = https_master(&pki.dir, &tutorial());
    let cfg = pki.config(&master, json!({"caCertFile": null}));
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    let other = pki.path("other-ca.pem");
    let server = Server::spawn_with_env(&args, cfg.port, cfg.dir.clone(), &[("SSL_CERT_FILE", &other)]);
    wait_until("a failed refresh", CHANGE_DEADLINE, || failures(&server) > 0);
    let log = server.log_text();
    let line = log.lines().find(|l| l.contains("refresh failed")).unwrap_or_default();
    assert!(
        line.contains("UnknownIssuer") && line.contains("set `caCertFile` to the masters' CA"),
        "{line}"
    );
    assert!(
        server.a_records(NGINX).is_empty(),
        "an unverified master gives no records"
    );
}

#[test]
fn event_stream_subscribes_over_https_with_the_credentials() {
    let pki = Pki::new();
    let master = https_master(&pki.dir, &tutorial());
    let cfg = pki.config(&master, json!({"stateSource": "stream"}));
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir.clone());
    server.wait_loaded();
    // The master answers /api/v1 only over mutual TLS and with the right Authorization header.
    wait_until("an authorized subscription", Duration::from_secs(20), || {
        master.subscriptions() >= 1
    });
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
}
