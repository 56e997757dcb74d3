//! The journal of changes IXFR answers from, computed in the refresher's thread when a new snapshot is
//! about to be swapped in (never in the event loop): the records deleted and added since the snapshot
//! served now, name by name. A refresh that changed no record keeps the serial, so secondaries do not
//! transfer for nothing; one that did gets the new serial and the change appended to the journal,
//! which keeps the last changes within [`bound`] bytes (none when no one may transfer).

use super::rrs::{push_node, split};
use crate::config::Config;
use crate::snapshot::{Change, Lookup, Node, Records};

/// The bytes of changes kept for IXFR (a secondary further behind gets the whole zone): the
/// config's `ixfrJournalBytes`, or none at all when no one may transfer the zone (no
/// `transferAllowFrom` network and no `notify` secondary).
pub(crate) fn bound(config: &Config) -> usize {
    if config.transfer_allow_from.is_empty() && config.notify.is_empty() {
        return 0;
    }
    usize::try_from(config.ixfr_journal_bytes).unwrap_or(usize::MAX)
}

/// `next` as it is to be served after `previous`: with `previous`'s serial and journal when no record
/// changed, else with `serial` and the journal grown by the change; the journal kept within `bound`
/// bytes.
pub(crate) fn follow(previous: &Records, next: Records, serial: u32, bound: usize) -> Records {
    follow_names(previous, next, serial, bound, None)
}

/// [`follow`] for a snapshot edited from `previous` where only the records at `touched` (wire names)
/// may have changed: only those names are compared (a publish in stream mode costs what changed).
/// With `all` false they are only some of them (the first an edit touched): with no journal kept
/// (`bound` 0) a difference there says that the records changed, which is all that counts; otherwise
/// (none there, or a journal to write) every name is compared, as [`follow`] does.
pub(crate) fn follow_touched<'a>(
    previous: &Records,
    next: Records,
    serial: u32,
    bound: usize,
    mut touched: impl Iterator<Item = &'a [u8]>,
    all: bool,
) -> Records {
    follow_names(previous, next, serial, bound, Some((&mut touched, all)))
}

/// `touched`: the names that may have changed, and whether they are all of them.
fn follow_names(
    previous: &Records,
    next: Records,
    serial: u32,
    bound: usize,
    touched: Option<(&mut dyn Iterator<Item = &[u8]>, bool)>,
) -> Records {
    if !previous.is_loaded() || previous.apex() != next.apex() {
        return next.with_serial(serial);
    }
    // A change bigger than the bound is not kept: past it, only whether anything changed matters
    // (with no journal, the first differing record ends the comparison).
    let (deleted, added) = match touched {
        Some((names, true)) => diff_at(previous, &next, names, bound),
        Some((names, false)) if bound == 0 => match diff_at(previous, &next, names, bound) {
            (deleted, added) if deleted.is_empty() && added.is_empty() => diff(previous, &next, bound),
            found => found,
        },
        Some((_, false)) | None => diff(previous, &next, bound),
    };
    let next = next.with_serial(previous.serial());
    let soa_same = next.soa_rdata() == previous.soa_rdata();
    if deleted.is_empty() && added.is_empty() && soa_same {
        let journal = previous.journal().within(bound);
        return next.with_journal(journal);
    }
    let next = next.with_serial(serial);
    let change = Change {
        from_serial: previous.serial(),
        from_soa: previous.soa_rdata().into(),
        to_soa: next.soa_rdata().into(),
        deleted: deleted.into_boxed_slice(),
        added: added.into_boxed_slice(),
    };
    let journal = previous.journal().pushed(change, bound);
    next.with_journal(journal)
}

/// Whether the records found so far are more than a journal of `bound` bytes keeps (the comparison
/// then stops: at 100k tasks with a tenth replaced, writing the whole change out held 17 MB more at
/// each publish, `benches/soak.sh`).
fn past(bound: usize, deleted: &[u8], added: &[u8]) -> bool {
    deleted.len() + added.len() > bound
}

/// The records of `old` not in `new`, and those of `new` not in `old` (full form, one after the other);
/// cut short once they are more than `bound` bytes.
pub(super) fn diff(old: &Records, new: &Records, bound: usize) -> (Vec<u8>, Vec<u8>) {
    let (mut deleted, mut added) = (Vec::new(), Vec::new());
    let (mut old_rrs, mut new_rrs) = (Vec::new(), Vec::new());
    // With the same TTL and SRV weight, a node whose data is the same has the same records: compared
    // without writing them (most nodes, in most refreshes).
    let (oz, nz) = (old.zone(), new.zone());
    let same_zone = oz.ttl == nz.ttl && oz.srv_weight == nz.srv_weight;
    for (id, node) in (0..new.node_id_bound()).filter_map(|id| Some((id, new.domain_node(id)?))) {
        new_rrs.clear();
        old_rrs.clear();
        if let Some(was) = counterpart(old, id, node.name) {
            if same_zone && same_data(old, &was, new, &node) {
                continue;
            }
            push_node(&mut old_rrs, old, &was);
        }
        push_node(&mut new_rrs, new, &node);
        if new_rrs != old_rrs {
            set_difference(&old_rrs, &new_rrs, &mut deleted, &mut added);
            if past(bound, &deleted, &added) {
                return (deleted, added);
            }
        }
    }
    for (id, node) in (0..old.node_id_bound()).filter_map(|id| Some((id, old.domain_node(id)?))) {
        if counterpart(new, id, node.name).is_none() {
            push_node(&mut deleted, old, &node);
            if past(bound, &deleted, &added) {
                break;
            }
        }
    }
    (deleted, added)
}

/// [`diff`] of the records at these names alone.
fn diff_at(old: &Records, new: &Records, names: &mut dyn Iterator<Item = &[u8]>, bound: usize) -> (Vec<u8>, Vec<u8>) {
    let (mut deleted, mut added) = (Vec::new(), Vec::new());
    let (mut old_rrs, mut new_rrs) = (Vec::new(), Vec::new());
    for name in names {
        old_rrs.clear();
        new_rrs.clear();
        if let Some(n) = found(old, name) {
            push_node(&mut old_rrs, old, &n);
        }
        if let Some(n) = found(new, name) {
            push_node(&mut new_rrs, new, &n);
        }
        if new_rrs != old_rrs {
            set_difference(&old_rrs, &new_rrs, &mut deleted, &mut added);
            if past(bound, &deleted, &added) {
                break;
            }
        }
    }
    (deleted, added)
}

/// The node of `name` if it is one of the domain (reverse names are not in the zone a transfer sends).
fn found<'r>(records: &'r Records, name: &[u8]) -> Option<Node<'r>> {
    match records.lookup(name) {
        Lookup::Found(n) => Some(n),
        Lookup::Reverse(_) | Lookup::NotFound | Lookup::Outside => None,
    }
}

/// The node named `name` in `records`: most often at the same id (snapshots built from much the same
/// state intern names in the same order), else found by name.
fn counterpart<'r>(records: &'r Records, id: u32, name: &[u8]) -> Option<Node<'r>> {
    match records.domain_node(id) {
        Some(n) if n.name == name => Some(n),
        _ => match records.lookup(name) {
            Lookup::Found(n) => Some(n),
            _ => None,
        },
    }
}

/// Whether two nodes hold the same data in the same order (SRV targets compared by name, the apex's
/// NS names too).
fn same_data(old: &Records, a: &Node<'_>, new: &Records, b: &Node<'_>) -> bool {
    a.a == b.a
        && a.aaaa == b.aaaa
        && a.srv.len() == b.srv.len()
        && a.srv
            .iter()
            .zip(b.srv)
            .all(|(x, y)| x.port == y.port && old.name(x.target) == new.name(y.target))
        && a.extra.len() == b.extra.len()
        && a.extra.iter().zip(b.extra).all(|(x, y)| {
            x.rtype == y.rtype
                && a.blob.get(x.start as usize..x.end as usize) == b.blob.get(y.start as usize..y.end as usize)
        })
        && (!new.is_apex(b.name) || old.ns_names().eq(new.ns_names()))
}

/// Appends the records only in `old` to `deleted` and those only in `new` to `added` (as sets: a
/// record listed twice is one record).
fn set_difference(old: &[u8], new: &[u8], deleted: &mut Vec<u8>, added: &mut Vec<u8>) {
    let mut old: Vec<&[u8]> = split(old).collect();
    let mut new: Vec<&[u8]> = split(new).collect();
    old.sort_unstable();
    old.dedup();
    new.sort_unstable();
    new.dedup();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                deleted.extend_from_slice(a);
                i += 1;
            }
            (Some(a), None) => {
                deleted.extend_from_slice(a);
                i += 1;
            }
            (_, Some(b)) => {
                added.extend_from_slice(b);
                j += 1;
            }
            (None, None) => break,
        }
    }
}
