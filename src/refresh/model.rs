//! The refresher's owned picture of the cluster in stream mode: a state document ([`State`]) that events
//! edit in place, so that the record generator reads it exactly as it reads a polled one. Pure.
//!
//! Tasks that reach a terminal state are dropped (they never get records again); agents and frameworks
//! are replaced or removed by id. Indexes by id make a task or agent event O(1) (amortised) however
//! big the cluster is; removing a framework is O(frameworks), as the others after it move down a
//! place (frameworks are few, and keep their order). The events arrive decoded into the state types
//! ([`crate::mesos::operator::event`]) and are moved in as they are; only a polled document, which
//! borrows from its body, is copied (`owned`).

use std::borrow::Cow;
use std::collections::HashMap;

use crate::mesos::operator::event::{Event, TaskUpdate};
use crate::mesos::state::{Framework, Slave, State, Task};

mod owned;

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

/// Only running tasks have records (see [`crate::records::generate`]), so a change to a task that is
/// neither running nor was changes none.
fn is_running(state: &str) -> bool {
    state == "TASK_RUNNING"
}

/// What an event changed, as far as records go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Changed {
    /// No record can have changed.
    #[default]
    Nothing,
    /// Only these tasks (framework id, task id) were added, updated or removed: their records are
    /// the only ones that can have changed (a key may repeat).
    Tasks(Vec<(String, String)>),
    /// Anything else (`SUBSCRIBED`, agents, frameworks): rebuild everything.
    Everything,
}

impl Changed {
    /// Past this many tasks a merge gives [`Changed::Everything`]: a rebuild costs less than as many
    /// edits, and the list stays bounded however long nobody takes it.
    pub(crate) const MAX_TASKS: usize = 65_536;

    /// The one task `key` when `changed`, else nothing.
    fn task(changed: bool, framework_id: &str, task_id: &str) -> Changed {
        match changed {
            true => Changed::Tasks(vec![(framework_id.to_owned(), task_id.to_owned())]),
            false => Changed::Nothing,
        }
    }

    /// Everything when `changed`, else nothing.
    fn everything(changed: bool) -> Changed {
        match changed {
            true => Changed::Everything,
            false => Changed::Nothing,
        }
    }

    pub(crate) fn is_nothing(&self) -> bool {
        matches!(self, Changed::Nothing)
    }

    /// Adds what `later` changed: the tasks of both, or everything if either says so.
    pub(crate) fn merge(&mut self, later: Changed) {
        match (&mut *self, later) {
            (_, Changed::Nothing) | (Changed::Everything, _) => {}
            (Changed::Tasks(keys), Changed::Tasks(more)) if keys.len() + more.len() <= Self::MAX_TASKS => {
                keys.extend(more);
            }
            (Changed::Nothing, later @ Changed::Tasks(_)) => *self = later,
            _ => *self = Changed::Everything,
        }
    }
}

/// The cluster as events left it.
#[derive(Debug, Default)]
pub(crate) struct Model {
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
    pub(crate) fn from_state(state: &State<'_>) -> Model {
        let mut m = Model::default();
        m.state.leader = Cow::Owned(state.leader.to_string());
        m.state.pid = Cow::Owned(state.pid.to_string());
        m.state.hostname = Cow::Owned(state.hostname.to_string());
        m.state.leader_info.hostname = Cow::Owned(state.leader_info.hostname.to_string());
        for f in &state.frameworks {
            m.upsert_framework(owned::framework(f));
            for t in &f.tasks {
                let mut t = owned::task(t);
                // Older masters leave a nested task's framework id out.
                if t.framework_id.is_empty() {
                    t.framework_id = Cow::Owned(f.id.to_string());
                }
                m.add_task(t);
            }
        }
        for s in &state.slaves {
            m.upsert_agent(owned::slave(s));
        }
        m.state.elected_time = state.elected_time;
        m.state.recovered_slaves = state
            .recovered_slaves
            .as_ref()
            .map(|agents| agents.iter().map(owned::slave).collect());
        m
    }

    /// The state document records are generated from.
    pub(crate) fn state(&self) -> &State<'static> {
        &self.state
    }

    #[cfg(test)]
    /// Sets the `leader` field (the master the stream comes from).
    pub(crate) fn set_leader(&mut self, leader: &str) {
        self.state.leader = Cow::Owned(leader.to_owned());
    }

    #[cfg(test)]
    /// How many tasks are kept.
    pub(crate) fn task_count(&self) -> usize {
        self.state.frameworks.iter().map(|f| f.tasks.len()).sum()
    }

    /// A task by its framework's id and its own: its framework's index in [`Model::state`]'s
    /// frameworks, and the task (`None` when there is none, or no longer: terminal tasks are dropped).
    pub(crate) fn task(&self, framework_id: &str, task_id: &str) -> Option<(usize, &Task<'static>)> {
        let &f = self.frameworks.get(framework_id)?;
        let &i = self.tasks.get(f)?.get(task_id)?;
        let task = self.state.frameworks.get(f)?.tasks.get(i)?;
        Some((f, task))
    }

    /// What a poll that gives `new` changes against this model: the tasks that differ (added, gone
    /// or changed in any field), or [`Changed::Everything`] when anything but tasks does (the leader,
    /// a framework, an agent, their order).
    pub(crate) fn changes_to(&self, new: &Model) -> Changed {
        let (old_s, new_s) = (&self.state, &new.state);
        let same_masters = old_s.leader == new_s.leader
            && old_s.pid == new_s.pid
            && old_s.hostname == new_s.hostname
            && old_s.leader_info == new_s.leader_info
            && old_s.elected_time == new_s.elected_time
            && old_s.recovered_slaves == new_s.recovered_slaves;
        let same_frameworks = old_s.frameworks.len() == new_s.frameworks.len()
            && old_s
                .frameworks
                .iter()
                .zip(&new_s.frameworks)
                .all(|(a, b)| a.id == b.id && a.name == b.name && a.pid == b.pid && a.hostname == b.hostname);
        if !same_masters || !same_frameworks || old_s.slaves != new_s.slaves {
            return Changed::Everything;
        }
        let mut keys = Vec::new();
        for (old_f, new_f) in old_s.frameworks.iter().zip(&new_s.frameworks) {
            for t in &new_f.tasks {
                if self.task(&new_f.id, &t.id).map(|(_, old)| old) != Some(t) {
                    keys.push((new_f.id.to_string(), t.id.to_string()));
                }
            }
            for t in &old_f.tasks {
                if new.task(&old_f.id, &t.id).is_none() {
                    keys.push((old_f.id.to_string(), t.id.to_string()));
                }
            }
        }
        match keys.len() {
            0 => Changed::Nothing,
            n if n > Changed::MAX_TASKS => Changed::Everything,
            _ => Changed::Tasks(keys),
        }
    }

    /// A framework's index in [`Model::state`]'s frameworks.
    pub(crate) fn framework_position(&self, framework_id: &str) -> Option<usize> {
        self.frameworks.get(framework_id).copied()
    }

    /// Applies one event; says which records may have changed.
    pub(crate) fn apply(&mut self, event: Event) -> Changed {
        match event {
            Event::Subscribed {
                frameworks,
                agents,
                tasks,
                recovered,
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
                // The old cluster goes before the new one is indexed (at 100k tasks, tens of MB).
                let State {
                    leader,
                    pid,
                    hostname,
                    leader_info,
                    elected_time,
                    ..
                } = std::mem::take(&mut self.state);
                *self = Model::default();
                self.state.leader = leader;
                self.state.pid = pid;
                self.state.hostname = hostname;
                // Nor an election time: the poll's stays (the stream follows the leader it found).
                self.state.elected_time = elected_time;
                self.state.recovered_slaves = recovered;
                // The v1 state has no `MasterInfo`: the leader's host name stays the poll's.
                self.state.leader_info = leader_info;
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
                Changed::Everything
            }
            Event::TaskAdded(task) => self.add_task(task),
            Event::TaskUpdated(update) => self.update_task(update),
            Event::AgentAdded(agent) => {
                // A recovered agent that re-registers is an agent again.
                self.forget_recovered(&agent.id);
                self.upsert_agent(agent);
                Changed::Everything
            }
            Event::AgentRemoved { agent_id } => {
                let recovered = self.forget_recovered(&agent_id);
                Changed::everything(self.remove_agent(&agent_id) | recovered)
            }
            Event::FrameworkAdded(framework) => {
                self.upsert_framework(framework);
                Changed::Everything
            }
            Event::FrameworkRemoved { framework_id } => Changed::everything(self.remove_framework(&framework_id)),
            Event::Heartbeat => Changed::Nothing,
            Event::Other(kind) => {
                log::debug!("event stream: {kind} changes no record");
                Changed::Nothing
            }
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

    /// Adds or replaces a task. Its records may have changed when it or the task it replaced is
    /// running (no other task has records); a task of an unknown framework adds that framework.
    fn add_task(&mut self, mut task: Task<'static>) -> Changed {
        if is_terminal(&task.state) {
            let removed = self.remove_task(&task.framework_id, &task.id);
            return Changed::task(removed, &task.framework_id, &task.id);
        }
        keep_latest_running(&mut task);
        let known = self.frameworks.contains_key(&*task.framework_id);
        let f = self.framework_index(&task.framework_id);
        let tasks = &mut self.state.frameworks[f].tasks;
        let running = is_running(&task.state);
        let key = Changed::task(true, &task.framework_id, &task.id);
        let changed = match self.tasks[f].get(&*task.id) {
            Some(&i) => {
                let was_running = is_running(&tasks[i].state);
                tasks[i] = task;
                running || was_running
            }
            None => {
                self.tasks[f].insert(task.id.to_string(), tasks.len());
                tasks.push(task);
                running
            }
        };
        match (known, changed) {
            (false, _) => Changed::Everything,
            (true, true) => key,
            (true, false) => Changed::Nothing,
        }
    }

    fn update_task(&mut self, u: TaskUpdate) -> Changed {
        if is_terminal(&u.state) {
            let removed = self.remove_task(&u.framework_id, &u.task_id);
            return Changed::task(removed, &u.framework_id, &u.task_id);
        }
        let Some(&f) = self.frameworks.get(&u.framework_id) else {
            log::debug!("update for task {} of unknown framework {}", u.task_id, u.framework_id);
            return Changed::Nothing;
        };
        let Some(&i) = self.tasks[f].get(&u.task_id) else {
            log::debug!("update for unknown task {}", u.task_id);
            return Changed::Nothing;
        };
        let task = &mut self.state.frameworks[f].tasks[i];
        let was_running = is_running(&task.state);
        task.state = Cow::Owned(u.state);
        task.statuses.push(u.status);
        keep_latest_running(task);
        Changed::task(was_running || is_running(&task.state), &u.framework_id, &u.task_id)
    }

    /// Drops a task; true when it was running (had records).
    fn remove_task(&mut self, framework_id: &str, task_id: &str) -> bool {
        let Some(&f) = self.frameworks.get(framework_id) else {
            return false;
        };
        let Some(i) = self.tasks[f].remove(task_id) else {
            return false;
        };
        let tasks = &mut self.state.frameworks[f].tasks;
        let removed = tasks.swap_remove(i);
        if let Some(moved) = tasks.get(i) {
            self.tasks[f].insert(moved.id.to_string(), i);
        }
        is_running(&removed.state)
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

    /// Takes an agent off the recovered list; true if it was on it.
    fn forget_recovered(&mut self, id: &str) -> bool {
        let Some(recovered) = self.state.recovered_slaves.as_mut() else {
            return false;
        };
        let before = recovered.len();
        recovered.retain(|a| a.id != id);
        recovered.len() != before
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

/// Keeps only the status record generation reads, the latest `TASK_RUNNING` one
/// ([`Task::latest_running_status`]), as a polled document keeps it: a task's other statuses and its
/// older ones (flapping, health checks) are dropped as they arrive, so none grows without bound.
fn keep_latest_running(task: &mut Task<'static>) {
    let mut best: Option<(usize, f64)> = None;
    for (i, s) in task.statuses.iter().enumerate() {
        if s.state == "TASK_RUNNING" && s.timestamp > best.map_or(-1.0, |(_, ts)| ts) {
            best = Some((i, s.timestamp));
        }
    }
    match best {
        Some((i, _)) if task.statuses.len() > 1 => {
            let latest = task.statuses.swap_remove(i);
            task.statuses.clear();
            task.statuses.push(latest);
            task.statuses.shrink_to_fit();
        }
        Some(_) => {}
        None => task.statuses = Vec::new(),
    }
}

#[cfg(test)]
mod tests;
