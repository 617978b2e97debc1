//! Dropping what a queue still holds when it goes, without leaking the rest if one destructor
//! panics.

/// Calls `drop_one` on every item of `items`. If one call unwinds, the calls for the items
/// after it are still made while the panic unwinds (a second panic then aborts, as with a
/// slice's destructor).
pub(crate) fn drop_all<I: Iterator>(items: I, drop_one: impl FnMut(I::Item)) {
    /// Goes on with the rest when dropped while unwinding out of `drop_one` (at the normal end,
    /// nothing is left).
    struct Rest<I: Iterator, F: FnMut(I::Item)> {
        items: I,
        drop_one: F,
    }
    impl<I: Iterator, F: FnMut(I::Item)> Drop for Rest<I, F> {
        fn drop(&mut self) {
            for item in self.items.by_ref() {
                (self.drop_one)(item);
            }
        }
    }
    let mut rest = Rest { items, drop_one };
    for item in rest.items.by_ref() {
        (rest.drop_one)(item);
    }
}
