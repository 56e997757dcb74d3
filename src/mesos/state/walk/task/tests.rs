//! The direct reading of a task against `serde_json`'s reading of it (what it stands in for): on the
//! fixtures' tasks (compact and pretty-printed), on tasks of the usual shape (which it must read), and
//! on random and adversarial ones (escapes, repeated fields, fields of the wrong type), cut short and
//! with a byte changed: wherever it reads a task, `serde_json` reads the same task, ending at the same
//! byte.

use serde::{Deserialize, Deserializer};

use super::*;
use crate::mesos::state::lenient::Element;
use crate::random::TestRng as Rng;

/// A task list's entry as `serde_json` reads it: `Some` for an object.
#[derive(Debug)]
struct Entry<'a>(Option<Task<'a>>);

impl<'de> Deserialize<'de> for Entry<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Element::<Task>::new()).map(Entry)
    }
}

/// Whether [`read`] reads the value that starts `text`; when it does, `serde_json` must read the same.
fn agrees(text: &str) -> bool {
    let Some((task, end)) = read(text) else {
        return false;
    };
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Entry>();
    match values.next() {
        Some(Ok(Entry(Some(want)))) => {
            assert_eq!(format!("{task:?}"), format!("{want:?}"), "{text}");
            assert_eq!(end, values.byte_offset(), "{text}");
        }
        other => panic!("{text}\nread as {task:?}\nserde_json: {other:?}"),
    }
    true
}

/// What follows a task in a document's buffer.
const TAIL: &str = ",{\"id\":\"next\"}]},{\"id\":\"f2\"}]}";

fn fixture_tasks() -> Vec<serde_json::Value> {
    let mut tasks = Vec::new();
    for body in [
        &include_bytes!("../../../../../tests/fixtures/fake.json")[..],
        &include_bytes!("../../../../../tests/fixtures/tutorial-0.21.json")[..],
    ] {
        let doc: serde_json::Value = serde_json::from_slice(body).unwrap();
        for framework in doc["frameworks"].as_array().unwrap() {
            tasks.extend(framework["tasks"].as_array().into_iter().flatten().cloned());
        }
    }
    tasks
}

#[test]
fn the_fixtures_tasks_read_as_serde_json_reads_them() {
    let tasks = fixture_tasks();
    assert!(tasks.len() >= 10);
    for task in &tasks {
        for text in [
            serde_json::to_string(task).unwrap(),
            serde_json::to_string_pretty(task).unwrap(),
        ] {
            assert!(agrees(&format!("{text}{TAIL}")), "{text}");
            // Cut anywhere (as a buffer's end cuts it): left to serde_json.
            for cut in 0..text.len() {
                assert!(!agrees(&text[..cut]), "{}", &text[..cut]);
            }
        }
    }
}

/// A task as a master writes one (escapes aside), its fields in any order, with whitespace.
fn usual_task(rng: &mut Rng) -> String {
    let s = |r: &mut Rng, of: &[&str]| format!("\"{}\"", r.pick(of));
    let number = |r: &mut Rng| {
        r.pick(&["0", "1700000007.0", "-1.5e3", "31000", "2E+2", "1.25"])
            .to_owned()
    };
    let ip = |r: &mut Rng| {
        format!(
            "{{\"ip_address\":{},\"protocol\":{}}}",
            s(r, &["10.0.0.1", "fd01::1"]),
            s(r, &["IPv4", "IPv6"])
        )
    };
    let status = |r: &mut Rng| {
        format!(
            "{{ \"state\" : {}, \"timestamp\": {}, \"healthy\": {}, \"labels\": [{{\"key\":\"k\",\"value\":\"v\"}}], \
             \"container_status\": {{\"container_id\": {{\"value\": \"c\"}}, \"network_infos\": [{{\"ip_addresses\": [{}, {}], \
             \"labels\": {{}}, \"ip_address\": \"9.0.0.9\"}}]}}, \"extra\": [null, true, false, {{}}, []] }}",
            s(r, &["TASK_RUNNING", "TASK_STAGING", "TASK_RUNNING"]),
            number(r),
            r.pick(&["true", "false", "null"]),
            ip(r),
            ip(r),
        )
    };
    let mut fields = vec![
        format!("\"id\": {}", s(rng, &["web.1", "a.b-c_d", "é ü"])),
        format!("\"name\":{}", s(rng, &["web", "", "api"])),
        format!("\"framework_id\":{}", s(rng, &["f1", "f2"])),
        format!("\"slave_id\":{}", s(rng, &["S1", "S2"])),
        format!("\"state\":{}", s(rng, &["TASK_RUNNING", "TASK_KILLED"])),
        format!(
            "\"resources\": {{\"cpus\": 0.5, \"mem\": 512, \"ports\": {}, \"disk\": {{\"a\": [1, 2]}}}}",
            s(rng, &["[31000-31002, 31005-31005]", "[]", "x"])
        ),
        format!("\"statuses\": [{}, {}, 7, {}]", status(rng), status(rng), status(rng)),
        format!(
            "\"discovery\": {{\"visibility\": \"FRAMEWORK\", \"name\": {}, \"ports\": {{\"ports\": [{{\"number\": {}, \
             \"name\": \"http\", \"protocol\": \"tcp\"}}, {{\"number\": null}}, \"odd\"]}}}}",
            s(rng, &["web", ""]),
            rng.pick(&["31000", "70000", "0", "-1", "8080.0", "1e3"])
        ),
        "\"labels\": [{\"key\": \"team\", \"value\": \"t7\"}, null, {\"key\": null}]".to_owned(),
        "\"executor_id\": \"\"".to_owned(),
        "\"nothing\": null".to_owned(),
    ];
    for i in (1..fields.len()).rev() {
        let j = rng.below(i + 1);
        fields.swap(i, j);
    }
    let keep = fields.len() - rng.below(4);
    fields.truncate(keep);
    format!("{{ {} }}", fields.join(",\n  "))
}

#[test]
fn tasks_of_the_usual_shape_are_read_here_as_serde_json_reads_them() {
    let mut rng = Rng(7);
    for _ in 0..2000 {
        let task = usual_task(&mut rng);
        assert!(agrees(&format!("{task}{TAIL}")), "{task}");
        assert!(agrees(&format!("{task} ")), "{task}");
        let cut = rng.below(task.len());
        if task.is_char_boundary(cut) {
            assert!(!agrees(&task[..cut]));
        }
    }
}

#[test]
fn random_and_adversarial_tasks_read_here_read_as_serde_json_reads_them() {
    let mut rng = Rng(28);
    let (mut read_here, mut mangled_here) = (0, 0);
    let swaps = b"{}[]\",:\\ ax0.e-";
    for _ in 0..6000 {
        let task = match rng.chance(50) {
            true => usual_task(&mut rng),
            false => super::super::tests::task(&mut rng),
        };
        read_here += usize::from(agrees(&format!("{task}{TAIL}")));
        let mut changed = task.clone().into_bytes();
        let at = rng.below(changed.len());
        changed[at] = swaps[rng.below(swaps.len())];
        if let Ok(changed) = String::from_utf8(changed) {
            mangled_here += usize::from(agrees(&format!("{changed}{TAIL}")));
        }
        let cut = rng.below(task.len());
        if task.is_char_boundary(cut) {
            assert!(!agrees(&task[..cut]));
        }
    }
    // Both kinds must be met often.
    assert!(read_here > 3000, "{read_here} of 6000 read here");
    assert!(mangled_here > 1000, "{mangled_here} mangled tasks read here");
}

#[test]
fn deep_nesting_and_values_that_are_not_objects_are_left_to_serde_json() {
    let deep = format!("{{\"x\":{}{}}}", "[".repeat(40), "]".repeat(40));
    assert!(!agrees(&deep));
    let shallow = format!("{{\"x\":{}{}}}", "[".repeat(10), "]".repeat(10));
    assert!(agrees(&shallow));
    for other in ["null", "[]", "\"t\"", "1", "true"] {
        assert!(!agrees(other));
    }
    // Repeated fields (an error of the derive) at every level.
    for repeated in [
        r#"{"id":"a","id":"b"}"#,
        r#"{"resources":{"ports":"1","ports":"2"}}"#,
        r#"{"statuses":[{"state":"TASK_RUNNING","state":"x"}]}"#,
        r#"{"discovery":{"ports":{"ports":[{"number":1,"number":2}]}}}"#,
    ] {
        assert!(!agrees(repeated), "{repeated}");
    }
}

#[test]
fn plain_runs_end_at_the_first_quote_backslash_or_control_character() {
    for len in 0..70 {
        for stop in [b'"', b'\\', 0x00, 0x1f] {
            let mut text = vec![b'a'; len];
            text.extend_from_slice("é\u{7f} ".as_bytes());
            let at = text.len();
            text.push(stop);
            text.extend_from_slice(b"\"\\ \x01");
            assert_eq!(plain_run(&text), Some(at), "{len} {stop}");
            assert_eq!(plain_run(&text[..at]), None);
        }
    }
}

/// `serde_json` refuses a number past `f64`'s range even in a value it skips: such a task is left
/// to it (found by the `task_reader` fuzz target), and a plain number is still stepped over here.
#[test]
fn numbers_serde_json_may_refuse_are_left_to_it() {
    let huge = format!("{{\"id\":\"t\",\"e\":{}}}{TAIL}", "9".repeat(400));
    for text in [
        "{\"e\":\"\",\"labels\":\t\t[1e400]}",
        "{\"id\":\"t\",\"e\":1E5}]",
        &huge,
    ] {
        assert!(!agrees(text), "{text}");
    }
    assert!(agrees(&format!(
        "{{\"id\":\"t\",\"e\":-12.5,\"f\":[0,12345678901234567890]}}{TAIL}"
    )));
}
