//! `tim endpoints` covers every row of the official catalog kept in the
//! repository (`specs/catalog.tsv`), with the same rate limits and group-type
//! tables; differences are listed and justified in
//! `specs/catalog-exceptions.tsv`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

struct Row {
    max_qps: String,
    group_types: String,
}

fn catalog() -> BTreeMap<String, Row> {
    let file = workspace().join("specs/catalog.tsv");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("path\t") && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 5, "catalog row needs path, title, rate_limit, group_types, source: {l}");
            let col = |i: usize| cols[i].trim().to_owned();
            assert!(!col(1).is_empty() && !col(4).is_empty(), "catalog row without title or source: {l}");
            (col(0), Row { max_qps: col(2), group_types: col(3) })
        })
        .collect()
}

fn exceptions() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(workspace().join("specs/catalog-exceptions.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("path\t") && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(cols.len() == 3 && !cols[2].trim().is_empty(), "exception without justification: {l}");
            (cols[0].to_owned(), cols[1].to_owned())
        })
        .collect()
}

fn listed() -> BTreeMap<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_tim")).args(["endpoints", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let rl = &e["rate_limit"];
            let limit = match rl["per_secs"].as_u64() {
                Some(1) => format!("{}", rl["calls"]),
                Some(86_400) => format!("{}/day", rl["calls"]),
                other => format!("{}/{other:?}s", rl["calls"]),
            };
            (e["path"].as_str().unwrap().to_owned(), limit)
        })
        .collect()
}

#[test]
fn every_catalog_row_is_listed_and_every_listing_is_in_the_catalog() {
    let (catalog, listed, exceptions) = (catalog(), listed(), exceptions());
    let is_exception = |p: &str, k: &str| exceptions.contains(&(p.to_owned(), k.to_owned()));
    let missing: Vec<_> =
        catalog.keys().filter(|p| !listed.contains_key(*p) && !is_exception(p, "missing")).collect();
    assert!(missing.is_empty(), "catalog rows without a spec: {missing:?}");
    let extra: Vec<_> =
        listed.keys().filter(|p| !catalog.contains_key(*p) && !is_exception(p, "extra")).collect();
    assert!(extra.is_empty(), "specs not in the catalog and not in catalog-exceptions.tsv: {extra:?}");
    for (path, kind) in &exceptions {
        let stale = match kind.as_str() {
            "extra" => catalog.contains_key(path) || !listed.contains_key(path),
            "missing" => listed.contains_key(path),
            _ => !listed.contains_key(path),
        };
        assert!(!stale, "exception `{path}` ({kind}) no longer applies; remove it");
    }
}

#[test]
fn rate_limits_match_the_catalog() {
    let (catalog, listed, exceptions) = (catalog(), listed(), exceptions());
    for (path, row) in &catalog {
        let Some(limit) = listed.get(path) else { continue };
        if exceptions.contains(&(path.clone(), "rate_limit".into())) {
            continue;
        }
        assert_eq!(limit, &row.max_qps, "{path}: spec rate limit vs catalog max_qps");
    }
}

#[test]
fn group_type_tables_match_the_catalog() {
    let exceptions = exceptions();
    for (path, row) in catalog() {
        if row.group_types.is_empty() || exceptions.contains(&(path.clone(), "group_types".into())) {
            continue;
        }
        let Some(entry) = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &path) else { continue };
        for pair in row.group_types.split(',') {
            let (group_type, yes) = pair.split_once(':').unwrap();
            let support = entry.meta.group_type(group_type);
            assert_eq!(
                support.map(|s| s.supported),
                Some(yes == "yes"),
                "{path}: group type {group_type} is `{yes}` in the catalog"
            );
        }
    }
}
