//! The kernel buffers of our UDP sockets (the DNS socket and the relay's): generous, as NSD and Knot
//! set them, so a burst of queries is queued rather than dropped (`udpReceiveBuffer`,
//! `udpSendBuffer`). The kernel grants at most `net.core.rmem_max` / `wmem_max`; what it granted is
//! logged at debug level.

use std::io;
use std::os::fd::AsRawFd;

use crate::config::DEFAULT_UDP_BUFFER;

/// The buffer sizes to ask for, in bytes; 0 leaves the OS default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UdpBuffers {
    pub receive: u32,
    pub send: u32,
}

impl Default for UdpBuffers {
    fn default() -> UdpBuffers {
        UdpBuffers {
            receive: DEFAULT_UDP_BUFFER,
            send: DEFAULT_UDP_BUFFER,
        }
    }
}

/// Asks for `sizes` on `socket` (`what` names it in the log). A refusal is logged, not fatal: the
/// socket works with the OS default.
pub(crate) fn set_udp_buffers(socket: &impl AsRawFd, sizes: UdpBuffers, what: &str) {
    for (option, size, name) in [
        (libc::SO_RCVBUF, sizes.receive, "receive"),
        (libc::SO_SNDBUF, sizes.send, "send"),
    ] {
        if size == 0 {
            continue;
        }
        match set_option(socket, option, size).and_then(|()| get_option(socket, option)) {
            // Linux reports twice what it reserves for the payload (it counts its bookkeeping).
            Ok(granted) => log::debug!("{what}: {name} buffer {size} bytes asked, {granted} granted"),
            Err(e) => log::warn!("{what}: cannot set the {name} buffer to {size} bytes: {e}"),
        }
    }
}

fn set_option(socket: &impl AsRawFd, option: libc::c_int, size: u32) -> io::Result<()> {
    let value = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
    crate::sockopt::set_int(socket, libc::SOL_SOCKET, option, value)
}

/// The current size of buffer `option` (`SO_RCVBUF` or `SO_SNDBUF`) of `socket`.
pub(super) fn get_option(socket: &impl AsRawFd, option: libc::c_int) -> io::Result<u32> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the fd is open for the borrow's length; value and len are valid for writing.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            std::ptr::addr_of_mut!(value).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(u32::try_from(value).unwrap_or(0))
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    fn sizes(s: &UdpSocket) -> (u32, u32) {
        (
            get_option(s, libc::SO_RCVBUF).unwrap(),
            get_option(s, libc::SO_SNDBUF).unwrap(),
        )
    }

    #[test]
    fn buffers_asked_for_are_granted_up_to_the_kernels_cap() {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let before = sizes(&s);
        // Small enough for any rmem_max/wmem_max: Linux grants twice the size asked.
        set_udp_buffers(
            &s,
            UdpBuffers {
                receive: 60_000,
                send: 50_000,
            },
            "test",
        );
        assert_eq!(sizes(&s), (120_000, 100_000), "before: {before:?}");
        // Zero leaves them alone.
        set_udp_buffers(&s, UdpBuffers { receive: 0, send: 0 }, "test");
        assert_eq!(sizes(&s), (120_000, 100_000));
    }

    #[test]
    fn the_default_ask_raises_the_buffers_as_far_as_the_kernel_allows() {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        set_udp_buffers(
            &s,
            UdpBuffers {
                receive: 4096,
                send: 4096,
            },
            "test",
        );
        let small = sizes(&s);
        set_udp_buffers(&s, UdpBuffers::default(), "test");
        let (receive, send) = sizes(&s);
        assert!(
            receive > small.0 && send > small.1,
            "{small:?} -> {:?}",
            (receive, send)
        );
        assert!(receive <= 2 * DEFAULT_UDP_BUFFER && send <= 2 * DEFAULT_UDP_BUFFER);
    }
}
