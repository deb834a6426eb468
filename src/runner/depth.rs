//! Depth: how much of a large listing a walk at a small limit reads. A walk whose cursors are
//! item ids need not start at the head to check a page boundary (any id is a cursor), so at
//! the default depth (`sampled`) a walk at a smaller limit than the contract's maximum reads
//! windows of [`WINDOW_PAGES`] pages at several places along the order the walk at the
//! maximum learned: the head, [`MIDDLE_WINDOWS`] places spread through the listing, and the
//! last pages (so `has_more: false` and the end probe are checked at every limit too). Each
//! window is compared with the same stretch of the larger walk. A listing of fewer than
//! [`SAMPLE_FROM_ITEMS`] items is walked whole, as is every walk at `--depth full`.
//!
//! The bound: a sampled walk sends at most `(2 + MIDDLE_WINDOWS) · WINDOW_PAGES + 1` = 16
//! requests whatever the listing's size; the walk at the maximum limit that learns the
//! order is whole (within the page budget); order, filter and backward walks, which compare
//! whole walks, stop after [`SAMPLE_FROM_ITEMS`] items and say so.

/// How much of a large listing the walks read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Depth {
    /// Walks at smaller limits read windows along the order the walk at the maximum limit
    /// learned (head, spread, end); listings of fewer than 300 items are walked whole.
    #[default]
    Sampled,
    /// Every walk reads the whole listing at every limit.
    Full,
}

impl Depth {
    pub fn name(self) -> &'static str {
        match self {
            Depth::Sampled => "sampled",
            Depth::Full => "full",
        }
    }
}

impl std::str::FromStr for Depth {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        crate::choice::parse(s, "depth")
    }
}

/// Listings with fewer items than this are walked whole at every depth (the drift
/// catalogue's listings, 257 items, among them).
pub const SAMPLE_FROM_ITEMS: usize = 300;
/// Pages a window reads.
pub const WINDOW_PAGES: u32 = 3;
/// Windows between the head and the end.
pub const MIDDLE_WINDOWS: u32 = 3;
/// The most requests a sampled walk sends: its windows' pages and the end probe.
pub const SAMPLED_WALK_REQUESTS: u32 = (2 + MIDDLE_WINDOWS) * WINDOW_PAGES + 1;

/// A window of a sampled walk: the page of the whole walk it starts at (0-based: the window
/// asks with the cursor at position `start · page_size - 1`, none for the head) and how many
/// pages it reads (`None`: to the end of the listing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub pages: Option<u32>,
}

/// The windows a walk at `page_size` reads of a listing of `items` (as the walk at the
/// maximum limit met it), or `None` when it is walked whole: a short listing, or one whose
/// pages at this size are hardly more than the windows would read.
pub fn plan(items: usize, page_size: u64) -> Option<Vec<Window>> {
    let page_size = page_size.max(1);
    let pages = (items as u64).div_ceil(page_size);
    let w = u64::from(WINDOW_PAGES);
    if items < SAMPLE_FROM_ITEMS || pages <= (2 + u64::from(MIDDLE_WINDOWS)) * w {
        return None;
    }
    let tail = pages - w;
    let mut windows = vec![Window {
        start: 0,
        pages: Some(WINDOW_PAGES),
    }];
    let parts = u64::from(MIDDLE_WINDOWS) + 1;
    for i in 1..parts {
        let start = (pages * i / parts).saturating_sub(w / 2);
        let after = windows.last().map_or(0, |l| l.start + w);
        if start >= after && start + w <= tail {
            windows.push(Window {
                start,
                pages: Some(WINDOW_PAGES),
            });
        }
    }
    windows.push(Window {
        start: tail,
        pages: None,
    });
    Some(windows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depths_parse() {
        assert_eq!(" Full".parse::<Depth>(), Ok(Depth::Full));
        assert_eq!("sampled".parse::<Depth>(), Ok(Depth::Sampled));
        assert_eq!(
            "deep".parse::<Depth>(),
            Err("unknown depth `deep` (expected `sampled` or `full`)".to_owned())
        );
    }

    #[test]
    fn short_listings_are_walked_whole() {
        // The drift catalogue's listings, at every limit the suites walk.
        for size in [1, 7, 20, 100] {
            assert_eq!(plan(257, size), None);
            assert_eq!(plan(SAMPLE_FROM_ITEMS - 1, size), None);
        }
        // Long enough, but at this page size hardly more pages than the windows.
        assert_eq!(plan(10_000, 1000), None);
        assert_eq!(plan(300, 20), None);
    }

    #[test]
    fn windows_cover_the_head_the_spread_and_the_end_within_the_bound() {
        let windows = plan(10_000, 1).unwrap();
        let starts: Vec<u64> = windows.iter().map(|w| w.start).collect();
        assert_eq!(starts, [0, 2499, 4999, 7499, 9997]);
        assert_eq!(windows.last().unwrap().pages, None);
        let pages: u32 = windows
            .iter()
            .map(|w| w.pages.unwrap_or(WINDOW_PAGES))
            .sum();
        assert!(pages < SAMPLED_WALK_REQUESTS, "{pages}");
        // 10,000 at 7: 1,429 pages, the last of them partial.
        let windows = plan(10_000, 7).unwrap();
        assert_eq!(windows.last().unwrap().start, 1426);
        // Windows never overlap, however few pages there are.
        for items in [300, 301, 350, 1000, 5000] {
            for size in [1, 7, 20] {
                if let Some(w) = plan(items, size) {
                    for pair in w.windows(2) {
                        assert!(pair[0].start + u64::from(WINDOW_PAGES) <= pair[1].start);
                    }
                }
            }
        }
    }
}
