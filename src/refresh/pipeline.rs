//! One refresh step, whatever the mode: a source says what changed ([`Yielded`]: a record list
//! generated from a document (a state file; a poll with static records or `preferLocalZone`), or the
//! cluster's model a poll replaced or stream events edited); the carry step decides which agents a
//! failover carries ([`super::carry`]) and takes their tasks from the served snapshot into the new
//! build ([`super::carried`]); [`plan`](super::plan::plan)
//! decides between edits and a rebuild; and [`Refresher::publish`] ends it. The clock is read once,
//! at the top of [`Refresher::step`].
//!
//! Which source runs is data: the [`Trigger`] (a due poll, or stream events due to be published) and
//! the configured [`StateSource`]. State that outlives a step stays in the refresher: a polled
//! model goes straight into the [`Cluster`](super::cluster::Cluster) (the last poll's model, or the
//! streamer's), and what changed is taken from it in one place ([`Refresher::model_changes`]).

use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use super::carried::{self, CarriedTask};
use super::carry::{News, View};
use super::cluster::Cluster;
use super::incremental::{TaskKeys, Touched};
use super::model::{Changed, Model, ModelReader};
use super::plan::{plan, Editable, Plan};
use super::publish::{next_serial, Built, Stages};
use super::source::read_capped;
use super::{self_addrs, system_resolve, Incremental, Now, RefreshError, Refresher, StateSource};
use crate::addr::HostPort;
use crate::mesos::fetch::Fetcher;
use crate::mesos::state;
use crate::records::from_state::{generate_for_edits, generate_from_body, generate_from_state, BuildError};
use crate::snapshot::{RecordList, Records};
use crate::transfer::journal;

/// Why a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    /// A poll is due (the schedule, a reload, a broken stream, a new ZooKeeper leader).
    Poll,
    /// Stream events changed the model and their publish is due.
    Events,
}

/// What a source gave one step.
pub(super) enum Yielded {
    /// Records generated from a document (a state file, a poll without a kept model), not indexed
    /// yet, and what the document says about failover.
    List {
        list: Box<RecordList>,
        from: String,
        view: View,
    },
    /// The cluster's model changed: by a poll that replaced it (`named`: the masters that poll's
    /// records name) or by stream events (`named` is `None`: the masters stay).
    Model {
        changes: Changed,
        from: String,
        named: Option<Vec<HostPort>>,
    },
}

impl Refresher {
    /// One step: read the clock, ask the source, plan, publish or keep. Never panics on input, and
    /// survives a panicking generator where panics unwind (debug and test builds; release builds
    /// abort, which is loud too). Returns when it ended.
    pub(super) fn step(&mut self, trigger: Trigger) -> Instant {
        let now = Now::read();
        let serial = next_serial(self.last_serial, now.unix_ms / 1000);
        let mut stages = Stages::start(now.at);
        let outcome = match panic::catch_unwind(AssertUnwindSafe(|| self.build(trigger, serial, now, &mut stages))) {
            Ok(r) => r,
            Err(payload) => Err(RefreshError::Panicked(panic_message(payload.as_ref()))),
        };
        let took = now.at.elapsed();
        match outcome {
            Ok(built) => {
                self.publish(built, serial, now, took);
                stages.mark("publish");
                if self.verbosity >= 1 {
                    log::info!("refresh stages: {stages}");
                }
            }
            Err(e) => self.keep(&e, now, took),
        }
        now.at + took
    }

    /// The source, then the carry step, then the plan, then the build (`now` is the step's clock
    /// reading).
    fn build(&mut self, trigger: Trigger, serial: u32, now: Now, stages: &mut Stages) -> Result<Built, RefreshError> {
        match self.source_yield(trigger, now, stages)? {
            Yielded::List { mut list, from, view } => {
                let news = self
                    .carrier
                    .observe(&view, now.unix(), self.config.failover_grace_seconds);
                let carried = self.carry_over(&news);
                carried::add_to_list(&mut list, &carried);
                stages.mark("carry");
                // The body and its parsed form are freed by now: index the records.
                let (records, list) = self.index(*list, serial);
                stages.mark("index");
                Ok(Built {
                    records,
                    list,
                    from,
                    touched: None,
                })
            }
            Yielded::Model { changes, from, named } => {
                stages.mark("changes");
                let built = self.build_from_cluster(changes, from, named, serial, now);
                stages.mark("build");
                built
            }
        }
    }

    /// The carry step's second half: the tasks the carried agents had in the snapshot being served,
    /// to go into the next one; logs where carrying started and ended.
    fn carry_over(&mut self, news: &News) -> Vec<CarriedTask> {
        let carried = carried::take(&self.records.load(), self.carrier.carrying());
        carried::log_news(news, &carried, self.config.failover_grace_seconds);
        self.carried_tasks = carried.len();
        carried
    }

    /// Asks the source what changed.
    fn source_yield(&mut self, trigger: Trigger, now: Now, stages: &mut Stages) -> Result<Yielded, RefreshError> {
        if trigger == Trigger::Events {
            let changes = self.model_changes(None, now)?;
            return Ok(Yielded::Model {
                changes,
                from: "the event stream".into(),
                named: None,
            });
        }
        let zk_named = self.follow_zk_masters()?;
        let config = &*self.config;
        let self_addrs = self_addrs(config.listener);
        // Each distinct host name is looked up once per refresh, before the records are generated.
        let resolve = system_resolve;
        let (fetcher, named): (&Fetcher, &[HostPort]) = match &self.source {
            StateSource::Masters(fetcher) => (fetcher, &config.masters),
            StateSource::ZooKeeper(zk) => (&zk.fetcher, zk_named.as_deref().unwrap_or_default()),
            StateSource::File(path) => {
                let body = read_capped(path)?;
                let header = state::parse_header(&body).map_err(|e| BuildError::NotState(e.to_string()))?;
                stages.mark("read and header");
                let list = generate_from_body(config, &header, &body, &config.masters, &self_addrs, &resolve)?;
                stages.mark("tasks and records");
                let from = path.display().to_string();
                return Ok(Yielded::List {
                    list: Box::new(list),
                    from,
                    view: View::of(&header),
                });
            }
        };
        let list = |stages: &mut Stages| -> Result<Yielded, RefreshError> {
            let ((generated, view), origin) = fetcher
                .fetch_with(|_, header, body, _: Result<(), _>| {
                    stages.mark("fetch and header");
                    let generated = generate_from_body(config, header, body, named, &self_addrs, &resolve);
                    stages.mark("tasks and records");
                    (generated, View::of(header))
                })
                .map_err(RefreshError::Fetch)?;
            stages.mark("free body");
            Ok(Yielded::List {
                list: Box::new(generated?),
                from: origin.url,
                view,
            })
        };
        if self.cluster.is_none() {
            return list(stages);
        }
        // The document becomes the cluster's model as it arrives, and records come from that. In poll
        // mode, a document the model cannot hold whole (a task filed under another framework than its
        // id names, an id twice in a framework: the original's own test state has both) is fetched
        // again and built from its records as without a model, and the next poll is a full build of
        // its model.
        let polling = matches!(self.cluster, Some(Cluster::Polled(_)));
        let (read, origin) = fetcher
            .fetch_streamed(|_, header, tasks: Result<ModelReader, _>| {
                stages.mark("fetch and model");
                match tasks.map(|reader| reader.finish(header)) {
                    Ok(m) if polling && !m.holds_every_task() => None,
                    other => Some(other),
                }
            })
            .map_err(RefreshError::Fetch)?;
        let Some(model) = read else {
            log::debug!("the poll's document has tasks the model cannot hold: fetched again, built from its records");
            self.incremental = None;
            return list(stages);
        };
        let model = model.map_err(|e| BuildError::NotState(e.to_string()))?;
        if model.header().leader.is_empty() {
            return Err(BuildError::NoLeader.into());
        }
        let named = named.to_vec();
        let changes = self.model_changes(Some((model, &origin.url, &named)), now)?;
        Ok(Yielded::Model {
            changes,
            from: origin.url,
            named: Some(named),
        })
    }

    /// What changed in the cluster's model since the last publish, taken from the cluster (the only
    /// place that takes it: stream events' changes). A poll's model (with where it came from and the
    /// masters its records name) replaces the cluster's; while a snapshot is being edited that names
    /// the same masters, its differences from the model it replaces join the changes (a poll that
    /// differs in tasks only is an edit, in poll and stream mode).
    fn model_changes(&mut self, polled: Option<(Model, &str, &[HostPort])>, now: Now) -> Result<Changed, RefreshError> {
        let cluster = self.cluster.as_mut().ok_or_else(no_model)?;
        let mut changes = cluster.take_changes();
        if let Some((model, url, named)) = polled {
            match self.incremental.as_ref() {
                Some(inc) if inc.masters() == named => changes.merge(cluster.model().changes_to(&model)),
                _ => changes = Changed::Everything,
            }
            cluster.polled(model, url, now.at);
        }
        Ok(changes)
    }

    /// A snapshot of the cluster's model, as [`plan`] says: the edited one with the changed tasks'
    /// records replaced, or a full build.
    fn build_from_cluster(
        &mut self,
        changes: Changed,
        from: String,
        named: Option<Vec<HostPort>>,
        serial: u32,
        now: Now,
    ) -> Result<Built, RefreshError> {
        let polled = named.is_some();
        // The carry step: only a new model (a poll, an event that changes more than tasks) or time
        // (a grace period ending) can change what is carried.
        let news = match polled || changes == Changed::Everything || !self.carrier.is_idle() {
            true => {
                let view = View::of(self.cluster.as_ref().ok_or_else(no_model)?.model().header());
                self.carrier
                    .observe(&view, now.unix(), self.config.failover_grace_seconds)
            }
            false => News::default(),
        };
        let editable = Editable {
            editing: self.incremental.is_some(),
            same_masters: match (&self.incremental, &named) {
                (Some(inc), Some(named)) => inc.masters() == named.as_slice(),
                _ => true,
            },
            same_carried: !news.changed(),
            tasks: self.cluster.as_ref().map_or(0, |c| c.model().task_count()),
        };
        let many = match &changes {
            Changed::Tasks(tasks) if editable.editing => tasks.len(),
            _ => 0,
        };
        match plan(changes, editable) {
            Plan::Edit(tasks) => {
                let cluster = self.cluster.as_ref().ok_or_else(no_model)?;
                let inc = self.incremental.as_mut().ok_or_else(no_model)?;
                if polled {
                    log::info!(
                        "the poll differs from {} in {} tasks only: edited, not rebuilt",
                        cluster.describe(),
                        tasks.len()
                    );
                }
                // (The owned pairs are freed before the edit makes its copies.)
                let tasks = TaskKeys::pack(tasks);
                inc.apply_keys(cluster.model(), &tasks);
                let (records, touched) = inc.publish();
                Ok(Built {
                    records,
                    list: RecordList::new(),
                    from,
                    touched: Some(touched),
                })
            }
            Plan::Rebuild => {
                if many > 0 && editable.same_masters && editable.same_carried {
                    log::info!("{many} tasks changed, more than a quarter of the cluster's: rebuilt, not edited");
                }
                // What only the old edits needed goes first (a failed build leaves the next step a
                // rebuild too).
                self.incremental = None;
                let named = named.unwrap_or_else(|| self.masters_for_records());
                let carried = self.carry_over(&news);
                let cluster = self.cluster.as_ref().ok_or_else(no_model)?;
                let (built, inc) = self.build_from_model(cluster.model(), &named, serial, from, &carried)?;
                self.incremental = inc;
                Ok(built)
            }
        }
    }

    /// A full build from a model, and (without static records) the snapshot task events edit from
    /// now on.
    fn build_from_model(
        &self,
        model: &Model,
        named: &[HostPort],
        serial: u32,
        from: String,
        carried: &[CarriedTask],
    ) -> Result<(Built, Option<Incremental>), RefreshError> {
        let config = &*self.config;
        let self_addrs = self_addrs(config.listener);
        let (records, list, inc) = if self.statics.is_empty() {
            // The records of no task, then every task's, counted as events add and take them.
            let (fixed, gen) = generate_for_edits(config, model.header(), named, &self_addrs, &system_resolve)?;
            // (Stream mode's `preferLocalZone` zones and `-v=2` log come from the records of no task.)
            let zones = config
                .prefer_local_zone
                .then(|| super::host::local_zones(&fixed))
                .flatten();
            let logged = if self.verbosity >= 2 {
                fixed.clone()
            } else {
                RecordList::new()
            };
            let zone = crate::records::zone(config);
            // With no journal kept, an edit's first names say whether a record changed.
            let names = match journal::bound(config) {
                0 => Touched::WITHOUT_JOURNAL,
                _ => usize::MAX,
            };
            let mut inc = Incremental::start(fixed, zone, serial, model, gen, named, carried)
                .with_zones(zones)
                .with_touched_up_to(names);
            let (records, _) = inc.publish();
            (records, logged, Some(inc))
        } else {
            let mut list = generate_from_state(config, &model.full_state(), named, &self_addrs, &system_resolve)?;
            carried::add_to_list(&mut list, carried);
            let (records, list) = self.index(list, serial);
            (records, list, None)
        };
        let built = Built {
            records,
            list,
            from,
            touched: None,
        };
        Ok((built, inc))
    }

    /// With `zk`: points the fetcher at the masters ZooKeeper names now and returns the masters the
    /// records name; `None` for the other sources.
    fn follow_zk_masters(&mut self) -> Result<Option<Vec<HostPort>>, RefreshError> {
        let StateSource::ZooKeeper(zk) = &mut self.source else {
            return Ok(None);
        };
        let masters = zk.masters_for_refresh(&self.config)?;
        zk.fetcher.set_masters(masters.fetch);
        Ok(Some(masters.named))
    }

    /// Adds the static records to a generated list and indexes it.
    fn index(&self, mut list: RecordList, serial: u32) -> (Records, RecordList) {
        self.statics.append_to(&mut list);
        let mut records = Records::build(crate::records::zone(&self.config), &list, serial);
        if self.config.prefer_local_zone {
            records = records.with_zones(super::host::local_zones(&list));
        }
        // Only read from now on (`/v1/enumerate`): it need not keep what adding records needs.
        list.seal();
        (records, list)
    }
}

/// A model step without a model (a bug: only a refresher that keeps one yields [`Yielded::Model`]).
fn no_model() -> RefreshError {
    RefreshError::Document(BuildError::NotState("no model of the cluster is kept".into()))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}
