//! The derived indexes: stream (id, version) → position and event id →
//! position.
//!
//! The log is the only truth. These two trees are written behind the
//! acknowledgement by the index builder thread, with plain inserts and a
//! checkpoint (the last position indexed), and can be dropped and rebuilt
//! from the log at any time. What lies above the checkpoint is held in
//! memory, in the [`Tail`]: the writer adds every record it stages there
//! before inserting it into the log, and the builder removes records only
//! after their index entries are in the trees. A look-up that reads the
//! tail first and the trees second therefore never misses a record: if
//! the record is gone from the tail, its index entries were written
//! before.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, RwLock};

use pacta_domain::{EventId, StreamId};

use crate::{Error, Shared, decode_value, key_position};

/// The key of the index checkpoint in the `meta` tree.
const CHECKPOINT_KEY: &[u8] = b"indexed";

/// Records indexed per step while catching up or rebuilding.
const STEP: usize = 16_384;

/// One record's index entries.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) position: u64,
    pub(crate) event_id: EventId,
    pub(crate) stream: StreamId,
    pub(crate) version: u64,
    /// The record's leaf hash in the Merkle tree.
    pub(crate) leaf: pacta_tlog::Hash,
}

/// Records above the index checkpoint, in memory.
#[derive(Default)]
pub(crate) struct Tail {
    entries: VecDeque<Entry>,
    ids: HashMap<EventId, u64>,
    streams: HashMap<StreamId, BTreeMap<u64, u64>>,
}

impl Tail {
    pub(crate) fn push(&mut self, entry: Entry) {
        self.ids.insert(entry.event_id, entry.position);
        self.streams
            .entry(entry.stream.clone())
            .or_default()
            .insert(entry.version, entry.position);
        self.entries.push_back(entry);
    }

    pub(crate) fn position_of(&self, id: EventId) -> Option<u64> {
        self.ids.get(&id).copied()
    }

    /// The stream's (version, position) pairs held here.
    pub(crate) fn stream(&self, stream: &StreamId) -> Vec<(u64, u64)> {
        self.streams
            .get(stream)
            .map(|m| m.iter().map(|(v, p)| (*v, *p)).collect())
            .unwrap_or_default()
    }

    /// Entries up to `position`, oldest first.
    fn upto(&self, position: u64) -> Vec<Entry> {
        self.entries
            .iter()
            .take_while(|e| e.position <= position)
            .cloned()
            .collect()
    }

    /// Forgets entries up to `position` (their index entries are written).
    fn prune(&mut self, position: u64) {
        while self.entries.front().is_some_and(|e| e.position <= position) {
            let Some(e) = self.entries.pop_front() else {
                break;
            };
            self.ids.remove(&e.event_id);
            if let Some(versions) = self.streams.get_mut(&e.stream) {
                versions.remove(&e.version);
                if versions.is_empty() {
                    self.streams.remove(&e.stream);
                }
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The last version of streams as the index trees hold them, for streams
/// looked up since the store opened: reading a stream's last key backwards
/// in sled costs more than the rest of an append's look-ups together.
#[derive(Default)]
pub(crate) struct Versions(std::sync::Mutex<HashMap<StreamId, u64>>);

impl Versions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StreamId, u64>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stream's version in the trees, from memory or read once.
    /// The lock is held across the read of the trees: entries the builder
    /// writes meanwhile either show in that read, or reach the entry
    /// through [`Versions::indexed`], which waits for the lock.
    pub(crate) fn get(&self, index: &Index, stream: &StreamId) -> Result<u64, Error> {
        let mut map = self.lock();
        if let Some(v) = map.get(stream) {
            return Ok(*v);
        }
        let v = index.version(stream)?;
        map.insert(stream.clone(), v);
        Ok(v)
    }

    fn indexed(&self, entries: &[Entry]) {
        let mut map = self.lock();
        for e in entries {
            if let Some(v) = map.get_mut(&e.stream) {
                *v = (*v).max(e.version);
            }
        }
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}

/// The index trees.
#[derive(Clone)]
pub(crate) struct Index {
    streams: sled::Tree,
    ids: sled::Tree,
    meta: sled::Tree,
    tree: crate::tree::Tree,
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

impl Index {
    pub(crate) fn open(db: &sled::Db) -> Result<Index, Error> {
        let meta = db.open_tree("meta")?;
        Ok(Index {
            streams: db.open_tree("streams")?,
            ids: db.open_tree("event_ids")?,
            tree: crate::tree::Tree::open(db, &meta)?,
            meta,
        })
    }

    /// The last position indexed.
    pub(crate) fn checkpoint(&self) -> Result<u64, Error> {
        match self.meta.get(CHECKPOINT_KEY)? {
            None => Ok(0),
            Some(v) => key_position(&v),
        }
    }

    /// Writes entries, then the checkpoint after them: sled recovers a
    /// prefix of its writes, so a checkpoint found after a crash always
    /// has its entries.
    fn write(&self, entries: &[Entry], checkpoint: u64) -> Result<(), Error> {
        // The tree first (it may hold some of these already, after a crash
        // between its count and the checkpoint).
        if crate::tree::on() {
            let leaves = self.tree.leaves()?;
            let new: Vec<pacta_tlog::Hash> = entries
                .iter()
                .filter(|e| e.position > leaves)
                .map(|e| e.leaf)
                .collect();
            self.tree.append(leaves, &new)?;
        }
        for e in entries {
            let position = e.position.to_be_bytes();
            self.streams
                .insert(stream_key(&e.stream, e.version), &position)?;
            self.ids.insert(e.event_id.to_bytes(), &position)?;
        }
        self.meta
            .insert(CHECKPOINT_KEY, &checkpoint.to_be_bytes())?;
        Ok(())
    }

    pub(crate) fn position_of(&self, id: EventId) -> Result<Option<u64>, Error> {
        self.ids
            .get(id.to_bytes())?
            .map(|v| key_position(&v))
            .transpose()
    }

    /// The stream's (version, position) pairs in the trees.
    pub(crate) fn stream(&self, stream: &StreamId) -> Result<Vec<(u64, u64)>, Error> {
        let prefix = stream_prefix(stream);
        let mut out = Vec::new();
        for item in self.streams.scan_prefix(&prefix) {
            let (k, v) = item?;
            out.push((key_position(&k[prefix.len()..])?, key_position(&v)?));
        }
        Ok(out)
    }

    /// The stream's highest version in the trees (0: none).
    pub(crate) fn version(&self, stream: &StreamId) -> Result<u64, Error> {
        let prefix = stream_prefix(stream);
        match self.streams.scan_prefix(&prefix).next_back() {
            None => Ok(0),
            Some(item) => {
                let (k, _) = item?;
                key_position(&k[prefix.len()..])
            }
        }
    }

    /// Points every other stream entry at a position beyond any and
    /// forgets every event id: damage for tests to find and rebuild.
    pub(crate) fn damage(&self) -> Result<(), Error> {
        let keys: Vec<_> = self
            .streams
            .iter()
            .keys()
            .step_by(2)
            .collect::<Result<_, _>>()?;
        for k in keys {
            self.streams.insert(k, &u64::MAX.to_be_bytes())?;
        }
        self.ids.clear()?;
        Ok(())
    }

    fn clear(&self) -> Result<(), Error> {
        self.meta.remove(CHECKPOINT_KEY)?;
        self.streams.clear()?;
        self.ids.clear()?;
        self.tree.clear()?;
        Ok(())
    }

    /// The Merkle tree over the indexed records.
    pub(crate) fn tree(&self) -> &crate::tree::Tree {
        &self.tree
    }

    /// Indexes the log's records from the checkpoint + 1 up to `head`,
    /// reading them from the log.
    pub(crate) fn catch_up(
        &self,
        log: &sled::Tree,
        head: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, Error> {
        let from = self.checkpoint()?;
        // A store from before the tree: its leaves up to the checkpoint.
        let leaves = self.tree.leaves()?;
        if leaves < from {
            tracing::info!(
                records = from - leaves,
                "building the Merkle tree over the log's records (once, for a store from before it)"
            );
            let mut batch = Vec::with_capacity(STEP);
            let mut first = leaves;
            for item in log.range((leaves + 1).to_be_bytes()..=from.to_be_bytes()) {
                let (k, v) = item?;
                batch.push(crate::tree::leaf_of_value(key_position(&k)?, &v)?);
                if batch.len() == STEP {
                    self.tree.append(first, &batch)?;
                    first += batch.len() as u64;
                    batch.clear();
                }
            }
            self.tree.append(first, &batch)?;
        }
        let mut done = from;
        let mut step = Vec::with_capacity(STEP);
        progress(done, head);
        for item in log.range((from + 1).to_be_bytes()..=head.to_be_bytes()) {
            let (k, v) = item?;
            let position = key_position(&k)?;
            let record = decode_value(position, &v)?;
            step.push(Entry {
                position,
                event_id: record.envelope.event_id,
                stream: record.envelope.stream,
                version: record.envelope.version,
                leaf: crate::tree::leaf_of_value(position, &v)?,
            });
            if step.len() == STEP {
                self.write(&step, position)?;
                step.clear();
                done = position;
                progress(done, head);
            }
        }
        if let Some(last) = step.last() {
            done = last.position;
            self.write(&step, done)?;
        }
        progress(done, head);
        Ok(done - from)
    }

    /// Drops both trees and indexes the log again from position 1.
    pub(crate) fn rebuild(
        &self,
        log: &sled::Tree,
        head: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, Error> {
        self.clear()?;
        self.catch_up(log, head, progress)
    }
}

/// The index builder: indexes records as they become durable, then lets
/// the tail forget them. Ends when the syncer hangs up.
pub(crate) fn builder(index: Index, shared: Arc<Shared>, durable: Receiver<u64>) {
    let mut upto = 0;
    while let Ok(next) = durable.recv() {
        upto = upto.max(next);
        while let Ok(more) = durable.try_recv() {
            upto = upto.max(more);
        }
        if shared.failure().is_some() || shared.index_paused.load(Ordering::Acquire) {
            continue;
        }
        let _rebuilding = shared.index_trees();
        let entries = read(&shared.tail).upto(upto);
        let Some(last) = entries.last().map(|e| e.position) else {
            continue;
        };
        if let Err(e) = index.write(&entries, last) {
            // The log is intact; the index catches up on the next open.
            shared.fail(format!("writing the index failed: {e}"), false);
            continue;
        }
        // Versions known from the trees move on before the tail forgets
        // the entries (readers look at the tail first).
        shared.versions.indexed(&entries);
        prune(&shared.tail, last);
    }
}

pub(crate) fn read(tail: &RwLock<Tail>) -> std::sync::RwLockReadGuard<'_, Tail> {
    tail.read().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn write(tail: &RwLock<Tail>) -> std::sync::RwLockWriteGuard<'_, Tail> {
    tail.write().unwrap_or_else(|p| p.into_inner())
}

/// Forgets tail entries up to `position` after a rebuild indexed them.
pub(crate) fn prune(tail: &RwLock<Tail>, position: u64) {
    write(tail).prune(position);
}
