use super::publish::{next_serial, RecordLine};
use super::*;
use crate::mesos::fetch::Fetcher;
use crate::snapshot::{Lookup, RData, Record};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{SystemTime, UNIX_EPOCH};

const TUTORIAL: &[u8] = include_bytes!("../../tests/fixtures/tutorial-0.21.json");

fn config() -> Config {
    Config {
        masters: vec![crate::addr::HostPort::parse("127.0.0.1:5050").unwrap()],
        listener: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
        ..Config::default()
    }
}

fn wire(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    crate::wire::text_to_wire(name, &mut v).unwrap();
    v
}

fn a_of(records: &Records, name: &str) -> Vec<Ipv4Addr> {
    match records.lookup(&wire(name)) {
        Lookup::Found(node) => node.a.iter().map(|o| Ipv4Addr::from(*o)).collect(),
        _ => Vec::new(),
    }
}

struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_path(tag: &str) -> TempPath {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    TempPath(std::env::temp_dir().join(format!("mesos-dns-refresh-{tag}-{}-{nanos}.json", std::process::id())))
}

#[test]
fn failed_refresh_keeps_the_last_good_snapshot() {
    let temp = temp_path("keep");
    let path = &temp.0;
    std::fs::write(path, TUTORIAL).unwrap();
    // Secondaries may transfer (a journal is kept).
    let networks = vec![crate::config::Cidr::parse("127.0.0.0/8").unwrap()];
    let c = Arc::new(Config {
        transfer_allow_from: networks,
        ..config()
    });
    let records = Arc::new(ArcSwap::from_pointee(Records::unloaded(crate::records::zone(&c))));
    let mut r = Refresher::new(c, StateSource::File(path.clone()), records.clone(), 2);
    r.tick();
    assert_eq!((r.successes, r.failures), (1, 0));
    let first = records.load_full();
    assert!(first.is_loaded());
    let nginx = vec![Ipv4Addr::new(10, 114, 227, 92)];
    assert_eq!(a_of(&first, "nginx.marathon-0.7.6.mesos."), nginx);

    for bad in [&b"not json"[..], br#"{"leader":""}"#] {
        std::fs::write(path, bad).unwrap();
        r.tick();
        assert!(
            Arc::ptr_eq(&first, &records.load_full()),
            "a failed refresh must not replace the snapshot"
        );
    }
    std::fs::remove_file(path).unwrap();
    r.tick();
    assert_eq!((r.successes, r.failures), (1, 3));
    assert!(Arc::ptr_eq(&first, &records.load_full()));

    std::fs::write(path, TUTORIAL).unwrap();
    r.tick();
    assert_eq!(r.successes, 2);
    let second = records.load_full();
    assert!(!Arc::ptr_eq(&first, &second));
    assert_eq!(second.serial(), first.serial(), "the same records keep their serial");
    assert_eq!(a_of(&second, "nginx.marathon-0.7.6.mesos."), nginx);
    assert!(second.journal().is_empty());

    let moved = String::from_utf8_lossy(TUTORIAL).replace("10.114.227.92", "10.114.227.93");
    std::fs::write(path, moved).unwrap();
    r.tick();
    let third = records.load_full();
    assert!(third.serial() > second.serial(), "a change moves the serial");
    assert_eq!(
        a_of(&third, "nginx.marathon-0.7.6.mesos."),
        [Ipv4Addr::new(10, 114, 227, 93)]
    );
    let change = &third.journal()[..];
    assert_eq!(change.len(), 1);
    assert_eq!(change[0].from_serial, second.serial());
    assert!(!change[0].deleted.is_empty() && !change[0].added.is_empty());
}

#[test]
fn unreachable_masters_leave_the_unloaded_snapshot() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = Arc::new(Config {
        masters: vec![crate::addr::HostPort::parse(&format!("127.0.0.1:{port}")).unwrap()],
        ..config()
    });
    let records = Arc::new(ArcSwap::from_pointee(Records::unloaded(crate::records::zone(&c))));
    let fetcher = Fetcher::from_config(&c)
        .unwrap()
        .with_follow_filter(crate::mesos::fetch::is_loopback_addr);
    let mut r = Refresher::new(c, StateSource::Masters(fetcher), records.clone(), 1);
    r.tick();
    assert_eq!((r.successes, r.failures), (0, 1));
    assert!(!records.load().is_loaded());
}

#[test]
fn serials_follow_the_clock_and_never_go_back() {
    assert_eq!(next_serial(0, 1_700_000_000), 1_700_000_000);
    assert_eq!(next_serial(1_700_000_000, 1_700_000_000), 1_700_000_001);
    assert_eq!(next_serial(1_700_000_005, 1_700_000_000), 1_700_000_006);
    assert_eq!(next_serial(5, u64::MAX), u32::MAX);
}

#[test]
fn records_print_as_zone_lines() {
    let a = Record {
        name: "nginx.marathon.mesos.".into(),
        data: RData::A(Ipv4Addr::new(10, 0, 0, 1)),
    };
    let srv = Record {
        name: "_nginx._tcp.marathon.mesos.".into(),
        data: RData::Srv {
            target: "nginx-x.marathon.slave.mesos.".into(),
            port: 31000,
        },
    };
    assert_eq!(
        RecordLine {
            record: &a,
            ttl: 60,
            weight: 1
        }
        .to_string(),
        "nginx.marathon.mesos. 60 IN A 10.0.0.1"
    );
    assert_eq!(
        RecordLine {
            record: &srv,
            ttl: 60,
            weight: 3
        }
        .to_string(),
        "_nginx._tcp.marathon.mesos. 60 IN SRV 0 3 31000 nginx-x.marathon.slave.mesos."
    );
}

#[test]
fn refresh_errors_say_what_to_fix() {
    let e = RefreshError::ReadFile {
        path: "/x/state.json".into(),
        error: io::Error::from(io::ErrorKind::NotFound),
    };
    assert!(e.to_string().starts_with("cannot read state file /x/state.json"), "{e}");
    assert_eq!(
        RefreshError::from(BuildError::NoLeader).to_string(),
        "the state document names no leader"
    );
}

/// A state with agents `S<n>` at `10.0.0.<n>`, a running task `web.<n>` on each of `tasks`, and
/// `recovered_slaves` (none: no such field).
fn failover_state(leader: &str, agents: &[u8], tasks: &[u8], recovered: Option<&[u8]>) -> String {
    let agent = |n: &u8| format!(r#"{{"id":"S{n}","pid":"slave(1)@10.0.0.{n}:5051","hostname":"10.0.0.{n}"}}"#);
    let task = |n: &u8| {
        format!(
            r#"{{"id":"web.{n}","name":"web","framework_id":"f1","slave_id":"S{n}","state":"TASK_RUNNING",
            "statuses":[{{"state":"TASK_RUNNING","timestamp":1.0}}]}}"#
        )
    };
    let list = |items: Vec<String>| items.join(",");
    let recovered = recovered.map_or(String::new(), |r| {
        format!(r#","recovered_slaves":[{}]"#, list(r.iter().map(agent).collect()))
    });
    format!(
        r#"{{"leader":"master@{leader}:5050","frameworks":[{{"id":"f1","name":"marathon","tasks":[{}]}}],
        "slaves":[{}]{recovered}}}"#,
        list(tasks.iter().map(task).collect()),
        list(agents.iter().map(agent).collect())
    )
}

#[test]
fn a_failover_carries_the_recovered_agents_tasks_through_the_pipeline() {
    let temp = temp_path("failover");
    let path = &temp.0;
    let c = Arc::new(Config {
        enumeration_on: false,
        ..config()
    });
    let records = Arc::new(ArcSwap::from_pointee(Records::unloaded(crate::records::zone(&c))));
    let mut r = Refresher::new(c, StateSource::File(path.clone()), records.clone(), 0);
    let web = |records: &Records| a_of(records, "web.marathon.mesos.");
    let ips = |n: &[u8]| -> Vec<Ipv4Addr> { n.iter().map(|&n| Ipv4Addr::new(10, 0, 0, n)).collect() };
    std::fs::write(path, failover_state("10.0.0.100", &[1, 2, 3], &[1, 2, 3], Some(&[]))).unwrap();
    r.tick();
    assert_eq!(web(&records.load()), ips(&[1, 2, 3]));
    std::fs::write(path, failover_state("10.0.0.101", &[1], &[1], Some(&[2, 3]))).unwrap();
    r.tick();
    assert_eq!(
        web(&records.load()),
        ips(&[1, 2, 3]),
        "carried (the list is kept without enumeration)"
    );
    assert_eq!(r.carried_tasks, 2);
    // Carried again from the snapshot that carried them.
    r.tick();
    assert_eq!(web(&records.load()), ips(&[1, 2, 3]));
    std::fs::write(path, failover_state("10.0.0.101", &[1], &[1], Some(&[3]))).unwrap();
    r.tick();
    assert_eq!(
        web(&records.load()),
        ips(&[1, 3]),
        "agent S2 left the list without re-registering"
    );
    assert_eq!((r.carried_tasks, r.failures), (1, 0));
}

#[test]
fn polls_keep_a_model_to_edit_unless_static_records_local_zones_or_v2_need_the_list() {
    let kept_with = |config: Config, file: bool, verbosity: u8| {
        let c = Arc::new(config);
        let records = Arc::new(ArcSwap::from_pointee(Records::unloaded(crate::records::zone(&c))));
        let source = match file {
            true => StateSource::File("/nonexistent/state.json".into()),
            false => StateSource::Masters(Fetcher::from_config(&c).unwrap()),
        };
        match Refresher::new(c, source, records, verbosity).cluster_for_config() {
            None => "list",
            Some(Cluster::Polled(_)) => "polled model",
            Some(Cluster::Streamed(_)) => "streamed model",
        }
    };
    let kept = |config: Config, file: bool| kept_with(config, file, 1);
    assert_eq!(kept(config(), false), "polled model");
    assert_eq!(
        kept_with(config(), false, 2),
        "list",
        "-v=2 logs every record from the list"
    );
    assert_eq!(kept(config(), true), "list", "a state file: each read is a full build");
    let local = Config {
        prefer_local_zone: true,
        ..config()
    };
    assert_eq!(kept(local, false), "list");
    let zone = temp_path("statics");
    std::fs::write(&zone.0, "static.mesos. 60 IN A 10.0.0.1\n").unwrap();
    let statics = Config {
        static_records_file: zone.0.display().to_string(),
        ..config()
    };
    assert_eq!(kept(statics, false), "list");
    let stream = Config {
        state_source: crate::config::StateSourceMode::Stream,
        ..config()
    };
    assert_eq!(kept(stream, false), "streamed model");
}

#[test]
fn a_document_the_model_cannot_hold_whole_is_built_from_its_records() {
    // The original's test state files `some-box` under a framework its `framework_id` does not name,
    // and gives `liquor.store` and `big.dog2` one task id.
    let fake = include_bytes!("../../tests/fixtures/fake.json");
    let model = model::Model::from_body(fake).unwrap();
    assert!(!model.holds_every_task());
    let tutorial = model::Model::from_body(TUTORIAL).unwrap();
    assert!(tutorial.holds_every_task());
}
