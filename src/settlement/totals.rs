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

    /// Reads the entry of the first id in `hash`'s probe sequence whose tag matches, if any,
    /// so that it is in cache when the id is added; the value read means nothing. Call it once
    /// `touch` has brought the index slot in, so that only the entry is a trip to memory.
    pub fn touch_entry(&self, hash: u64) -> usize {
        let (tag, mask) = (tag_of(hash), self.index.len() - 1);
        let mut slot = self.first_slot(hash);
        loop {
            let (slot_tag, position) = self.index[slot];
            if slot_tag == 0 {
                return 0;
            }
            if slot_tag == tag {
                return self.entries[position as usize].0.len();
            }
            slot = (slot + 1) & mask;
        }
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

    /// The ids and their totals, in id order, each made into an `R` by `make`.
    ///
    /// The order is found on a copy of each id's first 16 bytes as one number, which orders
    /// ids as their bytes do (a shorter id padded with zeros sorts before any id it begins),
    /// so that only ids sharing those bytes are compared whole.
    pub fn into_sorted<R>(self, mut make: impl FnMut(PlSmallStr, T) -> R) -> Vec<R> {
        let mut order: Vec<(u128, u32)> = self
            .entries
            .iter()
            .enumerate()
            .map(|(position, (id, _))| (prefix(id.as_str()), position as u32))
            .collect();
        order.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                let id = |position: u32| self.entries[position as usize].0.as_str();
                id(a.1).cmp(id(b.1))
            })
        });
        let mut entries: Vec<Option<(PlSmallStr, T)>> =
            self.entries.into_iter().map(Some).collect();
        order
            .into_iter()
            .map(|(_, position)| {
                let (id, totals) = entries[position as usize]
                    .take()
                    .expect("each position appears once");
                make(id, totals)
            })
            .collect()
    }
}

fn prefix(id: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let length = id.len().min(16);
    bytes[..length].copy_from_slice(&id.as_bytes()[..length]);
    u128::from_be_bytes(bytes)
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
        let sorted = totals.into_sorted(|id, count| (id, count));
        assert_eq!(sorted.len(), 2_500);
        assert!(sorted.iter().all(|(_, count)| *count == 2));
        assert!(sorted.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }

    #[test]
    fn ids_sort_as_their_bytes_whatever_their_length() {
        let ids = [
            "b",
            "a",
            "ab",
            "a\u{1}",
            "abcdefghijklmnopq",
            "abcdefghijklmnop",
            "abcdefghijklmnopa",
            "",
            "\u{3042}",
            "aa",
        ];
        let mut totals: TotalsById<u64> = TotalsById::default();
        for id in ids {
            *totals.get(totals.hash(id), id) += 1;
        }
        let sorted = totals.into_sorted(|id, _| id.to_string());
        let mut expected: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        expected.sort();
        assert_eq!(sorted, expected);
    }
}
