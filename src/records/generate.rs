//! Pure record generation: one parsed Mesos state document plus the naming settings give a [`RecordList`]
//! (behaviour spec section 4). Nothing here does I/O: host names that are not IP literals go through
//! the caller's [`GenInput::resolve`]. Nothing here panics on any input: a name that DNS cannot carry
//! (an empty label, a name over 253 characters) is skipped, never cut into something else.
//!
//! Records are made in the original's order: frameworks, agents, the server itself, masters, tasks.
//! With `D` the domain, `F` the framework's labels, `T` the task's label (or discovery name), `H` the
//! task hash ([`super::taskid`]), `S` the agent id's last `-` part:
//! - tasks (`TASK_RUNNING` on a known agent): `T.F.D`, `T-H-S.F.D` (task addresses), `T.F.slave.D`,
//!   `T-H-S.F.slave.D` (agent addresses); SRV from `resources.ports` and from discovery info;
//! - agents: `slave.D`, `_slave._tcp.D`; frameworks: `F.D`, `_framework._tcp.F.D`;
//! - masters: `leader.D`, `_leader._tcp.D`, `_leader._udp.D`, `master.D`, `masterN.D`;
//! - the server: `SOAMname` A/AAAA.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::config::IpSource;
use crate::mesos::state::{self, State, Task};
use crate::records::label::{self, Spec, MAX_LABEL_LEN};
use crate::records::taskid::{push_task_hash, HASH_LEN};
use crate::records::{RData, RecordList};

/// Everything besides the state document that decides which records are generated.
pub struct GenInput<'a> {
    /// The authoritative domain, lower-case, without trailing dot (`mesos`).
    pub domain: &'a str,
    /// Task address sources in priority order.
    pub ip_sources: &'a [IpSource],
    /// RFC 952 label rules instead of RFC 1123.
    pub enforce_rfc952: bool,
    /// The configured masters, `host:port`, in order (empty when the leader came from ZooKeeper).
    pub masters: &'a [String],
    /// SOA MNAME, fully qualified lower-case (`ns1.mesos.`): gets A/AAAA records of `self_addrs`.
    pub soa_mname: &'a str,
    /// The addresses the server itself answers on.
    pub self_addrs: &'a [IpAddr],
    /// Resolves a host name that is not an IP literal (agent pids, master hosts). Tests pass a fake.
    pub resolve: &'a dyn Fn(&str) -> Vec<IpAddr>,
}

/// The status label holding the Docker containerizer's address (`docker` IP source).
pub const DOCKER_IP_LABEL: &str = "Docker.NetworkSettings.IPAddress";
/// The status label holding the Mesos containerizer's address (`mesos` IP source).
pub const MESOS_IP_LABEL: &str = "MesosContainerizer.NetworkSettings.IPAddress";

/// At most this many distinct addresses are taken for one task (each gives two records); a status
/// with thousands of address labels must not multiply the record count.
pub const MAX_ADDRS_PER_TASK: usize = 64;

/// Generates every record of the behaviour spec (section 4) from one state document.
pub fn generate(state: &State<'_>, input: &GenInput<'_>) -> RecordList {
    let domain = input.domain.trim_end_matches('.').to_ascii_lowercase();
    let mut g = Generator {
        input,
        spec: Spec::new(input.enforce_rfc952),
        domain: &domain,
        out: RecordList::new(),
        buf: String::with_capacity(128),
        resolved: HashMap::new(),
    };
    let frameworks = g.frameworks(state);
    let agents = g.agents(state);
    g.server();
    g.masters(state);
    g.tasks(state, &frameworks, &agents);
    g.out
}

struct Generator<'i, 'a> {
    input: &'i GenInput<'a>,
    spec: Spec,
    domain: &'i str,
    out: RecordList,
    /// The name being built (one buffer for every name).
    buf: String,
    /// Host names already resolved during this run.
    resolved: HashMap<String, Vec<IpAddr>>,
}

/// Builds `parts[0].parts[1]. ... .` in `buf`: `None` (and the record is skipped) when a part is
/// empty or the result is not a name DNS can carry.
fn build<'b>(buf: &'b mut String, parts: &[&str]) -> Option<&'b str> {
    buf.clear();
    for part in parts {
        if part.is_empty() {
            return None;
        }
        buf.push_str(part);
        buf.push('.');
    }
    label::is_valid_name(buf).then_some(buf.as_str())
}

/// Adds an A (IPv4, IPv4-mapped IPv6) or AAAA record.
fn push_addr(out: &mut RecordList, name: &str, ip: IpAddr) -> bool {
    let data = match ip {
        IpAddr::V4(a) => RData::A(a),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => RData::A(v4),
            None => RData::Aaaa(a),
        },
    };
    out.push(name, data)
}

/// Adds an A/AAAA record for every address; true if any was new.
fn push_addrs(out: &mut RecordList, name: &str, ips: &[IpAddr]) -> bool {
    ips.iter().fold(false, |added, &ip| push_addr(out, name, ip) | added)
}

/// Appends `ip` unless it is already there or the list is full.
fn add_unique(list: &mut Vec<IpAddr>, ip: IpAddr) {
    if list.len() < MAX_ADDRS_PER_TASK && !list.contains(&ip) {
        list.push(ip);
    }
}

/// `_` + `label`, cut to 63 octets (we: the original can make a 64-octet label here).
fn underscore(label: &str) -> String {
    let mut s = String::with_capacity(label.len() + 1);
    s.push('_');
    s.push_str(label);
    label::cut(&s, MAX_LABEL_LEN).to_owned()
}

/// `S`: the last `-` part of an agent id, lower-cased. We: only its ASCII letters and digits are kept
/// (the original copies it as it is), so that it cannot add a label or an invalid character.
fn agent_tail(agent_id: &str) -> String {
    let tail = agent_id.rsplit('-').next().unwrap_or(agent_id);
    tail.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(MAX_LABEL_LEN)
        .collect()
}

/// `T-H-S`: the task's name (its last label gets the suffix) with the hash and agent tail. When the
/// label would pass 63 octets, the `T` part is shortened (we: so that `H` and `S` keep the canonical
/// name unique; the original emits the over-long label).
fn canonical(t: &str, task_id: &str, s: &str) -> String {
    let (prefix, last) = match t.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, t),
    };
    let mut suffix = String::with_capacity(2 + HASH_LEN + s.len());
    suffix.push('-');
    push_task_hash(task_id, &mut suffix);
    if !s.is_empty() {
        suffix.push('-');
        suffix.push_str(s);
    }
    let room = MAX_LABEL_LEN.saturating_sub(suffix.len());
    let last = label::cut(last, room).trim_end_matches('-');
    let mut out = String::with_capacity(t.len() + suffix.len());
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
        out.push_str(&suffix);
    }
    out
}

/// The addresses of a task from the first IP source that yields any (`netinfo`, `docker`, `mesos`
/// read the most recent `TASK_RUNNING` status; `host` is the agent's addresses).
fn task_addrs(task: &Task<'_>, sources: &[IpSource], agent: &[IpAddr], out: &mut Vec<IpAddr>) {
    out.clear();
    let status = task.latest_running_status();
    let parse = |text: &str, out: &mut Vec<IpAddr>| {
        if let Ok(ip) = text.parse::<IpAddr>() {
            add_unique(out, ip);
        }
    };
    for source in sources {
        match (source, status) {
            (IpSource::Netinfo, Some(s)) => {
                for ni in &s.container_status.network_infos {
                    if ni.ip_addresses.is_empty() {
                        parse(&ni.ip_address, out);
                    } else {
                        for a in &ni.ip_addresses {
                            parse(&a.ip_address, out);
                        }
                    }
                }
            }
            (IpSource::Docker | IpSource::Mesos, Some(s)) => {
                let key = if *source == IpSource::Docker {
                    DOCKER_IP_LABEL
                } else {
                    MESOS_IP_LABEL
                };
                for l in s.labels.iter().filter(|l| l.key == key) {
                    parse(&l.value, out);
                }
            }
            (IpSource::Host, _) => {
                for &ip in agent {
                    add_unique(out, ip);
                }
            }
            (_, None) => {}
        }
        if !out.is_empty() {
            return;
        }
    }
}

/// What one task's records are made from, besides its name.
struct TaskCtx<'t> {
    task: &'t Task<'t>,
    fname: &'t str,
    agent_tail: &'t str,
    task_ips: &'t [IpAddr],
    agent_ips: &'t [IpAddr],
    discovery: bool,
}

impl Generator<'_, '_> {
    /// The addresses of a host: an IP literal (`[v6]` allowed) as it is, else what the resolver gives
    /// (once per host name and run).
    fn host_addrs(&mut self, host: &str) -> Vec<IpAddr> {
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if let Ok(ip) = host.parse::<IpAddr>() {
            return vec![ip];
        }
        // Only things that look like host names go to the resolver.
        if host.is_empty() || host.len() > label::MAX_NAME_LEN || !host.bytes().all(|b| b.is_ascii_graphic()) {
            return Vec::new();
        }
        if let Some(ips) = self.resolved.get(host) {
            return ips.clone();
        }
        let mut ips = Vec::new();
        for ip in (self.input.resolve)(host) {
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }
        self.resolved.insert(host.to_owned(), ips.clone());
        ips
    }

    /// `F.D` and `_framework._tcp.F.D`; returns every framework's `F` (empty when it has none).
    fn frameworks(&mut self, state: &State<'_>) -> Vec<String> {
        let mut labels = Vec::with_capacity(state.frameworks.len());
        for f in &state.frameworks {
            let fname = self.spec.domain_frag(&f.name);
            let (host, port) = f.host_port();
            let ips = if fname.is_empty() {
                Vec::new()
            } else {
                self.host_addrs(host)
            };
            if !ips.is_empty() {
                if let Some(name) = build(&mut self.buf, &[&fname, self.domain]) {
                    push_addrs(&mut self.out, name, &ips);
                    let target = name.to_owned();
                    if let Some(port) = port {
                        if let Some(srv) = build(&mut self.buf, &["_framework._tcp", &fname, self.domain]) {
                            self.out.push(srv, RData::Srv { target, port });
                        }
                    }
                }
            }
            labels.push(fname);
        }
        labels
    }

    /// `slave.D` and `_slave._tcp.D`; returns the known agents by id with their addresses.
    fn agents<'s>(&mut self, state: &'s State<'_>) -> HashMap<&'s str, Vec<IpAddr>> {
        let mut agents = HashMap::with_capacity(state.slaves.len());
        for s in &state.slaves {
            let (host, port) = s.host_port();
            let ips = self.host_addrs(host);
            if !ips.is_empty() {
                if let Some(name) = build(&mut self.buf, &["slave", self.domain]) {
                    push_addrs(&mut self.out, name, &ips);
                    let target = name.to_owned();
                    if let Some(port) = port {
                        if let Some(srv) = build(&mut self.buf, &["_slave._tcp", self.domain]) {
                            self.out.push(srv, RData::Srv { target, port });
                        }
                    }
                }
            }
            if !s.id.is_empty() {
                agents.insert(&*s.id, ips);
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
    /// original's: configured masters in order, a master whose address is already listed is skipped,
    /// the leader numbered where it is listed (`host:port` as in its pid) or else after the others.
    fn masters(&mut self, state: &State<'_>) {
        let Some(leader) = state.leader.split('@').nth(1) else {
            return;
        };
        let Some((host, port)) = state::split_host_port(leader) else {
            return;
        };
        let leader_ips = self.host_addrs(host);
        let domain = self.domain;
        if let Some(name) = build(&mut self.buf, &["leader", domain]) {
            push_addrs(&mut self.out, name, &leader_ips);
            if !leader_ips.is_empty() {
                let target = name.to_owned();
                for srv in ["_leader._tcp", "_leader._udp"] {
                    if let Some(srv) = build(&mut self.buf, &[srv, domain]) {
                        self.out.push(
                            srv,
                            RData::Srv {
                                target: target.clone(),
                                port,
                            },
                        );
                    }
                }
            }
        }
        let Some(all) = build(&mut self.buf, &["master", domain]).map(str::to_owned) else {
            return;
        };
        push_addrs(&mut self.out, &all, &leader_ips);
        let mut n = 0usize;
        let mut leader_numbered = false;
        for master in self.input.masters {
            let Some((mhost, _)) = state::split_host_port(master) else {
                continue;
            };
            let is_leader = master.as_str() == leader;
            let ips = self.host_addrs(mhost);
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

    /// The records of every `TASK_RUNNING` task on a known agent.
    fn tasks(&mut self, state: &State<'_>, fnames: &[String], agents: &HashMap<&str, Vec<IpAddr>>) {
        let mut task_ips = Vec::new();
        for (f, fname) in state.frameworks.iter().zip(fnames) {
            if fname.is_empty() {
                continue;
            }
            for task in &f.tasks {
                if task.state != "TASK_RUNNING" {
                    continue;
                }
                let Some(agent_ips) = agents.get(&*task.slave_id) else {
                    continue;
                };
                task_addrs(task, self.input.ip_sources, agent_ips, &mut task_ips);
                let tail = agent_tail(&task.slave_id);
                let ctx = TaskCtx {
                    task,
                    fname,
                    agent_tail: &tail,
                    task_ips: &task_ips,
                    agent_ips,
                    discovery: task.has_discovery(),
                };
                if ctx.discovery {
                    // The original serves the discovery name both as written and as a label.
                    let t = self.spec.label(&task.discovery.name);
                    if let Some(raw) = label::verbatim(&task.discovery.name) {
                        if raw != t {
                            self.task_records(&ctx, &raw);
                        }
                    }
                    self.task_records(&ctx, &t);
                } else {
                    self.task_records(&ctx, &self.spec.label(&task.name));
                }
            }
        }
    }

    /// The records of one task under the name `t`.
    fn task_records(&mut self, ctx: &TaskCtx<'_>, t: &str) {
        if t.is_empty() {
            return;
        }
        let (d, f) = (self.domain, ctx.fname);
        let canon = canonical(t, &ctx.task.id, ctx.agent_tail);
        let srv_t = underscore(t);

        if let Some(name) = build(&mut self.buf, &[t, f, d]) {
            push_addrs(&mut self.out, name, ctx.task_ips);
        }
        let canon_fd = build(&mut self.buf, &[&canon, f, d]).map(str::to_owned);
        if let Some(name) = &canon_fd {
            push_addrs(&mut self.out, name, ctx.task_ips);
        }
        if let Some(name) = build(&mut self.buf, &[t, f, "slave", d]) {
            push_addrs(&mut self.out, name, ctx.agent_ips);
        }
        let canon_fsd = build(&mut self.buf, &[&canon, f, "slave", d]).map(str::to_owned);
        if let Some(name) = &canon_fsd {
            push_addrs(&mut self.out, name, ctx.agent_ips);
        }

        // SRV for the port resources, to the canonical name under `slave`.
        if let Some(target) = &canon_fsd {
            let mut names: Vec<String> = Vec::with_capacity(4);
            for proto in ["_tcp", "_udp"] {
                names.extend(build(&mut self.buf, &[&srv_t, proto, f, "slave", d]).map(str::to_owned));
            }
            if !ctx.discovery {
                for proto in ["_tcp", "_udp"] {
                    names.extend(build(&mut self.buf, &[&srv_t, proto, f, d]).map(str::to_owned));
                }
            }
            if !names.is_empty() {
                for port in state::parse_ports(&ctx.task.resources.ports) {
                    for name in &names {
                        self.out.push(
                            name,
                            RData::Srv {
                                target: target.clone(),
                                port,
                            },
                        );
                    }
                }
            }
        }

        // SRV for the discovery-info ports, to the canonical name.
        let (true, Some(target)) = (ctx.discovery, &canon_fd) else {
            return;
        };
        for p in &ctx.task.discovery.ports.ports {
            let Some(port) = p.number else {
                continue;
            };
            let proto = self.spec.label(&p.protocol);
            let protos: &[&str] = if proto.is_empty() { &["tcp", "udp"] } else { &[&proto] };
            let pname = self.spec.label(&p.name);
            let named = (!pname.is_empty()).then(|| underscore(&pname));
            for proto in protos {
                let proto = underscore(proto);
                if let Some(name) = build(&mut self.buf, &[&srv_t, &proto, f, d]) {
                    self.out.push(
                        name,
                        RData::Srv {
                            target: target.clone(),
                            port,
                        },
                    );
                }
                if let Some(named) = &named {
                    if let Some(name) = build(&mut self.buf, &[named, &srv_t, &proto, f, d]) {
                        self.out.push(
                            name,
                            RData::Srv {
                                target: target.clone(),
                                port,
                            },
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::mesos::state::parse;
    use crate::records::taskid::task_hash;

    const FAKE: &[u8] = include_bytes!("../../tests/fixtures/fake.json");
    const TUTORIAL: &[u8] = include_bytes!("../../tests/fixtures/tutorial-0.21.json");

    const DEFAULT_SOURCES: &[IpSource] = &[IpSource::Netinfo, IpSource::Mesos, IpSource::Host];
    const ALL_SOURCES: &[IpSource] = &[IpSource::Netinfo, IpSource::Docker, IpSource::Mesos, IpSource::Host];

    /// The system resolver stand-in: a few fixed names, nothing else resolves.
    fn fake_resolve(host: &str) -> Vec<IpAddr> {
        match host {
            "localhost" => vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)],
            "master1.example.com" => vec!["10.0.0.1".parse().unwrap()],
            "leader.example.com" => vec!["10.0.0.9".parse().unwrap(), "10.0.0.9".parse().unwrap()],
            "agent2.example.com" => vec!["10.1.0.2".parse().unwrap(), "fd00::2".parse().unwrap()],
            _ => Vec::new(),
        }
    }

    struct Opts<'a> {
        domain: &'a str,
        sources: &'a [IpSource],
        rfc952: bool,
        masters: &'a [String],
        self_addrs: &'a [IpAddr],
    }

    impl Default for Opts<'_> {
        fn default() -> Self {
            Opts {
                domain: "mesos",
                sources: DEFAULT_SOURCES,
                rfc952: false,
                masters: &[],
                self_addrs: &[],
            }
        }
    }

    fn gen_with(doc: &[u8], o: Opts<'_>) -> RecordList {
        let state = parse(doc).unwrap();
        let input = GenInput {
            domain: o.domain,
            ip_sources: o.sources,
            enforce_rfc952: o.rfc952,
            masters: o.masters,
            soa_mname: "ns1.mesos.",
            self_addrs: o.self_addrs,
            resolve: &fake_resolve,
        };
        generate(&state, &input)
    }

    fn gen(doc: &[u8]) -> RecordList {
        gen_with(doc, Opts::default())
    }

    fn render_data(data: &RData) -> String {
        match data {
            RData::A(a) => format!("A {a}"),
            RData::Aaaa(a) => format!("AAAA {a}"),
            RData::Srv { target, port } => format!("SRV {port} {target}"),
        }
    }

    /// Every record as `name TYPE data`.
    fn render(list: &RecordList) -> BTreeSet<String> {
        list.iter()
            .map(|r| format!("{} {}", r.name, render_data(&r.data)))
            .collect()
    }

    /// The data of every record at `name`, as `TYPE data`.
    fn at(list: &RecordList, name: &str) -> BTreeSet<String> {
        list.iter()
            .filter(|r| r.name == name)
            .map(|r| render_data(&r.data))
            .collect()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn names(list: &RecordList) -> BTreeSet<String> {
        list.iter().map(|r| r.name.clone()).collect()
    }

    fn hash(id: &str) -> String {
        String::from_utf8(task_hash(id).to_vec()).unwrap()
    }

    #[test]
    fn tutorial_gives_exactly_the_expected_records() {
        let self_addrs = ["10.0.0.53".parse().unwrap()];
        let list = gen_with(
            TUTORIAL,
            Opts {
                self_addrs: &self_addrs,
                ..Opts::default()
            },
        );
        let m = "marathon-0.7.6.mesos.";
        let ms = "marathon-0.7.6.slave.mesos.";
        let mut want = vec![
            format!("{m} A 10.41.40.151"),
            format!("_framework._tcp.{m} SRV 35214 {m}"),
            "slave.mesos. A 10.14.245.208".into(),
            "slave.mesos. A 10.114.227.92".into(),
            "slave.mesos. A 10.29.107.105".into(),
            "_slave._tcp.mesos. SRV 5051 slave.mesos.".into(),
            "ns1.mesos. A 10.0.0.53".into(),
            "leader.mesos. A 127.0.0.1".into(),
            "_leader._tcp.mesos. SRV 5050 leader.mesos.".into(),
            "_leader._udp.mesos. SRV 5050 leader.mesos.".into(),
            "master.mesos. A 127.0.0.1".into(),
            "master0.mesos. A 127.0.0.1".into(),
        ];
        for (t, h, s, ip, port) in [
            ("mesos-dns", "uhgs6", "s0", "10.14.245.208", 31053),
            ("nginx", "gwi91", "s1", "10.114.227.92", 31080),
        ] {
            let canon = format!("{t}-{h}-{s}");
            want.extend([
                format!("{t}.{m} A {ip}"),
                format!("{canon}.{m} A {ip}"),
                format!("{t}.{ms} A {ip}"),
                format!("{canon}.{ms} A {ip}"),
                format!("_{t}._tcp.{ms} SRV {port} {canon}.{ms}"),
                format!("_{t}._udp.{ms} SRV {port} {canon}.{ms}"),
                format!("_{t}._tcp.{m} SRV {port} {canon}.{ms}"),
                format!("_{t}._udp.{m} SRV {port} {canon}.{ms}"),
            ]);
        }
        let want: BTreeSet<String> = want.into_iter().collect();
        assert_eq!(render(&list), want);
        assert_eq!(list.len(), want.len(), "no record is stored twice");
        assert_eq!(hash("nginx.7a1e0000-a36d-11e4-8c21-56847afe9799"), "gwi91");
        assert_eq!(hash("mesos-dns.5d3c1d2e-a36b-11e4-8c21-56847afe9799"), "uhgs6");
    }

    #[test]
    fn tutorial_nginx_answers_as_in_the_seed_tutorial() {
        let list = gen(TUTORIAL);
        assert_eq!(at(&list, "nginx.marathon-0.7.6.mesos."), set(&["A 10.114.227.92"]));
        assert_eq!(
            at(&list, "_nginx._tcp.marathon-0.7.6.mesos."),
            set(&["SRV 31080 nginx-gwi91-s1.marathon-0.7.6.slave.mesos."])
        );
        assert_eq!(at(&list, "leader.mesos."), set(&["A 127.0.0.1"]));
        assert_eq!(at(&list, "slave.mesos.").len(), 3);
    }

    #[test]
    fn fake_json_frameworks_agents_and_masters() {
        let list = gen(FAKE);
        assert_eq!(at(&list, "ipv6-framework.mesos."), set(&["AAAA 2001:db8::1"]));
        assert_eq!(
            at(&list, "_framework._tcp.ipv6-framework.mesos."),
            set(&["SRV 25501 ipv6-framework.mesos."])
        );
        // A framework name with spaces, capitals and dots keeps its dots as label separators.
        let chronos = "chronoswithaspaceandmixedcase-2.0.1.mesos.";
        assert_eq!(at(&list, chronos), set(&["A 1.2.3.12"]));
        assert_eq!(
            at(&list, &format!("_framework._tcp.{chronos}")),
            set(&[&format!("SRV 25501 {chronos}")])
        );
        // No pid: the scheduler's hostname, resolved, and no SRV (no port).
        assert_eq!(at(&list, "nopid.mesos."), set(&["A 127.0.0.1", "AAAA ::1"]));
        assert!(at(&list, "_framework._tcp.nopid.mesos.").is_empty());
        assert_eq!(at(&list, "marathon.mesos."), set(&["A 1.2.3.11"]));
        assert_eq!(
            at(&list, "_framework._tcp.marathon.mesos."),
            set(&["SRV 25501 marathon.mesos."])
        );
        assert_eq!(
            at(&list, "slave.mesos."),
            set(&["A 1.2.3.10", "A 1.2.3.11", "A 1.2.3.12", "AAAA 2001:db8::1"])
        );
        assert_eq!(at(&list, "_slave._tcp.mesos."), set(&["SRV 5051 slave.mesos."]));
        assert_eq!(at(&list, "leader.mesos."), set(&["A 127.0.0.1"]));
        assert_eq!(at(&list, "master.mesos."), set(&["A 127.0.0.1"]));
        assert_eq!(at(&list, "master0.mesos."), set(&["A 127.0.0.1"]));
        assert_eq!(at(&list, "_leader._udp.mesos."), set(&["SRV 5050 leader.mesos."]));
    }

    #[test]
    fn fake_json_netinfo_gives_every_container_address_of_the_task() {
        let list = gen(FAKE);
        let addrs = set(&["A 12.0.1.3", "A 12.0.1.2", "AAAA fd01:b::1:8000:2"]);
        assert_eq!(at(&list, "toy-store.ipv6-framework.mesos."), addrs);
        assert_eq!(at(&list, "toy-store-go588-3.ipv6-framework.mesos."), addrs);
        assert_eq!(
            at(&list, "toy-store.ipv6-framework.slave.mesos."),
            set(&["AAAA 2001:db8::1"])
        );
        assert_eq!(
            at(&list, "toy-store-go588-3.ipv6-framework.slave.mesos."),
            set(&["AAAA 2001:db8::1"])
        );
        let target = "toy-store-go588-3.ipv6-framework.slave.mesos.";
        let srv = set(&[&format!("SRV 31354 {target}"), &format!("SRV 31355 {target}")]);
        for name in [
            "_toy-store._tcp.ipv6-framework.mesos.",
            "_toy-store._udp.ipv6-framework.mesos.",
            "_toy-store._tcp.ipv6-framework.slave.mesos.",
            "_toy-store._udp.ipv6-framework.slave.mesos.",
        ] {
            assert_eq!(at(&list, name), srv, "{name}");
        }
    }

    #[test]
    fn fake_json_docker_labels_come_from_the_latest_running_status() {
        let list = gen_with(
            FAKE,
            Opts {
                sources: ALL_SOURCES,
                ..Opts::default()
            },
        );
        // liquor.store's statuses are out of order: the latest TASK_RUNNING one says 10.3.0.1.
        assert_eq!(
            at(&list, "liquor-store.marathon.mesos."),
            set(&["A 10.3.0.1", "A 10.3.0.2"])
        );
        assert_eq!(at(&list, "liquor-store-4dfjd-0.marathon.mesos."), set(&["A 10.3.0.1"]));
        assert_eq!(at(&list, "liquor-store-zasmd-1.marathon.mesos."), set(&["A 10.3.0.2"]));
        assert_eq!(
            at(&list, "liquor-store.marathon.slave.mesos."),
            set(&["A 1.2.3.11", "A 1.2.3.12"])
        );
        assert_eq!(at(&list, "big-dog.marathon.mesos."), set(&["A 10.3.0.1"]));
        assert_eq!(at(&list, "nginx.marathon.mesos."), set(&["A 10.3.0.3"]));
        assert_eq!(at(&list, "car-store.marathon.mesos."), set(&["A 1.2.3.11"]));
        assert_eq!(at(&list, "car-store.marathon.slave.mesos."), set(&["A 1.2.3.11"]));
        assert_eq!(
            at(&list, "some-box.chronoswithaspaceandmixedcase-2.0.1.mesos."),
            set(&["A 1.2.3.11"])
        );
        assert_eq!(at(&list, "reviewbot-8sq89-1.marathon.mesos."), set(&["A 1.2.3.12"]));
        assert_eq!(at(&list, "toy-store.ipv6-framework.mesos.").len(), 3);
    }

    #[test]
    fn fake_json_ip_sources_are_tried_in_order() {
        let docker_host = gen_with(
            FAKE,
            Opts {
                sources: &[IpSource::Docker, IpSource::Host],
                ..Opts::default()
            },
        );
        assert_eq!(
            at(&docker_host, "liquor-store.marathon.mesos."),
            set(&["A 10.3.0.1", "A 10.3.0.2"])
        );
        assert_eq!(at(&docker_host, "nginx.marathon.mesos."), set(&["A 1.2.3.11"]));
        assert_eq!(
            at(&docker_host, "toy-store.ipv6-framework.mesos."),
            set(&["AAAA 2001:db8::1"])
        );

        let mesos_host = gen_with(
            FAKE,
            Opts {
                sources: &[IpSource::Mesos, IpSource::Host],
                ..Opts::default()
            },
        );
        assert_eq!(
            at(&mesos_host, "liquor-store.marathon.mesos."),
            set(&["A 1.2.3.11", "A 1.2.3.12"])
        );
        assert_eq!(at(&mesos_host, "nginx.marathon.mesos."), set(&["A 10.3.0.3"]));
        assert_eq!(
            at(&mesos_host, "toy-store.ipv6-framework.mesos."),
            set(&["AAAA 2001:db8::1"])
        );

        let host = gen_with(
            FAKE,
            Opts {
                sources: &[IpSource::Host],
                ..Opts::default()
            },
        );
        assert_eq!(
            at(&host, "liquor-store.marathon.mesos."),
            set(&["A 1.2.3.11", "A 1.2.3.12"])
        );
        assert_eq!(at(&host, "nginx.marathon.mesos."), set(&["A 1.2.3.11"]));
        assert_eq!(at(&host, "toy-store.ipv6-framework.mesos."), set(&["AAAA 2001:db8::1"]));

        // netinfo alone: tasks without container addresses get no task address records at all,
        // but still their agent records and SRV records.
        let netinfo = gen_with(
            FAKE,
            Opts {
                sources: &[IpSource::Netinfo],
                ..Opts::default()
            },
        );
        assert_eq!(at(&netinfo, "toy-store.ipv6-framework.mesos.").len(), 3);
        assert!(at(&netinfo, "liquor-store.marathon.mesos.").is_empty());
        assert!(at(&netinfo, "nginx.marathon.mesos.").is_empty());
        assert_eq!(at(&netinfo, "nginx.marathon.slave.mesos."), set(&["A 1.2.3.11"]));
        assert_eq!(at(&netinfo, "_car-store._tcp.marathon.mesos.").len(), 2);

        let none = gen_with(
            FAKE,
            Opts {
                sources: &[],
                ..Opts::default()
            },
        );
        assert!(at(&none, "toy-store.ipv6-framework.mesos.").is_empty());
        assert_eq!(
            at(&none, "toy-store.ipv6-framework.slave.mesos."),
            set(&["AAAA 2001:db8::1"])
        );
    }

    #[test]
    fn fake_json_discovery_info_gives_named_port_srv_records() {
        let list = gen(FAKE);
        let t0 = "liquor-store-4dfjd-0.marathon.mesos.";
        let t1 = "liquor-store-zasmd-1.marathon.mesos.";
        assert_eq!(
            at(&list, "_liquor-store._tcp.marathon.mesos."),
            set(&[
                &format!("SRV 80 {t0}"),
                &format!("SRV 443 {t0}"),
                &format!("SRV 80 {t1}"),
                &format!("SRV 443 {t1}")
            ])
        );
        assert_eq!(
            at(&list, "_http._liquor-store._tcp.marathon.mesos."),
            set(&[&format!("SRV 80 {t0}"), &format!("SRV 80 {t1}")])
        );
        assert_eq!(
            at(&list, "_https._liquor-store._tcp.marathon.mesos."),
            set(&[&format!("SRV 443 {t0}"), &format!("SRV 443 {t1}")])
        );
        // Discovery ports are tcp only; there is no protocol-less name.
        assert!(at(&list, "_liquor-store._udp.marathon.mesos.").is_empty());
        assert!(at(&list, "_liquor-store.marathon.mesos.").is_empty());
        // The port resources still give SRV records under `slave`, to the canonical slave name.
        let s0 = "liquor-store-4dfjd-0.marathon.slave.mesos.";
        let s1 = "liquor-store-zasmd-1.marathon.slave.mesos.";
        assert_eq!(
            at(&list, "_liquor-store._tcp.marathon.slave.mesos."),
            set(&[
                &format!("SRV 31354 {s0}"),
                &format!("SRV 31355 {s0}"),
                &format!("SRV 31737 {s1}"),
                &format!("SRV 31738 {s1}"),
            ])
        );
        assert_eq!(at(&list, "_liquor-store._udp.marathon.slave.mesos.").len(), 4);
        let b = "big-dog-4dfjd-0.marathon.mesos.";
        assert_eq!(
            at(&list, "_big-dog._tcp.marathon.mesos."),
            set(&[&format!("SRV 80 {b}"), &format!("SRV 443 {b}")])
        );
        // Without discovery info, the port resources also give names directly under the framework.
        let c = "car-store-zinaz-0.marathon.slave.mesos.";
        for name in ["_car-store._tcp.marathon.mesos.", "_car-store._udp.marathon.mesos."] {
            assert_eq!(
                at(&list, name),
                set(&[&format!("SRV 31364 {c}"), &format!("SRV 31365 {c}")])
            );
        }
    }

    #[test]
    fn fake_json_discovery_name_is_also_served_as_written() {
        let list = gen_with(
            FAKE,
            Opts {
                sources: ALL_SOURCES,
                ..Opts::default()
            },
        );
        assert_eq!(
            at(&list, "liquor.store.marathon.mesos."),
            set(&["A 10.3.0.1", "A 10.3.0.2"])
        );
        assert_eq!(at(&list, "liquor.store-4dfjd-0.marathon.mesos."), set(&["A 10.3.0.1"]));
        assert_eq!(
            at(&list, "liquor.store.marathon.slave.mesos."),
            set(&["A 1.2.3.11", "A 1.2.3.12"])
        );
        assert_eq!(at(&list, "big.dog.marathon.mesos."), set(&["A 10.3.0.1"]));
        assert_eq!(
            at(&list, "_http._liquor.store._tcp.marathon.mesos."),
            set(&[
                "SRV 80 liquor.store-4dfjd-0.marathon.mesos.",
                "SRV 80 liquor.store-zasmd-1.marathon.mesos."
            ])
        );
        // The task names of discovery tasks are not used.
        assert!(at(&list, "big-dog2.marathon.mesos.").is_empty());
        assert!(at(&list, "non-human-readable-liquor-store.marathon.mesos.").is_empty());
    }

    #[test]
    fn fake_json_only_running_tasks_on_known_agents_get_records() {
        let list = gen(FAKE);
        let all = names(&list);
        assert!(!all.iter().any(|n| n.contains("poseidon")), "killed task");
        assert!(!all.iter().any(|n| n.contains("box01")), "completed task");
        assert!(!all.iter().any(|n| n.contains("chronostask")), "completed task");
        for name in [
            "chronos.marathon.mesos.",
            "reviewbot.marathon.mesos.",
            "car-store.marathon.mesos.",
        ] {
            assert!(all.contains(name), "{name}");
        }
        assert!(all
            .iter()
            .all(|n| n.ends_with(".mesos.") && *n == n.to_ascii_lowercase()));
        assert!(all.iter().all(|n| label::is_valid_name(n)));
        // nginx has "[]" ports: no SRV records at all.
        assert!(!all.iter().any(|n| n.starts_with("_nginx.")));
    }

    #[test]
    fn fake_json_rfc952_shortens_framework_labels() {
        let list = gen_with(
            FAKE,
            Opts {
                sources: ALL_SOURCES,
                rfc952: true,
                ..Opts::default()
            },
        );
        assert_eq!(
            at(&list, "some-box.chronoswithaspaceandmixe.mesos."),
            set(&["A 1.2.3.11"])
        );
        assert_eq!(at(&list, "chronoswithaspaceandmixe.mesos."), set(&["A 1.2.3.12"]));
        assert_eq!(
            at(&list, "liquor-store.marathon.mesos."),
            set(&["A 10.3.0.1", "A 10.3.0.2"])
        );
        assert!(at(&list, "some-box.chronoswithaspaceandmixedcase-2.0.1.mesos.").is_empty());
        let tutorial = gen_with(
            TUTORIAL,
            Opts {
                rfc952: true,
                ..Opts::default()
            },
        );
        assert_eq!(at(&tutorial, "nginx.marathon-0.mesos."), set(&["A 10.114.227.92"]));
    }

    #[test]
    fn the_domain_is_normalised() {
        let list = gen_with(
            TUTORIAL,
            Opts {
                domain: "Example.COM.",
                ..Opts::default()
            },
        );
        assert_eq!(
            at(&list, "nginx.marathon-0.7.6.example.com."),
            set(&["A 10.114.227.92"])
        );
        assert_eq!(at(&list, "leader.example.com."), set(&["A 127.0.0.1"]));
    }

    #[test]
    fn the_server_name_gets_every_listener_address() {
        let addrs: Vec<IpAddr> = vec!["10.0.0.53".parse().unwrap(), "fd00::53".parse().unwrap()];
        let list = gen_with(
            TUTORIAL,
            Opts {
                self_addrs: &addrs,
                ..Opts::default()
            },
        );
        assert_eq!(at(&list, "ns1.mesos."), set(&["A 10.0.0.53", "AAAA fd00::53"]));
    }

    /// The master records alone for a leader string and masters list (domain `foo.com`).
    fn master_records(leader: &str, masters: &[&str]) -> BTreeSet<String> {
        let doc = serde_json::json!({ "leader": leader }).to_string();
        let masters: Vec<String> = masters.iter().map(|m| m.to_string()).collect();
        let list = gen_with(
            doc.as_bytes(),
            Opts {
                domain: "foo.com",
                masters: &masters,
                ..Opts::default()
            },
        );
        render(&list)
    }

    #[test]
    fn masters_are_numbered_as_in_the_original() {
        let srv = [
            "_leader._tcp.foo.com. SRV 7 leader.foo.com.",
            "_leader._udp.foo.com. SRV 7 leader.foo.com.",
        ];
        let with = |extra: &[&str]| -> BTreeSet<String> {
            srv.iter()
                .copied()
                .chain(extra.iter().copied())
                .map(String::from)
                .collect()
        };
        for bad in ["", "@", "1@", "@2", "3@4", "5@0.0.0.6"] {
            assert!(master_records(bad, &[]).is_empty(), "{bad:?}");
        }
        let six = ["leader.foo.com. A 0.0.0.6", "master.foo.com. A 0.0.0.6"];
        let cases: &[(&str, &[&str], Vec<&str>)] = &[
            ("5@0.0.0.6:7", &[], vec!["master0.foo.com. A 0.0.0.6"]),
            ("5@0.0.0.6:7", &["0.0.0.6:7"], vec!["master0.foo.com. A 0.0.0.6"]),
            (
                "5@0.0.0.6:7",
                &["0.0.0.8:9"],
                vec![
                    "master.foo.com. A 0.0.0.8",
                    "master0.foo.com. A 0.0.0.8",
                    "master1.foo.com. A 0.0.0.6",
                ],
            ),
            (
                "5@0.0.0.6:7",
                &["0.0.0.8:9", "0.0.0.8:9"],
                vec![
                    "master.foo.com. A 0.0.0.8",
                    "master0.foo.com. A 0.0.0.8",
                    "master1.foo.com. A 0.0.0.6",
                ],
            ),
            (
                "5@0.0.0.6:7",
                &["0.0.0.8:9", "0.0.0.6:7"],
                vec![
                    "master.foo.com. A 0.0.0.8",
                    "master0.foo.com. A 0.0.0.8",
                    "master1.foo.com. A 0.0.0.6",
                ],
            ),
            (
                "5@0.0.0.6:7",
                &["0.0.0.8:9", "0.0.0.6:7", "0.0.0.6:7"],
                vec![
                    "master.foo.com. A 0.0.0.8",
                    "master0.foo.com. A 0.0.0.8",
                    "master1.foo.com. A 0.0.0.6",
                ],
            ),
            (
                "5@0.0.0.6:7",
                &["0.0.0.8:9", "0.0.0.6:7", "0.0.0.7:0"],
                vec![
                    "master.foo.com. A 0.0.0.8",
                    "master.foo.com. A 0.0.0.7",
                    "master0.foo.com. A 0.0.0.8",
                    "master1.foo.com. A 0.0.0.6",
                    "master2.foo.com. A 0.0.0.7",
                ],
            ),
            (
                "5@0.0.0.6:7",
                &["0.0.0.8:9", "0.0.0.6:7", "[2001:db8::1]:0"],
                vec![
                    "master.foo.com. A 0.0.0.8",
                    "master.foo.com. AAAA 2001:db8::1",
                    "master0.foo.com. A 0.0.0.8",
                    "master1.foo.com. A 0.0.0.6",
                    "master2.foo.com. AAAA 2001:db8::1",
                ],
            ),
            (
                "5@0.0.0.6:7",
                &["master1.example.com:5050", "not an address", "0.0.0.6:7"],
                vec![
                    "master.foo.com. A 10.0.0.1",
                    "master0.foo.com. A 10.0.0.1",
                    "master1.foo.com. A 0.0.0.6",
                ],
            ),
        ];
        for (leader, masters, extra) in cases {
            let mut want: Vec<&str> = six.to_vec();
            want.extend(extra);
            assert_eq!(master_records(leader, masters), with(&want), "{leader} {masters:?}");
        }
        assert_eq!(
            master_records("5@[2001:db8::1]:7", &[]),
            with(&[
                "leader.foo.com. AAAA 2001:db8::1",
                "master.foo.com. AAAA 2001:db8::1",
                "master0.foo.com. AAAA 2001:db8::1"
            ])
        );
        // A leader named by host name is resolved.
        assert_eq!(
            master_records("master@leader.example.com:7", &[]),
            with(&[
                "leader.foo.com. A 10.0.0.9",
                "master.foo.com. A 10.0.0.9",
                "master0.foo.com. A 10.0.0.9"
            ])
        );
    }

    const ODD: &str = r#"{
        "leader": "master@10.0.0.1:5050",
        "slaves": [
            {"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051"},
            {"id": "b-S2", "pid": null, "hostname": "agent2.example.com"},
            {"id": "c-S3", "pid": "garbage", "hostname": "unresolvable.invalid"},
            {"id": "d-S4", "pid": "slave(1)@[::ffff:10.1.0.4]:5051"},
            null, {"id": null, "pid": "slave(1)@10.1.0.5:5051"}, 7
        ],
        "frameworks": [
            {"name": "web", "pid": "scheduler@10.2.0.1:1", "tasks": [
                {"id": "t1", "name": "ok", "slave_id": "a-S1", "state": "TASK_RUNNING",
                 "resources": {"ports": "[garbage, 80-81, 99999-1, 5-4]"}},
                {"id": "t2", "name": "lost", "slave_id": "zzz-S9", "state": "TASK_RUNNING"},
                {"id": "t3", "name": "", "slave_id": "a-S1", "state": "TASK_RUNNING"},
                {"id": "t4", "name": "$$$", "slave_id": "a-S1", "state": "TASK_RUNNING"},
                {"id": "t5", "name": "h2", "slave_id": "b-S2", "state": "TASK_RUNNING", "statuses": null, "resources": null},
                {"id": "t6", "name": "noaddr", "slave_id": "c-S3", "state": "TASK_RUNNING", "resources": {"ports": "[5-5]"}},
                null,
                {"id": "t7", "name": "staging", "slave_id": "a-S1", "state": "TASK_STAGING"},
                {"id": "t8", "name": "LONGNAME", "slave_id": "a-S1", "state": "TASK_RUNNING", "resources": {"ports": "[9-9]"}},
                {"id": "t9", "name": "odd-ips", "slave_id": "a-S1", "state": "TASK_RUNNING", "statuses": [
                    {"state": "TASK_RUNNING", "timestamp": 1, "container_status": {"network_infos": [
                        {"ip_addresses": [{"ip_address": "not-an-ip"}, {"ip_address": "::ffff:10.9.9.9"},
                                          {"ip_address": "10.9.9.9"}, {"ip_address": ""}]},
                        {"ip_address": "fd00::9"}]}},
                    {"state": "TASK_FAILED", "timestamp": 5, "container_status": {"network_infos": [
                        {"ip_address": "10.0.0.66"}]}}]},
                {"id": "t10", "name": "ignored", "slave_id": "a-S1", "state": "TASK_RUNNING",
                 "discovery": {"name": "Disc Name!", "ports": {"ports": [
                    {"number": "x", "name": "bad"}, {"number": 53, "protocol": "", "name": "DNS"}, null]}}},
                {"id": "t11", "name": "mapped", "slave_id": "d-S4", "state": "TASK_RUNNING"},
                {"id": "t12", "name": "weird-agent", "slave_id": "", "state": "TASK_RUNNING"}
            ]},
            {"name": "", "pid": "scheduler@10.2.0.2:1", "tasks": [
                {"id": "e1", "name": "x", "slave_id": "a-S1", "state": "TASK_RUNNING"}]},
            {"name": null, "pid": null, "tasks": null},
            {"name": "\u00dcn\u00efc\u00f6d\u00e9.fw", "pid": "scheduler@10.2.0.3:2", "tasks": [
                {"id": "u1", "name": "\u65e5\u672c-app", "slave_id": "a-S1", "state": "TASK_RUNNING"}]},
            {"name": "HUGE", "pid": "scheduler@10.2.0.4:3", "tasks": [
                {"id": "h1", "name": "x", "slave_id": "a-S1", "state": "TASK_RUNNING"}]}
        ]
    }"#;

    fn odd_doc() -> String {
        let huge = vec!["f".repeat(63); 4].join(".");
        ODD.replace("LONGNAME", &"Long_".repeat(30)).replace("HUGE", &huge)
    }

    #[test]
    fn odd_documents_give_only_sound_records() {
        let doc = odd_doc();
        let list = gen(doc.as_bytes());
        let all = names(&list);
        assert!(all.iter().all(|n| label::is_valid_name(n)), "{all:?}");

        // A task with garbage in its port ranges keeps the good ranges.
        let h1 = hash("t1");
        let target = format!("ok-{h1}-s1.web.slave.mesos.");
        assert_eq!(at(&list, "ok.web.mesos."), set(&["A 10.1.0.1"]));
        assert_eq!(
            at(&list, "_ok._tcp.web.mesos."),
            set(&[&format!("SRV 80 {target}"), &format!("SRV 81 {target}")])
        );
        // Unknown agent, empty or unusable names, non-running: nothing.
        assert!(!all
            .iter()
            .any(|n| n.contains("lost") || n.contains("staging") || n.contains("weird")));
        assert!(!all
            .iter()
            .any(|n| n.contains(&hash("t3")) || n.contains(&hash("t4")) || n.contains(&hash("t12"))));
        // An agent without a pid is found by its host name; no SRV without a port.
        assert_eq!(at(&list, "h2.web.mesos."), set(&["A 10.1.0.2", "AAAA fd00::2"]));
        assert_eq!(at(&list, "h2.web.slave.mesos."), set(&["A 10.1.0.2", "AAAA fd00::2"]));
        assert_eq!(
            at(&list, "slave.mesos."),
            set(&["A 10.1.0.1", "A 10.1.0.2", "AAAA fd00::2", "A 10.1.0.4", "A 10.1.0.5"])
        );
        assert_eq!(at(&list, "_slave._tcp.mesos."), set(&["SRV 5051 slave.mesos."]));
        // A known agent without any address: its tasks keep their SRV records, but get no addresses.
        let h6 = hash("t6");
        assert!(at(&list, "noaddr.web.mesos.").is_empty());
        assert!(at(&list, "noaddr.web.slave.mesos.").is_empty());
        assert_eq!(
            at(&list, "_noaddr._tcp.web.mesos."),
            set(&[&format!("SRV 5 noaddr-{h6}-s3.web.slave.mesos.")])
        );
        // Over-long task names are cut to 63; the canonical name keeps its hash and agent.
        let long = Spec::Rfc1123.label(&"Long_".repeat(30));
        assert_eq!(long.len(), 63);
        assert_eq!(at(&list, &format!("{long}.web.mesos.")), set(&["A 10.1.0.1"]));
        let h8 = hash("t8");
        let canon = format!("{}-{h8}-s1", long[..54].trim_end_matches('-'));
        assert!(canon.len() <= 63);
        assert_eq!(at(&list, &format!("{canon}.web.mesos.")), set(&["A 10.1.0.1"]));
        // `_` + a 63-octet label is cut to 63.
        let srv = format!("_{}._tcp.web.mesos.", &long[..62]);
        assert_eq!(at(&list, &srv), set(&[&format!("SRV 9 {canon}.web.slave.mesos.")]));
        // Bad addresses are skipped, IPv4-mapped IPv6 is A, the single-address form is read, and
        // only the latest TASK_RUNNING status counts.
        assert_eq!(at(&list, "odd-ips.web.mesos."), set(&["A 10.9.9.9", "AAAA fd00::9"]));
        assert_eq!(at(&list, "mapped.web.mesos."), set(&["A 10.1.0.4"]));
        // A discovery name that is not usable as written is served only as a label; an empty protocol
        // means tcp and udp; a port that is not a number is skipped.
        let d = format!("discname-{}-s1.web.mesos.", hash("t10"));
        assert_eq!(at(&list, "discname.web.mesos."), set(&["A 10.1.0.1"]));
        for name in [
            "_discname._tcp.web.mesos.",
            "_discname._udp.web.mesos.",
            "_dns._discname._tcp.web.mesos.",
            "_dns._discname._udp.web.mesos.",
        ] {
            assert_eq!(at(&list, name), set(&[&format!("SRV 53 {d}")]), "{name}");
        }
        assert!(!all.iter().any(|n| n.contains("_bad") || n.contains("ignored")));
        // A framework whose name leaves no label gets nothing; unicode is dropped.
        assert!(!all.iter().any(|n| n.starts_with("x.")));
        assert_eq!(at(&list, "ncd.fw.mesos."), set(&["A 10.2.0.3"]));
        assert_eq!(at(&list, "app.ncd.fw.mesos."), set(&["A 10.1.0.1"]));
        // A framework whose names would pass 253 characters gets none.
        assert!(!all.iter().any(|n| n.contains("fffff")));
        assert!(!render(&list).iter().any(|r| r.contains("10.2.0.4")));
        // Masters still come out.
        assert_eq!(at(&list, "leader.mesos."), set(&["A 10.0.0.1"]));
    }

    #[test]
    fn empty_and_minimal_documents_give_only_what_they_hold() {
        assert!(gen(b"{}").is_empty());
        let list = gen(br#"{"leader": "master@10.0.0.1:5050", "frameworks": null, "slaves": {}}"#);
        assert_eq!(
            names(&list),
            set(&[
                "leader.mesos.",
                "_leader._tcp.mesos.",
                "_leader._udp.mesos.",
                "master.mesos.",
                "master0.mesos."
            ])
        );
    }

    #[test]
    fn generated_state_gives_the_expected_record_for_every_task() {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/gen-state.py");
        if !script.exists() {
            eprintln!("skipped: {} not found", script.display());
            return;
        }
        let out = std::process::Command::new("python3")
            .arg(&script)
            .args(["--agents", "50", "--tasks", "500"])
            .output()
            .expect("python3 runs gen-state.py");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let body = out.stdout;
        let list = gen_with(
            &body,
            Opts {
                sources: ALL_SOURCES,
                ..Opts::default()
            },
        );
        assert!(names(&list).iter().all(|n| label::is_valid_name(n)));
        assert_eq!(at(&list, "slave.mesos.").len(), 50);

        // Check every task against an independent reading of the document.
        let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let agent_ip = |id: &str| -> String {
            let a = doc["slaves"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["id"] == id)
                .unwrap();
            a["hostname"].as_str().unwrap().to_owned()
        };
        let (mut running, mut other) = (0, 0);
        for f in doc["frameworks"].as_array().unwrap() {
            let fw = f["name"].as_str().unwrap();
            for t in f["tasks"].as_array().unwrap() {
                let (id, name, agent) = (
                    t["id"].as_str().unwrap(),
                    t["name"].as_str().unwrap(),
                    t["slave_id"].as_str().unwrap(),
                );
                let s = agent.rsplit('-').next().unwrap().to_ascii_lowercase();
                let canon = format!("{name}-{}-{s}", hash(id));
                if t["state"] != "TASK_RUNNING" {
                    other += 1;
                    assert!(at(&list, &format!("{canon}.{fw}.mesos.")).is_empty(), "{id}");
                    continue;
                }
                running += 1;
                let status = &t["statuses"][0];
                let ip: IpAddr =
                    match status["container_status"]["network_infos"][0]["ip_addresses"][0]["ip_address"].as_str() {
                        Some(ip) => ip.parse().unwrap(),
                        None => agent_ip(agent).parse().unwrap(),
                    };
                let rtype = if ip.is_ipv6() { "AAAA" } else { "A" };
                let want = set(&[&format!("{rtype} {ip}")]);
                assert_eq!(at(&list, &format!("{canon}.{fw}.mesos.")), want, "{id}");
                assert!(
                    at(&list, &format!("{name}.{fw}.mesos.")).contains(&format!("{rtype} {ip}")),
                    "{id}"
                );
                assert_eq!(
                    at(&list, &format!("{canon}.{fw}.slave.mesos.")),
                    set(&[&format!("A {}", agent_ip(agent))])
                );
                let ports = t["resources"]["ports"].as_str().unwrap();
                let srvs = at(&list, &format!("_{name}._tcp.{fw}.slave.mesos."));
                for port in state::parse_ports(ports) {
                    assert!(
                        srvs.contains(&format!("SRV {port} {canon}.{fw}.slave.mesos.")),
                        "{id} {port}"
                    );
                }
                if let Some(ports) = t["discovery"]["ports"]["ports"].as_array() {
                    let http = at(&list, &format!("_http._{name}._tcp.{fw}.mesos."));
                    assert!(
                        http.contains(&format!("SRV {} {canon}.{fw}.mesos.", ports[0]["number"])),
                        "{id}"
                    );
                    assert!(at(&list, &format!("_{name}._tcp.{fw}.mesos.")).len() >= 2, "{id}");
                }
            }
        }
        assert_eq!(running + other, 500);
        assert!(running > 350 && other > 25, "{running} {other}");
    }
}
