//! The snapshot file format: a snapshot written and read back answers as the original did; a cut,
//! changed, foreign or made-up file is refused with the reason, never read as records.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::config::Config;
use crate::records::from_state::build_snapshot;
use crate::snapshot::Zone;

/// The fake cluster's snapshot with PTR records and a few static CNAME and TXT records.
pub(crate) fn fixture_snapshot(serial: u32) -> Records {
    let config = Config {
        ptr_on: true,
        ..Config::default()
    };
    let body = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fake.json")).unwrap();
    let (_, mut list) = build_snapshot(
        &config,
        &body,
        &[],
        &[IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1))],
        &|_| Vec::new(),
        serial,
    )
    .unwrap();
    list.begin_static();
    list.push("www.mesos.", RData::Cname("nginx.marathon.mesos.".into()));
    list.push(
        "txt.mesos.",
        RData::Txt(vec!["v=1".into(), String::new(), "two words".into()]),
    );
    list.push("v6.mesos.", RData::Aaaa(Ipv6Addr::LOCALHOST));
    list.push("outside.mesos.", RData::Cname("example.com.".into()));
    Records::build(crate::records::zone(&config), &list, serial)
}

fn read_back(bytes: &[u8]) -> Records {
    let file = SnapshotFile::new_checked(bytes).unwrap();
    let list = file.record_list().unwrap();
    Records::build(Zone::of_default_config(), &list, file.serial())
}

#[test]
fn a_snapshot_read_back_has_the_same_names_records_and_serial() {
    let records = fixture_snapshot(1_700_000_123);
    assert!(
        records.ptr_count() > 0 && records.extra_count() == 3,
        "the fixture has PTR, CNAME, TXT"
    );
    let bytes = encode(&records, 1_700_000_200);
    let file = SnapshotFile::new_checked(&bytes).unwrap();
    assert_eq!(file.written_at(), 1_700_000_200);
    assert_eq!(file.serial(), 1_700_000_123);
    assert_eq!(file.domain(), Ok("mesos"));
    let (a, aaaa, srv) = records.counts();
    assert_eq!(file.record_count() as usize, a + aaaa + srv + records.extra_count());
    let again = read_back(&bytes);
    assert_eq!(again.describe(), records.describe());
    assert_eq!(again.counts(), records.counts());
    assert_eq!(again.ptr_count(), records.ptr_count());
    assert_eq!(again.serial(), 1_700_000_123);
    assert_eq!(again.skipped(), 0);
    // Written again, the same records give the same bytes.
    assert_eq!(encode(&again, 1_700_000_200), bytes);
}

#[test]
fn an_empty_snapshot_reads_back_empty() {
    let records = Records::build(Zone::of_default_config(), &RecordList::new(), 7);
    let bytes = encode(&records, 9);
    let again = read_back(&bytes);
    assert_eq!(again.describe(), records.describe());
    assert_eq!(again.serial(), 7);
}

#[test]
fn an_edited_snapshot_is_written_as_it_answers() {
    let mut list = RecordList::new();
    list.push("web.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1)));
    list.push(
        "_web._tcp.marathon.mesos.",
        RData::Srv {
            target: "web-1.marathon.slave.mesos.".into(),
            port: 31000,
        },
    );
    let mut records = Records::build(Zone::of_default_config(), &list, 3);
    let web = crate::wire::wire_of("web.marathon.mesos");
    records.start_counting();
    records.add(&web, crate::snapshot::Rr::A([10, 0, 0, 2]));
    let again = read_back(&encode(&records, 1));
    assert_eq!(again.describe(), records.describe());
}

#[test]
fn every_cut_of_a_file_is_refused_as_truncated_or_foreign() {
    let bytes = encode(&fixture_snapshot(5), 6);
    for len in 0..bytes.len() {
        match SnapshotFile::new_checked(&bytes[..len]) {
            Err(FormatError::Truncated { have, .. }) => assert_eq!(have, len),
            Err(FormatError::Foreign) => assert_eq!(len, 0),
            other => panic!("{len} bytes: {other:?}"),
        }
    }
}

#[test]
fn every_changed_byte_is_refused() {
    let bytes = encode(&fixture_snapshot(5), 6);
    for at in 0..bytes.len() {
        let mut changed = bytes.clone();
        changed[at] ^= 0x20;
        let err = SnapshotFile::new_checked(&changed).unwrap_err();
        match at {
            0..=7 => assert_eq!(err, FormatError::Foreign, "{at}"),
            8..=9 => assert!(matches!(err, FormatError::Version(_)), "{at}: {err}"),
            12..=19 => assert!(
                matches!(err, FormatError::Truncated { .. } | FormatError::Malformed(_)),
                "{at}: {err}"
            ),
            _ => assert_eq!(err, FormatError::Checksum, "{at}"),
        }
    }
}

#[test]
fn the_reasons_name_what_is_wrong() {
    let bytes = encode(&fixture_snapshot(5), 6);
    let cut = SnapshotFile::new_checked(&bytes[..100]).unwrap_err().to_string();
    assert!(cut.starts_with("truncated: 100 bytes of the "), "{cut}");
    let mut changed = bytes.clone();
    let last = changed.len() - 40;
    changed[last] ^= 1;
    assert!(SnapshotFile::new_checked(&changed)
        .unwrap_err()
        .to_string()
        .starts_with("corrupt"));
    let foreign = SnapshotFile::new_checked(b"{\"masters\": []}").unwrap_err().to_string();
    assert!(foreign.contains("foreign"), "{foreign}");
    let mut newer = bytes.clone();
    newer[9] = 2;
    assert_eq!(
        SnapshotFile::new_checked(&newer).unwrap_err().to_string(),
        "snapshot file format version 2, this build reads version 1 (foreign)"
    );
}

/// `bytes` with its checksum made to match again (what a file crafted to look right has).
fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
    let body = bytes.len() - CHECKSUM_LEN;
    bytes.truncate(body);
    let length = (bytes.len() + CHECKSUM_LEN) as u64;
    bytes[field::LENGTH].copy_from_slice(&length.to_be_bytes());
    let sum = digest::digest(&digest::SHA256, &bytes);
    bytes.extend_from_slice(sum.as_ref());
    bytes
}

#[test]
fn a_resealed_file_with_bad_contents_is_refused_as_corrupt() {
    let bytes = encode(&fixture_snapshot(5), 6);
    let body_start = field::DOMAIN + "mesos".len();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("huge name count", {
            let mut b = bytes.clone();
            b[field::NAMES].copy_from_slice(&u32::MAX.to_be_bytes());
            b
        }),
        ("record count off by one", {
            let mut b = bytes.clone();
            let n = u32::from_be_bytes(b[field::RECORDS].try_into().unwrap()) + 1;
            b[field::RECORDS].copy_from_slice(&n.to_be_bytes());
            b
        }),
        ("domain longer than the file", {
            let mut b = bytes.clone();
            b[field::DOMAIN_LEN].copy_from_slice(&u16::MAX.to_be_bytes());
            b
        }),
        ("a name longer than the file", {
            let mut b = bytes.clone();
            b[body_start..body_start + 2].copy_from_slice(&u16::MAX.to_be_bytes());
            b
        }),
        ("a byte more", {
            let mut b = bytes.clone();
            b.insert(bytes.len() - CHECKSUM_LEN, 0);
            b
        }),
        ("flags", {
            let mut b = bytes.clone();
            b[field::FLAGS].copy_from_slice(&1u16.to_be_bytes());
            b
        }),
    ];
    for (what, b) in cases {
        let b = resealed(b);
        let outcome = SnapshotFile::new_checked(&b).and_then(|f| f.record_list());
        assert!(matches!(outcome, Err(FormatError::Malformed(_))), "{what}: {outcome:?}");
    }
}

#[test]
fn an_srv_target_or_kind_out_of_range_is_corrupt() {
    // One name with one SRV record to name 7 (there is one name), then one of kind 99.
    for record in [&[kind::SRV, 0, 0, 0, 7, 0, 80][..], &[99, 1, 2, 3, 4][..]] {
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&VERSION.to_be_bytes());
        b.extend_from_slice(&[0; 2 + 8]);
        b.extend_from_slice(&1u64.to_be_bytes());
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(&5u16.to_be_bytes());
        b.extend_from_slice(b"mesos");
        b.extend_from_slice(&8u16.to_be_bytes());
        b.extend_from_slice(b"a.mesos.");
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(record);
        b.extend_from_slice(&[0; CHECKSUM_LEN]);
        let b = resealed(b);
        let err = SnapshotFile::new_checked(&b).unwrap().record_list().unwrap_err();
        assert!(matches!(err, FormatError::Malformed(_)), "{err}");
    }
}

/// The fuzz target's seeds (`fuzz/corpus/snapshot_file/seed-*`): real files of this version. Written
/// again with `MESOS_DNS_WRITE_SEEDS=1`; read back on every run, so that a format change that leaves
/// them stale is seen.
#[test]
fn the_fuzz_seeds_are_real_files_of_this_version() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/snapshot_file");
    let mut small = RecordList::new();
    small.push("web.marathon.mesos.", RData::A(Ipv4Addr::new(10, 0, 0, 1)));
    small.push_ip_reverse("web.marathon.mesos.", IpAddr::V6(Ipv6Addr::LOCALHOST));
    small.push(
        "_web._tcp.marathon.mesos.",
        RData::Srv {
            target: "web.marathon.mesos.".into(),
            port: 8080,
        },
    );
    let seeds = [
        (
            "seed-fake-cluster",
            encode(&fixture_snapshot(1_700_000_000), 1_700_000_060),
        ),
        (
            "seed-one-task",
            encode(&Records::build(Zone::of_default_config(), &small, 2), 3),
        ),
        (
            "seed-empty",
            encode(&Records::build(Zone::of_default_config(), &RecordList::new(), 1), 1),
        ),
    ];
    for (name, bytes) in seeds {
        let path = dir.join(name);
        if std::env::var_os("MESOS_DNS_WRITE_SEEDS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        let seed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            seed == bytes,
            "{name} is stale: run this test with MESOS_DNS_WRITE_SEEDS=1"
        );
    }
}
