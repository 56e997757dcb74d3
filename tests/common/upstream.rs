//! Upstream resolvers for the relay tests, on loopback only.
//!
//! [`Upstream`] is a scriptable responder of our own: one port served over UDP and TCP, answering each name
//! as the test says (records, an RCODE, silence, exact bytes) and recording every query it gets, by
//! transport. It sends only to whoever asked it. (Truncation and spoofed answers are the relay table's
//! unit tests, in `src/forward/table/tests/`.) [`Unbound`] runs Debian's `unbound` as a child process:
//! for the relay tests with local data and no recursion at all (`local-zone: "." refuse`), so it never
//! asks anyone; for the README's stub-zone test with the config that test gives (loopback servers only).
//!
//! Answers are built by hand from RFC 1035, like the client in `super::dns`, without `src/wire`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::{dns, scratch_dir, Transport, TAKEN};

/// TTL of the A records the responder makes up.
pub const TTL: u32 = 300;

/// What the responder does with a query for a name.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// NOERROR with these A records (for any type asked; none is NODATA).
    Answer(Vec<Ipv4Addr>),
    /// This RCODE, no records.
    Rcode(u8),
    /// Never answer. Over TCP the connection stays open, silent.
    Hang,
    /// Exactly these bytes, with the query's ID written over the first two.
    Raw(Vec<u8>),
}

/// One query the responder received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub transport: Transport,
    pub from: SocketAddr,
    pub id: u16,
    /// Lower-case, without the trailing dot ("" when the query did not parse).
    pub name: String,
    pub qtype: u16,
    pub bytes: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

struct State {
    names: HashMap<String, Behaviour>,
    default: Behaviour,
    seen: Vec<Seen>,
    /// Genuine answers sent, in order.
    sent: Vec<(Transport, Vec<u8>)>,
}

/// Datagrams one responder handles at most (a backstop: the loop ends when the responder is dropped).
const MAX_DATAGRAMS: usize = 1_000_000;
/// Connections one responder accepts at most, and queries per connection.
const MAX_CONNECTIONS: usize = 10_000;
const MAX_FRAMES: usize = 10_000;
/// Turns of one connection's loop at most (each reads, answers a frame, or waits one tick).
const MAX_TURNS: usize = 1_000_000;
/// How often the blocking loops look at the stop flag.
const TICK: Duration = Duration::from_millis(50);

/// A scriptable resolver on a loopback port (UDP and TCP); stops on drop.
pub struct Upstream {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Upstream {
    /// A responder on 127.0.0.1 answering every name with `default`.
    pub fn start(default: Behaviour) -> Upstream {
        Upstream::start_on(IpAddr::V4(Ipv4Addr::LOCALHOST), default)
    }

    /// A responder on ::1.
    pub fn start_v6(default: Behaviour) -> Upstream {
        Upstream::start_on(IpAddr::V6(Ipv6Addr::LOCALHOST), default)
    }

    /// A responder on port 53 of a loopback address of its own (127.53.x.y), as a resolv.conf
    /// `nameserver` line can name only port 53. Binding port 53 needs root (CI runs as root).
    pub fn start_on_port_53(default: Behaviour) -> Upstream {
        let seed = std::process::id() as usize ^ TAKEN.lock().unwrap().get_or_insert_with(Default::default).len();
        for i in 0..200usize {
            let n = seed.wrapping_mul(31).wrapping_add(i * 7919);
            let ip = IpAddr::V4(Ipv4Addr::new(127, 53, (n >> 8) as u8, (n as u8).max(1)));
            let (Ok(udp), Ok(tcp)) = (UdpSocket::bind((ip, 53)), TcpListener::bind((ip, 53))) else {
                continue;
            };
            return Upstream::serve(udp, tcp, default);
        }
        panic!("no free port 53 on 127.53.0.0/16 (binding port 53 needs root)");
    }

    /// A responder on `ip` (a loopback address) answering every name with `default`.
    pub fn start_on(ip: IpAddr, default: Behaviour) -> Upstream {
        assert!(ip.is_loopback(), "test resolvers live on loopback only, not {ip}");
        let (udp, tcp) = bind_pair(ip);
        Upstream::serve(udp, tcp, default)
    }

    /// A responder on exactly `addr` (a loopback address whose port the test has just let go, e.g. a
    /// resolver that comes back).
    pub fn start_at(addr: SocketAddr, default: Behaviour) -> Upstream {
        assert!(
            addr.ip().is_loopback(),
            "test resolvers live on loopback only, not {addr}"
        );
        let udp = UdpSocket::bind(addr).expect("bind responder UDP on the given port");
        let tcp = TcpListener::bind(addr).expect("bind responder TCP on the given port");
        Upstream::serve(udp, tcp, default)
    }

    fn serve(udp: UdpSocket, tcp: TcpListener, default: Behaviour) -> Upstream {
        let addr = udp.local_addr().expect("responder address");
        let state = Arc::new(Mutex::new(State {
            names: HashMap::new(),
            default,
            seen: Vec::new(),
            sent: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let udp_thread = {
            let (state, stop) = (state.clone(), stop.clone());
            thread::Builder::new()
                .name(format!("upstream-udp-{}", addr.port()))
                .spawn(move || serve_udp(&udp, &state, &stop))
                .expect("spawn responder")
        };
        let tcp_thread = {
            let (state, stop, conns) = (state.clone(), stop.clone(), conns.clone());
            thread::Builder::new()
                .name(format!("upstream-tcp-{}", addr.port()))
                .spawn(move || {
                    for conn in tcp.incoming().take(MAX_CONNECTIONS) {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(conn) = conn else { continue };
                        let (state, stop) = (state.clone(), stop.clone());
                        if let Ok(t) = thread::Builder::new()
                            .name("upstream-conn".into())
                            .spawn(move || serve_tcp(conn, &state, &stop))
                        {
                            conns.lock().unwrap().push(t);
                        }
                    }
                })
                .expect("spawn responder")
        };
        Upstream {
            addr,
            state,
            stop,
            threads: vec![udp_thread, tcp_thread],
            conns,
        }
    }

    /// Answers `name` (any case, with or without the trailing dot) this way from now on.
    pub fn set(&self, name: &str, behaviour: Behaviour) -> &Upstream {
        self.state.lock().unwrap().names.insert(key(name), behaviour);
        self
    }

    /// Answers every name without a behaviour of its own this way from now on (`Hang`: a resolver
    /// that went dark; then its default again: it came back).
    pub fn set_default(&self, behaviour: Behaviour) -> &Upstream {
        self.state.lock().unwrap().default = behaviour;
        self
    }

    /// Its address, as a `resolvers` entry (`127.0.0.1:port` or `[::1]:port`).
    pub fn resolver(&self) -> String {
        self.addr.to_string()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every query received so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// The transports of the queries received for `name`, in order.
    pub fn transports_for(&self, name: &str) -> Vec<Transport> {
        let name = key(name);
        self.seen()
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.transport)
            .collect()
    }

    /// Queries received over `transport`.
    pub fn count(&self, transport: Transport) -> usize {
        self.seen().iter().filter(|s| s.transport == transport).count()
    }

    /// The names asked, in order.
    pub fn names(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.name).collect()
    }

    /// Genuine answers sent so far, in order.
    pub fn sent(&self) -> Vec<(Transport, Vec<u8>)> {
        self.state.lock().unwrap().sent.clone()
    }

    /// Waits until `n` queries in all have arrived.
    pub fn wait_queries(&self, n: usize, deadline: Duration) {
        super::wait_until(
            &format!("{n} queries at the test upstream {}", self.addr),
            deadline,
            || self.seen().len() >= n,
        );
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so that its loop sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let conns: Vec<_> = self.conns.lock().map(|mut c| c.drain(..).collect()).unwrap_or_default();
        for t in conns {
            let _ = t.join();
        }
    }
}

/// A UDP socket and a TCP listener on the same fresh port of `ip`, recorded as taken for this process.
fn bind_pair(ip: IpAddr) -> (UdpSocket, TcpListener) {
    for _ in 0..200 {
        let udp = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind responder UDP");
        let port = udp.local_addr().expect("responder address").port();
        let Ok(tcp) = TcpListener::bind(SocketAddr::new(ip, port)) else {
            continue;
        };
        if TAKEN.lock().unwrap().get_or_insert_with(Default::default).insert(port) {
            return (udp, tcp);
        }
    }
    panic!("no free UDP+TCP port on {ip}");
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn serve_udp(udp: &UdpSocket, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = udp.set_read_timeout(Some(TICK));
    let mut buf = vec![0u8; 65535];
    for _ in 0..MAX_DATAGRAMS {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok((n, from)) = udp.recv_from(&mut buf) else {
            continue; // the tick, or an ICMP error from an earlier send
        };
        for out in plan(state, &buf[..n], from, Transport::Udp) {
            let _ = udp.send_to(&out, from);
        }
    }
}

fn serve_tcp(mut conn: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let Ok(from) = conn.peer_addr() else { return };
    let _ = conn.set_read_timeout(Some(TICK));
    let _ = conn.set_write_timeout(Some(Duration::from_secs(5)));
    let mut input = Vec::new();
    let mut buf = [0u8; 4096];
    let mut frames = 0;
    // Each turn answers a whole frame, or reads what came, or ticks. Bounded by the stop flag (set on
    // drop), and by a turn count as a backstop.
    for _ in 0..MAX_TURNS {
        if frames >= MAX_FRAMES || stop.load(Ordering::SeqCst) {
            return;
        }
        if let Some(&[hi, lo]) = input.get(..2) {
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            if input.len() >= 2 + len {
                let query: Vec<u8> = input.drain(..2 + len).skip(2).collect();
                frames += 1;
                for out in plan(state, &query, from, Transport::Tcp) {
                    let mut framed = (out.len() as u16).to_be_bytes().to_vec();
                    framed.extend_from_slice(&out);
                    if conn.write_all(&framed).is_err() {
                        return;
                    }
                }
                continue;
            }
        }
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => input.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Records the query and works out what to send back.
fn plan(state: &Mutex<State>, query: &[u8], from: SocketAddr, transport: Transport) -> Vec<Vec<u8>> {
    let parsed = dns::parse(query).ok();
    let (name, qtype) = parsed
        .as_ref()
        .and_then(|p| p.questions.first())
        .map(|(n, t, _)| (key(n), *t))
        .unwrap_or_default();
    let mut s = state.lock().unwrap();
    s.seen.push(Seen {
        transport,
        from,
        id: u16::from_be_bytes([query.first().copied().unwrap_or(0), query.get(1).copied().unwrap_or(0)]),
        name: name.clone(),
        qtype,
        bytes: query.to_vec(),
        at: Instant::now(),
    });
    let Some(qend) = question_end(query) else {
        return Vec::new(); // not a query we can answer: stay silent
    };
    let behaviour = s.names.get(&name).unwrap_or(&s.default).clone();
    let outs = match behaviour {
        Behaviour::Hang => Vec::new(),
        Behaviour::Answer(addrs) => vec![reply(query, qend, 0, &addrs)],
        Behaviour::Rcode(rcode) => vec![reply(query, qend, u16::from(rcode & 0x0f), &[])],
        Behaviour::Raw(mut bytes) => {
            if bytes.len() >= 2 {
                bytes[..2].copy_from_slice(&query[..2]);
            }
            vec![bytes]
        }
    };
    for out in &outs {
        s.sent.push((transport, out.clone()));
    }
    outs
}

/// Where the (single, uncompressed) question of `query` ends.
fn question_end(query: &[u8]) -> Option<usize> {
    if query.len() < 12 || query[4..6] != [0, 1] {
        return None;
    }
    let mut pos = 12;
    for _ in 0..128 {
        let len = usize::from(*query.get(pos)?);
        if len == 0 {
            let end = pos + 1 + 4;
            return (end <= query.len()).then_some(end);
        }
        if len > 63 {
            return None; // compressed or extended label: not in our clients' queries
        }
        pos += 1 + len;
    }
    None
}

/// A response to `query` (whose question ends at `qend`): QR, RD copied, RA, `extra` flags/RCODE, the
/// question as asked, and an A record per address with the owner compressed to the question name.
fn reply(query: &[u8], qend: usize, extra: u16, addrs: &[Ipv4Addr]) -> Vec<u8> {
    let rd = u16::from_be_bytes([query[2], query[3]]) & 0x0100;
    let flags = 0x8000 | rd | 0x0080 | extra;
    let mut out = Vec::with_capacity(qend + addrs.len() * 16);
    out.extend_from_slice(&query[..2]);
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0, 1]);
    out.extend_from_slice(&(addrs.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&query[12..qend]);
    for a in addrs {
        out.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
        out.extend_from_slice(&TTL.to_be_bytes());
        out.extend_from_slice(&[0, 4]);
        out.extend_from_slice(&a.octets());
    }
    out
}

// ---------------------------------------------------------------------------------------------------
// unbound

/// Debian's `unbound` on 127.0.0.1, a child process with its config in a scratch directory: from
/// [`Unbound::start`] it answers its `local-data` and REFUSED for everything else (it never recurses);
/// [`Unbound::start_with`] runs the config a test gives. Killed on drop.
pub struct Unbound {
    child: Child,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl Unbound {
    /// Starts unbound serving these `local-data` records (zone-file lines such as
    /// `www.google.com. 300 IN A 127.1.2.3`), one `static` local zone per owner name, and waits until
    /// it answers. Fails the test when unbound is missing (`apt-get install -y unbound`; .ci/run does).
    pub fn start(records: &[&str]) -> Unbound {
        let mut conf = String::from(
            "    module-config: \"iterator\"\n\
             \x20   local-zone: \".\" refuse\n",
        );
        let mut zones = std::collections::BTreeSet::new();
        for r in records {
            let owner = r.split_whitespace().next().expect("a record line has an owner");
            if zones.insert(owner.to_owned()) {
                conf.push_str(&format!("    local-zone: \"{owner}\" static\n"));
            }
            conf.push_str(&format!("    local-data: \"{r}\"\n"));
        }
        Unbound::start_with(&conf)
    }

    /// Starts unbound with `config` (unbound.conf text: more `server:` lines, then any clauses) after
    /// the harness's own `server:` lines (listen on a fresh port of 127.0.0.1, IPv4 only, in the
    /// foreground as the current user, log to a file), and waits until it answers.
    pub fn start_with(config: &str) -> Unbound {
        let port = super::free_port();
        let dir = scratch_dir("unbound");
        let mut conf = format!(
            "server:\n\
             \x20   interface: 127.0.0.1@{port}\n\
             \x20   port: {port}\n\
             \x20   do-ip4: yes\n\
             \x20   do-ip6: no\n\
             \x20   do-daemonize: no\n\
             \x20   username: \"\"\n\
             \x20   chroot: \"\"\n\
             \x20   directory: \"{dir}\"\n\
             \x20   pidfile: \"\"\n\
             \x20   logfile: \"\"\n\
             \x20   use-syslog: no\n\
             \x20   verbosity: 1\n\
             \x20   num-threads: 1\n\
             \x20   so-reuseport: no\n\
             \x20   access-control: 127.0.0.0/8 allow\n",
            dir = dir.display()
        );
        conf.push_str(config);
        conf.push_str("\nremote-control:\n    control-enable: no\n");
        let path = dir.join("unbound.conf");
        std::fs::write(&path, conf).expect("write unbound.conf");
        let program = ["unbound", "/usr/sbin/unbound"]
            .into_iter()
            .find(|p| {
                Command::new(p)
                    .arg("-V")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok()
            })
            .unwrap_or_else(|| {
                panic!("`unbound` is not installed: install it (apt-get install -y unbound); .ci/run does")
            });
        let log = std::fs::File::create(dir.join("unbound.log")).expect("create unbound.log");
        let child = Command::new(program)
            .args(["-d", "-c"])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start unbound");
        let mut unbound = Unbound { child, port, dir };
        unbound.wait_ready();
        unbound
    }

    /// `127.0.0.1:port`, as a `resolvers` entry.
    pub fn resolver(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        let query = dns::query(0x0b0b, "ready.invalid", dns::A);
        for _ in 0..(super::START_DEADLINE.as_millis() / 20 + 2) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "unbound exited with {status} before answering; its log:\n{}",
                    self.log()
                );
            }
            if dns::udp(self.port, &query, Duration::from_millis(200)).is_ok() {
                return;
            }
            if start.elapsed() > super::START_DEADLINE {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "unbound did not answer on 127.0.0.1:{} in time; its log:\n{}",
            self.port,
            self.log()
        );
    }

    /// What unbound printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("unbound.log")).unwrap_or_default()
    }
}

impl Drop for Unbound {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!(
                "---- unbound log (port {}) ----\n{}\n---- end of log ----",
                self.port,
                self.log()
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
