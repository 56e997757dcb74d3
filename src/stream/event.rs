//! Decoding one event of the operator API's `SUBSCRIBE` stream (the protobuf-JSON form of
//! `mesos.v1.master.Event`) into the state types record generation already reads
//! ([`crate::mesos::state`]), owned so that they outlive the record they came from. Pure.
//!
//! As with the state document, every field is optional and a value of the wrong JSON type reads as
//! empty: a malformed task costs that task its records, not the subscription. What the v1 API calls an
//! agent is a `Slave` here, and v1 `resources` (`{"name":"ports","ranges":{"range":[{begin,end}]}}`)
//! become the state document's `"[b-e, ...]"` text.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::mesos::state::{lenient, ContainerStatus, Discovery, Framework, Label, Slave, Status, Task};

/// One event, with what it carries in the shape [`crate::records::generate`] reads.
#[derive(Debug)]
pub enum Event {
    /// The first event: the whole cluster.
    Subscribed {
        frameworks: Vec<Framework<'static>>,
        agents: Vec<Slave<'static>>,
        tasks: Vec<Task<'static>>,
        /// How often the master promises a `HEARTBEAT`.
        heartbeat: Option<Duration>,
    },
    TaskAdded(Task<'static>),
    TaskUpdated(TaskUpdate),
    AgentAdded(Slave<'static>),
    AgentRemoved {
        agent_id: String,
    },
    /// `FRAMEWORK_ADDED` and `FRAMEWORK_UPDATED` (no tasks in it).
    FrameworkAdded(Framework<'static>),
    FrameworkRemoved {
        framework_id: String,
    },
    Heartbeat,
    /// An event type we have no use for (`AGENT_UPDATED`, `OPERATION_UPDATED`, newer ones).
    Other(String),
}

/// A `TASK_UPDATED` event.
#[derive(Debug)]
pub struct TaskUpdate {
    pub framework_id: String,
    pub task_id: String,
    /// The task's new state (`TASK_RUNNING`, `TASK_KILLED`, ...).
    pub state: String,
    /// The status update itself (addresses, labels), as it would appear in the task's `statuses`.
    pub status: Status<'static>,
}

/// A record that is not an event.
#[derive(Debug)]
pub struct EventError(String);

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an operator API event: {}", self.0)
    }
}

impl std::error::Error for EventError {}

/// Decodes one RecordIO record of the stream.
pub fn decode(record: &[u8]) -> Result<Event, EventError> {
    let mut de = serde_json::Deserializer::from_slice(record);
    let raw: Raw<'_> = lenient::top_object(&mut de).map_err(|e| EventError(e.to_string()))?;
    de.end().map_err(|e| EventError(e.to_string()))?;
    Ok(match &*raw.kind {
        "SUBSCRIBED" => {
            let s = raw.subscribed.get_state;
            let secs = raw.subscribed.heartbeat_interval_seconds;
            Event::Subscribed {
                frameworks: s
                    .get_frameworks
                    .frameworks
                    .iter()
                    .map(|f| f.framework_info.to_framework())
                    .collect(),
                agents: s.get_agents.agents.iter().map(V1Agent::to_slave).collect(),
                tasks: s.get_tasks.tasks.iter().map(V1Task::to_task).collect(),
                heartbeat: (secs > 0.0 && secs < 1e9).then(|| Duration::from_secs_f64(secs)),
            }
        }
        "TASK_ADDED" => Event::TaskAdded(raw.task_added.task.to_task()),
        "TASK_UPDATED" => {
            let u = &raw.task_updated;
            let task_id = first(&u.status.task_id.value, &u.task_id.value);
            let state = first(&u.state, &u.status.state);
            let mut status = u.status.to_status();
            if status.state.is_empty() {
                status.state = Cow::Owned(state.to_owned());
            }
            Event::TaskUpdated(TaskUpdate {
                framework_id: u.framework_id.value.to_string(),
                task_id: task_id.to_owned(),
                state: state.to_owned(),
                status,
            })
        }
        "AGENT_ADDED" => Event::AgentAdded(raw.agent_added.agent.to_slave()),
        "AGENT_REMOVED" => Event::AgentRemoved {
            agent_id: raw.agent_removed.agent_id.value.to_string(),
        },
        "FRAMEWORK_ADDED" => Event::FrameworkAdded(raw.framework_added.framework.framework_info.to_framework()),
        "FRAMEWORK_UPDATED" => Event::FrameworkAdded(raw.framework_updated.framework.framework_info.to_framework()),
        "FRAMEWORK_REMOVED" => Event::FrameworkRemoved {
            framework_id: raw.framework_removed.framework_info.id.value.to_string(),
        },
        "HEARTBEAT" => Event::Heartbeat,
        "" => return Err(EventError("no `type`".into())),
        other => Event::Other(other.to_owned()),
    })
}

fn first<'s>(a: &'s str, b: &'s str) -> &'s str {
    if a.is_empty() {
        b
    } else {
        a
    }
}

fn owned(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_string())
}

/// Owned copies of the state types (also used to keep a polled document past its body).
pub(crate) mod own {
    use super::owned;
    use crate::mesos::state::*;

    pub fn label(l: &Label<'_>) -> Label<'static> {
        Label {
            key: owned(&l.key),
            value: owned(&l.value),
        }
    }

    pub fn container(c: &ContainerStatus<'_>) -> ContainerStatus<'static> {
        ContainerStatus {
            network_infos: c
                .network_infos
                .iter()
                .map(|n| NetworkInfo {
                    ip_addresses: n
                        .ip_addresses
                        .iter()
                        .map(|a| IpAddress {
                            ip_address: owned(&a.ip_address),
                            protocol: owned(&a.protocol),
                        })
                        .collect(),
                    ip_address: owned(&n.ip_address),
                })
                .collect(),
        }
    }

    pub fn status(s: &Status<'_>) -> Status<'static> {
        Status {
            state: owned(&s.state),
            timestamp: s.timestamp,
            labels: s.labels.iter().map(label).collect(),
            container_status: container(&s.container_status),
        }
    }

    pub fn discovery(d: &Discovery<'_>) -> Discovery<'static> {
        Discovery {
            name: owned(&d.name),
            ports: DiscoveryPorts {
                ports: d
                    .ports
                    .ports
                    .iter()
                    .map(|p| DiscoveryPort {
                        number: p.number,
                        name: owned(&p.name),
                        protocol: owned(&p.protocol),
                    })
                    .collect(),
            },
        }
    }

    pub fn task(t: &Task<'_>) -> Task<'static> {
        Task {
            id: owned(&t.id),
            name: owned(&t.name),
            framework_id: owned(&t.framework_id),
            slave_id: owned(&t.slave_id),
            state: owned(&t.state),
            resources: Resources {
                ports: owned(&t.resources.ports),
            },
            statuses: t.statuses.iter().map(status).collect(),
            discovery: discovery(&t.discovery),
            labels: t.labels.iter().map(label).collect(),
        }
    }

    pub fn slave(s: &Slave<'_>) -> Slave<'static> {
        Slave {
            id: owned(&s.id),
            pid: owned(&s.pid),
            hostname: owned(&s.hostname),
        }
    }

    /// The framework without its tasks.
    pub fn framework(f: &Framework<'_>) -> Framework<'static> {
        Framework {
            id: owned(&f.id),
            name: owned(&f.name),
            pid: owned(&f.pid),
            hostname: owned(&f.hostname),
            tasks: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// The v1 JSON, borrowed from the record.

#[derive(Default, Deserialize)]
#[serde(default)]
struct Raw<'a> {
    #[serde(rename = "type", borrow, deserialize_with = "lenient::string")]
    kind: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    subscribed: Subscribed<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    task_added: TaskAdded<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    task_updated: TaskUpdated<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent_added: AgentAdded<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent_removed: AgentRemoved<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_added: FrameworkEvent<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_updated: FrameworkEvent<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_removed: FrameworkRemoved<'a>,
}

/// `{"value": "..."}`: every v1 id.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Id<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    value: Cow<'a, str>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Subscribed<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    get_state: GetState<'a>,
    #[serde(deserialize_with = "lenient::float")]
    heartbeat_interval_seconds: f64,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct GetState<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    get_tasks: GetTasks<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    get_frameworks: GetFrameworks<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    get_agents: GetAgents<'a>,
}

/// Only `tasks`: pending, unreachable, completed and orphan tasks never have records.
#[derive(Default, Deserialize)]
#[serde(default)]
struct GetTasks<'a> {
    #[serde(borrow, deserialize_with = "lenient::array")]
    tasks: Vec<V1Task<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct GetFrameworks<'a> {
    #[serde(borrow, deserialize_with = "lenient::array")]
    frameworks: Vec<V1Framework<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct GetAgents<'a> {
    #[serde(borrow, deserialize_with = "lenient::array")]
    agents: Vec<V1Agent<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Framework<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_info: FrameworkInfo<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct FrameworkInfo<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    hostname: Cow<'a, str>,
}

impl FrameworkInfo<'_> {
    /// The v1 API has no scheduler pid: the framework's host is its `hostname` (the model keeps a pid
    /// learnt from a poll).
    fn to_framework(&self) -> Framework<'static> {
        Framework {
            id: owned(&self.id.value),
            name: owned(&self.name),
            hostname: owned(&self.hostname),
            ..Framework::default()
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Agent<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent_info: AgentInfo<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    pid: Cow<'a, str>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AgentInfo<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    hostname: Cow<'a, str>,
    #[serde(deserialize_with = "lenient::port")]
    port: Option<u16>,
}

impl V1Agent<'_> {
    fn to_slave(&self) -> Slave<'static> {
        let info = &self.agent_info;
        // Without a pid, `hostname:port` still gives `_slave._tcp` its port.
        let pid = match (self.pid.is_empty(), info.port) {
            (false, _) => self.pid.to_string(),
            (true, Some(port)) if !info.hostname.is_empty() => {
                if info.hostname.contains(':') {
                    format!("slave(1)@[{}]:{port}", info.hostname)
                } else {
                    format!("slave(1)@{}:{port}", info.hostname)
                }
            }
            _ => String::new(),
        };
        Slave {
            id: owned(&info.id.value),
            pid: Cow::Owned(pid),
            hostname: owned(&info.hostname),
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Task<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    task_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::array")]
    resources: Vec<Resource<'a>>,
    #[serde(borrow, deserialize_with = "lenient::array")]
    statuses: Vec<V1Status<'a>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    discovery: Discovery<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    labels: Labels<'a>,
}

impl V1Task<'_> {
    fn to_task(&self) -> Task<'static> {
        let mut ports = String::new();
        for r in self.resources.iter().filter(|r| r.name == "ports") {
            for range in &r.ranges.range {
                if let (Some(b), Some(e)) = (range.begin, range.end) {
                    if !ports.is_empty() {
                        ports.push_str(", ");
                    }
                    ports.push_str(&format!("{b}-{e}"));
                }
            }
        }
        let mut task = Task {
            id: owned(&self.task_id.value),
            name: owned(&self.name),
            framework_id: owned(&self.framework_id.value),
            slave_id: owned(&self.agent_id.value),
            state: owned(&self.state),
            statuses: self.statuses.iter().map(V1Status::to_status).collect(),
            discovery: own::discovery(&self.discovery),
            labels: self.labels.labels.iter().map(own::label).collect(),
            ..Task::default()
        };
        if !ports.is_empty() {
            task.resources.ports = Cow::Owned(format!("[{ports}]"));
        }
        task
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Resource<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    name: Cow<'a, str>,
    #[serde(deserialize_with = "lenient::object")]
    ranges: Ranges,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Ranges {
    #[serde(deserialize_with = "lenient::array")]
    range: Vec<Range>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Range {
    #[serde(deserialize_with = "lenient::port")]
    begin: Option<u16>,
    #[serde(deserialize_with = "lenient::port")]
    end: Option<u16>,
}

/// v1 labels are a `Labels` message: `{"labels": [{key, value}]}`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Labels<'a> {
    #[serde(borrow, deserialize_with = "lenient::array")]
    labels: Vec<Label<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Status<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    task_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    state: Cow<'a, str>,
    #[serde(deserialize_with = "lenient::float")]
    timestamp: f64,
    #[serde(borrow, deserialize_with = "lenient::object")]
    labels: Labels<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    container_status: ContainerStatus<'a>,
}

impl V1Status<'_> {
    fn to_status(&self) -> Status<'static> {
        Status {
            state: owned(&self.state),
            timestamp: self.timestamp,
            labels: self.labels.labels.iter().map(own::label).collect(),
            container_status: own::container(&self.container_status),
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct TaskAdded<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    task: V1Task<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct TaskUpdated<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_id: Id<'a>,
    /// Not in master.proto (the id is in `status`), but accepted when given.
    #[serde(borrow, deserialize_with = "lenient::object")]
    task_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    status: V1Status<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AgentAdded<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent: V1Agent<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AgentRemoved<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent_id: Id<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct FrameworkEvent<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework: V1Framework<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct FrameworkRemoved<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_info: FrameworkInfo<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode_json(v: serde_json::Value) -> Event {
        decode(v.to_string().as_bytes()).unwrap()
    }

    /// A v1 task as a Mesos 1.x master sends it.
    pub(crate) fn v1_task() -> serde_json::Value {
        json!({
            "name": "nginx",
            "task_id": {"value": "nginx.1"},
            "framework_id": {"value": "fw-1"},
            "agent_id": {"value": "a-S1"},
            "state": "TASK_RUNNING",
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31001}, {"begin": 31005, "end": 31005}]}}
            ],
            "statuses": [{
                "task_id": {"value": "nginx.1"}, "state": "TASK_RUNNING", "timestamp": 1.5e9,
                "labels": {"labels": [{"key": "Docker.NetworkSettings.IPAddress", "value": "172.17.0.2"}]},
                "container_status": {"network_infos": [{"ip_addresses": [{"protocol": "IPv4", "ip_address": "10.0.0.9"}]}]}
            }],
            "discovery": {"visibility": "FRAMEWORK", "name": "web", "ports": {"ports": [{"number": 80, "name": "http", "protocol": "tcp"}]}},
            "labels": {"labels": [{"key": "k", "value": "v"}]}
        })
    }

    #[test]
    fn subscribed_carries_frameworks_agents_tasks_and_heartbeat() {
        let e = decode_json(json!({"type": "SUBSCRIBED", "subscribed": {
            "get_state": {
                "get_tasks": {"tasks": [v1_task()], "completed_tasks": [v1_task()]},
                "get_frameworks": {"frameworks": [{"framework_info": {"id": {"value": "fw-1"}, "name": "marathon", "hostname": "10.0.0.1", "user": "root"}, "active": true}]},
                "get_agents": {"agents": [
                    {"agent_info": {"id": {"value": "a-S1"}, "hostname": "10.0.0.5", "port": 5051}, "pid": "slave(1)@10.0.0.5:5051", "active": true},
                    {"agent_info": {"id": {"value": "a-S2"}, "hostname": "10.0.0.6", "port": 5051}}
                ]}
            },
            "heartbeat_interval_seconds": 15
        }}));
        let Event::Subscribed {
            frameworks,
            agents,
            tasks,
            heartbeat,
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(heartbeat, Some(Duration::from_secs(15)));
        assert_eq!(
            (frameworks.len(), &*frameworks[0].id, &*frameworks[0].name),
            (1, "fw-1", "marathon")
        );
        assert_eq!(&*frameworks[0].hostname, "10.0.0.1");
        assert_eq!(agents.len(), 2);
        assert_eq!(&*agents[0].pid, "slave(1)@10.0.0.5:5051");
        assert_eq!(&*agents[1].pid, "slave(1)@10.0.0.6:5051", "made from hostname and port");
        assert_eq!(tasks.len(), 1, "completed tasks are not kept");
        let t = &tasks[0];
        assert_eq!(
            (&*t.id, &*t.name, &*t.framework_id, &*t.slave_id),
            ("nginx.1", "nginx", "fw-1", "a-S1")
        );
        assert_eq!(&*t.state, "TASK_RUNNING");
        assert_eq!(&*t.resources.ports, "[31000-31001, 31005-31005]");
        assert_eq!(t.statuses[0].timestamp, 1.5e9);
        assert_eq!(&*t.statuses[0].labels[0].value, "172.17.0.2");
        assert_eq!(
            &*t.statuses[0].container_status.network_infos[0].ip_addresses[0].ip_address,
            "10.0.0.9"
        );
        assert_eq!(&*t.discovery.name, "web");
        assert_eq!(t.discovery.ports.ports[0].number, Some(80));
        assert_eq!(&*t.labels[0].key, "k");
    }

    #[test]
    fn task_updated_takes_ids_from_the_status() {
        let e = decode_json(json!({"type": "TASK_UPDATED", "task_updated": {
            "framework_id": {"value": "fw-1"},
            "state": "TASK_KILLED",
            "status": {"task_id": {"value": "nginx.1"}, "agent_id": {"value": "a-S1"}, "state": "TASK_KILLED", "timestamp": 2.0}
        }}));
        let Event::TaskUpdated(u) = e else { panic!("{e:?}") };
        assert_eq!(
            (&*u.framework_id, &*u.task_id, &*u.state),
            ("fw-1", "nginx.1", "TASK_KILLED")
        );
        assert_eq!((&*u.status.state, u.status.timestamp), ("TASK_KILLED", 2.0));
        // The brief's shape: task_id beside the status, state only at the top.
        let e = decode_json(json!({"type": "TASK_UPDATED", "task_updated": {
            "task_id": {"value": "t"}, "framework_id": {"value": "f"}, "state": "TASK_RUNNING", "status": {}
        }}));
        let Event::TaskUpdated(u) = e else { panic!("{e:?}") };
        assert_eq!(
            (&*u.task_id, &*u.state, &*u.status.state),
            ("t", "TASK_RUNNING", "TASK_RUNNING")
        );
    }

    #[test]
    fn small_events_decode() {
        let e = decode_json(json!({"type": "TASK_ADDED", "task_added": {"task": v1_task()}}));
        assert!(matches!(&e, Event::TaskAdded(t) if t.id == "nginx.1"), "{e:?}");
        let e = decode_json(
            json!({"type": "AGENT_ADDED", "agent_added": {"agent": {"agent_info": {"id": {"value": "a"}, "hostname": "h"}, "pid": "slave(1)@1.2.3.4:5051"}}}),
        );
        assert!(
            matches!(&e, Event::AgentAdded(s) if s.id == "a" && s.pid == "slave(1)@1.2.3.4:5051"),
            "{e:?}"
        );
        let e = decode_json(json!({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": "a"}}}));
        assert!(
            matches!(&e, Event::AgentRemoved { agent_id } if agent_id == "a"),
            "{e:?}"
        );
        for kind in ["FRAMEWORK_ADDED", "FRAMEWORK_UPDATED"] {
            let key = kind.to_ascii_lowercase();
            let e = decode_json(
                json!({"type": kind, key: {"framework": {"framework_info": {"id": {"value": "f"}, "name": "n"}}}}),
            );
            assert!(
                matches!(&e, Event::FrameworkAdded(f) if f.id == "f" && f.name == "n"),
                "{e:?}"
            );
        }
        let e = decode_json(
            json!({"type": "FRAMEWORK_REMOVED", "framework_removed": {"framework_info": {"id": {"value": "f"}}}}),
        );
        assert!(
            matches!(&e, Event::FrameworkRemoved { framework_id } if framework_id == "f"),
            "{e:?}"
        );
        assert!(matches!(decode_json(json!({"type": "HEARTBEAT"})), Event::Heartbeat));
        assert!(matches!(decode_json(json!({"type": "AGENT_UPDATED"})), Event::Other(k) if k == "AGENT_UPDATED"));
    }

    #[test]
    fn odd_fields_read_as_empty_and_non_events_are_errors() {
        let e = decode_json(json!({"type": "TASK_ADDED", "task_added": {"task": {
            "task_id": {"value": "t"}, "name": 5, "resources": "x", "statuses": [1, null, {"state": []}],
            "labels": [], "discovery": null
        }}}));
        let Event::TaskAdded(t) = e else { panic!("{e:?}") };
        assert_eq!((&*t.id, &*t.name, &*t.resources.ports), ("t", "", ""));
        assert_eq!(t.statuses.len(), 1);
        for bad in [&b"[]"[..], b"{}", b"not json", b"{\"type\":\"HEARTBEAT\"} x", b""] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
