//! End-to-end: the README's Unbound stub zone for agents with a validating resolver (`<!-- unbound-stub -->`),
//! run as written by Debian's unbound with a root trust anchor, in front of the real binary on loopback,
//! and asked by `dig`. Each of its two `server:` lines is shown to matter by taking it out.
//!
//! Nothing leaves the host: the test's own lines point the root zone at a responder of ours on loopback
//! that refuses everything, and unbound sends only from 127.0.0.1. So no chain of trust can be built
//! here, where the real root would prove that `mesos` does not exist: either way a validated answer
//! from mesos-dns is bogus, and the log names the validator as the one that turned it down.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::upstream::{Behaviour, Unbound, Upstream};
use common::*;

/// The root zone's keys as Debian's `dns-root-data` package ships them.
const ROOT_KEY: &str = "/usr/share/dns/root.key";
/// The root KSK-2017 as a DS record (IANA's root-anchors.xml), for when `dns-root-data` is missing.
const ROOT_DS: &str = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";
/// The `stub-addr` the README names; the test's mesos-dns listens elsewhere.
const README_ADDR: &str = "127.0.0.1@8053";
/// RCODE REFUSED.
const REFUSED: u8 = 5;

/// The README's snippet with its `stub-addr` moved to the test server's port (the only change).
fn snippet_for(port: u16) -> String {
    let snippet = readme_block("<!-- unbound-stub -->");
    assert_eq!(
        snippet.matches(README_ADDR).count(),
        1,
        "the snippet names mesos-dns as {README_ADDR} once:\n{snippet}"
    );
    snippet.replace(README_ADDR, &format!("127.0.0.1@{port}"))
}

/// `snippet` without its line setting `key` (the comment above it may stay: it changes nothing).
fn without(snippet: &str, key: &str) -> String {
    let kept: Vec<&str> = snippet
        .lines()
        .filter(|l| !l.trim_start().starts_with(&format!("{key}:")))
        .collect();
    assert_eq!(
        kept.len() + 1,
        snippet.lines().count(),
        "the snippet sets `{key}` on exactly one line:\n{snippet}"
    );
    kept.join("\n") + "\n"
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The trust anchor, as a Debian agent has it: `auto-trust-anchor-file` on a writable copy of the
/// package's root key (unbound rewrites the file), or the root DS when the package is missing.
fn trust_anchor(dir: &Path) -> String {
    if Path::new(ROOT_KEY).exists() {
        let copy = dir.join("root.key");
        std::fs::copy(ROOT_KEY, &copy).expect("copy the root key");
        format!("    auto-trust-anchor-file: \"{}\"\n", copy.display())
    } else {
        format!("    trust-anchor: \"{ROOT_DS}\"\n")
    }
}

/// Starts unbound with `snippet` between the test's own lines: validation on with the root trust
/// anchor, queries sent only from 127.0.0.1, the root zone served by `root` (on loopback), and
/// `verbosity` (4 logs each address unbound skips).
fn unbound_with(snippet: &str, root: &Upstream, dir: &Path, verbosity: u8) -> Unbound {
    let config = format!(
        "    module-config: \"validator iterator\"\n\
         {anchor}\
         \x20   outgoing-interface: 127.0.0.1\n\
         \x20   val-log-level: 2\n\
         \x20   verbosity: {verbosity}\n\
         \n\
         {snippet}\n\
         stub-zone:\n\
         \x20   name: \".\"\n\
         \x20   stub-addr: {root}\n",
        anchor = trust_anchor(dir),
        root = root.addr().to_string().replace(':', "@"),
    );
    Unbound::start_with(&config)
}

/// `dig @127.0.0.1 -p PORT NAME A +dnssec` with recursion desired, as a stub resolver asks.
fn dig_recursive(port: u16, name: &str) -> Dig {
    let out = Command::new("dig")
        .args([
            "-r",
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            name,
            "A",
            "+dnssec",
            "+time=5",
            "+tries=1",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run dig (apt-get install -y dnsutils; .ci/run does)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "dig failed ({}):\n{text}", out.status);
    parse_dig(&text)
}

/// What asking through unbound gave.
struct Outcome {
    dig: Dig,
    /// unbound's log.
    log: String,
    /// The names the stand-in root servers were asked.
    root_names: Vec<String>,
    /// The port of the test's mesos-dns.
    mesos_dns_port: u16,
}

/// The tutorial's nginx asked through unbound running `snippet` (made from the README for the port of
/// the test's mesos-dns).
fn ask_through(snippet: impl FnOnce(u16) -> String, verbosity: u8) -> Outcome {
    let master = FakeMaster::serving(tutorial());
    let server = Server::start(&[master.addr()]);
    server.wait_loaded();
    let root = Upstream::start(Behaviour::Rcode(REFUSED));
    let dir = Scratch(scratch_dir("unbound-anchor"));
    let unbound = unbound_with(&snippet(server.port), &root, &dir.0, verbosity);
    let dig = dig_recursive(unbound.port, NGINX);
    Outcome {
        dig,
        log: unbound.log(),
        root_names: root.names(),
        mesos_dns_port: server.port,
    }
}

#[test]
fn the_readme_stub_zone_resolves_mesos_names_through_a_validating_unbound() {
    let Outcome {
        dig: d,
        log,
        root_names,
        ..
    } = ask_through(snippet_for, 1);
    assert_eq!(d.status, "NOERROR", "{}\nunbound log:\n{log}", d.raw);
    assert_eq!(d.answer_data("A"), vec![NGINX_IP.to_string()], "{}", d.raw);
    assert!(d.has_flag("ra"), "unbound recursed for us:\n{}", d.raw);
    assert!(
        !d.has_flag("ad"),
        "nothing in mesos is signed, so the answer is not authenticated:\n{}",
        d.raw
    );
    assert!(
        root_names.iter().all(|n| !n.ends_with("mesos")),
        "every question about mesos went to mesos-dns, none to the root: {root_names:?}"
    );
}

#[test]
fn without_domain_insecure_the_validator_fails_every_mesos_name() {
    let Outcome { dig: d, log, .. } = ask_through(|port| without(&snippet_for(port), "domain-insecure"), 1);
    assert_eq!(d.status, "SERVFAIL", "{}\nunbound log:\n{log}", d.raw);
    assert!(d.answer.is_empty(), "{}", d.raw);
    assert!(
        log.contains(&format!("validation failure <{NGINX}. A IN>")),
        "the validator turned mesos-dns's answer down:\n{log}"
    );
}

#[test]
fn without_do_not_query_localhost_unbound_never_asks_mesos_dns() {
    let Outcome {
        dig: d,
        log,
        mesos_dns_port,
        ..
    } = ask_through(|port| without(&snippet_for(port), "do-not-query-localhost"), 4);
    assert_eq!(d.status, "SERVFAIL", "{}\nunbound log:\n{log}", d.raw);
    assert!(d.answer.is_empty(), "{}", d.raw);
    assert!(
        log.contains(&format!(
            "skip addr on the donotquery list ip4 127.0.0.1 port {mesos_dns_port} "
        )),
        "unbound skipped the stub-addr on loopback:\n{log}"
    );
    assert!(!log.contains("validation failure"), "not a validation failure:\n{log}");
}
