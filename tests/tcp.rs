//! DNS over TCP through the real loop and real sockets (RFC 7766): pipelining, a client that never reads
//! its answers (the socket buffers push back, the memory stays bounded, the idle sweep closes it), the
//! connection cap. While each runs, a prober checks that UDP answers keep flowing from the same
//! single-threaded loop. The connection's decisions on their own (framing, order, the bounds, the idle
//! timeout for slow and silent clients, half-close) are unit tests on a fake clock in src/serve/tcp/.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::*;

/// The server's idle timeout for TCP connections that complete no query (`TcpLimits::default`).
const IDLE: Duration = Duration::from_secs(10);

fn tutorial_server() -> (FakeMaster, Server) {
    let master = FakeMaster::serving(tutorial());
    let server = Server::start(&[master.addr()]);
    server.wait_loaded();
    (master, server)
}

fn connect(port: u16) -> TcpStream {
    let conn = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    conn
}

/// Queries `NGINX` over UDP every 50 ms until stopped (and at least `MIN_PROBES` times, so a test that
/// finishes quickly still proves something). Every query must be answered correctly within
/// `PROBE_TIMEOUT`: a loop held by a TCP client would answer none until that client's connection is
/// closed (the idle sweep, `IDLE`), so the bound is well under it, and well over what a loaded test
/// machine's scheduler may add (answers of 0.75 s were seen with a release build beside the tests).
/// How fast answers are is measured in `benches/`, not here.
const MIN_PROBES: usize = 10;
const PROBE_TIMEOUT: Duration = Duration::from_secs(4);

struct UdpProber {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<usize>,
}

impl UdpProber {
    fn start(port: u16) -> UdpProber {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = thread::spawn(move || {
            let mut n = 0usize;
            // Bounded: at most 60 s of probing even if the test forgets to stop it.
            let end = Instant::now() + Duration::from_secs(60);
            while (!flag.load(Ordering::Relaxed) || n < MIN_PROBES) && Instant::now() < end {
                let q = dns::query(0x4000 + (n as u16 & 0x0fff), NGINX, dns::A);
                let resp = dns::udp(port, &q, PROBE_TIMEOUT).expect("UDP answered while TCP is busy");
                let r = dns::parse(&resp).unwrap();
                assert_eq!(r.answers.len(), 1, "{r:?}");
                n += 1;
                thread::sleep(Duration::from_millis(50));
            }
            n
        });
        UdpProber { stop, handle }
    }

    fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let n = self.handle.join().expect("the UDP prober saw every answer");
        assert!(n >= MIN_PROBES, "only {n} UDP probes ran");
    }
}

/// Waits (bounded) until the server closes `conn`: a read returns EOF or a reset.
fn closed_within(conn: &mut TcpStream, limit: Duration) -> Duration {
    let start = Instant::now();
    conn.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match conn.read(&mut buf) {
            Ok(0) => return start.elapsed(),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
            Err(_) => return start.elapsed(),
        }
    }
    panic!("the server did not close the connection within {limit:?}");
}

#[test]
fn pipelined_queries_are_answered_in_order() {
    let (_master, server) = tutorial_server();
    let mut conn = connect(server.port);
    let names = [NGINX, "leader.mesos", "slave.mesos", "nope.mesos", "ns1.mesos"];
    let mut batch = Vec::new();
    for i in 0..50u16 {
        let q = dns::query(i, names[usize::from(i) % names.len()], dns::A);
        batch.extend_from_slice(&(q.len() as u16).to_be_bytes());
        batch.extend_from_slice(&q);
    }
    conn.write_all(&batch).unwrap();
    for i in 0..50u16 {
        let r = dns::parse(&dns::read_framed(&mut conn).unwrap()).unwrap();
        assert_eq!(r.id, i, "answers come in query order");
        let want = if names[usize::from(i) % names.len()] == "nope.mesos" {
            dns::NXDOMAIN
        } else {
            dns::NOERROR
        };
        assert_eq!(r.rcode, want);
    }
}

#[test]
fn client_that_never_reads_is_bounded_and_closed() {
    let (_master, server) = tutorial_server();
    let prober = UdpProber::start(server.port);
    let mut conn = connect(server.port);
    conn.set_write_timeout(Some(Duration::from_millis(500))).unwrap();
    // SRV answers with additional records, pipelined without ever reading: the server must stop taking
    // queries once its bounded output buffer is full, so our writes eventually block.
    let q = dns::query(9, "_nginx._tcp.marathon-0.7.6.mesos", dns::SRV);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    let chunk: Vec<u8> = framed.iter().copied().cycle().take(framed.len() * 1000).collect();
    let start = Instant::now();
    let mut written = 0usize;
    let mut blocked = false;
    while start.elapsed() < Duration::from_secs(10) && written < 200 << 20 {
        match conn.write(&chunk) {
            Ok(n) => written += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                blocked = true;
                break;
            }
            Err(_) => break,
        }
    }
    assert!(
        blocked,
        "wrote {written} bytes of queries without the server pushing back"
    );
    let rss = rss_kib(server.pid());
    assert!(rss < 200 * 1024, "server RSS {rss} KiB while a client does not read");
    closed_within(&mut conn, IDLE + Duration::from_secs(5));
    prober.finish();
}

#[test]
fn connections_past_the_cap_are_closed_at_once() {
    let (_master, server) = tutorial_server();
    let prober = UdpProber::start(server.port);
    // The cap is 512 (TcpLimits::default); open 520 idle connections.
    let mut conns: Vec<TcpStream> = (0..520).map(|_| connect(server.port)).collect();
    // The first ones are served...
    let q = dns::query(1, NGINX, dns::A);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    conns[0].write_all(&framed).unwrap();
    assert_eq!(dns::parse(&dns::read_framed(&mut conns[0]).unwrap()).unwrap().id, 1);
    // ...and the last ones were closed as soon as they were accepted.
    for conn in &mut conns[512..] {
        assert!(
            closed_within(conn, Duration::from_secs(5)) < Duration::from_secs(2),
            "over the cap: closed at once"
        );
    }
    // Counted and logged, once for the burst (at most once a minute).
    wait_until("the refusals in the log", Duration::from_secs(5), || {
        server.log_text().contains("DNS TCP connections refused")
    });
    let log = server.log_text();
    assert_eq!(log.matches("DNS TCP connections refused").count(), 1, "{log}");
    drop(conns);
    prober.finish();
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}
