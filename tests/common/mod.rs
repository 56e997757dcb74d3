//! Test harness for end-to-end tests, by concern: `http` (the HTTP/1.1 server core of the fakes),
//! `master` (the fake Mesos master: state documents, failures, event streams, an authorization check),
//! `stream_master` (a fake master with a cluster picture that it streams as operator-API events),
//! `server` (the real `mesos-dns` binary under test, config files, ports), `dns` (a tiny DNS client
//! with its own decoder, independent of `src/wire`), `dig` (dig/kdig runners), `upstream` (the upstream
//! resolvers the relay tests use: our scriptable responder, and `unbound`) and `zk` (a real
//! ZooKeeper). Everything talks to loopback only, and every wait is a poll with a deadline. This file
//! holds the deadlines and the state fixtures.

#![allow(dead_code)] // each test binary uses part of the harness

pub mod dig;
pub mod dns;
pub mod http;
pub mod knot;
pub mod master;
pub mod server;
pub mod stream_master;
pub mod upstream;
pub mod zk;

#[allow(unused_imports)]
pub use dig::*;
#[allow(unused_imports)]
pub use master::*;
#[allow(unused_imports)]
pub use server::*;

use std::collections::HashSet;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// The server binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mesos-dns");

/// How long a server may take to start or to load its first records.
pub const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long a change of state may take to show (refreshSeconds is 1 in tests).
pub const CHANGE_DEADLINE: Duration = Duration::from_secs(20);

/// Polls `cond` until it holds or `deadline` passes; panics naming `what` on timeout. Bounded in time and
/// in iterations (a poll every 20 ms at most).
pub fn wait_until(what: &str, deadline: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    let max_polls = deadline.as_millis() / 20 + 2;
    for _ in 0..max_polls {
        if cond() {
            return;
        }
        if start.elapsed() > deadline {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {deadline:?} waiting for {what}");
}

// ---------------------------------------------------------------------------------------------------
// Fixtures

/// The fenced block of `README.md` that follows the line containing `marker` (an HTML comment such as
/// `<!-- marathon-app -->`): the tests that run the README's snippets as written read them with this.
pub fn readme_block(marker: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README.md");
    let after = &readme[readme
        .find(marker)
        .unwrap_or_else(|| panic!("README has no `{marker}`"))..];
    let start = after.find("```").expect("a code block after the marker");
    let body = &after[start..];
    let body = &body[body.find('\n').unwrap_or(0) + 1..];
    body[..body.find("```").expect("the end of the code block")].to_string()
}

/// A fixture document from `tests/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The tutorial cluster: `nginx` of `marathon-0.7.6` on agent 10.114.227.92.
pub fn tutorial() -> Value {
    fixture("tutorial-0.21.json")
}

/// The agents of the tutorial fixture, by their `S<n>` suffix.
pub const TUTORIAL_S0: &str = "20150124-005312-2536286730-5050-1180-S0";
pub const TUTORIAL_S1: &str = "20150124-005312-2536286730-5050-1180-S1";
pub const TUTORIAL_S2: &str = "20150124-005312-2536286730-5050-1180-S2";
pub const NGINX: &str = "nginx.marathon-0.7.6.mesos";
pub const NGINX_IP: Ipv4Addr = Ipv4Addr::new(10, 114, 227, 92);
pub const S2_IP: Ipv4Addr = Ipv4Addr::new(10, 29, 107, 105);

/// The tutorial's framework tasks, for editing.
pub fn tasks_mut(state: &mut Value) -> &mut Vec<Value> {
    state["frameworks"][0]["tasks"]
        .as_array_mut()
        .expect("tutorial has tasks")
}

/// Replaces the tutorial's `nginx` task with one instance on each agent of `state["slaves"]`.
pub fn nginx_on_each_agent(state: &mut Value) {
    let ids: Vec<String> = state["slaves"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let tasks = tasks_mut(state);
    let nginx = tasks.iter().find(|t| t["name"] == "nginx").expect("nginx task").clone();
    tasks.retain(|t| t["name"] != "nginx");
    for (i, agent) in ids.iter().enumerate() {
        let mut task = nginx.clone();
        task["id"] = json!(format!("nginx.7a1e000{i}-a36d-11e4-8c21-56847afe9799"));
        task["slave_id"] = json!(agent);
        tasks.push(task);
    }
}

/// The tutorial with `nginx` scaled to two instances, on agents S1 (10.114.227.92) and S2 (10.29.107.105).
pub fn tutorial_scaled() -> Value {
    let mut state = tutorial();
    let tasks = tasks_mut(&mut state);
    let mut second = tasks.iter().find(|t| t["name"] == "nginx").expect("nginx task").clone();
    second["id"] = json!("nginx.7a1e0001-a36d-11e4-8c21-56847afe9799");
    second["slave_id"] = json!(TUTORIAL_S2);
    tasks.push(second);
    state
}

/// The tutorial with `nginx` moved from S1 to S2 (10.29.107.105).
pub fn tutorial_moved() -> Value {
    let mut state = tutorial();
    for t in tasks_mut(&mut state).iter_mut().filter(|t| t["name"] == "nginx") {
        t["slave_id"] = json!(TUTORIAL_S2);
    }
    state
}

/// Runs `openssl` in `dir` (the TLS and IAM tests make their keys and certificates with it); fails the
/// test with openssl's message if it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (apt-get install -y openssl; .ci/run does): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
