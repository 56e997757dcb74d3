//! The legs of a pending query: which resolver is asked next (the first not asked yet that is up,
//! else the first not asked yet), sending to it with a fresh ID and its timers (timeout, health
//! check, hedging delay), a second resolver asked when the first is slow, probes of resolvers that
//! are down, and what a leg ending without an answer means for its query.

use std::cmp::Reverse;
use std::net::SocketAddr;
use std::time::Instant;

use super::{Attempt, Client, Io, Leg, Pending, Table, TcpConn, Timer, Via, MAX_LEGS, MAX_PENDING, PROBE_QUERY};
use crate::answer::Transport;
use crate::forward::health::PROBE_TIMEOUT;
use crate::wire::read_u16;

impl Table {
    /// Which leg of which pending query `attempt` is, if it is still in flight.
    pub(super) fn current(&self, attempt: Attempt) -> Option<usize> {
        self.pending
            .get(attempt.slot)
            .and_then(Option::as_ref)?
            .leg(attempt.number)
    }

    /// The pending query and leg that a datagram with the ID of `msg` on `socket` belongs to.
    pub(super) fn udp_leg(&self, socket: usize, msg: &[u8]) -> Option<(usize, usize)> {
        let id = read_u16(msg, 0)?;
        let &slot = self.by_id.get(&(socket, id))?;
        let p = self.pending.get(slot).and_then(Option::as_ref)?;
        let k = p.legs.iter().position(|l| {
            l.is_some_and(|l| matches!(l.via, Via::Udp { socket: s, id: i } if s == socket && i == id))
        })?;
        Some((slot, k))
    }

    /// The pending query and leg whose attempt is TCP connection `conn`.
    pub(super) fn on_conn(&self, conn: usize) -> Option<(usize, usize)> {
        let slot = self.tcp.get(conn).and_then(Option::as_ref)?.slot;
        let p = self.pending.get(slot).and_then(Option::as_ref)?;
        let k = p
            .legs
            .iter()
            .position(|l| l.is_some_and(|l| l.via == Via::Tcp { conn }))?;
        Some((slot, k))
    }

    pub(super) fn new_slot(&mut self, p: Pending) -> usize {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.pending.push(None);
            self.pending.len() - 1
        });
        self.pending[slot] = Some(p);
        slot
    }

    /// Probes `upstream`, which is down, with [`PROBE_QUERY`].
    pub(super) fn probe(&mut self, upstream: SocketAddr, now: Instant) {
        if self.pending_count() >= MAX_PENDING {
            self.health.on_probe_failed(upstream, false, now);
            return;
        }
        let slot = self.new_slot(Pending {
            client: Client::Prefetch,
            client_id: 0,
            wire: PROBE_QUERY.into(),
            list: 0,
            asked: 0,
            legs: [None; MAX_LEGS],
            truncated: None,
            serial: 0,
            probe: Some(upstream),
            cookie: None,
        });
        if !self.start_leg(slot, upstream, false, now) {
            self.take(slot);
            self.health.on_probe_failed(upstream, false, now);
        }
    }

    /// The hedging delay of `attempt` passed without an answer: the next resolver is asked too, if
    /// there is one and the query is not a probe or the TCP retry of a truncated answer.
    pub(super) fn hedge(&mut self, attempt: Attempt, now: Instant) {
        if self.current(attempt).is_none() {
            return;
        }
        let Some(p) = self.pending.get(attempt.slot).and_then(Option::as_ref) else {
            return;
        };
        if p.probe.is_none() && p.truncated.is_none() && p.in_flight() < MAX_LEGS {
            let over_tcp = p.client.transport() == Transport::Tcp;
            self.ask_next(attempt.slot, over_tcp, true, now);
        }
    }

    /// The index in the list of the resolver to ask next: the first not asked yet that is up, else
    /// (so when every resolver is down, all are tried in order) the first not asked yet. A hedge (the
    /// resolver asked is only slow) goes to one that is up, unless none of the list is.
    pub(super) fn next_index(&self, p: &Pending, hedge: bool) -> Option<usize> {
        let list = self.upstreams.list(p.list);
        let unasked = |i: &usize| *i < 64 && p.asked & (1 << i) == 0;
        let mut candidates = (0..list.len()).filter(unasked);
        let first = candidates.clone().next()?;
        let up = candidates.find(|&i| self.health.is_up(list[i]));
        if hedge && list.iter().any(|a| self.health.is_up(*a)) {
            return up;
        }
        Some(up.unwrap_or(first))
    }

    /// Asks the next resolver of `slot`'s list (skipping those that cannot even be asked; see
    /// [`Table::next_index`] for `hedge`); false if none is left.
    pub(super) fn ask_next(&mut self, slot: usize, over_tcp: bool, hedge: bool, now: Instant) -> bool {
        loop {
            let Some(p) = self.pending.get(slot).and_then(Option::as_ref) else {
                return false;
            };
            if p.probe.is_some() {
                return false;
            }
            let Some(i) = self.next_index(p, hedge) else {
                return false;
            };
            let Some(&upstream) = self.upstreams.list(p.list).get(i) else {
                return false;
            };
            if let Some(p) = self.pending.get_mut(slot).and_then(Option::as_mut) {
                p.asked |= 1 << i;
            }
            if self.start_leg(slot, upstream, over_tcp, now) {
                return true;
            }
            // No socket of the resolver's address family, or no random ID.
            log::debug!("relay to {upstream}: cannot send");
            self.stats.errors += 1;
        }
    }

    /// Sends `slot`'s query to `upstream` as a new leg, with its timers; false if it cannot be sent.
    pub(super) fn start_leg(&mut self, slot: usize, upstream: SocketAddr, over_tcp: bool, now: Instant) -> bool {
        let Some(p) = self.pending.get(slot).and_then(Option::as_ref) else {
            return false;
        };
        let Some(k) = p.legs.iter().position(Option::is_none) else {
            return false;
        };
        let (probe, hedged) = (p.probe.is_some(), p.truncated.is_none());
        self.attempts += 1;
        let attempt = Attempt {
            slot,
            number: self.attempts,
        };
        let via = if over_tcp {
            self.open_tcp(attempt, upstream)
        } else {
            self.send_udp(attempt, upstream)
        };
        let (Some((via, id)), Some(p)) = (via, self.pending.get_mut(slot).and_then(Option::as_mut)) else {
            return false;
        };
        p.legs[k] = Some(Leg {
            via,
            upstream,
            id,
            number: attempt.number,
            sent: now,
        });
        self.health.on_sent(upstream);
        let number = attempt.number;
        if probe {
            self.timers
                .push(Reverse((now + PROBE_TIMEOUT, Timer::Probe { slot, number })));
            return true;
        }
        self.deadlines.push_back((now + self.timeout, slot, number));
        let check = self.health.check_after(upstream, self.timeout);
        self.timers
            .push(Reverse((now + check, Timer::Check { upstream, sent: now })));
        if hedged {
            let delay = self.health.hedge_delay(upstream);
            self.timers.push(Reverse((now + delay, Timer::Hedge { slot, number })));
        }
        true
    }

    /// A fresh random ID on a randomly chosen socket of the resolver's address family, unique among
    /// the queries pending on that socket.
    pub(super) fn send_udp(&mut self, attempt: Attempt, upstream: SocketAddr) -> Option<(Via, u16)> {
        let same_family = |a: &&SocketAddr| a.is_ipv4() == upstream.is_ipv4();
        let count = self.sockets.iter().filter(same_family).count();
        if count == 0 {
            return None;
        }
        let pick = self.random.below(count)?;
        let socket = self
            .sockets
            .iter()
            .enumerate()
            .filter(|(_, a)| same_family(a))
            .nth(pick)?
            .0;
        let mut id = self.random.u16()?;
        while self.by_id.contains_key(&(socket, id)) {
            id = self.random.u16()?;
        }
        self.by_id.insert((socket, id), attempt.slot);
        self.io.push_back(Io::SendUdp {
            socket,
            to: upstream,
            attempt,
        });
        Some((Via::Udp { socket, id }, id))
    }

    /// A fresh random ID on TCP too: the answer is matched to its connection, but the ID is checked too.
    pub(super) fn open_tcp(&mut self, attempt: Attempt, upstream: SocketAddr) -> Option<(Via, u16)> {
        let id = self.random.u16()?;
        let conn = self.tcp_free.pop().unwrap_or_else(|| {
            self.tcp.push(None);
            self.tcp.len() - 1
        });
        self.tcp[conn] = Some(TcpConn {
            slot: attempt.slot,
            local: None,
        });
        self.io.push_back(Io::OpenTcp {
            conn,
            to: upstream,
            attempt,
        });
        Some((Via::Tcp { conn }, id))
    }

    /// Leg `k` of `slot` was refused (ICMP unreachable, send or connect failure): its resolver failed
    /// once, and the query goes on.
    pub(super) fn leg_failed(&mut self, slot: usize, k: usize, now: Instant) {
        let Some(leg) = self.pending.get(slot).and_then(Option::as_ref).and_then(|p| p.legs[k]) else {
            return;
        };
        self.stats.errors += 1;
        self.health.on_error(leg.upstream, now);
        self.end_leg(slot, k);
        self.leg_ended(slot, now);
    }

    /// A leg of `slot` ended without an answer: the next resolver is asked if one is left; with
    /// nothing in flight and nobody left to ask, the query has failed. When that was the TCP retry of a truncated answer, the client gets
    /// the truncated answer and can retry over TCP itself; a probe that failed schedules the next.
    pub(super) fn leg_ended(&mut self, slot: usize, now: Instant) {
        let Some(p) = self.pending.get(slot).and_then(Option::as_ref) else {
            return;
        };
        if let Some(upstream) = p.probe {
            if p.in_flight() == 0 {
                self.take(slot);
                self.health.on_probe_failed(upstream, false, now);
            }
            return;
        }
        if p.truncated.is_some() {
            self.finish_failed(slot, now);
            return;
        }
        let (in_flight, over_tcp) = (p.in_flight(), p.client.transport() == Transport::Tcp);
        if in_flight < MAX_LEGS && self.ask_next(slot, over_tcp, false, now) {
            return;
        }
        if in_flight == 0 {
            self.finish_failed(slot, now);
        }
    }

    /// Forgets leg `k` of `slot`: its ID, or has its connection closed.
    pub(super) fn end_leg(&mut self, slot: usize, k: usize) {
        let Some(leg) = self
            .pending
            .get_mut(slot)
            .and_then(Option::as_mut)
            .and_then(|p| p.legs.get_mut(k))
            .and_then(Option::take)
        else {
            return;
        };
        match leg.via {
            Via::Udp { socket, id } => {
                self.by_id.remove(&(socket, id));
            }
            Via::Tcp { conn } if self.tcp.get_mut(conn).and_then(Option::take).is_some() => {
                self.tcp_free.push(conn);
                self.io.push_back(Io::CloseTcp { conn });
            }
            Via::Tcp { .. } => {}
        }
    }

    /// Forgets every leg of `slot`.
    pub(super) fn end_legs(&mut self, slot: usize) {
        for k in 0..MAX_LEGS {
            self.end_leg(slot, k);
        }
    }
}
