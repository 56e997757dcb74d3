//! The DNS UDP socket. Bound to a specific address it is plain `recv_from`/`send_to`. Bound to the
//! unspecified address (every interface, `listener: 0.0.0.0`), a reply must leave from the address
//! the query was sent to, or the client drops it (glibc, musl, dig...): each datagram is received
//! with `recvmsg` and its destination address (`IP_PKTINFO` / `IPV6_PKTINFO`), and the reply is sent
//! with `sendmsg` naming that address as its source. Both use buffers on the stack: no allocation.
//! Queries are taken and answered by the batch ([`batch`]: `recvmmsg` and `sendmmsg`, the same
//! addresses); the single calls serve relayed answers. Replies leave from a second socket on the same
//! address and port that the event loop does not watch ([`bind`]).

mod batch;
mod bind;

use std::cell::RefCell;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};

use mio::net::UdpSocket;

use crate::forward::{set_udp_buffers, UdpBuffers};
use crate::sockopt;

pub(crate) use batch::{Batch, BATCH};

/// Room for one `in6_pktinfo` control message (the larger of the two), aligned for `cmsghdr`.
#[repr(C, align(8))]
struct ControlBuf([u8; 64]);

/// The DNS UDP socket, whether it reports destination addresses, and the buffers of its batches.
pub(crate) struct DnsUdp {
    pub(crate) socket: UdpSocket,
    /// The socket replies are sent from, on the same address and port, in no epoll set ([`bind`]);
    /// `None`: `socket` itself.
    replies: Option<std::net::UdpSocket>,
    pktinfo: bool,
    pub(crate) batch: RefCell<Batch>,
}

impl DnsUdp {
    /// Binds the DNS UDP socket on `addr` and the socket its replies leave from, with the kernel
    /// buffers asked for (`udpReceiveBuffer`, `udpSendBuffer`).
    pub(crate) fn bind(addr: SocketAddr, buffers: UdpBuffers) -> io::Result<DnsUdp> {
        let (listener, replies) = bind::bind_pair(addr)?;
        set_udp_buffers(&listener, buffers, "DNS UDP socket");
        let mut udp = DnsUdp::new(UdpSocket::from_std(listener))?;
        if let Some(replies) = replies {
            set_udp_buffers(&replies, buffers, "DNS UDP reply socket");
            set_dont_fragment(&replies, addr);
            udp.replies = Some(replies);
        }
        Ok(udp)
    }

    /// The descriptor replies are sent from.
    fn send_fd(&self) -> RawFd {
        self.replies
            .as_ref()
            .map_or_else(|| self.socket.as_raw_fd(), AsRawFd::as_raw_fd)
    }

    /// Wraps `socket`; asks for destination addresses if it is bound to the unspecified address, and
    /// sets the Don't Fragment bit on replies ([`set_dont_fragment`]).
    pub(crate) fn new(socket: UdpSocket) -> io::Result<DnsUdp> {
        let local = socket.local_addr()?;
        set_dont_fragment(&socket, local);
        let pktinfo = local.ip().is_unspecified();
        if pktinfo {
            match local {
                SocketAddr::V4(_) => set_flag(&socket, libc::IPPROTO_IP, libc::IP_PKTINFO)?,
                SocketAddr::V6(_) => {
                    set_flag(&socket, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO)?;
                    // IPv4 datagrams on a dual-stack socket report theirs this way.
                    let _ = set_flag(&socket, libc::IPPROTO_IP, libc::IP_PKTINFO);
                }
            }
        }
        Ok(DnsUdp {
            socket,
            replies: None,
            pktinfo,
            batch: RefCell::new(Batch::new()),
        })
    }

    /// Sends `reply` to `peer`, from `local` if given (the address its query was sent to).
    #[inline]
    pub(crate) fn send(&self, reply: &[u8], peer: SocketAddr, local: Option<IpAddr>) -> io::Result<usize> {
        let Some(local) = local.filter(|_| self.pktinfo) else {
            return match &self.replies {
                Some(replies) => replies.send_to(reply, peer),
                None => self.socket.send_to(reply, peer),
            };
        };
        let (mut to, to_len) = from_socket_addr(peer);
        let mut control = ControlBuf([0; 64]);
        let mut iov = libc::iovec {
            iov_base: reply.as_ptr().cast_mut().cast(),
            iov_len: reply.len(),
        };
        // SAFETY: all-zero is a valid msghdr.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = std::ptr::addr_of_mut!(to).cast();
        msg.msg_namelen = to_len;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        fill_pktinfo(&mut msg, &mut control, local);
        // SAFETY: every pointer in `msg` points at a live buffer of the length given.
        let n = unsafe { libc::sendmsg(self.send_fd(), &msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

/// Points `msg` at `control`, filled with one pktinfo message naming `local` as the source address.
fn fill_pktinfo(msg: &mut libc::msghdr, control: &mut ControlBuf, local: IpAddr) {
    msg.msg_control = control.0.as_mut_ptr().cast();
    // SAFETY: the control buffer has room for one pktinfo message of either family (checked by the
    // tests), and is aligned for cmsghdr; CMSG_* walk only what `msg_controllen` says.
    unsafe {
        let (level, kind, data_len) = match local {
            IpAddr::V4(_) => (libc::IPPROTO_IP, libc::IP_PKTINFO, size_of::<libc::in_pktinfo>()),
            IpAddr::V6(_) => (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, size_of::<libc::in6_pktinfo>()),
        };
        msg.msg_controllen = libc::CMSG_SPACE(data_len as u32) as _;
        let cmsg = libc::CMSG_FIRSTHDR(msg);
        if cmsg.is_null() {
            msg.msg_control = std::ptr::null_mut();
            msg.msg_controllen = 0;
            return;
        }
        (*cmsg).cmsg_level = level;
        (*cmsg).cmsg_type = kind;
        (*cmsg).cmsg_len = libc::CMSG_LEN(data_len as u32) as _;
        let data = libc::CMSG_DATA(cmsg);
        match local {
            IpAddr::V4(ip) => {
                let mut info: libc::in_pktinfo = zeroed();
                info.ipi_spec_dst.s_addr = u32::from_ne_bytes(ip.octets());
                std::ptr::write_unaligned(data.cast(), info);
            }
            IpAddr::V6(ip) => {
                let mut info: libc::in6_pktinfo = zeroed();
                info.ipi6_addr.s6_addr = ip.octets();
                std::ptr::write_unaligned(data.cast(), info);
            }
        }
    }
}

/// Replies leave with the Don't Fragment bit and are never fragmented (`IP_PMTUDISC_PROBE`, RFC 9715
/// R1): none is larger than 1232 bytes ([`crate::wire::MAX_UDP_PAYLOAD`]), which fits any link, and
/// path MTU reports (ICMP "fragmentation needed", which anyone can forge to get answers fragmented) are
/// ignored, as NSD and Knot ignore them. A datagram with DF set is atomic, so its IP ID may be zero (RFC
/// 6864): the kernel skips the shared ID generator (a hash and an atomic per datagram, about 3% of the
/// kernel's time per answered query). Best effort: without it replies are sent as before.
fn set_dont_fragment(socket: &impl AsRawFd, local: SocketAddr) {
    let ipv4 = (libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, libc::IP_PMTUDISC_PROBE);
    let ipv6 = (libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER, libc::IPV6_PMTUDISC_PROBE);
    let options: &[_] = match local {
        SocketAddr::V4(_) => &[ipv4],
        // IPv4 clients of a dual-stack socket get the IPv4 option's behaviour.
        SocketAddr::V6(_) => &[ipv6, ipv4],
    };
    for &(level, option, value) in options {
        if let Err(e) = sockopt::set_int(socket, level, option, value) {
            log::debug!("DNS UDP socket: cannot turn path MTU discovery to probing: {e}");
        }
    }
}

fn set_flag(socket: &impl AsRawFd, level: libc::c_int, option: libc::c_int) -> io::Result<()> {
    sockopt::set_int(socket, level, option, 1)
}

/// The destination address in the control messages of a received `msg`, IPv4-mapped written as IPv4.
///
/// # Safety
/// `msg` must be what `recvmsg` filled in.
unsafe fn destination(msg: &libc::msghdr) -> Option<IpAddr> {
    let mut cmsg = libc::CMSG_FIRSTHDR(msg);
    while !cmsg.is_null() {
        let data = libc::CMSG_DATA(cmsg);
        match ((*cmsg).cmsg_level, (*cmsg).cmsg_type) {
            (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                let info: libc::in_pktinfo = std::ptr::read_unaligned(data.cast());
                return Some(IpAddr::V4(Ipv4Addr::from(info.ipi_addr.s_addr.to_ne_bytes())));
            }
            (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                let info: libc::in6_pktinfo = std::ptr::read_unaligned(data.cast());
                return Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)).to_canonical());
            }
            _ => {}
        }
        cmsg = libc::CMSG_NXTHDR(msg, cmsg);
    }
    None
}

fn to_socket_addr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says it is a sockaddr_in, which fits in the storage.
            let a: libc::sockaddr_in = unsafe { std::ptr::read(std::ptr::from_ref(storage).cast()) };
            let ip = Ipv4Addr::from(a.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(a.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says it is a sockaddr_in6, which fits in the storage.
            let a: libc::sockaddr_in6 = unsafe { std::ptr::read(std::ptr::from_ref(storage).cast()) };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

fn from_socket_addr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let len = write_socket_addr(addr, &mut storage);
    (storage, len)
}

/// Writes `addr` at the start of `storage` (only the bytes of its own sockaddr); its length.
fn write_socket_addr(addr: SocketAddr, storage: &mut libc::sockaddr_storage) -> libc::socklen_t {
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: as above.
            let mut sin: libc::sockaddr_in = unsafe { zeroed() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            // SAFETY: sockaddr_in fits in sockaddr_storage.
            unsafe { std::ptr::write(std::ptr::from_mut(storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above.
            let mut sin6: libc::sockaddr_in6 = unsafe { zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            // SAFETY: sockaddr_in6 fits in sockaddr_storage.
            unsafe { std::ptr::write(std::ptr::from_mut(storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    len as libc::socklen_t
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_control_buffer_holds_either_pktinfo() {
        // SAFETY: CMSG_SPACE is a pure size computation.
        let need = unsafe { libc::CMSG_SPACE(size_of::<libc::in6_pktinfo>() as u32) } as usize;
        assert!(need <= size_of::<ControlBuf>(), "{need}");
    }

    #[test]
    fn addresses_survive_the_round_trip_through_sockaddr() {
        for addr in ["127.0.0.5:5353", "[::1]:53", "[::ffff:127.0.0.1]:40000"] {
            let addr: SocketAddr = addr.parse().unwrap();
            assert_eq!(to_socket_addr(&from_socket_addr(addr).0), Some(addr));
        }
    }

    /// Sends `query` from a socket connected to `to` and waits for what comes back (a connected socket
    /// takes datagrams from `to` only); the server takes it and answers by the batch.
    fn exchange_connected(to: SocketAddr, server: &DnsUdp) -> Option<(SocketAddr, Option<IpAddr>)> {
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect(to).unwrap();
        client.send(b"ping").unwrap();
        let mut batch = Batch::new();
        let started = std::time::Instant::now();
        loop {
            match server.recv_batch(&mut batch) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    assert!(started.elapsed() < Duration::from_secs(3), "the query never came");
                    std::thread::yield_now();
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(batch.len(), 1);
        let (query, peer, local) = batch.datagram(0).expect("a whole datagram");
        assert_eq!(query, b"ping");
        batch.reply(b"pong", peer, local);
        server.send_batch(&mut batch);
        let mut buf = [0u8; 64];
        client.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        client.recv(&mut buf).ok().filter(|&n| &buf[..n] == b"pong")?;
        Some((peer, local))
    }

    #[test]
    fn a_batch_takes_every_waiting_datagram_drops_one_too_big_and_answers_each_sender() {
        let server = DnsUdp::new(UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap()).unwrap();
        let to = server.socket.local_addr().unwrap();
        let clients: Vec<std::net::UdpSocket> = (0..BATCH + 3)
            .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        for (i, c) in clients.iter().enumerate() {
            let query = if i == 1 { vec![7; 5000] } else { vec![i as u8; 12] };
            c.send_to(&query, to).unwrap();
        }
        let mut batch = Batch::new();
        let mut seen = Vec::new();
        let started = std::time::Instant::now();
        while seen.len() < clients.len() {
            assert!(started.elapsed() < Duration::from_secs(3), "{seen:?}");
            let n = match server.recv_batch(&mut batch) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            };
            assert!(n <= BATCH);
            for i in 0..n {
                match batch.datagram(i) {
                    Some((query, peer, local)) => {
                        assert_eq!(local, None);
                        seen.push(Some(query[0]));
                        let answer = [query[0]; 3];
                        batch.reply(&answer, peer, local);
                    }
                    None => seen.push(None),
                }
            }
            server.send_batch(&mut batch);
        }
        assert_eq!(seen.iter().filter(|s| s.is_none()).count(), 1, "the 5000-byte datagram");
        for (i, c) in clients.iter().enumerate().filter(|(i, _)| *i != 1) {
            let mut buf = [0u8; 16];
            c.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
            let n = c.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], &[i as u8; 3], "client {i} gets its own answer");
        }
    }

    #[test]
    fn on_every_address_the_reply_leaves_from_the_address_asked() {
        let server = DnsUdp::new(UdpSocket::bind("0.0.0.0:0".parse().unwrap()).unwrap()).unwrap();
        let port = server.socket.local_addr().unwrap().port();
        for ip in [Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 5)] {
            let got = exchange_connected(SocketAddr::new(ip.into(), port), &server);
            let (_, local) = got.unwrap_or_else(|| panic!("no reply from {ip}"));
            assert_eq!(local, Some(IpAddr::V4(ip)));
        }
    }

    fn get_int(socket: &UdpSocket, level: libc::c_int, option: libc::c_int) -> libc::c_int {
        let mut value: libc::c_int = -1;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: the fd is open; value and len are valid for writing.
        let rc = unsafe {
            libc::getsockopt(
                socket.as_raw_fd(),
                level,
                option,
                std::ptr::addr_of_mut!(value).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0, "{}", io::Error::last_os_error());
        value
    }

    #[test]
    fn replies_are_sent_unfragmented_whatever_path_mtu_is_reported() {
        let v4 = DnsUdp::new(UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap()).unwrap();
        let mtu_discover = get_int(&v4.socket, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER);
        assert_eq!(mtu_discover, libc::IP_PMTUDISC_PROBE);
        let Ok(socket) = UdpSocket::bind("[::1]:0".parse().unwrap()) else {
            return; // no IPv6 here
        };
        let v6 = DnsUdp::new(socket).unwrap();
        let mtu_discover = get_int(&v6.socket, libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER);
        assert_eq!(mtu_discover, libc::IPV6_PMTUDISC_PROBE);
        // The largest reply we send still leaves whole (loopback's MTU is far larger).
        let client = std::net::UdpSocket::bind("[::1]:0").unwrap();
        let reply = [7u8; crate::wire::MAX_UDP_PAYLOAD];
        v6.send(&reply, client.local_addr().unwrap(), None).unwrap();
        client.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let mut buf = [0u8; 2048];
        assert_eq!(client.recv(&mut buf).unwrap(), reply.len());
    }

    #[test]
    fn a_specific_listener_needs_no_destination() {
        let server = DnsUdp::new(UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap()).unwrap();
        let to = server.socket.local_addr().unwrap();
        assert_eq!(exchange_connected(to, &server).map(|r| r.1), Some(None));
    }
}
