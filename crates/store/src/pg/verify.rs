//! Walking the hash chain in PostgreSQL, as `crate::verify` walks sled's:
//! every position from the first to the head is answered, a missing one
//! as unreadable, and the walk goes on past anything wrong so one report
//! names the first bad position and the extent. Besides the chain, each
//! row's `position`, `event_id`, `stream` and `version` columns must say
//! what its bytes say (reads by stream and by id go by the columns), and
//! no record may lie above the head.
//!
//! A walk reads in one `REPEATABLE READ` snapshot, so the head and the
//! records it checks are one consistent state however the writer goes on.

use pacta_domain::{Digest, EventId, StreamId};
use tokio_postgres::{IsolationLevel, Transaction};

use super::{Columns, Db, Stated, digest, disagreement, from_sql_int, read_head, sql_int};
use crate::canonical::chain_hash;
use crate::{DigestCheck, Error, Head, VerifyReport};

/// How many records one query reads.
const PAGE: i64 = 1024;

/// How many mismatched positions a report lists (it counts them all).
const MAX_LISTED: usize = 1000;

/// How often progress is reported, in records.
const PROGRESS_EVERY: u64 = 16_384;

/// What a walk over part of the chain found.
#[derive(Default)]
struct Findings {
    checked: u64,
    first_bad: Option<(u64, String)>,
    intact_to: u64,
    last_readable: u64,
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

    /// Positions `from..=to` have no record.
    fn missing(&mut self, from: u64, to: u64) {
        self.bad(from, || {
            format!("the record is absent (positions {from} to {to} are missing)")
        });
        self.unreadable_count += to - from + 1;
        match self.unreadable.last_mut() {
            Some((_, end)) if *end + 1 == from => *end = to,
            _ => self.unreadable.push((from, to)),
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

/// What a record's bytes say about its place, read without decoding its
/// event.
#[derive(serde::Deserialize)]
struct Place {
    position: u64,
    event_id: EventId,
    stream: StreamId,
    version: u64,
}

/// Walks the chain from `from` to `head` in `tx`. The record before `from`
/// is not read: the link into `from` is checked only when `from` is 1.
async fn walk(
    tx: &Transaction<'_>,
    from: u64,
    head: Head,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Findings, Error> {
    let mut found = Findings {
        intact_to: from.saturating_sub(1),
        ..Findings::default()
    };
    let page = tx
        .prepare(
            "SELECT position, event_id, stream, version, hash, prev_hash, record FROM log \
             WHERE position >= $1 AND position <= $2 ORDER BY position LIMIT $3",
        )
        .await
        .db()?;
    // The Merkle tree's leaves, in the same snapshot: each record it
    // covers must hash to its leaf.
    let leaves: i64 = tx
        .query_one("SELECT leaves FROM tlog_size", &[])
        .await
        .db()?
        .try_get(0)
        .db()?;
    let leaves = u64::try_from(leaves).unwrap_or(0);
    let leaf_page = tx
        .prepare("SELECT idx, hash FROM tlog_hashes WHERE idx = ANY($1)")
        .await
        .db()?;
    // The hash of the record before, when it was read.
    let mut prev = (from <= 1).then_some(Digest::ZERO);
    let mut next = from.max(1);
    while next <= head.position {
        let rows = tx
            .query(&page, &[&sql_int(next), &sql_int(head.position), &PAGE])
            .await
            .db()?;
        let wanted: Vec<i64> = (next..next + PAGE as u64)
            .filter(|p| *p <= leaves)
            .map(|p| sql_int(pacta_tlog::stored_hash_index(0, p - 1)))
            .collect();
        let mut held = std::collections::HashMap::new();
        if !wanted.is_empty() {
            for row in tx.query(&leaf_page, &[&wanted]).await.db()? {
                let idx: i64 = row.try_get(0).db()?;
                let hash: Vec<u8> = row.try_get(1).db()?;
                held.insert(idx, hash);
            }
        }
        if rows.is_empty() {
            found.missing(next, head.position);
            prev = None;
            break;
        }
        for row in rows {
            let position = from_sql_int(next, row.try_get(0).db()?)?;
            if position > next {
                found.missing(next, position - 1);
                prev = None;
            }
            next = position + 1;
            if position % PROGRESS_EVERY == 0 {
                progress(position, head.position);
            }
            found.checked += 1;
            let hashes = digest(position, row.try_get(4).db()?)
                .and_then(|h| Ok((h, digest(position, row.try_get(5).db()?)?)));
            let (hash, stored_prev) = match hashes {
                Ok(hashes) => hashes,
                Err(e) => {
                    found.mismatch(position, || e.to_string());
                    prev = None;
                    continue;
                }
            };
            found.last_readable = position;
            let record: &[u8] = row.try_get(6).db()?;
            let mut fits = true;
            if let Some(prev) = prev
                && stored_prev != prev
            {
                found.mismatch(position, || {
                    format!(
                        "its prev_hash {stored_prev} is not the hash {prev} of the record before"
                    )
                });
                fits = false;
            }
            let computed = chain_hash(&stored_prev, record);
            if fits && computed != hash {
                found.mismatch(position, || {
                    format!(
                        "its bytes hash to {computed}, but its stored hash is {hash}: it was altered"
                    )
                });
                fits = false;
            }
            if fits {
                let event_id: &[u8] = row.try_get(1).db()?;
                let stream: &str = row.try_get(2).db()?;
                let version = from_sql_int(position, row.try_get(3).db()?)?;
                let wrong = match serde_json::from_slice::<Place>(record) {
                    Err(e) => Some(format!("its bytes do not decode: {e}")),
                    Ok(p) => disagreement(
                        Stated {
                            position: p.position,
                            event_id: p.event_id,
                            stream: &p.stream,
                            version: p.version,
                        },
                        Columns {
                            position,
                            event_id,
                            stream,
                            version,
                        },
                    ),
                };
                if let Some(reason) = wrong {
                    found.mismatch(position, || reason);
                    fits = false;
                }
            }
            if fits && position <= leaves {
                let leaf = pacta_tlog::leaf_hash(record);
                let index = sql_int(pacta_tlog::stored_hash_index(0, position - 1));
                match held.get(&index) {
                    Some(h) if h.as_slice() == leaf.0.as_slice() => {}
                    Some(_) => {
                        found.mismatch(position, || {
                            format!(
                                "its bytes hash to the leaf {}, but the Merkle tree holds another \
                                 for it: the record or the tree was rewritten",
                                leaf.to_base64()
                            )
                        });
                        fits = false;
                    }
                    None => {
                        found.mismatch(position, || {
                            "the Merkle tree covers it but holds no leaf for it".to_owned()
                        });
                        fits = false;
                    }
                }
            }
            if fits && found.first_bad.is_none() {
                found.intact_to = position;
            }
            // The next record must link to the hash stored here, whether
            // or not this one's bytes fit it.
            prev = Some(hash);
        }
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
    let above: Option<i64> = tx
        .query_one(
            "SELECT min(position) FROM log WHERE position > $1",
            &[&sql_int(head.position)],
        )
        .await
        .db()?
        .try_get(0)
        .db()?;
    if let Some(above) = above {
        let above = from_sql_int(head.position, above)?;
        found.mismatch(above, || {
            format!(
                "a record lies at position {above}, above the head at {}",
                head.position
            )
        });
    }
    Ok(found)
}

async fn snapshot(client: &mut tokio_postgres::Client) -> Result<Transaction<'_>, Error> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .db()
}

/// Recomputes the chain from position 1 to the committed head.
pub(super) async fn verify(
    client: &mut tokio_postgres::Client,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<VerifyReport, Error> {
    let tx = snapshot(client).await?;
    let report = chain(&tx, progress).await?;
    tx.commit().await.db()?;
    Ok(report)
}

/// Checks that the log still extends a digest taken earlier, as
/// `crate::verify::verify_digest` does for sled: the record at the
/// digest's position still has the digest's hash, and the whole chain up
/// to the committed head verifies. Both are read in one snapshot.
pub(super) async fn verify_digest(
    client: &mut tokio_postgres::Client,
    digest_taken: Head,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<DigestCheck, Error> {
    let tx = snapshot(client).await?;
    let chain = chain(&tx, progress).await?;
    let stored = if digest_taken.position == 0 {
        Ok(Some(Digest::ZERO))
    } else {
        let row = tx
            .query_opt(
                "SELECT hash FROM log WHERE position = $1",
                &[&sql_int(digest_taken.position)],
            )
            .await
            .db()?;
        match row {
            None => Ok(None),
            Some(row) => digest(digest_taken.position, row.try_get(0).db()?).map(Some),
        }
    };
    tx.commit().await.db()?;
    let head_position = chain.head_position;
    Ok(crate::verify::digest_check(
        digest_taken,
        head_position,
        stored,
        chain,
    ))
}

/// The chain from position 1 to the head `tx` sees, as a report.
async fn chain(
    tx: &Transaction<'_>,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<VerifyReport, Error> {
    let head = read_head(tx).await?;
    progress(0, head.position);
    let found = walk(tx, 1, head, progress).await?;
    progress(head.position, head.position);
    Ok(VerifyReport {
        ok: found.first_bad.is_none(),
        head_position: head.position,
        head_hash: head.hash,
        checked: found.checked,
        intact_to: found.intact_to,
        last_readable_position: found.last_readable,
        unreadable: found.unreadable,
        unreadable_count: found.unreadable_count,
        mismatched: found.mismatched,
        mismatched_count: found.mismatched_count,
        first_bad_position: found.first_bad.as_ref().map(|b| b.0),
        reason: found.first_bad.map(|b| b.1),
    })
}

/// Checks the last `n` records up to `head`: each present, hashing to its
/// stored hash, linking to the one before, with nothing above the head.
/// The first position that does not, and why.
pub(super) async fn check_tail(
    client: &mut tokio_postgres::Client,
    head: Head,
    n: u64,
) -> Result<Option<(u64, String)>, Error> {
    let tx = snapshot(client).await?;
    let from = head.position.saturating_sub(n).max(1);
    let found = walk(&tx, from, head, &mut |_, _| {}).await?;
    tx.commit().await.db()?;
    Ok(found.first_bad)
}
