//! The server's randomness, from one source: the operating system's CSPRNG through the `getrandom`
//! crate. Two generators draw on it, because their two uses ask different things of it:
//! - [`SecureRandom`]: relay query IDs, source ports and socket choice must be unpredictable to an
//!   off-path attacker (RFC 5452), so every number is OS bytes, fetched in blocks so that a relayed
//!   query costs no extra syscall. A later failure (which Linux never reports once the pool is
//!   initialised) fails the query instead of choosing a predictable ID.
//! - [`ShuffleRng`]: the order of multi-record answers need only vary from query to query; it is
//!   drawn once per answered query, on the answer path, where a buffered syscall source would cost
//!   several times the shuffle itself. So it is xorshift64*, seeded once from the OS. Its output says
//!   nothing about the relay's numbers (different draws of the OS's bytes).
//!
//! Neither falls back to the clock: without the OS's randomness the server does not start.

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

/// xorshift64*: cheap per-query randomness for answer order. Not for anything an attacker must not
/// guess: relay IDs and ports come from [`SecureRandom`].
pub(crate) struct ShuffleRng(u64);

impl ShuffleRng {
    /// A generator seeded from the OS; fails only if the OS gives no random bytes.
    pub(crate) fn from_os() -> Result<ShuffleRng, getrandom::Error> {
        let mut seed = [0u8; 8];
        getrandom::getrandom(&mut seed)?;
        // xorshift's one bad state is zero.
        Ok(ShuffleRng(u64::from_ne_bytes(seed) | 1))
    }

    /// The next number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// splitmix64: small and seedable, for tests that draw random documents and event sequences.
#[cfg(test)]
pub(crate) struct TestRng(pub(crate) u64);

#[cfg(test)]
impl TestRng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub(crate) fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[self.below(of.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_seeds_differ_and_numbers_vary() {
        let (mut a, mut b) = (ShuffleRng::from_os().unwrap(), ShuffleRng::from_os().unwrap());
        let from_a: std::collections::HashSet<u64> = (0..1000).map(|_| a.next()).collect();
        assert_eq!(from_a.len(), 1000);
        assert_ne!(a.next(), b.next(), "two generators seeded apart");
    }

    #[test]
    fn ids_vary() {
        let mut r = SecureRandom::new().unwrap();
        let ids: std::collections::HashSet<u16> = (0..1000).filter_map(|_| r.u16()).collect();
        assert!(ids.len() > 900, "{} distinct of 1000", ids.len());
        assert!((0..100).all(|_| r.below(7).is_some_and(|n| n < 7)));
    }
}
