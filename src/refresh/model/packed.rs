//! The model's compact form of a task ([`Packed`]): every field of a [`Task`] that the model keeps,
//! back to back in one buffer (lengths as LEB128 varints, the common states as one byte, the agent
//! id as an index into an [`Interner`]), read in place ([`PackedRef`], wherever the bytes are kept)
//! as a [`Task`] that borrows from it ([`PackedRef::unpack`]). A task costs about a sixth of the
//! memory it took as a `Task<'static>` of owned strings (one allocation, not fifteen). Pure.
//!
//! The form is lossless for what the model keeps: unpacking gives the task that was packed, with
//! only its latest `TASK_RUNNING` status (the one record generation reads), as the model has always
//! kept it, and its ports as the numeric ranges they read as ([`all_port_ranges`]: the same ports,
//! their text read once). The framework id is not stored: a task lives under its framework, which
//! names it.
//! Reading never panics: a short or garbled buffer (there is none: only [`Packed::pack`] writes them)
//! reads as empty fields.
//!
//! [`all_port_ranges`]: crate::mesos::state::Resources::all_port_ranges

use std::borrow::Cow;

use crate::mesos::state::{DiscoveryPort, IpAddress, Label, NetworkInfo, Status, Task};
use crate::refresh::hash_index::HashIndex;
use crate::refresh::varint::{Reader, Writer};

/// States written as one byte (their index plus one); 0 means the text follows.
const STATES: [&str; 15] = [
    "TASK_RUNNING",
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_KILLING",
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_DROPPED",
    "TASK_GONE",
    "TASK_GONE_BY_OPERATOR",
    "TASK_UNREACHABLE",
    "TASK_UNKNOWN",
    "",
];

/// Strings kept once and named by index (the agent ids tasks run on: thousands of agents, a
/// million tasks, each interned as it is read). The strings are kept back to back in one buffer and
/// found through a [`HashIndex`] whose entries say where their string is: a look-up touches a small
/// table and one place in the text, where a map of boxed strings missed the cache twice (a tenth of a
/// poll's model).
#[derive(Debug, Default)]
pub(crate) struct Interner {
    /// The strings back to back.
    text: String,
    /// Where each string ends in `text`.
    ends: Vec<usize>,
    index: HashIndex<Box<str>, Slot>,
}

/// An [`Interner`]'s index entry: a string's index and where it is in the text (`u32::MAX` for both
/// ends past 4 GiB of text, when `ends` says).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Slot {
    index: u32,
    start: u32,
    end: u32,
}

impl Interner {
    /// The index of `name`, added if new.
    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        let next = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
        let (start, end) = (self.text.len(), self.text.len() + name.len());
        let slot = match (u32::try_from(start), u32::try_from(end)) {
            (Ok(start), Ok(end)) if end < u32::MAX => Slot {
                index: next,
                start,
                end,
            },
            _ => Slot {
                index: next,
                start: u32::MAX,
                end: u32::MAX,
            },
        };
        let (text, ends) = (&self.text, &self.ends);
        let holds = |s: Slot| match s.end {
            u32::MAX => string_at(text, ends, s.index) == name,
            _ => text.as_bytes().get(s.start as usize..s.end as usize) == Some(name.as_bytes()),
        };
        if let Some(found) = self.index.get_or_insert(name, holds, || name.into(), slot) {
            return found.index;
        }
        self.text.push_str(name);
        self.ends.push(self.text.len());
        next
    }

    /// The string at `i` (empty when there is none).
    pub(crate) fn get(&self, i: u32) -> &str {
        string_at(&self.text, &self.ends, i)
    }

    /// Every string, by index.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.ends.len()).map(|i| string_at(&self.text, &self.ends, i as u32))
    }

    /// Gives back what growth left over.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.index.shrink_to_fit();
    }
}

/// The string `i` of an [`Interner`]'s `text` and `ends` (empty when there is none).
fn string_at<'a>(text: &'a str, ends: &[usize], i: u32) -> &'a str {
    let i = i as usize;
    let Some(&end) = ends.get(i) else {
        return "";
    };
    let start = match i.checked_sub(1) {
        Some(before) => ends.get(before).copied().unwrap_or(0),
        None => 0,
    };
    text.get(start..end).unwrap_or("")
}

/// Tasks packed as they are read (`SUBSCRIBED`'s, by the stream's thread), with the agent and
/// framework ids they name.
#[derive(Debug, Default)]
pub(crate) struct PackedTasks {
    /// The agent ids the packed tasks name.
    pub(crate) agents: Interner,
    /// The framework ids of the tasks (the first of each pair).
    pub(crate) frameworks: Interner,
    pub(crate) tasks: Vec<(u32, Packed)>,
}

impl PackedTasks {
    pub(crate) fn push(&mut self, task: &Task<'_>) {
        let agent = self.agents.intern(&task.slave_id);
        let framework = self.frameworks.intern(&task.framework_id);
        self.tasks.push((framework, Packed::pack(task, agent)));
    }

    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    /// The tasks unpacked, in order (for tests).
    #[cfg(test)]
    pub(crate) fn unpacked(&self) -> Vec<Task<'_>> {
        self.tasks
            .iter()
            .map(|(f, t)| t.unpack(self.frameworks.get(*f), &self.agents))
            .collect()
    }
}

/// One task, packed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Packed(Box<[u8]>);

impl Packed {
    /// A task with only its id, packed at agent 0 (for tests of what keeps packed tasks).
    #[cfg(test)]
    pub(crate) fn of_id(id: &str) -> Packed {
        let task = Task {
            id: id.to_owned().into(),
            ..Task::default()
        };
        Packed::pack(&task, 0)
    }

    /// Packs `task`, with `agent` the index of its `slave_id` in the interner it will be read with,
    /// keeping only its latest `TASK_RUNNING` status.
    pub(crate) fn pack(task: &Task<'_>, agent: u32) -> Packed {
        let mut buf = Vec::with_capacity(128);
        Packed::pack_into(task, agent, &mut buf);
        Packed(buf.into_boxed_slice())
    }

    /// [`Packed::pack`] appended to `buf` (a [`super::list::TaskList`]'s buffer: no allocation a task).
    pub(crate) fn pack_into(task: &Task<'_>, agent: u32, buf: &mut Vec<u8>) {
        let mut w = Writer(buf);
        w.str(&task.id);
        w.str(&task.name);
        w.varint(u64::from(agent));
        w.state(&task.state);
        // The ports as the ranges they read as (text and numbers alike: the text is read once here,
        // not at every generation), their count moved in front of them.
        let at = w.0.len();
        let mut ranges = 0u64;
        for (lo, hi) in task.resources.all_port_ranges() {
            w.varint(u64::from(lo));
            w.varint(u64::from(hi));
            ranges += 1;
        }
        let end = w.0.len();
        w.varint(ranges);
        let count = w.0.len() - end;
        if let Some(items) = w.0.get_mut(at..) {
            items.rotate_right(count);
        }
        match task.latest_running_status() {
            None => w.varint(0),
            Some(s) => {
                w.varint(1);
                w.status(s);
            }
        }
        w.str(&task.discovery.name);
        w.str(&task.discovery.visibility);
        w.varint(task.discovery.ports.ports.len() as u64);
        for p in &task.discovery.ports.ports {
            w.varint(p.number.map_or(0, |n| u64::from(n) + 1));
            w.str(&p.name);
            w.str(&p.protocol);
        }
        w.labels(&task.labels);
    }

    /// The task, read in place.
    pub(crate) fn as_ref(&self) -> PackedRef<'_> {
        PackedRef(&self.0)
    }

    /// The task's id (read without unpacking the rest).
    pub(crate) fn id(&self) -> &str {
        self.as_ref().id()
    }

    /// The index of its agent in its interner, and its state.
    pub(crate) fn agent_and_state(&self) -> (u32, &str) {
        self.as_ref().agent_and_state()
    }

    /// See [`PackedRef::unpack`].
    #[cfg(test)]
    pub(crate) fn unpack<'a>(&'a self, framework_id: &'a str, agents: &'a Interner) -> Task<'a> {
        self.as_ref().unpack(framework_id, agents)
    }

    /// Bytes it holds (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// A packed task where it is kept (a [`Packed`], or a place in a [`super::list::TaskList`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PackedRef<'a>(pub(super) &'a [u8]);

impl<'a> PackedRef<'a> {
    /// The task's id (read without unpacking the rest).
    pub(crate) fn id(self) -> &'a str {
        Reader(self.0).str()
    }

    /// The index of its agent in its interner (its id and name stepped over, not read as text).
    pub(crate) fn agent(self) -> u32 {
        let mut r = Reader(self.0);
        for _ in 0..2 {
            let n = usize::try_from(r.varint()).unwrap_or(usize::MAX);
            r.0 = r.0.get(n..).unwrap_or_default();
        }
        r.varint() as u32
    }

    /// The index of its agent in its interner, and its state.
    pub(crate) fn agent_and_state(self) -> (u32, &'a str) {
        let mut r = Reader(self.0);
        r.str();
        r.str();
        let agent = r.varint() as u32;
        (agent, r.state())
    }

    /// The task, borrowing from this and from `agents` (the interner its agent index is from);
    /// `framework_id` is its framework's.
    pub(crate) fn unpack(self, framework_id: &'a str, agents: &'a Interner) -> Task<'a> {
        let mut task = Task::default();
        self.unpack_into(framework_id, agents, &mut task);
        task
    }

    /// [`unpack`](Self::unpack) into `task`, whose lists keep their room (a refresh reads a million
    /// tasks in turn into one, with no allocation each); returns the index of its agent in `agents`.
    pub(crate) fn unpack_into(self, framework_id: &'a str, agents: &'a Interner, task: &mut Task<'a>) -> u32 {
        let mut r = Reader(self.0);
        task.id = Cow::Borrowed(r.str());
        task.name = Cow::Borrowed(r.str());
        task.framework_id = Cow::Borrowed(framework_id);
        let agent = r.varint() as u32;
        task.slave_id = Cow::Borrowed(agents.get(agent));
        task.state = Cow::Borrowed(r.state());
        task.resources.ports = Cow::Borrowed("");
        let ranges = r.count();
        let port_ranges = &mut task.resources.port_ranges;
        port_ranges.clear();
        port_ranges.extend((0..ranges).map(|_| (r.varint() as u16, r.varint() as u16)));
        let statuses = r.count();
        task.statuses.truncate(statuses);
        for i in 0..statuses {
            match task.statuses.get_mut(i) {
                Some(status) => r.status_into(status),
                None => {
                    let mut status = Status::default();
                    r.status_into(&mut status);
                    task.statuses.push(status);
                }
            }
        }
        task.discovery.name = Cow::Borrowed(r.str());
        task.discovery.visibility = Cow::Borrowed(r.str());
        let ports = r.count();
        let discovery_ports = &mut task.discovery.ports.ports;
        discovery_ports.clear();
        discovery_ports.extend((0..ports).map(|_| DiscoveryPort {
            number: r.varint().checked_sub(1).map(|n| n as u16),
            name: Cow::Borrowed(r.str()),
            protocol: Cow::Borrowed(r.str()),
        }));
        r.labels_into(&mut task.labels);
        agent
    }
}

/// The packed form's own fields, on the shared byte form.
impl Writer<'_> {
    fn state(&mut self, s: &str) {
        match STATES.iter().position(|k| *k == s) {
            Some(i) => self.0.push(i as u8 + 1),
            None => {
                self.0.push(0);
                self.str(s);
            }
        }
    }

    fn labels(&mut self, labels: &[Label<'_>]) {
        self.varint(labels.len() as u64);
        for l in labels {
            self.str(&l.key);
            self.str(&l.value);
        }
    }

    fn status(&mut self, s: &Status<'_>) {
        self.state(&s.state);
        self.0.extend_from_slice(&s.timestamp.to_bits().to_le_bytes());
        self.0.push(match s.healthy {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
        self.labels(&s.labels);
        let networks = &s.container_status.network_infos;
        self.varint(networks.len() as u64);
        for n in networks {
            self.varint(n.ip_addresses.len() as u64);
            for a in &n.ip_addresses {
                self.str(&a.ip_address);
                self.str(&a.protocol);
            }
            self.str(&n.ip_address);
        }
    }
}

/// Reads what the [`Writer`] methods above wrote.
impl<'a> Reader<'a> {
    fn state(&mut self) -> &'a str {
        match self.byte() {
            0 => self.str(),
            k => STATES.get(usize::from(k) - 1).copied().unwrap_or_default(),
        }
    }

    /// Labels into `labels`, which keeps its room.
    fn labels_into(&mut self, labels: &mut Vec<Label<'a>>) {
        let n = self.count();
        labels.clear();
        labels.extend((0..n).map(|_| Label {
            key: Cow::Borrowed(self.str()),
            value: Cow::Borrowed(self.str()),
        }));
    }

    /// A status into `status`, whose labels keep their room.
    fn status_into(&mut self, status: &mut Status<'a>) {
        status.state = Cow::Borrowed(self.state());
        let mut ts = [0u8; 8];
        for b in &mut ts {
            *b = self.byte();
        }
        status.timestamp = f64::from_bits(u64::from_le_bytes(ts));
        status.healthy = match self.byte() {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        };
        self.labels_into(&mut status.labels);
        // Networks in place too (a quarter of the tasks have one, read by every generation).
        let networks = self.count();
        let infos = &mut status.container_status.network_infos;
        infos.truncate(networks);
        infos.resize_with(networks, NetworkInfo::default);
        for info in infos {
            let addresses = self.count();
            info.ip_addresses.clear();
            info.ip_addresses.extend((0..addresses).map(|_| IpAddress {
                ip_address: Cow::Borrowed(self.str()),
                protocol: Cow::Borrowed(self.str()),
            }));
            info.ip_address = Cow::Borrowed(self.str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::state::{ContainerStatus, Discovery, DiscoveryPorts, Resources};

    fn text(s: &str) -> Cow<'static, str> {
        Cow::Owned(s.to_owned())
    }

    fn full_task() -> Task<'static> {
        let status = |state: &str, ts: f64, healthy| Status {
            state: text(state),
            timestamp: ts,
            healthy,
            labels: vec![Label {
                key: text("Docker.NetworkSettings.IPAddress"),
                value: text("172.17.0.2"),
            }],
            container_status: ContainerStatus {
                network_infos: vec![NetworkInfo {
                    ip_addresses: vec![
                        IpAddress {
                            ip_address: text("9.0.0.1"),
                            protocol: text("IPv4"),
                        },
                        IpAddress {
                            ip_address: text("fd01::1"),
                            protocol: text(""),
                        },
                    ],
                    ip_address: text("9.0.0.9"),
                }],
            },
        };
        Task {
            id: text("web.7f3c-11e9"),
            name: text("wéb"),
            framework_id: text("f1"),
            slave_id: text("a1"),
            state: text("TASK_RUNNING"),
            resources: Resources {
                ports: text("[31000-31002, 32000-32000]"),
                port_ranges: vec![(1, 2), (65535, 65535)],
            },
            statuses: vec![
                status("TASK_RUNNING", 5.0, Some(true)),
                status("TASK_RUNNING", 9.5, Some(false)),
                status("TASK_STAGING", 99.0, None),
            ],
            discovery: Discovery {
                name: text("web-d"),
                visibility: text("FRAMEWORK"),
                ports: DiscoveryPorts {
                    ports: vec![
                        DiscoveryPort {
                            number: Some(0),
                            name: text("http"),
                            protocol: text("tcp"),
                        },
                        DiscoveryPort {
                            number: None,
                            name: text(""),
                            protocol: text("udp"),
                        },
                    ],
                },
            },
            labels: vec![Label {
                key: text("team"),
                value: text("x".repeat(300).as_str()),
            }],
        }
    }

    #[test]
    fn a_task_unpacks_as_packed_with_only_its_latest_running_status() {
        let mut agents = Interner::default();
        agents.intern("a0");
        let task = full_task();
        let packed = Packed::pack(&task, agents.intern(&task.slave_id));
        let mut want = full_task();
        want.statuses = vec![want.statuses.remove(1)];
        want.resources = Resources {
            ports: text(""),
            port_ranges: vec![(31000, 31002), (32000, 32000), (1, 2), (65535, 65535)],
        };
        assert_eq!(packed.unpack("f1", &agents), want);
        assert_eq!(packed.id(), "web.7f3c-11e9");
        assert_eq!(packed.agent_and_state(), (1, "TASK_RUNNING"));
        assert_eq!(packed.as_ref().agent(), 1);
        assert!(packed.len() < 600, "{}", packed.len());
    }

    #[test]
    fn unpacking_into_one_task_in_turn_gives_each_as_unpacked() {
        let mut agents = Interner::default();
        let full = Packed::pack(&full_task(), agents.intern("a1"));
        let bare = Task {
            id: text("b"),
            ..Task::default()
        };
        let bare = Packed::pack(&bare, agents.intern("a2"));
        let mut task = Task::default();
        for packed in [&full, &bare, &full, &full, &bare, &full] {
            let agent = packed.as_ref().unpack_into("f1", &agents, &mut task);
            assert_eq!(task, packed.unpack("f1", &agents));
            assert_eq!(agent, packed.agent_and_state().0);
        }
        assert_eq!(agents.iter().collect::<Vec<_>>(), ["a1", "a2"]);
    }

    #[test]
    fn unknown_states_and_empty_tasks_round_trip() {
        let agents = Interner::default();
        let mut task = Task {
            state: text("TASK_SOMETHING_NEW"),
            ..Task::default()
        };
        let packed = Packed::pack(&task, 0);
        assert_eq!(packed.unpack("", &agents), task);
        task.state = text("");
        assert_eq!(Packed::pack(&task, 0).unpack("", &agents), task);
        // A task with no running status keeps none.
        task.statuses.push(Status {
            state: text("TASK_STAGING"),
            ..Status::default()
        });
        assert!(Packed::pack(&task, 0).unpack("", &agents).statuses.is_empty());
    }

    #[test]
    fn interned_names_keep_their_index_and_read_back() {
        let names: Vec<String> = (0..2000).map(|i| format!("agent-{}-S{i}", i % 7)).collect();
        let mut colliding = Interner::default();
        colliding.index.colliding = true;
        for mut interner in [Interner::default(), colliding] {
            for (i, name) in names.iter().enumerate() {
                assert_eq!(interner.intern(name), i as u32);
            }
            // Again, and an empty name: the same indexes, one more name.
            for (i, name) in names.iter().enumerate().rev() {
                assert_eq!(interner.intern(name), i as u32);
            }
            assert_eq!(interner.intern(""), 2000);
            assert_eq!(interner.intern(""), 2000);
            interner.shrink_to_fit();
            assert_eq!(interner.get(7), names[7]);
            assert_eq!(interner.get(2000), "");
            assert_eq!(interner.get(2001), "");
            assert_eq!(interner.get(u32::MAX), "");
            assert!(interner.iter().take(2000).eq(names.iter().map(|n| n.as_str())));
            assert_eq!(interner.iter().len(), 2001);
        }
    }

    #[test]
    fn a_cut_buffer_reads_as_empty_fields() {
        let agents = Interner::default();
        let full = Packed::pack(&full_task(), 0);
        for n in 0..full.len() {
            let cut = Packed(full.0[..n].into());
            let _ = cut.unpack("f", &agents);
            let _ = cut.agent_and_state();
            let _ = cut.as_ref().agent();
        }
        let garbage = Packed(vec![0xff; 40].into_boxed_slice());
        let _ = garbage.unpack("f", &agents);
    }
}
