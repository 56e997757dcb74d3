//! Memory and time of a refresh, step by step: the state body, its header (everything but the tasks),
//! the records generated while the tasks are read one at a time, and the wire-ready index, as bytes
//! asked of the allocator and as resident memory (VmRSS / VmHWM).
//!
//!   python3 tests/fixtures/gen-state.py --agents 5000 --tasks 100000 > /tmp/state.json
//!   cargo bench --bench memprobe -- /tmp/state.json
//!
//! Without a file (as `cargo test --all-targets` runs it) it prints this usage and exits.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use mesos_dns::internals::config::Config;
use mesos_dns::internals::records::zone;
use mesos_dns::internals::snapshot::Records;

/// Counts the bytes currently allocated and their peak.
struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// (VmRSS, VmHWM) in MB.
fn resident() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn report(step: &str, since: usize, took: std::time::Duration) {
    let (rss, hwm) = resident();
    println!(
        "{step:<22} {:>5} ms  +{:>7.1} MB allocated (peak {:>6.1} MB)   RSS {rss:>4} MB, high-water {hwm:>4} MB",
        took.as_millis(),
        mb(CURRENT.load(Relaxed).saturating_sub(since)),
        mb(PEAK.load(Relaxed)),
    );
}

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with('-')) else {
        println!("usage: cargo bench --bench memprobe -- STATE.json");
        return;
    };
    let t = Instant::now();
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    report("state body read", 0, t.elapsed());
    let (before, t) = (CURRENT.load(Relaxed), Instant::now());
    let header = mesos_dns::internals::mesos::state::parse_header(&body).unwrap_or_else(|e| panic!("{path}: {e}"));
    report("header parsed", before, t.elapsed());
    let (before, t) = (CURRENT.load(Relaxed), Instant::now());
    let config = Config::default();
    let masters = [mesos_dns::internals::addr::HostPort::parse("127.0.0.1:5050").expect("an address")];
    // As a refresh does it: the tasks are read one at a time while their records are generated.
    let list =
        mesos_dns::internals::records::from_state::generate_from_body(&config, &header, &body, &masters, &[], &|_| {
            Vec::new()
        })
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    report("tasks read, records made", before, t.elapsed());
    let t = Instant::now();
    drop(header);
    drop(body);
    report("body and header freed", 0, t.elapsed());
    let (before, t) = (CURRENT.load(Relaxed), Instant::now());
    let records = Records::build(zone(&config), &list, 1);
    report("indexed", before, t.elapsed());
    std::hint::black_box(&records);
    // What a served snapshot holds beside its index when it keeps the record list (`/v1/enumerate`,
    // and a failover's carry-over, which reads each task's agent and records from it).
    let (before, t) = (CURRENT.load(Relaxed), Instant::now());
    let mut list = list;
    list.seal();
    report("list sealed", before, t.elapsed());
    let (held, t) = (CURRENT.load(Relaxed), Instant::now());
    drop(list);
    let freed = held.saturating_sub(CURRENT.load(Relaxed));
    println!(
        "{:<22} {:>5} ms  -{:>7.1} MB: what keeping the list costs",
        "list dropped",
        t.elapsed().as_millis(),
        mb(freed)
    );
}
