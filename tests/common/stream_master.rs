//! A fake Mesos 1.x master for the event-stream tests: it serves `/master/state` and streams scripted
//! operator-API events on `POST /api/v1` (RecordIO in HTTP chunks, as a real master does). It keeps one
//! cluster picture: every event it streams also changes the state document it serves, unless a test
//! changes the cluster silently to prove that a change came through a poll. Loopback only; agent
//! addresses are data and never contacted.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const FW: &str = "20240101-000000-0100007f-5050-0000";
pub const AGENT: &str = "20240101-000000-0100007f-5050-0000-S1";
pub const AGENT_IP: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 7);

/// A task of the fake cluster.
#[derive(Clone)]
pub struct FakeTask {
    pub id: String,
    pub name: String,
    pub state: &'static str,
}

struct Shared {
    tasks: Vec<FakeTask>,
    /// The status `/api/v1` answers with; 200 streams.
    api_status: u16,
    subscribers: Vec<TcpStream>,
    subscriptions: usize,
}

/// A fake Mesos 1.x master on 127.0.0.1 with one framework (`marathon`) and one agent.
pub struct StreamMaster {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StreamMaster {
    pub fn start(tasks: &[(&str, &str)]) -> StreamMaster {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake master");
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Mutex::new(Shared {
            tasks: tasks
                .iter()
                .map(|(id, name)| FakeTask {
                    id: id.to_string(),
                    name: name.to_string(),
                    state: "TASK_RUNNING",
                })
                .collect(),
            api_status: 200,
            subscribers: Vec::new(),
            subscriptions: 0,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared2, stop2) = (shared.clone(), stop.clone());
        let thread = thread::spawn(move || {
            for conn in listener.incoming().take(10_000) {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let _ = serve(conn, addr, &shared2);
                }
            }
        });
        StreamMaster {
            addr,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    pub fn subscriptions(&self) -> usize {
        self.shared.lock().unwrap().subscriptions
    }

    /// Streams one event to every subscriber (and keeps the cluster in step with it); returns the
    /// time just before it was written.
    pub fn emit(&self, event: Value) -> Instant {
        let mut s = self.shared.lock().unwrap();
        apply(&mut s.tasks, &event);
        let chunk = chunk(&record(&event));
        let at = Instant::now();
        s.subscribers
            .retain_mut(|c| c.write_all(&chunk).and_then(|()| c.flush()).is_ok());
        at
    }

    /// `TASK_ADDED` (staging) then `TASK_UPDATED` (running); returns when the second was written.
    pub fn start_task(&self, id: &str, name: &str) -> Instant {
        self.emit(json!({"type": "TASK_ADDED", "task_added": {"task": v1_task(&FakeTask {
            id: id.into(), name: name.into(), state: "TASK_STAGING"
        })}}));
        self.emit(task_updated(id, "TASK_RUNNING"))
    }

    /// Changes the cluster without telling subscribers: only a poll can see it.
    pub fn add_task_silently(&self, id: &str, name: &str) {
        self.shared.lock().unwrap().tasks.push(FakeTask {
            id: id.into(),
            name: name.into(),
            state: "TASK_RUNNING",
        });
    }

    /// Closes every open stream; with `refuse`, answers SUBSCRIBE with 503 from now on.
    pub fn break_streams(&self, refuse: bool) {
        let mut s = self.shared.lock().unwrap();
        if refuse {
            s.api_status = 503;
        }
        for c in s.subscribers.drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    pub fn accept_streams(&self) {
        self.shared.lock().unwrap().api_status = 200;
    }
}

impl Drop for StreamMaster {
    fn drop(&mut self) {
        self.break_streams(true);
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn record(event: &Value) -> Vec<u8> {
    let body = event.to_string();
    format!("{}\n{body}", body.len()).into_bytes()
}

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// What the master's own picture does with an event it streams.
fn apply(tasks: &mut Vec<FakeTask>, event: &Value) {
    match event["type"].as_str() {
        Some("TASK_ADDED") => {
            let t = &event["task_added"]["task"];
            tasks.push(FakeTask {
                id: t["task_id"]["value"].as_str().unwrap_or("").into(),
                name: t["name"].as_str().unwrap_or("").into(),
                state: "TASK_STAGING",
            });
        }
        Some("TASK_UPDATED") => {
            let u = &event["task_updated"];
            let id = u["status"]["task_id"]["value"].as_str().unwrap_or("");
            let state = match u["state"].as_str() {
                Some("TASK_RUNNING") => "TASK_RUNNING",
                Some("TASK_KILLED") => "TASK_KILLED",
                _ => "TASK_STAGING",
            };
            for t in tasks.iter_mut().filter(|t| t.id == id) {
                t.state = state;
            }
        }
        _ => {}
    }
}

pub fn v1_task(t: &FakeTask) -> Value {
    json!({
        "name": t.name, "task_id": {"value": t.id}, "framework_id": {"value": FW},
        "agent_id": {"value": AGENT}, "state": t.state,
        "resources": [{"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31000}]}}],
        "statuses": [{"task_id": {"value": t.id}, "state": t.state, "timestamp": 1.7e9}]
    })
}

pub fn task_updated(id: &str, state: &str) -> Value {
    json!({"type": "TASK_UPDATED", "task_updated": {
        "framework_id": {"value": FW}, "state": state,
        "status": {"task_id": {"value": id}, "agent_id": {"value": AGENT}, "state": state, "timestamp": 1.7e9}
    }})
}

pub fn subscribed(tasks: &[FakeTask]) -> Value {
    json!({"type": "SUBSCRIBED", "subscribed": {
        "get_state": {
            "get_tasks": {"tasks": tasks.iter().map(v1_task).collect::<Vec<_>>()},
            "get_frameworks": {"frameworks": [{"framework_info": {"id": {"value": FW}, "name": "marathon", "hostname": "10.1.0.1", "user": "root"}, "active": true}]},
            "get_agents": {"agents": [{"agent_info": {"id": {"value": AGENT}, "hostname": AGENT_IP.to_string(), "port": 5051}, "pid": format!("slave(1)@{AGENT_IP}:5051"), "active": true}]}
        },
        "heartbeat_interval_seconds": 15
    }})
}

pub fn state_doc(tasks: &[FakeTask], addr: SocketAddr) -> Value {
    let tasks: Vec<Value> = tasks
        .iter()
        .map(|t| {
            json!({"id": t.id, "name": t.name, "framework_id": FW, "slave_id": AGENT, "state": t.state,
                "resources": {"ports": "[31000-31000]"}, "statuses": [{"state": t.state, "timestamp": 1.7e9}]})
        })
        .collect();
    json!({
        "leader": format!("master@{addr}"), "pid": format!("master@{addr}"),
        "frameworks": [{"id": FW, "name": "marathon", "pid": "scheduler(1)@10.1.0.1:8080", "tasks": tasks}],
        "slaves": [{"id": AGENT, "pid": format!("slave(1)@{AGENT_IP}:5051"), "hostname": AGENT_IP.to_string()}]
    })
}

/// Answers one request: the state document, or a subscription that stays open in `subscribers`.
fn serve(conn: TcpStream, addr: SocketAddr, shared: &Mutex<Shared>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(());
    }
    let mut length = 0usize;
    for _ in 0..100 {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0).min(1 << 20);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let path = request_line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut out = conn;
    let mut s = shared.lock().unwrap();
    match path.as_str() {
        "/api/v1" if s.api_status == 200 && String::from_utf8_lossy(&body).contains("SUBSCRIBE") => {
            s.subscriptions += 1;
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )?;
            out.write_all(&chunk(&record(&subscribed(&s.tasks))))?;
            out.flush()?;
            s.subscribers.push(out);
            Ok(())
        }
        "/master/state" => {
            let body = state_doc(&s.tasks, addr).to_string();
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        }
        _ => {
            let status = if path == "/api/v1" { s.api_status } else { 404 };
            write!(
                out,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        }
    }
}
