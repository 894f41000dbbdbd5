//! Offset/limit paging (heyreach.md §5).

use std::future::Future;

use serde::{Deserialize, Serialize};

/// The most items `GetAll` endpoints (lists, campaigns, LinkedIn accounts) return per call.
pub const MAX_PAGE_LIMIT: u32 = 100;
/// The most leads `list/GetLeadsFromList` returns per call.
pub const MAX_LEADS_PAGE_LIMIT: u32 = 1000;
/// The page size the vendor uses when a request omits `limit` (this crate always sends one).
pub const VENDOR_DEFAULT_LIMIT: u32 = 10;

/// One page of a paged read: `{"totalCount": n, "items": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// How many items match the request in total (not just on this page).
    #[serde(default)]
    pub total_count: i64,
    /// The items of this page.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            total_count: 0,
            items: Vec::new(),
        }
    }
}

/// Fetch every page from `offset` on (`fetch` is given each page's offset) until the
/// vendor's `totalCount` is reached or a page comes back empty.
pub(crate) async fn collect_pages<T, F, Fut>(
    offset: u32,
    mut fetch: F,
) -> vendor_http::Result<Vec<T>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = vendor_http::Result<Page<T>>>,
{
    let mut out = Vec::new();
    let mut offset = offset;
    loop {
        let page = fetch(offset).await?;
        let got = page.items.len();
        out.extend(page.items);
        let next = u64::from(offset) + got as u64;
        // Stop once totalCount is reached, or on an empty page whatever totalCount says (it
        // may change while we page). A short page is not taken as the end: should HeyReach
        // cap pages below the documented maximum, stopping there would drop items silently.
        if got == 0 || next >= page.total_count.max(0) as u64 {
            return Ok(out);
        }
        offset = u32::try_from(next).unwrap_or(u32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_until_total_or_short_page() {
        let data: Vec<u32> = (0..25).collect();
        let mut calls = Vec::new();
        let all = collect_pages(0, |off| {
            calls.push(off);
            let items: Vec<u32> = data.iter().copied().skip(off as usize).take(10).collect();
            async move {
                Ok(Page {
                    total_count: 25,
                    items,
                })
            }
        })
        .await
        .unwrap();
        assert_eq!(all, data);
        assert_eq!(calls, vec![0, 10, 20]);

        // Exactly a multiple of the page size: stops on totalCount without an empty call.
        let mut n = 0;
        let all = collect_pages(0, |off| {
            n += 1;
            let items: Vec<u32> = (off..(off + 5).min(10)).collect();
            async move {
                Ok(Page {
                    total_count: 10,
                    items,
                })
            }
        })
        .await
        .unwrap();
        assert_eq!(all.len(), 10);
        assert_eq!(n, 2);
    }

    #[tokio::test]
    async fn a_short_page_is_not_the_end_and_an_empty_page_is() {
        // The vendor caps pages at 7 although 10 were asked.
        let all = collect_pages(0, |off| {
            let items: Vec<u32> = (off..(off + 7).min(20)).collect();
            async move {
                Ok(Page {
                    total_count: 20,
                    items,
                })
            }
        })
        .await
        .unwrap();
        assert_eq!(all.len(), 20);
        // totalCount overstated: the empty page ends it.
        let mut n = 0;
        let all = collect_pages(0, |off| {
            n += 1;
            let items: Vec<u32> = (off..(off + 5).min(8)).collect();
            async move {
                Ok(Page {
                    total_count: 100,
                    items,
                })
            }
        })
        .await
        .unwrap();
        assert_eq!((all.len(), n), (8, 3));
    }
}
