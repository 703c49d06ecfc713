//! Checking new events against a stream's history before they are written.
//!
//! Pure: the caller supplies the stream's records, a clock reading and a
//! way to ask whether parties and partnerships exist.

use pacta_domain::history::{Fact, is_step};
use pacta_domain::lifecycle::{offer_transition, party_transition};
use pacta_domain::{
    Event, EventId, EventType, Payload, Recorded, Refusal, Slug, Status, StreamId, StreamKind,
    Timeline, Timestamp,
};

use crate::CommandError;

/// What validation may ask about the rest of the registry.
pub trait World {
    /// Whether a party exists (in the store or earlier in the same import).
    fn party_exists(&self, id: &Slug) -> bool;
    /// Whether a partnership exists.
    fn partnership_exists(&self, id: &Slug) -> bool;
}

/// A new event with the id it will be stored under.
#[derive(Clone, Debug)]
pub struct Pending<'a> {
    /// Its id.
    pub id: EventId,
    /// The event.
    pub event: &'a Event,
}

/// The home party of a stream (who may write to it), from its header:
/// the party itself, a partnership's `home`, an offer's `home`.
pub fn home_of(stream: &StreamId, records: &[Recorded], new: &[Pending<'_>]) -> Option<Slug> {
    let first = records
        .first()
        .map(|r| &r.event)
        .or(new.first().map(|p| p.event))?;
    match (&stream.kind, &first.payload) {
        (StreamKind::Party, _) => Some(stream.id.clone()),
        (StreamKind::Partnership, Payload::PartnershipOpened(p)) => Some(p.home.clone()),
        (StreamKind::Offer, Payload::OfferPublished(o)) => Some(o.home.clone()),
        _ => None,
    }
}

/// Checks `new` events appended after `records` on `stream`.
pub fn validate(
    stream: &StreamId,
    records: &[Recorded],
    new: &[Pending<'_>],
    now: Timestamp,
    world: &dyn World,
) -> Result<(), CommandError> {
    for p in new {
        let ty = p.event.event_type();
        if ty.stream_kind() != stream.kind {
            return Err(CommandError::Invalid(format!(
                "{ty} does not belong in a {} stream",
                stream.kind.as_str()
            )));
        }
        p.event
            .validate()
            .map_err(|e| CommandError::Invalid(e.to_string()))?;
    }
    match stream.kind {
        StreamKind::Party => validate_party(stream, records, new, world),
        StreamKind::Offer => validate_offer(records, new, world),
        StreamKind::Partnership => validate_partnership(records, new, now, world),
    }
}

fn validate_party(
    stream: &StreamId,
    records: &[Recorded],
    new: &[Pending<'_>],
    world: &dyn World,
) -> Result<(), CommandError> {
    let mut registered = !records.is_empty();
    for p in new {
        let ty = p.event.event_type();
        if party_transition(registered, ty).is_none() {
            let (state, allowed) = if registered {
                ("registered", vec![EventType::PartyAmended])
            } else {
                ("none", vec![EventType::PartyRegistered])
            };
            return Err(CommandError::Refused(Refusal {
                state: state.into(),
                event: ty,
                allowed,
                date: None,
                detail: Some(if registered {
                    format!("party {} exists already", stream.id)
                } else {
                    format!("party {} is not registered", stream.id)
                }),
            }));
        }
        let parent = match &p.event.payload {
            Payload::PartyRegistered(r) => r.parent.as_ref(),
            Payload::PartyAmended(a) => a.parent.as_ref(),
            _ => None,
        };
        if let Some(parent) = parent {
            if parent == &stream.id {
                return Err(CommandError::Invalid(
                    "a party cannot be its own parent".into(),
                ));
            }
            if !world.party_exists(parent) {
                return Err(CommandError::UnknownParty(parent.clone()));
            }
        }
        registered = true;
    }
    Ok(())
}

fn validate_offer(
    records: &[Recorded],
    new: &[Pending<'_>],
    world: &dyn World,
) -> Result<(), CommandError> {
    let mut state = None;
    for r in records {
        state = offer_transition(state, r.event.event_type()).or(state);
    }
    for p in new {
        let ty = p.event.event_type();
        let Some(next) = offer_transition(state, ty) else {
            let (name, allowed) = match state {
                None => ("none".to_owned(), vec![EventType::OfferPublished]),
                Some(s) => (
                    s.as_str().to_owned(),
                    [
                        EventType::OfferMatched,
                        EventType::OfferWithdrawn,
                        EventType::OfferLapsed,
                    ]
                    .into_iter()
                    .filter(|&t| offer_transition(Some(s), t).is_some())
                    .collect(),
                ),
            };
            return Err(CommandError::Refused(Refusal {
                state: name,
                event: ty,
                allowed,
                date: None,
                detail: None,
            }));
        };
        match &p.event.payload {
            Payload::OfferPublished(o) => {
                for party in [&o.party, &o.home] {
                    if !world.party_exists(party) {
                        return Err(CommandError::UnknownParty(party.clone()));
                    }
                }
            }
            Payload::OfferMatched(m) if !world.partnership_exists(&m.partnership) => {
                return Err(CommandError::NotFound(format!(
                    "partnership {} does not exist",
                    m.partnership
                )));
            }
            _ => {}
        }
        state = Some(next);
    }
    Ok(())
}

fn validate_partnership(
    records: &[Recorded],
    new: &[Pending<'_>],
    now: Timestamp,
    world: &dyn World,
) -> Result<(), CommandError> {
    // The header comes first and only once.
    for (i, p) in new.iter().enumerate() {
        let opened = p.event.event_type() == EventType::PartnershipOpened;
        let first = records.is_empty() && i == 0;
        if first && !opened {
            return Err(CommandError::Refused(Refusal {
                state: "none".into(),
                event: p.event.event_type(),
                allowed: vec![EventType::PartnershipOpened],
                date: None,
                detail: Some("a partnership stream starts with PartnershipOpened".into()),
            }));
        }
        if opened && !first {
            let status = current_status(records, new, now);
            return Err(CommandError::Refused(
                Refusal::partnership(status, EventType::PartnershipOpened)
                    .with_detail("the partnership is open already"),
            ));
        }
        if let Payload::PartnershipOpened(o) = &p.event.payload {
            for party in [&o.home, &o.partner] {
                if !world.party_exists(party) {
                    return Err(CommandError::UnknownParty(party.clone()));
                }
            }
        }
    }

    // Every event of the stream as a fact; new ones after the log's end.
    let mut facts: Vec<Fact> = Vec::with_capacity(records.len() + new.len());
    let mut ids: Vec<(EventId, u64, EventType, &Event)> = Vec::new();
    for r in records {
        let fact = Fact::from_event(r.envelope.position, r.envelope.recorded_at, &r.event, |t| {
            ids.iter().find(|x| x.0 == t).map(|x| x.1)
        })
        .map_err(CommandError::Invalid)?;
        ids.push((
            r.envelope.event_id,
            r.envelope.position,
            r.event.event_type(),
            &r.event,
        ));
        facts.push(fact);
    }
    let base = u64::MAX / 2;
    for (i, p) in new.iter().enumerate() {
        let position = base + i as u64;
        check_target(p.event, &ids, &facts)?;
        let fact = Fact::from_event(position, now, p.event, |t| {
            ids.iter().find(|x| x.0 == t).map(|x| x.1)
        })
        .map_err(CommandError::Invalid)?;
        ids.push((p.id, position, p.event.event_type(), p.event));
        facts.push(fact);
    }
    Timeline::resolve(&facts, None)
        .map(|_| ())
        .map_err(CommandError::Refused)
}

/// A correction or retraction must point at a lifecycle event of this
/// partnership that is not retracted, and a correction's data must still
/// make a valid event of the target's type.
fn check_target(
    event: &Event,
    ids: &[(EventId, u64, EventType, &Event)],
    facts: &[Fact],
) -> Result<(), CommandError> {
    let (target, patch) = match &event.payload {
        Payload::Corrected(c) => (c.target, c.data.as_ref()),
        Payload::Retracted(r) => (r.target, None),
        _ => return Ok(()),
    };
    let what = event.event_type();
    let Some(&(_, position, ty, original)) = ids.iter().find(|x| x.0 == target) else {
        return Err(CommandError::Invalid(format!(
            "{what} points at {target}, which is not an event of this partnership"
        )));
    };
    if !is_step(ty) {
        return Err(CommandError::Invalid(format!(
            "{what} can point only at a lifecycle event, not at {ty}"
        )));
    }
    if facts
        .iter()
        .any(|f| f.ty == EventType::Retracted && f.target == position)
    {
        return Err(CommandError::Invalid(format!(
            "{what} points at {target}, which is retracted already"
        )));
    }
    if let Some(patch) = patch {
        let mut data = match original.payload.to_value() {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        // Earlier corrections of the same event count too.
        for (_, _, t, e) in ids {
            if *t == EventType::Corrected
                && let Payload::Corrected(c) = &e.payload
                && c.target == target
                && let Some(d) = &c.data
            {
                data.extend(d.clone());
            }
        }
        data.extend(patch.clone());
        let merged = serde_json::Value::Object(data).to_string();
        Payload::from_json(ty, &merged).map_err(|e| {
            CommandError::Invalid(format!("the corrected data is not a valid {ty}: {e}"))
        })?;
    }
    Ok(())
}

fn current_status(records: &[Recorded], _new: &[Pending<'_>], _now: Timestamp) -> Status {
    let facts: Vec<Fact> = records
        .iter()
        .filter_map(|r| {
            Fact::from_event(
                r.envelope.position,
                r.envelope.recorded_at,
                &r.event,
                |_| None,
            )
            .ok()
        })
        .collect();
    Timeline::resolve(&facts, None)
        .map(|t| t.final_status())
        .unwrap_or(Status::Proposed)
}
