//! What a UDP client gets when a relayed answer does not fit it (RFC 1035 4.2.1, RFC 6891 7): its
//! size limit, and the truncated reply. The reply keeps the upstream's header (flags and rcode) and
//! the client's question, sets TC and carries no records at all, so no RRset is ever cut in two
//! (RFC 2181 9) and the client retries over TCP, where it gets the whole answer. This holds whatever
//! `SetTruncateBit` says: that key is about our own answers (whole records dropped, TC left unset, as
//! the original does); a relayed answer that lost records is always marked, since a client cannot
//! tell an unmarked partial answer from a whole one.

use crate::wire::{field, Message, Writer, MAX_UDP_PAYLOAD, MIN_UDP_PAYLOAD};

/// The UDP size a client accepts: 512 without EDNS0, else its EDNS0 payload size, capped at what we
/// advertise ourselves (RFC 6891 6.2.5).
pub fn client_udp_limit(query: &Message<'_>) -> usize {
    query.edns().map_or(MIN_UDP_PAYLOAD, |e| {
        usize::from(e.udp_size).clamp(MIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD)
    })
}

/// Whether `answer` may go to a UDP client that sent `query` as it is: it fits the client's limit and
/// the upstream did not mark it truncated.
pub(super) fn fits_udp_client(query: &Message<'_>, answer: &Message<'_>) -> bool {
    !answer.is_truncated() && answer.bytes().len() <= client_udp_limit(query)
}

/// Writes into `out` the truncated reply to `query` (the client's bytes) from `answer` (the upstream's,
/// already verified to answer that question): the answer's ID, flags and rcode with TC set, the
/// client's question, and an OPT record (our payload size, the answer's extended rcode, the client's
/// DO bit) if the client sent one. Returns its length; `None` if the query has no question or `out`
/// is too small.
pub(super) fn truncated_reply(q: &Message<'_>, a: &Message<'_>, out: &mut [u8]) -> Option<usize> {
    let question = q.question()?;
    let mut w = Writer::new(out, MIN_UDP_PAYLOAD);
    w.u16(a.id()).ok()?;
    w.u16(a.flags() | field::TC).ok()?;
    w.bytes(&[0, 1, 0, 0, 0, 0, 0, 0]).ok()?;
    w.bytes(question.raw).ok()?;
    if let Some(edns) = q.edns() {
        let ext_rcode = a.edns().map_or(0, |e| e.ext_rcode);
        w.opt(MAX_UDP_PAYLOAD as u16, ext_rcode, edns.dnssec_ok).ok()?;
        w.set_u16(field::ARCOUNT.start, 1);
    }
    Some(w.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Section;

    fn parsed(m: &[u8]) -> Message<'_> {
        Message::parse(m).unwrap()
    }

    fn client_udp_limit(q: &[u8]) -> usize {
        super::client_udp_limit(&parsed(q))
    }

    fn fits_udp_client(q: &[u8], a: &[u8]) -> bool {
        super::fits_udp_client(&parsed(q), &parsed(a))
    }

    fn truncated_reply(q: &[u8], a: &[u8], out: &mut [u8]) -> Option<usize> {
        super::truncated_reply(&parsed(q), &parsed(a), out)
    }

    const QUERY: &[u8] =
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03WwW\x06google\x03com\x00\x00\x01\x00\x01";

    /// `QUERY` with an OPT record offering `size` bytes, DO set.
    fn edns_query(size: u16) -> Vec<u8> {
        let mut q = QUERY.to_vec();
        q[11] = 1;
        q.extend_from_slice(&[0, 0, 41]);
        q.extend_from_slice(&size.to_be_bytes());
        q.extend_from_slice(&[0, 0, 0x80, 0, 0, 0]);
        q
    }

    /// An upstream answer of `n` A records (16 bytes each after the 32-byte header and question),
    /// `flags` and rcode as given, and an OPT record with extended rcode `ext` if given.
    fn answer(flags: u16, n: u16, ext: Option<u8>) -> Vec<u8> {
        let mut a = vec![0x56, 0x78];
        a.extend_from_slice(&(0x8180 | flags).to_be_bytes());
        a.extend_from_slice(&[0, 1]);
        a.extend_from_slice(&n.to_be_bytes());
        a.extend_from_slice(&[0, 0, 0, u8::from(ext.is_some())]);
        a.extend_from_slice(b"\x03www\x06google\x03com\x00\x00\x01\x00\x01");
        for i in 0..n {
            a.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x01");
            a.extend_from_slice(&i.to_be_bytes());
        }
        if let Some(ext) = ext {
            a.extend_from_slice(&[0, 0, 41, 0x10, 0, ext, 0, 0, 0, 0, 0]);
        }
        a
    }

    #[test]
    fn the_limit_is_512_without_edns_else_the_clients_size_within_512_and_ours() {
        assert_eq!(client_udp_limit(QUERY), 512);
        assert_eq!(client_udp_limit(&edns_query(4096)), 1232);
        assert_eq!(client_udp_limit(&edns_query(1000)), 1000);
        assert_eq!(client_udp_limit(&edns_query(100)), 512);
    }

    #[test]
    fn what_fits_and_is_not_marked_goes_as_it_is() {
        // 30 records: 32 + 480 = 512 bytes, the most a client without EDNS takes.
        assert_eq!(answer(0, 30, None).len(), 512);
        assert!(fits_udp_client(QUERY, &answer(0, 30, None)));
        assert!(!fits_udp_client(QUERY, &answer(0, 31, None)));
        assert!(fits_udp_client(&edns_query(4096), &answer(0, 75, None)));
        assert!(!fits_udp_client(&edns_query(4096), &answer(0, 76, None)), "1248 > 1232");
        assert!(
            !fits_udp_client(QUERY, &answer(field::TC, 1, None)),
            "the upstream's TC"
        );
    }

    #[test]
    fn the_truncated_reply_has_the_header_and_question_and_no_records() {
        let mut out = [0u8; 512];
        let n = truncated_reply(QUERY, &answer(field::AA, 46, None), &mut out).unwrap();
        let r = Message::parse(&out[..n]).unwrap();
        assert_eq!(r.id(), 0x5678, "the answer's ID (the table puts the client's back)");
        assert_eq!(r.flags(), 0x8180 | field::AA | field::TC);
        assert_eq!(
            r.question().unwrap().raw,
            &QUERY[12..],
            "the client's question, its case too"
        );
        assert_eq!(r.records(Section::Answer).count(), 0);
        assert_eq!((r.records(Section::Additional).count(), r.edns()), (0, None));
        assert_eq!(n, QUERY.len());
    }

    #[test]
    fn an_edns_client_gets_an_opt_record_with_the_answers_extended_rcode() {
        let mut out = [0u8; 512];
        let q = edns_query(1232);
        let n = truncated_reply(&q, &answer(3, 90, Some(1)), &mut out).unwrap();
        let r = Message::parse(&out[..n]).unwrap();
        assert_eq!(r.rcode(), crate::wire::Rcode::NXDOMAIN);
        let e = r.edns().expect("OPT");
        assert_eq!((e.udp_size, e.ext_rcode, e.dnssec_ok), (1232, 1, true));
        assert_eq!(r.records(Section::Answer).count(), 0);
    }
}
