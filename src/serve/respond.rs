//! What one query gets, whichever socket it came on: an authoritative answer from the snapshot, REFUSED
//! for a name outside the domain when relaying is off or the client may not relay (`relayAllowFrom`),
//! SERVFAIL for our own relayed query come back, an answer from the relay's cache, or a relay through
//! the forwarder (whose answer comes later, through its outbox). Counts every query and
//! response in [`Metrics`]. Owns the reply buffer and the answer shuffle's generator
//! ([`ShuffleRng`]); the query path does not allocate. Zone transfers, TSIG-signed queries and the
//! answers to our NOTIFY messages go to `crate::transfer` (those paths may allocate: they are rare, and
//! a transfer owns its buffers).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mio::Registry;

use crate::answer::{answer, error_reply, Outcome, Transport};
use crate::forward::{Client, Forwarder};
use crate::metrics::{Kind, Metrics, TransferKind};
use crate::random::ShuffleRng;
use crate::snapshot::Records;
use crate::transfer::notify::Notifier;
use crate::transfer::{self, Plan, Policy, SignedQuery, Start, Transfer};
use crate::wire::{field, rcode, read_u16, MAX_MESSAGE};

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
}

/// What answering borrows from the loop for one turn.
pub(super) struct Context<'a> {
    pub records: &'a Arc<Records>,
    pub forwarder: &'a mut Forwarder,
    pub registry: &'a Registry,
    /// The time of this turn (cached answers age by it).
    pub now: Instant,
}

impl Responder {
    /// Fails if the OS gives no random numbers to seed the answer shuffle with.
    pub(super) fn new(external_on: bool, policy: Policy, notify: Vec<SocketAddr>) -> io::Result<Responder> {
        let mut rng = ShuffleRng::from_os().map_err(|e| {
            io::Error::other(format!(
                "answers are shuffled with a seed from the operating system, which gives no random numbers: {e}"
            ))
        })?;
        let seed = rng.next() as u16;
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
    /// to send now (dropped, or relayed).
    pub(super) fn respond(
        &mut self,
        query: &[u8],
        client: Client,
        peer: IpAddr,
        cx: &mut Context<'_>,
    ) -> Option<&[u8]> {
        let flags = read_u16(query, field::FLAGS.start).unwrap_or(0);
        if let Client::Udp { peer: from, .. } = client {
            if flags & field::QR != 0 && self.notifier.acknowledged(from, query) {
                return None;
            }
            if transfer::is_ixfr(query) {
                return self.transfer(query, from, false, cx);
            }
        }
        // Without keys TSIG is not looked for (a signed query is answered unsigned, as before): the
        // common case pays nothing for it.
        if !self.policy.keys.is_empty() && read_u16(query, field::ARCOUNT.start).unwrap_or(0) > 0 {
            let now = unix_now();
            let mut stripped = std::mem::take(&mut self.stripped);
            let checked = transfer::check_signed(query, &self.policy.keys, now, &mut stripped, &mut self.reply);
            let signed = checked.is_some();
            if let Some(SignedQuery::Valid { mut signer }) = checked {
                let transport = transport(client);
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
                    signer.sign(&mut self.reply, now, 0, &[]);
                }
            }
            self.stripped = stripped;
            if signed {
                self.metrics.signed_query();
                if self.reply.is_empty() {
                    return None;
                }
                self.metrics.response(transport(client), &self.reply);
                return Some(&self.reply);
            }
        }
        self.respond_unsigned(query, client, peer, cx)
    }

    /// A query from a TCP client at `peer`: a zone transfer request starts a transfer (taken with
    /// [`Responder::take_started`]) or gets its refusal; any other query is answered as usual.
    pub(super) fn respond_tcp(
        &mut self,
        query: &[u8],
        peer: SocketAddr,
        client: Client,
        cx: &mut Context<'_>,
    ) -> Option<&[u8]> {
        if transfer::is_transfer(query) {
            return self.transfer(query, peer, true, cx);
        }
        self.respond(query, client, peer.ip(), cx)
    }

    /// An AXFR or IXFR request.
    fn transfer(&mut self, query: &[u8], peer: SocketAddr, tcp: bool, cx: &mut Context<'_>) -> Option<&[u8]> {
        let transport = if tcp { Transport::Tcp } else { Transport::Udp };
        let started = transfer::start(
            query,
            peer.ip(),
            cx.records,
            &self.policy,
            tcp,
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

    fn respond_unsigned(&mut self, query: &[u8], client: Client, peer: IpAddr, cx: &mut Context<'_>) -> Option<&[u8]> {
        let transport = transport(client);
        let code = match answer(query, cx.records, transport, self.rng.next(), &mut self.out) {
            Outcome::Reply(n) => {
                self.metrics.query(transport, Kind::Authoritative);
                self.metrics.response(transport, &self.out[..n]);
                return Some(&self.out[..n]);
            }
            Outcome::Drop => {
                self.metrics.query(transport, Kind::Dropped);
                return None;
            }
            Outcome::Outside if !self.external_on => rcode::REFUSED,
            Outcome::Outside if !cx.forwarder.allows(peer) => rcode::REFUSED,
            // Our own relayed query came back (a resolver that forwards to us): stop the loop here.
            Outcome::Outside if matches!(client, Client::Udp { peer, .. } if cx.forwarder.is_own_query(peer, query)) => {
                rcode::SERVFAIL
            }
            Outcome::Outside => {
                if let Some(n) = cx
                    .forwarder
                    .cached(query, transport, cx.now, &mut self.out, cx.registry)
                {
                    self.metrics.query(transport, Kind::Cached);
                    self.metrics.response(transport, &self.out[..n]);
                    return Some(&self.out[..n]);
                }
                self.metrics.query(transport, Kind::Relayed);
                cx.forwarder.relay(query, client, cx.registry);
                return None;
            }
        };
        self.metrics.query(transport, Kind::Refused);
        match error_reply(query, code, transport, &mut self.out) {
            Outcome::Reply(n) => {
                self.metrics.response(transport, &self.out[..n]);
                Some(&self.out[..n])
            }
            _ => None,
        }
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
        self.responder.respond_tcp(query, self.peer, self.client, self.cx)
    }

    fn take_transfer(&mut self) -> Option<Box<Transfer>> {
        self.responder.take_started()
    }

    fn unix_time(&self) -> u64 {
        unix_now()
    }
}

/// The time TSIG signs with.
pub(super) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
