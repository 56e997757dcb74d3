//! The records of the tutorial and `fake.json` states: names, addresses, IP sources, discovery info.

use super::*;

#[test]
fn tutorial_gives_exactly_the_expected_records() {
    let self_addrs = ["10.0.0.53".parse().unwrap()];
    let list = gen_with(
        TUTORIAL,
        Opts {
            self_addrs: &self_addrs,
            ..Opts::default()
        },
    );
    let m = "marathon-0.7.6.mesos.";
    let ms = "marathon-0.7.6.slave.mesos.";
    let mut want = vec![
        format!("{m} A 10.41.40.151"),
        format!("_framework._tcp.{m} SRV 35214 {m}"),
        "slave.mesos. A 10.14.245.208".into(),
        "slave.mesos. A 10.114.227.92".into(),
        "slave.mesos. A 10.29.107.105".into(),
        "_slave._tcp.mesos. SRV 5051 slave.mesos.".into(),
        "ns1.mesos. A 10.0.0.53".into(),
        "leader.mesos. A 127.0.0.1".into(),
        "_leader._tcp.mesos. SRV 5050 leader.mesos.".into(),
        "_leader._udp.mesos. SRV 5050 leader.mesos.".into(),
        "master.mesos. A 127.0.0.1".into(),
        "master0.mesos. A 127.0.0.1".into(),
    ];
    for (t, h, s, ip, port) in [
        ("mesos-dns", "uhgs6", "s0", "10.14.245.208", 31053),
        ("nginx", "gwi91", "s1", "10.114.227.92", 31080),
    ] {
        let canon = format!("{t}-{h}-{s}");
        want.extend([
            format!("{t}.{m} A {ip}"),
            format!("{canon}.{m} A {ip}"),
            format!("{t}.{ms} A {ip}"),
            format!("{canon}.{ms} A {ip}"),
            format!("_{t}._tcp.{ms} SRV {port} {canon}.{ms}"),
            format!("_{t}._udp.{ms} SRV {port} {canon}.{ms}"),
            format!("_{t}._tcp.{m} SRV {port} {canon}.{ms}"),
            format!("_{t}._udp.{m} SRV {port} {canon}.{ms}"),
        ]);
    }
    let want: BTreeSet<String> = want.into_iter().collect();
    assert_eq!(render(&list), want);
    assert_eq!(list.len(), want.len(), "no record is stored twice");
    assert_eq!(hash("nginx.7a1e0000-a36d-11e4-8c21-56847afe9799"), "gwi91");
    assert_eq!(hash("mesos-dns.5d3c1d2e-a36b-11e4-8c21-56847afe9799"), "uhgs6");
}

#[test]
fn tutorial_nginx_answers_as_in_the_seed_tutorial() {
    let list = gen(TUTORIAL);
    assert_eq!(at(&list, "nginx.marathon-0.7.6.mesos."), set(&["A 10.114.227.92"]));
    assert_eq!(
        at(&list, "_nginx._tcp.marathon-0.7.6.mesos."),
        set(&["SRV 31080 nginx-gwi91-s1.marathon-0.7.6.slave.mesos."])
    );
    assert_eq!(at(&list, "leader.mesos."), set(&["A 127.0.0.1"]));
    assert_eq!(at(&list, "slave.mesos.").len(), 3);
}

#[test]
fn fake_json_frameworks_agents_and_masters() {
    let list = gen(FAKE);
    assert_eq!(at(&list, "ipv6-framework.mesos."), set(&["AAAA 2001:db8::1"]));
    assert_eq!(
        at(&list, "_framework._tcp.ipv6-framework.mesos."),
        set(&["SRV 25501 ipv6-framework.mesos."])
    );
    // A framework name with spaces, capitals and dots keeps its dots as label separators.
    let chronos = "chronoswithaspaceandmixedcase-2.0.1.mesos.";
    assert_eq!(at(&list, chronos), set(&["A 1.2.3.12"]));
    assert_eq!(
        at(&list, &format!("_framework._tcp.{chronos}")),
        set(&[&format!("SRV 25501 {chronos}")])
    );
    // No pid: the scheduler's hostname, resolved, and no SRV (no port).
    assert_eq!(at(&list, "nopid.mesos."), set(&["A 127.0.0.1", "AAAA ::1"]));
    assert!(at(&list, "_framework._tcp.nopid.mesos.").is_empty());
    assert_eq!(at(&list, "marathon.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(
        at(&list, "_framework._tcp.marathon.mesos."),
        set(&["SRV 25501 marathon.mesos."])
    );
    assert_eq!(
        at(&list, "slave.mesos."),
        set(&["A 1.2.3.10", "A 1.2.3.11", "A 1.2.3.12", "AAAA 2001:db8::1"])
    );
    assert_eq!(at(&list, "_slave._tcp.mesos."), set(&["SRV 5051 slave.mesos."]));
    assert_eq!(at(&list, "leader.mesos."), set(&["A 127.0.0.1"]));
    assert_eq!(at(&list, "master.mesos."), set(&["A 127.0.0.1"]));
    assert_eq!(at(&list, "master0.mesos."), set(&["A 127.0.0.1"]));
    assert_eq!(at(&list, "_leader._udp.mesos."), set(&["SRV 5050 leader.mesos."]));
}

#[test]
fn fake_json_netinfo_gives_every_container_address_of_the_task() {
    let list = gen(FAKE);
    let addrs = set(&["A 12.0.1.3", "A 12.0.1.2", "AAAA fd01:b::1:8000:2"]);
    assert_eq!(at(&list, "toy-store.ipv6-framework.mesos."), addrs);
    assert_eq!(at(&list, "toy-store-go588-3.ipv6-framework.mesos."), addrs);
    assert_eq!(
        at(&list, "toy-store.ipv6-framework.slave.mesos."),
        set(&["AAAA 2001:db8::1"])
    );
    assert_eq!(
        at(&list, "toy-store-go588-3.ipv6-framework.slave.mesos."),
        set(&["AAAA 2001:db8::1"])
    );
    let target = "toy-store-go588-3.ipv6-framework.slave.mesos.";
    let srv = set(&[&format!("SRV 31354 {target}"), &format!("SRV 31355 {target}")]);
    for name in [
        "_toy-store._tcp.ipv6-framework.mesos.",
        "_toy-store._udp.ipv6-framework.mesos.",
        "_toy-store._tcp.ipv6-framework.slave.mesos.",
        "_toy-store._udp.ipv6-framework.slave.mesos.",
    ] {
        assert_eq!(at(&list, name), srv, "{name}");
    }
}

#[test]
fn fake_json_docker_labels_come_from_the_latest_running_status() {
    let list = gen_with(
        FAKE,
        Opts {
            sources: ALL_SOURCES,
            ..Opts::default()
        },
    );
    // liquor.store's statuses are out of order: the latest TASK_RUNNING one says 10.3.0.1.
    assert_eq!(
        at(&list, "liquor-store.marathon.mesos."),
        set(&["A 10.3.0.1", "A 10.3.0.2"])
    );
    assert_eq!(at(&list, "liquor-store-4dfjd-0.marathon.mesos."), set(&["A 10.3.0.1"]));
    assert_eq!(at(&list, "liquor-store-zasmd-1.marathon.mesos."), set(&["A 10.3.0.2"]));
    assert_eq!(
        at(&list, "liquor-store.marathon.slave.mesos."),
        set(&["A 1.2.3.11", "A 1.2.3.12"])
    );
    assert_eq!(at(&list, "big-dog.marathon.mesos."), set(&["A 10.3.0.1"]));
    assert_eq!(at(&list, "nginx.marathon.mesos."), set(&["A 10.3.0.3"]));
    assert_eq!(at(&list, "car-store.marathon.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(at(&list, "car-store.marathon.slave.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(
        at(&list, "some-box.chronoswithaspaceandmixedcase-2.0.1.mesos."),
        set(&["A 1.2.3.11"])
    );
    assert_eq!(at(&list, "reviewbot-8sq89-1.marathon.mesos."), set(&["A 1.2.3.12"]));
    assert_eq!(at(&list, "toy-store.ipv6-framework.mesos.").len(), 3);
}

#[test]
fn fake_json_ip_sources_are_tried_in_order() {
    let docker_host = gen_with(
        FAKE,
        Opts {
            sources: &[IpSource::Docker, IpSource::Host],
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&docker_host, "liquor-store.marathon.mesos."),
        set(&["A 10.3.0.1", "A 10.3.0.2"])
    );
    assert_eq!(at(&docker_host, "nginx.marathon.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(
        at(&docker_host, "toy-store.ipv6-framework.mesos."),
        set(&["AAAA 2001:db8::1"])
    );

    let mesos_host = gen_with(
        FAKE,
        Opts {
            sources: &[IpSource::Mesos, IpSource::Host],
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&mesos_host, "liquor-store.marathon.mesos."),
        set(&["A 1.2.3.11", "A 1.2.3.12"])
    );
    assert_eq!(at(&mesos_host, "nginx.marathon.mesos."), set(&["A 10.3.0.3"]));
    assert_eq!(
        at(&mesos_host, "toy-store.ipv6-framework.mesos."),
        set(&["AAAA 2001:db8::1"])
    );

    let host = gen_with(
        FAKE,
        Opts {
            sources: &[IpSource::Host],
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&host, "liquor-store.marathon.mesos."),
        set(&["A 1.2.3.11", "A 1.2.3.12"])
    );
    assert_eq!(at(&host, "nginx.marathon.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(at(&host, "toy-store.ipv6-framework.mesos."), set(&["AAAA 2001:db8::1"]));

    // netinfo alone: tasks without container addresses get no task address records at all,
    // but still their agent records and SRV records.
    let netinfo = gen_with(
        FAKE,
        Opts {
            sources: &[IpSource::Netinfo],
            ..Opts::default()
        },
    );
    assert_eq!(at(&netinfo, "toy-store.ipv6-framework.mesos.").len(), 3);
    assert!(at(&netinfo, "liquor-store.marathon.mesos.").is_empty());
    assert!(at(&netinfo, "nginx.marathon.mesos.").is_empty());
    assert_eq!(at(&netinfo, "nginx.marathon.slave.mesos."), set(&["A 1.2.3.11"]));
    assert_eq!(at(&netinfo, "_car-store._tcp.marathon.mesos.").len(), 2);

    let none = gen_with(
        FAKE,
        Opts {
            sources: &[],
            ..Opts::default()
        },
    );
    assert!(at(&none, "toy-store.ipv6-framework.mesos.").is_empty());
    assert_eq!(
        at(&none, "toy-store.ipv6-framework.slave.mesos."),
        set(&["AAAA 2001:db8::1"])
    );
}

#[test]
fn fake_json_discovery_info_gives_named_port_srv_records() {
    let list = gen(FAKE);
    let t0 = "liquor-store-4dfjd-0.marathon.mesos.";
    let t1 = "liquor-store-zasmd-1.marathon.mesos.";
    assert_eq!(
        at(&list, "_liquor-store._tcp.marathon.mesos."),
        set(&[
            &format!("SRV 80 {t0}"),
            &format!("SRV 443 {t0}"),
            &format!("SRV 80 {t1}"),
            &format!("SRV 443 {t1}")
        ])
    );
    assert_eq!(
        at(&list, "_http._liquor-store._tcp.marathon.mesos."),
        set(&[&format!("SRV 80 {t0}"), &format!("SRV 80 {t1}")])
    );
    assert_eq!(
        at(&list, "_https._liquor-store._tcp.marathon.mesos."),
        set(&[&format!("SRV 443 {t0}"), &format!("SRV 443 {t1}")])
    );
    // Discovery ports are tcp only; there is no protocol-less name.
    assert!(at(&list, "_liquor-store._udp.marathon.mesos.").is_empty());
    assert!(at(&list, "_liquor-store.marathon.mesos.").is_empty());
    // The port resources still give SRV records under `slave`, to the canonical slave name.
    let s0 = "liquor-store-4dfjd-0.marathon.slave.mesos.";
    let s1 = "liquor-store-zasmd-1.marathon.slave.mesos.";
    assert_eq!(
        at(&list, "_liquor-store._tcp.marathon.slave.mesos."),
        set(&[
            &format!("SRV 31354 {s0}"),
            &format!("SRV 31355 {s0}"),
            &format!("SRV 31737 {s1}"),
            &format!("SRV 31738 {s1}"),
        ])
    );
    assert_eq!(at(&list, "_liquor-store._udp.marathon.slave.mesos.").len(), 4);
    let b = "big-dog-4dfjd-0.marathon.mesos.";
    assert_eq!(
        at(&list, "_big-dog._tcp.marathon.mesos."),
        set(&[&format!("SRV 80 {b}"), &format!("SRV 443 {b}")])
    );
    // Without discovery info, the port resources also give names directly under the framework.
    let c = "car-store-zinaz-0.marathon.slave.mesos.";
    for name in ["_car-store._tcp.marathon.mesos.", "_car-store._udp.marathon.mesos."] {
        assert_eq!(
            at(&list, name),
            set(&[&format!("SRV 31364 {c}"), &format!("SRV 31365 {c}")])
        );
    }
}

#[test]
fn fake_json_discovery_name_is_also_served_as_written() {
    let list = gen_with(
        FAKE,
        Opts {
            sources: ALL_SOURCES,
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&list, "liquor.store.marathon.mesos."),
        set(&["A 10.3.0.1", "A 10.3.0.2"])
    );
    assert_eq!(at(&list, "liquor.store-4dfjd-0.marathon.mesos."), set(&["A 10.3.0.1"]));
    assert_eq!(
        at(&list, "liquor.store.marathon.slave.mesos."),
        set(&["A 1.2.3.11", "A 1.2.3.12"])
    );
    assert_eq!(at(&list, "big.dog.marathon.mesos."), set(&["A 10.3.0.1"]));
    assert_eq!(
        at(&list, "_http._liquor.store._tcp.marathon.mesos."),
        set(&[
            "SRV 80 liquor.store-4dfjd-0.marathon.mesos.",
            "SRV 80 liquor.store-zasmd-1.marathon.mesos."
        ])
    );
    // The task names of discovery tasks are not used.
    assert!(at(&list, "big-dog2.marathon.mesos.").is_empty());
    assert!(at(&list, "non-human-readable-liquor-store.marathon.mesos.").is_empty());
}

#[test]
fn fake_json_only_running_tasks_on_known_agents_get_records() {
    let list = gen(FAKE);
    let all = names(&list);
    assert!(!all.iter().any(|n| n.contains("poseidon")), "killed task");
    assert!(!all.iter().any(|n| n.contains("box01")), "completed task");
    assert!(!all.iter().any(|n| n.contains("chronostask")), "completed task");
    for name in [
        "chronos.marathon.mesos.",
        "reviewbot.marathon.mesos.",
        "car-store.marathon.mesos.",
    ] {
        assert!(all.contains(name), "{name}");
    }
    assert!(all
        .iter()
        .all(|n| n.ends_with(".mesos.") && *n == n.to_ascii_lowercase()));
    assert!(all.iter().all(|n| label::is_valid_name(n)));
    // nginx has "[]" ports: no SRV records at all.
    assert!(!all.iter().any(|n| n.starts_with("_nginx.")));
}

#[test]
fn fake_json_rfc952_shortens_framework_labels() {
    let list = gen_with(
        FAKE,
        Opts {
            sources: ALL_SOURCES,
            rfc952: true,
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&list, "some-box.chronoswithaspaceandmixe.mesos."),
        set(&["A 1.2.3.11"])
    );
    assert_eq!(at(&list, "chronoswithaspaceandmixe.mesos."), set(&["A 1.2.3.12"]));
    assert_eq!(
        at(&list, "liquor-store.marathon.mesos."),
        set(&["A 10.3.0.1", "A 10.3.0.2"])
    );
    assert!(at(&list, "some-box.chronoswithaspaceandmixedcase-2.0.1.mesos.").is_empty());
    let tutorial = gen_with(
        TUTORIAL,
        Opts {
            rfc952: true,
            ..Opts::default()
        },
    );
    assert_eq!(at(&tutorial, "nginx.marathon-0.mesos."), set(&["A 10.114.227.92"]));
}

#[test]
fn the_domain_is_normalised() {
    let list = gen_with(
        TUTORIAL,
        Opts {
            domain: "Example.COM.",
            ..Opts::default()
        },
    );
    assert_eq!(
        at(&list, "nginx.marathon-0.7.6.example.com."),
        set(&["A 10.114.227.92"])
    );
    assert_eq!(at(&list, "leader.example.com."), set(&["A 127.0.0.1"]));
}

#[test]
fn the_server_name_gets_every_listener_address() {
    let addrs: Vec<IpAddr> = vec!["10.0.0.53".parse().unwrap(), "fd00::53".parse().unwrap()];
    let list = gen_with(
        TUTORIAL,
        Opts {
            self_addrs: &addrs,
            ..Opts::default()
        },
    );
    assert_eq!(at(&list, "ns1.mesos."), set(&["A 10.0.0.53", "AAAA fd00::53"]));
}
