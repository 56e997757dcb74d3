//! Owned copies of a polled document's parts, so that the model keeps them past the body they borrow
//! from. Events need none of this: they are decoded owned. Every field of the state types is copied
//! (a field left out here would silently vanish in stream mode).

use std::borrow::Cow;

use crate::mesos::state::*;

fn text(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_owned())
}

fn label(l: &Label<'_>) -> Label<'static> {
    Label {
        key: text(&l.key),
        value: text(&l.value),
    }
}

fn container(c: &ContainerStatus<'_>) -> ContainerStatus<'static> {
    let network = |n: &NetworkInfo<'_>| NetworkInfo {
        ip_addresses: n
            .ip_addresses
            .iter()
            .map(|a| IpAddress {
                ip_address: text(&a.ip_address),
                protocol: text(&a.protocol),
            })
            .collect(),
        ip_address: text(&n.ip_address),
    };
    ContainerStatus {
        network_infos: c.network_infos.iter().map(network).collect(),
    }
}

fn status(s: &Status<'_>) -> Status<'static> {
    Status {
        state: text(&s.state),
        timestamp: s.timestamp,
        healthy: s.healthy,
        labels: s.labels.iter().map(label).collect(),
        container_status: container(&s.container_status),
    }
}

fn discovery(d: &Discovery<'_>) -> Discovery<'static> {
    let port = |p: &DiscoveryPort<'_>| DiscoveryPort {
        number: p.number,
        name: text(&p.name),
        protocol: text(&p.protocol),
    };
    Discovery {
        name: text(&d.name),
        visibility: text(&d.visibility),
        ports: DiscoveryPorts {
            ports: d.ports.ports.iter().map(port).collect(),
        },
    }
}

pub(super) fn task(t: &Task<'_>) -> Task<'static> {
    Task {
        id: text(&t.id),
        name: text(&t.name),
        framework_id: text(&t.framework_id),
        slave_id: text(&t.slave_id),
        state: text(&t.state),
        resources: Resources {
            ports: text(&t.resources.ports),
            port_ranges: t.resources.port_ranges.clone(),
        },
        statuses: t.statuses.iter().map(status).collect(),
        discovery: discovery(&t.discovery),
        labels: t.labels.iter().map(label).collect(),
    }
}

pub(super) fn slave(s: &Slave<'_>) -> Slave<'static> {
    Slave {
        id: text(&s.id),
        pid: text(&s.pid),
        hostname: text(&s.hostname),
        port: s.port,
        domain: s.domain.to_owned_domain(),
    }
}

/// The framework without its tasks.
pub(super) fn framework(f: &Framework<'_>) -> Framework<'static> {
    Framework {
        id: text(&f.id),
        name: text(&f.name),
        pid: text(&f.pid),
        hostname: text(&f.hostname),
        tasks: Vec::new(),
    }
}
