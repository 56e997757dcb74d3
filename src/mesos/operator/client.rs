//! The HTTP side of a subscription: `POST /api/v1` `{"type":"SUBSCRIBE"}` to the leading master and read
//! its RecordIO body on a thread of its own (`mesos-dns-stream`), handing each decoded event to the
//! refresher through a channel and waking it. The thread ends when the stream does (and says why), or
//! when the refresher drops its end.

use std::fmt;
use std::io::Read;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, Thread};
use std::time::Duration;

use super::event::{self, Event};
use super::recordio::Decoder;
use crate::mesos::access::{with_authorization, Access, SendError};
use crate::mesos::fetch::{CONNECT_TIMEOUT, MAX_BODY_BYTES};

/// A master sends a heartbeat every 15 s by default; three missed ones mean the stream is dead even if
/// TCP has not noticed.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(45);

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
    let mut body = resp.into_body().into_reader();
    // The first record is the whole state: allow what a state document may be.
    let mut decoder = Decoder::new(MAX_BODY_BYTES);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => return Err(StreamError::Closed),
            Ok(n) => n,
            Err(e) => return Err(StreamError::Http(e.to_string())),
        };
        decoder.push(&buf[..n]);
        let mut sent = false;
        while let Some(record) = decoder
            .next_record()
            .map_err(|e| StreamError::Protocol(e.to_string()))?
        {
            let event = event::decode(record).map_err(|e| StreamError::Protocol(e.to_string()))?;
            if tx.send(Message::Event(Box::new(event))).is_err() {
                return Ok(());
            }
            sent = true;
        }
        if sent {
            wake.unpark();
        }
    }
}
