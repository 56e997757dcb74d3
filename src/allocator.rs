//! The static musl build's global allocator: mimalloc, except that a block shrunk into a smaller size
//! class moves there ([`ShrinkingMiMalloc`]); [`moves_on_shrink`] is the rule, apart from the calls.
//!
//! mimalloc's `realloc` keeps a shrinking block where it is whenever the new size is at least half
//! the old one, so `shrink_to_fit` gives nothing back. The snapshot's chunks are built with room to
//! spare (a chunk's names get an eighth more than the last chunk's) and then shrunk: at 1M tasks their
//! blocks stayed in the larger size class, 25 MB resident beyond what the data's own size classes
//! take (`benches/refresh.sh 1M`, static build: 562 -> 537 MB after the first refresh). glibc's
//! `realloc` splits the block and frees the tail, so the glibc build never had this.

/// The largest block moved on a shrink: a copy of up to 1 MiB is cheap beside what filled it. A
/// larger block's spare tail is seldom touched, so it is not resident, and copying it whole on a
/// `shrink_to_fit` would raise the peak by the kept part.
const MOVE_ON_SHRINK_MAX: usize = 1 << 20;

/// Whether a block of `old` bytes (by its layout) shrunk to `new` moves to a new block: when a new
/// block of `new` bytes would hold fewer bytes (`fresh`, its size class) than this one does (`held`),
/// and the block is small enough to copy.
pub(crate) fn moves_on_shrink(old: usize, new: usize, held: usize, fresh: usize) -> bool {
    new > 0 && new < old && old <= MOVE_ON_SHRINK_MAX && fresh < held
}

/// mimalloc (`mimalloc::MiMalloc`) with a `realloc` that moves a block shrunk into a smaller size
/// class ([`moves_on_shrink`]); everything else is mimalloc's own.
#[cfg(target_env = "musl")]
pub(crate) struct ShrinkingMiMalloc;

#[cfg(target_env = "musl")]
// SAFETY: every call is mimalloc's own with the caller's layout; the moving `realloc` allocates with
// the new size and the old alignment, copies the `new_size` bytes the caller keeps (fewer than the old
// block holds), and frees the old block with its own layout, as `GlobalAlloc::realloc` requires; when
// the new block cannot be had, mimalloc's `realloc` (which keeps the block) answers instead.
unsafe impl std::alloc::GlobalAlloc for ShrinkingMiMalloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        mimalloc::MiMalloc.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        mimalloc::MiMalloc.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        mimalloc::MiMalloc.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // (The size classes are asked for only on a shrink: growth is mimalloc's alone.)
        if new_size < layout.size()
            && moves_on_shrink(
                layout.size(),
                new_size,
                mi_usable_size(ptr.cast()),
                mi_good_size(new_size),
            )
        {
            let smaller = std::alloc::Layout::from_size_align_unchecked(new_size, layout.align());
            let moved = mimalloc::MiMalloc.alloc(smaller);
            if !moved.is_null() {
                std::ptr::copy_nonoverlapping(ptr, moved, new_size);
                mimalloc::MiMalloc.dealloc(ptr, layout);
                return moved;
            }
        }
        mimalloc::MiMalloc.realloc(ptr, layout, new_size)
    }
}

#[cfg(target_env = "musl")]
extern "C" {
    /// The bytes the block at `ptr` holds (its size class's).
    fn mi_usable_size(ptr: *const std::ffi::c_void) -> usize;
    /// The bytes a new block of `size` would hold.
    fn mi_good_size(size: usize) -> usize;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shrink_into_a_smaller_class_moves() {
        // A chunk's names: room for 11,000 bytes (mimalloc's 12,288-byte class), 9,000 kept (10,240).
        assert!(moves_on_shrink(11_000, 9_000, 12_288, 10_240));
    }

    #[test]
    fn a_shrink_within_the_class_or_a_growth_stays() {
        assert!(!moves_on_shrink(11_000, 10_500, 12_288, 12_288));
        assert!(!moves_on_shrink(9_000, 11_000, 10_240, 12_288));
        assert!(!moves_on_shrink(11_000, 11_000, 12_288, 12_288));
        assert!(!moves_on_shrink(11_000, 0, 12_288, 8));
    }

    #[test]
    fn a_block_over_a_mebibyte_is_not_copied() {
        assert!(moves_on_shrink(MOVE_ON_SHRINK_MAX, 600_000, 1 << 20, 655_360));
        assert!(!moves_on_shrink(MOVE_ON_SHRINK_MAX + 1, 600_000, 1_179_648, 655_360));
    }

    /// The allocator itself (the test binary of the static build has it too:
    /// `cargo test --target x86_64-unknown-linux-musl --bin mesos-dns allocator`).
    #[cfg(target_env = "musl")]
    #[test]
    fn shrink_to_fit_hands_the_larger_class_back_and_keeps_the_bytes() {
        let mut names: Vec<u8> = Vec::with_capacity(11_000);
        names.extend((0..9_000u32).map(|i| (i % 251) as u8));
        // SAFETY: the Vec's own live block.
        let before = unsafe { mi_usable_size(names.as_ptr().cast()) };
        names.shrink_to_fit();
        // SAFETY: as above.
        let after = unsafe { mi_usable_size(names.as_ptr().cast()) };
        assert_eq!((before, after), (12_288, 10_240));
        assert!(names.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
        // Within the class: mimalloc keeps the block where it is.
        let kept = names.as_ptr();
        names.truncate(8_500);
        names.shrink_to_fit();
        assert_eq!(names.as_ptr(), kept);
        // Growth is mimalloc's own, and a large block shrinks in place.
        names.resize(2 << 20, 7);
        let large = names.as_ptr();
        names.truncate(1_500_000);
        names.shrink_to_fit();
        assert_eq!(names.as_ptr(), large);
        assert!(names[..8_500].iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    }
}
