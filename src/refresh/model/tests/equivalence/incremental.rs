//! The incremental snapshot against a full rebuild: over the same random event sequences, a snapshot
//! edited only for the tasks [`Model::apply`] names ([`Incremental`], rebuilt on
//! [`Changed::Everything`] as the refresher does; now and then a poll's document replaces the model
//! and what differs is edited: [`Model::changes_to`]) must describe, after every step, exactly what a full
//! build of the master's state document gives: every name (empty non-terminals and reverse names
//! included) with the same A, AAAA, SRV and PTR records, and the same name and record counts. Poll
//! mode too: with no events, a random run of changes between two polls, and each poll's differences
//! from the last edited (or rebuilt, as the refresher's plan says).

use super::*;
use crate::records::from_state::generate_for_edits;
use crate::refresh::incremental::Incremental;

fn rebuild(config: &Config, model: &Model) -> Incremental {
    let (fixed, gen) = generate_for_edits(config, model.header(), &config.masters, &[], &|_| Vec::new())
        .unwrap_or_else(|e| panic!("the model: {e}"));
    Incremental::start(fixed, crate::records::zone(config), 1, model, gen, &config.masters, &[])
}

fn full(config: &Config, cluster: &Cluster) -> Records {
    build_snapshot(config, &cluster.state_doc(), &config.masters, &[], &|_| Vec::new(), 1)
        .unwrap_or_else(|e| panic!("the reference document: {e}"))
        .0
}

/// An address named by more tasks than it answers PTR records for answers with some of them: the
/// first generated in a full build, the first added in an edited snapshot. Such an RRset compares as
/// full, whichever names it holds.
fn capped(mut names: BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<String>> {
    use crate::snapshot::reverse::MAX_PTRS_PER_ADDRESS;
    for rrs in names.values_mut() {
        if rrs.len() == MAX_PTRS_PER_ADDRESS && rrs.iter().all(|r| r.starts_with("PTR ")) {
            *rrs = vec![format!("{MAX_PTRS_PER_ADDRESS} PTR records")];
        }
    }
    names
}

#[test]
fn the_edited_snapshot_answers_as_a_full_rebuild_after_random_event_sequences() {
    let mut edits = 0;
    let mut polls = 0;
    let mut edited_polls = 0;
    for seed in 1..=32u64 {
        let mut rng = Rng(seed);
        let config = config(seed % 2 == 0, seed % 3 == 0, seed % 4 < 2);
        let mut cluster = Cluster::initial(&mut rng);
        let mut model = Model::from_body(&cluster.state_doc()).unwrap();
        let mut inc = rebuild(&config, &model);
        for step in 0..=60 {
            let event = if step == 0 {
                cluster.subscribed()
            } else {
                cluster.random_event(&mut rng)
            };
            let decoded = decode(event.to_string().as_bytes()).unwrap();
            let mut changed = model.apply(decoded);
            // Every seventh step a poll comes too: the master's document replaces the model, and what
            // differs from it (the event's tasks, or more) is edited, as the refresher does.
            if step % 7 == 3 {
                let polled = Model::from_body(&cluster.state_doc()).unwrap();
                let diff = model.changes_to(&polled);
                polls += 1;
                edited_polls += usize::from(matches!(diff, Changed::Tasks(_) | Changed::Nothing));
                changed.merge(diff);
                model = polled;
            }
            match changed {
                Changed::Nothing => {}
                Changed::Tasks(keys) => {
                    inc.apply(&model, &keys);
                    edits += 1;
                }
                Changed::Everything => inc = rebuild(&config, &model),
            }
            if let Some(diff) = difference(&config, &cluster, &mut inc) {
                panic!("seed {seed} step {step}, after {event}: {diff}");
            }
            // (PTR records are compared as answered: an edited address keeps the names past the
            // first four too, so that one going leaves the next to answer.)
        }
    }
    assert!(edits > 100, "only {edits} task edits: the sequences hardly test them");
    assert!(
        edited_polls > polls / 5,
        "only {edited_polls} of {polls} polls were edits, not full builds"
    );
}

/// The edited snapshot against a full build of the cluster's document: the first difference, if any.
fn difference(config: &Config, cluster: &Cluster, inc: &mut Incremental) -> Option<String> {
    let (got, _) = inc.publish();
    let want = full(config, cluster);
    let (g, w) = (capped(got.describe()), capped(want.describe()));
    if g != w {
        let diff = w
            .iter()
            .find(|(name, rrs)| g.get(*name) != Some(rrs))
            .map(|(name, rrs)| format!("{name}: edited {:?}, built {rrs:?}", g.get(name)))
            .or_else(|| {
                g.keys()
                    .find(|n| !w.contains_key(*n))
                    .map(|n| format!("{n} only edited"))
            });
        return Some(format!("{diff:?}"));
    }
    let (got, want) = ((got.name_count(), got.counts()), (want.name_count(), want.counts()));
    (got != want).then(|| format!("counts: edited {got:?}, built {want:?}"))
}

/// Poll mode (`refresh::cluster::Cluster::Polled`): no event reaches the model. Between two polls the
/// cluster changes by 0 to 4 random events (tasks starting, changing state, ending; agents and
/// frameworks coming and going), and each poll's document replaces the model as the refresher does:
/// its differences from the last ([`Model::changes_to`]) are edited (none: a publish of the same
/// records), anything more is a rebuild. After every poll the edited snapshot must be the full build.
#[test]
fn polls_edit_the_snapshot_as_a_full_rebuild_after_random_poll_sequences() {
    let (mut polls, mut edited, mut edited_tasks, mut quiet) = (0, 0, 0, 0);
    for seed in 1..=32u64 {
        let mut rng = Rng(seed);
        let config = config(seed % 2 == 0, seed % 3 == 0, seed % 4 < 2);
        let mut cluster = Cluster::initial(&mut rng);
        let mut model = Model::from_body(&cluster.state_doc()).unwrap();
        let mut inc = rebuild(&config, &model);
        for poll in 1..=40 {
            let events: Vec<String> = (0..rng.below(5))
                .map(|_| cluster.random_event(&mut rng).to_string())
                .collect();
            let polled = Model::from_body(&cluster.state_doc()).unwrap();
            polls += 1;
            match model.changes_to(&polled) {
                Changed::Nothing => {
                    inc.apply(&polled, &[]);
                    quiet += 1;
                }
                Changed::Tasks(keys) => {
                    inc.apply(&polled, &keys);
                    edited += 1;
                    edited_tasks += keys.len();
                }
                Changed::Everything => inc = rebuild(&config, &polled),
            }
            model = polled;
            if let Some(diff) = difference(&config, &cluster, &mut inc) {
                panic!("seed {seed} poll {poll}, after {events:?}: {diff}");
            }
        }
    }
    assert!(
        edited > polls / 4 && edited_tasks > edited,
        "only {edited} of {polls} polls were edits ({edited_tasks} tasks): the sequences hardly test them"
    );
    assert!(quiet > 10, "only {quiet} polls of an unchanged cluster");
}
