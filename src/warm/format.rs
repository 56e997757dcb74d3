//! The snapshot file's format (`snapshotFile`): every record of a [`Records`] snapshot as compact bytes
//! ([`encode`]), and those bytes checked and read back as a [`RecordList`] ([`SnapshotFile`]) for
//! [`Records::build`]. Pure: no file, no clock, no config; reading and writing the file, and deciding
//! whether it is young enough and of the right domain, are the caller's.
//!
//! The file holds records, not the Mesos state it came from: it is the same whether the snapshot was
//! built from a poll or edited by stream events, it holds no credential, and it is a fraction of the
//! state's size. Layout (integers big-endian):
//!
//! ```text
//! header   magic "MESOSDNS", version u16, flags u16 (0), file length u64, written-at u64 (Unix
//!          seconds), SOA serial u32, name count u32, record count u32, domain length u16, domain
//! names    per name: length u16, text (fully qualified, lower-case), record count u32
//! records  each name's records, in the names' order: kind u8, then
//!            A / A+PTR 4 octets, AAAA / AAAA+PTR 16 octets, SRV target (a name's index) u32 + port u16,
//!            CNAME target length u16 + text, TXT RDATA length u16 + RDATA
//! trailer  SHA-256 of everything before it
//! ```
//!
//! A record "+PTR" also gets the PTR record back to its name (`PTROn`). Every name of the domain is
//! stored, those without records too.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ring::digest;

use crate::snapshot::reverse::reverse_name;
use crate::snapshot::{NameId, Node, RData, RecordList, Records};
use crate::wire::{rtype, text_to_wire, wire_to_text};

/// The first octets of every snapshot file.
pub(crate) const MAGIC: [u8; 8] = *b"MESOSDNS";
/// The format version this build writes and reads.
pub(crate) const VERSION: u16 = 1;

/// Where each header field sits.
mod field {
    use std::ops::Range;
    pub(super) const MAGIC: Range<usize> = 0..8;
    pub(super) const VERSION: Range<usize> = 8..10;
    pub(super) const FLAGS: Range<usize> = 10..12;
    pub(super) const LENGTH: Range<usize> = 12..20;
    pub(super) const WRITTEN_AT: Range<usize> = 20..28;
    pub(super) const SERIAL: Range<usize> = 28..32;
    pub(super) const NAMES: Range<usize> = 32..36;
    pub(super) const RECORDS: Range<usize> = 36..40;
    pub(super) const DOMAIN_LEN: Range<usize> = 40..42;
    pub(super) const DOMAIN: usize = 42;
}

/// The SHA-256 trailer's length.
const CHECKSUM_LEN: usize = 32;

/// Record kinds.
mod kind {
    pub(super) const A: u8 = 1;
    pub(super) const A_PTR: u8 = 2;
    pub(super) const AAAA: u8 = 3;
    pub(super) const AAAA_PTR: u8 = 4;
    pub(super) const SRV: u8 = 5;
    pub(super) const CNAME: u8 = 6;
    pub(super) const TXT: u8 = 7;
}

/// The fewest octets one record takes (an A record), which bounds what a count may claim.
const MIN_RECORD_LEN: usize = 5;
/// The fewest octets one name takes (a one-letter name and its count).
const MIN_NAME_LEN: usize = 7;

/// Why bytes are not a usable snapshot file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// Not a snapshot file at all (another file at the path).
    Foreign,
    /// A snapshot file of a format version this build does not read.
    Version(u16),
    /// Shorter than its header says: the write was cut short.
    Truncated { have: usize, want: u64 },
    /// The checksum does not match: the bytes changed after they were written.
    Checksum,
    /// The checksum matches but the contents do not read (a bug, or a file made to look right).
    Malformed(&'static str),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Foreign => write!(f, "not a mesos-dns snapshot file (foreign)"),
            FormatError::Version(v) => {
                write!(
                    f,
                    "snapshot file format version {v}, this build reads version {VERSION} (foreign)"
                )
            }
            FormatError::Truncated { have, want } => {
                write!(f, "truncated: {have} bytes of the {want} its header announces")
            }
            FormatError::Checksum => write!(f, "corrupt: the checksum does not match the contents"),
            FormatError::Malformed(what) => write!(f, "corrupt: {what}"),
        }
    }
}

impl std::error::Error for FormatError {}

/// The records of `records` as a snapshot file, written at `written_at` (Unix seconds).
pub fn encode(records: &Records, written_at: u64) -> Vec<u8> {
    let (a, aaaa, srv) = records.counts();
    let mut out = Vec::with_capacity(64 + records.name_count() * 40 + (a + aaaa + srv) * 8);
    let domain = records.zone().domain.as_bytes();
    let domain = domain.get(..usize::from(u16::MAX)).unwrap_or(domain);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.resize(field::WRITTEN_AT.start, 0); // the length, filled in last
    out.extend_from_slice(&written_at.to_be_bytes());
    out.extend_from_slice(&records.serial().to_be_bytes());
    out.resize(field::DOMAIN_LEN.start, 0); // the counts, filled in below
    out.extend_from_slice(&(domain.len() as u16).to_be_bytes());
    out.extend_from_slice(domain);
    // Every name of the domain in node id order, those without records too (an empty non-terminal
    // is made again by the build anyway, but a name whose records were all dropped still answers
    // NODATA, not NXDOMAIN). A name's index is its place in that order.
    let bound = records.node_id_bound();
    let mut index = vec![u32::MAX; bound as usize];
    let mut names = 0u32;
    for (id, slot) in index.iter_mut().enumerate() {
        if records.domain_node(id as u32).is_some() {
            *slot = names;
            names += 1;
        }
    }
    let ptr_on = records.ptr_count() > 0;
    // The records section is gathered beside the names and appended after them.
    let mut body = Vec::with_capacity(a * 5 + aaaa * 17 + srv * 7);
    let (mut total, mut wire) = (0u32, Vec::new());
    for id in 0..bound {
        let Some(node) = records.domain_node(id) else {
            continue;
        };
        let count = push_records(&mut body, records, (id, &node), &index, ptr_on, &mut wire);
        push_name_text(&mut out, node.name);
        out.extend_from_slice(&count.to_be_bytes());
        total = total.saturating_add(count);
    }
    out.extend_from_slice(&body);
    drop(body);
    put(&mut out, field::NAMES, &names.to_be_bytes());
    put(&mut out, field::RECORDS, &total.to_be_bytes());
    let length = (out.len() + CHECKSUM_LEN) as u64;
    put(&mut out, field::LENGTH, &length.to_be_bytes());
    let sum = digest::digest(&digest::SHA256, &out);
    out.extend_from_slice(sum.as_ref());
    out
}

/// Appends the records of node `id` to the records section; how many. `index` gives each node's
/// place among the names (SRV targets are written as that).
fn push_records(
    body: &mut Vec<u8>,
    records: &Records,
    (id, node): (u32, &Node<'_>),
    index: &[u32],
    ptr_on: bool,
    wire: &mut Vec<u8>,
) -> u32 {
    let mut count = 0;
    for ip in node.a {
        let ptr = ptr_on && points_back(records, ip, id, wire);
        body.push(if ptr { kind::A_PTR } else { kind::A });
        body.extend_from_slice(ip);
        count += 1;
    }
    for ip in node.aaaa {
        let ptr = ptr_on && points_back(records, ip, id, wire);
        body.push(if ptr { kind::AAAA_PTR } else { kind::AAAA });
        body.extend_from_slice(ip);
        count += 1;
    }
    for srv in node.srv {
        let Some(&target) = index.get(srv.target as usize).filter(|&&t| t != u32::MAX) else {
            continue;
        };
        body.push(kind::SRV);
        body.extend_from_slice(&target.to_be_bytes());
        body.extend_from_slice(&srv.port.to_be_bytes());
        count += 1;
    }
    for extra in node.extra {
        let rdata = node
            .blob
            .get(extra.start as usize..extra.end as usize)
            .unwrap_or_default();
        match extra.rtype {
            rtype::CNAME => {
                body.push(kind::CNAME);
                push_name_text(body, rdata);
            }
            _ => {
                body.push(kind::TXT);
                body.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
                body.extend_from_slice(rdata);
            }
        }
        count += 1;
    }
    count
}

/// Appends a wire name as text, length (u16) first: its labels joined by dots, with the trailing dot
/// (`wire_to_text`, without building a `String` for each of a few hundred thousand names).
fn push_name_text(out: &mut Vec<u8>, wire: &[u8]) {
    let at = out.len();
    out.extend_from_slice(&[0, 0]);
    let mut pos = 0;
    while let Some(&len) = wire.get(pos).filter(|&&len| len != 0) {
        out.extend_from_slice(wire.get(pos + 1..pos + 1 + usize::from(len)).unwrap_or_default());
        out.push(b'.');
        pos += usize::from(len) + 1;
    }
    if out.len() == at + 2 {
        out.push(b'.');
    }
    // Names are made from text, so their octets are UTF-8; any that are not are written as
    // `wire_to_text` shows them.
    if std::str::from_utf8(out.get(at + 2..).unwrap_or_default()).is_err() {
        out.truncate(at + 2);
        out.extend_from_slice(wire_to_text(wire).as_bytes());
    }
    let len = out.len() - at - 2;
    let len = u16::try_from(len).unwrap_or(u16::MAX);
    put(out, at..at + 2, &len.to_be_bytes());
    out.truncate(at + 2 + usize::from(len));
}

/// Overwrites `range` of `out` (which holds it) with `bytes`.
fn put(out: &mut [u8], range: std::ops::Range<usize>, bytes: &[u8]) {
    if let Some(slot) = out.get_mut(range) {
        slot.copy_from_slice(bytes);
    }
}

/// Whether the reverse name of `ip` holds a PTR record to node `id`.
fn points_back(records: &Records, ip: &[u8], id: u32, wire: &mut Vec<u8>) -> bool {
    reverse_name(ip, wire);
    let reverse = records.find(wire).and_then(|r| records.node(r));
    reverse.is_some_and(|node| node.ptr.contains(&id))
}

/// A snapshot file checked whole: its magic, version, length and checksum. Reading its records may
/// still fail ([`SnapshotFile::record_list`]) if the checksum was made to match.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotFile<'a> {
    bytes: &'a [u8],
}

impl<'a> SnapshotFile<'a> {
    /// Checks the header and the checksum; every accessor reads within the checked length after.
    pub fn new_checked(bytes: &'a [u8]) -> Result<SnapshotFile<'a>, FormatError> {
        if bytes.get(field::MAGIC) != Some(&MAGIC[..]) {
            return Err(match MAGIC.starts_with(bytes) && !bytes.is_empty() {
                true => FormatError::Truncated {
                    have: bytes.len(),
                    want: field::DOMAIN as u64,
                },
                false => FormatError::Foreign,
            });
        }
        let file = SnapshotFile { bytes };
        let truncated = || FormatError::Truncated {
            have: bytes.len(),
            want: field::DOMAIN as u64,
        };
        let version = file.u16_at(field::VERSION.start).ok_or_else(truncated)?;
        if version != VERSION {
            return Err(FormatError::Version(version));
        }
        let length = file.u64_at(field::LENGTH.start).ok_or_else(truncated)?;
        if (bytes.len() as u64) < length {
            return Err(FormatError::Truncated {
                have: bytes.len(),
                want: length,
            });
        }
        if (bytes.len() as u64) > length {
            return Err(FormatError::Malformed("longer than its header announces"));
        }
        let Some(body_len) = bytes.len().checked_sub(CHECKSUM_LEN).filter(|&n| n >= field::DOMAIN) else {
            return Err(FormatError::Malformed("shorter than a header"));
        };
        let (body, sum) = bytes.split_at(body_len);
        if digest::digest(&digest::SHA256, body).as_ref() != sum {
            return Err(FormatError::Checksum);
        }
        if file.u16_at(field::FLAGS.start) != Some(0) {
            return Err(FormatError::Malformed("unknown flags"));
        }
        file.domain()?;
        Ok(file)
    }

    /// When it was written (Unix seconds).
    pub fn written_at(&self) -> u64 {
        self.u64_at(field::WRITTEN_AT.start).unwrap_or(0)
    }

    /// The SOA serial of the snapshot it holds.
    pub fn serial(&self) -> u32 {
        self.u32_at(field::SERIAL.start).unwrap_or(0)
    }

    /// How many records it holds (as its header says).
    pub fn record_count(&self) -> u32 {
        self.u32_at(field::RECORDS.start).unwrap_or(0)
    }

    /// The domain its records are under (lower-case, no trailing dot).
    pub fn domain(&self) -> Result<&'a str, FormatError> {
        let len = self.u16_at(field::DOMAIN_LEN.start).unwrap_or(0);
        let bytes = self
            .body()
            .get(field::DOMAIN..field::DOMAIN + usize::from(len))
            .ok_or(FormatError::Malformed("the domain runs past the end"))?;
        std::str::from_utf8(bytes).map_err(|_| FormatError::Malformed("the domain is not UTF-8"))
    }

    /// Its records, as the list they would have been generated as (names interned, PTR marks kept).
    pub fn record_list(&self) -> Result<RecordList, FormatError> {
        let mut at = Cursor {
            bytes: self.body(),
            at: field::DOMAIN + self.domain()?.len(),
        };
        let names = self.u32_at(field::NAMES.start).unwrap_or(0) as usize;
        let records = self.record_count() as usize;
        if names > at.left() / MIN_NAME_LEN || records > at.left() / MIN_RECORD_LEN {
            return Err(FormatError::Malformed("counts larger than the file"));
        }
        let mut list = RecordList::with_capacity(records);
        let mut table: Vec<(&str, NameId, u32)> = Vec::with_capacity(names);
        let mut total = 0usize;
        let mut wire = Vec::new();
        for _ in 0..names {
            let text = at.text()?;
            let count = at.u32()?;
            total = total.saturating_add(count as usize);
            let id = list.intern(text).ok_or(FormatError::Malformed("too many names"))?;
            table.push((text, id, count));
        }
        if total != records {
            return Err(FormatError::Malformed("the names' record counts do not add up"));
        }
        for &(text, id, count) in &table {
            for _ in 0..count {
                match at.u8()? {
                    kind::A => list.push_ip_at(id, IpAddr::V4(Ipv4Addr::from(at.array::<4>()?))),
                    kind::A_PTR => list.push_ip_reverse_at(id, IpAddr::V4(Ipv4Addr::from(at.array::<4>()?))),
                    kind::AAAA => list.push_ip_at(id, IpAddr::V6(Ipv6Addr::from(at.array::<16>()?))),
                    kind::AAAA_PTR => list.push_ip_reverse_at(id, IpAddr::V6(Ipv6Addr::from(at.array::<16>()?))),
                    kind::SRV => {
                        let target = at.u32()?;
                        let port = at.u16()?;
                        let &(_, target, _) = table
                            .get(target as usize)
                            .ok_or(FormatError::Malformed("an SRV target that is no name"))?;
                        list.push_srv_at(id, target, port)
                    }
                    kind::CNAME => {
                        let target = at.text()?;
                        text_to_wire(target, &mut wire).ok_or(FormatError::Malformed("a CNAME target is no name"))?;
                        list.push(text, RData::Cname(target.to_owned()))
                    }
                    kind::TXT => {
                        let len = at.u16()?;
                        let strings = txt_strings(at.take(usize::from(len))?)?;
                        list.push(text, RData::Txt(strings))
                    }
                    _ => return Err(FormatError::Malformed("an unknown record kind")),
                };
            }
        }
        if at.left() != 0 {
            return Err(FormatError::Malformed("bytes after the last record"));
        }
        Ok(list)
    }

    /// Everything but the checksum.
    fn body(&self) -> &'a [u8] {
        let end = self.bytes.len().saturating_sub(CHECKSUM_LEN);
        self.bytes.get(..end).unwrap_or_default()
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        Some(u16::from_be_bytes(self.bytes.get(at..at + 2)?.try_into().ok()?))
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        Some(u32::from_be_bytes(self.bytes.get(at..at + 4)?.try_into().ok()?))
    }

    fn u64_at(&self, at: usize) -> Option<u64> {
        Some(u64::from_be_bytes(self.bytes.get(at..at + 8)?.try_into().ok()?))
    }
}

/// The character strings of TXT RDATA.
fn txt_strings(mut rdata: &[u8]) -> Result<Vec<String>, FormatError> {
    let mut strings = Vec::new();
    while let Some((&len, rest)) = rdata.split_first() {
        let (s, rest) = rest
            .split_at_checked(usize::from(len))
            .ok_or(FormatError::Malformed("a TXT string runs past its record"))?;
        let s = std::str::from_utf8(s).map_err(|_| FormatError::Malformed("a TXT string is not UTF-8"))?;
        strings.push(s.to_owned());
        rdata = rest;
    }
    Ok(strings)
}

/// Reads the body front to back; every read is bounds-checked.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn left(&self) -> usize {
        self.bytes.len().saturating_sub(self.at)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        let end = self.at.checked_add(n).ok_or(FormatError::Malformed("past the end"))?;
        let bytes = self
            .bytes
            .get(self.at..end)
            .ok_or(FormatError::Malformed("a record runs past the end"))?;
        self.at = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| FormatError::Malformed("past the end"))
    }

    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, FormatError> {
        self.array().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Result<u32, FormatError> {
        self.array().map(u32::from_be_bytes)
    }

    /// A name as text: length u16, then UTF-8.
    fn text(&mut self) -> Result<&'a str, FormatError> {
        let len = self.u16()?;
        let bytes = self.take(usize::from(len))?;
        std::str::from_utf8(bytes).map_err(|_| FormatError::Malformed("a name is not UTF-8"))
    }
}

#[cfg(test)]
pub(crate) mod tests;
