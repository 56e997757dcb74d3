//! Moving carried tasks' records from the last published snapshot into the next ([`take`],
//! [`add_to_list`]); which agents are carried is [`super::carry`]'s decision. Pure.
//!
//! The records come from what the published snapshot keeps anyway: the record list of a full build
//! (its task table names each task's agent: 4 bytes a task) or the task table of an edited one
//! (stream mode, polls as edits: each entry names its agent, and its records are made again from what
//! the table keeps of it). No old state document is kept. A record two tasks share is listed under the first task that made it (see
//! [`RecordList::task_records`]): a carried task loses such a record when that other task goes,
//! which needs two tasks on different agents with the same name and address.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::carry::{Ended, News, Why};
use crate::snapshot::{RData, Record, RecordList, Records};

/// One carried task and its records, as the last snapshot had them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CarriedTask {
    /// Its framework's name.
    pub(crate) framework: String,
    pub(crate) name: String,
    pub(crate) id: String,
    /// The agent it runs on.
    pub(crate) agent: String,
    /// Each record, with whether its address points back to its name (PTR).
    pub(crate) records: Vec<(Record, bool)>,
}

/// The tasks of `previous` that run on the carried agents.
pub(crate) fn take(previous: &Records, carrying: &BTreeMap<String, Why>) -> Vec<CarriedTask> {
    if carrying.is_empty() {
        return Vec::new();
    }
    if let Some(table) = previous.tasks() {
        let frameworks = table.frameworks();
        return table
            .entries()
            .filter(|e| carrying.contains_key(table.agent(e)))
            .map(|e| CarriedTask {
                framework: frameworks.get(e.framework as usize).cloned().unwrap_or_default(),
                name: e.name().to_owned(),
                id: e.id().into_owned(),
                agent: table.agent(&e).to_owned(),
                records: table
                    .stored_records(&e)
                    .into_iter()
                    .map(|r| {
                        (
                            Record {
                                name: r.owner,
                                data: r.data,
                            },
                            r.reverse,
                        )
                    })
                    .collect(),
            })
            .collect();
    }
    let Some(list) = previous.list() else {
        return Vec::new();
    };
    list.tasks()
        .enumerate()
        .filter(|(i, _)| carrying.contains_key(list.task_agent(*i)))
        .map(|(i, t)| CarriedTask {
            framework: t.framework.to_owned(),
            name: t.name.to_owned(),
            id: t.id.to_owned(),
            agent: list.task_agent(i).to_owned(),
            records: list.records_of_task(i).collect(),
        })
        .collect()
}

/// Adds carried tasks to a generated list (before its static records), each under its framework
/// (listed if the state no longer has it) and agent.
pub(crate) fn add_to_list(list: &mut RecordList, tasks: &[CarriedTask]) {
    for task in tasks {
        let known = list.frameworks().position(|f| f == task.framework);
        let framework = match known {
            Some(i) => i as u32,
            None => list.add_framework(&task.framework),
        };
        list.begin_task_on(framework, &task.name, &task.id, &task.agent);
        for (record, reverse) in &task.records {
            match &record.data {
                RData::A(ip) if *reverse => list.push_ip_reverse(&record.name, IpAddr::V4(*ip)),
                RData::Aaaa(ip) if *reverse => list.push_ip_reverse(&record.name, IpAddr::V6(*ip)),
                data => list.push(&record.name, data.clone()),
            };
        }
        list.end_task();
    }
}

/// Logs where carrying starts and ends, per agent.
pub(crate) fn log_news(news: &News, tasks: &[CarriedTask], grace: u64) {
    let counts = per_agent(tasks);
    for (agent, why) in &news.started {
        let n = counts.get(agent.as_str()).copied().unwrap_or(0);
        match why {
            Why::Recovering => log::warn!(
                "failover: agent {agent} is in the leader's recovered_slaves and has not re-registered: \
                 carrying its {n} tasks over until it does"
            ),
            Why::Grace { .. } => log::warn!(
                "failover: agent {agent} is missing after a leader change: carrying its {n} tasks over for \
                 up to {grace} s (failoverGraceSeconds) or until it is back"
            ),
        }
    }
    for (agent, ended) in &news.ended {
        match ended {
            Ended::Reregistered => {
                log::info!("failover: agent {agent} re-registered: its tasks are the ones it reports again")
            }
            Ended::GaveUp => {
                log::warn!("failover: agent {agent} left recovered_slaves without re-registering: its carried tasks go")
            }
            Ended::GraceOver => log::warn!(
                "failover: agent {agent} did not come back within {grace} s (failoverGraceSeconds): \
                 its carried tasks go"
            ),
        }
    }
}

/// How many tasks each carried agent has (for the log).
pub(crate) fn per_agent(tasks: &[CarriedTask]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for t in tasks {
        *counts.entry(t.agent.as_str()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn zone() -> crate::snapshot::Zone {
        crate::records::zone(&crate::config::Config::default())
    }

    fn list_with_tasks() -> RecordList {
        let mut list = RecordList::new();
        let fw = list.add_framework("marathon");
        for (id, agent, ip) in [("web.1", "a1", 1), ("web.2", "a2", 2), ("db.1", "a2", 3)] {
            list.begin_task_on(fw, id.split('.').next().unwrap(), id, agent);
            let name = format!("{}.marathon.mesos.", id.split('.').next().unwrap());
            list.push_ip_reverse(&name, IpAddr::V4(Ipv4Addr::new(10, 0, 0, ip)));
            list.push_srv("_web._tcp.marathon.mesos.", &name, 31000 + u16::from(ip));
            list.end_task();
        }
        list
    }

    fn carrying(ids: &[&str]) -> BTreeMap<String, Why> {
        ids.iter().map(|id| ((*id).to_owned(), Why::Recovering)).collect()
    }

    #[test]
    fn the_carried_agents_tasks_move_with_their_records_and_reverse_marks() {
        let list = list_with_tasks();
        let records = Records::build(zone(), &list, 1).with_list(list);
        assert!(take(&records, &carrying(&[])).is_empty());
        let tasks = take(&records, &carrying(&["a2"]));
        let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["web.2", "db.1"]);
        assert_eq!(per_agent(&tasks).get("a2"), Some(&2));
        let web2 = &tasks[0];
        assert_eq!(web2.records.len(), 2);
        assert_eq!(
            web2.records[0],
            (
                Record {
                    name: "web.marathon.mesos.".into(),
                    data: RData::A(Ipv4Addr::new(10, 0, 0, 2))
                },
                true
            )
        );
        // Into a list that no longer has the framework nor the agent.
        let mut next = RecordList::new();
        add_to_list(&mut next, &tasks);
        assert_eq!(next.frameworks().collect::<Vec<_>>(), ["marathon"]);
        assert_eq!(next.tasks().len(), 2);
        assert_eq!(next.task_agent(1), "a2");
        assert!(next.contains("db.marathon.mesos.", &RData::A(Ipv4Addr::new(10, 0, 0, 3))));
        assert_eq!(next.reverse().count(), 2, "PTR marks are kept");
        // Carried again from the snapshot built from it (a second step while still carrying).
        let again = Records::build(zone(), &next, 2).with_list(next);
        assert_eq!(take(&again, &carrying(&["a2"])), tasks);
    }
}
