//! The one-pass reader against serde's derive on [`State`] (what [`super::super::parse`] reads): on the
//! fixtures, and on random and adversarial documents (fields in any order, repeated, of the wrong type;
//! strings with escaped quotes and braces; nested arrays; tasks and frameworks that are not objects;
//! truncated and mangled bodies): the same header, the same tasks in the same order under the same
//! framework, the same errors.

use super::*;
use crate::random::TestRng as Rng;
use serde_json::error::Category;

use crate::mesos::state::{parse, parse_header, State};

const FAKE: &[u8] = include_bytes!("../../../../tests/fixtures/fake.json");
const TUTORIAL: &[u8] = include_bytes!("../../../../tests/fixtures/tutorial-0.21.json");

/// What a sink was given.
#[derive(Default)]
struct Collect<'a> {
    /// (framework index, the framework's id when the task was handed over, the task).
    tasks: Vec<(usize, String, Task<'a>)>,
    /// The frameworks' indexes as they ended.
    ended: Vec<usize>,
}

impl<'a> TaskSink<'a> for Collect<'a> {
    fn task(&mut self, framework: usize, read: &Framework<'a, Skipped>, task: Task<'a>) {
        self.tasks.push((framework, read.id.to_string(), task));
    }

    fn framework(&mut self, framework: usize, _: &Framework<'a, Skipped>) {
        self.ended.push(framework);
    }
}

/// The header the derive reads (the reference for `parse_header`).
fn derived_header(body: &[u8]) -> Result<Header<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let header = lenient::top_object(&mut de)?;
    de.end()?;
    Ok(header)
}

fn described<T>(f: &Framework<'_, T>) -> (String, String, String, String, usize) {
    let s = |c: &Cow<'_, str>| c.to_string();
    (s(&f.id), s(&f.name), s(&f.pid), s(&f.hostname), f.tasks.len())
}

fn same_header<T>(a: &Header<'_>, b: &State<'_, T>) -> bool {
    a.leader == b.leader
        && a.pid == b.pid
        && a.hostname == b.hostname
        && a.leader_info == b.leader_info
        && a.slaves == b.slaves
        && a.elected_time.to_bits() == b.elected_time.to_bits()
        && a.recovered_slaves == b.recovered_slaves
        && a.frameworks
            .iter()
            .map(described)
            .eq(b.frameworks.iter().map(described))
}

/// A reader that gives `body` a few bytes at a time, as a network transfer arrives.
struct Trickle<'b>(&'b [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.0.len()).min(7);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// [`read`] of `body` as it arrives (the fetcher's input): strings owned.
fn streamed<'a>(body: &[u8], sink: &mut dyn TaskSink<'a>) -> Result<Header<'a>, serde_json::Error> {
    read_from(serde_json::Deserializer::from_reader(Trickle(body)), sink)
}

/// The same error from both inputs: the same text, but for data errors (a repeated field), which the
/// stream places one column further on (the fetcher reads a document that has one again, whole).
fn same_error(slice: &serde_json::Error, stream: &serde_json::Error, text: &str) {
    assert_eq!(slice.classify(), stream.classify(), "{slice} against {stream}: {text}");
    if slice.classify() != Category::Data {
        assert_eq!(slice.to_string(), stream.to_string(), "{text}");
    }
}

/// The slice and the streamed reads agree: the same header, tasks and error.
fn same_streamed(body: &[u8], text: &str) {
    let (mut from_slice, mut from_stream) = (Collect::default(), Collect::default());
    match (read(body, &mut from_slice), streamed(body, &mut from_stream)) {
        (Ok(a), Ok(b)) => {
            assert!(same_header(&a, &b), "{text}");
            assert_eq!(from_slice.tasks, from_stream.tasks, "{text}");
            assert_eq!(from_slice.ended, from_stream.ended, "{text}");
        }
        (Err(a), Err(b)) => same_error(&a, &b, text),
        (a, b) => panic!("streamed: {:?} against the slice's {:?}: {text}", b.err(), a.err()),
    }
    match (parse_header(body), streamed(body, &mut ())) {
        (Ok(a), Ok(b)) => assert!(same_header(&a, &b), "{text}"),
        (Err(a), Err(b)) => same_error(&a, &b, text),
        (a, b) => panic!(
            "streamed header: {:?} against the slice's {:?}: {text}",
            b.err(),
            a.err()
        ),
    }
}

/// Reads `body` both ways and checks that they agree (and that reading it as it arrives agrees with
/// reading the slice); true when it is a document.
fn agrees(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    same_streamed(body, &text);
    // Header only.
    match (parse_header(body), derived_header(body)) {
        (Ok(a), Ok(b)) => assert!(same_header(&a, &b), "{text}"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
        (a, b) => panic!("header: {:?} against the derive's {:?}: {text}", a.err(), b.err()),
    }
    // With the tasks.
    let mut sink = Collect::default();
    match (read(body, &mut sink), parse(body)) {
        (Ok(header), Ok(state)) => {
            assert!(same_header(&header, &state), "{text}");
            let expected: Vec<(usize, &Task<'_>)> = state
                .frameworks
                .iter()
                .enumerate()
                .flat_map(|(i, f)| f.tasks.iter().map(move |t| (i, t)))
                .collect();
            let got: Vec<(usize, &Task<'_>)> = sink.tasks.iter().map(|(i, _, t)| (*i, t)).collect();
            assert_eq!(got, expected, "{text}");
            for (i, id, _) in &sink.tasks {
                assert_eq!(
                    *id, state.frameworks[*i].id,
                    "a task comes with its framework's id: {text}"
                );
            }
            assert_eq!(sink.ended, (0..state.frameworks.len()).collect::<Vec<_>>(), "{text}");
            true
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string(), "{text}");
            false
        }
        (a, b) => panic!("document: {:?} against the derive's {:?}: {text}", a.err(), b.err()),
    }
}

#[test]
fn the_fixtures_read_as_the_derive_reads_them() {
    for body in [FAKE, TUTORIAL] {
        assert!(agrees(body));
    }
    let mut sink = Collect::default();
    let header = read(FAKE, &mut sink).unwrap();
    assert_eq!(header.leader, "master@127.0.0.1:5050");
    assert_eq!(
        sink.tasks.len(),
        header.frameworks.iter().map(|f| f.tasks.len()).sum::<usize>()
    );
    assert!(
        matches!(sink.tasks[0].2.id, Cow::Borrowed(_)),
        "strings are borrowed from the body"
    );
}

#[test]
fn tasks_listed_before_their_frameworks_id_are_handed_over_with_it() {
    let body = br#"{"frameworks": [
        {"tasks": [{"id": "t1"}, 7, {"id": "t2"}], "name": "late", "id": "f1"},
        "not a framework",
        {"id": "f2", "tasks": [{"id": "t3"}], "name": "early"},
        {"tasks": [{"id": "t4"}]}]}"#;
    let mut sink = Collect::default();
    let header = read(body, &mut sink).unwrap();
    let got: Vec<(usize, &str, &str)> = sink.tasks.iter().map(|(f, id, t)| (*f, &**id, &*t.id)).collect();
    assert_eq!(got, [(0, "f1", "t1"), (0, "f1", "t2"), (1, "f2", "t3"), (2, "", "t4")]);
    assert_eq!(sink.ended, [0, 1, 2]);
    assert_eq!(header.frameworks[0].tasks.len(), 2, "counted, the non-object skipped");
    assert!(agrees(body));
}

#[test]
fn repeated_fields_and_documents_that_are_not_objects_are_errors_named_as_before() {
    let cases: [(&[u8], &str); 6] = [
        (br#"{"leader": "a", "leader": "b"}"#, "duplicate field `leader`"),
        (
            br#"{"frameworks": [], "frameworks": []}"#,
            "duplicate field `frameworks`",
        ),
        (
            br#"{"frameworks": [{"id": "a", "tasks": [], "id": "b"}]}"#,
            "duplicate field `id`",
        ),
        (
            br#"{"frameworks": [{"tasks": [], "tasks": []}]}"#,
            "duplicate field `tasks`",
        ),
        (br#"[{"leader": "a"}]"#, "expected a state document (a JSON object)"),
        (br#"{"leader": "a"} {}"#, "trailing characters"),
    ];
    for (body, error) in cases {
        let e = read(body, &mut ()).unwrap_err().to_string();
        assert!(e.contains(error), "{e}");
        assert!(!agrees(body));
    }
    // A task's own repeated field is an error only when tasks are read.
    let body = br#"{"frameworks": [{"id": "f", "tasks": [{"id": "a", "id": "b"}]}]}"#;
    assert!(parse_header(body).is_ok());
    let e = read(body, &mut Collect::default()).unwrap_err().to_string();
    assert!(e.contains("duplicate field `id`"), "{e}");
    assert!(!agrees(body));
}

/// JSON string bodies that a scanner could mistake for structure.
const STRINGS: [&str; 12] = [
    "a",
    "",
    r#"x\"y"#,
    r#"{\"tasks\": [\"#,
    "}]},{",
    r"\u0041\u00e9",
    "TASK_RUNNING",
    "TASK_KILLED",
    r"back\\",
    "[31000-31002, 31005-31005]",
    "master@127.0.0.1:5050",
    "é ü",
];

fn string(rng: &mut Rng) -> String {
    format!("\"{}\"", rng.pick(&STRINGS))
}

/// Any JSON value, nested up to `depth`.
fn value(rng: &mut Rng, depth: usize) -> String {
    match rng.below(if depth == 0 { 5 } else { 7 }) {
        0 => "null".into(),
        1 => rng.pick(&["true", "false"]).into(),
        2 => rng
            .pick(&["0", "-1", "5050", "1.5e3", "1413572390.09275", "70000"])
            .into(),
        3 | 4 => string(rng),
        5 => {
            let items: Vec<String> = (0..rng.below(4)).map(|_| value(rng, depth - 1)).collect();
            format!("[{}]", items.join(","))
        }
        _ => {
            let keys = ["id", "name", "tasks", "frameworks", "x", "[", "}"];
            let fields: Vec<(String, String)> = (0..rng.below(4))
                .map(|_| (rng.pick(&keys).to_owned(), value(rng, depth - 1)))
                .collect();
            object(rng, fields)
        }
    }
}

/// An object of these fields in a random order, sometimes one repeated, sometimes with extra keys;
/// a key is sometimes written with an escape.
fn object(rng: &mut Rng, mut fields: Vec<(String, String)>) -> String {
    if rng.chance(30) {
        fields.push(("extra".into(), value(rng, 2)));
    }
    if !fields.is_empty() && rng.chance(4) {
        let again = fields[rng.below(fields.len())].clone();
        fields.push(again);
    }
    for i in (1..fields.len()).rev() {
        let j = rng.below(i + 1);
        fields.swap(i, j);
    }
    let body: Vec<String> = fields
        .into_iter()
        .map(|(k, v)| {
            let key = match k.strip_prefix('i') {
                Some(rest) if rng.chance(10) => format!("\\u0069{rest}"),
                _ => k,
            };
            format!("\"{key}\":{v}")
        })
        .collect();
    format!("{{{}}}", body.join(","))
}

/// A field's value: usually the right shape, sometimes any value.
fn field(rng: &mut Rng, right: impl FnOnce(&mut Rng) -> String) -> String {
    match rng.chance(10) {
        true => value(rng, 2),
        false => right(rng),
    }
}

fn some_fields(rng: &mut Rng, fields: Vec<(&str, String)>) -> Vec<(String, String)> {
    fields
        .into_iter()
        .filter(|_| rng.chance(80))
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn task(rng: &mut Rng) -> String {
    let status = |rng: &mut Rng| {
        let fields = vec![
            ("state", field(rng, string)),
            (
                "timestamp",
                field(rng, |r| r.pick(&["1", "2.5", "2.5", "\"3\""]).into()),
            ),
            ("healthy", field(rng, |r| r.pick(&["true", "false"]).into())),
            (
                "labels",
                field(rng, |r| format!("[{{\"key\":{},\"value\":{}}}]", string(r), string(r))),
            ),
        ];
        let fields = some_fields(rng, fields);
        object(rng, fields)
    };
    let fields = vec![
        ("id", field(rng, string)),
        ("name", field(rng, string)),
        (
            "framework_id",
            field(rng, |r| r.pick(&["\"f1\"", "\"f2\"", "\"\""]).into()),
        ),
        ("slave_id", field(rng, string)),
        ("state", field(rng, string)),
        (
            "resources",
            field(rng, |r| format!("{{\"ports\":{},\"cpus\":[1,[2]]}}", string(r))),
        ),
        (
            "statuses",
            field(rng, |r| {
                let s: Vec<String> = (0..r.below(3)).map(|_| status(r)).collect();
                format!("[{}]", s.join(","))
            }),
        ),
        (
            "discovery",
            field(rng, |r| {
                format!(
                    "{{\"name\":{},\"ports\":{{\"ports\":[{{\"number\":{},\"name\":{}}}]}}}}",
                    string(r),
                    value(r, 0),
                    string(r)
                )
            }),
        ),
        (
            "labels",
            field(rng, |r| format!("[{{\"key\":{}}}, {}]", string(r), value(r, 1))),
        ),
    ];
    let fields = some_fields(rng, fields);
    object(rng, fields)
}

fn framework(rng: &mut Rng) -> String {
    let fields = vec![
        (
            "id",
            field(rng, |r| r.pick(&["\"f1\"", "\"f2\"", "\"f\\u0031\""]).into()),
        ),
        ("name", field(rng, string)),
        ("pid", field(rng, string)),
        ("hostname", field(rng, string)),
        (
            "tasks",
            field(rng, |r| {
                let tasks: Vec<String> = (0..r.below(4))
                    .map(|_| match r.chance(15) {
                        true => value(r, 2),
                        false => task(r),
                    })
                    .collect();
                format!("[{}]", tasks.join(","))
            }),
        ),
    ];
    let fields = some_fields(rng, fields);
    object(rng, fields)
}

fn document(rng: &mut Rng) -> String {
    let agent = |r: &mut Rng| {
        format!(
            "{{\"id\":{},\"pid\":{},\"hostname\":{}}}",
            string(r),
            string(r),
            value(r, 1)
        )
    };
    let list = |r: &mut Rng, item: &dyn Fn(&mut Rng) -> String| {
        let items: Vec<String> = (0..r.below(3)).map(|_| item(r)).collect();
        format!("[{}]", items.join(","))
    };
    let fields = vec![
        ("leader", field(rng, string)),
        ("pid", field(rng, string)),
        ("hostname", field(rng, string)),
        ("leader_info", field(rng, |r| format!("{{\"hostname\":{}}}", string(r)))),
        ("slaves", field(rng, |r| list(r, &agent))),
        (
            "frameworks",
            field(rng, |r| {
                list(r, &|r: &mut Rng| match r.chance(10) {
                    true => value(r, 2),
                    false => framework(r),
                })
            }),
        ),
        (
            "elected_time",
            field(rng, |r| r.pick(&["1700000000.5", "0", "\"12\""]).into()),
        ),
        ("recovered_slaves", field(rng, |r| list(r, &agent))),
    ];
    let fields = some_fields(rng, fields);
    match rng.chance(3) {
        true => value(rng, 2),
        false => object(rng, fields),
    }
}

#[test]
fn random_and_adversarial_documents_read_as_the_derive_reads_them() {
    let mut rng = Rng(28);
    let (mut documents, mut mangled) = (0, 0);
    for _ in 0..3000 {
        let doc = document(&mut rng);
        documents += usize::from(agrees(doc.as_bytes()));
        // The same document cut short, and with one byte changed.
        let bytes = doc.as_bytes();
        let cut = rng.below(bytes.len());
        assert!(!agrees(&bytes[..cut]), "a document cut short is refused");
        let mut changed = bytes.to_vec();
        let at = rng.below(changed.len());
        let swaps = b"{}[]\",:\\ ax0";
        changed[at] = swaps[rng.below(swaps.len())];
        mangled += usize::from(agrees(&changed));
    }
    // The generator must reach both outcomes often.
    assert!(documents > 1000, "{documents} documents of 3000 parsed");
    assert!(mangled > 100, "{mangled} mangled documents parsed");
}
