//! Walking the hash chain, past damage.
//!
//! The chain is walked position by position with [`Walk`], which answers
//! every position from 1 to the head, readable or not; a position that
//! cannot be read or does not fit is noted and the walk goes on, so one
//! report names the first bad position *and* the extent of the damage.
//! After an unreadable stretch the link into the next readable record
//! cannot be checked (its predecessor is unknown), but each record is
//! still checked against its own stored previous hash and the records
//! after it against it.

use pacta_domain::Digest;

use crate::canonical::chain_hash;
use crate::scan::{Gap, Walk};
use crate::{Error, Head, split_value};

/// The result of recomputing the chain.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct VerifyReport {
    /// True when every record hashes to its stored hash, links to the one
    /// before, and the chain ends at the head.
    pub ok: bool,
    /// The head as the store records it.
    pub head_position: u64,
    /// The head's hash.
    pub head_hash: Digest,
    /// How many records were read and checked.
    pub checked: u64,
    /// The first position whose record cannot be read or does not fit the
    /// chain.
    pub first_bad_position: Option<u64>,
    /// What is wrong there.
    pub reason: Option<String>,
    /// The chain is intact from position 1 through this position: an
    /// export up to it is whole.
    pub intact_to: u64,
    /// The last position whose record could be read.
    pub last_readable_position: u64,
    /// Positions with no readable record (the storage cannot read them, or
    /// they are absent), as inclusive ranges in log order.
    pub unreadable: Vec<(u64, u64)>,
    /// How many positions `unreadable` covers.
    pub unreadable_count: u64,
    /// Positions whose record was read but does not fit the chain (altered,
    /// or not linking to the record before); the first 1000 of them.
    pub mismatched: Vec<u64>,
    /// How many positions do not fit the chain.
    pub mismatched_count: u64,
}

/// How many mismatched positions a report lists (it counts them all).
const MAX_LISTED: usize = 1000;

/// The result of checking a digest against the log.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct DigestCheck {
    /// True when the log extends the digest and the chain verifies.
    pub ok: bool,
    /// The digest checked.
    pub digest: Head,
    /// The hash now stored at the digest's position, if there is a record
    /// there.
    pub stored_hash: Option<Digest>,
    /// What differs, if anything.
    pub reason: Option<String>,
    /// The chain check from position 1 to the head.
    pub chain: VerifyReport,
}

/// How often progress is reported, in records.
const PROGRESS_EVERY: u64 = 16_384;

/// What a walk over part of the chain found.
#[derive(Default)]
struct Findings {
    checked: u64,
    first_bad: Option<(u64, String)>,
    intact_to: u64,
    last_readable: Option<(u64, Digest)>,
    unreadable: Vec<(u64, u64)>,
    unreadable_count: u64,
    mismatched: Vec<u64>,
    mismatched_count: u64,
}

impl Findings {
    fn bad(&mut self, position: u64, reason: impl FnOnce() -> String) {
        if self.first_bad.is_none() {
            self.first_bad = Some((position, reason()));
        }
    }

    fn gap(&mut self, position: u64, gap: &Gap) {
        self.bad(position, || gap.describe(position));
        self.unreadable_count += 1;
        match self.unreadable.last_mut() {
            Some((_, end)) if *end + 1 == position => *end = position,
            _ => self.unreadable.push((position, position)),
        }
    }

    fn mismatch(&mut self, position: u64, reason: impl FnOnce() -> String) {
        self.bad(position, reason);
        self.mismatched_count += 1;
        if self.mismatched.len() < MAX_LISTED {
            self.mismatched.push(position);
        }
    }
}

/// Walks the chain from `from` to `head`. The record before `from` is
/// not read: the link into `from` is checked only when `from` is 1. With
/// a `tree`, each record the tree covers must also hash to the leaf the
/// tree holds for it.
fn walk(
    log: &sled::Tree,
    tree: Option<&crate::tree::Tree>,
    from: u64,
    head: Head,
    progress: &mut dyn FnMut(u64, u64),
) -> Findings {
    let leaves = tree.map_or(0, |t| t.leaves().unwrap_or(0));
    let mut found = Findings {
        intact_to: from.saturating_sub(1),
        ..Findings::default()
    };
    // The hash of the record before, when it was read.
    let mut prev = (from <= 1).then_some(Digest::ZERO);
    for (position, slot) in Walk::new(log, from, head.position) {
        if position % PROGRESS_EVERY == 0 {
            progress(position, head.position);
        }
        let value = match slot {
            Ok(v) => v,
            Err(gap) => {
                found.gap(position, &gap);
                prev = None;
                continue;
            }
        };
        found.checked += 1;
        let (hash, stored_prev, json) = match split_value(position, &value) {
            Ok(parts) => parts,
            Err(e) => {
                found.mismatch(position, || e.to_string());
                prev = None;
                continue;
            }
        };
        found.last_readable = Some((position, hash));
        let mut fits = true;
        if let Some(prev) = prev
            && stored_prev != prev
        {
            found.mismatch(position, || {
                format!("its prev_hash {stored_prev} is not the hash {prev} of the record before")
            });
            fits = false;
        }
        let computed = chain_hash(&stored_prev, json);
        if fits && computed != hash {
            found.mismatch(position, || {
                format!(
                    "its bytes hash to {computed}, but its stored hash is {hash}: it was altered"
                )
            });
            fits = false;
        }
        if fits
            && position <= leaves
            && let Some(tree) = tree
        {
            let leaf = pacta_tlog::leaf_hash(json);
            match tree.leaf(position - 1) {
                Ok(held) if held == leaf => {}
                Ok(held) => {
                    found.mismatch(position, || {
                        format!(
                            "its bytes hash to the leaf {}, but the Merkle tree holds {} for it: \
                             the record or the tree was rewritten",
                            leaf.to_base64(),
                            held.to_base64()
                        )
                    });
                    fits = false;
                }
                Err(e) => {
                    found.mismatch(position, || format!("its Merkle tree leaf: {e}"));
                    fits = false;
                }
            }
        }
        if fits && found.first_bad.is_none() {
            found.intact_to = position;
        }
        // The next record must link to the hash stored here, whether or
        // not this one's bytes fit it.
        prev = Some(hash);
    }
    if found.first_bad.is_none() && head.position > 0 && prev != Some(head.hash) {
        found.mismatch(head.position, || {
            format!(
                "the head is position {} with hash {}, but the log's record there has hash {}",
                head.position,
                head.hash,
                prev.map_or_else(|| "none".into(), |p| p.to_string())
            )
        });
    }
    found
}

pub(crate) fn verify(
    log: &sled::Tree,
    tree: Option<&crate::tree::Tree>,
    head: Head,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, Error> {
    progress(0, head.position);
    let found = walk(log, tree, 1, head, progress);
    progress(head.position, head.position);
    Ok(VerifyReport {
        ok: found.first_bad.is_none(),
        head_position: head.position,
        head_hash: head.hash,
        checked: found.checked,
        intact_to: found.intact_to,
        last_readable_position: found.last_readable.map_or(0, |l| l.0),
        unreadable: found.unreadable,
        unreadable_count: found.unreadable_count,
        mismatched: found.mismatched,
        mismatched_count: found.mismatched_count,
        first_bad_position: found.first_bad.as_ref().map(|b| b.0),
        reason: found.first_bad.map(|b| b.1),
    })
}

/// Checks the last `n` records up to the head: each readable, hashing to
/// its stored hash and linking to the one before. The first position that
/// does not, and why.
pub(crate) fn check_tail(log: &sled::Tree, head: Head, n: u64) -> Option<(u64, String)> {
    let from = head.position.saturating_sub(n).max(1);
    walk(log, None, from, head, &mut |_, _| {}).first_bad
}

pub(crate) fn verify_digest(
    log: &sled::Tree,
    tree: Option<&crate::tree::Tree>,
    head: Head,
    digest: Head,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DigestCheck, Error> {
    let chain = verify(log, tree, head, progress)?;
    let stored = if digest.position == 0 {
        Ok(Some(Digest::ZERO))
    } else {
        match log.get(digest.position.to_be_bytes()) {
            Ok(Some(v)) => split_value(digest.position, &v).map(|v| Some(v.0)),
            Ok(None) => Ok(None),
            Err(e) => Err(Error::from(e)),
        }
    };
    Ok(digest_check(digest, head.position, stored, chain))
}

/// What a digest check finds, given the hash stored at the digest's
/// position (`None`: no record there) and the chain's report; both
/// backends judge alike.
pub(crate) fn digest_check(
    digest: Head,
    head_position: u64,
    stored: Result<Option<Digest>, Error>,
    chain: VerifyReport,
) -> DigestCheck {
    let reason = match &stored {
        Err(e) => Some(format!(
            "the record at the digest's position {} cannot be read: {e}",
            digest.position
        )),
        Ok(None) => Some(format!(
            "the log has no record at the digest's position {} (it ends at {head_position}): records were removed",
            digest.position
        )),
        Ok(Some(h)) if *h != digest.hash => Some(format!(
            "the record at position {} now has hash {h}, the digest says {}: the log was rewritten",
            digest.position, digest.hash
        )),
        Ok(Some(_)) if !chain.ok => Some(format!(
            "the chain is broken at position {}: {}",
            chain.first_bad_position.unwrap_or(0),
            chain.reason.as_deref().unwrap_or("")
        )),
        Ok(Some(_)) => None,
    };
    DigestCheck {
        ok: reason.is_none(),
        digest,
        stored_hash: stored.ok().flatten(),
        reason,
        chain,
    }
}
