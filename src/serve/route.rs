//! What one received message gets, decided once, from the message as read ([`Received`]), how it came
//! ([`Sender`]) and the server's settings ([`Policy`]): a pure function with no sockets, clock or state,
//! unit-tested here and fuzzed on its own (`fuzz/fuzz_targets/route.rs`). The event loop carries the
//! decision out (`respond.rs`): it owns the NOTIFY table, the transfer and TSIG paths, the snapshot and
//! the relay. Whether a name is the domain's is the snapshot's to say, so an [`Route::Answer`] carries
//! what a name outside the domain gets ([`Outside`]).

use crate::answer::Transport;
use crate::transfer::Signature;
use crate::wire::{Header, Message, Opcode, Received, Rtype};

/// How a message came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    /// UDP or TCP.
    pub transport: Transport,
    /// Whether the client may have names outside the domain relayed (`relayAllowFrom`).
    pub may_relay: bool,
}

/// The server's settings the decision depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `tsigKeys` is not empty: signed queries are checked and their answers signed.
    pub tsig: bool,
    /// `externalon`: names outside the domain are relayed.
    pub external_on: bool,
}

/// What a name outside the domain gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outside {
    /// REFUSED: relaying is off (`externalon: false`).
    Refuse,
    /// REFUSED: this client may not relay (`relayAllowFrom`, or its default); counted and logged.
    NotAllowed,
    /// The relay (or its cache).
    Relay,
}

/// What a message gets.
pub enum Route<'a> {
    /// Nothing: shorter than a header, or a response we did not ask for.
    Drop,
    /// A response to a NOTIFY over UDP: maybe the acknowledgement of one of ours (else dropped).
    Ack(Header),
    /// FORMERR with the header alone: the header is readable, the rest is not.
    FormErr(Header),
    /// A zone transfer request (AXFR over TCP, IXFR either way), with its TSIG record if any.
    Transfer(Message<'a>, Signature<'a>),
    /// Another query carrying TSIG while keys are configured: checked, answered, the answer signed.
    Signed(Message<'a>, Signature<'a>),
    /// The snapshot's to answer; a name outside the domain gets `Outside`.
    Answer(Message<'a>, Outside),
}

impl core::fmt::Debug for Route<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Route::Drop => f.write_str("Drop"),
            Route::Ack(h) => write!(f, "Ack({:#06x})", h.id()),
            Route::FormErr(h) => write!(f, "FormErr({:#06x})", h.id()),
            Route::Transfer(m, _) => write!(f, "Transfer({:#06x})", m.id()),
            Route::Signed(m, _) => write!(f, "Signed({:#06x})", m.id()),
            Route::Answer(m, outside) => write!(f, "Answer({:#06x}, {outside:?})", m.id()),
        }
    }
}

/// Decides what `received` gets.
#[inline]
pub fn route<'a>(received: Received<'a>, from: Sender, policy: Policy) -> Route<'a> {
    let msg = match received {
        Received::Short => return Route::Drop,
        Received::Malformed(h) if !h.is_response() => return Route::FormErr(h),
        Received::Malformed(h) => return response(h, from),
        Received::Message(m) if m.is_response() => return response(m.header(), from),
        Received::Message(m) => m,
    };
    if msg.qdcount() == 1 {
        match msg.question().map(|q| q.qtype) {
            Some(Rtype::IXFR) => return Route::Transfer(msg, Signature::of(&msg)),
            Some(Rtype::AXFR) if from.transport == Transport::Tcp => return Route::Transfer(msg, Signature::of(&msg)),
            _ => {}
        }
    }
    // Without keys TSIG is not looked for (a signed query is answered unsigned): the common case pays
    // nothing for it.
    if policy.tsig && msg.header().arcount() > 0 {
        let signature = Signature::of(&msg);
        if !signature.is_none() {
            return Route::Signed(msg, signature);
        }
    }
    let outside = match (policy.external_on, from.may_relay) {
        (false, _) => Outside::Refuse,
        (true, false) => Outside::NotAllowed,
        (true, true) => Outside::Relay,
    };
    Route::Answer(msg, outside)
}

/// A response: only the answers to our NOTIFY messages (which go over UDP) are looked at.
fn response(header: Header, from: Sender) -> Route<'static> {
    if header.opcode() == Opcode::NOTIFY && from.transport == Transport::Udp {
        Route::Ack(header)
    } else {
        Route::Drop
    }
}

#[cfg(test)]
mod tests;
