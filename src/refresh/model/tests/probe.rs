//! The poll's read of a document, timed in one process beside the floor (`MODEL_PROBE=path`): the
//! floor (serde_json into `IgnoredAny` from the bytes in memory), the streamed parse with the tasks
//! dropped, the streamed parse into a [`Model`], and a quiet poll's [`Model::changes_to`]; best of
//! `MODEL_PROBE_RUNS` (3), the body read from memory (no HTTP, no disk):
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

fn best<T>(runs: usize, mut run: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let out = run();
        best = best.min(t.elapsed());
        last = Some(out);
    }
    (best, last.unwrap())
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
    let f = ms(floor);
    eprintln!(
        "{} tasks; floor {f:.0} ms; parse {:.0} ms ({:.2}x); parse+model {:.0} ms ({:.2}x); changes_to {:.0} ms ({:.2}x)",
        old.task_count(),
        ms(parse),
        ms(parse) / f,
        ms(model),
        ms(model) / f,
        ms(changes),
        ms(changes) / f,
    );
}
