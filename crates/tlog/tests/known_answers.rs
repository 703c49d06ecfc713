//! The Certificate Transparency known answers for the standard eight-leaf
//! input (RFC 6962 test data, as in CT's `merkle_tree_test` and
//! transparency-dev/merkle's `proof/verify_test.go`): roots of every size,
//! and inclusion and consistency proofs, with the tampered variants those
//! tests reject.

mod common;

use pacta_tlog::{
    Error, Hash, check_record, check_tree, empty_root, leaf_hash, prove_record, prove_tree,
    tree_hash,
};

const LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

/// Roots of the trees of sizes 0 to 8.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, audit path).
const INCLUSION: [(u64, u64, &[&str]); 5] = [
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, consistency proof).
const CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn h(hex: &str) -> Hash {
    Hash::from_hex(hex).unwrap()
}

fn hashes(hexes: &[&str]) -> Vec<Hash> {
    hexes.iter().map(|x| h(x)).collect()
}

fn root(size: u64) -> Hash {
    h(ROOTS[size as usize])
}

#[test]
fn roots_of_every_size() {
    let storage = common::build(&LEAVES);
    assert_eq!(empty_root(), root(0));
    for size in 0..=8u64 {
        assert_eq!(
            tree_hash(size, &storage).unwrap(),
            root(size),
            "size {size}"
        );
        let leaves = common::leaf_hashes(&LEAVES[..size as usize]);
        assert_eq!(common::mth(&leaves), root(size), "reference, size {size}");
    }
}

#[test]
fn inclusion_proofs_and_their_tampered_variants() {
    let storage = common::build(&LEAVES);
    let some_hash = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (index, size, expected) in INCLUSION {
        let expected = hashes(expected);
        assert_eq!(prove_record(size, index, &storage).unwrap(), expected);
        let leaf = leaf_hash(LEAVES[index as usize]);
        let root = root(size);
        check_record(&expected, size, root, index, leaf).unwrap();

        let fails = |proof: &[Hash], size: u64, root: Hash, index: u64, leaf: Hash| {
            check_record(proof, size, root, index, leaf).is_err()
        };
        assert!(
            fails(&expected, size, root, index.wrapping_sub(1), leaf),
            "index - 1"
        );
        assert!(fails(&expected, size, root, index + 1, leaf), "index + 1");
        assert!(fails(&expected, size, root, index ^ 2, leaf), "index ^ 2");
        assert!(fails(&expected, size * 2, root, index, leaf), "size * 2");
        assert!(fails(&expected, size / 2, root, index, leaf), "size / 2");
        assert!(
            fails(&expected, size, root, index, leaf_hash(b"WrongLeaf")),
            "wrong leaf"
        );
        assert!(
            fails(&expected, size, empty_root(), index, leaf),
            "empty root"
        );
        assert!(
            fails(&expected, size, some_hash, index, leaf),
            "random root"
        );
        let mut longer = expected.clone();
        longer.push(root);
        assert!(fails(&longer, size, root, index, leaf), "trailing root");
        let mut longer = vec![root];
        longer.extend(&expected);
        assert!(fails(&longer, size, root, index, leaf), "preceding root");
        for i in 0..expected.len() {
            let mut flipped = expected.clone();
            flipped[i].0[0] ^= 8;
            assert!(
                fails(&flipped, size, root, index, leaf),
                "flipped proof[{i}]"
            );
        }
        if let Some((_, shorter)) = expected.split_last() {
            assert!(fails(shorter, size, root, index, leaf), "removed hash");
        }
        if expected.len() > 1 {
            let mut inserted = vec![expected[0], some_hash];
            inserted.extend(&expected[1..]);
            assert!(fails(&inserted, size, root, index, leaf), "inserted hash");
        }
    }
}

#[test]
fn consistency_proofs_and_their_tampered_variants() {
    let storage = common::build(&LEAVES);
    for (old, new, expected) in CONSISTENCY {
        let expected = hashes(expected);
        assert_eq!(prove_tree(new, old, &storage).unwrap(), expected);
        let (old_root, new_root) = (root(old), root(new));
        check_tree(&expected, new, new_root, old, old_root).unwrap();
        if expected.is_empty() {
            // Equal sizes: only equal roots are consistent.
            assert!(check_tree(&[], new, new_root, old, empty_root()).is_err());
            continue;
        }

        let fails = |proof: &[Hash], new: u64, new_root: Hash, old: u64, old_root: Hash| {
            check_tree(proof, new, new_root, old, old_root).is_err()
        };
        assert!(
            fails(&expected, new, new_root, old - 1, old_root),
            "old - 1"
        );
        assert!(
            fails(&expected, new, new_root, old + 1, old_root),
            "old + 1"
        );
        assert!(
            fails(&expected, new, new_root, old ^ 2, old_root),
            "old ^ 2"
        );
        assert!(
            fails(&expected, new * 2, new_root, old, old_root),
            "new * 2"
        );
        assert!(
            fails(&expected, new / 2, new_root, old, old_root),
            "new / 2"
        );
        assert!(
            fails(&expected, new, new_root, old, leaf_hash(b"WrongRoot")),
            "wrong old root"
        );
        assert!(
            fails(&expected, new, leaf_hash(b"WrongRoot"), old, old_root),
            "wrong new root"
        );
        assert!(
            fails(&expected, new, old_root, old, new_root),
            "swapped roots"
        );
        assert!(fails(&[], new, new_root, old, old_root), "empty proof");
        for extra in [old_root, new_root] {
            let mut longer = expected.clone();
            longer.push(extra);
            assert!(
                fails(&longer, new, new_root, old, old_root),
                "trailing root"
            );
            let mut longer = vec![extra];
            longer.extend(&expected);
            assert!(
                fails(&longer, new, new_root, old, old_root),
                "preceding root"
            );
        }
        let mut longer = vec![expected[0]];
        longer.extend(&expected);
        assert!(
            fails(&longer, new, new_root, old, old_root),
            "preceding proof[0]"
        );
        assert!(
            fails(
                &expected[..expected.len() - 1],
                new,
                new_root,
                old,
                old_root
            ),
            "truncated proof"
        );
        for i in 0..expected.len() {
            let mut flipped = expected.clone();
            flipped[i].0[0] ^= 16;
            assert!(
                fails(&flipped, new, new_root, old, old_root),
                "flipped proof[{i}]"
            );
        }
    }
}

#[test]
fn every_proof_of_the_eight_leaves_matches_the_rfc_definitions() {
    let storage = common::build(&LEAVES);
    let leaves = common::leaf_hashes(&LEAVES);
    for t in 1..=8usize {
        for n in 0..t {
            let proof = prove_record(t as u64, n as u64, &storage).unwrap();
            assert_eq!(proof, common::path(n, &leaves[..t]), "PATH({n}, D[{t}])");
        }
        for m in 1..=t {
            let proof = prove_tree(t as u64, m as u64, &storage).unwrap();
            assert_eq!(
                proof,
                common::consistency(m, &leaves[..t]),
                "PROOF({m}, D[{t}])"
            );
        }
    }
}

#[test]
fn tampered_proofs_report_proof_failed() {
    let storage = common::build(&LEAVES);
    let proof = prove_record(8, 3, &storage).unwrap();
    let mut bad = proof.clone();
    bad[1].0[31] ^= 1;
    assert!(matches!(
        check_record(&bad, 8, root(8), 3, leaf_hash(LEAVES[3])),
        Err(Error::ProofFailed)
    ));
}
