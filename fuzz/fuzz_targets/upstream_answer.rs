//! An upstream resolver's answer, arbitrary bytes, arriving for a pending relayed query: the real
//! forwarder on loopback relays a fixed client query to a fake upstream socket, which replies with the
//! fuzz input (its ID set to the one the forwarder chose, so the answer reaches the checks). Whatever
//! the bytes, the client gets exactly one reply: the answer itself with the client's ID when `verify`
//! accepts it, else (once the attempt times out) SERVFAIL, or the truncated answer when the TCP retry
//! fails. The first input byte picks the client query (its value is replaced by the ID anyway).
#![no_main]

use std::cell::RefCell;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mesos_dns::config::Config;
use mesos_dns::forward::{verify, Accepted, Client, Forwarder, Upstreams};
use mesos_dns::wire::{rcode, Message};

/// Client queries (client ID 0xbeef): plain A, mixed-case SRV with EDNS0 (1232), AAAA with DO and
/// a 4096-byte payload.
const QUERIES: [&[u8]; 3] = [
    b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01",
    b"\xbe\xef\x01\x20\x00\x01\x00\x00\x00\x00\x00\x01\x05_HTTP\x04_tcp\x07Example\x03org\x00\x00\x21\x00\x01\
      \x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00",
    b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x04ipv6\x06google\x03com\x00\x00\x1c\x00\x01\
      \x00\x00\x29\x10\x00\x00\x00\x80\x00\x00\x00",
];
const CLIENT: &str = "127.0.0.1:40000";

struct Rig {
    poll: mio::Poll,
    upstream: UdpSocket,
    forwarder: Forwarder,
    buf: Vec<u8>,
}

fn rig() -> Rig {
    let poll = mio::Poll::new().expect("poll");
    let upstream = UdpSocket::bind("127.0.0.1:0").expect("bind upstream");
    upstream.set_nonblocking(true).expect("nonblocking");
    let config = Config {
        resolvers: vec![upstream.local_addr().expect("local addr")],
        ..Config::default()
    };
    let (upstreams, _) = Upstreams::new(&config, None, "127.0.0.1:1".parse().expect("addr"));
    let forwarder = Forwarder::new(upstreams, Duration::from_secs(5), poll.registry()).expect("forwarder");
    Rig {
        poll,
        upstream,
        forwarder,
        buf: vec![0; 65536],
    }
}

thread_local! {
    static RIG: RefCell<Rig> = RefCell::new(rig());
}

fuzz_target!(|data: &[u8]| {
    let Some(&pick) = data.first() else { return };
    if data.len() > 65507 {
        return; // not a UDP datagram
    }
    let query = QUERIES[usize::from(pick) % QUERIES.len()];
    let client = Client::Udp(CLIENT.parse().expect("addr"));
    RIG.with_borrow_mut(|rig| {
        let Rig {
            poll,
            upstream,
            forwarder,
            buf,
        } = rig;
        forwarder.relay(query, client, poll.registry());
        let (n, from) = upstream.recv_from(buf).expect("the relayed query arrives on loopback");
        let mut answer = data.to_vec();
        if let (Some(dst), Some(id)) = (answer.get_mut(..2), buf[..n].get(..2)) {
            dst.copy_from_slice(id);
        }
        upstream.send_to(&answer, from).expect("send the answer");
        let before = forwarder.stats;
        // The forwarder has one socket per address family; only one is ours, the others are empty.
        for index in 0..4 {
            forwarder.on_udp_ready(index, buf, poll.registry());
        }
        let verdict = verify(query, &answer);
        if verdict.is_err() || verdict == Ok(Accepted::Truncated) {
            assert_eq!(forwarder.pending_count(), 1, "{verdict:?}: still waiting");
            forwarder.expire(Instant::now() + Duration::from_secs(3600), poll.registry());
        }
        assert_eq!(forwarder.pending_count(), 0);
        let replies: Vec<_> = forwarder.outbox().collect();
        assert_eq!(replies.len(), 1, "one reply per client query");
        let (to, reply) = &replies[0];
        assert_eq!(*to, client);
        assert_eq!(reply.get(..2), Some(&b"\xbe\xef"[..]), "the client's ID");
        match verdict {
            Ok(_) => {
                assert_eq!(reply[2..], answer[2..], "the answer is passed on byte for byte");
                assert_eq!(forwarder.stats.answered, before.answered + 1);
                let msg = Message::parse(&answer).expect("accepted answers parse");
                assert!(msg.is_response() && msg.qdcount() == 1);
            }
            Err(_) => {
                if answer.len() >= 2 {
                    assert_eq!(forwarder.stats.rejected, before.rejected + 1);
                }
                let msg = Message::parse(reply).expect("our SERVFAIL parses");
                assert_eq!(msg.flags() & 0xf, rcode::SERVFAIL);
            }
        }
    });
});
