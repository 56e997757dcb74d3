//! The poll's read of a document, timed in one process beside the floor (`MODEL_PROBE=path`): the
//! floor (serde_json into `IgnoredAny` from the bytes in memory), the streamed parse with the tasks
//! dropped, the streamed parse into a [`Model`], and a quiet poll's [`Model::changes_to`]; best of
//! `MODEL_PROBE_RUNS` (3), the body read from memory (no HTTP, no disk). Each is timed on the wall
//! clock and in the thread's CPU time, which a machine shared by other work inflates far less
//! (compare builds by the CPU times, run alternately):
//!   MODEL_PROBE=target/bench-states/state-100000-5000-5.json \
//!     cargo test --release --lib model_probe -- --ignored --nocapture

use std::time::{Duration, Instant};

use serde::de::{Deserialize, IgnoredAny};

use super::*;

/// Tasks parsed and dropped.
struct Dropped;

impl<'a> state::TaskSink<'a> for Dropped {
    fn task(&mut self, _: usize, _: &Framework<'a, Skipped>, _: Task<'a>) {}
}

/// The CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec it is given, which lives through the call.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0;
    match ok {
        true => Duration::new(t.tv_sec as u64, t.tv_nsec as u32),
        false => Duration::ZERO,
    }
}

/// The best wall and CPU times of `runs` runs (each the least of its own), and the last run's value.
fn best<T>(runs: usize, mut run: impl FnMut() -> T) -> ((Duration, Duration), T) {
    let (mut wall, mut cpu) = (Duration::MAX, Duration::MAX);
    let mut last = None;
    for _ in 0..runs {
        let (t, c) = (Instant::now(), thread_cpu());
        let out = run();
        wall = wall.min(t.elapsed());
        cpu = cpu.min(thread_cpu().saturating_sub(c));
        last = Some(out);
    }
    ((wall, cpu), last.unwrap())
}

fn model_of(body: &[u8]) -> Model {
    let mut reader = ModelReader::default();
    let header = state::read_split(body, &mut reader).map_err(|_| "not read").unwrap();
    reader.finish(&header)
}

#[test]
#[ignore]
fn model_probe() {
    let Ok(path) = std::env::var("MODEL_PROBE") else { return };
    let runs = std::env::var("MODEL_PROBE_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let body = std::fs::read(&path).unwrap();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (floor, _) = best(runs, || {
        let mut de = serde_json::Deserializer::from_slice(&body);
        IgnoredAny::deserialize(&mut de).unwrap();
    });
    let (parse, _) = best(runs, || {
        state::read_split(&body[..], &mut Dropped)
            .map_err(|_| "not read")
            .unwrap()
    });
    let (model, old) = best(runs, || model_of(&body));
    let new = model_of(&body);
    let (changes, diff) = best(runs, || old.changes_to(&new));
    assert_eq!(diff, Changed::Nothing);
    let line = |clock: &str, pick: fn((Duration, Duration)) -> Duration| {
        let f = ms(pick(floor));
        let (p, m, c) = (ms(pick(parse)), ms(pick(model)), ms(pick(changes)));
        eprintln!(
            "{clock}: floor {f:.0} ms; parse {p:.0} ms ({:.2}x); parse+model {m:.0} ms ({:.2}x); changes_to {c:.0} ms ({:.2}x)",
            p / f,
            m / f,
            c / f,
        );
    };
    eprintln!("{} tasks", old.task_count());
    line("wall", |(wall, _)| wall);
    line("cpu", |(_, cpu)| cpu);
}
