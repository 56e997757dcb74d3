//! `deserialize_with` helpers that read a value of the expected shape and turn anything else (`null`,
//! another JSON type) into the default instead of an error: the visitors behind [`super`]'s leniency,
//! shared with the operator API's events ([`crate::mesos::operator`]). They decide only how a JSON shape
//! reads, never what a field means.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Skips the rest of a map that is not used.
pub(super) fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Skips the rest of a sequence that is not used.
pub(super) fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
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
pub(super) use scalars_to;

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
pub(super) use non_arrays_to;

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
pub(super) use non_objects_to;

/// A string; anything else reads as "".
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Cow<'de, str>, D::Error> {
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
pub(crate) fn float<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
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

/// A JSON boolean as `Some`; anything else (absent, `null`, `"true"`, a number) reads as `None`, which
/// for a status's `healthy` means "no health check".
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_borrowed_str<E: serde::de::Error>(self, _: &'de str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        scalars_to!(None; visit_i64: i64, visit_u64: u64, visit_f64: f64);
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            drain_map(map).map(|()| None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            drain_seq(seq).map(|()| None)
        }
    }
    d.deserialize_any(V)
}

/// A port number 0-65535 (integral number or numeric string); anything else reads as `None`.
pub(crate) fn port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
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
pub(super) struct Element<T>(PhantomData<T>);

impl<T> Element<T> {
    pub(super) fn new() -> Element<T> {
        Element(PhantomData)
    }
}

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
pub(crate) fn latest_running<'de, D>(d: D) -> Result<Vec<super::Status<'de>>, D::Error>
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

/// The document itself: a JSON object, and nothing else.
pub(crate) fn top_object<'de, D, T>(d: D) -> Result<T, D::Error>
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
pub(crate) fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    d.deserialize_any(Object(PhantomData))
}

/// [`array`] for a field whose absence means something else than an empty list: `Some` whenever the
/// field is there (a value that is not an array reads as an empty one).
pub(crate) fn opt_array<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    array(d).map(Some)
}

/// An array of objects; anything else reads as empty, and elements that are not objects are
/// skipped.
pub(crate) fn array<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
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
            // Not shrunk: a parsed task lives only until it is packed or its records are made, and a
            // reallocation per array was a tenth of a task's parse.
            Ok(out)
        }
        non_arrays_to!(Vec::new());
    }
    d.deserialize_any(V(PhantomData))
}
