//! Decoding one event of the operator API's `SUBSCRIBE` stream (the protobuf-JSON form of
//! `mesos.v1.master.Event`) straight into the state types record generation reads
//! ([`crate::mesos::state`]), as the record is read from the stream ([`decode_from`]). Pure.
//!
//! The record is read as a stream, so every string comes out owned: the decoded values outlive the
//! record and move into the refresher's model as they are, without a copy. As with the state
//! document, every field is optional and a value of the wrong JSON type reads as empty: a malformed
//! task costs that task its records, not the subscription. Where the v1 form differs from the state
//! document's, it is decoded into the state types' numeric forms rather than their text: an agent's
//! `agent_info.port` becomes [`Slave::port`], the `ports` resource's ranges
//! [`Resources::port_ranges`]. What the v1 API calls an agent is a [`Slave`] here.

use std::borrow::Cow;
use std::fmt;
use std::io::{BufReader, Read};
use std::time::Duration;

use serde::de::value::MapAccessDeserializer;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::mesos::state::{
    lenient, ContainerStatus, Discovery, Domain, Framework, Label, Resources, Slave, Status, Task,
};
use crate::refresh::model::PackedTasks;

/// The `visit_*` methods of a visitor that wants an object or an array: a string or any other
/// scalar (null included) reads as `$value`.
macro_rules! scalars_are_none {
    ($value:expr) => {
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// The buffer a record is decoded through (it never holds more of the record than this).
const DECODE_BUFFER: usize = 64 * 1024;

/// One event, with what it carries in the shape [`crate::records::generate`] reads.
#[derive(Debug)]
pub(crate) enum Event {
    /// The first event: the whole cluster.
    Subscribed {
        frameworks: Vec<Framework<'static>>,
        agents: Vec<Slave<'static>>,
        /// Packed as they were read, never all held as state types.
        tasks: PackedTasks,
        /// `get_agents.recovered_agents`: agents a newly elected leader knows from its registry but
        /// that have not re-registered (`None` when the field is absent; protobuf JSON leaves an
        /// empty list out, so absent also reads as none from masters that know the field).
        recovered: Option<Vec<Slave<'static>>>,
        /// How often the master promises a `HEARTBEAT`.
        heartbeat: Option<Duration>,
    },
    TaskAdded(Task<'static>),
    TaskUpdated(TaskUpdate),
    AgentAdded(Slave<'static>),
    AgentRemoved {
        agent_id: String,
    },
    /// `FRAMEWORK_ADDED` and `FRAMEWORK_UPDATED` (no tasks in it).
    FrameworkAdded(Framework<'static>),
    FrameworkRemoved {
        framework_id: String,
    },
    Heartbeat,
    /// An event type we have no use for (`AGENT_UPDATED`, `OPERATION_UPDATED`, newer ones).
    Other(String),
}

/// A `TASK_UPDATED` event.
#[derive(Debug)]
pub(crate) struct TaskUpdate {
    pub framework_id: String,
    pub task_id: String,
    /// The task's new state (`TASK_RUNNING`, `TASK_KILLED`, ...).
    pub state: String,
    /// The status update itself (addresses, labels), as it would appear in the task's `statuses`.
    pub status: Status<'static>,
}

/// A record that is not an event, or could not be read.
#[derive(Debug)]
pub(crate) struct EventError {
    message: String,
    /// Reading the record failed (rather than its JSON).
    io: bool,
}

impl EventError {
    /// Reading the record failed: the stream broke, the record may have been good.
    pub(crate) fn is_io(&self) -> bool {
        self.io
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.io {
            write!(f, "reading an event: {}", self.message)
        } else {
            write!(f, "not an operator API event: {}", self.message)
        }
    }
}

impl std::error::Error for EventError {}

impl From<serde_json::Error> for EventError {
    fn from(e: serde_json::Error) -> EventError {
        EventError {
            io: e.is_io(),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
/// Decodes one RecordIO record held in memory.
pub(crate) fn decode(record: &[u8]) -> Result<Event, EventError> {
    decode_from(record)
}

/// Decodes one record as it is read from `record` (which ends where the record does), so that not
/// even the biggest (`SUBSCRIBED`, the whole cluster) is ever held whole: its tasks are packed as they
/// are read ([`PackedTasks`]).
pub(crate) fn decode_from<R: Read>(record: R) -> Result<Event, EventError> {
    // A reader, not a slice: serde_json then never borrows from the input, which is what lets the
    // `'static` state types be deserialized directly. It reads a byte at a time, which a `BufReader`
    // serves from its buffer (a plain reader would be asked for each byte).
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(DECODE_BUFFER, record));
    let raw: Raw<'static> = lenient::top_object(&mut de)?;
    de.end()?;
    Ok(match &*raw.kind {
        "SUBSCRIBED" => {
            let Subscribed {
                get_state: state,
                heartbeat_interval_seconds: secs,
            } = raw.subscribed;
            Event::Subscribed {
                frameworks: state
                    .get_frameworks
                    .frameworks
                    .into_iter()
                    .map(|f| f.framework_info.into())
                    .collect(),
                recovered: state
                    .get_agents
                    .recovered_agents
                    .map(|agents| agents.into_iter().map(Slave::from).collect()),
                agents: state.get_agents.agents.into_iter().map(Slave::from).collect(),
                tasks: state.get_tasks.tasks,
                heartbeat: (secs > 0.0 && secs < 1e9).then(|| Duration::from_secs_f64(secs)),
            }
        }
        "TASK_ADDED" => Event::TaskAdded(raw.task_added.task.into()),
        "TASK_UPDATED" => {
            let mut u = raw.task_updated;
            let task_id = first(std::mem::take(&mut u.status.task_id.value), u.task_id.value);
            let state = first(u.state, u.status.state.clone());
            let mut status = Status::from(u.status);
            if status.state.is_empty() {
                status.state = state.clone();
            }
            Event::TaskUpdated(TaskUpdate {
                framework_id: u.framework_id.value.into_owned(),
                task_id: task_id.into_owned(),
                state: state.into_owned(),
                status,
            })
        }
        "AGENT_ADDED" => Event::AgentAdded(raw.agent_added.agent.into()),
        "AGENT_REMOVED" => Event::AgentRemoved {
            agent_id: raw.agent_removed.agent_id.value.into_owned(),
        },
        "FRAMEWORK_ADDED" => Event::FrameworkAdded(raw.framework_added.framework.framework_info.into()),
        "FRAMEWORK_UPDATED" => Event::FrameworkAdded(raw.framework_updated.framework.framework_info.into()),
        "FRAMEWORK_REMOVED" => Event::FrameworkRemoved {
            framework_id: raw.framework_removed.framework_info.id.value.into_owned(),
        },
        "HEARTBEAT" => Event::Heartbeat,
        "" => {
            return Err(EventError {
                message: "no `type`".into(),
                io: false,
            })
        }
        other => Event::Other(other.to_owned()),
    })
}

/// `a`, or `b` when `a` is empty.
fn first<'a>(a: Cow<'a, str>, b: Cow<'a, str>) -> Cow<'a, str> {
    if a.is_empty() {
        b
    } else {
        a
    }
}

// ---------------------------------------------------------------------------------------------------
// The v1 JSON. Only the fields records need; where a part has the state document's shape
// (`discovery`, `container_status`, a label) it is read as the state type itself.

#[derive(Default, Deserialize)]
#[serde(default)]
struct Raw<'a> {
    #[serde(rename = "type", borrow, deserialize_with = "lenient::string")]
    kind: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    subscribed: Subscribed<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    task_added: Payload<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    task_updated: Payload<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent_added: Payload<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent_removed: Payload<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_added: Payload<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_updated: Payload<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_removed: Payload<'a>,
}

/// What the events other than `SUBSCRIBED` carry, one struct for all: no two of them use a field
/// name for different things. `TASK_ADDED`: `task`; `TASK_UPDATED`: `framework_id`, `state`, `status`
/// (and `task_id`, not in master.proto but accepted); `AGENT_ADDED`: `agent`; `AGENT_REMOVED`:
/// `agent_id`; `FRAMEWORK_ADDED`/`_UPDATED`: `framework`; `FRAMEWORK_REMOVED`: `framework_info`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Payload<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    task: V1Task<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    task_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    status: V1Status<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent: V1Agent<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework: V1Framework<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_info: FrameworkInfo<'a>,
}

/// `{"value": "..."}`: every v1 id.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Id<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    value: Cow<'a, str>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Subscribed<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    get_state: GetState<'a>,
    #[serde(deserialize_with = "lenient::float")]
    heartbeat_interval_seconds: f64,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct GetState<'a> {
    #[serde(deserialize_with = "lenient::object")]
    get_tasks: GetTasks,
    #[serde(borrow, deserialize_with = "lenient::object")]
    get_frameworks: GetFrameworks<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    get_agents: GetAgents<'a>,
}

/// Only `tasks`: pending, unreachable, completed and orphan tasks never have records.
#[derive(Default, Deserialize)]
#[serde(default)]
struct GetTasks {
    #[serde(deserialize_with = "packed_tasks")]
    tasks: PackedTasks,
}

/// `SUBSCRIBED`'s tasks, each packed as soon as it is read ([`PackedTasks`]), so that a million of
/// them are never held as state types (at 1M tasks, gigabytes) nor the record as text. As
/// [`lenient::array`] reads them: anything but an array is none, an element that is not an object is
/// skipped.
fn packed_tasks<'de, D: serde::Deserializer<'de>>(d: D) -> Result<PackedTasks, D::Error> {
    struct Tasks;
    impl<'de> Visitor<'de> for Tasks {
        type Value = PackedTasks;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of tasks")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PackedTasks, A::Error> {
            let mut out = PackedTasks::default();
            while let Some(task) = seq.next_element::<ObjectOrSkip<V1Task<'de>>>()? {
                if let Some(task) = task.0 {
                    out.push(&task.into());
                }
            }
            out.tasks.shrink_to_fit();
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PackedTasks, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(PackedTasks::default())
        }
        scalars_are_none!(PackedTasks::default());
    }
    d.deserialize_any(Tasks)
}

/// An array element: `Some` for an object, `None` for anything else.
struct ObjectOrSkip<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOrSkip<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ObjectOrSkip<T>, D::Error> {
        struct Element<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Element<T> {
            type Value = ObjectOrSkip<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ObjectOrSkip<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| ObjectOrSkip(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ObjectOrSkip<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ObjectOrSkip(None))
            }
            scalars_are_none!(ObjectOrSkip(None));
        }
        d.deserialize_any(Element(std::marker::PhantomData))
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct GetFrameworks<'a> {
    #[serde(borrow, deserialize_with = "lenient::array")]
    frameworks: Vec<V1Framework<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct GetAgents<'a> {
    #[serde(borrow, deserialize_with = "lenient::array")]
    agents: Vec<V1Agent<'a>>,
    /// `AgentInfo`s, not `Agent`s.
    #[serde(borrow, deserialize_with = "lenient::opt_array")]
    recovered_agents: Option<Vec<AgentInfo<'a>>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Framework<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_info: FrameworkInfo<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct FrameworkInfo<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    hostname: Cow<'a, str>,
}

/// The v1 API has no scheduler pid: the framework's host is its `hostname` (the model keeps a pid
/// learnt from a poll).
impl<'a> From<FrameworkInfo<'a>> for Framework<'a> {
    fn from(info: FrameworkInfo<'a>) -> Framework<'a> {
        Framework {
            id: info.id.value,
            name: info.name,
            hostname: info.hostname,
            ..Framework::default()
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Agent<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent_info: AgentInfo<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    pid: Cow<'a, str>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AgentInfo<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    hostname: Cow<'a, str>,
    #[serde(deserialize_with = "lenient::port")]
    port: Option<u16>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    domain: Domain<'a>,
}

/// A recovered agent: no pid, its `hostname` and `port`.
impl<'a> From<AgentInfo<'a>> for Slave<'a> {
    fn from(info: AgentInfo<'a>) -> Slave<'a> {
        Slave {
            id: info.id.value,
            pid: Cow::Borrowed(""),
            hostname: info.hostname,
            port: info.port,
            domain: info.domain,
        }
    }
}

/// A pid, when the master sends one, still comes first (as in a state document); without it,
/// `hostname` and `port` give `_slave._tcp` its port.
impl<'a> From<V1Agent<'a>> for Slave<'a> {
    fn from(agent: V1Agent<'a>) -> Slave<'a> {
        Slave {
            id: agent.agent_info.id.value,
            pid: agent.pid,
            hostname: agent.agent_info.hostname,
            port: agent.agent_info.port,
            domain: agent.agent_info.domain,
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Task<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    task_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    framework_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    agent_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::array")]
    resources: Vec<Resource<'a>>,
    #[serde(borrow, deserialize_with = "lenient::array")]
    statuses: Vec<V1Status<'a>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    discovery: Discovery<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    labels: Labels<'a>,
}

impl<'a> From<V1Task<'a>> for Task<'a> {
    fn from(t: V1Task<'a>) -> Task<'a> {
        let port_ranges = t
            .resources
            .iter()
            .filter(|r| r.name == "ports")
            .flat_map(|r| &r.ranges.range)
            .filter_map(|range| Some((range.begin?, range.end?)))
            .collect();
        Task {
            id: t.task_id.value,
            name: t.name,
            framework_id: t.framework_id.value,
            slave_id: t.agent_id.value,
            state: t.state,
            resources: Resources {
                port_ranges,
                ..Resources::default()
            },
            statuses: t.statuses.into_iter().map(Status::from).collect(),
            discovery: t.discovery,
            labels: t.labels.labels,
        }
    }
}

/// A resource; only the ranges of `ports` are read.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Resource<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    name: Cow<'a, str>,
    #[serde(deserialize_with = "lenient::object")]
    ranges: Ranges,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Ranges {
    #[serde(deserialize_with = "lenient::array")]
    range: Vec<Range>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Range {
    #[serde(deserialize_with = "lenient::port")]
    begin: Option<u16>,
    #[serde(deserialize_with = "lenient::port")]
    end: Option<u16>,
}

/// v1 labels are a `Labels` message: `{"labels": [{key, value}]}`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Labels<'a> {
    #[serde(borrow, deserialize_with = "lenient::array")]
    labels: Vec<Label<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Status<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    task_id: Id<'a>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    state: Cow<'a, str>,
    #[serde(deserialize_with = "lenient::float")]
    timestamp: f64,
    #[serde(deserialize_with = "lenient::opt_bool")]
    healthy: Option<bool>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    labels: Labels<'a>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    container_status: ContainerStatus<'a>,
}

impl<'a> From<V1Status<'a>> for Status<'a> {
    fn from(s: V1Status<'a>) -> Status<'a> {
        Status {
            state: s.state,
            timestamp: s.timestamp,
            healthy: s.healthy,
            labels: s.labels.labels,
            container_status: s.container_status,
        }
    }
}

#[cfg(test)]
mod tests;
