//! The Merkle tree over the log (RFC 9162 §2.1, see `pacta_tlog`): leaf
//! `n` is the record at position `n + 1`, its bytes the canonical JSON the
//! hash chain covers. The tree's hashes are kept in the log database's
//! `tlog` tree in the stored-hash layout of Go's `sumdb/tlog` (key: the
//! stored hash index, big-endian; value: 32 bytes), with the number of
//! leaves they cover under `tlog` in `meta`.
//!
//! They are derived data, like the stream and event-id indexes: the index
//! builder appends them behind the acknowledgement, O(log n) per record,
//! and they are rebuilt from the log when missing or dropped. Appending
//! never waits for them.

use pacta_tlog::{Hash, HashReader};

use crate::Error;

/// The key of the number of leaves in the `meta` tree.
pub(crate) const LEAVES_KEY: &[u8] = b"tlog";

/// The tree's stored hashes.
#[derive(Clone)]
pub(crate) struct Tree {
    hashes: sled::Tree,
    meta: sled::Tree,
}

fn tlog_error(e: pacta_tlog::Error) -> Error {
    Error::Storage {
        reason: format!("the Merkle tree: {e}"),
        disk_full: false,
    }
}

/// Stored hashes: those in `new` (indexes from `base` on) first, then the
/// database's.
struct Overlay<'a> {
    hashes: &'a sled::Tree,
    base: u64,
    new: &'a [Hash],
}

impl HashReader for Overlay<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, pacta_tlog::Error> {
        indexes
            .iter()
            .map(|&i| match i.checked_sub(self.base) {
                Some(k) if (k as usize) < self.new.len() => Ok(self.new[k as usize]),
                _ => read_one(self.hashes, i),
            })
            .collect()
    }
}

fn read_one(hashes: &sled::Tree, index: u64) -> Result<Hash, pacta_tlog::Error> {
    let missing = || pacta_tlog::Error::MissingHash(index);
    let value = hashes
        .get(index.to_be_bytes())
        .map_err(|e| pacta_tlog::Error::Storage(Box::new(e)))?
        .ok_or_else(missing)?;
    let bytes: [u8; 32] = value.as_ref().try_into().map_err(|_| missing())?;
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
        Ok(Tree {
            hashes: db.open_tree("tlog")?,
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
        let mut new: Vec<Hash> = Vec::with_capacity(leaves.len() * 2 + 64);
        for (i, leaf) in leaves.iter().enumerate() {
            let reader = Overlay {
                hashes: &self.hashes,
                base,
                new: &new,
            };
            let hashes = pacta_tlog::stored_hashes_for_leaf_hash(first + i as u64, *leaf, &reader)
                .map_err(tlog_error)?;
            new.extend(hashes);
        }
        for (i, hash) in new.iter().enumerate() {
            self.hashes
                .insert((base + i as u64).to_be_bytes(), hash.0.as_slice())?;
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
        let leaves = self.leaves()?;
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
}
