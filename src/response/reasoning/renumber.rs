//! Positions removed from a list that a stream builds up item by item
//! (Anthropic content blocks by `index`, Responses output items by
//! `output_index`), and the position every kept item has once they are
//! gone: an SDK that appends `content_block_start` blocks to a list and
//! then addresses `content_block_delta` by `index` must see the indexes it
//! would have seen had the removed items never been sent.

/// Most removed positions remembered for one stream. A stream with more
/// removed items than this still has them removed (they are recognised by
/// their type), but from there on later items keep their original
/// positions minus this many, so the SDK may see a gap: a bound on memory
/// for streams no real answer comes near (each remembered position is 8
/// bytes, 32 KiB in all).
pub const MAX_REMOVED: usize = 4096;

/// Removed positions, ascending as streams send them (an out-of-order
/// one is inserted in place).
#[derive(Clone, Debug, Default)]
pub struct Renumber {
    removed: Vec<u64>,
}

impl Renumber {
    /// Notes that the item at `index` is removed.
    pub fn remove(&mut self, index: u64) {
        if let Err(at) = self.removed.binary_search(&index) {
            if self.removed.len() < MAX_REMOVED {
                self.removed.insert(at, index);
            }
        }
    }

    pub fn is_removed(&self, index: u64) -> bool {
        self.removed.binary_search(&index).is_ok()
    }

    /// The position of a kept item once the removed ones before it are gone.
    pub fn position(&self, index: u64) -> u64 {
        let before = self.removed.partition_point(|&r| r < index);
        index.saturating_sub(before as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn kept_items_close_the_gaps_left_by_removed_ones() {
        let mut r = Renumber::default();
        r.remove(0);
        r.remove(2);
        assert!(r.is_removed(0) && r.is_removed(2) && !r.is_removed(1));
        assert_eq!(r.position(1), 0);
        assert_eq!(r.position(3), 1);
        assert_eq!(r.position(7), 5);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn out_of_order_and_repeated_removals_count_once() {
        let mut r = Renumber::default();
        r.remove(5);
        r.remove(1);
        r.remove(5);
        assert_eq!(r.position(6), 4);
        assert_eq!(r.position(3), 2);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn memory_is_bounded() {
        let mut r = Renumber::default();
        for i in 0..(MAX_REMOVED as u64 + 100) {
            r.remove(i * 2);
        }
        assert_eq!(r.removed.len(), MAX_REMOVED);
    }
}
