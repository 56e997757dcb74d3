//! The server under test: config files in scratch directories, a guard that runs the real `mesos-dns`
//! binary (its log collected, killed on drop), and ports that no two tests in a process share.

use super::*;

pub static TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A loopback port that is free for both UDP and TCP right now.
pub fn free_port() -> u16 {
    for _ in 0..200 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("udp address").port();
        if TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        let mut taken = TAKEN.lock().unwrap();
        if taken.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
    panic!("no free loopback port for UDP and TCP");
}

/// A loopback UDP port with nothing behind it: the only resolver a test server may know.
pub fn dead_resolver() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// A unique scratch directory under the system temp dir, removed by its owner.
pub fn scratch_dir(tag: &str) -> PathBuf {
    static SEQ: AtomicU16 = AtomicU16::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "mesos-dns-e2e-{tag}-{}-{}-{nanos}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// The test config: loopback everything, a fresh port, refresh every second, no HTTP API.
pub fn test_config(masters: &[String], port: u16) -> Value {
    json!({
        "masters": masters,
        "listener": "127.0.0.1",
        "port": port,
        "httpon": false,
        "refreshSeconds": 1,
        "stateTimeoutSeconds": 5,
        "timeout": 1,
        "resolvers": [dead_resolver()],
        "domain": "mesos",
        "ttl": 60,
    })
}

/// A config file written to a scratch directory.
pub struct TestConfig {
    pub port: u16,
    pub dir: PathBuf,
    pub path: PathBuf,
}

impl TestConfig {
    /// Writes [`test_config`] with `extra` keys merged in (a `null` value removes a key).
    pub fn write(masters: &[String], extra: Value) -> TestConfig {
        let port = free_port();
        let mut config = test_config(masters, port);
        if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                if v.is_null() {
                    c.remove(k);
                } else {
                    c.insert(k.clone(), v.clone());
                }
            }
        }
        let dir = scratch_dir("server");
        let path = dir.join("config.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&config).expect("config JSON")).expect("write config");
        TestConfig { port, dir, path }
    }

    /// Writes `zone` beside the config (removed with it) as its `staticRecordsFile`, then starts the
    /// binary on the config with `-v` and waits for its first records.
    pub fn spawn_with_static_records(&self, zone: &str) -> Server {
        let path = self.dir.join("static.zone");
        std::fs::write(&path, zone).expect("write zone");
        let mut config: Value = serde_json::from_slice(&std::fs::read(&self.path).expect("config")).expect("json");
        config["staticRecordsFile"] = json!(path.display().to_string());
        std::fs::write(&self.path, serde_json::to_vec(&config).expect("json")).expect("write config");
        let args = ["-v".to_owned(), format!("-config={}", self.path.display())];
        let server = Server::spawn(&args, self.port, self.dir.clone());
        server.wait_loaded();
        server
    }
}

/// The real `mesos-dns` binary with a config in a scratch directory; killed on drop (its log is printed
/// when the test failed).
pub struct Server {
    child: Child,
    pub port: u16,
    dir: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
}

/// Which DNS transport to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Server {
    /// Starts the server with the seed's command line (`-v -config=PATH`) against these masters, and
    /// waits until it answers DNS (not until it has records: see [`Server::wait_loaded`]).
    pub fn start(masters: &[String]) -> Server {
        Server::start_with(masters, json!({}))
    }

    /// Like [`Server::start`], with `extra` keys merged into the test config.
    pub fn start_with(masters: &[String], extra: Value) -> Server {
        let cfg = TestConfig::write(masters, extra);
        let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
        Server::spawn(&args, cfg.port, cfg.dir)
    }

    /// Like [`Server::start_with`], with these environment variables set for the server.
    pub fn start_with_env(masters: &[String], extra: Value, env: &[(&str, &str)]) -> Server {
        let cfg = TestConfig::write(masters, extra);
        let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
        Server::spawn_with_env(&args, cfg.port, cfg.dir, env)
    }

    /// Runs the binary with these arguments (the config must listen on 127.0.0.1:`port`).
    pub fn spawn(args: &[String], port: u16, dir: PathBuf) -> Server {
        Server::spawn_with_env(args, port, dir, &[])
    }

    /// [`Server::spawn`] with extra environment variables. Every test server follows a `leader` field
    /// only to loopback addresses (`MESOS_DNS_FOLLOW_LOOPBACK_ONLY`), so no state document can make
    /// it send traffic off the machine.
    pub fn spawn_with_env(args: &[String], port: u16, dir: PathBuf, env: &[(&str, &str)]) -> Server {
        Server::spawn_program(BIN, args, port, dir, env)
    }

    /// [`Server::spawn_with_env`] through another program that runs the server (`sh -c` with a
    /// command line as the README writes it, which must `exec` the server so that drop stops it).
    pub fn spawn_program(program: &str, args: &[String], port: u16, dir: PathBuf, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(program)
            .args(args)
            .env_remove("RUST_LOG")
            .env("MESOS_DNS_FOLLOW_LOOPBACK_ONLY", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mesos-dns");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(collect_lines(out, log.clone()));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(collect_lines(err, log.clone()));
        }
        let mut server = Server {
            child,
            port,
            dir,
            log,
            readers,
        };
        server.wait_ready();
        server
    }

    /// Waits until the server answers a DNS query at all (SERVFAIL counts).
    fn wait_ready(&mut self) {
        let start = Instant::now();
        let query = dns::query(0x5eed, "leader.mesos", dns::A);
        // Bounded by the deadline; the count is a backstop (each round takes at least 20 ms).
        for _ in 0..(START_DEADLINE.as_millis() / 20 + 2) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "mesos-dns exited with {status} before answering; its log:\n{}",
                    self.log_text()
                );
            }
            if dns::udp(self.port, &query, Duration::from_millis(200)).is_ok() {
                return;
            }
            if start.elapsed() > START_DEADLINE {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "mesos-dns did not answer on 127.0.0.1:{} within {START_DEADLINE:?}; its log:\n{}",
            self.port,
            self.log_text()
        );
    }

    /// Waits until the first snapshot is loaded (`leader.mesos` has an A record).
    pub fn wait_loaded(&self) {
        wait_until("the first records snapshot (leader.mesos A)", START_DEADLINE, || {
            self.try_ask("leader.mesos", dns::A, Transport::Udp)
                .is_some_and(|r| r.rcode == dns::NOERROR && !r.answers.is_empty())
        });
    }

    /// Asks one question; `None` when no valid answer came back.
    pub fn try_ask(&self, name: &str, qtype: u16, transport: Transport) -> Option<dns::Response> {
        let id = next_id();
        let query = dns::query(id, name, qtype);
        let bytes = match transport {
            Transport::Udp => dns::udp(self.port, &query, Duration::from_secs(3)),
            Transport::Tcp => dns::tcp(self.port, &query, Duration::from_secs(3)),
        }
        .ok()?;
        let resp = dns::parse(&bytes).ok()?;
        (resp.id == id).then_some(resp)
    }

    /// Asks one question and decodes the answer; panics (with the server log) if none comes.
    pub fn ask(&self, name: &str, qtype: u16, transport: Transport) -> dns::Response {
        let id = next_id();
        let query = dns::query(id, name, qtype);
        let bytes = match transport {
            Transport::Udp => dns::udp(self.port, &query, Duration::from_secs(3)),
            Transport::Tcp => dns::tcp(self.port, &query, Duration::from_secs(3)),
        }
        .unwrap_or_else(|e| {
            panic!(
                "no {transport:?} answer for {name}: {e}; server log:\n{}",
                self.log_text()
            )
        });
        let resp = dns::parse(&bytes).unwrap_or_else(|e| panic!("undecodable answer for {name}: {e}: {bytes:02x?}"));
        assert_eq!(resp.id, id, "answer ID must match the query");
        assert!(resp.qr(), "answer must have QR set");
        resp
    }

    /// The A addresses the server gives for `name` (empty when none).
    pub fn a_records(&self, name: &str) -> Vec<Ipv4Addr> {
        let mut ips: Vec<Ipv4Addr> = self
            .try_ask(name, dns::A, Transport::Udp)
            .map(|r| r.answers.iter().filter_map(|rr| rr.data.parse().ok()).collect())
            .unwrap_or_default();
        ips.sort();
        ips
    }

    /// Everything the server printed so far.
    pub fn log_text(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// How many lines the server printed so far (a mark for [`Server::log_since`]).
    pub fn log_len(&self) -> usize {
        self.log.lock().map(|l| l.len()).unwrap_or_default()
    }

    /// The lines printed after the first `mark` lines.
    pub fn log_since(&self, mark: usize) -> Vec<String> {
        self.log
            .lock()
            .map(|l| l.get(mark..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }

    /// The peak resident set size of the server so far, in bytes (`VmHWM` in /proc/PID/status).
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    /// The process ID of the server (for looking at its resources under /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        if thread::panicking() {
            eprintln!(
                "---- mesos-dns log (port {}) ----\n{}\n---- end of log ----",
                self.port,
                self.log_text()
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn collect_lines(stream: impl Read + Send + 'static, log: Arc<Mutex<Vec<String>>>) -> JoinHandle<()> {
    thread::spawn(move || {
        // Ends at EOF, i.e. when the child exits; each line is bounded by the server's own output.
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut l) = log.lock() {
                l.push(line);
            }
        }
    })
}

fn next_id() -> u16 {
    static ID: AtomicU16 = AtomicU16::new(1);
    ID.fetch_add(1, Ordering::SeqCst)
}

/// Runs the binary to completion with these arguments (for flags that exit at once); kills it if it
/// runs longer than 20 s.
pub fn run_to_exit(args: &[&str]) -> (ExitStatus, String, String) {
    run_to_exit_with_env(args, &[])
}

/// [`run_to_exit`] with extra environment variables.
pub fn run_to_exit_with_env(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("RUST_LOG").envs(env.iter().copied());
    run_command_to_exit(cmd, args)
}

/// Runs `cmd` (the binary, set up by the caller: `args` are for messages) to completion, its output
/// collected; kills it if it runs longer than 20 s.
pub fn run_command_to_exit(mut cmd: Command, args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mesos-dns");
    let start = Instant::now();
    for _ in 0..2000 {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect output");
            panic!(
                "mesos-dns {args:?} did not exit within 20 s; stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
    let Output { status, stdout, stderr } = child.wait_with_output().expect("collect output");
    (
        status,
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// GET `path` from the HTTP API on 127.0.0.1:`port`: its status and body, whatever the status (panics
/// only when no answer comes within 5 s).
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build(),
    );
    let mut resp = agent
        .get(format!("http://127.0.0.1:{port}{path}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    (resp.status().as_u16(), body)
}

/// The body of the answer to GET `path`, which must be 200.
pub fn http_get_ok(port: u16, path: &str) -> String {
    let (status, body) = http_get(port, path);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The JSON of the answer to GET `path`, which must be 200.
pub fn get_json_ok(port: u16, path: &str) -> Value {
    let body = http_get_ok(port, path);
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}
