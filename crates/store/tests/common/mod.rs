//! Helpers shared by the store's tests.
#![allow(dead_code)]

use pacta_domain::{EventId, StreamId};

/// The stream `partnership/p{n}`.
pub fn stream(n: u32) -> StreamId {
    StreamId::parse(&format!("partnership/p{n}")).unwrap()
}

/// A distinct event id for each `n` (never the zero id).
pub fn event_id(n: u64) -> EventId {
    EventId::from_bytes((u128::from(n) + 1).to_be_bytes())
}
