//! Chaos: a production week in under a minute, through the real binary. Two fake masters trade
//! leadership (the new leader lists half the agents under `recovered_slaves`, without their tasks, until
//! they re-register), tasks start and stop, SIGHUPs arrive, the first upstream resolver goes dark and
//! comes back, and mesos-dns is SIGKILLed and restarted while every master fails (its records then come
//! from `snapshotFile`). All along a prober asks for a fixed set of living tasks' names, and a second
//! one for distinct outside names that must be relayed.
//!
//! It counts what an agent's resolver would see: answers that were wrong or missing while the task ran,
//! NXDOMAIN for a living task, crashes, the relayed names' latency and the server's peak RSS. The test
//! asserts the first four are zero and prints all of them. `CHAOS_SECONDS` sets its length (45 s by
//! default); `benches/chaos.sh` runs it for ten minutes.

mod common;

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::upstream::{Behaviour, Upstream};
use common::*;
use serde_json::{json, Value};

const AGENTS: usize = 4;
/// The tasks that run all along, each on agent `i % AGENTS`; the prober asks for these.
const LIVING: [&str; 8] = ["web-a", "web-b", "web-c", "web-d", "web-e", "web-f", "web-g", "web-h"];
/// What the test upstreams answer for every outside name.
const RELAYED_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);

fn agent_ip(agent: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 1, 0, agent as u8 + 1)
}

fn agent_id(agent: usize) -> String {
    format!("chaos-agent-S{agent}")
}

fn living_agent(task: usize) -> usize {
    task % AGENTS
}

fn task(name: &str, id: &str, agent: usize) -> Value {
    json!({
        "id": id, "name": name, "framework_id": "chaos-framework", "slave_id": agent_id(agent),
        "state": "TASK_RUNNING", "resources": {"ports": "[31000-31000]"},
        "statuses": [{"state": "TASK_RUNNING", "timestamp": 1.0}],
    })
}

/// The cluster as a leader elected at `elected` reports it: `registered` agents with their tasks, the
/// `recovering` ones under `recovered_slaves` (known from the registry, not re-registered: no tasks).
fn state(registered: &[usize], recovering: &[usize], churn: &[(String, usize)], elected: f64) -> Value {
    let slave = |a: usize| json!({"id": agent_id(a), "pid": format!("slave(1)@{}:5051", agent_ip(a)), "hostname": agent_ip(a).to_string()});
    let mut tasks: Vec<Value> = LIVING
        .iter()
        .enumerate()
        .filter(|(i, _)| registered.contains(&living_agent(*i)))
        .map(|(i, name)| task(name, &format!("{name}.living-{i}"), living_agent(i)))
        .collect();
    tasks.extend(
        churn
            .iter()
            .filter(|(_, a)| registered.contains(a))
            .map(|(name, a)| task(name, &format!("{name}.churn"), *a)),
    );
    json!({
        "version": "1.11.0",
        "elected_time": elected,
        "hostname": "127.0.0.1",
        "slaves": registered.iter().map(|&a| slave(a)).collect::<Vec<_>>(),
        "recovered_slaves": recovering.iter().map(|&a| json!({"id": agent_id(a), "hostname": agent_ip(a).to_string(), "port": 5051})).collect::<Vec<_>>(),
        "frameworks": [{
            "id": "chaos-framework", "name": "marathon", "pid": "scheduler(1)@10.1.0.100:25501",
            "hostname": "10.1.0.100", "tasks": tasks,
        }],
    })
}

/// The two masters; the leader serves the cluster, the other names the leader and has no cluster.
struct Masters {
    masters: [FakeMaster; 2],
    leader: usize,
    elected: f64,
}

impl Masters {
    fn serve(&self, registered: &[usize], recovering: &[usize], churn: &[(String, usize)]) {
        let leader = &self.masters[self.leader];
        let follower = &self.masters[1 - self.leader];
        leader.set_state(state(registered, recovering, churn, self.elected));
        follower.set_state_with_leader(state(&[], &[], &[], self.elected - 1.0), &leader.addr());
    }

    fn fail_over(&mut self) {
        self.leader = 1 - self.leader;
        self.elected += 100.0;
    }

    fn all_fail(&self) {
        self.masters.iter().for_each(|m| m.set_status(503));
    }
}

/// What the probers saw.
#[derive(Default, Debug)]
struct Tally {
    ok: u64,
    wrong: Vec<String>,
    missing: Vec<String>,
    nxdomain: u64,
    /// Probes sent while the process was being killed and restarted (not counted either way).
    restarting: u64,
    relayed_ms: Vec<u64>,
    relayed_failed: u64,
}

/// The server's incarnations: the epoch is odd while it is down (between the SIGKILL and the restarted
/// process answering), so a probe counts only when the epoch was the same even number before and after.
struct Liveness {
    epoch: AtomicU64,
    port: u16,
}

impl Liveness {
    fn probe<T>(&self, ask: impl FnOnce(u16) -> T) -> Option<T> {
        let before = self.epoch.load(Ordering::SeqCst);
        let out = ask(self.port);
        (before % 2 == 0 && self.epoch.load(Ordering::SeqCst) == before).then_some(out)
    }
}

fn ask_living(port: u16, name: &str, id: u16) -> Result<dns::Response, String> {
    let query = dns::query(id, &format!("{name}.marathon.mesos"), dns::A);
    let bytes = dns::udp(port, &query, Duration::from_secs(2)).map_err(|e| format!("no answer: {e}"))?;
    dns::parse(&bytes)
}

fn prober(live: Arc<Liveness>, tally: Arc<Mutex<Tally>>, stop: Arc<AtomicBool>, deadline: Instant) {
    for n in 0..1_000_000u32 {
        if stop.load(Ordering::SeqCst) || Instant::now() > deadline {
            return;
        }
        let i = n as usize % LIVING.len();
        let expected = agent_ip(living_agent(i)).to_string();
        let Some(result) = live.probe(|port| ask_living(port, LIVING[i], n as u16)) else {
            tally.lock().unwrap().restarting += 1;
            thread::sleep(Duration::from_millis(20));
            continue;
        };
        let mut t = tally.lock().unwrap();
        let at = format!("{:?} {}", Instant::now(), LIVING[i]);
        match result {
            Ok(r) if r.rcode == dns::NXDOMAIN => t.nxdomain += 1,
            Ok(r) if r.rcode == dns::NOERROR && r.answer_data(dns::A) == [expected.clone()] => t.ok += 1,
            Ok(r) if r.rcode == dns::NOERROR && !r.answers.is_empty() => {
                t.wrong.push(format!("{at}: {:?}", r.answer_data(dns::A)))
            }
            Ok(r) => t
                .missing
                .push(format!("{at}: rcode {} with {} answers", r.rcode, r.answers.len())),
            Err(e) => t.missing.push(format!("{at}: {e}")),
        }
        drop(t);
        thread::sleep(Duration::from_millis(20));
    }
}

fn relay_prober(live: Arc<Liveness>, tally: Arc<Mutex<Tally>>, stop: Arc<AtomicBool>, deadline: Instant) {
    for n in 0..100_000u32 {
        if stop.load(Ordering::SeqCst) || Instant::now() > deadline {
            return;
        }
        let name = format!("r{n}.chaos.example");
        let started = Instant::now();
        let Some(result) = live.probe(|port| {
            let query = dns::query(n as u16, &name, dns::A);
            dns::udp(port, &query, Duration::from_secs(6))
                .map_err(|e| e.to_string())
                .and_then(|b| dns::parse(&b))
        }) else {
            thread::sleep(Duration::from_millis(50));
            continue;
        };
        let took = started.elapsed().as_millis() as u64;
        let mut t = tally.lock().unwrap();
        match result {
            Ok(r) if r.rcode == dns::NOERROR && r.answer_data(dns::A) == [RELAYED_IP.to_string()] => {
                t.relayed_ms.push(took)
            }
            _ => t.relayed_failed += 1,
        }
        drop(t);
        thread::sleep(Duration::from_millis(50));
    }
}

/// Two fake masters on one port, on 127.0.0.21 and 127.0.0.22: a `leader` field names another host, and
/// the server keeps the port it was given (as the original does).
fn two_masters() -> [FakeMaster; 2] {
    for _ in 0..50 {
        let Ok(b) = FakeMaster::start_on("127.0.0.22", 0) else {
            continue;
        };
        let Some(port) = b.addr().rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()) else {
            continue;
        };
        if let Ok(a) = FakeMaster::start_on("127.0.0.21", port) {
            return [a, b];
        }
    }
    panic!("cannot bind two fake masters on 127.0.0.21 and 127.0.0.22 with one port");
}

fn signal(server: &Server, sig: i32) {
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    let rc = unsafe { libc::kill(server.pid() as i32, sig) };
    assert_eq!(rc, 0, "kill({}, {sig})", server.pid());
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn discovery_rides_out_failover_restarts_and_a_dead_resolver() {
    let seconds: u64 = std::env::var("CHAOS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(45)
        .clamp(20, 3600);
    let all: Vec<usize> = (0..AGENTS).collect();
    let (first_half, second_half) = all.split_at(AGENTS / 2);
    let mut masters = Masters {
        masters: two_masters(),
        leader: 0,
        elected: 1_700_000_000.0,
    };
    let mut churn: Vec<(String, usize)> = Vec::new();
    masters.serve(&all, &[], &churn);

    let answer = Behaviour::Answer(vec![RELAYED_IP]);
    let (first, second) = (Upstream::start(answer.clone()), Upstream::start(answer.clone()));
    let addrs: Vec<String> = masters.masters.iter().map(FakeMaster::addr).collect();
    let cfg = TestConfig::write(
        &addrs,
        json!({
            "resolvers": [first.resolver(), second.resolver()],
            "timeout": 5,
            "snapshotFile": "snapshot",
        }),
    );
    // The snapshot file goes beside the config, in a directory that outlives each incarnation.
    let snapshot = cfg.dir.join("snapshot");
    let mut config: Value = serde_json::from_slice(&std::fs::read(&cfg.path).unwrap()).unwrap();
    config["snapshotFile"] = json!(snapshot.display().to_string());
    std::fs::write(&cfg.path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    let spawn = || Server::spawn(&args, cfg.port, scratch_dir("chaos-run"));

    let mut server = spawn();
    server.wait_loaded();
    wait_until("the first snapshot file", START_DEADLINE, || snapshot.exists());

    let live = Arc::new(Liveness {
        epoch: AtomicU64::new(0),
        port: cfg.port,
    });
    let tally = Arc::new(Mutex::new(Tally::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let hard_end = end + Duration::from_secs(30);
    let probers = [
        {
            let (l, t, s) = (live.clone(), tally.clone(), stop.clone());
            thread::spawn(move || prober(l, t, s, hard_end))
        },
        {
            let (l, t, s) = (live.clone(), tally.clone(), stop.clone());
            thread::spawn(move || relay_prober(l, t, s, hard_end))
        },
    ];

    let pause = |ms: u64| thread::sleep(Duration::from_millis(ms));
    let (mut crashes, mut rounds, mut peak_rss) = (0u32, 0u32, 0u64);
    while Instant::now() + Duration::from_secs(16) < end || rounds == 0 {
        rounds += 1;
        // A leader failover: half the agents have not re-registered with the new leader yet.
        masters.fail_over();
        masters.serve(first_half, second_half, &churn);
        pause(3000);
        masters.serve(&all, &[], &churn);
        pause(1000);
        // Tasks start and stop.
        churn.push((format!("batch-{rounds}"), rounds as usize % AGENTS));
        if churn.len() > 3 {
            churn.remove(0);
        }
        masters.serve(&all, &[], &churn);
        pause(1000);
        signal(&server, libc::SIGHUP);
        pause(1000);
        // The preferred upstream goes dark, then comes back.
        first.set_default(Behaviour::Hang);
        pause(4000);
        first.set_default(answer.clone());
        pause(1000);
        // Every master fails, and mesos-dns is killed and restarted meanwhile.
        masters.all_fail();
        pause(1500);
        if !server.is_running() {
            crashes += 1;
        }
        peak_rss = peak_rss.max(server.peak_rss());
        live.epoch.fetch_add(1, Ordering::SeqCst);
        signal(&server, libc::SIGKILL);
        drop(server);
        server = spawn();
        live.epoch.fetch_add(1, Ordering::SeqCst);
        pause(2000);
        masters.serve(&all, &[], &churn);
        pause(2000);
    }
    stop.store(true, Ordering::SeqCst);
    probers.into_iter().for_each(|p| p.join().expect("prober"));
    if !server.is_running() {
        crashes += 1;
    }
    peak_rss = peak_rss.max(server.peak_rss());

    let t = tally.lock().unwrap();
    let mut relayed = t.relayed_ms.clone();
    relayed.sort_unstable();
    println!(
        "chaos: {} s, {rounds} rounds; living-task probes: {} right, {} wrong, {} missing, {} NXDOMAIN ({} during restarts); \
         crashes {crashes}; relayed: {} answered, {} failed, p50 {} ms, p99 {} ms, worst {} ms; peak RSS {} KiB",
        started.elapsed().as_secs(),
        t.ok,
        t.wrong.len(),
        t.missing.len(),
        t.nxdomain,
        t.restarting,
        relayed.len(),
        t.relayed_failed,
        percentile(&relayed, 0.5),
        percentile(&relayed, 0.99),
        relayed.last().copied().unwrap_or(0),
        peak_rss / 1024,
    );
    assert!(t.ok > 0, "the prober got no right answer at all");
    assert_eq!(crashes, 0, "mesos-dns exited on its own");
    assert!(t.wrong.is_empty(), "wrong answers for living tasks: {:?}", t.wrong);
    assert!(
        t.missing.is_empty(),
        "missing answers for living tasks: {:?}",
        t.missing
    );
    assert_eq!(t.nxdomain, 0, "NXDOMAIN for living tasks");
    assert_eq!(t.relayed_failed, 0, "outside names that got no answer");
    drop(server);
    let _ = std::fs::remove_dir_all(&cfg.dir);
}
