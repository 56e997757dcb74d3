//! The byte form the model's packed tasks ([`super::model::packed`]) and the task table's sources
//! ([`super::incremental::task_source`]) are written in: unsigned LEB128 varints and strings prefixed
//! by their length as one. [`Writer`] appends to a buffer; [`Reader`] reads one in place and never
//! panics: past the end, or in a garbled buffer, everything reads as zero or empty. Pure.

/// Appends fields to a buffer.
pub(crate) struct Writer<'a>(pub(crate) &'a mut Vec<u8>);

impl Writer<'_> {
    pub(crate) fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
}

/// Reads what a [`Writer`] wrote, from the front.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    pub(crate) fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte();
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
        }
        v
    }

    /// A count of items that follow (each at least a byte: never more than the bytes left).
    pub(crate) fn count(&mut self) -> usize {
        usize::try_from(self.varint()).unwrap_or(usize::MAX).min(self.0.len())
    }

    /// The next `n` bytes (fewer at the end) as text (empty if they are not UTF-8).
    pub(crate) fn bytes(&mut self, n: usize) -> &'a str {
        let (s, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        std::str::from_utf8(s).unwrap_or_default()
    }

    pub(crate) fn str(&mut self) -> &'a str {
        let n = usize::try_from(self.varint()).unwrap_or(usize::MAX);
        self.bytes(n)
    }

    /// The next `N` bytes, zeros past the end.
    pub(crate) fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back_and_a_cut_buffer_reads_as_zero_and_empty() {
        let mut buf = Vec::new();
        let mut w = Writer(&mut buf);
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            w.varint(v);
        }
        w.str("web.1");
        w.str("");
        let mut r = Reader(&buf);
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(r.varint(), v);
        }
        assert_eq!((r.str(), r.str()), ("web.1", ""));
        assert_eq!((r.byte(), r.varint(), r.str(), r.array::<4>()), (0, 0, "", [0; 4]));
        // A length past the end reads what is there.
        let mut r = Reader(&[200, 1, b'a', b'b']);
        assert_eq!(r.str(), "ab");
        assert_eq!(r.count(), 0);
    }
}
