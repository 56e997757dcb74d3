//! One DNS-over-TCP client connection as a state machine without a socket or a clock (RFC 7766): it is
//! given the bytes received and the time, and says which queries to answer, what to write and whether
//! to read more, wait, or close. Owns the rules: 2-octet framing, pipelined queries answered in the order
//! received, a bound on answers queued for a client that does not read them (past it, its queries are
//! not read), an idle timeout counted from the last query completed, and the peer's half-close (answer
//! what was sent, then close). A zone transfer (AXFR, IXFR) the responder starts is streamed from here:
//! its next message is made only when the output has room, and queries after it wait until it is done.
//! The socket driver is `serve::sockets`; what each query gets is the responder's business.

use std::time::{Duration, Instant};

use crate::transfer::Transfer;
use crate::wire::tcp::{split_frame, OutBuf};
use crate::wire::MAX_MESSAGE;

/// A transfer's next message is made while less than this is queued (and the pending-output bound
/// allows): a slow secondary holds a few messages of memory, not the zone.
const TRANSFER_QUEUE: usize = 64 * 1024;

/// Limits of the TCP side.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TcpLimits {
    /// Open connections at most; more are accepted and closed at once.
    pub max_connections: usize,
    /// A connection that completes no query for this long is closed (RFC 7766 6.2.3).
    pub idle_timeout: Duration,
    /// Answers waiting for a client that does not read, at most; past that we stop reading its queries.
    pub max_pending_output: usize,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_connections: 512,
            idle_timeout: Duration::from_secs(10),
            max_pending_output: 256 * 1024,
        }
    }
}

/// Received bytes kept unanswered at most (one whole frame and the start of the next) before reading
/// stops until they are answered.
const MAX_PENDING_INPUT: usize = 2 + MAX_MESSAGE;

/// Gives each query its answer: the bytes to send back, or `None` when there is nothing to send now
/// (dropped, or relayed: a relayed answer arrives later through [`DnsConn::push_relayed`]).
pub(super) trait Respond {
    fn respond(&mut self, query: &[u8]) -> Option<&[u8]>;

    /// The transfer the last query started, if it did (its messages then follow through
    /// [`DnsConn::answer_queries`]).
    fn take_transfer(&mut self) -> Option<Box<Transfer>> {
        None
    }

    /// The time transfer messages are signed with (Unix seconds).
    fn unix_time(&self) -> u64 {
        0
    }
}

/// What the driver does after a round of reading, answering and writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// Close the connection.
    Close,
    /// Nothing to do until the socket is ready again.
    Wait,
    /// More work is ready now (a whole query buffered, or bytes left unread): go round again.
    Again,
}

/// The connection's buffers and what it knows of its peer.
pub(super) struct DnsConn {
    /// Received bytes; those before `answered` have been answered (dropped at the next receive).
    input: Vec<u8>,
    answered: usize,
    output: OutBuf,
    /// When the last query was completed (or the connection opened).
    progress: Instant,
    /// The peer closed its side: finish writing, then close.
    peer_closed: bool,
    /// The zone transfer being sent, if one is.
    transfer: Option<Box<Transfer>>,
}

impl DnsConn {
    /// A connection opened at `now`.
    pub(super) fn new(now: Instant) -> DnsConn {
        DnsConn {
            input: Vec::with_capacity(512),
            answered: 0,
            output: OutBuf::default(),
            progress: now,
            peer_closed: false,
            transfer: None,
        }
    }

    /// Whether to read from the socket now: not after the peer's half-close, nor while answers wait for a
    /// client that does not read them or queries wait to be answered (backpressure: its reads block).
    pub(super) fn wants_input(&self, limits: &TcpLimits) -> bool {
        !self.peer_closed
            && self.output.len() < limits.max_pending_output
            && self.input.len() - self.answered < MAX_PENDING_INPUT
    }

    /// Takes bytes read from the socket.
    pub(super) fn received(&mut self, bytes: &[u8]) {
        self.input.drain(..self.answered);
        self.answered = 0;
        self.input.extend_from_slice(bytes);
    }

    /// The peer closed its side (a read returned 0).
    pub(super) fn peer_closed(&mut self) {
        self.peer_closed = true;
    }

    /// Answers every whole query received, in order, while the output has room; each one completed at
    /// `now` (answered, dropped or relayed) counts as progress against the idle timeout.
    /// While a transfer is being sent, its messages come first (each one counts as progress) and later
    /// queries wait for it to end.
    pub(super) fn answer_queries(&mut self, now: Instant, limits: &TcpLimits, responder: &mut impl Respond) {
        loop {
            if !self.send_transfer(now, limits, responder) {
                return;
            }
            let Some((query, used)) = split_frame(&self.input[self.answered..]) else {
                break;
            };
            if self.output.len() >= limits.max_pending_output {
                return;
            }
            if let Some(answer) = responder.respond(query) {
                self.output.push_frame(answer);
            }
            self.answered += used;
            self.progress = now;
            self.transfer = responder.take_transfer();
        }
    }

    /// Queues the next messages of the transfer in progress while the output has room; true when no
    /// transfer is left (queries may be answered).
    fn send_transfer(&mut self, now: Instant, limits: &TcpLimits, responder: &impl Respond) -> bool {
        let Some(transfer) = &mut self.transfer else {
            return true;
        };
        let room = TRANSFER_QUEUE.min(limits.max_pending_output);
        while self.output.len() < room {
            match transfer.next_message(responder.unix_time()) {
                Some(message) => {
                    self.output.push_frame(message);
                    self.progress = now;
                }
                None => break,
            }
        }
        if transfer.is_done() {
            self.transfer = None;
            return true;
        }
        false
    }

    /// Queues the answer to a relayed query (it arrives when the resolver answers, so possibly after the
    /// answers to later queries: RFC 7766 6.2.1.1 lets a server answer out of order).
    pub(super) fn push_relayed(&mut self, answer: &[u8]) {
        self.output.push_frame(answer);
    }

    /// The answers queued for writing.
    pub(super) fn output(&mut self) -> &mut OutBuf {
        &mut self.output
    }

    /// What to do after a round; `socket_drained` says the last read found no more bytes (`WouldBlock`)
    /// rather than stopping because [`wants_input`](Self::wants_input) said no.
    pub(super) fn next(&self, socket_drained: bool) -> Next {
        let query_ready = split_frame(&self.input[self.answered..]).is_some() || self.transfer.is_some();
        let nothing_to_read = socket_drained || self.peer_closed;
        if self.peer_closed && self.output.is_empty() && !query_ready {
            Next::Close
        } else if !self.output.is_empty() || (nothing_to_read && !query_ready) {
            // With answers queued, a writable event follows when the client reads them.
            Next::Wait
        } else {
            Next::Again
        }
    }

    /// Whether it has completed no query for longer than the idle timeout (slow or silent clients, and
    /// clients that do not read their answers, are closed).
    pub(super) fn is_idle(&self, now: Instant, limits: &TcpLimits) -> bool {
        now.saturating_duration_since(self.progress) > limits.idle_timeout
    }
}

#[cfg(test)]
mod tests;
