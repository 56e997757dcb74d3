//! serde types of the master's `/master/state` (and old `/master/state.json`) document, tolerant of old
//! (0.19-0.28) and new (1.x) masters, plus the small pure parser of the `ports` resource (`pid` strings
//! are read by [`crate::addr`]).
//!
//! Only the fields that record generation needs are typed; everything else is skipped. Every field is
//! optional, and a `null`, or a value of the wrong JSON type, where an object, array, string or number
//! is expected reads as the empty/default value instead of failing the whole document: one odd task must
//! not cost the cluster its DNS. Strings are borrowed from the body unless they contain escapes.
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
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub hostname: Cow<'a, str>,
    /// The agents (`slaves` in every Mesos version's state document).
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub slaves: Vec<Slave<'a>>,
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub frameworks: Vec<Framework<'a, T>>,
}

/// A state document without its tasks: what a refresh needs before it reads them one at a time.
pub type Header<'a> = State<'a, Skipped>;

/// A task that was not read (only counted).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Skipped;

impl<'de> Deserialize<'de> for Skipped {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Skipped)
    }
}

/// An agent.
#[derive(Debug, Default, Deserialize)]
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
#[derive(Debug, Default, Deserialize)]
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
#[derive(Debug, Default, Deserialize)]
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
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Status<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub state: Cow<'a, str>,
    /// Seconds since the epoch, fractional.
    #[serde(deserialize_with = "lenient::float")]
    pub timestamp: f64,
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub labels: Vec<Label<'a>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub container_status: ContainerStatus<'a>,
}

/// A `{key, value}` label.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Label<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub key: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub value: Cow<'a, str>,
}

/// The container part of a status (Mesos 0.25 and later).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContainerStatus<'a> {
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub network_infos: Vec<NetworkInfo<'a>>,
}

/// One network of a container.
#[derive(Debug, Default, Deserialize)]
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
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IpAddress<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub ip_address: Cow<'a, str>,
    /// `IPv4` or `IPv6`.
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub protocol: Cow<'a, str>,
}

/// A task's `DiscoveryInfo`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Discovery<'a> {
    #[serde(borrow, deserialize_with = "lenient::string")]
    pub name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub ports: DiscoveryPorts<'a>,
}

/// The `ports` object of a `DiscoveryInfo`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DiscoveryPorts<'a> {
    #[serde(borrow, deserialize_with = "lenient::array")]
    pub ports: Vec<DiscoveryPort<'a>>,
}

/// One named port of a `DiscoveryInfo`.
#[derive(Debug, Default, Deserialize)]
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
pub fn parse(body: &[u8]) -> Result<State<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let state = lenient::top_object(&mut de)?;
    de.end()?;
    Ok(state)
}

/// Parses a state document without its tasks (they are checked for syntax and counted, not read). A
/// refresh reads the header first, then the tasks one at a time with [`for_each_task`], so that no
/// parsed form of a 100k-task document is ever held whole.
pub fn parse_header(body: &[u8]) -> Result<Header<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let header = lenient::top_object(&mut de)?;
    de.end()?;
    Ok(header)
}

/// Calls `each(framework, task)` for every task of the document, in order, `framework` being the
/// index into the [`Header`]'s `frameworks` (which skip the same non-object entries). Each task is
/// dropped after the call. The body should have parsed as a header: the errors are the same.
pub fn for_each_task<'a>(body: &'a [u8], each: &mut dyn FnMut(usize, Task<'a>)) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde::Deserializer::deserialize_map(&mut de, lenient::TaskWalk { each })?;
    de.end()
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

impl<T> Framework<'_, T> {
    /// Where the scheduler runs: the host and port of its `pid`, else its `hostname` without a port.
    pub fn host_port(&self) -> (&str, Option<u16>) {
        match split_pid(&self.pid) {
            Some((host, port)) => (host, Some(port)),
            None => (&self.hostname, None),
        }
    }
}

impl Slave<'_> {
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
        let numeric = self
            .port_ranges
            .iter()
            .filter(|(lo, hi)| lo <= hi)
            .flat_map(|&(lo, hi)| lo..=hi);
        parse_ports(&self.ports).chain(numeric).take(MAX_PORTS_PER_TASK)
    }
}

/// At most this many ports are taken from one task's `ports` resource: a task holding
/// `[1-65535]` would otherwise make hundreds of thousands of SRV records.
pub const MAX_PORTS_PER_TASK: usize = 1024;

/// The ports of a `ports` resource string such as `"[31000-31002, 31005-31005]"`, in order, at most
/// [`MAX_PORTS_PER_TASK`] of them. The brackets are optional; a bare number is a one-port range;
/// malformed parts (not numbers, out of range, low above high) are skipped.
pub fn parse_ports(ranges: &str) -> Ports<'_> {
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
pub struct Ports<'a> {
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
    fn range(part: &str) -> Option<(u16, u16)> {
        let part = part.trim();
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let lo: u16 = lo.trim().parse().ok()?;
        let hi: u16 = hi.trim().parse().ok()?;
        (lo <= hi).then_some((lo, hi))
    }
}

impl Iterator for Ports<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        if self.left == 0 {
            return None;
        }
        while !self.pending {
            let rest = self.rest?;
            let (part, tail) = match rest.split_once(',') {
                Some((part, tail)) => (part, Some(tail)),
                None => (rest, None),
            };
            self.rest = tail;
            if let Some((lo, hi)) = Self::range(part) {
                self.next = lo;
                self.last = hi;
                self.pending = true;
            }
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

/// `deserialize_with` helpers that read a value of the expected shape and turn anything else (`null`,
/// another JSON type) into the default instead of an error.
pub(crate) mod lenient {
    use std::borrow::Cow;
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::value::MapAccessDeserializer;
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde::Deserialize;

    /// Skips the rest of a map that is not used.
    fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    /// Skips the rest of a sequence that is not used.
    fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    /// Implements the scalar `visit_*` methods of a visitor that maps every scalar to `$value`.
    macro_rules! scalars_to {
        ($value:expr; $($method:ident: $ty:ty),*) => {
            $(fn $method<E: serde::de::Error>(self, _: $ty) -> Result<Self::Value, E> { Ok($value) })*
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> { Ok($value) }
            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> { Ok($value) }
        };
    }

    /// The `visit_*` methods of a visitor that wants an array: a map, a string or any scalar reads as
    /// `$value` (a map is skipped over).
    macro_rules! non_arrays_to {
        ($value:expr) => {
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                drain_map(map).map(|()| $value)
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok($value)
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok($value)
            }
            scalars_to!($value; visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64);
        };
    }

    /// The `visit_*` methods of a visitor that wants an object: an array, a string or any scalar reads
    /// as `$value` (an array is skipped over).
    macro_rules! non_objects_to {
        ($value:expr) => {
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                drain_seq(seq).map(|()| $value)
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok($value)
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok($value)
            }
            scalars_to!($value; visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64);
        };
    }

    /// A string; anything else reads as "".
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Cow<'de, str>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
            scalars_to!(Cow::Borrowed(""); visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                drain_map(map).map(|()| Cow::Borrowed(""))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                drain_seq(seq).map(|()| Cow::Borrowed(""))
            }
        }
        d.deserialize_any(V)
    }

    /// A number (or a numeric string); anything else reads as 0.
    pub fn float<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = f64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<f64, E> {
                Ok(if v.is_finite() { v } else { 0.0 })
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<f64, E> {
                Ok(v.trim().parse::<f64>().ok().filter(|f| f.is_finite()).unwrap_or(0.0))
            }
            scalars_to!(0.0; visit_bool: bool);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<f64, A::Error> {
                drain_map(map).map(|()| 0.0)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<f64, A::Error> {
                drain_seq(seq).map(|()| 0.0)
            }
        }
        d.deserialize_any(V)
    }

    /// A port number 0-65535 (integral number or numeric string); anything else reads as `None`.
    pub fn port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<u16>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(u16::try_from(v).ok())
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(u16::try_from(v).ok())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
                let ok = v.fract() == 0.0 && (0.0..=65535.0).contains(&v);
                Ok(ok.then_some(v as u16))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(v.trim().parse().ok())
            }
            scalars_to!(None; visit_bool: bool);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                drain_map(map).map(|()| None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                drain_seq(seq).map(|()| None)
            }
        }
        d.deserialize_any(V)
    }

    /// Reads a JSON object as `T`; anything else reads as `T::default()`.
    struct Object<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for Object<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map))
        }
        non_objects_to!(T::default());
    }

    /// An array element: `Some` for an object, `None` (skipped) for anything else.
    struct Element<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for Element<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map)).map(Some)
        }
        non_objects_to!(None);
    }

    impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Element<T> {
        type Value = Option<T>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
            d.deserialize_any(self)
        }
    }

    /// A task's statuses, keeping only the most recent `TASK_RUNNING` one (the first listed among
    /// equal timestamps); anything that is not an array reads as none.
    pub fn latest_running<'de, D>(d: D) -> Result<Vec<super::Status<'de>>, D::Error>
    where
        D: Deserializer<'de>,
    {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<super::Status<'de>>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of statuses")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut best: Option<super::Status<'de>> = None;
                while let Some(status) = seq.next_element_seed(Element::<super::Status<'de>>(PhantomData))? {
                    let Some(status) = status.filter(|s| s.state == "TASK_RUNNING") else {
                        continue;
                    };
                    // As `Task::latest_running_status` compares them.
                    if status.timestamp > best.as_ref().map_or(-1.0, |b| b.timestamp) {
                        best = Some(status);
                    }
                }
                Ok(best.into_iter().collect())
            }
            non_arrays_to!(Vec::new());
        }
        d.deserialize_any(V)
    }

    /// Walks a state document's `frameworks[].tasks[]`, handing each task (read as [`lenient::array`]
    /// would read it) to `each` with its framework's index among the object entries.
    pub struct TaskWalk<'w, 'a> {
        pub each: &'w mut dyn FnMut(usize, super::Task<'a>),
    }

    impl<'de: 'a, 'a> Visitor<'de> for TaskWalk<'_, 'a> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a state document (a JSON object)")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if key == "frameworks" {
                    map.next_value_seed(Frameworks { each: &mut *self.each })?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        }
    }

    struct Frameworks<'w, 'a> {
        each: &'w mut dyn FnMut(usize, super::Task<'a>),
    }

    impl<'de: 'a, 'a> DeserializeSeed<'de> for Frameworks<'_, 'a> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de: 'a, 'a> Visitor<'de> for Frameworks<'_, 'a> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of frameworks")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut index = 0;
            while let Some(was_object) = seq.next_element_seed(OneFramework {
                index,
                each: &mut *self.each,
            })? {
                index += usize::from(was_object);
            }
            Ok(())
        }
        non_arrays_to!(());
    }

    /// One entry of `frameworks`: true when it was an object (and so has an index).
    struct OneFramework<'w, 'a> {
        index: usize,
        each: &'w mut dyn FnMut(usize, super::Task<'a>),
    }

    impl<'de: 'a, 'a> DeserializeSeed<'de> for OneFramework<'_, 'a> {
        type Value = bool;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de: 'a, 'a> Visitor<'de> for OneFramework<'_, 'a> {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a framework")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if key == "tasks" {
                    map.next_value_seed(Tasks {
                        index: self.index,
                        each: &mut *self.each,
                    })?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(true)
        }
        non_objects_to!(false);
    }

    struct Tasks<'w, 'a> {
        index: usize,
        each: &'w mut dyn FnMut(usize, super::Task<'a>),
    }

    impl<'de: 'a, 'a> DeserializeSeed<'de> for Tasks<'_, 'a> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de: 'a, 'a> Visitor<'de> for Tasks<'_, 'a> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of tasks")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(task) = seq.next_element_seed(Element::<super::Task<'de>>(PhantomData))? {
                if let Some(task) = task {
                    (self.each)(self.index, task);
                }
            }
            Ok(())
        }
        non_arrays_to!(());
    }

    /// The document itself: a JSON object, and nothing else.
    pub fn top_object<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a state document (a JSON object)")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(PhantomData))
    }

    /// An object; anything else reads as the default.
    pub fn object<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Default,
    {
        d.deserialize_any(Object(PhantomData))
    }

    /// An array of objects; anything else reads as empty, and elements that are not objects are
    /// skipped.
    pub fn array<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Default,
    {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for V<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                // The size hint comes from the input: do not trust it for an allocation.
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element_seed(Element::<T>(PhantomData))? {
                    out.extend(item);
                }
                // Most arrays in a state document hold one or two items (labels, statuses, addresses),
                // and growth leaves room for four: give the rest back.
                out.shrink_to_fit();
                Ok(out)
            }
            non_arrays_to!(Vec::new());
        }
        d.deserialize_any(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAKE: &[u8] = include_bytes!("../../tests/fixtures/fake.json");
    const TUTORIAL: &[u8] = include_bytes!("../../tests/fixtures/tutorial-0.21.json");

    fn ports(s: &str) -> Vec<u16> {
        parse_ports(s).collect()
    }

    #[test]
    fn fake_json_parses_agents_frameworks_and_tasks() {
        let s = parse(FAKE).unwrap();
        assert_eq!(s.leader, "master@127.0.0.1:5050");
        assert_eq!(s.pid, "master@127.0.0.1:5050");
        assert_eq!(s.hostname, "localhost");
        assert_eq!(s.slaves.len(), 4);
        assert_eq!(s.slaves[3].id, "20140803-194712-3041283216-5050-2116-3");
        assert_eq!(s.slaves[3].pid, "slave(1)@[2001:db8::1]:5051");
        assert_eq!(s.slaves[3].host_port(), ("2001:db8::1", Some(5051)));
        let names: Vec<&str> = s.frameworks.iter().map(|f| &*f.name).collect();
        assert_eq!(
            names,
            [
                "ipv6-framework",
                "chronos with a space AND MIXED CASE-2.0.1",
                "no pid",
                "marathon"
            ]
        );
        assert_eq!(s.frameworks[2].pid, "");
        assert_eq!(s.frameworks[2].host_port(), ("localhost", None));
        assert_eq!(s.frameworks[3].host_port(), ("1.2.3.11", Some(25501)));
        let marathon = &s.frameworks[3];
        assert_eq!(marathon.tasks.len(), 8);
        let liquor = &marathon.tasks[1];
        assert_eq!(liquor.name, "liquor.store");
        assert_eq!(liquor.state, "TASK_RUNNING");
        assert_eq!(liquor.resources.ports, "[31354-31354, 31355-31355]");
        assert_eq!(
            liquor.statuses.len(),
            1,
            "of four, only the latest TASK_RUNNING status is kept"
        );
        assert!(liquor.has_discovery());
        assert_eq!(liquor.discovery.name, "liquor.store");
        let dports: Vec<(Option<u16>, &str, &str)> = liquor
            .discovery
            .ports
            .ports
            .iter()
            .map(|p| (p.number, &*p.name, &*p.protocol))
            .collect();
        assert_eq!(dports, [(Some(80), "http", "tcp"), (Some(443), "https", "tcp")]);
        // The latest running status is the second one listed, not the last.
        let latest = liquor.latest_running_status().unwrap();
        assert_eq!(latest.timestamp, 1413572390.09275);
        assert_eq!(latest.labels[1].key, "Docker.NetworkSettings.IPAddress");
        assert_eq!(latest.labels[1].value, "10.3.0.1");
        // Container network infos with IPv4 and IPv6 addresses.
        let toy = &s.frameworks[0].tasks[0];
        let nis = &toy.latest_running_status().unwrap().container_status.network_infos;
        let addrs: Vec<(&str, &str)> = nis
            .iter()
            .flat_map(|n| &n.ip_addresses)
            .map(|a| (&*a.ip_address, &*a.protocol))
            .collect();
        assert_eq!(
            addrs,
            [("12.0.1.3", "IPv4"), ("12.0.1.2", "IPv4"), ("fd01:b::1:8000:2", "IPv6")]
        );
    }

    #[test]
    fn strings_are_borrowed_from_the_body() {
        let s = parse(TUTORIAL).unwrap();
        assert!(matches!(s.leader, Cow::Borrowed(_)));
        assert!(matches!(s.frameworks[0].tasks[1].name, Cow::Borrowed("nginx")));
        assert_eq!(s.frameworks[0].tasks[1].resources.ports, "[31080-31080]");
    }

    #[test]
    fn escaped_strings_are_owned_and_decoded() {
        let s = parse(br#"{"leader":"master@10.0.0.1:5050","frameworks":[{"name":"caf\u00e9 \"x\""}]}"#).unwrap();
        assert!(matches!(s.frameworks[0].name, Cow::Owned(_)));
        assert_eq!(s.frameworks[0].name, "caf\u{e9} \"x\"");
    }

    #[test]
    fn only_the_latest_running_status_is_kept_the_first_of_equals() {
        let doc = br#"{"frameworks": [{"tasks": [{"statuses": [
            {"state": "TASK_RUNNING", "timestamp": 1.0, "labels": [{"key": "n", "value": "1"}]},
            {"state": "TASK_KILLED", "timestamp": 5.0, "labels": [{"key": "n", "value": "2"}]},
            {"state": "TASK_RUNNING", "timestamp": 3.0, "labels": [{"key": "n", "value": "3"}]},
            7,
            {"state": "TASK_RUNNING", "timestamp": 3.0, "labels": [{"key": "n", "value": "4"}]}
        ]}, {"statuses": [{"state": "TASK_STAGING", "timestamp": 1.0}]}, {"statuses": {}}]}]}"#;
        let s = parse(doc).unwrap();
        let tasks = &s.frameworks[0].tasks;
        assert_eq!(tasks[0].statuses.len(), 1);
        assert_eq!(tasks[0].statuses[0].labels[0].value, "3");
        assert!(tasks[1].statuses.is_empty() && tasks[2].statuses.is_empty());
    }

    #[test]
    fn nulls_and_wrong_types_read_as_defaults() {
        let doc = br#"{
            "leader": null, "pid": 5, "hostname": ["x"], "slaves": null,
            "frameworks": [null, 7, "x", {"name": null, "pid": {}, "tasks": {"a": [1, {"b": null}]}},
              {"name": "ok", "tasks": [null, {"id": "t", "resources": null, "statuses": [
                {"state": "TASK_RUNNING", "timestamp": null, "container_status": []},
                {"state": "TASK_RUNNING", "timestamp": "12.5", "labels": null, "container_status": {"network_infos": [
                    {"ip_addresses": null, "ip_address": "10.0.0.9"}, null]}}],
                "discovery": {"name": "d", "ports": {"ports": [{"number": "80"}, {"number": 70000},
                    {"number": 443.0, "name": null}, {"number": -1}, {"number": true}]}},
                "labels": {"labels": []}, "cpus": 0.5, "mem": 128}]}]
        }"#;
        let s = parse(doc).unwrap();
        assert_eq!(s.leader, "");
        assert_eq!(s.pid, "");
        assert_eq!(s.hostname, "");
        assert!(s.slaves.is_empty());
        // Array elements that are not objects are skipped.
        assert_eq!(s.frameworks.len(), 2);
        assert_eq!(s.frameworks[0].name, "");
        assert_eq!(s.frameworks[0].pid, "");
        assert!(s.frameworks[0].tasks.is_empty());
        let tasks = &s.frameworks[1].tasks;
        assert_eq!(tasks.len(), 1);
        let t = &tasks[0];
        assert_eq!(t.resources.ports, "");
        assert_eq!(t.statuses.len(), 1);
        assert_eq!(t.statuses[0].timestamp, 12.5);
        assert_eq!(t.statuses[0].container_status.network_infos.len(), 1);
        assert_eq!(t.statuses[0].container_status.network_infos[0].ip_address, "10.0.0.9");
        let numbers: Vec<Option<u16>> = t.discovery.ports.ports.iter().map(|p| p.number).collect();
        assert_eq!(numbers, [Some(80), None, Some(443), None, None]);
        assert!(t.labels.is_empty());
        assert_eq!(t.latest_running_status().unwrap().timestamp, 12.5);
    }

    #[test]
    fn deeply_nested_values_are_skipped_or_refused_without_a_crash() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        // Values of the wrong shape are skipped (serde_json skips iteratively, at any depth)...
        for n in [100, 100_000] {
            let doc = format!(
                r#"{{"leader": {0}, "x": {0}, "slaves": {0}, "frameworks": [{{"name": {0}}}]}}"#,
                deep(n)
            );
            let s = parse(doc.as_bytes()).unwrap();
            assert_eq!(s.leader, "");
            assert!(s.slaves.is_empty());
            assert_eq!(s.frameworks.len(), 1);
            assert_eq!(s.frameworks[0].name, "");
        }
        // ...and objects nested past serde_json's depth limit are refused.
        let objects = format!(r#"{{"x": {}{}}}"#, r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
        assert!(parse(objects.as_bytes()).is_err());
    }

    #[test]
    fn a_body_that_is_not_json_is_an_error() {
        assert!(parse(b"").is_err());
        assert!(parse(b"<html>").is_err());
        assert!(parse(br#"{"leader": "x""#).is_err());
        assert!(parse(b"[]").is_err());
        assert!(parse(br#"["master@10.0.0.1:5050"]"#).is_err());
        assert!(parse(b"null").is_err());
        assert!(parse(br#"{"leader": "x"} {}"#).is_err());
        assert_eq!(parse(b" {} ").unwrap().leader, "");
    }

    #[test]
    fn ports_expand_ranges_in_order() {
        assert_eq!(ports("[31000-31002, 31005-31005]"), [31000, 31001, 31002, 31005]);
        assert_eq!(ports("[31354-31354, 31355-31355]"), [31354, 31355]);
        assert_eq!(ports("[31737-31738]"), [31737, 31738]);
        assert_eq!(ports("31000-31001"), [31000, 31001]);
        assert_eq!(ports("[80]"), [80]);
        assert_eq!(ports("[65535-65535]"), [65535]);
    }

    #[test]
    fn ports_skip_malformed_parts() {
        assert!(ports("").is_empty());
        assert!(ports("[]").is_empty());
        assert!(ports("[").is_empty());
        assert!(ports("]").is_empty());
        assert!(ports("[,,]").is_empty());
        assert_eq!(
            ports("[a-b, 10-11, 5-3, 70000-70001, -, 1-2-3, 20-x, 30]"),
            [10, 11, 30]
        );
        assert_eq!(ports("[ 7 - 8 ,9]"), [7, 8, 9]);
        assert_eq!(ports("[65534-65535]"), [65534, 65535]);
        assert_eq!(ports("[\u{1F600}-5, 6-6]"), [6]);
    }

    #[test]
    fn ports_are_capped_per_task() {
        assert_eq!(parse_ports("[1-65535]").count(), MAX_PORTS_PER_TASK);
        let v = ports("[1-1000, 2000-3000]");
        assert_eq!(v.len(), MAX_PORTS_PER_TASK);
        assert_eq!(v[999], 1000);
        assert_eq!(v[1000], 2000);
        assert_eq!(*v.last().unwrap(), 2023);
    }

    #[test]
    fn all_ports_are_the_text_ranges_then_the_numeric_ones_capped_together() {
        let r = Resources {
            ports: Cow::Borrowed("[80-81]"),
            port_ranges: vec![(31000, 31001), (9, 5), (443, 443)],
        };
        assert_eq!(r.all_ports().collect::<Vec<_>>(), [80, 81, 31000, 31001, 443]);
        let numeric_only = Resources {
            port_ranges: vec![(1, 65535)],
            ..Resources::default()
        };
        assert_eq!(numeric_only.all_ports().count(), MAX_PORTS_PER_TASK);
        assert_eq!(numeric_only.all_ports().last(), Some(1024));
        let both = Resources {
            ports: Cow::Borrowed("[1-1000]"),
            port_ranges: vec![(2000, 3000)],
        };
        assert_eq!(both.all_ports().count(), MAX_PORTS_PER_TASK);
        assert_eq!(both.all_ports().last(), Some(2023));
        assert_eq!(Resources::default().all_ports().count(), 0);
    }

    #[test]
    fn an_agent_without_a_pid_is_at_its_hostname_and_port() {
        let agent = |pid: &'static str, port| Slave {
            pid: Cow::Borrowed(pid),
            hostname: Cow::Borrowed("agent1"),
            port,
            ..Slave::default()
        };
        assert_eq!(agent("", Some(5051)).host_port(), ("agent1", Some(5051)));
        assert_eq!(agent("", None).host_port(), ("agent1", None));
        assert_eq!(
            agent("slave(1)@10.0.0.5:5052", Some(5051)).host_port(),
            ("10.0.0.5", Some(5052)),
            "the pid comes first"
        );
        let s = parse(br#"{"slaves": [{"id": "a", "hostname": "h", "port": 5051}]}"#).unwrap();
        assert_eq!(
            s.slaves[0].host_port(),
            ("h", None),
            "a state document's `port` is not read"
        );
    }
}
