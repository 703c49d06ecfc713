//! The Merkle tree over the log: built behind the acknowledgement, its
//! roots and proofs those of RFC 9162 over the records' canonical bytes,
//! rebuilt when dropped or missing, and a rewritten record no longer
//! proves against a root taken before.

use std::time::{Duration, Instant};

use pacta_store::{Append, NewEvent, Store};
use pacta_tlog::{Hash, check_record, check_tree, leaf_hash, node_hash};

mod common;

use common::{event_id, letter, stream};

fn fill(store: &Store, from: u64, n: u64) {
    let appends = (from..from + n)
        .map(|i| Append {
            stream: stream((i % 7) as u32),
            expected_version: None,
            events: vec![NewEvent {
                event_id: event_id(i),
                event: letter(&format!("letter {i}")),
                recorded_by: "test".into(),
            }],
        })
        .collect();
    for r in store.append_many_blocking(appends) {
        r.unwrap();
    }
}

/// Waits until the tree covers the head.
fn settled(store: &Store) -> u64 {
    let head = store.head().position;
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.tree_size().unwrap() < head {
        assert!(Instant::now() < deadline, "the tree never caught up");
        std::thread::sleep(Duration::from_millis(5));
    }
    head
}

/// RFC 9162's MTH, straight from its definition.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => pacta_tlog::empty_root(),
        1 => leaves[0],
        n => {
            let k = n.next_power_of_two() / 2;
            node_hash(mth(&leaves[..k]), mth(&leaves[k..]))
        }
    }
}

fn leaves(store: &Store, size: u64) -> Vec<Hash> {
    (1..=size)
        .map(|p| leaf_hash(&store.leaf_bytes(p).unwrap().unwrap()))
        .collect()
}

#[test]
fn the_tree_is_rfc_9162_over_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    fill(&store, 1, 70);
    let size = settled(&store);
    let all = leaves(&store, size);
    // The leaf is the canonical JSON the chain hashes.
    let r = store.get(5).unwrap().unwrap();
    assert_eq!(
        pacta_store::canonical::chain_hash(&r.prev_hash, &store.leaf_bytes(5).unwrap().unwrap()),
        r.hash
    );
    for n in 1..=size {
        let root = store.tree_root(n).unwrap();
        assert_eq!(root, mth(&all[..n as usize]), "size {n}");
        for p in [1, n / 2 + 1, n] {
            let proof = store.prove_inclusion(p, n).unwrap();
            check_record(&proof, n, root, p - 1, all[p as usize - 1]).unwrap();
        }
        for old in [1, n / 3 + 1, n] {
            let proof = store.prove_consistency(old, n).unwrap();
            check_tree(&proof, n, root, old, store.tree_root(old).unwrap()).unwrap();
        }
    }
    assert!(store.tree_root(size + 1).is_err());
    assert!(store.prove_inclusion(0, size).is_err());
    assert!(store.prove_inclusion(size, size - 1).is_err());
}

#[test]
fn the_tree_is_rebuilt_and_goes_on_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let root = {
        let store = Store::open(dir.path()).unwrap();
        fill(&store, 1, 40);
        let size = settled(&store);
        store.tree_root(size).unwrap()
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.tree_root(40).unwrap(), root);
    store.rebuild_indexes(&mut |_, _| {}).unwrap();
    assert_eq!(store.tree_size().unwrap(), 40);
    assert_eq!(store.tree_root(40).unwrap(), root);
    fill(&store, 41, 25);
    let size = settled(&store);
    assert_eq!(store.tree_root(size).unwrap(), mth(&leaves(&store, size)));
    let proof = store.prove_consistency(40, size).unwrap();
    check_tree(&proof, size, store.tree_root(size).unwrap(), 40, root).unwrap();
}

#[test]
fn a_rewritten_record_fails_its_proof_against_an_earlier_root() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    fill(&store, 1, 30);
    let size = settled(&store);
    let root = store.tree_root(size).unwrap();
    let proof = store.prove_inclusion(12, size).unwrap();
    let leaf = leaf_hash(&store.leaf_bytes(12).unwrap().unwrap());
    check_record(&proof, size, root, 11, leaf).unwrap();
    // An insider rewrites a byte of the record's note, as a valid sled
    // write.
    store
        .tamper_for_tests(12, |bytes| {
            let at = bytes.windows(9).position(|w| w == b"letter 12").unwrap();
            bytes[at + 7..at + 9].copy_from_slice(b"99");
        })
        .unwrap();
    let changed = leaf_hash(&store.leaf_bytes(12).unwrap().unwrap());
    assert_ne!(changed, leaf);
    assert!(check_record(&proof, size, root, 11, changed).is_err());
    // The tree built again from the rewritten log has another root, and
    // no consistency proof joins it to the one published before.
    store.rebuild_indexes(&mut |_, _| {}).unwrap();
    let rebuilt = store.tree_root(size).unwrap();
    assert_ne!(rebuilt, root);
    let proof = store.prove_consistency(11, size).unwrap();
    assert!(check_tree(&proof, size, rebuilt, 11, store.tree_root(11).unwrap()).is_ok());
    assert!(check_tree(&proof, size, root, 11, store.tree_root(11).unwrap()).is_err());
}

#[test]
fn a_store_from_before_the_tree_builds_it_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let root = {
        let store = Store::open(dir.path()).unwrap();
        fill(&store, 1, 50);
        let size = settled(&store);
        let root = store.tree_root(size).unwrap();
        store.drop_tree_for_tests().unwrap();
        assert_eq!(store.tree_size().unwrap(), 0);
        root
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.tree_size().unwrap(), 50);
    assert_eq!(store.tree_root(50).unwrap(), root);
}
