//! End-to-end: the command lines real deployments use (DC/OS's unit, Docker images, glog's flags, `~/`
//! in `-config`), the config values the original accepts (`dnson: false` with the HTTP API, `ttl: 0`,
//! `timeout: 0`) and UDP answers too big for the client (the records that fit, with TC). The real binary
//! on loopback against a fake master, asked by our own client and by `dig`.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::upstream::{Behaviour, Upstream};
use common::*;
use serde_json::{json, Value};

const NGINX: &str = "nginx.marathon-0.7.6.mesos";

/// A fake master on the tutorial state, and a config for it with `extra` keys.
fn tutorial_config(extra: Value) -> (FakeMaster, TestConfig) {
    let master = FakeMaster::serving(tutorial());
    let cfg = TestConfig::write(&[master.addr()], extra);
    (master, cfg)
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// The server answers the tutorial's nginx with its agent's address.
fn assert_answers_nginx(server: &Server) {
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), [Ipv4Addr::new(10, 114, 227, 92)]);
}

#[test]
fn the_dcos_unit_command_line_starts_and_answers() {
    // dcos-mesos-dns.service: mesos-dns --config=${MESOS_DNS_CONFIG} -logtostderr=true
    let (_master, cfg) = tutorial_config(json!({}));
    let args = [format!("--config={}", cfg.path.display()), "-logtostderr=true".into()];
    let server = Server::spawn(&args, cfg.port, cfg.dir);
    assert_answers_nginx(&server);
    let d = dig(server.port, NGINX, "A", Transport::Udp);
    assert_eq!(d.answer_data("A"), ["10.114.227.92"]);
}

#[test]
fn the_docker_image_command_lines_start_and_answer() {
    for forms in [
        &["-v=2", "-logtostderr=true"][..],
        &["-v", "2", "-logtostderr"],
        &["--v=1", "--alsologtostderr=true", "-stderrthreshold=INFO"],
    ] {
        let (_master, cfg) = tutorial_config(json!({}));
        let mut args = strings(forms);
        args.extend(["-config".to_string(), cfg.path.display().to_string()]);
        let server = Server::spawn(&args, cfg.port, cfg.dir);
        assert_answers_nginx(&server);
        if forms[0] == "-v=2" {
            // -v=2 logs every generated record, as the original's very verbose mode.
            wait_until("a generated record in the -v=2 log", CHANGE_DEADLINE, || {
                server.log_text().contains(NGINX)
            });
        }
    }
}

#[test]
fn every_glog_flag_is_accepted_and_the_meaningless_ones_said_to_do_nothing() {
    let (_master, cfg) = tutorial_config(json!({}));
    let args = strings(&[
        "-v=1",
        "-logtostderr=false",
        "-alsologtostderr",
        "-stderrthreshold",
        "WARNING",
        "-vmodule=refresh=2",
        "-log_backtrace_at",
        "main.go:10",
    ]);
    let mut args = args;
    args.push(format!("-config={}", cfg.path.display()));
    let server = Server::spawn(&args, cfg.port, cfg.dir);
    assert_answers_nginx(&server);
    let log = server.log_text();
    assert!(
        log.contains("-vmodule=refresh=2: glog flag accepted for compatibility"),
        "{log}"
    );
    assert!(
        log.contains("-log_backtrace_at=main.go:10: glog flag accepted"),
        "{log}"
    );
}

#[test]
fn log_dir_gets_the_log_as_well_as_stderr() {
    let (_master, cfg) = tutorial_config(json!({}));
    let log_dir = cfg.dir.join("logs");
    let args = [
        "-v=1".to_string(),
        format!("-log_dir={}", log_dir.display()),
        format!("-config={}", cfg.path.display()),
    ];
    let server = Server::spawn(&args, cfg.port, cfg.dir.clone());
    assert_answers_nginx(&server);
    let file = log_dir.join("mesos-dns.log");
    wait_until("the refresh logged in -log_dir", CHANGE_DEADLINE, || {
        std::fs::read_to_string(&file).is_ok_and(|text| text.contains("serving DNS for mesos."))
    });
    assert!(
        server.log_text().contains("serving DNS for mesos."),
        "stderr keeps the log"
    );
}

#[test]
fn logtostderr_keeps_the_log_out_of_log_dir_and_says_so() {
    let (_master, cfg) = tutorial_config(json!({}));
    let log_dir = cfg.dir.join("logs");
    let args = [
        "-v=1".to_string(),
        "-logtostderr=true".to_string(),
        format!("-log_dir={}", log_dir.display()),
        format!("-config={}", cfg.path.display()),
    ];
    let server = Server::spawn(&args, cfg.port, cfg.dir.clone());
    assert_answers_nginx(&server);
    assert!(!log_dir.join("mesos-dns.log").exists());
    assert!(server
        .log_text()
        .contains("-logtostderr is set, so -log_dir is not used"));
}

#[test]
fn a_config_path_under_tilde_is_read_from_home() {
    let (_master, cfg) = tutorial_config(json!({}));
    let home = cfg.dir.display().to_string();
    let args = ["-v".to_string(), "-config=~/config.json".to_string()];
    let server = Server::spawn_with_env(&args, cfg.port, cfg.dir, &[("HOME", &home)]);
    assert_answers_nginx(&server);
}

#[test]
fn a_bad_glog_value_is_a_usage_error_naming_the_flag() {
    let (status, _, stderr) = run_to_exit(&["-stderrthreshold=LOUD", "-config=/nonexistent.json"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`-stderrthreshold` takes INFO, WARNING, ERROR or FATAL"),
        "{stderr}"
    );
}

/// GET over HTTP/1.1 with ureq: (status, body), or `None` while nothing listens.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(3)))
            .build(),
    );
    let mut resp = agent.get(format!("http://127.0.0.1:{port}{path}")).call().ok()?;
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    Some((resp.status().as_u16(), body))
}

#[test]
fn dnson_false_serves_the_http_api_and_no_dns() {
    let http_port = free_port();
    let (_master, cfg) = tutorial_config(json!({
        "dnson": false, "httpon": true, "httpListener": "127.0.0.1", "httpport": http_port,
    }));
    let mut child = std::process::Command::new(BIN)
        .args(["-v", &format!("-config={}", cfg.path.display())])
        .env("MESOS_DNS_FOLLOW_LOOPBACK_ONLY", "1")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start mesos-dns");
    let mut hosts = None;
    let deadline = Instant::now() + START_DEADLINE;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("mesos-dns exited with {status} while serving only HTTP");
        }
        match http_get(http_port, &format!("/v1/hosts/{NGINX}")) {
            Some((200, body)) if body.contains("10.114.227.92") => {
                hosts = Some(body);
                break;
            }
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let dns_answer = dns::udp(cfg.port, &dns::query(7, NGINX, dns::A), Duration::from_millis(500));
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&cfg.dir);
    let hosts: Value = serde_json::from_str(&hosts.expect("/v1/hosts answered within the deadline")).unwrap();
    assert_eq!(hosts, json!([{"host": format!("{NGINX}."), "ip": "10.114.227.92"}]));
    assert!(
        dns_answer.is_err(),
        "dnson false: nothing answers DNS, got {dns_answer:?}"
    );
}

#[test]
fn ttl_zero_is_served_as_zero() {
    let (_master, cfg) = tutorial_config(json!({"ttl": 0}));
    let args = ["-v".to_string(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir);
    server.wait_loaded();
    for transport in [Transport::Udp, Transport::Tcp] {
        let r = server.ask(NGINX, dns::A, transport);
        assert_eq!(r.answers.len(), 1, "{r:?}");
        assert_eq!(r.answers[0].ttl, 0, "{transport:?}");
    }
    let d = kdig(server.port, NGINX, "A", Transport::Udp);
    let line = d
        .raw
        .lines()
        .find(|l| l.starts_with(&format!("{NGINX}.")))
        .unwrap_or_default();
    assert_eq!(line.split_whitespace().nth(1), Some("0"), "kdig sees TTL 0: {}", d.raw);
}

#[test]
fn timeout_zero_gives_each_resolver_five_seconds() {
    // The only resolver never answers. With `timeout: 0` (5 s, as the original), the client gets
    // SERVFAIL after about 5 s: not after 2 (what we did before) nor never. (With a second resolver
    // the answer would come from it at once: the first is hedged after its RTO.)
    let silent = Upstream::start(Behaviour::Hang);
    let (_master, cfg) = tutorial_config(json!({
        "timeout": 0, "resolvers": [silent.resolver()], "cacheOn": false,
    }));
    let args = ["-v".to_string(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir);
    wait_until("the timeout warning in the log", CHANGE_DEADLINE, || {
        server.log_text().contains("`timeout` is 0: using the default, 5 s")
    });
    let started = Instant::now();
    let bytes = dns::udp(
        server.port,
        &dns::query(9, "www.example.org", dns::A),
        Duration::from_secs(9),
    )
    .expect("SERVFAIL once the resolver had its time");
    let waited = started.elapsed();
    let r = dns::parse(&bytes).unwrap();
    assert_eq!(r.rcode, dns::SERVFAIL);
    assert!(
        waited >= Duration::from_millis(4500),
        "the resolver had only {waited:?}"
    );
}

/// The tutorial with nginx scaled to `n` instances, each with its own container address 10.200.0.i.
fn tutorial_with_instances(n: u8) -> Value {
    let mut state = tutorial();
    let tasks = tasks_mut(&mut state);
    let nginx = tasks.iter().find(|t| t["name"] == "nginx").expect("nginx task").clone();
    tasks.retain(|t| t["name"] != "nginx");
    for i in 1..=n {
        let mut task = nginx.clone();
        task["id"] = json!(format!("nginx.{i:08x}-a36d-11e4-8c21-56847afe9799"));
        task["statuses"] = json!([{
            "state": "TASK_RUNNING",
            "timestamp": 1422061000.5,
            "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": format!("10.200.0.{i}")}]}]},
        }]);
        tasks.push(task);
    }
    state
}

#[test]
fn an_answer_too_big_for_udp_carries_the_records_that_fit_with_tc() {
    let master = FakeMaster::serving(tutorial_with_instances(40));
    let server = Server::start(&[master.addr()]);
    server.wait_loaded();
    // 512 octets without EDNS: 12 header + 32 question, then 16 per A record: 29 of the 40.
    let r = server.ask(NGINX, dns::A, Transport::Udp);
    assert!(r.tc(), "{r:?}");
    assert_eq!(r.answers.len(), 29, "{r:?}");
    let mut ips: Vec<&str> = r.answers.iter().map(|a| a.data.as_str()).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 29, "whole records, none twice");
    assert!(ips.iter().all(|ip| ip.starts_with("10.200.0.")), "{ips:?}");
    // dig +ignore shows the truncated answer as it came; plain dig retries over TCP and gets all 40.
    let out = std::process::Command::new("dig")
        .args([
            "@127.0.0.1",
            "-p",
            &server.port.to_string(),
            NGINX,
            "A",
            "+noedns",
            "+ignore",
            "+norecurse",
        ])
        .output()
        .expect("run dig");
    let truncated = parse_dig(&String::from_utf8_lossy(&out.stdout));
    assert!(truncated.has_flag("tc"), "{}", truncated.raw);
    assert_eq!(truncated.answer_data("A").len(), 29, "{}", truncated.raw);
    let full = dig(server.port, NGINX, "A", Transport::Udp);
    assert!(!full.has_flag("tc"));
    assert_eq!(full.answer_data("A").len(), 40, "{}", full.raw);
}

/// Runs a README command line with `sh -c` in `dir`, where `mesos-dns` is a link to the binary under
/// test, and waits until it answers. `script` must `exec` the server.
fn run_readme_command(script: &str, cfg: TestConfig, env: &[(&str, &str)]) -> Server {
    let link = cfg.dir.join("mesos-dns");
    std::os::unix::fs::symlink(BIN, &link).expect("link the binary");
    let dir = cfg.dir.display().to_string();
    let script = format!("cd {dir} && {script}");
    let mut env = env.to_vec();
    env.push(("MESOS_SANDBOX", &dir));
    Server::spawn_program("sh", &["-c".to_string(), script], cfg.port, cfg.dir, &env)
}

#[test]
fn the_readme_marathon_cmd_runs_as_written() {
    let app: Value = serde_json::from_str(&readme_block("<!-- marathon-app -->")).expect("the app is JSON");
    let cmd = app["cmd"].as_str().expect("cmd").to_string();
    assert!(
        cmd.contains("exec ./mesos-dns"),
        "the shell is replaced by the server: {cmd}"
    );
    assert!(
        app["uris"].as_array().is_some_and(|u| u.len() == 2),
        "binary and config fetched: {app}"
    );
    assert_eq!(app["instances"], 1);
    // The Mesos fetcher puts `uris` in the sandbox, the task's working directory: the binary and the
    // config (here a link to the binary under test, and the test config).
    let (_master, cfg) = tutorial_config(json!({}));
    let server = run_readme_command(&cmd, cfg, &[]);
    assert_answers_nginx(&server);
}

#[test]
fn the_readme_systemd_unit_command_line_runs_as_written() {
    let unit = readme_block("<!-- systemd-unit -->");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart")
        .replace("/usr/local/bin/mesos-dns", "./mesos-dns")
        .replace("/etc/mesos-dns/config.json", "config.json");
    assert!(unit.contains("AmbientCapabilities=CAP_NET_BIND_SERVICE"), "{unit}");
    let (_master, cfg) = tutorial_config(json!({}));
    let server = run_readme_command(&format!("exec {exec}"), cfg, &[]);
    assert_answers_nginx(&server);
}

#[test]
fn the_readme_dcos_unit_line_runs_as_written() {
    let unit = readme_block("<!-- dcos-unit -->");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart")
        .replace("/opt/mesosphere/bin/mesos-dns", "./mesos-dns");
    let (_master, cfg) = tutorial_config(json!({}));
    let path = cfg.path.display().to_string();
    let server = run_readme_command(&format!("exec {exec}"), cfg, &[("MESOS_DNS_CONFIG", &path)]);
    assert_answers_nginx(&server);
}

#[test]
fn the_readme_marathon_app_with_env_runs_as_written_without_a_config_file() {
    let app: Value = serde_json::from_str(&readme_block("<!-- marathon-app-env -->")).expect("the app is JSON");
    let cmd = app["cmd"].as_str().expect("cmd").to_string();
    assert!(cmd.contains("exec ./mesos-dns") && !cmd.contains("-config"), "{cmd}");
    assert!(
        app["uris"].as_array().is_some_and(|u| u.len() == 1),
        "only the binary fetched: {app}"
    );
    let env = app["env"].as_object().expect("env");
    // Every variable the README sets is one this test replaces or keeps knowingly: nothing it names
    // (masters, ZooKeeper, resolvers) may be contacted from a test.
    let replaced = ["MESOS_DNS_ZK", "MESOS_DNS_MASTERS", "MESOS_DNS_RESOLVERS"];
    let kept = ["MESOS_DNS_REFRESHSECONDS", "MESOS_DNS_IPSOURCES"];
    for name in env.keys() {
        assert!(
            replaced.contains(&name.as_str()) || kept.contains(&name.as_str()),
            "{name}"
        );
    }
    // The sandbox holds the binary and no config.json: the environment is the whole config.
    let (master, cfg) = tutorial_config(json!({}));
    std::fs::remove_file(&cfg.path).expect("no config.json in the sandbox");
    let (masters, port, dead) = (master.addr(), cfg.port.to_string(), dead_resolver());
    let mut vars: Vec<(&str, &str)> = kept
        .iter()
        .filter_map(|name| Some((*name, env.get(*name)?.as_str()?)))
        .collect();
    vars.extend([
        ("MESOS_DNS_ZK", ""),
        ("MESOS_DNS_MASTERS", masters.as_str()),
        ("MESOS_DNS_RESOLVERS", dead.as_str()),
        ("MESOS_DNS_LISTENER", "127.0.0.1"),
        ("MESOS_DNS_PORT", port.as_str()),
        ("MESOS_DNS_HTTPON", "false"),
    ]);
    let server = run_readme_command(&cmd, cfg, &vars);
    assert_answers_nginx(&server);
    let log = server.log_text();
    assert!(
        log.contains("MESOS_DNS_REFRESHSECONDS"),
        "the variables used are logged: {log}"
    );
}
