//! One task's records on their own ([`TaskGen`]), for updating a snapshot task by task: what the
//! naming rules of a task need from the rest of the state (its framework's `F`, its agent's
//! addresses, every agent address for the reverse marks, the settings), taken once from a full state
//! and owned, so that it outlives the document and the [`GenInput`] it came from. The rules
//! themselves are [`super`]'s ([`TaskNamer::task`]), which [`super::generate`] runs for every task.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use super::{FrameworkRef, GenInput, SharedNames, SharedTexts};
use crate::config::{Cidr, IpSource, TaskFilter};
#[cfg(test)]
use crate::mesos::state::State;
use crate::mesos::state::Task;
use crate::records::label::Spec;
use crate::snapshot::{FastHash, RecordList};

/// The settings and state-wide facts every task's records are made with (owned copies).
pub(super) struct TaskNamer {
    pub(super) spec: Spec,
    pub(super) ip_sources: Vec<IpSource>,
    pub(super) unroutable: Vec<Cidr>,
    pub(super) ptr_on: bool,
    pub(super) hide_unhealthy: bool,
    /// `minVisibility` and `excludeTaskLabels` (`excludeFrameworks` is the framework's, in [`super::FrameworkRef`]).
    pub(super) filter: TaskFilter,
    /// Every agent address (as stored), with reverse lookups on: their PTR names the agent, not a task.
    pub(super) agent_addrs: HashSet<IpAddr, FastHash>,
    /// The name being built.
    pub(super) buf: String,
    /// Per framework (index in the state), per task name `T`: the names its instances share, as
    /// interned in the list the tasks are being added to (so only valid for that one list).
    pub(super) shared: Vec<HashMap<String, SharedNames, FastHash>>,
    /// The shared names a task needs that are not interned yet (scratch space).
    pub(super) shared_texts: SharedTexts,
    /// A task's addresses (scratch space).
    pub(super) task_ips: Vec<IpAddr>,
    /// A task's agent tail `S`, its canonical label's suffix and its canonical name (scratch space).
    pub(super) tail: String,
    pub(super) suffix: String,
    pub(super) canon: String,
    /// A task's own names, `canon.F.D` and `canon.F.slave.D` (scratch space).
    pub(super) fd_text: String,
    pub(super) fsd_text: String,
    /// The task's label `T` and `_T` (scratch space).
    pub(super) label: String,
    pub(super) srv_t: String,
    /// A discovery port's protocol or name as a label, its `_P` and its `_N`
    /// (scratch space).
    pub(super) port_label: String,
    pub(super) port_proto: String,
    pub(super) port_named: String,
}

impl TaskNamer {
    /// No agent addresses yet: [`super::Generator::agents`] adds them.
    pub(super) fn new(input: &GenInput<'_>) -> TaskNamer {
        TaskNamer {
            spec: Spec::new(input.enforce_rfc952),
            ip_sources: input.ip_sources.to_vec(),
            unroutable: input.unroutable.to_vec(),
            ptr_on: input.ptr_on,
            hide_unhealthy: input.hide_unhealthy,
            filter: input.filter.clone(),
            agent_addrs: HashSet::default(),
            buf: String::with_capacity(128),
            shared: Vec::new(),
            shared_texts: SharedTexts::default(),
            task_ips: Vec::new(),
            tail: String::new(),
            suffix: String::new(),
            canon: String::new(),
            fd_text: String::new(),
            fsd_text: String::new(),
            label: String::new(),
            srv_t: String::new(),
            port_label: String::new(),
            port_proto: String::new(),
            port_named: String::new(),
        }
    }
}

/// What generating one task's records needs from the rest of the state, taken once from a full state.
pub(crate) struct TaskGen {
    namer: TaskNamer,
    /// Per framework of the state (same index): its index in a list and its `F`.
    frameworks: Vec<FrameworkRef>,
    /// Every framework's name, in state order (each task's list lists them, as a full one does).
    framework_names: Vec<String>,
    agents: KnownAgents,
}

/// The known agents' addresses, by place, and their places by id.
#[derive(Default)]
pub(super) struct KnownAgents {
    places: HashMap<String, u32, FastHash>,
    /// By place. Every task reads its agent's, in no order: one agent's addresses are one read.
    addrs: Vec<AgentAddrs>,
    /// The addresses of the agents with more than one, back to back.
    more: Vec<IpAddr>,
}

/// One agent's addresses: in place when it has one (most have), else a range of
/// [`KnownAgents::more`].
#[derive(Clone, Copy)]
enum AgentAddrs {
    One(IpAddr),
    Many { from: u32, to: u32 },
}

impl KnownAgents {
    pub(super) fn with_capacity(agents: usize) -> KnownAgents {
        KnownAgents {
            places: HashMap::with_capacity_and_hasher(agents, FastHash),
            addrs: Vec::with_capacity(agents),
            more: Vec::new(),
        }
    }

    /// Adds agent `id` at `addrs` (an id met again keeps its place and gets the new addresses).
    pub(super) fn insert(&mut self, id: &str, addrs: Vec<IpAddr>) {
        let entry = match addrs[..] {
            [one] => AgentAddrs::One(one),
            _ => {
                let from = u32::try_from(self.more.len()).unwrap_or(u32::MAX);
                self.more.extend_from_slice(&addrs);
                let to = u32::try_from(self.more.len()).unwrap_or(u32::MAX);
                AgentAddrs::Many { from, to }
            }
        };
        match self.places.get(id).and_then(|&at| self.addrs.get_mut(at as usize)) {
            Some(known) => *known = entry,
            None => {
                let Ok(at) = u32::try_from(self.addrs.len()) else {
                    return;
                };
                self.places.insert(id.to_owned(), at);
                self.addrs.push(entry);
            }
        }
    }

    /// The addresses of the agent at `at` (`None`: no agent there).
    fn addrs(&self, at: u32) -> Option<&[IpAddr]> {
        match self.addrs.get(at as usize)? {
            AgentAddrs::One(ip) => Some(std::slice::from_ref(ip)),
            &AgentAddrs::Many { from, to } => self.more.get(from as usize..to as usize),
        }
    }
}

impl TaskGen {
    /// From a full state and the settings, as [`super::generate`] would see them.
    #[cfg(test)]
    pub(crate) fn new(state: &State<'_>, input: &GenInput<'_>) -> TaskGen {
        super::generate_fixed(state, input).1
    }

    pub(super) fn from_parts(
        namer: TaskNamer,
        frameworks: Vec<FrameworkRef>,
        framework_names: Vec<String>,
        agents: KnownAgents,
    ) -> TaskGen {
        TaskGen {
            namer,
            frameworks,
            framework_names,
            agents,
        }
    }

    /// The records of one task of framework `framework_index` (index in `state.frameworks`), exactly
    /// as [`super::generate`] makes them for that task (same names, same data, same reverse marks),
    /// in a fresh list holding only them and the framework list. Empty when the task has none (not
    /// running, unknown agent or framework, hidden as unhealthy or by a filter, no name DNS can carry).
    #[cfg(test)]
    pub(crate) fn task(&mut self, framework_index: usize, task: &Task<'_>) -> RecordList {
        let mut out = RecordList::with_capacity(16);
        for name in &self.framework_names {
            out.add_framework(name);
        }
        // The shared names' ids are another list's.
        if let Some(names) = self.namer.shared.get_mut(framework_index) {
            names.clear();
        }
        self.task_into(&mut out, framework_index, task);
        out
    }

    /// [`task`](Self::task) without the frameworks' names: the list's frameworks up to this one are
    /// there, unnamed (no allocation each: at 1M tasks of 50 frameworks, 50M fewer), so that its
    /// [`TaskRef`](crate::snapshot::TaskRef)s carry the framework's index but no name.
    pub(crate) fn task_unnamed(&mut self, framework_index: usize, task: &Task<'_>) -> RecordList {
        let mut out = RecordList::with_capacity(16);
        for _ in 0..=framework_index.min(self.framework_names.len()) {
            out.add_framework("");
        }
        if let Some(names) = self.namer.shared.get_mut(framework_index) {
            names.clear();
        }
        self.task_into(&mut out, framework_index, task);
        out
    }

    /// Forgets the names every instance of a task name shares, as interned in the list tasks were
    /// added to with [`task_into`](Self::task_into) (once that list is done with: a start in bulk).
    pub(crate) fn forget_shared(&mut self) {
        for names in &mut self.namer.shared {
            *names = HashMap::default();
        }
    }

    /// Adds one task's records to `out`, the list every earlier call of this generator added to
    /// (the shared names are looked up there).
    pub(crate) fn task_into(&mut self, out: &mut RecordList, framework_index: usize, task: &Task<'_>) {
        let agent = self.agents.places.get(&*task.slave_id).copied();
        self.task_into_on(out, framework_index, agent, task);
    }

    /// The place of each agent of `ids` among the agents this generator knows (`None`: unknown, its
    /// tasks get no records), for [`task_into_on`](Self::task_into_on).
    pub(crate) fn agent_places<'a>(&self, ids: impl Iterator<Item = &'a str>) -> Vec<Option<u32>> {
        ids.map(|id| self.agents.places.get(id).copied()).collect()
    }

    /// [`task_into`](Self::task_into) of a task on the agent at `agent` (its place from
    /// [`agent_places`](Self::agent_places)): the task's `slave_id` is not looked up again.
    pub(crate) fn task_into_on(
        &mut self,
        out: &mut RecordList,
        framework_index: usize,
        agent: Option<u32>,
        task: &Task<'_>,
    ) {
        let Some(fw) = self.frameworks.get(framework_index) else {
            return;
        };
        let Some((at, agent_ips)) = agent.and_then(|at| Some((at, self.agents.addrs(at)?))) else {
            return;
        };
        self.namer.task(out, fw, task, (at, agent_ips));
    }
}
