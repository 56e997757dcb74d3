//! The cache of relayed answers, without sockets or clocks: the time is passed in (`now`). It decides
//! what may be kept (NOERROR and NXDOMAIN answers, never SERVFAIL, truncated or oversized ones), keeps
//! only the question's own data (the answer section's CNAME chain; for a negative answer the
//! authority section with its SOA, RFC 2308), answers a repeated question by copying the stored bytes
//! with the client's ID, the client's question (its 0x20 case) and every TTL lowered by the time
//! spent in the cache, serves an expired answer when every resolver fails (RFC 8767), and says when a
//! popular entry is worth refreshing before it expires.
//!
//! Memory is bounded by `max_entries` entries of at most [`MAX_CACHED_MESSAGE`] bytes each. Eviction
//! is CLOCK (second chance): entries sit in a slab, a hit sets the entry's reference bit, and the hand
//! sweeping the slab for a victim clears set bits and takes the first clear one, so an entry hit since
//! the last sweep survives it. That approximates LRU at the cost of a bit per entry, with nothing to
//! relink (or allocate) on a hit. An answer met once (a scan of one-off names) is never referenced, so
//! it goes first.
//!
//! Who the answer goes to, and when to ask upstream, is the table's business (`table.rs`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::truncate::{client_udp_limit, truncated_reply};
use crate::answer::Transport;
use crate::wire::{field, is_at_or_below, lower_name, Message, NameRef, Opcode, Rcode, Rtype, Section, MAX_NAME_LEN};

/// Stored answers are at most this long: it bounds the cache at `max_entries` times this. Bigger
/// answers (rare: they come over TCP) are relayed each time.
pub(crate) const MAX_CACHED_MESSAGE: usize = 4096;
/// No entry lives longer than a day, whatever the TTLs say (unbound's `cache-max-ttl`).
const MAX_LIFETIME: Duration = Duration::from_secs(86_400);
/// The TTL of an answer served stale (RFC 8767 section 4).
pub(crate) const STALE_TTL: u32 = 30;
/// Hits an entry must have had before it is worth a prefetch.
pub(crate) const PREFETCH_MIN_HITS: u32 = 2;
/// A hit in the last tenth of an entry's lifetime triggers its prefetch.
const PREFETCH_FRACTION: u32 = 10;
/// The payload size written in the OPT record of a cached answer: ours (as `truncate.rs` does).
const OUR_UDP_PAYLOAD: u16 = crate::wire::MAX_UDP_PAYLOAD as u16;

/// The key: lower-cased question name in wire form, type, class, and one byte of query bits.
const MAX_KEY: usize = MAX_NAME_LEN + 5;
/// Query bits that change the answer: DO (DNSSEC records), CD (unvalidated data), whether the query
/// had an OPT record at all (an answer to a query without one must have none), and RD.
const KEY_DO: u8 = 1;
const KEY_CD: u8 = 2;
const KEY_EDNS: u8 = 4;
const KEY_RD: u8 = 8;

/// The cache's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Entries kept at most (`cacheMaxEntries`).
    pub max_entries: usize,
    /// How long after expiry an answer may still be served when every resolver fails
    /// (`serveStaleSeconds`; zero: never).
    pub serve_stale: Duration,
}

/// The cache's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Queries answered from the cache.
    pub hits: u64,
    /// Queries looked up and not found fresh (relayed).
    pub misses: u64,
    /// Entries removed to make room for another.
    pub evictions: u64,
    /// Expired answers served because every resolver failed.
    pub stale: u64,
    /// Refreshes of popular entries asked before they expire.
    pub prefetches: u64,
    /// Entries held now.
    pub entries: u64,
}

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The reply is `out[..len]`; if `prefetch`, the caller should relay the query once to refresh the
    /// entry (the answer goes to the cache only).
    Hit {
        /// The reply's length in `out`.
        len: usize,
        /// Whether to relay once more to refresh the entry.
        prefetch: bool,
    },
    /// Nothing fresh: relay it.
    Miss,
}

struct Entry {
    key: Box<[u8]>,
    /// The answer as stored: the upstream's header and question, the kept sections, our OPT record.
    message: Vec<u8>,
    /// Offsets of the TTL fields of the kept records (never the OPT record's).
    ttls: Vec<u16>,
    stored: Instant,
    lifetime: Duration,
    hits: u32,
    referenced: bool,
    prefetching: bool,
}

/// How the TTLs of a reply are written.
#[derive(Debug, Clone, Copy)]
enum Ttls {
    /// Lowered by this many whole seconds in the cache.
    Aged(u32),
    /// All [`STALE_TTL`].
    Stale,
}

/// The answer cache.
pub struct Cache {
    config: CacheConfig,
    index: HashMap<Box<[u8]>, usize>,
    entries: Vec<Entry>,
    /// The CLOCK hand: the next slot looked at for a victim.
    hand: usize,
    /// Hits, misses and evictions so far.
    pub stats: CacheStats,
}

impl Cache {
    /// An empty cache.
    pub fn new(config: CacheConfig) -> Cache {
        Cache {
            config,
            index: HashMap::new(),
            entries: Vec::new(),
            hand: 0,
            stats: CacheStats::default(),
        }
    }

    /// The limits it was made with.
    pub fn config(&self) -> CacheConfig {
        self.config
    }

    /// Forgets every entry (SIGHUP), keeping the counters.
    pub fn flush(&mut self) {
        self.index = HashMap::new();
        self.entries = Vec::new();
        self.hand = 0;
        self.stats.entries = 0;
    }

    /// Answers `query` from the cache into `out` if a fresh entry holds it. A UDP client whose size
    /// limit the answer passes gets the truncated reply (TC, no records) instead, as a relayed answer
    /// would. Allocates nothing.
    pub fn lookup(&mut self, msg: &Message<'_>, transport: Transport, now: Instant, out: &mut [u8]) -> Lookup {
        let Some(key) = Key::of(msg) else {
            return Lookup::Miss;
        };
        let Some(&slot) = self.index.get(key.bytes()) else {
            self.stats.misses += 1;
            return Lookup::Miss;
        };
        let Some(entry) = self.entries.get_mut(slot) else {
            return Lookup::Miss;
        };
        let age = now.saturating_duration_since(entry.stored);
        if age >= entry.lifetime {
            self.stats.misses += 1;
            return Lookup::Miss;
        }
        let Some(len) = write_reply(entry, msg, transport, Ttls::Aged(age.as_secs() as u32), out) else {
            self.stats.misses += 1;
            return Lookup::Miss;
        };
        self.stats.hits += 1;
        entry.referenced = true;
        entry.hits = entry.hits.saturating_add(1);
        let prefetch = !entry.prefetching && wants_prefetch(entry.hits, age, entry.lifetime);
        if prefetch {
            entry.prefetching = true;
            self.stats.prefetches += 1;
        }
        Lookup::Hit { len, prefetch }
    }

    /// Whether expired answers may be served at all (`serveStaleSeconds` is not 0).
    pub fn serves_stale(&self) -> bool {
        !self.config.serve_stale.is_zero()
    }

    /// Writes into `out` the answer to `query` from an entry expired less than `serve_stale` ago (or
    /// still fresh), every TTL [`STALE_TTL`]: for when every resolver failed (RFC 8767). `query` is the
    /// relay's stored copy, read here (a rare path).
    pub fn stale(&mut self, query: &[u8], transport: Transport, now: Instant, out: &mut [u8]) -> Option<usize> {
        if self.config.serve_stale.is_zero() {
            return None;
        }
        let msg = Message::parse(query).ok()?;
        let key = Key::of(&msg)?;
        let entry = self.entries.get_mut(*self.index.get(key.bytes())?)?;
        if now.saturating_duration_since(entry.stored) >= entry.lifetime + self.config.serve_stale {
            return None;
        }
        let len = write_reply(entry, &msg, transport, Ttls::Stale, out)?;
        entry.referenced = true;
        self.stats.stale += 1;
        Some(len)
    }

    /// Keeps `answer` (an upstream's, already checked to answer `query`, as `verify` parsed it) if it
    /// may be cached; returns whether it was.
    pub fn store(&mut self, q: &Message<'_>, a: &Message<'_>, now: Instant) -> bool {
        if self.config.max_entries == 0 {
            return false;
        }
        let Some(key) = Key::of(q) else { return false };
        let Some(kept) = cacheable(q, a) else { return false };
        let slot = match self.index.get(key.bytes()) {
            Some(&slot) => slot,
            None => {
                let slot = self.free_slot(now);
                self.index.insert(key.bytes().into(), slot);
                slot
            }
        };
        let Some(entry) = self.entries.get_mut(slot) else {
            return false;
        };
        if entry.key[..] != *key.bytes() {
            entry.key = key.bytes().into();
        }
        kept.write(a.bytes(), entry);
        entry.stored = now;
        entry.hits = 0;
        entry.referenced = false;
        entry.prefetching = false;
        self.stats.entries = self.entries.len() as u64;
        true
    }

    /// A slot for a new entry: a fresh one while there is room, else the CLOCK victim's (its index
    /// entry removed).
    fn free_slot(&mut self, now: Instant) -> usize {
        if self.entries.len() < self.config.max_entries {
            self.entries.push(Entry {
                key: Box::default(),
                message: Vec::new(),
                ttls: Vec::new(),
                stored: now,
                lifetime: Duration::ZERO,
                hits: 0,
                referenced: false,
                prefetching: false,
            });
            return self.entries.len() - 1;
        }
        let len = self.entries.len();
        // Two sweeps at most: the first clears every bit it passes.
        let mut victim = self.hand % len;
        for _ in 0..2 * len {
            let slot = self.hand % len;
            self.hand = (slot + 1) % len;
            let e = &mut self.entries[slot];
            let dead = now.saturating_duration_since(e.stored) >= e.lifetime + self.config.serve_stale;
            if !e.referenced || dead {
                victim = slot;
                break;
            }
            e.referenced = false;
        }
        self.stats.evictions += 1;
        let old = std::mem::take(&mut self.entries[victim].key);
        self.index.remove(&old);
        victim
    }
}

/// Whether an entry hit `hits` times, `age` into its `lifetime`, should be refreshed now: a popular
/// entry in the last tenth of its life.
pub(crate) fn wants_prefetch(hits: u32, age: Duration, lifetime: Duration) -> bool {
    hits >= PREFETCH_MIN_HITS && lifetime.saturating_sub(age) <= lifetime / PREFETCH_FRACTION
}

/// A cache key built on the stack.
struct Key {
    buf: [u8; MAX_KEY],
    len: usize,
}

impl Key {
    /// The key of a query (one question, opcode QUERY).
    fn of(msg: &Message<'_>) -> Option<Key> {
        if msg.qdcount() != 1 || msg.opcode() != Opcode::QUERY {
            return None;
        }
        let q = msg.question()?;
        let name = lower_name(&q.name);
        let wire = name.as_wire();
        let mut key = Key {
            buf: [0; MAX_KEY],
            len: wire.len() + 5,
        };
        key.buf.get_mut(..wire.len())?.copy_from_slice(wire);
        key.buf[wire.len()..wire.len() + 2].copy_from_slice(&q.qtype.to_int().to_be_bytes());
        key.buf[wire.len() + 2..wire.len() + 4].copy_from_slice(&q.qclass.to_int().to_be_bytes());
        let flags = msg.flags();
        let edns = msg.edns();
        let bit = |on: bool, bit: u8| if on { bit } else { 0 };
        key.buf[wire.len() + 4] = bit(edns.is_some_and(|e| e.dnssec_ok), KEY_DO)
            | bit(flags & field::CD != 0, KEY_CD)
            | bit(edns.is_some(), KEY_EDNS)
            | bit(flags & field::RD != 0, KEY_RD);
        Some(key)
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Copies `entry` into `out` as the reply to `query`: its ID and question bytes, the TTLs as `ttls`
/// says. `None` if it does not fit `out`.
fn write_reply(entry: &Entry, query: &Message<'_>, transport: Transport, ttls: Ttls, out: &mut [u8]) -> Option<usize> {
    let question = query.question()?.raw;
    if transport == Transport::Udp && entry.message.len() > client_udp_limit(query) {
        // The stored answer is read only on this rare path (too big for the client).
        let stored = Message::parse(&entry.message).ok()?;
        let n = truncated_reply(query, &stored, out)?;
        out.get_mut(field::ID)?.copy_from_slice(&query.id().to_be_bytes());
        return Some(n);
    }
    let n = entry.message.len();
    out.get_mut(..n)?.copy_from_slice(&entry.message);
    out.get_mut(field::ID)?.copy_from_slice(&query.id().to_be_bytes());
    // The stored question is the same name, so the same length: only its letters' case differs.
    let q = crate::wire::HEADER_LEN;
    out.get_mut(q..q + question.len())?.copy_from_slice(question);
    for &at in &entry.ttls {
        let at = usize::from(at);
        let Some(slot) = out.get_mut(at..at + 4) else { continue };
        let ttl = match ttls {
            Ttls::Aged(secs) => {
                let original = u32::from_be_bytes([slot[0], slot[1], slot[2], slot[3]]);
                original.saturating_sub(secs)
            }
            Ttls::Stale => STALE_TTL,
        };
        slot.copy_from_slice(&ttl.to_be_bytes());
    }
    Some(n)
}

/// What of an answer is kept: the bytes up to `end` (the header, the question, the answer section,
/// and for a negative answer the authority section), how many authority records that holds, the TTL
/// fields among them, the entry's lifetime, and whether an OPT record (with the query's DO bit) goes
/// after them.
struct Kept {
    end: usize,
    authority: u16,
    ttls: Vec<u16>,
    lifetime: Duration,
    opt: Option<bool>,
}

impl Kept {
    fn write(self, answer: &[u8], entry: &mut Entry) {
        let message = &mut entry.message;
        message.clear();
        message.extend_from_slice(&answer[..self.end]);
        message[field::NSCOUNT].copy_from_slice(&self.authority.to_be_bytes());
        message[field::ARCOUNT].copy_from_slice(&u16::from(self.opt.is_some()).to_be_bytes());
        if let Some(dnssec_ok) = self.opt {
            let [hi, lo] = OUR_UDP_PAYLOAD.to_be_bytes();
            let flags = if dnssec_ok { 0x80 } else { 0 };
            message.extend_from_slice(&[0, 0, 41, hi, lo, 0, 0, flags, 0, 0, 0]);
        }
        entry.ttls = self.ttls;
        entry.lifetime = self.lifetime;
    }
}

/// Whether the upstream `answer` to `query` may be cached, and what of it. Only NOERROR and NXDOMAIN
/// answers that are whole (no TC), at most [`MAX_CACHED_MESSAGE`] long, with a positive lifetime:
/// - every answer record belongs to the question: its owner is the question's name or the target of
///   a CNAME before it (anything else, a DNAME say, and nothing is kept);
/// - a negative answer (NXDOMAIN, or no answer records) needs the SOA of a zone holding the name in its
///   authority section, and lives min(SOA TTL, SOA minimum) (RFC 2308 section 5); its authority
///   records must all be of that zone and of the kinds a denial carries (SOA, NSEC, NSEC3, RRSIG);
/// - a positive answer lives as long as its shortest TTL; its authority and additional sections (NS
///   and glue, the classic poisoning vector) are dropped.
fn cacheable(query: &Message<'_>, answer: &Message<'_>) -> Option<Kept> {
    let code = answer.rcode();
    let q = query.question()?;
    if answer.is_truncated()
        || answer.opcode() != Opcode::QUERY
        || (code != Rcode::NOERROR && code != Rcode::NXDOMAIN)
        || answer.edns().is_some_and(|e| e.ext_rcode != 0)
        || matches!(q.qtype, Rtype::AXFR | Rtype::IXFR | Rtype::OPT)
        || answer.qdcount() != 1
    {
        return None;
    }
    let question_end = crate::wire::HEADER_LEN + answer.question()?.raw.len();
    let mut chain: Vec<NameRef<'_>> = vec![q.name];
    let mut ttls = Vec::new();
    let mut lifetime = u32::MAX;
    let mut end = question_end;
    let mut answers = 0;
    for rec in answer.records(Section::Answer) {
        if rec.class != q.qclass || !chain.iter().any(|n| n.eq_ignore_case(&rec.name)) {
            return None;
        }
        if rec.rtype == Rtype::CNAME {
            let (target, _) = NameRef::parse(answer.bytes(), rec.rdata_offset).ok()?;
            chain.push(target);
        }
        lifetime = lifetime.min(rec.ttl);
        ttls.push(u16::try_from(rec.rdata_offset - 6).ok()?);
        end = rec.rdata_offset + rec.rdata.len();
        answers += 1;
    }
    let mut authority = 0u16;
    if code == Rcode::NXDOMAIN || answers == 0 {
        let soa = answer.records(Section::Authority).find(|r| r.rtype == Rtype::SOA)?;
        // The zone must hold the last name of the chain: the one denied.
        let denied = chain.last()?;
        if !is_within(denied, &soa.name) {
            return None;
        }
        let minimum = soa.rdata.get(soa.rdata.len().checked_sub(4)?..)?;
        let minimum = u32::from_be_bytes(minimum.try_into().ok()?);
        lifetime = lifetime.min(soa.ttl).min(minimum);
        for rec in answer.records(Section::Authority) {
            let denial = matches!(rec.rtype, Rtype::SOA | Rtype::NSEC | Rtype::NSEC3 | Rtype::RRSIG);
            if !denial || rec.class != q.qclass || !is_within(&rec.name, &soa.name) {
                return None;
            }
            lifetime = lifetime.min(rec.ttl);
            ttls.push(u16::try_from(rec.rdata_offset - 6).ok()?);
            end = rec.rdata_offset + rec.rdata.len();
            authority += 1;
        }
    }
    let opt = query.edns().map(|e| e.dnssec_ok);
    let stored_len = end + if opt.is_some() { crate::wire::OPT_LEN } else { 0 };
    if lifetime == 0 || stored_len > MAX_CACHED_MESSAGE {
        return None;
    }
    Some(Kept {
        end,
        authority,
        ttls,
        lifetime: Duration::from_secs(u64::from(lifetime)).min(MAX_LIFETIME),
        opt,
    })
}

/// Whether `name` is `zone` or below it (by whole labels, ignoring case).
fn is_within(name: &NameRef<'_>, zone: &NameRef<'_>) -> bool {
    is_at_or_below(lower_name(name).as_wire(), lower_name(zone).as_wire())
}

#[cfg(test)]
mod tests;
