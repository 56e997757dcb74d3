//! The fetcher against masters served on loopback by a scripted HTTP server: a body parsed as it
//! arrives ([`Fetcher::fetch_streamed`]) ends every search as the same body read whole
//! ([`Fetcher::fetch_with`]) does: the leader followed, the same tasks, the same errors.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::*;

/// What a path answers: a status, a body, and how much of it is sent before the connection closes
/// (`None`: all of it), or before the master stalls (`stall`: it sends nothing more until the client
/// goes); `Content-Length` announces the whole body unless `chunked`.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: Vec<u8>,
    cut: Option<usize>,
    chunked: bool,
    stall: bool,
}

fn ok(body: &str) -> Reply {
    Reply {
        status: 200,
        body: body.as_bytes().to_vec(),
        cut: None,
        chunked: false,
        stall: false,
    }
}

/// A master on loopback answering each path as scripted (404 otherwise), one connection at a time.
struct Served {
    ip: &'static str,
    port: u16,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    gets: Arc<AtomicUsize>,
}

impl Served {
    /// Served on `ip`, at `port` (0: any).
    fn start(ip: &'static str, port: u16) -> Served {
        let listener = TcpListener::bind((ip, port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let replies = Arc::new(Mutex::new(HashMap::new()));
        let gets = Arc::new(AtomicUsize::new(0));
        let (r, g) = (replies.clone(), gets.clone());
        // Detached: it ends with the test process; each connection is bounded by its timeouts.
        thread::spawn(move || {
            for conn in listener.incoming().take(1000) {
                let Ok(conn) = conn else { continue };
                g.fetch_add(1, Ordering::SeqCst);
                answer(conn, &r);
            }
        });
        Served {
            ip,
            port,
            replies,
            gets,
        }
    }

    fn master(&self) -> String {
        format!("master@{}:{}", self.ip, self.port)
    }

    fn set(&self, reply: Reply) {
        self.replies.lock().unwrap().insert("/master/state".into(), reply);
    }

    fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }
}

fn answer(mut conn: TcpStream, replies: &Mutex<HashMap<String, Reply>>) {
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split(' ').nth(1).unwrap_or("");
    let reply = replies
        .lock()
        .unwrap()
        .get(path)
        .cloned()
        .unwrap_or(Reply { status: 404, ..ok("") });
    let length = match reply.chunked {
        true => "Transfer-Encoding: chunked".to_owned(),
        false => format!("Content-Length: {}", reply.body.len()),
    };
    let mut out = format!("HTTP/1.1 {} X\r\n{length}\r\nConnection: close\r\n\r\n", reply.status).into_bytes();
    let body = &reply.body[..reply.cut.unwrap_or(reply.body.len())];
    match reply.chunked {
        true => {
            for chunk in body.chunks(1000) {
                out.extend(format!("{:x}\r\n", chunk.len()).bytes());
                out.extend(chunk);
                out.extend(b"\r\n");
            }
            if reply.cut.is_none() {
                out.extend(b"0\r\n\r\n");
            }
        }
        false => out.extend(body),
    }
    let _ = conn.write_all(&out);
    if reply.stall {
        // Until the client closes the connection (or the read timeout above ends the wait).
        let _ = conn.read(&mut byte);
    }
}

/// The task ids a document's tasks gave.
#[derive(Default)]
struct Ids(Vec<String>);

impl<'a> TaskSink<'a> for Ids {
    fn task(&mut self, _: usize, _: &state::Framework<'a, state::Skipped>, task: state::Task<'a>) {
        self.0.push(task.id.into_owned());
    }
}

/// How a search ended: the leader and tasks accepted (or the tasks' error), where from; or the error.
type Ended = Result<((String, Result<Vec<String>, String>), String), FetchError>;

fn fetcher(masters: &[&Served], limit: u64) -> Fetcher {
    fetcher_timing_out(masters, limit, 5)
}

/// [`fetcher`] with `stateTimeoutSeconds`.
fn fetcher_timing_out(masters: &[&Served], limit: u64, timeout: u64) -> Fetcher {
    let masters = masters
        .iter()
        .map(|m| HostPort::parse(&format!("{}:{}", m.ip, m.port)).unwrap())
        .collect::<Vec<_>>();
    let config = Config {
        masters: masters.clone(),
        state_timeout_seconds: timeout,
        ..Config::default()
    };
    Fetcher::with_config(&config, masters)
        .unwrap()
        .with_follow_filter(is_loopback_addr)
        .with_body_limit(limit)
}

/// Both fetches of the same search, and the GETs each sent to `counted`.
fn both(masters: &[&Served], limit: u64, counted: &Served) -> (Ended, usize, Ended, usize) {
    let f = fetcher(masters, limit);
    let seen = |header: &Header<'_>, tasks: Result<Ids, serde_json::Error>| {
        (header.leader.to_string(), tasks.map(|t| t.0).map_err(|e| e.to_string()))
    };
    let before = counted.gets();
    let whole = f
        .fetch_with(|_, header, _, tasks| seen(header, tasks))
        .map(|(s, o)| (s, o.url));
    let between = counted.gets();
    let streamed = f
        .fetch_streamed(|_, header, tasks| seen(header, tasks))
        .map(|(s, o)| (s, o.url));
    (whole, between - before, streamed, counted.gets() - between)
}

/// A state document naming `leader`, with `tasks` (JSON text) in one framework.
fn document(leader: &str, tasks: &str) -> String {
    format!(r#"{{"leader": "{leader}", "frameworks": [{{"id": "f", "tasks": [{tasks}]}}], "slaves": []}}"#)
}

#[test]
fn a_streamed_body_ends_every_search_as_the_body_read_whole_does() {
    // A master names the leader's host; it is asked at the same port.
    let leader = Served::start("127.0.0.1", 0);
    let other = Served::start("127.0.0.2", leader.port);
    let tasks = r#"{"id": "a", "state": "TASK_RUNNING"}, 7, {"id": "b\u0041", "name": "x"}"#;
    leader.set(ok(&document(&leader.master(), tasks)));
    // A non-leader's document is parsed, dropped, and the leader it names followed.
    other.set(ok(&document(&leader.master(), "")));
    let deadline = Instant::now() + Duration::from_secs(60);
    let (whole, _, streamed, _) = both(&[&other], 1 << 20, &leader);
    let ((named, ids), url) = streamed.clone().unwrap();
    assert_eq!(
        (named, ids),
        (leader.master(), Ok(vec!["a".to_owned(), "bA".to_owned()]))
    );
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(whole, streamed);

    let big = document(&leader.master(), &vec![r#"{"id": "t"}"#; 2000].join(","));
    let cases: Vec<(&str, Reply)> = vec![
        ("malformed", ok(r#"{"leader": "x", "frameworks": [}"#)),
        ("not an object", ok(r#"[{"leader": "x"}]"#)),
        ("names no leader", ok(&document("", ""))),
        (
            "cut mid-body",
            Reply {
                cut: Some(big.len() / 2),
                ..ok(&big)
            },
        ),
        (
            "chunked, cut mid-body",
            Reply {
                cut: Some(big.len() / 2),
                chunked: true,
                ..ok(&big)
            },
        ),
        (
            "chunked, over the limit",
            Reply {
                chunked: true,
                ..ok(&big)
            },
        ),
        ("announced over the limit", ok(&big)),
        (
            "a repeated field in a task",
            ok(&document(&leader.master(), r#"{"id": "a", "id": "b"}"#)),
        ),
        (
            "a repeated field in the header",
            ok(&format!(r#"{{"leader": "{0}", "leader": "{0}"}}"#, leader.master())),
        ),
        (
            "chunked, whole",
            Reply {
                chunked: true,
                ..ok(&big)
            },
        ),
    ];
    for (case, reply) in cases {
        assert!(Instant::now() < deadline, "bounded in time");
        let limit = if case.contains("over the limit") { 1000 } else { 1 << 20 };
        leader.set(reply);
        let (whole, whole_gets, streamed, streamed_gets) = both(&[&leader], limit, &leader);
        assert_eq!(whole, streamed, "{case}");
        // A document that does not read cleanly (bad JSON, not a state) is asked for again and read
        // whole, which says why.
        let again = usize::from(case.starts_with("a repeated field") || case == "not an object" || case == "malformed");
        assert_eq!(streamed_gets, whole_gets + again, "{case}");
        match case {
            "a repeated field in a task" => {
                let ((named, tasks), _) = streamed.unwrap();
                assert_eq!(named, leader.master(), "the header still names the leader");
                assert!(tasks.unwrap_err().contains("duplicate field `id`"));
            }
            "chunked, whole" => assert_eq!(streamed.unwrap().0 .1.unwrap().len(), 2000),
            _ => assert!(streamed.is_err(), "{case}: {streamed:?}"),
        }
    }
}

#[test]
fn a_master_stalling_mid_body_fails_the_fetch_at_the_timeout() {
    let leader = Served::start("127.0.0.1", 0);
    let big = document(&leader.master(), &vec![r#"{"id": "t"}"#; 2000].join(","));
    for chunked in [false, true] {
        leader.set(Reply {
            cut: Some(big.len() / 2),
            chunked,
            stall: true,
            ..ok(&big)
        });
        let f = fetcher_timing_out(&[&leader], 1 << 20, 1);
        let started = Instant::now();
        let streamed = f.fetch_streamed(|_, _, _: Result<Ids, _>| ()).map(|(_, o)| o.url);
        assert!(started.elapsed() < Duration::from_secs(30), "bounded by the timeout");
        let whole = f.fetch_with(|_, _, _, _: Result<Ids, _>| ()).map(|(_, o)| o.url);
        match &streamed {
            Err(FetchError::AllFailed(attempts)) => {
                assert_eq!(attempts.len(), 1, "{attempts:?}");
                assert_eq!(attempts[0].problem, Problem::Timeout, "{attempts:?}");
            }
            other => panic!("chunked {chunked}: {other:?}"),
        }
        assert_eq!(whole.map_err(|e| e.to_string()), streamed.map_err(|e| e.to_string()));
    }
}
