//! What a build of a snapshot to be edited counts besides its records ([`Records::build_counted`]):
//! each record's references (how many tasks generate it; the records of no task pinned) and each
//! node's uses (its records, the SRV and PTR records naming it, its names below), as adding every
//! task's records one by one to a build of the records of no task would leave them
//! ([`crate::snapshot::edit`]). Pure.
//!
//! [`Records::build_counted`]: crate::snapshot::Records::build_counted

use crate::snapshot::chunk::{CountFill, PINNED, PTR};
use crate::snapshot::data::Srv;
use crate::snapshot::names::prefetch;

const NONE: u32 = u32::MAX;

/// What a counted build needs to know of its list besides the records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counting<'a> {
    /// The records before this index are no task's: pinned.
    pub(crate) tasks_from: u32,
    /// The names before this id are the records of no task's (their nodes are pinned when no such
    /// record uses them, as a build of those records alone would leave them).
    pub(crate) base_names: u32,
    /// The records tasks generated again after an earlier one had (the list holds each once), each
    /// once per task, sorted: (record index, whether that task marked it for a PTR record).
    pub(crate) again: &'a [(u32, bool)],
}

/// Each domain node's parent, noted as the build makes the nodes.
#[derive(Debug, Default)]
pub(super) struct Tree {
    parent: Vec<u32>,
    base_names: u32,
    /// The nodes made for the names before `base_names` (and their ancestors) are below this.
    base_nodes: usize,
}

impl Tree {
    pub(super) fn new(base_names: u32) -> Tree {
        Tree {
            parent: Vec::new(),
            base_names,
            base_nodes: 0,
        }
    }

    /// The names before this id are the base names (the records of no task).
    pub(super) fn base_names(&self) -> u32 {
        self.base_names
    }

    /// Name `id` is next, with `nodes` made so far.
    pub(super) fn base_names_done(&mut self, id: u32, nodes: usize) {
        if id == self.base_names {
            self.base_nodes = nodes;
        }
    }

    pub(super) fn set(&mut self, node: u32, parent: u32) {
        if node == NONE {
            return;
        }
        let i = node as usize;
        if self.parent.len() <= i {
            self.parent.resize(i + 1, NONE);
        }
        if let Some(p) = self.parent.get_mut(i) {
            *p = parent;
        }
    }
}

/// The counts while the build places the records.
pub(super) struct Counts<'a> {
    tasks_from: u32,
    again: &'a [(u32, bool)],
    /// Where the records' and the PTR records' walks are in `again`.
    next: usize,
    next_ptr: usize,
    /// Per column (A, AAAA, SRV, PTR), per record.
    refs: [CountFill; 4],
    tree: Tree,
    /// Per base node: whether a record of no task uses it.
    base_used: Vec<bool>,
}

/// A counted build's counts, laid out as its columns and nodes.
pub(super) struct Counted {
    pub(super) refs: [CountFill; 4],
    pub(super) uses: Vec<u32>,
}

impl<'a> Counts<'a> {
    /// For columns of `totals` records.
    pub(super) fn new(counting: &Counting<'a>, totals: &[u32; 5], tree: Tree) -> Counts<'a> {
        Counts {
            tasks_from: counting.tasks_from,
            again: counting.again,
            next: 0,
            next_ptr: 0,
            refs: std::array::from_fn(|k| CountFill::zeroed(totals[k] as usize)),
            base_used: vec![false; tree.base_nodes],
            tree,
        }
    }

    /// The PTR record the record at `index` marks is at `at` of the PTR column, naming `target`.
    pub(super) fn ptr_placed(&mut self, at: u32, index: u32, target: u32) {
        let refs = if index < self.tasks_from {
            self.base_use(target);
            PINNED
        } else {
            1 + again(self.again, &mut self.next_ptr, index, true)
        };
        self.refs[PTR].set(at, refs);
    }

    /// The record at `index` is at `at` of column `k`, at node `node` (an SRV record's target:
    /// `target`, else `NONE`). Called in record order.
    pub(super) fn placed(&mut self, k: usize, at: u32, index: u32, node: u32, target: u32) {
        let refs = if index < self.tasks_from {
            self.base_use(node);
            self.base_use(target);
            PINNED
        } else {
            1 + again(self.again, &mut self.next, index, false)
        };
        if let Some(column) = self.refs.get_mut(k) {
            column.set(at, refs);
        }
    }

    /// Starts loading where [`placed`](Self::placed) will set the count at `at` of column `k`.
    #[inline]
    pub(super) fn prefetch(&self, k: usize, at: u32) {
        if let Some(column) = self.refs.get(k) {
            prefetch(column.get(at));
        }
    }

    fn base_use(&mut self, node: u32) {
        if let Some(used) = self.base_used.get_mut(node as usize) {
            *used = true;
        }
    }

    /// Each node's uses, once every record is placed (`starts`: where each node's records begin in
    /// each column, global; `srv`, `ptr`: those columns in their chunks' parts). The apex, and a
    /// base node that no record of no task uses, are pinned
    /// (as [`Records::start_counting`](crate::snapshot::Records::start_counting) pins them); a
    /// node nothing uses has none (the caller frees it).
    pub(super) fn finish(
        mut self,
        starts: &[[u32; 5]],
        srv: &[Vec<Srv>],
        ptr: &[Vec<u32>],
        first_reverse: u32,
    ) -> Counted {
        let mut uses: Vec<u32> = starts
            .windows(2)
            .map(|w| (0..5).map(|k| w[1][k].saturating_sub(w[0][k])).sum())
            .collect();
        let used = |uses: &mut Vec<u32>, n: u32| {
            if let Some(u) = uses.get_mut(n as usize) {
                *u += 1;
            }
        };
        let mut ahead = srv.iter().flatten().skip(super::AHEAD);
        for s in srv.iter().flatten() {
            prefetch(ahead.next().and_then(|a| uses.get(a.target as usize)));
            used(&mut uses, s.target);
        }
        for &p in ptr.iter().flatten() {
            used(&mut uses, p);
        }
        let parents = std::mem::take(&mut self.tree.parent);
        for (n, &p) in parents.iter().enumerate().take(first_reverse as usize).skip(1) {
            used(&mut uses, p);
            if n < self.tree.base_nodes {
                self.base_use(p);
            }
        }
        if let Some(apex) = uses.first_mut() {
            *apex = PINNED;
        }
        for (u, &b) in uses.iter_mut().zip(&self.base_used).skip(1) {
            if !b {
                *u = PINNED;
            }
        }
        Counted { refs: self.refs, uses }
    }
}

/// How many times `index` is in `again` (with `reverse_only`, marked for a PTR record), from the
/// cursor `next` on (indexes come in ascending order).
fn again(again: &[(u32, bool)], next: &mut usize, index: u32, reverse_only: bool) -> u32 {
    while again.get(*next).is_some_and(|&(i, _)| i < index) {
        *next += 1;
    }
    let mut n = 0;
    while let Some(&(_, reverse)) = again.get(*next).filter(|&&(i, _)| i == index) {
        n += u32::from(reverse || !reverse_only);
        *next += 1;
    }
    n
}
