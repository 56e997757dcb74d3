//! The snapshot file's reader (`snapshotFile`), arbitrary bytes as a file: checking never panics, and
//! neither does reading the records. Since random bytes rarely carry a matching SHA-256, each input is
//! also tried resealed (its length field and checksum made to match), which sends the fuzzer into the
//! body's parser. Whatever reads builds a snapshot that knows each of its names, and written again it
//! reads back (the same after one round).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::config::Config;
use mesos_dns::internals::snapshot::{Lookup, Records};
use mesos_dns::internals::warm::format::{encode, SnapshotFile};

/// `data` with its length field (octets 12..20) and SHA-256 trailer made to match.
fn resealed(data: &[u8]) -> Option<Vec<u8>> {
    let mut body = data.get(..data.len().checked_sub(32)?)?.to_vec();
    let length = (body.len() as u64 + 32).to_be_bytes();
    body.get_mut(12..20)?.copy_from_slice(&length);
    let sum = ring::digest::digest(&ring::digest::SHA256, &body);
    body.extend_from_slice(sum.as_ref());
    Some(body)
}

fn read(bytes: &[u8]) {
    let Ok(file) = SnapshotFile::new_checked(bytes) else { return };
    let _ = (file.written_at(), file.serial(), file.record_count());
    let Ok(list) = file.record_list() else { return };
    let zone = mesos_dns::internals::records::zone(&Config::default());
    let records = Records::build(zone, &list, file.serial());
    for node in records.nodes() {
        assert!(matches!(records.lookup(node.name), Lookup::Found(_)));
    }
    // Written and read again, then once more: names that differ only in case were one name already,
    // so the second round reads what the first did.
    let once = rebuilt(&records, file.written_at());
    let twice = rebuilt(&once, file.written_at());
    assert_eq!(once.counts(), twice.counts());
    assert_eq!(once.ptr_count(), twice.ptr_count());
    assert_eq!(once.name_count(), twice.name_count());
    assert_eq!(once.counts(), records.counts().min(once.counts()));
}

/// `records` written and read back.
fn rebuilt(records: &Records, written_at: u64) -> Records {
    let bytes = encode(records, written_at);
    let file = SnapshotFile::new_checked(&bytes).expect("a written file checks");
    let list = file.record_list().expect("a written file reads");
    Records::build(records.zone().clone(), &list, file.serial())
}

fuzz_target!(|data: &[u8]| {
    read(data);
    if let Some(sealed) = resealed(data) {
        read(&sealed);
    }
});
