//! Unit tests of the HTTP routes against a snapshot of the tutorial cluster.

use super::*;
use crate::refresh::build_snapshot;

fn tutorial() -> (Config, Records) {
    let config = Config::default();
    let body = include_bytes!("../../tests/fixtures/tutorial-0.21.json");
    let (records, list) = build_snapshot(&config, body, &["127.0.0.1:5050".into()], &[], &|_| Vec::new(), 1).unwrap();
    (config, records.with_list(list))
}

fn get(path: &str) -> (u16, Value) {
    let (config, records) = tutorial();
    let ctx = ApiContext {
        config: &config,
        records: &records,
        readiness: Ok(()),
        metrics: &|| "m 1\n".into(),
    };
    let r = route("GET", path, &ctx);
    assert_eq!(r.content_type, "application/json", "{path}");
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

const NGINX_TARGET: &str = "nginx-gwi91-s1.marathon-0.7.6.slave.mesos.";

#[test]
fn version_has_the_original_keys() {
    let (status, v) = get("/v1/version");
    assert_eq!(status, 200);
    assert_eq!(v["Service"], "Mesos-DNS");
    assert_eq!(v["URL"], "https://github.com/mesosphere/mesos-dns");
    assert_eq!(v["Version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn config_is_the_effective_config_with_the_original_spelling() {
    let (status, v) = get("/v1/config");
    assert_eq!(status, 200);
    assert_eq!(v["RefreshSeconds"], 60);
    assert_eq!(v["Domain"], "mesos");
}

#[test]
fn hosts_lists_addresses_case_insensitively_or_one_empty_entry() {
    for path in [
        "/v1/hosts/nginx.marathon-0.7.6.mesos",
        "/v1/hosts/NGINX.Marathon-0.7.6.mesos.",
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
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["reason"], "no successful refresh yet");
    let m = route("GET", "/metrics?x=1", &not_ready);
    assert_eq!(
        (m.status, m.content_type, m.body.as_slice()),
        (200, "text/plain; version=0.0.4; charset=utf-8", &b"mesos_dns_x 1\n"[..])
    );
    let post = route("POST", "/v1/version", &not_ready);
    assert_eq!((post.status, post.allow), (405, Some("GET, HEAD")));
    assert_eq!(route("GET", "/v2/nothing", &not_ready).status, 404);
    assert_eq!(route("GET", "/v1/hosts", &not_ready).status, 404);
}

#[test]
fn enumerate_lists_frameworks_tasks_and_their_records() {
    let (status, v) = get("/v1/enumerate");
    assert_eq!(status, 200);
    let frameworks = v["frameworks"].as_array().unwrap();
    assert_eq!(frameworks.len(), 1);
    assert_eq!(frameworks[0]["name"], "marathon-0.7.6");
    let tasks = frameworks[0]["tasks"].as_array().unwrap();
    let names: Vec<&str> = tasks.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["mesos-dns", "nginx"]);
    let nginx = &tasks[1];
    assert_eq!(nginx["id"], "nginx.7a1e0000-a36d-11e4-8c21-56847afe9799");
    let records = nginx["records"].as_array().unwrap();
    assert!(
        records.contains(&json!({"name": "nginx.marathon-0.7.6.mesos.", "host": "10.114.227.92", "rtype": "A"})),
        "{records:?}"
    );
    assert!(records.contains(
        &json!({"name": "_nginx._tcp.marathon-0.7.6.mesos.", "host": format!("{NGINX_TARGET}:31080"), "rtype": "SRV"})
    ));
    // Agent and master records belong to no task.
    assert!(!records
        .iter()
        .any(|r| r["name"] == "slave.mesos." || r["name"] == "leader.mesos."));
}

#[test]
fn axfr_lists_every_record_set_with_the_soa() {
    let (status, v) = get("/v1/axfr");
    assert_eq!(status, 200);
    assert_eq!(v["Domain"], "mesos.");
    assert_eq!(v["SOA"]["Mname"], "ns1.mesos.");
    assert_eq!(v["SOA"]["Serial"], 1);
    assert_eq!(v["As"]["nginx.marathon-0.7.6.mesos."], json!(["10.114.227.92"]));
    assert_eq!(v["As"]["slave.mesos."].as_array().unwrap().len(), 3);
    assert_eq!(
        v["SRVs"]["_nginx._tcp.marathon-0.7.6.mesos."],
        json!([format!("{NGINX_TARGET}:31080")])
    );
    let total: usize = ["As", "AAAAs", "SRVs"]
        .iter()
        .map(|t| {
            v[t].as_object()
                .unwrap()
                .values()
                .map(|l| l.as_array().unwrap().len())
                .sum::<usize>()
        })
        .sum();
    let (a, aaaa, srv) = tutorial().1.counts();
    assert_eq!(total, a + aaaa + srv, "every record of the snapshot");
    assert_eq!(
        total, 27,
        "the tutorial's 28 records but ns1.mesos (no server address in this test)"
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
