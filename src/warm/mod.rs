//! Warm start (`snapshotFile`, `snapshotMaxAgeSeconds`): the last good records kept in a file, so that a
//! server restarted while no master answers serves them at once instead of SERVFAIL for the whole
//! domain. [`load`] reads the file at start (before the first refresh), [`writer`] keeps it up to date
//! from a thread of its own; the bytes are [`format`]'s.
//!
//! It owns the checks a file must pass to be served (readable, its checksum and version, the configured
//! domain, younger than `snapshotMaxAgeSeconds`) and what is logged when one fails. It does not decide
//! when the refresher replaces the file's records (its first good refresh does), nor how `/ready` and
//! `/metrics` show them (`crate::metrics`).

pub(crate) mod format;
pub(crate) mod writer;

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;

use crate::clock::unix_now;
use crate::config::Config;
use crate::metrics::SnapshotFileStatus;
use crate::records::zone;
use crate::snapshot::Records;
use format::{FormatError, SnapshotFile};
use writer::Written;

/// Files larger than this are not read (a 100k-task cluster's is about 20 MB).
const MAX_FILE_BYTES: u64 = 1 << 30;
/// A file written further in the future than this is not trusted to be young (the clock went back).
const FUTURE_SKEW_SECONDS: u64 = 300;

/// A snapshot file that passed every check, built into records.
pub struct Loaded {
    pub records: Records,
    /// When the file was written (Unix seconds).
    pub written_at: u64,
    /// How many records it held.
    pub count: usize,
}

/// Why a snapshot file is not served.
#[derive(Debug)]
pub enum LoadError {
    /// No file at the path (the first start, or the file was removed): nothing to say but that.
    Missing,
    Read(io::Error),
    TooBig(u64),
    Format(FormatError),
    /// Written for another domain.
    Domain(String),
    /// Older than `snapshotMaxAgeSeconds`.
    Stale {
        age: u64,
        max: u64,
    },
    /// Written in the future: its age cannot be known.
    Future {
        ahead: u64,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Missing => write!(f, "there is none yet"),
            LoadError::Read(e) => write!(f, "cannot read it: {e}"),
            LoadError::TooBig(len) => write!(f, "it is {len} bytes, over the {MAX_FILE_BYTES} read at most"),
            LoadError::Format(e) => write!(f, "{e}"),
            LoadError::Domain(domain) => write!(f, "it holds the records of another domain ({domain:?})"),
            LoadError::Stale { age, max } => {
                write!(f, "stale: written {age} s ago, over snapshotMaxAgeSeconds ({max} s)")
            }
            LoadError::Future { ahead } => {
                write!(
                    f,
                    "written {ahead} s in the future (was the clock set back?): its age is unknown"
                )
            }
        }
    }
}

impl From<FormatError> for LoadError {
    fn from(e: FormatError) -> LoadError {
        LoadError::Format(e)
    }
}

/// Reads `snapshotFile` and builds its records, if it passes every check at `now` (Unix seconds).
pub fn load(config: &Config, now: u64) -> Result<Loaded, LoadError> {
    let bytes = read(Path::new(&config.snapshot_file))?;
    let file = SnapshotFile::new_checked(&bytes)?;
    let domain = file.domain()?;
    if domain != config.domain {
        return Err(LoadError::Domain(domain.to_owned()));
    }
    let written_at = file.written_at();
    if written_at > now.saturating_add(FUTURE_SKEW_SECONDS) {
        return Err(LoadError::Future {
            ahead: written_at - now,
        });
    }
    let age = now.saturating_sub(written_at);
    if age > config.snapshot_max_age_seconds {
        return Err(LoadError::Stale {
            age,
            max: config.snapshot_max_age_seconds,
        });
    }
    let list = file.record_list()?;
    let records = Records::build(zone(config), &list, file.serial());
    Ok(Loaded {
        records,
        written_at,
        count: list.len(),
    })
}

/// The whole file, up to [`MAX_FILE_BYTES`].
fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(LoadError::Missing),
        Err(e) => return Err(LoadError::Read(e)),
    };
    let len = file.metadata().map_err(LoadError::Read)?.len();
    if len > MAX_FILE_BYTES {
        return Err(LoadError::TooBig(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(LoadError::Read)?;
    Ok(bytes)
}

/// [`load`] with its outcome logged: what a start does before its first refresh. `None` when there is
/// no file to serve (none configured, none there, or one that fails a check: said which).
pub(crate) fn load_logged(config: &Config) -> Option<Loaded> {
    if config.snapshot_file.is_empty() {
        return None;
    }
    let path = PathBuf::from(&config.snapshot_file);
    let started = Instant::now();
    match load(config, unix_now()) {
        Ok(loaded) => {
            log::info!(
                "serving {} records from the snapshot file {} written {} s ago (serial {}), loaded in {} ms, until the first good refresh",
                loaded.count,
                path.display(),
                unix_now().saturating_sub(loaded.written_at),
                loaded.records.serial(),
                started.elapsed().as_millis()
            );
            Some(loaded)
        }
        Err(LoadError::Missing) => {
            log::info!(
                "no snapshot file at {} yet (snapshotFile): starting without records",
                path.display()
            );
            None
        }
        Err(e) => {
            log::warn!(
                "ignoring the snapshot file {} (snapshotFile): {e}; starting without records",
                path.display()
            );
            None
        }
    }
}

/// The warm start: the snapshot file's records, if it passes every check, stored into `records` (so
/// that names answer before the first refresh) and reported in `status`. What the file holds is
/// returned for the writer, which then rewrites it only when a record changed or it ages.
pub(crate) fn start(config: &Config, records: &ArcSwap<Records>, status: &SnapshotFileStatus) -> Option<Written> {
    let loaded = load_logged(config)?;
    status.loaded(loaded.count, loaded.written_at);
    let written = Written {
        serial: loaded.records.serial(),
        at: loaded.written_at,
    };
    records.store(Arc::new(loaded.records));
    Some(written)
}

#[cfg(test)]
mod tests;
