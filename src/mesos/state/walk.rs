//! A state document read in one pass ([`read`]): its [`Header`] (everything but the tasks) and each of
//! its tasks, handed to a [`TaskSink`] as soon as it is read and dropped after, so that a refresh
//! parses the body once and never holds the parsed form of every task.
//!
//! The header's fields are read as the derive on [`super::State`] reads them (what [`super::parse`]
//! gives): the same leniency ([`lenient`]'s visitors), unknown keys skipped, a repeated key an error
//! naming it, a document that is not an object refused. Tasks are read as [`lenient::array`] reads
//! them (entries that are not objects skipped). It decides nothing about what a task means.
//!
//! [`read`] reads a body held whole; [`read_split`] reads the same document as it arrives (see
//! [`split`]).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::lenient::{self, drain_map, drain_seq, non_arrays_to, non_objects_to, scalars_to, Element};
use super::{Framework, Header, MasterInfo, Skipped, Slave, Task};

/// Where the tasks of a document go as [`read`] reads them.
pub(crate) trait TaskSink<'a> {
    /// Whether tasks are read at all: `false` only checks their syntax and counts them (a header).
    fn reads_tasks(&self) -> bool {
        true
    }

    /// A task of `frameworks[framework]` (the index among the entries that are objects), with what was
    /// read of its framework before it: its `id` at least (a framework's tasks listed before its `id`
    /// are held until the framework's object ends).
    fn task(&mut self, framework: usize, read: &Framework<'a, Skipped>, task: Task<'a>);

    /// `frameworks[framework]` was read whole (after its tasks).
    fn framework(&mut self, _framework: usize, _whole: &Framework<'a, Skipped>) {}
}

/// No sink: the tasks are skipped (what [`super::parse_header`] reads).
impl TaskSink<'_> for () {
    fn reads_tasks(&self) -> bool {
        false
    }

    fn task(&mut self, _: usize, _: &Framework<'_, Skipped>, _: Task<'_>) {}
}

/// Reads a state document: the header is returned, the tasks go to `sink` in document order. Errors
/// as [`super::parse`] (the first in document order): a body that is not one JSON object, bad JSON,
/// a repeated field.
pub(crate) fn read<'a>(body: &'a [u8], sink: &mut dyn TaskSink<'a>) -> Result<Header<'a>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let header = de.deserialize_map(Document { sink })?;
    de.end()?;
    Ok(header)
}

/// A key, borrowed from the body unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Which fields of an object were read: a second one is an error, as the derive makes it.
#[derive(Default)]
struct Seen(u16);

impl Seen {
    fn first<E: serde::de::Error>(&mut self, field: usize, name: &'static str) -> Result<(), E> {
        let bit = 1 << field;
        match self.0 & bit {
            0 => {
                self.0 |= bit;
                Ok(())
            }
            _ => Err(E::duplicate_field(name)),
        }
    }

    fn has(&self, field: usize) -> bool {
        self.0 & (1 << field) != 0
    }
}

/// Field values read as `lenient`'s functions read them.
struct Str<'a>(Cow<'a, str>);
struct Float(f64);
struct Obj<T>(T);
struct Arr<T>(Vec<T>);
struct OptArr<T>(Option<Vec<T>>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::string(d).map(Str)
    }
}

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::float(d).map(Float)
    }
}

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::object(d).map(Obj)
    }
}

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Arr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::array(d).map(Arr)
    }
}

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for OptArr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::opt_array(d).map(OptArr)
    }
}

/// The document's fields, in the order [`super::State`] declares them.
const DOCUMENT: [&str; 8] = [
    "leader",
    "pid",
    "hostname",
    "leader_info",
    "slaves",
    "frameworks",
    "elected_time",
    "recovered_slaves",
];

struct Document<'s, 'a> {
    sink: &'s mut dyn TaskSink<'a>,
}

impl<'de: 'a, 'a> Visitor<'de> for Document<'_, 'a> {
    type Value = Header<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a state document (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header<'a>, A::Error> {
        let mut h = Header::default();
        let mut seen = Seen::default();
        while let Some(Key(key)) = map.next_key()? {
            let Some(field) = DOCUMENT.iter().position(|f| *f == key) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            seen.first(field, DOCUMENT[field])?;
            match field {
                0 => h.leader = map.next_value::<Str>()?.0,
                1 => h.pid = map.next_value::<Str>()?.0,
                2 => h.hostname = map.next_value::<Str>()?.0,
                3 => h.leader_info = map.next_value::<Obj<MasterInfo>>()?.0,
                4 => h.slaves = map.next_value::<Arr<Slave>>()?.0,
                5 => h.frameworks = map.next_value_seed(Frameworks { sink: &mut *self.sink })?,
                6 => h.elected_time = map.next_value::<Float>()?.0,
                _ => h.recovered_slaves = map.next_value::<OptArr<Slave>>()?.0,
            }
        }
        Ok(h)
    }
}

/// `frameworks`: an array (anything else reads as none) of objects (other entries skipped).
struct Frameworks<'s, 'a> {
    sink: &'s mut dyn TaskSink<'a>,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for Frameworks<'_, 'a> {
    type Value = Vec<Framework<'a, Skipped>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Frameworks<'_, 'a> {
    type Value = Vec<Framework<'a, Skipped>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let one = OneFramework {
                index: out.len(),
                sink: &mut *self.sink,
            };
            match seq.next_element_seed(one)? {
                Some(framework) => out.extend(framework),
                None => break,
            }
        }
        out.shrink_to_fit();
        Ok(out)
    }
    non_arrays_to!(Vec::new());
}

/// A framework's fields, in the order [`Framework`] declares them.
const FRAMEWORK: [&str; 5] = ["id", "name", "pid", "hostname", "tasks"];

/// One entry of `frameworks`: `Some` for an object.
struct OneFramework<'s, 'a> {
    index: usize,
    sink: &'s mut dyn TaskSink<'a>,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for OneFramework<'_, 'a> {
    type Value = Option<Framework<'a, Skipped>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for OneFramework<'_, 'a> {
    type Value = Option<Framework<'a, Skipped>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fw = Framework::<Skipped>::default();
        let mut seen = Seen::default();
        // Tasks read before the framework's `id`, which the sink is promised.
        let mut held = Vec::new();
        while let Some(Key(key)) = map.next_key()? {
            let Some(field) = FRAMEWORK.iter().position(|f| *f == key) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            seen.first(field, FRAMEWORK[field])?;
            match field {
                0 => fw.id = map.next_value::<Str>()?.0,
                1 => fw.name = map.next_value::<Str>()?.0,
                2 => fw.pid = map.next_value::<Str>()?.0,
                3 => fw.hostname = map.next_value::<Str>()?.0,
                _ => {
                    let tasks = Tasks {
                        index: self.index,
                        framework: &fw,
                        to: match (self.sink.reads_tasks(), seen.has(0)) {
                            (false, _) => To::Nowhere,
                            (true, true) => To::Sink(&mut *self.sink),
                            (true, false) => To::Held(&mut held),
                        },
                    };
                    fw.tasks = map.next_value_seed(tasks)?;
                }
            }
        }
        for task in held {
            self.sink.task(self.index, &fw, task);
        }
        self.sink.framework(self.index, &fw);
        Ok(Some(fw))
    }
    non_objects_to!(None);
}

/// Where a framework's tasks go.
enum To<'s, 'a> {
    Sink(&'s mut dyn TaskSink<'a>),
    /// Held until the framework's `id` is read.
    Held(&'s mut Vec<Task<'a>>),
    /// Nowhere: only counted.
    Nowhere,
}

/// A framework's `tasks`: an array (anything else reads as none) of objects (other entries skipped);
/// counted, one [`Skipped`] each.
struct Tasks<'s, 'a> {
    index: usize,
    framework: &'s Framework<'a, Skipped>,
    to: To<'s, 'a>,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for Tasks<'_, 'a> {
    type Value = Vec<Skipped>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Skipped>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Tasks<'_, 'a> {
    type Value = Vec<Skipped>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Vec<Skipped>, A::Error> {
        let mut count = 0;
        loop {
            let read = match &mut self.to {
                To::Nowhere => seq.next_element_seed(Element::<Skipped>::new())?.map(|t| t.is_some()),
                To::Sink(sink) => seq
                    .next_element_seed(Element::<Task<'de>>::new())?
                    .map(|task| match task {
                        Some(task) => {
                            sink.task(self.index, self.framework, task);
                            true
                        }
                        None => false,
                    }),
                To::Held(held) => seq
                    .next_element_seed(Element::<Task<'de>>::new())?
                    .map(|task| match task {
                        Some(task) => {
                            held.push(task);
                            true
                        }
                        None => false,
                    }),
            };
            match read {
                Some(was_object) => count += usize::from(was_object),
                None => break,
            }
        }
        // `Skipped` takes no room: this only holds the count.
        Ok(vec![Skipped; count])
    }
    non_arrays_to!(Vec::new());
}

mod split;
mod task;

#[cfg(feature = "internals")]
pub use split::task_readers_agree;
pub(crate) use split::{read_split, Stopped};

#[cfg(test)]
mod tests;
