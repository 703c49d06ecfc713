//! Views heal themselves: a changed `VERSION` or stored state that does
//! not load rebuilds the view from the log on open (never an error), the
//! keyspaces of older versions are dropped, and a rebuild never loads
//! what it rebuilds; a failed catch-up applies nothing twice.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use pacta_domain::event::ActivityRecorded;
use pacta_domain::{ActivityKind, Event, EventId, EventType, Payload, Recorded, StreamId};
use pacta_projections::{
    ApplyContext, Context, DEFAULT_CHUNK, Error, Folded, Projection, Projections, Rebuild, View,
    keyspace_name,
};
use pacta_store::kv::{self, WriteSet};
use pacta_store::{Append, NewEvent, Store};
use serde::{Deserialize, Serialize};

fn append(store: &Store, n: u64) {
    let event = Event {
        payload: Payload::ActivityRecorded(ActivityRecorded {
            kind: ActivityKind::Letter,
            outcome: None,
            place: None,
            participants: vec![],
            areas: vec![],
        }),
        date: Some("2010-05-17".parse().unwrap()),
        source: None,
        note: None,
    };
    store
        .append_blocking(Append {
            stream: StreamId::parse("partnership/p").unwrap(),
            expected_version: None,
            events: vec![NewEvent {
                event_id: EventId::from_bytes(u128::from(n + 1).to_be_bytes()),
                event,
                recorded_by: "test".into(),
            }],
        })
        .unwrap();
}

/// Version 1 counts records; version 2 sums their positions.
#[derive(Default, Serialize, Deserialize)]
struct CountV1 {
    n: u64,
}

#[derive(Default, Serialize, Deserialize)]
struct CountV2 {
    sum: u64,
}

impl View for CountV1 {
    const NAME: &'static str = "count";
    const VERSION: u32 = 1;
    fn reads(_: EventType) -> bool {
        true
    }
    fn apply(&mut self, _: &Recorded, _: &Context<'_>) {
        self.n += 1;
    }
}

impl View for CountV2 {
    const NAME: &'static str = "count";
    const VERSION: u32 = 2;
    fn reads(_: EventType) -> bool {
        true
    }
    fn apply(&mut self, record: &Recorded, _: &Context<'_>) {
        self.sum += record.envelope.position;
    }
}

fn open<V: View>(store: &Store) -> (Projections, Arc<Folded<V>>) {
    let view = Arc::new(Folded::<V>::default());
    let projections = Projections::open_with(store, vec![view.clone()], DEFAULT_CHUNK).unwrap();
    projections.catch_up(&mut |_, _| {}).unwrap();
    (projections, view)
}

#[test]
fn a_new_version_or_a_state_that_does_not_load_is_rebuilt_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for n in 0..20 {
        append(&store, n);
    }
    let (projections, v1) = open::<CountV1>(&store);
    assert_eq!(v1.read(|v| v.n), 20);
    drop(projections);
    // Reopened, version 1 loads its stored state and applies nothing.
    let (projections, v1) = open::<CountV1>(&store);
    assert_eq!(v1.read(|v| v.n), 20);
    assert_eq!(projections.checkpoints(), vec![("count", 20)]);
    drop(projections);
    assert!(
        store
            .keyspace_names()
            .unwrap()
            .contains(&"projection/count".to_owned())
    );

    // Version 2 starts from the log; version 1's keyspace is dropped.
    let (projections, v2) = open::<CountV2>(&store);
    assert_eq!(v2.read(|v| v.sum), (1..=20).sum::<u64>());
    drop(projections);
    let names = store.keyspace_names().unwrap();
    assert!(!names.contains(&"projection/count".to_owned()), "{names:?}");
    assert!(
        names.contains(&"projection/count/v2".to_owned()),
        "{names:?}"
    );

    // Its stored state damaged (valid JSON of another shape, then
    // garbage): opening rebuilds it, and it equals a fresh fold.
    for garbage in [&br#"{"counts":"x"}"#[..], b"\xff\x00not json"] {
        let keyspace = store.keyspace(&keyspace_name("count", 2)).unwrap();
        let mut writes = WriteSet::new();
        writes.put(b"state".to_vec(), garbage.to_vec());
        keyspace.commit(&writes, 20).unwrap();
        drop(keyspace);
        let (projections, v2) = open::<CountV2>(&store);
        assert_eq!(v2.read(|v| v.sum), (1..=20).sum::<u64>());
        assert_eq!(projections.checkpoints(), vec![("count", 20)]);
    }
}

/// A projection that counts how often it was loaded, and cannot load.
#[derive(Default)]
struct Unloadable {
    loads: AtomicU64,
    applied: AtomicU64,
}

impl Projection for Unloadable {
    fn name(&self) -> &'static str {
        "unloadable"
    }
    fn reads(&self, _: EventType) -> bool {
        true
    }
    fn reset(&self) {
        self.applied.store(0, Ordering::SeqCst);
    }
    fn load(&self, _: &kv::Reader<'_>) -> Result<(), Error> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        Err(Error::Corrupt {
            name: "unloadable",
            reason: "never loads".into(),
        })
    }
    fn apply(
        &self,
        _: &ApplyContext<'_>,
        events: &[&Recorded],
        writes: &mut WriteSet,
    ) -> Result<(), Error> {
        self.applied
            .fetch_add(events.len() as u64, Ordering::SeqCst);
        writes.put(b"seen".to_vec(), b"1".to_vec());
        Ok(())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[test]
fn a_rebuild_never_loads_what_it_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for n in 0..10 {
        append(&store, n);
    }
    let first = Arc::new(Unloadable::default());
    let projections = Projections::open_with(&store, vec![first.clone()], DEFAULT_CHUNK).unwrap();
    projections.catch_up(&mut |_, _| {}).unwrap();
    drop(projections);

    // Opened for its rebuild: not loaded, applied from 0.
    let again = Arc::new(Unloadable::default());
    let projections = Projections::open_rebuilding(
        &store,
        vec![again.clone()],
        DEFAULT_CHUNK,
        Some(&Rebuild::One("unloadable")),
    )
    .unwrap();
    projections.catch_up(&mut |_, _| {}).unwrap();
    assert_eq!(again.loads.load(Ordering::SeqCst), 0);
    assert_eq!(again.applied.load(Ordering::SeqCst), 10);
    drop(projections);

    // Opened as usual, it does not load: rebuilt with a warning, not an
    // error.
    let third = Arc::new(Unloadable::default());
    let projections = Projections::open_with(&store, vec![third.clone()], DEFAULT_CHUNK).unwrap();
    projections.catch_up(&mut |_, _| {}).unwrap();
    assert_eq!(third.loads.load(Ordering::SeqCst), 1);
    assert_eq!(third.applied.load(Ordering::SeqCst), 10);

    // An unknown name is refused, naming the known ones.
    let err = Projections::open_rebuilding(
        &store,
        vec![Arc::new(Unloadable::default())],
        DEFAULT_CHUNK,
        Some(&Rebuild::One("nope")),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("unloadable"), "{err}");
}

/// Counts the events it applied, and fails once on one position.
#[derive(Default)]
struct Counter {
    count: AtomicU64,
    fail_at: AtomicU64,
}

impl Projection for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }
    fn reads(&self, _: EventType) -> bool {
        true
    }
    fn reset(&self) {
        self.count.store(0, Ordering::SeqCst);
    }
    fn load(&self, keyspace: &kv::Reader<'_>) -> Result<(), Error> {
        let stored = keyspace.get(b"count")?.expect("a count is stored");
        let count = u64::from_be_bytes(stored.try_into().expect("8 bytes"));
        self.count.store(count, Ordering::SeqCst);
        Ok(())
    }
    fn apply(
        &self,
        _: &ApplyContext<'_>,
        events: &[&Recorded],
        writes: &mut WriteSet,
    ) -> Result<(), Error> {
        for e in events {
            if self.fail_at.load(Ordering::SeqCst) == e.envelope.position {
                self.fail_at.store(0, Ordering::SeqCst);
                return Err(Error::Corrupt {
                    name: "counter",
                    reason: "a read failed".into(),
                });
            }
            self.count.fetch_add(1, Ordering::SeqCst);
        }
        writes.put(b"count", self.count.load(Ordering::SeqCst).to_be_bytes());
        Ok(())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A catch-up that fails half-way through a step leaves nothing
/// applied twice: memory goes back to what the keyspace holds.
#[test]
fn a_failed_catch_up_applies_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for n in 0..10 {
        append(&store, n);
    }
    let counter = Arc::new(Counter::default());
    counter.fail_at.store(5, Ordering::SeqCst);
    let projections = Projections::open_with(&store, vec![counter.clone()], DEFAULT_CHUNK).unwrap();
    assert!(projections.catch_up(&mut |_, _| {}).is_err());
    assert_eq!(projections.checkpoints(), vec![("counter", 0)]);
    assert_eq!(counter.count.load(Ordering::SeqCst), 0);
    assert_eq!(projections.catch_up(&mut |_, _| {}).unwrap(), 10);
    assert_eq!(counter.count.load(Ordering::SeqCst), 10);

    // The same when the failure comes after a committed step.
    for n in 10..20 {
        append(&store, n);
    }
    projections.persist().unwrap();
    counter.fail_at.store(15, Ordering::SeqCst);
    assert!(projections.catch_up(&mut |_, _| {}).is_err());
    assert_eq!(projections.checkpoints(), vec![("counter", 10)]);
    assert_eq!(counter.count.load(Ordering::SeqCst), 10);
    assert_eq!(projections.catch_up(&mut |_, _| {}).unwrap(), 10);
    assert_eq!(counter.count.load(Ordering::SeqCst), 20);
}
