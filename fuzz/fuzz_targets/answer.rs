//! The whole answer function on arbitrary queries against a snapshot built from the fake.json fixture
//! and static records with wildcards: it must never panic, never answer a response (QR=1), and every
//! reply must parse and respect the UDP size limit.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::answer::{answer, Outcome, Transport};
use mesos_dns::internals::snapshot::Records;
use mesos_dns::internals::wire::{Message, MAX_MESSAGE, MAX_UDP_PAYLOAD};

/// Wildcards with every type, an explicit name and an empty non-terminal below one, a CNAME wildcard.
const WILDCARDS: &str = include_str!("../corpus/static_records/seed-wildcards");

fn snapshot() -> &'static Records {
    static SNAPSHOT: OnceLock<Records> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let config = mesos_dns::internals::config::Config::default();
        let body = include_bytes!("../../tests/fixtures/fake.json");
        let masters = [mesos_dns::internals::addr::HostPort::parse("127.0.0.1:5050").expect("an address")];
        let (_, mut list) = mesos_dns::internals::records::from_state::build_snapshot(&config, body, &masters, &[], &|_| Vec::new(), 1)
            .expect("fake.json builds");
        // Static records with wildcards (RFC 4592), as the refresher appends them.
        list.begin_static();
        let statics = mesos_dns::internals::records::zonefile::parse(WILDCARDS, "mesos", 60).expect("the wildcards parse");
        for r in statics {
            list.push(&r.name, r.data);
        }
        Records::build(mesos_dns::internals::records::zone(&config), &list, 1)
    })
}

fuzz_target!(|data: &[u8]| {
    let records = snapshot();
    let mut out = vec![0u8; MAX_MESSAGE];
    for transport in [Transport::Udp, Transport::Tcp] {
        match answer(data, records, transport, 7, &mut out) {
            Outcome::Reply(n) => {
                let resp = Message::parse(&out[..n]).expect("our own response parses");
                assert!(resp.is_response());
                assert_eq!(resp.id(), u16::from_be_bytes([data[0], data[1]]));
                if transport == Transport::Udp {
                    assert!(n <= MAX_UDP_PAYLOAD);
                }
            }
            Outcome::Drop => {
                assert!(data.len() < 12 || data[2] & 0x80 != 0 || Message::parse(data).is_ok_and(|m| m.is_response()))
            }
            Outcome::Outside => assert!(Message::parse(data).is_ok()),
        }
    }
});
