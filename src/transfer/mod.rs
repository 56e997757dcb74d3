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
use crate::wire::{field, lower_name, rcode, read_u16, read_u32, rtype, Message, NameRef, Section, HEADER_LEN};
use tsig::{Keys, Signer, Verdict};

/// Who may transfer the zone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
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
    pub(crate) fn from_config(config: &Config) -> Policy {
        Policy {
            allow_from: config.transfer_allow_from.clone(),
            keys: Keys::new(&config.tsig_keys),
            running: Arc::default(),
        }
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
pub(crate) enum Start {
    /// The reply written into the output buffer.
    Reply,
    /// Nothing (a response, or too short to answer).
    Drop,
    /// The transfer to stream.
    Stream(Box<Transfer>),
}

/// The question type of a query, read without parsing the rest: `None` unless it is a query with
/// one uncompressed question.
fn qtype(query: &[u8]) -> Option<u16> {
    let flags = read_u16(query, field::FLAGS.start)?;
    if flags & field::QR != 0 || read_u16(query, field::QDCOUNT.start)? != 1 {
        return None;
    }
    let mut at = HEADER_LEN;
    loop {
        let len = usize::from(*query.get(at)?);
        if len == 0 {
            return read_u16(query, at + 1);
        }
        if len > 63 {
            return None;
        }
        at += 1 + len;
    }
}

/// Whether a query asks for a zone transfer (AXFR or IXFR): those are [`start`]'s.
pub(crate) fn is_transfer(query: &[u8]) -> bool {
    matches!(qtype(query), Some(rtype::AXFR | rtype::IXFR))
}

/// Whether a query is an IXFR (over UDP, answered by [`start`] too).
pub(crate) fn is_ixfr(query: &[u8]) -> bool {
    qtype(query) == Some(rtype::IXFR)
}

/// Answers an AXFR or IXFR request from `peer` (`tcp`: on a stream) at `now` (Unix seconds): a reply
/// written into `out` (refusals, TSIG errors, the single SOA of an up-to-date IXFR, the TC of an IXFR
/// over UDP that needs more), or a transfer of `records` to stream.
pub(crate) fn start(
    query: &[u8],
    peer: IpAddr,
    records: &Arc<Records>,
    policy: &Policy,
    tcp: bool,
    now: u64,
    out: &mut Vec<u8>,
) -> Start {
    out.clear();
    let Ok(msg) = Message::parse(query) else {
        return formerr(query, out);
    };
    let Some(q) = msg.question() else {
        return formerr(query, out);
    };
    let mut signer = match tsig::find(&msg) {
        Err(()) => return formerr(query, out),
        Ok(None) => None,
        Ok(Some(t)) => match tsig::verify(query, &t, &policy.keys, now) {
            Verdict::Valid(signer) => Some(signer),
            Verdict::BadTime(mut signer) => {
                header(&msg, tsig::NOTAUTH, 0, out);
                signer.sign(out, now, tsig::BADTIME, &now.to_be_bytes()[2..]);
                return Start::Reply;
            }
            Verdict::Bad(error) => {
                header(&msg, tsig::NOTAUTH, 0, out);
                tsig::push_unsigned_error(out, &t, error);
                return Start::Reply;
            }
        },
    };
    let refuse = |code: u16, signer: Option<&mut Signer<'_>>, out: &mut Vec<u8>| {
        header(&msg, code, 0, out);
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
    let plan = if q.qtype == rtype::IXFR {
        let Some(known) = client_serial(&msg) else {
            return refuse(rcode::FORMERR, signer.as_mut(), out);
        };
        let up_to_date = !serial_lt(known, records.serial());
        if up_to_date || !tcp {
            // Up to date: the current SOA alone (RFC 1995 2). Over UDP with changes to send, the same
            // SOA with TC: the client sees the newer serial and asks again over TCP.
            let flags = if up_to_date { 0 } else { field::TC };
            header(&msg, rcode::NOERROR, flags, out);
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
    let soa = msg.records(Section::Authority).find(|r| r.rtype == rtype::SOA)?;
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

/// FORMERR with the header alone, or nothing for what is not a readable query.
fn formerr(query: &[u8], out: &mut Vec<u8>) -> Start {
    let (Some(id), Some(flags)) = (read_u16(query, 0), read_u16(query, 2)) else {
        return Start::Drop;
    };
    if flags & field::QR != 0 {
        return Start::Drop;
    }
    out.clear();
    out.extend_from_slice(&id.to_be_bytes());
    let flags = field::QR | (flags & (field::OPCODE_MASK | field::RD)) | rcode::FORMERR;
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    Start::Reply
}

/// What a signed query of another kind gets (RFC 8945 5.2): either checked, with the query stripped of
/// its TSIG record for the usual answer and a signer for that answer, or a TSIG error reply.
pub(crate) enum SignedQuery<'k> {
    /// Answer `stripped` as usual, then sign the answer.
    Valid { signer: Signer<'k> },
    /// Send the reply written into `out`.
    Reply,
}

/// Checks a query that may carry TSIG: `None` when it carries none (answer it as usual). When it does,
/// `stripped` receives the query without its TSIG record.
pub(crate) fn check_signed<'k>(
    query: &[u8],
    keys: &'k Keys,
    now: u64,
    stripped: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Option<SignedQuery<'k>> {
    if read_u16(query, field::ARCOUNT.start).unwrap_or(0) == 0 {
        return None;
    }
    let msg = Message::parse(query).ok()?;
    if msg.is_response() {
        return None;
    }
    let t = match tsig::find(&msg) {
        Ok(Some(t)) => t,
        Ok(None) => return None,
        Err(()) => {
            formerr(query, out);
            return Some(SignedQuery::Reply);
        }
    };
    match tsig::verify(query, &t, keys, now) {
        Verdict::Valid(signer) => {
            stripped.clear();
            stripped.extend_from_slice(query.get(..t.start).unwrap_or_default());
            if let Some(h) = stripped.get_mut(..field::ARCOUNT.end) {
                h[..2].copy_from_slice(&t.original_id.to_be_bytes());
                let n = u16::from_be_bytes([h[10], h[11]]).saturating_sub(1);
                h[field::ARCOUNT].copy_from_slice(&n.to_be_bytes());
            }
            Some(SignedQuery::Valid { signer })
        }
        Verdict::BadTime(mut signer) => {
            header(&msg, tsig::NOTAUTH, 0, out);
            signer.sign(out, now, tsig::BADTIME, &now.to_be_bytes()[2..]);
            Some(SignedQuery::Reply)
        }
        Verdict::Bad(error) => {
            header(&msg, tsig::NOTAUTH, 0, out);
            tsig::push_unsigned_error(out, &t, error);
            Some(SignedQuery::Reply)
        }
    }
}

/// Every message one request gets from a server with `config`'s transfer keys, as the event loop
/// would send them (a transfer run to its end; a signed query of another kind only checked): the whole
/// protocol without sockets, for the fuzz target.
pub fn serve_request(
    query: &[u8],
    peer: IpAddr,
    records: &Arc<Records>,
    config: &Config,
    tcp: bool,
    now: u64,
) -> Vec<Vec<u8>> {
    let policy = Policy::from_config(config);
    let mut out = Vec::new();
    if is_transfer(query) {
        return match start(query, peer, records, &policy, tcp, now, &mut out) {
            Start::Reply => vec![out],
            Start::Drop => Vec::new(),
            Start::Stream(mut t) => std::iter::from_fn(|| t.next_message(now).map(<[u8]>::to_vec)).collect(),
        };
    }
    let mut stripped = Vec::new();
    match check_signed(query, &policy.keys, now, &mut stripped, &mut out) {
        Some(SignedQuery::Reply) => vec![out],
        Some(SignedQuery::Valid { mut signer }) => {
            // The answer itself is `crate::answer`'s (fuzzed on its own): sign its header alone.
            out.clear();
            out.extend_from_slice(stripped.get(..HEADER_LEN).unwrap_or_default());
            out[field::FLAGS].copy_from_slice(&field::QR.to_be_bytes());
            out[field::QDCOUNT.start..].fill(0);
            signer.sign(&mut out, now, 0, &[]);
            vec![out]
        }
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
