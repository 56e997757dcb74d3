//! `host:port` addresses: the one parser and printer for configured masters, resolvers and ZooKeeper
//! hosts, libprocess pids (`slave(1)@10.0.0.5:5051`) and the state's `leader` field.
//!
//! The grammar, the same everywhere: `host:port`, where the host is an IPv4 address, a host name, or an
//! IPv6 address in brackets (`[fd00::1]:5050`); the port is 1-65535 written in decimal digits only (no
//! sign, no spaces: `":+5"`, `":-1"`, `"h:"` and `"h:65536"` are refused). A caller that has a default
//! port ([`HostPort::parse_or`]) also accepts the host alone (`10.0.0.1`, `[::1]`, and a bare IPv6
//! address `fd00::1`). Host names are kept lower-case; IP addresses are kept as values, so two spellings
//! of one address compare equal and print the same.
//!
//! It owns syntax only: it never resolves a name, and which names a key accepts beyond the characters
//! of a host name (the LDH rule for `masters`) is the caller's rule.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// The longest host name in text form (RFC 1035: 255 octets in wire form).
const MAX_HOST_NAME: usize = 253;

/// The host of a [`HostPort`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A host name, lower-case.
    Name(String),
}

impl Host {
    /// A host alone, without a port: an IPv4 address, an IPv6 address (with or without brackets) or a
    /// host name (kept lower-case), by the grammar of the module doc.
    pub fn parse(s: &str) -> Result<Host, AddrError> {
        if let Some(inside) = s.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            let v6: Ipv6Addr = inside.parse().map_err(|_| AddrError::NotIpv6(inside.to_owned()))?;
            return Ok(Host::Ip(IpAddr::V6(v6)));
        }
        if let Ok(v6) = s.parse::<Ipv6Addr>() {
            return Ok(Host::Ip(IpAddr::V6(v6)));
        }
        Ok(match host_ip(s)? {
            Some(ip) => Host::Ip(ip),
            None => Host::Name(s.to_ascii_lowercase()),
        })
    }

    /// The address, when the host is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Ip(ip) => Some(*ip),
            Host::Name(_) => None,
        }
    }
}

/// Shows the host without brackets (`::1`, `10.0.0.1`, `master.example.com`).
impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// A host and a port, parsed and checked once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    host: Host,
    port: u16,
}

/// Why a text is not a `host:port` address. The messages say what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrError {
    /// Nothing before the port (or nothing at all).
    NoHost,
    /// No `:port`, where the caller has no default.
    NoPort,
    /// The port is not 1-65535 in decimal digits.
    BadPort(String),
    /// A `[` without its `]`.
    UnclosedBracket,
    /// Something other than `:port` after `]`.
    AfterBracket(String),
    /// The text in brackets is not an IPv6 address.
    NotIpv6(String),
    /// An IPv6 address (or something with several colons) without brackets.
    BareIpv6,
    /// Digits and dots that are not an IPv4 address (`10.0.0.300`, `1.2.3`, `010.0.0.1`).
    NotIpv4(String),
    /// A host name with characters a host name cannot hold, or too long.
    BadName(String),
    /// A pid without the `name@` before the address.
    NoAt,
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrError::NoHost => write!(f, "the host is missing"),
            AddrError::NoPort => write!(f, "a port is required, as in 10.0.0.1:5050"),
            AddrError::BadPort(p) => write!(f, "the port `{p}` is not a number from 1 to 65535"),
            AddrError::UnclosedBracket => write!(f, "the `[` has no matching `]`"),
            AddrError::AfterBracket(rest) => {
                write!(f, "expected `:port` after the `]`, got `{rest}`, as in [::1]:5050")
            }
            AddrError::NotIpv6(s) => write!(f, "`{s}` is not an IPv6 address"),
            AddrError::BareIpv6 => write!(f, "an IPv6 address must be in brackets, as in [2001:db8::1]:5050"),
            AddrError::NotIpv4(s) => write!(f, "`{s}` is not an IPv4 address"),
            AddrError::BadName(s) => write!(
                f,
                "`{s}` is not a host name (letters, digits, `-`, `_` and `.`, at most {MAX_HOST_NAME})"
            ),
            AddrError::NoAt => write!(f, "expected a pid, name@host:port"),
        }
    }
}

impl std::error::Error for AddrError {}

impl HostPort {
    /// An address from its parts.
    pub fn new(host: Host, port: u16) -> HostPort {
        HostPort { host, port }
    }

    /// Parses `host:port`; the port is required.
    pub fn parse(s: &str) -> Result<HostPort, AddrError> {
        parse_parts(s, None).map(Parts::owned)
    }

    /// Parses `host:port` or a host alone, which gets `default_port`. A bare IPv6 address (`fd00::1`)
    /// is a host alone: `fd00::1:53` is the address `fd00::1:53`, not port 53.
    pub fn parse_or(s: &str, default_port: u16) -> Result<HostPort, AddrError> {
        parse_parts(s, Some(default_port)).map(Parts::owned)
    }

    /// The address of a libprocess pid, `name@host:port` (the state's `leader`, agents' and
    /// frameworks' `pid`).
    pub fn from_pid(pid: &str) -> Result<HostPort, AddrError> {
        let (_, addr) = pid.split_once('@').ok_or(AddrError::NoAt)?;
        HostPort::parse(addr)
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The same host with another port.
    pub fn with_port(&self, port: u16) -> HostPort {
        HostPort {
            host: self.host.clone(),
            port,
        }
    }
}

/// `host:port`, the IPv6 address in brackets: text that [`HostPort::parse`] reads back as the same.
impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]:{}", self.port),
            host => write!(f, "{host}:{}", self.port),
        }
    }
}

/// IP literals give their one socket address without a lookup; names go to the system resolver (a
/// blocking call: for driver threads only).
impl ToSocketAddrs for HostPort {
    type Iter = std::vec::IntoIter<SocketAddr>;

    fn to_socket_addrs(&self) -> io::Result<Self::Iter> {
        match &self.host {
            Host::Ip(ip) => Ok(vec![SocketAddr::new(*ip, self.port)].into_iter()),
            Host::Name(name) => Ok((name.as_str(), self.port)
                .to_socket_addrs()?
                .collect::<Vec<_>>()
                .into_iter()),
        }
    }
}

/// Splits `host:port` into the host as written (without brackets) and the port, by the same grammar as
/// [`HostPort::parse`] but without copying: for the state's pids, read by the thousand.
pub(crate) fn split_host_port(s: &str) -> Option<(&str, u16)> {
    parse_parts(s, None).ok().map(|p| (p.text, p.port))
}

/// [`split_host_port`] of the address of a pid, `name@host:port`.
pub(crate) fn split_pid(pid: &str) -> Option<(&str, u16)> {
    let (_, addr) = pid.split_once('@')?;
    split_host_port(addr)
}

/// A port: 1-65535 in decimal digits only (`u16::from_str` alone would take `+5`).
pub(crate) fn parse_port(s: &str) -> Result<u16, AddrError> {
    let bad = || AddrError::BadPort(s.to_owned());
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match s.parse::<u16>() {
        Ok(0) | Err(_) => Err(bad()),
        Ok(port) => Ok(port),
    }
}

/// An address read but not yet copied: the host text (no brackets) and what it is.
struct Parts<'a> {
    text: &'a str,
    ip: Option<IpAddr>,
    port: u16,
}

impl Parts<'_> {
    fn owned(self) -> HostPort {
        let host = match self.ip {
            Some(ip) => Host::Ip(ip),
            None => Host::Name(self.text.to_ascii_lowercase()),
        };
        HostPort { host, port: self.port }
    }
}

/// The grammar of the module doc; `default_port` makes the port optional.
fn parse_parts(s: &str, default_port: Option<u16>) -> Result<Parts<'_>, AddrError> {
    let port_or_default = |port: Option<&str>| match port {
        Some(p) => parse_port(p),
        None => default_port.ok_or(AddrError::NoPort),
    };
    if let Some(rest) = s.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or(AddrError::UnclosedBracket)?;
        let v6: Ipv6Addr = inside.parse().map_err(|_| AddrError::NotIpv6(inside.to_owned()))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| AddrError::AfterBracket(after.to_owned()))?,
            ),
        };
        return Ok(Parts {
            text: inside,
            ip: Some(IpAddr::V6(v6)),
            port: port_or_default(port)?,
        });
    }
    if default_port.is_some() {
        if let Ok(v6) = s.parse::<Ipv6Addr>() {
            return Ok(Parts {
                text: s,
                ip: Some(IpAddr::V6(v6)),
                port: port_or_default(None)?,
            });
        }
    }
    let (text, port) = match s.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (s, None),
    };
    if text.contains(':') {
        return Err(AddrError::BareIpv6);
    }
    let ip = host_ip(text)?;
    Ok(Parts {
        text,
        ip,
        port: port_or_default(port)?,
    })
}

/// Classifies an unbracketed host: an IPv4 address, or a name (`None`). Digits and dots alone must be
/// an IPv4 address: `1.2.3` or `010.0.0.1` would mean something else to `inet_aton`.
fn host_ip(text: &str) -> Result<Option<IpAddr>, AddrError> {
    if text.is_empty() {
        return Err(AddrError::NoHost);
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let v4: Ipv4Addr = text.parse().map_err(|_| AddrError::NotIpv4(text.to_owned()))?;
        return Ok(Some(IpAddr::V4(v4)));
    }
    let name_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if text.len() > MAX_HOST_NAME || !text.bytes().all(name_byte) {
        return Err(AddrError::BadName(text.to_owned()));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inputs every copy this module replaced agreed on, and how they print back.
    #[test]
    fn valid_addresses_parse_and_print() {
        let cases = [
            ("10.0.0.1:5050", "10.0.0.1:5050"),
            ("127.0.0.1:1", "127.0.0.1:1"),
            ("master.example.com:5050", "master.example.com:5050"),
            ("Leader-1:65535", "leader-1:65535"),
            ("agent_7.mesos:5051", "agent_7.mesos:5051"),
            ("[::1]:5050", "[::1]:5050"),
            ("[fd00::1]:5050", "[fd00::1]:5050"),
            ("[2001:DB8:0:0::1]:53", "[2001:db8::1]:53"),
            ("[::ffff:10.0.0.1]:5050", "[::ffff:10.0.0.1]:5050"),
        ];
        for (given, shown) in cases {
            let hp = HostPort::parse(given).unwrap_or_else(|e| panic!("{given}: {e}"));
            assert_eq!(hp.to_string(), shown, "{given}");
            assert_eq!(HostPort::parse(shown), Ok(hp), "{shown} reads back");
        }
    }

    #[test]
    fn hosts_are_typed_and_names_lower_cased() {
        let v4 = HostPort::parse("10.0.0.5:5051").unwrap();
        assert_eq!(v4.host(), &Host::Ip(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5))));
        assert_eq!(v4.port(), 5051);
        let v6 = HostPort::parse("[fd00::1]:5050").unwrap();
        assert_eq!(v6.host().ip(), Some("fd00::1".parse().unwrap()));
        assert_eq!(v6.host().to_string(), "fd00::1");
        let name = HostPort::parse("Master-2.Example:5050").unwrap();
        assert_eq!(name.host(), &Host::Name("master-2.example".into()));
        assert_eq!(name.host().ip(), None);
        assert_eq!(name.with_port(8080).to_string(), "master-2.example:8080");
        assert_eq!(
            HostPort::parse("[::1]:5050").unwrap(),
            HostPort::parse("[0:0::1]:5050").unwrap(),
            "one address, two spellings"
        );
    }

    /// Each odd input, and the reason it is refused. The copies this module replaced disagreed on some
    /// (`:+5`, `:0`, `[name]:port`, a pid without a port): every caller now refuses all of them.
    #[test]
    fn malformed_addresses_are_refused_with_the_reason() {
        let cases = [
            ("", AddrError::NoHost),
            (":5050", AddrError::NoHost),
            ("10.0.0.1", AddrError::NoPort),
            ("host", AddrError::NoPort),
            ("host:", AddrError::BadPort("".into())),
            (":", AddrError::NoHost),
            ("h:+5", AddrError::BadPort("+5".into())),
            (":+5", AddrError::NoHost),
            ("h:-1", AddrError::BadPort("-1".into())),
            ("h:0", AddrError::BadPort("0".into())),
            ("h:65536", AddrError::BadPort("65536".into())),
            ("h:99999", AddrError::BadPort("99999".into())),
            ("h: 5", AddrError::BadPort(" 5".into())),
            ("h:5x", AddrError::BadPort("5x".into())),
            ("::1:5050", AddrError::BareIpv6),
            ("2001:db8::1:5050", AddrError::BareIpv6),
            ("[::1]", AddrError::NoPort),
            ("[::1]:", AddrError::BadPort("".into())),
            ("[::1", AddrError::UnclosedBracket),
            ("[2001:db8::1:5050", AddrError::UnclosedBracket),
            ("[::1]5050", AddrError::AfterBracket("5050".into())),
            ("[nope]:5050", AddrError::NotIpv6("nope".into())),
            ("[10.0.0.1]:5050", AddrError::NotIpv6("10.0.0.1".into())),
            ("[fe80::1%eth0]:53", AddrError::NotIpv6("fe80::1%eth0".into())),
            ("10.0.0.300:5050", AddrError::NotIpv4("10.0.0.300".into())),
            ("1.2.3:5050", AddrError::NotIpv4("1.2.3".into())),
            ("010.0.0.1:5050", AddrError::NotIpv4("010.0.0.1".into())),
            ("a b:5050", AddrError::BadName("a b".into())),
            ("x@10.0.0.1:5050", AddrError::BadName("x@10.0.0.1".into())),
        ];
        for (given, why) in cases {
            assert_eq!(HostPort::parse(given), Err(why), "{given}");
            assert_eq!(split_host_port(given), None, "{given}");
        }
        let long = format!("{}:53", "a".repeat(254));
        assert!(matches!(HostPort::parse(&long), Err(AddrError::BadName(_))));
        assert!(HostPort::parse(&format!("{}:53", "a".repeat(253))).is_ok());
    }

    #[test]
    fn a_sign_is_never_a_port() {
        // `u16::from_str` reads "+5" as 5: the copy in the fetcher took `h:+5` for port 5.
        assert_eq!("+5".parse::<u16>(), Ok(5));
        assert_eq!(parse_port("+5"), Err(AddrError::BadPort("+5".into())));
        assert_eq!(HostPort::parse(":+5"), Err(AddrError::NoHost));
        assert_eq!(HostPort::parse("h:+5"), Err(AddrError::BadPort("+5".into())));
        assert_eq!(HostPort::parse_or("h:+5", 53), Err(AddrError::BadPort("+5".into())));
        assert_eq!(split_host_port("h:+5"), None);
        assert_eq!(split_pid("master@10.0.0.1:+5"), None);
    }

    #[test]
    fn default_port_applies_to_a_host_alone() {
        let cases = [
            ("10.0.0.2", 2181, "10.0.0.2:2181"),
            ("zk1", 2181, "zk1:2181"),
            ("zk1:2182", 2181, "zk1:2182"),
            ("[::2]", 2181, "[::2]:2181"),
            ("[::1]:2182", 2181, "[::1]:2182"),
            ("127.0.0.1", 53, "127.0.0.1:53"),
            ("::1", 53, "[::1]:53"),
            // A bare IPv6 address is all address: the last group is not a port.
            ("2001:db8::53", 53, "[2001:db8::53]:53"),
            ("fd00::1:53", 53, "[fd00::1:53]:53"),
        ];
        for (given, default, shown) in cases {
            assert_eq!(
                HostPort::parse_or(given, default).map(|h| h.to_string()),
                Ok(shown.into()),
                "{given}"
            );
        }
        for (given, why) in [
            ("", AddrError::NoHost),
            ("host:", AddrError::BadPort("".into())),
            ("[::1]:", AddrError::BadPort("".into())),
            ("h:0", AddrError::BadPort("0".into())),
            ("::1:53:x", AddrError::BareIpv6),
            ("1.2.3", AddrError::NotIpv4("1.2.3".into())),
        ] {
            assert_eq!(HostPort::parse_or(given, 53), Err(why), "{given}");
        }
    }

    #[test]
    fn a_host_alone_is_an_address_or_a_name() {
        assert_eq!(Host::parse("10.0.0.1"), Ok(Host::Ip("10.0.0.1".parse().unwrap())));
        assert_eq!(Host::parse("::1"), Ok(Host::Ip("::1".parse().unwrap())));
        assert_eq!(Host::parse("[fd00::1]"), Ok(Host::Ip("fd00::1".parse().unwrap())));
        assert_eq!(Host::parse("M1.Example"), Ok(Host::Name("m1.example".into())));
        for (given, why) in [
            ("", AddrError::NoHost),
            ("[nope]", AddrError::NotIpv6("nope".into())),
            ("1.2.3", AddrError::NotIpv4("1.2.3".into())),
            ("m1:5050", AddrError::BadName("m1:5050".into())),
            ("a b", AddrError::BadName("a b".into())),
        ] {
            assert_eq!(Host::parse(given), Err(why), "{given}");
        }
    }

    #[test]
    fn pids_give_the_address_after_the_at() {
        let cases = [
            ("master@127.0.0.1:5050", "127.0.0.1", 5050),
            ("slave(1)@10.0.0.5:5051", "10.0.0.5", 5051),
            ("slave(1)@[2001:db8::1]:5051", "2001:db8::1", 5051),
            ("scheduler-0f4b@10.41.40.151:35214", "10.41.40.151", 35214),
            ("scheduler(1)@Master.Example.com:25501", "Master.Example.com", 25501),
        ];
        for (pid, host, port) in cases {
            assert_eq!(split_pid(pid), Some((host, port)), "{pid}");
            let hp = HostPort::from_pid(pid).unwrap();
            assert_eq!((hp.host().to_string(), hp.port()), (host.to_ascii_lowercase(), port));
        }
        for pid in [
            "",
            "master",
            "master@",
            "10.0.0.1:5050",
            "master@10.0.0.1",
            "master@10.0.0.1:",
            "master@:5050",
            "master@10.0.0.1:99999",
            "master@2001:db8::1:5050",
            "master@[2001:db8::1]",
            "master@[2001:db8::1:5050",
            "a@b@10.0.0.1:5050",
        ] {
            assert_eq!(split_pid(pid), None, "{pid}");
            assert!(HostPort::from_pid(pid).is_err(), "{pid}");
        }
        assert_eq!(HostPort::from_pid("10.0.0.1:5050"), Err(AddrError::NoAt));
    }

    #[test]
    fn split_keeps_the_text_as_written() {
        assert_eq!(split_host_port("[::1]:53"), Some(("::1", 53)));
        assert_eq!(split_host_port("[0:0::1]:53"), Some(("0:0::1", 53)));
        assert_eq!(split_host_port("Leader.Mesos:5050"), Some(("Leader.Mesos", 5050)));
        assert_eq!(split_host_port("10.0.0.1:5050"), Some(("10.0.0.1", 5050)));
    }

    #[test]
    fn ip_literals_become_socket_addresses_without_a_lookup() {
        let v6: Vec<SocketAddr> = HostPort::parse("[::1]:2181")
            .unwrap()
            .to_socket_addrs()
            .unwrap()
            .collect();
        assert_eq!(v6, ["[::1]:2181".parse::<SocketAddr>().unwrap()]);
        let v4: Vec<SocketAddr> = HostPort::parse("127.0.0.1:53")
            .unwrap()
            .to_socket_addrs()
            .unwrap()
            .collect();
        assert_eq!(v4, ["127.0.0.1:53".parse::<SocketAddr>().unwrap()]);
    }

    #[test]
    fn errors_say_what_to_write() {
        assert_eq!(AddrError::NoPort.to_string(), "a port is required, as in 10.0.0.1:5050");
        assert_eq!(
            AddrError::BadPort("+5".into()).to_string(),
            "the port `+5` is not a number from 1 to 65535"
        );
        assert!(AddrError::BareIpv6.to_string().contains("[2001:db8::1]:5050"));
    }
}
