//! The leader search's pure rules: where a `leader` field or a redirect leads, which addresses the
//! loopback filter allows, and how failures read.

use super::super::*;
use super::{addr, doc, run};

#[test]
fn same_host_leader_means_stay() {
    assert_eq!(next_hop(&addr("10.0.0.1:5050"), "master@10.0.0.1:5050"), Ok(Hop::Stay));
    assert_eq!(next_hop(&addr("Master-1:5050"), "master@master-1:5050"), Ok(Hop::Stay));
    assert_eq!(next_hop(&addr("[::1]:5050"), "master@[0:0::1]:5050"), Ok(Hop::Stay));
}

#[test]
fn other_leader_is_followed_with_the_port_we_were_given() {
    assert_eq!(
        next_hop(&addr("10.0.0.1:5050"), "master@10.0.0.2:5051"),
        Ok(Hop::Follow(addr("10.0.0.2:5050")))
    );
    assert_eq!(
        next_hop(&addr("10.0.0.1:8080"), "master@[2001:db8::2]:5050"),
        Ok(Hop::Follow(addr("[2001:db8::2]:8080")))
    );
}

#[test]
fn a_leader_must_be_a_whole_pid() {
    // Once read leniently (host only); the original's `leaderIP` also wants `name@host:port`.
    for leader in [
        "master@",
        "master@10.0.0.2",
        "10.0.0.2:5050",
        "master@:5050",
        "master@[::1",
        "master@10.0.0.2:+5",
    ] {
        assert_eq!(
            next_hop(&addr("10.0.0.1:5050"), leader),
            Err(Problem::BadLeader(leader.into())),
            "{leader}"
        );
    }
    let r = run(
        &["127.0.0.1:8000"],
        &[("http://127.0.0.1:8000/master/state", doc("master@127.0.0.2"))],
    );
    assert_eq!(r.problems(), [Problem::BadLeader("master@127.0.0.2".into())]);
}

#[test]
fn redirect_locations_give_host_and_port() {
    assert_eq!(
        redirect_target("//10.0.0.2:5050/master/state"),
        Some(addr("10.0.0.2:5050"))
    );
    assert_eq!(
        redirect_target("http://[::1]:5050/master/state?x"),
        Some(addr("[::1]:5050"))
    );
    assert_eq!(redirect_target("/master/state"), None);
    assert_eq!(redirect_target("http://host/master/state"), None);
    assert_eq!(redirect_target("http://host:+5/master/state"), None);
    assert_eq!(
        redirect_target("http://Leader.Mesos:5050/").map(|a| a.to_string()),
        Some("leader.mesos:5050".into())
    );
}

#[test]
fn loopback_filter_allows_only_loopback_literals() {
    assert!(is_loopback_addr(&addr("127.0.0.1:5050")));
    assert!(is_loopback_addr(&addr("127.3.2.1:1")));
    assert!(is_loopback_addr(&addr("[::1]:5050")));
    assert!(!is_loopback_addr(&addr("10.0.0.1:5050")));
    assert!(!is_loopback_addr(&addr("localhost:5050")));
    assert!(!is_loopback_addr(&addr("[2001:db8::1]:5050")));
}

#[test]
fn errors_name_the_master_and_what_failed() {
    let e = FetchError::AllFailed(vec![
        Attempt {
            master: "127.0.0.1:1".into(),
            url: Some("http://127.0.0.1:1/master/state".into()),
            problem: Problem::Refused,
        },
        Attempt {
            master: "127.0.0.1:2".into(),
            url: None,
            problem: Problem::Status(500),
        },
        Attempt {
            master: "127.0.0.1:3".into(),
            url: Some("http://127.0.0.1:3/master/state".into()),
            problem: Problem::FollowRefused(addr("[2001:db8::1]:3")),
        },
    ]);
    let text = e.to_string();
    assert!(
        text.starts_with(
            "no master gave a usable state document; \
             master 127.0.0.1:1: GET http://127.0.0.1:1/master/state: connection refused"
        ),
        "{text}"
    );
    assert!(text.contains("; master 127.0.0.1:2: HTTP status 500"), "{text}");
    assert!(
        text.contains(
            "GET http://127.0.0.1:3/master/state: not following the leader to [2001:db8::1]:3 \
             (refused by the follow filter)"
        ),
        "{text}"
    );
    assert_eq!(
        FetchError::ZkNeedsRestart.to_string(),
        "`masters` is empty and `zk` is only read at start: restart to detect the leader through ZooKeeper"
    );
}
