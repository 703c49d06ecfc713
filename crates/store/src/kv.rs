//! Checkpointed key-value state kept beside the log: what projections and
//! tokens store, without knowing how the store keeps it.
//!
//! A [`Keyspace`] is a named, ordered map from byte keys to byte values
//! plus one [`Checkpoint`]: the last log position whose effects its
//! entries hold. Its owner reads it through a [`Reader`] and changes it
//! with a [`WriteSet`]:
//!
//! - [`Keyspace::commit`] writes a write set together with a new
//!   checkpoint. Readers in this process see the keyspace before the
//!   commit or after it, never in between. After a crash the keyspace is
//!   either as the last complete commit left it, or it reports
//!   [`Checkpoint::Dirty`]: it holds part of a commit, and its owner must
//!   [`Keyspace::clear`] it and rebuild it from the log (derived state is
//!   rebuildable from position 0). [`Keyspace::commit`] refuses to write
//!   over a dirty keyspace.
//! - [`Keyspace::write`] writes a write set without a checkpoint, in the
//!   order given; after a crash a prefix of it is present. It is for state
//!   that is not derived from the log (tokens), whose owner orders its
//!   writes so that every prefix is consistent.
//! - [`Keyspace::flush`] makes every write so far durable.
//!
//! Keys starting with the byte `0xff` are the keyspace's own (its
//! checkpoint); a write set holding one is refused.
//!
//! # Why no sled batch or transaction
//!
//! sled 0.34 takes a process-global concurrency-control write lock for
//! every `apply_batch` and every transaction, and every plain `insert`
//! takes the same lock for reading: one projection batch stalls the log
//! writer's inserts. So a commit is made of plain inserts and removes, in
//! this order:
//!
//! 1. the checkpoint entry becomes *dirty since C* (C: the checkpoint
//!    before the commit);
//! 2. each put and delete of the write set, in order;
//! 3. the checkpoint entry becomes *clean at N* (the new checkpoint).
//!
//! The checkpoint and the marker are one entry, so step 3 both moves the
//! checkpoint and clears the marker, and no crash can leave a finished
//! commit marked dirty. sled's log recovers a prefix of its writes in the
//! order they were made; a crash between steps 1 and 3 therefore leaves
//! the marker set, and one before step 1 or after step 3 leaves a clean
//! keyspace. [`Keyspace::clear`] marks the keyspace dirty first in the
//! same way, so a crash while clearing is seen too. Within the process a
//! lock per keyspace (shared by every handle on it) keeps readers out
//! while a commit is under way.
//!
//! # The same contract on PostgreSQL
//!
//! Nothing here exposes sled. A PostgreSQL backend keeps every keyspace
//! in one table `kv(keyspace text, key bytea, value bytea, primary key
//! (keyspace, key))` and its checkpoint in `kv_checkpoint(keyspace text
//! primary key, position bigint)`: `get` and the scans are `SELECT`s
//! ordered by key within one `REPEATABLE READ` transaction per
//! [`Reader`]; `commit` is one transaction of `INSERT … ON CONFLICT DO
//! UPDATE` and `DELETE` plus the checkpoint row (atomic by itself, so it
//! never reports [`Checkpoint::Dirty`]); `clear` is a `DELETE` of the
//! keyspace's rows and its checkpoint; `flush` is a no-op after a
//! committed transaction.
//!
//! # The storage patterns projections use
//!
//! Two value formats come with the interface: JSON, one view per key
//! ([`WriteSet::put_json`], [`Reader::json_values`]), and a compact
//! binary encoding ([`Enc`], [`Dec`]) for state replayed in bulk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

/// The entry holding a keyspace's checkpoint (and its dirty marker).
/// Every other key starts with a byte other than [`RESERVED`].
const STATE_KEY: &[u8] = b"\xffcheckpoint";

/// The first byte of keys a keyspace keeps for itself.
pub const RESERVED: u8 = 0xff;

/// How a dirty checkpoint entry starts; 8 bytes of the checkpoint before
/// the interrupted commit follow. A clean one is 8 bytes, big-endian.
const DIRTY: &[u8] = b"dirty:";

/// Where a keyspace stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Checkpoint {
    /// Its entries hold exactly the effects of the log up to this position
    /// (0: nothing applied, and the keyspace is empty unless its owner
    /// wrote to it without a checkpoint).
    Clean(u64),
    /// A commit made after checkpoint `since` did not finish: the entries
    /// hold some of its writes. Only [`Keyspace::clear`] makes it clean.
    Dirty {
        /// The checkpoint before the interrupted commit.
        since: u64,
    },
}

impl Checkpoint {
    fn encode(self) -> Vec<u8> {
        match self {
            Checkpoint::Clean(position) => position.to_be_bytes().to_vec(),
            Checkpoint::Dirty { since } => [DIRTY, &since.to_be_bytes()].concat(),
        }
    }

    fn decode(value: &[u8]) -> Option<Checkpoint> {
        let position = |b: &[u8]| b.try_into().ok().map(u64::from_be_bytes);
        match value.strip_prefix(DIRTY) {
            Some(since) => position(since).map(|since| Checkpoint::Dirty { since }),
            None => position(value).map(Checkpoint::Clean),
        }
    }
}

/// What went wrong with a keyspace.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing failed.
    #[error("keyspace {keyspace}: storage error: {source}")]
    Storage {
        /// The keyspace.
        keyspace: String,
        /// The backend's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A stored value does not decode.
    #[error("keyspace {keyspace}: a stored value does not decode: {reason}")]
    Corrupt {
        /// The keyspace.
        keyspace: String,
        /// What is wrong.
        reason: String,
    },
    /// The keyspace holds part of an interrupted commit.
    #[error(
        "keyspace {keyspace} holds part of a commit made after checkpoint {since} that \
         did not finish; it must be cleared and rebuilt from the log"
    )]
    Dirty {
        /// The keyspace.
        keyspace: String,
        /// The checkpoint before the interrupted commit.
        since: u64,
    },
    /// A write set names a key the keyspace keeps for itself.
    #[error("keyspace {keyspace}: key {key:?} starts with 0xff, which is reserved")]
    ReservedKey {
        /// The keyspace.
        keyspace: String,
        /// The key.
        key: Vec<u8>,
    },
    /// A value could not be encoded.
    #[error("cannot encode a value: {0}")]
    Encode(String),
}

/// Puts and deletes to write together, in the order they were added (a
/// later write to the same key wins).
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct WriteSet {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl WriteSet {
    /// An empty write set.
    pub fn new() -> WriteSet {
        WriteSet::default()
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push((key.into(), Some(value.into())));
    }

    /// Sets `key` to the JSON of `value`.
    pub fn put_json<T: serde::Serialize>(
        &mut self,
        key: impl Into<Vec<u8>>,
        value: &T,
    ) -> Result<(), Error> {
        let json = serde_json::to_vec(value).map_err(|e| Error::Encode(e.to_string()))?;
        self.put(key, json);
        Ok(())
    }

    /// Removes `key`.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) {
        self.ops.push((key.into(), None));
    }

    /// How many puts and deletes it holds.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Adds the writes of `later` after these.
    pub fn extend(&mut self, later: WriteSet) {
        self.ops.extend(later.ops);
    }
}

/// A named keyspace (see the [module docs](self)). Cheap to clone; every
/// handle on one keyspace shares its lock.
#[derive(Clone)]
pub struct Keyspace {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    backing: Backing,
    /// Readers share it; commits, writes and clears take it alone.
    lock: Arc<RwLock<()>>,
}

/// Where a keyspace keeps its entries.
enum Backing {
    /// A tree of a sled database.
    Sled {
        tree: sled::Tree,
        /// The data file of the database holding the tree, synced by `flush`.
        data_file: PathBuf,
    },
    /// The `kv` table of the PostgreSQL database holding the log, under
    /// the keyspace's name: state every instance on it shares.
    Postgres(crate::pg::PgStore),
}

/// The lock of each open keyspace, by database directory and tree name,
/// so that every handle on one keyspace shares one lock.
fn shared_lock(dir: &Path, tree: &str) -> Arc<RwLock<()>> {
    type Locks = Mutex<HashMap<(PathBuf, String), Weak<RwLock<()>>>>;
    static LOCKS: OnceLock<Locks> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Locks::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    locks.retain(|_, lock| lock.strong_count() > 0);
    let key = (dir.to_path_buf(), tree.to_owned());
    if let Some(lock) = locks.get(&key).and_then(Weak::upgrade) {
        return lock;
    }
    let lock = Arc::new(RwLock::new(()));
    locks.insert(key, Arc::downgrade(&lock));
    lock
}

impl Keyspace {
    /// Opens the keyspace kept in tree `tree` of the sled database `db`,
    /// which lives in directory `dir`.
    pub(crate) fn open(
        db: &sled::Db,
        dir: &Path,
        name: &str,
        tree: &str,
    ) -> Result<Keyspace, crate::Error> {
        Ok(Keyspace {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                backing: Backing::Sled {
                    tree: db.open_tree(tree)?,
                    data_file: crate::data_file(dir),
                },
                lock: shared_lock(dir, tree),
            }),
        })
    }

    /// Opens keyspace `name` in the `kv` table of the PostgreSQL database
    /// holding the log. Its writes are transactions, durable when they
    /// return: [`Keyspace::write`] writes all of a write set or none.
    pub(crate) fn postgres(pg: crate::pg::PgStore, name: &str) -> Keyspace {
        let lock = shared_lock(Path::new(pg.name()), name);
        Keyspace {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                backing: Backing::Postgres(pg),
                lock,
            }),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// A consistent view: no commit, write or clear changes the keyspace
    /// while it is held (they wait). Hold it briefly, and do not write to
    /// the keyspace from the thread holding it.
    pub fn read(&self) -> Reader<'_> {
        Reader {
            keyspace: self,
            _guard: self.inner.lock.read().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Where it stands.
    pub fn checkpoint(&self) -> Result<Checkpoint, Error> {
        self.read().checkpoint()
    }

    /// The value under `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.read().get(key)
    }

    /// Every entry whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<Pair>, Error> {
        self.read().scan_prefix(prefix).collect()
    }

    /// Writes `writes` and then the checkpoint `checkpoint`, so that a
    /// crash leaves the keyspace as it was, as it is meant to be, or
    /// [`Checkpoint::Dirty`] (see the [module docs](self)). Refused with
    /// [`Error::Dirty`] when the keyspace is dirty already.
    pub fn commit(&self, writes: &WriteSet, checkpoint: u64) -> Result<(), Error> {
        self.commit_steps(writes, checkpoint, usize::MAX)
    }

    /// Does what [`Keyspace::commit`] does, but stops after its first
    /// `steps` plain writes (the marker counts as one, each put or delete
    /// as one, the new checkpoint as one), as a crash there would leave
    /// it. For tests.
    #[doc(hidden)]
    pub fn commit_interrupted(
        &self,
        writes: &WriteSet,
        checkpoint: u64,
        steps: usize,
    ) -> Result<(), Error> {
        self.commit_steps(writes, checkpoint, steps)
    }

    fn commit_steps(&self, writes: &WriteSet, checkpoint: u64, steps: usize) -> Result<(), Error> {
        let _guard = self.lock();
        let since = match self.read_checkpoint()? {
            Checkpoint::Clean(since) => since,
            Checkpoint::Dirty { since } => {
                return Err(Error::Dirty {
                    keyspace: self.inner.name.clone(),
                    since,
                });
            }
        };
        self.check_keys(writes)?;
        let mut steps = Steps(steps);
        // Without writes there is nothing partial to mark: moving the
        // checkpoint is one write.
        if !writes.is_empty() {
            if !steps.take() {
                return Ok(());
            }
            self.set_checkpoint(Checkpoint::Dirty { since })?;
            for (key, value) in &writes.ops {
                if !steps.take() {
                    return Ok(());
                }
                self.write_one(key, value.as_deref())?;
            }
        }
        if !steps.take() {
            return Ok(());
        }
        self.set_checkpoint(Checkpoint::Clean(checkpoint))
    }

    /// Writes `writes` in order, without a checkpoint: after a crash a
    /// prefix of them is present. The checkpoint is left as it is.
    pub fn write(&self, writes: &WriteSet) -> Result<(), Error> {
        let _guard = self.lock();
        self.check_keys(writes)?;
        if let Backing::Postgres(pg) = &self.inner.backing {
            return pg
                .kv_write(&self.inner.name, writes.ops.clone())
                .map_err(|e| self.storage(e));
        }
        for (key, value) in &writes.ops {
            self.write_one(key, value.as_deref())?;
        }
        Ok(())
    }

    /// Removes every entry and sets the checkpoint to clean at 0. Marked
    /// dirty while under way, so that a crash meanwhile is seen.
    pub fn clear(&self) -> Result<(), Error> {
        let _guard = self.lock();
        let empty = self.entries(b"").next().is_none();
        if empty && self.read_checkpoint()? == Checkpoint::Clean(0) {
            return Ok(());
        }
        self.set_checkpoint(Checkpoint::Dirty { since: 0 })?;
        for item in self.entries(b"") {
            let (key, _) = item?;
            self.write_one(&key, None)?;
        }
        self.write_one(STATE_KEY, None)
    }

    /// Makes every write so far durable: sled's flush, then an fdatasync
    /// of its data file (sled 0.34's flush can end in `sync_file_range`,
    /// which a power cut can undo).
    pub fn flush(&self) -> Result<(), Error> {
        match &self.inner.backing {
            Backing::Sled { tree, data_file } => {
                tree.flush().map_err(|e| self.storage(e))?;
                std::fs::File::open(data_file)
                    .and_then(|f| f.sync_data())
                    .map_err(|e| self.storage(e))
            }
            // Every write committed with synchronous_commit on.
            Backing::Postgres(_) => Ok(()),
        }
    }

    fn lock(&self) -> RwLockWriteGuard<'_, ()> {
        self.inner.lock.write().unwrap_or_else(|p| p.into_inner())
    }

    fn storage(&self, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Storage {
            keyspace: self.inner.name.clone(),
            source: Box::new(e),
        }
    }

    fn check_keys(&self, writes: &WriteSet) -> Result<(), Error> {
        match writes
            .ops
            .iter()
            .find(|(key, _)| key.first() == Some(&RESERVED))
        {
            Some((key, _)) => Err(Error::ReservedKey {
                keyspace: self.inner.name.clone(),
                key: key.clone(),
            }),
            None => Ok(()),
        }
    }

    fn write_one(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), Error> {
        match &self.inner.backing {
            Backing::Sled { tree, .. } => match value {
                Some(value) => tree.insert(key, value).map(drop),
                None => tree.remove(key).map(drop),
            }
            .map_err(|e| self.storage(e)),
            Backing::Postgres(pg) => pg
                .kv_write(
                    &self.inner.name,
                    vec![(key.to_vec(), value.map(<[u8]>::to_vec))],
                )
                .map_err(|e| self.storage(e)),
        }
    }

    /// The value under `key`, reserved keys included.
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        match &self.inner.backing {
            Backing::Sled { tree, .. } => tree
                .get(key)
                .map(|v| v.map(|v| v.to_vec()))
                .map_err(|e| self.storage(e)),
            Backing::Postgres(pg) => pg
                .kv_get(&self.inner.name, key)
                .map_err(|e| self.storage(e)),
        }
    }

    fn set_checkpoint(&self, checkpoint: Checkpoint) -> Result<(), Error> {
        self.write_one(STATE_KEY, Some(&checkpoint.encode()))
    }

    fn read_checkpoint(&self) -> Result<Checkpoint, Error> {
        match self.get_raw(STATE_KEY)? {
            None => Ok(Checkpoint::Clean(0)),
            Some(v) => Checkpoint::decode(&v).ok_or_else(|| Error::Corrupt {
                keyspace: self.inner.name.clone(),
                reason: format!("the checkpoint entry {:?} is neither clean nor dirty", &*v),
            }),
        }
    }

    /// Entries whose keys start with `prefix`, reserved keys excluded.
    fn entries(&self, prefix: &[u8]) -> Entries<'_> {
        let iter = match &self.inner.backing {
            _ if prefix.first() == Some(&RESERVED) => Scan::Done,
            Backing::Sled { tree, .. } if prefix.is_empty() => {
                Scan::Sled(Box::new(tree.range(..[RESERVED].as_slice())))
            }
            Backing::Sled { tree, .. } => Scan::Sled(Box::new(tree.scan_prefix(prefix))),
            Backing::Postgres(pg) => match pg.kv_scan(&self.inner.name, prefix) {
                Ok(pairs) => Scan::Pairs(
                    pairs
                        .into_iter()
                        .filter(|(k, _)| k.first() != Some(&RESERVED))
                        .collect::<Vec<_>>()
                        .into_iter(),
                ),
                Err(e) => Scan::Failed(Some(e)),
            },
        };
        Entries {
            keyspace: self,
            iter,
        }
    }
}

/// Counts down the plain writes a commit may still make.
struct Steps(usize);

impl Steps {
    fn take(&mut self) -> bool {
        match self.0.checked_sub(1) {
            Some(left) => {
                self.0 = left;
                true
            }
            None => false,
        }
    }
}

/// A consistent view of a keyspace, from [`Keyspace::read`].
pub struct Reader<'a> {
    keyspace: &'a Keyspace,
    _guard: RwLockReadGuard<'a, ()>,
}

impl Reader<'_> {
    /// The keyspace's name.
    pub fn name(&self) -> &str {
        self.keyspace.name()
    }

    /// Where the keyspace stands.
    pub fn checkpoint(&self) -> Result<Checkpoint, Error> {
        self.keyspace.read_checkpoint()
    }

    /// The value under `key` (`None` for a reserved key).
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        if key.first() == Some(&RESERVED) {
            return Ok(None);
        }
        self.keyspace.get_raw(key)
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> Entries<'_> {
        self.keyspace.entries(b"")
    }

    /// Every entry whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Entries<'_> {
        self.keyspace.entries(prefix)
    }

    /// Every value, in key order, decoded from JSON (as
    /// [`WriteSet::put_json`] wrote it).
    pub fn json_values<T: serde::de::DeserializeOwned>(
        &self,
    ) -> impl Iterator<Item = Result<T, Error>> + '_ {
        self.iter().map(|item| {
            let (key, value) = item?;
            serde_json::from_slice(&value).map_err(|e| Error::Corrupt {
                keyspace: self.name().to_owned(),
                reason: format!(
                    "the JSON under key {:?}: {e}",
                    String::from_utf8_lossy(&key)
                ),
            })
        })
    }
}

/// An entry of a keyspace: its key and its value.
pub type Pair = (Vec<u8>, Vec<u8>);

/// Entries of a keyspace in key order, each an owned `(key, value)`.
pub struct Entries<'a> {
    keyspace: &'a Keyspace,
    iter: Scan,
}

/// Where [`Entries`] reads from.
enum Scan {
    Done,
    Sled(Box<sled::Iter>),
    /// Entries read from PostgreSQL at once.
    Pairs(std::vec::IntoIter<Pair>),
    /// The read failed: the error, once.
    Failed(Option<crate::Error>),
}

impl Iterator for Entries<'_> {
    type Item = Result<Pair, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.iter {
            Scan::Done => None,
            Scan::Sled(iter) => Some(
                iter.next()?
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(|e| self.keyspace.storage(e)),
            ),
            Scan::Pairs(pairs) => pairs.next().map(Ok),
            Scan::Failed(e) => e.take().map(|e| Err(self.keyspace.storage(e))),
        }
    }
}

/// Appends compactly encoded values to a buffer: integers big-endian,
/// strings with their length first. [`Dec`] reads them back in the same
/// order.
#[derive(Clone, Default, Debug)]
pub struct Enc(pub Vec<u8>);

impl Enc {
    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    /// Eight bytes, big-endian.
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }

    /// Eight bytes, big-endian.
    pub fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }

    /// Four bytes, big-endian.
    pub fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }

    /// A short string (an identifier): one length byte first.
    ///
    /// # Panics
    ///
    /// If `s` is longer than 255 bytes; use [`Enc::long_str`] for text.
    pub fn str(&mut self, s: &str) {
        let len = u8::try_from(s.len()).expect("a short string is at most 255 bytes");
        self.0.push(len);
        self.0.extend_from_slice(s.as_bytes());
    }

    /// A string of any length up to 4 GiB: four length bytes first.
    ///
    /// # Panics
    ///
    /// If `s` is 4 GiB or longer.
    pub fn long_str(&mut self, s: &str) {
        let len = u32::try_from(s.len()).expect("a stored string is under 4 GiB");
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(s.as_bytes());
    }
}

/// A value that does not decode.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{reason}")]
pub struct DecodeError {
    /// What is wrong.
    pub reason: String,
}

impl From<&str> for DecodeError {
    fn from(reason: &str) -> DecodeError {
        DecodeError {
            reason: reason.to_owned(),
        }
    }
}

impl From<String> for DecodeError {
    fn from(reason: String) -> DecodeError {
        DecodeError { reason }
    }
}

/// Reads values [`Enc`] wrote, in the order it wrote them.
pub struct Dec<'a> {
    buf: &'a [u8],
}

impl<'a> Dec<'a> {
    /// Reads `buf` from its start.
    pub fn new(buf: &'a [u8]) -> Dec<'a> {
        Dec { buf }
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (head, rest) = self
            .buf
            .split_first_chunk::<N>()
            .ok_or("the value ends early")?;
        self.buf = rest;
        Ok(*head)
    }

    fn take_slice(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err("the value ends early".into());
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take::<1>()?[0])
    }

    /// See [`Enc::u64`].
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.take()?))
    }

    /// See [`Enc::i64`].
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.take()?))
    }

    /// See [`Enc::i32`].
    pub fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.take()?))
    }

    /// See [`Enc::str`].
    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        let len = usize::from(self.u8()?);
        let bytes = self.take_slice(len)?;
        std::str::from_utf8(bytes).map_err(|e| e.to_string().into())
    }

    /// See [`Enc::long_str`].
    pub fn long_str(&mut self) -> Result<&'a str, DecodeError> {
        let len = u32::from_be_bytes(self.take()?);
        let len = usize::try_from(len).map_err(|_| "a string too long for this machine")?;
        let bytes = self.take_slice(len)?;
        std::str::from_utf8(bytes).map_err(|e| e.to_string().into())
    }
}

/// The tree of the tokens' database that holds the tokens' keyspace.
pub(crate) const TOKENS_TREE: &str = "aux/tokens";

impl crate::Store {
    /// The keyspace `name` for derived state kept beside the log
    /// (projections). It lives in the database beside the log's
    /// (`DATA/views`, opened on first use), so its writes never add to the
    /// flushes that acknowledge appends, and a rebuild may set the whole
    /// database aside ([`crate::Store::set_aside_damaged_views`]).
    pub fn keyspace(&self, name: &str) -> Result<Keyspace, crate::Error> {
        Keyspace::open(
            &self.views()?,
            &self.inner.path.join(crate::VIEWS),
            name,
            &format!("{}{name}", crate::AUX_PREFIX),
        )
    }

    /// The names of the keyspaces kept beside the log, in name order.
    pub fn keyspace_names(&self) -> Result<Vec<String>, crate::Error> {
        Ok(self
            .views()?
            .tree_names()
            .iter()
            .filter_map(|t| std::str::from_utf8(t).ok()?.strip_prefix(crate::AUX_PREFIX))
            .map(str::to_owned)
            .collect())
    }

    /// Removes the keyspace `name` and everything in it (one a newer
    /// form of a projection left behind). Dropping one that does not
    /// exist does nothing.
    pub fn drop_keyspace(&self, name: &str) -> Result<(), crate::Error> {
        self.views()?
            .drop_tree(format!("{}{name}", crate::AUX_PREFIX))?;
        Ok(())
    }

    /// The tokens' keyspace: state that is not derived from the log, so
    /// it lives in a database of its own (`DATA/tokens`, opened on first
    /// use), which no rebuild touches. It is a sled database like the
    /// views', so it keeps [`Keyspace::write`]'s promise (a crash leaves
    /// a prefix of a write set, which the tokens' ordering of writes
    /// relies on) and [`Keyspace::flush`]'s fdatasync, with no second
    /// storage format. Tokens an older Pacta kept in the views database
    /// move into it the first time it opens empty.
    ///
    /// On PostgreSQL ([`Store::postgres`](crate::Store::postgres)) the
    /// tokens live in the database's `kv` table instead, so that every
    /// instance on it (a standby taking over) accepts the same tokens.
    pub fn tokens_keyspace(&self) -> Result<Keyspace, crate::Error> {
        if let Some(pg) = &self.pg {
            return Ok(pg.keyspace("tokens"));
        }
        Keyspace::open(
            &self.tokens_db()?,
            &self.inner.path.join(crate::TOKENS),
            "tokens",
            TOKENS_TREE,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, crate::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn all(ks: &Keyspace) -> Vec<(Vec<u8>, Vec<u8>)> {
        ks.read().iter().collect::<Result<_, _>>().unwrap()
    }

    fn writes(pairs: &[(&str, &str)]) -> WriteSet {
        let mut w = WriteSet::new();
        for (k, v) in pairs {
            w.put(k.as_bytes(), v.as_bytes());
        }
        w
    }

    fn pair(k: &str, v: &str) -> (Vec<u8>, Vec<u8>) {
        (k.as_bytes().to_vec(), v.as_bytes().to_vec())
    }

    #[test]
    fn a_commit_writes_entries_and_checkpoint() {
        let (_dir, store) = store();
        let ks = store.keyspace("t").unwrap();
        assert_eq!(ks.checkpoint().unwrap(), Checkpoint::Clean(0));
        ks.commit(&writes(&[("b", "2"), ("a", "1")]), 7).unwrap();
        let mut w = writes(&[("c", "3"), ("a", "one")]);
        w.delete(b"b".as_slice());
        ks.commit(&w, 9).unwrap();
        assert_eq!(ks.checkpoint().unwrap(), Checkpoint::Clean(9));
        assert_eq!(all(&ks), vec![pair("a", "one"), pair("c", "3")]);
        assert_eq!(ks.get(b"c").unwrap(), Some(b"3".to_vec()));
        assert_eq!(ks.scan_prefix(b"a").unwrap(), vec![pair("a", "one")]);
        // Another handle, and a reopened store, see the same.
        assert_eq!(all(&store.keyspace("t").unwrap()), all(&ks));
        let dir = store.path().to_path_buf();
        drop((ks, store));
        let store = crate::Store::open(&dir).unwrap();
        let ks = store.keyspace("t").unwrap();
        assert_eq!(ks.checkpoint().unwrap(), Checkpoint::Clean(9));
        assert_eq!(all(&ks), vec![pair("a", "one"), pair("c", "3")]);
    }

    /// The regression test of the commit protocol: stopped after any
    /// number of its plain writes, a commit leaves the keyspace as it was,
    /// finished, or reporting itself dirty — never clean with part of the
    /// writes. It fails if `commit` does not write its marker first.
    #[test]
    fn a_commit_stopped_midway_reports_the_keyspace_dirty() {
        let before = vec![pair("a", "1")];
        let after = vec![pair("a", "1"), pair("b", "2"), pair("c", "3")];
        // marker, two puts, checkpoint
        for steps in 0..=4 {
            let (_dir, store) = store();
            let ks = store.keyspace("t").unwrap();
            ks.commit(&writes(&[("a", "1")]), 5).unwrap();
            ks.commit_interrupted(&writes(&[("b", "2"), ("c", "3")]), 8, steps)
                .unwrap();
            let (checkpoint, entries) = (ks.checkpoint().unwrap(), all(&ks));
            match steps {
                0 => assert_eq!(
                    (checkpoint, entries),
                    (Checkpoint::Clean(5), before.clone())
                ),
                4 => assert_eq!((checkpoint, entries), (Checkpoint::Clean(8), after.clone())),
                _ => assert_eq!(checkpoint, Checkpoint::Dirty { since: 5 }, "{steps} steps"),
            }
            // A reopened store says the same.
            let dir = store.path().to_path_buf();
            drop((ks, store));
            let store = crate::Store::open(&dir).unwrap();
            let ks = store.keyspace("t").unwrap();
            assert_eq!(ks.checkpoint().unwrap(), checkpoint);
        }
    }

    #[test]
    fn a_dirty_keyspace_refuses_commits_until_cleared() {
        let (_dir, store) = store();
        let ks = store.keyspace("t").unwrap();
        ks.commit(&writes(&[("a", "1")]), 5).unwrap();
        ks.commit_interrupted(&writes(&[("b", "2")]), 8, 2).unwrap();
        assert!(matches!(
            ks.commit(&writes(&[("c", "3")]), 9),
            Err(Error::Dirty { since: 5, .. })
        ));
        assert!(matches!(
            ks.commit(&WriteSet::new(), 9),
            Err(Error::Dirty { .. })
        ));
        ks.clear().unwrap();
        assert_eq!(ks.checkpoint().unwrap(), Checkpoint::Clean(0));
        assert!(all(&ks).is_empty());
        ks.commit(&writes(&[("c", "3")]), 1).unwrap();
        assert_eq!(all(&ks), vec![pair("c", "3")]);
    }

    #[test]
    fn clearing_marks_the_keyspace_dirty_until_done() {
        let (_dir, store) = store();
        let ks = store.keyspace("t").unwrap();
        ks.commit(&writes(&[("a", "1"), ("b", "2")]), 5).unwrap();
        ks.clear().unwrap();
        assert_eq!(ks.checkpoint().unwrap(), Checkpoint::Clean(0));
        assert!(all(&ks).is_empty());
        // What a crash while clearing leaves: the marker, some entries.
        ks.commit(&writes(&[("a", "1"), ("b", "2")]), 5).unwrap();
        ks.set_checkpoint(Checkpoint::Dirty { since: 0 }).unwrap();
        ks.write_one(b"a", None).unwrap();
        assert_eq!(ks.checkpoint().unwrap(), Checkpoint::Dirty { since: 0 });
        ks.clear().unwrap();
        assert_eq!(ks.checkpoint().unwrap(), Checkpoint::Clean(0));
        assert!(all(&ks).is_empty());
    }

    #[test]
    fn reserved_keys_are_refused_and_hidden() {
        let (_dir, store) = store();
        let ks = store.keyspace("t").unwrap();
        let mut w = writes(&[("a", "1")]);
        w.put(STATE_KEY, 0u64.to_be_bytes());
        assert!(matches!(ks.commit(&w, 3), Err(Error::ReservedKey { .. })));
        assert!(matches!(
            ks.write(&{
                let mut w = WriteSet::new();
                w.delete(vec![RESERVED]);
                w
            }),
            Err(Error::ReservedKey { .. })
        ));
        // Nothing was written, not even the marker.
        assert_eq!(ks.checkpoint().unwrap(), Checkpoint::Clean(0));
        ks.commit(&writes(&[("a", "1")]), 3).unwrap();
        assert_eq!(all(&ks), vec![pair("a", "1")]);
        assert_eq!(ks.get(STATE_KEY).unwrap(), None);
        assert!(ks.scan_prefix(&[RESERVED]).unwrap().is_empty());
    }

    #[test]
    fn writes_without_checkpoint_keep_it() {
        let (_dir, store) = store();
        let ks = store.keyspace("t").unwrap();
        ks.commit(&writes(&[("a", "1")]), 4).unwrap();
        ks.write(&writes(&[("n/x", "x"), ("h/1", "x")])).unwrap();
        ks.flush().unwrap();
        assert_eq!(ks.checkpoint().unwrap(), Checkpoint::Clean(4));
        assert_eq!(ks.scan_prefix(b"n/").unwrap(), vec![pair("n/x", "x")]);
    }

    #[test]
    fn json_values_round_trip_and_corrupt_ones_are_errors() {
        let (_dir, store) = store();
        let ks = store.keyspace("t").unwrap();
        let mut w = WriteSet::new();
        w.put_json(b"a".as_slice(), &vec![1u32, 2]).unwrap();
        w.put_json(b"b".as_slice(), &vec![3u32]).unwrap();
        ks.commit(&w, 2).unwrap();
        let values: Vec<Vec<u32>> = ks.read().json_values().collect::<Result<_, _>>().unwrap();
        assert_eq!(values, vec![vec![1, 2], vec![3]]);
        ks.commit(&writes(&[("c", "not json")]), 3).unwrap();
        let read = ks.read();
        let values: Result<Vec<Vec<u32>>, _> = read.json_values().collect();
        assert!(matches!(values, Err(Error::Corrupt { .. })), "{values:?}");
    }

    /// Readers in the process see a commit entirely or not at all.
    #[test]
    fn readers_never_see_half_a_commit() {
        let (_dir, store) = store();
        let ks = store.keyspace("t").unwrap();
        let keys: Vec<String> = (0..50).map(|i| format!("k{i:02}")).collect();
        let writer = {
            let ks = store.keyspace("t").unwrap();
            let keys = keys.clone();
            std::thread::spawn(move || {
                for n in 1..=200u64 {
                    let mut w = WriteSet::new();
                    for k in &keys {
                        w.put(k.as_bytes(), n.to_be_bytes());
                    }
                    ks.commit(&w, n).unwrap();
                }
            })
        };
        let mut seen = 0;
        while seen < 200 {
            let read = ks.read();
            let Checkpoint::Clean(n) = read.checkpoint().unwrap() else {
                panic!("a reader saw the marker of a commit in progress");
            };
            let values: Vec<(Vec<u8>, Vec<u8>)> = read.iter().collect::<Result<_, _>>().unwrap();
            if n > 0 {
                assert_eq!(values.len(), keys.len());
                assert!(
                    values.iter().all(|(_, v)| v[..] == n.to_be_bytes()),
                    "at {n}"
                );
            }
            seen = n;
        }
        writer.join().unwrap();
    }

    #[test]
    fn the_compact_encoding_round_trips() {
        let mut e = Enc::default();
        e.u8(7);
        e.u64(u64::MAX - 1);
        e.i64(-5);
        e.i32(-19_000);
        e.str("plzensky-kraj");
        e.long_str(&"é".repeat(300));
        let mut d = Dec::new(&e.0);
        assert_eq!(d.u8().unwrap(), 7);
        assert_eq!(d.u64().unwrap(), u64::MAX - 1);
        assert_eq!(d.i64().unwrap(), -5);
        assert_eq!(d.i32().unwrap(), -19_000);
        assert_eq!(d.str().unwrap(), "plzensky-kraj");
        assert_eq!(d.long_str().unwrap(), "é".repeat(300));
        assert!(d.is_empty());
        assert!(d.u8().is_err());
        assert!(Dec::new(&[5, b'a']).str().is_err());
    }
}
