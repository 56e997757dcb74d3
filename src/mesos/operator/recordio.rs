//! RecordIO framing, as the Mesos operator API streams events: each record is its length in bytes as
//! ASCII decimal, a `\n`, then exactly that many bytes (`12\n{"type":"X"}`). Pure: bytes are pushed in
//! as they arrive and whole records come out; no socket here.

use std::fmt;

/// At most this many digits in a length (20 fit any `u64`; more is garbage, not a length).
const MAX_LENGTH_DIGITS: usize = 20;

/// Splits a byte stream into records.
#[derive(Debug)]
pub(crate) struct Decoder {
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts (consumed bytes are dropped lazily, not per record).
    start: usize,
    max_record: u64,
}

/// The stream is not RecordIO; it cannot be resynchronised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// The length prefix is not a decimal number followed by `\n`.
    BadLength(String),
    /// A record announces more bytes than allowed.
    TooBig { length: u64, max: u64 },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadLength(s) => write!(f, "not a RecordIO length prefix: {s:?}"),
            FrameError::TooBig { length, max } => write!(f, "a {length}-byte record is over the {max}-byte limit"),
        }
    }
}

impl std::error::Error for FrameError {}

impl Decoder {
    /// A decoder that refuses records over `max_record` bytes.
    pub(crate) fn new(max_record: u64) -> Decoder {
        Decoder {
            buf: Vec::new(),
            start: 0,
            max_record,
        }
    }

    /// Appends bytes read from the stream.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete record, `None` until one has arrived in full. After an error the stream is
    /// unusable and the decoder keeps returning it.
    pub(crate) fn next_record(&mut self) -> Result<Option<&[u8]>, FrameError> {
        let pending = &self.buf[self.start..];
        let Some(newline) = pending.iter().take(MAX_LENGTH_DIGITS + 1).position(|&b| b == b'\n') else {
            let head = &pending[..pending.len().min(MAX_LENGTH_DIGITS + 1)];
            if pending.len() > MAX_LENGTH_DIGITS || !head.iter().all(u8::is_ascii_digit) {
                return Err(bad_length(head));
            }
            return Ok(None);
        };
        let digits = &pending[..newline];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad_length(digits));
        }
        let length: u64 = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad_length(digits))?;
        if length > self.max_record {
            return Err(FrameError::TooBig {
                length,
                max: self.max_record,
            });
        }
        // Fits in usize: it is at most `max_record`, which a caller sizes for memory.
        let length = usize::try_from(length).map_err(|_| bad_length(digits))?;
        let body_start = newline + 1;
        if pending.len() - body_start < length {
            return Ok(None);
        }
        let from = self.start + body_start;
        self.start = from + length;
        Ok(Some(&self.buf[from..from + length]))
    }

    #[cfg(test)]
    /// Bytes received but not yet returned as a record.
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }
}

fn bad_length(bytes: &[u8]) -> FrameError {
    FrameError::BadLength(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
/// One record in RecordIO form (for tests and the fake master).
pub(crate) fn encode(record: &[u8]) -> Vec<u8> {
    let mut out = format!("{}\n", record.len()).into_bytes();
    out.extend_from_slice(record);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(d: &mut Decoder) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut out = Vec::new();
        while let Some(r) = d.next_record()? {
            out.push(r.to_vec());
        }
        Ok(out)
    }

    #[test]
    fn records_split_at_any_byte_come_out_whole() {
        let stream = [encode(br#"{"type":"SUBSCRIBED"}"#), encode(b""), encode(b"{\"a\":\n1}")].concat();
        for chunk in 1..stream.len() {
            let mut d = Decoder::new(1024);
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                d.push(piece);
                got.extend(all(&mut d).unwrap());
            }
            assert_eq!(
                got,
                vec![
                    br#"{"type":"SUBSCRIBED"}"#.to_vec(),
                    Vec::new(),
                    b"{\"a\":\n1}".to_vec()
                ],
                "chunk {chunk}"
            );
            assert_eq!(d.buffered(), 0);
        }
    }

    #[test]
    fn partial_record_waits() {
        let mut d = Decoder::new(1024);
        d.push(b"10\n12345");
        assert_eq!(d.next_record(), Ok(None));
        d.push(b"67890");
        assert_eq!(d.next_record(), Ok(Some(&b"1234567890"[..])));
        d.push(b"2");
        assert_eq!(d.next_record(), Ok(None));
    }

    #[test]
    fn garbage_and_oversized_records_are_errors() {
        for bad in [
            &b"abc\n{}"[..],
            b"\n",
            b"-1\n",
            b"1 2\nxx",
            b"123456789012345678901234\n",
        ] {
            let mut d = Decoder::new(1024);
            d.push(bad);
            assert!(matches!(d.next_record(), Err(FrameError::BadLength(_))), "{bad:?}");
        }
        let mut d = Decoder::new(1024);
        d.push(b"99999999999999999999");
        assert_eq!(d.next_record(), Ok(None), "20 digits may still be a length");
        d.push(b"9");
        assert!(d.next_record().is_err(), "too many digits without a newline");
        let mut d = Decoder::new(1024);
        d.push(b"<h");
        assert!(d.next_record().is_err(), "not a digit: no need to wait for the newline");
        let mut d = Decoder::new(10);
        d.push(b"11\n");
        assert_eq!(d.next_record(), Err(FrameError::TooBig { length: 11, max: 10 }));
        let mut d = Decoder::new(u64::MAX);
        d.push(b"99999999999999999999\n");
        assert!(d.next_record().is_err(), "over u64");
    }

    #[test]
    fn consumed_bytes_are_reclaimed() {
        let mut d = Decoder::new(1 << 20);
        let rec = encode(&[b'x'; 1000]);
        for _ in 0..1000 {
            d.push(&rec);
            assert_eq!(d.next_record().unwrap().map(<[u8]>::len), Some(1000));
        }
        assert!(d.buf.capacity() < 200 * 1024, "{}", d.buf.capacity());
    }
}
