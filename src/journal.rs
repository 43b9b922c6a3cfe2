//! A bounded record of recent happenings (dev mode's request and delivery journals): the newest
//! entries are kept, the oldest forgotten once it is full, so it never grows without bound.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// Entries a journal keeps.
pub const KEPT: usize = 1_000;

pub struct Journal<T> {
    inner: Mutex<Inner<T>>,
}

struct Inner<T> {
    next: u64,
    entries: VecDeque<(u64, T)>,
}

/// An entry with its number in the journal (1 for the first ever written).
#[derive(Serialize)]
pub struct Numbered<T> {
    pub seq: u64,
    #[serde(flatten)]
    pub entry: T,
}

impl<T> std::fmt::Debug for Journal<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Journal")
    }
}

impl<T: Clone> Default for Journal<T> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                next: 1,
                entries: VecDeque::new(),
            }),
        }
    }
}

impl<T: Clone> Journal<T> {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn push(&self, entry: T) {
        let mut inner = self.inner();
        let seq = inner.next;
        inner.next += 1;
        if inner.entries.len() == KEPT {
            inner.entries.pop_front();
        }
        inner.entries.push_back((seq, entry));
    }

    /// What is kept, oldest first.
    pub fn entries(&self) -> Vec<Numbered<T>> {
        self.inner()
            .entries
            .iter()
            .map(|(seq, entry)| Numbered {
                seq: *seq,
                entry: entry.clone(),
            })
            .collect()
    }

    pub fn clear(&self) {
        self.inner().entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_entries_are_kept_and_numbered_on() {
        let journal = Journal::default();
        for n in 0..KEPT + 5 {
            journal.push(n);
        }
        let kept = journal.entries();
        assert_eq!(kept.len(), KEPT);
        assert_eq!((kept[0].seq, kept[0].entry), (6, 5));
        journal.clear();
        journal.push(7);
        assert_eq!(journal.entries()[0].seq, KEPT as u64 + 6);
    }
}
