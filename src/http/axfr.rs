//! `/v1/axfr` (the original's `models.AXFR`) as a [`Cursor`] over one snapshot: the zone's SOA fields,
//! `RefreshSeconds` from the config, and every record set by type, name -> values (addresses, or
//! `target:port` for SRV). `Domain` has no trailing dot, the names and `Mname`/`Rname` have one. Reverse
//! (PTR) names are left out, as the original has none.
//!
//! The document is the one `serde_json` writes for the same value: compact, the fixed keys in sorted
//! order. The names inside `As`, `AAAAs` and `SRVs` come in node order rather than sorted (a JSON
//! object's members have no order; sorting a million names per request would cost what streaming
//! saves). Three passes over the nodes, one per record type.

use std::sync::Arc;

use super::body::{json_display, json_number, json_str, Cursor, Fill};
use crate::snapshot::{Node, Records};
use crate::wire::wire_to_text;

/// The record sets, in the order their keys sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Aaaa,
    A,
    Srv,
}

impl Set {
    fn key(self) -> &'static str {
        match self {
            Set::Aaaa => "AAAAs",
            Set::A => "As",
            Set::Srv => "SRVs",
        }
    }

    fn next(self) -> Option<Set> {
        match self {
            Set::Aaaa => Some(Set::A),
            Set::A => Some(Set::Srv),
            Set::Srv => None,
        }
    }

    fn len(self, node: &Node<'_>) -> usize {
        match self {
            Set::Aaaa => node.aaaa.len(),
            Set::A => node.a.len(),
            Set::Srv => node.srv.len(),
        }
    }
}

/// Where the cursor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Head,
    /// Inside a record set: the next value is value `value` of node `node` (`0`: the name is not
    /// written yet); `any`: a name of this set has been written (a comma goes before the next).
    Set {
        set: Set,
        node: u32,
        value: usize,
        any: bool,
    },
    Done,
}

/// The `/v1/axfr` document of one snapshot.
pub(super) struct Axfr {
    records: Arc<Records>,
    refresh_seconds: u64,
    at: At,
    /// Scratch for an SRV value's text.
    text: String,
}

impl Axfr {
    /// The document of `records`, with the config's `RefreshSeconds`.
    pub(super) fn new(records: Arc<Records>, refresh_seconds: u64) -> Axfr {
        Axfr {
            records,
            refresh_seconds,
            at: At::Head,
            text: String::new(),
        }
    }

    fn head(&self, out: &mut Vec<u8>) {
        let zone = self.records.zone();
        out.extend_from_slice(b"{\"Domain\":");
        json_str(out, &zone.domain);
        out.extend_from_slice(b",\"Mname\":");
        json_str(out, &zone.soa_mname);
        out.extend_from_slice(b",\"Records\":{");
    }

    fn tail(&self, out: &mut Vec<u8>) {
        let zone = self.records.zone();
        out.extend_from_slice(b"},\"RefreshSeconds\":");
        json_number(out, self.refresh_seconds);
        out.extend_from_slice(b",\"Rname\":");
        json_str(out, &zone.soa_rname);
        out.extend_from_slice(b",\"Serial\":");
        json_number(out, self.records.serial());
        out.extend_from_slice(b",\"TTL\":");
        json_number(out, zone.ttl);
        out.extend_from_slice(b"}\n");
    }
}

/// Appends value `i` of `set` at `node`; `text` is scratch.
fn write_value(out: &mut Vec<u8>, records: &Records, text: &mut String, set: Set, node: &Node<'_>, i: usize) {
    match set {
        Set::Aaaa => {
            if let Some(ip) = node.aaaa.get(i) {
                json_display(out, std::net::Ipv6Addr::from(*ip));
            }
        }
        Set::A => {
            if let Some(ip) = node.a.get(i) {
                json_display(out, std::net::Ipv4Addr::from(*ip));
            }
        }
        Set::Srv => {
            if let Some(srv) = node.srv.get(i) {
                text.clear();
                if let Some(target) = records.node(srv.target) {
                    text.push_str(&wire_to_text(target.name));
                }
                text.push(':');
                text.push_str(&srv.port.to_string());
                json_str(out, text);
            }
        }
    }
}

/// Opens record set `set`.
fn open(out: &mut Vec<u8>, set: Set) -> At {
    if set != Set::Aaaa {
        out.push(b',');
    }
    json_str(out, set.key());
    out.extend_from_slice(b":{");
    At::Set {
        set,
        node: 0,
        value: 0,
        any: false,
    }
}

impl Cursor for Axfr {
    fn fill(&mut self, out: &mut Vec<u8>, budget: usize) -> Fill {
        let stop = out.len().saturating_add(budget);
        let nodes = self.records.node_id_bound();
        // Nodes looked at without writing count against the budget too: a scan stays bounded.
        let mut steps = 0usize;
        while out.len() < stop && steps < budget {
            steps += 1;
            let (set, node_id, value, any) = match self.at {
                At::Done => return Fill::Done,
                At::Head => {
                    self.head(out);
                    self.at = open(out, Set::Aaaa);
                    continue;
                }
                At::Set { set, node, value, any } => (set, node, value, any),
            };
            if node_id >= nodes {
                out.push(b'}');
                self.at = match set.next() {
                    Some(next) => open(out, next),
                    None => {
                        self.tail(out);
                        At::Done
                    }
                };
                continue;
            }
            let next_node = At::Set {
                set,
                node: node_id + 1,
                value: 0,
                any,
            };
            let Some(node) = self.records.domain_node(node_id) else {
                self.at = next_node;
                continue;
            };
            let len = set.len(&node);
            if value >= len {
                if value > 0 {
                    out.push(b']');
                }
                self.at = next_node;
                continue;
            }
            if value == 0 {
                if any {
                    out.push(b',');
                }
                json_str(out, &wire_to_text(node.name));
                out.extend_from_slice(b":[");
            } else {
                out.push(b',');
            }
            write_value(out, &self.records, &mut self.text, set, &node, value);
            self.at = At::Set {
                set,
                node: node_id,
                value: value + 1,
                any: true,
            };
        }
        match self.at {
            At::Done => Fill::Done,
            _ => Fill::More,
        }
    }
}
