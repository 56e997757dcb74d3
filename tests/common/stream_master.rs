//! A fake Mesos 1.x master for the event-stream tests: a [`FakeMaster`] with its event streams open
//! and one cluster picture (one framework, `marathon`, and one agent) that it serves at
//! `/master/state` and in the SUBSCRIBED event of each stream. Every event it streams also changes
//! that picture, unless a test changes the cluster silently to prove that a change came through a
//! poll. Loopback only; agent addresses are data and never contacted.

use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{json, Value};

use super::master::{Cluster, FakeMaster};

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

/// A fake Mesos 1.x master on 127.0.0.1 with one framework (`marathon`) and one agent.
pub struct StreamMaster {
    master: FakeMaster,
    /// The cluster picture; held while the master is told about a change, so that changes reach it
    /// in order.
    tasks: Mutex<Vec<FakeTask>>,
}

impl StreamMaster {
    pub fn start(tasks: &[(&str, &str)]) -> StreamMaster {
        let tasks: Vec<FakeTask> = tasks
            .iter()
            .map(|(id, name)| FakeTask {
                id: id.to_string(),
                name: name.to_string(),
                state: "TASK_RUNNING",
            })
            .collect();
        let master = FakeMaster::start();
        master.set_cluster(cluster(&tasks));
        master.open_streams();
        StreamMaster {
            master,
            tasks: Mutex::new(tasks),
        }
    }

    pub fn addr(&self) -> String {
        self.master.addr()
    }

    pub fn subscriptions(&self) -> usize {
        self.master.subscriptions()
    }

    /// Streams one event to every subscriber (and keeps the cluster in step with it); returns the
    /// time just before it was written.
    pub fn emit(&self, event: Value) -> Instant {
        let mut tasks = self.tasks.lock().unwrap();
        apply(&mut tasks, &event);
        self.master.emit(&event, cluster(&tasks))
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
        let mut tasks = self.tasks.lock().unwrap();
        tasks.push(FakeTask {
            id: id.into(),
            name: name.into(),
            state: "TASK_RUNNING",
        });
        self.master.set_cluster(cluster(&tasks));
    }

    /// Closes every open stream; with `refuse`, answers SUBSCRIBE with 503 from now on.
    pub fn break_streams(&self, refuse: bool) {
        if refuse {
            self.master.refuse_streams(503);
        }
        self.master.break_streams();
    }

    pub fn accept_streams(&self) {
        self.master.open_streams();
    }
}

/// The picture as the master shows it.
fn cluster(tasks: &[FakeTask]) -> Cluster {
    Cluster {
        state: state_doc(tasks),
        subscribed: subscribed(tasks),
    }
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

/// The state document; `leader` and `pid` are the serving master's business.
pub fn state_doc(tasks: &[FakeTask]) -> Value {
    let tasks: Vec<Value> = tasks
        .iter()
        .map(|t| {
            json!({"id": t.id, "name": t.name, "framework_id": FW, "slave_id": AGENT, "state": t.state,
                "resources": {"ports": "[31000-31000]"}, "statuses": [{"state": t.state, "timestamp": 1.7e9}]})
        })
        .collect();
    json!({
        "frameworks": [{"id": FW, "name": "marathon", "pid": "scheduler(1)@10.1.0.1:8080", "tasks": tasks}],
        "slaves": [{"id": AGENT, "pid": format!("slave(1)@{AGENT_IP}:5051"), "hostname": AGENT_IP.to_string()}]
    })
}
