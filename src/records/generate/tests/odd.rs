//! Odd, empty and generated documents: only sound records, and the expected record for every task.

use super::*;

const ODD: &str = r#"{
    "leader": "master@10.0.0.1:5050",
    "slaves": [
        {"id": "a-S1", "pid": "slave(1)@10.1.0.1:5051"},
        {"id": "b-S2", "pid": null, "hostname": "agent2.example.com"},
        {"id": "c-S3", "pid": "garbage", "hostname": "unresolvable.invalid"},
        {"id": "d-S4", "pid": "slave(1)@[::ffff:10.1.0.4]:5051"},
        null, {"id": null, "pid": "slave(1)@10.1.0.5:5051"}, 7
    ],
    "frameworks": [
        {"name": "web", "pid": "scheduler@10.2.0.1:1", "tasks": [
            {"id": "t1", "name": "ok", "slave_id": "a-S1", "state": "TASK_RUNNING",
             "resources": {"ports": "[garbage, 80-81, 99999-1, 5-4]"}},
            {"id": "t2", "name": "lost", "slave_id": "zzz-S9", "state": "TASK_RUNNING"},
            {"id": "t3", "name": "", "slave_id": "a-S1", "state": "TASK_RUNNING"},
            {"id": "t4", "name": "$$$", "slave_id": "a-S1", "state": "TASK_RUNNING"},
            {"id": "t5", "name": "h2", "slave_id": "b-S2", "state": "TASK_RUNNING", "statuses": null, "resources": null},
            {"id": "t6", "name": "noaddr", "slave_id": "c-S3", "state": "TASK_RUNNING", "resources": {"ports": "[5-5]"}},
            null,
            {"id": "t7", "name": "staging", "slave_id": "a-S1", "state": "TASK_STAGING"},
            {"id": "t8", "name": "LONGNAME", "slave_id": "a-S1", "state": "TASK_RUNNING", "resources": {"ports": "[9-9]"}},
            {"id": "t9", "name": "odd-ips", "slave_id": "a-S1", "state": "TASK_RUNNING", "statuses": [
                {"state": "TASK_RUNNING", "timestamp": 1, "container_status": {"network_infos": [
                    {"ip_addresses": [{"ip_address": "not-an-ip"}, {"ip_address": "::ffff:10.9.9.9"},
                                      {"ip_address": "10.9.9.9"}, {"ip_address": ""}]},
                    {"ip_address": "fd00::9"}]}},
                {"state": "TASK_FAILED", "timestamp": 5, "container_status": {"network_infos": [
                    {"ip_address": "10.0.0.66"}]}}]},
            {"id": "t10", "name": "ignored", "slave_id": "a-S1", "state": "TASK_RUNNING",
             "discovery": {"name": "Disc Name!", "ports": {"ports": [
                {"number": "x", "name": "bad"}, {"number": 53, "protocol": "", "name": "DNS"}, null]}}},
            {"id": "t11", "name": "mapped", "slave_id": "d-S4", "state": "TASK_RUNNING"},
            {"id": "t12", "name": "weird-agent", "slave_id": "", "state": "TASK_RUNNING"}
        ]},
        {"name": "", "pid": "scheduler@10.2.0.2:1", "tasks": [
            {"id": "e1", "name": "x", "slave_id": "a-S1", "state": "TASK_RUNNING"}]},
        {"name": null, "pid": null, "tasks": null},
        {"name": "\u00dcn\u00efc\u00f6d\u00e9.fw", "pid": "scheduler@10.2.0.3:2", "tasks": [
            {"id": "u1", "name": "\u65e5\u672c-app", "slave_id": "a-S1", "state": "TASK_RUNNING"}]},
        {"name": "HUGE", "pid": "scheduler@10.2.0.4:3", "tasks": [
            {"id": "h1", "name": "x", "slave_id": "a-S1", "state": "TASK_RUNNING"}]}
    ]
}"#;

fn odd_doc() -> String {
    let huge = vec!["f".repeat(63); 4].join(".");
    ODD.replace("LONGNAME", &"Long_".repeat(30)).replace("HUGE", &huge)
}

#[test]
fn odd_documents_give_only_sound_records() {
    let doc = odd_doc();
    let list = gen(doc.as_bytes());
    let all = names(&list);
    assert!(all.iter().all(|n| label::is_valid_name(n)), "{all:?}");

    // A task with garbage in its port ranges keeps the good ranges.
    let h1 = hash("t1");
    let target = format!("ok-{h1}-s1.web.slave.mesos.");
    assert_eq!(at(&list, "ok.web.mesos."), set(&["A 10.1.0.1"]));
    assert_eq!(
        at(&list, "_ok._tcp.web.mesos."),
        set(&[&format!("SRV 80 {target}"), &format!("SRV 81 {target}")])
    );
    // Unknown agent, empty or unusable names, non-running: nothing.
    assert!(!all
        .iter()
        .any(|n| n.contains("lost") || n.contains("staging") || n.contains("weird")));
    assert!(!all
        .iter()
        .any(|n| n.contains(&hash("t3")) || n.contains(&hash("t4")) || n.contains(&hash("t12"))));
    // An agent without a pid is found by its host name; no SRV without a port.
    assert_eq!(at(&list, "h2.web.mesos."), set(&["A 10.1.0.2", "AAAA fd00::2"]));
    assert_eq!(at(&list, "h2.web.slave.mesos."), set(&["A 10.1.0.2", "AAAA fd00::2"]));
    assert_eq!(
        at(&list, "slave.mesos."),
        set(&["A 10.1.0.1", "A 10.1.0.2", "AAAA fd00::2", "A 10.1.0.4", "A 10.1.0.5"])
    );
    assert_eq!(at(&list, "_slave._tcp.mesos."), set(&["SRV 5051 slave.mesos."]));
    // A known agent without any address: its tasks keep their SRV records, but get no addresses.
    let h6 = hash("t6");
    assert!(at(&list, "noaddr.web.mesos.").is_empty());
    assert!(at(&list, "noaddr.web.slave.mesos.").is_empty());
    assert_eq!(
        at(&list, "_noaddr._tcp.web.mesos."),
        set(&[&format!("SRV 5 noaddr-{h6}-s3.web.slave.mesos.")])
    );
    // Over-long task names are cut to 63; the canonical name keeps its hash and agent.
    let long = Spec::Rfc1123.label(&"Long_".repeat(30));
    assert_eq!(long.len(), 63);
    assert_eq!(at(&list, &format!("{long}.web.mesos.")), set(&["A 10.1.0.1"]));
    let h8 = hash("t8");
    let canon = format!("{}-{h8}-s1", long[..54].trim_end_matches('-'));
    assert!(canon.len() <= 63);
    assert_eq!(at(&list, &format!("{canon}.web.mesos.")), set(&["A 10.1.0.1"]));
    // `_` + a 63-octet label is cut to 63.
    let srv = format!("_{}._tcp.web.mesos.", &long[..62]);
    assert_eq!(at(&list, &srv), set(&[&format!("SRV 9 {canon}.web.slave.mesos.")]));
    // Bad addresses are skipped, IPv4-mapped IPv6 is A, the single-address form is read, and
    // only the latest TASK_RUNNING status counts.
    assert_eq!(at(&list, "odd-ips.web.mesos."), set(&["A 10.9.9.9", "AAAA fd00::9"]));
    assert_eq!(at(&list, "mapped.web.mesos."), set(&["A 10.1.0.4"]));
    // A discovery name that is not usable as written is served only as a label; an empty protocol
    // means tcp and udp; a port that is not a number is skipped.
    let d = format!("discname-{}-s1.web.mesos.", hash("t10"));
    assert_eq!(at(&list, "discname.web.mesos."), set(&["A 10.1.0.1"]));
    for name in [
        "_discname._tcp.web.mesos.",
        "_discname._udp.web.mesos.",
        "_dns._discname._tcp.web.mesos.",
        "_dns._discname._udp.web.mesos.",
    ] {
        assert_eq!(at(&list, name), set(&[&format!("SRV 53 {d}")]), "{name}");
    }
    assert!(!all.iter().any(|n| n.contains("_bad") || n.contains("ignored")));
    // A framework whose name leaves no label gets nothing; unicode is dropped.
    assert!(!all.iter().any(|n| n.starts_with("x.")));
    assert_eq!(at(&list, "ncd.fw.mesos."), set(&["A 10.2.0.3"]));
    assert_eq!(at(&list, "app.ncd.fw.mesos."), set(&["A 10.1.0.1"]));
    // A framework whose names would pass 253 characters gets none.
    assert!(!all.iter().any(|n| n.contains("fffff")));
    assert!(!render(&list).iter().any(|r| r.contains("10.2.0.4")));
    // Masters still come out.
    assert_eq!(at(&list, "leader.mesos."), set(&["A 10.0.0.1"]));
}

#[test]
fn empty_and_minimal_documents_give_only_what_they_hold() {
    assert!(gen(b"{}").is_empty());
    let list = gen(br#"{"leader": "master@10.0.0.1:5050", "frameworks": null, "slaves": {}}"#);
    assert_eq!(
        names(&list),
        set(&[
            "leader.mesos.",
            "_leader._tcp.mesos.",
            "_leader._udp.mesos.",
            "master.mesos.",
            "master0.mesos."
        ])
    );
}

#[test]
fn generated_state_gives_the_expected_record_for_every_task() {
    // A copy of ../shared/tools/gen-state.py, so this test runs wherever the repository is.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gen-state.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args(["--agents", "50", "--tasks", "500"])
        .output()
        .expect("python3 runs gen-state.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let body = out.stdout;
    let list = gen_with(
        &body,
        Opts {
            sources: ALL_SOURCES,
            ..Opts::default()
        },
    );
    assert!(names(&list).iter().all(|n| label::is_valid_name(n)));
    assert_eq!(at(&list, "slave.mesos.").len(), 50);

    // Check every task against an independent reading of the document.
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let agent_ip = |id: &str| -> String {
        let a = doc["slaves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap();
        a["hostname"].as_str().unwrap().to_owned()
    };
    let (mut running, mut other) = (0, 0);
    for f in doc["frameworks"].as_array().unwrap() {
        let fw = f["name"].as_str().unwrap();
        for t in f["tasks"].as_array().unwrap() {
            let (id, name, agent) = (
                t["id"].as_str().unwrap(),
                t["name"].as_str().unwrap(),
                t["slave_id"].as_str().unwrap(),
            );
            let s = agent.rsplit('-').next().unwrap().to_ascii_lowercase();
            let canon = format!("{name}-{}-{s}", hash(id));
            if t["state"] != "TASK_RUNNING" {
                other += 1;
                assert!(at(&list, &format!("{canon}.{fw}.mesos.")).is_empty(), "{id}");
                continue;
            }
            running += 1;
            let status = &t["statuses"][0];
            let ip: IpAddr =
                match status["container_status"]["network_infos"][0]["ip_addresses"][0]["ip_address"].as_str() {
                    Some(ip) => ip.parse().unwrap(),
                    None => agent_ip(agent).parse().unwrap(),
                };
            let rtype = if ip.is_ipv6() { "AAAA" } else { "A" };
            let want = set(&[&format!("{rtype} {ip}")]);
            assert_eq!(at(&list, &format!("{canon}.{fw}.mesos.")), want, "{id}");
            assert!(
                at(&list, &format!("{name}.{fw}.mesos.")).contains(&format!("{rtype} {ip}")),
                "{id}"
            );
            assert_eq!(
                at(&list, &format!("{canon}.{fw}.slave.mesos.")),
                set(&[&format!("A {}", agent_ip(agent))])
            );
            let ports = t["resources"]["ports"].as_str().unwrap();
            let srvs = at(&list, &format!("_{name}._tcp.{fw}.slave.mesos."));
            for port in state::parse_ports(ports) {
                assert!(
                    srvs.contains(&format!("SRV {port} {canon}.{fw}.slave.mesos.")),
                    "{id} {port}"
                );
            }
            if let Some(ports) = t["discovery"]["ports"]["ports"].as_array() {
                let http = at(&list, &format!("_http._{name}._tcp.{fw}.mesos."));
                assert!(
                    http.contains(&format!("SRV {} {canon}.{fw}.mesos.", ports[0]["number"])),
                    "{id}"
                );
                assert!(at(&list, &format!("_{name}._tcp.{fw}.mesos.")).len() >= 2, "{id}");
            }
        }
    }
    assert_eq!(running + other, 500);
    assert!(running > 350 && other > 25, "{running} {other}");
}
