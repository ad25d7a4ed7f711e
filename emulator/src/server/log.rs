//! A bounded record of what the mock received or sent: a long-running
//! emulator keeps the latest entries only, within a count and a byte
//! budget, and a reader following the log counts entries over its whole
//! life.

use std::collections::VecDeque;

/// The latest entries within `limit` entries and `max_bytes` bytes, and
/// how many came before them.
#[derive(Debug)]
pub(crate) struct Log<T> {
    items: VecDeque<(T, usize)>,
    dropped: usize,
    limit: usize,
    bytes: usize,
    max_bytes: usize,
}

impl<T: Clone> Log<T> {
    pub(crate) fn new(limit: usize, max_bytes: usize) -> Self {
        Self { items: VecDeque::new(), dropped: 0, limit: limit.max(1), bytes: 0, max_bytes }
    }

    /// Records `item`, which takes about `weight` bytes, dropping the
    /// oldest entries until both bounds hold. An entry heavier than the
    /// whole budget is counted but not kept.
    pub(crate) fn push(&mut self, item: T, weight: usize) {
        if weight > self.max_bytes {
            // Keep the count right for readers following the log.
            self.dropped += self.items.len() + 1;
            self.items.clear();
            self.bytes = 0;
            return;
        }
        while self.items.len() >= self.limit || self.bytes + weight > self.max_bytes {
            let Some((_, w)) = self.items.pop_front() else { break };
            self.bytes -= w;
            self.dropped += 1;
        }
        self.bytes += weight;
        self.items.push_back((item, weight));
    }

    /// The entries kept, oldest first.
    pub(crate) fn all(&self) -> Vec<T> {
        self.items.iter().map(|(t, _)| t.clone()).collect()
    }

    /// The entries after the first `skip` ever recorded (those dropped count).
    pub(crate) fn after(&self, skip: usize) -> Vec<T> {
        self.items.iter().skip(skip.saturating_sub(self.dropped)).map(|(t, _)| t.clone()).collect()
    }

    /// Entries recorded since the start, dropped ones included.
    pub(crate) fn total(&self) -> usize {
        self.dropped + self.items.len()
    }

    /// Bytes the kept entries take, by their weights.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn clear(&mut self) {
        self.dropped += self.items.len();
        self.items.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::Log;

    #[test]
    fn keeps_the_latest_and_counts_the_rest() {
        let mut log = Log::new(3, usize::MAX);
        for i in 0..5 {
            log.push(i, 1);
        }
        assert_eq!(log.all(), [2, 3, 4]);
        assert_eq!(log.total(), 5);
        assert_eq!(log.after(3), [3, 4]);
        assert_eq!(log.after(0), [2, 3, 4]);
        assert_eq!(log.after(9), Vec::<i32>::new());
        log.clear();
        log.push(5, 1);
        assert_eq!(log.after(5), [5]);
    }

    #[test]
    fn stays_within_its_byte_budget() {
        let mut log = Log::new(1000, 100);
        for i in 0..50 {
            log.push(i, 30);
            assert!(log.bytes() <= 100);
        }
        assert_eq!(log.all(), [47, 48, 49]);
        assert_eq!(log.total(), 50);
        // Too heavy to keep at all: counted, not kept.
        log.push(50, 101);
        assert!(log.all().is_empty());
        assert_eq!(log.total(), 51);
        assert_eq!(log.after(50), Vec::<i32>::new());
        log.push(51, 10);
        assert_eq!(log.after(51), [51]);
    }
}
