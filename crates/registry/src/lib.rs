//! Pacta's application layer: the registry as one object.
//!
//! A [`Registry`] owns the store and the projections. Writes come in as
//! [`Command`]s from an [`Actor`]: they are authorized, checked against the
//! stream's history and the lifecycle ([`validate`]), appended with the
//! stream version they were checked against (a concurrent write makes the
//! store refuse, and the command is checked again), and the projections
//! catch up before the command returns, so a read right after a write sees
//! it.
//!
//! Also here: the bundled seed data ([`seeds`]), bearer tokens
//! ([`tokens`]), the read views used by the CLI and the HTTP API
//! ([`query`]), termination dossiers ([`audit`]), the yearly report
//! ([`report`]) and a generator of synthetic histories for benchmarks
//! ([`synthetic`]).
//!
//! Not here: HTTP (the server crate) and argument parsing (the binary).
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod audit;
pub mod query;
pub mod report;
pub mod seeds;
pub mod synthetic;
pub mod tokens;
pub mod validate;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use pacta_domain::{Event, EventId, Refusal, Slug, StreamId, StreamKind, Timestamp};
use pacta_projections::Projections;
use pacta_store::{Append, Landed, NewEvent, Store};

pub use tokens::{Role, Tokens};

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

/// Why a command was not carried out. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The event is well-formed JSON but not valid (a missing field's
    /// meaning, a wrong stream, a bad reference).
    #[error("{0}")]
    Invalid(String),
    /// The lifecycle refuses it.
    #[error("{0}")]
    Refused(Refusal),
    /// A party named does not exist.
    #[error("party {0} does not exist")]
    UnknownParty(Slug),
    /// The partnership, offer or party written to does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The stream is not at the expected version.
    #[error("version conflict: expected version {expected}, the stream is at {actual}")]
    Conflict {
        /// What the caller expected.
        expected: u64,
        /// What it is.
        actual: u64,
    },
    /// An id (stream or event) is taken.
    #[error("{0}")]
    Taken(String),
    /// The actor may not write here.
    #[error("{0}")]
    Forbidden(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] pacta_store::Error),
    /// A projection failed.
    #[error(transparent)]
    Projection(#[from] pacta_projections::Error),
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

/// How often an append without an expected version is rechecked when a
/// concurrent write got in first.
const RETRIES: usize = 8;

/// The registry: store, projections and the rules for writing.
pub struct Registry {
    store: Store,
    projections: Projections,
    catching_up: Mutex<()>,
    /// One turn at a time per stream for [`Registry::execute`]: commands
    /// on the same stream check and append in order instead of racing,
    /// so none is refused for a version it never asked for. Entries live
    /// while someone holds or waits for them.
    turns: Mutex<HashMap<StreamId, Arc<tokio::sync::Mutex<()>>>>,
}

/// A command's turn on its stream; leaving it lets the next one in and
/// forgets the stream's entry when nobody else waits.
struct Turn<'a> {
    turns: &'a Mutex<HashMap<StreamId, Arc<tokio::sync::Mutex<()>>>>,
    stream: StreamId,
    lock: Arc<tokio::sync::Mutex<()>>,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.guard.take();
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        // Held by the map and by this turn only: nobody waits.
        if Arc::strong_count(&self.lock) == 2 {
            turns.remove(&self.stream);
        }
    }
}

/// The current time as a record time.
pub fn now() -> Timestamp {
    Timestamp::from_system_time(SystemTime::now())
}

struct StoreWorld<'a> {
    store: &'a Store,
}

impl validate::World for StoreWorld<'_> {
    fn party_country(&self, id: &Slug) -> Option<String> {
        stored_country(self.store, id)
    }
    fn partnership_exists(&self, id: &Slug) -> bool {
        self.store
            .stream_version(&StreamId::partnership(id.clone()))
            .is_ok_and(|v| v > 0)
    }
}

/// The country a stored party registered with (it never changes).
fn stored_country(store: &Store, id: &Slug) -> Option<String> {
    store
        .stream(&StreamId::party(id.clone()))
        .ok()?
        .into_iter()
        .find_map(|r| match r.event.payload {
            pacta_domain::Payload::PartyRegistered(p) => Some(p.country),
            _ => None,
        })
}

impl Registry {
    /// Opens the store in `dir` and brings the projections up to date.
    pub fn open(dir: impl AsRef<Path>) -> Result<Registry, CommandError> {
        Registry::open_with_progress(dir, &mut |_, _| {})
    }

    /// [`Registry::open`], reporting catch-up progress.
    pub fn open_with_progress(
        dir: impl AsRef<Path>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Registry, CommandError> {
        let store = Store::open(dir)?;
        let projections = Projections::open(&store)?;
        let registry = Registry {
            store,
            projections,
            catching_up: Mutex::new(()),
            turns: Mutex::new(HashMap::new()),
        };
        registry.catch_up_with(progress)?;
        Ok(registry)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The projections.
    pub fn projections(&self) -> &Projections {
        &self.projections
    }

    /// Applies what the log holds beyond the projections' checkpoints.
    pub fn catch_up(&self) -> Result<u64, CommandError> {
        self.catch_up_with(&mut |_, _| {})
    }

    fn catch_up_with(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, CommandError> {
        let _guard = self.catching_up.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.projections.catch_up(progress)?)
    }

    /// Rebuilds one projection (all when `None`) from position 0.
    pub fn rebuild(
        &self,
        name: Option<&str>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, CommandError> {
        let _guard = self.catching_up.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.projections.rebuild(name, progress)?)
    }

    fn authorize(
        &self,
        actor: &Actor,
        stream: &StreamId,
        home: Option<&Slug>,
        events: &[(EventId, &Event)],
    ) -> Result<(), CommandError> {
        match actor.role {
            Role::Admin => Ok(()),
            Role::Reader => Err(CommandError::Forbidden(format!(
                "token {} has the reader role and may not write",
                actor.name
            ))),
            Role::Clerk => {
                let own = actor.party.as_ref();
                let ok = match stream.kind {
                    StreamKind::Party => events
                        .iter()
                        .all(|(_, e)| e.event_type() == pacta_domain::EventType::PartyRegistered),
                    StreamKind::Partnership | StreamKind::Offer => own.is_some() && home == own,
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

    /// Authorizes, validates and appends; returns once the events are
    /// durable and the projections have applied them.
    pub async fn execute(&self, actor: &Actor, command: Command) -> Result<Outcome, CommandError> {
        let _turn = self.turn(&command.stream).await;
        let (append, retry_ok) = {
            let prepared = self.prepare(actor, &command)?;
            match prepared {
                Prepared::Duplicate(outcome) => return Ok(outcome),
                Prepared::Append(a) => (a, command.expected_version.is_none()),
            }
        };
        let mut append = append;
        for attempt in 0.. {
            match self.store.append(append.clone()).await {
                Ok(done) => {
                    let position = done.events.last().map_or(0, |e| e.position);
                    self.caught_up_to(position).await?;
                    return Ok(Outcome {
                        stream: command.stream.clone(),
                        events: done.events,
                        duplicate: done.duplicate,
                    });
                }
                Err(pacta_store::Error::Conflict {
                    expected, actual, ..
                }) if retry_ok && attempt < RETRIES => {
                    tracing::debug!(expected, actual, "concurrent write; checking again");
                    append = match self.prepare(actor, &command)? {
                        Prepared::Duplicate(outcome) => return Ok(outcome),
                        Prepared::Append(a) => a,
                    };
                }
                Err(e) => return Err(map_store_error(e)),
            }
        }
        unreachable!("the loop returns")
    }

    /// Waits for the stream's turn.
    async fn turn(&self, stream: &StreamId) -> Turn<'_> {
        let lock = {
            let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
            turns.entry(stream.clone()).or_default().clone()
        };
        let guard = lock.clone().lock_owned().await;
        Turn {
            turns: &self.turns,
            stream: stream.clone(),
            lock,
            guard: Some(guard),
        }
    }

    /// [`Registry::execute`] for callers outside an async runtime.
    pub fn execute_blocking(
        &self,
        actor: &Actor,
        command: Command,
    ) -> Result<Outcome, CommandError> {
        let retry_ok = command.expected_version.is_none();
        let mut attempt = 0;
        loop {
            let append = match self.prepare(actor, &command)? {
                Prepared::Duplicate(outcome) => return Ok(outcome),
                Prepared::Append(a) => a,
            };
            match self.store.append_blocking(append) {
                Ok(done) => return self.finish(command.stream.clone(), done),
                Err(pacta_store::Error::Conflict { .. }) if retry_ok && attempt < RETRIES => {
                    attempt += 1;
                }
                Err(e) => return Err(map_store_error(e)),
            }
        }
    }

    /// Returns once every projection has applied `position`: catches up
    /// itself when no one else is, and otherwise waits for whoever is,
    /// without blocking the runtime's threads on the catch-up lock.
    async fn caught_up_to(&self, position: u64) -> Result<(), CommandError> {
        let mut applied = self.projections.subscribe();
        loop {
            if *applied.borrow_and_update() >= position {
                return Ok(());
            }
            let done = match self.catching_up.try_lock() {
                Ok(_guard) => {
                    self.projections.catch_up(&mut |_, _| {})?;
                    true
                }
                Err(_) => false,
            };
            if done {
                return Ok(());
            }
            // Whoever holds the lock may have read the head before this
            // append; look again when it publishes, or soon.
            let _ = tokio::time::timeout(std::time::Duration::from_micros(500), applied.changed())
                .await;
        }
    }

    fn finish(
        &self,
        stream: StreamId,
        done: pacta_store::Appended,
    ) -> Result<Outcome, CommandError> {
        self.catch_up()?;
        Ok(Outcome {
            stream,
            events: done.events,
            duplicate: done.duplicate,
        })
    }

    fn prepare(&self, actor: &Actor, command: &Command) -> Result<Prepared, CommandError> {
        if command.events.is_empty() {
            return Err(CommandError::Invalid("no events to append".into()));
        }
        // A retry of stored events is answered from the store, unchecked.
        if let Some((Some(id), _)) = command.events.first()
            && self.store.position_of(*id)?.is_some()
        {
            let mut landed = Vec::with_capacity(command.events.len());
            for (id, _) in &command.events {
                let record = match id {
                    Some(id) => match self.store.position_of(*id)? {
                        Some(p) => self.store.get(p)?,
                        None => None,
                    },
                    None => None,
                };
                let Some(record) = record else {
                    return Err(CommandError::Taken(
                        "some of these event ids are stored and some are not: a retry must \
                         repeat the original request's events exactly"
                            .into(),
                    ));
                };
                if record.envelope.stream != command.stream {
                    return Err(CommandError::Taken(format!(
                        "event id {} is already stored in {}",
                        record.envelope.event_id, record.envelope.stream
                    )));
                }
                landed.push(Landed {
                    event_id: record.envelope.event_id,
                    position: record.envelope.position,
                    version: record.envelope.version,
                    recorded_at: record.envelope.recorded_at,
                    hash: record.hash,
                });
            }
            return Ok(Prepared::Duplicate(Outcome {
                stream: command.stream.clone(),
                events: landed,
                duplicate: true,
            }));
        }
        let version = self.store.stream_version(&command.stream)?;
        if let Some(expected) = command.expected_version
            && expected != version
        {
            return Err(CommandError::Conflict {
                expected,
                actual: version,
            });
        }
        let ids: Vec<EventId> = command
            .events
            .iter()
            .map(|(id, _)| id.unwrap_or_else(|| EventId::from_ulid(ulid::Ulid::generate())))
            .collect();
        let pending: Vec<validate::Pending<'_>> = ids
            .iter()
            .zip(&command.events)
            .map(|(id, (_, e))| validate::Pending { id: *id, event: e })
            .collect();
        let is_opening = matches!(
            command.events[0].1.event_type(),
            pacta_domain::EventType::PartyRegistered
                | pacta_domain::EventType::PartnershipOpened
                | pacta_domain::EventType::OfferPublished
        );
        if version == 0 && !is_opening {
            return Err(CommandError::NotFound(format!(
                "{} does not exist",
                command.stream
            )));
        }
        let with_ids: Vec<(EventId, &Event)> = pending.iter().map(|p| (p.id, p.event)).collect();
        let world = StoreWorld { store: &self.store };
        // A stored partnership: its facts from the projection (caught up
        // to the version just read), so the check costs the same however
        // long the history grows.
        let mut checked = false;
        if command.stream.kind == StreamKind::Partnership && version > 0 {
            for attempt in 0..2 {
                let outcome = self.projections.partnerships().with_history(
                    command.stream.id.as_str(),
                    |header, facts, timeline| {
                        if facts.len() as u64 + 1 != version {
                            return None;
                        }
                        let history = ProjectedHistory {
                            facts,
                            timeline,
                            stream: &command.stream,
                            store: &self.store,
                        };
                        Some(
                            self.authorize(actor, &command.stream, Some(&header.home), &with_ids)
                                .and_then(|()| {
                                    validate::validate_partnership(
                                        &history,
                                        &pending,
                                        now(),
                                        &world,
                                    )
                                }),
                        )
                    },
                );
                match outcome.flatten() {
                    Some(result) => {
                        result?;
                        checked = true;
                        break;
                    }
                    None if attempt == 0 => {
                        self.catch_up()?;
                    }
                    None => {}
                }
            }
        }
        if !checked {
            let records = self.store.stream(&command.stream)?;
            let home = validate::home_of(&command.stream, &records, &pending);
            self.authorize(actor, &command.stream, home.as_ref(), &with_ids)?;
            validate::validate(&command.stream, &records, &pending, now(), &world)?;
        }
        Ok(Prepared::Append(Append {
            stream: command.stream.clone(),
            expected_version: Some(version),
            events: command
                .events
                .iter()
                .zip(ids)
                .map(|((_, event), event_id)| NewEvent {
                    event_id,
                    event: event.clone(),
                    recorded_by: actor.name.clone(),
                })
                .collect(),
        }))
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
}

/// A partnership's history as the projection holds it, with the store's
/// indexes for the rare look-ups of corrections.
struct ProjectedHistory<'a> {
    facts: &'a [pacta_domain::Fact],
    timeline: Option<&'a pacta_domain::Timeline>,
    stream: &'a StreamId,
    store: &'a Store,
}

impl validate::PartnershipHistory for ProjectedHistory<'_> {
    fn exists(&self) -> bool {
        true
    }
    fn facts(&self) -> &[pacta_domain::Fact] {
        self.facts
    }
    fn timeline(&self) -> Option<&pacta_domain::Timeline> {
        self.timeline
    }
    fn position_of(&self, id: EventId) -> Option<u64> {
        let position = self.store.position_of(id).ok()??;
        let record = self.store.get(position).ok()??;
        (&record.envelope.stream == self.stream).then_some(position)
    }
    fn event_at(&self, position: u64) -> Option<Event> {
        let record = self.store.get(position).ok()??;
        (&record.envelope.stream == self.stream).then_some(record.event)
    }
}

enum Prepared {
    Duplicate(Outcome),
    Append(Append),
}

fn map_store_error(e: pacta_store::Error) -> CommandError {
    match e {
        pacta_store::Error::Conflict {
            expected, actual, ..
        } => CommandError::Conflict { expected, actual },
        pacta_store::Error::DuplicateId { .. } => CommandError::Taken(e.to_string()),
        e => CommandError::Store(e),
    }
}
