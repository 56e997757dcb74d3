//! End-to-end: configuration from the environment (`MESOS_DNS_<KEY>`). A variable overrides the file
//! (seen in answers and in `/v1/config`), the environment alone configures a server started where
//! there is no config.json, a bad value stops the start naming the variable, and SIGHUP re-reads the
//! file while keeping the variables' keys. The real binary on loopback against a fake master.

mod common;

use common::*;
use serde_json::{json, Value};

const SERVICE: &str = "_nginx._tcp.marathon-0.7.6.mesos";

fn nginx_ttl(server: &Server) -> Option<u32> {
    let r = server.try_ask(NGINX, dns::A, Transport::Udp)?;
    r.answers.first().map(|rr| rr.ttl)
}

/// The SRV weight of the tutorial's nginx service.
fn srv_weight(server: &Server) -> Option<String> {
    let r = server.try_ask(SERVICE, dns::SRV, Transport::Udp)?;
    let data = r.answer_data(dns::SRV);
    data.first()?.split_whitespace().nth(1).map(str::to_string)
}

#[test]
fn a_variable_overrides_the_file_in_answers_and_in_v1_config() {
    let master = FakeMaster::serving(tutorial());
    let http_port = free_port();
    let file = json!({"httpon": true, "httpListener": "127.0.0.1", "httpport": http_port, "ttl": 60});
    let credentials = r#"{"principal": "dns", "secret": "hunter2"}"#;
    let env = [
        ("MESOS_DNS_TTL", "7"),
        ("MESOS_DNS_SRVRecordDefaultWeight", "3"),
        ("MESOS_DNS_MESOSCREDENTIALS", credentials),
    ];
    let server = Server::start_with_env(&[master.addr()], file, &env);
    server.wait_loaded();
    assert_eq!(nginx_ttl(&server), Some(7));
    assert_eq!(srv_weight(&server).as_deref(), Some("3"));
    let config = get_json_ok(http_port, "/v1/config");
    assert_eq!(config["TTL"], 7);
    assert_eq!(config["SRVRecordDefaultWeight"], 3);
    assert_eq!(
        config["MesosCredentials"],
        json!({"Principal": "dns", "Secret": "<redacted>"}),
        "the secret stays redacted"
    );
    assert!(!config.to_string().contains("hunter2"));
    // The server logs this at start, but the test's reader thread copies its stderr when it is
    // scheduled: on a loaded machine the line may not have reached `log_text` yet, so wait for it.
    let logged = || {
        let log = server.log_text();
        log.contains("config keys from the environment") && log.contains("MESOS_DNS_TTL")
    };
    wait_until("the environment's keys in the log", CHANGE_DEADLINE, logged);
}

#[test]
fn the_environment_alone_is_the_config_where_there_is_no_config_json() {
    let master = FakeMaster::serving(tutorial());
    let port = free_port();
    let dir = scratch_dir("env-only");
    let (masters, port_text, dead) = (master.addr(), port.to_string(), dead_resolver());
    let env = [
        ("MESOS_DNS_MASTERS", masters.as_str()),
        ("MESOS_DNS_LISTENER", "127.0.0.1"),
        ("MESOS_DNS_PORT", port_text.as_str()),
        ("MESOS_DNS_HTTPON", "false"),
        ("MESOS_DNS_REFRESHSECONDS", "1"),
        ("MESOS_DNS_RESOLVERS", dead.as_str()),
        ("MESOS_DNS_IPSOURCES", "host"),
    ];
    assert!(!dir.join("config.json").exists());
    let script = format!("cd {} && exec {BIN} -v", dir.display());
    let server = Server::spawn_program("sh", &["-c".to_string(), script], port, dir, &env);
    server.wait_loaded();
    assert_eq!(server.a_records(NGINX), [NGINX_IP]);
}

#[test]
fn a_named_config_file_that_is_missing_is_still_an_error() {
    let (status, _, stderr) = run_to_exit_with_env(
        &["-config=/nonexistent/mesos-dns.json"],
        &[("MESOS_DNS_MASTERS", "127.0.0.1:5050")],
    );
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read config file /nonexistent/mesos-dns.json"),
        "{stderr}"
    );
}

#[test]
fn a_bad_value_exits_2_naming_the_variable() {
    let cfg = TestConfig::write(&["127.0.0.1:5050".to_string()], json!({}));
    let config = format!("-config={}", cfg.path.display());
    for (var, value, problem) in [
        (
            "MESOS_DNS_TTL",
            "soon",
            "(config key `ttl`): expected a non-negative integer",
        ),
        (
            "MESOS_DNS_zoneResolvers",
            "consul=127.0.0.1",
            "(config key `zoneResolvers`): not JSON",
        ),
        (
            "MESOS_DNS_MASTERS",
            "",
            "(config key `masters`): no Mesos master to ask",
        ),
    ] {
        let (status, _, stderr) = run_to_exit_with_env(&[&config], &[(var, value)]);
        assert_eq!(status.code(), Some(2), "{var}: {stderr}");
        assert!(
            stderr.contains(&format!("environment variable {var} {problem}")),
            "{var}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&cfg.dir);
}

#[test]
fn sighup_rereads_the_file_and_keeps_the_variables_keys() {
    let master = FakeMaster::serving(tutorial());
    // A long period: a change seen quickly can only come from the reload's immediate refresh.
    let cfg = TestConfig::write(&[master.addr()], json!({"refreshSeconds": 3600, "ttl": 60}));
    let args = ["-v".to_owned(), format!("-config={}", cfg.path.display())];
    let server = Server::spawn_with_env(&args, cfg.port, cfg.dir.clone(), &[("MESOS_DNS_TTL", "7")]);
    server.wait_loaded();
    assert_eq!(nginx_ttl(&server), Some(7));
    assert_eq!(srv_weight(&server).as_deref(), Some("1"));
    let mut config: Value = serde_json::from_slice(&std::fs::read(&cfg.path).unwrap()).unwrap();
    config["ttl"] = 9.into();
    config["SRVRecordDefaultWeight"] = 5.into();
    std::fs::write(&cfg.path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    let rc = unsafe { libc::kill(server.pid() as i32, libc::SIGHUP) };
    assert_eq!(rc, 0);
    wait_until("the file's new SRV weight", CHANGE_DEADLINE, || {
        srv_weight(&server).as_deref() == Some("5")
    });
    assert_eq!(nginx_ttl(&server), Some(7), "the variable still wins over the file");
    assert!(server.log_text().contains("SIGHUP: reloaded"));
}
