//! Binding the DNS UDP socket beside a second socket its replies leave from. The kernel wakes every
//! waiter on a socket's wait queue each time one of its sent datagrams is freed (on loopback, at once,
//! in the sender's own system call), and the event loop's epoll entry is always such a waiter: about 3%
//! of the kernel's time per answered query went to epoll callbacks that had nothing to report (the
//! loop waits for reading only). Replies sent from a socket that no epoll set watches skip them.
//!
//! Both sockets are bound to the same address and port with `SO_REUSEPORT`, and a one-instruction
//! classic BPF program steers every datagram of the group to its first member, the listening socket
//! (`SO_ATTACH_REUSEPORT_CBPF`: members are numbered in the order they were bound). Only sockets of
//! the same user may join the group, and our TCP listener on the same port (bound without it) still
//! refuses a second server. If any step fails, replies leave from the listening socket itself.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::from_socket_addr;
use crate::sockopt;

/// The listening socket and, if the kernel allows the group, the socket replies are sent from.
pub(super) fn bind_pair(addr: SocketAddr) -> io::Result<(std::net::UdpSocket, Option<std::net::UdpSocket>)> {
    let listener = bind_one(addr)?;
    let replies = listener
        .local_addr()
        .and_then(|bound| {
            steer_to_first(&listener)?;
            bind_one(bound)
        })
        .map_err(|e| log::debug!("DNS UDP socket: replies leave from the listening socket: {e}"))
        .ok();
    Ok((listener, replies))
}

/// A non-blocking UDP socket bound to `addr` with `SO_REUSEPORT`.
fn bind_one(addr: SocketAddr) -> io::Result<std::net::UdpSocket> {
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: plain system call; the descriptor is owned at once.
    let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    sockopt::set_int(&fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    let (name, len) = from_socket_addr(addr);
    // SAFETY: `name` holds a sockaddr of `len` bytes.
    if unsafe { libc::bind(fd.as_raw_fd(), std::ptr::addr_of!(name).cast(), len) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(std::net::UdpSocket::from(fd))
}

/// Attaches to `socket`'s reuseport group a program that picks member 0 for every datagram.
fn steer_to_first(socket: &impl AsRawFd) -> io::Result<()> {
    let mut program = [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: 0,
    }];
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    sockopt::set(socket, libc::SOL_SOCKET, libc::SO_ATTACH_REUSEPORT_CBPF, &fprog)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn every_datagram_reaches_the_listening_socket_and_replies_leave_from_its_port() {
        every_datagram_reaches_the_listener("127.0.0.1");
        if std::net::UdpSocket::bind("[::1]:0").is_ok() {
            every_datagram_reaches_the_listener("::1");
        }
    }

    fn every_datagram_reaches_the_listener(ip: &str) {
        let ip: std::net::IpAddr = ip.parse().unwrap();
        let (listener, replies) = bind_pair(SocketAddr::new(ip, 0)).unwrap();
        let replies = replies.expect("the kernel allows a reuseport group");
        let port = listener.local_addr().unwrap().port();
        assert_eq!(replies.local_addr().unwrap().port(), port);
        // Many sources (the group would spread them by a hash of the 4-tuple without the program).
        let clients: Vec<_> = (0..64)
            .map(|_| std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).unwrap())
            .collect();
        for c in &clients {
            c.send_to(b"q", (ip, port)).unwrap();
        }
        let mut buf = [0u8; 16];
        let mut got = 0;
        let started = Instant::now();
        while got < clients.len() {
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{got} of {} came",
                clients.len()
            );
            match listener.recv_from(&mut buf) {
                Ok((_, peer)) => {
                    got += 1;
                    replies.send_to(b"a", peer).unwrap();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
        assert!(replies.recv_from(&mut buf).is_err(), "the reply socket got a query");
        for c in &clients {
            c.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
            let (n, from) = c.recv_from(&mut buf).unwrap();
            assert_eq!((&buf[..n], from.port()), (&b"a"[..], port));
        }
    }

    #[test]
    fn a_port_held_without_reuse_is_refused() {
        let held = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = bind_pair(held.local_addr().unwrap()).expect_err("the port is taken");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }
}
