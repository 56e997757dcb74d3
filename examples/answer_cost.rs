//! The instructions one answer costs, for callgrind: `answer_cost KIND N [routed]` answers N queries
//! of KIND (`a`, `srv`, `nxdomain`) from the `fake.json` snapshot; `routed` takes the server's path
//! (read once, route, answer the parsed message from a client address) instead of `answer` on the bytes;
//! `cookie` takes it for a query with a client and a server cookie, and adds our COOKIE option as the
//! server does (checking its server cookie, making a new one). Instructions per
//! answer = (Ir(N) - Ir(0)) / N; `benches/answer-cost.sh` runs it for two commits back to back.
use mesos_dns::internals::answer::{answer, answer_from, Outcome, Transport};
use mesos_dns::internals::config::Config;
use mesos_dns::internals::cookie::{add, option, ServerCookies};
use mesos_dns::internals::records::from_state::build_snapshot;
use mesos_dns::internals::route::{route, Policy, Route, Sender};
use mesos_dns::internals::wire::Received;
use mesos_dns::internals::wire::MAX_MESSAGE;
use std::hint::black_box;

fn query(name: &str, qtype: u16) -> Vec<u8> {
    let mut q = vec![0xab, 0xcd, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1];
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, (qtype >> 8) as u8, qtype as u8, 0, 1]);
    q.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    q
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(kind), Some(Ok(n))) = (args.next(), args.next().map(|n| n.parse::<u64>())) else {
        eprintln!("usage: answer_cost a|srv|nxdomain N [routed|cookie]");
        return;
    };
    let mode = args.next();
    let cookie = mode.as_deref() == Some("cookie");
    let routed = cookie || mode.as_deref() == Some("routed");
    let from = Sender {
        transport: Transport::Udp,
        may_relay: true,
    };
    let policy = Policy {
        tsig: false,
        external_on: true,
    };
    let config = Config::default();
    let body = include_bytes!("../tests/fixtures/fake.json");
    let masters = [mesos_dns::internals::addr::HostPort::parse("127.0.0.1:5050").expect("an address")];
    let (records, _) = build_snapshot(&config, body, &masters, &[], &|_| Vec::new(), 1).expect("fake.json builds");
    let q = match kind.as_str() {
        "a" => query("liquor-store.marathon.mesos", 1),
        "srv" => query("_liquor-store._tcp.marathon.mesos", 33),
        _ => query("no-such-task.marathon.mesos", 1),
    };
    let q = if cookie {
        // The OPT record's RDATA becomes a COOKIE option: client cookie, a server cookie not ours.
        let mut q = q;
        let len = q.len();
        q[len - 2..].copy_from_slice(&28u16.to_be_bytes());
        q.extend_from_slice(&[0, 10, 0, 24]);
        q.extend_from_slice(b"clientck\x01\x00\x00\x00\x6b\x49\xd2\x00notours!");
        q
    } else {
        q
    };
    let cookies = ServerCookies::new([7; 16], 1_800_000_000);
    // The server passes the client's address (`preferLocalZone`, off here).
    let peer = std::net::IpAddr::from([127, 0, 0, 1]);
    let source = Some(peer);
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut total = 0usize;
    for seed in 0..n {
        let outcome = if routed {
            match route(Received::read(black_box(&q)), from, policy) {
                Route::Answer(msg, _) => match (
                    answer_from(&msg, &records, Transport::Udp, seed, source, &mut out),
                    msg.cookie(),
                ) {
                    (Outcome::Reply(n), Some(c)) => {
                        let verdict = cookies.answer(&c.client, c.server, peer, 1_800_000_000 + seed);
                        let with = add(&mut out, n, &option(&c.client, &verdict.server), 1232, true);
                        Outcome::Reply(with.unwrap_or(n))
                    }
                    (outcome, _) => outcome,
                },
                _ => Outcome::Drop,
            }
        } else {
            answer(black_box(&q), &records, Transport::Udp, seed, &mut out)
        };
        if let Outcome::Reply(len) = outcome {
            total += len;
        }
    }
    println!("{total}");
}
