//! The DNS wire format (RFC 1035, RFC 6891): zero-copy views of received messages ([`Message`]) and an
//! encoder that writes into a caller-supplied buffer ([`Writer`]). Nothing here allocates or panics on
//! input; nothing here knows about Mesos or about which answer to give.

pub(crate) mod cookie;
mod iana;
mod message;
mod name;
pub(crate) mod tcp;
mod writer;

pub(crate) use iana::Class;
pub use iana::{Opcode, Rcode, Rtype};
pub(crate) use message::{Edns, Header};
pub use message::{Message, Received, Section};
pub use name::lower_name;
#[cfg(test)]
pub(crate) use name::wire_of;
pub(crate) use name::{bytes_to_wire, is_at_or_below, parents, text_to_wire, uncompressed_len, wire_to_text};
pub(crate) use name::{LowerName, NameRef, MAX_NAME_LEN};
pub(crate) use writer::{Full, Owner, Writer, OPT_LEN};

/// Length of the fixed message header.
pub(crate) const HEADER_LEN: usize = 12;
/// The largest DNS message (TCP length prefix limit).
pub const MAX_MESSAGE: usize = 65535;
/// The UDP payload size without EDNS0 (RFC 1035 4.2.1).
pub(crate) const MIN_UDP_PAYLOAD: usize = 512;
/// The EDNS0 payload size we advertise and honour at most (DNS Flag Day 2020: no IP fragmentation).
pub const MAX_UDP_PAYLOAD: usize = 1232;

/// Header field byte ranges and flag bits.
pub mod field {
    /// The message ID.
    pub const ID: core::ops::Range<usize> = 0..2;
    /// The flags word (QR, opcode, AA, TC, RD, RA, AD, CD, RCODE).
    pub const FLAGS: core::ops::Range<usize> = 2..4;
    /// The question count.
    pub const QDCOUNT: core::ops::Range<usize> = 4..6;
    /// The answer record count.
    pub const ANCOUNT: core::ops::Range<usize> = 6..8;
    /// The authority record count.
    pub const NSCOUNT: core::ops::Range<usize> = 8..10;
    /// The additional record count.
    pub const ARCOUNT: core::ops::Range<usize> = 10..12;

    /// A response.
    pub const QR: u16 = 0x8000;
    /// An authoritative answer.
    pub const AA: u16 = 0x0400;
    /// Truncated.
    pub const TC: u16 = 0x0200;
    /// Recursion desired.
    pub const RD: u16 = 0x0100;
    /// Recursion available.
    pub const RA: u16 = 0x0080;
    /// Checking disabled (RFC 4035).
    pub const CD: u16 = 0x0010;
    /// Where the opcode starts in the flags word.
    pub const OPCODE_SHIFT: u16 = 11;
    /// The opcode's bits in the flags word.
    pub const OPCODE_MASK: u16 = 0x7800;
    /// The RCODE's bits in the flags word.
    pub const RCODE_MASK: u16 = 0x000f;
}

/// Record types we read or write, as the integers the writer and the snapshot store ([`Rtype`] names them).
pub mod rtype {
    use super::Rtype;
    /// [`Rtype::A`].
    pub const A: u16 = Rtype::A.to_int();
    /// [`Rtype::NS`].
    pub const NS: u16 = Rtype::NS.to_int();
    /// [`Rtype::CNAME`].
    pub const CNAME: u16 = Rtype::CNAME.to_int();
    /// [`Rtype::SOA`].
    pub const SOA: u16 = Rtype::SOA.to_int();
    /// [`Rtype::PTR`].
    pub const PTR: u16 = Rtype::PTR.to_int();
    /// [`Rtype::TXT`].
    pub const TXT: u16 = Rtype::TXT.to_int();
    /// [`Rtype::AAAA`].
    pub const AAAA: u16 = Rtype::AAAA.to_int();
    /// [`Rtype::SRV`].
    pub const SRV: u16 = Rtype::SRV.to_int();
    /// [`Rtype::OPT`].
    pub const OPT: u16 = Rtype::OPT.to_int();
    /// [`Rtype::IXFR`].
    #[cfg(test)]
    pub const IXFR: u16 = Rtype::IXFR.to_int();
    /// [`Rtype::AXFR`].
    #[cfg(test)]
    pub const AXFR: u16 = Rtype::AXFR.to_int();
    /// [`Rtype::ANY`].
    pub const ANY: u16 = Rtype::ANY.to_int();
}

/// Classes, as integers ([`Class`]).
pub(crate) mod class {
    use super::Class;
    pub(crate) const IN: u16 = Class::IN.to_int();
    pub(crate) const ANY: u16 = Class::ANY.to_int();
}

/// Response codes as integers (the low four bits; BADVERS is extended, RFC 6891); [`Rcode`] names them.
pub mod rcode {
    use super::Rcode;
    /// [`Rcode::NOERROR`].
    pub const NOERROR: u16 = Rcode::NOERROR.to_int();
    /// [`Rcode::FORMERR`].
    pub const FORMERR: u16 = Rcode::FORMERR.to_int();
    /// [`Rcode::SERVFAIL`].
    pub const SERVFAIL: u16 = Rcode::SERVFAIL.to_int();
    /// [`Rcode::NXDOMAIN`].
    pub const NXDOMAIN: u16 = Rcode::NXDOMAIN.to_int();
    /// [`Rcode::NOTIMP`].
    pub const NOTIMP: u16 = Rcode::NOTIMP.to_int();
    /// [`Rcode::REFUSED`].
    pub const REFUSED: u16 = Rcode::REFUSED.to_int();
    /// [`Rcode::BADVERS`].
    pub const BADVERS: u16 = Rcode::BADVERS.to_int();
}

/// Reads a big-endian u16 at `at`, if the buffer holds it.
#[inline]
pub(crate) fn read_u16(buf: &[u8], at: usize) -> Option<u16> {
    match buf.get(at..at.checked_add(2)?) {
        Some(&[a, b]) => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }
}

/// Reads a big-endian u32 at `at`, if the buffer holds it.
#[inline]
pub(crate) fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    match buf.get(at..at.checked_add(4)?) {
        Some(&[a, b, c, d]) => Some(u32::from_be_bytes([a, b, c, d])),
        _ => None,
    }
}
