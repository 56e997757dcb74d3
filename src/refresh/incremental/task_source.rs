//! What the task table keeps of a task so that its records can be made again ([`Generator`], the
//! table's [`Regenerate`]): its *source*, the parts of the task that record generation reads and that
//! can differ from task to task, in a few bytes (its port ranges, the addresses its status offers,
//! its discovery name and ports: about ten bytes for most tasks, where its ten records took 120).
//! Its name and id are the table's; its agent and framework are the table's by position; the
//! generator's settings and its view of the agents and frameworks do not change while a table lives
//! (a change to either is a full build, which starts a new table with a new generator), so the
//! records made again are the records its edit added. What the source leaves out cannot have hidden
//! the task: it is in the table, so its labels, its visibility and its health let it through, and
//! leaving them out lets it through again. A task carried over by a failover has no state behind it:
//! its source is its records themselves. Pure.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};

use crate::mesos::state::{
    ContainerStatus, Discovery, DiscoveryPort, DiscoveryPorts, IpAddress, Label, NetworkInfo, Resources, Status, Task,
};
use crate::records::generate::{TaskGen, DOCKER_IP_LABEL, MESOS_IP_LABEL};
use crate::refresh::carried::{self, CarriedTask};
use crate::refresh::varint::{Reader, Writer};
use crate::snapshot::{RData, Record, RecordList, Regenerate, TaskEntry};

/// The first byte of a source: a task of the state, whose records are generated again.
const TASK: u8 = 0;
/// The first byte of a source: a carried task, whose records follow.
const CARRIED: u8 = 1;

/// Where a status address comes from ([`crate::config::IpSource`]'s three that read the status).
const NETINFO: u8 = 0;
const DOCKER: u8 = 1;
const MESOS: u8 = 2;
/// Set on an address's source byte: IPv6 (16 bytes follow, else 4).
const V6: u8 = 4;

/// A carried record's kind (the first byte of each); [`REVERSE`] marks a PTR too.
const A: u8 = 0;
const AAAA: u8 = 1;
const SRV: u8 = 2;
const REVERSE: u8 = 0x80;

/// The table's generator: the refresher's, shared with the tables it fills (`/v1/enumerate` and a
/// failover's carry read a published table on other steps). The lock guards the generator's scratch
/// space, not the records: it is held for one task's generation at a time.
pub(crate) struct Generator {
    gen: Mutex<TaskGen>,
}

impl Generator {
    pub(crate) fn new(gen: TaskGen) -> Generator {
        Generator { gen: Mutex::new(gen) }
    }

    /// The records of one task of framework `framework` (its index in the state), in a one-task list.
    pub(crate) fn task(&self, framework: usize, task: &Task<'_>) -> RecordList {
        self.gen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .task_unnamed(framework, task)
    }
}

impl Regenerate for Generator {
    fn records(&self, entry: &TaskEntry<'_>, agent: &str, frameworks: &[String]) -> RecordList {
        let mut r = Reader(entry.source);
        match r.byte() {
            TASK => self.task(entry.framework as usize, &task_of(entry, agent, r)),
            CARRIED => {
                let Some(framework) = frameworks.get(entry.framework as usize) else {
                    return RecordList::new();
                };
                let task = CarriedTask {
                    framework: framework.clone(),
                    name: entry.name().to_owned(),
                    id: entry.id().into_owned(),
                    agent: agent.to_owned(),
                    records: carried_records(r),
                };
                carried_list(frameworks, &task)
            }
            _ => RecordList::new(),
        }
    }
}

/// The one-task list of a carried task (its framework's index is its index in `frameworks`).
pub(super) fn carried_list(frameworks: &[String], task: &CarriedTask) -> RecordList {
    let mut list = RecordList::new();
    for f in frameworks {
        list.add_framework(f);
    }
    carried::add_to_list(&mut list, std::slice::from_ref(task));
    list
}

/// Writes the source of `task` (a task of the state, with records) to `out` (cleared first).
pub(super) fn write_task(task: &Task<'_>, out: &mut Vec<u8>) {
    out.clear();
    out.push(TASK);
    let mut w = Writer(out);
    // The ports as ranges of consecutive ones, in order (at most `MAX_PORTS_PER_TASK`, as read),
    // then their count moved in front of them: the ports are read once, and no list of them is made
    // (a start writes a million sources).
    let at = w.0.len();
    let mut n = 0u64;
    let mut range: Option<(u16, u16)> = None;
    for port in task.resources.all_ports() {
        match &mut range {
            Some((_, hi)) if hi.checked_add(1) == Some(port) => *hi = port,
            _ => {
                if let Some((lo, hi)) = range.replace((port, port)) {
                    range_to(&mut w, lo, hi);
                    n += 1;
                }
            }
        }
    }
    if let Some((lo, hi)) = range {
        range_to(&mut w, lo, hi);
        n += 1;
    }
    count_in_front(&mut w, at, n);
    // The addresses the latest `TASK_RUNNING` status offers, by source, in order (their count moved
    // in front too).
    let at = w.0.len();
    let mut n = 0u64;
    let mut addr = |source: u8, text: &str| {
        let Ok(ip) = text.parse::<IpAddr>() else { return };
        match ip {
            IpAddr::V4(a) => {
                w.0.push(source);
                w.0.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                w.0.push(source | V6);
                w.0.extend_from_slice(&a.octets());
            }
        }
        n += 1;
    };
    if let Some(s) = task.latest_running_status() {
        for ni in &s.container_status.network_infos {
            if ni.ip_addresses.is_empty() {
                addr(NETINFO, &ni.ip_address);
            }
            for a in &ni.ip_addresses {
                addr(NETINFO, &a.ip_address);
            }
        }
        for l in &s.labels {
            match &*l.key {
                DOCKER_IP_LABEL => addr(DOCKER, &l.value),
                MESOS_IP_LABEL => addr(MESOS, &l.value),
                _ => {}
            }
        }
    }
    count_in_front(&mut w, at, n);
    // The discovery name (most often the task's own: written as such), then its ports.
    let d = &task.discovery;
    match &*d.name {
        "" => w.varint(0),
        same if same == &*task.name => w.varint(1),
        name => {
            w.varint(name.len() as u64 + 2);
            w.0.extend_from_slice(name.as_bytes());
        }
    }
    w.varint(d.ports.ports.len() as u64);
    for p in &d.ports.ports {
        w.varint(p.number.map_or(0, |n| u64::from(n) + 1));
        w.str(&p.name);
        w.str(&p.protocol);
    }
}

/// One port range, `lo..=hi`, as its low port and its length less one.
fn range_to(w: &mut Writer<'_>, lo: u16, hi: u16) {
    w.varint(u64::from(lo));
    w.varint(u64::from(hi.saturating_sub(lo)));
}

/// Writes `n`, the count of the items written from `at` on, in front of them.
fn count_in_front(w: &mut Writer<'_>, at: usize, n: u64) {
    let end = w.0.len();
    w.varint(n);
    let len = w.0.len() - end;
    if let Some(items) = w.0.get_mut(at..) {
        items.rotate_right(len);
    }
}

/// The task `entry` holds the source of, as generation reads it.
fn task_of<'a>(entry: &TaskEntry<'a>, agent: &'a str, mut r: Reader<'a>) -> Task<'a> {
    let port_ranges = (0..r.count())
        .map(|_| {
            let lo = r.varint() as u16;
            (lo, lo.saturating_add(r.varint() as u16))
        })
        .collect();
    let mut status = Status {
        state: Cow::Borrowed("TASK_RUNNING"),
        ..Status::default()
    };
    let mut netinfo = Vec::new();
    for _ in 0..r.count() {
        let kind = r.byte();
        let ip = match kind & V6 {
            0 => IpAddr::V4(Ipv4Addr::from(r.array::<4>())),
            _ => IpAddr::V6(Ipv6Addr::from(r.array::<16>())),
        };
        let text = Cow::Owned(ip.to_string());
        match kind & !V6 {
            NETINFO => netinfo.push(IpAddress {
                ip_address: text,
                protocol: Cow::Borrowed(""),
            }),
            DOCKER => status.labels.push(Label {
                key: Cow::Borrowed(DOCKER_IP_LABEL),
                value: text,
            }),
            _ => status.labels.push(Label {
                key: Cow::Borrowed(MESOS_IP_LABEL),
                value: text,
            }),
        }
    }
    if !netinfo.is_empty() {
        status.container_status = ContainerStatus {
            network_infos: vec![NetworkInfo {
                ip_addresses: netinfo,
                ip_address: Cow::Borrowed(""),
            }],
        };
    }
    let statuses = match status.labels.is_empty() && status.container_status.network_infos.is_empty() {
        true => Vec::new(),
        false => vec![status],
    };
    let name = match r.varint() {
        0 => "",
        1 => entry.name(),
        n => r.bytes(n as usize - 2),
    };
    let ports = (0..r.count())
        .map(|_| DiscoveryPort {
            number: r.varint().checked_sub(1).map(|n| n as u16),
            name: Cow::Borrowed(r.str()),
            protocol: Cow::Borrowed(r.str()),
        })
        .collect();
    Task {
        id: entry.id(),
        name: Cow::Borrowed(entry.name()),
        slave_id: Cow::Borrowed(agent),
        state: Cow::Borrowed("TASK_RUNNING"),
        resources: Resources {
            ports: Cow::Borrowed(""),
            port_ranges,
        },
        statuses,
        discovery: Discovery {
            name: Cow::Borrowed(name),
            visibility: Cow::Borrowed(""),
            ports: DiscoveryPorts { ports },
        },
        ..Task::default()
    }
}

/// Writes the source of a carried task (its records) to `out` (cleared first).
pub(super) fn write_carried(task: &CarriedTask, out: &mut Vec<u8>) {
    out.clear();
    out.push(CARRIED);
    let mut w = Writer(out);
    let kept = |r: &&(Record, bool)| matches!(r.0.data, RData::A(_) | RData::Aaaa(_) | RData::Srv { .. });
    w.varint(task.records.iter().filter(kept).count() as u64);
    for (record, reverse) in task.records.iter().filter(kept) {
        let back = if *reverse { REVERSE } else { 0 };
        match &record.data {
            RData::A(ip) => {
                w.0.push(A | back);
                w.str(&record.name);
                w.0.extend_from_slice(&ip.octets());
            }
            RData::Aaaa(ip) => {
                w.0.push(AAAA | back);
                w.str(&record.name);
                w.0.extend_from_slice(&ip.octets());
            }
            RData::Srv { target, port } => {
                w.0.push(SRV);
                w.str(&record.name);
                w.varint(u64::from(*port));
                w.str(target);
            }
            RData::Cname(_) | RData::Txt(_) => {}
        }
    }
}

/// A carried task's records, read back.
fn carried_records(mut r: Reader<'_>) -> Vec<(Record, bool)> {
    (0..r.count())
        .map(|_| {
            let kind = r.byte();
            let name = r.str().to_owned();
            let data = match kind & !REVERSE {
                A => RData::A(Ipv4Addr::from(r.array::<4>())),
                AAAA => RData::Aaaa(Ipv6Addr::from(r.array::<16>())),
                _ => {
                    let port = r.varint() as u16;
                    RData::Srv {
                        target: r.str().to_owned(),
                        port,
                    }
                }
            };
            (Record { name, data }, kind & REVERSE != 0)
        })
        .collect()
}

#[cfg(test)]
mod tests;
