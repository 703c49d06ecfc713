//! The store's promises, each shown by a test that could fail.

use std::collections::HashMap;

use pacta_domain::event::{ActivityRecorded, Contact};
use pacta_domain::{ActivityKind, Event, Payload, StreamId};
mod common;

use common::{event_id, stream};
use pacta_store::{Append, Error, NewEvent, Store};
use proptest::prelude::*;

fn event(note: &str) -> Event {
    Event {
        payload: Payload::ActivityRecorded(ActivityRecorded {
            kind: ActivityKind::Letter,
            outcome: None,
            place: None,
            participants: vec![],
            areas: vec!["tourism".into()],
        }),
        date: Some("2010-05-17".parse().unwrap()),
        source: None,
        note: Some(note.to_owned()),
    }
}

fn append(s: StreamId, expected: Option<u64>, ids: &[u64]) -> Append {
    Append {
        stream: s,
        expected_version: expected,
        events: ids
            .iter()
            .map(|&id| NewEvent {
                event_id: event_id(id),
                event: event(&format!("event {id}")),
                recorded_by: "test".into(),
            })
            .collect(),
    }
}

fn verify_ok(store: &Store) {
    let report = store.verify(&mut |_, _| {}).unwrap();
    assert!(report.ok, "{report:?}");
}

#[test]
fn reopen_after_drop_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let head = {
        let store = Store::open(dir.path()).unwrap();
        store
            .append_blocking(append(stream(1), Some(0), &[1, 2]))
            .unwrap();
        store
            .append_blocking(append(stream(2), None, &[3]))
            .unwrap();
        store.head()
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head(), head);
    assert_eq!(head.position, 3);
    let all: Vec<_> = store.read_from(0).map(Result::unwrap).collect();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].event.note.as_deref(), Some("event 3"));
    assert_eq!(store.stream(&stream(1)).unwrap().len(), 2);
    assert_eq!(store.stream_version(&stream(1)).unwrap(), 2);
    assert_eq!(store.position_of(event_id(2)).unwrap(), Some(2));
    // Appending after reopening continues the chain.
    store
        .append_blocking(append(stream(1), Some(2), &[4]))
        .unwrap();
    verify_ok(&store);
}

#[test]
fn a_stale_expected_version_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .append_blocking(append(stream(1), Some(0), &[1]))
        .unwrap();
    let head = store.head();
    let err = store
        .append_blocking(append(stream(1), Some(0), &[2, 3]))
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
    assert_eq!(store.head(), head);
    assert_eq!(store.position_of(event_id(2)).unwrap(), None);
    assert_eq!(store.stream_version(&stream(1)).unwrap(), 1);
}

#[test]
fn a_retried_event_id_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = store
        .append_blocking(append(stream(1), Some(0), &[1, 2]))
        .unwrap();
    assert!(!first.duplicate);
    // The same request again, even with its now stale expected version.
    let again = store
        .append_blocking(append(stream(1), Some(0), &[1, 2]))
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.events, first.events);
    assert_eq!(store.head().position, 2);
    // Part of a retry with new events, or an id in another stream, is refused.
    let err = store
        .append_blocking(append(stream(1), None, &[2, 3]))
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateId { .. }), "{err}");
    let err = store
        .append_blocking(append(stream(9), None, &[1]))
        .unwrap_err();
    assert!(
        err.to_string().contains("belongs to partnership/p1"),
        "{err}"
    );
    assert_eq!(store.head().position, 2);
}

#[test]
fn a_second_process_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let _store = Store::open(dir.path()).unwrap();
    let start = std::time::Instant::now();
    let err = Store::open(dir.path())
        .err()
        .expect("the second open must fail");
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    assert!(
        err.to_string().contains("in use by another process"),
        "{err}"
    );
    assert!(
        start.elapsed().as_secs() < 10,
        "it must fail at once, not wait"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appenders_are_group_committed_consistently() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut tasks = Vec::new();
    for t in 0..32u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..20u64 {
                let id = u64::from(t) * 1000 + i;
                store
                    .append(append(stream(t), Some(i), &[id]))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.head().position, 640);
    for t in 0..32 {
        assert_eq!(store.stream_version(&stream(t)).unwrap(), 20);
    }
    verify_ok(&store);
}

#[test]
fn tampering_is_named_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for i in 0..10 {
        store
            .append_blocking(append(stream(1), None, &[i]))
            .unwrap();
    }
    verify_ok(&store);
    // An insider rewrites record 6's note with a valid storage write.
    store
        .tamper_for_tests(6, |bytes| {
            let text = String::from_utf8(bytes[64..].to_vec()).unwrap();
            assert!(text.contains("event 5"));
            bytes.truncate(64);
            bytes.extend_from_slice(text.replace("event 5", "event X").as_bytes());
        })
        .unwrap();
    let report = store.verify(&mut |_, _| {}).unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_position, Some(6), "{report:?}");
    assert!(report.reason.unwrap().contains("altered"));
}

#[test]
fn tampering_that_rehashes_a_record_breaks_the_next_link_and_its_leaf() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for i in 0..5 {
        store
            .append_blocking(append(stream(1), None, &[i]))
            .unwrap();
    }
    // The Merkle tree follows behind the acknowledgement.
    while store.tree_size().unwrap() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    store
        .tamper_for_tests(3, |bytes| {
            let text = String::from_utf8(bytes[64..].to_vec())
                .unwrap()
                .replace("event 2", "event Y");
            let mut prev = [0u8; 32];
            prev.copy_from_slice(&bytes[32..64]);
            let hash =
                pacta_store::canonical::chain_hash(&pacta_domain::Digest(prev), text.as_bytes());
            bytes.truncate(64);
            bytes[..32].copy_from_slice(&hash.0);
            bytes.extend_from_slice(text.as_bytes());
        })
        .unwrap();
    let report = store.verify(&mut |_, _| {}).unwrap();
    // The chain alone sees the next link broken; the tree's leaf names
    // the rewritten record itself.
    assert_eq!(report.first_bad_position, Some(3), "{report:?}");
    assert!(report.reason.as_deref().unwrap().contains("Merkle tree"));
    assert_eq!(report.mismatched, [3, 4], "{report:?}");
}

#[test]
fn export_then_import_gives_the_same_head() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for i in 0..25u64 {
        store
            .append_blocking(append(stream((i % 4) as u32), None, &[i]))
            .unwrap();
    }
    let lines: Vec<String> = store
        .read_from(0)
        .map(|r| serde_json::to_string(&r.unwrap()).unwrap())
        .collect();
    let other = tempfile::tempdir().unwrap();
    let copy = Store::open(other.path()).unwrap();
    let records: Vec<_> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let head = copy.import_blocking(records).unwrap();
    assert_eq!(head, store.head());
    verify_ok(&copy);
    // An altered export is refused whole.
    let third = tempfile::tempdir().unwrap();
    let copy = Store::open(third.path()).unwrap();
    let mut records: Vec<pacta_domain::Recorded> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    records[7].event.note = Some("rewritten".into());
    let err = copy.import_blocking(records).unwrap_err();
    assert!(err.to_string().contains("position 8"), "{err}");
    assert_eq!(copy.head().position, 0);
}

/// One step of the model-based test.
#[derive(Clone, Debug)]
enum Op {
    Append {
        stream: u32,
        expected: Option<u64>,
        n: usize,
    },
    Retry {
        back: usize,
    },
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u32..4, proptest::option::of(0u64..5), 1usize..4)
            .prop_map(|(stream, expected, n)| Op::Append { stream, expected, n }),
        2 => (0usize..8).prop_map(|back| Op::Retry { back }),
        1 => Just(Op::Restart),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random appends, conflicts, retries and restarts against a model: a
    /// map of streams to their event ids, and a list of past requests.
    #[test]
    fn behaves_like_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Some(Store::open(dir.path()).unwrap());
        let mut model: HashMap<u32, Vec<u64>> = HashMap::new();
        let mut log: Vec<u64> = Vec::new();
        let mut past: Vec<(u32, Vec<u64>)> = Vec::new();
        let mut next_id = 0u64;
        for op in ops {
            let s = store.as_ref().unwrap();
            match op {
                Op::Append { stream: st, expected, n } => {
                    let ids: Vec<u64> = (0..n as u64).map(|i| next_id + i).collect();
                    next_id += n as u64;
                    let version = model.get(&st).map_or(0, |v| v.len() as u64);
                    let result = s.append_blocking(append(stream(st), expected, &ids));
                    if expected.is_some_and(|e| e != version) {
                        let is_conflict = matches!(result, Err(Error::Conflict { .. }));
                        prop_assert!(is_conflict);
                    } else {
                        let done = result.unwrap();
                        for (i, landed) in done.events.iter().enumerate() {
                            prop_assert_eq!(landed.version, version + 1 + i as u64);
                            prop_assert_eq!(landed.position, log.len() as u64 + 1 + i as u64);
                        }
                        model.entry(st).or_default().extend(&ids);
                        log.extend(&ids);
                        past.push((st, ids));
                    }
                }
                Op::Retry { back } => {
                    if let Some((st, ids)) = past.iter().rev().nth(back % past.len().max(1)).cloned() {
                        let done = s.append_blocking(append(stream(st), Some(0), &ids)).unwrap();
                        prop_assert!(done.duplicate);
                        for (landed, id) in done.events.iter().zip(&ids) {
                            prop_assert_eq!(log[landed.position as usize - 1], *id);
                        }
                    }
                }
                Op::Restart => {
                    drop(store.take());
                    store = Some(Store::open(dir.path()).unwrap());
                }
            }
            let s = store.as_ref().unwrap();
            prop_assert_eq!(s.head().position, log.len() as u64);
            for st in 0..4u32 {
                let version = model.get(&st).map_or(0, |v| v.len() as u64);
                prop_assert_eq!(s.stream_version(&stream(st)).unwrap(), version, "stream {}", st);
            }
        }
        let s = store.as_ref().unwrap();
        let stored: Vec<u64> = s
            .read_from(0)
            .map(|r| u128::from_be_bytes(r.unwrap().envelope.event_id.to_bytes()) as u64 - 1)
            .collect();
        prop_assert_eq!(stored, log);
        for (st, ids) in &model {
            let got: Vec<u64> = s
                .stream(&stream(*st))
                .unwrap()
                .iter()
                .map(|r| u128::from_be_bytes(r.envelope.event_id.to_bytes()) as u64 - 1)
                .collect();
            prop_assert_eq!(&got, ids);
        }
        let ok = s.verify(&mut |_, _| ()).unwrap().ok;
        prop_assert!(ok);
    }
}

#[test]
fn unused_contact_payload_round_trips_through_the_store() {
    // A payload with only defaults stores and reads back unchanged.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ev = Event::new(Payload::ContactEstablished(Contact::default()));
    store
        .append_blocking(Append {
            stream: stream(1),
            expected_version: None,
            events: vec![NewEvent {
                event_id: event_id(1),
                event: ev.clone(),
                recorded_by: "t".into(),
            }],
        })
        .unwrap();
    assert_eq!(store.get(1).unwrap().unwrap().event, ev);
}
