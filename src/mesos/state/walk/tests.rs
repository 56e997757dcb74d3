//! The one-pass reader against serde's derive on [`State`] (what [`super::super::parse`] reads): on the
//! fixtures, and on random and adversarial documents (fields in any order, repeated, of the wrong type;
//! strings with escaped quotes and braces; nested arrays; tasks and frameworks that are not objects;
//! truncated and mangled bodies): the same header, the same tasks in the same order under the same
//! framework, the same errors; and read as they arrive ([`read_split`]: a few bytes at a time, or cut
//! anywhere), the same header and tasks, or a document to read whole where the slice's read fails.

use super::*;
use crate::random::TestRng as Rng;

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

/// What a sink of any lifetime was given: as [`Collect`], the tasks written out.
#[derive(Default, Debug, PartialEq)]
struct Written {
    tasks: Vec<(usize, String, String)>,
    ended: Vec<usize>,
}

impl<'a> TaskSink<'a> for Written {
    fn task(&mut self, framework: usize, read: &Framework<'a, Skipped>, task: Task<'a>) {
        self.tasks.push((framework, read.id.to_string(), format!("{task:?}")));
    }

    fn framework(&mut self, framework: usize, _: &Framework<'a, Skipped>) {
        self.ended.push(framework);
    }
}

impl Written {
    fn of(collected: &Collect<'_>) -> Written {
        Written {
            tasks: collected
                .tasks
                .iter()
                .map(|(f, id, task)| (*f, id.clone(), format!("{task:?}")))
                .collect(),
            ended: collected.ended.clone(),
        }
    }
}

/// A body as it arrives: the first read gives at most `first` bytes, the others at most `then`.
struct Arriving<'b> {
    body: &'b [u8],
    first: usize,
    then: usize,
    /// The most bytes a read asked for (the reader's buffer).
    asked: usize,
}

impl std::io::Read for Arriving<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.asked = self.asked.max(buf.len());
        let n = buf.len().min(self.body.len()).min(self.first);
        buf[..n].copy_from_slice(&self.body[..n]);
        self.body = &self.body[n..];
        self.first = self.then;
        Ok(n)
    }
}

/// [`read_split`] of `body` arriving as `arriving` says, into a buffer of `chunk` bytes at first.
fn split(
    arriving: Arriving<'_>,
    sink: &mut dyn for<'a> TaskSink<'a>,
    chunk: usize,
) -> Result<Header<'static>, Stopped> {
    split::read_with(arriving, sink, chunk)
}

/// What the read of the slice gives: the header written out (`{:?}`) and the tasks, or an error;
/// with the tasks read and for the header alone.
struct Expected {
    document: Option<(String, Written)>,
    header: Option<String>,
}

impl Expected {
    fn of(body: &[u8]) -> Expected {
        let mut whole = Collect::default();
        Expected {
            document: read(body, &mut whole)
                .ok()
                .map(|h| (format!("{h:?}"), Written::of(&whole))),
            header: parse_header(body).ok().map(|h| format!("{h:?}")),
        }
    }

    /// The split read of `body` arriving `first` bytes, then `then` bytes at a time gives the
    /// same header and tasks, or (where the slice's read fails) a document to read whole.
    fn split_agrees(&self, body: &[u8], text: &str, (first, then): (usize, usize), chunk: usize) {
        let arrive = |body| Arriving {
            body,
            first,
            then,
            asked: 0,
        };
        let mut written = Written::default();
        let got = split(arrive(body), &mut written, chunk).map(|h| (format!("{h:?}"), written));
        match (&self.document, got) {
            (Some(expected), Ok(got)) => assert_eq!(*expected, got, "{text}"),
            (None, Err(Stopped::ReadWhole)) => {}
            (expected, got) => panic!("split: {got:?} against the slice's {expected:?}: {text}"),
        }
        match (&self.header, split(arrive(body), &mut (), chunk)) {
            (Some(expected), Ok(got)) => assert_eq!(*expected, format!("{got:?}"), "{text}"),
            (None, Err(Stopped::ReadWhole)) => {}
            (expected, got) => panic!("split header: {got:?} against the slice's {expected:?}: {text}"),
        }
    }
}

/// The split read agrees with the slice's, `body` arriving 7 bytes at a time into a small buffer
/// (which grows for a value bigger than half of it) and a big one.
fn same_streamed(body: &[u8], text: &str) {
    let expected = Expected::of(body);
    for chunk in [4, 64, 4096] {
        expected.split_agrees(body, text, (7, 7), chunk);
    }
}

/// The split read agrees with the slice's, `body` arriving in two reads cut at every `step`th
/// offset.
fn same_split_anywhere(body: &[u8], text: &str, step: usize) {
    let expected = Expected::of(body);
    // A read of 0 bytes is the end of the body: the first gives one at least.
    for at in (1..=body.len()).step_by(step) {
        expected.split_agrees(body, text, (at, usize::MAX), body.len() + 1);
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
fn the_fixtures_read_as_they_arrive_cut_anywhere_as_from_the_slice() {
    same_split_anywhere(TUTORIAL, "the tutorial's state", 1);
    // Every fifth offset of 16 kB (every one takes seconds).
    same_split_anywhere(FAKE, "the fake master's state", 5);
    // A value bigger than the buffer grows it; the tasks are the slice's.
    let mut written = Written::default();
    let header = split(
        Arriving {
            body: FAKE,
            first: 1,
            then: 3,
            asked: 0,
        },
        &mut written,
        1,
    )
    .unwrap();
    assert_eq!(header.leader, "master@127.0.0.1:5050");
    let mut whole = Collect::default();
    read(FAKE, &mut whole).unwrap();
    assert_eq!(written, Written::of(&whole));
    assert!(!written.tasks.is_empty());
}

#[test]
fn an_ignored_value_bigger_than_the_buffer_is_read_through_not_held() {
    let pad = "x".repeat(64 << 10);
    let body = format!(
        r#"{{"pad": "{pad}", "leader": "m", "frameworks": [{{"id": "f", "old": ["{pad}", {{"a": ["{pad}"]}}, 1],
            "tasks": [{{"id": "t", "pad": {{"a": "b"}}}}]}}], "last": [[["{pad}"]]]}}"#
    );
    let body = body.as_bytes();
    let mut arriving = Arriving {
        body,
        first: 1000,
        then: 1000,
        asked: 0,
    };
    let mut written = Written::default();
    let header = split::read_with(&mut arriving, &mut written, 4096).unwrap();
    assert_eq!(header.leader, "m");
    let expected = Expected::of(body);
    assert_eq!(expected.document, Some((format!("{header:?}"), written)));
    // The buffer never grew.
    assert_eq!(arriving.asked, 4096);
    for chunk in [16, 4096] {
        expected.split_agrees(body, "values of 64 kB", (1000, 1000), chunk);
    }
    // Cut short in an ignored value, or its transfer broken there.
    let cut = &body[..body.len() / 3];
    assert!(matches!(split::read_with(cut, &mut (), 4096), Err(Stopped::ReadWhole)));
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"))
        }
    }
    let broken = std::io::Read::chain(cut, Broken);
    match split::read_with(broken, &mut (), 4096) {
        Err(Stopped::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        other => panic!("{other:?}"),
    }
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

pub(super) fn task(rng: &mut Rng) -> String {
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
    for i in 0..3000 {
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
        // One in ten arrives cut at every offset.
        if i % 10 == 0 {
            for body in [bytes, &bytes[..cut], &changed] {
                same_split_anywhere(body, &String::from_utf8_lossy(body), 1);
            }
        }
    }
    // The generator must reach both outcomes often.
    assert!(documents > 1000, "{documents} documents of 3000 parsed");
    assert!(mangled > 100, "{mangled} mangled documents parsed");
}

/// Bytes that are not UTF-8 (a stray byte, a character cut short, a lone continuation byte) in a
/// read string, an ignored value, a key or between values: the split read, which reads values from
/// text checked to be UTF-8 as it comes, agrees with the slice's, arriving a few bytes at a time and
/// cut anywhere.
#[test]
fn bytes_that_are_not_utf8_read_as_from_the_slice_wherever_they_are() {
    let mut rng = Rng(8);
    let bad: [&[u8]; 4] = [b"\xff", b"\xc3", b"\xe2\x82", b"\x80"];
    let mut documents = 0;
    for i in 0..600 {
        let mut bytes = document(&mut rng).into_bytes();
        let at = rng.below(bytes.len());
        bytes.splice(at..at + 1, bad[rng.below(bad.len())].iter().copied());
        documents += usize::from(agrees(&bytes));
        if i % 10 == 0 {
            same_split_anywhere(&bytes, &String::from_utf8_lossy(&bytes), 1);
        }
    }
    // Some land in ignored values, which the slice's read does not check: those read.
    assert!(documents > 0, "{documents} documents of 600 parsed");
    // A document that is UTF-8 but for its last byte, and one ending in a character cut short.
    for body in [&FAKE[..FAKE.len() - 1], FAKE] {
        for tail in bad {
            let mut bytes = body.to_vec();
            bytes.extend_from_slice(tail);
            agrees(&bytes);
        }
    }
}

/// Times reading a generated state (`SPLIT_PROBE=path`) four ways, best of 3 each: the floor (the
/// file read whole, then serde_json into `IgnoredAny`), the file read whole then its tasks parsed
/// ([`read`]) and dropped or packed into a model, and the file read as it arrives ([`read_split`])
/// with the same two sinks:
///   SPLIT_PROBE=target/bench-states/state-100000-5000-5.json \
///     cargo test --release --lib split_probe -- --ignored --nocapture
#[test]
#[ignore]
fn split_probe() {
    use crate::refresh::model::ModelReader;
    use std::time::{Duration, Instant};

    /// Counts the tasks handed over, dropping them.
    #[derive(Default)]
    struct Count(usize);
    impl<'a> TaskSink<'a> for Count {
        fn task(&mut self, _: usize, _: &Framework<'a, Skipped>, _: Task<'a>) {
            self.0 += 1;
        }
    }

    let Ok(path) = std::env::var("SPLIT_PROBE") else { return };
    let whole = || std::fs::read(&path).unwrap();
    let arriving = || std::fs::File::open(&path).unwrap();
    let mut best = [Duration::MAX; 5];
    for _ in 0..3 {
        let times = [
            {
                let t = Instant::now();
                serde_json::from_slice::<IgnoredAny>(&whole()).unwrap();
                t.elapsed()
            },
            {
                let t = Instant::now();
                let mut count = Count::default();
                read(&whole(), &mut count).unwrap();
                assert!(count.0 > 0);
                t.elapsed()
            },
            {
                let t = Instant::now();
                let mut count = Count::default();
                read_split(arriving(), &mut count).unwrap();
                assert!(count.0 > 0);
                t.elapsed()
            },
            {
                let t = Instant::now();
                let body = whole();
                let mut model = ModelReader::default();
                let header = read(&body, &mut model).unwrap();
                drop(model.finish(&header));
                t.elapsed()
            },
            {
                let t = Instant::now();
                let mut model = ModelReader::default();
                let header = read_split(arriving(), &mut model).unwrap();
                drop(model.finish(&header));
                t.elapsed()
            },
        ];
        for (b, t) in best.iter_mut().zip(times) {
            *b = (*b).min(t);
        }
    }
    let names = [
        "floor (read whole, IgnoredAny)",
        "read whole, tasks parsed",
        "as it arrives, tasks parsed",
        "read whole, into a model",
        "as it arrives, into a model",
    ];
    for (name, t) in names.iter().zip(best) {
        eprintln!(
            "{name}: {} ms = {:.2}x the floor",
            t.as_millis(),
            t.as_secs_f64() / best[0].as_secs_f64()
        );
    }
}
