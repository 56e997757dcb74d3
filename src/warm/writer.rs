//! The snapshot file's writer: a thread (`mesos-dns-snapshot`) that writes the newest published
//! records to `snapshotFile`, off the event loop and off the refresher's path. The refresher only says
//! that something was published ([`WriterHandle::published`]: a flag and a wake-up); the thread takes
//! whichever snapshot is current when it gets to it, so publishes that arrive while it writes are
//! coalesced into one write of the newest. It writes at most once per `refreshSeconds`, only when the
//! serial moved (a record changed) or the file is getting old, and each write is atomic: a temporary
//! file in the same directory, written, synced, renamed over the file, the directory synced; mode 0600.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::format::encode;
use crate::clock::unix_now;
use crate::config::Config;
use crate::metrics::SnapshotFileStatus;
use crate::snapshot::Records;

/// What the last write (or the file loaded at start) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) serial: u32,
    /// Unix seconds.
    pub(crate) at: u64,
}

/// Whether a snapshot of `serial` is worth writing at `now` (Unix seconds) over `last`: when a record
/// changed (the serial moved), or when the file is a quarter of `snapshotMaxAgeSeconds` old, so that an
/// unchanging cluster's file stays young enough to be served after a restart.
pub(crate) fn worth_writing(last: Option<Written>, serial: u32, now: u64, max_age: u64) -> bool {
    match last {
        None => true,
        Some(last) if last.serial != serial => true,
        Some(last) => now.saturating_sub(last.at) >= max_age / 4,
    }
}

/// Tells the writer thread that records were published.
#[derive(Clone)]
pub(crate) struct WriterHandle {
    shared: Arc<(Mutex<bool>, Condvar)>,
}

impl WriterHandle {
    /// Something was published: the thread writes the newest snapshot when it may. Never blocks on a
    /// write (the lock only guards the flag).
    pub(crate) fn published(&self) {
        let (pending, wake) = &*self.shared;
        if let Ok(mut pending) = pending.lock() {
            *pending = true;
        }
        wake.notify_one();
    }
}

/// Starts the writer thread. `last` is what the file loaded at start holds (nothing is rewritten until
/// it changes or ages); `config` is read at each write (a reload may move or turn off the file).
pub(crate) fn spawn(
    config: Arc<ArcSwap<Config>>,
    records: Arc<ArcSwap<Records>>,
    status: Arc<SnapshotFileStatus>,
    last: Option<Written>,
) -> io::Result<WriterHandle> {
    let handle = WriterHandle {
        shared: Arc::new((Mutex::new(false), Condvar::new())),
    };
    let shared = handle.shared.clone();
    let mut writer = Writer {
        config,
        records,
        status,
        last,
        last_write: None,
        last_error: None,
    };
    thread::Builder::new()
        .name("mesos-dns-snapshot".into())
        .spawn(move || loop {
            if !wait_for_publish(&shared, writer.next_allowed()) {
                return;
            }
            writer.write_newest();
        })?;
    Ok(handle)
}

/// Waits until something was published and a write is allowed (at `allowed`); false if the lock is
/// poisoned (the thread ends: no file is better than a stuck one).
fn wait_for_publish(shared: &(Mutex<bool>, Condvar), allowed: Option<Instant>) -> bool {
    let (lock, wake) = shared;
    let Ok(mut pending) = lock.lock() else {
        return false;
    };
    loop {
        let now = Instant::now();
        let wait = match allowed {
            _ if !*pending => None,
            Some(at) if at > now => Some(at - now),
            _ => {
                *pending = false;
                return true;
            }
        };
        pending = match wait {
            None => match wake.wait(pending) {
                Ok(p) => p,
                Err(_) => return false,
            },
            Some(d) => match wake.wait_timeout(pending, d) {
                Ok((p, _)) => p,
                Err(_) => return false,
            },
        };
    }
}

struct Writer {
    config: Arc<ArcSwap<Config>>,
    records: Arc<ArcSwap<Records>>,
    status: Arc<SnapshotFileStatus>,
    last: Option<Written>,
    last_write: Option<Instant>,
    /// The last failure logged (each distinct one is logged once, and the recovery after it).
    last_error: Option<String>,
}

impl Writer {
    /// The first moment the next write may start: a refresh period after the last one.
    fn next_allowed(&self) -> Option<Instant> {
        let period = Duration::from_secs(self.config.load().refresh_seconds.max(1));
        self.last_write.map(|at| at + period)
    }

    fn write_newest(&mut self) {
        let config = self.config.load_full();
        let records = self.records.load_full();
        let now = unix_now();
        if config.snapshot_file.is_empty()
            || !records.is_loaded()
            || !worth_writing(self.last, records.serial(), now, config.snapshot_max_age_seconds)
        {
            return;
        }
        let started = Instant::now();
        let bytes = encode(&records, now);
        let serial = records.serial();
        // The snapshot may go as soon as it is encoded: the refresher's next one need not wait for it.
        drop(records);
        let encoded = started.elapsed();
        let path = Path::new(&config.snapshot_file);
        let outcome = write_atomically(path, &bytes);
        self.last_write = Some(Instant::now());
        let took = started.elapsed();
        match outcome {
            Ok(()) => {
                self.status.written(now, took.as_millis() as u64);
                self.last = Some(Written { serial, at: now });
                if self.last_error.take().is_some() {
                    log::info!("the snapshot file {} is written again", path.display());
                }
                log::debug!(
                    "wrote the snapshot file {} ({} bytes, serial {serial}) in {} ms ({} ms encoding)",
                    path.display(),
                    bytes.len(),
                    took.as_millis(),
                    encoded.as_millis()
                );
            }
            Err(e) => {
                self.status.write_failed();
                let message = e.to_string();
                if self.last_error.as_deref() != Some(message.as_str()) {
                    log::warn!(
                        "cannot write the snapshot file {} (snapshotFile): {message}; a restart while no master answers will start without records",
                        path.display()
                    );
                    self.last_error = Some(message);
                }
            }
        }
    }
}

/// Replaces the file at `path` with `bytes` so that a crash at any moment leaves either the old file or
/// the new one whole: a temporary file beside it (`.NAME.tmp`, mode 0600, not following a link),
/// written and synced, renamed over `path`, then the directory synced so that the rename lasts.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        // A temporary file left by an earlier run keeps its mode when opened again.
        file.set_permissions(Permissions::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_worth_writing_when_a_record_changed_or_the_file_ages() {
        let last = Some(Written { serial: 10, at: 1000 });
        assert!(worth_writing(None, 10, 1000, 86400), "nothing written yet");
        assert!(worth_writing(last, 11, 1001, 86400), "a record changed");
        assert!(!worth_writing(last, 10, 1001, 86400), "the same records");
        assert!(!worth_writing(last, 10, 1000 + 21599, 86400));
        assert!(worth_writing(last, 10, 1000 + 21600, 86400), "a quarter of the max age");
        assert!(!worth_writing(last, 10, 999, 86400), "the clock went back");
    }

    #[test]
    fn publishes_during_the_wait_are_coalesced_into_one_write_of_the_newest() {
        use crate::snapshot::{RData, RecordList};
        use crate::warm::format::SnapshotFile;
        let dir = std::env::temp_dir().join(format!("mesos-dns-writer-coalesce-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("snapshot");
        let config = Config {
            snapshot_file: path.display().to_string(),
            refresh_seconds: 1,
            ..Config::default()
        };
        let zone = crate::records::zone(&config);
        let with_serial = |serial: u32| {
            let mut list = RecordList::new();
            list.push("web.mesos.", RData::A(std::net::Ipv4Addr::from(serial)));
            Arc::new(Records::build(zone.clone(), &list, serial))
        };
        let records = Arc::new(ArcSwap::new(Arc::new(Records::unloaded(zone.clone()))));
        let status = Arc::new(SnapshotFileStatus::default());
        let handle = spawn(
            Arc::new(ArcSwap::from_pointee(config)),
            records.clone(),
            status.clone(),
            None,
        )
        .unwrap();
        let serial_in_file = || {
            let bytes = fs::read(&path).unwrap_or_default();
            SnapshotFile::new_checked(&bytes).map(|f| f.serial()).ok()
        };
        // Until the file holds `serial` and the status counts it (the rename comes first).
        let wait_for = |serial: u32, writes: u64| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while serial_in_file() != Some(serial) || status.writes_ok() < writes {
                assert!(Instant::now() < deadline, "serial {serial} never written");
                thread::sleep(Duration::from_millis(10));
            }
        };
        records.store(with_serial(1));
        handle.published();
        wait_for(1, 1);
        // Two publishes within the refresh period after that write: one write, of the newest.
        records.store(with_serial(2));
        handle.published();
        records.store(with_serial(3));
        handle.published();
        wait_for(3, 2);
        assert_eq!(status.writes_ok(), 2);
        // The same records again: nothing to write.
        handle.published();
        records.store(with_serial(4));
        handle.published();
        wait_for(4, 3);
        assert_eq!(status.writes_ok(), 3);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_atomic_write_replaces_the_file_with_mode_0600_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("mesos-dns-writer-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("snapshot");
        // A stale temporary file of another mode, as a crash would leave it.
        fs::write(dir.join(".snapshot.tmp"), b"old").unwrap();
        fs::set_permissions(dir.join(".snapshot.tmp"), Permissions::from_mode(0o644)).unwrap();
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["snapshot"]);
        let err = write_atomically(&dir.join("missing/snapshot"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        fs::remove_dir_all(&dir).unwrap();
    }
}
