//! Every bad value is refused with a message naming its key; odd values that are accepted.

use super::*;

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
        (with("udpReceiveBuffer", json!(-1)), "udpReceiveBuffer"),
        (with("udpSendBuffer", json!(3_000_000_000u64)), "udpSendBuffer"),
        (with("udpSendBuffer", json!("4M")), "udpSendBuffer"),
        (with("cacheOn", json!("yes")), "cacheOn"),
        (with("cacheMaxEntries", json!(0)), "cacheMaxEntries"),
        (with("cacheMaxEntries", json!(2_000_000)), "cacheMaxEntries"),
        (with("serveStaleSeconds", json!(-5)), "serveStaleSeconds"),
        (with("aRecordLimit", json!(-1)), "aRecordLimit"),
        (with("aRecordLimit", json!(65536)), "aRecordLimit"),
        (with("relayAllowFrom", json!(["10.0.0.1"])), "relayAllowFrom"),
        (with("relayAllowFrom", json!("10.0.0.0/8")), "relayAllowFrom"),
        (with("rateLimit", json!(-1)), "rateLimit"),
        (with("rateLimit", json!(2_000_000)), "rateLimit"),
        (with("rateLimitSlip", json!(101)), "rateLimitSlip"),
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
        (with("unroutableNetworks", json!(["172.17.0.0"])), "unroutableNetworks"),
        (with("unroutableNetworks", json!(["fd00::/129"])), "unroutableNetworks"),
        (with("unroutableNetworks", json!("172.17.0.0/16")), "unroutableNetworks"),
        (with("hideUnhealthyTasks", json!("true")), "hideUnhealthyTasks"),
        (with("minVisibility", json!("PUBLIC")), "minVisibility"),
        (with("minVisibility", json!(1)), "minVisibility"),
        (with("excludeFrameworks", json!([1])), "excludeFrameworks"),
        (with("excludeTaskLabels", json!(["=x"])), "excludeTaskLabels"),
        (with("excludeTaskLabels", json!([""])), "excludeTaskLabels"),
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
    let err = load(with("unroutableNetworks", json!(["10.0.0.0/8", "docker0"]))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "config key `unroutableNetworks`: `docker0` is not a network: expected address/prefix, such as \
         172.17.0.0/16 or fd00::/8"
    );
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
fn a_cookie_secret_is_16_bytes_of_hex() {
    let (c, _) = load(with("cookieSecret", json!("E5e973e5a6b2a43f48e7dc849e37bfcf"))).unwrap();
    assert_eq!(c.cookie_secret.map(|s| (s[0], s[15])), Some((0xe5, 0xcf)));
    assert_eq!(
        load(with("listener", json!("127.0.0.1"))).unwrap().0.cookie_secret,
        None
    );
    for bad in [
        json!("e5e973e5a6b2a43f48e7dc849e37bf"),
        json!("g5e973e5a6b2a43f48e7dc849e37bfcf"),
        json!(16),
    ] {
        let e = load(with("cookieSecret", bad.clone())).unwrap_err().to_string();
        assert!(e.contains("cookieSecret"), "{bad}: {e}");
    }
}
