//! Reading the log past damage: every position of a range, in order, each
//! with its stored value or the reason it has none.
//!
//! sled 0.34 keeps the log's records in leaf pages of a B-tree, written as
//! checksummed messages into its data file (`DATA/log/db`). A page whose
//! message no longer matches its checksum cannot be read: every look-up
//! that needs it answers `Read corrupted data at file offset …`, for the
//! whole key range the page covers, and no other. A range iterator that
//! meets such a page answers the error and, asked again, the same error
//! from the same spot: it never moves past it. So [`Walk`] reads with a
//! range iterator while it can, and after an error looks each position up
//! with `get` (which needs only the pages on the way to that one key)
//! until one reads again; from there it starts a new range iterator. Every
//! position of the range is answered exactly once, so a damaged stretch
//! costs one failed look-up per position in it, and the undamaged rest
//! reads at the iterator's speed.
//!
//! What sled does *before* a look-up is outside this module: a damaged
//! message in the segment that sled's newest snapshot ends in, or a
//! damaged snapshot, makes `sled::open` itself fail (see `open_db` in the
//! crate root for the snapshot case).

use sled::IVec;

use crate::key_position;

/// Why a position of the walked range has no stored value.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Gap {
    /// The log has no entry under this position.
    Absent,
    /// The storage could not read it.
    Unreadable(String),
}

impl Gap {
    /// A sentence naming the position.
    pub(crate) fn describe(&self, position: u64) -> String {
        format!("the record at position {position} {}", self.reason())
    }

    /// What is wrong, without the position.
    pub(crate) fn reason(&self) -> String {
        match self {
            Gap::Absent => "is absent: records were removed".into(),
            Gap::Unreadable(e) => format!("cannot be read: {e}"),
        }
    }
}

/// Every position from `from` to `to`, in order, with its stored value or
/// its [`Gap`]. See the [module docs](self).
pub(crate) struct Walk {
    log: sled::Tree,
    next: u64,
    to: u64,
    iter: Option<sled::Iter>,
    /// A value the iterator found beyond `next` (the positions before it
    /// are absent).
    ahead: Option<(u64, IVec)>,
    /// Looking positions up one by one after a read error.
    probing: bool,
}

impl Walk {
    pub(crate) fn new(log: &sled::Tree, from: u64, to: u64) -> Walk {
        Walk {
            log: log.clone(),
            next: from.max(1),
            to,
            iter: None,
            ahead: None,
            probing: false,
        }
    }

    fn probe(&mut self, position: u64) -> Result<IVec, Gap> {
        match self.log.get(position.to_be_bytes()) {
            Ok(Some(v)) => {
                self.probing = false;
                Ok(v)
            }
            Ok(None) => Err(Gap::Absent),
            Err(e) => Err(Gap::Unreadable(e.to_string())),
        }
    }
}

impl Iterator for Walk {
    type Item = (u64, Result<IVec, Gap>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next > self.to || self.next == 0 {
            return None;
        }
        let p = self.next;
        self.next = p.checked_add(1).unwrap_or(0);
        if self.probing {
            return Some((p, self.probe(p)));
        }
        if let Some((q, v)) = self.ahead.take() {
            if q == p {
                return Some((p, Ok(v)));
            }
            self.ahead = Some((q, v));
            return Some((p, Err(Gap::Absent)));
        }
        let (log, to) = (&self.log, self.to);
        let iter = self
            .iter
            .get_or_insert_with(|| log.range(p.to_be_bytes()..=to.to_be_bytes()));
        match iter.next() {
            None => Some((p, Err(Gap::Absent))),
            Some(Ok((k, v))) => match key_position(&k) {
                Ok(q) if q == p => Some((p, Ok(v))),
                Ok(q) if q > p => {
                    self.ahead = Some((q, v));
                    Some((p, Err(Gap::Absent)))
                }
                // A key out of order or of the wrong length: the page
                // holding it is not what the log wrote.
                _ => {
                    self.iter = None;
                    self.probing = true;
                    Some((p, self.probe(p)))
                }
            },
            Some(Err(_)) => {
                // The iterator would answer this error again and again;
                // look the positions up one by one until one reads.
                self.iter = None;
                self.probing = true;
                Some((p, self.probe(p)))
            }
        }
    }
}
