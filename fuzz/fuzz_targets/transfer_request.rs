//! Zone transfer requests and other TSIG-signed queries, arbitrary, against a snapshot of the tutorial
//! cluster served with a TSIG key and loopback allowed, taken the server's way: read once, routed by
//! the real router (`mesos_dns::internals::route`), then the route's own handler (`transfer::start` with the
//! transfer run to its end, or `transfer::check_signed` with the stripped query answered by `answer`
//! and signed). The first input byte picks TCP or UDP and whether the client is allowed; the rest is
//! the query. Whatever comes, nothing panics, every message we send parses as a response with the
//! query's ID and fits in a TCP frame, and a transfer starts and ends with the SOA. The seeds are real
//! signed requests of kdig and dig, checked at the time they were signed, so the mutations reach the
//! paths past a valid MAC too.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::answer::{answer, error_reply, Outcome, Transport};
use mesos_dns::internals::config::Config;
use mesos_dns::internals::route::{route, Policy as RoutePolicy, Route, Sender};
use mesos_dns::internals::snapshot::Records;
use mesos_dns::internals::transfer::{check_signed, sign_reply, start, Policy, SignedQuery, Start};
use mesos_dns::internals::wire::{rcode, Message, Received, Rtype, Section, MAX_MESSAGE};

/// When the seeds were signed (their TSIG time).
const SIGNED_AT: u64 = 0x6b0e_c9b5;

fn setup() -> &'static (Policy, Arc<Records>) {
    static SETUP: OnceLock<(Policy, Arc<Records>)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let config = Config::from_json(
            r#"{"masters": ["127.0.0.1:5050"], "transferAllowFrom": ["127.0.0.0/8"],
                "tsigKeys": [{"name": "xfr-key", "secret": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}]}"#,
        )
        .expect("the fuzz config loads")
        .0;
        let body = include_bytes!("../../tests/fixtures/tutorial-0.21.json");
        let masters = [mesos_dns::internals::addr::HostPort::parse("127.0.0.1:5050").expect("an address")];
        let (records, _) =
            mesos_dns::internals::records::from_state::build_snapshot(&config, body, &masters, &[], &|_| Vec::new(), 1)
                .expect("tutorial-0.21.json builds");
        (Policy::from_config(&config), Arc::new(records))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, query)) = data.split_first() else {
        return;
    };
    let (policy, records) = setup();
    let tcp = mode & 1 == 0;
    let peer = if mode & 2 == 0 {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))
    };
    let from = Sender {
        transport: if tcp { Transport::Tcp } else { Transport::Udp },
        may_relay: true,
    };
    let routing = RoutePolicy {
        tsig: !policy.keys().is_empty(),
        external_on: true,
    };
    let mut out = Vec::new();
    let messages = match route(Received::read(query), from, routing) {
        Route::Transfer(msg, signature) => {
            match start(&msg, signature, peer, records, policy, tcp, SIGNED_AT, &mut out) {
                Start::Reply => vec![out],
                Start::Drop => Vec::new(),
                Start::Stream(mut t) => std::iter::from_fn(|| t.next_message(SIGNED_AT).map(<[u8]>::to_vec)).collect(),
            }
        }
        Route::Signed(msg, signature) => {
            let mut stripped = Vec::new();
            match check_signed(&msg, signature, policy.keys(), SIGNED_AT, &mut stripped, &mut out) {
                SignedQuery::Reply => vec![out],
                SignedQuery::Valid { mut signer } => {
                    // As the server does: the stripped query answered (REFUSED outside), then signed.
                    let mut reply = vec![0u8; MAX_MESSAGE];
                    let n = match answer(&stripped, records, from.transport, 0, &mut reply) {
                        Outcome::Reply(n) => n,
                        Outcome::Outside => match error_reply(&stripped, rcode::REFUSED, from.transport, &mut reply) {
                            Outcome::Reply(n) => n,
                            _ => 0,
                        },
                        Outcome::Drop => 0,
                    };
                    reply.truncate(n);
                    if n > 0 {
                        sign_reply(&mut signer, &mut reply, &msg, SIGNED_AT);
                    }
                    vec![reply].into_iter().filter(|r| !r.is_empty()).collect()
                }
            }
        }
        // The answer path is the `answer` target's.
        Route::Drop | Route::Ack(_) | Route::FormErr(_) | Route::Answer(..) => Vec::new(),
    };
    let mut soa = Vec::new();
    for m in &messages {
        assert!(m.len() <= MAX_MESSAGE, "{} bytes", m.len());
        let msg = Message::parse(m).expect("our own message parses");
        assert!(msg.is_response());
        assert_eq!(msg.id(), u16::from_be_bytes([query[0], query[1]]));
        soa.extend(msg.records(Section::Answer).map(|r| r.rtype == Rtype::SOA));
    }
    if messages.len() > 1 {
        assert!(
            soa.first() == Some(&true) && soa.last() == Some(&true),
            "a transfer begins and ends with the SOA"
        );
    }
});
