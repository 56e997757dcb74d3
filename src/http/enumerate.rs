//! `/v1/enumerate` (the original's `EnumerationData`) as a [`Cursor`] over one snapshot's record list:
//! every framework of the state in state order, tasks or not, and two of the same name apart; under
//! each its running tasks in generation order, each with the records generated for it
//! (`{"host", "name", "rtype"}`; a record two tasks share is listed under the first). Static records
//! (`staticRecordsFile`) belong to no task and are not listed: `/v1/axfr` shows them.
//!
//! One pass in generation order, which is the document's order: the generator lists a framework's
//! tasks together and in framework order, and pushes a task's records between its `begin_task` and
//! `end_task`, so the tasks of framework `f` follow those of `f - 1` and the records of task `t`
//! follow those of `t - 1`. Keys are written in sorted order, as `serde_json` writes the same value.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use super::body::{json_display, json_str, Cursor, Fill};
use crate::snapshot::{Data, Records};

mod tasks;

/// Where the cursor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Head,
    /// Before framework `framework`'s entry.
    Framework,
    /// Inside framework `framework`'s task list, before task `task` (if it is one of this framework's).
    Task {
        first: bool,
    },
    /// Inside task `task`'s record list, the next candidate record at `entry`.
    Record {
        first: bool,
    },
    Done,
}

/// The `/v1/enumerate` document of one snapshot.
pub(super) struct Enumerate {
    records: Arc<Records>,
    at: At,
    framework: usize,
    task: usize,
    entry: usize,
    /// Scratch for an SRV record's `target:port`.
    text: String,
    /// The records of task `task`, made again from an edited snapshot's task table.
    task_records: Vec<crate::snapshot::TaskRecord>,
}

impl Enumerate {
    pub(super) fn new(records: Arc<Records>) -> Enumerate {
        Enumerate {
            records,
            at: At::Head,
            framework: 0,
            task: 0,
            entry: 0,
            text: String::new(),
            task_records: Vec::new(),
        }
    }
}

impl Cursor for Enumerate {
    fn fill(&mut self, out: &mut Vec<u8>, budget: usize) -> Fill {
        if self.records.list().is_none() && self.records.tasks().is_some() {
            let records = Arc::clone(&self.records);
            if let Some(table) = records.tasks() {
                return self.fill_tasks(table, out, budget);
            }
        }
        let Some(list) = self.records.list() else {
            if self.at != At::Done {
                out.extend_from_slice(b"{\"frameworks\":[]}\n");
                self.at = At::Done;
            }
            return Fill::Done;
        };
        let stop = out.len().saturating_add(budget);
        let frameworks = list.frameworks().len();
        // Records skipped (of no task) count against the budget too: a scan stays bounded.
        let mut steps = 0usize;
        while out.len() < stop && steps < budget {
            steps += 1;
            match self.at {
                At::Done => return Fill::Done,
                At::Head => {
                    out.extend_from_slice(b"{\"frameworks\":[");
                    self.at = At::Framework;
                }
                At::Framework => {
                    let Some(name) = list.frameworks().nth(self.framework) else {
                        out.extend_from_slice(b"]}\n");
                        self.at = At::Done;
                        continue;
                    };
                    open_framework(out, self.framework, name);
                    self.at = At::Task { first: true };
                }
                At::Task { first } => match list.task(self.task) {
                    Some(task) if task.framework_index == self.framework => {
                        open_task(out, first, task.id, task.name);
                        self.at = At::Record { first: true };
                    }
                    _ => {
                        out.extend_from_slice(b"]}");
                        self.framework += 1;
                        self.at = if self.framework < frameworks {
                            At::Framework
                        } else {
                            out.extend_from_slice(b"]}\n");
                            At::Done
                        };
                    }
                },
                At::Record { first } => match list.entry_at(self.entry) {
                    // Records of no task, or of an earlier one (none, as generated), are not listed.
                    Some((None, _, _)) => self.entry += 1,
                    Some((Some(task), _, _)) if task < self.task => self.entry += 1,
                    Some((Some(task), name, data)) if task == self.task => {
                        let text = &mut self.text;
                        push_record(out, first, list.text(name), |out| match data {
                            // Static records have no task, so none reaches here; listed as text anyway.
                            Data::Other(i) => match list.other(i) {
                                Some(crate::snapshot::RData::Cname(target)) => {
                                    json_str(out, target);
                                    "CNAME"
                                }
                                _ => {
                                    json_str(out, "");
                                    "TXT"
                                }
                            },
                            Data::Srv { target, .. } => push_host(out, data, list.text(target), text),
                            _ => push_host(out, data, "", text),
                        });
                        self.entry += 1;
                        self.at = At::Record { first: false };
                    }
                    _ => {
                        out.extend_from_slice(b"]}");
                        self.task += 1;
                        self.at = At::Task { first: false };
                    }
                },
            }
        }
        match self.at {
            At::Done => Fill::Done,
            _ => Fill::More,
        }
    }
}

/// A framework's entry up to its task list (after a comma unless it is the first).
fn open_framework(out: &mut Vec<u8>, index: usize, name: &str) {
    if index > 0 {
        out.push(b',');
    }
    out.extend_from_slice(b"{\"name\":");
    json_str(out, name);
    out.extend_from_slice(b",\"tasks\":[");
}

/// A task's entry up to its record list.
fn open_task(out: &mut Vec<u8>, first: bool, id: &str, name: &str) {
    if !first {
        out.push(b',');
    }
    out.extend_from_slice(b"{\"id\":");
    json_str(out, id);
    out.extend_from_slice(b",\"name\":");
    json_str(out, name);
    out.extend_from_slice(b",\"records\":[");
}

/// One record, `{"host":...,"name":...,"rtype":...}`: `host` writes the host and says the type.
fn push_record(out: &mut Vec<u8>, first: bool, name: &str, host: impl FnOnce(&mut Vec<u8>) -> &'static str) {
    if !first {
        out.push(b',');
    }
    out.extend_from_slice(b"{\"host\":");
    let rtype = host(out);
    out.extend_from_slice(b",\"name\":");
    json_str(out, name);
    out.extend_from_slice(b",\"rtype\":");
    json_str(out, rtype);
    out.push(b'}');
}

/// The host of an A or AAAA record (its address), or of an SRV record (`target:port`, built in
/// `text`); its type.
fn push_host(out: &mut Vec<u8>, data: Data, target: &str, text: &mut String) -> &'static str {
    match data {
        Data::A(ip) => {
            json_display(out, Ipv4Addr::from(ip));
            "A"
        }
        Data::Aaaa(ip) => {
            json_display(out, Ipv6Addr::from(ip));
            "AAAA"
        }
        Data::Srv { port, .. } => {
            text.clear();
            text.push_str(target);
            text.push(':');
            text.push_str(&port.to_string());
            json_str(out, text);
            "SRV"
        }
        Data::Other(_) => {
            json_str(out, "");
            "TXT"
        }
    }
}
