//! The HTTP API over loopback with a real HTTP client: every endpoint's status, content type and JSON
//! shape against the tutorial state (the `/v1/config`, `/v1/axfr` and `/v1/enumerate` documents whole,
//! as the original's handlers write them for the same state), `/metrics` checked by the Prometheus
//! project's own text parser (the `prometheus-client` Python package), bad requests, and a slow reader of a
//! big streamed document (DNS answered meanwhile, memory bounded, closed after the idle timeout).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{json, Map, Value};

/// A server on the tutorial state with the HTTP API on a free loopback port.
fn api_server() -> (FakeMaster, Server, u16) {
    let master = FakeMaster::serving(tutorial());
    let http_port = free_port();
    let server = Server::start_with(
        &[master.addr()],
        json!({ "httpon": true, "httpListener": "127.0.0.1", "httpport": http_port }),
    );
    server.wait_loaded();
    (master, server, http_port)
}

/// A server with the HTTP API on `state`; also the absolute path of its config file.
fn api_server_on(state: Value) -> (FakeMaster, Server, u16, PathBuf) {
    api_server_with(state, json!({}))
}

/// [`api_server_on`] with `extra` config keys.
fn api_server_with(state: Value, extra: Value) -> (FakeMaster, Server, u16, PathBuf) {
    let master = FakeMaster::serving(state);
    let http_port = free_port();
    let mut keys = json!({ "httpon": true, "httpListener": "127.0.0.1", "httpport": http_port });
    if let (Some(k), Some(e)) = (keys.as_object_mut(), extra.as_object()) {
        k.extend(e.clone());
    }
    let cfg = TestConfig::write(&[master.addr()], keys);
    let path = cfg.path.clone();
    let args = ["-v".to_owned(), format!("-config={}", path.display())];
    let server = Server::spawn(&args, cfg.port, cfg.dir);
    server.wait_loaded();
    (master, server, http_port, path)
}

/// The id of the `web` task [`cluster`] adds, and its canonical label on S2 (`T-H-S`, `H` the
/// original's zbase32 of the id's SHA-1: "9tas1").
const WEB_ID: &str = "web.9d4e2a10-b5c1-11e4-8c21-56847afe9799";
const WEB: &str = "web-9tas1-s2";

/// The tutorial plus a second framework also named `marathon-0.7.6` (another id) running `web` on
/// agent S2 with a dual-stack container address and a discovery port, and a framework `idle` whose
/// only task has finished. Framework pids are data only: nothing contacts them.
fn cluster() -> Value {
    let mut state = tutorial();
    let frameworks = state["frameworks"].as_array_mut().unwrap();
    frameworks.push(json!({
        "id": "20150124-005312-2536286730-5050-1180-0001",
        "name": "marathon-0.7.6",
        "pid": "scheduler-2@10.41.40.152:35215",
        "tasks": [{
            "id": WEB_ID, "name": "web", "slave_id": TUTORIAL_S2,
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
        "tasks": [{"id": "done.1", "name": "done", "slave_id": TUTORIAL_S0, "state": "TASK_FINISHED"}]
    }));
    state
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

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A serial is the time of a refresh (Unix seconds): between the test's start and now.
fn assert_refresh_time(serial: &Value, since: u64) {
    let now = unix_now();
    let serial = serial.as_u64().unwrap_or_else(|| panic!("serial {serial}"));
    assert!(
        since <= serial && serial <= now + 1,
        "serial {serial} not in {since}..={now}"
    );
}

/// GET (or another method) with ureq; (status, content type, body).
fn request(port: u16, method: &str, path: &str) -> (u16, String, String) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build(),
    );
    let url = format!("http://127.0.0.1:{port}{path}");
    let mut resp = match method {
        "GET" => agent.get(&url).call(),
        "DELETE" => agent.delete(&url).call(),
        other => panic!("method {other}"),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    (resp.status().as_u16(), content_type, body)
}

fn get_json(port: u16, path: &str) -> (u16, Value) {
    let (status, content_type, body) = request(port, "GET", path);
    assert_eq!(content_type, "application/json", "{path}");
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")),
    )
}

#[test]
fn the_original_endpoints_answer_with_the_original_shapes() {
    let (_master, _server, port) = api_server();
    let (status, v) = get_json(port, "/v1/version");
    assert_eq!(status, 200);
    assert_eq!(v["Service"], "Mesos-DNS");
    let (status, v) = get_json(port, &format!("/v1/hosts/{NGINX}"));
    assert_eq!(status, 200);
    assert_eq!(v, json!([{"host": format!("{NGINX}."), "ip": NGINX_IP.to_string()}]));
    assert_eq!(
        get_json(port, "/v1/hosts/nothing.mesos").1,
        json!([{"host": "", "ip": ""}])
    );
    let service = "_nginx._tcp.marathon-0.7.6.mesos";
    let (status, v) = get_json(port, &format!("/v1/services/{service}"));
    assert_eq!(status, 200);
    let entry = &v[0];
    assert_eq!(
        (entry["service"].as_str(), entry["ip"].as_str(), entry["port"].as_str()),
        (Some(service), Some("10.114.227.92"), Some("31080"))
    );
    let target = entry["host"].as_str().unwrap().to_string();
    assert!(
        target.starts_with("nginx-") && target.ends_with(".marathon-0.7.6.slave.mesos."),
        "{target}"
    );
    let (status, v) = get_json(port, &format!("/v1/hosts/{target}/ports"));
    assert_eq!(status, 200);
    assert_eq!(
        v.as_array().unwrap().len(),
        4,
        "tcp and udp, under the framework and under slave: {v}"
    );
    // The original's cleanWild: `.*` is taken out of the name.
    assert_eq!(
        get_json(port, "/v1/hosts/nginx.*.marathon-0.7.6.mesos").1,
        json!([{"host": format!("{NGINX}."), "ip": NGINX_IP.to_string()}])
    );
    assert_eq!(
        get_json(port, "/v1/services/_nope._tcp.mesos").1,
        json!([{"service": "", "host": "", "ip": "", "port": ""}])
    );
}

#[test]
fn health_and_ready() {
    let (_master, _server, port) = api_server();
    assert_eq!(get_json(port, "/health"), (200, json!({"status": "ok"})));
    assert_eq!(get_json(port, "/ready"), (200, json!({"status": "ready"})));
}

#[test]
fn not_ready_before_the_first_refresh() {
    let master = FakeMaster::start();
    master.set_status(500);
    let http_port = free_port();
    let _server = Server::start_with(
        &[master.addr()],
        json!({ "httpon": true, "httpListener": "127.0.0.1", "httpport": http_port }),
    );
    let (status, v) = get_json(http_port, "/ready");
    assert_eq!(status, 503);
    assert_eq!(v["reason"], "no successful refresh yet");
    assert_eq!(get_json(http_port, "/health").0, 200, "alive all the same");
}

#[test]
fn metrics_parse_with_the_prometheus_parser_and_count_queries() {
    let (_master, server, port) = api_server();
    for _ in 0..3 {
        server.ask(NGINX, dns::A, Transport::Udp);
    }
    server.ask("nothing.mesos", dns::A, Transport::Tcp);
    let (status, content_type, body) = request(port, "GET", "/metrics");
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    // The Prometheus client library's parser: it rejects malformed exposition text.
    let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families\n\
                  for f in text_string_to_metric_families(sys.stdin.read()):\n\
                  \x20   for s in f.samples:\n\
                  \x20       print(s.name, ','.join(f'{k}={v}' for k, v in sorted(s.labels.items())), s.value)\n";
    let mut py = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    py.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = py.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser rejected /metrics (pip install prometheus-client): {}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    let samples = String::from_utf8_lossy(&out.stdout);
    let value = |name: &str, labels: &str| -> f64 {
        samples
            .lines()
            .find_map(|l| {
                let mut p = l.split(' ');
                (p.next() == Some(name) && p.next() == Some(labels)).then(|| p.next().unwrap().parse().unwrap())
            })
            .unwrap_or_else(|| panic!("no sample {name}{{{labels}}} in:\n{samples}"))
    };
    assert!(value("mesos_dns_dns_queries_total", "kind=authoritative,transport=udp") >= 3.0);
    assert_eq!(
        value("mesos_dns_dns_responses_total", "rcode=NXDOMAIN,transport=tcp"),
        1.0
    );
    assert_eq!(value("mesos_dns_records", "type=A"), 16.0);
    assert!(value("mesos_dns_refreshes_total", "result=success") >= 1.0);
    assert!(value("mesos_dns_last_refresh_timestamp_seconds", "") > 1.7e9);
    assert!(value("mesos_dns_snapshot_age_seconds", "") < 60.0);
}

#[test]
fn bad_requests_get_the_right_status() {
    let (_master, _server, port) = api_server();
    let (status, _, _) = request(port, "GET", "/v2/unknown");
    assert_eq!(status, 404);
    let (status, _, _) = request(port, "DELETE", "/v1/version");
    assert_eq!(status, 405);
    // Raw bytes for what a client library will not send.
    let raw = |bytes: &[u8]| -> String {
        let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        conn.write_all(bytes).unwrap();
        let mut out = String::new();
        let _ = conn.read_to_string(&mut out);
        out
    };
    assert!(raw(b"NONSENSE\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(raw(b"GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc").starts_with("HTTP/1.1 413"));
    let many: Vec<u8> = [
        b"GET /health HTTP/1.1\r\n".to_vec(),
        b"X-A: b\r\n".repeat(50),
        b"\r\n".to_vec(),
    ]
    .concat();
    assert!(raw(&many).starts_with("HTTP/1.1 431"));
    // Pipelined keep-alive requests are answered in order on one connection.
    let two = raw(b"GET /health HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\nConnection: close\r\n\r\n");
    let (first, second) = (two.find("200 OK").unwrap(), two.find("404 Not Found").unwrap());
    assert!(first < second, "{two}");
}

#[test]
fn config_is_the_original_config_document_with_our_own_keys() {
    let since = unix_now();
    let (master, server, port, path) = api_server_on(tutorial());
    let (status, mut v) = get_json(port, "/v1/config");
    assert_eq!(status, 200);
    assert_refresh_time(&v["SOASerial"], since);
    v["SOASerial"] = json!("checked");
    let resolvers = v["Resolvers"].clone();
    let dead = resolvers[0].as_str().unwrap_or_default();
    assert!(dead.starts_with("127.0.0.1:"), "{resolvers}");
    // Go's records.Config through encoding/json for the test config (tests/common's test_config with
    // the HTTP keys): the field names, the HttpPort/DnsOn/HttpOn tags, File the absolute path.
    let mut want = json!({
        "RefreshSeconds": 1, "Port": server.port, "Timeout": 1, "StateTimeoutSeconds": 5,
        "ZkDetectionTimeout": 30, "HttpPort": port, "TTL": 60, "SRVRecordDefaultWeight": 1,
        "SOASerial": "checked", "SOARefresh": 60, "SOARetry": 600, "SOAExpire": 86400, "SOAMinttl": 60,
        "SOAMname": "ns1.mesos.", "SOARname": "root.ns1.mesos.",
        "Masters": [master.addr()], "ZoneResolvers": {}, "Resolvers": [dead],
        "IPSources": ["netinfo", "mesos", "host"], "Zk": "", "Domain": "mesos",
        "File": path.display().to_string(), "Listener": "127.0.0.1", "HTTPListener": "127.0.0.1",
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
    // Absent: loopback and private networks (issue 26).
    want["RelayAllowFrom"] = json!([
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10"
    ]);
    want["RateLimit"] = json!(0);
    want["RateLimitSlip"] = json!(2);
    // Ours, for zone transfers (tsigKeys is not shown: secrets).
    want["TransferAllowFrom"] = json!([]);
    want["Notify"] = json!([]);
    want["IXFRJournalBytes"] = json!(16777216);
    want["Nameservers"] = json!([]);
    want["FailoverGraceSeconds"] = json!(300);
    want["ARecordLimit"] = json!(0);
    want["PreferLocalZone"] = json!(false);
    want["MinVisibility"] = json!("FRAMEWORK");
    want["ExcludeFrameworks"] = json!([]);
    want["ExcludeTaskLabels"] = json!([]);
    assert_same_document(&v, &want, "config");
    assert!(path.is_absolute());
}

/// `{"name", "host", "rtype"}`, one record of a task in `/v1/enumerate`.
fn rec(name: &str, host: &str, rtype: &str) -> Value {
    json!({"name": name, "host": host, "rtype": rtype})
}

/// The records of a tutorial task (no discovery info, one agent address), in the original's order:
/// A for the short and canonical names, again under `slave`, then SRV under `slave` (tcp, udp) and
/// without it.
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

#[test]
fn enumerate_lists_every_framework_apart_with_or_without_tasks() {
    let (_master, _server, port, _) = api_server_on(cluster());
    let (status, v) = get_json(port, "/v1/enumerate");
    assert_eq!(status, 200);
    let f = "marathon-0.7.6";
    let slave_target = format!("{WEB}.{f}.slave.mesos.:31500");
    let target = format!("{WEB}.{f}.mesos.:8080");
    let want = json!({"frameworks": [
        {"name": f, "tasks": [
            {"name": "mesos-dns", "id": "mesos-dns.5d3c1d2e-a36b-11e4-8c21-56847afe9799",
             "records": plain_task_records("mesos-dns", "mesos-dns-uhgs6-s0", "10.14.245.208", 31053)},
            {"name": "nginx", "id": "nginx.7a1e0000-a36d-11e4-8c21-56847afe9799",
             "records": plain_task_records("nginx", "nginx-gwi91-s1", "10.114.227.92", 31080)},
        ]},
        // The same name, another framework: listed apart.
        {"name": f, "tasks": [{"name": "web", "id": WEB_ID, "records": [
            rec(&format!("web.{f}.mesos."), "10.0.0.5", "A"),
            rec(&format!("{WEB}.{f}.mesos."), "10.0.0.5", "A"),
            rec(&format!("web.{f}.mesos."), "fd00::5", "AAAA"),
            rec(&format!("{WEB}.{f}.mesos."), "fd00::5", "AAAA"),
            rec(&format!("web.{f}.slave.mesos."), "10.29.107.105", "A"),
            rec(&format!("{WEB}.{f}.slave.mesos."), "10.29.107.105", "A"),
            // Discovery info: port resources only under `slave`, then the discovery port.
            rec(&format!("_web._tcp.{f}.slave.mesos."), &slave_target, "SRV"),
            rec(&format!("_web._udp.{f}.slave.mesos."), &slave_target, "SRV"),
            rec(&format!("_web._tcp.{f}.mesos."), &target, "SRV"),
            rec(&format!("_http._web._tcp.{f}.mesos."), &target, "SRV"),
        ]}]},
        // No running task: listed with none.
        {"name": "idle", "tasks": []},
    ]});
    assert_same_document(&v, &want, "enumerate");
}

#[test]
fn enumerate_of_the_original_test_state_lists_its_framework_without_a_pid_or_tasks() {
    let (_master, _server, port, _) = api_server_on(fixture("fake.json"));
    let (_, v) = get_json(port, "/v1/enumerate");
    let frameworks: Vec<(&str, Vec<&str>)> = v["frameworks"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|f| {
            let tasks = f["tasks"].as_array().unwrap_or_else(|| panic!("{f}"));
            (
                f["name"].as_str().unwrap(),
                tasks.iter().map(|t| t["name"].as_str().unwrap()).collect(),
            )
        })
        .collect();
    // Every running task on a known agent (poseidon is TASK_KILLED), frameworks in state order.
    assert_eq!(
        frameworks,
        [
            ("ipv6-framework", vec!["toy-store"]),
            ("chronos with a space AND MIXED CASE-2.0.1", vec!["some-box"]),
            ("no pid", vec![]),
            (
                "marathon",
                vec![
                    "liquor.store",
                    "big.dog2",
                    "non-human-readable-liquor-store",
                    "car.store",
                    "chronos",
                    "nginx",
                    "reviewbot"
                ]
            ),
        ]
    );
}

/// The record sets of [`cluster`] served by a server whose fake master listens on `master_port`.
fn cluster_record_sets(master_port: u16) -> (Map<String, Value>, Map<String, Value>, Map<String, Value>) {
    let f = "marathon-0.7.6";
    let (mut a, mut aaaa, mut srv) = (Map::new(), Map::new(), Map::new());
    let set = |map: &mut Map<String, Value>, name: String, values: &[&str]| {
        map.insert(name, json!(values));
    };
    for name in ["ns1.mesos.", "leader.mesos.", "master.mesos.", "master0.mesos."] {
        set(&mut a, name.into(), &["127.0.0.1"]);
    }
    set(&mut a, format!("{f}.mesos."), &["10.41.40.151", "10.41.40.152"]);
    set(&mut a, "idle.mesos.".into(), &["10.41.40.153"]);
    set(
        &mut a,
        "slave.mesos.".into(),
        &["10.14.245.208", "10.114.227.92", "10.29.107.105"],
    );
    for (t, canonical, ip, port) in [
        ("mesos-dns", "mesos-dns-uhgs6-s0", "10.14.245.208", 31053),
        ("nginx", "nginx-gwi91-s1", "10.114.227.92", 31080),
    ] {
        for under in [format!("{f}.mesos."), format!("{f}.slave.mesos.")] {
            set(&mut a, format!("{t}.{under}"), &[ip]);
            set(&mut a, format!("{canonical}.{under}"), &[ip]);
            for proto in ["_tcp", "_udp"] {
                let target = format!("{canonical}.{f}.slave.mesos.:{port}");
                set(&mut srv, format!("_{t}.{proto}.{under}"), &[&target]);
            }
        }
    }
    for name in [format!("web.{f}.mesos."), format!("{WEB}.{f}.mesos.")] {
        set(&mut a, name.clone(), &["10.0.0.5"]);
        set(&mut aaaa, name, &["fd00::5"]);
    }
    for name in [format!("web.{f}.slave.mesos."), format!("{WEB}.{f}.slave.mesos.")] {
        set(&mut a, name, &["10.29.107.105"]);
    }
    let slave_target = format!("{WEB}.{f}.slave.mesos.:31500");
    let target = format!("{WEB}.{f}.mesos.:8080");
    set(&mut srv, format!("_web._tcp.{f}.slave.mesos."), &[&slave_target]);
    set(&mut srv, format!("_web._udp.{f}.slave.mesos."), &[&slave_target]);
    set(&mut srv, format!("_web._tcp.{f}.mesos."), &[&target]);
    set(&mut srv, format!("_http._web._tcp.{f}.mesos."), &[&target]);
    set(
        &mut srv,
        format!("_framework._tcp.{f}.mesos."),
        &[&format!("{f}.mesos.:35214"), &format!("{f}.mesos.:35215")],
    );
    set(&mut srv, "_framework._tcp.idle.mesos.".into(), &["idle.mesos.:41000"]);
    set(&mut srv, "_slave._tcp.mesos.".into(), &["slave.mesos.:5051"]);
    let leader = format!("leader.mesos.:{master_port}");
    set(&mut srv, "_leader._tcp.mesos.".into(), &[&leader]);
    set(&mut srv, "_leader._udp.mesos.".into(), &[&leader]);
    (a, aaaa, srv)
}

#[test]
fn axfr_is_the_original_axfr_model() {
    let since = unix_now();
    let (master, _server, port, _) = api_server_on(cluster());
    let (status, mut v) = get_json(port, "/v1/axfr");
    assert_eq!(status, 200);
    assert_refresh_time(&v["Serial"], since);
    v["Serial"] = json!("checked");
    let master_port: u16 = master.addr().rsplit(':').next().unwrap().parse().unwrap();
    let (a, aaaa, srv) = cluster_record_sets(master_port);
    // models.AXFR: what dcos-net reads (Domain without the dot, Records.As).
    let want = json!({
        "TTL": 60, "Serial": "checked", "RefreshSeconds": 1, "Mname": "ns1.mesos.", "Rname": "root.ns1.mesos.",
        "Domain": "mesos",
        "Records": {"As": a, "AAAAs": aaaa, "SRVs": srv},
    });
    assert_same_document(&v, &want, "axfr");
}

#[test]
fn services_gives_a_dual_stack_target_one_entry_per_address_family() {
    let (_master, _server, port, _) = api_server_on(cluster());
    let service = "_web._tcp.marathon-0.7.6.mesos";
    let (status, v) = get_json(port, &format!("/v1/services/{service}"));
    assert_eq!(status, 200);
    let host = format!("{WEB}.marathon-0.7.6.mesos.");
    assert_eq!(
        v,
        json!([
            {"service": service, "host": host, "ip": "10.0.0.5", "port": "8080"},
            {"service": service, "host": host, "ip": "fd00::5", "port": "8080"},
        ])
    );
}

#[test]
fn enumeration_off_hides_enumerate_and_axfr() {
    let master = FakeMaster::serving(tutorial());
    let http_port = free_port();
    let server = Server::start_with(
        &[master.addr()],
        json!({ "httpon": true, "httpListener": "127.0.0.1", "httpport": http_port, "EnumerationOn": false }),
    );
    server.wait_loaded();
    assert_eq!(get_json(http_port, "/v1/enumerate").0, 404);
    assert_eq!(get_json(http_port, "/v1/axfr").0, 404);
    assert_eq!(get_json(http_port, "/v1/version").0, 200);
}

/// A generated state of `tasks` tasks (tests/fixtures/gen-state.py).
fn generated_state(tasks: usize, agents: usize) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gen-state.py");
    let out = Command::new("python3")
        .args([script, "--tasks", &tasks.to_string(), "--agents", &agents.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .expect("python3 runs gen-state.py");
    assert!(out.status.success(), "gen-state.py failed");
    serde_json::from_slice(&out.stdout).expect("gen-state.py writes JSON")
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

/// The TCP state (`/proc/net/tcp`'s hex code: `01` established) of the server's end of the connection
/// from `client`.
fn server_end_state(http_port: u16, client: std::net::SocketAddr) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let (local, remote) = (format!(":{http_port:04X}"), format!(":{:04X}", client.port()));
    table.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.len() > 3 && f[1].ends_with(&local) && f[2].ends_with(&remote)).then(|| f[3].to_owned())
    })
}

/// A client that reads a few KB of `/v1/enumerate` (tens of MB at 20k tasks, more than the socket
/// buffers hold) and then stops reading: DNS is answered promptly meanwhile, the server holds no more
/// than a chunk of the document (its RSS stays far below the document's size), and it closes the
/// connection after the idle timeout (10 s), before the document was sent. A client that reads gets it
/// all.
#[test]
fn a_slow_reader_of_a_big_document_neither_stalls_dns_nor_holds_the_document() {
    // No refresh during the test: each one builds a new snapshot beside the old (tens of MB here), which
    // would hide what the HTTP request holds.
    let (_master, server, port, _) = api_server_with(generated_state(20_000, 1_000), json!({"refreshSeconds": 600}));
    let pid = server.pid();
    let idle_rss = rss_kib(pid);

    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    slow.write_all(b"GET /v1/enumerate HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = vec![0u8; 4096];
    let mut got = 0;
    while got < first.len() {
        got += slow.read(&mut first[got..]).unwrap();
    }
    let head = String::from_utf8_lossy(&first);
    assert!(
        head.starts_with("HTTP/1.1 200 OK") && head.contains("Transfer-Encoding: chunked"),
        "{head}"
    );

    // The server has filled the socket buffers and waits for the client: DNS is answered meanwhile.
    let client = slow.local_addr().unwrap();
    assert_eq!(server_end_state(port, client).as_deref(), Some("01"), "established");
    for i in 0..20 {
        let id = 40_000 + i;
        let answer = dns::udp(
            server.port,
            &dns::query(id, "leader.mesos", dns::A),
            Duration::from_secs(1),
        )
        .unwrap_or_else(|e| panic!("query {i} not answered within 1 s during the slow read: {e}"));
        let answer = dns::parse(&answer).unwrap();
        assert!(answer.id == id && !answer.answers.is_empty(), "query {i}");
    }
    let grown_kib = rss_kib(pid).saturating_sub(idle_rss);
    assert!(
        grown_kib < 16 * 1024,
        "the server grew by {grown_kib} KiB while one slow client reads"
    );

    // Not read for the idle timeout: closed (the buffered bytes still arrive, then the end).
    wait_until("the server to close the slow reader", Duration::from_secs(20), || {
        server_end_state(port, client).map_or(true, |state| state != "01")
    });
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(!rest.ends_with(b"0\r\n\r\n"), "closed before the last chunk");

    // A client that reads gets the whole document, bigger than what the slow reader's server grew by
    // (HTTP/1.0: the body ends with the connection).
    let mut reader = TcpStream::connect(("127.0.0.1", port)).unwrap();
    reader.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    reader.write_all(b"GET /v1/enumerate HTTP/1.0\r\n\r\n").unwrap();
    let mut whole = Vec::new();
    reader.read_to_end(&mut whole).unwrap();
    let text = String::from_utf8(whole).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200 OK") && !head.contains("chunked"),
        "{head}"
    );
    assert!(body.len() > 20 << 20, "a document of {} bytes", body.len());
    let doc: Value = serde_json::from_str(body).unwrap();
    let tasks: usize = doc["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["tasks"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(tasks > 15_000, "{tasks} running tasks listed");
    assert!(rss_kib(pid).saturating_sub(idle_rss) < 16 * 1024, "memory given back");
}
