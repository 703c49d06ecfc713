//! Pacta's application layer: the registry as one object.
//!
//! A [`Registry`] owns the store and the projections. Every write takes
//! one path ([`write`]): [`Command`]s from an [`Actor`] are authorized,
//! decided by the domain's `decide` against the stream's state, and
//! appended with the stream version decide saw (a concurrent write makes
//! the store refuse, and the command is decided again); the projections
//! catch up before the command returns, so a read right after a write
//! sees it. The seed loader and the generator of synthetic histories take
//! the same path, many writes at a time.
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
pub mod transparency;
pub mod witness;
pub mod witnessing;
pub mod write;

use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use pacta_domain::{Refusal, Slug, Timestamp};
use pacta_projections::Projections;
use pacta_store::Store;

pub use pacta_projections::{Lookup, PartyView, Rebuild};
pub use tokens::{Role, Tokens};
pub use write::{Actor, Command, OpenPartnership, Outcome};

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
    /// An event id is stored already, but not by this request: in another
    /// stream, with another event, or only some of the request's ids. A
    /// retry must repeat the original request.
    #[error("{0}")]
    IdempotencyMismatch(String),
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

/// The registry: store, projections and the rules for writing.
pub struct Registry {
    store: Store,
    projections: Projections,
    catching_up: Mutex<()>,
}

/// The current time as a record time.
pub fn now() -> Timestamp {
    Timestamp::from_system_time(SystemTime::now())
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
        Registry::open_store(Store::open(dir)?, None, None, progress)
    }

    /// Opens a registry over an open store. The projections `rebuild`
    /// names are not loaded but rebuilt from the log by the catch-up of
    /// opening, `chunk` events per checkpointed step (the default when
    /// `None`).
    pub fn open_store(
        store: Store,
        rebuild: Option<Rebuild<'_>>,
        chunk: Option<usize>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Registry, CommandError> {
        let projections = Projections::open_rebuilding(
            &store,
            pacta_projections::registered(),
            chunk.unwrap_or(pacta_projections::DEFAULT_CHUNK),
            rebuild.as_ref(),
        )?;
        let registry = Registry {
            store,
            projections,
            catching_up: Mutex::new(()),
        };
        match registry.catch_up_with(progress) {
            Ok(_) => {}
            // A store opened damaged still answers what it can read: the
            // projections answer as of where they stopped, and writes are
            // refused by the store.
            Err(e)
                if matches!(
                    registry.store.health(),
                    Err(pacta_store::Error::Damaged { .. })
                ) =>
            {
                tracing::error!(error = %e, "the projections cannot catch up past the damaged log");
            }
            Err(e) => return Err(e),
        }
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

    /// Runs `work`, which reads the store, from async code. On the
    /// embedded store reads are local and quick, so it runs in place. On
    /// PostgreSQL each read waits for a round trip: then the runtime's
    /// worker thread is handed over first ([`tokio::task::block_in_place`]),
    /// so that other requests go on meanwhile instead of the server
    /// serving one request per worker at a time.
    pub(crate) fn off_worker<T>(&self, work: impl FnOnce() -> T) -> T {
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if self.store.postgres().is_some() && multi_thread {
            tokio::task::block_in_place(work)
        } else {
            work()
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
                    self.off_worker(|| self.projections.catch_up(&mut |_, _| {}))?;
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
}
