//! The transfer protocol without sockets: requests in, messages out, read back with our own parser.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::config::TsigKey;
use crate::snapshot::{RData, RecordList, Zone};
use crate::wire::{class, rcode, rtype, wire_of, Section};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A zone of `tasks` tasks (an A and an SRV record each) and the A records of `extra` more.
fn records_with(tasks: u32, extra: &[(&str, [u8; 4])], serial: u32) -> Records {
    let mut list = RecordList::new();
    for i in 0..tasks {
        let ip = Ipv4Addr::from(0x0a00_0000 + i);
        list.push(&format!("task{i}.marathon.mesos."), RData::A(ip));
        list.push(
            &format!("_task{i}._tcp.marathon.mesos."),
            RData::Srv {
                target: format!("task{i}.marathon.mesos."),
                port: 31000,
            },
        );
    }
    for (name, ip) in extra {
        list.push(name, RData::A(Ipv4Addr::from(*ip)));
    }
    Records::build(Zone::of_default_config(), &list, serial)
}

fn zone_with(tasks: u32, extra: &[(&str, [u8; 4])], serial: u32) -> Arc<Records> {
    Arc::new(records_with(tasks, extra, serial))
}

fn policy(keys: &[TsigKey]) -> Policy {
    Policy {
        allow_from: vec![Cidr::parse("127.0.0.0/8").unwrap()],
        keys: Keys::new(keys),
        running: Arc::default(),
    }
}

/// An AXFR or IXFR query for `name` (with the client's SOA serial for IXFR).
fn request(qtype: u16, name: &str, serial: Option<u32>) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, u8::from(serial.is_some()), 0, 0];
    q.extend_from_slice(&wire_of(name));
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&class::IN.to_be_bytes());
    if let Some(serial) = serial {
        q.extend_from_slice(&[0xc0, 0x0c, 0, 6, 0, 1, 0, 0, 0, 0]);
        let mut rdata = vec![0, 0];
        rdata.extend_from_slice(&serial.to_be_bytes());
        rdata.extend_from_slice(&[0; 16]);
        q.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        q.extend_from_slice(&rdata);
    }
    q
}

/// A record as read back: owner (lower-case wire), type, RDATA.
type Rr = (Vec<u8>, u16, Vec<u8>);

fn answers(msg: &[u8]) -> Vec<Rr> {
    let m = Message::parse(msg).expect("a well-formed message");
    m.records(Section::Answer)
        .map(|r| {
            (
                lower_name(&r.name).as_wire().to_vec(),
                r.rtype.to_int(),
                r.rdata.to_vec(),
            )
        })
        .collect()
}

/// [`super::start`] on a request's bytes, read as the router reads them.
fn start(
    query: &[u8],
    peer: IpAddr,
    records: &Arc<Records>,
    policy: &Policy,
    tcp: bool,
    now: u64,
    out: &mut Vec<u8>,
) -> Start {
    let msg = Message::parse(query).expect("a well-formed request");
    super::start(&msg, Signature::of(&msg), peer, records, policy, tcp, now, out)
}

fn start_tcp(query: &[u8], records: &Arc<Records>, policy: &Policy) -> (Start, Vec<u8>) {
    let mut out = Vec::new();
    let started = start(query, LOOPBACK, records, policy, true, 1_000, &mut out);
    (started, out)
}

/// Every message of a transfer.
fn messages(started: Start) -> Vec<Vec<u8>> {
    let Start::Stream(mut t) = started else {
        panic!("no transfer started")
    };
    let mut all = Vec::new();
    while let Some(m) = t.next_message(1_000) {
        all.push(m.to_vec());
    }
    assert!(t.is_done());
    all
}

fn rcode_of(reply: &[u8]) -> u8 {
    reply[3] & 0x0f
}

fn soa_serial(rr: &Rr) -> u32 {
    assert_eq!(rr.1, rtype::SOA);
    let rdata = &rr.2;
    u32::from_be_bytes(rdata[rdata.len() - 20..rdata.len() - 16].try_into().unwrap())
}

#[test]
fn axfr_sends_the_soa_first_and_last_and_every_record_of_the_zone_once() {
    let records = zone_with(3, &[], 7);
    let (started, _) = start_tcp(&request(rtype::AXFR, "MESOS.", None), &records, &policy(&[]));
    let msgs = messages(started);
    assert_eq!(msgs.len(), 1);
    let rrs = answers(&msgs[0]);
    assert_eq!((rrs[0].1, rrs.last().unwrap().1), (rtype::SOA, rtype::SOA));
    assert_eq!(soa_serial(&rrs[0]), 7);
    assert_eq!(rrs.iter().filter(|r| r.1 == rtype::SOA).count(), 2);
    assert_eq!(rrs[1], (wire_of("mesos"), rtype::NS, wire_of("ns1.mesos")));
    let a: Vec<&Rr> = rrs.iter().filter(|r| r.1 == rtype::A).collect();
    assert_eq!(a.len(), 3);
    assert!(a.contains(&&(wire_of("task1.marathon.mesos"), rtype::A, vec![10, 0, 0, 1])));
    let srv = rrs.iter().find(|r| r.1 == rtype::SRV).unwrap();
    assert_eq!(
        &srv.2[..6],
        &[0, 0, 0, 1, 0x79, 0x18],
        "priority 0, the zone's weight, the port"
    );
    // The question echoed as asked, ID kept, AA set.
    assert_eq!(&msgs[0][..2], &[0x12, 0x34]);
    assert_eq!(msgs[0][2] & 0x84, 0x84);
}

#[test]
fn a_large_zone_comes_in_bounded_messages_from_the_snapshot_it_started_with() {
    let records = zone_with(5_000, &[], 7);
    let (started, _) = start_tcp(&request(rtype::AXFR, "mesos.", None), &records, &policy(&[]));
    drop(records); // a refresh swapped another snapshot in: the transfer holds its own
    let msgs = messages(started);
    assert!(msgs.len() > 5, "{} messages", msgs.len());
    assert!(msgs.iter().all(|m| m.len() <= stream::MESSAGE_TARGET + 512));
    let rrs: Vec<Rr> = msgs.iter().flat_map(|m| answers(m)).collect();
    // SOA, NS, an A and an SRV per task, SOA.
    assert_eq!(rrs.len(), 2 + 2 * 5_000 + 1);
    assert_eq!(rrs.iter().filter(|r| r.1 == rtype::SOA).count(), 2);
    assert_eq!(rrs.last().unwrap().1, rtype::SOA);
}

#[test]
fn transfers_are_refused_to_other_networks_to_unsigned_requests_when_keys_are_set_and_over_udp() {
    let records = zone_with(1, &[], 7);
    let q = request(rtype::AXFR, "mesos.", None);
    let mut out = Vec::new();
    let other = IpAddr::V4(Ipv4Addr::new(10, 1, 1, 1));
    assert!(matches!(
        start(&q, other, &records, &policy(&[]), true, 0, &mut out),
        Start::Reply
    ));
    assert_eq!(rcode_of(&out), rcode::REFUSED as u8);
    assert!(matches!(
        start(&q, LOOPBACK, &records, &Policy::default(), true, 0, &mut out),
        Start::Reply
    ));
    assert_eq!(rcode_of(&out), rcode::REFUSED as u8, "nobody is allowed by default");
    let keys = [TsigKey {
        name: "xfr.".into(),
        algorithm: "hmac-sha256".into(),
        secret: b"0123456789abcdef".to_vec(),
    }];
    assert!(matches!(
        start(&q, LOOPBACK, &records, &policy(&keys), true, 0, &mut out),
        Start::Reply
    ));
    assert_eq!(rcode_of(&out), rcode::REFUSED as u8, "a key is needed");
    assert!(matches!(
        start(&q, LOOPBACK, &records, &policy(&[]), false, 0, &mut out),
        Start::Reply
    ));
    assert_eq!(rcode_of(&out), rcode::REFUSED as u8, "AXFR over UDP");
    let q = request(rtype::AXFR, "other.", None);
    assert!(matches!(
        start(&q, LOOPBACK, &records, &policy(&[]), true, 0, &mut out),
        Start::Reply
    ));
    assert_eq!(rcode_of(&out), tsig::NOTAUTH as u8, "not our zone");
}

#[test]
fn ixfr_sends_the_change_since_the_clients_serial_and_the_soa_alone_when_it_is_current() {
    let old = zone_with(2, &[("web.mesos.", [10, 9, 9, 1])], 100);
    let new = records_with(2, &[("web.mesos.", [10, 9, 9, 2]), ("new.mesos.", [10, 9, 9, 3])], 0);
    let new = Arc::new(journal::follow(&old, new, 200, BOUND));
    assert_eq!(new.serial(), 200);
    let p = policy(&[]);
    let (started, _) = start_tcp(&request(rtype::IXFR, "mesos.", Some(100)), &new, &p);
    let rrs: Vec<Rr> = messages(started).iter().flat_map(|m| answers(m)).collect();
    let serials: Vec<u32> = rrs.iter().filter(|r| r.1 == rtype::SOA).map(soa_serial).collect();
    assert_eq!(serials, [200, 100, 200, 200]);
    let web = wire_of("web.mesos");
    // Deleted between the old and the new SOA, added after the new one.
    assert_eq!(rrs[2], (web.clone(), rtype::A, vec![10, 9, 9, 1]));
    let mut added: Vec<Rr> = rrs[4..rrs.len() - 1].to_vec();
    added.sort();
    assert_eq!(
        added,
        [
            (wire_of("new.mesos"), rtype::A, vec![10, 9, 9, 3]),
            (web, rtype::A, vec![10, 9, 9, 2])
        ]
    );
    assert_eq!(rrs[3].1, rtype::SOA);

    let (started, reply) = start_tcp(&request(rtype::IXFR, "mesos.", Some(200)), &new, &p);
    assert!(matches!(started, Start::Reply));
    let rrs = answers(&reply);
    assert_eq!(rrs.len(), 1);
    assert_eq!(soa_serial(&rrs[0]), 200);

    // Older than the journal: the whole zone, in AXFR form.
    let (started, _) = start_tcp(&request(rtype::IXFR, "mesos.", Some(50)), &new, &p);
    let rrs: Vec<Rr> = messages(started).iter().flat_map(|m| answers(m)).collect();
    assert_eq!(rrs[1].1, rtype::NS);
    assert_eq!(rrs.iter().filter(|r| r.1 == rtype::SOA).count(), 2);

    // Over UDP with a change to send: the current SOA with TC.
    let mut out = Vec::new();
    let q = request(rtype::IXFR, "mesos.", Some(100));
    assert!(matches!(
        start(&q, LOOPBACK, &new, &p, false, 0, &mut out),
        Start::Reply
    ));
    assert_ne!(out[2] & 0x02, 0, "TC");
    assert_eq!(soa_serial(&answers(&out)[0]), 200);
}

/// A journal bound that holds every change of these tests.
const BOUND: usize = 1 << 20;

/// `count` snapshots one after the other, each with `x.mesos.` at a new address (a change of one
/// record each), from serial 10 on, the journal kept within `bound` bytes.
fn changed(mut records: Records, count: u8, bound: usize) -> Records {
    for i in 0..count {
        let next = records_with(1, &[("x.mesos.", [10, 0, 1, i])], 0);
        records = journal::follow(&records, next, 10 + u32::from(i), bound);
    }
    records
}

#[test]
fn the_same_records_keep_the_serial_and_the_journal_keeps_every_change_within_its_bytes() {
    let records = records_with(1, &[], 1);
    let same = records_with(1, &[], 0);
    let same = journal::follow(&records, same, 2, BOUND);
    assert_eq!(same.serial(), 1);
    assert!(same.journal().is_empty());
    assert_eq!(same.journal().bytes(), 0);
    let records = changed(records, 40, BOUND);
    assert_eq!(records.serial(), 49);
    let journal = records.journal();
    assert_eq!(journal.len(), 40);
    assert_eq!(journal[0].from_serial, 1);
    assert_eq!(journal.last().unwrap().from_serial, 48);
    assert_eq!(journal.bytes(), journal.iter().map(|c| c.bytes()).sum::<usize>());
}

#[test]
fn the_oldest_changes_are_dropped_to_keep_the_journal_within_its_bound() {
    let all = changed(records_with(1, &[], 1), 40, BOUND);
    let one = all.journal()[5].bytes();
    // Every change but the first is the same size (one A record deleted and one added): room for ten.
    assert!(all.journal().iter().skip(1).all(|c| c.bytes() == one));
    let bounded = changed(records_with(1, &[], 1), 40, 10 * one + one / 2);
    let journal = bounded.journal();
    assert_eq!(journal.len(), 10);
    assert_eq!(journal.bytes(), 10 * one);
    assert_eq!(journal[0].from_serial, 39, "the last ten changes, oldest first");
    assert_eq!(journal.last().unwrap().from_serial, 48);
    assert_eq!(&journal[..], &all.journal()[30..]);

    // A lower bound (a reload) applies at the next publish, even one that changes nothing.
    let next = records_with(1, &[("x.mesos.", [10, 0, 1, 39])], 0);
    let same = journal::follow(&bounded, next, 60, 3 * one);
    assert_eq!(same.serial(), 49);
    assert_eq!(same.journal().len(), 3);
    assert_eq!(same.journal()[0].from_serial, 46);
}

#[test]
fn a_change_bigger_than_the_bound_is_not_kept_and_secondaries_behind_it_get_the_whole_zone() {
    let small = changed(records_with(1, &[], 1), 3, BOUND);
    assert_eq!(small.journal().len(), 3);
    // 200 tasks more: far more bytes than the bound leaves room for.
    let bound = 4 * small.journal()[0].bytes();
    let big = journal::follow(&small, records_with(201, &[("x.mesos.", [10, 0, 1, 2])], 0), 100, bound);
    assert_eq!(big.serial(), 100);
    assert!(
        big.journal().is_empty(),
        "neither the big change nor the older ones (they lead elsewhere)"
    );
    assert_eq!(big.journal().bytes(), 0);
    let big = Arc::new(big);
    let p = policy(&[]);
    for known in [11, 12] {
        let (started, _) = start_tcp(&request(rtype::IXFR, "mesos.", Some(known)), &big, &p);
        let rrs: Vec<Rr> = messages(started).iter().flat_map(|m| answers(m)).collect();
        assert_eq!(rrs[1].1, rtype::NS, "from {known}: AXFR form");
        assert_eq!(rrs.iter().filter(|r| r.1 == rtype::SOA).count(), 2);
        assert_eq!(rrs.iter().filter(|r| r.1 == rtype::SRV).count(), 201);
    }
    // The next small change is kept again, and IXFR from the big change's serial sends it alone.
    let after = journal::follow(&big, records_with(201, &[("x.mesos.", [10, 0, 1, 3])], 0), 101, bound);
    assert_eq!(after.journal().len(), 1);
    assert_eq!(after.journal()[0].from_serial, 100);
    let (started, _) = start_tcp(&request(rtype::IXFR, "mesos.", Some(100)), &Arc::new(after), &p);
    let rrs: Vec<Rr> = messages(started).iter().flat_map(|m| answers(m)).collect();
    let serials: Vec<u32> = rrs.iter().filter(|r| r.1 == rtype::SOA).map(soa_serial).collect();
    assert_eq!(serials, [101, 100, 101, 101]);
}

#[test]
fn a_change_is_compared_only_as_far_as_the_journal_could_keep_it() {
    let small = records_with(1, &[], 1);
    let big = records_with(201, &[], 1);
    let (deleted, added) = journal::diff(&small, &big, usize::MAX);
    assert!(deleted.is_empty());
    let whole = added.len();
    // 200 A and 200 SRV records added.
    assert!(whole > 400 * 12, "{whole} bytes");
    // No journal: the first differing name ends it (the serial still moves).
    let (deleted, added) = journal::diff(&small, &big, 0);
    assert!(!added.is_empty() && deleted.is_empty());
    assert!(added.len() * 50 < whole, "{} of {whole} bytes", added.len());
    // A bound: just past it.
    let (_, added) = journal::diff(&small, &big, whole / 2);
    assert!(
        added.len() > whole / 2 && added.len() < whole,
        "{} of {whole} bytes",
        added.len()
    );
    assert_eq!(journal::diff(&big, &big, 0), (Vec::new(), Vec::new()));
    let followed = journal::follow(&small, big, 2, 0);
    assert_eq!(followed.serial(), 2);
}

/// An edit that names only some of the names it touched: with no journal, a difference among them
/// decides it; none there, every name is compared (a change past them still moves the serial); with
/// a journal, every name is compared, so that the change written is whole.
#[test]
fn a_change_named_in_part_is_found_past_the_names_given() {
    let old = records_with(3, &[("x.mesos.", [10, 0, 1, 1])], 1);
    let changed_x = || records_with(3, &[("x.mesos.", [10, 0, 1, 2])], 0);
    let task0: [&[u8]; 1] = [b"\x05task0\x08marathon\x05mesos\x00"];
    let missed = journal::follow_touched(&old, changed_x(), 2, 0, task0.into_iter(), true);
    assert_eq!(
        missed.serial(),
        1,
        "given as all the names, task0 alone says nothing changed"
    );
    let found = journal::follow_touched(&old, changed_x(), 3, 0, task0.into_iter(), false);
    assert_eq!(found.serial(), 3);
    let same = records_with(3, &[("x.mesos.", [10, 0, 1, 1])], 0);
    let kept = journal::follow_touched(&old, same, 4, 0, task0.into_iter(), false);
    assert_eq!(kept.serial(), 1);
    let x: [&[u8]; 1] = [b"\x01x\x05mesos\x00"];
    let found = journal::follow_touched(&old, changed_x(), 5, 0, x.into_iter(), false);
    assert_eq!(found.serial(), 5);
    let written = journal::follow_touched(&old, changed_x(), 6, BOUND, task0.into_iter(), false);
    assert_eq!(written.serial(), 6);
    assert_eq!(written.journal().len(), 1);
    let whole = journal::follow(&old, changed_x(), 6, BOUND);
    assert_eq!(written.journal()[0], whole.journal()[0]);
}

#[test]
fn no_journal_is_kept_when_no_one_may_transfer_the_zone() {
    let mut config = Config::default();
    assert_eq!(journal::bound(&config), 0, "no transferAllowFrom, no notify");
    let none = changed(records_with(1, &[], 1), 5, journal::bound(&config));
    assert_eq!(none.serial(), 14, "the serial still moves with each change");
    assert!(none.journal().is_empty());
    config.notify = vec!["127.0.0.1:53".parse().unwrap()];
    assert_eq!(journal::bound(&config), 16 << 20);
    config.notify.clear();
    config.transfer_allow_from = vec![Cidr::parse("127.0.0.0/8").unwrap()];
    config.ixfr_journal_bytes = 1000;
    assert_eq!(journal::bound(&config), 1000);
}

#[test]
fn serials_compare_in_serial_number_arithmetic() {
    assert!(serial_lt(1, 2));
    assert!(!serial_lt(2, 2));
    assert!(serial_lt(u32::MAX, 3), "wrapped");
    assert!(!serial_lt(3, u32::MAX));
}

#[test]
fn the_apex_ns_records_are_the_nameservers_when_given() {
    let zone = Zone {
        nameservers: vec!["ns1.mesos.".into(), "ns2.example.com.".into()],
        ..Zone::of_default_config()
    };
    let records = Arc::new(Records::build(zone, &RecordList::new(), 3));
    let (started, _) = start_tcp(&request(rtype::AXFR, "mesos.", None), &records, &policy(&[]));
    let ns: Vec<Vec<u8>> = messages(started)
        .iter()
        .flat_map(|m| answers(m))
        .filter(|r| r.1 == rtype::NS)
        .map(|r| r.2)
        .collect();
    assert_eq!(ns, [wire_of("ns1.mesos"), wire_of("ns2.example.com")]);
}

#[test]
fn at_most_max_transfers_run_at_once_and_a_finished_one_frees_its_place() {
    let records = zone_with(1, &[], 7);
    let q = request(rtype::AXFR, "mesos.", None);
    let policy = policy(&[]);
    let mut out = Vec::new();
    let mut running: Vec<Box<Transfer>> = (0..MAX_TRANSFERS)
        .map(|_| match start(&q, LOOPBACK, &records, &policy, true, 0, &mut out) {
            Start::Stream(t) => t,
            _ => panic!("a transfer below the limit is refused"),
        })
        .collect();
    assert!(matches!(
        start(&q, LOOPBACK, &records, &policy, true, 0, &mut out),
        Start::Reply
    ));
    assert_eq!(rcode_of(&out), rcode::SERVFAIL as u8, "one over the limit");
    running.pop();
    assert!(matches!(
        start(&q, LOOPBACK, &records, &policy, true, 0, &mut out),
        Start::Stream(_)
    ));
}
