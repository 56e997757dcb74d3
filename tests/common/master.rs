//! The fake Mesos master, on the HTTP core in `http`: on the state paths it answers what it is told
//! at run time (a state document, a status, garbage, a hang, a huge body); on `POST /api/v1` a status,
//! or operator-API event streams (RecordIO in HTTP chunks) that open with a SUBSCRIBED event and carry
//! the events a test emits; an optional authorization check answers 401 to the requests it refuses.
//! It counts what it was asked.

use std::collections::VecDeque;
use std::net::IpAddr;

use super::http::{Chunked, Conn, HttpServer, Reply, Request};
use super::*;

/// What the fake master answers on the state paths.
#[derive(Clone)]
enum Mode {
    /// 200 with this body on both state paths.
    State(Arc<Vec<u8>>),
    /// A master older than 0.25: 404 on `/master/state`, the body on `/master/state.json`.
    LegacyState(Arc<Vec<u8>>),
    /// This status, empty body.
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

/// What the fake master answers on `POST /api/v1`.
#[derive(Clone, Copy)]
enum Api {
    /// This status, empty body (404: a master before 1.0).
    Status(u16),
    /// A SUBSCRIBE call opens an event stream.
    Stream,
}

/// What a 1.x master shows of its cluster: the state document of its state paths and the SUBSCRIBED
/// event that opens each new event stream.
pub struct Cluster {
    pub state: Value,
    pub subscribed: Value,
}

/// Decides whether a request is authorized; refused ones get 401.
type Authorize = Arc<dyn Fn(&Request) -> bool + Send + Sync>;

/// At most this many unanswered connections are held open in `Mode::Hang`, and this many event streams
/// (the oldest is closed first).
const MAX_HELD: usize = 16;

struct Shared {
    mode: Mode,
    api: Api,
    /// The SUBSCRIBED event (as a RecordIO record) each new stream opens with; none: streams stay
    /// silent until an event is emitted.
    subscribed: Option<Vec<u8>>,
    streams: VecDeque<Chunked>,
    held: VecDeque<Conn>,
    subscriptions: usize,
    authorize: Option<Authorize>,
    requests: usize,
    since_change: usize,
    paths: Vec<String>,
}

/// A fake Mesos master on 127.0.0.1: serves state documents with `leader` and `pid` rewritten to its
/// own address (it never serves a non-loopback leader), or fails as told; counts requests. Stops on
/// drop.
pub struct FakeMaster {
    server: HttpServer,
    shared: Arc<Mutex<Shared>>,
}

impl FakeMaster {
    /// A master that answers `503` until told otherwise.
    pub fn start() -> FakeMaster {
        FakeMaster::start_on("127.0.0.1", 0).expect("bind fake master")
    }

    /// A master on this loopback address and port (0: any free port); fails if it cannot bind.
    pub fn start_on(ip: &str, port: u16) -> io::Result<FakeMaster> {
        let ip: IpAddr = ip.parse().map_err(io::Error::other)?;
        FakeMaster::start_with(ip, port, None)
    }

    /// A master speaking HTTPS with `tls` on 127.0.0.1 (any free port), answering `503` until told
    /// otherwise.
    pub fn start_tls(tls: Arc<rustls::ServerConfig>) -> FakeMaster {
        FakeMaster::start_with(Ipv4Addr::LOCALHOST.into(), 0, Some(tls)).expect("bind fake HTTPS master")
    }

    fn start_with(ip: IpAddr, port: u16, tls: Option<Arc<rustls::ServerConfig>>) -> io::Result<FakeMaster> {
        let shared = Arc::new(Mutex::new(Shared {
            mode: Mode::Status(503),
            api: Api::Status(404),
            subscribed: None,
            streams: VecDeque::new(),
            held: VecDeque::new(),
            subscriptions: 0,
            authorize: None,
            requests: 0,
            since_change: 0,
            paths: Vec::new(),
        }));
        let serving = shared.clone();
        let server = HttpServer::start(ip, port, tls, "fake-master", move |request, reply| {
            let _ = answer(request, reply, &serving);
        })?;
        Ok(FakeMaster { server, shared })
    }

    /// A master serving this state document (leader rewritten to itself).
    pub fn serving(state: Value) -> FakeMaster {
        let m = FakeMaster::start();
        m.set_state(state);
        m
    }

    /// `host:port`, as a `masters` entry.
    pub fn addr(&self) -> String {
        self.server.addr().to_string()
    }

    /// `master@127.0.0.1:<port>`: the leader field of every document it serves.
    pub fn leader(&self) -> String {
        format!("master@{}", self.server.addr())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Shared) -> T) -> T {
        f(&mut self.shared.lock().unwrap())
    }

    fn set(&self, mode: Mode) {
        self.with(|s| {
            s.mode = mode;
            s.since_change = 0;
        });
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

    /// Answers every state request with this HTTP status.
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

    /// Checks every request with `authorize` from now on; the ones it refuses get 401, empty body.
    pub fn authorize_with(&self, authorize: impl Fn(&Request) -> bool + Send + Sync + 'static) {
        self.with(|s| s.authorize = Some(Arc::new(authorize)));
    }

    /// Serves `cluster` from now on: its state on the state paths (leader rewritten to this master),
    /// and its SUBSCRIBED event to each new event stream.
    pub fn set_cluster(&self, cluster: Cluster) {
        let state = Mode::State(Arc::new(self.rewrite(cluster.state, true)));
        self.with(|s| {
            s.mode = state;
            s.since_change = 0;
            s.subscribed = Some(record(&cluster.subscribed));
        });
    }

    /// Answers a SUBSCRIBE call on `POST /api/v1` with an event stream from now on.
    pub fn open_streams(&self) {
        self.with(|s| s.api = Api::Stream);
    }

    /// Answers `POST /api/v1` with this status from now on (open streams stay open).
    pub fn refuse_streams(&self, status: u16) {
        self.with(|s| s.api = Api::Status(status));
    }

    /// Breaks off every open event stream.
    pub fn break_streams(&self) {
        self.with(|s| s.streams.drain(..).for_each(|c| c.break_off()));
    }

    /// Streams `event` to every open stream and serves `cluster` (the cluster after it) from now on, in
    /// one step: a stream opened later starts from `cluster`. Returns the time just before the event
    /// was written.
    pub fn emit(&self, event: &Value, cluster: Cluster) -> Instant {
        let state = Mode::State(Arc::new(self.rewrite(cluster.state, true)));
        let event = record(event);
        self.with(|s| {
            s.mode = state;
            s.subscribed = Some(record(&cluster.subscribed));
            let at = Instant::now();
            s.streams.retain_mut(|c| c.send(&event).is_ok());
            at
        })
    }

    /// Event streams opened so far.
    pub fn subscriptions(&self) -> usize {
        self.with(|s| s.subscriptions)
    }

    /// Stops accepting and closes the listening socket and every held connection and stream:
    /// connections are refused from now on.
    pub fn go_down(&mut self) {
        self.server.stop();
        self.close_connections();
        let addr = self.server.addr();
        // The listener is closed once its thread has ended, but a child process that another test
        // is starting at that moment holds a copy of every descriptor from its fork until its exec
        // closes them (close-on-exec): the port may accept for that instant. Seen once under load.
        wait_until(
            "the fake master's port to refuse connections",
            Duration::from_secs(5),
            || TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        );
    }

    fn close_connections(&self) {
        self.with(|s| s.held.clear());
        self.break_streams();
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.with(|s| s.requests)
    }

    /// Requests answered in the current mode (since the last `set_*`).
    pub fn requests_since_change(&self) -> usize {
        self.with(|s| s.since_change)
    }

    /// The paths requested so far, in order.
    pub fn paths(&self) -> Vec<String> {
        self.with(|s| s.paths.clone())
    }

    /// Waits until `n` requests were answered in the current mode. With one refresh at a time, the
    /// second such request proves that a refresh which saw this mode has finished.
    pub fn wait_requests_since_change(&self, n: usize) {
        wait_until(
            &format!("{n} requests to the fake master {} in its current mode", self.addr()),
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
        self.server.stop();
        self.close_connections();
    }
}

/// An operator-API event as a RecordIO record: its length in decimal, a newline, the JSON.
fn record(event: &Value) -> Vec<u8> {
    let body = event.to_string();
    format!("{}\n{body}", body.len()).into_bytes()
}

/// Answers one request as the master's current settings say.
fn answer(request: Request, reply: Reply, shared: &Mutex<Shared>) -> io::Result<()> {
    // The check runs outside our lock: it may take locks of its own.
    let authorize = shared.lock().unwrap().authorize.clone();
    let authorized = authorize.map_or(true, |check| check(&request));
    let mut s = shared.lock().unwrap();
    s.requests += 1;
    s.since_change += 1;
    s.paths.push(request.path.clone());
    if !authorized {
        return reply.send(401, b"");
    }
    match request.path.as_str() {
        "/master/state" | "/master/state.json" => {}
        "/api/v1" => return answer_api(&request, reply, &mut s),
        _ => return reply.send(404, b""),
    }
    let body = match &s.mode {
        Mode::State(b) => b.clone(),
        Mode::LegacyState(b) if request.path == "/master/state.json" => b.clone(),
        Mode::LegacyState(_) => return reply.send(404, b""),
        Mode::Status(code) => return reply.send(*code, b""),
        Mode::Garbage => return reply.send(200, b"<html><body>502 Bad Gateway {\"leader\":"),
        Mode::Body(b) => b.clone(),
        Mode::Hang => {
            if s.held.len() >= MAX_HELD {
                s.held.pop_front();
            }
            s.held.push_back(reply.hold());
            return Ok(());
        }
        &Mode::Huge { len, announce } => {
            drop(s); // the body takes long: the master stays settable meanwhile
            return send_huge(reply, len, announce);
        }
    };
    drop(s);
    reply.send(200, &body)
}

/// `POST /api/v1`: a SUBSCRIBE call opens a stream (starting with the SUBSCRIBED event, if any) that
/// stays open in `streams`.
fn answer_api(request: &Request, reply: Reply, s: &mut Shared) -> io::Result<()> {
    match s.api {
        Api::Status(status) => reply.send(status, b""),
        Api::Stream if !String::from_utf8_lossy(&request.body).contains("SUBSCRIBE") => reply.send(400, b""),
        Api::Stream => {
            let mut stream = reply.start_chunked(200, "application/json")?;
            if let Some(subscribed) = &s.subscribed {
                stream.send(subscribed)?;
            }
            s.subscriptions += 1;
            if s.streams.len() >= MAX_HELD {
                if let Some(oldest) = s.streams.pop_front() {
                    oldest.break_off();
                }
            }
            s.streams.push_back(stream);
            Ok(())
        }
    }
}

/// Streams a `len`-byte state document (`{"leader":"","pad":"xxxx...x"}`) in 64 KiB writes; stops at the
/// first write error, which is how a client that refuses the body shows (it closes the connection).
fn send_huge(reply: Reply, len: u64, announce: bool) -> io::Result<()> {
    let mut out = reply.send_head(200, "application/json", announce.then_some(len))?;
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
    out.finish()
}
