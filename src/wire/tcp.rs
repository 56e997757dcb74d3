//! Bytes on a stream: the 2-octet length framing of DNS over TCP (RFC 1035 4.2.2, RFC 7766 8) and
//! [`OutBuf`], the output buffer of a non-blocking connection (what is queued, how much of it the socket
//! took). Shared by the DNS and HTTP connections; it knows nothing of what the bytes mean.

use std::io::{self, Write};

/// The first complete frame in `input`: its message and the bytes it used (prefix included); `None`
/// while the prefix or the body is still incomplete.
pub(crate) fn split_frame(input: &[u8]) -> Option<(&[u8], usize)> {
    let (&[hi, lo], rest) = input.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    Some((rest.get(..len)?, 2 + len))
}

/// Bytes queued for a stream, written as far as it takes them.
#[derive(Debug, Default)]
pub(crate) struct OutBuf {
    bytes: Vec<u8>,
    /// How much of `bytes` the stream has taken.
    written: usize,
}

impl OutBuf {
    /// Queues `bytes`.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// Queues one DNS message behind its 2-octet length. A message longer than a frame can say is not
    /// queued (our answers are built in a `MAX_MESSAGE` buffer, so none is).
    pub(crate) fn push_frame(&mut self, message: &[u8]) {
        let Ok(len) = u16::try_from(message.len()) else {
            return;
        };
        self.bytes.extend_from_slice(&len.to_be_bytes());
        self.bytes.extend_from_slice(message);
    }

    /// Bytes queued and not yet written.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.bytes[self.written..]
    }

    /// How many bytes are queued and not yet written.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len() - self.written
    }

    /// Whether everything queued has been written.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Marks `n` more bytes as written; once all are, the buffer starts again from its beginning.
    pub(crate) fn wrote(&mut self, n: usize) {
        self.written = (self.written + n).min(self.bytes.len());
        if self.written == self.bytes.len() {
            self.bytes.clear();
            self.written = 0;
        }
    }

    /// Writes what `stream` takes without blocking. False on a fatal error (the connection is done);
    /// `WouldBlock` is not one: the rest waits for the next writable event.
    pub(crate) fn flush_to<W: Write>(&mut self, stream: &mut W) -> bool {
        while !self.is_empty() {
            match stream.write(self.pending()) {
                Ok(0) => return false,
                Ok(n) => self.wrote(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_split_only_once_whole() {
        assert_eq!(split_frame(&[]), None);
        assert_eq!(split_frame(&[0]), None);
        assert_eq!(split_frame(&[0, 3, 1, 2]), None);
        assert_eq!(split_frame(&[0, 3, 1, 2, 3, 9]), Some((&[1u8, 2, 3][..], 5)));
        assert_eq!(split_frame(&[0, 0, 7]), Some((&[][..], 2)));
    }

    /// Takes at most `room` bytes per write, then says WouldBlock once.
    struct Slow {
        room: usize,
        blocked: bool,
        got: Vec<u8>,
    }

    impl Write for Slow {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.blocked {
                self.blocked = false;
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.blocked = true;
            let n = buf.len().min(self.room);
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn frames_are_written_in_order_across_partial_writes() {
        let mut out = OutBuf::default();
        out.push_frame(b"abc");
        out.push_frame(b"de");
        let mut stream = Slow {
            room: 3,
            blocked: false,
            got: Vec::new(),
        };
        assert!(out.flush_to(&mut stream));
        assert_eq!(out.len(), 6, "one partial write, then WouldBlock");
        while !out.is_empty() {
            assert!(out.flush_to(&mut stream));
        }
        assert_eq!(stream.got, b"\x00\x03abc\x00\x02de");
        assert_eq!(out.pending(), b"");
    }

    #[test]
    fn a_stream_that_takes_nothing_is_fatal() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Ok(0)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut out = OutBuf::default();
        out.push(b"x");
        assert!(!out.flush_to(&mut Closed));
        assert!(
            OutBuf::default().flush_to(&mut Closed),
            "nothing to write is not an error"
        );
    }
}
