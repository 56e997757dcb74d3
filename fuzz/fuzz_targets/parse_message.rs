//! The message parser on arbitrary bytes: it must never panic, and everything it accepts must read
//! back consistently (names, records of every section, EDNS).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::wire::{lower_name, Message, Section};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::parse(data) else { return };
    if let Some(q) = msg.question() {
        let lower = lower_name(&q.name);
        assert_eq!(lower.as_wire().len(), q.name.wire_len());
        assert!(q.name.eq_ignore_case(&q.name));
    }
    for section in [Section::Answer, Section::Authority, Section::Additional] {
        for rec in msg.records(section) {
            assert!(rec.name.wire_len() <= 255);
            assert!(rec.rdata_offset + rec.rdata.len() <= data.len());
        }
    }
    let _ = msg.edns();
});
