//! Event-driven updates (`"stateSource": "stream"`): keep a subscription to the leading master's
//! operator API open and apply its events to the refresher's model of the cluster ([`Model`]), so
//! that a task's records appear within a fraction of a second of its `TASK_RUNNING` instead of at the
//! next poll.
//!
//! This module owns the subscription's life: where to subscribe (the master the last successful poll
//! came from, so leader detection and its follow filter stay in [`crate::mesos::fetch`]), applying
//! events and saying when their changes are due to be published (at once after a quiet spell, batched
//! while a burst lasts: [`Pacer`]), and resubscribing with exponential backoff when the stream breaks. It does not build or store snapshots: the refresher does that from
//! [`Streamer::model`], and keeps polling every `refreshSeconds` as the safety net and the fallback.
//! The protocol (RecordIO, event decoding, the HTTP stream on its own thread) is
//! [`crate::mesos::operator`]'s; applying an event is [`super::model`]'s.

use std::sync::mpsc::{Receiver, TryRecvError};
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::model::{Changed, Model};
use super::schedule::Pacer;
use crate::mesos::access::Access;
use crate::mesos::operator::api_url;
use crate::mesos::operator::client::{self, Message, StreamError};
use crate::mesos::operator::event::Event;

/// At most this many events are applied per [`Streamer::pump`], so that a flood of them cannot keep
/// the refresher from publishing (the channel holds as many).
const MAX_EVENTS_PER_PUMP: usize = 4096;

/// Resubscribing waits this long after the first failure, doubling up to [`BACKOFF_MAX`].
pub(crate) const BACKOFF_MIN: Duration = Duration::from_millis(250);
pub(crate) const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Exponential backoff between subscription attempts. Pure: the caller passes the time.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff { next: BACKOFF_MIN }
    }
}

impl Backoff {
    /// A subscription that lived for `lived` ended: how long to wait before the next one. A stream
    /// that stayed up at least [`BACKOFF_MAX`] starts the sequence over.
    pub(crate) fn failed(&mut self, lived: Duration) -> Duration {
        if lived >= BACKOFF_MAX {
            self.next = BACKOFF_MIN;
        }
        let wait = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        wait
    }
}

/// What [`Streamer::pump`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pumped {
    /// Nothing to publish now (nothing changed, or what changed is not due yet: see
    /// [`Streamer::maintain`]).
    Idle,
    /// The model changed and a publish is due: publish a snapshot from it, then call
    /// [`Streamer::published`].
    Changed,
    /// A stream that had delivered the state broke: events may have been missed, poll now.
    Lost,
}

/// An open subscription.
struct Live {
    rx: Receiver<Message>,
    url: String,
    since: Instant,
    /// `SUBSCRIBED` has arrived: the model is the stream's.
    subscribed: bool,
}

/// The subscription and the model it feeds; lives in the refresher thread.
pub(crate) struct Streamer {
    /// HTTPS and credentials towards the master, as for polling.
    access: Access,
    /// The operator API URL of the leader the last poll found.
    target: Option<String>,
    live: Option<Live>,
    model: Model,
    backoff: Backoff,
    next_try: Instant,
    /// When the model's unpublished changes are due.
    pacer: Pacer,
    /// What changed since the refresher last took it ([`Streamer::take_changes`]).
    changes: Changed,
    /// The refresher thread, woken by each batch of events.
    wake: Thread,
}

impl Streamer {
    /// A streamer that wakes `wake` (the refresher thread) when events arrive. It subscribes once a
    /// poll has said where the leader is.
    pub(crate) fn new(wake: Thread, access: Access) -> Streamer {
        Streamer {
            access,
            target: None,
            live: None,
            model: Model::default(),
            backoff: Backoff::default(),
            next_try: Instant::now(),
            pacer: Pacer::new(),
            changes: Changed::Nothing,
            wake,
        }
    }

    /// The model records are built from.
    pub(crate) fn model(&self) -> &Model {
        &self.model
    }

    #[cfg(test)]
    /// True while a subscription has delivered the state and is open.
    pub(crate) fn is_live(&self) -> bool {
        self.live.as_ref().is_some_and(|l| l.subscribed)
    }

    /// What the model's events changed since this was last called: the refresher takes it when it
    /// publishes from the model.
    pub(crate) fn take_changes(&mut self) -> Changed {
        std::mem::take(&mut self.changes)
    }

    /// A poll succeeded: its document (as a model) is the truth now, and its master is the leader to
    /// subscribe to. A new leader ends the old subscription. What changed against the model it
    /// replaces is the refresher's to work out (take the changes first).
    pub(crate) fn polled(&mut self, model: Model, state_url: &str, now: Instant) {
        self.model = model;
        self.changes = Changed::Nothing;
        self.pacer.clear();
        let target = api_url(state_url);
        if target != self.target {
            if let Some(old) = self.live.take() {
                log::info!("the leader moved: leaving the event stream of {}", old.url);
            }
            self.target = target;
            self.next_try = now;
            self.backoff = Backoff::default();
        }
    }

    /// A snapshot of the model was published, from `started` to `ended`.
    pub(crate) fn published(&mut self, started: Instant, ended: Instant) {
        self.pacer.published(started, ended);
    }

    /// Opens a subscription when one is due. Returns when it wants to be called again: when a
    /// resubscription or a publish of applied changes is due (`None`: it has nothing to do until
    /// events arrive or a poll succeeds).
    pub(crate) fn maintain(&mut self, now: Instant) -> Option<Instant> {
        let subscribe = self.subscribe_due(now);
        match (subscribe, self.pacer.due_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn subscribe_due(&mut self, now: Instant) -> Option<Instant> {
        if self.live.is_some() {
            return None;
        }
        let url = self.target.clone()?;
        if now < self.next_try {
            return Some(self.next_try);
        }
        match client::subscribe(url.clone(), self.access.clone(), self.wake.clone()) {
            Ok(rx) => {
                log::debug!("subscribing to the event stream at {url}");
                self.live = Some(Live {
                    rx,
                    url,
                    since: now,
                    subscribed: false,
                });
                None
            }
            Err(e) => {
                self.next_try = now + self.backoff.failed(Duration::ZERO);
                log::error!("cannot start the event stream thread: {e}");
                Some(self.next_try)
            }
        }
    }

    /// Applies the events that have arrived (without waiting for more) and says whether a publish is
    /// due at `now`.
    pub(crate) fn pump(&mut self, now: Instant) -> Pumped {
        let Some(live) = self.live.as_mut() else {
            return Pumped::Idle;
        };
        for _ in 0..MAX_EVENTS_PER_PUMP {
            let event = match live.rx.try_recv() {
                Ok(Message::Event(event)) => *event,
                Ok(Message::Ended(error)) => return self.lost(error, now),
                Err(TryRecvError::Disconnected) => return self.lost(StreamError::Closed, now),
                Err(TryRecvError::Empty) => break,
            };
            if let Event::Subscribed { heartbeat, tasks, .. } = &event {
                live.subscribed = true;
                log::info!(
                    "subscribed to the event stream at {} ({} tasks; heartbeat every {:?})",
                    live.url,
                    tasks.len(),
                    heartbeat.unwrap_or_default()
                );
            } else if !live.subscribed {
                log::debug!("event before SUBSCRIBED ignored: {event:?}");
                continue;
            }
            let subscribed = matches!(event, Event::Subscribed { .. });
            let changed = self.model.apply(event);
            if subscribed {
                // The cluster the model held before is freed (its publish is an edit, which trims
                // nothing): its pages go back now.
                super::publish::return_free_memory();
            }
            if !changed.is_nothing() {
                self.pacer.changed(now);
                self.changes.merge(changed);
            }
        }
        if self.pacer.due(now) {
            Pumped::Changed
        } else {
            Pumped::Idle
        }
    }

    fn lost(&mut self, error: StreamError, now: Instant) -> Pumped {
        let Some(live) = self.live.take() else {
            return Pumped::Idle;
        };
        let wait = self.backoff.failed(now.saturating_duration_since(live.since));
        self.next_try = now + wait;
        let what = if live.subscribed {
            "event stream ended"
        } else {
            "cannot subscribe to events"
        };
        log::warn!(
            "{what} at {}: {error}; polling until it is back, resubscribing in {} ms",
            live.url,
            wait.as_millis()
        );
        if live.subscribed {
            Pumped::Lost
        } else {
            Pumped::Idle
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_and_restarts_after_a_long_stream() {
        let mut b = Backoff::default();
        let waits: Vec<u128> = (0..10).map(|_| b.failed(Duration::ZERO).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
        assert_eq!(b.failed(BACKOFF_MAX), BACKOFF_MIN);
        assert_eq!(b.failed(Duration::from_secs(1)), BACKOFF_MIN * 2);
    }

    fn running(id: &str) -> Message {
        let task = crate::mesos::state::Task {
            id: id.to_owned().into(),
            name: id.to_owned().into(),
            framework_id: "f1".into(),
            state: "TASK_RUNNING".into(),
            ..Default::default()
        };
        Message::Event(Box::new(Event::TaskAdded(task)))
    }

    /// A streamer with a live subscription whose events come from the returned sender.
    fn live_streamer(t0: Instant) -> (Streamer, std::sync::mpsc::SyncSender<Message>) {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let mut s = Streamer::new(std::thread::current(), Access::plain());
        // As after a poll of that master (so that `polled` sees no new leader and nothing here
        // subscribes for real).
        s.target = api_url(STATE_URL);
        s.live = Some(Live {
            rx,
            url: "http://127.0.0.1:5050/api/v1".into(),
            since: t0,
            subscribed: false,
        });
        (s, tx)
    }

    const STATE_URL: &str = "http://127.0.0.1:5050/master/state";

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn a_change_after_quiet_is_due_at_once_and_a_burst_waits_for_the_window() {
        let t0 = Instant::now();
        let (mut s, tx) = live_streamer(t0);
        let subscribed = Event::Subscribed {
            frameworks: Vec::new(),
            agents: Vec::new(),
            tasks: Default::default(),
            heartbeat: None,
            recovered: None,
        };
        tx.send(Message::Event(Box::new(subscribed))).unwrap();
        assert_eq!(s.pump(t0), Pumped::Changed, "SUBSCRIBED is published at once");
        assert!(s.is_live());
        // That publish took 40 ms: for 10 ms after it, changes wait.
        s.published(t0, ms(t0, 40));
        tx.send(running("a.1")).unwrap();
        tx.send(running("b.1")).unwrap();
        assert_eq!(s.pump(ms(t0, 45)), Pumped::Idle);
        assert_eq!(s.model().task_count(), 2, "applied, not yet published");
        assert_eq!(
            s.maintain(ms(t0, 45)),
            Some(ms(t0, 50)),
            "the refresher sleeps until then"
        );
        tx.send(running("c.1")).unwrap();
        assert_eq!(s.pump(ms(t0, 49)), Pumped::Idle);
        assert_eq!(s.pump(ms(t0, 50)), Pumped::Changed, "one publish for the three");
        s.published(ms(t0, 50), ms(t0, 51));
        assert_eq!(s.maintain(ms(t0, 51)), None, "nothing pending");
        // Quiet for a while: the next change is due at once again.
        tx.send(running("d.1")).unwrap();
        assert_eq!(s.pump(ms(t0, 500)), Pumped::Changed);
        s.published(ms(t0, 500), ms(t0, 501));
        // Events that change no record are applied but publish nothing.
        tx.send(Message::Event(Box::new(Event::Heartbeat))).unwrap();
        assert_eq!(s.pump(ms(t0, 900)), Pumped::Idle);
        assert_eq!(s.maintain(ms(t0, 900)), None);
        // A poll supersedes what was pending.
        tx.send(running("e.1")).unwrap();
        assert_eq!(s.pump(ms(t0, 901)), Pumped::Changed);
        s.polled(Model::default(), STATE_URL, Instant::now());
        assert!(s.is_live(), "the same leader: the subscription stays");
        assert_eq!(s.maintain(ms(t0, 902)), None);
        assert_eq!(s.pump(ms(t0, 902)), Pumped::Idle);
    }

    #[test]
    fn events_before_subscribed_are_ignored_and_a_closed_stream_is_lost() {
        let t0 = Instant::now();
        let (mut s, tx) = live_streamer(t0);
        tx.send(running("a.1")).unwrap();
        assert_eq!(s.pump(t0), Pumped::Idle);
        assert_eq!(s.model().task_count(), 0);
        assert_eq!(s.maintain(t0), None);
        drop(tx);
        // Not subscribed yet: a refusal, no poll needed; resubscribing waits for the backoff.
        assert_eq!(s.pump(t0), Pumped::Idle);
        assert!(s.live.is_none());
        assert!(s.next_try > Instant::now());
        let (mut s, tx) = live_streamer(t0);
        tx.send(Message::Event(Box::new(Event::Subscribed {
            frameworks: Vec::new(),
            agents: Vec::new(),
            tasks: Default::default(),
            heartbeat: None,
            recovered: None,
        })))
        .unwrap();
        tx.send(Message::Ended(StreamError::Closed)).unwrap();
        assert_eq!(s.pump(t0), Pumped::Lost, "a live stream broke: poll now");
    }

    #[test]
    fn the_changes_since_the_last_take_name_the_tasks_or_say_everything() {
        let t0 = Instant::now();
        let (mut s, tx) = live_streamer(t0);
        let send = |e: Event| tx.send(Message::Event(Box::new(e))).unwrap();
        send(Event::Subscribed {
            frameworks: vec![crate::mesos::state::Framework {
                id: "f1".into(),
                name: "marathon".into(),
                ..Default::default()
            }],
            agents: Vec::new(),
            tasks: Default::default(),
            heartbeat: None,
            recovered: None,
        });
        assert_eq!(s.take_changes(), Changed::Nothing, "nothing applied yet");
        s.pump(t0);
        assert_eq!(s.take_changes(), Changed::Everything, "SUBSCRIBED");
        assert_eq!(s.take_changes(), Changed::Nothing, "taken");
        tx.send(running("a.1")).unwrap();
        tx.send(running("b.1")).unwrap();
        send(Event::Heartbeat);
        s.pump(ms(t0, 1));
        tx.send(running("a.1")).unwrap();
        s.pump(ms(t0, 2));
        let key = |t: &str| ("f1".to_owned(), t.to_owned());
        assert_eq!(
            s.take_changes(),
            Changed::Tasks(vec![key("a.1"), key("b.1"), key("a.1")]),
            "every task event since the last take, across pumps"
        );
        send(Event::Heartbeat);
        s.pump(ms(t0, 3));
        assert_eq!(s.take_changes(), Changed::Nothing, "a heartbeat changes nothing");
        tx.send(running("c.1")).unwrap();
        send(Event::AgentAdded(crate::mesos::state::Slave {
            id: "a1".into(),
            ..Default::default()
        }));
        tx.send(running("d.1")).unwrap();
        s.pump(ms(t0, 4));
        assert_eq!(s.take_changes(), Changed::Everything, "an agent event wins");
        s.polled(Model::default(), STATE_URL, Instant::now());
        tx.send(running("e.1")).unwrap();
        s.pump(ms(t0, 5));
        s.polled(Model::default(), STATE_URL, Instant::now());
        assert_eq!(
            s.take_changes(),
            Changed::Nothing,
            "a poll's changes are the refresher's to work out (it takes the events' first)"
        );
    }

    #[test]
    fn nothing_to_subscribe_to_before_a_poll() {
        let mut s = Streamer::new(std::thread::current(), Access::plain());
        assert_eq!(s.maintain(Instant::now()), None);
        assert_eq!(s.pump(Instant::now()), Pumped::Idle);
        assert!(!s.is_live());
    }
}
