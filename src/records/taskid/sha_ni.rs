//! SHA-1 on the CPU's SHA extensions (SHA-NI, x86-64) for the task hash ([`super`]), used where the
//! CPU has them ([`digest`] says `None` elsewhere, and `sha1_smol` gives the same words). Most task
//! ids are one 64-octet block: 20 four-round instructions in place of `sha1_smol`'s ~1.2k
//! instructions (at 1M tasks, perf's samples in the hash fell from 4.7% of generation's to 2.2%).
//!
//! Written here, not taken from RustCrypto's `sha1` (which detects the extensions too): the one
//! compression function is these few lines of `std::arch`, where the crate brings `digest`,
//! `block-buffer`, `crypto-common`, `typenum` and `cpufeatures` into the static binary. The one
//! `unsafe` call is into the code compiled for the extensions, after checking that the CPU has them;
//! the block's words are read with plain indexing, not pointer loads.

use std::arch::x86_64::{
    __m128i, _mm_add_epi32, _mm_extract_epi32, _mm_set_epi32, _mm_sha1msg1_epu32, _mm_sha1msg2_epu32,
    _mm_sha1nexte_epu32, _mm_sha1rnds4_epu32, _mm_xor_si128,
};

/// SHA-1's initial state (FIPS 180-4, 5.3.1).
const INIT: [u32; 5] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0];

/// Whether this CPU has the SHA extensions (and SSE4.1, which every CPU with them has). The
/// detection is std's, done once and cached.
pub(super) fn available() -> bool {
    std::arch::is_x86_feature_detected!("sha") && std::arch::is_x86_feature_detected!("sse4.1")
}

/// SHA-1 of `message` as its five big-endian words; `None` when the CPU lacks the extensions.
pub(super) fn digest(message: &[u8]) -> Option<[u32; 5]> {
    if !available() {
        return None;
    }
    // SAFETY: the CPU has every feature `digest_on_cpu` is compiled for: checked just above.
    Some(unsafe { digest_on_cpu(message) })
}

/// [`digest`] on a CPU with the SHA extensions and SSE4.1 (the caller checks: [`available`]).
/// (Unsafe functions, for the crate's minimum Rust, 1.80: their bodies may call the intrinsics,
/// which later Rust makes safe to call in code compiled for the features.)
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn digest_on_cpu(message: &[u8]) -> [u32; 5] {
    let mut state = State {
        abcd: words([INIT[0], INIT[1], INIT[2], INIT[3]]),
        e: words([INIT[4], 0, 0, 0]),
    };
    let mut blocks = message.chunks_exact(64);
    for block in &mut blocks {
        state.compress(block);
    }
    // The padding: 0x80, zeros, the length in bits (one more block when its 8 octets do not fit).
    let rest = blocks.remainder();
    let mut last = [0u8; 128];
    last[..rest.len()].copy_from_slice(rest);
    last[rest.len()] = 0x80;
    let end = if rest.len() < 56 { 64 } else { 128 };
    let bits = (message.len() as u64).wrapping_mul(8);
    last[end - 8..end].copy_from_slice(&bits.to_be_bytes());
    for block in last[..end].chunks_exact(64) {
        state.compress(block);
    }
    [
        _mm_extract_epi32(state.abcd, 3) as u32,
        _mm_extract_epi32(state.abcd, 2) as u32,
        _mm_extract_epi32(state.abcd, 1) as u32,
        _mm_extract_epi32(state.abcd, 0) as u32,
        _mm_extract_epi32(state.e, 3) as u32,
    ]
}

/// Four words in one vector, the first in the highest lane (the order the SHA instructions take).
#[target_feature(enable = "sse2")]
unsafe fn words([a, b, c, d]: [u32; 4]) -> __m128i {
    _mm_set_epi32(a as i32, b as i32, c as i32, d as i32)
}

/// The running state: `a b c d` (a in the highest lane) and `e` (in the highest lane).
struct State {
    abcd: __m128i,
    e: __m128i,
}

/// Four rounds with the next message words `w` (`$h1` gives `e`).
macro_rules! rounds4 {
    ($h0:ident, $h1:ident, $w:expr, $f:literal) => {
        _mm_sha1rnds4_epu32($h0, _mm_sha1nexte_epu32($h1, $w), $f)
    };
}

/// The next four message words from the last sixteen, then four rounds with them.
macro_rules! schedule_rounds4 {
    ($h0:ident, $h1:ident, $w0:ident, $w1:ident, $w2:ident, $w3:ident, $w4:ident, $f:literal) => {
        $w4 = _mm_sha1msg2_epu32(_mm_xor_si128(_mm_sha1msg1_epu32($w0, $w1), $w2), $w3);
        $h1 = rounds4!($h0, $h1, $w4, $f);
    };
}

impl State {
    /// One 64-octet block (FIPS 180-4, 6.1.2), in the order of Intel's SHA extensions paper. (A
    /// shorter `block` reads as if padded with zeros: [`digest_on_cpu`] gives only whole ones.)
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn compress(&mut self, block: &[u8]) {
        let mut m = [0u32; 16];
        for (m, octets) in m.iter_mut().zip(block.chunks_exact(4)) {
            *m = u32::from_be_bytes([octets[0], octets[1], octets[2], octets[3]]);
        }
        let mut w0 = words([m[0], m[1], m[2], m[3]]);
        let mut w1 = words([m[4], m[5], m[6], m[7]]);
        let mut w2 = words([m[8], m[9], m[10], m[11]]);
        let mut w3 = words([m[12], m[13], m[14], m[15]]);
        let mut w4;

        let mut h0 = self.abcd;
        let mut h1 = _mm_add_epi32(self.e, w0);

        // Rounds 0..20.
        h1 = _mm_sha1rnds4_epu32(h0, h1, 0);
        h0 = rounds4!(h1, h0, w1, 0);
        h1 = rounds4!(h0, h1, w2, 0);
        h0 = rounds4!(h1, h0, w3, 0);
        schedule_rounds4!(h0, h1, w0, w1, w2, w3, w4, 0);
        // Rounds 20..40.
        schedule_rounds4!(h1, h0, w1, w2, w3, w4, w0, 1);
        schedule_rounds4!(h0, h1, w2, w3, w4, w0, w1, 1);
        schedule_rounds4!(h1, h0, w3, w4, w0, w1, w2, 1);
        schedule_rounds4!(h0, h1, w4, w0, w1, w2, w3, 1);
        schedule_rounds4!(h1, h0, w0, w1, w2, w3, w4, 1);
        // Rounds 40..60.
        schedule_rounds4!(h0, h1, w1, w2, w3, w4, w0, 2);
        schedule_rounds4!(h1, h0, w2, w3, w4, w0, w1, 2);
        schedule_rounds4!(h0, h1, w3, w4, w0, w1, w2, 2);
        schedule_rounds4!(h1, h0, w4, w0, w1, w2, w3, 2);
        schedule_rounds4!(h0, h1, w0, w1, w2, w3, w4, 2);
        // Rounds 60..80.
        schedule_rounds4!(h1, h0, w1, w2, w3, w4, w0, 3);
        schedule_rounds4!(h0, h1, w2, w3, w4, w0, w1, 3);
        schedule_rounds4!(h1, h0, w3, w4, w0, w1, w2, 3);
        schedule_rounds4!(h0, h1, w4, w0, w1, w2, w3, 3);
        schedule_rounds4!(h1, h0, w0, w1, w2, w3, w4, 3);

        self.abcd = _mm_add_epi32(self.abcd, h0);
        self.e = _mm_sha1nexte_epu32(h1, self.e);
    }
}
