//! `/v1/enumerate` of a snapshot kept up to date by edits (stream mode): the same document, read from
//! the snapshot's task table instead of a record list. The frameworks in state order, under each the
//! tasks of the table that are its (in slot order: the table keeps no generation order), each with its
//! records; a record two tasks share is listed under each.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{At, Enumerate};
use crate::http::body::{json_display, json_str, Fill};
use crate::snapshot::{Data, Records, TaskTable};
use crate::wire::wire_to_text;

impl Enumerate {
    pub(super) fn fill_tasks(
        &mut self,
        records: &Records,
        table: &TaskTable,
        out: &mut Vec<u8>,
        budget: usize,
    ) -> Fill {
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
                    if self.framework > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"name\":");
                    json_str(out, name);
                    out.extend_from_slice(b",\"tasks\":[");
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
                            if !first {
                                out.push(b',');
                            }
                            out.extend_from_slice(b"{\"id\":");
                            json_str(out, &task.id);
                            out.extend_from_slice(b",\"name\":");
                            json_str(out, &task.name);
                            out.extend_from_slice(b",\"records\":[");
                            self.entry = 0;
                            self.at = At::Record { first: true };
                        }
                        _ => self.task += 1,
                    }
                }
                At::Record { first } => {
                    let Some((task, r)) = table.get(self.task).and_then(|t| Some((t, t.records.get(self.entry)?)))
                    else {
                        out.extend_from_slice(b"]}");
                        self.task += 1;
                        self.at = At::Task { first: false };
                        continue;
                    };
                    if !first {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"host\":");
                    let rtype = match task.data(r) {
                        Data::A(ip) => {
                            json_display(out, Ipv4Addr::from(ip));
                            "A"
                        }
                        Data::Aaaa(ip) => {
                            json_display(out, Ipv6Addr::from(ip));
                            "AAAA"
                        }
                        Data::Srv { target, port } => {
                            self.text.clear();
                            self.text
                                .push_str(&records.name(target).map(wire_to_text).unwrap_or_default());
                            self.text.push(':');
                            self.text.push_str(&port.to_string());
                            json_str(out, &self.text);
                            "SRV"
                        }
                        Data::Other(_) => {
                            json_str(out, "");
                            "TXT"
                        }
                    };
                    out.extend_from_slice(b",\"name\":");
                    json_str(out, &records.name(r.owner).map(wire_to_text).unwrap_or_default());
                    out.extend_from_slice(b",\"rtype\":");
                    json_str(out, rtype);
                    out.push(b'}');
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
