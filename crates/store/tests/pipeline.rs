//! The write pipeline's promises: the log is the only truth, the indexes
//! are derived and may lag, a retry is found wherever its original is,
//! a storage failure stops writes, and a snapshot torn by a killed open
//! does not keep the store shut.

use pacta_domain::event::ActivityRecorded;
use pacta_domain::{ActivityKind, Event, Payload, StreamId};
mod common;

use common::{event_id, stream};
use pacta_store::{Append, Error, NewEvent, Store};

fn event(note: &str) -> Event {
    Event {
        payload: Payload::ActivityRecorded(ActivityRecorded {
            kind: ActivityKind::Visit,
            outcome: None,
            place: None,
            participants: vec![],
            areas: vec![],
        }),
        date: Some("2012-06".parse().unwrap()),
        source: None,
        note: Some(note.to_owned()),
    }
}

fn one(s: StreamId, id: u64, note: &str) -> Append {
    Append {
        stream: s,
        expected_version: None,
        events: vec![NewEvent {
            event_id: event_id(id),
            event: event(note),
            recorded_by: "test".into(),
        }],
    }
}

/// Waits until the index builder has emptied the tail.
fn settle(store: &Store) {
    for _ in 0..2_500 {
        if store.index_lag() == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    panic!(
        "the index never caught up: {} records in memory",
        store.index_lag()
    );
}

#[test]
fn a_retry_is_found_in_the_tail_in_the_index_and_in_its_own_group() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();

    // In the tail: the index builder is held back.
    store.pause_indexing_for_tests(true);
    let first = store.append_blocking(one(stream(1), 1, "a")).unwrap();
    assert!(store.index_lag() >= 1, "the record should wait in memory");
    assert!(store.index_checkpoint().unwrap() < first.events[0].position);
    let again = store.append_blocking(one(stream(1), 1, "a")).unwrap();
    assert!(again.duplicate);
    assert_eq!(again.events, first.events);
    assert_eq!(store.stream_version(&stream(1)).unwrap(), 1);
    assert_eq!(store.stream(&stream(1)).unwrap().len(), 1);
    assert_eq!(store.position_of(event_id(1)).unwrap(), Some(1));

    // In the index: let the builder go on (the next durable group wakes it).
    store.pause_indexing_for_tests(false);
    store.append_blocking(one(stream(2), 2, "b")).unwrap();
    settle(&store);
    assert_eq!(store.index_checkpoint().unwrap(), 2);
    let again = store.append_blocking(one(stream(1), 1, "a")).unwrap();
    assert!(again.duplicate);
    assert_eq!(again.events, first.events);

    // In the same group: queued together, decided in order.
    let answers = store.append_many_blocking(vec![
        one(stream(3), 3, "c"),
        one(stream(3), 3, "c"),
        one(stream(3), 4, "d"),
    ]);
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    assert!(!answers[0].duplicate);
    assert!(answers[1].duplicate);
    assert_eq!(answers[1].events, answers[0].events);
    assert_eq!(answers[2].events[0].version, 2);
    assert_eq!(store.head().position, 4);
}

#[test]
fn a_retry_with_another_event_is_refused_not_taken_for_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.append_blocking(one(stream(1), 1, "a visit")).unwrap();
    let head = store.head();
    let err = store
        .append_blocking(one(stream(1), 1, "another visit"))
        .unwrap_err();
    assert!(
        matches!(err, Error::DuplicateId { ref detail, .. } if detail.contains("differs")),
        "{err}"
    );
    let err = store
        .append_blocking(one(stream(2), 1, "a visit"))
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateId { .. }), "{err}");
    assert_eq!(store.head(), head);
}

#[test]
fn records_the_index_had_not_reached_at_a_crash_are_indexed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let head = {
        let store = Store::open(dir.path()).unwrap();
        store.append_blocking(one(stream(1), 1, "a")).unwrap();
        settle(&store);
        store.pause_indexing_for_tests(true);
        store.append_blocking(one(stream(1), 2, "b")).unwrap();
        store.append_blocking(one(stream(2), 3, "c")).unwrap();
        assert_eq!(store.index_checkpoint().unwrap(), 1);
        store.head()
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head(), head);
    assert_eq!(store.index_checkpoint().unwrap(), 3);
    assert_eq!(store.stream_version(&stream(1)).unwrap(), 2);
    assert!(
        store
            .append_blocking(one(stream(1), 2, "b"))
            .unwrap()
            .duplicate
    );
    let next = store
        .append_blocking(Append {
            expected_version: Some(2),
            ..one(stream(1), 4, "d")
        })
        .unwrap();
    assert_eq!(next.events[0].version, 3);
}

#[test]
fn damaged_indexes_are_rebuilt_from_the_log_with_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for i in 0..40u64 {
        store
            .append_blocking(one(stream((i % 5) as u32), i, &format!("n{i}")))
            .unwrap();
    }
    settle(&store);
    let answers = |store: &Store| {
        let streams: Vec<_> = (0..5)
            .map(|s| {
                let records = store.stream(&stream(s)).unwrap();
                records
                    .iter()
                    .map(|r| (r.envelope.version, r.envelope.position, r.hash))
                    .collect::<Vec<_>>()
            })
            .collect();
        let ids: Vec<_> = (0..40)
            .map(|i| store.position_of(event_id(i)).unwrap())
            .collect();
        (streams, ids)
    };
    let before = answers(&store);
    store.damage_indexes_for_tests().unwrap();
    let damaged = (0..40).map(|i| store.position_of(event_id(i)).unwrap());
    assert!(damaged.into_iter().all(|p| p.is_none()), "the damage took");
    assert!(store.stream(&stream(0)).is_err() || answers(&store) != before);

    assert_eq!(store.rebuild_indexes(&mut |_, _| {}).unwrap(), 40);
    assert_eq!(answers(&store), before);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(answers(&store), before);
}

#[test]
fn a_record_too_large_for_the_log_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let big = "x".repeat(pacta_store::MAX_RECORD_BYTES);
    let err = store.append_blocking(one(stream(1), 1, &big)).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert_eq!(store.head().position, 0);
    store.append_blocking(one(stream(1), 1, "small")).unwrap();
}

#[test]
fn a_failed_sync_stops_writes_until_the_store_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.append_blocking(one(stream(1), 1, "a")).unwrap();
        assert!(store.health().is_ok());
        store.fail_next_sync_for_tests();
        let err = store.append_blocking(one(stream(1), 2, "b")).unwrap_err();
        assert!(matches!(err, Error::Stopped { .. }), "{err}");
        // Not acknowledged, so not visible.
        assert_eq!(store.head().position, 1);
        assert!(store.position_of(event_id(2)).unwrap().is_none());
        let health = store.health().unwrap_err();
        assert!(health.to_string().contains("I/O error"), "{health}");
        // Every later write is refused too, even with a healthy disk.
        let err = store.append_blocking(one(stream(3), 3, "c")).unwrap_err();
        assert!(matches!(err, Error::Stopped { .. }), "{err}");
    }
    // A restart recovers: the acknowledged record is there, the chain holds.
    let store = Store::open(dir.path()).unwrap();
    assert!(store.health().is_ok());
    assert!(store.position_of(event_id(1)).unwrap().is_some());
    let report = store.verify(&mut |_, _| {}).unwrap();
    assert!(report.ok, "{report:?}");
    store.append_blocking(one(stream(3), 3, "c")).unwrap();
}

/// sled 0.34 writes a snapshot while opening, as `snap.N.generating`
/// renamed to `snap.N` when done; a process killed in between leaves the
/// torn file, which sled then reads as its newest snapshot.
#[test]
fn a_snapshot_torn_by_a_killed_open_does_not_keep_the_store_shut() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.append_blocking(one(stream(1), 1, "a")).unwrap();
    }
    let torn = dir
        .path()
        .join("log")
        .join("snap.7FFFFFFFFFFFFFFF.generating");
    std::fs::write(&torn, b"half a snapshot").unwrap();

    // sled alone refuses to open the directory, and opens it without the
    // torn file.
    let copy = |with_torn: bool| {
        let copy = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(dir.path().join("log")).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() && (with_torn || entry.path() != torn) {
                std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
            }
        }
        copy
    };
    let with = copy(true);
    let raw = sled::Config::new().path(with.path()).open();
    assert!(raw.is_err(), "sled 0.34 opened past a torn snapshot");
    let without = copy(false);
    sled::Config::new().path(without.path()).open().unwrap();

    // The store removes the torn file and opens with everything.
    let store = Store::open(dir.path()).unwrap();
    assert!(!torn.exists());
    assert_eq!(store.head().position, 1);
    assert!(store.verify(&mut |_, _| {}).unwrap().ok);
}

/// Records written since opening come from memory, the older ones from
/// the log; across that boundary `read_from` answers what a freshly
/// opened store (all from the log) answers.
#[test]
fn reading_from_memory_and_from_the_log_agree() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let total = (pacta_store::RECENT as u64 + 1_500) / 500 * 500;
    for b in 0..total / 500 {
        store
            .append_blocking(Append {
                stream: stream((b % 3) as u32),
                expected_version: None,
                events: (0..500)
                    .map(|i| NewEvent {
                        event_id: event_id(b * 500 + i),
                        event: event(&format!("n{}", b * 500 + i)),
                        recorded_by: "test".into(),
                    })
                    .collect(),
            })
            .unwrap();
    }
    let live: Vec<_> = [0, 1, 1_499, 1_500, 1_501, total - 1, total]
        .iter()
        .map(|&after| {
            store
                .read_from(after)
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        })
        .collect();
    drop(store);
    let reopened = Store::open(dir.path()).unwrap();
    for (i, &after) in [0, 1, 1_499, 1_500, 1_501, total - 1, total]
        .iter()
        .enumerate()
    {
        let stored: Vec<_> = reopened.read_from(after).map(Result::unwrap).collect();
        assert_eq!(live[i].len() as u64, total - after);
        assert_eq!(live[i], stored, "reading after {after}");
    }
}

/// The data directory holds the whole registry's history and its tokens'
/// hashes: only its owner may enter it or read its files.
#[test]
fn the_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    {
        let store = Store::open(&data).unwrap();
        store.append_blocking(one(stream(1), 1, "a")).unwrap();
    }
    // An existing directory made open to others is narrowed again.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = Store::open(&data).unwrap();
    // The databases beside the log open on first use.
    store.keyspace("parties").unwrap();
    store.tokens_keyspace().unwrap();
    assert_eq!(mode(&data), 0o700);
    for sub in ["log", "views", "tokens"] {
        let sub = data.join(sub);
        assert_eq!(mode(&sub), 0o700, "{}", sub.display());
        let db = sub.join("db");
        assert_eq!(mode(&db), 0o600, "{}", db.display());
    }
}

/// A directory that holds other things is not narrowed: only the
/// store's own directories in it are.
#[test]
fn a_shared_directory_given_as_data_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "someone else's").unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let _store = Store::open(dir.path()).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir.path()), 0o755);
    assert_eq!(mode(&dir.path().join("log")), 0o700);
}
