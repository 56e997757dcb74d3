//! The refresher's owned picture of the cluster in stream mode: a state document ([`State`]) that events
//! edit in place, so that the record generator reads it exactly as it reads a polled one. Pure.
//!
//! Tasks that reach a terminal state are dropped (they never get records again); agents and frameworks
//! are replaced or removed by id. Indexes by id keep each event O(1) however big the cluster is.

use std::borrow::Cow;
use std::collections::HashMap;

use super::event::{own, Event, TaskUpdate};
use crate::mesos::state::{Framework, Slave, State, Task};

/// At most this many status updates are kept per task (the newest): a task flapping between states
/// must not grow without bound. Only the latest `TASK_RUNNING` one matters for records.
pub const MAX_STATUSES: usize = 8;

/// Task states after which a task never runs again.
const TERMINAL: [&str; 8] = [
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_DROPPED",
    "TASK_GONE",
    "TASK_GONE_BY_OPERATOR",
];

fn is_terminal(state: &str) -> bool {
    TERMINAL.contains(&state)
}

/// The cluster as events left it.
#[derive(Debug, Default)]
pub struct Model {
    state: State<'static>,
    /// Framework id -> index in `state.frameworks`.
    frameworks: HashMap<String, usize>,
    /// Per framework (same index): task id -> index in its `tasks`.
    tasks: Vec<HashMap<String, usize>>,
    /// Agent id -> index in `state.slaves`.
    agents: HashMap<String, usize>,
}

impl Model {
    /// A model holding a copy of a polled document (its terminal tasks left out).
    pub fn from_state(state: &State<'_>) -> Model {
        let mut m = Model::default();
        m.state.leader = Cow::Owned(state.leader.to_string());
        m.state.pid = Cow::Owned(state.pid.to_string());
        m.state.hostname = Cow::Owned(state.hostname.to_string());
        for f in &state.frameworks {
            m.upsert_framework(own::framework(f));
            for t in &f.tasks {
                let mut t = own::task(t);
                // Older masters leave a nested task's framework id out.
                if t.framework_id.is_empty() {
                    t.framework_id = Cow::Owned(f.id.to_string());
                }
                m.add_task(t);
            }
        }
        for s in &state.slaves {
            m.upsert_agent(own::slave(s));
        }
        m
    }

    /// The state document records are generated from.
    pub fn state(&self) -> &State<'static> {
        &self.state
    }

    /// Sets the `leader` field (the master the stream comes from).
    pub fn set_leader(&mut self, leader: &str) {
        self.state.leader = Cow::Owned(leader.to_owned());
    }

    /// How many tasks are kept.
    pub fn task_count(&self) -> usize {
        self.state.frameworks.iter().map(|f| f.tasks.len()).sum()
    }

    /// Applies one event; true when the records may have changed.
    pub fn apply(&mut self, event: Event) -> bool {
        match event {
            Event::Subscribed {
                frameworks,
                agents,
                tasks,
                heartbeat: _,
            } => {
                // The v1 API has no scheduler pid: keep the ones a poll gave.
                let pids: HashMap<String, Cow<'static, str>> = self
                    .state
                    .frameworks
                    .iter()
                    .filter(|f| !f.pid.is_empty())
                    .map(|f| (f.id.to_string(), f.pid.clone()))
                    .collect();
                let old = std::mem::take(&mut self.state);
                *self = Model::default();
                self.state.leader = old.leader;
                self.state.pid = old.pid;
                self.state.hostname = old.hostname;
                for mut f in frameworks {
                    if let Some(pid) = pids.get(&*f.id) {
                        f.pid = pid.clone();
                    }
                    self.upsert_framework(f);
                }
                for a in agents {
                    self.upsert_agent(a);
                }
                for t in tasks {
                    self.add_task(t);
                }
                true
            }
            Event::TaskAdded(task) => {
                self.add_task(task);
                true
            }
            Event::TaskUpdated(update) => self.update_task(update),
            Event::AgentAdded(agent) => {
                self.upsert_agent(agent);
                true
            }
            Event::AgentRemoved { agent_id } => self.remove_agent(&agent_id),
            Event::FrameworkAdded(framework) => {
                self.upsert_framework(framework);
                true
            }
            Event::FrameworkRemoved { framework_id } => self.remove_framework(&framework_id),
            Event::Heartbeat | Event::Other(_) => false,
        }
    }

    /// Adds or replaces a framework's description, keeping its tasks (and its pid when the new
    /// description has none).
    fn upsert_framework(&mut self, mut f: Framework<'static>) {
        match self.frameworks.get(&*f.id) {
            Some(&i) => {
                let old = &mut self.state.frameworks[i];
                f.tasks = std::mem::take(&mut old.tasks);
                if f.pid.is_empty() {
                    f.pid = std::mem::take(&mut old.pid);
                }
                *old = f;
            }
            None => {
                f.tasks.clear();
                self.frameworks.insert(f.id.to_string(), self.state.frameworks.len());
                self.state.frameworks.push(f);
                self.tasks.push(HashMap::new());
            }
        }
    }

    /// The index of a framework, added without a name if unknown (its tasks then have no names until
    /// `FRAMEWORK_ADDED` or the next poll says what it is called).
    fn framework_index(&mut self, id: &str) -> usize {
        if let Some(&i) = self.frameworks.get(id) {
            return i;
        }
        self.upsert_framework(Framework {
            id: Cow::Owned(id.to_owned()),
            ..Framework::default()
        });
        self.state.frameworks.len() - 1
    }

    fn remove_framework(&mut self, id: &str) -> bool {
        let Some(i) = self.frameworks.remove(id) else {
            return false;
        };
        self.state.frameworks.remove(i);
        self.tasks.remove(i);
        for idx in self.frameworks.values_mut() {
            if *idx > i {
                *idx -= 1;
            }
        }
        true
    }

    fn add_task(&mut self, mut task: Task<'static>) {
        if is_terminal(&task.state) {
            self.remove_task(&task.framework_id, &task.id);
            return;
        }
        trim_statuses(&mut task);
        let f = self.framework_index(&task.framework_id);
        let tasks = &mut self.state.frameworks[f].tasks;
        match self.tasks[f].get(&*task.id) {
            Some(&i) => tasks[i] = task,
            None => {
                self.tasks[f].insert(task.id.to_string(), tasks.len());
                tasks.push(task);
            }
        }
    }

    fn update_task(&mut self, u: TaskUpdate) -> bool {
        if is_terminal(&u.state) {
            return self.remove_task(&u.framework_id, &u.task_id);
        }
        let Some(&f) = self.frameworks.get(&u.framework_id) else {
            log::debug!("update for task {} of unknown framework {}", u.task_id, u.framework_id);
            return false;
        };
        let Some(&i) = self.tasks[f].get(&u.task_id) else {
            log::debug!("update for unknown task {}", u.task_id);
            return false;
        };
        let task = &mut self.state.frameworks[f].tasks[i];
        task.state = Cow::Owned(u.state);
        task.statuses.push(u.status);
        trim_statuses(task);
        true
    }

    fn remove_task(&mut self, framework_id: &str, task_id: &str) -> bool {
        let Some(&f) = self.frameworks.get(framework_id) else {
            return false;
        };
        let Some(i) = self.tasks[f].remove(task_id) else {
            return false;
        };
        let tasks = &mut self.state.frameworks[f].tasks;
        tasks.swap_remove(i);
        if let Some(moved) = tasks.get(i) {
            self.tasks[f].insert(moved.id.to_string(), i);
        }
        true
    }

    fn upsert_agent(&mut self, agent: Slave<'static>) {
        match self.agents.get(&*agent.id) {
            Some(&i) => self.state.slaves[i] = agent,
            None => {
                self.agents.insert(agent.id.to_string(), self.state.slaves.len());
                self.state.slaves.push(agent);
            }
        }
    }

    fn remove_agent(&mut self, id: &str) -> bool {
        let Some(i) = self.agents.remove(id) else {
            return false;
        };
        self.state.slaves.swap_remove(i);
        if let Some(moved) = self.state.slaves.get(i) {
            self.agents.insert(moved.id.to_string(), i);
        }
        true
    }
}

/// Keeps the newest [`MAX_STATUSES`] statuses, in their order.
fn trim_statuses(task: &mut Task<'static>) {
    if task.statuses.len() > MAX_STATUSES {
        let extra = task.statuses.len() - MAX_STATUSES;
        task.statuses.drain(..extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::state::{self, Status};
    use crate::stream::event::decode;
    use serde_json::json;

    fn task(id: &str, fw: &str, agent: &str, st: &str) -> Task<'static> {
        Task {
            id: Cow::Owned(id.into()),
            name: Cow::Owned(id.split('.').next().unwrap_or(id).into()),
            framework_id: Cow::Owned(fw.into()),
            slave_id: Cow::Owned(agent.into()),
            state: Cow::Owned(st.into()),
            ..Task::default()
        }
    }

    fn update(fw: &str, id: &str, st: &str) -> Event {
        Event::TaskUpdated(TaskUpdate {
            framework_id: fw.into(),
            task_id: id.into(),
            state: st.into(),
            status: Status {
                state: Cow::Owned(st.into()),
                ..Status::default()
            },
        })
    }

    fn ids(m: &Model) -> Vec<String> {
        let mut v: Vec<String> = m
            .state()
            .frameworks
            .iter()
            .flat_map(|f| f.tasks.iter().map(|t| format!("{}/{}:{}", f.id, t.id, t.state)))
            .collect();
        v.sort();
        v
    }

    /// The indexes agree with the vectors (checked after every step of the tests).
    fn check(m: &Model) {
        assert_eq!(m.frameworks.len(), m.state.frameworks.len());
        assert_eq!(m.tasks.len(), m.state.frameworks.len());
        for (id, &i) in &m.frameworks {
            assert_eq!(&*m.state.frameworks[i].id, id);
            assert_eq!(m.tasks[i].len(), m.state.frameworks[i].tasks.len());
            for (tid, &j) in &m.tasks[i] {
                assert_eq!(&*m.state.frameworks[i].tasks[j].id, tid);
            }
        }
        assert_eq!(m.agents.len(), m.state.slaves.len());
        for (id, &i) in &m.agents {
            assert_eq!(&*m.state.slaves[i].id, id);
        }
    }

    fn subscribed() -> Event {
        Event::Subscribed {
            frameworks: vec![Framework {
                id: "f1".into(),
                name: "marathon".into(),
                ..Framework::default()
            }],
            agents: vec![Slave {
                id: "a1".into(),
                pid: "slave(1)@10.0.0.5:5051".into(),
                ..Slave::default()
            }],
            tasks: vec![
                task("web.1", "f1", "a1", "TASK_RUNNING"),
                task("db.1", "f1", "a1", "TASK_STAGING"),
            ],
            heartbeat: None,
        }
    }

    #[test]
    fn task_lifecycle_adds_updates_and_drops() {
        let mut m = Model::default();
        assert!(m.apply(subscribed()));
        check(&m);
        assert_eq!(ids(&m), ["f1/db.1:TASK_STAGING", "f1/web.1:TASK_RUNNING"]);
        assert!(m.apply(Event::TaskAdded(task("api.1", "f1", "a1", "TASK_STAGING"))));
        assert!(m.apply(update("f1", "api.1", "TASK_RUNNING")));
        check(&m);
        assert_eq!(
            ids(&m),
            ["f1/api.1:TASK_RUNNING", "f1/db.1:TASK_STAGING", "f1/web.1:TASK_RUNNING"]
        );
        assert!(m.apply(update("f1", "web.1", "TASK_KILLED")), "killed tasks leave");
        check(&m);
        assert_eq!(ids(&m), ["f1/api.1:TASK_RUNNING", "f1/db.1:TASK_STAGING"]);
        assert!(!m.apply(update("f1", "web.1", "TASK_RUNNING")), "unknown task: ignored");
        assert!(!m.apply(update("nope", "api.1", "TASK_FINISHED")));
        assert!(m.apply(update("f1", "db.1", "TASK_FINISHED")));
        check(&m);
        assert_eq!(ids(&m), ["f1/api.1:TASK_RUNNING"]);
        assert!(!m.apply(Event::Heartbeat));
        assert!(!m.apply(Event::Other("X".into())));
    }

    #[test]
    fn statuses_are_capped_keeping_the_newest() {
        let mut m = Model::default();
        m.apply(subscribed());
        for i in 0..20 {
            let st = if i % 2 == 0 { "TASK_RUNNING" } else { "TASK_UNREACHABLE" };
            m.apply(update("f1", "web.1", st));
        }
        let t = &m.state().frameworks[0].tasks.iter().find(|t| t.id == "web.1").unwrap();
        assert_eq!(t.statuses.len(), MAX_STATUSES);
        assert_eq!(t.state, "TASK_UNREACHABLE");
        assert_eq!(t.statuses.last().unwrap().state, "TASK_UNREACHABLE");
    }

    #[test]
    fn agents_and_frameworks_come_and_go() {
        let mut m = Model::default();
        m.apply(subscribed());
        m.apply(Event::AgentAdded(Slave {
            id: "a2".into(),
            ..Slave::default()
        }));
        m.apply(Event::AgentAdded(Slave {
            id: "a1".into(),
            pid: "slave(1)@10.0.0.7:5051".into(),
            ..Slave::default()
        }));
        check(&m);
        assert_eq!(m.state().slaves.len(), 2);
        assert!(m.apply(Event::AgentRemoved { agent_id: "a1".into() }));
        assert!(!m.apply(Event::AgentRemoved { agent_id: "a1".into() }));
        check(&m);
        assert_eq!(m.state().slaves.iter().map(|s| &*s.id).collect::<Vec<_>>(), ["a2"]);

        m.apply(Event::TaskAdded(task("x.1", "f2", "a2", "TASK_RUNNING")));
        check(&m);
        assert_eq!(
            m.state().frameworks[1].name,
            "",
            "a task of an unknown framework waits for its name"
        );
        m.apply(Event::FrameworkAdded(Framework {
            id: "f2".into(),
            name: "chronos".into(),
            ..Framework::default()
        }));
        assert_eq!(m.state().frameworks[1].name, "chronos");
        assert_eq!(m.state().frameworks[1].tasks.len(), 1, "renaming keeps the tasks");
        assert!(m.apply(Event::FrameworkRemoved {
            framework_id: "f1".into()
        }));
        check(&m);
        assert_eq!(ids(&m), ["f2/x.1:TASK_RUNNING"]);
        m.apply(Event::TaskAdded(task("y.1", "f2", "a2", "TASK_RUNNING")));
        check(&m);
        assert_eq!(m.task_count(), 2);
    }

    #[test]
    fn resubscribing_replaces_everything_but_keeps_polled_pids_and_leader() {
        let body = include_bytes!("../../tests/fixtures/tutorial-0.21.json");
        let polled = state::parse(body).unwrap();
        let mut m = Model::from_state(&polled);
        check(&m);
        assert_eq!(m.state().leader, polled.leader);
        let running = polled.frameworks[0]
            .tasks
            .iter()
            .filter(|t| !is_terminal(&t.state))
            .count();
        assert_eq!(m.task_count(), running);
        let fw = polled.frameworks[0].id.to_string();
        let pid = polled.frameworks[0].pid.to_string();
        assert!(!pid.is_empty());
        let e = decode(
            json!({"type": "SUBSCRIBED", "subscribed": {"get_state": {
                "get_frameworks": {"frameworks": [{"framework_info": {"id": {"value": fw}, "name": "marathon"}}]}
            }}})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        m.apply(e);
        check(&m);
        assert_eq!(m.task_count(), 0);
        assert_eq!(m.state().slaves.len(), 0);
        assert_eq!(m.state().frameworks[0].pid, pid);
        assert_eq!(m.state().leader, polled.leader);
    }
}
