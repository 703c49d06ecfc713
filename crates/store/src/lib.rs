//! Pacta's append-only event log on sled, with durable group-committed
//! appends and a SHA-256 hash chain.
//!
//! **The log is the only truth.** The log is one sled database in
//! `DATA/log`; its `log` tree holds the records, and the head is its last
//! record. Everything else is derived from it: the stream and event-id
//! indexes (trees `streams`, `event_ids` and their checkpoint in `meta`,
//! written behind the acknowledgement by the index builder, see
//! [`index`]), and the state kept beside the log in a second database,
//! `DATA/views` (projections), whose writes never add to the flushes that
//! acknowledge appends. Tokens, which are not derived from the log, live
//! in a third, `DATA/tokens` ([`Store::tokens_keyspace`]). Both are
//! opened on first use: reading and verifying the log never needs them.
//! With [`use_postgres`], the log and the tokens live in PostgreSQL
//! instead (see [`pg`]); the views stay in `DATA/views`.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `log` | position, u64 big-endian (from 1, no gaps) | 32-byte hash, 32-byte previous hash, canonical JSON of the record |
//! | `streams` (derived) | stream id, `0x00`, version u64 big-endian | position |
//! | `event_ids` (derived) | the event id's 16 ULID bytes | position |
//! | `meta` (derived) | `indexed` | the last position the two indexes hold |
//!
//! Guarantees:
//! - An append is acknowledged only after its record is on disk: sled's
//!   `flush()` and then `fdatasync` of sled's data file (see [`writer`]).
//!   Concurrent appends share one flush and one sync.
//! - An append with a stale expected version writes nothing. An append
//!   whose event ids are all stored already, in the same stream with the
//!   same events, returns their original positions and writes nothing; the
//!   same id with another event is refused.
//! - Readers see only durable records: nothing above the durable head.
//! - `hash_n = SHA-256(hash_{n-1} || canonical_bytes(record_n))`, see
//!   [`canonical`]; [`Store::verify`] recomputes the chain.
//! - A storage error on the write path stops every later write
//!   ([`Store::health`] says why) until the process restarts.
//! - Opening reads the last [`TAIL_CHECKED`] records and checks them
//!   against the chain; if they cannot be read or do not fit, the store
//!   opens damaged: it answers the reads it can, and [`Store::health`]
//!   and every write answer [`Error::Damaged`] naming the position.
//! - [`Store::verify`] and [`Store::read_past_damage`] go on past a
//!   position sled cannot read (see `scan.rs`), so one pass names the
//!   first damaged position and the extent of the damage.
//!
//! Only this crate knows sled, the stored bytes and how they are hashed.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod canonical;
mod index;
pub mod kv;
pub mod pg;
mod rules;
mod scan;
mod testing;
mod tree;
mod verify;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use pacta_domain::{Digest, Event, EventId, EventType, Recorded, StreamId, Timestamp};
use tokio::sync::{oneshot, watch};

pub use verify::{DigestCheck, VerifyReport};

/// The most canonical bytes one record may take. sled 0.34 stores a value
/// above a quarter of its segment size (128 KiB) as a separate blob file;
/// Pacta's records stay well below that, so the log never needs blobs.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// The last record of the log: what a third party keeps as a digest.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Head {
    /// Position of the last record; 0 for an empty log.
    pub position: u64,
    /// Its hash ([`Digest::ZERO`] for an empty log).
    pub hash: Digest,
}

impl Head {
    /// The head of an empty log.
    pub const EMPTY: Head = Head {
        position: 0,
        hash: Digest::ZERO,
    };
}

/// One event to append.
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// Its id; a retry with the same id is answered, not written again.
    pub event_id: EventId,
    /// The event.
    pub event: Event,
    /// The authenticated actor.
    pub recorded_by: String,
}

/// An append request: events for one stream, written together or not at
/// all.
#[derive(Clone, Debug)]
pub struct Append {
    /// The stream.
    pub stream: StreamId,
    /// The stream's version the caller saw (0: the stream must not exist);
    /// `None` appends whatever the version.
    pub expected_version: Option<u64>,
    /// The events, in order. Must not be empty.
    pub events: Vec<NewEvent>,
}

/// Where an appended event landed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Landed {
    /// Its id.
    pub event_id: EventId,
    /// Its position in the log.
    pub position: u64,
    /// Its version in the stream.
    pub version: u64,
    /// Its record time.
    pub recorded_at: Timestamp,
    /// Its hash.
    pub hash: Digest,
}

/// The answer to an append.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Appended {
    /// One entry per event of the request, in order.
    pub events: Vec<Landed>,
    /// True when every event id was stored already: nothing was written
    /// and `events` are the originals.
    pub duplicate: bool,
}

/// Who writes a store's log ([`Store::role`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The embedded store: this process, alone.
    Embedded,
    /// On PostgreSQL, this instance holds the write leadership.
    Leader,
    /// On PostgreSQL, this instance does not write now: another one leads,
    /// or no write has come since it started or lost the leadership.
    Standby,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Embedded => "embedded",
            Role::Leader => "leader",
            Role::Standby => "standby",
        })
    }
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Another process holds the data directory.
    #[error(
        "the store at {path} is in use by another process (a running `pacta serve`?); \
         stop it or use another --data directory"
    )]
    Locked {
        /// The data directory.
        path: PathBuf,
    },
    /// Another Pacta instance holds the write leadership of the log in
    /// PostgreSQL; this one reads, and takes over writing once the
    /// leader's session ends.
    #[error(
        "another Pacta instance writes to the log in {database}; this one serves reads \
         and takes over writing when that one stops"
    )]
    NotLeader {
        /// The database, as `postgresql://user@host:port/db`.
        database: String,
    },
    /// sled could not open the directory.
    #[error("cannot open the store at {path}: {reason}")]
    Open {
        /// The data directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A read or write failed.
    #[error("storage error: {reason}")]
    Storage {
        /// What the storage said.
        reason: String,
        /// The disk is full.
        disk_full: bool,
    },
    /// The stream is not at the version the caller expected.
    #[error("version conflict on {stream}: expected version {expected}, the stream is at {actual}")]
    Conflict {
        /// The stream.
        stream: StreamId,
        /// What the caller expected.
        expected: u64,
        /// What it is.
        actual: u64,
    },
    /// An event id is already stored, in another stream or with other
    /// events than this request's.
    #[error("event id {event_id} is already stored at position {position} ({detail})")]
    DuplicateId {
        /// The id.
        event_id: EventId,
        /// Where it is stored.
        position: u64,
        /// Why the request cannot be a retry.
        detail: String,
    },
    /// The request is malformed (no events, the same id twice).
    #[error("invalid append: {0}")]
    Invalid(String),
    /// A record would be larger than [`MAX_RECORD_BYTES`].
    #[error("the event takes {size} bytes stored; a record may take at most {max}")]
    TooLarge {
        /// Its canonical size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A stored record does not decode or does not fit its place.
    #[error("corrupt record at position {position}: {reason}")]
    Corrupt {
        /// Where.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// An imported record does not continue the chain.
    #[error("import refused at position {position}: {reason}")]
    Import {
        /// The record's position.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// A record could not be hashed.
    #[error(transparent)]
    Canonical(#[from] canonical::CanonicalError),
    /// A write failed earlier and the store refuses further writes until
    /// the process restarts.
    #[error(
        "the store stopped accepting writes after a storage failure ({reason}); restart to recover"
    )]
    Stopped {
        /// The failure.
        reason: String,
        /// It was a full disk.
        disk_full: bool,
    },
    /// The store is closing.
    #[error("the store is closing")]
    Shutdown,
    /// The log's last records, checked when the store opened, cannot be
    /// read or do not fit the hash chain: the store answers the reads it
    /// can and refuses every write.
    #[error(
        "the log is damaged at position {position}: {reason}; the store refuses writes \
         (`pacta verify` shows the extent)"
    )]
    Damaged {
        /// The first position found damaged.
        position: u64,
        /// What is wrong there.
        reason: String,
    },
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Error {
        match e {
            sled::Error::Io(io) => Error::from_io(io),
            e => Error::Storage {
                reason: e.to_string(),
                disk_full: false,
            },
        }
    }
}

impl Error {
    fn from_io(e: std::io::Error) -> Error {
        Error::Storage {
            disk_full: e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28),
            reason: e.to_string(),
        }
    }

    /// True when the disk is full (now, or when the store stopped).
    pub fn is_disk_full(&self) -> bool {
        matches!(
            self,
            Error::Storage {
                disk_full: true,
                ..
            } | Error::Stopped {
                disk_full: true,
                ..
            }
        )
    }
}

type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// How many of the records written last [`Store::read_from`] serves from
/// memory.
pub const RECENT: usize = 16_384;

/// The records written last, in position order, kept for readers that
/// follow the log closely (projections, the live event stream).
#[derive(Default)]
pub(crate) struct Recent(RwLock<std::collections::VecDeque<Arc<Recorded>>>);

impl Recent {
    fn push(&self, records: Vec<Arc<Recorded>>) {
        let mut ring = self.0.write().unwrap_or_else(|p| p.into_inner());
        ring.extend(records);
        let excess = ring.len().saturating_sub(RECENT);
        ring.drain(..excess);
    }

    /// The first position held (if any is at or after `start`), and the
    /// held records from `start` to `head`.
    fn from(&self, start: u64, head: u64) -> (Option<u64>, Vec<Arc<Recorded>>) {
        let ring = self.0.read().unwrap_or_else(|p| p.into_inner());
        let Some(first) = ring.front().map(|r| r.envelope.position) else {
            return (None, Vec::new());
        };
        if head < first || head < start {
            return (None, Vec::new());
        }
        let skip = start.saturating_sub(first) as usize;
        let records = ring
            .iter()
            .skip(skip)
            .take_while(|r| r.envelope.position <= head)
            .cloned()
            .collect();
        (Some(first.max(start)), records)
    }

    fn clear(&self) {
        self.0.write().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Why the store stopped accepting writes.
#[derive(Clone, Debug)]
struct Failure {
    reason: String,
    disk_full: bool,
    /// The log was found damaged at this position when the store opened.
    damaged: Option<u64>,
}

/// State the writer, the pipeline's threads, the index builder and the
/// readers share.
pub(crate) struct Shared {
    /// Records not yet in the index trees.
    tail: RwLock<index::Tail>,
    /// Held for writing while the index trees are rebuilt; look-ups in the
    /// trees hold it for reading.
    index_lock: RwLock<()>,
    /// The records written last, by position.
    recent: Recent,
    /// Streams' last versions in the index trees, as looked up.
    versions: index::Versions,
    failure: OnceLock<Failure>,
    /// Tests hold the index builder back to keep records in the tail.
    index_paused: std::sync::atomic::AtomicBool,
    /// Tests make the next sync fail, as a dying disk would.
    fail_next_sync: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn failure(&self) -> Option<&Failure> {
        self.failure.get()
    }

    /// Stops the store for good; the first failure is the one reported.
    fn fail(&self, reason: String, disk_full: bool) {
        tracing::error!(%reason, disk_full, "the store stops accepting writes; restart to recover");
        let _ = self.failure.set(Failure {
            reason,
            disk_full,
            damaged: None,
        });
    }

    /// Refuses every write because the log is damaged at `position`.
    fn damaged(&self, position: u64, reason: String) {
        tracing::error!(position, %reason, "the log is damaged; the store refuses writes");
        let _ = self.failure.set(Failure {
            reason,
            disk_full: false,
            damaged: Some(position),
        });
    }

    /// Leave to read the index trees: waits while they are rebuilt.
    fn index_trees(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.index_lock.read().unwrap_or_else(|p| p.into_inner())
    }

    fn stopped(&self) -> Error {
        match self.failure() {
            Some(Failure {
                reason,
                damaged: Some(position),
                ..
            }) => Error::Damaged {
                position: *position,
                reason: reason.clone(),
            },
            Some(f) => Error::Stopped {
                reason: f.reason.clone(),
                disk_full: f.disk_full,
            },
            None => Error::Shutdown,
        }
    }
}

struct Inner {
    db: sled::Db,
    /// The databases beside the log, opened when first asked for.
    side: Side,
    log: sled::Tree,
    index: index::Index,
    shared: Arc<Shared>,
    requests: Mutex<Option<std::sync::mpsc::Sender<writer::Request>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    head: watch::Receiver<Head>,
    /// The head when the store opened: a store closed with a head beyond
    /// it pays sled's replay at closing, not at the next open.
    opened_at: Head,
    /// Shared with the [`Closer`].
    quiet: Arc<std::sync::atomic::AtomicBool>,
    path: PathBuf,
}

const AUX_PREFIX: &str = "aux/";

/// The directory of the database of derived state beside the log
/// (projections), `DATA/views`.
const VIEWS: &str = "views";

/// The directory of the database of tokens, `DATA/tokens`: state that is
/// not derived from the log, kept apart from `views` so that setting a
/// damaged `views` aside and rebuilding it never touches it.
const TOKENS: &str = "tokens";

/// How many of the log's last records are read and checked against the
/// chain when the store opens. Damage there (a flipped byte sled cannot
/// read past, a record that no longer hashes) opens the store refusing
/// writes ([`Error::Damaged`]) instead of appending onto it. 1000 records
/// read and hashed cost a few milliseconds; older damage is `verify`'s to
/// find.
pub const TAIL_CHECKED: u64 = 1000;

/// The databases kept beside the log, each opened on first use, so that
/// reading the log (`verify`, `export`, `rebuild`'s first step) never
/// depends on them.
#[derive(Default)]
struct Side {
    /// Derived state (projections): `DATA/views`.
    views: Mutex<Option<sled::Db>>,
    /// Tokens: `DATA/tokens`.
    tokens: Mutex<Option<sled::Db>>,
    /// Which were opened, for the [`Closer`].
    opened: Arc<Opened>,
}

/// Which side databases a store opened.
#[derive(Default)]
struct Opened {
    views: std::sync::atomic::AtomicBool,
    tokens: std::sync::atomic::AtomicBool,
}

impl Opened {
    fn names(&self) -> impl Iterator<Item = &'static str> {
        let flag = |f: &std::sync::atomic::AtomicBool| f.load(std::sync::atomic::Ordering::Acquire);
        [(VIEWS, flag(&self.views)), (TOKENS, flag(&self.tokens))]
            .into_iter()
            .filter_map(|(name, opened)| opened.then_some(name))
    }
}

/// The append-only log. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
    /// The log in PostgreSQL, when the store was opened on one: every
    /// method on the log goes there, and the data directory keeps only
    /// the views and the tokens.
    pg: Option<Arc<pg::PgStore>>,
    _closer: Arc<Closer>,
}

/// Where the log of every store this process opens lives, when not in
/// its data directory: a PostgreSQL connection string.
static LOG_LOCATION: OnceLock<String> = OnceLock::new();

/// Keeps the log of every store this process opens from now on in the
/// PostgreSQL database at `url` (`pacta --store`, `PACTA_STORE`), with
/// the tokens; the data directory then keeps the views. Set once, before the
/// first store opens; a second call is refused.
pub fn use_postgres(url: &str) -> Result<(), Error> {
    LOG_LOCATION.set(url.to_owned()).map_err(|_| Error::Open {
        path: "PostgreSQL".into(),
        reason: "the log's location is set already".into(),
    })
}

/// The records of either backend, as one iterator type.
enum Either<A, B> {
    Sled(A),
    Pg(B),
}

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for Either<A, B> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match self {
            Either::Sled(a) => a.next(),
            Either::Pg(b) => b.next(),
        }
    }
}

impl Store {
    /// Whether `dir` holds a store (an empty one included): what tells a
    /// command that only reads from one pointed at the wrong directory.
    pub fn exists(dir: impl AsRef<Path>) -> bool {
        dir.as_ref().join("log").is_dir()
    }

    /// Opens (creating if needed) the store in `dir`. Fails at once with
    /// [`Error::Locked`] if another process holds it.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, Error> {
        let mut store = Store::open_sled(dir)?;
        if let Some(url) = LOG_LOCATION.get() {
            store.pg = Some(Arc::new(pg::PgStore::connect(url)?));
        }
        Ok(store)
    }

    /// The log of this store in PostgreSQL, if it lives there.
    pub fn postgres(&self) -> Option<&str> {
        self.pg.as_ref().map(|pg| pg.name())
    }

    fn open_sled(dir: impl AsRef<Path>) -> Result<Store, Error> {
        let path = dir.as_ref().to_path_buf();
        let named = |e: Error| match e {
            Error::Locked { .. } => Error::Locked { path: path.clone() },
            e => e,
        };
        private_dir(&path)?;
        let db = open_db(&path.join("log")).map_err(named)?;
        make_private(&path.join("log"))?;
        let log = db.open_tree("log")?;
        let index = index::Index::open(&db)?;
        // The data file sled writes the log into; `fdatasync` on it makes
        // what sled's flush wrote durable.
        let file = File::open(data_file(&path.join("log"))).map_err(Error::from_io)?;
        // What a crash left written but unsynced is synced now: from here
        // on every record the log holds is durable.
        file.sync_data().map_err(Error::from_io)?;
        let (head, last_recorded, mut damage) = match last_record(&log) {
            Ok(None) => (Head::EMPTY, Timestamp::MIN, None),
            Ok(Some(last)) => {
                let head = Head {
                    position: last.envelope.position,
                    hash: last.hash,
                };
                let damage = verify::check_tail(&log, head, TAIL_CHECKED);
                (head, last.envelope.recorded_at, damage)
            }
            Err(e) => {
                let (head, recorded_at, damage) = head_past_damage(&log, &index, &e);
                (head, recorded_at, Some(damage))
            }
        };
        // The index catches up before the writer starts, so that every
        // stream the writer has not written since is whole in the index.
        match index.catch_up(&log, head.position, &mut |_, _| {}) {
            Ok(0) => {}
            Ok(caught_up) => tracing::info!(
                records = caught_up,
                "indexed records written after the last index checkpoint"
            ),
            // Damaged records cannot be indexed; the store refuses writes
            // anyway, and reads of what is indexed still answer.
            Err(e) if damage.is_some() => {
                tracing::warn!(error = %e, "the index could not catch up past the damage");
            }
            Err(Error::Corrupt { position, reason }) => damage = Some((position, reason)),
            Err(e) => return Err(e),
        }
        let shared = Arc::new(Shared {
            tail: RwLock::default(),
            index_lock: RwLock::default(),
            versions: index::Versions::default(),
            recent: Recent::default(),
            failure: OnceLock::new(),
            index_paused: Default::default(),
            fail_next_sync: Default::default(),
        });
        if let Some((position, reason)) = damage {
            shared.damaged(position, reason);
        }
        let (head_tx, head_rx) = watch::channel(head);
        let (tx, rx) = std::sync::mpsc::channel();
        let (index_tx, index_rx) = std::sync::mpsc::channel();
        let (flush_tx, flush_rx) = std::sync::mpsc::channel();
        let (sync_tx, sync_rx) = std::sync::mpsc::channel();
        let durability = Arc::new(writer::Durability {
            db: db.clone(),
            file,
            head_tx,
            indexer: index_tx,
            shared: shared.clone(),
            in_flight: AtomicUsize::new(0),
        });
        let state = writer::Writer {
            log: log.clone(),
            index: index.clone(),
            shared: shared.clone(),
            durability: durability.clone(),
            head,
            last_recorded,
            versions: Default::default(),
        };
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(Error::from_io)
        };
        let threads = vec![
            spawn("pacta-writer", Box::new(move || state.run(rx, flush_tx)))?,
            spawn("pacta-flusher", {
                let d = durability.clone();
                Box::new(move || writer::flusher(d, flush_rx, sync_tx))
            })?,
            spawn(
                "pacta-syncer",
                Box::new(move || writer::syncer(durability, sync_rx)),
            )?,
            spawn("pacta-indexer", {
                let (index, shared) = (index.clone(), shared.clone());
                Box::new(move || index::builder(index, shared, index_rx))
            })?,
        ];
        let quiet = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let side = Side::default();
        let opened = side.opened.clone();
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                side,
                log,
                index,
                shared,
                requests: Mutex::new(Some(tx)),
                threads: Mutex::new(threads),
                head: head_rx,
                opened_at: head,
                quiet: quiet.clone(),
                path: path.clone(),
            }),
            pg: None,
            _closer: Arc::new(Closer {
                path,
                quiet,
                opened,
            }),
        })
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Who writes the log: this process alone (the embedded store), or,
    /// on PostgreSQL, this instance as the leader or as a standby that
    /// serves reads and takes over on its first write after the leader
    /// stops.
    pub fn role(&self) -> Role {
        match &self.pg {
            None => Role::Embedded,
            Some(pg) if pg.leads() => Role::Leader,
            Some(_) => Role::Standby,
        }
    }

    /// Takes the write leadership of a log in PostgreSQL now rather than on
    /// the first write ([`Error::NotLeader`] while another instance holds
    /// it); nothing to do on the embedded store.
    pub fn lead(&self) -> Result<(), Error> {
        match &self.pg {
            Some(pg) => pg.lead().map(drop),
            None => Ok(()),
        }
    }

    /// `Ok` while the store accepts writes; after a storage failure the
    /// reason, until the process restarts.
    pub fn health(&self) -> Result<(), Error> {
        if let Some(pg) = &self.pg {
            return pg.health();
        }
        match self.inner.shared.failure() {
            None => Ok(()),
            Some(_) => Err(self.inner.shared.stopped()),
        }
    }

    fn send(&self, request: writer::Request) -> Result<(), Error> {
        let guard = self.inner.requests.lock().map_err(|_| Error::Shutdown)?;
        let tx = guard.as_ref().ok_or(Error::Shutdown)?;
        tx.send(request).map_err(|_| Error::Shutdown)
    }

    /// Appends durably: resolves once the events are on disk.
    pub async fn append(&self, append: Append) -> Result<Appended, Error> {
        if let Some(pg) = &self.pg {
            return pg.append(append).await;
        }
        let rx = self.enqueue(append, None)?;
        rx.await.map_err(|_| self.inner.shared.stopped())?
    }

    /// [`Store::append`] for callers outside an async runtime.
    pub fn append_blocking(&self, append: Append) -> Result<Appended, Error> {
        if let Some(pg) = &self.pg {
            return pg.append_blocking(append);
        }
        let rx = self.enqueue(append, None)?;
        rx.blocking_recv()
            .map_err(|_| self.inner.shared.stopped())?
    }

    /// Queues every append at once (the writer groups them), then waits
    /// for all; for callers outside an async runtime. Appends to the same
    /// stream are decided in the order given.
    pub fn append_many_blocking(&self, appends: Vec<Append>) -> Vec<Result<Appended, Error>> {
        self.append_many_at_blocking(appends, None)
    }

    /// [`Store::append_many_blocking`] with a record time chosen by the
    /// caller instead of the clock's (`None`: the clock's), for data whose
    /// record time is part of what it is: the bundled seed data carries
    /// one fixed record time, so that every install holds the same log.
    /// Record times still never go backwards: where a later record is
    /// stored, the appends take its time.
    pub fn append_many_at_blocking(
        &self,
        appends: Vec<Append>,
        recorded_at: Option<Timestamp>,
    ) -> Vec<Result<Appended, Error>> {
        if let Some(pg) = &self.pg {
            return pg.append_many_at_blocking(appends, recorded_at);
        }
        let receivers: Vec<_> = appends
            .into_iter()
            .map(|a| self.enqueue(a, recorded_at))
            .collect();
        receivers
            .into_iter()
            .map(|rx| {
                rx?.blocking_recv()
                    .map_err(|_| self.inner.shared.stopped())?
            })
            .collect()
    }

    /// Serializes the events here, on the caller's thread, checks their
    /// size, and queues the request for the writer.
    fn enqueue(
        &self,
        append: Append,
        recorded_at: Option<Timestamp>,
    ) -> Result<oneshot::Receiver<Result<Appended, Error>>, Error> {
        let prepared = append
            .events
            .iter()
            .map(|e| {
                let c = canonical::CanonicalEvent::new(&e.event)?;
                // The envelope adds ids, times, the stream and the actor.
                let size = c.len() + 256 + append.stream.to_string().len() + e.recorded_by.len();
                if size > MAX_RECORD_BYTES {
                    return Err(Error::TooLarge {
                        size,
                        max: MAX_RECORD_BYTES,
                    });
                }
                Ok(c)
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let (tx, rx) = oneshot::channel();
        self.send(writer::Request::Append(append, prepared, recorded_at, tx))?;
        Ok(rx)
    }

    /// Writes records of an export as they are (their envelopes and
    /// hashes), after checking that each continues the chain: its
    /// position follows the head, its previous hash is the head's hash,
    /// its hash is the hash of its canonical bytes, and its stream version
    /// and event id fit. All or nothing; durable before returning.
    pub fn import_blocking(&self, records: Vec<Recorded>) -> Result<Head, Error> {
        if let Some(pg) = &self.pg {
            return pg.import_blocking(records);
        }
        let (tx, rx) = oneshot::channel();
        self.send(writer::Request::Import(records, tx))?;
        rx.blocking_recv()
            .map_err(|_| self.inner.shared.stopped())?
    }

    /// The last durable record's position and hash.
    pub fn head(&self) -> Head {
        if let Some(pg) = &self.pg {
            return pg.head();
        }
        *self.inner.head.borrow()
    }

    /// A receiver that sees the head after every durable group.
    pub fn subscribe(&self) -> watch::Receiver<Head> {
        if let Some(pg) = &self.pg {
            return pg.subscribe();
        }
        self.inner.head.clone()
    }

    /// The durable record at a position.
    pub fn get(&self, position: u64) -> Result<Option<Recorded>, Error> {
        if let Some(pg) = &self.pg {
            return pg.get(position);
        }
        if position > self.head().position {
            return Ok(None);
        }
        read_record(&self.inner.log, position)
    }

    /// Durable records from `after + 1` on, in log order.
    ///
    /// Records written since the store opened come from memory (the last
    /// [`RECENT`] of them), so that projections catching up after an
    /// append do not read back and decode what was just written.
    pub fn read_from(&self, after: u64) -> impl Iterator<Item = Result<Recorded, Error>> + use<> {
        if let Some(pg) = &self.pg {
            return Either::Pg(pg.read_from(after));
        }
        let head = self.head().position;
        let start = after.saturating_add(1);
        let (first, recent) = self.inner.shared.recent.from(start, head);
        let stored_upto = first.map_or(head, |f| f - 1);
        let stored = (start <= stored_upto).then(|| {
            self.inner
                .log
                .range(start.to_be_bytes()..=stored_upto.to_be_bytes())
        });
        Either::Sled(
            stored
                .into_iter()
                .flatten()
                .map(|item| {
                    let (k, v) = item?;
                    decode_value(key_position(&k)?, &v)
                })
                .chain(recent.into_iter().map(|r| Ok(Recorded::clone(&r)))),
        )
    }

    /// [`Store::read_from`] that decodes only the records of the types
    /// `wanted` accepts: each position comes with its record, or `None`
    /// for a record of another type (whose data is never decoded), so
    /// that a reader of a few types pays little for the rest.
    pub fn read_from_if<F: Fn(EventType) -> bool + 'static>(
        &self,
        after: u64,
        wanted: F,
    ) -> impl Iterator<Item = Result<(u64, Option<Recorded>), Error>> + use<F> {
        if let Some(pg) = &self.pg {
            return Either::Pg(pg.read_from_if(after, wanted));
        }
        let head = self.head().position;
        let start = after.saturating_add(1);
        let (first, recent) = self.inner.shared.recent.from(start, head);
        let stored_upto = first.map_or(head, |f| f - 1);
        let stored = (start <= stored_upto).then(|| {
            self.inner
                .log
                .range(start.to_be_bytes()..=stored_upto.to_be_bytes())
        });
        let wanted = std::rc::Rc::new(wanted);
        let keep = wanted.clone();
        Either::Sled(
            stored
                .into_iter()
                .flatten()
                .map(move |item| {
                    let (k, v) = item?;
                    let position = key_position(&k)?;
                    Ok((position, decode_value_if(position, &v, &*wanted)?))
                })
                .chain(recent.into_iter().map(move |r| {
                    let record = keep(r.event.event_type()).then(|| Recorded::clone(&r));
                    Ok((r.envelope.position, record))
                })),
        )
    }

    /// The raw stored value at each durable position from `after + 1` on:
    /// hash, previous hash, canonical JSON. For benchmarks and tools that
    /// want the bytes.
    pub fn raw_from(
        &self,
        after: u64,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), Error>> + use<> {
        let head = self.head().position;
        let start = after.saturating_add(1);
        let range = (start <= head).then(|| {
            self.inner
                .log
                .range(start.to_be_bytes()..=head.to_be_bytes())
        });
        range.into_iter().flatten().map(|item| {
            let (k, v) = item?;
            Ok((key_position(&k)?, v.to_vec()))
        })
    }

    /// Every durable position from `after + 1` to the head, in order, with
    /// its record or why it has none ([`Error::Corrupt`] naming the
    /// position: the storage cannot read it, it is absent, or it does not
    /// decode). Unlike [`Store::read_from`] it goes on past a position
    /// that cannot be read, so that everything readable can be salvaged.
    pub fn read_past_damage(
        &self,
        after: u64,
    ) -> impl Iterator<Item = (u64, Result<Recorded, Error>)> + use<> {
        if let Some(pg) = &self.pg {
            // PostgreSQL reads every row it holds or fails the query: the
            // error ends the read, at the position that failed.
            let mut at = after;
            return Either::Pg(pg.read_from(after).map(move |r| {
                at += 1;
                match r {
                    Ok(record) => (record.envelope.position, Ok(record)),
                    Err(e) => (at, Err(e)),
                }
            }));
        }
        let head = self.head().position;
        Either::Sled(
            scan::Walk::new(&self.inner.log, after.saturating_add(1), head).map(
                |(position, slot)| {
                    let record = match slot {
                        Ok(v) => decode_value(position, &v),
                        Err(gap) => Err(Error::Corrupt {
                            position,
                            reason: format!("the record {}", gap.reason()),
                        }),
                    };
                    (position, record)
                },
            ),
        )
    }

    /// The database of derived state beside the log (`DATA/views`),
    /// opened on first use.
    pub(crate) fn views(&self) -> Result<sled::Db, Error> {
        let side = &self.inner.side;
        self.side_db(&side.views, &side.opened.views, VIEWS, |_| Ok(()))
    }

    /// The tokens' database (`DATA/tokens`), opened on first use; tokens
    /// an older Pacta kept in the views database are moved into it then.
    pub(crate) fn tokens_db(&self) -> Result<sled::Db, Error> {
        let side = &self.inner.side;
        // Under the slot's lock, so no one reads the tokens before they moved.
        self.side_db(&side.tokens, &side.opened.tokens, TOKENS, |db| {
            self.migrate_tokens(db)
        })
    }

    /// A side database from its slot, opened on first use and marked
    /// opened (for the [`Closer`]); `prepare` runs once, under the slot's
    /// lock, before anyone else gets the database.
    fn side_db(
        &self,
        slot: &Mutex<Option<sled::Db>>,
        opened: &std::sync::atomic::AtomicBool,
        name: &str,
        prepare: impl FnOnce(&sled::Db) -> Result<(), Error>,
    ) -> Result<sled::Db, Error> {
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(db) = slot.as_ref() {
            return Ok(db.clone());
        }
        let db = self.open_side(name)?;
        opened.store(true, std::sync::atomic::Ordering::Release);
        prepare(&db)?;
        *slot = Some(db.clone());
        Ok(db)
    }

    fn open_side(&self, name: &str) -> Result<sled::Db, Error> {
        let dir = self.inner.path.join(name);
        let db = open_db(&dir).map_err(|e| match e {
            Error::Locked { .. } => Error::Locked {
                path: self.inner.path.clone(),
            },
            e => e,
        })?;
        make_private(&dir)?;
        Ok(db)
    }

    /// Moves the tokens an older Pacta kept in the views database (tree
    /// `aux/tokens`) into the tokens' database, once: when the new tree is
    /// empty and the old one is not. The copy is made durable before the
    /// old tree is cleared, so a crash between leaves both (and the next
    /// open sees the new tree filled and copies nothing).
    fn migrate_tokens(&self, tokens: &sled::Db) -> Result<(), Error> {
        let new = tokens.open_tree(kv::TOKENS_TREE)?;
        if !new.is_empty() || !self.inner.path.join(VIEWS).exists() {
            return Ok(());
        }
        let views = match self.views() {
            Ok(views) => views,
            Err(e @ Error::Locked { .. }) => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "cannot look for tokens to move out of the views database");
                return Ok(());
            }
        };
        let old = views.open_tree(format!("{AUX_PREFIX}tokens"))?;
        if old.is_empty() {
            return Ok(());
        }
        let mut moved = 0usize;
        for item in old.iter() {
            let (k, v) = item?;
            new.insert(k, v)?;
            moved += 1;
        }
        tokens.flush()?;
        File::open(data_file(&self.inner.path.join(TOKENS)))
            .and_then(|f| f.sync_data())
            .map_err(Error::from_io)?;
        old.clear()?;
        views.flush()?;
        tracing::info!(
            entries = moved,
            "moved the tokens from the views database to their own"
        );
        Ok(())
    }

    /// Sets the views database aside when sled cannot open it (a damaged
    /// data file or snapshot): renames `DATA/views` to
    /// `DATA/views.damaged-SECONDS` and starts an empty one, which the
    /// projections then rebuild from the log. Returns where the damaged
    /// one went; `None` when it opens (or is open) as it is. Tokens are
    /// not in it (see [`Store::tokens_keyspace`]).
    pub fn set_aside_damaged_views(&self) -> Result<Option<PathBuf>, Error> {
        let mut views = self
            .inner
            .side
            .views
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if views.is_some() {
            return Ok(None);
        }
        let dir = self.inner.path.join(VIEWS);
        let reason = match self.open_side(VIEWS) {
            Ok(db) => {
                *views = Some(db);
                self.inner
                    .side
                    .opened
                    .views
                    .store(true, std::sync::atomic::Ordering::Release);
                return Ok(None);
            }
            Err(Error::Open { reason, .. }) => reason,
            Err(e) => return Err(e),
        };
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let aside = self.inner.path.join(format!("{VIEWS}.damaged-{secs}"));
        tracing::warn!(%reason, aside = %aside.display(), "the views database cannot be opened; setting it aside");
        std::fs::rename(&dir, &aside).map_err(Error::from_io)?;
        File::open(&self.inner.path)
            .and_then(|d| d.sync_all())
            .map_err(Error::from_io)?;
        Ok(Some(aside))
    }

    /// The durable (version, position) pairs of a stream, in version
    /// order: the tail first, then the index (see [`index`]).
    fn stream_positions(&self, stream: &StreamId) -> Result<Vec<(u64, u64)>, Error> {
        let head = self.head().position;
        let tail = index::read(&self.inner.shared.tail).stream(stream);
        let _rebuilding = self.inner.shared.index_trees();
        let mut all: std::collections::BTreeMap<u64, u64> =
            self.inner.index.stream(stream)?.into_iter().collect();
        all.extend(tail);
        Ok(all.into_iter().filter(|(_, p)| *p <= head).collect())
    }

    /// The durable records of one stream, in version order.
    pub fn stream(&self, stream: &StreamId) -> Result<Vec<Recorded>, Error> {
        if let Some(pg) = &self.pg {
            return pg.stream(stream);
        }
        let mut out = Vec::new();
        for (version, position) in self.stream_positions(stream)? {
            let record = read_record(&self.inner.log, position)?.ok_or_else(|| Error::Corrupt {
                position,
                reason: format!(
                    "the index of {stream} version {version} points at a missing record"
                ),
            })?;
            out.push(record);
        }
        Ok(out)
    }

    /// The stream's durable version (0 when it does not exist): the tail's
    /// highest durable entry, else the index's last; no scan of the stream.
    pub fn stream_version(&self, stream: &StreamId) -> Result<u64, Error> {
        if let Some(pg) = &self.pg {
            return pg.stream_version(stream);
        }
        let head = self.head().position;
        let tail = index::read(&self.inner.shared.tail).stream(stream);
        if let Some((version, _)) = tail.iter().rev().find(|(_, p)| *p <= head) {
            return Ok(*version);
        }
        let _rebuilding = self.inner.shared.index_trees();
        self.inner.shared.versions.get(&self.inner.index, stream)
    }

    /// Where an event id is stored durably, if it is.
    pub fn position_of(&self, event_id: EventId) -> Result<Option<u64>, Error> {
        if let Some(pg) = &self.pg {
            return pg.position_of(event_id);
        }
        let head = self.head().position;
        let found = match index::read(&self.inner.shared.tail).position_of(event_id) {
            Some(p) => Some(p),
            None => {
                let _rebuilding = self.inner.shared.index_trees();
                self.inner.index.position_of(event_id)?
            }
        };
        Ok(found.filter(|p| *p <= head))
    }

    /// Drops the stream and event-id indexes and builds them again from
    /// the log. Reads of streams wait meanwhile.
    pub fn rebuild_indexes(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, Error> {
        if self.pg.is_some() {
            // PostgreSQL keeps its own indexes of the log's table.
            return Ok(0);
        }
        let shared = &self.inner.shared;
        let _exclusive = shared.index_lock.write().unwrap_or_else(|p| p.into_inner());
        let head = self.head().position;
        shared.versions.clear();
        let n = self.inner.index.rebuild(&self.inner.log, head, progress)?;
        index::prune(&shared.tail, head);
        self.inner.db.flush()?;
        Ok(n)
    }

    /// How many records the Merkle tree over the log covers now: leaf
    /// `n` is the record at position `n + 1`, its bytes the canonical JSON
    /// the chain hashes (`docs/hash-chain.md`). The tree is derived, like
    /// the indexes: it follows the log behind the acknowledgement, and
    /// [`Store::rebuild_indexes`] builds it again.
    pub fn tree_size(&self) -> Result<u64, Error> {
        match &self.pg {
            Some(pg) => pg.tree_size(),
            None => self.tree().leaves(),
        }
    }

    /// The root hash of the tree of the first `size` records (RFC 9162).
    pub fn tree_root(&self, size: u64) -> Result<pacta_tlog::Hash, Error> {
        match &self.pg {
            Some(pg) => pg.tree_root(size),
            None => self.tree().root(size),
        }
    }

    /// The inclusion proof of the record at `position` in the tree of the
    /// first `size` records (RFC 9162 §2.1.3).
    pub fn prove_inclusion(
        &self,
        position: u64,
        size: u64,
    ) -> Result<Vec<pacta_tlog::Hash>, Error> {
        if position == 0 || position > size {
            return Err(Error::Storage {
                reason: format!("position {position} is not in a tree of {size} records"),
                disk_full: false,
            });
        }
        match &self.pg {
            Some(pg) => pg.prove_leaf(size, position - 1),
            None => self.tree().prove_leaf(size, position - 1),
        }
    }

    /// The consistency proof from the tree of the first `old` records to
    /// that of the first `size` (RFC 9162 §2.1.4).
    pub fn prove_consistency(&self, old: u64, size: u64) -> Result<Vec<pacta_tlog::Hash>, Error> {
        if old == 0 || old > size {
            return Err(Error::Storage {
                reason: format!("no consistency proof from {old} records to {size}"),
                disk_full: false,
            });
        }
        match &self.pg {
            Some(pg) => pg.prove_tree(size, old),
            None => self.tree().prove_consistency(size, old),
        }
    }

    /// The leaf bytes of the record at `position`: its canonical JSON, as
    /// the chain and the tree hash it.
    pub fn leaf_bytes(&self, position: u64) -> Result<Option<Vec<u8>>, Error> {
        if let Some(pg) = &self.pg {
            return pg.leaf_bytes(position);
        }
        match self.inner.log.get(position.to_be_bytes())? {
            None => Ok(None),
            Some(v) => Ok(Some(split_value(position, &v)?.2.to_vec())),
        }
    }

    /// The bytes of a tile of the tree (C2SP tlog-tiles): a hash tile's
    /// hashes, or an entry bundle of the records' canonical bytes; `None`
    /// while the tree does not yet hold every node or record it covers.
    pub fn tile(&self, tile: &pacta_tlog::tile::Tile) -> Result<Option<Vec<u8>>, Error> {
        use pacta_tlog::tile::TileKind;
        match tile.leaves_needed() {
            Some(needed) if needed <= self.tree_size()? => {}
            _ => return Ok(None),
        }
        match tile.kind {
            TileKind::Hashes { .. } => {
                let hashes = match &self.pg {
                    Some(pg) => pg.tree_nodes(tile.height(), tile.first(), tile.width)?,
                    None => self.tree().nodes(tile.height(), tile.first(), tile.width)?,
                };
                Ok(Some(hashes.iter().flat_map(|h| h.0).collect()))
            }
            TileKind::Entries => {
                let mut records = Vec::with_capacity(tile.width as usize);
                for position in tile.first() + 1..=tile.first() + tile.width {
                    let bytes = self.leaf_bytes(position)?.ok_or_else(|| Error::Corrupt {
                        position,
                        reason: "the tree covers it, the log has no record there".into(),
                    })?;
                    records.push(bytes);
                }
                pacta_tlog::tile::entry_bundle(records.iter().map(Vec::as_slice))
                    .map(Some)
                    .map_err(|e| Error::Storage {
                        reason: e.to_string(),
                        disk_full: false,
                    })
            }
        }
    }

    /// The embedded store's tree.
    fn tree(&self) -> &tree::Tree {
        self.inner.index.tree()
    }

    /// The last position the derived indexes hold in their trees (the
    /// rest is in memory).
    pub fn index_checkpoint(&self) -> Result<u64, Error> {
        if self.pg.is_some() {
            return Ok(self.head().position);
        }
        self.inner.index.checkpoint()
    }

    /// Records held in memory above the index checkpoint.
    pub fn index_lag(&self) -> usize {
        if self.pg.is_some() {
            return 0;
        }
        index::read(&self.inner.shared.tail).len()
    }

    /// Flushes everything written so far, auxiliary trees included.
    pub fn flush(&self) -> Result<(), Error> {
        self.inner.db.flush()?;
        for side in [&self.inner.side.views, &self.inner.side.tokens] {
            let db = side.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if let Some(db) = db {
                db.flush()?;
            }
        }
        Ok(())
    }

    /// Recomputes the hash chain from position 1 to the head, and checks
    /// each record the Merkle tree covers against the leaf it holds.
    /// `progress(done, total)` is called now and then.
    pub fn verify(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport, Error> {
        if let Some(pg) = &self.pg {
            return pg.verify(progress);
        }
        verify::verify(
            &self.inner.log,
            Some(self.inner.index.tree()),
            self.head(),
            progress,
        )
    }

    /// Checks that the log still extends a digest taken earlier: the
    /// record at the digest's position still has the digest's hash, and
    /// the whole chain up to the head verifies.
    pub fn verify_digest(
        &self,
        digest: Head,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<DigestCheck, Error> {
        if let Some(pg) = &self.pg {
            return pg.verify_digest(digest, progress);
        }
        verify::verify_digest(
            &self.inner.log,
            Some(self.inner.index.tree()),
            self.head(),
            digest,
            progress,
        )
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue ends the writer after it has answered
        // everything it took; the flusher, syncer and index builder follow
        // as their queues close.
        if let Ok(mut tx) = self.requests.lock() {
            tx.take();
        }
        if let Ok(mut threads) = self.threads.lock() {
            for handle in threads.drain(..) {
                let _ = handle.join();
            }
        }
        let _ = self.db.flush();
        for side in [&self.side.views, &self.side.tokens] {
            if let Some(db) = side.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = db.flush();
            }
        }
        if *self.head.borrow() == self.opened_at {
            // Nothing appended: the next open has little to replay.
            self.quiet.store(true, std::sync::atomic::Ordering::Release);
        }
    }
}

/// Runs after the last handle of a store is gone (the fields of [`Store`]
/// drop in order, `inner` first): reopens the log's database once, so
/// that sled replays what was written since it opened now, at closing,
/// and writes its snapshot; the next open then starts from that snapshot
/// instead of replaying the whole session.
struct Closer {
    path: PathBuf,
    /// Set by the store's last handle when nothing was appended.
    quiet: Arc<std::sync::atomic::AtomicBool>,
    /// The side databases this store opened (the log always is).
    opened: Arc<Opened>,
}

impl Drop for Closer {
    fn drop(&mut self) {
        if self.quiet.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        let started = std::time::Instant::now();
        for db in std::iter::once("log").chain(self.opened.names()) {
            match open_db(&self.path.join(db)) {
                Ok(db) => drop(db),
                Err(e) => tracing::debug!(error = %e, "no compaction at closing"),
            }
        }
        tracing::debug!(elapsed = ?started.elapsed(), "the store's databases are compacted for the next open");
    }
}

/// The file sled 0.34 writes a database's log into (`DIR/db`): what an
/// `fdatasync` must cover for sled's flushed writes to survive a power cut.
pub(crate) fn data_file(db_dir: &Path) -> PathBuf {
    db_dir.join("db")
}

/// Creates the data directory readable by its owner only (0700), or
/// narrows an existing one to that when it is empty or already a store
/// (a directory that holds other things, say `--data /tmp`, is left as
/// it is; the store's own directories inside are narrowed anyway).
fn private_dir(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let ours = match std::fs::read_dir(path) {
        Ok(mut entries) => path.join("log").is_dir() || entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(Error::from_io(e)),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(Error::from_io)?;
    if ours {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .map_err(Error::from_io)?;
    }
    Ok(())
}

/// Narrows a database directory sled made (with the process's umask) to
/// its owner: directories 0700, files 0600. Files sled adds later sit in
/// these directories, which nobody else can enter.
fn make_private(dir: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(Error::from_io)?;
    for entry in std::fs::read_dir(dir).map_err(Error::from_io)? {
        let entry = entry.map_err(Error::from_io)?;
        let kind = entry.file_type().map_err(Error::from_io)?;
        if kind.is_dir() {
            make_private(&entry.path())?;
        } else if kind.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))
                .map_err(Error::from_io)?;
        }
    }
    Ok(())
}

/// sled's page cache. sled's default (1 GiB) buys nothing measurable
/// for Pacta's access pattern (sequential replay, recent appends) and
/// costs that much resident memory; see BENCHMARKS.md.
pub const CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// How long opening waits for a lock this process itself is releasing:
/// sled lets go of its directory lock from background threads shortly
/// after the last handle is dropped.
const LOCK_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// Removes snapshot files sled 0.34 left half-written when it was killed
/// while opening (`snap.*.generating`): sled would read the newest-named
/// snapshot file, find it torn, and refuse to open (sled issues #1527 and
/// #1533). A finished snapshot is renamed from such a file, so a
/// `.generating` file is never the only copy of anything.
fn remove_torn_snapshots(path: &Path) -> Result<(), Error> {
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::from_io(e)),
    };
    for entry in entries {
        let entry = entry.map_err(Error::from_io)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            tracing::warn!(file = %entry.path().display(), "removing a snapshot left half-written by a killed open");
            std::fs::remove_file(entry.path()).map_err(Error::from_io)?;
        }
    }
    Ok(())
}

/// When the newest snapshot file of the database in `path` fails its own
/// checksum (as sled 0.34 checks it: a CRC-32 of the body in the last four
/// bytes, little-endian, after an 8-byte length), renames it to
/// `damaged-snap.…` (a name sled does not read) and says so. sled then
/// rebuilds its page table by reading its data file from the start,
/// which only costs time: a snapshot is an index of the data file, never
/// the only copy of anything. A snapshot that checks out is left alone,
/// so this never makes sled replay past damage in the data file (which
/// sled would answer by cutting the log at the damaged spot).
fn set_aside_damaged_snapshot(path: &Path) -> Result<bool, Error> {
    let mut snapshots: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("snap.") && !n.ends_with(".in___motion"))
            })
            .collect(),
        Err(e) => return Err(Error::from_io(e)),
    };
    snapshots.sort();
    let Some(newest) = snapshots.pop() else {
        return Ok(false);
    };
    let bytes = std::fs::read(&newest).map_err(Error::from_io)?;
    let intact = bytes.len() > 12 && {
        let (body, trailer) = bytes.split_at(bytes.len() - 12);
        let mut stored = [0u8; 4];
        stored.copy_from_slice(&trailer[8..]);
        crc32fast::hash(body) == u32::from_le_bytes(stored)
    };
    if intact {
        return Ok(false);
    }
    let name = newest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = path.join(format!("damaged-{name}"));
    tracing::warn!(snapshot = %newest.display(), aside = %aside.display(),
        "the database's snapshot is damaged; setting it aside and reading the data file instead");
    std::fs::rename(&newest, &aside).map_err(Error::from_io)?;
    Ok(true)
}

fn open_db(path: &Path) -> Result<sled::Db, Error> {
    let started = std::time::Instant::now();
    remove_torn_snapshots(path)?;
    loop {
        let attempt = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .open();
        match attempt {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                if started.elapsed() >= LOCK_GRACE {
                    return Err(Error::Locked {
                        path: path.to_path_buf(),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(sled::Error::Corruption { .. }) if set_aside_damaged_snapshot(path)? => {}
            Err(source) => {
                return Err(Error::Open {
                    path: path.to_path_buf(),
                    reason: source.to_string(),
                });
            }
        }
    }
}

fn key_position(k: &[u8]) -> Result<u64, Error> {
    let bytes: [u8; 8] = k.try_into().map_err(|_| Error::Corrupt {
        position: 0,
        reason: format!("a position key has {} bytes, not 8", k.len()),
    })?;
    Ok(u64::from_be_bytes(bytes))
}

/// Splits a stored value into hash, previous hash and canonical JSON.
fn split_value(position: u64, v: &[u8]) -> Result<(Digest, Digest, &[u8]), Error> {
    if v.len() < 64 {
        return Err(Error::Corrupt {
            position,
            reason: format!(
                "the stored value has {} bytes, fewer than its two hashes",
                v.len()
            ),
        });
    }
    let mut hash = [0u8; 32];
    let mut prev = [0u8; 32];
    hash.copy_from_slice(&v[..32]);
    prev.copy_from_slice(&v[32..64]);
    Ok((Digest(hash), Digest(prev), &v[64..]))
}

fn decode_value(position: u64, v: &[u8]) -> Result<Recorded, Error> {
    Ok(decode_value_if(position, v, &|_| true)?.expect("every type is wanted"))
}

/// [`decode_value`] for a record of a type `wanted` accepts; `None` for
/// another.
fn decode_value_if(
    position: u64,
    v: &[u8],
    wanted: &dyn Fn(EventType) -> bool,
) -> Result<Option<Recorded>, Error> {
    let (hash, prev_hash, json) = split_value(position, v)?;
    let Some((envelope, event)) =
        pacta_domain::record::decode_unhashed_if(json, wanted).map_err(|e| Error::Corrupt {
            position,
            reason: e.to_string(),
        })?
    else {
        return Ok(None);
    };
    if envelope.position != position {
        return Err(Error::Corrupt {
            position,
            reason: format!("the record says it is at position {}", envelope.position),
        });
    }
    Ok(Some(Recorded {
        envelope,
        event,
        prev_hash,
        hash,
    }))
}

fn read_record(log: &sled::Tree, position: u64) -> Result<Option<Recorded>, Error> {
    log.get(position.to_be_bytes())?
        .map(|v| decode_value(position, &v))
        .transpose()
}

/// The log's last record.
fn last_record(log: &sled::Tree) -> Result<Option<Recorded>, Error> {
    match log.last()? {
        None => Ok(None),
        Some((k, v)) => decode_value(key_position(&k)?, &v).map(Some),
    }
}

/// When the log's last record cannot be read: the last record that can,
/// as the head, its record time, and where the damage starts. Reads what
/// it must to find it (the whole log up to the index checkpoint, then
/// on as far as the log reads): only a damaged store pays for that.
fn head_past_damage(
    log: &sled::Tree,
    index: &index::Index,
    error: &Error,
) -> (Head, Timestamp, (u64, String)) {
    let indexed = index.checkpoint().unwrap_or(0);
    let mut last: Option<(u64, sled::IVec)> = None;
    for (position, slot) in scan::Walk::new(log, 1, indexed) {
        if let Ok(v) = slot {
            last = Some((position, v));
        }
    }
    for item in log.range(indexed.saturating_add(1).to_be_bytes()..) {
        match item
            .map_err(Error::from)
            .and_then(|(k, v)| Ok((key_position(&k)?, v)))
        {
            Ok(found) => last = Some(found),
            Err(_) => break,
        }
    }
    let (head, recorded_at) = match &last {
        None => (Head::EMPTY, Timestamp::MIN),
        Some((position, v)) => {
            let hash = split_value(*position, v).map_or(Digest::ZERO, |v| v.0);
            let recorded_at =
                decode_value(*position, v).map_or(Timestamp::MIN, |r| r.envelope.recorded_at);
            (
                Head {
                    position: *position,
                    hash,
                },
                recorded_at,
            )
        }
    };
    let position = head.position + 1;
    let reason = format!(
        "the log's last record cannot be read ({error}); the last record that can is at position {}",
        head.position
    );
    (head, recorded_at, (position, reason))
}
