//! Helpers shared by the integration tests: the RFC 9162 definitions
//! written directly (recursive, over the whole leaf list), as a reference
//! independent of the stored-hash layout, and a stored-hash builder.
#![allow(dead_code)]

use pacta_tlog::{Hash, empty_root, leaf_hash, node_hash, stored_hash_count, stored_hashes};

/// The largest power of two strictly below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) of RFC 9162 §2.1.1.
pub fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(mth(&leaves[..k]), mth(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]) of RFC 9162 §2.1.3.1.
pub fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// PROOF(m, D[n]) of RFC 9162 §2.1.4.1, for 0 < m ≤ n.
pub fn consistency(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    subproof(m, leaves, true)
}

fn subproof(m: usize, leaves: &[Hash], whole: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole { Vec::new() } else { vec![mth(leaves)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &leaves[..k], whole);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = subproof(m - k, &leaves[k..], false);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// The stored hashes of a log of these records, appended one by one.
pub fn build<D: AsRef<[u8]>>(records: &[D]) -> Vec<Hash> {
    let mut storage = Vec::new();
    for (n, record) in records.iter().enumerate() {
        let hashes = stored_hashes(n as u64, record.as_ref(), &storage).unwrap();
        storage.extend(hashes);
        assert_eq!(storage.len() as u64, stored_hash_count(n as u64 + 1));
    }
    storage
}

/// The leaf hashes of these records.
pub fn leaf_hashes<D: AsRef<[u8]>>(records: &[D]) -> Vec<Hash> {
    records.iter().map(|r| leaf_hash(r.as_ref())).collect()
}

/// A small deterministic generator (xorshift64*), for reproducible
/// "random" choices without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}
