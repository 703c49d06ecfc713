//! Property tests: stored hashes appended one leaf at a time give the
//! same roots and proofs as the RFC 9162 definitions computed directly
//! over the whole leaf list.

mod common;

use pacta_tlog::{
    Hash, HashReader, leaf_hash, prove_record, prove_tree, split_stored_hash_index,
    stored_hash_count, stored_hash_index, stored_hashes, stored_hashes_for_leaf_hash, tree_hash,
};
use proptest::prelude::*;

fn records() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 0..160)
}

proptest! {
    #[test]
    fn incremental_roots_match_the_recursive_root(records in records()) {
        let leaves = common::leaf_hashes(&records);
        let mut storage: Vec<Hash> = Vec::new();
        prop_assert_eq!(tree_hash(0, &storage).unwrap(), common::mth(&[]));
        for (n, record) in records.iter().enumerate() {
            let hashes = stored_hashes(n as u64, record, &storage).unwrap();
            prop_assert_eq!(hashes[0], leaf_hash(record));
            prop_assert_eq!(storage.len() as u64, stored_hash_index(0, n as u64));
            storage.extend(hashes);
            prop_assert_eq!(storage.len() as u64, stored_hash_count(n as u64 + 1));
            let size = n as u64 + 1;
            prop_assert_eq!(tree_hash(size, &storage).unwrap(), common::mth(&leaves[..=n]));
        }
        // Every stored hash is the hash of the subtree its index names.
        for (index, hash) in storage.iter().enumerate() {
            let (level, n) = split_stored_hash_index(index as u64);
            let lo = (n << level) as usize;
            let hi = ((n + 1) << level) as usize;
            prop_assert_eq!(*hash, common::mth(&leaves[lo..hi]));
        }
    }

    #[test]
    fn proofs_match_the_rfc_definitions(
        records in records().prop_filter("non-empty", |r| !r.is_empty()),
        picks in prop::collection::vec((any::<u64>(), any::<u64>()), 1..16),
    ) {
        let leaves = common::leaf_hashes(&records);
        let storage = common::build(&records);
        for (a, b) in picks {
            let t = 1 + a % leaves.len() as u64;
            let n = b % t;
            prop_assert_eq!(
                prove_record(t, n, &storage).unwrap(),
                common::path(n as usize, &leaves[..t as usize])
            );
            let m = 1 + b % t;
            prop_assert_eq!(
                prove_tree(t, m, &storage).unwrap(),
                common::consistency(m as usize, &leaves[..t as usize])
            );
        }
    }

    #[test]
    fn leaf_hash_variant_agrees(records in records()) {
        let mut by_data: Vec<Hash> = Vec::new();
        let mut by_hash: Vec<Hash> = Vec::new();
        for (n, record) in records.iter().enumerate() {
            by_data.extend(stored_hashes(n as u64, record, &by_data).unwrap());
            let hashes = stored_hashes_for_leaf_hash(n as u64, leaf_hash(record), &by_hash);
            by_hash.extend(hashes.unwrap());
        }
        prop_assert_eq!(by_data, by_hash);
    }
}

/// A reader over storage kept elsewhere (here, a map), as a log would
/// implement it.
#[test]
fn a_custom_reader_works() {
    use std::collections::BTreeMap;
    struct Map(BTreeMap<u64, Hash>);
    impl HashReader for Map {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, pacta_tlog::Error> {
            indexes
                .iter()
                .map(|i| {
                    self.0
                        .get(i)
                        .copied()
                        .ok_or(pacta_tlog::Error::MissingHash(*i))
                })
                .collect()
        }
    }
    let mut map = Map(BTreeMap::new());
    for n in 0..100u64 {
        let start = stored_hash_count(n);
        for (i, h) in stored_hashes(n, &n.to_le_bytes(), &map)
            .unwrap()
            .into_iter()
            .enumerate()
        {
            map.0.insert(start + i as u64, h);
        }
    }
    let records: Vec<[u8; 8]> = (0..100u64).map(u64::to_le_bytes).collect();
    let storage = common::build(&records);
    assert_eq!(
        tree_hash(100, &map).unwrap(),
        tree_hash(100, &storage).unwrap()
    );
    assert_eq!(
        prove_record(100, 37, &map).unwrap(),
        prove_record(100, 37, &storage).unwrap()
    );
    assert_eq!(
        prove_tree(100, 37, &map).unwrap(),
        prove_tree(100, 37, &storage).unwrap()
    );
}
