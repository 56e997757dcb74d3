//! Checks on an upstream answer before it is passed on (RFC 5452): it must be a response, and carry
//! exactly the question we asked. The source address and ID are checked by the pending table's keys.

use crate::wire::Message;

/// Why an upstream answer is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Not a well-formed DNS message.
    Malformed,
    /// QR is not set.
    NotResponse,
    /// The question differs from the one asked (name, type or class).
    WrongQuestion,
}

/// What an acceptable answer asks of us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Pass it on.
    Complete,
    /// TC is set: ask again over TCP.
    Truncated,
}

/// An accepted answer: what it asks of us, and the answer as parsed here (the cache and truncation
/// take it, so an upstream answer is parsed once).
#[derive(Debug, Clone, Copy)]
pub struct Verified<'a> {
    pub accepted: Accepted,
    pub answer: Message<'a>,
}

/// Checks `answer` against the `query` we sent.
pub fn verify<'a>(query: &Message<'_>, answer: &'a [u8]) -> Result<Verified<'a>, Rejected> {
    let a = Message::parse(answer).map_err(|_| Rejected::Malformed)?;
    if !a.is_response() {
        return Err(Rejected::NotResponse);
    }
    let q = query.question().ok_or(Rejected::WrongQuestion)?;
    let aq = a.question().ok_or(Rejected::WrongQuestion)?;
    if a.qdcount() != 1 || aq.qtype != q.qtype || aq.qclass != q.qclass || !aq.name.eq_ignore_case(&q.name) {
        return Err(Rejected::WrongQuestion);
    }
    let accepted = if a.is_truncated() {
        Accepted::Truncated
    } else {
        Accepted::Complete
    };
    Ok(Verified { accepted, answer: a })
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY_BYTES: &[u8] =
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x06google\x03com\x00\x00\x01\x00\x01";

    /// `verify` of `answer` against the test query, as what it asked of us.
    fn check(answer: &[u8]) -> Result<Accepted, Rejected> {
        let query = Message::parse(QUERY_BYTES).unwrap();
        verify(&query, answer).map(|v| {
            assert_eq!(v.answer.bytes(), answer, "the parsed answer is handed back");
            v.accepted
        })
    }

    fn answer(flags: [u8; 2], name: &[u8], qtype: u8) -> Vec<u8> {
        let mut a = vec![0x56, 0x78, flags[0], flags[1], 0, 1, 0, 1, 0, 0, 0, 0];
        a.extend_from_slice(name);
        a.extend_from_slice(&[0, qtype, 0, 1]);
        a.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01");
        a
    }

    #[test]
    fn matching_answer_is_accepted_case_insensitively() {
        assert_eq!(
            check(&answer([0x81, 0x80], b"\x03WWW\x06Google\x03com\x00", 1)),
            Ok(Accepted::Complete)
        );
        assert_eq!(
            check(&answer([0x83, 0x80], b"\x03www\x06google\x03com\x00", 1)),
            Ok(Accepted::Truncated)
        );
    }

    #[test]
    fn mismatches_are_rejected() {
        let name = b"\x03www\x06google\x03com\x00";
        assert_eq!(check(&answer([0x01, 0x00], name, 1)), Err(Rejected::NotResponse));
        assert_eq!(check(&answer([0x81, 0x80], name, 28)), Err(Rejected::WrongQuestion));
        assert_eq!(
            check(&answer([0x81, 0x80], b"\x03www\x06google\x03org\x00", 1)),
            Err(Rejected::WrongQuestion)
        );
        assert_eq!(check(&[0x56, 0x78, 0x81]), Err(Rejected::Malformed));
        let mut no_question = answer([0x81, 0x80], name, 1);
        no_question[5] = 0;
        assert!(check(&no_question).is_err());
    }
}
