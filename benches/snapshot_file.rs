//! The snapshot file's costs (`snapshotFile`) on a real state, next to the refresh they ride on: the
//! refresh's own work (generate the records from the document and index them), then what the writer
//! thread does after a refresh (encode, write, fsync, rename), and what a warm start does before the
//! first refresh (read, check, decode, index). Each step is timed over a few rounds (best and median).
//!
//!   python3 tests/fixtures/gen-state.py --agents 5000 --tasks 100000 > /tmp/state.json
//!   cargo bench --bench snapshot_file -- /tmp/state.json [DIR]
//!
//! DIR is where the file is written (default: the system temp dir; use the disk the server would).
//! Without a state file (as `cargo test --all-targets` runs it) it prints this usage and exits.

use std::time::{Duration, Instant};

use mesos_dns::internals::config::Config;
use mesos_dns::internals::records::from_state::build_snapshot;
use mesos_dns::internals::warm::{self, format, writer::write_atomically};

const ROUNDS: usize = 5;

/// Runs `f` ROUNDS times; (best, median) and the last result.
fn timed<T>(mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    times.sort();
    let Some(last) = last else { unreachable!("ROUNDS > 0") };
    (times[0], times[ROUNDS / 2], last)
}

fn line(step: &str, (best, median): (Duration, Duration), refresh: Duration) {
    println!(
        "{step:<42} best {:>6.1} ms  median {:>6.1} ms  ({:.2}x the refresh)",
        best.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        median.as_secs_f64() / refresh.as_secs_f64()
    );
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let Some(path) = args.next() else {
        println!("usage: cargo bench --bench snapshot_file -- STATE.json [DIR]");
        return;
    };
    let dir = args.next().map_or_else(std::env::temp_dir, Into::into);
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let file = dir.join(format!("mesos-dns-bench-snapshot-{}", std::process::id()));
    let config = Config {
        snapshot_file: file.display().to_string(),
        ..Config::default()
    };
    let masters = [mesos_dns::internals::addr::HostPort::parse("127.0.0.1:5050").expect("an address")];
    let (best, median, built) =
        timed(|| build_snapshot(&config, &body, &masters, &[], &|_| Vec::new(), 1).expect("a state document"));
    let (records, list) = built;
    drop(list);
    let refresh = median;
    let (a, aaaa, srv) = records.counts();
    println!(
        "{path}: {} bytes of state, {} records ({a} A, {aaaa} AAAA, {srv} SRV) under {} names",
        body.len(),
        a + aaaa + srv,
        records.name_count()
    );
    drop(body);
    line("refresh: generate + index (no fetch)", (best, median), refresh);
    let now = warm::unix_now();
    let (best, median, bytes) = timed(|| format::encode(&records, now));
    line("writer: encode", (best, median), refresh);
    let (w_best, w_median, ()) = timed(|| write_atomically(&file, &bytes).expect("write the file"));
    line(
        "writer: write + fsync + rename + fsync dir",
        (w_best, w_median),
        refresh,
    );
    line("writer: total", (best + w_best, median + w_median), refresh);
    println!(
        "snapshot file: {} bytes ({:.1} MB)",
        bytes.len(),
        bytes.len() as f64 / 1_048_576.0
    );
    drop(records);
    let (best, median, loaded) = timed(|| warm::load(&config, now).expect("the file loads"));
    line("warm start: read + check + decode + index", (best, median), refresh);
    println!("loaded {} records, serial {}", loaded.count, loaded.records.serial());
    let _ = std::fs::remove_file(&file);
}
