//! The EDNS COOKIE option (RFC 7873 4) on the wire: reading it out of a query's OPT record (a client
//! cookie of 8 bytes, a server cookie of 8 to 32; any other length is malformed, RFC 7873 5.2.2), the
//! room an answer keeps for ours, writing ours into an answer's OPT record, and a query's bytes without
//! the client's option (what the relay sends on). How a server cookie is made and checked is
//! `serve::cookie`'s; nothing here allocates but [`without_cookie`] (the relay path).

use super::message::{Message, Section};
use super::{field, read_u16, rtype, Rtype, HEADER_LEN, MAX_UDP_PAYLOAD, OPT_LEN};

/// The COOKIE option code.
pub(crate) const COOKIE: u16 = 10;
/// The length of a client cookie.
pub(crate) const CLIENT_LEN: usize = 8;
/// The length of the server cookies we make (RFC 9018: version, reserved, timestamp, hash).
pub(crate) const SERVER_LEN: usize = 16;
/// Our COOKIE option in an answer: code, length, client cookie, server cookie.
pub(crate) const OPTION_LEN: usize = 4 + CLIENT_LEN + SERVER_LEN;

/// The COOKIE option of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookie<'a> {
    /// The client cookie.
    pub client: [u8; CLIENT_LEN],
    /// The server cookie, empty when the client has none yet (8 to 32 bytes otherwise).
    pub server: &'a [u8],
    /// Where the option (from its code on) starts and ends in the message.
    option: (usize, usize),
}

impl<'a> Cookie<'a> {
    /// The COOKIE option at `at` in `msg`, which [`find`] has checked.
    pub(crate) fn at(msg: &'a [u8], at: usize) -> Option<Cookie<'a>> {
        let len = usize::from(read_u16(msg, at + 2)?);
        let data = msg.get(at + 4..at + 4 + len)?;
        Some(Cookie {
            client: data.get(..CLIENT_LEN)?.try_into().ok()?,
            server: &data[CLIENT_LEN..],
            option: (at, at + 4 + len),
        })
    }
}

/// A COOKIE option of a length RFC 7873 5.2.2 answers with FORMERR, or a second one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Where the COOKIE option among the options of the OPT record whose RDATA is `rdata` (at
/// `rdata_offset` in the message) starts in the message; 0: it has none. Options past a malformed
/// option list are not looked at (as before cookies).
#[inline(never)]
pub(crate) fn find(rdata: &[u8], rdata_offset: usize) -> Result<u32, Malformed> {
    let mut found = 0;
    let mut pos = 0;
    while let (Some(code), Some(len)) = (read_u16(rdata, pos), read_u16(rdata, pos + 2)) {
        let len = usize::from(len);
        if pos + 4 + len > rdata.len() {
            return if code == COOKIE { Err(Malformed) } else { Ok(found) };
        }
        if code == COOKIE {
            if found != 0 || !(len == CLIENT_LEN || (16..=40).contains(&len)) {
                return Err(Malformed);
            }
            found = u32::try_from(rdata_offset + pos).map_err(|_| Malformed)?;
        }
        pos += 4 + len;
    }
    Ok(found)
}

/// The room an answer to `query` keeps for our COOKIE option: none without a client cookie.
#[inline]
pub(crate) fn room(query: &Message<'_>) -> usize {
    if query.has_cookie() {
        OPTION_LEN
    } else {
        0
    }
}

/// Our COOKIE option for a client: the client's cookie and our server cookie.
pub fn option(client: &[u8; CLIENT_LEN], server: &[u8; SERVER_LEN]) -> [u8; OPTION_LEN] {
    let mut o = [0; OPTION_LEN];
    o[..2].copy_from_slice(&COOKIE.to_be_bytes());
    o[2..4].copy_from_slice(&((CLIENT_LEN + SERVER_LEN) as u16).to_be_bytes());
    o[4..4 + CLIENT_LEN].copy_from_slice(client);
    o[4 + CLIENT_LEN..].copy_from_slice(server);
    o
}

/// Adds `option` to the OPT record of the answer in `buf[..len]`; the new length, or `None` (the answer
/// is left as it was) when the result would pass `limit` or `buf`, or the answer has a COOKIE already.
/// `ours`: we wrote the answer, so its OPT record (if any) is its last record and has no options,
/// which saves parsing it again. An answer without an OPT record gets one.
pub fn add(buf: &mut [u8], len: usize, option: &[u8; OPTION_LEN], limit: usize, ours: bool) -> Option<usize> {
    let end = len + OPTION_LEN;
    if end > limit.min(buf.len()) {
        return None;
    }
    if ours && ends_with_empty_opt(&buf[..len]) {
        buf[len - 2..len].copy_from_slice(&(OPTION_LEN as u16).to_be_bytes());
        buf[len..end].copy_from_slice(option);
        return Some(end);
    }
    let (opt_end, rdlen_at) = {
        let msg = Message::parse(&buf[..len]).ok()?;
        if msg.cookie().is_some() {
            return None;
        }
        let opt = msg.records(Section::Additional).find(|r| r.rtype == Rtype::OPT);
        match opt {
            Some(r) => (r.rdata_offset + r.rdata.len(), r.rdata_offset - 2),
            None => (len, usize::MAX),
        }
    };
    if rdlen_at == usize::MAX {
        // No OPT record: one of our own at the end, with the option.
        let total = end + OPT_LEN;
        if total > limit.min(buf.len()) {
            return None;
        }
        let arcount = read_u16(buf, field::ARCOUNT.start)?.checked_add(1)?;
        buf[field::ARCOUNT].copy_from_slice(&arcount.to_be_bytes());
        let mut rec = [0u8; OPT_LEN];
        rec[1..3].copy_from_slice(&rtype::OPT.to_be_bytes());
        rec[3..5].copy_from_slice(&(MAX_UDP_PAYLOAD as u16).to_be_bytes());
        rec[9..11].copy_from_slice(&(OPTION_LEN as u16).to_be_bytes());
        buf[len..len + OPT_LEN].copy_from_slice(&rec);
        buf[len + OPT_LEN..total].copy_from_slice(option);
        return Some(total);
    }
    let rdlen = read_u16(buf, rdlen_at)?.checked_add(OPTION_LEN as u16)?;
    buf.copy_within(opt_end..len, opt_end + OPTION_LEN);
    buf[opt_end..opt_end + OPTION_LEN].copy_from_slice(option);
    buf[rdlen_at..rdlen_at + 2].copy_from_slice(&rdlen.to_be_bytes());
    Some(end)
}

/// Whether `msg` ends with an OPT record without options, and counts an additional record.
fn ends_with_empty_opt(msg: &[u8]) -> bool {
    let Some(tail) = msg.len().checked_sub(OPT_LEN).and_then(|at| msg.get(at..)) else {
        return false;
    };
    msg.len() >= HEADER_LEN + OPT_LEN
        && read_u16(msg, field::ARCOUNT.start).is_some_and(|n| n > 0)
        && tail[..3] == [0, 0, 41]
        && tail[9..] == [0, 0]
}

/// The bytes of `query` without its COOKIE option (its OPT record shortened to match), or the bytes as
/// they are when it has none.
pub(crate) fn without_cookie(query: &Message<'_>) -> Box<[u8]> {
    let bytes = query.bytes();
    let Some(c) = query.cookie() else {
        return bytes.into();
    };
    let opt = query.records(Section::Additional).find(|r| r.rtype == Rtype::OPT);
    let Some(rdlen_at) = opt.map(|r| r.rdata_offset - 2) else {
        return bytes.into();
    };
    let mut out = Vec::with_capacity(bytes.len());
    let (start, end) = c.option;
    out.extend_from_slice(&bytes[..start]);
    out.extend_from_slice(&bytes[end..]);
    let removed = (end - start) as u16;
    if let Some(rdlen) = read_u16(&out, rdlen_at) {
        out[rdlen_at..rdlen_at + 2].copy_from_slice(&rdlen.saturating_sub(removed).to_be_bytes());
    }
    out.into_boxed_slice()
}

#[cfg(test)]
mod tests;
