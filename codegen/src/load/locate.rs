//! Finds where a key or field sits in a YAML source.
//!
//! `serde_yaml` gives positions only for its own errors, so semantic checks
//! find their position again in the text: the n-th `key: value` occurrence,
//! counted in the order the checker visits nodes (which is document order).

use std::collections::HashMap;

/// Text search over one spec file, remembering how often each pair was visited.
pub(crate) struct Locator<'a> {
    src: &'a str,
    seen: HashMap<(String, String), usize>,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Self { src, seen: HashMap::new() }
    }

    /// Position of the next not-yet-visited `key: value`; use for nodes that are
    /// visited in document order (fields by `name`, errors by `code`).
    pub(crate) fn next(&mut self, key: &str, value: &str) -> (usize, usize) {
        let n = self.seen.entry((key.to_owned(), value.to_owned())).or_insert(0);
        let nth = *n;
        *n += 1;
        self.nth(key, Some(value), nth).unwrap_or((0, 0))
    }

    /// Position of the first `key:` (any value), e.g. a top-level key.
    pub(crate) fn key(&self, key: &str) -> (usize, usize) {
        self.nth(key, None, 0).unwrap_or((0, 0))
    }

    /// Position of the first `key: value` without counting a visit.
    pub(crate) fn first(&self, key: &str, value: &str) -> (usize, usize) {
        self.nth(key, Some(value), 0).unwrap_or((0, 0))
    }

    fn nth(&self, key: &str, value: Option<&str>, nth: usize) -> Option<(usize, usize)> {
        let mut found = 0;
        for (line_no, line) in self.src.lines().enumerate() {
            let mut from = 0;
            while let Some(off) = line[from..].find(key) {
                let start = from + off;
                from = start + key.len();
                if !boundary_before(line, start) || !matches_value(&line[from..], value) {
                    continue;
                }
                if found == nth {
                    return Some((line_no + 1, line[..start].chars().count() + 1));
                }
                found += 1;
            }
        }
        None
    }
}

fn boundary_before(line: &str, start: usize) -> bool {
    line[..start]
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || matches!(c, '{' | ',' | '-' | '"' | '\''))
}

/// `rest` starts right after the key: expects `: value` (value optionally quoted).
fn matches_value(rest: &str, value: Option<&str>) -> bool {
    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest).trim_start();
    let Some(rest) = rest.strip_prefix(':') else {
        return false;
    };
    let Some(value) = value else {
        return true;
    };
    let rest = rest.trim_start();
    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
    let Some(after) = rest.strip_prefix(value) else {
        return false;
    };
    after.chars().next().is_none_or(|c| c.is_whitespace() || matches!(c, ',' | '}' | '"' | '\'' | '#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_block_and_flow_entries_in_order() {
        let src = "request:\n  - name: A\n    type: string\n  - {name: A, type: u32}\n  - name: AB\n";
        let mut loc = Locator::new(src);
        assert_eq!(loc.next("name", "A"), (2, 5));
        assert_eq!(loc.next("name", "A"), (4, 6));
        assert_eq!(loc.next("name", "AB"), (5, 5));
        assert_eq!(loc.key("request"), (1, 1));
        assert_eq!(loc.first("type", "u32"), (4, 15));
    }
}
