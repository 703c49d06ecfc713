//! The one write path: authorize → decide → append.
//!
//! Every new event goes this way — a command from the API or the CLI, the
//! seed loader, the generator of synthetic histories:
//!
//! 1. the actor is authorized against the stream's home party;
//! 2. the domain's [`decide`] checks the events against the stream's state
//!    (from the partnerships read model when it is current, else from the
//!    stream's records) and the rest of the registry ([`StoreWorld`]);
//! 3. the store appends them, expecting the stream version decide saw.
//!
//! Two guarantees are the store's alone. **Idempotency:** a write whose
//! event ids are stored already is not decided again (the lifecycle could
//! refuse now what it accepted then) but handed to the store, which
//! answers with the original positions or refuses a partial retry.
//! **Concurrency:** a write that names no expected version and meets a
//! version conflict is decided again against the new state and retried;
//! each conflict means another writer made progress.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use pacta_domain::decide::{
    DecideError, History, Located, NameHolder, Proposed, Rejection, State, World,
};
use pacta_domain::event::PartnershipOpened;
use pacta_domain::{
    Event, EventId, EventType, Held, Initiative, NameKey, Payload, Slug, StreamId, StreamKind,
    Timestamp, decide,
};
use pacta_projections::Parties;
use pacta_store::{Append, Appended, Landed, NewEvent, Store};

use crate::{CommandError, Registry, Role, now};

/// Who is writing: a token's name and role, or the system itself.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Actor {
    /// Recorded as `recorded_by`.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// A clerk's own party.
    pub party: Option<Slug>,
}

impl Actor {
    /// An administrator acting as the system (seed loading, imports).
    pub fn system(name: &str) -> Actor {
        Actor {
            name: name.to_owned(),
            role: Role::Admin,
            party: None,
        }
    }
}

/// Events to append to one stream.
#[derive(Clone, Debug)]
pub struct Command {
    /// The stream.
    pub stream: StreamId,
    /// The events, each with the id the client chose (or none).
    pub events: Vec<(Option<EventId>, Event)>,
    /// The stream version the client saw, if it wants the append refused
    /// when someone else wrote meanwhile.
    pub expected_version: Option<u64>,
}

/// What a command wrote.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The stream.
    pub stream: StreamId,
    /// Where each event landed.
    pub events: Vec<Landed>,
    /// True when the events were stored already (an idempotent retry).
    pub duplicate: bool,
}

/// A request to open a partnership: its header, and optionally its first
/// event.
#[derive(Clone, Debug)]
pub struct OpenPartnership {
    /// The partnership id; `None` chooses `home--partner`, with a numeric
    /// suffix if that is taken.
    pub id: Option<Slug>,
    /// The Czech side.
    pub home: Slug,
    /// The partner.
    pub partner: Slug,
    /// Who initiated it.
    pub initiative: Option<Initiative>,
    /// The client's id for `event` (for the header when there is no
    /// event): a retry with the same id answers the partnership it opened.
    pub event_id: Option<EventId>,
    /// The first event after the header.
    pub event: Option<Event>,
}

/// How often a write is decided again after a version conflict it did not
/// ask about. Each conflict means another writer landed first, so this
/// bounds only a stream written by a thousand others at once.
const ATTEMPTS: usize = 1000;

impl Registry {
    /// Authorizes, decides and appends; returns once the events are
    /// durable and the projections have applied them.
    pub async fn execute(&self, actor: &Actor, command: Command) -> Result<Outcome, CommandError> {
        let events = proposed(&command);
        let mut attempt = 1;
        loop {
            let append = self.off_worker(|| self.prepare(actor, &command, &events))?;
            match self.store.append(append).await {
                Ok(done) => {
                    let position = done.events.last().map_or(0, |e| e.position);
                    self.caught_up_to(position).await?;
                    return Ok(outcome(command.stream, done));
                }
                Err(pacta_store::Error::Conflict {
                    expected, actual, ..
                }) if command.expected_version.is_none() && attempt < ATTEMPTS => {
                    tracing::debug!(expected, actual, "concurrent write; deciding again");
                    self.off_worker(|| self.catch_up())?;
                    attempt += 1;
                }
                Err(e) => return Err(map_store_error(e)),
            }
        }
    }

    /// [`Registry::execute`] for callers outside an async runtime.
    pub fn execute_blocking(
        &self,
        actor: &Actor,
        command: Command,
    ) -> Result<Outcome, CommandError> {
        let events = proposed(&command);
        let mut attempt = 1;
        loop {
            let append = self.prepare(actor, &command, &events)?;
            match self.store.append_blocking(append) {
                Ok(done) => {
                    self.catch_up()?;
                    return Ok(outcome(command.stream, done));
                }
                Err(pacta_store::Error::Conflict { .. })
                    if command.expected_version.is_none() && attempt < ATTEMPTS =>
                {
                    self.catch_up()?;
                    attempt += 1;
                }
                Err(e) => return Err(map_store_error(e)),
            }
        }
    }

    /// Opens a partnership. A retry — its event id is stored in a
    /// partnership already — answers that partnership, as the store
    /// answers any retried event.
    pub async fn open_partnership(
        &self,
        actor: &Actor,
        request: OpenPartnership,
    ) -> Result<Outcome, CommandError> {
        let mut attempt = 1;
        loop {
            let (stream, header_id) = match self.partnership_with(request.event_id)? {
                Some((stream, header_id)) => (stream, Some(header_id)),
                None => {
                    let id = match &request.id {
                        Some(id) => id.clone(),
                        None => self.new_partnership_id(&request.home, &request.partner)?,
                    };
                    (StreamId::partnership(id), None)
                }
            };
            let header = Event::new(Payload::PartnershipOpened(PartnershipOpened {
                home: request.home.clone(),
                partner: request.partner.clone(),
                initiative: request.initiative,
            }));
            let events = match &request.event {
                // An id that named the opening of a partnership without a
                // first event cannot name this event too: the store
                // refuses the request as a partial retry.
                Some(event) => {
                    let event_id = request.event_id.filter(|&id| header_id != Some(id));
                    vec![(header_id, header), (event_id, event.clone())]
                }
                None => vec![(header_id.or(request.event_id), header)],
            };
            let command = Command {
                stream,
                events,
                expected_version: Some(0),
            };
            match self.execute(actor, command).await {
                // The id chosen was taken meanwhile, perhaps by the
                // original of this very request: look again.
                Err(CommandError::Conflict { .. })
                    if request.id.is_none() && attempt < ATTEMPTS =>
                {
                    attempt += 1;
                }
                answer => return answer,
            }
        }
    }

    /// The partnership stream holding `event_id`, and its header's id.
    fn partnership_with(
        &self,
        event_id: Option<EventId>,
    ) -> Result<Option<(StreamId, EventId)>, CommandError> {
        let Some(position) = event_id
            .map(|id| self.store.position_of(id))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        let stream = match self.store.get(position)? {
            Some(r) if r.envelope.stream.kind == StreamKind::Partnership => r.envelope.stream,
            // Stored elsewhere: the store refuses the id.
            _ => return Ok(None),
        };
        let header = self.store.stream(&stream)?.into_iter().next();
        Ok(header.map(|h| (stream, h.envelope.event_id)))
    }

    /// A fresh partnership id for two parties: `home--partner`, or with a
    /// numeric suffix if that is taken.
    pub fn new_partnership_id(&self, home: &Slug, partner: &Slug) -> Result<Slug, CommandError> {
        let base = format!("{home}--{partner}");
        for n in 1.. {
            let text = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let id = Slug::parse(&text).map_err(|e| CommandError::Invalid(e.to_string()))?;
            if self
                .store
                .stream_version(&StreamId::partnership(id.clone()))?
                == 0
            {
                return Ok(id);
            }
        }
        unreachable!("some suffix is free")
    }

    /// Authorizes and decides a command against the stream as it is now;
    /// answers the append to send, expecting the version decided on.
    fn prepare(
        &self,
        actor: &Actor,
        command: &Command,
        events: &[Proposed],
    ) -> Result<Append, CommandError> {
        // A stored partnership: its facts from the read model (caught up
        // to the version just read), so the check costs the same however
        // long the history grows.
        let version = match command.stream.kind {
            // The read model's version of the stream, unless the caller
            // expects another: deciding against it costs no read of the
            // store, and the store refuses the append with a conflict if
            // the stream moved on meanwhile (then the write is decided
            // again, caught up).
            StreamKind::Partnership => match self
                .projections
                .partnerships()
                .with_facts(command.stream.id.as_str(), |_, facts| {
                    facts.len() as u64 + 1
                }) {
                Some(v) if command.expected_version.is_none_or(|e| e == v) => v,
                _ => self.store.stream_version(&command.stream)?,
            },
            // A party's names are decided against the parties projection:
            // let it hold every party written so far.
            StreamKind::Party => {
                self.catch_up()?;
                0
            }
            StreamKind::Offer => 0,
        };
        if version > 0 {
            for attempt in 0..2 {
                let decided = self.projections.partnerships().with_history(
                    command.stream.id.as_str(),
                    |header, facts, timeline| {
                        if facts.len() as u64 + 1 != version {
                            return None;
                        }
                        let state = State::Partnership(History {
                            opened: true,
                            facts: Cow::Borrowed(facts),
                            timeline,
                        });
                        let at = Stream {
                            version,
                            home: Some(&header.home),
                            state: &state,
                        };
                        Some(self.decide_append(actor, command, events, at))
                    },
                );
                match decided.flatten() {
                    Some(append) => return append,
                    None if attempt == 0 => {
                        self.catch_up()?;
                    }
                    None => {}
                }
            }
        }
        let records = self.store.stream(&command.stream)?;
        let state = State::from_records(command.stream.kind, &records)?;
        let home = home_of(
            &command.stream,
            records.first().map(|r| &r.event),
            events.first().map(|p| &p.event),
        );
        let at = Stream {
            version: records.len() as u64,
            home: home.as_ref(),
            state: &state,
        };
        self.decide_append(actor, command, events, at)
    }

    fn decide_append(
        &self,
        actor: &Actor,
        command: &Command,
        events: &[Proposed],
        at: Stream<'_>,
    ) -> Result<Append, CommandError> {
        authorize(actor, &command.stream, at.home, events)?;
        // A retry goes to the store undecided: it answers the original
        // positions, or refuses ids stored elsewhere or only in part.
        let mut retry = false;
        for id in command.events.iter().filter_map(|(id, _)| *id) {
            retry |= self.store.position_of(id)?.is_some();
        }
        let (expected_version, events) = if retry {
            (command.expected_version, events.to_vec())
        } else {
            if let Some(expected) = command.expected_version
                && expected != at.version
            {
                return Err(CommandError::Conflict {
                    expected,
                    actual: at.version,
                });
            }
            let world = StoreWorld {
                store: &self.store,
                parties: self.projections.parties(),
            };
            let decided = decide(&command.stream, at.state, events.to_vec(), now(), &world)?;
            (Some(at.version), decided)
        };
        Ok(Append {
            stream: command.stream.clone(),
            expected_version,
            events: events
                .into_iter()
                .map(|p| NewEvent {
                    event_id: p.id,
                    event: p.event,
                    recorded_by: actor.name.clone(),
                })
                .collect(),
        })
    }
}

/// A stream as a write meets it.
struct Stream<'a> {
    version: u64,
    home: Option<&'a Slug>,
    state: &'a State<'a>,
}

/// The command's events with their ids: the client's, or fresh ones (kept
/// through every attempt).
fn proposed(command: &Command) -> Vec<Proposed> {
    command
        .events
        .iter()
        .map(|(id, event)| Proposed {
            id: id.unwrap_or_else(|| EventId::from_ulid(ulid::Ulid::generate())),
            event: event.clone(),
        })
        .collect()
}

fn outcome(stream: StreamId, done: Appended) -> Outcome {
    Outcome {
        stream,
        events: done.events,
        duplicate: done.duplicate,
    }
}

/// The party whose clerks may write to a stream: the party itself, a
/// partnership's or an offer's home, from the stored header or the one
/// this write opens the stream with.
fn home_of(stream: &StreamId, stored: Option<&Event>, new: Option<&Event>) -> Option<Slug> {
    match (stream.kind, &stored.or(new)?.payload) {
        (StreamKind::Party, _) => Some(stream.id.clone()),
        (StreamKind::Partnership, Payload::PartnershipOpened(p)) => Some(p.home.clone()),
        (StreamKind::Offer, Payload::OfferPublished(o)) => Some(o.home.clone()),
        _ => None,
    }
}

/// Whether `actor` may write `events` to `stream`, whose home is `home`.
///
/// A stream without a home neither exists nor is opened by this write:
/// it holds nobody's records, and [`decide`] refuses every write to it
/// with what the client needs to hear (it does not exist), so a clerk is
/// not refused here.
fn authorize(
    actor: &Actor,
    stream: &StreamId,
    home: Option<&Slug>,
    events: &[Proposed],
) -> Result<(), CommandError> {
    match actor.role {
        Role::Admin => Ok(()),
        Role::Reader => Err(CommandError::Forbidden(format!(
            "token {} has the reader role and may not write",
            actor.name
        ))),
        Role::Clerk => {
            let own = actor.party.as_ref();
            let ok = match (stream.kind, home) {
                (StreamKind::Party, _) => events
                    .iter()
                    .all(|p| p.event.event_type() == EventType::PartyRegistered),
                (StreamKind::Partnership | StreamKind::Offer, None) => true,
                (StreamKind::Partnership | StreamKind::Offer, Some(home)) => own == Some(home),
            };
            if ok {
                Ok(())
            } else {
                Err(CommandError::Forbidden(match (stream.kind, own) {
                    (StreamKind::Party, _) => format!(
                        "clerk {} may register parties but not amend them",
                        actor.name
                    ),
                    (_, Some(own)) => format!(
                        "clerk {} writes only for party {own}; {stream} belongs to {}",
                        actor.name,
                        home.map_or("no party".to_owned(), |h| h.to_string())
                    ),
                    (_, None) => format!("clerk {} has no party", actor.name),
                }))
            }
        }
    }
}

/// What [`decide`] asks about the rest of the registry, answered from the
/// store, and for names from the parties projection (its index of names
/// is the one look-ups use).
pub(crate) struct StoreWorld<'a> {
    pub(crate) store: &'a Store,
    pub(crate) parties: &'a Parties,
}

impl World for StoreWorld<'_> {
    type Error = pacta_store::Error;

    fn party_country(&self, party: &Slug) -> Result<Option<String>, Self::Error> {
        stored_country(self.store, party)
    }

    fn name_holders(&self, key: &NameKey) -> Result<Vec<NameHolder>, Self::Error> {
        Ok(self.parties.name_holders(key))
    }

    fn partnership_exists(&self, partnership: &Slug) -> Result<bool, Self::Error> {
        Ok(self
            .store
            .stream_version(&StreamId::partnership(partnership.clone()))?
            > 0)
    }

    fn event(&self, id: EventId) -> Result<Option<Located>, Self::Error> {
        let Some(position) = self.store.position_of(id)? else {
            return Ok(None);
        };
        Ok(self.store.get(position)?.map(|r| Located {
            stream: r.envelope.stream,
            position,
            event: r.event,
        }))
    }
}

/// The country a stored party registered with (it never changes).
pub(crate) fn stored_country(
    store: &Store,
    id: &Slug,
) -> Result<Option<String>, pacta_store::Error> {
    Ok(store
        .stream(&StreamId::party(id.clone()))?
        .into_iter()
        .find_map(|r| match r.event.payload {
            Payload::PartyRegistered(p) => Some(p.country),
            _ => None,
        }))
}

impl From<Rejection> for CommandError {
    fn from(r: Rejection) -> CommandError {
        match r {
            Rejection::Refused(r) => CommandError::Refused(r),
            Rejection::Invalid(d) => CommandError::Invalid(d),
            Rejection::UnknownParty(p) => CommandError::UnknownParty(p),
            Rejection::NotFound(d) => CommandError::NotFound(d),
        }
    }
}

impl From<DecideError<pacta_store::Error>> for CommandError {
    fn from(e: DecideError<pacta_store::Error>) -> CommandError {
        match e {
            DecideError::Rejected(r) => r.into(),
            DecideError::World(e) => CommandError::Store(e),
        }
    }
}

pub(crate) fn map_store_error(e: pacta_store::Error) -> CommandError {
    match e {
        pacta_store::Error::Conflict {
            expected, actual, ..
        } => CommandError::Conflict { expected, actual },
        pacta_store::Error::DuplicateId { .. } => CommandError::IdempotencyMismatch(e.to_string()),
        e => CommandError::Store(e),
    }
}

/// Writes decided ahead and appended together: how the seed loader and
/// the generator of synthetic histories take the write path.
///
/// Each write is authorized and decided like a command, against its
/// stream as stored plus every write the batch accepted before;
/// [`Batch::append`] then sends all queued writes to the store at once,
/// each expecting the stream version its decision saw, so the writer
/// groups them. Nothing is written before `append`.
pub(crate) struct Batch<'r> {
    store: &'r Store,
    parties: &'r Parties,
    actor: Actor,
    clock: Timestamp,
    /// The record time the store gives the batch's events (none: the
    /// store's clock at appending).
    pub(crate) recorded_at: Option<Timestamp>,
    streams: HashMap<StreamId, Staged>,
    accepted: Accepted,
    /// Where the next accepted event will land if no one else writes
    /// meanwhile; corrected after each append if someone did.
    next_position: u64,
    queue: Vec<Append>,
    /// Streams whose state may be dropped once their writes are appended.
    forgotten: Vec<StreamId>,
}

/// One stream as the batch knows it.
struct Staged {
    state: State<'static>,
    /// Its version after the writes queued.
    version: u64,
    home: Option<Slug>,
}

/// What the batch accepted that the store does not hold yet (parties and
/// partnerships are kept after appending: they are few and never change).
#[derive(Default)]
struct Accepted {
    parties: HashMap<Slug, String>,
    /// The names and aliases of the parties accepted, as `name_holders`
    /// answers them.
    names: HashMap<NameKey, Vec<NameHolder>>,
    partnerships: HashSet<Slug>,
    events: HashMap<EventId, Located>,
}

impl Accepted {
    /// Notes that `party` answers to these names.
    fn hold<'n>(&mut self, party: &Slug, names: impl Iterator<Item = (&'n str, Held)>) {
        for (name, held) in names {
            let holders = self.names.entry(NameKey::of(name)).or_default();
            if !holders.iter().any(|h| &h.party == party) {
                holders.push(NameHolder {
                    party: party.clone(),
                    held,
                });
            }
        }
    }
}

struct BatchWorld<'a> {
    accepted: &'a Accepted,
    store: StoreWorld<'a>,
}

impl World for BatchWorld<'_> {
    type Error = pacta_store::Error;

    fn party_country(&self, party: &Slug) -> Result<Option<String>, Self::Error> {
        match self.accepted.parties.get(party) {
            Some(country) => Ok(Some(country.clone())),
            None => self.store.party_country(party),
        }
    }

    fn name_holders(&self, key: &NameKey) -> Result<Vec<NameHolder>, Self::Error> {
        let mut holders = self.store.name_holders(key)?;
        if let Some(party) = self
            .accepted
            .parties
            .get_key_value(key.as_str())
            .map(|p| p.0)
            && !holders.iter().any(|h| &h.party == party)
        {
            holders.push(NameHolder {
                party: party.clone(),
                held: Held::Id,
            });
        }
        for accepted in self.accepted.names.get(key).into_iter().flatten() {
            if !holders.iter().any(|h| h.party == accepted.party) {
                holders.push(accepted.clone());
            }
        }
        Ok(holders)
    }

    fn partnership_exists(&self, partnership: &Slug) -> Result<bool, Self::Error> {
        Ok(self.accepted.partnerships.contains(partnership)
            || self.store.partnership_exists(partnership)?)
    }

    fn event(&self, id: EventId) -> Result<Option<Located>, Self::Error> {
        match self.accepted.events.get(&id) {
            Some(located) => Ok(Some(located.clone())),
            None => self.store.event(id),
        }
    }
}

impl<'r> Batch<'r> {
    /// An empty batch of `actor`'s writes, decided at `clock`.
    pub(crate) fn new(registry: &'r Registry, actor: Actor, clock: Timestamp) -> Batch<'r> {
        Batch {
            store: &registry.store,
            parties: registry.projections.parties(),
            actor,
            clock,
            recorded_at: None,
            streams: HashMap::new(),
            accepted: Accepted::default(),
            next_position: registry.store.head().position + 1,
            queue: Vec::new(),
            forgotten: Vec::new(),
        }
    }

    /// Authorizes and decides `events` for `stream`, and queues them. A
    /// refused write leaves the batch as it was.
    pub(crate) fn write(
        &mut self,
        stream: &StreamId,
        events: Vec<Proposed>,
    ) -> Result<(), CommandError> {
        let staged = match self.streams.entry(stream.clone()) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(first) => {
                let records = self.store.stream(stream)?;
                first.insert(Staged {
                    state: State::from_records(stream.kind, &records)?,
                    version: records.len() as u64,
                    home: home_of(stream, records.first().map(|r| &r.event), None),
                })
            }
        };
        let home = staged
            .home
            .clone()
            .or_else(|| home_of(stream, None, events.first().map(|p| &p.event)));
        authorize(&self.actor, stream, home.as_ref(), &events)?;
        let world = BatchWorld {
            accepted: &self.accepted,
            store: StoreWorld {
                store: self.store,
                parties: self.parties,
            },
        };
        let events = decide(stream, &staged.state, events, self.clock, &world)?;
        // Folded into a copy first, so that a failure keeps the state.
        let mut state = staged.state.clone();
        let mut landed = Vec::with_capacity(events.len());
        for (i, p) in events.iter().enumerate() {
            let position = self.next_position + i as u64;
            let target = match &p.event.payload {
                Payload::Corrected(c) => Some(c.target),
                Payload::Retracted(r) => Some(r.target),
                _ => None,
            };
            let target = match target {
                Some(t) => match events[..i].iter().position(|e| e.id == t) {
                    Some(j) => Some(self.next_position + j as u64),
                    None => world.event(t)?.map(|l| l.position),
                },
                None => None,
            };
            state.evolve(position, self.clock, &p.event, |_| target)?;
            landed.push(position);
        }
        staged.state = state;
        staged.home = home;
        self.next_position += events.len() as u64;
        for (p, position) in events.iter().zip(landed) {
            match &p.event.payload {
                Payload::PartyRegistered(r) => {
                    self.accepted
                        .parties
                        .insert(stream.id.clone(), r.country.clone());
                    let names = r.names.all().map(|n| (n, Held::Name));
                    let aliases = r.aliases.iter().map(|a| (a.as_str(), Held::Alias));
                    self.accepted.hold(&stream.id, names.chain(aliases));
                }
                Payload::PartyAmended(a) => {
                    let names = a
                        .names
                        .iter()
                        .flat_map(|n| n.all())
                        .map(|n| (n, Held::Name));
                    let aliases = a.add_aliases.iter().map(|a| (a.as_str(), Held::Alias));
                    self.accepted.hold(&stream.id, names.chain(aliases));
                }
                Payload::PartnershipOpened(_) => {
                    self.accepted.partnerships.insert(stream.id.clone());
                }
                _ => {}
            }
            let located = Located {
                stream: stream.clone(),
                position,
                event: p.event.clone(),
            };
            self.accepted.events.insert(p.id, located);
        }
        let new = events.into_iter().map(|p| NewEvent {
            event_id: p.id,
            event: p.event,
            recorded_by: self.actor.name.clone(),
        });
        let expected = staged.version;
        staged.version += new.len() as u64;
        match self.queue.last_mut() {
            // Consecutive writes to one stream make one append.
            Some(last) if &last.stream == stream => last.events.extend(new),
            _ => self.queue.push(Append {
                stream: stream.clone(),
                expected_version: Some(expected),
                events: new.collect(),
            }),
        }
        Ok(())
    }

    /// Events queued and not yet appended.
    pub(crate) fn queued(&self) -> usize {
        self.queue.iter().map(|a| a.events.len()).sum()
    }

    /// Drops what the batch keeps of a stream it will not write again,
    /// once the stream's queued writes are appended.
    pub(crate) fn forget(&mut self, stream: StreamId) {
        self.forgotten.push(stream);
    }

    /// Appends every queued write, in order, and waits until all are
    /// durable. Answers how many events were appended.
    pub(crate) fn append(&mut self) -> Result<usize, CommandError> {
        let queue = std::mem::take(&mut self.queue);
        let ids: Vec<Vec<EventId>> = queue
            .iter()
            .map(|a| a.events.iter().map(|e| e.event_id).collect())
            .collect();
        let mut landed = Vec::new();
        for (ids, result) in ids
            .into_iter()
            .zip(self.store.append_many_at_blocking(queue, self.recorded_at))
        {
            let done = result.map_err(map_store_error)?;
            landed.extend(ids.into_iter().zip(done.events.iter().map(|l| l.position)));
        }
        let appended = landed.len();
        // Positions were reckoned assuming no one else writes; where
        // someone did, the folded states learn the real ones.
        let mut moved: HashMap<u64, u64> = HashMap::new();
        for (id, position) in landed {
            if let Some(located) = self.accepted.events.get(&id)
                && located.position != position
            {
                moved.insert(located.position, position);
            }
        }
        if !moved.is_empty() {
            let real = |p: u64| moved.get(&p).copied().unwrap_or(p);
            for staged in self.streams.values_mut() {
                if let State::Partnership(h) = &mut staged.state {
                    for fact in h.facts.to_mut() {
                        fact.position = real(fact.position);
                        if fact.target != 0 {
                            fact.target = real(fact.target);
                        }
                    }
                }
            }
        }
        self.accepted.events.clear();
        for stream in std::mem::take(&mut self.forgotten) {
            self.streams.remove(&stream);
        }
        self.next_position = self.store.head().position + 1;
        Ok(appended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pacta_domain::event::{Retracted, Signed, Terminated};
    use pacta_domain::{Instrument, TerminationMode};

    fn slug(s: &str) -> Slug {
        Slug::parse(s).unwrap()
    }

    fn proposed(n: u128, payload: Payload, date: Option<&str>) -> Vec<Proposed> {
        let mut event = Event::new(payload);
        event.date = date.map(|d| d.parse().unwrap());
        vec![Proposed {
            id: EventId::from_bytes((n | 1 << 110).to_be_bytes()),
            event,
        }]
    }

    /// A batch reckons where its events will land; when another writer
    /// lands first, its folded states must learn the real positions, or a
    /// later retraction would miss the event it points at.
    #[test]
    fn a_batch_keeps_deciding_right_when_someone_else_wrote_between() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(dir.path()).unwrap();
        let system = Actor::system("test");
        registry
            .load_seeds(&crate::seeds::bundled(), &system, false)
            .unwrap();
        let stream = StreamId::partnership(slug("ustecky-kraj--molde"));
        let mut batch = Batch::new(&registry, system.clone(), now());
        let open = Payload::PartnershipOpened(PartnershipOpened {
            home: slug("ustecky-kraj"),
            partner: slug("molde"),
            initiative: None,
        });
        batch.write(&stream, proposed(1, open, None)).unwrap();
        let signed = Payload::Signed(Signed {
            instrument: Instrument::CooperationAgreement,
            title: None,
            place: None,
            signatories: vec![],
            areas: vec![],
        });
        batch
            .write(&stream, proposed(2, signed, Some("2020")))
            .unwrap();
        // Someone else writes before the batch is appended.
        let mut other = Event::new(Payload::Attested(Default::default()));
        other.date = Some("2025".parse().unwrap());
        registry
            .execute_blocking(
                &system,
                Command {
                    stream: StreamId::partnership(slug("plzensky-kraj--bergamo")),
                    events: vec![(None, other)],
                    expected_version: None,
                },
            )
            .unwrap();
        assert_eq!(batch.append().unwrap(), 2);

        let signed_id = proposed(2, Payload::Stagnated(Default::default()), None)[0].id;
        let retracted = Payload::Retracted(Retracted {
            target: signed_id,
            reason: "recorded in error".into(),
        });
        batch.write(&stream, proposed(3, retracted, None)).unwrap();
        let end = Payload::Terminated(Terminated {
            mode: TerminationMode::Mutual,
            reason: "x".into(),
            effective: None,
            decided_by: None,
            resolution: None,
            notice: None,
        });
        let err = batch
            .write(&stream, proposed(4, end, Some("2024-01-01")))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Terminated is refused in state proposed"),
            "{err}"
        );
        assert_eq!(batch.append().unwrap(), 1);
        assert_eq!(registry.store().stream_version(&stream).unwrap(), 3);
    }
}
