//! The pipeline from one state document to a records snapshot: reject a document without a leader,
//! resolve the host names it needs ([`super::generate::lookup`]: listed by a pure step, then looked up
//! through the `resolve` callback, the pipeline's only I/O), generate the records from the state, the
//! config and those addresses ([`super::generate`], spec section 4, pure) and index them
//! ([`Records::build`]). The refresher, the benches, the fuzz targets and the HTTP tests all build
//! snapshots through here.

use std::fmt;
use std::net::IpAddr;

use crate::addr::HostPort;
use crate::config::Config;
#[cfg(any(test, feature = "internals"))]
use crate::mesos::state::parse_header;
use crate::mesos::state::{Header, State};
use crate::records::generate::lookup::{names_to_resolve, HostAddrs};
use crate::records::generate::{generate, generate_fixed, generate_streamed, GenInput, TaskGen};
use crate::records::label::Spec;
use crate::snapshot::RecordList;
#[cfg(any(test, feature = "internals"))]
use crate::snapshot::Records;

/// Why a document gave no records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// The document is not a Mesos state document.
    NotState(String),
    /// The document names no leader: the master it came from is not part of a working quorum.
    NoLeader,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NotState(e) => write!(f, "not a Mesos state document: {e}"),
            BuildError::NoLeader => write!(f, "the state document names no leader"),
        }
    }
}

impl std::error::Error for BuildError {}

/// Parses one state document and builds its snapshot: rejects a document without a leader, generates
/// the records (spec section 4) and indexes them. `masters_for_records` are the masters the `master*`
/// records name; `self_addrs` get the `SOAMname` records; `resolve` looks up host names; `serial` is the
/// SOA serial. Returns the snapshot and the record list it was built from (for logging and the HTTP API).
#[cfg(any(test, feature = "internals"))]
pub fn build_snapshot(
    config: &Config,
    body: &[u8],
    masters_for_records: &[HostPort],
    self_addrs: &[IpAddr],
    resolve: &dyn Fn(&str) -> Vec<IpAddr>,
    serial: u32,
) -> Result<(Records, RecordList), BuildError> {
    let header = parse_header(body).map_err(|e| BuildError::NotState(e.to_string()))?;
    let list = generate_from_body(config, &header, body, masters_for_records, self_addrs, resolve)?;
    let records = Records::build(super::zone(config), &list, serial);
    Ok((records, list))
}

/// [`build_snapshot`] for a document that is already parsed whole (the event stream's model).
#[cfg(test)]
pub(crate) fn build_from_state(
    config: &Config,
    state: &State<'_>,
    masters_for_records: &[HostPort],
    self_addrs: &[IpAddr],
    resolve: &dyn Fn(&str) -> Vec<IpAddr>,
    serial: u32,
) -> Result<(Records, RecordList), BuildError> {
    let list = generate_from_state(config, state, masters_for_records, self_addrs, resolve)?;
    let records = Records::build(super::zone(config), &list, serial);
    Ok((records, list))
}

/// The first half of [`build_from_state`]: rejects a document without a leader and generates the
/// records. The refresher indexes them only once the document and its parsed form are freed, which
/// keeps them out of the refresh's peak memory.
pub fn generate_from_state(
    config: &Config,
    state: &State<'_>,
    masters_for_records: &[HostPort],
    self_addrs: &[IpAddr],
    resolve: &dyn Fn(&str) -> Vec<IpAddr>,
) -> Result<RecordList, BuildError> {
    if state.leader.is_empty() {
        return Err(BuildError::NoLeader);
    }
    let hosts = resolve_hosts(config, state, masters_for_records, resolve);
    Ok(generate(
        state,
        &gen_input(config, masters_for_records, self_addrs, &hosts),
    ))
}

/// The records of [`generate_from_state`] that are no task's (frameworks, agents, masters, the
/// server), with the generator of single tasks' records (stream mode: [`TaskGen`]) made from the same
/// state and host addresses: the snapshot edits build on, adding every task's records in turn.
pub(crate) fn generate_for_edits(
    config: &Config,
    state: &State<'_>,
    masters_for_records: &[HostPort],
    self_addrs: &[IpAddr],
    resolve: &dyn Fn(&str) -> Vec<IpAddr>,
) -> Result<(RecordList, TaskGen), BuildError> {
    if state.leader.is_empty() {
        return Err(BuildError::NoLeader);
    }
    let hosts = resolve_hosts(config, state, masters_for_records, resolve);
    Ok(generate_fixed(
        state,
        &gen_input(config, masters_for_records, self_addrs, &hosts),
    ))
}

/// [`generate_from_state`] from a document's header and body: the tasks are read one at a time while
/// the records are generated, so the parsed form of the whole document never exists (at 100k tasks it
/// would be about as large as the document).
pub fn generate_from_body(
    config: &Config,
    header: &Header<'_>,
    body: &[u8],
    masters_for_records: &[HostPort],
    self_addrs: &[IpAddr],
    resolve: &dyn Fn(&str) -> Vec<IpAddr>,
) -> Result<RecordList, BuildError> {
    if header.leader.is_empty() {
        return Err(BuildError::NoLeader);
    }
    let hosts = resolve_hosts(config, header, masters_for_records, resolve);
    let input = gen_input(config, masters_for_records, self_addrs, &hosts);
    generate_streamed(header, body, &input).map_err(|e| BuildError::NotState(e.to_string()))
}

/// The addresses of every host name generation will need (a header names them all: tasks name none).
fn resolve_hosts<T>(
    config: &Config,
    state: &State<'_, T>,
    masters: &[HostPort],
    resolve: &dyn Fn(&str) -> Vec<IpAddr>,
) -> HostAddrs {
    let names = names_to_resolve(state, masters, Spec::new(config.enforce_rfc952));
    HostAddrs::resolve(&names, resolve)
}

fn gen_input<'a>(
    config: &'a Config,
    masters: &'a [HostPort],
    self_addrs: &'a [IpAddr],
    hosts: &'a HostAddrs,
) -> GenInput<'a> {
    GenInput {
        domain: &config.domain,
        ip_sources: &config.ip_sources,
        enforce_rfc952: config.enforce_rfc952,
        masters,
        soa_mname: &config.soa_mname,
        self_addrs,
        hosts,
        ptr_on: config.ptr_on,
        unroutable: &config.unroutable_networks,
        hide_unhealthy: config.hide_unhealthy_tasks,
        filter: &config.task_filter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Lookup, RData};
    use crate::wire::wire_of;
    use std::net::Ipv4Addr;

    const TUTORIAL: &[u8] = include_bytes!("../../tests/fixtures/tutorial-0.21.json");
    const FAKE: &[u8] = include_bytes!("../../tests/fixtures/fake.json");

    fn config() -> Config {
        Config {
            masters: vec![HostPort::parse("127.0.0.1:5050").unwrap()],
            listener: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
            ..Config::default()
        }
    }

    /// A resolver that fails the test if anything needs the network: the fixtures use IP literals.
    fn no_lookups(host: &str) -> Vec<IpAddr> {
        host.parse::<IpAddr>().map(|ip| vec![ip]).unwrap_or_default()
    }

    fn a_of(records: &Records, name: &str) -> Vec<Ipv4Addr> {
        match records.lookup(&wire_of(name)) {
            Lookup::Found(node) => node.a.iter().map(|o| Ipv4Addr::from(*o)).collect(),
            _ => Vec::new(),
        }
    }

    fn self_ip() -> Vec<IpAddr> {
        vec![IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1))]
    }

    #[test]
    fn tutorial_state_gives_the_tutorial_names() {
        let c = config();
        let (records, list) = build_snapshot(&c, TUTORIAL, &c.masters, &self_ip(), &no_lookups, 1234).unwrap();
        assert!(records.is_loaded());
        assert_eq!(records.serial(), 1234);
        let nginx = Ipv4Addr::new(10, 114, 227, 92);
        assert_eq!(a_of(&records, "nginx.marathon-0.7.6.mesos."), vec![nginx]);
        assert!(list.contains("nginx.marathon-0.7.6.mesos.", &RData::A(nginx)));
        assert_eq!(
            a_of(&records, "mesos-dns.marathon-0.7.6.mesos."),
            vec![Ipv4Addr::new(10, 14, 245, 208)]
        );
        assert_eq!(a_of(&records, "leader.mesos."), vec![Ipv4Addr::LOCALHOST]);
        assert_eq!(
            a_of(&records, "ns1.mesos."),
            vec![Ipv4Addr::LOCALHOST],
            "SOAMname gets the server's address"
        );
    }

    #[test]
    fn fake_state_builds_and_keeps_every_record_valid() {
        let c = config();
        let (records, list) = build_snapshot(&c, FAKE, &c.masters, &self_ip(), &no_lookups, 1).unwrap();
        assert!(list.len() > 20, "only {} records", list.len());
        assert_eq!(
            records.skipped(),
            0,
            "every generated name is a valid name under the domain"
        );
        assert_eq!(a_of(&records, "leader.mesos."), vec![Ipv4Addr::LOCALHOST]);
        assert!(!a_of(&records, "slave.mesos.").is_empty());
    }

    #[test]
    fn state_without_leader_is_rejected() {
        let c = config();
        let body = br#"{"leader":"","frameworks":[],"slaves":[]}"#;
        let err = build_snapshot(&c, body, &c.masters, &[], &no_lookups, 1).err().unwrap();
        assert!(matches!(err, BuildError::NoLeader), "{err}");
        let err = build_snapshot(&c, b"{}", &c.masters, &[], &no_lookups, 1)
            .err()
            .unwrap();
        assert!(matches!(err, BuildError::NoLeader), "{err}");
    }

    #[test]
    fn garbage_is_not_a_state() {
        let c = config();
        for body in [&b"<html>502 Bad Gateway</html>"[..], b"", b"[1,2", b"\xff\xfe"] {
            let err = build_snapshot(&c, body, &c.masters, &[], &no_lookups, 1).err().unwrap();
            assert!(matches!(err, BuildError::NotState(_)), "{err}");
            assert!(err.to_string().starts_with("not a Mesos state document"), "{err}");
        }
    }
}
