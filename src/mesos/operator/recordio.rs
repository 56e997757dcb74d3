//! RecordIO framing, as the Mesos operator API streams events: each record is its length in bytes as
//! ASCII decimal, a `\n`, then exactly that many bytes (`12\n{"type":"X"}`). Pure: it reads from any
//! buffered reader and hands each record out as a reader of exactly its bytes, so that a record is
//! parsed as it arrives and never held whole (the first one, `SUBSCRIBED`, is the whole cluster:
//! 81 MB at 100k tasks). No socket here.

use std::fmt;
use std::io::{self, BufRead, Read};

/// At most this many digits in a length (20 fit any `u64`; more is garbage, not a length).
const MAX_LENGTH_DIGITS: usize = 20;

/// Splits a byte stream into records, one at a time: [`Frames::next_length`], then
/// [`Frames::body`], read to its end before the next length.
#[derive(Debug)]
pub(crate) struct Frames<R> {
    inner: R,
    max_record: u64,
}

/// The stream is not RecordIO (it cannot be resynchronised), or reading it failed.
#[derive(Debug)]
pub(crate) enum FrameError {
    /// The length prefix is not a decimal number followed by `\n`.
    BadLength(String),
    /// A record announces more bytes than allowed.
    TooBig { length: u64, max: u64 },
    /// The stream ended inside a length prefix.
    Truncated,
    /// Reading the stream failed.
    Io(io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadLength(s) => write!(f, "not a RecordIO length prefix: {s:?}"),
            FrameError::TooBig { length, max } => write!(f, "a {length}-byte record is over the {max}-byte limit"),
            FrameError::Truncated => write!(f, "the stream ended inside a RecordIO length prefix"),
            FrameError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FrameError {}

impl<R: BufRead> Frames<R> {
    /// Records read from `inner`; one that announces over `max_record` bytes is refused.
    pub(crate) fn new(inner: R, max_record: u64) -> Frames<R> {
        Frames { inner, max_record }
    }

    /// Reads the next record's length prefix. `None`: the stream ended cleanly, between records.
    pub(crate) fn next_length(&mut self) -> Result<Option<u64>, FrameError> {
        let mut digits = [0u8; MAX_LENGTH_DIGITS];
        let mut count = 0;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(FrameError::Io(e)),
            };
            if available.is_empty() {
                return if count == 0 {
                    Ok(None)
                } else {
                    Err(FrameError::Truncated)
                };
            }
            // Only the prefix is consumed here: the record's bytes stay for `body`.
            let mut used = 0;
            let mut newline = false;
            for &b in available {
                used += 1;
                if b == b'\n' {
                    newline = true;
                    break;
                }
                if !b.is_ascii_digit() || count == MAX_LENGTH_DIGITS {
                    let mut seen = digits[..count].to_vec();
                    seen.push(b);
                    return Err(bad_length(&seen));
                }
                digits[count] = b;
                count += 1;
            }
            self.inner.consume(used);
            if newline {
                return self.length(&digits[..count]).map(Some);
            }
        }
    }

    fn length(&self, digits: &[u8]) -> Result<u64, FrameError> {
        let length: u64 = std::str::from_utf8(digits)
            .ok()
            .filter(|s| !s.is_empty())
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad_length(digits))?;
        if length > self.max_record {
            return Err(FrameError::TooBig {
                length,
                max: self.max_record,
            });
        }
        Ok(length)
    }

    /// The body of the record whose length [`Frames::next_length`] just gave: a reader that ends
    /// after exactly `length` bytes. Read it to its end (or [`skip`] the rest) before the next
    /// length; if the stream ends first, reading it fails with `UnexpectedEof`.
    pub(crate) fn body(&mut self, length: u64) -> Body<'_, R> {
        Body {
            inner: &mut self.inner,
            left: length,
        }
    }
}

/// One record's bytes, read straight from the stream.
#[derive(Debug)]
pub(crate) struct Body<'a, R> {
    inner: &'a mut R,
    left: u64,
}

impl<R: BufRead> Read for Body<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let available = self.inner.fill_buf()?;
        if available.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the stream ended inside a record",
            ));
        }
        let n = available
            .len()
            .min(buf.len())
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        buf[..n].copy_from_slice(&available[..n]);
        self.inner.consume(n);
        self.left -= n as u64;
        Ok(n)
    }
}

impl<R> Body<'_, R> {
    /// Bytes of the record not read yet.
    pub(crate) fn left(&self) -> u64 {
        self.left
    }
}

/// Reads and drops what is left of a record.
pub(crate) fn skip<R: BufRead>(body: &mut Body<'_, R>) -> io::Result<()> {
    io::copy(body, &mut io::sink()).map(|_| ())
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
mod tests;
