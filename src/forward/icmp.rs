//! ICMP errors on the relay's unconnected UDP sockets (Linux `IP_RECVERR` / `IPV6_RECVERR`): a
//! resolver whose port is closed answers our datagram with ICMP port unreachable, which the kernel
//! reports on an unconnected socket only if asked to, in the socket's error queue, with the
//! datagram's destination and payload (so the relay table can tell which query it was). Without it,
//! a closed port costs every query the whole `timeout`. This file only sets the option and reads the
//! queue; what a refusal means is `table`'s decision.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

/// Asks the kernel to queue ICMP errors for the UDP socket `socket` of the family of `ipv4`.
pub(super) fn set_recverr(socket: &impl AsRawFd, ipv4: bool) -> io::Result<()> {
    let (level, name) = if ipv4 {
        (libc::IPPROTO_IP, libc::IP_RECVERR)
    } else {
        (libc::IPPROTO_IPV6, libc::IPV6_RECVERR)
    };
    crate::sockopt::set_int(socket, level, name, 1)
}

/// Takes one error off `socket`'s error queue: the destination of the datagram that failed and the
/// length of its payload, copied into `buf`. `None` when the queue is empty.
pub(super) fn take_error(socket: &impl AsRawFd, buf: &mut [u8]) -> Option<(SocketAddr, usize)> {
    // SAFETY: all-zero is a valid sockaddr_storage and msghdr.
    let mut to: libc::sockaddr_storage = unsafe { zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for the extended error the kernel attaches (read only to drain it).
    let mut control = [0u64; 64];
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut to as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 64]>() as _;
    // SAFETY: every pointer in `msg` points at a live buffer of the length given beside it.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
    let n = usize::try_from(n).ok()?.min(buf.len());
    let addr = match libc::c_int::from(to.ss_family) {
        libc::AF_INET => {
            // SAFETY: the kernel wrote a sockaddr_in, as its family says.
            let sin: libc::sockaddr_in = unsafe { *(&to as *const libc::sockaddr_storage).cast() };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port)))
        }
        libc::AF_INET6 => {
            // SAFETY: the kernel wrote a sockaddr_in6, as its family says.
            let sin6: libc::sockaddr_in6 = unsafe { *(&to as *const libc::sockaddr_storage).cast() };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                0,
                sin6.sin6_scope_id,
            ))
        }
        _ => return None,
    };
    Some((addr, n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::{Duration, Instant};

    #[test]
    fn a_closed_port_comes_back_as_an_error_naming_the_destination_and_payload() {
        for (any, ipv4) in [("127.0.0.1:0", true), ("[::1]:0", false)] {
            let socket = UdpSocket::bind(any).unwrap();
            set_recverr(&socket, ipv4).unwrap();
            let closed = UdpSocket::bind(any).unwrap().local_addr().unwrap();
            socket.send_to(b"\x12\x34query", closed).unwrap();
            let started = Instant::now();
            let mut buf = [0u8; 64];
            loop {
                if let Some((to, n)) = take_error(&socket, &mut buf) {
                    assert_eq!((to, &buf[..n]), (closed, &b"\x12\x34query"[..]));
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(3),
                    "{any}: no ICMP error queued"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            assert!(take_error(&socket, &mut buf).is_none(), "one error per datagram");
        }
    }
}
