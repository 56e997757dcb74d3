//! End-to-end: IAM authentication (`mesosAuthentication: "iam"`, DC/OS Enterprise). The real binary
//! logs in at a fake DC/OS login endpoint, which checks the login JWT's RS256 signature with the
//! service account's public key (made by `openssl`, checked with ring) and its claims, and issues
//! tokens; a fake master serves the state and the event stream only to `Authorization: token=<an
//! issued token>`. Covered: polling and the stream carry the token, one login serves many refreshes,
//! a short-lived token is renewed before it runs out, a master's 401 makes it log in again, a failed
//! login fails the refresh (records kept, counted in `/metrics`), and bad service account files fail
//! the config at start (exit status 2) and on SIGHUP (the running settings kept).

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::http::{HttpServer, Reply, Request};
use common::*;
use serde_json::{json, Value};

const UID: &str = "dcos_mesos_dns";
const LOGIN_PATH: &str = "/acs/api/v1/auth/login";

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

// ---------------------------------------------------------------------------------------------------
// The service account's key

/// An RSA key made by `openssl genrsa` (PKCS#8 PEM), and its public half as DER `RSAPublicKey`.
struct Key {
    dir: PathBuf,
    pem: String,
    public_der: Vec<u8>,
}

impl Key {
    fn new() -> Key {
        let dir = scratch_dir("iam");
        openssl(&dir, &["genrsa", "-out", "key.pem", "2048"]);
        openssl(
            &dir,
            &[
                "rsa",
                "-in",
                "key.pem",
                "-RSAPublicKey_out",
                "-outform",
                "DER",
                "-out",
                "public.der",
            ],
        );
        let pem = std::fs::read_to_string(dir.join("key.pem")).unwrap();
        let public_der = std::fs::read(dir.join("public.der")).unwrap();
        Key { dir, pem, public_der }
    }

    /// Writes a service account file for `login` and returns its path.
    fn account_file(&self, login: &str) -> String {
        let path = self.dir.join("iam.json");
        let account = json!({"uid": UID, "private_key": self.pem, "login_endpoint": login, "scheme": "RS256"});
        std::fs::write(&path, account.to_string()).unwrap();
        path.display().to_string()
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// base64url without padding, written here independently of the crate's encoder.
fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn b64url_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits: String = bytes.iter().map(|b| format!("{b:08b}")).collect();
    while bits.len() % 6 != 0 {
        bits.push('0');
    }
    bits.as_bytes()
        .chunks(6)
        .map(|six| {
            let i = six.iter().fold(0usize, |n, b| n * 2 + usize::from(*b == b'1'));
            char::from(ALPHABET[i])
        })
        .collect()
}

/// Checks a login JWT as DC/OS does: RS256 header, signature by the account's key, `uid` and an `exp`
/// an hour ahead. Returns the `exp`, or what is wrong.
fn check_login_jwt(jwt: &str, public_der: &[u8]) -> Result<u64, String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(format!("not three parts: {jwt}"));
    };
    let json = |part: &str| -> Result<Value, String> {
        let bytes = b64url_decode(part).ok_or_else(|| format!("not base64url: {part}"))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))
    };
    if json(header)? != json!({"alg": "RS256", "typ": "JWT"}) {
        return Err(format!("header {}", json(header)?));
    }
    let signature = b64url_decode(signature).ok_or("signature not base64url")?;
    let key = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public_der);
    let signed = &jwt[..header.len() + 1 + claims.len()];
    key.verify(signed.as_bytes(), &signature)
        .map_err(|_| "bad RS256 signature".to_string())?;
    let claims = json(claims)?;
    if claims["uid"] != UID {
        return Err(format!("uid claim {}", claims["uid"]));
    }
    let exp = claims["exp"].as_u64().ok_or("no numeric exp")?;
    let expected = unix_now() + 3600;
    if exp.abs_diff(expected) > 30 {
        return Err(format!("exp {exp}, expected about {expected}"));
    }
    Ok(exp)
}

// ---------------------------------------------------------------------------------------------------
// Fake DC/OS: a login endpoint and a master that wants its tokens

#[derive(Default)]
struct Dcos {
    /// What the login endpoint answers to a valid login; 200 issues a token.
    login_status: u16,
    /// The `exp` of issued tokens, in seconds from the login.
    token_lifetime: u64,
    /// Valid tokens and their `exp`; revoked ones are removed.
    tokens: Vec<(String, u64)>,
    issued: usize,
    logins: usize,
    /// Login attempts that failed our checks, and why.
    bad_logins: Vec<String>,
    state_ok: usize,
    state_refused: usize,
    subscriptions_ok: usize,
    subscriptions_refused: usize,
}

impl Dcos {
    fn valid(&self, authorization: Option<&str>) -> bool {
        let now = unix_now();
        authorization
            .and_then(|a| a.strip_prefix("token="))
            .is_some_and(|t| self.tokens.iter().any(|(token, exp)| token == t && now < *exp))
    }

    /// The master's authorization check: a valid issued token, counted by what it was for.
    fn authorize(&mut self, req: &Request) -> bool {
        let valid = self.valid(req.header("authorization"));
        let counter = match (req.method.as_str(), req.path.as_str(), valid) {
            ("GET", "/master/state" | "/master/state.json", true) => &mut self.state_ok,
            ("GET", "/master/state" | "/master/state.json", false) => &mut self.state_refused,
            ("POST", "/api/v1", true) => &mut self.subscriptions_ok,
            ("POST", "/api/v1", false) => &mut self.subscriptions_refused,
            _ => return valid,
        };
        *counter += 1;
        valid
    }
}

/// A login endpoint and a master that serves the tutorial state, and event streams that stay silent
/// (subscriptions that have not delivered their state yet), only to its tokens.
struct FakeDcos {
    shared: Arc<Mutex<Dcos>>,
    master: FakeMaster,
    login: HttpServer,
}

impl FakeDcos {
    fn start(key: &Key) -> FakeDcos {
        let shared = Arc::new(Mutex::new(Dcos {
            login_status: 200,
            token_lifetime: 3600,
            ..Dcos::default()
        }));
        let (s, public_der) = (shared.clone(), key.public_der.clone());
        let login = HttpServer::start_local("fake-login", move |req, reply| {
            serve_login(&req, reply, &s, &public_der)
        });
        let master = FakeMaster::serving(tutorial());
        master.open_streams();
        let s = shared.clone();
        master.authorize_with(move |req| s.lock().unwrap().authorize(req));
        FakeDcos { shared, master, login }
    }

    fn login_url(&self) -> String {
        format!("http://{}{LOGIN_PATH}", self.login.addr())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Dcos) -> T) -> T {
        f(&mut self.shared.lock().unwrap())
    }

    fn logins(&self) -> usize {
        self.with(|d| d.logins)
    }

    fn state_ok(&self) -> usize {
        self.with(|d| d.state_ok)
    }

    /// Revokes every issued token: the master refuses them from now on.
    fn revoke_all(&self) {
        self.with(|d| d.tokens.clear());
    }

    fn assert_no_bad_logins(&self) {
        let bad = self.with(|d| d.bad_logins.clone());
        assert!(bad.is_empty(), "logins that failed the checks: {bad:?}");
    }
}

fn serve_login(req: &Request, reply: Reply, shared: &Mutex<Dcos>, public_der: &[u8]) {
    let mut d = shared.lock().unwrap();
    let checked = (|| -> Result<(), String> {
        if req.method != "POST" || req.path != LOGIN_PATH {
            return Err(format!("{} {}", req.method, req.path));
        }
        let body: Value = serde_json::from_slice(&req.body).map_err(|e| format!("body not JSON: {e}"))?;
        if body["uid"] != UID {
            return Err(format!("uid {}", body["uid"]));
        }
        check_login_jwt(body["token"].as_str().ok_or("no token")?, public_der).map(|_| ())
    })();
    if let Err(why) = checked {
        d.bad_logins.push(why);
        let _ = reply.send(401, br#"{"title":"Invalid login"}"#);
        return;
    }
    d.logins += 1;
    if d.login_status != 200 {
        let status = d.login_status;
        let _ = reply.send(status, b"{}");
        return;
    }
    // DC/OS tokens are JWTs; ours carry the `exp` the client can read (the signature part is a dummy).
    d.issued += 1;
    let exp = unix_now() + d.token_lifetime;
    let claims = b64url_encode(format!(r#"{{"uid":"{UID}","exp":{exp},"n":{}}}"#, d.issued).as_bytes());
    let token = format!("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.{claims}.c2lnbmF0dXJl");
    d.tokens.push((token.clone(), exp));
    let _ = reply.send(200, json!({ "token": token }).to_string().as_bytes());
}

// ---------------------------------------------------------------------------------------------------
// The server under test

fn iam_config(dcos: &FakeDcos, key: &Key, extra: Value) -> TestConfig {
    let mut config = json!({
        "mesosAuthentication": "iam",
        "IAMConfigFile": key.account_file(&dcos.login_url()),
    });
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    TestConfig::write(&[dcos.master.addr()], config)
}

/// The binary with an IAM config for `dcos` (its scratch directory removed on drop).
fn start(dcos: &FakeDcos, key: &Key, extra: Value) -> Server {
    let cfg = iam_config(dcos, key, extra);
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    Server::spawn(&args, cfg.port, cfg.dir)
}

fn sighup(server: &Server) {
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(server.pid() as i32, libc::SIGHUP) }, 0);
}

fn refresh_failures(server: &Server) -> usize {
    server.log_text().matches("state refresh failed").count()
}

/// GET on the HTTP API; the body.
fn http_get(port: u16, path: &str) -> String {
    let mut conn =
        TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(3)).expect("connect HTTP");
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).expect("read HTTP answer");
    text.split_once("\r\n\r\n").map_or(text.clone(), |(_, b)| b.to_owned())
}

fn failures_counted(http_port: u16) -> u64 {
    let text = http_get(http_port, "/metrics");
    text.lines()
        .find_map(|l| l.strip_prefix("mesos_dns_refreshes_total{result=\"failure\"} "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no failure count in /metrics:\n{text}"))
}

// ---------------------------------------------------------------------------------------------------
// Tests

#[test]
fn polling_logs_in_once_and_sends_the_token_on_every_refresh() {
    let key = Key::new();
    let dcos = FakeDcos::start(&key);
    let server = start(&dcos, &key, json!({}));
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);
    // refreshSeconds is 1: several refreshes, one login.
    wait_until("three authorized state fetches", CHANGE_DEADLINE, || {
        dcos.state_ok() >= 3
    });
    dcos.assert_no_bad_logins();
    assert_eq!(dcos.logins(), 1, "one token serves every refresh");
    assert_eq!(
        dcos.with(|d| d.state_refused),
        0,
        "no request went without a valid token"
    );

    // A broken service account file on SIGHUP is refused; the running token stays in use.
    std::fs::write(
        key.dir.join("iam.json"),
        r#"{"uid": "x", "login_endpoint": "http://127.0.0.1:1/"}"#,
    )
    .unwrap();
    sighup(&server);
    wait_until("the reload to be refused", CHANGE_DEADLINE, || {
        server.log_text().contains("keeping the previous masters")
    });
    let log = server.log_text();
    let refused = log
        .lines()
        .find(|l| l.contains("keeping the previous masters"))
        .unwrap();
    assert!(
        refused.contains("IAMConfigFile") && refused.contains("`private_key`"),
        "{refused}"
    );
    let before = dcos.state_ok();
    wait_until("refreshes after the refused reload", CHANGE_DEADLINE, || {
        dcos.state_ok() >= before + 2
    });
    assert_eq!(dcos.logins(), 1);

    // Neither the issued token nor the key reaches the log.
    let token = dcos.with(|d| d.tokens[0].0.clone());
    let log = server.log_text();
    assert!(!log.contains(&token), "the token is not logged");
    assert!(!log.contains(key.pem.lines().nth(1).unwrap()), "the key is not logged");
}

#[test]
fn event_stream_subscribes_with_the_token() {
    let key = Key::new();
    let dcos = FakeDcos::start(&key);
    let server = start(&dcos, &key, json!({"stateSource": "stream"}));
    server.wait_loaded();
    wait_until("an authorized SUBSCRIBE", CHANGE_DEADLINE, || {
        dcos.with(|d| d.subscriptions_ok) >= 1
    });
    dcos.assert_no_bad_logins();
    assert_eq!(dcos.with(|d| d.subscriptions_refused), 0);
    assert_eq!(dcos.logins(), 1, "polling and the stream share the token");
}

#[test]
fn a_short_lived_token_is_renewed_before_it_runs_out() {
    let key = Key::new();
    let dcos = FakeDcos::start(&key);
    // Tokens that expire 4 s after the login (their `exp` says so): renewed a second ahead.
    dcos.with(|d| d.token_lifetime = 4);
    let server = start(&dcos, &key, json!({}));
    server.wait_loaded();
    wait_until("three logins", CHANGE_DEADLINE, || dcos.logins() >= 3);
    let (logins, ok, refused) = dcos.with(|d| (d.logins, d.state_ok, d.state_refused));
    dcos.assert_no_bad_logins();
    assert_eq!(refused, 0, "no expired token was ever sent");
    assert!(
        ok > logins,
        "each token served more than one refresh: {ok} fetches, {logins} logins"
    );
    assert_eq!(refresh_failures(&server), 0, "{}", server.log_text());
}

#[test]
fn a_master_401_makes_it_log_in_again_and_retry() {
    let key = Key::new();
    let dcos = FakeDcos::start(&key);
    let server = start(&dcos, &key, json!({}));
    server.wait_loaded();
    wait_until("an authorized fetch", CHANGE_DEADLINE, || dcos.state_ok() >= 1);
    assert_eq!(dcos.logins(), 1);
    // Counted under the lock that revokes: every fetch counted after it carried a new token.
    let before = dcos.with(|d| {
        d.tokens.clear();
        d.state_ok
    });
    wait_until("a fetch with a new token", CHANGE_DEADLINE, || dcos.state_ok() > before);
    let (logins, refused) = dcos.with(|d| (d.logins, d.state_refused));
    assert_eq!(logins, 2, "one more login after the 401");
    assert_eq!(refused, 1, "the revoked token was refused once, then replaced");
    assert_eq!(
        refresh_failures(&server),
        0,
        "the retry saved the refresh: {}",
        server.log_text()
    );
    assert!(server.log_text().contains("refused the IAM token"));
}

#[test]
fn a_failed_login_fails_the_refresh_keeps_the_records_and_is_counted() {
    let key = Key::new();
    let dcos = FakeDcos::start(&key);
    let http_port = free_port();
    let extra = json!({"httpon": true, "httpListener": "127.0.0.1", "httpport": http_port});
    let server = start(&dcos, &key, extra);
    server.wait_loaded();
    let counted_before = failures_counted(http_port);
    let mark = server.log_len();
    dcos.with(|d| d.login_status = 500);
    dcos.revoke_all();
    let mut failed = None;
    wait_until("a refresh failed by the login", CHANGE_DEADLINE, || {
        failed = server
            .log_since(mark)
            .into_iter()
            .find(|l| l.contains("state refresh failed"));
        failed.is_some()
    });
    let line = failed.unwrap_or_default();
    assert!(
        line.contains("IAMConfigFile") && line.contains("HTTP status 500") && line.contains(&dcos.login_url()),
        "{line}"
    );
    assert!(line.contains("keeping the records of"), "{line}");
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP], "the last records are served");
    assert!(failures_counted(http_port) > counted_before, "counted in /metrics");

    // The endpoint recovers: so do the refreshes.
    let before = dcos.state_ok();
    dcos.with(|d| d.login_status = 200);
    wait_until("a good refresh", CHANGE_DEADLINE, || dcos.state_ok() > before);
    dcos.assert_no_bad_logins();
}

#[test]
fn an_unreachable_login_endpoint_fails_the_refresh_naming_the_key() {
    let key = Key::new();
    let dcos = FakeDcos::start(&key);
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let cfg = TestConfig::write(
        &[dcos.master.addr()],
        json!({
            "mesosAuthentication": "iam",
            "IAMConfigFile": key.account_file(&format!("http://{closed}{LOGIN_PATH}")),
        }),
    );
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir);
    wait_until("a failed refresh", CHANGE_DEADLINE, || refresh_failures(&server) > 0);
    let log = server.log_text();
    let line = log.lines().find(|l| l.contains("state refresh failed")).unwrap();
    assert!(
        line.contains("IAMConfigFile") && line.contains(&closed.to_string()),
        "{line}"
    );
    assert_eq!(
        dcos.with(|d| d.state_ok + d.state_refused),
        0,
        "no request without a token"
    );
}

#[test]
fn bad_service_account_files_fail_the_config_at_start() {
    let key = Key::new();
    let file = key.dir.join("iam.json");
    let login = "http://127.0.0.1:1/acs/api/v1/auth/login";
    let cases: Vec<(Option<Value>, &[&str])> = vec![
        (None, &["IAMConfigFile", "cannot read"]),
        (
            Some(json!({"private_key": key.pem, "login_endpoint": login})),
            &["IAMConfigFile", "`uid`"],
        ),
        (
            Some(
                json!({"uid": UID, "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "login_endpoint": login}),
            ),
            &["IAMConfigFile", "`private_key`"],
        ),
        (
            Some(json!({"uid": UID, "private_key": key.pem, "login_endpoint": "ldap://x"})),
            &["IAMConfigFile", "`login_endpoint`"],
        ),
    ];
    for (account, wants) in cases {
        let _ = std::fs::remove_file(&file);
        if let Some(account) = &account {
            std::fs::write(&file, account.to_string()).unwrap();
        }
        let cfg = TestConfig::write(
            &["127.0.0.1:1".to_owned()],
            json!({"mesosAuthentication": "iam", "IAMConfigFile": file.display().to_string()}),
        );
        let (status, _out, err) = run_to_exit(&[&format!("-config={}", cfg.path.display())]);
        assert_eq!(status.code(), Some(2), "{err}");
        for want in wants {
            assert!(err.contains(want), "{want:?} in {err}");
        }
        assert!(!err.contains(key.pem.lines().nth(1).unwrap()), "no key material: {err}");
        let _ = std::fs::remove_dir_all(&cfg.dir);
    }
}
