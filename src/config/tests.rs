//! Unit tests of config parsing: the seed config, defaults, case-insensitive keys, every validation error.

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
    assert_eq!(c.masters, vec!["10.41.40.151:5050"]);
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
    assert_eq!(c.masters, vec!["m:1"]);
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
        masters: vec!["10.0.0.1:5050".into()],
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

#[test]
fn each_validation_error_names_its_key() {
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "masters"),
        (json!({"masters": [], "zk": ""}), "masters"),
        (with("masters", json!("10.0.0.1:5050")), "masters"),
        (with("masters", json!([5050])), "masters"),
        (with("masters", json!(["10.0.0.1"])), "masters"),
        (with("masters", json!(["10.0.0.1:0"])), "masters"),
        (with("masters", json!(["10.0.0.1:70000"])), "masters"),
        (with("masters", json!(["10.0.0.1:+50"])), "masters"),
        (with("masters", json!(["10.0.0.300:5050"])), "masters"),
        (with("masters", json!(["::1:5050"])), "masters"),
        (with("masters", json!(["[::1]"])), "masters"),
        (with("masters", json!(["[nope]:5050"])), "masters"),
        (with("masters", json!([":5050"])), "masters"),
        (with("masters", json!(["bad host:5050"])), "masters"),
        (with("masters", json!(["m:5050", "M:5050"])), "masters"),
        (with("zk", json!("10.0.0.1:2181")), "zk"),
        (with("zk", json!("zk://")), "zk"),
        (with("zk", json!("zk://10.0.0.1:2181")), "zk"),
        (with("zk", json!(5)), "zk"),
        (with("zkDetectionTimeout", json!(-1)), "zkDetectionTimeout"),
        (with("refreshSeconds", json!(0)), "refreshSeconds"),
        (with("refreshSeconds", json!(-5)), "refreshSeconds"),
        (with("refreshSeconds", json!("60")), "refreshSeconds"),
        (with("refreshSeconds", json!(1.5)), "refreshSeconds"),
        (with("refreshSeconds", json!(1u64 << 40)), "refreshSeconds"),
        (with("stateTimeoutSeconds", json!(0)), "stateTimeoutSeconds"),
        (with("ttl", json!(2147483648u64)), "ttl"),
        (with("domain", json!("")), "domain"),
        (with("domain", json!("a..b")), "domain"),
        (with("domain", json!("me sos")), "domain"),
        (with("domain", json!("under_score")), "domain"),
        (with("domain", json!("a".repeat(64))), "domain"),
        (with("domain", json!(["mesos"])), "domain"),
        (with("port", json!(65536)), "port"),
        (with("port", json!(-1)), "port"),
        (with("listener", json!("localhost")), "listener"),
        (with("httpListener", json!("1.2.3")), "httpListener"),
        (with("httpport", json!(70000)), "httpport"),
        (with("dnson", json!("yes")), "dnson"),
        (json!({"masters": ["m:1"], "dnson": false, "httpon": false}), "dnson"),
        (with("httpon", json!(1)), "httpon"),
        (with("resolvers", json!(["8.8.8.8:0"])), "resolvers"),
        (with("resolvers", json!(["dns.google"])), "resolvers"),
        (with("resolvers", json!(["127.0.0.1", "127.0.0.1:53"])), "resolvers"),
        (with("resolvers", json!("127.0.0.1")), "resolvers"),
        (with("zoneResolvers", json!({"mesos": ["127.0.0.1"]})), "zoneResolvers"),
        (with("zoneResolvers", json!({"MESOS.": ["127.0.0.1"]})), "zoneResolvers"),
        (
            with("zoneResolvers", json!({"a.mesos": ["127.0.0.1"]})),
            "zoneResolvers",
        ),
        (with("zoneResolvers", json!({"consul": []})), "zoneResolvers"),
        (with("zoneResolvers", json!({"": ["127.0.0.1"]})), "zoneResolvers"),
        (with("zoneResolvers", json!({"consul": ["x"]})), "zoneResolvers"),
        (with("zoneResolvers", json!({"consul": "127.0.0.1"})), "zoneResolvers"),
        (
            with(
                "zoneResolvers",
                json!({"Consul": ["127.0.0.1"], "consul": ["127.0.0.2"]}),
            ),
            "zoneResolvers",
        ),
        (with("zoneResolvers", json!(["consul"])), "zoneResolvers"),
        (with("timeout", json!(-1)), "timeout"),
        (with("recurseon", json!("true")), "recurseon"),
        (with("externalon", json!([])), "externalon"),
        (with("SOAMname", json!("a..b")), "SOAMname"),
        (with("SOAMname", json!("ns 1.mesos")), "SOAMname"),
        (with("SOARname", json!(format!("{}.mesos", "r".repeat(64)))), "SOARname"),
        (with("email", json!("root@@mesos")), "email"),
        (with("SOASerial", json!(-1)), "SOASerial"),
        (with("SOARefresh", json!(4294967296u64)), "SOARefresh"),
        (with("SOARetry", json!(-1)), "SOARetry"),
        (with("SOAExpire", json!("1")), "SOAExpire"),
        (with("SOAMinttl", json!(1.0)), "SOAMinttl"),
        (with("srvRecordDefaultWeight", json!(65536)), "srvRecordDefaultWeight"),
        (with("IPSources", json!(["netinfo", "rkt"])), "IPSources"),
        (with("IPSources", json!([])), "IPSources"),
        (with("IPSources", json!(["host", "HOST"])), "IPSources"),
        (with("EnforceRFC952", json!(1)), "EnforceRFC952"),
        (with("SetTruncateBit", json!("false")), "SetTruncateBit"),
        (with("EnumerationOn", json!(0)), "EnumerationOn"),
        (with("PTROn", json!("yes")), "PTROn"),
        (with("mesosHTTPSOn", json!("on")), "mesosHTTPSOn"),
        (with("caCertFile", json!(false)), "caCertFile"),
        (with("certFile", json!("/c.pem")), "keyFile"),
        (with("keyFile", json!("/k.pem")), "certFile"),
        (with("mesosAuthentication", json!("kerberos")), "mesosAuthentication"),
        (with("mesosAuthentication", json!("basic")), "mesosCredentials"),
        (with("mesosAuthentication", json!("iam")), "IAMConfigFile"),
        (with("mesosCredentials", json!("dns:secret")), "mesosCredentials"),
        (with("mesosCredentials", json!({"principal": 5})), "mesosCredentials"),
        (with("IAMConfigFile", json!(1)), "IAMConfigFile"),
    ];
    for (doc, key) in cases {
        let err = load(doc.clone()).unwrap_err();
        assert!(
            matches!(err, ConfigError::Field { key: k, .. } if k == key),
            "{doc}: expected `{key}`, got {err}"
        );
        assert!(err.to_string().starts_with(&format!("config key `{key}`: ")), "{err}");
    }
}

trait And {
    fn and(self, key: &str, value: Value) -> Value;
}
impl And for Value {
    fn and(mut self, key: &str, value: Value) -> Value {
        self[key] = value;
        self
    }
}

#[test]
fn error_messages_say_what_was_expected_and_what_was_given() {
    let err = load(with("refreshSeconds", json!(-5))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "config key `refreshSeconds`: expected a positive integer, got -5"
    );
    let err = load(with("port", json!(65536))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "config key `port`: expected a non-negative integer no greater than 65535, got 65536"
    );
    let err = load(with("IPSources", json!(["rkt"]))).unwrap_err();
    assert!(err.to_string().contains("`rkt` is not an IP source"), "{err}");
    let err = load(json!({})).unwrap_err();
    assert!(err.to_string().contains("`zk`"), "{err}");
}

#[test]
fn a_document_that_is_not_a_json_object_is_a_json_error() {
    for text in [
        "",
        "not json",
        "[1, 2]",
        "null",
        "{\"masters\": [\"m:1\"]} trailing",
        "{\"masters\": [\"m:1\"],}",
    ] {
        assert!(matches!(Config::from_json(text), Err(ConfigError::Json(_))), "{text:?}");
    }
}

#[test]
fn a_leading_byte_order_mark_is_skipped() {
    assert!(Config::from_json("\u{feff}{\"masters\": [\"m:1\"]}").is_ok());
}

#[test]
fn a_zero_timeout_means_the_originals_five_seconds_with_a_warning() {
    let (c, warnings) = load(with("timeout", json!(0))).unwrap();
    assert_eq!(c.timeout, 5);
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("`timeout` is 0: using the default, 5 s"),
        "{}",
        warnings[0]
    );
}

#[test]
fn a_zero_ttl_is_valid() {
    let (c, warnings) = load(with("ttl", json!(0))).unwrap();
    assert_eq!(c.ttl, 0);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn an_empty_listener_means_every_interface() {
    let (c, _) = load(with("listener", json!(""))).unwrap();
    assert_eq!(c.listener, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
}

#[test]
fn zone_resolvers_outside_the_domain_are_accepted() {
    let doc = with(
        "zoneResolvers",
        json!({"Consul.": ["127.0.0.1:8600"], "acdc.mesos.example": ["::1"]}),
    )
    .and("domain", json!("dc.mesos"));
    let (c, _) = load(doc).unwrap();
    assert_eq!(c.zone_resolvers.len(), 2);
    assert_eq!(
        c.zone_resolvers["consul"],
        vec!["127.0.0.1:8600".parse::<SocketAddr>().unwrap()]
    );
    assert_eq!(
        c.zone_resolvers["acdc.mesos.example"],
        vec!["[::1]:53".parse::<SocketAddr>().unwrap()]
    );
    let doc = with("zoneResolvers", json!({"acdc.mesos": ["127.0.0.1"]})).and("domain", json!("dc.mesos"));
    assert!(
        load(doc).is_ok(),
        "a zone that only ends with the same characters is not inside the domain"
    );
}

#[test]
fn credentials_without_basic_authentication_warn() {
    let (_, warnings) = load(with("mesosCredentials", json!({"principal": "p", "secret": "s"}))).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("mesosCredentials"));
}

#[test]
fn the_unused_kind_of_credentials_warns() {
    let creds = json!({"principal": "p", "secret": "s"});
    let mut iam = with("mesosAuthentication", json!("iam"));
    iam["IAMConfigFile"] = json!("/etc/mesos-dns/iam.json");
    iam["mesosCredentials"] = creds.clone();
    let (c, warnings) = load(iam).unwrap();
    assert_eq!(c.iam_config_file, "/etc/mesos-dns/iam.json");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("`mesosCredentials`") && warnings[0].contains("`iam`"));

    let mut basic = with("mesosAuthentication", json!("Basic"));
    basic["mesosCredentials"] = creds;
    basic["iamconfigfile"] = json!("/etc/mesos-dns/iam.json");
    let (_, warnings) = load(basic).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("`IAMConfigFile`") && warnings[0].contains("`basic`"));
}

#[test]
fn secret_never_appears_in_to_json_or_debug() {
    let doc = json!({
        "masters": ["m:1"], "mesosAuthentication": "basic", "zk": "zk://dns:zkpass@zk1:2181/mesos",
        "mesosCredentials": {"principal": "dns", "secret": "hunter2"}
    });
    let (c, _) = load(doc).unwrap();
    let json = c.to_json();
    assert_eq!(
        json["MesosCredentials"],
        json!({"Principal": "dns", "Secret": "<redacted>"})
    );
    assert_eq!(json["Zk"], json!("zk://dns:<redacted>@zk1:2181/mesos"));
    let text = json.to_string();
    assert!(!text.contains("hunter2") && !text.contains("zkpass"), "{text}");
    let debug = format!("{c:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
}

#[test]
fn a_bad_secret_value_is_not_echoed_in_the_error() {
    let err = load(with(
        "mesosCredentials",
        json!({"principal": "p", "secret": ["hunter2"]}),
    ))
    .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn to_json_uses_the_original_spellings_and_loads_back() {
    let (c, _) = Config::from_json(SEED).unwrap();
    let json = c.to_json();
    assert_eq!(json["Masters"], json!(["10.41.40.151:5050"]));
    assert_eq!(json["RefreshSeconds"], json!(60));
    assert_eq!(json["TTL"], json!(60));
    assert_eq!(json["HttpPort"], json!(8123));
    assert_eq!(json["DnsOn"], json!(true));
    assert_eq!(json["HTTPListener"], json!("0.0.0.0"));
    assert_eq!(json["Resolvers"], json!(["169.254.169.254:53", "10.0.0.1:53"]));
    assert_eq!(json["SOARname"], json!("root.mesos-dns.mesos."));
    assert_eq!(json["IPSources"], json!(["netinfo", "mesos", "host"]));
    assert_eq!(json["MesosCredentials"], json!({"Principal": "", "Secret": ""}));
    assert_eq!(json["File"], json!(""), "parsed from text, not loaded from a file");
    assert_eq!(json["PTROn"], json!(false));
    let (again, warnings) = load(json).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(again, c);
}

#[test]
fn example_config_parses_cleanly_and_only_talks_to_loopback() {
    let (c, warnings) = Config::from_json(include_str!("../../config.json.example")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(!c.resolvers.is_empty());
    assert!(c.resolvers.iter().all(|r| r.ip().is_loopback()), "{:?}", c.resolvers);
    assert!(c.zone_resolvers.values().flatten().all(|r| r.ip().is_loopback()));
    assert!(c.listener.is_loopback() && c.http_listener.is_loopback());
    assert!(c.masters.iter().all(|m| m.starts_with("127.0.0.1:")), "{:?}", c.masters);
    assert!(c.zk.is_none());
    assert_ne!(c.port, 53, "the example must run without root");
}

#[test]
fn ptron_matches_case_insensitively_and_shows_in_to_json() {
    for key in ["PTROn", "ptron", "PtrOn"] {
        let (c, warnings) = load(with(key, json!(true))).unwrap();
        assert!(warnings.is_empty(), "{key}: {warnings:?}");
        assert!(c.ptr_on, "{key}");
        assert_eq!(c.to_json()["PTROn"], json!(true));
        assert_eq!(load(c.to_json()).unwrap().0, c);
    }
}

#[test]
fn state_source_defaults_to_poll_and_accepts_stream_in_any_case() {
    assert_eq!(load(with("x", json!(1))).unwrap().0.state_source, StateSourceMode::Poll);
    for v in ["stream", "Stream", "STREAM"] {
        let (c, warnings) = load(with("stateSource", json!(v))).unwrap();
        assert_eq!(c.state_source, StateSourceMode::Stream, "{v}");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(c.to_json()["StateSource"], "stream");
    }
    assert_eq!(
        load(with("statesource", json!("poll"))).unwrap().0.state_source,
        StateSourceMode::Poll
    );
    assert_eq!(error_key(with("stateSource", json!("push"))), "stateSource");
    assert_eq!(error_key(with("stateSource", json!(true))), "stateSource");
}

/// Every key the original's `records.Config` marshals to JSON (`/v1/config`), as encoding/json spells
/// them: the Go field names, `HttpPort`, `DnsOn` and `HttpOn` from their tags.
const ORIGINAL_CONFIG_KEYS: &[&str] = &[
    "RefreshSeconds",
    "Port",
    "Timeout",
    "StateTimeoutSeconds",
    "ZkDetectionTimeout",
    "HttpPort",
    "TTL",
    "SRVRecordDefaultWeight",
    "SOASerial",
    "SOARefresh",
    "SOARetry",
    "SOAExpire",
    "SOAMinttl",
    "SOAMname",
    "SOARname",
    "Masters",
    "ZoneResolvers",
    "Resolvers",
    "IPSources",
    "Zk",
    "Domain",
    "File",
    "Listener",
    "HTTPListener",
    "RecurseOn",
    "DnsOn",
    "HttpOn",
    "ExternalOn",
    "EnforceRFC952",
    "SetTruncateBit",
    "EnumerationOn",
    "MesosHTTPSOn",
    "CACertFile",
    "CertFile",
    "KeyFile",
    "MesosCredentials",
    "IAMConfigFile",
    "MesosAuthentication",
];

#[test]
fn to_json_has_every_key_of_the_original_but_the_serial_and_our_two() {
    let json = Config::default().to_json();
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.push("SOASerial"); // added by the HTTP API from the records' serial
    keys.sort_unstable();
    let mut expected = ORIGINAL_CONFIG_KEYS.to_vec();
    expected.extend(["PTROn", "StateSource"]);
    expected.sort_unstable();
    assert_eq!(keys, expected);
    // The JSON types encoding/json gives those fields.
    assert_eq!(json["MesosAuthentication"], json!(""));
    assert_eq!(json["ZkDetectionTimeout"], json!(30));
    assert_eq!(json["SRVRecordDefaultWeight"], json!(1));
    assert_eq!(json["ZoneResolvers"], json!({}));
    assert_eq!(json["Masters"], json!([]));
    assert_eq!(json["IAMConfigFile"], json!(""));
}

#[test]
fn load_remembers_the_absolute_path_of_the_file_and_to_json_shows_it() {
    let dir = std::env::temp_dir().join(format!("mesos-dns-config-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.json");
    std::fs::write(&path, SEED).unwrap();
    let (c, _) = Config::load(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(c.file, path.display().to_string());
    assert!(Path::new(&c.file).is_absolute());
    let json = c.to_json();
    assert_eq!(json["File"], json!(path.display().to_string()));
    // `File` in a document is accepted (the original's own output loads back) and has no effect.
    let (again, warnings) = load(json).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(again.file, "");
}
