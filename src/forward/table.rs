//! The relay without sockets: the table of pending relayed queries, their upstream IDs and deadlines,
//! which resolver is asked next, the TCP retry of answers truncated over UDP, the RFC 5452 checks on
//! what comes back (the resolver asked, the ID sent, the question asked), loop detection, and SERVFAIL
//! when every resolver has failed, or an expired cached answer in its place (serve-stale, RFC 8767),
//! which a client the resolvers keep waiting also gets at RFC 8767's client response timer.
//! Answers that come back go to the [`Cache`] too (which decides what it keeps); a cache hit that
//! asks for a prefetch is relayed here for a [`Client::Prefetch`], whose answer only refreshes the
//! cache.
//!
//! It takes bytes and the time (`now`) and returns decisions: I/O commands ([`Io`]) for the driver in
//! `forward/mod.rs` to carry out, and answers for clients in [`Table::outbox`]. The driver reports what
//! happened (a datagram arrived, a TCP answer arrived, a send or a connection failed), so every decision
//! here is unit-tested on virtual time without a socket.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::cache::{Cache, CacheConfig, CacheStats, Lookup};
use super::truncate::{fits_udp_client, truncated_reply};
use super::upstreams::{ListId, Upstreams};
use super::verify::{verify, Accepted, Verified};
use crate::answer::{error_reply, Outcome, Transport};
use crate::random::SecureRandom;
use crate::wire::{lower_name, rcode, read_u16, Message, MAX_MESSAGE};

/// Pending queries at most; past that new ones get SERVFAIL at once.
pub const MAX_PENDING: usize = 4096;

/// Who is waiting for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// A datagram's sender, and the address it sent to when we listen on every address (the answer
    /// must leave from there).
    Udp { peer: SocketAddr, local: Option<IpAddr> },
    /// A TCP connection of the event loop: its slot and the generation that tells reuses apart.
    Tcp { slot: usize, generation: u64 },
    /// Nobody: a refresh of a popular cache entry before it expires. Its answer goes to the cache only.
    Prefetch,
}

impl Client {
    fn transport(self) -> Transport {
        match self {
            Client::Udp { .. } | Client::Prefetch => Transport::Udp,
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
    /// Answers too big for their UDP client (or truncated upstream): sent as a truncated reply.
    pub truncated: u64,
    /// The answer cache's counters.
    pub cache: CacheStats,
}

/// One attempt of one pending query. It goes stale when the query moves on, so a late report about it
/// changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    slot: usize,
    number: u64,
}

/// What the driver is to do, in the order given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Io {
    /// Send [`Table::wire`]`(attempt)` from UDP socket `socket` to `to`; report a failure with
    /// [`Table::on_send_failed`].
    SendUdp {
        socket: usize,
        to: SocketAddr,
        attempt: Attempt,
    },
    /// Open a TCP connection to `to` and send [`Table::wire`]`(attempt)` framed on it. Report its
    /// local address ([`Table::on_tcp_opened`]), its answer ([`Table::on_tcp_answer`]) or its failure
    /// ([`Table::on_tcp_failed`]) under `conn`.
    OpenTcp {
        conn: usize,
        to: SocketAddr,
        attempt: Attempt,
    },
    /// Close TCP connection `conn`, if it is open. A later `OpenTcp` may reuse the number.
    CloseTcp { conn: usize },
}

/// How the current attempt travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Udp { socket: usize, id: u16 },
    Tcp { conn: usize },
}

struct Pending {
    client: Client,
    client_id: u16,
    /// The client's query under the current attempt's ID: the bytes sent upstream.
    wire: Box<[u8]>,
    list: ListId,
    /// Index in the list of the resolver being asked (`usize::MAX` once a reload dropped it from the
    /// list: the next one asked is then the first).
    tried: usize,
    upstream: SocketAddr,
    via: Option<Via>,
    /// The current attempt's number (0: none).
    attempt: u64,
    /// An answer truncated over UDP, kept while the TCP retry runs (and passed on if it fails).
    truncated: Option<Box<[u8]>>,
    /// Which relay this is (the table's count of relays when it came), for its stale-answer timer.
    serial: u64,
}

/// How long a client waits for the resolvers before an expired cached answer is served in place of
/// theirs (RFC 8767's client response timer, at its recommended 1.8 s); the resolvers are still asked,
/// and their answer refreshes the cache.
pub const STALE_AFTER: Duration = Duration::from_millis(1800);

struct TcpConn {
    /// The pending query this connection carries.
    slot: usize,
    /// Our end of the connection, to recognise it if it comes back to us.
    local: Option<SocketAddr>,
}

/// The pending relayed queries and the decisions about them.
pub struct Table {
    upstreams: Upstreams,
    timeout: Duration,
    /// The local address of each of the driver's UDP sockets, by index.
    sockets: Vec<SocketAddr>,
    pending: Vec<Option<Pending>>,
    free: Vec<usize>,
    /// UDP attempts by (socket, upstream ID).
    by_id: HashMap<(usize, u16), usize>,
    tcp: Vec<Option<TcpConn>>,
    tcp_free: Vec<usize>,
    /// (due, slot, attempt number), in order: every attempt has the same timeout.
    deadlines: VecDeque<(Instant, usize, u64)>,
    /// (due, slot, relay serial) of the stale-answer timers ([`STALE_AFTER`]), in order.
    stale_timers: VecDeque<(Instant, usize, u64)>,
    attempts: u64,
    random: SecureRandom,
    io: VecDeque<Io>,
    outbox: VecDeque<(Client, Box<[u8]>)>,
    scratch: Vec<u8>,
    cache: Option<Cache>,
    pub stats: RelayStats,
}

impl Table {
    /// A table relaying to `upstreams`, waiting `timeout` for each resolver, over the driver's UDP
    /// sockets whose local addresses are `sockets` (index = socket number in [`Io::SendUdp`]), with an
    /// answer cache if `cache` is given.
    pub fn new(
        upstreams: Upstreams,
        timeout: Duration,
        sockets: Vec<SocketAddr>,
        random: SecureRandom,
        cache: Option<CacheConfig>,
    ) -> Table {
        Table {
            upstreams,
            timeout,
            sockets,
            pending: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            tcp: Vec::new(),
            tcp_free: Vec::new(),
            deadlines: VecDeque::new(),
            stale_timers: VecDeque::new(),
            attempts: 0,
            random,
            io: VecDeque::new(),
            outbox: VecDeque::new(),
            scratch: Vec::with_capacity(MAX_MESSAGE),
            cache: cache.map(Cache::new),
            stats: RelayStats::default(),
        }
    }

    /// The counters, the cache's included.
    pub fn stats(&self) -> RelayStats {
        RelayStats {
            cache: self.cache.as_ref().map_or_else(CacheStats::default, |c| c.stats),
            ..self.stats
        }
    }

    /// Answers `query` from the cache into `out`, if it holds a fresh answer (see [`Cache::lookup`]).
    /// A hit that asks for a prefetch has the query relayed for [`Client::Prefetch`] at once.
    pub fn lookup(&mut self, query: &Message<'_>, transport: Transport, now: Instant, out: &mut [u8]) -> Option<usize> {
        match self.cache.as_mut()?.lookup(query, transport, now, out) {
            Lookup::Miss => None,
            Lookup::Hit { len, prefetch } => {
                if prefetch {
                    self.relay_message(query, Client::Prefetch, now);
                }
                Some(len)
            }
        }
    }

    /// Forgets every cached answer (SIGHUP).
    pub fn flush_cache(&mut self) {
        if let Some(c) = &mut self.cache {
            c.flush();
        }
    }

    /// Caches with `config` from now on (`None`: no cache); a changed config starts an empty cache.
    pub fn set_cache(&mut self, config: Option<CacheConfig>) {
        if self.cache.as_ref().map(Cache::config) != config {
            let stats = self.cache.as_ref().map(|c| c.stats);
            self.cache = config.map(Cache::new);
            if let (Some(c), Some(stats)) = (&mut self.cache, stats) {
                c.stats = CacheStats { entries: 0, ..stats };
            }
        }
    }

    /// Relays to `upstreams` from now on, waiting `timeout` for each. A pending query keeps its
    /// current attempt (its answer is still taken from the resolver asked); after it, the query goes
    /// on in its list of the new lists from the resolver after the one asked, or from the first if
    /// that one is no longer listed.
    pub fn set_upstreams(&mut self, upstreams: Upstreams, timeout: Duration) {
        for p in self.pending.iter_mut().flatten() {
            let Some(q) = Message::parse(&p.wire).ok().and_then(|m| m.question()) else {
                continue;
            };
            p.list = upstreams.select(&lower_name(&q.name));
            // `tried` is the index of the resolver asked; the next is `tried + 1`, wrapping to 0.
            p.tried = upstreams
                .list(p.list)
                .iter()
                .position(|a| *a == p.upstream)
                .unwrap_or(usize::MAX);
        }
        self.upstreams = upstreams;
        self.timeout = timeout;
    }

    /// The driver bound one more UDP socket, at `local`: it is socket number `sockets().len()`.
    pub fn add_socket(&mut self, local: SocketAddr) {
        self.sockets.push(local);
    }

    /// The local addresses of the driver's UDP sockets, by index.
    pub fn sockets(&self) -> &[SocketAddr] {
        &self.sockets
    }

    /// The resolver lists.
    pub fn upstreams(&self) -> &Upstreams {
        &self.upstreams
    }

    /// Whether an I/O command is waiting.
    pub fn next_io_pending(&self) -> bool {
        !self.io.is_empty()
    }

    /// The next I/O command, oldest first.
    pub fn next_io(&mut self) -> Option<Io> {
        self.io.pop_front()
    }

    /// The bytes to send for `attempt`; `None` if the attempt is over.
    pub fn wire(&self, attempt: Attempt) -> Option<&[u8]> {
        self.current(attempt).map(|p| &p.wire[..])
    }

    /// Answers ready for their clients (upstream answers under the client's ID, or SERVFAIL).
    pub fn outbox(&mut self) -> std::collections::vec_deque::Drain<'_, (Client, Box<[u8]>)> {
        self.outbox.drain(..)
    }

    /// Number of queries waiting for an upstream.
    pub fn pending_count(&self) -> usize {
        self.pending.len() - self.free.len()
    }

    /// When the next timeout falls due, if any query is pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        let timeout = self.deadlines.front().map(|d| d.0);
        let stale = self.stale_timers.front().map(|d| d.0);
        timeout.into_iter().chain(stale).min()
    }

    /// Whether a UDP query is one we relayed, come back to us (a resolver that forwards to us): it comes
    /// from the port of one of our relay sockets with the ID of a query pending on it. The sender's IP
    /// is not checked: our own LAN address loops as well as loopback does.
    pub fn is_own_query(&self, peer: SocketAddr, query: &[u8]) -> bool {
        let Some(id) = read_u16(query, 0) else {
            return false;
        };
        self.sockets
            .iter()
            .enumerate()
            .any(|(i, local)| local.port() == peer.port() && self.by_id.contains_key(&(i, id)))
    }

    /// Whether a TCP connection accepted by the server is one of our own upstream connections (its peer
    /// is the local end of a connection we opened): relaying on it would loop.
    pub fn is_own_connection(&self, peer: SocketAddr) -> bool {
        let peer = canonical(peer);
        self.tcp.iter().flatten().any(|c| c.local == Some(peer))
    }

    /// Takes a well-formed query for relaying. If it cannot be relayed (no resolver, table full), the
    /// client's SERVFAIL is queued at once.
    pub fn relay(&mut self, query: &[u8], client: Client, now: Instant) {
        match Message::parse(query) {
            Ok(msg) => self.relay_message(&msg, client, now),
            Err(_) => self.stats.relayed += 1,
        }
    }

    /// [`Table::relay`] for a query the server has read already.
    pub fn relay_message(&mut self, msg: &Message<'_>, client: Client, now: Instant) {
        self.stats.relayed += 1;
        let query = msg.bytes();
        let Some(q) = msg.question() else { return };
        let list = self.upstreams.select(&lower_name(&q.name));
        let Some(&upstream) = self.upstreams.list(list).first() else {
            self.stale_or_servfail(query, client, msg.id(), now);
            return;
        };
        if self.pending_count() >= MAX_PENDING {
            self.stale_or_servfail(query, client, msg.id(), now);
            return;
        }
        let slot = self.free.pop().unwrap_or_else(|| {
            self.pending.push(None);
            self.pending.len() - 1
        });
        self.pending[slot] = Some(Pending {
            client,
            client_id: msg.id(),
            wire: query.into(),
            list,
            tried: 0,
            upstream,
            via: None,
            attempt: 0,
            truncated: None,
            serial: self.stats.relayed,
        });
        if client != Client::Prefetch && self.cache.as_ref().is_some_and(Cache::serves_stale) {
            self.stale_timers
                .push_back((now + STALE_AFTER, slot, self.stats.relayed));
        }
        self.start_attempt(slot, client.transport() == Transport::Tcp, now);
    }

    /// A datagram `answer` from `from` arrived on UDP socket `socket`.
    pub fn on_udp_answer(&mut self, socket: usize, from: SocketAddr, answer: &[u8], now: Instant) {
        let Some(id) = read_u16(answer, 0) else {
            return;
        };
        let Some(&slot) = self.by_id.get(&(socket, id)) else {
            self.stats.rejected += 1;
            return;
        };
        let Some(p) = self.pending.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if from != p.upstream {
            self.stats.rejected += 1;
            return;
        }
        let Ok(asked) = Message::parse(&p.wire) else { return };
        match verify(&asked, answer) {
            Err(_) => self.stats.rejected += 1,
            Ok(Verified {
                accepted: Accepted::Complete,
                answer,
            }) => self.finish_answered(slot, &answer, now),
            Ok(Verified {
                accepted: Accepted::Truncated,
                ..
            }) => {
                p.truncated = Some(answer.into());
                self.end_attempt(slot);
                self.start_attempt(slot, true, now);
            }
        }
    }

    /// The framed answer `answer` arrived on TCP connection `conn`. Anything but the answer to what we
    /// asked ends the attempt: a TCP resolver has no second chance on that connection.
    pub fn on_tcp_answer(&mut self, conn: usize, answer: &[u8], now: Instant) {
        let Some((slot, p)) = self.on_conn(conn) else { return };
        let verified = Message::parse(&p.wire)
            .ok()
            .and_then(|asked| verify(&asked, answer).ok());
        if let Some(v) = verified.filter(|_| answer.get(..2) == p.wire.get(..2)) {
            self.finish_answered(slot, &v.answer, now);
        } else {
            self.stats.rejected += 1;
            self.next_resolver(slot, now);
        }
    }

    /// TCP connection `conn` failed (connect, write, read, or closed before the answer).
    pub fn on_tcp_failed(&mut self, conn: usize, now: Instant) {
        let Some((slot, _)) = self.on_conn(conn) else { return };
        self.stats.errors += 1;
        self.next_resolver(slot, now);
    }

    /// TCP connection `conn` was opened from `local`.
    pub fn on_tcp_opened(&mut self, conn: usize, local: SocketAddr) {
        if let Some(c) = self.tcp.get_mut(conn).and_then(Option::as_mut) {
            c.local = Some(canonical(local));
        }
    }

    /// The datagram of `attempt` could not be sent: the next resolver is asked at once.
    pub fn on_send_failed(&mut self, attempt: Attempt, now: Instant) {
        if self.current(attempt).is_some() {
            self.stats.errors += 1;
            self.next_resolver(attempt.slot, now);
        }
    }

    /// Times out attempts that are due at `now`: the next resolver is asked, or the client gets SERVFAIL.
    /// A client kept waiting [`STALE_AFTER`] gets an expired cached answer if there is one.
    pub fn expire(&mut self, now: Instant) {
        while let Some(&(due, slot, serial)) = self.stale_timers.front() {
            if due > now {
                break;
            }
            self.stale_timers.pop_front();
            self.answer_stale_early(slot, serial, now);
        }
        while let Some(&(due, slot, number)) = self.deadlines.front() {
            if due > now {
                break;
            }
            self.deadlines.pop_front();
            if self.current(Attempt { slot, number }).is_some() {
                self.stats.timeouts += 1;
                self.next_resolver(slot, now);
            }
        }
    }

    fn current(&self, attempt: Attempt) -> Option<&Pending> {
        self.pending
            .get(attempt.slot)
            .and_then(Option::as_ref)
            .filter(|p| p.attempt == attempt.number && p.via.is_some())
    }

    /// The pending query whose current attempt is TCP connection `conn`.
    fn on_conn(&self, conn: usize) -> Option<(usize, &Pending)> {
        let slot = self.tcp.get(conn).and_then(Option::as_ref)?.slot;
        let p = self.pending.get(slot).and_then(Option::as_ref)?;
        (p.via == Some(Via::Tcp { conn })).then_some((slot, p))
    }

    /// Asks the current resolver of `slot`; if it cannot even be asked, the next one.
    fn start_attempt(&mut self, slot: usize, over_tcp: bool, now: Instant) {
        loop {
            let Some(p) = self.pending.get(slot).and_then(Option::as_ref) else {
                return;
            };
            let Some(&upstream) = self.upstreams.list(p.list).get(p.tried) else {
                self.finish_failed(slot, now);
                return;
            };
            self.attempts += 1;
            let attempt = Attempt {
                slot,
                number: self.attempts,
            };
            let via = if over_tcp {
                self.open_tcp(attempt, upstream)
            } else {
                self.send_udp(attempt, upstream)
            };
            let Some(p) = self.pending.get_mut(slot).and_then(Option::as_mut) else {
                return;
            };
            match via {
                Some(via) => {
                    p.upstream = upstream;
                    p.via = Some(via);
                    p.attempt = attempt.number;
                    self.deadlines.push_back((now + self.timeout, slot, attempt.number));
                    return;
                }
                None => {
                    // No socket of the resolver's address family, or no random ID.
                    log::debug!("relay to {upstream}: cannot send");
                    self.stats.errors += 1;
                    p.tried = p.tried.wrapping_add(1);
                }
            }
        }
    }

    /// A fresh random ID on a randomly chosen socket of the resolver's address family, unique among
    /// the queries pending on that socket.
    fn send_udp(&mut self, attempt: Attempt, upstream: SocketAddr) -> Option<Via> {
        let same_family = |a: &&SocketAddr| a.is_ipv4() == upstream.is_ipv4();
        let count = self.sockets.iter().filter(same_family).count();
        if count == 0 {
            return None;
        }
        let pick = self.random.below(count)?;
        let socket = self
            .sockets
            .iter()
            .enumerate()
            .filter(|(_, a)| same_family(a))
            .nth(pick)?
            .0;
        let mut id = self.random.u16()?;
        while self.by_id.contains_key(&(socket, id)) {
            id = self.random.u16()?;
        }
        self.set_wire_id(attempt.slot, id)?;
        self.by_id.insert((socket, id), attempt.slot);
        self.io.push_back(Io::SendUdp {
            socket,
            to: upstream,
            attempt,
        });
        Some(Via::Udp { socket, id })
    }

    /// A fresh random ID on TCP too: the answer is matched to its connection, but the ID is checked too.
    fn open_tcp(&mut self, attempt: Attempt, upstream: SocketAddr) -> Option<Via> {
        let id = self.random.u16()?;
        self.set_wire_id(attempt.slot, id)?;
        let conn = self.tcp_free.pop().unwrap_or_else(|| {
            self.tcp.push(None);
            self.tcp.len() - 1
        });
        self.tcp[conn] = Some(TcpConn {
            slot: attempt.slot,
            local: None,
        });
        self.io.push_back(Io::OpenTcp {
            conn,
            to: upstream,
            attempt,
        });
        Some(Via::Tcp { conn })
    }

    fn set_wire_id(&mut self, slot: usize, id: u16) -> Option<()> {
        let p = self.pending.get_mut(slot).and_then(Option::as_mut)?;
        p.wire.get_mut(..2)?.copy_from_slice(&id.to_be_bytes());
        Some(())
    }

    /// Gives up on the current attempt of `slot` and asks the next resolver; when that was the TCP retry
    /// of a truncated answer, the client gets the truncated answer and can retry over TCP itself.
    fn next_resolver(&mut self, slot: usize, now: Instant) {
        self.end_attempt(slot);
        let Some(p) = self.pending.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if p.truncated.is_some() {
            self.finish_failed(slot, now);
            return;
        }
        p.tried = p.tried.wrapping_add(1);
        let over_tcp = p.client.transport() == Transport::Tcp;
        self.start_attempt(slot, over_tcp, now);
    }

    /// Forgets the current attempt's ID, or has its connection closed.
    fn end_attempt(&mut self, slot: usize) {
        let Some(p) = self.pending.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        match p.via.take() {
            Some(Via::Udp { socket, id }) => {
                self.by_id.remove(&(socket, id));
            }
            Some(Via::Tcp { conn }) if self.tcp.get_mut(conn).and_then(Option::take).is_some() => {
                self.tcp_free.push(conn);
                self.io.push_back(Io::CloseTcp { conn });
            }
            Some(Via::Tcp { .. }) | None => {}
        }
        p.attempt = 0;
    }

    /// Removes `slot` from the table, returning what it held.
    fn take(&mut self, slot: usize) -> Option<Pending> {
        self.end_attempt(slot);
        let p = self.pending.get_mut(slot).and_then(Option::take)?;
        self.free.push(slot);
        Some(p)
    }

    /// An answer came: a UDP client gets it if it fits and is whole, else the truncated reply
    /// ([`truncated_reply`]: no records, TC set), and retries over TCP.
    /// The answer is offered to the cache first (a prefetch's goes nowhere else).
    fn finish_answered(&mut self, slot: usize, answer: &Message<'_>, now: Instant) {
        let Some(mut p) = self.take(slot) else { return };
        let wire = std::mem::take(&mut p.wire);
        if let Ok(query) = Message::parse(&wire) {
            if let Some(cache) = &mut self.cache {
                cache.store(&query, answer, now);
            }
            if self.deliver_fitting(&p, &query, answer) {
                return;
            }
        }
        p.wire = wire;
        self.servfail_pending(&mut p);
    }

    /// Every resolver failed: the truncated reply if a truncated answer came, else a cached answer
    /// expired not too long ago (serve-stale), else SERVFAIL.
    fn finish_failed(&mut self, slot: usize, now: Instant) {
        let Some(mut p) = self.take(slot) else { return };
        if let Some(tc) = p.truncated.take() {
            let wire = std::mem::take(&mut p.wire);
            if let (Ok(query), Ok(answer)) = (Message::parse(&wire), Message::parse(&tc)) {
                if self.deliver_fitting(&p, &query, &answer) {
                    return;
                }
            }
            p.wire = wire;
            self.servfail_pending(&mut p);
            return;
        }
        if !self.deliver_stale(&p.wire, p.client, p.client_id, now) {
            self.servfail_pending(&mut p);
        }
    }

    /// The client of relay `serial` (if still pending at `slot`) has waited [`STALE_AFTER`]: it gets
    /// an expired cached answer if there is one, and the relay goes on as a prefetch (its answer only
    /// refreshes the cache).
    fn answer_stale_early(&mut self, slot: usize, serial: u64, now: Instant) {
        let Some(mut p) = self.pending.get_mut(slot).and_then(Option::take) else {
            return;
        };
        if p.serial == serial && self.deliver_stale(&p.wire, p.client, p.client_id, now) {
            p.client = Client::Prefetch;
        }
        self.pending[slot] = Some(p);
    }

    /// Queues for `client` (under its ID `client_id`) an expired cached answer to `query` if there is
    /// one (serve-stale); false if there is none, or nobody to answer (a prefetch).
    fn deliver_stale(&mut self, query: &[u8], client: Client, client_id: u16, now: Instant) -> bool {
        if client == Client::Prefetch {
            return false;
        }
        let Some(cache) = self.cache.as_mut() else { return false };
        self.scratch.resize(MAX_MESSAGE, 0);
        let Some(n) = cache.stale(query, client.transport(), now, &mut self.scratch) else {
            return false;
        };
        // The reply carries the ID of `query`, which may be the upstream attempt's.
        self.scratch[..2].copy_from_slice(&client_id.to_be_bytes());
        self.stats.answered += 1;
        self.outbox.push_back((client, self.scratch[..n].into()));
        true
    }

    /// Queues `answer` to `query` (both parsed) for the client of `p`, or the truncated reply; false
    /// if that cannot be written (the client gets SERVFAIL).
    fn deliver_fitting(&mut self, p: &Pending, query: &Message<'_>, answer: &Message<'_>) -> bool {
        if p.client == Client::Prefetch {
            return true;
        }
        if matches!(p.client, Client::Tcp { .. }) || fits_udp_client(query, answer) {
            self.deliver(p.client, p.client_id, answer.bytes());
            return true;
        }
        self.scratch.resize(MAX_MESSAGE, 0);
        let Some(n) = truncated_reply(query, answer, &mut self.scratch) else {
            return false;
        };
        self.stats.answered += 1;
        self.stats.truncated += 1;
        if let Some(id) = self.scratch.get_mut(..2) {
            id.copy_from_slice(&p.client_id.to_be_bytes());
        }
        self.outbox.push_back((p.client, self.scratch[..n].into()));
        true
    }

    /// SERVFAIL for the client of `p`, under its own ID.
    fn servfail_pending(&mut self, p: &mut Pending) {
        if let Some(id) = p.wire.get_mut(..2) {
            id.copy_from_slice(&p.client_id.to_be_bytes());
        }
        self.servfail(&p.wire, p.client);
    }

    /// Queues `answer` for `client` under the client's ID.
    fn deliver(&mut self, client: Client, client_id: u16, answer: &[u8]) {
        self.stats.answered += 1;
        self.scratch.clear();
        self.scratch.extend_from_slice(answer);
        if let Some(id) = self.scratch.get_mut(..2) {
            id.copy_from_slice(&client_id.to_be_bytes());
        }
        self.outbox.push_back((client, self.scratch.as_slice().into()));
    }

    /// A query that cannot be relayed (no resolver, or the table is full): an expired cached answer if
    /// there is one (serve-stale), else SERVFAIL.
    fn stale_or_servfail(&mut self, query: &[u8], client: Client, client_id: u16, now: Instant) {
        if !self.deliver_stale(query, client, client_id, now) {
            self.servfail(query, client);
        }
    }

    fn servfail(&mut self, query: &[u8], client: Client) {
        if client == Client::Prefetch {
            return;
        }
        self.stats.servfail += 1;
        self.scratch.resize(MAX_MESSAGE, 0);
        if let Outcome::Reply(n) = error_reply(query, rcode::SERVFAIL, client.transport(), &mut self.scratch) {
            self.outbox.push_back((client, self.scratch[..n].into()));
        }
    }
}

/// `addr` with an IPv4-mapped IPv6 address written as IPv4.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(test)]
mod tests;
