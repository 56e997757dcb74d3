//! The short task hash `H` of canonical task names (`T-H-S.F.D`): the first five characters of the
//! z-base-32 encoding of SHA-1(task id), as the original computes it (tv42/zbase32), so that every
//! task keeps the name it had under the Go server.

/// The z-base-32 alphabet (<http://philzimmermann.com/docs/human-oriented-base-32-encoding.txt>).
const ALPHABET: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

/// How many characters of the encoded hash a task name carries.
pub(crate) const HASH_LEN: usize = 5;

#[cfg(test)]
/// z-base-32 of `bytes`: 5 bits a character, most significant first, the last character padded with
/// zero bits; no padding characters.
pub(crate) fn zbase32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity((bytes.len() * 8).div_ceil(5));
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The task hash `H` of a task id: the first [`HASH_LEN`] z-base-32 characters of its SHA-1.
pub(crate) fn task_hash(task_id: &str) -> [u8; HASH_LEN] {
    let digest = sha1_smol::Sha1::from(task_id).digest().bytes();
    // 25 bits from the first four bytes.
    let top = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let mut out = [0u8; HASH_LEN];
    for (i, c) in out.iter_mut().enumerate() {
        *c = ALPHABET[((top >> (27 - 5 * i)) & 31) as usize];
    }
    out
}

/// Appends the task hash of `task_id` to `out`.
pub(crate) fn push_task_hash(task_id: &str, out: &mut String) {
    out.extend(task_hash(task_id).iter().map(|&b| char::from(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zbase32_matches_the_reference_vectors() {
        assert_eq!(zbase32(&[]), "");
        assert_eq!(zbase32(&[0]), "yy");
        assert_eq!(zbase32(&[0xf0, 0xbf, 0xc7]), "6n9hq");
        assert_eq!(zbase32(&[0xd4, 0x7a, 0x04]), "4t7ye");
        assert_eq!(zbase32(&[0xff; 5]), "99999999");
    }

    #[test]
    fn task_hash_is_the_head_of_the_full_encoding() {
        for id in ["test", "", "nginx.7a1e0000-a36d-11e4-8c21-56847afe9799", "\u{1F600}"] {
            let full = zbase32(&sha1_smol::Sha1::from(id).digest().bytes());
            assert_eq!(full.len(), 32);
            assert_eq!(task_hash(id), full.as_bytes()[..HASH_LEN], "{id:?}");
        }
    }

    #[test]
    fn task_hash_matches_the_original() {
        // hashString("test") in the original's generator_test.go, and the fake.json task names there.
        assert_eq!(&task_hash("test"), b"iffe9");
        assert_eq!(
            &task_hash("liquor-store.b8db9f73-562f-11e4-a088-c20493233aa5"),
            b"4dfjd"
        );
        assert_eq!(
            &task_hash("liquor-store.b71166c1-562f-11e4-a088-c20493233aa5"),
            b"zasmd"
        );
        assert_eq!(&task_hash("car-store.43758382-562f-11e4-a088-c20493233aa5"), b"zinaz");
        let mut s = String::from("x-");
        push_task_hash("test", &mut s);
        assert_eq!(s, "x-iffe9");
    }
}
