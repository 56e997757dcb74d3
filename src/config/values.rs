//! Parsers and checks of single config values: names, addresses, ports, resolvers, IP sources and
//! credentials. Each returns a message for the caller to pin on its key.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde_json::Value;

use crate::addr::{Host, HostPort};

use super::{show, Cidr, Credentials, IpSource, LabelMatch, TsigKey, Visibility};

/// Checks a DNS name made of letter-digit-hyphen labels (the original's `domain` and zone rule).
pub(super) fn check_ldh_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.len() > 253 {
        return Err(format!(
            "the name is {} characters long; at most 253 fit in a DNS name",
            name.len()
        ));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("the name has an empty label (two dots in a row, or a leading dot)".into());
        }
        if label.len() > 63 {
            return Err(format!("the label `{label}` is longer than 63 characters"));
        }
        if let Some(ch) = label.chars().find(|ch| !(ch.is_ascii_alphanumeric() || *ch == '-')) {
            return Err(format!("`{ch}` is not allowed: labels are letters, digits and hyphens"));
        }
    }
    Ok(())
}

/// Lower-case, one trailing dot removed, then checked.
pub(super) fn normalize_domain(raw: &str) -> Result<String, String> {
    let lower = raw.to_ascii_lowercase();
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    check_ldh_name(name).map_err(|p| format!("`{raw}` is not a valid DNS name: {p}"))?;
    Ok(name.to_string())
}

/// `SOAMname`/`SOARname`/`email`: lower-case, `@` made a dot (as the original does for RNAME), fully
/// qualified. The RNAME's first label is a mailbox's local part, so any visible ASCII is allowed.
pub(super) fn normalize_soa_name(raw: &str) -> Result<String, String> {
    let lower = raw.to_ascii_lowercase().replace('@', ".");
    let name = lower.trim_end_matches('.');
    if name.len() > 253 {
        return Err(format!(
            "`{raw}` is {} characters long; at most 253 fit in a DNS name",
            name.len()
        ));
    }
    if !name.is_empty() {
        for label in name.split('.') {
            if label.is_empty() {
                return Err(format!("`{raw}` has an empty label"));
            }
            if label.len() > 63 {
                return Err(format!("`{raw}` has the label `{label}`, longer than 63 characters"));
            }
            if let Some(ch) = label.chars().find(|ch| !ch.is_ascii_graphic() || *ch == '\\') {
                return Err(format!("`{raw}` has {ch:?}, which a name here cannot hold"));
            }
        }
    }
    Ok(format!("{name}."))
}

/// A listen address. An empty string is what Go's `net.Listen(":53")` makes of it: every interface.
pub(super) fn parse_listen_ip(raw: &str) -> Result<IpAddr, String> {
    if raw.is_empty() {
        return Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }
    raw.parse()
        .map_err(|_| format!("expected an IP address, got {}", show(&Value::from(raw))))
}

/// A `masters` entry: `host:port` ([`HostPort`]), a host name also following the LDH rule.
fn parse_master(s: &str) -> Result<HostPort, String> {
    let master = HostPort::parse(s).map_err(|e| e.to_string())?;
    if let Host::Name(name) = master.host() {
        check_ldh_name(name)?;
    }
    Ok(master)
}

/// The `masters` list: every entry `host:port`, none twice (compared in normal form: a name in any
/// case, an IP address however it is spelled).
pub(super) fn parse_masters(list: &[String]) -> Result<Vec<HostPort>, String> {
    let mut out: Vec<HostPort> = Vec::with_capacity(list.len());
    for s in list {
        let master = parse_master(s).map_err(|p| format!("`{s}` is not host:port: {p}"))?;
        if out.contains(&master) {
            return Err(format!("`{s}` is listed twice"));
        }
        out.push(master);
    }
    Ok(out)
}

/// One upstream resolver: `ip`, `ip:port`, `[ipv6]:port`, bare IPv6 or `[ipv6]`; the port defaults to 53.
pub(crate) fn parse_resolver(s: &str) -> Result<SocketAddr, String> {
    let addr = HostPort::parse_or(s, 53).map_err(|e| format!("`{s}` is not a resolver address: {e}"))?;
    match addr.host().ip() {
        Some(ip) => Ok(SocketAddr::new(ip, addr.port())),
        None => Err(format!(
            "`{s}` is not a resolver address: expected ip, ip:port or [ipv6]:port"
        )),
    }
}

/// A resolver list: every entry valid, none twice (the original refuses duplicates).
pub(super) fn parse_resolvers(list: &[String]) -> Result<Vec<SocketAddr>, String> {
    let mut out: Vec<SocketAddr> = Vec::with_capacity(list.len());
    for s in list {
        let addr = parse_resolver(s)?;
        if out.contains(&addr) {
            return Err(format!("`{s}` is listed twice (as {addr})"));
        }
        out.push(addr);
    }
    Ok(out)
}

/// `{zone: [resolver]}`. Zones are lower-cased without the trailing dot, must be valid names, and may not
/// be the Mesos domain or a zone inside it (those names are ours to answer).
pub(super) fn parse_zone_resolvers(v: &Value, domain: &str) -> Result<BTreeMap<String, Vec<SocketAddr>>, String> {
    let map = match v {
        Value::Null => return Ok(BTreeMap::new()),
        Value::Object(map) => map,
        other => return Err(format!("expected an object of zone -> [resolver], got {}", show(other))),
    };
    let mut out = BTreeMap::new();
    for (raw, list) in map {
        let lower = raw.to_ascii_lowercase();
        let zone = lower.strip_suffix('.').unwrap_or(&lower).to_string();
        if zone.is_empty() {
            return Err("a zone name is empty; use `resolvers` for every name outside the domain".into());
        }
        check_ldh_name(&zone).map_err(|p| format!("zone `{raw}` is not a valid DNS name: {p}"))?;
        if zone == domain || zone.ends_with(&format!(".{domain}")) {
            return Err(format!(
                "zone `{raw}` is inside the Mesos domain `{domain}`, which is answered locally"
            ));
        }
        let list = string_list(list).map_err(|p| format!("zone `{raw}`: {p}"))?;
        if list.is_empty() {
            return Err(format!("zone `{raw}` has no resolvers"));
        }
        let resolvers = parse_resolvers(&list).map_err(|p| format!("zone `{raw}`: {p}"))?;
        if out.insert(zone, resolvers).is_some() {
            return Err(format!("zone `{raw}` is given twice"));
        }
    }
    Ok(out)
}

pub(super) fn parse_ip_sources(list: &[String]) -> Result<Vec<IpSource>, String> {
    if list.is_empty() {
        return Err("no IP source given; use some of netinfo, docker, mesos, host".into());
    }
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let src = IpSource::parse(s)
            .ok_or_else(|| format!("`{s}` is not an IP source: expected netinfo, docker, mesos or host"))?;
        if out.contains(&src) {
            return Err(format!("`{s}` is listed twice"));
        }
        out.push(src);
    }
    Ok(out)
}

/// `unroutableNetworks`: CIDR networks, each checked (an empty list is none).
pub(super) fn parse_networks(list: &[String]) -> Result<Vec<Cidr>, String> {
    list.iter().map(|s| Cidr::parse(s)).collect()
}

/// `excludeTaskLabels`: `KEY=VALUE` or `KEY` entries.
pub(super) fn parse_label_matches(list: &[String]) -> Result<Vec<LabelMatch>, String> {
    list.iter().map(|s| LabelMatch::parse(s)).collect()
}

/// `minVisibility`: `FRAMEWORK`, `CLUSTER` or `EXTERNAL`, in any case.
pub(super) fn parse_visibility(s: &str) -> Result<Visibility, String> {
    Visibility::parse(s).ok_or_else(|| format!("expected \"FRAMEWORK\", \"CLUSTER\" or \"EXTERNAL\", got {s:?}"))
}

/// `{principal, secret}` (keys case-insensitive, like every other key); null or both empty mean none.
pub(super) fn parse_credentials(v: &Value, warnings: &mut Vec<String>) -> Result<Option<Credentials>, String> {
    let map = match v {
        Value::Null => return Ok(None),
        Value::Object(map) => map,
        other => {
            return Err(format!(
                "expected an object {{\"principal\": ..., \"secret\": ...}}, got {}",
                show(other)
            ))
        }
    };
    let mut creds = Credentials::default();
    for (key, value) in map {
        let slot = match key.to_lowercase().as_str() {
            "principal" => &mut creds.principal,
            "secret" => &mut creds.secret,
            _ => {
                warnings.push(format!("unknown config key `mesosCredentials.{key}` ignored"));
                continue;
            }
        };
        match value {
            Value::String(s) => *slot = s.clone(),
            Value::Null => {}
            // The secret's value is not echoed, whatever its type.
            _ => return Err(format!("`{key}` must be a string")),
        }
    }
    // The original always writes this object; empty, it means no credentials (and so round-trips).
    Ok((creds != Credentials::default()).then_some(creds))
}

/// `notify`: secondaries to tell of a new serial, each `ip:port` (the port is required: a secondary
/// on loopback or beside another server rarely listens on 53).
pub(super) fn parse_notify(list: &[String]) -> Result<Vec<SocketAddr>, String> {
    list.iter()
        .map(|s| {
            s.trim()
                .parse::<SocketAddr>()
                .map_err(|_| format!("`{s}` is not ip:port (such as 10.0.0.2:53 or [fd00::2]:53)"))
        })
        .collect()
}

/// `nameservers`: fully qualified lower-case names, each checked.
pub(super) fn parse_nameservers(list: &[String]) -> Result<Vec<String>, String> {
    list.iter()
        .map(|s| normalize_domain(s).map(|n| format!("{n}.")))
        .collect()
}

/// `cookieSecret`: 16 bytes as 32 hex digits (`openssl rand -hex 16`).
pub(super) fn parse_cookie_secret(s: &str) -> Result<[u8; 16], String> {
    let digits = s.as_bytes();
    let mut secret = [0u8; 16];
    let hex = |i: usize| char::from(digits[i]).to_digit(16);
    if digits.len() != 32 {
        return Err(format!(
            "16 bytes in hex (32 digits) expected, not {} characters",
            digits.len()
        ));
    }
    for (i, byte) in secret.iter_mut().enumerate() {
        match (hex(2 * i), hex(2 * i + 1)) {
            (Some(hi), Some(lo)) => *byte = (hi << 4 | lo) as u8,
            _ => return Err("hex digits (0-9, a-f) expected".into()),
        }
    }
    Ok(secret)
}

/// `tsigKeys`: `[{"name", "algorithm", "secret"}]` (members case-insensitive); the algorithm is
/// `hmac-sha256` and the secret standard base64 of at least 16 bytes; no name twice.
pub(super) fn parse_tsig_keys(v: &Value) -> Result<Vec<TsigKey>, String> {
    let list = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(list) => list,
        other => {
            return Err(format!(
                "expected a list of {{\"name\", \"algorithm\", \"secret\"}}, got {}",
                show(other)
            ))
        }
    };
    let mut keys: Vec<TsigKey> = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let Value::Object(map) = entry else {
            return Err(format!(
                "entry {i} is not an object {{\"name\", \"algorithm\", \"secret\"}}"
            ));
        };
        let member = |name: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
        };
        let name = member("name").ok_or_else(|| format!("entry {i} has no string `name`"))?;
        let name = normalize_domain(name).map_err(|p| format!("entry {i}: {p}"))? + ".";
        let algorithm = member("algorithm").unwrap_or("hmac-sha256").to_ascii_lowercase();
        let algorithm = algorithm.trim_end_matches('.');
        if algorithm != "hmac-sha256" {
            return Err(format!(
                "key `{name}`: algorithm `{algorithm}` is not supported (only hmac-sha256)"
            ));
        }
        // The secret is not echoed in any message.
        let secret = member("secret").and_then(decode_base64).ok_or_else(|| {
            format!("key `{name}`: `secret` must be base64 (as `tsig-keygen` or `keymgr -t` write it)")
        })?;
        if secret.len() < 16 {
            return Err(format!(
                "key `{name}`: the secret is {} bytes; at least 16 are needed",
                secret.len()
            ));
        }
        if keys.iter().any(|k| k.name == name) {
            return Err(format!("key `{name}` is given twice"));
        }
        keys.push(TsigKey {
            name,
            algorithm: algorithm.to_string(),
            secret,
        });
    }
    Ok(keys)
}

/// Standard base64 (RFC 4648 section 4, padding optional).
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let body = text.trim().trim_end_matches('=');
    if body.bytes().any(|b| b == b'-' || b == b'_') {
        return None;
    }
    crate::base64::decode_url(&body.replace('+', "-").replace('/', "_"))
}

/// A JSON array of strings; null is an empty list.
pub(super) fn string_list(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("expected an array of strings, but item {i} is {}", show(other))),
            })
            .collect(),
        other => Err(format!("expected an array of strings, got {}", show(other))),
    }
}
