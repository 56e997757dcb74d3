//! The key table against itself and against `/v1/config`: every key is shown and loads back, and the
//! restart-only keys are exactly those whose change is seen.

use super::*;
use serde_json::json;

/// Every key set to a value other than its default (secrets aside, which `/v1/config` redacts).
fn every_key_set() -> Value {
    let mut doc = json!({
        "masters": ["10.0.0.1:5050"], "zk": "zk://127.0.0.1:2181/mesos", "zkDetectionTimeout": 0,
        "stateSource": "stream", "refreshSeconds": 5, "stateTimeoutSeconds": 7, "ttl": 9, "domain": "dc.mesos",
        "port": 5353, "listener": "127.0.0.1", "httpListener": "::1", "httpport": 8080, "dnson": true,
        "httpon": false, "resolvers": ["127.0.0.1"], "zoneResolvers": {"consul": ["127.0.0.2:8600"]},
        "timeout": 3, "externalon": false, "recurseon": false, "SOAMname": "ns.dc.mesos",
        "email": "admin@dc.mesos", "SOARname": "hostmaster.dc.mesos", "SOASerial": 12, "SOARefresh": 1,
        "SOARetry": 2, "SOAExpire": 3, "SOAMinttl": 4, "srvRecordDefaultWeight": 0, "IPSources": ["host"],
        "EnforceRFC952": true, "SetTruncateBit": false, "EnumerationOn": false, "PTROn": true,
        "mesosHTTPSOn": true, "caCertFile": "/ca.pem", "certFile": "/c.pem", "keyFile": "/k.pem",
        "IAMConfigFile": "/iam.json", "mesosCredentials": null, "mesosAuthentication": "iam", "File": "/x.json"
    });
    // A second literal: one holding every key passes `json!`'s recursion limit.
    let ours = json!({"unroutableNetworks": ["172.17.0.0/16", "fd00::/8"], "hideUnhealthyTasks": true});
    if let (Value::Object(all), Value::Object(ours)) = (&mut doc, ours) {
        all.extend(ours);
    }
    doc["staticRecordsFile"] = json!("/static.zone");
    doc["snapshotFile"] = json!("/var/lib/mesos-dns/snapshot");
    doc["snapshotMaxAgeSeconds"] = json!(3600);
    doc["udpReceiveBuffer"] = json!(0);
    doc["udpSendBuffer"] = json!(65536);
    doc["cacheOn"] = json!(false);
    doc["cacheMaxEntries"] = json!(500);
    doc["serveStaleSeconds"] = json!(0);
    doc["relayAllowFrom"] = json!(["10.0.0.0/8", "::1/128"]);
    doc["transferAllowFrom"] = json!(["127.0.0.0/8"]);
    doc["tsigKeys"] = json!([{"name": "xfr", "algorithm": "hmac-sha256", "secret": "c2VjcmV0LXNlY3JldC1zZWNyZXQ="}]);
    doc["cookieSecret"] = json!("e5e973e5a6b2a43f48e7dc849e37bfcf");
    doc["notify"] = json!(["127.0.0.1:5300"]);
    doc["ixfrJournalBytes"] = json!(1_000_000);
    doc["nameservers"] = json!(["ns2.example.com"]);
    doc["failoverGraceSeconds"] = json!(30);
    doc["aRecordLimit"] = json!(2);
    doc["preferLocalZone"] = json!(true);
    doc["rateLimit"] = json!(100);
    doc["rateLimitSlip"] = json!(3);
    doc["minVisibility"] = json!("CLUSTER");
    doc["excludeFrameworks"] = json!(["Chronos"]);
    doc["excludeTaskLabels"] = json!(["dns=off", "private"]);
    doc
}

#[test]
fn the_test_document_sets_every_key_of_the_table() {
    let doc = every_key_set();
    let given = doc.as_object().unwrap();
    let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
    assert_eq!(given.len(), names.len(), "{names:?}");
    for name in names {
        assert!(given.contains_key(name), "`{name}` is missing from the test document");
    }
}

#[test]
fn every_key_is_in_v1_config_under_its_own_letters_but_the_two_the_original_leaves_out_and_ours() {
    let (c, warnings) = Config::from_json(&every_key_set().to_string()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let json = c.to_json();
    let members = json.as_object().unwrap();
    let mut not_shown = Vec::new();
    for key in KEYS {
        match key.json {
            Some((name, _)) => {
                assert!(
                    name.eq_ignore_ascii_case(key.name),
                    "`{}` is shown as `{name}`",
                    key.name
                );
                assert!(members.contains_key(name), "`{name}` is not in {json}");
            }
            None => not_shown.push(key.name),
        }
    }
    // `email` is an old spelling of SOARname; the HTTP API adds `SOASerial` from the records; the
    // TSIG keys and the cookie secret are secrets.
    assert_eq!(not_shown, ["email", "SOASerial", "tsigKeys", "cookieSecret"]);
    assert_eq!(members.len(), KEYS.len() - not_shown.len());
}

#[test]
fn v1_config_loads_back_as_known_keys_to_the_same_config() {
    let (mut c, _) = Config::from_json(&every_key_set().to_string()).unwrap();
    let (again, warnings) = Config::from_json(&c.to_json().to_string()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    // `File` is where a config was loaded from, never read from a document; the TSIG keys are secrets,
    // not shown.
    assert!(again.tsig_keys.is_empty());
    c.tsig_keys.clear();
    assert_eq!(again.cookie_secret, None);
    c.cookie_secret = None;
    assert_eq!(again, c);
    let (c, _) = Config::from_json(r#"{"masters": ["m:1"]}"#).unwrap();
    let (again, warnings) = Config::from_json(&c.to_json().to_string()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(again, c);
}

#[test]
fn no_two_keys_share_a_spelling() {
    for (i, a) in KEYS.iter().enumerate() {
        for b in &KEYS[i + 1..] {
            assert!(!a.name.eq_ignore_ascii_case(b.name), "`{}` twice", a.name);
        }
    }
}

/// A value other than the default for each key that takes effect only at restart.
fn restart_only_change(key: &str) -> Option<Value> {
    Some(match key {
        "zk" => json!("zk://127.0.0.1:2181/mesos"),
        "port" => json!(5353),
        "listener" => json!("127.0.0.1"),
        "httpListener" => json!("127.0.0.1"),
        "httpport" => json!(8124),
        "dnson" => json!(false),
        "httpon" => json!(false),
        "udpReceiveBuffer" => json!(0),
        "udpSendBuffer" => json!(1 << 20),
        "externalon" => json!(false),
        "rateLimit" => json!(50),
        "rateLimitSlip" => json!(1),
        "transferAllowFrom" => json!(["10.0.0.0/8"]),
        "tsigKeys" => json!([{"name": "k", "secret": "MDEyMzQ1Njc4OWFiY2RlZg=="}]),
        "cookieSecret" => json!("e5e973e5a6b2a43f48e7dc849e37bfcf"),
        "notify" => json!(["10.0.0.2:53"]),
        _ => return None,
    })
}

fn load(doc: &Value) -> Config {
    Config::from_json(&doc.to_string()).unwrap().0
}

#[test]
fn the_sockets_relay_zookeeper_and_transfer_keys_are_restart_only_and_each_change_is_seen_alone() {
    let restart_only: Vec<&str> = KEYS
        .iter()
        .filter(|k| k.restart_only.is_some())
        .map(|k| k.name)
        .collect();
    assert_eq!(
        restart_only,
        [
            "zk",
            "port",
            "listener",
            "httpListener",
            "httpport",
            "dnson",
            "httpon",
            "udpReceiveBuffer",
            "udpSendBuffer",
            "externalon",
            "rateLimit",
            "rateLimitSlip",
            "transferAllowFrom",
            "tsigKeys",
            "cookieSecret",
            "notify"
        ]
    );
    let base = json!({"masters": ["10.0.0.1:5050"]});
    let old = load(&base);
    for key in restart_only {
        let mut doc = base.clone();
        doc[key] = restart_only_change(key).unwrap();
        let new = load(&doc);
        assert_eq!(old.changes_needing_restart(&new).collect::<Vec<_>>(), [key]);
        assert_eq!(new.changes_needing_restart(&new).count(), 0, "{key}");
    }
}

#[test]
fn other_changes_need_no_restart() {
    let old = load(&json!({"masters": ["10.0.0.1:5050"]}));
    let new = load(
        &every_key_set()
            .as_object()
            .unwrap()
            .iter()
            .fold(json!({}), |mut doc, (k, v)| {
                if restart_only_change(k).is_none() {
                    doc[k] = v.clone();
                }
                doc
            }),
    );
    assert_ne!(old, new);
    assert_eq!(old.changes_needing_restart(&new).count(), 0);
}

#[test]
fn a_zk_password_change_is_seen_though_not_shown() {
    let with_password = |p: &str| load(&json!({"zk": format!("zk://dns:{p}@127.0.0.1:2181/mesos")}));
    let (old, new) = (with_password("one"), with_password("two"));
    assert_eq!(old.to_json()["Zk"], new.to_json()["Zk"]);
    assert_eq!(old.changes_needing_restart(&new).collect::<Vec<_>>(), ["zk"]);
}

#[test]
fn tsig_keys_are_decoded_and_bad_ones_named() {
    let c =
        load(&json!({"masters": ["m:1"], "tsigKeys": [{"Name": "Xfr.Key.", "secret": "MDEyMzQ1Njc4OWFiY2RlZg=="}]}));
    assert_eq!(c.tsig_keys.len(), 1);
    assert_eq!(c.tsig_keys[0].name, "xfr.key.");
    assert_eq!(c.tsig_keys[0].algorithm, "hmac-sha256");
    assert_eq!(c.tsig_keys[0].secret, b"0123456789abcdef");
    assert!(
        !format!("{:?}", c.tsig_keys[0]).contains("0123"),
        "the secret is not in Debug"
    );
    let bad = |keys: Value| {
        Config::from_json(&json!({"masters": ["m:1"], "tsigKeys": keys}).to_string())
            .unwrap_err()
            .to_string()
    };
    let e = bad(json!([{"name": "k", "algorithm": "hmac-md5", "secret": "MDEyMzQ1Njc4OWFiY2RlZg=="}]));
    assert!(e.contains("`tsigKeys`") && e.contains("hmac-md5"), "{e}");
    let e = bad(json!([{"name": "k", "secret": "not base64!"}]));
    assert!(
        e.contains("`tsigKeys`") && e.contains("base64") && !e.contains("not base64!"),
        "{e}"
    );
    let e = bad(json!([{"name": "k", "secret": "c2hvcnQ="}]));
    assert!(e.contains("at least 16"), "{e}");
    let twice = json!({"name": "k", "secret": "MDEyMzQ1Njc4OWFiY2RlZg=="});
    assert!(bad(json!([twice, twice])).contains("twice"));
    let e = Config::from_json(&json!({"masters": ["m:1"], "notify": ["127.0.0.1"]}).to_string())
        .unwrap_err()
        .to_string();
    assert!(e.contains("`notify`") && e.contains("ip:port"), "{e}");
}
