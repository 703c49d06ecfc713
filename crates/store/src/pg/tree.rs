//! The Merkle tree on PostgreSQL: the same stored hashes as the embedded
//! store's tree (see `crate::tree`), in `tlog_hashes(idx, hash)`, with
//! the number of leaves they cover in `tlog_size`.
//!
//! Every connected instance runs a builder task that follows the head:
//! it reads the records past the tree, hashes their leaves, computes the
//! stored hashes they add and writes them with the new leaf count in one
//! transaction, holding the row lock on `tlog_size`, so that two builders
//! never both extend the tree (the second sees the count moved and
//! stops). The tree is deterministic from the log, so whichever instance
//! builds it, it is the same.
//!
//! Reads follow the functions of `pacta_tlog`, which ask for hashes whose
//! indexes depend only on the sizes involved: each read first runs the
//! function with a reader that notes the indexes, fetches them in one
//! query, then runs it again on what was fetched.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use pacta_tlog::{Hash, HashReader};

use super::{Db, PgLog, sql_int};
use crate::Error;
use crate::tree::tlog_error;

/// Records hashed and written per transaction while catching up.
const BATCH: u64 = 4096;

/// A reader over hashes fetched beforehand; notes what it lacked.
#[derive(Default)]
struct Fetched {
    hashes: HashMap<u64, Hash>,
    asked: Mutex<Vec<u64>>,
}

impl HashReader for Fetched {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, pacta_tlog::Error> {
        let mut asked = self.asked.lock().unwrap_or_else(|p| p.into_inner());
        indexes
            .iter()
            .map(|i| match self.hashes.get(i) {
                Some(h) => Ok(*h),
                None => {
                    asked.push(*i);
                    // A stand-in: this run only learns which indexes.
                    Ok(Hash([0; 32]))
                }
            })
            .collect()
    }
}

/// Reads a stored hash among those fetched.
fn among(fetched: &HashMap<u64, Hash>) -> impl Fn(u64) -> Result<Hash, pacta_tlog::Error> + '_ {
    |i| {
        fetched
            .get(&i)
            .copied()
            .ok_or(pacta_tlog::Error::MissingHash(i))
    }
}

/// The stored hash indexes of the complete subtrees that make up a tree
/// of `n` leaves (its left frontier): all a new leaf can merge with.
fn frontier(n: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut start = 0u64;
    for level in (0..64u8).rev() {
        if n & (1 << level) != 0 {
            out.push(pacta_tlog::stored_hash_index(level, start >> level));
            start += 1 << level;
        }
    }
    out
}

impl PgLog {
    /// How many leaves the tree covers.
    pub async fn tree_leaves(&self) -> Result<u64, Error> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT leaves FROM tlog_size", &[])
            .await
            .db()?;
        let leaves: i64 = row.try_get(0).db()?;
        Ok(u64::try_from(leaves).unwrap_or(0))
    }

    /// The stored hashes at these indexes.
    async fn fetch(&self, indexes: &[u64]) -> Result<HashMap<u64, Hash>, Error> {
        if indexes.is_empty() {
            return Ok(HashMap::new());
        }
        let client = self.client().await?;
        let wanted: Vec<i64> = indexes.iter().map(|&i| sql_int(i)).collect();
        let rows = client
            .query(
                "SELECT idx, hash FROM tlog_hashes WHERE idx = ANY($1)",
                &[&wanted],
            )
            .await
            .db()?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let idx: i64 = row.try_get(0).db()?;
            let hash: Vec<u8> = row.try_get(1).db()?;
            let hash: [u8; 32] = hash.try_into().map_err(|_| Error::Storage {
                reason: format!("the Merkle tree: stored hash {idx} is not 32 bytes"),
                disk_full: false,
            })?;
            out.insert(idx as u64, Hash(hash));
        }
        Ok(out)
    }

    /// Runs `f` (a `pacta_tlog` function over stored hashes) on hashes
    /// fetched from the database in one query.
    pub(crate) async fn with_hashes<T>(
        &self,
        f: impl Fn(&dyn HashReader) -> Result<T, pacta_tlog::Error>,
    ) -> Result<T, Error> {
        let mut fetched = Fetched::default();
        // The first run learns the indexes; the stand-ins it was given may
        // make it fail, which is of no interest.
        let _ = f(&fetched);
        let asked = std::mem::take(fetched.asked.get_mut().unwrap_or_else(|p| p.into_inner()));
        fetched.hashes = self.fetch(&asked).await?;
        let answer = f(&fetched).map_err(tlog_error);
        let missing = fetched.asked.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = missing.first() {
            return Err(tlog_error(pacta_tlog::Error::MissingHash(*i)));
        }
        answer
    }

    /// The stored hashes of the nodes at `height` with indexes `first` to
    /// `first + count - 1`.
    pub(crate) async fn tree_nodes(
        &self,
        height: u8,
        first: u64,
        count: u64,
    ) -> Result<Vec<Hash>, Error> {
        let indexes: Vec<u64> = (first..first + count)
            .map(|n| pacta_tlog::stored_hash_index(height, n))
            .collect();
        let fetched = self.fetch(&indexes).await?;
        indexes
            .iter()
            .map(|i| {
                fetched
                    .get(i)
                    .copied()
                    .ok_or_else(|| tlog_error(pacta_tlog::Error::MissingHash(*i)))
            })
            .collect()
    }

    /// The canonical bytes of the record at `position` (its leaf's data).
    pub async fn leaf_bytes(&self, position: u64) -> Result<Option<Vec<u8>>, Error> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT record FROM log WHERE position = $1",
                &[&sql_int(position)],
            )
            .await
            .db()?;
        row.map(|r| r.try_get(0).db()).transpose()
    }

    /// Extends the tree by up to [`BATCH`] records past it: how many
    /// leaves it covers after (unchanged when it holds the whole log, or
    /// another instance extended it meanwhile).
    pub(crate) async fn grow_tree(&self) -> Result<u64, Error> {
        let first = self.tree_leaves().await?;
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT record FROM log WHERE position > $1 AND position <= $2 ORDER BY position",
                &[&sql_int(first), &sql_int(first + BATCH)],
            )
            .await
            .db()?;
        drop(client);
        if rows.is_empty() {
            return Ok(first);
        }
        let fetched = self.fetch(&frontier(first)).await?;
        let base = pacta_tlog::stored_hash_count(first);
        let leaves = rows
            .iter()
            .map(|row| Ok(pacta_tlog::leaf_hash(row.try_get::<_, &[u8]>(0).db()?)))
            .collect::<Result<Vec<Hash>, Error>>()?;
        let new = crate::tree::extend(first, leaves, &among(&fetched))?;
        let leaves = first + rows.len() as u64;
        let mut client = self.client().await?;
        let tx = client.transaction().await.db()?;
        let held: i64 = tx
            .query_one("SELECT leaves FROM tlog_size FOR UPDATE", &[])
            .await
            .db()?
            .try_get(0)
            .db()?;
        if held != sql_int(first) {
            // Another instance extended it meanwhile.
            return Ok(u64::try_from(held).unwrap_or(0));
        }
        let indexes: Vec<i64> = (0..new.len() as u64).map(|i| sql_int(base + i)).collect();
        let hashes: Vec<Vec<u8>> = new.iter().map(|h| h.0.to_vec()).collect();
        tx.execute(
            "INSERT INTO tlog_hashes (idx, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[]) \
             ON CONFLICT (idx) DO NOTHING",
            &[&indexes, &hashes],
        )
        .await
        .db()?;
        tx.execute("UPDATE tlog_size SET leaves = $1", &[&sql_int(leaves)])
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(leaves)
    }
}

/// Keeps the tree up with the head while the log is open: after each
/// head change, extends it until it covers the head. A failure is logged
/// and retried a moment later.
pub(crate) async fn follow(log: PgLog) {
    let mut heads = log.subscribe();
    let mut failing = false;
    loop {
        let head = heads.borrow_and_update().position;
        loop {
            match log.grow_tree().await {
                Ok(leaves) if leaves >= head => break,
                Ok(_) => failing = false,
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "cannot extend the Merkle tree; retrying");
                    }
                    failing = true;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        failing = false;
        if heads.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frontier is all that extending a tree, by one leaf or by a
    /// batch, reads below it.
    #[test]
    fn the_frontier_is_all_a_batch_reads() {
        let leaf = |n: u64| pacta_tlog::leaf_hash(&n.to_be_bytes());
        let mut stored: Vec<Hash> = Vec::new();
        for n in 0..700u64 {
            stored.extend(pacta_tlog::stored_hashes_for_leaf_hash(n, leaf(n), &stored).unwrap());
        }
        for first in 0..300u64 {
            let base = pacta_tlog::stored_hash_count(first);
            let fetched: HashMap<u64, Hash> = frontier(first)
                .into_iter()
                .map(|i| (i, stored[i as usize]))
                .collect();
            let batch = (first..first + 1 + first % 37 * 11).map(leaf);
            let new = crate::tree::extend(first, batch, &among(&fetched)).unwrap();
            assert_eq!(new, stored[base as usize..base as usize + new.len()]);
        }
    }
}
