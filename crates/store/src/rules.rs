//! The rules of an append, one place for both backends' writers: an
//! append needs events with distinct ids; a retry whose ids are all
//! stored, in the same stream with the same events, is answered with the
//! originals; a stale expected version is a conflict; record times never
//! go backwards; each record extends the chain from the head. The writer
//! says what is stored and stages what is decided ([`Ledger`]).

use std::time::SystemTime;

use pacta_domain::{Digest, Envelope, Event, EventId, StreamId, Timestamp};

use crate::canonical::{CanonicalEvent, chain_hash};
use crate::{Append, Appended, Error, Head, Landed};

/// An event id found stored (or staged earlier in the group).
pub(crate) struct Found {
    /// Its stream.
    pub stream: StreamId,
    /// Where it landed.
    pub landed: Landed,
    /// Its event, when the writer has it at hand.
    pub event: Option<Event>,
}

/// What a writer knows and does for [`append`].
pub(crate) trait Ledger {
    /// Where the id is stored, if it is.
    fn find(&mut self, id: EventId) -> Result<Option<Found>, Error>;
    /// The stream's version, staged records included.
    fn version(&mut self, stream: &StreamId) -> Result<u64, Error>;
    /// The head, staged records included.
    fn head(&self) -> Head;
    /// The latest record time stored or staged.
    fn last_recorded(&self) -> Timestamp;
    /// Stages one record (moving the head, the stream's version, the id)
    /// and its record time.
    fn stage(
        &mut self,
        envelope: Envelope,
        event: Event,
        hash: Digest,
        prev: Digest,
        bytes: Vec<u8>,
    ) -> Landed;
    /// Notes the record time of the staged append.
    fn recorded(&mut self, at: Timestamp);
}

/// Decides one append and stages its records; `at` is a record time
/// asked for (the seed data's fixed one), else the clock's.
pub(crate) fn append(
    ledger: &mut impl Ledger,
    append: Append,
    prepared: Vec<CanonicalEvent>,
    at: Option<Timestamp>,
) -> Result<Appended, Error> {
    if append.events.is_empty() {
        return Err(Error::Invalid("an append needs at least one event".into()));
    }
    for (i, e) in append.events.iter().enumerate() {
        if append.events[..i].iter().any(|o| o.event_id == e.event_id) {
            return Err(Error::Invalid(format!(
                "event id {} appears twice in one append",
                e.event_id
            )));
        }
    }
    // Idempotent retry: every id stored already, in this stream, with
    // the same events.
    let mut found = Vec::with_capacity(append.events.len());
    for e in &append.events {
        found.push(ledger.find(e.event_id)?);
    }
    if let Some(first) = found.iter().flatten().next() {
        if found.iter().any(Option::is_none) {
            return Err(Error::DuplicateId {
                event_id: append.events[0].event_id,
                position: first.landed.position,
                detail: "some of the request's event ids are stored and some are not: \
                         a retry must repeat the original request's events exactly"
                    .into(),
            });
        }
        let mut events = Vec::with_capacity(found.len());
        for ((e, stored), canonical) in append
            .events
            .iter()
            .zip(found.into_iter().flatten())
            .zip(&prepared)
        {
            let position = stored.landed.position;
            if stored.stream != append.stream {
                return Err(Error::DuplicateId {
                    event_id: e.event_id,
                    position,
                    detail: format!("it belongs to {}, not {}", stored.stream, append.stream),
                });
            }
            if let Some(event) = &stored.event
                && CanonicalEvent::new(event)? != *canonical
            {
                return Err(Error::DuplicateId {
                    event_id: e.event_id,
                    position,
                    detail: "the stored event differs from this one: a retry must repeat \
                             the original request exactly"
                        .into(),
                });
            }
            events.push(stored.landed);
        }
        return Ok(Appended {
            events,
            duplicate: true,
        });
    }

    let current = ledger.version(&append.stream)?;
    if let Some(expected) = append.expected_version
        && expected != current
    {
        return Err(Error::Conflict {
            stream: append.stream,
            expected,
            actual: current,
        });
    }
    // Record times never go backwards: a time asked for (the bundled seed
    // data's fixed one) holds only if no later record is stored.
    let now = at
        .unwrap_or_else(|| Timestamp::from_system_time(SystemTime::now()))
        .max(ledger.last_recorded());
    let mut landed = Vec::with_capacity(append.events.len());
    for (i, (e, canonical)) in append.events.into_iter().zip(prepared).enumerate() {
        let head = ledger.head();
        let envelope = Envelope {
            position: head.position + 1,
            event_id: e.event_id,
            stream: append.stream.clone(),
            version: current + 1 + i as u64,
            recorded_at: now,
            recorded_by: e.recorded_by,
        };
        let bytes = canonical.with_envelope(&envelope);
        let hash = chain_hash(&head.hash, &bytes);
        landed.push(ledger.stage(envelope, e.event, hash, head.hash, bytes));
    }
    ledger.recorded(now);
    Ok(Appended {
        events: landed,
        duplicate: false,
    })
}
