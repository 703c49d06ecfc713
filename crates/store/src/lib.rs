//! Pacta's append-only event log on sled, with durable group-committed
//! appends and a SHA-256 hash chain.
//!
//! Layout: the log is one sled database in `DATA/log`; state kept beside
//! it (projections, tokens) is a second one in `DATA/views`, so that its
//! writes never add to the flushes that acknowledge appends.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `log` | position, u64 big-endian (from 1, no gaps) | 32-byte hash, 32-byte previous hash, canonical JSON of the record |
//! | `streams` | stream id, `0x00`, version u64 big-endian | position |
//! | `event_ids` | the event id's 16 ULID bytes | position |
//! | `meta` | `head` | position (8 bytes) and hash (32 bytes) of the last record |
//!
//! Guarantees:
//! - One writer thread takes every append waiting in its queue and writes
//!   them in **one sled transaction** over the four trees; one flush then
//!   covers every batch committed since the last (group commit), and only
//!   after it does any caller get its answer or the head move. An
//!   acknowledged append survives a crash; a batch is entirely visible or
//!   not at all after recovery.
//! - An append with a stale expected version writes nothing. An append
//!   whose event ids are all stored already returns their original
//!   positions and writes nothing.
//! - `hash_n = SHA-256(hash_{n-1} || canonical_bytes(record_n))`, see
//!   [`canonical`]; [`Store::verify`] recomputes the chain.
//!
//! Only this crate knows the stored bytes and how they are hashed. Other
//! crates keep their own state in auxiliary trees ([`Store::aux_tree`]).
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod canonical;
pub mod kv;
mod testing;
mod verify;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pacta_domain::{Digest, Envelope, Event, EventId, Recorded, StreamId, Timestamp};
use tokio::sync::{oneshot, watch};

pub use verify::{DigestCheck, VerifyReport};

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

    fn to_bytes(self) -> [u8; 40] {
        let mut out = [0u8; 40];
        out[..8].copy_from_slice(&self.position.to_be_bytes());
        out[8..].copy_from_slice(&self.hash.0);
        out
    }

    fn from_bytes(b: &[u8]) -> Option<Head> {
        if b.len() != 40 {
            return None;
        }
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&b[8..]);
        Some(Head {
            position: u64::from_be_bytes(b[..8].try_into().ok()?),
            hash: Digest(hash),
        })
    }
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
    /// sled could not open the directory.
    #[error("cannot open the store at {path}: {source}")]
    Open {
        /// The data directory.
        path: PathBuf,
        /// sled's error.
        source: sled::Error,
    },
    /// A read or write failed.
    #[error("storage error: {0}")]
    Storage(#[from] sled::Error),
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
    /// reopened.
    #[error(
        "the store stopped accepting writes after an earlier storage failure; restart to recover"
    )]
    Poisoned,
}

type Reply<T> = oneshot::Sender<Result<T, Error>>;

struct Inner {
    db: sled::Db,
    /// A second database for state kept beside the log (projections,
    /// tokens): its writes never add to the flushes that acknowledge
    /// appends.
    aux: sled::Db,
    trees: Trees,
    requests: Mutex<Option<std::sync::mpsc::Sender<writer::Request>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    head: watch::Receiver<Head>,
    path: PathBuf,
}

#[derive(Clone)]
struct Trees {
    log: sled::Tree,
    streams: sled::Tree,
    ids: sled::Tree,
    meta: sled::Tree,
}

const HEAD_KEY: &[u8] = b"head";
const AUX_PREFIX: &str = "aux/";

/// The append-only log. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`. Fails at once with
    /// [`Error::Locked`] if another process holds it.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, Error> {
        let path = dir.as_ref().to_path_buf();
        let named = |e: Error| match e {
            Error::Locked { .. } => Error::Locked { path: path.clone() },
            e => e,
        };
        let db = open_db(&path.join("log")).map_err(named)?;
        let aux = open_db(&path.join("views")).map_err(named)?;
        let trees = Trees {
            log: db.open_tree("log")?,
            streams: db.open_tree("streams")?,
            ids: db.open_tree("event_ids")?,
            meta: db.open_tree("meta")?,
        };
        let head = match trees.meta.get(HEAD_KEY)? {
            Some(b) => Head::from_bytes(&b).ok_or_else(|| Error::Corrupt {
                position: 0,
                reason: "the head entry is not 40 bytes".into(),
            })?,
            None => Head::EMPTY,
        };
        let last_recorded = match head.position {
            0 => Timestamp::MIN,
            p => {
                read_record(&trees.log, p)?
                    .ok_or_else(|| Error::Corrupt {
                        position: p,
                        reason: "the head points at a missing record".into(),
                    })?
                    .envelope
                    .recorded_at
            }
        };
        let (head_tx, head_rx) = watch::channel(head);
        let (tx, rx) = std::sync::mpsc::channel();
        let state = writer::Writer::new(db.clone(), trees.clone(), head, last_recorded, head_tx);
        let handle = std::thread::Builder::new()
            .name("pacta-writer".into())
            .spawn(move || state.run(rx))
            .map_err(|e| Error::Storage(sled::Error::Io(e)))?;
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                aux,
                trees,
                requests: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(handle)),
                head: head_rx,
                path,
            }),
        })
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn send(&self, request: writer::Request) -> Result<(), Error> {
        let guard = self.inner.requests.lock().map_err(|_| Error::Poisoned)?;
        let tx = guard.as_ref().ok_or(Error::Poisoned)?;
        tx.send(request).map_err(|_| Error::Poisoned)
    }

    /// Appends durably: resolves once the events are flushed to disk.
    pub async fn append(&self, append: Append) -> Result<Appended, Error> {
        let rx = self.enqueue(append)?;
        rx.await.map_err(|_| Error::Poisoned)?
    }

    /// [`Store::append`] for callers outside an async runtime.
    pub fn append_blocking(&self, append: Append) -> Result<Appended, Error> {
        let rx = self.enqueue(append)?;
        rx.blocking_recv().map_err(|_| Error::Poisoned)?
    }

    /// Queues every append at once (the writer groups them), then waits
    /// for all; for callers outside an async runtime. Appends to the same
    /// stream are decided in the order given.
    pub fn append_many_blocking(&self, appends: Vec<Append>) -> Vec<Result<Appended, Error>> {
        let receivers: Vec<_> = appends.into_iter().map(|a| self.enqueue(a)).collect();
        receivers
            .into_iter()
            .map(|rx| rx?.blocking_recv().map_err(|_| Error::Poisoned)?)
            .collect()
    }

    /// Serializes the events here, on the caller's thread, and queues the
    /// request for the writer.
    fn enqueue(&self, append: Append) -> Result<oneshot::Receiver<Result<Appended, Error>>, Error> {
        let prepared = append
            .events
            .iter()
            .map(|e| canonical::CanonicalEvent::new(&e.event))
            .collect::<Result<Vec<_>, _>>()?;
        let (tx, rx) = oneshot::channel();
        self.send(writer::Request::Append(append, prepared, tx))?;
        Ok(rx)
    }

    /// Writes records of an export as they are (their envelopes and
    /// hashes), after checking that each continues the chain: its
    /// position follows the head, its previous hash is the head's hash,
    /// its hash is the hash of its canonical bytes, and its stream version
    /// and event id fit. All or nothing; flushed before returning.
    pub fn import_blocking(&self, records: Vec<Recorded>) -> Result<Head, Error> {
        let (tx, rx) = oneshot::channel();
        self.send(writer::Request::Import(records, tx))?;
        rx.blocking_recv().map_err(|_| Error::Poisoned)?
    }

    /// The last record's position and hash.
    pub fn head(&self) -> Head {
        *self.inner.head.borrow()
    }

    /// A receiver that sees the head after every durable batch.
    pub fn subscribe(&self) -> watch::Receiver<Head> {
        self.inner.head.clone()
    }

    /// The record at a position.
    pub fn get(&self, position: u64) -> Result<Option<Recorded>, Error> {
        read_record(&self.inner.trees.log, position)
    }

    /// Records from `after + 1` on, in log order.
    pub fn read_from(&self, after: u64) -> impl Iterator<Item = Result<Recorded, Error>> + use<> {
        let start = after.saturating_add(1).to_be_bytes();
        self.inner.trees.log.range(start..).map(|item| {
            let (k, v) = item?;
            decode_entry(&k, &v)
        })
    }

    /// The raw stored value at each position from `after + 1` on: hash,
    /// previous hash, canonical JSON. For benchmarks and tools that want
    /// the bytes.
    pub fn raw_from(
        &self,
        after: u64,
    ) -> impl Iterator<Item = Result<(u64, sled::IVec), Error>> + use<> {
        let start = after.saturating_add(1).to_be_bytes();
        self.inner.trees.log.range(start..).map(|item| {
            let (k, v) = item?;
            Ok((key_position(&k)?, v))
        })
    }

    /// The records of one stream, in version order.
    pub fn stream(&self, stream: &StreamId) -> Result<Vec<Recorded>, Error> {
        let prefix = stream_prefix(stream);
        let mut out = Vec::new();
        for item in self.inner.trees.streams.scan_prefix(&prefix) {
            let (k, v) = item?;
            let position = key_position(&v)?;
            let record = self.get(position)?.ok_or_else(|| Error::Corrupt {
                position,
                reason: format!(
                    "the stream index of {stream} points at a missing record (key {k:?})"
                ),
            })?;
            out.push(record);
        }
        Ok(out)
    }

    /// The stream's current version (0 when it does not exist).
    pub fn stream_version(&self, stream: &StreamId) -> Result<u64, Error> {
        stream_version(&self.inner.trees.streams, stream)
    }

    /// Where an event id is stored, if it is.
    pub fn position_of(&self, event_id: EventId) -> Result<Option<u64>, Error> {
        self.inner
            .trees
            .ids
            .get(event_id.to_bytes())?
            .map(|v| key_position(&v))
            .transpose()
    }

    /// A sled tree for state kept beside the log (projections, tokens).
    /// Its name is prefixed so that it can never be one of the log's trees.
    pub fn aux_tree(&self, name: &str) -> Result<sled::Tree, Error> {
        Ok(self.inner.aux.open_tree(format!("{AUX_PREFIX}{name}"))?)
    }

    /// Flushes everything written so far, auxiliary trees included.
    pub fn flush(&self) -> Result<(), Error> {
        self.inner.db.flush()?;
        self.inner.aux.flush()?;
        Ok(())
    }

    /// Recomputes the hash chain from position 1 to the head.
    /// `progress(done, total)` is called now and then.
    pub fn verify(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport, Error> {
        verify::verify(&self.inner.trees, self.head(), progress)
    }

    /// Checks that the log still extends a digest taken earlier: the
    /// record at the digest's position still has the digest's hash, and
    /// the whole chain up to the head verifies.
    pub fn verify_digest(
        &self,
        digest: Head,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<DigestCheck, Error> {
        verify::verify_digest(&self.inner.trees, self.head(), digest, progress)
    }

    /// The sled trees of the log, for tests that play an insider who
    /// rewrites stored bytes behind the registry's back.
    #[doc(hidden)]
    pub fn raw_log_tree(&self) -> sled::Tree {
        self.inner.trees.log.clone()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue ends the writer after it has answered (and
        // flushed) everything it took.
        if let Ok(mut tx) = self.requests.lock() {
            tx.take();
        }
        if let Ok(mut handle) = self.writer.lock()
            && let Some(handle) = handle.take()
        {
            let _ = handle.join();
        }
        let _ = self.db.flush();
        let _ = self.aux.flush();
    }
}

/// sled's page cache. sled's default (1 GiB) buys nothing measurable
/// for Pacta's access pattern (sequential replay, recent appends) and
/// costs that much resident memory; see BENCHMARKS.md.
pub const CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// How long opening waits for a lock this process itself is releasing:
/// sled lets go of its directory lock from background threads shortly
/// after the last handle is dropped.
const LOCK_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

fn open_db(path: &Path) -> Result<sled::Db, Error> {
    let started = std::time::Instant::now();
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .open()
        {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                if started.elapsed() >= LOCK_GRACE {
                    return Err(Error::Locked {
                        path: path.to_path_buf(),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(source) => {
                return Err(Error::Open {
                    path: path.to_path_buf(),
                    source,
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

fn stream_prefix(stream: &StreamId) -> Vec<u8> {
    let mut key = stream.to_string().into_bytes();
    key.push(0);
    key
}

fn stream_key(stream: &StreamId, version: u64) -> Vec<u8> {
    let mut key = stream_prefix(stream);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

fn stream_version(streams: &sled::Tree, stream: &StreamId) -> Result<u64, Error> {
    match streams.scan_prefix(stream_prefix(stream)).next_back() {
        None => Ok(0),
        Some(item) => {
            let (k, _) = item?;
            key_position(&k[k.len().saturating_sub(8)..])
        }
    }
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

fn decode_entry(k: &[u8], v: &[u8]) -> Result<Recorded, Error> {
    let position = key_position(k)?;
    decode_value(position, v)
}

fn decode_value(position: u64, v: &[u8]) -> Result<Recorded, Error> {
    let (hash, prev_hash, json) = split_value(position, v)?;
    let (envelope, event): (Envelope, Event) = pacta_domain::record::decode_unhashed(json)
        .map_err(|e| Error::Corrupt {
            position,
            reason: e.to_string(),
        })?;
    if envelope.position != position {
        return Err(Error::Corrupt {
            position,
            reason: format!("the record says it is at position {}", envelope.position),
        });
    }
    Ok(Recorded {
        envelope,
        event,
        prev_hash,
        hash,
    })
}

fn read_record(log: &sled::Tree, position: u64) -> Result<Option<Recorded>, Error> {
    log.get(position.to_be_bytes())?
        .map(|v| decode_value(position, &v))
        .transpose()
}
