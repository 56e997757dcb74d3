//! The refresher's picture of the cluster in stream mode: a state document that events edit in
//! place, so that the record generator reads it exactly as it reads a polled one. Pure.
//!
//! Everything but the tasks is kept as a [`State`] whose frameworks have no tasks ([`Model::header`]);
//! the tasks are kept packed ([`packed`]: about a sixth of their parsed form), a framework's back to
//! back in one buffer ([`list`]), indexed by a hash of their id ([`index`]), and read back one at a
//! time as borrowed [`Task`]s ([`Model::task`], [`Model::for_each_task_on`]). Tasks that reach a
//! terminal state are dropped (they never get records again); agents and frameworks are replaced or
//! removed by id. Indexes make a task or agent event O(1) (amortised) however big the cluster is;
//! removing a framework is O(frameworks), as the others after it move down a place (frameworks are
//! few, and keep their order). A polled document is read from its body task by task
//! ([`Model::from_body`]); `SUBSCRIBED` arrives with its tasks packed already ([`PackedTasks`], by
//! [`crate::mesos::operator::event`]).

use std::borrow::Cow;
use std::collections::HashMap;

use crate::mesos::operator::event::{Event, TaskUpdate};
use crate::mesos::state::{self, owned, Framework, Header, MasterInfo, Skipped, Slave, State, Task};
use index::TaskIndex;
use list::TaskList;
use packed::PackedRef;
pub(crate) use packed::{Interner, Packed, PackedTasks};

mod index;
mod list;
mod packed;

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
    /// Anything else (agents, frameworks, a `SUBSCRIBED` that differs from the cluster a poll gave in
    /// more than tasks): rebuild everything.
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
    /// Everything but the tasks: every framework's `tasks` is empty (they are in `packed`).
    state: State<'static>,
    /// Per framework (same index as in `state.frameworks`): its tasks, packed.
    packed: Vec<TaskList>,
    /// Framework id -> index in `state.frameworks`.
    frameworks: HashMap<String, usize>,
    /// Per framework (same index): task id -> index in its `packed` list.
    tasks: Vec<TaskIndex>,
    /// Agent id -> index in `state.slaves`.
    agents: HashMap<String, usize>,
    /// The agent ids tasks run on, which their packed forms name by index.
    task_agents: Interner,
    /// Of the document [`Model::from_body`] read: its tasks the model does not hold as the document
    /// lists them (a task under another framework than its `framework_id` names, an id twice in a
    /// framework), which a full build from the document's records still generates.
    unheld: usize,
}

impl Model {
    /// A model of a polled document (its terminal tasks left out), read from its body in one pass
    /// ([`ModelReader`]) as a poll reads it: as it arrives, else whole, which says why it is an error.
    #[cfg(test)]
    pub(crate) fn from_body(body: &[u8]) -> Result<Model, serde_json::Error> {
        let mut reader = ModelReader::default();
        if let Ok(header) = state::read_split(body, &mut reader) {
            return Ok(reader.finish(&header));
        }
        let mut reader = ModelReader::default();
        let header = state::read_document(body, &mut reader)?;
        Ok(reader.finish(&header))
    }

    /// The state document without its tasks (every framework's list is empty): the leader, the
    /// agents, the frameworks, what records of no task are generated from.
    pub(crate) fn header(&self) -> &State<'static> {
        &self.state
    }

    /// Whether the model holds every task of the document it was read from as the document lists it
    /// (see `unheld`): if not, only a full build from the document's records gives its records.
    pub(crate) fn holds_every_task(&self) -> bool {
        self.unheld == 0
    }

    /// The whole state document, tasks included, borrowing from the model (a full build with static
    /// records reads it; it costs what a parsed document does while it lives).
    pub(crate) fn full_state(&self) -> State<'_> {
        let s = &self.state;
        State {
            leader: Cow::Borrowed(&s.leader),
            pid: Cow::Borrowed(&s.pid),
            hostname: Cow::Borrowed(&s.hostname),
            leader_info: MasterInfo {
                hostname: Cow::Borrowed(&s.leader_info.hostname),
            },
            slaves: s.slaves.iter().map(slave).collect(),
            frameworks: s
                .frameworks
                .iter()
                .zip(&self.packed)
                .map(|(f, tasks)| Framework {
                    id: Cow::Borrowed(&f.id),
                    name: Cow::Borrowed(&f.name),
                    pid: Cow::Borrowed(&f.pid),
                    hostname: Cow::Borrowed(&f.hostname),
                    tasks: tasks.iter().map(|t| t.unpack(&f.id, &self.task_agents)).collect(),
                })
                .collect(),
            elected_time: s.elected_time,
            recovered_slaves: s.recovered_slaves.as_ref().map(|r| r.iter().map(slave).collect()),
        }
    }

    /// Every task, with its framework's index, in framework then list order.
    #[cfg(test)]
    pub(crate) fn for_each_task(&self, mut each: impl FnMut(usize, &Task<'_>)) {
        self.for_each_task_on(|f, _, task| each(f, task));
    }

    /// [`for_each_task`](Self::for_each_task) with each task's agent: the place of its `slave_id`
    /// in [`task_agent_ids`](Self::task_agent_ids). The tasks are read in turn into one [`Task`].
    pub(crate) fn for_each_task_on(&self, mut each: impl FnMut(usize, u32, &Task<'_>)) {
        let mut task = Task::default();
        for (f, (framework, tasks)) in self.state.frameworks.iter().zip(&self.packed).enumerate() {
            for t in tasks.iter() {
                let agent = t.unpack_into(&framework.id, &self.task_agents, &mut task);
                each(f, agent, &task);
            }
        }
    }

    /// The agent ids the tasks name, each once.
    pub(crate) fn task_agent_ids(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.task_agents.iter()
    }

    #[cfg(test)]
    /// Sets the `leader` field (the master the stream comes from).
    pub(crate) fn set_leader(&mut self, leader: &str) {
        self.state.leader = Cow::Owned(leader.to_owned());
    }

    /// How many tasks are kept.
    pub(crate) fn task_count(&self) -> usize {
        self.packed.iter().map(TaskList::len).sum()
    }

    /// A task by its framework's id and its own: its framework's index in [`Model::header`]'s
    /// frameworks, and the task (`None` when there is none, or no longer: terminal tasks are dropped).
    pub(crate) fn task(&self, framework_id: &str, task_id: &str) -> Option<(usize, Task<'_>)> {
        let &f = self.frameworks.get(framework_id)?;
        let tasks = self.packed.get(f)?;
        let i = self.tasks.get(f)?.get(task_id, tasks)?;
        let framework = self.state.frameworks.get(f)?;
        Some((f, tasks.get(i)?.unpack(&framework.id, &self.task_agents)))
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
        let same_agents = old_s.slaves.len() == new_s.slaves.len()
            && old_s.slaves.iter().zip(&new_s.slaves).all(|(a, b)| same_agent(a, b));
        if !same_masters || !same_frameworks || !same_agents {
            return Changed::Everything;
        }
        // Whether the agent at each index of this model's interner is the one at the same index of
        // `new`'s: a task whose bytes are the same (its agent index too) is then the same task.
        let same_agent_at: Vec<bool> = (self.task_agents.iter().enumerate())
            .map(|(i, name)| new.task_agents.get(i as u32) == name)
            .collect();
        let mut keys = Vec::new();
        // Per position of a framework's lists: whether the old and new tasks there have one id.
        let mut same_place = Vec::new();
        for (f, framework) in new_s.frameworks.iter().enumerate() {
            let (old_tasks, new_tasks) = (&self.packed[f], &new.packed[f]);
            same_place.clear();
            same_place.resize(old_tasks.len().min(new_tasks.len()), false);
            for (i, t) in new_tasks.iter().enumerate() {
                // A poll lists the tasks it lists again in the same order: look there first (the same
                // bytes are the same id; else compare the ids).
                let here = old_tasks.get(i);
                let old = match here.filter(|o| *o == t || o.id() == t.id()) {
                    Some(o) => {
                        same_place[i] = true;
                        Some(o)
                    }
                    None => self.tasks[f].get(t.id(), old_tasks).and_then(|j| old_tasks.get(j)),
                };
                let same = old.is_some_and(|o| {
                    // The same bytes with agent indexes that name the same agent are the same task;
                    // else compare fields (the ports' two forms read alike).
                    (o == t && same_agent_at.get(o.agent() as usize).copied().unwrap_or(false))
                        || same_task(
                            &o.unpack(&framework.id, &self.task_agents),
                            &t.unpack(&framework.id, &new.task_agents),
                        )
                });
                if !same {
                    keys.push((framework.id.to_string(), t.id().to_owned()));
                }
            }
            for (i, t) in old_tasks.iter().enumerate() {
                let kept = same_place.get(i).copied().unwrap_or(false) || new.tasks[f].get(t.id(), new_tasks).is_some();
                if !kept {
                    keys.push((framework.id.to_string(), t.id().to_owned()));
                }
            }
            if keys.len() > Changed::MAX_TASKS {
                return Changed::Everything;
            }
        }
        match keys.len() {
            0 => Changed::Nothing,
            _ => Changed::Tasks(keys),
        }
    }

    /// A framework's index in [`Model::header`]'s frameworks.
    pub(crate) fn framework_position(&self, framework_id: &str) -> Option<usize> {
        self.frameworks.get(framework_id).copied()
    }

    /// Gives back what growth left over (after a document or `SUBSCRIBED` is read whole).
    fn shrink_to_fit(&mut self) {
        for (tasks, index) in self.packed.iter_mut().zip(&mut self.tasks) {
            tasks.shrink_to_fit();
            index.shrink_to_fit();
        }
        self.task_agents.shrink_to_fit();
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
                // The old cluster stays until the new one is read, to say what differs (a poll before
                // gives the same cluster, less the events in between: an edit, not a rebuild).
                let old = std::mem::take(self);
                self.state.leader = old.state.leader.clone();
                self.state.pid = old.state.pid.clone();
                self.state.hostname = old.state.hostname.clone();
                // Nor an election time: the poll's stays (the stream follows the leader it found).
                self.state.elected_time = old.state.elected_time;
                self.state.recovered_slaves = recovered;
                // The v1 state has no `MasterInfo`: the leader's host name stays the poll's.
                self.state.leader_info = MasterInfo {
                    hostname: old.state.leader_info.hostname.clone(),
                };
                for mut f in frameworks {
                    if let Some(pid) = pids.get(&*f.id) {
                        f.pid = pid.clone();
                    }
                    self.upsert_framework(f);
                }
                for a in agents {
                    self.upsert_agent(a);
                }
                // The tasks come packed against agent ids of their own: those are the model's now.
                let PackedTasks {
                    agents,
                    frameworks,
                    tasks,
                } = tasks;
                self.task_agents = agents;
                for (framework, task) in tasks {
                    let framework_id = frameworks.get(framework);
                    if is_terminal(task.agent_and_state().1) {
                        self.remove_task(framework_id, task.id());
                    } else {
                        self.insert_packed(framework_id, task.as_ref());
                    }
                }
                self.shrink_to_fit();
                // Without a cluster before (no poll yet), everything is new.
                match old.packed.iter().all(TaskList::is_empty) {
                    true => Changed::Everything,
                    false => old.changes_to(self),
                }
            }
            Event::TaskAdded(task) => self.add_task(&task),
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
        f.tasks = Vec::new();
        match self.frameworks.get(&*f.id) {
            Some(&i) => {
                let old = &mut self.state.frameworks[i];
                if f.pid.is_empty() {
                    f.pid = std::mem::take(&mut old.pid);
                }
                *old = f;
            }
            None => {
                self.frameworks.insert(f.id.to_string(), self.state.frameworks.len());
                self.state.frameworks.push(f);
                self.packed.push(TaskList::default());
                self.tasks.push(TaskIndex::default());
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
        self.packed.remove(i);
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
    fn add_task(&mut self, task: &Task<'_>) -> Changed {
        if is_terminal(&task.state) {
            let removed = self.remove_task(&task.framework_id, &task.id);
            return Changed::task(removed, &task.framework_id, &task.id);
        }
        let agent = self.task_agents.intern(&task.slave_id);
        self.insert_packed(&task.framework_id, Packed::pack(task, agent).as_ref())
    }

    /// [`Model::add_task`] of a task that is not terminal, packed against `task_agents`.
    fn insert_packed(&mut self, framework_id: &str, task: PackedRef<'_>) -> Changed {
        let known = self.frameworks.contains_key(framework_id);
        let f = self.framework_index(framework_id);
        let running = is_running(task.agent_and_state().1);
        let (tasks, index) = (&mut self.packed[f], &mut self.tasks[f]);
        let changed = match index.get(task.id(), tasks) {
            Some(i) => {
                let was_running = tasks.get(i).is_some_and(|t| is_running(t.agent_and_state().1));
                tasks.set(i, task);
                running || was_running
            }
            None => {
                index.insert(task.id(), tasks.len());
                tasks.push(task);
                running
            }
        };
        match (known, changed) {
            (false, _) => Changed::Everything,
            // The key is made only when asked for (a poll's model adds a million tasks).
            (true, true) => Changed::task(true, framework_id, task.id()),
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
        let Some(i) = self.tasks[f].get(&u.task_id, &self.packed[f]) else {
            log::debug!("update for unknown task {}", u.task_id);
            return Changed::Nothing;
        };
        let TaskUpdate {
            framework_id,
            task_id,
            state,
            status,
        } = u;
        let Some(old) = self.packed[f].get(i) else {
            return Changed::Nothing;
        };
        let (agent, old_state) = old.agent_and_state();
        let was_running = is_running(old_state);
        let mut task = old.unpack(&self.state.frameworks[f].id, &self.task_agents);
        task.state = Cow::Borrowed(&state);
        // Packing keeps the latest `TASK_RUNNING` of the two.
        task.statuses.push(status);
        let updated = Packed::pack(&task, agent);
        self.packed[f].set(i, updated.as_ref());
        Changed::task(was_running || is_running(&state), &framework_id, &task_id)
    }

    /// Drops a task; true when it was running (had records).
    fn remove_task(&mut self, framework_id: &str, task_id: &str) -> bool {
        let Some(&f) = self.frameworks.get(framework_id) else {
            return false;
        };
        let (tasks, index) = (&mut self.packed[f], &mut self.tasks[f]);
        let Some(i) = index.remove(task_id, tasks) else {
            return false;
        };
        let was_running = tasks.get(i).is_some_and(|t| is_running(t.agent_and_state().1));
        tasks.swap_remove(i);
        if let Some(moved) = tasks.get(i) {
            index.moved(moved.id(), tasks.len(), i);
        }
        was_running
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

/// A [`Model`] being read from a polled document ([`state::read_document`]): the tasks are packed one
/// at a time as they are read, so that the document's parsed form never exists whole; [`ModelReader::finish`]
/// adds the rest of the document.
#[derive(Default)]
pub(crate) struct ModelReader {
    model: Model,
    /// How many of the document's frameworks the model has (each is added before its first task, and
    /// again whole after its last: a task naming another, unknown framework adds that one where it
    /// appears, as when the document was read whole).
    added: usize,
    /// The live (not terminal) tasks read.
    live: usize,
    /// The live tasks listed under another framework than the one their `framework_id` names.
    misfiled: usize,
    /// The document's framework whose tasks are being read, and its index in the model.
    at: Option<(usize, usize)>,
}

impl<'a> state::TaskSink<'a> for ModelReader {
    fn task(&mut self, f: usize, framework: &Framework<'a, Skipped>, mut task: Task<'a>) {
        if self.added == f {
            self.model.upsert_framework(owned_framework(framework));
            self.added += 1;
        }
        // Older masters leave a nested task's framework id out.
        if task.framework_id.is_empty() {
            task.framework_id = framework.id.clone();
        }
        let is_live = !is_terminal(&task.state);
        let misfiled = is_live && framework.id != task.framework_id;
        self.misfiled += usize::from(misfiled);
        self.live += usize::from(is_live);
        let at = match is_live && !misfiled {
            true => self.model_index(f, &framework.id),
            false => None,
        };
        let Some(m) = at else {
            self.model.add_task(&task);
            return;
        };
        // `Model::add_task` of a live task of a known framework, without the look-ups of its framework
        // by id or the change it reports (a new model changes everything): a million tasks each. A new
        // task (all but a repeated id) is packed straight into its framework's buffer, its id hashed
        // once.
        let agent = self.model.task_agents.intern(&task.slave_id);
        let (Some(tasks), Some(index)) = (self.model.packed.get_mut(m), self.model.tasks.get_mut(m)) else {
            return;
        };
        match index.get_or_insert(&task.id, tasks, tasks.len()) {
            Some(i) => tasks.set(i, Packed::pack(&task, agent).as_ref()),
            None => tasks.push_packed(&task, agent),
        }
    }

    fn framework(&mut self, f: usize, whole: &Framework<'a, Skipped>) {
        self.model.upsert_framework(owned_framework(whole));
        self.added = f + 1;
    }
}

impl ModelReader {
    /// The model's index of the document's framework `f`, whose id is `id` (the same for all its
    /// tasks: a framework's tasks are handed over once its id is read).
    fn model_index(&mut self, f: usize, id: &str) -> Option<usize> {
        match self.at {
            Some((doc, m)) if doc == f => Some(m),
            _ => {
                let m = *self.model.frameworks.get(id)?;
                self.at = Some((f, m));
                Some(m)
            }
        }
    }

    /// The model, with the rest of the document `header` (which must be the one whose tasks were read).
    pub(crate) fn finish(self, header: &Header<'_>) -> Model {
        let ModelReader {
            model: mut m,
            live,
            misfiled,
            ..
        } = self;
        m.state.leader = owned(&header.leader);
        m.state.pid = owned(&header.pid);
        m.state.hostname = owned(&header.hostname);
        m.state.leader_info.hostname = owned(&header.leader_info.hostname);
        let held: usize = m.packed.iter().map(TaskList::len).sum();
        m.unheld = misfiled + live.saturating_sub(held);
        for s in &header.slaves {
            m.upsert_agent(Slave::to_owned_slave(s));
        }
        m.state.elected_time = header.elected_time;
        m.state.recovered_slaves = header
            .recovered_slaves
            .as_ref()
            .map(|agents| agents.iter().map(Slave::to_owned_slave).collect());
        m.shrink_to_fit();
        m
    }
}

/// A framework's description (without tasks), owning its strings.
fn owned_framework(f: &Framework<'_, Skipped>) -> Framework<'static> {
    Framework {
        id: owned(&f.id),
        name: owned(&f.name),
        pid: owned(&f.pid),
        hostname: owned(&f.hostname),
        tasks: Vec::new(),
    }
}

/// Whether two descriptions of a task give it the same records: a poll's (whose ports are text)
/// and `SUBSCRIBED`'s (whose ports are ranges) are the same task when every field but the ports'
/// form is, and the ports are.
fn same_task(a: &Task<'_>, b: &Task<'_>) -> bool {
    a.id == b.id
        && a.name == b.name
        && a.framework_id == b.framework_id
        && a.slave_id == b.slave_id
        && a.state == b.state
        && a.statuses == b.statuses
        && a.discovery == b.discovery
        && a.labels == b.labels
        && (a.resources == b.resources || a.resources.all_ports().eq(b.resources.all_ports()))
}

/// Whether two descriptions of an agent give it the same records: a poll's (whose `pid` carries the
/// port) and `SUBSCRIBED`'s (which gives the port apart too) are the same agent.
fn same_agent(a: &Slave<'_>, b: &Slave<'_>) -> bool {
    a.id == b.id && a.pid == b.pid && a.hostname == b.hostname && a.domain == b.domain && a.host_port() == b.host_port()
}

/// An agent borrowing from another.
fn slave<'a>(a: &'a Slave<'_>) -> Slave<'a> {
    Slave {
        id: Cow::Borrowed(&a.id),
        pid: Cow::Borrowed(&a.pid),
        hostname: Cow::Borrowed(&a.hostname),
        port: a.port,
        domain: a.domain.clone(),
    }
}

#[cfg(test)]
mod tests;
