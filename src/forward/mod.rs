//! Relaying queries for names outside the domain to upstream resolvers, inside the event loop and
//! without blocking it. The decisions (pending queries, IDs, timeouts, the next resolver, TCP after a
//! truncated answer, RFC 5452 checks, SERVFAIL) are [`table`]'s; this file is its socket driver: it owns
//! the UDP relay sockets and the upstream TCP connections, carries out the table's I/O commands, and
//! tells the table what the sockets did and when. The upstream answer goes back byte for byte but for
//! the ID; ICMP errors on the sockets go to the table too (`icmp.rs`). Which resolver is up, its RTT
//! and when it is probed are [`health`]'s. Repeated questions are answered from the [`cache`] without
//! a socket; who may relay at all is [`acl`]'s decision; SIGHUP hands a new [`RelayConfig`] to
//! [`Forwarder::reconfigure`].
//!
//! The event loop owns the `Poll`; this module registers its sockets under the tokens from
//! [`UDP_TOKEN_BASE`] and [`TCP_TOKEN_BASE`], and queues answers in an outbox the loop drains.

pub(crate) mod acl;
mod buffers;
pub(crate) mod cache;
pub(crate) mod health;
mod icmp;
pub(crate) mod table;
mod truncate;
mod upstreams;
mod verify;

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::{TcpStream, UdpSocket};
use mio::{Interest, Registry, Token};

use crate::answer::Transport;
use crate::config::{Cidr, Config};
use crate::wire::tcp::{split_frame, OutBuf};

pub use crate::random::SecureRandom;
pub(crate) use buffers::{set_udp_buffers, UdpBuffers};
pub use cache::CacheConfig;
pub use table::Client;
pub(crate) use table::RelayCookie;
pub(crate) use table::RelayStats;
pub use upstreams::Upstreams;
// The relay's pure parts, for the fuzz targets and tests (`src/internals.rs`).
#[cfg(any(test, feature = "internals"))]
pub use {
    truncate::client_udp_limit,
    upstreams::parse_resolv_conf,
    verify::{verify, Accepted},
};

use table::{Io, Table};

/// Tokens of the upstream UDP sockets: `UDP_TOKEN_BASE + i`.
pub(crate) const UDP_TOKEN_BASE: usize = 16;
/// Tokens of upstream TCP connections: `TCP_TOKEN_BASE + slot`.
pub(crate) const TCP_TOKEN_BASE: usize = 2 << 20;
/// UDP sockets per address family, each on a random port; each query picks one at random.
const SOCKETS_PER_FAMILY: usize = 4;
/// Datagrams read per readiness event of a socket, so one busy socket cannot starve the loop.
const READS_PER_EVENT: usize = 256;

struct UpstreamTcp {
    stream: TcpStream,
    /// The framed query, as far as it is written.
    output: OutBuf,
    input: Vec<u8>,
}

/// What the relay is told by the config, at start and on SIGHUP.
#[derive(Debug, Clone, Default)]
pub(crate) struct RelayConfig {
    /// Where to relay (`resolvers`, `zoneResolvers`, or resolv.conf's nameservers).
    pub upstreams: Upstreams,
    /// How long to wait for one resolver (`timeout`).
    pub timeout: Duration,
    /// The answer cache (`cacheOn`, `cacheMaxEntries`, `serveStaleSeconds`); `None`: no cache.
    pub cache: Option<CacheConfig>,
    /// Who may relay (`relayAllowFrom`, or its default); empty: nobody.
    pub allow_from: Vec<Cidr>,
}

impl RelayConfig {
    /// The config's relay settings around `upstreams` (which take resolv.conf and our own addresses
    /// into account: see [`Upstreams::new_with_local`]).
    pub(crate) fn from_config(config: &Config, upstreams: Upstreams) -> RelayConfig {
        RelayConfig {
            upstreams,
            timeout: Duration::from_secs(config.timeout),
            cache: config.cache_on.then(|| CacheConfig {
                max_entries: config.cache_max_entries as usize,
                serve_stale: Duration::from_secs(u64::from(config.serve_stale_seconds)),
            }),
            allow_from: config.relay_allow_from.clone(),
        }
    }
}

/// The relay: its sockets and connections around the [`Table`] of pending queries.
pub(crate) struct Forwarder {
    table: Table,
    sockets: Vec<UdpSocket>,
    tcp: Vec<Option<UpstreamTcp>>,
    allow_from: Vec<Cidr>,
    buffers: UdpBuffers,
    random: SecureRandom,
    /// The table's counters, as of the end of the last call.
    pub stats: RelayStats,
}

impl Forwarder {
    /// Binds the UDP sockets for the address families of the resolvers, on random ports, and registers
    /// them, with `buffers` asked for each. Fails if the OS gives no random numbers: relaying with
    /// predictable IDs and ports would invite cache poisoning (RFC 5452).
    pub(crate) fn new(config: RelayConfig, buffers: UdpBuffers, registry: &Registry) -> io::Result<Forwarder> {
        let no_random = |e| {
            io::Error::other(format!(
                "the relay needs random query IDs and ports, but the operating system gives no random numbers: {e}"
            ))
        };
        let random = SecureRandom::new().map_err(no_random)?;
        let mut forwarder = Forwarder {
            table: Table::new(
                config.upstreams.clone(),
                config.timeout,
                Vec::new(),
                SecureRandom::new().map_err(no_random)?,
                config.cache,
            ),
            sockets: Vec::new(),
            tcp: Vec::new(),
            allow_from: config.allow_from,
            buffers,
            random,
            stats: RelayStats::default(),
        };
        forwarder.bind_families(&config.upstreams, registry)?;
        Ok(forwarder)
    }

    /// Binds [`SOCKETS_PER_FAMILY`] sockets for each address family `upstreams` use that has none yet.
    fn bind_families(&mut self, upstreams: &Upstreams, registry: &Registry) -> io::Result<()> {
        let families = [
            (upstreams.all().any(|a| a.is_ipv4()), IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            (upstreams.all().any(|a| a.is_ipv6()), IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        ];
        for (_, any) in families.into_iter().filter(|(used, _)| *used) {
            if self.table.sockets().iter().any(|s| s.is_ipv4() == any.is_ipv4()) {
                continue;
            }
            for _ in 0..SOCKETS_PER_FAMILY {
                let mut socket = bind_random_port(any, &mut self.random)?;
                set_udp_buffers(&socket, self.buffers, "relay socket");
                if let Err(e) = icmp::set_recverr(&socket, any.is_ipv4()) {
                    log::warn!(
                        "relay socket: cannot ask for ICMP errors ({e}): a closed resolver port costs the timeout"
                    );
                }
                let token = Token(UDP_TOKEN_BASE + self.sockets.len());
                registry.register(&mut socket, token, Interest::READABLE)?;
                self.table.add_socket(socket.local_addr()?);
                self.sockets.push(socket);
            }
        }
        Ok(())
    }

    /// Applies a reloaded config (SIGHUP): the new resolver lists and timeout (pending queries go on:
    /// see [`Table::set_upstreams`]), sockets for an address family not used before, the cache
    /// settings, who may relay. The cache is flushed whatever changed.
    pub(crate) fn reconfigure(&mut self, config: RelayConfig, registry: &Registry) {
        if let Err(e) = self.bind_families(&config.upstreams, registry) {
            log::error!("SIGHUP: cannot open relay sockets for the new resolvers: {e}");
        }
        self.table.set_upstreams(config.upstreams, config.timeout);
        self.table.set_cache(config.cache);
        self.table.flush_cache();
        self.allow_from = config.allow_from;
        self.stats = self.table.stats();
    }

    /// Forgets every cached answer.
    pub(crate) fn flush_cache(&mut self) {
        self.table.flush_cache();
        self.stats = self.table.stats();
    }

    /// Whether a client at `ip` may have names outside the domain relayed (`relayAllowFrom`).
    #[inline]
    pub(crate) fn allows(&self, ip: IpAddr) -> bool {
        acl::allowed(&self.allow_from, ip)
    }

    /// Answers `query` from the cache into `out`, if it holds a fresh answer; a popular entry about to
    /// expire is refreshed in the background (the client is answered at once all the same).
    #[inline]
    pub(crate) fn cached(
        &mut self,
        query: &crate::wire::Message<'_>,
        transport: Transport,
        now: Instant,
        out: &mut [u8],
        registry: &Registry,
    ) -> Option<usize> {
        let n = self.table.lookup(query, transport, now, out);
        if self.table.next_io_pending() {
            self.run(registry);
        } else {
            self.stats.cache = self.table.stats().cache;
        }
        n
    }

    /// Whether a UDP query is one we relayed, come back to us: see [`Table::is_own_query`].
    pub(crate) fn is_own_query(&self, peer: SocketAddr, query: &[u8]) -> bool {
        self.table.is_own_query(peer, query)
    }

    /// Whether a TCP connection accepted by the server is one of our own upstream connections: see
    /// [`Table::is_own_connection`].
    pub(crate) fn is_own_connection(&self, peer: SocketAddr) -> bool {
        self.table.is_own_connection(peer)
    }

    /// Answers ready for their clients (upstream answers with the client's ID, or SERVFAIL).
    #[cfg(test)]
    pub(crate) fn outbox(&mut self) -> impl Iterator<Item = (Client, Box<[u8]>)> + '_ {
        self.table.outbox()
    }

    /// [`Forwarder::outbox`], each answer with whether its query showed a valid server cookie (such an
    /// answer is never rate-limited).
    pub(crate) fn deliveries(&mut self) -> std::collections::vec_deque::Drain<'_, (Client, Box<[u8]>, bool)> {
        self.table.deliveries()
    }

    /// Number of queries waiting for an upstream.
    #[cfg(test)]
    pub(crate) fn pending_count(&self) -> usize {
        self.table.pending_count()
    }

    /// When the next timeout falls due, if any query is pending.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.table.next_deadline()
    }

    /// Takes a well-formed query for relaying. If it cannot be relayed (no resolver, table full), the
    /// client's SERVFAIL is queued at once.
    /// The client's answer carries `cookie`, our COOKIE option, if its query had a client cookie.
    pub(crate) fn relay(
        &mut self,
        query: &crate::wire::Message<'_>,
        client: Client,
        cookie: Option<RelayCookie>,
        registry: &Registry,
    ) {
        self.table.relay_with_cookie(query, client, cookie, Instant::now());
        self.run(registry);
    }

    /// Handles readiness of upstream UDP socket `index`.
    pub(crate) fn on_udp_ready(&mut self, index: usize, buf: &mut [u8], registry: &Registry) {
        for _ in 0..READS_PER_EVENT {
            let Some(socket) = self.sockets.get(index) else {
                return;
            };
            let (n, from) = match socket.recv_from(buf) {
                Ok(r) => r,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.take_icmp_errors(index, buf, registry);
                    return;
                }
                Err(_) => {
                    self.take_icmp_errors(index, buf, registry);
                    continue;
                }
            };
            self.table.on_udp_answer(index, from, &buf[..n], Instant::now());
            self.run(registry);
        }
    }

    /// Reports the ICMP errors queued on UDP socket `index` (a resolver's closed port) to the table.
    fn take_icmp_errors(&mut self, index: usize, buf: &mut [u8], registry: &Registry) {
        for _ in 0..READS_PER_EVENT {
            let Some((to, n)) = self.sockets.get(index).and_then(|s| icmp::take_error(s, buf)) else {
                return;
            };
            log::debug!("relay to {to}: unreachable");
            self.table.on_udp_unreachable(index, to, &buf[..n], Instant::now());
            self.run(registry);
        }
    }

    /// Every resolver's health and counters (`/metrics`).
    pub(crate) fn resolvers(&self) -> &[health::ResolverHealth] {
        self.table.resolvers()
    }

    /// Handles readiness of upstream TCP connection `conn`.
    pub(crate) fn on_tcp_ready(&mut self, conn: usize, registry: &Registry) {
        let Some(c) = self.tcp.get_mut(conn).and_then(Option::as_mut) else {
            return;
        };
        match drive_tcp(c) {
            Ok(None) => return,
            Ok(Some(len)) => self.table.on_tcp_answer(conn, &c.input[2..2 + len], Instant::now()),
            Err(e) => {
                log::debug!("relay over TCP failed: {e}");
                self.table.on_tcp_failed(conn, Instant::now());
            }
        }
        self.run(registry);
    }

    /// Times out attempts that are due: the next resolver is asked, or the client gets SERVFAIL.
    pub(crate) fn expire(&mut self, now: Instant, registry: &Registry) {
        self.table.expire(now);
        self.run(registry);
    }

    /// Carries out the table's I/O commands, reporting failures back (which may queue more).
    fn run(&mut self, registry: &Registry) {
        while let Some(io) = self.table.next_io() {
            match io {
                Io::SendUdp { socket, to, attempt } => {
                    let (Some(s), Some(wire)) = (self.sockets.get(socket), self.table.wire(attempt)) else {
                        continue;
                    };
                    if let Err(e) = s.send_to(wire, to) {
                        log::debug!("relay to {to} failed: {e}");
                        self.table.on_send_failed(attempt, Instant::now());
                    }
                }
                Io::OpenTcp { conn, to, attempt } => {
                    let Some(wire) = self.table.wire(attempt) else { continue };
                    match open_tcp(conn, to, wire, registry) {
                        Ok(c) => {
                            if let Ok(local) = c.stream.local_addr() {
                                self.table.on_tcp_opened(conn, local);
                            }
                            if self.tcp.len() <= conn {
                                self.tcp.resize_with(conn + 1, || None);
                            }
                            self.tcp[conn] = Some(c);
                        }
                        Err(e) => {
                            log::debug!("relay to {to} over TCP failed: {e}");
                            self.table.on_tcp_failed(conn, Instant::now());
                        }
                    }
                }
                Io::CloseTcp { conn } => {
                    if let Some(mut c) = self.tcp.get_mut(conn).and_then(Option::take) {
                        let _ = registry.deregister(&mut c.stream);
                    }
                }
            }
        }
        self.stats = self.table.stats();
    }
}

/// Connects to `to` and registers the connection as `conn`, with `wire` framed as its output.
fn open_tcp(conn: usize, to: SocketAddr, wire: &[u8], registry: &Registry) -> io::Result<UpstreamTcp> {
    // A frame says at most 65535 octets (`push_frame` would queue nothing).
    u16::try_from(wire.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut stream = TcpStream::connect(to)?;
    registry.register(
        &mut stream,
        Token(TCP_TOKEN_BASE + conn),
        Interest::READABLE | Interest::WRITABLE,
    )?;
    let mut output = OutBuf::default();
    output.push_frame(wire);
    Ok(UpstreamTcp {
        stream,
        output,
        input: Vec::new(),
    })
}

/// Writes the framed query and reads the framed answer as far as the socket allows; the answer, once
/// whole, is `input[2..2 + len]`.
fn drive_tcp(c: &mut UpstreamTcp) -> io::Result<Option<usize>> {
    if let Some(e) = c.stream.take_error()? {
        return Err(e);
    }
    if !c.output.is_empty() {
        // Connecting: there is no peer until the connection is made (the next writable event).
        match c.stream.peer_addr() {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(None),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        if !c.output.flush_to(&mut c.stream) {
            return Err(io::ErrorKind::WriteZero.into());
        }
        if !c.output.is_empty() {
            return Ok(None);
        }
    }
    let mut buf = [0u8; 4096];
    loop {
        if let Some((answer, _)) = split_frame(&c.input) {
            return Ok(Some(answer.len()));
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
        let Some(offset) = random.below(65536 - 1024) else {
            break;
        };
        let port = 1024 + offset as u16;
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
        let relay = RelayConfig {
            upstreams,
            timeout: Duration::from_secs(5),
            cache: None,
            allow_from: Vec::new(),
        };
        Forwarder::new(relay, UdpBuffers::default(), poll.registry()).unwrap()
    }

    #[test]
    fn our_own_relayed_udp_query_is_recognised_whatever_the_sender_ip() {
        let poll = mio::Poll::new().unwrap();
        let upstream = StdUdp::bind("127.0.0.1:0").unwrap();
        let mut f = forwarder(upstream.local_addr().unwrap(), &poll);
        f.relay(
            &crate::wire::Message::parse(&query(0x1111)).unwrap(),
            Client::Udp {
                peer: "127.0.0.1:40000".parse().unwrap(),
                local: None,
            },
            None,
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
        f.relay(
            &crate::wire::Message::parse(&query(0x2222)).unwrap(),
            Client::Tcp { slot: 0, generation: 1 },
            None,
            poll.registry(),
        );
        let (_conn, peer) = listener.accept().unwrap();
        assert!(f.is_own_connection(peer));
        assert!(!f.is_own_connection("127.0.0.1:1".parse().unwrap()));
    }

    /// Polls until the outbox has something, dispatching the forwarder's events.
    fn wait_outbox(f: &mut Forwarder, poll: &mut mio::Poll, buf: &mut [u8]) -> Vec<(Client, Box<[u8]>)> {
        let started = Instant::now();
        let mut events = mio::Events::with_capacity(16);
        loop {
            let out: Vec<_> = f.outbox().collect();
            if !out.is_empty() {
                return out;
            }
            assert!(started.elapsed() < Duration::from_secs(3), "nothing for the client");
            poll.poll(&mut events, Some(Duration::from_millis(100))).unwrap();
            for token in events.iter().map(|e| e.token().0) {
                if token >= TCP_TOKEN_BASE {
                    f.on_tcp_ready(token - TCP_TOKEN_BASE, poll.registry());
                } else {
                    f.on_udp_ready(token - UDP_TOKEN_BASE, buf, poll.registry());
                }
            }
        }
    }

    #[test]
    fn the_upstream_udp_answer_reaches_the_outbox_under_the_client_id() {
        let mut poll = mio::Poll::new().unwrap();
        let upstream = StdUdp::bind("127.0.0.1:0").unwrap();
        let mut f = forwarder(upstream.local_addr().unwrap(), &poll);
        let client = Client::Udp {
            peer: "127.0.0.1:40000".parse().unwrap(),
            local: None,
        };
        f.relay(
            &crate::wire::Message::parse(&query(0x4444)).unwrap(),
            client,
            None,
            poll.registry(),
        );
        let mut buf = [0u8; 512];
        let (n, from) = upstream.recv_from(&mut buf).unwrap();
        let mut answer = buf[..n].to_vec();
        answer[2] |= 0x80;
        upstream.send_to(&answer, from).unwrap();
        let out = wait_outbox(&mut f, &mut poll, &mut [0; 4096]);
        answer[..2].copy_from_slice(&0x4444u16.to_be_bytes());
        assert_eq!(out, [(client, answer.into_boxed_slice())]);
        assert_eq!((f.stats.answered, f.pending_count()), (1, 0));
    }

    #[test]
    fn a_refused_tcp_connect_fails_over_without_waiting_for_the_timeout() {
        let mut poll = mio::Poll::new().unwrap();
        // A port with nothing behind it.
        let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let mut f = forwarder(dead, &poll);
        let client = Client::Tcp { slot: 0, generation: 1 };
        f.relay(
            &crate::wire::Message::parse(&query(0x3333)).unwrap(),
            client,
            None,
            poll.registry(),
        );
        let out = wait_outbox(&mut f, &mut poll, &mut [0; 4096]);
        assert_eq!(out.len(), 1);
        let reply = crate::wire::Message::parse(&out[0].1).unwrap();
        assert_eq!((reply.id(), reply.rcode()), (0x3333, crate::wire::Rcode::SERVFAIL));
        assert_eq!((f.stats.errors, f.stats.timeouts, f.stats.servfail), (1, 0, 1));
    }
}
