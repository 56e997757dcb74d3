//! TSIG (RFC 8945) with HMAC-SHA256: finding the TSIG record that ends a message, checking it against
//! the configured keys, and signing responses (one message, or each message of a zone transfer chained
//! to the one before, section 5.3.1). No clock here: callers pass the time in Unix seconds.

use ring::hmac;

use crate::config::TsigKey;
use crate::wire::{class, field, lower_name, read_u16, text_to_wire, LowerName, Message, NameRef, Section};

/// The TSIG record type.
pub(crate) const TSIG: u16 = 250;
/// The NOTAUTH rcode of a TSIG error (RFC 8945 5.2).
pub(crate) const NOTAUTH: u16 = 9;
/// TSIG error codes (RFC 8945 5.2).
pub(crate) const BADSIG: u16 = 16;
pub(crate) const BADKEY: u16 = 17;
pub(crate) const BADTIME: u16 = 18;

/// The seconds of clock difference we allow (RFC 8945 10: 300 recommended).
const FUDGE: u16 = 300;
/// `hmac-sha256.` in wire form.
const HMAC_SHA256: &[u8] = b"\x0bhmac-sha256\x00";
/// The MAC's length.
const MAC_LEN: usize = 32;

/// One configured key.
#[derive(Clone)]
pub(crate) struct Key {
    /// Lower-case wire form.
    name: Vec<u8>,
    hmac: hmac::Key,
}

/// The configured keys (`tsigKeys`).
#[derive(Clone, Default)]
pub struct Keys(Vec<Key>);

impl Keys {
    pub(crate) fn new(config: &[TsigKey]) -> Keys {
        let mut keys = Vec::with_capacity(config.len());
        let mut wire = Vec::new();
        for k in config {
            if text_to_wire(&k.name, &mut wire).is_some() {
                keys.push(Key {
                    name: wire.clone(),
                    hmac: hmac::Key::new(hmac::HMAC_SHA256, &k.secret),
                });
            }
        }
        Keys(keys)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first key (what our NOTIFY messages are signed with).
    pub(crate) fn first(&self) -> Option<&Key> {
        self.0.first()
    }

    fn find(&self, name: &[u8]) -> Option<&Key> {
        self.0.iter().find(|k| k.name == name)
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({})", self.0.len())
    }
}

/// The TSIG record at the end of a message.
pub(crate) struct Tsig<'a> {
    /// Where the record starts: the message without it is `msg[..start]` (with ARCOUNT one less).
    pub start: usize,
    pub key_name: LowerName,
    pub algorithm: LowerName,
    pub time: u64,
    pub fudge: u16,
    pub mac: &'a [u8],
    pub original_id: u16,
    pub error: u16,
    pub other: &'a [u8],
}

/// The TSIG record of a parsed message: `None` if it has none, `Err(())` if it has one that is not the
/// last record or cannot be read (FORMERR, RFC 8945 5.2).
pub(crate) fn find<'a>(msg: &Message<'a>) -> Result<Option<Tsig<'a>>, ()> {
    let buf = msg.bytes();
    let Some(q) = msg.question() else {
        return Ok(None);
    };
    if msg.qdcount() != 1 {
        return Ok(None);
    }
    let mut end = crate::wire::HEADER_LEN + q.raw.len();
    let mut found = None;
    for section in [Section::Answer, Section::Authority, Section::Additional] {
        for rec in msg.records(section) {
            let start = end;
            end = rec.rdata_offset + rec.rdata.len();
            if found.is_some() {
                // A TSIG record that is not the last one.
                return Err(());
            }
            if rec.rtype == TSIG {
                if section != Section::Additional || rec.class != class::ANY {
                    return Err(());
                }
                found = Some(read(buf, start, rec.name, rec.rdata_offset, rec.rdata.len())?);
            }
        }
    }
    Ok(found)
}

fn read<'a>(buf: &'a [u8], start: usize, owner: NameRef<'a>, at: usize, len: usize) -> Result<Tsig<'a>, ()> {
    let rdata_end = at + len;
    let (algorithm, mut pos) = NameRef::parse(buf, at).map_err(drop)?;
    let bytes = |from: usize, n: usize| buf.get(from..from + n).filter(|_| from + n <= rdata_end).ok_or(());
    let time = bytes(pos, 6)?.iter().fold(0u64, |t, &b| t << 8 | u64::from(b));
    pos += 6;
    let fudge = read_u16(bytes(pos, 2)?, 0).ok_or(())?;
    let mac_len = usize::from(read_u16(bytes(pos + 2, 2)?, 0).ok_or(())?);
    pos += 4;
    let mac = bytes(pos, mac_len)?;
    pos += mac_len;
    let fixed = bytes(pos, 6)?;
    let other_len = usize::from(read_u16(fixed, 4).ok_or(())?);
    let other = bytes(pos + 6, other_len)?;
    if pos + 6 + other_len != rdata_end {
        return Err(());
    }
    Ok(Tsig {
        start,
        key_name: lower_name(&owner),
        algorithm: lower_name(&algorithm),
        time,
        fudge,
        mac,
        original_id: read_u16(fixed, 0).ok_or(())?,
        error: read_u16(fixed, 2).ok_or(())?,
        other,
    })
}

/// What checking a signed request found.
pub(crate) enum Verdict<'k> {
    /// Signed with a key we have: sign the response with this.
    Valid(Signer<'k>),
    /// The MAC is right but the time is off by more than the fudge: BADTIME, signed (RFC 8945 5.2.3).
    BadTime(Signer<'k>),
    /// BADKEY or BADSIG: the error goes back unsigned.
    Bad(u16),
}

/// Checks a signed request: the key it names, its MAC, then its time (RFC 8945 5.2).
pub(crate) fn verify<'k>(msg: &[u8], tsig: &Tsig<'_>, keys: &'k Keys, now: u64) -> Verdict<'k> {
    if tsig.algorithm.as_wire() != HMAC_SHA256 {
        return Verdict::Bad(BADKEY);
    }
    let Some(key) = keys.find(tsig.key_name.as_wire()) else {
        return Verdict::Bad(BADKEY);
    };
    let mut cx = hmac::Context::with_key(&key.hmac);
    message_without_tsig(&mut cx, msg, tsig);
    variables(
        &mut cx,
        tsig.key_name.as_wire(),
        tsig.time,
        tsig.fudge,
        tsig.error,
        tsig.other,
    );
    let mac = cx.sign();
    if tsig.mac.len() != MAC_LEN || !constant_time_eq(mac.as_ref(), tsig.mac) {
        return Verdict::Bad(BADSIG);
    }
    let signer = Signer {
        key,
        prior: tsig.mac.to_vec(),
        first: true,
    };
    if now.abs_diff(tsig.time) > u64::from(tsig.fudge) {
        return Verdict::BadTime(signer);
    }
    Verdict::Valid(signer)
}

/// The request as it was signed: its ID the original one, ARCOUNT without the TSIG record, no TSIG.
fn message_without_tsig(cx: &mut hmac::Context, msg: &[u8], tsig: &Tsig<'_>) {
    let mut header = [0u8; 12];
    if let Some(h) = msg.get(..12) {
        header.copy_from_slice(h);
    }
    header[..2].copy_from_slice(&tsig.original_id.to_be_bytes());
    let arcount = u16::from_be_bytes([header[10], header[11]]).saturating_sub(1);
    header[field::ARCOUNT].copy_from_slice(&arcount.to_be_bytes());
    cx.update(&header);
    cx.update(msg.get(12..tsig.start).unwrap_or_default());
}

/// The TSIG variables (RFC 8945 4.3.3) with the algorithm ours.
fn variables(cx: &mut hmac::Context, key_name: &[u8], time: u64, fudge: u16, error: u16, other: &[u8]) {
    cx.update(key_name);
    cx.update(&class::ANY.to_be_bytes());
    cx.update(&0u32.to_be_bytes());
    cx.update(HMAC_SHA256);
    timers(cx, time, fudge);
    cx.update(&error.to_be_bytes());
    cx.update(&(other.len() as u16).to_be_bytes());
    cx.update(other);
}

fn timers(cx: &mut hmac::Context, time: u64, fudge: u16) {
    cx.update(&time.to_be_bytes()[2..]);
    cx.update(&fudge.to_be_bytes());
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Signs the responses to one request: the first with the request's MAC and the full variables, each
/// later one with the MAC before it and the timers only (RFC 8945 5.3.1).
pub struct Signer<'k> {
    key: &'k Key,
    prior: Vec<u8>,
    first: bool,
}

impl<'k> Signer<'k> {
    /// A signer for messages we start (NOTIFY): no request MAC.
    pub(crate) fn unprompted(key: &'k Key) -> Signer<'k> {
        Signer {
            key,
            prior: Vec::new(),
            first: true,
        }
    }

    /// The same signer with the key copied out, to outlive the key table's borrow (a transfer).
    pub(crate) fn owned(&self) -> OwnedSigner {
        OwnedSigner {
            key: self.key.clone(),
            prior: self.prior.clone(),
            first: self.first,
        }
    }

    /// Appends a TSIG record to the message in `msg` and counts it in ARCOUNT; `error` and `other` go
    /// into the record (BADTIME carries our time there).
    pub fn sign(&mut self, msg: &mut Vec<u8>, now: u64, error: u16, other: &[u8]) {
        sign(self.key, &mut self.prior, &mut self.first, msg, now, error, other);
    }
}

/// A [`Signer`] that owns its key.
#[derive(Clone)]
pub(crate) struct OwnedSigner {
    key: Key,
    prior: Vec<u8>,
    first: bool,
}

impl OwnedSigner {
    pub(crate) fn sign(&mut self, msg: &mut Vec<u8>, now: u64) {
        sign(&self.key, &mut self.prior, &mut self.first, msg, now, 0, &[]);
    }
}

fn sign(key: &Key, prior: &mut Vec<u8>, first: &mut bool, msg: &mut Vec<u8>, now: u64, error: u16, other: &[u8]) {
    let mut cx = hmac::Context::with_key(&key.hmac);
    if !prior.is_empty() {
        cx.update(&(prior.len() as u16).to_be_bytes());
        cx.update(prior);
    }
    cx.update(msg);
    if *first {
        variables(&mut cx, &key.name, now, FUDGE, error, other);
    } else {
        timers(&mut cx, now, FUDGE);
    }
    let mac = cx.sign();
    let id = read_u16(msg, 0).unwrap_or(0);
    push_record(msg, &key.name, HMAC_SHA256, now, mac.as_ref(), id, error, other);
    *prior = mac.as_ref().to_vec();
    *first = false;
}

/// Appends a TSIG record with no MAC (the BADKEY and BADSIG errors, RFC 8945 5.3.2) echoing the
/// request's key name, algorithm and time.
pub(crate) fn push_unsigned_error(msg: &mut Vec<u8>, tsig: &Tsig<'_>, error: u16) {
    let id = read_u16(msg, 0).unwrap_or(0);
    push_record(
        msg,
        tsig.key_name.as_wire(),
        tsig.algorithm.as_wire(),
        tsig.time,
        &[],
        id,
        error,
        &[],
    );
}

#[allow(clippy::too_many_arguments)]
fn push_record(
    msg: &mut Vec<u8>,
    key_name: &[u8],
    algorithm: &[u8],
    time: u64,
    mac: &[u8],
    id: u16,
    error: u16,
    other: &[u8],
) {
    msg.extend_from_slice(key_name);
    msg.extend_from_slice(&TSIG.to_be_bytes());
    msg.extend_from_slice(&class::ANY.to_be_bytes());
    msg.extend_from_slice(&0u32.to_be_bytes());
    let rdlen = algorithm.len() + 6 + 2 + 2 + mac.len() + 2 + 2 + 2 + other.len();
    msg.extend_from_slice(&(rdlen as u16).to_be_bytes());
    msg.extend_from_slice(algorithm);
    msg.extend_from_slice(&time.to_be_bytes()[2..]);
    msg.extend_from_slice(&FUDGE.to_be_bytes());
    msg.extend_from_slice(&(mac.len() as u16).to_be_bytes());
    msg.extend_from_slice(mac);
    msg.extend_from_slice(&id.to_be_bytes());
    msg.extend_from_slice(&error.to_be_bytes());
    msg.extend_from_slice(&(other.len() as u16).to_be_bytes());
    msg.extend_from_slice(other);
    if let Some(count) = msg.get_mut(field::ARCOUNT) {
        let n = u16::from_be_bytes([count[0], count[1]]).saturating_add(1);
        count.copy_from_slice(&n.to_be_bytes());
    }
}

#[cfg(test)]
mod tests;
