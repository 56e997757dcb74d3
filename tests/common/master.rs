//! The fake Mesos master: a real HTTP/1.1 server on loopback whose answer (a state document, a status,
//! garbage, a hang, a huge body) is switched at run time, counting what it was asked.

use super::*;

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
