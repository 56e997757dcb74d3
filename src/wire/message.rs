//! A received DNS message as a view over its bytes: the header, the question, the record sections and
//! the EDNS0 OPT record, all validated once by [`Message::parse`] so that no accessor can fail after it
//! (smoltcp's `new_checked` way: one check, then accessors that cannot panic). [`Received::read`] is
//! the edge where a datagram or TCP frame becomes meaning: a message, a readable header alone (what a
//! FORMERR reply and a NOTIFY acknowledgement need), or nothing. Typed values (flags, [`Opcode`],
//! [`Rcode`], counts, [`Rtype`], [`Class`]) come out; nobody downstream reads header offsets.

use super::cookie::{self, Cookie};
use super::iana::{Class, Opcode, Rcode, Rtype};
use super::name::NameRef;
use super::{field, read_u16, read_u32, HEADER_LEN};

/// The fixed header of a message, checked to be there once ([`Header::new_checked`]); its accessors
/// cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header([u8; HEADER_LEN]);

impl Header {
    /// The header at the start of `buf`, if `buf` is at least that long.
    #[inline]
    pub fn new_checked(buf: &[u8]) -> Option<Header> {
        buf.get(..HEADER_LEN)?.try_into().ok().map(Header)
    }

    #[inline]
    fn u16_at(&self, range: core::ops::Range<usize>) -> u16 {
        u16::from_be_bytes([self.0[range.start], self.0[range.start + 1]])
    }

    /// The message ID.
    #[inline]
    pub fn id(&self) -> u16 {
        self.u16_at(field::ID)
    }

    /// The flags word: QR, opcode, AA, TC, RD, RA, AD, CD and the rcode bits ([`field`] masks).
    #[inline]
    pub fn flags(&self) -> u16 {
        self.u16_at(field::FLAGS)
    }

    /// QR: a response.
    #[inline]
    pub fn is_response(&self) -> bool {
        self.flags() & field::QR != 0
    }

    /// The opcode.
    #[inline]
    pub fn opcode(&self) -> Opcode {
        Opcode::from_int((self.flags() & field::OPCODE_MASK) >> field::OPCODE_SHIFT)
    }

    /// The header RCODE (low four bits; the OPT record holds the rest).
    #[inline]
    pub fn rcode(&self) -> Rcode {
        Rcode::from_int(self.flags() & field::RCODE_MASK)
    }

    /// TC: truncated.
    #[inline]
    pub fn is_truncated(&self) -> bool {
        self.flags() & field::TC != 0
    }

    /// The header's question count.
    #[inline]
    pub fn qdcount(&self) -> u16 {
        self.u16_at(field::QDCOUNT)
    }

    #[inline]
    pub fn ancount(&self) -> u16 {
        self.u16_at(field::ANCOUNT)
    }

    #[inline]
    pub fn nscount(&self) -> u16 {
        self.u16_at(field::NSCOUNT)
    }

    #[inline]
    pub fn arcount(&self) -> u16 {
        self.u16_at(field::ARCOUNT)
    }
}

/// What arrived, read once.
#[derive(Debug, Clone, Copy)]
pub enum Received<'a> {
    /// Shorter than a header: nobody to answer.
    Short,
    /// The header is readable, the rest is not well-formed.
    Malformed(Header),
    /// A well-formed message.
    Message(Message<'a>),
}

impl<'a> Received<'a> {
    /// Reads `buf`: the one parse a received query gets.
    #[inline]
    pub fn read(buf: &'a [u8]) -> Received<'a> {
        match Message::parse(buf) {
            Ok(m) => Received::Message(m),
            Err(ParseError::Malformed) => Header::new_checked(buf).map_or(Received::Short, Received::Malformed),
            Err(ParseError::Short) => Received::Short,
        }
    }

    /// The header, if there is one.
    #[inline]
    #[cfg(test)]
    pub fn header(&self) -> Option<Header> {
        match self {
            Received::Short => None,
            Received::Malformed(h) => Some(*h),
            Received::Message(m) => Some(m.header()),
        }
    }
}

/// Why a message cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Shorter than a header: there is nobody to answer (drop it).
    Short,
    /// The header is readable but the rest is not well-formed (FORMERR): a bad name, a record running
    /// past the end, trailing bytes, two OPT records, an OPT record not owned by the root, or a COOKIE
    /// option of a wrong length or a second one (RFC 7873 5.2.2).
    Malformed,
}

/// The record sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The answer section.
    Answer,
    /// The authority section.
    Authority,
    /// The additional section.
    Additional,
}

/// The first question of a message.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub name: NameRef<'a>,
    pub qtype: Rtype,
    pub qclass: Class,
    /// The question's bytes exactly as received (to echo it with the client's case).
    pub raw: &'a [u8],
}

/// The EDNS0 OPT pseudo-record (RFC 6891).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edns {
    pub udp_size: u16,
    pub ext_rcode: u8,
    pub version: u8,
    pub dnssec_ok: bool,
}

/// One resource record of a section.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    pub name: NameRef<'a>,
    pub rtype: Rtype,
    /// The class (an OPT record's holds its UDP payload size).
    pub class: Class,
    pub ttl: u32,
    pub rdata: &'a [u8],
    /// Offset of `rdata` within the message (names inside rdata may point before it).
    pub rdata_offset: usize,
}

/// A validated message.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    buf: &'a [u8],
    header: Header,
    question: Option<Question<'a>>,
    edns: Option<Edns>,
    /// Where the OPT record's COOKIE option (RFC 7873), checked, starts; 0: none. An offset keeps the
    /// message small (it is copied on the way to the answer).
    cookie_at: u32,
    /// Where the answer, authority and additional sections start, and where the message ends.
    sections: [usize; 4],
}

impl<'a> Message<'a> {
    /// Validates the whole message once.
    #[inline]
    pub fn parse(buf: &'a [u8]) -> Result<Message<'a>, ParseError> {
        let header = Header::new_checked(buf).ok_or(ParseError::Short)?;
        let mut pos = HEADER_LEN;
        let mut question = None;
        for _ in 0..header.qdcount() {
            let (name, end) = NameRef::parse(buf, pos).map_err(|_| ParseError::Malformed)?;
            let qtype = read_u16(buf, end).ok_or(ParseError::Malformed)?;
            let qclass = read_u16(buf, end + 2).ok_or(ParseError::Malformed)?;
            if question.is_none() {
                question = Some(Question {
                    name,
                    qtype: Rtype::from_int(qtype),
                    qclass: Class::from_int(qclass),
                    raw: &buf[pos..end + 4],
                });
            }
            pos = end + 4;
        }
        let mut sections = [pos; 4];
        let mut edns = None;
        let mut cookie_at = 0;
        let counts = [header.ancount(), header.nscount(), header.arcount()];
        for (i, n) in counts.into_iter().enumerate() {
            sections[i] = pos;
            for _ in 0..n {
                let (rec, end) = read_record(buf, pos).ok_or(ParseError::Malformed)?;
                if rec.rtype == Rtype::OPT {
                    // RFC 6891 6.1.1: one OPT, in the additional section, owned by the root.
                    if i != 2 || edns.is_some() || !rec.name.is_root() {
                        return Err(ParseError::Malformed);
                    }
                    edns = Some(Edns {
                        udp_size: rec.class.to_int(),
                        ext_rcode: (rec.ttl >> 24) as u8,
                        version: (rec.ttl >> 16) as u8,
                        dnssec_ok: rec.ttl & 0x8000 != 0,
                    });
                    if !rec.rdata.is_empty() {
                        cookie_at = cookie::find(rec.rdata, rec.rdata_offset).map_err(|_| ParseError::Malformed)?;
                    }
                }
                pos = end;
            }
        }
        sections[3] = pos;
        if pos != buf.len() {
            return Err(ParseError::Malformed);
        }
        Ok(Message {
            buf,
            header,
            question,
            edns,
            cookie_at,
            sections,
        })
    }

    /// The message's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// The fixed header.
    #[inline]
    pub fn header(&self) -> Header {
        self.header
    }

    /// The message ID.
    #[inline]
    pub fn id(&self) -> u16 {
        self.header.id()
    }

    /// The flags word ([`Header::flags`]).
    #[inline]
    pub fn flags(&self) -> u16 {
        self.header.flags()
    }

    /// Whether QR is set.
    #[inline]
    pub fn is_response(&self) -> bool {
        self.header.is_response()
    }

    /// The opcode.
    #[inline]
    pub fn opcode(&self) -> Opcode {
        self.header.opcode()
    }

    /// The header RCODE (low four bits).
    #[inline]
    pub fn rcode(&self) -> Rcode {
        self.header.rcode()
    }

    /// The full RCODE: the header's four bits and the OPT record's upper eight (RFC 6891 6.1.3).
    #[inline]
    #[cfg(test)]
    pub fn full_rcode(&self) -> Rcode {
        let ext = self.edns.map_or(0, |e| u16::from(e.ext_rcode));
        Rcode::from_int(ext << 4 | self.header.rcode().to_int())
    }

    /// The header's question count.
    #[inline]
    pub fn qdcount(&self) -> u16 {
        self.header.qdcount()
    }

    /// TC: truncated.
    #[inline]
    pub fn is_truncated(&self) -> bool {
        self.header.is_truncated()
    }

    /// The first question, if the message has one.
    pub fn question(&self) -> Option<Question<'a>> {
        self.question
    }

    /// The EDNS0 OPT record, if any.
    pub fn edns(&self) -> Option<Edns> {
        self.edns
    }

    /// The COOKIE option of the OPT record, if any.
    #[inline]
    pub fn cookie(&self) -> Option<Cookie<'a>> {
        if self.cookie_at == 0 {
            return None;
        }
        Cookie::at(self.buf, self.cookie_at as usize)
    }

    /// Whether the OPT record has a COOKIE option.
    #[inline]
    pub fn has_cookie(&self) -> bool {
        self.cookie_at != 0
    }

    /// The records of a section, in order.
    pub fn records(&self, section: Section) -> Records<'a> {
        let i = match section {
            Section::Answer => 0,
            Section::Authority => 1,
            Section::Additional => 2,
        };
        Records {
            buf: self.buf,
            pos: self.sections[i],
            end: self.sections[i + 1],
        }
    }
}

/// Iterator over the records of one section of a validated message.
pub struct Records<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Iterator for Records<'a> {
    type Item = RecordRef<'a>;

    fn next(&mut self) -> Option<RecordRef<'a>> {
        if self.pos >= self.end {
            return None;
        }
        let (rec, end) = read_record(self.buf, self.pos)?;
        self.pos = end;
        Some(rec)
    }
}

/// Reads the record at `pos`: its view and the offset just past it.
fn read_record(buf: &[u8], pos: usize) -> Option<(RecordRef<'_>, usize)> {
    let (name, at) = NameRef::parse(buf, pos).ok()?;
    let rtype = read_u16(buf, at)?;
    let class = read_u16(buf, at + 2)?;
    let ttl = read_u32(buf, at + 4)?;
    let rdlen = usize::from(read_u16(buf, at + 8)?);
    let rdata_offset = at + 10;
    let rdata = buf.get(rdata_offset..rdata_offset + rdlen)?;
    Some((
        RecordRef {
            name,
            rtype: Rtype::from_int(rtype),
            class: Class::from_int(class),
            ttl,
            rdata,
            rdata_offset,
        },
        rdata_offset + rdlen,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `dig nginx.marathon.mesos +qr` (EDNS0 with a cookie option), as captured.
    const DIG_QUERY: &[u8] = b"\x2a\x2b\x01\x20\x00\x01\x00\x00\x00\x00\x00\x01\
        \x05nginx\x08marathon\x05mesos\x00\x00\x01\x00\x01\
        \x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x0c\x00\x0a\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08";

    #[test]
    fn dig_query_parses() {
        let m = Message::parse(DIG_QUERY).unwrap();
        assert_eq!(m.id(), 0x2a2b);
        assert!(!m.is_response());
        assert_eq!(m.opcode(), Opcode::QUERY);
        let q = m.question().unwrap();
        assert_eq!((q.qtype, q.qclass), (Rtype::A, Class::IN));
        assert_eq!(q.raw.len(), 26);
        assert_eq!(
            m.edns(),
            Some(Edns {
                udp_size: 1232,
                ext_rcode: 0,
                version: 0,
                dnssec_ok: false
            })
        );
        let opt: Vec<_> = m.records(Section::Additional).collect();
        assert_eq!(opt.len(), 1);
        assert_eq!(opt[0].rdata.len(), 12);
        assert_eq!(m.records(Section::Answer).count(), 0);
    }

    #[test]
    fn short_message_is_unreadable() {
        assert_eq!(Message::parse(&DIG_QUERY[..11]).unwrap_err(), ParseError::Short);
    }

    #[test]
    fn truncated_or_padded_message_is_malformed() {
        for cut in 12..DIG_QUERY.len() {
            assert_eq!(
                Message::parse(&DIG_QUERY[..cut]).unwrap_err(),
                ParseError::Malformed,
                "cut at {cut}"
            );
        }
        let mut padded = DIG_QUERY.to_vec();
        padded.push(0);
        assert_eq!(Message::parse(&padded).unwrap_err(), ParseError::Malformed);
    }

    #[test]
    fn two_opt_records_are_malformed() {
        let mut m = DIG_QUERY.to_vec();
        m[11] = 2;
        m.extend_from_slice(b"\x00\x00\x29\x02\x00\x00\x00\x00\x00\x00\x00");
        assert_eq!(Message::parse(&m).unwrap_err(), ParseError::Malformed);
    }

    #[test]
    fn opt_with_a_name_is_malformed() {
        let mut m = DIG_QUERY[..38].to_vec();
        m.extend_from_slice(b"\x01a\x00\x00\x29\x02\x00\x00\x00\x00\x00\x00\x00");
        assert_eq!(Message::parse(&m).unwrap_err(), ParseError::Malformed);
    }

    #[test]
    fn edns_version_and_do_bit_are_read() {
        let mut m = DIG_QUERY.to_vec();
        m[44] = 1; // version
        m[45] = 0x80; // DO
        let e = Message::parse(&m).unwrap().edns().unwrap();
        assert_eq!((e.version, e.dnssec_ok), (1, true));
    }

    #[test]
    fn response_records_are_iterated_with_compressed_names() {
        // A response: question, one A answer owned by a pointer to the question.
        let mut m = b"\x00\x01\x84\x00\x00\x01\x00\x01\x00\x00\x00\x00\x01a\x05mesos\x00\x00\x01\x00\x01".to_vec();
        m.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01");
        let msg = Message::parse(&m).unwrap();
        assert!(msg.is_response());
        let ans: Vec<_> = msg.records(Section::Answer).collect();
        assert_eq!(ans.len(), 1);
        assert_eq!(ans[0].ttl, 60);
        assert_eq!(ans[0].rdata, &[10, 0, 0, 1]);
        assert!(ans[0].name.eq_ignore_case(&msg.question().unwrap().name));
    }

    #[test]
    fn what_arrived_is_read_once_into_a_message_a_header_or_nothing() {
        assert!(matches!(Received::read(DIG_QUERY), Received::Message(m) if m.id() == 0x2a2b));
        let Received::Malformed(h) = Received::read(&DIG_QUERY[..20]) else {
            panic!("a header and half a question")
        };
        assert_eq!(
            (h.id(), h.opcode(), h.is_response(), h.arcount()),
            (0x2a2b, Opcode::QUERY, false, 1)
        );
        assert!(matches!(Received::read(&DIG_QUERY[..11]), Received::Short));
        assert!(Received::read(&DIG_QUERY[..11]).header().is_none());
    }

    #[test]
    fn the_full_rcode_joins_the_header_and_opt_bits() {
        let mut m = DIG_QUERY.to_vec();
        m[2] |= 0x80;
        m[3] = 0x00;
        m[43] = 1; // extended rcode 1, header 0: BADVERS
        assert_eq!(Message::parse(&m).unwrap().full_rcode(), Rcode::BADVERS);
        m[43] = 0;
        m[3] = 3;
        let msg = Message::parse(&m).unwrap();
        assert_eq!((msg.rcode(), msg.full_rcode()), (Rcode::NXDOMAIN, Rcode::NXDOMAIN));
    }

    #[test]
    fn zero_questions_parse_with_no_question() {
        let m = Message::parse(b"\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00").unwrap();
        assert!(m.question().is_none());
        assert_eq!(m.qdcount(), 0);
    }
}
