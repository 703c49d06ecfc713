//! Pacta's read models (projections), rebuilt from the log.
//!
//! A [`Projection`] reads some event types, applies them in log order to
//! its own state, and keeps that state in its own keyspace of the store
//! ([`pacta_store::kv`], `projection/NAME`) together with a checkpoint:
//! the last log position applied. State and checkpoint change in one
//! [`Keyspace::commit`], so after a crash a projection either resumes from
//! a checkpoint that matches its state, or finds its keyspace dirty (a
//! commit was cut short) and is rebuilt from position 0.
//!
//! Memory is always current; the keyspace may trail it by up to
//! [`CHECKPOINT_LAG`] positions. Writes of small catch-ups (one command's
//! events) accumulate in a pending [`WriteSet`] and reach the keyspace
//! together, so an append does not pay for a commit of its own; a crash
//! costs only re-applying those few positions on the next open.
//!
//! [`Projections`] holds every registered projection. On open each one
//! loads its state and catches up from its checkpoint; `rebuild` clears
//! one and replays it from position 0. Registering a new projection is one
//! type implementing [`Projection`] and one line in [`registered`].
//! Projections know the store's records and keyspaces, never its storage
//! engine.
//!
//! Projections answer queries from memory: per-partnership timelines and
//! an index by party ([`Partnerships`]), parties with their aliases
//! ([`Parties`]), offers ([`Offers`]). They never re-read the whole log to
//! answer a query.
//!
//! Not here: validating commands (the registry crate) and HTTP.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod activity;
mod codec;
pub mod offers;
pub mod parties;
pub mod partnerships;
pub mod view;

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use pacta_domain::{EventType, Recorded};
use pacta_store::Store;
use pacta_store::kv::{self, Checkpoint, Keyspace, WriteSet};
use tokio::sync::watch;

pub use offers::{OfferView, Offers};
pub use parties::{Lookup, Parties, PartyView};
pub use partnerships::{InForceFilter, ListFilter, Partnerships, Row};
pub use view::{Context, Folded, Serve, Served, Target, View};

/// Every projection, in the order they are applied. Add a new one here,
/// after the partnerships (views consult them: see [`Context`]).
pub fn registered() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(Partnerships::default()),
        Arc::new(Parties::default()),
        Arc::new(Offers::default()),
        Arc::new(Folded::<activity::Activity>::served()),
    ]
}

/// Errors of projections.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] pacta_store::Error),
    /// A projection's keyspace failed.
    #[error("projection storage: {0}")]
    Kv(#[from] kv::Error),
    /// A projection's stored state does not decode.
    #[error("projection {name}: corrupt state: {reason} (run `pacta rebuild --projection {name}`)")]
    Corrupt {
        /// The projection.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// No projection has this name.
    #[error("no projection named {0:?} (known: {1})")]
    Unknown(String, String),
}

/// What a projection may consult while applying events.
pub struct ApplyContext<'a> {
    /// The store (to resolve the event a correction points at).
    pub store: &'a Store,
    /// The partnerships projection, when registered: it has applied at
    /// least the events being applied.
    pub partnerships: Option<&'a Partnerships>,
}

/// A read model fed by the log.
pub trait Projection: Send + Sync + 'static {
    /// A stable name: its keyspace is `projection/NAME` (format 1) or
    /// `projection/NAME/vFORMAT`.
    fn name(&self) -> &'static str;

    /// The version of the form it stores. Bump it when that form changes:
    /// the projection then starts from a keyspace of its own and is
    /// rebuilt from the log, so a store written by an older version is
    /// never misread and never blocks a command.
    fn format(&self) -> u32 {
        1
    }

    /// Whether it reads events of this type.
    fn reads(&self, ty: EventType) -> bool;

    /// Forgets all in-memory state (before a rebuild).
    fn reset(&self);

    /// Loads its in-memory state from its keyspace, whose checkpoint is
    /// clean and above 0.
    fn load(&self, keyspace: &kv::Reader<'_>) -> Result<(), Error>;

    /// Applies events it reads, ascending by position, all after its
    /// checkpoint. Durable state goes into `writes`, which is committed
    /// with the new checkpoint; in-memory state changes at once. A failed
    /// read is an error, never a skipped event.
    fn apply(
        &self,
        ctx: &ApplyContext<'_>,
        events: &[&Recorded],
        writes: &mut WriteSet,
    ) -> Result<(), Error>;

    /// Called when catching up reaches the head: a chance to warm caches.
    fn caught_up(&self) {}

    /// Adds to `writes` what the keyspace needs besides what `apply` put
    /// there, just before they are committed with the checkpoint of the
    /// state in memory (a view writes its whole state here, once per
    /// commit rather than once per event).
    fn snapshot(&self, _writes: &mut WriteSet) -> Result<(), Error> {
        Ok(())
    }

    /// The projection as a served view, if it is one.
    fn served(&self) -> Option<&dyn Served> {
        None
    }

    /// For typed access through [`Projections::get`].
    fn as_any(&self) -> &dyn Any;
}

struct Entry {
    projection: Arc<dyn Projection>,
    keyspace: Keyspace,
    /// Applied in memory.
    checkpoint: AtomicU64,
    /// Committed to the keyspace.
    stored: AtomicU64,
    /// State applied in memory and not yet committed (everything between
    /// `stored` and `checkpoint`).
    pending: Mutex<WriteSet>,
}

impl Entry {
    /// Commits `writes` with the checkpoint `last`.
    fn store(&self, writes: &WriteSet, last: u64) -> Result<(), Error> {
        self.keyspace.commit(writes, last)?;
        self.stored.store(last, Ordering::Release);
        Ok(())
    }
}

/// How far catching up has come: `(done, total)` in log positions.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Events decoded and applied per step when catching up: larger steps
/// make fewer, bigger commits; the checkpoint moves once a step.
pub const DEFAULT_CHUNK: usize = 65_536;

/// How many positions a projection's keyspace may trail its state in
/// memory.
pub const CHECKPOINT_LAG: u64 = 4096;

/// Records decoded and applied at a time within a chunk.
const READ_SLICE: usize = 512;

/// Every registered projection over one store.
pub struct Projections {
    store: Store,
    entries: Vec<Entry>,
    applied: watch::Sender<u64>,
    chunk: std::sync::atomic::AtomicUsize,
    /// Held while catching up, rebuilding, or taking the pending writes
    /// to persist: they move pending writes and checkpoints together.
    busy: Mutex<()>,
    /// Held while writing to the keyspaces, so that commits land in
    /// checkpoint order. Taken after `busy`, never before it.
    writing: Mutex<()>,
}

/// Which projections to rebuild from the log instead of loading.
#[derive(Clone, Copy, Debug)]
pub enum Rebuild<'a> {
    /// Every one.
    All,
    /// The one of this name.
    One(&'a str),
}

impl Rebuild<'_> {
    fn includes(&self, name: &str) -> bool {
        match self {
            Rebuild::All => true,
            Rebuild::One(n) => *n == name,
        }
    }
}

/// Drops the keyspaces that older forms of the registered projections
/// left behind (`projection/NAME` or `projection/NAME/vN` of another N).
fn sweep(store: &Store, projections: &[Arc<dyn Projection>]) -> Result<(), Error> {
    let names = store.keyspace_names()?;
    for projection in projections {
        let name = projection.name();
        let current = keyspace_name(name, projection.format());
        let base = keyspace_name(name, 1);
        for old in &names {
            let of_it = *old == base || old.strip_prefix(&format!("{base}/v")).is_some();
            if of_it && *old != current {
                tracing::info!(keyspace = %old, "dropping the keyspace of an older form of a projection");
                store.drop_keyspace(old)?;
            }
        }
    }
    Ok(())
}

/// The keyspace a projection of this name and stored format lives in.
pub fn keyspace_name(name: &str, format: u32) -> String {
    match format {
        1 => format!("projection/{name}"),
        n => format!("projection/{name}/v{n}"),
    }
}

/// Loads a projection's state from its keyspace into its emptied memory;
/// returns the checkpoint. A keyspace that holds part of a commit cut
/// short, entries without a checkpoint (left by an older version's
/// killed rebuild), or state that does not load is cleared: the
/// projection is replayed from 0.
fn load(keyspace: &Keyspace, projection: &dyn Projection) -> Result<u64, Error> {
    let name = projection.name();
    projection.reset();
    match keyspace.checkpoint()? {
        Checkpoint::Clean(0) => {}
        Checkpoint::Clean(position) => match projection.load(&keyspace.read()) {
            Ok(()) => return Ok(position),
            // Derived state that does not load is rebuilt from the log,
            // never a reason for a command to fail.
            Err(Error::Corrupt { reason, .. } | Error::Kv(kv::Error::Corrupt { reason, .. })) => {
                tracing::warn!(
                    projection = name,
                    %reason,
                    "the projection's stored state does not load; rebuilding it from the log"
                );
                projection.reset();
            }
            Err(e) => return Err(e),
        },
        Checkpoint::Dirty { since } => {
            tracing::warn!(
                projection = name,
                since,
                "the projection's last commit did not finish; rebuilding it from the log"
            );
        }
    }
    keyspace.clear()?;
    Ok(0)
}

impl Projections {
    /// Opens every registered projection and loads its state. Call
    /// [`Projections::catch_up`] to apply what the log holds beyond the
    /// checkpoints.
    pub fn open(store: &Store) -> Result<Projections, Error> {
        Projections::open_with(store, registered(), DEFAULT_CHUNK)
    }

    /// [`Projections::open`] with a given set of projections and chunk size.
    pub fn open_with(
        store: &Store,
        projections: Vec<Arc<dyn Projection>>,
        chunk: usize,
    ) -> Result<Projections, Error> {
        Projections::open_rebuilding(store, projections, chunk, None)
    }

    /// [`Projections::open_with`], except that the projections `rebuild`
    /// names are never loaded: their keyspaces are cleared, so the
    /// catch-up that follows rebuilds them from the log (state that no
    /// longer loads cannot stop its own rebuild).
    pub fn open_rebuilding(
        store: &Store,
        projections: Vec<Arc<dyn Projection>>,
        chunk: usize,
        rebuild: Option<&Rebuild<'_>>,
    ) -> Result<Projections, Error> {
        if let Some(Rebuild::One(name)) = rebuild
            && !projections.iter().any(|p| p.name() == *name)
        {
            let names: Vec<&str> = projections.iter().map(|p| p.name()).collect();
            return Err(Error::Unknown((*name).to_owned(), names.join(", ")));
        }
        sweep(store, &projections)?;
        let mut entries = Vec::new();
        for projection in projections {
            let keyspace =
                store.keyspace(&keyspace_name(projection.name(), projection.format()))?;
            let checkpoint = match rebuild {
                Some(r) if r.includes(projection.name()) => {
                    projection.reset();
                    keyspace.clear()?;
                    0
                }
                _ => load(&keyspace, projection.as_ref())?,
            };
            entries.push(Entry {
                projection,
                keyspace,
                checkpoint: AtomicU64::new(checkpoint),
                stored: AtomicU64::new(checkpoint),
                pending: Mutex::new(WriteSet::new()),
            });
        }
        let min = entries
            .iter()
            .map(|e| e.checkpoint.load(Ordering::Acquire))
            .min()
            .unwrap_or(0);
        let (applied, _) = watch::channel(min);
        Ok(Projections {
            store: store.clone(),
            entries,
            applied,
            chunk: std::sync::atomic::AtomicUsize::new(chunk.max(1)),
            busy: Mutex::new(()),
            writing: Mutex::new(()),
        })
    }

    /// Sets how many events each catch-up step takes.
    pub fn set_chunk(&self, chunk: usize) {
        self.chunk.store(chunk.max(1), Ordering::Relaxed);
    }

    /// The store the projections read.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The names of the registered projections.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.projection.name()).collect()
    }

    /// A projection by type.
    pub fn get<P: Projection>(&self) -> &P {
        self.entries
            .iter()
            .find_map(|e| e.projection.as_any().downcast_ref::<P>())
            .expect("every projection type used is registered")
    }

    /// The partnerships projection.
    pub fn partnerships(&self) -> &Partnerships {
        self.get()
    }

    /// The parties projection.
    pub fn parties(&self) -> &Parties {
        self.get()
    }

    /// The offers projection.
    pub fn offers(&self) -> &Offers {
        self.get()
    }

    /// The served views, in the order they are registered.
    pub fn served(&self) -> Vec<&dyn Served> {
        self.entries
            .iter()
            .filter_map(|e| e.projection.served())
            .collect()
    }

    /// The served view of this name, with the position it has applied.
    pub fn view(&self, name: &str) -> Option<(&dyn Served, u64)> {
        self.entries.iter().find_map(|e| {
            let served = e.projection.served().filter(|s| s.name() == name)?;
            Some((served, e.checkpoint.load(Ordering::Acquire)))
        })
    }

    /// The lowest checkpoint: every projection has applied the log up to here.
    pub fn applied(&self) -> u64 {
        *self.applied.borrow()
    }

    /// A receiver of [`Projections::applied`], to wait for a position.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// The checkpoint of each projection's state in memory.
    pub fn checkpoints(&self) -> Vec<(&'static str, u64)> {
        self.entries
            .iter()
            .map(|e| (e.projection.name(), e.checkpoint.load(Ordering::Acquire)))
            .collect()
    }

    /// The checkpoint of each projection as committed to its keyspace.
    pub fn stored_checkpoints(&self) -> Vec<(&'static str, u64)> {
        self.entries
            .iter()
            .map(|e| (e.projection.name(), e.stored.load(Ordering::Acquire)))
            .collect()
    }

    /// Applies the log from each projection's checkpoint to the store's
    /// head. Returns the number of records read. Callers are served one at
    /// a time.
    ///
    /// Every full chunk is committed with its checkpoint and flushed; the
    /// last, partial one is committed only once its projection's keyspace would trail by
    /// [`CHECKPOINT_LAG`] positions or more, or on [`Projections::persist`].
    pub fn catch_up(&self, progress: Progress<'_>) -> Result<u64, Error> {
        let _busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        self.catch_up_locked(progress)
    }

    /// After a failed catch-up, memory may hold part of a step the
    /// checkpoints do not cover: every projection goes back to what its
    /// keyspace holds, so that the next catch-up applies nothing twice.
    fn restore(&self) {
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        for entry in &self.entries {
            take_pending(entry);
            let checkpoint = load(&entry.keyspace, entry.projection.as_ref()).unwrap_or_else(|e| {
                tracing::error!(
                    projection = entry.projection.name(),
                    error = %e,
                    "cannot reload a projection after a failed catch-up; it replays from 0"
                );
                entry.projection.reset();
                // Clearing marks the keyspace dirty first, and commits
                // refuse a dirty keyspace; only a store that cannot even
                // write that marker leaves it as it was (and then fails
                // the next commit as well).
                if let Err(e) = entry.keyspace.clear() {
                    tracing::error!(projection = entry.projection.name(), error = %e, "cannot clear it either");
                }
                0
            });
            entry.checkpoint.store(checkpoint, Ordering::Release);
            entry.stored.store(checkpoint, Ordering::Release);
        }
        let min = self
            .entries
            .iter()
            .map(|e| e.checkpoint.load(Ordering::Acquire))
            .min();
        self.applied.send_replace(min.unwrap_or(0));
    }

    /// Commits every projection's pending state with its checkpoint, so
    /// that the keyspaces hold what memory held when it was called.
    /// Catching up goes on meanwhile: only taking the pending writes
    /// excludes it. A server calls this now and then, off the path of
    /// requests.
    pub fn persist(&self) -> Result<(), Error> {
        let busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let mut taken = Vec::new();
        for entry in &self.entries {
            let checkpoint = entry.checkpoint.load(Ordering::Acquire);
            if entry.stored.load(Ordering::Acquire) < checkpoint {
                let mut writes = take_pending(entry);
                // Under `busy`: the state is the one of `checkpoint`.
                if let Err(e) = entry.projection.snapshot(&mut writes) {
                    put_pending(entry, writes);
                    return Err(e);
                }
                taken.push((entry, writes, checkpoint));
            }
        }
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        drop(busy);
        let mut result = Ok(());
        for (entry, writes, checkpoint) in taken {
            if let Err(e) = entry.store(&writes, checkpoint) {
                // Nothing is lost: the writes go back before those pending
                // since, for the next commit. (A keyspace the failure left
                // dirty refuses commits; the catch-up whose commit is
                // refused then reloads the projection, rebuilding it.)
                let mut pending = entry.pending.lock().unwrap_or_else(|p| p.into_inner());
                let later = std::mem::replace(&mut *pending, writes);
                pending.extend(later);
                result = result.and(Err(e));
            }
        }
        result
    }

    /// Positions applied in memory and not yet written, summed over the
    /// projections.
    pub fn unpersisted(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| e.checkpoint.load(Ordering::Acquire) - e.stored.load(Ordering::Acquire))
            .sum()
    }

    fn catch_up_locked(&self, progress: Progress<'_>) -> Result<u64, Error> {
        self.try_catch_up(progress).inspect_err(|_| self.restore())
    }

    fn try_catch_up(&self, progress: Progress<'_>) -> Result<u64, Error> {
        let head = self.store.head().position;
        let from = self
            .entries
            .iter()
            .map(|e| e.checkpoint.load(Ordering::Acquire))
            .min()
            .unwrap_or(head);
        if from >= head {
            return Ok(0);
        }
        let ctx = ApplyContext {
            store: &self.store,
            partnerships: self
                .entries
                .iter()
                .find_map(|e| e.projection.as_any().downcast_ref::<Partnerships>()),
        };
        let mut read = 0u64;
        let size = self.chunk.load(Ordering::Relaxed);
        // Records are decoded and applied a few at a time, so they stay in
        // the CPU's caches; the state they produce accumulates in one
        // write set per projection, committed with the checkpoint every
        // `size` records.
        // Only the types some projection behind the head reads are
        // decoded; the others pass as their positions.
        let behind: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.checkpoint.load(Ordering::Acquire) < head)
            .collect();
        let wanted: Vec<EventType> = EventType::ALL
            .iter()
            .copied()
            .filter(|&ty| behind.iter().any(|e| e.projection.reads(ty)))
            .collect();
        let mut records = self
            .store
            .read_from_if(from, move |ty| wanted.contains(&ty))
            .peekable();
        let mut slice: Vec<Recorded> = Vec::with_capacity(READ_SLICE);
        progress(from, head);
        'chunks: loop {
            let mut writes: Vec<WriteSet> = self.entries.iter().map(take_pending).collect();
            let mut in_chunk = 0usize;
            let mut last = 0u64;
            while in_chunk < size {
                slice.clear();
                let mut seen = 0usize;
                let mut slice_last = None;
                while slice.len() < READ_SLICE && in_chunk + seen < size {
                    match records.next() {
                        Some(item) => {
                            let (position, record) = item?;
                            seen += 1;
                            slice_last = Some(position);
                            slice.extend(record);
                            if position >= head {
                                break;
                            }
                        }
                        None => break,
                    }
                }
                let Some(slice_last) = slice_last else {
                    break;
                };
                last = slice_last;
                in_chunk += seen;
                for (entry, writes) in self.entries.iter().zip(&mut writes) {
                    let checkpoint = entry.checkpoint.load(Ordering::Acquire);
                    let events: Vec<&Recorded> = slice
                        .iter()
                        .filter(|r| {
                            r.envelope.position > checkpoint
                                && entry.projection.reads(r.event.event_type())
                        })
                        .collect();
                    if !events.is_empty() {
                        entry.projection.apply(&ctx, &events, writes)?;
                    }
                }
                if last >= head {
                    break;
                }
            }
            if last == 0 {
                for (entry, writes) in self.entries.iter().zip(writes) {
                    put_pending(entry, writes);
                }
                break 'chunks;
            }
            read += in_chunk as u64;
            let full = in_chunk >= size;
            for (entry, mut writes) in self.entries.iter().zip(writes) {
                if entry.checkpoint.load(Ordering::Acquire) >= last {
                    put_pending(entry, writes);
                    continue;
                }
                // A few positions (one command's) stay pending in memory
                // and reach the keyspace with later ones: a crash only
                // means applying them again from the stored checkpoint.
                if full || last - entry.stored.load(Ordering::Acquire) >= CHECKPOINT_LAG {
                    entry.projection.snapshot(&mut writes)?;
                    let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
                    entry.store(&writes, last)?;
                    if full {
                        // A rebuild or a long catch-up killed later resumes
                        // from here: the store keeps plain writes in memory
                        // until it flushes them.
                        entry.keyspace.flush()?;
                    }
                } else {
                    put_pending(entry, writes);
                }
                entry.checkpoint.store(last, Ordering::Release);
            }
            self.applied.send_replace(last);
            progress(last, head);
            if last >= head || records.peek().is_none() {
                break;
            }
        }
        for entry in &self.entries {
            entry.projection.caught_up();
        }
        Ok(read)
    }

    /// Drops the state of one projection (all when `None`) and replays the
    /// log into it from position 0. Progress is reported as it goes; each
    /// chunk is checkpointed, so an interrupted rebuild resumes on the next
    /// open.
    pub fn rebuild(&self, name: Option<&str>, progress: Progress<'_>) -> Result<u64, Error> {
        let busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let chosen: Vec<&Entry> = match name {
            None => self.entries.iter().collect(),
            Some(n) => {
                let e = self
                    .entries
                    .iter()
                    .find(|e| e.projection.name() == n)
                    .ok_or_else(|| Error::Unknown(n.to_owned(), self.names().join(", ")))?;
                vec![e]
            }
        };
        // A persist under way finishes first, so that nothing it took
        // lands after the clearing.
        let writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        for entry in chosen {
            entry.checkpoint.store(0, Ordering::Release);
            entry.stored.store(0, Ordering::Release);
            entry.projection.reset();
            take_pending(entry);
            // Marked dirty while under way: if we die meanwhile, the next
            // open clears it again.
            entry.keyspace.clear()?;
        }
        drop(writing);
        self.applied.send_replace(0);
        let read = self.catch_up_locked(progress)?;
        drop(busy);
        self.persist()?;
        Ok(read)
    }
}

impl Drop for Projections {
    /// Writes what is pending, so that the next open need not apply it
    /// again; nothing is lost if this fails or never runs.
    fn drop(&mut self) {
        if let Err(e) = self.persist() {
            tracing::warn!(error = %e, "could not write the projections' latest state");
        }
    }
}

fn take_pending(entry: &Entry) -> WriteSet {
    std::mem::take(&mut *entry.pending.lock().unwrap_or_else(|p| p.into_inner()))
}

fn put_pending(entry: &Entry, writes: WriteSet) {
    *entry.pending.lock().unwrap_or_else(|p| p.into_inner()) = writes;
}
