//! The floor a refresh is measured against: read a state document from a file and check it is JSON with
//! `serde_json` into `serde::de::IgnoredAny` (no value kept), best of `N` runs, in seconds. No parsing
//! into types, no records: the least any refresh of that document can cost. `benches/refresh.sh`
//! prints it beside the refresh time from the same run.
//!
//!   cargo build --release --bench floor && target/release/deps/floor-* STATE.json [RUNS]
//!
//! Without a file (as `cargo test --all-targets` runs it) it prints this usage and exits.

use std::time::Instant;

use serde::de::{Deserialize, IgnoredAny};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let Some(path) = args.next() else {
        println!("usage: floor STATE.json [RUNS]   (prints the best time to read and validate it, in seconds)");
        return;
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    let mut best = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        let body = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("cannot read {path}: {e}");
                std::process::exit(1);
            }
        };
        let mut de = serde_json::Deserializer::from_slice(&body);
        if let Err(e) = IgnoredAny::deserialize(&mut de).and_then(|_| de.end()) {
            eprintln!("{path}: not JSON: {e}");
            std::process::exit(1);
        }
        drop(body);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{best:.3}");
}
