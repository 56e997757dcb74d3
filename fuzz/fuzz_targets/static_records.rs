//! The static records parser (`staticRecordsFile`), arbitrary bytes as a master file: it never panics,
//! every record it accepts is under the domain, and the accepted records build a snapshot that knows
//! each of their names, and answers a new name just below a wildcard's parent from that wildcard.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::records::zonefile::parse;
use mesos_dns::internals::snapshot::{Lookup, RecordList, Records};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(records) = parse(text, "mesos", 60) else { return };
    let mut list = RecordList::new();
    list.begin_static();
    for r in &records {
        assert!(r.name == "mesos." || r.name.ends_with(".mesos."), "{} is outside", r.name);
        list.push(&r.name, r.data.clone());
    }
    let zone = mesos_dns::internals::records::zone(&mesos_dns::internals::config::Config::default());
    let snapshot = Records::build(zone, &list, 1);
    for node in snapshot.nodes() {
        assert!(matches!(snapshot.lookup(node.name), Lookup::Found(_)));
        // A wildcard answers a new name just below its parent (RFC 4592).
        if let Some(parent) = node.name.strip_prefix(b"\x01*") {
            let mut fresh = b"\x0dwildcard-fuzz".to_vec();
            fresh.extend_from_slice(parent);
            if matches!(snapshot.lookup(&fresh), Lookup::NotFound) {
                let source = snapshot.wildcard(&fresh).map(|n| n.name);
                assert_eq!(source, Some(node.name));
            }
        }
    }
});
