//! Per-query cost: parsing a query and answering A, SRV (with additional records) and NXDOMAIN from a
//! snapshot built from the `fake.json` fixture. Run with `cargo bench --bench answer`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mesos_dns::internals::answer::{answer, Outcome, Transport};
use mesos_dns::internals::config::Config;
use mesos_dns::internals::records::from_state::build_snapshot;
use mesos_dns::internals::snapshot::Records;
use mesos_dns::internals::wire::{Message, MAX_MESSAGE};

/// A query as `dig` sends it (EDNS0, 1232-octet payload).
fn query(name: &str, qtype: u16) -> Vec<u8> {
    let mut q = vec![0xab, 0xcd, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1];
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, (qtype >> 8) as u8, qtype as u8, 0, 1]);
    q.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    q
}

fn snapshot() -> Records {
    let config = Config::default();
    let body = include_bytes!("../tests/fixtures/fake.json");
    let (records, _) = build_snapshot(
        &config,
        body,
        &[mesos_dns::internals::addr::HostPort::parse("127.0.0.1:5050").expect("an address")],
        &[],
        &|_| Vec::new(),
        1,
    )
    .expect("fake.json builds");
    records
}

fn bench(c: &mut Criterion) {
    let records = snapshot();
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut g = c.benchmark_group("query");
    g.throughput(Throughput::Elements(1));
    let a = query("liquor-store.marathon.mesos", 1);
    g.bench_function("parse", |b| b.iter(|| Message::parse(black_box(&a)).map(|m| m.id())));
    for (what, q) in [
        ("answer_a", a.clone()),
        ("answer_srv", query("_liquor-store._tcp.marathon.mesos", 33)),
        ("answer_nxdomain", query("no-such-task.marathon.mesos", 1)),
    ] {
        // Check the query does what its name says before timing it.
        let Outcome::Reply(n) = answer(&q, &records, Transport::Udp, 1, &mut out) else {
            panic!("{what}: no reply")
        };
        let resp = Message::parse(&out[..n]).expect("reply parses");
        let expect_nx = what == "answer_nxdomain";
        assert_eq!(resp.rcode() == 3, expect_nx, "{what}: rcode {}", resp.rcode());
        let mut seed = 0u64;
        g.bench_function(what, |b| {
            b.iter(|| {
                seed += 1;
                answer(black_box(&q), &records, Transport::Udp, seed, &mut out)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
