//! Unit tests of the HTTP routes against snapshots of the tutorial cluster: the `/v1` documents are
//! compared whole with what the original's handlers write for the same state (read from its
//! `resolver.go`, `models.AXFR`, `records.EnumerationData`, `records.Config`).

use super::*;
use crate::records::from_state::build_snapshot;
use crate::records::taskid::push_task_hash;
use serde_json::Map;

const TUTORIAL: &[u8] = include_bytes!("../../tests/fixtures/tutorial-0.21.json");

fn snapshot(body: &[u8]) -> (Config, Arc<Records>) {
    let config = Config::default();
    let (records, list) = build_snapshot(
        &config,
        body,
        &[crate::addr::HostPort::parse("127.0.0.1:5050").unwrap()],
        &[],
        &|_| Vec::new(),
        1,
    )
    .unwrap();
    (config, Arc::new(records.with_list(list)))
}

pub(super) fn tutorial() -> (Config, Arc<Records>) {
    snapshot(TUTORIAL)
}

/// The id of the `web` task [`cluster`] adds.
const WEB_ID: &str = "web.9d4e2a10-b5c1-11e4-8c21-56847afe9799";

/// The tutorial plus a second framework also named `marathon-0.7.6` (another id) running `web` on
/// agent S2 (10.29.107.105) with a dual-stack container address and a discovery port, and a framework
/// `idle` whose only task has finished.
fn cluster_state() -> Value {
    let mut state: Value = serde_json::from_slice(TUTORIAL).unwrap();
    let frameworks = state["frameworks"].as_array_mut().unwrap();
    frameworks.push(json!({
        "id": "20150124-005312-2536286730-5050-1180-0001",
        "name": "marathon-0.7.6",
        "pid": "scheduler-2@10.41.40.152:35215",
        "tasks": [{
            "id": WEB_ID, "name": "web", "slave_id": "20150124-005312-2536286730-5050-1180-S2",
            "state": "TASK_RUNNING", "resources": {"ports": "[31500-31500]"},
            "statuses": [{"state": "TASK_RUNNING", "timestamp": 1422061000.5, "container_status": {
                "network_infos": [{"ip_addresses": [{"ip_address": "10.0.0.5"}, {"ip_address": "fd00::5"}]}]}}],
            "discovery": {"name": "web", "ports": {"ports": [{"number": 8080, "protocol": "tcp", "name": "http"}]}}
        }]
    }));
    frameworks.push(json!({
        "id": "20150124-005312-2536286730-5050-1180-0002",
        "name": "idle",
        "pid": "scheduler-3@10.41.40.153:41000",
        "tasks": [{"id": "done.1", "name": "done", "slave_id": "20150124-005312-2536286730-5050-1180-S0",
                   "state": "TASK_FINISHED"}]
    }));
    state
}

pub(super) fn cluster() -> (Config, Arc<Records>) {
    snapshot(&serde_json::to_vec(&cluster_state()).unwrap())
}

fn route_json(snapshot: &(Config, Arc<Records>), path: &str) -> (u16, Value) {
    let (config, records) = snapshot;
    let ctx = ApiContext {
        config,
        records,
        readiness: Ok(()),
        metrics: &|| "m 1\n".into(),
    };
    let r = route("GET", path, &ctx);
    assert_eq!(r.content_type, "application/json", "{path}");
    (r.status, serde_json::from_slice(&r.body.into_bytes()).unwrap())
}

fn get(path: &str) -> (u16, Value) {
    route_json(&tutorial(), path)
}

/// Key by key, so that a difference names its place.
fn assert_same_document(got: &Value, want: &Value, at: &str) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let (mut gk, mut wk): (Vec<&String>, Vec<&String>) = (g.keys().collect(), w.keys().collect());
            gk.sort();
            wk.sort();
            assert_eq!(gk, wk, "keys at {at}");
            for (k, v) in w {
                assert_same_document(&g[k], v, &format!("{at}.{k}"));
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "length at {at}: {got}");
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                assert_same_document(g, w, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(got, want, "at {at}"),
    }
}

const NGINX_TARGET: &str = "nginx-gwi91-s1.marathon-0.7.6.slave.mesos.";

/// `web-H-s2`, the canonical label of [`WEB_ID`] on S2.
fn web_canonical() -> String {
    let mut label = "web-".to_owned();
    push_task_hash(WEB_ID, &mut label);
    label.push_str("-s2");
    label
}

#[test]
fn web_canonical_is_the_hash_the_end_to_end_tests_expect() {
    assert_eq!(web_canonical(), "web-9tas1-s2");
}

#[test]
fn version_has_the_original_keys() {
    let (status, v) = get("/v1/version");
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({"Service": "Mesos-DNS", "Version": env!("CARGO_PKG_VERSION"), "URL": "https://github.com/mesosphere/mesos-dns"})
    );
}

#[test]
fn config_is_every_key_of_the_original_config_with_the_serial_of_the_records() {
    let (status, v) = get("/v1/config");
    assert_eq!(status, 200);
    // Go's records.Config through encoding/json (field names, the HttpPort/DnsOn/HttpOn tags), for the
    // defaults; Resolvers is empty (read from /etc/resolv.conf) and Masters [] where Go has null. Plus
    // ours: PTROn, StateSource, HideUnhealthyTasks, UnroutableNetworks, StaticRecordsFile, SnapshotFile,
    // SnapshotMaxAgeSeconds,
    // UDPReceiveBuffer, UDPSendBuffer, CacheOn, CacheMaxEntries, ServeStaleSeconds, RelayAllowFrom,
    // TransferAllowFrom, Notify, IXFRJournalBytes, Nameservers, FailoverGraceSeconds, ARecordLimit, RateLimit,
    // RateLimitSlip,
    // MinVisibility, ExcludeFrameworks, ExcludeTaskLabels.
    let mut want = json!({
        "RefreshSeconds": 60, "Port": 53, "Timeout": 5, "StateTimeoutSeconds": 300, "ZkDetectionTimeout": 30,
        "HttpPort": 8123, "TTL": 60, "SRVRecordDefaultWeight": 1,
        "SOASerial": 1, "SOARefresh": 60, "SOARetry": 600, "SOAExpire": 86400, "SOAMinttl": 60,
        "SOAMname": "ns1.mesos.", "SOARname": "root.ns1.mesos.",
        "Masters": [], "ZoneResolvers": {}, "Resolvers": [], "IPSources": ["netinfo", "mesos", "host"],
        "Zk": "", "Domain": "mesos", "File": "", "Listener": "0.0.0.0", "HTTPListener": "0.0.0.0",
        "RecurseOn": true, "DnsOn": true, "HttpOn": true, "ExternalOn": true, "EnforceRFC952": false,
        "SetTruncateBit": true, "EnumerationOn": true, "MesosHTTPSOn": false,
        "CACertFile": "", "CertFile": "", "KeyFile": "",
        "MesosCredentials": {"Principal": "", "Secret": ""}, "IAMConfigFile": "", "MesosAuthentication": "",
        "PTROn": false, "StateSource": "poll",
    });
    // A second statement: one literal with every key passes `json!`'s recursion limit.
    want["HideUnhealthyTasks"] = json!(false);
    want["UnroutableNetworks"] = json!([]);
    want["StaticRecordsFile"] = json!("");
    want["SnapshotFile"] = json!("");
    want["SnapshotMaxAgeSeconds"] = json!(86400);
    want["UDPReceiveBuffer"] = json!(4194304);
    want["UDPSendBuffer"] = json!(4194304);
    want["CacheOn"] = json!(true);
    want["CacheMaxEntries"] = json!(10000);
    want["ServeStaleSeconds"] = json!(86400);
    want["FailoverGraceSeconds"] = json!(300);
    want["ARecordLimit"] = json!(0);
    want["PreferLocalZone"] = json!(false);
    want["MinVisibility"] = json!("FRAMEWORK");
    want["ExcludeFrameworks"] = json!([]);
    want["ExcludeTaskLabels"] = json!([]);
    want["RelayAllowFrom"] = json!(crate::forward::acl::DEFAULT_ALLOW_FROM);
    want["RateLimit"] = json!(0);
    want["RateLimitSlip"] = json!(2);
    // Ours, for zone transfers (tsigKeys is not shown: secrets).
    want["TransferAllowFrom"] = json!([]);
    want["Notify"] = json!([]);
    want["IXFRJournalBytes"] = json!(16777216);
    want["Nameservers"] = json!([]);
    assert_same_document(&v, &want, "config");
}

#[test]
fn hosts_lists_addresses_case_insensitively_or_one_empty_entry() {
    for path in [
        "/v1/hosts/nginx.marathon-0.7.6.mesos",
        "/v1/hosts/NGINX.Marathon-0.7.6.mesos.",
        // The original's cleanWild: every `.*` is taken out.
        "/v1/hosts/nginx.*.marathon-0.7.6.mesos",
    ] {
        let (status, v) = get(path);
        assert_eq!(status, 200);
        assert_eq!(
            v,
            json!([{"host": "nginx.marathon-0.7.6.mesos.", "ip": "10.114.227.92"}]),
            "{path}"
        );
    }
    let (_, v) = get("/v1/hosts/slave.mesos");
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(get("/v1/hosts/nope.mesos").1, json!([{"host": "", "ip": ""}]));
    let (_, v) = route_json(&cluster(), "/v1/hosts/web.marathon-0.7.6.mesos");
    let host = "web.marathon-0.7.6.mesos.";
    assert_eq!(
        v,
        json!([{"host": host, "ip": "10.0.0.5"}, {"host": host, "ip": "fd00::5"}])
    );
}

#[test]
fn services_lists_srv_records_with_target_addresses() {
    let (status, v) = get("/v1/services/_nginx._tcp.marathon-0.7.6.mesos");
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!([{"service": "_nginx._tcp.marathon-0.7.6.mesos", "host": NGINX_TARGET, "ip": "10.114.227.92", "port": "31080"}])
    );
    assert_eq!(
        get("/v1/services/_nope._tcp.mesos").1,
        json!([{"service": "", "host": "", "ip": "", "port": ""}])
    );
}

#[test]
fn services_gives_a_dual_stack_target_one_entry_per_address_family() {
    // The original: for each SRV record, the target's first A and its first AAAA (As.First, AAAAs.First).
    let service = "_web._tcp.marathon-0.7.6.mesos";
    let (status, v) = route_json(&cluster(), &format!("/v1/services/{service}"));
    assert_eq!(status, 200);
    let host = format!("{}.marathon-0.7.6.mesos.", web_canonical());
    assert_eq!(
        v,
        json!([
            {"service": service, "host": host, "ip": "10.0.0.5", "port": "8080"},
            {"service": service, "host": host, "ip": "fd00::5", "port": "8080"},
        ])
    );
    // Two SRV records (two frameworks of one name): one entry each.
    let (_, v) = route_json(&cluster(), "/v1/services/_framework._tcp.marathon-0.7.6.mesos.");
    assert_eq!(
        v,
        json!([
            {"service": "_framework._tcp.marathon-0.7.6.mesos.", "host": "marathon-0.7.6.mesos.", "ip": "10.41.40.151", "port": "35214"},
            {"service": "_framework._tcp.marathon-0.7.6.mesos.", "host": "marathon-0.7.6.mesos.", "ip": "10.41.40.151", "port": "35215"},
        ])
    );
}

#[test]
fn ports_lists_the_srv_records_pointing_at_a_host() {
    let (status, v) = get(&format!("/v1/hosts/{NGINX_TARGET}/ports"));
    assert_eq!(status, 200);
    let mut services: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["service"].as_str().unwrap().to_string())
        .collect();
    services.sort();
    assert_eq!(
        services,
        [
            "_nginx._tcp.marathon-0.7.6.mesos.",
            "_nginx._tcp.marathon-0.7.6.slave.mesos.",
            "_nginx._udp.marathon-0.7.6.mesos.",
            "_nginx._udp.marathon-0.7.6.slave.mesos."
        ]
    );
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["port"] == "31080" && e["host"] == NGINX_TARGET));
}

#[test]
fn health_ready_metrics_and_errors() {
    let (config, records) = tutorial();
    let not_ready = ApiContext {
        config: &config,
        records: &records,
        readiness: Err("no successful refresh yet".into()),
        metrics: &|| "mesos_dns_x 1\n".into(),
    };
    assert_eq!(route("GET", "/health", &not_ready).status, 200);
    let r = route("GET", "/ready", &not_ready);
    assert_eq!(r.status, 503);
    let v: Value = serde_json::from_slice(&r.body.into_bytes()).unwrap();
    assert_eq!(v["reason"], "no successful refresh yet");
    let m = route("GET", "/metrics?x=1", &not_ready);
    assert_eq!(
        (m.status, m.content_type, m.body.into_bytes()),
        (
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            b"mesos_dns_x 1\n".to_vec()
        )
    );
    let post = route("POST", "/v1/version", &not_ready);
    assert_eq!((post.status, post.allow), (405, Some("GET, HEAD")));
    assert_eq!(route("GET", "/v2/nothing", &not_ready).status, 404);
    assert_eq!(route("GET", "/v1/hosts", &not_ready).status, 404);
}

/// `{"name", "host", "rtype"}`, one record of a task in `/v1/enumerate`.
fn rec(name: &str, host: &str, rtype: &str) -> Value {
    json!({"name": name, "host": host, "rtype": rtype})
}

/// The records the original lists for a tutorial task without discovery info on one agent address:
/// A short and canonical names, then under `slave`, then SRV (`slave` tcp, udp, then without it).
fn plain_task_records(t: &str, canonical: &str, ip: &str, port: u16) -> Value {
    let f = "marathon-0.7.6";
    let target = format!("{canonical}.{f}.slave.mesos.:{port}");
    json!([
        rec(&format!("{t}.{f}.mesos."), ip, "A"),
        rec(&format!("{canonical}.{f}.mesos."), ip, "A"),
        rec(&format!("{t}.{f}.slave.mesos."), ip, "A"),
        rec(&format!("{canonical}.{f}.slave.mesos."), ip, "A"),
        rec(&format!("_{t}._tcp.{f}.slave.mesos."), &target, "SRV"),
        rec(&format!("_{t}._udp.{f}.slave.mesos."), &target, "SRV"),
        rec(&format!("_{t}._tcp.{f}.mesos."), &target, "SRV"),
        rec(&format!("_{t}._udp.{f}.mesos."), &target, "SRV"),
    ])
}

fn tutorial_tasks() -> Value {
    json!([
        {"name": "mesos-dns", "id": "mesos-dns.5d3c1d2e-a36b-11e4-8c21-56847afe9799",
         "records": plain_task_records("mesos-dns", "mesos-dns-uhgs6-s0", "10.14.245.208", 31053)},
        {"name": "nginx", "id": "nginx.7a1e0000-a36d-11e4-8c21-56847afe9799",
         "records": plain_task_records("nginx", "nginx-gwi91-s1", "10.114.227.92", 31080)},
    ])
}

#[test]
fn enumerate_is_the_original_enumeration_data() {
    let (status, v) = get("/v1/enumerate");
    assert_eq!(status, 200);
    let want = json!({"frameworks": [{"name": "marathon-0.7.6", "tasks": tutorial_tasks()}]});
    assert_same_document(&v, &want, "enumerate");
}

#[test]
fn enumerate_lists_every_framework_apart_with_or_without_tasks() {
    let (_, v) = route_json(&cluster(), "/v1/enumerate");
    let c = web_canonical();
    let (f, d) = ("marathon-0.7.6", "mesos");
    let slave_target = format!("{c}.{f}.slave.{d}.:31500");
    let target = format!("{c}.{f}.{d}.:8080");
    // Address by address, short then canonical name; agent addresses; SRV for the port resources (only
    // under `slave`, as the task has discovery info), then the discovery port, unnamed then named.
    let web_records = json!([
        rec(&format!("web.{f}.{d}."), "10.0.0.5", "A"),
        rec(&format!("{c}.{f}.{d}."), "10.0.0.5", "A"),
        rec(&format!("web.{f}.{d}."), "fd00::5", "AAAA"),
        rec(&format!("{c}.{f}.{d}."), "fd00::5", "AAAA"),
        rec(&format!("web.{f}.slave.{d}."), "10.29.107.105", "A"),
        rec(&format!("{c}.{f}.slave.{d}."), "10.29.107.105", "A"),
        rec(&format!("_web._tcp.{f}.slave.{d}."), &slave_target, "SRV"),
        rec(&format!("_web._udp.{f}.slave.{d}."), &slave_target, "SRV"),
        rec(&format!("_web._tcp.{f}.{d}."), &target, "SRV"),
        rec(&format!("_http._web._tcp.{f}.{d}."), &target, "SRV"),
    ]);
    let want = json!({"frameworks": [
        {"name": "marathon-0.7.6", "tasks": tutorial_tasks()},
        {"name": "marathon-0.7.6", "tasks": [{"name": "web", "id": WEB_ID, "records": web_records}]},
        {"name": "idle", "tasks": []},
    ]});
    assert_same_document(&v, &want, "enumerate");
}

/// The tutorial's record sets as the original's `ToAXFRResourceRecordSet` gives them (less
/// `ns1.mesos.`: this snapshot has no server address).
fn tutorial_record_sets() -> (Map<String, Value>, Map<String, Value>) {
    let f = "marathon-0.7.6";
    let mut a = Map::new();
    let mut srv = Map::new();
    for (name, ips) in [
        ("leader.mesos.".to_owned(), vec!["127.0.0.1"]),
        ("master.mesos.".into(), vec!["127.0.0.1"]),
        ("master0.mesos.".into(), vec!["127.0.0.1"]),
        (format!("{f}.mesos."), vec!["10.41.40.151"]),
        (
            "slave.mesos.".into(),
            vec!["10.14.245.208", "10.114.227.92", "10.29.107.105"],
        ),
    ] {
        a.insert(name, json!(ips));
    }
    for (t, canonical, ip, port) in [
        ("mesos-dns", "mesos-dns-uhgs6-s0", "10.14.245.208", 31053),
        ("nginx", "nginx-gwi91-s1", "10.114.227.92", 31080),
    ] {
        for name in [
            format!("{t}.{f}.mesos."),
            format!("{canonical}.{f}.mesos."),
            format!("{t}.{f}.slave.mesos."),
            format!("{canonical}.{f}.slave.mesos."),
        ] {
            a.insert(name, json!([ip]));
        }
        for proto in ["_tcp", "_udp"] {
            for under in [format!("{f}.mesos."), format!("{f}.slave.mesos.")] {
                srv.insert(
                    format!("_{t}.{proto}.{under}"),
                    json!([format!("{canonical}.{f}.slave.mesos.:{port}")]),
                );
            }
        }
    }
    srv.insert(
        "_framework._tcp.marathon-0.7.6.mesos.".into(),
        json!(["marathon-0.7.6.mesos.:35214"]),
    );
    srv.insert("_slave._tcp.mesos.".into(), json!(["slave.mesos.:5051"]));
    srv.insert("_leader._tcp.mesos.".into(), json!(["leader.mesos.:5050"]));
    srv.insert("_leader._udp.mesos.".into(), json!(["leader.mesos.:5050"]));
    (a, srv)
}

#[test]
fn axfr_is_the_original_axfr_model() {
    let (status, v) = get("/v1/axfr");
    assert_eq!(status, 200);
    let (a, srv) = tutorial_record_sets();
    let want = json!({
        "TTL": 60, "Serial": 1, "RefreshSeconds": 60, "Mname": "ns1.mesos.", "Rname": "root.ns1.mesos.",
        "Domain": "mesos",
        "Records": {"As": a, "AAAAs": {}, "SRVs": srv},
    });
    assert_same_document(&v, &want, "axfr");
    let listed: usize = ["As", "AAAAs", "SRVs"]
        .iter()
        .flat_map(|t| v["Records"][t].as_object().unwrap().values())
        .map(|l| l.as_array().unwrap().len())
        .sum();
    let (a, aaaa, srv) = tutorial().1.counts();
    assert_eq!(listed, a + aaaa + srv, "every record of the snapshot");
}

#[test]
fn axfr_has_aaaa_sets_and_takes_refresh_seconds_from_the_config() {
    let (mut config, records) = cluster();
    config.refresh_seconds = 7;
    let (_, v) = route_json(&(config, records), "/v1/axfr");
    assert_eq!(v["RefreshSeconds"], 7);
    let c = web_canonical();
    let aaaa = json!({
        "web.marathon-0.7.6.mesos.": ["fd00::5"],
        format!("{c}.marathon-0.7.6.mesos."): ["fd00::5"],
    });
    assert_same_document(&v["Records"]["AAAAs"], &aaaa, "AAAAs");
    assert_eq!(
        v["Records"]["As"]["marathon-0.7.6.mesos."],
        json!(["10.41.40.151", "10.41.40.152"])
    );
    assert_eq!(v["Records"]["As"]["idle.mesos."], json!(["10.41.40.153"]));
    assert_eq!(
        v["Records"]["SRVs"]["_framework._tcp.marathon-0.7.6.mesos."],
        json!(["marathon-0.7.6.mesos.:35214", "marathon-0.7.6.mesos.:35215"])
    );
    assert_eq!(
        v["Records"]["SRVs"]["_http._web._tcp.marathon-0.7.6.mesos."],
        json!([format!("{c}.marathon-0.7.6.mesos.:8080")])
    );
}

#[test]
fn enumeration_off_hides_enumerate_and_axfr() {
    let (mut config, records) = tutorial();
    config.enumeration_on = false;
    let ctx = ApiContext {
        config: &config,
        records: &records,
        readiness: Ok(()),
        metrics: &String::new,
    };
    assert_eq!(route("GET", "/v1/enumerate", &ctx).status, 404);
    assert_eq!(route("GET", "/v1/axfr", &ctx).status, 404);
}
