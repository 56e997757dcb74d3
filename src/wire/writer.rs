//! The message encoder: writes into a caller-supplied buffer up to a size limit and never allocates.
//! Every record is written whole or not at all, so the caller can stop at the limit and set TC.

use super::name::NameRef;
use super::{field, rtype};

/// The message would pass its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

/// The owner name of a record being written.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner<'a> {
    /// A compression pointer to a name already in the message.
    Pointer(usize),
    /// An uncompressed name in wire form.
    Wire(&'a [u8]),
}

/// Writes one message into a borrowed buffer.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
    limit: usize,
}

impl<'a> Writer<'a> {
    /// A writer that will write at most `limit` bytes (and never more than the buffer holds).
    pub(crate) fn new(buf: &'a mut [u8], limit: usize) -> Writer<'a> {
        let limit = limit.min(buf.len());
        Writer { buf, len: 0, limit }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The size limit.
    #[cfg(test)]
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the size limit (not beyond the buffer, not below what is written).
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit.clamp(self.len, self.buf.len());
    }

    /// Forgets everything written after `len` (to undo a partly written record).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) -> Result<(), Full> {
        let end = self.len.checked_add(b.len()).filter(|&e| e <= self.limit).ok_or(Full)?;
        self.buf[self.len..end].copy_from_slice(b);
        self.len = end;
        Ok(())
    }

    pub(crate) fn u16(&mut self, v: u16) -> Result<(), Full> {
        self.bytes(&v.to_be_bytes())
    }

    pub(crate) fn u32(&mut self, v: u32) -> Result<(), Full> {
        self.bytes(&v.to_be_bytes())
    }

    /// A compression pointer to `offset` (which must be below 0x4000 to be expressible).
    pub(crate) fn pointer(&mut self, offset: usize) -> Result<(), Full> {
        debug_assert!(offset < 0x4000);
        self.u16(0xc000 | (offset as u16 & 0x3fff))
    }

    /// Writes the uncompressed wire name `name` and returns where it starts. Its longest proper suffix
    /// already in the message is replaced by a compression pointer (RFC 1035 4.1.4): looked for in the
    /// names written at `targets` and their parents. Octets are compared exactly, so the name reads
    /// back as given whatever the case of the question it may point into. Written whole or not at all.
    pub(crate) fn name(&mut self, name: &[u8], targets: &[usize]) -> Result<usize, Full> {
        let start = self.len;
        let mut at = 0;
        while let Some(&len) = name.get(at).filter(|&&len| len != 0 && len < 0x40) {
            let suffix = &name[at..];
            let found = targets
                .iter()
                .find_map(|&t| suffix_at(&self.buf[..self.len], t, suffix))
                .filter(|&offset| offset < 0x4000);
            if let Some(offset) = found {
                let written = self.bytes(&name[..at]).and_then(|()| self.pointer(offset));
                if written.is_err() {
                    self.len = start;
                }
                return written.map(|()| start);
            }
            at += 1 + usize::from(len);
        }
        self.bytes(name)?;
        Ok(start)
    }

    /// Overwrites a u16 already written (header counts and flags).
    pub(crate) fn set_u16(&mut self, at: usize, v: u16) {
        if let Some(slot) = self.buf.get_mut(at..at + 2).filter(|_| at + 2 <= self.len) {
            slot.copy_from_slice(&v.to_be_bytes());
        }
    }

    /// Reads back a u16 already written.
    #[cfg(test)]
    pub(crate) fn get_u16(&self, at: usize) -> u16 {
        super::read_u16(&self.buf[..self.len], at).unwrap_or(0)
    }

    /// The bytes written so far.
    #[cfg(test)]
    pub(crate) fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Writes a whole record or nothing: owner, type, class IN, TTL, and the RDATA that `rdata` writes
    /// (its length is filled in afterwards).
    pub(crate) fn record(
        &mut self,
        owner: Owner<'_>,
        rtype: u16,
        ttl: u32,
        rdata: impl FnOnce(&mut Self) -> Result<(), Full>,
    ) -> Result<(), Full> {
        let start = self.len;
        let result = self.record_unchecked(owner, rtype, ttl, rdata);
        if result.is_err() {
            self.len = start;
        }
        result
    }

    fn record_unchecked(
        &mut self,
        owner: Owner<'_>,
        rtype: u16,
        ttl: u32,
        rdata: impl FnOnce(&mut Self) -> Result<(), Full>,
    ) -> Result<(), Full> {
        match owner {
            Owner::Pointer(offset) => self.pointer(offset)?,
            Owner::Wire(name) => self.bytes(name)?,
        }
        self.u16(rtype)?;
        self.u16(super::class::IN)?;
        self.u32(ttl)?;
        let rdlen_at = self.len;
        self.u16(0)?;
        rdata(self)?;
        let rdlen = self.len - rdlen_at - 2;
        self.set_u16(rdlen_at, rdlen as u16);
        Ok(())
    }

    /// The EDNS0 OPT pseudo-record (RFC 6891) with no options.
    pub(crate) fn opt(&mut self, udp_size: u16, ext_rcode: u8, dnssec_ok: bool) -> Result<(), Full> {
        let ttl = u32::from(ext_rcode) << 24 | if dnssec_ok { 0x8000 } else { 0 };
        let mut rec = [0u8; OPT_LEN];
        rec[1..3].copy_from_slice(&rtype::OPT.to_be_bytes());
        rec[3..5].copy_from_slice(&udp_size.to_be_bytes());
        rec[5..9].copy_from_slice(&ttl.to_be_bytes());
        self.bytes(&rec)
    }

    /// Starts a response: the header with the query's ID, QR set, the given flags and rcode, zero counts.
    pub(crate) fn header(&mut self, id: u16, flags: u16, rcode: u16) -> Result<(), Full> {
        self.u16(id)?;
        self.u16(field::QR | flags | (rcode & field::RCODE_MASK))?;
        self.bytes(&[0; 8])
    }
}

/// The size of an OPT record without options.
pub(crate) const OPT_LEN: usize = 11;

/// Pointers followed at most while reading a name back from our own message.
const MAX_HOPS: usize = 16;

/// Where the name written at `from` in `msg`, or one of its parents, is `suffix` (uncompressed), if it
/// is; a position that holds a label, never a pointer.
fn suffix_at(msg: &[u8], mut from: usize, suffix: &[u8]) -> Option<usize> {
    for _ in 0..=MAX_HOPS {
        loop {
            let len = *msg.get(from)?;
            if len & 0xc0 == 0xc0 {
                break;
            }
            if reads_as(msg, from, suffix) {
                return Some(from);
            }
            if len == 0 || len >= 0x40 {
                return None;
            }
            from += 1 + usize::from(len);
        }
        let target = usize::from(super::read_u16(msg, from)? & 0x3fff);
        // Only backwards: no loop.
        from = Some(target).filter(|&t| t < from)?;
    }
    None
}

/// Whether the name at `at` in `msg` (labels, maybe ending in a pointer) is `name`, octet for octet.
fn reads_as(msg: &[u8], at: usize, name: &[u8]) -> bool {
    match (NameRef::parse(msg, at), NameRef::parse(name, 0)) {
        (Ok((written, _)), Ok((wanted, _))) => written.eq_exact(&wanted),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_is_written_whole_or_not_at_all() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf, 30);
        w.header(7, field::AA, 0).unwrap();
        w.record(Owner::Pointer(12), rtype::A, 60, |w| w.bytes(&[10, 0, 0, 1]))
            .unwrap();
        assert_eq!(w.len(), 12 + 16);
        assert_eq!(
            w.record(Owner::Pointer(12), rtype::A, 60, |w| w.bytes(&[10, 0, 0, 2])),
            Err(Full)
        );
        assert_eq!(w.len(), 28);
        assert_eq!(
            &w.written()[12..],
            b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01"
        );
    }

    #[test]
    fn header_sets_qr_and_rcode() {
        let mut buf = [0u8; 12];
        let mut w = Writer::new(&mut buf, 512);
        assert_eq!(w.limit(), 12);
        w.header(0xbeef, field::AA | field::RD, 3).unwrap();
        assert_eq!(w.written(), b"\xbe\xef\x85\x03\x00\x00\x00\x00\x00\x00\x00\x00");
        w.set_u16(6, 2);
        assert_eq!(w.get_u16(6), 2);
    }

    #[test]
    fn opt_record_layout() {
        let mut buf = [0u8; 16];
        let mut w = Writer::new(&mut buf, 16);
        w.opt(1232, 1, true).unwrap();
        assert_eq!(w.written(), b"\x00\x00\x29\x04\xd0\x01\x00\x80\x00\x00\x00");
    }

    #[test]
    fn names_point_at_their_longest_suffix_already_written() {
        let mut buf = [0u8; 128];
        let mut w = Writer::new(&mut buf, 128);
        w.bytes(&[0; 12]).unwrap();
        // The question: nope.marathon.mesos.
        let question = w.name(b"\x04nope\x08marathon\x05mesos\x00", &[]).unwrap();
        assert_eq!(question, 12);
        let ns1 = w.name(b"\x03ns1\x05mesos\x00", &[question]).unwrap();
        assert_eq!(&w.written()[ns1..], b"\x03ns1\xc0\x1a", "mesos. is at 26");
        let root = w.name(b"\x04root\x03ns1\x05mesos\x00", &[ns1, question]).unwrap();
        assert_eq!(&w.written()[root..], b"\x04root\xc0\x21", "ns1.mesos. is at 33");
        // Octets compare exactly: another case is written out; so is a name with no suffix in common.
        let upper = w.name(b"\x03ns2\x05MESOS\x00", &[question, ns1]).unwrap();
        assert_eq!(&w.written()[upper..], b"\x03ns2\x05MESOS\x00");
        let other = w.name(b"\x03ns1\x03org\x00", &[question, ns1, root]).unwrap();
        assert_eq!(&w.written()[other..], b"\x03ns1\x03org\x00");
        // Every name reads back whole through the crate's parser.
        let msg = w.written().to_vec();
        let read = |at| {
            let (name, _) = super::super::NameRef::parse(&msg, at).unwrap();
            name.labels()
                .map(|l| String::from_utf8_lossy(l) + ".")
                .collect::<String>()
        };
        assert_eq!(read(ns1), "ns1.mesos.");
        assert_eq!(read(root), "root.ns1.mesos.");
        assert_eq!(read(upper), "ns2.MESOS.");
    }

    #[test]
    fn a_compressed_name_is_written_whole_or_not_at_all_within_the_limit() {
        let mut buf = [0u8; 40];
        let mut w = Writer::new(&mut buf, 20);
        w.bytes(&[0; 12]).unwrap();
        let at = w.name(b"\x01a\x00", &[]).unwrap();
        assert_eq!(
            w.name(b"\x04root\x01a\x00", &[at]),
            Err(Full),
            "needs 7 of 5 bytes left"
        );
        assert_eq!(w.name(b"\x02xy\x01a\x00", &[at]), Ok(15));
    }

    #[test]
    fn limit_cannot_drop_below_written() {
        let mut buf = [0u8; 16];
        let mut w = Writer::new(&mut buf, 16);
        w.bytes(&[1; 8]).unwrap();
        w.set_limit(4);
        assert_eq!(w.limit(), 8);
        assert_eq!(w.bytes(&[1]), Err(Full));
        w.truncate(2);
        assert_eq!(w.len(), 2);
    }
}
