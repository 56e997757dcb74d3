//! The relay without sockets: the table of pending relayed queries, their upstream IDs and deadlines,
//! which resolver is asked next (the first of the list that is up, see [`Health`]; a second one too
//! when the first has not answered within its hedging delay, the first valid answer winning), the
//! probes of resolvers that are down, the TCP retry of answers truncated over UDP, the RFC 5452 checks
//! on what comes back (the resolver asked, the ID sent, the question asked), loop detection, and
//! SERVFAIL when every resolver has failed, or an expired cached answer in its place (serve-stale, RFC
//! 8767), which a client the resolvers keep waiting also gets at RFC 8767's client response timer.
//! Answers that come back go to the [`Cache`] too (which decides what it keeps); a cache hit that asks
//! for a prefetch is relayed here for a [`Client::Prefetch`], whose answer only refreshes the cache.
//!
//! It takes bytes and the time (`now`) and returns decisions: I/O commands ([`Io`]) for the driver in
//! `forward/mod.rs` to carry out, and answers for clients in [`Table::deliveries`]. The driver reports what
//! happened (a datagram arrived, a TCP answer arrived, a send or a connection failed), so every decision
//! here is unit-tested on virtual time without a socket. How a query's legs (the resolvers asked for
//! it) start and end is `table/legs.rs`'s part.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::cache::{Cache, CacheConfig, CacheStats, Lookup};
use super::health::{Health, ResolverHealth};
use super::truncate::{fits_udp_client, truncated_reply};
use super::upstreams::{ListId, Upstreams};
use super::verify::{verify, Accepted, Verified};
use crate::answer::{error_reply, Outcome, Transport};
use crate::random::SecureRandom;
use crate::wire::{cookie, lower_name, rcode, read_u16, Message, MAX_MESSAGE, OPT_LEN};

/// Pending queries at most; past that new ones get SERVFAIL at once.
pub(crate) const MAX_PENDING: usize = 4096;

/// Resolvers one query waits on at once: the one asked, and the next asked when it is slow (hedging).
const MAX_LEGS: usize = 2;

/// The probe sent to a resolver that is down: `. NS`, recursion desired. It is tiny, a recursive
/// resolver answers it from its root priming data without asking anyone, it asks about no name of
/// ours or of a client's, and any answer that passes the RFC 5452 checks (even REFUSED) shows it is
/// back. (Real queries as probes would need live traffic, and would make a client wait on a resolver
/// known to be down.)
const PROBE_QUERY: [u8; 17] = [0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1];

/// Who is waiting for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// A datagram's sender, and the address it sent to when we listen on every address (the answer
    /// must leave from there).
    Udp {
        /// The sender.
        peer: SocketAddr,
        /// The address it sent to, when we listen on every address.
        local: Option<IpAddr>,
    },
    /// A TCP connection of the event loop: its slot and the generation that tells reuses apart.
    Tcp {
        /// The connection's slot in the event loop.
        slot: usize,
        /// The slot's generation.
        generation: u64,
    },
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
        /// The relay's UDP socket to send from.
        socket: usize,
        /// The resolver.
        to: SocketAddr,
        /// The query as sent to this resolver.
        attempt: Attempt,
    },
    /// Open a TCP connection to `to` and send [`Table::wire`]`(attempt)` framed on it. Report its
    /// local address ([`Table::on_tcp_opened`]), its answer ([`Table::on_tcp_answer`]) or its failure
    /// ([`Table::on_tcp_failed`]) under `conn`.
    OpenTcp {
        /// The connection's number.
        conn: usize,
        /// The resolver.
        to: SocketAddr,
        /// The query as sent to this resolver.
        attempt: Attempt,
    },
    /// Close TCP connection `conn`, if it is open. A later `OpenTcp` may reuse the number.
    CloseTcp {
        /// The connection's number.
        conn: usize,
    },
}

/// How the current attempt travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Udp { socket: usize, id: u16 },
    Tcp { conn: usize },
}

/// One resolver asked for one pending query: an attempt in flight.
#[derive(Debug, Clone, Copy)]
struct Leg {
    via: Via,
    upstream: SocketAddr,
    /// The ID it was asked under.
    id: u16,
    number: u64,
    sent: Instant,
}

struct Pending {
    client: Client,
    client_id: u16,
    /// The client's query; its ID is each leg's as it is sent ([`Table::wire`]).
    wire: Box<[u8]>,
    list: ListId,
    /// The resolvers of the list asked so far (bit i: the i-th; a list longer than 64 is asked in
    /// its first 64 only).
    asked: u64,
    /// The attempts in flight.
    legs: [Option<Leg>; MAX_LEGS],
    /// An answer truncated over UDP, kept while the TCP retry runs (and passed on if it fails).
    truncated: Option<Box<[u8]>>,
    /// Which relay this is (the table's count of relays when it came), for its stale-answer timer.
    serial: u64,
    /// A probe of this resolver (which is down): it asks nobody else, answers nobody, caches nothing.
    probe: Option<SocketAddr>,
    /// Our COOKIE option for the client's answer, when its query had a client cookie (which `wire`
    /// does not carry on to the resolvers).
    cookie: Option<RelayCookie>,
}

/// Our COOKIE option (RFC 7873) for the answer to a relayed query that carried a client cookie, made
/// when the query came (`serve::respond`), and the size of answer its client takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayCookie {
    /// The option: the client's cookie and our server cookie.
    pub option: [u8; cookie::OPTION_LEN],
    /// The client's size limit (its UDP payload size, or 65535 over TCP).
    pub limit: usize,
    /// The query's server cookie was valid: its answer is never rate-limited (`rateLimit`).
    pub verified: bool,
}

impl Pending {
    fn in_flight(&self) -> usize {
        self.legs.iter().flatten().count()
    }

    fn leg(&self, number: u64) -> Option<usize> {
        self.legs.iter().position(|l| l.is_some_and(|l| l.number == number))
    }
}

/// A timer of a leg or a resolver, other than the fixed `timeout` of every leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// The resolver asked has not answered within its hedging delay: ask the next one too.
    Hedge { slot: usize, number: u64 },
    /// Has the resolver answered anything since `sent`? If not, it has failed once.
    Check { upstream: SocketAddr, sent: Instant },
    /// A probe's time is up.
    Probe { slot: usize, number: u64 },
}

/// How long a client waits for the resolvers before an expired cached answer is served in place of
/// theirs (RFC 8767's client response timer, at its recommended 1.8 s); the resolvers are still asked,
/// and their answer refreshes the cache.
pub(crate) const STALE_AFTER: Duration = Duration::from_millis(1800);

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
    /// Hedging, health checks and probe timeouts, soonest first.
    timers: BinaryHeap<Reverse<(Instant, Timer)>>,
    health: Health,
    attempts: u64,
    random: SecureRandom,
    io: VecDeque<Io>,
    outbox: VecDeque<(Client, Box<[u8]>, bool)>,
    scratch: Vec<u8>,
    cache: Option<Cache>,
    /// The relay's counters so far.
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
            health: Health::new(upstreams.all()),
            timers: BinaryHeap::new(),
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
    /// attempts in flight (their answers are still taken from the resolvers asked); after them, the
    /// query goes on in its list of the new lists from the resolver after the last one asked, or from
    /// the first if none asked is still listed. Resolvers still listed keep their health.
    pub fn set_upstreams(&mut self, upstreams: Upstreams, timeout: Duration) {
        for p in self.pending.iter_mut().flatten().filter(|p| p.probe.is_none()) {
            let Some(q) = Message::parse(&p.wire).ok().and_then(|m| m.question()) else {
                continue;
            };
            p.list = upstreams.select(&lower_name(&q.name));
            let list = upstreams.list(p.list);
            let last = p
                .legs
                .iter()
                .flatten()
                .filter_map(|l| list.iter().position(|a| *a == l.upstream))
                .max();
            p.asked = last.map_or(0, |i| u64::MAX >> 63u32.saturating_sub(i.min(63) as u32));
        }
        self.health.set(upstreams.all());
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
    #[cfg(test)]
    pub fn upstreams(&self) -> &Upstreams {
        &self.upstreams
    }

    /// Every resolver's health and counters.
    pub fn resolvers(&self) -> &[ResolverHealth] {
        self.health.all()
    }

    /// Whether an I/O command is waiting.
    pub fn next_io_pending(&self) -> bool {
        !self.io.is_empty()
    }

    /// The next I/O command, oldest first.
    pub fn next_io(&mut self) -> Option<Io> {
        self.io.pop_front()
    }

    /// The bytes to send for `attempt` (under its ID); `None` if the attempt is over.
    pub fn wire(&mut self, attempt: Attempt) -> Option<&[u8]> {
        let p = self.pending.get_mut(attempt.slot).and_then(Option::as_mut)?;
        let leg = p.legs[p.leg(attempt.number)?]?;
        p.wire.get_mut(..2)?.copy_from_slice(&leg.id.to_be_bytes());
        Some(&p.wire[..])
    }

    /// Answers ready for their clients (upstream answers under the client's ID, or SERVFAIL).
    #[cfg(any(test, feature = "internals"))]
    pub fn outbox(&mut self) -> impl Iterator<Item = (Client, Box<[u8]>)> + '_ {
        self.deliveries().map(|(client, answer, _)| (client, answer))
    }

    /// [`Table::outbox`], each answer with whether its query showed a valid server cookie.
    pub fn deliveries(&mut self) -> std::collections::vec_deque::Drain<'_, (Client, Box<[u8]>, bool)> {
        self.outbox.drain(..)
    }

    /// Number of queries (and probes) waiting for an upstream.
    pub fn pending_count(&self) -> usize {
        self.pending.len() - self.free.len()
    }

    /// When the next timer falls due, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        let timeout = self.deadlines.front().map(|d| d.0);
        let stale = self.stale_timers.front().map(|d| d.0);
        let timer = self.timers.peek().map(|t| t.0 .0);
        [timeout, stale, timer, self.health.next_probe()]
            .into_iter()
            .flatten()
            .min()
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
    #[cfg(any(test, feature = "internals"))]
    pub fn relay(&mut self, query: &[u8], client: Client, now: Instant) {
        match Message::parse(query) {
            Ok(msg) => self.relay_message(&msg, client, now),
            Err(_) => self.stats.relayed += 1,
        }
    }

    /// [`Table::relay`] for a query the server has read already.
    pub fn relay_message(&mut self, msg: &Message<'_>, client: Client, now: Instant) {
        self.relay_with_cookie(msg, client, None, now);
    }

    /// [`Table::relay_message`], the client's answer to carry `cookie`. The client's own COOKIE option
    /// is not relayed (RFC 7873 5.4: it is for us; the cache keeps answers without cookies too).
    pub fn relay_with_cookie(&mut self, msg: &Message<'_>, client: Client, cookie: Option<RelayCookie>, now: Instant) {
        self.stats.relayed += 1;
        let Some(q) = msg.question() else { return };
        let wire = cookie::without_cookie(msg);
        let list = self.upstreams.select(&lower_name(&q.name));
        if self.upstreams.list(list).is_empty() || self.pending_count() >= MAX_PENDING {
            self.stale_or_servfail(&wire, client, msg.id(), cookie, now);
            return;
        }
        let slot = self.new_slot(Pending {
            client,
            client_id: msg.id(),
            wire,
            list,
            asked: 0,
            legs: [None; MAX_LEGS],
            truncated: None,
            serial: self.stats.relayed,
            probe: None,
            cookie,
        });
        if client != Client::Prefetch && self.cache.as_ref().is_some_and(Cache::serves_stale) {
            self.stale_timers
                .push_back((now + STALE_AFTER, slot, self.stats.relayed));
        }
        if !self.ask_next(slot, client.transport() == Transport::Tcp, false, now) {
            self.finish_failed(slot, now);
        }
    }

    /// A datagram `answer` from `from` arrived on UDP socket `socket`.
    pub fn on_udp_answer(&mut self, socket: usize, from: SocketAddr, answer: &[u8], now: Instant) {
        let Some((slot, k)) = self.udp_leg(socket, answer) else {
            self.stats.rejected += 1;
            return;
        };
        let Some(p) = self.pending.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let Some(leg) = p.legs[k] else { return };
        if from != leg.upstream {
            self.stats.rejected += 1;
            return;
        }
        let Ok(asked) = Message::parse(&p.wire) else { return };
        match verify(&asked, answer) {
            Err(_) => self.stats.rejected += 1,
            Ok(Verified {
                accepted: Accepted::Complete,
                answer,
            }) => {
                self.health
                    .on_answer(from, now.saturating_duration_since(leg.sent), now);
                self.finish_answered(slot, &answer, now);
            }
            Ok(Verified {
                accepted: Accepted::Truncated,
                ..
            }) => {
                self.health
                    .on_answer(from, now.saturating_duration_since(leg.sent), now);
                if p.probe.is_some() {
                    self.take(slot);
                    return;
                }
                p.truncated = Some(answer.into());
                self.end_legs(slot);
                if !self.start_leg(slot, from, true, now) {
                    self.finish_failed(slot, now);
                }
            }
        }
    }

    /// An ICMP error (port or host unreachable) came back on UDP socket `socket` for the datagram
    /// `sent` (its payload as the error queue gives it) to `to`: that resolver refused it, so the
    /// query goes on without waiting for the timeout.
    pub fn on_udp_unreachable(&mut self, socket: usize, to: SocketAddr, sent: &[u8], now: Instant) {
        let Some((slot, k)) = self.udp_leg(socket, sent) else {
            return;
        };
        let Some(leg) = self.pending.get(slot).and_then(Option::as_ref).and_then(|p| p.legs[k]) else {
            return;
        };
        if leg.upstream == to {
            self.leg_failed(slot, k, now);
        }
    }

    /// The framed answer `answer` arrived on TCP connection `conn`. Anything but the answer to what we
    /// asked ends the attempt: a TCP resolver has no second chance on that connection.
    pub fn on_tcp_answer(&mut self, conn: usize, answer: &[u8], now: Instant) {
        let Some((slot, k)) = self.on_conn(conn) else { return };
        let Some(p) = self.pending.get(slot).and_then(Option::as_ref) else {
            return;
        };
        let Some(leg) = p.legs[k] else { return };
        let verified = Message::parse(&p.wire)
            .ok()
            .and_then(|asked| verify(&asked, answer).ok());
        if let Some(v) = verified.filter(|_| read_u16(answer, 0) == Some(leg.id)) {
            self.health
                .on_answer(leg.upstream, now.saturating_duration_since(leg.sent), now);
            self.finish_answered(slot, &v.answer, now);
        } else {
            self.stats.rejected += 1;
            self.end_leg(slot, k);
            self.leg_ended(slot, now);
        }
    }

    /// TCP connection `conn` failed (connect, write, read, or closed before the answer).
    pub fn on_tcp_failed(&mut self, conn: usize, now: Instant) {
        if let Some((slot, k)) = self.on_conn(conn) {
            self.leg_failed(slot, k, now);
        }
    }

    /// TCP connection `conn` was opened from `local`.
    pub fn on_tcp_opened(&mut self, conn: usize, local: SocketAddr) {
        if let Some(c) = self.tcp.get_mut(conn).and_then(Option::as_mut) {
            c.local = Some(canonical(local));
        }
    }

    /// The datagram of `attempt` could not be sent: the next resolver is asked at once.
    pub fn on_send_failed(&mut self, attempt: Attempt, now: Instant) {
        if let Some(k) = self.current(attempt) {
            self.leg_failed(attempt.slot, k, now);
        }
    }

    /// Runs the timers due at `now`: a client kept waiting [`STALE_AFTER`] gets an expired cached
    /// answer if there is one; a resolver slow past its hedging delay has the next one asked too; an
    /// attempt past `timeout` ends (the next resolver is asked, or the client gets SERVFAIL); a
    /// resolver silent past its RTO has failed once; probes of resolvers that are down go out.
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
            if let Some(k) = self.current(Attempt { slot, number }) {
                self.stats.timeouts += 1;
                self.end_leg(slot, k);
                self.leg_ended(slot, now);
            }
        }
        while let Some(&Reverse((due, timer))) = self.timers.peek() {
            if due > now {
                break;
            }
            self.timers.pop();
            match timer {
                Timer::Hedge { slot, number } => self.hedge(Attempt { slot, number }, now),
                Timer::Check { upstream, sent } => self.health.on_check(upstream, sent, now),
                Timer::Probe { slot, number } => {
                    if let Some(k) = self.current(Attempt { slot, number }) {
                        self.end_leg(slot, k);
                        if let Some(upstream) = self.take(slot).and_then(|p| p.probe) {
                            self.health.on_probe_failed(upstream, true, now);
                        }
                    }
                }
            }
        }
        while let Some(upstream) = self.health.probe_due(now) {
            self.probe(upstream, now);
        }
    }

    /// Removes `slot` from the table, returning what it held.
    fn take(&mut self, slot: usize) -> Option<Pending> {
        self.end_legs(slot);
        let p = self.pending.get_mut(slot).and_then(Option::take)?;
        self.free.push(slot);
        Some(p)
    }

    /// An answer came: a UDP client gets it if it fits and is whole, else the truncated reply
    /// ([`truncated_reply`]: no records, TC set), and retries over TCP.
    /// The answer is offered to the cache first (a prefetch's goes nowhere else).
    fn finish_answered(&mut self, slot: usize, answer: &Message<'_>, now: Instant) {
        let Some(mut p) = self.take(slot) else { return };
        if p.probe.is_some() {
            return;
        }
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
        if !self.deliver_stale(&p.wire, p.client, p.client_id, p.cookie, now) {
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
        if p.serial == serial && self.deliver_stale(&p.wire, p.client, p.client_id, p.cookie, now) {
            p.client = Client::Prefetch;
        }
        self.pending[slot] = Some(p);
    }

    /// Queues for `client` (under its ID `client_id`) an expired cached answer to `query` if there is
    /// one (serve-stale); false if there is none, or nobody to answer (a prefetch).
    fn deliver_stale(
        &mut self,
        query: &[u8],
        client: Client,
        client_id: u16,
        cookie: Option<RelayCookie>,
        now: Instant,
    ) -> bool {
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
        self.push_scratch(client, n, cookie, true);
        true
    }

    /// Queues `answer` to `query` (both parsed) for the client of `p`, or the truncated reply; false
    /// if that cannot be written (the client gets SERVFAIL).
    fn deliver_fitting(&mut self, p: &Pending, query: &Message<'_>, answer: &Message<'_>) -> bool {
        if p.client == Client::Prefetch {
            return true;
        }
        if matches!(p.client, Client::Tcp { .. }) || fits_udp_client(query, answer) {
            self.deliver(p.client, p.client_id, answer.bytes(), p.cookie);
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
        self.push_scratch(p.client, n, p.cookie, true);
        true
    }

    /// SERVFAIL for the client of `p`, under its own ID.
    fn servfail_pending(&mut self, p: &mut Pending) {
        if let Some(id) = p.wire.get_mut(..2) {
            id.copy_from_slice(&p.client_id.to_be_bytes());
        }
        self.servfail(&p.wire, p.client, p.cookie);
    }

    /// Queues `answer` for `client` under the client's ID.
    fn deliver(&mut self, client: Client, client_id: u16, answer: &[u8], cookie: Option<RelayCookie>) {
        self.stats.answered += 1;
        self.scratch.clear();
        self.scratch.extend_from_slice(answer);
        if let Some(id) = self.scratch.get_mut(..2) {
            id.copy_from_slice(&client_id.to_be_bytes());
        }
        self.push_scratch(client, answer.len(), cookie, false);
    }

    /// Queues `self.scratch[..n]` for `client`, with our COOKIE option if it sent a client cookie (left
    /// out if the answer would not fit the client with it). `ours`: an answer we wrote (its OPT record
    /// last), not the upstream's.
    fn push_scratch(&mut self, client: Client, n: usize, cookie: Option<RelayCookie>, ours: bool) {
        let mut len = n;
        let verified = cookie.is_some_and(|c| c.verified);
        if let Some(c) = cookie {
            let room = n + cookie::OPTION_LEN + OPT_LEN;
            if self.scratch.len() < room {
                self.scratch.resize(room, 0);
            }
            len = cookie::add(&mut self.scratch, n, &c.option, c.limit, ours).unwrap_or(n);
        }
        self.outbox.push_back((client, self.scratch[..len].into(), verified));
    }

    /// A query that cannot be relayed (no resolver, or the table is full): an expired cached answer if
    /// there is one (serve-stale), else SERVFAIL.
    fn stale_or_servfail(
        &mut self,
        query: &[u8],
        client: Client,
        client_id: u16,
        cookie: Option<RelayCookie>,
        now: Instant,
    ) {
        if !self.deliver_stale(query, client, client_id, cookie, now) {
            self.servfail(query, client, cookie);
        }
    }

    fn servfail(&mut self, query: &[u8], client: Client, cookie: Option<RelayCookie>) {
        if client == Client::Prefetch {
            return;
        }
        self.stats.servfail += 1;
        self.scratch.resize(MAX_MESSAGE, 0);
        if let Outcome::Reply(n) = error_reply(query, rcode::SERVFAIL, client.transport(), &mut self.scratch) {
            self.push_scratch(client, n, cookie, true);
        }
    }
}

/// `addr` with an IPv4-mapped IPv6 address written as IPv4.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

mod legs;
#[cfg(test)]
mod tests;
