//! One zone transfer in progress, as a producer of messages: AXFR (RFC 5936: the SOA, every record, the
//! SOA again) or IXFR (RFC 1995: the current SOA, then for each change since the client's serial the
//! SOA before it, the records deleted, the SOA after it and the records added, then the current SOA
//! again), in messages of about [`MESSAGE_TARGET`] bytes, each signed when the request was. It holds the
//! `Arc` of the snapshot it started with, so a refresh that swaps a new one in does not change it. The
//! TCP connection asks for the next message when its output has room (`serve::tcp`).

use std::sync::Arc;

use super::rrs::{push_compressed, push_node, push_soa, rr_len};
use super::tsig::OwnedSigner;
use crate::snapshot::Records;
use crate::wire::{field, HEADER_LEN};

/// A message is closed once it holds this many bytes (a record never crosses the 64 KiB limit).
pub(crate) const MESSAGE_TARGET: usize = 32 * 1024;

/// Which records a transfer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// The whole zone.
    Axfr,
    /// The changes of the snapshot's journal from entry `from` on.
    Ixfr { from: usize },
}

/// A transfer being sent.
pub struct Transfer {
    records: Arc<Records>,
    plan: Plan,
    id: u16,
    /// The request's question (echoed in every message, as RFC 5936 2.2.1 allows).
    question: Vec<u8>,
    /// Opcode and RD copied from the request.
    flags: u16,
    signer: Option<OwnedSigner>,
    /// Held while the transfer lives: the count of running transfers ([`super::Policy`]).
    running: Option<super::Running>,
    /// The next segment of records to load (see [`Transfer::load`]), and the loaded one with the
    /// position of its next record.
    next_segment: usize,
    segment: Vec<u8>,
    at: usize,
    msg: Vec<u8>,
    done: bool,
    /// Bytes and messages produced so far.
    pub(crate) bytes: u64,
    pub(crate) messages: u64,
}

impl Transfer {
    pub(crate) fn new(
        records: Arc<Records>,
        plan: Plan,
        id: u16,
        question: &[u8],
        flags: u16,
        signer: Option<OwnedSigner>,
    ) -> Transfer {
        Transfer {
            records,
            plan,
            id,
            question: question.to_vec(),
            flags: flags & (field::OPCODE_MASK | field::RD),
            signer,
            running: None,
            next_segment: 0,
            segment: Vec::new(),
            at: 0,
            msg: Vec::with_capacity(MESSAGE_TARGET + 1024),
            done: false,
            bytes: 0,
            messages: 0,
        }
    }

    /// The transfer, counted among the running ones while it lives.
    pub(crate) fn counted_in(mut self, running: super::Running) -> Transfer {
        self.running = Some(running);
        self
    }

    pub fn plan(&self) -> Plan {
        self.plan
    }

    /// Whether every message has been produced.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// The next message (signed at `now`, Unix seconds), or `None` once the last one was given.
    pub fn next_message(&mut self, now: u64) -> Option<&[u8]> {
        if self.done {
            return None;
        }
        self.msg.clear();
        self.msg.extend_from_slice(&self.id.to_be_bytes());
        self.msg
            .extend_from_slice(&(field::QR | field::AA | self.flags).to_be_bytes());
        self.msg.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        self.msg.extend_from_slice(&self.question);
        let mut count: u16 = 0;
        loop {
            if self.at >= self.segment.len() {
                self.segment.clear();
                self.at = 0;
                if !self.load(self.next_segment) {
                    self.done = true;
                    break;
                }
                self.next_segment += 1;
                continue;
            }
            let Some(len) = rr_len(&self.segment[self.at..]) else {
                // Our own encoding: cannot happen; skip the rest of the segment rather than loop.
                self.at = self.segment.len();
                continue;
            };
            if count > 0 && (self.msg.len() + len > MESSAGE_TARGET || count == u16::MAX) {
                break;
            }
            let rr = &self.segment[self.at..self.at + len];
            push_compressed(&mut self.msg, rr, self.records.apex());
            self.at += len;
            count += 1;
        }
        self.msg[field::ANCOUNT].copy_from_slice(&count.to_be_bytes());
        if let Some(signer) = &mut self.signer {
            signer.sign(&mut self.msg, now);
        }
        self.bytes += self.msg.len() as u64;
        self.messages += 1;
        debug_assert!(self.msg.len() >= HEADER_LEN);
        Some(&self.msg)
    }

    /// Loads segment `i` of the plan into `segment`; false past the last.
    ///
    /// AXFR: 0 the SOA, 1..=n node i-1 (the apex first, with the NS records), n+1 the SOA.
    /// IXFR: 0 the SOA, then four per change (SOA before, deleted, SOA after, added), then the SOA.
    fn load(&mut self, i: usize) -> bool {
        let records = &*self.records;
        let out = &mut self.segment;
        match self.plan {
            Plan::Axfr => {
                let nodes = records.node_id_bound() as usize;
                if i == 0 || i == nodes + 1 {
                    push_soa(out, records, records.soa_rdata());
                } else if i <= nodes {
                    if let Some(node) = records.domain_node((i - 1) as u32) {
                        push_node(out, records, &node);
                    }
                } else {
                    return false;
                }
            }
            Plan::Ixfr { from } => {
                let changes = records.journal().get(from..).unwrap_or_default();
                let last = 1 + 4 * changes.len();
                if i == 0 || i == last {
                    push_soa(out, records, records.soa_rdata());
                } else if i < last {
                    let change = &changes[(i - 1) / 4];
                    match (i - 1) % 4 {
                        0 => push_soa(out, records, &change.from_soa),
                        1 => out.extend_from_slice(&change.deleted),
                        2 => push_soa(out, records, &change.to_soa),
                        _ => out.extend_from_slice(&change.added),
                    }
                } else {
                    return false;
                }
            }
        }
        true
    }
}
