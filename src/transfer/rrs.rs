//! The zone's records in transfer form: every record the server answers with (the apex SOA and NS, and
//! each name's A, AAAA, SRV, CNAME and TXT records), each written whole and uncompressed (owner, type,
//! class, TTL, RDLENGTH, RDATA) so that records can be compared byte for byte (the journal) and copied
//! into messages with the owner's domain part made a pointer ([`push_compressed`]). Reverse (PTR) names
//! are not in the zone: they belong to `in-addr.arpa` and `ip6.arpa`.

use crate::snapshot::{Node, Records};
use crate::wire::{class, rtype};

/// Appends one record in full form.
pub(crate) fn push_rr(out: &mut Vec<u8>, owner: &[u8], rrtype: u16, ttl: u32, rdata: &[&[u8]]) {
    out.extend_from_slice(owner);
    out.extend_from_slice(&rrtype.to_be_bytes());
    out.extend_from_slice(&class::IN.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    let len: usize = rdata.iter().map(|part| part.len()).sum();
    out.extend_from_slice(&(len.min(usize::from(u16::MAX)) as u16).to_be_bytes());
    for part in rdata {
        out.extend_from_slice(part);
    }
}

/// Appends the apex SOA record with this RDATA.
pub(crate) fn push_soa(out: &mut Vec<u8>, records: &Records, soa_rdata: &[u8]) {
    push_rr(out, records.apex(), rtype::SOA, records.zone().ttl, &[soa_rdata]);
}

/// Appends every record of node `node` but the SOA (the apex's NS records with the apex's data).
pub(crate) fn push_node(out: &mut Vec<u8>, records: &Records, node: &Node<'_>) {
    let zone = records.zone();
    let ttl = zone.ttl;
    if records.is_apex(node.name) {
        for ns in records.ns_names() {
            push_rr(out, node.name, rtype::NS, ttl, &[ns]);
        }
    }
    for a in node.a {
        push_rr(out, node.name, rtype::A, ttl, &[a]);
    }
    for aaaa in node.aaaa {
        push_rr(out, node.name, rtype::AAAA, ttl, &[aaaa]);
    }
    for srv in node.srv {
        let Some(target) = records.name(srv.target) else {
            continue;
        };
        let fixed = [
            0,
            0,
            (zone.srv_weight >> 8) as u8,
            zone.srv_weight as u8,
            (srv.port >> 8) as u8,
            srv.port as u8,
        ];
        push_rr(out, node.name, rtype::SRV, ttl, &[&fixed, target]);
    }
    for extra in node.extra {
        let rdata = node
            .blob
            .get(extra.start as usize..extra.end as usize)
            .unwrap_or_default();
        push_rr(out, node.name, extra.rtype, ttl, &[rdata]);
    }
}

/// The length of the full-form record at the start of `buf`.
pub(crate) fn rr_len(buf: &[u8]) -> Option<usize> {
    let name = crate::wire::uncompressed_len(buf)?;
    let rdlen = crate::wire::read_u16(buf, name + 8)?;
    let end = name + 10 + usize::from(rdlen);
    (end <= buf.len()).then_some(end)
}

/// The full-form records one after the other in `buf`.
pub(crate) fn split(mut buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let len = rr_len(buf)?;
        let (rr, rest) = buf.split_at(len);
        buf = rest;
        Some(rr)
    })
}

/// Appends a full-form record to a message whose question (at offset 12) is the apex: the owner's
/// `apex_len` last octets become a pointer to it. A record not under the apex is copied as it is.
pub(crate) fn push_compressed(out: &mut Vec<u8>, rr: &[u8], apex: &[u8]) {
    let Some(owner_len) = crate::wire::uncompressed_len(rr) else {
        out.extend_from_slice(rr);
        return;
    };
    let owner = &rr[..owner_len];
    match owner_len.checked_sub(apex.len()) {
        Some(prefix) if owner[prefix..].eq_ignore_ascii_case(apex) => {
            out.extend_from_slice(&owner[..prefix]);
            out.extend_from_slice(&[0xc0, 0x0c]);
            out.extend_from_slice(&rr[owner_len..]);
        }
        _ => out.extend_from_slice(rr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_split_back_and_compress_against_the_apex() {
        let apex = b"\x05mesos\x00";
        let owner = b"\x03web\x05mesos\x00";
        let mut buf = Vec::new();
        push_rr(&mut buf, owner, rtype::A, 60, &[&[10, 0, 0, 1]]);
        push_rr(&mut buf, apex, rtype::NS, 60, &[b"\x03ns1\x05mesos\x00"]);
        let rrs: Vec<&[u8]> = split(&buf).collect();
        assert_eq!(rrs.len(), 2);
        assert_eq!(rrs[0].len(), owner.len() + 10 + 4);
        let mut msg = Vec::new();
        push_compressed(&mut msg, rrs[0], apex);
        assert_eq!(&msg[..6], b"\x03web\xc0\x0c");
        assert_eq!(&msg[6..], &rrs[0][owner.len()..]);
        msg.clear();
        push_compressed(&mut msg, rrs[1], apex);
        assert_eq!(&msg[..2], b"\xc0\x0c");
        assert_eq!(split(b"\x03we").count(), 0, "a cut record is not one");
    }
}
