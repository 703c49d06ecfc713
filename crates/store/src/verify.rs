//! Walking the hash chain.

use pacta_domain::Digest;

use crate::canonical::chain_hash;
use crate::{Error, Head, key_position, split_value};

/// The result of recomputing the chain.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize)]
pub struct VerifyReport {
    /// True when every record hashes to its stored hash, links to the one
    /// before, and the chain ends at the head.
    pub ok: bool,
    /// The head as the store records it.
    pub head_position: u64,
    /// The head's hash.
    pub head_hash: Digest,
    /// How many records were checked.
    pub checked: u64,
    /// The first position whose record does not fit the chain.
    pub first_bad_position: Option<u64>,
    /// What is wrong there.
    pub reason: Option<String>,
}

/// The result of checking a digest against the log.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize)]
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

pub(crate) fn verify(
    log: &sled::Tree,
    head: Head,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, Error> {
    let total = head.position;
    let mut prev = Digest::ZERO;
    let mut expected = 1u64;
    let mut bad: Option<(u64, String)> = None;
    progress(0, total);
    for item in log.range(..=head.position.to_be_bytes()) {
        let (k, v) = item?;
        let position = key_position(&k)?;
        if position != expected {
            bad = Some((
                expected,
                format!("the log jumps from position {} to {position}", expected - 1),
            ));
            break;
        }
        let (hash, stored_prev, json) = split_value(position, &v)?;
        if stored_prev != prev {
            bad = Some((
                position,
                format!("its prev_hash {stored_prev} is not the hash {prev} of the record before"),
            ));
            break;
        }
        let computed = chain_hash(&prev, json);
        if computed != hash {
            bad = Some((
                position,
                format!(
                    "its bytes hash to {computed}, but its stored hash is {hash}: it was altered"
                ),
            ));
            break;
        }
        prev = hash;
        expected += 1;
        if position % PROGRESS_EVERY == 0 {
            progress(position, total);
        }
    }
    let last = expected - 1;
    if bad.is_none() && (last != head.position || prev != head.hash) {
        bad = Some((
            (last + 1).min(head.position).max(1),
            format!(
                "the head is position {} with hash {}, but the log ends at {last} with hash {prev}: \
                 records were removed",
                head.position, head.hash
            ),
        ));
    }
    progress(last, total);
    Ok(VerifyReport {
        ok: bad.is_none(),
        head_position: head.position,
        head_hash: head.hash,
        checked: last,
        first_bad_position: bad.as_ref().map(|b| b.0),
        reason: bad.map(|b| b.1),
    })
}

pub(crate) fn verify_digest(
    log: &sled::Tree,
    head: Head,
    digest: Head,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DigestCheck, Error> {
    let chain = verify(log, head, progress)?;
    let stored_hash = if digest.position == 0 {
        Some(Digest::ZERO)
    } else {
        match log.get(digest.position.to_be_bytes())? {
            Some(v) => Some(split_value(digest.position, &v)?.0),
            None => None,
        }
    };
    let reason = match stored_hash {
        None => Some(format!(
            "the log has no record at the digest's position {} (it ends at {}): records were removed",
            digest.position, head.position
        )),
        Some(h) if h != digest.hash => Some(format!(
            "the record at position {} now has hash {h}, the digest says {}: the log was rewritten",
            digest.position, digest.hash
        )),
        Some(_) if !chain.ok => Some(format!(
            "the chain is broken at position {}: {}",
            chain.first_bad_position.unwrap_or(0),
            chain.reason.as_deref().unwrap_or("")
        )),
        Some(_) => None,
    };
    Ok(DigestCheck {
        ok: reason.is_none(),
        digest,
        stored_hash,
        reason,
        chain,
    })
}
