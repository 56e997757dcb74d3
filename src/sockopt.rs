//! Setting socket options the standard library does not expose (`setsockopt(2)`), in one place for the
//! DNS sockets (`crate::serve`) and the relay's (`crate::forward`).

use std::io;
use std::mem::size_of;
use std::os::fd::AsRawFd;

/// Sets an option that takes a C `int`.
pub(crate) fn set_int(
    socket: &impl AsRawFd,
    level: libc::c_int,
    option: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    set(socket, level, option, &value)
}

/// Sets an option that takes a value of type `T` (a C struct the kernel reads whole).
pub(crate) fn set<T>(socket: &impl AsRawFd, level: libc::c_int, option: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: the fd is open for the borrow's length; `value` points at `size_of::<T>()` readable bytes
    // of the type the option takes (the caller's choice of `T`).
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            option,
            std::ptr::from_ref(value).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
