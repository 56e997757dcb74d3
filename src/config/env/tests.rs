use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::*;
use crate::config::{Config, IpSource};

fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    pairs
        .iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect()
}

fn overrides(pairs: &[(&str, &str)]) -> Overrides {
    let (env, warnings) = Overrides::from_vars(vars(pairs)).unwrap();
    assert_eq!(warnings, Vec::<String>::new());
    env
}

/// The members the variables give, as one JSON object.
fn members(pairs: &[(&str, &str)]) -> Value {
    Value::Object(overrides(pairs).members().collect())
}

fn error(pairs: &[(&str, &str)]) -> String {
    Overrides::from_vars(vars(pairs)).unwrap_err().to_string()
}

#[test]
fn scalars_are_json_when_they_are_json_and_text_otherwise() {
    let got = members(&[
        ("MESOS_DNS_TTL", "30"),
        ("MESOS_DNS_HTTPON", "false"),
        ("MESOS_DNS_DOMAIN", "Example.Internal"),
        ("MESOS_DNS_SOAMNAME", "\"ns1.example.\""),
        ("MESOS_DNS_ZK", ""),
        ("MESOS_DNS_LISTENER", "0.0.0.0"),
    ]);
    assert_eq!(
        got,
        json!({
            "ttl": 30, "httpon": false, "domain": "Example.Internal", "SOAMname": "ns1.example.",
            "zk": "", "listener": "0.0.0.0",
        })
    );
    // A JSON array or object for a scalar key is text: the key's reader says what it expected.
    assert_eq!(members(&[("MESOS_DNS_DOMAIN", "[1]")]), json!({"domain": "[1]"}));
}

#[test]
fn lists_are_comma_separated_or_a_json_array() {
    let got = members(&[
        ("MESOS_DNS_MASTERS", "10.0.0.1:5050, 10.0.0.2:5050,"),
        ("MESOS_DNS_RESOLVERS", "[\"127.0.0.1\", \"127.0.0.2:5353\"]"),
        ("MESOS_DNS_IPSOURCES", "host"),
        ("MESOS_DNS_RELAYALLOWFROM", ""),
    ]);
    assert_eq!(
        got,
        json!({
            "masters": ["10.0.0.1:5050", "10.0.0.2:5050"],
            "resolvers": ["127.0.0.1", "127.0.0.2:5353"],
            "relayAllowFrom": [],
            "IPSources": ["host"],
        })
    );
}

#[test]
fn objects_are_json() {
    let zones = r#"{"consul": ["127.0.0.1:8600"]}"#;
    let keys = r#"[{"name": "xfr.", "algorithm": "hmac-sha256", "secret": "c2VjcmV0"}]"#;
    let got = members(&[("MESOS_DNS_ZONERESOLVERS", zones), ("MESOS_DNS_TSIGKEYS", keys)]);
    assert_eq!(got["zoneResolvers"], json!({"consul": ["127.0.0.1:8600"]}));
    assert_eq!(got["tsigKeys"][0]["name"], "xfr.");
}

#[test]
fn the_key_is_matched_without_regard_to_case_and_keeps_the_tables_spelling() {
    let got = members(&[("MESOS_DNS_refreshSeconds", "5"), ("MESOS_DNS_ipsources", "mesos,host")]);
    assert_eq!(got, json!({"refreshSeconds": 5, "IPSources": ["mesos", "host"]}));
    assert_eq!(
        overrides(&[("MESOS_DNS_refreshSeconds", "5")])
            .variables()
            .collect::<Vec<_>>(),
        ["MESOS_DNS_refreshSeconds"]
    );
}

#[test]
fn a_value_that_cannot_be_json_names_the_variable() {
    let e = error(&[("MESOS_DNS_ZONERESOLVERS", "consul=127.0.0.1")]);
    assert!(
        e.starts_with("environment variable MESOS_DNS_ZONERESOLVERS (config key `zoneResolvers`): not JSON"),
        "{e}"
    );
    let e = error(&[("MESOS_DNS_MASTERS", "[\"10.0.0.1:5050\"")]);
    assert!(
        e.contains("MESOS_DNS_MASTERS (config key `masters`): not a JSON array"),
        "{e}"
    );
}

#[test]
fn a_bad_value_found_when_the_config_is_read_names_the_variable() {
    let env = overrides(&[("MESOS_DNS_TTL", "soon")]);
    let e = Config::from_json_with(r#"{"masters": ["127.0.0.1:5050"]}"#, &env)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "environment variable MESOS_DNS_TTL (config key `ttl`): expected a non-negative integer, got \"soon\""
    );
    // The same key in the file, bad, is still the file's error when no variable sets it.
    let e = Config::from_json_with(r#"{"masters": [], "ttl": -1}"#, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("config key `ttl`"), "{e}");
}

#[test]
fn two_variables_for_one_key_are_an_error() {
    let e = error(&[("MESOS_DNS_TTL", "5"), ("MESOS_DNS_ttl", "6")]);
    assert!(
        e.contains("MESOS_DNS_ttl (config key `ttl`): MESOS_DNS_TTL sets the same key"),
        "{e}"
    );
}

#[test]
fn the_environment_overrides_the_file_and_alone_is_a_config() {
    let env = overrides(&[("MESOS_DNS_TTL", "7"), ("MESOS_DNS_IPSOURCES", "host")]);
    let file = r#"{"masters": ["127.0.0.1:5050"], "TTL": 60, "refreshSeconds": 9}"#;
    let (c, warnings) = Config::from_json_with(file, &env).unwrap();
    assert_eq!((c.ttl, c.refresh_seconds, c.ip_sources), (7, 9, vec![IpSource::Host]));
    assert!(warnings.is_empty(), "{warnings:?}");

    let env = overrides(&[
        ("MESOS_DNS_MASTERS", "127.0.0.1:5050"),
        ("MESOS_DNS_DOMAIN", "dc1.Example"),
    ]);
    let (c, _) = Config::load(None, &env).unwrap();
    assert_eq!(
        (c.masters[0].to_string().as_str(), c.domain.as_str()),
        ("127.0.0.1:5050", "dc1.example")
    );
    assert_eq!(c.file, "");
    // /v1/config shows the effective value.
    assert_eq!(c.to_json()["Domain"], "dc1.example");
}

#[test]
fn other_mesos_dns_names_are_not_keys() {
    let (env, warnings) = Overrides::from_vars(vars(&[
        ("MESOS_DNS_CONFIG", "/opt/mesosphere/etc/mesos-dns.json"),
        ("MESOS_DNS_FOLLOW_LOOPBACK_ONLY", "1"),
        ("MESOS_DNS_MAX_STATE_BYTES", "1000"),
        ("MESOS_DNS_REFRESH_SECONDS", "5"),
        ("MESOS_DNS_COLOUR", "blue"),
        ("PATH", "/bin"),
        ("mesos_dns_ttl", "5"),
    ]))
    .unwrap();
    assert!(env.is_empty());
    assert_eq!(
        warnings,
        [
            "environment variable MESOS_DNS_REFRESH_SECONDS is not a config key: ignored (did you mean MESOS_DNS_REFRESHSECONDS?)",
            "environment variable MESOS_DNS_COLOUR is not a config key: ignored",
        ]
    );
}

#[test]
fn the_file_is_the_named_one_else_config_json_unless_only_the_environment_configures() {
    let none = Overrides::default();
    let some = overrides(&[("MESOS_DNS_TTL", "5")]);
    let named = Path::new("/etc/m.json");
    let default = Some(PathBuf::from("config.json"));
    assert_eq!(choose_file(Some(named), false, &some), Some(named.to_path_buf()));
    assert_eq!(choose_file(None, true, &some), default);
    assert_eq!(choose_file(None, false, &none), default, "its absence is the error");
    assert_eq!(choose_file(None, false, &some), None);
}

#[test]
fn each_keys_kind_agrees_with_what_v1_config_shows() {
    let shown = Config::default();
    for key in KEYS {
        let Some((member, value)) = key.json else { continue };
        let want = match value(&shown) {
            Value::Array(_) => Kind::List,
            Value::Object(_) => Kind::Json,
            _ => Kind::Scalar,
        };
        assert_eq!(key.kind, want, "{} ({member})", key.name);
    }
}

#[test]
fn the_task_filters_read_from_the_environment() {
    let got = members(&[
        ("MESOS_DNS_MINVISIBILITY", "cluster"),
        ("MESOS_DNS_EXCLUDEFRAMEWORKS", "chronos,Spark"),
        ("MESOS_DNS_EXCLUDETASKLABELS", "dns=off, private"),
    ]);
    assert_eq!(
        got,
        json!({
            "minVisibility": "cluster",
            "excludeFrameworks": ["chronos", "Spark"],
            "excludeTaskLabels": ["dns=off", "private"],
        })
    );
}
