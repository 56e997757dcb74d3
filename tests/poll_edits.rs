//! End-to-end tests of polls published as edits: a poll-mode server (`refreshSeconds` 1) against the
//! fake master, whose document changes by a task added and another removed between two polls. The
//! poll is published as an edit of those two tasks (the log says so), `dig` sees the new name and
//! NXDOMAIN for the gone one, and the IXFR journal (`dig` and `kdig`, `IXFR=serial`) holds exactly
//! that change: what AXFRs before and after differ by, in one delta; polls of the same document
//! after it are edits of no task and move no serial.

mod common;

use common::*;
use serde_json::json;

const WEB: &str = "web.marathon-0.7.6.mesos";
const EDITED_NONE: &str = "the poll differs from the last poll in 0 tasks only: edited, not rebuilt";

/// The tutorial with its `nginx` task replaced by `web` (another task id, the same agent and ports).
fn nginx_replaced_by_web() -> serde_json::Value {
    let mut state = tutorial();
    let tasks = tasks_mut(&mut state);
    let nginx = tasks
        .iter()
        .position(|t| t["name"] == "nginx")
        .expect("the tutorial's nginx");
    let mut web = tasks.remove(nginx);
    web["id"] = json!("web.0c1a2b3c-a36d-11e4-8c21-56847afe9799");
    web["name"] = json!("web");
    tasks.push(web);
    state
}

#[test]
fn a_poll_that_adds_a_task_and_removes_another_is_an_edit_whose_journal_holds_that_change() {
    let master = FakeMaster::serving(tutorial());
    let server = Server::start_with(&[master.addr()], json!({"transferAllowFrom": ["127.0.0.0/8"]}));
    server.wait_loaded();
    wait_until("a quiet poll published as an edit", CHANGE_DEADLINE, || {
        server.log_text().contains(EDITED_NONE)
    });
    let (before, s0) = (axfr_set(server.port, "dig"), current_serial(server.port));
    assert_eq!(server.a_records(NGINX), vec![NGINX_IP]);

    let mark = server.log_len();
    master.set_state(nginx_replaced_by_web());
    wait_until("web to resolve", CHANGE_DEADLINE, || {
        server.a_records(WEB) == vec![NGINX_IP]
    });
    let gone = server.ask(NGINX, 1, Transport::Udp);
    assert_eq!(gone.rcode, dns::NXDOMAIN, "nginx left with its task: {gone:?}");
    let log = server.log_since(mark).join("\n");
    assert!(
        log.contains("the poll differs from the last poll in 2 tasks only: edited, not rebuilt"),
        "the log says the poll was an edit of two tasks:\n{log}"
    );

    // The journal holds exactly that change: one delta, deleting nginx's records and adding web's.
    let (after, s1) = (axfr_set(server.port, "dig"), current_serial(server.port));
    assert!(s1 > s0, "the serial moves with the change: {s0} -> {s1}");
    let gone: std::collections::BTreeSet<Rec> = before.difference(&after).cloned().collect();
    let new: std::collections::BTreeSet<Rec> = after.difference(&before).cloned().collect();
    assert!(
        !gone.is_empty() && gone.iter().all(|r| r.0.contains("nginx")),
        "{gone:#?}"
    );
    assert!(!new.is_empty() && new.iter().all(|r| r.0.contains("web")), "{new:#?}");
    for tool in ["dig", "kdig"] {
        let text = run(tool, server.port, &["mesos", &format!("IXFR={s0}")]);
        let soas = transfer_records(&text).iter().filter(|r| r.1 == "SOA").count();
        assert_eq!(soas, 4, "{tool}: one delta, from {s0} to {s1}:\n{text}");
        let (deleted, added) = ixfr_changes(&text, s1).unwrap_or_else(|e| panic!("{tool} IXFR={s0}: {e}"));
        assert_eq!(deleted, gone, "{tool}: the delta deletes nginx's records");
        assert_eq!(added, new, "{tool}: the delta adds web's records");
    }

    // Polls of the same document again: edits of no task, the serial stays.
    let mark = server.log_len();
    wait_until("a quiet poll after the change", CHANGE_DEADLINE, || {
        server.log_since(mark).iter().any(|l| l.contains(EDITED_NONE))
    });
    assert_eq!(current_serial(server.port), s1, "a quiet poll moves no serial");
}
