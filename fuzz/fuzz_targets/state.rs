//! A master's state JSON, arbitrary bytes, through the whole refresh path with the default config:
//! parse, leader check, record generation, indexing. Then the first names of the snapshot are asked
//! for (A, AAAA, SRV, ANY over UDP and TCP): every name the snapshot holds must answer NOERROR with a
//! reply that parses and fits.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::answer::{answer, Outcome, Transport};
use mesos_dns::internals::config::Config;
use mesos_dns::internals::records::from_state::build_snapshot;
use mesos_dns::internals::wire::{rcode, rtype, Message, MAX_MESSAGE, MAX_UDP_PAYLOAD};

/// How many names are queried per input: enough to reach tasks and SRV records, few enough to keep
/// the target fast on big states.
const NAMES: usize = 24;

fuzz_target!(|data: &[u8]| {
    let config = Config::default();
    let masters = [mesos_dns::internals::addr::HostPort::parse("127.0.0.1:5050").expect("an address")];
    let self_addrs = [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)];
    // Host names resolve to one documentation address, without touching the system resolver.
    let resolve = |_: &str| vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 53))];
    let Ok((records, list)) = build_snapshot(&config, data, &masters, &self_addrs, &resolve, 7) else {
        return;
    };
    assert!(records.skipped() <= list.len());
    let records = records.with_list(list);
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut query = Vec::with_capacity(512);
    for node in records.nodes().take(NAMES) {
        for qtype in [rtype::A, rtype::AAAA, rtype::SRV, 255] {
            query.clear();
            query.extend_from_slice(b"\x42\x42\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00");
            query.extend_from_slice(node.name);
            query.extend_from_slice(&qtype.to_be_bytes());
            query.extend_from_slice(&[0, 1]);
            for transport in [Transport::Udp, Transport::Tcp] {
                let Outcome::Reply(n) = answer(&query, &records, transport, 3, &mut out) else {
                    panic!("a name of the snapshot is answered");
                };
                let reply = Message::parse(&out[..n]).expect("our own response parses");
                assert!(reply.is_response());
                assert_eq!(reply.flags() & 0xf, rcode::NOERROR, "{:?}", node.name);
                if transport == Transport::Udp {
                    assert!(n <= MAX_UDP_PAYLOAD);
                }
            }
        }
    }
});
