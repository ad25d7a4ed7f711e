//! The core's modules form no import cycle: the client and its builder sit
//! on one side, the settings that fill a builder on the other, and errors
//! name settings without depending on the reader.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name -> the modules its non-test code names as `crate::<module>`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let path = entry.path();
        let Some(name) = path.file_stem().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
        let file = if path.is_dir() { path.join("mod.rs") } else { path.clone() };
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let deps = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .flat_map(|l| l.match_indices("crate::").map(move |(i, _)| &l[i + 7..]))
            .map(|rest| rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect::<String>())
            .filter(|m| !m.is_empty() && *m != name && m != "__private")
            .collect();
        graph.insert(name, deps);
    }
    graph
}

#[test]
fn the_core_modules_form_no_import_cycle() {
    let graph = graph();
    assert!(graph.contains_key("client") && graph.contains_key("settings"), "{graph:?}");
    // Depth-first search for a path back to the start.
    for start in graph.keys() {
        let mut stack: Vec<Vec<&str>> = vec![vec![start.as_str()]];
        while let Some(path) = stack.pop() {
            let last = *path.last().unwrap();
            for next in graph.get(last).into_iter().flatten() {
                assert!(next != start, "import cycle: {} -> {next}", path.join(" -> "));
                if !path.contains(&next.as_str()) && path.len() < graph.len() {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
    }
}
