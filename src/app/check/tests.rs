//! What `-check-config` and a start check before binding ([`super::super::prepare`]): the same steps
//! whatever the caller, so these hold for both.
use std::ffi::OsString;
use std::path::PathBuf;

use super::super::{prepare, Environment, Prepared, Source};
use crate::cli::{parse_args, Args};

/// A scratch directory of this test's own.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mesos-dns-check-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn args(argv: &[&str]) -> Args {
    let argv: Vec<String> = std::iter::once("mesos-dns")
        .chain(argv.iter().copied())
        .map(String::from)
        .collect();
    parse_args(&argv).unwrap()
}

fn environment(vars: &[(&str, &str)]) -> Environment {
    Environment {
        vars: vars
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect(),
        default_config_exists: false,
    }
}

/// `prepare` on a config file holding `json`, with `vars`.
fn check(tag: &str, json: &str, extra_args: &[&str], vars: &[(&str, &str)]) -> (Result<Prepared, String>, Vec<String>) {
    let dir = scratch(tag);
    let path = dir.join("config.json");
    std::fs::write(&path, json).unwrap();
    let config = format!("-config={}", path.display());
    let mut argv = vec!["-check-config", config.as_str()];
    argv.extend(extra_args);
    let mut warnings = Vec::new();
    let prepared = prepare(&args(&argv), &environment(vars), &mut warnings);
    let _ = std::fs::remove_dir_all(dir);
    (prepared, warnings)
}

fn error(result: Result<Prepared, String>) -> String {
    match result {
        Ok(_) => panic!("expected the config to be refused"),
        Err(e) => e,
    }
}

#[test]
fn a_good_config_gives_the_masters_source_and_remembers_where_it_came_from() {
    let (prepared, warnings) = check("good", r#"{"masters": ["127.0.0.1:5050"], "ttl": 30}"#, &[], &[]);
    let prepared = prepared.unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(matches!(prepared.source, Source::Masters(_)));
    assert_eq!(prepared.config.ttl, 30);
    assert!(prepared.reload.config_path.is_some_and(|p| p.ends_with("config.json")));
    assert!(prepared.reload.env.is_empty());
}

#[test]
fn errors_name_the_key_or_the_variable() {
    let (prepared, _) = check(
        "bad-value",
        r#"{"masters": ["127.0.0.1:5050"], "port": 70000}"#,
        &[],
        &[],
    );
    assert!(error(prepared).starts_with("config key `port`"));
    let (prepared, _) = check(
        "bad-var",
        r#"{"masters": ["127.0.0.1:5050"]}"#,
        &[],
        &[("MESOS_DNS_TTL", "soon")],
    );
    assert!(error(prepared).starts_with("environment variable MESOS_DNS_TTL (config key `ttl`)"));
    let (prepared, _) = check("no-json", "{", &[], &[]);
    assert!(error(prepared).starts_with("config file is not valid JSON"));
}

#[test]
fn the_files_the_config_names_are_read() {
    let (prepared, _) = check(
        "static",
        r#"{"masters": ["127.0.0.1:5050"], "staticRecordsFile": "/nonexistent/static.zone"}"#,
        &[],
        &[],
    );
    assert!(error(prepared).starts_with("staticRecordsFile: cannot read /nonexistent/static.zone"));
    let (prepared, _) = check(
        "ca",
        r#"{"masters": ["127.0.0.1:5050"], "mesosHTTPSOn": true, "caCertFile": "/nonexistent/ca.pem"}"#,
        &[],
        &[],
    );
    assert!(error(prepared).starts_with("config key `caCertFile`"));
}

#[test]
fn with_a_state_file_no_fetcher_is_built_as_at_start() {
    // A start with -state-file never talks to a master, so it reads no certificate: neither does the check.
    let (prepared, _) = check(
        "state-file",
        r#"{"masters": ["127.0.0.1:5050"], "mesosHTTPSOn": true, "caCertFile": "/nonexistent/ca.pem"}"#,
        &["-state-file=/nonexistent/state.json"],
        &[],
    );
    assert!(matches!(prepared.unwrap().source, Source::File(_)));
}

#[test]
fn a_zk_config_gives_the_zookeeper_source_and_the_environment_alone_is_a_config() {
    let (prepared, _) = check("zk", r#"{"zk": "zk://127.0.0.1:2181/mesos"}"#, &[], &[]);
    assert!(matches!(prepared.unwrap().source, Source::ZooKeeper(..)));
    let mut warnings = Vec::new();
    let env = environment(&[
        ("MESOS_DNS_MASTERS", "127.0.0.1:5050"),
        ("MESOS_DNS_REFRESH_SECONDS", "5"),
    ]);
    let prepared = prepare(&args(&["-check-config"]), &env, &mut warnings).unwrap();
    assert!(prepared.reload.config_path.is_none());
    assert_eq!(
        prepared.reload.env.variables().collect::<Vec<_>>(),
        ["MESOS_DNS_MASTERS"]
    );
    assert!(
        warnings.iter().any(|w| w.contains("MESOS_DNS_REFRESH_SECONDS")),
        "{warnings:?}"
    );
}
