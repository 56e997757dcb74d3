//! Datagrams by the batch: up to [`BATCH`] queries taken from the DNS socket with one `recvmmsg`, and
//! their answers given back with one `sendmmsg`, so that a busy server makes two system calls per
//! batch rather than two per query (as NSD and Knot do). The buffers are allocated once; the message
//! headers that point into them are built on the stack for each call.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;

use super::{destination, fill_pktinfo, from_socket_addr, to_socket_addr, ControlBuf, DnsUdp};

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
    /// Each received datagram's length, sender and destination (listening on every address); `None`
    /// for one that did not fit or whose sender is unreadable.
    received: Vec<Option<(usize, SocketAddr, Option<IpAddr>)>>,
    /// The answers, one after the other, with where each ends and whom it goes to.
    out: Vec<u8>,
    replies: Vec<(usize, SocketAddr, Option<IpAddr>)>,
}

impl Batch {
    pub(crate) fn new() -> Batch {
        Batch {
            data: vec![0; BATCH * SLOT].into_boxed_slice(),
            // SAFETY: all-zero is a valid sockaddr_storage.
            names: (0..BATCH).map(|_| unsafe { zeroed() }).collect(),
            controls: (0..BATCH).map(|_| ControlBuf([0; 64])).collect(),
            received: Vec::with_capacity(BATCH),
            out: Vec::new(),
            replies: Vec::with_capacity(BATCH),
        }
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
        // SAFETY: all-zero is a valid value of these C structs.
        let mut iovs: [libc::iovec; BATCH] = unsafe { zeroed() };
        // SAFETY: as above.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        let slots = batch.data.chunks_exact_mut(SLOT).zip(batch.names.iter_mut());
        for (((data, name), control), (iov, hdr)) in slots
            .zip(batch.controls.iter_mut())
            .zip(iovs.iter_mut().zip(hdrs.iter_mut()))
        {
            iov.iov_base = data.as_mut_ptr().cast();
            iov.iov_len = SLOT;
            let msg = &mut hdr.msg_hdr;
            msg.msg_name = std::ptr::from_mut(name).cast();
            msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            msg.msg_iov = iov;
            msg.msg_iovlen = 1;
            if self.pktinfo {
                msg.msg_control = control.0.as_mut_ptr().cast();
                msg.msg_controllen = control.0.len() as _;
            }
        }
        let fd = self.socket.as_raw_fd();
        let flags = libc::MSG_DONTWAIT as _;
        // SAFETY: each header points at its own live buffers of the lengths given, for this call only.
        let n = unsafe { libc::recvmmsg(fd, hdrs.as_mut_ptr(), BATCH as _, flags, std::ptr::null_mut()) };
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
            // SAFETY: all-zero is a valid value of these C structs.
            let mut iovs: [libc::iovec; BATCH] = unsafe { zeroed() };
            // SAFETY: as above.
            let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
            let mut start = sent
                .checked_sub(1)
                .and_then(|i| batch.replies.get(i))
                .map_or(0, |r| r.0);
            let queued = batch.replies[sent..sent + count].iter();
            let slots = batch.names.iter_mut().zip(batch.controls.iter_mut());
            for ((((end, peer, local), (name, control)), iov), hdr) in
                queued.zip(slots).zip(iovs.iter_mut()).zip(hdrs.iter_mut())
            {
                let answer = batch.out.get(start..*end).unwrap_or_default();
                start = *end;
                iov.iov_base = answer.as_ptr().cast_mut().cast();
                iov.iov_len = answer.len();
                let (to, to_len) = from_socket_addr(*peer);
                *name = to;
                let msg = &mut hdr.msg_hdr;
                msg.msg_name = std::ptr::from_mut(name).cast();
                msg.msg_namelen = to_len;
                msg.msg_iov = iov;
                msg.msg_iovlen = 1;
                if let Some(local) = local.filter(|_| self.pktinfo) {
                    fill_pktinfo(msg, control, local);
                }
            }
            let fd = self.socket.as_raw_fd();
            // SAFETY: each header points at live buffers of the lengths given, for this call only.
            let n = unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), count as _, libc::MSG_DONTWAIT as _) };
            sent += usize::try_from(n).unwrap_or(0).max(1);
        }
    }
}
