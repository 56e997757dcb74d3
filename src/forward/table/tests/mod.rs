//! The relay's decisions on virtual time: the test plays the driver and the upstream resolvers,
//! carrying out the table's I/O commands by hand and feeding it answers, failures and clock readings.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::config::Config;
use crate::forward::health::{HEDGE_MIN, HEDGE_UNMEASURED, PROBE_FIRST, PROBE_MAX, PROBE_TIMEOUT};
use crate::wire::{field, rtype};

const TIMEOUT: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);
const WWW: &str = "www.google.com";
/// The made-up addresses our upstreams give (loopback, so nothing could ever reach out).
const MADE_UP: Ipv4Addr = Ipv4Addr::new(127, 1, 2, 3);
const MADE_UP_2: Ipv4Addr = Ipv4Addr::new(127, 1, 2, 4);
const SPOOF_ADDR: Ipv4Addr = Ipv4Addr::new(127, 6, 6, 6);
const UDP_CLIENT: Client = Client::Udp {
    peer: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000),
    local: None,
};
const TCP_CLIENT: Client = Client::Tcp { slot: 3, generation: 7 };

fn resolver(n: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)), 5300 + u16::from(n))
}

/// The driver's sockets, as the table sees them: four IPv4, four IPv6.
fn sockets() -> Vec<SocketAddr> {
    let v4 = (1..=4).map(|i| SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 40000 + i));
    let v6 = (1..=4).map(|i| SocketAddr::new("::".parse().unwrap(), 40010 + i));
    v4.chain(v6).collect()
}

fn table_for(config: &Config, sockets: Vec<SocketAddr>) -> Table {
    let (upstreams, _) = Upstreams::new(config, None, "127.0.0.1:53".parse().unwrap());
    Table::new(upstreams, TIMEOUT, sockets, SecureRandom::new().unwrap(), None)
}

fn table(resolvers: &[SocketAddr]) -> Table {
    let config = Config {
        resolvers: resolvers.to_vec(),
        ..Config::default()
    };
    table_for(&config, sockets())
}

fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    q
}

/// `query` with an EDNS0 OPT record offering `size` bytes over UDP.
fn query_edns(id: u16, name: &str, qtype: u16, size: u16) -> Vec<u8> {
    let mut q = query(id, name, qtype);
    q[11] = 1;
    q.extend_from_slice(&[0, 0, 41]);
    q.extend_from_slice(&size.to_be_bytes());
    q.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    q
}

/// Where the question of a message built by [`query`] ends.
fn question_end(msg: &[u8]) -> usize {
    let mut pos = 12;
    while msg[pos] != 0 {
        pos += usize::from(msg[pos]) + 1;
    }
    pos + 5
}

/// An upstream's answer to the query it received (`sent`): its ID and question, `flags` on top of
/// QR RD RA, and an A record per address.
fn reply(sent: &[u8], flags: u16, ips: &[Ipv4Addr]) -> Vec<u8> {
    let qend = question_end(sent);
    let mut a = sent[..qend].to_vec();
    a[2..4].copy_from_slice(&(field::QR | field::RD | field::RA | flags).to_be_bytes());
    a[6..8].copy_from_slice(&(ips.len() as u16).to_be_bytes());
    a[10..12].copy_from_slice(&[0, 0]);
    for ip in ips {
        a.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04");
        a.extend_from_slice(&ip.octets());
    }
    a
}

fn answer(sent: &[u8], ips: &[Ipv4Addr]) -> Vec<u8> {
    reply(sent, 0, ips)
}

/// `bytes` under ID `id`.
fn with_id(bytes: &[u8], id: u16) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[..2].copy_from_slice(&id.to_be_bytes());
    b
}

fn id_of(msg: &[u8]) -> u16 {
    u16::from_be_bytes([msg[0], msg[1]])
}

fn ios(t: &mut Table) -> Vec<Io> {
    std::iter::from_fn(|| t.next_io()).collect()
}

/// A datagram the table had sent: the socket, the resolver and the bytes.
struct Sent {
    socket: usize,
    to: SocketAddr,
    attempt: Attempt,
    wire: Vec<u8>,
}

/// The one command queued, which must be a datagram.
fn one_udp(t: &mut Table) -> Sent {
    match ios(t)[..] {
        [Io::SendUdp { socket, to, attempt }] => Sent {
            socket,
            to,
            attempt,
            wire: t.wire(attempt).expect("the attempt is current").to_vec(),
        },
        ref other => panic!("expected one datagram, got {other:?}"),
    }
}

/// The one connection opened by the commands queued (others may close connections): its number, the
/// resolver and the bytes.
fn one_tcp(t: &mut Table) -> (usize, SocketAddr, Vec<u8>) {
    let all = ios(t);
    let opened: Vec<_> = all
        .iter()
        .filter_map(|io| match *io {
            Io::OpenTcp { conn, to, attempt } => Some((conn, to, attempt)),
            Io::CloseTcp { .. } => None,
            Io::SendUdp { .. } => panic!("a datagram where a connection was expected: {all:?}"),
        })
        .collect();
    let [(conn, to, attempt)] = opened[..] else {
        panic!("expected one connection opened, got {all:?}")
    };
    (conn, to, t.wire(attempt).expect("current").to_vec())
}

fn delivered(t: &mut Table) -> Vec<(Client, Vec<u8>)> {
    t.outbox().map(|(c, b)| (c, b.into_vec())).collect()
}

/// The one reply queued, for `client`.
fn one_reply(t: &mut Table, client: Client) -> Vec<u8> {
    let mut got = delivered(t);
    assert_eq!(got.len(), 1, "{got:?}");
    let (to, bytes) = got.remove(0);
    assert_eq!(to, client);
    bytes
}

fn assert_servfail_for(reply: &[u8], query: &[u8]) {
    let msg = Message::parse(reply).expect("our SERVFAIL parses");
    assert_eq!(msg.id(), id_of(query), "the client's ID");
    assert!(msg.is_response());
    assert_eq!(msg.rcode(), rcode::SERVFAIL);
    assert_eq!(reply[6..8], [0, 0], "no answers");
    let qend = question_end(query);
    assert_eq!(reply[12..qend], query[12..qend], "question echoed");
}

mod answers;
mod cache;
mod health;
mod ids;
mod order;
