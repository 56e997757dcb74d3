//! The event loop: one thread, one `mio::Poll`, serving DNS over UDP and TCP and the HTTP API. It only
//! moves bytes: each token names one socket (`SocketId`), and each turn hands every ready socket to
//! its driver. What a query gets is `respond`'s business, what a DNS TCP connection does is
//! `tcp`'s, the records come from the snapshot the refresher swaps in.
//!
//! | token                      | `SocketId`        | what it is                                      |
//! |----------------------------|-------------------|-------------------------------------------------|
//! | `0`                        | `Udp`             | the DNS UDP socket                              |
//! | `1`                        | `Tcp`             | the DNS TCP listener                            |
//! | `2`                        | `Wake`            | the waker: another thread asks the loop to look at its stop flag, or at SIGHUP's relay config, or at a new snapshot (NOTIFY) |
//! | `3`                        | `Http`            | the HTTP API listener                           |
//! | `forward::UDP_TOKEN_BASE+` | `RelayUdp(i)`     | a relay socket towards the upstream resolvers   |
//! | `DNS_CONN_BASE+`           | `DnsConn(slot)`   | one accepted DNS TCP connection                 |
//! | `forward::TCP_TOKEN_BASE+` | `RelayTcp(slot)`  | a TCP connection to an upstream resolver        |
//! | `HTTP_CONN_BASE+`          | `HttpConn(slot)`  | one HTTP API connection                         |

mod api;
pub(crate) mod cookie;
mod respond;
pub mod route;
pub(crate) mod rrl;
mod slab;
mod sockets;
mod tcp;
mod udp;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Registry, Token};

pub(crate) use api::Api;
pub(crate) use rrl::RateLimit;
pub(crate) use tcp::TcpLimits;

use crate::forward::{self, Client, Forwarder, RelayConfig, RelayStats, UdpBuffers};
use crate::snapshot::Records;
use crate::wire::MAX_MESSAGE;
use api::ApiView;
use respond::{transport, Context, Responder};
use rrl::Limiter;
use slab::{Key, Slab};
use sockets::{DnsClient, HttpClient, Step};
use udp::DnsUdp;

const UDP: usize = 0;
const TCP: usize = 1;
const WAKE: usize = 2;
const HTTP: usize = 3;
const DNS_CONN_BASE: usize = 1 << 20;
const HTTP_CONN_BASE: usize = 3 << 20;
/// HTTP API connections at most; more are closed at once.
const MAX_HTTP_CONNECTIONS: usize = 64;

// The token space is shared with the forwarder: its ranges must sit between ours.
const _: () = assert!(HTTP + 1 < forward::UDP_TOKEN_BASE);
const _: () = assert!(forward::UDP_TOKEN_BASE < DNS_CONN_BASE);
const _: () = assert!(DNS_CONN_BASE < forward::TCP_TOKEN_BASE);
const _: () = assert!(forward::TCP_TOKEN_BASE < HTTP_CONN_BASE);

/// How often the relay counters are logged (when they changed).
const STATS_EVERY: Duration = Duration::from_secs(60);
/// How often, at most, TCP connections refused at the cap are logged.
const REFUSED_LOG_EVERY: Duration = Duration::from_secs(60);
/// How often idle connections are looked for.
const SWEEP_EVERY: Duration = Duration::from_millis(500);

/// What one `mio::Token` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SocketId {
    Udp,
    Tcp,
    Wake,
    Http,
    RelayUdp(usize),
    DnsConn(usize),
    RelayTcp(usize),
    HttpConn(usize),
    /// A token nothing is registered under (`4..forward::UDP_TOKEN_BASE`).
    Unused,
}

impl SocketId {
    fn of(token: Token) -> SocketId {
        match token.0 {
            UDP => SocketId::Udp,
            TCP => SocketId::Tcp,
            WAKE => SocketId::Wake,
            HTTP => SocketId::Http,
            t if t >= HTTP_CONN_BASE => SocketId::HttpConn(t - HTTP_CONN_BASE),
            t if t >= forward::TCP_TOKEN_BASE => SocketId::RelayTcp(t - forward::TCP_TOKEN_BASE),
            t if t >= DNS_CONN_BASE => SocketId::DnsConn(t - DNS_CONN_BASE),
            t if t >= forward::UDP_TOKEN_BASE => SocketId::RelayUdp(t - forward::UDP_TOKEN_BASE),
            _ => SocketId::Unused,
        }
    }

    fn token(self) -> Token {
        Token(match self {
            SocketId::Udp => UDP,
            SocketId::Tcp => TCP,
            SocketId::Wake => WAKE,
            SocketId::Http => HTTP,
            SocketId::RelayUdp(i) => forward::UDP_TOKEN_BASE + i,
            SocketId::DnsConn(slot) => DNS_CONN_BASE + slot,
            SocketId::RelayTcp(slot) => forward::TCP_TOKEN_BASE + slot,
            SocketId::HttpConn(slot) => HTTP_CONN_BASE + slot,
            SocketId::Unused => HTTP + 1,
        })
    }
}

/// What the loop needs to know besides the sockets.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Relay names outside the domain (`externalon`); when off they get REFUSED.
    pub external_on: bool,
    /// Where and how to relay them.
    pub relay: RelayConfig,
    /// Limits of the DNS TCP side.
    pub tcp: TcpLimits,
    /// The kernel buffers of the DNS UDP socket and the relay sockets (`udpReceiveBuffer`,
    /// `udpSendBuffer`).
    pub udp_buffers: UdpBuffers,
    /// Who may transfer the zone (`transferAllowFrom`, `tsigKeys`).
    pub transfer: crate::transfer::Policy,
    /// The secondaries told of each new serial (`notify`).
    pub notify: Vec<SocketAddr>,
    /// Response rate limiting over UDP (`rateLimit`, `rateLimitSlip`), if on.
    pub rate_limit: Option<RateLimit>,
    /// The DNS cookie secret shared with other servers (`cookieSecret`); `None`: our own, rotating.
    pub cookie_secret: Option<[u8; 16]>,
}

/// What SIGHUP asks of the relay in the event loop.
#[derive(Debug)]
pub(crate) enum RelayReload {
    /// Forget the cached answers (the config file was not usable: nothing else changes).
    Flush,
    /// Use this config from now on, with an empty cache.
    Apply(RelayConfig),
}

/// Hands [`RelayReload`]s to the event loop from another thread, and wakes it to take them.
#[derive(Clone)]
pub(crate) struct RelayReloader {
    sender: Sender<RelayReload>,
    waker: Arc<mio::Waker>,
}

impl RelayReloader {
    pub(crate) fn send(&self, reload: RelayReload) {
        if self.sender.send(reload).is_ok() {
            let _ = self.waker.wake();
        }
    }
}

/// The DNS server: its sockets, bound before anything else starts. Either part may be off (`dnson`,
/// `httpon`): the original serves the HTTP API without DNS too.
pub(crate) struct Server {
    poll: Poll,
    /// The DNS UDP socket and TCP listener, on the same address.
    dns: Option<(DnsUdp, TcpListener)>,
    http: Option<TcpListener>,
    forwarder: Forwarder,
    responder: Responder,
    waker: Arc<mio::Waker>,
    reloads: (Sender<RelayReload>, Receiver<RelayReload>),
    settings: Settings,
}

impl Server {
    /// Binds the UDP socket and TCP listener on `dns`, and the HTTP API on `http`, each if given.
    pub(crate) fn bind(dns: Option<SocketAddr>, http: Option<SocketAddr>, settings: Settings) -> io::Result<Server> {
        let poll = Poll::new()?;
        let dns = match dns {
            Some(addr) => {
                let mut udp = DnsUdp::bind(addr, settings.udp_buffers)?;
                let mut tcp = TcpListener::bind(addr)?;
                poll.registry()
                    .register(&mut udp.socket, SocketId::Udp.token(), Interest::READABLE)?;
                poll.registry()
                    .register(&mut tcp, SocketId::Tcp.token(), Interest::READABLE)?;
                Some((udp, tcp))
            }
            None => None,
        };
        let http = match http {
            Some(at) => {
                let mut listener = TcpListener::bind(at)?;
                poll.registry()
                    .register(&mut listener, SocketId::Http.token(), Interest::READABLE)?;
                Some(listener)
            }
            None => None,
        };
        let forwarder = Forwarder::new(settings.relay.clone(), settings.udp_buffers, poll.registry())?;
        let responder = Responder::new(
            settings.external_on,
            settings.transfer.clone(),
            settings.notify.clone(),
            settings.cookie_secret,
        )?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), SocketId::Wake.token())?);
        Ok(Server {
            poll,
            dns,
            http,
            forwarder,
            responder,
            waker,
            reloads: mpsc::channel(),
            settings,
        })
    }

    /// Where SIGHUP sends the relay's new config.
    pub(crate) fn relay_reloader(&self) -> RelayReloader {
        RelayReloader {
            sender: self.reloads.0.clone(),
            waker: self.waker.clone(),
        }
    }

    /// Wakes the loop from another thread (after setting the stop flag, so it stops at once).
    pub(crate) fn waker(&self) -> Arc<mio::Waker> {
        self.waker.clone()
    }

    /// The bound DNS address (UDP; the TCP listener is on the same address and port), if it serves DNS.
    pub(crate) fn dns_addr(&self) -> Option<SocketAddr> {
        self.dns.as_ref().and_then(|(udp, _)| udp.socket.local_addr().ok())
    }

    /// The bound HTTP API address, if it serves one.
    pub(crate) fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().and_then(|h| h.local_addr().ok())
    }

    /// Serves until `stop` is set (checked at least once a second).
    pub(crate) fn run(self, records: Arc<ArcSwap<Records>>, stop: Arc<AtomicBool>, api: Api) -> io::Result<()> {
        let Server {
            mut poll,
            dns,
            http,
            forwarder,
            responder,
            settings,
            reloads,
            ..
        } = self;
        let mut events = Events::with_capacity(256);
        let mut state = Loop::new(dns, http, forwarder, responder, reloads.1, &settings);
        while !stop.load(Ordering::Relaxed) {
            let timeout = state.poll_timeout(Instant::now());
            if let Err(e) = poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            state.turn(&events, poll.registry(), &records.load(), &api, Instant::now());
        }
        Ok(())
    }
}

/// Everything the loop owns between turns.
struct Loop {
    dns: Option<(DnsUdp, TcpListener)>,
    http: Option<TcpListener>,
    forwarder: Forwarder,
    /// SIGHUP's new relay configs (the waker's event says when to look).
    reloads: Receiver<RelayReload>,
    responder: Responder,
    dns_clients: Slab<DnsClient>,
    http_clients: Slab<HttpClient>,
    limits: TcpLimits,
    /// The receive buffer, for datagrams and TCP reads alike.
    buf: Box<[u8]>,
    /// The UDP burst ran out before the socket was empty: serve it again without waiting.
    udp_backlog: bool,
    /// Response rate limiting over UDP (`rateLimit`), if on.
    limiter: Option<Limiter>,
    /// DNS connections with work left after their rounds: served again without waiting.
    busy: Vec<Key>,
    still_busy: Vec<Key>,
    /// HTTP connections whose socket took the last chunk of a streamed response: their next chunk is
    /// made on the next turn, after the DNS sockets had theirs.
    http_busy: Vec<Key>,
    http_still_busy: Vec<Key>,
    last_sweep: Instant,
    last_stats: (Instant, RelayStats),
    /// TCP connections refused at the cap since the last log line, and when that was.
    refused_unlogged: u64,
    last_refused_log: Option<Instant>,
}

impl Loop {
    fn new(
        dns: Option<(DnsUdp, TcpListener)>,
        http: Option<TcpListener>,
        forwarder: Forwarder,
        responder: Responder,
        reloads: Receiver<RelayReload>,
        settings: &Settings,
    ) -> Loop {
        let last_stats = (Instant::now(), forwarder.stats);
        Loop {
            dns,
            http,
            forwarder,
            reloads,
            responder,
            // Slots become tokens: no more than the range between ours and the forwarder's.
            dns_clients: Slab::new(
                settings
                    .tcp
                    .max_connections
                    .min(forward::TCP_TOKEN_BASE - DNS_CONN_BASE),
            ),
            http_clients: Slab::new(MAX_HTTP_CONNECTIONS),
            limits: settings.tcp,
            buf: vec![0u8; MAX_MESSAGE].into_boxed_slice(),
            udp_backlog: false,
            limiter: settings.rate_limit.map(|limit| Limiter::new(limit, Instant::now())),
            busy: Vec::new(),
            still_busy: Vec::new(),
            http_busy: Vec::new(),
            http_still_busy: Vec::new(),
            last_sweep: Instant::now(),
            last_stats,
            refused_unlogged: 0,
            last_refused_log: None,
        }
    }

    /// How long the next poll may wait: not at all with work left over, else until the forwarder's next
    /// deadline, at most a second (the stop flag and the sweep are looked at between polls).
    fn poll_timeout(&self, now: Instant) -> Duration {
        let timeout = if self.udp_backlog || !self.busy.is_empty() || !self.http_busy.is_empty() {
            Duration::ZERO
        } else {
            Duration::from_secs(1)
        };
        let next = [self.forwarder.next_deadline(), self.responder.notifier.next_deadline()];
        next.into_iter()
            .flatten()
            .fold(timeout, |t, due| t.min(due.saturating_duration_since(now)))
    }

    /// One turn: work left from the last one, then every ready socket, then what the forwarder has for
    /// clients, then housekeeping.
    fn turn(&mut self, events: &Events, registry: &Registry, records: &Arc<Records>, api: &Api, now: Instant) {
        if self.udp_backlog {
            self.serve_udp(registry, records, now);
        }
        let mut busy = std::mem::take(&mut self.busy);
        for key in busy.drain(..) {
            self.serve_dns_client(key.slot, Some(key), registry, records, now);
        }
        self.busy = busy; // empty, keeping its capacity
        let mut http_busy = std::mem::take(&mut self.http_busy);
        for key in http_busy.drain(..) {
            self.serve_http_client(key.slot, Some(key), registry, records, api);
        }
        self.http_busy = http_busy;
        for event in events.iter() {
            match SocketId::of(event.token()) {
                SocketId::Udp => self.serve_udp(registry, records, now),
                SocketId::Tcp => self.accept_dns(registry, now),
                SocketId::Wake => self.apply_reloads(registry),
                SocketId::Unused => {}
                SocketId::Http => self.accept_http(registry),
                SocketId::RelayUdp(i) => self.forwarder.on_udp_ready(i, &mut self.buf, registry),
                SocketId::DnsConn(slot) => self.serve_dns_client(slot, None, registry, records, now),
                SocketId::RelayTcp(slot) => self.forwarder.on_tcp_ready(slot, registry),
                SocketId::HttpConn(slot) => self.serve_http_client(slot, None, registry, records, api),
            }
        }
        std::mem::swap(&mut self.busy, &mut self.still_busy);
        std::mem::swap(&mut self.http_busy, &mut self.http_still_busy);
        self.forwarder.expire(now, registry);
        self.deliver_relayed(now);
        self.notify(records, now);
        if now.saturating_duration_since(self.last_sweep) >= SWEEP_EVERY {
            self.last_sweep = now;
            self.close_idle(registry, now);
        }
        if now.saturating_duration_since(self.last_stats.0) >= STATS_EVERY && self.forwarder.stats != self.last_stats.1
        {
            self.last_stats = (now, self.forwarder.stats);
            log_relay_stats(self.forwarder.stats);
        }
    }

    fn serve_udp(&mut self, registry: &Registry, records: &Arc<Records>, now: Instant) {
        let Some((udp, _)) = &self.dns else { return };
        let mut cx = Context {
            records,
            forwarder: &mut self.forwarder,
            registry,
            now,
            cookie_verified: false,
        };
        let limiter = self.limiter.as_mut();
        self.udp_backlog = sockets::serve_udp(udp, &mut self.responder, &mut cx, limiter);
    }

    fn accept_dns(&mut self, registry: &Registry, now: Instant) {
        let Some((_, listener)) = &self.dns else { return };
        let refused = sockets::accept_dns(listener, registry, &mut self.dns_clients, &self.forwarder, now);
        if refused == 0 {
            return;
        }
        self.responder.metrics.tcp_refused(refused);
        self.refused_unlogged += refused;
        if self
            .last_refused_log
            .map_or(true, |at| now.saturating_duration_since(at) >= REFUSED_LOG_EVERY)
        {
            log::warn!(
                "{} DNS TCP connections refused: {} are open, the most allowed (logged once a minute at most)",
                self.refused_unlogged,
                self.dns_clients.len()
            );
            self.refused_unlogged = 0;
            self.last_refused_log = Some(now);
        }
    }

    fn accept_http(&mut self, registry: &Registry) {
        if let Some(listener) = &self.http {
            sockets::accept_http(listener, registry, &mut self.http_clients);
        }
    }

    /// Serves the DNS connection in `slot` (if it is still the one `only` names, when given).
    fn serve_dns_client(
        &mut self,
        slot: usize,
        only: Option<Key>,
        registry: &Registry,
        records: &Arc<Records>,
        now: Instant,
    ) {
        let Some((key, client)) = self.dns_clients.get_mut(slot) else {
            return;
        };
        if only.is_some_and(|k| k != key) {
            return;
        }
        let mut cx = Context {
            records,
            forwarder: &mut self.forwarder,
            registry,
            now,
            cookie_verified: false,
        };
        let step = sockets::serve_dns_client(
            client,
            key,
            &mut self.buf,
            &mut self.responder,
            &mut cx,
            &self.limits,
            now,
        );
        match step {
            Step::Close => {
                if let Some(client) = self.dns_clients.remove(slot) {
                    sockets::close_dns(registry, client);
                }
            }
            Step::Busy if !self.still_busy.contains(&key) => self.still_busy.push(key),
            Step::Busy | Step::Wait => {}
        }
    }

    /// Serves the HTTP connection in `slot` (if it is still the one `only` names, when given).
    fn serve_http_client(
        &mut self,
        slot: usize,
        only: Option<Key>,
        registry: &Registry,
        records: &Arc<Records>,
        api: &Api,
    ) {
        let streams_open = self.http_clients.iter().filter(|c| c.conn.is_streaming()).count();
        let Some((key, client)) = self.http_clients.get_mut(slot) else {
            return;
        };
        if only.is_some_and(|k| k != key) {
            return;
        }
        let view = ApiView {
            api,
            records,
            metrics: &self.responder.metrics,
            relay: self.forwarder.stats,
            resolvers: self.forwarder.resolvers(),
            tcp_open: self.dns_clients.len(),
            streams_open,
        };
        let mut statuses = Vec::new();
        let step = sockets::serve_http_client(client, &view, &mut |status| statuses.push(status));
        for status in statuses {
            self.responder.metrics.http(status);
        }
        match step {
            Step::Close => {
                if let Some(client) = self.http_clients.remove(slot) {
                    sockets::close_http(registry, client);
                }
            }
            Step::Busy if !self.http_still_busy.contains(&key) => self.http_still_busy.push(key),
            Step::Busy | Step::Wait => {}
        }
    }

    /// Applies what SIGHUP sent the relay.
    fn apply_reloads(&mut self, registry: &Registry) {
        while let Ok(reload) = self.reloads.try_recv() {
            match reload {
                RelayReload::Flush => self.forwarder.flush_cache(),
                RelayReload::Apply(config) => self.forwarder.reconfigure(config, registry),
            }
        }
    }

    /// Tells the secondaries of a new serial, and sends the retries due (from the DNS UDP socket, where
    /// their answers come back).
    fn notify(&mut self, records: &Records, now: Instant) {
        let Some((udp, _)) = &self.dns else { return };
        self.responder.notify(records, now, |to, m| {
            if let Err(e) = udp.send(m, to, None) {
                log::warn!("NOTIFY to {to}: {e}");
            }
        });
    }

    /// Sends the answers the forwarder has for clients (over UDP within `rateLimit`).
    fn deliver_relayed(&mut self, now: Instant) {
        let udp = self.dns.as_ref().map(|(udp, _)| udp);
        for (client, answer, verified) in self.forwarder.deliveries() {
            self.responder.metrics.response(transport(client), &answer);
            if let (Client::Udp { peer, local }, Some(udp)) = (client, udp) {
                let verdict = sockets::send_udp(udp, &answer, peer, local, self.limiter.as_mut(), verified, now);
                self.responder.metrics.rate_limit(verdict);
                continue;
            }
            sockets::deliver(udp, &mut self.dns_clients, client, &answer);
        }
    }

    /// Closes connections that completed nothing for the idle timeout (slow, silent or not reading).
    fn close_idle(&mut self, registry: &Registry, now: Instant) {
        let limits = self.limits;
        self.dns_clients
            .remove_where(|c| c.conn.is_idle(now, &limits), |c| sockets::close_dns(registry, c));
        self.http_clients.remove_where(
            |c| now.saturating_duration_since(c.conn.last_activity) > limits.idle_timeout,
            |c| sockets::close_http(registry, c),
        );
    }
}

fn log_relay_stats(s: RelayStats) {
    log::info!(
        "relay: {} relayed, {} answered, {} SERVFAIL, {} timeouts, {} errors, {} rejected (spoofed or stray); \
         cache: {} hits, {} misses, {} served stale, {} entries",
        s.relayed,
        s.answered,
        s.servfail,
        s.timeouts,
        s.errors,
        s.rejected,
        s.cache.hits,
        s.cache.misses,
        s.cache.stale,
        s.cache.entries
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_token_decodes_to_the_socket_it_was_made_for() {
        let ids = [
            SocketId::Udp,
            SocketId::Tcp,
            SocketId::Wake,
            SocketId::Http,
            SocketId::RelayUdp(0),
            SocketId::RelayUdp(7),
            SocketId::DnsConn(0),
            SocketId::DnsConn(511),
            SocketId::RelayTcp(0),
            SocketId::RelayTcp(4095),
            SocketId::HttpConn(0),
            SocketId::HttpConn(63),
            SocketId::Unused,
        ];
        for id in ids {
            assert_eq!(SocketId::of(id.token()), id);
        }
    }
}
