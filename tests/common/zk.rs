//! A real ZooKeeper (Debian's `zookeeper` package, run as a standalone server with its own `zoo.cfg` on a
//! free loopback port and a scratch data directory) and fake Mesos masters registered in it the way
//! Mesos registers: ephemeral sequential `json.info_` nodes (or `info_` with a protobuf `MasterInfo`, as
//! masters before 0.24) under the group path, held by a session of their own.
//!
//! Nodes are written through the crate's own ZooKeeper session (`create`/`delete` exist for this); the
//! real server is the judge of every byte it is sent.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mesos_dns::internals::mesos::zk::proto::err;
use mesos_dns::internals::mesos::zk::session::Session;
use serde_json::json;

use super::{free_port, scratch_dir, FakeMaster};

/// Where Debian puts ZooKeeper's jars; its manifest names the rest of the class path.
const JARS: [&str; 4] = [
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/zookeeper-jute.jar",
    "/usr/share/java/slf4j-api.jar",
    "/usr/share/java/slf4j-nop.jar",
];

/// How long a ZooKeeper start may take (a JVM start: about half a second on the dev machine).
const ZK_START_DEADLINE: Duration = Duration::from_secs(30);

/// The session timeout of registered masters: longer than any test, so they need no pings.
const MEMBER_SESSION: Duration = Duration::from_secs(60);

/// A standalone ZooKeeper server on 127.0.0.1; killed (and its data removed) on drop.
pub struct ZooKeeper {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
}

impl ZooKeeper {
    /// Starts a fresh server and waits until it opens sessions.
    pub fn start() -> ZooKeeper {
        let mut zk = ZooKeeper::not_started();
        zk.launch();
        zk
    }

    /// A fresh server's port and config, not running yet (its port refuses connections): start it with
    /// [`ZooKeeper::restart`].
    pub fn not_started() -> ZooKeeper {
        for jar in JARS {
            assert!(
                Path::new(jar).exists(),
                "{jar} is missing: the ZooKeeper tests need `apt-get install zookeeper` (and Java)"
            );
        }
        let port = free_port();
        let dir = scratch_dir("zk");
        let data = dir.join("data");
        std::fs::create_dir_all(&data).expect("create ZooKeeper data dir");
        let cfg = format!(
            "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             admin.enableServer=false\nmaxSessionTimeout=120000\nstandaloneEnabled=true\n\
             4lw.commands.whitelist=\n",
            data.display()
        );
        std::fs::write(dir.join("zoo.cfg"), cfg).expect("write zoo.cfg");
        ZooKeeper { child: None, port, dir }
    }

    fn launch(&mut self) {
        let log = std::fs::File::create(self.dir.join("zookeeper.log")).expect("create ZooKeeper log");
        let child = Command::new("java")
            .args(["-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp"])
            .arg(JARS.join(":"))
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(self.dir.join("zoo.cfg"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start java (ZooKeeper)");
        self.child = Some(child);
        let start = Instant::now();
        loop {
            if let Ok(s) = Session::connect(self.addr(), Duration::from_secs(5), None) {
                let _ = s.close();
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("ZooKeeper exited with {status}; its log:\n{}", self.log_text());
            }
            assert!(
                start.elapsed() < ZK_START_DEADLINE,
                "ZooKeeper did not open sessions on {} within {ZK_START_DEADLINE:?}; its log:\n{}",
                self.addr(),
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `127.0.0.1:port`, for a `zk` URL.
    pub fn host(&self) -> String {
        self.addr().to_string()
    }

    /// Kills the server (SIGKILL: as a crash); its port refuses connections afterwards.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        assert!(
            std::net::TcpStream::connect_timeout(&self.addr(), Duration::from_secs(1)).is_err(),
            "ZooKeeper still accepts after being killed"
        );
    }

    /// Starts the killed server again on the same port with the same data (nodes and sessions survive),
    /// or one made by [`ZooKeeper::not_started`] for the first time.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restart a killed or not started ZooKeeper only");
        self.launch();
    }

    /// A fresh session, for test-side changes.
    pub fn session(&self) -> Session {
        Session::connect(self.addr(), MEMBER_SESSION, None).expect("ZooKeeper session")
    }

    /// Registers `master` in the group at `path` as a Mesos 0.24+ master does (JSON `MasterInfo`).
    pub fn register_json(&self, path: &str, master: &FakeMaster) -> Member {
        self.register_json_at(path, master.addr().parse().expect("fake master address"))
    }

    /// [`ZooKeeper::register_json`] for a master at `addr` (any fake master).
    pub fn register_json_at(&self, path: &str, addr: SocketAddr) -> Member {
        let info = json!({
            "address": {"hostname": "localhost", "ip": addr.ip().to_string(), "port": addr.port()},
            "hostname": "localhost",
            "id": format!("master-{}", addr.port()),
            "pid": format!("master@{addr}"),
            "port": addr.port(),
            "version": "1.11.0",
        });
        self.register(path, "json.info_", &serde_json::to_vec(&info).expect("info JSON"))
    }

    /// Registers `master` as a master before 0.24 does (`info_` node, protobuf `MasterInfo`).
    pub fn register_legacy(&self, path: &str, master: &FakeMaster) -> Member {
        let addr: SocketAddr = master.addr().parse().expect("fake master address");
        let std::net::IpAddr::V4(ip) = addr.ip() else {
            panic!("fake masters listen on IPv4")
        };
        let info = encode_legacy_master_info(&format!("master-{}", addr.port()), ip, addr.port());
        self.register(path, "info_", &info)
    }

    /// Creates the group at `path` (and its parents) as persistent nodes, with no member yet; a group
    /// that exists is left as it is.
    pub fn create_group(&self, path: &str) {
        create_group(&mut self.session(), path);
    }

    fn register(&self, path: &str, prefix: &str, data: &[u8]) -> Member {
        let mut session = self.session();
        create_group(&mut session, path);
        let node = create(&mut session, &format!("{path}/{prefix}"), data, EPHEMERAL | SEQUENTIAL)
            .unwrap_or_else(|code| panic!("cannot register under {path}: ZooKeeper error {code}"));
        Member { session, node }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.join("zookeeper.log")).unwrap_or_default()
    }
}

/// `create` flags (ZooKeeper's `CreateMode`).
const EPHEMERAL: i32 = 1;
const SEQUENTIAL: i32 = 2;

/// Sends one request of `op` whose body `body` writes, framed as ZooKeeper frames it (the server only
/// reads, so the library has no write requests): the reply's error code and body.
fn write_request(session: &mut Session, op: i32, body: impl Fn(&mut Vec<u8>)) -> (i32, Vec<u8>) {
    let build = |xid: i32| {
        let mut f = vec![0; 4];
        f.extend_from_slice(&xid.to_be_bytes());
        f.extend_from_slice(&op.to_be_bytes());
        body(&mut f);
        let len = (f.len() - 4) as u32;
        f[..4].copy_from_slice(&len.to_be_bytes());
        f
    };
    session.request(build).expect("ZooKeeper write request")
}

/// A length-prefixed byte string.
fn buffer(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as i32).to_be_bytes());
    out.extend_from_slice(b);
}

/// `create(path, data, world:anyone all, flags)`: the path created, or ZooKeeper's error code.
fn create(session: &mut Session, path: &str, data: &[u8], flags: i32) -> Result<String, i32> {
    let (code, body) = write_request(session, 1, |f| {
        buffer(f, path.as_bytes());
        buffer(f, data);
        f.extend_from_slice(&1i32.to_be_bytes()); // one ACL entry:
        f.extend_from_slice(&31i32.to_be_bytes()); // every permission,
        buffer(f, b"world");
        buffer(f, b"anyone");
        f.extend_from_slice(&flags.to_be_bytes());
    });
    if code != err::OK {
        return Err(code);
    }
    // The reply body is the created path as a length-prefixed string.
    let len = body
        .get(..4)
        .map_or(0, |l| i32::from_be_bytes([l[0], l[1], l[2], l[3]]).max(0) as usize);
    Ok(String::from_utf8_lossy(body.get(4..4 + len).expect("created path")).into_owned())
}

/// `delete(path)` whatever its version.
pub fn delete(session: &mut Session, path: &str) -> Result<(), i32> {
    let (code, _) = write_request(session, 2, |f| {
        buffer(f, path.as_bytes());
        f.extend_from_slice(&(-1i32).to_be_bytes()); // any version
    });
    if code == err::OK {
        Ok(())
    } else {
        Err(code)
    }
}

/// A `MasterInfo` protobuf with `id`, `ip`, `port` and `pid`, as masters before 0.24 wrote them.
fn encode_legacy_master_info(id: &str, ip: std::net::Ipv4Addr, port: u16) -> Vec<u8> {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn bytes(out: &mut Vec<u8>, field: u64, b: &[u8]) {
        varint(out, (field << 3) | 2);
        varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }
    let mut out = Vec::new();
    bytes(&mut out, 1, id.as_bytes());
    varint(&mut out, 2 << 3);
    varint(&mut out, u64::from(u32::from_le_bytes(ip.octets())));
    varint(&mut out, 3 << 3);
    varint(&mut out, u64::from(port));
    bytes(&mut out, 4, format!("master@{ip}:{port}").as_bytes());
    out
}

fn create_group(session: &mut Session, path: &str) {
    let mut parent = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        parent = format!("{parent}/{part}");
        match create(session, &parent, b"", 0) {
            Ok(_) | Err(err::NODE_EXISTS) => {}
            Err(code) => panic!("cannot create {parent}: ZooKeeper error {code}"),
        }
    }
}

impl Drop for ZooKeeper {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A registered master: its ephemeral node lives as long as this session.
pub struct Member {
    session: Session,
    /// The node's full path (`/mesos/json.info_0000000003`).
    pub node: String,
}

impl Member {
    /// Leaves the group as a master that stops does: the session closes and the node goes with it.
    pub fn leave(self) {
        self.session.close().expect("close member session");
    }
}
