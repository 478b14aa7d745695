//! The guard every paged list goes through (Gcore v3 and v2, Run:ai): a list ends, or it stops with an error
//! naming its endpoint. A page whose items all repeat earlier pages (a server that ignores the offset), or more
//! pages than the list's total implies, stops it; what was read is then a partial list, never the whole one.

use super::{ApiError, ErrorKind};
use crate::model::ProviderKind;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// Pages past those the list's total implies that are still read: a list may grow while it is read, by a
/// deployment or two, not by pages.
pub const EXTRA_PAGES: u64 = 2;

/// What a paged list has read so far: the ids of its items (hashed) and how many pages.
#[derive(Debug)]
pub struct PageGuard {
    provider: ProviderKind,
    endpoint: String,
    ids: HashSet<u64>,
    pages: u64,
    /// The most pages the total read with the first page allows.
    allowed: Option<u64>,
}

/// An id as the guard keeps it.
pub fn id_hash(id: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

impl PageGuard {
    /// A guard for the list at `endpoint` (a path, as the error names it).
    pub fn new(provider: ProviderKind, endpoint: &str) -> Self {
        PageGuard { provider, endpoint: endpoint.to_string(), ids: HashSet::new(), pages: 0, allowed: None }
    }

    /// The list's total as its first page (or a count) gives it, in pages of `step` items.
    pub fn total(&mut self, total: u64, step: u64) {
        if step > 0 {
            self.allowed = Some(total.div_ceil(step).saturating_add(EXTRA_PAGES));
        }
    }

    /// Pages read so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// One more page, with the ids of its items (hashed; None: an item without one). An error when the page
    /// is past what the total allows, or when it is not the first and every one of its items is an item of
    /// an earlier page.
    pub fn page(&mut self, ids: impl IntoIterator<Item = Option<u64>>) -> Result<(), ApiError> {
        self.pages += 1;
        if let Some(allowed) = self.allowed
            && self.pages > allowed
        {
            return Err(self.stop(format!(
                "it runs past its total: page {} of a list whose total fits in {} (stopped there)",
                self.pages,
                allowed - EXTRA_PAGES
            )));
        }
        let (mut n, mut again) = (0usize, 0usize);
        for id in ids {
            n += 1;
            match id {
                Some(h) if !self.ids.insert(h) => again += 1,
                _ => {}
            }
        }
        if self.pages > 1 && n > 0 && again == n {
            return Err(self.stop(format!(
                "page {} repeats items of earlier pages (the server does not move on; stopped there)",
                self.pages
            )));
        }
        Ok(())
    }

    /// The error that ends the list.
    pub fn stop(&self, why: String) -> ApiError {
        ApiError::new(
            self.provider,
            ErrorKind::Other,
            format!("the list at {} did not end: {why}; the rows shown are partial", self.endpoint),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(r: std::ops::Range<u32>) -> Vec<Option<u64>> {
        r.map(|i| Some(id_hash(&format!("d-{i}")))).collect()
    }

    #[test]
    fn a_page_of_earlier_items_stops_the_list_and_names_the_endpoint() {
        let mut g = PageGuard::new(ProviderKind::Runai, "/api/v1/workloads");
        g.page(ids(0..8)).unwrap();
        let e = g.page(ids(0..8)).unwrap_err().to_string();
        assert!(e.contains("the list at /api/v1/workloads did not end"), "{e}");
        assert!(e.contains("page 2 repeats items of earlier pages"), "{e}");
    }

    #[test]
    fn a_page_that_overlaps_in_part_is_a_page() {
        // The list moved while it was read: one item shows up on two pages (the dedup names it).
        let mut g = PageGuard::new(ProviderKind::Gcore, "/x");
        g.page(ids(0..5)).unwrap();
        g.page(ids(4..9)).unwrap();
        // Items without an id tell nothing.
        g.page(vec![None, None]).unwrap();
    }

    #[test]
    fn pages_past_the_total_stop_the_list() {
        let mut g = PageGuard::new(ProviderKind::Gcore, "/x");
        g.total(10, 5);
        for k in 0..(2 + EXTRA_PAGES as u32) {
            g.page(ids(k * 5..k * 5 + 5)).unwrap();
        }
        let e = g.page(ids(100..105)).unwrap_err().to_string();
        assert!(e.contains("runs past its total: page 5 of a list whose total fits in 2"), "{e}");
    }
}
