//! Knot DNS (`knotd`, Debian's `knot` package) as a secondary of the server under test: its config,
//! its process and what it logged and answers.

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::scratch_dir;

/// The TSIG key the transfer tests sign with (and Knot's config names).
pub const KEY_NAME: &str = "xfr-key";
pub const SECRET: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// `knotd` as a child with its own config and storage in a scratch directory; killed on drop.
pub struct Knot {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Knot {
    /// A secondary of `mesos` on `port` from our server at `master_port`, with the test key for
    /// transfers and for the NOTIFY messages it accepts; it transfers its copy to loopback clients.
    pub fn start(master_port: u16, port: u16) -> Knot {
        let dir = scratch_dir("knot");
        let d = dir.display();
        let config = format!(
            "server:\n    listen: 127.0.0.1@{port}\n    rundir: {d}\n\
             log:\n  - target: {d}/knot.log\n    any: info\n\
             database:\n    storage: {d}\n\
             key:\n  - id: {KEY_NAME}\n    algorithm: hmac-sha256\n    secret: {SECRET}\n\
             remote:\n  - id: mesos-dns\n    address: 127.0.0.1@{master_port}\n    key: {KEY_NAME}\n\
             acl:\n  - id: notify-from-mesos-dns\n    address: 127.0.0.1\n    key: {KEY_NAME}\n    action: notify\n\
             \x20 - id: transfer-to-loopback\n    address: 127.0.0.1\n    action: transfer\n\
             zone:\n  - domain: mesos\n    master: mesos-dns\n    acl: [notify-from-mesos-dns, transfer-to-loopback]\n    \
             zonefile-sync: -1\n    zonefile-load: none\n    journal-content: changes\n"
        );
        std::fs::write(dir.join("knot.conf"), config).expect("write knot.conf");
        let program = if Path::new("/usr/sbin/knotd").exists() {
            "/usr/sbin/knotd"
        } else {
            "knotd"
        };
        let stderr = File::create(dir.join("knotd.stderr")).expect("knotd stderr file");
        let child = Command::new(program)
            .arg("-c")
            .arg(dir.join("knot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start knotd (apt-get install -y knot; .ci/run does): {e}"));
        Knot { child, port, dir }
    }

    /// The port it answers on.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("knot.log")).unwrap_or_default()
    }

    /// The addresses Knot answers for `name` (empty when none yet).
    pub fn a_records(&self, name: &str) -> Vec<Ipv4Addr> {
        let out = Command::new("kdig")
            .args(["@127.0.0.1", "-p", &self.port.to_string()])
            .args(["+short", "+notcp", "+time=1", "+retry=0", name, "A"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run kdig (apt-get install -y knot-dnsutils): {e}"));
        let text = String::from_utf8_lossy(&out.stdout);
        let mut ips: Vec<Ipv4Addr> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        ips.sort();
        ips
    }

    /// How many transfers of `kind` (AXFR or IXFR) Knot logged as finished.
    pub fn finished(&self, kind: &str) -> usize {
        let tag = format!("{kind}, incoming");
        self.log()
            .lines()
            .filter(|l| l.contains(&tag) && l.contains("finished"))
            .count()
    }
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- knotd log ----\n{}\n---- end ----", self.log());
            eprintln!(
                "{}",
                std::fs::read_to_string(self.dir.join("knotd.stderr")).unwrap_or_default()
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
