//! `memcpy`, `memmove`, `memcmp` and `bcmp` for the static musl build (a module of the binary, not of
//! the library), in place of musl's: the linker takes a symbol the program defines before it looks in
//! libc.a. musl's `memcpy` starts a `rep movsq` for any size, then moves the tail a byte at a time,
//! and its `memcmp` compares a byte at a time; a refresh makes tens of millions of copies and
//! comparisons of a few dozen bytes (names, ids, hash-map keys), and with musl's they took 18% and 4%
//! of the static build's first refresh, against 3% and 4% for glibc's in the glibc build
//! (`perf record`, 100k tasks, `benches/refresh.sh`).
//!
//! Up to 64 bytes are moved with a few unaligned loads and stores that may overlap, all loads
//! before any store (so `memmove` is the same code); longer copies are one `rep movsb`, which the
//! CPUs of the last decade run at full speed (ERMS). Comparisons read 8 bytes at a time. No loop
//! here copies through Rust code, so the compiler cannot turn one into a call of these functions.
//! `memset` stays musl's (written in assembly, already fast for small sizes).
//!
//! The functions are plain Rust functions elsewhere (for the unit tests on any target).

use std::arch::asm;
use std::ffi::c_int;

// The C names, as aliases: were the Rust functions themselves named `memcpy` and so on, LLVM would
// take them for its own built-ins and compile them into calls of themselves.
#[cfg(target_env = "musl")]
std::arch::global_asm!(
    ".globl memcpy",
    ".set memcpy, musl_build_memcpy",
    ".globl memmove",
    ".set memmove, musl_build_memmove",
    ".globl memcmp",
    ".set memcmp, musl_build_memcmp",
    ".globl bcmp",
    ".set bcmp, musl_build_bcmp",
);

/// Copies `n <= 64` bytes from `src` to `dst`; the two may overlap.
#[inline(always)]
unsafe fn move_small(dst: *mut u8, src: *const u8, n: usize) {
    if n >= 32 {
        let a = src.cast::<u128>().read_unaligned();
        let b = src.add(16).cast::<u128>().read_unaligned();
        let c = src.add(n - 32).cast::<u128>().read_unaligned();
        let d = src.add(n - 16).cast::<u128>().read_unaligned();
        dst.cast::<u128>().write_unaligned(a);
        dst.add(16).cast::<u128>().write_unaligned(b);
        dst.add(n - 32).cast::<u128>().write_unaligned(c);
        dst.add(n - 16).cast::<u128>().write_unaligned(d);
    } else if n >= 16 {
        let a = src.cast::<u128>().read_unaligned();
        let b = src.add(n - 16).cast::<u128>().read_unaligned();
        dst.cast::<u128>().write_unaligned(a);
        dst.add(n - 16).cast::<u128>().write_unaligned(b);
    } else if n >= 8 {
        let a = src.cast::<u64>().read_unaligned();
        let b = src.add(n - 8).cast::<u64>().read_unaligned();
        dst.cast::<u64>().write_unaligned(a);
        dst.add(n - 8).cast::<u64>().write_unaligned(b);
    } else if n >= 4 {
        let a = src.cast::<u32>().read_unaligned();
        let b = src.add(n - 4).cast::<u32>().read_unaligned();
        dst.cast::<u32>().write_unaligned(a);
        dst.add(n - 4).cast::<u32>().write_unaligned(b);
    } else if n > 0 {
        let (a, b, c) = (*src, *src.add(n / 2), *src.add(n - 1));
        *dst = a;
        *dst.add(n / 2) = b;
        *dst.add(n - 1) = c;
    }
}

/// `rep movsb` forwards: right when `dst` does not start inside `src..src + n`.
#[inline(always)]
unsafe fn movsb_forward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY (of the caller): `n` bytes readable at `src`, writable at `dst`. The direction flag is
    // clear on entry to any function (the System V ABI).
    asm!("rep movsb", inout("rcx") n => _, inout("rdi") dst => _, inout("rsi") src => _,
         options(nostack, preserves_flags));
}

/// `memcpy`: `n` bytes from `src` to `dst`, which do not overlap.
///
/// # Safety
/// As C's `memcpy`.
#[cfg_attr(target_env = "musl", no_mangle)]
pub unsafe extern "C" fn musl_build_memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if n <= 64 {
        move_small(dst, src, n);
    } else {
        movsb_forward(dst, src, n);
    }
    dst
}

/// `memmove`: `n` bytes from `src` to `dst`, which may overlap.
///
/// # Safety
/// As C's `memmove`.
#[cfg_attr(target_env = "musl", no_mangle)]
pub unsafe extern "C" fn musl_build_memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if n <= 64 {
        move_small(dst, src, n);
    } else if (dst as usize).wrapping_sub(src as usize) >= n {
        // `dst` before `src`, or no overlap: forwards reads every byte before it is written over.
        movsb_forward(dst, src, n);
    } else {
        // `dst` inside `src..src + n`: backwards, from the last byte (rare: slow but right).
        asm!("std", "rep movsb", "cld",
             inout("rcx") n => _, inout("rdi") dst.add(n - 1) => _, inout("rsi") src.add(n - 1) => _,
             options(nostack));
    }
    dst
}

/// The sign of the first byte where the little-endian words `x` and `y` differ (they do).
#[inline(always)]
fn order(x: u64, y: u64) -> c_int {
    if x.swap_bytes() < y.swap_bytes() {
        -1
    } else {
        1
    }
}

/// `memcmp`: compares `n` bytes as unsigned, in order.
///
/// # Safety
/// As C's `memcmp`.
#[cfg_attr(target_env = "musl", no_mangle)]
pub unsafe extern "C" fn musl_build_memcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
    let word = |p: *const u8, at: usize| p.add(at).cast::<u64>().read_unaligned();
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            let (x, y) = (word(a, at), word(b, at));
            if x != y {
                return order(x, y);
            }
            at += 8;
        }
        // The last 8 bytes, overlapping words already equal.
        let (x, y) = (word(a, n - 8), word(b, n - 8));
        return if x == y { 0 } else { order(x, y) };
    }
    if n >= 4 {
        let word4 = |p: *const u8| {
            let head = p.cast::<u32>().read_unaligned().swap_bytes();
            let tail = p.add(n - 4).cast::<u32>().read_unaligned().swap_bytes();
            u64::from(head) << 32 | u64::from(tail)
        };
        let (x, y) = (word4(a), word4(b));
        return match x.cmp(&y) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        };
    }
    for i in 0..n {
        let (x, y) = (*a.add(i), *b.add(i));
        if x != y {
            return c_int::from(x) - c_int::from(y);
        }
    }
    0
}

/// `bcmp`: 0 when the `n` bytes are equal (what `==` on slices calls).
///
/// # Safety
/// As C's `bcmp`.
#[cfg_attr(target_env = "musl", no_mangle)]
pub unsafe extern "C" fn musl_build_bcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
    musl_build_memcmp(a, b, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that differ from offset to offset (and 0 and 255 among them).
    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(151).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn copies_every_length_at_every_alignment() {
        let src = pattern(400, 7);
        for n in 0..300 {
            for (s, d) in [(0, 0), (1, 0), (0, 3), (5, 7), (8, 1), (15, 16)] {
                let mut dst = vec![0xAAu8; 400];
                let (from, to) = (src[s..].as_ptr(), dst[d..].as_mut_ptr());
                // SAFETY: both ranges are inside their vectors (n + 16 <= 400).
                let ret = unsafe { musl_build_memcpy(to, from, n) };
                assert_eq!(ret, to);
                assert_eq!(dst[d..d + n], src[s..s + n], "n {n} at {s} -> {d}");
                assert!(
                    dst[..d].iter().chain(&dst[d + n..]).all(|&b| b == 0xAA),
                    "n {n}: wrote outside"
                );
            }
        }
    }

    #[test]
    fn moves_overlapping_ranges_either_way() {
        for n in 0..300 {
            for shift in [1usize, 3, 8, 15, 16, 33, 64, 65, 200] {
                let base = pattern(700, 3);
                // dst after src, then dst before src.
                for (s, d) in [(50, 50 + shift), (50 + shift, 50)] {
                    let mut buf = base.clone();
                    let mut want = base.clone();
                    want.copy_within(s..s + n, d);
                    // SAFETY: both ranges are inside `buf` (50 + 200 + 300 <= 700).
                    unsafe { musl_build_memmove(buf.as_mut_ptr().add(d), buf.as_ptr().add(s), n) };
                    assert_eq!(buf, want, "n {n}, {s} -> {d}");
                }
            }
        }
    }

    #[test]
    fn compares_like_slices_do() {
        for n in 0..100 {
            let a = pattern(n, 1);
            for i in 0..=n {
                let mut b = a.clone();
                if let Some(x) = b.get_mut(i) {
                    *x = x.wrapping_add(if i % 2 == 0 { 1 } else { 255 });
                }
                for (x, y) in [(&a, &b), (&b, &a), (&a, &a)] {
                    let want = x.cmp(y) as c_int;
                    // SAFETY: both are `n` bytes long.
                    let got = unsafe { musl_build_memcmp(x.as_ptr(), y.as_ptr(), n) };
                    assert_eq!(got.signum(), want, "n {n}, differing at {i}");
                    // SAFETY: as above.
                    let equal = unsafe { musl_build_bcmp(x.as_ptr(), y.as_ptr(), n) } == 0;
                    assert_eq!(equal, x == y);
                }
            }
        }
    }
}
