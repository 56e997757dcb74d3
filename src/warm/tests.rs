//! The warm start's checks on a real file: one that passes is served as written; a missing, cut,
//! changed, foreign, other-domain, stale or future one is refused with a reason that says which.

use std::fs;
use std::path::PathBuf;

use super::format::{encode, tests::fixture_snapshot};
use super::*;

const WRITTEN: u64 = 1_700_000_000;
const SERIAL: u32 = 1_699_999_995;

/// A directory of its own for each test, and a config whose `snapshotFile` is in it.
fn setup(test: &str) -> (PathBuf, Config) {
    let dir = std::env::temp_dir().join(format!("mesos-dns-warm-{}-{test}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let config = Config {
        snapshot_file: dir.join("snapshot").display().to_string(),
        ptr_on: true,
        ..Config::default()
    };
    (dir, config)
}

fn refused(config: &Config, now: u64) -> String {
    match load(config, now) {
        Ok(_) => panic!("served"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_good_file_is_served_with_its_records_and_serial() {
    let (dir, config) = setup("good");
    let records = fixture_snapshot(SERIAL);
    fs::write(&config.snapshot_file, encode(&records, WRITTEN)).unwrap();
    let loaded = load(&config, WRITTEN + 60).unwrap();
    assert_eq!(loaded.records.describe(), records.describe());
    assert_eq!(loaded.records.serial(), SERIAL);
    assert!(loaded.records.is_loaded());
    assert_eq!(loaded.written_at, WRITTEN);
    let (a, aaaa, srv) = records.counts();
    assert_eq!(loaded.count, a + aaaa + srv + records.extra_count());
    // Stored into the records, and said so (written now: `start` reads the clock).
    fs::write(&config.snapshot_file, encode(&records, unix_now())).unwrap();
    let served = ArcSwap::from_pointee(Records::unloaded(zone(&config)));
    let status = SnapshotFileStatus::default();
    let written = start(&config, &served, &status).unwrap();
    assert_eq!(written.serial, SERIAL);
    assert_eq!(served.load().describe(), records.describe());
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_files_are_refused_saying_which() {
    let (dir, config) = setup("bad");
    let bytes = encode(&fixture_snapshot(SERIAL), WRITTEN);
    let now = WRITTEN + 10;
    assert!(matches!(load(&config, now), Err(LoadError::Missing)));
    fs::write(&config.snapshot_file, &bytes[..bytes.len() / 2]).unwrap();
    assert!(refused(&config, now).starts_with("truncated"));
    let mut changed = bytes.clone();
    changed[bytes.len() / 2] ^= 1;
    fs::write(&config.snapshot_file, &changed).unwrap();
    assert!(refused(&config, now).starts_with("corrupt"));
    fs::write(&config.snapshot_file, b"{\"masters\": [\"127.0.0.1:5050\"]}").unwrap();
    assert!(refused(&config, now).contains("foreign"));
    fs::write(&config.snapshot_file, &bytes).unwrap();
    let other = Config {
        domain: "dc1.mesos".into(),
        ..config.clone()
    };
    assert_eq!(
        refused(&other, now),
        "it holds the records of another domain (\"mesos\")"
    );
    let young = Config {
        snapshot_max_age_seconds: 9,
        ..config.clone()
    };
    assert_eq!(
        refused(&young, now),
        "stale: written 10 s ago, over snapshotMaxAgeSeconds (9 s)"
    );
    assert!(refused(&config, WRITTEN - 3600).contains("in the future"));
    assert!(
        load(&config, WRITTEN - 60).is_ok(),
        "a clock a minute behind is tolerated"
    );
    // None of them is stored.
    let served = ArcSwap::from_pointee(Records::unloaded(zone(&config)));
    fs::write(&config.snapshot_file, &changed).unwrap();
    assert!(start(&config, &served, &SnapshotFileStatus::default()).is_none());
    assert!(!served.load().is_loaded());
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn no_file_configured_is_no_warm_start() {
    let config = Config::default();
    let served = ArcSwap::from_pointee(Records::unloaded(zone(&config)));
    assert!(start(&config, &served, &SnapshotFileStatus::default()).is_none());
    assert!(!served.load().is_loaded());
}
