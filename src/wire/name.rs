//! Domain names: in received messages (validation with safe compression-pointer following, label
//! iteration, case-insensitive comparison, and a lower-cased copy on the stack for lookups), and the
//! crate's one place for converting names between dotted text and uncompressed wire form and for
//! walking the suffixes of a wire name. Deciding which names are valid *record* names (the LDH rules of
//! `records::label`) is not done here: this module owns the encoding only.

use super::{read_u16, HEADER_LEN};

/// The longest name in wire form, root label included (RFC 1035 3.1).
pub(crate) const MAX_NAME_LEN: usize = 255;
/// The longest label (RFC 1035 3.1).
const MAX_LABEL_LEN: usize = 63;
/// A 255-octet name has at most 127 labels besides the root.
const MAX_LABELS: usize = 128;

/// Why a name cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The name runs past the end of the message.
    Truncated,
    /// A compression pointer that does not point strictly before every part read so far (forward,
    /// self or looping pointers), or into the header.
    BadPointer,
    /// A label type other than a plain label or a pointer (0x40, 0x80: includes labels over 63 octets).
    BadLabel,
    /// More than 255 octets in wire form.
    TooLong,
}

/// A validated name inside a message. Reading labels after validation cannot fail.
#[derive(Debug, Clone, Copy)]
pub struct NameRef<'a> {
    msg: &'a [u8],
    start: usize,
    wire_len: usize,
}

impl<'a> NameRef<'a> {
    /// Validates the name starting at `start` and returns it with the offset just past its in-place
    /// bytes. Each compression pointer must point strictly before the start of the previous part of the
    /// name, so the walk ends after a bounded number of jumps whatever the input.
    pub fn parse(msg: &'a [u8], start: usize) -> Result<(NameRef<'a>, usize), NameError> {
        let mut pos = start;
        let mut limit = start;
        let mut end = None;
        let mut wire_len = 0usize;
        loop {
            let len = *msg.get(pos).ok_or(NameError::Truncated)?;
            match len & 0xc0 {
                0x00 => {
                    wire_len += 1 + usize::from(len);
                    if wire_len > MAX_NAME_LEN {
                        return Err(NameError::TooLong);
                    }
                    if len == 0 {
                        let end = end.unwrap_or(pos + 1);
                        return Ok((NameRef { msg, start, wire_len }, end));
                    }
                    pos += 1 + usize::from(len);
                    if pos >= msg.len() {
                        return Err(NameError::Truncated);
                    }
                }
                0xc0 => {
                    let target = usize::from(read_u16(msg, pos).ok_or(NameError::Truncated)? & 0x3fff);
                    if end.is_none() {
                        end = Some(pos + 2);
                    }
                    if target >= limit || target < HEADER_LEN {
                        return Err(NameError::BadPointer);
                    }
                    limit = target;
                    pos = target;
                }
                _ => return Err(NameError::BadLabel),
            }
        }
    }

    /// The labels, root excluded, in order.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            msg: self.msg,
            pos: self.start,
        }
    }

    /// The length of the name written out uncompressed.
    #[cfg(any(test, feature = "internals"))]
    pub fn wire_len(&self) -> usize {
        self.wire_len
    }

    /// Compares two names ASCII case-insensitively, label by label, without allocating.
    pub fn eq_ignore_case(&self, other: &NameRef<'_>) -> bool {
        self.wire_len == other.wire_len
            && self
                .labels()
                .zip(other.labels())
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// Compares two names octet for octet (a name we write against one already in the message, whose
    /// case must read back as it was written).
    pub(crate) fn eq_exact(&self, other: &NameRef<'_>) -> bool {
        self.wire_len == other.wire_len && self.labels().eq(other.labels())
    }

    /// Whether the name is the root.
    pub fn is_root(&self) -> bool {
        self.wire_len == 1
    }
}

/// Iterator over the labels of a validated name.
pub struct Labels<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let len = *self.msg.get(self.pos)?;
            if len & 0xc0 == 0xc0 {
                self.pos = usize::from(read_u16(self.msg, self.pos)? & 0x3fff);
                continue;
            }
            if len == 0 {
                return None;
            }
            let label = self.msg.get(self.pos + 1..self.pos + 1 + usize::from(len))?;
            self.pos += 1 + usize::from(len);
            return Some(label);
        }
    }
}

/// A name copied to the stack in lower case and uncompressed wire form, with its label offsets: the key
/// for snapshot lookups, made without touching the heap.
pub struct LowerName {
    buf: [u8; MAX_NAME_LEN],
    len: usize,
    starts: [u8; MAX_LABELS],
    labels: usize,
}

/// Copies `name` in lower case into a [`LowerName`].
pub fn lower_name(name: &NameRef<'_>) -> LowerName {
    let mut out = LowerName {
        buf: [0; MAX_NAME_LEN],
        len: 0,
        starts: [0; MAX_LABELS],
        labels: 0,
    };
    for label in name.labels() {
        // The name was validated to fit in 255 octets, so these writes stay in bounds; `get_mut` keeps
        // that an invariant rather than a panic.
        let (Some(slot), Some(start)) = (
            out.buf.get_mut(out.len..out.len + 1 + label.len()),
            out.starts.get_mut(out.labels),
        ) else {
            break;
        };
        *start = out.len as u8;
        slot[0] = label.len() as u8;
        for (d, s) in slot[1..].iter_mut().zip(label) {
            *d = s.to_ascii_lowercase();
        }
        out.len += slot.len();
        out.labels += 1;
    }
    if let Some(root) = out.buf.get_mut(out.len) {
        *root = 0;
        out.len += 1;
    }
    out
}

impl LowerName {
    /// The whole name in wire form, root label included.
    pub fn as_wire(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Number of labels, root excluded.
    pub fn label_count(&self) -> usize {
        self.labels
    }

    /// The name without its first `skip` labels (`skip == label_count()` gives the root).
    pub fn suffix(&self, skip: usize) -> &[u8] {
        let from = if skip >= self.labels {
            self.len.saturating_sub(1)
        } else {
            usize::from(self.starts[skip])
        };
        &self.buf[from..self.len]
    }

    /// The offset of the suffix of `skip` labels within the wire form.
    #[cfg(test)]
    pub fn suffix_offset(&self, skip: usize) -> usize {
        self.len - self.suffix(skip).len()
    }
}

/// Writes a dotted name (trailing dot optional; `""` and `"."` are the root) into `out` in lower-case,
/// uncompressed wire form, replacing what `out` held. `None` if a label is empty or over 63 octets, or
/// the name is over [`MAX_NAME_LEN`] octets in wire form (`out` then holds a partial name).
pub(crate) fn text_to_wire(name: &str, out: &mut Vec<u8>) -> Option<()> {
    bytes_to_wire(name.as_bytes(), out)
}

/// [`text_to_wire`] of text held as bytes (a refresh's interned names: no UTF-8 check each).
pub(crate) fn bytes_to_wire(name: &[u8], out: &mut Vec<u8>) -> Option<()> {
    out.clear();
    let name = name.strip_suffix(b".").unwrap_or(name);
    if name.is_empty() {
        out.push(0);
        return Some(());
    }
    // The text one octet to the right and the root label after it; then each dot (and the octet
    // before the first label) becomes the length of the label after it.
    if name.len() + 2 > MAX_NAME_LEN {
        return None;
    }
    // A refresh converts every name of the cluster: eight octets at a time, lower-cased and searched
    // for dots in a word each (a per-octet loop was ~590 instructions a name). Whole words are
    // stored (the last one's padding cut after), so that no copy is of a length known only at run
    // time.
    out.reserve(name.len() + 2 + 8);
    out.push(0);
    let mut len_at = 0;
    let mut words = name.chunks_exact(8);
    let mut from = 0;
    for chunk in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        len_at = word_to_wire(out, from, u64::from_le_bytes(w), len_at)?;
        from += 8;
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w.get_mut(..rest.len())?.copy_from_slice(rest);
        len_at = word_to_wire(out, from, u64::from_le_bytes(w), len_at)?;
    }
    out.truncate(name.len() + 1);
    out.push(0);
    set_label_len(out, len_at, name.len() + 1)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Appends the octets of `w` (text from offset `from` of a name, zero past its end) to `out`,
/// lower-cased, and writes each of its dots as the length of the label before it (that label began
/// at `len_at`); where the last label began.
#[inline]
fn word_to_wire(out: &mut Vec<u8>, from: usize, w: u64, mut len_at: usize) -> Option<usize> {
    out.extend_from_slice(&ascii_lower(w).to_le_bytes());
    // Padding octets are zero, not dots.
    let mut dots = zero_octets(w ^ (ONES * u64::from(b'.')));
    while dots != 0 {
        let at = from + (dots.trailing_zeros() / 8) as usize + 1;
        set_label_len(out, len_at, at)?;
        len_at = at;
        dots &= dots - 1;
    }
    Some(len_at)
}

/// `0x80` in each octet of `x` that is zero, `0` in the others (exactly: no borrow between octets).
#[inline]
fn zero_octets(x: u64) -> u64 {
    !(((x & !HIGH).wrapping_add(!HIGH)) | x | !HIGH)
}

/// The octets of `w` with ASCII upper-case letters lower-cased (the others as they are).
#[inline]
fn ascii_lower(w: u64) -> u64 {
    let low = w & !HIGH;
    // The high bit of each octet: at least `A`, and past `Z` (seven-bit sums: no carry between octets).
    let from_a = low.wrapping_add(ONES * (0x80 - u64::from(b'A')));
    let past_z = low.wrapping_add(ONES * (0x80 - u64::from(b'Z') - 1));
    let upper = (from_a ^ past_z) & !w & HIGH;
    w | (upper >> 2)
}

/// Writes at `len_at` the length of the label that runs from there to `end` (exclusive) in a name
/// [`text_to_wire`] is writing; `None` if it is empty or over 63 octets.
#[inline]
fn set_label_len(out: &mut [u8], len_at: usize, end: usize) -> Option<()> {
    let len = end - len_at - 1;
    if len == 0 || len > MAX_LABEL_LEN {
        return None;
    }
    *out.get_mut(len_at)? = len as u8;
    Some(())
}

/// An uncompressed wire name as dotted text with the trailing dot (`"."` for the root). Octets that are
/// not UTF-8 are replaced (U+FFFD); the text is for people and JSON, not for reading back. Stops at the
/// end of `wire` if the root label is missing.
pub(crate) fn wire_to_text(wire: &[u8]) -> String {
    let mut out = String::with_capacity(wire.len());
    let mut pos = 0;
    while let Some(&len) = wire.get(pos) {
        if len == 0 {
            break;
        }
        let label = wire.get(pos + 1..pos + 1 + usize::from(len)).unwrap_or_default();
        out.push_str(&String::from_utf8_lossy(label));
        out.push('.');
        pos += usize::from(len) + 1;
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// The length of the uncompressed wire name at the start of `buf`, root label included: the crate's
/// one walker of names without compression (the snapshot's stored names, records in transfer form).
/// `None` if the name runs past `buf`, has a label over 63 octets (or a pointer: uncompressed names
/// have none), or is longer than 255 octets.
#[inline]
pub(crate) fn uncompressed_len(buf: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let len = usize::from(*buf.get(at)?);
        if len > MAX_LABEL_LEN {
            return None;
        }
        at += 1 + len;
        if at > MAX_NAME_LEN {
            return None;
        }
        if len == 0 {
            return Some(at);
        }
    }
}

/// The proper suffixes of an uncompressed wire name, nearest parent first, the root last
/// (`a.b.` gives `b.` then `.`); nothing for the root itself.
pub(crate) fn parents(wire: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let len = *wire.get(pos)?;
        if len == 0 {
            return None;
        }
        pos += usize::from(len) + 1;
        wire.get(pos..)
    })
}

/// Whether the uncompressed wire name `name` is `apex` or below it, comparing octets (give both in
/// lower case). On the query path (a miss in the snapshot): no allocation, one pass.
#[inline]
pub(crate) fn is_at_or_below(name: &[u8], apex: &[u8]) -> bool {
    let mut pos = 0;
    while let Some(&len) = name.get(pos) {
        if &name[pos..] == apex {
            return true;
        }
        if len == 0 {
            return false;
        }
        pos += usize::from(len) + 1;
    }
    false
}

/// [`text_to_wire`] for tests, which give valid names.
#[cfg(test)]
pub(crate) fn wire_of(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    match text_to_wire(text, &mut out) {
        Some(()) => out,
        None => panic!("`{text}` is not a valid name"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg_with(name: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; HEADER_LEN];
        m.extend_from_slice(name);
        m
    }

    #[test]
    fn plain_name_parses_and_lowers() {
        let m = msg_with(b"\x05NGINX\x08Marathon\x05mesos\x00");
        let (n, end) = NameRef::parse(&m, 12).unwrap();
        assert_eq!(end, m.len());
        assert_eq!(n.wire_len(), m.len() - 12);
        let l = lower_name(&n);
        assert_eq!(l.as_wire(), b"\x05nginx\x08marathon\x05mesos\x00");
        assert_eq!(l.label_count(), 3);
        assert_eq!(l.suffix(2), b"\x05mesos\x00");
        assert_eq!(l.suffix(3), b"\x00");
        assert_eq!(l.suffix_offset(1), 6);
    }

    #[test]
    fn backward_pointer_is_followed() {
        let mut m = msg_with(b"\x05mesos\x00");
        m.extend_from_slice(b"\x03foo\xc0\x0c");
        let (n, end) = NameRef::parse(&m, 19).unwrap();
        assert_eq!(end, m.len());
        assert_eq!(lower_name(&n).as_wire(), b"\x03foo\x05mesos\x00");
        let (apex, _) = NameRef::parse(&m, 12).unwrap();
        assert!(!n.eq_ignore_case(&apex));
    }

    #[test]
    fn forward_self_and_looping_pointers_are_rejected() {
        let fwd = msg_with(b"\xc0\x0e\x00\x00");
        assert_eq!(NameRef::parse(&fwd, 12).unwrap_err(), NameError::BadPointer);
        let own = msg_with(b"\xc0\x0c");
        assert_eq!(NameRef::parse(&own, 12).unwrap_err(), NameError::BadPointer);
        // "a" then a pointer back to "a": a loop through a backward pointer.
        let mut looped = msg_with(b"\x01a\xc0\x0c");
        assert_eq!(NameRef::parse(&looped, 14).unwrap_err(), NameError::BadPointer);
        looped.truncate(13);
        assert_eq!(NameRef::parse(&looped, 12).unwrap_err(), NameError::Truncated);
        let into_header = msg_with(b"\xc0\x02");
        assert_eq!(NameRef::parse(&into_header, 12).unwrap_err(), NameError::BadPointer);
    }

    #[test]
    fn pointer_past_end_and_truncated_pointer_are_rejected() {
        let past = msg_with(b"\x01a\x00\xc0\xff");
        assert_eq!(NameRef::parse(&past, 15).unwrap_err(), NameError::BadPointer);
        let half = msg_with(b"\xc0");
        assert_eq!(NameRef::parse(&half, 12).unwrap_err(), NameError::Truncated);
    }

    #[test]
    fn long_labels_and_names_are_rejected() {
        let mut label64 = vec![64u8];
        label64.extend_from_slice(&[b'a'; 64]);
        label64.push(0);
        assert_eq!(
            NameRef::parse(&msg_with(&label64), 12).unwrap_err(),
            NameError::BadLabel
        );

        let mut label63 = vec![63u8];
        label63.extend_from_slice(&[b'a'; 63]);
        label63.push(0);
        assert!(NameRef::parse(&msg_with(&label63), 12).is_ok());

        // 4 x 63-octet labels = 256 octets with the root: one too many.
        let mut long = Vec::new();
        for _ in 0..4 {
            long.push(63u8);
            long.extend_from_slice(&[b'b'; 63]);
        }
        long.push(0);
        assert_eq!(NameRef::parse(&msg_with(&long), 12).unwrap_err(), NameError::TooLong);
        // Exactly 255 octets is fine: 3 x 63 + 62 + root.
        let mut max = Vec::new();
        for _ in 0..3 {
            max.push(63u8);
            max.extend_from_slice(&[b'b'; 63]);
        }
        max.push(61);
        max.extend_from_slice(&[b'c'; 61]);
        max.push(0);
        assert_eq!(max.len(), 255);
        let m = msg_with(&max);
        let (n, _) = NameRef::parse(&m, 12).unwrap();
        assert_eq!(lower_name(&n).as_wire(), &max[..]);
    }

    #[test]
    fn names_compare_case_insensitively() {
        let m = msg_with(b"\x03WwW\x05Mesos\x00\x03www\x05mesos\x00\x03www\x05mesoz\x00");
        let (a, end) = NameRef::parse(&m, 12).unwrap();
        let (b, end2) = NameRef::parse(&m, end).unwrap();
        let (c, _) = NameRef::parse(&m, end2).unwrap();
        assert!(a.eq_ignore_case(&b));
        assert!(!a.eq_ignore_case(&c));
        assert_eq!(a.labels().collect::<Vec<_>>(), vec![&b"WwW"[..], &b"Mesos"[..]]);
    }

    #[test]
    fn root_name() {
        let m = msg_with(b"\x00");
        let (n, end) = NameRef::parse(&m, 12).unwrap();
        assert!(n.is_root());
        assert_eq!(end, 13);
        let l = lower_name(&n);
        assert_eq!(l.as_wire(), b"\x00");
        assert_eq!(l.label_count(), 0);
    }

    #[test]
    fn text_becomes_lower_case_wire_form() {
        let mut v = Vec::new();
        for (text, wire) in [
            ("", &b"\x00"[..]),
            (".", b"\x00"),
            ("mesos", b"\x05mesos\x00"),
            ("A.b.", b"\x01a\x01b\x00"),
            ("NGINX.Marathon.mesos.", b"\x05nginx\x08marathon\x05mesos\x00"),
            ("_http._tcp.x", b"\x05_http\x04_tcp\x01x\x00"),
        ] {
            assert_eq!(text_to_wire(text, &mut v), Some(()), "{text}");
            assert_eq!(v, wire, "{text}");
        }
        v = b"left over".to_vec();
        text_to_wire("a", &mut v).unwrap();
        assert_eq!(v, b"\x01a\x00", "the buffer is replaced, not appended to");
    }

    #[test]
    fn text_that_is_no_name_is_refused() {
        let mut v = Vec::new();
        for bad in [
            ".a",
            "a..b",
            "..",
            &"a.".repeat(128),
            &format!("{}.mesos", "x".repeat(64)),
        ] {
            assert_eq!(text_to_wire(bad, &mut v), None, "{bad}");
        }
        // 63-octet labels are the limit; 255 octets in wire form are the limit.
        assert!(text_to_wire(&format!("{}.mesos", "x".repeat(63)), &mut v).is_some());
        let max = format!("{0}.{0}.{0}.{1}", "b".repeat(63), "c".repeat(61));
        assert!(text_to_wire(&max, &mut v).is_some());
        assert_eq!(v.len(), MAX_NAME_LEN);
        assert!(text_to_wire(&format!("{max}c"), &mut v).is_none());
    }

    /// The word-at-a-time conversion against an octet-at-a-time one, over every octet value in
    /// every position of names of every length up to a few words.
    #[test]
    fn bytes_become_wire_form_as_octet_by_octet() {
        fn slow(name: &[u8]) -> Option<Vec<u8>> {
            let name = name.strip_suffix(b".").unwrap_or(name);
            let mut out = vec![];
            if !name.is_empty() {
                for label in name.split(|&b| b == b'.') {
                    if label.is_empty() || label.len() > MAX_LABEL_LEN {
                        return None;
                    }
                    out.push(label.len() as u8);
                    out.extend(label.iter().map(u8::to_ascii_lowercase));
                }
            }
            out.push(0);
            (out.len() <= MAX_NAME_LEN).then_some(out)
        }
        let mut v = Vec::new();
        for len in 1..=27 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut name: Vec<u8> = (0..len).map(|i| b"aZ.q"[i % 4]).collect();
                    name[at] = b;
                    let got = bytes_to_wire(&name, &mut v).map(|()| v.clone());
                    assert_eq!(got, slow(&name), "{name:?}");
                }
            }
        }
        for len in [62, 63, 64, 250, 252, 253, 254, 255, 300] {
            for dots in [0, 3, 5] {
                let mut name = vec![b'X'; len];
                for d in 1..=dots {
                    if let Some(b) = name.get_mut(d * len / (dots + 1)) {
                        *b = b'.';
                    }
                }
                let got = bytes_to_wire(&name, &mut v).map(|()| v.clone());
                assert_eq!(got, slow(&name), "{len} {dots}");
            }
        }
    }

    #[test]
    fn wire_becomes_dotted_text() {
        assert_eq!(
            wire_to_text(b"\x05nginx\x08marathon\x05mesos\x00"),
            "nginx.marathon.mesos."
        );
        assert_eq!(wire_to_text(b"\x00"), ".");
        assert_eq!(wire_to_text(b""), ".");
        assert_eq!(wire_to_text(b"\x02\xffa\x00"), "\u{fffd}a.");
        // A length past the end gives what there is rather than a panic.
        assert_eq!(wire_to_text(b"\x01a\x09b"), "a..");
        for text in ["a.", "_leader._tcp.mesos.", "1.0.0.10.in-addr.arpa."] {
            assert_eq!(wire_to_text(&wire_of(text)), text);
        }
    }

    #[test]
    fn uncompressed_names_are_measured_and_long_labels_refused() {
        assert_eq!(uncompressed_len(b"\x01a\x05mesos\x00rest"), Some(9));
        assert_eq!(uncompressed_len(b"\x00"), Some(1));
        assert_eq!(uncompressed_len(b"\x01a\x05mes"), None, "runs past the end");
        let mut long = vec![64u8];
        long.extend_from_slice(&[b'a'; 64]);
        long.push(0);
        assert_eq!(uncompressed_len(&long), None, "a 64-octet label");
        long[0] = 63;
        assert_eq!(uncompressed_len(&long[..]), None, "63 then a label of 'a' (97) octets");
        assert_eq!(uncompressed_len(b"\xc0\x0c"), None, "a pointer");
        let mut max = Vec::new();
        for _ in 0..4 {
            max.push(62);
            max.extend_from_slice(&[b'a'; 62]);
        }
        max.push(0);
        assert_eq!(uncompressed_len(&max), Some(253));
        let mut over = Vec::new();
        for _ in 0..4 {
            over.push(63);
            over.extend_from_slice(&[b'a'; 63]);
        }
        over.push(0);
        assert_eq!(uncompressed_len(&over), None, "257 octets");
    }

    #[test]
    fn parents_walk_up_to_the_root() {
        let name = wire_of("a.b.mesos");
        let up: Vec<&[u8]> = parents(&name).collect();
        assert_eq!(up, [&b"\x01b\x05mesos\x00"[..], b"\x05mesos\x00", b"\x00"]);
        assert_eq!(parents(b"\x00").count(), 0);
        assert_eq!(parents(b"\x05mes").count(), 0, "a truncated name ends the walk");
    }

    #[test]
    fn names_are_at_or_below_an_apex_by_whole_labels() {
        let apex = wire_of("mesos");
        assert!(is_at_or_below(&apex, &apex));
        assert!(is_at_or_below(&wire_of("a.b.mesos"), &apex));
        assert!(!is_at_or_below(&wire_of("amesos"), &apex));
        assert!(!is_at_or_below(&wire_of("mesos.org"), &apex));
        assert!(!is_at_or_below(b"\x00", &apex));
        assert!(is_at_or_below(&wire_of("anything"), b"\x00"));
        assert!(!is_at_or_below(b"\x01a", &apex), "no root label, no match");
    }
}
