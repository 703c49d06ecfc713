//! The Merkle tree over the log (RFC 9162 §2.1, see `pacta_tlog`): leaf
//! `n` is the record at position `n + 1`, its bytes the canonical JSON the
//! hash chain covers. The tree's hashes are kept in the log database's
//! `tlog-chunks` tree in the stored-hash layout of Go's `sumdb/tlog`, in
//! chunks of [`CHUNK`] consecutive stored hashes (key: the stored hash
//! index divided by [`CHUNK`], big-endian; value: up to [`CHUNK`] × 32
//! bytes), with the number of leaves they cover under `tlog-chunks` in
//! `meta`. A chunk is one sled write for about sixteen records, where a
//! key per hash cost two writes per record and slowed appends (see
//! BENCHMARKS.md). Stores whose tree was kept a hash per key (the `tlog`
//! tree) build the chunked one from the log once, and drop the old one.
//!
//! They are derived data, like the stream and event-id indexes: the index
//! builder appends them behind the acknowledgement, O(log n) per record,
//! and they are rebuilt from the log when missing or dropped. Appending
//! never waits for them.

use std::sync::atomic::{AtomicBool, Ordering};

use pacta_tlog::{Hash, HashReader};

use crate::Error;

/// Set by [`crate::Store::set_tree_off_for_benchmarks`]: no leaf is hashed
/// and no tree hash stored, to measure what the tree costs appends.
static OFF: AtomicBool = AtomicBool::new(false);

/// Whether the tree is kept (always, outside that benchmark).
pub(crate) fn on() -> bool {
    !OFF.load(Ordering::Relaxed)
}

pub(crate) fn set_off(off: bool) {
    OFF.store(off, Ordering::Relaxed);
}

/// The key of the number of leaves in the `meta` tree.
pub(crate) const LEAVES_KEY: &[u8] = b"tlog-chunks";

/// Stored hashes per sled value.
pub(crate) const CHUNK: u64 = 32;

/// The tree of the layout before chunks, and its count in `meta`.
const OLD_TREE: &str = "tlog";

/// The tree's stored hashes.
#[derive(Clone)]
pub(crate) struct Tree {
    hashes: sled::Tree,
    meta: sled::Tree,
}

pub(crate) fn tlog_error(e: pacta_tlog::Error) -> Error {
    Error::Storage {
        reason: format!("the Merkle tree: {e}"),
        disk_full: false,
    }
}

/// Refuses a tree of `size` records where the stored hashes cover only
/// `leaves`.
pub(crate) fn covers(leaves: u64, size: u64) -> Result<(), Error> {
    if size > leaves {
        return Err(Error::Storage {
            reason: format!(
                "the Merkle tree covers {leaves} records so far, not {size}; \
                 it follows the log behind the acknowledgement"
            ),
            disk_full: false,
        });
    }
    Ok(())
}

/// The stored hashes that leaves with these hashes add to a tree of
/// `first` leaves, in stored-hash order from `stored_hash_count(first)`.
/// `below(index)` reads a stored hash the tree holds already (only those
/// of its left frontier are asked for).
pub(crate) fn extend(
    first: u64,
    leaves: impl IntoIterator<Item = Hash>,
    below: &dyn Fn(u64) -> Result<Hash, pacta_tlog::Error>,
) -> Result<Vec<Hash>, Error> {
    /// Stored hashes: those of the batch (indexes from `base` on) first,
    /// then the tree's.
    struct Overlay<'a> {
        base: u64,
        new: &'a [Hash],
        below: &'a dyn Fn(u64) -> Result<Hash, pacta_tlog::Error>,
    }
    impl HashReader for Overlay<'_> {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, pacta_tlog::Error> {
            indexes
                .iter()
                .map(|&i| match i.checked_sub(self.base) {
                    Some(k) if (k as usize) < self.new.len() => Ok(self.new[k as usize]),
                    _ => (self.below)(i),
                })
                .collect()
        }
    }
    let base = pacta_tlog::stored_hash_count(first);
    let mut new: Vec<Hash> = Vec::new();
    for (i, leaf) in leaves.into_iter().enumerate() {
        let reader = Overlay {
            base,
            new: &new,
            below,
        };
        let hashes = pacta_tlog::stored_hashes_for_leaf_hash(first + i as u64, leaf, &reader)
            .map_err(tlog_error)?;
        new.extend(hashes);
    }
    Ok(new)
}

fn read_one(hashes: &sled::Tree, index: u64) -> Result<Hash, pacta_tlog::Error> {
    let missing = || pacta_tlog::Error::MissingHash(index);
    let value = hashes
        .get((index / CHUNK).to_be_bytes())
        .map_err(|e| pacta_tlog::Error::Storage(Box::new(e)))?
        .ok_or_else(missing)?;
    let at = (index % CHUNK) as usize * 32;
    let bytes: [u8; 32] = value
        .get(at..at + 32)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(missing)?;
    Ok(Hash(bytes))
}

/// Reads the stored hashes of the database.
struct Stored<'a>(&'a sled::Tree);

impl HashReader for Stored<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, pacta_tlog::Error> {
        indexes.iter().map(|&i| read_one(self.0, i)).collect()
    }
}

impl Tree {
    pub(crate) fn open(db: &sled::Db, meta: &sled::Tree) -> Result<Tree, Error> {
        if db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == OLD_TREE.as_bytes())
        {
            // A hash per key: built again in chunks from the log.
            db.drop_tree(OLD_TREE)?;
            meta.remove(OLD_TREE)?;
        }
        Ok(Tree {
            hashes: db.open_tree("tlog-chunks")?,
            meta: meta.clone(),
        })
    }

    /// How many leaves the stored hashes cover.
    pub(crate) fn leaves(&self) -> Result<u64, Error> {
        match self.meta.get(LEAVES_KEY)? {
            None => Ok(0),
            Some(v) => crate::key_position(&v),
        }
    }

    /// Appends the leaves with these hashes, the first being leaf `first`
    /// (which must be the next one), then the new number of leaves: sled
    /// recovers a prefix of its writes, so the count never covers a hash
    /// that is missing.
    pub(crate) fn append(&self, first: u64, leaves: &[Hash]) -> Result<(), Error> {
        if leaves.is_empty() {
            return Ok(());
        }
        let base = pacta_tlog::stored_hash_count(first);
        let new = extend(first, leaves.iter().copied(), &|i| {
            read_one(&self.hashes, i)
        })?;
        // Chunk by chunk: the first keeps the hashes it held below `base`
        // (and drops any a crash left above it).
        let mut index = base;
        let mut rest = new.as_slice();
        while !rest.is_empty() {
            let chunk = index / CHUNK;
            let offset = (index % CHUNK) as usize;
            let mut value = match offset {
                0 => Vec::with_capacity(CHUNK as usize * 32),
                _ => {
                    let held = self.hashes.get(chunk.to_be_bytes())?.unwrap_or_default();
                    let keep = held.get(..offset * 32).ok_or_else(|| Error::Storage {
                        reason: format!(
                            "the Merkle tree: chunk {chunk} lacks hashes below {index}"
                        ),
                        disk_full: false,
                    })?;
                    keep.to_vec()
                }
            };
            let take = rest.len().min(CHUNK as usize - offset);
            for hash in &rest[..take] {
                value.extend_from_slice(&hash.0);
            }
            self.hashes.insert(chunk.to_be_bytes(), value)?;
            rest = &rest[take..];
            index += take as u64;
        }
        let count = first + leaves.len() as u64;
        self.meta.insert(LEAVES_KEY, &count.to_be_bytes())?;
        Ok(())
    }

    /// The stored hash of leaf `n` (the record at position `n + 1`).
    pub(crate) fn leaf(&self, n: u64) -> Result<Hash, Error> {
        read_one(&self.hashes, pacta_tlog::stored_hash_index(0, n)).map_err(tlog_error)
    }

    /// The stored hashes of the nodes at `height` with indexes `first`
    /// to `first + count - 1` (each must be complete in the tree).
    pub(crate) fn nodes(&self, height: u8, first: u64, count: u64) -> Result<Vec<Hash>, Error> {
        (first..first + count)
            .map(|n| {
                read_one(&self.hashes, pacta_tlog::stored_hash_index(height, n)).map_err(tlog_error)
            })
            .collect()
    }

    /// Drops every stored hash.
    pub(crate) fn clear(&self) -> Result<(), Error> {
        self.meta.remove(LEAVES_KEY)?;
        self.hashes.clear()?;
        Ok(())
    }

    /// The root of the first `size` leaves (`size` at most
    /// [`Tree::leaves`]).
    pub(crate) fn root(&self, size: u64) -> Result<Hash, Error> {
        self.within(size)?;
        pacta_tlog::tree_hash(size, &Stored(&self.hashes)).map_err(tlog_error)
    }

    /// The inclusion proof of leaf `leaf` in the tree of `size` leaves.
    pub(crate) fn prove_leaf(&self, size: u64, leaf: u64) -> Result<Vec<Hash>, Error> {
        self.within(size)?;
        pacta_tlog::prove_record(size, leaf, &Stored(&self.hashes)).map_err(tlog_error)
    }

    /// The consistency proof from the tree of `old` leaves to that of
    /// `size`.
    pub(crate) fn prove_consistency(&self, size: u64, old: u64) -> Result<Vec<Hash>, Error> {
        self.within(size)?;
        pacta_tlog::prove_tree(size, old, &Stored(&self.hashes)).map_err(tlog_error)
    }

    fn within(&self, size: u64) -> Result<(), Error> {
        covers(self.leaves()?, size)
    }
}

/// The leaf hash of a record, from its stored value (two hashes, then the
/// canonical JSON).
pub(crate) fn leaf_of_value(position: u64, value: &[u8]) -> Result<Hash, Error> {
    let (_, _, json) = crate::split_value(position, value)?;
    Ok(pacta_tlog::leaf_hash(json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_in_batches_the_roots_are_those_of_the_whole() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let meta = db.open_tree("meta").unwrap();
        let tree = Tree::open(&db, &meta).unwrap();
        let leaves: Vec<Hash> = (0..100u32)
            .map(|i| pacta_tlog::leaf_hash(&i.to_be_bytes()))
            .collect();
        let mut all = Vec::new();
        for (i, leaf) in leaves.iter().enumerate() {
            all.extend(pacta_tlog::stored_hashes_for_leaf_hash(i as u64, *leaf, &all).unwrap());
        }
        let mut at = 0;
        for batch in [1usize, 2, 3, 7, 16, 33, 38] {
            tree.append(at as u64, &leaves[at..at + batch]).unwrap();
            at += batch;
            assert_eq!(tree.leaves().unwrap(), at as u64);
            assert_eq!(
                tree.root(at as u64).unwrap(),
                pacta_tlog::tree_hash(at as u64, &all).unwrap()
            );
        }
        assert!(tree.root(101).is_err());
        // Every stored hash, across the chunks, is the one of the whole.
        for (i, hash) in all.iter().enumerate() {
            assert_eq!(read_one(&tree.hashes, i as u64).unwrap(), *hash, "{i}");
        }
        let proof = tree.prove_leaf(100, 42).unwrap();
        pacta_tlog::check_record(&proof, 100, tree.root(100).unwrap(), 42, leaves[42]).unwrap();
        let proof = tree.prove_consistency(100, 37).unwrap();
        pacta_tlog::check_tree(
            &proof,
            100,
            tree.root(100).unwrap(),
            37,
            tree.root(37).unwrap(),
        )
        .unwrap();
    }

    /// A crash after the hashes of a batch were written but before the
    /// count moved: the batch is appended again over them, and the tree
    /// is that of the whole.
    #[test]
    fn a_batch_written_again_after_a_crash_leaves_the_same_tree() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let meta = db.open_tree("meta").unwrap();
        let tree = Tree::open(&db, &meta).unwrap();
        let leaves: Vec<Hash> = (0..70u32)
            .map(|i| pacta_tlog::leaf_hash(&i.to_be_bytes()))
            .collect();
        tree.append(0, &leaves[..21]).unwrap();
        tree.append(21, &leaves[21..50]).unwrap();
        // Back to 21 leaves, as a crash before the count's write leaves it.
        meta.insert(LEAVES_KEY, &21u64.to_be_bytes()).unwrap();
        tree.append(21, &leaves[21..33]).unwrap();
        tree.append(33, &leaves[33..]).unwrap();
        let mut all = Vec::new();
        for (i, leaf) in leaves.iter().enumerate() {
            all.extend(pacta_tlog::stored_hashes_for_leaf_hash(i as u64, *leaf, &all).unwrap());
        }
        assert_eq!(
            tree.root(70).unwrap(),
            pacta_tlog::tree_hash(70, &all).unwrap()
        );
    }

    /// A store whose tree was kept a hash per key loses that tree on open
    /// (its count too), so that the chunked tree is built from the log.
    #[test]
    fn the_tree_of_a_hash_per_key_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let meta = db.open_tree("meta").unwrap();
        db.open_tree(OLD_TREE)
            .unwrap()
            .insert(0u64.to_be_bytes(), &[7u8; 32])
            .unwrap();
        meta.insert(OLD_TREE, &1u64.to_be_bytes()).unwrap();
        let tree = Tree::open(&db, &meta).unwrap();
        assert_eq!(tree.leaves().unwrap(), 0);
        assert!(
            !db.tree_names()
                .iter()
                .any(|n| n.as_ref() == OLD_TREE.as_bytes())
        );
        assert!(meta.get(OLD_TREE).unwrap().is_none());
    }
}
