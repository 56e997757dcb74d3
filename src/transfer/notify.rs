//! NOTIFY (RFC 1996) as a state machine without a socket or a clock: when the snapshot served gets a
//! new serial, each secondary of `notify` is sent a NOTIFY for the zone (with the new SOA, signed with
//! the first TSIG key when there is one), again after 1, 2, 4 and 8 s until it answers, then given up
//! (its own refresh timer still brings it up to date). The event loop sends the messages from the DNS
//! UDP socket and hands back the responses that come to it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::rrs::{push_compressed, push_soa};
use super::tsig::{Keys, Signer};
use crate::snapshot::Records;
use crate::wire::{class, field, rtype, Header, Opcode, Rcode};

/// The NOTIFY opcode.
pub(crate) const OPCODE_NOTIFY: u16 = Opcode::NOTIFY.to_int();
/// Messages sent to one secondary for one serial, at most.
const ATTEMPTS: u32 = 5;
/// The wait before the first retry; it doubles after each.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// What became of the notifications, for the metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotifyStats {
    pub sent: u64,
    pub acknowledged: u64,
    pub given_up: u64,
}

/// One secondary still to be told.
#[derive(Debug)]
struct Pending {
    target: SocketAddr,
    id: u16,
    attempts: u32,
    due: Instant,
}

/// The notifications of the latest serial.
#[derive(Debug)]
pub(crate) struct Notifier {
    targets: Vec<SocketAddr>,
    /// The serial last announced (none before the first loaded snapshot).
    announced: Option<u32>,
    pending: Vec<Pending>,
    next_id: u16,
    pub(crate) stats: NotifyStats,
}

impl Notifier {
    /// A notifier for `targets`; `seed` starts the message IDs (they need not be secret: a response is
    /// taken only from the secondary asked).
    pub(crate) fn new(targets: Vec<SocketAddr>, seed: u16) -> Notifier {
        Notifier {
            targets,
            announced: None,
            pending: Vec::new(),
            next_id: seed,
            stats: NotifyStats::default(),
        }
    }

    /// Looks at the snapshot being served: a new serial (of a loaded snapshot) is announced to every
    /// secondary, replacing the notifications of the one before.
    pub(crate) fn serving(&mut self, records: &Records, now: Instant) {
        if self.targets.is_empty() || !records.is_loaded() || self.announced == Some(records.serial()) {
            return;
        }
        self.announced = Some(records.serial());
        self.pending.clear();
        for &target in &self.targets {
            self.next_id = self.next_id.wrapping_add(1);
            self.pending.push(Pending {
                target,
                id: self.next_id,
                attempts: 0,
                due: now,
            });
        }
    }

    /// Writes each message due at `now` into `out` and passes it to `send` with its target; `unix` is
    /// the time TSIG signs with.
    pub(crate) fn send_due(
        &mut self,
        records: &Records,
        keys: &Keys,
        now: Instant,
        unix: u64,
        out: &mut Vec<u8>,
        mut send: impl FnMut(SocketAddr, &[u8]),
    ) {
        let before = self.pending.len();
        self.pending.retain(|p| p.attempts < ATTEMPTS || p.due > now);
        self.stats.given_up += (before - self.pending.len()) as u64;
        for p in self.pending.iter_mut().filter(|p| p.due <= now) {
            message(records, keys, p.id, unix, out);
            send(p.target, out);
            self.stats.sent += 1;
            p.due = now + FIRST_RETRY * (1 << p.attempts.min(16));
            p.attempts += 1;
        }
    }

    /// Takes a response that came to the DNS socket from `peer`: true if it answers one of our
    /// notifications (which is then done).
    pub(crate) fn acknowledged(&mut self, peer: SocketAddr, response: &Header) -> bool {
        let id = response.id();
        if !response.is_response() || response.opcode() != Opcode::NOTIFY {
            return false;
        }
        let Some(i) = self.pending.iter().position(|p| p.id == id && p.target == peer) else {
            return false;
        };
        let code = response.rcode();
        if code != Rcode::NOERROR {
            log::warn!("NOTIFY to {peer}: answered with rcode {code}; not sent again for this serial");
        }
        self.pending.swap_remove(i);
        self.stats.acknowledged += 1;
        true
    }

    /// When the next message is due.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.due).min()
    }
}

/// A NOTIFY for the zone of `records` with its SOA (RFC 1996 3.7), signed with the first key if any.
fn message(records: &Records, keys: &Keys, id: u16, unix: u64, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(OPCODE_NOTIFY << field::OPCODE_SHIFT | field::AA).to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 0]);
    out.extend_from_slice(records.apex());
    out.extend_from_slice(&rtype::SOA.to_be_bytes());
    out.extend_from_slice(&class::IN.to_be_bytes());
    let mut soa = Vec::new();
    push_soa(&mut soa, records, records.soa_rdata());
    push_compressed(out, &soa, records.apex());
    if let Some(key) = keys.first() {
        Signer::unprompted(key).sign(out, unix, 0, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{RecordList, Zone};
    use crate::wire::{Message, Section};

    fn records(serial: u32) -> Records {
        Records::build(Zone::of_default_config(), &RecordList::new(), serial)
    }

    /// The messages due at `now`: (target, ID, the serial of the SOA they carry).
    fn due(n: &mut Notifier, r: &Records, now: Instant) -> Vec<(SocketAddr, u16, u32)> {
        let mut sent = Vec::new();
        let mut out = Vec::new();
        n.send_due(r, &Keys::default(), now, 0, &mut out, |to, m| {
            let msg = Message::parse(m).unwrap();
            assert_eq!(msg.opcode(), Opcode::NOTIFY);
            assert_eq!(msg.question().unwrap().qtype, rtype::SOA);
            let soa = msg.records(Section::Answer).next().unwrap();
            let serial = u32::from_be_bytes(soa.rdata[soa.rdata.len() - 20..][..4].try_into().unwrap());
            sent.push((to, msg.id(), serial));
        });
        sent
    }

    fn ack(id: u16) -> Header {
        let mut r = vec![0, 0, 0xa4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        r[..2].copy_from_slice(&id.to_be_bytes());
        Header::new_checked(&r).unwrap()
    }

    #[test]
    fn a_new_serial_is_sent_to_each_secondary_and_retried_with_backoff_until_answered() {
        let (a, b): (SocketAddr, SocketAddr) = ("127.0.0.1:5301".parse().unwrap(), "127.0.0.1:5302".parse().unwrap());
        let mut n = Notifier::new(vec![a, b], 7);
        let t0 = Instant::now();
        let r = records(10);
        n.serving(&r, t0);
        let first = due(&mut n, &r, t0);
        assert_eq!(first.iter().map(|m| (m.0, m.2)).collect::<Vec<_>>(), [(a, 10), (b, 10)]);
        assert!(due(&mut n, &r, t0 + Duration::from_millis(900)).is_empty());
        assert!(!n.acknowledged(b, &ack(first[0].1)), "a's ID from b is not an answer");
        assert!(n.acknowledged(a, &ack(first[0].1)));
        // b is retried after 1, 2, 4, 8 s, then given up.
        let mut at = t0;
        let mut retries = Vec::new();
        for wait in [1, 2, 4, 8] {
            at += Duration::from_secs(wait);
            retries.extend(due(&mut n, &r, at).into_iter().map(|m| m.0));
        }
        assert_eq!(retries, [b, b, b, b]);
        assert_eq!(n.next_deadline(), Some(at + Duration::from_secs(16)));
        assert!(due(&mut n, &r, at + Duration::from_secs(16)).is_empty());
        assert_eq!(n.next_deadline(), None);
        assert_eq!(
            n.stats,
            NotifyStats {
                sent: 6,
                acknowledged: 1,
                given_up: 1
            }
        );
        // The same serial again is not announced again; a new one is.
        n.serving(&r, at);
        assert_eq!(n.next_deadline(), None);
        n.serving(&records(11), at);
        assert_eq!(due(&mut n, &records(11), at).len(), 2);
    }
}
