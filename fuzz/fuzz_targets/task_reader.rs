//! One task's JSON text, arbitrary: the direct reading of a task (`mesos/state/walk/task.rs`, which
//! stands in for `serde_json` on tasks of the usual shape) against `serde_json`'s. Wherever the direct
//! reading reads a task, `serde_json` must read the same task and end at the same byte; and neither
//! may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_dns::internals::mesos::state::task_readers_agree;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(how) = task_readers_agree(text) {
        panic!("the task readers differ on {text:?}: {how}");
    }
});
