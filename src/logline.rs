//! The log line format: `[2026-11-25T05:02:06.401Z INFO  mesos_dns::refresh] message`, as env_logger's
//! default with millisecond timestamps, written without its timestamp and colour dependencies (a
//! calendar library alone would be a tenth of the static binary). Also where the lines go: stderr
//! always, and a file as well when glog's `-log_dir` asks for one ([`Tee`]). How often an outage's
//! repeated lines are written is [`throttle`]'s.

pub(crate) mod throttle;

use std::fmt::Write;
use std::io;

/// Appends `millis` since the Unix epoch as RFC 3339 UTC with milliseconds (`1970-01-01T00:00:00.000Z`).
pub fn write_utc(out: &mut String, millis: u64) {
    let secs = millis / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        millis % 1000
    );
}

/// Writes every log line to stderr and to a file. A failed write to either is dropped: logging never
/// stops the server.
pub struct Tee<W> {
    /// The `-log_dir` file the lines are copied to.
    pub file: W,
}

impl<W: io::Write> io::Write for Tee<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = io::stderr().write_all(buf);
        let _ = self.file.write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = io::stderr().flush();
        let _ = self.file.flush();
        Ok(())
    }
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(millis: u64) -> String {
        let mut s = String::new();
        write_utc(&mut s, millis);
        s
    }

    #[test]
    fn timestamps_are_rfc_3339_utc_with_milliseconds() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00.000Z"); // a leap day
        assert_eq!(utc(1_798_691_826_401), "2026-12-31T04:37:06.401Z");
        assert_eq!(utc(4_107_542_399_999), "2100-02-28T23:59:59.999Z"); // 2100 is not a leap year
        assert_eq!(utc(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
    }
}
