//! Wildcard names of the static records file (RFC 4592): which node answers a name of the domain that
//! is not a node. The closest encloser is the nearest existing ancestor of the query name; only an
//! `*` label directly below it (the source of synthesis) answers, with its records owned by the query
//! name. Any existing name on the way, explicit or an empty non-terminal, blocks the wildcards above it.
//!
//! Wildcard names are nodes like any other (a literal `*` query finds them; zone transfers carry them);
//! what this module adds is the search on a miss, and the count that keeps a zone without wildcards
//! (every zone of generated names: task labels never keep a `*`) off that search entirely.

use super::chunk::DOMAIN;
use super::lookup::Node;
use super::Records;
use crate::wire::parents;

/// The first label of a wildcard name in wire form.
const STAR: &[u8] = b"\x01*";

/// `*.` and a name of at most 253 octets (the closest encloser is a proper ancestor of a name of at
/// most 255).
const MAX_SOURCE: usize = 256;

impl Records {
    /// Counts the wildcard names of a snapshot just built (a scan of the names, only when it is built:
    /// edits add task names, which never begin with `*`).
    pub(super) fn with_wildcards(mut self) -> Records {
        self.wildcards = self
            .chunks
            .iter()
            .map(|c| {
                (0..c.len())
                    .filter(|&i| c.kind(i) == Some(DOMAIN) && c.name(i).starts_with(STAR))
                    .count()
            })
            .sum();
        self
    }

    /// Number of wildcard names (`*` as the first label), at any depth.
    #[cfg(test)]
    pub fn wildcard_count(&self) -> usize {
        self.wildcards
    }

    /// The wildcard node whose records answer `wire`, a lower-case name under the domain that is not a
    /// node (RFC 4592 3.3.1): `*` below the closest encloser, if there is one. A zone without
    /// wildcards returns at once.
    #[inline]
    pub fn wildcard(&self, wire: &[u8]) -> Option<Node<'_>> {
        if self.wildcards == 0 {
            return None;
        }
        let id = source_of_synthesis(wire, |name| self.find(name))?;
        self.domain_node(id)
    }
}

/// The id of the source of synthesis for `qname` (not a name of the zone itself): the first ancestor
/// `find` knows is the closest encloser, and the answer is `*` below it, if `find` knows that. Pure,
/// allocation-free (the wildcard name is put together on the stack).
pub(super) fn source_of_synthesis(qname: &[u8], find: impl Fn(&[u8]) -> Option<u32>) -> Option<u32> {
    let encloser = parents(qname).find(|p| find(p).is_some())?;
    let mut buf = [0u8; MAX_SOURCE];
    let source = buf.get_mut(..STAR.len() + encloser.len())?;
    let (star, rest) = source.split_at_mut(STAR.len());
    star.copy_from_slice(STAR);
    rest.copy_from_slice(encloser);
    find(source)
}

#[cfg(test)]
mod tests;
