//! The bulk start against adding tasks one at a time, and a probe of the start at scale.

use std::collections::BTreeSet;
use std::time::Instant;

use super::*;
use crate::config::Config;
use crate::records::from_state::{build_from_state, generate_for_edits};
use crate::wire::wire_to_text;

const FAKE: &[u8] = include_bytes!("../../../tests/fixtures/fake.json");
const TUTORIAL: &[u8] = include_bytes!("../../../tests/fixtures/tutorial-0.21.json");

fn config(ptr_on: bool) -> Config {
    Config {
        masters: vec![HostPort::parse("127.0.0.1:5050").unwrap()],
        ptr_on,
        ..Config::default()
    }
}

fn started(config: &Config, model: &Model) -> Incremental {
    let (fixed, gen) = generate_for_edits(config, model.header(), &config.masters, &[], &|_| Vec::new()).unwrap();
    let frameworks = fixed.frameworks().map(str::to_owned).collect();
    let records = Records::build(crate::records::zone(config), &fixed, 1);
    Incremental::start(records, model, gen, frameworks, &config.masters, &[])
}

/// A record as text: "name data", names without their trailing dots.
fn line(name: &str, data: &str) -> String {
    format!("{name} {data}").replace(".\"", "\"").replace(". ", " ")
}

/// The start's snapshot answers as a full build of the model's document, and its task table holds, per
/// task in the model's order, exactly the records that task's own list (the named one the edits
/// of a task event use) holds, a record two tasks share under each.
#[test]
fn the_start_gives_the_full_build_and_each_task_its_own_records() {
    for (body, ptr_on) in [(FAKE, false), (FAKE, true), (TUTORIAL, true)] {
        let config = config(ptr_on);
        let model = Model::from_body(body).unwrap();
        let mut inc = started(&config, &model);
        let (got, _) = inc.publish();
        // (The model keeps one task per id and framework, as events name them: against its document.)
        let (want, _) =
            build_from_state(&config, &model.full_state(), &config.masters, &[], &|_| Vec::new(), 1).unwrap();
        assert_eq!(got.describe(), want.describe());
        let (_, mut gen) = generate_for_edits(&config, model.header(), &config.masters, &[], &|_| Vec::new()).unwrap();
        let mut expected = Vec::new();
        model.for_each_task(|f, task| {
            let list = gen.task(f, task);
            if let Some(t) = list.tasks().next() {
                let records: BTreeSet<String> = list
                    .records_of_task(0)
                    .map(|(r, _)| line(&r.name, &format!("{:?}", r.data)))
                    .collect();
                expected.push((t.framework_index as u32, t.name.to_owned(), t.id.to_owned(), records));
            };
        });
        assert!(expected.len() >= 2, "the fixture has running tasks");
        let table = got.tasks().unwrap();
        let name = |id: u32| wire_to_text(got.name(id).unwrap());
        let actual: Vec<_> = table
            .entries()
            .map(|e| {
                let records = e
                    .records
                    .iter()
                    .map(|r| {
                        let data = match e.data(r) {
                            Data::A(ip) => format!("{:?}", crate::snapshot::RData::A(ip.into())),
                            Data::Aaaa(ip) => format!("{:?}", crate::snapshot::RData::Aaaa(ip.into())),
                            Data::Srv { target, port } => format!(
                                "{:?}",
                                crate::snapshot::RData::Srv {
                                    target: name(target).trim_end_matches('.').to_owned(),
                                    port
                                }
                            ),
                            Data::Other(_) => "other".to_owned(),
                        };
                        line(name(r.owner).trim_end_matches('.'), &data)
                    })
                    .collect::<BTreeSet<_>>();
                (e.framework, e.name().to_owned(), e.id().to_owned(), records)
            })
            .collect();
        assert_eq!(actual, expected);
    }
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Times and sizes the start on a generated state (`START_PROBE=path`), as the refresher runs it:
///   START_PROBE=target/bench-states/state-100000-5000-5.json \
///     cargo test --release --lib start_probe -- --ignored --nocapture
#[test]
#[ignore]
fn start_probe() {
    let Ok(path) = std::env::var("START_PROBE") else { return };
    let config = Config {
        masters: vec![HostPort::parse("127.0.0.1:5050").unwrap()],
        ..Config::default()
    };
    let body = std::fs::read(&path).unwrap();
    let r0 = rss_kb();
    let t = Instant::now();
    let model = Model::from_body(&body).unwrap();
    drop(body);
    let r1 = rss_kb();
    eprintln!("model: {:?}, rss +{} MB", t.elapsed(), (r1.saturating_sub(r0)) / 1024);
    let t = Instant::now();
    let (fixed, gen) = generate_for_edits(&config, model.header(), &config.masters, &[], &|_| Vec::new()).unwrap();
    let frameworks = fixed.frameworks().map(str::to_owned).collect();
    let records = Records::build(crate::records::zone(&config), &fixed, 1);
    eprintln!("fixed: {:?}", t.elapsed());
    let t = Instant::now();
    let mut inc = Incremental::start(records, &model, gen, frameworks, &config.masters, &[]);
    let r2 = rss_kb();
    eprintln!("start: {:?}, rss +{} MB", t.elapsed(), (r2.saturating_sub(r1)) / 1024);
    let (records, _) = inc.publish();
    eprintln!(
        "{} records under {} names",
        records.counts().0 + records.counts().1 + records.counts().2,
        records.name_count()
    );
    for (what, bytes) in inc.sizes() {
        eprintln!("  {what}: {} MB", bytes / 1_048_576);
    }
}
