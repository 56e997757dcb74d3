//! The entries of a [`RecordList`](super::RecordList) in segments of [`SEGMENT`], so that a reader
//! that walks them in order can free those behind it ([`Entries::free_below`]): the bulk start
//! reads every task's records out of a 10-million-entry list while it fills the task table, and the
//! table grows as the list shrinks. A segment never moves once full (no copy as the list grows).

/// Entries per segment (a power of two): 768 KiB of 12-byte entries.
const SEGMENT_BITS: u32 = 16;
const SEGMENT: usize = 1 << SEGMENT_BITS;

/// A growable array of `T` in segments, indexed as one; segments below a point can be freed, after
/// which their indexes read as absent.
#[derive(Debug, Clone)]
pub(super) struct Entries<T> {
    segments: Vec<Vec<T>>,
    len: usize,
    /// Segments below this are freed.
    freed: usize,
}

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries {
            segments: Vec::new(),
            len: 0,
            freed: 0,
        }
    }
}

impl<T> Entries<T> {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    #[cfg(any(test, feature = "internals"))]
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn push(&mut self, value: T) {
        if self.segments.last().map_or(true, |s| s.len() >= SEGMENT) {
            self.segments.push(Vec::with_capacity(SEGMENT));
        }
        if let Some(s) = self.segments.last_mut() {
            s.push(value);
            self.len += 1;
        }
    }

    /// The entry at `index`; `None` past the end or below [`free_below`](Self::free_below)'s point.
    #[inline]
    pub(super) fn get(&self, index: usize) -> Option<&T> {
        self.segments.get(index >> SEGMENT_BITS)?.get(index & (SEGMENT - 1))
    }

    /// The entries at `range` that are kept, in order.
    pub(super) fn range(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = &T> + '_ {
        let (start, end) = (range.start.min(self.len), range.end.min(self.len));
        (start..end).filter_map(move |i| self.get(i))
    }

    /// Every kept entry, in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.segments.iter().flatten()
    }

    /// Frees the segments wholly below `index` (indexes keep their meaning; those entries are gone).
    pub(super) fn free_below(&mut self, index: usize) {
        let to = (index >> SEGMENT_BITS).min(self.segments.len());
        for s in self.segments.iter_mut().take(to).skip(self.freed) {
            *s = Vec::new();
        }
        self.freed = self.freed.max(to);
    }

    /// The heap bytes held (for tests and probes).
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        self.segments
            .iter()
            .map(|s| s.capacity() * std::mem::size_of::<T>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_indexed_as_one_array_and_freed_below_a_point() {
        let mut e = Entries::default();
        let n = 3 * SEGMENT + 5;
        for i in 0..n {
            e.push(i as u32);
        }
        assert_eq!(e.len(), n);
        assert_eq!(e.get(SEGMENT + 7), Some(&(SEGMENT as u32 + 7)));
        assert_eq!(e.get(n), None);
        assert!(e.iter().copied().eq(0..n as u32));
        assert!(e
            .range(SEGMENT - 2..SEGMENT + 2)
            .copied()
            .eq(SEGMENT as u32 - 2..SEGMENT as u32 + 2));
        let whole = e.heap_bytes();
        e.free_below(2 * SEGMENT + 1);
        assert_eq!(e.heap_bytes(), whole - 2 * SEGMENT * 4, "two whole segments freed");
        assert_eq!(e.get(SEGMENT), None, "a freed entry reads as absent");
        assert_eq!(
            e.get(2 * SEGMENT),
            Some(&(2 * SEGMENT as u32)),
            "a partly read segment stays"
        );
        assert_eq!(e.len(), n, "indexes keep their meaning");
        e.push(7);
        assert_eq!(e.get(n), Some(&7));
        e.free_below(usize::MAX);
        assert_eq!(e.get(n), None);
        assert_eq!(e.iter().count(), 0);
    }
}
