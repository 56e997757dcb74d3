//! A task read straight from its JSON text ([`read`]) when it has the common shape, without
//! `serde_json`'s visitors: keys matched as they are, strings borrowed, unknown values stepped over
//! (their syntax checked), the latest `TASK_RUNNING` status kept as it is read.
//!
//! It reads only what it reads exactly as [`Task`]'s serde reading does (the derive and
//! [`lenient`](super::super::lenient)'s visitors, with `serde_json`'s syntax): where it reads a task,
//! that reading gives the same task and ends at the same byte. Anything else gives `None` (a string
//! with an escape or a control character, a field of another type than the usual one or `null`, a
//! repeated field, an entry of a list that is not an object, nesting past [`DEPTH`], bad syntax, the
//! text ending first), and the caller reads the task with `serde_json`, which decides what it is (or
//! says why it is an error). Numbers of the fields that are read are read by `serde_json` itself.

use std::borrow::Cow;

use serde_json::de::StrRead;

use super::super::lenient;
use crate::mesos::state::{
    ContainerStatus, Discovery, DiscoveryPort, DiscoveryPorts, IpAddress, Label, NetworkInfo, Resources, Status, Task,
};

/// How deep values may nest here (the task's object is 1); deeper ones are left to `serde_json`,
/// whose own limit is far above.
const DEPTH: u32 = 24;

/// Not read here: the caller reads the task with `serde_json`.
struct Bail;

type Read<T> = Result<T, Bail>;

/// The task whose object starts `text`, and where it ends; `None` to read it with `serde_json`.
pub(super) fn read(text: &str) -> Option<(Task<'_>, usize)> {
    let mut c = Cursor { text, pos: 0, depth: 0 };
    let task = c.task().ok()?;
    Some((task, c.pos))
}

/// Which fields of an object were read: a second one is an error of the derive, left to it.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    fn first(&mut self, field: u32) -> Read<()> {
        let bit = 1 << field;
        match self.0 & bit {
            0 => {
                self.0 |= bit;
                Ok(())
            }
            _ => Err(Bail),
        }
    }
}

/// `text[pos..]` is unread.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    /// How many objects and arrays the read is in.
    depth: u32,
}

/// Where the first byte that ends a JSON string's plain run is in `b` (a quote, a backslash or a
/// control character), eight bytes at a time.
fn plain_run(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bytes of `x` below `n` (the lowest flagged byte is exact: a borrow only flags bytes above).
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let special = below(w ^ (ONES * u64::from(b'"')), 1) | below(w ^ (ONES * u64::from(b'\\')), 1) | below(w, 0x20);
        if special != 0 {
            return Some(at + (special.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    rest.iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| at + i)
}

impl<'a> Cursor<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not whitespace, left unread.
    fn peek(&mut self) -> Read<u8> {
        let bytes = self.bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b' ' | b'\n' | b'\t' | b'\r' => self.pos += 1,
                _ => return Ok(b),
            }
        }
        Err(Bail)
    }

    /// Takes the next byte that is not whitespace, which must be `byte`.
    fn eat(&mut self, byte: u8) -> Read<()> {
        match self.peek()? == byte {
            true => {
                self.pos += 1;
                Ok(())
            }
            false => Err(Bail),
        }
    }

    /// A string with neither escapes nor control characters.
    fn string(&mut self) -> Read<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let len = plain_run(self.bytes().get(start..).ok_or(Bail)?).ok_or(Bail)?;
        if self.bytes().get(start + len) != Some(&b'"') {
            return Err(Bail);
        }
        self.pos = start + len + 1;
        self.text.get(start..start + len).ok_or(Bail)
    }

    /// `word` (a literal), next.
    fn literal(&mut self, word: &str) -> Read<()> {
        match self
            .bytes()
            .get(self.pos..)
            .is_some_and(|b| b.starts_with(word.as_bytes()))
        {
            true => {
                self.pos += word.len();
                Ok(())
            }
            false => Err(Bail),
        }
    }

    /// A number's text, as JSON writes one: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Read<&'a str> {
        self.peek()?;
        let bytes = self.bytes();
        let start = self.pos;
        let mut at = start;
        let digits = |at: &mut usize| {
            let from = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at - from
        };
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => {
                digits(&mut at);
            }
            _ => return Err(Bail),
        }
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            if digits(&mut at) == 0 {
                return Err(Bail);
            }
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            if digits(&mut at) == 0 {
                return Err(Bail);
            }
        }
        // The number must end here (the text may go on: a number cut short is left to serde_json).
        if at >= bytes.len() {
            return Err(Bail);
        }
        self.pos = at;
        self.text.get(start..at).ok_or(Bail)
    }

    /// A number field, read by `serde_json` from its text as `lenient`'s `field` reads a value;
    /// `null` reads as `none`.
    fn number_with<T>(
        &mut self,
        none: T,
        field: fn(&mut serde_json::Deserializer<StrRead<'a>>) -> Result<T, serde_json::Error>,
    ) -> Read<T> {
        match self.peek()? {
            b'n' => self.literal("null").map(|()| none),
            b'-' | b'0'..=b'9' => {
                let text = self.number()?;
                let mut de = serde_json::Deserializer::from_str(text);
                let value = field(&mut de).map_err(|_| Bail)?;
                de.end().map_err(|_| Bail)?;
                Ok(value)
            }
            _ => Err(Bail),
        }
    }

    /// A string field: a string, or `null` for "".
    fn text_field(&mut self) -> Read<Cow<'a, str>> {
        match self.peek()? {
            b'"' => self.string().map(Cow::Borrowed),
            b'n' => self.literal("null").map(|()| Cow::Borrowed("")),
            _ => Err(Bail),
        }
    }

    /// A value stepped over, its syntax checked.
    fn skip(&mut self) -> Read<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(|c, _| c.skip()),
            b'[' => self.array(Self::skip),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            // `serde_json` refuses a number out of `f64`'s range even where it skips the value (`1e400`,
            // 400 digits): one that could be is left to it.
            _ => match self.number()? {
                n if n.len() > 20 || n.contains(['e', 'E']) => Err(Bail),
                _ => Ok(()),
            },
        }
    }

    /// Enters an object or an array (its opening byte next); false when it is empty (then read).
    fn open(&mut self, open: u8, close: u8) -> Read<bool> {
        self.eat(open)?;
        self.depth += 1;
        if self.depth > DEPTH {
            return Err(Bail);
        }
        match self.peek()? == close {
            true => {
                self.pos += 1;
                self.depth -= 1;
                Ok(false)
            }
            false => Ok(true),
        }
    }

    /// After an entry: true for another, false at the closing byte (read).
    fn next(&mut self, close: u8) -> Read<bool> {
        match self.peek()? {
            b',' => {
                self.pos += 1;
                Ok(true)
            }
            b if b == close => {
                self.pos += 1;
                self.depth -= 1;
                Ok(false)
            }
            _ => Err(Bail),
        }
    }

    /// An object: `entry` reads each value, given its key.
    fn object(&mut self, mut entry: impl FnMut(&mut Self, &'a str) -> Read<()>) -> Read<()> {
        let mut more = self.open(b'{', b'}')?;
        while more {
            let key = self.string()?;
            self.eat(b':')?;
            entry(self, key)?;
            more = self.next(b'}')?;
        }
        Ok(())
    }

    /// An array: `each` reads each element.
    fn array(&mut self, mut each: impl FnMut(&mut Self) -> Read<()>) -> Read<()> {
        let mut more = self.open(b'[', b']')?;
        while more {
            each(self)?;
            more = self.next(b']')?;
        }
        Ok(())
    }

    /// An object field (as [`lenient::object`]): an object read by `fields`, or `null` for the default.
    fn object_field<T: Default>(&mut self, fields: impl FnMut(&mut Self, &mut T, &'a str) -> Read<()>) -> Read<T> {
        let mut value = T::default();
        self.object_into(&mut value, fields)?;
        Ok(value)
    }

    /// [`Cursor::object_field`] into `value`, which is left as it is for `null`.
    fn object_into<T>(
        &mut self,
        value: &mut T,
        mut fields: impl FnMut(&mut Self, &mut T, &'a str) -> Read<()>,
    ) -> Read<()> {
        match self.peek()? {
            b'{' => self.object(|c, key| fields(c, value, key)),
            b'n' => self.literal("null"),
            _ => Err(Bail),
        }
    }

    /// An array field (as [`lenient::array`]): each object read by `each`; entries that are not
    /// objects are skipped; `null` reads as none.
    fn array_field(&mut self, mut each: impl FnMut(&mut Self) -> Read<()>) -> Read<()> {
        match self.peek()? {
            b'[' => self.array(|c| match c.peek()? {
                b'{' => each(c),
                _ => c.skip(),
            }),
            b'n' => self.literal("null"),
            _ => Err(Bail),
        }
    }

    /// A list of objects each read by `one` (a [`Cursor::object_field`]).
    fn objects<T>(&mut self, one: impl Fn(&mut Self) -> Read<T>) -> Read<Vec<T>> {
        let mut out = Vec::new();
        self.array_field(|c| {
            out.push(one(c)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// A task: an object (anything else is not read here: a list's entry that is not an object is
    /// skipped, not read as an empty task).
    fn task(&mut self) -> Read<Task<'a>> {
        if self.peek()? != b'{' {
            return Err(Bail);
        }
        let mut seen = Seen::default();
        self.object_field(|c, t: &mut Task<'a>, key| {
            let field = match key {
                "id" => 0,
                "name" => 1,
                "framework_id" => 2,
                "slave_id" => 3,
                "state" => 4,
                "resources" => 5,
                "statuses" => 6,
                "discovery" => 7,
                "labels" => 8,
                _ => return c.skip(),
            };
            seen.first(field)?;
            match field {
                0 => t.id = c.text_field()?,
                1 => t.name = c.text_field()?,
                2 => t.framework_id = c.text_field()?,
                3 => t.slave_id = c.text_field()?,
                4 => t.state = c.text_field()?,
                5 => t.resources = c.resources()?,
                6 => t.statuses = c.latest_running()?,
                7 => t.discovery = c.discovery()?,
                _ => t.labels = c.labels()?,
            }
            Ok(())
        })
    }

    fn resources(&mut self) -> Read<Resources<'a>> {
        let mut seen = Seen::default();
        self.object_field(|c, r: &mut Resources<'a>, key| match key {
            "ports" => {
                seen.first(0)?;
                r.ports = c.text_field()?;
                Ok(())
            }
            _ => c.skip(),
        })
    }

    /// As [`lenient::latest_running`]: only the latest `TASK_RUNNING` status is kept.
    fn latest_running(&mut self) -> Read<Vec<Status<'a>>> {
        let mut best: Option<Status<'a>> = None;
        self.array_field(|c| {
            let status = c.status()?;
            if status.state == "TASK_RUNNING" && status.timestamp > best.as_ref().map_or(-1.0, |b| b.timestamp) {
                best = Some(status);
            }
            Ok(())
        })?;
        Ok(best.into_iter().collect())
    }

    fn status(&mut self) -> Read<Status<'a>> {
        let mut seen = Seen::default();
        self.object_field(|c, s: &mut Status<'a>, key| {
            let field = match key {
                "state" => 0,
                "timestamp" => 1,
                "healthy" => 2,
                "labels" => 3,
                "container_status" => 4,
                _ => return c.skip(),
            };
            seen.first(field)?;
            match field {
                0 => s.state = c.text_field()?,
                1 => s.timestamp = c.number_with(0.0, |de| lenient::float(de))?,
                2 => s.healthy = c.healthy()?,
                3 => s.labels = c.labels()?,
                _ => s.container_status = c.container_status()?,
            }
            Ok(())
        })
    }

    /// As [`lenient::opt_bool`].
    fn healthy(&mut self) -> Read<Option<bool>> {
        match self.peek()? {
            b't' => self.literal("true").map(|()| Some(true)),
            b'f' => self.literal("false").map(|()| Some(false)),
            b'n' => self.literal("null").map(|()| None),
            _ => Err(Bail),
        }
    }

    fn labels(&mut self) -> Read<Vec<Label<'a>>> {
        self.objects(|c| {
            let mut seen = Seen::default();
            c.object_field(|c, l: &mut Label<'a>, key| match key {
                "key" => {
                    seen.first(0)?;
                    l.key = c.text_field()?;
                    Ok(())
                }
                "value" => {
                    seen.first(1)?;
                    l.value = c.text_field()?;
                    Ok(())
                }
                _ => c.skip(),
            })
        })
    }

    fn container_status(&mut self) -> Read<ContainerStatus<'a>> {
        let mut seen = Seen::default();
        self.object_field(|c, s: &mut ContainerStatus<'a>, key| match key {
            "network_infos" => {
                seen.first(0)?;
                s.network_infos = c.objects(Self::network_info)?;
                Ok(())
            }
            _ => c.skip(),
        })
    }

    fn network_info(&mut self) -> Read<NetworkInfo<'a>> {
        let mut seen = Seen::default();
        self.object_field(|c, n: &mut NetworkInfo<'a>, key| match key {
            "ip_addresses" => {
                seen.first(0)?;
                n.ip_addresses = c.objects(Self::ip_address)?;
                Ok(())
            }
            "ip_address" => {
                seen.first(1)?;
                n.ip_address = c.text_field()?;
                Ok(())
            }
            _ => c.skip(),
        })
    }

    fn ip_address(&mut self) -> Read<IpAddress<'a>> {
        let mut seen = Seen::default();
        self.object_field(|c, a: &mut IpAddress<'a>, key| match key {
            "ip_address" => {
                seen.first(0)?;
                a.ip_address = c.text_field()?;
                Ok(())
            }
            "protocol" => {
                seen.first(1)?;
                a.protocol = c.text_field()?;
                Ok(())
            }
            _ => c.skip(),
        })
    }

    fn discovery(&mut self) -> Read<Discovery<'a>> {
        let mut seen = Seen::default();
        self.object_field(|c, d: &mut Discovery<'a>, key| {
            let field = match key {
                "name" => 0,
                "visibility" => 1,
                "ports" => 2,
                _ => return c.skip(),
            };
            seen.first(field)?;
            match field {
                0 => d.name = c.text_field()?,
                1 => d.visibility = c.text_field()?,
                _ => d.ports = c.discovery_ports()?,
            }
            Ok(())
        })
    }

    fn discovery_ports(&mut self) -> Read<DiscoveryPorts<'a>> {
        let mut seen = Seen::default();
        self.object_field(|c, p: &mut DiscoveryPorts<'a>, key| match key {
            "ports" => {
                seen.first(0)?;
                p.ports = c.objects(Self::discovery_port)?;
                Ok(())
            }
            _ => c.skip(),
        })
    }

    fn discovery_port(&mut self) -> Read<DiscoveryPort<'a>> {
        let mut seen = Seen::default();
        self.object_field(|c, p: &mut DiscoveryPort<'a>, key| {
            let field = match key {
                "number" => 0,
                "name" => 1,
                "protocol" => 2,
                _ => return c.skip(),
            };
            seen.first(field)?;
            match field {
                0 => p.number = c.number_with(None, |de| lenient::port(de))?,
                1 => p.name = c.text_field()?,
                _ => p.protocol = c.text_field()?,
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
