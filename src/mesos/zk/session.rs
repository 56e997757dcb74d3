//! One ZooKeeper session over a blocking `TcpStream`: the thin I/O driver around [`super::proto`]. It
//! connects, sends requests and reads their replies, answers nothing by itself but pings while it waits,
//! and hands watch notifications to its caller. A session that breaks (the server closes, goes quiet for
//! two thirds of the session timeout, or expires it) is an error: the caller starts a new one.
//!
//! Reads go through an owned buffer, so a read timeout in the middle of a frame never loses bytes.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::proto::{self, err, Incoming, ProtoError};

/// How long connecting to one ZooKeeper host may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a session ended or a request failed.
#[derive(Debug)]
pub enum SessionError {
    Io(io::Error),
    /// The server sent bytes that are not the protocol.
    Proto(ProtoError),
    /// The server closed the connection.
    Closed,
    /// Nothing heard from the server for too long.
    Silent(Duration),
    /// The server refused the session (expired, or it is not serving).
    Expired,
    /// The credentials in the `zk` URL were refused.
    AuthFailed,
    /// The server answered a request with this error code (`KeeperException.Code`).
    Server(i32),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Io(e) => write!(f, "{e}"),
            SessionError::Proto(e) => write!(f, "protocol error: {e}"),
            SessionError::Closed => write!(f, "the server closed the connection"),
            SessionError::Silent(d) => write!(f, "no answer from the server for {} ms", d.as_millis()),
            SessionError::Expired => write!(f, "the session expired or was refused"),
            SessionError::AuthFailed => write!(f, "the credentials in `zk` were refused"),
            SessionError::Server(code) => write!(f, "the server answered error {code}"),
        }
    }
}

impl std::error::Error for SessionError {}

impl From<io::Error> for SessionError {
    fn from(e: io::Error) -> SessionError {
        SessionError::Io(e)
    }
}

impl From<ProtoError> for SessionError {
    fn from(e: ProtoError) -> SessionError {
        SessionError::Proto(e)
    }
}

/// A watch notification, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: i32,
    pub path: String,
}

/// A live session.
pub struct Session {
    stream: TcpStream,
    /// The session timeout the server granted.
    timeout: Duration,
    next_xid: i32,
    buf: Vec<u8>,
    last_sent: Instant,
    last_heard: Instant,
    events: VecDeque<Event>,
}

impl Session {
    /// Connects to `addr`, opens a new session asking for `timeout`, and authenticates with `digest`
    /// (`user:password`) when given.
    pub fn connect(addr: SocketAddr, timeout: Duration, digest: Option<&str>) -> Result<Session, SessionError> {
        let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(CONNECT_TIMEOUT))?;
        let now = Instant::now();
        let mut s = Session {
            stream,
            timeout: CONNECT_TIMEOUT,
            next_xid: 1,
            buf: Vec::new(),
            last_sent: now,
            last_heard: now,
            events: VecDeque::new(),
        };
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        s.send(&proto::connect_request(ms))?;
        let payload = s.read_frame(now + CONNECT_TIMEOUT)?;
        let resp = proto::decode_connect_response(&payload)?;
        if resp.timeout_ms <= 0 {
            return Err(SessionError::Expired);
        }
        s.timeout = Duration::from_millis(resp.timeout_ms as u64);
        if let Some(digest) = digest {
            s.send(&proto::auth_request("digest", digest.as_bytes()))?;
            loop {
                let deadline = s.silence_deadline();
                let payload = s.read_frame(deadline)?;
                match proto::decode_incoming(&payload)? {
                    Incoming::Auth { err: err::OK } => break,
                    Incoming::Auth { .. } => return Err(SessionError::AuthFailed),
                    Incoming::Event(e) => s.queue(e),
                    _ => {}
                }
            }
        }
        Ok(s)
    }

    /// The session timeout the server granted.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `getChildren(path, watch)`: `Ok(Err(code))` when the server answered with an error code
    /// (such as [`err::NO_NODE`]).
    pub fn get_children(&mut self, path: &str, watch: bool) -> Result<Result<Vec<String>, i32>, SessionError> {
        let (code, body) = self.call(|xid| proto::get_children_request(xid, path, watch))?;
        if code != err::OK {
            return Ok(Err(code));
        }
        Ok(Ok(proto::decode_children(&body)?
            .into_iter()
            .map(str::to_owned)
            .collect()))
    }

    /// `getData(path, watch)`.
    pub fn get_data(&mut self, path: &str, watch: bool) -> Result<Result<Vec<u8>, i32>, SessionError> {
        let (code, body) = self.call(|xid| proto::get_data_request(xid, path, watch))?;
        if code != err::OK {
            return Ok(Err(code));
        }
        Ok(Ok(proto::decode_data(&body)?.to_vec()))
    }

    /// Sends a request that `build` encodes for the transaction ID it is given, and returns the reply's
    /// error code and body. The detector only reads (the methods above); tests register fake masters
    /// through this with requests of their own.
    #[cfg(any(test, feature = "internals"))]
    pub fn request(&mut self, build: impl FnOnce(i32) -> Vec<u8>) -> Result<(i32, Vec<u8>), SessionError> {
        self.call(build)
    }

    /// Ends the session: the server deletes its ephemeral nodes at once.
    #[cfg(any(test, feature = "internals"))]
    pub fn close(mut self) -> Result<(), SessionError> {
        self.call(proto::close_request).map(|_| ())
    }

    /// Waits until a watch fires or `until` passes (`Ok(None)`), pinging to keep the session alive.
    pub fn wait_event(&mut self, until: Instant) -> Result<Option<Event>, SessionError> {
        loop {
            if let Some(e) = self.events.pop_front() {
                return Ok(Some(e));
            }
            let now = Instant::now();
            if now >= until {
                return Ok(None);
            }
            let deadline = until.min(self.silence_deadline()).min(self.next_ping());
            match self.read_frame(deadline) {
                Ok(payload) => match proto::decode_incoming(&payload)? {
                    Incoming::Event(e) => self.queue(e),
                    Incoming::Pong | Incoming::Auth { .. } | Incoming::Reply { .. } => {}
                },
                Err(SessionError::Silent(_)) if Instant::now() < self.silence_deadline() => {}
                Err(e) => return Err(e),
            }
            if Instant::now() >= self.next_ping() {
                self.send(&proto::ping_request())?;
            }
        }
    }

    /// Sends one numbered request and reads until its reply; watch events read meanwhile are queued.
    fn call(&mut self, request: impl FnOnce(i32) -> Vec<u8>) -> Result<(i32, Vec<u8>), SessionError> {
        let xid = self.next_xid;
        self.next_xid = if xid >= i32::MAX - 1 { 1 } else { xid + 1 };
        self.send(&request(xid))?;
        loop {
            let payload = self.read_frame(self.silence_deadline())?;
            match proto::decode_incoming(&payload)? {
                Incoming::Reply { xid: got, err, body } if got == xid => {
                    if err == err::SESSION_EXPIRED {
                        return Err(SessionError::Expired);
                    }
                    return Ok((err, body.to_vec()));
                }
                Incoming::Event(e) => self.queue(e),
                _ => {}
            }
        }
    }

    fn queue(&mut self, e: proto::WatchEvent<'_>) {
        // A state change (kind None) says the session is disconnected or expired; the next request
        // finds out which.
        self.events.push_back(Event {
            kind: e.kind,
            path: e.path.to_owned(),
        });
    }

    /// Quiet for two thirds of the session timeout means the server is gone (as the Java client judges).
    fn silence_deadline(&self) -> Instant {
        self.last_heard + self.timeout * 2 / 3
    }

    /// Pings go out after a third of the session timeout without sending anything.
    fn next_ping(&self) -> Instant {
        self.last_sent + self.timeout / 3
    }

    fn send(&mut self, frame: &[u8]) -> Result<(), SessionError> {
        self.stream.write_all(frame)?;
        self.last_sent = Instant::now();
        Ok(())
    }

    /// Reads one frame's payload, waiting until `deadline` at most (then [`SessionError::Silent`]).
    fn read_frame(&mut self, deadline: Instant) -> Result<Vec<u8>, SessionError> {
        loop {
            if self.buf.len() >= 4 {
                let len = proto::frame_len([self.buf[0], self.buf[1], self.buf[2], self.buf[3]])?;
                if self.buf.len() >= 4 + len {
                    let payload = self.buf[4..4 + len].to_vec();
                    self.buf.drain(..4 + len);
                    return Ok(payload);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(SessionError::Silent(now.saturating_duration_since(self.last_heard)));
            }
            let wait = (deadline - now).max(Duration::from_millis(1));
            self.stream.set_read_timeout(Some(wait))?;
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(SessionError::Closed),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    self.last_heard = Instant::now();
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}
