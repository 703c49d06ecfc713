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
    /// A party's country (ISO 3166-1 alpha-2), if the party exists (in the
    /// store or earlier in the same import).
    fn party_country(&self, id: &Slug) -> Option<String>;
    /// Whether a party exists.
    fn party_exists(&self, id: &Slug) -> bool {
        self.party_country(id).is_some()
    }
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
    match stream.kind {
        StreamKind::Party => {
            check_events(stream.kind, new)?;
            validate_party(stream, records, new, world)
        }
        StreamKind::Offer => {
            check_events(stream.kind, new)?;
            validate_offer(records, new, world)
        }
        StreamKind::Partnership => {
            validate_partnership(&RecordsHistory::new(records)?, new, now, world)
        }
    }
}

/// Each event belongs in the stream and is valid on its own.
fn check_events(kind: StreamKind, new: &[Pending<'_>]) -> Result<(), CommandError> {
    for p in new {
        let ty = p.event.event_type();
        if ty.stream_kind() != kind {
            return Err(CommandError::Invalid(format!(
                "{ty} does not belong in a {} stream",
                kind.as_str()
            )));
        }
        p.event
            .validate()
            .map_err(|e| CommandError::Invalid(e.to_string()))?;
    }
    Ok(())
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
                if !world.party_exists(&o.party) {
                    return Err(CommandError::UnknownParty(o.party.clone()));
                }
                czech_home(world, &o.home, "an offer is published by")?;
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

/// The home side of a partnership or an offer is a registered Czech party.
fn czech_home(world: &dyn World, home: &Slug, role: &str) -> Result<(), CommandError> {
    match world.party_country(home) {
        None => Err(CommandError::UnknownParty(home.clone())),
        Some(c) if c == CZECH => Ok(()),
        Some(c) => Err(CommandError::Invalid(format!(
            "{role} the Czech side, and {home} is in {c}"
        ))),
    }
}

/// The country of every home party.
const CZECH: &str = "CZ";

/// What validation needs to know of a partnership's stored events. The
/// registry answers from the projection (compact facts) and the store's
/// indexes; the seed loader answers from the records it read.
pub trait PartnershipHistory {
    /// Whether the stream exists (holds its header).
    fn exists(&self) -> bool;
    /// The stored events after the header, as facts, in log order.
    fn facts(&self) -> &[Fact];
    /// The position of an event if it is stored in this partnership.
    fn position_of(&self, id: EventId) -> Option<u64>;
    /// The stored event at a position of this partnership.
    fn event_at(&self, position: u64) -> Option<Event>;
    /// The history as known now, if one is at hand (it makes the common
    /// append, a step later than every other, a constant-time check).
    fn timeline(&self) -> Option<&Timeline> {
        None
    }
}

/// A partnership's history from its records.
pub struct RecordsHistory<'a> {
    records: &'a [Recorded],
    facts: Vec<Fact>,
}

impl<'a> RecordsHistory<'a> {
    /// Folds records (log order) into facts.
    pub fn new(records: &'a [Recorded]) -> Result<RecordsHistory<'a>, CommandError> {
        let mut facts = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            if r.event.event_type() == EventType::PartnershipOpened {
                continue;
            }
            let fact =
                Fact::from_event(r.envelope.position, r.envelope.recorded_at, &r.event, |t| {
                    records[..i]
                        .iter()
                        .find(|x| x.envelope.event_id == t)
                        .map(|x| x.envelope.position)
                })
                .map_err(CommandError::Invalid)?;
            facts.push(fact);
        }
        Ok(RecordsHistory { records, facts })
    }
}

impl PartnershipHistory for RecordsHistory<'_> {
    fn exists(&self) -> bool {
        !self.records.is_empty()
    }
    fn facts(&self) -> &[Fact] {
        &self.facts
    }
    fn position_of(&self, id: EventId) -> Option<u64> {
        self.records
            .iter()
            .find(|r| r.envelope.event_id == id)
            .map(|r| r.envelope.position)
    }
    fn event_at(&self, position: u64) -> Option<Event> {
        self.records
            .iter()
            .find(|r| r.envelope.position == position)
            .map(|r| r.event.clone())
    }
}

/// Checks new events of a partnership against its history.
pub fn validate_partnership(
    history: &dyn PartnershipHistory,
    new: &[Pending<'_>],
    now: Timestamp,
    world: &dyn World,
) -> Result<(), CommandError> {
    check_events(StreamKind::Partnership, new)?;
    // The header comes first and only once.
    for (i, p) in new.iter().enumerate() {
        let opened = p.event.event_type() == EventType::PartnershipOpened;
        let first = !history.exists() && i == 0;
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
            let status = Timeline::resolve(history.facts(), None)
                .map(|t| t.final_status())
                .unwrap_or(Status::Proposed);
            return Err(CommandError::Refused(
                Refusal::partnership(status, EventType::PartnershipOpened)
                    .with_detail("the partnership is open already"),
            ));
        }
        if let Payload::PartnershipOpened(o) = &p.event.payload {
            czech_home(world, &o.home, "the home party of a partnership is")?;
            if !world.party_exists(&o.partner) {
                return Err(CommandError::UnknownParty(o.partner.clone()));
            }
        }
    }

    // The common case: one new step that sorts after every stored one
    // only has to fit the state the history ends in.
    if let ([p], Some(timeline)) = (new, history.timeline())
        && is_step(p.event.event_type())
    {
        let fact = Fact::from_event(u64::MAX / 2, now, p.event, |_| None)
            .map_err(CommandError::Invalid)?;
        let key = (fact.effective.hi(), fact.effective.lo());
        let last = timeline
            .steps()
            .last()
            .map(|s| (s.effective.hi(), s.effective.lo()));
        if last.is_none_or(|l| key >= l) {
            let state = timeline.final_status();
            return match pacta_domain::lifecycle::transition(state, fact.ty) {
                pacta_domain::lifecycle::Transition::Refuse => {
                    let mut refusal = Refusal::partnership(state, fact.ty);
                    refusal.date = p.event.date.map(|d| d.to_string());
                    Err(CommandError::Refused(refusal))
                }
                _ => Ok(()),
            };
        }
    }

    // The stored facts, then the new ones after the log's end.
    let mut facts: Vec<Fact> = history.facts().to_vec();
    let mut pending: Vec<(EventId, u64, &Event)> = Vec::new();
    let base = u64::MAX / 2;
    for (i, p) in new.iter().enumerate() {
        if p.event.event_type() == EventType::PartnershipOpened {
            continue;
        }
        let position = base + i as u64;
        check_target(p.event, history, &pending, &facts)?;
        let fact = Fact::from_event(position, now, p.event, |t| {
            pending
                .iter()
                .find(|x| x.0 == t)
                .map(|x| x.1)
                .or_else(|| history.position_of(t))
        })
        .map_err(CommandError::Invalid)?;
        pending.push((p.id, position, p.event));
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
    history: &dyn PartnershipHistory,
    pending: &[(EventId, u64, &Event)],
    facts: &[Fact],
) -> Result<(), CommandError> {
    let (target, patch) = match &event.payload {
        Payload::Corrected(c) => (c.target, c.data.as_ref()),
        Payload::Retracted(r) => (r.target, None),
        _ => return Ok(()),
    };
    let what = event.event_type();
    let located = match pending.iter().find(|x| x.0 == target) {
        Some(&(_, position, e)) => Some((position, e.event_type())),
        None => history.position_of(target).map(|position| {
            let ty = facts
                .iter()
                .find(|f| f.position == position)
                .map_or(EventType::PartnershipOpened, |f| f.ty);
            (position, ty)
        }),
    };
    let Some((position, ty)) = located else {
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
        let event_at = |p: u64| {
            pending
                .iter()
                .find(|x| x.1 == p)
                .map(|x| x.2.clone())
                .or_else(|| history.event_at(p))
        };
        let original = event_at(position).ok_or_else(|| {
            CommandError::Invalid(format!("{what} points at {target}, which cannot be read"))
        })?;
        let mut data = match original.payload.to_value() {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        // Earlier corrections of the same event count too.
        for f in facts
            .iter()
            .filter(|f| f.ty == EventType::Corrected && f.target == position)
        {
            if let Some(Payload::Corrected(c)) = event_at(f.position).map(|e| e.payload)
                && let Some(d) = c.data
            {
                data.extend(d);
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
