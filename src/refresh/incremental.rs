//! Stream mode's snapshot, kept up to date by edits ([`Incremental`]): after a full build (a poll, a
//! SUBSCRIBED, an agent or framework event), each task event takes the task's old records out of the
//! snapshot and puts its new ones in, and publishing is a clone that shares every chunk no edit touched
//! (`crate::snapshot::chunk`). A publish costs what changed, not the cluster.
//!
//! Which records a task has is the naming rules' business ([`TaskGen`]); which tasks changed, the
//! model's ([`Changed`](super::model::Changed)). This module only moves records between the two, and
//! remembers each task (in the snapshot's [`TaskTable`], which `/v1/enumerate` reads) by what its
//! records are made from ([`task_source`]), so that they can be made again and taken out. Pure: no I/O.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use slots::SlotIndex;
pub(crate) use task_keys::TaskKeys;
use task_source::Generator;
pub(crate) use touched::Touched;

use super::carried::CarriedTask;
use super::model::Model;
use crate::addr::HostPort;
use crate::mesos::state::Task;
use crate::records::generate::TaskGen;
use crate::snapshot::reverse::reverse_name;
use crate::snapshot::{Data, FastHash, RecordList, Records, Rr, TaskEntry, TaskTable, ZoneMap};
use crate::wire::text_to_wire;

/// The snapshot being edited, its tasks, and what changed since the last publish.
pub(crate) struct Incremental {
    records: Records,
    tasks: TaskTable,
    /// (framework index, task id) -> slot in `tasks` (indexes hold until the next full build: a
    /// framework that goes is a full build).
    slots: SlotIndex,
    /// Makes a task's records (the table's too, to make them again).
    gen: Arc<Generator>,
    /// Names of the domain whose records were added or taken out since the last publish (for the IXFR
    /// journal).
    touched: Touched,
    /// Whether `touched` is kept (not while the whole cluster is added at the start: the journal then
    /// compares everything).
    tracking: bool,
    /// The masters the records of the last full build name.
    masters: Vec<HostPort>,
    /// Agent id -> position in the task table's agents (fixed until the next full build: an agent
    /// event is one).
    agents: HashMap<String, u32, FastHash>,
    wire: Vec<u8>,
    target: Vec<u8>,
    reverse: Vec<u8>,
    /// A task's source while it is written (kept for the next task).
    scratch: Vec<u8>,
}

impl Incremental {
    /// Starts from a snapshot of the records of `model`'s state that are no task's (with its
    /// frameworks in `frameworks`), which stay pinned, and adds every task's one by one, then the
    /// tasks a failover carries over: what [`start`](Self::start) does in bulk (tests compare).
    #[cfg(test)]
    pub(crate) fn start_one_by_one(
        mut records: Records,
        model: &Model,
        gen: TaskGen,
        mut frameworks: Vec<String>,
        masters: &[HostPort],
        carried: &[CarriedTask],
    ) -> Incremental {
        records.start_counting();
        for c in carried {
            if !frameworks.contains(&c.framework) {
                frameworks.push(c.framework.clone());
            }
        }
        let agent_ids = agent_ids(model, carried);
        let tasks = model.task_count();
        let mut inc = Incremental::new(records, gen, frameworks, agent_ids, tasks, masters);
        model.for_each_task(|f, task| inc.add_task(f, task));
        for task in carried {
            inc.add_carried(task);
        }
        inc.records.shrink_to_fit();
        inc.tasks.shrink_to_fit();
        inc.slots.shrink_to_fit();
        inc.tracking = true;
        inc
    }

    /// An edited snapshot of `records` with an empty task table (room for `tasks` slots), the
    /// frameworks and agents its rows name by position, and the masters the records name.
    fn new(
        records: Records,
        gen: TaskGen,
        frameworks: Vec<String>,
        agent_ids: Vec<String>,
        tasks: usize,
        masters: &[HostPort],
    ) -> Incremental {
        let agents = agent_ids
            .iter()
            .enumerate()
            .map(|(i, a)| (a.clone(), i as u32))
            .collect();
        let gen = Arc::new(Generator::new(gen));
        let regenerate: Arc<dyn crate::snapshot::Regenerate> = gen.clone();
        Incremental {
            records,
            tasks: TaskTable::new(frameworks, agent_ids, Some(regenerate)),
            slots: SlotIndex::with_capacity(tasks),
            gen,
            touched: Touched::default(),
            tracking: false,
            masters: masters.to_vec(),
            agents,
            wire: Vec::with_capacity(256),
            target: Vec::with_capacity(256),
            reverse: Vec::with_capacity(80),
            scratch: Vec::with_capacity(128),
        }
    }

    /// Applies the changes of these tasks (framework id, task id) as the model now has them. Every
    /// changed task is taken out before any is added, so that the node ids and table slots the old
    /// ones free are the ones the new ones take: a churning poll (a tenth of the tasks replaced)
    /// then leaves no free ids and slots behind for the next one, and grows no chunk.
    pub(crate) fn apply_keys(&mut self, model: &Model, tasks: &TaskKeys) {
        for (framework_id, task_id) in tasks.iter() {
            self.remove_if_held(model, framework_id, task_id);
        }
        for (framework_id, task_id) in tasks.iter() {
            // (A task named twice was added already: taken out again, so that it is held once.)
            self.remove_if_held(model, framework_id, task_id);
            if let Some((f, task)) = model.task(framework_id, task_id) {
                self.add_task(f, &task);
            }
        }
    }

    /// [`apply_keys`](Self::apply_keys) of the pairs as the model lists them.
    #[cfg(test)]
    pub(crate) fn apply(&mut self, model: &Model, tasks: &[(String, String)]) {
        self.apply_keys(model, &TaskKeys::pack(tasks.to_vec()));
    }

    /// Takes the task out if the table holds it.
    fn remove_if_held(&mut self, model: &Model, framework_id: &str, task_id: &str) {
        let Some(f) = model.framework_position(framework_id) else {
            return;
        };
        if let Some(slot) = self.slots.remove(f as u32, task_id, &self.tasks) {
            self.remove_task(slot as usize);
        }
    }

    /// Answers queries from agents in a zone with that zone's records first (`preferLocalZone`).
    pub(crate) fn with_zones(mut self, zones: Option<ZoneMap>) -> Incremental {
        self.records = self.records.with_zones(zones);
        self
    }

    /// Keeps at most `limit` of the names each edit touches ([`Touched::up_to`]): enough when no
    /// journal is kept, where only whether a record changed matters.
    pub(crate) fn with_touched_up_to(mut self, limit: usize) -> Incremental {
        self.touched = Touched::up_to(limit);
        self
    }

    /// The masters its records name (a poll naming others is a full build).
    pub(crate) fn masters(&self) -> &[HostPort] {
        &self.masters
    }

    /// The snapshot as edited so far, to be stored, and the names whose records changed since the last
    /// publish.
    pub(crate) fn publish(&mut self) -> (Records, Touched) {
        let records = self.records.clone().with_tasks(Arc::new(self.tasks.clone()));
        // The set goes whole, not drained: a churning poll touches names by the ten thousand, and a
        // drained set would keep a table that large for as long as the edits go on.
        let emptied = self.touched.emptied();
        (records, std::mem::replace(&mut self.touched, emptied))
    }

    /// What each structure holds, in heap bytes (the start probe's breakdown; malloc's own overhead,
    /// about 16 bytes an allocation, apart).
    #[cfg(test)]
    pub(crate) fn sizes(&self) -> Vec<(&'static str, usize)> {
        let (chunks, counts) = self.records.chunk_bytes();
        let (slots, bytes, allocs) = self.tasks.heap_bytes();
        let map = self.slots.heap_bytes();
        vec![
            ("snapshot chunks (counts included)", chunks),
            ("  of which edit counts (uses, refs)", counts),
            ("task table rows", slots),
            ("task names, ids and sources", bytes),
            ("task table allocations x 16", allocs * 16),
            ("slots map (keys included)", map),
        ]
    }

    /// What edits could make grow, as text (the edit probe prints it a round).
    #[cfg(test)]
    pub(crate) fn edit_shape(&self) -> String {
        format!(
            "{:?}; {}; slots map {} bytes",
            self.records.edit_shape(),
            self.tasks.edit_shape(),
            self.slots.heap_bytes()
        )
    }

    /// Generates a task's records and adds them.
    fn add_task(&mut self, framework: usize, task: &Task<'_>) {
        let list = self.gen.task(framework, task);
        let Some(t) = list.tasks().next() else { return };
        self.add_records(&list);
        let agent = self.agents.get(&*task.slave_id).copied().unwrap_or(u32::MAX);
        task_source::write_task(task, &mut self.scratch);
        let entry = TaskEntry::new((t.framework_index as u32, agent), t.name, t.id, &self.scratch);
        let slot = self.tasks.insert(&entry) as u32;
        self.slots.insert(framework as u32, &task.id, slot);
    }

    /// Adds a carried task's records (it has no slot: no event names it).
    #[cfg(test)]
    fn add_carried(&mut self, task: &CarriedTask) {
        let frameworks = self.tasks.frameworks();
        let Some(framework) = frameworks.iter().position(|f| *f == task.framework) else {
            return;
        };
        let list = task_source::carried_list(frameworks, task);
        self.add_records(&list);
        let agent = self.agents.get(&task.agent).copied().unwrap_or(u32::MAX);
        task_source::write_carried(task, &mut self.scratch);
        let entry = TaskEntry::new((framework as u32, agent), &task.name, &task.id, &self.scratch);
        self.tasks.insert(&entry);
    }

    /// Takes the task in `slot` out of the table, and its records (made again) out of the snapshot.
    fn remove_task(&mut self, slot: usize) {
        let Some(list) = self.tasks.get(slot).map(|e| self.tasks.records(&e)) else {
            return;
        };
        if self.tasks.take(slot) {
            self.remove_records(&list);
        }
    }

    /// Adds the records of a one-task list.
    fn add_records(&mut self, list: &RecordList) {
        let mut bufs = (std::mem::take(&mut self.wire), std::mem::take(&mut self.target));
        for_each_record(list, &mut bufs, |owner, rr, back| {
            if !self.records.add(owner, rr) {
                return;
            }
            if self.tracking {
                self.touched.insert(owner);
            }
            if let Some(ip) = back {
                reverse_of(ip, &mut self.reverse);
                // (Reverse names are not in the zone a transfer sends: not touched.)
                self.records.add(&self.reverse, Rr::Ptr(owner));
            }
        });
        (self.wire, self.target) = bufs;
    }

    /// Takes the records of a one-task list out, as [`add_records`](Self::add_records) added them (the
    /// PTR records first: they name the owner).
    fn remove_records(&mut self, list: &RecordList) {
        let mut bufs = (std::mem::take(&mut self.wire), std::mem::take(&mut self.target));
        for_each_record(list, &mut bufs, |owner, rr, back| {
            if let Some(ip) = back {
                reverse_of(ip, &mut self.reverse);
                self.records.remove(&self.reverse, Rr::Ptr(owner));
            }
            if self.records.remove(owner, rr) {
                self.touched.insert(owner);
            }
        });
        (self.wire, self.target) = bufs;
    }
}

/// Each record of a one-task list (every entry of one is the task's) as the snapshot takes it: its
/// owner (wire form, in `bufs.0`), its data (an SRV target in `bufs.1`), and its address when that
/// points back to the owner (PTR). Names DNS cannot carry are skipped.
fn for_each_record(
    list: &RecordList,
    (wire, target): &mut (Vec<u8>, Vec<u8>),
    mut each: impl FnMut(&[u8], Rr<'_>, Option<IpAddr>),
) {
    for i in 0..list.len() {
        let Some((Some(_), name, data)) = list.entry_at(i) else {
            continue;
        };
        if text_to_wire(list.text(name), wire).is_none() {
            continue;
        }
        let back = u32::try_from(i).is_ok_and(|i| list.is_reverse(i));
        let (rr, ip) = match data {
            Data::A(ip) => (Rr::A(ip), IpAddr::from(ip)),
            Data::Aaaa(ip) => (Rr::Aaaa(ip), IpAddr::from(ip)),
            Data::Srv { target: t, port } => match text_to_wire(list.text(t), target) {
                Some(()) => {
                    each(wire, Rr::Srv { port, target }, None);
                    continue;
                }
                None => continue,
            },
            Data::Other(_) => continue,
        };
        each(wire, rr, back.then_some(ip));
    }
}

/// The agents a task table names by position: the model's, then those only carried tasks name.
fn agent_ids(model: &Model, carried: &[CarriedTask]) -> Vec<String> {
    let mut ids: Vec<String> = model.header().slaves.iter().map(|s| s.id.to_string()).collect();
    for c in carried {
        if !ids.contains(&c.agent) {
            ids.push(c.agent.clone());
        }
    }
    ids
}

fn reverse_of(ip: IpAddr, out: &mut Vec<u8>) {
    match ip {
        IpAddr::V4(a) => reverse_name(&a.octets(), out),
        IpAddr::V6(a) => reverse_name(&a.octets(), out),
    }
}

mod bulk;
mod slots;
mod task_keys;
mod task_source;
#[cfg(test)]
mod tests;
mod touched;
