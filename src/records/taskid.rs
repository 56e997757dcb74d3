//! The short task hash `H` of canonical task names (`T-H-S.F.D`): the first five characters of the
//! z-base-32 encoding of SHA-1(task id), as the original computes it (tv42/zbase32), so that every
//! task keeps the name it had under the Go server.

/// The z-base-32 alphabet (<http://philzimmermann.com/docs/human-oriented-base-32-encoding.txt>).
const ALPHABET: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

#[cfg(target_arch = "x86_64")]
mod sha_ni;

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
    // 25 bits from the digest's first word.
    let top = first_word(task_id.as_bytes());
    let mut out = [0u8; HASH_LEN];
    for (i, c) in out.iter_mut().enumerate() {
        *c = ALPHABET[((top >> (27 - 5 * i)) & 31) as usize];
    }
    out
}

/// The first word of SHA-1(`bytes`): on the CPU's SHA extensions where it has them, else portable.
fn first_word(bytes: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if let Some([word, ..]) = sha_ni::digest(bytes) {
        return word;
    }
    portable_digest(bytes)[0]
}

/// SHA-1 of `bytes` as five big-endian words, by `sha1_smol` (any CPU).
fn portable_digest(bytes: &[u8]) -> [u32; 5] {
    let digest = sha1_smol::Sha1::from(bytes).digest().bytes();
    let mut words = [0u32; 5];
    for (w, octets) in words.iter_mut().zip(digest.chunks_exact(4)) {
        *w = u32::from_be_bytes([octets[0], octets[1], octets[2], octets[3]]);
    }
    words
}

/// Appends the task hash of `task_id` to `out`.
#[cfg(test)]
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

    /// The SHA extensions' digest is the portable one, for ids of every length up to 200 octets
    /// (one, two, three and four blocks, and each padding boundary: 55, 56, 63, 64 octets left),
    /// random octets and random text. Both paths run where the CPU has the extensions.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_sha_extensions_give_the_portable_digest() {
        if !sha_ni::available() {
            eprintln!("this CPU has no SHA extensions: only the portable path runs");
            assert_eq!(sha_ni::digest(b"test"), None);
            return;
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut compared = 0;
        for len in 0..=200usize {
            for _ in 0..40 {
                let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                assert_eq!(sha_ni::digest(&bytes), Some(portable_digest(&bytes)), "{bytes:02x?}");
                let text: String = (0..len)
                    .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789.-_"[next() as usize % 39]))
                    .collect();
                assert_eq!(
                    sha_ni::digest(text.as_bytes()),
                    Some(portable_digest(text.as_bytes())),
                    "{text}"
                );
                compared += 2;
            }
        }
        assert_eq!(compared, 201 * 80);
        let sha1_of_abc = [0xa999_3e36, 0x4706_816a, 0xba3e_2571, 0x7850_c26c, 0x9cd0_d89d];
        assert_eq!(sha_ni::digest(b"abc"), Some(sha1_of_abc), "FIPS 180-2 appendix A");
        assert_eq!(portable_digest(b"abc"), sha1_of_abc);
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
