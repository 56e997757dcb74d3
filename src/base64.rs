//! Base64 (RFC 4648) for the few places that need it (the masters' authentication, TSIG secrets in the config): the standard alphabet with
//! padding for HTTP basic credentials (section 4), and the URL-safe alphabet without padding for JSON
//! Web Tokens (section 5; RFC 7515 section 2), both ways. Twenty lines do not justify a crate; the RFC's
//! test vectors below pin them down.

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Appends `bytes` in standard base64 with `=` padding.
pub(crate) fn encode_standard_into(bytes: &[u8], out: &mut String) {
    encode_into(bytes, STANDARD, true, out);
}

/// Appends `bytes` in URL-safe base64 without padding (base64url, as JWTs use it).
pub(crate) fn encode_url_into(bytes: &[u8], out: &mut String) {
    encode_into(bytes, URL_SAFE, false, out);
}

/// `bytes` in base64url without padding.
pub(crate) fn encode_url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    encode_url_into(bytes, &mut out);
    out
}

fn encode_into(bytes: &[u8], alphabet: &[u8; 64], pad: bool, out: &mut String) {
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(alphabet[(n >> (18 - 6 * i) & 63) as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
}

/// Decodes base64url without padding; `None` on any other character or an impossible length.
pub(crate) fn decode_url(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for byte in text.bytes() {
        let value = URL_SAFE.iter().position(|&c| c == byte)? as u32;
        acc = (acc << 6 | value) & 0xff_ffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 section 10.
    const VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn standard_encoding_matches_rfc_4648_vectors() {
        for (input, want) in VECTORS {
            let mut out = String::new();
            encode_standard_into(input.as_bytes(), &mut out);
            assert_eq!(out, want, "{input:?}");
        }
    }

    #[test]
    fn url_encoding_drops_padding_and_uses_the_url_safe_alphabet() {
        for (input, want) in VECTORS {
            assert_eq!(encode_url(input.as_bytes()), want.trim_end_matches('='), "{input:?}");
        }
        // 0xfb 0xff: `+/` in the standard alphabet, `-_` here.
        assert_eq!(encode_url(&[0xfb, 0xff]), "-_8");
        // RFC 7515 appendix A.1's protected header.
        assert_eq!(
            encode_url(b"{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}"),
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        );
    }

    #[test]
    fn url_decoding_inverts_encoding_and_refuses_other_text() {
        for (input, want) in VECTORS {
            assert_eq!(
                decode_url(want.trim_end_matches('=')).as_deref(),
                Some(input.as_bytes())
            );
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode_url(&encode_url(&all)), Some(all));
        assert_eq!(decode_url("Zg=="), None, "padding is not base64url here");
        assert_eq!(decode_url("a+b/"), None, "the standard alphabet's 62 and 63");
        assert_eq!(decode_url("Zm9vY"), None, "one character past a group carries no byte");
    }
}
