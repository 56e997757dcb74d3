//! Fetching the state document from the leading master over HTTP (blocking, used by the refresher
//! thread): the `ureq` driver of the leader search in [`super::leader`].
//!
//! This module owns the I/O of a search: it sends each GET the search asks for (with the TLS settings
//! and credentials of [`Access`], which also logs in again when an IAM token is refused), caps the body
//! ([`MAX_BODY_BYTES`]), parses the [`Header`] of each 200 answer to tell the search its `leader`, and
//! turns `ureq`'s errors into [`Problem`]s a user can act on. Which master to ask, following leaders and
//! redirects, and when to give up are the search's. It does not own what is done with the document: its
//! tasks go to the caller's [`TaskSink`] as they are read, and the caller's closure gets its [`Header`]
//! (everything but the tasks), and the body when it was read whole ([`Fetcher::fetch_with`]) rather than
//! parsed as it arrived ([`Fetcher::fetch_streamed`]).

use std::io;
use std::time::Duration;

use crate::addr::HostPort;
use crate::config::Config;
use crate::mesos::access::{with_authorization, Access, SendError, CONNECT_TIMEOUT};
use crate::mesos::error::IamError;
use crate::mesos::leader::{LeaderSearch, Step, Verdict};
use crate::mesos::state::{self, Header, Stopped, TaskSink};

pub(crate) use crate::mesos::leader::{is_loopback_addr, FetchError, FollowFilter, Origin, Problem};

/// The largest state document accepted: 1 GiB. Big clusters produce tens of MiB (100k tasks on 5k agents:
/// 46 MB) and a 1M-task cluster about 800 MB, which must still be polled; beyond this the body is an error
/// rather than a reason to run out of memory (a refresh needs about three times the document). A body that
/// announces a larger `Content-Length` is refused before any of it is read; one without a length is read
/// up to here.
pub(crate) const MAX_BODY_BYTES: u64 = 1024 * 1024 * 1024;

/// Fetches state documents from the configured masters.
pub(crate) struct Fetcher {
    agent: ureq::Agent,
    masters: Vec<HostPort>,
    follow: FollowFilter,
    body_limit: u64,
    access: Access,
}

/// What one GET gave other than a 200, as the search is told it.
enum Answer {
    /// Another status, with the `Location` of a redirect.
    Status { status: u16, location: Option<String> },
    /// No usable answer.
    Failed(Problem),
    /// The IAM login before the request failed.
    Login(IamError),
}

impl Answer {
    /// Tells the search.
    fn tell(self, search: &mut LeaderSearch<'_>) -> Step {
        match self {
            Answer::Status { status, location } => search.status(status, location.as_deref()),
            Answer::Failed(problem) => search.failed(problem),
            Answer::Login(e) => search.login_failed(e),
        }
    }
}

/// A 200's response, its body not read yet.
type Response = ureq::http::Response<ureq::Body>;

/// What a 200's document told the search.
enum Searched<T> {
    /// It is the leader's: what `accept` made of it, and where it came from.
    Done(T, Origin),
    /// The search goes on.
    Next(Step),
}

impl Fetcher {
    /// A fetcher for these masters with `timeout` as the overall limit of one request (`None`: no
    /// limit), reaching them as `access` says (HTTPS, client certificate, credentials). Follows leaders
    /// anywhere; see [`Fetcher::with_follow_filter`].
    fn with_access(masters: Vec<HostPort>, timeout: Option<Duration>, access: Access) -> Fetcher {
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
    pub(crate) fn from_config(config: &Config) -> Result<Fetcher, FetchError> {
        if config.masters.is_empty() && config.zk.is_some() {
            return Err(FetchError::ZkNeedsRestart);
        }
        if config.masters.is_empty() {
            return Err(FetchError::NoMasters);
        }
        Fetcher::with_config(config, config.masters.clone())
    }

    /// A fetcher for `masters` (the configured ones, or the leader ZooKeeper names) with
    /// `stateTimeoutSeconds` (0: no limit, as the original's Go client), over HTTPS and with credentials
    /// when the config asks (see [`Access`]).
    pub(crate) fn with_config(config: &Config, masters: Vec<HostPort>) -> Result<Fetcher, FetchError> {
        let access = Access::from_config(config).map_err(FetchError::Access)?;
        let timeout = (config.state_timeout_seconds > 0).then(|| Duration::from_secs(config.state_timeout_seconds));
        Ok(Fetcher::with_access(masters, timeout, access))
    }

    /// Asks `masters` from now on (the ones ZooKeeper names, the leader first), keeping every setting
    /// and the agent's open connections.
    pub(crate) fn set_masters(&mut self, masters: Vec<HostPort>) {
        self.masters = masters;
    }

    /// Only contact addresses learnt from a master (leader or redirect) when `filter` returns true for
    /// their `host:port`; otherwise that master counts as failed and the next is tried. Tests pass
    /// [`is_loopback_addr`] so that a fixture can never send traffic off the machine.
    pub(crate) fn with_follow_filter(mut self, filter: FollowFilter) -> Fetcher {
        self.follow = filter;
        self
    }

    /// Caps the body size (default [`MAX_BODY_BYTES`]).
    pub(crate) fn with_body_limit(mut self, bytes: u64) -> Fetcher {
        self.body_limit = bytes;
        self
    }

    /// The fetcher for a reloaded config ([`Fetcher::from_config`]) that keeps this one's follow filter
    /// and body limit: those are set by the process (tests), not by the config file.
    pub(crate) fn reconfigured(&self, config: &Config) -> Result<Fetcher, FetchError> {
        Ok(self.keeping_hooks(Fetcher::from_config(config)?))
    }

    /// [`Fetcher::reconfigured`] for a fetcher whose masters come from ZooKeeper: it keeps its masters.
    pub(crate) fn reconfigured_for_zk(&self, config: &Config) -> Result<Fetcher, FetchError> {
        Ok(self.keeping_hooks(Fetcher::with_config(config, self.masters.clone())?))
    }

    fn keeping_hooks(&self, new: Fetcher) -> Fetcher {
        new.with_follow_filter(self.follow).with_body_limit(self.body_limit)
    }

    /// How the masters are reached (HTTPS, credentials).
    pub(crate) fn access(&self) -> &Access {
        &self.access
    }

    /// The masters, in the order they are tried (the configured ones, or those ZooKeeper names).
    pub(crate) fn masters(&self) -> &[HostPort] {
        &self.masters
    }

    /// Finds the leader's state document and hands its header, its body and what `S` made of its tasks
    /// to `accept`, called at most once and only with a document that names a leader. Each body is read
    /// whole, then parsed once: its tasks go to a new `S` while its header is read (a document that
    /// names another leader is dropped after). `S` is `()` to skip the tasks. A document whose tasks do
    /// not parse is still searched by its header (`accept` gets the error). Returns what `accept`
    /// returned and where the document came from.
    pub(crate) fn fetch_with<S, T>(
        &self,
        mut accept: impl FnMut(&Origin, &Header<'_>, &[u8], Result<S, serde_json::Error>) -> T,
    ) -> Result<(T, Origin), FetchError>
    where
        S: Default + for<'a> TaskSink<'a>,
    {
        self.search(|search, _, response| self.read_whole(search, response, &mut accept))
    }

    /// [`Fetcher::fetch_with`] without the body: each body is read as it arrives
    /// ([`state::read_split`]), its tasks handed to a new `S`, so that no document is ever held whole.
    /// A transfer that fails mid-body fails as one read whole does (a timeout, the body limit). A
    /// document that does not read cleanly (bad JSON, not an object, a field repeated: in a task, its
    /// header alone still names the leader) is asked for again and read whole, as
    /// [`Fetcher::fetch_with`] reads it, which says why.
    pub(crate) fn fetch_streamed<S, T>(
        &self,
        mut accept: impl FnMut(&Origin, &Header<'_>, Result<S, serde_json::Error>) -> T,
    ) -> Result<(T, Origin), FetchError>
    where
        S: Default + for<'a> TaskSink<'a>,
    {
        self.search(|search, url, mut response| {
            let mut sink = S::default();
            let read = state::read_split(self.body_reader(&mut response), &mut sink);
            // The connection goes before another GET is sent.
            drop(response);
            match read {
                Ok(header) => match search.document(&header.leader) {
                    Verdict::Accept(origin) => Searched::Done(accept(&origin, &header, Ok(sink)), origin),
                    Verdict::Next(next) => Searched::Next(next),
                },
                Err(Stopped::Io(e)) => Searched::Next(search.failed(classify_io(e, self.body_limit))),
                Err(Stopped::ReadWhole) => {
                    drop(sink);
                    match self.send(url) {
                        Ok(response) => self.read_whole(search, response, &mut |origin, header, _, tasks| {
                            accept(origin, header, tasks)
                        }),
                        Err(answer) => Searched::Next(answer.tell(search)),
                    }
                }
            }
        })
    }

    /// One leader search: each GET the search asks for is sent, and a 200's response handed to
    /// `document` (with its URL), which reads the body and tells the search.
    fn search<T>(
        &self,
        mut document: impl FnMut(&mut LeaderSearch<'_>, &str, Response) -> Searched<T>,
    ) -> Result<(T, Origin), FetchError> {
        let mut search = LeaderSearch::new(
            &self.masters,
            self.access.scheme(),
            self.access.credentials_key(),
            self.follow,
        );
        // The search sends a bounded number of requests per master, so this loop ends.
        let mut step = search.start();
        loop {
            let url = match step {
                Step::Get(url) => url,
                Step::GiveUp(e) => return Err(e),
            };
            step = match self.send(&url) {
                Ok(response) => match document(&mut search, &url, response) {
                    Searched::Done(out, origin) => return Ok((out, origin)),
                    Searched::Next(next) => next,
                },
                Err(answer) => answer.tell(&mut search),
            };
        }
    }

    /// One GET of a state URL: the response of a 200 (its body not read yet), or what else came back.
    fn send(&self, url: &str) -> Result<Response, Answer> {
        let sent = self
            .access
            .send(|authorization| with_authorization(self.agent.get(url), authorization).call());
        let response = match sent {
            Ok(r) => r,
            Err(SendError::Login(e)) => return Err(Answer::Login(e)),
            Err(SendError::Http(e)) => return Err(Answer::Failed(self.classify(e))),
        };
        let status = response.status().as_u16();
        if status != 200 {
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            return Err(Answer::Status { status, location });
        }
        if response.body().content_length().is_some_and(|n| n > self.body_limit) {
            return Err(Answer::Failed(Problem::TooBig(self.body_limit)));
        }
        Ok(response)
    }

    /// A 200's body, read whole (up to the limit).
    fn whole(&self, mut response: Response) -> Result<Vec<u8>, Problem> {
        // Sized up front when the length is announced: growing by doubling would hold up to twice a
        // 46 MB document at the refresh's peak.
        let announced = response.body().content_length();
        let mut body = Vec::with_capacity(announced.unwrap_or(0) as usize);
        match io::Read::read_to_end(&mut self.body_reader(&mut response), &mut body) {
            Ok(_) => Ok(body),
            Err(e) => Err(classify_io(e, self.body_limit)),
        }
    }

    /// A 200's body read whole, then parsed: its tasks go to a new `S` while its header is read, and
    /// the search is told whose document it is; `accept` gets the leader's.
    fn read_whole<S, T>(
        &self,
        search: &mut LeaderSearch<'_>,
        response: Response,
        accept: &mut impl FnMut(&Origin, &Header<'_>, &[u8], Result<S, serde_json::Error>) -> T,
    ) -> Searched<T>
    where
        S: Default + for<'a> TaskSink<'a>,
    {
        let body = match self.whole(response) {
            Ok(body) => body,
            Err(problem) => return Searched::Next(search.failed(problem)),
        };
        let mut sink = S::default();
        let read = match state::read_document(&body, &mut sink) {
            Ok(header) => Ok((header, Ok(sink))),
            // The first error may be in a task: the header alone says whose document it is.
            Err(e) => state::parse_header(&body).map(|header| (header, Err(e))),
        };
        match read {
            Err(e) => Searched::Next(search.failed(Problem::NotState(e.to_string()))),
            Ok((header, tasks)) => match search.document(&header.leader) {
                Verdict::Accept(origin) => Searched::Done(accept(&origin, &header, &body, tasks), origin),
                Verdict::Next(next) => Searched::Next(next),
            },
        }
    }

    /// A 200's body as it arrives, ending in an error past the body limit.
    fn body_reader<'r>(&self, response: &'r mut Response) -> impl io::Read + 'r {
        response.body_mut().with_config().limit(self.body_limit).reader()
    }

    /// A failed request, told apart as a user can act on it.
    fn classify(&self, e: ureq::Error) -> Problem {
        match self.access.untrusted(&e) {
            Some(untrusted) => Problem::Untrusted(untrusted),
            None => classify(e, self.body_limit),
        }
    }
}

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

/// Maps a ureq error to what a user can act on.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refuses_everything(_: &HostPort) -> bool {
        false
    }

    #[test]
    fn reconfigured_fetcher_keeps_the_follow_filter_and_body_limit() {
        // A SIGHUP rebuilds the fetcher from the new config; the test hooks must survive it.
        let config = Config {
            masters: ["127.0.0.1:8001", "127.0.0.1:8002"]
                .map(|m| HostPort::parse(m).unwrap())
                .to_vec(),
            ..Config::default()
        };
        let old = Fetcher::with_config(&config, vec![])
            .unwrap()
            .with_follow_filter(refuses_everything)
            .with_body_limit(100);
        let leader = HostPort::parse("127.0.0.1:5050").unwrap();
        for f in [
            old.reconfigured(&config).unwrap(),
            old.reconfigured_for_zk(&config).unwrap(),
        ] {
            assert_eq!(f.body_limit, 100);
            assert!(!(f.follow)(&leader));
        }
        assert_eq!(old.reconfigured(&config).unwrap().masters(), config.masters);
        assert!(old.reconfigured_for_zk(&config).unwrap().masters().is_empty());
        // ZooKeeper names new masters: the same fetcher asks them, hooks and all.
        let mut zk = old.reconfigured_for_zk(&config).unwrap();
        zk.set_masters(config.masters.clone());
        assert_eq!(zk.masters(), config.masters);
        assert_eq!(zk.body_limit, 100);
        assert!(!(zk.follow)(&leader));
        let fresh = Fetcher::from_config(&config).unwrap();
        assert_eq!(fresh.body_limit, MAX_BODY_BYTES);
        assert!((fresh.follow)(&leader), "follows anywhere unless told otherwise");
    }

    #[test]
    fn no_masters_is_an_error_before_any_request() {
        let config = Config::default();
        assert_eq!(Fetcher::from_config(&config).err(), Some(FetchError::NoMasters));
        let f = Fetcher::with_config(&config, vec![]).unwrap();
        assert_eq!(
            f.fetch_with(|_, _, _, _: Result<(), _>| ()).unwrap_err(),
            FetchError::NoMasters
        );
    }
}

#[cfg(test)]
mod served;
