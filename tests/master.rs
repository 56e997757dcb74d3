//! End-to-end: the master misbehaving. For each way a master can fail (refused, an error status, a body
//! that is not JSON, JSON that is not a state, no leader, a body too big to take, a master that never
//! answers, a leader that must not be contacted) the real binary keeps serving the records of the last
//! good refresh, logs why the refresh failed and counts it in `/metrics`. And a leader change on loopback
//! is followed.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::dns;
use common::*;
use serde_json::json;

/// A server with the HTTP API (for `/metrics`) that has loaded the tutorial from `master`.
struct Watched {
    master: FakeMaster,
    server: Server,
    http_port: u16,
}

impl Watched {
    /// The tutorial served by a fresh fake master, with `extra` config keys and `env` for the server.
    fn tutorial(extra: serde_json::Value, env: &[(&str, &str)]) -> Watched {
        let master = FakeMaster::serving(tutorial());
        Watched::on(master, extra, env)
    }

    fn on(master: FakeMaster, mut extra: serde_json::Value, env: &[(&str, &str)]) -> Watched {
        let http_port = free_port();
        if let Some(o) = extra.as_object_mut() {
            o.insert("httpon".into(), json!(true));
            o.insert("httpListener".into(), json!("127.0.0.1"));
            o.insert("httpport".into(), json!(http_port));
        }
        let server = Server::start_with_env(&[master.addr()], extra, env);
        server.wait_loaded();
        let w = Watched {
            master,
            server,
            http_port,
        };
        w.assert_old_records();
        w
    }

    /// `mesos_dns_refreshes_total{result="..."}` from `/metrics`.
    fn refreshes(&self, result: &str) -> u64 {
        let text = http_get_ok(self.http_port, "/metrics");
        let key = format!("mesos_dns_refreshes_total{{result=\"{result}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in /metrics:\n{text}"))
    }

    /// Runs `misbehave`, then waits until a refresh fails with a log line containing `why`, and checks
    /// that the failure was counted. Returns that log line.
    fn expect_failed_refresh(&self, why: &str, misbehave: impl FnOnce(&FakeMaster)) -> String {
        let failures_before = self.refreshes("failure");
        let mark = self.server.log_len();
        misbehave(&self.master);
        let mut found = None;
        wait_until(
            &format!("a failed refresh logged with {why:?}"),
            CHANGE_DEADLINE,
            || {
                found = self
                    .server
                    .log_since(mark)
                    .into_iter()
                    .find(|l| l.contains("state refresh failed") && l.contains(why));
                found.is_some()
            },
        );
        let line = found.unwrap_or_default();
        assert!(
            line.contains("keeping the records of"),
            "the log says the old records are kept: {line}"
        );
        // The counter is bumped before the line is printed.
        let failures = self.refreshes("failure");
        assert!(
            failures > failures_before,
            "failure counted: {failures_before} -> {failures}"
        );
        line
    }

    /// The tutorial's records answer, over UDP and TCP.
    fn assert_old_records(&self) {
        for transport in [Transport::Udp, Transport::Tcp] {
            let r = self.server.ask(NGINX, dns::A, transport);
            assert_eq!(r.rcode, dns::NOERROR, "{transport:?}: {r:?}");
            assert!(r.aa(), "{transport:?}: {r:?}");
            assert_eq!(r.answer_data(dns::A), vec![NGINX_IP.to_string()], "{transport:?}");
        }
        let leader = self.server.ask("leader.mesos", dns::A, Transport::Udp);
        assert_eq!(leader.answer_data(dns::A), vec!["127.0.0.1".to_owned()], "{leader:?}");
    }
}

/// The milliseconds in "state refresh failed after N ms".
fn failed_after_ms(line: &str) -> u64 {
    line.split("failed after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no duration in {line}"))
}

#[test]
fn every_kind_of_bad_answer_is_logged_counted_and_the_old_records_kept() {
    // e2e.rs shows the records survive some of these; here each one is also seen in the log and in
    // /metrics, one after the other on one server. Going down comes last: it cannot be undone.
    let mut w = Watched::tutorial(json!({}), &[]);
    let not_a_state = "the body is not a Mesos state document";
    let no_leader = "the state names no leader";
    type Misbehave = Box<dyn FnOnce(&FakeMaster)>;
    // No two neighbours fail with the same message: a failure that reads as the last one logged is
    // logged again only a minute later.
    let cases: Vec<(&str, Misbehave)> = vec![
        ("HTTP status 500", Box::new(|m| m.set_status(500))),
        (not_a_state, Box::new(|m| m.set_garbage())),
        // Valid JSON, but not a state document: an array, a string, null.
        (
            not_a_state,
            Box::new(|m| m.set_body(br#"[{"leader":"master@127.0.0.1:5050"}]"#)),
        ),
        // An object of another API (no state fields at all), and a state of a master outside the quorum.
        (
            no_leader,
            Box::new(|m| m.set_body(br#"{"message":"Not the leading master"}"#)),
        ),
        (not_a_state, Box::new(|m| m.set_body(br#""master@127.0.0.1:5050""#))),
        (no_leader, Box::new(|m| m.set_leaderless_state(tutorial_moved()))),
        (not_a_state, Box::new(|m| m.set_body(b"null"))),
    ];
    for (why, misbehave) in cases {
        w.expect_failed_refresh(why, misbehave);
        w.assert_old_records();
    }
    let successes = w.refreshes("success");
    let failures = w.refreshes("failure");
    // `go_down` needs the master mutably, so this case is spelt out.
    let mark = w.server.log_len();
    w.master.go_down();
    wait_until("a refused refresh after the master went down", CHANGE_DEADLINE, || {
        w.server
            .log_since(mark)
            .iter()
            .any(|l| l.contains("state refresh failed") && l.contains("connection refused"))
    });
    assert!(w.refreshes("failure") > failures, "the refused refresh is counted");
    w.assert_old_records();
    assert_eq!(w.refreshes("success"), successes, "no refresh succeeded meanwhile");
}

#[test]
fn master_that_never_answers_fails_the_refresh_after_state_timeout_seconds() {
    let w = Watched::tutorial(json!({ "stateTimeoutSeconds": 1 }), &[]);
    let line = w.expect_failed_refresh("timed out", |m| m.set_hang());
    let ms = failed_after_ms(&line);
    assert!(
        (900..4000).contains(&ms),
        "the refresh gave up after ~1 s, not {ms} ms: {line}"
    );
    // While refreshes keep hanging, queries are answered at once.
    w.master.wait_requests_since_change(3);
    let start = Instant::now();
    w.assert_old_records();
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "answers do not wait for the refresh: {:?}",
        start.elapsed()
    );
    // And it recovers when the master answers again.
    w.master.set_state(tutorial_moved());
    wait_until("the moved nginx after the hang", CHANGE_DEADLINE, || {
        w.server.a_records(NGINX) == vec![S2_IP]
    });
}

/// 2 GB: over the default body limit (1 GiB).
const HUGE: u64 = 2_000_000_000;
/// The peak RSS a server may reach while refusing a huge body: far below the body itself.
const RSS_CEILING: u64 = 64 * 1024 * 1024;

fn assert_peak_rss_far_below_the_body(w: &Watched, line: &str) {
    let peak = w.server.peak_rss();
    assert!(
        peak > 0 && peak < RSS_CEILING,
        "peak RSS {peak} bytes while refusing a {HUGE}-byte body ({line})"
    );
}

#[test]
fn body_announced_as_2_gb_is_refused_without_reading_it() {
    let w = Watched::tutorial(json!({}), &[]);
    let line = w.expect_failed_refresh("is larger than 1073741824 bytes", |m| m.set_huge(HUGE, true));
    w.assert_old_records();
    assert_peak_rss_far_below_the_body(&w, &line);
}

#[test]
fn body_of_unannounced_length_is_cut_at_the_limit() {
    // Without a Content-Length the body has to be read to find out; it is read up to the limit only.
    // The limit is lowered to 8 MiB so that the peak RSS shows the difference from the 2 GB body plainly.
    let limit = 8 * 1024 * 1024;
    let w = Watched::tutorial(json!({}), &[("MESOS_DNS_MAX_STATE_BYTES", &limit.to_string())]);
    let line = w.expect_failed_refresh(&format!("is larger than {limit} bytes"), |m| m.set_huge(HUGE, false));
    w.assert_old_records();
    assert_peak_rss_far_below_the_body(&w, &line);
}

#[test]
fn non_loopback_leader_is_chosen_but_not_contacted_in_tests() {
    // The master says another host leads. The server follows such a leader (with our port); under the
    // tests' loopback-only filter it refuses to contact 10.1.2.3, and that counts as a failed refresh.
    let w = Watched::tutorial(json!({}), &[]);
    let port = w
        .master
        .addr()
        .rsplit_once(':')
        .map(|(_, p)| p.to_owned())
        .unwrap_or_default();
    let line = w.expect_failed_refresh(
        &format!("not following the leader to 10.1.2.3:{port} (refused by the follow filter)"),
        |m| m.set_state_with_leader(tutorial_moved(), "10.1.2.3:5050"),
    );
    assert!(
        w.server.log_text().contains("MESOS_DNS_FOLLOW_LOOPBACK_ONLY"),
        "the server says the filter is on"
    );
    assert!(
        line.contains(&w.master.addr()),
        "names the master that pointed there: {line}"
    );
    w.assert_old_records();
}

/// Two fake masters on one port: A on 127.0.0.1, B on 127.0.0.2 (the original follows a leader with the
/// port it was given). `None` if 127.0.0.2 cannot be bound here.
fn two_masters() -> Option<(FakeMaster, FakeMaster)> {
    for _ in 0..20 {
        let b = FakeMaster::start_on("127.0.0.2", 0).ok()?;
        let port = b.addr().rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok())?;
        if let Ok(a) = FakeMaster::start_on("127.0.0.1", port) {
            return Some((a, b));
        }
    }
    None
}

#[test]
fn leader_change_to_another_loopback_master_is_followed() {
    let Some((a, b)) = two_masters() else {
        panic!("cannot bind fake masters on 127.0.0.1 and 127.0.0.2 with one port");
    };
    a.set_state(tutorial());
    b.set_state(tutorial_moved());
    let w = Watched::on(a, json!({}), &[]);
    assert_eq!(b.requests(), 0, "B is not asked while A leads");
    let successes = w.refreshes("success");

    // A loses the leadership to B: its state names B, whose state names itself.
    w.master.set_state_with_leader(tutorial(), &b.addr());
    wait_until("nginx from B's state", CHANGE_DEADLINE, || {
        w.server.a_records(NGINX) == vec![S2_IP]
    });
    assert_eq!(
        w.server.a_records("leader.mesos"),
        vec![Ipv4Addr::new(127, 0, 0, 2)],
        "leader.mesos is B"
    );
    assert!(b.requests() > 0);
    assert!(w.refreshes("success") > successes);
    assert!(
        !w.server.log_text().contains("state refresh failed"),
        "no refresh failed:\n{}",
        w.server.log_text()
    );
}
