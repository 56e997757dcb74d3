//! `zk`: the ZooKeeper URL, `zk://[user:password@]host[:port][,host[:port]...]/path`, parsed once when
//! the config is read; the detector ([`crate::mesos::zk`]) takes its hosts, path and digest from here.

use std::fmt;

use crate::addr::HostPort;

use super::REDACTED;

/// The port of a host given without one.
const DEFAULT_PORT: u16 = 2181;

/// A `zk://[user:password@]host:port[,host:port...]/path` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ZkUrl {
    /// The ensemble's hosts, in the order given (port 2181 where none is given).
    pub hosts: Vec<HostPort>,
    /// The group's path, without a trailing `/` (except the root itself).
    pub path: String,
    /// `user:password` for the `digest` scheme.
    pub digest: Option<String>,
    /// The URL as written, the password redacted.
    written: String,
}

impl fmt::Debug for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// Shows the URL without the password, every host with its port.
impl fmt::Display for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = match &self.digest {
            Some(d) => format!("{}:{REDACTED}@", d.split(':').next().unwrap_or("")),
            None => String::new(),
        };
        write!(f, "zk://{user}")?;
        for (i, host) in self.hosts.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            write!(f, "{comma}{host}")?;
        }
        write!(f, "{}", self.path)
    }
}

impl ZkUrl {
    /// Parses a `zk` value; the message says what is wrong, without the password.
    pub fn parse(url: &str) -> Result<ZkUrl, String> {
        let written = redact(url);
        let rest = url
            .strip_prefix("zk://")
            .ok_or_else(|| format!("expected zk://host:port/path, got `{written}`"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) if i > 0 && i + 1 < rest.len() => (&rest[..i], &rest[i..]),
            _ => {
                return Err(format!(
                    "expected zk://host:port[,host:port...]/path (such as /mesos), got `{written}`"
                ))
            }
        };
        let (digest, hosts) = match authority.rfind('@') {
            Some(at) => (Some(authority[..at].to_owned()), &authority[at + 1..]),
            None => (None, authority),
        };
        let hosts = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| HostPort::parse_or(h, DEFAULT_PORT).map_err(|e| format!("ZooKeeper host `{h}`: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        if hosts.is_empty() {
            return Err("no ZooKeeper host in the URL".into());
        }
        let trimmed = path.trim_end_matches('/');
        let path = if trimmed.is_empty() { "/" } else { trimmed }.to_owned();
        Ok(ZkUrl {
            hosts,
            path,
            digest,
            written,
        })
    }

    /// The URL as written, with any password redacted (what `/v1/config` shows).
    pub fn as_written(&self) -> &str {
        &self.written
    }

    /// The full path of a child of the group.
    pub fn child(&self, name: &str) -> String {
        if self.path == "/" {
            format!("/{name}")
        } else {
            format!("{}/{name}", self.path)
        }
    }
}

/// A ZooKeeper URL with any `user:password@` password replaced.
fn redact(zk: &str) -> String {
    let Some(rest) = zk.strip_prefix("zk://") else {
        return zk.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _password)) => format!("zk://{user}:{REDACTED}{}", &rest[at..]),
            None => zk.to_string(),
        },
        None => zk.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_hosts_path_and_credentials() {
        let u = ZkUrl::parse("zk://dns:s3cret@10.0.0.1:2181,10.0.0.2,[::1]:2182,[::2]/mesos/").unwrap();
        let hosts: Vec<String> = u.hosts.iter().map(HostPort::to_string).collect();
        assert_eq!(hosts, ["10.0.0.1:2181", "10.0.0.2:2181", "[::1]:2182", "[::2]:2181"]);
        assert_eq!(u.path, "/mesos");
        assert_eq!(u.digest.as_deref(), Some("dns:s3cret"));
        assert_eq!(u.child("json.info_1"), "/mesos/json.info_1");
        assert_eq!(
            u.to_string(),
            "zk://dns:<redacted>@10.0.0.1:2181,10.0.0.2:2181,[::1]:2182,[::2]:2181/mesos"
        );
        assert_eq!(
            u.as_written(),
            "zk://dns:<redacted>@10.0.0.1:2181,10.0.0.2,[::1]:2182,[::2]/mesos/"
        );
        assert!(!format!("{u:?}").contains("s3cret"));
    }

    #[test]
    fn root_path_and_bad_urls() {
        let u = ZkUrl::parse("zk://zk1:2181//").unwrap();
        assert_eq!(u.path, "/");
        assert_eq!(u.child("x"), "/x");
        for bad in [
            "zk://zk1:2181",
            "zk://zk1:2181/",
            "zk:///mesos",
            "zk://,/mesos",
            "http://zk1/mesos",
        ] {
            assert!(ZkUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_refused_url_does_not_show_its_password() {
        let e = ZkUrl::parse("zk://dns:s3cret@zk1:2181").unwrap_err();
        assert_eq!(
            e,
            "expected zk://host:port[,host:port...]/path (such as /mesos), got `zk://dns:<redacted>@zk1:2181`"
        );
    }

    #[test]
    fn hosts_are_read_strictly() {
        // Once copied through unchecked: `zk1:+5` reached the resolver, and a bare `::1` got no port.
        for bad in ["zk1:+5", "zk1:", "zk1:0", "zk1:65536", "[::1", "10.0.0.300"] {
            let e = ZkUrl::parse(&format!("zk://{bad}/mesos")).unwrap_err();
            assert!(e.starts_with(&format!("ZooKeeper host `{bad}`: ")), "{bad}: {e}");
        }
        let bare = ZkUrl::parse("zk://::1/mesos").unwrap();
        assert_eq!(bare.hosts, [HostPort::parse("[::1]:2181").unwrap()]);
    }
}
