//! The Merkle tree kept as stored hashes, and its inclusion and
//! consistency proofs.
//!
//! # Stored hashes
//!
//! A tree that only grows at its right edge can be kept as an append-only
//! list of hashes, the layout of section 3.3 of Crosby and Wallach,
//! ["Efficient Data Structures for Tamper-Evident Logging"](https://www.usenix.org/legacy/event/sec09/tech/full_papers/crosby.pdf),
//! as used by Go's [`golang.org/x/mod/sumdb/tlog`](https://pkg.go.dev/golang.org/x/mod/sumdb/tlog).
//! Node `(level, n)` is the root of the complete subtree over leaves
//! `n·2^level .. (n+1)·2^level`; level 0 holds the leaf hashes. Appending
//! leaf `n` stores its leaf hash and then the hash of every subtree that
//! leaf completes, lowest first ([`stored_hashes`]):
//!
//! ```text
//! stored index   0      1      2      3      4      5      6      7
//! node         (0,0)  (0,1)  (1,0)  (0,2)  (0,3)  (1,1)  (2,0)  (0,4)  …
//! appended by  leaf 0 leaf 1        leaf 2 leaf 3               leaf 4
//! ```
//!
//! So an append writes one hash plus one per trailing one bit of `n`: two
//! on average, at most `1 + log₂ n`, and it reads at most `log₂ n` earlier
//! hashes. A tree of `n` leaves keeps `2n − popcount(n)` hashes
//! ([`stored_hash_count`]). [`stored_hash_index`] and
//! [`split_stored_hash_index`] map between `(level, n)` and the index.
//!
//! Any tree hash, of the whole tree ([`tree_hash`]) or of a subtree, is
//! computed from at most `log₂ n` stored hashes of complete subtrees,
//! which a [`HashReader`] supplies.
//!
//! # Proofs
//!
//! [`prove_record`] and [`check_record`] are the inclusion proof (audit
//! path) of [RFC 9162 §2.1.3](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.3)
//! (`PATH(m, D[n])` of [RFC 6962 §2.1.1](https://www.rfc-editor.org/rfc/rfc6962.html#section-2.1.1)):
//! the sibling hashes from the leaf up to the root's child. [`prove_tree`]
//! and [`check_tree`] are the consistency proof of
//! [RFC 9162 §2.1.4](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.4)
//! (`PROOF(m, D[n])` of [RFC 6962 §2.1.2](https://www.rfc-editor.org/rfc/rfc6962.html#section-2.1.2)).
//! Both are byte for byte the proofs of Certificate Transparency logs, of
//! Go's `sumdb/tlog` and of the C2SP tlog specifications.
//!
//! The functions that read stored hashes accept trees of up to
//! [`MAX_TREE_SIZE`] leaves, so that every stored hash index fits in a
//! `u64`. The checking functions accept any sizes, and never panic on
//! untrusted proofs.

use crate::Error;
use crate::hash::{Hash, empty_root, leaf_hash, node_hash};

/// The largest tree (in leaves) that the stored-hash functions accept:
/// 2^62. Every stored hash index of such a tree fits in a `u64`.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// Reads stored hashes by their stored hash index (see
/// [`stored_hash_index`]).
///
/// It is implemented for `[Hash]` and `Vec<Hash>` holding every stored
/// hash at its index, which suits tests and trees kept in memory; a log
/// keeps its stored hashes in its own storage and implements this trait
/// over it.
pub trait HashReader {
    /// Returns the hashes at `indexes`, in the same order: exactly one hash
    /// per index, or an error. The functions of this crate ask for indexes
    /// in increasing order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error>;
}

impl HashReader for [Hash] {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| self.get(i))
                    .copied()
                    .ok_or(Error::MissingHash(index))
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        self.as_slice().read_hashes(indexes)
    }
}

impl<R: HashReader + ?Sized> HashReader for &R {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        (**self).read_hashes(indexes)
    }
}

/// The stored hash index of the leaf hash of leaf `m`: every earlier leaf
/// `k` stored `1 + trailing_zeros(k + 1)` hashes, which sums to
/// `2m − popcount(m)`.
fn leaf_index(m: u64) -> Option<u64> {
    m.checked_mul(2)
        .map(|twice| twice - u64::from(m.count_ones()))
}

fn checked_stored_hash_index(level: u8, n: u64) -> Option<u64> {
    // The node is stored right after the leaf that completes it, the last
    // leaf below it, and after the `level - 1` nodes below it that this
    // leaf also completes.
    let width = 1u64.checked_shl(u32::from(level))?;
    let last_leaf = n.checked_add(1)?.checked_mul(width)? - 1;
    leaf_index(last_leaf)?.checked_add(u64::from(level))
}

/// The stored hash index of node `(level, n)`: the root of the complete
/// subtree over leaves `n·2^level .. (n+1)·2^level`.
///
/// # Panics
///
/// If the index does not fit in a `u64`, which happens only for nodes
/// beyond a tree of [`MAX_TREE_SIZE`] leaves.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    checked_stored_hash_index(level, n).expect("stored hash index overflows u64")
}

/// The node `(level, n)` stored at `index`: the inverse of
/// [`stored_hash_index`].
pub fn split_stored_hash_index(index: u64) -> (u8, u64) {
    // Find the last leaf stored at or before `index`. The leaf hash of
    // leaf n sits at 2n − popcount(n) ≤ 2n, so that leaf is at least
    // index / 2, and at most log₂ index leaves later.
    let mut n = index / 2;
    let mut index_n = leaf_index(n).expect("n is below 2^63");
    loop {
        // Leaf n adds its own hash and one per subtree it completes.
        let added = 1 + u64::from((n + 1).trailing_zeros());
        match index_n.checked_add(added) {
            Some(next) if next <= index => {
                n += 1;
                index_n = next;
            }
            _ => break,
        }
    }
    // The hash was stored with leaf n: it is one of (0, n), (1, n/2), ….
    let level = u8::try_from(index - index_n).expect("a leaf completes at most 63 subtrees");
    (level, n >> level)
}

/// The number of stored hashes of a tree with `n` leaves: `2n −
/// popcount(n)`, which is also the stored hash index of leaf `n`'s hash.
///
/// # Panics
///
/// If `n` is above 2^63, when the count does not fit in a `u64`.
pub fn stored_hash_count(n: u64) -> u64 {
    leaf_index(n).expect("stored hash count overflows u64")
}

/// Reads hashes and checks that the reader returned one per index.
fn read<R: HashReader + ?Sized>(reader: &R, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(Error::HashCount {
            want: indexes.len(),
            got: hashes.len(),
        });
    }
    Ok(hashes)
}

/// The hashes to store when leaf `n` (0-based) with the given data is
/// appended, starting at stored hash index [`stored_hash_count`]`(n)`: the
/// leaf hash, then the hash of every subtree the leaf completes, lowest
/// first. It reads the hashes of the left siblings of those subtrees, all
/// stored by earlier appends.
pub fn stored_hashes<R: HashReader + ?Sized>(
    n: u64,
    leaf_data: &[u8],
    reader: &R,
) -> Result<Vec<Hash>, Error> {
    stored_hashes_for_leaf_hash(n, leaf_hash(leaf_data), reader)
}

/// Like [`stored_hashes`], given the leaf hash instead of the leaf data.
pub fn stored_hashes_for_leaf_hash<R: HashReader + ?Sized>(
    n: u64,
    leaf: Hash,
    reader: &R,
) -> Result<Vec<Hash>, Error> {
    if n >= MAX_TREE_SIZE {
        return Err(Error::InvalidArguments("tree would exceed MAX_TREE_SIZE"));
    }
    // Each trailing one bit of n completes a subtree, whose left half is
    // the node (level, (n >> level) - 1). Ask for them in increasing
    // stored order, which is the highest level first.
    let completed = u8::try_from((n + 1).trailing_zeros()).expect("at most 64");
    let indexes: Vec<u64> = (0..completed)
        .rev()
        .map(|level| stored_hash_index(level, (n >> level) - 1))
        .collect();
    let siblings = read(reader, &indexes)?;

    let mut hashes = Vec::with_capacity(1 + siblings.len());
    hashes.push(leaf);
    let mut hash = leaf;
    for sibling in siblings.iter().rev() {
        hash = node_hash(*sibling, hash);
        hashes.push(hash);
    }
    Ok(hashes)
}

/// The largest power of two strictly below `n`, for `n ≥ 2`: the size of
/// the left subtree of a node over `n` leaves (RFC 9162 §2.1.1).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The largest power of two at most `n`, for `n ≥ 1`, and its log₂.
fn largest_pow2(n: u64) -> (u64, u8) {
    debug_assert!(n >= 1);
    let level = 63 - n.leading_zeros();
    (1 << level, level as u8)
}

/// Appends the stored hash indexes of the complete subtrees that make up
/// leaves `lo..hi`, largest (leftmost) first.
fn subtree_indexes(mut lo: u64, hi: u64, need: &mut Vec<u64>) {
    while lo < hi {
        let (width, level) = largest_pow2(hi - lo);
        debug_assert_eq!(lo & (width - 1), 0, "subtree not aligned");
        need.push(stored_hash_index(level, lo >> level));
        lo += width;
    }
}

/// Hashes read from storage, consumed in the order their indexes were
/// listed.
struct Cursor<'a>(&'a [Hash]);

impl<'a> Cursor<'a> {
    fn take(&mut self, count: usize) -> &'a [Hash] {
        let (taken, rest) = self.0.split_at(count);
        self.0 = rest;
        taken
    }
}

/// The hash of leaves `lo..hi` from the hashes listed by
/// [`subtree_indexes`]: the complete subtrees joined from the right.
fn subtree_hash(lo: u64, hi: u64, hashes: &mut Cursor<'_>) -> Hash {
    let count = (hi - lo).count_ones() as usize;
    let parts = hashes.take(count);
    let (last, rest) = parts.split_last().expect("a non-empty range");
    rest.iter()
        .rev()
        .fold(*last, |right, left| node_hash(*left, right))
}

/// The root hash of the tree of the first `n` leaves, from at most
/// `1 + log₂ n` stored hashes; [`empty_root`] for `n = 0`.
pub fn tree_hash<R: HashReader + ?Sized>(n: u64, reader: &R) -> Result<Hash, Error> {
    if n == 0 {
        return Ok(empty_root());
    }
    if n > MAX_TREE_SIZE {
        return Err(Error::InvalidArguments("tree exceeds MAX_TREE_SIZE"));
    }
    let mut indexes = Vec::new();
    subtree_indexes(0, n, &mut indexes);
    let hashes = read(reader, &indexes)?;
    Ok(subtree_hash(0, n, &mut Cursor(&hashes)))
}

/// The inclusion proof of leaf `n` in the tree of the first `t` leaves:
/// the RFC 9162 audit path, sibling hashes from the leaf's sibling up to
/// the root's child. Empty for `t = 1`.
pub fn prove_record<R: HashReader + ?Sized>(
    t: u64,
    n: u64,
    reader: &R,
) -> Result<Vec<Hash>, Error> {
    if n >= t {
        return Err(Error::InvalidArguments(
            "leaf index not below the tree size",
        ));
    }
    if t > MAX_TREE_SIZE {
        return Err(Error::InvalidArguments("tree exceeds MAX_TREE_SIZE"));
    }
    let mut indexes = Vec::new();
    leaf_proof_indexes(0, t, n, &mut indexes);
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = read(reader, &indexes)?;
    let mut cursor = Cursor(&hashes);
    let proof = leaf_proof(0, t, n, &mut cursor);
    debug_assert!(cursor.0.is_empty());
    Ok(proof)
}

/// Lists the stored hashes [`leaf_proof`] consumes, in its order.
fn leaf_proof_indexes(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if lo + 1 == hi {
        return;
    }
    let k = split_point(hi - lo);
    if n < lo + k {
        leaf_proof_indexes(lo, lo + k, n, need);
        subtree_indexes(lo + k, hi, need);
    } else {
        subtree_indexes(lo, lo + k, need);
        leaf_proof_indexes(lo + k, hi, n, need);
    }
}

/// The audit path of leaf `n` in the subtree over leaves `lo..hi`.
fn leaf_proof(lo: u64, hi: u64, n: u64, hashes: &mut Cursor<'_>) -> Vec<Hash> {
    if lo + 1 == hi {
        // The verifier has the leaf hash itself.
        return Vec::new();
    }
    // Walk down towards the leaf, keeping the hash of the side not taken.
    let k = split_point(hi - lo);
    if n < lo + k {
        let mut path = leaf_proof(lo, lo + k, n, hashes);
        path.push(subtree_hash(lo + k, hi, hashes));
        path
    } else {
        let left = subtree_hash(lo, lo + k, hashes);
        let mut path = leaf_proof(lo + k, hi, n, hashes);
        path.push(left);
        path
    }
}

/// Checks that `proof` is the inclusion proof of a leaf with hash `leaf`
/// at index `n` in the tree of `t` leaves with root hash `root`.
///
/// The proof ties the leaf to `root`; `t` must be the size that comes
/// with `root` (from the same signed checkpoint), since a proof can fit
/// several sizes with the same root.
pub fn check_record(proof: &[Hash], t: u64, root: Hash, n: u64, leaf: Hash) -> Result<(), Error> {
    if n >= t {
        return Err(Error::InvalidArguments(
            "leaf index not below the tree size",
        ));
    }
    if run_record_proof(proof, 0, t, n, leaf)? == root {
        Ok(())
    } else {
        Err(Error::ProofFailed)
    }
}

/// The root of the subtree over leaves `lo..hi` that `proof` implies for
/// leaf `n` with hash `leaf`. The proof's last hash is this subtree's
/// top sibling; the hashes before it belong to the subtrees below.
fn run_record_proof(proof: &[Hash], lo: u64, hi: u64, n: u64, leaf: Hash) -> Result<Hash, Error> {
    if lo + 1 == hi {
        // Reached the leaf: the proof must be used up exactly.
        return if proof.is_empty() {
            Ok(leaf)
        } else {
            Err(Error::ProofFailed)
        };
    }
    let (sibling, below) = proof.split_last().ok_or(Error::ProofFailed)?;
    let k = split_point(hi - lo);
    if n < lo + k {
        let left = run_record_proof(below, lo, lo + k, n, leaf)?;
        Ok(node_hash(left, *sibling))
    } else {
        let right = run_record_proof(below, lo + k, hi, n, leaf)?;
        Ok(node_hash(*sibling, right))
    }
}

/// The consistency proof that the tree of the first `t` leaves extends
/// the tree of the first `n` leaves, for `1 ≤ n ≤ t`: the RFC 9162
/// consistency proof, empty for `n = t`. (The empty tree is a prefix of
/// every tree and needs no proof.)
pub fn prove_tree<R: HashReader + ?Sized>(t: u64, n: u64, reader: &R) -> Result<Vec<Hash>, Error> {
    if n == 0 || n > t {
        return Err(Error::InvalidArguments(
            "consistency needs 1 ≤ old size ≤ new size",
        ));
    }
    if t > MAX_TREE_SIZE {
        return Err(Error::InvalidArguments("tree exceeds MAX_TREE_SIZE"));
    }
    let mut indexes = Vec::new();
    tree_proof_indexes(0, t, n, &mut indexes);
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = read(reader, &indexes)?;
    let mut cursor = Cursor(&hashes);
    let proof = tree_proof(0, t, n, &mut cursor);
    debug_assert!(cursor.0.is_empty());
    Ok(proof)
}

/// Lists the stored hashes [`tree_proof`] consumes, in its order.
fn tree_proof_indexes(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if n == hi {
        if lo != 0 {
            subtree_indexes(lo, hi, need);
        }
        return;
    }
    let k = split_point(hi - lo);
    if n <= lo + k {
        tree_proof_indexes(lo, lo + k, n, need);
        subtree_indexes(lo + k, hi, need);
    } else {
        subtree_indexes(lo, lo + k, need);
        tree_proof_indexes(lo + k, hi, n, need);
    }
}

/// The part of the consistency proof for the old size `n` that concerns
/// the subtree over leaves `lo..hi` of the new tree (`lo < n ≤ hi`).
fn tree_proof(lo: u64, hi: u64, n: u64, hashes: &mut Cursor<'_>) -> Vec<Hash> {
    if n == hi {
        // This subtree is whole in the old tree. If it is the old tree
        // itself, the verifier knows its hash already.
        return if lo == 0 {
            Vec::new()
        } else {
            vec![subtree_hash(lo, hi, hashes)]
        };
    }
    let k = split_point(hi - lo);
    if n <= lo + k {
        let mut proof = tree_proof(lo, lo + k, n, hashes);
        proof.push(subtree_hash(lo + k, hi, hashes));
        proof
    } else {
        let left = subtree_hash(lo, lo + k, hashes);
        let mut proof = tree_proof(lo + k, hi, n, hashes);
        proof.push(left);
        proof
    }
}

/// Checks that `proof` is the consistency proof that the tree of `t`
/// leaves with root hash `root` extends the tree of `n` leaves with root
/// hash `old_root`, for `1 ≤ n ≤ t`. As with [`check_record`], each size
/// must be the one that comes with its root.
pub fn check_tree(proof: &[Hash], t: u64, root: Hash, n: u64, old_root: Hash) -> Result<(), Error> {
    if n == 0 || n > t {
        return Err(Error::InvalidArguments(
            "consistency needs 1 ≤ old size ≤ new size",
        ));
    }
    let (old, new) = run_tree_proof(proof, 0, t, n, old_root)?;
    if old == old_root && new == root {
        Ok(())
    } else {
        Err(Error::ProofFailed)
    }
}

/// The hashes of the subtree over leaves `lo..hi` in the old tree (cut at
/// `n`) and in the new tree that `proof` implies.
fn run_tree_proof(
    proof: &[Hash],
    lo: u64,
    hi: u64,
    n: u64,
    old_root: Hash,
) -> Result<(Hash, Hash), Error> {
    if n == hi {
        if lo == 0 {
            // The subtree is the old tree, whose hash the verifier has.
            return if proof.is_empty() {
                Ok((old_root, old_root))
            } else {
                Err(Error::ProofFailed)
            };
        }
        return match proof {
            [hash] => Ok((*hash, *hash)),
            _ => Err(Error::ProofFailed),
        };
    }
    let (sibling, below) = proof.split_last().ok_or(Error::ProofFailed)?;
    let k = split_point(hi - lo);
    if n <= lo + k {
        // The old tree ends in the left half; the right half is new.
        let (old, new) = run_tree_proof(below, lo, lo + k, n, old_root)?;
        Ok((old, node_hash(new, *sibling)))
    } else {
        // The left half is complete in both trees.
        let (old, new) = run_tree_proof(below, lo + k, hi, n, old_root)?;
        Ok((node_hash(*sibling, old), node_hash(*sibling, new)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's definition: the index of the last leaf hash plus the subtrees
    /// that leaf completes.
    fn go_stored_hash_count(n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut count = stored_hash_index(0, n - 1) + 1;
        let mut i = n - 1;
        while i & 1 != 0 {
            count += 1;
            i >>= 1;
        }
        count
    }

    /// Go's loop form of the stored hash index.
    fn go_stored_hash_index(level: u8, mut n: u64) -> u64 {
        for _ in 0..level {
            n = 2 * n + 1;
        }
        let mut i = 0;
        while n > 0 {
            i += n;
            n >>= 1;
        }
        i + u64::from(level)
    }

    #[test]
    fn layout_of_the_first_hashes() {
        let expected = [
            (0, 0),
            (0, 1),
            (1, 0),
            (0, 2),
            (0, 3),
            (1, 1),
            (2, 0),
            (0, 4),
        ];
        for (index, &(level, n)) in expected.iter().enumerate() {
            assert_eq!(stored_hash_index(level, n), index as u64);
            assert_eq!(split_stored_hash_index(index as u64), (level, n));
        }
    }

    #[test]
    fn stored_hash_index_matches_go_and_splits_back() {
        for level in 0..10u8 {
            for n in 0..2000u64 {
                let index = stored_hash_index(level, n);
                assert_eq!(index, go_stored_hash_index(level, n));
                assert_eq!(split_stored_hash_index(index), (level, n));
            }
        }
        for index in 0..20_000u64 {
            let (level, n) = split_stored_hash_index(index);
            assert_eq!(stored_hash_index(level, n), index);
        }
    }

    #[test]
    fn stored_hash_index_at_the_limits() {
        // The last node of a tree of MAX_TREE_SIZE leaves is its root.
        let root = stored_hash_index(62, 0);
        assert_eq!(root, stored_hash_count(MAX_TREE_SIZE) - 1);
        assert_eq!(split_stored_hash_index(root), (62, 0));
        assert_eq!(split_stored_hash_index(u64::MAX).0, 0);
        let (level, n) = split_stored_hash_index(u64::MAX - 1);
        assert_eq!(stored_hash_index(level, n), u64::MAX - 1);
        assert!(checked_stored_hash_index(63, 1).is_none());
        assert!(checked_stored_hash_index(64, 0).is_none());
        assert!(checked_stored_hash_index(0, u64::MAX).is_none());
    }

    #[test]
    fn stored_hash_count_matches_go() {
        for n in 0..5000 {
            assert_eq!(stored_hash_count(n), go_stored_hash_count(n), "n = {n}");
        }
    }

    #[test]
    fn split_point_and_largest_pow2() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(u64::MAX), 1 << 63);
        assert_eq!(split_point(1 << 63), 1 << 62);
        assert_eq!(largest_pow2(1), (1, 0));
        assert_eq!(largest_pow2(7), (4, 2));
        assert_eq!(largest_pow2(8), (8, 3));
        assert_eq!(largest_pow2(u64::MAX), (1 << 63, 63));
    }

    fn build(n: u64) -> Vec<Hash> {
        let mut storage = Vec::new();
        for i in 0..n {
            let hashes = stored_hashes(i, &i.to_be_bytes(), &storage).unwrap();
            storage.extend(hashes);
        }
        storage
    }

    #[test]
    fn short_or_missing_storage_is_an_error() {
        let storage = build(5);
        assert!(matches!(tree_hash(8, &storage), Err(Error::MissingHash(_))));
        assert!(matches!(
            stored_hashes(7, b"x", &storage),
            Err(Error::MissingHash(_))
        ));

        struct Short;
        impl HashReader for Short {
            fn read_hashes(&self, _: &[u64]) -> Result<Vec<Hash>, Error> {
                Ok(Vec::new())
            }
        }
        assert!(matches!(
            tree_hash(5, &Short),
            Err(Error::HashCount { want: 2, got: 0 })
        ));
        assert!(matches!(
            prove_record(5, 0, &Short),
            Err(Error::HashCount { .. })
        ));
        assert!(matches!(
            prove_tree(5, 3, &Short),
            Err(Error::HashCount { .. })
        ));
    }

    #[test]
    fn invalid_arguments() {
        let storage = build(4);
        assert!(matches!(
            prove_record(4, 4, &storage),
            Err(Error::InvalidArguments(_))
        ));
        assert!(matches!(
            prove_record(0, 0, &storage),
            Err(Error::InvalidArguments(_))
        ));
        assert!(matches!(
            prove_tree(4, 0, &storage),
            Err(Error::InvalidArguments(_))
        ));
        assert!(matches!(
            prove_tree(3, 4, &storage),
            Err(Error::InvalidArguments(_))
        ));
        let root = tree_hash(4, &storage).unwrap();
        let leaf = leaf_hash(&0u64.to_be_bytes());
        assert!(matches!(
            check_record(&[], 4, root, 4, leaf),
            Err(Error::InvalidArguments(_))
        ));
        assert!(matches!(
            check_tree(&[], 4, root, 0, root),
            Err(Error::InvalidArguments(_))
        ));
        assert!(matches!(
            check_tree(&[], 3, root, 4, root),
            Err(Error::InvalidArguments(_))
        ));
        assert!(matches!(
            tree_hash(MAX_TREE_SIZE + 1, &storage),
            Err(Error::InvalidArguments(_))
        ));
        assert!(matches!(
            stored_hashes(MAX_TREE_SIZE, b"", &storage),
            Err(Error::InvalidArguments(_))
        ));
    }

    #[test]
    fn checks_survive_huge_untrusted_sizes() {
        let h = leaf_hash(b"x");
        for t in [u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) + 1] {
            let proof = vec![h; 64];
            assert!(check_record(&proof, t, h, t - 1, h).is_err());
            assert!(check_record(&proof, t, h, 0, h).is_err());
            assert!(check_record(&[], t, h, t / 2, h).is_err());
            assert!(check_tree(&proof, t, h, t - 1, h).is_err());
            assert!(check_tree(&proof, t, h, 1, h).is_err());
            assert!(
                check_tree(&[], t, h, t, h).is_ok(),
                "equal trees need no proof"
            );
        }
    }

    #[test]
    fn equal_sizes_need_an_empty_proof_and_equal_roots() {
        let storage = build(6);
        let root = tree_hash(6, &storage).unwrap();
        assert_eq!(prove_tree(6, 6, &storage).unwrap(), Vec::<Hash>::new());
        check_tree(&[], 6, root, 6, root).unwrap();
        assert!(check_tree(&[root], 6, root, 6, root).is_err());
        assert!(check_tree(&[], 6, root, 6, empty_root()).is_err());
    }
}
