//! Answering: a pure function from (query bytes, records snapshot, transport) to response bytes. No
//! socket, clock or global state is involved, so it is unit-tested, fuzzed and benchmarked directly. It
//! decides rcodes, truncation and section contents; it does not relay (names outside the domain come back
//! as [`Outcome::Outside`] for the caller to handle). The reverse names of addresses the snapshot knows
//! (with `PTROn`) are answered here too; every other reverse name is outside. With `preferLocalZone`,
//! the query's source address orders A, AAAA and SRV records, its zone's first (`near.rs`).

use std::cell::Cell;
use std::net::IpAddr;

use near::Near;

use crate::snapshot::{Lookup, Node, Records};
use crate::wire::{
    cookie, field, lower_name, rcode, rtype, uncompressed_len, Class, Edns, Full, Header, Message, Opcode, Owner,
    Received, Rtype, Writer, HEADER_LEN, MAX_MESSAGE, MAX_UDP_PAYLOAD, MIN_UDP_PAYLOAD, OPT_LEN,
};

/// How the query arrived: it decides the response size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Over UDP: the answer fits the client's payload size, else it is truncated.
    Udp,
    /// Over TCP: up to 65535 octets.
    Tcp,
}

/// What to do with a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Send the first `n` bytes of the output buffer.
    Reply(usize),
    /// Send nothing: unreadable, or a response (answering responses would make us a reflector).
    Drop,
    /// A well-formed query for a name outside the domain: relay it, or answer with [`error_reply`].
    Outside,
}

/// SRV targets already given addresses in the additional section are remembered (to write each once)
/// up to this many.
const MAX_TRACKED_TARGETS: usize = 64;

/// An SRV record before its target: owner pointer, type, class, TTL, RDLENGTH, priority, weight, port.
const SRV_FIXED_LEN: usize = 2 + 2 + 2 + 4 + 2 + 6;

/// Answers the bytes of `query` from `records` into `out` (which should hold [`MAX_MESSAGE`] bytes for
/// TCP): reads them ([`Received::read`]) and goes on as [`answer_message`] does, or FORMERR for a
/// readable header before an unreadable body. For callers without a router (fuzz, benches, tests); the
/// server reads each query once and routes it (`serve::route`).
pub fn answer(query: &[u8], records: &Records, transport: Transport, random: u64, out: &mut [u8]) -> Outcome {
    match Received::read(query) {
        Received::Message(msg) => answer_message(&msg, records, transport, random, out),
        Received::Malformed(header) => formerr(&header, out),
        Received::Short => Outcome::Drop,
    }
}

/// Answers the parsed `query` from `records` into `out`. `random` seeds the order of multi-record
/// answers. The source address is not known: answers are in no zone's order.
#[inline]
pub fn answer_message(
    msg: &Message<'_>,
    records: &Records,
    transport: Transport,
    random: u64,
    out: &mut [u8],
) -> Outcome {
    answer_from(msg, records, transport, random, None, out)
}

/// [`answer_message`] to a query from `source`: with `preferLocalZone`, a source in a zone gets the
/// A, AAAA and SRV records in its zone first (`near.rs`).
#[inline]
pub fn answer_from(
    msg: &Message<'_>,
    records: &Records,
    transport: Transport,
    random: u64,
    source: Option<IpAddr>,
    out: &mut [u8],
) -> Outcome {
    if msg.is_response() {
        return Outcome::Drop;
    }
    if msg.opcode() != Opcode::QUERY {
        return reply_error(msg, rcode::NOTIMP, transport, out);
    }
    if msg.qdcount() != 1 {
        return reply_error(msg, rcode::FORMERR, transport, out);
    }
    let Some(q) = msg.question() else {
        return reply_error(msg, rcode::FORMERR, transport, out);
    };
    if msg.edns().is_some_and(|e| e.version > 0) {
        return reply_error(msg, rcode::BADVERS, transport, out);
    }
    if q.qclass != Class::IN && q.qclass != Class::ANY {
        return reply_error(msg, rcode::REFUSED, transport, out);
    }
    match q.qtype {
        Rtype::OPT => return reply_error(msg, rcode::FORMERR, transport, out),
        Rtype::AXFR | Rtype::IXFR => return reply_error(msg, rcode::REFUSED, transport, out),
        Rtype::MAILA | Rtype::MAILB => return reply_error(msg, rcode::NOTIMP, transport, out),
        _ => {}
    }
    let name = lower_name(&q.name);
    // The apex inside the question name: every name in the response can point at it.
    let domain_apex_at = HEADER_LEN + name.as_wire().len().saturating_sub(records.apex().len());
    let (found, apex_at) = match records.lookup(name.as_wire()) {
        Lookup::Outside => return Outcome::Outside,
        // A known address's reverse name is answered as the apex of its own zone: the SOA of a NODATA
        // answer is owned by the question name.
        Lookup::Reverse(node) => (Some(node), HEADER_LEN),
        _ if !records.is_loaded() => return reply_error(msg, rcode::SERVFAIL, transport, out),
        // A wildcard's records, owned by the question name (RFC 4592); NXDOMAIN without one.
        Lookup::NotFound => (records.wildcard(name.as_wire()), domain_apex_at),
        Lookup::Found(node) => (Some(node), domain_apex_at),
    };
    let ctx = Ctx {
        records,
        msg,
        apex_at,
        random,
        srv_start: Cell::new(0),
        near: Near::of(records, source),
    };
    ctx.respond(found, records.is_apex(name.as_wire()), q.qtype.to_int(), transport, out)
}

/// Answers a well-formed query with an error rcode (REFUSED or SERVFAIL for names outside the domain):
/// the question echoed, OPT if the query had one. Drops what [`answer`] would drop.
pub fn error_reply(query: &[u8], rcode: u16, transport: Transport, out: &mut [u8]) -> Outcome {
    match Received::read(query) {
        Received::Message(msg) => error_reply_message(&msg, rcode, transport, out),
        Received::Malformed(header) => formerr(&header, out),
        Received::Short => Outcome::Drop,
    }
}

/// [`error_reply`] to a parsed query.
pub(crate) fn error_reply_message(msg: &Message<'_>, rcode: u16, transport: Transport, out: &mut [u8]) -> Outcome {
    if msg.is_response() {
        return Outcome::Drop;
    }
    reply_error(msg, rcode, transport, out)
}

/// FORMERR for a message whose header is readable but whose body is not: the header alone (nothing
/// for a response).
pub fn formerr(header: &Header, out: &mut [u8]) -> Outcome {
    if header.is_response() {
        return Outcome::Drop;
    }
    let mut w = Writer::new(out, MIN_UDP_PAYLOAD);
    match w.header(
        header.id(),
        header.flags() & (field::OPCODE_MASK | field::RD),
        rcode::FORMERR,
    ) {
        Ok(()) => Outcome::Reply(w.len()),
        Err(Full) => Outcome::Drop,
    }
}

/// The size limit of a response (RFC 1035 4.2.1, RFC 6891 6.2.5), capped at our advertised payload.
fn size_limit(edns: Option<Edns>, transport: Transport) -> usize {
    match transport {
        Transport::Tcp => MAX_MESSAGE,
        Transport::Udp => edns.map_or(MIN_UDP_PAYLOAD, |e| {
            usize::from(e.udp_size).clamp(MIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD)
        }),
    }
}

/// Header, question (if there is exactly one) and OPT with an error rcode.
fn reply_error(msg: &Message<'_>, code: u16, transport: Transport, out: &mut [u8]) -> Outcome {
    let edns = msg.edns();
    // Room for our COOKIE option, added by the server (`serve::respond`).
    let limit = size_limit(edns, transport) - cookie::room(msg);
    let mut w = Writer::new(out, limit);
    let flags = msg.flags() & (field::OPCODE_MASK | field::RD | field::CD);
    let question = msg.question().filter(|_| msg.qdcount() == 1);
    let written = (|| {
        w.header(msg.id(), flags, code & field::RCODE_MASK)?;
        if let Some(q) = question {
            w.bytes(q.raw)?;
            w.set_u16(field::QDCOUNT.start, 1);
        }
        if let Some(e) = edns {
            w.opt(MAX_UDP_PAYLOAD as u16, (code >> 4) as u8, e.dnssec_ok)?;
            w.set_u16(field::ARCOUNT.start, 1);
        }
        Ok::<(), Full>(())
    })();
    match written {
        Ok(()) => Outcome::Reply(w.len()),
        Err(Full) => Outcome::Drop,
    }
}

/// What an authoritative answer needs besides the writer.
struct Ctx<'a> {
    records: &'a Records,
    msg: &'a Message<'a>,
    apex_at: usize,
    random: u64,
    /// Where the SRV records of the answer section start (for pointers to their targets).
    srv_start: Cell<usize>,
    /// The query's zone, when its A, AAAA and SRV records are ordered local first.
    near: Option<Near<'a>>,
}

/// Counts of records written per section.
#[derive(Default)]
struct Counts {
    answer: u16,
    authority: u16,
    additional: u16,
}

impl Ctx<'_> {
    fn respond(
        &self,
        node: Option<Node<'_>>,
        at_apex: bool,
        qtype: u16,
        transport: Transport,
        out: &mut [u8],
    ) -> Outcome {
        let zone = self.records.zone();
        let edns = self.msg.edns();
        let limit = size_limit(edns, transport);
        // The OPT record and our COOKIE option (added by the server, `serve::respond`) always fit.
        let opt_room = if edns.is_some() {
            OPT_LEN + cookie::room(self.msg)
        } else {
            0
        };
        let mut w = Writer::new(out, limit - opt_room);
        let Some(q) = self.msg.question() else {
            return Outcome::Drop;
        };
        let mut flags = field::AA | (self.msg.flags() & (field::RD | field::CD));
        if zone.recurse_on {
            flags |= field::RA;
        }
        if w.header(self.msg.id(), flags, rcode::NOERROR)
            .and_then(|()| w.bytes(q.raw))
            .is_err()
        {
            return Outcome::Drop;
        }
        let mut counts = Counts::default();
        let mut truncated = false;
        let code = match node {
            None => rcode::NXDOMAIN,
            Some(node) => {
                // What does not fit is left out whole record by whole record: the records that fit stay,
                // a random part of the shuffled RRset. With TC, glibc and dig retry over TCP for all of it;
                // musl before 1.2.4 never does, and uses what it got (as with the original).
                truncated = self
                    .write_answers(&mut w, node, at_apex, qtype, transport, &mut counts)
                    .is_err();
                rcode::NOERROR
            }
        };
        if counts.answer == 0 && !truncated {
            // NXDOMAIN or NODATA: the SOA in the authority section (RFC 2308).
            let ttl = zone.ttl.min(zone.soa_minttl);
            match self.soa(&mut w, ttl) {
                Ok(()) => counts.authority = 1,
                Err(Full) => truncated = true,
            }
        } else if counts.answer > 0 && !truncated {
            if let Some(node) = node {
                self.write_additional(&mut w, node, at_apex, qtype, &mut counts);
            }
        }
        let mut header_flags = flags | code;
        if truncated && zone.set_truncate_bit {
            header_flags |= field::TC;
        }
        w.set_limit(limit);
        if let Some(e) = edns {
            if w.opt(MAX_UDP_PAYLOAD as u16, 0, e.dnssec_ok).is_ok() {
                counts.additional += 1;
            }
        }
        w.set_u16(field::FLAGS.start, field::QR | header_flags);
        w.set_u16(field::QDCOUNT.start, 1);
        w.set_u16(field::ANCOUNT.start, counts.answer);
        w.set_u16(field::NSCOUNT.start, counts.authority);
        w.set_u16(field::ARCOUNT.start, counts.additional);
        Outcome::Reply(w.len())
    }

    /// The answer section. `Err(Full)` when the answer does not fit.
    fn write_answers(
        &self,
        w: &mut Writer<'_>,
        node: Node<'_>,
        at_apex: bool,
        qtype: u16,
        transport: Transport,
        counts: &mut Counts,
    ) -> Result<(), Full> {
        let ttl = self.records.zone().ttl;
        let owner = Owner::Pointer(HEADER_LEN);
        if let Some(target) = node.cname() {
            return self.alias(w, target, qtype, ttl, counts);
        }
        match qtype {
            rtype::A | rtype::AAAA | rtype::SRV | rtype::PTR | rtype::TXT => {
                self.rrset(w, node, owner, qtype, ttl, counts)
            }
            rtype::SOA if at_apex => {
                self.soa(w, ttl)?;
                counts.answer += 1;
                Ok(())
            }
            rtype::NS if at_apex => {
                counts.answer += self.ns(w, ttl)?;
                Ok(())
            }
            rtype::ANY => {
                // RFC 8482: over UDP, one RRset is enough; over TCP, everything at the name.
                let minimal = transport == Transport::Udp;
                if at_apex {
                    self.soa(w, ttl)?;
                    counts.answer += 1;
                    if minimal {
                        return Ok(());
                    }
                    counts.answer += self.ns(w, ttl)?;
                }
                for rrset in [rtype::A, rtype::AAAA, rtype::SRV, rtype::PTR, rtype::TXT] {
                    if minimal && counts.answer > 0 {
                        break;
                    }
                    self.rrset(w, node, owner, rrset, ttl, counts)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A name that is an alias (RFC 1034 3.6.2): the CNAME answers any type; for a type other than
    /// CNAME and ANY, the target's records of that type follow when the target is ours, a wildcard's
    /// included (one hop: a target that is an alias again is left to the resolver).
    fn alias(&self, w: &mut Writer<'_>, target: &[u8], qtype: u16, ttl: u32, counts: &mut Counts) -> Result<(), Full> {
        // The target name sits after the CNAME's owner pointer, type, class, TTL and RDLENGTH.
        let target_at = w.len() + 12;
        w.record(Owner::Pointer(HEADER_LEN), rtype::CNAME, ttl, |w| w.bytes(target))?;
        counts.answer += 1;
        if qtype == rtype::CNAME || qtype == rtype::ANY || target_at >= 0x4000 {
            return Ok(());
        }
        let t = match self.records.lookup(target) {
            Lookup::Found(t) => t,
            Lookup::NotFound => match self.records.wildcard(target) {
                Some(t) => t,
                None => return Ok(()),
            },
            Lookup::Outside | Lookup::Reverse(_) => return Ok(()),
        };
        if t.cname().is_some() {
            return Ok(());
        }
        match qtype {
            rtype::A | rtype::AAAA | rtype::SRV | rtype::TXT => {
                self.rrset(w, t, Owner::Pointer(target_at), qtype, ttl, counts)
            }
            _ => Ok(()),
        }
    }

    /// The RRset of `rrtype` at `node` (A, AAAA and SRV shuffled; PTR and TXT in stored order), owned
    /// by `owner`; other types have none here. A and AAAA are cut to `aRecordLimit` after the shuffle,
    /// before the size limit: the same records over UDP and TCP, and a random few each time.
    fn rrset(
        &self,
        w: &mut Writer<'_>,
        node: Node<'_>,
        owner: Owner<'_>,
        rrtype: u16,
        ttl: u32,
        counts: &mut Counts,
    ) -> Result<(), Full> {
        match rrtype {
            rtype::A => self.addresses_answer(w, owner, rtype::A, ttl, node.a, self.random, counts),
            rtype::AAAA => {
                let random = self.random.rotate_left(17);
                self.addresses_answer(w, owner, rtype::AAAA, ttl, node.aaaa, random, counts)
            }
            rtype::SRV => self.srv(w, node, owner, ttl, counts),
            rtype::PTR => self.ptr(w, node, ttl, counts),
            rtype::TXT => {
                for rdata in node.extra_rdata(rtype::TXT) {
                    w.record(owner, rtype::TXT, ttl, |w| w.bytes(rdata))?;
                    counts.answer += 1;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// An A or AAAA RRset in the answer section, shuffled, then cut to `aRecordLimit`. The cut is
    /// decided once, outside the loop: an RRset within the limit (every one, without a limit) is
    /// written by the same loop as before the limit existed, at the same cost.
    #[allow(clippy::too_many_arguments)]
    fn addresses_answer<const L: usize>(
        &self,
        w: &mut Writer<'_>,
        owner: Owner<'_>,
        rrtype: u16,
        ttl: u32,
        rdata: &[[u8; L]],
        random: u64,
        counts: &mut Counts,
    ) -> Result<(), Full> {
        if let Some(near) = self.near {
            return self.addresses_near(w, owner, rrtype, ttl, rdata, near.addresses(rdata, random), counts);
        }
        let limit = self.records.zone().a_records_max;
        let order = Shuffle::new(rdata.len(), random);
        if rdata.len() <= limit {
            for i in order {
                w.record(owner, rrtype, ttl, |w| w.bytes(&rdata[i]))?;
                counts.answer += 1;
            }
        } else {
            for i in order.cut(limit) {
                w.record(owner, rrtype, ttl, |w| w.bytes(&rdata[i]))?;
                counts.answer += 1;
            }
        }
        Ok(())
    }

    /// [`addresses_answer`](Self::addresses_answer) in zone order: local records fill the answer
    /// first, the cut after them. Apart, so that the path without zones keeps its code as it was.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn addresses_near<const L: usize>(
        &self,
        w: &mut Writer<'_>,
        owner: Owner<'_>,
        rrtype: u16,
        ttl: u32,
        rdata: &[[u8; L]],
        order: impl Iterator<Item = usize>,
        counts: &mut Counts,
    ) -> Result<(), Full> {
        for i in order.take(self.records.zone().a_records_max) {
            w.record(owner, rrtype, ttl, |w| w.bytes(&rdata[i]))?;
            counts.answer += 1;
        }
        Ok(())
    }

    fn srv(
        &self,
        w: &mut Writer<'_>,
        node: Node<'_>,
        owner: Owner<'_>,
        ttl: u32,
        counts: &mut Counts,
    ) -> Result<(), Full> {
        self.srv_start.set(w.len());
        let random = self.random.rotate_left(34);
        match self.near {
            None => self.srv_records(w, node, owner, ttl, counts, Shuffle::new(node.srv.len(), random)),
            Some(near) => self.srv_records(w, node, owner, ttl, counts, near.srv(self.records, node, random)),
        }
    }

    /// The SRV records of `node` in `order`.
    fn srv_records(
        &self,
        w: &mut Writer<'_>,
        node: Node<'_>,
        owner: Owner<'_>,
        ttl: u32,
        counts: &mut Counts,
        order: impl Iterator<Item = usize>,
    ) -> Result<(), Full> {
        let weight = self.records.zone().srv_weight;
        for i in order {
            let srv = node.srv[i];
            let Some(target) = self.records.name(srv.target) else {
                continue;
            };
            // RFC 2782: the target is not compressed.
            w.record(owner, rtype::SRV, ttl, |w| {
                w.u16(0)?;
                w.u16(weight)?;
                w.u16(srv.port)?;
                w.bytes(target)
            })?;
            counts.answer += 1;
        }
        Ok(())
    }

    /// PTR records in the snapshot's order (the most useful name first, not shuffled). The first target
    /// is written whole; the others end in a pointer to the domain inside it (RFC 1035 4.1.4).
    fn ptr(&self, w: &mut Writer<'_>, node: Node<'_>, ttl: u32, counts: &mut Counts) -> Result<(), Full> {
        let apex_len = self.records.apex().len();
        let mut domain_at = None;
        for &t in node.ptr {
            let Some(target) = self.records.name(t) else { continue };
            // Targets are names under the domain, so the domain is their last `apex_len` octets.
            let prefix = target.len().saturating_sub(apex_len);
            w.record(Owner::Pointer(HEADER_LEN), rtype::PTR, ttl, |w| match domain_at {
                Some(at) => {
                    w.bytes(target.get(..prefix).unwrap_or_default())?;
                    w.pointer(at)
                }
                None => {
                    let at = w.len() + prefix;
                    w.bytes(target)?;
                    domain_at = (at < 0x4000).then_some(at);
                    Ok(())
                }
            })?;
            counts.answer += 1;
        }
        Ok(())
    }

    /// The SOA record, owned by the apex (a pointer into the question). Its two names are compressed
    /// as NSD and Knot compress them (RFC 1035 4.1.4): `SOAMname` against the question, `SOARname`
    /// against both (`root.ns1.mesos.` is 7 octets instead of 16).
    fn soa(&self, w: &mut Writer<'_>, ttl: u32) -> Result<(), Full> {
        w.record(Owner::Pointer(self.apex_at), rtype::SOA, ttl, |w| {
            let rdata = self.records.soa_rdata();
            let mname_len = uncompressed_len(rdata).unwrap_or(0);
            let rname_len = rdata.get(mname_len..).and_then(uncompressed_len).unwrap_or(0);
            let (Some(mname), Some(rname), Some(numbers)) = (
                rdata.get(..mname_len),
                rdata.get(mname_len..mname_len + rname_len),
                rdata
                    .get(mname_len + rname_len..)
                    .filter(|_| mname_len > 0 && rname_len > 0),
            ) else {
                return w.bytes(rdata);
            };
            let mname_at = w.name(mname, &[HEADER_LEN])?;
            w.name(rname, &[mname_at, HEADER_LEN])?;
            w.bytes(numbers)
        })
    }

    /// The apex NS records (`nameservers`, or `SOAMname`); how many were written.
    fn ns(&self, w: &mut Writer<'_>, ttl: u32) -> Result<u16, Full> {
        let mut n = 0;
        for name in self.records.ns_names() {
            w.record(Owner::Pointer(self.apex_at), rtype::NS, ttl, |w| w.bytes(name))?;
            n += 1;
        }
        Ok(n)
    }

    /// Glue and SRV target addresses, best effort: whole RRsets while they fit, never TC.
    fn write_additional(&self, w: &mut Writer<'_>, node: Node<'_>, at_apex: bool, qtype: u16, counts: &mut Counts) {
        let ttl = self.records.zone().ttl;
        let wants_srv_targets =
            qtype == rtype::SRV || (qtype == rtype::ANY && node.a.is_empty() && node.aaaa.is_empty());
        if wants_srv_targets {
            // The SRV records were written in this same order.
            let random = self.random.rotate_left(34);
            match self.near {
                None => self.srv_targets(w, node, ttl, counts, Shuffle::new(node.srv.len(), random)),
                Some(near) => self.srv_targets(w, node, ttl, counts, near.srv(self.records, node, random)),
            }
        } else if at_apex && (qtype == rtype::NS || qtype == rtype::ANY) {
            for name in self.records.ns_names() {
                if let Lookup::Found(ns) = self.records.lookup(name) {
                    if self.addresses(w, Owner::Wire(ns.name), ns, ttl, counts).is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// The addresses of the SRV targets of `node`, its SRV records written in `order`: each 18 octets
    /// plus its target, so the target names sit at known offsets: point at them.
    fn srv_targets(
        &self,
        w: &mut Writer<'_>,
        node: Node<'_>,
        ttl: u32,
        counts: &mut Counts,
        order: impl Iterator<Item = usize>,
    ) {
        let mut record_at = self.srv_start.get();
        let mut seen: [u32; MAX_TRACKED_TARGETS] = [u32::MAX; MAX_TRACKED_TARGETS];
        for (k, i) in order.enumerate() {
            let target = node.srv[i].target;
            let Some(t) = self.records.node(target) else { continue };
            let name_at = record_at + SRV_FIXED_LEN;
            record_at = name_at + t.name.len();
            if seen[..k.min(MAX_TRACKED_TARGETS)].contains(&target) {
                continue;
            }
            if let Some(slot) = seen.get_mut(k) {
                *slot = target;
            }
            let owner = if name_at < 0x4000 {
                Owner::Pointer(name_at)
            } else {
                Owner::Wire(t.name)
            };
            if self.addresses(w, owner, t, ttl, counts).is_err() {
                return;
            }
        }
    }

    /// A and AAAA records of `node` into the additional section, each RRset whole or not at all.
    fn addresses(
        &self,
        w: &mut Writer<'_>,
        owner: Owner<'_>,
        node: Node<'_>,
        ttl: u32,
        counts: &mut Counts,
    ) -> Result<(), Full> {
        for (rrset, n) in [(rtype::A, node.a.len()), (rtype::AAAA, node.aaaa.len())] {
            let mark = (w.len(), counts.additional);
            let result = Shuffle::new(n, self.random.rotate_left(51)).try_for_each(|i| {
                let data: &[u8] = if rrset == rtype::A { &node.a[i] } else { &node.aaaa[i] };
                w.record(owner, rrset, ttl, |w| w.bytes(data))?;
                counts.additional += 1;
                Ok(())
            });
            if result.is_err() {
                w.truncate(mark.0);
                counts.additional = mark.1;
                return result;
            }
        }
        Ok(())
    }
}

/// A pseudo-random order of `0..n` without storage: a random start and a random stride coprime with
/// `n`, so every record comes once and each is first equally often.
struct Shuffle {
    n: usize,
    at: usize,
    stride: usize,
    left: usize,
}

impl Shuffle {
    fn new(n: usize, random: u64) -> Shuffle {
        let r = splitmix(random);
        let (at, mut stride) = if n == 0 {
            (0, 1)
        } else {
            ((r % n as u64) as usize, ((r >> 32) % n as u64) as usize)
        };
        stride = stride.max(1);
        while n > 1 && gcd(stride, n) != 1 {
            stride += 1;
        }
        Shuffle { n, at, stride, left: n }
    }

    /// The first `limit` of the order at most: a random `limit` of the records (each as likely as the
    /// others to be among them, and to be first), in random order.
    fn cut(mut self, limit: usize) -> Shuffle {
        self.left = self.left.min(limit);
        self
    }
}

impl Iterator for Shuffle {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let i = self.at;
        self.at = (self.at + self.stride) % self.n;
        Some(i)
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

mod near;
#[cfg(test)]
mod tests;
