//! A state document read as it arrives ([`read_split`]), at the speed of a read from a slice: the
//! walker's reading ([`super::read`]) of a body that is never held whole.
//!
//! The body comes into a buffer that holds the unread tail (the value being read: grown only for a
//! value bigger than half of it that is used; an ignored one is read through). The document's frame
//! (its object, the `frameworks` array, each framework's object, every array that is a field of
//! those: four levels at most, without recursion) is read here, a byte of syntax at a time; every
//! value in it (a task, an agent, a field's string, an ignored value) is read by `serde_json` from
//! the buffer, its strings borrowed, and says where it ends (nesting inside it is `serde_json`'s, with
//! its depth limit). A value cut by the buffer's end (an error of `serde_json` there, while the body
//! goes on) is read again once more of the body is in. The bytes are checked to be UTF-8 once, as
//! they come (each byte once), and values are read from them as text ([`Text::Str`]), so that
//! `serde_json` does not check every string it borrows again; where the body is not UTF-8 a value is
//! read from the bytes as before ([`Text::Bytes`], which says why).
//!
//! It either reads what [`super::read`] reads from the whole body (the same header, the same tasks
//! handed to the sink in the same order), or stops: on a read error of the body, or when the document
//! does not read cleanly ([`Stopped::ReadWhole`]: bad JSON, not a state document, a field repeated),
//! for which the caller reads it whole to say why, as [`super::read`] says it.

use std::borrow::Cow;
use std::io;

use serde::de::{Deserializer, IgnoredAny};
use serde::Deserialize;
use serde_json::error::Category;

use super::super::lenient::Element;
use super::{task, Arr, Float, Key, Obj, Seen, Str, TaskSink, DOCUMENT, FRAMEWORK};
use crate::mesos::state::{owned, Framework, Header, MasterInfo, Skipped, Slave, Task};

/// The buffer's size at first.
const CHUNK: usize = 1 << 20;

/// Why a document was not read as it arrived.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// The body could not be read.
    Io(io::Error),
    /// The document does not read cleanly (bad JSON, not a state, a field repeated): read it whole
    /// to say why ([`super::read`]).
    ReadWhole,
}

/// Reads a state document from `body` as it arrives: the header is returned, the tasks go to `sink`
/// as [`super::read`] hands them over.
pub(crate) fn read_split(body: impl io::Read, sink: &mut dyn for<'a> TaskSink<'a>) -> Result<Header<'static>, Stopped> {
    read_with(body, sink, CHUNK)
}

/// [`read_split`] with a buffer of `chunk` bytes at first.
pub(super) fn read_with(
    body: impl io::Read,
    sink: &mut dyn for<'a> TaskSink<'a>,
    chunk: usize,
) -> Result<Header<'static>, Stopped> {
    let mut input = Input {
        body,
        buf: vec![0; chunk.max(1)],
        pos: 0,
        filled: 0,
        utf8_to: 0,
        utf8_bad: false,
        ended: false,
    };
    let header = input.document(sink)?;
    match input.peek()? {
        None => Ok(header),
        // Trailing characters.
        Some(_) => Err(Stopped::ReadWhole),
    }
}

/// The body as it arrives: `buf[pos..filled]` is read and not used yet.
struct Input<R> {
    body: R,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    /// `buf[pos..utf8_to]` is UTF-8, checked already (when `utf8_to` >= `pos`: [`Input::text`]).
    utf8_to: usize,
    /// What stops it at `utf8_to` is not UTF-8 (rather than the end of the bytes read, or a
    /// character they cut short).
    utf8_bad: bool,
    /// The body has no more.
    ended: bool,
}

/// The unread bytes a value is read from: as text where they are UTF-8 (the longest such start of
/// them), else as bytes (they are not: `serde_json` says where, and why, as from a slice).
#[derive(Clone, Copy)]
enum Text<'b> {
    Str(&'b str),
    Bytes(&'b [u8]),
}

impl<'b> Text<'b> {
    fn bytes(self) -> &'b [u8] {
        match self {
            Text::Str(s) => s.as_bytes(),
            Text::Bytes(b) => b,
        }
    }

    fn len(self) -> usize {
        self.bytes().len()
    }
}

/// Whether a value read from text that stops short of the unread bytes (its `len`) needs them: it
/// reached its end (a number there may go on, an error there may be the bytes').
fn reaches<T>(read: &Result<(T, usize), usize>, delimited: bool, len: usize) -> bool {
    match read {
        Ok((_, end)) => !delimited && *end >= len,
        Err(at) => *at >= len,
    }
}

/// The value at the start of `text` as `T` (its strings borrowed), and where it ends; on an error,
/// where it is (at `text.len()`: the value may go on past `text`).
fn one<'b, T: Deserialize<'b>>(text: Text<'b>) -> Result<(T, usize), usize> {
    match text {
        Text::Str(s) => first(serde_json::Deserializer::from_str(s), s.as_bytes()),
        Text::Bytes(b) => first(serde_json::Deserializer::from_slice(b), b),
    }
}

/// [`one`] from `de`, which reads `bytes`.
fn first<'b, R: serde_json::de::Read<'b>, T: Deserialize<'b>>(
    de: serde_json::Deserializer<R>,
    bytes: &[u8],
) -> Result<(T, usize), usize> {
    let mut values = de.into_iter::<T>();
    match values.next() {
        Some(Ok(value)) => Ok((value, values.byte_offset())),
        Some(Err(e)) => Err(offset(bytes, &e)),
        None => Err(bytes.len()),
    }
}

/// Where in `bytes` `serde_json`'s error `e` from reading them is: its line and column counted back
/// to an offset (the column counts bytes from the line's start).
fn offset(bytes: &[u8], e: &serde_json::Error) -> usize {
    let line_start = match e.line().checked_sub(2) {
        None => 0,
        Some(newlines) => bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(newlines)
            .map_or(bytes.len(), |(i, _)| i + 1),
    };
    line_start + e.column()
}

/// An array's entry as [`lenient::array`](super::super::lenient::array) reads it: `Some` for an
/// object.
struct Entry<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entry<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Element::<T>::new()).map(Entry)
    }
}

/// Whether the direct reading of a task ([`task::read`]) agrees with `serde_json`'s on the value that
/// starts `text`: wherever the direct reading reads a task, `serde_json` reads the same task, ending at
/// the same byte (the `task_reader` fuzz target). `Err` says how they differ.
#[cfg(feature = "internals")]
pub fn task_readers_agree(text: &str) -> Result<(), String> {
    let Some((task, end)) = task::read(text) else {
        return Ok(());
    };
    match one::<Entry<Task>>(Text::Str(text)) {
        Ok((Entry(Some(want)), at)) if at == end && format!("{want:?}") == format!("{task:?}") => Ok(()),
        Ok((Entry(want), at)) => Err(format!("read as {task:?} to {end}; serde_json: {want:?} to {at}")),
        Err(at) => Err(format!("read as {task:?} to {end}; serde_json: an error at {at}")),
    }
}

/// Where a framework's tasks go (see [`super::To`]).
enum To<'s> {
    Sink(&'s mut dyn for<'a> TaskSink<'a>),
    /// Held (their bytes) until the framework's `id` is read.
    Held(&'s mut Held),
    Nowhere,
}

/// The tasks of a framework listed before its `id`, as their text.
#[derive(Default)]
struct Held {
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl<R: io::Read> Input<R> {
    /// The next byte that is not whitespace, left unread; `None` at the end of the body.
    fn peek(&mut self) -> Result<Option<u8>, Stopped> {
        loop {
            while let Some(&b) = self.buf[..self.filled].get(self.pos) {
                match b {
                    b' ' | b'\n' | b'\t' | b'\r' => self.pos += 1,
                    _ => return Ok(Some(b)),
                }
            }
            if !self.more()? {
                return Ok(None);
            }
        }
    }

    /// Takes the next byte that is not whitespace, which must be `byte`.
    fn expect(&mut self, byte: u8) -> Result<(), Stopped> {
        match self.peek()? == Some(byte) {
            true => {
                self.pos += 1;
                Ok(())
            }
            false => Err(Stopped::ReadWhole),
        }
    }

    /// Reads more of the body after the unread bytes (moved to the buffer's start; the buffer doubles
    /// when they fill half of it); false at the body's end.
    fn more(&mut self) -> Result<bool, Stopped> {
        if self.ended {
            return Ok(false);
        }
        self.buf.copy_within(self.pos..self.filled, 0);
        self.filled -= self.pos;
        match self.utf8_to.checked_sub(self.pos) {
            Some(to) => self.utf8_to = to,
            None => (self.utf8_to, self.utf8_bad) = (0, false),
        }
        self.pos = 0;
        if self.filled * 2 > self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.body.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.ended = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Stopped::Io(e)),
            }
        }
    }

    /// The unread bytes as text up to where they stop being UTF-8 (only the bytes not checked
    /// before are), and whether what stops them there is bytes that are not UTF-8.
    fn text(&mut self) -> (Text<'_>, bool) {
        let (pos, filled) = (self.pos, self.filled);
        // Not at a character's start: the bytes are not UTF-8 (a value never ends inside one).
        if self.buf.get(pos).is_some_and(|&b| b & 0xc0 == 0x80) {
            return (Text::Bytes(&self.buf[pos..filled]), true);
        }
        if self.utf8_to < pos {
            self.utf8_to = pos;
            self.utf8_bad = false;
        }
        if !self.utf8_bad && self.utf8_to < filled {
            match std::str::from_utf8(&self.buf[self.utf8_to..filled]) {
                Ok(_) => self.utf8_to = filled,
                Err(e) => {
                    self.utf8_to += e.valid_up_to();
                    self.utf8_bad = e.error_len().is_some();
                }
            }
        }
        let checked = &self.buf[pos..self.utf8_to.min(filled)];
        // SAFETY: `buf[utf8_to..]` was checked to be UTF-8 as far as the new `utf8_to` (each check
        // starting where the last one's UTF-8 ended, at a character's start), and `pos`, at or
        // before it, is at a character's start (checked above).
        let text = unsafe { std::str::from_utf8_unchecked(checked) };
        (Text::Str(text), self.utf8_bad)
    }

    /// The value at the next byte that is not whitespace: `parse` gets the unread bytes, reads one
    /// value from their start and says where it ends or where its error is ([`one`]); it is asked
    /// again with more of the body while the value may go on past the bytes read (it reaches their
    /// end, or its error is there: an end of file, or a number cut short), so that only what it
    /// returns for a whole value is kept.
    fn value<T>(&mut self, mut parse: impl FnMut(Text<'_>) -> Result<(T, usize), usize>) -> Result<T, Stopped> {
        let Some(first) = self.peek()? else {
            return Err(Stopped::ReadWhole);
        };
        // A number or a literal ends at the first byte that is not its own: one that reaches the end
        // of the bytes read may go on.
        let delimited = matches!(first, b'{' | b'[' | b'"');
        loop {
            let unread = self.filled - self.pos;
            let (text, bad) = self.text();
            let mut len = text.len();
            let mut read = parse(text);
            // Bytes that are not UTF-8 where the text stops: read from the bytes, which say why.
            if bad && len < unread && reaches(&read, delimited, len) {
                read = parse(Text::Bytes(&self.buf[self.pos..self.filled]));
                len = unread;
            }
            match read {
                Ok((value, end)) if delimited || end < len || self.ended => {
                    self.pos += end;
                    return Ok(value);
                }
                Ok(_) => {}
                Err(at) if at >= len && !self.ended => {}
                Err(_) => return Err(Stopped::ReadWhole),
            }
            self.more()?;
        }
    }

    /// An object's entries (the next value must be an object): `entry` reads each one's value, given
    /// the key's index in `fields` (`None` for any other key).
    fn object(
        &mut self,
        fields: &[&str],
        mut entry: impl FnMut(&mut Self, Option<usize>) -> Result<(), Stopped>,
    ) -> Result<(), Stopped> {
        self.expect(b'{')?;
        if self.peek()? == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek()? != Some(b'"') {
                return Err(Stopped::ReadWhole);
            }
            let field =
                self.value(|b| one::<Key>(b).map(|(key, end)| (fields.iter().position(|f| *f == key.0), end)))?;
            self.expect(b':')?;
            entry(self, field)?;
            match self.peek()? {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Stopped::ReadWhole),
            }
        }
    }

    /// An array's elements (the next value must be an array): `each` reads each one.
    fn array(&mut self, mut each: impl FnMut(&mut Self) -> Result<(), Stopped>) -> Result<(), Stopped> {
        self.expect(b'[')?;
        if self.peek()? == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            each(self)?;
            match self.peek()? {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Stopped::ReadWhole),
            }
        }
    }

    /// Whether the next value is an array (to be read an element at a time).
    fn at_array(&mut self) -> Result<bool, Stopped> {
        Ok(self.peek()? == Some(b'['))
    }

    /// A value that is not used: an array an element at a time, so that none is held whole.
    fn skip(&mut self) -> Result<(), Stopped> {
        match self.at_array()? {
            true => self.array(Self::ignored),
            false => self.ignored(),
        }
    }

    /// A value that is not used, read from the buffer as any other until it fills half of it: then
    /// it is read through, never held (a string, an object or an array ends at its last byte, so
    /// that what the read takes of the body beyond the buffer is the value's, and what it read
    /// ahead goes back into the buffer).
    fn ignored(&mut self) -> Result<(), Stopped> {
        let delimited = matches!(self.peek()?, Some(b'{' | b'[' | b'"'));
        loop {
            let unread = &self.buf[self.pos..self.filled];
            match one::<IgnoredAny>(Text::Bytes(unread)) {
                Ok((_, end)) if delimited || end < unread.len() || self.ended => {
                    self.pos += end;
                    return Ok(());
                }
                Ok(_) => {}
                Err(at) if at >= unread.len() && !self.ended => {}
                Err(_) => return Err(Stopped::ReadWhole),
            }
            if delimited && unread.len() * 2 > self.buf.len() {
                return self.read_through();
            }
            self.more()?;
        }
    }

    /// [`Input::ignored`] of a value bigger than half the buffer, which holds its start.
    fn read_through(&mut self) -> Result<(), Stopped> {
        let mut rest = io::BufReader::with_capacity(self.buf.len(), &mut self.body);
        let start = &self.buf[self.pos..self.filled];
        let mut de = serde_json::Deserializer::from_reader(io::Read::chain(start, &mut rest));
        match IgnoredAny::deserialize(&mut de) {
            Ok(_) => {}
            Err(e) if e.classify() == Category::Io => return Err(Stopped::Io(e.into())),
            Err(_) => return Err(Stopped::ReadWhole),
        }
        drop(de);
        let ahead = rest.buffer();
        self.buf[..ahead.len()].copy_from_slice(ahead);
        self.pos = 0;
        self.filled = ahead.len();
        (self.utf8_to, self.utf8_bad) = (0, false);
        Ok(())
    }

    /// A field that is read as an array of objects, when it is not an array (it reads as none).
    fn not_an_array(&mut self) -> Result<(), Stopped> {
        self.value(|b| one::<Arr<Skipped>>(b).map(|(_, end)| ((), end)))
    }

    /// A string field (anything else reads as "").
    fn string(&mut self) -> Result<Cow<'static, str>, Stopped> {
        self.value(|b| one::<Str>(b).map(|(s, end)| (owned(&s.0), end)))
    }

    /// `slaves` or `recovered_slaves`.
    fn agents(&mut self) -> Result<Vec<Slave<'static>>, Stopped> {
        let mut agents = Vec::new();
        if !self.at_array()? {
            self.not_an_array()?;
            return Ok(agents);
        }
        self.array(|input| {
            let agent =
                input.value(|b| one::<Entry<Slave>>(b).map(|(a, end)| (a.0.map(|a| a.to_owned_slave()), end)))?;
            agents.extend(agent);
            Ok(())
        })?;
        Ok(agents)
    }

    /// The document, as [`super::Document`] reads it.
    fn document(&mut self, sink: &mut dyn for<'a> TaskSink<'a>) -> Result<Header<'static>, Stopped> {
        let mut h = Header::default();
        let mut seen = Seen::default();
        self.object(&DOCUMENT, |input, field| {
            let Some(field) = field else {
                return input.skip();
            };
            if seen.first::<serde_json::Error>(field, DOCUMENT[field]).is_err() {
                return Err(Stopped::ReadWhole);
            }
            match field {
                0 => h.leader = input.string()?,
                1 => h.pid = input.string()?,
                2 => h.hostname = input.string()?,
                3 => {
                    h.leader_info = input.value(|b| {
                        one::<Obj<MasterInfo>>(b).map(|(m, end)| {
                            let hostname = owned(&m.0.hostname);
                            (MasterInfo { hostname }, end)
                        })
                    })?
                }
                4 => h.slaves = input.agents()?,
                5 => h.frameworks = input.frameworks(&mut *sink)?,
                6 => h.elected_time = input.value(|b| one::<Float>(b).map(|(f, end)| (f.0, end)))?,
                _ => h.recovered_slaves = Some(input.agents()?),
            }
            Ok(())
        })?;
        Ok(h)
    }

    /// `frameworks`, as [`super::Frameworks`] reads it.
    fn frameworks(&mut self, sink: &mut dyn for<'a> TaskSink<'a>) -> Result<Vec<Framework<'static, Skipped>>, Stopped> {
        let mut out = Vec::new();
        if !self.at_array()? {
            self.not_an_array()?;
            return Ok(out);
        }
        self.array(|input| {
            match input.peek()? == Some(b'{') {
                true => {
                    let framework = input.framework(out.len(), &mut *sink)?;
                    out.push(framework);
                }
                // Not a framework: skipped.
                false => input.value(|b| one::<Entry<Skipped>>(b).map(|(_, end)| ((), end)))?,
            }
            Ok(())
        })?;
        out.shrink_to_fit();
        Ok(out)
    }

    /// `frameworks[index]`, an object, as [`super::OneFramework`] reads it.
    fn framework(
        &mut self,
        index: usize,
        sink: &mut dyn for<'a> TaskSink<'a>,
    ) -> Result<Framework<'static, Skipped>, Stopped> {
        let mut fw = Framework::<Skipped>::default();
        let mut seen = Seen::default();
        let mut held = Held::default();
        self.object(&FRAMEWORK, |input, field| {
            let Some(field) = field else {
                return input.skip();
            };
            if seen.first::<serde_json::Error>(field, FRAMEWORK[field]).is_err() {
                return Err(Stopped::ReadWhole);
            }
            match field {
                0 => fw.id = input.string()?,
                1 => fw.name = input.string()?,
                2 => fw.pid = input.string()?,
                3 => fw.hostname = input.string()?,
                _ => {
                    let to = match (sink.reads_tasks(), seen.has(0)) {
                        (false, _) => To::Nowhere,
                        (true, true) => To::Sink(&mut *sink),
                        (true, false) => To::Held(&mut held),
                    };
                    let count = input.tasks(index, &fw, to)?;
                    fw.tasks = vec![Skipped; count];
                }
            }
            Ok(())
        })?;
        let mut start = 0;
        for &end in &held.ends {
            let text = &held.text[start..end];
            start = end;
            match serde_json::from_slice::<Entry<Task>>(text) {
                Ok(Entry(Some(task))) => sink.task(index, &fw, task),
                // Read once already.
                _ => return Err(Stopped::ReadWhole),
            }
        }
        sink.framework(index, &fw);
        Ok(fw)
    }

    /// A framework's `tasks`: how many are objects (each handed `to` where it goes).
    fn tasks(&mut self, index: usize, fw: &Framework<'static, Skipped>, mut to: To<'_>) -> Result<usize, Stopped> {
        if !self.at_array()? {
            self.not_an_array()?;
            return Ok(0);
        }
        let mut count = 0;
        self.array(|input| {
            let object = match &mut to {
                To::Nowhere => input.value(|b| one::<Entry<Skipped>>(b).map(|(t, end)| (t.0.is_some(), end)))?,
                To::Sink(sink) => input.value(|b| {
                    // The common shape read straight from the text; anything else by `serde_json`.
                    let fast = match b {
                        Text::Str(s) => task::read(s),
                        Text::Bytes(_) => None,
                    };
                    let read = match fast {
                        Some((task, end)) => Ok((Entry(Some(task)), end)),
                        None => one::<Entry<Task>>(b),
                    };
                    read.map(|(t, end)| match t.0 {
                        Some(task) => {
                            sink.task(index, fw, task);
                            (true, end)
                        }
                        None => (false, end),
                    })
                })?,
                To::Held(held) => input.value(|b| {
                    one::<Entry<Task>>(b).map(|(t, end)| {
                        if t.0.is_some() {
                            held.text.extend_from_slice(&b.bytes()[..end]);
                            held.ends.push(held.text.len());
                        }
                        (t.0.is_some(), end)
                    })
                })?,
            };
            count += usize::from(object);
            Ok(())
        })?;
        Ok(count)
    }
}
