//! Server cookies (RFC 7873, made as RFC 9018 says so that any server of the same secret can check
//! them): version 1, three reserved bytes, a 32-bit timestamp and SipHash-2-4 (hand-rolled below) over
//! client cookie | version | reserved | timestamp | client address, keyed with a secret from the
//! operating system that rotates every hour (the previous one still verifies). A server cookie is valid
//! for an hour, and up to five minutes in the future (clock skew among servers, RFC 9018 4.3); one
//! older than half an hour is replaced in the answer by a fresh one. Pure: the caller gives the time
//! and the fresh secrets.
//!
//! A query without a valid server cookie is answered all the same, with a new server cookie (BIND's and
//! Knot's default): no BADCOOKIE. What a valid one earns is [`Verdict::verified`], which response
//! rate limiting reads (a client that shows one is not spoofed).

use std::net::IpAddr;

use crate::wire::cookie::{CLIENT_LEN, SERVER_LEN};

/// The server cookie version of RFC 9018.
const VERSION: u8 = 1;
/// How long a server cookie is valid (RFC 9018 4.3).
const LIFETIME: i64 = 3600;
/// How far in the future a server cookie may be stamped (another server's clock).
const SKEW: i64 = 300;
/// Past this age a valid server cookie is replaced in the answer.
const REFRESH_AFTER: i64 = 1800;
/// How often the secret rotates.
pub(crate) const ROTATE_EVERY: u64 = 3600;

/// A SipHash key.
pub(crate) type Secret = [u8; 16];

/// The secrets server cookies are made and checked with.
pub struct ServerCookies {
    current: Secret,
    /// The secret before the last rotation: cookies it made are still valid.
    previous: Option<Secret>,
    /// When `current` was taken (Unix seconds); `None`: a secret shared with other servers, which
    /// does not rotate.
    since: Option<u64>,
}

/// What a query's cookie gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The server cookie the answer carries.
    pub server: [u8; SERVER_LEN],
    /// The query carried a valid server cookie of ours.
    pub verified: bool,
}

impl ServerCookies {
    /// Cookies made with `secret`, taken at `now`.
    pub fn new(secret: Secret, now: u64) -> ServerCookies {
        ServerCookies {
            current: secret,
            previous: None,
            since: Some(now),
        }
    }

    /// Cookies made with `secret`, shared with other servers (RFC 9018 5): it never rotates.
    pub fn shared(secret: Secret) -> ServerCookies {
        ServerCookies {
            current: secret,
            previous: None,
            since: None,
        }
    }

    /// Whether the secret is due to rotate at `now`.
    #[inline]
    pub(crate) fn rotation_due(&self, now: u64) -> bool {
        self.since
            .is_some_and(|since| now.saturating_sub(since) >= ROTATE_EVERY)
    }

    /// The secret cookies are made with now.
    pub(crate) fn current(&self) -> Secret {
        self.current
    }

    /// Makes `fresh` the secret from `now` on; the current one goes on verifying.
    pub(crate) fn rotate(&mut self, fresh: Secret, now: u64) {
        self.previous = Some(self.current);
        self.current = fresh;
        self.since = Some(now);
    }

    /// The answer's server cookie for a query from `ip` with `client` and `server` cookies, at `now`.
    pub fn answer(&self, client: &[u8; CLIENT_LEN], server: &[u8], ip: IpAddr, now: u64) -> Verdict {
        let now = now as u32;
        if let Ok(received) = <&[u8; SERVER_LEN]>::try_from(server) {
            if let Some(age) = self.valid_age(client, received, ip, now) {
                let server = if (0..=REFRESH_AFTER).contains(&age) {
                    *received
                } else {
                    make(&self.current, client, ip, now)
                };
                return Verdict { server, verified: true };
            }
        }
        Verdict {
            server: make(&self.current, client, ip, now),
            verified: false,
        }
    }

    /// The age of `server` at `now` if it is ours, for this client, and within its lifetime.
    fn valid_age(&self, client: &[u8; CLIENT_LEN], server: &[u8; SERVER_LEN], ip: IpAddr, now: u32) -> Option<i64> {
        if server[0] != VERSION {
            return None;
        }
        let stamped = u32::from_be_bytes([server[4], server[5], server[6], server[7]]);
        // Serial arithmetic (RFC 1982): the timestamp wraps in 2106.
        let age = i64::from(now.wrapping_sub(stamped) as i32);
        if !(-SKEW..=LIFETIME).contains(&age) {
            return None;
        }
        let matches = |secret: &Secret| hash(secret, client, &server[..8], ip) == server[8..];
        (matches(&self.current) || self.previous.as_ref().is_some_and(matches)).then_some(age)
    }
}

/// A fresh server cookie for `client` at `ip`, stamped `now`.
pub(crate) fn make(secret: &Secret, client: &[u8; CLIENT_LEN], ip: IpAddr, now: u32) -> [u8; SERVER_LEN] {
    let mut server = [0; SERVER_LEN];
    server[0] = VERSION;
    server[4..8].copy_from_slice(&now.to_be_bytes());
    let head: [u8; 8] = server[..8].try_into().unwrap_or_default();
    server[8..].copy_from_slice(&hash(secret, client, &head, ip));
    server
}

/// The hash of a server cookie: SipHash-2-4 over client cookie | version, reserved, timestamp (`head`,
/// as received) | client address.
fn hash(secret: &Secret, client: &[u8; CLIENT_LEN], head: &[u8], ip: IpAddr) -> [u8; 8] {
    let mut input = [0u8; CLIENT_LEN + 8 + 16];
    input[..8].copy_from_slice(client);
    input[8..16].copy_from_slice(&head[..8]);
    let n = match ip.to_canonical() {
        IpAddr::V4(a) => {
            input[16..20].copy_from_slice(&a.octets());
            20
        }
        IpAddr::V6(a) => {
            input[16..32].copy_from_slice(&a.octets());
            32
        }
    };
    siphash24(secret, &input[..n]).to_le_bytes()
}

/// SipHash-2-4 (Aumasson and Bernstein, 2012) of `data` under `key`.
pub(crate) fn siphash24(key: &Secret, data: &[u8]) -> u64 {
    let k0 = u64::from_le_bytes(key[..8].try_into().unwrap_or_default());
    let k1 = u64::from_le_bytes(key[8..].try_into().unwrap_or_default());
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let m = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        v[3] ^= m;
        sip_round(&mut v);
        sip_round(&mut v);
        v[0] ^= m;
    }
    let mut last = [0u8; 8];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    last[7] = data.len() as u8;
    let m = u64::from_le_bytes(last);
    v[3] ^= m;
    sip_round(&mut v);
    sip_round(&mut v);
    v[0] ^= m;
    v[2] ^= 0xff;
    for _ in 0..4 {
        sip_round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[inline(always)]
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

#[cfg(test)]
mod tests;
