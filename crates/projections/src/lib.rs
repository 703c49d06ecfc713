//! Pacta's read models (projections), rebuilt from the log.
//!
//! A [`Projection`] reads some event types, applies them in log order to
//! its own state, and keeps that state in its own sled tree together with
//! a checkpoint: the last log position applied. State and checkpoint are
//! written in one atomic sled batch, so after a crash a projection resumes
//! from a checkpoint that matches its state.
//!
//! Memory is always current; the tree may trail it by up to
//! [`CHECKPOINT_LAG`] positions. Writes of small catch-ups (one command's
//! events) accumulate in a pending batch and reach the tree together, so
//! an append does not pay for a sled batch of its own; a crash costs only
//! re-applying those few positions on the next open.
//!
//! [`Projections`] holds every registered projection. On open each one
//! loads its state and catches up from its checkpoint; `rebuild` clears
//! one and replays it from position 0. Registering a new projection is one
//! type implementing [`Projection`] and one line in [`registered`].
//!
//! Projections answer queries from memory: per-partnership timelines and
//! an index by party ([`Partnerships`]), parties with their aliases
//! ([`Parties`]), offers ([`Offers`]). They never re-read the whole log to
//! answer a query.
//!
//! Not here: validating commands (the registry crate) and HTTP.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod codec;
pub mod offers;
pub mod parties;
pub mod partnerships;

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use pacta_domain::{EventType, Recorded};
use pacta_store::Store;
use tokio::sync::watch;

pub use offers::{OfferView, Offers};
pub use parties::{Parties, PartyView};
pub use partnerships::{ListFilter, Partnerships, Row};

/// Every projection, in the order they are applied. Add a new one here.
pub fn registered() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(Partnerships::default()),
        Arc::new(Parties::default()),
        Arc::new(Offers::default()),
    ]
}

/// Errors of projections.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] pacta_store::Error),
    /// sled failed on a projection's tree.
    #[error("projection storage: {0}")]
    Sled(#[from] sled::Error),
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
}

/// A read model fed by the log.
pub trait Projection: Send + Sync + 'static {
    /// A stable name: its sled tree is `projection/NAME`.
    fn name(&self) -> &'static str;

    /// Whether it reads events of this type.
    fn reads(&self, ty: EventType) -> bool;

    /// Forgets all in-memory state (before a rebuild).
    fn reset(&self);

    /// Loads its in-memory state from its tree (the checkpoint key
    /// excluded).
    fn load(&self, tree: &sled::Tree) -> Result<(), Error>;

    /// Applies events it reads, ascending by position, all after its
    /// checkpoint. Durable state goes into `batch`, which is written
    /// atomically with the new checkpoint; in-memory state changes at once.
    fn apply(
        &self,
        ctx: &ApplyContext<'_>,
        events: &[&Recorded],
        batch: &mut sled::Batch,
    ) -> Result<(), Error>;

    /// Called when catching up reaches the head: a chance to warm caches.
    fn caught_up(&self) {}

    /// For typed access through [`Projections::get`].
    fn as_any(&self) -> &dyn Any;
}

/// Reads every value of a projection's tree (the checkpoint excluded) as
/// JSON: the stored form of views kept one per key.
pub(crate) fn load_json<T: serde::de::DeserializeOwned>(
    name: &'static str,
    tree: &sled::Tree,
) -> Result<Vec<T>, Error> {
    let mut out = Vec::new();
    for item in tree.iter() {
        let (k, v) = item?;
        if k.as_ref() == CHECKPOINT_KEY {
            continue;
        }
        out.push(serde_json::from_slice(&v).map_err(|e| Error::Corrupt {
            name,
            reason: e.to_string(),
        })?);
    }
    Ok(out)
}

/// The key holding a projection's checkpoint in its tree. Every other key
/// of a projection's tree starts with a byte other than 0xff.
pub const CHECKPOINT_KEY: &[u8] = b"\xffcheckpoint";

struct Entry {
    projection: Arc<dyn Projection>,
    tree: sled::Tree,
    /// Applied in memory.
    checkpoint: AtomicU64,
    /// Written to the tree.
    stored: AtomicU64,
    /// State applied in memory and not yet written to the tree (everything
    /// between `stored` and `checkpoint`).
    pending: Mutex<sled::Batch>,
}

impl Entry {
    /// Writes `batch` with the checkpoint `last`, atomically.
    fn store(&self, mut batch: sled::Batch, last: u64) -> Result<(), Error> {
        batch.insert(CHECKPOINT_KEY, &last.to_be_bytes());
        self.tree.apply_batch(batch)?;
        self.stored.store(last, Ordering::Release);
        Ok(())
    }
}

/// How far catching up has come: `(done, total)` in log positions.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Events decoded and applied per atomic step when catching up: larger
/// steps write fewer, bigger batches; the checkpoint moves once a step.
pub const DEFAULT_CHUNK: usize = 65_536;

/// How many positions a projection's tree may trail its state in memory.
pub const CHECKPOINT_LAG: u64 = 4096;

/// Records decoded and applied at a time within a chunk.
const READ_SLICE: usize = 512;

/// Every registered projection over one store.
pub struct Projections {
    store: Store,
    entries: Vec<Entry>,
    applied: watch::Sender<u64>,
    chunk: std::sync::atomic::AtomicUsize,
    /// Held while catching up, rebuilding, or taking the pending batches
    /// to persist: they move pending batches and checkpoints together.
    busy: Mutex<()>,
    /// Held while writing to the trees, so that writes land in checkpoint
    /// order. Taken after `busy`, never before it.
    writing: Mutex<()>,
}

fn tree_name(name: &str) -> String {
    format!("projection/{name}")
}

fn read_checkpoint(name: &'static str, tree: &sled::Tree) -> Result<u64, Error> {
    match tree.get(CHECKPOINT_KEY)? {
        None => Ok(0),
        Some(v) => {
            let b: [u8; 8] = v.as_ref().try_into().map_err(|_| Error::Corrupt {
                name,
                reason: "the checkpoint is not 8 bytes".into(),
            })?;
            Ok(u64::from_be_bytes(b))
        }
    }
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
        let mut entries = Vec::new();
        for projection in projections {
            let name = projection.name();
            let tree = store.aux_tree(&tree_name(name))?;
            let checkpoint = read_checkpoint(name, &tree)?;
            if checkpoint == 0 {
                // Nothing applied: anything in the tree is left over from
                // an interrupted rebuild.
                tree.clear()?;
            } else {
                projection.load(&tree)?;
            }
            entries.push(Entry {
                projection,
                tree,
                checkpoint: AtomicU64::new(checkpoint),
                stored: AtomicU64::new(checkpoint),
                pending: Mutex::new(sled::Batch::default()),
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

    /// Sets how many events each atomic catch-up step takes.
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

    /// The checkpoint of each projection as written to its tree.
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
    /// Every full chunk is written to the trees with its checkpoint; the
    /// last, partial one only once its projection's tree would trail by
    /// [`CHECKPOINT_LAG`] positions or more, or on [`Projections::persist`].
    pub fn catch_up(&self, progress: Progress<'_>) -> Result<u64, Error> {
        let _busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        self.catch_up_locked(progress)
    }

    /// Writes every projection's pending state with its checkpoint, so that
    /// the trees hold what memory held when it was called. Catching up goes
    /// on meanwhile: only taking the pending batches excludes it. A server
    /// calls this now and then, off the path of requests.
    pub fn persist(&self) -> Result<(), Error> {
        let busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let mut taken = Vec::new();
        for entry in &self.entries {
            let checkpoint = entry.checkpoint.load(Ordering::Acquire);
            if entry.stored.load(Ordering::Acquire) < checkpoint {
                taken.push((entry, take_pending(entry), checkpoint));
            }
        }
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        drop(busy);
        for (entry, batch, checkpoint) in taken {
            entry.store(batch, checkpoint)?;
        }
        Ok(())
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
        let ctx = ApplyContext { store: &self.store };
        let mut read = 0u64;
        let size = self.chunk.load(Ordering::Relaxed);
        // Records are decoded and applied a few at a time, so they stay in
        // the CPU's caches; the state they produce accumulates in one
        // batch per projection, written with the checkpoint every `size`
        // records.
        let mut records = self.store.read_from(from).peekable();
        let mut slice: Vec<Recorded> = Vec::with_capacity(READ_SLICE);
        progress(from, head);
        'chunks: loop {
            let mut batches: Vec<sled::Batch> = self.entries.iter().map(take_pending).collect();
            let mut in_chunk = 0usize;
            let mut last = 0u64;
            while in_chunk < size {
                slice.clear();
                while slice.len() < READ_SLICE && in_chunk + slice.len() < size {
                    match records.next() {
                        Some(record) => {
                            let record = record?;
                            let end = record.envelope.position >= head;
                            slice.push(record);
                            if end {
                                break;
                            }
                        }
                        None => break,
                    }
                }
                let Some(slice_last) = slice.last().map(|r| r.envelope.position) else {
                    break;
                };
                last = slice_last;
                in_chunk += slice.len();
                for (entry, batch) in self.entries.iter().zip(&mut batches) {
                    let checkpoint = entry.checkpoint.load(Ordering::Acquire);
                    let events: Vec<&Recorded> = slice
                        .iter()
                        .filter(|r| {
                            r.envelope.position > checkpoint
                                && entry.projection.reads(r.event.event_type())
                        })
                        .collect();
                    if !events.is_empty() {
                        entry.projection.apply(&ctx, &events, batch)?;
                    }
                }
                if last >= head {
                    break;
                }
            }
            if last == 0 {
                for (entry, batch) in self.entries.iter().zip(batches) {
                    put_pending(entry, batch);
                }
                break 'chunks;
            }
            read += in_chunk as u64;
            let full = in_chunk >= size;
            for (entry, batch) in self.entries.iter().zip(batches) {
                if entry.checkpoint.load(Ordering::Acquire) >= last {
                    put_pending(entry, batch);
                    continue;
                }
                // A few positions (one command's) stay pending in memory
                // and reach the tree with later ones: a crash only means
                // applying them again from the stored checkpoint.
                if full || last - entry.stored.load(Ordering::Acquire) >= CHECKPOINT_LAG {
                    let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
                    entry.store(batch, last)?;
                } else {
                    put_pending(entry, batch);
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
        for entry in chosen {
            // Checkpoint 0 first: if we die while clearing, the next open
            // sees 0 and clears again.
            entry.tree.insert(CHECKPOINT_KEY, &0u64.to_be_bytes())?;
            entry.checkpoint.store(0, Ordering::Release);
            entry.stored.store(0, Ordering::Release);
            entry.projection.reset();
            take_pending(entry);
            entry.tree.clear()?;
        }
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

fn take_pending(entry: &Entry) -> sled::Batch {
    std::mem::take(&mut *entry.pending.lock().unwrap_or_else(|p| p.into_inner()))
}

fn put_pending(entry: &Entry, batch: sled::Batch) {
    *entry.pending.lock().unwrap_or_else(|p| p.into_inner()) = batch;
}
