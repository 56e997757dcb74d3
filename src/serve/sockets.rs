//! The thin socket drivers of the event loop: receive a burst of datagrams and send their answers,
//! accept connections into the slabs (past the cap they are closed at once), and move a connection's
//! bytes between its socket and its state machine ([`DnsConn`], [`HttpConn`]). No decision about a
//! connection is made here: those are the state machines'; what a query gets is the [`Responder`]'s.

use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry};

use crate::forward::{Client, Forwarder};
use crate::http::conn::{HttpConn, Progress};

use super::api::ApiView;
use super::respond::{Context, ForClient, Responder};
use super::rrl::{self, Limiter, Verdict};
use super::slab::{Key, Slab};
use super::tcp::{DnsConn, Next, TcpLimits};
use super::udp::{DnsUdp, BATCH};
use super::SocketId;

/// Datagrams handled per wake-up before other sockets get a turn (in batches of [`BATCH`]).
const UDP_BURST: usize = 64;
/// A slipped answer is the header and question: the largest question is 12 + 255 + 4 bytes.
const SLIPPED_MAX: usize = 512;
/// Read/answer/write rounds per turn for one TCP connection before other sockets get theirs.
const TCP_ROUNDS: usize = 4;

/// One accepted DNS TCP client.
pub(super) struct DnsClient {
    stream: TcpStream,
    /// Its address (zone transfers are allowed by it).
    peer: std::net::SocketAddr,
    pub conn: DnsConn,
}

/// One accepted HTTP API client.
pub(super) struct HttpClient {
    stream: TcpStream,
    pub conn: HttpConn,
}

/// What a connection needs after its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Close it.
    Close,
    /// Nothing until its socket is ready again.
    Wait,
    /// It used its rounds with work left: come back on the next turn without waiting.
    Busy,
}

/// Serves queued datagrams, a batch at a time, their answers within `limiter`'s rate if given; true if
/// more may be waiting (the burst ran out before the socket was read dry). A batch shorter than
/// [`BATCH`] took every datagram there was: one that arrives later wakes the loop again (each datagram is
/// an edge for epoll).
pub(super) fn serve_udp(
    udp: &DnsUdp,
    responder: &mut Responder,
    cx: &mut Context<'_>,
    mut limiter: Option<&mut Limiter>,
) -> bool {
    let Ok(mut batch) = udp.batch.try_borrow_mut() else {
        return false;
    };
    for _ in 0..UDP_BURST / BATCH {
        let got = match udp.recv_batch(&mut batch) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            // ICMP errors from earlier sends surface here; they concern nobody now.
            Err(_) => continue,
        };
        for i in 0..batch.len() {
            let Some((query, peer, local)) = batch.datagram(i) else {
                continue;
            };
            let Some(answer) = responder.respond(query, Client::Udp { peer, local }, peer, cx) else {
                continue;
            };
            // A valid server cookie (RFC 7873) shows the source is not forged: never limited.
            let verdict = limiter
                .as_deref_mut()
                .map_or(Verdict::Send, |l| l.check(peer.ip(), cx.cookie_verified, cx.now));
            match verdict {
                Verdict::Send => batch.reply(answer, peer, local),
                Verdict::Slip => {
                    let mut short = [0u8; SLIPPED_MAX];
                    if let Some(n) = rrl::slipped(answer, &mut short) {
                        batch.reply(&short[..n], peer, local);
                    }
                }
                Verdict::Drop => {}
            }
            responder.metrics.rate_limit(verdict);
        }
        udp.send_batch(&mut batch);
        if got < BATCH {
            return false;
        }
    }
    true
}

/// Sends `answer` to `peer` (from `local`), unless `limiter` holds it back: then an empty truncated
/// form is sent in its place ([`Verdict::Slip`]), or nothing. `verified`: the query carried a valid
/// server cookie.
#[inline]
pub(super) fn send_udp(
    udp: &DnsUdp,
    answer: &[u8],
    peer: SocketAddr,
    local: Option<IpAddr>,
    limiter: Option<&mut Limiter>,
    verified: bool,
    now: Instant,
) -> Verdict {
    let verdict = limiter.map_or(Verdict::Send, |l| l.check(peer.ip(), verified, now));
    // A full send buffer drops an answer, as the network could; the client retries.
    match verdict {
        Verdict::Send => {
            let _ = udp.send(answer, peer, local);
        }
        Verdict::Slip => {
            let mut short = [0u8; SLIPPED_MAX];
            if let Some(n) = rrl::slipped(answer, &mut short) {
                let _ = udp.send(&short[..n], peer, local);
            }
        }
        Verdict::Drop => {}
    }
    verdict
}

/// Accepts every waiting DNS connection. Past the cap, and our own relay connections come back to us
/// (which would loop: closing it fails that relay attempt), are closed at once. Returns how many were
/// closed for the cap.
pub(super) fn accept_dns(
    listener: &TcpListener,
    registry: &Registry,
    clients: &mut Slab<DnsClient>,
    forwarder: &Forwarder,
    now: Instant,
) -> u64 {
    let mut refused = 0;
    while let Some((mut stream, peer)) = accept(listener) {
        if forwarder.is_own_connection(peer) {
            continue;
        }
        let Some(slot) = clients.vacant() else {
            refused += 1;
            continue;
        };
        if let Err(e) = registry.register(
            &mut stream,
            SocketId::DnsConn(slot).token(),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            log::warn!("cannot register a TCP connection: {e}");
            continue;
        }
        let conn = DnsConn::new(now);
        // `vacant` said there is room.
        let _ = clients.insert(DnsClient { stream, peer, conn });
    }
    refused
}

/// Accepts every waiting HTTP connection; past the cap they are closed at once.
pub(super) fn accept_http(listener: &TcpListener, registry: &Registry, clients: &mut Slab<HttpClient>) {
    while let Some((mut stream, _)) = accept(listener) {
        let Some(slot) = clients.vacant() else {
            continue;
        };
        let token = SocketId::HttpConn(slot).token();
        if registry
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .is_ok()
        {
            let _ = clients.insert(HttpClient {
                stream,
                conn: HttpConn::new(),
            });
        }
    }
}

/// The next waiting connection, or `None` when there is none now.
fn accept(listener: &TcpListener) -> Option<(TcpStream, std::net::SocketAddr)> {
    loop {
        match listener.accept() {
            Ok(accepted) => return Some(accepted),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // EMFILE and friends: leave the rest in the backlog until a connection closes.
                log::warn!("TCP accept failed: {e}");
                return None;
            }
        }
    }
}

/// The forwarder's name for the DNS client `key` names.
pub(super) fn tcp_client(key: Key) -> Client {
    Client::Tcp {
        slot: key.slot,
        generation: key.generation,
    }
}

/// Reads, answers and writes for one DNS connection as far as its socket allows, within a few rounds.
pub(super) fn serve_dns_client(
    client: &mut DnsClient,
    key: Key,
    buf: &mut [u8],
    responder: &mut Responder,
    cx: &mut Context<'_>,
    limits: &TcpLimits,
    now: Instant,
) -> Step {
    let mut responder = ForClient {
        responder,
        client: tcp_client(key),
        peer: client.peer,
        cx,
    };
    for _ in 0..TCP_ROUNDS {
        let Some(drained) = read(&mut client.stream, &mut client.conn, buf, limits) else {
            return Step::Close;
        };
        client.conn.answer_queries(now, limits, &mut responder);
        if !client.conn.output().flush_to(&mut client.stream) {
            return Step::Close;
        }
        match client.conn.next(drained) {
            Next::Close => return Step::Close,
            Next::Wait => return Step::Wait,
            Next::Again => {}
        }
    }
    Step::Busy
}

/// Reads while the connection wants input. `None` on a fatal error, else whether the socket was read
/// dry (`WouldBlock`) rather than left with bytes in it.
fn read(stream: &mut TcpStream, conn: &mut DnsConn, buf: &mut [u8], limits: &TcpLimits) -> Option<bool> {
    while conn.wants_input(limits) {
        match stream.read(buf) {
            Ok(0) => conn.peer_closed(),
            Ok(n) => conn.received(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Some(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(false)
}

/// Sends a relayed answer to its client: a datagram, or a frame on its TCP connection if that is still
/// the same connection.
pub(super) fn deliver(udp: Option<&DnsUdp>, clients: &mut Slab<DnsClient>, client: Client, answer: &[u8]) {
    match client {
        Client::Udp { peer, local } => {
            if let Some(udp) = udp {
                let _ = udp.send(answer, peer, local);
            }
        }
        Client::Tcp { slot, generation } => {
            if let Some(c) = clients.get_by_key(Key { slot, generation }) {
                c.conn.push_relayed(answer);
                // Edge-triggered: write now, or no writable event may ever come. Errors surface later.
                let _ = c.conn.output().flush_to(&mut c.stream);
            }
        }
        // The forwarder keeps a prefetch's answer to itself.
        Client::Prefetch => {}
    }
}

/// Serves one HTTP connection's requests from `view` (and the next chunk of a streamed response);
/// returns the statuses given (for the counters) through `status`.
pub(crate) fn serve_http_client(client: &mut HttpClient, view: &ApiView<'_>, status: &mut impl FnMut(u16)) -> Step {
    let progress = client.conn.on_ready(&mut client.stream, &mut |method, path| {
        let response = view.respond(method, path);
        status(response.status);
        response
    });
    match progress {
        Progress::Close => Step::Close,
        Progress::Wait => Step::Wait,
        Progress::Busy => Step::Busy,
    }
}

/// Closes a DNS connection.
pub(super) fn close_dns(registry: &Registry, mut client: DnsClient) {
    let _ = registry.deregister(&mut client.stream);
}

/// Closes an HTTP connection.
pub(super) fn close_http(registry: &Registry, mut client: HttpClient) {
    let _ = registry.deregister(&mut client.stream);
}
