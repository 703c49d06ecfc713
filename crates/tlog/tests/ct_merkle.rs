//! Cross-checks against the `ct-merkle` crate, an independent RFC 6962
//! implementation: roots of every size up to 300, inclusion proofs of every
//! leaf up to size 64 and of random leaves up to 300, consistency proofs of
//! every pair up to 64 and of random pairs up to 300, compared byte for
//! byte and verified both ways; tampered proofs fail.

mod common;

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use pacta_tlog::{Hash, check_record, check_tree, leaf_hash, prove_record, prove_tree, tree_hash};
use sha2::Sha256;
use sha2::digest::Output;

const MAX_SIZE: u64 = 300;
const EXHAUSTIVE_SIZE: u64 = 64;

fn record(i: u64) -> Vec<u8> {
    format!("pacta record {i}").into_bytes()
}

fn digest(hash: &Hash) -> Output<Sha256> {
    hash.0.into()
}

fn concat(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

/// The same log, as ct-merkle trees of every size and as our stored hashes.
struct Logs {
    trees: Vec<MemoryBackedTree<Sha256, Vec<u8>>>,
    storage: Vec<Hash>,
}

fn logs() -> Logs {
    let records: Vec<Vec<u8>> = (0..MAX_SIZE).map(record).collect();
    let storage = common::build(&records);
    let mut tree = MemoryBackedTree::new();
    let mut trees = vec![tree.clone()];
    for r in records {
        tree.push(r);
        trees.push(tree.clone());
    }
    Logs { trees, storage }
}

impl Logs {
    fn ct_root(&self, size: u64) -> RootHash<Sha256> {
        self.trees[size as usize].root()
    }

    fn root(&self, size: u64) -> Hash {
        tree_hash(size, &self.storage).unwrap()
    }

    /// Compares the inclusion proof of leaf `n` in the tree of size `t`
    /// with ct-merkle's, and verifies each with the other implementation.
    fn check_inclusion(&self, t: u64, n: u64) {
        let ours = prove_record(t, n, &self.storage).unwrap();
        let theirs = self.trees[t as usize].prove_inclusion(n as usize);
        assert_eq!(concat(&ours), theirs.as_bytes(), "inclusion of {n} in {t}");

        let ct_root = self.ct_root(t);
        let converted: Vec<Output<Sha256>> = ours.iter().map(digest).collect();
        ct_root
            .verify_inclusion(&record(n), n, &InclusionProof::from_digests(&converted))
            .unwrap();
        let theirs: Vec<Hash> = theirs
            .as_bytes()
            .chunks_exact(32)
            .map(|c| Hash(c.try_into().unwrap()))
            .collect();
        let root = Hash((*ct_root.as_bytes()).into());
        check_record(&theirs, t, root, n, leaf_hash(&record(n))).unwrap();

        // Tampering: a flipped byte, another index, another size. A proof
        // binds the leaf to the root, and the root to its size only
        // through the tree, so another size is checked with that size's
        // own root (a signed checkpoint names both).
        let leaf = leaf_hash(&record(n));
        for i in 0..ours.len() {
            let mut flipped = ours.clone();
            flipped[i].0[i % 32] ^= 0x40;
            assert!(check_record(&flipped, t, root, n, leaf).is_err());
        }
        for other in [n.wrapping_sub(1), n + 1, n ^ 1] {
            if other < t && other != n {
                let result = check_record(&ours, t, root, other, leaf);
                assert!(result.is_err(), "t={t} n={n} other={other}");
            }
        }
        for other in [t - 1, t + 1, t * 2] {
            if other > n && other != t && other <= MAX_SIZE {
                let result = check_record(&ours, other, self.root(other), n, leaf);
                assert!(result.is_err(), "t={t} n={n} size={other}");
            }
        }
    }

    /// Compares the consistency proof from size `n` to size `t` with
    /// ct-merkle's, and verifies each with the other implementation.
    fn check_consistency(&self, t: u64, n: u64) {
        let ours = prove_tree(t, n, &self.storage).unwrap();
        let theirs = self.trees[t as usize].prove_consistency((t - n) as usize);
        assert_eq!(concat(&ours), theirs.as_bytes(), "consistency {n} -> {t}");

        let converted: Vec<Output<Sha256>> = ours.iter().map(digest).collect();
        self.ct_root(t)
            .verify_consistency(
                &self.ct_root(n),
                &ConsistencyProof::from_digests(&converted),
            )
            .unwrap();
        let theirs: Vec<Hash> = theirs
            .as_bytes()
            .chunks_exact(32)
            .map(|c| Hash(c.try_into().unwrap()))
            .collect();
        let (root, old_root) = (self.root(t), self.root(n));
        check_tree(&theirs, t, root, n, old_root).unwrap();

        // Tampering: a flipped byte, other sizes (with their own roots),
        // another old root.
        for i in 0..ours.len() {
            let mut flipped = ours.clone();
            flipped[i].0[31 - i % 32] ^= 0x02;
            assert!(check_tree(&flipped, t, root, n, old_root).is_err());
        }
        for other in [n - 1, n + 1] {
            if other >= 1 && other < t && other != n {
                let result = check_tree(&ours, t, root, other, self.root(other));
                assert!(result.is_err(), "t={t} n={n} old size={other}");
            }
        }
        for other in [t - 1, t + 1] {
            if other > n && other != t && other <= MAX_SIZE {
                let result = check_tree(&ours, other, self.root(other), n, old_root);
                assert!(result.is_err(), "t={t} n={n} size={other}");
            }
        }
        if n > 1 {
            assert!(check_tree(&ours, t, root, n, self.root(n - 1)).is_err());
        }
    }
}

#[test]
fn roots_of_every_size_match() {
    let logs = logs();
    for size in 0..=MAX_SIZE {
        let ours = logs.root(size);
        let theirs = logs.ct_root(size);
        assert_eq!(&ours.0[..], &theirs.as_bytes()[..], "size {size}");
        let leaves = common::leaf_hashes(&(0..size).map(record).collect::<Vec<_>>());
        assert_eq!(common::mth(&leaves), ours);
    }
}

#[test]
fn inclusion_proofs_of_every_leaf_up_to_64() {
    let logs = logs();
    for t in 1..=EXHAUSTIVE_SIZE {
        for n in 0..t {
            logs.check_inclusion(t, n);
        }
    }
}

#[test]
fn inclusion_proofs_of_random_leaves_up_to_300() {
    let logs = logs();
    let mut rng = common::Rng(0x5eed_0001);
    for _ in 0..2000 {
        let t = rng.range(1, MAX_SIZE + 1);
        let n = rng.range(0, t);
        logs.check_inclusion(t, n);
    }
    // The last leaf of every size.
    for t in 1..=MAX_SIZE {
        logs.check_inclusion(t, t - 1);
    }
}

#[test]
fn consistency_proofs_of_every_pair_up_to_64() {
    let logs = logs();
    for t in 1..=EXHAUSTIVE_SIZE {
        for n in 1..t {
            logs.check_consistency(t, n);
        }
    }
}

#[test]
fn consistency_proofs_of_random_pairs_up_to_300() {
    let logs = logs();
    let mut rng = common::Rng(0x5eed_0002);
    for _ in 0..2000 {
        let t = rng.range(2, MAX_SIZE + 1);
        let n = rng.range(1, t);
        logs.check_consistency(t, n);
    }
}
