//! Zone transfers to secondary servers, sans I/O: who may transfer the zone (`transferAllowFrom`,
//! `tsigKeys`), what an AXFR or IXFR request gets (a reply at once, or a [`Transfer`] that produces its
//! messages as the connection takes them), TSIG on every other signed query, the journal IXFR answers
//! from and the NOTIFY messages that tell secondaries of a new serial. The event loop moves the bytes
//! (`serve`); the refresher computes the journal ([`journal::follow`]).
//!
//! - `rrs.rs`: the zone's records in transfer form;
//! - `stream.rs`: [`Transfer`], the messages of one AXFR or IXFR;
//! - [`journal`]: the changes between snapshots;
//! - [`tsig`]: RFC 8945 signatures;
//! - [`notify`]: RFC 1996 notifications.

pub(crate) mod journal;
pub(crate) mod notify;
mod rrs;
mod stream;
pub(crate) mod tsig;

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub(crate) use stream::{Plan, Transfer};

use crate::config::{Cidr, Config};
use crate::snapshot::Records;
use crate::wire::{field, lower_name, rcode, read_u32, Header, Message, NameRef, Rtype, Section};
use tsig::{Keys, Signer, Tsig, Verdict};

/// Who may transfer the zone.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// `transferAllowFrom`: empty, nobody.
    allow_from: Vec<Cidr>,
    /// `tsigKeys`: when any, a transfer must be signed with one.
    pub(crate) keys: Keys,
    /// How many transfers are running (each holds a [`Running`]).
    running: Arc<AtomicUsize>,
}

/// A running transfer's place in the count of [`Policy`]; given back when the transfer ends.
#[derive(Debug)]
pub(crate) struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Transfers streamed at once at most; one more is answered SERVFAIL, which secondaries retry later
/// (each running transfer keeps its snapshot alive while its client reads; BIND's `transfers-out`
/// default is the same 10).
pub(crate) const MAX_TRANSFERS: usize = 10;

impl Policy {
    /// The policy the config sets (`transferAllowFrom`, `tsigKeys`).
    pub fn from_config(config: &Config) -> Policy {
        Policy {
            allow_from: config.transfer_allow_from.clone(),
            keys: Keys::new(&config.tsig_keys),
            running: Arc::default(),
        }
    }

    /// The TSIG keys (`tsigKeys`).
    #[cfg(any(test, feature = "internals"))]
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    fn allows(&self, peer: IpAddr) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
            v4 => v4,
        };
        self.allow_from.iter().any(|net| net.contains(peer))
    }
}

/// What a transfer request gets.
pub enum Start {
    /// The reply written into the output buffer.
    Reply,
    /// Nothing (a response, or too short to answer).
    Drop,
    /// The transfer to stream.
    Stream(Box<Transfer>),
}

/// The TSIG record of a request, as the router found it once ([`Signature::of`]): none, one to check,
/// or one that is misplaced or unreadable (FORMERR).
pub struct Signature<'a>(Result<Option<Tsig<'a>>, ()>);

impl<'a> Signature<'a> {
    /// Looks for the TSIG record that ends `msg` (RFC 8945 5.2).
    pub fn of(msg: &Message<'a>) -> Signature<'a> {
        Signature(tsig::find(msg))
    }

    /// Whether the message carries no TSIG record at all.
    pub fn is_none(&self) -> bool {
        matches!(self.0, Ok(None))
    }
}

/// Answers an AXFR or IXFR request from `peer` (`tcp`: on a stream) at `now` (Unix seconds): a reply
/// written into `out` (refusals, TSIG errors, the single SOA of an up-to-date IXFR, the TC of an IXFR
/// over UDP that needs more), or a transfer of `records` to stream.
#[allow(clippy::too_many_arguments)]
pub fn start(
    msg: &Message<'_>,
    signature: Signature<'_>,
    peer: IpAddr,
    records: &Arc<Records>,
    policy: &Policy,
    tcp: bool,
    now: u64,
    out: &mut Vec<u8>,
) -> Start {
    out.clear();
    let Some(q) = msg.question() else {
        return formerr(&msg.header(), out);
    };
    let mut signer = match signature.0 {
        Err(()) => return formerr(&msg.header(), out),
        Ok(None) => None,
        Ok(Some(t)) => match tsig::verify(msg.bytes(), &t, &policy.keys, now) {
            Verdict::Valid(signer) => Some(signer),
            Verdict::BadTime(mut signer) => {
                header(msg, tsig::NOTAUTH, 0, out);
                signer.sign(out, now, tsig::BADTIME, &now.to_be_bytes()[2..]);
                return Start::Reply;
            }
            Verdict::Bad(error) => {
                header(msg, tsig::NOTAUTH, 0, out);
                tsig::push_unsigned_error(out, &t, error);
                return Start::Reply;
            }
        },
    };
    let refuse = |code: u16, signer: Option<&mut Signer<'_>>, out: &mut Vec<u8>| {
        header(msg, code, 0, out);
        if let Some(s) = signer {
            s.sign(out, now, 0, &[]);
        }
        Start::Reply
    };
    if (signer.is_none() && !policy.keys.is_empty()) || !policy.allows(peer) {
        return refuse(rcode::REFUSED, signer.as_mut(), out);
    }
    if lower_name(&q.name).as_wire() != records.apex() {
        return refuse(tsig::NOTAUTH, signer.as_mut(), out);
    }
    if !records.is_loaded() {
        return refuse(rcode::SERVFAIL, signer.as_mut(), out);
    }
    let plan = if q.qtype == Rtype::IXFR {
        let Some(known) = client_serial(msg) else {
            return refuse(rcode::FORMERR, signer.as_mut(), out);
        };
        let up_to_date = !serial_lt(known, records.serial());
        if up_to_date || !tcp {
            // Up to date: the current SOA alone (RFC 1995 2). Over UDP with changes to send, the same
            // SOA with TC: the client sees the newer serial and asks again over TCP.
            let flags = if up_to_date { 0 } else { field::TC };
            header(msg, rcode::NOERROR, flags, out);
            push_current_soa(records, out);
            if let Some(s) = signer.as_mut() {
                s.sign(out, now, 0, &[]);
            }
            return Start::Reply;
        }
        match records.journal().iter().position(|c| c.from_serial == known) {
            Some(from) => Plan::Ixfr { from },
            // Older than the journal: the whole zone, in AXFR form (RFC 1995 4).
            None => Plan::Axfr,
        }
    } else if tcp {
        Plan::Axfr
    } else {
        // AXFR is for streams only (RFC 5936 4.2).
        return refuse(rcode::REFUSED, signer.as_mut(), out);
    };
    if policy.running.load(Ordering::Relaxed) >= MAX_TRANSFERS {
        log::warn!("zone transfer to {peer} refused with SERVFAIL: {MAX_TRANSFERS} transfers are running");
        return refuse(rcode::SERVFAIL, signer.as_mut(), out);
    }
    let signer = signer.map(|s| s.owned());
    let transfer = Transfer::new(records.clone(), plan, msg.id(), q.raw, msg.flags(), signer);
    policy.running.fetch_add(1, Ordering::Relaxed);
    Start::Stream(Box::new(transfer.counted_in(Running(policy.running.clone()))))
}

/// Appends the current SOA to a reply's answer section.
fn push_current_soa(records: &Records, out: &mut Vec<u8>) {
    let mut soa = Vec::new();
    rrs::push_soa(&mut soa, records, records.soa_rdata());
    rrs::push_compressed(out, &soa, records.apex());
    if let Some(count) = out.get_mut(field::ANCOUNT) {
        count.copy_from_slice(&1u16.to_be_bytes());
    }
}

/// The serial of the SOA record in an IXFR request's authority section.
fn client_serial(msg: &Message<'_>) -> Option<u32> {
    let soa = msg.records(Section::Authority).find(|r| r.rtype == Rtype::SOA)?;
    let buf = msg.bytes();
    let (_, after_mname) = NameRef::parse(buf, soa.rdata_offset).ok()?;
    let (_, after_rname) = NameRef::parse(buf, after_mname).ok()?;
    read_u32(buf, after_rname)
}

/// `a < b` in serial number arithmetic (RFC 1982).
fn serial_lt(a: u32, b: u32) -> bool {
    a != b && b.wrapping_sub(a) < 1 << 31
}

/// A response header with the request's ID, opcode and RD (AA set on a NOERROR one), and its question.
fn header(msg: &Message<'_>, code: u16, flags: u16, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&msg.id().to_be_bytes());
    let mut copied = msg.flags() & (field::OPCODE_MASK | field::RD);
    if code == rcode::NOERROR {
        copied |= field::AA;
    }
    out.extend_from_slice(&(field::QR | flags | copied | (code & field::RCODE_MASK)).to_be_bytes());
    let question = msg.question().map(|q| q.raw).unwrap_or_default();
    let qdcount = u16::from(!question.is_empty());
    out.extend_from_slice(&qdcount.to_be_bytes());
    out.extend_from_slice(&[0; 6]);
    out.extend_from_slice(question);
}

/// FORMERR with the header alone, or nothing for a response.
fn formerr(h: &Header, out: &mut Vec<u8>) -> Start {
    if h.is_response() {
        return Start::Drop;
    }
    out.clear();
    out.extend_from_slice(&h.id().to_be_bytes());
    let flags = field::QR | (h.flags() & (field::OPCODE_MASK | field::RD)) | rcode::FORMERR;
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    Start::Reply
}

/// What a signed query of another kind gets (RFC 8945 5.2): either checked, with the query stripped of
/// its TSIG record for the usual answer and a signer for that answer, or a TSIG error reply.
pub enum SignedQuery<'k> {
    /// Answer `stripped` as usual, then sign the answer.
    Valid {
        /// Signs the answer with the query's key.
        signer: Signer<'k>,
    },
    /// Send the reply written into `out`.
    Reply,
}

/// Signs `reply`, the answer to a signed query that checked out (answered as `check_signed` stripped
/// it: under the TSIG record's original ID), then gives it the ID of `request` as received: the MAC
/// covers the original ID (RFC 8945 4.3.3), and a forwarder between may have changed the header's.
pub fn sign_reply(signer: &mut Signer<'_>, reply: &mut Vec<u8>, request: &Message<'_>, now: u64) {
    signer.sign(reply, now, 0, &[]);
    if let Some(id) = reply.get_mut(field::ID) {
        id.copy_from_slice(&request.id().to_be_bytes());
    }
}

/// Checks a query signed with `signature` (not [`Signature::is_none`]: the router sends only those):
/// `stripped` receives the query without its TSIG record, to be answered as usual and the answer signed;
/// or a TSIG error reply is written into `out`.
pub fn check_signed<'k>(
    msg: &Message<'_>,
    signature: Signature<'_>,
    keys: &'k Keys,
    now: u64,
    stripped: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> SignedQuery<'k> {
    let t = match signature.0 {
        Ok(Some(t)) => t,
        Ok(None) | Err(()) => {
            formerr(&msg.header(), out);
            return SignedQuery::Reply;
        }
    };
    let query = msg.bytes();
    match tsig::verify(query, &t, keys, now) {
        Verdict::Valid(signer) => {
            stripped.clear();
            stripped.extend_from_slice(query.get(..t.start).unwrap_or_default());
            if let Some(h) = stripped.get_mut(..field::ARCOUNT.end) {
                h[..2].copy_from_slice(&t.original_id.to_be_bytes());
                let n = msg.header().arcount().saturating_sub(1);
                h[field::ARCOUNT].copy_from_slice(&n.to_be_bytes());
            }
            SignedQuery::Valid { signer }
        }
        Verdict::BadTime(mut signer) => {
            header(msg, tsig::NOTAUTH, 0, out);
            signer.sign(out, now, tsig::BADTIME, &now.to_be_bytes()[2..]);
            SignedQuery::Reply
        }
        Verdict::Bad(error) => {
            header(msg, tsig::NOTAUTH, 0, out);
            tsig::push_unsigned_error(out, &t, error);
            SignedQuery::Reply
        }
    }
}

#[cfg(test)]
mod tests;
