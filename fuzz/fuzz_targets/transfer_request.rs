//! Zone transfer requests and other TSIG-signed queries, arbitrary, against a snapshot of the tutorial
//! cluster served with a TSIG key and loopback allowed (`transfer::serve_request`: the protocol without
//! sockets, a transfer run to its end). The first input byte picks TCP or UDP and whether the client is
//! allowed; the rest is the query. Whatever comes, nothing panics, every message we send parses as a
//! response with the query's ID and fits in a TCP frame, and a transfer starts and ends with the SOA.
//! The seeds are real signed requests of kdig and dig, checked at the time they were signed, so the
//! mutations reach the paths past a valid MAC too.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mesos_dns::config::Config;
use mesos_dns::snapshot::Records;
use mesos_dns::wire::{rtype, Message, Section, MAX_MESSAGE};

/// When the seeds were signed (their TSIG time).
const SIGNED_AT: u64 = 0x6b0e_c9b5;

fn setup() -> &'static (Config, Arc<Records>) {
    static SETUP: OnceLock<(Config, Arc<Records>)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let config = Config::from_json(
            r#"{"masters": ["127.0.0.1:5050"], "transferAllowFrom": ["127.0.0.0/8"],
                "tsigKeys": [{"name": "xfr-key", "secret": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}]}"#,
        )
        .expect("the fuzz config loads")
        .0;
        let body = include_bytes!("../../tests/fixtures/tutorial-0.21.json");
        let masters = [mesos_dns::addr::HostPort::parse("127.0.0.1:5050").expect("an address")];
        let (records, _) =
            mesos_dns::records::from_state::build_snapshot(&config, body, &masters, &[], &|_| Vec::new(), 1)
                .expect("tutorial-0.21.json builds");
        (config, Arc::new(records))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, query)) = data.split_first() else {
        return;
    };
    let (config, records) = setup();
    let tcp = mode & 1 == 0;
    let peer = if mode & 2 == 0 {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))
    };
    let messages = mesos_dns::transfer::serve_request(query, peer, records, config, tcp, SIGNED_AT);
    let mut soa = Vec::new();
    for m in &messages {
        assert!(m.len() <= MAX_MESSAGE, "{} bytes", m.len());
        let msg = Message::parse(m).expect("our own message parses");
        assert!(msg.is_response());
        assert_eq!(msg.id(), u16::from_be_bytes([query[0], query[1]]));
        soa.extend(msg.records(Section::Answer).map(|r| r.rtype == rtype::SOA));
    }
    if messages.len() > 1 {
        assert!(
            soa.first() == Some(&true) && soa.last() == Some(&true),
            "a transfer begins and ends with the SOA"
        );
    }
});
