//! Where state documents come from ([`StateSource`]): the configured masters, a state file, or the
//! masters ZooKeeper names; and the pure decision of which masters a refresh with `zk` fetches from and
//! names ([`zk_masters`]).

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::addr::HostPort;
use crate::config::Config;
use crate::mesos::fetch::{Fetcher, MAX_BODY_BYTES};
use crate::mesos::zk::{GroupMasters, LeaderWatch};

use super::RefreshError;

/// Where state documents come from.
pub(crate) enum StateSource {
    /// The leading master among the configured ones, over HTTP.
    Masters(Fetcher),
    /// A state JSON file, read again at each refresh (`--state-file`: demos and offline tests).
    File(PathBuf),
    /// The masters that ZooKeeper names (`zk`), over HTTP: the leader first, then the other members,
    /// then the configured `masters` (which are used alone while ZooKeeper names no leader, with
    /// `zkDetectionTimeout` 0 or once it has passed). A change in the group wakes the refresher at once.
    ZooKeeper(ZkLeader),
}

/// The refresher's side of ZooKeeper leader detection.
pub(crate) struct ZkLeader {
    pub(super) watch: Arc<LeaderWatch>,
    /// The version of the masters the last refresh used.
    seen: AtomicU64,
    /// The one fetcher of the ZooKeeper source (TLS, credentials, timeout, test hooks); its masters are
    /// set to [`ZkMasters::fetch`] at each refresh.
    pub(super) fetcher: Fetcher,
}

/// Which masters one refresh with `zk` fetches from and names in the `master*` records.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ZkMasters {
    /// Tried in this order.
    pub(super) fetch: Vec<HostPort>,
    /// The masters list of record generation (`master0.D` is its first).
    pub(super) named: Vec<HostPort>,
}

/// With masters published by ZooKeeper: they are named (the leader first, as Go's detector reports
/// them) and fetched from in that order, followed by the configured masters not among them. Without
/// (no leader named yet): the configured masters, fetched from and named, when `fall_back` (see
/// [`ZkLeader::falls_back`]: `zkDetectionTimeout` is 0, spec section 3, or has passed); otherwise, or
/// with none configured, there is nothing to refresh from.
///
/// We: the configured masters stay in use until ZooKeeper names a leader. Go replaces them with the
/// group's members as soon as it lists the group, so an empty group leaves it nothing to fetch from.
/// And Go exits when `zkDetectionTimeout` passes; we fall back on the configured masters.
pub(super) fn zk_masters(
    published: Option<&GroupMasters>,
    configured: &[HostPort],
    fall_back: bool,
) -> Result<ZkMasters, RefreshError> {
    match published {
        Some(group) => {
            let named = group.addresses();
            let mut fetch = named.clone();
            fetch.extend(configured.iter().filter(|m| !named.contains(m)).cloned());
            Ok(ZkMasters { fetch, named })
        }
        None if fall_back && !configured.is_empty() => Ok(ZkMasters {
            fetch: configured.to_vec(),
            named: configured.to_vec(),
        }),
        None => Err(RefreshError::NoZkLeader),
    }
}

impl ZkLeader {
    /// The masters for a refresh now, noting the version used (see [`StateSource::leader_changed`]).
    pub(super) fn masters_for_refresh(&self, config: &Config) -> Result<ZkMasters, RefreshError> {
        let (published, version) = self.watch.current();
        self.seen.store(version, Ordering::Relaxed);
        zk_masters(published.as_ref(), &config.masters, self.falls_back(config))
    }

    /// Whether the configured masters stand in while ZooKeeper names no leader: with
    /// `zkDetectionTimeout` 0 at once, else once it has passed (the watch says so).
    pub(super) fn falls_back(&self, config: &Config) -> bool {
        config.zk_detection_timeout == 0 || self.watch.detection_timed_out()
    }
}

impl ZkLeader {
    /// Follows the masters published in `watch` (by [`crate::mesos::zk::spawn_detector`]).
    pub(crate) fn new(watch: Arc<LeaderWatch>, fetcher: Fetcher) -> ZkLeader {
        ZkLeader {
            watch,
            seen: AtomicU64::new(0),
            fetcher,
        }
    }
}

impl StateSource {
    pub(super) fn describe(&self) -> String {
        match self {
            StateSource::Masters(f) => {
                let masters: Vec<String> = f.masters().iter().map(HostPort::to_string).collect();
                format!("masters {}", masters.join(", "))
            }
            StateSource::File(p) => format!("state file {}", p.display()),
            StateSource::ZooKeeper(_) => "the masters named by ZooKeeper".to_owned(),
        }
    }

    /// Whether the masters published by ZooKeeper (the leader or any other member) changed since the
    /// last refresh.
    pub(super) fn leader_changed(&self) -> bool {
        match self {
            StateSource::ZooKeeper(zk) => zk.watch.current().1 != zk.seen.load(Ordering::Relaxed),
            _ => false,
        }
    }
}

/// Reads a state file, refusing one over [`MAX_BODY_BYTES`] without reading it all.
pub(super) fn read_capped(path: &PathBuf) -> Result<Vec<u8>, RefreshError> {
    let read_err = |error| RefreshError::ReadFile {
        path: path.clone(),
        error,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut body = Vec::new();
    file.take(MAX_BODY_BYTES + 1).read_to_end(&mut body).map_err(read_err)?;
    if body.len() as u64 > MAX_BODY_BYTES {
        return Err(RefreshError::FileTooBig { path: path.clone() });
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(leader: &str, others: &[&str]) -> GroupMasters {
        let addr = |a: &str| HostPort::parse(a).unwrap();
        GroupMasters::new(addr(leader), others.iter().map(|o| addr(o)))
    }

    fn addrs(list: &[&str]) -> Vec<HostPort> {
        list.iter().map(|s| HostPort::parse(s).unwrap()).collect()
    }

    fn shown(list: &[HostPort]) -> Vec<String> {
        list.iter().map(HostPort::to_string).collect()
    }

    #[test]
    fn zookeeper_masters_are_named_leader_first_and_fetched_before_the_configured() {
        let published = group("10.0.0.2:5050", &["10.0.0.1:5050", "10.0.0.3:5050"]);
        let configured = addrs(&["10.0.0.1:5050", "10.0.0.9:5050"]);
        for fall_back in [true, false] {
            let m = zk_masters(Some(&published), &configured, fall_back).unwrap();
            assert_eq!(shown(&m.named), ["10.0.0.2:5050", "10.0.0.1:5050", "10.0.0.3:5050"]);
            assert_eq!(
                shown(&m.fetch),
                ["10.0.0.2:5050", "10.0.0.1:5050", "10.0.0.3:5050", "10.0.0.9:5050"]
            );
        }
        let alone = zk_masters(Some(&group("10.0.0.2:5050", &[])), &[], false).unwrap();
        assert_eq!(shown(&alone.named), ["10.0.0.2:5050"]);
        assert_eq!(shown(&alone.fetch), ["10.0.0.2:5050"]);
    }

    #[test]
    fn without_a_zookeeper_leader_the_configured_masters_serve_only_when_falling_back() {
        let configured = addrs(&["10.0.0.1:5050", "10.0.0.9:5050"]);
        let m = zk_masters(None, &configured, true).unwrap();
        assert_eq!(m.named, configured);
        assert_eq!(m.fetch, configured);
        assert!(matches!(
            zk_masters(None, &configured, false),
            Err(RefreshError::NoZkLeader)
        ));
        assert!(matches!(zk_masters(None, &[], true), Err(RefreshError::NoZkLeader)));
    }

    #[test]
    fn the_configured_masters_stand_in_with_timeout_zero_or_once_it_passed() {
        let zk = ZkLeader::new(
            Arc::new(LeaderWatch::default()),
            Fetcher::with_config(&Config::default(), Vec::new()).unwrap(),
        );
        let with_timeout = |secs| Config {
            zk_detection_timeout: secs,
            ..Config::default()
        };
        assert!(zk.falls_back(&with_timeout(0)));
        assert!(!zk.falls_back(&with_timeout(30)), "not before the timeout");
        zk.watch.time_out_detection();
        assert!(zk.falls_back(&with_timeout(30)), "once it passed");
    }
}
