//! The bulk start against adding tasks one at a time, and a probe of the start at scale.

use std::time::Instant;

use super::*;
use crate::config::Config;
use crate::records::from_state::generate_for_edits;

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
