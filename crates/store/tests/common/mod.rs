//! Helpers shared by the store's tests.
#![allow(dead_code)]

use pacta_domain::event::ActivityRecorded;
use pacta_domain::{ActivityKind, Event, EventId, Payload, StreamId};

/// The stream `partnership/p{n}`.
pub fn stream(n: u32) -> StreamId {
    StreamId::parse(&format!("partnership/p{n}")).unwrap()
}

/// A distinct event id for each `n` (never the zero id).
pub fn event_id(n: u64) -> EventId {
    EventId::from_bytes((u128::from(n) + 1).to_be_bytes())
}

/// A letter with this note, with a place outside ASCII (so that the
/// canonical bytes of both backends are compared on more than ASCII).
pub fn letter(note: &str) -> Event {
    Event {
        payload: Payload::ActivityRecorded(ActivityRecorded {
            kind: ActivityKind::Letter,
            outcome: None,
            place: Some("Plzeň".into()),
            participants: vec![],
            areas: vec!["tourism".into()],
        }),
        date: Some("2010-05-17".parse().unwrap()),
        source: None,
        note: Some(note.to_owned()),
    }
}
