//! The leader search with a `masters` list (behaviour spec section 3), without any I/O: which URL to
//! GET next, what each answer means, and when to give up with which error. [`super::fetch`] is its
//! driver: it sends the GETs this asks for and reports what came back, so every rule below is
//! unit-tested with scripted answers.
//!
//! The rules, as the original's: the configured masters are tried in order. Each is asked for
//! `/master/state`, and after a 404 for `/master/state.json` (masters before 0.25). A document whose
//! `leader` names another host sends the search to that host with the port we were given (the masters
//! of one cluster share a port); a redirect sends it to its `Location`. Either is a follow, and one
//! configured master gets [`MAX_FOLLOWS`] of them: after that a document naming yet another leader is
//! a failure (a follower's document has no agents and no tasks: the original trusts it, and loses every
//! task's name when leadership moves during a search), and so is a redirect. An address learnt from a master is contacted only if the
//! [`FollowFilter`] allows it. The first document that names a leader is accepted; a master that gives
//! none is noted ([`Attempt`]) and the next is tried, except after a failed IAM login (the same
//! endpoint serves every master). So one search sends at most `2 * (1 + MAX_FOLLOWS)` requests per
//! configured master.
//!
//! It does not own HTTP, body limits, TLS or credentials (the driver's and [`super::access`]'s), nor
//! what is done with the accepted document (the driver's caller's).

use std::fmt;

use crate::addr::HostPort;
use crate::mesos::error::{AccessError, IamError, Untrusted};

/// At most this many extra fetches per configured master (leader follow or HTTP redirect); the original
/// follows the leader once and trusts the document it gets there.
pub(crate) const MAX_FOLLOWS: usize = 1;

/// Where a master serves its state.
const STATE_PATH: &str = "/master/state";
/// Where masters before 0.25 serve it (asked after a 404 on [`STATE_PATH`]).
const OLD_STATE_PATH: &str = "/master/state.json";

/// Decides whether the search may contact an address that it learnt from a master (the `leader` field
/// or a redirect). Configured masters are always contacted.
pub(crate) type FollowFilter = fn(&HostPort) -> bool;

/// A follow filter that allows loopback IP literals only (127.0.0.0/8, ::1); host names are refused
/// because resolving them could already leave the machine. Tests install it so that a fixture can never
/// send traffic off the machine.
pub(crate) fn is_loopback_addr(addr: &HostPort) -> bool {
    addr.host().ip().is_some_and(|ip| ip.is_loopback())
}

/// Where an accepted document came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The configured master that was asked first (`host:port`).
    pub master: String,
    /// The URL the accepted document was read from (the leader's when the master pointed elsewhere).
    pub url: String,
    /// The document's `leader` field (`master@10.0.0.1:5050`).
    pub leader: String,
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// GET this URL and report the answer ([`LeaderSearch::status`], [`LeaderSearch::document`],
    /// [`LeaderSearch::failed`], [`LeaderSearch::login_failed`]).
    Get(String),
    /// Stop: no state document will come.
    GiveUp(FetchError),
}

/// What a state document leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It is the leader's: use it.
    Accept(Origin),
    /// It is not (or not usable): go on.
    Next(Step),
}

/// One leader search over the configured masters, fed the answers to the requests it asks for.
pub(crate) struct LeaderSearch<'a> {
    masters: &'a [HostPort],
    /// `http` or `https`.
    scheme: &'static str,
    /// The config key named when a master refuses the credentials (401, 403).
    credentials_key: &'static str,
    follow: FollowFilter,
    /// The index in `masters` of the next master to try after the current one.
    next: usize,
    /// The request the search waits on an answer to; `None` before the start and after the end.
    asking: Option<Asking<'a>>,
    /// The masters that gave nothing usable, in order.
    attempts: Vec<Attempt>,
}

/// Where the search is with one configured master.
struct Asking<'a> {
    /// As configured.
    master: &'a HostPort,
    /// Where the current request goes: the master, or where it sent us.
    addr: HostPort,
    /// `addr` as the URL spells it.
    authority: String,
    /// [`STATE_PATH`] or [`OLD_STATE_PATH`].
    path: &'static str,
    /// How many times this master's search followed a leader or a redirect.
    follows: usize,
}

/// What the next request should be, given the master asked and the leader its document names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hop {
    /// The leader is the host we asked: use this document.
    Stay,
    /// The leader is another host: fetch again from there (the leader's host, our port).
    Follow(HostPort),
}

impl<'a> LeaderSearch<'a> {
    /// A search over `masters` (in the order configured) with URLs of `scheme`; a refused request
    /// names `credentials_key`; learnt addresses are contacted when `follow` allows.
    pub(crate) fn new(
        masters: &'a [HostPort],
        scheme: &'static str,
        credentials_key: &'static str,
        follow: FollowFilter,
    ) -> LeaderSearch<'a> {
        LeaderSearch {
            masters,
            scheme,
            credentials_key,
            follow,
            next: 0,
            asking: None,
            attempts: Vec::with_capacity(masters.len()),
        }
    }

    /// The first step.
    pub(crate) fn start(&mut self) -> Step {
        if self.masters.is_empty() {
            return Step::GiveUp(FetchError::NoMasters);
        }
        self.next_master()
    }

    /// The request was answered with a status other than 200; `location` is the `Location` header.
    pub(crate) fn status(&mut self, status: u16, location: Option<&str>) -> Step {
        let Some(mut asking) = self.asking.take() else {
            return self.next_master();
        };
        match status {
            404 if asking.path == STATE_PATH => {
                asking.path = OLD_STATE_PATH;
                self.ask(asking)
            }
            300..=399 => {
                let location = location.unwrap_or("");
                match redirect_target(location).filter(|_| asking.follows < MAX_FOLLOWS) {
                    Some(next) => self.follow_to(asking, next, format_args!("redirects to {location}")),
                    None => self.fail(asking, Problem::BadRedirect(location.to_owned())),
                }
            }
            401 | 403 => {
                let key = self.credentials_key;
                self.fail(asking, Problem::Unauthorized { status, key })
            }
            _ => self.fail(asking, Problem::Status(status)),
        }
    }

    /// The request was answered with 200 and a state document whose `leader` field is `leader`.
    pub(crate) fn document(&mut self, leader: &str) -> Verdict {
        let Some(asking) = self.asking.take() else {
            return Verdict::Next(self.next_master());
        };
        if leader.is_empty() {
            return Verdict::Next(self.fail(asking, Problem::NoLeader));
        }
        match next_hop(&asking.addr, leader) {
            Ok(Hop::Stay) => Verdict::Accept(self.accept(asking, leader)),
            Ok(Hop::Follow(next)) if asking.follows < MAX_FOLLOWS => {
                Verdict::Next(self.follow_to(asking, next, format_args!("names leader {leader}")))
            }
            // Followed already, and this master names yet another leader: leadership moved during the
            // search. Its document is a follower's (no agents, no tasks): publishing it would take every
            // task's name away, so the next configured master is asked instead. (The original trusts it.)
            Ok(Hop::Follow(_)) => Verdict::Next(self.fail(asking, Problem::NotLeader(leader.to_owned()))),
            Err(problem) => Verdict::Next(self.fail(asking, problem)),
        }
    }

    /// The request gave nothing usable (no answer, or a body that is too big or not a state document).
    pub(crate) fn failed(&mut self, problem: Problem) -> Step {
        match self.asking.take() {
            Some(asking) => self.fail(asking, problem),
            None => self.next_master(),
        }
    }

    /// The IAM login before the request failed: the search ends, as every master shares the endpoint.
    pub(crate) fn login_failed(&mut self, error: IamError) -> Step {
        self.asking = None;
        self.next = self.masters.len();
        Step::GiveUp(FetchError::Login(error))
    }

    /// Asks the next configured master, or gives up when none is left.
    fn next_master(&mut self) -> Step {
        let Some(master) = self.masters.get(self.next) else {
            return Step::GiveUp(FetchError::AllFailed(std::mem::take(&mut self.attempts)));
        };
        self.next += 1;
        self.ask(Asking {
            master,
            addr: master.clone(),
            authority: master.to_string(),
            path: STATE_PATH,
            follows: 0,
        })
    }

    /// Sends the request `asking` describes and waits for its answer.
    fn ask(&mut self, asking: Asking<'a>) -> Step {
        let url = asking.url(self.scheme);
        self.asking = Some(asking);
        Step::Get(url)
    }

    /// Notes why the master failed and moves on.
    fn fail(&mut self, asking: Asking<'_>, problem: Problem) -> Step {
        self.attempts.push(Attempt {
            master: asking.master.to_string(),
            url: Some(asking.url(self.scheme)),
            problem,
        });
        self.next_master()
    }

    /// Asks `next`, learnt from the current answer (`why` says how), if the follow filter allows.
    fn follow_to(&mut self, asking: Asking<'a>, next: HostPort, why: fmt::Arguments<'_>) -> Step {
        if !(self.follow)(&next) {
            return self.fail(asking, Problem::FollowRefused(next));
        }
        log::debug!("{} {why}: fetching from {next}", asking.url(self.scheme));
        self.ask(Asking {
            authority: next.to_string(),
            addr: next,
            path: STATE_PATH,
            follows: asking.follows + 1,
            ..asking
        })
    }

    /// The answer to `asking` is the leader's document.
    fn accept(&mut self, asking: Asking<'_>, leader: &str) -> Origin {
        for a in &self.attempts {
            log::debug!("skipped: {a}");
        }
        Origin {
            master: asking.master.to_string(),
            url: asking.url(self.scheme),
            leader: leader.to_owned(),
        }
    }
}

impl Asking<'_> {
    /// The URL of the current request.
    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}{}", self.authority, self.path)
    }
}

/// The leader-follow decision: `asked` is where the document came from, `leader` its `leader` field.
/// Another host means fetching again from that host with the port we were given (the original's
/// behaviour: masters of one cluster share a port).
fn next_hop(asked: &HostPort, leader: &str) -> Result<Hop, Problem> {
    let leader_addr = HostPort::from_pid(leader).map_err(|_| Problem::BadLeader(leader.to_owned()))?;
    // Host names compare case-insensitively (both are lower-case), IP literals by value (`::1` ==
    // `0:0::1`).
    if leader_addr.host() == asked.host() {
        Ok(Hop::Stay)
    } else {
        Ok(Hop::Follow(leader_addr.with_port(asked.port())))
    }
}

/// The address a redirect `Location` points at (`//10.0.0.1:5050/master/state`, `http://host:5050/...`);
/// `None` when it has no host or port.
fn redirect_target(location: &str) -> Option<HostPort> {
    let rest = location
        .strip_prefix("http://")
        .or_else(|| location.strip_prefix("https://"))
        .or_else(|| location.strip_prefix("//"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    HostPort::parse(authority).ok()
}

/// Why one master did not give a usable document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
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
    /// A redirect without a usable `Location`, or one too many.
    BadRedirect(String),
    /// The body is larger than the limit (bytes).
    TooBig(u64),
    /// The body is not a state document (not JSON, or the wrong shape).
    NotState(String),
    /// The document's `leader` field is empty: this master does not know the leader.
    NoLeader,
    /// The `leader` field could not be read as `name@host:port`.
    BadLeader(String),
    /// After a follow, the master names yet another leader (leadership moved during the search).
    NotLeader(String),
    /// The follow filter refused to contact this address.
    FollowRefused(HostPort),
    /// Another HTTP-level failure (a malformed response, ...).
    Http(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
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
            Problem::BadRedirect(l) => write!(f, "redirect to an unusable location {l:?}"),
            Problem::TooBig(limit) => write!(f, "the state document is larger than {limit} bytes"),
            Problem::NotState(e) => write!(f, "the body is not a Mesos state document: {e}"),
            Problem::NoLeader => write!(f, "the state names no leader (is this master part of a quorum?)"),
            Problem::BadLeader(l) => write!(f, "cannot read the leader field {l:?}"),
            Problem::NotLeader(l) => write!(f, "not the leader: it names {l} (the leader moved during the search)"),
            Problem::FollowRefused(a) => write!(f, "not following the leader to {a} (refused by the follow filter)"),
            Problem::Http(e) => write!(f, "HTTP error: {e}"),
        }
    }
}

/// One failed attempt: which configured master, which URL (if one was requested) and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attempt {
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
pub(crate) enum FetchError {
    /// The configuration lists no master.
    NoMasters,
    /// The configuration lists no master but a `zk`, which is only read at start.
    ZkNeedsRestart,
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
            FetchError::ZkNeedsRestart => write!(
                f,
                "`masters` is empty and `zk` is only read at start: restart to detect the leader through ZooKeeper"
            ),
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

#[cfg(test)]
mod tests;
