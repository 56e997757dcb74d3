//! Relaying queries for names outside the domain to upstream resolvers, inside the event loop and
//! without blocking it: a bounded table of pending queries keyed by (our socket, a fresh random ID),
//! answers accepted only from the resolver asked and only for the question asked (RFC 5452), a timeout
//! per resolver then the next one, TCP for TCP clients and for answers truncated over UDP, SERVFAIL when
//! every resolver has failed. The upstream answer goes back byte for byte but for the ID.
//!
//! The event loop owns the `Poll`; this module owns its sockets, registered under the tokens from
//! [`UDP_TOKEN_BASE`] and [`TCP_TOKEN_BASE`], and queues answers in an outbox the loop drains.

mod random;
mod upstreams;
mod verify;

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::{TcpStream, UdpSocket};
use mio::{Interest, Registry, Token};

pub use random::SecureRandom;
pub use upstreams::{parse_resolv_conf, ListId, Upstreams};
pub use verify::{client_udp_limit, verify, Accepted, Rejected};

use crate::answer::{error_reply, Outcome, Transport};
use crate::wire::{rcode, MAX_MESSAGE};

/// Tokens of the upstream UDP sockets: `UDP_TOKEN_BASE + i`.
pub const UDP_TOKEN_BASE: usize = 16;
/// Tokens of upstream TCP connections: `TCP_TOKEN_BASE + slot`.
pub const TCP_TOKEN_BASE: usize = 2 << 20;
/// UDP sockets per address family, each on a random port; each query picks one at random.
const SOCKETS_PER_FAMILY: usize = 4;
/// Pending queries at most; past that new ones get SERVFAIL at once.
pub const MAX_PENDING: usize = 4096;

/// Who is waiting for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Udp(SocketAddr),
    /// A TCP connection of the event loop: its slot and the generation that tells reuses apart.
    Tcp {
        slot: usize,
        generation: u64,
    },
}

impl Client {
    fn transport(self) -> Transport {
        match self {
            Client::Udp(_) => Transport::Udp,
            Client::Tcp { .. } => Transport::Tcp,
        }
    }
}

/// Counters of the relay path.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RelayStats {
    /// Queries taken for relaying.
    pub relayed: u64,
    /// Upstream answers passed back.
    pub answered: u64,
    /// Attempts that timed out.
    pub timeouts: u64,
    /// Attempts that failed otherwise (send, connect, TCP errors).
    pub errors: u64,
    /// Queries answered SERVFAIL because every resolver failed, or the table was full, or none is set.
    pub servfail: u64,
    /// Datagrams dropped: unknown ID, wrong source, wrong question, not a response (RFC 5452).
    pub rejected: u64,
}

/// How one attempt travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Udp { socket: usize, id: u16 },
    Tcp { slot: usize },
}

struct Pending {
    client: Client,
    client_id: u16,
    /// The client's query as received (our ID is written into the copy we send).
    query: Box<[u8]>,
    list: ListId,
    /// Index in the list of the resolver being asked.
    tried: usize,
    upstream: SocketAddr,
    via: Via,
    /// Identifies the current attempt, so stale timeouts are ignored.
    attempt: u64,
    /// An answer truncated over UDP, kept while the TCP retry runs (and sent if it fails).
    truncated: Option<Box<[u8]>>,
}

struct UpstreamTcp {
    stream: TcpStream,
    /// Our end of the connection (to recognise it if it comes back to us).
    local: Option<SocketAddr>,
    pending: usize,
    output: Vec<u8>,
    written: usize,
    input: Vec<u8>,
}

/// The relay: sockets, pending queries and counters.
pub struct Forwarder {
    upstreams: Upstreams,
    timeout: Duration,
    sockets: Vec<(UdpSocket, SocketAddr)>,
    tcp: Vec<Option<UpstreamTcp>>,
    tcp_free: Vec<usize>,
    pending: Vec<Option<Pending>>,
    free: Vec<usize>,
    by_id: HashMap<(usize, u16), usize>,
    deadlines: VecDeque<(Instant, usize, u64)>,
    attempts: u64,
    random: SecureRandom,
    scratch: Vec<u8>,
    /// Answers ready for clients, for the event loop to send.
    outbox: VecDeque<(Client, Box<[u8]>)>,
    pub stats: RelayStats,
}

impl Forwarder {
    /// Binds the UDP sockets for the address families of the resolvers, on random ports, and registers
    /// them. `timeout` is per resolver.
    pub fn new(upstreams: Upstreams, timeout: Duration, registry: &Registry) -> io::Result<Forwarder> {
        let mut random = SecureRandom::new();
        let mut sockets = Vec::new();
        let families = [
            (upstreams.all().any(|a| a.is_ipv4()), IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            (upstreams.all().any(|a| a.is_ipv6()), IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        ];
        for (_, any) in families.into_iter().filter(|(used, _)| *used) {
            for _ in 0..SOCKETS_PER_FAMILY {
                let mut socket = bind_random_port(any, &mut random)?;
                registry.register(&mut socket, Token(UDP_TOKEN_BASE + sockets.len()), Interest::READABLE)?;
                let local = socket.local_addr()?;
                sockets.push((socket, local));
            }
        }
        Ok(Forwarder {
            upstreams,
            timeout,
            sockets,
            tcp: Vec::new(),
            tcp_free: Vec::new(),
            pending: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            deadlines: VecDeque::new(),
            attempts: 0,
            random,
            scratch: Vec::with_capacity(MAX_MESSAGE),
            outbox: VecDeque::new(),
            stats: RelayStats::default(),
        })
    }

    /// Whether a UDP query is one we relayed, come back to us (a resolver that forwards to us): it comes
    /// from the port of one of our relay sockets with the ID of a query pending on it. The sender's IP
    /// is not checked: our own LAN address loops as well as loopback does.
    pub fn is_own_query(&self, peer: SocketAddr, query: &[u8]) -> bool {
        let Some(id) = crate::wire::read_u16(query, 0) else {
            return false;
        };
        self.sockets
            .iter()
            .enumerate()
            .any(|(i, (_, local))| local.port() == peer.port() && self.by_id.contains_key(&(i, id)))
    }

    /// Whether a TCP connection accepted by the server is one of our own upstream connections (its peer
    /// is the local end of a connection we opened): relaying on it would loop.
    pub fn is_own_connection(&self, peer: SocketAddr) -> bool {
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        self.tcp.iter().flatten().any(|c| c.local == Some(peer))
    }

    /// Answers ready for their clients (upstream answers with the client's ID, or SERVFAIL).
    pub fn outbox(&mut self) -> std::collections::vec_deque::Drain<'_, (Client, Box<[u8]>)> {
        self.outbox.drain(..)
    }

    /// Number of queries waiting for an upstream.
    pub fn pending_count(&self) -> usize {
        self.pending.len() - self.free.len()
    }

    /// When the next timeout falls due, if any query is pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.front().map(|d| d.0)
    }

    /// Takes a well-formed query for relaying. If it cannot be relayed (no resolver, table full), the
    /// client's SERVFAIL is queued at once.
    pub fn relay(&mut self, query: &[u8], client: Client, registry: &Registry) {
        self.stats.relayed += 1;
        let Ok(msg) = crate::wire::Message::parse(query) else {
            return;
        };
        let Some(q) = msg.question() else { return };
        let list = self.upstreams.select(&crate::wire::lower_name(&q.name));
        if self.upstreams.list(list).is_empty() || self.pending_count() >= MAX_PENDING {
            self.servfail(query, client);
            return;
        }
        let slot = self.free.pop().unwrap_or_else(|| {
            self.pending.push(None);
            self.pending.len() - 1
        });
        self.pending[slot] = Some(Pending {
            client,
            client_id: msg.id(),
            query: query.into(),
            list,
            tried: 0,
            upstream: self.upstreams.list(list)[0],
            via: Via::Tcp { slot: usize::MAX },
            attempt: 0,
            truncated: None,
        });
        let over_tcp = client.transport() == Transport::Tcp;
        self.start_attempt(slot, over_tcp, registry);
    }

    /// Sends the pending query `slot` to its current resolver; on an immediate failure moves on.
    fn start_attempt(&mut self, slot: usize, over_tcp: bool, registry: &Registry) {
        loop {
            let Some(p) = self.pending.get(slot).and_then(Option::as_ref) else {
                return;
            };
            let Some(&upstream) = self.upstreams.list(p.list).get(p.tried) else {
                self.finish_failed(slot, registry);
                return;
            };
            self.attempts += 1;
            let attempt = self.attempts;
            let started = if over_tcp {
                self.start_tcp(slot, upstream, registry)
            } else {
                self.start_udp(slot, upstream)
            };
            match started {
                Ok(via) => {
                    if let Some(p) = self.pending[slot].as_mut() {
                        p.upstream = upstream;
                        p.via = via;
                        p.attempt = attempt;
                    }
                    self.deadlines.push_back((Instant::now() + self.timeout, slot, attempt));
                    return;
                }
                Err(e) => {
                    log::debug!("relay to {upstream} failed: {e}");
                    self.stats.errors += 1;
                    if let Some(p) = self.pending[slot].as_mut() {
                        p.tried += 1;
                    }
                }
            }
        }
    }

    fn start_udp(&mut self, slot: usize, upstream: SocketAddr) -> io::Result<Via> {
        let family: Vec<usize> = (0..self.sockets.len())
            .filter(|&i| self.sockets[i].1.is_ipv4() == upstream.is_ipv4())
            .collect();
        if family.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no socket of that address family",
            ));
        }
        let socket = family[self.random.below(family.len())];
        let mut id = self.random.u16();
        while self.by_id.contains_key(&(socket, id)) {
            id = self.random.u16();
        }
        let Some(p) = self.pending[slot].as_ref() else {
            return Err(io::ErrorKind::NotFound.into());
        };
        self.scratch.clear();
        self.scratch.extend_from_slice(&p.query);
        self.scratch[..2].copy_from_slice(&id.to_be_bytes());
        self.sockets[socket].0.send_to(&self.scratch, upstream)?;
        self.by_id.insert((socket, id), slot);
        Ok(Via::Udp { socket, id })
    }

    fn start_tcp(&mut self, slot: usize, upstream: SocketAddr, registry: &Registry) -> io::Result<Via> {
        let mut stream = TcpStream::connect(upstream)?;
        let conn = self.tcp_free.pop().unwrap_or_else(|| {
            self.tcp.push(None);
            self.tcp.len() - 1
        });
        if let Err(e) = registry.register(
            &mut stream,
            Token(TCP_TOKEN_BASE + conn),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            self.tcp_free.push(conn);
            return Err(e);
        }
        let Some(p) = self.pending[slot].as_ref() else {
            return Err(io::ErrorKind::NotFound.into());
        };
        let mut output = Vec::with_capacity(p.query.len() + 2);
        output.extend_from_slice(&(p.query.len() as u16).to_be_bytes());
        output.extend_from_slice(&p.query);
        // A fresh ID on TCP too: the answer is matched to this connection, but the ID is checked as well.
        let id = self.random.u16();
        output[2..4].copy_from_slice(&id.to_be_bytes());
        let local = stream
            .local_addr()
            .ok()
            .map(|a| SocketAddr::new(a.ip().to_canonical(), a.port()));
        self.tcp[conn] = Some(UpstreamTcp {
            stream,
            local,
            pending: slot,
            output,
            written: 0,
            input: Vec::new(),
        });
        Ok(Via::Tcp { slot: conn })
    }

    /// Handles readiness of upstream UDP socket `index`.
    pub fn on_udp_ready(&mut self, index: usize, buf: &mut [u8], registry: &Registry) {
        for _ in 0..256 {
            let Some((socket, _)) = self.sockets.get(index) else {
                return;
            };
            let (n, from) = match socket.recv_from(buf) {
                Ok(r) => r,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => continue,
            };
            let answer = &buf[..n];
            let Some(id) = crate::wire::read_u16(answer, 0) else {
                continue;
            };
            let Some(&slot) = self.by_id.get(&(index, id)) else {
                self.stats.rejected += 1;
                continue;
            };
            let Some(p) = self.pending[slot].as_ref() else { continue };
            if from != p.upstream {
                self.stats.rejected += 1;
                continue;
            }
            match verify(&p.query, answer) {
                Err(_) => self.stats.rejected += 1,
                Ok(Accepted::Complete) => self.finish_answered(slot, answer, registry),
                Ok(Accepted::Truncated) => {
                    self.by_id.remove(&(index, id));
                    if let Some(p) = self.pending[slot].as_mut() {
                        p.truncated = Some(answer.into());
                    }
                    self.start_attempt(slot, true, registry);
                }
            }
        }
    }

    /// Handles readiness of upstream TCP connection `conn`.
    pub fn on_tcp_ready(&mut self, conn: usize, registry: &Registry) {
        let Some(c) = self.tcp.get_mut(conn).and_then(Option::as_mut) else {
            return;
        };
        let slot = c.pending;
        match drive_tcp(c) {
            Ok(None) => {}
            Ok(Some(answer)) => {
                let ok = self.pending[slot]
                    .as_ref()
                    .is_some_and(|p| verify(&p.query, &answer).is_ok() && answer.get(..2) == c_id(&self.tcp, conn));
                if ok {
                    self.finish_answered(slot, &answer, registry);
                } else {
                    self.stats.rejected += 1;
                    self.next_resolver(slot, registry);
                }
            }
            Err(e) => {
                log::debug!("relay over TCP failed: {e}");
                self.stats.errors += 1;
                self.next_resolver(slot, registry);
            }
        }
    }

    /// Times out attempts that are due: the next resolver is asked, or the client gets SERVFAIL.
    pub fn expire(&mut self, now: Instant, registry: &Registry) {
        while let Some(&(due, slot, attempt)) = self.deadlines.front() {
            if due > now {
                break;
            }
            self.deadlines.pop_front();
            if self
                .pending
                .get(slot)
                .and_then(Option::as_ref)
                .is_some_and(|p| p.attempt == attempt)
            {
                self.stats.timeouts += 1;
                self.next_resolver(slot, registry);
            }
        }
    }

    /// Gives up on the current attempt of `slot` and asks the next resolver.
    fn next_resolver(&mut self, slot: usize, registry: &Registry) {
        self.end_attempt(slot, registry);
        let Some(p) = self.pending[slot].as_mut() else { return };
        if p.truncated.is_some() {
            // The TCP retry of a truncated answer failed: the client gets the truncated answer and can
            // retry over TCP itself.
            self.finish_failed(slot, registry);
            return;
        }
        p.tried += 1;
        let over_tcp = p.client.transport() == Transport::Tcp;
        self.start_attempt(slot, over_tcp, registry);
    }

    /// Forgets the current attempt's ID or closes its connection.
    fn end_attempt(&mut self, slot: usize, registry: &Registry) {
        let Some(p) = self.pending.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        match p.via {
            Via::Udp { socket, id } => {
                self.by_id.remove(&(socket, id));
            }
            Via::Tcp { slot: conn } => {
                if let Some(mut c) = self.tcp.get_mut(conn).and_then(Option::take) {
                    let _ = registry.deregister(&mut c.stream);
                    self.tcp_free.push(conn);
                }
            }
        }
        p.via = Via::Tcp { slot: usize::MAX };
        p.attempt = 0;
    }

    fn finish_answered(&mut self, slot: usize, answer: &[u8], registry: &Registry) {
        self.end_attempt(slot, registry);
        let Some(p) = self.pending[slot].take() else { return };
        self.free.push(slot);
        let fits = match p.client {
            Client::Udp(_) => answer.len() <= client_udp_limit(&p.query),
            Client::Tcp { .. } => true,
        };
        let answer = match (&p.truncated, fits) {
            (Some(tc), false) => &tc[..],
            _ => answer,
        };
        self.stats.answered += 1;
        self.scratch.clear();
        self.scratch.extend_from_slice(answer);
        self.scratch[..2].copy_from_slice(&p.client_id.to_be_bytes());
        self.outbox.push_back((p.client, self.scratch.as_slice().into()));
    }

    /// Every resolver failed: SERVFAIL, or the truncated answer if one came.
    fn finish_failed(&mut self, slot: usize, registry: &Registry) {
        self.end_attempt(slot, registry);
        let Some(p) = self.pending[slot].take() else { return };
        self.free.push(slot);
        match p.truncated {
            Some(tc) => {
                self.stats.answered += 1;
                self.scratch.clear();
                self.scratch.extend_from_slice(&tc);
                self.scratch[..2].copy_from_slice(&p.client_id.to_be_bytes());
                self.outbox.push_back((p.client, self.scratch.as_slice().into()));
            }
            None => self.servfail(&p.query, p.client),
        }
    }

    fn servfail(&mut self, query: &[u8], client: Client) {
        self.stats.servfail += 1;
        self.scratch.resize(MAX_MESSAGE, 0);
        if let Outcome::Reply(n) = error_reply(query, rcode::SERVFAIL, client.transport(), &mut self.scratch) {
            self.outbox.push_back((client, self.scratch[..n].into()));
        }
    }
}

/// The ID we sent on upstream TCP connection `conn` (bytes 2..4 of its framed output).
fn c_id(tcp: &[Option<UpstreamTcp>], conn: usize) -> Option<&[u8]> {
    tcp.get(conn).and_then(Option::as_ref).and_then(|c| c.output.get(2..4))
}

/// Writes the framed query and reads the framed answer as far as the socket allows.
fn drive_tcp(c: &mut UpstreamTcp) -> io::Result<Option<Vec<u8>>> {
    if let Some(e) = c.stream.take_error()? {
        return Err(e);
    }
    while c.written < c.output.len() {
        match c.stream.write(&c.output[c.written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => c.written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::NotConnected => {
                return Ok(None)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut buf = [0u8; 4096];
    loop {
        if let Some(&[hi, lo]) = c.input.get(..2) {
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            if c.input.len() >= 2 + len {
                return Ok(Some(c.input[2..2 + len].to_vec()));
            }
        }
        match c.stream.read(&mut buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => c.input.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A UDP socket on a random port (RFC 5452 section 9.2), falling back to one the kernel picks.
fn bind_random_port(any: IpAddr, random: &mut SecureRandom) -> io::Result<UdpSocket> {
    for _ in 0..32 {
        let port = 1024 + random.below(65536 - 1024) as u16;
        if let Ok(s) = UdpSocket::bind(SocketAddr::new(any, port)) {
            return Ok(s);
        }
    }
    UdpSocket::bind(SocketAddr::new(any, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::net::{TcpListener, UdpSocket as StdUdp};

    fn query(id: u16) -> Vec<u8> {
        let mut q = id.to_be_bytes().to_vec();
        q.extend_from_slice(b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01");
        q
    }

    /// A forwarder whose only resolver is `upstream`, over a real (loopback) socket.
    fn forwarder(upstream: SocketAddr, poll: &mio::Poll) -> Forwarder {
        let config = Config {
            resolvers: vec![upstream],
            ..Config::default()
        };
        let (upstreams, _) = Upstreams::new(&config, None, "127.0.0.1:1".parse().unwrap());
        Forwarder::new(upstreams, Duration::from_secs(5), poll.registry()).unwrap()
    }

    #[test]
    fn our_own_relayed_udp_query_is_recognised_whatever_the_sender_ip() {
        let poll = mio::Poll::new().unwrap();
        let upstream = StdUdp::bind("127.0.0.1:0").unwrap();
        let mut f = forwarder(upstream.local_addr().unwrap(), &poll);
        f.relay(
            &query(0x1111),
            Client::Udp("127.0.0.1:40000".parse().unwrap()),
            poll.registry(),
        );
        let mut buf = [0u8; 512];
        let (n, from) = upstream.recv_from(&mut buf).unwrap();
        let relayed = &buf[..n];
        assert!(
            f.is_own_query(from, relayed),
            "the relayed query, seen arriving at our port"
        );
        // The same port and ID from another address is still ours (our LAN address loops too).
        let lan = SocketAddr::new("192.0.2.1".parse().unwrap(), from.port());
        assert!(f.is_own_query(lan, relayed));
        assert!(
            !f.is_own_query(from, &query(relayed[0] as u16 ^ 0xffff)),
            "another ID is a client's"
        );
        assert!(
            !f.is_own_query("127.0.0.1:40000".parse().unwrap(), relayed),
            "another port is a client's"
        );
    }

    #[test]
    fn our_own_upstream_tcp_connection_is_recognised() {
        let poll = mio::Poll::new().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut f = forwarder(listener.local_addr().unwrap(), &poll);
        f.relay(&query(0x2222), Client::Tcp { slot: 0, generation: 1 }, poll.registry());
        let (_conn, peer) = listener.accept().unwrap();
        assert!(f.is_own_connection(peer));
        assert!(!f.is_own_connection("127.0.0.1:1".parse().unwrap()));
    }
}
