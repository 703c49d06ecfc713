//! The log's contract, one suite run against both backends: the sled
//! [`Store`] (in a temporary directory) and the PostgreSQL [`PgStore`] (a
//! database of its own per test, on the throwaway server of
//! `common/pg.rs`). Each test is written once, generic over [`Backend`],
//! and instantiated in `on_sled` and `on_pg`; `across` moves exports
//! between the two.
//!
//! When PostgreSQL cannot start here, the `on_pg` and `across` tests fail
//! with `CI=true` and are skipped (with a message on stderr) otherwise;
//! the `on_sled` tests always run.

use std::future::Future;

use pacta_domain::event::Contact;
use pacta_domain::{Event, EventType, Payload, Recorded, StreamId};
use pacta_store::kv::{Checkpoint, Keyspace, WriteSet};
use pacta_store::pg::PgStore;
use pacta_store::{Append, Appended, DigestCheck, Error, Head, NewEvent, Store, VerifyReport};
use tokio::sync::watch;

mod common;
#[path = "common/pg.rs"]
mod pg_server;

use common::{event_id, letter, stream};

// ---------------------------------------------------------------------
// The backends.

/// A store for one test, and what must outlive it (dropped after it).
struct Fixture<B> {
    store: B,
    _dir: Option<tempfile::TempDir>,
}

/// What `read_from` yields.
type Records = Box<dyn Iterator<Item = Result<Recorded, Error>>>;

/// What `read_from_if` yields.
type Filtered = Box<dyn Iterator<Item = Result<(u64, Option<Recorded>), Error>>>;

/// The log API both backends offer, with `Store`'s signatures.
trait Backend: Clone + Send + Sync + 'static {
    /// Whether `append_blocking` may be called on a runtime's worker
    /// thread (not only from plain threads and `spawn_blocking`).
    const BLOCKING_WRITES_ON_A_WORKER: bool;

    /// A fresh, empty store for the test `test`; `None` to skip it.
    fn fresh(test: &str) -> Option<Fixture<Self>>;

    fn head(&self) -> Head;
    fn subscribe(&self) -> watch::Receiver<Head>;
    fn health(&self) -> Result<(), Error>;
    fn append(&self, append: Append) -> impl Future<Output = Result<Appended, Error>> + Send;
    fn append_blocking(&self, append: Append) -> Result<Appended, Error>;
    fn append_many_blocking(&self, appends: Vec<Append>) -> Vec<Result<Appended, Error>>;
    fn import_blocking(&self, records: Vec<Recorded>) -> Result<Head, Error>;
    fn get(&self, position: u64) -> Result<Option<Recorded>, Error>;
    fn read_from(&self, after: u64) -> Records;
    fn read_from_if(&self, after: u64, wanted: Box<dyn Fn(EventType) -> bool>) -> Filtered;
    fn stream(&self, stream: &StreamId) -> Result<Vec<Recorded>, Error>;
    fn stream_version(&self, stream: &StreamId) -> Result<u64, Error>;
    fn position_of(&self, event_id: pacta_domain::EventId) -> Result<Option<u64>, Error>;
    fn verify(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport, Error>;
    fn verify_digest(
        &self,
        digest: Head,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<DigestCheck, Error>;
    /// The keyspace of state that is not derived from the log (the tokens).
    fn tokens(&self) -> Keyspace;
}

/// The trait's methods, each calling the backend's own method of the same
/// name (so this suite also checks that the two signatures agree).
macro_rules! forward {
    ($t:ty) => {
        fn head(&self) -> Head {
            <$t>::head(self)
        }
        fn subscribe(&self) -> watch::Receiver<Head> {
            <$t>::subscribe(self)
        }
        fn health(&self) -> Result<(), Error> {
            <$t>::health(self)
        }
        fn append(&self, append: Append) -> impl Future<Output = Result<Appended, Error>> + Send {
            <$t>::append(self, append)
        }
        fn append_blocking(&self, append: Append) -> Result<Appended, Error> {
            <$t>::append_blocking(self, append)
        }
        fn append_many_blocking(&self, appends: Vec<Append>) -> Vec<Result<Appended, Error>> {
            <$t>::append_many_blocking(self, appends)
        }
        fn import_blocking(&self, records: Vec<Recorded>) -> Result<Head, Error> {
            <$t>::import_blocking(self, records)
        }
        fn get(&self, position: u64) -> Result<Option<Recorded>, Error> {
            <$t>::get(self, position)
        }
        fn read_from(&self, after: u64) -> Records {
            Box::new(<$t>::read_from(self, after))
        }
        fn read_from_if(&self, after: u64, wanted: Box<dyn Fn(EventType) -> bool>) -> Filtered {
            Box::new(<$t>::read_from_if(self, after, wanted))
        }
        fn stream(&self, stream: &StreamId) -> Result<Vec<Recorded>, Error> {
            <$t>::stream(self, stream)
        }
        fn stream_version(&self, stream: &StreamId) -> Result<u64, Error> {
            <$t>::stream_version(self, stream)
        }
        fn position_of(&self, event_id: pacta_domain::EventId) -> Result<Option<u64>, Error> {
            <$t>::position_of(self, event_id)
        }
        fn verify(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport, Error> {
            <$t>::verify(self, progress)
        }
        fn verify_digest(
            &self,
            digest: Head,
            progress: &mut dyn FnMut(u64, u64),
        ) -> Result<DigestCheck, Error> {
            <$t>::verify_digest(self, digest, progress)
        }
    };
}

impl Backend for Store {
    // `Store::append_blocking` waits on a Tokio oneshot's
    // `blocking_recv`, which panics on a runtime's worker thread.
    const BLOCKING_WRITES_ON_A_WORKER: bool = false;

    fn fresh(_test: &str) -> Option<Fixture<Store>> {
        let dir = tempfile::tempdir().unwrap();
        Some(Fixture {
            store: Store::open(dir.path()).unwrap(),
            _dir: Some(dir),
        })
    }

    fn tokens(&self) -> Keyspace {
        self.tokens_keyspace().unwrap()
    }

    forward!(Store);
}

impl Backend for PgStore {
    const BLOCKING_WRITES_ON_A_WORKER: bool = true;

    fn fresh(test: &str) -> Option<Fixture<PgStore>> {
        let url = pg_server::database_blocking(&format!("c_{test}"))?;
        Some(Fixture {
            store: PgStore::connect(&url).unwrap(),
            _dir: None,
        })
    }

    fn tokens(&self) -> Keyspace {
        self.keyspace("tokens")
    }

    forward!(PgStore);
}

// ---------------------------------------------------------------------
// Events.

fn contact(note: &str) -> Event {
    let mut e = Event::new(Payload::ContactEstablished(Contact::default()));
    e.note = Some(note.to_owned());
    e
}

/// Events `ids` for stream `s`: an activity for an even id, a contact for
/// an odd one.
fn append(s: StreamId, expected: Option<u64>, ids: &[u64]) -> Append {
    Append {
        stream: s,
        expected_version: expected,
        events: ids
            .iter()
            .map(|&id| NewEvent {
                event_id: event_id(id),
                event: if id % 2 == 0 {
                    letter(&format!("event {id}"))
                } else {
                    contact(&format!("event {id}"))
                },
                recorded_by: "test".into(),
            })
            .collect(),
    }
}

fn all<B: Backend>(s: &B) -> Vec<Recorded> {
    s.read_from(0).collect::<Result<_, _>>().unwrap()
}

fn positions(records: &[Recorded]) -> Vec<u64> {
    records.iter().map(|r| r.envelope.position).collect()
}

fn landed_positions(a: &Appended) -> Vec<u64> {
    a.events.iter().map(|e| e.position).collect()
}

fn verify_ok<B: Backend>(s: &B) -> VerifyReport {
    let report = s.verify(&mut |_, _| {}).unwrap();
    assert!(report.ok, "{report:?}");
    report
}

/// Each record links to the one before, from the zero hash.
fn assert_linked(records: &[Recorded]) {
    let mut prev = pacta_domain::Digest::ZERO;
    for r in records {
        assert_eq!(r.prev_hash, prev, "at position {}", r.envelope.position);
        prev = r.hash;
    }
}

/// Streams 0..4 with `n` events in appends of one to three events.
fn populate<B: Backend>(s: &B, n: u64) -> Vec<Appended> {
    let mut out = Vec::new();
    let mut id = 0;
    let mut versions = [0u64; 4];
    while id < n {
        let k = (id % 3 + 1).min(n - id);
        let which = (id % 4) as usize;
        let ids: Vec<u64> = (id..id + k).collect();
        let done = s
            .append_blocking(append(stream(which as u32), Some(versions[which]), &ids))
            .unwrap();
        versions[which] += k;
        id += k;
        out.push(done);
    }
    out
}

// ---------------------------------------------------------------------
// The contract.

/// Positions start at 1 and go up by one per event, across appends, the
/// requests of `append_many_blocking`, and streams.
fn positions_are_gap_free_from_one<B: Backend>(s: &B) {
    assert_eq!(s.head(), Head::EMPTY);
    assert!(s.read_from(0).next().is_none());
    s.health().unwrap();
    let a = s.append_blocking(append(stream(1), Some(0), &[1])).unwrap();
    assert_eq!(landed_positions(&a), [1]);
    assert!(!a.duplicate);
    let b = s
        .append_blocking(append(stream(1), Some(1), &[2, 3, 4]))
        .unwrap();
    assert_eq!(landed_positions(&b), [2, 3, 4]);
    assert_eq!(
        b.events.iter().map(|e| e.version).collect::<Vec<_>>(),
        [2, 3, 4]
    );
    let many: Vec<Appended> = s
        .append_many_blocking(vec![
            append(stream(2), None, &[5]),
            append(stream(3), Some(0), &[6, 7]),
            append(stream(2), Some(1), &[8]),
        ])
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(landed_positions(&many[0]), [5]);
    assert_eq!(landed_positions(&many[1]), [6, 7]);
    assert_eq!(landed_positions(&many[2]), [8]);
    assert_eq!(many[2].events[0].version, 2);
    let last = many[2].events[0];
    assert_eq!(
        s.head(),
        Head {
            position: 8,
            hash: last.hash
        }
    );
    let records = all(s);
    assert_eq!(positions(&records), (1..=8).collect::<Vec<_>>());
    assert_linked(&records);
    let landed: Vec<_> = [&a, &b]
        .into_iter()
        .chain(&many)
        .flat_map(|x| x.events.clone())
        .collect();
    for (r, l) in records.iter().zip(&landed) {
        assert_eq!(r.hash, l.hash);
        assert_eq!(r.envelope.event_id, l.event_id);
        assert_eq!(r.envelope.version, l.version);
        assert_eq!(r.envelope.recorded_at, l.recorded_at);
    }
    s.health().unwrap();
}

/// `verify` finds the chain intact after appends, reports its progress,
/// and `verify_digest` tells a digest the log extends from one it does
/// not.
fn verify_is_clean_after_appends<B: Backend>(s: &B) {
    let empty = verify_ok(s);
    assert_eq!((empty.head_position, empty.checked), (0, 0));
    populate(s, 12);
    let early = s.head();
    populate_more(s);
    let head = s.head();
    let n = head.position;
    let mut calls = Vec::new();
    let report = s
        .verify(&mut |done, total| calls.push((done, total)))
        .unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.head_position, n);
    assert_eq!(report.head_hash, head.hash);
    assert_eq!(report.checked, n);
    assert_eq!(report.intact_to, n);
    assert_eq!(report.last_readable_position, n);
    assert_eq!(report.first_bad_position, None);
    assert!(report.unreadable.is_empty() && report.mismatched.is_empty());
    assert_eq!(calls.first(), Some(&(0, n)));
    assert_eq!(calls.last(), Some(&(n, n)));

    for digest in [early, head, Head::EMPTY] {
        let check = s.verify_digest(digest, &mut |_, _| {}).unwrap();
        assert!(check.ok, "{check:?}");
        assert_eq!(check.stored_hash, Some(digest.hash));
        assert_eq!(check.chain, report);
    }
    let rewritten = Head {
        position: early.position,
        hash: pacta_domain::Digest([7; 32]),
    };
    let check = s.verify_digest(rewritten, &mut |_, _| {}).unwrap();
    assert!(!check.ok);
    assert_eq!(check.stored_hash, Some(early.hash));
    assert!(check.reason.unwrap().contains("rewritten"));
    let beyond = Head {
        position: n + 5,
        hash: head.hash,
    };
    let check = s.verify_digest(beyond, &mut |_, _| {}).unwrap();
    assert!(!check.ok);
    assert_eq!(check.stored_hash, None);
    assert!(check.reason.unwrap().contains("no record"));
}

/// More appends, in streams 10.. (after `populate`).
fn populate_more<B: Backend>(s: &B) {
    for i in 0..5u64 {
        s.append_blocking(append(
            stream(10 + i as u32),
            Some(0),
            &[100 + i * 2, 101 + i * 2],
        ))
        .unwrap();
    }
}

/// An append with a stale expected version is refused and writes
/// nothing, alone or among others.
fn a_stale_expected_version_writes_nothing<B: Backend>(s: &B) {
    s.append_blocking(append(stream(1), Some(0), &[1, 2]))
        .unwrap();
    let head = s.head();
    let err = s
        .append_blocking(append(stream(1), Some(1), &[3]))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict { stream: st, expected: 1, actual: 2 } if *st == stream(1)),
        "{err}"
    );
    let err = s
        .append_blocking(append(stream(2), Some(3), &[4]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                expected: 3,
                actual: 0,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(s.head(), head);
    assert_eq!(s.position_of(event_id(3)).unwrap(), None);
    assert_eq!(s.position_of(event_id(4)).unwrap(), None);
    assert_eq!(s.stream_version(&stream(1)).unwrap(), 2);
    assert_eq!(s.stream_version(&stream(2)).unwrap(), 0);

    let answers = s.append_many_blocking(vec![
        append(stream(3), Some(0), &[5]),
        append(stream(1), Some(0), &[6]),
        append(stream(3), Some(1), &[7]),
    ]);
    assert_eq!(landed_positions(answers[0].as_ref().unwrap()), [3]);
    assert!(matches!(answers[1], Err(Error::Conflict { .. })));
    assert_eq!(landed_positions(answers[2].as_ref().unwrap()), [4]);
    assert_eq!(s.position_of(event_id(6)).unwrap(), None);
    assert_eq!(positions(&all(s)), [1, 2, 3, 4]);
    verify_ok(s);
}

/// A retry of an append that was stored is answered with the original
/// positions, `duplicate: true`, and writes nothing, even with an
/// expected version the stream has moved past.
fn a_retry_returns_the_originals<B: Backend>(s: &B) {
    let request = append(stream(1), Some(0), &[1, 2]);
    let first = s.append_blocking(request.clone()).unwrap();
    assert!(!first.duplicate);
    s.append_blocking(append(stream(1), Some(2), &[3])).unwrap();
    let head = s.head();
    let again = s.append_blocking(request.clone()).unwrap();
    assert!(again.duplicate);
    assert_eq!(again.events, first.events);
    let answers = s.append_many_blocking(vec![request.clone()]);
    let again = answers.into_iter().next().unwrap().unwrap();
    assert!(again.duplicate);
    assert_eq!(again.events, first.events);
    assert_eq!(s.head(), head);
    assert_eq!(positions(&all(s)), [1, 2, 3]);
}

/// The same event id with another event, in another stream, or beside
/// new ids is refused; so is a malformed append. Nothing is written.
fn the_same_id_with_another_event_is_refused<B: Backend>(s: &B) {
    s.append_blocking(append(stream(1), None, &[1])).unwrap();
    let head = s.head();
    let mut other = append(stream(1), None, &[1]);
    other.events[0].event = contact("another event");
    let err = s.append_blocking(other).unwrap_err();
    assert!(
        matches!(err, Error::DuplicateId { event_id: id, position: 1, .. } if id == event_id(1)),
        "{err}"
    );
    let err = s
        .append_blocking(append(stream(2), None, &[1]))
        .unwrap_err();
    assert!(
        matches!(err, Error::DuplicateId { position: 1, .. }),
        "{err}"
    );
    let err = s
        .append_blocking(append(stream(1), None, &[1, 2]))
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateId { .. }), "{err}");
    let err = s
        .append_blocking(append(stream(1), None, &[5, 5]))
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    let err = s.append_blocking(append(stream(1), None, &[])).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert_eq!(s.head(), head);
    assert_eq!(s.position_of(event_id(2)).unwrap(), None);
    assert_eq!(s.position_of(event_id(5)).unwrap(), None);
}

/// `stream`, `stream_version`, `position_of` and `get` say what was
/// appended.
fn the_reads_agree_with_the_appends<B: Backend>(s: &B) {
    let appended = populate(s, 30);
    let records = all(s);
    assert_eq!(records.len(), 30);
    for done in &appended {
        for l in &done.events {
            let r = s.get(l.position).unwrap().unwrap();
            assert_eq!(r, records[l.position as usize - 1]);
            assert_eq!(r.envelope.event_id, l.event_id);
            assert_eq!(r.envelope.version, l.version);
            assert_eq!(r.hash, l.hash);
            assert_eq!(s.position_of(l.event_id).unwrap(), Some(l.position));
        }
    }
    for n in 0..4 {
        let expected: Vec<Recorded> = records
            .iter()
            .filter(|r| r.envelope.stream == stream(n))
            .cloned()
            .collect();
        assert!(!expected.is_empty());
        let got = s.stream(&stream(n)).unwrap();
        assert_eq!(got, expected);
        assert_eq!(
            got.iter().map(|r| r.envelope.version).collect::<Vec<_>>(),
            (1..=expected.len() as u64).collect::<Vec<_>>()
        );
        assert_eq!(s.stream_version(&stream(n)).unwrap(), expected.len() as u64);
    }
    assert!(s.stream(&stream(99)).unwrap().is_empty());
    assert_eq!(s.stream_version(&stream(99)).unwrap(), 0);
    assert_eq!(s.position_of(event_id(999)).unwrap(), None);
    assert_eq!(s.get(0).unwrap(), None);
    assert_eq!(s.get(31).unwrap(), None);
    assert_eq!(s.get(u64::MAX).unwrap(), None);
}

/// `read_from` and `read_from_if` from several positions (across the
/// PostgreSQL store's pages of 1000), each ending at the head of the time
/// of the call.
fn read_from_any_position<B: Backend>(s: &B) {
    const N: u64 = 2_500;
    for chunk in 0..N / 500 {
        let appends = (0..5)
            .map(|i| {
                let first = chunk * 500 + i * 100;
                let ids: Vec<u64> = (first..first + 100).collect();
                append(stream((chunk * 5 + i) as u32), Some(0), &ids)
            })
            .collect();
        for answer in s.append_many_blocking(appends) {
            answer.unwrap();
        }
    }
    let records = all(s);
    assert_eq!(positions(&records), (1..=N).collect::<Vec<_>>());
    assert_linked(&records);
    for after in [0, 1, 2, 998, 999, 1000, 1001, 1999, 2000, N - 1, N, N + 10] {
        let tail: Vec<Recorded> = s.read_from(after).map(Result::unwrap).collect();
        let start = (after as usize).min(records.len());
        assert_eq!(tail, records[start..], "read_from({after})");

        let contacts: Vec<(u64, Option<Recorded>)> = s
            .read_from_if(after, Box::new(|t| t == EventType::ContactEstablished))
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            contacts.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            positions(&records[start..]),
            "read_from_if({after})"
        );
        for (p, r) in &contacts {
            let full = &records[*p as usize - 1];
            let is_contact = full.event.event_type() == EventType::ContactEstablished;
            assert_eq!(r.as_ref(), is_contact.then_some(full), "at {p}");
        }
        let everything: Vec<Recorded> = s
            .read_from_if(after, Box::new(|_| true))
            .map(|r| r.unwrap().1.unwrap())
            .collect();
        assert_eq!(everything, records[start..]);
        assert!(
            s.read_from_if(after, Box::new(|_| false))
                .all(|r| r.unwrap().1.is_none())
        );
    }
    // The head at the time of the call bounds a read, however much is
    // appended before it is consumed.
    let reading = s.read_from(N - 5);
    let reading_if = s.read_from_if(N - 1005, Box::new(|_| true));
    s.append_blocking(append(stream(999), None, &[1_000_000, 1_000_001]))
        .unwrap();
    assert_eq!(reading.map(Result::unwrap).count(), 5);
    assert_eq!(reading_if.map(Result::unwrap).count(), 1005);
    assert_eq!(s.read_from(N - 5).count(), 7);
}

/// A subscriber sees each new head as soon as the append is answered.
fn subscribers_see_the_new_head<B: Backend>(s: &B) {
    let mut rx = s.subscribe();
    assert_eq!(*rx.borrow_and_update(), Head::EMPTY);
    for i in 0..5 {
        let done = s.append_blocking(append(stream(1), Some(i), &[i])).unwrap();
        let head = Head {
            position: i + 1,
            hash: done.events[0].hash,
        };
        assert_eq!(s.head(), head);
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), head);
        assert_eq!(*s.subscribe().borrow(), head);
    }
    // Nothing written, no new head.
    s.append_blocking(append(stream(1), None, &[4])).unwrap();
    assert!(!rx.has_changed().unwrap());
}

/// How many concurrent appenders, and how many appends each.
const APPENDERS: u32 = 32;
const EACH: u64 = 20;

fn check_concurrent<B: Backend>(s: &B, mut landed: Vec<u64>) {
    landed.sort_unstable();
    let n = u64::from(APPENDERS) * EACH;
    assert_eq!(landed, (1..=n).collect::<Vec<_>>());
    assert_eq!(s.head().position, n);
    let records = all(s);
    assert_eq!(positions(&records), (1..=n).collect::<Vec<_>>());
    assert_linked(&records);
    for t in 0..APPENDERS {
        assert_eq!(s.stream_version(&stream(t)).unwrap(), EACH);
    }
    let report = verify_ok(s);
    assert_eq!(report.checked, n);
}

/// 32 threads appending with `append_blocking`: positions without a gap,
/// each stream's versions in order, a chain that verifies.
fn concurrent_blocking_appenders<B: Backend>(s: &B) {
    let landed: Vec<u64> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..APPENDERS)
            .map(|t| {
                scope.spawn(move || {
                    (0..EACH)
                        .map(|i| {
                            let id = u64::from(t) * 1000 + i;
                            let done = s
                                .append_blocking(append(stream(t), Some(i), &[id]))
                                .unwrap();
                            assert_eq!(done.events[0].version, i + 1);
                            done.events[0].position
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    check_concurrent(s, landed);
}

/// 32 tasks appending with `append`, on a multi-threaded runtime.
async fn concurrent_async_appenders<B: Backend>(s: &B) {
    let tasks: Vec<_> = (0..APPENDERS)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut landed = Vec::new();
                for i in 0..EACH {
                    let id = u64::from(t) * 1000 + i;
                    let done = s.append(append(stream(t), Some(i), &[id])).await.unwrap();
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
    check_concurrent(s, landed);
}

/// The synchronous API called from a runtime's worker thread (as the
/// HTTP server's handlers call it) and from `spawn_blocking`, beside
/// `append` awaited there.
async fn the_sync_api_works_inside_a_runtime<B: Backend>(s: &B) {
    let done = s.append(append(stream(1), Some(0), &[1, 2])).await.unwrap();
    // Reads, on the worker.
    assert_eq!(s.head().position, 2);
    s.health().unwrap();
    assert_eq!(s.get(2).unwrap().unwrap().hash, done.events[1].hash);
    assert_eq!(s.read_from(0).count(), 2);
    assert_eq!(s.read_from_if(1, Box::new(|_| true)).count(), 1);
    assert_eq!(s.stream(&stream(1)).unwrap().len(), 2);
    assert_eq!(s.stream_version(&stream(1)).unwrap(), 2);
    assert_eq!(s.position_of(event_id(2)).unwrap(), Some(2));
    verify_ok(s);
    assert!(s.verify_digest(s.head(), &mut |_, _| {}).unwrap().ok);
    // Writes, from `spawn_blocking`.
    let store = s.clone();
    let head = tokio::task::spawn_blocking(move || {
        store
            .append_blocking(append(stream(1), Some(2), &[3]))
            .unwrap();
        for answer in store.append_many_blocking(vec![append(stream(2), None, &[4])]) {
            answer.unwrap();
        }
        store.head()
    })
    .await
    .unwrap();
    assert_eq!(head.position, 4);
    if B::BLOCKING_WRITES_ON_A_WORKER {
        let done = s.append_blocking(append(stream(3), None, &[5])).unwrap();
        assert_eq!(done.events[0].position, 5);
        let answers = s.append_many_blocking(vec![append(stream(3), Some(1), &[6])]);
        assert_eq!(landed_positions(answers[0].as_ref().unwrap()), [6]);
    }
    // And from a single-threaded runtime's only thread.
    let store = s.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let n = store.head().position;
                assert_eq!(store.read_from(0).count() as u64, n);
                let done = store
                    .append(append(stream(9), None, &[9_000]))
                    .await
                    .unwrap();
                assert_eq!(done.events[0].position, n + 1);
                verify_ok(&store);
            });
    })
    .join()
    .unwrap();
}

/// An export (`read_from(0)`) of one store imported into an empty other:
/// the same records and the same head hash; appends go on from there.
fn an_export_imports_with_the_same_head<A: Backend, B: Backend>(from: &A, to: &B) {
    populate(from, 40);
    let records = all(from);
    let head = from.head();
    assert_eq!(head.position, 40);

    // An altered record is refused, and nothing is written.
    let mut altered = records.clone();
    altered[7].event.note = Some("altered".into());
    let err = to.import_blocking(altered).unwrap_err();
    assert!(matches!(err, Error::Import { position: 8, .. }), "{err}");
    assert_eq!(to.head(), Head::EMPTY);

    assert_eq!(to.import_blocking(records.clone()).unwrap(), head);
    assert_eq!(to.head(), head);
    assert_eq!(all(to), records);
    let report = verify_ok(to);
    assert_eq!((report.head_position, report.head_hash), (40, head.hash));
    for n in 0..4 {
        assert_eq!(
            to.stream_version(&stream(n)).unwrap(),
            from.stream_version(&stream(n)).unwrap()
        );
        assert_eq!(
            to.stream(&stream(n)).unwrap(),
            from.stream(&stream(n)).unwrap()
        );
    }
    assert_eq!(
        to.position_of(event_id(17)).unwrap(),
        from.position_of(event_id(17)).unwrap()
    );
    // Not twice.
    let err = to.import_blocking(records[..1].to_vec()).unwrap_err();
    assert!(matches!(err, Error::Import { position: 1, .. }), "{err}");
    // Appends go on from the imported head, at no earlier record time.
    let version = to.stream_version(&stream(0)).unwrap();
    let done = to
        .append_blocking(append(stream(0), Some(version), &[500]))
        .unwrap();
    assert_eq!(done.events[0].position, 41);
    assert!(done.events[0].recorded_at >= records[39].envelope.recorded_at);
    verify_ok(to);
}

// ---------------------------------------------------------------------
// State beside the log.

/// The keyspace of the tokens keeps what is written, in key order, its
/// checkpoint, and nothing of a write set with a reserved key; another
/// handle (a standby's, on PostgreSQL) reads the same.
fn the_tokens_keyspace_keeps_what_is_written<B: Backend>(s: &B) {
    let kv = s.tokens();
    assert_eq!(kv.checkpoint().unwrap(), Checkpoint::Clean(0));
    let mut writes = WriteSet::new();
    writes.put("h/b", "2");
    writes.put("h/a", "1");
    writes.put("n/x", "x");
    writes.put(vec![0xfe, 0x00], "high");
    kv.write(&writes).unwrap();
    kv.flush().unwrap();
    let again = s.tokens();
    assert_eq!(again.get(b"h/a").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(again.get(b"h/c").unwrap(), None);
    let keys =
        |pairs: Vec<(Vec<u8>, Vec<u8>)>| pairs.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(
        keys(again.scan_prefix(b"h/").unwrap()),
        vec![b"h/a".to_vec(), b"h/b".to_vec()]
    );
    let all: Vec<_> = again.read().iter().map(Result::unwrap).collect();
    assert_eq!(
        keys(all),
        vec![
            b"h/a".to_vec(),
            b"h/b".to_vec(),
            b"n/x".to_vec(),
            vec![0xfe, 0x00]
        ]
    );

    let mut refused = WriteSet::new();
    refused.delete("h/a");
    refused.put(vec![pacta_store::kv::RESERVED, 1], "no");
    assert!(kv.write(&refused).is_err());
    assert!(again.get(b"h/a").unwrap().is_some());

    let mut more = WriteSet::new();
    more.delete("h/a");
    more.put("h/c", "3");
    kv.commit(&more, 7).unwrap();
    assert_eq!(again.checkpoint().unwrap(), Checkpoint::Clean(7));
    assert_eq!(
        keys(again.scan_prefix(b"h/").unwrap()),
        vec![b"h/b".to_vec(), b"h/c".to_vec()]
    );
    // The checkpoint is not an entry.
    assert_eq!(again.read().iter().count(), 4);
    kv.clear().unwrap();
    assert_eq!(again.read().iter().count(), 0);
    assert_eq!(again.checkpoint().unwrap(), Checkpoint::Clean(0));
}

// ---------------------------------------------------------------------
// The suites.

/// Runs a synchronous contract test against a fresh store of backend `B`.
fn run<B: Backend>(name: &str, test: fn(&B)) {
    if let Some(fixture) = B::fresh(name) {
        test(&fixture.store);
    }
}

/// Instantiates the contract's tests for one backend: each synchronous
/// test on a plain test thread, each asynchronous one on a multi-threaded
/// runtime.
macro_rules! suite {
    ($module:ident, $backend:ty, [$($sync:ident),*], [$($async:ident),*]) => {
        mod $module {
            use super::*;

            $(
                #[test]
                fn $sync() {
                    run::<$backend>(stringify!($sync), super::$sync);
                }
            )*

            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $async() {
                    if let Some(fixture) = <$backend as Backend>::fresh(stringify!($async)) {
                        super::$async(&fixture.store).await;
                    }
                }
            )*
        }
    };
}

/// The contract's tests, for both backends.
macro_rules! contract {
    (sync: [$($sync:ident),* $(,)?], async: [$($async:ident),* $(,)?] $(,)?) => {
        suite!(on_sled, Store, [$($sync),*], [$($async),*]);
        suite!(on_pg, PgStore, [$($sync),*], [$($async),*]);
    };
}

contract!(
    sync: [
        the_tokens_keyspace_keeps_what_is_written,
        positions_are_gap_free_from_one,
        verify_is_clean_after_appends,
        a_stale_expected_version_writes_nothing,
        a_retry_returns_the_originals,
        the_same_id_with_another_event_is_refused,
        the_reads_agree_with_the_appends,
        read_from_any_position,
        subscribers_see_the_new_head,
        concurrent_blocking_appenders,
    ],
    async: [
        concurrent_async_appenders,
        the_sync_api_works_inside_a_runtime,
    ],
);

/// Exports moved between the backends, both ways.
mod across {
    use super::*;

    #[test]
    fn sled_export_imports_into_pg() {
        let Some(to) = PgStore::fresh("sled_to_pg") else {
            return;
        };
        let from = Store::fresh("sled_to_pg").unwrap();
        an_export_imports_with_the_same_head(&from.store, &to.store);
    }

    #[test]
    fn pg_export_imports_into_sled() {
        let Some(from) = PgStore::fresh("pg_to_sled") else {
            return;
        };
        let to = Store::fresh("pg_to_sled").unwrap();
        an_export_imports_with_the_same_head(&from.store, &to.store);
    }

    /// The same export into both gives one head.
    #[test]
    fn both_backends_hold_the_same_chain() {
        let Some(pg) = PgStore::fresh("same_chain") else {
            return;
        };
        let sled = Store::fresh("same_chain").unwrap();
        populate(&sled.store, 25);
        let records = all(&sled.store);
        pg.store.import_blocking(records.clone()).unwrap();
        assert_eq!(pg.store.head(), sled.store.head());
        assert_eq!(all(&pg.store), records);
        let (a, b) = (verify_ok(&sled.store), verify_ok(&pg.store));
        assert_eq!(a, b);
    }
}

/// What only the PostgreSQL store has to show: more than one store on one
/// database.
mod pg_only {
    use std::time::{Duration, Instant};

    use super::*;

    /// Waits (up to 10 s) until `s.head()` is `head`.
    fn see(s: &PgStore, head: Head) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while s.head() != head {
            assert!(
                Instant::now() < deadline,
                "never saw {head:?}; {:?}",
                s.head()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A second store on the database follows the first's head (through
    /// `LISTEN`) and reads up to it; it cannot write while the first
    /// leads, and takes over as soon as the first is dropped, from inside
    /// a runtime.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_second_store_follows_and_takes_over() {
        let Some(url) = pg_server::database("c_two_stores").await else {
            return;
        };
        let first = PgStore::connect(&url).unwrap();
        let second = PgStore::connect(&url).unwrap();
        first
            .append_blocking(append(stream(1), Some(0), &[1, 2]))
            .unwrap();
        see(&second, first.head());
        assert_eq!(all(&second), all(&first));
        assert_eq!(second.stream_version(&stream(1)).unwrap(), 2);
        let err = second
            .append_blocking(append(stream(2), None, &[3]))
            .unwrap_err();
        assert!(matches!(err, Error::NotLeader { .. }), "{err}");
        let head = first.head();
        drop(first);
        let done = second
            .append(append(stream(1), Some(2), &[3]))
            .await
            .unwrap();
        assert_eq!(done.events[0].position, head.position + 1);
        verify_ok(&second);
    }
}
