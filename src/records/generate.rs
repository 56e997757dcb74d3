//! Pure record generation: one parsed Mesos state document plus the naming settings give a [`RecordList`]
//! (behaviour spec section 4). Nothing here does I/O: host names are resolved before generation runs
//! ([`lookup`]) and read from [`GenInput::hosts`]. Nothing here panics on any input: a name that DNS cannot carry
//! (an empty label, a name over 253 characters) is skipped, never cut into something else.
//!
//! Records are made in the original's order: frameworks, agents, the server itself, masters, tasks.
//! [`generate_fixed`] makes the first four, and its [`TaskGen`] each task's on its own
//! ([`one_task`]); [`generate`] is the two in turn, so the naming rules have one copy.
//! With `D` the domain, `F` the framework's labels, `T` the task's label (or discovery name), `H` the
//! task hash ([`super::taskid`]), `S` the agent id's last `-` part:
//! - tasks (`TASK_RUNNING` on a known agent; with `hideUnhealthyTasks`, not `healthy: false`; not
//!   hidden by `minVisibility`, `excludeFrameworks`, `excludeTaskLabels`): `T.F.D`, `T-H-S.F.D` (task addresses), `T.F.slave.D`,
//!   `T-H-S.F.slave.D` (agent addresses); SRV from `resources.ports` and from discovery info;
//!   (addresses from [`addrs`], which drops `unroutableNetworks`);
//! - agents: `slave.D`, `_slave._tcp.D`, `HOSTNAME.slave.D` ([`hosts`]), and their fault domain zones
//!   noted for `preferLocalZone`; frameworks: `F.D`, `_framework._tcp.F.D`;
//! - masters: `leader.D`, `_leader._tcp.D`, `_leader._udp.D`, `HOSTNAME.master.D`, `master.D`, `masterN.D`;
//! - the server: `SOAMname` A/AAAA.
//!
//! With reverse lookups on (`PTROn`), some address records are marked to point back to their name
//! (PTR): an agent's addresses to `HOSTNAME.slave.D` then `slave.D`; a task's own addresses to `T.F.D` and `T-H-S.F.D`, unless
//! the address is an agent's (host networking), which names the agent only.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::addr::HostPort;
use crate::config::{Cidr, IpSource, TaskFilter};
use crate::mesos::state::{self, Header, State, Task};
use crate::records::label::{self, Spec, MAX_LABEL_LEN, MAX_NAME_LEN};
use crate::records::taskid::{task_hash, HASH_LEN};
use crate::snapshot::{FastHash, NameId, RecordList};

mod addrs;
mod hosts;
pub(crate) mod lookup;
mod one_task;

use addrs::task_addrs;
pub(crate) use addrs::{DOCKER_IP_LABEL, MESOS_IP_LABEL};
use lookup::HostAddrs;
pub(crate) use one_task::TaskGen;
use one_task::{KnownAgents, TaskNamer};

/// Everything besides the state document that decides which records are generated.
pub(crate) struct GenInput<'a> {
    /// The authoritative domain, lower-case, without trailing dot (`mesos`).
    pub domain: &'a str,
    /// Task address sources in priority order.
    pub ip_sources: &'a [IpSource],
    /// RFC 952 label rules instead of RFC 1123.
    pub enforce_rfc952: bool,
    /// The masters in order: the configured ones, or with `zk` the ones ZooKeeper names, the leader
    /// first.
    pub masters: &'a [HostPort],
    /// SOA MNAME, fully qualified lower-case (`ns1.mesos.`): gets A/AAAA records of `self_addrs`.
    pub soa_mname: &'a str,
    /// The addresses the server itself answers on.
    pub self_addrs: &'a [IpAddr],
    /// The addresses of the host names in the state and in `masters` ([`lookup::names_to_resolve`]),
    /// resolved before generation.
    pub hosts: &'a HostAddrs,
    /// Mark task and agent addresses for reverse lookups (`PTROn`).
    pub ptr_on: bool,
    /// Task addresses in these networks are not published (`unroutableNetworks`).
    pub unroutable: &'a [Cidr],
    /// A task whose latest `TASK_RUNNING` status says `healthy: false` gets no records
    /// (`hideUnhealthyTasks`).
    pub hide_unhealthy: bool,
    /// Tasks that get no records (`minVisibility`, `excludeFrameworks`, `excludeTaskLabels`).
    pub filter: &'a TaskFilter,
}

/// Generates every record of the behaviour spec (section 4) from one state document.
pub(crate) fn generate(state: &State<'_>, input: &GenInput<'_>) -> RecordList {
    let (mut out, mut tasks) = fixed(state, input, record_capacity(state));
    for (i, f) in state.frameworks.iter().enumerate() {
        for task in &f.tasks {
            tasks.task_into(&mut out, i, task);
        }
    }
    out
}

/// The records that are not a task's (frameworks, agents, the server, masters: [`generate`]'s
/// first part, in its order), and the [`TaskGen`] that makes the tasks' from the same state.
pub(crate) fn generate_fixed(state: &State<'_>, input: &GenInput<'_>) -> (RecordList, TaskGen) {
    let capacity = state.slaves.len() * 4 + state.frameworks.len() * 2 + 64;
    fixed(state, input, capacity)
}

/// About ten records per task, as the fixtures and generated states give.
fn record_capacity<T>(state: &State<'_, T>) -> usize {
    state.frameworks.iter().map(|f| f.tasks.len()).sum::<usize>() * 10 + 64
}

/// Frameworks, agents, the server and masters, in a list with room for `capacity` records; and what
/// the tasks' records need from them.
fn fixed<T>(state: &State<'_, T>, input: &GenInput<'_>, capacity: usize) -> (RecordList, TaskGen) {
    let domain = input.domain.trim_end_matches('.').to_ascii_lowercase();
    let mut g = Generator::new(input, &domain, capacity);
    let frameworks = g.frameworks(state);
    let agents = g.agents(state);
    g.server();
    g.masters(state);
    let tasks = TaskGen::from_parts(
        g.namer,
        frameworks,
        g.out.frameworks().map(str::to_owned).collect(),
        agents,
    );
    (g.out, tasks)
}

/// [`generate`] from a state document's [`Header`] and its body, reading the tasks one at a time
/// ([`state::for_each_task`]): the same records, without the parsed form of every task in memory.
pub(crate) fn generate_streamed(
    header: &Header<'_>,
    body: &[u8],
    input: &GenInput<'_>,
) -> Result<RecordList, serde_json::Error> {
    let (mut out, mut tasks) = fixed(header, input, record_capacity(header));
    state::for_each_task(body, &mut |i, task| tasks.task_into(&mut out, i, &task))?;
    Ok(out)
}

struct Generator<'i, 'a> {
    input: &'i GenInput<'a>,
    spec: Spec,
    domain: &'i str,
    out: RecordList,
    /// The name being built (one buffer for every name but tasks').
    buf: String,
    /// What the tasks' records are made with; the agents' addresses are added to it.
    namer: TaskNamer,
}

/// The names every instance of a task name `T` of one framework has, as interned so far: `T.F.D`,
/// `T.F.slave.D` and the four `_T._tcp/_udp` SRV names. Looking them up once per task costs one hash
/// look-up where interning them costs six (each a cache miss in a table of every name).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct SharedNames {
    /// Per name ([`SharedNames::SHORT_FD`], ...): `None` until interned, then the id (`None` inside
    /// when the name is not one DNS can carry).
    ids: [Option<Option<NameId>>; 6],
}

impl SharedNames {
    const SHORT_FD: usize = 0;
    const SHORT_FSD: usize = 1;
    /// `_T._tcp.F.slave.D`, `_T._udp.F.slave.D`, `_T._tcp.F.D`, `_T._udp.F.D`.
    const SRV: [usize; 4] = [2, 3, 4, 5];

    /// The interned name `which`: its text from `texts` when [`SharedTexts::prepare`] built it, else
    /// made from `t` (`srv_t` for the SRV names) here, on first use.
    fn get(
        &mut self,
        which: usize,
        out: &mut RecordList,
        texts: &mut SharedTexts,
        names: &SharedParts<'_>,
    ) -> Option<NameId> {
        let slot = self.ids.get_mut(which)?;
        if let Some(id) = *slot {
            return id;
        }
        let text = texts.texts.get_mut(which)?;
        let id = match texts.built.get(which).copied().flatten() {
            Some(valid) => valid.then_some(text.as_str()),
            None => Self::build(which, text, names),
        }
        .and_then(|name| out.intern(name));
        if let Some(id) = id {
            out.mark_shared(id);
        }
        *slot = Some(id);
        id
    }

    /// The text of name `which`, built in `buf` (`None`: not a name DNS can carry).
    fn build<'b>(which: usize, buf: &'b mut String, names: &SharedParts<'_>) -> Option<&'b str> {
        let (t, s, Tails { fd, fsd }) = (names.t, names.srv_t, names.tails);
        match which {
            Self::SHORT_FD => build_on(buf, &[t], fd),
            Self::SHORT_FSD => build_on(buf, &[t], fsd),
            2 => build_on(buf, &[s, "_tcp"], fsd),
            3 => build_on(buf, &[s, "_udp"], fsd),
            4 => build_on(buf, &[s, "_tcp"], fd),
            _ => build_on(buf, &[s, "_udp"], fd),
        }
    }
}

/// The texts of a task's [`SharedNames`] that are not interned yet, built before any is interned so that
/// where each goes in the list's table is loaded meanwhile, all at once: the first task of a name
/// interns up to six new names, each a cache miss in a table of millions, one after another otherwise.
#[derive(Default)]
pub(super) struct SharedTexts {
    texts: [String; 6],
    /// Per name: built by [`prepare`](Self::prepare) (`Some`), and whether it is a name DNS can carry.
    built: [Option<bool>; 6],
}

impl SharedTexts {
    /// Builds the names of `wanted` that `shared` has not interned yet, and starts loading their slots.
    fn prepare(
        &mut self,
        shared: &SharedNames,
        wanted: impl Iterator<Item = usize>,
        parts: &SharedParts<'_>,
        out: &RecordList,
    ) {
        self.built = [None; 6];
        for which in wanted {
            let (Some(None), Some(text), Some(built)) = (
                shared.ids.get(which),
                self.texts.get_mut(which),
                self.built.get_mut(which),
            ) else {
                continue;
            };
            let name = SharedNames::build(which, text, parts);
            if let Some(name) = name {
                out.prefetch(name);
            }
            *built = Some(name.is_some());
        }
    }
}

/// What the [`SharedNames`] are made of.
struct SharedParts<'p> {
    t: &'p str,
    srv_t: &'p str,
    tails: &'p Tails,
}

/// The ends every task name of a framework has, `F.D.` and `F.slave.D.`, made and checked once
/// for all its tasks ([`build_on`]).
struct Tails {
    fd: String,
    fsd: String,
}

impl Tails {
    /// `None` when `F` or `D` is not something DNS can carry (then no task of the framework has a name).
    fn new(f: &str, d: &str) -> Option<Tails> {
        let mut fd = String::new();
        let mut fsd = String::new();
        build(&mut fd, &[f, d])?;
        build(&mut fsd, &[f, "slave", d])?;
        Some(Tails { fd, fsd })
    }
}

impl<'i, 'a> Generator<'i, 'a> {
    fn new(input: &'i GenInput<'a>, domain: &'i str, capacity: usize) -> Self {
        Generator {
            input,
            spec: Spec::new(input.enforce_rfc952),
            domain,
            out: RecordList::with_capacity(capacity),
            buf: String::with_capacity(128),
            namer: TaskNamer::new(input),
        }
    }
}

/// Builds `parts[0].parts[1]. ... .` in `buf`: `None` (and the record is skipped) when a part is
/// empty or the result is not a name DNS can carry.
/// (The labels of the name are the parts' own: each part is checked, most with one search for a
/// dot, and the name's length once, rather than every octet of the name again.)
fn build<'b>(buf: &'b mut String, parts: &[&str]) -> Option<&'b str> {
    build_on(buf, parts, "")
}

/// [`build`] of `parts` then the labels `tail` (dotted, with its trailing dot), which are known to
/// be valid: `None` when a part is empty or the result is too long.
fn build_on<'b>(buf: &'b mut String, parts: &[&str], tail: &str) -> Option<&'b str> {
    buf.clear();
    for part in parts {
        if !label::is_valid_labels(part) {
            return None;
        }
        buf.push_str(part);
        buf.push('.');
    }
    buf.push_str(tail);
    let body = buf.len().checked_sub(1)?;
    (body <= MAX_NAME_LEN).then_some(buf.as_str())
}

/// The address as it is stored: an IPv4-mapped IPv6 address is IPv4.
fn stored(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Adds an A (IPv4, IPv4-mapped IPv6) or AAAA record.
fn push_addr(out: &mut RecordList, name: &str, ip: IpAddr) -> bool {
    out.push_ip(name, stored(ip))
}

/// Adds an A/AAAA record for every address; true if any was new.
fn push_addrs(out: &mut RecordList, name: &str, ips: &[IpAddr]) -> bool {
    ips.iter().fold(false, |added, &ip| push_addr(out, name, ip) | added)
}

/// Adds an A/AAAA record of a task name; with reverse lookups on, a task's own address (not an
/// agent's) also points back to it.
fn push_task_addr(out: &mut RecordList, name: NameId, ip: IpAddr, reverse: bool, agents: &HashSet<IpAddr, FastHash>) {
    let ip = stored(ip);
    if reverse && !agents.contains(&ip) {
        out.push_ip_reverse_at(name, ip);
    } else {
        out.push_ip_at(name, ip);
    }
}

/// `_` + `label`, cut to 63 octets (we: the original can make a 64-octet label here), into `out`
/// (cleared first).
fn push_underscored(label: &str, out: &mut String) {
    out.clear();
    out.push('_');
    out.push_str(label);
    let keep = label::cut(out, MAX_LABEL_LEN).len();
    out.truncate(keep);
}

/// `S`: the last `-` part of an agent id, lower-cased. We: only its ASCII letters and digits are kept
/// (the original copies it as it is), so that it cannot add a label or an invalid character.
fn agent_tail(agent_id: &str, out: &mut String) {
    out.clear();
    let tail = agent_id.rsplit('-').next().unwrap_or(agent_id);
    out.extend(
        tail.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .take(MAX_LABEL_LEN),
    );
}

/// `T-H-S`: the task's name (its last label gets the suffix) with the hash `H` and agent tail `S`. When the
/// label would pass 63 octets, the `T` part is shortened (we: so that `H` and `S` keep the canonical
/// name unique; the original emits the over-long label).
/// Written into `out` (cleared first), with `suffix` as scratch space: a refresh makes one per task,
/// and the two buffers are reused from task to task.
fn canonical(t: &str, hash: &[u8; HASH_LEN], s: &str, suffix: &mut String, out: &mut String) {
    let (prefix, last) = match t.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, t),
    };
    suffix.clear();
    out.clear();
    suffix.push('-');
    suffix.extend(hash.iter().map(|&b| char::from(b)));
    if !s.is_empty() {
        suffix.push('-');
        suffix.push_str(s);
    }
    let room = MAX_LABEL_LEN.saturating_sub(suffix.len());
    let last = label::cut(last, room).trim_end_matches('-');
    if let Some(p) = prefix {
        out.push_str(p);
        out.push('.');
    }
    if last.is_empty() {
        // Only a very long agent tail leaves no room: cut the whole label instead.
        let whole = label::cut(suffix.trim_start_matches('-'), MAX_LABEL_LEN).trim_end_matches('-');
        out.push_str(whole);
    } else {
        out.push_str(last);
        out.push_str(suffix);
    }
}

/// A framework of the state as its tasks need it: its index in the list's frameworks
/// ([`RecordList::add_framework`]) and its `F` (empty when it has none).
struct FrameworkRef {
    index: u32,
    fname: String,
    /// The ends of its tasks' names (`None`: its tasks have none).
    tails: Option<Tails>,
    /// Its tasks get no records (`excludeFrameworks`); its own name records stay.
    excluded: bool,
}

/// What one task's records are made from, besides its name.
struct TaskCtx<'t> {
    task: &'t Task<'t>,
    /// The framework's index in the list.
    framework: u32,
    tails: &'t Tails,
    /// The task hash `H` of its id.
    hash: [u8; HASH_LEN],
    agent_tail: &'t str,
    task_ips: &'t [IpAddr],
    agent_ips: &'t [IpAddr],
    discovery: bool,
}

impl Generator<'_, '_> {
    /// `F.D` and `_framework._tcp.F.D`; lists every framework (for `/v1/enumerate`, tasks or not)
    /// and returns each one's index and `F`, in state order.
    fn frameworks<T>(&mut self, state: &State<'_, T>) -> Vec<FrameworkRef> {
        let mut labels = Vec::with_capacity(state.frameworks.len());
        for f in &state.frameworks {
            let index = self.out.add_framework(&f.name);
            let fname = self.spec.domain_frag(&f.name);
            let (host, port) = f.host_port();
            let ips = if fname.is_empty() {
                Vec::new()
            } else {
                self.input.hosts.of(host)
            };
            if !ips.is_empty() {
                if let Some(name) = build(&mut self.buf, &[&fname, self.domain]) {
                    push_addrs(&mut self.out, name, &ips);
                    let target = name.to_owned();
                    if let Some(port) = port {
                        if let Some(srv) = build(&mut self.buf, &["_framework._tcp", &fname, self.domain]) {
                            self.out.push_srv(srv, &target, port);
                        }
                    }
                }
            }
            let excluded = self.input.filter.excludes_framework(&f.name);
            let tails = Tails::new(&fname, self.domain);
            labels.push(FrameworkRef {
                index,
                fname,
                tails,
                excluded,
            });
        }
        labels
    }

    /// `slave.D` and `_slave._tcp.D`; returns the known agents by id with their addresses.
    fn agents<T>(&mut self, state: &State<'_, T>) -> KnownAgents {
        let mut agents = KnownAgents::with_capacity(state.slaves.len());
        for s in &state.slaves {
            let (host, port) = s.host_port();
            let ips = self.input.hosts.of(host);
            if !ips.is_empty() {
                // Before `slave.D`, so that the agent's own name is its addresses' first PTR.
                self.agent_host_name(&s.hostname, &ips);
                if let Some(name) = build(&mut self.buf, &["slave", self.domain]) {
                    if self.input.ptr_on {
                        for &ip in &ips {
                            self.out.push_ip_reverse(name, stored(ip));
                            self.namer.agent_addrs.insert(stored(ip));
                        }
                    } else {
                        push_addrs(&mut self.out, name, &ips);
                    }
                    let target = name.to_owned();
                    if let Some(port) = port {
                        if let Some(srv) = build(&mut self.buf, &["_slave._tcp", self.domain]) {
                            self.out.push_srv(srv, &target, port);
                        }
                    }
                }
            }
            if !s.id.is_empty() {
                if let Some(zone) = s.domain.zone() {
                    self.out.add_agent_zone(&s.id, zone, &ips);
                }
                agents.insert(&s.id, ips);
            }
        }
        agents
    }

    /// The server's own name (`SOAMname`) with the addresses it answers on.
    fn server(&mut self) {
        let mname = self.input.soa_mname.to_ascii_lowercase();
        let mname = mname.trim_end_matches('.');
        if let Some(name) = build(&mut self.buf, &[mname]) {
            push_addrs(&mut self.out, name, self.input.self_addrs);
        }
    }

    /// `leader.D`, `_leader._tcp.D`, `_leader._udp.D`, `master.D` and `masterN.D`. The numbering is the
    /// original's: [`GenInput::masters`] in order, a master whose address is already listed is skipped,
    /// the leader numbered where it is listed (the address of its pid; we: compared as addresses, a
    /// name in any case, where the original compares the text) or else after the others.
    fn masters<T>(&mut self, state: &State<'_, T>) {
        let Some(leader) = state.leader.split('@').nth(1) else {
            return;
        };
        let Ok(leader) = HostPort::parse(leader) else {
            return;
        };
        let port = leader.port();
        let leader_ips = self.input.hosts.of_host(leader.host());
        let domain = self.domain;
        if let Some(name) = build(&mut self.buf, &["leader", domain]) {
            push_addrs(&mut self.out, name, &leader_ips);
            if !leader_ips.is_empty() {
                let target = name.to_owned();
                for srv in ["_leader._tcp", "_leader._udp"] {
                    if let Some(srv) = build(&mut self.buf, &[srv, domain]) {
                        self.out.push_srv(srv, &target, port);
                    }
                }
            }
        }
        self.leader_host_name(state.leader_hostname(), &leader_ips);
        let Some(all) = build(&mut self.buf, &["master", domain]).map(str::to_owned) else {
            return;
        };
        push_addrs(&mut self.out, &all, &leader_ips);
        let mut n = 0usize;
        let mut leader_numbered = false;
        for master in self.input.masters {
            let is_leader = *master == leader;
            let ips = self.input.hosts.of_host(master.host());
            if !is_leader && !push_addrs(&mut self.out, &all, &ips) {
                continue; // a duplicate (or unresolvable) master
            }
            if is_leader && leader_numbered {
                continue;
            }
            if let Some(name) = build(&mut self.buf, &[&format!("master{n}"), domain]) {
                push_addrs(&mut self.out, name, &ips);
            }
            n += 1;
            leader_numbered |= is_leader;
        }
        if !leader_numbered {
            if let Some(name) = build(&mut self.buf, &[&format!("master{n}"), domain]) {
                push_addrs(&mut self.out, name, &leader_ips);
            }
        }
    }
}

impl TaskNamer {
    /// Adds to `out` the records of a task of framework `fw` on the agent with addresses
    /// `agent_ips` (`agent`: its place among the generator's agents), if it is `TASK_RUNNING` (and
    /// not hidden as unhealthy or by the task filters).
    fn task(&mut self, out: &mut RecordList, fw: &FrameworkRef, task: &Task<'_>, (agent, agent_ips): (u32, &[IpAddr])) {
        if fw.fname.is_empty() || task.state != "TASK_RUNNING" {
            return;
        }
        let unhealthy = || task.latest_running_status().and_then(|s| s.healthy) == Some(false);
        if self.hide_unhealthy && unhealthy() {
            return;
        }
        let labels = || task.labels.iter().map(|l| (&*l.key, &*l.value));
        if fw.excluded || self.filter.hides_task(&task.discovery.visibility, labels()) {
            return;
        }
        let mut task_ips = std::mem::take(&mut self.task_ips);
        let sources = addrs::Sources {
            order: &self.ip_sources,
            unroutable: &self.unroutable,
        };
        task_addrs(task, &sources, agent_ips, &mut task_ips);
        let mut tail = std::mem::take(&mut self.tail);
        agent_tail(&task.slave_id, &mut tail);
        out.begin_task_keyed(fw.index, &task.name, &task.id, (&task.slave_id, Some(agent)));
        let Some(tails) = &fw.tails else {
            // No name of the task is one DNS can carry: listed, without records.
            out.end_task();
            self.task_ips = task_ips;
            self.tail = tail;
            return;
        };
        let ctx = TaskCtx {
            task,
            framework: fw.index,
            tails,
            hash: task_hash(&task.id),
            agent_tail: &tail,
            task_ips: &task_ips,
            agent_ips,
            discovery: task.has_discovery(),
        };
        let mut t = std::mem::take(&mut self.label);
        t.clear();
        if ctx.discovery {
            // The original serves the discovery name both as written and as a label.
            self.spec.push_label(&task.discovery.name, &mut t);
            if let Some(raw) = label::verbatim(&task.discovery.name) {
                if raw != t {
                    self.task_records(out, &ctx, &raw);
                }
            }
        } else {
            self.spec.push_label(&task.name, &mut t);
        }
        self.task_records(out, &ctx, &t);
        self.label = t;
        out.end_task();
        self.task_ips = task_ips;
        self.tail = tail;
    }

    /// Adds to `out` the records of one task under the name `t`.
    fn task_records(&mut self, out: &mut RecordList, ctx: &TaskCtx<'_>, t: &str) {
        if t.is_empty() {
            return;
        }
        let mut canon = std::mem::take(&mut self.canon);
        let mut suffix = std::mem::take(&mut self.suffix);
        let mut srv_t = std::mem::take(&mut self.srv_t);
        canonical(t, &ctx.hash, ctx.agent_tail, &mut suffix, &mut canon);
        push_underscored(t, &mut srv_t);
        self.task_names(out, ctx, t, &canon, &srv_t);
        self.canon = canon;
        self.suffix = suffix;
        self.srv_t = srv_t;
    }

    /// [`task_records`](Self::task_records) once the task's canonical name `canon` and `srv_t`
    /// (`_T`) are made.
    fn task_names(&mut self, out: &mut RecordList, ctx: &TaskCtx<'_>, t: &str, canon: &str, srv_t: &str) {
        let Tails { fd, fsd } = ctx.tails;

        // Address by address, the short name then the canonical one: the original's order, which
        // `/v1/enumerate` shows. Names are interned when their first record is pushed (as pushing by
        // text would), then their records pushed by id.
        let fw = ctx.framework as usize;
        if self.shared.len() <= fw {
            self.shared.resize_with(fw + 1, HashMap::default);
        }
        let known = self.shared.get(fw).and_then(|by_name| by_name.get(t)).copied();
        let mut shared = known.unwrap_or_default();
        let parts = SharedParts {
            t,
            srv_t,
            tails: ctx.tails,
        };
        let buf = &mut self.buf;
        // The task's own names are new: where they go in the list's table is loaded meanwhile. (Built
        // once, in buffers of their own, for the prefetch and the interning both.)
        let fd_name = match ctx.task_ips.is_empty() {
            true => None,
            false => build_on(&mut self.fd_text, &[canon], fd),
        };
        let fsd_name = match ctx.agent_ips.is_empty() {
            true => None,
            false => build_on(&mut self.fsd_text, &[canon], fsd),
        };
        for name in [fd_name, fsd_name].into_iter().flatten() {
            out.prefetch(name);
        }
        // So are the shared names this task is the first to need (all of them, for a task name's first
        // task): the same names [`SharedNames::get`] asks for below, in its order.
        let srv_names = match ctx.discovery {
            true => &SharedNames::SRV[..2],
            false => &SharedNames::SRV[..],
        };
        let mut ports = ctx.task.resources.all_ports().peekable();
        let srv_wanted = match fsd_name.is_some() && ports.peek().is_some() {
            true => srv_names,
            false => &[],
        };
        let short_wanted = [
            (!ctx.task_ips.is_empty()).then_some(SharedNames::SHORT_FD),
            (!ctx.agent_ips.is_empty()).then_some(SharedNames::SHORT_FSD),
        ];
        let texts = &mut self.shared_texts;
        let wanted = short_wanted.into_iter().flatten().chain(srv_wanted.iter().copied());
        texts.prepare(&shared, wanted, &parts, out);
        // `canon.F.D` once interned (with the task's addresses), for the discovery SRV records.
        let mut canon_fd_id = None;
        if !ctx.task_ips.is_empty() {
            let short_fd = shared.get(SharedNames::SHORT_FD, out, texts, &parts);
            let canon_fd = fd_name.and_then(|name| out.intern(name));
            canon_fd_id = canon_fd;
            for &ip in ctx.task_ips {
                for name in [short_fd, canon_fd].into_iter().flatten() {
                    push_task_addr(out, name, ip, self.ptr_on, &self.agent_addrs);
                }
            }
        }
        let mut canon_fsd = None;
        if !ctx.agent_ips.is_empty() {
            let short_fsd = shared.get(SharedNames::SHORT_FSD, out, texts, &parts);
            canon_fsd = fsd_name.and_then(|name| out.intern(name));
            for &ip in ctx.agent_ips {
                for name in [short_fsd, canon_fsd].into_iter().flatten() {
                    out.push_ip_at(name, stored(ip));
                }
            }
        }

        // SRV for the port resources, to the canonical name under `slave`.
        if let (Some(target), Some(_)) = (canon_fsd, ports.peek()) {
            // The common case: the target is interned already, so the names can be in turn.
            let mut names = [None; 4];
            for (slot, &which) in names.iter_mut().zip(srv_names) {
                *slot = shared.get(which, out, texts, &parts);
            }
            for port in ports {
                for &name in names.iter().flatten() {
                    out.push_srv_at(name, target, port);
                }
            }
        } else if ports.peek().is_some() && build_on(buf, &[canon], fsd).is_some() {
            // The agent has no address: the target is interned here, before the names, only when
            // some name is valid (as the first push by text would).
            let mut name_texts: Vec<String> = Vec::with_capacity(4);
            for proto in ["_tcp", "_udp"] {
                name_texts.extend(build_on(buf, &[srv_t, proto], fsd).map(str::to_owned));
            }
            if !ctx.discovery {
                for proto in ["_tcp", "_udp"] {
                    name_texts.extend(build_on(buf, &[srv_t, proto], fd).map(str::to_owned));
                }
            }
            let target = match name_texts.is_empty() {
                true => None,
                false => build_on(buf, &[canon], fsd).and_then(|name| out.intern(name)),
            };
            if let Some(target) = target {
                let mut names = [None; 4];
                for (slot, text) in names.iter_mut().zip(&name_texts) {
                    *slot = out.intern(text);
                }
                for port in ports {
                    for &name in names.iter().flatten() {
                        out.push_srv_at(name, target, port);
                    }
                }
            }
        }
        // Looked up once: written back only when a name was interned for it.
        if known != Some(shared) {
            if let Some(by_name) = self.shared.get_mut(fw) {
                by_name.insert(t.to_owned(), shared);
            }
        }
        if ctx.discovery {
            self.discovery_srv(out, ctx, canon, srv_t, canon_fd_id);
        }
    }

    /// SRV for the discovery-info ports, to the canonical name `canon.F.D`: by its id when it is
    /// interned already (`canon_fd`: pushing by text would only look it up again), else by text.
    fn discovery_srv(
        &mut self,
        out: &mut RecordList,
        ctx: &TaskCtx<'_>,
        canon: &str,
        srv_t: &str,
        canon_fd: Option<NameId>,
    ) {
        let fd = ctx.tails.fd.as_str();
        let Some(target) = build_on(&mut self.fd_text, &[canon], fd) else {
            return;
        };
        let push_srv = |out: &mut RecordList, name: &str, port: u16| match canon_fd {
            Some(target) => {
                if let Some(name) = out.intern(name) {
                    out.push_srv_at(name, target, port);
                }
            }
            None => {
                out.push_srv(name, target, port);
            }
        };
        // `_P` of the port's protocol (`_tcp` and `_udp` when it has none) and `_N` of its name, in
        // buffers kept from task to task.
        let (buf, spec) = (&mut self.buf, self.spec);
        let mut label = std::mem::take(&mut self.port_label);
        let mut proto_label = std::mem::take(&mut self.port_proto);
        let mut named = std::mem::take(&mut self.port_named);
        for p in &ctx.task.discovery.ports.ports {
            let Some(port) = p.number else {
                continue;
            };
            label.clear();
            spec.push_label(&p.protocol, &mut label);
            let one;
            let each: &[&str] = match label.is_empty() {
                true => &["_tcp", "_udp"],
                false => {
                    push_underscored(&label, &mut proto_label);
                    one = [proto_label.as_str()];
                    &one
                }
            };
            label.clear();
            spec.push_label(&p.name, &mut label);
            match label.is_empty() {
                true => named.clear(),
                false => push_underscored(&label, &mut named),
            }
            for proto in each {
                if let Some(name) = build_on(buf, &[srv_t, proto], fd) {
                    push_srv(out, name, port);
                }
                if !named.is_empty() {
                    if let Some(name) = build_on(buf, &[&named, srv_t, proto], fd) {
                        push_srv(out, name, port);
                    }
                }
            }
        }
        self.port_label = label;
        self.port_proto = proto_label;
        self.port_named = named;
    }
}

#[cfg(test)]
mod tests;
