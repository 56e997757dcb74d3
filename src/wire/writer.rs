//! The message encoder: writes into a caller-supplied buffer up to a size limit and never allocates.
//! Every record is written whole or not at all, so the caller can stop at the limit and set TC.

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
