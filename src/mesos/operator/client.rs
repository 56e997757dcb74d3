//! The HTTP side of a subscription: `POST /api/v1` `{"type":"SUBSCRIBE"}` to the leading master and read
//! its RecordIO body on a thread of its own (`mesos-dns-stream`), handing each decoded event to the
//! refresher through a channel and waking it. The thread ends when the stream does (and says why), or
//! when the refresher drops its end.

use std::fmt;
use std::io::BufReader;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, Thread};
use std::time::Duration;

use super::event::{self, Event};
use super::recordio::{skip, FrameError, Frames};
use crate::mesos::access::CONNECT_TIMEOUT;
use crate::mesos::access::{with_authorization, Access, SendError};

/// A master sends a heartbeat every 15 s by default; three missed ones mean the stream is dead even if
/// TCP has not noticed.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(45);

/// The largest record accepted. Records are parsed as they arrive, never held whole, so this bounds
/// nothing but a garbage length: 8 GiB takes `SUBSCRIBED` of a cluster of about ten million tasks
/// (81 MB per 100k).
const MAX_RECORD_BYTES: u64 = 8 << 30;

/// The stream is read through a buffer of this size (the only buffer it has).
const READ_BUFFER: usize = 64 * 1024;

/// Events waiting for the refresher at most; the reader blocks (and the master's TCP buffers fill)
/// when the refresher falls this far behind, rather than memory growing.
const CHANNEL_CAPACITY: usize = 4096;

/// What the reader thread tells the refresher.
#[derive(Debug)]
pub(crate) enum Message {
    /// Boxed: `SUBSCRIBED` aside, events are small, and the channel holds thousands of slots.
    Event(Box<Event>),
    /// The stream is over; nothing follows.
    Ended(StreamError),
}

/// Why a subscription ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StreamError {
    /// Connecting, sending or reading failed (refused, reset, timed out).
    Http(String),
    /// The IAM login the subscription needs failed.
    Login(String),
    /// The master answered the SUBSCRIBE call with another status than 200 (a master before 1.0 has
    /// no `/api/v1`; a non-leading master redirects).
    Status(u16),
    /// The master closed the stream.
    Closed,
    /// The body is not a RecordIO stream of events.
    Protocol(String),
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Http(e) | StreamError::Login(e) => write!(f, "{e}"),
            StreamError::Status(s) => write!(f, "the SUBSCRIBE call got HTTP status {s}"),
            StreamError::Closed => write!(f, "the master closed the event stream"),
            StreamError::Protocol(e) => write!(f, "{e}"),
        }
    }
}

/// Starts a subscription to `url` (`http://host:port/api/v1`); `wake` is unparked after each message.
pub(crate) fn subscribe(url: String, access: Access, wake: Thread) -> std::io::Result<Receiver<Message>> {
    let (tx, rx) = mpsc::sync_channel(CHANNEL_CAPACITY);
    thread::Builder::new().name("mesos-dns-stream".into()).spawn(move || {
        let end = match read_stream(&url, &access, &tx, &wake) {
            Ok(()) => return, // the refresher hung up
            Err(e) => e,
        };
        let _ = tx.send(Message::Ended(end));
        wake.unpark();
    })?;
    Ok(rx)
}

/// Reads events until the stream ends (`Err`) or the receiver is gone (`Ok`).
fn read_stream(url: &str, access: &Access, tx: &SyncSender<Message>, wake: &Thread) -> Result<(), StreamError> {
    let agent = access
        .agent_config()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(READ_TIMEOUT))
        .timeout_per_read(Some(READ_TIMEOUT))
        .build()
        .new_agent();
    let subscribe = |authorization: Option<&str>| {
        with_authorization(agent.post(url), authorization)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(r#"{"type":"SUBSCRIBE"}"#)
    };
    let resp = access.send(subscribe).map_err(|e| match e {
        SendError::Login(e) => StreamError::Login(e.to_string()),
        SendError::Http(e) => StreamError::Http(e.to_string()),
    })?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(StreamError::Status(status));
    }
    let body = BufReader::with_capacity(READ_BUFFER, resp.into_body().into_reader());
    let mut frames = Frames::new(body, MAX_RECORD_BYTES);
    loop {
        let length = match frames.next_length() {
            Ok(Some(length)) => length,
            Ok(None) => return Err(StreamError::Closed),
            Err(FrameError::Io(e)) => return Err(StreamError::Http(e.to_string())),
            Err(e) => return Err(StreamError::Protocol(e.to_string())),
        };
        // Parsed straight from the stream: `SUBSCRIBED` (the whole cluster) is never held whole.
        let mut record = frames.body(length);
        let event = event::decode_from(&mut record).map_err(|e| match record.left() {
            // The stream broke inside the record: a connection problem, not a bad record.
            left if left > 0 && e.is_io() => StreamError::Http(e.to_string()),
            _ => StreamError::Protocol(e.to_string()),
        })?;
        // A record that parsed whole has been read to its end; this only checks it.
        skip(&mut record).map_err(|e| StreamError::Http(e.to_string()))?;
        if tx.send(Message::Event(Box::new(event))).is_err() {
            return Ok(());
        }
        wake.unpark();
    }
}
