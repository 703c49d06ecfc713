//! The PostgreSQL log's promises, each shown by a test that could fail,
//! against a throwaway PostgreSQL server started once for this test
//! binary (one database per test; the server is `common/pg.rs`'s). When
//! PostgreSQL cannot start, every test fails with `CI=true` and is skipped
//! (with a message on stderr) otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use pacta_domain::event::Contact;
use pacta_domain::{Event, Payload, Recorded, StreamId, Timestamp};
use pacta_store::pg::PgLog;
use pacta_store::{Append, Appended, Error, Head, NewEvent, Store};

mod common;
#[path = "common/pg.rs"]
mod pg_server;

use common::{event_id, letter, stream};
use pg_server::database;

/// Runs SQL in the test's database as the table owner, behind the log's
/// back.
async fn sql(url: &str, statements: &str) -> Result<(), tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client.batch_execute(statements).await
}

// ---------------------------------------------------------------------
// Events.

fn append(s: StreamId, expected: Option<u64>, ids: &[u64]) -> Append {
    Append {
        stream: s,
        expected_version: expected,
        events: ids
            .iter()
            .map(|&id| NewEvent {
                event_id: event_id(id),
                event: letter(&format!("event {id}")),
                recorded_by: "test".into(),
            })
            .collect(),
    }
}

async fn all(log: &PgLog) -> Vec<Recorded> {
    log.read_from(0, usize::MAX).await.unwrap()
}

async fn verify_ok(log: &PgLog) {
    let report = log.verify(&mut |_, _| {}).await.unwrap();
    assert!(report.ok, "{report:?}");
}

fn positions(records: &[Recorded]) -> Vec<u64> {
    records.iter().map(|r| r.envelope.position).collect()
}

/// Waits until `rx` holds `head` (or fails after 10 s).
async fn see(rx: &mut tokio::sync::watch::Receiver<Head>, head: Head) {
    let seen = tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|h| *h == head))
        .await
        .map(|r| r.map(drop));
    assert!(
        matches!(seen, Ok(Ok(()))),
        "never saw {head:?}; last {:?}",
        *rx.borrow()
    );
}

/// Connects a log that writes, retrying while another writer is letting
/// go of the leadership.
async fn lead(url: &str) -> PgLog {
    let log = PgLog::connect(url).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match log.lead().await {
            Ok(_) => return log,
            Err(Error::NotLeader { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("cannot take the leadership: {e}"),
        }
    }
}

// ---------------------------------------------------------------------
// Tests.

/// The same appends with the same record time give the same records,
/// positions and hashes in sled and in PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_hash_exactly_as_the_sled_store() {
    let Some(url) = database("same_as_sled").await else {
        return;
    };
    let at = Timestamp::from_micros(1_700_000_000_123_456);
    let mut tricky = append(stream(3), Some(0), &[30]);
    tricky.events[0].event.note = Some("\"quoted\" č\n\u{1}\\ 😀".into());
    tricky.events[0].recorded_by = "clerk \"x\"".into();
    let groups: Vec<Vec<Append>> = vec![
        vec![
            append(stream(1), Some(0), &[1, 2, 3]),
            append(stream(2), None, &[4]),
        ],
        vec![
            Append {
                stream: stream(2),
                expected_version: Some(1),
                events: vec![NewEvent {
                    event_id: event_id(5),
                    event: Event::new(Payload::ContactEstablished(Contact::default())),
                    recorded_by: "seed".into(),
                }],
            },
            tricky,
            append(stream(1), Some(3), &[6]),
        ],
        vec![append(stream(4), None, &[7, 8])],
    ];

    let dir = tempfile::tempdir().unwrap();
    let sled_groups = groups.clone();
    let sled_dir = dir.path().to_path_buf();
    let (sled_answers, sled_records, sled_head) = tokio::task::spawn_blocking(move || {
        let store = Store::open(&sled_dir).unwrap();
        let answers: Vec<Vec<Appended>> = sled_groups
            .into_iter()
            .map(|g| {
                store
                    .append_many_at_blocking(g, Some(at))
                    .into_iter()
                    .map(Result::unwrap)
                    .collect()
            })
            .collect();
        let records: Vec<Recorded> = store.read_from(0).map(Result::unwrap).collect();
        (answers, records, store.head())
    })
    .await
    .unwrap();

    let log = PgLog::connect(&url).await.unwrap();
    let mut answers = Vec::new();
    for g in groups {
        let group: Vec<Appended> = log
            .append_at(g, Some(at))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        answers.push(group);
    }
    assert_eq!(answers, sled_answers);
    assert_eq!(log.head().await.unwrap(), sled_head);
    assert_eq!(sled_head.position, 9);
    let records = all(&log).await;
    assert_eq!(records, sled_records);
    assert_eq!(positions(&records), (1..=9).collect::<Vec<_>>());
    verify_ok(&log).await;

    // The reads answer as sled's do.
    assert_eq!(log.get(5).await.unwrap().as_ref(), Some(&sled_records[4]));
    assert_eq!(log.get(10).await.unwrap(), None);
    assert_eq!(log.get(0).await.unwrap(), None);
    assert_eq!(log.read_from(6, 10).await.unwrap(), sled_records[6..]);
    assert_eq!(log.read_from(2, 3).await.unwrap(), sled_records[2..5]);
    let s1 = log.stream(&stream(1)).await.unwrap();
    assert_eq!(
        s1.iter().map(|r| r.envelope.version).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(positions(&s1), [1, 2, 3, 7]);
    assert_eq!(log.stream_version(&stream(2)).await.unwrap(), 2);
    assert_eq!(log.stream_version(&stream(9)).await.unwrap(), 0);
    assert!(log.stream(&stream(9)).await.unwrap().is_empty());
    assert_eq!(log.position_of(event_id(6)).await.unwrap(), Some(7));
    assert_eq!(log.position_of(event_id(99)).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_expected_version_writes_nothing() {
    let Some(url) = database("stale_version").await else {
        return;
    };
    let log = PgLog::connect(&url).await.unwrap();
    log.append_one(append(stream(1), Some(0), &[1]))
        .await
        .unwrap();
    let head = log.head().await.unwrap();
    let err = log
        .append_one(append(stream(1), Some(0), &[2, 3]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(log.head().await.unwrap(), head);
    assert_eq!(log.position_of(event_id(2)).await.unwrap(), None);

    // In one group, the second request sees the first.
    let answers = log
        .append(vec![
            append(stream(2), Some(0), &[4]),
            append(stream(2), Some(0), &[5]),
            append(stream(2), Some(1), &[6]),
        ])
        .await;
    assert_eq!(answers[0].as_ref().unwrap().events[0].position, 2);
    assert!(
        matches!(
            &answers[1],
            Err(Error::Conflict {
                expected: 0,
                actual: 1,
                ..
            })
        ),
        "{answers:?}"
    );
    assert_eq!(answers[2].as_ref().unwrap().events[0].position, 3);
    assert_eq!(positions(&all(&log).await), [1, 2, 3]);
    assert_eq!(log.stream_version(&stream(2)).await.unwrap(), 2);
    verify_ok(&log).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_returns_the_originals() {
    let Some(url) = database("idempotent_retry").await else {
        return;
    };
    let log = PgLog::connect(&url).await.unwrap();
    let first = log
        .append_one(append(stream(1), Some(0), &[1, 2]))
        .await
        .unwrap();
    assert!(!first.duplicate);
    let head = log.head().await.unwrap();
    // Whatever the expected version says now.
    let again = log
        .append_one(append(stream(1), Some(0), &[1, 2]))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.events, first.events);
    assert_eq!(log.head().await.unwrap(), head);

    // A retry in the same group as the original.
    let answers = log
        .append(vec![
            append(stream(2), None, &[3]),
            append(stream(2), None, &[3]),
        ])
        .await;
    let (a, b) = (answers[0].as_ref().unwrap(), answers[1].as_ref().unwrap());
    assert!(!a.duplicate && b.duplicate);
    assert_eq!(a.events, b.events);

    // From another process's writer, after this one let go.
    let head = log.head().await.unwrap();
    log.close().await;
    let other = lead(&url).await;
    let again = other
        .append_one(append(stream(1), None, &[1, 2]))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.events, first.events);
    assert_eq!(other.head().await.unwrap(), head);
    verify_ok(&other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_id_with_another_event_is_refused() {
    let Some(url) = database("same_id_other_event").await else {
        return;
    };
    let log = PgLog::connect(&url).await.unwrap();
    log.append_one(append(stream(1), None, &[1])).await.unwrap();
    let head = log.head().await.unwrap();

    let mut other = append(stream(1), None, &[1]);
    other.events[0].event = letter("something else");
    let refusals = log
        .append(vec![
            other,
            append(stream(2), None, &[1]),
            append(stream(1), None, &[1, 2]),
        ])
        .await;
    for r in &refusals {
        assert!(
            matches!(r, Err(Error::DuplicateId { position: 1, .. })),
            "{r:?}"
        );
    }
    assert_eq!(log.head().await.unwrap(), head);
    assert_eq!(log.position_of(event_id(2)).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_appends_are_refused_alone() {
    let Some(url) = database("malformed").await else {
        return;
    };
    let log = PgLog::connect(&url).await.unwrap();
    let mut huge = append(stream(1), None, &[1]);
    huge.events[0].event.note = Some("x".repeat(pacta_store::MAX_RECORD_BYTES));
    let answers = log
        .append(vec![
            huge,
            append(stream(1), None, &[]),
            append(stream(1), None, &[2, 2]),
            append(stream(1), Some(0), &[3]),
        ])
        .await;
    assert!(
        matches!(answers[0], Err(Error::TooLarge { .. })),
        "{answers:?}"
    );
    assert!(matches!(answers[1], Err(Error::Invalid(_))), "{answers:?}");
    assert!(matches!(answers[2], Err(Error::Invalid(_))), "{answers:?}");
    assert_eq!(answers[3].as_ref().unwrap().events[0].position, 1);
    assert_eq!(log.head().await.unwrap().position, 1);
}

/// 32 tasks × 50 appends: positions 1..=1600 without a gap, each stream's
/// versions in order, and a chain that verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_are_gap_free_and_chained() {
    let Some(url) = database("concurrent").await else {
        return;
    };
    const TASKS: u32 = 32;
    const EACH: u64 = 50;
    let log = PgLog::connect(&url).await.unwrap();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let log = log.clone();
            tokio::spawn(async move {
                let mut landed = Vec::new();
                for i in 0..EACH {
                    let id = u64::from(t) * 1000 + i;
                    let done = log
                        .append_one(append(stream(t), Some(i), &[id]))
                        .await
                        .unwrap();
                    assert_eq!(done.events[0].version, i + 1);
                    landed.push(done.events[0].position);
                }
                landed
            })
        })
        .collect();
    let mut landed = Vec::new();
    for t in tasks {
        landed.extend(t.await.unwrap());
    }
    landed.sort_unstable();
    let n = u64::from(TASKS) * EACH;
    assert_eq!(landed, (1..=n).collect::<Vec<_>>());
    assert_eq!(log.head().await.unwrap().position, n);
    assert_eq!(positions(&all(&log).await), (1..=n).collect::<Vec<_>>());
    for t in 0..TASKS {
        assert_eq!(log.stream_version(&stream(t)).await.unwrap(), EACH);
    }
    let report = log.verify(&mut |_, _| {}).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, n);
}

/// A second log on the database reads, but cannot write while the first
/// leads; once the first is gone it takes over, with no gap and no fork.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_writer_at_a_time() {
    let Some(url) = database("leadership").await else {
        return;
    };
    let first = PgLog::connect(&url).await.unwrap();
    first
        .append_one(append(stream(1), None, &[1, 2]))
        .await
        .unwrap();
    let second = PgLog::connect(&url).await.unwrap();
    assert_eq!(second.head().await.unwrap(), first.head().await.unwrap());
    assert_eq!(all(&second).await.len(), 2);

    let refused = second
        .append_one(append(stream(2), None, &[3]))
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::NotLeader { .. }), "{refused}");
    assert!(matches!(second.lead().await, Err(Error::NotLeader { .. })));
    assert!(
        matches!(second.import(vec![]).await, Err(Error::NotLeader { .. })),
        "an import is a write too"
    );
    // The first goes on writing meanwhile.
    first
        .append_one(append(stream(1), Some(2), &[4]))
        .await
        .unwrap();

    // Dropped: its writer lets go of the lock; the second takes over.
    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let landed = loop {
        match second.append_one(append(stream(2), Some(0), &[3])).await {
            Ok(done) => break done,
            Err(Error::NotLeader { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(landed.events[0].position, 4);
    assert_eq!(positions(&all(&second).await), [1, 2, 3, 4]);
    verify_ok(&second).await;

    // And a third now waits for the second.
    let third = PgLog::connect(&url).await.unwrap();
    assert!(matches!(
        third.append_one(append(stream(3), None, &[5])).await,
        Err(Error::NotLeader { .. })
    ));
    second.close().await;
    let third = {
        drop(third);
        lead(&url).await
    };
    let done = third
        .append_one(append(stream(3), None, &[5]))
        .await
        .unwrap();
    assert_eq!(done.events[0].position, 5);
    verify_ok(&third).await;
}

/// A writer whose head moved under it (a row written behind its back)
/// writes nothing, then starts again from the database's head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_head_fences_the_writer() {
    let Some(url) = database("fenced").await else {
        return;
    };
    let log = PgLog::connect(&url).await.unwrap();
    log.append_one(append(stream(1), None, &[1])).await.unwrap();
    // An epoch raised behind the writer's back, as a new leader would.
    sql(&url, "UPDATE head SET epoch = epoch + 1")
        .await
        .unwrap();
    let err = log
        .append_one(append(stream(1), None, &[2]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Storage { reason, .. } if reason.contains("moved under")),
        "{err}"
    );
    assert_eq!(log.head().await.unwrap().position, 1);
    assert_eq!(log.position_of(event_id(2)).await.unwrap(), None);
    // The next write takes the leadership again and goes on.
    let done = log.append_one(append(stream(1), None, &[2])).await.unwrap();
    assert_eq!(done.events[0].position, 2);
    verify_ok(&log).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_new_heads() {
    let Some(url) = database("subscribe").await else {
        return;
    };
    let writer = PgLog::connect(&url).await.unwrap();
    let reader = PgLog::connect(&url).await.unwrap();
    let mut own = writer.subscribe();
    let mut other = reader.subscribe();
    assert_eq!(*own.borrow(), Head::EMPTY);
    for i in 1..=3 {
        let done = writer
            .append_one(append(stream(1), None, &[i]))
            .await
            .unwrap();
        let head = Head {
            position: i,
            hash: done.events[0].hash,
        };
        see(&mut own, head).await;
        // Through LISTEN on the reader's own connection.
        see(&mut other, head).await;
    }
    // A log connected later starts at the head.
    let late = PgLog::connect(&url).await.unwrap();
    assert_eq!(*late.subscribe().borrow(), writer.head().await.unwrap());
}

/// `pacta export` from sled, imported into PostgreSQL: the same records
/// and the same head hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_from_sled_imports_with_the_same_head() {
    let Some(url) = database("import_from_sled").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (records, head) = tokio::task::spawn_blocking(move || {
        let store = Store::open(&path).unwrap();
        for n in 0..20u64 {
            store
                .append_many_blocking(vec![append(
                    stream((n % 3) as u32),
                    None,
                    &[n * 2, n * 2 + 1],
                )])
                .into_iter()
                .for_each(|r| drop(r.unwrap()));
        }
        let records: Vec<Recorded> = store.read_from(0).map(Result::unwrap).collect();
        (records, store.head())
    })
    .await
    .unwrap();
    assert_eq!(head.position, 40);

    let log = PgLog::connect(&url).await.unwrap();
    // An altered record is refused, and nothing is written.
    let mut altered = records.clone();
    altered[7].event.note = Some("altered".into());
    let err = log.import(altered).await.unwrap_err();
    assert!(matches!(err, Error::Import { position: 8, .. }), "{err}");
    assert_eq!(log.head().await.unwrap(), Head::EMPTY);

    assert_eq!(log.import(records.clone()).await.unwrap(), head);
    assert_eq!(log.head().await.unwrap(), head);
    assert_eq!(all(&log).await, records);
    verify_ok(&log).await;
    // Not twice.
    let err = log.import(records[..1].to_vec()).await.unwrap_err();
    assert!(matches!(err, Error::Import { position: 1, .. }), "{err}");
    // Appends go on from the imported head, at no earlier record time.
    let done = log
        .append_one(append(stream(0), Some(14), &[100]))
        .await
        .unwrap();
    assert_eq!(done.events[0].position, 41);
    assert!(done.events[0].recorded_at >= records[39].envelope.recorded_at);
    verify_ok(&log).await;
}

/// A record rewritten behind the log's back (the append-only trigger
/// disabled first, as an insider with the owner's rights could) is named
/// by `verify`; so are a deleted record and a row whose columns no longer
/// say what its bytes say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_records_altered_behind_its_back() {
    let Some(url) = database("tampered").await else {
        return;
    };
    let log = PgLog::connect(&url).await.unwrap();
    for i in 1..=10 {
        log.append_one(append(stream(1), None, &[i])).await.unwrap();
    }
    verify_ok(&log).await;

    // The log refuses updates and deletes as it is.
    let refused = sql(&url, "UPDATE log SET record = record WHERE position = 4").await;
    assert!(refused.is_err());
    assert!(
        sql(&url, "DELETE FROM log WHERE position = 4")
            .await
            .is_err()
    );
    assert!(sql(&url, "TRUNCATE log").await.is_err());

    sql(
        &url,
        "ALTER TABLE log DISABLE TRIGGER log_append_only;
         UPDATE log SET record = convert_to(replace(convert_from(record, 'UTF8'),
             'event 4', 'event X'), 'UTF8') WHERE position = 4;",
    )
    .await
    .unwrap();
    let report = log.verify(&mut |_, _| {}).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_position, Some(4), "{report:?}");
    assert_eq!(report.mismatched, [4]);
    assert_eq!(report.intact_to, 3);
    assert!(report.reason.unwrap().contains("altered"));

    sql(
        &url,
        "DELETE FROM log WHERE position = 7;
         UPDATE log SET stream = 'partnership/p2' WHERE position = 9;",
    )
    .await
    .unwrap();
    let report = log.verify(&mut |_, _| {}).await.unwrap();
    assert_eq!(report.first_bad_position, Some(4), "{report:?}");
    assert_eq!(report.unreadable, [(7, 7)]);
    assert_eq!(report.mismatched, [4, 9]);
    assert_eq!(report.checked, 9);

    // A writer that takes over checks the tail and refuses to write onto
    // damage.
    log.close().await;
    let log = PgLog::connect(&url).await.unwrap();
    let err = log
        .append_one(append(stream(1), None, &[11]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Damaged { position: 4, .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_once_however_many_connect() {
    let Some(url) = database("migrations").await else {
        return;
    };
    let connecting: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PgLog::connect(&url).await.map(drop) })
        })
        .collect();
    for c in connecting {
        c.await.unwrap().unwrap();
    }
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, [1, 2, 3]);

    // A schema newer than this build is refused.
    sql(&url, "INSERT INTO schema_migrations (version) VALUES (999)")
        .await
        .unwrap();
    let err = PgLog::connect(&url).await.err().unwrap();
    assert!(
        matches!(&err, Error::Open { reason, .. } if reason.contains("newer")),
        "{err}"
    );
}

// ---------------------------------------------------------------------
// Crash test: a child process appends in a loop and prints every
// acknowledged position; the parent kills it with SIGKILL and finds every
// acknowledged event exactly where it was acknowledged, no gap, and an
// intact chain, and a new writer goes on from there.

/// How many acknowledgements the parent waits for before killing.
const ACKS: usize = 400;

const CHILD_URL: &str = "PACTA_PG_CRASH_URL";

/// The child's side: a test that does nothing unless [`CHILD_URL`] is set.
#[test]
fn crash_child() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let log = PgLog::connect(&url).await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for w in 0..8u32 {
            let log = log.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0u64.. {
                    let id = u64::from(w) << 40 | i;
                    let done = log.append_one(append(stream(w), Some(i), &[id])).await;
                    let done = done.unwrap();
                    tx.send((id, done.events[0].position)).unwrap();
                }
            });
        }
        while let Some((id, pos)) = rx.recv().await {
            println!("ack {id} {pos}");
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_writer_loses_no_acknowledged_append() {
    let Some(url) = database("crash").await else {
        return;
    };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_URL, &url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let acked = tokio::task::spawn_blocking(move || {
        let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let Some(rest) = line.strip_prefix("ack ") else {
                continue;
            };
            let (id, pos) = rest.split_once(' ').unwrap();
            acked.insert(id.parse().unwrap(), pos.parse().unwrap());
            if acked.len() == ACKS {
                // SIGKILL: no destructor runs; transactions in flight die
                // with the connections.
                child.kill().unwrap();
                break;
            }
        }
        child.wait().unwrap();
        acked
    })
    .await
    .unwrap();
    assert_eq!(
        acked.len(),
        ACKS,
        "the child died before acknowledging enough"
    );

    let log = lead(&url).await;
    let records = all(&log).await;
    let head = log.head().await.unwrap();
    assert!(head.position >= ACKS as u64);
    assert_eq!(positions(&records), (1..=head.position).collect::<Vec<_>>());
    let mut seen = BTreeSet::new();
    for r in &records {
        assert!(
            seen.insert(r.envelope.event_id),
            "{:?} twice",
            r.envelope.event_id
        );
    }
    for (id, pos) in &acked {
        let record = &records[*pos as usize - 1];
        assert_eq!(record.envelope.event_id, event_id(*id), "at position {pos}");
    }
    verify_ok(&log).await;
    let done = log
        .append_one(append(stream(99), None, &[u64::MAX - 1]))
        .await
        .unwrap();
    assert_eq!(done.events[0].position, head.position + 1);
    verify_ok(&log).await;
}

/// On PostgreSQL too the Merkle tree follows the log (a builder in every
/// `PgStore`), and the full walk checks each record against its leaf: a
/// record rewritten together with its chain hash and the head, so that
/// the chain alone cannot tell, is named.
#[test]
fn verify_names_a_record_rewritten_under_its_leaf() {
    let Some(url) = pg_server::database_blocking("leaf_tamper") else {
        return;
    };
    let store = pacta_store::pg::PgStore::connect(&url).unwrap();
    for i in 1..=10 {
        store
            .append_blocking(append(stream(1), None, &[i]))
            .unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while store.tree_size().unwrap() < 10 {
        assert!(
            std::time::Instant::now() < deadline,
            "the tree does not follow"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The tree's root is the RFC 9162 root of the records' bytes.
    let mut stored = Vec::new();
    for p in 1..=10u64 {
        let leaf = pacta_tlog::leaf_hash(&store.leaf_bytes(p).unwrap().unwrap());
        stored.extend(pacta_tlog::stored_hashes_for_leaf_hash(p - 1, leaf, &stored).unwrap());
    }
    assert_eq!(
        store.tree_root(10).unwrap(),
        pacta_tlog::tree_hash(10, &stored).unwrap()
    );
    assert!(store.verify(&mut |_, _| {}).unwrap().ok);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(sql(
        &url,
        "ALTER TABLE log DISABLE TRIGGER log_append_only;
         UPDATE log SET record = convert_to(replace(convert_from(record, 'UTF8'),
             'event 10', 'event 1X'), 'UTF8') WHERE position = 10;
         UPDATE log SET hash = sha256(prev_hash || record) WHERE position = 10;
         UPDATE head SET hash = (SELECT hash FROM log WHERE position = 10);",
    ))
    .unwrap();
    drop(store);
    let store = pacta_store::pg::PgStore::connect(&url).unwrap();
    let report = store.verify(&mut |_, _| {}).unwrap();
    assert_eq!(report.first_bad_position, Some(10), "{report:?}");
    assert!(
        report.reason.as_deref().unwrap().contains("Merkle tree"),
        "{report:?}"
    );
}
