//! Many writers on one partnership at once, none naming a version: each
//! command re-checks after losing a race, and every one lands.

use std::sync::Arc;

use pacta_domain::event::ActivityRecorded;
use pacta_domain::{ActivityKind, Event, Payload, Slug, StreamId};
use pacta_registry::{Actor, Command};

mod common;

#[test]
fn concurrent_appends_to_one_partnership_all_land() {
    let (_dir, registry) = common::seeded();
    let registry = Arc::new(registry);
    let stream = StreamId::partnership(Slug::parse("liberecky-kraj--bursa").unwrap());
    let before = registry.store().stream_version(&stream).unwrap();
    const TASKS: u64 = 16;
    const EACH: u64 = 12;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let outcomes = rt.block_on(async {
        let mut tasks = Vec::new();
        for t in 0..TASKS {
            let registry = registry.clone();
            let stream = stream.clone();
            tasks.push(tokio::spawn(async move {
                let mut failed = Vec::new();
                for i in 0..EACH {
                    let mut event = Event::new(Payload::ActivityRecorded(ActivityRecorded {
                        kind: ActivityKind::Letter,
                        outcome: None,
                        place: None,
                        participants: vec![],
                        areas: vec![],
                    }));
                    event.date = Some("2026-10".parse().unwrap());
                    event.note = Some(format!("letter {t}/{i}"));
                    let command = Command {
                        stream: stream.clone(),
                        events: vec![(None, event)],
                        expected_version: None,
                    };
                    if let Err(e) = registry.execute(&Actor::system("desk"), command).await {
                        failed.push(e.to_string());
                    }
                }
                failed
            }));
        }
        let mut failed = Vec::new();
        for t in tasks {
            failed.extend(t.await.unwrap());
        }
        failed
    });
    assert!(outcomes.is_empty(), "refused: {outcomes:?}");
    assert_eq!(
        registry.store().stream_version(&stream).unwrap(),
        before + TASKS * EACH
    );
}
