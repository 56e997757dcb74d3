//! An upstream resolver's answer, arbitrary bytes, arriving for a pending relayed query, fed straight
//! to the relay table (`forward::table`: no sockets, virtual time). The table relays a fixed client
//! query; the fuzz input comes back as the answer under the ID the table chose, so it reaches the
//! checks. Whatever the bytes, the client gets exactly one reply: when `verify` accepts the answer,
//! the answer itself under the client's ID if it fits the client's UDP limit untruncated, else a TC
//! reply with no records within that limit; otherwise (once the attempt times out) SERVFAIL. A
//! truncated answer is retried over TCP to the same resolver; the retry then gets the same bytes as its
//! answer, or fails. The first input byte picks the client query (its value
//! is replaced by the ID anyway) and, with its top bit, whether the TCP retry fails. The table has its
//! answer cache (without serve-stale, so a failure is still SERVFAIL): whatever it kept of the answer,
//! a hit reads as an answer to the client's question under the client's ID.
#![no_main]

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::answer::Transport;
use mesos_dns::internals::config::Config;
use mesos_dns::internals::forward::table::{Io, Table};
use mesos_dns::internals::forward::{client_udp_limit, verify, Accepted, CacheConfig, Client, SecureRandom, Upstreams};
use mesos_dns::internals::wire::{field, rcode, Message, Rcode};

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
const UPSTREAM: &str = "127.0.0.1:5300";
const TIMEOUT: Duration = Duration::from_secs(5);

struct Rig {
    table: Table,
    /// Virtual time, moved past every deadline after each input.
    now: Instant,
}

fn rig() -> Rig {
    let upstream: SocketAddr = UPSTREAM.parse().expect("addr");
    let config = Config {
        resolvers: vec![upstream],
        ..Config::default()
    };
    let (upstreams, _) = Upstreams::new(&config, None, "127.0.0.1:1".parse().expect("addr"));
    let sockets = vec![
        "0.0.0.0:40001".parse().expect("addr"),
        "0.0.0.0:40002".parse().expect("addr"),
    ];
    let random = SecureRandom::new().expect("the OS gives random numbers");
    Rig {
        table: Table::new(
            upstreams,
            TIMEOUT,
            sockets,
            random,
            Some(CacheConfig {
                max_entries: 16,
                serve_stale: Duration::ZERO,
            }),
        ),
        now: Instant::now(),
    }
}

thread_local! {
    static RIG: RefCell<Rig> = RefCell::new(rig());
}

/// `bytes` under the ID of `wire` (when both have one).
fn under_id_of(bytes: &[u8], wire: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if let (Some(dst), Some(id)) = (out.get_mut(..2), wire.get(..2)) {
        dst.copy_from_slice(id);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some(&pick) = data.first() else { return };
    if data.len() > 65507 {
        return; // not a UDP datagram
    }
    let query = QUERIES[usize::from(pick) % QUERIES.len()];
    let client = Client::Udp {
        peer: CLIENT.parse().expect("addr"),
        local: None,
    };
    let upstream: SocketAddr = UPSTREAM.parse().expect("addr");
    RIG.with_borrow_mut(|Rig { table, now }| {
        table.relay(query, client, *now);
        let Some(Io::SendUdp { socket, to, attempt }) = table.next_io() else {
            panic!("a UDP client's query goes out over UDP");
        };
        assert_eq!(to, upstream);
        assert_eq!(table.next_io(), None);
        let wire = table.wire(attempt).expect("the attempt is current").to_vec();
        assert_eq!(wire[2..], query[2..], "relayed as asked but for the ID");
        let answer = under_id_of(data, &wire);
        let before = table.stats;
        table.on_udp_answer(socket, to, &answer, *now);
        let asked = Message::parse(query).expect("the client queries parse");
        let verdict = verify(&asked, &answer).map(|v| v.accepted);
        match verdict {
            Ok(Accepted::Complete) => assert_eq!(table.next_io(), None),
            Ok(Accepted::Truncated) => {
                let Some(Io::OpenTcp { conn, to, attempt }) = table.next_io() else {
                    panic!("a truncated answer is retried over TCP");
                };
                assert_eq!(to, upstream, "to the same resolver");
                assert_eq!(table.pending_count(), 1);
                if pick & 0x80 == 0 {
                    let wire = table.wire(attempt).expect("current").to_vec();
                    table.on_tcp_answer(conn, &under_id_of(data, &wire), *now);
                } else {
                    table.on_tcp_failed(conn, *now);
                }
                assert_eq!(table.next_io(), Some(Io::CloseTcp { conn }));
            }
            Err(_) => {
                assert_eq!(table.pending_count(), 1, "{verdict:?}: still waiting");
                table.expire(*now + TIMEOUT);
            }
        }
        assert_eq!(table.next_io(), None);
        assert_eq!(table.pending_count(), 0);
        let replies: Vec<_> = table.outbox().collect();
        assert_eq!(replies.len(), 1, "one reply per client query");
        let (to, reply) = &replies[0];
        assert_eq!(*to, client);
        assert_eq!(reply.get(..2), Some(&b"\xbe\xef"[..]), "the client's ID");
        match verdict {
            Ok(_) => {
                let msg = Message::parse(&answer).expect("accepted answers parse");
                assert!(msg.is_response() && msg.qdcount() == 1);
                let limit = client_udp_limit(&asked);
                if reply[2..] == answer[2..] {
                    assert!(answer.len() <= limit, "passed on whole only when it fits the client");
                    assert!(
                        msg.flags() & field::TC == 0 || answer.get(6..8) == Some(&[0u8, 0][..]),
                        "a truncated answer with records is never passed on as is"
                    );
                    assert_eq!(table.stats.answered, before.answered + 1);
                } else {
                    let r = Message::parse(reply).expect("the truncated reply parses");
                    assert!(r.flags() & field::TC != 0, "TC set");
                    assert_eq!(reply.get(6..8), Some(&[0u8, 0][..]), "no answer records");
                    assert!(reply.len() <= limit, "the truncated reply fits the client");
                }
            }
            Err(_) => {
                if answer.len() >= 2 {
                    assert_eq!(table.stats.rejected, before.rejected + 1);
                }
                let msg = Message::parse(reply).expect("our SERVFAIL parses");
                assert_eq!(msg.flags() & 0xf, rcode::SERVFAIL);
            }
        }
        // What the cache kept, if anything, answers the same question (another ID, another case).
        let mut again = query.to_vec();
        again[..2].copy_from_slice(b"\x12\x34");
        again[14] ^= 0x20; // a letter of the first label in each query
        let mut out = vec![0u8; 65535];
        let again_msg = Message::parse(&again).expect("query");
        if let Some(n) = table.lookup(&again_msg, Transport::Tcp, *now, &mut out) {
            let hit = Message::parse(&out[..n]).expect("a cached answer parses");
            let q = Message::parse(&again).expect("query").question().expect("question");
            assert_eq!(hit.id(), 0x1234, "the client's ID");
            assert_eq!(
                hit.question().map(|h| h.raw),
                Some(q.raw),
                "the client's question bytes"
            );
            assert!(
                matches!(hit.rcode(), Rcode::NOERROR | Rcode::NXDOMAIN),
                "{}",
                hit.rcode()
            );
            assert_eq!(hit.flags() & field::TC, 0, "never a truncated answer");
            assert!(matches!(verdict, Ok(_)), "only accepted answers are cached");
        }
        assert_eq!(table.next_io(), None, "no prefetch from a first hit");
        table.flush_cache();
        // Past every deadline: the stale ones go. A resolver that failed twice (rejected answers
        // count as silence) is probed then: the probe is answered, so the next input finds it up.
        *now += 2 * TIMEOUT;
        table.expire(*now);
        while let Some(io) = table.next_io() {
            let Io::SendUdp { socket, to, attempt } = io else {
                panic!("only a probe goes out: {io:?}");
            };
            let mut probe_answer = table.wire(attempt).expect("the probe is current").to_vec();
            probe_answer[2] |= 0x80;
            table.on_udp_answer(socket, to, &probe_answer, *now);
        }
        *now += 2 * TIMEOUT;
        table.expire(*now);
        assert_eq!((table.next_deadline(), table.outbox().count()), (None, 0));
        assert!(table.resolvers().iter().all(|r| r.is_up()));
    });
});
