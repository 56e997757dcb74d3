//! What one query gets, whichever socket it came on, carried out as [`route`] decides it (the query is
//! read once, here): an authoritative answer from the snapshot, REFUSED
//! for a name outside the domain when relaying is off or the client may not relay (`relayAllowFrom`:
//! counted, and logged once a minute at most),
//! SERVFAIL for our own relayed query come back, an answer from the relay's cache, or a relay through
//! the forwarder (whose answer comes later, through its outbox). Counts every query and
//! response in [`Metrics`]. Owns the reply buffer and the answer shuffle's generator
//! ([`ShuffleRng`]); the query path does not allocate. Zone transfers, TSIG-signed queries and the
//! answers to our NOTIFY messages go to `crate::transfer` (those paths may allocate: they are rare, and
//! a transfer owns its buffers). A query with a client cookie gets our COOKIE option in every answer
//! but FORMERR and the TSIG and transfer paths ([`ServerCookies`]; whether its server cookie was valid
//! is [`Context::cookie_verified`]).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use mio::Registry;

use crate::answer::{answer, answer_from, error_reply, error_reply_message, formerr, Outcome, Transport};
use crate::clock::unix_now;
use crate::forward::acl::Refusals;
use crate::forward::{Client, Forwarder, RelayCookie};
use crate::metrics::{Kind, Metrics, TransferKind};
use crate::random::ShuffleRng;
use crate::snapshot::Records;
use crate::transfer::notify::Notifier;
use crate::transfer::{self, Plan, Policy, Signature, SignedQuery, Start, Transfer};
use crate::wire::{cookie, rcode, Message, Received, MAX_MESSAGE, MAX_UDP_PAYLOAD, MIN_UDP_PAYLOAD};

use super::cookie::{siphash24, Secret, ServerCookies};

use super::route::{route, Outside, Policy as RoutePolicy, Route, Sender};

use super::tcp::Respond;

/// The answer policy and its buffers, owned by the loop.
pub(super) struct Responder {
    out: Box<[u8]>,
    rng: ShuffleRng,
    /// Relay names outside the domain (`externalon`); when off they get REFUSED.
    external_on: bool,
    pub metrics: Metrics,
    /// Who may transfer the zone, and the TSIG keys.
    policy: Policy,
    /// The NOTIFY messages of the latest serial.
    pub notifier: Notifier,
    /// Replies of the transfer and TSIG paths, and a signed query without its TSIG record.
    reply: Vec<u8>,
    stripped: Vec<u8>,
    /// The transfer the last TCP query started, for its connection to take.
    started: Option<Box<Transfer>>,
    /// Relays refused by `relayAllowFrom`: their log lines, one a minute at most.
    refusals: Refusals,
    /// The secrets of our server cookies.
    cookies: ServerCookies,
}

/// What answering borrows from the loop for one turn.
pub(super) struct Context<'a> {
    pub records: &'a Arc<Records>,
    pub forwarder: &'a mut Forwarder,
    pub registry: &'a Registry,
    /// The time of this turn (cached answers age by it).
    pub now: Instant,
    /// Set by [`Responder::respond`]: the query carried a valid server cookie of ours, so its source
    /// address is not spoofed (response rate limiting leaves such a client alone).
    pub cookie_verified: bool,
}

impl Responder {
    /// Fails if the OS gives no random numbers to seed the answer shuffle with.
    /// `cookie_secret`: the server cookie secret shared with other servers (`cookieSecret`), if any.
    pub(super) fn new(
        external_on: bool,
        policy: Policy,
        notify: Vec<SocketAddr>,
        cookie_secret: Option<Secret>,
    ) -> io::Result<Responder> {
        let mut rng = ShuffleRng::from_os().map_err(|e| {
            io::Error::other(format!(
                "answers are shuffled with a seed from the operating system, which gives no random numbers: {e}"
            ))
        })?;
        let seed = rng.next() as u16;
        let cookies = match cookie_secret {
            Some(shared) => ServerCookies::shared(shared),
            None => ServerCookies::new(
                fresh_secret().map_err(|e| {
                    io::Error::other(format!(
                        "DNS cookies take a secret from the operating system, which gives no random numbers \
                         (or set cookieSecret): {e}"
                    ))
                })?,
                unix_now(),
            ),
        };
        Ok(Responder {
            out: vec![0u8; MAX_MESSAGE].into_boxed_slice(),
            rng,
            external_on,
            metrics: Metrics::default(),
            policy,
            notifier: Notifier::new(notify, seed),
            reply: Vec::new(),
            stripped: Vec::new(),
            started: None,
            refusals: Refusals::default(),
            cookies,
        })
    }

    /// Tells the secondaries of a new serial in `records`, and sends the retries due at `now`, each
    /// message through `send` (signed with the transfer keys, if any).
    pub(super) fn notify(&mut self, records: &Records, now: Instant, send: impl FnMut(SocketAddr, &[u8])) {
        self.notifier.serving(records, now);
        if self.notifier.next_deadline().is_some_and(|due| due <= now) {
            let keys = &self.policy.keys;
            self.notifier
                .send_due(records, keys, now, unix_now(), &mut self.reply, send);
        }
        self.metrics.notify = self.notifier.stats;
    }

    /// The response to `query` from `client` (whose address is `peer`), or `None` when there is nothing
    /// to send now (dropped, relayed, or a transfer started: see [`Responder::take_started`]). The
    /// bytes are read once here and routed ([`route`]); every path below takes the parsed message.
    pub(super) fn respond(
        &mut self,
        query: &[u8],
        client: Client,
        peer: SocketAddr,
        cx: &mut Context<'_>,
    ) -> Option<&[u8]> {
        cx.cookie_verified = false;
        let transport = transport(client);
        let from = Sender {
            transport,
            may_relay: cx.forwarder.allows(peer.ip()),
        };
        let policy = RoutePolicy {
            tsig: !self.policy.keys.is_empty(),
            external_on: self.external_on,
        };
        match route(Received::read(query), from, policy) {
            Route::Ack(header) if self.notifier.acknowledged(peer, &header) => None,
            Route::Ack(_) | Route::Drop => {
                self.metrics.query(transport, Kind::Dropped);
                None
            }
            Route::FormErr(header) => match formerr(&header, &mut self.out) {
                Outcome::Reply(n) => {
                    self.metrics.query(transport, Kind::Authoritative);
                    self.metrics.response(transport, &self.out[..n]);
                    Some(&self.out[..n])
                }
                _ => {
                    self.metrics.query(transport, Kind::Dropped);
                    None
                }
            },
            Route::Transfer(msg, signature) => self.transfer(&msg, signature, peer, transport, cx),
            Route::Signed(msg, signature) => self.signed(&msg, signature, transport, cx),
            Route::Answer(msg, outside) => self.answer(&msg, outside, client, peer, cx),
        }
    }

    /// A TSIG-signed query (keys configured): a TSIG error, or the usual answer signed.
    fn signed(
        &mut self,
        msg: &Message<'_>,
        signature: Signature<'_>,
        transport: Transport,
        cx: &mut Context<'_>,
    ) -> Option<&[u8]> {
        let now = unix_now();
        let mut stripped = std::mem::take(&mut self.stripped);
        let checked = transfer::check_signed(msg, signature, &self.policy.keys, now, &mut stripped, &mut self.reply);
        if let SignedQuery::Valid { mut signer } = checked {
            // The query without its TSIG record is another message: read it (a rare path).
            let n = match answer(&stripped, cx.records, transport, self.rng.next(), &mut self.out) {
                Outcome::Reply(n) => n,
                // Relaying a signed query would pass on a signature made for us: refused.
                Outcome::Outside => match error_reply(&stripped, rcode::REFUSED, transport, &mut self.out) {
                    Outcome::Reply(n) => n,
                    _ => 0,
                },
                Outcome::Drop => 0,
            };
            self.reply.clear();
            if n > 0 {
                self.reply.extend_from_slice(&self.out[..n]);
                transfer::sign_reply(&mut signer, &mut self.reply, msg, now);
            }
        }
        self.stripped = stripped;
        self.metrics.signed_query();
        if self.reply.is_empty() {
            return None;
        }
        self.metrics.response(transport, &self.reply);
        Some(&self.reply)
    }

    /// An AXFR or IXFR request.
    fn transfer(
        &mut self,
        msg: &Message<'_>,
        signature: Signature<'_>,
        peer: SocketAddr,
        transport: Transport,
        cx: &mut Context<'_>,
    ) -> Option<&[u8]> {
        let started = transfer::start(
            msg,
            signature,
            peer.ip(),
            cx.records,
            &self.policy,
            transport == Transport::Tcp,
            unix_now(),
            &mut self.reply,
        );
        match started {
            Start::Drop => {
                self.metrics.query(transport, Kind::Dropped);
                None
            }
            Start::Reply => {
                let refused = self.reply.get(3).is_some_and(|b| b & 0x0f != 0);
                self.metrics.transfer(if refused {
                    TransferKind::Refused
                } else {
                    TransferKind::UpToDate
                });
                if refused {
                    log::info!("zone transfer from {peer} refused (rcode {})", self.reply[3] & 0x0f);
                }
                self.metrics.response(transport, &self.reply);
                Some(&self.reply)
            }
            Start::Stream(t) => {
                let kind = match t.plan() {
                    Plan::Axfr => TransferKind::Axfr,
                    Plan::Ixfr { .. } => TransferKind::Ixfr,
                };
                log::info!("zone transfer to {peer}: {kind:?} of serial {}", cx.records.serial());
                self.metrics.transfer(kind);
                self.started = Some(t);
                None
            }
        }
    }

    /// The transfer the last TCP query started, if any.
    pub(super) fn take_started(&mut self) -> Option<Box<Transfer>> {
        self.started.take()
    }

    /// A query for the snapshot: its answer, or for a name outside the domain REFUSED, SERVFAIL (our
    /// own relayed query come back), an answer from the relay's cache, or the relay. The client's
    /// address `peer` picks its zone's records first (`preferLocalZone`).
    fn answer(
        &mut self,
        msg: &Message<'_>,
        outside: Outside,
        client: Client,
        peer: SocketAddr,
        cx: &mut Context<'_>,
    ) -> Option<&[u8]> {
        let transport = transport(client);
        let ip = peer.ip();
        let source = Some(ip);
        let code = match answer_from(msg, cx.records, transport, self.rng.next(), source, &mut self.out) {
            Outcome::Reply(n) => {
                let n = self.with_cookie(msg, ip, n, transport, cx);
                self.metrics.query(transport, Kind::Authoritative);
                self.metrics.response(transport, &self.out[..n]);
                return Some(&self.out[..n]);
            }
            Outcome::Drop => {
                self.metrics.query(transport, Kind::Dropped);
                return None;
            }
            Outcome::Outside if outside == Outside::Refuse => rcode::REFUSED,
            Outcome::Outside if outside == Outside::NotAllowed => {
                self.metrics.relay_not_allowed();
                if let Some(line) = self.refusals.refused(ip, cx.now) {
                    log::warn!("{line}");
                }
                rcode::REFUSED
            }
            // Our own relayed query came back (a resolver that forwards to us): stop the loop here.
            Outcome::Outside if matches!(client, Client::Udp { peer, .. } if cx.forwarder.is_own_query(peer, msg.bytes())) => {
                rcode::SERVFAIL
            }
            Outcome::Outside => {
                if let Some(n) = cx.forwarder.cached(msg, transport, cx.now, &mut self.out, cx.registry) {
                    let n = self.with_cookie(msg, ip, n, transport, cx);
                    self.metrics.query(transport, Kind::Cached);
                    self.metrics.response(transport, &self.out[..n]);
                    return Some(&self.out[..n]);
                }
                self.metrics.query(transport, Kind::Relayed);
                let cookie = msg.cookie().map(|c| {
                    let (option, verified) = self.cookie_option(&c.client, c.server, ip);
                    cx.cookie_verified = verified;
                    RelayCookie {
                        option,
                        limit: client_limit(msg, transport),
                        verified,
                    }
                });
                cx.forwarder.relay(msg, client, cookie, cx.registry);
                return None;
            }
        };
        self.metrics.query(transport, Kind::Refused);
        match error_reply_message(msg, code, transport, &mut self.out) {
            Outcome::Reply(n) => {
                let n = self.with_cookie(msg, ip, n, transport, cx);
                self.metrics.response(transport, &self.out[..n]);
                Some(&self.out[..n])
            }
            _ => None,
        }
    }
}

impl Responder {
    /// Adds our COOKIE option to the answer to `msg` from `ip` in `self.out[..n]` (written by
    /// `crate::answer` or the cache: its OPT record is last), if the query has a client cookie, and notes
    /// in `cx` whether its server cookie was valid; the new length (`n` if it has none, or the option
    /// does not fit the client's limit).
    #[inline]
    fn with_cookie(
        &mut self,
        msg: &Message<'_>,
        ip: IpAddr,
        n: usize,
        transport: Transport,
        cx: &mut Context<'_>,
    ) -> usize {
        let Some(c) = msg.cookie() else { return n };
        let (option, verified) = self.cookie_option(&c.client, c.server, ip);
        cx.cookie_verified = verified;
        cookie::add(&mut self.out, n, &option, client_limit(msg, transport), true).unwrap_or(n)
    }

    /// Our COOKIE option for a client at `ip` that sent `client` and `server` cookies, and whether the
    /// server cookie was valid. Rotates the secret when it is due.
    fn cookie_option(
        &mut self,
        client: &[u8; cookie::CLIENT_LEN],
        server: &[u8],
        ip: IpAddr,
    ) -> ([u8; cookie::OPTION_LEN], bool) {
        let now = unix_now();
        if self.cookies.rotation_due(now) {
            let fresh = fresh_secret().unwrap_or_else(|_| {
                // No random numbers now: a secret derived from the current one, which is as unknown.
                let derived = |i: u64| siphash24(&self.cookies.current(), &(now ^ i << 63).to_le_bytes());
                let mut s = [0; 16];
                s[..8].copy_from_slice(&derived(0).to_le_bytes());
                s[8..].copy_from_slice(&derived(1).to_le_bytes());
                s
            });
            self.cookies.rotate(fresh, now);
        }
        let verdict = self.cookies.answer(client, server, ip, now);
        (cookie::option(client, &verdict.server), verdict.verified)
    }
}

/// A new cookie secret from the operating system.
fn fresh_secret() -> Result<Secret, getrandom::Error> {
    let mut secret = [0; 16];
    getrandom::getrandom(&mut secret)?;
    Ok(secret)
}

/// The size of an answer the client of `msg` takes (RFC 6891 6.2.5, at most what we advertise).
fn client_limit(msg: &Message<'_>, transport: Transport) -> usize {
    match transport {
        Transport::Tcp => MAX_MESSAGE,
        Transport::Udp => msg.edns().map_or(MIN_UDP_PAYLOAD, |e| {
            usize::from(e.udp_size).clamp(MIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD)
        }),
    }
}

/// The transport a client's answer goes back on.
pub(super) fn transport(client: Client) -> Transport {
    match client {
        Client::Udp { .. } | Client::Prefetch => Transport::Udp,
        Client::Tcp { .. } => Transport::Tcp,
    }
}

/// The responder as one TCP connection's [`Respond`]: every query is that client's.
pub(super) struct ForClient<'r, 'c, 'a> {
    pub responder: &'r mut Responder,
    pub client: Client,
    /// The client's address.
    pub peer: SocketAddr,
    pub cx: &'c mut Context<'a>,
}

impl Respond for ForClient<'_, '_, '_> {
    fn respond(&mut self, query: &[u8]) -> Option<&[u8]> {
        self.responder.respond(query, self.client, self.peer, self.cx)
    }

    fn take_transfer(&mut self) -> Option<Box<Transfer>> {
        self.responder.take_started()
    }

    fn unix_time(&self) -> u64 {
        unix_now()
    }
}
