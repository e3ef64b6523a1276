//! Stable sorts without std's: an insertion sort for the few-element
//! slices the request path sorts (a decision's reasons, a Gemini key's
//! query values), and a merge sort for the JSON tree's object members,
//! whose number the body's writer chooses.
//!
//! std's stable sort itself sorts by insertion up to 20 elements, so the
//! small case does the same work; these exist so the module links no
//! instantiation of std's sorts (~3-4.5 KB each, issue 8: module size).
//! Callers of [`insertion_sort_by`] bound their slices: it is quadratic.

/// Sorts `v` so that no element is `is_less` than the one before it; equal
/// elements keep their order (as `slice::sort_by` with the same order).
pub fn insertion_sort_by<T>(v: &mut [T], is_less: impl Fn(&T, &T) -> bool) {
    for i in 1..v.len() {
        for j in (1..=i).rev() {
            let (Some(before), Some(at)) = (v.get(j - 1), v.get(j)) else {
                break;
            };
            if !is_less(at, before) {
                break;
            }
            v.swap(j - 1, j);
        }
    }
}

/// Up to this many elements [`merge_sort_by`] sorts by insertion (std's
/// stable sort does the same below 21).
const SMALL: usize = 20;

/// Sorts `v` stably by `is_less`, as `slice::sort_by` does, in O(n log n):
/// for slices an attacker sizes (a request body's object with thousands of
/// members). Bottom-up merge sort of the element indices (runs of
/// [`SMALL`] sorted by insertion, then merged pairwise, the left run first
/// on ties), then the elements moved once into that order. Written here so
/// the module links no instantiation of std's stable sort (~4.5 KB:
/// quicksort, drift, the small sorts; issue 8: module size).
pub fn merge_sort_by<T>(v: &mut Vec<T>, is_less: impl Fn(&T, &T) -> bool) {
    if v.len() <= SMALL {
        insertion_sort_by(v, is_less);
        return;
    }
    let less = |a: &usize, b: &usize| match (v.get(*a), v.get(*b)) {
        (Some(x), Some(y)) => is_less(x, y),
        _ => false,
    };
    let mut order: Vec<usize> = (0..v.len()).collect();
    for run in order.chunks_mut(SMALL) {
        insertion_sort_by(run, less);
    }
    let mut spare = vec![0usize; order.len()];
    let mut width = SMALL;
    while width < order.len() {
        for (pair, out) in order.chunks(2 * width).zip(spare.chunks_mut(2 * width)) {
            let (left, right) = pair.split_at(width.min(pair.len()));
            merge(left, right, out, less);
        }
        std::mem::swap(&mut order, &mut spare);
        width = width.saturating_mul(2);
    }
    let mut slots: Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(order.iter().filter_map(|&i| slots.get_mut(i).and_then(Option::take)));
}

/// Merges two sorted runs of indices into `out` (as long as both); on a
/// tie the left run's index goes first, which keeps the sort stable.
fn merge(left: &[usize], right: &[usize], out: &mut [usize], less: impl Fn(&usize, &usize) -> bool) {
    let (mut l, mut r) = (left.iter().peekable(), right.iter().peekable());
    for slot in out {
        let take_right = match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => less(b, a),
            (None, _) => true,
            (Some(_), None) => false,
        };
        let next = if take_right { r.next() } else { l.next() };
        *slot = next.copied().unwrap_or(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// `merge_sort_by` against std's stable sort: every length around the
    /// insertion bound and the merge widths, few distinct keys (many ties,
    /// so a wrong tie order shows in the tags) and many.
    #[wasm_bindgen_test(unsupported = test)]
    fn merge_sort_is_std_stable_sort() {
        let mut draws = crate::hash::TestDraws(5);
        for len in (0..=90).chain([159, 160, 161, 319, 320, 321, 1000, 4097]) {
            for distinct in [1u64, 3, 40, u64::MAX] {
                let v: Vec<(u64, usize)> = (0..len).map(|tag| (draws.next_u64() % distinct, tag)).collect();
                let mut ours = v.clone();
                merge_sort_by(&mut ours, |a, b| a.0 < b.0);
                let mut std_sorted = v;
                std_sorted.sort_by_key(|a| a.0); // stable, as sort_by
                assert_eq!(ours, std_sorted, "len {len}, {distinct} distinct keys");
            }
        }
    }

    /// Owned elements are moved, not copied or dropped: strings come out
    /// whole, each once.
    #[wasm_bindgen_test(unsupported = test)]
    fn merge_sort_moves_owned_elements() {
        let v: Vec<String> = (0..200).rev().map(|i| format!("k{i:03}")).collect();
        let mut ours = v.clone();
        merge_sort_by(&mut ours, |a, b| a < b);
        let mut std_sorted = v;
        std_sorted.sort();
        assert_eq!(ours, std_sorted);
    }
}
