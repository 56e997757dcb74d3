//! The pure decision of one refresh step: given what the source says changed, whether the snapshot
//! being edited ([`super::incremental`]) can take the change as edits or the records are built again
//! from the whole state ([`plan`]). No I/O and no clock: unit-tested on its own.
//!
//! A change of many tasks is a rebuild too: edits copy each chunk of the snapshot they touch while
//! the one before is served, and a tenth of the tasks touch nearly all of them, so such an edit holds
//! two whole snapshots (a 100k-task soak with a tenth replaced every poll: resident 2x the quiet
//! cluster's) and costs more than a rebuild (about 30 us a changed task against 5 us a task).

use super::model::Changed;

/// What a step does with the stream's model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Edit the snapshot being edited: take out and put back the records of these tasks (framework
    /// id, task id); none at all is a publish of the same records.
    Edit(Vec<(String, String)>),
    /// Build every record again from the model (and start a new snapshot to edit).
    Rebuild,
}

/// What the step knows besides the changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Editable {
    /// A snapshot is being edited (none before the first build, after a failed one, after a
    /// reload, and with static records, whose rules only a full build applies).
    pub(crate) editing: bool,
    /// The masters the records are to name are those the edited snapshot names (a poll that names
    /// other masters changes the `master*` records, which no task edit does).
    pub(crate) same_masters: bool,
    /// The tasks carried over from a failover are the same set as when the edited snapshot was built
    /// ([`super::carry`]): a change there moves whole agents' records.
    pub(crate) same_carried: bool,
    /// How many tasks the cluster runs (after the change).
    pub(crate) tasks: usize,
}

/// Changed tasks (each started and each gone counts) past which a change is a rebuild: a tenth of
/// the tasks, and never fewer than this.
pub(crate) const EDIT_AT_LEAST: usize = 1024;

/// Whether `changed` tasks of a cluster of `tasks` are few enough to be edits.
fn few(changed: usize, tasks: usize) -> bool {
    changed <= EDIT_AT_LEAST.max(tasks / 10)
}

/// Edits when only tasks changed (or nothing), not too many of them, and the edited snapshot still
/// fits; a rebuild for anything else.
pub(crate) fn plan(changes: Changed, now: Editable) -> Plan {
    if !(now.editing && now.same_masters && now.same_carried) {
        return Plan::Rebuild;
    }
    match changes {
        Changed::Nothing => Plan::Edit(Vec::new()),
        Changed::Tasks(tasks) if few(tasks.len(), now.tasks) => Plan::Edit(tasks),
        Changed::Tasks(_) => Plan::Rebuild,
        Changed::Everything => Plan::Rebuild,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FITS: Editable = Editable {
        editing: true,
        same_masters: true,
        same_carried: true,
        tasks: 100,
    };

    fn tasks(ids: &[&str]) -> Changed {
        Changed::Tasks(ids.iter().map(|id| ("f1".to_owned(), (*id).to_owned())).collect())
    }

    #[test]
    fn task_changes_are_edits_and_anything_else_a_rebuild() {
        assert_eq!(
            plan(tasks(&["a", "b"]), FITS),
            Plan::Edit(vec![("f1".into(), "a".into()), ("f1".into(), "b".into())])
        );
        assert_eq!(plan(Changed::Nothing, FITS), Plan::Edit(Vec::new()));
        assert_eq!(plan(Changed::Everything, FITS), Plan::Rebuild);
    }

    #[test]
    fn a_change_of_many_tasks_is_a_rebuild() {
        let keys = |n: usize| Changed::Tasks((0..n).map(|i| ("f1".to_owned(), i.to_string())).collect());
        let big = Editable { tasks: 100_000, ..FITS };
        assert!(matches!(plan(keys(10_000), big), Plan::Edit(k) if k.len() == 10_000));
        assert_eq!(plan(keys(10_001), big), Plan::Rebuild);
        // A small cluster edits up to the floor, whatever its share.
        assert!(matches!(plan(keys(EDIT_AT_LEAST), FITS), Plan::Edit(_)));
        assert_eq!(plan(keys(EDIT_AT_LEAST + 1), FITS), Plan::Rebuild);
    }

    #[test]
    fn without_a_fitting_edited_snapshot_everything_is_a_rebuild() {
        for unfit in [
            Editable { editing: false, ..FITS },
            Editable {
                same_masters: false,
                ..FITS
            },
            Editable {
                same_carried: false,
                ..FITS
            },
        ] {
            assert_eq!(plan(tasks(&["a"]), unfit), Plan::Rebuild, "{unfit:?}");
            assert_eq!(plan(Changed::Nothing, unfit), Plan::Rebuild, "{unfit:?}");
        }
    }
}
