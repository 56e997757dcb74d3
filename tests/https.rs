//! HTTPS and basic authentication towards the masters: a fake master over TLS (Python's `ssl`, in
//! `tests/support/https_master.py`) with a certificate from a CA made in the test (`openssl`), requiring
//! basic auth and a client certificate. A wrong CA, a wrong password or a missing client certificate
//! (each applied with SIGHUP) fail the refresh with a clear log line and keep the records. Without
//! `caCertFile` the system bundle is trusted, and a failed check says to set `caCertFile`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const PRINCIPAL: &str = "mesos-dns";
const SECRET: &str = "s3cret-4-test";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (apt-get install -y openssl; .ci/run does): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

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

/// The fake master over HTTPS; stopped (its stdin closed, then killed) on drop.
struct HttpsMaster {
    child: Child,
    _stdin: ChildStdin,
    addr: String,
    /// What it prints after "ready" ("subscribed" for each event-stream subscription).
    lines: Receiver<String>,
}

impl HttpsMaster {
    fn start(dir: &Path, state: &Value) -> HttpsMaster {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut state = state.clone();
        state["leader"] = format!("master@{addr}").into();
        state["pid"] = format!("master@{addr}").into();
        std::fs::write(dir.join("state.json"), serde_json::to_vec(&state).unwrap()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/https_master.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([
                "--port",
                &port.to_string(),
                "--cert",
                "master.pem",
                "--key",
                "master.key",
            ])
            .args(["--state", "state.json", "--user", PRINCIPAL, "--password", SECRET])
            .args(["--client-ca", "good-ca.pem"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the fake HTTPS master");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut ready = String::new();
        stdout.read_line(&mut ready).unwrap();
        assert_eq!(ready.trim(), "ready", "the fake HTTPS master started");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        HttpsMaster {
            child,
            _stdin: stdin,
            addr,
            lines,
        }
    }
}

impl Drop for HttpsMaster {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    fn config(&self, master: &HttpsMaster, extra: Value) -> TestConfig {
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
        TestConfig::write(std::slice::from_ref(&master.addr), config)
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
    let master = HttpsMaster::start(&pki.dir, &tutorial());
    let cfg = pki.config(&master, json!({"refreshSeconds": 3600}));
    // -vv: the most verbose level a user can ask for on the command line must not show the secret.
    let args = ["-vv".to_owned(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir.clone());
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    assert!(server
        .log_text()
        .contains(&format!("https://{}/master/state", master.addr)));

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
    let master = HttpsMaster::start(&pki.dir, &tutorial());
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
    let master = HttpsMaster::start(&pki.dir, &tutorial());
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
    let master = HttpsMaster::start(&pki.dir, &tutorial());
    let cfg = pki.config(&master, json!({"stateSource": "stream"}));
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir.clone());
    server.wait_loaded();
    // The master answers /api/v1 only over mutual TLS and with the right Authorization header.
    let line = master.lines.recv_timeout(Duration::from_secs(20));
    assert_eq!(line.as_deref(), Ok("subscribed"), "{}", server.log_text());
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
}
