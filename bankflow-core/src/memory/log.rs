//! Append-only logs in fixed segments, and per-key chains through them.

use super::*;

/// An append-only sequence stored in fixed-size segments. The store's logs (events,
/// journals, postings) only grow; in one `Vec` every doubling copies the whole log (and
/// touches twice its memory), which dominated the transfer path once the log held a few
/// hundred thousand rows. Segments never move their elements.
#[derive(Debug)]
pub(super) struct Chunked<T> {
    pub(super) chunks: Vec<Vec<T>>,
    pub(super) len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

/// Removes `id` from an index whose newest entry it usually is (undo runs newest first).
pub(super) fn remove_last<T: PartialEq>(v: &mut Vec<T>, id: T) {
    if v.last() == Some(&id) {
        v.pop();
    } else {
        v.retain(|x| *x != id);
    }
}

impl<T> Chunked<T> {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn push(&mut self, v: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK_LEN => c.push(v),
            _ => {
                let mut c = Vec::with_capacity(CHUNK_LEN);
                c.push(v);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    pub(super) fn pop(&mut self) -> Option<T> {
        let last = self.chunks.last_mut()?;
        let v = last.pop();
        if last.is_empty() {
            self.chunks.pop();
        }
        if v.is_some() {
            self.len -= 1;
        }
        v
    }

    pub(super) fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK_LEN)?.get(i % CHUNK_LEN)
    }

    pub(super) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks.get_mut(i / CHUNK_LEN)?.get_mut(i % CHUNK_LEN)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;
    // `Index` panics out of range, like `Vec`'s; callers index only positions they stored.
    #[allow(clippy::expect_used)]
    fn index(&self, i: usize) -> &T {
        self.get(i).expect("index within the log")
    }
}

impl<T> std::ops::IndexMut<usize> for Chunked<T> {
    #[allow(clippy::expect_used)]
    fn index_mut(&mut self, i: usize) -> &mut T {
        self.get_mut(i).expect("index within the log")
    }
}

/// No row index: a link value meaning "none" (indexes are positions in a [`Chunked`] log).
pub(super) const NO_ROW: usize = usize::MAX;

/// Per-key chains through an append-only log: the map holds each key's newest row, and each
/// row holds its key's previous row (or [`NO_ROW`]). A new key costs one map entry, no list.
#[derive(Debug)]
pub(super) struct Chains<K>(IdMap<K, usize>);

impl<K> Default for Chains<K> {
    fn default() -> Self {
        Chains(IdMap::default())
    }
}

impl<K: std::hash::Hash + Eq + Copy> Chains<K> {
    /// Makes `row` the newest of `key`; returns the row's link to store (the previous newest).
    pub(super) fn link(&mut self, key: K, row: usize) -> usize {
        self.0.insert(key, row).unwrap_or(NO_ROW)
    }

    /// Undoes the newest [`Chains::link`] of `key`, given the link it returned.
    pub(super) fn unlink(&mut self, key: K, prev: usize) {
        if prev == NO_ROW {
            self.0.remove(&key);
        } else {
            self.0.insert(key, prev);
        }
    }

    /// The rows of `key`, oldest first; `prev_of` reads a row's link.
    pub(super) fn rows(&self, key: K, prev_of: impl Fn(usize) -> usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut i = self.0.get(&key).copied().unwrap_or(NO_ROW);
        while i != NO_ROW {
            out.push(i);
            i = prev_of(i);
        }
        out.reverse();
        out
    }
}

#[cfg(test)]
mod chunked_tests {
    use super::{Chunked, CHUNK_LEN};

    #[test]
    fn chunked_log_indexes_pops_and_iterates_across_segments() {
        let mut c = Chunked::default();
        let n = CHUNK_LEN * 2 + 3;
        for i in 0..n {
            c.push(i);
        }
        assert_eq!(c.len(), n);
        assert_eq!(c[CHUNK_LEN], CHUNK_LEN);
        assert_eq!(c.get(n), None);
        assert!(c.iter().copied().eq(0..n));
        // Pop back over a segment boundary, then grow again: indexes stay dense.
        for i in (CHUNK_LEN - 1..n).rev() {
            assert_eq!(c.pop(), Some(i));
        }
        assert_eq!(c.len(), CHUNK_LEN - 1);
        c.push(7);
        c.push(8);
        assert_eq!(c[CHUNK_LEN - 1], 7);
        assert_eq!(c[CHUNK_LEN], 8);
        c[0] += 1;
        assert_eq!(c[0], 1);
        while c.pop().is_some() {}
        assert_eq!(c.len(), 0);
        assert_eq!(c.iter().count(), 0);
    }
}
