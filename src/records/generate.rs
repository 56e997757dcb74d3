//! Pure record generation: one parsed Mesos state document plus the naming settings give a [`RecordList`].

use std::net::IpAddr;

use crate::config::IpSource;
use crate::mesos::state::State;
use crate::records::RecordList;

/// Everything besides the state document that decides which records are generated.
pub struct GenInput<'a> {
    /// The authoritative domain, lower-case, without trailing dot (`mesos`).
    pub domain: &'a str,
    /// Task address sources in priority order.
    pub ip_sources: &'a [IpSource],
    /// RFC 952 label rules instead of RFC 1123.
    pub enforce_rfc952: bool,
    /// The configured masters, `host:port`, in order (empty when the leader came from ZooKeeper).
    pub masters: &'a [String],
    /// SOA MNAME, fully qualified lower-case (`ns1.mesos.`): gets A/AAAA records of `self_addrs`.
    pub soa_mname: &'a str,
    /// The addresses the server itself answers on.
    pub self_addrs: &'a [IpAddr],
    /// Resolves a host name that is not an IP literal (agent pids, master hosts). Tests pass a fake.
    pub resolve: &'a dyn Fn(&str) -> Vec<IpAddr>,
}

/// Generates every record of the behaviour spec (section 4) from one state document.
pub fn generate(_state: &State<'_>, _input: &GenInput<'_>) -> RecordList {
    RecordList::new()
}
