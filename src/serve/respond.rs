//! What one query gets, whichever socket it came on: an authoritative answer from the snapshot, REFUSED
//! for a name outside the domain when relaying is off or the client may not relay (`relayAllowFrom`),
//! SERVFAIL for our own relayed query come back, an answer from the relay's cache, or a relay through
//! the forwarder (whose answer comes later, through its outbox). Counts every query and
//! response in [`Metrics`]. Owns the reply buffer and the answer shuffle's generator
//! ([`ShuffleRng`]); it does not allocate.

use std::io;

use std::net::IpAddr;
use std::time::Instant;

use mio::Registry;

use crate::answer::{answer, error_reply, Outcome, Transport};
use crate::forward::{Client, Forwarder};
use crate::metrics::{Kind, Metrics};
use crate::random::ShuffleRng;
use crate::snapshot::Records;
use crate::wire::{rcode, MAX_MESSAGE};

use super::tcp::Respond;

/// The answer policy and its buffers, owned by the loop.
pub(super) struct Responder {
    out: Box<[u8]>,
    rng: ShuffleRng,
    /// Relay names outside the domain (`externalon`); when off they get REFUSED.
    external_on: bool,
    pub metrics: Metrics,
}

/// What answering borrows from the loop for one turn.
pub(super) struct Context<'a> {
    pub records: &'a Records,
    pub forwarder: &'a mut Forwarder,
    pub registry: &'a Registry,
    /// The time of this turn (cached answers age by it).
    pub now: Instant,
}

impl Responder {
    /// Fails if the OS gives no random numbers to seed the answer shuffle with.
    pub(super) fn new(external_on: bool) -> io::Result<Responder> {
        let rng = ShuffleRng::from_os().map_err(|e| {
            io::Error::other(format!(
                "answers are shuffled with a seed from the operating system, which gives no random numbers: {e}"
            ))
        })?;
        Ok(Responder {
            out: vec![0u8; MAX_MESSAGE].into_boxed_slice(),
            rng,
            external_on,
            metrics: Metrics::default(),
        })
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
    pub peer: IpAddr,
    pub cx: &'c mut Context<'a>,
}

impl Respond for ForClient<'_, '_, '_> {
    fn respond(&mut self, query: &[u8]) -> Option<&[u8]> {
        self.responder.respond(query, self.client, self.peer, self.cx)
    }
}
