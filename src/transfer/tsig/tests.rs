use super::*;

/// `kdig -y hmac-sha256:xfr-key:MDEy...ZWY= mesos SOA` as captured (signed at 0x6b0ec6cd).
const KDIG_QUERY: &[u8] = include_bytes!("kdig-soa-query.bin");
const SIGNED_AT: u64 = 0x6b0e_c6cd;

fn keys(name: &str, secret: &[u8]) -> Keys {
    Keys::new(&[TsigKey {
        name: name.into(),
        algorithm: "hmac-sha256".into(),
        secret: secret.to_vec(),
    }])
}

fn kdig_key() -> Keys {
    keys("xfr-key.", b"0123456789abcdef0123456789abcdef")
}

fn check(msg: &[u8], keys: &Keys, now: u64) -> Result<(), u16> {
    let parsed = Message::parse(msg).unwrap();
    let tsig = find(&parsed).unwrap().expect("signed");
    match verify(msg, &tsig, keys, now) {
        Verdict::Valid(_) => Ok(()),
        Verdict::BadTime(_) => Err(BADTIME),
        Verdict::Bad(e) => Err(e),
    }
}

#[test]
fn a_query_kdig_signed_verifies_with_its_key() {
    assert_eq!(check(KDIG_QUERY, &kdig_key(), SIGNED_AT), Ok(()));
    assert_eq!(
        check(KDIG_QUERY, &kdig_key(), SIGNED_AT + 300),
        Ok(()),
        "within the fudge"
    );
}

#[test]
fn a_changed_byte_another_secret_another_key_or_a_late_clock_fail_with_their_error() {
    let mut tampered = KDIG_QUERY.to_vec();
    tampered[3] ^= 0x10; // the AD bit
    assert_eq!(check(&tampered, &kdig_key(), SIGNED_AT), Err(BADSIG));
    assert_eq!(
        check(
            KDIG_QUERY,
            &keys("xfr-key.", b"another secret, 32 bytes long..."),
            SIGNED_AT
        ),
        Err(BADSIG)
    );
    assert_eq!(
        check(KDIG_QUERY, &keys("other-key.", b"0123456789abcdef"), SIGNED_AT),
        Err(BADKEY)
    );
    assert_eq!(check(KDIG_QUERY, &kdig_key(), SIGNED_AT + 301), Err(BADTIME));
    assert_eq!(check(KDIG_QUERY, &kdig_key(), SIGNED_AT - 301), Err(BADTIME));
}

#[test]
fn a_message_we_sign_verifies_and_the_unsigned_part_is_untouched() {
    let keys = kdig_key();
    let Some(key) = keys.first() else { unreachable!() };
    let mut msg = KDIG_QUERY[..0x17].to_vec(); // header and question
    msg[11] = 0; // ARCOUNT 0
    let before = msg.clone();
    Signer::unprompted(key).sign(&mut msg, SIGNED_AT, 0, &[]);
    assert_eq!(&msg[..10], &before[..10]);
    assert_eq!(&msg[10..12], &[0, 1]);
    assert_eq!(check(&msg, &keys, SIGNED_AT), Ok(()));
}

#[test]
fn a_tsig_record_that_is_not_last_is_refused() {
    let mut msg = KDIG_QUERY.to_vec();
    // An OPT record after the TSIG record.
    msg.extend_from_slice(b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00");
    msg[11] = 2;
    assert!(find(&Message::parse(&msg).unwrap()).is_err());
    let mut unsigned = KDIG_QUERY[..0x17].to_vec();
    unsigned[11] = 0;
    assert!(find(&Message::parse(&unsigned).unwrap()).unwrap().is_none());
}

#[test]
fn a_signed_query_forwarded_under_another_id_is_answered_under_that_id() {
    use crate::transfer::{check_signed, sign_reply, Signature, SignedQuery};
    let original = u16::from_be_bytes([KDIG_QUERY[0], KDIG_QUERY[1]]);
    let mut forwarded = KDIG_QUERY.to_vec();
    forwarded[..2].copy_from_slice(&(original ^ 0x5a5a).to_be_bytes());
    assert_eq!(
        check(&forwarded, &kdig_key(), SIGNED_AT),
        Ok(()),
        "the MAC covers the original ID"
    );
    let msg = Message::parse(&forwarded).unwrap();
    let keys = kdig_key();
    let (mut stripped, mut out) = (Vec::new(), Vec::new());
    let SignedQuery::Valid { mut signer } =
        check_signed(&msg, Signature::of(&msg), &keys, SIGNED_AT, &mut stripped, &mut out)
    else {
        panic!("a valid signature")
    };
    assert_eq!(read_u16(&stripped, 0), Some(original), "answered under the original ID");
    let mut reply = stripped.clone();
    reply[2] |= 0x80;
    sign_reply(&mut signer, &mut reply, &msg, SIGNED_AT);
    assert_eq!(read_u16(&reply, 0), Some(original ^ 0x5a5a), "the client's ID");
    let signed = Message::parse(&reply).unwrap();
    assert_eq!(find(&signed).unwrap().expect("signed").original_id, original);
}
