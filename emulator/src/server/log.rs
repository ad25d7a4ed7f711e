//! A bounded record of what the mock received or sent: a long-running
//! emulator keeps the latest entries only, and a reader following the log
//! counts entries over its whole life.

use std::collections::VecDeque;

/// The latest `limit` entries, and how many came before them.
#[derive(Debug)]
pub(crate) struct Log<T> {
    items: VecDeque<T>,
    dropped: usize,
    limit: usize,
}

impl<T: Clone> Log<T> {
    pub(crate) fn new(limit: usize) -> Self {
        Self { items: VecDeque::new(), dropped: 0, limit: limit.max(1) }
    }

    pub(crate) fn push(&mut self, item: T) {
        if self.items.len() == self.limit {
            self.items.pop_front();
            self.dropped += 1;
        }
        self.items.push_back(item);
    }

    /// The entries kept, oldest first.
    pub(crate) fn all(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }

    /// The entries after the first `skip` ever recorded (those dropped count).
    pub(crate) fn after(&self, skip: usize) -> Vec<T> {
        self.items.iter().skip(skip.saturating_sub(self.dropped)).cloned().collect()
    }

    /// Entries recorded since the start, dropped ones included.
    pub(crate) fn total(&self) -> usize {
        self.dropped + self.items.len()
    }

    pub(crate) fn clear(&mut self) {
        self.dropped += self.items.len();
        self.items.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Log;

    #[test]
    fn keeps_the_latest_and_counts_the_rest() {
        let mut log = Log::new(3);
        for i in 0..5 {
            log.push(i);
        }
        assert_eq!(log.all(), [2, 3, 4]);
        assert_eq!(log.total(), 5);
        assert_eq!(log.after(3), [3, 4]);
        assert_eq!(log.after(0), [2, 3, 4]);
        assert_eq!(log.after(9), Vec::<i32>::new());
        log.clear();
        log.push(5);
        assert_eq!(log.after(5), [5]);
    }
}
