//! `/v1/enumerate` of a snapshot kept up to date by edits (stream mode, polls as edits): the same
//! document, read from the snapshot's task table instead of a record list. The frameworks in state
//! order, under each the tasks of the table that are its (in slot order: the table keeps no generation
//! order), each with its records, made again from what the table keeps of the task as it is reached; a
//! record two tasks share is listed under each.

use super::{open_framework, open_task, push_host, push_record, At, Enumerate};
use crate::http::body::Fill;
use crate::snapshot::{Data, RData, TaskTable};

impl Enumerate {
    pub(super) fn fill_tasks(&mut self, table: &TaskTable, out: &mut Vec<u8>, budget: usize) -> Fill {
        let stop = out.len().saturating_add(budget);
        let frameworks = table.frameworks();
        let slots = table.slot_bound();
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
                    let Some(name) = frameworks.get(self.framework) else {
                        out.extend_from_slice(b"]}\n");
                        self.at = At::Done;
                        continue;
                    };
                    open_framework(out, self.framework, name);
                    self.task = 0;
                    self.at = At::Task { first: true };
                }
                At::Task { first } => {
                    if self.task >= slots {
                        out.extend_from_slice(b"]}");
                        self.framework += 1;
                        self.at = At::Framework;
                        continue;
                    }
                    match table.get(self.task) {
                        Some(task) if task.framework as usize == self.framework => {
                            open_task(out, first, &task.id(), task.name());
                            self.task_records = table.stored_records(&task);
                            self.entry = 0;
                            self.at = At::Record { first: true };
                        }
                        _ => self.task += 1,
                    }
                }
                At::Record { first } => {
                    let Some(r) = self.task_records.get(self.entry) else {
                        out.extend_from_slice(b"]}");
                        self.task_records = Vec::new();
                        self.task += 1;
                        self.at = At::Task { first: false };
                        continue;
                    };
                    let (data, target) = match &r.data {
                        RData::A(ip) => (Data::A(ip.octets()), ""),
                        RData::Aaaa(ip) => (Data::Aaaa(ip.octets()), ""),
                        RData::Srv { target, port } => (Data::Srv { target: 0, port: *port }, target.as_str()),
                        // (A task's records are addresses and SRV records only.)
                        RData::Cname(_) | RData::Txt(_) => {
                            self.entry += 1;
                            continue;
                        }
                    };
                    let text = &mut self.text;
                    push_record(out, first, &r.owner, |out| push_host(out, data, target, text));
                    self.entry += 1;
                    self.at = At::Record { first: false };
                }
            }
        }
        match self.at {
            At::Done => Fill::Done,
            _ => Fill::More,
        }
    }
}
