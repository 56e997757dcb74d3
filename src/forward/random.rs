//! Unpredictable numbers for query IDs, source ports and socket choice (RFC 5452): bytes from the
//! operating system's CSPRNG through the `getrandom` crate, fetched in blocks so a relayed query costs
//! no extra syscall. There is no fallback: without the OS's randomness the relay does not start, and a
//! later failure (which Linux never reports once the pool is initialised) fails the query instead of
//! choosing a predictable ID.

/// A buffered reader of the OS's random bytes.
pub struct SecureRandom {
    buf: [u8; 512],
    pos: usize,
}

impl SecureRandom {
    /// Reads the first block, so a system without randomness is found out at start.
    pub fn new() -> Result<SecureRandom, getrandom::Error> {
        let mut random = SecureRandom { buf: [0; 512], pos: 0 };
        getrandom::getrandom(&mut random.buf)?;
        Ok(random)
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        if self.pos + N > self.buf.len() {
            getrandom::getrandom(&mut self.buf).ok()?;
            self.pos = 0;
        }
        let mut out = [0; N];
        out.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        Some(out)
    }

    /// A random 16-bit number; `None` only if the OS stopped giving random bytes.
    pub fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_ne_bytes)
    }

    /// A number below `n` (`n` > 0), without modulo bias worth speaking of for small `n`.
    pub fn below(&mut self, n: usize) -> Option<usize> {
        self.take().map(|b| u32::from_ne_bytes(b) as usize % n.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_vary() {
        let mut r = SecureRandom::new().unwrap();
        let ids: std::collections::HashSet<u16> = (0..1000).filter_map(|_| r.u16()).collect();
        assert!(ids.len() > 900, "{} distinct of 1000", ids.len());
        assert!((0..100).all(|_| r.below(7).is_some_and(|n| n < 7)));
    }
}
