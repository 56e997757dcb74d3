//! A task's addresses: which IP source gives them (`IPSources`, in order) and which of them may be
//! published (`unroutableNetworks`). Pure; the names they go under are [`super`]'s.

use std::net::IpAddr;

use crate::config::{Cidr, IpSource};
use crate::mesos::state::Task;

use super::stored;

/// The status label holding the Docker containerizer's address (`docker` IP source).
pub(crate) const DOCKER_IP_LABEL: &str = "Docker.NetworkSettings.IPAddress";
/// The status label holding the Mesos containerizer's address (`mesos` IP source).
pub(crate) const MESOS_IP_LABEL: &str = "MesosContainerizer.NetworkSettings.IPAddress";

/// At most this many distinct addresses are taken for one task (each gives two records); a status
/// with thousands of address labels must not multiply the record count.
pub(crate) const MAX_ADDRS_PER_TASK: usize = 64;

/// Where a task's addresses come from and which are left out.
pub(super) struct Sources<'a> {
    pub(super) order: &'a [IpSource],
    /// Addresses in these networks are dropped, as if the source had not given them.
    pub(super) unroutable: &'a [Cidr],
}

/// The addresses of a task from the first IP source that yields any publishable one (`netinfo`,
/// `docker`, `mesos` read the most recent `TASK_RUNNING` status; `host` is the agent's addresses). An
/// address in an unroutable network does not count: a Docker bridge address (`172.17.0.2`) makes
/// `netinfo` give nothing, and the next source is asked.
pub(super) fn task_addrs(task: &Task<'_>, sources: &Sources<'_>, agent: &[IpAddr], out: &mut Vec<IpAddr>) {
    out.clear();
    let status = task.latest_running_status();
    let add = |ip: IpAddr, out: &mut Vec<IpAddr>| {
        let routable = !sources.unroutable.iter().any(|n| n.contains(stored(ip)));
        if routable && out.len() < MAX_ADDRS_PER_TASK && !out.contains(&ip) {
            out.push(ip);
        }
    };
    let parse = |text: &str, out: &mut Vec<IpAddr>| {
        if let Ok(ip) = text.parse::<IpAddr>() {
            add(ip, out);
        }
    };
    for source in sources.order {
        match (source, status) {
            (IpSource::Netinfo, Some(s)) => {
                for ni in &s.container_status.network_infos {
                    if ni.ip_addresses.is_empty() {
                        parse(&ni.ip_address, out);
                    } else {
                        for a in &ni.ip_addresses {
                            parse(&a.ip_address, out);
                        }
                    }
                }
            }
            (IpSource::Docker | IpSource::Mesos, Some(s)) => {
                let key = if *source == IpSource::Docker {
                    DOCKER_IP_LABEL
                } else {
                    MESOS_IP_LABEL
                };
                for l in s.labels.iter().filter(|l| l.key == key) {
                    parse(&l.value, out);
                }
            }
            (IpSource::Host, _) => {
                for &ip in agent {
                    add(ip, out);
                }
            }
            (_, None) => {}
        }
        if !out.is_empty() {
            return;
        }
    }
}
