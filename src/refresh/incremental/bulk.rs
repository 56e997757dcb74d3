//! The start in bulk ([`Incremental::start`]): every task's records generated into the list of the
//! records of no task, one counted build of it all ([`Records::build_counted`]), then each task's
//! records read from the list into the task table by position. The same snapshot, counts and task
//! table as adding the tasks one by one (`Incremental::start_one_by_one`, kept for the tests that
//! compare the two), without a look-up of a name per record. Pure.

use std::net::IpAddr;
use std::time::Instant;

use super::{agent_ids, reverse_of, task_source, Incremental};
use crate::addr::HostPort;
use crate::records::generate::TaskGen;
use crate::refresh::carried::{self, CarriedTask};
use crate::refresh::model::Model;
use crate::snapshot::{Counting, Data, RecordList, Records, Repeat, Rr, TaskEntry, Zone};

/// A few more records than the fixtures and generated states give a task: room reserved at once (what
/// is never written to costs no memory), so that the list is not copied as it grows.
const RECORDS_PER_TASK: usize = 12;

const NONE: u32 = u32::MAX;

impl Incremental {
    /// Starts from the records of `model`'s state that are no task's (`list`: pinned, no task's
    /// removal takes one away), every task's (added to `list`), then the tasks a failover carries over (`carried`: no
    /// event edits those; the next full build decides again), in one build (`serial`, `zone`).
    pub(crate) fn start(
        mut list: RecordList,
        zone: Zone,
        serial: u32,
        model: &Model,
        mut gen: TaskGen,
        masters: &[HostPort],
        carried: &[CarriedTask],
    ) -> Incremental {
        let list = &mut list;
        let tasks_from = u32::try_from(list.len()).unwrap_or(NONE);
        let base_names = u32::try_from(list.name_count()).unwrap_or(NONE);
        let agent_ids = agent_ids(model, carried);
        let began = Instant::now();
        list.reserve(model.task_count() * RECORDS_PER_TASK);
        list.keep_repeats();
        let places = gen.agent_places(model.task_agent_ids());
        // Each listed task's source, for the table, written as its records are generated.
        let mut sources = Sources::default();
        let mut one = Vec::new();
        model.for_each_task_on(|f, agent, task| {
            let place = places.get(agent as usize).copied().flatten();
            let listed = list.tasks().len();
            gen.task_into_on(list, f, place, task);
            if list.tasks().len() > listed {
                task_source::write_task(task, &mut one);
                sources.push(&one);
            }
        });
        drop(one);
        gen.forget_shared();
        let model_tasks = list.tasks().len();
        carried::add_to_list(list, carried);
        let repeats = list.take_repeats();
        let generated = began.elapsed();
        let mut again: Vec<(u32, bool)> = repeats.iter().map(|r| (r.entry, r.reverse)).collect();
        again.sort_unstable();
        let counting = Counting {
            tasks_from,
            base_names,
            again: &again,
        };
        // (The list forgets its names' text there: read by position, through `node_of`, from now on.)
        let (records, node_of) = Records::build_counted(zone, list, serial, &counting);
        drop(again);
        let built = began.elapsed();
        let frameworks = list.frameworks().map(str::to_owned).collect();
        let mut inc = Incremental::new(records, gen, frameworks, agent_ids, model_tasks, masters);
        let read = Read {
            node_of: &node_of,
            repeats: &repeats,
        };
        inc.mark_again(list, &read);
        // The table keeps each task's source, not its records: the list's records can all go.
        list.free_entries();
        inc.fill_table(list, &sources, carried, model_tasks);
        drop(sources);
        inc.tasks.shrink_to_fit();
        inc.slots.shrink_to_fit();
        log::debug!(
            "start in bulk: {model_tasks} tasks' records generated in {} ms ({} generated again), built by {} ms, \
             task table by {} ms",
            generated.as_millis(),
            repeats.len(),
            built.as_millis(),
            began.elapsed().as_millis()
        );
        inc.tracking = true;
        inc
    }

    /// The PTR records of the records a task marked for one where the task that generated them
    /// first did not (the list marks a record once): added as the edit of that task would.
    fn mark_again(&mut self, list: &RecordList, read: &Read<'_>) {
        for r in read.repeats.iter().filter(|r| r.reverse && !list.is_reverse(r.entry)) {
            let Some((name, data)) = list.entry(r.entry) else {
                continue;
            };
            let ip = match data {
                Data::A(o) => IpAddr::from(o),
                Data::Aaaa(o) => IpAddr::from(o),
                Data::Srv { .. } | Data::Other(_) => continue,
            };
            let Some(owner) = self.records.name(read.node(name)).map(<[u8]>::to_vec) else {
                continue;
            };
            reverse_of(ip, &mut self.reverse);
            self.records.add(&self.reverse, Rr::Ptr(&owner));
        }
    }

    /// Each task of the list into the task table, in list order, with its source: the first
    /// `model_tasks` (findable by (framework, id)) from `sources`, then the carried tasks.
    fn fill_table(&mut self, list: &RecordList, sources: &Sources, carried: &[CarriedTask], model_tasks: usize) {
        let (agent_ids, agent_of) = list.task_agents();
        let agents: Vec<u32> = agent_ids
            .iter()
            .map(|a| self.agents.get(&**a).copied().unwrap_or(u32::MAX))
            .collect();
        let agent = |i: usize| agent_of.get(i).and_then(|&a| agents.get(a as usize)).copied();
        let mut listed = list.tasks().enumerate();
        let mut table = self.tasks.appender();
        for ((i, t), source) in listed.by_ref().take(model_tasks).zip(sources.iter()) {
            let framework = t.framework_index as u32;
            let entry = TaskEntry::new((framework, agent(i).unwrap_or(u32::MAX)), t.name, t.id, source);
            let slot = table.push(&entry) as u32;
            self.slots.insert(framework, t.id, slot);
        }
        drop(table);
        let mut source = std::mem::take(&mut self.scratch);
        for ((i, t), task) in listed.zip(carried).filter(|((_, t), c)| t.id == c.id) {
            task_source::write_carried(task, &mut source);
            let framework = t.framework_index as u32;
            let entry = TaskEntry::new((framework, agent(i).unwrap_or(u32::MAX)), t.name, t.id, &source);
            self.tasks.insert(&entry);
        }
        self.scratch = source;
    }
}

/// What reading the built list by position needs.
struct Read<'a> {
    /// The list's names' nodes.
    node_of: &'a [u32],
    repeats: &'a [Repeat],
}

impl Read<'_> {
    fn node(&self, name: u32) -> u32 {
        self.node_of.get(name as usize).copied().unwrap_or(NONE)
    }
}

/// The sources of the listed tasks, back to back, in list order.
#[derive(Default)]
struct Sources {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Sources {
    fn push(&mut self, source: &[u8]) {
        self.bytes.extend_from_slice(source);
        self.ends.push(self.bytes.len());
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| self.bytes.get(start..end).unwrap_or_default())
    }
}
