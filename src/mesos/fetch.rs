//! Fetching the state document from the leading master over HTTP (blocking, used by the refresher thread).
//!
//! This module owns leader detection with a `masters` list (behaviour spec section 3): try each master in
//! order, `GET /master/state` (falling back to `/master/state.json` on 404 for masters older than 0.25),
//! and when the document's `leader` names another host, fetch once more from that host with the port we
//! were given. The first document that parses and names a leader wins. It does not own what is done with
//! the document: the caller's closure gets its [`Header`] (everything but the tasks, parsed here to find
//! the leader) and the body, from which it reads the tasks one at a time.
//!
//! Following a leader means contacting an address taken from the network, so the decision is a pure
//! function ([`next_hop`]) and every follow passes a filter ([`Fetcher::with_follow_filter`]); tests
//! install [`is_loopback_addr`] to prove that no other address is ever contacted.

use std::fmt;
use std::io;
use std::time::Duration;

use crate::addr::HostPort;
use crate::config::Config;
use crate::mesos::access::{with_authorization, Access, AccessError, SendError, Untrusted};
use crate::mesos::iam::IamError;
use crate::mesos::state::{self, Header};

/// The largest state document accepted. Big clusters produce tens of MiB (100k tasks on 5k agents: 46 MB);
/// beyond this the body is an error rather than a reason to run out of memory. A body that announces a
/// larger `Content-Length` is refused before any of it is read; one without a length is read up to here.
pub const MAX_BODY_BYTES: u64 = 128 * 1024 * 1024;

/// How long connecting to one master may take (bounded by `stateTimeoutSeconds` when that is shorter):
/// a master that does not answer SYNs should not use up the whole state timeout before the next is tried.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many extra fetches per configured master (leader follow or HTTP redirect); the original
/// follows the leader once and trusts the document it gets there.
const MAX_FOLLOWS: usize = 1;

/// The state paths, newest first: masters before 0.25 serve only the second.
const STATE_PATHS: [&str; 2] = ["/master/state", "/master/state.json"];

/// Decides whether the fetcher may contact an address (`host:port`) that it learnt from a master (the
/// `leader` field or a redirect). Configured masters are always contacted.
pub type FollowFilter = fn(&str) -> bool;

/// Fetches state documents from the configured masters.
pub struct Fetcher {
    agent: ureq::Agent,
    masters: Vec<String>,
    follow: FollowFilter,
    body_limit: u64,
    access: Access,
}

/// Where an accepted document came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The configured master that was asked first (`host:port`, as configured).
    pub master: String,
    /// The URL the accepted document was read from (the leader's when the master pointed elsewhere).
    pub url: String,
    /// The document's `leader` field (`master@10.0.0.1:5050`).
    pub leader: String,
}

/// What the next request of a leader search should be, given the master asked and the leader it named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hop {
    /// The leader is the host we asked: use this document.
    Stay,
    /// The leader is another host: fetch again from this `host:port` (the leader's host, our port).
    Follow(String),
}

/// Why one master did not give a usable document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The configured address is not `host:port`.
    BadAddress,
    /// Nothing listens there (TCP connection refused).
    Refused,
    /// The host name does not resolve.
    HostNotFound,
    /// Connecting or reading failed for another reason.
    Io(String),
    /// No complete answer within the time allowed (`stateTimeoutSeconds`, or the connect timeout).
    Timeout,
    /// The master answered with a status other than 200.
    Status(u16),
    /// The master refused the request (401, 403); the key holds the credentials it got.
    Unauthorized { status: u16, key: &'static str },
    /// The master's certificate did not verify.
    Untrusted(Untrusted),
    /// The IAM login before the request failed.
    Login(IamError),
    /// A redirect without a usable `Location`.
    BadRedirect(String),
    /// The body is larger than the limit (bytes).
    TooBig(u64),
    /// The body is not a state document (not JSON, or the wrong shape).
    NotState(String),
    /// The document's `leader` field is empty: this master does not know the leader.
    NoLeader,
    /// The `leader` field could not be read as `name@host:port`.
    BadLeader(String),
    /// The follow filter refused to contact this address.
    FollowRefused(String),
    /// Another HTTP-level failure (a malformed response, ...).
    Http(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadAddress => write!(f, "the address is not host:port"),
            Problem::Refused => write!(f, "connection refused (is the master running and listening there?)"),
            Problem::HostNotFound => write!(f, "the host name does not resolve"),
            Problem::Io(e) => write!(f, "network error: {e}"),
            Problem::Timeout => write!(f, "timed out (see stateTimeoutSeconds)"),
            Problem::Status(s) => write!(f, "HTTP status {s}"),
            Problem::Unauthorized { status, key } => {
                write!(
                    f,
                    "HTTP status {status}: the master refused our credentials (see `{key}`)"
                )
            }
            Problem::Untrusted(u) => write!(f, "{u}"),
            Problem::Login(e) => write!(f, "{e}"),
            Problem::BadRedirect(l) => write!(f, "redirect to an unusable location {l:?}"),
            Problem::TooBig(limit) => write!(f, "the state document is larger than {limit} bytes"),
            Problem::NotState(e) => write!(f, "the body is not a Mesos state document: {e}"),
            Problem::NoLeader => write!(f, "the state names no leader (is this master part of a quorum?)"),
            Problem::BadLeader(l) => write!(f, "cannot read the leader field {l:?}"),
            Problem::FollowRefused(a) => write!(f, "not following the leader to {a} (refused by the follow filter)"),
            Problem::Http(e) => write!(f, "HTTP error: {e}"),
        }
    }
}

/// One failed attempt: which configured master, which URL (if one was requested) and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub master: String,
    pub url: Option<String>,
    pub problem: Problem,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.url {
            Some(url) => write!(f, "master {}: GET {url}: {}", self.master, self.problem),
            None => write!(f, "master {}: {}", self.master, self.problem),
        }
    }
}

/// Why no state document was fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The configuration lists no master.
    NoMasters,
    /// A configuration this fetcher cannot serve (as it says).
    Unsupported(&'static str),
    /// The TLS or credentials settings cannot be used.
    Access(AccessError),
    /// The IAM login failed (the same endpoint serves every master: the others are not tried).
    Login(IamError),
    /// Every master was tried; one entry per master, in order.
    AllFailed(Vec<Attempt>),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::NoMasters => write!(f, "no Mesos master configured (`masters` is empty)"),
            FetchError::Unsupported(what) => write!(f, "{what}"),
            FetchError::Access(e) => write!(f, "{e}"),
            FetchError::Login(e) => write!(f, "{e}"),
            FetchError::AllFailed(attempts) => {
                write!(f, "no master gave a usable state document")?;
                for a in attempts {
                    write!(f, "; {a}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for FetchError {}

/// One HTTP answer that is worth looking at.
enum Got {
    Body { url: String, body: Vec<u8> },
    Redirect { url: String, to: String },
}

impl Fetcher {
    /// A fetcher for these masters (`host:port` each) with `timeout` as the overall limit of one request
    /// (`None`: no limit). Follows leaders anywhere; see [`Fetcher::with_follow_filter`].
    pub fn new(masters: Vec<String>, timeout: Option<Duration>) -> Fetcher {
        Fetcher::with_access(masters, timeout, Access::plain())
    }

    /// [`Fetcher::new`] reaching the masters as `access` says (HTTPS, client certificate, credentials).
    pub fn with_access(masters: Vec<String>, timeout: Option<Duration>, access: Access) -> Fetcher {
        let connect = match timeout {
            Some(t) => t.min(CONNECT_TIMEOUT),
            None => CONNECT_TIMEOUT,
        };
        // Statuses are ours to interpret (404 means "old master", the rest are errors we report).
        let agent = access
            .agent_config()
            .timeout_global(timeout)
            .timeout_connect(Some(connect))
            .accept("application/json")
            .build()
            .new_agent();
        Fetcher {
            agent,
            masters,
            follow: |_| true,
            body_limit: MAX_BODY_BYTES,
            access,
        }
    }

    /// The fetcher for `masters` with the config's settings ([`Fetcher::with_config`]).
    pub fn from_config(config: &Config) -> Result<Fetcher, FetchError> {
        if config.masters.is_empty() && config.zk.is_some() {
            return Err(FetchError::Unsupported(
                "`masters` is empty and `zk` is only read at start: restart to detect the leader through ZooKeeper",
            ));
        }
        if config.masters.is_empty() {
            return Err(FetchError::NoMasters);
        }
        Fetcher::with_config(config, config.masters.clone())
    }

    /// A fetcher for `masters` (the configured ones, or the leader ZooKeeper names) with
    /// `stateTimeoutSeconds` (0: no limit, as the original's Go client), over HTTPS and with credentials
    /// when the config asks (see [`Access`]).
    pub fn with_config(config: &Config, masters: Vec<String>) -> Result<Fetcher, FetchError> {
        let access = Access::from_config(config).map_err(FetchError::Access)?;
        let timeout = (config.state_timeout_seconds > 0).then(|| Duration::from_secs(config.state_timeout_seconds));
        Ok(Fetcher::with_access(masters, timeout, access))
    }

    /// This fetcher, settings and all, asking `masters` instead (the leader ZooKeeper names first).
    pub fn with_masters(&self, masters: Vec<String>) -> Fetcher {
        Fetcher {
            agent: self.agent.clone(),
            masters,
            follow: self.follow,
            body_limit: self.body_limit,
            access: self.access.clone(),
        }
    }

    /// Only contact addresses learnt from a master (leader or redirect) when `filter` returns true for
    /// their `host:port`; otherwise that master counts as failed and the next is tried. Tests pass
    /// [`is_loopback_addr`] so that a fixture can never send traffic off the machine.
    pub fn with_follow_filter(mut self, filter: FollowFilter) -> Fetcher {
        self.follow = filter;
        self
    }

    /// Caps the body size (default [`MAX_BODY_BYTES`]).
    pub fn with_body_limit(mut self, bytes: u64) -> Fetcher {
        self.body_limit = bytes;
        self
    }

    /// The fetcher for a reloaded config ([`Fetcher::from_config`]) that keeps this one's follow filter
    /// and body limit: those are set by the process (tests), not by the config file.
    pub fn reconfigured(&self, config: &Config) -> Result<Fetcher, FetchError> {
        Ok(self.keeping_hooks(Fetcher::from_config(config)?))
    }

    /// [`Fetcher::reconfigured`] for a fetcher whose masters come from ZooKeeper: it keeps its masters.
    pub fn reconfigured_for_zk(&self, config: &Config) -> Result<Fetcher, FetchError> {
        Ok(self.keeping_hooks(Fetcher::with_config(config, self.masters.clone())?))
    }

    fn keeping_hooks(&self, new: Fetcher) -> Fetcher {
        new.with_follow_filter(self.follow).with_body_limit(self.body_limit)
    }

    /// How the masters are reached (HTTPS, credentials).
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// The configured masters, in the order they are tried.
    pub fn masters(&self) -> &[String] {
        &self.masters
    }

    /// Finds the leader's state document and hands its header and body to `accept`, called at most once
    /// and only with a document that names a leader. Returns what `accept` returned and where the
    /// document came from.
    pub fn fetch_with<T>(
        &self,
        mut accept: impl FnMut(&Origin, &Header<'_>, &[u8]) -> T,
    ) -> Result<(T, Origin), FetchError> {
        if self.masters.is_empty() {
            return Err(FetchError::NoMasters);
        }
        let mut attempts = Vec::with_capacity(self.masters.len());
        for master in &self.masters {
            match self.try_master(master, &mut accept) {
                Ok(done) => {
                    for a in &attempts {
                        log::debug!("skipped: {a}");
                    }
                    return Ok(done);
                }
                Err((_, Problem::Login(e))) => return Err(FetchError::Login(e)),
                Err((url, problem)) => attempts.push(Attempt {
                    master: master.clone(),
                    url,
                    problem,
                }),
            }
        }
        Err(FetchError::AllFailed(attempts))
    }

    /// Runs the leader search on one configured master.
    fn try_master<T>(
        &self,
        master: &str,
        accept: &mut impl FnMut(&Origin, &Header<'_>, &[u8]) -> T,
    ) -> Result<(T, Origin), (Option<String>, Problem)> {
        if HostPort::parse(master).is_err() {
            return Err((None, Problem::BadAddress));
        }
        let mut addr = master.to_owned();
        let mut follows = 0;
        loop {
            match self.get(&addr)? {
                Got::Redirect { url, to } => {
                    if follows >= MAX_FOLLOWS {
                        return Err((Some(url), Problem::BadRedirect(to)));
                    }
                    let Some(next) = redirect_target(&to) else {
                        return Err((Some(url), Problem::BadRedirect(to)));
                    };
                    if !(self.follow)(&next) {
                        return Err((Some(url), Problem::FollowRefused(next)));
                    }
                    log::debug!("{url} redirects to {to}: fetching from {next}");
                    addr = next;
                    follows += 1;
                }
                Got::Body { url, body } => {
                    let state = match state::parse_header(&body) {
                        Ok(s) => s,
                        Err(e) => return Err((Some(url), Problem::NotState(e.to_string()))),
                    };
                    if state.leader.is_empty() {
                        return Err((Some(url), Problem::NoLeader));
                    }
                    let hop = if follows < MAX_FOLLOWS {
                        next_hop(&addr, &state.leader).map_err(|p| (Some(url.clone()), p))?
                    } else {
                        // We already followed once; the original trusts the document it got there.
                        Hop::Stay
                    };
                    match hop {
                        Hop::Stay => {
                            let origin = Origin {
                                master: master.to_owned(),
                                url,
                                leader: state.leader.to_string(),
                            };
                            let out = accept(&origin, &state, &body);
                            return Ok((out, origin));
                        }
                        Hop::Follow(next) => {
                            if !(self.follow)(&next) {
                                return Err((Some(url), Problem::FollowRefused(next)));
                            }
                            log::debug!("{url} names leader {}: fetching from {next}", state.leader);
                            addr = next;
                            follows += 1;
                        }
                    }
                }
            }
        }
    }

    /// GETs the state from `addr` (`host:port`), falling back to the old path on 404.
    fn get(&self, addr: &str) -> Result<Got, (Option<String>, Problem)> {
        let mut last_url = None;
        for path in STATE_PATHS {
            let url = format!("{}://{addr}{path}", self.access.scheme());
            let sent = self
                .access
                .send(|authorization| with_authorization(self.agent.get(&url), authorization).call());
            let mut resp = match sent {
                Ok(r) => r,
                Err(SendError::Login(e)) => return Err((Some(url), Problem::Login(e))),
                Err(SendError::Http(e)) => return Err((Some(url), self.classify(e))),
            };
            let status = resp.status().as_u16();
            match status {
                200 => {}
                404 => {
                    last_url = Some(url);
                    continue;
                }
                300..=399 => {
                    let to = resp
                        .headers()
                        .get("location")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    return Ok(Got::Redirect { url, to });
                }
                401 | 403 => {
                    let key = self.access.credentials_key();
                    return Err((Some(url), Problem::Unauthorized { status, key }));
                }
                _ => return Err((Some(url), Problem::Status(status))),
            }
            let announced = resp.body().content_length();
            if announced.is_some_and(|n| n > self.body_limit) {
                return Err((Some(url), Problem::TooBig(self.body_limit)));
            }
            // Sized up front when the length is announced: growing by doubling would hold up to twice a
            // 46 MB document at the refresh's peak.
            let mut body = Vec::with_capacity(announced.unwrap_or(0) as usize);
            let mut reader = resp.body_mut().with_config().limit(self.body_limit).reader();
            return match std::io::Read::read_to_end(&mut reader, &mut body) {
                Ok(_) => Ok(Got::Body { url, body }),
                Err(e) => Err((Some(url), classify_io(e, self.body_limit))),
            };
        }
        Err((last_url, Problem::Status(404)))
    }

    /// A failed request, told apart as a user can act on it.
    fn classify(&self, e: ureq::Error) -> Problem {
        match self.access.untrusted(&e) {
            Some(untrusted) => Problem::Untrusted(untrusted),
            None => classify(e, self.body_limit),
        }
    }
}

/// Maps a ureq error to what a user can act on.
/// A body read error: ureq reports its own errors (such as the size limit) wrapped in `io::Error`.
fn classify_io(e: std::io::Error, body_limit: u64) -> Problem {
    if !e.get_ref().is_some_and(|inner| inner.is::<ureq::Error>()) {
        return classify(ureq::Error::Io(e), body_limit);
    }
    match e.into_inner().map(|inner| inner.downcast::<ureq::Error>()) {
        Some(Ok(ureq_error)) => classify(*ureq_error, body_limit),
        _ => Problem::TooBig(body_limit),
    }
}

fn classify(e: ureq::Error, body_limit: u64) -> Problem {
    match e {
        ureq::Error::Io(io) => match io.kind() {
            io::ErrorKind::ConnectionRefused => Problem::Refused,
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Problem::Timeout,
            _ => Problem::Io(io.to_string()),
        },
        ureq::Error::Timeout(_) => Problem::Timeout,
        ureq::Error::HostNotFound => Problem::HostNotFound,
        ureq::Error::ConnectionFailed => Problem::Io("connection failed".into()),
        ureq::Error::BodyExceedsLimit(_) => Problem::TooBig(body_limit),
        other => Problem::Http(other.to_string()),
    }
}

/// The pure leader-follow decision: `asked` is the `host:port` the document came from, `leader` its
/// `leader` field. Another host means fetching again from that host with the port we were given (the
/// original's behaviour: masters of one cluster share a port).
pub fn next_hop(asked: &str, leader: &str) -> Result<Hop, Problem> {
    let asked = HostPort::parse(asked).map_err(|_| Problem::BadAddress)?;
    let leader = HostPort::from_pid(leader).map_err(|_| Problem::BadLeader(leader.to_owned()))?;
    // Host names compare case-insensitively (both are lower-case), IP literals by value (`::1` ==
    // `0:0::1`).
    if leader.host() == asked.host() {
        Ok(Hop::Stay)
    } else {
        Ok(Hop::Follow(leader.with_port(asked.port()).to_string()))
    }
}

/// The `host:port` a redirect `Location` points at (`//10.0.0.1:5050/master/state`,
/// `http://host:5050/...`); `None` when it has no host or port.
pub fn redirect_target(location: &str) -> Option<String> {
    let rest = location
        .strip_prefix("http://")
        .or_else(|| location.strip_prefix("https://"))
        .or_else(|| location.strip_prefix("//"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    HostPort::parse(authority).ok().map(|to| to.to_string())
}

/// A follow filter that allows loopback IP literals only (127.0.0.0/8, ::1); host names are refused
/// because resolving them could already leave the machine.
pub fn is_loopback_addr(addr: &str) -> bool {
    HostPort::parse(addr)
        .ok()
        .and_then(|to| to.host().ip())
        .is_some_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::{SocketAddr, TcpListener};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread;
    use std::time::Instant;

    #[test]
    fn same_host_leader_means_stay() {
        assert_eq!(next_hop("10.0.0.1:5050", "master@10.0.0.1:5050"), Ok(Hop::Stay));
        assert_eq!(next_hop("Master-1:5050", "master@master-1:5050"), Ok(Hop::Stay));
        assert_eq!(next_hop("[::1]:5050", "master@[0:0::1]:5050"), Ok(Hop::Stay));
    }

    #[test]
    fn other_leader_is_followed_with_the_port_we_were_given() {
        assert_eq!(
            next_hop("10.0.0.1:5050", "master@10.0.0.2:5051"),
            Ok(Hop::Follow("10.0.0.2:5050".into()))
        );
        assert_eq!(
            next_hop("10.0.0.1:8080", "master@[2001:db8::2]:5050"),
            Ok(Hop::Follow("[2001:db8::2]:8080".into()))
        );
    }

    #[test]
    fn unreadable_leader_or_address_is_a_problem() {
        assert_eq!(
            next_hop("10.0.0.1:5050", "master@"),
            Err(Problem::BadLeader("master@".into()))
        );
        assert_eq!(next_hop("10.0.0.1", "master@10.0.0.1:5050"), Err(Problem::BadAddress));
        // Signs were read as ports here once (`u16::from_str` takes "+5").
        assert_eq!(
            next_hop("10.0.0.1:+5", "master@10.0.0.1:5050"),
            Err(Problem::BadAddress)
        );
        assert_eq!(
            next_hop("10.0.0.1:5050", "master@10.0.0.2:+5"),
            Err(Problem::BadLeader("master@10.0.0.2:+5".into()))
        );
    }

    #[test]
    fn a_leader_must_be_a_whole_pid() {
        // Once read leniently (host only); the original's `leaderIP` also wants `name@host:port`.
        for leader in ["master@10.0.0.2", "10.0.0.2:5050", "master@:5050", "master@[::1"] {
            assert_eq!(
                next_hop("10.0.0.1:5050", leader),
                Err(Problem::BadLeader(leader.into())),
                "{leader}"
            );
        }
    }

    #[test]
    fn redirect_locations_give_host_and_port() {
        assert_eq!(
            redirect_target("//10.0.0.2:5050/master/state"),
            Some("10.0.0.2:5050".into())
        );
        assert_eq!(
            redirect_target("http://[::1]:5050/master/state?x"),
            Some("[::1]:5050".into())
        );
        assert_eq!(redirect_target("/master/state"), None);
        assert_eq!(redirect_target("http://host/master/state"), None);
        assert_eq!(redirect_target("http://host:+5/master/state"), None);
        assert_eq!(
            redirect_target("http://Leader.Mesos:5050/"),
            Some("leader.mesos:5050".into())
        );
    }

    #[test]
    fn loopback_filter_allows_only_loopback_literals() {
        assert!(is_loopback_addr("127.0.0.1:5050"));
        assert!(is_loopback_addr("127.3.2.1:1"));
        assert!(is_loopback_addr("[::1]:5050"));
        assert!(!is_loopback_addr("10.0.0.1:5050"));
        assert!(!is_loopback_addr("localhost:5050"));
        assert!(!is_loopback_addr("[2001:db8::1]:5050"));
        assert!(!is_loopback_addr("127.0.0.1"), "a follow target always has a port");
    }

    #[test]
    fn errors_name_the_master_and_what_failed() {
        let e = FetchError::AllFailed(vec![
            Attempt {
                master: "127.0.0.1:1".into(),
                url: Some("http://127.0.0.1:1/master/state".into()),
                problem: Problem::Refused,
            },
            Attempt {
                master: "127.0.0.1:2".into(),
                url: None,
                problem: Problem::Status(500),
            },
        ]);
        let text = e.to_string();
        assert!(
            text.contains("master 127.0.0.1:1: GET http://127.0.0.1:1/master/state: connection refused"),
            "{text}"
        );
        assert!(text.contains("master 127.0.0.1:2: HTTP status 500"), "{text}");
    }

    /// What the test HTTP server answers for one path.
    #[derive(Clone)]
    enum Reply {
        Ok(String),
        Status(u16),
        Redirect(String),
        /// Announces a Content-Length but sends nothing (tests the up-front size check).
        HugeLength,
        /// Accepts and never answers.
        Silent,
    }

    /// A one-file HTTP/1.1 server on loopback: a route table of path -> reply; counts requests per path.
    struct TestServer {
        addr: SocketAddr,
        hits: Arc<Mutex<Vec<String>>>,
    }

    impl TestServer {
        fn start(ip: &str, port: u16, routes: Vec<(&'static str, Reply)>) -> TestServer {
            Self::try_start(ip, port, routes).unwrap()
        }

        fn try_start(ip: &str, port: u16, routes: Vec<(&'static str, Reply)>) -> io::Result<TestServer> {
            let listener = TcpListener::bind((ip, port))?;
            let addr = listener.local_addr()?;
            let hits = Arc::new(Mutex::new(Vec::new()));
            let hits2 = hits.clone();
            thread::spawn(move || {
                // Bounded: tests make a handful of requests; the thread ends with the test process.
                for stream in listener.incoming().take(64) {
                    let Ok(mut stream) = stream else { continue };
                    let mut line = String::new();
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    if reader.read_line(&mut line).is_err() {
                        continue;
                    }
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                    }
                    let path = line.split(' ').nth(1).unwrap_or("").to_owned();
                    hits2.lock().unwrap().push(path.clone());
                    let reply = routes
                        .iter()
                        .find(|(p, _)| *p == path)
                        .map(|(_, r)| r.clone())
                        .unwrap_or(Reply::Status(404));
                    let resp = match reply {
                        Reply::Ok(body) => format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        ),
                        Reply::Status(s) => format!("HTTP/1.1 {s} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                        Reply::Redirect(to) => format!(
                            "HTTP/1.1 307 X\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        ),
                        Reply::HugeLength => {
                            "HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n".to_owned()
                        }
                        Reply::Silent => {
                            thread::sleep(Duration::from_secs(3));
                            continue;
                        }
                    };
                    let _ = stream.write_all(resp.as_bytes());
                }
            });
            Ok(TestServer { addr, hits })
        }

        fn master(&self) -> String {
            self.addr.to_string()
        }

        fn hits(&self) -> Vec<String> {
            self.hits.lock().unwrap().clone()
        }
    }

    fn state_json(leader: &str) -> String {
        format!(r#"{{"leader":"{leader}","frameworks":[],"slaves":[]}}"#)
    }

    fn fetcher(masters: Vec<String>) -> Fetcher {
        Fetcher::new(masters, Some(Duration::from_secs(5))).with_follow_filter(is_loopback_addr)
    }

    /// Fetches and returns the accepted leader and origin.
    fn leader_of(f: &Fetcher) -> Result<(String, Origin), FetchError> {
        f.fetch_with(|_, s, _| s.leader.to_string())
    }

    fn closed_port() -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        addr.to_string()
    }

    #[test]
    fn leader_document_is_accepted_and_parsed_once() {
        // The leader's port does not matter: the same host means this master is the leader.
        let s = TestServer::start(
            "127.0.0.1",
            0,
            vec![("/master/state", Reply::Ok(state_json("master@127.0.0.1:5050")))],
        );
        let calls = AtomicUsize::new(0);
        let (leader, origin) = fetcher(vec![s.master()])
            .fetch_with(|_, st, _| {
                calls.fetch_add(1, Ordering::SeqCst);
                st.leader.to_string()
            })
            .unwrap();
        assert_eq!(leader, "master@127.0.0.1:5050");
        assert_eq!(origin.master, s.master());
        assert_eq!(origin.url, format!("http://{}/master/state", s.master()));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(s.hits(), vec!["/master/state"]);
    }

    #[test]
    fn old_master_falls_back_to_state_json_on_404() {
        let s = TestServer::start(
            "127.0.0.1",
            0,
            vec![("/master/state.json", Reply::Ok(state_json("master@127.0.0.1:1")))],
        );
        let (_, origin) = leader_of(&fetcher(vec![s.master()])).unwrap();
        assert_eq!(origin.url, format!("http://{}/master/state.json", s.master()));
        assert_eq!(s.hits(), vec!["/master/state", "/master/state.json"]);
    }

    #[test]
    fn failing_master_is_skipped_for_the_next() {
        let bad = TestServer::start("127.0.0.1", 0, vec![("/master/state", Reply::Status(500))]);
        let good = TestServer::start(
            "127.0.0.1",
            0,
            vec![("/master/state", Reply::Ok(state_json("master@127.0.0.1:1")))],
        );
        let (_, origin) = leader_of(&fetcher(vec![closed_port(), bad.master(), good.master()])).unwrap();
        assert_eq!(origin.master, good.master());
        assert_eq!(
            bad.hits(),
            vec!["/master/state"],
            "500 is an error, not a reason to try the old path"
        );
    }

    #[test]
    fn every_failure_is_reported_per_master() {
        let refused = closed_port();
        let status = TestServer::start("127.0.0.1", 0, vec![("/master/state", Reply::Status(503))]);
        let garbage = TestServer::start(
            "127.0.0.1",
            0,
            vec![("/master/state", Reply::Ok("<html>oops</html>".into()))],
        );
        let no_leader = TestServer::start("127.0.0.1", 0, vec![("/master/state", Reply::Ok(state_json("")))]);
        let missing = TestServer::start("127.0.0.1", 0, vec![]);
        let masters = vec![
            refused.clone(),
            status.master(),
            garbage.master(),
            no_leader.master(),
            missing.master(),
            "nonsense".into(),
        ];
        let Err(FetchError::AllFailed(attempts)) = leader_of(&fetcher(masters)) else {
            panic!("expected failure")
        };
        let problems: Vec<_> = attempts.iter().map(|a| a.problem.clone()).collect();
        assert_eq!(problems[0], Problem::Refused);
        assert_eq!(problems[1], Problem::Status(503));
        assert!(matches!(problems[2], Problem::NotState(_)), "{:?}", problems[2]);
        assert_eq!(problems[3], Problem::NoLeader);
        assert_eq!(problems[4], Problem::Status(404));
        assert_eq!(problems[5], Problem::BadAddress);
        assert_eq!(attempts[0].master, refused);
        assert_eq!(
            attempts[4].url.as_deref(),
            Some(&*format!("http://{}/master/state.json", missing.master()))
        );
    }

    #[test]
    fn body_over_the_limit_is_an_error() {
        let big = TestServer::start(
            "127.0.0.1",
            0,
            vec![("/master/state", Reply::Ok(state_json(&"x".repeat(1000))))],
        );
        let huge = TestServer::start("127.0.0.1", 0, vec![("/master/state", Reply::HugeLength)]);
        let f = fetcher(vec![big.master(), huge.master()]).with_body_limit(100);
        let Err(FetchError::AllFailed(attempts)) = leader_of(&f) else {
            panic!("expected failure")
        };
        assert_eq!(attempts[0].problem, Problem::TooBig(100));
        assert_eq!(attempts[1].problem, Problem::TooBig(100));
    }

    #[test]
    fn silent_master_times_out() {
        let s = TestServer::start("127.0.0.1", 0, vec![("/master/state", Reply::Silent)]);
        let f = Fetcher::new(vec![s.master()], Some(Duration::from_millis(300)));
        let start = Instant::now();
        let Err(FetchError::AllFailed(attempts)) = leader_of(&f) else {
            panic!("expected failure")
        };
        assert_eq!(attempts[0].problem, Problem::Timeout);
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn leader_on_another_host_is_fetched_with_our_port() {
        // 127.0.0.2 is loopback too (all of 127/8 is): a second "host" on the same port.
        let first = TestServer::start(
            "127.0.0.1",
            0,
            vec![("/master/state", Reply::Ok(state_json("master@127.0.0.2:9")))],
        );
        let port = first.addr.port();
        let routes = vec![(
            "/master/state",
            Reply::Ok(state_json(&format!("master@127.0.0.2:{port}"))),
        )];
        let Ok(leader) = TestServer::try_start("127.0.0.2", port, routes) else {
            eprintln!("cannot bind 127.0.0.2:{port}; skipping the two-host part");
            return;
        };
        let (got, origin) = leader_of(&fetcher(vec![first.master()])).unwrap();
        assert_eq!(got, format!("master@127.0.0.2:{port}"));
        assert_eq!(origin.master, first.master());
        assert_eq!(origin.url, format!("http://127.0.0.2:{port}/master/state"));
        assert_eq!(leader.hits(), vec!["/master/state"]);
    }

    #[test]
    fn non_loopback_leader_is_never_contacted_under_the_loopback_filter() {
        static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
        fn record(addr: &str) -> bool {
            SEEN.lock().unwrap().push(addr.to_owned());
            is_loopback_addr(addr)
        }
        let s = TestServer::start(
            "127.0.0.1",
            0,
            vec![("/master/state", Reply::Ok(state_json("master@192.0.2.1:5050")))],
        );
        let r = TestServer::start(
            "127.0.0.1",
            0,
            vec![("/master/state", Reply::Redirect("//192.0.2.1:5050/master/state".into()))],
        );
        let f = Fetcher::new(vec![s.master(), r.master()], Some(Duration::from_secs(5))).with_follow_filter(record);
        let Err(FetchError::AllFailed(attempts)) = leader_of(&f) else {
            panic!("expected failure")
        };
        let expect_leader = format!("192.0.2.1:{}", s.addr.port());
        assert_eq!(attempts[0].problem, Problem::FollowRefused(expect_leader.clone()));
        assert_eq!(attempts[1].problem, Problem::FollowRefused("192.0.2.1:5050".into()));
        assert_eq!(*SEEN.lock().unwrap(), vec![expect_leader, "192.0.2.1:5050".to_owned()]);
    }

    #[test]
    fn reconfigured_fetcher_keeps_the_follow_filter_and_body_limit() {
        // A SIGHUP rebuilds the fetcher from the new config; the test hooks must survive it.
        let leads_elsewhere = TestServer::start(
            "127.0.0.1",
            0,
            vec![("/master/state", Reply::Ok(state_json("master@192.0.2.1:5050")))],
        );
        let big = TestServer::start(
            "127.0.0.1",
            0,
            vec![("/master/state", Reply::Ok(state_json(&"x".repeat(1000))))],
        );
        let config = Config {
            masters: vec![leads_elsewhere.master(), big.master()],
            ..Config::default()
        };
        let old = fetcher(vec![]).with_body_limit(100);
        let f = old.reconfigured(&config).unwrap();
        assert_eq!(f.masters(), config.masters);
        let Err(FetchError::AllFailed(attempts)) = leader_of(&f) else {
            panic!("expected failure")
        };
        let port = leads_elsewhere.addr.port();
        assert_eq!(attempts[0].problem, Problem::FollowRefused(format!("192.0.2.1:{port}")));
        assert_eq!(attempts[1].problem, Problem::TooBig(100));
    }

    #[test]
    fn redirect_to_loopback_is_followed_once() {
        let target = TestServer::start(
            "127.0.0.1",
            0,
            vec![("/master/state", Reply::Ok(state_json("master@127.0.0.9:1")))],
        );
        let r = TestServer::start(
            "127.0.0.1",
            0,
            vec![(
                "/master/state",
                Reply::Redirect(format!("//{}/master/state", target.master())),
            )],
        );
        let (leader, origin) = leader_of(&fetcher(vec![r.master()])).unwrap();
        // After one follow the document is trusted even though it names yet another host.
        assert_eq!(leader, "master@127.0.0.9:1");
        assert_eq!(origin.url, format!("http://{}/master/state", target.master()));
    }

    #[test]
    fn no_masters_is_an_error() {
        assert_eq!(
            leader_of(&Fetcher::new(vec![], None)).unwrap_err(),
            FetchError::NoMasters
        );
    }
}
