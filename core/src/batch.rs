//! Sending a list of any length to a batch endpoint: split into parts the
//! endpoint takes, sent within the rate limit, per-item results merged.
//!
//! A batch endpoint's spec names the request list it takes at most `max_len`
//! of (`To_Account` of `batchsendmsg`, 500; `AccountList` of
//! `multiaccount_import`, 100) and where its reply says which items failed
//! (`ErrorList`, `FailAccounts`, `ResultItem`, ...). The generated
//! [`Batched`] impl reads both; [`Client::batch`] does the rest:
//!
//! ```no_run
//! # async fn run(client: tim_core::Client, req: impl tim_core::Batched<Item = String>) {
//! let report = client.batch(req).concurrency(4).send().await;
//! println!("{} sent, {} failed", report.succeeded.len(), report.failed.len());
//! for f in &report.failed {
//!     println!("{}: {:?} {}", f.item, f.code, f.info);
//! }
//! # }
//! ```
//!
//! No item is dropped silently: an item the reply reports failed carries its
//! code, and a part that fails as a whole (an API error, a timeout) marks
//! every item of it failed with that error.

use std::collections::HashMap;

use crate::client::Client;
use crate::endpoint::{ApiErrorKind, ApiRequest, BatchMeta};
use crate::error::Error;

/// A request of a batch endpoint whose list the client may split.
///
/// Implemented by generated code from the spec's `batch:` block.
pub trait Batched: ApiRequest + Clone + 'static {
    /// One item of the batched list.
    type Item: Clone + Send + Sync + 'static;
    /// The list field, its `max_len` and where results come back.
    const BATCH: &'static BatchMeta;
    /// The batched list.
    fn batch_items(&mut self) -> &mut Vec<Self::Item>;
    /// The text the reply names `item` by (the item itself for strings).
    fn item_key(item: &Self::Item) -> String;
    /// The per-item results of a reply, as the spec's `results` says.
    fn item_results(reply: &Self::Response) -> Vec<ItemResult>;
}

/// One item's entry in a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ItemResult {
    /// The item's key.
    pub key: String,
    /// Its result code; `None` when the reply lists failed items without one.
    pub code: Option<i64>,
    /// The reason given, if any.
    pub info: String,
}

impl ItemResult {
    /// An entry; used by generated code.
    #[doc(hidden)]
    pub fn new(key: String, code: Option<i64>, info: String) -> Self {
        Self { key, code, info }
    }
}

/// Why an item was not done: its code (if any) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// The item's code in the reply, or the code of the error that failed its part.
    pub code: Option<i64>,
    /// The reason.
    pub info: String,
}

impl Failure {
    fn new(code: Option<i64>, info: String) -> Self {
        Self { code, info }
    }

    /// What every item of a part that failed as a whole gets: the API
    /// error's code (none for a transport error or a timeout) and the error.
    pub fn of_part<E: ApiErrorKind>(error: &Error<E>) -> Self {
        let code = match error {
            Error::Api(api) => Some(api.code()),
            _ => None,
        };
        Self { code, info: error.to_string() }
    }
}

/// A result code as `i64` (saturating); used by generated code.
#[doc(hidden)]
pub fn code_of<T: TryInto<i64>>(code: T) -> i64 {
    code.try_into().unwrap_or(i64::MAX)
}

/// An item that was not done, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailedItem<I> {
    /// The item as given.
    pub item: I,
    /// The item's code in the reply, or the code of the error that failed
    /// its whole part; `None` when there is none (a transport error, a list
    /// of failed keys without codes).
    pub code: Option<i64>,
    /// The reason.
    pub info: String,
}

/// What happened to every item of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchReport<I> {
    /// Items done, in input order.
    pub succeeded: Vec<I>,
    /// Items not done: those refused by the local checks first, then the
    /// others in input order.
    pub failed: Vec<FailedItem<I>>,
    /// Calls made (parts sent).
    pub parts: usize,
    /// Parts that failed as a whole.
    pub parts_failed: usize,
}

impl<I> BatchReport<I> {
    /// Whether every item succeeded.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Splits a part's items by the reply's results: an item listed with a code
/// succeeded when the code is in `ok`; listed without a code, it failed; not
/// listed, it succeeded. Returns, per item in order, `None` for success or
/// the failure's code and reason.
pub fn outcomes(keys: &[String], results: Vec<ItemResult>, ok: &[i64]) -> Vec<Option<Failure>> {
    let mut by_key: HashMap<String, Vec<ItemResult>> = HashMap::new();
    for r in results {
        by_key.entry(r.key.clone()).or_default().push(r);
    }
    keys.iter()
        .map(|k| {
            // Each listed result accounts for one item of that key, in order.
            let r = by_key.get_mut(k).and_then(|v| (!v.is_empty()).then(|| v.remove(0)))?;
            match r.code {
                Some(code) if ok.contains(&code) => None,
                code => Some(Failure::new(code, r.info)),
            }
        })
        .collect()
}

/// A batch to send; made by [`Client::batch`].
#[must_use = "a batch does nothing until sent"]
#[derive(Debug)]
pub struct BatchCall<R> {
    client: Client,
    req: R,
    concurrency: usize,
    part_size: Option<usize>,
}

impl Client {
    /// Sends `req` with a list of any length in its batched field: split
    /// into parts the endpoint takes (and that its rate limits can ever
    /// admit), sent within the rate limit, results merged into one report.
    pub fn batch<R: Batched>(&self, req: R) -> BatchCall<R> {
        BatchCall { client: self.clone(), req, concurrency: 4, part_size: None }
    }

    /// Items per part for `R`: the list's `max_len`, smaller when a limit
    /// counting the list (recipients per minute) holds fewer.
    pub fn batch_part_size<R: Batched>(&self) -> usize {
        part_size(self, R::META, R::BATCH)
    }
}

pub(crate) fn part_size(client: &Client, meta: &'static crate::EndpointMeta, batch: &BatchMeta) -> usize {
    let mut size = batch.max.max(1);
    for applied in meta.applied_limits(client.raised_limit(meta.path)) {
        if applied.extra.and_then(|l| l.cost) == Some(batch.field) {
            size = size.min(applied.limit.calls.max(1));
        }
    }
    size as usize
}

impl<R: Batched> BatchCall<R> {
    /// Parts in flight at once (default 4); the rate limit paces them either way.
    pub fn concurrency(mut self, parts: usize) -> Self {
        self.concurrency = parts.max(1);
        self
    }

    /// Items per part, at most the endpoint's `max_len` (default: the largest that fits).
    pub fn part_size(mut self, items: usize) -> Self {
        self.part_size = Some(items.max(1));
        self
    }

    /// Sends every part and reports every item.
    pub async fn send(self) -> BatchReport<R::Item> {
        let BatchCall { client, mut req, concurrency, part_size } = self;
        let max = client.batch_part_size::<R>();
        let size = part_size.map_or(max, |s| s.min(max));
        let items = std::mem::take(req.batch_items());
        // Each item is checked on its own, so one bad item (a too long `Nick`)
        // fails alone instead of taking its part down; a bad rest of the body
        // fails them all, and nothing is sent.
        let mut report = BatchReport { succeeded: Vec::new(), failed: Vec::new(), parts: 0, parts_failed: 0 };
        let field = R::BATCH.field;
        let mut good = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let mut probe = req.clone();
            *probe.batch_items() = vec![item.clone()];
            match probe.validate() {
                Ok(()) => good.push(item),
                Err(e) => match e.path.strip_prefix(&format!("{field}[0]")) {
                    Some(rest) => {
                        let info = format!("invalid field `{field}[{i}]{rest}`: {}", e.reason);
                        report.failed.push(FailedItem { item, code: None, info });
                    }
                    None => report.failed.push(FailedItem { item, code: None, info: e.to_string() }),
                },
            }
        }
        let parts: Vec<Vec<R::Item>> = good.chunks(size).map(<[R::Item]>::to_vec).collect();
        let count = parts.len();
        let mut outcomes: Vec<Option<PartOutcome<R::Item>>> = (0..count).map(|_| None).collect();
        let mut running = tokio::task::JoinSet::new();
        // The items of each part in flight, to report them even if its task dies.
        let mut in_flight = HashMap::new();
        let mut parts = parts.into_iter().enumerate();
        loop {
            while running.len() < concurrency {
                let Some((i, items)) = parts.next() else { break };
                let (client, mut part) = (client.clone(), req.clone());
                let sent = items.clone();
                let handle = running.spawn(async move {
                    *part.batch_items() = sent;
                    client.call(&part).await
                });
                in_flight.insert(handle.id(), (i, items));
            }
            let Some(joined) = running.join_next_with_id().await else { break };
            let (id, result) = match joined {
                Ok((id, result)) => (id, Ok(result)),
                Err(e) => (e.id(), Err(e)),
            };
            let Some((i, items)) = in_flight.remove(&id) else { continue };
            outcomes[i] = Some(match result {
                Ok(result) => part_outcome::<R>(items, result),
                Err(e) => PartOutcome {
                    items: items
                        .into_iter()
                        .map(|item| (item, Some(Failure::new(None, format!("the part's task failed: {e}")))))
                        .collect(),
                    whole_part_failed: true,
                },
            });
        }
        report.parts = count;
        for outcome in outcomes.into_iter().flatten() {
            if outcome.whole_part_failed {
                report.parts_failed += 1;
            }
            for (item, failure) in outcome.items {
                match failure {
                    None => report.succeeded.push(item),
                    Some(Failure { code, info }) => report.failed.push(FailedItem { item, code, info }),
                }
            }
        }
        report
    }
}

struct PartOutcome<I> {
    items: Vec<(I, Option<Failure>)>,
    whole_part_failed: bool,
}

fn part_outcome<R: Batched>(
    items: Vec<R::Item>,
    result: Result<R::Response, Error<R::Error>>,
) -> PartOutcome<R::Item> {
    match result {
        Ok(reply) => {
            let keys: Vec<String> = items.iter().map(R::item_key).collect();
            let each = outcomes(&keys, R::item_results(&reply), R::BATCH.ok);
            PartOutcome { items: items.into_iter().zip(each).collect(), whole_part_failed: false }
        }
        Err(e) => {
            let failure = Failure::of_part(&e);
            PartOutcome {
                items: items.into_iter().map(|i| (i, Some(failure.clone()))).collect(),
                whole_part_failed: true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(key: &str, code: Option<i64>) -> ItemResult {
        ItemResult::new(key.into(), code, format!("{key}?"))
    }

    #[test]
    fn outcomes_follow_the_results() {
        let keys: Vec<String> = ["a", "b", "c", "d", "a"].iter().map(|s| s.to_string()).collect();
        // A failure list with codes (ErrorList): listed ones failed.
        let got = outcomes(&keys, vec![r("b", Some(70107)), r("a", Some(1))], &[0]);
        let f = |code, info: &str| Some(Failure::new(code, info.into()));
        assert_eq!(got, vec![f(Some(1), "a?"), f(Some(70107), "b?"), None, None, None]);
        // Every item listed with its code (ResultItem, add_group_member's Result 1/2 = done).
        let got = outcomes(
            &keys,
            vec![r("a", Some(1)), r("b", Some(2)), r("c", Some(0)), r("d", Some(1))],
            &[1, 2],
        );
        assert_eq!(got[..4], [None, None, f(Some(0), "c?"), None]);
        // Keys without codes (FailAccounts): failed.
        let got = outcomes(&keys, vec![r("d", None)], &[0]);
        assert_eq!(got[3], f(None, "d?"));
        assert_eq!(got.iter().filter(|o| o.is_some()).count(), 1);
    }
}
