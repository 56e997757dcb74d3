//! End-to-end: `-check-config` on the real binary. A good config (file, environment, or both) prints
//! `config OK` and exits 0; a bad one (a value, a missing or malformed file, a static records file, the
//! certificate and IAM files it names) exits 2 with the message a start gives, naming the key. It binds
//! nothing and contacts nothing: it passes while this test holds the DNS and HTTP ports, and the
//! master's (or ZooKeeper's) listening socket never sees a connection.

mod common;

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::{json, Value};

/// What a run of `mesos-dns` printed and how it ended.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn assert_ok(&self) {
        assert_eq!(self.code, Some(0), "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        assert_eq!(self.stdout, "config OK\n", "stderr: {}", self.stderr);
    }

    /// Exit status 2, no `config OK`, and `message` on stderr.
    fn assert_refused(&self, message: &str) {
        assert_eq!(self.code, Some(2), "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        assert!(!self.stdout.contains("config OK"), "{}", self.stdout);
        assert!(
            self.stderr.contains(message),
            "expected {message:?} in: {}",
            self.stderr
        );
    }
}

/// Runs the binary with `args` in `dir` (so that no `config.json` of the checkout is found) with only
/// `env`'s `MESOS_DNS_*` variables, bounded in time.
fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).env_remove("RUST_LOG");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MESOS_DNS_") {
            cmd.env_remove(name);
        }
    }
    cmd.envs(env.iter().copied());
    let (status, stdout, stderr) = run_command_to_exit(cmd, args);
    Outcome {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// A loopback TCP listener standing in for a master (or ZooKeeper): whatever connects to it is seen.
struct Watched(TcpListener);

impl Watched {
    fn new() -> Watched {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback listener");
        listener.set_nonblocking(true).expect("non-blocking");
        Watched(listener)
    }

    fn addr(&self) -> String {
        self.0.local_addr().expect("listener address").to_string()
    }

    fn assert_never_contacted(&self) {
        match self.0.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("-check-config connected to {}: {other:?}", self.addr()),
        }
    }
}

/// A scratch directory with `config.json` holding the test config (loopback, `port`) and `extra`.
fn config_dir(masters: &[String], extra: Value) -> (PathBuf, PathBuf) {
    let cfg = TestConfig::write(masters, extra);
    (cfg.dir, cfg.path)
}

fn config_arg(path: &Path) -> String {
    format!("-config={}", path.display())
}

#[test]
fn a_good_config_is_ok_while_its_ports_are_held_and_the_master_is_not_contacted() {
    let master = Watched::new();
    let port = free_port();
    let http_port = free_port();
    // The config's DNS (UDP and TCP) and HTTP ports, held by this test for the whole check.
    let _udp = UdpSocket::bind(("127.0.0.1", port)).expect("hold the DNS UDP port");
    let _tcp = TcpListener::bind(("127.0.0.1", port)).expect("hold the DNS TCP port");
    let _http = TcpListener::bind(("127.0.0.1", http_port)).expect("hold the HTTP port");
    let (dir, path) = config_dir(
        &[master.addr()],
        json!({"port": port, "httpon": true, "httpListener": "127.0.0.1", "httpport": http_port}),
    );
    for flag in ["-check-config", "--check-config", "-check-config=true"] {
        let out = run_in(&dir, &[flag, &config_arg(&path)], &[]);
        out.assert_ok();
        assert!(
            out.stderr.contains(&format!("checked {}", path.display())),
            "{}",
            out.stderr
        );
    }
    // The Go spelling with the path as the next argument, and the glog flags a unit passes.
    let path_text = path.display().to_string();
    run_in(
        &dir,
        &["-v=1", "-logtostderr=true", "-config", &path_text, "-check-config"],
        &[],
    )
    .assert_ok();
    master.assert_never_contacted();
    // The same config without -check-config is refused the held port: the check bound nothing.
    let (status, _, stderr) = run_to_exit(&[&config_arg(&path)]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot listen"), "{stderr}");
    master.assert_never_contacted();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_bad_value_is_refused_naming_the_key_as_a_start_refuses_it() {
    let (dir, path) = config_dir(&["127.0.0.1:5050".into()], json!({"ttl": "soon"}));
    let message = "config key `ttl`: expected a non-negative integer, got \"soon\"";
    run_in(&dir, &["-check-config", &config_arg(&path)], &[]).assert_refused(message);
    // A start says the same, with the same status.
    let (status, _, stderr) = run_to_exit(&[&config_arg(&path)]);
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains(message), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_rules_across_keys_are_checked() {
    let (dir, path) = config_dir(&[], json!({"masters": null}));
    run_in(&dir, &["-check-config", &config_arg(&path)], &[]).assert_refused("config key `masters`: no Mesos master");
    let (dir2, path2) = config_dir(&["127.0.0.1:5050".into()], json!({"dnson": false, "httpon": false}));
    run_in(&dir2, &["-check-config", &config_arg(&path2)], &[]).assert_refused("config key `dnson`");
    for d in [dir, dir2] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_missing_or_malformed_config_file_is_refused() {
    let dir = scratch_dir("check-missing");
    let missing = dir.join("nowhere.json");
    run_in(&dir, &["-check-config", &config_arg(&missing)], &[])
        .assert_refused(&format!("cannot read config file {}", missing.display()));
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"masters\": [\"127.0.0.1:5050\"],").unwrap();
    run_in(&dir, &["-check-config", &config_arg(&broken)], &[]).assert_refused("config file is not valid JSON");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_static_records_file_is_read_and_parsed() {
    let dir = scratch_dir("check-static");
    let zone = dir.join("static.zone");
    let (cdir, path) = config_dir(
        &["127.0.0.1:5050".into()],
        json!({"staticRecordsFile": zone.display().to_string()}),
    );
    run_in(&cdir, &["-check-config", &config_arg(&path)], &[])
        .assert_refused(&format!("staticRecordsFile: cannot read {}", zone.display()));
    std::fs::write(&zone, "gateway 60 IN A 10.0.0.1\n").unwrap();
    run_in(&cdir, &["-check-config", &config_arg(&path)], &[]).assert_ok();
    std::fs::write(&zone, "gateway 60 IN A not-an-address\n").unwrap();
    run_in(&cdir, &["-check-config", &config_arg(&path)], &[])
        .assert_refused(&format!("staticRecordsFile: {}", zone.display()));
    for d in [dir, cdir] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn the_certificate_and_iam_files_it_names_are_read() {
    let dir = scratch_dir("check-tls");
    let nowhere = dir.join("nowhere.pem").display().to_string();
    for (extra, message) in [
        (
            json!({"mesosHTTPSOn": true, "caCertFile": nowhere}),
            "config key `caCertFile`: cannot read",
        ),
        (
            json!({"mesosHTTPSOn": true, "certFile": nowhere}),
            "config key `keyFile`: `certFile` is set",
        ),
        (
            json!({"mesosAuthentication": "iam", "IAMConfigFile": nowhere}),
            "IAMConfigFile",
        ),
        (json!({"mesosAuthentication": "basic"}), "config key `mesosCredentials`"),
    ] {
        let (cdir, path) = config_dir(&["127.0.0.1:5050".into()], extra);
        run_in(&cdir, &["-check-config", &config_arg(&path)], &[]).assert_refused(message);
        let _ = std::fs::remove_dir_all(cdir);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_environment_config_is_checked_as_a_start_reads_it() {
    let master = Watched::new();
    let dir = scratch_dir("check-env");
    let resolver = dead_resolver();
    let base = [
        ("MESOS_DNS_MASTERS", master.addr()),
        ("MESOS_DNS_LISTENER", "127.0.0.1".to_string()),
        ("MESOS_DNS_RESOLVERS", resolver),
        ("MESOS_DNS_HTTPON", "false".to_string()),
    ];
    let env: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // No file, no config.json in the working directory: the variables alone.
    let out = run_in(&dir, &["-check-config"], &env);
    out.assert_ok();
    assert!(
        out.stderr.contains("checked the defaults with MESOS_DNS_MASTERS"),
        "{}",
        out.stderr
    );
    // A bad value names the variable and the key.
    let mut bad = env.clone();
    bad.push(("MESOS_DNS_TTL", "soon"));
    run_in(&dir, &["-check-config"], &bad)
        .assert_refused("environment variable MESOS_DNS_TTL (config key `ttl`): expected a non-negative integer");
    // A misspelt variable is a warning, as at start.
    let mut misspelt = env.clone();
    misspelt.push(("MESOS_DNS_REFRESH_SECONDS", "5"));
    let out = run_in(&dir, &["-check-config"], &misspelt);
    out.assert_ok();
    assert!(
        out.stderr.contains("did you mean MESOS_DNS_REFRESHSECONDS?"),
        "{}",
        out.stderr
    );
    // Over a file, the variable wins: the file's bad ttl is replaced by a good one.
    let (cdir, path) = config_dir(&[master.addr()], json!({"ttl": "soon"}));
    run_in(&dir, &["-check-config", &config_arg(&path)], &[]).assert_refused("config key `ttl`");
    let mut over = env.clone();
    over.push(("MESOS_DNS_TTL", "30"));
    run_in(&dir, &["-check-config", &config_arg(&path)], &over).assert_ok();
    master.assert_never_contacted();
    for d in [dir, cdir] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_zookeeper_config_is_checked_without_contacting_zookeeper() {
    let zk = Watched::new();
    let (dir, path) = config_dir(&[], json!({"masters": null, "zk": format!("zk://{}/mesos", zk.addr())}));
    run_in(&dir, &["-check-config", &config_arg(&path)], &[]).assert_ok();
    let (bad_dir, bad) = config_dir(&[], json!({"masters": null, "zk": "http://nowhere/mesos"}));
    run_in(&bad_dir, &["-check-config", &config_arg(&bad)], &[]).assert_refused("config key `zk`");
    zk.assert_never_contacted();
    for d in [dir, bad_dir] {
        let _ = std::fs::remove_dir_all(d);
    }
}
