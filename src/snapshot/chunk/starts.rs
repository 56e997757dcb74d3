//! Where each node of a chunk starts in each of its five columns ([`Starts`]): a row per node and
//! one past the last, chunk-local. Two bytes an entry while every column of the chunk holds fewer
//! than 65,536 records (all but a few chunks: 256 nodes of a dozen records), four once one does
//! (a name with that many SRV records): half the 20 bytes a node took (33 MB at a million tasks).

/// A row: where a node's data starts in the A, AAAA, SRV, PTR and other columns.
pub(in crate::snapshot) type Row = [u32; 5];

#[derive(Debug, Clone)]
pub(in crate::snapshot) enum Starts {
    Narrow(Vec<[u16; 5]>),
    Wide(Vec<Row>),
}

impl Default for Starts {
    fn default() -> Self {
        Starts::Narrow(Vec::new())
    }
}

impl Starts {
    /// The rows `rows` (ascending in each column, so the last is the largest).
    pub(in crate::snapshot) fn of(rows: impl ExactSizeIterator<Item = Row> + Clone) -> Starts {
        let fits = rows
            .clone()
            .last()
            .map_or(true, |r| r.iter().all(|&v| v <= u32::from(u16::MAX)));
        match fits {
            true => Starts::Narrow(rows.map(|r| r.map(|v| v as u16)).collect()),
            false => Starts::Wide(rows.collect()),
        }
    }

    /// Row `i`.
    #[inline]
    pub(in crate::snapshot) fn get(&self, i: usize) -> Option<Row> {
        match self {
            Starts::Narrow(rows) => rows.get(i).map(|r| r.map(u32::from)),
            Starts::Wide(rows) => rows.get(i).copied(),
        }
    }

    pub(in crate::snapshot) fn len(&self) -> usize {
        match self {
            Starts::Narrow(rows) => rows.len(),
            Starts::Wide(rows) => rows.len(),
        }
    }

    pub(in crate::snapshot) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last row.
    pub(in crate::snapshot) fn last(&self) -> Option<Row> {
        self.get(self.len().checked_sub(1)?)
    }

    /// Appends `row` (at least the last row in every column).
    pub(in crate::snapshot) fn push(&mut self, row: Row) {
        if row.iter().any(|&v| v > u32::from(u16::MAX)) {
            self.widen();
        }
        match self {
            Starts::Narrow(rows) => {
                super::room(rows, 1);
                rows.push(row.map(|v| v as u16));
            }
            Starts::Wide(rows) => {
                super::room(rows, 1);
                rows.push(row);
            }
        }
    }

    /// One more record in column `k` from row `from` on (a record inserted before them).
    pub(in crate::snapshot) fn add_one(&mut self, from: usize, k: usize) {
        let full = match self {
            Starts::Narrow(rows) => rows.last().is_some_and(|r| r[k] == u16::MAX),
            Starts::Wide(_) => false,
        };
        if full {
            self.widen();
        }
        match self {
            Starts::Narrow(rows) => rows.iter_mut().skip(from).for_each(|r| r[k] += 1),
            Starts::Wide(rows) => rows.iter_mut().skip(from).for_each(|r| r[k] += 1),
        }
    }

    /// One record less in column `k` from row `from` on.
    pub(in crate::snapshot) fn take_one(&mut self, from: usize, k: usize) {
        match self {
            Starts::Narrow(rows) => (rows.iter_mut().skip(from)).for_each(|r| r[k] = r[k].saturating_sub(1)),
            Starts::Wide(rows) => (rows.iter_mut().skip(from)).for_each(|r| r[k] = r[k].saturating_sub(1)),
        }
    }

    /// The heap bytes held.
    #[cfg(test)]
    pub(in crate::snapshot) fn heap_bytes(&self) -> usize {
        match self {
            Starts::Narrow(rows) => rows.capacity() * 10,
            Starts::Wide(rows) => rows.capacity() * 20,
        }
    }

    #[cfg(test)]
    pub(in crate::snapshot) fn shrink_to_fit(&mut self) {
        match self {
            Starts::Narrow(rows) => rows.shrink_to_fit(),
            Starts::Wide(rows) => rows.shrink_to_fit(),
        }
    }

    fn widen(&mut self) {
        if let Starts::Narrow(rows) = self {
            *self = Starts::Wide(rows.iter().map(|r| r.map(u32::from)).collect());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows read the same before and after a column passes two bytes' range, by inserts or by a
    /// build's rows, and back down.
    #[test]
    fn rows_past_two_bytes_read_as_plain_rows() {
        let plain: Vec<Row> = vec![[0; 5], [1, 0, 3, 0, 0], [1, 2, 65_530, 0, 0]];
        let mut starts = Starts::of(plain.iter().copied());
        assert!(matches!(starts, Starts::Narrow(_)));
        let mut want = plain.clone();
        for _ in 0..10 {
            starts.add_one(2, SRV);
            want[2][SRV] += 1;
        }
        assert!(
            matches!(starts, Starts::Wide(_)),
            "a column past 65,535 widens the chunk"
        );
        let read = |s: &Starts| (0..s.len()).filter_map(|i| s.get(i)).collect::<Vec<_>>();
        assert_eq!(read(&starts), want);
        starts.take_one(1, A);
        want[1][A] -= 1;
        want[2][A] -= 1;
        starts.push([1, 2, 70_000, 0, 0]);
        want.push([1, 2, 70_000, 0, 0]);
        assert_eq!(read(&starts), want);
        let built = Starts::of(want.iter().copied());
        assert!(matches!(built, Starts::Wide(_)));
        assert_eq!(read(&built), want);
        let mut narrow = Starts::default();
        narrow.push([0; 5]);
        narrow.push([0, 0, 65_536, 0, 0]);
        assert!(
            matches!(narrow, Starts::Wide(_)),
            "a pushed row past two bytes widens it"
        );
        assert_eq!(narrow.get(1), Some([0, 0, 65_536, 0, 0]));
        assert_eq!(narrow.get(2), None);
    }

    const SRV: usize = 2;
    const A: usize = 0;
}
