//! Unit tests of config parsing: the seed config, defaults, case-insensitive keys, every validation error.

use super::values::parse_resolver;
use super::*;
use serde_json::json;
use std::net::Ipv6Addr;

/// The config.json of the seed tutorial, byte for byte.
const SEED: &str = r#"{
  "masters": ["10.41.40.151:5050"],
  "refreshSeconds": 60,
  "ttl": 60,
  "domain": "mesos",
  "port": 53,
  "resolvers": ["169.254.169.254","10.0.0.1"],
  "timeout": 5,
  "email": "root.mesos-dns.mesos"
}"#;

fn load(v: Value) -> Result<(Config, Vec<String>), ConfigError> {
    Config::from_json(&v.to_string())
}

/// A minimal valid document with one key set (or replaced).
fn with(key: &str, value: Value) -> Value {
    let mut doc = json!({"masters": ["10.0.0.1:5050"]});
    doc[key] = value;
    doc
}

/// Masters as `/v1/config` prints them.
fn shown(masters: &[HostPort]) -> Vec<String> {
    masters.iter().map(ToString::to_string).collect()
}

fn error_key(doc: Value) -> &'static str {
    match load(doc.clone()) {
        Err(ConfigError::Field { key, .. }) => key,
        other => panic!("expected a field error for {doc}, got {other:?}"),
    }
}

#[test]
fn seed_tutorial_config_loads_as_is() {
    let (c, warnings) = Config::from_json(SEED).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(shown(&c.masters), vec!["10.41.40.151:5050"]);
    assert_eq!(c.refresh_seconds, 60);
    assert_eq!(c.ttl, 60);
    assert_eq!(c.domain, "mesos");
    assert_eq!(c.port, 53);
    assert_eq!(
        c.resolvers,
        vec!["169.254.169.254:53".parse().unwrap(), "10.0.0.1:53".parse().unwrap()]
    );
    assert_eq!(c.timeout, 5);
    assert_eq!(c.soa_rname, "root.mesos-dns.mesos.");
    assert_eq!(c.soa_mname, "ns1.mesos.");
}

#[test]
fn keys_match_case_insensitively() {
    for key in ["refreshSeconds", "RefreshSeconds", "refreshseconds", "REFRESHSECONDS"] {
        let (c, warnings) = load(with(key, json!(17))).unwrap();
        assert_eq!(c.refresh_seconds, 17, "{key}");
        assert!(warnings.is_empty(), "{key}: {warnings:?}");
    }
    let (c, _) = load(json!({"Masters": ["m:1"], "HttpPort": 9000, "DnsOn": false, "soamname": "NS.Example"})).unwrap();
    assert_eq!(shown(&c.masters), vec!["m:1"]);
    assert_eq!(c.http_port, 9000);
    assert!(!c.dns_on);
    assert_eq!(c.soa_mname, "ns.example.");
}

#[test]
fn of_keys_differing_only_by_case_the_last_in_the_document_wins() {
    let text = r#"{"masters": ["m:1"], "refreshSeconds": 1, "RefreshSeconds": 2, "refreshseconds": 3}"#;
    assert_eq!(Config::from_json(text).unwrap().0.refresh_seconds, 3);
    let text = r#"{"masters": ["m:1"], "refreshseconds": 3, "RefreshSeconds": 2}"#;
    assert_eq!(Config::from_json(text).unwrap().0.refresh_seconds, 2);
}

#[test]
fn defaults_are_the_originals_except_resolvers() {
    let c = Config::default();
    assert!(c.masters.is_empty());
    assert_eq!(c.zk, None);
    assert_eq!(c.zk_detection_timeout, 30);
    assert_eq!(c.refresh_seconds, 60);
    assert_eq!(c.state_timeout_seconds, 300);
    assert_eq!(c.ttl, 60);
    assert_eq!(c.domain, "mesos");
    assert_eq!(c.port, 53);
    assert_eq!(c.listener, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(c.http_listener, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(c.http_port, 8123);
    assert!(c.dns_on);
    assert!(c.http_on);
    assert!(c.resolvers.is_empty(), "never 8.8.8.8: empty means /etc/resolv.conf");
    assert!(c.zone_resolvers.is_empty());
    assert_eq!(c.timeout, 5);
    assert!(c.external_on);
    assert!(c.recurse_on);
    assert_eq!(c.soa_mname, "ns1.mesos.");
    assert_eq!(c.soa_rname, "root.ns1.mesos.");
    assert_eq!(
        (c.soa_refresh, c.soa_retry, c.soa_expire, c.soa_minttl),
        (60, 600, 86400, 60)
    );
    assert_eq!(c.srv_record_default_weight, 1);
    assert_eq!(c.ip_sources, vec![IpSource::Netinfo, IpSource::Mesos, IpSource::Host]);
    assert!(!c.enforce_rfc952);
    assert!(c.set_truncate_bit);
    assert!(c.enumeration_on);
    assert!(!c.ptr_on, "reverse lookups are off, as the original has none");
    assert!(!c.mesos_https_on);
    assert_eq!(
        (c.ca_cert_file.as_str(), c.cert_file.as_str(), c.key_file.as_str()),
        ("", "", "")
    );
    assert_eq!(c.mesos_authentication, Auth::None);
    assert_eq!(c.mesos_credentials, None);
    assert_eq!(c.iam_config_file, "");
}

#[test]
fn a_document_with_only_masters_gets_every_default() {
    let (c, warnings) = load(json!({"masters": ["10.0.0.1:5050"]})).unwrap();
    assert!(warnings.is_empty());
    let expected = Config {
        masters: vec![HostPort::parse("10.0.0.1:5050").unwrap()],
        ..Config::default()
    };
    assert_eq!(c, expected);
}

#[test]
fn zk_alone_is_enough() {
    let (c, _) = load(json!({"zk": "zk://10.0.0.1:2181,10.0.0.2:2181/mesos"})).unwrap();
    assert!(c.masters.is_empty());
    let zk = c.zk.unwrap();
    assert_eq!(zk.as_written(), "zk://10.0.0.1:2181,10.0.0.2:2181/mesos");
    let hosts: Vec<String> = zk.hosts.iter().map(ToString::to_string).collect();
    assert_eq!(hosts, ["10.0.0.1:2181", "10.0.0.2:2181"]);
}

#[test]
fn every_value_is_read_into_its_field() {
    let doc = json!({
        "masters": ["10.0.0.1:5050", "[2001:db8::1]:5050", "Master-2.example:5050"],
        "zk": "zk://zk1:2181/mesos", "zkDetectionTimeout": 0, "refreshSeconds": 5, "stateTimeoutSeconds": 7,
        "ttl": 9, "domain": "Prod.Mesos.", "port": 5353, "listener": "127.0.0.1", "httpListener": "::1",
        "httpport": 8080, "dnson": true, "httpon": false, "resolvers": ["127.0.0.1"],
        "zoneResolvers": {"Consul.": ["127.0.0.2:8600"]}, "timeout": 3, "externalon": false,
        "recurseon": false, "SOAMname": "ns.prod.mesos", "SOARname": "admin@prod.mesos.", "SOASerial": 12,
        "SOARefresh": 1, "SOARetry": 2, "SOAExpire": 3, "SOAMinttl": 4, "srvRecordDefaultWeight": 0,
        "IPSources": ["HOST", "docker"], "EnforceRFC952": true, "SetTruncateBit": false,
        "EnumerationOn": false, "PTROn": true, "mesosHTTPSOn": true, "caCertFile": "/ca.pem", "certFile": "/c.pem",
        "keyFile": "/k.pem", "mesosAuthentication": "basic",
        "mesosCredentials": {"principal": "dns", "secret": "s3cret"}, "IAMConfigFile": ""
    });
    let (c, warnings) = load(doc).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(c.masters.len(), 3);
    assert_eq!(
        shown(&c.masters),
        ["10.0.0.1:5050", "[2001:db8::1]:5050", "master-2.example:5050"],
        "typed once, at load"
    );
    assert_eq!(c.zk_detection_timeout, 0);
    assert_eq!((c.refresh_seconds, c.state_timeout_seconds, c.ttl), (5, 7, 9));
    assert_eq!(c.domain, "prod.mesos");
    assert_eq!((c.port, c.http_port), (5353, 8080));
    assert_eq!(c.listener, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(c.http_listener, IpAddr::V6(Ipv6Addr::LOCALHOST));
    assert!(c.dns_on && !c.http_on && !c.external_on && !c.recurse_on);
    assert_eq!(
        c.zone_resolvers["consul"],
        vec!["127.0.0.2:8600".parse::<SocketAddr>().unwrap()]
    );
    assert_eq!(c.timeout, 3);
    assert_eq!(c.soa_mname, "ns.prod.mesos.");
    assert_eq!(c.soa_rname, "admin.prod.mesos.");
    assert_eq!((c.soa_refresh, c.soa_retry, c.soa_expire, c.soa_minttl), (1, 2, 3, 4));
    assert_eq!(c.srv_record_default_weight, 0);
    assert_eq!(c.ip_sources, vec![IpSource::Host, IpSource::Docker]);
    assert!(c.enforce_rfc952 && !c.set_truncate_bit && !c.enumeration_on && c.mesos_https_on);
    assert!(c.ptr_on);
    assert_eq!(
        (c.ca_cert_file.as_str(), c.cert_file.as_str(), c.key_file.as_str()),
        ("/ca.pem", "/c.pem", "/k.pem")
    );
    let credentials = Credentials {
        principal: "dns".into(),
        secret: "s3cret".into(),
    };
    assert_eq!(c.mesos_authentication, Auth::Basic(credentials.clone()));
    assert_eq!(c.mesos_credentials, Some(credentials));
}

#[test]
fn soarname_wins_over_the_old_email_key() {
    let doc = json!({"masters": ["m:1"], "SOARname": "hostmaster.mesos", "email": "root@mesos-dns.mesos"});
    assert_eq!(load(doc).unwrap().0.soa_rname, "hostmaster.mesos.");
    assert_eq!(
        load(with("email", json!("root@mesos-dns.mesos"))).unwrap().0.soa_rname,
        "root.mesos-dns.mesos."
    );
}

#[test]
fn soa_names_are_lower_cased_and_get_one_trailing_dot() {
    let (c, _) = load(json!({"masters": ["m:1"], "SOAMname": "NS1.Mesos..", "SOARname": "Root.NS1.mesos."})).unwrap();
    assert_eq!(c.soa_mname, "ns1.mesos.");
    assert_eq!(c.soa_rname, "root.ns1.mesos.");
}

#[test]
fn unknown_keys_warn_and_are_otherwise_ignored() {
    let doc = json!({"masters": ["m:1"], "refreshSecs": 5, "Colour": "blue"});
    let (c, warnings) = load(doc).unwrap();
    assert_eq!(c.refresh_seconds, 60);
    assert_eq!(warnings.len(), 2);
    assert!(warnings.contains(&"unknown config key `refreshSecs` ignored".to_string()));
    assert!(warnings.contains(&"unknown config key `Colour` ignored".to_string()));
}

#[test]
fn null_keeps_a_scalar_default_and_empties_a_list() {
    let (c, _) = load(json!({"masters": ["m:1"], "port": null, "resolvers": null, "domain": null})).unwrap();
    assert_eq!(c.port, 53);
    assert_eq!(c.domain, "mesos");
    assert!(c.resolvers.is_empty());
    assert_eq!(error_key(with("IPSources", Value::Null)), "IPSources");
}

#[test]
fn resolver_forms_parse_with_port_53_by_default() {
    let cases = [
        ("127.0.0.1", "127.0.0.1:53"),
        ("127.0.0.1:5353", "127.0.0.1:5353"),
        ("::1", "[::1]:53"),
        ("[::1]:5353", "[::1]:5353"),
        ("[::1]", "[::1]:53"),
        ("2001:db8::53", "[2001:db8::53]:53"),
    ];
    for (given, expected) in cases {
        assert_eq!(parse_resolver(given), Ok(expected.parse().unwrap()), "{given}");
        let (c, _) = load(with("resolvers", json!([given]))).unwrap();
        assert_eq!(c.resolvers, vec![expected.parse::<SocketAddr>().unwrap()], "{given}");
    }
    for bad in [
        "",
        "localhost",
        "1.2.3.4:0",
        "1.2.3.4:65536",
        "1.2.3",
        "::1:53:x",
        "[::1]:",
    ] {
        assert!(parse_resolver(bad).is_err(), "{bad}");
    }
}

#[test]
fn master_forms_that_are_accepted() {
    for m in [
        "10.0.0.1:5050",
        "master.example.com:5050",
        "Leader-1:1",
        "[::1]:5050",
        "[2001:db8::1]:65535",
    ] {
        assert!(load(with("masters", json!([m]))).is_ok(), "{m}");
    }
}

mod credentials;
mod errors;
mod json;
