//! Unpredictable numbers for query IDs, source ports and socket choice (RFC 5452): bytes from the
//! kernel's CSPRNG (`getrandom(2)`), fetched in blocks so a relayed query costs no extra syscall.

/// A buffered reader of `getrandom(2)`.
pub struct SecureRandom {
    buf: [u8; 512],
    pos: usize,
}

impl Default for SecureRandom {
    fn default() -> Self {
        Self::new()
    }
}

impl SecureRandom {
    pub fn new() -> SecureRandom {
        SecureRandom {
            buf: [0; 512],
            pos: 512,
        }
    }

    fn refill(&mut self) {
        let mut filled = 0;
        while filled < self.buf.len() {
            let rest = &mut self.buf[filled..];
            // SAFETY: `rest` is a valid, writable buffer of `rest.len()` bytes for the whole call.
            let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
            if n > 0 {
                filled += n as usize;
            } else if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                // getrandom cannot fail on Linux >= 3.17 once the pool is initialised; if it ever does,
                // fall back to the clock rather than to zeros.
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                for (i, b) in rest.iter_mut().enumerate() {
                    *b = (t >> ((i % 16) * 8)) as u8 ^ i as u8;
                }
                filled = self.buf.len();
            }
        }
        self.pos = 0;
    }

    pub fn u16(&mut self) -> u16 {
        if self.pos + 2 > self.buf.len() {
            self.refill();
        }
        let v = u16::from_ne_bytes([self.buf[self.pos], self.buf[self.pos + 1]]);
        self.pos += 2;
        v
    }

    /// A number below `n` (`n` > 0), without modulo bias worth speaking of for small `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (u32::from(self.u16()) << 16 | u32::from(self.u16())) as usize % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_vary() {
        let mut r = SecureRandom::new();
        let ids: std::collections::HashSet<u16> = (0..1000).map(|_| r.u16()).collect();
        assert!(ids.len() > 900, "{} distinct of 1000", ids.len());
        assert!((0..100).all(|_| r.below(7) < 7));
    }
}
