//! `/v1/config`'s document: the original's spellings, every key, and loading it back.

use super::*;

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
    let (c, warnings) = Config::from_json(include_str!("../../../config.json.example")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(!c.resolvers.is_empty());
    assert!(c.resolvers.iter().all(|r| r.ip().is_loopback()), "{:?}", c.resolvers);
    assert!(c.zone_resolvers.values().flatten().all(|r| r.ip().is_loopback()));
    assert!(c.listener.is_loopback() && c.http_listener.is_loopback());
    assert!(
        c.masters
            .iter()
            .all(|m| m.host().ip().is_some_and(|ip| ip == Ipv4Addr::LOCALHOST)),
        "{:?}",
        c.masters
    );
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
fn to_json_has_every_key_of_the_original_but_the_serial_and_ours() {
    let json = Config::default().to_json();
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.push("SOASerial"); // added by the HTTP API from the records' serial
    keys.sort_unstable();
    let mut expected = ORIGINAL_CONFIG_KEYS.to_vec();
    expected.extend([
        "PTROn",
        "StateSource",
        "HideUnhealthyTasks",
        "UnroutableNetworks",
        "StaticRecordsFile",
        "SnapshotFile",
        "SnapshotMaxAgeSeconds",
        "UDPReceiveBuffer",
        "UDPSendBuffer",
        "CacheOn",
        "CacheMaxEntries",
        "ServeStaleSeconds",
        "RelayAllowFrom",
        "TransferAllowFrom",
        "Notify",
        "IXFRJournalBytes",
        "Nameservers",
        "FailoverGraceSeconds",
        "ARecordLimit",
        "PreferLocalZone",
        "RateLimit",
        "RateLimitSlip",
        "MinVisibility",
        "ExcludeFrameworks",
        "ExcludeTaskLabels",
    ]);
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
fn masters_show_as_host_port_strings_that_load_back() {
    let (c, _) = load(json!({"masters": ["10.0.0.1:5050", "[2001:DB8::1]:5050", "Master-2.Example:5050"]})).unwrap();
    let json = c.to_json();
    assert_eq!(
        json["Masters"],
        json!(["10.0.0.1:5050", "[2001:db8::1]:5050", "master-2.example:5050"])
    );
    let (again, _) = Config::from_json(&json.to_string()).unwrap();
    assert_eq!(again.masters, c.masters);
}

#[test]
fn load_remembers_the_absolute_path_of_the_file_and_to_json_shows_it() {
    let dir = std::env::temp_dir().join(format!("mesos-dns-config-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.json");
    std::fs::write(&path, SEED).unwrap();
    let (c, _) = Config::load(Some(&path), &Default::default()).unwrap();
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

#[test]
fn relay_allow_from_absent_is_loopback_and_private_networks_and_empty_is_nobody_with_a_warning() {
    let (absent, warnings) = Config::from_json(r#"{"masters": ["10.0.0.1:5050"]}"#).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let shown: Vec<String> = absent.relay_allow_from.iter().map(|n| n.to_string()).collect();
    assert_eq!(shown, crate::forward::acl::DEFAULT_ALLOW_FROM);
    let (empty, warnings) = Config::from_json(r#"{"masters": ["10.0.0.1:5050"], "relayAllowFrom": []}"#).unwrap();
    assert!(empty.relay_allow_from.is_empty());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("`relayAllowFrom` is []: no client"),
        "{warnings:?}"
    );
    let (all, _) =
        Config::from_json(r#"{"masters": ["10.0.0.1:5050"], "relayAllowFrom": ["0.0.0.0/0", "::/0"]}"#).unwrap();
    assert_eq!(
        all.to_json()["RelayAllowFrom"],
        serde_json::json!(["0.0.0.0/0", "::/0"])
    );
}
