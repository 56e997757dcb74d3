//! Test harness for end-to-end tests: a fake Mesos master (a real HTTP/1.1 server on loopback whose
//! answer is switched at run time), a guard that runs the real `mesos-dns` binary against it, a tiny DNS
//! client with its own decoder (independent of `src/wire`, so our encoder is checked by other code), and
//! a `dig` runner. Everything talks to 127.0.0.1 only, and every wait is a poll with a deadline.
//! `upstream` has the upstream resolvers the relay tests use (our scriptable responder, and `unbound`).

#![allow(dead_code)] // each test binary uses part of the harness

pub mod stream_master;
pub mod upstream;
pub mod zk;

use std::collections::HashSet;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// The server binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mesos-dns");

/// How long a server may take to start or to load its first records.
pub const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long a change of state may take to show (refreshSeconds is 1 in tests).
pub const CHANGE_DEADLINE: Duration = Duration::from_secs(20);

/// Polls `cond` until it holds or `deadline` passes; panics naming `what` on timeout. Bounded in time and
/// in iterations (a poll every 20 ms at most).
pub fn wait_until(what: &str, deadline: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    let max_polls = deadline.as_millis() / 20 + 2;
    for _ in 0..max_polls {
        if cond() {
            return;
        }
        if start.elapsed() > deadline {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {deadline:?} waiting for {what}");
}

// ---------------------------------------------------------------------------------------------------
// Fixtures

/// A fixture document from `tests/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The tutorial cluster: `nginx` of `marathon-0.7.6` on agent 10.114.227.92.
pub fn tutorial() -> Value {
    fixture("tutorial-0.21.json")
}

/// The agents of the tutorial fixture, by their `S<n>` suffix.
pub const TUTORIAL_S0: &str = "20150124-005312-2536286730-5050-1180-S0";
pub const TUTORIAL_S1: &str = "20150124-005312-2536286730-5050-1180-S1";
pub const TUTORIAL_S2: &str = "20150124-005312-2536286730-5050-1180-S2";
pub const NGINX: &str = "nginx.marathon-0.7.6.mesos";
pub const NGINX_IP: Ipv4Addr = Ipv4Addr::new(10, 114, 227, 92);
pub const S2_IP: Ipv4Addr = Ipv4Addr::new(10, 29, 107, 105);

/// The tutorial's framework tasks, for editing.
pub fn tasks_mut(state: &mut Value) -> &mut Vec<Value> {
    state["frameworks"][0]["tasks"]
        .as_array_mut()
        .expect("tutorial has tasks")
}

/// The tutorial with `nginx` scaled to two instances, on agents S1 (10.114.227.92) and S2 (10.29.107.105).
pub fn tutorial_scaled() -> Value {
    let mut state = tutorial();
    let tasks = tasks_mut(&mut state);
    let mut second = tasks.iter().find(|t| t["name"] == "nginx").expect("nginx task").clone();
    second["id"] = json!("nginx.7a1e0001-a36d-11e4-8c21-56847afe9799");
    second["slave_id"] = json!(TUTORIAL_S2);
    tasks.push(second);
    state
}

/// The tutorial with `nginx` moved from S1 to S2 (10.29.107.105).
pub fn tutorial_moved() -> Value {
    let mut state = tutorial();
    for t in tasks_mut(&mut state).iter_mut().filter(|t| t["name"] == "nginx") {
        t["slave_id"] = json!(TUTORIAL_S2);
    }
    state
}

// ---------------------------------------------------------------------------------------------------
// Fake Mesos master

/// What the fake master answers.
#[derive(Clone)]
enum Mode {
    /// 200 with this body on both state paths.
    State(Arc<Vec<u8>>),
    /// A master older than 0.25: 404 on `/master/state`, the body on `/master/state.json`.
    LegacyState(Arc<Vec<u8>>),
    /// This status, empty body, on every path.
    Status(u16),
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with exactly these bytes (valid JSON that is not a state document, ...).
    Body(Arc<Vec<u8>>),
    /// Reads the request and never answers (the connection is held open).
    Hang,
    /// 200 with a body of `len` bytes generated while it is sent (never held in memory): a state
    /// document padded with a long string. With `announce` the length is in `Content-Length`, else the
    /// body ends when the connection closes.
    Huge { len: u64, announce: bool },
}

/// What [`serve_one`] leaves behind: nothing, or a connection to keep open without answering.
enum Served {
    Done,
    Hold(TcpStream),
}

/// At most this many unanswered connections are held open in `Mode::Hang` (the oldest is closed first).
const MAX_HELD: usize = 16;

struct Shared {
    mode: Mode,
    requests: usize,
    since_change: usize,
    paths: Vec<String>,
}

/// A fake Mesos master on 127.0.0.1: serves fixtures with `leader` and `pid` rewritten to its own
/// address (it never serves a non-loopback leader), or fails as told; counts requests. Stops on drop.
pub struct FakeMaster {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// At most this many connections per fake master (a bound on its accept loop).
const MAX_CONNECTIONS: usize = 100_000;

impl FakeMaster {
    /// A master that answers `503` until told otherwise.
    pub fn start() -> FakeMaster {
        FakeMaster::start_on("127.0.0.1", 0).expect("bind fake master")
    }

    /// A master on this loopback address and port (0: any free port); fails if it cannot bind.
    pub fn start_on(ip: &str, port: u16) -> io::Result<FakeMaster> {
        let ip: std::net::IpAddr = ip.parse().map_err(io::Error::other)?;
        assert!(ip.is_loopback(), "a fake master listens on loopback only, not {ip}");
        let listener = TcpListener::bind((ip, port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared {
            mode: Mode::Status(503),
            requests: 0,
            since_change: 0,
            paths: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared2, stop2) = (shared.clone(), stop.clone());
        let thread = thread::Builder::new()
            .name(format!("fake-master-{}", addr.port()))
            .spawn(move || {
                let mut held = std::collections::VecDeque::new();
                for conn in listener.incoming().take(MAX_CONNECTIONS) {
                    if stop2.load(Ordering::SeqCst) {
                        break; // dropping the listener (and the held connections) closes the port
                    }
                    if let Ok(conn) = conn {
                        if let Ok(Served::Hold(conn)) = serve_one(conn, &shared2) {
                            if held.len() >= MAX_HELD {
                                held.pop_front();
                            }
                            held.push_back(conn);
                        }
                    }
                }
            })?;
        Ok(FakeMaster {
            addr,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// A master serving this state document (leader rewritten to itself).
    pub fn serving(state: Value) -> FakeMaster {
        let m = FakeMaster::start();
        m.set_state(state);
        m
    }

    /// `host:port`, as a `masters` entry.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// `master@127.0.0.1:<port>`: the leader field of every document it serves.
    pub fn leader(&self) -> String {
        format!("master@{}", self.addr)
    }

    fn set(&self, mode: Mode) {
        let mut s = self.shared.lock().unwrap();
        s.mode = mode;
        s.since_change = 0;
    }

    /// Serves `state` from now on, with `leader` and `pid` rewritten to this master.
    pub fn set_state(&self, state: Value) {
        self.set(Mode::State(Arc::new(self.rewrite(state, true))));
    }

    /// Serves `state` with an empty `leader` (a master outside the quorum).
    pub fn set_leaderless_state(&self, state: Value) {
        self.set(Mode::State(Arc::new(self.rewrite(state, false))));
    }

    /// Behaves as a master before 0.25: only `/master/state.json` exists.
    pub fn set_legacy_state(&self, state: Value) {
        self.set(Mode::LegacyState(Arc::new(self.rewrite(state, true))));
    }

    /// Answers every request with this HTTP status.
    pub fn set_status(&self, status: u16) {
        self.set(Mode::Status(status));
    }

    /// Answers 200 with a body that is not a state document.
    pub fn set_garbage(&self) {
        self.set(Mode::Garbage);
    }

    /// Answers 200 with exactly this body.
    pub fn set_body(&self, body: &[u8]) {
        self.set(Mode::Body(Arc::new(body.to_vec())));
    }

    /// Serves `state` naming `leader` (`host:port`) as the leader; `pid` stays this master's. Tests
    /// that name a non-loopback leader rely on the server's loopback-only follow filter, which
    /// [`Server`] always installs.
    pub fn set_state_with_leader(&self, state: Value, leader: &str) {
        let mut body = self.rewrite(state, true);
        let mut doc: Value = serde_json::from_slice(&body).expect("state JSON");
        doc["leader"] = json!(format!("master@{leader}"));
        body = serde_json::to_vec(&doc).expect("serialise state");
        self.set(Mode::State(Arc::new(body)));
    }

    /// Accepts connections, reads the request and never answers.
    pub fn set_hang(&self) {
        self.set(Mode::Hang);
    }

    /// Answers 200 with a generated body of `len` bytes (streamed), announcing its length or not.
    pub fn set_huge(&self, len: u64, announce: bool) {
        self.set(Mode::Huge { len, announce });
    }

    /// Stops accepting and closes the listening socket: connections are refused from now on.
    pub fn go_down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so that the loop sees the flag and drops the listener.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2));
        if let Some(t) = self.thread.take() {
            t.join().expect("fake master thread");
        }
        assert!(
            TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)).is_err(),
            "fake master still accepts"
        );
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.shared.lock().unwrap().requests
    }

    /// Requests answered in the current mode (since the last `set_*`).
    pub fn requests_since_change(&self) -> usize {
        self.shared.lock().unwrap().since_change
    }

    /// The paths requested so far, in order.
    pub fn paths(&self) -> Vec<String> {
        self.shared.lock().unwrap().paths.clone()
    }

    /// Waits until `n` requests were answered in the current mode. With one refresh at a time, the
    /// second such request proves that a refresh which saw this mode has finished.
    pub fn wait_requests_since_change(&self, n: usize) {
        wait_until(
            &format!("{n} requests to the fake master {} in its current mode", self.addr),
            CHANGE_DEADLINE,
            || self.requests_since_change() >= n,
        );
    }

    fn rewrite(&self, mut state: Value, with_leader: bool) -> Vec<u8> {
        let obj = state.as_object_mut().expect("a state document is a JSON object");
        let leader = if with_leader { self.leader() } else { String::new() };
        obj.insert("leader".into(), json!(leader));
        obj.insert("pid".into(), json!(self.leader()));
        serde_json::to_vec(&state).expect("serialise state")
    }
}

impl Drop for FakeMaster {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }
}

/// Reads one request and answers it (Connection: close), or hands the connection back to be held.
fn serve_one(conn: TcpStream, shared: &Mutex<Shared>) -> io::Result<Served> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(Served::Done); // the wake-up connection, or a client that gave up
    }
    for _ in 0..100 {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .split('?')
        .next()
        .unwrap_or("")
        .to_owned();
    let (status, body): (u16, Arc<Vec<u8>>) = {
        let mut s = shared.lock().unwrap();
        s.requests += 1;
        s.since_change += 1;
        s.paths.push(path.clone());
        let is_state = path == "/master/state" || path == "/master/state.json";
        match (&s.mode, is_state) {
            (_, false) => (404, Arc::new(Vec::new())),
            (Mode::State(b), true) => (200, b.clone()),
            (Mode::LegacyState(b), true) if path == "/master/state.json" => (200, b.clone()),
            (Mode::LegacyState(_), true) => (404, Arc::new(Vec::new())),
            (Mode::Status(code), true) => (*code, Arc::new(Vec::new())),
            (Mode::Garbage, true) => (200, Arc::new(b"<html><body>502 Bad Gateway {\"leader\":".to_vec())),
            (Mode::Body(b), true) => (200, b.clone()),
            (Mode::Hang, true) => return Ok(Served::Hold(conn)),
            (Mode::Huge { len, announce }, true) => {
                let (len, announce) = (*len, *announce);
                drop(s);
                send_huge(conn, len, announce)?;
                return Ok(Served::Done);
            }
        }
    };
    let mut out = conn;
    write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(&body)?;
    out.flush()?;
    Ok(Served::Done)
}

/// Streams a `len`-byte state document (`{"leader":"","pad":"xxxx...x"}`) in 64 KiB writes; stops at the
/// first write error, which is how a client that refuses the body shows (it closes the connection).
fn send_huge(mut out: TcpStream, len: u64, announce: bool) -> io::Result<()> {
    let length = if announce {
        format!("Content-Length: {len}\r\n")
    } else {
        String::new()
    };
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n"
    )?;
    let (head, tail) = (&b"{\"leader\":\"\",\"pad\":\""[..], &b"\"}"[..]);
    let chunk = vec![b'x'; 64 * 1024];
    out.write_all(head)?;
    let mut left = len.saturating_sub((head.len() + tail.len()) as u64);
    // Bounded: at most len / 64 KiB writes, each under the 5 s write timeout.
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        out.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    out.write_all(tail)?;
    out.flush()
}

// ---------------------------------------------------------------------------------------------------
// The server under test

/// Ports handed out in this test process, so that parallel tests never pick the same one.
static TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A loopback port that is free for both UDP and TCP right now.
pub fn free_port() -> u16 {
    for _ in 0..200 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("udp address").port();
        if TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        let mut taken = TAKEN.lock().unwrap();
        if taken.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
    panic!("no free loopback port for UDP and TCP");
}

/// A loopback UDP port with nothing behind it: the only resolver a test server may know.
pub fn dead_resolver() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// A unique scratch directory under the system temp dir, removed by its owner.
pub fn scratch_dir(tag: &str) -> PathBuf {
    static SEQ: AtomicU16 = AtomicU16::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "mesos-dns-e2e-{tag}-{}-{}-{nanos}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// The test config: loopback everything, a fresh port, refresh every second, no HTTP API.
pub fn test_config(masters: &[String], port: u16) -> Value {
    json!({
        "masters": masters,
        "listener": "127.0.0.1",
        "port": port,
        "httpon": false,
        "refreshSeconds": 1,
        "stateTimeoutSeconds": 5,
        "timeout": 1,
        "resolvers": [dead_resolver()],
        "domain": "mesos",
        "ttl": 60,
    })
}

/// A config file written to a scratch directory.
pub struct TestConfig {
    pub port: u16,
    pub dir: PathBuf,
    pub path: PathBuf,
}

impl TestConfig {
    /// Writes [`test_config`] with `extra` keys merged in (a `null` value removes a key).
    pub fn write(masters: &[String], extra: Value) -> TestConfig {
        let port = free_port();
        let mut config = test_config(masters, port);
        if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                if v.is_null() {
                    c.remove(k);
                } else {
                    c.insert(k.clone(), v.clone());
                }
            }
        }
        let dir = scratch_dir("server");
        let path = dir.join("config.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&config).expect("config JSON")).expect("write config");
        TestConfig { port, dir, path }
    }
}

/// The real `mesos-dns` binary with a config in a scratch directory; killed on drop (its log is printed
/// when the test failed).
pub struct Server {
    child: Child,
    pub port: u16,
    dir: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
}

/// Which DNS transport to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Server {
    /// Starts the server with the seed's command line (`-v -config=PATH`) against these masters, and
    /// waits until it answers DNS (not until it has records: see [`Server::wait_loaded`]).
    pub fn start(masters: &[String]) -> Server {
        Server::start_with(masters, json!({}))
    }

    /// Like [`Server::start`], with `extra` keys merged into the test config.
    pub fn start_with(masters: &[String], extra: Value) -> Server {
        let cfg = TestConfig::write(masters, extra);
        let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
        Server::spawn(&args, cfg.port, cfg.dir)
    }

    /// Like [`Server::start_with`], with these environment variables set for the server.
    pub fn start_with_env(masters: &[String], extra: Value, env: &[(&str, &str)]) -> Server {
        let cfg = TestConfig::write(masters, extra);
        let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
        Server::spawn_with_env(&args, cfg.port, cfg.dir, env)
    }

    /// Runs the binary with these arguments (the config must listen on 127.0.0.1:`port`).
    pub fn spawn(args: &[String], port: u16, dir: PathBuf) -> Server {
        Server::spawn_with_env(args, port, dir, &[])
    }

    /// [`Server::spawn`] with extra environment variables. Every test server follows a `leader` field
    /// only to loopback addresses (`MESOS_DNS_FOLLOW_LOOPBACK_ONLY`), so no state document can make
    /// it send traffic off the machine.
    pub fn spawn_with_env(args: &[String], port: u16, dir: PathBuf, env: &[(&str, &str)]) -> Server {
        Server::spawn_program(BIN, args, port, dir, env)
    }

    /// [`Server::spawn_with_env`] through another program that runs the server (`sh -c` with a
    /// command line as the README writes it, which must `exec` the server so that drop stops it).
    pub fn spawn_program(program: &str, args: &[String], port: u16, dir: PathBuf, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(program)
            .args(args)
            .env_remove("RUST_LOG")
            .env("MESOS_DNS_FOLLOW_LOOPBACK_ONLY", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mesos-dns");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(collect_lines(out, log.clone()));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(collect_lines(err, log.clone()));
        }
        let mut server = Server {
            child,
            port,
            dir,
            log,
            readers,
        };
        server.wait_ready();
        server
    }

    /// Waits until the server answers a DNS query at all (SERVFAIL counts).
    fn wait_ready(&mut self) {
        let start = Instant::now();
        let query = dns::query(0x5eed, "leader.mesos", dns::A);
        // Bounded by the deadline; the count is a backstop (each round takes at least 20 ms).
        for _ in 0..(START_DEADLINE.as_millis() / 20 + 2) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "mesos-dns exited with {status} before answering; its log:\n{}",
                    self.log_text()
                );
            }
            if dns::udp(self.port, &query, Duration::from_millis(200)).is_ok() {
                return;
            }
            if start.elapsed() > START_DEADLINE {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "mesos-dns did not answer on 127.0.0.1:{} within {START_DEADLINE:?}; its log:\n{}",
            self.port,
            self.log_text()
        );
    }

    /// Waits until the first snapshot is loaded (`leader.mesos` has an A record).
    pub fn wait_loaded(&self) {
        wait_until("the first records snapshot (leader.mesos A)", START_DEADLINE, || {
            self.try_ask("leader.mesos", dns::A, Transport::Udp)
                .is_some_and(|r| r.rcode == dns::NOERROR && !r.answers.is_empty())
        });
    }

    /// Asks one question; `None` when no valid answer came back.
    pub fn try_ask(&self, name: &str, qtype: u16, transport: Transport) -> Option<dns::Response> {
        let id = next_id();
        let query = dns::query(id, name, qtype);
        let bytes = match transport {
            Transport::Udp => dns::udp(self.port, &query, Duration::from_secs(3)),
            Transport::Tcp => dns::tcp(self.port, &query, Duration::from_secs(3)),
        }
        .ok()?;
        let resp = dns::parse(&bytes).ok()?;
        (resp.id == id).then_some(resp)
    }

    /// Asks one question and decodes the answer; panics (with the server log) if none comes.
    pub fn ask(&self, name: &str, qtype: u16, transport: Transport) -> dns::Response {
        let id = next_id();
        let query = dns::query(id, name, qtype);
        let bytes = match transport {
            Transport::Udp => dns::udp(self.port, &query, Duration::from_secs(3)),
            Transport::Tcp => dns::tcp(self.port, &query, Duration::from_secs(3)),
        }
        .unwrap_or_else(|e| {
            panic!(
                "no {transport:?} answer for {name}: {e}; server log:\n{}",
                self.log_text()
            )
        });
        let resp = dns::parse(&bytes).unwrap_or_else(|e| panic!("undecodable answer for {name}: {e}: {bytes:02x?}"));
        assert_eq!(resp.id, id, "answer ID must match the query");
        assert!(resp.qr(), "answer must have QR set");
        resp
    }

    /// The A addresses the server gives for `name` (empty when none).
    pub fn a_records(&self, name: &str) -> Vec<Ipv4Addr> {
        let mut ips: Vec<Ipv4Addr> = self
            .try_ask(name, dns::A, Transport::Udp)
            .map(|r| r.answers.iter().filter_map(|rr| rr.data.parse().ok()).collect())
            .unwrap_or_default();
        ips.sort();
        ips
    }

    /// Everything the server printed so far.
    pub fn log_text(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// How many lines the server printed so far (a mark for [`Server::log_since`]).
    pub fn log_len(&self) -> usize {
        self.log.lock().map(|l| l.len()).unwrap_or_default()
    }

    /// The lines printed after the first `mark` lines.
    pub fn log_since(&self, mark: usize) -> Vec<String> {
        self.log
            .lock()
            .map(|l| l.get(mark..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }

    /// The peak resident set size of the server so far, in bytes (`VmHWM` in /proc/PID/status).
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    /// The process ID of the server (for looking at its resources under /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        if thread::panicking() {
            eprintln!(
                "---- mesos-dns log (port {}) ----\n{}\n---- end of log ----",
                self.port,
                self.log_text()
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn collect_lines(stream: impl Read + Send + 'static, log: Arc<Mutex<Vec<String>>>) -> JoinHandle<()> {
    thread::spawn(move || {
        // Ends at EOF, i.e. when the child exits; each line is bounded by the server's own output.
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut l) = log.lock() {
                l.push(line);
            }
        }
    })
}

fn next_id() -> u16 {
    static ID: AtomicU16 = AtomicU16::new(1);
    ID.fetch_add(1, Ordering::SeqCst)
}

/// Runs the binary to completion with these arguments (for flags that exit at once); kills it if it
/// runs longer than 20 s.
pub fn run_to_exit(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mesos-dns");
    let start = Instant::now();
    for _ in 0..2000 {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect output");
            panic!(
                "mesos-dns {args:?} did not exit within 20 s; stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
    let Output { status, stdout, stderr } = child.wait_with_output().expect("collect output");
    (
        status,
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

// ---------------------------------------------------------------------------------------------------
// A minimal DNS client, written from RFC 1035 without `src/wire`.

pub mod dns {
    use super::*;

    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const OPT: u16 = 41;
    pub const ANY: u16 = 255;

    pub const NOERROR: u8 = 0;
    pub const FORMERR: u8 = 1;
    pub const SERVFAIL: u8 = 2;
    pub const NXDOMAIN: u8 = 3;
    pub const NOTIMP: u8 = 4;
    pub const REFUSED: u8 = 5;

    /// A query with RD clear (we ask an authoritative server) for `name` (dots between labels).
    pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
        let mut q = Vec::with_capacity(64);
        q.extend_from_slice(&id.to_be_bytes());
        q.extend_from_slice(&[0x00, 0x00]); // QR=0, opcode QUERY, RD=0
        q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QDCOUNT=1
        for label in name.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
            assert!(label.len() < 64, "label too long: {label}");
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&1u16.to_be_bytes()); // IN
        q
    }

    /// Sends over UDP to 127.0.0.1:`port` and returns the first datagram whose ID matches.
    pub fn udp(port: u16, query: &[u8], timeout: Duration) -> io::Result<Vec<u8>> {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.connect(("127.0.0.1", port))?;
        sock.set_read_timeout(Some(timeout))?;
        sock.send(query)?;
        let mut buf = vec![0u8; 65535];
        for _ in 0..16 {
            let n = sock.recv(&mut buf)?;
            if n >= 2 && buf[..2] == query[..2] {
                return Ok(buf[..n].to_vec());
            }
        }
        Err(io::Error::other("no datagram with the query's ID"))
    }

    /// Sends over TCP with the 2-byte length prefix and reads one framed answer.
    pub fn tcp(port: u16, query: &[u8], timeout: Duration) -> io::Result<Vec<u8>> {
        let mut conn = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), timeout)?;
        conn.set_read_timeout(Some(timeout))?;
        conn.set_write_timeout(Some(timeout))?;
        let mut framed = (query.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(query);
        conn.write_all(&framed)?;
        read_framed(&mut conn)
    }

    /// Reads one length-prefixed message from a TCP stream.
    pub fn read_framed(conn: &mut TcpStream) -> io::Result<Vec<u8>> {
        let mut len = [0u8; 2];
        conn.read_exact(&mut len)?;
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        conn.read_exact(&mut msg)?;
        Ok(msg)
    }

    /// One resource record, decoded for assertions; `data` is presentation text
    /// (`10.0.0.1`, `0 1 31080 target.`, `mname. rname. serial refresh retry expire minimum`).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Rr {
        pub name: String,
        pub rtype: u16,
        pub class: u16,
        pub ttl: u32,
        pub data: String,
    }

    /// A decoded response.
    #[derive(Debug, Clone)]
    pub struct Response {
        pub id: u16,
        pub flags: u16,
        pub rcode: u8,
        pub questions: Vec<(String, u16, u16)>,
        pub answers: Vec<Rr>,
        pub authority: Vec<Rr>,
        pub additional: Vec<Rr>,
    }

    impl Response {
        pub fn qr(&self) -> bool {
            self.flags & 0x8000 != 0
        }
        pub fn aa(&self) -> bool {
            self.flags & 0x0400 != 0
        }
        pub fn tc(&self) -> bool {
            self.flags & 0x0200 != 0
        }
        pub fn rd(&self) -> bool {
            self.flags & 0x0100 != 0
        }
        pub fn ra(&self) -> bool {
            self.flags & 0x0080 != 0
        }
        /// Answer records of this type, as `data` text, sorted.
        pub fn answer_data(&self, rtype: u16) -> Vec<String> {
            let mut v: Vec<String> = self
                .answers
                .iter()
                .filter(|r| r.rtype == rtype)
                .map(|r| r.data.clone())
                .collect();
            v.sort();
            v
        }
    }

    struct Cursor<'a> {
        msg: &'a [u8],
        pos: usize,
    }

    impl<'a> Cursor<'a> {
        fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
            let end = self
                .pos
                .checked_add(n)
                .filter(|&e| e <= self.msg.len())
                .ok_or("message too short")?;
            let s = &self.msg[self.pos..end];
            self.pos = end;
            Ok(s)
        }
        fn u8(&mut self) -> Result<u8, String> {
            Ok(self.take(1)?[0])
        }
        fn u16(&mut self) -> Result<u16, String> {
            let b = self.take(2)?;
            Ok(u16::from_be_bytes([b[0], b[1]]))
        }
        fn u32(&mut self) -> Result<u32, String> {
            let b = self.take(4)?;
            Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        }
        /// A possibly compressed name, in presentation form with a trailing dot.
        fn name(&mut self) -> Result<String, String> {
            let (name, end) = read_name(self.msg, self.pos)?;
            self.pos = end;
            Ok(name)
        }
    }

    /// Reads a name at `pos`; returns it and the position after it in the original stream.
    fn read_name(msg: &[u8], mut pos: usize) -> Result<(String, usize), String> {
        let mut out = String::new();
        let mut end = None;
        for _ in 0..128 {
            let len = *msg.get(pos).ok_or("name runs off the message")?;
            match len & 0xc0 {
                0x00 if len == 0 => {
                    if out.is_empty() {
                        out.push('.');
                    }
                    return Ok((out, end.unwrap_or(pos + 1)));
                }
                0x00 => {
                    let label = msg
                        .get(pos + 1..pos + 1 + usize::from(len))
                        .ok_or("label runs off the message")?;
                    for &b in label {
                        if b.is_ascii_graphic() && b != b'.' && b != b'\\' {
                            out.push(char::from(b));
                        } else {
                            out.push_str(&format!("\\{b:03}"));
                        }
                    }
                    out.push('.');
                    pos += 1 + usize::from(len);
                }
                0xc0 => {
                    let lo = *msg.get(pos + 1).ok_or("pointer runs off the message")?;
                    let target = usize::from(len & 0x3f) << 8 | usize::from(lo);
                    if target >= pos {
                        return Err(format!("forward compression pointer at {pos}"));
                    }
                    end.get_or_insert(pos + 2);
                    pos = target;
                }
                _ => return Err(format!("bad label type {len:#x}")),
            }
        }
        Err("name too long or pointer loop".into())
    }

    fn rr(c: &mut Cursor<'_>) -> Result<Rr, String> {
        let name = c.name()?;
        let rtype = c.u16()?;
        let class = c.u16()?;
        let ttl = c.u32()?;
        let rdlen = usize::from(c.u16()?);
        let start = c.pos;
        let rdata = c.take(rdlen)?;
        let data = match rtype {
            A if rdlen == 4 => Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]).to_string(),
            AAAA if rdlen == 16 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(rdata);
                Ipv6Addr::from(o).to_string()
            }
            SRV => {
                let mut sub = Cursor { msg: c.msg, pos: start };
                let (prio, weight, port) = (sub.u16()?, sub.u16()?, sub.u16()?);
                let target = sub.name()?;
                check_end(&sub, start + rdlen)?;
                format!("{prio} {weight} {port} {target}")
            }
            SOA => {
                let mut sub = Cursor { msg: c.msg, pos: start };
                let (mname, rname) = (sub.name()?, sub.name()?);
                let nums = [sub.u32()?, sub.u32()?, sub.u32()?, sub.u32()?, sub.u32()?];
                check_end(&sub, start + rdlen)?;
                format!(
                    "{mname} {rname} {} {} {} {} {}",
                    nums[0], nums[1], nums[2], nums[3], nums[4]
                )
            }
            NS | PTR => {
                let mut sub = Cursor { msg: c.msg, pos: start };
                let target = sub.name()?;
                check_end(&sub, start + rdlen)?;
                target
            }
            _ => rdata.iter().map(|b| format!("{b:02x}")).collect(),
        };
        Ok(Rr {
            name,
            rtype,
            class,
            ttl,
            data,
        })
    }

    fn check_end(c: &Cursor<'_>, end: usize) -> Result<(), String> {
        if c.pos == end {
            Ok(())
        } else {
            Err(format!(
                "RDATA length mismatch: decoded to {}, RDLENGTH says {end}",
                c.pos
            ))
        }
    }

    /// Decodes a whole response; every byte must be accounted for.
    pub fn parse(msg: &[u8]) -> Result<Response, String> {
        let mut c = Cursor { msg, pos: 0 };
        let id = c.u16()?;
        let flags = c.u16()?;
        let counts = [c.u16()?, c.u16()?, c.u16()?, c.u16()?];
        let mut questions = Vec::new();
        for _ in 0..counts[0] {
            let name = c.name()?;
            questions.push((name, c.u16()?, c.u16()?));
        }
        let mut sections = [Vec::new(), Vec::new(), Vec::new()];
        for (i, section) in sections.iter_mut().enumerate() {
            for _ in 0..counts[i + 1] {
                section.push(rr(&mut c)?);
            }
        }
        if c.pos != msg.len() {
            return Err(format!("{} trailing bytes", msg.len() - c.pos));
        }
        let [answers, authority, additional] = sections;
        Ok(Response {
            id,
            flags,
            rcode: (flags & 0x000f) as u8,
            questions,
            answers,
            authority,
            additional,
        })
    }
}

// ---------------------------------------------------------------------------------------------------
// dig

/// What `dig` printed, parsed: status, header flags, and the records of each section as
/// (owner, type, rdata) text.
#[derive(Debug, Clone, Default)]
pub struct Dig {
    pub status: String,
    pub flags: Vec<String>,
    pub answer: Vec<(String, String, String)>,
    pub authority: Vec<(String, String, String)>,
    pub additional: Vec<(String, String, String)>,
    pub raw: String,
}

impl Dig {
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
    /// The rdata of answer records of this type, sorted.
    pub fn answer_data(&self, rtype: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .answer
            .iter()
            .filter(|r| r.1 == rtype)
            .map(|r| r.2.clone())
            .collect();
        v.sort();
        v
    }
}

/// Runs `dig @127.0.0.1 -p PORT NAME TYPE +tcp|+notcp +norecurse +time=2 +tries=1` and parses its output.
/// Fails the test when `dig` is missing: the tests need it (`apt-get install -y dnsutils`; CI does it).
pub fn dig(port: u16, name: &str, rtype: &str, transport: Transport) -> Dig {
    let proto = if transport == Transport::Tcp { "+tcp" } else { "+notcp" };
    let out = Command::new("dig")
        .args([
            "-r",
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            name,
            rtype,
            proto,
            "+norecurse",
            "+time=2",
            "+tries=1",
        ])
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            panic!("`dig` is not installed: install the `dnsutils` package (apt-get install -y dnsutils); .ci/run does")
        }
        Err(e) => panic!("cannot run dig: {e}"),
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "dig failed ({}):\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    parse_dig(&text)
}

/// Runs Knot's `kdig @127.0.0.1 -p PORT NAME TYPE +tcp|+notcp +norecurse +time=2 +retry=0` (a second,
/// independent parser; unlike dig it sends no EDNS by default). Fails the test when `kdig` is missing
/// (`apt-get install -y knot-dnsutils`; CI does it).
pub fn kdig(port: u16, name: &str, rtype: &str, transport: Transport) -> Dig {
    let proto = if transport == Transport::Tcp { "+tcp" } else { "+notcp" };
    let out = Command::new("kdig")
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            name,
            rtype,
            proto,
            "+norecurse",
            "+time=2",
            "+retry=0",
        ])
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => panic!(
            "`kdig` is not installed: install the `knot-dnsutils` package (apt-get install -y knot-dnsutils); .ci/run does"
        ),
        Err(e) => panic!("cannot run kdig: {e}"),
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "kdig failed ({}):\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    parse_dig(&text)
}

/// Parses the default output of dig and of kdig (`status: X,` / `status: X;`, `flags:` / `Flags:`).
pub fn parse_dig(text: &str) -> Dig {
    let mut d = Dig {
        raw: text.to_owned(),
        ..Dig::default()
    };
    let mut section: Option<&str> = None;
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(rest) = line.split_once("status: ").map(|(_, r)| r) {
            d.status = rest.split([',', ';']).next().unwrap_or("").trim().to_owned();
        } else if let Some(rest) = line
            .strip_prefix(";; flags:")
            .or_else(|| line.strip_prefix(";; Flags:"))
        {
            d.flags = rest
                .split(';')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_owned)
                .collect();
        } else if line.starts_with(";; ANSWER SECTION:") {
            section = Some("answer");
        } else if line.starts_with(";; AUTHORITY SECTION:") {
            section = Some("authority");
        } else if line.starts_with(";; ADDITIONAL SECTION:") {
            section = Some("additional");
        } else if line.is_empty() || line.starts_with(';') {
            if line.is_empty() {
                section = None;
            }
        } else if let Some(which) = section {
            let mut parts = line.split_whitespace();
            let (Some(owner), Some(_ttl), Some(_class), Some(rtype)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let rec = (owner.to_owned(), rtype.to_owned(), parts.collect::<Vec<_>>().join(" "));
            match which {
                "answer" => d.answer.push(rec),
                "authority" => d.authority.push(rec),
                _ => d.additional.push(rec),
            }
        }
    }
    d
}
