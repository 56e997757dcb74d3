//! `leader.D`, `master.D` and `masterN.D`: numbered as in the original, and from ZooKeeper's group.

use super::*;

/// The master records alone for a leader string and masters list (domain `foo.com`).
fn master_records(leader: &str, masters: &[&str]) -> BTreeSet<String> {
    let doc = serde_json::json!({ "leader": leader }).to_string();
    // Config load and the ZooKeeper detector hand over addresses only: an entry that is not one never
    // reaches generation.
    let masters: Vec<HostPort> = masters.iter().filter_map(|m| HostPort::parse(m).ok()).collect();
    let list = gen_with(
        doc.as_bytes(),
        Opts {
            domain: "foo.com",
            masters: &masters,
            ..Opts::default()
        },
    );
    render(&list)
}

#[test]
fn masters_are_numbered_as_in_the_original() {
    let srv = [
        "_leader._tcp.foo.com. SRV 7 leader.foo.com.",
        "_leader._udp.foo.com. SRV 7 leader.foo.com.",
    ];
    let with = |extra: &[&str]| -> BTreeSet<String> {
        srv.iter()
            .copied()
            .chain(extra.iter().copied())
            .map(String::from)
            .collect()
    };
    for bad in ["", "@", "1@", "@2", "3@4", "5@0.0.0.6"] {
        assert!(master_records(bad, &[]).is_empty(), "{bad:?}");
    }
    let six = ["leader.foo.com. A 0.0.0.6", "master.foo.com. A 0.0.0.6"];
    let cases: &[(&str, &[&str], Vec<&str>)] = &[
        ("5@0.0.0.6:7", &[], vec!["master0.foo.com. A 0.0.0.6"]),
        ("5@0.0.0.6:7", &["0.0.0.6:7"], vec!["master0.foo.com. A 0.0.0.6"]),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9", "0.0.0.8:9"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9", "0.0.0.6:7"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9", "0.0.0.6:7", "0.0.0.6:7"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
        (
            "5@0.0.0.6:7",
            // The original's table has port 0 in these two; to the crate's one `host:port` parser
            // port 0 is no port (config and ZooKeeper never hand one over): see below.
            &["0.0.0.8:9", "0.0.0.6:7", "0.0.0.7:1"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master.foo.com. A 0.0.0.7",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
                "master2.foo.com. A 0.0.0.7",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9", "0.0.0.6:7", "[2001:db8::1]:1"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master.foo.com. AAAA 2001:db8::1",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
                "master2.foo.com. AAAA 2001:db8::1",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["0.0.0.8:9", "0.0.0.6:7", "0.0.0.7:0", "0.0.0.7:+5"],
            vec![
                "master.foo.com. A 0.0.0.8",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
        (
            "5@0.0.0.6:7",
            &["master1.example.com:5050", "not an address", "0.0.0.6:7"],
            vec![
                "master.foo.com. A 10.0.0.1",
                "master0.foo.com. A 10.0.0.1",
                "master1.foo.com. A 0.0.0.6",
            ],
        ),
    ];
    for (leader, masters, extra) in cases {
        let mut want: Vec<&str> = six.to_vec();
        want.extend(extra);
        assert_eq!(master_records(leader, masters), with(&want), "{leader} {masters:?}");
    }
    assert_eq!(
        master_records("5@[2001:db8::1]:7", &[]),
        with(&[
            "leader.foo.com. AAAA 2001:db8::1",
            "master.foo.com. AAAA 2001:db8::1",
            "master0.foo.com. AAAA 2001:db8::1"
        ])
    );
    // A leader named by host name is resolved.
    assert_eq!(
        master_records("master@leader.example.com:7", &[]),
        with(&[
            "leader.foo.com. A 10.0.0.9",
            "master.foo.com. A 10.0.0.9",
            "master0.foo.com. A 10.0.0.9"
        ])
    );
}

#[test]
fn zookeeper_masters_are_numbered_leader_first() {
    // The masters list as the ZooKeeper detector gives it: the leader, then the other members.
    let zk = ["10.0.0.2:5050", "10.0.0.1:5050", "10.0.0.3:5050"];
    let got = master_records("master@10.0.0.2:5050", &zk);
    let want: BTreeSet<String> = [
        "leader.foo.com. A 10.0.0.2",
        "_leader._tcp.foo.com. SRV 5050 leader.foo.com.",
        "_leader._udp.foo.com. SRV 5050 leader.foo.com.",
        "master.foo.com. A 10.0.0.2",
        "master.foo.com. A 10.0.0.1",
        "master.foo.com. A 10.0.0.3",
        "master0.foo.com. A 10.0.0.2",
        "master1.foo.com. A 10.0.0.1",
        "master2.foo.com. A 10.0.0.3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want);
}
