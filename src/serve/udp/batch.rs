//! Datagrams by the batch: up to [`BATCH`] queries taken from the DNS socket with one `recvmmsg`, and
//! their answers given back with one `sendmmsg`, so that a busy server makes two system calls per
//! batch rather than two per query (as NSD and Knot do). The buffers are allocated once, and so are the
//! message headers that point into them: a call only resets the lengths the kernel wrote back (the
//! receiving side) or fills the headers of the answers it sends.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;

use super::{destination, fill_pktinfo, to_socket_addr, write_socket_addr, ControlBuf, DnsUdp};

/// Datagrams received, or answers sent, with one system call at most.
pub(crate) const BATCH: usize = 32;
/// The room for one received datagram: more than any query needs (a bigger one arrives truncated and
/// is dropped, as too big).
const SLOT: usize = 4096;

/// The buffers of one batch: the datagrams received and the answers to send.
pub(crate) struct Batch {
    data: Box<[u8]>,
    names: Box<[libc::sockaddr_storage]>,
    controls: Box<[ControlBuf]>,
    /// `recvmmsg`'s headers, each pointing at its slot of `data`, `names` and `controls` (heap buffers,
    /// which stay where they are when the batch moves).
    recv_iovs: Box<[libc::iovec]>,
    recv_hdrs: Box<[libc::mmsghdr]>,
    /// `sendmmsg`'s: each points at its entry of `names` and `controls`; the rest is filled per call.
    send_iovs: Box<[libc::iovec]>,
    send_hdrs: Box<[libc::mmsghdr]>,
    /// Each received datagram's length, sender and destination (listening on every address); `None`
    /// for one that did not fit or whose sender is unreadable.
    received: Vec<Option<(usize, SocketAddr, Option<IpAddr>)>>,
    /// The answers, one after the other, with where each ends and whom it goes to.
    out: Vec<u8>,
    replies: Vec<(usize, SocketAddr, Option<IpAddr>)>,
}

/// [`BATCH`] all-zero values of a C struct.
///
/// # Safety
/// All-zero must be a valid `T`.
unsafe fn zeroed_slots<T>() -> Box<[T]> {
    (0..BATCH).map(|_| zeroed()).collect()
}

// SAFETY: the raw pointers in the headers point only into the batch's own heap buffers, which move
// with it; nothing else holds them.
unsafe impl Send for Batch {}

impl Batch {
    pub(crate) fn new() -> Batch {
        let mut batch = Batch {
            data: vec![0; BATCH * SLOT].into_boxed_slice(),
            // SAFETY: all-zero is a valid value of these C structs.
            names: unsafe { zeroed_slots() },
            controls: (0..BATCH).map(|_| ControlBuf([0; 64])).collect(),
            // SAFETY: as above.
            recv_iovs: unsafe { zeroed_slots() },
            // SAFETY: as above.
            recv_hdrs: unsafe { zeroed_slots() },
            // SAFETY: as above.
            send_iovs: unsafe { zeroed_slots() },
            // SAFETY: as above.
            send_hdrs: unsafe { zeroed_slots() },
            received: Vec::with_capacity(BATCH),
            out: Vec::new(),
            replies: Vec::with_capacity(BATCH),
        };
        let slots = batch.data.chunks_exact_mut(SLOT).zip(batch.names.iter_mut());
        let headers = batch.recv_iovs.iter_mut().zip(batch.recv_hdrs.iter_mut());
        let send_headers = batch.send_iovs.iter_mut().zip(batch.send_hdrs.iter_mut());
        for ((((data, name), control), (iov, hdr)), (send_iov, send_hdr)) in
            slots.zip(batch.controls.iter_mut()).zip(headers).zip(send_headers)
        {
            iov.iov_base = data.as_mut_ptr().cast();
            iov.iov_len = SLOT;
            let msg = &mut hdr.msg_hdr;
            msg.msg_name = std::ptr::from_mut(name).cast();
            msg.msg_iov = iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.0.as_mut_ptr().cast();
            let msg = &mut send_hdr.msg_hdr;
            msg.msg_name = std::ptr::from_mut(name).cast();
            msg.msg_iov = send_iov;
            msg.msg_iovlen = 1;
        }
        batch
    }

    /// How many datagrams the last [`DnsUdp::recv_batch`] took.
    pub(crate) fn len(&self) -> usize {
        self.received.len()
    }

    /// Received datagram `i`: its bytes, sender and destination; `None` if it is to be dropped.
    pub(crate) fn datagram(&self, i: usize) -> Option<(&[u8], SocketAddr, Option<IpAddr>)> {
        let (n, peer, local) = (*self.received.get(i)?)?;
        Some((self.data.get(i * SLOT..i * SLOT + n)?, peer, local))
    }

    /// Queues an answer for the next [`DnsUdp::send_batch`].
    pub(crate) fn reply(&mut self, answer: &[u8], peer: SocketAddr, local: Option<IpAddr>) {
        self.out.extend_from_slice(answer);
        self.replies.push((self.out.len(), peer, local));
    }
}

impl DnsUdp {
    /// Takes the datagrams waiting, [`BATCH`] at most, into `batch` (its answers cleared); how many.
    /// `WouldBlock` when there are none.
    pub(crate) fn recv_batch(&self, batch: &mut Batch) -> io::Result<usize> {
        batch.received.clear();
        batch.out.clear();
        batch.replies.clear();
        // The kernel wrote back the lengths of the last call's addresses and control messages.
        let control_len = if self.pktinfo { size_of::<ControlBuf>() } else { 0 };
        for hdr in batch.recv_hdrs.iter_mut() {
            hdr.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            hdr.msg_hdr.msg_controllen = control_len as _;
        }
        let hdrs = &mut batch.recv_hdrs;
        let fd = self.socket.as_raw_fd();
        let flags = libc::MSG_DONTWAIT as _;
        // SAFETY: each header points at its own live buffers of the lengths given, for this call only.
        let n = unsafe { libc::recvmmsg(fd, hdrs.as_mut_ptr(), hdrs.len() as _, flags, std::ptr::null_mut()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        for (hdr, name) in hdrs.iter().zip(batch.names.iter()).take(n as usize) {
            let msg = &hdr.msg_hdr;
            let whole = msg.msg_flags & libc::MSG_TRUNC == 0;
            let got = to_socket_addr(name).filter(|_| whole).map(|peer| {
                // SAFETY: the kernel wrote `msg_controllen` bytes of well-formed control messages.
                let local = if self.pktinfo {
                    unsafe { destination(msg) }
                } else {
                    None
                };
                (hdr.msg_len as usize, peer, local)
            });
            batch.received.push(got);
        }
        Ok(batch.received.len())
    }

    /// Sends the answers queued in `batch`, [`BATCH`] per call. One the kernel refuses (a full send
    /// buffer, an unreachable peer) is dropped, as the network could drop it; the client retries.
    pub(crate) fn send_batch(&self, batch: &mut Batch) {
        let mut sent = 0;
        // Each round sends or drops one answer at least: bounded by their number.
        while sent < batch.replies.len() {
            let count = (batch.replies.len() - sent).min(BATCH);
            let mut start = sent
                .checked_sub(1)
                .and_then(|i| batch.replies.get(i))
                .map_or(0, |r| r.0);
            let queued = batch.replies[sent..sent + count].iter();
            let slots = batch.names.iter_mut().zip(batch.controls.iter_mut());
            let headers = batch.send_iovs.iter_mut().zip(batch.send_hdrs.iter_mut());
            for (((end, peer, local), (name, control)), (iov, hdr)) in queued.zip(slots).zip(headers) {
                let answer = batch.out.get(start..*end).unwrap_or_default();
                start = *end;
                iov.iov_base = answer.as_ptr().cast_mut().cast();
                iov.iov_len = answer.len();
                let msg = &mut hdr.msg_hdr;
                msg.msg_namelen = write_socket_addr(*peer, name);
                match local.filter(|_| self.pktinfo) {
                    Some(local) => fill_pktinfo(msg, control, local),
                    None => {
                        msg.msg_control = std::ptr::null_mut();
                        msg.msg_controllen = 0;
                    }
                }
            }
            let fd = self.send_fd();
            let hdrs = batch.send_hdrs.as_mut_ptr();
            // SAFETY: the first `count` headers point at live buffers of the lengths given (`out` is
            // not touched until the call returns).
            let n = unsafe { libc::sendmmsg(fd, hdrs, count as _, libc::MSG_DONTWAIT as _) };
            sent += usize::try_from(n).unwrap_or(0).max(1);
        }
    }
}
