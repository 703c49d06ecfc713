//! Answers computed lately, kept ready: a report asked again at the same
//! head is served from here instead of being computed again.
//!
//! Entries are keyed by the whole question and the log's head, so a new
//! record makes every older entry unreachable (it ages out); nothing is
//! ever served for a head it was not computed at. The cache holds at most a
//! number of bytes; the oldest entries leave first.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::body::Bytes;
use pacta_domain::{Slug, Timestamp};

/// A report's question at a head.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ReportKey {
    /// The year.
    pub year: i32,
    /// One home party, or all.
    pub party: Option<Slug>,
    /// The record time asked about.
    pub as_known_at: Option<Timestamp>,
    /// Whether a presumed `yes` reads uncertain.
    pub strict: bool,
    /// The head it was computed at.
    pub head: u64,
    /// JSON, the printable page or plain text.
    pub form: crate::routes::DocForm,
    /// The page's language.
    pub lang: pacta_documents::Lang,
}

/// Answers kept by key, within a byte budget.
pub struct Recent<K> {
    budget: usize,
    entries: Mutex<VecDeque<(K, Bytes)>>,
}

impl<K: PartialEq> Recent<K> {
    /// An empty cache holding at most `budget` bytes.
    pub fn new(budget: usize) -> Recent<K> {
        Recent {
            budget,
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// The answer kept for `key`.
    pub fn get(&self, key: &K) -> Option<Bytes> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// Keeps an answer, dropping the oldest to stay within the budget. An
    /// answer larger than a quarter of the budget is not kept.
    pub fn put(&self, key: K, value: Bytes) {
        if value.len() > self.budget / 4 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(k, _)| *k != key);
        entries.push_back((key, value));
        let mut size: usize = entries.iter().map(|(_, v)| v.len()).sum();
        while size > self.budget {
            match entries.pop_front() {
                Some((_, v)) => size -= v.len(),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_within_the_budget_oldest_out_first() {
        let cache = Recent::new(100);
        cache.put(1, Bytes::from(vec![0; 20]));
        cache.put(2, Bytes::from(vec![0; 20]));
        cache.put(3, Bytes::from(vec![0; 20]));
        cache.put(4, Bytes::from(vec![0; 20]));
        cache.put(5, Bytes::from(vec![0; 25]));
        assert!(cache.get(&1).is_none(), "the oldest left");
        assert_eq!(cache.get(&5).unwrap().len(), 25);
        assert!(cache.get(&2).is_some());
        // Too large to keep.
        cache.put(6, Bytes::from(vec![0; 26]));
        assert!(cache.get(&6).is_none());
        // A key put again is replaced, not doubled.
        cache.put(2, Bytes::from(vec![1; 10]));
        assert_eq!(cache.get(&2).unwrap()[0], 1);
    }
}
