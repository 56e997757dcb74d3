//! The static records of `"staticRecordsFile"` as the refresher holds them: read and parsed at start
//! and again whenever a config is adopted (SIGHUP), kept otherwise (a refresh does not touch the file).
//! A file that cannot be read or has a bad line is refused whole: at start that stops the server
//! (exit 2), on a reload the records already held stay. The parsing is [`crate::records::zonefile`]'s;
//! adding the records to each refresh's list is [`StaticRecords::append_to`].

use std::fmt;
use std::io::Read;

use crate::config::Config;
use crate::records::zonefile::{self, StaticRecord, ZoneFileError, MAX_FILE_BYTES};
use crate::snapshot::RecordList;

/// The records of the static records file (none without the key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StaticRecords {
    records: Vec<StaticRecord>,
}

/// Why a static records file was refused.
#[derive(Debug)]
pub(crate) enum StaticError {
    Read { path: String, error: String },
    Parse { path: String, error: ZoneFileError },
}

impl fmt::Display for StaticError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StaticError::Read { path, error } => write!(f, "staticRecordsFile: cannot read {path}: {error}"),
            StaticError::Parse { path, error } => write!(f, "staticRecordsFile: {path} {error}"),
        }
    }
}

impl StaticRecords {
    /// Reads and parses the file `config` names (nothing without `staticRecordsFile`).
    pub(crate) fn load(config: &Config) -> Result<StaticRecords, StaticError> {
        let path = &config.static_records_file;
        if path.is_empty() {
            return Ok(StaticRecords::default());
        }
        let read_error = |error: String| StaticError::Read {
            path: path.clone(),
            error,
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_BYTES as u64 + 1).read_to_string(&mut text))
            .map_err(|e| read_error(e.to_string()))?;
        if text.len() > MAX_FILE_BYTES {
            return Err(read_error(format!("larger than {MAX_FILE_BYTES} bytes")));
        }
        let records = zonefile::parse(&text, &config.domain, config.ttl).map_err(|error| StaticError::Parse {
            path: path.clone(),
            error,
        })?;
        Ok(StaticRecords { records })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Appends the static records to a freshly generated list (after every generated record, so that
    /// the snapshot knows them apart: see `Records::build` for what wins at a shared name).
    pub(crate) fn append_to(&self, list: &mut RecordList) {
        if self.records.is_empty() {
            return;
        }
        list.begin_static();
        for r in &self.records {
            list.push(&r.name, r.data.clone());
        }
    }
}
