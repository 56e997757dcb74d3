//! serde types of the master's `/master/state` (and old `/master/state.json`) document, tolerant of old
//! (0.19-0.28) and new (1.x) masters, plus the small pure parser of the `ports` resource (`pid` strings
//! are read by [`crate::addr`]).
//!
//! Only the fields that record generation needs are typed; everything else is skipped. Every field is
//! optional, and a `null`, or a value of the wrong JSON type, where an object, array, string or number
//! is expected reads as the empty/default value instead of failing the whole document: one odd task must
//! not cost the cluster its DNS (the visitors that do this are [`lenient`]'s). Strings are borrowed from
//! the body unless they contain escapes.
//! This module does not decide what the fields mean for DNS; that is `records::generate`.

use std::borrow::Cow;

use serde::Deserialize;

use crate::addr::split_pid;

/// A master state document, borrowing its strings from the JSON text where it can. `T` is what a task
/// reads as: [`Task`], or [`Skipped`] for a [`Header`] (everything but the tasks, which
/// [`for_each_task`] then reads one at a time).
#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "T: Deserialize<'de> + Default"))]
pub struct State<'a, T = Task<'a>> {
    /// The leading master's pid, `master@10.0.0.1:5050`.
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub leader: Cow<'a, str>,
    /// This master's own pid.
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub pid: Cow<'a, str>,
    /// The host name of the master that served the document (its `pid`'s master).
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub hostname: Cow<'a, str>,
    /// The leading master's `MasterInfo` (Mesos 0.24 and later).
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub leader_info: MasterInfo<'a>,
    /// The agents (`slaves` in every Mesos version's state document).
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub slaves: Vec<Slave<'a>>,
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub frameworks: Vec<Framework<'a, T>>,
    /// When the leading master was elected, in Unix seconds (0 when absent): a newer one is a leader
    /// change even when the same master leads again.
    #[serde(deserialize_with = "lenient::float")]
    pub elected_time: f64,
    /// The agents a newly elected leader knows from its registry but that have not re-registered yet
    /// (`SlaveInfo`s: `id`, `hostname`, `port`); the document lists none of their tasks. `None` when the
    /// master does not send the field at all (an empty list is an answer: nobody is re-registering).
    #[serde(borrow, deserialize_with = "lenient::opt_array")]
    pub recovered_slaves: Option<Vec<Slave<'a>>>,
}

/// A state document without its tasks: what a refresh needs before it reads them one at a time.
pub(crate) type Header<'a> = State<'a, Skipped>;

/// A task that was not read (only counted).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Skipped;

impl<'de> Deserialize<'de> for Skipped {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Skipped)
    }
}

/// A master's `MasterInfo`; only its host name is read.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MasterInfo<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub hostname: Cow<'a, str>,
}

/// An agent.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Slave<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub id: Cow<'a, str>,
    /// `slave(1)@10.0.0.5:5051`.
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub pid: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub hostname: Cow<'a, str>,
    /// The agent's port when it is known apart from a `pid` (the operator API's `agent_info.port`);
    /// never read from a state document, whose `pid` carries the port.
    #[serde(skip)]
    pub port: Option<u16>,
    /// The agent's fault domain (Mesos 1.5+), for `preferLocalZone`.
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub domain: Domain<'a>,
}

/// An agent's `domain`: only its `fault_domain` is read.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Domain<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub fault_domain: FaultDomain<'a>,
}

/// The region and zone an agent is in (`fault_domain.region.name`, `fault_domain.zone.name`).
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct FaultDomain<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub region: Named<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub zone: Named<'a>,
}

/// A `{"name": ...}` object of a fault domain.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Named<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub name: Cow<'a, str>,
}

impl Domain<'_> {
    /// The agent's zone as (region, zone) names; `None` without a zone name (an agent with no
    /// domain has no zone).
    pub fn zone(&self) -> Option<(&str, &str)> {
        let fd = &self.fault_domain;
        (!fd.zone.name.is_empty()).then_some((&*fd.region.name, &*fd.zone.name))
    }

    /// The same domain owning its strings.
    pub fn to_owned_domain(&self) -> Domain<'static> {
        let named = |n: &Named<'_>| Named {
            name: Cow::Owned(n.name.to_string()),
        };
        Domain {
            fault_domain: FaultDomain {
                region: named(&self.fault_domain.region),
                zone: named(&self.fault_domain.zone),
            },
        }
    }
}

/// A framework (scheduler) and its current tasks.
#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "T: Deserialize<'de> + Default"))]
pub struct Framework<'a, T = Task<'a>> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub name: Cow<'a, str>,
    /// `scheduler(1)@10.0.0.7:25501`; absent for some frameworks.
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub pid: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub hostname: Cow<'a, str>,
    #[serde(deserialize_with = "lenient::array")]
    pub tasks: Vec<T>,
}

/// A task.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Task<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub framework_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub slave_id: Cow<'a, str>,
    /// `TASK_RUNNING`, `TASK_KILLED`, ...
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub resources: Resources<'a>,
    /// Only the latest `TASK_RUNNING` status is kept (all that record generation reads, see
    /// [`Task::latest_running_status`]): the rest are parsed and dropped, which keeps a 100k-task state small.
    #[serde(borrow, deserialize_with = "lenient::latest_running")]
    pub statuses: Vec<Status<'a>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub discovery: Discovery<'a>,
    /// Task labels (1.x: an array of `{key, value}`).
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub labels: Vec<Label<'a>>,
}

/// The resources of a task; only the port ranges matter here (`cpus`, `mem`, ... are skipped).
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Resources<'a> {
    /// `"[31000-31002, 31005-31005]"`: see [`parse_ports`].
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub ports: Cow<'a, str>,
    /// Port ranges given as numbers, `(begin, end)` (the operator API's `ranges.range[]`); never read
    /// from a state document, which has the text form.
    #[serde(skip)]
    pub port_ranges: Vec<(u16, u16)>,
}

/// One task status update.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Status<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub state: Cow<'a, str>,
    /// Seconds since the epoch, fractional.
    #[serde(deserialize_with = "lenient::float")]
    pub timestamp: f64,
    /// The task's health check result with this update; `None` when the task has no health check
    /// (the field is absent) or the value is not a boolean.
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub healthy: Option<bool>,
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub labels: Vec<Label<'a>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub container_status: ContainerStatus<'a>,
}

/// A `{key, value}` label.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Label<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub key: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub value: Cow<'a, str>,
}

/// The container part of a status (Mesos 0.25 and later).
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ContainerStatus<'a> {
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub network_infos: Vec<NetworkInfo<'a>>,
}

/// One network of a container.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct NetworkInfo<'a> {
    /// Mesos 0.26 and later.
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub ip_addresses: Vec<IpAddress<'a>>,
    /// Mesos 0.25: a single address.
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub ip_address: Cow<'a, str>,
}

/// One address of a container network.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct IpAddress<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub ip_address: Cow<'a, str>,
    /// `IPv4` or `IPv6`.
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub protocol: Cow<'a, str>,
}

/// A task's `DiscoveryInfo`.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Discovery<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub name: Cow<'a, str>,
    /// `FRAMEWORK`, `CLUSTER` or `EXTERNAL` (empty when absent), as both the state document and the
    /// operator API write the enum.
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub visibility: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub ports: DiscoveryPorts<'a>,
}

/// The `ports` object of a `DiscoveryInfo`.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DiscoveryPorts<'a> {
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub ports: Vec<DiscoveryPort<'a>>,
}

/// One named port of a `DiscoveryInfo`.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DiscoveryPort<'a> {
    /// `None` when absent or not a port number (0-65535).
    #[serde(deserialize_with = "lenient::port")]
    pub number: Option<u16>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub name: Cow<'a, str>,
    /// `tcp`, `udp`, or empty (both).
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub protocol: Cow<'a, str>,
}

/// Parses a state document. The body must be one JSON object; an array, a scalar or trailing text is
/// an error (a derived struct would otherwise accept an array positionally).
#[cfg(any(test, feature = "internals"))]
pub fn parse(body: &[u8]) -> Result<State<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let state = lenient::top_object(&mut de)?;
    de.end()?;
    Ok(state)
}

/// Parses a state document without its tasks (they are checked for syntax and counted, not read).
pub fn parse_header(body: &[u8]) -> Result<Header<'_>, serde_json::Error> {
    walk::read(body, &mut ())
}

/// Reads a state document in one pass: returns its [`Header`] and hands each task to `sink` as it is
/// read (see [`walk`]), so that no parsed form of a 100k-task document is ever held whole. Errors as
/// [`parse`].
pub(crate) fn read_document<'a>(body: &'a [u8], sink: &mut dyn TaskSink<'a>) -> Result<Header<'a>, serde_json::Error> {
    walk::read(body, sink)
}

/// [`read_document`] of a body as it arrives, never held whole (see [`walk::read_split`]): the same
/// header and tasks, or [`Stopped`] when the body cannot be read or the document does not read cleanly
/// (then [`read_document`] of the whole body says why).
pub(crate) fn read_split(
    body: impl std::io::Read,
    sink: &mut dyn for<'a> TaskSink<'a>,
) -> Result<Header<'static>, Stopped> {
    walk::read_split(body, sink)
}

/// Calls `each(framework, task)` for every task of the document, in order, `framework` being the
/// index into the [`Header`]'s `frameworks` (which skip the same non-object entries). Each task is
/// dropped after the call. The errors are [`parse_header`]'s and the tasks'.
pub(crate) fn for_each_task<'a>(
    body: &'a [u8],
    each: &mut dyn FnMut(usize, Task<'a>),
) -> Result<(), serde_json::Error> {
    struct Each<'w, 'a>(&'w mut dyn FnMut(usize, Task<'a>));
    impl<'a> TaskSink<'a> for Each<'_, 'a> {
        fn task(&mut self, framework: usize, _: &Framework<'a, Skipped>, task: Task<'a>) {
            (self.0)(framework, task);
        }
    }
    walk::read(body, &mut Each(each)).map(drop)
}

impl Task<'_> {
    /// True when the task has a `DiscoveryInfo` with a name: the original ignores discovery info
    /// (ports included) otherwise.
    pub fn has_discovery(&self) -> bool {
        !self.discovery.name.is_empty()
    }

    /// The most recent `TASK_RUNNING` status by timestamp (the master does not keep statuses in order);
    /// on equal timestamps the first listed wins, as in the original.
    pub fn latest_running_status(&self) -> Option<&Status<'_>> {
        let mut best: Option<&Status<'_>> = None;
        let mut best_ts = -1.0;
        for s in &self.statuses {
            if s.state == "TASK_RUNNING" && s.timestamp > best_ts {
                best_ts = s.timestamp;
                best = Some(s);
            }
        }
        best
    }
}

impl<T> State<'_, T> {
    /// The leading master's host name: `leader_info`'s, else the document's own `hostname` when the
    /// document comes from the leader (its `pid` is the `leader`); empty when neither says.
    pub fn leader_hostname(&self) -> &str {
        if !self.leader_info.hostname.is_empty() {
            &self.leader_info.hostname
        } else if !self.leader.is_empty() && self.pid == self.leader {
            &self.hostname
        } else {
            ""
        }
    }
}

impl<T> Framework<'_, T> {
    /// Where the scheduler runs: the host and port of its `pid`, else its `hostname` without a port.
    pub fn host_port(&self) -> (&str, Option<u16>) {
        match split_pid(&self.pid) {
            Some((host, port)) => (host, Some(port)),
            None => (&self.hostname, None),
        }
    }
}

/// A copy of `s` that owns its text (what a borrowed field becomes when its document goes).
pub(crate) fn owned(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_owned())
}

impl Slave<'_> {
    /// The same agent owning its strings.
    pub(crate) fn to_owned_slave(&self) -> Slave<'static> {
        Slave {
            id: owned(&self.id),
            pid: owned(&self.pid),
            hostname: owned(&self.hostname),
            port: self.port,
            domain: self.domain.to_owned_domain(),
        }
    }

    /// Where the agent runs: the host and port of its `pid`, else its `hostname` and [`Slave::port`].
    pub fn host_port(&self) -> (&str, Option<u16>) {
        match split_pid(&self.pid) {
            Some((host, port)) => (host, Some(port)),
            None => (&self.hostname, self.port),
        }
    }
}

impl Resources<'_> {
    /// The ports of both forms, in order (the text ranges, then the numeric ones), at most
    /// [`MAX_PORTS_PER_TASK`] in all; a numeric range with its low end above its high end is skipped,
    /// as in the text.
    pub fn all_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.all_port_ranges().flat_map(|(lo, hi)| lo..=hi)
    }

    /// [`Resources::all_ports`] as ranges `(low, high)` of the same ports in the same order (the
    /// text's valid ranges, then the numeric ones; the last one cut at [`MAX_PORTS_PER_TASK`] ports):
    /// the text read once, into what a packed task keeps. The one place the cap is applied.
    pub(crate) fn all_port_ranges(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        let mut text = parse_ports(&self.ports);
        let text = std::iter::from_fn(move || text.next_range());
        let numeric = self.port_ranges.iter().copied().filter(|(lo, hi)| lo <= hi);
        let mut left = MAX_PORTS_PER_TASK;
        text.chain(numeric).map_while(move |(lo, hi)| {
            let room = u16::try_from(left.checked_sub(1)?).unwrap_or(u16::MAX);
            let hi = hi.min(lo.saturating_add(room));
            left -= usize::from(hi - lo) + 1;
            Some((lo, hi))
        })
    }
}

/// At most this many ports are taken from one task's `ports` resource: a task holding
/// `[1-65535]` would otherwise make hundreds of thousands of SRV records.
pub(crate) const MAX_PORTS_PER_TASK: usize = 1024;

/// The ports of a `ports` resource string such as `"[31000-31002, 31005-31005]"`, in order, at most
/// [`MAX_PORTS_PER_TASK`] of them. The brackets are optional; a bare number is a one-port range;
/// malformed parts (not numbers, out of range, low above high) are skipped.
pub(crate) fn parse_ports(ranges: &str) -> Ports<'_> {
    let inner = ranges.split_once('[').map_or(ranges, |(_, rest)| rest);
    let inner = inner.split_once(']').map_or(inner, |(head, _)| head);
    Ports {
        rest: Some(inner),
        next: 0,
        last: 0,
        pending: false,
        left: MAX_PORTS_PER_TASK,
    }
}

/// Iterator over the ports of a `ports` resource string; see [`parse_ports`].
#[derive(Debug, Clone)]
pub(crate) struct Ports<'a> {
    /// The ranges not yet read.
    rest: Option<&'a str>,
    /// The current range `next..=last`, when `pending`.
    next: u16,
    last: u16,
    pending: bool,
    /// How many more ports may be yielded.
    left: usize,
}

impl Ports<'_> {
    /// The next valid range of the text (whatever ports were taken from the ranges before).
    fn next_range(&mut self) -> Option<(u16, u16)> {
        loop {
            let rest = self.rest?;
            let (part, tail) = match rest.split_once(',') {
                Some((part, tail)) => (part, Some(tail)),
                None => (rest, None),
            };
            self.rest = tail;
            if let Some(range) = Self::range(part) {
                return Some(range);
            }
        }
    }

    /// A part `low-high` (or `port`) as a range, `None` when malformed: [`Ports::range_of_text`]
    /// read a byte at a time where the part is ASCII (every part a master writes), whose white
    /// space is these bytes.
    fn range(part: &str) -> Option<(u16, u16)> {
        if !part.is_ascii() {
            return Self::range_of_text(part);
        }
        let part = part.as_bytes();
        let (lo, hi) = match part.iter().position(|&b| b == b'-') {
            Some(dash) => (&part[..dash], &part[dash + 1..]),
            None => (part, part),
        };
        let (lo, hi) = (ascii_port(lo)?, ascii_port(hi)?);
        (lo <= hi).then_some((lo, hi))
    }

    /// [`Ports::range`] of any text.
    fn range_of_text(part: &str) -> Option<(u16, u16)> {
        let part = part.trim();
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let lo: u16 = lo.trim().parse().ok()?;
        let hi: u16 = hi.trim().parse().ok()?;
        (lo <= hi).then_some((lo, hi))
    }
}

/// `text.trim().parse::<u16>().ok()` of ASCII text: white space around, a `+` at most, then digits.
fn ascii_port(text: &[u8]) -> Option<u16> {
    let space = |&b: &u8| matches!(b, b'\t'..=b'\r' | b' ');
    let start = text.iter().position(|b| !space(b))?;
    let end = text.iter().rposition(|b| !space(b))? + 1;
    let digits = text.get(start..end)?;
    let digits = digits.strip_prefix(b"+").unwrap_or(digits);
    if digits.is_empty() {
        return None;
    }
    let mut port = 0u32;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        port = port * 10 + u32::from(b - b'0');
        if port > u32::from(u16::MAX) {
            return None;
        }
    }
    u16::try_from(port).ok()
}

impl Iterator for Ports<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        if self.left == 0 {
            return None;
        }
        if !self.pending {
            (self.next, self.last) = self.next_range()?;
            self.pending = true;
        }
        let port = self.next;
        if port == self.last {
            self.pending = false;
        } else {
            self.next += 1;
        }
        self.left -= 1;
        Some(port)
    }
}

pub(crate) mod lenient;
mod walk;

#[cfg(feature = "internals")]
pub use walk::task_readers_agree;
pub(crate) use walk::{Stopped, TaskSink};

#[cfg(test)]
mod tests;
