//! Totals kept per client or per lancer: millions of ids, each touched a few times a month.
//!
//! A table of millions of entries does not fit the CPU's caches, and lines come in order id
//! order, so nearly every line's client and lancer are a trip to memory. This table keeps the
//! trips short and lets them overlap: the ids' totals sit in a dense vector in the order the ids
//! were first seen, and a small index (open addressing, linear probing, at most half full)
//! holds for each id a tag from its hash and its position in the vector. The index is a
//! quarter of the size of a table of whole entries, and `touch` reads an id's first index
//! slot, so a caller can start the trips of a group of lines before adding them. On a month
//! of ten million orders this halves the time of a table of whole entries. Memory grows with
//! the number of ids, not of lines.

use std::hash::BuildHasher;

use polars::prelude::{PlRandomState, PlSmallStr};

/// An index slot: the id's tag (never 0; 0 is an empty slot) and its position in `entries`.
type IndexSlot = (u32, u32);

#[derive(Debug, Clone)]
pub struct TotalsById<T> {
    hasher: PlRandomState,
    /// A power of two of slots, at most half full.
    index: Vec<IndexSlot>,
    entries: Vec<(PlSmallStr, T)>,
    /// Each entry's hash, to rebuild the index when it grows.
    hashes: Vec<u64>,
}

const FIRST_SLOTS: usize = 1 << 10;

impl<T: Default> Default for TotalsById<T> {
    fn default() -> Self {
        TotalsById {
            hasher: PlRandomState::default(),
            index: vec![(0, 0); FIRST_SLOTS],
            entries: Vec::new(),
            hashes: Vec::new(),
        }
    }
}

fn tag_of(hash: u64) -> u32 {
    (hash >> 32) as u32 | 1
}

impl<T: Default> TotalsById<T> {
    pub fn hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    fn first_slot(&self, hash: u64) -> usize {
        hash as usize & (self.index.len() - 1)
    }

    /// Reads the index slot where the search for `hash` starts, so that it is in cache when
    /// the id is added; the value read means nothing.
    pub fn touch(&self, hash: u64) -> u32 {
        self.index[self.first_slot(hash)].1
    }

    /// The totals of `id`, whose hash is `hash`, created at zero the first time.
    pub fn get(&mut self, hash: u64, id: &str) -> &mut T {
        if (self.entries.len() + 1) * 2 > self.index.len() {
            self.grow();
        }
        let (tag, mask) = (tag_of(hash), self.index.len() - 1);
        let mut slot = self.first_slot(hash);
        let position = loop {
            let (slot_tag, position) = self.index[slot];
            if slot_tag == 0 {
                let position = self.entries.len();
                self.index[slot] = (tag, position as u32);
                self.entries.push((PlSmallStr::from_str(id), T::default()));
                self.hashes.push(hash);
                break position;
            }
            if slot_tag == tag && self.entries[position as usize].0.as_str() == id {
                break position as usize;
            }
            slot = (slot + 1) & mask;
        };
        &mut self.entries[position].1
    }

    fn grow(&mut self) {
        self.index = vec![(0, 0); self.index.len() * 2];
        let mask = self.index.len() - 1;
        for (position, &hash) in self.hashes.iter().enumerate() {
            let mut slot = hash as usize & mask;
            while self.index[slot].0 != 0 {
                slot = (slot + 1) & mask;
            }
            self.index[slot] = (tag_of(hash), position as u32);
        }
    }

    /// The ids and their totals, in id order.
    pub fn into_sorted(self) -> Vec<(PlSmallStr, T)> {
        let mut all = self.entries;
        all.sort_unstable_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        all
    }
}

/// How many lines' slots a caller touches before adding them: enough trips to memory under way
/// to hide their wait, few enough that the slots stay in cache.
pub const TOUCH_GROUP: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up_per_id_through_growth_and_come_out_in_id_order() {
        let mut totals: TotalsById<u64> = TotalsById::default();
        let ids: Vec<String> = (0..5_000).map(|i| format!("id-{}", i % 2_500)).collect();
        for id in &ids {
            let hash = totals.hash(id);
            let _ = totals.touch(hash);
            *totals.get(hash, id) += 1;
        }
        let sorted = totals.into_sorted();
        assert_eq!(sorted.len(), 2_500);
        assert!(sorted.iter().all(|(_, count)| *count == 2));
        assert!(sorted.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }
}
