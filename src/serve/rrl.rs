//! Response rate limiting over UDP (`rateLimit`, `rateLimitSlip`: Knot's names and meaning), against
//! reflection: a query with a forged source makes us send its answer to the victim, so the answers
//! to one client network (its /24 for IPv4, its /56 for IPv6) are held to `rateLimit` a second, with
//! a burst of one second's worth. Of the answers over the limit, every `rateLimitSlip`-th goes out as
//! an empty truncated answer (a real client retries over TCP, which a forged source cannot), the
//! rest are dropped. TCP is never limited: it cannot be spoofed. A query that carried a valid DNS
//! server cookie (RFC 7873) comes from a client that saw our earlier answer, so it is never limited.
//!
//! Pure, on the caller's time: a token bucket per network in a table of fixed size made once (no
//! growth under a flood from many forged networks, no allocation per query). Each network has two
//! slots it may live in (chosen by a keyed hash, so that nobody can aim at a slot); a network in
//! neither takes the one whose bucket holds more tokens, since a full bucket is a fresh one and a
//! network being limited keeps its place. Not in it: the sockets (`sockets.rs` asks and sends).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::time::Instant;

use crate::forward::acl::ClientNet;
use crate::wire::{field, uncompressed_len};

/// The limit's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Responses a second per client network (`rateLimit`, above 0).
    pub rate: u32,
    /// Every this many-th response over the limit slips (`rateLimitSlip`; 0: none).
    pub slip: u32,
}

impl RateLimit {
    /// The config's limit, if one is set (`rateLimit` above 0).
    pub(crate) fn from_config(config: &crate::config::Config) -> Option<RateLimit> {
        (config.rate_limit > 0).then_some(RateLimit {
            rate: config.rate_limit,
            slip: config.rate_limit_slip,
        })
    }
}

/// What becomes of one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit: sent.
    Send,
    /// Over the limit, and its turn to slip: sent empty with TC set ([`slipped`]).
    Slip,
    /// Over the limit: not sent.
    Drop,
}

/// Slots in the table: 16384 networks of 32 bytes, 512 KiB. More networks than that at once share
/// slots, the fuller bucket giving way.
pub(crate) const SLOTS: usize = 1 << 14;

/// A token is this many units: the bucket refills `rate` units a millisecond.
const UNIT: u64 = 1000;

/// No network: a slot's network before it is first used (no [`network`] is this).
const NOBODY: u64 = u64::MAX;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// The client network ([`network`]).
    net: u64,
    /// When `tokens` was counted, in milliseconds since the limiter's start.
    at_ms: u64,
    /// Tokens left, in [`UNIT`]s.
    tokens: u64,
    /// Responses over the limit so far (which of them slips).
    over: u32,
}

/// The buckets of the client networks.
pub struct Limiter {
    rate: u64,
    slip: u32,
    start: Instant,
    hasher: RandomState,
    slots: Box<[Bucket]>,
}

impl Limiter {
    /// An empty table: every network starts with a full bucket.
    pub fn new(limit: RateLimit, start: Instant) -> Limiter {
        let full = Bucket {
            net: NOBODY,
            at_ms: 0,
            tokens: u64::from(limit.rate) * UNIT,
            over: 0,
        };
        Limiter {
            rate: u64::from(limit.rate),
            slip: limit.slip,
            start,
            hasher: RandomState::new(),
            slots: vec![full; SLOTS].into_boxed_slice(),
        }
    }

    /// What becomes of a response to a client at `ip` at `now`; `verified`: its query carried a
    /// valid server cookie (never limited, and not counted).
    #[inline]
    pub fn check(&mut self, ip: IpAddr, verified: bool, now: Instant) -> Verdict {
        if verified {
            return Verdict::Send;
        }
        let net = ClientNet::of(ip).key();
        let now_ms = u64::try_from(now.saturating_duration_since(self.start).as_millis()).unwrap_or(u64::MAX);
        let slot = self.slot(net, now_ms);
        let (rate, capacity) = (self.rate, self.rate * UNIT);
        let bucket = &mut self.slots[slot];
        if bucket.net != net {
            *bucket = Bucket {
                net,
                at_ms: now_ms,
                tokens: capacity,
                over: 0,
            };
        }
        bucket.tokens = level(bucket, now_ms, rate, capacity);
        bucket.at_ms = bucket.at_ms.max(now_ms);
        if bucket.tokens >= UNIT {
            bucket.tokens -= UNIT;
            return Verdict::Send;
        }
        bucket.over = bucket.over.wrapping_add(1);
        if self.slip != 0 && bucket.over % self.slip == 0 {
            Verdict::Slip
        } else {
            Verdict::Drop
        }
    }

    /// The slot of `net`: one of its two that holds it, else the one of them to give it.
    #[inline]
    fn slot(&self, net: u64, now_ms: u64) -> usize {
        let hash = self.hasher.hash_one(net);
        let first = (hash as usize) % SLOTS;
        // Another slot than the first, always.
        let second = (first + 1 + ((hash >> 32) as usize) % (SLOTS - 1)) % SLOTS;
        let (a, b) = (&self.slots[first], &self.slots[second]);
        if a.net == net {
            return first;
        }
        if b.net == net {
            return second;
        }
        let capacity = self.rate * UNIT;
        // The fuller bucket gives way (it holds the least); between equals, the one less over the limit.
        let worth = |x: &Bucket| (level(x, now_ms, self.rate, capacity), std::cmp::Reverse(x.over));
        if worth(b) > worth(a) {
            second
        } else {
            first
        }
    }
}

/// The tokens in `bucket` at `now_ms`, refilled since it was counted, at most `capacity`.
#[inline]
fn level(bucket: &Bucket, now_ms: u64, rate: u64, capacity: u64) -> u64 {
    let elapsed = now_ms.saturating_sub(bucket.at_ms);
    bucket.tokens.saturating_add(elapsed.saturating_mul(rate)).min(capacity)
}

/// Writes the slipped form of `answer` into `out`: its header with TC set and no records, and its
/// question. `None` if the answer is not readable that far or does not fit (then it is dropped).
pub fn slipped(answer: &[u8], out: &mut [u8]) -> Option<usize> {
    let header = answer.get(..field::ARCOUNT.end)?;
    let qdcount = u16::from_be_bytes([header[field::QDCOUNT.start], header[field::QDCOUNT.start + 1]]);
    let question = match qdcount {
        0 => 0,
        1 => uncompressed_len(&answer[header.len()..])? + 4,
        _ => return None,
    };
    let len = header.len() + question;
    out.get_mut(..len)?.copy_from_slice(answer.get(..len)?);
    let flags = u16::from_be_bytes([out[field::FLAGS.start], out[field::FLAGS.start + 1]]) | field::TC;
    out[field::FLAGS].copy_from_slice(&flags.to_be_bytes());
    out[field::ANCOUNT.start..field::ARCOUNT.end].fill(0);
    Some(len)
}

#[cfg(test)]
mod tests;
