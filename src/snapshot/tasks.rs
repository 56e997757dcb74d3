//! The tasks of a snapshot kept up to date by edits (stream mode, polls as edits), for `/v1/enumerate`,
//! for a failover's carry and for taking a task's records away again. Copy-on-write in chunks of slots
//! like the nodes ([`super::chunk`]): a published snapshot shares every chunk of tasks no event touched.
//!
//! A task keeps its name, its id and its *source*: what its records were generated from, in the
//! refresher's compact form (opaque here: a few dozen bytes), from which the table's [`Regenerate`]
//! makes the same records again when they are needed. Its records themselves are not kept (12 bytes
//! each, ten a task: they were two thirds of the table). Its id is kept as what it shares with its
//! name and the rest, a UUID in 16 bytes (Marathon's ids are `app.uuid`: 19 bytes where the text took
//! 46). A chunk keeps its tasks' bytes back to back in one array (no allocation per task), read as
//! borrowed [`TaskEntry`]s; what taken tasks leave behind is dropped when it outgrows what is live.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::list::{Data, RData, RecordList};
use crate::wire::{text_to_wire, wire_to_text};

const CHUNK: usize = 256;

/// Makes a task's records again from what the table keeps of it: the same records its edit added,
/// in a one-task list (the table's tasks only ever come from one generator, whose settings and view
/// of the agents stay what they were while the table lives: a change to either is a full build).
pub(crate) trait Regenerate: Send + Sync {
    /// The records of `entry`, which runs on agent `agent` (its id), of the table's `frameworks`.
    fn records(&self, entry: &TaskEntry<'_>, agent: &str, frameworks: &[String]) -> RecordList;
}

/// One record of a task, as the snapshot stores it and `/v1/enumerate` lists it: the owner and an SRV
/// record's target spelled as the snapshot spells them, and whether its address points back (PTR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskRecord {
    pub(crate) owner: String,
    pub(crate) data: RData,
    pub(crate) reverse: bool,
}

/// The records of a task's one-task list as the snapshot stores them (those of a name DNS cannot
/// carry skipped, as an edit skips them).
pub(crate) fn stored_records(list: &RecordList) -> Vec<TaskRecord> {
    let mut wire = Vec::with_capacity(256);
    // (A name the snapshot can hold reads back as its text when that is lower-case and fully
    // qualified, as generated names are: no second conversion then.)
    let mut spelled = |text: &str| {
        text_to_wire(text, &mut wire)?;
        let as_is = text.ends_with('.') && !text.bytes().any(|b| b.is_ascii_uppercase());
        Some(if as_is { text.to_owned() } else { wire_to_text(&wire) })
    };
    let mut out = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        let Some((Some(_), name, data)) = list.entry_at(i) else {
            continue;
        };
        let data = match data {
            Data::A(ip) => RData::A(ip.into()),
            Data::Aaaa(ip) => RData::Aaaa(ip.into()),
            Data::Srv { target, port } => match spelled(list.text(target)) {
                Some(target) => RData::Srv { target, port },
                None => continue,
            },
            Data::Other(_) => continue,
        };
        let Some(owner) = spelled(list.text(name)) else {
            continue;
        };
        let reverse = u32::try_from(i).is_ok_and(|i| list.is_reverse(i));
        out.push(TaskRecord { owner, data, reverse });
    }
    out
}

/// A running task, as the table holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskEntry<'a> {
    /// The framework's position in [`TaskTable::frameworks`].
    pub(crate) framework: u32,
    /// The agent's position in [`TaskTable::agents`] (a failover carries an agent's tasks over).
    pub(crate) agent: u32,
    name: &'a str,
    /// Its id: the start it shares with the name, then the rest.
    id: (&'a str, IdRest<'a>),
    /// What its records are made from ([`Regenerate`]'s form).
    pub(crate) source: &'a [u8],
}

/// The rest of a task's id, after what it shares with the task's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdRest<'a> {
    Text(&'a str),
    /// A UUID in its canonical text (lower-case), after one ASCII character if any.
    Uuid(Option<u8>, [u8; 16]),
}

impl<'a> TaskEntry<'a> {
    /// A task named `name` with id `id` whose records are made from `source`, to be inserted.
    pub(crate) fn new((framework, agent): (u32, u32), name: &'a str, id: &'a str, source: &'a [u8]) -> TaskEntry<'a> {
        TaskEntry {
            framework,
            agent,
            name,
            id: ("", IdRest::Text(id)),
            source,
        }
    }

    pub(crate) fn name(&self) -> &'a str {
        self.name
    }

    /// Its id (made from its parts unless kept as text whole).
    pub(crate) fn id(&self) -> Cow<'a, str> {
        match self.id {
            ("", IdRest::Text(id)) => Cow::Borrowed(id),
            (shared, IdRest::Text(rest)) => Cow::Owned([shared, rest].concat()),
            (shared, IdRest::Uuid(sep, uuid)) => {
                let mut text = [0; 37];
                let rest = uuid_text(sep, &uuid, &mut text);
                Cow::Owned([shared, rest].concat())
            }
        }
    }

    /// Whether its id is `id` (compared in place).
    pub(crate) fn id_is(&self, id: &str) -> bool {
        let (shared, rest) = self.id;
        let Some(tail) = id.strip_prefix(shared) else {
            return false;
        };
        match rest {
            IdRest::Text(rest) => rest == tail,
            IdRest::Uuid(sep, uuid) => uuid_text(sep, &uuid, &mut [0; 37]) == tail,
        }
    }
}

/// The canonical text of a UUID (after `sep`), written in `out`.
fn uuid_text<'o>(sep: Option<u8>, uuid: &[u8; 16], out: &'o mut [u8; 37]) -> &'o str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut n = 0;
    let mut push = |b: u8, out: &mut [u8; 37]| {
        if let Some(place) = out.get_mut(n) {
            *place = b;
            n += 1;
        }
    };
    if let Some(sep) = sep {
        push(sep, out);
    }
    for (i, byte) in uuid.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            push(b'-', out);
        }
        push(HEX[usize::from(byte >> 4)], out);
        push(HEX[usize::from(byte & 0xf)], out);
    }
    std::str::from_utf8(out.get(..n).unwrap_or_default()).unwrap_or_default()
}

/// `text` as an optional ASCII character and a UUID in its canonical text (lower-case), if it is one.
fn uuid_of(text: &str) -> Option<(Option<u8>, [u8; 16])> {
    let (sep, uuid) = match text.len() {
        36 => (None, text.as_bytes()),
        37 => {
            let (&first, rest) = text.as_bytes().split_first()?;
            (Some(first).filter(u8::is_ascii), rest)
        }
        _ => return None,
    };
    if text.len() == 37 && sep.is_none() {
        return None;
    }
    let mut out = [0u8; 16];
    let mut digits = uuid.iter().enumerate().filter(|(i, _)| !matches!(i, 8 | 13 | 18 | 23));
    for byte in &mut out {
        let mut next = || match digits.next() {
            Some((_, &c @ b'0'..=b'9')) => Some(c - b'0'),
            Some((_, &c @ b'a'..=b'f')) => Some(c - b'a' + 10),
            _ => None,
        };
        *byte = next()? << 4 | next()?;
    }
    let dashes = [8, 13, 18, 23].iter().all(|&i| uuid.get(i) == Some(&b'-'));
    dashes.then_some((sep, out))
}

/// Where one slot's task is in its chunk's bytes (`start == FREE`: a free slot). Its bytes say where
/// they end (the source's length before it): 12 bytes a row where an end of its own made 16, 3.4 MB
/// at a million tasks for 0.85 MB of lengths (a full chunk's 256 rows are 3,072 bytes, one of
/// mimalloc's size classes).
#[derive(Debug, Clone, Copy)]
struct Row {
    framework: u32,
    agent: u32,
    /// Its bytes: the name (length, text), the id (the length it shares with the name, then the rest:
    /// [`UUID`], [`UUID_AFTER`] and a character, or its length plus [`TEXT`] and the text), the source
    /// (length, bytes).
    start: u32,
}

/// How the rest of an id is kept (see [`Row`]).
const UUID: usize = 0;
const UUID_AFTER: usize = 1;
const TEXT: usize = 2;

const FREE: u32 = u32::MAX;

/// The tasks of [`CHUNK`] consecutive slots.
#[derive(Debug, Default)]
struct Chunk {
    rows: Vec<Row>,
    bytes: Vec<u8>,
    /// Bytes of tasks taken out (still in `bytes`).
    dead: usize,
}

/// A copy (copy-on-write makes one when an edit touches a chunk a published snapshot shares) holds
/// only the live tasks' bytes, with room for an eighth more: the copy is the compaction, so what
/// taken tasks leave behind lasts at most until the next edit of the chunk.
impl Clone for Chunk {
    fn clone(&self) -> Chunk {
        let mut rows = self.rows.clone();
        let bytes = live_bytes(&mut rows, self, self.dead);
        Chunk { rows, bytes, dead: 0 }
    }
}

impl Chunk {
    /// An empty chunk to follow `last`, with room for as much as that one holds: no growth by
    /// doubling, and no copy when the start is done (a cluster's chunks are much alike).
    fn after(last: Option<&Arc<Chunk>>) -> Chunk {
        let like = last.map_or(0, |c| c.bytes.len());
        Chunk {
            rows: Vec::with_capacity(CHUNK),
            bytes: Vec::with_capacity(like + like / 8),
            dead: 0,
        }
    }

    fn entry(&self, i: usize) -> Option<TaskEntry<'_>> {
        let row = *self.rows.get(i)?;
        if row.start == FREE {
            return None;
        }
        let mut rest = self.bytes.get(row.start as usize..)?;
        let (name, id, source) = take_entry(&mut rest)?;
        Some(TaskEntry {
            framework: row.framework,
            agent: row.agent,
            name,
            id,
            source,
        })
    }

    /// How many bytes the task at `start` takes.
    fn entry_len(&self, start: u32) -> usize {
        let Some(mut rest) = self.bytes.get(start as usize..) else {
            return 0;
        };
        let all = rest.len();
        match take_entry(&mut rest) {
            Some(_) => all - rest.len(),
            None => 0,
        }
    }

    /// Appends a task's bytes; its row (a free one past 4 GB in a chunk).
    fn append(&mut self, e: &TaskEntry<'_>) -> Row {
        // (Growing by an eighth, not doubling: most chunks only ever take a task or two more.)
        super::chunk::room(&mut self.bytes, e.name.len() + e.source.len() + 64);
        let start = self.bytes.len();
        put_str(&mut self.bytes, e.name);
        let id = e.id();
        let mut shared = e.name.bytes().zip(id.bytes()).take_while(|(a, b)| a == b).count();
        while !id.is_char_boundary(shared) {
            shared -= 1;
        }
        put_varint(&mut self.bytes, shared);
        let rest = id.get(shared..).unwrap_or_default();
        match uuid_of(rest) {
            Some((None, uuid)) => {
                put_varint(&mut self.bytes, UUID);
                self.bytes.extend_from_slice(&uuid);
            }
            Some((Some(sep), uuid)) => {
                put_varint(&mut self.bytes, UUID_AFTER);
                self.bytes.push(sep);
                self.bytes.extend_from_slice(&uuid);
            }
            None => {
                put_varint(&mut self.bytes, rest.len() + TEXT);
                self.bytes.extend_from_slice(rest.as_bytes());
            }
        }
        put_varint(&mut self.bytes, e.source.len());
        self.bytes.extend_from_slice(e.source);
        match (u32::try_from(start), u32::try_from(self.bytes.len())) {
            (Ok(start), Ok(end)) if end != FREE => Row {
                framework: e.framework,
                agent: e.agent,
                start,
            },
            _ => {
                self.bytes.truncate(start);
                Row {
                    framework: e.framework,
                    agent: e.agent,
                    start: FREE,
                }
            }
        }
    }

    /// Rewrites the bytes with the live tasks only (each task's bytes copied as they are).
    fn compact(&mut self) {
        let mut rows = std::mem::take(&mut self.rows);
        self.bytes = live_bytes(&mut rows, self, self.dead);
        self.rows = rows;
        self.dead = 0;
    }
}

/// The bytes of the live `rows` of `from` (of which `dead` are no row's), back to back with room for
/// an eighth more, each row moved to its place in them.
fn live_bytes(rows: &mut [Row], from: &Chunk, dead: usize) -> Vec<u8> {
    let live = from.bytes.len().saturating_sub(dead);
    let mut bytes = Vec::with_capacity(live + live / 8);
    for row in rows.iter_mut().filter(|r| r.start != FREE) {
        let start = row.start as usize;
        let kept = (from.bytes.get(start..start + from.entry_len(row.start))).unwrap_or_default();
        // (No more bytes than before: every offset still fits.)
        row.start = bytes.len() as u32;
        bytes.extend_from_slice(kept);
    }
    bytes
}

/// A task's name, id and source, from the start of `bytes` (see [`Row`]).
fn take_entry<'a>(rest: &mut &'a [u8]) -> Option<(&'a str, (&'a str, IdRest<'a>), &'a [u8])> {
    let name = take_str(rest)?;
    let shared = name.get(..take_varint(rest)?)?;
    let id_rest = match take_varint(rest)? {
        UUID => IdRest::Uuid(None, take_array(rest)?),
        UUID_AFTER => {
            let (&sep, after) = rest.split_first()?;
            *rest = after;
            IdRest::Uuid(Some(sep), take_array(rest)?)
        }
        n => IdRest::Text(take_text(rest, n.checked_sub(TEXT)?)?),
    };
    let n = take_varint(rest)?;
    if n > rest.len() {
        return None;
    }
    let (source, after) = rest.split_at(n);
    *rest = after;
    Some((name, (shared, id_rest), source))
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn take_varint(bytes: &mut &[u8]) -> Option<usize> {
    let mut n = 0usize;
    for shift in (0..35).step_by(7) {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        n |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
    }
    Some(n)
}

fn take_text<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a str> {
    if n > bytes.len() {
        return None;
    }
    let (s, rest) = bytes.split_at(n);
    *bytes = rest;
    std::str::from_utf8(s).ok()
}

fn take_str<'a>(bytes: &mut &'a [u8]) -> Option<&'a str> {
    let n = take_varint(bytes)?;
    take_text(bytes, n)
}

fn take_array<const N: usize>(bytes: &mut &[u8]) -> Option<[u8; N]> {
    let (head, rest) = bytes.split_first_chunk::<N>()?;
    *bytes = rest;
    Some(*head)
}

/// Tasks stored after a table's last slot, each in the slot [`TaskTable::insert`] would give it in a
/// table without free slots, into a chunk held outside the table's `Arc`s while it fills (without
/// the copy-on-write check of every insert: a million of them at a start), moved in once full or
/// when the appender is dropped. Free slots stay free.
pub(crate) struct Appender<'t> {
    table: &'t mut TaskTable,
    /// The chunk being filled, after the table's.
    tail: Option<Chunk>,
}

impl Appender<'_> {
    /// Stores a task (copied in); its slot.
    pub(crate) fn push(&mut self, entry: &TaskEntry<'_>) -> usize {
        if self.tail.as_ref().is_some_and(|c| c.rows.len() >= CHUNK) {
            if let Some(full) = self.tail.take() {
                self.table.chunks.push(Arc::new(full));
            }
        }
        let chunks = &self.table.chunks;
        let chunk = self.tail.get_or_insert_with(|| Chunk::after(chunks.last()));
        let row = chunk.append(entry);
        chunk.rows.push(row);
        chunks.len() * CHUNK + chunk.rows.len() - 1
    }
}

impl Drop for Appender<'_> {
    fn drop(&mut self) {
        if let Some(tail) = self.tail.take() {
            self.table.chunks.push(Arc::new(tail));
        }
    }
}

/// Tasks by slot; a slot freed by a task that stopped is taken by the next one.
#[derive(Clone, Default)]
pub(crate) struct TaskTable {
    frameworks: Arc<[String]>,
    agents: Arc<[String]>,
    /// Makes an entry's records from its source (none: every task has none).
    regenerate: Option<Arc<dyn Regenerate>>,
    chunks: Vec<Arc<Chunk>>,
    free: Vec<u32>,
}

impl fmt::Debug for TaskTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskTable")
            .field("frameworks", &self.frameworks)
            .field("agents", &self.agents.len())
            .field("slots", &self.slot_bound())
            .finish_non_exhaustive()
    }
}

impl TaskTable {
    /// An empty table for the frameworks of the state, in state order, and the agents its tasks
    /// run on, whose tasks' records `regenerate` makes from their sources.
    pub(crate) fn new(
        frameworks: Vec<String>,
        agents: Vec<String>,
        regenerate: Option<Arc<dyn Regenerate>>,
    ) -> TaskTable {
        TaskTable {
            frameworks: frameworks.into(),
            agents: agents.into(),
            regenerate,
            ..TaskTable::default()
        }
    }

    pub(crate) fn frameworks(&self) -> &[String] {
        &self.frameworks
    }

    /// The id of the agent a task runs on (empty when not known).
    pub(crate) fn agent(&self, entry: &TaskEntry<'_>) -> &str {
        self.agents.get(entry.agent as usize).map_or("", String::as_str)
    }

    /// The records of a task, generated again from its source: the one-task list its edit added.
    pub(crate) fn records(&self, entry: &TaskEntry<'_>) -> RecordList {
        match &self.regenerate {
            Some(r) => r.records(entry, self.agent(entry), &self.frameworks),
            None => RecordList::new(),
        }
    }

    /// [`records`](Self::records) as the snapshot stores them.
    pub(crate) fn stored_records(&self, entry: &TaskEntry<'_>) -> Vec<TaskRecord> {
        stored_records(&self.records(entry))
    }

    /// Every task, in slot order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = TaskEntry<'_>> + '_ {
        self.chunks
            .iter()
            .flat_map(|c| (0..c.rows.len()).filter_map(move |i| c.entry(i)))
    }

    /// Number of tasks.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries().count()
    }

    /// Slots are below this.
    pub(crate) fn slot_bound(&self) -> usize {
        self.chunks.iter().map(|c| c.rows.len()).sum()
    }

    pub(crate) fn get(&self, slot: usize) -> Option<TaskEntry<'_>> {
        self.chunks.get(slot / CHUNK)?.entry(slot % CHUNK)
    }

    /// Stores a task (copied in); its slot.
    pub(crate) fn insert(&mut self, entry: &TaskEntry<'_>) -> usize {
        if let Some(slot) = self.free.pop() {
            let slot = slot as usize;
            if let Some(chunk) = self.chunks.get_mut(slot / CHUNK) {
                let chunk = Arc::make_mut(chunk);
                let row = chunk.append(entry);
                if let Some(place) = chunk.rows.get_mut(slot % CHUNK) {
                    *place = row;
                    return slot;
                }
            }
        }
        if self.chunks.last().map_or(true, |c| c.rows.len() >= CHUNK) {
            let next = Chunk::after(self.chunks.last());
            self.chunks.push(Arc::new(next));
        }
        let c = self.chunks.len() - 1;
        match self.chunks.last_mut() {
            Some(chunk) => {
                let chunk = Arc::make_mut(chunk);
                let row = chunk.append(entry);
                chunk.rows.push(row);
                c * CHUNK + chunk.rows.len() - 1
            }
            None => 0,
        }
    }

    /// Stores tasks after the last slot, one after another ([`Appender`]): a start's whole table.
    pub(crate) fn appender(&mut self) -> Appender<'_> {
        let tail = match self.chunks.last() {
            Some(last) if last.rows.len() < CHUNK => self.chunks.pop().map(Arc::unwrap_or_clone),
            _ => None,
        };
        Appender { table: self, tail }
    }

    /// Takes the task out of `slot`; whether there was one.
    pub(crate) fn take(&mut self, slot: usize) -> bool {
        let Some(chunk) = self.chunks.get_mut(slot / CHUNK) else {
            return false;
        };
        let Some(row) = chunk.rows.get(slot % CHUNK).copied().filter(|r| r.start != FREE) else {
            return false;
        };
        let chunk = Arc::make_mut(chunk);
        chunk.dead += chunk.entry_len(row.start);
        if let Some(place) = chunk.rows.get_mut(slot % CHUNK) {
            place.start = FREE;
        }
        // What taken tasks left is dropped once it is most of the chunk.
        if chunk.dead * 2 > chunk.bytes.len() + 1024 {
            chunk.compact();
        }
        self.free.push(slot as u32);
        true
    }

    /// Gives back the room growth left (after a whole cluster's tasks are added).
    pub(crate) fn shrink_to_fit(&mut self) {
        for chunk in &mut self.chunks {
            Arc::make_mut(chunk).bytes.shrink_to_fit();
        }
    }

    /// What edits could make grow, as text (the edit probe prints it): chunks, free slots, bytes
    /// held and dead.
    #[cfg(test)]
    pub(crate) fn edit_shape(&self) -> String {
        let bytes: usize = self.chunks.iter().map(|c| c.bytes.capacity()).sum();
        let dead: usize = self.chunks.iter().map(|c| c.dead).sum();
        format!(
            "task chunks {}, free slots {}, bytes {bytes} ({dead} dead)",
            self.chunks.len(),
            self.free.len()
        )
    }

    /// How many of its chunks are shared with `other`'s, of how many.
    #[cfg(test)]
    pub(crate) fn shared_with(&self, other: &TaskTable) -> (usize, usize) {
        super::shared_arcs(&self.chunks, &other.chunks)
    }

    /// Heap bytes: (the rows, the names, ids and sources, allocations made).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> (usize, usize, usize) {
        let (mut rows, mut bytes) = (0, 0);
        for c in &self.chunks {
            rows += c.rows.capacity() * std::mem::size_of::<Row>();
            bytes += c.bytes.capacity();
        }
        (rows, bytes, self.chunks.len() * 3)
    }
}

#[cfg(test)]
mod tests;
