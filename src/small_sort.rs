//! A stable insertion sort for the few-element slices the request path
//! sorts (a decision's reasons, a Gemini key's query values).
//!
//! std's stable sort itself sorts by insertion up to 20 elements, so this
//! does the same work; it exists so the module links no instantiation of
//! std's sorts (~3 KB each, issue 8: module size). Callers bound their
//! slices: insertion is quadratic.

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
