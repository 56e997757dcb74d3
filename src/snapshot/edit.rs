//! Editing a snapshot in place, record by record, for stream mode: a task's records are added when it
//! starts running and taken away when it stops, and the next snapshot is this one cloned, sharing
//! every chunk no edit touched ([`super::chunk`]).
//!
//! Several tasks can generate the same record (instances on one agent give `T.F.slave.D` the same
//! address), so each record counts the tasks that generate it and goes when the last one does; the
//! records that are no task's (frameworks, agents, masters) are pinned. Each node counts its uses (its
//! records, the SRV and PTR records naming it, its names below) and goes when it has none, so that names and
//! their empty non-terminals exist exactly as a full build of the same records would make them.

use std::sync::Arc;

#[cfg(test)]
use super::chunk::CountColumn;
use super::chunk::{name_in, Chunk, A, AAAA, CHUNK, CHUNK_BITS, DOMAIN, FREE, PINNED, PTR, REVERSE, SRV};
use super::data::Srv;
use super::list::Data;
use super::Records;
use crate::wire::{is_at_or_below, parents};

/// One record as an edit names it: its data, with SRV and PTR targets by wire name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rr<'a> {
    A([u8; 4]),
    Aaaa([u8; 16]),
    Srv {
        port: u16,
        target: &'a [u8],
    },
    /// At a reverse name: the name it points back to.
    Ptr(&'a [u8]),
}

/// A record's value in its column, targets by node id.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Value {
    A([u8; 4]),
    Aaaa([u8; 16]),
    Srv(Srv),
    Ptr(u32),
}

impl Records {
    /// Prepares a snapshot built from the records of no task (frameworks, agents, masters) for edits:
    /// each of them pinned (no task's removal takes it away, even one that generated it too), every
    /// node's uses counted. Tasks then [`add`](Self::add) theirs. (A counted build,
    /// [`Records::build_counted`], does it all at once; tests compare the two.)
    #[cfg(test)]
    pub fn start_counting(&mut self) {
        self.counting = true;
        let mut uses = vec![0u32; self.node_id_bound() as usize];
        for id in 0..self.node_id_bound() {
            let Some(node) = self.node(id) else { continue };
            let (chunk, i) = self.place(id);
            let own: usize = (0..5).map(|k| self.chunks[chunk].range(i, k).len()).sum();
            if let Some(u) = uses.get_mut(id as usize) {
                *u += own as u32;
            }
            for target in node.srv.iter().map(|s| s.target).chain(node.ptr.iter().copied()) {
                if let Some(u) = uses.get_mut(target as usize) {
                    *u += 1;
                }
            }
            if self.domain_node(id).is_some() && !self.is_apex(node.name) {
                if let Some(parent) = parents(node.name).next().and_then(|p| self.find(p)) {
                    if let Some(u) = uses.get_mut(parent as usize) {
                        *u += 1;
                    }
                }
            }
        }
        for (c, chunk) in self.chunks.iter_mut().enumerate() {
            let chunk = Arc::make_mut(chunk);
            chunk.counting = true;
            chunk.refs = [
                CountColumn::of(&vec![PINNED; chunk.a.len()]),
                CountColumn::of(&vec![PINNED; chunk.aaaa.len()]),
                CountColumn::of(&vec![PINNED; chunk.srv.len()]),
                CountColumn::of(&vec![PINNED; chunk.ptr.len()]),
            ];
            let from = c * CHUNK;
            // A node nothing uses (the apex; a name whose records were all skipped) stays for good.
            let own: Vec<u32> = (0..chunk.len())
                .map(|i| match uses.get(from + i) {
                    _ if chunk.kind(i) == Some(FREE) => 0,
                    Some(&u) if u > 0 && from + i != 0 => u,
                    _ => PINNED,
                })
                .collect();
            chunk.uses = CountColumn::of(&own);
        }
    }

    /// Frees the nodes of a counted build that nothing uses (a name none of whose records could be
    /// stored), as taking their last record away would: adding records one by one never makes them.
    pub(super) fn release_unused(&mut self) {
        let mut unused = Vec::new();
        for (c, chunk) in self.chunks.iter().enumerate() {
            let zero = chunk.uses.iter().enumerate().filter(|&(_, u)| u == 0);
            unused.extend(zero.map(|(i, _)| (c * CHUNK + i) as u32));
        }
        for id in unused {
            let (c, i) = self.place(id);
            if let Some(chunk) = self.chunks.get_mut(c) {
                Arc::make_mut(chunk).uses.set(i, 1);
            }
            self.release(id);
        }
    }

    /// Every node's uses and its records' references by name, as text (tests compare the counts of
    /// two snapshots so; node ids differ between them).
    #[cfg(test)]
    pub(crate) fn describe_counts(&self) -> std::collections::BTreeMap<String, (String, Vec<String>)> {
        use crate::wire::wire_to_text;
        let count = |n: u32| match n {
            PINNED => "pinned".to_owned(),
            n => n.to_string(),
        };
        let target = |id: u32| self.name(id).map(wire_to_text).unwrap_or_default();
        let mut out = std::collections::BTreeMap::new();
        for id in 0..self.node_id_bound() {
            let Some(node) = self.node(id) else { continue };
            let (c, i) = self.place(id);
            let chunk = &self.chunks[c];
            let uses = chunk.uses.get(i).map_or("none".to_owned(), count);
            let refs = |k: usize, at: usize| chunk.refs[k].get(at).map_or("none".to_owned(), count);
            let mut rrs = Vec::new();
            for (j, ip) in node.a.iter().enumerate() {
                rrs.push(format!("A {ip:?} {}", refs(A, chunk.range(i, A).start + j)));
            }
            for (j, ip) in node.aaaa.iter().enumerate() {
                rrs.push(format!("AAAA {ip:?} {}", refs(AAAA, chunk.range(i, AAAA).start + j)));
            }
            for (j, s) in node.srv.iter().enumerate() {
                let r = refs(SRV, chunk.range(i, SRV).start + j);
                rrs.push(format!("SRV {} {} {r}", s.port, target(s.target)));
            }
            let ptrs = chunk.ptr.get(chunk.range(i, PTR)).unwrap_or_default();
            for (j, &p) in ptrs.iter().enumerate() {
                rrs.push(format!(
                    "PTR {} {}",
                    target(p),
                    refs(PTR, chunk.range(i, PTR).start + j)
                ));
            }
            rrs.sort();
            out.insert(wire_to_text(node.name), (uses, rrs));
        }
        out
    }

    /// Heap bytes of the chunks, and of their edit counts among them (the start probe's breakdown).
    #[cfg(test)]
    pub(crate) fn chunk_bytes(&self) -> (usize, usize) {
        fn cap<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        let (mut all, mut counts) = (0, 0);
        for c in &self.chunks {
            let c = &**c;
            let n = c.uses.heap_bytes() + c.refs.iter().map(CountColumn::heap_bytes).sum::<usize>();
            counts += n;
            all += n
                + cap(&c.names.arena)
                + cap(&c.names.spans)
                + cap(&c.names.kinds)
                + c.starts.heap_bytes()
                + cap(&c.a)
                + cap(&c.aaaa);
            all += cap(&c.srv) + cap(&c.ptr) + cap(&c.extra) + cap(&c.blob);
        }
        (all, counts)
    }

    /// How many of its chunks and index shards are shared with `other` (an edit's probe: what
    /// copy-on-write copied), of how many.
    #[cfg(test)]
    pub(crate) fn shared_with(&self, other: &Records) -> ((usize, usize), (usize, usize)) {
        (
            super::shared_arcs(&self.chunks, &other.chunks),
            self.index.shared_with(&other.index),
        )
    }

    /// What edits could make grow (the edit probe prints it a round; a test bounds it).
    #[cfg(test)]
    pub(crate) fn edit_shape(&self) -> EditShape {
        let (names, slots, probes, longest_probe) = self.index.probe_lengths(|id| name_in(&self.chunks, id));
        let mut shape = EditShape {
            chunks: self.chunks.len(),
            free_ids: self.free.len(),
            names,
            slots,
            probes,
            longest_probe,
            ..EditShape::default()
        };
        for c in &self.chunks {
            shape.name_bytes += c.names.arena.capacity();
            shape.live_name_bytes += c.names.live_bytes();
            shape.records += c.a.len() + c.aaaa.len() + c.srv.len() + c.ptr.len();
            shape.room += c.a.capacity() + c.aaaa.capacity() + c.srv.capacity() + c.ptr.capacity();
        }
        shape
    }

    /// Frees the room edits left in the arrays (after adding a whole cluster's tasks).
    #[cfg(test)]
    pub fn shrink_to_fit(&mut self) {
        for chunk in &mut self.chunks {
            Arc::make_mut(chunk).shrink_to_fit();
        }
        self.free.shrink_to_fit();
    }

    /// Adds one task's reference to a record at `owner` (lower-case wire form), making the record and
    /// its names when it is new; false when it cannot be stored (an owner outside the domain, or a
    /// reverse name inside it; no counting).
    pub fn add(&mut self, owner: &[u8], rr: Rr<'_>) -> bool {
        self.add_stored(owner, rr).is_some()
    }

    /// [`Records::add`], returning the owner's node id and the record's data as stored (an SRV
    /// record's target by node id; `None` for PTR records), so that a caller keeping a task's records
    /// needs no second look-up of either name.
    pub(crate) fn add_stored(&mut self, owner: &[u8], rr: Rr<'_>) -> Option<(u32, Option<Data>)> {
        if !self.counting || !self.belongs(owner, rr) {
            return None;
        }
        let kind = if matches!(rr, Rr::Ptr(_)) { REVERSE } else { DOMAIN };
        let value = self.value_making(rr)?;
        let id = self.ensure(owner, kind)?;
        let stored = match value {
            Value::A(ip) => Some(Data::A(ip)),
            Value::Aaaa(ip) => Some(Data::Aaaa(ip)),
            Value::Srv(srv) => Some(Data::Srv {
                target: srv.target,
                port: srv.port,
            }),
            Value::Ptr(_) => None,
        };
        let (c, i) = self.place(id);
        let k = column(value);
        if let Some(at) = self.position(c, i, value) {
            let chunk = Arc::make_mut(&mut self.chunks[c]);
            if let Some(r) = chunk.refs[k].get(at).filter(|&r| r != PINNED) {
                chunk.refs[k].set(at, r.saturating_add(1).min(PINNED - 1));
            }
            return Some((id, stored));
        }
        let chunk = Arc::make_mut(&mut self.chunks[c]);
        match value {
            Value::A(v) => chunk.insert(i, k, v, |ch| &mut ch.a),
            Value::Aaaa(v) => chunk.insert(i, k, v, |ch| &mut ch.aaaa),
            Value::Srv(v) => chunk.insert(i, k, v, |ch| &mut ch.srv),
            Value::Ptr(v) => chunk.insert(i, k, v, |ch| &mut ch.ptr),
        };
        self.totals.columns[k] += 1;
        self.used(id);
        if let Some(target) = target_of(value) {
            self.used(target);
        }
        Some((id, stored))
    }

    /// Takes one task's reference to a record away, and the record with the last one (and the names
    /// nothing uses any more); false when there is no such record.
    pub fn remove(&mut self, owner: &[u8], rr: Rr<'_>) -> bool {
        if !self.counting {
            return false;
        }
        let (Some(id), Some(value)) = (self.find(owner), self.value_found(rr)) else {
            return false;
        };
        let (c, i) = self.place(id);
        let Some(at) = self.position(c, i, value) else {
            return false;
        };
        let k = column(value);
        let chunk = Arc::make_mut(&mut self.chunks[c]);
        match chunk.refs[k].get(at) {
            Some(PINNED) => return true,
            Some(r) if r > 1 => {
                chunk.refs[k].set(at, r - 1);
                return true;
            }
            _ => {}
        }
        match value {
            Value::A(_) => chunk.remove(i, k, at, |ch| &mut ch.a),
            Value::Aaaa(_) => chunk.remove(i, k, at, |ch| &mut ch.aaaa),
            Value::Srv(_) => chunk.remove(i, k, at, |ch| &mut ch.srv),
            Value::Ptr(_) => chunk.remove(i, k, at, |ch| &mut ch.ptr),
        }
        self.totals.columns[k] = self.totals.columns[k].saturating_sub(1);
        self.release(id);
        if let Some(target) = target_of(value) {
            self.release(target);
        }
        true
    }

    /// Whether a record at `owner` is one this snapshot stores: names of the domain, and reverse names
    /// outside it (a domain under `arpa` holds them already).
    fn belongs(&self, owner: &[u8], rr: Rr<'_>) -> bool {
        let inside = is_at_or_below(owner, &self.apex);
        match rr {
            Rr::Ptr(target) => !inside && is_at_or_below(target, &self.apex),
            Rr::Srv { target, .. } => inside && is_at_or_below(target, &self.apex),
            Rr::A(_) | Rr::Aaaa(_) => inside,
        }
    }

    fn value_making(&mut self, rr: Rr<'_>) -> Option<Value> {
        Some(match rr {
            Rr::A(ip) => Value::A(ip),
            Rr::Aaaa(ip) => Value::Aaaa(ip),
            Rr::Srv { port, target } => Value::Srv(Srv {
                port,
                target: self.ensure(target, DOMAIN)?,
            }),
            Rr::Ptr(target) => Value::Ptr(self.find(target)?),
        })
    }

    fn value_found(&self, rr: Rr<'_>) -> Option<Value> {
        Some(match rr {
            Rr::A(ip) => Value::A(ip),
            Rr::Aaaa(ip) => Value::Aaaa(ip),
            Rr::Srv { port, target } => Value::Srv(Srv {
                port,
                target: self.find(target)?,
            }),
            Rr::Ptr(target) => Value::Ptr(self.find(target)?),
        })
    }

    /// Chunk index and place of a node id.
    fn place(&self, id: u32) -> (usize, usize) {
        ((id >> CHUNK_BITS) as usize, id as usize & (CHUNK - 1))
    }

    /// Where `value` is in node `i` of chunk `c`.
    fn position(&self, c: usize, i: usize, value: Value) -> Option<usize> {
        let chunk = self.chunks.get(c)?;
        let range = chunk.range(i, column(value));
        let start = range.start;
        let found = match value {
            Value::A(v) => chunk.a.get(range)?.iter().position(|x| *x == v),
            Value::Aaaa(v) => chunk.aaaa.get(range)?.iter().position(|x| *x == v),
            Value::Srv(v) => chunk.srv.get(range)?.iter().position(|x| *x == v),
            Value::Ptr(v) => chunk.ptr.get(range)?.iter().position(|x| *x == v),
        };
        found.map(|p| start + p)
    }

    /// The node of `wire`, made (with no uses yet) when it is new; a new name of the domain is a use
    /// of its parent, made in turn.
    fn ensure(&mut self, wire: &[u8], kind: u8) -> Option<u32> {
        if let Some(id) = self.find(wire) {
            return Some(id);
        }
        if kind == DOMAIN && wire.len() <= self.apex.len() {
            return None; // the apex exists; anything shorter is outside
        }
        let id = match self.free.pop() {
            Some(id) => {
                let (c, i) = self.place(id);
                Arc::make_mut(self.chunks.get_mut(c)?).reuse_node(i, wire, kind);
                id
            }
            None => {
                if self.chunks.last().map_or(true, |c| c.len() >= CHUNK) {
                    self.chunks.push(Arc::new(Chunk {
                        counting: true,
                        ..Chunk::default()
                    }));
                }
                let c = self.chunks.len() - 1;
                let chunk = Arc::make_mut(self.chunks.last_mut()?);
                let i = chunk.push_node(wire, kind);
                ((c * CHUNK) + i) as u32
            }
        };
        let chunks = &self.chunks;
        self.index.insert(wire, id, |id| name_in(chunks, id));
        self.totals.names += 1;
        if kind == DOMAIN {
            if let Some(parent) = parents(wire).next() {
                if let Some(p) = self.ensure(parent, DOMAIN) {
                    self.used(p);
                }
            }
        }
        Some(id)
    }

    /// One more use of node `id`.
    fn used(&mut self, id: u32) {
        let (c, i) = self.place(id);
        let Some(chunk) = self.chunks.get_mut(c) else { return };
        let chunk = Arc::make_mut(chunk);
        if let Some(u) = chunk.uses.get(i).filter(|&u| u != PINNED) {
            chunk.uses.set(i, u.saturating_add(1).min(PINNED - 1));
        }
    }

    /// One use of node `id` less; with none left, the node goes, and with it a use of its parent.
    fn release(&mut self, id: u32) {
        let (c, i) = self.place(id);
        let Some(chunk) = self.chunks.get_mut(c) else { return };
        let chunk = Arc::make_mut(chunk);
        let Some(u) = chunk.uses.get(i) else { return };
        if u == PINNED {
            return;
        }
        chunk.uses.set(i, u.saturating_sub(1));
        if u > 1 {
            return;
        }
        let name = chunk.name(i).to_vec();
        let kind = chunk.kind(i).unwrap_or(FREE);
        let chunks = &self.chunks;
        self.index.remove(&name, id, |id| name_in(chunks, id));
        if let Some(chunk) = self.chunks.get_mut(c) {
            Arc::make_mut(chunk).free_node(i);
        }
        self.free.push(id);
        self.totals.names = self.totals.names.saturating_sub(1);
        if kind == DOMAIN {
            if let Some(parent) = parents(&name).next().and_then(|p| self.find(p)) {
                self.release(parent);
            }
        }
    }
}

/// What edits could make grow in a snapshot ([`Records::edit_shape`]).
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EditShape {
    pub(crate) chunks: usize,
    /// Node ids freed and not taken again.
    pub(crate) free_ids: usize,
    /// Names in the index, its slots, their total distance from their home slots, the longest.
    pub(crate) names: usize,
    pub(crate) slots: usize,
    pub(crate) probes: usize,
    pub(crate) longest_probe: usize,
    /// Bytes the chunks hold for names, and the live names' bytes.
    pub(crate) name_bytes: usize,
    pub(crate) live_name_bytes: usize,
    /// A, AAAA, SRV and PTR records, and the room their arrays hold.
    pub(crate) records: usize,
    pub(crate) room: usize,
}

#[cfg(test)]
mod tests;

/// The node an SRV or PTR record names (a use of it).
fn target_of(value: Value) -> Option<u32> {
    match value {
        Value::Srv(s) => Some(s.target),
        Value::Ptr(t) => Some(t),
        Value::A(_) | Value::Aaaa(_) => None,
    }
}

fn column(value: Value) -> usize {
    match value {
        Value::A(_) => A,
        Value::Aaaa(_) => AAAA,
        Value::Srv(_) => SRV,
        Value::Ptr(_) => PTR,
    }
}
