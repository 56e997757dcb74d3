//! The ZooKeeper client protocol (jute encoding), the small part a read-only client needs: connect,
//! authenticate, `getChildren` with a watch, `getData`, ping, close, watch notifications; plus `create`
//! and `delete`, which the tests use to register fake masters the way Mesos does. Pure: bytes in, values
//! out, no socket. Every decoder takes untrusted bytes and returns a `Result`; counts and lengths are
//! checked against the bytes that are really there before anything is allocated.
//!
//! Framing: every message, both ways, is a 4-byte big-endian length followed by that many bytes.
//! Integers are big-endian; a string or buffer is an `int` length (-1 for null) and the bytes; a vector is
//! an `int` count and the elements.

use std::fmt;

/// The largest frame accepted from a server (ZooKeeper's own `jute.maxbuffer` default is 1 MiB of data;
/// a directory listing can be larger, but not this large for a Mesos group).
pub(crate) const MAX_FRAME: usize = 4 * 1024 * 1024;

/// Operation codes (`ZooDefs.OpCode`).
pub(crate) mod op {
    pub(crate) const GET_DATA: i32 = 4;
    pub(crate) const GET_CHILDREN: i32 = 8;
    pub(crate) const PING: i32 = 11;
    pub(crate) const AUTH: i32 = 100;
    #[cfg(any(test, feature = "internals"))]
    pub(crate) const CLOSE: i32 = -11;
}

/// Reserved transaction ids (`xid`s) of the replies that do not answer a numbered request.
pub(crate) mod xid {
    /// A watch notification.
    pub(crate) const WATCH_EVENT: i32 = -1;
    /// The answer to a ping.
    pub(crate) const PING: i32 = -2;
    /// The answer to an authentication packet.
    pub(crate) const AUTH: i32 = -4;
}

/// Server error codes (`KeeperException.Code`) that the client acts on.
pub mod err {
    /// Success.
    pub const OK: i32 = 0;
    /// The node does not exist.
    pub const NO_NODE: i32 = -101;
    /// The node exists already.
    #[cfg(any(test, feature = "internals"))]
    pub const NODE_EXISTS: i32 = -110;
    /// The session has expired: a new one is needed.
    pub const SESSION_EXPIRED: i32 = -112;
    /// Authentication failed.
    #[cfg(test)]
    pub const AUTH_FAILED: i32 = -115;
}

/// Watch event types (`Watcher.Event.EventType`).
pub(crate) mod event {
    pub(crate) const NONE: i32 = -1;
    pub(crate) const NODE_DELETED: i32 = 2;
    pub(crate) const NODE_CHILDREN_CHANGED: i32 = 4;
}

/// Why bytes from the server could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtoError {
    /// The message ended before the field named here.
    Truncated(&'static str),
    /// A length or count field is negative where that is not allowed, or larger than the bytes left.
    BadLength(&'static str),
    /// A string is not UTF-8.
    NotUtf8(&'static str),
    /// A frame announces more than [`MAX_FRAME`] bytes.
    FrameTooBig(usize),
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtoError::Truncated(what) => write!(f, "message ends before its {what}"),
            ProtoError::BadLength(what) => write!(f, "bad length of {what}"),
            ProtoError::NotUtf8(what) => write!(f, "{what} is not UTF-8"),
            ProtoError::FrameTooBig(n) => write!(f, "frame of {n} bytes is larger than {MAX_FRAME}"),
        }
    }
}

impl std::error::Error for ProtoError {}

// ---------------------------------------------------------------------------------------------------
// Encoding

/// Builds one length-prefixed frame.
struct Frame(Vec<u8>);

impl Frame {
    fn new() -> Frame {
        Frame(vec![0; 4])
    }
    fn int(mut self, v: i32) -> Frame {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn long(mut self, v: i64) -> Frame {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn boolean(mut self, v: bool) -> Frame {
        self.0.push(u8::from(v));
        self
    }
    fn buffer(self, v: &[u8]) -> Frame {
        // Paths and node data are far below 2 GiB; clamp rather than wrap if one ever were not.
        let len = i32::try_from(v.len()).unwrap_or(i32::MAX);
        let mut f = self.int(len);
        f.0.extend_from_slice(&v[..len as usize]);
        f
    }
    fn string(self, v: &str) -> Frame {
        self.buffer(v.as_bytes())
    }
    fn header(self, xid: i32, op: i32) -> Frame {
        self.int(xid).int(op)
    }
    fn finish(mut self) -> Vec<u8> {
        let len = u32::try_from(self.0.len() - 4).unwrap_or(u32::MAX);
        self.0[..4].copy_from_slice(&len.to_be_bytes());
        self.0
    }
}

/// The session request that opens every connection: a new session (id 0) asking for `timeout_ms`.
pub(crate) fn connect_request(timeout_ms: i32) -> Vec<u8> {
    Frame::new()
        .int(0) // protocol version
        .long(0) // last zxid seen
        .int(timeout_ms)
        .long(0) // session id: a new session
        .buffer(&[0; 16]) // password of that (new) session
        .boolean(false) // read-only mode not wanted
        .finish()
}

/// `addAuth(scheme, auth)`: the `digest` scheme takes `user:password`.
pub(crate) fn auth_request(scheme: &str, auth: &[u8]) -> Vec<u8> {
    Frame::new()
        .header(xid::AUTH, op::AUTH)
        .int(0) // type, unused
        .string(scheme)
        .buffer(auth)
        .finish()
}

/// `getChildren(path, watch)`.
pub(crate) fn get_children_request(xid: i32, path: &str, watch: bool) -> Vec<u8> {
    Frame::new()
        .header(xid, op::GET_CHILDREN)
        .string(path)
        .boolean(watch)
        .finish()
}

/// `getData(path, watch)`.
pub(crate) fn get_data_request(xid: i32, path: &str, watch: bool) -> Vec<u8> {
    Frame::new()
        .header(xid, op::GET_DATA)
        .string(path)
        .boolean(watch)
        .finish()
}

/// A ping, which keeps the session alive while nothing else is sent.
pub(crate) fn ping_request() -> Vec<u8> {
    Frame::new().header(xid::PING, op::PING).finish()
}

/// Ends the session at once (its ephemeral nodes go with it).
#[cfg(any(test, feature = "internals"))]
pub(crate) fn close_request(xid: i32) -> Vec<u8> {
    Frame::new().header(xid, op::CLOSE).finish()
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/// The length announced by a frame's 4-byte prefix, checked against [`MAX_FRAME`].
pub fn frame_len(prefix: [u8; 4]) -> Result<usize, ProtoError> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return Err(ProtoError::FrameTooBig(len));
    }
    Ok(len)
}

/// A cursor over untrusted bytes.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtoError> {
        if self.buf.len() < n {
            return Err(ProtoError::Truncated(what));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    fn int(&mut self, what: &'static str) -> Result<i32, ProtoError> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn long(&mut self, what: &'static str) -> Result<i64, ProtoError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }
    /// A buffer; null (-1) reads as empty.
    fn buffer(&mut self, what: &'static str) -> Result<&'a [u8], ProtoError> {
        let len = self.int(what)?;
        if len == -1 {
            return Ok(&[]);
        }
        let len = usize::try_from(len).map_err(|_| ProtoError::BadLength(what))?;
        if len > self.buf.len() {
            return Err(ProtoError::BadLength(what));
        }
        self.take(len, what)
    }
    fn string(&mut self, what: &'static str) -> Result<&'a str, ProtoError> {
        std::str::from_utf8(self.buffer(what)?).map_err(|_| ProtoError::NotUtf8(what))
    }
}

/// The server's answer to [`connect_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectResponse {
    /// The session timeout the server granted; 0 means the session is expired (not for a new one).
    pub timeout_ms: i32,
    pub session_id: i64,
}

/// Reads a connect response (the frame's payload, without the length prefix).
pub fn decode_connect_response(payload: &[u8]) -> Result<ConnectResponse, ProtoError> {
    let mut r = Reader { buf: payload };
    let _version = r.int("protocol version")?;
    let timeout_ms = r.int("session timeout")?;
    let session_id = r.long("session id")?;
    let _password = r.buffer("session password")?;
    // An optional read-only flag may follow: not needed.
    Ok(ConnectResponse { timeout_ms, session_id })
}

/// One frame from the server, classified by its `xid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A watch fired.
    Event(WatchEvent<'a>),
    /// The answer to a ping.
    Pong,
    /// The answer to an authentication packet (`err` 0, or [`err::AUTH_FAILED`]).
    Auth {
        /// The error code.
        err: i32,
    },
    /// The answer to the request numbered `xid`: `err` 0 and its `body`, or an error code.
    Reply {
        /// The request's number.
        xid: i32,
        /// The error code (0: none).
        err: i32,
        /// The reply's body.
        body: &'a [u8],
    },
}

/// A watch notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent<'a> {
    /// One of [`event`].
    pub kind: i32,
    /// The session state (3: connected).
    pub state: i32,
    pub path: &'a str,
}

/// Reads one frame's payload (after the length prefix).
pub fn decode_incoming(payload: &[u8]) -> Result<Incoming<'_>, ProtoError> {
    let mut r = Reader { buf: payload };
    let xid = r.int("xid")?;
    let _zxid = r.long("zxid")?;
    let err = r.int("error code")?;
    match xid {
        xid::WATCH_EVENT => {
            let kind = r.int("event type")?;
            let state = r.int("event state")?;
            let path = r.string("event path")?;
            Ok(Incoming::Event(WatchEvent { kind, state, path }))
        }
        xid::PING => Ok(Incoming::Pong),
        xid::AUTH => Ok(Incoming::Auth { err }),
        _ => Ok(Incoming::Reply { xid, err, body: r.buf }),
    }
}

/// The body of a `getChildren` reply: the children's names (not full paths), in the server's order.
pub fn decode_children(body: &[u8]) -> Result<Vec<&str>, ProtoError> {
    let mut r = Reader { buf: body };
    let count = r.int("child count")?;
    if count == -1 {
        return Ok(Vec::new());
    }
    let count = usize::try_from(count).map_err(|_| ProtoError::BadLength("child count"))?;
    // Every name takes at least its 4-byte length: a count beyond that is a lie, not an allocation.
    if count > r.buf.len() / 4 {
        return Err(ProtoError::BadLength("child count"));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(r.string("child name")?);
    }
    Ok(out)
}

/// The body of a `getData` reply: the node's data (the `Stat` after it is not needed).
pub fn decode_data(body: &[u8]) -> Result<&[u8], ProtoError> {
    Reader { buf: body }.buffer("node data")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(frame: &[u8]) -> &[u8] {
        let len = frame_len([frame[0], frame[1], frame[2], frame[3]]).unwrap();
        assert_eq!(len, frame.len() - 4, "the prefix is the payload's length");
        &frame[4..]
    }

    #[test]
    fn connect_request_matches_the_java_client() {
        // What ZooKeeper's own client sends for a new session with a 10 s timeout (jute ConnectRequest).
        let expected: Vec<u8> = [
            &[0, 0, 0, 45][..],
            &[0, 0, 0, 0],
            &[0; 8],
            &[0, 0, 0x27, 0x10],
            &[0; 8],
            &[0, 0, 0, 16],
            &[0; 16],
            &[0],
        ]
        .concat();
        assert_eq!(connect_request(10_000), expected);
    }

    #[test]
    fn get_children_request_layout() {
        let f = get_children_request(7, "/mesos", true);
        assert_eq!(
            payload(&f),
            [&[0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, 6][..], b"/mesos", &[1]].concat()
        );
    }

    #[test]
    fn ping_and_close_are_bare_headers() {
        assert_eq!(ping_request(), vec![0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]);
        assert_eq!(payload(&close_request(9)), &[0, 0, 0, 9, 0xff, 0xff, 0xff, 0xf5]);
    }

    #[test]
    fn connect_response_gives_timeout_and_session() {
        let mut p = vec![0, 0, 0, 0, 0, 0, 0x17, 0x70];
        p.extend_from_slice(&0x0102_0304_0506_0708i64.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 16]);
        p.extend_from_slice(&[7; 16]);
        p.push(0);
        let r = decode_connect_response(&p).unwrap();
        assert_eq!(r.timeout_ms, 6000);
        assert_eq!(r.session_id, 0x0102_0304_0506_0708);
        assert_eq!(
            decode_connect_response(&p[..10]),
            Err(ProtoError::Truncated("session id"))
        );
    }

    fn reply(xid: i32, err: i32, body: &[u8]) -> Vec<u8> {
        let mut p = xid.to_be_bytes().to_vec();
        p.extend_from_slice(&5i64.to_be_bytes());
        p.extend_from_slice(&err.to_be_bytes());
        p.extend_from_slice(body);
        p
    }

    #[test]
    fn replies_are_classified_by_xid() {
        let mut ev = Vec::new();
        ev.extend_from_slice(&4i32.to_be_bytes());
        ev.extend_from_slice(&3i32.to_be_bytes());
        ev.extend_from_slice(&[0, 0, 0, 6]);
        ev.extend_from_slice(b"/mesos");
        assert_eq!(
            decode_incoming(&reply(-1, 0, &ev)).unwrap(),
            Incoming::Event(WatchEvent {
                kind: event::NODE_CHILDREN_CHANGED,
                state: 3,
                path: "/mesos"
            })
        );
        assert_eq!(decode_incoming(&reply(-2, 0, &[])).unwrap(), Incoming::Pong);
        assert_eq!(
            decode_incoming(&reply(-4, err::AUTH_FAILED, &[])).unwrap(),
            Incoming::Auth { err: err::AUTH_FAILED }
        );
        assert_eq!(
            decode_incoming(&reply(12, err::NO_NODE, &[])).unwrap(),
            Incoming::Reply {
                xid: 12,
                err: err::NO_NODE,
                body: &[]
            }
        );
        assert_eq!(decode_incoming(&[0, 0, 0, 1, 0]), Err(ProtoError::Truncated("zxid")));
    }

    #[test]
    fn children_are_read_and_lying_counts_refused() {
        let mut body = vec![0, 0, 0, 2];
        for name in ["json.info_0000000001", "log_replicas"] {
            body.extend_from_slice(&(name.len() as i32).to_be_bytes());
            body.extend_from_slice(name.as_bytes());
        }
        assert_eq!(
            decode_children(&body).unwrap(),
            vec!["json.info_0000000001", "log_replicas"]
        );
        assert_eq!(decode_children(&[0, 0, 0, 0]).unwrap(), Vec::<&str>::new());
        assert_eq!(decode_children(&[0xff, 0xff, 0xff, 0xff]).unwrap(), Vec::<&str>::new());
        assert_eq!(
            decode_children(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
            Err(ProtoError::BadLength("child count"))
        );
        assert_eq!(
            decode_children(&[0xff, 0xff, 0xff, 0xfe]),
            Err(ProtoError::BadLength("child count"))
        );
        assert_eq!(
            decode_children(&[0, 0, 0, 1, 0, 0, 0, 9, b'a']),
            Err(ProtoError::BadLength("child name"))
        );
        assert_eq!(
            decode_children(&[0, 0, 0, 1, 0, 0, 0, 1, 0xff]),
            Err(ProtoError::NotUtf8("child name"))
        );
    }

    #[test]
    fn data_and_created_path() {
        let mut body = vec![0, 0, 0, 2, b'{', b'}'];
        body.extend_from_slice(&[0; 68]); // the Stat
        assert_eq!(decode_data(&body).unwrap(), b"{}");
        assert_eq!(decode_data(&[0xff, 0xff, 0xff, 0xff]).unwrap(), b"");
        assert!(decode_data(&[0, 0]).is_err());
    }

    #[test]
    fn oversized_frames_are_refused() {
        assert_eq!(frame_len([0, 0, 1, 0]), Ok(256));
        assert_eq!(
            frame_len([0xff, 0xff, 0xff, 0xff]),
            Err(ProtoError::FrameTooBig(0xffff_ffff))
        );
    }
}
