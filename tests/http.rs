//! The HTTP API over loopback with a real HTTP client: every endpoint's status, content type and JSON
//! shape against the tutorial state, `/metrics` checked by the Prometheus project's own text parser
//! (the `prometheus-client` Python package), and bad requests.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

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
    let (status, v) = get_json(port, "/v1/config");
    assert_eq!(status, 200);
    assert_eq!(v["RefreshSeconds"], 1);
    assert_eq!(v["HttpOn"], true);
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
fn enumerate_and_axfr_list_the_tutorial_records_and_obey_the_switch() {
    let (_master, _server, port) = api_server();
    let (status, v) = get_json(port, "/v1/enumerate");
    assert_eq!(status, 200);
    let frameworks = v["frameworks"].as_array().unwrap();
    let marathon = frameworks
        .iter()
        .find(|f| f["name"] == "marathon-0.7.6")
        .unwrap_or_else(|| panic!("{v}"));
    let task = marathon["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "nginx")
        .unwrap_or_else(|| panic!("{marathon}"));
    assert!(task["id"].as_str().unwrap().starts_with("nginx."), "{task}");
    let records = task["records"].as_array().unwrap();
    assert!(
        records
            .iter()
            .any(|r| r["name"] == format!("{NGINX}.") && r["rtype"] == "A" && r["host"] == NGINX_IP.to_string()),
        "{task}"
    );
    assert!(records.iter().any(|r| r["rtype"] == "SRV"), "{task}");

    let (status, v) = get_json(port, "/v1/axfr");
    assert_eq!(status, 200);
    assert_eq!(v["Domain"], "mesos.");
    assert_eq!(v["As"][format!("{NGINX}.")], json!([NGINX_IP.to_string()]));
    assert!(v["SRVs"]["_nginx._tcp.marathon-0.7.6.mesos."][0]
        .as_str()
        .unwrap()
        .ends_with(":31080"));
    assert!(v["SOA"]["Serial"].as_u64().unwrap() > 0);

    // EnumerationOn: false hides both.
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
