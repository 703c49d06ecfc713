//! Crash test: a child process appends in a loop and prints every
//! acknowledged position; the parent kills it with SIGKILL, reopens the
//! store and finds every acknowledged event and an intact chain.
//!
//! This file has its own `main` (`harness = false`): run without
//! arguments it is the parent; with `PACTA_CRASH_CHILD_DIR` set it is the
//! child.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use pacta_domain::event::ActivityRecorded;
use pacta_domain::{ActivityKind, Event, EventId, Payload, StreamId};
use pacta_store::{Append, NewEvent, Store};

/// How many acknowledgements the parent waits for before killing.
const ACKS: usize = 600;

fn event_id(n: u64) -> EventId {
    EventId::from_bytes(u128::from(n).to_be_bytes())
}

fn append(writer: u32, id: u64) -> Append {
    Append {
        stream: StreamId::parse(&format!("partnership/w{writer}")).unwrap(),
        expected_version: None,
        events: vec![NewEvent {
            event_id: event_id(id),
            event: Event {
                payload: Payload::ActivityRecorded(ActivityRecorded {
                    kind: ActivityKind::Visit,
                    outcome: None,
                    place: Some("Liberec".into()),
                    participants: vec![],
                    areas: vec![],
                }),
                date: Some("2011-11-01".parse().unwrap()),
                source: None,
                note: Some(format!("append {id}")),
            },
            recorded_by: "crash-test".into(),
        }],
    }
}

fn child(dir: &str) {
    let store = Store::open(dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for w in 0..8u32 {
            let store = store.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 1u64.. {
                    let id = u64::from(w) << 40 | i;
                    let done = store.append(append(w, id)).await.unwrap();
                    tx.send((id, done.events[0].position)).unwrap();
                }
            });
        }
        let mut acks = 0;
        while let Some((id, pos)) = rx.recv().await {
            acks += 1;
            if acks == ACKS / 2 {
                // From here on the derived indexes lag: the second half of
                // the acknowledged events is only in the log (and in
                // memory) when the kill comes.
                store.pause_indexing_for_tests(true);
                println!("indexed up to {}", store.index_checkpoint().unwrap());
            }
            println!("ack {id} {pos}");
        }
    });
}

fn parent() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("PACTA_CRASH_CHILD_DIR", dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut indexed = None;
    let stdout = child.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(p) = line.strip_prefix("indexed up to ") {
            indexed = Some(p.parse::<u64>().unwrap());
        }
        let Some(rest) = line.strip_prefix("ack ") else {
            continue;
        };
        let (id, pos) = rest.split_once(' ').unwrap();
        acked.insert(id.parse().unwrap(), pos.parse().unwrap());
        if acked.len() == ACKS {
            // SIGKILL: no destructor runs, nothing more is flushed.
            child.kill().unwrap();
            break;
        }
    }
    child.wait().unwrap();
    assert_eq!(
        acked.len(),
        ACKS,
        "the child died before acknowledging enough"
    );

    let indexed = indexed.expect("the child paused its index builder");
    let lagging = acked.values().filter(|p| **p > indexed).count();
    assert!(
        lagging >= ACKS / 3,
        "only {lagging} acknowledged events lagged the index"
    );

    let store = Store::open(dir.path()).unwrap();
    let report = store.verify(&mut |_, _| {}).unwrap();
    assert!(report.ok, "chain broken after the crash: {report:?}");
    for (id, pos) in &acked {
        assert_eq!(
            store.position_of(event_id(*id)).unwrap(),
            Some(*pos),
            "acknowledged event {id} at position {pos} was lost"
        );
        let record = store.get(*pos).unwrap().unwrap();
        assert_eq!(record.event.note, Some(format!("append {id}")));
    }
    // Each stream's index, caught up on open, holds every version once.
    for w in 0..8u32 {
        let s = StreamId::parse(&format!("partnership/w{w}")).unwrap();
        let versions: Vec<u64> = store
            .stream(&s)
            .unwrap()
            .iter()
            .map(|r| r.envelope.version)
            .collect();
        assert_eq!(versions, (1..=versions.len() as u64).collect::<Vec<_>>());
        assert_eq!(store.stream_version(&s).unwrap(), versions.len() as u64);
    }
    println!(
        "crash test: {} acknowledged appends survived SIGKILL ({lagging} beyond the index \
         checkpoint {indexed}); the log holds {}",
        acked.len(),
        store.head().position
    );
}

fn main() {
    match std::env::var("PACTA_CRASH_CHILD_DIR") {
        Ok(dir) => child(&dir),
        Err(_) => parent(),
    }
}
