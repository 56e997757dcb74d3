//! The event loop: one thread, one `mio::Poll`, serving DNS over UDP and TCP (RFC 7766: 2-octet length
//! framing, pipelined queries answered in order, idle timeout, connection cap, bounded output
//! buffering). It only moves bytes: what to answer is [`answer::answer`]'s business, and the records come
//! from the snapshot the refresher swaps in.
//!
//! | token                      | what it is                                   |
//! |----------------------------|----------------------------------------------|
//! | `UDP`                      | the DNS UDP socket                           |
//! | `TCP`                      | the DNS TCP listener                         |
//! | `WAKE`                     | the waker: another thread asks the loop to look at its stop flag |
//! | `HTTP`                     | the HTTP API listener                        |
//! | `HTTP_BASE+`               | one HTTP API connection                      |
//! | `forward::UDP_TOKEN_BASE+` | a relay socket towards the upstream resolvers |
//! | `CONN_BASE+`               | one accepted DNS TCP connection              |
//! | `forward::TCP_TOKEN_BASE+` | a TCP connection to an upstream resolver     |

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use mio::net::{TcpListener, TcpStream, UdpSocket};
use mio::{Events, Interest, Poll, Token};

use crate::answer::{answer, error_reply, Outcome, Transport};
use crate::config::Config;
use crate::forward::{self, Client, Forwarder, Upstreams};
use crate::http::conn::HttpConn;
use crate::http::{route, ApiContext};
use crate::metrics::{self, Kind, Metrics, RefreshStatus};
use crate::records::Records;
use crate::wire::{rcode, MAX_MESSAGE};

const UDP: Token = Token(0);
const TCP: Token = Token(1);
const WAKE: Token = Token(2);
const HTTP: Token = Token(3);
const HTTP_BASE: usize = 3 << 20;
/// HTTP API connections at most; more are closed at once.
const MAX_HTTP_CONNECTIONS: usize = 64;
const CONN_BASE: usize = 1 << 20;
const CONN_END: usize = forward::TCP_TOKEN_BASE;

/// How often the relay counters are logged (when they changed).
const STATS_EVERY: Duration = Duration::from_secs(60);

/// Datagrams handled per wake-up before other sockets get a turn.
const UDP_BURST: usize = 64;

/// Limits of the TCP side.
#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
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

/// What the loop needs to know besides the sockets.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Relay names outside the domain (`externalon`); when off they get REFUSED.
    pub external_on: bool,
    /// Where to relay them.
    pub upstreams: Upstreams,
    /// How long to wait for one resolver (`timeout`).
    pub relay_timeout: Duration,
    pub tcp: TcpLimits,
}

/// The DNS server: its sockets, bound before anything else starts. Either part may be off (`dnson`,
/// `httpon`): the original serves the HTTP API without DNS too.
pub struct Server {
    poll: Poll,
    /// The DNS UDP socket and TCP listener, on the same address.
    dns: Option<(UdpSocket, TcpListener)>,
    http: Option<TcpListener>,
    forwarder: Forwarder,
    waker: Arc<mio::Waker>,
    settings: Settings,
}

/// One TCP client.
struct Conn {
    stream: TcpStream,
    /// Who this connection is to the forwarder (slot and generation).
    client: Client,
    /// Received bytes not yet answered (at most one partial frame beyond what is being processed).
    input: Vec<u8>,
    /// Framed answers not yet written, from `written` on.
    output: Vec<u8>,
    written: usize,
    /// Last time a query was completed (or the connection opened).
    progress: Instant,
    /// The peer closed its side: finish writing, then close.
    peer_closed: bool,
}

impl Server {
    /// Binds the UDP socket and TCP listener on `dns`, and the HTTP API on `http`, each if given.
    pub fn bind(dns: Option<SocketAddr>, http: Option<SocketAddr>, settings: Settings) -> io::Result<Server> {
        let poll = Poll::new()?;
        let dns = match dns {
            Some(addr) => {
                let mut udp = UdpSocket::bind(addr)?;
                let mut tcp = TcpListener::bind(addr)?;
                poll.registry().register(&mut udp, UDP, Interest::READABLE)?;
                poll.registry().register(&mut tcp, TCP, Interest::READABLE)?;
                Some((udp, tcp))
            }
            None => None,
        };
        let http = match http {
            Some(at) => {
                let mut listener = TcpListener::bind(at)?;
                poll.registry().register(&mut listener, HTTP, Interest::READABLE)?;
                Some(listener)
            }
            None => None,
        };
        let forwarder = Forwarder::new(settings.upstreams.clone(), settings.relay_timeout, poll.registry())?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKE)?);
        Ok(Server {
            poll,
            dns,
            http,
            forwarder,
            waker,
            settings,
        })
    }

    /// Wakes the loop from another thread (after setting the stop flag, so it stops at once).
    pub fn waker(&self) -> Arc<mio::Waker> {
        self.waker.clone()
    }

    /// The bound DNS address (UDP; the TCP listener is on the same address and port), if it serves DNS.
    pub fn dns_addr(&self) -> Option<SocketAddr> {
        self.dns.as_ref().and_then(|(udp, _)| udp.local_addr().ok())
    }

    /// The bound HTTP API address, if it serves one.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().and_then(|h| h.local_addr().ok())
    }

    /// Serves until `stop` is set (checked at least once a second).
    pub fn run(self, records: Arc<ArcSwap<Records>>, stop: Arc<AtomicBool>, api: Api) -> io::Result<()> {
        let Server {
            mut poll,
            dns: dns_sockets,
            http,
            mut forwarder,
            settings,
            ..
        } = self;
        let mut events = Events::with_capacity(256);
        let mut conns = Conns::default();
        let mut buf = vec![0u8; MAX_MESSAGE].into_boxed_slice();
        let mut out = vec![0u8; MAX_MESSAGE].into_boxed_slice();
        let mut rng = Rng::seeded();
        let mut udp_backlog = false;
        let mut busy: Vec<usize> = Vec::new();
        let mut still_busy: Vec<usize> = Vec::new();
        let mut last_sweep = Instant::now();
        let mut last_stats = (Instant::now(), forwarder.stats);
        let mut metrics = Metrics::default();
        let mut http_conns: Vec<Option<(TcpStream, HttpConn)>> = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let mut timeout = if udp_backlog || !busy.is_empty() {
                Duration::ZERO
            } else {
                Duration::from_secs(1)
            };
            if let Some(due) = forwarder.next_deadline() {
                timeout = timeout.min(due.saturating_duration_since(Instant::now()));
            }
            if let Err(e) = poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let registry = poll.registry();
            let snapshot = records.load();
            let mut dns = Dns {
                records: &snapshot,
                out: &mut out,
                rng: &mut rng,
                external_on: settings.external_on,
                forwarder: &mut forwarder,
                registry,
                metrics: &mut metrics,
            };
            let udp = dns_sockets.as_ref().map(|(udp, _)| udp);
            if let Some(udp) = udp.filter(|_| udp_backlog || events.iter().any(|e| e.token() == UDP)) {
                udp_backlog = serve_udp(udp, &mut buf, &mut dns);
            }
            let ready = events
                .iter()
                .map(|e| e.token().0)
                .filter(|t| (CONN_BASE..CONN_END).contains(t));
            for slot in busy.drain(..).chain(ready.map(|t| t - CONN_BASE)) {
                let step = match conns.get_mut(slot) {
                    Some(conn) => conn.on_event(&mut buf, &mut dns, &settings.tcp),
                    None => continue,
                };
                match step {
                    Step::Close => conns.close(registry, slot),
                    Step::Busy if !still_busy.contains(&slot) => still_busy.push(slot),
                    Step::Busy | Step::Wait => {}
                }
            }
            std::mem::swap(&mut busy, &mut still_busy);
            for event in events.iter() {
                match event.token().0 {
                    t if t == TCP.0 => {
                        if let Some((_, tcp)) = &dns_sockets {
                            accept(tcp, registry, &mut conns, &settings.tcp, &forwarder)
                        }
                    }
                    t if (forward::UDP_TOKEN_BASE..CONN_BASE).contains(&t) => {
                        forwarder.on_udp_ready(t - forward::UDP_TOKEN_BASE, &mut buf, registry)
                    }
                    t if (forward::TCP_TOKEN_BASE..HTTP_BASE).contains(&t) => {
                        forwarder.on_tcp_ready(t - forward::TCP_TOKEN_BASE, registry)
                    }
                    _ => {}
                }
            }
            forwarder.expire(Instant::now(), registry);
            for (client, answer) in forwarder.outbox() {
                deliver(udp, &mut conns, client, &answer);
                let transport = if matches!(client, Client::Udp(_)) {
                    Transport::Udp
                } else {
                    Transport::Tcp
                };
                metrics.response(transport, &answer);
            }
            if let Some(listener) = &http {
                if events.iter().any(|e| e.token() == HTTP) {
                    accept_http(listener, registry, &mut http_conns);
                }
                let ready = events.iter().filter_map(|e| e.token().0.checked_sub(HTTP_BASE));
                for slot in ready.collect::<Vec<_>>() {
                    let Some((stream, conn)) = http_conns.get_mut(slot).and_then(Option::as_mut) else {
                        continue;
                    };
                    let view = ApiView {
                        api: &api,
                        records: &snapshot,
                        metrics: &metrics,
                        relay: forwarder.stats,
                        tcp_open: conns.open,
                    };
                    let mut statuses = Vec::new();
                    let open = conn.on_ready(stream, &mut |method, path| {
                        let response = view.respond(method, path);
                        statuses.push(response.status);
                        response
                    });
                    for status in statuses {
                        metrics.http(status);
                    }
                    if !open {
                        close_http(registry, &mut http_conns, slot);
                    }
                }
            }
            if last_sweep.elapsed() >= Duration::from_millis(500) {
                last_sweep = Instant::now();
                conns.close_idle(registry, settings.tcp.idle_timeout);
                for slot in 0..http_conns.len() {
                    let idle = http_conns[slot]
                        .as_ref()
                        .is_some_and(|(_, c)| c.last_activity.elapsed() > settings.tcp.idle_timeout);
                    if idle {
                        close_http(registry, &mut http_conns, slot);
                    }
                }
            }
            if last_stats.0.elapsed() >= STATS_EVERY && forwarder.stats != last_stats.1 {
                let s = forwarder.stats;
                log::info!(
                    "relay: {} relayed, {} answered, {} SERVFAIL, {} timeouts, {} errors, {} rejected (spoofed or stray)",
                    s.relayed,
                    s.answered,
                    s.servfail,
                    s.timeouts,
                    s.errors,
                    s.rejected
                );
                last_stats = (Instant::now(), s);
            }
        }
        Ok(())
    }
}

/// What the HTTP API needs from outside the loop.
pub struct Api {
    /// The running config (reloaded on SIGHUP).
    pub config: Arc<ArcSwap<Config>>,
    /// The refresher's figures.
    pub refresh: Arc<RefreshStatus>,
}

/// One turn's view of everything the HTTP routes read.
struct ApiView<'a> {
    api: &'a Api,
    records: &'a Records,
    metrics: &'a Metrics,
    relay: forward::RelayStats,
    tcp_open: usize,
}

impl ApiView<'_> {
    fn respond(&self, method: &str, path: &str) -> crate::http::Response {
        let config = self.api.config.load();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let render = || {
            metrics::render(&metrics::Snapshot {
                metrics: self.metrics,
                relay: self.relay,
                refresh: &self.api.refresh,
                records: self.records,
                tcp_open: self.tcp_open,
                now_ms,
            })
        };
        let ctx = ApiContext {
            config: &config,
            records: self.records,
            readiness: self.api.refresh.readiness(now_ms, config.refresh_seconds),
            metrics: &render,
        };
        route(method, path, &ctx)
    }
}

/// Accepts waiting HTTP connections; past the cap they are closed at once.
fn accept_http(listener: &TcpListener, registry: &mio::Registry, conns: &mut Vec<Option<(TcpStream, HttpConn)>>) {
    loop {
        let mut stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        if conns.iter().flatten().count() >= MAX_HTTP_CONNECTIONS {
            continue;
        }
        let slot = conns.iter().position(Option::is_none).unwrap_or_else(|| {
            conns.push(None);
            conns.len() - 1
        });
        if registry
            .register(
                &mut stream,
                Token(HTTP_BASE + slot),
                Interest::READABLE | Interest::WRITABLE,
            )
            .is_ok()
        {
            conns[slot] = Some((stream, HttpConn::new()));
        }
    }
}

fn close_http(registry: &mio::Registry, conns: &mut [Option<(TcpStream, HttpConn)>], slot: usize) {
    if let Some((mut stream, _)) = conns.get_mut(slot).and_then(Option::take) {
        let _ = registry.deregister(&mut stream);
    }
}

/// Sends a relayed answer to its client: a datagram, or a frame on its TCP connection if that is still
/// the same connection.
fn deliver(udp: Option<&UdpSocket>, conns: &mut Conns, client: Client, answer: &[u8]) {
    match client {
        Client::Udp(peer) => {
            if let Some(udp) = udp {
                let _ = udp.send_to(answer, peer);
            }
        }
        Client::Tcp { slot, .. } => {
            if let Some(conn) = conns.get_mut(slot).filter(|c| c.client == client) {
                conn.output.extend_from_slice(&(answer.len() as u16).to_be_bytes());
                conn.output.extend_from_slice(answer);
                // Edge-triggered: write now, or no writable event may ever come. Errors surface later.
                let _ = conn.flush();
            }
        }
    }
}

/// The open TCP connections, by slot.
#[derive(Default)]
struct Conns {
    slots: Vec<Option<Conn>>,
    free: Vec<usize>,
    open: usize,
    generation: u64,
}

impl Conns {
    fn get_mut(&mut self, slot: usize) -> Option<&mut Conn> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    fn close(&mut self, registry: &mio::Registry, slot: usize) {
        if let Some(mut conn) = self.slots.get_mut(slot).and_then(Option::take) {
            let _ = registry.deregister(&mut conn.stream);
            self.free.push(slot);
            self.open -= 1;
        }
    }

    /// Closes connections that completed no query for `idle` (slow or silent clients).
    fn close_idle(&mut self, registry: &mio::Registry, idle: Duration) {
        for slot in 0..self.slots.len() {
            if self.slots[slot].as_ref().is_some_and(|c| c.progress.elapsed() > idle) {
                self.close(registry, slot);
            }
        }
    }
}

/// Accepts every waiting connection; past the cap they are closed at once.
fn accept(
    listener: &TcpListener,
    registry: &mio::Registry,
    conns: &mut Conns,
    limits: &TcpLimits,
    forwarder: &Forwarder,
) {
    loop {
        let (mut stream, peer) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // EMFILE and friends: leave the rest in the backlog until a connection closes.
                log::warn!("TCP accept failed: {e}");
                return;
            }
        };
        // Over the cap; or our own relay connection come back to us, which would loop: closing it fails
        // that relay attempt, and the client gets SERVFAIL once the resolvers are exhausted.
        if conns.open >= limits.max_connections || forwarder.is_own_connection(peer) {
            drop(stream);
            continue;
        }
        let slot = conns.free.pop().unwrap_or_else(|| {
            conns.slots.push(None);
            conns.slots.len() - 1
        });
        if slot >= CONN_END - CONN_BASE {
            conns.free.push(slot);
            continue;
        }
        if let Err(e) = registry.register(
            &mut stream,
            Token(slot + CONN_BASE),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            log::warn!("cannot register a TCP connection: {e}");
            conns.free.push(slot);
            continue;
        }
        conns.generation += 1;
        conns.slots[slot] = Some(Conn {
            stream,
            client: Client::Tcp {
                slot,
                generation: conns.generation,
            },
            input: Vec::with_capacity(512),
            output: Vec::new(),
            written: 0,
            progress: Instant::now(),
            peer_closed: false,
        });
        conns.open += 1;
    }
}

/// What answering needs, borrowed for one turn of the loop.
struct Dns<'a> {
    records: &'a Records,
    out: &'a mut [u8],
    rng: &'a mut Rng,
    external_on: bool,
    forwarder: &'a mut Forwarder,
    registry: &'a mio::Registry,
    metrics: &'a mut Metrics,
}

impl Dns<'_> {
    /// Answers one query into `self.out`: the length of the response, or `None` when there is nothing
    /// to send now (dropped, or relayed: its answer comes through the forwarder's outbox).
    fn respond(&mut self, query: &[u8], client: Client) -> Option<usize> {
        let transport = match client {
            Client::Udp(_) => Transport::Udp,
            Client::Tcp { .. } => Transport::Tcp,
        };
        let code = match answer(query, self.records, transport, self.rng.next(), self.out) {
            Outcome::Reply(n) => {
                self.metrics.query(transport, Kind::Authoritative);
                self.metrics.response(transport, &self.out[..n]);
                return Some(n);
            }
            Outcome::Drop => {
                self.metrics.query(transport, Kind::Dropped);
                return None;
            }
            Outcome::Outside if !self.external_on => rcode::REFUSED,
            // Our own relayed query came back (a resolver that forwards to us): stop the loop here.
            Outcome::Outside if matches!(client, Client::Udp(peer) if self.forwarder.is_own_query(peer, query)) => {
                rcode::SERVFAIL
            }
            Outcome::Outside => {
                self.metrics.query(transport, Kind::Relayed);
                self.forwarder.relay(query, client, self.registry);
                return None;
            }
        };
        self.metrics.query(transport, Kind::Refused);
        match error_reply(query, code, transport, self.out) {
            Outcome::Reply(n) => {
                self.metrics.response(transport, &self.out[..n]);
                Some(n)
            }
            _ => None,
        }
    }
}

/// Serves queued datagrams; true if more may be waiting (the burst ran out before `WouldBlock`).
fn serve_udp(udp: &UdpSocket, buf: &mut [u8], dns: &mut Dns<'_>) -> bool {
    for _ in 0..UDP_BURST {
        let (n, peer) = match udp.recv_from(buf) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            // ICMP errors from earlier sends surface here; they concern nobody now.
            Err(_) => continue,
        };
        if let Some(len) = dns.respond(&buf[..n], Client::Udp(peer)) {
            // A full send buffer drops the answer, as the network could; the client retries.
            let _ = udp.send_to(&dns.out[..len], peer);
        }
    }
    true
}

/// What a connection needs after handling its readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Close it.
    Close,
    /// Nothing until its socket is ready again.
    Wait,
    /// More work is ready (input left or unread): come back on the next turn without waiting.
    Busy,
}

/// Read/answer/write rounds per turn before other sockets get theirs.
const TCP_ROUNDS: usize = 4;

impl Conn {
    /// Reads, answers and writes as far as the sockets allow, within a few rounds.
    fn on_event(&mut self, buf: &mut [u8], dns: &mut Dns<'_>, limits: &TcpLimits) -> Step {
        for _ in 0..TCP_ROUNDS {
            let Some(unread) = self.read(buf, limits) else {
                return Step::Close;
            };
            self.answer_frames(dns, limits);
            if !self.flush() {
                return Step::Close;
            }
            let frame_ready = self.frame_ready();
            if self.peer_closed && self.output.is_empty() && !frame_ready {
                return Step::Close;
            }
            if !self.output.is_empty() {
                return Step::Wait; // a writable event follows when the client reads
            }
            if !unread && !frame_ready {
                return Step::Wait;
            }
        }
        Step::Busy
    }

    /// Whether a whole query frame is buffered.
    fn frame_ready(&self) -> bool {
        match self.input.get(..2) {
            Some(&[hi, lo]) => self.input.len() >= 2 + usize::from(u16::from_be_bytes([hi, lo])),
            _ => false,
        }
    }

    /// Reads what is available unless output or input is backed up. `None` on a fatal error, else
    /// whether the socket may still hold unread bytes.
    fn read(&mut self, buf: &mut [u8], limits: &TcpLimits) -> Option<bool> {
        loop {
            if self.peer_closed {
                return Some(false);
            }
            // Backpressure: a client that does not read its answers, or pipelines far ahead, waits.
            if self.output.len() - self.written >= limits.max_pending_output || self.input.len() >= 2 + MAX_MESSAGE {
                return Some(true);
            }
            match self.stream.read(buf) {
                Ok(0) => self.peer_closed = true,
                Ok(n) => self.input.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Some(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
    }

    /// Answers every complete frame, in order, while output has room.
    fn answer_frames(&mut self, dns: &mut Dns<'_>, limits: &TcpLimits) {
        let mut at = 0;
        while self.output.len() - self.written < limits.max_pending_output {
            let Some(&[hi, lo]) = self.input.get(at..at + 2) else {
                break;
            };
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            let Some(query) = self.input.get(at + 2..at + 2 + len) else {
                break;
            };
            if let Some(n) = dns.respond(query, self.client) {
                self.output.extend_from_slice(&(n as u16).to_be_bytes());
                self.output.extend_from_slice(&dns.out[..n]);
            }
            at += 2 + len;
            self.progress = Instant::now();
        }
        self.input.drain(..at);
    }

    /// Writes pending output. False on a fatal error.
    fn flush(&mut self) -> bool {
        while self.written < self.output.len() {
            match self.stream.write(&self.output[self.written..]) {
                Ok(0) => return false,
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
        self.output.clear();
        self.written = 0;
        true
    }
}

/// xorshift64*: cheap per-query randomness for answer order (not for anything security-related).
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng((t ^ u64::from(std::process::id()).rotate_left(32)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
