//! What tests need to play an insider who alters the store behind the
//! registry's back. Not for anything else.

use std::sync::atomic::Ordering;

use crate::{Error, Store};

impl Store {
    /// Rewrites the stored bytes of the record at `position` with
    /// `rewrite` (the bytes are its hash, the previous hash and its
    /// canonical JSON; see the crate docs), as a valid write that bypasses
    /// the writer and the hash chain, then flushes. For tests that show
    /// `verify` naming an altered position.
    #[doc(hidden)]
    pub fn tamper_for_tests(
        &self,
        position: u64,
        rewrite: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), Error> {
        let log = &self.inner.log;
        let key = position.to_be_bytes();
        let mut bytes = log
            .get(key)?
            .ok_or_else(|| Error::Corrupt {
                position,
                reason: "no record to tamper with".into(),
            })?
            .to_vec();
        rewrite(&mut bytes);
        log.insert(key, bytes)?;
        self.inner.shared.recent.clear();
        self.inner.db.flush()?;
        Ok(())
    }

    /// Replaces the first `from` in the record at `position` with `to`
    /// (same length) and stores the chain hash recomputed over the new
    /// bytes, as an insider covering their tracks would: at the head, the
    /// chain alone no longer shows it. For tests.
    #[doc(hidden)]
    pub fn rewrite_rechained_for_tests(
        &self,
        position: u64,
        from: &[u8],
        to: &[u8],
    ) -> Result<(), Error> {
        assert_eq!(from.len(), to.len(), "a rewrite keeps the length");
        self.tamper_for_tests(position, |bytes| {
            let json = &mut bytes[64..];
            let at = json
                .windows(from.len())
                .position(|w| w == from)
                .expect("the record holds the bytes to rewrite");
            json[at..at + to.len()].copy_from_slice(to);
            let mut prev = [0u8; 32];
            prev.copy_from_slice(&bytes[32..64]);
            let hash = crate::canonical::chain_hash(&crate::Digest(prev), &bytes[64..]);
            bytes[..32].copy_from_slice(&hash.0);
        })
    }

    /// Stops (or resumes) keeping the Merkle tree in every store of this
    /// process: the writer hashes no leaf, the index builder stores no
    /// tree hash. Only for the benchmark that measures what the tree costs
    /// appends; a store written so has no usable tree.
    #[doc(hidden)]
    pub fn set_tree_off_for_benchmarks(off: bool) {
        crate::tree::set_off(off);
    }

    /// Drops the Merkle tree's hashes but not the indexes, as a store
    /// written before the tree existed has them: the next open builds the
    /// tree from the log.
    #[doc(hidden)]
    pub fn drop_tree_for_tests(&self) -> Result<(), Error> {
        self.inner.index.tree().clear()?;
        self.inner.db.flush()?;
        Ok(())
    }

    /// Holds the index builder back (records stay in memory above the
    /// index checkpoint) or lets it go on with the next durable group.
    #[doc(hidden)]
    pub fn pause_indexing_for_tests(&self, paused: bool) {
        self.inner
            .shared
            .index_paused
            .store(paused, Ordering::Release);
    }

    /// Makes the next `fdatasync` of the log fail, as a dying disk would.
    #[doc(hidden)]
    pub fn fail_next_sync_for_tests(&self) {
        self.inner
            .shared
            .fail_next_sync
            .store(true, Ordering::Release);
    }

    /// Writes junk into the derived index trees, for tests that show a
    /// rebuild restores them.
    #[doc(hidden)]
    pub fn damage_indexes_for_tests(&self) -> Result<(), Error> {
        self.inner.index.damage()
    }
}
