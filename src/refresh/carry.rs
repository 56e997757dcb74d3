//! Failover carry-over, the pure decision ([`decide`]): which agents' tasks the records keep although
//! the state no longer lists them, and until when.
//!
//! A newly elected Mesos leader lists the agents it knows from its registry but that have not
//! re-registered yet under `recovered_slaves` (`recovered_agents` in the operator API's `GET_STATE`),
//! and none of their tasks, which still run. Their tasks, as the last published records had them,
//! are carried over until the agent re-registers (its own tasks then replace them) or leaves the list
//! without re-registering (Mesos gave up on it). A master that sends no such field at all gets a
//! fallback: after a leader change (another `leader`, or a newer `elected_time`), an agent of the last
//! good state that is missing keeps its tasks for `failoverGraceSeconds`, or until it is back.
//!
//! Taking the carried tasks' records out of the last snapshot and putting them into the next is
//! [`super::carried`]'s; the refresher runs both in each step between the source and the plan.

use std::collections::{BTreeMap, HashSet};

use crate::mesos::state::State;

/// What one state says that the decision reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct View {
    /// The leading master's pid.
    pub(crate) leader: String,
    /// Unix seconds (0: not sent).
    pub(crate) elected_time: f64,
    /// The ids of the agents the state lists.
    pub(crate) agents: HashSet<String>,
    /// The ids under `recovered_slaves`; `None` when the master sends no such field.
    pub(crate) recovered: Option<HashSet<String>>,
}

impl View {
    /// The view of a state document (or of the stream's model, which is one).
    pub(crate) fn of<T>(state: &State<'_, T>) -> View {
        View {
            leader: state.leader.to_string(),
            elected_time: state.elected_time,
            agents: state.slaves.iter().map(|s| s.id.to_string()).collect(),
            recovered: state
                .recovered_slaves
                .as_ref()
                .map(|r| r.iter().map(|s| s.id.to_string()).collect()),
        }
    }
}

/// Why an agent's tasks are carried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Why {
    /// The leader lists it under `recovered_slaves`.
    Recovering,
    /// It went missing at a leader change whose master sends no `recovered_slaves`: until this Unix
    /// second.
    Grace { until: u64 },
}

/// Why an agent's tasks are carried no longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The state lists the agent again: its tasks are its own.
    Reregistered,
    /// It left `recovered_slaves` without re-registering (Mesos gave up on it).
    GaveUp,
    /// `failoverGraceSeconds` passed without it coming back.
    GraceOver,
}

/// What the last good state left for the next decision.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Seen {
    leader: String,
    elected_time: f64,
    /// Its agents, and those still carried.
    agents: HashSet<String>,
}

/// The carried agents, and what changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Decision {
    pub(crate) carrying: BTreeMap<String, Why>,
    pub(crate) started: Vec<(String, Why)>,
    pub(crate) ended: Vec<(String, Ended)>,
    /// For the next decision.
    pub(crate) seen: Seen,
}

#[cfg(test)]
impl Decision {
    /// Whether the set of carried agents changed.
    pub(crate) fn changed(&self) -> bool {
        !self.started.is_empty() || !self.ended.is_empty()
    }
}

/// Which agents are carried after a state `new` at Unix second `now`, given what the last good state
/// left (`last`, none before the first) and the agents carried until now. `grace` is
/// `failoverGraceSeconds` (0: no fallback).
pub(crate) fn decide(
    last: Option<&Seen>,
    carrying: &BTreeMap<String, Why>,
    new: &View,
    now: u64,
    grace: u64,
) -> Decision {
    let mut next = BTreeMap::new();
    match &new.recovered {
        Some(recovered) => {
            for id in recovered.iter().filter(|id| !new.agents.contains(*id)) {
                next.insert(id.clone(), Why::Recovering);
            }
        }
        None => {
            for (id, why) in carrying.iter().filter(|(id, _)| !new.agents.contains(*id)) {
                match *why {
                    Why::Grace { until } if until > now => {
                        next.insert(id.clone(), *why);
                    }
                    // The list came from elsewhere (a poll, where the stream's SUBSCRIBED leaves an
                    // empty list out): without it now, the fallback's clock starts.
                    Why::Recovering if grace > 0 => {
                        next.insert(
                            id.clone(),
                            Why::Grace {
                                until: now.saturating_add(grace),
                            },
                        );
                    }
                    _ => {}
                }
            }
            let leader_changed = last.is_some_and(|l| {
                l.leader != new.leader || (new.elected_time > 0.0 && new.elected_time > l.elected_time)
            });
            if leader_changed && grace > 0 {
                let until = now.saturating_add(grace);
                let missing = last
                    .into_iter()
                    .flat_map(|l| l.agents.iter())
                    .chain(carrying.keys())
                    .filter(|id| !new.agents.contains(*id));
                for id in missing {
                    next.entry(id.clone()).or_insert(Why::Grace { until });
                }
            }
        }
    }
    let started = next
        .iter()
        .filter(|(id, _)| !carrying.contains_key(*id))
        .map(|(id, why)| (id.clone(), *why))
        .collect();
    let ended = carrying
        .iter()
        .filter(|(id, _)| !next.contains_key(*id))
        .map(|(id, why)| {
            let reason = match why {
                _ if new.agents.contains(id) => Ended::Reregistered,
                Why::Grace { until } if *until <= now => Ended::GraceOver,
                _ => Ended::GaveUp,
            };
            (id.clone(), reason)
        })
        .collect();
    let seen = Seen {
        leader: new.leader.clone(),
        elected_time: new.elected_time.max(last.map_or(0.0, |l| l.elected_time)),
        agents: new.agents.iter().chain(next.keys()).cloned().collect(),
    };
    Decision {
        carrying: next,
        started,
        ended,
        seen,
    }
}

/// What changed in one step, for the log.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct News {
    pub(crate) started: Vec<(String, Why)>,
    pub(crate) ended: Vec<(String, Ended)>,
}

impl News {
    /// Whether the set of carried agents changed.
    pub(crate) fn changed(&self) -> bool {
        !self.started.is_empty() || !self.ended.is_empty()
    }
}

/// The carry-over state the refresher keeps between steps.
#[derive(Debug, Default)]
pub(crate) struct Carrier {
    seen: Option<Seen>,
    carrying: BTreeMap<String, Why>,
}

impl Carrier {
    /// Nothing is carried.
    pub(crate) fn is_idle(&self) -> bool {
        self.carrying.is_empty()
    }

    /// The agents carried now.
    pub(crate) fn carrying(&self) -> &BTreeMap<String, Why> {
        &self.carrying
    }

    /// A good state `view` arrived at Unix second `now`: decides ([`decide`]) and keeps the result.
    pub(crate) fn observe(&mut self, view: &View, now: u64, grace: u64) -> News {
        let Decision {
            carrying,
            started,
            ended,
            seen,
        } = decide(self.seen.as_ref(), &self.carrying, view, now, grace);
        self.seen = Some(seen);
        self.carrying = carrying;
        News { started, ended }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(leader: &str, elected: f64, agents: &[&str], recovered: Option<&[&str]>) -> View {
        let set = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect();
        View {
            leader: leader.into(),
            elected_time: elected,
            agents: set(agents),
            recovered: recovered.map(set),
        }
    }

    fn ids(d: &Decision) -> Vec<&str> {
        d.carrying.keys().map(String::as_str).collect()
    }

    const GRACE: u64 = 300;

    #[test]
    fn recovered_agents_that_have_not_re_registered_are_carried_until_back_or_given_up() {
        let before = view("m1", 100.0, &["a1", "a2", "a3"], Some(&[]));
        let d0 = decide(None, &BTreeMap::new(), &before, 1000, GRACE);
        assert!(d0.carrying.is_empty() && !d0.changed());
        // The new leader knows a2 and a3 from its registry; only a1 re-registered so far.
        let failover = view("m2", 200.0, &["a1"], Some(&["a2", "a3"]));
        let d1 = decide(Some(&d0.seen), &d0.carrying, &failover, 1010, GRACE);
        assert_eq!(ids(&d1), ["a2", "a3"]);
        assert_eq!(d1.started.len(), 2);
        assert_eq!(d1.carrying["a2"], Why::Recovering, "no deadline: Mesos decides");
        // Long after the grace period: still carried while the master lists them.
        let still = decide(Some(&d1.seen), &d1.carrying, &failover, 1010 + 10 * GRACE, GRACE);
        assert_eq!(ids(&still), ["a2", "a3"]);
        assert!(!still.changed());
        // a2 re-registers; a3 leaves the list without (marked unreachable).
        let after = view("m2", 200.0, &["a1", "a2"], Some(&[]));
        let d2 = decide(Some(&still.seen), &still.carrying, &after, 1100, GRACE);
        assert!(d2.carrying.is_empty());
        assert_eq!(
            d2.ended,
            [("a2".into(), Ended::Reregistered), ("a3".into(), Ended::GaveUp)]
        );
    }

    #[test]
    fn a_recovering_agent_whose_list_goes_missing_falls_back_to_the_grace_period() {
        let polled = view("m2", 200.0, &["a1"], Some(&["a2"]));
        let d1 = decide(None, &BTreeMap::new(), &polled, 1000, GRACE);
        let subscribed = view("m2", 200.0, &["a1"], None);
        let d2 = decide(Some(&d1.seen), &d1.carrying, &subscribed, 1001, GRACE);
        assert_eq!(d2.carrying["a2"], Why::Grace { until: 1301 });
        assert!(!d2.changed(), "still carried: no new log line");
        assert!(decide(Some(&d1.seen), &d1.carrying, &subscribed, 1001, 0)
            .carrying
            .is_empty());
    }

    #[test]
    fn an_agent_listed_both_ways_is_not_carried() {
        let v = view("m2", 1.0, &["a1"], Some(&["a1"]));
        assert!(decide(None, &BTreeMap::new(), &v, 0, GRACE).carrying.is_empty());
    }

    #[test]
    fn without_the_field_missing_agents_get_the_grace_period_after_a_leader_change_only() {
        let before = view("m1", 100.0, &["a1", "a2"], None);
        let d0 = decide(None, &BTreeMap::new(), &before, 1000, GRACE);
        // Same leader, an agent gone: it just went (no carrying).
        let gone = view("m1", 100.0, &["a1"], None);
        assert!(decide(Some(&d0.seen), &d0.carrying, &gone, 1001, GRACE)
            .carrying
            .is_empty());
        // Another leader without a2.
        let moved = view("m2", 100.0, &["a1"], None);
        let d1 = decide(Some(&d0.seen), &d0.carrying, &moved, 1001, GRACE);
        assert_eq!(d1.carrying["a2"], Why::Grace { until: 1301 });
        // The same master elected again (a newer elected_time) counts as a change too.
        let again = view("m1", 150.0, &["a1"], None);
        let d1b = decide(Some(&d0.seen), &d0.carrying, &again, 1001, GRACE);
        assert_eq!(ids(&d1b), ["a2"]);
        // Carried until the grace ends...
        let d2 = decide(Some(&d1.seen), &d1.carrying, &moved, 1300, GRACE);
        assert_eq!(ids(&d2), ["a2"]);
        let d3 = decide(Some(&d2.seen), &d2.carrying, &moved, 1301, GRACE);
        assert!(d3.carrying.is_empty());
        assert_eq!(d3.ended, [("a2".into(), Ended::GraceOver)]);
        // ...or until it is back.
        let back = view("m2", 100.0, &["a1", "a2"], None);
        let d4 = decide(Some(&d1.seen), &d1.carrying, &back, 1100, GRACE);
        assert_eq!(d4.ended, [("a2".into(), Ended::Reregistered)]);
        // A second leader change while carrying keeps the first deadline.
        let third = view("m3", 300.0, &["a1"], None);
        let d5 = decide(Some(&d1.seen), &d1.carrying, &third, 1200, GRACE);
        assert_eq!(d5.carrying["a2"], Why::Grace { until: 1301 });
        assert!(!d5.changed());
    }

    #[test]
    fn grace_zero_turns_the_fallback_off_and_an_empty_list_is_an_answer() {
        let before = view("m1", 100.0, &["a1", "a2"], None);
        let d0 = decide(None, &BTreeMap::new(), &before, 1000, 0);
        let moved = view("m2", 200.0, &["a1"], None);
        assert!(decide(Some(&d0.seen), &d0.carrying, &moved, 1001, 0)
            .carrying
            .is_empty());
        // The new leader sends the field, empty: nobody is re-registering, nothing is carried.
        let answered = view("m2", 200.0, &["a1"], Some(&[]));
        assert!(decide(Some(&d0.seen), &d0.carrying, &answered, 1001, GRACE)
            .carrying
            .is_empty());
        // An older or absent elected_time is no leader change.
        for elected in [0.0, 50.0] {
            let same = view("m1", elected, &["a1"], None);
            assert!(decide(Some(&d0.seen), &d0.carrying, &same, 1001, GRACE)
                .carrying
                .is_empty());
        }
    }
}
