//! Host names (ours): every agent as `HOSTNAME.slave.D` and the leading master as
//! `HOSTNAME.master.D`, A/AAAA of that host's addresses, with `HOSTNAME` the host's name from the state
//! made one label by the task-name rules ([`Spec::label`]: `agent1.example.com` gives
//! `agent1-example-com`). A host known only by an IP literal gets no such name: the literal names
//! nothing `slave.D` does not. With `PTROn` an agent's addresses point back to its name first, then to
//! `slave.D`; masters get no PTR, as before.

use std::net::IpAddr;

use crate::records::label::Spec;

use super::{build, stored, Generator};

/// The one label of a host name; `None` for an IP literal or a name with nothing usable in it.
pub(super) fn host_label(spec: Spec, hostname: &str) -> Option<String> {
    let bare = hostname
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(hostname);
    if bare.parse::<IpAddr>().is_ok() {
        return None;
    }
    let label = spec.label(hostname);
    (!label.is_empty()).then_some(label)
}

impl Generator<'_, '_> {
    /// `HOSTNAME.slave.D` with the agent's addresses (reverse-marked with `PTROn`).
    pub(super) fn agent_host_name(&mut self, hostname: &str, ips: &[IpAddr]) {
        let Some(label) = host_label(self.spec, hostname) else {
            return;
        };
        let Some(name) = build(&mut self.buf, &[&label, "slave", self.domain]) else {
            return;
        };
        for &ip in ips {
            if self.input.ptr_on {
                self.out.push_ip_reverse(name, stored(ip));
            } else {
                self.out.push_ip(name, stored(ip));
            }
        }
    }

    /// `HOSTNAME.master.D` with the leader's addresses, when the state names the leader's host.
    pub(super) fn leader_host_name(&mut self, hostname: &str, ips: &[IpAddr]) {
        let Some(label) = host_label(self.spec, hostname) else {
            return;
        };
        if let Some(name) = build(&mut self.buf, &[&label, "master", self.domain]) {
            for &ip in ips {
                self.out.push_ip(name, stored(ip));
            }
        }
    }
}
