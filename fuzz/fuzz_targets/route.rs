//! The router on arbitrary bytes (`mesos_dns::internals::route`: what a received message gets). The first input
//! byte picks the transport, whether the client may relay, whether TSIG keys are configured and whether
//! relaying is on; the rest is the message. Whatever comes, nothing panics and each route holds only
//! for what it says: nothing for short messages and responses (but NOTIFY answers over UDP), FORMERR
//! only for a query whose body does not parse, a transfer only for one IXFR question (AXFR over TCP),
//! the TSIG path only with keys and additional records, a relay only when on and allowed, and the
//! message a route carries is the one received. Seeded from the parse_message and transfer_request
//! corpora (a mode byte in front of each message).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::answer::Transport;
use mesos_dns::internals::route::{route, Outside, Policy, Route, Sender};
use mesos_dns::internals::wire::{Message, Opcode, Received, Rtype};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let transport = if mode & 1 == 0 { Transport::Tcp } else { Transport::Udp };
    let from = Sender {
        transport,
        may_relay: mode & 2 == 0,
    };
    let policy = Policy {
        tsig: mode & 4 == 0,
        external_on: mode & 8 == 0,
    };
    let parsed = Message::parse(bytes);
    let is_response = bytes.get(2).is_some_and(|b| b & 0x80 != 0);
    match route(Received::read(bytes), from, policy) {
        Route::Drop => assert!(bytes.len() < 12 || is_response),
        Route::Ack(h) => {
            assert!(h.is_response() && h.opcode() == Opcode::NOTIFY && transport == Transport::Udp);
            assert_eq!(h.id(), u16::from_be_bytes([bytes[0], bytes[1]]));
        }
        Route::FormErr(h) => assert!(parsed.is_err() && !h.is_response()),
        Route::Transfer(msg, _) => {
            assert_eq!(msg.bytes(), bytes);
            assert!(!msg.is_response() && msg.qdcount() == 1);
            match msg.question().map(|q| q.qtype) {
                Some(Rtype::IXFR) => {}
                Some(Rtype::AXFR) => assert_eq!(transport, Transport::Tcp),
                other => panic!("a transfer of {other:?}"),
            }
        }
        Route::Signed(msg, signature) => {
            assert_eq!(msg.bytes(), bytes);
            assert!(policy.tsig && !msg.is_response() && msg.header().arcount() > 0);
            assert!(!signature.is_none());
        }
        Route::Answer(msg, outside) => {
            assert_eq!(msg.bytes(), bytes);
            assert!(!msg.is_response());
            let relay = policy.external_on && from.may_relay;
            assert_eq!(outside == Outside::Relay, relay);
        }
    }
});
