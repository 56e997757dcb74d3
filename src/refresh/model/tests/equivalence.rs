//! The event-fed model against a full rebuild, property style: random sequences of operator-API
//! events (seeded, so a failure replays) are applied to a [`Model`] as the stream applies them, and a
//! plain picture of the same cluster is kept beside it; after every step the snapshot built from the
//! model must answer exactly as the snapshot a poll of that cluster's state document gives: the same
//! names (empty non-terminals and reverse names included), and at each the same A, AAAA, SRV and PTR
//! records. RRsets are compared as sets: their order follows generation order, which a stream that
//! removes and adds tasks changes, and DNS gives it no meaning.

use crate::random::TestRng as Rng;
use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::config::{Config, LabelMatch, TaskFilter, Visibility};
use crate::mesos::operator::event::decode;
use crate::records::from_state::{build_from_state, build_snapshot};
use crate::refresh::model::*;
use crate::snapshot::Records;
use crate::wire::wire_to_text;

const LEADER: &str = "master@127.0.0.1:5050";

#[derive(Clone)]
struct RefFramework {
    id: String,
    name: String,
    /// Only frameworks the first poll saw have one (the v1 API has none).
    pid: String,
    hostname: String,
}

#[derive(Clone)]
struct RefAgent {
    id: String,
    ip: String,
}

#[derive(Clone)]
struct RefStatus {
    state: String,
    healthy: Option<bool>,
    ip: Option<String>,
}

#[derive(Clone)]
struct RefTask {
    id: String,
    name: String,
    framework_id: String,
    agent_id: String,
    state: String,
    port: u16,
    discovery: bool,
    /// `DiscoveryInfo.visibility` (with `discovery`).
    visibility: &'static str,
    /// Carries the label `dns=off` (which [`config`]'s filter may exclude).
    dns_off: bool,
    statuses: Vec<RefStatus>,
}

/// The cluster as a master sees it.
#[derive(Clone, Default)]
struct Cluster {
    frameworks: Vec<RefFramework>,
    agents: Vec<RefAgent>,
    tasks: Vec<RefTask>,
    next_id: usize,
}

fn status_state_json(s: &RefStatus) -> Value {
    let mut v = json!({"state": s.state, "timestamp": 1.7e9});
    if let Some(h) = s.healthy {
        v["healthy"] = json!(h);
    }
    if let Some(ip) = &s.ip {
        v["container_status"] = json!({"network_infos": [{"ip_addresses": [{"protocol": "IPv4", "ip_address": ip}]}]});
    }
    v
}

fn discovery_json(t: &RefTask) -> Value {
    json!({"visibility": t.visibility, "name": format!("{}-d", t.name),
        "ports": {"ports": [{"number": t.port, "name": "http", "protocol": "tcp"}]}})
}

impl RefTask {
    /// The task as the state document has it.
    fn state_json(&self) -> Value {
        let mut v = json!({
            "id": self.id, "name": self.name, "framework_id": self.framework_id, "slave_id": self.agent_id,
            "state": self.state, "resources": {"ports": format!("[{}-{}]", self.port, self.port + 1)},
            "statuses": self.statuses.iter().map(status_state_json).collect::<Vec<_>>(),
        });
        if self.discovery {
            v["discovery"] = discovery_json(self);
        }
        v["labels"] = json!(self.labels());
        v
    }

    fn labels(&self) -> Vec<Value> {
        let mut labels = vec![json!({"key": "app", "value": self.name})];
        if self.dns_off {
            labels.push(json!({"key": "dns", "value": "off"}));
        }
        labels
    }

    /// The task as `TASK_ADDED` and `SUBSCRIBED` carry it.
    fn v1_json(&self) -> Value {
        let statuses: Vec<Value> = self
            .statuses
            .iter()
            .map(|s| {
                let mut v = status_state_json(s);
                v["task_id"] = json!({"value": self.id});
                v
            })
            .collect();
        let mut v = json!({
            "name": self.name, "task_id": {"value": self.id}, "framework_id": {"value": self.framework_id},
            "agent_id": {"value": self.agent_id}, "state": self.state,
            "resources": [{"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": self.port, "end": self.port + 1}]}}],
            "statuses": statuses, "labels": {"labels": self.labels()},
        });
        if self.discovery {
            v["discovery"] = discovery_json(self);
        }
        v
    }
}

impl RefFramework {
    fn v1_info(&self) -> Value {
        json!({"id": {"value": self.id}, "name": self.name, "hostname": self.hostname})
    }
}

impl RefAgent {
    fn v1_json(&self) -> Value {
        json!({"agent_info": {"id": {"value": self.id}, "hostname": self.ip, "port": 5051},
            "pid": format!("slave(1)@{}:5051", self.ip)})
    }
}

fn is_terminal_state(s: &str) -> bool {
    TERMINAL.contains(&s)
}

impl Cluster {
    fn initial(rng: &mut Rng) -> Cluster {
        let mut c = Cluster::default();
        for i in 0..3 {
            c.frameworks.push(RefFramework {
                id: format!("fw-{i}"),
                name: ["marathon", "chronos", "spark"][i].into(),
                pid: format!("scheduler-{i}@10.9.0.{}:{}", i + 1, 8080 + i),
                hostname: format!("10.9.0.{}", i + 1),
            });
        }
        for i in 0..4 {
            c.agents.push(RefAgent {
                id: format!("ag-S{i}"),
                ip: format!("10.1.0.{}", i + 1),
            });
        }
        for _ in 0..12 {
            let t = c.new_task(rng, "TASK_RUNNING");
            c.tasks.push(t);
        }
        c
    }

    fn fresh(&mut self) -> usize {
        self.next_id += 1;
        self.next_id
    }

    fn new_task(&mut self, rng: &mut Rng, state: &str) -> RefTask {
        let n = self.fresh();
        // Few names, so that tasks share them (several instances of an app).
        let name = ["web", "db", "cache", "queue", "Api_Server"][rng.below(5)].to_owned();
        // Now and then a framework or agent nobody knows (yet).
        let framework_id = if rng.chance(5) || self.frameworks.is_empty() {
            format!("fw-new-{}", self.fresh())
        } else {
            self.frameworks[rng.below(self.frameworks.len())].id.clone()
        };
        let agent_id = if rng.chance(5) || self.agents.is_empty() {
            format!("ag-gone-{}", self.fresh())
        } else {
            self.agents[rng.below(self.agents.len())].id.clone()
        };
        RefTask {
            id: format!("{name}.{n}"),
            name,
            framework_id,
            agent_id,
            state: state.into(),
            port: 31000 + rng.below(5) as u16,
            discovery: rng.chance(20),
            visibility: ["FRAMEWORK", "CLUSTER", "EXTERNAL"][rng.below(3)],
            dns_off: rng.chance(15),
            statuses: vec![self.status(rng, state)],
        }
    }

    fn status(&mut self, rng: &mut Rng, state: &str) -> RefStatus {
        RefStatus {
            state: state.into(),
            healthy: [None, Some(true), Some(false)][rng.below(3)],
            ip: rng.chance(40).then(|| format!("9.0.0.{}", rng.below(6) + 1)),
        }
    }

    /// A framework the tasks name but no poll or event described: the model adds it unnamed.
    fn framework_for(&mut self, id: &str) {
        if !self.frameworks.iter().any(|f| f.id == id) {
            self.frameworks.push(RefFramework {
                id: id.into(),
                name: String::new(),
                pid: String::new(),
                hostname: String::new(),
            });
        }
    }

    /// The state document a poll of this cluster gives.
    fn state_doc(&self) -> Vec<u8> {
        let frameworks: Vec<Value> = self
            .frameworks
            .iter()
            .map(|f| {
                let tasks: Vec<Value> = self
                    .tasks
                    .iter()
                    .filter(|t| t.framework_id == f.id)
                    .map(RefTask::state_json)
                    .collect();
                json!({"id": f.id, "name": f.name, "pid": f.pid, "hostname": f.hostname, "tasks": tasks})
            })
            .collect();
        let slaves: Vec<Value> = self
            .agents
            .iter()
            .map(|a| json!({"id": a.id, "pid": format!("slave(1)@{}:5051", a.ip), "hostname": a.ip}))
            .collect();
        json!({"leader": LEADER, "pid": LEADER, "hostname": "127.0.0.1", "frameworks": frameworks, "slaves": slaves})
            .to_string()
            .into_bytes()
    }

    fn subscribed(&self) -> Value {
        json!({"type": "SUBSCRIBED", "subscribed": {"get_state": {
            "get_tasks": {"tasks": self.tasks.iter().map(RefTask::v1_json).collect::<Vec<_>>()},
            "get_frameworks": {"frameworks": self.frameworks.iter().filter(|f| !f.name.is_empty())
                .map(|f| json!({"framework_info": f.v1_info()})).collect::<Vec<_>>()},
            "get_agents": {"agents": self.agents.iter().map(RefAgent::v1_json).collect::<Vec<_>>()},
        }}})
    }

    /// Picks an event, applies it to this picture and returns it as the master streams it.
    fn random_event(&mut self, rng: &mut Rng) -> Value {
        match rng.below(100) {
            0..=29 => {
                let state = ["TASK_STAGING", "TASK_RUNNING", "TASK_RUNNING"][rng.below(3)];
                let t = self.new_task(rng, state);
                self.framework_for(&t.framework_id);
                let event = json!({"type": "TASK_ADDED", "task_added": {"task": t.v1_json()}});
                self.tasks.push(t);
                event
            }
            30..=69 if !self.tasks.is_empty() => {
                let i = rng.below(self.tasks.len());
                let state = [
                    "TASK_RUNNING",
                    "TASK_RUNNING",
                    "TASK_KILLED",
                    "TASK_FINISHED",
                    "TASK_UNREACHABLE",
                ][rng.below(5)];
                let status = self.status(rng, state);
                let t = &mut self.tasks[i];
                let mut s = status_state_json(&status);
                s["task_id"] = json!({"value": t.id});
                let event = json!({"type": "TASK_UPDATED", "task_updated": {
                    "framework_id": {"value": t.framework_id}, "state": state, "status": s}});
                if is_terminal_state(state) {
                    self.tasks.remove(i);
                } else {
                    t.state = state.into();
                    t.statuses.push(status);
                }
                event
            }
            70..=77 => {
                let n = self.fresh();
                let a = RefAgent {
                    id: format!("ag-S{n}"),
                    ip: format!("10.2.0.{}", n % 250 + 1),
                };
                let event = json!({"type": "AGENT_ADDED", "agent_added": {"agent": a.v1_json()}});
                self.agents.push(a);
                event
            }
            78..=83 if !self.agents.is_empty() => {
                let a = self.agents.remove(rng.below(self.agents.len()));
                json!({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": a.id}}})
            }
            84..=91 => {
                // A new framework, a renamed one, or a name for one first seen through its tasks.
                let i = rng.below(self.frameworks.len() + 1);
                if i == self.frameworks.len() {
                    let n = self.fresh();
                    self.frameworks.push(RefFramework {
                        id: format!("fw-{n}"),
                        name: format!("svc{n}"),
                        pid: String::new(),
                        hostname: format!("10.9.1.{}", n % 250 + 1),
                    });
                } else {
                    let f = &mut self.frameworks[i];
                    f.name = ["marathon", "Renamed.FW", "chronos", "spark"][rng.below(4)].into();
                    f.hostname = format!("10.9.2.{}", rng.below(250) + 1);
                }
                let f = self.frameworks[i].clone();
                let kind = if i % 2 == 0 {
                    "FRAMEWORK_ADDED"
                } else {
                    "FRAMEWORK_UPDATED"
                };
                json!({"type": kind, kind.to_ascii_lowercase(): {"framework": {"framework_info": f.v1_info()}}})
            }
            92..=95 if !self.frameworks.is_empty() => {
                let f = self.frameworks.remove(rng.below(self.frameworks.len()));
                self.tasks.retain(|t| t.framework_id != f.id);
                json!({"type": "FRAMEWORK_REMOVED", "framework_removed": {"framework_info": {"id": {"value": f.id}}}})
            }
            96..=97 => self.subscribed(),
            _ => json!({"type": "HEARTBEAT"}),
        }
    }
}

/// One name's records, comparable as sets.
#[derive(Debug, PartialEq, Eq)]
struct Answers {
    a: Vec<[u8; 4]>,
    aaaa: Vec<[u8; 16]>,
    srv: Vec<(u16, String)>,
    ptr: Vec<String>,
}

/// Every name of a snapshot (reverse names too) with its records.
fn answers(r: &Records) -> BTreeMap<String, Answers> {
    (0..r.name_count() as u32)
        .filter_map(|id| r.node(id))
        .map(|n| {
            let target = |id: u32| r.name(id).map(wire_to_text).unwrap_or_default();
            let mut a = Answers {
                a: n.a.to_vec(),
                aaaa: n.aaaa.to_vec(),
                srv: n.srv.iter().map(|s| (s.port, target(s.target))).collect(),
                ptr: n.ptr.iter().map(|&p| target(p)).collect(),
            };
            a.a.sort();
            a.aaaa.sort();
            a.srv.sort();
            a.ptr.sort();
            (wire_to_text(n.name), a)
        })
        .collect()
}

/// With `filter`, the task filters hide tasks of visibility `FRAMEWORK`, framework `chronos` and
/// tasks labelled `dns=off`.
fn config(hide_unhealthy: bool, ptr_on: bool, filter: bool) -> Config {
    let task_filter = if filter {
        TaskFilter {
            min_visibility: Visibility::Cluster,
            exclude_frameworks: vec!["CHRONOS".into()],
            exclude_task_labels: vec![LabelMatch::parse("dns=off").unwrap()],
        }
    } else {
        TaskFilter::NONE
    };
    Config {
        masters: vec![crate::addr::HostPort::parse("127.0.0.1:5050").unwrap()],
        hide_unhealthy_tasks: hide_unhealthy,
        ptr_on,
        task_filter,
        ..Config::default()
    }
}

fn polled(config: &Config, cluster: &Cluster) -> BTreeMap<String, Answers> {
    let (records, _) = build_snapshot(config, &cluster.state_doc(), &config.masters, &[], &|_| Vec::new(), 1)
        .unwrap_or_else(|e| panic!("the reference document: {e}"));
    answers(&records)
}

fn streamed(config: &Config, model: &Model) -> BTreeMap<String, Answers> {
    let (records, _) = build_from_state(config, &model.full_state(), &config.masters, &[], &|_| Vec::new(), 1)
        .unwrap_or_else(|e| panic!("the model: {e}"));
    answers(&records)
}

/// The first difference between two snapshots' answers, readably.
fn first_difference(got: &BTreeMap<String, Answers>, want: &BTreeMap<String, Answers>) -> String {
    for (name, w) in want {
        match got.get(name) {
            None => return format!("{name} missing from the model's snapshot (want {w:?})"),
            Some(g) if g != w => return format!("{name}: model {g:?}, full rebuild {w:?}"),
            Some(_) => {}
        }
    }
    match got.keys().find(|n| !want.contains_key(*n)) {
        Some(extra) => format!("{extra} only in the model's snapshot"),
        None => "none".into(),
    }
}

#[test]
fn the_event_fed_model_answers_as_a_full_rebuild_after_random_event_sequences() {
    for seed in 1..=32u64 {
        let mut rng = Rng(seed);
        let config = config(seed % 2 == 0, seed % 3 == 0, seed % 4 < 2);
        let mut cluster = Cluster::initial(&mut rng);
        // As the refresher starts: a poll, then SUBSCRIBED, then events.
        let doc = cluster.state_doc();
        let mut model = Model::from_body(&doc).unwrap();
        let mut changed_steps = 0;
        let mut before = streamed(&config, &model);
        for step in 0..=60 {
            let event = if step == 0 {
                cluster.subscribed()
            } else {
                cluster.random_event(&mut rng)
            };
            let decoded = decode(event.to_string().as_bytes())
                .unwrap_or_else(|e| panic!("seed {seed} step {step}: {e}: {event}"));
            let changed = model.apply(decoded);
            let (got, want) = (streamed(&config, &model), polled(&config, &cluster));
            assert!(
                got == want,
                "seed {seed} step {step}, after {event}:\n{}",
                first_difference(&got, &want)
            );
            if !config.task_filter.exclude_frameworks.is_empty() {
                // Only the framework's own names (and the empty non-terminal above its SRV name).
                let own = ["_framework._tcp.chronos.mesos.", "_tcp.chronos.mesos."];
                let task = got
                    .keys()
                    .find(|n| n.ends_with(".chronos.mesos.") && !own.contains(&n.as_str()));
                assert!(
                    task.is_none(),
                    "seed {seed} step {step}: an excluded framework's task: {task:?}"
                );
            }
            // An event said to change nothing changed nothing.
            if changed.is_nothing() {
                assert!(
                    got == before,
                    "seed {seed} step {step}: {event} changed records unannounced"
                );
            } else {
                changed_steps += 1;
            }
            before = got;
        }
        assert!(
            changed_steps > 10,
            "seed {seed}: the sequence changed records only {changed_steps} times"
        );
    }
}

mod incremental;

/// `SUBSCRIBED` after a poll of the same cluster changes no record; a task the poll did not have yet
/// is the one change (an edit of the polled snapshot, not a rebuild); before any poll, everything.
/// (The two forms differ in ways that change no record: an agent's port given apart, a task's ports
/// as ranges rather than text.)
#[test]
fn subscribed_after_a_poll_names_only_the_tasks_that_differ() {
    let mut compared = 0;
    for seed in 1..=16u64 {
        let mut rng = Rng(seed);
        let mut cluster = Cluster::initial(&mut rng);
        // (A framework without a name is not in `SUBSCRIBED`'s list, nor a task's framework that
        // the document does not list: another cluster, rebuilt.)
        let listed = |id: &str| cluster.frameworks.iter().any(|f| f.id == id && !f.name.is_empty());
        if cluster.frameworks.iter().any(|f| f.name.is_empty())
            || !cluster.tasks.iter().all(|t| listed(&t.framework_id))
        {
            continue;
        }
        compared += 1;
        let subscribed = |c: &Cluster| decode(c.subscribed().to_string().as_bytes()).unwrap();
        let mut model = Model::from_body(&cluster.state_doc()).unwrap();
        assert_eq!(model.apply(subscribed(&cluster)), Changed::Nothing, "seed {seed}");
        let polled = cluster.state_doc();
        let task = cluster.new_task(&mut rng, "TASK_RUNNING");
        let key = (task.framework_id.clone(), task.id.clone());
        cluster.tasks.push(task);
        let mut model = Model::from_body(&polled).unwrap();
        assert_eq!(
            model.apply(subscribed(&cluster)),
            Changed::Tasks(vec![key]),
            "seed {seed}"
        );
    }
    assert!(compared >= 4, "{compared} seeds compared");
    let first = decode(Cluster::initial(&mut Rng(1)).subscribed().to_string().as_bytes()).unwrap();
    assert_eq!(Model::default().apply(first), Changed::Everything);
}
