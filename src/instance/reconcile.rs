//! Instances whose end was never recorded (their supervisor was killed with them, or
//! could not write the end): found when their supervisor and their sandbox are both
//! gone, and recorded as lost, so that they are listed as ended, pruned like ended ones,
//! and leave no folder or cgroup behind.

use super::cgroup;
use super::record::{now, Phase, Record, Store};
use super::status::{State, Status};

/// Whether nothing is left to record the end of `record`: neither its supervisor nor
/// its sandbox's pid 1 lives.
pub fn is_lost(record: &Record) -> bool {
    !record.has_ended()
        && !record.supervisor.is_alive()
        && !record.init.is_some_and(|init| init.is_alive())
}

/// Records the instances a refresh listed as lost and not yet recorded so (no end time)
/// as lost, and updates their statuses: a refresh pays nothing for live instances.
pub fn settle_listed(store: &Store, statuses: &mut [Status]) {
    let found = statuses
        .iter_mut()
        .filter(|status| status.state == State::Lost && status.ended_at.is_none());
    for status in found {
        let Ok(mut record) = store.load(&status.id) else {
            continue;
        };
        settle(store, &mut record);
        if let Some(ended_at) = record.ended_at {
            status.ended_at = Some(ended_at);
            status.uptime_secs = ended_at.saturating_sub(record.started_at);
        }
    }
}

/// Records `record` as lost, ended now, when it is (in `record`, and in its state file
/// when that can be written), and removes its helpers' folder and its cgroup.
pub fn settle(store: &Store, record: &mut Record) {
    if !is_lost(record) {
        return;
    }
    // The supervisor may have written the end between the read and its exit: read again
    // now that it is gone, and nothing else writes the file.
    match store.load(&record.id) {
        Ok(fresh) if fresh.has_ended() => {
            *record = fresh;
            return;
        }
        Ok(fresh) if fresh != *record => return,
        Ok(_) => {}
        Err(_) => return,
    }
    record.phase = Phase::Lost;
    record.ended_at = Some(now());
    // Unwritable (a full folder): it is shown as lost all the same, and written by the
    // next look.
    let _ = store.save(record);
    let _ = std::fs::remove_dir_all(store.instance_dir(&record.id));
    // A scope's cgroup is its manager's to remove.
    if let Some(dir) = record.cgroup.as_ref().filter(|_| record.unit.is_none()) {
        cgroup::remove(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance::record::ProcRef;

    fn record(id: &str, supervisor: ProcRef, init: Option<ProcRef>) -> Record {
        crate::instance::record::test_record(id, Phase::Running, supervisor, init)
    }

    #[test]
    fn only_instances_with_no_supervisor_and_no_sandbox_are_declared_lost() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf());
        let me = ProcRef::of(std::process::id() as i32).unwrap();
        let gone = ProcRef {
            pid: me.pid,
            start: me.start + 7,
        };
        let mut records = vec![
            record("alive-1", me, Some(me)),
            record("orphan-1", gone, Some(me)),
            record("stopping-1", me, Some(gone)),
            record("lost-1", gone, Some(gone)),
            record("lost-2", gone, None),
        ];
        for record in &records {
            store.save(record).unwrap();
            std::fs::create_dir_all(store.instance_dir(&record.id)).unwrap();
        }
        for record in &mut records {
            settle(&store, record);
        }
        let phases: Vec<(&str, &Phase)> =
            records.iter().map(|r| (r.id.as_str(), &r.phase)).collect();
        assert_eq!(
            phases,
            [
                ("alive-1", &Phase::Running),
                ("orphan-1", &Phase::Running),
                ("stopping-1", &Phase::Running),
                ("lost-1", &Phase::Lost),
                ("lost-2", &Phase::Lost),
            ]
        );
        for record in &records {
            let on_disk = store.load(&record.id).unwrap();
            assert_eq!(&on_disk, record);
            let lost = record.phase == Phase::Lost;
            assert_eq!(record.ended_at.is_some(), lost, "{}", record.id);
            assert_eq!(
                store.instance_dir(&record.id).exists(),
                !lost,
                "{}",
                record.id
            );
        }
    }

    #[test]
    fn an_end_written_meanwhile_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf());
        let me = ProcRef::of(std::process::id() as i32).unwrap();
        let gone = ProcRef {
            pid: me.pid,
            start: me.start + 7,
        };
        let read = record("ended-1", gone, Some(gone));
        let mut ended = read.clone();
        ended.phase = Phase::Exited { code: 4 };
        ended.ended_at = Some(now());
        store.save(&ended).unwrap();
        let mut record = read;
        settle(&store, &mut record);
        assert_eq!(record, ended);
        assert_eq!(store.load("ended-1").unwrap(), ended);
    }
}
