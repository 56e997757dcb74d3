//! The leader search driven by scripted masters: each test says what every URL answers and checks the
//! requests the search sends and how it ends.

use std::collections::HashMap;
use std::sync::Mutex;

use super::*;
use crate::mesos::iam::LoginProblem;

/// What a scripted master answers to one GET.
#[derive(Debug, Clone)]
enum Says {
    /// 200 with a state document naming this leader.
    Doc(String),
    /// A status other than 200, without a `Location`.
    Status(u16),
    /// 307 with this `Location`.
    Redirect(String),
    /// No usable answer (what the driver makes of a transport error or a bad body).
    Fails(Problem),
    /// The IAM login before the request failed.
    LoginFails,
}

fn doc(leader: &str) -> Says {
    Says::Doc(leader.to_owned())
}

fn login_error() -> IamError {
    IamError {
        endpoint: "http://127.0.0.1:1/acs/api/v1/auth/login".into(),
        problem: LoginProblem::Status(500),
    }
}

/// The requests a search sent, in order, and how it ended.
#[derive(Debug)]
struct Run {
    gets: Vec<String>,
    outcome: Result<Origin, FetchError>,
}

impl Run {
    fn attempts(&self) -> &[Attempt] {
        match &self.outcome {
            Err(FetchError::AllFailed(attempts)) => attempts,
            other => panic!("expected every master to fail, got {other:?}"),
        }
    }

    fn problems(&self) -> Vec<Problem> {
        self.attempts().iter().map(|a| a.problem.clone()).collect()
    }

    fn origin(&self) -> &Origin {
        match &self.outcome {
            Ok(origin) => origin,
            Err(e) => panic!("expected a document, got {e}"),
        }
    }
}

/// Masters as config load gives them.
fn addrs(masters: &[&str]) -> Vec<HostPort> {
    masters.iter().map(|m| HostPort::parse(m).unwrap()).collect()
}

/// Runs a search over `masters` as the driver would, answering each GET with `answer`. Fails the test if
/// the search sends more than `limit` requests.
fn run_with(masters: &[&str], follow: FollowFilter, limit: usize, mut answer: impl FnMut(&str) -> Says) -> Run {
    let masters = addrs(masters);
    let mut search = LeaderSearch::new(&masters, "http", "mesosCredentials", follow);
    let mut gets = Vec::new();
    let mut step = search.start();
    loop {
        let url = match step {
            Step::Get(url) => url,
            Step::GiveUp(e) => return Run { gets, outcome: Err(e) },
        };
        assert!(gets.len() < limit, "more than {limit} requests: {gets:?}");
        gets.push(url.clone());
        step = match answer(&url) {
            Says::Doc(leader) => match search.document(&leader) {
                Verdict::Accept(origin) => {
                    return Run {
                        gets,
                        outcome: Ok(origin),
                    }
                }
                Verdict::Next(next) => next,
            },
            Says::Status(status) => search.status(status, None),
            Says::Redirect(to) => search.status(307, Some(&to)),
            Says::Fails(problem) => search.failed(problem),
            Says::LoginFails => search.login_failed(login_error()),
        };
    }
}

/// [`run_with`] under the loopback filter, answering from a table of URL -> answer; any other URL gets
/// 404 (as a web server without the route).
fn run(masters: &[&str], script: &[(&str, Says)]) -> Run {
    let table: HashMap<String, Says> = script.iter().map(|(u, s)| (u.to_string(), s.clone())).collect();
    run_with(masters, is_loopback_addr, 100, |url| {
        table.get(url).cloned().unwrap_or(Says::Status(404))
    })
}

fn addr(s: &str) -> HostPort {
    HostPort::parse(s).unwrap()
}

#[test]
fn leader_document_is_accepted_from_the_first_request() {
    // The leader's port does not matter: the same host means this master is the leader.
    let r = run(
        &["127.0.0.1:8000"],
        &[("http://127.0.0.1:8000/master/state", doc("master@127.0.0.1:5050"))],
    );
    assert_eq!(r.gets, ["http://127.0.0.1:8000/master/state"]);
    assert_eq!(
        *r.origin(),
        Origin {
            master: "127.0.0.1:8000".into(),
            url: "http://127.0.0.1:8000/master/state".into(),
            leader: "master@127.0.0.1:5050".into(),
        }
    );
}

#[test]
fn old_master_falls_back_to_state_json_on_404() {
    let r = run(
        &["127.0.0.1:8000"],
        &[("http://127.0.0.1:8000/master/state.json", doc("master@127.0.0.1:1"))],
    );
    assert_eq!(
        r.gets,
        [
            "http://127.0.0.1:8000/master/state",
            "http://127.0.0.1:8000/master/state.json"
        ]
    );
    assert_eq!(r.origin().url, "http://127.0.0.1:8000/master/state.json");
}

#[test]
fn failing_master_is_skipped_for_the_next_and_an_error_status_is_not_a_reason_for_the_old_path() {
    let r = run(
        &["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"],
        &[
            ("http://127.0.0.1:8001/master/state", Says::Fails(Problem::Refused)),
            ("http://127.0.0.1:8002/master/state", Says::Status(500)),
            ("http://127.0.0.1:8003/master/state", doc("master@127.0.0.1:1")),
        ],
    );
    assert_eq!(
        r.gets,
        [
            "http://127.0.0.1:8001/master/state",
            "http://127.0.0.1:8002/master/state",
            "http://127.0.0.1:8003/master/state"
        ]
    );
    assert_eq!(r.origin().master, "127.0.0.1:8003");
}

#[test]
fn every_failure_is_reported_per_master_in_order() {
    let masters = [
        "127.0.0.1:8001",
        "127.0.0.1:8002",
        "127.0.0.1:8003",
        "127.0.0.1:8004",
        "127.0.0.1:8005",
    ];
    let r = run(
        &masters,
        &[
            ("http://127.0.0.1:8001/master/state", Says::Fails(Problem::Refused)),
            ("http://127.0.0.1:8002/master/state", Says::Status(503)),
            (
                "http://127.0.0.1:8003/master/state",
                Says::Fails(Problem::NotState("expected value".into())),
            ),
            ("http://127.0.0.1:8004/master/state", doc("")),
            // 8005 has no route: 404 on both paths.
        ],
    );
    assert_eq!(
        r.problems(),
        [
            Problem::Refused,
            Problem::Status(503),
            Problem::NotState("expected value".into()),
            Problem::NoLeader,
            Problem::Status(404),
        ]
    );
    let masters_named: Vec<_> = r.attempts().iter().map(|a| a.master.as_str()).collect();
    assert_eq!(masters_named, masters);
    assert_eq!(
        r.attempts()[4].url.as_deref(),
        Some("http://127.0.0.1:8005/master/state.json"),
        "the last URL asked"
    );
    assert_eq!(r.gets.len(), 6, "{:?}", r.gets);
}

#[test]
fn leader_on_another_host_is_fetched_with_our_port() {
    let r = run(
        &["127.0.0.1:8000"],
        &[
            ("http://127.0.0.1:8000/master/state", doc("master@127.0.0.2:9")),
            ("http://127.0.0.2:8000/master/state", doc("master@127.0.0.2:8000")),
        ],
    );
    assert_eq!(
        r.gets,
        [
            "http://127.0.0.1:8000/master/state",
            "http://127.0.0.2:8000/master/state"
        ]
    );
    assert_eq!(
        *r.origin(),
        Origin {
            master: "127.0.0.1:8000".into(),
            url: "http://127.0.0.2:8000/master/state".into(),
            leader: "master@127.0.0.2:8000".into(),
        }
    );
}

#[test]
fn a_followed_leader_that_is_an_old_master_is_asked_for_state_json() {
    let r = run(
        &["127.0.0.1:8000"],
        &[
            ("http://127.0.0.1:8000/master/state", doc("master@127.0.0.2:8000")),
            ("http://127.0.0.2:8000/master/state.json", doc("master@127.0.0.2:8000")),
        ],
    );
    assert_eq!(r.origin().url, "http://127.0.0.2:8000/master/state.json");
}

#[test]
fn non_loopback_leader_is_never_contacted_under_the_loopback_filter() {
    static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
    fn record(addr: &HostPort) -> bool {
        SEEN.lock().unwrap().push(addr.to_string());
        is_loopback_addr(addr)
    }
    let script: HashMap<&str, Says> = [
        ("http://127.0.0.1:8001/master/state", doc("master@192.0.2.1:5050")),
        (
            "http://127.0.0.1:8002/master/state",
            Says::Redirect("//192.0.2.1:5050/master/state".into()),
        ),
    ]
    .into_iter()
    .collect();
    let r = run_with(&["127.0.0.1:8001", "127.0.0.1:8002"], record, 100, |url| {
        script.get(url).cloned().unwrap_or(Says::Status(404))
    });
    assert_eq!(
        r.problems(),
        [
            Problem::FollowRefused(addr("192.0.2.1:8001")),
            Problem::FollowRefused(addr("192.0.2.1:5050"))
        ]
    );
    assert_eq!(*SEEN.lock().unwrap(), ["192.0.2.1:8001", "192.0.2.1:5050"]);
    assert!(
        r.gets.iter().all(|g| g.starts_with("http://127.0.0.1:")),
        "{:?}",
        r.gets
    );
}

#[test]
fn a_document_naming_yet_another_leader_after_a_follow_is_a_failure_not_the_cluster() {
    let r = run(
        &["127.0.0.1:8000", "127.0.0.1:8001"],
        &[
            (
                "http://127.0.0.1:8000/master/state",
                Says::Redirect("//127.0.0.1:8009/master/state".into()),
            ),
            // After one follow, a master naming yet another host is a follower (leadership moved
            // meanwhile): the next configured master is asked.
            ("http://127.0.0.1:8009/master/state", doc("master@127.0.0.9:1")),
            ("http://127.0.0.1:8001/master/state", doc("master@127.0.0.1:8001")),
        ],
    );
    assert_eq!(r.origin().url, "http://127.0.0.1:8001/master/state");
    assert_eq!(r.gets.len(), 3);
    // With no other master the refresh fails (and the last good records stay).
    let r = run(
        &["127.0.0.1:8000"],
        &[
            (
                "http://127.0.0.1:8000/master/state",
                Says::Redirect("//127.0.0.1:8009/master/state".into()),
            ),
            ("http://127.0.0.1:8009/master/state", doc("master@127.0.0.9:1")),
        ],
    );
    assert_eq!(r.problems(), [Problem::NotLeader("master@127.0.0.9:1".into())]);
}

#[test]
fn no_second_follow_a_redirect_after_a_follow_fails_the_master() {
    let r = run(
        &["127.0.0.1:8001", "127.0.0.1:8002"],
        &[
            (
                "http://127.0.0.1:8001/master/state",
                Says::Redirect("http://127.0.0.1:8009/master/state".into()),
            ),
            (
                "http://127.0.0.1:8009/master/state",
                Says::Redirect("http://127.0.0.1:8010/master/state".into()),
            ),
            ("http://127.0.0.1:8002/master/state", doc("master@127.0.0.2:1")),
            (
                "http://127.0.0.2:8002/master/state",
                Says::Redirect("http://127.0.0.1:8010/master/state".into()),
            ),
        ],
    );
    assert_eq!(
        r.problems(),
        [
            Problem::BadRedirect("http://127.0.0.1:8010/master/state".into()),
            Problem::BadRedirect("http://127.0.0.1:8010/master/state".into())
        ]
    );
    assert!(!r.gets.iter().any(|g| g.contains(":8010")), "{:?}", r.gets);
}

#[test]
fn unusable_redirects_fail_the_master() {
    let masters = ["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"];
    let script: HashMap<&str, Option<&str>> = [
        ("http://127.0.0.1:8001/master/state", None),
        ("http://127.0.0.1:8002/master/state", Some("/master/state")),
        ("http://127.0.0.1:8003/master/state", Some("http://host/master/state")),
    ]
    .into_iter()
    .collect();
    let masters = addrs(&masters);
    let mut search = LeaderSearch::new(&masters, "http", "mesosAuthentication", is_loopback_addr);
    let mut step = search.start();
    while let Step::Get(url) = step {
        step = search.status(302, script[url.as_str()]);
    }
    let Step::GiveUp(FetchError::AllFailed(attempts)) = step else {
        panic!("{step:?}")
    };
    let problems: Vec<_> = attempts.into_iter().map(|a| a.problem).collect();
    assert_eq!(
        problems,
        [
            Problem::BadRedirect("".into()),
            Problem::BadRedirect("/master/state".into()),
            Problem::BadRedirect("http://host/master/state".into())
        ]
    );
}

#[test]
fn refused_credentials_name_the_key_that_holds_them() {
    let r = run(
        &["127.0.0.1:8001", "127.0.0.1:8002"],
        &[
            ("http://127.0.0.1:8001/master/state", Says::Status(401)),
            ("http://127.0.0.1:8002/master/state", Says::Status(403)),
        ],
    );
    assert_eq!(
        r.problems(),
        [
            Problem::Unauthorized {
                status: 401,
                key: "mesosCredentials"
            },
            Problem::Unauthorized {
                status: 403,
                key: "mesosCredentials"
            }
        ]
    );
}

#[test]
fn a_failed_login_ends_the_search_without_asking_the_other_masters() {
    let r = run(
        &["127.0.0.1:8001", "127.0.0.1:8002"],
        &[("http://127.0.0.1:8001/master/state", Says::LoginFails)],
    );
    assert_eq!(r.gets, ["http://127.0.0.1:8001/master/state"]);
    assert_eq!(r.outcome.unwrap_err(), FetchError::Login(login_error()));
}

#[test]
fn no_masters_is_an_error() {
    let r = run(&[], &[]);
    assert!(r.gets.is_empty());
    assert_eq!(r.outcome.unwrap_err(), FetchError::NoMasters);
}

#[test]
fn urls_use_the_scheme_and_the_parsed_form_of_a_master() {
    let masters = addrs(&["Master-1:5050"]);
    let mut search = LeaderSearch::new(&masters, "https", "mesosCredentials", |_| true);
    assert_eq!(search.start(), Step::Get("https://master-1:5050/master/state".into()));
    // The same host in another case is this master; another host is printed as parsed.
    assert!(matches!(search.document("master@master-1:5051"), Verdict::Accept(_)));
    let mut search = LeaderSearch::new(&masters, "https", "mesosCredentials", |_| true);
    search.start();
    assert_eq!(
        search.document("master@Master-2:5051"),
        Verdict::Next(Step::Get("https://master-2:5050/master/state".into()))
    );
}

#[test]
fn every_search_ends_within_its_request_budget_against_masters_that_always_point_elsewhere() {
    let masters = ["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"];
    let budget = 2 * (1 + MAX_FOLLOWS) * masters.len(); // two paths per address
                                                        // Each address 404s the new path and redirects from the old one to a fresh address.
    let mut fresh = 9000;
    let r = run_with(&masters, is_loopback_addr, budget, |url| {
        if url.ends_with("/master/state") {
            return Says::Status(404);
        }
        fresh += 1;
        Says::Redirect(format!("//127.0.0.1:{fresh}/"))
    });
    assert_eq!(r.gets.len(), budget);
    assert_eq!(r.attempts().len(), masters.len());
    // Each document names a leader on another host (and the next one yet another).
    let mut host = 1;
    let r = run_with(&masters, is_loopback_addr, budget, |_| {
        host += 1;
        doc(&format!("master@127.0.0.{host}:5050"))
    });
    assert_eq!(
        r.gets.len(),
        2 * masters.len(),
        "each master followed once, then given up: {:?}",
        r.gets
    );
    assert!(r.problems().iter().all(|p| matches!(p, Problem::NotLeader(_))));
}

/// The pure rules under the search: the next hop, redirect targets, the loopback filter, error text.
mod rules;
