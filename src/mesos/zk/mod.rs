//! Leader detection through ZooKeeper (`zk` in config.json, behaviour spec section 3): a detector thread
//! keeps a session with one host of the ensemble (trying each in turn), lists the Mesos group with a
//! watch, reads every member's address and publishes them, the leader first, in a [`LeaderWatch`],
//! which wakes the refresher at once when they change. When every host is down (or the group empties)
//! the last masters stay published, so the refresher keeps fetching from the leader and the records stay.
//! It never gives up: an unreachable ensemble is tried again and again, with a backoff of 2 s at most,
//! and logged once a minute ([`crate::logline::throttle`]).
//!
//! This module owns the thread and the hand-over; [`proto`] owns the wire encoding, [`session`] the
//! socket, [`detect`] the choice and order of the members. The URL is parsed with the config
//! ([`ZkUrl`]). It does not fetch state: the refresher does, from the published leader.

pub(crate) mod detect;
pub(crate) mod proto;
pub(crate) mod session;

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

pub(crate) use crate::config::ZkUrl;
pub(crate) use detect::GroupMasters;
use proto::{err, event};
use session::{Session, SessionError};

use crate::addr::HostPort;
use crate::logline::throttle::Throttle;

/// The session timeout asked of ZooKeeper (Mesos' own default is 10 s).
pub(crate) const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The pause after every host of the ensemble failed, doubling up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How often a missing group path is listed again (it has no child watch until it exists).
const NO_GROUP_POLL: Duration = Duration::from_secs(1);

/// The group's masters as last seen in ZooKeeper, shared between the detector (writer) and the
/// refresher.
#[derive(Default)]
pub(crate) struct LeaderWatch {
    inner: Mutex<Published>,
    changed: Condvar,
}

#[derive(Default)]
struct Published {
    masters: Option<GroupMasters>,
    /// Bumped at each change, so a reader can tell whether it has seen the latest.
    version: u64,
    waiter: Option<Thread>,
    /// `zkDetectionTimeout` passed before any leader was named: the configured masters may be used.
    timed_out: bool,
}

impl LeaderWatch {
    fn lock(&self) -> MutexGuard<'_, Published> {
        // A panic elsewhere while holding the lock leaves a value that is still whole: keep using it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes the group's masters; a change (of the leader or of any other member) wakes the
    /// registered thread and any [`LeaderWatch::wait_first`]. Returns whether it was a change.
    pub(crate) fn publish(&self, masters: GroupMasters) -> bool {
        let mut p = self.lock();
        if p.masters.as_ref() == Some(&masters) {
            return false;
        }
        p.masters = Some(masters);
        p.version += 1;
        if let Some(t) = &p.waiter {
            t.unpark();
        }
        self.changed.notify_all();
        true
    }

    /// The current masters and their version (0 until the first).
    pub(crate) fn current(&self) -> (Option<GroupMasters>, u64) {
        let p = self.lock();
        (p.masters.clone(), p.version)
    }

    /// `thread` is unparked at every change from now on.
    pub(crate) fn wake_on_change(&self, thread: Thread) {
        self.lock().waiter = Some(thread);
    }

    /// Says that `zkDetectionTimeout` passed with no leader named: [`LeaderWatch::wait_first`] returns
    /// from now on, and [`LeaderWatch::detection_timed_out`] is true.
    pub(crate) fn time_out_detection(&self) {
        self.lock().timed_out = true;
        self.changed.notify_all();
    }

    /// Whether `zkDetectionTimeout` passed before ZooKeeper named a leader (it stays true once a
    /// leader is named; what counts then is the leader).
    pub(crate) fn detection_timed_out(&self) -> bool {
        self.lock().timed_out
    }

    /// Waits for the first masters (with their leader), at most `timeout` (`None`: for ever), and not
    /// at all once the detection has timed out (`None` then, while no leader is named).
    pub(crate) fn wait_first(&self, timeout: Option<Duration>) -> Option<GroupMasters> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut p = self.lock();
        loop {
            if let Some(m) = &p.masters {
                return Some(m.clone());
            }
            if p.timed_out {
                return None;
            }
            p = match deadline {
                None => self.changed.wait(p).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    self.changed.wait_timeout(p, left).unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
    }
}

/// Starts the detector thread (`mesos-dns-zk`) for this URL; it runs for the life of the process.
pub(crate) fn spawn_detector(url: ZkUrl, watch: Arc<LeaderWatch>) -> std::io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("mesos-dns-zk".into())
        .spawn(move || detect_forever(&url, &watch))
}

fn detect_forever(url: &ZkUrl, watch: &LeaderWatch) {
    log::info!("detecting the leading Mesos master through {url}");
    let mut backoff = MIN_BACKOFF;
    // Each host's outage logs its first failure, then a line a minute with the count left out, and
    // its end.
    let mut outages: Vec<Throttle> = url.hosts.iter().map(|_| Throttle::default()).collect();
    loop {
        let mut had_session = false;
        for (host, outage) in url.hosts.iter().zip(&mut outages) {
            let mut listed = false;
            let e = match follow(host, url, watch, outage, &mut listed) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            had_session |= listed;
            let Some(suppressed) = outage.failure(Instant::now(), &e.to_string()) else {
                log::debug!("ZooKeeper {host}: {e}");
                continue;
            };
            match listed {
                true => log::warn!(
                    "lost the ZooKeeper session with {host}: {e}; reconnecting (keeping the last leader){suppressed}"
                ),
                false => {
                    log::warn!("cannot use ZooKeeper {host}: {e}; retrying (a leader named before is kept){suppressed}")
                }
            }
        }
        // Only a session that worked resets the pause: one that breaks before listing the group (a
        // server that refuses it) is retried no faster than an unreachable one.
        backoff = if had_session {
            MIN_BACKOFF
        } else {
            (backoff * 2).min(MAX_BACKOFF)
        };
        thread::sleep(backoff);
    }
}

enum Never {}

/// One session with one host: list the group, publish its masters, wait for the watch, again. Returns
/// only when the session breaks; `listed` says whether it listed the group (it worked). The first
/// listing ends the host's `outage`, and is logged.
fn follow(
    host: &HostPort,
    url: &ZkUrl,
    watch: &LeaderWatch,
    outage: &mut Throttle,
    listed: &mut bool,
) -> Result<Never, SessionError> {
    let addr = resolve(host)?;
    let mut s = Session::connect(addr, SESSION_TIMEOUT, url.digest.as_deref())?;
    let timeout_ms = s.timeout().as_millis();
    match outage.failing() {
        false => log::info!("connected to ZooKeeper {host} (session timeout {timeout_ms} ms)"),
        true => log::debug!("connected to ZooKeeper {host} (session timeout {timeout_ms} ms)"),
    }
    let mut warned_missing = false;
    loop {
        let children = s.get_children(&url.path, true)?;
        if !*listed {
            *listed = true;
            if let Some(failures) = outage.recovered() {
                let attempts = if failures == 1 { "attempt" } else { "attempts" };
                log::info!(
                    "connected to ZooKeeper {host} (session timeout {timeout_ms} ms) after {failures} failed {attempts}"
                );
            }
        }
        let children = match children {
            Ok(c) => c,
            Err(err::NO_NODE) => {
                if !warned_missing {
                    log::warn!("ZooKeeper has no {} yet (no master has registered)", url.path);
                    warned_missing = true;
                }
                s.wait_event(Instant::now() + NO_GROUP_POLL)?;
                continue;
            }
            Err(code) => return Err(SessionError::Server(code)),
        };
        warned_missing = false;
        let names: Vec<&str> = children.iter().map(String::as_str).collect();
        let nodes = detect::member_nodes(&names);
        let leader_path = nodes.first().map(|n| url.child(n)).unwrap_or_default();
        match read_members(&mut s, url, &nodes)? {
            GroupRead::Empty => log::warn!(
                "no master in the ZooKeeper group {}: keeping the last masters",
                url.path
            ),
            // Gone between the listing and the read: the child watch has fired, list again.
            GroupRead::LeaderGone => {}
            GroupRead::LeaderUnreadable(e) => {
                log::warn!("ZooKeeper {leader_path}: {e}; keeping the last masters");
            }
            GroupRead::Masters(masters) => publish(watch, masters, &leader_path),
        }
        // Until the group changes (or the session breaks).
        loop {
            let far = Instant::now() + Duration::from_secs(3600);
            if let Some(ev) = s.wait_event(far)? {
                if ev.kind == event::NODE_CHILDREN_CHANGED || ev.kind == event::NODE_DELETED || ev.kind == event::NONE {
                    break;
                }
            }
        }
    }
}

/// What reading the group's member nodes gave.
enum GroupRead {
    /// No member node.
    Empty,
    /// The leader's node went away after the listing.
    LeaderGone,
    /// The leader's node holds no usable address.
    LeaderUnreadable(detect::InfoError),
    Masters(GroupMasters),
}

/// Reads the member nodes (`nodes`: the leader first, see [`detect::member_nodes`]). A member other than
/// the leader that is gone or unreadable is left out (the latter with a warning).
fn read_members(s: &mut Session, url: &ZkUrl, nodes: &[&str]) -> Result<GroupRead, SessionError> {
    let Some((leader_node, other_nodes)) = nodes.split_first() else {
        return Ok(GroupRead::Empty);
    };
    let leader = match read_member(s, url, leader_node)? {
        None => return Ok(GroupRead::LeaderGone),
        Some(Err(e)) => return Ok(GroupRead::LeaderUnreadable(e)),
        Some(Ok(addr)) => addr,
    };
    let mut others = Vec::with_capacity(other_nodes.len());
    for node in other_nodes {
        match read_member(s, url, node)? {
            None => {}
            Some(Err(e)) => log::warn!("ZooKeeper {}: {e}; this master is left out", url.child(node)),
            Some(Ok(addr)) => others.push(addr),
        }
    }
    Ok(GroupRead::Masters(GroupMasters::new(leader, others)))
}

/// One member's address; `None` when its node is gone.
fn read_member(
    s: &mut Session,
    url: &ZkUrl,
    node: &str,
) -> Result<Option<Result<HostPort, detect::InfoError>>, SessionError> {
    match s.get_data(&url.child(node), false)? {
        Err(err::NO_NODE) => Ok(None),
        Err(code) => Err(SessionError::Server(code)),
        Ok(data) => Ok(Some(detect::master_addr(&data, detect::is_json_node(node)))),
    }
}

/// Publishes the masters read from the group, logging what changed; `leader_path` is the leader's node.
fn publish(watch: &LeaderWatch, masters: GroupMasters, leader_path: &str) {
    let previous_leader = watch.current().0.map(|m| m.leader);
    let listed = masters
        .addresses()
        .iter()
        .map(HostPort::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let new_leader = previous_leader.as_ref() != Some(&masters.leader);
    let leader = masters.leader.to_string();
    if !watch.publish(masters) {
        return;
    }
    if new_leader {
        log::info!("ZooKeeper names the leading master {leader} ({leader_path}); masters: {listed}");
    } else {
        log::info!("the masters registered in ZooKeeper changed: {listed}");
    }
}

fn resolve(host: &HostPort) -> Result<SocketAddr, SessionError> {
    host.to_socket_addrs()?.next().ok_or_else(|| {
        SessionError::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{host} does not resolve"),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> HostPort {
        HostPort::parse("10.0.0.1:1").unwrap().with_port(port)
    }

    fn led_by(port: u16, others: &[u16]) -> GroupMasters {
        GroupMasters::new(addr(port), others.iter().map(|p| addr(*p)))
    }

    #[test]
    fn publishing_wakes_the_waiting_thread_once_per_change() {
        let watch = Arc::new(LeaderWatch::default());
        assert_eq!(watch.wait_first(Some(Duration::from_millis(10))), None);
        let w = watch.clone();
        let waiter = thread::spawn(move || w.wait_first(None));
        assert!(watch.publish(led_by(5050, &[])));
        assert_eq!(waiter.join().unwrap(), Some(led_by(5050, &[])));
        assert!(!watch.publish(led_by(5050, &[])), "the same masters are no change");
        assert_eq!(watch.current(), (Some(led_by(5050, &[])), 1));
        assert!(watch.publish(led_by(5051, &[])));
        assert_eq!(watch.current().1, 2);
        assert!(watch.publish(led_by(5051, &[5052])), "a new member is a change");
        assert!(watch.publish(led_by(5051, &[])), "a member that left is a change");
        assert_eq!(watch.current().1, 4);
    }

    #[test]
    fn a_detection_timeout_ends_the_wait_for_a_first_leader() {
        let watch = Arc::new(LeaderWatch::default());
        assert!(!watch.detection_timed_out());
        let w = watch.clone();
        let waiter = thread::spawn(move || w.wait_first(None));
        watch.time_out_detection();
        assert_eq!(waiter.join().unwrap(), None, "the waiter returns without a leader");
        assert!(watch.detection_timed_out());
        assert_eq!(watch.wait_first(None), None, "and later waits do not wait");
        assert_eq!(watch.current(), (None, 0), "a timeout is no change of masters");
        // A leader named later is followed: it is what a wait returns from now on.
        assert!(watch.publish(led_by(5050, &[])));
        assert_eq!(watch.wait_first(None), Some(led_by(5050, &[])));
    }
}
