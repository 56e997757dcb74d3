//! The Debian package (`contrib/debian`, built by `contrib/debian/build-deb.sh`). Always: the committed
//! unit and config are what the issue asks (a loopback-only config that the binary accepts, the unit's
//! `DynamicUser`, `StateDirectory`, capability, `ExecStartPre=` check and `ExecReload=` SIGHUP), and the
//! unit's own command lines, run with the binary under test, serve against a fake master and reload.
//! Once `.ci/run` has installed the package (`dpkg -i`): the installed binary, config and unit, run as
//! they are; that test is `#[ignore]`d otherwise, so a plain `cargo test` reports it as ignored rather
//! than passing it, and `.ci/run` runs it with `--ignored`, where a missing package fails it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const NGINX: &str = "nginx.marathon-0.7.6.mesos";

/// Where the package puts its files.
const INSTALLED_BIN: &str = "/usr/bin/mesos-dns";
const INSTALLED_CONFIG: &str = "/etc/mesos-dns/config.json";
const INSTALLED_UNITS: [&str; 2] = [
    "/lib/systemd/system/mesos-dns.service",
    "/usr/lib/systemd/system/mesos-dns.service",
];

fn committed(file: &str) -> PathBuf {
    Path::new(REPO).join("contrib/debian").join(file)
}

/// Every value of `key=` in the unit's lines, in order.
fn unit_values(unit: &str, key: &str) -> Vec<String> {
    let prefix = format!("{key}=");
    unit.lines()
        .filter_map(|l| l.trim().strip_prefix(prefix.as_str()))
        .map(str::to_string)
        .collect()
}

fn unit_value(unit: &str, key: &str) -> String {
    let values = unit_values(unit, key);
    assert_eq!(values.len(), 1, "one {key}= in the unit: {values:?}");
    values.into_iter().next().unwrap_or_default()
}

/// Runs a unit's command line (as systemd would, without its shell: `sh -c` is close enough for
/// these lines, which quote nothing) to its exit.
fn run_line(line: &str, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = Command::new("sh")
        .args(["-c", line])
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run sh");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_packaged_config_is_safe_on_any_host_and_the_binary_accepts_it() {
    let text = std::fs::read_to_string(committed("config.json")).expect("contrib/debian/config.json");
    let config: Value = serde_json::from_str(&text).expect("the packaged config is JSON");
    // Loopback only until edited: DNS, the HTTP API, and the clients whose outside names are relayed.
    assert_eq!(config["listener"], "127.0.0.1");
    assert_eq!(config["httpListener"], "127.0.0.1");
    assert_eq!(config["relayAllowFrom"], serde_json::json!(["127.0.0.0/8", "::1/128"]));
    // Upstream resolvers: the host's /etc/resolv.conf (empty list), never the original's 8.8.8.8.
    assert_eq!(config["resolvers"], serde_json::json!([]));
    assert!(!text.contains("8.8.8.8"));
    // The warm-start file lives in the unit's StateDirectory.
    let unit = std::fs::read_to_string(committed("mesos-dns.service")).expect("the unit");
    let state = unit_value(&unit, "StateDirectory");
    assert_eq!(config["snapshotFile"], format!("/var/lib/{state}/snapshot"));
    let (code, stdout, stderr) = run_line(
        &format!("{BIN} -check-config -config={}", committed("config.json").display()),
        &[],
    );
    assert_eq!((code, stdout.as_str()), (Some(0), "config OK\n"), "{stderr}");
}

#[test]
fn the_unit_runs_as_a_dynamic_user_checks_the_config_first_and_reloads_with_sighup() {
    let unit = std::fs::read_to_string(committed("mesos-dns.service")).expect("the unit");
    assert_eq!(unit_value(&unit, "DynamicUser"), "yes");
    assert_eq!(unit_value(&unit, "StateDirectory"), "mesos-dns");
    assert_eq!(unit_value(&unit, "AmbientCapabilities"), "CAP_NET_BIND_SERVICE");
    let start = unit_value(&unit, "ExecStart");
    let config_flag = "-config=/etc/mesos-dns/config.json";
    assert!(
        start.starts_with("/usr/bin/mesos-dns ") && start.ends_with(config_flag),
        "{start}"
    );
    assert_eq!(
        unit_value(&unit, "ExecStartPre"),
        format!("/usr/bin/mesos-dns -check-config {config_flag}")
    );
    // A reload checks first (a bad edit fails `systemctl reload`), then sends SIGHUP.
    assert_eq!(
        unit_values(&unit, "ExecReload"),
        [
            format!("/usr/bin/mesos-dns -check-config {config_flag}"),
            "/bin/kill -HUP $MAINPID".to_string()
        ]
    );
}

#[test]
fn the_unit_lines_with_the_committed_config_serve_and_reload() {
    let unit = std::fs::read_to_string(committed("mesos-dns.service")).expect("the unit");
    let config = committed("config.json").display().to_string();
    let local = |line: String| {
        line.replace("/usr/bin/mesos-dns", BIN)
            .replace("/etc/mesos-dns/config.json", &config)
    };
    serve_with_unit(&unit, local);
}

/// Runs the unit's `ExecStartPre=`, `ExecStart=` and `ExecReload=` lines (through `local`, which may
/// point them at other files) against a fake master. The config's masters, ports, resolvers and
/// snapshot file are replaced through the environment (as `/etc/default/mesos-dns` would), so that
/// everything stays on this test's loopback ports; the rest is the packaged config's.
fn serve_with_unit(unit: &str, local: impl Fn(String) -> String) {
    let master = FakeMaster::serving(tutorial());
    let dir = scratch_dir("package");
    let (masters, port, http_port, dead) = (
        master.addr(),
        free_port().to_string(),
        free_port().to_string(),
        dead_resolver(),
    );
    let snapshot = dir.join("snapshot").display().to_string();
    let env = [
        ("MESOS_DNS_MASTERS", masters.as_str()),
        ("MESOS_DNS_PORT", port.as_str()),
        ("MESOS_DNS_HTTPPORT", http_port.as_str()),
        ("MESOS_DNS_RESOLVERS", dead.as_str()),
        ("MESOS_DNS_SNAPSHOTFILE", snapshot.as_str()),
    ];
    let (code, stdout, stderr) = run_line(&local(unit_value(unit, "ExecStartPre")), &env);
    assert_eq!(
        (code, stdout.as_str()),
        (Some(0), "config OK\n"),
        "ExecStartPre: {stderr}"
    );
    let start = local(unit_value(unit, "ExecStart"));
    let server = Server::spawn_program(
        "sh",
        &["-c".to_string(), format!("exec {start}")],
        port.parse().expect("port"),
        dir.clone(),
        &env,
    );
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), [std::net::Ipv4Addr::new(10, 114, 227, 92)]);
    // The HTTP API on the packaged config's loopback listener.
    let metrics = http_get_ok(http_port.parse().expect("port"), "/metrics");
    assert!(metrics.contains("mesos_dns_"), "{metrics}");
    // The warm-start file is written where the config (here, the environment) says.
    wait_until("the snapshot file written", CHANGE_DEADLINE, || {
        Path::new(&snapshot).exists()
    });
    let mark = server.log_len();
    let pid = server.pid().to_string();
    for line in unit_values(unit, "ExecReload") {
        let (code, _, stderr) = run_line(&local(line), &[env.as_slice(), &[("MAINPID", &pid)]].concat());
        assert_eq!(code, Some(0), "ExecReload: {stderr}");
    }
    wait_until("the SIGHUP reload logged", CHANGE_DEADLINE, || {
        server.log_since(mark).iter().any(|l| l.contains("SIGHUP: reloaded"))
    });
    assert_eq!(server.a_records(NGINX), [std::net::Ipv4Addr::new(10, 114, 227, 92)]);
}

#[test]
#[ignore = "runs the installed Debian package: .ci/run installs it (dpkg -i) and runs this with --ignored"]
fn the_installed_package_serves_with_its_own_binary_config_and_unit() {
    let status = Command::new("dpkg-query")
        .args(["-W", "-f=${Status} ${Version}\\n${Conffiles}", "mesos-dns"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        status.starts_with("install ok installed"),
        "the mesos-dns package is not installed (dpkg-query: {status:?}): build it with \
         contrib/debian/build-deb.sh and dpkg -i it first"
    );
    assert!(
        status.contains(&format!(" {INSTALLED_CONFIG} ")),
        "a conffile: {status}"
    );
    let version = status
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(3))
        .unwrap_or_default();
    let unit_path = INSTALLED_UNITS
        .iter()
        .find(|p| Path::new(p).exists())
        .expect("the installed unit");
    let unit = std::fs::read_to_string(unit_path).expect("read the installed unit");
    let (code, stdout, _) = run_line(&format!("{INSTALLED_BIN} -version"), &[]);
    assert_eq!(
        (code, stdout.trim()),
        (Some(0), format!("mesos-dns {version}").as_str())
    );
    let (code, man, _) = run_line("man -w mesos-dns", &[]);
    assert_eq!(code, Some(0), "the man page is installed");
    assert!(man.contains("man8/mesos-dns.8"), "{man}");
    // The packaged config as it is: the check passes with nothing over it.
    let (code, stdout, stderr) = run_line(&unit_value(&unit, "ExecStartPre"), &[]);
    assert_eq!((code, stdout.as_str()), (Some(0), "config OK\n"), "{stderr}");
    serve_with_unit(&unit, |line| line);
}
