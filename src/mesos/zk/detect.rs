//! Which members the Mesos group in ZooKeeper has, which of them leads, and where they listen. Pure
//! functions of the children's names and the member nodes' data; no socket.
//!
//! Masters join the group as ephemeral sequential nodes: `json.info_0000000012` (Mesos 0.24 and later,
//! data: the `MasterInfo` as JSON) or `info_0000000012` (older masters, data: the `MasterInfo` protobuf).
//! The member with the lowest sequence number is the leader; like the Go Mesos-DNS (and mesos-go's
//! detector) we look at `json.info_` members first and at `info_` members only when there is none.
//! Every member of either kind is reported, the leader first ([`member_nodes`], [`GroupMasters`]).

use std::fmt;
use std::net::Ipv4Addr;

use serde::Deserialize;

use crate::addr::{AddrError, Host, HostPort};

/// The two member prefixes, the preferred first.
const PREFIXES: [&str; 2] = ["json.info_", "info_"];

/// The port a `MasterInfo` without one means (Mesos' default).
const DEFAULT_PORT: u16 = 5050;

/// The member node that leads: the lowest sequence of the preferred prefix present. `None` when no
/// child is a member (an empty group, or only other nodes such as `log_replicas`).
pub fn leader_node<'a>(children: &[&'a str]) -> Option<&'a str> {
    for prefix in PREFIXES {
        let best = children
            .iter()
            .filter_map(|c| sequence(c, prefix).map(|seq| (seq, *c)))
            .min();
        if let Some((_, name)) = best {
            return Some(name);
        }
    }
    None
}

/// Every member node, the leader first ([`leader_node`]), then the others by sequence number (the
/// order in which they would lead; a tie, which ZooKeeper never makes, by name). Other children are
/// left out. Go's detector reports the others in no fixed order (a map's): we fix this one.
pub(crate) fn member_nodes<'a>(children: &[&'a str]) -> Vec<&'a str> {
    let Some(leader) = leader_node(children) else {
        return Vec::new();
    };
    let mut others: Vec<(u64, &'a str)> = children
        .iter()
        .filter(|c| **c != leader)
        .filter_map(|c| member_sequence(c).map(|seq| (seq, *c)))
        .collect();
    others.sort_unstable();
    others.dedup();
    let mut nodes = Vec::with_capacity(others.len() + 1);
    nodes.push(leader);
    nodes.extend(others.into_iter().map(|(_, name)| name));
    nodes
}

/// The sequence number of a member node of either prefix.
fn member_sequence(name: &str) -> Option<u64> {
    PREFIXES.iter().find_map(|prefix| sequence(name, prefix))
}

/// The sequence number of a member node name with this prefix (ZooKeeper appends ten digits; we accept
/// any run of digits that fits).
fn sequence(name: &str, prefix: &str) -> Option<u64> {
    let digits = name.strip_prefix(prefix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether a member node holds JSON (`json.info_`) or a protobuf (`info_`).
pub(crate) fn is_json_node(name: &str) -> bool {
    name.starts_with(PREFIXES[0])
}

/// The masters registered in the group, as the detector publishes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupMasters {
    /// The leading master: the one state is fetched from.
    pub leader: HostPort,
    /// The other members, in [`member_nodes`] order, each address once and never the leader's (a
    /// master of Mesos 0.23 registers twice, as `json.info_` and as `info_`).
    pub others: Vec<HostPort>,
}

impl GroupMasters {
    /// The leader and the other members' addresses (in order; repeats and the leader's are dropped).
    pub(crate) fn new(leader: HostPort, members: impl IntoIterator<Item = HostPort>) -> GroupMasters {
        let mut others: Vec<HostPort> = Vec::new();
        for m in members {
            if m != leader && !others.contains(&m) {
                others.push(m);
            }
        }
        GroupMasters { leader, others }
    }

    /// `host:port` of every master, the leader first: the masters list that Go's detector sends, which
    /// the `master*` records are numbered from.
    pub(crate) fn addresses(&self) -> Vec<HostPort> {
        std::iter::once(&self.leader).chain(&self.others).cloned().collect()
    }
}

/// Why a member node's data gives no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoError {
    /// The JSON does not parse as a `MasterInfo`.
    Json(String),
    /// The protobuf is malformed.
    Protobuf(&'static str),
    /// Neither an IP address nor a host name in it.
    NoAddress,
    /// The host it gives is neither an IP address nor a host name.
    BadHost(String, AddrError),
    /// The port is 0 or above 65535.
    BadPort(i64),
}

impl fmt::Display for InfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InfoError::Json(e) => write!(f, "the master's JSON info does not parse: {e}"),
            InfoError::Protobuf(e) => write!(f, "the master's protobuf info is malformed: {e}"),
            InfoError::NoAddress => write!(f, "the master's info has no address"),
            InfoError::BadHost(host, e) => write!(f, "the master's info gives the host {host:?}: {e}"),
            InfoError::BadPort(p) => write!(f, "the master's info has port {p}"),
        }
    }
}

impl std::error::Error for InfoError {}

/// The address in a member node's data; `json` says which format (see [`is_json_node`]).
pub fn master_addr(data: &[u8], json: bool) -> Result<HostPort, InfoError> {
    if json {
        from_json(data)
    } else {
        from_protobuf(data)
    }
}

#[derive(Deserialize)]
struct JsonInfo {
    #[serde(default)]
    address: Option<JsonAddress>,
    #[serde(default)]
    hostname: Option<String>,
    /// The packed IPv4 address, as in the protobuf (see [`unpack_ipv4`]).
    #[serde(default)]
    ip: Option<u32>,
    #[serde(default)]
    port: Option<i64>,
}

#[derive(Deserialize)]
struct JsonAddress {
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    port: Option<i64>,
}

/// `{"address": {"hostname", "ip", "port"}, "hostname", "ip", "port", ...}`: the `address` object when
/// it is there (an IP rather than a name when it has one), else the top-level fields.
fn from_json(data: &[u8]) -> Result<HostPort, InfoError> {
    let info: JsonInfo = serde_json::from_slice(data).map_err(|e| InfoError::Json(e.to_string()))?;
    let address = info.address.unwrap_or(JsonAddress {
        hostname: None,
        ip: None,
        port: None,
    });
    let host = non_empty(address.ip)
        .or_else(|| info.ip.filter(|ip| *ip != 0).map(|ip| unpack_ipv4(ip).to_string()))
        .or_else(|| non_empty(address.hostname))
        .or_else(|| non_empty(info.hostname))
        .ok_or(InfoError::NoAddress)?;
    let port = port(address.port.or(info.port))?;
    master_at(host, port)
}

/// The address of a host text and a port read from a member node.
fn master_at(host: String, port: u16) -> Result<HostPort, InfoError> {
    match Host::parse(&host) {
        Ok(host) => Ok(HostPort::new(host, port)),
        Err(e) => Err(InfoError::BadHost(host, e)),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn port(p: Option<i64>) -> Result<u16, InfoError> {
    match p {
        None => Ok(DEFAULT_PORT),
        Some(p) => u16::try_from(p).ok().filter(|p| *p != 0).ok_or(InfoError::BadPort(p)),
    }
}

/// Mesos packs the IPv4 address into a `uint32` by reading the four network-order bytes of `in_addr` as
/// a little-endian integer (on the x86 hosts it runs on): `10.0.0.1` is `0x0100000a`.
pub(crate) fn unpack_ipv4(packed: u32) -> Ipv4Addr {
    Ipv4Addr::from(packed.to_le_bytes())
}

/// The protobuf `MasterInfo`: `ip` (field 2, uint32), `port` (3, uint32), `hostname` (5, string) and
/// `address` (7, message `Address { hostname = 1; ip = 2; port = 3 }`); other fields are skipped.
fn from_protobuf(data: &[u8]) -> Result<HostPort, InfoError> {
    let (mut ip, mut port_field, mut hostname) = (None, None, None);
    let (mut a_ip, mut a_host, mut a_port) = (None, None, None);
    for field in Fields::new(data) {
        match field? {
            (2, Value::Varint(v)) => ip = Some(v as u32),
            (3, Value::Varint(v)) => port_field = Some(v as i64),
            (5, Value::Bytes(b)) => hostname = Some(String::from_utf8_lossy(b).into_owned()),
            (7, Value::Bytes(b)) => {
                for inner in Fields::new(b) {
                    match inner? {
                        (1, Value::Bytes(h)) => a_host = Some(String::from_utf8_lossy(h).into_owned()),
                        (2, Value::Bytes(i)) => a_ip = Some(String::from_utf8_lossy(i).into_owned()),
                        (3, Value::Varint(p)) => a_port = Some(p as i64),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let host = non_empty(a_ip)
        .or_else(|| ip.filter(|ip| *ip != 0).map(|ip| unpack_ipv4(ip).to_string()))
        .or_else(|| non_empty(a_host))
        .or_else(|| non_empty(hostname))
        .ok_or(InfoError::NoAddress)?;
    let port = port(a_port.or(port_field))?;
    master_at(host, port)
}

/// A protobuf field's value, for the wire types we meet (varint and length-delimited); fixed-width
/// fields are skipped.
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Skipped,
}

/// Iterates over a protobuf message's fields; stops after the first error.
struct Fields<'a> {
    buf: &'a [u8],
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Fields<'a> {
        Fields { buf, failed: false }
    }

    fn varint(&mut self) -> Result<u64, InfoError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or(InfoError::Protobuf("truncated varint"))?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(InfoError::Protobuf("varint longer than 10 bytes"))
    }

    fn skip(&mut self, n: u64) -> Result<&'a [u8], InfoError> {
        let n = usize::try_from(n).map_err(|_| InfoError::Protobuf("length too large"))?;
        if n > self.buf.len() {
            return Err(InfoError::Protobuf("field runs past the end"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn field(&mut self) -> Result<(u64, Value<'a>), InfoError> {
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.skip(8)?;
                Value::Skipped
            }
            2 => {
                let len = self.varint()?;
                Value::Bytes(self.skip(len)?)
            }
            5 => {
                self.skip(4)?;
                Value::Skipped
            }
            _ => return Err(InfoError::Protobuf("unknown wire type")),
        };
        Ok((key >> 3, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), InfoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.buf.is_empty() {
            return None;
        }
        let r = self.field();
        self.failed = r.is_err();
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `MasterInfo` protobuf as masters before 0.24 wrote it: id, ip 10.0.0.1 packed little-endian,
    /// port, pid (written out byte by byte, independent of any encoder).
    fn legacy_info(id: &str, port: [u8; 2]) -> Vec<u8> {
        let pid = format!(
            "master@10.0.0.1:{}",
            u16::from(port[0] & 0x7f) | u16::from(port[1]) << 7
        );
        let head = [&[0x0a, id.len() as u8][..], id.as_bytes()].concat();
        let ip = [0x10, 0x8a, 0x80, 0x80, 0x08];
        [
            &head[..],
            &ip,
            &[0x18, port[0], port[1], 0x22, pid.len() as u8],
            pid.as_bytes(),
        ]
        .concat()
    }

    #[test]
    fn lowest_json_sequence_leads() {
        let children = [
            "json.info_0000000012",
            "log_replicas",
            "json.info_0000000003",
            "info_0000000001",
            "json.info_0000000010",
        ];
        assert_eq!(leader_node(&children), Some("json.info_0000000003"));
    }

    #[test]
    fn legacy_members_count_only_without_json_ones() {
        assert_eq!(
            leader_node(&["info_0000000007", "info_0000000002", "log_replicas"]),
            Some("info_0000000002")
        );
        assert_eq!(leader_node(&["log_replicas", "json.info_", "info_x1"]), None);
        assert_eq!(leader_node(&[]), None);
    }

    #[test]
    fn members_are_listed_leader_first_then_by_sequence() {
        let children = [
            "json.info_0000000012",
            "log_replicas",
            "info_0000000004",
            "json.info_0000000003",
            "json.info_0000000010",
            "json.info_x",
        ];
        assert_eq!(
            member_nodes(&children),
            [
                "json.info_0000000003",
                "info_0000000004",
                "json.info_0000000010",
                "json.info_0000000012"
            ]
        );
        // The leader is a `json.info_` member even when an `info_` one is older.
        assert_eq!(
            member_nodes(&["info_0000000001", "json.info_0000000002"]),
            ["json.info_0000000002", "info_0000000001"]
        );
        assert_eq!(member_nodes(&["info_9", "info_10"]), ["info_9", "info_10"]);
        assert!(member_nodes(&["log_replicas"]).is_empty());
        assert!(member_nodes(&[]).is_empty());
    }

    fn at(ip: &str, port: u16) -> HostPort {
        HostPort::new(Host::parse(ip).unwrap(), port)
    }

    #[test]
    fn group_masters_list_the_leader_first_and_each_address_once() {
        let group = GroupMasters::new(
            at("10.0.0.2", 5050),
            [
                at("10.0.0.2", 5050),
                at("10.0.0.3", 5050),
                at("10.0.0.1", 5051),
                at("10.0.0.3", 5050),
                at("::1", 5050),
            ],
        );
        assert_eq!(group.leader, at("10.0.0.2", 5050));
        let shown = |g: &GroupMasters| g.addresses().iter().map(HostPort::to_string).collect::<Vec<_>>();
        assert_eq!(
            shown(&group),
            ["10.0.0.2:5050", "10.0.0.3:5050", "10.0.0.1:5051", "[::1]:5050"]
        );
        let alone = GroupMasters::new(at("10.0.0.1", 5050), []);
        assert_eq!(shown(&alone), ["10.0.0.1:5050"]);
        assert!(alone.others.is_empty());
    }

    #[test]
    fn sequence_compares_numbers_not_text() {
        assert_eq!(
            leader_node(&["json.info_10", "json.info_9", "json.info_0000000011"]),
            Some("json.info_9")
        );
    }

    #[test]
    fn mesos_json_info_gives_the_address_ip() {
        // As written by a Mesos 1.x master.
        let data = br#"{"address":{"hostname":"m1.example.com","ip":"10.0.0.1","port":5050},
            "hostname":"m1.example.com","id":"e9b4-...","ip":16777226,"pid":"master@10.0.0.1:5050",
            "port":5050,"version":"1.4.0"}"#;
        let addr = master_addr(data, true).unwrap();
        assert_eq!(addr, HostPort::parse("10.0.0.1:5050").unwrap());
        assert_eq!(addr.to_string(), "10.0.0.1:5050");
    }

    #[test]
    fn json_info_without_address_uses_the_packed_ip_then_the_hostname() {
        let addr = master_addr(br#"{"ip":16777226,"port":5051,"hostname":"m1"}"#, true).unwrap();
        assert_eq!(addr.to_string(), "10.0.0.1:5051");
        let addr = master_addr(br#"{"hostname":"m1","port":5051}"#, true).unwrap();
        assert_eq!(addr.to_string(), "m1:5051");
        let addr = master_addr(br#"{"address":{"ip":"::1","port":7}}"#, true).unwrap();
        assert_eq!(addr.to_string(), "[::1]:7");
        assert_eq!(master_addr(br#"{"hostname":"m1"}"#, true).unwrap().port(), 5050);
    }

    #[test]
    fn unusable_json_info_is_an_error() {
        assert!(matches!(master_addr(b"not json", true), Err(InfoError::Json(_))));
        assert_eq!(master_addr(b"{}", true), Err(InfoError::NoAddress));
        assert_eq!(
            master_addr(br#"{"hostname":"m 1","port":5050}"#, true),
            Err(InfoError::BadHost("m 1".into(), AddrError::BadName("m 1".into())))
        );
        assert_eq!(
            master_addr(br#"{"address":{"ip":"10.0.0.1","port":70000}}"#, true),
            Err(InfoError::BadPort(70000))
        );
        assert_eq!(
            master_addr(br#"{"address":{"ip":"10.0.0.1","port":0}}"#, true),
            Err(InfoError::BadPort(0))
        );
    }

    #[test]
    fn protobuf_master_info_gives_ip_and_port() {
        let data = legacy_info("id-1", [0xbb, 0x27]);
        assert_eq!(
            master_addr(&data, false).unwrap(),
            HostPort::parse("10.0.0.1:5051").unwrap()
        );
    }

    #[test]
    fn protobuf_address_message_wins_over_the_packed_ip() {
        // id "x", ip 10.0.0.1 packed, port 5050, address { ip "192.168.1.2", port 6060 }.
        let mut data = legacy_info("x", [0xba, 0x27]);
        let inner = [&[0x12, 11][..], b"192.168.1.2", &[0x18, 0xac, 0x2f]].concat();
        data.push(0x3a);
        data.push(inner.len() as u8);
        data.extend_from_slice(&inner);
        assert_eq!(master_addr(&data, false).unwrap().to_string(), "192.168.1.2:6060");
    }

    #[test]
    fn malformed_protobuf_is_an_error() {
        let good = legacy_info("id", [0xba, 0x27]);
        for cut in 1..good.len() {
            // Every prefix either reads as a (partial) message or is refused; never a panic.
            let _ = master_addr(&good[..cut], false);
        }
        assert_eq!(
            master_addr(&[0x0a, 0x05, b'a'], false),
            Err(InfoError::Protobuf("field runs past the end"))
        );
        assert_eq!(
            master_addr(&[0x0b], false),
            Err(InfoError::Protobuf("unknown wire type"))
        );
        assert_eq!(
            master_addr(&[0xff; 11], false),
            Err(InfoError::Protobuf("varint longer than 10 bytes"))
        );
        assert_eq!(master_addr(&[], false), Err(InfoError::NoAddress));
    }

    #[test]
    fn packed_ip_is_little_endian_network_order() {
        assert_eq!(unpack_ipv4(0x0100_000a), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(unpack_ipv4(0x0100_007f), Ipv4Addr::LOCALHOST);
    }
}
