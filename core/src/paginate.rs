//! Following an endpoint's paging cursor: streams of pages and of items.
//!
//! Each list endpoint pages its own way (`Offset`/`Limit`, `Next`,
//! `StartIndex` with `StandardSequence`, `LastMsgKey` with `Complete`,
//! `ReqMsgSeq` backwards); its spec says how, and the generated
//! [`Paginated`] impl turns one page's reply into the next request. The
//! [`Paginator`] here only drives it:
//!
//! ```no_run
//! # async fn run(client: tim_core::Client, first: impl tim_core::Paginated<Item = String>) -> Result<(), Box<dyn std::error::Error>> {
//! let mut items = client.paginate(first).page_size(100).items();
//! while let Some(item) = items.next().await {
//!     let item = item?;
//!     println!("{item}");
//! }
//! # Ok(()) }
//! ```
//!
//! Both streams implement [`futures_core::Stream`], so `StreamExt` adaptors
//! work too. Listing stops at the spec's end condition (a `Complete` flag,
//! an empty cursor, the total reached), at an empty page, when a reply would
//! ask for the same page again, or at the item cap.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::client::Client;
use crate::endpoint::{ApiRequest, PaginationMeta};
use crate::error::Error;

/// A request of a list endpoint that knows how to ask for its next page.
///
/// Implemented by generated code from the spec's `pagination:` block.
pub trait Paginated: ApiRequest + Clone + PartialEq + 'static {
    /// One listed item (a member, a friend, a message).
    type Item: Send + 'static;
    /// How the endpoint pages, as the spec says.
    const PAGINATION: &'static PaginationMeta;
    /// Asks for at most `size` items per page; does nothing for endpoints
    /// whose page size the caller cannot choose.
    fn set_page_size(&mut self, size: u32);
    /// The request for the page after `page`, or `None` when `page` was the last.
    fn next_page(&self, page: &Self::Response) -> Option<Self>;
    /// The items of one page, in the order the server sent them.
    fn page_items(page: Self::Response) -> Vec<Self::Item>;
}

/// A cursor value copied from a reply to the next request.
#[doc(hidden)]
pub trait Cursor {
    /// Whether the value means "no more pages" (an empty string, zero).
    fn is_end(&self) -> bool;
}

impl Cursor for String {
    fn is_end(&self) -> bool {
        self.is_empty()
    }
}

/// An integer position: an offset, a sequence number, a cursor.
#[doc(hidden)]
pub trait Position: Copy {
    /// As `u64` (negative values as 0).
    fn to_u64(self) -> u64;
    /// From `u64`, saturating at the type's maximum.
    fn from_u64(v: u64) -> Self;
}

macro_rules! int_cursor {
    ($($t:ty),*) => {$(
        impl Cursor for $t {
            fn is_end(&self) -> bool {
                *self == 0
            }
        }
        impl Position for $t {
            fn to_u64(self) -> u64 {
                u64::try_from(self).unwrap_or(0)
            }
            fn from_u64(v: u64) -> Self {
                <$t>::try_from(v).unwrap_or(<$t>::MAX)
            }
        }
    )*};
}
int_cursor!(u8, u16, u32, u64, i32, i64);

/// `position` moved past `count` items.
#[doc(hidden)]
pub fn advance<P: Position>(position: P, count: usize) -> P {
    P::from_u64(position.to_u64().saturating_add(count as u64))
}

/// Whether `position` is at or past `total` items.
#[doc(hidden)]
pub fn reached<P: Position, T: Position>(position: P, total: T) -> bool {
    position.to_u64() >= total.to_u64()
}

/// The position just before `smallest`, or `None` when nothing is before it
/// (sequences start at 1).
#[doc(hidden)]
pub fn before<P: Position, T: Position>(smallest: T) -> Option<P> {
    let s = smallest.to_u64();
    (s > 1).then(|| P::from_u64(s - 1))
}

/// The position just after `largest`.
#[doc(hidden)]
pub fn after<P: Position, T: Position>(largest: T) -> P {
    P::from_u64(largest.to_u64().saturating_add(1))
}

impl Client {
    /// Lists every page (or item) of a list endpoint, starting with `first`.
    ///
    /// Each page is one [`call`](Client::call), with the client's retries and
    /// rate limit; an error ends the stream after it is yielded.
    pub fn paginate<R: Paginated>(&self, first: R) -> Paginator<R> {
        Paginator { client: self.clone(), first, page_size: None, max_items: None }
    }
}

/// The settings of one listing; made by [`Client::paginate`].
#[must_use = "a paginator does nothing until its pages or items are read"]
pub struct Paginator<R> {
    client: Client,
    first: R,
    page_size: Option<u32>,
    max_items: Option<usize>,
}

impl<R: Paginated + fmt::Debug> fmt::Debug for Paginator<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paginator")
            .field("first", &self.first)
            .field("page_size", &self.page_size)
            .field("max_items", &self.max_items)
            .finish_non_exhaustive()
    }
}

/// What one page's call yields.
type PageResult<R> = Result<<R as ApiRequest>::Response, Error<<R as ApiRequest>::Error>>;
/// What one item of the listing is: the item, or the error that ended it.
type ItemResult<R> = Result<<R as Paginated>::Item, Error<<R as ApiRequest>::Error>>;

type PageFuture<R> = Pin<
    Box<dyn Future<Output = Result<<R as ApiRequest>::Response, Error<<R as ApiRequest>::Error>>> + Send>,
>;

impl<R: Paginated> Paginator<R> {
    /// Items per page, for endpoints whose page size the caller sets (the
    /// spec's `page_size` field); otherwise the server's page size applies.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Stops after `n` items (the last page is cut short; no further page is asked for).
    pub fn max_items(mut self, n: usize) -> Self {
        self.max_items = Some(n);
        self
    }

    /// The pages, each the endpoint's reply.
    pub fn pages(self) -> Pages<R> {
        let mut first = self.first;
        if let Some(size) = self.page_size {
            first.set_page_size(size);
        }
        Pages { client: self.client, next: Some(first), pending: None, pages: 0 }
    }

    /// The items of every page, in order.
    pub fn items(self) -> Items<R> {
        let left = self.max_items;
        Items { pages: self.pages(), buffer: VecDeque::new(), left }
    }

    /// Reads every item into a vector (or the first error).
    pub async fn collect_items(self) -> Result<Vec<R::Item>, Error<R::Error>> {
        let mut items = self.items();
        let mut out = Vec::new();
        while let Some(item) = items.next().await {
            out.push(item?);
        }
        Ok(out)
    }
}

/// The pages of a listing: a [`Stream`](futures_core::Stream) of replies.
#[must_use = "streams do nothing unless polled"]
pub struct Pages<R: Paginated> {
    client: Client,
    /// The request for the next page; `None` once the listing has ended.
    next: Option<R>,
    pending: Option<(R, PageFuture<R>)>,
    pages: u64,
}

impl<R: Paginated> fmt::Debug for Pages<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages").field("pages", &self.pages).field("done", &self.is_done()).finish()
    }
}

impl<R: Paginated> Pages<R> {
    /// The next page, or `None` after the last one (or after an error).
    pub async fn next(&mut self) -> Option<Result<R::Response, Error<R::Error>>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_page(cx)).await
    }

    /// How many pages have been received.
    pub fn pages_received(&self) -> u64 {
        self.pages
    }

    fn is_done(&self) -> bool {
        self.next.is_none() && self.pending.is_none()
    }

    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<PageResult<R>>> {
        if self.pending.is_none() {
            let Some(req) = self.next.take() else {
                return Poll::Ready(None);
            };
            let client = self.client.clone();
            let sent = req.clone();
            let fut: PageFuture<R> = Box::pin(async move { client.call(&sent).await });
            self.pending = Some((req, fut));
        }
        let Some((_, fut)) = self.pending.as_mut() else {
            return Poll::Ready(None);
        };
        let result = std::task::ready!(fut.as_mut().poll(cx));
        let Some((req, _)) = self.pending.take() else {
            return Poll::Ready(None);
        };
        Poll::Ready(Some(match result {
            Ok(page) => {
                self.pages += 1;
                // A reply that asks for the same page again would loop forever.
                self.next = req.next_page(&page).filter(|next| *next != req);
                Ok(page)
            }
            // An error ends the listing: the caller retries from its own state.
            Err(e) => Err(e),
        }))
    }
}

impl<R: Paginated> futures_core::Stream for Pages<R> {
    type Item = Result<R::Response, Error<R::Error>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_page(cx)
    }
}

impl<R: Paginated> Unpin for Pages<R> {}

/// The items of a listing: a [`Stream`](futures_core::Stream) of items across pages.
#[must_use = "streams do nothing unless polled"]
pub struct Items<R: Paginated> {
    pages: Pages<R>,
    buffer: VecDeque<R::Item>,
    left: Option<usize>,
}

impl<R: Paginated> fmt::Debug for Items<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items").field("pages", &self.pages).field("buffered", &self.buffer.len()).finish()
    }
}

impl<R: Paginated> Items<R> {
    /// The next item, or `None` after the last one (or after an error).
    pub async fn next(&mut self) -> Option<Result<R::Item, Error<R::Error>>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_item(cx)).await
    }

    /// How many pages have been received.
    pub fn pages_received(&self) -> u64 {
        self.pages.pages
    }

    pub(crate) fn poll_next_item(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ItemResult<R>>> {
        self.get_mut().poll_item(cx)
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<ItemResult<R>>> {
        loop {
            if self.left == Some(0) {
                return Poll::Ready(None);
            }
            if let Some(item) = self.buffer.pop_front() {
                if let Some(left) = &mut self.left {
                    *left -= 1;
                }
                return Poll::Ready(Some(Ok(item)));
            }
            match std::task::ready!(self.pages.poll_page(cx)) {
                None => return Poll::Ready(None),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                Some(Ok(page)) => self.buffer.extend(R::page_items(page)),
            }
        }
    }
}

impl<R: Paginated> futures_core::Stream for Items<R> {
    type Item = Result<R::Item, Error<R::Error>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_item(cx)
    }
}

impl<R: Paginated> Unpin for Items<R> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(advance(5u32, 3), 8);
        assert_eq!(advance(u32::MAX - 1, 3), u32::MAX);
        assert!(reached(10u32, 10u64));
        assert!(!reached(9u64, 10u32));
        assert_eq!(before::<u64, u64>(10), Some(9));
        assert_eq!(before::<u64, u32>(1), None);
        assert_eq!(before::<u32, u64>(u64::MAX), Some(u32::MAX));
        assert!(String::new().is_end() && !"x".to_owned().is_end());
        assert!(0u64.is_end() && !7i32.is_end());
        assert_eq!((-3i64).to_u64(), 0);
    }
}
