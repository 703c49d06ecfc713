//! What tests need to play an insider who alters the store behind the
//! registry's back. Not for anything else.

use crate::{Error, Store};

impl Store {
    /// Rewrites the stored bytes of the record at `position` with
    /// `rewrite` (the bytes are its hash, the previous hash and its
    /// canonical JSON; see the crate docs), as a valid write that bypasses
    /// the writer and the hash chain, then flushes. For tests that show
    /// `verify` naming an altered position.
    #[doc(hidden)]
    pub fn tamper_for_tests(
        &self,
        position: u64,
        rewrite: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), Error> {
        let log = &self.inner.log;
        let key = position.to_be_bytes();
        let mut bytes = log
            .get(key)?
            .ok_or_else(|| Error::Corrupt {
                position,
                reason: "no record to tamper with".into(),
            })?
            .to_vec();
        rewrite(&mut bytes);
        log.insert(key, bytes)?;
        self.inner.shared.recent.clear();
        self.inner.db.flush()?;
        Ok(())
    }
}
