//! The pure decision of one refresh step: given what the source says changed, whether the snapshot
//! being edited ([`super::incremental`]) can take the change as edits or the records are built again
//! from the whole state ([`plan`]). No I/O and no clock: unit-tested on its own.
//!
//! A change of many tasks is a rebuild too, for time: an edit costs about 30 us a changed task, a
//! rebuild 5 us a task. Memory favours edits: an edit holds at most a copy of each chunk it touches
//! beside the served snapshot, a rebuild holds the served snapshot, every task's records as a list and
//! the new snapshot at once. A 100k-task soak with a tenth of the tasks replaced at every poll (20k
//! changes, no journal): an edit's steps peaked at 104-108 MB, a rebuild's at 138 MB (quiet cluster:
//! 63 MB; VmHWM per step of `benches/soak.sh`), in about the same time. So edits go up to a quarter
//! of the tasks changed (an eighth replaced: an edit at most about 1.5x a rebuild's time).

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

/// Changed tasks (each started and each gone counts) past which a change is a rebuild: a quarter of
/// the tasks, and never fewer than this.
pub(crate) const EDIT_AT_LEAST: usize = 1024;

/// Whether `changed` tasks of a cluster of `tasks` are few enough to be edits.
fn few(changed: usize, tasks: usize) -> bool {
    changed <= EDIT_AT_LEAST.max(tasks / 4)
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
        // A tenth of the tasks replaced (each gone and each started counts): an edit.
        assert!(matches!(plan(keys(20_000), big), Plan::Edit(k) if k.len() == 20_000));
        assert!(matches!(plan(keys(25_000), big), Plan::Edit(_)));
        assert_eq!(plan(keys(25_001), big), Plan::Rebuild);
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
