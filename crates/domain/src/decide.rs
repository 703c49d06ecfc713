//! Deciding whether new events may join a stream: every rule a write must
//! pass, as one pure function.
//!
//! [`decide`] takes what a stream is now ([`State`]), the events proposed
//! for it, the clock reading and a way to ask about the rest of the
//! registry ([`World`]), and answers the events to append or a
//! [`Rejection`]. [`State::evolve`] folds an accepted event into the state,
//! so a caller deciding many events ahead of writing them (the seed loader,
//! the generator of synthetic histories) decides each against everything
//! it accepted before.
//!
//! The rules, in the order they are checked:
//!
//! 1. A write carries at least one event.
//! 2. A stream that does not exist yet starts with an opening event
//!    (`PartyRegistered`, `PartnershipOpened`, `OfferPublished`); anything
//!    else is written to a stream that is not there.
//! 3. Every event belongs to the stream's kind and is valid on its own
//!    ([`Event::validate`]: the date its type needs, a short note, a
//!    source with a title, reasons, names and codes of the right form).
//! 4. A party is registered once and amended after; its parent exists and
//!    is not the party itself. No other party answers to its id, any of
//!    its names or aliases, compared as [`NameKey`]s (so a look-up by any
//!    of them finds this party alone); its own may repeat among
//!    themselves.
//! 5. An offer is published once, by a Czech home party, for a party that
//!    exists; then matched (to a partnership that exists), withdrawn or
//!    lapsed, and nothing after.
//! 6. A partnership is opened once, with a Czech home party and a partner
//!    that exists. Its lifecycle steps apply in order of their effective
//!    dates ([`crate::history`]), and each must fit the state the earlier
//!    ones left ([`crate::lifecycle::transition`]), whatever order they
//!    were recorded in. A correction or retraction points at a lifecycle
//!    event of the same partnership that is not retracted, and corrected
//!    data still makes a valid event of the target's type.
//!
//! No IO and no clock: the caller reads the store and the clock and hands
//! the answers in. A refusal names the state met and the events allowed
//! there ([`Refusal`]).

use std::borrow::Cow;
use std::fmt;

use crate::event::{Event, EventType, Payload};
use crate::history::{Fact, Timeline, is_step};
use crate::id::{EventId, Slug, StreamId, StreamKind};
use crate::lifecycle::{
    OfferStatus, Refusal, Status, Transition, offer_transition, party_transition, transition,
};
use crate::name::NameKey;
use crate::record::Recorded;
use crate::time::Timestamp;

/// The country of every home party (ISO 3166-1 alpha-2): the registry
/// records the partnerships and offers of Czech regions and towns.
pub const HOME_COUNTRY: &str = "CZ";

/// A new event with the id it will be stored under.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Proposed {
    /// Its id.
    pub id: EventId,
    /// The event.
    pub event: Event,
}

/// What [`decide`] needs to know of one stream.
///
/// Invariant: the variant is the stream's kind ([`State::new`] and
/// [`State::from_records`] build it so).
#[derive(Clone, Debug)]
pub enum State<'a> {
    /// A party stream: whether the party is registered.
    Party {
        /// True once `PartyRegistered` is stored.
        registered: bool,
    },
    /// An offer stream: its status, `None` before it is published.
    Offer(Option<OfferStatus>),
    /// A partnership stream.
    Partnership(History<'a>),
}

/// A partnership as [`decide`] needs it: its facts, borrowed from a read
/// model where one is at hand.
#[derive(Clone, Debug, Default)]
pub struct History<'a> {
    /// Whether the header (`PartnershipOpened`) is stored.
    pub opened: bool,
    /// The stored events after the header, as facts, in log order.
    pub facts: Cow<'a, [Fact]>,
    /// The facts resolved as known now, if at hand: it makes the common
    /// write, one step dated after every other, a constant-time check.
    pub timeline: Option<&'a Timeline>,
}

impl State<'_> {
    /// The state of a stream that does not exist yet.
    pub fn new(kind: StreamKind) -> State<'static> {
        match kind {
            StreamKind::Party => State::Party { registered: false },
            StreamKind::Offer => State::Offer(None),
            StreamKind::Partnership => State::Partnership(History::default()),
        }
    }

    /// The state of a stream from its stored records (version order).
    /// Refuses records that do not fold (a correction pointing nowhere).
    pub fn from_records(
        kind: StreamKind,
        records: &[Recorded],
    ) -> Result<State<'static>, Rejection> {
        let mut state = State::new(kind);
        for (i, r) in records.iter().enumerate() {
            state.evolve(
                r.envelope.position,
                r.envelope.recorded_at,
                &r.event,
                |target| {
                    records[..i]
                        .iter()
                        .find(|x| x.envelope.event_id == target)
                        .map(|x| x.envelope.position)
                },
            )?;
        }
        Ok(state)
    }

    /// Whether the stream exists.
    pub fn exists(&self) -> bool {
        match self {
            State::Party { registered } => *registered,
            State::Offer(status) => status.is_some(),
            State::Partnership(h) => h.opened,
        }
    }

    /// Folds in an event accepted by [`decide`], stored (or to be stored)
    /// at `position` at `recorded_at`, positions growing in log order.
    /// `target_position` finds the event a correction or retraction points
    /// at.
    pub fn evolve(
        &mut self,
        position: u64,
        recorded_at: Timestamp,
        event: &Event,
        target_position: impl FnOnce(EventId) -> Option<u64>,
    ) -> Result<(), Rejection> {
        let ty = event.event_type();
        match self {
            State::Party { registered } => *registered = true,
            State::Offer(status) => *status = offer_transition(*status, ty).or(*status),
            State::Partnership(h) if ty == EventType::PartnershipOpened => h.opened = true,
            State::Partnership(h) => {
                let fact = Fact::from_event(position, recorded_at, event, target_position)
                    .map_err(Rejection::Invalid)?;
                h.facts.to_mut().push(fact);
                h.timeline = None;
            }
        }
        Ok(())
    }
}

/// An event found elsewhere in the registry.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Located {
    /// Its stream.
    pub stream: StreamId,
    /// Its log position.
    pub position: u64,
    /// The event.
    pub event: Event,
}

/// How a party answers to a name (see [`NameHolder`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Held {
    /// It is the party's id.
    Id,
    /// It is one of the party's current names.
    Name,
    /// It is one of the party's aliases.
    Alias,
    /// It was one of the party's names before an amendment replaced them;
    /// the party is still found by it.
    FormerName,
}

impl Held {
    /// The phrase before the party: "the id of", "a name of"…
    pub fn phrase(self) -> &'static str {
        match self {
            Held::Id => "the id of",
            Held::Name => "a name of",
            Held::Alias => "an alias of",
            Held::FormerName => "a former name of",
        }
    }
}

/// A party that answers to a name key, and how.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NameHolder {
    /// The party.
    pub party: Slug,
    /// As what it holds the name.
    pub held: Held,
}

/// What [`decide`] asks about the rest of the registry: the store, plus
/// whatever a caller deciding ahead has accepted and not yet written.
pub trait World {
    /// Why an answer could not be had (a storage error).
    type Error;
    /// A party's country (ISO 3166-1 alpha-2), `None` if it does not exist.
    fn party_country(&self, party: &Slug) -> Result<Option<String>, Self::Error>;
    /// Every party that answers to `key` as its id, a name, an alias or a
    /// former name (several only in data stored before names were
    /// unique), each once, as the strongest of those.
    fn name_holders(&self, key: &NameKey) -> Result<Vec<NameHolder>, Self::Error>;
    /// Whether a partnership exists.
    fn partnership_exists(&self, partnership: &Slug) -> Result<bool, Self::Error>;
    /// An event by id, in whatever stream it is.
    fn event(&self, id: EventId) -> Result<Option<Located>, Self::Error>;
}

/// Why events may not be written. Each says what was wrong and, for the
/// lifecycle, what would be right.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum Rejection {
    /// The lifecycle refuses an event: the state met and the events
    /// allowed there.
    #[error("{0}")]
    Refused(Refusal),
    /// An event is not valid here (a wrong stream, a bad reference, a
    /// foreign home party, a note too long).
    #[error("{0}")]
    Invalid(String),
    /// A party named does not exist.
    #[error("party {0} does not exist")]
    UnknownParty(Slug),
    /// The stream written to, or a partnership named, does not exist.
    #[error("{0}")]
    NotFound(String),
}

/// A [`Rejection`], or a [`World`] that could not answer.
#[derive(Debug)]
pub enum DecideError<E> {
    /// The events may not be written.
    Rejected(Rejection),
    /// The world's look-up failed; nothing was decided.
    World(E),
}

impl<E> From<Rejection> for DecideError<E> {
    fn from(r: Rejection) -> DecideError<E> {
        DecideError::Rejected(r)
    }
}

impl<E: fmt::Display> fmt::Display for DecideError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecideError::Rejected(r) => r.fmt(f),
            DecideError::World(e) => e.fmt(f),
        }
    }
}

type Decided<T, E> = Result<T, DecideError<E>>;

/// Decides whether `events` may be appended to `stream`, which is in
/// `state`; `now` is the clock reading (an undated event counts from its
/// day). Answers the events to append, in order.
pub fn decide<W: World + ?Sized>(
    stream: &StreamId,
    state: &State<'_>,
    events: Vec<Proposed>,
    now: Timestamp,
    world: &W,
) -> Decided<Vec<Proposed>, W::Error> {
    let Some(first) = events.first() else {
        return Err(Rejection::Invalid("no events to append".into()).into());
    };
    if !state.exists() && !opens_a_stream(first.event.event_type()) {
        return Err(Rejection::NotFound(format!("{stream} does not exist")).into());
    }
    for p in &events {
        let ty = p.event.event_type();
        if ty.stream_kind() != stream.kind {
            return Err(Rejection::Invalid(format!(
                "{ty} does not belong in a {} stream",
                stream.kind.as_str()
            ))
            .into());
        }
        p.event
            .validate()
            .map_err(|e| Rejection::Invalid(e.to_string()))?;
    }
    match (stream.kind, state) {
        (StreamKind::Party, State::Party { registered }) => {
            decide_party(stream, *registered, &events, world)?
        }
        (StreamKind::Offer, State::Offer(status)) => decide_offer(*status, &events, world)?,
        (StreamKind::Partnership, State::Partnership(history)) => {
            decide_partnership(stream, history, &events, now, world)?
        }
        (kind, _) => {
            return Err(Rejection::Invalid(format!(
                "the state given for {stream} is not that of a {} stream",
                kind.as_str()
            ))
            .into());
        }
    }
    Ok(events)
}

/// The event types that start a stream of some kind.
fn opens_a_stream(ty: EventType) -> bool {
    matches!(
        ty,
        EventType::PartyRegistered | EventType::PartnershipOpened | EventType::OfferPublished
    )
}

/// A refusal in a party or offer state: `allowed` are the types of the
/// stream's kind that `accepts` takes.
fn refusal(state: &str, event: EventType, accepts: impl Fn(EventType) -> bool) -> Refusal {
    Refusal {
        state: state.to_owned(),
        event,
        allowed: EventType::ALL
            .into_iter()
            .filter(|&t| t.stream_kind() == event.stream_kind() && accepts(t))
            .collect(),
        date: None,
        detail: None,
    }
}

fn decide_party<W: World + ?Sized>(
    stream: &StreamId,
    mut registered: bool,
    events: &[Proposed],
    world: &W,
) -> Decided<(), W::Error> {
    for p in events {
        let ty = p.event.event_type();
        if party_transition(registered, ty).is_none() {
            let state = if registered { "registered" } else { "none" };
            let mut r = refusal(state, ty, |t| party_transition(registered, t).is_some());
            r.detail = Some(if registered {
                format!("party {} exists already", stream.id)
            } else {
                format!("party {} is not registered", stream.id)
            });
            return Err(Rejection::Refused(r).into());
        }
        claim_names(stream, &p.event.payload, world)?;
        let parent = match &p.event.payload {
            Payload::PartyRegistered(r) => r.parent.as_ref(),
            Payload::PartyAmended(a) => a.parent.as_ref(),
            _ => None,
        };
        if let Some(parent) = parent {
            if parent == &stream.id {
                return Err(Rejection::Invalid("a party cannot be its own parent".into()).into());
            }
            if world
                .party_country(parent)
                .map_err(DecideError::World)?
                .is_none()
            {
                return Err(Rejection::UnknownParty(parent.clone()).into());
            }
        }
        registered = true;
    }
    Ok(())
}

/// The id, names and aliases a party event gives its party are answered
/// to by no other party: a name another party holds would make a look-up
/// by it find the wrong party, or several.
fn claim_names<W: World + ?Sized>(
    stream: &StreamId,
    payload: &Payload,
    world: &W,
) -> Decided<(), W::Error> {
    let mut claimed: Vec<(&str, &str)> = Vec::new();
    match payload {
        Payload::PartyRegistered(r) => {
            claimed.push(("id", stream.id.as_str()));
            claimed.extend(r.names.all().map(|n| ("name", n)));
            claimed.extend(r.aliases.iter().map(|a| ("alias", a.as_str())));
        }
        Payload::PartyAmended(a) => {
            claimed.extend(a.names.iter().flat_map(|n| n.all()).map(|n| ("name", n)));
            claimed.extend(a.add_aliases.iter().map(|a| ("alias", a.as_str())));
        }
        _ => return Ok(()),
    }
    for (what, text) in claimed {
        let holders = world
            .name_holders(&NameKey::of(text))
            .map_err(DecideError::World)?;
        if let Some(other) = holders.iter().find(|h| h.party != stream.id) {
            return Err(Rejection::Invalid(format!(
                "{what} {text:?} is already {} party {}",
                other.held.phrase(),
                other.party
            ))
            .into());
        }
    }
    Ok(())
}

fn decide_offer<W: World + ?Sized>(
    mut state: Option<OfferStatus>,
    events: &[Proposed],
    world: &W,
) -> Decided<(), W::Error> {
    for p in events {
        let ty = p.event.event_type();
        let Some(next) = offer_transition(state, ty) else {
            let name = state.map_or("none", OfferStatus::as_str);
            let r = refusal(name, ty, |t| offer_transition(state, t).is_some());
            return Err(Rejection::Refused(r).into());
        };
        match &p.event.payload {
            Payload::OfferPublished(o) => {
                if world
                    .party_country(&o.party)
                    .map_err(DecideError::World)?
                    .is_none()
                {
                    return Err(Rejection::UnknownParty(o.party.clone()).into());
                }
                czech_home(world, &o.home, "an offer is published by")?;
            }
            Payload::OfferMatched(m)
                if !world
                    .partnership_exists(&m.partnership)
                    .map_err(DecideError::World)? =>
            {
                return Err(Rejection::NotFound(format!(
                    "partnership {} does not exist",
                    m.partnership
                ))
                .into());
            }
            _ => {}
        }
        state = Some(next);
    }
    Ok(())
}

/// The home side of a partnership or an offer is a registered Czech party.
fn czech_home<W: World + ?Sized>(world: &W, home: &Slug, role: &str) -> Decided<(), W::Error> {
    match world.party_country(home).map_err(DecideError::World)? {
        None => Err(Rejection::UnknownParty(home.clone()).into()),
        Some(c) if c == HOME_COUNTRY => Ok(()),
        Some(c) => {
            Err(Rejection::Invalid(format!("{role} the Czech side, and {home} is in {c}")).into())
        }
    }
}

/// Where new events sit in the fold: after every stored position.
const NEW_POSITIONS: u64 = u64::MAX / 2;

fn decide_partnership<W: World + ?Sized>(
    stream: &StreamId,
    history: &History<'_>,
    events: &[Proposed],
    now: Timestamp,
    world: &W,
) -> Decided<(), W::Error> {
    // Dates a person could not have meant: before 1900, or more than a
    // year after the day they are recorded.
    let today = now.day();
    for p in events {
        let e = &p.event;
        let mut dates = vec![("date", e.date)];
        match &e.payload {
            Payload::Terminated(t) => dates.push(("data.effective", t.effective)),
            Payload::Corrected(c) => {
                dates.push(("data.date", c.date));
                let effective = c.data.as_ref().and_then(|d| d.get("effective"));
                let effective = effective.and_then(|v| serde_json::from_value(v.clone()).ok());
                dates.push(("data.data.effective", effective));
            }
            _ => {}
        }
        for (field, date) in dates {
            if let Some(date) = date {
                crate::limits::check_plausible(field, &date, today).map_err(Rejection::Invalid)?;
            }
        }
    }
    // The header comes first and only once. (A stream that does not exist
    // starts with an opening event, and only PartnershipOpened belongs
    // here: rules 2 and 3.)
    for (i, p) in events.iter().enumerate() {
        let Payload::PartnershipOpened(o) = &p.event.payload else {
            continue;
        };
        if history.opened || i > 0 {
            let status = Timeline::resolve(&history.facts, None)
                .map(|t| t.final_status())
                .unwrap_or(Status::Proposed);
            return Err(Rejection::Refused(
                Refusal::partnership(status, EventType::PartnershipOpened)
                    .with_detail("the partnership is open already"),
            )
            .into());
        }
        czech_home(world, &o.home, "the home party of a partnership is")?;
        // A partnership's id names its home party, so that nobody opens
        // one in another region's name.
        if !stream.id.as_str().starts_with(&format!("{}--", o.home)) {
            return Err(Rejection::Invalid(format!(
                "the id {} must begin with {}-- (a partnership's id begins with its home party)",
                stream.id, o.home
            ))
            .into());
        }
        if world
            .party_country(&o.partner)
            .map_err(DecideError::World)?
            .is_none()
        {
            return Err(Rejection::UnknownParty(o.partner.clone()).into());
        }
    }

    // The common case: one new step that sorts after every stored one
    // only has to fit the state the history ends in.
    if let ([p], Some(timeline)) = (events, history.timeline)
        && is_step(p.event.event_type())
    {
        let fact =
            Fact::from_event(NEW_POSITIONS, now, &p.event, |_| None).map_err(Rejection::Invalid)?;
        let key = (fact.order_day(), fact.effective.lo());
        let last = timeline
            .steps()
            .last()
            .map(|s| (s.order_day(), s.effective.lo()));
        if last.is_none_or(|l| key >= l) {
            let state = timeline.final_status();
            return match transition(state, fact.ty) {
                Transition::Refuse => {
                    let mut refusal = Refusal::partnership(state, fact.ty);
                    refusal.date = p.event.date.map(|d| d.to_string());
                    Err(Rejection::Refused(refusal).into())
                }
                Transition::Move(_) | Transition::Keep => Ok(()),
            };
        }
    }

    // The stored facts, then the new ones after the log's end, folded in
    // effective order.
    let mut facts: Vec<Fact> = history.facts.to_vec();
    let mut pending: Vec<(EventId, u64, &Event)> = Vec::new();
    for (i, p) in events.iter().enumerate() {
        if p.event.event_type() == EventType::PartnershipOpened {
            continue;
        }
        let position = NEW_POSITIONS + i as u64;
        let target = check_target(stream, &p.event, &pending, &facts, world)?;
        let fact =
            Fact::from_event(position, now, &p.event, |_| target).map_err(Rejection::Invalid)?;
        pending.push((p.id, position, &p.event));
        facts.push(fact);
    }
    Timeline::resolve(&facts, None)
        .map(|_| ())
        .map_err(|r| Rejection::Refused(r).into())
}

/// A correction or retraction must point at a lifecycle event of this
/// partnership that is not retracted, and a correction's data must still
/// make a valid event of the target's type. Answers the target's position
/// (`None` for other events).
fn check_target<W: World + ?Sized>(
    stream: &StreamId,
    event: &Event,
    pending: &[(EventId, u64, &Event)],
    facts: &[Fact],
    world: &W,
) -> Decided<Option<u64>, W::Error> {
    let (target, patch) = match &event.payload {
        Payload::Corrected(c) => (c.target, c.data.as_ref()),
        Payload::Retracted(r) => (r.target, None),
        _ => return Ok(None),
    };
    let what = event.event_type();
    // An event of this stream at a position: pending in this write, or
    // stored.
    let in_stream = |located: Option<Located>| located.filter(|l| &l.stream == stream);
    let original: Option<(u64, Cow<'_, Event>)> = match pending.iter().find(|x| x.0 == target) {
        Some(&(_, position, e)) => Some((position, Cow::Borrowed(e))),
        None => in_stream(world.event(target).map_err(DecideError::World)?)
            .map(|l| (l.position, Cow::Owned(l.event))),
    };
    let Some((position, original)) = original else {
        return Err(Rejection::Invalid(format!(
            "{what} points at {target}, which is not an event of this partnership"
        ))
        .into());
    };
    let ty = original.event_type();
    if !is_step(ty) {
        return Err(Rejection::Invalid(format!(
            "{what} can point only at a lifecycle event, not at {ty}"
        ))
        .into());
    }
    if facts
        .iter()
        .any(|f| f.ty == EventType::Retracted && f.target == position)
    {
        return Err(Rejection::Invalid(format!(
            "{what} points at {target}, which is retracted already"
        ))
        .into());
    }
    // The fields of event data are each checked on their own, so earlier
    // corrections of the target (each checked when it was written) cannot
    // change the answer: the target's data and this patch decide it.
    if let Some(patch) = patch {
        let mut data = match original.payload.to_value() {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        data.extend(patch.clone());
        let merged = serde_json::Value::Object(data).to_string();
        let corrected = Payload::from_json(ty, &merged).map_err(|e| {
            Rejection::Invalid(format!("the corrected data is not a valid {ty}: {e}"))
        })?;
        crate::limits::check_payload("data.data", &corrected)
            .map_err(|e| Rejection::Invalid(e.to_string()))?;
    }
    Ok(Some(position))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::date::Day;
    use crate::record::{Digest, Envelope};

    /// The partnership most tests write to.
    const BERGAMO: &str = "partnership/plzensky-kraj--bergamo";
    const HEADER: &str =
        r#"{"type":"PartnershipOpened","data":{"home":"plzensky-kraj","partner":"bergamo"}}"#;
    const NOW: &str = "2026-06-15";

    fn now() -> Timestamp {
        Timestamp::start_of(NOW.parse::<Day>().unwrap())
    }

    /// Event `@n` of a table: the header of a given partnership is `@0`,
    /// its given events `@1`, `@2`…, the events written `@10`, `@11`…,
    /// and `@99` is an event of another partnership.
    fn id(n: u8) -> EventId {
        EventId::from_bytes(u128::from(n).to_be_bytes())
    }

    /// Replaces every `@n` with the id of event `n`.
    fn ids(text: &str) -> String {
        let mut text = text.to_owned();
        for n in (0..100).rev() {
            text = text.replace(&format!("@{n}"), &id(n).to_string());
        }
        text
    }

    fn event(text: &str) -> Event {
        serde_json::from_str(&ids(text)).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// The rest of the registry: parties with their countries, one
    /// partnership, and stored events.
    struct Elsewhere {
        parties: HashMap<&'static str, &'static str>,
        /// Names and aliases: the text, its party, how it holds it.
        names: Vec<(&'static str, &'static str, Held)>,
        partnerships: Vec<&'static str>,
        events: Vec<(EventId, Located)>,
    }

    impl Elsewhere {
        fn new() -> Elsewhere {
            let parties = [
                ("plzensky-kraj", "CZ"),
                ("liberecky-kraj", "CZ"),
                ("novy-bor", "CZ"),
                ("bergamo", "IT"),
                ("molde", "NO"),
            ];
            let other = Located {
                stream: StreamId::parse("partnership/liberecky-kraj--molde").unwrap(),
                position: 1000,
                event: event(
                    r#"{"type":"ActivityRecorded","date":"2010","data":{"kind":"visit"}}"#,
                ),
            };
            let names = vec![
                ("Plzeňský kraj", "plzensky-kraj", Held::Name),
                ("Plzeň Region", "plzensky-kraj", Held::Name),
                ("Pilsen", "plzensky-kraj", Held::Alias),
                ("Liberecký kraj", "liberecky-kraj", Held::Name),
                ("Liberec Region", "liberecky-kraj", Held::Name),
                ("Nový Bor", "novy-bor", Held::Name),
                ("Haida", "novy-bor", Held::FormerName),
                ("Molde", "molde", Held::Name),
            ];
            Elsewhere {
                parties: parties.into_iter().collect(),
                names,
                partnerships: vec!["plzensky-kraj--bergamo", "liberecky-kraj--molde"],
                events: vec![(id(99), other)],
            }
        }
    }

    impl World for Elsewhere {
        type Error = std::convert::Infallible;
        fn party_country(&self, party: &Slug) -> Result<Option<String>, Self::Error> {
            Ok(self.parties.get(party.as_str()).map(|c| (*c).to_owned()))
        }
        fn name_holders(&self, key: &NameKey) -> Result<Vec<NameHolder>, Self::Error> {
            let holder = |party: &str, held| NameHolder {
                party: Slug::parse(party).unwrap(),
                held,
            };
            let mut holders: Vec<NameHolder> = self
                .parties
                .keys()
                .filter(|id| **id == key.as_str())
                .map(|id| holder(id, Held::Id))
                .collect();
            for (text, party, held) in &self.names {
                if NameKey::of(text) == *key && !holders.iter().any(|h| h.party.as_str() == *party)
                {
                    holders.push(holder(party, *held));
                }
            }
            Ok(holders)
        }
        fn partnership_exists(&self, partnership: &Slug) -> Result<bool, Self::Error> {
            Ok(self.partnerships.contains(&partnership.as_str()))
        }
        fn event(&self, id: EventId) -> Result<Option<Located>, Self::Error> {
            Ok(self.events.iter().find(|e| e.0 == id).map(|e| e.1.clone()))
        }
    }

    /// Stores `given` (the header first, if the stream has one) in `world`
    /// and folds it into a state, as the registry does from the log.
    fn given(stream: &StreamId, given: &[&str], world: &mut Elsewhere) -> State<'static> {
        let mut state = State::new(stream.kind);
        for (n, text) in given.iter().enumerate() {
            let e = event(text);
            let position = n as u64 + 1;
            let find = |t: EventId| world.events.iter().find(|x| x.0 == t).map(|x| x.1.position);
            state.evolve(position, now(), &e, find).unwrap();
            let located = Located {
                stream: stream.clone(),
                position,
                event: e,
            };
            world.events.push((id(n as u8), located));
        }
        state
    }

    fn written(when: &[&str]) -> Vec<Proposed> {
        when.iter()
            .enumerate()
            .map(|(n, text)| Proposed {
                id: id(10 + n as u8),
                event: event(text),
            })
            .collect()
    }

    fn answer(result: Decided<Vec<Proposed>, std::convert::Infallible>) -> Result<(), Rejection> {
        match result {
            Ok(_) => Ok(()),
            Err(DecideError::Rejected(r)) => Err(r),
            Err(DecideError::World(e)) => match e {},
        }
    }

    /// Given the stored events of `stream` (none: it does not exist),
    /// when `when` are written, then `expect`: `ok`, or the rejection's
    /// message (`@n` for event ids; a trailing `…` matches any rest).
    ///
    /// A partnership is decided twice: with its timeline at hand, as the
    /// registry has it from its read model (whose answer is `expect`), and
    /// without, as the loaders have it; both must decide alike.
    #[track_caller]
    fn check(stream: &str, stored: &[&str], when: &[&str], expect: &str) {
        let stream = StreamId::parse(stream).unwrap();
        let mut world = Elsewhere::new();
        let state = given(&stream, stored, &mut world);
        let mut got = answer(decide(&stream, &state, written(when), now(), &world));
        if let State::Partnership(h) = &state {
            let timeline = Timeline::resolve(&h.facts, None).unwrap();
            let live = State::Partnership(History {
                opened: h.opened,
                facts: Cow::Borrowed(&*h.facts),
                timeline: Some(&timeline),
            });
            let fast = answer(decide(&stream, &live, written(when), now(), &world));
            match (&got, &fast) {
                // The quick check of a step dated last words its refusal
                // more briefly (the date as written, no note on order).
                (Err(Rejection::Refused(a)), Err(Rejection::Refused(b))) => assert_eq!(
                    (&a.state, a.event, &a.allowed),
                    (&b.state, b.event, &b.allowed),
                    "with the timeline at hand"
                ),
                _ => assert_eq!(got, fast, "with the timeline at hand"),
            }
            got = fast;
        }
        let text = match &got {
            Ok(()) => "ok".to_owned(),
            Err(r) => r.to_string(),
        };
        let expect = ids(expect);
        match expect.strip_suffix('…') {
            Some(prefix) => assert!(text.starts_with(prefix), "{text}\nexpected {expect}"),
            None => assert_eq!(text, expect),
        }
    }

    /// A partnership with its header and then `stored`.
    #[track_caller]
    fn check_partnership(stored: &[&str], when: &[&str], expect: &str) {
        let with_header: Vec<&str> = std::iter::once(HEADER)
            .chain(stored.iter().copied())
            .collect();
        check(BERGAMO, &with_header, when, expect);
    }

    const PROPOSED_ALLOWS: &str = "ContactEstablished, NegotiationStarted, Signed, \
        ActivityRecorded, Attested, Corrected, Retracted";
    const ACTIVE_ALLOWS: &str = "Amended, ActivityRecorded, Stagnated, Suspended, Terminated, \
        Attested, Corrected, Retracted";
    const IN_ORDER: &str = "events apply in order of their effective dates (by the last day each date allows; a date open at its end by its first day)";

    const SIGNED_2010: &str =
        r#"{"type":"Signed","date":"2010-05-01","data":{"instrument":"cooperation_agreement"}}"#;

    #[test]
    fn every_write_carries_events_that_belong_and_are_valid() {
        check_partnership(&[], &[], "no events to append");
        check_partnership(
            &[],
            &[r#"{"type":"OfferLapsed"}"#],
            "OfferLapsed does not belong in a partnership stream",
        );
        check(
            "party/novy-bor",
            &[
                r#"{"type":"PartyRegistered","data":{"kind":"town","names":{"cs":"Nový Bor"},"country":"CZ"}}"#,
            ],
            &[SIGNED_2010],
            "Signed does not belong in a party stream",
        );
        check_partnership(
            &[],
            &[r#"{"type":"Signed","data":{"instrument":"official_relations"}}"#],
            "Signed needs a date",
        );
        let long = format!(
            r#"{{"type":"ActivityRecorded","date":"2010","data":{{"kind":"visit"}},"note":"{}"}}"#,
            "ř".repeat(crate::event::MAX_NOTE_CHARS + 1)
        );
        check_partnership(&[], &[&long], "note: at most 2000 characters (got 2001)");
        let short = long
            .replace('ř', "")
            .replace(r#""note":"""#, r#""note":"ok""#);
        check_partnership(&[], &[&short], "ok");
    }

    #[test]
    fn a_partnership_fact_lies_between_1900_and_a_year_after_it_is_recorded() {
        let today = now().day();
        let (_, last) = crate::limits::plausible_days(today);
        let after = Day::from_number(last.number() + 1);
        let rows: &[(&str, &str)] = &[
            (
                r#"{"type":"Signed","date":"1900-01-01","data":{"instrument":"cooperation_agreement"}}"#,
                "ok",
            ),
            (
                r#"{"type":"Signed","date":"[..2001]","data":{"instrument":"cooperation_agreement"}}"#,
                "ok",
            ),
            (
                r#"{"type":"Signed","date":"1850-01-01","data":{"instrument":"cooperation_agreement"}}"#,
                "date: 1850-01-01 is outside the dates a partnership fact may have: from 1900-01-01 to …",
            ),
            (
                r#"{"type":"Signed","date":"[..1899-12]","data":{"instrument":"cooperation_agreement"}}"#,
                "date: [..1899-12] is outside …",
            ),
            (
                r#"{"type":"Signed","date":"3000-01-01","data":{"instrument":"cooperation_agreement"}}"#,
                "date: 3000-01-01 is outside …",
            ),
        ];
        for (event, expect) in rows {
            check_partnership(&[], &[event], expect);
        }
        let at = |d: Day| {
            format!(
                r#"{{"type":"Signed","date":"{d}","data":{{"instrument":"cooperation_agreement"}}}}"#
            )
        };
        check_partnership(&[], &[&at(last)], "ok");
        check_partnership(
            &[],
            &[&at(after)],
            &format!(
                "date: {after} is outside the dates a partnership fact may have: from 1900-01-01 to {last} (a year after the record day)"
            ),
        );
        let end = r#"{"type":"Terminated","date":"2020-01-01","data":{"mode":"mutual","reason":"r","effective":"3000-01-01"}}"#;
        check_partnership(
            &[SIGNED_2010],
            &[end],
            "data.effective: 3000-01-01 is outside …",
        );
    }

    #[test]
    fn a_stream_that_does_not_exist_starts_with_its_opening_event() {
        let cases: &[(&str, &[&str], &str)] = &[
            (BERGAMO, &[HEADER], "ok"),
            (BERGAMO, &[HEADER, SIGNED_2010], "ok"),
            (
                BERGAMO,
                &[SIGNED_2010],
                "partnership/plzensky-kraj--bergamo does not exist",
            ),
            (
                BERGAMO,
                &[SIGNED_2010, HEADER],
                "partnership/plzensky-kraj--bergamo does not exist",
            ),
            // An opening event of another kind of stream does not belong.
            (
                BERGAMO,
                &[r#"{"type":"OfferPublished","data":{"party":"bergamo","home":"plzensky-kraj"}}"#],
                "OfferPublished does not belong in a partnership stream",
            ),
            (
                "party/novy-bor",
                &[r#"{"type":"PartyAmended","data":{}}"#],
                "party/novy-bor does not exist",
            ),
            (
                "offer/bergamo-2010",
                &[r#"{"type":"OfferLapsed"}"#],
                "offer/bergamo-2010 does not exist",
            ),
        ];
        for (stream, when, expect) in cases {
            check(stream, &[], when, expect);
        }
    }

    #[test]
    fn a_partnership_opens_once_with_a_czech_home_and_a_partner_that_exists() {
        let open = |home: &str, partner: &str| {
            format!(
                r#"{{"type":"PartnershipOpened","data":{{"home":"{home}","partner":"{partner}"}}}}"#
            )
        };
        let cases: &[(String, &str)] = &[
            (open("plzensky-kraj", "bergamo"), "ok"),
            (open("plzensky-kraj", "novy-bor"), "ok"),
            (
                open("bergamo", "plzensky-kraj"),
                "the home party of a partnership is the Czech side, and bergamo is in IT",
            ),
            (open("atlantis", "bergamo"), "party atlantis does not exist"),
            (
                open("liberecky-kraj", "bergamo"),
                "the id plzensky-kraj--bergamo must begin with liberecky-kraj-- \
                 (a partnership's id begins with its home party)",
            ),
            (
                open("plzensky-kraj", "atlantis"),
                "party atlantis does not exist",
            ),
            (
                open("plzensky-kraj", "plzensky-kraj"),
                "a partnership needs two different parties (home equals partner)",
            ),
        ];
        for (when, expect) in cases {
            check(BERGAMO, &[], &[when], expect);
        }
        check(
            BERGAMO,
            &[],
            &[HEADER, HEADER],
            &format!(
                "PartnershipOpened is refused in state proposed; allowed there: {PROPOSED_ALLOWS}. \
                 the partnership is open already"
            ),
        );
        check_partnership(
            &[SIGNED_2010],
            &[HEADER],
            &format!(
                "PartnershipOpened is refused in state active; allowed there: {ACTIVE_ALLOWS}. \
                 the partnership is open already"
            ),
        );
    }

    /// A history that ends in each state, and a valid event of each
    /// lifecycle step type, dated after it.
    const ENDS_IN: &[(Status, &[&str])] = &[
        (Status::Proposed, &[]),
        (
            Status::Negotiating,
            &[r#"{"type":"ContactEstablished","date":"2001"}"#],
        ),
        (
            Status::Active,
            &[r#"{"type":"Signed","date":"2001","data":{"instrument":"official_relations"}}"#],
        ),
        (
            Status::Stagnating,
            &[
                r#"{"type":"Signed","date":"2001","data":{"instrument":"official_relations"}}"#,
                r#"{"type":"Stagnated","date":"2002"}"#,
            ],
        ),
        (
            Status::Suspended,
            &[
                r#"{"type":"Signed","date":"2001","data":{"instrument":"official_relations"}}"#,
                r#"{"type":"Suspended","date":"2002"}"#,
            ],
        ),
        (
            Status::Terminated,
            &[
                r#"{"type":"Signed","date":"2001","data":{"instrument":"official_relations"}}"#,
                r#"{"type":"Terminated","date":"2002","data":{"mode":"mutual","reason":"x"}}"#,
            ],
        ),
    ];

    const STEPS: &[&str] = &[
        r#"{"type":"ContactEstablished","date":"2020-01-01"}"#,
        r#"{"type":"NegotiationStarted","date":"2020-01-01"}"#,
        r#"{"type":"Signed","date":"2020-01-01","data":{"instrument":"official_relations"}}"#,
        r#"{"type":"Amended","date":"2020-01-01","data":{"title":"x"}}"#,
        r#"{"type":"ActivityRecorded","date":"2020-01-01","data":{"kind":"letter"}}"#,
        r#"{"type":"Stagnated","date":"2020-01-01"}"#,
        r#"{"type":"Revived","date":"2020-01-01"}"#,
        r#"{"type":"Suspended","date":"2020-01-01"}"#,
        r#"{"type":"Terminated","date":"2020-01-01","data":{"mode":"denounced","reason":"x"}}"#,
        r#"{"type":"Attested","date":"2020-01-01"}"#,
    ];

    #[test]
    fn every_step_in_every_state_follows_the_lifecycle() {
        let mut seen = 0;
        for (status, history) in ENDS_IN {
            for step in STEPS {
                let ty = event(step).event_type();
                let expect = match transition(*status, ty) {
                    Transition::Refuse => {
                        let mut r = Refusal::partnership(*status, ty);
                        r.date = Some("2020-01-01".into());
                        r.to_string()
                    }
                    Transition::Move(_) | Transition::Keep => "ok".into(),
                };
                check_partnership(history, &[step], &expect);
                seen += 1;
            }
        }
        let steps = EventType::ALL.into_iter().filter(|&t| is_step(t)).count();
        assert_eq!(seen, Status::ALL.len() * steps, "every state, every step");
    }

    #[test]
    fn the_refusals_of_the_design_guide() {
        // Terminating what was never signed.
        check_partnership(
            &[],
            &[
                r#"{"type":"Terminated","date":"2012-03-01","data":{"mode":"denounced","reason":"x"}}"#,
            ],
            &format!(
                "Terminated is refused in state proposed (effective 2012-03-01); allowed there: {PROPOSED_ALLOWS}"
            ),
        );
        // Signing what is already terminated.
        check_partnership(
            &[
                SIGNED_2010,
                r#"{"type":"Terminated","date":"2022-03-01","data":{"mode":"denounced","reason":"x"}}"#,
            ],
            &[
                r#"{"type":"Signed","date":"2023-01-01","data":{"instrument":"cooperation_agreement"}}"#,
            ],
            "Signed is refused in state terminated (effective 2023-01-01); allowed there: Corrected, Retracted",
        );
        // Reviving what never stagnated.
        check_partnership(
            &[SIGNED_2010],
            &[r#"{"type":"Revived","date":"2012-01-01"}"#],
            &format!(
                "Revived is refused in state active (effective 2012-01-01); allowed there: {ACTIVE_ALLOWS}"
            ),
        );
        check_partnership(
            &[SIGNED_2010, r#"{"type":"Stagnated","date":"2012"}"#],
            &[r#"{"type":"Revived","date":"2013-01-01"}"#],
            "ok",
        );
    }

    #[test]
    fn steps_apply_in_order_of_their_effective_dates() {
        // Learned late, happened early: it fits before the signing.
        check_partnership(
            &[r#"{"type":"Signed","date":"2012","data":{"instrument":"official_relations"}}"#],
            &[r#"{"type":"ContactEstablished","date":"2007-02"}"#],
            "ok",
        );
        // A stagnation before the signing is refused, named by its dates.
        check_partnership(
            &[r#"{"type":"Signed","date":"2009","data":{"instrument":"official_relations"}}"#],
            &[r#"{"type":"Stagnated","date":"2008-05"}"#],
            &format!(
                "Stagnated is refused in state proposed (effective [2008-05-01..2008-05-31]); \
                 allowed there: {PROPOSED_ALLOWS}. {IN_ORDER}"
            ),
        );
        // A late-learned end breaks a stored step after it: the refusal
        // names that step.
        check_partnership(
            &[SIGNED_2010, r#"{"type":"Stagnated","date":"2012-06-01"}"#],
            &[r#"{"type":"Terminated","date":"2011-01-01","data":{"mode":"mutual","reason":"x"}}"#],
            &format!(
                "Stagnated is refused in state terminated (effective 2012-06-01); allowed there: Corrected, Retracted. \
                 it would follow Terminated dated 2011-01-01; {IN_ORDER}"
            ),
        );
        // Ordered by the last day a date allows: May 2010 may end after
        // the 20th.
        check_partnership(
            &[r#"{"type":"Signed","date":"2010-05","data":{"instrument":"official_relations"}}"#],
            &[r#"{"type":"Terminated","date":"2010-05-20","data":{"mode":"mutual","reason":"x"}}"#],
            &format!(
                "Terminated is refused in state proposed (effective 2010-05-20); allowed there: {PROPOSED_ALLOWS}. {IN_ORDER}"
            ),
        );
        // Several events of one write are decided together.
        check_partnership(
            &[],
            &[
                SIGNED_2010,
                r#"{"type":"Terminated","date":"2009-01-01","data":{"mode":"mutual","reason":"x"}}"#,
            ],
            &format!(
                "Terminated is refused in state proposed (effective 2009-01-01); allowed there: {PROPOSED_ALLOWS}. {IN_ORDER}"
            ),
        );
        check_partnership(
            &[],
            &[
                SIGNED_2010,
                r#"{"type":"Terminated","date":"2019-01-01","data":{"mode":"mutual","reason":"x"}}"#,
            ],
            "ok",
        );
    }

    #[test]
    fn an_undated_event_counts_from_the_day_it_is_recorded() {
        check_partnership(&[SIGNED_2010], &[r#"{"type":"Stagnated"}"#], "ok");
        check_partnership(
            &[
                r#"{"type":"Signed","date":"2030-01-01","data":{"instrument":"official_relations"}}"#,
            ],
            &[r#"{"type":"Stagnated"}"#],
            &format!(
                "Stagnated is refused in state proposed (effective {NOW}); allowed there: {PROPOSED_ALLOWS}. {IN_ORDER}"
            ),
        );
    }

    #[test]
    fn corrections_and_retractions_point_at_a_lifecycle_event_of_the_same_partnership() {
        let corrected = |target: &str, fields: &str| {
            format!(
                r#"{{"type":"Corrected","data":{{"target":"{target}","reason":"r",{fields}}}}}"#
            )
        };
        let retracted = |target: &str| {
            format!(r#"{{"type":"Retracted","data":{{"target":"{target}","reason":"r"}}}}"#)
        };
        let visit = r#"{"type":"ActivityRecorded","date":"2011","data":{"kind":"visit"}}"#;
        let cases: &[(&[&str], String, &str)] = &[
            (
                &[SIGNED_2010],
                corrected("@1", r#""date":"2009-01-01""#),
                "ok",
            ),
            (&[SIGNED_2010], retracted("@1"), "ok"),
            (
                &[SIGNED_2010],
                corrected("@50", r#""date":"2009""#),
                "Corrected points at @50, which is not an event of this partnership",
            ),
            (
                &[SIGNED_2010],
                retracted("@50"),
                "Retracted points at @50, which is not an event of this partnership",
            ),
            (
                &[SIGNED_2010],
                corrected("@99", r#""date":"2009""#),
                "Corrected points at @99, which is not an event of this partnership",
            ),
            (
                &[SIGNED_2010],
                corrected("@0", r#""date":"2009""#),
                "Corrected can point only at a lifecycle event, not at PartnershipOpened",
            ),
            (
                &[SIGNED_2010, &retracted("@1")],
                retracted("@2"),
                "Retracted can point only at a lifecycle event, not at Retracted",
            ),
            (
                &[SIGNED_2010, visit, &retracted("@2")],
                retracted("@2"),
                "Retracted points at @2, which is retracted already",
            ),
            (
                &[SIGNED_2010, visit, &retracted("@2")],
                corrected("@2", r#""date":"2012""#),
                "Corrected points at @2, which is retracted already",
            ),
            (
                &[SIGNED_2010, visit],
                corrected("@2", r#""data":{"kind":"letter"}"#),
                "ok",
            ),
            (
                &[SIGNED_2010, visit],
                corrected("@2", r#""data":{"kind":"party"}"#),
                "the corrected data is not a valid ActivityRecorded: unknown variant `party`…",
            ),
            (
                &[SIGNED_2010, visit],
                corrected("@2", r#""data":{"colour":"red"}"#),
                "the corrected data is not a valid ActivityRecorded: unknown field `colour`…",
            ),
            // A corrected date moves the step in the effective order.
            (
                &[
                    SIGNED_2010,
                    r#"{"type":"Terminated","date":"2015-01-01","data":{"mode":"mutual","reason":"x"}}"#,
                ],
                corrected("@2", r#""date":"2005-06-01""#),
                "Terminated is refused in state proposed (effective 2005-06-01)…",
            ),
            // A retracted step no longer counts.
            (
                &[
                    SIGNED_2010,
                    r#"{"type":"Stagnated","date":"2012-01-01"}"#,
                    r#"{"type":"Revived","date":"2013-01-01"}"#,
                ],
                retracted("@2"),
                "Revived is refused in state active (effective 2013-01-01)…",
            ),
        ];
        for (stored, when, expect) in cases {
            check_partnership(stored, &[when], expect);
        }
        // Corrected data keeps within the bounds of its type.
        let place = |n: usize| format!(r#""data":{{"place":"{}"}}"#, "ř".repeat(n));
        let max = crate::limits::MAX_LINE_CHARS;
        check_partnership(
            &[SIGNED_2010, visit],
            &[&corrected("@2", &place(max))],
            "ok",
        );
        check_partnership(
            &[SIGNED_2010, visit],
            &[&corrected("@2", &place(max + 1))],
            "data.data.place: at most 300 characters (got 301)",
        );
        // A correction may point at an event of the same write.
        check_partnership(
            &[],
            &[SIGNED_2010, &corrected("@10", r#""date":"2011""#)],
            "ok",
        );
        check_partnership(
            &[],
            &[SIGNED_2010, &retracted("@10"), &retracted("@10")],
            "Retracted points at @10, which is retracted already",
        );
    }

    const NOVY_BOR: &str = r#"{"type":"PartyRegistered","data":{"kind":"town","names":{"cs":"Nový Bor"},"country":"CZ"}}"#;

    #[test]
    fn a_party_is_registered_once_under_a_parent_that_exists() {
        let party = "party/novy-bor";
        let with_parent = |parent: &str| {
            format!(
                r#"{{"type":"PartyRegistered","data":{{"kind":"town","names":{{"cs":"Nový Bor"}},"country":"CZ","parent":"{parent}"}}}}"#
            )
        };
        let amended =
            |parent: &str| format!(r#"{{"type":"PartyAmended","data":{{"parent":"{parent}"}}}}"#);
        check(party, &[], &[NOVY_BOR], "ok");
        check(party, &[], &[&with_parent("liberecky-kraj")], "ok");
        check(
            party,
            &[],
            &[&with_parent("novy-bor")],
            "a party cannot be its own parent",
        );
        check(
            party,
            &[],
            &[&with_parent("atlantis")],
            "party atlantis does not exist",
        );
        check(
            party,
            &[],
            &[&NOVY_BOR.replace("\"CZ\"", "\"cz\"")],
            "country \"cz\" is not an ISO 3166-1 alpha-2 code (two upper-case letters)",
        );
        check(
            party,
            &[NOVY_BOR],
            &[NOVY_BOR],
            "PartyRegistered is refused in state registered; allowed there: PartyAmended. \
             party novy-bor exists already",
        );
        check(
            party,
            &[],
            &[NOVY_BOR, NOVY_BOR],
            "PartyRegistered is refused in state registered; allowed there: PartyAmended. \
             party novy-bor exists already",
        );
        check(
            party,
            &[NOVY_BOR],
            &[r#"{"type":"PartyAmended","data":{"add_aliases":["Haida"]}}"#],
            "ok",
        );
        check(party, &[NOVY_BOR], &[&amended("liberecky-kraj")], "ok");
        check(
            party,
            &[NOVY_BOR],
            &[&amended("novy-bor")],
            "a party cannot be its own parent",
        );
        check(
            party,
            &[NOVY_BOR],
            &[&amended("atlantis")],
            "party atlantis does not exist",
        );
    }

    /// A `PartyRegistered` of `id` with these names and aliases (JSON).
    fn registered(names: &str, aliases: &str) -> String {
        format!(
            r#"{{"type":"PartyRegistered","data":{{"kind":"town","names":{names},"aliases":{aliases},"country":"DE"}}}}"#
        )
    }

    #[test]
    fn a_party_takes_no_name_another_party_answers_to() {
        let evil = "party/zzz-evil";
        let cases: &[(&str, &[&str], String, &str)] = &[
            // A clerk's attempt to take two regions' ids and a third's name.
            (
                evil,
                &[],
                registered(
                    r#"{"native":"Plzeň Region"}"#,
                    r#"["liberecky-kraj","ustecky-kraj"]"#,
                ),
                "name \"Plzeň Region\" is already a name of party plzensky-kraj",
            ),
            (
                evil,
                &[],
                registered(r#"{"native":"Evil"}"#, r#"["liberecky-kraj"]"#),
                "alias \"liberecky-kraj\" is already the id of party liberecky-kraj",
            ),
            // Compared as look-ups compare: letter case, diacritics and
            // spacing aside.
            (
                evil,
                &[],
                registered(r#"{"en":"  LIBERECKY   kraj "}"#, "[]"),
                "name \"  LIBERECKY   kraj \" is already a name of party liberecky-kraj",
            ),
            (
                evil,
                &[],
                registered(r#"{"cs":"Evil"}"#, r#"["pilsen"]"#),
                "alias \"pilsen\" is already an alias of party plzensky-kraj",
            ),
            (
                evil,
                &[],
                registered(r#"{"cs":"Evil"}"#, r#"["haida"]"#),
                "alias \"haida\" is already a former name of party novy-bor",
            ),
            // An id another party answers to.
            (
                "party/pilsen",
                &[],
                registered(r#"{"cs":"Pilsen Town"}"#, "[]"),
                "id \"pilsen\" is already an alias of party plzensky-kraj",
            ),
            // A party's own names may repeat among themselves.
            (
                "party/kassel",
                &[],
                registered(
                    r#"{"native":"Kassel","cs":"Kassel","en":"kassel"}"#,
                    r#"["KASSEL","Kaßel"]"#,
                ),
                "ok",
            ),
            // An amendment may repeat the party's own names, not another's.
            (
                "party/novy-bor",
                &[NOVY_BOR],
                r#"{"type":"PartyAmended","data":{"add_aliases":["Novy Bor","Haida"]}}"#.into(),
                "ok",
            ),
            (
                "party/novy-bor",
                &[NOVY_BOR],
                r#"{"type":"PartyAmended","data":{"add_aliases":["Molde"]}}"#.into(),
                "alias \"Molde\" is already the id of party molde",
            ),
            (
                "party/novy-bor",
                &[NOVY_BOR],
                r#"{"type":"PartyAmended","data":{"names":{"cs":"Nový Bor","en":"Liberec Region"}}}"#
                    .into(),
                "name \"Liberec Region\" is already a name of party liberecky-kraj",
            ),
            (
                "party/novy-bor",
                &[NOVY_BOR],
                r#"{"type":"PartyAmended","data":{"add_aliases":["Plzensky-Kraj"]}}"#.into(),
                "alias \"Plzensky-Kraj\" is already the id of party plzensky-kraj",
            ),
        ];
        for (stream, stored, when, expect) in cases {
            check(stream, stored, &[when], expect);
        }
    }

    #[test]
    fn an_offer_is_published_by_a_czech_home_and_ends_once() {
        let offer = "offer/bergamo-2010";
        let published = |party: &str, home: &str| {
            format!(
                r#"{{"type":"OfferPublished","date":"2010","data":{{"party":"{party}","home":"{home}"}}}}"#
            )
        };
        let publish = published("bergamo", "liberecky-kraj");
        let matched =
            |p: &str| format!(r#"{{"type":"OfferMatched","data":{{"partnership":"{p}"}}}}"#);
        let withdrawn = r#"{"type":"OfferWithdrawn"}"#;
        let lapsed = r#"{"type":"OfferLapsed"}"#;
        check(offer, &[], &[&publish], "ok");
        check(
            offer,
            &[],
            &[&published("atlantis", "liberecky-kraj")],
            "party atlantis does not exist",
        );
        check(
            offer,
            &[],
            &[&published("bergamo", "atlantis")],
            "party atlantis does not exist",
        );
        check(
            offer,
            &[],
            &[&published("bergamo", "molde")],
            "an offer is published by the Czech side, and molde is in NO",
        );
        check(
            offer,
            &[&publish],
            &[&publish],
            "OfferPublished is refused in state published; allowed there: OfferMatched, \
             OfferWithdrawn, OfferLapsed",
        );
        check(
            offer,
            &[&publish],
            &[&matched("plzensky-kraj--bergamo")],
            "ok",
        );
        check(
            offer,
            &[&publish],
            &[&matched("liberecky-kraj--atlantis")],
            "partnership liberecky-kraj--atlantis does not exist",
        );
        check(offer, &[&publish], &[withdrawn], "ok");
        check(offer, &[&publish], &[lapsed], "ok");
        let ended: &[(&str, &str)] = &[
            (&matched("plzensky-kraj--bergamo"), "matched"),
            (withdrawn, "withdrawn"),
            (lapsed, "lapsed"),
        ];
        for (end, state) in ended {
            check(
                offer,
                &[&publish, end],
                &[withdrawn],
                &format!("OfferWithdrawn is refused in state {state}; allowed there: nothing"),
            );
        }
        check(
            offer,
            &[],
            &[&publish, lapsed, lapsed],
            "OfferLapsed is refused in state lapsed; allowed there: nothing",
        );
    }

    /// The events as stored records of `stream`, the first at `first`.
    fn stored(stream: &StreamId, first: u64, texts: &[&str]) -> Vec<Recorded> {
        texts
            .iter()
            .enumerate()
            .map(|(n, text)| Recorded {
                envelope: Envelope {
                    position: first + n as u64,
                    event_id: id(n as u8),
                    stream: stream.clone(),
                    version: n as u64 + 1,
                    recorded_at: now(),
                    recorded_by: "test".into(),
                },
                event: event(text),
                prev_hash: Digest::ZERO,
                hash: Digest::ZERO,
            })
            .collect()
    }

    #[test]
    fn a_state_folds_from_stored_records_as_from_decided_events() {
        let stream = StreamId::parse(BERGAMO).unwrap();
        let texts = [
            HEADER,
            SIGNED_2010,
            r#"{"type":"Stagnated","date":"2012"}"#,
            r#"{"type":"Retracted","data":{"target":"@2","reason":"r"}}"#,
        ];
        let records = stored(&stream, 40, &texts);
        let state = State::from_records(StreamKind::Partnership, &records).unwrap();
        let State::Partnership(h) = &state else {
            panic!("a partnership state")
        };
        assert!(h.opened);
        assert_eq!(h.facts.len(), 3);
        assert_eq!(
            h.facts[2].target, 42,
            "the retraction points at the stagnation"
        );
        let world = Elsewhere::new();
        // Stagnated is retracted: the partnership is active, not stagnating.
        let revive = written(&[r#"{"type":"Revived","date":"2013-01-01"}"#]);
        let got = answer(decide(&stream, &state, revive, now(), &world));
        assert_eq!(
            got.unwrap_err().to_string().split(';').next(),
            Some("Revived is refused in state active (effective 2013-01-01)")
        );

        let offer = StreamId::parse("offer/bergamo-2010").unwrap();
        let records = stored(
            &offer,
            1,
            &[
                r#"{"type":"OfferPublished","data":{"party":"bergamo","home":"liberecky-kraj"}}"#,
                r#"{"type":"OfferWithdrawn"}"#,
            ],
        );
        assert!(matches!(
            State::from_records(StreamKind::Offer, &records),
            Ok(State::Offer(Some(OfferStatus::Withdrawn)))
        ));
    }
}
